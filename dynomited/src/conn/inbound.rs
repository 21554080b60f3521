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
/// ...or this many reply bytes waiting to be written to it.
pub const MAX_PENDING_BYTES: usize = 32 << 20;
/// Replies already asked for keep arriving while a client is paused; a client that lets this
/// many bytes of them pile up unread is closed (Redis's client-output-buffer-limit, as a
/// hard bound on what one client can make the proxy hold).
pub const HARD_PENDING_BYTES: usize = 256 << 20;

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
            paused: false,
            closing: false,
            id,
        }
    }

    /// Whether reading should stop for now (back-pressure).
    pub fn over_limits(&self) -> bool {
        self.queue.len() >= MAX_OUTSTANDING || self.pending_bytes >= MAX_PENDING_BYTES
    }

    /// Whether a paused connection has drained enough to be read again.
    pub fn drained(&self) -> bool {
        self.queue.len() < MAX_OUTSTANDING / 2 && self.pending_bytes < MAX_PENDING_BYTES / 2
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
