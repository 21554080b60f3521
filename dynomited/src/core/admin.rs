//! The stats and admin HTTP role: one request per connection, answered from the loop's own
//! counters (no locks, no copies of the stats), then closed.

use std::io;

use super::Core;
use crate::conn::{Role, StatsConn};
use crate::event::{self, Event};
use crate::log_notice;
use crate::stats::http::{self, Admin, HttpParse};
use crate::stats::model::{self, ExtraValue, Info};

/// Largest HTTP request we read.
const MAX_REQUEST: usize = 8192;

impl Core {
    pub(super) fn accept_stats(&mut self, lidx: u32) {
        for _ in 0..16 {
            let role = || Role::Stats(StatsConn::default());
            if self
                .rx
                .accept_one(lidx, self.now, &mut self.bufs.mbufs, role)
                .is_none()
            {
                return;
            }
        }
    }

    pub(super) fn stats_event(&mut self, idx: u32, ev: Event) {
        if (ev.readable || ev.error) && !self.stats_read(idx) {
            return;
        }
        if ev.writable {
            self.stats_write(idx);
        }
    }

    /// Read until the request is complete; then answer. Returns false if the conn is gone.
    fn stats_read(&mut self, idx: u32) -> bool {
        let Some(conn) = self.rx.conn_mut(idx) else {
            return false;
        };
        let fd = conn.raw_fd();
        let Role::Stats(sc) = &mut conn.role else {
            return false;
        };
        if !sc.out.is_empty() {
            return true;
        }
        let mut tmp = [0u8; 2048];
        match event::read(fd, &mut tmp) {
            Ok(0) => {
                self.rx.remove(idx, &mut self.bufs.mbufs);
                return false;
            }
            Ok(n) => sc.buf.extend_from_slice(&tmp[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
            Err(_) => {
                self.rx.remove(idx, &mut self.bufs.mbufs);
                return false;
            }
        }
        let parsed = match http::parse_request(&sc.buf) {
            HttpParse::Incomplete if sc.buf.len() < MAX_REQUEST => return true,
            HttpParse::Request { path, .. } => Some(path.to_string()),
            _ => None,
        };
        let mut out = Vec::new();
        match parsed {
            Some(path) => {
                let (body, ctype) = self.admin(&path);
                http::write_response(&mut out, body.as_bytes(), ctype);
            }
            None => http::write_bad_request(&mut out),
        }
        if let Some(Role::Stats(sc)) = self.rx.conn_mut(idx).map(|c| &mut c.role) {
            sc.out = out;
        }
        self.stats_write(idx);
        true
    }

    fn stats_write(&mut self, idx: u32) {
        let Some(conn) = self.rx.conn_mut(idx) else {
            return;
        };
        let fd = conn.raw_fd();
        let Role::Stats(sc) = &mut conn.role else {
            return;
        };
        while sc.written < sc.out.len() {
            match event::write(fd, &sc.out[sc.written..]) {
                Ok(n) => sc.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.rx.set_interest(idx, event::READ | event::WRITE);
                    return;
                }
                Err(_) => break,
            }
        }
        // One request per connection, then close. A close with unread bytes (a keep-alive
        // client's next request) makes the kernel send a reset, which can destroy the reply
        // still in flight: half-close first so the FIN follows the reply, drop what the
        // client sent since, then close.
        let _ = event::shutdown_write(fd);
        event::drain(fd, MAX_REQUEST);
        self.rx.remove(idx, &mut self.bufs.mbufs);
    }

    /// Run one admin call; returns the body and its content type.
    fn admin(&mut self, path: &str) -> (String, &'static str) {
        const JSON: &str = "application/json; charset=utf-8";
        const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
        let ok = || ("OK\r\n".to_string(), JSON);
        self.stats.pool.stats_count += 1;
        match http::route(path) {
            Admin::Info => (self.render_info(), JSON),
            Admin::Metrics => (self.render_metrics(), TEXT),
            Admin::Ping | Admin::Unknown => ok(),
            Admin::Help => (http::help_text().to_string(), JSON),
            Admin::ClusterDescribe => (self.render_cluster_describe(), JSON),
            Admin::SetLogLevel(n) => {
                crate::log::set_level(n);
                log_notice!("log level set to {}", crate::log::level());
                ok()
            }
            Admin::LogLevelUp => {
                crate::log::level_up();
                ok()
            }
            Admin::LogLevelDown => {
                crate::log::level_down();
                ok()
            }
            Admin::HistoReset => {
                self.reset_histograms();
                ok()
            }
            Admin::GetConsistency => (
                format!(
                    "Read Consistency: {}\r\nWrite Consistency: {}\r\n",
                    self.node.read_consistency, self.node.write_consistency
                ),
                JSON,
            ),
            Admin::SetConsistency { write, level } => {
                if let Some(l) = level {
                    if write {
                        self.node.write_consistency = l;
                    } else {
                        self.node.read_consistency = l;
                    }
                    log_notice!(
                        "{} consistency set to {l}",
                        if write { "write" } else { "read" }
                    );
                }
                ok()
            }
            Admin::GetTimeoutFactor => (
                format!("Timeout factor: {}\n", self.node.timeout_factor),
                JSON,
            ),
            Admin::SetTimeoutFactor(n) => {
                self.node.timeout_factor = n.clamp(1, 10) as u64;
                ok()
            }
            Admin::Peer { verb, name } => {
                self.peer_admin(verb, &name);
                ok()
            }
            Admin::ReadRepairs(Some(on)) => {
                self.node.read_repairs = on;
                let s = if on { "ENABLED" } else { "DISABLED" };
                (format!("Read Repairs: {s}\r\n"), JSON)
            }
            Admin::ReadRepairs(None) => ok(),
            Admin::SetState(s) => {
                self.set_state(s);
                ok()
            }
            Admin::GetState => (format!("State: {}\n", self.node.state), JSON),
        }
    }

    fn info<'a>(&'a self, source: &'a str) -> Info<'a> {
        Info {
            source,
            version: crate::VERSION,
            uptime: self.uptime(),
            timestamp: crate::stats::counters::unix_ms() / 1000,
            rack: &self.cfg.rack,
            dc: &self.cfg.datacenter,
            histograms: &self.stats.histos,
            alloc_msgs: self.bufs.msgs.allocated() as u64,
            free_msgs: self.bufs.msgs.free_count() as u64,
            alloc_mbufs: self.bufs.mbufs.allocated() as u64,
            free_mbufs: self.bufs.mbufs.free_count() as u64,
            dyn_memory: event::max_rss_kib(),
            pool_name: &self.cfg.pool_name,
            pool: &self.stats.pool,
            server_name: &self.cfg.backend.server.name,
            server: &self.stats.server,
        }
    }

    /// Our own figures beyond Dynomite's pool and server metrics (`/info`, memcached
    /// `stats`).
    fn info_extra(&self) -> [(&'static str, ExtraValue<'_>); 24] {
        let (hints, hint_bytes) = self.hints_total();
        let r = self.stats.repair;
        let t = self.rx.certs.counts;
        let peers_down = self.mesh.views.iter().filter(|v| v.down).count() as u64;
        // Datastore connections up now (health checks: 0 means the datastore is unreachable).
        let datastore_up = self
            .pools
            .main
            .iter()
            .filter(|&&i| {
                self.rx
                    .conn(i)
                    .and_then(|c| c.outbound())
                    .is_some_and(|s| s.state == crate::conn::ServerState::Connected)
            })
            .count() as u64;
        [
            ("state", ExtraValue::Str(self.node.state.name())),
            (
                "read_consistency",
                ExtraValue::Str(self.node.read_consistency.name()),
            ),
            (
                "write_consistency",
                ExtraValue::Str(self.node.write_consistency.name()),
            ),
            ("read_failovers", ExtraValue::Num(self.stats.read_failovers)),
            (
                "crossslot_refusals",
                ExtraValue::Num(self.stats.crossslot_refusals),
            ),
            (
                "script_refusals",
                ExtraValue::Num(self.stats.script_refusals),
            ),
            ("peers_down", ExtraValue::Num(peers_down)),
            ("datastore_connected", ExtraValue::Num(datastore_up)),
            ("hints", ExtraValue::Num(hints)),
            ("hints_bytes", ExtraValue::Num(hint_bytes)),
            ("hints_stored", ExtraValue::Num(self.stats.hints.stored)),
            ("hints_replayed", ExtraValue::Num(self.stats.hints.replayed)),
            ("hints_dropped", ExtraValue::Num(self.stats.hints.dropped)),
            ("hints_expired", ExtraValue::Num(self.stats.hints.expired)),
            (
                "hints_oldest_age_ms",
                ExtraValue::Num(self.oldest_hint_age_ms()),
            ),
            ("read_repair_writes", ExtraValue::Num(r.writes)),
            ("read_repair_reads", ExtraValue::Num(r.reads)),
            ("read_repair_keys", ExtraValue::Num(r.keys)),
            ("read_repairs_issued", ExtraValue::Num(r.issued)),
            ("read_repair_cleanups", ExtraValue::Num(r.cleanups)),
            ("tls_handshakes", ExtraValue::Num(t.client_handshakes)),
            ("tls_handshake_failures", ExtraValue::Num(t.client_failures)),
            (
                "datastore_tls_handshakes",
                ExtraValue::Num(t.datastore_handshakes),
            ),
            (
                "datastore_tls_handshake_failures",
                ExtraValue::Num(t.datastore_failures),
            ),
        ]
    }

    fn render_info(&self) -> String {
        let host = hostname();
        let info = self.info(&host);
        let mut out = String::with_capacity(4096);
        let extra = self.info_extra();
        debug_assert!(
            extra
                .iter()
                .zip(model::EXTRAS)
                .all(|((name, _), d)| *name == d.name)
                && extra.len() == model::EXTRAS.len(),
            "/info's own fields are model::EXTRAS, in its order"
        );
        model::render_info(&info, &extra, &mut out);
        out
    }

    /// The proxy's own lines of a memcached `stats` reply: `STAT dyn_<name> <value>` for
    /// the version, pid, every pool metric of `/info` and our own figures.
    pub(super) fn mc_proxy_stats(&self, out: &mut Vec<u8>) {
        use std::io::Write as _;
        let _ = write!(out, "STAT dyn_version {}\r\n", crate::VERSION);
        let _ = write!(out, "STAT dyn_pid {}\r\n", std::process::id());
        let _ = write!(out, "STAT dyn_uptime {}\r\n", self.uptime());
        for (name, value) in self.info_extra() {
            let _ = match value {
                ExtraValue::Num(n) => write!(out, "STAT dyn_{name} {n}\r\n"),
                ExtraValue::Str(s) => write!(out, "STAT dyn_{name} {s}\r\n"),
                ExtraValue::Bool(b) => write!(out, "STAT dyn_{name} {}\r\n", u8::from(b)),
            };
        }
        for (d, v) in self.stats.pool.iter() {
            let _ = write!(out, "STAT dyn_{} {v}\r\n", d.name);
        }
    }

    fn render_metrics(&self) -> String {
        let host = hostname();
        let info = self.info(&host);
        let mut out = String::with_capacity(16384);
        // Every figure of our own as its declaration says: a counter as `<name>_total`, a
        // gauge as it is, a level's name (state, consistency) as a label.
        let extra = self.info_extra();
        let names: Vec<String> = extra
            .iter()
            .map(|(name, _)| match model::extra_desc(name).map(|d| d.kind) {
                Some("counter") => format!("{name}_total"),
                _ => name.to_string(),
            })
            .collect();
        let gauges: Vec<(&str, ExtraValue<'_>)> = names
            .iter()
            .zip(extra.iter())
            .map(|(n, (_, v))| (n.as_str(), *v))
            .collect();
        model::render_prometheus_with_extra(&info, &gauges, &mut out);
        out
    }

    /// Dynomite's topology JSON (SPEC §7.4), from the ring this node routes by.
    fn render_cluster_describe(&self) -> String {
        let dcs = self
            .place
            .topo()
            .dcs
            .iter()
            .map(|dc| model::DescribeDc {
                name: dc.name.clone(),
                racks: dc
                    .racks
                    .iter()
                    .map(|rack| model::DescribeRack {
                        name: rack.name.clone(),
                        servers: rack
                            .nodes
                            .iter()
                            .map(|&n| {
                                let node = &self.place.topo().nodes[n];
                                model::DescribeServer {
                                    name: node
                                        .addr
                                        .map(|a| a.ip().to_string())
                                        .unwrap_or_else(|| node.name.clone()),
                                    host: node.host.clone(),
                                    port: node.port,
                                    token: node.token,
                                    state: match self.mesh.views.get(n) {
                                        _ if n == 0 => self.node.state.name(),
                                        Some(v) if v.down => "DOWN",
                                        // Marked down by an operator (/peer/down/...).
                                        _ if self.mesh.peer_down.get(n) == Some(&true) => "DOWN",
                                        _ => "NORMAL",
                                    },
                                    since_ms: self.mesh.views.get(n).map_or(0, |v| v.since_ms),
                                    hints: self
                                        .mesh
                                        .views
                                        .get(n)
                                        .map_or(0, |v| v.hints.len() as u64),
                                    hints_lost: self.mesh.views.get(n).map_or(0, |v| v.hints_lost),
                                }
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect::<Vec<_>>();
        let mut out = String::new();
        model::render_cluster_describe(&dcs, &mut out);
        out
    }
}

fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "localhost".into())
}
