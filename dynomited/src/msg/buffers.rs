//! The loop's memory for requests and replies: the message slab and the mbuf pool, with the
//! shared mbuf that the proxy's own bytes (its replies, frame headers, fragments' headers)
//! are appended to. Kept apart from the connections so that a handler can hold a connection
//! and the buffers at the same time.

use super::{MsgPool, MsgRef};
use crate::mbuf::{MbufId, MbufPool, Seg};

pub struct Buffers {
    pub mbufs: MbufPool,
    pub msgs: MsgPool,
    /// The shared mbuf the proxy's own bytes are written into (see `MbufPool::append_shared`).
    pub shared: Option<MbufId>,
}

impl Buffers {
    pub fn new(mbuf_size: usize, max_msgs: usize) -> Buffers {
        Buffers {
            mbufs: MbufPool::new(mbuf_size),
            msgs: MsgPool::new(max_msgs),
            shared: None,
        }
    }

    /// Append bytes the proxy made to `segs`, in the shared mbuf.
    pub fn append(&mut self, segs: &mut Vec<Seg>, bytes: &[u8]) {
        self.mbufs.append_shared(&mut self.shared, segs, bytes);
    }

    /// Release a message's bytes and free it (no-op for a stale reference).
    pub fn free_msg(&mut self, mref: MsgRef) {
        if let Some(msg) = self.msgs.get_mut(mref) {
            self.mbufs.release(&mut msg.req_segs);
            self.mbufs.release(&mut msg.rsp_segs);
            self.msgs.free(mref);
        }
    }

    /// Make `reply` (bytes the proxy built) the message's reply, dropping its request bytes
    /// (but a write replicated as its effect's: they are needed once the reply is in) and any
    /// earlier reply. False for a stale reference.
    pub fn set_reply(&mut self, mref: MsgRef, reply: &[u8]) -> bool {
        let Some(msg) = self.msgs.get_mut(mref) else {
            return false;
        };
        if msg.effect == super::Effect::None {
            self.mbufs.release(&mut msg.req_segs);
        }
        self.mbufs.release(&mut msg.rsp_segs);
        self.mbufs
            .append_shared(&mut self.shared, &mut msg.rsp_segs, reply);
        msg.rsp_len = reply.len();
        true
    }

    /// Make `segs` (references moved in, nothing copied) the message's reply, dropping its
    /// request bytes and any earlier reply. `segs` comes back empty (or holding the message's
    /// old reply segments, released). False, and `segs` released, for a stale reference.
    pub fn set_reply_segs(&mut self, mref: MsgRef, segs: &mut Vec<Seg>, len: usize) -> bool {
        let Some(msg) = self.msgs.get_mut(mref) else {
            self.mbufs.release(segs);
            return false;
        };
        if msg.effect == super::Effect::None {
            self.mbufs.release(&mut msg.req_segs);
        }
        self.mbufs.release(&mut msg.rsp_segs);
        std::mem::swap(&mut msg.rsp_segs, segs);
        msg.rsp_len = len;
        true
    }

    /// Copy the bytes of request argument `i` into `out` (replacing what it held). False if
    /// the argument was not recorded (beyond `ARGS_MAX`, or a stale reference).
    pub fn req_arg(&self, mref: MsgRef, i: usize, out: &mut Vec<u8>) -> bool {
        match self.msgs.get(mref).and_then(|m| m.req.arg(i)) {
            Some(span) => self.req_bytes(mref, span, out),
            None => false,
        }
    }

    /// Copy the bytes at `span` of a request into `out` (replacing what it held).
    pub fn req_bytes(&self, mref: MsgRef, span: crate::proto::Span, out: &mut Vec<u8>) -> bool {
        let Some(msg) = self.msgs.get(mref) else {
            return false;
        };
        crate::mbuf::gather(
            &self.mbufs,
            &msg.req_segs,
            span.start as usize,
            span.len as usize,
            out,
        );
        true
    }

    /// Whether every byte of a message's request is still held (not yet released after
    /// being written): only then can it be copied to another node.
    pub fn req_held(&self, mref: MsgRef) -> bool {
        self.msgs.get(mref).is_some_and(|m| {
            let held: usize = m.req_segs.iter().map(|s| s.len()).sum();
            held == m.req_len && held != 0
        })
    }
}
