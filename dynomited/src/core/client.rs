//! The client role: accept, read and parse requests, dispatch them, write replies in order.

use std::io;

use super::route::Dispatch;
use super::{
    push_segs, Core, ReadOutcome, CLIENT_MAX_OUTSTANDING, CLIENT_MAX_PENDING_BYTES, READ_BUDGET,
};
use crate::conn::{Client, Framing, PoolKind, Role, Who};
use crate::event::{self, Event};
use crate::msg::{MsgRef, MsgState, PeerReq};
use crate::peer::{HeaderParse, MsgType};
use crate::proto::{Discard, Parse, Protocol};
use crate::{log_debug, log_info, log_warn};

/// What to do after looking for a dnode frame header on a peer connection.
enum Frame {
    /// Need more bytes, or the connection was closed.
    Stop,
    /// Consumed a header or skipped bytes: look again.
    Again,
    /// A request payload is next: parse it with the datastore parser.
    Payload,
}

impl Core {
    pub(super) fn accept_clients(&mut self, lidx: u32) {
        for _ in 0..128 {
            let id = self.next_client_id;
            let authed = self.cfg.requirepass.is_none();
            let proto = self.proto;
            let Some(idx) = self.accept_one(lidx, || {
                Role::Client(Box::new(Client::new(proto, id, authed)))
            }) else {
                return;
            };
            self.next_client_id += 1;
            self.stats.pool.client_connections += 1;
            if let Some(c) = self.conn(idx) {
                log_debug!("{} accepted", Who(c));
            }
        }
    }

    /// Incoming connections from other nodes (their outgoing peer connections to us).
    pub(super) fn accept_peers(&mut self, lidx: u32) {
        for _ in 0..64 {
            let id = self.next_client_id;
            let proto = self.proto;
            let Some(idx) =
                self.accept_one(lidx, || Role::Client(Box::new(Client::new_peer(proto, id))))
            else {
                return;
            };
            self.next_client_id += 1;
            self.stats.pool.dnode_client_connections += 1;
            let tls = self.peer_tls.is_some();
            if let Some(c) = self.conn_mut(idx) {
                // A node with encryption on tells TLS peers from plain ones by the first byte.
                c.tls_detect = tls;
                log_info!("{} accepted", Who(c));
            }
        }
    }

    /// Consume dnode frame headers (and payloads that are not requests) in front of the next
    /// request of a peer connection.
    fn dnode_frame(&mut self, idx: u32) -> Frame {
        let Some(conn) = self.slots[idx as usize].conn.as_mut() else {
            return Frame::Stop;
        };
        let Some(buf) = conn.rbuf else {
            return Frame::Stop;
        };
        let rpos = conn.rpos as usize;
        let filled = self.bufs.mbufs.len(buf);
        let Role::Client(client) = &mut conn.role else {
            return Frame::Stop;
        };
        let Framing::Dnode(dn) = &mut client.framing else {
            return Frame::Payload;
        };
        if client.cur.is_some() || dn.cur.is_some() {
            return Frame::Payload; // inside a request payload
        }
        if rpos >= filled || client.paused || client.closing {
            return Frame::Stop;
        }
        let chunk = &self.bufs.mbufs.filled(buf)[rpos..];
        if dn.gossip_left > 0 {
            let n = dn.gossip_left.min(chunk.len());
            dn.gossip.extend_from_slice(&chunk[..n]);
            dn.gossip_left -= n;
            conn.rpos = (rpos + n) as u32;
            if dn.gossip_left == 0 {
                let payload = std::mem::take(&mut dn.gossip);
                self.gossip_received(&payload);
            }
            return Frame::Again;
        }
        if dn.skip > 0 {
            let n = dn.skip.min(chunk.len());
            dn.skip -= n;
            conn.rpos = (rpos + n) as u32;
            return Frame::Again;
        }
        match dn.header.feed(chunk) {
            HeaderParse::Incomplete => {
                conn.rpos = (rpos + chunk.len()) as u32;
                Frame::Stop
            }
            HeaderParse::Garbage { .. } => {
                self.stats.pool.dnode_client_err += 1;
                self.client_close(idx, "sent bytes that are not a dnode frame");
                Frame::Stop
            }
            HeaderParse::Done { consumed, header } => {
                conn.rpos = (rpos + consumed) as u32;
                if header.encrypted() {
                    self.stats.pool.dnode_client_err += 1;
                    self.client_close(idx, "sent an encrypted frame (not supported yet)");
                    return Frame::Stop;
                }
                match header.ty {
                    // Requests: the payload follows, framed by the datastore parser. A
                    // REQ_FORWARD fans out to every rack of this DC; this node has no peers
                    // yet, so that is its own datastore.
                    MsgType::Req | MsgType::ReqForward => dn.cur = Some(header),
                    // Gossip digests up to 1 MiB are read (thousands of nodes); a larger
                    // one is skipped.
                    MsgType::GossipSyn if header.payload_len <= 1 << 20 => {
                        dn.gossip.clear();
                        dn.gossip_left = header.payload_len as usize;
                    }
                    MsgType::GossipSyn => dn.skip = header.payload_len as usize,
                    other => {
                        self.stats.pool.dnode_client_err += 1;
                        let why = format!("sent a {other:?} frame on a request connection");
                        self.client_close(idx, &why);
                        return Frame::Stop;
                    }
                }
                Frame::Again
            }
        }
    }

    pub(super) fn client_event(&mut self, idx: u32, ev: Event) {
        let reading = matches!(
            self.conn(idx).and_then(|c| c.client()),
            Some(c) if !c.paused && !c.closing
        );
        if ev.error && !reading {
            // Error or hang-up on a client we are not reading (paused or closing): the socket
            // is dead, and epoll reports that whatever the interest, so close it now.
            return self.client_close(idx, "connection error or hang-up");
        }
        if ev.writable {
            if let Err(e) = self.tls_flush(idx) {
                return self.client_error(idx, &e);
            }
            self.client_flush(idx);
        }
        if ev.readable || ev.error {
            self.client_read(idx);
        }
        self.client_sync_interest(idx, None);
    }

    /// Epoll interest from the client's state: read only while it may be read (a paused or
    /// closing client stays readable forever under level-triggered epoll, which would spin
    /// the loop); write only while a reply is blocked (`blocked`, or as it was).
    fn client_sync_interest(&mut self, idx: u32, blocked: Option<bool>) {
        let Some(conn) = self.conn(idx) else { return };
        let Some(c) = conn.client() else { return };
        let mut interest = 0;
        if !c.paused && !c.closing {
            interest |= event::READ;
        }
        if blocked.unwrap_or(conn.interest & event::WRITE != 0) {
            interest |= event::WRITE;
        }
        self.set_interest(idx, interest);
    }

    /// Read once (again while reads fill whole buffers), parsing as we go.
    fn client_read(&mut self, idx: u32) {
        for _ in 0..READ_BUDGET {
            match self.conn(idx).map(|c| &c.role) {
                Some(Role::Client(c)) if !(c.paused || c.closing) => {}
                _ => return,
            }
            match self.read_once(idx) {
                ReadOutcome::Data { full } => {
                    self.client_parse(idx);
                    if !full {
                        self.release_rbuf_if_parsed(idx);
                        return;
                    }
                }
                ReadOutcome::Eof => return self.client_eof(idx),
                ReadOutcome::Error(e) => return self.client_error(idx, &e),
                ReadOutcome::Empty | ReadOutcome::Gone => return self.release_rbuf_if_parsed(idx),
            }
        }
    }

    /// Parse every complete request in the read buffer and dispatch it.
    pub(super) fn client_parse(&mut self, idx: u32) {
        let cref = self.conn_ref(idx);
        loop {
            let peer = self
                .conn(idx)
                .and_then(|c| c.client())
                .is_some_and(|c| c.is_peer());
            if peer {
                match self.dnode_frame(idx) {
                    Frame::Stop => return,
                    Frame::Again => continue,
                    Frame::Payload => {}
                }
            }
            let now = self.now_ns;
            let Some(conn) = self.slots[idx as usize].conn.as_mut() else {
                return;
            };
            let Some(buf) = conn.rbuf else { return };
            let rpos = conn.rpos as usize;
            let filled = self.bufs.mbufs.len(buf);
            if rpos >= filled {
                return;
            }
            let Role::Client(client) = &mut conn.role else {
                return;
            };
            if client.paused || client.closing {
                return;
            }
            if client.queue.len() >= CLIENT_MAX_OUTSTANDING
                || client.pending_bytes >= CLIENT_MAX_PENDING_BYTES
            {
                client.paused = true;
                return;
            }
            let mref = match client.cur {
                Some(m) => m,
                None => match self.bufs.msgs.alloc(now, Some(cref)) {
                    Some(m) => {
                        client.cur = Some(m);
                        m
                    }
                    None => {
                        client.paused = true;
                        self.msg_waiters.push(idx);
                        log_warn!("max_msgs ({}) message objects in use", self.bufs.msgs.max());
                        return;
                    }
                },
            };
            let msg = self
                .bufs
                .msgs
                .get_mut(mref)
                .expect("current message is live");
            let chunk = &self.bufs.mbufs.filled(buf)[rpos..];
            let res = client.parser.feed(chunk, &mut msg.req);
            let keep = client.parser.discard() == Discard::Keep && msg.req.error.is_none();
            let used = match res {
                Parse::Done { consumed } => consumed,
                Parse::Incomplete => chunk.len(),
            };
            if keep || matches!(res, Parse::Done { .. }) {
                // Keep the bytes (even of a message found malformed at its very end, they are
                // released right after: simpler than tracking where the error started).
                msg.req_segs.push(crate::mbuf::Seg {
                    buf,
                    start: rpos as u32,
                    end: (rpos + used) as u32,
                });
                msg.req_len += used;
                self.bufs.mbufs.incref(buf);
            }
            conn.rpos = (rpos + used) as u32;
            if let Parse::Done { .. } = res {
                client.cur = None;
                if let Framing::Dnode(dn) = &mut client.framing {
                    msg.peer = dn.cur.take().map(|h| PeerReq {
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
            self.bufs.mbufs.release(&mut msg.req_segs);
            self.bufs.msgs.free(mref);
            return;
        }
        let Some(client) = self.slots[idx as usize]
            .conn
            .as_mut()
            .and_then(|c| c.client_mut())
        else {
            return;
        };
        client.queue.push_back(mref);
        if client.is_peer() {
            let len = self.bufs.msgs.get(mref).map_or(0, |m| m.req_len as u64);
            self.stats.pool.dnode_client_in_queue += 1;
            self.stats.pool.dnode_client_in_queue_bytes += len;
        }
        let resp3 = client.resp3
            || self
                .bufs
                .msgs
                .get(mref)
                .and_then(|m| m.peer)
                .is_some_and(|p| p.resp3);
        self.last_request = self.now;
        self.stats
            .histos
            .client_out_queue
            .record(client.queue.len() as u64);

        let (decision, is_write) = match self.proto {
            Protocol::Redis => self.route_redis(idx, mref),
            Protocol::Memcache => self.route_memcache(idx, mref),
        };
        if let Some(m) = self.bufs.msgs.get_mut(mref) {
            m.is_write = is_write;
        }
        match decision {
            Dispatch::Answered => {}
            Dispatch::Forward => {
                let pool = if resp3 {
                    PoolKind::Resp3
                } else {
                    PoolKind::Main
                };
                self.forward_local(idx, mref, pool);
            }
        }
    }

    /// Write every done reply at the front of the queue, in one writev where possible.
    pub(super) fn client_flush(&mut self, idx: u32) {
        loop {
            let Some(conn) = self.slots[idx as usize].conn.as_ref() else {
                return;
            };
            let fd = conn.raw_fd();
            let Role::Client(client) = &conn.role else {
                return;
            };
            self.iov.clear();
            let mut skip = client.wpos;
            let mut complete_msgs = 0usize;
            for &mref in client.queue.iter() {
                let Some(msg) = self.bufs.msgs.get(mref) else {
                    break;
                };
                if msg.state != MsgState::Done
                    || !push_segs(&mut self.iov, &self.bufs.mbufs, &msg.rsp_segs, &mut skip)
                {
                    break;
                }
                complete_msgs += 1;
            }
            if self.iov.is_empty() {
                // Nothing writable (or only empty replies, e.g. memcache noreply).
                self.client_pop_written(idx, 0, complete_msgs);
                self.client_after_flush(idx, false);
                return;
            }
            let want = self.iov.bytes();
            let res = self.writev_conn(idx, fd);
            match res {
                Ok(n) => {
                    self.client_pop_written(idx, n, usize::MAX);
                    if n < want {
                        self.client_after_flush(idx, true);
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.client_after_flush(idx, true);
                    return;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.client_error(idx, &e);
                    return;
                }
            }
        }
    }

    /// Account `n` written bytes: pop and free every reply fully written (and empty done
    /// replies in front, up to `max_empty` messages when nothing was written).
    fn client_pop_written(&mut self, idx: u32, n: usize, max_empty: usize) {
        let now = self.now_ns;
        let Some(conn) = self.slots[idx as usize].conn.as_mut() else {
            return;
        };
        let Role::Client(client) = &mut conn.role else {
            return;
        };
        let mut left = n + client.wpos;
        let mut popped = 0usize;
        while let Some(&mref) = client.queue.front() {
            let Some(msg) = self.bufs.msgs.get_mut(mref) else {
                client.queue.pop_front();
                continue;
            };
            if msg.state != MsgState::Done {
                break;
            }
            let len = msg.rsp_len;
            if left < len || (len == 0 && popped >= max_empty) {
                break;
            }
            left -= len;
            popped += 1;
            client.queue.pop_front();
            client.pending_bytes = client.pending_bytes.saturating_sub(len);
            if client.is_peer() {
                let p = &mut self.stats.pool;
                p.dnode_client_out_queue = p.dnode_client_out_queue.saturating_sub(1);
                p.dnode_client_out_queue_bytes =
                    p.dnode_client_out_queue_bytes.saturating_sub(len as u64);
            }
            let us = now.saturating_sub(msg.t_recv) / 1000;
            self.stats.histos.latency.record(us);
            self.bufs.mbufs.release(&mut msg.req_segs);
            self.bufs.mbufs.release(&mut msg.rsp_segs);
            self.bufs.msgs.free(mref);
        }
        client.wpos = left;
        // A deep pipeline is over: an idle client keeps no large queue (idle memory target).
        if client.queue.is_empty() && client.queue.capacity() > 64 {
            client.queue.shrink_to(8);
        }
    }

    /// After writing: keep write interest only while output is pending; resume reading a
    /// paused client once it drained; close a closing client once everything is written.
    fn client_after_flush(&mut self, idx: u32, blocked: bool) {
        let Some(conn) = self.slots[idx as usize].conn.as_mut() else {
            return;
        };
        let Role::Client(client) = &mut conn.role else {
            return;
        };
        let empty = client.queue.is_empty();
        let resume = client.paused
            && !self.msg_waiters.contains(&idx)
            && client.queue.len() < CLIENT_MAX_OUTSTANDING / 2
            && client.pending_bytes < CLIENT_MAX_PENDING_BYTES / 2;
        let closing = client.closing;
        self.client_sync_interest(idx, Some(blocked));
        if closing && empty {
            self.client_close(idx, "closed after its last reply");
            return;
        }
        if resume {
            self.client_resume(idx);
        }
    }

    /// Unpause a client and parse what it already sent.
    pub(super) fn client_resume(&mut self, idx: u32) {
        let Some(c) = self.slots[idx as usize]
            .conn
            .as_mut()
            .and_then(|c| c.client_mut())
        else {
            return;
        };
        if !c.paused {
            return;
        }
        c.paused = false;
        self.client_parse(idx);
        // Level-triggered epoll reports data still in the socket once READ is back.
        self.client_sync_interest(idx, None);
    }

    fn client_eof(&mut self, idx: u32) {
        let Some(c) = self.slots[idx as usize]
            .conn
            .as_mut()
            .and_then(|c| c.client_mut())
        else {
            return;
        };
        if c.is_peer() {
            self.stats.pool.dnode_client_eof += 1;
        } else {
            self.stats.pool.client_eof += 1;
        }
        if c.queue.is_empty() {
            self.client_close(idx, "closed by the client");
        } else {
            // Half-closed: answer what was asked, then close (as Redis does).
            c.closing = true;
            self.dirty_clients.push(idx);
        }
    }

    fn client_error(&mut self, idx: u32, e: &io::Error) {
        self.stats.pool.client_err += 1;
        let reason = format!("error: {e}");
        self.client_close(idx, &reason);
    }

    pub(super) fn client_close(&mut self, idx: u32, why: &str) {
        if let Some(c) = self.conn(idx) {
            log_info!("{} {why}", Who(c));
        }
        let Some(mut conn) = self.remove(idx) else {
            return;
        };
        let Role::Client(client) = &mut conn.role else {
            return;
        };
        let gauge = if client.is_peer() {
            &mut self.stats.pool.dnode_client_connections
        } else {
            &mut self.stats.pool.client_connections
        };
        *gauge = gauge.saturating_sub(1);
        if let Some(m) = client.cur.take() {
            self.bufs.free_msg(m);
        }
        let peer = client.is_peer();
        for mref in client.queue.drain(..) {
            if peer {
                if let Some(m) = self.bufs.msgs.get(mref) {
                    let p = &mut self.stats.pool;
                    if m.state == MsgState::Done {
                        p.dnode_client_out_queue = p.dnode_client_out_queue.saturating_sub(1);
                        p.dnode_client_out_queue_bytes = p
                            .dnode_client_out_queue_bytes
                            .saturating_sub(m.rsp_len as u64);
                    } else {
                        p.dnode_client_in_queue = p.dnode_client_in_queue.saturating_sub(1);
                        p.dnode_client_in_queue_bytes = p
                            .dnode_client_in_queue_bytes
                            .saturating_sub(m.req_len as u64);
                    }
                }
            }
            match self.bufs.msgs.get_mut(mref) {
                Some(msg) if msg.state == MsgState::Done => {
                    self.bufs.mbufs.release(&mut msg.req_segs);
                    self.bufs.mbufs.release(&mut msg.rsp_segs);
                    self.bufs.msgs.free(mref);
                }
                Some(msg) => {
                    // Still with a datastore: its reply is dropped when it comes.
                    msg.swallow = true;
                    self.stats.pool.client_dropped_requests += 1;
                }
                None => {}
            }
        }
        self.msg_waiters.retain(|&w| w != idx);
    }

    pub(super) fn client_of(&mut self, idx: u32) -> Option<&mut Client> {
        self.slots[idx as usize]
            .conn
            .as_mut()
            .and_then(|c| c.client_mut())
    }
}
