//! Redis through dynomited: raw-wire tables, pipelining, split reads, large values, a killed
//! and a frozen datastore, AUTH, RESP3, and a differential test against plain redis-server.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::util::*;

#[test]
fn raw_wire_table() {
    let (_r, n) = redis_node();
    let mut c = n.client();
    let table: &[(&[u8], &[u8])] = &[
        (b"*1\r\n$4\r\nPING\r\n", b"+PONG\r\n"),
        (b"PING\r\n", b"+PONG\r\n"),
        (b"*2\r\n$4\r\nping\r\n$5\r\nhello\r\n", b"$5\r\nhello\r\n"),
        (b"*2\r\n$4\r\nECHO\r\n$3\r\nabc\r\n", b"$3\r\nabc\r\n"),
        (b"*3\r\n$3\r\nSET\r\n$3\r\nfoo\r\n$3\r\nbar\r\n", b"+OK\r\n"),
        (b"*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n", b"$3\r\nbar\r\n"),
        (b"*2\r\n$3\r\nGET\r\n$4\r\nnone\r\n", b"$-1\r\n"),
        (b"GET foo\r\n", b"$3\r\nbar\r\n"),
        (b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n", b"+OK\r\n"),
        (b"*2\r\n$4\r\nINCR\r\n$3\r\nctr\r\n", b":1\r\n"),
        (
            b"*2\r\n$4\r\nINCR\r\n$3\r\nfoo\r\n",
            b"-ERR value is not an integer or out of range\r\n",
        ),
        (b"*3\r\n$5\r\nLPUSH\r\n$1\r\nl\r\n$1\r\na\r\n", b":1\r\n"),
        (
            b"*2\r\n$3\r\nGET\r\n$1\r\nl\r\n",
            b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
        ),
        (
            b"*1\r\n$3\r\nGET\r\n",
            b"-ERR wrong number of arguments for 'get' command\r\n",
        ),
        (
            b"*1\r\n$5\r\nMULTI\r\n",
            b"-ERR unsupported command 'MULTI' (cannot run through a sharding proxy)\r\n",
        ),
        (b"*2\r\n$4\r\nPING\r\n$2\r\nok\r\n", b"$2\r\nok\r\n"),
    ];
    for (req, want) in table {
        c.send(req);
        let got = c.read_reply();
        assert_eq!(s(&got), s(want), "request {:?}", s(req));
    }
    // Unknown command: Redis's own text, and the connection stays usable.
    let got = c.cmd(&["NOSUCHCMD", "x"]);
    assert!(
        s(&got).starts_with("-ERR unknown command 'NOSUCHCMD'"),
        "{}",
        s(&got)
    );
    // Malformed framing: an error, then the connection still works.
    c.send(b"*x\r\n");
    let got = c.read_reply();
    assert!(s(&got).starts_with("-ERR Protocol error"), "{}", s(&got));
    assert_eq!(c.cmd(&["GET", "foo"]), b"$3\r\nbar\r\n");
    // SELECT of another database is refused with an error.
    assert!(c.cmd(&["SELECT", "1"]).starts_with(b"-ERR"));
    // QUIT answers +OK and closes.
    assert_eq!(c.cmd(&["QUIT"]), b"+OK\r\n");
    assert!(c.is_closed());
}

#[test]
fn ten_thousand_pipelined_in_one_write() {
    let (_r, n) = redis_node();
    let mut c = n.client();
    let mut batch = Vec::new();
    for i in 0..10_000 {
        if i % 2 == 0 {
            batch.extend_from_slice(&encode_str(&["SET", &format!("k{i}"), &format!("v{i}")]));
        } else {
            batch.extend_from_slice(&encode_str(&["GET", &format!("k{}", i - 1)]));
        }
    }
    // One write from a writer thread (the proxy answers while we are still sending).
    let mut w = c.stream.try_clone().unwrap();
    let t = std::thread::spawn(move || w.write_all(&batch).unwrap());
    for i in 0..10_000 {
        let got = c.read_reply();
        if i % 2 == 0 {
            assert_eq!(got, b"+OK\r\n", "reply {i}");
        } else {
            let v = format!("v{}", i - 1);
            assert_eq!(s(&got), format!("${}\r\n{v}\r\n", v.len()), "reply {i}");
        }
    }
    t.join().unwrap();
}

#[test]
fn requests_one_byte_at_a_time() {
    let (_r, n) = redis_node();
    let mut c = n.client();
    let mut stream = Vec::new();
    stream.extend_from_slice(&encode_str(&["SET", "slow", "value with spaces"]));
    stream.extend_from_slice(b"PING\r\n");
    stream.extend_from_slice(&encode_str(&["GET", "slow"]));
    stream.extend_from_slice(&encode_str(&["ECHO", "e"]));
    for b in &stream {
        c.send(std::slice::from_ref(b));
        c.stream.flush().unwrap();
    }
    assert_eq!(c.read_reply(), b"+OK\r\n");
    assert_eq!(c.read_reply(), b"+PONG\r\n");
    assert_eq!(s(&c.read_reply()), "$17\r\nvalue with spaces\r\n");
    assert_eq!(c.read_reply(), b"$1\r\ne\r\n");
}

#[test]
fn large_values_and_large_arrays() {
    let (_r, n) = redis_node();
    let mut c = n.client();
    let big: Vec<u8> = (0..5 * 1024 * 1024)
        .map(|i| b'a' + (i % 26) as u8)
        .collect();
    assert_eq!(c.cmd_bytes(&[b"SET", b"big", &big]), b"+OK\r\n");
    let got = c.cmd(&["GET", "big"]);
    let head = format!("${}\r\n", big.len());
    assert!(got.starts_with(head.as_bytes()));
    assert_eq!(&got[head.len()..got.len() - 2], &big[..]);
    // 100,000 elements: one RPUSH with 100,000 arguments, then LRANGE them all back.
    let vals: Vec<String> = (0..100_000).map(|i| format!("e{i}")).collect();
    let mut args: Vec<&[u8]> = vec![b"RPUSH", b"list"];
    args.extend(vals.iter().map(|v| v.as_bytes()));
    assert_eq!(c.cmd_bytes(&args), b":100000\r\n");
    let got = c.cmd(&["LRANGE", "list", "0", "-1"]);
    assert!(got.starts_with(b"*100000\r\n"));
    assert!(got.ends_with(b"$6\r\ne99999\r\n"));
}

#[test]
fn killed_datastore_errors_fast_and_recovers() {
    let (mut r, n) = redis_node();
    let mut c = n.client();
    assert_eq!(c.cmd(&["SET", "a", "1"]), b"+OK\r\n");
    r.proc.kill();
    let t0 = Instant::now();
    let got = c.cmd(&["GET", "a"]);
    assert_eq!(s(&got), "-ERR Storage: Datastore refused connection\r\n");
    assert!(
        t0.elapsed() < Duration::from_secs(1),
        "error took {:?}",
        t0.elapsed()
    );
    // Still an error, still fast, while the datastore is down.
    let t0 = Instant::now();
    assert!(c.cmd(&["GET", "a"]).starts_with(b"-ERR Storage"));
    assert!(t0.elapsed() < Duration::from_secs(1));
    r.restart();
    wait_for(
        "recovery after the datastore restart",
        Duration::from_secs(20),
        || (c.cmd(&["SET", "b", "2"]) == b"+OK\r\n").then_some(()),
    );
    assert_eq!(c.cmd(&["GET", "b"]), b"$1\r\n2\r\n");
    let (_, body) = http_get(n.stats_port, "/info");
    assert!(body.contains("\"server_ejects\":1"), "{body}");
    assert!(n.log_text().contains("connection lost"), "{}", n.log_text());
}

#[test]
fn frozen_datastore_times_out_and_connection_survives() {
    let r = Redis::start();
    let n = Node::start(&r.addr(), 0, "  timeout: 500\n");
    n.wait_backend();
    let mut c = n.client();
    assert_eq!(c.cmd(&["SET", "f", "1"]), b"+OK\r\n");
    r.proc.signal(libc::SIGSTOP);
    let t0 = Instant::now();
    let got = c.cmd(&["GET", "f"]);
    let took = t0.elapsed();
    r.proc.signal(libc::SIGCONT);
    assert!(s(&got).starts_with("-ERR Storage"), "{}", s(&got));
    assert!(
        took >= Duration::from_millis(400) && took < Duration::from_millis(2000),
        "{took:?}"
    );
    // The late reply is discarded; the next request gets its own answer.
    assert_eq!(c.cmd(&["SET", "f", "2"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["GET", "f"]), b"$1\r\n2\r\n");
}

#[test]
fn requirepass_and_datastore_password() {
    let r = Redis::start_with(&["--requirepass", "backendpw"]);
    let n = Node::start(
        &r.addr(),
        0,
        "  requirepass: clientpw\n  datastore_password: backendpw\n",
    );
    let mut c = n.client();
    assert_eq!(
        s(&c.cmd(&["GET", "x"])),
        "-NOAUTH Authentication required.\r\n"
    );
    assert_eq!(
        s(&c.cmd(&["AUTH", "wrong"])),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(c.cmd(&["AUTH", "clientpw"]), b"+OK\r\n");
    wait_for("backend auth", Duration::from_secs(10), || {
        (c.cmd(&["SET", "x", "1"]) == b"+OK\r\n").then_some(())
    });
    assert_eq!(c.cmd(&["GET", "x"]), b"$1\r\n1\r\n");
    // HELLO with AUTH in one go, RESP3.
    let mut c3 = n.client();
    let got = c3.cmd(&["HELLO", "3", "AUTH", "default", "clientpw"]);
    assert!(got.starts_with(b"%7\r\n"), "{}", s(&got));
    assert_eq!(c3.cmd(&["GET", "x"]), b"$1\r\n1\r\n");
}

#[test]
fn resp3_hello_and_typed_replies() {
    let (_r, n) = redis_node();
    let mut c = n.client();
    let hello = c.cmd(&["HELLO", "3"]);
    assert!(
        hello.starts_with(b"%7\r\n$6\r\nserver\r\n"),
        "{}",
        s(&hello)
    );
    assert_eq!(c.cmd(&["CLIENT", "SETINFO", "LIB-NAME", "x"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["HSET", "h", "a", "1", "b", "2"]), b":2\r\n");
    // A RESP3 backend connection answers HGETALL with a map.
    let got = c.cmd(&["HGETALL", "h"]);
    assert!(got.starts_with(b"%2\r\n"), "{}", s(&got));
    assert_eq!(c.cmd(&["GET", "nokey"]), b"_\r\n");
    // A RESP2 client on the same node still gets RESP2.
    let mut c2 = n.client();
    assert_eq!(c2.cmd(&["GET", "nokey"]), b"$-1\r\n");
    assert!(c2.cmd(&["HGETALL", "h"]).starts_with(b"*4\r\n"));
    assert_eq!(c.cmd(&["CLIENT", "SETNAME", "me"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), b"$2\r\nme\r\n");
}

/// A tiny deterministic generator (xorshift64*), so a failing seed can be replayed.
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545F4914F6CDD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One random command over a small key space, mixing types so errors happen too.
fn random_command(rng: &mut Rng) -> Vec<String> {
    let key = |rng: &mut Rng| format!("key:{}", rng.below(12));
    let val = |rng: &mut Rng| {
        if rng.below(4) == 0 {
            rng.below(100).to_string()
        } else {
            format!("v{}", rng.below(1000))
        }
    };
    let k = key(rng);
    let v = val(rng);
    let c: Vec<String> = match rng.below(40) {
        0 => vec!["SET".into(), k, v],
        1 => vec!["GET".into(), k],
        2 => vec!["DEL".into(), k, key(rng)],
        3 => vec!["INCR".into(), k],
        4 => vec!["INCRBY".into(), k, (rng.below(10)).to_string()],
        5 => vec!["APPEND".into(), k, v],
        6 => vec!["STRLEN".into(), k],
        7 => vec!["EXISTS".into(), k, key(rng)],
        8 => vec!["MGET".into(), k, key(rng), key(rng)],
        9 => vec!["MSET".into(), k, v, key(rng), val(rng)],
        10 => vec!["HSET".into(), k, format!("f{}", rng.below(4)), v],
        11 => vec!["HGET".into(), k, format!("f{}", rng.below(4))],
        12 => vec!["HDEL".into(), k, format!("f{}", rng.below(4))],
        13 => vec!["HGETALL".into(), k],
        14 => vec!["HINCRBY".into(), k, "n".into(), rng.below(5).to_string()],
        15 => vec!["LPUSH".into(), k, v],
        16 => vec!["RPUSH".into(), k, v, val(rng)],
        17 => vec!["LPOP".into(), k],
        18 => vec!["LRANGE".into(), k, "0".into(), "-1".into()],
        19 => vec!["LLEN".into(), k],
        20 => vec!["SADD".into(), k, v],
        21 => vec!["SREM".into(), k, v],
        22 => vec!["SCARD".into(), k],
        23 => vec!["SISMEMBER".into(), k, v],
        24 => vec!["ZADD".into(), k, rng.below(50).to_string(), v],
        25 => vec![
            "ZRANGE".into(),
            k,
            "0".into(),
            "-1".into(),
            "WITHSCORES".into(),
        ],
        26 => vec!["ZSCORE".into(), k, v],
        27 => vec!["ZINCRBY".into(), k, "1.5".into(), v],
        28 => vec!["EXPIRE".into(), k, "1000".into()],
        29 => vec!["TTL".into(), k],
        30 => vec!["TYPE".into(), k],
        31 => vec!["GETSET".into(), k, v],
        32 => vec!["SETNX".into(), k, v],
        33 => vec!["INCRBYFLOAT".into(), k, "0.5".into()],
        34 => vec!["GETRANGE".into(), k, "0".into(), "2".into()],
        35 => vec!["SET".into(), k, v, "NX".into()],
        36 => vec!["PERSIST".into(), k],
        37 => vec!["ZCARD".into(), k],
        38 => vec!["HLEN".into(), k],
        _ => vec!["SMEMBERS".into(), k],
    };
    c
}

fn differential(resp3: bool, seed: u64) {
    let plain = Redis::start();
    let (_r, n) = redis_node();
    differential_against(&plain, n.port, resp3, seed);
}

/// Send one seeded random command stream to a plain redis-server and to `port`; every reply
/// must be byte-identical.
pub fn differential_against(plain: &Redis, port: u16, resp3: bool, seed: u64) {
    differential_nodes(plain, &[port], resp3, seed, 3000);
}

/// The same, each command sent to one of `ports` picked at random (one connection each).
pub fn differential_nodes(plain: &Redis, ports: &[u16], resp3: bool, seed: u64, count: usize) {
    let mut a = Resp::connect(plain.port);
    let mut bs: Vec<Resp> = ports.iter().map(|&p| Resp::connect(p)).collect();
    if resp3 {
        a.cmd(&["HELLO", "3"]);
        for b in &mut bs {
            b.cmd(&["HELLO", "3"]);
        }
    }
    let mut rng = Rng(seed);
    for i in 0..count {
        let cmd = random_command(&mut rng);
        let args: Vec<&str> = cmd.iter().map(|s| s.as_str()).collect();
        let want = a.cmd(&args);
        let which = if bs.len() > 1 {
            rng.below(bs.len() as u64) as usize
        } else {
            0
        };
        let got = bs[which].cmd(&args);
        assert_eq!(
            s(&got),
            s(&want),
            "command #{i} {args:?} (seed {seed}, resp3 {resp3})"
        );
    }
}

#[test]
fn differential_resp2() {
    differential(false, 0x5eed_0001);
}

#[test]
fn differential_resp3() {
    differential(true, 0x5eed_0003);
}

#[test]
fn redis_py_default_client() {
    // redis-py 8 sends HELLO 3 and CLIENT SETINFO on connect and gives up on an error.
    let (_r, n) = redis_node();
    let script = r#"
import sys, redis
r = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]))
assert r.ping()
assert r.set("py", "1")
assert r.get("py") == b"1"
r.hset("pyh", mapping={"a": "1", "b": "2"})
assert r.hgetall("pyh") == {b"a": b"1", b"b": b"2"}, r.hgetall("pyh")
p = r.pipeline(transaction=False)
for i in range(100):
    p.set(f"pk{i}", i)
    p.get(f"pk{i}")
res = p.execute()
assert res[1] == b"0" and res[-1] == b"99", res[-2:]
r3 = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]), protocol=3)
assert r3.get("py") == b"1"
assert r3.hgetall("pyh") == {b"a": b"1", b"b": b"2"}
print("ok")
"#;
    redis_py(script, &[&n.port.to_string()]);
}

#[test]
fn client_that_never_reads_is_bounded() {
    // A long request timeout: on a busy host redis takes seconds to build the replies below,
    // and requests that time out are answered with an error instead, before the limits on
    // unread replies are ever reached.
    let _r = Redis::start();
    let n = Node::start(&_r.addr(), 0, "  timeout: 60000\n");
    n.wait_backend();
    let mut c = n.client();
    let val = vec![b'x'; 100_000];
    assert_eq!(c.cmd_bytes(&[b"SET", b"fat", &val]), b"+OK\r\n");
    // Ask for ~2 GB of replies without reading any of them; the writer stops when the proxy
    // stops reading us (back-pressure), bounded by a deadline.
    c.stream
        .set_write_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let req = encode_str(&["GET", "fat"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut sent = 0usize;
    while sent < 20_000 && Instant::now() < deadline {
        if c.stream.write_all(&req).is_err() {
            break;
        }
        sent += 1;
    }
    // Let the proxy do what it will: it is quiet once it has stopped reading the client (the
    // client is paused, or was closed past the hard limit of unread replies) and every
    // request it forwarded has been answered: nothing in its datastore queues, and neither
    // the requests read nor the replies received move for 300 ms. Replies not moving is not
    // enough: redis answers a pipeline of thousands of 100 KB GETs only once it has built
    // all the replies (~400 MB), which takes seconds on a busy host, while the proxy waits.
    let info = || -> serde_json::Value {
        serde_json::from_str(&http_get(n.stats_port, "/info").1).unwrap()
    };
    let server = |v: &serde_json::Value, k: &str| -> u64 {
        v["dyn_o_mite"][format!("127.0.0.1:{}", _r.port)][k]
            .as_u64()
            .unwrap()
    };
    let responses = |v: &serde_json::Value| server(v, "read_responses");
    let mut last = None;
    let v = wait_for("the proxy to go quiet", Duration::from_secs(60), || {
        std::thread::sleep(Duration::from_millis(300));
        let v = info();
        let now = (
            responses(&v),
            v["dyn_o_mite"]["client_read_requests"].as_u64().unwrap(),
        );
        let idle = server(&v, "in_queue") == 0 && server(&v, "out_queue") == 0;
        let quiet = idle && last == Some(now);
        last = Some(now);
        quiet.then_some(v)
    });
    let mem = v["dyn_memory"].as_u64().unwrap();
    eprintln!(
        "dyn_memory {mem} KiB after {sent} unread GETs of 100 KB ({} answered by redis)",
        responses(&v)
    );
    // The limits were reached: at least the pause threshold of replies came back.
    assert!(
        responses(&v) * 100_000 >= dynomite::conn::MAX_PENDING_BYTES as u64,
        "only {} replies of 100 KB reached the proxy: the bound was not exercised",
        responses(&v)
    );
    // At most 256 MiB of unread replies per client (then it is closed), plus buffers.
    assert!(
        mem < 320 * 1024,
        "dyn_memory {mem} KiB after {sent} unread GETs"
    );
    // While that client is paused the loop must sleep, not spin on its readable socket.
    let before = cpu_ticks(n.proc.pid());
    std::thread::sleep(Duration::from_secs(1));
    let used = cpu_ticks(n.proc.pid()) - before;
    assert!(
        used < 50,
        "dynomited used {used} clock ticks in 1 s with a paused client"
    );
    // Another client is still served.
    let mut d = n.client();
    assert_eq!(d.cmd(&["PING"]), b"+PONG\r\n");
}

#[test]
fn out_of_descriptors_pauses_accepts_without_spinning() {
    let (_r, n) = redis_node();
    let pid = n.proc.pid().to_string();
    let ok = std::process::Command::new("prlimit")
        .args(["--pid", &pid, "--nofile=48:48"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "prlimit (util-linux) is needed to lower the node's descriptor limit"
    );
    // More connections than descriptors: the surplus waits in the listen backlog.
    let conns: Vec<std::net::TcpStream> = (0..80)
        .filter_map(|_| std::net::TcpStream::connect(("127.0.0.1", n.port)).ok())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let before = cpu_ticks(n.proc.pid());
    std::thread::sleep(Duration::from_secs(1));
    let used = cpu_ticks(n.proc.pid()) - before;
    assert!(
        used < 50,
        "dynomited used {used} clock ticks in 1 s while out of descriptors"
    );
    drop(conns);
    wait_for(
        "a new client served once descriptors are free",
        Duration::from_secs(10),
        || {
            let mut c = Resp::try_connect(n.port)?;
            (c.cmd(&["PING"]) == b"+PONG\r\n").then_some(())
        },
    );
    assert!(n.log_text().contains("pausing accepts"), "{}", n.log_text());
}

#[test]
fn half_written_request_to_frozen_datastore_fails_at_timeout() {
    let r = Redis::start();
    let n = Node::start(&r.addr(), 0, "  timeout: 500\n");
    n.wait_backend();
    let mut c = n.client();
    r.proc.signal(libc::SIGSTOP);
    // 32 MiB cannot fit in the socket buffers of a datastore that does not read: the proxy
    // is left with a request written halfway.
    let big = vec![b'v'; 32 << 20];
    let t0 = Instant::now();
    let mut w = c.stream.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = w.write_all(&encode(&[b"SET", b"big", &big]));
    });
    let got = c.read_reply();
    let took = t0.elapsed();
    r.proc.signal(libc::SIGCONT);
    writer.join().unwrap();
    assert!(s(&got).starts_with("-ERR Storage"), "{}", s(&got));
    assert!(took < Duration::from_secs(5), "error after {took:?}");
    wait_for("the datastore back", Duration::from_secs(20), || {
        let mut d = n.client();
        (d.cmd(&["SET", "after", "1"]) == b"+OK\r\n").then_some(())
    });
}

#[test]
fn connect_that_never_completes_times_out() {
    // A listener whose accept queue is full drops new SYNs: a connect to it hangs.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let mut held = Vec::new();
    for _ in 0..1000 {
        match std::net::TcpStream::connect_timeout(
            &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
            Duration::from_millis(100),
        ) {
            Ok(s) => held.push(s),
            Err(_) => break,
        }
    }
    let n = Node::start(&format!("127.0.0.1:{port}"), 0, "  timeout: 500\n");
    let mut c = n.client();
    let t0 = Instant::now();
    let got = c.cmd(&["GET", "k"]);
    assert!(s(&got).starts_with("-ERR Storage"), "{}", s(&got));
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "error after {:?}",
        t0.elapsed()
    );
    wait_for("the connect timeout logged", Duration::from_secs(5), || {
        n.log_text().contains("connect timed out").then_some(())
    });
    drop(held);
}

#[test]
fn trickled_request_fills_one_buffer() {
    let (_r, n) = redis_node();
    let mut c = n.client();
    let req = encode(&[b"SET", b"trickle", &[b'x'; 600]]);
    // 40 small writes, each given time to arrive as a read of its own (a slow client).
    for chunk in req.chunks(req.len().div_ceil(40)) {
        c.send(chunk);
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(c.read_reply(), b"+OK\r\n");
    let (_, body) = http_get(n.stats_port, "/info");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let mbufs = v["alloc_mbufs"].as_u64().unwrap();
    assert!(
        mbufs < 16,
        "{mbufs} mbufs allocated for one request sent a byte per write"
    );
}

#[test]
fn proxy_replies_share_buffers() {
    let (_r, n) = redis_node();
    let mut c = n.client();
    let mut batch = Vec::new();
    for _ in 0..10_000 {
        batch.extend_from_slice(b"PING\r\n");
    }
    let mut w = c.stream.try_clone().unwrap();
    let t = std::thread::spawn(move || w.write_all(&batch).unwrap());
    for _ in 0..10_000 {
        assert_eq!(c.read_reply(), b"+PONG\r\n");
    }
    t.join().unwrap();
    let (_, body) = http_get(n.stats_port, "/info");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let mbufs = v["alloc_mbufs"].as_u64().unwrap();
    // 70 KB of replies: a handful of 16 KiB buffers, not one per reply.
    assert!(mbufs < 64, "{mbufs} mbufs for 10,000 PONGs");
}

#[test]
fn idle_connection_closed_by_redis_is_reopened_at_once() {
    let r = Redis::start_with(&["--timeout", "1"]);
    let n = Node::start(&r.addr(), 0, "");
    n.wait_backend();
    let mut c = n.client();
    assert_eq!(c.cmd(&["SET", "idle", "1"]), b"+OK\r\n");
    // Redis closes our idle datastore connection after a second.
    wait_for(
        "redis to close the idle connection",
        Duration::from_secs(15),
        || {
            let v: serde_json::Value =
                serde_json::from_str(&http_get(n.stats_port, "/info").1).unwrap();
            (v["dyn_o_mite"]["server_ejects"].as_u64() >= Some(1)).then_some(())
        },
    );
    // The next request is served (through the new connection), not refused.
    assert_eq!(c.cmd(&["GET", "idle"]), b"$1\r\n1\r\n");
}

/// A runaway script does not take the node down: other clients get the datastore's own
/// `-BUSY` (not a timeout), and `SCRIPT KILL` / `FUNCTION KILL` through the node reach the
/// busy datastore on a connection of their own and end it.
#[test]
fn runaway_script_gets_busy_replies_and_is_killed_through_the_node() {
    let r = Redis::start_with(&["--busy-reply-threshold", "200"]);
    let n = Node::start(&r.addr(), 0, "  timeout: 10000\n");
    n.wait_backend();
    let mut runner = n.client();
    runner.send(&encode_str(&["EVAL", "while true do end", "0"]));
    std::thread::sleep(Duration::from_millis(400));
    let mut other = n.client();
    let t = Instant::now();
    let busy = s(&other.cmd(&["GET", "x"]));
    assert!(busy.starts_with("-BUSY "), "{busy}");
    assert!(t.elapsed() < Duration::from_secs(3), "answered at once");
    // A RESP3 client goes around it too.
    let mut r3 = n.client();
    r3.cmd(&["HELLO", "3"]);
    assert!(s(&r3.cmd(&["GET", "x"])).starts_with("-BUSY "));
    assert_eq!(n.client().cmd(&["SCRIPT", "KILL"]), b"+OK\r\n");
    let killed = s(&runner.read_reply());
    assert!(killed.contains("Script killed by user"), "{killed}");
    assert_eq!(other.cmd(&["GET", "x"]), b"$-1\r\n");
    assert_eq!(runner.cmd(&["SET", "x", "1"]), b"+OK\r\n");
    // The same with a function.
    let lib = "#!lua name=spin\nredis.register_function('spin', function() while true do end end)";
    assert!(s(&runner.cmd(&["FUNCTION", "LOAD", lib])).contains("spin"));
    runner.send(&encode_str(&["FCALL", "spin", "0"]));
    std::thread::sleep(Duration::from_millis(400));
    assert!(s(&other.cmd(&["GET", "x"])).starts_with("-BUSY "));
    assert_eq!(other.cmd(&["FUNCTION", "KILL"]), b"+OK\r\n");
    assert!(s(&runner.read_reply()).contains("killed"));
    assert_eq!(other.cmd(&["GET", "x"]), b"$1\r\n1\r\n");
}
