//! Writes replicated as their effect (issue 12): a command that would do something else in
//! each rack runs once, on the owner in the local rack, and the other racks get what it did,
//! as Redis replicates such commands to its own replicas:
//!
//! ```text
//!   SPOP s 3      ─► owner: "a" "b" "c" ─► the client; every other rack: SREM s a b c
//!   XADD x * f v  ─► owner: "1700-0"    ─► the client; every other rack: XADD x 1700-0 f v
//! ```
//!
//! Such a write runs at DC_ONE whatever the consistency level (a quorum would run it in every
//! rack: the very divergence this avoids). Its request keeps its bytes until its reply is in
//! (the XADD effect is the request with the chosen ID); a failed write replicates nothing.

use super::Core;
use crate::msg::{Effect, MsgRef};
use crate::proto::redis::cmd;
use crate::proto::ARGS_MAX;

impl Core {
    /// Mark a client's write that must be replicated as its effect (in a cluster that
    /// replicates at all).
    pub(super) fn mark_effect(&mut self, mref: MsgRef) {
        let Some(m) = self.bufs.msgs.get(mref) else {
            return;
        };
        let effect = match m.req.cmd {
            cmd::SPOP => Effect::Spop,
            // The ID comes after the key and the options: the first argument that is `*`
            // (an option's value is never `*`). Past the recorded arguments: as it is.
            cmd::XADD if !m.req.inline => {
                let nargs = (m.req.nargs as usize).min(ARGS_MAX);
                let star = (2..nargs).find(|&i| {
                    m.req.arg(i).is_some_and(|s| s.len == 1) && {
                        self.bufs.req_arg(mref, i, &mut self.scratch.arg);
                        self.scratch.arg == b"*"
                    }
                });
                match star {
                    Some(i) => Effect::XaddId(i as u8),
                    None => Effect::None,
                }
            }
            _ => Effect::None,
        };
        if let Some(m) = self.bufs.msgs.get_mut(mref) {
            m.effect = effect;
        }
    }

    /// A write replicated as its effect got its reply: send the effect to the other racks
    /// (unless the write failed), then let its request bytes go.
    pub(super) fn replicate_effect(&mut self, mref: MsgRef) {
        let Some(m) = self.bufs.msgs.get(mref) else {
            return;
        };
        let (effect, failed) = (m.effect, m.rsp.is_error);
        let client = m.owner.map_or(u32::MAX, |o| o.idx);
        let mut reply = std::mem::take(&mut self.scratch.out);
        crate::mbuf::gather(&self.bufs.mbufs, &m.rsp_segs, 0, m.rsp_len, &mut reply);
        let mut req = std::mem::take(&mut self.scratch.key);
        req.clear();
        let built = !failed
            && match effect {
                Effect::None => false,
                Effect::Spop => self.srem_of(mref, &reply, &mut req),
                Effect::XaddId(i) => self.xadd_with_id(mref, i as usize, &reply, &mut req),
            };
        self.scratch.out = reply;
        if built {
            let h = self.key_hash(mref);
            if let Some(e) = self.bufs.msgs.alloc(self.now_ns, None) {
                if let Some(em) = self.bufs.msgs.get_mut(e) {
                    self.bufs.mbufs.append_bytes(&mut em.req_segs, &req);
                    em.req_len = req.len();
                    em.is_write = true;
                }
                self.replicate(client, e, h, false);
                self.bufs.free_msg(e);
            }
        }
        self.scratch.key = req;
        if let Some(m) = self.bufs.msgs.get_mut(mref) {
            m.effect = Effect::None;
            self.bufs.mbufs.release(&mut m.req_segs);
        }
    }

    /// `SREM key members...` of the members an SPOP reply names; false when it popped none.
    fn srem_of(&mut self, mref: MsgRef, reply: &[u8], out: &mut Vec<u8>) -> bool {
        let mut members = std::mem::take(&mut self.scratch.ranges);
        let ok = crate::proto::fanout::popped_members(reply, &mut members) && !members.is_empty();
        if ok {
            self.bufs.req_arg(mref, 1, &mut self.scratch.arg);
            let key = &self.scratch.arg;
            out.extend_from_slice(format!("*{}\r\n$4\r\nSREM\r\n", 2 + members.len()).as_bytes());
            out.extend_from_slice(format!("${}\r\n", key.len()).as_bytes());
            out.extend_from_slice(key);
            out.extend_from_slice(b"\r\n");
            for r in &members {
                out.extend_from_slice(format!("${}\r\n", r.len()).as_bytes());
                out.extend_from_slice(&reply[r.clone()]);
                out.extend_from_slice(b"\r\n");
            }
        }
        self.scratch.ranges = members;
        ok
    }

    /// The XADD request with its `*` (argument `i`) replaced by the ID the reply names.
    fn xadd_with_id(&mut self, mref: MsgRef, i: usize, reply: &[u8], out: &mut Vec<u8>) -> bool {
        let Some(id) = crate::proto::fanout::bulk(reply) else {
            return false; // NOMKSTREAM on a missing stream: a nil, nothing added
        };
        let Some(m) = self.bufs.msgs.get(mref) else {
            return false;
        };
        let Some(star) = m.req.arg(i) else {
            return false;
        };
        let held: usize = m.req_segs.iter().map(|s| s.len()).sum();
        if held != m.req_len {
            return false;
        }
        let mut whole = Vec::with_capacity(m.req_len);
        crate::mbuf::gather(&self.bufs.mbufs, &m.req_segs, 0, m.req_len, &mut whole);
        // `$1\r\n*\r\n` becomes `$<n>\r\n<id>\r\n`; everything around it stays.
        let (head, tail) = (star.start as usize - 4, star.end() as usize + 2);
        if whole.get(head..tail) != Some(b"$1\r\n*\r\n") {
            return false;
        }
        out.extend_from_slice(&whole[..head]);
        out.extend_from_slice(format!("${}\r\n", id.len()).as_bytes());
        out.extend_from_slice(id);
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&whole[tail..]);
        true
    }
}
