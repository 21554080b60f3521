//! Membership at run time: nodes learned from gossip or a seed provider join the rings and
//! get connections; a known `(dc, rack, token)` at a new address is a replacement (its
//! connections are rebuilt, as Dynomite's `dnode_peer_replace` does).
//!
//! Gossip (`enable_gossip`, every `gos_interval` ms) speaks Dynomite's `GOSSIP_SYN` payloads
//! (SPEC §6.3): a digest of every known node (`dc$rack$token,ts,state,address|...`) to one
//! random peer per round, to every peer in the first round (the announce). A node's `ts` is
//! its own clock when it last spoke: a peer whose `ts` stops advancing is DOWN after
//! `max(peer_down_after, 4 gos_interval, 2.5 s)` (the heartbeat detector; see
//! `membership.rs` for the connection detector). Gossip never changes this node's own state
//! (Dynomite's forces NORMAL, undoing an operator's `/state/...`).

use super::Core;
use crate::conn::ServerState;
use crate::peer::{parse_gossip, write_gossip, GossipNode, MsgType, DATA_GOSSIP};
use crate::resolver::Lookup;
use crate::ring::Node;
use crate::{log_debug, log_notice, log_warn};

/// The dnode port Dynomite assumes for a node learned from gossip (the address carries no
/// port): 8101 if ours is 8101, else 8103. We add `:port` to our own address when it is not
/// 8101, and read it back when present.
fn default_peer_port(ours: u16) -> u16 {
    if ours == 8101 {
        8101
    } else {
        8103
    }
}

impl Core {
    /// Take in one node as a seed provider or gossip describes it. Returns its topology
    /// index (0 for this node).
    pub(super) fn learn_node(
        &mut self,
        host: &str,
        port: u16,
        dc: &str,
        rack: &str,
        token: u32,
        why: &str,
    ) -> Option<usize> {
        let local = self.place.topo().local();
        if local.dc == dc && local.rack == rack && local.token == token {
            return Some(0);
        }
        if let Some(idx) = self.place.topo().find(dc, rack, token) {
            let n = &self.place.topo().nodes[idx];
            if n.host == host && n.port == port {
                return Some(idx);
            }
            let old = format!("{}:{}", n.host, n.port);
            let addr = match self.mesh.resolver.lookup(host, port, self.now) {
                Lookup::Ready(a) => a,
                // Moved once the new name resolves (gossip says it again next round).
                Lookup::Pending => return Some(idx),
            };
            self.place
                .update(|t| t.replace_address(dc, rack, token, host, port, addr))?;
            log_notice!(
                "node {dc}/{rack} token {token} moved from {old} to {host}:{port} ({why}): \
                 reconnecting"
            );
            let now = self.now_ns;
            if let Some(v) = self.mesh.views.get_mut(idx) {
                v.failing_since = Some(now);
            }
            for i in 0..self.mesh.peers.get(idx).map_or(0, |p| p.len()) {
                let sidx = self.mesh.peers[idx][i];
                self.reconnect_now(sidx, "the node moved to a new address");
            }
            return Some(idx);
        }
        let added = self
            .place
            .topo()
            .nodes
            .len()
            .saturating_sub(1 + self.cfg.peering.dyn_seeds.len());
        if added >= self.cfg.limits.max_gossip_nodes as usize {
            self.stats.limits.gossip_refused += 1;
            if self.stats.limits.gossip_refused.is_power_of_two() {
                log_warn!(
                    "node {host}:{port} ({dc}/{rack}, token {token}) from {why} not added: max_gossip_nodes ({}) reached",
                    self.cfg.limits.max_gossip_nodes
                );
            }
            return None;
        }
        let addr = match self.mesh.resolver.lookup(host, port, self.now) {
            Lookup::Ready(Some(a)) => Some(a),
            Lookup::Ready(None) => {
                log_warn!(
                    "node {host}:{port} ({dc}/{rack}, token {token}) from {why}: cannot resolve {host}"
                );
                return None;
            }
            Lookup::Pending => {
                log_debug!("node {host}:{port} from {why}: resolving {host}");
                return None;
            }
        };
        let idx = self.place.update(|t| {
            t.add_node(Node {
                name: host.to_string(),
                host: host.to_string(),
                port,
                addr,
                dc: dc.to_string(),
                rack: rack.to_string(),
                token,
                is_local: false,
            })
        });
        log_notice!("node {host}:{port} ({dc}/{rack}, token {token}) joined ({why})");
        if self.opts.admin_op == 0 {
            while self.mesh.peers.len() < self.place.topo().nodes.len() {
                self.mesh.peers.push(Vec::new());
                self.mesh.peer_down.push(false);
                let now = self.now_ns;
                self.mesh.views.push(super::membership::PeerView {
                    failing_since: Some(now),
                    heard_at: now,
                    ..Default::default()
                });
            }
            self.connect_node(idx);
        }
        Some(idx)
    }

    /// Take a node out of the rings for good (its seed was removed from the config): its
    /// connections close, its range goes to the next token of its rack, the writes kept for
    /// it are dropped. Gossip from nodes that still list it would bring it back.
    pub(super) fn retire_node(&mut self, idx: usize, why: &str) {
        if !self.place.update(|t| t.retire(idx)) {
            return;
        }
        let n = &self.place.topo().nodes[idx];
        log_notice!(
            "node {}:{} ({}/{}, token {}) left the rings ({why})",
            n.host,
            n.port,
            n.dc,
            n.rack,
            n.token
        );
        let slots = self
            .mesh
            .peers
            .get_mut(idx)
            .map(std::mem::take)
            .unwrap_or_default();
        for sidx in slots {
            self.drop_conn(sidx, "the node left the rings");
            self.rx.remove(sidx, &mut self.bufs.mbufs);
        }
        if let Some(v) = self.mesh.views.get_mut(idx) {
            self.stats.hints.dropped += v.hints.len() as u64;
            *v = super::membership::PeerView::default();
        }
    }

    /// The address a node is known by in gossip: its host, with `:port` unless the port is
    /// the one Dynomite would assume.
    fn gossip_address(&self, node: usize) -> String {
        let n = &self.place.topo().nodes[node];
        if n.port == 8101 {
            n.host.clone()
        } else {
            format!("{}:{}", n.host, n.port)
        }
    }

    /// One gossip round: a digest of every known node to one random connected peer (to
    /// every peer the first time). Returns when the next round is due (loop clock ns).
    pub(super) fn gossip_round(&mut self) -> u64 {
        let every = self.cfg.peering.gos_interval_ms.max(10) * 1_000_000;
        let next = self.now_ns + every;
        if !self.cfg.peering.enable_gossip
            || self.place.topo().nodes.len() < 2
            || self.mesh.peers.is_empty()
        {
            return next;
        }
        let now_s = crate::stats::counters::unix_ms() / 1000;
        let mut nodes = Vec::with_capacity(self.place.topo().nodes.len());
        for i in 0..self.place.topo().nodes.len() {
            if self.place.topo().retired[i] {
                continue;
            }
            let n = &self.place.topo().nodes[i];
            let (ts, state) = if i == 0 {
                (now_s, self.node.state as u8)
            } else {
                let v = &self.mesh.views[i];
                let state = if v.down {
                    crate::types::NodeState::Down
                } else {
                    crate::types::NodeState::Normal
                };
                (v.gossip_ts, state as u8)
            };
            nodes.push(GossipNode {
                dc: n.dc.clone(),
                rack: n.rack.clone(),
                token: n.token,
                ts,
                state,
                address: self.gossip_address(i),
            });
        }
        let mut payload = Vec::new();
        write_gossip(&mut payload, &nodes);
        let connected: Vec<usize> = (1..self.place.topo().nodes.len())
            .filter(|&n| self.connected_slot(n).is_some())
            .collect();
        if connected.is_empty() {
            return next;
        }
        if !self.mesh.announced {
            self.mesh.announced = true;
            for n in connected {
                self.send_gossip(n, &payload);
            }
        } else {
            // A cheap pseudo-random pick (xorshift of the clock): no need for a real RNG.
            let mut x = self.now_ns ^ 0x9e37_79b9_7f4a_7c15;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let n = connected[(x % connected.len() as u64) as usize];
            self.send_gossip(n, &payload);
        }
        next
    }

    /// A connected connection slot to `node`, if any.
    pub(super) fn connected_slot(&self, node: usize) -> Option<u32> {
        self.mesh.peers.get(node)?.iter().copied().find(|&i| {
            self.rx
                .conn(i)
                .and_then(|c| c.outbound())
                .is_some_and(|s| s.state == ServerState::Connected)
        })
    }

    fn send_gossip(&mut self, node: usize, payload: &[u8]) {
        let Some(sidx) = self.connected_slot(node) else {
            return;
        };
        let Some(m) = self.frame_msg(node, MsgType::GossipSyn, 0, DATA_GOSSIP, payload) else {
            return;
        };
        // No reply comes to a gossip frame.
        if let Some(msg) = self.bufs.msgs.get_mut(m) {
            msg.req.noreply = true;
        }
        let _ = self.enqueue(sidx, m);
    }

    /// A gossip payload from a peer: learn every node it lists, and note whose heartbeat
    /// advanced.
    pub(super) fn gossip_received(&mut self, payload: &[u8]) {
        let nodes = match parse_gossip(payload) {
            Ok(n) => n,
            Err(e) => {
                log_warn!("gossip payload rejected: {e}");
                return;
            }
        };
        let ours = self.place.topo().local().port;
        for g in nodes {
            let (host, port) = match g.address.rsplit_once(':') {
                Some((h, p)) if !h.is_empty() && p.parse::<u16>().is_ok() => {
                    (h.to_string(), p.parse::<u16>().unwrap_or(0))
                }
                _ => (g.address.clone(), default_peer_port(ours)),
            };
            let Some(idx) = self.learn_node(&host, port, &g.dc, &g.rack, g.token, "gossip") else {
                continue;
            };
            if idx == 0 {
                continue;
            }
            let now = self.now_ns;
            if let Some(v) = self.mesh.views.get_mut(idx) {
                if g.ts > v.gossip_ts {
                    v.gossip_ts = g.ts;
                    v.heard_at = now;
                    log_debug!("gossip: {host}:{port} heartbeat {}", g.ts);
                }
            }
        }
    }

    /// How long a peer's gossip heartbeat may stand still before it is DOWN (ns); `None`
    /// without gossip.
    pub(super) fn heartbeat_timeout_ns(&self) -> Option<u64> {
        if !self.cfg.peering.enable_gossip {
            return None;
        }
        let ms = self
            .cfg
            .peering
            .peer_down_after_ms
            .max(self.cfg.peering.gos_interval_ms.saturating_mul(4))
            .max(2500);
        Some(ms.saturating_mul(1_000_000))
    }
}

impl Core {
    /// Start the seed provider's thread (`florida_provider`, `dns_provider`); it fetches the
    /// list every 30 s (`DYNOMITE_SEEDS_INTERVAL_MS` overrides, ours) and hands it over when
    /// it changed.
    pub(super) fn start_seed_provider(&mut self) -> std::io::Result<()> {
        use crate::conf::SeedProvider;
        use crate::seeds::{Fetcher, Source, POLL_INTERVAL};
        let env = |k: &str| std::env::var(k).ok();
        let src = match self.cfg.peering.dyn_seed_provider {
            SeedProvider::Simple => return Ok(()),
            SeedProvider::Florida => Source::florida_from_env(env),
            SeedProvider::Dns => {
                let resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
                Source::dns_from_env(env, &resolv)
            }
        }
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let every = std::env::var("DYNOMITE_SEEDS_INTERVAL_MS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|&ms| ms > 0)
            .map_or(POLL_INTERVAL, std::time::Duration::from_millis);
        let timeout = std::time::Duration::from_secs(5).min(every);
        log_notice!("seed provider {src:?}, polled every {every:?}");
        let (fetcher, sock) = Fetcher::spawn(src, every, timeout)?;
        let fd = std::os::fd::AsRawFd::as_raw_fd(&sock);
        self.rx.add_foreign(fd, crate::conn::Role::Seeds)?;
        self.mesh.seeds = Some((fetcher, sock));
        Ok(())
    }

    /// The seed provider handed something over: merge each listed node (a new node joins, a
    /// known token at a new address replaces the old one), or log the problem.
    pub(super) fn seeds_event(&mut self) {
        use crate::seeds::Update;
        use std::io::Read;
        let Some((_, sock)) = self.mesh.seeds.as_mut() else {
            return;
        };
        let mut buf = [0u8; 16384];
        loop {
            match sock.read(&mut buf) {
                Ok(0) => {
                    log_warn!("the seed provider's thread is gone; membership from it stops");
                    if let Some((_, s)) = self.mesh.seeds.take() {
                        let _ = self.rx.epoll.delete(std::os::fd::AsRawFd::as_raw_fd(&s));
                    }
                    break;
                }
                Ok(n) => self.mesh.seeds_inbox.feed(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        let why = match self.cfg.peering.dyn_seed_provider {
            crate::conf::SeedProvider::Dns => "dns seeds",
            _ => "florida seeds",
        };
        while let Some(update) = self.mesh.seeds_inbox.next() {
            match update {
                Update::Error(e) => log_warn!("seed provider: {e}"),
                Update::Seeds(text) => match crate::peer::parse_seed_list(&text) {
                    Err(e) => log_warn!("seed provider: {e}; the list is ignored"),
                    Ok(recs) => {
                        log_notice!("seed provider: {} seeds", recs.len());
                        for r in recs {
                            self.learn_node(&r.host, r.port, &r.dc, &r.rack, r.token, why);
                        }
                    }
                },
            }
        }
    }
}
