//! Reply collectors: a request answered from several replies (a quorum of replicas, or the
//! fragments of a split multi-key request) gathers them here, and is answered once what it
//! waits for is in (SPEC §4.5, §8.2).
//!
//! ```text
//!   child reply ─► fill(slot) ─► vote (dc, good|error, rank, checksum) + its bytes
//!                                  │
//!      quorum ─► cluster::quorum::decide ─► Answer(part) │ NoQuorum(part|error) │ Merge │ Wait
//!      split  ─► every fragment in ─► coalesce in key order (MGET, counts, OK, memcached get)
//! ```
//!
//! A collector's parts are filled by child messages whose `parent` is the request and whose
//! `slot` is the part. Collectors are pooled with their vectors, so a steady load of quorum
//! or split requests does not allocate.

use std::ops::Range;

use super::Core;
use crate::cluster::quorum::{self, Decision, Vote, VoteState};
use crate::cluster::SplitPlan;
use crate::mbuf::{MbufPool, Seg};
use crate::msg::{MsgRef, MsgState, NO_AGG};
use crate::proto::error::DynError;
use crate::proto::merge::{self, Checksum, NoMajority};
use crate::types::Consistency;

/// How a collector turns its parts into one reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Collect {
    /// Replicas of one request: pick the reply a quorum agrees on. `mget`: replies are
    /// arrays compared element by element when no whole reply has a quorum.
    Quorum {
        level: Consistency,
        mget: bool,
        /// A set reply: members compared in any order.
        unordered: bool,
    },
    /// Fragments of a split multi-key request, combined in key order.
    Split(SplitKind),
    /// A keyspace command run on every node of the local rack, combined as one
    /// redis-server holding all the data answers.
    Fanout(FanKind),
    /// Versioned replicas of a repairable read (read repair, `repair.rs`): decided once
    /// every reply is in, by the replicas' moments.
    Repair { level: Consistency },
    /// A write run on every node, answered once a quorum of the local DC's `racks` has it
    /// on each of its nodes (`quorum::broadcast_decide`; each vote's `dc` is its rack).
    Broadcast { racks: u16, quorum: u16, local: u16 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum FanKind {
    /// KEYS: the union.
    Keys,
    /// DBSIZE: the sum.
    Dbsize,
    /// RANDOMKEY: one node's key.
    RandomKey,
    /// SCAN: node `node` of the rack's `nodes` answered; its cursor is re-encoded.
    Scan { node: u16, nodes: u16 },
    /// INFO: part `local` (this node's) with the rack's keyspace section.
    Info { local: u16 },
    /// memcached `stats`: the rack's figures (part `local` is this node's), then the
    /// proxy's own counters.
    McStats { local: u16 },
}

/// How a split request's fragments are combined (the command table's word for it).
pub(super) use crate::proto::redis::Splitting as SplitKind;

/// The bytes of one part.
#[derive(Default)]
struct Reply {
    segs: Vec<Seg>,
    len: usize,
}

pub(super) struct Agg {
    collect: Collect,
    /// Per part: who it comes from and what it says (the quorum's input).
    votes: Vec<Vote>,
    replies: Vec<Reply>,
    /// Per part: the node it was sent to (read repair writes back to it).
    nodes: Vec<u16>,
    /// Parts in use (the vectors keep more for reuse).
    n: usize,
    pending: usize,
    arrived: u16,
    /// Set while the children are being sent: a child failing at once must not finish the
    /// collector before the others are out.
    pub building: bool,
    /// Split collectors: which fragment and position each key of the request has.
    pub plan: SplitPlan,
}

/// The pool of collectors, and the buffers merging and coalescing work in.
#[derive(Default)]
pub(super) struct Collectors {
    aggs: Vec<Agg>,
    free: Vec<u32>,
    /// Every part's bytes gathered contiguously, and each part's range in it.
    joined: Vec<u8>,
    ranges: Vec<Range<usize>>,
    /// One part's bytes while gathering; a checksum's work space.
    piece: Vec<u8>,
    /// The merged or coalesced reply.
    pub out: Vec<u8>,
    order: Vec<usize>,
}

impl Collectors {
    /// A collector for `n` parts.
    pub fn alloc(&mut self, collect: Collect, n: usize) -> u32 {
        let idx = match self.free.pop() {
            Some(i) => i,
            None => {
                self.aggs.push(Agg {
                    collect,
                    votes: Vec::new(),
                    replies: Vec::new(),
                    nodes: Vec::new(),
                    n: 0,
                    pending: 0,
                    arrived: 0,
                    building: false,
                    plan: SplitPlan::default(),
                });
                (self.aggs.len() - 1) as u32
            }
        };
        let a = &mut self.aggs[idx as usize];
        a.collect = collect;
        a.votes.clear();
        a.votes.resize(n, Vote::pending(0));
        a.nodes.clear();
        a.nodes.resize(n, 0);
        while a.replies.len() < n {
            // With room for a reply's segments: parts trade vectors with the replies they
            // take in, and a vector without room would have to grow in someone's hands.
            a.replies.push(Reply {
                segs: Vec::with_capacity(4),
                len: 0,
            });
        }
        debug_assert!(a.replies[..n].iter().all(|r| r.segs.is_empty()));
        a.n = n;
        a.pending = n;
        a.arrived = 0;
        a.building = true;
        idx
    }

    pub fn get(&self, idx: u32) -> &Agg {
        &self.aggs[idx as usize]
    }

    pub fn get_mut(&mut self, idx: u32) -> &mut Agg {
        &mut self.aggs[idx as usize]
    }

    /// Back to the pool, releasing the parts' bytes.
    pub fn free(&mut self, idx: u32, mbufs: &mut MbufPool) {
        let a = &mut self.aggs[idx as usize];
        for r in &mut a.replies[..a.n] {
            mbufs.release(&mut r.segs);
        }
        if a.plan.placement.capacity() > 4096 {
            a.plan = SplitPlan::default();
        }
        a.n = 0;
        self.free.push(idx);
    }

    pub fn is_split(&self, idx: u32) -> bool {
        self.aggs
            .get(idx as usize)
            .is_some_and(|a| matches!(a.collect, Collect::Split(_)))
    }

    /// Record part `slot`'s reply (moved in from `segs`, which comes back empty). False when
    /// the part was filled already or does not exist (the bytes are released).
    pub fn fill(
        &mut self,
        idx: u32,
        slot: u16,
        segs: &mut Vec<Seg>,
        len: usize,
        is_error: bool,
        mbufs: &mut MbufPool,
    ) -> bool {
        let a = &mut self.aggs[idx as usize];
        let slot = slot as usize;
        if slot >= a.n || a.votes[slot].state != VoteState::Pending {
            mbufs.release(segs);
            return false;
        }
        let vote = &mut a.votes[slot];
        vote.state = if is_error {
            VoteState::Error
        } else {
            VoteState::Good
        };
        if let (Collect::Quorum { unordered, .. }, false) = (a.collect, is_error) {
            let mut sum = None;
            if unordered {
                crate::mbuf::gather(mbufs, segs, 0, len, &mut self.piece);
                sum = merge::unordered_checksum(&self.piece, &mut self.ranges);
            }
            vote.sum = sum.unwrap_or_else(|| {
                let mut c = Checksum::new();
                for s in segs.iter() {
                    c.update(mbufs.slice(*s));
                }
                c.finish()
            });
        }
        vote.rank = a.arrived;
        let reply = &mut a.replies[slot];
        std::mem::swap(&mut reply.segs, segs);
        mbufs.release(segs);
        reply.len = len;
        a.arrived += 1;
        a.pending -= 1;
        true
    }

    /// Set the DC that part `slot`'s reply comes from (quorums are counted per DC; for a
    /// `Broadcast`, its rack).
    pub fn set_dc(&mut self, idx: u32, slot: usize, dc: usize) {
        self.aggs[idx as usize].votes[slot].dc = dc as u16;
    }

    /// Record the node part `slot` was sent to.
    pub fn set_node(&mut self, idx: u32, slot: usize, node: usize) {
        self.aggs[idx as usize].nodes[slot] = node as u16;
    }

    /// The node part `slot` was sent to.
    pub fn node_of(&self, idx: u32, slot: usize) -> usize {
        self.aggs[idx as usize].nodes[slot] as usize
    }

    /// Part `k`'s bytes, after [`Collectors::gather`].
    pub fn part(&self, k: usize) -> &[u8] {
        &self.joined[self.ranges[k].clone()]
    }

    /// Gather every part's bytes, for [`Collectors::part`].
    pub fn gather(&mut self, idx: u32, mbufs: &MbufPool) {
        self.gather_parts(idx, mbufs);
    }

    /// Take part `k`'s bytes out: `(segs, len, is_error)`.
    pub fn take_part(&mut self, idx: u32, k: usize, into: &mut Vec<Seg>) -> (usize, bool) {
        let a = &mut self.aggs[idx as usize];
        std::mem::swap(into, &mut a.replies[k].segs);
        (a.replies[k].len, a.votes[k].state == VoteState::Error)
    }

    /// Gather every part's bytes into `joined`, their ranges into `ranges`, in part order.
    fn gather_parts(&mut self, idx: u32, mbufs: &MbufPool) {
        self.joined.clear();
        self.ranges.clear();
        let a = &self.aggs[idx as usize];
        for r in &a.replies[..a.n] {
            let start = self.joined.len();
            crate::mbuf::gather(mbufs, &r.segs, 0, r.len, &mut self.piece);
            self.joined.extend_from_slice(&self.piece);
            self.ranges.push(start..self.joined.len());
        }
    }

    /// The element-wise merge of the local DC's good MGET replies into `out`; false when no
    /// majority could be found for some element and `how` says to fail.
    pub fn merge_elementwise(
        &mut self,
        idx: u32,
        local_dc: u16,
        quorum: usize,
        how: NoMajority,
        mbufs: &MbufPool,
    ) -> bool {
        self.gather_parts(idx, mbufs);
        quorum::merge_order(&self.aggs[idx as usize].votes, local_dc, &mut self.order);
        let replies: Vec<&[u8]> = self
            .order
            .iter()
            .map(|&i| &self.joined[self.ranges[i].clone()])
            .collect();
        merge::merge_elementwise(&replies, quorum, how, &mut self.out)
    }

    /// Combine a fanned-out request's replies into `out`; `Err((k, error))` as `coalesce`.
    pub fn fan_in(
        &mut self,
        idx: u32,
        kind: FanKind,
        pick: u64,
        proxy: &[u8],
        mbufs: &MbufPool,
    ) -> Result<(), (usize, bool)> {
        self.gather_parts(idx, mbufs);
        let parts: Vec<&[u8]> = self
            .ranges
            .iter()
            .map(|r| &self.joined[r.clone()])
            .collect();
        let res = match kind {
            FanKind::Scan { node, nodes } => {
                use crate::proto::fanout::{scan_reply, ScanError};
                let (node, nodes) = (node as usize, nodes as usize);
                return match scan_reply(parts[0], node, nodes, &mut self.out) {
                    Ok(()) => Ok(()),
                    Err(ScanError::NotAScan) => Err((0, merge::is_error(parts[0]))),
                    // Not the node's error: the client gets Dynomite's "too large".
                    Err(ScanError::CursorTooLarge) => Err((usize::MAX, false)),
                };
            }
            FanKind::Keys => crate::proto::fanout::keys_union(&parts, &mut self.out),
            FanKind::Info { local } => {
                crate::proto::fanout::info_keyspace(&parts, local as usize, &mut self.out)
            }
            FanKind::McStats { local } => {
                crate::proto::fanout::mc_stats(&parts, local as usize, proxy, &mut self.out)
            }
            FanKind::Dbsize => merge::coalesce_sum(&parts, &mut self.out),
            FanKind::RandomKey => crate::proto::fanout::random_key(&parts, pick, &mut self.out),
        };
        res.map_err(|k| (k, merge::is_error(parts[k])))
    }

    /// Coalesce a split request's fragments in key order into `out`. `keys` is only needed
    /// (and only gathered) for memcached multi-gets. `Err(k)`: fragment `k` is not a reply
    /// that can be coalesced; `Ok(true)` its own error reply is what the client gets.
    pub fn coalesce(
        &mut self,
        idx: u32,
        kind: SplitKind,
        keys: &[Vec<u8>],
        mbufs: &MbufPool,
    ) -> Result<(), (usize, bool)> {
        self.gather_parts(idx, mbufs);
        let a = &self.aggs[idx as usize];
        let frags: Vec<&[u8]> = self
            .ranges
            .iter()
            .map(|r| &self.joined[r.clone()])
            .collect();
        let res = match kind {
            SplitKind::Mget => merge::coalesce_mget(&a.plan.placement, &frags, &mut self.out),
            SplitKind::Sum => merge::coalesce_sum(&frags, &mut self.out),
            SplitKind::Ok => merge::coalesce_ok(&frags, &mut self.out),
            SplitKind::McGet => {
                let frag_of: Vec<u16> = a.plan.frag_of().collect();
                let keys: Vec<&[u8]> = keys.iter().map(|k| k.as_slice()).collect();
                merge::merge_memcache_get(&keys, &frag_of, &frags, &mut self.out)
            }
        };
        res.map_err(|k| (k, merge::is_error(frags[k])))
    }
}

impl Agg {
    pub fn collect(&self) -> Collect {
        self.collect
    }

    pub fn pending(&self) -> usize {
        self.pending
    }

    pub fn votes(&self) -> &[Vote] {
        &self.votes[..self.n]
    }
}

impl Core {
    /// A collector for `n` parts answering `parent`.
    pub(super) fn agg_alloc(&mut self, parent: MsgRef, collect: Collect, n: usize) -> u32 {
        let idx = self.coll.alloc(collect, n);
        if let Some(m) = self.bufs.msgs.get_mut(parent) {
            m.agg = idx;
        }
        idx
    }

    /// The collector of a request still waiting for its parts.
    fn agg_of(&self, parent: MsgRef) -> Option<u32> {
        self.bufs
            .msgs
            .get(parent)
            .filter(|p| p.state == MsgState::Pending && p.agg != NO_AGG)
            .map(|p| p.agg)
    }

    /// A child's reply (or error reply) for part `slot` of the collector of `parent`. The
    /// reply's segments move in; `segs` comes back empty (a vector to reuse).
    pub(super) fn agg_part(
        &mut self,
        parent: MsgRef,
        slot: u16,
        segs: &mut Vec<Seg>,
        len: usize,
        is_error: bool,
    ) {
        let Some(idx) = self.agg_of(parent) else {
            return self.bufs.mbufs.release(segs);
        };
        let mbufs = &mut self.bufs.mbufs;
        if self.coll.fill(idx, slot, segs, len, is_error, mbufs) {
            self.agg_check(parent);
        }
    }

    /// Part `slot` failed with one of Dynomite's errors (no connection, timeout, ...).
    pub(super) fn agg_part_failed(&mut self, parent: MsgRef, slot: u16, err: DynError) {
        self.scratch.bytes.clear();
        crate::proto::error::dyn_error_reply(self.proto, err, &mut self.scratch.bytes);
        let mut segs = Vec::new();
        self.bufs.append(&mut segs, &self.scratch.bytes);
        let len = self.scratch.bytes.len();
        self.agg_part(parent, slot, &mut segs, len, true);
    }

    /// Whether `parent` is a split request waiting for its fragments.
    pub(super) fn is_split_parent(&self, parent: MsgRef) -> bool {
        self.bufs
            .msgs
            .get(parent)
            .is_some_and(|m| m.agg != NO_AGG && self.coll.is_split(m.agg))
    }

    /// All children are out: the collector may decide from now on.
    pub(super) fn agg_built(&mut self, parent: MsgRef, idx: u32) {
        self.coll.get_mut(idx).building = false;
        self.agg_check(parent);
    }

    /// Answer `parent` once its collector has what it needs.
    fn agg_check(&mut self, parent: MsgRef) {
        let Some(idx) = self.agg_of(parent) else {
            return;
        };
        let a = self.coll.get(idx);
        if a.building {
            return;
        }
        let ldc = self.place.local_dc() as u16;
        match a.collect() {
            Collect::Split(kind) => {
                if a.pending() == 0 {
                    self.finish_split(parent, idx, kind);
                }
            }
            Collect::Fanout(kind) => {
                if a.pending() == 0 {
                    // A cheap pseudo-random pick for RANDOMKEY (xorshift of the clock).
                    let mut x = self.now_ns ^ 0x9e37_79b9_7f4a_7c15;
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let mut proxy = std::mem::take(&mut self.scratch.out);
                    proxy.clear();
                    if let FanKind::McStats { .. } = kind {
                        self.mc_proxy_stats(&mut proxy);
                    }
                    let merged = self.coll.fan_in(idx, kind, x, &proxy, &self.bufs.mbufs);
                    self.scratch.out = proxy;
                    match merged {
                        Ok(()) => self.finish_with_out(parent, idx),
                        Err((k, true)) => self.finish_with_part(parent, idx, k),
                        Err((usize::MAX, _)) => {
                            self.finish_with_error(parent, idx, DynError::PayloadTooLarge)
                        }
                        Err((_, false)) => self.finish_with_error(parent, idx, DynError::Generic),
                    }
                }
            }
            Collect::Broadcast {
                racks,
                quorum,
                local,
            } => {
                let (racks, quorum, local) = (racks.into(), quorum.into(), local.into());
                match quorum::broadcast_decide(a.votes(), racks, quorum, local) {
                    Decision::Answer(k) => self.finish_with_part(parent, idx, k),
                    Decision::NoQuorum(k) => self.finish_no_quorum(parent, idx, k),
                    Decision::Wait | Decision::Merge { .. } => {}
                }
            }
            Collect::Repair { level } => {
                if a.pending() == 0 {
                    self.finish_repair(parent, idx, level);
                }
            }
            Collect::Quorum { level, mget, .. } => {
                let place = &self.place;
                match quorum::decide(a.votes(), level, ldc, |dc| place.quorum(dc), mget) {
                    Decision::Wait => {}
                    Decision::Answer(k) => self.finish_with_part(parent, idx, k),
                    Decision::NoQuorum(k) => self.finish_no_quorum(parent, idx, k),
                    Decision::Merge { fallback } => {
                        let quorum = self.place.quorum(ldc as usize);
                        let how = if level == Consistency::DcQuorum {
                            NoMajority::TakeFirst
                        } else {
                            NoMajority::Fail
                        };
                        let mbufs = &self.bufs.mbufs;
                        if self.coll.merge_elementwise(idx, ldc, quorum, how, mbufs) {
                            self.finish_with_out(parent, idx);
                        } else {
                            self.finish_no_quorum(parent, idx, fallback);
                        }
                    }
                }
            }
        }
    }

    /// No quorum (counted): answer with part `k` or Dynomite's no-quorum error.
    pub(super) fn finish_no_quorum(&mut self, parent: MsgRef, idx: u32, k: Option<usize>) {
        self.count_no_quorum(parent);
        match k {
            Some(k) => self.finish_with_part(parent, idx, k),
            None => self.finish_with_error(parent, idx, DynError::NoQuorum),
        }
    }

    /// A request answered without a quorum (Dynomite's no-quorum counters).
    pub(super) fn count_no_quorum(&mut self, parent: MsgRef) {
        if self.bufs.msgs.get(parent).is_some_and(|m| m.is_write) {
            self.stats.pool.client_non_quorum_w_responses += 1;
        } else {
            self.stats.pool.client_non_quorum_r_responses += 1;
        }
    }

    /// Answer with part `k`'s bytes (moved, not copied).
    pub(super) fn finish_with_part(&mut self, parent: MsgRef, idx: u32, k: usize) {
        // The vectors trade places, so none loses its capacity (nothing to allocate later):
        // the collector's part gets scratch's, the request the part's, scratch the request's.
        let mut segs = std::mem::take(&mut self.scratch.part_segs);
        segs.clear();
        let (len, is_error) = self.coll.take_part(idx, k, &mut segs);
        self.agg_detach(parent, idx);
        if self.bufs.set_reply_segs(parent, &mut segs, len) {
            if let Some(p) = self.bufs.msgs.get_mut(parent) {
                p.rsp.is_error = is_error;
            }
            self.complete(parent);
        }
        segs.clear();
        self.scratch.part_segs = segs;
    }

    pub(super) fn finish_with_error(&mut self, parent: MsgRef, idx: u32, err: DynError) {
        self.agg_detach(parent, idx);
        self.answer_dyn_error(parent, err);
    }

    /// Answer with the bytes at `range` of part `k` (referenced, not copied).
    pub(super) fn finish_with_slice(
        &mut self,
        parent: MsgRef,
        idx: u32,
        k: usize,
        range: Range<usize>,
    ) {
        let mut segs = std::mem::take(&mut self.scratch.part_segs);
        segs.clear();
        self.coll.take_part(idx, k, &mut segs);
        // The request's own (empty) reply vector takes the value: its capacity is kept.
        let mut value = self
            .bufs
            .msgs
            .get_mut(parent)
            .map(|m| std::mem::take(&mut m.rsp_segs))
            .unwrap_or_default();
        crate::mbuf::slice_into(
            &mut self.bufs.mbufs,
            &segs,
            range.start,
            range.len(),
            &mut value,
        );
        self.bufs.mbufs.release(&mut segs);
        self.scratch.part_segs = segs;
        self.agg_detach(parent, idx);
        if self.bufs.set_reply_segs(parent, &mut value, range.len()) {
            self.complete(parent);
        }
    }

    /// Answer with the collectors' `out` (merged or coalesced bytes).
    fn finish_with_out(&mut self, parent: MsgRef, idx: u32) {
        self.agg_detach(parent, idx);
        if self.bufs.set_reply(parent, &self.coll.out) {
            self.complete(parent);
        }
    }

    /// The collector goes back to the pool; the request has none any more.
    fn agg_detach(&mut self, parent: MsgRef, idx: u32) {
        self.coll.free(idx, &mut self.bufs.mbufs);
        if let Some(p) = self.bufs.msgs.get_mut(parent) {
            p.agg = NO_AGG;
        }
    }

    fn finish_split(&mut self, parent: MsgRef, idx: u32, kind: SplitKind) {
        let mut keys: Vec<Vec<u8>> = Vec::new();
        if kind == SplitKind::McGet {
            if let Some(m) = self.bufs.msgs.get(parent) {
                for &k in &m.req.keys {
                    let mut v = Vec::new();
                    self.bufs.req_bytes(parent, k, &mut v);
                    keys.push(v);
                }
            }
        }
        match self.coll.coalesce(idx, kind, &keys, &self.bufs.mbufs) {
            Ok(()) => self.finish_with_out(parent, idx),
            // The fragment's own error (a peer or storage error, or the datastore's).
            Err((k, true)) => self.finish_with_part(parent, idx, k),
            Err((_, false)) => self.finish_with_error(parent, idx, DynError::Generic),
        }
    }
}
