//! The loop that ties the data path together: one thread, one epoll, every socket.
//!
//! Each iteration waits for readiness, handles every event (reads parse and dispatch
//! requests, backend reads match replies), then flushes: every datastore connection that got
//! requests is written with one `writev`, then every client that got replies. Batching is the
//! point: the requests of all clients read in one iteration share one `writev` per backend
//! connection, and the replies ready for a client leave in one `writev`.
//!
//! ```text
//!   ┌─► epoll_wait ─► events: accept │ client read+parse │ server read+match │ stats │ signal
//!   │                 └──────────────────────┬───────────────────────────────────────┘
//!   │                    flush dirty servers (writev) ─► flush dirty clients (writev)
//!   └─── timers: request deadlines (front of each backend queue), reconnects, shutdown ◄─┘
//! ```
//!
//! The role handlers live in `client.rs`, `server.rs` and `stats.rs`; local replies (PING,
//! HELLO, AUTH, ...) in `local.rs`.

mod builtin;
mod client;
mod cluster;
mod collect;
mod coordinator;
mod counters;
mod gossip;
mod membership;
mod reload;
mod reply;
mod route;
mod server;
mod split;
mod stats;

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use crate::conf::Config;
use crate::conn::{Conn, PoolKind, Role, ServerState};
use crate::event::{self, Epoll, IoVecs};
use crate::mbuf::MbufPool;
use crate::msg::ConnRef;
use crate::proto::Protocol;
use crate::types::{DataStore, NodeState};
use crate::{log_notice, log_warn};

/// Settings from the command line that the config file may override.
#[derive(Clone, Debug)]
pub struct Options {
    pub mbuf_size: usize,
    pub max_msgs: usize,
    pub admin_op: u32,
}

/// Back-pressure: a client is not read while it has this many requests outstanding...
pub const CLIENT_MAX_OUTSTANDING: usize = 4096;
/// ...or this many reply bytes waiting to be written to it.
pub const CLIENT_MAX_PENDING_BYTES: usize = 32 << 20;
/// Replies already asked for keep arriving while a client is paused; a client that lets this
/// many bytes of them pile up unread is closed (Redis's client-output-buffer-limit, as a
/// hard bound on what one client can make the proxy hold).
pub const CLIENT_HARD_PENDING_BYTES: usize = 256 << 20;
/// How long SIGTERM waits for in-flight requests before exiting anyway.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// Reads of one connection per readiness event (more wait for the next loop iteration, which
/// level-triggered epoll guarantees): one busy connection cannot starve the others, and the
/// limits checked between iterations (unread replies) hold within one budget of data.
pub const READ_BUDGET: usize = 32;
/// How long listeners are not watched after `accept` failed (out of descriptors).
pub const ACCEPT_PAUSE: Duration = Duration::from_millis(100);
/// After SIGTERM, exit once no request has arrived for this long and nothing is in flight.
pub const SHUTDOWN_QUIET: Duration = Duration::from_millis(100);

/// Vectors reused from request to request (so the data path does not allocate), each for
/// the one job its doc names. A function borrows one only for the length of its own body.
#[derive(Default)]
struct Scratch {
    /// Bytes the proxy composes before they are appended to the shared mbuf: an error
    /// reply, a dnode frame header, a fragment's protocol headers.
    bytes: Vec<u8>,
    /// A key (or a memcached command word) gathered contiguously, to be hashed.
    key: Vec<u8>,
    /// An argument of a command the proxy answers itself, and the answer.
    arg: Vec<u8>,
    out: Vec<u8>,
    /// Segments being assembled into a message: a header in front of a payload, a copy's
    /// request, a packed payload.
    segs: Vec<crate::mbuf::Seg>,
    /// Messages completed while a connection's queue was borrowed.
    done: Vec<crate::msg::MsgRef>,
    /// TLS records read from a socket.
    tls_in: Vec<u8>,
    /// The `(dc, node)` replies a quorum collects.
    targets: Vec<(usize, crate::ring::NodeIdx)>,
    /// Nodes a write is copied to; the owner of each key of a split request.
    nodes: Vec<crate::ring::NodeIdx>,
    /// A remote DC's racks in the order a copy tries them.
    order: Vec<(usize, crate::ring::NodeIdx)>,
    /// A split request's keys and values, and its plan.
    keys: Vec<crate::proto::Span>,
    vals: Vec<crate::proto::Span>,
    plan: crate::cluster::SplitPlan,
}

struct Slot {
    gen: u32,
    conn: Option<Conn>,
}

pub struct Core {
    pub cfg: Config,
    /// Every node of the cluster (index 0 is this node, then the seeds, SPEC §3.4) and what
    /// routing derives from it.
    place: crate::cluster::Placement,
    /// Outgoing connection slots to each node, by topology index (empty for this node).
    peers: Vec<Vec<u32>>,
    /// Peers an operator marked DOWN (`/peer/down/<name>`): no copies, no failover reads.
    peer_down: Vec<bool>,
    /// Ids of the frames this node sends to peers.
    next_frame_id: u64,
    /// Each node as this node sees it (NORMAL/DOWN, hints); see `membership`.
    views: Vec<membership::PeerView>,
    /// When the failure detector must next look (loop clock ns).
    next_detect: Option<u64>,
    /// Hints are waiting for a peer that can take them now.
    replaying: bool,
    /// Encrypted peer links (`secure_server_option` other than none).
    peer_tls: Option<crate::tls::PeerTls>,
    /// The seed provider's thread, and what it handed over so far (see `seeds_event`).
    seeds: Option<(crate::peer::seeds::Fetcher, std::os::unix::net::UnixStream)>,
    seeds_inbox: crate::peer::seeds::Inbox,
    /// When the next gossip round is due (loop clock ns), and whether the first (the
    /// announce to every peer) went out.
    next_gossip: u64,
    announced: bool,
    pub opts: Options,
    proto: Protocol,
    epoll: Epoll,
    slots: Vec<Slot>,
    free_slots: Vec<u32>,
    /// Messages and the mbufs their bytes live in.
    bufs: crate::msg::Buffers,
    /// Datastore connection slots, by pool.
    servers: Vec<u32>,
    servers3: Vec<u32>,
    dirty_servers: Vec<u32>,
    dirty_clients: Vec<u32>,
    /// Clients paused because `max_msgs` message objects were in use.
    msg_waiters: Vec<u32>,
    iov: IoVecs,
    /// Clients over the hard limit of unread replies, closed after this iteration's writes.
    overflowing: Vec<u32>,
    now: Instant,
    /// `now` as nanoseconds since `started`: the clock messages are stamped with.
    now_ns: u64,
    started: Instant,
    /// Reply collectors (quorums, split requests), pooled; see `collect`.
    coll: collect::Collectors,
    /// Vectors reused from request to request, one job each.
    scratch: Scratch,
    pub state: NodeState,
    /// Counters and histograms.
    stats: counters::Stats,
    held: route::HeldQueue,
    timeout_factor: u64,
    pub read_consistency: crate::types::Consistency,
    pub write_consistency: crate::types::Consistency,
    read_repairs: bool,
    next_client_id: u64,
    shutdown_at: Option<Instant>,
    /// When the last request was dispatched (shutdown waits for a quiet moment).
    last_request: Instant,
    signals: Option<nix::sys::signalfd::SignalFd>,
    listeners: Vec<u32>,
    /// Listeners are unwatched until then after an accept failure.
    accept_paused_until: Option<Instant>,
}

const TOKEN_GEN_SHIFT: u64 = 32;

fn token(idx: u32, gen: u32) -> u64 {
    (gen as u64) << TOKEN_GEN_SHIFT | idx as u64
}

impl Core {
    pub fn new(cfg: Config, opts: Options) -> io::Result<Core> {
        let proto = match cfg.data_store {
            DataStore::Redis => Protocol::Redis,
            DataStore::Memcache => Protocol::Memcache,
        };
        let mbuf_size = cfg.mbuf_size.unwrap_or(opts.mbuf_size);
        let max_msgs = cfg.max_msgs.unwrap_or(opts.max_msgs);
        let now = Instant::now();
        let place = crate::cluster::Placement::new(crate::ring::Topology::from_config(&cfg));
        let core = Core {
            place,
            views: Vec::new(),
            next_detect: None,
            replaying: false,
            next_gossip: 0,
            announced: false,
            seeds: None,
            seeds_inbox: Default::default(),
            peer_tls: None,
            peers: Vec::new(),
            peer_down: Vec::new(),
            next_frame_id: 1,
            proto,
            epoll: Epoll::new(1024)?,
            slots: Vec::new(),
            free_slots: Vec::new(),
            bufs: crate::msg::Buffers::new(mbuf_size, max_msgs),
            servers: Vec::new(),
            servers3: Vec::new(),
            dirty_servers: Vec::new(),
            dirty_clients: Vec::new(),
            msg_waiters: Vec::new(),
            iov: IoVecs::new(),
            overflowing: Vec::new(),
            now,
            now_ns: 0,
            started: now,
            state: NodeState::Joining,
            stats: counters::Stats::new(now),
            held: Default::default(),
            coll: Default::default(),
            scratch: Scratch::default(),
            timeout_factor: 1,
            read_consistency: cfg.read_consistency,
            write_consistency: cfg.write_consistency,
            read_repairs: cfg.read_repairs_enabled,
            next_client_id: 1,
            shutdown_at: None,
            last_request: now,
            signals: None,
            listeners: Vec::new(),
            accept_paused_until: None,
            cfg,
            opts,
        };
        Ok(core)
    }

    // ---- the connection slab -------------------------------------------------------------

    fn insert(&mut self, conn_fn: impl FnOnce(u32) -> Conn) -> u32 {
        let idx = match self.free_slots.pop() {
            Some(i) => i,
            None => {
                self.slots.push(Slot { gen: 0, conn: None });
                (self.slots.len() - 1) as u32
            }
        };
        let gen = self.slots[idx as usize].gen;
        let mut c = conn_fn(gen);
        c.gen = gen;
        self.slots[idx as usize].conn = Some(c);
        idx
    }

    fn conn(&self, idx: u32) -> Option<&Conn> {
        self.slots.get(idx as usize).and_then(|s| s.conn.as_ref())
    }

    fn conn_mut(&mut self, idx: u32) -> Option<&mut Conn> {
        self.slots
            .get_mut(idx as usize)
            .and_then(|s| s.conn.as_mut())
    }

    fn conn_ref(&self, idx: u32) -> ConnRef {
        ConnRef {
            idx,
            gen: self.slots[idx as usize].gen,
        }
    }

    /// Resolve a connection reference; `None` if that connection was closed since.
    fn live(&self, r: ConnRef) -> bool {
        self.slots
            .get(r.idx as usize)
            .is_some_and(|s| s.gen == r.gen && s.conn.is_some())
    }

    /// Remove a connection from the slab: deregister, close the socket, bump the generation.
    fn remove(&mut self, idx: u32) -> Option<Conn> {
        let slot = self.slots.get_mut(idx as usize)?;
        let mut conn = slot.conn.take()?;
        slot.gen = slot.gen.wrapping_add(1);
        self.free_slots.push(idx);
        if let Some(fd) = conn.fd.take() {
            let _ = self.epoll.delete(fd.as_raw_fd());
        }
        if let Some(b) = conn.rbuf.take() {
            self.bufs.mbufs.decref(b);
        }
        Some(conn)
    }

    /// The connection's read mbuf with spare room (a fresh one when full or absent), and its fd.
    fn ensure_rbuf(&mut self, idx: u32) -> Option<(std::os::fd::RawFd, crate::mbuf::MbufId)> {
        let conn = self.slots.get_mut(idx as usize)?.conn.as_mut()?;
        let fd = conn.raw_fd();
        if fd < 0 {
            return None;
        }
        match conn.rbuf {
            Some(b) if !self.bufs.mbufs.is_full(b) => Some((fd, b)),
            other => {
                if let Some(b) = other {
                    self.bufs.mbufs.decref(b);
                }
                let b = self.bufs.mbufs.get();
                conn.rbuf = Some(b);
                conn.rpos = 0;
                Some((fd, b))
            }
        }
    }

    /// Drop a connection's hold on its read mbuf once everything in it is parsed and no
    /// message is half-way (an idle connection keeps no buffer; messages keep their own
    /// references). A message in progress keeps the buffer, so a request trickling in a byte
    /// per read fills one mbuf instead of taking a fresh one per read.
    fn release_rbuf_if_parsed(&mut self, idx: u32) {
        let Some(conn) = self
            .slots
            .get_mut(idx as usize)
            .and_then(|s| s.conn.as_mut())
        else {
            return;
        };
        let in_progress = match &conn.role {
            Role::Client(c) => c.cur.is_some(),
            Role::Server(s) => !s.rsp_segs.is_empty(),
            _ => false,
        };
        if in_progress {
            return;
        }
        if let Some(b) = conn.rbuf {
            if conn.rpos as usize >= self.bufs.mbufs.len(b) {
                conn.rbuf = None;
                conn.rpos = 0;
                self.bufs.mbufs.decref(b);
            }
        }
    }

    /// One `read` into the connection's mbuf. Parsing is the caller's.
    fn read_once(&mut self, idx: u32) -> ReadOutcome {
        if let Some(outcome) = self.tls_detect(idx) {
            return outcome;
        }
        if self.conn(idx).is_some_and(|c| c.tls.is_some()) {
            return self.tls_read(idx);
        }
        let Some((fd, buf)) = self.ensure_rbuf(idx) else {
            return ReadOutcome::Gone;
        };
        loop {
            match event::read(fd, self.bufs.mbufs.spare(buf)) {
                Ok(0) => return ReadOutcome::Eof,
                Ok(n) => {
                    self.bufs.mbufs.advance(buf, n);
                    return ReadOutcome::Data {
                        full: self.bufs.mbufs.is_full(buf),
                    };
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return ReadOutcome::Empty,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return ReadOutcome::Error(e),
            }
        }
    }

    /// An accepted peer connection on a node with encryption: its first byte says whether it
    /// is TLS. `Some` when there is nothing to read yet (or the peer left).
    fn tls_detect(&mut self, idx: u32) -> Option<ReadOutcome> {
        let c = self.conn(idx)?;
        if !c.tls_detect {
            return None;
        }
        match event::peek_byte(c.raw_fd()) {
            Ok(None) => Some(ReadOutcome::Eof),
            Ok(Some(b)) => {
                let session = if b == crate::tls::TLS_HANDSHAKE_BYTE {
                    match self.peer_tls.as_ref().map(|t| t.accept()) {
                        Some(Ok(s)) => Some(Box::new(s)),
                        Some(Err(e)) => return Some(ReadOutcome::Error(io::Error::other(e))),
                        None => None,
                    }
                } else {
                    None
                };
                let c = self.conn_mut(idx)?;
                c.tls_detect = false;
                c.tls = session;
                None
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Some(ReadOutcome::Empty),
            Err(e) => Some(ReadOutcome::Error(e)),
        }
    }

    /// `read_once` for a TLS connection: plaintext already decrypted first, else one socket
    /// read fed to the session (whose handshake replies are sent at once).
    fn tls_read(&mut self, idx: u32) -> ReadOutcome {
        let Some((fd, buf)) = self.ensure_rbuf(idx) else {
            return ReadOutcome::Gone;
        };
        if self.scratch.tls_in.len() < 16 * 1024 {
            self.scratch.tls_in.resize(16 * 1024, 0);
        }
        loop {
            let Some(tls) = self.slots[idx as usize]
                .conn
                .as_mut()
                .and_then(|c| c.tls.as_mut())
            else {
                return ReadOutcome::Gone;
            };
            match io::Read::read(&mut tls.reader(), self.bufs.mbufs.spare(buf)) {
                Ok(0) => return ReadOutcome::Eof,
                Ok(n) => {
                    self.bufs.mbufs.advance(buf, n);
                    return ReadOutcome::Data {
                        full: self.bufs.mbufs.is_full(buf),
                    };
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return ReadOutcome::Error(e),
            }
            let n = match event::read(fd, &mut self.scratch.tls_in) {
                Ok(0) => return ReadOutcome::Eof,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return ReadOutcome::Empty,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return ReadOutcome::Error(e),
            };
            let mut rest = &self.scratch.tls_in[..n];
            while !rest.is_empty() {
                if let Err(e) = tls.read_tls(&mut rest) {
                    return ReadOutcome::Error(e);
                }
                if let Err(e) = tls.process_new_packets() {
                    // Tell the peer why (an alert), then give up on the connection.
                    let _ = tls.write_tls(&mut event::FdIo(fd));
                    return ReadOutcome::Error(io::Error::other(format!("TLS: {e}")));
                }
            }
            if let Err(e) = self.tls_flush(idx) {
                return ReadOutcome::Error(e);
            }
        }
    }

    /// Send what a TLS session has ready (handshake records, encrypted data), as far as the
    /// socket takes it; write interest stays on while some is left.
    fn tls_flush(&mut self, idx: u32) -> io::Result<()> {
        let Some(c) = self.slots[idx as usize].conn.as_mut() else {
            return Ok(());
        };
        let fd = c.raw_fd();
        let Some(tls) = c.tls.as_mut() else {
            return Ok(());
        };
        while tls.wants_write() {
            match tls.write_tls(&mut event::FdIo(fd)) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let pending = tls.wants_write();
        let interest = c.interest;
        if pending && interest & event::WRITE == 0 {
            self.set_interest(idx, interest | event::WRITE);
        }
        Ok(())
    }

    /// `writev` of the gathered iovecs to a connection: through its TLS session if it has
    /// one (the plaintext is copied into the session, then as much as the socket takes is
    /// sent). Returns the plaintext bytes taken, like `writev`.
    fn writev_conn(&mut self, idx: u32, fd: std::os::fd::RawFd) -> io::Result<usize> {
        let Some(tls) = self.slots[idx as usize]
            .conn
            .as_mut()
            .and_then(|c| c.tls.as_mut())
        else {
            return self.iov.writev(fd);
        };
        let n = self.iov.copy_into(&mut tls.writer())?;
        self.tls_flush(idx)?;
        if n == 0 && self.iov.bytes() > 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(n)
    }

    /// Accept one pending connection on listener `lidx` and register it with `role`.
    /// `None` when nothing is pending (or the listener is gone).
    fn accept_one(&mut self, lidx: u32, role: impl FnOnce() -> Role) -> Option<u32> {
        let lfd = self.conn(lidx)?.raw_fd();
        let fd = match event::accept(lfd) {
            Ok(Some(fd)) => fd,
            Ok(None) => return None,
            Err(e) => {
                // EMFILE and friends. The listener stays readable, so stop watching it for a
                // moment instead of spinning (and logging) until a descriptor frees up.
                log_warn!(
                    "accept on {}: {e}; pausing accepts for {:?}",
                    self.conn(lidx)?.role.name(),
                    ACCEPT_PAUSE
                );
                self.set_interest(lidx, 0);
                self.accept_paused_until = Some(self.now + ACCEPT_PAUSE);
                return None;
            }
        };
        event::set_nodelay(fd.as_raw_fd());
        let addr = event::peer_addr(fd.as_raw_fd());
        let idx = self.insert(|_| Conn::new(role(), addr, event::READ));
        if let Err(e) = self.register(idx, &fd, event::READ) {
            log_warn!("registering an accepted connection: {e}");
            self.remove(idx);
            return None;
        }
        if let Some(c) = self.conn_mut(idx) {
            c.fd = Some(fd);
        }
        Some(idx)
    }

    /// Register a socket with the loop for `interest`.
    fn register(&mut self, idx: u32, fd: &OwnedFd, interest: u32) -> io::Result<()> {
        let gen = self.slots[idx as usize].gen;
        self.epoll.add(fd.as_raw_fd(), interest, token(idx, gen))
    }

    /// Change a connection's interest bits if they differ.
    fn set_interest(&mut self, idx: u32, mut interest: u32) {
        let gen = self.slots[idx as usize].gen;
        let Some(c) = self.conn_mut(idx) else { return };
        // A TLS session with records to send needs the socket writable, whatever the caller.
        if c.tls.as_ref().is_some_and(|t| t.wants_write()) {
            interest |= event::WRITE;
        }
        if c.interest == interest {
            return;
        }
        c.interest = interest;
        let fd = c.raw_fd();
        if fd >= 0 {
            let _ = self.epoll.modify(fd, interest, token(idx, gen));
        }
    }

    // ---- start-up ------------------------------------------------------------------------

    /// Bind the listeners and connect to the datastore. Errors name the address.
    pub fn start(&mut self) -> io::Result<()> {
        if self.cfg.secure_server_option != crate::conf::SecureOption::None {
            let t = crate::tls::PeerTls::load(&self.cfg.pem_key_file).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{e}; peer links are not started in the clear"),
                )
            })?;
            log_notice!(
                "peer links encrypted ({}) with TLS 1.3, the cluster key from {}",
                self.cfg.secure_server_option.name(),
                self.cfg.pem_key_file.display()
            );
            self.peer_tls = Some(t);
        }
        let sig = event::signal_fd()?;
        let sfd = sig.as_raw_fd();
        let idx = self.insert(|_| Conn::new(Role::Signals, None, event::READ));
        self.epoll.add(sfd, event::READ, token(idx, 0))?;
        self.signals = Some(sig);

        let listen = self.cfg.listen.clone();
        let backlog = self.cfg.backlog;
        let fd = bind(&listen, backlog)
            .map_err(|e| io::Error::new(e.kind(), format!("listen on {}: {e}", show(&listen))))?;
        self.add_listener(fd, Role::ClientListener)?;
        log_notice!(
            "{} listening for {} clients on {}",
            self.cfg.pool_name,
            match self.proto {
                Protocol::Redis => "redis",
                Protocol::Memcache => "memcache",
            },
            show(&listen)
        );
        if let Some(dl) = self.cfg.dyn_listen.clone() {
            let fd = bind(&dl, backlog).map_err(|e| {
                io::Error::new(e.kind(), format!("dyn_listen on {}: {e}", show(&dl)))
            })?;
            self.add_listener(fd, Role::PeerListener)?;
            log_notice!("listening for peers on {}", show(&dl));
        }
        let stats = self.cfg.stats_listen.clone();
        let fd = bind(&stats, 128).map_err(|e| {
            io::Error::new(e.kind(), format!("stats_listen on {}: {e}", show(&stats)))
        })?;
        self.add_listener(fd, Role::StatsListener)?;
        log_notice!("stats and admin HTTP on {}", show(&stats));

        let n = self.cfg.datastore_connections.max(1) as usize;
        for slot in 0..n {
            let idx = self.new_server(PoolKind::Main, slot, None);
            self.servers.push(idx);
            // Dynomite never connects at all with `preconnect: false` (a quirk we fix): the
            // datastore is always connected at start.
            self.server_connect(idx);
        }
        // Admin mode (-x) opens no peer connections (SPEC §10.3).
        if self.opts.admin_op == 0 {
            self.connect_peers();
            self.start_seed_provider()?;
        }
        self.state = NodeState::Normal;
        Ok(())
    }

    fn add_listener(&mut self, fd: OwnedFd, role: Role) -> io::Result<()> {
        let idx = self.insert(|_| Conn::new(role, None, event::READ));
        self.register(idx, &fd, event::READ)?;
        if let Some(c) = self.conn_mut(idx) {
            c.fd = Some(fd);
        }
        self.listeners.push(idx);
        Ok(())
    }

    // ---- the loop ------------------------------------------------------------------------

    /// Run until a shutdown signal has been handled and in-flight work is done.
    pub fn run(&mut self) -> io::Result<()> {
        loop {
            let timeout = self.next_timeout_ms();
            let n = self.epoll.wait(timeout)?;
            self.now = Instant::now();
            self.now_ns = self.now.duration_since(self.started).as_nanos() as u64;
            for i in 0..n {
                let ev = self.epoll.event(i);
                self.handle(ev);
            }
            self.flush();
            self.timers();
            self.flush();
            if self.shutdown_done() {
                return Ok(());
            }
        }
    }

    fn handle(&mut self, ev: event::Event) {
        let idx = (ev.token & 0xffff_ffff) as u32;
        let gen = (ev.token >> TOKEN_GEN_SHIFT) as u32;
        let Some(slot) = self.slots.get(idx as usize) else {
            return;
        };
        if slot.gen != gen {
            return; // an event for a connection closed earlier in this batch
        }
        let Some(conn) = slot.conn.as_ref() else {
            return;
        };
        match conn.role {
            Role::ClientListener => self.accept_clients(idx),
            Role::PeerListener => self.accept_peers(idx),
            Role::StatsListener => self.accept_stats(idx),
            Role::Signals => self.handle_signals(),
            Role::Seeds => self.seeds_event(),
            Role::Client(_) => self.client_event(idx, ev),
            Role::Server(_) => self.server_event(idx, ev),
            Role::Stats(_) => self.stats_event(idx, ev),
        }
    }

    /// Write everything that became ready: requests to datastores first, then replies.
    fn flush(&mut self) {
        while !self.dirty_servers.is_empty() || !self.dirty_clients.is_empty() {
            while let Some(idx) = self.dirty_servers.pop() {
                self.server_flush(idx);
            }
            while let Some(idx) = self.dirty_clients.pop() {
                self.client_flush(idx);
            }
        }
        while let Some(idx) = self.overflowing.pop() {
            let still_over = self
                .conn(idx)
                .and_then(|c| c.client())
                .is_some_and(|c| c.pending_bytes > CLIENT_HARD_PENDING_BYTES);
            if still_over {
                crate::log_warn!(
                    "closing a client that left more than {} MiB of replies unread",
                    CLIENT_HARD_PENDING_BYTES >> 20
                );
                self.client_close(idx, "over the limit of unread replies");
            }
        }
    }

    fn next_timeout_ms(&self) -> i32 {
        let mut next: Option<Instant> = self.shutdown_at;
        if let Some(deadline) = self.shutdown_at {
            let quiet = self.last_request + SHUTDOWN_QUIET;
            if quiet > self.now {
                next = Some(quiet.min(deadline));
            }
        }
        let mut consider = |t: Instant| {
            next = Some(match next {
                Some(n) if n <= t => n,
                _ => t,
            })
        };
        consider(self.stats.histo_reset_at);
        if let Some(t) = self.next_detect {
            consider(self.instant_of(t));
        }
        if self.cfg.enable_gossip && !self.views.is_empty() {
            consider(self.instant_of(self.next_gossip));
        }
        if self.replaying {
            consider(self.now + Duration::from_millis(1));
        }
        if let Some(t) = self.accept_paused_until {
            consider(t);
        }
        // Writes held in WRITES_ONLY fail after the request timeout: wake up for that.
        if let Some(h) = self.held.front() {
            consider(match self.bufs.msgs.get(h.msg) {
                Some(m) => self.instant_of(m.t_queued + self.server_timeout_ns()),
                None => self.now,
            });
        }
        let peers = self.peers.iter().flatten();
        for &idx in self.servers.iter().chain(self.servers3.iter()).chain(peers) {
            if let Some(t) = self.server_next_deadline(idx) {
                consider(t);
            }
        }
        match next {
            None => -1,
            Some(t) => {
                let now = Instant::now();
                if t <= now {
                    0
                } else {
                    // Round up so we do not spin just before a deadline.
                    ((t - now).as_micros().div_ceil(1000)).min(60_000) as i32
                }
            }
        }
    }

    fn timers(&mut self) {
        let now = self.now;
        if now >= self.stats.histo_reset_at {
            self.reset_histograms();
        }
        if self.accept_paused_until.is_some_and(|t| now >= t) {
            self.accept_paused_until = None;
            for i in 0..self.listeners.len() {
                let idx = self.listeners[i];
                self.set_interest(idx, event::READ);
            }
        }
        // Every connection the proxy sends on: datastore (RESP2, RESP3) and peers. Indexed
        // loops, since a timer may reconnect (no list is collected per iteration).
        for i in 0..self.servers.len() + self.servers3.len() {
            let idx = match self.servers.get(i) {
                Some(&idx) => idx,
                None => self.servers3[i - self.servers.len()],
            };
            self.server_timers(idx);
        }
        for node in 0..self.peers.len() {
            for slot in 0..self.peers[node].len() {
                let idx = self.peers[node][slot];
                self.server_timers(idx);
            }
        }
        if !self.held.is_empty() {
            self.expire_held();
        }
        if !self.views.is_empty() {
            if self.now_ns >= self.next_gossip {
                self.next_gossip = self.gossip_round();
            }
            self.probe_peers();
            self.next_detect = self.detect_failures();
            self.replaying = self.replay_hints();
        }
        if !self.msg_waiters.is_empty() && self.bufs.msgs.live() < self.bufs.msgs.max() {
            let waiters = std::mem::take(&mut self.msg_waiters);
            for idx in waiters {
                self.client_resume(idx);
            }
        }
    }

    pub fn reset_histograms(&mut self) {
        self.stats.reset_histograms(self.now);
    }

    /// The request timeout for the datastore, times the admin timeout factor.
    fn server_timeout(&self) -> Duration {
        Duration::from_millis(self.cfg.timeout_ms.saturating_mul(self.timeout_factor))
    }

    /// The same, in nanoseconds of the loop clock.
    fn server_timeout_ns(&self) -> u64 {
        self.server_timeout().as_nanos() as u64
    }

    /// A loop-clock reading as an `Instant` (for the epoll timeout).
    fn instant_of(&self, ns: u64) -> Instant {
        self.started + Duration::from_nanos(ns)
    }

    // ---- signals and shutdown ------------------------------------------------------------

    fn handle_signals(&mut self) {
        loop {
            let info = match self.signals.as_mut().map(|s| s.read_signal()) {
                Some(Ok(Some(info))) => info,
                _ => return,
            };
            let signo = info.ssi_signo as i32;
            match signo {
                libc::SIGHUP => {
                    log_notice!("signal SIGHUP: reopening the log file, reloading the config");
                    crate::log::reopen();
                    self.reload();
                }
                libc::SIGTTIN => {
                    crate::log::level_up();
                    log_notice!("signal SIGTTIN: log level up to {}", crate::log::level());
                }
                libc::SIGTTOU => {
                    crate::log::level_down();
                    log_notice!("signal SIGTTOU: log level down to {}", crate::log::level());
                }
                libc::SIGTERM | libc::SIGINT => {
                    let name = if signo == libc::SIGTERM {
                        "SIGTERM"
                    } else {
                        "SIGINT"
                    };
                    log_notice!("signal {name}: shutting down; answering requests in flight");
                    self.begin_shutdown();
                }
                _ => {}
            }
        }
    }

    /// Stop accepting; keep serving the connections we have until they are quiet (requests
    /// already sent, even if not yet read, are answered), within a bound.
    fn begin_shutdown(&mut self) {
        if self.shutdown_at.is_some() {
            return;
        }
        self.shutdown_at = Some(self.now + SHUTDOWN_GRACE);
        for idx in std::mem::take(&mut self.listeners) {
            self.remove(idx);
        }
    }

    fn shutdown_done(&mut self) -> bool {
        let Some(deadline) = self.shutdown_at else {
            return false;
        };
        let busy = self
            .slots
            .iter()
            .any(|s| match s.conn.as_ref().map(|c| &c.role) {
                Some(Role::Client(c)) => !c.queue.is_empty(),
                _ => false,
            })
            || !self.held.is_empty()
            // Copies not yet written to a connected peer: replication is not done yet.
            || self.peers.iter().flatten().any(|&i| {
                self.conn(i)
                    .and_then(|c| c.server())
                    .is_some_and(|s| s.state == ServerState::Connected && !s.in_q.is_empty())
            });
        if !busy && self.now.duration_since(self.last_request) >= SHUTDOWN_QUIET {
            log_notice!("all replies written; exiting");
            return true;
        }
        if self.now >= deadline {
            log_warn!("shutdown grace period over; exiting with requests still in flight");
            return true;
        }
        false
    }

    fn uptime(&self) -> u64 {
        self.now.duration_since(self.started).as_secs()
    }
}

/// What one read of a connection brought.
enum ReadOutcome {
    /// Bytes arrived; `full` when they filled the mbuf (there may be more to read).
    Data {
        full: bool,
    },
    /// Nothing to read right now.
    Empty,
    Eof,
    Error(io::Error),
    /// The connection is closed or has no socket.
    Gone,
}

/// Add the bytes of `segs`, less the first `*skip` of them, to a gather list. Returns false
/// when the list is full (the caller writes what it has and comes back).
fn push_segs(
    iov: &mut IoVecs,
    mbufs: &MbufPool,
    segs: &[crate::mbuf::Seg],
    skip: &mut usize,
) -> bool {
    for seg in segs {
        let b = mbufs.slice(*seg);
        if *skip >= b.len() {
            *skip -= b.len();
            continue;
        }
        if !iov.push(&b[*skip..]) {
            return false;
        }
        *skip = 0;
    }
    true
}

fn bind(l: &crate::conf::Listen, backlog: u32) -> io::Result<OwnedFd> {
    match l {
        crate::conf::Listen::Tcp { addr, .. } => event::tcp_listen(addr, backlog),
        crate::conf::Listen::Unix(p) => event::unix_listen(p, backlog),
    }
}

pub(crate) fn show(l: &crate::conf::Listen) -> String {
    match l {
        crate::conf::Listen::Tcp { addr, .. } => addr.to_string(),
        crate::conf::Listen::Unix(p) => p.display().to_string(),
    }
}

/// Checks that need more than the file's syntax, made before the node detaches so the
/// error reaches the terminal: with encryption on, the key file must be readable (a node
/// never runs its peer links in the clear instead).
pub fn check_supported(cfg: &Config) -> Result<(), String> {
    if cfg.secure_server_option != crate::conf::SecureOption::None {
        crate::tls::PeerTls::load(&cfg.pem_key_file).map_err(|e| {
            format!(
                "{}: secure_server_option is {}, but {e}; refusing to start rather than send \
                 peer traffic in the clear",
                cfg.file.display(),
                cfg.secure_server_option.name()
            )
        })?;
    }
    Ok(())
}

/// The daemon's end of the readiness pipe: the foreground process waits on it and exits 0
/// once the daemon says it started, or 1 with the daemon's error.
pub struct Ready(Option<OwnedFd>);

impl Ready {
    /// Not daemonized: nobody waits.
    pub fn none() -> Ready {
        Ready(None)
    }
    pub fn ok(&mut self) {
        self.send(b"OK\n");
    }
    pub fn fail(&mut self, msg: &str) {
        self.send(msg.as_bytes());
    }
    fn send(&mut self, b: &[u8]) {
        if let Some(fd) = self.0.take() {
            let _ = event::write(fd.as_raw_fd(), b);
        }
    }
}

/// Detach from the terminal the way Dynomite does (fork, setsid, fork, umask 0, standard
/// streams to /dev/null, no chdir), except that the foreground process does not exit until
/// the daemon has started: it exits 0 then, or prints the daemon's start-up error and exits 1
/// (Dynomite exits 0 at once, so a daemon that failed to bind went unnoticed).
pub fn daemonize() -> io::Result<Ready> {
    use nix::unistd::{fork, pipe, setsid, ForkResult};
    let (rd, wr) = pipe().map_err(io::Error::from)?;
    // SAFETY: called from main before any thread is started, so the child is a faithful copy
    // of a single-threaded process.
    match unsafe { fork() }.map_err(io::Error::from)? {
        ForkResult::Parent { .. } => {
            drop(wr);
            let mut msg = Vec::new();
            let mut buf = [0u8; 512];
            while let Ok(n) = event::read(rd.as_raw_fd(), &mut buf) {
                if n == 0 {
                    break;
                }
                msg.extend_from_slice(&buf[..n]);
            }
            if msg.starts_with(b"OK") {
                std::process::exit(0);
            }
            let text = String::from_utf8_lossy(&msg);
            if text.is_empty() {
                eprintln!("dynomited: the daemon exited during start-up (see its log)");
            } else {
                eprintln!("dynomited: {}", text.trim_end());
            }
            std::process::exit(1);
        }
        ForkResult::Child => drop(rd),
    }
    setsid().map_err(io::Error::from)?;
    // SAFETY: still single-threaded (the first child has no threads either).
    match unsafe { fork() }.map_err(io::Error::from)? {
        ForkResult::Parent { .. } => std::process::exit(0),
        ForkResult::Child => {}
    }
    nix::sys::stat::umask(nix::sys::stat::Mode::empty());
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    for fd in 0..=2 {
        nix::unistd::dup2(null.as_raw_fd(), fd).map_err(io::Error::from)?;
    }
    Ok(Ready(Some(wr)))
}
