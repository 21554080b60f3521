//! Message objects (one per request, carrying its reply) in a pooled slab capped by `max_msgs`.
//!
//! A message is referred to by [`MsgRef`] = slot + generation. Freeing a message bumps its
//! slot's generation, so every queue that still names it (a backend's out-queue after the
//! request timed out, say) sees a stale reference and skips it: a late reply is matched to
//! its slot, found stale, and discarded. That is how a timeout fails one request without
//! failing the rest of the connection.
//!
//! ```text
//!            parse           forward            write              reply            written
//!  client ──────────► Msg ───────────► in_q ───────────► out_q ─────────────► done ─────────► free
//!                      │                (backend)         (backend)            (client queue)
//!                      └─ answered by the proxy itself (PING, errors, ...) ──► done
//! ```
//!
//! Messages keep their vectors' capacity across reuse, so steady state does not allocate.

mod buffers;
pub use buffers::Buffers;

use crate::mbuf::Seg;
use crate::proto::{ReqInfo, RspInfo};

/// A connection slot + generation (connections live in a slab in `core`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnRef {
    pub idx: u32,
    pub gen: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MsgRef {
    pub idx: u32,
    pub gen: u32,
}

/// Where a request that came from another node must be answered: the frame's id and flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerReq {
    pub id: u64,
    pub same_dc: bool,
    /// The sender's client speaks RESP3: run it on a RESP3 datastore connection.
    pub resp3: bool,
    /// A DMSG_REQ_FORWARD from another DC: also replicate it to the other racks of this DC.
    pub forward: bool,
}

/// Keys and segments a new message object has room for: messages are reused in any role
/// (a client's request, a copy, a fragment), so a recycled one must not allocate on its
/// first push in a new role; only the pool growing to a new high-water mark allocates.
const MSG_PRESIZE: usize = 4;

/// A write whose effect, not the request, is what the other racks get (it would do
/// something else in each: pick other members, another stream ID). The request keeps its
/// bytes until its reply arrives, then the effect is replicated (`core/effects.rs`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Effect {
    #[default]
    None,
    /// SPOP: replicated as SREM of the members it popped.
    Spop,
    /// XADD with `*` as argument `n`: replicated with the ID the datastore chose.
    XaddId(u8),
}

/// `Msg::agg` of a message without a reply collector.
pub const NO_AGG: u32 = u32::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MsgState {
    /// Parsed, waiting for its reply.
    Pending,
    /// The reply is ready to be written to the client.
    Done,
}

/// Which datastore connection a request may take.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lane {
    /// The client's own (or, while a script holds that one, the urgent connection).
    #[default]
    Shared,
    /// A script or function call: the datastore may run it as long as it likes, reading
    /// nothing else from its connection meanwhile. Always the client's own connection.
    Script,
    /// `SCRIPT KILL`, `FUNCTION KILL`: always the urgent connection, never behind a script.
    Urgent,
}

pub struct Msg {
    pub gen: u32,
    pub state: MsgState,
    /// The client connection the reply goes to; `None` for the proxy's own requests (the AUTH
    /// and HELLO it sends to a datastore on connect).
    pub owner: Option<ConnRef>,
    /// The client went away: drop the reply when it comes.
    pub swallow: bool,
    /// Set for a request received from another node: its reply goes back as a dnode frame.
    pub peer: Option<PeerReq>,
    /// Set on a copy sent to a peer whose reply answers another message (a read served by
    /// another rack): the reply, or the failure, is handed to that message.
    pub parent: Option<MsgRef>,
    /// The reply collector of a request answered from several replies (a quorum, or the
    /// fragments of a split multi-key request): an index into the core's collectors, or
    /// [`NO_AGG`].
    pub agg: u32,
    /// Which of its parent's collector slots a child's reply fills.
    pub slot: u16,
    /// A read already sent to another rack once (a failover is not retried).
    pub failed_over: bool,
    /// The dnode frame id a copy was sent with (replies are matched by it).
    pub frame_id: u64,
    pub req: ReqInfo,
    pub req_segs: Vec<Seg>,
    pub req_len: usize,
    pub is_write: bool,
    /// Which datastore connection it may take (scripts, and what ends them).
    pub lane: Lane,
    /// Replicated as its effect, once its reply is in (see [`Effect`]).
    pub effect: Effect,
    /// A read rewritten to answer with its timestamps (read repair): which one.
    pub versioned: crate::proto::redis::repair::Read,
    pub rsp: RspInfo,
    /// Reply bytes, referencing the backend's read mbufs (or mbufs the proxy filled itself).
    pub rsp_segs: Vec<Seg>,
    pub rsp_len: usize,
    /// When it was received, queued, written, and when it times out.
    pub t: Times,
}

/// A message's moments, in nanoseconds on the loop's clock (`Core::now_ns`, read once per
/// loop iteration).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Times {
    /// When the request was fully received (client latency starts here).
    pub recv: u64,
    /// When it was queued to a backend (timeout and queue-wait start here).
    pub queued: u64,
    /// When it times out, once queued to a backend (`u64::MAX`: not yet).
    pub deadline: u64,
    /// When it was written to a backend (server latency starts here).
    pub sent: u64,
}

impl Times {
    pub const fn at(now: u64) -> Times {
        Times {
            recv: now,
            queued: now,
            deadline: u64::MAX,
            sent: now,
        }
    }
}

impl Msg {
    fn new(now: u64) -> Msg {
        Msg {
            gen: 0,
            state: MsgState::Pending,
            owner: None,
            swallow: false,
            peer: None,
            parent: None,
            agg: NO_AGG,
            slot: 0,
            failed_over: false,
            frame_id: 0,
            req: ReqInfo::with_capacity(MSG_PRESIZE),
            req_segs: Vec::with_capacity(MSG_PRESIZE),
            req_len: 0,
            is_write: false,
            lane: Lane::Shared,
            effect: Effect::None,
            versioned: crate::proto::redis::repair::Read::None,
            rsp: RspInfo::default(),
            rsp_segs: Vec::with_capacity(MSG_PRESIZE),
            rsp_len: 0,
            t: Times::at(now),
        }
    }
}

pub struct MsgPool {
    msgs: Vec<Msg>,
    free: Vec<u32>,
    live: usize,
    max: usize,
}

impl MsgPool {
    pub fn new(max: usize) -> MsgPool {
        MsgPool {
            msgs: Vec::new(),
            free: Vec::new(),
            live: 0,
            max,
        }
    }

    /// A fresh message, or `None` when `max_msgs` are in use (the caller applies back-pressure).
    pub fn alloc(&mut self, now: u64, owner: Option<ConnRef>) -> Option<MsgRef> {
        let idx = if let Some(i) = self.free.pop() {
            i
        } else if self.msgs.len() < self.max {
            self.msgs.push(Msg::new(now));
            (self.msgs.len() - 1) as u32
        } else {
            return None;
        };
        self.live += 1;
        let m = &mut self.msgs[idx as usize];
        debug_assert!(m.req_segs.is_empty() && m.rsp_segs.is_empty());
        m.state = MsgState::Pending;
        m.owner = owner;
        m.swallow = false;
        m.peer = None;
        m.parent = None;
        m.agg = NO_AGG;
        m.slot = 0;
        m.failed_over = false;
        m.frame_id = 0;
        m.req.clear();
        m.req_len = 0;
        m.is_write = false;
        m.lane = Lane::Shared;
        m.effect = Effect::None;
        m.versioned = crate::proto::redis::repair::Read::None;
        m.rsp = RspInfo::default();
        m.rsp_len = 0;
        m.t = Times::at(now);
        Some(MsgRef { idx, gen: m.gen })
    }

    /// Resolve a reference; `None` when the message was freed since.
    pub fn get(&self, r: MsgRef) -> Option<&Msg> {
        self.msgs.get(r.idx as usize).filter(|m| m.gen == r.gen)
    }

    pub fn get_mut(&mut self, r: MsgRef) -> Option<&mut Msg> {
        self.msgs.get_mut(r.idx as usize).filter(|m| m.gen == r.gen)
    }

    /// Free a message. The caller must already have released its segments to the mbuf pool.
    pub fn free(&mut self, r: MsgRef) {
        if let Some(m) = self.msgs.get_mut(r.idx as usize) {
            if m.gen == r.gen {
                debug_assert!(m.req_segs.is_empty() && m.rsp_segs.is_empty());
                m.gen = m.gen.wrapping_add(1);
                self.free.push(r.idx);
                self.live -= 1;
            }
        }
    }

    /// Message objects ever allocated (`alloc_msgs`).
    pub fn allocated(&self) -> usize {
        self.msgs.len()
    }

    /// Message objects in the free list (`free_msgs`).
    pub fn free_count(&self) -> usize {
        self.free.len()
    }

    pub fn live(&self) -> usize {
        self.live
    }

    pub fn max(&self) -> usize {
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_references_after_free() {
        let now = 0;
        let mut p = MsgPool::new(2);
        let a = p.alloc(now, None).unwrap();
        let b = p.alloc(now, None).unwrap();
        assert!(p.alloc(now, None).is_none(), "max_msgs is a hard cap");
        p.free(a);
        assert!(p.get(a).is_none());
        let c = p.alloc(now, None).unwrap();
        assert_eq!(c.idx, a.idx);
        assert!(p.get(a).is_none(), "old generation stays stale");
        assert!(p.get(c).is_some() && p.get(b).is_some());
        p.free(a); // double free of a stale ref is a no-op
        assert_eq!(p.live(), 2);
    }
}
