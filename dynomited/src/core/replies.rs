//! Replies on datastore and peer connections: parsed as they arrive, matched to the request
//! they answer (first in first out; on peer connections by frame id, SPEC §5.3), and the
//! fate of requests that get none (a failure, a timeout, a lost connection): the error, a
//! failover read on another rack, a hint for a write copy a peer missed.
//!
//! ```text
//!   read ─► [peer: frame header, id] ─► reply parser ─► Done ─► push? dropped
//!                                                        └─► the request at the front of
//!                                                            out_q (peers: older ids first
//!                                                            get no reply) ─► complete
//! ```

use super::{Core, Next, READ_BUDGET};
use crate::conn::ReadOutcome;
use crate::conn::{Role, Sent};
use crate::log_warn;
use crate::mbuf::Seg;
use crate::msg::{MsgRef, MsgState, NO_AGG};
use crate::peer::{HeaderParse, MsgType};
use crate::proto::error::DynError;
use crate::proto::Parse;

impl Core {
    pub(super) fn out_read(&mut self, idx: u32) -> Next {
        for _ in 0..READ_BUDGET {
            match self.rx.read_once(idx, &mut self.bufs.mbufs) {
                ReadOutcome::Data { full } => {
                    if let Some(why) = self.out_parse(idx) {
                        return Next::Close(why.into());
                    }
                    if !full {
                        break;
                    }
                }
                ReadOutcome::Eof => {
                    let kind = self.kind(idx);
                    self.stats.eof(kind);
                    return Next::Close("closed by the other end".into());
                }
                ReadOutcome::Error(e) => {
                    let kind = self.kind(idx);
                    self.stats.err(kind);
                    return Next::Close(e.to_string().into());
                }
                ReadOutcome::Empty | ReadOutcome::Gone => break,
            }
        }
        self.rx.release_rbuf_if_parsed(idx, &mut self.bufs.mbufs);
        Next::Go
    }

    /// Parse replies and hand each to the request it answers. `Some(why)`: the reply stream
    /// is broken and the connection must be closed.
    fn out_parse(&mut self, idx: u32) -> Option<&'static str> {
        let kind = self.kind(idx);
        let node = self.peer_node(idx);
        loop {
            let conn = self.rx.conn_mut(idx)?;
            let buf = conn.rbuf?;
            let rpos = conn.rpos as usize;
            let filled = self.bufs.mbufs.len(buf);
            if rpos >= filled {
                return None;
            }
            let (s, mut link) = match &mut conn.role {
                Role::Datastore(d) => (&mut d.out, None),
                Role::PeerOut(p) => (&mut p.out, Some(&mut p.link)),
                _ => return None,
            };
            let chunk = &self.bufs.mbufs.filled(buf)[rpos..];
            // A peer's reply is a dnode frame: its header first, then the datastore reply.
            if let Some(l) = link.as_deref_mut().filter(|l| !l.in_payload) {
                match l.header.feed(chunk) {
                    HeaderParse::Incomplete => {
                        conn.rpos = filled as u32;
                        return None;
                    }
                    HeaderParse::Done { consumed, header }
                        if header.ty == MsgType::Res && !header.encrypted() =>
                    {
                        l.in_payload = true;
                        l.reply_id = header.id;
                        conn.rpos = (rpos + consumed) as u32;
                        continue;
                    }
                    _ => {
                        self.stats.pool.peer_err += 1;
                        return Some("sent something that is not a reply frame");
                    }
                }
            }
            let res = s.parser.feed(chunk, &mut s.rsp_info);
            let used = match res {
                Parse::Done { consumed } => consumed,
                Parse::Incomplete => chunk.len(),
            };
            s.rsp_segs.push(Seg {
                buf,
                start: rpos as u32,
                end: (rpos + used) as u32,
            });
            s.rsp_len += used;
            self.bufs.mbufs.incref(buf);
            conn.rpos = (rpos + used) as u32;
            if let Parse::Incomplete = res {
                continue;
            }
            if let Some(l) = link.as_deref_mut() {
                l.in_payload = false;
            }
            let info = std::mem::take(&mut s.rsp_info);
            if info.broken {
                self.stats.err(kind);
                return Some("unparseable reply");
            }
            if info.is_push {
                self.bufs.mbufs.release(&mut s.rsp_segs);
                s.rsp_len = 0;
                continue;
            }
            // Peer replies carry the request's frame id: a reply older than the oldest
            // request is dropped; requests older than the reply got none and are failed.
            let mut skipped = std::mem::take(&mut self.scratch.sent);
            skipped.clear();
            let matched = link.is_none_or(|l| l.match_reply(s, &mut skipped));
            if !matched {
                self.bufs.mbufs.release(&mut s.rsp_segs);
                s.rsp_len = 0;
            }
            if !skipped.is_empty() {
                self.stats.pool.peer_mismatch_requests += skipped.len() as u64;
                let bytes: i64 = skipped.iter().map(|e| i64::from(e.len)).sum();
                self.stats.out_queue(kind, -(skipped.len() as i64), -bytes);
                for e in skipped.drain(..) {
                    self.fail_request(node, e.msg, DynError::PeerConnectionRefused);
                }
            }
            self.scratch.sent = skipped;
            if matched {
                if let Some(why) = self.reply_matched(idx, kind, info) {
                    return Some(why);
                }
            }
        }
    }

    /// The reply just parsed answers the request at the front of `out_q`.
    fn reply_matched(
        &mut self,
        idx: u32,
        kind: crate::stats::counters::Kind,
        info: crate::proto::RspInfo,
    ) -> Option<&'static str> {
        let is_peer = kind != crate::stats::counters::Kind::Datastore;
        let s = self.rx.conn_mut(idx)?.outbound_mut()?;
        let front = s.out_q.pop_front();
        s.expired = s.expired.saturating_sub(1);
        let len = s.rsp_len;
        s.rsp_len = 0;
        let Some(Sent {
            msg: mref,
            len: sent_len,
            ..
        }) = front
        else {
            self.bufs.mbufs.release(&mut s.rsp_segs);
            log_warn!("datastore sent a reply nobody asked for; closing");
            return Some("unexpected reply");
        };
        self.stats.out_queue(kind, -1, -i64::from(sent_len));
        let now = self.now_ns;
        let Some(msg) = self
            .bufs
            .msgs
            .get_mut(mref)
            .filter(|m| m.state == MsgState::Pending)
        else {
            // Timed out and answered already, or freed: the late reply is dropped.
            self.bufs.mbufs.release(&mut s.rsp_segs);
            return None;
        };
        std::mem::swap(&mut msg.rsp_segs, &mut s.rsp_segs);
        msg.rsp_len = len;
        msg.rsp = info;
        let frame_id = msg.frame_id;
        let us = now.saturating_sub(msg.t.sent) / 1000;
        let probe = msg.parent.is_none() && msg.slot == super::membership::PROBE_SLOT;
        let setup = msg.owner.is_none() && msg.parent.is_none() && !is_peer;
        if probe {
            // A liveness probe's answer: not client traffic.
        } else if is_peer {
            self.stats.histos.cross_zone_latency.record(us);
            self.stats.pool.peer_responses += 1;
            self.stats.pool.peer_response_bytes += len as u64;
        } else if msg.is_write {
            self.stats.histos.server_latency.record(us);
            self.stats.server.write_responses += 1;
            self.stats.server.write_response_bytes += len as u64;
        } else {
            self.stats.histos.server_latency.record(us);
            self.stats.server.read_responses += 1;
            self.stats.server.read_response_bytes += len as u64;
        }
        if info.is_error && setup {
            let mut line = Vec::new();
            crate::mbuf::gather(&self.bufs.mbufs, &msg.rsp_segs, 0, 200, &mut line);
            if let Some(p) = line.iter().position(|&b| b == b'\r' || b == b'\n') {
                line.truncate(p);
            }
            log_warn!(
                "datastore {} refused the proxy's setup request: {}",
                self.cfg.backend.server.name,
                String::from_utf8_lossy(&line)
            );
        }
        if info.is_error {
            self.stats.pool.forward_error += 1;
        }
        if is_peer && frame_id != 0 {
            if let Some(node) = self.peer_node(idx) {
                self.replay_answered(node, idx, frame_id);
            }
        }
        self.complete(mref);
        None
    }

    /// Give a queued request the error, unless it was already answered (timed out) or freed.
    /// `node`: the peer it was sent to (None: the local datastore). A write copy a peer did
    /// not acknowledge is kept as a hint for it, unless a client was told it failed.
    pub(super) fn fail_request(&mut self, node: Option<usize>, mref: MsgRef, err: DynError) {
        let Some(msg) = self.bufs.msgs.get(mref) else {
            return;
        };
        if msg.state == MsgState::Done {
            return;
        }
        if let Some(node) = node.filter(|_| msg.is_write && msg.frame_id != 0) {
            let id = msg.frame_id;
            let acked_elsewhere = match msg.parent {
                None => true,
                Some(p) => self
                    .bufs
                    .msgs
                    .get(p)
                    .is_some_and(|p| p.agg != NO_AGG && !self.coll.is_split(p.agg)),
            };
            if acked_elsewhere {
                self.hint_copy(node, mref);
            }
            // A replay that failed is kept again: nothing to wait for on its connection.
            if let Some(v) = self.mesh.views.get_mut(node) {
                if v.replay_tail.is_some_and(|(_, t)| t == id) {
                    v.replay_tail = None;
                }
            }
        }
        let Some(msg) = self.bufs.msgs.get(mref) else {
            return;
        };
        if let Some(parent) = msg.parent {
            let slot = msg.slot;
            let local = msg.frame_id == 0;
            // A fragment's DC_ONE read the local datastore could not serve: another rack may.
            if local && !msg.is_write && self.bufs.msgs.get(parent).is_some_and(|p| p.agg != NO_AGG)
            {
                let split = self.is_split_parent(parent);
                if split {
                    if let Some(client) = self.client_idx_of(parent) {
                        if self.failover_read(client, mref) {
                            return;
                        }
                    }
                }
            }
            self.bufs.free_msg(mref);
            let err = if local {
                err
            } else {
                self.stats.pool.peer_forward_error += 1;
                DynError::PeerConnectionRefused
            };
            match self.bufs.msgs.get(parent) {
                Some(p) if p.agg != NO_AGG => self.agg_part_failed(parent, slot, err),
                Some(p) if p.state == MsgState::Pending => {
                    // The owner of a read in another node failed it: another rack may serve it.
                    let read = !p.is_write && p.peer.is_none();
                    if read {
                        if let Some(client) = self.client_idx_of(parent) {
                            if self.failover_read(client, parent) {
                                return;
                            }
                        }
                    }
                    self.answer_dyn_error(parent, err)
                }
                _ => {}
            }
            return;
        }
        if msg.owner.is_none() {
            // A swallowed copy, or the proxy's own setup request.
            self.bufs.free_msg(mref);
            return;
        }
        // A client's read the datastore could not serve: another rack may (failover).
        if let Some(owner) = msg.owner.filter(|o| self.rx.live(*o)) {
            if self.failover_read(owner.idx, mref) {
                return;
            }
        }
        self.stats.server.server_dropped_requests += 1;
        self.answer_dyn_error(mref, err);
    }

    /// The client connection a request (or a child of one) answers, if it is still open.
    pub(super) fn client_idx_of(&self, mut mref: MsgRef) -> Option<u32> {
        for _ in 0..4 {
            let m = self.bufs.msgs.get(mref)?;
            if let Some(o) = m.owner {
                return self.rx.live(o).then_some(o.idx);
            }
            mref = m.parent?;
        }
        None
    }
}
