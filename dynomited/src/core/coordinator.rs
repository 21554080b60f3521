//! The coordinator role: a client's request is placed on the ring, sent to the owners the
//! consistency level calls for, and answered from their replies (SPEC §4). The decisions are
//! `cluster`'s (pure, unit tested); this file carries them out.
//!
//! ```text
//!  client request ─► multi-key spanning nodes? ──yes──► split.rs: one fragment per owner
//!        │                                                   (each coordinated like this)
//!        └──► Placement::plan ─► One { owner, replicate }   the owner in the local rack
//!                                    │                      answers (here, or relayed from
//!                                    │                      its node); a write is copied,
//!                                    │                      swallowed, to every other rack
//!                                    │                      and to one rack per remote DC
//!                                └─► Quorum { each, .. }    the owner in every rack of the
//!                                                           local DC (every DC: `each`)
//!                                                           answers into a collector
//! ```
//!
//! Requests that come from other nodes are not coordinated: a DMSG_REQ runs on the local
//! datastore (the owner role, `route.rs`); a DMSG_REQ_FORWARD is fanned out to the racks of
//! this DC at DC_ONE (the forwarder role, [`Core::forward_dc`]).

use super::collect::Collect;
use super::route::Dispatch;
use super::Core;
use crate::cluster::{effective_level, Plan};
use crate::conn::PoolKind;
use crate::msg::MsgRef;
use crate::peer::MsgType;
use crate::proto::error::DynError;
use crate::proto::redis::cmd;
use crate::proto::{Protocol, Span};
use crate::ring::NodeIdx;
use crate::types::Consistency;

impl Core {
    /// The consistency a client's request runs at: the connection's (`dyno_config`), else
    /// the node's current read or write level.
    pub(super) fn level_for(&mut self, client: u32, write: bool) -> Consistency {
        let own = self.client_of(client).and_then(|c| c.consistency);
        own.unwrap_or(if write {
            self.node.write_consistency
        } else {
            self.node.read_consistency
        })
    }

    /// The token of a request's first key; `None` for a keyless request or an empty routing
    /// key (served by the local node, as in Dynomite). Not computed when every rack has one
    /// node (the answer could not matter).
    pub(super) fn key_hash(&mut self, mref: MsgRef) -> Option<u32> {
        if !self.place.needs_hash() {
            return Some(0);
        }
        let span = self.bufs.msgs.get(mref)?.req.keys.first().copied()?;
        self.span_hash(mref, span)
    }

    /// The token of the key at `span` of a request, hashing its tagged part.
    pub(super) fn span_hash(&mut self, mref: MsgRef, span: Span) -> Option<u32> {
        if !self.bufs.req_bytes(mref, span, &mut self.scratch.key) {
            return None;
        }
        crate::ring::hash_tagged(self.cfg.hash, &self.scratch.key, self.cfg.hash_tag)
    }

    /// The datastore pool a client's requests use.
    pub(super) fn pool_of(resp3: bool) -> PoolKind {
        if resp3 {
            PoolKind::Resp3
        } else {
            PoolKind::Main
        }
    }

    /// Route a client's request (or one fragment of it) by key. Returns `Forward` when the
    /// message itself goes to the local datastore; everything else is done here.
    pub(super) fn coordinate(
        &mut self,
        client: u32,
        mref: MsgRef,
        write: bool,
        by_key: bool,
    ) -> Dispatch {
        let resp3 = self.client_of(client).is_some_and(|c| c.resp3);
        let (noreply, effect) = self.bufs.msgs.get(mref).map_or((false, false), |m| {
            (m.req.noreply, m.effect != crate::msg::Effect::None)
        });
        let asked = self.level_for(client, write);
        let mut level = effective_level(asked, by_key, noreply, self.place.nodes());
        // A write replicated as its effect runs once (effects.rs): at DC_ONE, and its copies
        // go out when its reply is in.
        if effect {
            level = Consistency::DcOne;
        }
        let h = self.key_hash(mref);
        // Read repair: a covered write records its moment on every replica.
        let repair = self.repair_active();
        if repair && write && by_key {
            self.record_write(mref);
        }
        match self.place.plan(h, write, by_key, level) {
            Plan::One { owner, replicate } => {
                if replicate && !effect {
                    self.replicate(client, mref, h, resp3);
                }
                self.serve_at_owner(client, mref, owner, write, resp3)
            }
            Plan::Quorum {
                each,
                replicate_remote,
            } => {
                // ... and a repairable read answers with its moments (RESP2: the reply is
                // rebuilt from a script's array).
                if repair && !write && !resp3 {
                    self.versioned_read(mref);
                }
                self.quorum_send(client, mref, h, write, level, each, resp3);
                if replicate_remote {
                    self.replicate_remote(client, mref, h, resp3);
                }
                if let Some(agg) = self.bufs.msgs.get(mref).map(|m| m.agg) {
                    if agg != crate::msg::NO_AGG {
                        self.agg_built(mref, agg);
                    }
                }
                Dispatch::Answered
            }
        }
    }

    /// The local-rack owner serves the request: this node, or another node of the rack
    /// whose reply is relayed. A read whose owner cannot be reached is served by another
    /// rack (server-side failover).
    fn serve_at_owner(
        &mut self,
        client: u32,
        mref: MsgRef,
        owner: NodeIdx,
        write: bool,
        resp3: bool,
    ) -> Dispatch {
        if owner == 0 {
            return self.state_gate(client, mref, write);
        }
        let hint = self.fd_hint(client);
        if self
            .send_copy(hint, mref, owner, MsgType::Req, resp3, Some(mref))
            .is_some()
        {
            return Dispatch::Answered;
        }
        if !write && self.failover_read(client, mref) {
            return Dispatch::Answered;
        }
        self.stats.pool.peer_forward_error += 1;
        self.answer_dyn_error(mref, DynError::PeerHostNotConnected);
        Dispatch::Answered
    }

    /// Which of a client's connections its copies to a peer use (`fd mod n`: per-client order).
    pub(super) fn fd_hint(&self, client: u32) -> usize {
        self.rx.conn(client).map(|c| c.raw_fd()).unwrap_or(0).max(0) as usize
    }

    /// Send a request to the owner in every rack of the local DC (and, with `each`, of every
    /// DC) and collect their replies. The collector is left `building`: the caller finishes
    /// it once every other copy is out.
    #[allow(clippy::too_many_arguments)]
    fn quorum_send(
        &mut self,
        client: u32,
        mref: MsgRef,
        h: Option<u32>,
        write: bool,
        level: Consistency,
        each: bool,
        resp3: bool,
    ) {
        self.place
            .quorum_targets(h, each, &mut self.scratch.targets);
        let name = match self.proto {
            Protocol::Redis => self.bufs.msgs.get(mref).map_or(0, |m| m.req.cmd),
            Protocol::Memcache => 0,
        };
        let versioned = self
            .bufs
            .msgs
            .get(mref)
            .is_some_and(|m| m.versioned != crate::proto::redis::repair::Read::None);
        let collect = if versioned {
            Collect::Repair { level }
        } else {
            Collect::Quorum {
                level,
                mget: name == cmd::MGET,
                unordered: matches!(name, cmd::SMEMBERS | cmd::SINTER | cmd::SUNION | cmd::SDIFF),
            }
        };
        let n = self.scratch.targets.len();
        let agg = self.agg_alloc(mref, collect, n);
        let hint = self.fd_hint(client);
        for slot in 0..n {
            let (dc, node) = self.scratch.targets[slot];
            self.coll.set_dc(agg, slot, dc);
            self.coll.set_node(agg, slot, node);
            // A remote rack's owner under DC_EACH_SAFE_QUORUM runs the request itself: a
            // DMSG_REQ (Dynomite sends DMSG_REQ_FORWARDs that fan out again, R x R times).
            self.send_part(client, hint, mref, slot as u16, node, write, resp3);
        }
    }

    /// Part `slot` of `mref`'s collector, run by `node`: a child on the local datastore
    /// (node 0) or a DMSG_REQ copy to a peer whose reply fills the part. A write a peer
    /// cannot take now is kept for it as a hint; the part fails at once.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn send_part(
        &mut self,
        client: u32,
        hint: usize,
        mref: MsgRef,
        slot: u16,
        node: NodeIdx,
        write: bool,
        resp3: bool,
    ) {
        if node == 0 {
            match self.local_child(mref, slot) {
                Some(child) => {
                    if let Dispatch::Forward = self.state_gate(client, child, write) {
                        self.forward_local(client, child, Self::pool_of(resp3));
                    }
                }
                None => self.agg_part_failed(mref, slot, DynError::Unknown),
            }
            return;
        }
        match self.send_copy(hint, mref, node, MsgType::Req, resp3, Some(mref)) {
            Some(copy) => {
                if let Some(c) = self.bufs.msgs.get_mut(copy) {
                    c.slot = slot;
                }
            }
            None => {
                self.stats.pool.peer_forward_error += 1;
                if write {
                    self.hint_request(node, mref, MsgType::Req, resp3);
                }
                self.agg_part_failed(mref, slot, DynError::PeerHostNotConnected);
            }
        }
    }

    /// A child that runs `mref` on the local datastore and fills part `slot` of its
    /// collector: its request is references to `mref`'s bytes.
    pub(super) fn local_child(&mut self, mref: MsgRef, slot: u16) -> Option<MsgRef> {
        let child = self.bufs.msgs.alloc(self.now_ns, None)?;
        let segs = &mut self.scratch.segs;
        segs.clear();
        let orig = self.bufs.msgs.get(mref)?;
        let (cmd, nargs, noreply, len, write, lane) = (
            orig.req.cmd,
            orig.req.nargs,
            orig.req.noreply,
            orig.req_len,
            orig.is_write,
            orig.lane,
        );
        segs.extend_from_slice(&orig.req_segs);
        for s in segs.iter() {
            self.bufs.mbufs.incref(s.buf);
        }
        let c = self.bufs.msgs.get_mut(child).expect("fresh");
        std::mem::swap(&mut c.req_segs, segs);
        c.req_len = len;
        c.req.cmd = cmd;
        c.req.nargs = nargs;
        c.req.noreply = noreply;
        c.lane = lane;
        c.is_write = write;
        c.parent = Some(mref);
        c.slot = slot;
        Some(child)
    }

    /// Copies of a write to the owner in every other rack of this DC (DMSG_REQ) and to one
    /// rack per remote DC (DMSG_REQ_FORWARD); their replies are dropped (DC_ONE).
    pub(super) fn replicate(&mut self, client: u32, mref: MsgRef, h: Option<u32>, resp3: bool) {
        if self.place.nodes() < 2 || self.mesh.peers.is_empty() {
            return;
        }
        self.replicate_local_dc(client, mref, h, resp3);
        self.replicate_remote(client, mref, h, resp3);
    }

    pub(super) fn replicate_local_dc(
        &mut self,
        client: u32,
        mref: MsgRef,
        h: Option<u32>,
        resp3: bool,
    ) {
        let hint = self.fd_hint(client);
        let mut targets = std::mem::take(&mut self.scratch.nodes);
        self.place.other_racks(h, &mut targets);
        for &node in &targets {
            if self
                .send_copy(hint, mref, node, MsgType::Req, resp3, None)
                .is_none()
            {
                self.stats.pool.peer_dropped_requests += 1;
                self.hint_request(node, mref, MsgType::Req, resp3);
            }
        }
        self.scratch.nodes = targets;
    }

    /// One copy per remote DC, to the owner in its preselected rack; if that one cannot take
    /// it, the DC's other racks in order (SPEC §4.4, `remote_peer_failover_requests`).
    fn replicate_remote(&mut self, client: u32, mref: MsgRef, h: Option<u32>, resp3: bool) {
        if self.place.topo().dcs.len() < 2 {
            return;
        }
        let hint = self.fd_hint(client);
        let mut order = std::mem::take(&mut self.scratch.order);
        for dc in 0..self.place.topo().dcs.len() {
            if dc == self.place.local_dc() || self.place.topo().dcs[dc].racks.is_empty() {
                continue;
            }
            order.clear();
            order.extend(self.place.remote_order(dc, h));
            let sent = order.iter().find(|&&(_, node)| {
                self.send_copy(hint, mref, node, MsgType::ReqForward, resp3, None)
                    .is_some()
            });
            match sent {
                Some(&(k, _)) if k > 0 => self.stats.pool.remote_peer_failover_requests += 1,
                Some(_) => {}
                None => {
                    self.stats.pool.remote_peer_dropped_requests += 1;
                    if let Some(node) = self.place.remote_hint_target(dc, h) {
                        self.hint_request(node, mref, MsgType::ReqForward, resp3);
                    }
                }
            }
        }
        self.scratch.order = order;
    }

    /// The forwarder role: a DMSG_REQ_FORWARD from another DC goes to the owner in every rack
    /// of this DC at DC_ONE; the reply is this rack's owner's.
    pub(super) fn forward_dc(&mut self, conn: u32, mref: MsgRef, write: bool) -> Dispatch {
        let resp3 = self
            .bufs
            .msgs
            .get(mref)
            .and_then(|m| m.peer)
            .is_some_and(|p| p.resp3);
        let h = self.key_hash(mref);
        if write {
            self.replicate_local_dc(conn, mref, h, resp3);
        }
        let owner = self.place.local_owner(h);
        self.serve_at_owner(conn, mref, owner, write, resp3)
    }

    /// SCRIPT LOAD/EXISTS/FLUSH/KILL, FUNCTION ..., FLUSHDB/FLUSHALL: a copy to every node of
    /// the cluster (as DMSG_REQ, even across DCs; replies dropped), so script caches stay
    /// identical and EVALSHA works anywhere. A write a node cannot take now is kept for it as
    /// a hint, like any write. The client gets the local datastore's reply.
    pub(super) fn broadcast(&mut self, client: u32, mref: MsgRef, write: bool) {
        let resp3 = self.client_of(client).is_some_and(|c| c.resp3);
        let hint = self.fd_hint(client);
        for node in 1..self.place.nodes() {
            if self.place.topo().retired[node] {
                continue;
            }
            if self
                .send_copy(hint, mref, node, MsgType::Req, resp3, None)
                .is_none()
            {
                self.stats.pool.peer_dropped_requests += 1;
                if write {
                    self.hint_request(node, mref, MsgType::Req, resp3);
                }
            }
        }
    }

    /// A write for every node (`SCRIPT LOAD`, `FUNCTION LOAD`, `FLUSHALL`, ...) at a quorum
    /// level: every node of the local DC runs it as a part of one collector, answered once a
    /// quorum of its racks has it on every node (a node that cannot take it now keeps it as
    /// a hint, and its part fails); the other DCs get copies, as at DC_ONE. Returns false
    /// when the local DC has one rack (DC_ONE's answer is the same).
    pub(super) fn broadcast_quorum(&mut self, client: u32, mref: MsgRef) -> bool {
        let (ldc, _) = self.place.local_rack();
        let topo = self.place.topo();
        let racks = topo.dcs[ldc].racks.len();
        if racks < 2 {
            return false;
        }
        let mut targets = std::mem::take(&mut self.scratch.targets);
        targets.clear();
        for (r, rack) in topo.dcs[ldc].racks.iter().enumerate() {
            let live = rack.nodes.iter().filter(|&&n| !topo.retired[n]);
            targets.extend(live.map(|&n| (r, n)));
        }
        let local = targets.iter().position(|&(_, n)| n == 0).unwrap_or(0);
        let collect = Collect::Broadcast {
            racks: racks as u16,
            quorum: self.place.quorum(ldc) as u16,
            local: local as u16,
        };
        let resp3 = self.client_of(client).is_some_and(|c| c.resp3);
        let hint = self.fd_hint(client);
        let agg = self.agg_alloc(mref, collect, targets.len());
        for (slot, &(rack, node)) in targets.iter().enumerate() {
            self.coll.set_dc(agg, slot, rack);
            self.send_part(client, hint, mref, slot as u16, node, true, resp3);
        }
        self.scratch.targets = targets;
        for node in 1..self.place.nodes() {
            if self.place.same_dc(node) || self.place.topo().retired[node] {
                continue;
            }
            if self
                .send_copy(hint, mref, node, MsgType::Req, resp3, None)
                .is_none()
            {
                self.stats.pool.peer_dropped_requests += 1;
                self.hint_request(node, mref, MsgType::Req, resp3);
            }
        }
        self.agg_built(mref, agg);
        true
    }

    /// Whether a request's keys live on different nodes in some rack (every rack of every
    /// DC: a write is applied in each, a read may be served by any of them). A script's
    /// read-repair metadata keys (`._add-set...`, `._rem-set...`) are exempt (§8.3).
    pub(super) fn keys_span_nodes(&mut self, mref: MsgRef, script: bool) -> bool {
        if !self.place.needs_hash() {
            return false;
        }
        let Some(n) = self.bufs.msgs.get(mref).map(|m| m.req.keys.len()) else {
            return false;
        };
        if n < 2 {
            return false;
        }
        let mut hashes = std::mem::take(&mut self.scratch.hashes);
        hashes.clear();
        for i in 0..n {
            let Some(span) = self.bufs.msgs.get(mref).map(|m| m.req.keys[i]) else {
                break;
            };
            self.bufs.req_bytes(mref, span, &mut self.scratch.key);
            let key = &self.scratch.key;
            if script && (key.starts_with(b"._add-set") || key.starts_with(b"._rem-set")) {
                continue;
            }
            hashes.push(crate::ring::hash_tagged(
                self.cfg.hash,
                key,
                self.cfg.hash_tag,
            ));
        }
        let spans = !self
            .place
            .one_node_everywhere(&hashes, &mut self.scratch.nodes);
        self.scratch.hashes = hashes;
        spans
    }
}
