//! Talking to a node's stats and admin port (SPEC §7): the address rules, GETs with a timeout,
//! and the few `/info`, `/state/get_state` and `/cluster_describe` fields the commands use.

use std::sync::OnceLock;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::output::CliError;
use crate::seeds::root_cause;

/// The default `stats_listen` port.
pub const DEFAULT_STATS_PORT: u16 = 22222;

/// What to check when a node's stats port does not answer.
pub const NODE_HINT: &str =
    "is dynomited running there? give HOST:PORT of its stats_listen (default port 22222)";

/// A node's stats address as typed (`host:port`, `host` for port 22222, or an `http://` URL
/// without a path) → `host:port`.
pub fn node_addr(arg: &str) -> Result<String, CliError> {
    let a = arg.trim();
    let a = a
        .strip_prefix("http://")
        .unwrap_or(a)
        .trim_end_matches('/')
        .to_string();
    let bad = || {
        CliError::new(format!("bad node address \"{arg}\": want HOST:PORT"))
            .with_hint("the node's stats_listen address, e.g. 127.0.0.1:22222")
    };
    if a.is_empty() || a.contains('/') {
        return Err(bad());
    }
    if a.parse::<std::net::SocketAddr>().is_ok() {
        return Ok(a);
    }
    if a.parse::<std::net::Ipv6Addr>().is_ok() {
        return Ok(format!("[{a}]:{DEFAULT_STATS_PORT}"));
    }
    match a.rsplit_once(':') {
        None => Ok(format!("{a}:{DEFAULT_STATS_PORT}")),
        Some((h, p)) if !h.is_empty() && !h.contains(':') && p.parse::<u16>().is_ok() => Ok(a),
        Some(_) => Err(bad()),
    }
}

/// The port of a `host:port` address.
pub fn port_of(addr: &str) -> Option<u16> {
    addr.rsplit_once(':').and_then(|(_, p)| p.parse().ok())
}

/// The admin token given on the command line or in the environment, set once by `main`.
static ADMIN_TOKEN: OnceLock<Option<String>> = OnceLock::new();

/// Every [`Stats`] client sends `token` (only to stats ports: a florida seed server never
/// gets it).
pub fn set_admin_token(token: Option<String>) {
    let _ = ADMIN_TOKEN.set(token);
}

/// An HTTP client for stats ports (no proxy: stats ports are on the cluster's network).
pub struct Stats {
    client: reqwest::blocking::Client,
    timeout: Duration,
    /// `Bearer <admin token>`, sent on every call.
    bearer: Option<reqwest::header::HeaderValue>,
}

/// Why a GET failed: the node did not answer at all, or answered something else than 200.
#[derive(Debug, Clone)]
pub enum GetError {
    Unreachable(String),
    Status(u16),
    /// 401: the node wants its admin token (`true`: the one sent is not it).
    Unauthorized(bool),
}

impl std::fmt::Display for GetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GetError::Unreachable(r) => f.write_str(r),
            GetError::Status(s) => write!(f, "HTTP {s}"),
            GetError::Unauthorized(sent) => write!(f, "{}", unauthorized_text(*sent)),
        }
    }
}

/// The HTTP client of every dynoctl request: no proxy, `timeout` to connect and for the whole
/// request, and no pool of idle connections.
///
/// A stats port answers one request per connection and then closes it, with Dynomite's
/// `HTTP/1.1 200 OK` header and no `Connection: close` (SPEC §7), so an HTTP/1.1 client takes
/// the connection for keep-alive. A pooled client would send its next request on it: when that
/// request leaves before the node's FIN has been seen (a busy host), the node's kernel answers
/// it with a reset and the call fails with "Connection reset by peer". Every request opens its
/// own connection instead (they are local, rare and cheap).
pub fn http_client(timeout: Duration) -> Result<reqwest::blocking::Client, CliError> {
    reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(timeout)
        .pool_max_idle_per_host(0)
        .build()
        .map_err(|e| CliError::new(format!("cannot set up HTTP: {e}")))
}

impl Stats {
    pub fn new(timeout: Duration) -> Result<Stats, CliError> {
        let bearer = match ADMIN_TOKEN.get().cloned().flatten() {
            None => None,
            Some(t) => {
                let mut v = reqwest::header::HeaderValue::from_str(&format!("Bearer {t}"))
                    .map_err(|_| {
                        CliError::new("the admin token has characters an HTTP header cannot hold")
                            .with_hint(dynomite::cli::ADMIN_TOKEN_HINT)
                    })?;
                v.set_sensitive(true);
                Some(v)
            }
        };
        Ok(Stats {
            client: http_client(timeout)?,
            timeout,
            bearer,
        })
    }

    /// `GET http://addr/path`: the body of a 200 answer, else why not.
    pub fn try_get(&self, addr: &str, path: &str) -> Result<String, GetError> {
        let reason = |e: reqwest::Error| {
            if e.is_timeout() {
                GetError::Unreachable(format!("timed out after {} ms", self.timeout.as_millis()))
            } else {
                GetError::Unreachable(root_cause(&e))
            }
        };
        let mut req = self.client.get(format!("http://{addr}{path}"));
        if let Some(b) = &self.bearer {
            req = req.header(reqwest::header::AUTHORIZATION, b.clone());
        }
        let resp = req.send().map_err(reason)?;
        let status = resp.status();
        let body = resp.text().map_err(reason)?;
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Err(GetError::Unauthorized(self.bearer.is_some()));
        }
        if !status.is_success() {
            return Err(GetError::Status(status.as_u16()));
        }
        Ok(body)
    }

    /// The same, failures as a [`CliError`] naming the URL (exit 2).
    pub fn get(&self, addr: &str, path: &str) -> Result<String, CliError> {
        let url = format!("http://{addr}{path}");
        self.try_get(addr, path).map_err(|e| match e {
            GetError::Unreachable(r) => CliError::unreachable(&url, r, NODE_HINT),
            GetError::Status(s) => CliError::new(format!("{url} answered HTTP {s}"))
                .with_hint("is this a dynomited stats port?"),
            GetError::Unauthorized(sent) => CliError::new(format!(
                "{url} answered HTTP 401: {}",
                unauthorized_text(sent)
            ))
            .with_hint(dynomite::cli::ADMIN_TOKEN_HINT),
        })
    }

    /// An admin command whose answer must be `OK`.
    pub fn command(&self, addr: &str, path: &str) -> Result<(), CliError> {
        let body = self.get(addr, path)?;
        if body.trim() == "OK" {
            Ok(())
        } else {
            Err(unexpected(addr, path, &body, "OK"))
        }
    }

    /// `/state/get_state` → the state name (`NORMAL`, `STANDBY`, ...).
    pub fn try_state(&self, addr: &str) -> Result<String, String> {
        let body = self
            .try_get(addr, "/state/get_state")
            .map_err(|e| e.to_string())?;
        parse_state(&body).ok_or_else(|| format!("unexpected answer {:?}", short(&body)))
    }

    pub fn state(&self, addr: &str) -> Result<String, CliError> {
        let body = self.get(addr, "/state/get_state")?;
        parse_state(&body).ok_or_else(|| unexpected(addr, "/state/get_state", &body, "State: X"))
    }

    /// `/info` parsed.
    pub fn try_info(&self, addr: &str) -> Result<Info, String> {
        let body = self.try_get(addr, "/info").map_err(|e| e.to_string())?;
        Info::parse(&body)
    }

    /// `/cluster_describe` parsed.
    pub fn describe(&self, addr: &str) -> Result<Vec<Described>, CliError> {
        let body = self.get(addr, "/cluster_describe")?;
        parse_describe(&body).map_err(|e| {
            CliError::new(format!(
                "http://{addr}/cluster_describe answered invalid JSON: {e}"
            ))
        })
    }
}

/// What a 401 means.
fn unauthorized_text(sent: bool) -> &'static str {
    if sent {
        "the admin token given is not the node's"
    } else {
        "the node needs its admin token (--admin-token, --admin-token-file or DYNOMITE_ADMIN_TOKEN)"
    }
}

/// The error for an answer that is not the expected one.
pub fn unexpected(addr: &str, path: &str, body: &str, want: &str) -> CliError {
    CliError::new(format!(
        "http://{addr}{path} answered {:?}, not {want:?}",
        short(body)
    ))
    .with_hint("is this a dynomited stats port, and of a version with this endpoint?")
}

fn short(body: &str) -> String {
    let t = body.trim();
    match t.char_indices().nth(60) {
        Some((i, _)) => format!("{}...", &t[..i]),
        None => t.to_string(),
    }
}

/// `State: NORMAL\n` → `NORMAL`.
pub fn parse_state(body: &str) -> Option<String> {
    let s = body.trim().strip_prefix("State:")?.trim();
    (!s.is_empty() && !s.contains(char::is_whitespace)).then(|| s.to_string())
}

/// The `/info` fields dynoctl uses (SPEC §7.3 plus dynomite-rs's additions).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Info {
    pub dc: String,
    pub rack: String,
    pub uptime: u64,
    /// `None` from a node that does not report it (Netflix Dynomite).
    pub state: Option<String>,
    /// Datastore connections up; `None` when not reported.
    pub datastore_connected: Option<u64>,
    pub hints: u64,
    pub latency_99th_us: u64,
    pub client_connections: u64,
    /// `client_read_requests` + `client_write_requests`.
    pub requests: u64,
    /// `client_err` + `forward_error`.
    pub errors: u64,
}

impl Info {
    pub fn parse(body: &str) -> Result<Info, String> {
        let v: Value = serde_json::from_str(body).map_err(|e| format!("bad /info JSON: {e}"))?;
        let top = v.as_object().ok_or("bad /info JSON: not an object")?;
        if top.get("service").and_then(Value::as_str).is_none() {
            return Err("bad /info JSON: no \"service\"".into());
        }
        // The pool object is the only object member (keyed by the pool name).
        let pool = top.values().find(|v| v.is_object()).cloned();
        let pool = pool.unwrap_or(Value::Null);
        let n = |v: &Value, k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
        let s = |k: &str| top.get(k).and_then(Value::as_str).map(str::to_string);
        Ok(Info {
            dc: s("dc").unwrap_or_default(),
            rack: s("rack").unwrap_or_default(),
            uptime: n(&v, "uptime"),
            state: s("state"),
            datastore_connected: top.get("datastore_connected").and_then(Value::as_u64),
            hints: n(&v, "hints"),
            latency_99th_us: n(&v, "latency_99th"),
            client_connections: n(&pool, "client_connections"),
            requests: n(&pool, "client_read_requests") + n(&pool, "client_write_requests"),
            errors: n(&pool, "client_err") + n(&pool, "forward_error"),
        })
    }
}

pub use dynomite::stats::describe::{parse_describe, Described};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_addresses() {
        assert_eq!(node_addr("10.0.0.1:22223").unwrap(), "10.0.0.1:22223");
        assert_eq!(node_addr("node-a").unwrap(), "node-a:22222");
        assert_eq!(node_addr("http://h:1/").unwrap(), "h:1");
        assert_eq!(node_addr("::1").unwrap(), "[::1]:22222");
        assert_eq!(node_addr("[::1]:9").unwrap(), "[::1]:9");
        assert!(node_addr("h:x").is_err());
        assert!(node_addr("h:1/info").is_err());
    }

    #[test]
    fn state_and_info() {
        assert_eq!(parse_state("State: NORMAL\n").as_deref(), Some("NORMAL"));
        assert_eq!(parse_state("OK\r\n"), None);
        let body = "{\"service\":\"dynomite\",\"uptime\":5,\n\"rack\":\"r1\",\"dc\":\"d1\",\"latency_99th\":2500,\n\"state\":\"STANDBY\",\"datastore_connected\":0,\n\"hints\":3,\n\"dyn_o_mite\": {\"client_err\":1,\n\"client_connections\":2,\n\"client_read_requests\":10,\n\"client_write_requests\":5,\n\"forward_error\":4,\n\"127.0.0.1:6379\": {\"server_eof\":0\n}}}";
        let i = Info::parse(body).unwrap();
        assert_eq!(i.state.as_deref(), Some("STANDBY"));
        assert_eq!(i.datastore_connected, Some(0));
        assert_eq!((i.requests, i.errors, i.client_connections), (15, 5, 2));
        assert_eq!((i.hints, i.latency_99th_us, i.uptime), (3, 2500, 5));
        assert!(Info::parse("nope").is_err());
        let d = parse_describe("{\"dcs\": [{\"name\":\"dc1\",\"racks\": [{\"name\":\"rack1\",\"servers\": [{\"name\":\"127.0.0.1\",\"host\":\"a\",\"port\":8101,\n\"state\":\"DOWN\",\"since\":0,\n\"hints\":2,\n\"hints_lost\":0,\n\"token\":7\n}]}]}]}\n").unwrap();
        assert_eq!(d[0].state, "DOWN");
        assert_eq!(d[0].peer(), "a:8101");
        assert_eq!(d[0].ip(), "127.0.0.1");
        assert_eq!((d[0].token, d[0].hints), (7, 2));
    }
}

#[cfg(test)]
mod live {
    use super::*;

    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port")
    }

    /// A real dynomited event loop, in a thread of this process, in front of a datastore port
    /// nobody listens on (admin calls do not need it). Returns its stats address.
    fn node() -> String {
        let stats = free_port();
        let text = format!(
            "dyn_o_mite:\n  listen: 127.0.0.1:{}\n  stats_listen: 127.0.0.1:{stats}\n  servers:\n  - 127.0.0.1:{}:1\n  tokens: '1'\n  data_store: 0\n",
            free_port(),
            free_port()
        );
        let cfg = dynomite::conf::parse_str(&text, "live.yml").expect("config");
        let opts = dynomite::core::Options {
            mbuf_size: dynomite::cli::MBUF_DEFAULT,
            max_msgs: dynomite::cli::MSGS_DEFAULT,
            admin_op: 0,
        };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut core = dynomite::core::Core::new(cfg, opts).expect("core");
            let started = core.start();
            let ok = started.is_ok();
            tx.send(started).unwrap();
            if ok {
                let _ = core.run();
            }
        });
        rx.recv().unwrap().expect("dynomited starts");
        format!("127.0.0.1:{stats}")
    }

    /// A node closes every stats connection after one answer: 2000 back-to-back calls through
    /// one [`Stats`] (what `state set` and `wait` do) must all succeed. With a pooled client,
    /// about one call in a few thousand (one in a hundred on a busy host) failed with
    /// "Connection reset by peer".
    #[test]
    fn back_to_back_admin_calls_never_fail() {
        let addr = node();
        let stats = Stats::new(Duration::from_secs(5)).unwrap();
        let mut failures = Vec::new();
        for i in 0..1000 {
            let to = if i % 2 == 0 { "standby" } else { "normal" };
            if let Err(e) = stats.command(&addr, &format!("/state/{to}")) {
                failures.push(format!("call {i} /state/{to}: {}", e.message));
            }
            match stats.try_state(&addr) {
                Ok(s) if s == to.to_uppercase() => {}
                other => failures.push(format!("call {i} /state/get_state: {other:?}")),
            }
        }
        assert!(
            failures.is_empty(),
            "{} of 2000 calls failed, the first: {:?}",
            failures.len(),
            &failures[..failures.len().min(5)]
        );
    }
}
