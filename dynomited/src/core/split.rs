//! Multi-key requests whose keys live on several nodes of the local rack (`MGET`, `MSET`,
//! `DEL`, `EXISTS`, `UNLINK`, `TOUCH`, memcached `get`/`gets`): one fragment per owner, each
//! coordinated on its own, answered in key order once all are in (SPEC §8.2). The plan is
//! `cluster::SplitPlan`'s; the coalescing `collect.rs`'s.
//!
//! A fragment's keys and values are references to the original request's bytes; only the
//! small protocol headers around them are written.

use super::collect::{Collect, SplitKind};
use super::route::Dispatch;
use super::Core;
use crate::cluster::SplitPlan;
use crate::mbuf::Seg;
use crate::msg::MsgRef;
use crate::proto::error::DynError;
use crate::proto::redis;
use crate::proto::{Protocol, Span};

impl Core {
    /// Split `mref` into one fragment per node of the local rack when its keys live on
    /// several. Returns false (nothing done) when they all live on one node: the request is
    /// then routed whole, which answers the same.
    pub(super) fn split(
        &mut self,
        client: u32,
        mref: MsgRef,
        write: bool,
        kind: SplitKind,
    ) -> bool {
        if !self.place.needs_hash() {
            return false;
        }
        let Some(msg) = self.bufs.msgs.get(mref) else {
            return false;
        };
        if msg.req.keys.len() < 2 {
            return false;
        }
        let kv = !msg.req.vals.is_empty();
        if kv && msg.req.vals.len() != msg.req.keys.len() {
            return false;
        }
        let mut keys = std::mem::take(&mut self.scratch.keys);
        keys.clear();
        keys.extend_from_slice(&msg.req.keys);
        // The tagged key, as every other request is placed (Dynomite places memcached
        // multi-get keys whole, and so looks for tagged keys on the wrong node).
        let mut hashes = std::mem::take(&mut self.scratch.hashes);
        hashes.clear();
        for &k in &keys {
            hashes.push(self.span_hash(mref, k));
        }
        // Keys go together when they live on one node in every rack: then each fragment is
        // one request in every rack its copies reach.
        let sigs = &mut self.scratch.nodes;
        sigs.clear();
        for &h in &hashes {
            self.place.signature(h, sigs);
        }
        let mut plan = std::mem::take(&mut self.scratch.plan);
        let place = &self.place;
        plan.plan_signatures(sigs, place.signature_len(), |i| {
            place.local_owner(hashes[i])
        });
        self.scratch.hashes = hashes;
        let split = plan.fragments() > 1;
        if split {
            self.split_send(client, mref, write, kind, &keys, &mut plan);
        }
        self.scratch.plan = plan;
        self.scratch.keys = keys;
        split
    }

    fn split_send(
        &mut self,
        client: u32,
        mref: MsgRef,
        write: bool,
        kind: SplitKind,
        keys: &[Span],
        plan: &mut SplitPlan,
    ) {
        let n = plan.fragments();
        let agg = self.agg_alloc(mref, Collect::Split(kind), n);
        // The collector keeps the plan (to put the replies back in key order); the scratch
        // gets the collector's old vectors.
        std::mem::swap(&mut self.coll.get_mut(agg).plan, plan);
        let resp3 = self.client_of(client).is_some_and(|c| c.resp3);
        for f in 0..n {
            let Some(frag) = self.build_fragment(mref, agg, keys, f as u16) else {
                self.agg_part_failed(mref, f as u16, DynError::Unknown);
                continue;
            };
            if let Dispatch::Forward = self.coordinate(client, frag, write, true) {
                self.forward_local(client, frag, Self::pool_of(resp3));
            }
        }
        self.agg_built(mref, agg);
    }

    /// The request for fragment `f`: the command re-encoded with that fragment's keys (and
    /// values), in the original order.
    fn build_fragment(&mut self, mref: MsgRef, agg: u32, keys: &[Span], f: u16) -> Option<MsgRef> {
        let orig = self.bufs.msgs.get(mref)?;
        let (cmd, write, noreply) = (orig.req.cmd, orig.is_write, orig.req.noreply);
        let mut vals = std::mem::take(&mut self.scratch.vals);
        vals.clear();
        vals.extend_from_slice(&orig.req.vals);
        let word = orig.req.args[0];
        let mine = self.coll.get(agg).plan.keys_of(f as usize).count();
        let frag = self.bufs.msgs.alloc(self.now_ns, None)?;
        let mut segs: Vec<Seg> = Vec::new();
        let mut info = std::mem::take(&mut self.bufs.msgs.get_mut(frag)?.req);
        info.clear();
        let per_key = if vals.is_empty() { 1 } else { 2 };
        let hdr = &mut self.scratch.bytes;
        hdr.clear();
        match self.proto {
            Protocol::Redis => {
                use std::io::Write;
                let name = redis::spec(cmd).name.as_bytes();
                let nargs = 1 + per_key * mine;
                let _ = write!(hdr, "*{nargs}\r\n${}\r\n", name.len());
                hdr.extend_from_slice(name);
                hdr.extend_from_slice(b"\r\n");
                info.nargs = nargs as u32;
            }
            Protocol::Memcache => {
                // `get`/`gets`: the original command word, then the keys.
                let mut w = std::mem::take(&mut self.scratch.key);
                self.bufs.req_bytes(mref, word, &mut w);
                self.scratch.bytes.extend_from_slice(&w);
                self.scratch.key = w;
                info.nargs = 1 + mine as u32;
            }
        }
        info.cmd = cmd;
        let mut len = 0usize;
        for (i, &key) in keys.iter().enumerate() {
            if self.coll.get(agg).plan.placement[i].0 != f {
                continue;
            }
            let val = if per_key == 2 {
                vals.get(i).copied()
            } else {
                None
            };
            let items = [Some(key), val];
            for (j, item) in items.into_iter().enumerate() {
                let Some(span) = item else { continue };
                let hdr = &mut self.scratch.bytes;
                match self.proto {
                    Protocol::Redis => {
                        use std::io::Write;
                        let _ = write!(hdr, "${}\r\n", span.len);
                    }
                    Protocol::Memcache => hdr.push(b' '),
                }
                self.flush_header(&mut segs, &mut len);
                if j == 0 {
                    info.keys.push(Span::new(len as u32, span.len));
                } else {
                    info.vals.push(Span::new(len as u32, span.len));
                }
                let orig = self.bufs.msgs.get(mref)?;
                crate::mbuf::slice_into(
                    &mut self.bufs.mbufs,
                    &orig.req_segs,
                    span.start as usize,
                    span.len as usize,
                    &mut segs,
                );
                len += span.len as usize;
                if self.proto == Protocol::Redis {
                    self.scratch.bytes.extend_from_slice(b"\r\n");
                }
            }
        }
        if self.proto == Protocol::Memcache {
            self.scratch.bytes.extend_from_slice(b"\r\n");
        }
        self.flush_header(&mut segs, &mut len);
        self.scratch.vals = vals;
        let m = self.bufs.msgs.get_mut(frag)?;
        m.req = info;
        m.req_segs = segs;
        m.req_len = len;
        m.req.noreply = noreply;
        m.is_write = write;
        m.parent = Some(mref);
        m.slot = f;
        Some(frag)
    }

    /// Move the header bytes composed so far into the fragment's segments.
    fn flush_header(&mut self, segs: &mut Vec<Seg>, len: &mut usize) {
        let hdr = &mut self.scratch.bytes;
        if !hdr.is_empty() {
            self.bufs.append(segs, hdr);
            *len += hdr.len();
            hdr.clear();
        }
    }
}
