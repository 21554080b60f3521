//! The outbound roles at work: datastore connections and connections to peers. Connect
//! (with back-off), queue requests, write them in one writev, time them out, reconnect. The
//! replies are matched in `replies.rs`.
//!
//! ```text
//!   Down{retry_at} ──timer──► Connecting ──writable, no SO_ERROR──► Connected
//!        ▲                        │ error                               │ EOF / error / broken reply
//!        └────────────────────────┴─────────────────────────────────────┘  (queued requests get
//!                                    back-off 1 s doubling to the cap        the storage error)
//! ```
//!
//! A request that times out gets its error reply at once; its place in `out_q` stays so the
//! late reply, when it comes, is matched to it and dropped (its generation is stale by then).
//! Every step returns a [`Next`]; `out_act` is the one place that acts on it, and
//! `out_failed` the one place an outbound connection is closed.

use std::io;
use std::time::Duration;

use super::{Core, Next};
use crate::conn::{
    due, Conn, Datastore, Outbound, PeerLink, PeerOut, PoolKind, Role, Sent, ServerState, Who,
    BACKOFF_START,
};
use crate::event::{self, Event, IoVecs};
use crate::msg::{Lane, MsgRef};
use crate::proto::error::DynError;
use crate::proto::Protocol;
use crate::stats::counters::Kind;
use crate::{log_info, log_notice, log_warn};

/// How long a script must have held a datastore connection before other requests go
/// around it (a short script is waited for, as one redis-server would).
pub const STALL_AFTER_NS: u64 = 100_000_000;

/// Reconnect back-off cap for peers (Dynomite's MAX_WAIT_BEFORE_RECONNECT_IN_SECS).
const PEER_BACKOFF_CAP: Duration = Duration::from_secs(10);
/// A connection up at least this long that the datastore closes while idle is re-opened at
/// once (a datastore that closes every connection right away still gets the back-off).
const IDLE_RECONNECT_AFTER: Duration = Duration::from_secs(1);
/// Dynomite's extra time for a write sent to a peer (SPEC §9.4): a quorum write waits on
/// other nodes' datastores, and a copy gives up later than a read.
const PEER_WRITE_EXTRA_MS: u64 = 20_000;
/// Timed-out requests a datastore connection keeps waiting for before it is given up
/// (Dynomite's MAX_CONN_QUEUE_SIZE).
const MAX_EXPIRED: usize = 20_000;

impl Core {
    /// A new, unconnected datastore connection slot (number `slot` of `pool`).
    pub(super) fn new_datastore(&mut self, pool: PoolKind, slot: usize) -> u32 {
        let out = Outbound::new(self.proto, slot, self.now_ns);
        let role = Role::Datastore(Box::new(Datastore { out, pool }));
        self.rx.insert(Conn::new(role, None, 0))
    }

    /// A new, unconnected connection slot (number `slot`) to peer `node`.
    pub(super) fn new_peer_slot(&mut self, node: usize, slot: usize) -> u32 {
        let out = Outbound::new(self.proto, slot, self.now_ns);
        let link = PeerLink::new(node, self.place.same_dc(node));
        let role = Role::PeerOut(Box::new(PeerOut { out, link }));
        self.rx.insert(Conn::new(role, None, 0))
    }

    /// The sending side of a datastore or peer connection.
    pub(super) fn outbound_of(&mut self, idx: u32) -> Option<&mut Outbound> {
        self.rx.conn_mut(idx)?.outbound_mut()
    }

    /// Whether a datastore or peer connection is up.
    pub(super) fn is_connected(&self, idx: u32) -> bool {
        self.rx
            .conn(idx)
            .and_then(|c| c.outbound())
            .is_some_and(|s| s.connected())
    }

    /// Reconnect back-off cap: `server_retry_timeout` for the datastore, 10 s for peers.
    fn backoff_cap(&self, idx: u32) -> Duration {
        if self.peer_node(idx).is_some() {
            PEER_BACKOFF_CAP
        } else {
            Duration::from_millis(self.cfg.backend.server_retry_timeout_ms.max(1000))
        }
    }

    /// The topology index of the peer a connection goes to; `None` for the datastore.
    pub(super) fn peer_node(&self, idx: u32) -> Option<usize> {
        self.rx.conn(idx)?.peer_link().map(|p| p.node)
    }

    /// Which counters a connection's traffic feeds.
    pub(super) fn kind(&self, idx: u32) -> Kind {
        match self.rx.conn(idx).and_then(|c| c.peer_link()) {
            None => Kind::Datastore,
            Some(p) if p.same_dc => Kind::LocalPeer,
            Some(_) => Kind::RemotePeer,
        }
    }

    /// What a connection talks to, for log lines: the datastore's name or the peer's.
    pub(super) fn target_name(&self, idx: u32) -> String {
        match self.peer_node(idx) {
            Some(n) => {
                let node = &self.place.topo().nodes[n];
                format!(
                    "peer {}:{} ({}/{})",
                    node.host, node.port, node.dc, node.rack
                )
            }
            None => format!("datastore {}", self.cfg.backend.server.name),
        }
    }

    /// Request timeout of a connection, times the admin timeout factor: `timeout` for the
    /// datastore; for peers Dynomite's `timeout` + 200 ms (same DC) or + 5000 ms (other DC).
    /// Writes to peers get [`PEER_WRITE_EXTRA_MS`] more (set per message in `enqueue`).
    pub(super) fn conn_timeout_ns(&self, idx: u32) -> u64 {
        let extra = match self.kind(idx) {
            Kind::Datastore => 0,
            Kind::LocalPeer => 200,
            Kind::RemotePeer => 5_000,
        };
        let ms = self.cfg.backend.timeout_ms.saturating_add(extra);
        Duration::from_millis(ms.saturating_mul(self.node.timeout_factor)).as_nanos() as u64
    }

    /// Start a non-blocking connect; the proxy's own setup requests (AUTH, HELLO 3) are queued
    /// first so they precede every client request on the connection.
    pub(super) fn out_connect(&mut self, idx: u32) -> Next {
        let node = self.peer_node(idx);
        let (res, addr) = match node {
            Some(n) => match self.place.topo().nodes[n].addr {
                Some(a) => (event::tcp_connect(&a), Some(a)),
                None => (
                    Err(io::Error::new(io::ErrorKind::InvalidInput, "no address")),
                    None,
                ),
            },
            None => {
                let server = &self.cfg.backend.server;
                let res = match (&server.unix, &server.addr) {
                    (Some(p), _) => event::unix_connect(p),
                    (None, Some(a)) => event::tcp_connect(a),
                    (None, None) => Err(io::Error::new(io::ErrorKind::InvalidInput, "no address")),
                };
                (res, server.addr)
            }
        };
        let fd = match res {
            Ok(fd) => fd,
            Err(e) => return Next::Close(format!("connect: {e}").into()),
        };
        let tls = match node.zip(self.rx.peer_tls.as_ref()) {
            Some((node, t)) => {
                let local = self.place.topo().local();
                let peer = &self.place.topo().nodes[node];
                let opt = self.cfg.security.secure_server_option;
                if crate::tls::link_encrypted(opt, &local.dc, &local.rack, &peer.dc, &peer.rack) {
                    match t.connect() {
                        Ok(c) => Some(Box::new(c)),
                        Err(e) => return Next::Close(e.into()),
                    }
                } else {
                    None
                }
            }
            // The datastore over TLS: the handshake runs as the loop reads and writes.
            None if node.is_none() => match self.rx.certs.datastore.as_ref().map(|d| d.connect()) {
                Some(Ok(c)) => Some(Box::new(c)),
                Some(Err(e)) => return Next::Close(e.into()),
                None => None,
            },
            None => None,
        };
        // A new socket in this slot: a new generation so stale events are ignored.
        if let Err(e) = self.rx.attach(idx, fd, event::READ | event::WRITE) {
            return Next::Close(format!("register: {e}").into());
        }
        let now_ns = self.now_ns;
        let Some(c) = self.rx.conn_mut(idx) else {
            return Next::Go;
        };
        c.tls = tls;
        c.addr = addr;
        let pool = match &mut c.role {
            Role::Datastore(d) => {
                d.out.state = ServerState::Connecting { since: now_ns };
                d.pool
            }
            Role::PeerOut(p) => {
                p.out.state = ServerState::Connecting { since: now_ns };
                return Next::Go;
            }
            _ => return Next::Go,
        };
        self.setup_requests(idx, pool);
        Next::Go
    }

    /// The one place an outbound connection's fate is acted on: a failed one is closed, its
    /// requests get the error, and it reconnects on its back-off.
    pub(super) fn out_act(&mut self, idx: u32, next: Next) {
        if let Next::Close(why) = next {
            self.out_failed(idx, &why);
        }
    }

    /// A node on host `ip` has just connected to us: it is up (a peer that restarted, most
    /// likely), so every connection of ours to a peer on that host that is waiting out its
    /// back-off is retried now, with the back-off reset. Without this, a peer that flaps is
    /// reached only up to 10 s after it is back, while the writes it misses pile up as hints.
    pub(super) fn retry_peers_at(&mut self, ip: std::net::IpAddr) {
        let now = self.now_ns;
        for node in 1..self.mesh.peers.len() {
            let at_ip = self.place.topo().nodes[node]
                .addr
                .is_some_and(|a| a.ip() == ip);
            if !at_ip || self.place.topo().retired[node] {
                continue;
            }
            for &sidx in &self.mesh.peers[node] {
                let Some(s) = self.rx.conn_mut(sidx).and_then(|c| c.outbound_mut()) else {
                    continue;
                };
                if let ServerState::Down { retry_at } = &mut s.state {
                    *retry_at = (*retry_at).min(now);
                    s.backoff = crate::conn::BACKOFF_START;
                }
            }
        }
    }

    /// Connect a slot now, failing it (to retry on its back-off) if that cannot start.
    pub(super) fn out_start(&mut self, idx: u32) {
        let next = self.out_connect(idx);
        self.out_act(idx, next);
    }

    /// The proxy's own requests that open a datastore connection: AUTH with
    /// `datastore_password`, HELLO 3 for the RESP3 pool.
    fn setup_requests(&mut self, idx: u32, pool: PoolKind) {
        if self.proto != Protocol::Redis {
            return;
        }
        let mut setup: Vec<Vec<u8>> = Vec::new();
        if let Some(pass) = self.cfg.backend.datastore_password.clone() {
            setup.push(crate::client::encode(&[b"AUTH", pass.as_bytes()]));
        }
        if pool == PoolKind::Resp3 {
            setup.push(crate::client::encode(&[&b"HELLO"[..], b"3"]));
        }
        // Pushed to the front in reverse so they go out in order.
        for cmd in setup.into_iter().rev() {
            let Some(mref) = self.bufs.msgs.alloc(self.now_ns, None) else {
                log_warn!("max_msgs reached; datastore setup request not sent");
                continue;
            };
            let msg = self.bufs.msgs.get_mut(mref).expect("fresh");
            self.bufs.mbufs.append_bytes(&mut msg.req_segs, &cmd);
            msg.req_len = cmd.len();
            if let Some(s) = self.outbound_of(idx) {
                s.in_q.push_front(mref);
            }
        }
    }

    /// Connecting failed or a live connection died: fail its requests, schedule a retry.
    /// The one place an outbound connection is closed.
    pub(super) fn out_failed(&mut self, idx: u32, why: &str) {
        let cap = self.backoff_cap(idx);
        let was_connected = self.is_connected(idx);
        self.rx.close_socket(idx, &mut self.bufs.mbufs);
        let now_ns = self.now_ns;
        let Some((s, link)) = self.rx.conn_mut(idx).and_then(|c| c.outbound_parts()) else {
            return;
        };
        // A healthy connection closed with nothing in flight (Redis's `timeout` closing an
        // idle client) is re-opened at once; requests wait for that connect instead of getting
        // the storage error for a whole back-off period. Failures back off as usual.
        let idle_close = was_connected
            && s.in_q.is_empty()
            && s.out_q.len() <= s.expired
            && now_ns.saturating_sub(s.connected_at) >= IDLE_RECONNECT_AFTER.as_nanos() as u64;
        let retry_in = if idle_close {
            Duration::ZERO
        } else {
            let b = s.backoff;
            s.backoff = (s.backoff * 2).min(cap);
            b
        };
        s.state = ServerState::Down {
            retry_at: now_ns + retry_in.as_nanos() as u64,
        };
        s.reset_stream(&mut self.bufs.mbufs);
        let mut failed = std::mem::take(&mut self.scratch.failed);
        failed.clear();
        let (n_out, out_bytes, n_in, in_bytes) = s.drain(&self.bufs.msgs, &mut failed);
        let is_peer = link.is_some();
        if let Some(l) = link {
            l.reset_stream();
        }
        let target = self.target_name(idx);
        if was_connected && is_peer {
            log_warn!(
                "{target} connection lost ({why}); {} requests dropped; retry in {retry_in:?}",
                failed.len(),
            );
            self.stats.pool.peer_connections = self.stats.pool.peer_connections.saturating_sub(1);
            self.stats.pool.peer_ejected_at = crate::stats::counters::unix_ms();
            self.stats.pool.peer_ejects += 1;
        } else if was_connected {
            log_warn!(
                "{target} connection lost ({why}); {} requests failed; retry in {retry_in:?}",
                failed.len(),
            );
            self.stats.pool.server_ejects += 1;
            self.stats.server.server_ejected_at = crate::stats::counters::unix_ms();
        } else {
            log_info!("{target} unreachable ({why}); retry in {retry_in:?}");
        }
        let node = self.peer_node(idx);
        for &mref in &failed {
            self.fail_request(node, mref, DynError::StorageConnectionRefused);
        }
        failed.clear();
        self.scratch.failed = failed;
        if let Some(node) = node {
            self.peer_conn_lost(node);
        }
        let kind = self.kind(idx);
        self.stats.out_queue(kind, -n_out, -out_bytes);
        self.stats.in_queue(kind, -n_in, -in_bytes);
        if idle_close && self.life.shutdown_at.is_none() {
            self.out_start(idx);
        }
    }

    /// Queue a request for the local datastore.
    /// The datastore connection a request of `lane` goes on: the client's own of `pool` (by
    /// its fd), unless a script holds that one. The urgent connection takes `SCRIPT KILL`
    /// and `FUNCTION KILL` always (else they would wait behind the script they are meant to
    /// end), and any other request that is not a script itself while a script written
    /// [`STALL_AFTER_NS`] ago heads the client's connection, if the client has nothing older
    /// outstanding (so its requests still run in the order it sent them). The datastore
    /// answers those at once with its `-BUSY` error, as it answers its own clients.
    fn pick_datastore(&mut self, cidx: u32, mref: MsgRef, pool: PoolKind, lane: Lane) -> u32 {
        let fd = self.fd_hint(cidx);
        let list = match pool {
            PoolKind::Main => &self.pools.main,
            PoolKind::Resp3 => &self.pools.resp3,
        };
        let own = list[fd % list.len()];
        let now = self.now_ns;
        let stalled = |core: &Core| {
            core.rx
                .conn(own)
                .and_then(|c| c.outbound())
                .is_some_and(|s| s.stalled(&core.bufs.msgs, now, STALL_AFTER_NS))
        };
        let urgent = match lane {
            Lane::Script => {
                self.pools.scripts_seen = true;
                false
            }
            // Until a script has gone to the datastore, no connection can be held by one.
            Lane::Shared => {
                self.pools.scripts_seen && stalled(self) && self.oldest_outstanding(cidx, mref)
            }
            Lane::Urgent => true,
        };
        if !urgent {
            return own;
        }
        let slot = usize::from(pool == PoolKind::Resp3);
        if let Some(idx) = self.pools.urgent[slot] {
            return idx;
        }
        let idx = self.new_datastore(pool, 0);
        self.pools.urgent[slot] = Some(idx);
        self.out_start(idx);
        idx
    }

    /// Whether `mref` is the oldest request its connection (a client or a peer) still
    /// waits on.
    fn oldest_outstanding(&mut self, cidx: u32, mref: MsgRef) -> bool {
        self.inbound_of(cidx)
            .and_then(|c| c.queue.front().copied())
            .is_some_and(|front| front == mref)
    }

    pub(super) fn forward_local(&mut self, cidx: u32, mref: MsgRef, pool: PoolKind) {
        if pool == PoolKind::Resp3 && self.pools.resp3.is_empty() {
            let n = self.cfg.backend.datastore_connections.max(1) as usize;
            for slot in 0..n {
                let idx = self.new_datastore(PoolKind::Resp3, slot);
                self.pools.resp3.push(idx);
                self.out_start(idx);
            }
        }
        let now = self.now_ns;
        let timeout = self.server_timeout_ns();
        let Some(msg) = self.bufs.msgs.get_mut(mref) else {
            return;
        };
        msg.t.queued = now;
        msg.t.deadline = now + timeout;
        let (bytes, write, lane) = (msg.req_len as u64, msg.is_write, msg.lane);
        let sidx = self.pick_datastore(cidx, mref, pool, lane);
        let Some(s) = self.rx.conn_mut(sidx).and_then(|c| c.outbound_mut()) else {
            return self.answer_dyn_error(mref, DynError::StorageConnectionRefused);
        };
        match s.state {
            ServerState::Down { .. } => {
                if !self.failover_read(cidx, mref) {
                    self.answer_dyn_error(mref, DynError::StorageConnectionRefused);
                }
                return;
            }
            ServerState::Connecting { .. } => s.in_q.push_back(mref),
            ServerState::Connected => {
                if s.in_q.is_empty() {
                    self.work.dirty_servers.push(sidx);
                }
                s.in_q.push_back(mref);
            }
        }
        let qlen = s.in_q.len() as u64;
        self.stats.histos.server_in_queue.record(qlen);
        self.stats.server.in_queue += 1;
        if write {
            self.stats.server.write_requests += 1;
            self.stats.server.write_request_bytes += bytes;
            self.stats.histos.payload_size.record(bytes);
        } else {
            self.stats.server.read_requests += 1;
            self.stats.server.read_request_bytes += bytes;
        }
        self.stats.server.in_queue_bytes += bytes;
    }

    /// Queue a request on a peer connection that is connected or connecting; it is written
    /// at the next flush. Returns false (the message freed) if the slot has no connection.
    #[must_use]
    pub(super) fn enqueue(&mut self, sidx: u32, mref: MsgRef) -> bool {
        let now = self.now_ns;
        let timeout = self.conn_timeout_ns(sidx);
        let write_extra = PEER_WRITE_EXTRA_MS * 1_000_000 * self.node.timeout_factor;
        let Some((s, link)) = self.rx.conn_mut(sidx).and_then(|c| c.outbound_parts()) else {
            self.bufs.free_msg(mref);
            return false;
        };
        if s.connected() && s.in_q.is_empty() {
            self.work.dirty_servers.push(sidx);
        }
        s.in_q.push_back(mref);
        let qlen = s.in_q.len() as u64;
        let bytes = match self.bufs.msgs.get_mut(mref) {
            Some(m) => {
                m.t.queued = now;
                m.t.deadline = now + timeout + if m.is_write { write_extra } else { 0 };
                if let Some(l) = link.filter(|_| !m.is_write && !m.req.noreply) {
                    l.reads.push_back((mref, m.t.deadline));
                }
                m.req_len as i64
            }
            None => 0,
        };
        let kind = self.kind(sidx);
        self.stats.in_queue(kind, 1, bytes);
        self.stats.queues(kind, Some(qlen), None, None);
        true
    }

    pub(super) fn out_event(&mut self, idx: u32, ev: Event) {
        let Some(state) = self.outbound_of(idx).map(|s| s.state) else {
            return;
        };
        if let ServerState::Connecting { .. } = state {
            if !(ev.writable || ev.error) {
                return;
            }
            let fd = self.rx.conn(idx).map(|c| c.raw_fd()).unwrap_or(-1);
            match event::take_error(fd) {
                Ok(None) if !ev.error || ev.writable => self.out_connected(idx),
                Ok(Some(e)) | Err(e) => {
                    return self.out_act(idx, Next::Close(e.to_string().into()))
                }
                Ok(None) => return self.out_act(idx, Next::Close("connection error".into())),
            }
        }
        if ev.readable || ev.error {
            if let Next::Close(why) = self.out_read(idx) {
                return self.out_failed(idx, &why);
            }
        }
        if ev.writable {
            let next = match self.rx.tls_flush(idx) {
                Err(e) => {
                    self.stats.pool.peer_err += 1;
                    Next::Close(format!("TLS write: {e}").into())
                }
                Ok(()) => self.out_flush(idx),
            };
            self.out_act(idx, next);
        }
    }

    fn out_connected(&mut self, idx: u32) {
        let now_ns = self.now_ns;
        let target = self.target_name(idx);
        let Some(c) = self.rx.conn_mut(idx) else {
            return;
        };
        let who = Who(c).to_string();
        let pool = match &c.role {
            Role::Datastore(d) => Some(d.pool),
            _ => None,
        };
        let Some((s, link)) = c.outbound_parts() else {
            return;
        };
        s.state = ServerState::Connected;
        s.backoff = BACKOFF_START;
        s.connected_at = now_ns;
        let node = link.map(|l| {
            l.next_probe = now_ns;
            l.node
        });
        match (node, pool) {
            (Some(node), _) => {
                self.stats.pool.peer_connections += 1;
                log_notice!("{who}: connected to {target}");
                self.peer_connected(node);
            }
            (None, pool) => log_notice!("{who}: connected to {target} ({:?} pool)", pool),
        }
        self.rx.set_interest(idx, event::READ);
        self.work.dirty_servers.push(idx);
    }

    /// Write queued requests: everything in `in_q` that fits one writev, repeated until the
    /// socket is full or the queue is empty.
    pub(super) fn out_flush(&mut self, idx: u32) -> Next {
        loop {
            let Some(s) = self.rx.conn(idx).and_then(|c| c.outbound()) else {
                return Next::Go;
            };
            if !s.connected() || s.in_q.is_empty() {
                if s.connected() {
                    self.rx.set_interest(idx, event::READ);
                }
                return Next::Go;
            }
            // Cross-DC connections send at most `conn_msg_rate` messages a second.
            let limit = match self.rate_budget(idx) {
                Some(0) => {
                    self.rx.set_interest(idx, event::READ);
                    return Next::Go;
                }
                Some(n) => n as usize,
                None => usize::MAX,
            };
            let Some(s) = self.rx.conn(idx).and_then(|c| c.outbound()) else {
                return Next::Go;
            };
            let mut iov = IoVecs::new(&mut self.scratch.iov);
            s.gather(&self.bufs.msgs, &self.bufs.mbufs, limit, &mut iov);
            let want = iov.bytes();
            if want == 0 {
                drop(iov);
                self.out_pop_written(idx, 0);
                continue;
            }
            let res = self.rx.writev(idx, &iov);
            drop(iov);
            match res {
                Ok(n) => {
                    self.out_pop_written(idx, n);
                    if n < want {
                        self.rx.set_interest(idx, event::READ | event::WRITE);
                        return Next::Go;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.rx.set_interest(idx, event::READ | event::WRITE);
                    return Next::Go;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let kind = self.kind(idx);
                    self.stats.err(kind);
                    return Next::Close(e.to_string().into());
                }
            }
        }
    }

    /// Move fully written requests from `in_q` to `out_q` (see [`Outbound::pop_written`]).
    fn out_pop_written(&mut self, idx: u32, n: usize) {
        let now = self.now_ns;
        let kind = self.kind(idx);
        let Some((s, link)) = self.rx.conn_mut(idx).and_then(|c| c.outbound_parts()) else {
            return;
        };
        let mut done = std::mem::take(&mut self.scratch.done);
        let w = s.pop_written(
            n,
            link,
            &mut self.bufs,
            now,
            self.stats.wait_histogram(kind),
            &mut done,
            &mut self.scratch.segs,
        );
        let out_len = s.out_q.len() as u64;
        self.stats.in_queue(kind, -w.popped, -w.popped_bytes);
        self.stats.out_queue(kind, w.pushed, w.pushed_bytes);
        self.stats.queues(kind, None, Some(out_len), None);
        for mref in done.drain(..) {
            self.complete(mref);
        }
        self.scratch.done = done;
    }

    /// The earliest moment (loop clock ns) something about this connection needs the loop's
    /// attention.
    pub(super) fn out_next_deadline(&self, idx: u32) -> Option<u64> {
        let conn = self.rx.conn(idx)?;
        let s = conn.outbound()?;
        let link = conn.peer_link();
        let t = self.conn_timeout_ns(idx);
        match s.state {
            // No reconnects while shutting down: nothing to wake up for.
            ServerState::Down { .. } if self.life.shutdown_at.is_some() => None,
            ServerState::Down { retry_at } => Some(retry_at),
            ServerState::Connecting { since } => Some(since + t),
            ServerState::Connected => {
                // Everything before `expired` is answered already; out_q is older than in_q.
                let head = s.oldest(&self.bufs.msgs).map(|m| due(m, t));
                let mut next = head;
                let mut consider = |v: Option<u64>| {
                    if let Some(v) = v {
                        next = Some(next.map_or(v, |n| n.min(v)));
                    }
                };
                if let Some(l) = link {
                    consider(l.reads.front().map(|&(_, d)| d));
                    consider(Some(l.next_probe));
                    // Throttled by conn_msg_rate: wake at the next second to send again.
                    if l.throttled(!s.in_q.is_empty()) {
                        consider(Some((l.rate_sec + 1) * 1_000_000_000));
                    }
                }
                next
            }
        }
    }

    /// Reconnect when the back-off is over; fail a connect that takes too long; time out
    /// requests past their deadline.
    pub(super) fn out_timers(&mut self, idx: u32) -> Next {
        let now_ns = self.now_ns;
        let timeout = self.conn_timeout_ns(idx);
        let Some(s) = self.rx.conn(idx).and_then(|c| c.outbound()) else {
            return Next::Go;
        };
        match s.state {
            ServerState::Down { retry_at } => {
                if now_ns >= retry_at && self.life.shutdown_at.is_none() {
                    return self.out_connect(idx);
                }
                return Next::Go;
            }
            ServerState::Connecting { since } => {
                if since + timeout <= now_ns {
                    let kind = self.kind(idx);
                    self.stats.timedout(kind, 0);
                    return Next::Close("connect timed out".into());
                }
                return Next::Go;
            }
            ServerState::Connected => {}
        }
        // A cross-DC connection throttled by conn_msg_rate sends again in a new second.
        let queued = !s.in_q.is_empty();
        let throttled = self
            .rx
            .conn(idx)
            .and_then(|c| c.peer_link())
            .is_some_and(|l| l.throttled(queued) && now_ns / 1_000_000_000 > l.rate_sec);
        if throttled {
            self.work.dirty_servers.push(idx);
        }
        // A read to a peer past its deadline (with writes of longer deadlines ahead of it):
        // the peer is not answering; Dynomite's rule, close the connection and fail all.
        let overdue = match self.rx.conn_mut(idx).map(|c| &mut c.role) {
            Some(Role::PeerOut(p)) => p.link.read_overdue(&self.bufs.msgs, now_ns),
            _ => false,
        };
        if overdue {
            let kind = self.kind(idx);
            self.stats.timedout(kind, 1);
            return Next::Close("a read timed out".into());
        }
        let Some(s) = self.rx.conn(idx).and_then(|c| c.outbound()) else {
            return Next::Go;
        };
        // A request the datastore stopped reading halfway can neither be taken back nor
        // answered: the connection is dead (Dynomite's rule for every timeout).
        let stuck = s.wpos > 0
            && s.in_q
                .front()
                .and_then(|m| self.bufs.msgs.get(*m))
                .is_some_and(|m| due(m, timeout) <= now_ns);
        if stuck {
            let kind = self.kind(idx);
            self.stats.timedout(kind, 0);
            return Next::Close("timed out with a request half written".into());
        }
        let node = self.peer_node(idx);
        let mut timed_out = 0usize;
        let (mut unqueued, mut unqueued_bytes) = (0i64, 0i64);
        // Written requests: answer with the error; the entry stays to swallow the late reply.
        loop {
            let Some(s) = self.rx.conn_mut(idx).and_then(|c| c.outbound_mut()) else {
                return Next::Go;
            };
            let Some(&Sent { msg: mref, .. }) = s.out_q.get(s.expired) else {
                break;
            };
            if self
                .bufs
                .msgs
                .get(mref)
                .is_some_and(|m| due(m, timeout) > now_ns)
            {
                break;
            }
            s.expired += 1;
            timed_out += 1;
            self.fail_request(node, mref, DynError::StorageTimeout);
        }
        // Queued, unwritten requests: taken out of the queue and answered.
        loop {
            let Some(s) = self.rx.conn_mut(idx).and_then(|c| c.outbound_mut()) else {
                return Next::Go;
            };
            if s.wpos > 0 {
                break;
            }
            let Some(&mref) = s.in_q.front() else { break };
            if self
                .bufs
                .msgs
                .get(mref)
                .is_some_and(|m| due(m, timeout) > now_ns)
            {
                break;
            }
            s.in_q.pop_front();
            timed_out += 1;
            unqueued += 1;
            unqueued_bytes += self.bufs.msgs.get(mref).map_or(0, |m| m.req_len as i64);
            self.fail_request(node, mref, DynError::StorageTimeout);
        }
        let kind = self.kind(idx);
        self.stats.in_queue(kind, -unqueued, -unqueued_bytes);
        if timed_out == 0 {
            return Next::Go;
        }
        self.stats.timedout(kind, timed_out as u64);
        log_warn!(
            "{}: {timed_out} requests timed out after {:?}",
            self.target_name(idx),
            Duration::from_nanos(self.conn_timeout_ns(idx))
        );
        let expired = self.outbound_of(idx).map_or(0, |s| s.expired);
        if expired >= MAX_EXPIRED {
            return Next::Close("the datastore stopped answering".into());
        }
        Next::Go
    }

    /// For a cross-DC peer connection with `conn_msg_rate`: how many messages it may still
    /// send this second (refilled each new second); `None`: not limited.
    fn rate_budget(&mut self, idx: u32) -> Option<u32> {
        let rate = self.cfg.peering.conn_msg_rate;
        let sec = self.now_ns / 1_000_000_000;
        match self.rx.conn_mut(idx).map(|c| &mut c.role) {
            Some(Role::PeerOut(p)) if rate != 0 && !p.link.same_dc => {
                Some(p.link.rate_budget(rate, sec))
            }
            _ => None,
        }
    }
}
