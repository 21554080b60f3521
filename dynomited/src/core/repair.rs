//! Read repair (SPEC §4.7; the scheme and its scripts are `proto::redis::repair`'s):
//! covered writes are rewritten to record their moment on every replica, quorum reads of
//! the repairable commands to answer with theirs; once every reply of such a read is in,
//! the newest value answers the client and is written back to the replicas behind it.
//!
//! ```text
//!   SET/DEL/HSET/...  ─► rewrite (zero-copy) ─► replicated as usual
//!   GET/HGET/...  at a quorum level ─► rewrite ─► Collect::Repair (waits for every reply)
//!        ─► decide: newest (status, ts) ─► the client gets its value
//!                                       ─► each stale replica: the winner's write, same ts
//!                                       ─► all agree deleted, older than hints_max_age:
//!                                          the tombstone is cleaned up on every replica
//! ```
//!
//! Active while `read_repairs` is on and both the read and the write consistency are above
//! DC_ONE, through a cluster that replicates, for RESP2 clients.

use super::Core;
use crate::cluster::quorum::{self, Decision, VoteState};
use crate::conn::PoolKind;
use crate::msg::MsgRef;
use crate::peer::MsgType;
use crate::proto::merge::Checksum;
use crate::proto::redis::repair::{self, Read, Versioned};
use crate::proto::{Protocol, Span, ARGS_MAX};
use crate::types::Consistency;

impl Core {
    /// Whether read repair is on now (SPEC §4.7: the flag, and both levels above DC_ONE).
    pub(super) fn repair_active(&self) -> bool {
        self.node.read_repairs
            && self.proto == Protocol::Redis
            && self.node.read_consistency != Consistency::DcOne
            && self.node.write_consistency != Consistency::DcOne
            && self.place.replicated()
    }

    /// A covered write records its moment: rewritten in place into its script.
    pub(super) fn record_write(&mut self, mref: MsgRef) {
        use crate::proto::redis::cmd;
        let Some(m) = self.bufs.msgs.get(mref) else {
            return;
        };
        if m.req.inline || m.effect != crate::msg::Effect::None {
            return;
        }
        let (id, nargs, nkeys) = (m.req.cmd, m.req.nargs, m.req.keys.len());
        // The words a shape check reads: SET's options, ZADD's first argument (read only
        // for those: a plain SET reads nothing).
        let probe = match id {
            cmd::SET if nargs as usize > ARGS_MAX => return,
            cmd::SET => 3..nargs as usize,
            cmd::ZADD => 2..3,
            _ => 0..0,
        };
        // The probed arguments side by side in one scratch buffer (nothing allocated).
        let mut words = std::mem::take(&mut self.scratch.out);
        words.clear();
        let mut at = [(0usize, 0usize); ARGS_MAX];
        for i in probe.clone() {
            let Some(span) = self.bufs.msgs.get(mref).and_then(|m| m.req.arg(i)) else {
                self.scratch.out = words;
                return;
            };
            let start = words.len();
            let segs = &self.bufs.msgs.get(mref).expect("live").req_segs;
            let (from, len) = (span.start as usize, span.len as usize);
            crate::mbuf::gather_append(&self.bufs.mbufs, segs, from, len, &mut words);
            at[i] = (start, words.len());
        }
        let arg = |i: usize| probe.contains(&i).then(|| &words[at[i].0..at[i].1]);
        let kind = repair::write_kind(id, nargs, nkeys, arg);
        self.scratch.out = words;
        let Some(kind) = kind else {
            return;
        };
        if self.rewrite_versioned(mref, repair::write_body(kind), nkeys) {
            self.stats.repair.writes += 1;
        }
    }

    /// A repairable read at a quorum level answers with its moment: rewritten in place,
    /// marked for [`Collect::Repair`](super::collect::Collect::Repair). False when it is not
    /// one.
    pub(super) fn versioned_read(&mut self, mref: MsgRef) -> bool {
        let Some(m) = self.bufs.msgs.get(mref) else {
            return false;
        };
        if m.req.inline {
            return false;
        }
        let read = repair::read_kind(m.req.cmd, m.req.nargs);
        let Some(body) = repair::read_body(read) else {
            return false;
        };
        let field = m.req.arg(2);
        if !self.rewrite_versioned(mref, body, 1) {
            return false;
        }
        if let Some(m) = self.bufs.msgs.get_mut(mref) {
            m.versioned = read;
            if let (true, Some(_)) = (read.has_field(), field) {
                // The field's new place: right after the key (rewrite_versioned moved both).
                let f = m.req.args[6];
                m.req.vals.clear();
                m.req.vals.push(f);
            }
        }
        true
    }

    /// Replace a request by `EVAL body <nkeys+2> ._add-set ._rem-set <its bytes from the
    /// first key on> <now>`: the header and the timestamp are the proxy's bytes, the rest
    /// references the request's. False (the request unchanged) when its bytes are not laid
    /// out as expected.
    fn rewrite_versioned(&mut self, mref: MsgRef, body: &'static str, nkeys: usize) -> bool {
        let Some(m) = self.bufs.msgs.get(mref) else {
            return false;
        };
        let Some(&key) = m.req.keys.first() else {
            return false;
        };
        let (nargs, old_len) = (m.req.nargs, m.req_len);
        let held: usize = m.req_segs.iter().map(|s| s.len()).sum();
        if held != old_len {
            return false;
        }
        // Where the first key's `$len` header starts.
        let digits = repair::count_digits(u64::from(key.len));
        let Some(tail) = (key.start as usize).checked_sub(digits + 3) else {
            return false;
        };
        let probe = Span::new(tail as u32, (digits + 3) as u32);
        let mut seen = std::mem::take(&mut self.scratch.key);
        let ok = self.bufs.req_bytes(mref, probe, &mut seen)
            && seen.first() == Some(&b'$')
            && seen.ends_with(b"\r\n")
            && std::str::from_utf8(&seen[1..seen.len() - 2])
                .ok()
                .and_then(|d| d.parse::<u32>().ok())
                == Some(key.len);
        self.scratch.key = seen;
        if !ok {
            return false;
        }
        // The keys end where the last one's CRLF does: the metadata sets go there.
        let Some(keys_end) = self
            .bufs
            .msgs
            .get(mref)
            .and_then(|m| m.req.keys.last())
            .map(|k| (k.start + k.len) as usize + 2)
            .filter(|&e| e <= old_len)
        else {
            return false;
        };
        let hdr = &mut self.scratch.bytes;
        hdr.clear();
        let body_at = repair::rewrite_head(body, nargs, nkeys, hdr);
        let head_len = hdr.len();
        let mut segs = std::mem::take(&mut self.scratch.segs);
        segs.clear();
        self.bufs
            .mbufs
            .append_shared(&mut self.bufs.shared, &mut segs, &self.scratch.bytes);
        let orig = &self.bufs.msgs.get(mref).expect("live").req_segs;
        crate::mbuf::slice_into(&mut self.bufs.mbufs, orig, tail, keys_end - tail, &mut segs);
        let hdr = &mut self.scratch.bytes;
        hdr.clear();
        repair::meta_keys(hdr);
        let meta_len = hdr.len();
        self.bufs
            .mbufs
            .append_shared(&mut self.bufs.shared, &mut segs, &self.scratch.bytes);
        let orig = &self.bufs.msgs.get(mref).expect("live").req_segs;
        let rest = old_len - keys_end;
        crate::mbuf::slice_into(&mut self.bufs.mbufs, orig, keys_end, rest, &mut segs);
        let hdr = &mut self.scratch.bytes;
        hdr.clear();
        repair::ts_trailer(crate::stats::counters::unix_ms(), hdr);
        let trailer = hdr.len();
        self.bufs
            .mbufs
            .append_shared(&mut self.bufs.shared, &mut segs, &self.scratch.bytes);
        let m = self.bufs.msgs.get_mut(mref).expect("live");
        std::mem::swap(&mut m.req_segs, &mut segs);
        self.bufs.mbufs.release(&mut segs);
        self.scratch.segs = segs;
        // Keys move by the header's growth; what follows them by the metadata's too.
        let shift = |s: Span| {
            let by = head_len - tail
                + if (s.start as usize) < keys_end {
                    0
                } else {
                    meta_len
                };
            Span::new((s.start as usize + by) as u32, s.len)
        };
        let old = m.req.args;
        let mut args = [Span::default(); ARGS_MAX];
        args[0] = Span::new(7 + repair::count_digits(u64::from(nargs) + 5) as u32, 4);
        args[1] = Span::new(body_at as u32, body.len() as u32);
        // The original keys are arguments 3.. of the script, the arguments after them 5 on
        // (the metadata sets between).
        for (i, a) in old.iter().enumerate().skip(1) {
            let j = if i <= nkeys { i + 2 } else { i + 4 };
            if j < ARGS_MAX && i < nargs as usize {
                args[j] = shift(*a);
            }
        }
        m.req.args = args;
        for k in m.req.keys.iter_mut() {
            *k = shift(*k);
        }
        for v in m.req.vals.iter_mut() {
            *v = shift(*v);
        }
        m.req_len = head_len + (old_len - tail) + meta_len + trailer;
        m.req.nargs = nargs + 5;
        m.req.cmd = crate::proto::redis::cmd::EVAL;
        true
    }

    /// Every reply of a versioned read is in: answer with the newest value (or, when no
    /// moment decides, with the value a quorum agrees on), and repair the replicas behind.
    pub(super) fn finish_repair(&mut self, parent: MsgRef, idx: u32, level: Consistency) {
        let parts = self.decide_repair(parent, idx, level);
        self.scratch.versioned = parts;
    }

    /// [`Core::finish_repair`]; gives back the replies' vector (scratch, reused).
    fn decide_repair(
        &mut self,
        parent: MsgRef,
        idx: u32,
        level: Consistency,
    ) -> Vec<Option<Versioned>> {
        let read = self
            .bufs
            .msgs
            .get(parent)
            .map_or(Read::None, |m| m.versioned);
        self.coll.gather(idx, &self.bufs.mbufs);
        let n = self.coll.get(idx).votes().len();
        let mut parts = std::mem::take(&mut self.scratch.versioned);
        parts.clear();
        for k in 0..n {
            let good = self.coll.get(idx).votes()[k].state == VoteState::Good;
            parts.push(if good {
                repair::parse_versioned(self.coll.part(k))
            } else {
                None
            });
        }
        self.stats.repair.reads += 1;
        let coll = &self.coll;
        let outcome = repair::decide(&parts, |k| {
            let p = coll.part(k);
            parts[k].as_ref().map_or(&p[..0], |v| &p[v.value.clone()])
        });
        // The client's answer needs a quorum of the local DC's replies, as any quorum read.
        let ldc = self.place.local_dc() as u16;
        let votes = self.coll.get(idx).votes();
        let good_local = (0..n)
            .filter(|&k| votes[k].dc == ldc && parts[k].is_some())
            .count();
        let mut quorum_met = good_local >= self.place.quorum(ldc as usize);
        // DC_EACH_SAFE_QUORUM: every DC's quorum, as the checksum quorum asks.
        if level == Consistency::DcEachSafeQuorum {
            for k in 0..n {
                let dc = votes[k].dc;
                let good = (0..n)
                    .filter(|&j| votes[j].dc == dc && parts[j].is_some())
                    .count();
                quorum_met &= good >= self.place.quorum(dc as usize);
            }
        }
        // Repairs and clean-ups go out first: they need the request's key.
        if !outcome.stale.is_empty() || outcome.agreed_deleted {
            self.send_repairs(parent, idx, read, &parts, &outcome);
        }
        let answer = match outcome.winner {
            Some(w) if quorum_met => Some(w),
            _ => {
                // By the values alone (an unversioned reply counts as an error).
                let mut votes = std::mem::take(&mut self.scratch.votes);
                votes.clear();
                votes.extend_from_slice(self.coll.get(idx).votes());
                for (k, v) in votes.iter_mut().enumerate() {
                    match &parts[k] {
                        Some(p) => {
                            let mut c = Checksum::new();
                            c.update(&self.coll.part(k)[p.value.clone()]);
                            v.sum = c.finish();
                        }
                        None => v.state = VoteState::Error,
                    }
                }
                let place = &self.place;
                let decision = quorum::decide(&votes, level, ldc, |dc| place.quorum(dc), false);
                self.scratch.votes = votes;
                match decision {
                    Decision::Answer(k) => Some(k),
                    // A versioned reply answers with its value; anything else as it is.
                    Decision::NoQuorum(Some(k)) if parts[k].is_some() => {
                        self.count_no_quorum(parent);
                        Some(k)
                    }
                    Decision::NoQuorum(k) => {
                        self.finish_no_quorum(parent, idx, k);
                        return parts;
                    }
                    Decision::Wait | Decision::Merge { .. } => None,
                }
            }
        };
        match answer {
            Some(k) => {
                let v = parts[k].as_ref().expect("a versioned reply").value.clone();
                self.finish_with_slice(parent, idx, k, v);
            }
            None => self.finish_with_error(parent, idx, crate::proto::error::DynError::NoQuorum),
        }
        parts
    }

    /// The winner's write to every replica behind it; the tombstone clean-up to every
    /// replica when all agree on a delete older than `hints_max_age` (no hint older than it
    /// can still arrive and be let through by its absence).
    fn send_repairs(
        &mut self,
        parent: MsgRef,
        idx: u32,
        read: Read,
        parts: &[Option<Versioned>],
        outcome: &repair::Outcome,
    ) {
        let Some(m) = self.bufs.msgs.get(parent) else {
            return;
        };
        let (Some(&key), field) = (m.req.keys.first(), m.req.vals.first().copied()) else {
            return;
        };
        let mut k = Vec::new();
        let mut f = Vec::new();
        if !self.bufs.req_bytes(parent, key, &mut k) {
            return;
        }
        if let Some(field) = field {
            if !self.bufs.req_bytes(parent, field, &mut f) {
                return;
            }
        }
        if read.has_field() && field.is_none() {
            return;
        }
        let mut req = Vec::new();
        if let Some(w) = outcome.winner {
            let wv = parts[w].as_ref().expect("the winner replied");
            let stale = !outcome.stale.is_empty();
            if stale && repair::repair_request(read, &k, &f, self.coll.part(w), wv, &mut req) {
                self.stats.repair.keys += 1;
                for &s in &outcome.stale {
                    let node = self.coll.node_of(idx, s);
                    self.send_repair(node, &req);
                }
            }
            if outcome.agreed_deleted && read == Read::Get {
                let age = crate::stats::counters::unix_ms().saturating_sub(wv.ts);
                if age > self.cfg.peering.hints_max_age_ms {
                    repair::cleanup_request(&k, wv.ts, &mut req);
                    self.stats.repair.cleanups += 1;
                    for s in 0..parts.len() {
                        let node = self.coll.node_of(idx, s);
                        self.send_repair(node, &req);
                    }
                }
            }
        }
    }

    /// One repair write to `node`: this node's datastore, or a peer (kept as a hint when
    /// the peer cannot take it now). Nobody waits for its reply.
    fn send_repair(&mut self, node: usize, req: &[u8]) {
        let Some(e) = self.bufs.msgs.alloc(self.now_ns, None) else {
            return;
        };
        if let Some(em) = self.bufs.msgs.get_mut(e) {
            self.bufs.mbufs.append_bytes(&mut em.req_segs, req);
            em.req_len = req.len();
            em.req.cmd = crate::proto::redis::cmd::EVAL;
            em.is_write = true;
        }
        self.stats.repair.issued += 1;
        if node == 0 {
            if let Some(em) = self.bufs.msgs.get_mut(e) {
                em.swallow = true;
            }
            self.forward_local(u32::MAX, e, PoolKind::Main);
            return;
        }
        if self
            .send_copy(0, e, node, MsgType::Req, false, None)
            .is_none()
        {
            self.hint_request(node, e, MsgType::Req, false);
        }
        self.bufs.free_msg(e);
    }
}
