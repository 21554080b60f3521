//! The stats and admin HTTP role: one request per connection, answered from the loop's own
//! counters (no locks, no copies of the stats), then closed.
//!
//! ```text
//!   request ─► route(path) ─┬─ Unknown ──────────────────────────► 404 (admin_not_found)
//!                           ├─ changes something, admin_token set,
//!                           │  no "Authorization: Bearer <token>" ─► 401 (admin_unauthorized)
//!                           └─ run it ─► 200 (or /ready's 503 with the reasons)
//! ```

use std::io;

use super::Core;
use crate::cluster::ready::{self, DcSeen, RackSeen};
use crate::conn::{Role, StatsConn};
use crate::event::{self, Event};
use crate::stats::http::{self, Admin, HttpParse};
use crate::stats::model::{self, ExtraValue, Info};
use crate::{log_notice, log_warn};

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
            HttpParse::Request {
                path,
                authorization,
                ..
            } => Some((path.to_string(), authorization.map(str::to_string))),
            _ => None,
        };
        let mut out = Vec::new();
        match parsed {
            Some((path, authorization)) => {
                self.answer_http(idx, &path, authorization.as_deref(), &mut out)
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

    /// Route one request, check its token, run it: the whole reply into `out`.
    fn answer_http(
        &mut self,
        idx: u32,
        path: &str,
        authorization: Option<&str>,
        out: &mut Vec<u8>,
    ) {
        self.stats.pool.stats_count += 1;
        let cmd = http::route(path);
        if cmd == Admin::Unknown {
            self.stats.admin.not_found += 1;
            http::write_not_found(out, path);
            return;
        }
        if let Some(token) = self.cfg.security.admin_token.as_deref() {
            if !cmd.is_open() && !crate::auth::bearer_ok(token, authorization) {
                self.stats.admin.unauthorized += 1;
                let from = self.rx.conn(idx).and_then(|c| c.addr);
                log_warn!(
                    "stats {}: {path} refused: {} admin token",
                    from.map_or_else(|| "?".into(), |a| a.to_string()),
                    if authorization.is_some() {
                        "wrong"
                    } else {
                        "no"
                    }
                );
                http::write_unauthorized(out, path, authorization.is_some());
                return;
            }
        }
        if cmd == Admin::Ready {
            match self.readiness() {
                Ok(()) => {
                    http::write_response(out, http::OK_BODY.as_bytes(), http::CONTENT_TYPE_JSON)
                }
                Err(why) => http::write_status(
                    out,
                    "503 Service Unavailable",
                    "",
                    &format!("not ready: {}\n", why.replace('\n', "\nnot ready: ")),
                ),
            }
            return;
        }
        let (body, ctype) = self.admin(cmd);
        http::write_response(out, body.as_bytes(), ctype);
    }

    /// Whether the node can serve at its consistency levels now (`/ready`).
    fn readiness(&self) -> Result<(), String> {
        let topo = self.place.topo();
        let reachable = |n: usize| {
            n == 0
                || (self
                    .mesh
                    .views
                    .get(n)
                    .is_some_and(|v| !v.down && v.failing_since.is_none())
                    && self.mesh.peer_down.get(n) != Some(&true))
        };
        let local = topo.local();
        let dcs: Vec<DcSeen> = topo
            .dcs
            .iter()
            .map(|dc| DcSeen {
                name: dc.name.clone(),
                local: dc.name == local.dc,
                racks: dc
                    .racks
                    .iter()
                    .map(|r| RackSeen {
                        name: r.name.clone(),
                        nodes: r.nodes.len(),
                        reachable: r.nodes.iter().filter(|&&n| reachable(n)).count(),
                        local: dc.name == local.dc && r.name == local.rack,
                    })
                    .collect(),
            })
            .collect();
        ready::readiness(&ready::Seen {
            state: self.node.state,
            datastore_up: self.datastore_up() > 0,
            read: self.node.read_consistency,
            write: self.node.write_consistency,
            dcs: &dcs,
        })
    }

    /// Datastore connections up now (health checks: 0 means the datastore is unreachable).
    fn datastore_up(&self) -> u64 {
        self.pools
            .main
            .iter()
            .filter(|&&i| {
                self.rx
                    .conn(i)
                    .and_then(|c| c.outbound())
                    .is_some_and(|s| s.state == crate::conn::ServerState::Connected)
            })
            .count() as u64
    }

    /// Run one admin call (routed, allowed); returns the body and its content type.
    fn admin(&mut self, cmd: Admin) -> (String, &'static str) {
        const JSON: &str = http::CONTENT_TYPE_JSON;
        const TEXT: &str = http::CONTENT_TYPE_PROMETHEUS;
        let ok = || (http::OK_BODY.to_string(), JSON);
        match cmd {
            Admin::Info => (self.render_info(), JSON),
            Admin::Metrics => (self.render_metrics(), TEXT),
            Admin::Ping | Admin::Health | Admin::Ready | Admin::Unknown => ok(),
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
    fn info_extra(&self) -> [(&'static str, ExtraValue<'_>); 37] {
        let (hints, hint_bytes) = self.hints_total();
        let r = self.stats.repair;
        let (m, l) = (self.mem.stats, self.stats.limits);
        let t = self.rx.certs.counts;
        let peers_down = self.mesh.views.iter().filter(|v| v.down).count() as u64;
        let datastore_up = self.datastore_up();
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
            (
                "admin_unauthorized",
                ExtraValue::Num(self.stats.admin.unauthorized),
            ),
            (
                "admin_not_found",
                ExtraValue::Num(self.stats.admin.not_found),
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
            ("buffer_memory", ExtraValue::Num(self.buffer_bytes() as u64)),
            ("max_buffer_memory", ExtraValue::Num(self.mem.budget as u64)),
            ("buffer_memory_released", ExtraValue::Num(m.released_bytes)),
            ("clients_paused_memory", ExtraValue::Num(m.clients_paused)),
            ("clients_closed_memory", ExtraValue::Num(m.clients_closed)),
            ("clients_closed_unread", ExtraValue::Num(l.closed_unread)),
            ("clients_rejected", ExtraValue::Num(l.rejected_clients)),
            ("requests_over_limits", ExtraValue::Num(l.over_limits)),
            (
                "peers_refused_plain",
                ExtraValue::Num(self.rx.plain_peers_refused),
            ),
            ("peer_frames_malformed", ExtraValue::Num(l.bad_frames)),
            ("gossip_nodes_refused", ExtraValue::Num(l.gossip_refused)),
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
