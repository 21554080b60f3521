//! SIGHUP: read the config file again and apply what can change while running.
//!
//! Applied at once: new seeds (they join like a seed provider's), `log_level`, the
//! consistency levels,
//! `timeout`, `server_retry_timeout`, gossip (`enable_gossip`, `gos_interval`),
//! `peer_down_after`, the hint bounds, `requirepass`, `users`, `admin_token` (or the file
//! `admin_token_file` names, read again), `datastore_password` (next connect),
//! and the connection counts (`datastore_connections`, `local_peer_connections`,
//! `remote_peer_connections`: slots added or closed), the TLS certificate files (read again
//! for new connections, `tls.rs`). A removed seed leaves the rings (its
//! range goes to the next token of its rack; Dynomite never removes a node). Keys that name
//! what the process is (listen addresses, tokens, DC and rack, the datastore, hashing,
//! buffers, encryption) are reported as needing a restart and keep their running value. A
//! file that does not load is rejected with its errors and the running config stays.

use super::Core;
use crate::conf::Config;
use crate::conn::PoolKind;
use crate::{log_notice, log_warn};

impl Core {
    pub(super) fn reload(&mut self) {
        let path = self.cfg.file.clone();
        let mut new = match crate::conf::load(&path) {
            Ok(c) => c,
            Err(e) => {
                log_warn!(
                    "SIGHUP: {} does not load; the running config stays:\n{e}",
                    path.display()
                );
                return;
            }
        };
        let old = self.cfg.clone();
        let mut restart: Vec<&'static str> = Vec::new();
        macro_rules! fixed {
            ($($($field:ident).+ => $name:literal),* $(,)?) => {$(
                if new.$($field).+ != old.$($field).+ {
                    restart.push($name);
                    new.$($field).+ = old.$($field).+.clone();
                }
            )*};
        }
        fixed!(
            net.listen => "listen",
            net.dyn_listen => "dyn_listen",
            net.stats_listen => "stats_listen",
            backend.server => "servers",
            data_store => "data_store",
            tokens => "tokens",
            rack => "rack",
            datacenter => "datacenter",
            peering.dyn_seed_provider => "dyn_seed_provider",
            hash => "hash",
            hash_tag => "hash_tag",
            mbuf_size => "mbuf_size",
            max_msgs => "max_msgs",
            security.secure_server_option => "secure_server_option",
            security.pem_key_file => "pem_key_file",
            pool_name => "the pool name",
            // Open files and what start-up read from them belong to the old directory.
            peering.hints_dir => "hints_dir",
        );
        let mut changed: Vec<String> = Vec::new();
        self.reload_tls(&mut new, &old, &mut changed, &mut restart);
        if new.read_consistency != old.read_consistency {
            self.node.read_consistency = new.read_consistency;
            changed.push(format!("read_consistency {}", new.read_consistency));
        }
        if new.write_consistency != old.write_consistency {
            self.node.write_consistency = new.write_consistency;
            changed.push(format!("write_consistency {}", new.write_consistency));
        }
        macro_rules! live {
            ($($($field:ident).+ => $name:literal),* $(,)?) => {$(
                if new.$($field).+ != old.$($field).+ {
                    changed.push(format!("{} {:?}", $name, new.$($field).+));
                }
            )*};
        }
        live!(
            backend.timeout_ms => "timeout_ms",
            backend.server_retry_timeout_ms => "server_retry_timeout_ms",
            peering.enable_gossip => "enable_gossip",
            peering.gos_interval_ms => "gos_interval_ms",
            peering.peer_down_after_ms => "peer_down_after_ms",
            peering.hints_max_per_peer => "hints_max_per_peer",
            peering.hints_max_bytes_per_peer => "hints_max_bytes_per_peer",
            peering.hints_max_age_ms => "hints_max_age",
            peering.hints_fsync => "hints_fsync",
            backend.datastore_connections => "datastore_connections",
            peering.local_peer_connections => "local_peer_connections",
            peering.remote_peer_connections => "remote_peer_connections",
        );
        if new.log_level != old.log_level {
            if let Some(l) = new.log_level {
                crate::log::set_level(l);
                changed.push(format!("log_level {l}"));
            }
        }
        if new.security.allow_flush != old.security.allow_flush {
            changed.push(format!("allow_flush {}", new.security.allow_flush));
        }
        // Secrets are named, never shown.
        let secrets = [
            (
                "requirepass",
                new.security.requirepass != old.security.requirepass,
            ),
            ("users", new.security.users != old.security.users),
            (
                "admin_token",
                new.security.admin_token != old.security.admin_token,
            ),
        ];
        for (name, _) in secrets.iter().filter(|(_, changed)| *changed) {
            changed.push((*name).into());
        }
        if new.backend.datastore_password != old.backend.datastore_password {
            changed.push("datastore_password (from the next connect)".into());
        }
        // Seeds: new ones join; removed ones stay until a restart.
        let added: Vec<_> = new
            .peering
            .dyn_seeds
            .iter()
            .filter(|s| !old.peering.dyn_seeds.contains(s))
            .cloned()
            .collect();
        let removed: Vec<_> = old
            .peering
            .dyn_seeds
            .iter()
            .filter(|s| !new.peering.dyn_seeds.contains(s))
            .cloned()
            .collect();
        self.cfg = new;
        for s in &added {
            let token = s.tokens.first().copied().unwrap_or(0);
            self.learn_node(&s.host, s.port, &s.dc, &s.rack, token, "config reload");
            changed.push(format!("seed {}:{} added", s.host, s.port));
        }
        for s in &removed {
            let token = s.tokens.first().copied().unwrap_or(0);
            if let Some(idx) = self.place.topo().find(&s.dc, &s.rack, token) {
                if self.place.topo().nodes[idx].host == s.host
                    && self.place.topo().nodes[idx].port == s.port
                {
                    self.retire_node(idx, "removed from the config");
                    changed.push(format!("seed {}:{} removed", s.host, s.port));
                }
            }
        }
        self.resize_pools(&old);
        if changed.is_empty() && restart.is_empty() {
            log_notice!("SIGHUP: {} reloaded; nothing changed", path.display());
        } else if !changed.is_empty() {
            log_notice!(
                "SIGHUP: {} reloaded; applied: {}",
                path.display(),
                changed.join(", ")
            );
        }
        if !restart.is_empty() {
            log_warn!(
                "SIGHUP: changed but applied only at a restart (running values kept): {}",
                restart.join(", ")
            );
        }
    }

    /// Open or close connection slots after the connection counts changed.
    fn resize_pools(&mut self, old: &Config) {
        let want = self.cfg.backend.datastore_connections.max(1) as usize;
        if want != old.backend.datastore_connections.max(1) as usize {
            let mut list = std::mem::take(&mut self.pools.main);
            self.resize(&mut list, want, PoolKind::Main, None);
            self.pools.main = list;
            if !self.pools.resp3.is_empty() {
                let mut list = std::mem::take(&mut self.pools.resp3);
                self.resize(&mut list, want, PoolKind::Resp3, None);
                self.pools.resp3 = list;
            }
        }
        let changed = self.cfg.peering.local_peer_connections != old.peering.local_peer_connections
            || self.cfg.peering.remote_peer_connections != old.peering.remote_peer_connections;
        if !changed || self.mesh.peers.is_empty() {
            return;
        }
        for node in 1..self.mesh.peers.len() {
            if self.place.topo().retired[node] {
                continue; // left the rings: no connections
            }
            let want = self.peer_conns_wanted(node);
            let mut list = std::mem::take(&mut self.mesh.peers[node]);
            self.resize(&mut list, want, PoolKind::Main, Some(node));
            self.mesh.peers[node] = list;
        }
    }

    fn resize(&mut self, list: &mut Vec<u32>, want: usize, pool: PoolKind, node: Option<usize>) {
        while list.len() > want {
            let idx = list.pop().expect("non-empty");
            self.drop_conn(idx, "closed: fewer connections configured");
            self.rx.remove(idx, &mut self.bufs.mbufs);
        }
        while list.len() < want {
            let slot = list.len();
            let idx = match node {
                Some(n) => self.new_peer_slot(n, slot),
                None => self.new_datastore(pool, slot),
            };
            list.push(idx);
            self.out_start(idx);
        }
    }
}
