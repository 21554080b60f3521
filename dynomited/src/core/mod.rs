//! The loop that ties the data path together: one thread, one epoll, every socket; and the
//! glue between the roles (`conn`), the cluster's decisions (`cluster`) and the buffers
//! (`mbuf`, `msg`).
//!
//! ```text
//!   ┌─► epoll_wait ─► events ─┬─ listener ──► accept (inbound.rs, admin.rs)
//!   │                         ├─ client / incoming peer ──► read ─► parse ─► route.rs
//!   │                         │       route ─► builtin.rs │ coordinator.rs │ split.rs
//!   │                         │             ─► forward: a datastore's in_q (outbound.rs)
//!   │                         │             ─► copies: a peer's in_q (copies.rs)
//!   │                         ├─ datastore / peer ──► read ─► match replies (replies.rs)
//!   │                         │       ─► reply.rs: complete ─► a collector (collect.rs)
//!   │                         │                              or the client's queue
//!   │                         └─ stats HTTP (admin.rs), signals, seed provider (gossip.rs)
//!   │    flush: dirty datastore/peer connections (writev) ─► dirty clients (writev)
//!   └─── timers: request deadlines, reconnects, probes, gossip, hints, shutdown ◄───────┘
//! ```
//!
//! A request's life: parsed into a `Msg` in the client's queue (inbound.rs) ─► routed ─►
//! queued on one or more outbound connections (itself, or child messages: copies, quorum
//! parts, fragments) ─► written (writev) ─► its reply matched ─► complete ─► written back in
//! request order ─► freed. Batching is the point: the requests of all clients read in one
//! iteration share one `writev` per datastore connection, and the replies ready for a client
//! leave in one `writev`.
//!
//! The loop's state is split into parts that borrow apart: the reactor (sockets), the
//! buffers, the placement (topology), the mesh (peers), the collectors, the stats, the node
//! controls. A function that needs two of them borrows the two fields, not all of `Core`.
//! Who may close a connection: only the role's own close function (`in_close`,
//! `out_failed`, `admin`'s). The roles' steps (read, parse, flush, timers) return a [`Next`]
//! and one place per role acts on it (`in_act`, `out_act`); membership changes (a peer
//! reset, moved or retired) fail an outbound connection with `drop_conn`.

mod admin;
mod builtin;
mod collect;
mod coordinator;
mod copies;
mod effects;
mod fanout;
mod gossip;
mod hintlog;
mod inbound;
mod membership;
mod memory;
mod outbound;
mod reload;
mod repair;
mod replies;
mod reply;
mod rewrite;
mod route;
mod split;
mod tls;

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use crate::conf::Config;
use crate::conn::{Conn, Listener, PoolKind, Role, HARD_PENDING_BYTES};
use crate::event;
use crate::proto::Protocol;
use crate::types::{DataStore, NodeState};
use crate::{log_notice, log_warn};

use crate::conn::Reactor;

/// Settings from the command line that the config file may override.
#[derive(Clone, Debug)]
pub struct Options {
    pub mbuf_size: usize,
    pub max_msgs: usize,
    pub admin_op: u32,
}

/// How long SIGTERM waits for in-flight requests before exiting anyway.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// After SIGTERM, exit once no request has arrived for this long and nothing is in flight.
pub const SHUTDOWN_QUIET: Duration = Duration::from_millis(100);
/// Reads of one connection per readiness event (more wait for the next loop iteration, which
/// level-triggered epoll guarantees): one busy connection cannot starve the others, and the
/// limits checked between iterations (unread replies) hold within one budget of data.
pub const READ_BUDGET: usize = 32;

/// What should happen to a connection after a step of its role: the step returns it, and
/// one place per role acts on it (`in_act`: close; `out_act`: fail and reconnect).
#[must_use]
pub(super) enum Next {
    Go,
    /// Close it (an outbound connection: fail it, to reconnect), for this reason (logged).
    Close(std::borrow::Cow<'static, str>),
}

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
    /// request; the old segments of a payload being packed.
    segs: Vec<crate::mbuf::Seg>,
    /// Messages completed while a connection's queue was borrowed.
    done: Vec<crate::msg::MsgRef>,
    /// The iovecs of one `writev`.
    iov: event::IoVecBuf,
    /// The `(dc, node)` replies a quorum collects.
    targets: Vec<(usize, crate::ring::NodeIdx)>,
    /// Nodes a write is copied to; the owners of each key of a request in every rack.
    nodes: Vec<crate::ring::NodeIdx>,
    /// A remote DC's racks in the order a copy tries them.
    order: Vec<(usize, crate::ring::NodeIdx)>,
    /// The arguments of a request being rewritten (`rewrite.rs`).
    plan_args: Vec<crate::proto::redis::absolute::Arg>,
    /// Ranges in a reply (the members an SPOP popped).
    ranges: Vec<std::ops::Range<usize>>,
    /// The tokens of a request's keys.
    hashes: Vec<Option<u32>>,
    /// A split request's keys and values, and its plan.
    keys: Vec<crate::proto::Span>,
    vals: Vec<crate::proto::Span>,
    plan: crate::cluster::SplitPlan,
    /// Requests a peer connection skipped past (they got no reply).
    sent: Vec<crate::conn::Sent>,
    /// Requests of a connection that failed, to be answered with the error.
    failed: Vec<crate::msg::MsgRef>,
    /// A collector part's segments on their way to the request they answer.
    part_segs: Vec<crate::mbuf::Seg>,
    /// The spare reply vector a child's reply leaves behind (`relay_to_parent`).
    relay_segs: Vec<crate::mbuf::Seg>,
    /// A collector's votes, re-counted by the values alone (read repair).
    votes: Vec<crate::cluster::quorum::Vote>,
    /// The replies of a versioned read (read repair), parsed.
    versioned: Vec<Option<crate::proto::redis::repair::Versioned>>,
}

/// Connections that have something to do at the next flush.
#[derive(Default)]
struct Work {
    /// Datastore and peer connections with requests to write.
    dirty_servers: Vec<u32>,
    /// Clients (and incoming peers) whose front reply is done.
    dirty_clients: Vec<u32>,
    /// Clients over the hard limit of unread replies, closed after this iteration's writes.
    overflowing: Vec<u32>,
    /// Clients paused because `max_msgs` message objects were in use.
    msg_waiters: Vec<u32>,
}

/// The datastore connection slots, by pool.
#[derive(Default)]
struct Pools {
    main: Vec<u32>,
    /// Opened when the first RESP3 client arrives.
    resp3: Vec<u32>,
    /// One more connection of each pool (RESP2, RESP3), opened when first needed, that never
    /// carries a script: `SCRIPT KILL`/`FUNCTION KILL` reach a datastore busy with a
    /// script through it, and so does a client's request while its own connection waits
    /// behind one (`outbound.rs`, `pick_datastore`).
    urgent: [Option<u32>; 2],
    /// A script has been sent to the datastore: requests check whether one holds their
    /// connection (until then, that look-up is skipped).
    scripts_seen: bool,
}

impl Pools {
    /// The `i`-th datastore connection of all pools (main, RESP3, urgent), for loops that
    /// may reconnect as they go.
    fn nth(&self, i: usize) -> Option<u32> {
        let (m, r) = (self.main.len(), self.resp3.len());
        if i < m {
            Some(self.main[i])
        } else if i < m + r {
            Some(self.resp3[i - m])
        } else {
            self.urgent.iter().flatten().nth(i - m - r).copied()
        }
    }
}

/// What an operator controls about the node at run time.
struct NodeCtl {
    state: NodeState,
    read_consistency: crate::types::Consistency,
    write_consistency: crate::types::Consistency,
    /// `/set_timeout_factor`: request timeouts are multiplied by it.
    timeout_factor: u64,
    /// `read_repairs_enabled` / `/read_repairs/...`: kept and reported; read repair itself
    /// is not built yet (issue 14), so nothing else reads it.
    read_repairs: bool,
    /// Writes held while the node is WRITES_ONLY.
    held: route::HeldQueue,
}

/// The process's life: start-up, ids, shutdown.
struct Life {
    next_client_id: u64,
    shutdown_at: Option<Instant>,
    /// When the last request was dispatched (shutdown waits for a quiet moment).
    last_request: Instant,
    signals: Option<nix::sys::signalfd::SignalFd>,
}

pub struct Core {
    cfg: Config,
    opts: Options,
    proto: Protocol,
    now: Instant,
    /// `now` as nanoseconds since `started`: the clock messages are stamped with.
    now_ns: u64,
    started: Instant,
    /// Sockets: epoll, the connection slab, listeners, TLS.
    rx: Reactor,
    /// Messages and the mbufs their bytes live in.
    bufs: crate::msg::Buffers,
    /// Every node of the cluster (index 0 is this node, then the seeds, SPEC §3.4) and what
    /// routing derives from it.
    place: crate::cluster::Placement,
    /// The peers: connections to them, how each looks from here, hints, gossip.
    mesh: membership::Mesh,
    pools: Pools,
    work: Work,
    /// Reply collectors (quorums, split requests), pooled; see `collect`.
    coll: collect::Collectors,
    scratch: Scratch,
    node: NodeCtl,
    /// Counters and histograms.
    stats: crate::stats::counters::Stats,
    life: Life,
    /// The bodies of the scripts `SCRIPT LOAD` brought here, by SHA1 (`rewrite.rs`).
    scripts: crate::proto::redis::script::ScriptCache,
    /// The buffer memory budget (`memory.rs`).
    mem: memory::Memory,
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
        Ok(Core {
            place: crate::cluster::Placement::new(crate::ring::Topology::from_config(&cfg)),
            mesh: membership::Mesh::default(),
            proto,
            now,
            now_ns: 0,
            started: now,
            rx: Reactor::new()?,
            bufs: crate::msg::Buffers::new(mbuf_size, max_msgs),
            pools: Pools::default(),
            work: Work::default(),
            coll: Default::default(),
            scratch: Scratch::default(),
            node: NodeCtl {
                state: NodeState::Joining,
                read_consistency: cfg.read_consistency,
                write_consistency: cfg.write_consistency,
                timeout_factor: 1,
                read_repairs: cfg.read_repairs_enabled,
                held: Default::default(),
            },
            stats: crate::stats::counters::Stats::new(now),
            life: Life {
                next_client_id: 1,
                shutdown_at: None,
                last_request: now,
                signals: None,
            },
            scripts: Default::default(),
            mem: memory::Memory::new(
                cfg.limits
                    .max_buffer_memory
                    .map_or_else(memory::default_budget, |b| {
                        usize::try_from(b).unwrap_or(usize::MAX)
                    }),
            ),
            cfg,
            opts,
        })
    }

    /// Check the loop's own invariants (after every iteration in debug builds, so in every
    /// end-to-end test), without allocating: the mbuf pool's counts, every connection's
    /// queues consistent with each other.
    pub fn check_invariants(&self) -> Result<(), String> {
        self.bufs.mbufs.check_counts()?;
        for conn in self.rx.conns() {
            if let Some(inb) = conn.inbound() {
                if inb.queue.len() > crate::conn::MAX_OUTSTANDING + 1 {
                    return Err(format!("{}: {} queued", conn.role.name(), inb.queue.len()));
                }
            }
            if let Some(out) = conn.outbound() {
                if out.expired > out.out_q.len() {
                    return Err(format!(
                        "{}: {} expired of {} in flight",
                        conn.role.name(),
                        out.expired,
                        out.out_q.len()
                    ));
                }
                if let Some(l) = conn.peer_link() {
                    if l.out_ids.len() != out.out_q.len() {
                        return Err(format!(
                            "peer {}: {} frame ids for {} requests in flight",
                            l.node,
                            l.out_ids.len(),
                            out.out_q.len()
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    // ---- start-up ------------------------------------------------------------------------

    /// Bind the listeners and connect to the datastore. Errors name the address.
    pub fn start(&mut self) -> io::Result<()> {
        if self.cfg.security.secure_server_option != crate::conf::SecureOption::None {
            let t = crate::tls::PeerTls::load(&self.cfg.security.pem_key_file).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{e}; peer links are not started in the clear"),
                )
            })?;
            log_notice!(
                "peer links encrypted ({}) with TLS 1.3, the cluster key from {}",
                self.cfg.security.secure_server_option.name(),
                self.cfg.security.pem_key_file.display()
            );
            self.rx.peer_tls = Some(t);
            self.rx.peer_tls_required = self.cfg.limits.peer_tls_required;
        }
        let sig = event::signal_fd()?;
        self.rx.add_foreign(sig.as_raw_fd(), Role::Signals)?;
        self.life.signals = Some(sig);

        let listen = self.cfg.net.listen.clone();
        let backlog = self.cfg.net.backlog;
        let fd = bind(&listen, backlog)
            .map_err(|e| io::Error::new(e.kind(), format!("listen on {}: {e}", show(&listen))))?;
        self.add_listener(fd, Listener::Clients)?;
        log_notice!(
            "{} listening for {} clients on {}",
            self.cfg.pool_name,
            match self.proto {
                Protocol::Redis => "redis",
                Protocol::Memcache => "memcache",
            },
            show(&listen)
        );
        self.start_tls()?;
        if let Some(dl) = self.cfg.net.dyn_listen.clone() {
            let fd = bind(&dl, backlog).map_err(|e| {
                io::Error::new(e.kind(), format!("dyn_listen on {}: {e}", show(&dl)))
            })?;
            self.add_listener(fd, Listener::Peers)?;
            log_notice!("listening for peers on {}", show(&dl));
        }
        let stats = self.cfg.net.stats_listen.clone();
        let fd = bind(&stats, 128).map_err(|e| {
            io::Error::new(e.kind(), format!("stats_listen on {}: {e}", show(&stats)))
        })?;
        self.add_listener(fd, Listener::Stats)?;
        log_notice!("stats and admin HTTP on {}", show(&stats));
        if let (None, crate::conf::Listen::Tcp { addr, .. }) =
            (&self.cfg.security.admin_token, &stats)
        {
            if !addr.ip().is_loopback() {
                log_warn!(
                    "stats and admin HTTP on {} is not on loopback and has no admin_token: anyone who reaches it can change this node (state, consistency, peers); set admin_token or admin_token_file, or bind stats_listen to 127.0.0.1",
                    show(&stats)
                );
            }
        }

        let n = self.cfg.backend.datastore_connections.max(1) as usize;
        for slot in 0..n {
            let idx = self.new_datastore(PoolKind::Main, slot);
            self.pools.main.push(idx);
            // Dynomite never connects at all with `preconnect: false` (a quirk we fix): the
            // datastore is always connected at start.
            let next = self.out_connect(idx);
            self.out_act(idx, next);
        }
        // Admin mode (-x) opens no peer connections (SPEC §10.3).
        if self.opts.admin_op == 0 {
            self.connect_peers();
            self.start_seed_provider()?;
        }
        self.node.state = NodeState::Normal;
        Ok(())
    }

    fn add_listener(&mut self, fd: OwnedFd, kind: Listener) -> io::Result<()> {
        let idx = self
            .rx
            .insert(Conn::new(Role::Listener(kind), None, event::READ));
        self.rx.register(idx, fd, event::READ)?;
        self.rx.listeners.push(idx);
        Ok(())
    }

    // ---- the loop ------------------------------------------------------------------------

    /// Run until a shutdown signal has been handled and in-flight work is done.
    pub fn run(&mut self) -> io::Result<()> {
        loop {
            let timeout = self.next_timeout_ms();
            let n = self.rx.epoll.wait(timeout)?;
            self.now = Instant::now();
            self.now_ns = self.now.duration_since(self.started).as_nanos() as u64;
            for i in 0..n {
                let ev = self.rx.epoll.event(i);
                self.handle(ev);
            }
            self.flush();
            self.timers();
            self.flush();
            self.memory_check();
            debug_assert_eq!(self.check_invariants(), Ok(()));
            if self.shutdown_done() {
                return Ok(());
            }
        }
    }

    fn handle(&mut self, ev: event::Event) {
        // An event for a connection closed earlier in this batch is stale: skipped.
        let Some(idx) = self.rx.resolve(ev.token) else {
            return;
        };
        let Some(conn) = self.rx.conn(idx) else {
            return;
        };
        match conn.role {
            Role::Listener(Listener::Clients | Listener::TlsClients) => self.accept_clients(idx),
            Role::Listener(Listener::Peers) => self.accept_peers(idx),
            Role::Listener(Listener::Stats) => self.accept_stats(idx),
            Role::Signals => self.handle_signals(),
            Role::Seeds => self.seeds_event(),
            Role::Client(_) | Role::PeerIn(_) => self.in_event(idx, ev),
            Role::Datastore(_) | Role::PeerOut(_) => self.out_event(idx, ev),
            Role::Stats(_) => self.stats_event(idx, ev),
        }
    }

    /// Write everything that became ready: requests to datastores first, then replies.
    fn flush(&mut self) {
        while !self.work.dirty_servers.is_empty() || !self.work.dirty_clients.is_empty() {
            while let Some(idx) = self.work.dirty_servers.pop() {
                let next = self.out_flush(idx);
                self.out_act(idx, next);
            }
            while let Some(idx) = self.work.dirty_clients.pop() {
                let next = self.in_flush(idx);
                self.in_act(idx, next);
            }
        }
        while let Some(idx) = self.work.overflowing.pop() {
            let still_over = self
                .rx
                .conn(idx)
                .and_then(|c| c.inbound())
                .is_some_and(|c| c.pending_bytes > HARD_PENDING_BYTES);
            if still_over {
                self.stats.limits.closed_unread += 1;
                crate::log_warn!(
                    "closing a client that left more than {} MiB of replies unread",
                    HARD_PENDING_BYTES >> 20
                );
                self.in_close(idx, "over the limit of unread replies");
            }
        }
    }

    fn next_timeout_ms(&self) -> i32 {
        let mut next: Option<Instant> = self.life.shutdown_at;
        if let Some(deadline) = self.life.shutdown_at {
            let quiet = self.life.last_request + SHUTDOWN_QUIET;
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
        if let Some(t) = self.mesh.next_detect {
            consider(self.instant_of(t));
        }
        if self.cfg.peering.enable_gossip && !self.mesh.views.is_empty() {
            consider(self.instant_of(self.mesh.next_gossip));
        }
        if self.mesh.replaying {
            consider(self.now + Duration::from_millis(1));
        }
        if let Some(t) = self.rx.accept_paused_until {
            consider(t);
        }
        if let Some(t) = self.memory_deadline() {
            consider(self.instant_of(t));
        }
        // Writes held in WRITES_ONLY fail after the request timeout: wake up for that.
        if let Some(h) = self.node.held.front() {
            consider(match self.bufs.msgs.get(h.msg) {
                Some(m) => self.instant_of(m.t.queued + self.server_timeout_ns()),
                None => self.now,
            });
        }
        let peers = self.mesh.peers.iter().flatten();
        for &idx in self
            .pools
            .main
            .iter()
            .chain(self.pools.resp3.iter())
            .chain(self.pools.urgent.iter().flatten())
            .chain(peers)
        {
            if let Some(t) = self.out_next_deadline(idx) {
                consider(self.instant_of(t));
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
        if self.now >= self.stats.histo_reset_at {
            self.reset_histograms();
        }
        self.rx.resume_accepts(self.now);
        // Every connection the proxy sends on: datastore (RESP2, RESP3, urgent) and peers.
        // Indexed loops, since a timer may reconnect (no list is collected per iteration).
        let mut i = 0;
        while let Some(idx) = self.pools.nth(i) {
            let next = self.out_timers(idx);
            self.out_act(idx, next);
            i += 1;
        }
        for node in 0..self.mesh.peers.len() {
            for slot in 0..self.mesh.peers[node].len() {
                let idx = self.mesh.peers[node][slot];
                let next = self.out_timers(idx);
                self.out_act(idx, next);
            }
        }
        if !self.node.held.is_empty() {
            self.expire_held();
        }
        if !self.mesh.views.is_empty() {
            if self.now_ns >= self.mesh.next_gossip {
                self.mesh.next_gossip = self.gossip_round();
            }
            self.probe_peers();
            self.mesh.next_detect = self.detect_failures();
            self.mesh.replaying = self.replay_hints();
            if self.now_ns >= self.mesh.next_hint_sync {
                self.sync_hint_logs();
                self.mesh.next_hint_sync = self.now_ns + 1_000_000_000;
            }
        }
        if !self.work.msg_waiters.is_empty() && self.bufs.msgs.live() < self.bufs.msgs.max() {
            let waiters = std::mem::take(&mut self.work.msg_waiters);
            for idx in waiters {
                let next = self.in_resume(idx);
                self.in_act(idx, next);
            }
        }
    }

    pub fn reset_histograms(&mut self) {
        self.stats.reset_histograms(self.now);
    }

    /// The request timeout for the datastore, times the admin timeout factor.
    fn server_timeout(&self) -> Duration {
        Duration::from_millis(
            self.cfg
                .backend
                .timeout_ms
                .saturating_mul(self.node.timeout_factor),
        )
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
            let info = match self.life.signals.as_mut().map(|s| s.read_signal()) {
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
        if self.life.shutdown_at.is_some() {
            return;
        }
        self.life.shutdown_at = Some(self.now + SHUTDOWN_GRACE);
        for idx in std::mem::take(&mut self.rx.listeners) {
            self.rx.remove(idx, &mut self.bufs.mbufs);
        }
    }

    fn shutdown_done(&mut self) -> bool {
        let Some(deadline) = self.life.shutdown_at else {
            return false;
        };
        let busy = self
            .rx
            .conns()
            .any(|c| c.inbound().is_some_and(|i| !i.queue.is_empty()))
            || !self.node.held.is_empty()
            // Copies not yet written to a connected peer: replication is not done yet.
            || self.mesh.peers.iter().flatten().any(|&i| {
                self.rx
                    .conn(i)
                    .and_then(|c| c.outbound())
                    .is_some_and(|s| s.connected() && !s.in_q.is_empty())
            });
        if !busy && self.now.duration_since(self.life.last_request) >= SHUTDOWN_QUIET {
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
