//! Connections the proxy sends requests on: to its datastore, and to other nodes (outgoing
//! peers). Both queue requests, write them with one `writev`, match replies first in first
//! out, time out and reconnect alike; that shared part is [`Outbound`]. What only a peer
//! connection has (where it goes, frame ids, the liveness probe, the cross-DC rate limit) is
//! [`PeerLink`].
//!
//! ```text
//!   Down{retry_at} ──timer──► Connecting{since} ──writable, no SO_ERROR──► Connected
//!        ▲                        │ error / timeout                          │ EOF / error /
//!        └────────────────────────┴──────────────────────────────────────────┘ broken reply
//!                                   back-off 1 s doubling to the cap; queued requests fail
//!
//!   enqueue ─► in_q ──writev──► out_q (Sent) ──reply──► matched to the front (peers: by id)
//! ```

use std::collections::VecDeque;
use std::time::Duration;

use super::parsers::RspParser;
use crate::event::IoVecs;
use crate::mbuf::{MbufPool, Seg};
use crate::msg::{Buffers, Msg, MsgPool, MsgRef, MsgState};
use crate::proto::{self, RspInfo};
use crate::stats::histogram::Histogram;

/// Reconnect back-off: the first wait.
pub const BACKOFF_START: Duration = Duration::from_secs(1);

/// Copies a peer connection may have waiting to be written before new copies carry their
/// payload packed in the shared buffer rather than references to the client's mbufs.
pub const PACK_AFTER: usize = 32;

/// Which set of datastore connections a connection belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    /// RESP2 (and every Memcached connection).
    Main,
    /// Switched to RESP3 with HELLO 3 on connect, for RESP3 clients.
    Resp3,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerState {
    /// Non-blocking connect in progress since `since` (loop-clock ns); requests queue in
    /// `in_q` meanwhile. It fails after the request timeout.
    Connecting {
        since: u64,
    },
    Connected,
    /// No socket; reconnect at `retry_at` (loop-clock ns; exponential back-off).
    Down {
        retry_at: u64,
    },
}

/// A request written on a connection and waiting for its reply. Its length is kept here
/// because a request that timed out is answered and freed while its entry still waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    pub msg: MsgRef,
    /// Request bytes written (the `out_queue_bytes` gauges).
    pub len: u32,
    /// The request may hold the datastore (a [`Lane::Script`](crate::msg::Lane)).
    pub stall: bool,
}

pub struct Outbound {
    /// Its number among the connections of its pool or peer (`fd mod n` picks one).
    pub slot: usize,
    pub state: ServerState,
    pub parser: RspParser,
    pub in_q: VecDeque<MsgRef>,
    pub out_q: VecDeque<Sent>,
    /// Bytes of the front of `in_q` already written.
    pub wpos: usize,
    /// How many entries at the front of `out_q` timed out already (their clients have the
    /// error; the entries only wait to swallow late replies): timeout scans start after them.
    pub expired: usize,
    /// The reply being parsed.
    pub rsp_segs: Vec<Seg>,
    pub rsp_info: RspInfo,
    pub rsp_len: usize,
    /// Current reconnect back-off (1 s doubling to the cap).
    pub backoff: Duration,
    /// When the connection last became connected (loop-clock ns).
    pub connected_at: u64,
}

/// What only a connection to another node has.
pub struct PeerLink {
    /// The peer's index in the topology.
    pub node: usize,
    pub same_dc: bool,
    pub header: crate::peer::HeaderParser,
    /// A reply header was read; its payload is being parsed.
    pub in_payload: bool,
    /// The id in the header of the reply being parsed.
    pub reply_id: u64,
    /// Frame ids of the requests in `out_q`, in the same order: replies are matched by id
    /// (SPEC §5.3), so a request that gets no reply cannot shift the others' replies.
    pub out_ids: VecDeque<u64>,
    /// The reads queued or in flight, with their deadlines (in queue order, and so in
    /// deadline order). Writes to peers get 20 s more than reads, so a read can be due while
    /// a write ahead of it is not: it must not wait for the write's deadline.
    pub reads: VecDeque<(MsgRef, u64)>,
    /// Remote-DC peers: messages this connection may still send in the second `rate_sec`
    /// (loop clock seconds) under `conn_msg_rate` (SPEC §9.5); `u64::MAX`: not limited yet.
    pub rate_left: u32,
    pub rate_sec: u64,
    /// When the next liveness probe goes out (loop clock ns).
    pub next_probe: u64,
}

/// A connection to the local datastore.
pub struct Datastore {
    pub out: Outbound,
    pub pool: PoolKind,
}

/// A connection to another node.
pub struct PeerOut {
    pub out: Outbound,
    pub link: PeerLink,
}

/// What [`Outbound::pop_written`] moved from `in_q` to `out_q`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// Taken out of `in_q` (stale entries included), and their bytes.
    pub popped: i64,
    pub popped_bytes: i64,
    /// Put in `out_q` to wait for their reply, and their bytes.
    pub pushed: i64,
    pub pushed_bytes: i64,
}

impl Outbound {
    pub fn new(p: proto::Protocol, slot: usize, now_ns: u64) -> Outbound {
        Outbound {
            slot,
            state: ServerState::Down { retry_at: now_ns },
            parser: RspParser::new(p),
            in_q: VecDeque::new(),
            out_q: VecDeque::new(),
            wpos: 0,
            expired: 0,
            rsp_segs: Vec::new(),
            rsp_info: RspInfo::default(),
            rsp_len: 0,
            backoff: BACKOFF_START,
            connected_at: 0,
        }
    }

    pub fn connected(&self) -> bool {
        self.state == ServerState::Connected
    }

    /// Requests queued or in flight that still wait for an answer (timed-out ones apart).
    pub fn waiting(&self) -> usize {
        self.in_q.len() + self.out_q.len() - self.expired.min(self.out_q.len())
    }

    /// Whether a reply is being parsed (its read buffer must be kept).
    pub fn in_reply(&self) -> bool {
        !self.rsp_segs.is_empty()
    }

    /// Add the requests of `in_q` (less the `wpos` bytes written already), at most `limit`
    /// of them, to `iov`.
    pub fn gather<'a>(
        &self,
        msgs: &'a MsgPool,
        mbufs: &'a MbufPool,
        limit: usize,
        iov: &mut IoVecs<'a>,
    ) {
        let mut skip = self.wpos;
        let mut n = 0usize;
        for &mref in self.in_q.iter() {
            let Some(msg) = msgs.get(mref) else {
                continue;
            };
            if n >= limit {
                break;
            }
            n += 1;
            if !mbufs.push_iov(&msg.req_segs, &mut skip, iov) {
                break;
            }
        }
    }

    /// Whether a script written `after_ns` ago or more heads the requests waiting for their
    /// replies: the datastore reads nothing else from this connection until it ends. (A
    /// script whose client already has its timeout error is long past `after_ns`.)
    pub fn stalled(&self, msgs: &crate::msg::MsgPool, now: u64, after_ns: u64) -> bool {
        self.out_q.front().is_some_and(|s| {
            s.stall
                && msgs
                    .get(s.msg)
                    .is_none_or(|m| now.saturating_sub(m.t.sent) >= after_ns)
        })
    }

    /// Move the requests fully written by `n` more bytes from `in_q` to `out_q`, releasing
    /// their request bytes (a peer's write copies keep theirs until the peer answers: if it
    /// never does, they become a hint; behind a backlog they are packed into the shared
    /// buffers so a stalled peer does not pin client mbufs). Memcached `noreply` requests
    /// get no reply: they go to `done`. Each request's queue wait is recorded in `wait`.
    #[allow(clippy::too_many_arguments)]
    pub fn pop_written(
        &mut self,
        n: usize,
        mut link: Option<&mut PeerLink>,
        bufs: &mut Buffers,
        now: u64,
        wait: &mut Histogram,
        done: &mut Vec<MsgRef>,
        spare: &mut Vec<Seg>,
    ) -> Written {
        let mut w = Written::default();
        let mut left = n + self.wpos;
        while let Some(&mref) = self.in_q.front() {
            let Some(msg) = bufs.msgs.get_mut(mref) else {
                self.in_q.pop_front();
                w.popped += 1;
                continue;
            };
            let len = msg.req_len;
            if left < len {
                break;
            }
            left -= len;
            self.in_q.pop_front();
            w.popped += 1;
            w.popped_bytes += len as i64;
            let kept_for_a_hint = link.is_some() && msg.is_write && !msg.req.noreply;
            let kept_for_its_effect = msg.effect != crate::msg::Effect::None;
            if !(kept_for_a_hint || kept_for_its_effect) {
                bufs.mbufs.release(&mut msg.req_segs);
            } else if self.out_q.len() >= PACK_AFTER {
                // `spare` lends its capacity to the packed copy and takes the old segments.
                spare.clear();
                std::mem::swap(spare, &mut msg.req_segs);
                bufs.mbufs
                    .append_packed(&mut bufs.shared, &mut msg.req_segs, spare, msg.req_len);
                bufs.mbufs.release(spare);
            }
            msg.t.sent = now;
            wait.record(now.saturating_sub(msg.t.queued) / 1000);
            if msg.req.noreply {
                done.push(mref);
                continue;
            }
            if let Some(l) = link.as_deref_mut() {
                l.out_ids.push_back(msg.frame_id);
            }
            self.out_q.push_back(Sent {
                msg: mref,
                len: u32::try_from(len).unwrap_or(u32::MAX),
                stall: msg.lane == crate::msg::Lane::Script,
            });
            w.pushed += 1;
            w.pushed_bytes += len as i64;
        }
        self.wpos = left;
        if let Some(l) = link {
            if l.rate_sec != u64::MAX {
                l.rate_left = l.rate_left.saturating_sub(w.popped as u32);
            }
        }
        w
    }

    /// The request at the front of the written ones that has not timed out yet, else the
    /// first queued one: the next to time out.
    pub fn oldest<'a>(&self, msgs: &'a MsgPool) -> Option<&'a Msg> {
        self.out_q
            .get(self.expired)
            .map(|e| &e.msg)
            .or(self.in_q.front())
            .and_then(|m| msgs.get(*m))
    }

    /// Everything in flight or queued, written ones first, taken out for failing: how many
    /// were in `out_q` and `in_q`, and their bytes.
    pub fn drain(&mut self, msgs: &MsgPool, into: &mut Vec<MsgRef>) -> (i64, i64, i64, i64) {
        let (n_out, n_in) = (self.out_q.len() as i64, self.in_q.len() as i64);
        let out_bytes: i64 = self.out_q.iter().map(|e| i64::from(e.len)).sum();
        let in_bytes: usize = self
            .in_q
            .iter()
            .filter_map(|m| msgs.get(*m))
            .map(|m| m.req_len)
            .sum();
        into.extend(self.out_q.drain(..).map(|e| e.msg));
        into.extend(self.in_q.drain(..));
        (n_out, out_bytes, n_in, in_bytes as i64)
    }

    /// Forget the reply stream (the connection is gone): parser, partial reply, counters.
    pub fn reset_stream(&mut self, mbufs: &mut MbufPool) {
        self.parser.reset();
        self.wpos = 0;
        self.expired = 0;
        self.rsp_len = 0;
        mbufs.release(&mut self.rsp_segs);
    }
}

impl PeerLink {
    pub fn new(node: usize, same_dc: bool) -> PeerLink {
        PeerLink {
            node,
            same_dc,
            header: crate::peer::HeaderParser::new(),
            in_payload: false,
            reply_id: 0,
            out_ids: VecDeque::new(),
            reads: VecDeque::new(),
            rate_left: 0,
            rate_sec: u64::MAX,
            next_probe: 0,
        }
    }

    /// Forget the reply stream (the connection is gone).
    pub fn reset_stream(&mut self) {
        self.header.reset();
        self.in_payload = false;
        self.out_ids.clear();
        self.reads.clear();
    }

    /// The reply with frame id `reply_id` arrived: requests older than it got no reply
    /// (their entries are moved to `skipped`). True when the reply is for the request now
    /// at the front of `out_q`; false when it is older than every request waiting (drop it).
    pub fn match_reply(&mut self, out: &mut Outbound, skipped: &mut Vec<Sent>) -> bool {
        while self.out_ids.front().is_some_and(|&fid| fid < self.reply_id) {
            self.out_ids.pop_front();
            if let Some(m) = out.out_q.pop_front() {
                skipped.push(m);
            }
            out.expired = out.expired.saturating_sub(1);
        }
        if self.out_ids.front() == Some(&self.reply_id) {
            self.out_ids.pop_front();
            true
        } else {
            false
        }
    }

    /// Drop answered reads from the front of the read list; true if the first read still
    /// waiting is past its deadline.
    pub fn read_overdue(&mut self, msgs: &MsgPool, now_ns: u64) -> bool {
        while let Some(&(mref, deadline)) = self.reads.front() {
            let waiting = msgs.get(mref).is_some_and(|m| m.state == MsgState::Pending);
            if !waiting {
                self.reads.pop_front();
                continue;
            }
            return deadline <= now_ns;
        }
        false
    }

    /// For a cross-DC connection under `conn_msg_rate` (`rate` > 0): how many messages it
    /// may still send in second `sec` (refilled each new second).
    pub fn rate_budget(&mut self, rate: u32, sec: u64) -> u32 {
        if self.rate_sec != sec {
            self.rate_sec = sec;
            self.rate_left = rate;
        }
        self.rate_left
    }

    /// Whether the rate limit holds back queued requests until the next second.
    pub fn throttled(&self, queued: bool) -> bool {
        self.rate_sec != u64::MAX && self.rate_left == 0 && queued
    }
}

/// When a queued request times out: its own deadline, or for a request queued without one
/// (the proxy's setup requests) the connection's timeout after it was queued.
pub fn due(m: &Msg, timeout: u64) -> u64 {
    if m.t.deadline == u64::MAX {
        m.t.queued + timeout
    } else {
        m.t.deadline
    }
}
