//! The single-key data path allocates nothing per request (STYLE habit 3), proven with a
//! counting global allocator.
//!
//! The event loops ([`Core::run`]) run in threads of this test process, in front of real
//! redis-servers; each loop thread marks itself in a const-initialized thread-local flag, so
//! only allocations made on an event loop's thread are counted (the client threads allocate
//! freely) and the counter itself never allocates. After a warm-up over the same client
//! connections, which takes every pool (mbufs, messages, queues) to its high-water mark, the
//! counter is armed for tens of thousands more GET and SET requests, pipelined 16 deep and
//! one at a time, and must stay at zero.
//!
//! `DYNOMITE_ALLOC_TRACE=N` prints the backtraces of the first N counted allocations:
//!
//! ```text
//! DYNOMITE_ALLOC_TRACE=3 cargo nextest run -p dynomited --test alloc --no-capture
//! ```

#[path = "../../tests/e2e/util.rs"]
#[allow(dead_code)]
mod util;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::os::unix::thread::JoinHandleExt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use dynomite::core::{Core, Options};
use util::{encode_str, free_port, http_get, wait_for, Redis, Resp, TempDir};

/// Counts the allocations made on the event loop threads while armed.
struct Counting;

#[global_allocator]
static ALLOC: Counting = Counting;

/// Counting is on (between warm-up and the end of the measured requests).
static ARMED: AtomicBool = AtomicBool::new(false);
/// Allocations and reallocations counted while armed.
static COUNT: AtomicU64 = AtomicU64::new(0);
/// Bytes asked for by them.
static BYTES: AtomicU64 = AtomicU64::new(0);
/// How many counted allocations print their backtrace (`DYNOMITE_ALLOC_TRACE`).
static TRACE: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread runs an event loop. Const-initialized: reading it never allocates.
    static EVENT_LOOP: Cell<bool> = const { Cell::new(false) };
}

fn note(size: usize) {
    if !ARMED.load(Ordering::Relaxed) || !EVENT_LOOP.try_with(Cell::get).unwrap_or(false) {
        return;
    }
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    BYTES.fetch_add(size as u64, Ordering::Relaxed);
    if (n as usize) < TRACE.load(Ordering::Relaxed) {
        // The backtrace and its printing allocate: not counted.
        EVENT_LOOP.with(|f| f.set(false));
        let bt = std::backtrace::Backtrace::force_capture();
        eprintln!("counted allocation {n} ({size} bytes) on an event loop thread:\n{bt}");
        EVENT_LOOP.with(|f| f.set(true));
    }
}

// SAFETY: every call is passed on unchanged to the system allocator; `note` only touches
// atomics and a const thread-local (and allocates only with the flag cleared, so it never
// recurses into itself).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: the caller's contract for `realloc` is passed on unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc` is passed on unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// One test at a time: the counter is global.
static SERIAL: Mutex<()> = Mutex::new(());

/// An event loop in a thread of this process, stopped by SIGTERM to that thread on drop.
struct Loop {
    thread: Option<JoinHandle<()>>,
    port: u16,
    stats_port: u16,
    _dir: TempDir,
}

impl Loop {
    /// Load `text` from a file (as dynomited does) and start its loop in a new thread.
    fn start(text: &str, port: u16, stats_port: u16) -> Loop {
        let dir = TempDir::new("alloc");
        let path = dir.path().join("dynomite.yml");
        std::fs::write(&path, text).unwrap();
        let cfg = dynomite::conf::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let opts = Options {
            mbuf_size: dynomite::cli::MBUF_DEFAULT,
            max_msgs: dynomite::cli::MSGS_DEFAULT,
            admin_op: 0,
        };
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            EVENT_LOOP.with(|f| f.set(true));
            let mut core = match Core::new(cfg, opts).and_then(|mut c| c.start().map(|()| c)) {
                Ok(c) => c,
                Err(e) => return tx.send(Err(e.to_string())).unwrap(),
            };
            tx.send(Ok(())).unwrap();
            core.run().expect("the event loop");
        });
        rx.recv().unwrap().expect("dynomited starts");
        Loop {
            thread: Some(thread),
            port,
            stats_port,
            _dir: dir,
        }
    }

    /// A number from the node's `/info`: `key` at the top or in the pool object.
    fn info(&self, key: &str) -> Option<u64> {
        let v: serde_json::Value =
            serde_json::from_str(&http_get(self.stats_port, "/info").1).ok()?;
        v.get(key).or_else(|| v["dyn_o_mite"].get(key))?.as_u64()
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            // SAFETY: the thread is alive (not joined yet); SIGTERM is blocked there and read
            // by its signalfd, which starts the loop's shutdown.
            unsafe { libc::pthread_kill(t.as_pthread_t(), libc::SIGTERM) };
            let _ = t.join();
        }
    }
}

const VALUE: &str = "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz";
const KEYS: usize = 64;
const DEPTH: usize = 16;

/// Requests and their exact replies: `SET key:i VALUE` and `GET key:i`.
struct Traffic {
    set: Vec<Vec<u8>>,
    get: Vec<Vec<u8>>,
    value_reply: Vec<u8>,
}

impl Traffic {
    fn new() -> Traffic {
        let key = |i: usize| format!("alloc:key:{i}");
        Traffic {
            set: (0..KEYS)
                .map(|i| encode_str(&["SET", &key(i), VALUE]))
                .collect(),
            get: (0..KEYS).map(|i| encode_str(&["GET", &key(i)])).collect(),
            value_reply: format!("${}\r\n{VALUE}\r\n", VALUE.len()).into_bytes(),
        }
    }

    /// Request `n` of a run: SET and GET in turn, over every key.
    fn request(&self, n: usize) -> (&[u8], &[u8]) {
        let k = (n / 2) % KEYS;
        match n % 2 {
            0 => (&self.set[k], b"+OK\r\n"),
            _ => (&self.get[k], &self.value_reply),
        }
    }

    /// `rounds` rounds over every connection: a pipeline of 16, then 16 one at a time, then
    /// `sync`. Returns the number of requests sent.
    fn run(&self, conns: &mut [Resp], rounds: usize, sync: &mut dyn FnMut(&mut [Resp])) -> usize {
        let mut n = 0;
        let mut batch = Vec::new();
        for _ in 0..rounds {
            for c in conns.iter_mut() {
                batch.clear();
                for i in 0..DEPTH {
                    batch.extend_from_slice(self.request(n + i).0);
                }
                c.send(&batch);
                for i in 0..DEPTH {
                    assert_eq!(c.read_reply(), self.request(n + i).1);
                }
                n += DEPTH;
                for _ in 0..DEPTH {
                    let (req, reply) = self.request(n);
                    c.send(req);
                    assert_eq!(c.read_reply(), reply);
                    n += 1;
                }
            }
            sync(conns);
        }
        n
    }
}

/// The pool sizes of every node: (messages, mbufs) ever allocated.
fn pools(nodes: &[Loop]) -> Vec<(u64, u64)> {
    let n = |l: &Loop, k: &str| l.info(k).unwrap_or_else(|| panic!("{k} in /info"));
    nodes
        .iter()
        .map(|l| (n(l, "alloc_msgs"), n(l, "alloc_mbufs")))
        .collect()
}

/// Warm up for `warm` rounds over `conns` (connected to the first of `nodes`), then count the
/// allocations of `rounds` more rounds on the same connections; asserts zero.
fn assert_no_allocation(
    nodes: &[Loop],
    conns: &mut [Resp],
    warm: usize,
    rounds: usize,
    sync: &mut dyn FnMut(&mut [Resp]),
) {
    let traffic = Traffic::new();
    traffic.run(conns, warm, sync);
    let n: usize = std::env::var("DYNOMITE_ALLOC_TRACE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    TRACE.store(n, Ordering::Relaxed);
    COUNT.store(0, Ordering::Relaxed);
    BYTES.store(0, Ordering::Relaxed);
    let before = pools(nodes);
    let started = Instant::now();
    ARMED.store(true, Ordering::SeqCst);
    let requests = traffic.run(conns, rounds, sync);
    ARMED.store(false, Ordering::SeqCst);
    let elapsed = started.elapsed();
    let (count, bytes) = (COUNT.load(Ordering::Relaxed), BYTES.load(Ordering::Relaxed));
    let after = pools(nodes);
    let what = format!(
        "{requests} single-key requests over {} connections after warm-up, in {elapsed:?}: \
         {count} allocations ({bytes} bytes) on the event loops; (messages, mbufs) allocated \
         per node {before:?} before, {after:?} after",
        conns.len()
    );
    eprintln!("{what}");
    assert_eq!(count, 0, "{what}; DYNOMITE_ALLOC_TRACE=3 prints where");

    // The counter is not blind: an `/info` (its JSON is built in a String) is counted.
    TRACE.store(0, Ordering::Relaxed);
    ARMED.store(true, Ordering::SeqCst);
    let info = nodes[0].info("uptime");
    ARMED.store(false, Ordering::SeqCst);
    assert!(info.is_some(), "/info answers");
    assert!(
        COUNT.load(Ordering::Relaxed) > 0,
        "an /info call allocates on the event loop, but the counter saw nothing"
    );
}

fn connect(port: u16, n: usize) -> Vec<Resp> {
    (0..n).map(|_| Resp::connect(port)).collect()
}

#[test]
fn single_node_data_path_does_not_allocate() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let redis = Redis::start();
    let (port, stats) = (free_port(), free_port());
    let text = format!(
        "dyn_o_mite:\n  listen: 127.0.0.1:{port}\n  dyn_listen: 127.0.0.1:{}\n  stats_listen: 127.0.0.1:{stats}\n  servers:\n  - {}:1\n  tokens: '1383429731'\n  data_store: 0\n  timeout: 3000\n",
        free_port(),
        redis.addr()
    );
    let node = Loop::start(&text, port, stats);
    wait_for("the datastore connection", Duration::from_secs(10), || {
        (node.info("datastore_connected")? > 0).then_some(())
    });
    assert_no_allocation(
        std::slice::from_ref(&node),
        &mut connect(node.port, 3),
        40,
        320,
        &mut |_| {},
    );
    drop(node);
}

/// Three racks of one node each, three loops in this process, SETs through rack1 replicated
/// to the other two.
///
/// Ignored: it does not yet pass reliably (0 to ~30 allocations per 15360 requests on a
/// busy 2-core host, even after a warm-up as long as the measured run). What is counted is
/// never a per-request allocation but a new high-water mark reached late, because the queue
/// depths follow the scheduling of six busy threads and processes: a new 16 KiB mbuf
/// (`MbufPool::get` from `ensure_rbuf` and `shared_tail`), a queue's `VecDeque` growing
/// (`in_q.push_back` in `forward_local`), and the first push into a pooled message's
/// `info.keys` / `req_segs` / `rsp_segs` the first time that message object serves in that
/// role (messages are recycled LIFO, so some serve as copies for a long time before they
/// serve as a peer's request). Run it with `--run-ignored all`.
#[test]
#[ignore = "high-water marks still rise after warm-up on a busy host; see the doc comment"]
fn replicated_sets_in_three_racks_do_not_allocate() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let racks = ["rack1", "rack2", "rack3"];
    let ports: Vec<(u16, u16, u16)> = racks
        .iter()
        .map(|_| (free_port(), free_port(), free_port()))
        .collect();
    let redis: Vec<Redis> = racks.iter().map(|_| Redis::start()).collect();
    let nodes: Vec<Loop> = racks
        .iter()
        .enumerate()
        .map(|(i, rack)| {
            let (port, dyn_port, stats) = ports[i];
            let seeds: String = (0..racks.len())
                .filter(|&j| j != i)
                .map(|j| {
                    format!(
                        "  - 127.0.0.1:{}:{}:dc1:1383429731\n",
                        ports[j].1, racks[j]
                    )
                })
                .collect();
            let text = format!(
                "dyn_o_mite:\n  datacenter: dc1\n  rack: {rack}\n  listen: 127.0.0.1:{port}\n  dyn_listen: 127.0.0.1:{dyn_port}\n  stats_listen: 127.0.0.1:{stats}\n  tokens: '1383429731'\n  data_store: 0\n  timeout: 3000\n  servers:\n  - {}:1\n  dyn_seeds:\n{seeds}",
                redis[i].addr()
            );
            Loop::start(&text, port, stats)
        })
        .collect();
    for n in &nodes {
        wait_for(
            "datastore and peer connections",
            Duration::from_secs(20),
            || {
                let up = n.info("datastore_connected")? > 0 && n.info("peer_connections")? == 2;
                up.then_some(())
            },
        );
    }
    // Every SET through rack1 is written to all three racks (DC_ONE: answered once rack1's
    // datastore has it, copies sent to the other two, their replies read and dropped). The
    // copies to a slow peer may pile up to PEER_MAX_QUEUE (20000) per peer connection, and
    // the pools grow with them, so the backlog is bounded by the test: after each round the
    // round's marker, written through rack1, must have reached the other racks' datastores
    // (copies travel in order on one peer connection), and one warm-up with the peers'
    // datastores paused reaches the high-water mark of such a backlog.
    let mut peers: Vec<Resp> = redis[1..].iter().map(|r| Resp::connect(r.port)).collect();
    let mut round = 0u64;
    let mut sync = |conns: &mut [Resp]| {
        round += 1;
        let id = round.to_string();
        assert_eq!(conns[0].cmd(&["SET", "alloc:round", &id]), b"+OK\r\n");
        let want = format!("${}\r\n{id}\r\n", id.len()).into_bytes();
        for p in peers.iter_mut() {
            wait_for(
                "the round's copies in every rack",
                Duration::from_secs(10),
                || (p.cmd(&["GET", "alloc:round"]) == want).then_some(()),
            );
        }
    };
    let mut conns = connect(nodes[0].port, 3);
    let traffic = Traffic::new();
    for r in &redis[1..] {
        let mut c = Resp::connect(r.port);
        assert_eq!(c.cmd(&["CLIENT", "PAUSE", "300", "WRITE"]), b"+OK\r\n");
    }
    traffic.run(&mut conns, 2, &mut |_| {});
    sync(&mut conns);
    assert_no_allocation(&nodes, &mut conns, 160, 160, &mut sync);
    assert_eq!(
        peers[1].cmd(&["GET", "alloc:key:0"]),
        traffic.value_reply,
        "rack3's redis has rack1's writes"
    );
    drop(nodes);
}
