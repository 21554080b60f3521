//! What this node knows of its peers: whether each is NORMAL or DOWN (the failure detector),
//! and the writes each one missed (hinted handoff).
//!
//! ```text
//!   connection up ──────────────────────────────► NORMAL ──► replay the peer's hints, in order
//!   no connection for `peer_down_after` ms ─────► DOWN   ──► no copies, reads go elsewhere
//!   a write copy not delivered (DOWN, refused, failed or timed out in flight) ──► a hint
//! ```
//!
//! Hints live in memory, bounded per peer in count and bytes (`hints_max_per_peer`,
//! `hints_max_bytes_per_peer`); past a bound the oldest are dropped and counted, and the peer
//! is flagged in `/cluster_describe` (`hints_lost`) so an operator knows to warm it up.

use std::collections::VecDeque;

use super::Core;
use crate::conn::{Role, ServerState};
use crate::msg::MsgRef;
use crate::peer::{HeaderParse, HeaderParser, MsgType, DATA_REQ, FLAG_RESP3};
use crate::{log_notice, log_warn};

/// The peers as this node keeps them: their connections, how each looks from here (the
/// failure detector's view and the hints it keeps for it), gossip and seed-provider state.
#[derive(Default)]
pub(super) struct Mesh {
    /// Outgoing connection slots to each node, by topology index (empty for this node).
    pub peers: Vec<Vec<u32>>,
    /// Peers an operator marked DOWN (`/peer/down/<name>`): no copies, no failover reads.
    pub peer_down: Vec<bool>,
    /// Each node as this node sees it (NORMAL/DOWN, hints).
    pub views: Vec<PeerView>,
    /// Ids of the frames this node sends to peers (starting at 1).
    pub next_frame_id: u64,
    /// When the failure detector must next look (loop clock ns).
    pub next_detect: Option<u64>,
    /// Hints are waiting for a peer that can take them now.
    pub replaying: bool,
    /// When the hints files written since are next flushed (`hints_fsync: everysec`).
    pub next_hint_sync: u64,
    /// When the next gossip round is due (loop clock ns), and whether the first (the
    /// announce to every peer) went out.
    pub next_gossip: u64,
    pub announced: bool,
    /// The seed provider's thread, and what it handed over so far (see `seeds_event`).
    pub seeds: Option<(crate::seeds::Fetcher, std::os::unix::net::UnixStream)>,
    pub seeds_inbox: crate::seeds::Inbox,
    /// Host names of gossiped and provided nodes, resolved off the loop.
    pub resolver: crate::resolver::Resolver,
}

impl Mesh {
    /// A fresh frame id.
    pub fn frame_id(&mut self) -> u64 {
        self.next_frame_id = self.next_frame_id.max(1);
        let id = self.next_frame_id;
        self.next_frame_id += 1;
        id
    }
}

/// A write a peer missed: the datastore request and how it was framed.
pub(super) struct Hint {
    ty: MsgType,
    resp3: bool,
    noreply: bool,
    /// When it was kept (loop clock ns): past `hints_max_age` it is dropped, not replayed.
    at: u64,
    payload: Box<[u8]>,
}

impl Hint {
    pub(super) fn new(ty: MsgType, resp3: bool, noreply: bool, at: u64, payload: Vec<u8>) -> Hint {
        Hint {
            ty,
            resp3,
            noreply,
            at,
            payload: payload.into_boxed_slice(),
        }
    }

    /// Its frame in a hints file (`now_ms`/`now_ns`: the same moment on both clocks).
    pub(super) fn encode(&self, now_ms: u64, now_ns: u64, out: &mut Vec<u8>) {
        let at_ms = now_ms.saturating_sub(now_ns.saturating_sub(self.at) / 1_000_000);
        let p = &self.payload;
        crate::peer::hintfile::encode(at_ms, self.ty, self.resp3, self.noreply, p, out);
    }
}

/// One peer as this node sees it.
#[derive(Default)]
pub(super) struct PeerView {
    pub down: bool,
    /// When `down` last changed (unix ms; 0 = never).
    pub since_ms: u64,
    /// Since when (loop clock ns) the peer has had no connection up; `None` while one is.
    pub failing_since: Option<u64>,
    /// Gossip: the peer's own clock (unix s) in the newest record heard of it, and when
    /// (loop clock ns) that last advanced.
    pub gossip_ts: u64,
    pub heard_at: u64,
    pub hints: VecDeque<Hint>,
    pub hint_bytes: usize,
    /// Hints dropped for this peer (over a bound): it missed writes for good.
    pub hints_lost: u64,
    /// Its hints file, with `hints_dir` (`hintlog.rs`).
    pub log: Option<super::hintlog::HintLog>,
    /// The last replayed hint still unanswered: (connection, frame id). Its reply answers
    /// every replay before it on that connection (replies come in order), and only then
    /// does the file go back to its header.
    pub replay_tail: Option<(u32, u64)>,
}

impl PeerView {
    /// A hint read back from its file (already journaled).
    pub(super) fn push_loaded(&mut self, hint: Hint) {
        self.hint_bytes += hint.payload.len();
        self.hints.push_back(hint);
    }
}

/// `Msg::slot` of a liveness probe (a parentless message has no slot otherwise): its reply
/// is not counted in the peer traffic stats.
pub(super) const PROBE_SLOT: u16 = u16::MAX;

/// Hints replayed per peer per loop iteration, and how many copies may wait on its
/// connection before replay pauses (replies make room).
const REPLAY_BATCH: usize = 256;
const REPLAY_MAX_QUEUED: usize = 1024;

impl Core {
    /// A view per topology node, every peer not yet connected.
    pub(super) fn init_views(&mut self) {
        let now = self.now_ns;
        self.mesh.views = (0..self.place.topo().nodes.len())
            .map(|i| PeerView {
                failing_since: (i != 0).then_some(now),
                heard_at: now,
                ..PeerView::default()
            })
            .collect();
    }

    pub(super) fn peer_is_down(&self, node: usize) -> bool {
        self.mesh.views.get(node).is_some_and(|v| v.down)
    }

    pub(super) fn has_hints(&self, node: usize) -> bool {
        self.mesh
            .views
            .get(node)
            .is_some_and(|v| !v.hints.is_empty())
    }

    /// A connection to `node` completed: unless its heartbeat is stale it is NORMAL (again)
    /// at the detector's next look, which is now.
    pub(super) fn peer_connected(&mut self, node: usize) {
        if let Some(v) = self.mesh.views.get_mut(node) {
            v.failing_since = None;
        }
        self.mesh.next_detect = Some(self.now_ns);
    }

    /// A connection to `node` failed or closed: if none is left up, the clock starts.
    pub(super) fn peer_conn_lost(&mut self, node: usize) {
        let up = self.mesh.peers.get(node).is_some_and(|slots| {
            slots.iter().any(|&i| {
                self.rx
                    .conn(i)
                    .and_then(|c| c.outbound())
                    .is_some_and(|s| s.state == ServerState::Connected)
            })
        });
        let now = self.now_ns;
        if let Some(v) = self.mesh.views.get_mut(node) {
            if !up {
                v.failing_since.get_or_insert(now);
            }
        }
    }

    /// The failure detector: a peer is DOWN when it has had no connection for
    /// `peer_down_after`, or (with gossip) its heartbeat stood still too long; NORMAL
    /// otherwise. Returns when it next needs to look (loop clock ns).
    pub(super) fn detect_failures(&mut self) -> Option<u64> {
        let after = self
            .cfg
            .peering
            .peer_down_after_ms
            .saturating_mul(1_000_000);
        let heartbeat = self.heartbeat_timeout_ns();
        let now = self.now_ns;
        let mut next: Option<u64> = None;
        let mut wake = |at: u64| next = Some(next.map_or(at, |n: u64| n.min(at)));
        for node in 1..self.mesh.views.len() {
            if self
                .place
                .topo()
                .retired
                .get(node)
                .copied()
                .unwrap_or(false)
            {
                continue;
            }
            let v = &self.mesh.views[node];
            let no_conn = v.failing_since.map(|since| now.saturating_sub(since));
            let silent = heartbeat.map(|_| now.saturating_sub(v.heard_at));
            let conn_down = no_conn.is_some_and(|t| t >= after);
            let hb_down = matches!((silent, heartbeat), (Some(s), Some(h)) if s >= h);
            if let (Some(t), false) = (no_conn, conn_down) {
                wake(now + (after - t));
            }
            if let (Some(s), Some(h), false) = (silent, heartbeat, hb_down) {
                wake(now + (h - s));
            }
            let down = conn_down || hb_down;
            if down == v.down {
                continue;
            }
            let name = self.node_name(node);
            let now_ms = crate::stats::counters::unix_ms();
            let v = &mut self.mesh.views[node];
            if down {
                let why = if conn_down {
                    format!("no connection for {} ms", no_conn.unwrap_or(0) / 1_000_000)
                } else {
                    format!(
                        "no gossip heartbeat for {} ms",
                        silent.unwrap_or(0) / 1_000_000
                    )
                };
                log_warn!("peer {name} is DOWN: {why}; its writes are kept as hints");
            } else {
                let secs = now_ms.saturating_sub(v.since_ms) / 1000;
                log_notice!(
                    "peer {name} is NORMAL again after {secs} s DOWN; {} hints to replay",
                    v.hints.len()
                );
            }
            v.down = down;
            v.since_ms = now_ms;
        }
        next
    }

    /// A liveness probe on every connected peer connection every `peer_down_after / 2`
    /// (at least 200 ms): a PING the peer answers itself (memcached: `version`). It is a read,
    /// so if the peer stops answering (a silent partition: no reset, no traffic) the probe
    /// is overdue after `timeout` + 200 ms and the connection is closed, and the failure
    /// detector takes over.
    pub(super) fn probe_peers(&mut self) {
        let every = (self.cfg.peering.peer_down_after_ms / 2).max(200) * 1_000_000;
        let now = self.now_ns;
        for node in 1..self.mesh.peers.len() {
            for i in 0..self.mesh.peers[node].len() {
                let sidx = self.mesh.peers[node][i];
                let Some(Role::PeerOut(p)) = self.rx.conn_mut(sidx).map(|c| &mut c.role) else {
                    continue;
                };
                if !(p.out.connected() && p.link.next_probe <= now) {
                    continue;
                }
                p.link.next_probe = now + every;
                self.send_probe(sidx, node);
            }
        }
    }

    fn send_probe(&mut self, sidx: u32, node: usize) {
        let payload: &[u8] = match self.proto {
            crate::proto::Protocol::Redis => b"*1\r\n$4\r\nPING\r\n",
            crate::proto::Protocol::Memcache => b"version\r\n",
        };
        let Some(m) = self.frame_msg(node, MsgType::Req, 0, DATA_REQ, payload) else {
            return;
        };
        if let Some(msg) = self.bufs.msgs.get_mut(m) {
            msg.slot = PROBE_SLOT;
        }
        let _ = self.enqueue(sidx, m);
    }

    fn node_name(&self, node: usize) -> String {
        self.place
            .topo()
            .nodes
            .get(node)
            .map_or_else(String::new, |n| {
                format!("{}:{} ({}/{})", n.host, n.port, n.dc, n.rack)
            })
    }

    /// Keep a write `node` did not get: the request `mref` (a client's or a peer's request,
    /// whose bytes are the datastore request) to be sent as a `ty` frame.
    pub(super) fn hint_request(&mut self, node: usize, mref: MsgRef, ty: MsgType, resp3: bool) {
        let Some(m) = self.bufs.msgs.get(mref) else {
            return;
        };
        let held: usize = m.req_segs.iter().map(|s| s.len()).sum();
        if held != m.req_len || held == 0 {
            return; // already written elsewhere and released: nothing to keep
        }
        let noreply = m.req.noreply;
        let mut payload = Vec::with_capacity(held);
        crate::mbuf::gather(&self.bufs.mbufs, &m.req_segs, 0, held, &mut payload);
        self.hint_push(
            node,
            Hint {
                ty,
                resp3,
                noreply,
                at: self.now_ns,
                payload: payload.into_boxed_slice(),
            },
        );
    }

    /// Keep the write carried by a copy that failed on its way to `node` (its bytes are a
    /// dnode frame: the header says how to send it again).
    pub(super) fn hint_copy(&mut self, node: usize, copy: MsgRef) {
        let Some(m) = self.bufs.msgs.get(copy) else {
            return;
        };
        let held: usize = m.req_segs.iter().map(|s| s.len()).sum();
        if held != m.req_len || held == 0 {
            return;
        }
        let noreply = m.req.noreply;
        let mut bytes = Vec::with_capacity(held);
        crate::mbuf::gather(&self.bufs.mbufs, &m.req_segs, 0, held, &mut bytes);
        let mut hp = HeaderParser::new();
        let HeaderParse::Done { consumed, header } = hp.feed(&bytes) else {
            return;
        };
        let payload = bytes[consumed..].to_vec().into_boxed_slice();
        self.hint_push(
            node,
            Hint {
                ty: header.ty,
                resp3: header.resp3(),
                noreply,
                at: self.now_ns,
                payload,
            },
        );
    }

    fn hint_push(&mut self, node: usize, hint: Hint) {
        self.journal_hint(node, &hint);
        let Some(v) = self.mesh.views.get_mut(node) else {
            return;
        };
        v.hint_bytes += hint.payload.len();
        v.hints.push_back(hint);
        self.stats.hints.stored += 1;
        self.expire_hints(node);
        self.bound_hints(node);
    }

    /// Drop `node`'s oldest hints past `hints_max_per_peer` or `hints_max_bytes_per_peer`,
    /// counted; the peer is flagged (`hints_lost`).
    pub(super) fn bound_hints(&mut self, node: usize) {
        let (max_n, max_b) = (
            self.cfg.peering.hints_max_per_peer as usize,
            self.cfg.peering.hints_max_bytes_per_peer as usize,
        );
        let Some(v) = self.mesh.views.get_mut(node) else {
            return;
        };
        while v.hints.len() > max_n || v.hint_bytes > max_b {
            let Some(old) = v.hints.pop_front() else {
                break;
            };
            v.hint_bytes -= old.payload.len();
            v.hints_lost += 1;
            self.stats.hints.dropped += 1;
            if v.hints_lost == 1 {
                log_warn!(
                    "peer {}: hints over the bound ({max_n} writes, {max_b} bytes); the oldest \
                     are dropped: warm it up from a peer once it is back",
                    self.place
                        .topo()
                        .nodes
                        .get(node)
                        .map_or("?", |n| n.name.as_str())
                );
            }
        }
    }

    /// Drop `node`'s hints older than `hints_max_age` (from the front: they are in age
    /// order), counted as dropped and expired; the peer is flagged (`hints_lost`) as it is
    /// for hints over the bounds. Replaying them hours later could overwrite newer data
    /// that reached the peer another way (a warm-up, a repair).
    pub(super) fn expire_hints(&mut self, node: usize) {
        let max_age = self.cfg.peering.hints_max_age_ms.saturating_mul(1_000_000);
        if max_age == 0 {
            return;
        }
        let now = self.now_ns;
        let Some(v) = self.mesh.views.get_mut(node) else {
            return;
        };
        let mut expired = 0u64;
        while v
            .hints
            .front()
            .is_some_and(|h| now.saturating_sub(h.at) > max_age)
        {
            let old = v.hints.pop_front().expect("a front");
            v.hint_bytes -= old.payload.len();
            expired += 1;
        }
        if expired == 0 {
            return;
        }
        let first = v.hints_lost == 0;
        v.hints_lost += expired;
        self.stats.hints.dropped += expired;
        self.stats.hints.expired += expired;
        if first {
            log_warn!(
                "peer {}: {expired} hints older than hints_max_age ({} ms) dropped: warm it up \
                 from a peer once it is back",
                self.place
                    .topo()
                    .nodes
                    .get(node)
                    .map_or("?", |n| n.name.as_str()),
                self.cfg.peering.hints_max_age_ms
            );
        }
    }

    /// The age (ms) of the oldest hint kept for any peer; 0 with none.
    pub(super) fn oldest_hint_age_ms(&self) -> u64 {
        let oldest = self
            .mesh
            .views
            .iter()
            .filter_map(|v| v.hints.front())
            .map(|h| h.at)
            .min();
        oldest.map_or(0, |at| self.now_ns.saturating_sub(at) / 1_000_000)
    }

    /// Send peers that are back the writes they missed, in order, a batch per iteration.
    /// Returns whether more remain to be sent now (the loop should not sleep long).
    pub(super) fn replay_hints(&mut self) -> bool {
        let mut more = false;
        for node in 1..self.mesh.views.len() {
            let admin_down = self.mesh.peer_down.get(node).copied().unwrap_or(false);
            self.expire_hints(node);
            if self.mesh.views[node].hints.is_empty() || self.mesh.views[node].down || admin_down {
                continue;
            }
            let Some(sidx) = self.mesh.peers.get(node).and_then(|slots| {
                slots.iter().copied().find(|&i| {
                    self.rx
                        .conn(i)
                        .and_then(|c| c.outbound())
                        .is_some_and(|s| s.state == ServerState::Connected)
                })
            }) else {
                continue;
            };
            for _ in 0..REPLAY_BATCH {
                let queued = self
                    .rx
                    .conn(sidx)
                    .and_then(|c| c.outbound())
                    .map_or(usize::MAX, |s| s.in_q.len() + s.out_q.len());
                if queued >= REPLAY_MAX_QUEUED {
                    break;
                }
                let Some(h) = self.mesh.views[node].hints.pop_front() else {
                    break;
                };
                self.mesh.views[node].hint_bytes -= h.payload.len();
                if !self.send_hint(sidx, node, &h) {
                    // No message object free: try again later, in order.
                    self.mesh.views[node].hint_bytes += h.payload.len();
                    self.mesh.views[node].hints.push_front(h);
                    break;
                }
                self.stats.hints.replayed += 1;
            }
            let v = &self.mesh.views[node];
            if v.hints.is_empty() && v.replay_tail.is_none() {
                self.hint_log_drained(node);
            }
            more |= !self.mesh.views[node].hints.is_empty();
        }
        more
    }

    fn send_hint(&mut self, sidx: u32, node: usize, h: &Hint) -> bool {
        let flags = if h.resp3 { FLAG_RESP3 } else { 0 };
        let Some(copy) = self.frame_msg(node, h.ty, flags, DATA_REQ, &h.payload) else {
            return false;
        };
        let c = self.bufs.msgs.get_mut(copy).expect("fresh");
        c.is_write = true;
        c.req.noreply = h.noreply;
        let id = c.frame_id;
        self.stats.pool.peer_requests += 1;
        self.stats.pool.peer_request_bytes += c.req_len as u64;
        let queued = self.enqueue(sidx, copy);
        // A noreply write gets no answer to wait for.
        if queued && !h.noreply {
            self.mesh.views[node].replay_tail = Some((sidx, id));
        }
        queued
    }

    /// A replayed hint's frame `id` on connection `sidx` to `node` was answered, or failed
    /// (and was kept again): once the last one is, and nothing is left to replay, the
    /// peer's file goes back to its header.
    pub(super) fn replay_answered(&mut self, node: usize, sidx: u32, id: u64) {
        let Some(v) = self.mesh.views.get_mut(node) else {
            return;
        };
        if v.replay_tail != Some((sidx, id)) {
            return;
        }
        v.replay_tail = None;
        if v.hints.is_empty() {
            self.hint_log_drained(node);
        }
    }

    pub(super) fn hints_total(&self) -> (u64, u64) {
        self.mesh.views.iter().fold((0, 0), |(n, b), v| {
            (n + v.hints.len() as u64, b + v.hint_bytes as u64)
        })
    }
}
