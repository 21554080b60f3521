//! Connections requests arrive on: a client's, and another node's outgoing peer connection
//! to us (an incoming peer, whose requests are dnode frames). Both parse requests, keep
//! every outstanding one in request order and write the replies back in that order; that
//! shared part is [`Inbound`].
//!
//! ```text
//!   parse ─► cur (the message being parsed) ─► queue [m1 m2 m3 ...] ─► front Done? ─► writev
//!                                               paused: too many outstanding or unwritten
//!                                               closing: QUIT or EOF, close once drained
//! ```

use std::collections::VecDeque;

use super::parsers::ReqParser;
use crate::event::IoVecs;
use crate::mbuf::MbufPool;
use crate::msg::{Buffers, MsgPool, MsgRef, MsgState};
use crate::proto;
use crate::stats::histogram::Histogram;

/// Back-pressure: an inbound connection is not read while it has this many requests
/// outstanding...
pub const MAX_OUTSTANDING: usize = 4096;
/// ...or holds about a window of reply bytes: the replies waiting to be written to it, and
/// those it asked for, each guessed at the size of its recent replies ([`Inbound::held`]).
/// That bounds what one connection puts ahead of the others on the datastore connection they
/// share: a client that pipelines GETs of 1 MiB values and reads nothing has a few of them
/// in flight, not hundreds. The window is this at most...
pub const MAX_PENDING_BYTES: usize = 8 << 20;
/// ...and shrinks as clients grow in number (a share of the node's memory budget, see
/// `core::memory`), to this at least.
pub const MIN_WINDOW: usize = 256 << 10;
/// The size guessed for the replies of a connection that has had none yet: a new
/// connection starts with one request in flight, and the window doubles with each small
/// reply (16 in flight after 4 replies, as many as `MAX_OUTSTANDING` after about 13).
pub const FIRST_REPLY_GUESS: usize = MAX_PENDING_BYTES;
/// Replies already asked for keep arriving while a client is paused; a client that lets this
/// many bytes of them pile up unread is closed (Redis's client-output-buffer-limit, as a
/// hard bound on what one client can make the proxy hold).
pub const HARD_PENDING_BYTES: usize = 256 << 20;

/// Redis's limits for a client that has not authenticated yet (`requirepass` set).
pub const UNAUTHENTICATED_ARGS: u32 = 10;
pub const UNAUTHENTICATED_BYTES: usize = 16 << 10;

/// Whether a request being received (announcing `nargs` arguments, `len` bytes so far) is
/// over a cap, and the error it gets: the node's `max_multibulk_len` and
/// `client_query_buffer_limit`, and Redis's own tighter limits before `AUTH`.
pub fn request_cap(
    limits: &crate::conf::Limits,
    nargs: u32,
    len: usize,
    authed: bool,
) -> Option<&'static str> {
    if u64::from(nargs) > limits.max_multibulk_len {
        Some("Protocol error: invalid multibulk length")
    } else if len as u64 > limits.client_query_buffer_limit {
        Some("Protocol error: request over client_query_buffer_limit")
    } else if !authed && nargs > UNAUTHENTICATED_ARGS {
        Some("Protocol error: unauthenticated multibulk length")
    } else if !authed && len > UNAUTHENTICATED_BYTES {
        Some("Protocol error: unauthenticated bulk length")
    } else {
        None
    }
}

/// What clients and incoming peers share: the request parser and the queue of outstanding
/// requests whose replies go back in order.
pub struct Inbound {
    pub parser: ReqParser,
    /// The message being parsed, if its first bytes have arrived.
    pub cur: Option<MsgRef>,
    /// Every outstanding request, in request order; the front's reply is written first.
    pub queue: VecDeque<MsgRef>,
    /// Bytes of the front reply already written.
    pub wpos: usize,
    /// Bytes of done replies not yet written (back-pressure).
    pub pending_bytes: usize,
    /// The size of this connection's next reply, as its recent replies suggest: the size of
    /// the last one when it is larger, else halfway from the guess towards it.
    pub reply_guess: usize,
    /// Whether a reply has come yet (before that, `reply_guess` is a guess of nothing).
    pub seen_reply: bool,
    /// Not read until the queue drains (back-pressure) or a message object frees up.
    pub paused: bool,
    /// Close once every queued reply is written (QUIT, or EOF from the other end).
    pub closing: bool,
    /// The connection's number (`CLIENT ID`), unique for the life of the process.
    pub id: u64,
}

/// What [`Inbound::pop_written`] took off the queue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Popped {
    pub msgs: u64,
    pub bytes: u64,
}

impl Inbound {
    pub fn new(p: proto::Protocol, id: u64) -> Inbound {
        Inbound {
            parser: ReqParser::new(p),
            cur: None,
            queue: VecDeque::new(),
            wpos: 0,
            pending_bytes: 0,
            reply_guess: FIRST_REPLY_GUESS,
            seen_reply: false,
            paused: false,
            closing: false,
            id,
        }
    }

    /// The reply bytes this connection holds or has asked for, about: its unwritten replies
    /// plus a guessed reply per outstanding request (done ones are counted twice: a bound,
    /// not a measure).
    pub fn held(&self) -> usize {
        self.pending_bytes
            .saturating_add(self.queue.len().saturating_mul(self.reply_guess))
    }

    /// What the connection holds for certain: [`Inbound::held`] with the replies it
    /// asked for counted only once their size has been seen.
    pub fn held_known(&self) -> usize {
        if self.seen_reply {
            self.held()
        } else {
            self.pending_bytes
        }
    }

    /// Learn from a reply of `len` bytes (see `reply_guess`).
    pub fn saw_reply(&mut self, len: usize) {
        let g = self.reply_guess;
        self.reply_guess = len.max(g / 2 + len / 2);
        self.seen_reply = true;
    }

    /// Whether reading should stop for now (back-pressure), with a reply window of
    /// `window` bytes. A connection with nothing outstanding is always read.
    pub fn over_limits(&self, window: usize) -> bool {
        self.queue.len() >= MAX_OUTSTANDING || (!self.queue.is_empty() && self.held() >= window)
    }

    /// Whether a paused connection has drained enough to be read again.
    pub fn drained(&self, window: usize) -> bool {
        self.queue.len() < MAX_OUTSTANDING / 2
            && (self.queue.is_empty() || self.held() < window / 2)
    }

    /// Whether the connection is read at all now.
    pub fn reading(&self) -> bool {
        !self.paused && !self.closing
    }

    /// Add the done replies at the front of the queue (less the `wpos` bytes written
    /// already) to `iov`. Returns how many replies are wholly in it, empty ones included.
    pub fn gather<'a>(
        &self,
        msgs: &'a MsgPool,
        mbufs: &'a MbufPool,
        iov: &mut IoVecs<'a>,
    ) -> usize {
        let mut skip = self.wpos;
        let mut complete = 0usize;
        for &mref in self.queue.iter() {
            let Some(msg) = msgs.get(mref) else {
                break;
            };
            if msg.state != MsgState::Done || !mbufs.push_iov(&msg.rsp_segs, &mut skip, iov) {
                break;
            }
            complete += 1;
        }
        complete
    }

    /// Account `n` written bytes: pop and free every reply fully written (and empty done
    /// replies in front, up to `max_empty` messages when nothing was written), recording
    /// each one's client latency (`now` in loop-clock ns).
    pub fn pop_written(
        &mut self,
        n: usize,
        max_empty: usize,
        bufs: &mut Buffers,
        now: u64,
        latency: &mut Histogram,
    ) -> Popped {
        let mut left = n + self.wpos;
        let mut popped = Popped::default();
        while let Some(&mref) = self.queue.front() {
            let Some(msg) = bufs.msgs.get_mut(mref) else {
                self.queue.pop_front();
                continue;
            };
            if msg.state != MsgState::Done {
                break;
            }
            let len = msg.rsp_len;
            if left < len || (len == 0 && popped.msgs as usize >= max_empty) {
                break;
            }
            left -= len;
            popped.msgs += 1;
            popped.bytes += len as u64;
            self.queue.pop_front();
            self.pending_bytes = self.pending_bytes.saturating_sub(len);
            latency.record(now.saturating_sub(msg.t.recv) / 1000);
            bufs.mbufs.release(&mut msg.req_segs);
            bufs.mbufs.release(&mut msg.rsp_segs);
            bufs.msgs.free(mref);
        }
        self.wpos = left;
        // A deep pipeline is over: an idle connection keeps no large queue (idle memory).
        if self.queue.is_empty() && self.queue.capacity() > 64 {
            self.queue.shrink_to(8);
        }
        popped
    }
}

/// A client connection: the datastore protocol as clients speak it, and the per-connection
/// state Redis keeps for a client.
pub struct Client {
    pub inb: Inbound,
    /// Negotiated with HELLO 3: served by RESP3 datastore connections.
    pub resp3: bool,
    pub authed: bool,
    pub name: Option<Box<str>>,
    /// Set by `dyno_config:conn_consistency`; `None` = the node's current default.
    pub consistency: Option<crate::types::Consistency>,
}

impl Client {
    pub fn new(p: proto::Protocol, id: u64, authed: bool) -> Client {
        Client {
            inb: Inbound::new(p, id),
            resp3: false,
            authed,
            name: None,
            consistency: None,
        }
    }
}
