//! A request's reply, wherever it comes from: the datastore's (matched in `outbound.rs`), a
//! child's handed up to its parent, or made by the proxy itself — its own answers and every
//! error, which [`crate::proto::error::error_reply`] turns into bytes in one place. Then
//! [`Core::complete`] marks the message done and wakes its client, which writes replies
//! strictly in request order (`client.rs`), so an error never overtakes an earlier reply.
//!
//! ```text
//!   datastore reply ─┐
//!   child's reply ───┼─► complete(msg) ─► parent? ─► its collector part, or its reply
//!   answer(bytes) ───┤        │          peer request? ─► DMSG_RES header in front
//!   answer_failure ──┘        └─► Done ─► client queue front? ─► dirty (written this loop)
//! ```

use super::Core;
use crate::conn::HARD_PENDING_BYTES;
use crate::msg::{MsgRef, MsgState, NO_AGG};
use crate::peer::{write_header, MsgType, FLAG_RESP3};
use crate::proto::error::{error_reply, DynError, Failure};

impl Core {
    /// Attach a reply the proxy built itself and mark the message done.
    pub(super) fn answer(&mut self, mref: MsgRef, reply: &[u8]) {
        if self.bufs.set_reply(mref, reply) {
            self.complete(mref);
        }
    }

    /// Answer with the error reply for `f` (counted in `forward_error`).
    pub(super) fn answer_failure(&mut self, mref: MsgRef, f: Failure<'_>) {
        let Some(m) = self.bufs.msgs.get(mref) else {
            return;
        };
        let noreply = m.req.noreply;
        self.scratch.bytes.clear();
        error_reply(self.proto, f, noreply, &mut self.scratch.bytes);
        self.answer_error_bytes(mref);
    }

    /// Answer a request the parser found malformed with its protocol's error reply.
    pub(super) fn answer_req_error(&mut self, mref: MsgRef) {
        let Some(m) = self.bufs.msgs.get(mref) else {
            return;
        };
        let Some(err) = m.req.error.as_ref() else {
            return;
        };
        self.scratch.bytes.clear();
        error_reply(
            self.proto,
            Failure::Request(err),
            m.req.noreply,
            &mut self.scratch.bytes,
        );
        self.answer_error_bytes(mref);
    }

    /// Answer with one of Dynomite's own errors (`-ERR Storage: ...` / `SERVER_ERROR ...`).
    pub(super) fn answer_dyn_error(&mut self, mref: MsgRef, err: DynError) {
        self.answer_failure(mref, Failure::Dynomite(err));
    }

    /// The error reply composed in `scratch.bytes` becomes the message's reply.
    fn answer_error_bytes(&mut self, mref: MsgRef) {
        if let Some(m) = self.bufs.msgs.get_mut(mref) {
            m.rsp.is_error = true;
        }
        if self.bufs.set_reply(mref, &self.scratch.bytes) {
            self.stats.pool.forward_error += 1;
            self.complete(mref);
        }
    }

    /// A request's reply is ready: wake its client, or drop it if the client is gone.
    pub(super) fn complete(&mut self, mref: MsgRef) {
        // One look at the message for the common case (a client's reply, nothing else to do).
        let Some(m) = self.bufs.msgs.get(mref) else {
            return;
        };
        let (child, effect, peer) = (
            m.parent.is_some(),
            m.effect != crate::msg::Effect::None,
            m.peer.is_some(),
        );
        if child {
            self.relay_to_parent(mref);
            return;
        }
        if effect {
            self.replicate_effect(mref);
        }
        if peer {
            self.peer_reply(mref);
        }
        let Some(msg) = self.bufs.msgs.get_mut(mref) else {
            return;
        };
        msg.state = MsgState::Done;
        let (owner, swallow, len) = (msg.owner, msg.swallow, msg.rsp_len);
        let owner = match owner {
            Some(o) if !swallow && self.rx.live(o) => o,
            _ => return self.bufs.free_msg(mref),
        };
        if let Some(c) = self.inbound_of(owner.idx) {
            c.pending_bytes += len;
            c.saw_reply(len);
            let over = c.pending_bytes > HARD_PENDING_BYTES;
            // Only the front can be written; a done reply behind a pending one waits.
            let front = c.queue.front() == Some(&mref);
            if over {
                self.work.overflowing.push(owner.idx);
            }
            if front {
                self.work.dirty_clients.push(owner.idx);
            }
        }
    }

    /// A peer's request, answered: framed as a DMSG_RES, and from the dnode client in-queue
    /// to its out-queue.
    fn peer_reply(&mut self, mref: MsgRef) {
        let peer_in = self
            .bufs
            .msgs
            .get(mref)
            .filter(|m| !m.swallow && m.state == MsgState::Pending)
            .map(|m| m.req_len as u64);
        self.frame_peer_reply(mref);
        if let Some(req_len) = peer_in {
            let rsp_len = self.bufs.msgs.get(mref).map_or(0, |m| m.rsp_len as u64);
            let p = &mut self.stats.pool;
            p.dnode_client_in_queue = p.dnode_client_in_queue.saturating_sub(1);
            p.dnode_client_in_queue_bytes = p.dnode_client_in_queue_bytes.saturating_sub(req_len);
            p.dnode_client_out_queue += 1;
            p.dnode_client_out_queue_bytes += rsp_len;
        }
    }

    /// A child hands its reply to its parent and is freed: into the parent's collector, or,
    /// for a parent without one (the owner in another node of the rack, a failover read),
    /// as the parent's reply (the segments move; nothing is copied). Returns false if `mref`
    /// has no parent.
    fn relay_to_parent(&mut self, mref: MsgRef) -> bool {
        let Some(msg) = self.bufs.msgs.get_mut(mref) else {
            return false;
        };
        let Some(parent) = msg.parent.take() else {
            return false;
        };
        let slot = msg.slot;
        // The reply's segments move out; a spare vector (with its capacity) takes their
        // place, and whichever vector comes back empty is the next spare: no message is
        // left with a vector that must grow again.
        let spare = std::mem::take(&mut self.scratch.relay_segs);
        let mut segs = std::mem::replace(&mut msg.rsp_segs, spare);
        let (len, info) = (msg.rsp_len, msg.rsp);
        self.bufs.free_msg(mref);
        match self.bufs.msgs.get(parent).map(|p| (p.state, p.agg)) {
            Some((MsgState::Pending, agg)) if agg != NO_AGG => {
                self.agg_part(parent, slot, &mut segs, len, info.is_error);
            }
            Some((MsgState::Pending, _)) => {
                if self.bufs.set_reply_segs(parent, &mut segs, len) {
                    if let Some(p) = self.bufs.msgs.get_mut(parent) {
                        p.rsp = info;
                    }
                    self.complete(parent);
                }
            }
            _ => self.bufs.mbufs.release(&mut segs),
        }
        segs.clear();
        self.scratch.relay_segs = segs;
        true
    }

    /// A reply to another node's request goes back as a DMSG_RES frame with the request's id:
    /// the header is put in front of the reply's segments.
    fn frame_peer_reply(&mut self, mref: MsgRef) {
        let Some(msg) = self.bufs.msgs.get_mut(mref) else {
            return;
        };
        let Some(p) = msg.peer.take() else { return };
        if msg.req.noreply && msg.rsp_len == 0 {
            return; // memcached noreply: nothing goes back
        }
        let flags = if p.resp3 { FLAG_RESP3 } else { 0 };
        let hdr = &mut self.scratch.bytes;
        hdr.clear();
        write_header(hdr, p.id, MsgType::Res, flags, p.same_dc, msg.rsp_len);
        let segs = &mut self.scratch.segs;
        segs.clear();
        self.bufs
            .mbufs
            .append_shared(&mut self.bufs.shared, segs, hdr);
        segs.append(&mut msg.rsp_segs);
        std::mem::swap(segs, &mut msg.rsp_segs);
        msg.rsp_len += hdr.len();
    }
}
