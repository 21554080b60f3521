//! Polling off the UI thread: discovery, one thread per poll round, one per node, timeouts.
//!
//! ```text
//!  fetch thread ──round──► node thread ─GET /info (≤ timeout)─► Msg::Info ──────┐
//!       │                      └─ its datastore: INFO (≤ timeout) ─► Msg::Datastore ┤
//!       │                  node thread ─ ... ──────────────────────────────────┼─► channel ─► UI
//!       └─ sleep to the next interval  first node: /cluster_describe ──────────┘
//! ```
//! The UI only `try_recv`s, so a slow or dead node never stalls it; every request carries a
//! timeout, so a round never outlives twice `timeout` by much. A failed poll becomes a short
//! reason ("connect: Connection refused", "timeout after 800 ms", "HTTP 404", "bad /info
//! JSON: ..."). The datastore is asked only after a good `/info` (which names it); its failure
//! is its own message and leaves the node's state alone.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::blocking::Client;

use crate::app::{DsProbe, Fetched};
use crate::topology::{self, connect_host, Described, Target};
use crate::{datastore, sample};

/// What the fetch thread sends to the UI.
#[derive(Debug)]
pub enum Msg {
    Info(Box<Fetched>),
    /// The datastore `INFO` of the node at this stats address.
    Datastore(String, Box<DsProbe>),
    Describe(Vec<Described>),
}

/// How to find the nodes (the `--node`, `--config`, `--nodes` options).
#[derive(Clone, Debug, Default)]
pub struct Discovery {
    pub node: Option<String>,
    pub configs: Vec<PathBuf>,
    pub nodes: Vec<String>,
    pub port_map: BTreeMap<String, u16>,
}

/// The HTTP client of every poll, with no pool of idle connections: a stats port closes each
/// connection after one answer (without `Connection: close`), so a kept-alive connection can
/// be dead when reused, and the poll would fail with "Connection reset by peer". With an
/// admin token, every request carries it (this client only talks to stats ports).
pub fn client(timeout: Duration, admin_token: Option<&str>) -> Result<Client, String> {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(t) = admin_token {
        let mut v = reqwest::header::HeaderValue::from_str(&format!("Bearer {t}"))
            .map_err(|_| "the admin token has characters an HTTP header cannot hold".to_string())?;
        v.set_sensitive(true);
        headers.insert(reqwest::header::AUTHORIZATION, v);
    }
    Client::builder()
        .default_headers(headers)
        .timeout(timeout)
        .connect_timeout(timeout)
        .pool_max_idle_per_host(0)
        .build()
        .map_err(|e| format!("HTTP client: {e}"))
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The innermost cause of an error: "Connection refused (os error 111)" rather than
/// "error sending request for url (...)".
fn reason(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("timeout after {} ms", timeout.as_millis());
    }
    let mut inner: &dyn std::error::Error = e;
    while let Some(s) = inner.source() {
        inner = s;
    }
    let what = if e.is_connect() { "connect" } else { "http" };
    format!("{what}: {inner}")
}

/// `GET http://addr/path`, the body or a short reason.
pub fn get(client: &Client, addr: &str, path: &str, timeout: Duration) -> Result<String, String> {
    let resp = client
        .get(format!("http://{addr}{path}"))
        .send()
        .map_err(|e| reason(&e, timeout))?;
    if resp.status() == reqwest::StatusCode::UNAUTHORIZED {
        return Err(format!(
            "HTTP 401 from {path}: {}",
            dynomite::cli::ADMIN_TOKEN_HINT
        ));
    }
    if !resp.status().is_success() {
        return Err(format!("HTTP {} from {path}", resp.status().as_u16()));
    }
    resp.text().map_err(|e| reason(&e, timeout))
}

/// The nodes to watch. Errors are only for bad config files; an unreachable `--node` is
/// watched alone (and shown DOWN) rather than refused.
pub fn discover(d: &Discovery, client: &Client, timeout: Duration) -> Result<Vec<Target>, String> {
    let mut targets = Vec::new();
    let mut map = BTreeMap::new();
    for f in &d.configs {
        let c = dynomite::conf::load(f).map_err(|e| e.to_string())?;
        let dynomite::conf::Listen::Tcp { host, addr } = &c.net.stats_listen else {
            return Err(format!("{}: stats_listen is not host:port", f.display()));
        };
        let name = match &c.net.dyn_listen {
            Some(dynomite::conf::Listen::Tcp { host: h, addr: a }) => {
                map.insert(a.port().to_string(), addr.port());
                format!("{}:{}", connect_host(h), a.port())
            }
            _ => f.display().to_string(),
        };
        targets.push(Target {
            addr: format!("{}:{}", connect_host(host), addr.port()),
            name,
            dc: c.datacenter.clone(),
            rack: c.rack.clone(),
            tokens: c.tokens.clone(),
        });
    }
    map.extend(d.port_map.clone());
    if let Some(node) = &d.node {
        let port = node
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse::<u16>().ok())
            .ok_or_else(|| format!("--node \"{node}\": want HOST:STATSPORT"))?;
        match get(client, node, "/cluster_describe", timeout)
            .and_then(|b| topology::parse_describe(&b))
        {
            Ok(desc) if !desc.is_empty() => {
                targets.extend(topology::targets_from_describe(&desc, &map, port));
            }
            _ => targets.push(bare(node)),
        }
    }
    targets.extend(d.nodes.iter().map(|n| bare(n)));
    let mut seen = std::collections::HashSet::new();
    targets.retain(|t| seen.insert(t.addr.clone()));
    Ok(targets)
}

fn bare(addr: &str) -> Target {
    Target {
        addr: addr.to_owned(),
        name: addr.to_owned(),
        ..Target::default()
    }
}

/// Poll every address once, in parallel, sending each result as it comes. Returns when all
/// have answered or timed out.
pub fn round(
    client: &Client,
    addrs: &[String],
    clock: Instant,
    timeout: Duration,
    tx: &Sender<Msg>,
) {
    std::thread::scope(|s| {
        for addr in addrs {
            let tx = tx.clone();
            s.spawn(move || {
                let result = get(client, addr, "/info", timeout)
                    .and_then(|body| sample::parse(&body, clock.elapsed().as_millis() as u64));
                let ds = result.as_ref().ok().and_then(|s| s.datastore.clone());
                let _ = tx.send(Msg::Info(Box::new(Fetched {
                    addr: addr.clone(),
                    unix: unix_now(),
                    result,
                })));
                if let Some(ds) = ds {
                    let _ = tx.send(Msg::Datastore(
                        addr.clone(),
                        Box::new(probe(addr, &ds, timeout)),
                    ));
                }
            });
        }
        // The ring: tokens as the first answering node (of the first three) sees them.
        s.spawn(|| {
            for addr in addrs.iter().take(3) {
                if let Ok(d) = get(client, addr, "/cluster_describe", timeout)
                    .and_then(|b| topology::parse_describe(&b))
                {
                    let _ = tx.send(Msg::Describe(d));
                    return;
                }
            }
        });
    });
}

/// One `INFO` exchange with the datastore `ds` of the node at stats address `stats`.
pub fn probe(stats: &str, ds: &str, timeout: Duration) -> DsProbe {
    let addr = datastore::connect_addr(stats, ds);
    let result = if ds.starts_with('/') {
        Err(format!("{ds}: a unix socket (not polled)"))
    } else {
        datastore::fetch(&addr, timeout)
    };
    DsProbe {
        addr,
        unix: unix_now(),
        result,
    }
}

/// Start the fetch thread: a round every `interval` until the receiver is dropped.
pub fn spawn(
    client: Client,
    addrs: Vec<String>,
    interval: Duration,
    timeout: Duration,
    tx: Sender<Msg>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("dynotop-fetch".into())
        .spawn(move || {
            let clock = Instant::now();
            let mut next = Instant::now();
            loop {
                round(&client, &addrs, clock, timeout, &tx);
                next += interval;
                let now = Instant::now();
                if next > now {
                    std::thread::sleep(next - now);
                } else {
                    next = now;
                }
                // A closed channel means the UI has gone: stop.
                if tx.send(Msg::Describe(Vec::new())).is_err() {
                    return;
                }
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// Every poll carries the admin token; a 401 names the ways to give it.
    #[test]
    fn the_admin_token_is_sent_and_a_401_explained() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut req = Vec::new();
            let mut buf = [0u8; 1024];
            while !req.ends_with(b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let _ = s.write_all(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n");
            String::from_utf8_lossy(&req).to_lowercase()
        });
        let timeout = Duration::from_secs(5);
        let c = client(timeout, Some("s3cr3t")).unwrap();
        let err = get(&c, &addr, "/info", timeout).unwrap_err();
        assert!(err.starts_with("HTTP 401 from /info: "), "{err}");
        assert!(err.contains("--admin-token") && err.contains("DYNOMITE_ADMIN_TOKEN"));
        let req = server.join().unwrap();
        assert!(
            req.contains("\r\nauthorization: bearer s3cr3t\r\n"),
            "{req}"
        );
    }
}
