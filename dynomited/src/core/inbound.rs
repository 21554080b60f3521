//! The inbound roles at work: clients and incoming peers. Accept, read, parse requests (and
//! an incoming peer's dnode frames), hand each to `route.rs`, write the replies back in
//! request order, close.
//!
//! ```text
//!   in_event ─┬─ writable ─► in_flush ─► writev of the done replies at the queue's front
//!             └─ readable ─► in_read ─► read_once ─► in_parse ─┬─ [peer] frame_step
//!                                                              └─ request ─► dispatch
//!   every step returns Next; in_act is the one place an inbound connection is closed
//! ```

use std::io;

use super::route::Dispatch;
use super::{Core, Next, READ_BUDGET};
use crate::conn::request_cap;
use crate::conn::ReadOutcome;
use crate::conn::{Client, Frame, Inbound, Listener, PeerIn, Role, Who};
use crate::event::{self, Event, IoVecs};
use crate::mbuf::Seg;
use crate::msg::{MsgRef, MsgState, PeerReq};
use crate::peer::MsgType;
use crate::proto::{Discard, Parse, Protocol, ReqError};
use crate::{log_debug, log_info, log_warn};

impl Core {
    pub(super) fn accept_clients(&mut self, lidx: u32) {
        let tls = self
            .rx
            .conn(lidx)
            .is_some_and(|c| matches!(c.role, Role::Listener(Listener::TlsClients)));
        for _ in 0..128 {
            let limit = u64::from(self.cfg.net.client_connections);
            if limit > 0 && self.stats.pool.client_connections >= limit {
                let reply: &[u8] = match self.proto {
                    Protocol::Redis => b"-ERR max number of clients reached\r\n",
                    Protocol::Memcache => b"SERVER_ERROR max number of clients reached\r\n",
                };
                if !self.rx.refuse_one(lidx, self.now, reply) {
                    return;
                }
                self.stats.limits.rejected_clients += 1;
                if self.stats.limits.rejected_clients.is_power_of_two() {
                    log_warn!(
                        "client refused: client_connections ({limit}) reached ({} refused so far)",
                        self.stats.limits.rejected_clients
                    );
                }
                continue;
            }
            let id = self.life.next_client_id;
            let sec = &self.cfg.security;
            let authed = !crate::auth::login_required(&sec.requirepass, &sec.users);
            let proto = self.proto;
            let role = || Role::Client(Box::new(Client::new(proto, id, authed)));
            let Some(idx) = self
                .rx
                .accept_one(lidx, self.now, &mut self.bufs.mbufs, role)
            else {
                return;
            };
            self.life.next_client_id += 1;
            if tls && !self.start_client_session(idx) {
                continue;
            }
            self.stats.pool.client_connections += 1;
            if let Some(c) = self.rx.conn(idx) {
                log_debug!("{} accepted", Who(c));
            }
        }
    }

    /// Incoming connections from other nodes (their outgoing peer connections to us).
    pub(super) fn accept_peers(&mut self, lidx: u32) {
        for _ in 0..64 {
            let id = self.life.next_client_id;
            let proto = self.proto;
            let role = || Role::PeerIn(Box::new(PeerIn::new(proto, id)));
            let Some(idx) = self
                .rx
                .accept_one(lidx, self.now, &mut self.bufs.mbufs, role)
            else {
                return;
            };
            self.life.next_client_id += 1;
            self.stats.pool.dnode_client_connections += 1;
            let tls = self.rx.peer_tls.is_some();
            let mut from = None;
            if let Some(c) = self.rx.conn_mut(idx) {
                // A node with encryption on tells TLS peers from plain ones by the first byte.
                c.tls_detect = tls;
                from = c.addr.map(|a| a.ip());
                log_info!("{} accepted", Who(c));
            }
            if let Some(ip) = from {
                self.retry_peers_at(ip);
            }
        }
    }

    /// The request side of a client or incoming peer.
    pub(super) fn inbound_of(&mut self, idx: u32) -> Option<&mut Inbound> {
        self.rx.conn_mut(idx)?.inbound_mut()
    }

    /// A client connection (not an incoming peer).
    pub(super) fn client_of(&mut self, idx: u32) -> Option<&mut Client> {
        self.rx.conn_mut(idx)?.client_mut()
    }

    /// Whether requests on this connection may run: a client that authenticated (or needs
    /// not), or another node (peers are trusted, as in Dynomite).
    pub(super) fn authed(&self, idx: u32) -> bool {
        match self.rx.conn(idx).map(|c| &c.role) {
            Some(Role::Client(c)) => c.authed,
            Some(Role::PeerIn(_)) => true,
            _ => false,
        }
    }

    /// The one place an inbound connection's fate is acted on.
    pub(super) fn in_act(&mut self, idx: u32, next: Next) {
        if let Next::Close(why) = next {
            self.in_close(idx, &why);
        }
    }

    pub(super) fn in_event(&mut self, idx: u32, ev: Event) {
        let reading = self
            .rx
            .conn(idx)
            .and_then(|c| c.inbound())
            .is_some_and(|c| c.reading());
        if ev.error && !reading {
            // Error or hang-up on a connection we are not reading (paused or closing): the
            // socket is dead, and epoll reports that whatever the interest, so close it now.
            return self.in_close(idx, "connection error or hang-up");
        }
        if ev.writable {
            let next = match self.rx.tls_flush(idx) {
                Err(e) => self.in_error(&e),
                Ok(()) => self.in_flush(idx),
            };
            if let Next::Close(_) = next {
                return self.in_act(idx, next);
            }
        }
        if ev.readable || ev.error {
            let next = self.in_read(idx);
            if let Next::Close(_) = next {
                return self.in_act(idx, next);
            }
        }
        self.in_sync_interest(idx, None);
    }

    /// Epoll interest from the connection's state: read only while it may be read (a paused
    /// or closing connection stays readable forever under level-triggered epoll, which would
    /// spin the loop); write only while a reply is blocked (`blocked`, or as it was).
    fn in_sync_interest(&mut self, idx: u32, blocked: Option<bool>) {
        let Some(conn) = self.rx.conn(idx) else {
            return;
        };
        let Some(c) = conn.inbound() else { return };
        let mut interest = 0;
        if c.reading() {
            interest |= event::READ;
        }
        if blocked.unwrap_or(conn.interest & event::WRITE != 0) {
            interest |= event::WRITE;
        }
        self.rx.set_interest(idx, interest);
    }

    /// Read once (again while reads fill whole buffers), parsing as we go.
    fn in_read(&mut self, idx: u32) -> Next {
        for _ in 0..READ_BUDGET {
            let reading = self
                .rx
                .conn(idx)
                .and_then(|c| c.inbound())
                .is_some_and(|c| c.reading());
            if !reading {
                return Next::Go;
            }
            match self.rx.read_once(idx, &mut self.bufs.mbufs) {
                ReadOutcome::Data { full } => {
                    if let Next::Close(why) = self.in_parse(idx) {
                        return Next::Close(why);
                    }
                    if !full {
                        break;
                    }
                }
                ReadOutcome::Eof => return self.in_eof(idx),
                ReadOutcome::Error(e) => return self.in_error(&e),
                ReadOutcome::Empty | ReadOutcome::Gone => break,
            }
        }
        self.rx.release_rbuf_if_parsed(idx, &mut self.bufs.mbufs);
        Next::Go
    }

    /// An incoming peer's frames in front of its next request: headers, gossip payloads,
    /// skipped payloads. `None` when a request payload is next; else what to do.
    fn in_frames(&mut self, idx: u32) -> Option<Next> {
        loop {
            let conn = self.rx.conn_mut(idx)?;
            let buf = conn.rbuf?;
            let rpos = conn.rpos as usize;
            let filled = self.bufs.mbufs.filled(buf);
            let Role::PeerIn(p) = &mut conn.role else {
                return None;
            };
            if p.in_payload() {
                return None;
            }
            if rpos >= filled.len() || !p.inb.reading() {
                return Some(Next::Go);
            }
            let (n, frame) = p.frame_step(&filled[rpos..]);
            conn.rpos = (rpos + n) as u32;
            match frame {
                Frame::Again => {}
                Frame::More => return Some(Next::Go),
                Frame::Payload => return None,
                Frame::Gossip => {
                    let payload = std::mem::take(&mut p.gossip);
                    self.gossip_received(&payload);
                }
                Frame::Close(why) => {
                    self.stats.pool.dnode_client_err += 1;
                    self.stats.limits.bad_frames += 1;
                    return Some(Next::Close(why.into()));
                }
            }
        }
    }

    /// Parse every complete request in the read buffer and dispatch it.
    pub(super) fn in_parse(&mut self, idx: u32) -> Next {
        let cref = self.rx.conn_ref(idx);
        let peer = self.rx.conn(idx).is_some_and(|c| c.is_peer_in());
        loop {
            if peer {
                if let Some(next) = self.in_frames(idx) {
                    return next;
                }
            }
            if self.mem.pressure && !peer && self.memory_pause(idx) {
                return Next::Go;
            }
            let window = self.reply_window();
            let now = self.now_ns;
            let Some(conn) = self.rx.conn_mut(idx) else {
                return Next::Go;
            };
            let Some(buf) = conn.rbuf else {
                return Next::Go;
            };
            let rpos = conn.rpos as usize;
            if rpos >= self.bufs.mbufs.len(buf) {
                return Next::Go;
            }
            let (inb, frame, authed) = match &mut conn.role {
                Role::Client(c) => {
                    let authed = c.authed;
                    (&mut c.inb, None, authed)
                }
                Role::PeerIn(p) => (&mut p.inb, Some(&mut p.cur), true),
                _ => return Next::Go,
            };
            if !inb.reading() {
                return Next::Go;
            }
            if inb.over_limits(window) {
                inb.paused = true;
                return Next::Go;
            }
            let mref = match inb.cur {
                Some(m) => m,
                None => match self.bufs.msgs.alloc(now, Some(cref)) {
                    Some(m) => {
                        inb.cur = Some(m);
                        m
                    }
                    None => {
                        inb.paused = true;
                        self.work.msg_waiters.push(idx);
                        log_warn!("max_msgs ({}) message objects in use", self.bufs.msgs.max());
                        return Next::Go;
                    }
                },
            };
            let msg = self
                .bufs
                .msgs
                .get_mut(mref)
                .expect("current message is live");
            let chunk = &self.bufs.mbufs.filled(buf)[rpos..];
            let res = inb.parser.feed(chunk, &mut msg.req);
            let keep = inb.parser.discard() == Discard::Keep && msg.req.error.is_none();
            let used = match res {
                Parse::Done { consumed } => consumed,
                Parse::Incomplete => chunk.len(),
            };
            if keep || matches!(res, Parse::Done { .. }) {
                // Keep the bytes (even of a message found malformed at its very end, they are
                // released right after: simpler than tracking where the error started).
                msg.req_segs.push(Seg {
                    buf,
                    start: rpos as u32,
                    end: (rpos + used) as u32,
                });
                msg.req_len += used;
                self.bufs.mbufs.incref(buf);
            }
            conn.rpos = (rpos + used) as u32;
            // A peer's frame announces its payload's length; 0 means "not said" (Dynomite's
            // own test script sends that). A request that does not fill exactly what was
            // announced, or that the parser cannot frame, would leave the stream out of step:
            // the peer is closed. (A well-framed request the node refuses is answered.)
            if let Some(f) = frame.as_ref() {
                let announced = f.as_ref().map_or(0, |h| h.payload_len as usize);
                let done = matches!(res, Parse::Done { .. });
                let bad = match msg.req.error {
                    Some(ReqError::Protocol(_)) => true,
                    Some(_) => false,
                    None => {
                        announced != 0
                            && (msg.req_len > announced || (done && msg.req_len != announced))
                    }
                };
                if bad {
                    self.stats.limits.bad_frames += 1;
                    self.stats.pool.dnode_client_err += 1;
                    return Next::Close(
                        format!(
                            "sent a malformed frame ({announced} payload bytes announced, {} read)",
                            msg.req_len
                        )
                        .into(),
                    );
                }
            }
            if let Some(why) = request_cap(&self.cfg.limits, msg.req.nargs, msg.req_len, authed) {
                // Answered in order, then closed (as Redis closes after a protocol error):
                // the rest of the request is never read.
                msg.req.error = Some(ReqError::Protocol(why));
                inb.cur = None;
                inb.closing = true;
                self.stats.limits.over_limits += 1;
                log_warn!("{}: {why}; closing", Who(conn));
                self.dispatch(idx, mref);
                return Next::Go;
            }
            if let Parse::Done { .. } = res {
                inb.cur = None;
                if let Some(frame) = frame {
                    msg.peer = frame.take().map(|h| PeerReq {
                        id: h.id,
                        same_dc: h.same_dc,
                        resp3: h.resp3(),
                        forward: h.ty == MsgType::ReqForward,
                    });
                }
                self.dispatch(idx, mref);
            }
        }
    }

    /// Route one complete request.
    fn dispatch(&mut self, idx: u32, mref: MsgRef) {
        let msg = self.bufs.msgs.get_mut(mref).expect("live");
        if msg.req.nargs == 0 && msg.req.error.is_none() {
            // An empty inline line: Redis ignores it, so do we.
            self.bufs.free_msg(mref);
            return;
        }
        let (peer_resp3, req_len) = (msg.peer.is_some_and(|p| p.resp3), msg.req_len as u64);
        let Some(conn) = self.rx.conn_mut(idx) else {
            return;
        };
        let is_peer = conn.is_peer_in();
        let resp3 = conn.client().is_some_and(|c| c.resp3) || peer_resp3;
        let Some(inb) = conn.inbound_mut() else {
            return;
        };
        inb.queue.push_back(mref);
        let queued = inb.queue.len() as u64;
        if is_peer {
            self.stats.pool.dnode_client_in_queue += 1;
            self.stats.pool.dnode_client_in_queue_bytes += req_len;
        }
        self.life.last_request = self.now;
        self.stats.histos.client_out_queue.record(queued);
        let (decision, is_write) = match self.proto {
            Protocol::Redis => self.route_redis(idx, mref),
            Protocol::Memcache => self.route_memcache(idx, mref),
        };
        if let Some(m) = self.bufs.msgs.get_mut(mref) {
            m.is_write = is_write;
        }
        if let Dispatch::Forward = decision {
            self.forward_local(idx, mref, Self::pool_of(resp3));
        }
    }

    /// Write every done reply at the front of the queue, in one writev where possible.
    pub(super) fn in_flush(&mut self, idx: u32) -> Next {
        loop {
            let Some(inb) = self.rx.conn(idx).and_then(|c| c.inbound()) else {
                return Next::Go;
            };
            let mut iov = IoVecs::new(&mut self.scratch.iov);
            let complete = inb.gather(&self.bufs.msgs, &self.bufs.mbufs, &mut iov);
            if iov.is_empty() {
                // Nothing writable (or only empty replies, e.g. memcache noreply).
                drop(iov);
                self.in_pop_written(idx, 0, complete);
                return self.in_after_flush(idx, false);
            }
            let want = iov.bytes();
            let res = self.rx.writev(idx, &iov);
            drop(iov);
            match res {
                Ok(n) => {
                    self.in_pop_written(idx, n, usize::MAX);
                    if n < want {
                        return self.in_after_flush(idx, true);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return self.in_after_flush(idx, true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return self.in_error(&e),
            }
        }
    }

    /// Account `n` written bytes (see [`Inbound::pop_written`]).
    fn in_pop_written(&mut self, idx: u32, n: usize, max_empty: usize) {
        let now = self.now_ns;
        let Some(conn) = self.rx.conn_mut(idx) else {
            return;
        };
        let is_peer = conn.is_peer_in();
        let Some(inb) = conn.inbound_mut() else {
            return;
        };
        let popped = inb.pop_written(
            n,
            max_empty,
            &mut self.bufs,
            now,
            &mut self.stats.histos.latency,
        );
        if is_peer {
            let p = &mut self.stats.pool;
            p.dnode_client_out_queue = p.dnode_client_out_queue.saturating_sub(popped.msgs);
            p.dnode_client_out_queue_bytes =
                p.dnode_client_out_queue_bytes.saturating_sub(popped.bytes);
        }
    }

    /// After writing: keep write interest only while output is pending; resume reading a
    /// paused connection once it drained; close a closing one once everything is written.
    fn in_after_flush(&mut self, idx: u32, blocked: bool) -> Next {
        let window = self.reply_window();
        let Some(inb) = self.rx.conn(idx).and_then(|c| c.inbound()) else {
            return Next::Go;
        };
        let empty = inb.queue.is_empty();
        let resume = inb.paused && inb.drained(window) && !self.work.msg_waiters.contains(&idx);
        let closing = inb.closing;
        self.in_sync_interest(idx, Some(blocked));
        if closing && empty {
            return Next::Close("closed after its last reply".into());
        }
        if resume {
            return self.in_resume(idx);
        }
        Next::Go
    }

    /// Unpause a connection and parse what it already sent.
    pub(super) fn in_resume(&mut self, idx: u32) -> Next {
        let Some(inb) = self.inbound_of(idx) else {
            return Next::Go;
        };
        if !inb.paused {
            return Next::Go;
        }
        inb.paused = false;
        let mut next = self.in_parse(idx);
        // A TLS session may hold decrypted bytes that no socket event will report: read
        // them now.
        if matches!(next, Next::Go) && self.rx.conn(idx).is_some_and(|c| c.tls.is_some()) {
            next = self.in_read(idx);
        }
        // Level-triggered epoll reports data still in the socket once READ is back.
        self.in_sync_interest(idx, None);
        next
    }

    fn in_eof(&mut self, idx: u32) -> Next {
        let Some(conn) = self.rx.conn_mut(idx) else {
            return Next::Go;
        };
        if conn.is_peer_in() {
            self.stats.pool.dnode_client_eof += 1;
        } else {
            self.stats.pool.client_eof += 1;
        }
        let Some(inb) = conn.inbound_mut() else {
            return Next::Go;
        };
        if inb.queue.is_empty() {
            return Next::Close("closed by the client".into());
        }
        // Half-closed: answer what was asked, then close (as Redis does).
        inb.closing = true;
        self.work.dirty_clients.push(idx);
        Next::Go
    }

    fn in_error(&mut self, e: &io::Error) -> Next {
        self.stats.pool.client_err += 1;
        Next::Close(format!("error: {e}").into())
    }

    /// Close an inbound connection: its requests still with a datastore or peer are dropped
    /// when their replies come (`swallow`), the done ones are freed.
    pub(super) fn in_close(&mut self, idx: u32, why: &str) {
        if let Some(c) = self.rx.conn(idx) {
            log_info!("{} {why}", Who(c));
        }
        let Some(mut conn) = self.rx.remove(idx, &mut self.bufs.mbufs) else {
            return;
        };
        let peer = conn.is_peer_in();
        let Some(inb) = conn.inbound_mut() else {
            return;
        };
        let gauge = if peer {
            &mut self.stats.pool.dnode_client_connections
        } else {
            &mut self.stats.pool.client_connections
        };
        *gauge = gauge.saturating_sub(1);
        if let Some(m) = inb.cur.take() {
            self.bufs.free_msg(m);
        }
        for mref in inb.queue.drain(..) {
            let Some(msg) = self.bufs.msgs.get_mut(mref) else {
                continue;
            };
            let done = msg.state == MsgState::Done;
            if peer {
                let p = &mut self.stats.pool;
                if done {
                    p.dnode_client_out_queue = p.dnode_client_out_queue.saturating_sub(1);
                    p.dnode_client_out_queue_bytes = p
                        .dnode_client_out_queue_bytes
                        .saturating_sub(msg.rsp_len as u64);
                } else {
                    p.dnode_client_in_queue = p.dnode_client_in_queue.saturating_sub(1);
                    p.dnode_client_in_queue_bytes = p
                        .dnode_client_in_queue_bytes
                        .saturating_sub(msg.req_len as u64);
                }
            }
            if done {
                self.bufs.free_msg(mref);
            } else {
                // Still with a datastore: its reply is dropped when it comes.
                msg.swallow = true;
                self.stats.pool.client_dropped_requests += 1;
            }
        }
        self.work.msg_waiters.retain(|&w| w != idx);
        if !self.mem.paused.is_empty() {
            self.mem.paused.retain(|&w| w != idx);
        }
    }
}
