//! The datastore role: connect (with back-off), write queued requests in one writev, match
//! replies first-in first-out, fail requests on close and on their own timeout.
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

use std::collections::VecDeque;
use std::io;
use std::time::{Duration, Instant};

use super::counters::Kind;
use super::{push_segs, Core, ReadOutcome, READ_BUDGET};
use crate::conn::{Conn, PeerOut, PoolKind, Role, RspParser, Sent, Server, ServerState, Who};
use crate::event::{self, Event};
use crate::mbuf::Seg;
use crate::msg::{MsgRef, MsgState, NO_AGG};
use crate::peer::{HeaderParse, MsgType};
use crate::proto::error::DynError;
use crate::proto::{Parse, Protocol, RspInfo};
use crate::{log_info, log_notice, log_warn};

const BACKOFF_START: Duration = Duration::from_secs(1);
/// Reconnect back-off cap for peers (Dynomite's MAX_WAIT_BEFORE_RECONNECT_IN_SECS).
const PEER_BACKOFF_CAP: Duration = Duration::from_secs(10);
/// A connection up at least this long that the datastore closes while idle is re-opened at
/// once (a datastore that closes every connection right away still gets the back-off).
const IDLE_RECONNECT_AFTER: Duration = Duration::from_secs(1);

impl Core {
    pub(super) fn new_server(
        &mut self,
        pool: PoolKind,
        slot: usize,
        peer: Option<Box<PeerOut>>,
    ) -> u32 {
        let proto = self.proto;
        let now = self.now;
        let server = Server {
            peer,
            pool,
            slot,
            state: ServerState::Down { retry_at: now },
            parser: RspParser::new(proto),
            in_q: Default::default(),
            out_q: Default::default(),
            wpos: 0,
            expired: 0,
            rsp_segs: Vec::new(),
            rsp_info: RspInfo::default(),
            rsp_len: 0,
            backoff: BACKOFF_START,
            connected_at: 0,
            reads: VecDeque::new(),
            rate_left: 0,
            rate_sec: u64::MAX,
            next_probe: 0,
        };
        self.insert(|_| Conn::new(Role::Server(Box::new(server)), None, 0))
    }

    /// Reconnect back-off cap: `server_retry_timeout` for the datastore, 10 s for peers.
    fn backoff_cap(&self, idx: u32) -> Duration {
        if self.peer_node(idx).is_some() {
            PEER_BACKOFF_CAP
        } else {
            Duration::from_millis(self.cfg.server_retry_timeout_ms.max(1000))
        }
    }

    /// The topology index of the peer a connection goes to; `None` for the datastore.
    pub(super) fn peer_node(&self, idx: u32) -> Option<usize> {
        self.conn(idx)?.server()?.peer.as_ref().map(|p| p.node)
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
            None => format!("datastore {}", self.cfg.server.name),
        }
    }

    /// Request timeout of a connection, times the admin timeout factor: `timeout` for the
    /// datastore; for peers Dynomite's `timeout` + 200 ms (same DC) or + 5000 ms (other DC).
    /// Writes to peers get [`PEER_WRITE_EXTRA_MS`] more (set per message in `enqueue`).
    pub(super) fn conn_timeout_ns(&self, idx: u32) -> u64 {
        let extra = match self
            .conn(idx)
            .and_then(|c| c.server())
            .and_then(|s| s.peer.as_ref())
        {
            None => 0,
            Some(p) if p.same_dc => 200,
            Some(_) => 5_000,
        };
        let ms = self.cfg.timeout_ms.saturating_add(extra);
        Duration::from_millis(ms.saturating_mul(self.timeout_factor)).as_nanos() as u64
    }

    /// Start a non-blocking connect; the proxy's own setup requests (AUTH, HELLO 3) are queued
    /// first so they precede every client request on the connection.
    pub(super) fn server_connect(&mut self, idx: u32) {
        let (res, addr) = match self.peer_node(idx) {
            Some(n) => match self.place.topo().nodes[n].addr {
                Some(a) => (event::tcp_connect(&a), Some(a)),
                None => (
                    Err(io::Error::new(io::ErrorKind::InvalidInput, "no address")),
                    None,
                ),
            },
            None => {
                let server = &self.cfg.server;
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
            Err(e) => {
                self.server_failed(idx, &format!("connect: {e}"));
                return;
            }
        };
        // A new socket in this slot: a new generation so stale events are ignored.
        let slot = &mut self.slots[idx as usize];
        slot.gen = slot.gen.wrapping_add(1);
        let interest = event::READ | event::WRITE;
        if let Err(e) = self.register(idx, &fd, interest) {
            self.server_failed(idx, &format!("register: {e}"));
            return;
        }
        let gen = self.slots[idx as usize].gen;
        let now_ns = self.now_ns;
        let tls = match self.peer_node(idx).zip(self.peer_tls.as_ref()) {
            Some((node, t)) => {
                let local = self.place.topo().local();
                let peer = &self.place.topo().nodes[node];
                let opt = self.cfg.secure_server_option;
                if crate::tls::link_encrypted(opt, &local.dc, &local.rack, &peer.dc, &peer.rack) {
                    match t.connect() {
                        Ok(c) => Some(Box::new(c)),
                        Err(e) => {
                            self.server_failed(idx, &e);
                            return;
                        }
                    }
                } else {
                    None
                }
            }
            None => None,
        };
        let pool = {
            let c = self.conn_mut(idx).expect("server slot");
            c.gen = gen;
            c.tls = tls;
            c.fd = Some(fd);
            c.addr = addr;
            c.interest = interest;
            let s = c.server_mut().expect("server role");
            s.state = ServerState::Connecting { since: now_ns };
            s.pool
        };
        self.server_setup_requests(idx, pool);
    }

    fn server_setup_requests(&mut self, idx: u32, pool: PoolKind) {
        if self.proto != Protocol::Redis || self.peer_node(idx).is_some() {
            return;
        }
        let mut setup: Vec<Vec<u8>> = Vec::new();
        if let Some(pass) = self.cfg.datastore_password.clone() {
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
            if let Some(s) = self.conn_mut(idx).and_then(|c| c.server_mut()) {
                s.in_q.push_front(mref);
            }
        }
    }

    /// Connecting failed or a live connection died: fail its requests, schedule a retry.
    pub(super) fn server_failed(&mut self, idx: u32, why: &str) {
        let now = self.now;
        let cap = self.backoff_cap(idx);
        let Some(conn) = self.slots[idx as usize].conn.as_mut() else {
            return;
        };
        let was_connected = matches!(conn.server().map(|s| s.state), Some(ServerState::Connected));
        if let Some(fd) = conn.fd.take() {
            let _ = self.epoll.delete(std::os::fd::AsRawFd::as_raw_fd(&fd));
        }
        conn.interest = 0;
        conn.tls = None;
        if let Some(b) = conn.rbuf.take() {
            self.bufs.mbufs.decref(b);
        }
        conn.rpos = 0;
        let slot_gen = &mut self.slots[idx as usize].gen;
        *slot_gen = slot_gen.wrapping_add(1);
        let conn = self.slots[idx as usize].conn.as_mut().expect("live");
        let s = conn.server_mut().expect("server role");
        // A healthy connection closed with nothing in flight (Redis's `timeout` closing an
        // idle client) is re-opened at once; requests wait for that connect instead of getting
        // the storage error for a whole back-off period. Failures back off as usual.
        let idle_close = was_connected
            && s.in_q.is_empty()
            && s.out_q.len() <= s.expired
            && self.now_ns.saturating_sub(s.connected_at) >= IDLE_RECONNECT_AFTER.as_nanos() as u64;
        let retry_in = if idle_close {
            Duration::ZERO
        } else {
            let b = s.backoff;
            s.backoff = (s.backoff * 2).min(cap);
            b
        };
        s.state = ServerState::Down {
            retry_at: now + retry_in,
        };
        s.parser.reset();
        s.wpos = 0;
        s.expired = 0;
        s.reads.clear();
        s.rsp_len = 0;
        self.bufs.mbufs.release(&mut s.rsp_segs);
        let (n_out, n_in) = (s.out_q.len() as i64, s.in_q.len() as i64);
        let out_bytes: i64 = s.out_q.iter().map(|e| i64::from(e.len)).sum();
        let in_bytes: usize = s
            .in_q
            .iter()
            .filter_map(|m| self.bufs.msgs.get(*m))
            .map(|m| m.req_len)
            .sum();
        let failed: Vec<MsgRef> = s
            .out_q
            .drain(..)
            .map(|e| e.msg)
            .chain(s.in_q.drain(..))
            .collect();
        let is_peer = s.peer.is_some();
        if let Some(p) = s.peer.as_mut() {
            p.header.reset();
            p.in_payload = false;
            p.out_ids.clear();
        }
        let target = self.target_name(idx);
        if was_connected && is_peer {
            log_warn!(
                "{target} connection lost ({why}); {} requests dropped; retry in {retry_in:?}",
                failed.len(),
            );
            self.stats.pool.peer_connections = self.stats.pool.peer_connections.saturating_sub(1);
            self.stats.pool.peer_ejected_at = super::counters::unix_ms();
            self.stats.pool.peer_ejects += 1;
        } else if was_connected {
            log_warn!(
                "{target} connection lost ({why}); {} requests failed; retry in {retry_in:?}",
                failed.len(),
            );
            self.stats.pool.server_ejects += 1;
            self.stats.server.server_ejected_at = super::counters::unix_ms();
        } else {
            log_info!("{target} unreachable ({why}); retry in {retry_in:?}");
        }
        let node = self.peer_node(idx);
        for mref in failed {
            self.fail_request(node, mref, DynError::StorageConnectionRefused);
        }
        if let Some(node) = node {
            self.peer_conn_lost(node);
        }
        let kind = self.kind(idx);
        self.stats.out_queue(kind, -n_out, -out_bytes);
        self.stats.in_queue(kind, -n_in, -(in_bytes as i64));
        if idle_close && self.shutdown_at.is_none() {
            self.server_connect(idx);
        }
    }
    /// Give a queued request the error, unless it was already answered (timed out) or freed.
    /// `node`: the peer it was sent to (None: the local datastore). A write copy a peer did
    /// not acknowledge is kept as a hint for it, unless a client was told it failed.
    fn fail_request(&mut self, node: Option<usize>, mref: MsgRef, err: DynError) {
        let Some(msg) = self.bufs.msgs.get(mref) else {
            return;
        };
        if msg.state == MsgState::Done {
            return;
        }
        if let Some(node) = node.filter(|_| msg.is_write && msg.frame_id != 0) {
            let acked_elsewhere = match msg.parent {
                None => true,
                Some(p) => self
                    .bufs
                    .msgs
                    .get(p)
                    .is_some_and(|p| p.agg != NO_AGG && !self.coll.is_split(p.agg)),
            };
            if acked_elsewhere {
                self.hint_copy(node, mref);
            }
        }
        let Some(msg) = self.bufs.msgs.get(mref) else {
            return;
        };
        if let Some(parent) = msg.parent {
            let slot = msg.slot;
            let local = msg.frame_id == 0;
            // A fragment's DC_ONE read the local datastore could not serve: another rack may.
            if local && !msg.is_write && self.bufs.msgs.get(parent).is_some_and(|p| p.agg != NO_AGG)
            {
                let split = self.is_split_parent(parent);
                if split {
                    if let Some(client) = self.client_idx_of(parent) {
                        if self.failover_read(client, mref) {
                            return;
                        }
                    }
                }
            }
            self.bufs.free_msg(mref);
            let err = if local {
                err
            } else {
                self.stats.pool.peer_forward_error += 1;
                DynError::PeerConnectionRefused
            };
            match self.bufs.msgs.get(parent) {
                Some(p) if p.agg != NO_AGG => self.agg_part_failed(parent, slot, err),
                Some(p) if p.state == MsgState::Pending => {
                    // The owner of a read in another node failed it: another rack may serve it.
                    let read = !p.is_write && p.peer.is_none();
                    if read {
                        if let Some(client) = self.client_idx_of(parent) {
                            if self.failover_read(client, parent) {
                                return;
                            }
                        }
                    }
                    self.answer_dyn_error(parent, err)
                }
                _ => {}
            }
            return;
        }
        if msg.owner.is_none() {
            // A swallowed copy, or the proxy's own setup request.
            self.bufs.free_msg(mref);
            return;
        }
        // A client's read the datastore could not serve: another rack may (failover).
        if let Some(owner) = msg.owner.filter(|o| self.live(*o)) {
            if self.failover_read(owner.idx, mref) {
                return;
            }
        }
        self.stats.server.server_dropped_requests += 1;
        self.answer_dyn_error(mref, err);
    }

    /// The client connection a request (or a child of one) answers, if it is still open.
    pub(super) fn client_idx_of(&self, mut mref: MsgRef) -> Option<u32> {
        for _ in 0..4 {
            let m = self.bufs.msgs.get(mref)?;
            if let Some(o) = m.owner {
                return self.live(o).then_some(o.idx);
            }
            mref = m.parent?;
        }
        None
    }

    /// Queue a request for the local datastore.
    pub(super) fn forward_local(&mut self, cidx: u32, mref: MsgRef, pool: PoolKind) {
        if pool == PoolKind::Resp3 && self.servers3.is_empty() {
            let n = self.cfg.datastore_connections.max(1) as usize;
            for slot in 0..n {
                let idx = self.new_server(PoolKind::Resp3, slot, None);
                self.servers3.push(idx);
                self.server_connect(idx);
            }
        }
        let fd = self.conn(cidx).map(|c| c.raw_fd()).unwrap_or(0).max(0) as usize;
        let list = match pool {
            PoolKind::Main => &self.servers,
            PoolKind::Resp3 => &self.servers3,
        };
        let sidx = list[fd % list.len()];
        let now = self.now_ns;
        let Some(s) = self.slots[sidx as usize]
            .conn
            .as_mut()
            .and_then(|c| c.server_mut())
        else {
            return self.answer_dyn_error(mref, DynError::StorageConnectionRefused);
        };
        match s.state {
            ServerState::Down { .. } => {
                if self.failover_read(cidx, mref) {
                    return;
                }
                self.answer_dyn_error(mref, DynError::StorageConnectionRefused);
                return;
            }
            ServerState::Connecting { .. } => s.in_q.push_back(mref),
            ServerState::Connected => {
                if s.in_q.is_empty() {
                    self.dirty_servers.push(sidx);
                }
                s.in_q.push_back(mref);
            }
        }
        let qlen = s.in_q.len() as u64;
        self.stats.histos.server_in_queue.record(qlen);
        self.stats.server.in_queue += 1;
        let timeout = self.server_timeout_ns();
        let msg = self.bufs.msgs.get_mut(mref).expect("live");
        msg.t_queued = now;
        msg.deadline = now + timeout;
        let bytes = msg.req_len as u64;
        if msg.is_write {
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
    /// at the next flush.
    /// Returns false (the message freed) if the slot has no connection.
    #[must_use]
    pub(super) fn enqueue(&mut self, sidx: u32, mref: MsgRef) -> bool {
        let now = self.now_ns;
        let timeout = self.conn_timeout_ns(sidx);
        let write_extra = PEER_WRITE_EXTRA_MS * 1_000_000 * self.timeout_factor;
        let Some(s) = self.slots[sidx as usize]
            .conn
            .as_mut()
            .and_then(|c| c.server_mut())
        else {
            self.bufs.free_msg(mref);
            return false;
        };
        if s.state == ServerState::Connected && s.in_q.is_empty() {
            self.dirty_servers.push(sidx);
        }
        s.in_q.push_back(mref);
        let qlen = s.in_q.len() as u64;
        let bytes = match self.bufs.msgs.get_mut(mref) {
            Some(m) => {
                m.t_queued = now;
                m.deadline = now + timeout + if m.is_write { write_extra } else { 0 };
                if !m.is_write && s.peer.is_some() && !m.req.noreply {
                    s.reads.push_back((mref, m.deadline));
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

    pub(super) fn server_event(&mut self, idx: u32, ev: Event) {
        let state = match self.conn(idx).and_then(|c| c.server()) {
            Some(s) => s.state,
            None => return,
        };
        if let ServerState::Connecting { .. } = state {
            if !(ev.writable || ev.error) {
                return;
            }
            let fd = self.conn(idx).map(|c| c.raw_fd()).unwrap_or(-1);
            match event::take_error(fd) {
                Ok(None) if !ev.error || ev.writable => self.server_connected(idx),
                Ok(Some(e)) | Err(e) => {
                    self.server_failed(idx, &e.to_string());
                    return;
                }
                Ok(None) => {
                    self.server_failed(idx, "connection error");
                    return;
                }
            }
        }
        if ev.readable || ev.error {
            self.server_read(idx);
        }
        if ev.writable {
            if let Err(e) = self.tls_flush(idx) {
                self.stats.pool.peer_err += 1;
                return self.server_failed(idx, &format!("TLS write: {e}"));
            }
            self.server_flush(idx);
        }
    }

    fn server_connected(&mut self, idx: u32) {
        let now_ns = self.now_ns;
        let Some(c) = self.conn_mut(idx) else { return };
        let who = Who(c).to_string();
        let s = c.server_mut().expect("server role");
        s.state = ServerState::Connected;
        s.backoff = BACKOFF_START;
        s.connected_at = now_ns;
        s.next_probe = now_ns;
        let pool = s.pool;
        let is_peer = s.peer.is_some();
        let target = self.target_name(idx);
        if is_peer {
            self.stats.pool.peer_connections += 1;
            log_notice!("{who}: connected to {target}");
            if let Some(node) = self.peer_node(idx) {
                self.peer_connected(node);
            }
        } else {
            log_notice!("{who}: connected to {target} ({pool:?} pool)");
        }
        self.set_interest(idx, event::READ);
        self.dirty_servers.push(idx);
    }

    fn server_read(&mut self, idx: u32) {
        for _ in 0..READ_BUDGET {
            match self.read_once(idx) {
                ReadOutcome::Data { full } => {
                    if !self.server_parse(idx) {
                        return;
                    }
                    if !full {
                        self.release_rbuf_if_parsed(idx);
                        return;
                    }
                }
                ReadOutcome::Eof => {
                    let kind = self.kind(idx);
                    self.stats.eof(kind);
                    return self.server_failed(idx, "closed by the other end");
                }
                ReadOutcome::Error(e) => {
                    let kind = self.kind(idx);
                    self.stats.err(kind);
                    return self.server_failed(idx, &e.to_string());
                }
                ReadOutcome::Empty | ReadOutcome::Gone => return self.release_rbuf_if_parsed(idx),
            }
        }
    }

    /// Parse replies and hand each to the request at the front of `out_q`. Returns false if
    /// the connection was closed (a broken reply stream).
    fn server_parse(&mut self, idx: u32) -> bool {
        let kind = self.kind(idx);
        loop {
            let Some(conn) = self.slots[idx as usize].conn.as_mut() else {
                return false;
            };
            let Some(buf) = conn.rbuf else { return true };
            let rpos = conn.rpos as usize;
            let filled = self.bufs.mbufs.len(buf);
            if rpos >= filled {
                return true;
            }
            let Role::Server(s) = &mut conn.role else {
                return false;
            };
            let chunk = &self.bufs.mbufs.filled(buf)[rpos..];
            let is_peer = s.peer.is_some();
            // A peer's reply is a dnode frame: its header first, then the datastore reply.
            if let Some(p) = s.peer.as_mut().filter(|p| !p.in_payload) {
                match p.header.feed(chunk) {
                    HeaderParse::Incomplete => {
                        conn.rpos = filled as u32;
                        return true;
                    }
                    HeaderParse::Done { consumed, header }
                        if header.ty == MsgType::Res && !header.encrypted() =>
                    {
                        p.in_payload = true;
                        p.reply_id = header.id;
                        conn.rpos = (rpos + consumed) as u32;
                        continue;
                    }
                    _ => {
                        self.stats.pool.peer_err += 1;
                        self.server_failed(idx, "sent something that is not a reply frame");
                        return false;
                    }
                }
            }
            let res = s.parser.feed(chunk, &mut s.rsp_info);
            let used = match res {
                Parse::Done { consumed } => consumed,
                Parse::Incomplete => chunk.len(),
            };
            s.rsp_segs.push(Seg {
                buf,
                start: rpos as u32,
                end: (rpos + used) as u32,
            });
            s.rsp_len += used;
            self.bufs.mbufs.incref(buf);
            conn.rpos = (rpos + used) as u32;
            if let Parse::Done { .. } = res {
                if let Some(p) = s.peer.as_mut() {
                    p.in_payload = false;
                }
                let info = std::mem::take(&mut s.rsp_info);
                if info.broken {
                    let kind = self.kind(idx);
                    self.stats.err(kind);
                    self.server_failed(idx, "unparseable reply");
                    return false;
                }
                if info.is_push {
                    self.bufs.mbufs.release(&mut s.rsp_segs);
                    s.rsp_len = 0;
                    continue;
                }
                // Peer replies carry the request's frame id: a reply older than the oldest
                // request is dropped; requests older than the reply got none and are failed.
                let mut skipped: Vec<Sent> = Vec::new();
                let mut drop_reply = false;
                if let Some(p) = s.peer.as_mut() {
                    while p.out_ids.front().is_some_and(|&fid| fid < p.reply_id) {
                        p.out_ids.pop_front();
                        if let Some(m) = s.out_q.pop_front() {
                            skipped.push(m);
                        }
                        s.expired = s.expired.saturating_sub(1);
                    }
                    if p.out_ids.front() == Some(&p.reply_id) {
                        p.out_ids.pop_front();
                    } else {
                        drop_reply = true; // older than every request we wait for
                    }
                }
                if drop_reply {
                    self.bufs.mbufs.release(&mut s.rsp_segs);
                    s.rsp_len = 0;
                }
                if !skipped.is_empty() || drop_reply {
                    let node = self.peer_node(idx);
                    self.stats.pool.peer_mismatch_requests += skipped.len() as u64;
                    let kind = self.kind(idx);
                    let bytes: i64 = skipped.iter().map(|e| i64::from(e.len)).sum();
                    self.stats.out_queue(kind, -(skipped.len() as i64), -bytes);
                    for e in skipped {
                        self.fail_request(node, e.msg, DynError::PeerConnectionRefused);
                    }
                    if drop_reply {
                        continue;
                    }
                }
                let Some(conn) = self.slots[idx as usize].conn.as_mut() else {
                    return false;
                };
                let Role::Server(s) = &mut conn.role else {
                    return false;
                };
                let front = s.out_q.pop_front();
                s.expired = s.expired.saturating_sub(1);
                let len = s.rsp_len;
                s.rsp_len = 0;
                let Some(Sent {
                    msg: mref,
                    len: sent_len,
                }) = front
                else {
                    self.bufs.mbufs.release(&mut s.rsp_segs);
                    log_warn!("datastore sent a reply nobody asked for; closing");
                    self.server_failed(idx, "unexpected reply");
                    return false;
                };
                self.stats.out_queue(kind, -1, -i64::from(sent_len));
                let now = self.now_ns;
                match self.bufs.msgs.get_mut(mref) {
                    Some(msg) if msg.state == MsgState::Pending => {
                        std::mem::swap(&mut msg.rsp_segs, &mut s.rsp_segs);
                        msg.rsp_len = len;
                        msg.rsp = info;
                        let us = now.saturating_sub(msg.t_sent) / 1000;
                        let probe =
                            msg.parent.is_none() && msg.slot == super::membership::PROBE_SLOT;
                        if probe {
                            // A liveness probe's answer: not client traffic.
                        } else if is_peer {
                            self.stats.histos.cross_zone_latency.record(us);
                            self.stats.pool.peer_responses += 1;
                            self.stats.pool.peer_response_bytes += len as u64;
                        } else if msg.is_write {
                            self.stats.histos.server_latency.record(us);
                            self.stats.server.write_responses += 1;
                            self.stats.server.write_response_bytes += len as u64;
                        } else {
                            self.stats.histos.server_latency.record(us);
                            self.stats.server.read_responses += 1;
                            self.stats.server.read_response_bytes += len as u64;
                        }
                        if info.is_error && msg.owner.is_none() && msg.parent.is_none() && !is_peer
                        {
                            log_warn!(
                                "datastore {} refused the proxy's setup request: {}",
                                self.cfg.server.name,
                                String::from_utf8_lossy(&first_line(
                                    &self.bufs.mbufs,
                                    &msg.rsp_segs
                                ))
                            );
                        }
                        if info.is_error {
                            self.stats.pool.forward_error += 1;
                        }
                        self.complete(mref);
                    }
                    _ => {
                        // Timed out and answered already, or freed: the late reply is dropped.
                        self.bufs.mbufs.release(&mut s.rsp_segs);
                    }
                }
            }
        }
    }

    /// Write queued requests: everything in `in_q` that fits one writev, repeated until the
    /// socket is full or the queue is empty.
    pub(super) fn server_flush(&mut self, idx: u32) {
        loop {
            let Some(conn) = self.slots[idx as usize].conn.as_ref() else {
                return;
            };
            let fd = conn.raw_fd();
            let Role::Server(s) = &conn.role else { return };
            if s.state != ServerState::Connected || s.in_q.is_empty() {
                if s.state == ServerState::Connected {
                    self.set_interest(idx, event::READ);
                }
                return;
            }
            // Cross-DC connections send at most `conn_msg_rate` messages a second.
            let limit = match self.rate_budget(idx) {
                Some(0) => return self.set_interest(idx, event::READ),
                Some(n) => n as usize,
                None => usize::MAX,
            };
            let Some(Role::Server(s)) = self.slots[idx as usize].conn.as_ref().map(|c| &c.role)
            else {
                return;
            };
            self.iov.clear();
            let mut skip = s.wpos;
            let mut msgs = 0usize;
            for &mref in s.in_q.iter() {
                let Some(msg) = self.bufs.msgs.get(mref) else {
                    continue;
                };
                if msgs >= limit {
                    break;
                }
                msgs += 1;
                if !push_segs(&mut self.iov, &self.bufs.mbufs, &msg.req_segs, &mut skip) {
                    break;
                }
            }
            let want = self.iov.bytes();
            if want == 0 {
                self.server_pop_written(idx, 0);
                continue;
            }
            match self.writev_conn(idx, fd) {
                Ok(n) => {
                    self.server_pop_written(idx, n);
                    if n < want {
                        self.set_interest(idx, event::READ | event::WRITE);
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.set_interest(idx, event::READ | event::WRITE);
                    return;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let kind = self.kind(idx);
                    self.stats.err(kind);
                    self.server_failed(idx, &e.to_string());
                    return;
                }
            }
        }
    }

    /// Move fully written requests from `in_q` to `out_q`, releasing their request bytes.
    fn server_pop_written(&mut self, idx: u32, n: usize) {
        let now = self.now_ns;
        let kind = self.kind(idx);
        let (mut popped, mut popped_bytes, mut pushed, mut pushed_bytes) = (0i64, 0i64, 0i64, 0i64);
        let Some(conn) = self.slots[idx as usize].conn.as_mut() else {
            return;
        };
        let Role::Server(s) = &mut conn.role else {
            return;
        };
        let wait_histogram = self.stats.wait_histogram(kind);
        let mut left = n + s.wpos;
        while let Some(&mref) = s.in_q.front() {
            let Some(msg) = self.bufs.msgs.get_mut(mref) else {
                s.in_q.pop_front();
                popped += 1;
                continue;
            };
            let len = msg.req_len;
            if left < len {
                break;
            }
            left -= len;
            s.in_q.pop_front();
            popped += 1;
            popped_bytes += len as i64;
            // A write copy keeps its bytes until the peer answers: if it never does, they
            // become a hint (membership.rs). Behind a backlog of unanswered copies they are
            // packed into the shared buffers, so a stalled peer does not pin client mbufs.
            if !(s.peer.is_some() && msg.is_write && !msg.req.noreply) {
                self.bufs.mbufs.release(&mut msg.req_segs);
            } else if s.out_q.len() >= super::cluster::PACK_AFTER {
                let mut old = std::mem::take(&mut self.scratch.segs);
                old.clear();
                std::mem::swap(&mut old, &mut msg.req_segs);
                self.bufs.mbufs.append_packed(
                    &mut self.bufs.shared,
                    &mut msg.req_segs,
                    &old,
                    msg.req_len,
                );
                self.bufs.mbufs.release(&mut old);
                self.scratch.segs = old;
            }
            msg.t_sent = now;
            wait_histogram.record(now.saturating_sub(msg.t_queued) / 1000);
            if msg.req.noreply {
                // Memcached noreply: nothing will come back; the client gets nothing.
                self.scratch.done.push(mref);
                continue;
            }
            if let Some(p) = s.peer.as_mut() {
                p.out_ids.push_back(msg.frame_id);
            }
            s.out_q.push_back(Sent {
                msg: mref,
                len: u32::try_from(len).unwrap_or(u32::MAX),
            });
            pushed += 1;
            pushed_bytes += len as i64;
        }
        s.wpos = left;
        if s.rate_sec != u64::MAX {
            s.rate_left = s.rate_left.saturating_sub(popped as u32);
        }
        let out_len = s.out_q.len() as u64;
        self.stats.in_queue(kind, -popped, -popped_bytes);
        self.stats.out_queue(kind, pushed, pushed_bytes);
        self.stats.queues(kind, None, Some(out_len), None);
        if !self.scratch.done.is_empty() {
            let mut done = std::mem::take(&mut self.scratch.done);
            for mref in done.drain(..) {
                self.complete(mref);
            }
            self.scratch.done = done;
        }
    }

    /// The earliest moment something about this connection needs the loop's attention.
    pub(super) fn server_next_deadline(&self, idx: u32) -> Option<Instant> {
        let s = self.conn(idx)?.server()?;
        let t = self.conn_timeout_ns(idx);
        match s.state {
            // No reconnects while shutting down: nothing to wake up for.
            ServerState::Down { .. } if self.shutdown_at.is_some() => None,
            ServerState::Down { retry_at } => Some(retry_at),
            ServerState::Connecting { since } => Some(self.instant_of(since + t)),
            ServerState::Connected => {
                // Everything before `expired` is answered already; out_q is older than in_q.
                let head = s
                    .out_q
                    .get(s.expired)
                    .map(|e| &e.msg)
                    .or(s.in_q.front())
                    .and_then(|m| self.bufs.msgs.get(*m))
                    .map(|m| due(m, t));
                let probe = s.peer.as_ref().map(|_| s.next_probe);
                let read = match (s.reads.front().map(|&(_, d)| d), probe) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                // Throttled by conn_msg_rate: wake at the next second to send again.
                let throttled = (s.rate_sec != u64::MAX && s.rate_left == 0 && !s.in_q.is_empty())
                    .then(|| (s.rate_sec + 1) * 1_000_000_000);
                let read = match (read, throttled) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                let next = match (head, read) {
                    (Some(a), Some(b)) => a.min(b),
                    (a, b) => a.or(b)?,
                };
                Some(self.instant_of(next))
            }
        }
    }

    /// Reconnect when the back-off is over; fail a connect that takes too long; time out
    /// requests past their deadline.
    pub(super) fn server_timers(&mut self, idx: u32) {
        let now_ns = self.now_ns;
        let timeout = self.conn_timeout_ns(idx);
        let Some(s) = self.conn(idx).and_then(|c| c.server()) else {
            return;
        };
        match s.state {
            ServerState::Down { retry_at } => {
                if self.now >= retry_at && self.shutdown_at.is_none() {
                    self.server_connect(idx);
                }
                return;
            }
            ServerState::Connecting { since } => {
                if since + timeout <= now_ns {
                    let kind = self.kind(idx);
                    self.stats.timedout(kind, 0);
                    self.server_failed(idx, "connect timed out");
                }
                return;
            }
            ServerState::Connected => {}
        }
        // A cross-DC connection throttled by conn_msg_rate sends again in a new second.
        let throttled = s.rate_sec != u64::MAX
            && s.rate_left == 0
            && !s.in_q.is_empty()
            && now_ns / 1_000_000_000 > s.rate_sec;
        if throttled {
            self.dirty_servers.push(idx);
        }
        // A read to a peer past its deadline (with writes of longer deadlines ahead of it):
        // the peer is not answering; Dynomite's rule, close the connection and fail all.
        if self.peer_read_overdue(idx, now_ns) {
            let kind = self.kind(idx);
            self.stats.timedout(kind, 1);
            return self.server_failed(idx, "a read timed out");
        }
        let Some(s) = self.conn(idx).and_then(|c| c.server()) else {
            return;
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
            return self.server_failed(idx, "timed out with a request half written");
        }
        let mut timed_out = 0usize;
        let (mut unqueued, mut unqueued_bytes) = (0i64, 0i64);
        // Written requests: answer with the error; the entry stays to swallow the late reply.
        loop {
            let Some(s) = self.conn(idx).and_then(|c| c.server()) else {
                return;
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
            if let Some(s) = self.slots[idx as usize]
                .conn
                .as_mut()
                .and_then(|c| c.server_mut())
            {
                s.expired += 1;
            }
            timed_out += 1;
            self.fail_request(self.peer_node(idx), mref, DynError::StorageTimeout);
        }
        // Queued, unwritten requests: taken out of the queue and answered.
        loop {
            let Some(s) = self.slots[idx as usize]
                .conn
                .as_mut()
                .and_then(|c| c.server_mut())
            else {
                return;
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
            self.fail_request(self.peer_node(idx), mref, DynError::StorageTimeout);
        }
        let kind = self.kind(idx);
        self.stats.in_queue(kind, -unqueued, -unqueued_bytes);
        if timed_out == 0 {
            return;
        }
        self.stats.timedout(kind, timed_out as u64);
        log_warn!(
            "{}: {timed_out} requests timed out after {:?}",
            self.target_name(idx),
            Duration::from_nanos(self.conn_timeout_ns(idx))
        );
        let expired = self
            .conn(idx)
            .and_then(|c| c.server())
            .map_or(0, |s| s.expired);
        if expired >= MAX_EXPIRED {
            self.server_failed(idx, "the datastore stopped answering");
        }
    }
}

impl Core {
    pub(super) fn kind(&self, idx: u32) -> Kind {
        match self
            .conn(idx)
            .and_then(|c| c.server())
            .and_then(|s| s.peer.as_ref())
        {
            None => Kind::Datastore,
            Some(p) if p.same_dc => Kind::LocalPeer,
            Some(_) => Kind::RemotePeer,
        }
    }

    /// For a cross-DC peer connection with `conn_msg_rate`: how many messages it may still
    /// send this second (refilled each new second); `None`: not limited.
    fn rate_budget(&mut self, idx: u32) -> Option<u32> {
        let rate = self.cfg.conn_msg_rate;
        let sec = self.now_ns / 1_000_000_000;
        let s = self.slots[idx as usize]
            .conn
            .as_mut()
            .and_then(|c| c.server_mut())?;
        if rate == 0 || s.peer.as_ref().is_none_or(|p| p.same_dc) {
            return None;
        }
        if s.rate_sec != sec {
            s.rate_sec = sec;
            s.rate_left = rate;
        }
        Some(s.rate_left)
    }

    /// Drop answered reads from the front of a peer connection's read list; true if the
    /// first read still waiting is past its deadline.
    fn peer_read_overdue(&mut self, idx: u32, now_ns: u64) -> bool {
        let Some(s) = self.slots[idx as usize]
            .conn
            .as_mut()
            .and_then(|c| c.server_mut())
        else {
            return false;
        };
        while let Some(&(mref, deadline)) = s.reads.front() {
            let waiting = self
                .bufs
                .msgs
                .get(mref)
                .is_some_and(|m| m.state == MsgState::Pending);
            if !waiting {
                s.reads.pop_front();
                continue;
            }
            return deadline <= now_ns;
        }
        false
    }
}

/// When a queued request times out: its own deadline, or for a request queued without one
/// (the proxy's setup requests) the connection's timeout after it was queued.
fn due(m: &crate::msg::Msg, timeout: u64) -> u64 {
    if m.deadline == u64::MAX {
        m.t_queued + timeout
    } else {
        m.deadline
    }
}

/// Dynomite's extra time for a write sent to a peer (SPEC §9.4): a quorum write waits on
/// other nodes' datastores, and a copy gives up later than a read.
const PEER_WRITE_EXTRA_MS: u64 = 20_000;

/// Timed-out requests a datastore connection keeps waiting for before it is given up
/// (Dynomite's MAX_CONN_QUEUE_SIZE).
const MAX_EXPIRED: usize = 20_000;

fn first_line(pool: &crate::mbuf::MbufPool, segs: &[Seg]) -> Vec<u8> {
    let mut out = Vec::new();
    crate::mbuf::gather(pool, segs, 0, 200, &mut out);
    if let Some(p) = out.iter().position(|&b| b == b'\r' || b == b'\n') {
        out.truncate(p);
    }
    out
}
