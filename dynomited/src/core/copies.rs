//! Messages to other nodes: the connections to each peer, copies of a request framed as
//! dnode messages (replication, relays to the owner in another node of the rack, quorum
//! parts, failover reads), the proxy's own frames (probes, gossip, hints), and the
//! `/peer/...` admin calls.
//!
//! ```text
//!   send_copy(msg, node, DMSG_REQ | DMSG_REQ_FORWARD, parent?)
//!      ─► not to a peer that is DOWN, marked down, or still owed hints (they queue behind)
//!      ─► a connection to it: the client's (fd mod n) or, for a reply someone waits for, any
//!      ─► header segment + references to the request's segments (packed behind a backlog)
//!      ─► enqueue on that peer connection (outbound.rs)
//! ```
//!
//! A copy is its own message whose request is a fresh dnode header segment followed by
//! references to the original request's segments: replication copies no payload.

use super::Core;
use crate::conn::ServerState;
use crate::msg::MsgRef;
use crate::peer::{write_header, write_header_data, MsgType, FLAG_RESP3};
use crate::stats::http::PeerVerb;

impl Core {
    /// Connection slots to every other node, connected at once (reconnects back off).
    pub(super) fn connect_peers(&mut self) {
        self.mesh.peers = vec![Vec::new(); self.place.topo().nodes.len()];
        self.mesh.peer_down = vec![false; self.place.topo().nodes.len()];
        self.init_views();
        self.load_hint_logs();
        for node in 1..self.place.topo().nodes.len() {
            self.connect_node(node);
        }
    }

    /// The connections to one node (`local_peer_connections` or `remote_peer_connections`).
    pub(super) fn connect_node(&mut self, node: usize) {
        for slot in 0..self.peer_conns_wanted(node) {
            let idx = self.new_peer_slot(node, slot);
            self.mesh.peers[node].push(idx);
            self.out_start(idx);
        }
    }

    /// How many connections to `node` the config asks for (`local_peer_connections` or
    /// `remote_peer_connections`).
    pub(super) fn peer_conns_wanted(&self, node: usize) -> usize {
        let same_dc = self.place.topo().nodes[node].dc == self.place.topo().local().dc;
        if same_dc {
            self.cfg.peering.local_peer_connections
        } else {
            self.cfg.peering.remote_peer_connections
        }
        .max(1) as usize
    }

    /// A message carrying one dnode frame to `node` whose payload is `payload` (copied into
    /// the shared buffers): a `ty` header with `flags` and the `data` side channel. Nobody
    /// waits for its reply (it is swallowed). `None` when no message object is free.
    pub(super) fn frame_msg(
        &mut self,
        node: usize,
        ty: MsgType,
        flags: u8,
        data: &[u8],
        payload: &[u8],
    ) -> Option<MsgRef> {
        let m = self.bufs.msgs.alloc(self.now_ns, None)?;
        let id = self.mesh.frame_id();
        let same_dc = self.place.topo().nodes[node].dc == self.place.topo().local().dc;
        self.scratch.bytes.clear();
        write_header_data(
            &mut self.scratch.bytes,
            id,
            ty,
            flags,
            same_dc,
            data,
            payload.len(),
        );
        let segs = &mut self.scratch.segs;
        segs.clear();
        let mbufs = &mut self.bufs.mbufs;
        mbufs.append_shared(&mut self.bufs.shared, segs, &self.scratch.bytes);
        mbufs.append_shared(&mut self.bufs.shared, segs, payload);
        let len = self.scratch.bytes.len() + payload.len();
        let msg = self.bufs.msgs.get_mut(m).expect("fresh");
        std::mem::swap(&mut msg.req_segs, segs);
        msg.req_len = len;
        msg.swallow = true;
        msg.frame_id = id;
        Some(m)
    }

    /// Fail a connection that is up or connecting (its requests get the error); it is left
    /// Down, to reconnect on its back-off (or at once, if it was idle).
    pub(super) fn drop_conn(&mut self, idx: u32, why: &str) {
        let live = matches!(
            self.rx
                .conn(idx)
                .and_then(|c| c.outbound())
                .map(|s| s.state),
            Some(ServerState::Connected) | Some(ServerState::Connecting { .. })
        );
        if live {
            self.out_failed(idx, why);
        }
    }

    /// Rebuild a connection now: fail it if live, then connect unless that already began.
    pub(super) fn reconnect_now(&mut self, idx: u32, why: &str) {
        self.drop_conn(idx, why);
        let down = matches!(
            self.rx
                .conn(idx)
                .and_then(|c| c.outbound())
                .map(|s| s.state),
            Some(ServerState::Down { .. })
        );
        if down {
            self.out_start(idx);
        }
    }

    /// A client's read that the local-rack owner cannot serve (its datastore or its node is
    /// down) is served by the owner in another rack of this DC (server-side failover;
    /// Dynomite fails such reads). Returns false when it is not a client's read, or no such
    /// node is connected.
    pub(super) fn failover_read(&mut self, client: u32, mref: MsgRef) -> bool {
        let Some(msg) = self.bufs.msgs.get(mref) else {
            return false;
        };
        if msg.is_write || msg.peer.is_some() || msg.failed_over || self.mesh.peers.is_empty() {
            return false;
        }
        // A quorum's vote is not moved to another rack: that rack has a vote of its own.
        if msg.parent.is_some_and(|p| !self.is_split_parent(p)) {
            return false;
        }
        // Only while the request's bytes are still held: once written to the datastore they
        // are released, and a copy must carry every byte its header announces.
        let held: usize = msg.req_segs.iter().map(|s| s.len()).sum();
        if held != msg.req_len || held == 0 {
            return false;
        }
        let resp3 = self.client_of(client).is_some_and(|c| c.resp3);
        let hint = self.fd_hint(client);
        let h = self.key_hash(mref);
        let mut targets = std::mem::take(&mut self.scratch.nodes);
        self.place.other_racks(h, &mut targets);
        let served = targets
            .iter()
            .any(|&node| self.failover_to(hint, mref, node, resp3));
        self.scratch.nodes = targets;
        served
    }

    /// Send a client's read to `node`, if a connection to it is up.
    fn failover_to(&mut self, hint: usize, mref: MsgRef, node: usize, resp3: bool) -> bool {
        let connected = self.mesh.peers[node].iter().any(|&i| {
            self.rx
                .conn(i)
                .and_then(|c| c.outbound())
                .is_some_and(|s| s.state == ServerState::Connected)
        });
        if !connected
            || self
                .send_copy(hint, mref, node, MsgType::Req, resp3, Some(mref))
                .is_none()
        {
            return false;
        }
        if let Some(m) = self.bufs.msgs.get_mut(mref) {
            m.failed_over = true;
        }
        self.stats.read_failovers += 1;
        true
    }

    /// Queue a copy of `mref` to `node` as a `ty` frame. With `parent`, the copy's reply (or
    /// failure) goes to that message (the copy's `slot` says where, if it has a collector);
    /// without, it does not reach the client, as in Dynomite, and is only counted. `hint`
    /// (the client's descriptor) picks the connection. Returns the copy if it was queued.
    pub(super) fn send_copy(
        &mut self,
        hint: usize,
        mref: MsgRef,
        node: usize,
        ty: MsgType,
        resp3: bool,
        parent: Option<MsgRef>,
    ) -> Option<MsgRef> {
        // Not to a peer that is down, and not past the writes it missed: until its hints are
        // replayed, new writes queue behind them (callers keep them as hints) so it gets
        // every write in order, and reads go where the data is current.
        if self.mesh.peer_down.get(node).copied().unwrap_or(false)
            || self.peer_is_down(node)
            || self.has_hints(node)
        {
            return None;
        }
        let slots = self.mesh.peers.get(node).filter(|s| !s.is_empty())?;
        let fd = hint;
        // A client's copies keep to one connection (fd mod n, per-client order); a read served
        // for a client takes any usable connection.
        let usable = |core: &Core, sidx: u32| -> bool {
            // A peer that is down, or so slow that its queue is full, gets no copy: the copies
            // of a stalled peer must not use up max_msgs and stall this node's own clients.
            core.rx
                .conn(sidx)
                .and_then(|c| c.outbound())
                .is_some_and(|s| {
                    matches!(
                        s.state,
                        ServerState::Connected | ServerState::Connecting { .. }
                    ) && s.in_q.len() + s.out_q.len() - s.expired.min(s.out_q.len())
                        < PEER_MAX_QUEUE
                })
        };
        let preferred = slots[fd % slots.len()];
        let sidx = if usable(self, preferred) {
            preferred
        } else if parent.is_some() {
            slots.iter().copied().find(|&i| usable(self, i))?
        } else {
            return None;
        };
        let same_dc = self.place.topo().nodes[node].dc == self.place.topo().local().dc;
        let copy = self.bufs.msgs.alloc(self.now_ns, None)?;
        let id = self.mesh.frame_id();
        let Some(orig) = self.bufs.msgs.get(mref) else {
            self.bufs.msgs.free(copy);
            return None;
        };
        let payload_len = orig.req_len;
        let noreply = orig.req.noreply;
        let is_write = orig.is_write;
        debug_assert_eq!(
            orig.req_segs.iter().map(|s| s.len()).sum::<usize>(),
            payload_len,
            "a copy must carry every byte its header announces"
        );
        let flags = if resp3 { FLAG_RESP3 } else { 0 };
        self.scratch.bytes.clear();
        write_header(&mut self.scratch.bytes, id, ty, flags, same_dc, payload_len);
        let hdr_len = self.scratch.bytes.len();
        let segs = &mut self.scratch.segs;
        segs.clear();
        self.bufs
            .mbufs
            .append_shared(&mut self.bufs.shared, segs, &self.scratch.bytes);
        let backlog = self
            .rx
            .conn(sidx)
            .and_then(|c| c.outbound())
            .map_or(0, |s| s.in_q.len());
        let orig = self.bufs.msgs.get(mref).expect("checked above");
        if backlog >= PACK_AFTER {
            // The peer is not keeping up: its copies may wait long, and referencing the
            // client's read mbuf would pin a whole mbuf per copy. Pack the payload instead.
            self.bufs
                .mbufs
                .append_packed(&mut self.bufs.shared, segs, &orig.req_segs, payload_len);
        } else {
            // The header's segments hold their references already; the payload's get one each.
            let header_segs = segs.len();
            segs.extend_from_slice(&orig.req_segs);
            for seg in &segs[header_segs..] {
                self.bufs.mbufs.incref(seg.buf);
            }
        }
        let c = self.bufs.msgs.get_mut(copy).expect("fresh");
        std::mem::swap(&mut c.req_segs, segs);
        c.req_len = hdr_len + payload_len;
        c.is_write = is_write;
        c.swallow = parent.is_none();
        c.parent = parent;
        c.frame_id = id;
        // A memcached noreply request gets no reply from the peer either.
        c.req.noreply = noreply;
        self.stats.pool.peer_requests += 1;
        self.stats.pool.peer_request_bytes += (hdr_len + payload_len) as u64;
        self.enqueue(sidx, copy).then_some(copy)
    }
}

impl Core {
    /// `/peer/<up|down|reset>/<name>` (SPEC §7.2): `name` is a peer's host as in its seed;
    /// `all` resets every peer whatever the verb, as in Dynomite. DOWN keeps copies and
    /// failover reads away from the peer until UP; RESET drops its connections (their queued
    /// copies are counted as dropped) and reconnects at once. Returns how many peers matched.
    pub(super) fn peer_admin(&mut self, verb: PeerVerb, name: &str) -> usize {
        let all = name == "all";
        let verb = if all { PeerVerb::Reset } else { verb };
        let mut matched = 0;
        for node in 1..self.place.topo().nodes.len().min(self.mesh.peers.len()) {
            if !all
                && self.place.topo().nodes[node].name != name
                && self.place.topo().nodes[node].host != name
            {
                continue;
            }
            matched += 1;
            match verb {
                PeerVerb::Down => self.mesh.peer_down[node] = true,
                PeerVerb::Up => self.mesh.peer_down[node] = false,
                PeerVerb::Reset => {
                    self.mesh.peer_down[node] = false;
                    for i in 0..self.mesh.peers[node].len() {
                        let idx = self.mesh.peers[node][i];
                        self.reconnect_now(idx, "reset by the admin API");
                    }
                }
            }
            crate::log_notice!(
                "peer {}:{} ({}/{}) set {:?} by the admin API",
                self.place.topo().nodes[node].host,
                self.place.topo().nodes[node].port,
                self.place.topo().nodes[node].dc,
                self.place.topo().nodes[node].rack,
                verb
            );
        }
        matched
    }
}

/// Copies a peer connection may have waiting to be written before new copies carry their
/// payload packed in the shared buffer rather than references to the client's mbufs.
pub(super) const PACK_AFTER: usize = 32;

/// Copies one peer connection may have queued or in flight before more are dropped.
const PEER_MAX_QUEUE: usize = 20_000;
