//! The coordinator role: a client's request is placed on the ring, sent to the owners that
//! the consistency level calls for, and answered from their replies (SPEC §4).
//!
//! ```text
//!  client request ─► multi-key spanning nodes? ──yes──► one fragment per owner ─┐ (coalesce)
//!        │                                                                     ▼
//!        └──────────────────────────────────────────────────────────► route_key
//!   route_key, DC_ONE:    owner in the local rack answers (here, or relayed from its node);
//!                         a write also goes, swallowed, to the owner in every other rack
//!                         and to one rack per remote DC (DMSG_REQ_FORWARD)
//!   route_key, quorum:    the owner in every rack of the local DC answers into a collector
//!                         (every rack of every DC under DC_EACH_SAFE_QUORUM)
//! ```
//!
//! Requests that come from other nodes are not coordinated: a DMSG_REQ runs on the local
//! datastore (the owner role, `local.rs`); a DMSG_REQ_FORWARD is fanned out to the racks of
//! this DC at DC_ONE (the forwarder role, [`Core::forward_dc`]).
//!
//! A *collector* ([`Agg`]) gathers the replies a request waits for. Its parts are filled by
//! child messages (copies to peers, or a copy run on the local datastore) whose `parent` is
//! the request and whose `slot` is the part. Collectors are pooled and keep their vectors, so
//! a steady quorum load does not allocate.

use super::client::Dispatch;
use super::Core;
use crate::conn::PoolKind;
use crate::mbuf::Seg;
use crate::msg::{MsgRef, MsgState, NO_AGG};
use crate::peer::MsgType;
use crate::proto::error::DynError;
use crate::proto::merge::{self, Checksum, NoMajority};
use crate::proto::redis::{self, Route};
use crate::proto::{Protocol, Span};
use crate::ring::NodeIdx;
use crate::types::Consistency;

/// How a collector turns its parts into one reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Collect {
    /// Replicas of one request: pick the reply a quorum agrees on (§4.5). `mget`: replies are
    /// arrays compared element by element when no whole reply has a quorum.
    Quorum {
        level: Consistency,
        mget: bool,
        /// A set reply: members compared in any order.
        unordered: bool,
    },
    /// Fragments of a split multi-key request, combined in key order (§8.2).
    Split(SplitKind),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SplitKind {
    /// MGET: the values in key order.
    Mget,
    /// DEL, EXISTS, UNLINK, TOUCH: the sum of the counts.
    Sum,
    /// MSET: `+OK` when every fragment said so.
    Ok,
    /// memcached get/gets: the hits in key order, one `END`.
    McGet,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PartState {
    Pending,
    Good,
    Error,
}

/// One reply a collector waits for.
pub(super) struct Part {
    /// The DC (topology index) the reply comes from: quorums are counted per DC.
    dc: u16,
    state: PartState,
    /// When it arrived, among the collector's parts (the first good reply wins some ties).
    rank: u16,
    /// Checksum of the reply (quorum collectors only).
    sum: u32,
    segs: Vec<Seg>,
    len: usize,
}

pub(super) struct Agg {
    collect: Collect,
    parts: Vec<Part>,
    /// Parts in use (the vector keeps more for reuse).
    n: usize,
    pending: usize,
    arrived: u16,
    /// Set while the children are being sent: a child failing at once must not finish the
    /// collector before the others are out.
    building: bool,
    /// Split collectors: for each key of the original request, its fragment and position.
    placement: Vec<(u16, u16)>,
}

/// What one DC's replies say so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Wait,
    /// Answer with this part.
    Pick(usize),
    /// Answer with this error part (`None`: Dynomite's no-quorum error).
    Fail(Option<usize>),
    /// Every reply is in and none has a quorum: merge MGET replies element by element.
    Merge,
}

impl Core {
    /// A collector for `n` parts; the request `parent` is the one it answers.
    fn agg_alloc(&mut self, parent: MsgRef, collect: Collect, n: usize) -> u32 {
        let idx = match self.free_aggs.pop() {
            Some(i) => i,
            None => {
                self.aggs.push(Agg {
                    collect,
                    parts: Vec::new(),
                    n: 0,
                    pending: 0,
                    arrived: 0,
                    building: false,
                    placement: Vec::new(),
                });
                (self.aggs.len() - 1) as u32
            }
        };
        let a = &mut self.aggs[idx as usize];
        a.collect = collect;
        while a.parts.len() < n {
            a.parts.push(Part {
                dc: 0,
                state: PartState::Pending,
                rank: 0,
                sum: 0,
                segs: Vec::new(),
                len: 0,
            });
        }
        for p in &mut a.parts[..n] {
            debug_assert!(p.segs.is_empty());
            p.state = PartState::Pending;
            p.dc = 0;
            p.len = 0;
        }
        a.n = n;
        a.pending = n;
        a.arrived = 0;
        a.building = true;
        a.placement.clear();
        if let Some(m) = self.msgs.get_mut(parent) {
            m.agg = idx;
        }
        idx
    }

    fn agg_free(&mut self, idx: u32) {
        let a = &mut self.aggs[idx as usize];
        for p in &mut a.parts[..a.n] {
            self.mbufs.release(&mut p.segs);
        }
        if a.placement.capacity() > 4096 {
            a.placement.shrink_to(64);
        }
        a.n = 0;
        self.free_aggs.push(idx);
    }

    /// A child's reply (or error reply) for part `slot` of the collector of `parent`.
    pub(super) fn agg_part(
        &mut self,
        parent: MsgRef,
        slot: u16,
        mut segs: Vec<Seg>,
        len: usize,
        is_error: bool,
    ) {
        let Some(p) = self
            .msgs
            .get(parent)
            .filter(|p| p.state == MsgState::Pending)
        else {
            return self.mbufs.release(&mut segs);
        };
        let idx = p.agg;
        if idx == NO_AGG {
            return self.mbufs.release(&mut segs);
        }
        let a = &mut self.aggs[idx as usize];
        let Some(part) = a.parts[..a.n]
            .get_mut(slot as usize)
            .filter(|p| p.state == PartState::Pending)
        else {
            return self.mbufs.release(&mut segs);
        };
        part.state = if is_error {
            PartState::Error
        } else {
            PartState::Good
        };
        if let (Collect::Quorum { unordered, .. }, false) = (a.collect, is_error) {
            let mut sum = None;
            if unordered {
                let mut buf = std::mem::take(&mut self.merge_out);
                crate::mbuf::gather(&self.mbufs, &segs, 0, len, &mut buf);
                sum = merge::unordered_checksum(&buf, &mut self.merge_ranges);
                self.merge_out = buf;
            }
            part.sum = sum.unwrap_or_else(|| {
                let mut c = Checksum::new();
                for s in &segs {
                    c.update(self.mbufs.slice(*s));
                }
                c.finish()
            });
        }
        std::mem::swap(&mut part.segs, &mut segs);
        self.mbufs.release(&mut segs);
        part.len = len;
        part.rank = a.arrived;
        a.arrived += 1;
        a.pending -= 1;
        self.agg_check(parent);
    }

    /// Whether collector `idx` combines the fragments of a split request.
    pub(super) fn is_split_parent_idx(&self, idx: u32) -> bool {
        self.aggs
            .get(idx as usize)
            .is_some_and(|a| matches!(a.collect, Collect::Split(_)))
    }

    /// Whether `parent` is a split request waiting for its fragments.
    pub(super) fn is_split_parent(&self, parent: MsgRef) -> bool {
        self.msgs
            .get(parent)
            .map(|m| m.agg)
            .filter(|&i| i != NO_AGG)
            .is_some_and(|i| matches!(self.aggs[i as usize].collect, Collect::Split(_)))
    }

    /// Part `slot` failed with one of Dynomite's errors (no connection, timeout, ...).
    pub(super) fn agg_part_failed(&mut self, parent: MsgRef, slot: u16, err: DynError) {
        self.scratch.clear();
        crate::proto::error::dyn_error_reply(self.proto, err, &mut self.scratch);
        let mut segs = Vec::new();
        self.mbufs
            .append_shared(&mut self.reply_buf, &mut segs, &self.scratch);
        let len = self.scratch.len();
        self.agg_part(parent, slot, segs, len, true);
    }

    /// Answer `parent` once its collector has what it needs.
    fn agg_check(&mut self, parent: MsgRef) {
        let Some(idx) = self
            .msgs
            .get(parent)
            .map(|m| m.agg)
            .filter(|&i| i != NO_AGG)
        else {
            return;
        };
        let a = &self.aggs[idx as usize];
        if a.building {
            return;
        }
        match a.collect {
            Collect::Split(kind) => {
                if a.pending == 0 {
                    self.finish_split(parent, idx, kind);
                }
            }
            Collect::Quorum { level, mget, .. } => {
                let verdict = self.quorum_verdict(idx, level);
                match verdict {
                    Verdict::Wait => {}
                    Verdict::Pick(k) => self.finish_with_part(parent, idx, k),
                    Verdict::Fail(k) => {
                        self.count_no_quorum(parent);
                        match k {
                            Some(k) => self.finish_with_part(parent, idx, k),
                            None => self.finish_with_error(parent, idx, DynError::NoQuorum),
                        }
                    }
                    Verdict::Merge => {
                        if !(mget && self.finish_merged(parent, idx, level)) {
                            self.count_no_quorum(parent);
                            match level {
                                Consistency::DcQuorum => {
                                    let k = self.first_good(idx).expect("merge needs replies");
                                    self.finish_with_part(parent, idx, k)
                                }
                                _ => self.finish_with_error(parent, idx, DynError::NoQuorum),
                            }
                        }
                    }
                }
            }
        }
    }

    fn count_no_quorum(&mut self, parent: MsgRef) {
        if self.msgs.get(parent).is_some_and(|m| m.is_write) {
            self.pool_stats.client_non_quorum_w_responses += 1;
        } else {
            self.pool_stats.client_non_quorum_r_responses += 1;
        }
    }

    /// The verdict over every DC the collector has parts from: the local DC's (parts of the
    /// local DC come first), and under DC_EACH_SAFE_QUORUM every other DC must agree too.
    fn quorum_verdict(&self, idx: u32, level: Consistency) -> Verdict {
        let a = &self.aggs[idx as usize];
        let ldc = self.lrack.0 as u16;
        let local = self.dc_verdict(a, ldc);
        if level != Consistency::DcEachSafeQuorum {
            return local;
        }
        let mut all = local;
        let mut seen: u64 = 0;
        for p in &a.parts[..a.n] {
            if p.dc == ldc || p.dc >= 64 || seen & (1 << p.dc) != 0 {
                continue;
            }
            seen |= 1 << p.dc;
            match self.dc_verdict(a, p.dc) {
                // A DC that fails fails the request at once.
                Verdict::Fail(k) => return Verdict::Fail(k),
                Verdict::Wait => all = Verdict::Wait,
                Verdict::Pick(_) => {}
                // No element-wise merge for another DC's replies: a safe quorum needs agreement.
                Verdict::Merge => return Verdict::Fail(None),
            }
        }
        if let Verdict::Fail(_) = local {
            return local;
        }
        all
    }

    /// Dynomite's response manager for one DC (§4.5), for any number of racks.
    fn dc_verdict(&self, a: &Agg, dc: u16) -> Verdict {
        let quorum = self.topo.quorum(dc as usize);
        let parts = &a.parts[..a.n];
        let in_dc = || parts.iter().enumerate().filter(move |(_, p)| p.dc == dc);
        let (mut good, mut pending) = (0usize, 0usize);
        let mut best: Option<(usize, usize, u16)> = None; // (part, agreeing, rank)
        for (i, p) in in_dc() {
            match p.state {
                PartState::Pending => pending += 1,
                PartState::Error => {}
                PartState::Good => {
                    good += 1;
                    let agree = in_dc()
                        .filter(|(_, q)| q.state == PartState::Good && q.sum == p.sum)
                        .count();
                    let better = match best {
                        None => true,
                        Some((_, n, r)) => agree > n || (agree == n && p.rank < r),
                    };
                    if better {
                        best = Some((i, agree, p.rank));
                    }
                }
            }
        }
        if let Some((i, agree, _)) = best {
            if agree >= quorum {
                return Verdict::Pick(i);
            }
        }
        if good + pending < quorum {
            let first_err = in_dc()
                .filter(|(_, p)| p.state == PartState::Error)
                .min_by_key(|(_, p)| p.rank)
                .map(|(i, _)| i);
            return Verdict::Fail(first_err);
        }
        if pending > 0 {
            return Verdict::Wait;
        }
        Verdict::Merge
    }

    /// The first good reply received in the local DC.
    fn first_good(&self, idx: u32) -> Option<usize> {
        let a = &self.aggs[idx as usize];
        let ldc = self.lrack.0 as u16;
        a.parts[..a.n]
            .iter()
            .enumerate()
            .filter(|(_, p)| p.dc == ldc && p.state == PartState::Good)
            .min_by_key(|(_, p)| p.rank)
            .map(|(i, _)| i)
    }

    /// Answer with part `k`'s bytes (moved, not copied).
    fn finish_with_part(&mut self, parent: MsgRef, idx: u32, k: usize) {
        let part = &mut self.aggs[idx as usize].parts[k];
        let mut segs = std::mem::take(&mut part.segs);
        let len = part.len;
        let is_error = part.state == PartState::Error;
        self.agg_free(idx);
        let Some(p) = self.msgs.get_mut(parent) else {
            return self.mbufs.release(&mut segs);
        };
        p.agg = NO_AGG;
        self.mbufs.release(&mut p.req_segs);
        self.mbufs.release(&mut p.rsp_segs);
        std::mem::swap(&mut p.rsp_segs, &mut segs);
        p.rsp_len = len;
        p.rsp.is_error = is_error;
        self.complete(parent);
    }

    fn finish_with_error(&mut self, parent: MsgRef, idx: u32, err: DynError) {
        self.agg_free(idx);
        if let Some(p) = self.msgs.get_mut(parent) {
            p.agg = NO_AGG;
        }
        self.answer_dyn_error(parent, err);
    }

    /// Answer with bytes built here (merged or coalesced replies).
    fn finish_with_bytes(&mut self, parent: MsgRef, idx: u32, bytes: &[u8]) {
        self.agg_free(idx);
        if let Some(p) = self.msgs.get_mut(parent) {
            p.agg = NO_AGG;
        }
        self.answer(parent, bytes);
    }

    /// Gather every part's bytes into `merge_in` (one buffer) and their ranges into
    /// `merge_ranges`, in part order.
    fn gather_parts(&mut self, idx: u32) {
        let mut buf = std::mem::take(&mut self.merge_in);
        let mut piece = std::mem::take(&mut self.pack_buf);
        buf.clear();
        self.merge_ranges.clear();
        let a = &self.aggs[idx as usize];
        for p in &a.parts[..a.n] {
            let start = buf.len();
            crate::mbuf::gather(&self.mbufs, &p.segs, 0, p.len, &mut piece);
            buf.extend_from_slice(&piece);
            self.merge_ranges.push(start..buf.len());
        }
        piece.clear();
        self.pack_buf = piece;
        self.merge_in = buf;
    }

    fn finish_merged(&mut self, parent: MsgRef, idx: u32, level: Consistency) -> bool {
        self.gather_parts(idx);
        let ldc = self.lrack.0 as u16;
        let a = &self.aggs[idx as usize];
        let mut replies: Vec<&[u8]> = Vec::with_capacity(a.n);
        let mut order: Vec<(u16, usize)> = a.parts[..a.n]
            .iter()
            .enumerate()
            .filter(|(_, p)| p.dc == ldc && p.state == PartState::Good)
            .map(|(i, p)| (p.rank, i))
            .collect();
        order.sort_unstable();
        for &(_, i) in &order {
            replies.push(&self.merge_in[self.merge_ranges[i].clone()]);
        }
        let quorum = self.topo.quorum(ldc as usize);
        let how = if level == Consistency::DcQuorum {
            NoMajority::TakeFirst
        } else {
            NoMajority::Fail
        };
        let mut out = std::mem::take(&mut self.merge_out);
        let ok = merge::merge_elementwise(&replies, quorum, how, &mut out);
        if ok {
            self.finish_with_bytes(parent, idx, &out);
        }
        self.merge_out = out;
        ok
    }

    fn finish_split(&mut self, parent: MsgRef, idx: u32, kind: SplitKind) {
        self.gather_parts(idx);
        let a = &self.aggs[idx as usize];
        let frags: Vec<&[u8]> = self
            .merge_ranges
            .iter()
            .map(|r| &self.merge_in[r.clone()])
            .collect();
        let mut out = std::mem::take(&mut self.merge_out);
        let res = match kind {
            SplitKind::Mget => merge::coalesce_mget(&a.placement, &frags, &mut out),
            SplitKind::Sum => merge::coalesce_sum(&frags, &mut out),
            SplitKind::Ok => merge::coalesce_ok(&frags, &mut out),
            SplitKind::McGet => {
                let frag_of: Vec<u16> = a.placement.iter().map(|p| p.0).collect();
                let mut keys: Vec<Vec<u8>> = Vec::with_capacity(frag_of.len());
                if let Some(m) = self.msgs.get(parent) {
                    for k in &m.req.keys {
                        let mut v = Vec::new();
                        crate::mbuf::gather(
                            &self.mbufs,
                            &m.req_segs,
                            k.start as usize,
                            k.len as usize,
                            &mut v,
                        );
                        keys.push(v);
                    }
                }
                let keys: Vec<&[u8]> = keys.iter().map(|k| k.as_slice()).collect();
                merge::merge_memcache_get(&keys, &frag_of, &frags, &mut out)
            }
        };
        drop(frags);
        match res {
            Ok(()) => self.finish_with_bytes(parent, idx, &out),
            Err(k) => {
                let bad = &self.merge_in[self.merge_ranges[k].clone()];
                if merge::is_error(bad) {
                    // The fragment's own error (a peer or storage error, or the datastore's).
                    self.finish_with_part(parent, idx, k)
                } else {
                    self.finish_with_error(parent, idx, DynError::Generic)
                }
            }
        }
        self.merge_out = out;
    }
}

impl Core {
    /// The consistency a client's request runs at: the connection's (`dyno_config`), else
    /// the node's current read or write level.
    fn level_for(&mut self, client: u32, write: bool) -> Consistency {
        let own = self.client_of(client).and_then(|c| c.consistency);
        own.unwrap_or(if write {
            self.write_consistency
        } else {
            self.read_consistency
        })
    }

    /// The token of a request's first key; `None` for a keyless request or an empty routing
    /// key (served by the local node, as in Dynomite). Not computed when every rack has one
    /// node (the answer could not matter).
    pub(super) fn key_hash(&mut self, mref: MsgRef) -> Option<u32> {
        if !self.multi_node_racks {
            return Some(0);
        }
        let span = self.msgs.get(mref)?.req.keys.first().copied()?;
        self.span_hash(mref, span, self.cfg.hash_tag)
    }

    /// The token of the key at `span` of a request, hashing its `tag`ged part.
    fn span_hash(&mut self, mref: MsgRef, span: Span, tag: Option<[u8; 2]>) -> Option<u32> {
        let msg = self.msgs.get(mref)?;
        let mut key = std::mem::take(&mut self.local_arg);
        crate::mbuf::gather(
            &self.mbufs,
            &msg.req_segs,
            span.start as usize,
            span.len as usize,
            &mut key,
        );
        let h = crate::ring::hash_tagged(self.cfg.hash, &key, tag);
        self.local_arg = key;
        h
    }

    /// The owner of token `h` in a rack (a rack of one node needs no lookup). A request
    /// without a token belongs to the local node in the local rack; elsewhere to the rack's
    /// first node on the ring.
    pub(super) fn owner(&self, dc: usize, rack: usize, h: Option<u32>) -> Option<NodeIdx> {
        let r = self.topo.dcs.get(dc)?.racks.get(rack)?;
        if r.nodes.len() == 1 {
            return r.nodes.first().copied();
        }
        match h {
            Some(h) => r.continuum.owner(h),
            None if (dc, rack) == self.lrack => Some(0),
            None => r.continuum.owner(0),
        }
    }

    /// Route a client's request (or one fragment of it) by key. Returns `Forward` when the
    /// message itself goes to the local datastore; everything else is done here.
    pub(super) fn coordinate(
        &mut self,
        client: u32,
        mref: MsgRef,
        write: bool,
        route: Route,
    ) -> Dispatch {
        let resp3 = self.client_of(client).is_some_and(|c| c.resp3);
        let noreply = self.msgs.get(mref).is_some_and(|m| m.req.noreply);
        let mut level = self.level_for(client, write);
        if route != Route::Normal || noreply || self.topo.nodes.len() < 2 {
            level = Consistency::DcOne;
        }
        let h = self.key_hash(mref);
        let (ldc, lrack) = self.lrack;
        if level == Consistency::DcOne {
            if write && route == Route::Normal {
                self.replicate(client, mref, h, resp3);
            }
            let owner = self.owner(ldc, lrack, h).unwrap_or(0);
            return self.serve_at_owner(client, mref, owner, write, resp3);
        }
        self.quorum_send(client, mref, h, write, level, resp3);
        Dispatch::Answered
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
        self.pool_stats.peer_forward_error += 1;
        self.answer_dyn_error(mref, DynError::PeerHostNotConnected);
        Dispatch::Answered
    }

    pub(super) fn fd_hint(&self, client: u32) -> usize {
        self.conn(client).map(|c| c.raw_fd()).unwrap_or(0).max(0) as usize
    }

    /// Send a request to the owner in every rack of the local DC (and, under
    /// DC_EACH_SAFE_QUORUM, of every DC) and collect their replies.
    fn quorum_send(
        &mut self,
        client: u32,
        mref: MsgRef,
        h: Option<u32>,
        write: bool,
        level: Consistency,
        resp3: bool,
    ) {
        let ldc = self.lrack.0;
        let each = level == Consistency::DcEachSafeQuorum;
        let mut targets = std::mem::take(&mut self.targets);
        targets.clear();
        for dc in 0..self.topo.dcs.len() {
            if dc != ldc && !each {
                continue;
            }
            for rack in 0..self.topo.dcs[dc].racks.len() {
                if let Some(node) = self.owner(dc, rack, h) {
                    targets.push((dc, node));
                }
            }
        }
        // The local DC's parts first (the verdict looks at them first).
        targets.sort_by_key(|&(dc, _)| dc != ldc);
        let name = match self.proto {
            Protocol::Redis => self
                .msgs
                .get(mref)
                .map_or("", |m| redis::spec(m.req.cmd).name),
            Protocol::Memcache => "",
        };
        let collect = Collect::Quorum {
            level,
            mget: name == "mget",
            unordered: matches!(name, "smembers" | "sinter" | "sunion" | "sdiff"),
        };
        let agg = self.agg_alloc(mref, collect, targets.len());
        let hint = self.fd_hint(client);
        for (slot, &(dc, node)) in targets.iter().enumerate() {
            self.aggs[agg as usize].parts[slot].dc = dc as u16;
            let slot = slot as u16;
            if node == 0 {
                match self.local_child(mref, slot) {
                    Some(child) => match self.state_gate(client, child, write) {
                        Dispatch::Forward => {
                            let pool = if resp3 {
                                PoolKind::Resp3
                            } else {
                                PoolKind::Main
                            };
                            self.forward_local(client, child, pool);
                        }
                        Dispatch::Answered => {}
                    },
                    None => self.agg_part_failed(mref, slot, DynError::Unknown),
                }
                continue;
            }
            // A remote rack's owner under DC_EACH_SAFE_QUORUM runs the request itself: a
            // DMSG_REQ (Dynomite sends DMSG_REQ_FORWARDs that fan out again, R x R times).
            match self.send_copy(hint, mref, node, MsgType::Req, resp3, Some(mref)) {
                Some(copy) => {
                    if let Some(c) = self.msgs.get_mut(copy) {
                        c.slot = slot;
                    }
                }
                None => {
                    self.pool_stats.peer_forward_error += 1;
                    if write {
                        self.hint_request(node, mref, MsgType::Req, resp3);
                    }
                    self.agg_part_failed(mref, slot, DynError::PeerHostNotConnected);
                }
            }
        }
        targets.clear();
        self.targets = targets;
        if write && !each {
            self.replicate_remote(client, mref, h, resp3);
        }
        self.aggs[agg as usize].building = false;
        self.agg_check(mref);
    }

    /// A child that runs `mref` on the local datastore and fills part `slot` of its
    /// collector: its request is references to `mref`'s bytes.
    fn local_child(&mut self, mref: MsgRef, slot: u16) -> Option<MsgRef> {
        let child = self.msgs.alloc(self.now_ns, None)?;
        let mut segs = std::mem::take(&mut self.frame_segs);
        segs.clear();
        let orig = self.msgs.get(mref)?;
        let (cmd, nargs, noreply, len, write) = (
            orig.req.cmd,
            orig.req.nargs,
            orig.req.noreply,
            orig.req_len,
            orig.is_write,
        );
        segs.extend_from_slice(&orig.req_segs);
        for s in &segs {
            self.mbufs.incref(s.buf);
        }
        let c = self.msgs.get_mut(child).expect("fresh");
        std::mem::swap(&mut c.req_segs, &mut segs);
        self.frame_segs = segs;
        c.req_len = len;
        c.req.cmd = cmd;
        c.req.nargs = nargs;
        c.req.noreply = noreply;
        c.is_write = write;
        c.parent = Some(mref);
        c.slot = slot;
        Some(child)
    }

    /// A multi-key request whose keys live on several nodes of the local rack is split into
    /// one fragment per node, each routed on its own, and answered when all are in.
    /// Returns false (nothing done) when the keys all live on one node: the request is then
    /// routed whole, which answers the same.
    pub(super) fn split(
        &mut self,
        client: u32,
        mref: MsgRef,
        write: bool,
        kind: SplitKind,
    ) -> bool {
        if !self.multi_node_racks {
            return false;
        }
        let Some(msg) = self.msgs.get(mref) else {
            return false;
        };
        if msg.req.keys.len() < 2 {
            return false;
        }
        let kv = !msg.req.vals.is_empty();
        if kv && msg.req.vals.len() != msg.req.keys.len() {
            return false;
        }
        let mut keys = std::mem::take(&mut self.split_keys);
        keys.clear();
        keys.extend_from_slice(&msg.req.keys);
        let (ldc, lrack) = self.lrack;
        // Owner of every key; fragments in order of first appearance.
        let mut owners = std::mem::take(&mut self.split_owners);
        owners.clear();
        let mut frag_nodes = std::mem::take(&mut self.split_frags);
        frag_nodes.clear();
        for &k in &keys {
            // The tagged key, as every other request is placed (Dynomite places memcached
            // multi-get keys whole, and so looks for tagged keys on the wrong node).
            let h = self.span_hash(mref, k, self.cfg.hash_tag);
            let node = self.owner(ldc, lrack, h).unwrap_or(0);
            let f = match frag_nodes.iter().position(|&n| n == node) {
                Some(f) => f,
                None => {
                    frag_nodes.push(node);
                    frag_nodes.len() - 1
                }
            };
            owners.push(f as u16);
        }
        let n = frag_nodes.len();
        let done = if n < 2 {
            false
        } else {
            self.split_send(client, mref, write, kind, &keys, &owners, n);
            true
        };
        self.split_keys = keys;
        self.split_owners = owners;
        self.split_frags = frag_nodes;
        done
    }

    #[allow(clippy::too_many_arguments)]
    fn split_send(
        &mut self,
        client: u32,
        mref: MsgRef,
        write: bool,
        kind: SplitKind,
        keys: &[Span],
        frag_of: &[u16],
        n: usize,
    ) {
        let agg = self.agg_alloc(mref, Collect::Split(kind), n);
        let mut pos = vec![0u16; n];
        for &f in frag_of {
            self.aggs[agg as usize].placement.push((f, pos[f as usize]));
            pos[f as usize] += 1;
        }
        let resp3 = self.client_of(client).is_some_and(|c| c.resp3);
        for f in 0..n {
            let Some(frag) = self.build_fragment(mref, kind, keys, frag_of, f as u16) else {
                self.agg_part_failed(mref, f as u16, DynError::Unknown);
                continue;
            };
            let route = Route::Normal;
            match self.coordinate(client, frag, write, route) {
                Dispatch::Forward => {
                    let pool = if resp3 {
                        PoolKind::Resp3
                    } else {
                        PoolKind::Main
                    };
                    self.forward_local(client, frag, pool);
                }
                Dispatch::Answered => {}
            }
        }
        self.aggs[agg as usize].building = false;
        self.agg_check(mref);
    }

    /// The request for fragment `f`: the command re-encoded with that fragment's keys (and
    /// values), in the original order. Keys and values are references to the original
    /// request's bytes; only the small RESP headers are written.
    fn build_fragment(
        &mut self,
        mref: MsgRef,
        kind: SplitKind,
        keys: &[Span],
        frag_of: &[u16],
        f: u16,
    ) -> Option<MsgRef> {
        let orig = self.msgs.get(mref)?;
        let (cmd, write, noreply) = (orig.req.cmd, orig.is_write, orig.req.noreply);
        let vals: Vec<Span> = orig.req.vals.clone();
        let mine: Vec<usize> = (0..keys.len()).filter(|&i| frag_of[i] == f).collect();
        let frag = self.msgs.alloc(self.now_ns, None)?;
        let mut segs: Vec<Seg> = Vec::new();
        let mut info = std::mem::take(&mut self.msgs.get_mut(frag)?.req);
        info.clear();
        let mut len = 0usize;
        let mut hdr = std::mem::take(&mut self.scratch);
        hdr.clear();
        let name: &[u8] = match self.proto {
            Protocol::Memcache => b"",
            Protocol::Redis => redis::spec(cmd).name.as_bytes(),
        };
        let per_key = if vals.is_empty() { 1 } else { 2 };
        match self.proto {
            Protocol::Redis => {
                use std::io::Write;
                let nargs = 1 + per_key * mine.len();
                let _ = write!(hdr, "*{nargs}\r\n${}\r\n", name.len());
                hdr.extend_from_slice(name);
                hdr.extend_from_slice(b"\r\n");
                info.nargs = nargs as u32;
            }
            Protocol::Memcache => {
                // `get`/`gets`: the original command word, then the keys.
                let orig = self.msgs.get(mref)?;
                let w = orig.req.args[0];
                let mut word = Vec::new();
                crate::mbuf::gather(
                    &self.mbufs,
                    &orig.req_segs,
                    w.start as usize,
                    w.len as usize,
                    &mut word,
                );
                hdr.extend_from_slice(&word);
                info.nargs = 1 + mine.len() as u32;
            }
        }
        info.cmd = cmd;
        let flush = |core: &mut Core, hdr: &mut Vec<u8>, segs: &mut Vec<Seg>, len: &mut usize| {
            if !hdr.is_empty() {
                core.mbufs.append_shared(&mut core.reply_buf, segs, hdr);
                *len += hdr.len();
                hdr.clear();
            }
        };
        for &i in &mine {
            let mut items = [Some(keys[i]), None];
            if per_key == 2 {
                items[1] = vals.get(i).copied();
            }
            for (j, item) in items.into_iter().enumerate() {
                let Some(span) = item else { continue };
                match self.proto {
                    Protocol::Redis => {
                        use std::io::Write;
                        let _ = write!(hdr, "${}\r\n", span.len);
                    }
                    Protocol::Memcache => hdr.push(b' '),
                }
                flush(self, &mut hdr, &mut segs, &mut len);
                if j == 0 {
                    info.keys.push(Span::new(len as u32, span.len));
                } else {
                    info.vals.push(Span::new(len as u32, span.len));
                }
                let orig = self.msgs.get(mref)?;
                crate::mbuf::slice_into(
                    &mut self.mbufs,
                    &orig.req_segs,
                    span.start as usize,
                    span.len as usize,
                    &mut segs,
                );
                len += span.len as usize;
                if self.proto == Protocol::Redis {
                    hdr.extend_from_slice(b"\r\n");
                }
            }
        }
        if self.proto == Protocol::Memcache {
            hdr.extend_from_slice(b"\r\n");
        }
        flush(self, &mut hdr, &mut segs, &mut len);
        self.scratch = hdr;
        let _ = kind;
        let m = self.msgs.get_mut(frag)?;
        m.req = info;
        m.req_segs = segs;
        m.req_len = len;
        m.req.noreply = noreply;
        m.is_write = write;
        m.parent = Some(mref);
        m.slot = f;
        Some(frag)
    }

    /// Copies of a write to the owner in every other rack of this DC (DMSG_REQ) and to one
    /// rack per remote DC (DMSG_REQ_FORWARD); their replies are dropped (DC_ONE).
    pub(super) fn replicate(&mut self, client: u32, mref: MsgRef, h: Option<u32>, resp3: bool) {
        if self.topo.nodes.len() < 2 || self.peers.is_empty() {
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
        let (ldc, lrack) = self.lrack;
        let hint = self.fd_hint(client);
        for rack in 0..self.topo.dcs[ldc].racks.len() {
            if rack == lrack {
                continue;
            }
            let Some(node) = self.owner(ldc, rack, h) else {
                continue;
            };
            if node != 0
                && self
                    .send_copy(hint, mref, node, MsgType::Req, resp3, None)
                    .is_none()
            {
                self.pool_stats.peer_dropped_requests += 1;
                self.hint_request(node, mref, MsgType::Req, resp3);
            }
        }
    }

    /// One copy per remote DC, to the owner in its preselected rack; if that one cannot take
    /// it, the DC's other racks in order (SPEC §4.4, `remote_peer_failover_requests`).
    fn replicate_remote(&mut self, client: u32, mref: MsgRef, h: Option<u32>, resp3: bool) {
        let ldc = self.lrack.0;
        let hint = self.fd_hint(client);
        for dc in 0..self.topo.dcs.len() {
            if dc == ldc || self.topo.dcs[dc].racks.is_empty() {
                continue;
            }
            let racks = self.topo.dcs[dc].racks.len();
            let first = self.topo.preselected_remote_rack(dc);
            let mut sent = false;
            for k in 0..racks {
                let rack = (first + k) % racks;
                let Some(node) = self.owner(dc, rack, h) else {
                    continue;
                };
                if self
                    .send_copy(hint, mref, node, MsgType::ReqForward, resp3, None)
                    .is_some()
                {
                    if k > 0 {
                        self.pool_stats.remote_peer_failover_requests += 1;
                    }
                    sent = true;
                    break;
                }
            }
            if !sent {
                self.pool_stats.remote_peer_dropped_requests += 1;
                if let Some(node) = self.owner(dc, first, h) {
                    self.hint_request(node, mref, MsgType::ReqForward, resp3);
                }
            }
        }
    }

    /// The forwarder role: a DMSG_REQ_FORWARD from another DC goes to the owner in every rack
    /// of this DC at DC_ONE; the reply is this rack's owner's.
    pub(super) fn forward_dc(&mut self, conn: u32, mref: MsgRef, write: bool) -> Dispatch {
        let resp3 = self
            .msgs
            .get(mref)
            .and_then(|m| m.peer)
            .is_some_and(|p| p.resp3);
        let h = self.key_hash(mref);
        if write {
            self.replicate_local_dc(conn, mref, h, resp3);
        }
        let (ldc, lrack) = self.lrack;
        let owner = self.owner(ldc, lrack, h).unwrap_or(0);
        self.serve_at_owner(conn, mref, owner, write, resp3)
    }

    /// SCRIPT LOAD/EXISTS/FLUSH/KILL: a copy to every node of the cluster (as DMSG_REQ, even
    /// across DCs; replies dropped), so script caches stay identical and EVALSHA works
    /// anywhere. The client gets the local datastore's reply.
    pub(super) fn broadcast(&mut self, client: u32, mref: MsgRef) {
        let resp3 = self.client_of(client).is_some_and(|c| c.resp3);
        let hint = self.fd_hint(client);
        for node in 1..self.topo.nodes.len() {
            if self.topo.retired[node] {
                continue;
            }
            if self
                .send_copy(hint, mref, node, MsgType::Req, resp3, None)
                .is_none()
            {
                self.pool_stats.peer_dropped_requests += 1;
            }
        }
    }

    /// EVAL's keys must all live on one node of the local rack (§8.3); the read-repair
    /// metadata keys are exempt.
    pub(super) fn script_spans_nodes(&mut self, mref: MsgRef) -> bool {
        if !self.multi_node_racks {
            return false;
        }
        let Some(keys) = self.msgs.get(mref).map(|m| m.req.keys.clone()) else {
            return false;
        };
        let (ldc, lrack) = self.lrack;
        let mut first: Option<NodeIdx> = None;
        let mut key = Vec::new();
        for span in keys {
            if let Some(m) = self.msgs.get(mref) {
                crate::mbuf::gather(
                    &self.mbufs,
                    &m.req_segs,
                    span.start as usize,
                    span.len as usize,
                    &mut key,
                );
            }
            if key.starts_with(b"._add-set") || key.starts_with(b"._rem-set") {
                continue;
            }
            let h = crate::ring::hash_tagged(self.cfg.hash, &key, self.cfg.hash_tag);
            let node = self.owner(ldc, lrack, h).unwrap_or(0);
            match first {
                None => first = Some(node),
                Some(n) if n != node => return true,
                Some(_) => {}
            }
        }
        false
    }
}
