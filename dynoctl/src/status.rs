//! `dynoctl status`: one row per node of the cluster, from the nodes' own `/info` (two samples
//! `--interval` apart, for ops/s) and one node's `/cluster_describe` (the topology, and whether
//! that node sees each other one up or down).
//!
//! Which nodes, and at which stats address (the same rule as dynotop's): `/cluster_describe`
//! gives each node's IP, peer port, DC, rack and token but not its stats port. A described
//! node's stats address is its IP with, first match wins: a `--stats-port-map` entry
//! `HOST:PEERPORT=STATSPORT` or `PEERPORT=STATSPORT`; the `stats_listen` port of a `--config`
//! file whose `dyn_listen` port is that peer port; the stats port of the node asked. With
//! `--nodes` the stats addresses are listed instead, and matched to described nodes by their
//! `/info` DC and rack.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::output::{Block, CliError, Render};
use crate::stats::{node_addr, port_of, Described, Info, Stats};

/// Where the nodes come from (`--node`, `--config`, `--nodes`, `--stats-port-map`).
pub struct Sources {
    pub node: Option<String>,
    pub configs: Vec<PathBuf>,
    pub nodes: Vec<String>,
    pub port_map: Option<String>,
}

/// One node of `dynoctl status`. `None` fields are unknown (the node did not answer).
#[derive(Clone, Debug, Default, Serialize)]
pub struct NodeRow {
    pub dc: Option<String>,
    pub rack: Option<String>,
    pub token: Option<u32>,
    /// The stats address (what the other dynoctl commands take).
    pub address: Option<String>,
    /// `host:peerport`.
    pub peer: Option<String>,
    /// The node's own state (from its `/info`).
    pub state: Option<String>,
    /// `up`, `down` (or another state, lower case) as the asked node sees it.
    pub seen: Option<String>,
    pub reachable: bool,
    /// Why the node could not be asked.
    pub error: Option<String>,
    pub client_connections: Option<u64>,
    pub ops_per_sec: Option<f64>,
    pub p99_ms: Option<f64>,
    /// `client_err` + `forward_error` (totals since the node started).
    pub errors: Option<u64>,
    pub datastore_ok: Option<bool>,
    /// Hints the node holds for other nodes.
    pub hints: Option<u64>,
    /// Answered, NORMAL, and its datastore connected.
    pub ok: bool,
}

/// The result of `dynoctl status`.
#[derive(Serialize)]
pub struct Status {
    /// The node whose `/cluster_describe` gave the topology and the `seen` column.
    pub asked: Option<String>,
    pub ok: bool,
    pub interval_ms: u64,
    pub nodes: Vec<NodeRow>,
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map_or_else(|| "-".to_string(), T::to_string)
}

impl Render for Status {
    fn human(&self) -> Vec<Block> {
        let rows = self
            .nodes
            .iter()
            .map(|n| {
                let note = match (&n.error, n.ok) {
                    (Some(e), _) => e.clone(),
                    (None, true) => String::new(),
                    (None, false) => problems(n).join(", "),
                };
                vec![
                    opt(&n.dc),
                    opt(&n.rack),
                    opt(&n.token),
                    opt(&n.address),
                    opt(&n.peer),
                    if n.reachable {
                        opt(&n.state)
                    } else {
                        "UNREACHABLE".into()
                    },
                    opt(&n.seen),
                    opt(&n.client_connections),
                    n.ops_per_sec.map_or("-".into(), |o| format!("{o:.1}")),
                    n.p99_ms.map_or("-".into(), |p| format!("{p:.2}")),
                    opt(&n.errors),
                    n.datastore_ok
                        .map_or("-", |ok| if ok { "ok" } else { "DOWN" })
                        .into(),
                    opt(&n.hints),
                    if note.is_empty() { "-".into() } else { note },
                ]
            })
            .collect();
        let bad = self.nodes.iter().filter(|n| !n.ok).count();
        let unreachable = self.nodes.iter().filter(|n| !n.reachable).count();
        let mut summary = format!(
            "{} node(s): {} ok, {bad} with problems ({unreachable} unreachable)",
            self.nodes.len(),
            self.nodes.len() - bad
        );
        if let Some(a) = &self.asked {
            summary += &format!("; up/down as {a} sees them");
        }
        vec![
            Block::Table {
                headers: vec![
                    "dc",
                    "rack",
                    "token",
                    "address",
                    "peer",
                    "state",
                    "seen",
                    "clients",
                    "ops/s",
                    "p99_ms",
                    "errors",
                    "datastore",
                    "hints",
                    "note",
                ],
                rows,
            },
            Block::Lines(vec![summary]),
        ]
    }
}

/// What is wrong with an answering node.
fn problems(n: &NodeRow) -> Vec<String> {
    let mut p = Vec::new();
    match n.state.as_deref() {
        Some("NORMAL") => {}
        Some(s) => p.push(format!("state {s}")),
        None => p.push("state not reported".into()),
    }
    if n.datastore_ok == Some(false) {
        p.push("no datastore connection".into());
    }
    p
}

/// A node to ask, with what is known of it before asking.
#[derive(Default)]
struct Target {
    stats: Option<String>,
    /// Why `stats` is unknown.
    no_stats: Option<String>,
    dc: Option<String>,
    rack: Option<String>,
    token: Option<u32>,
    peer: Option<String>,
    described: Option<Described>,
    first: Option<Sample>,
    last: Option<Result<Sample, String>>,
}

#[derive(Clone)]
struct Sample {
    at: Instant,
    info: Info,
}

/// A listen host to connect to: an unspecified host means this machine.
fn connect_host(host: &str) -> &str {
    match host {
        "" | "0.0.0.0" | "::" | "[::]" => "127.0.0.1",
        h => h,
    }
}

/// `PEERPORT=STATSPORT` or `HOST:PEERPORT=STATSPORT`, comma separated.
pub fn parse_port_map(text: &str) -> Result<BTreeMap<String, u16>, CliError> {
    dynomite::stats::describe::parse_port_map(text).map_err(CliError::new)
}

fn from_config(path: &Path, map: &mut BTreeMap<String, u16>) -> Result<Target, CliError> {
    let c = dynomite::conf::load(path).map_err(|e| {
        CliError::new(format!("invalid config:\n{e}")).with_hint(format!(
            "run `dynoctl conf-test {}` for details",
            path.display()
        ))
    })?;
    let dynomite::conf::Listen::Tcp { host, addr } = &c.net.stats_listen else {
        return Err(CliError::new(format!(
            "{}: stats_listen is not HOST:PORT",
            path.display()
        )));
    };
    let peer = match &c.net.dyn_listen {
        Some(dynomite::conf::Listen::Tcp { host: h, addr: a }) => {
            map.entry(a.port().to_string()).or_insert(addr.port());
            Some(format!("{}:{}", connect_host(h), a.port()))
        }
        _ => None,
    };
    Ok(Target {
        stats: Some(format!("{}:{}", connect_host(host), addr.port())),
        dc: Some(c.datacenter.clone()),
        rack: Some(c.rack.clone()),
        token: c.tokens.first().copied(),
        peer,
        ..Target::default()
    })
}

/// `/info` of every target that has a stats address and no sample yet (`first`) or all of
/// them (`!first`), in parallel.
fn sample(stats: &Stats, targets: &mut [Target], first: bool) {
    std::thread::scope(|s| {
        for t in targets.iter_mut() {
            let Some(addr) = t.stats.clone() else {
                continue;
            };
            if first && (t.first.is_some() || t.last.is_some()) {
                continue;
            }
            s.spawn(move || {
                let r = stats.try_info(&addr).map(|info| Sample {
                    at: Instant::now(),
                    info,
                });
                if first {
                    t.first = r.as_ref().ok().cloned();
                }
                t.last = Some(r);
            });
        }
    });
}

pub fn run(src: &Sources, interval: Duration, timeout: Duration) -> Result<Status, CliError> {
    let stats = Stats::new(timeout)?;
    let mut map = BTreeMap::new();
    let mut targets = Vec::new();
    for f in &src.configs {
        targets.push(from_config(f, &mut map)?);
    }
    if let Some(m) = &src.port_map {
        map.extend(parse_port_map(m)?);
    }
    let listed = !src.nodes.is_empty();
    for n in &src.nodes {
        let stats = node_addr(n)?;
        if !targets
            .iter()
            .any(|t: &Target| t.stats.as_ref() == Some(&stats))
        {
            targets.push(Target {
                stats: Some(stats),
                ..Target::default()
            });
        }
    }
    // The topology: from --node (which must answer), else the first listed node that does.
    let (asked, described) = match &src.node {
        Some(n) => {
            let n = node_addr(n)?;
            let d = stats.describe(&n)?;
            if !targets.iter().any(|t| t.stats.as_ref() == Some(&n)) {
                targets.push(Target {
                    stats: Some(n.clone()),
                    ..Target::default()
                });
            }
            (Some(n), d)
        }
        None => targets
            .iter()
            .filter_map(|t| t.stats.clone())
            .find_map(|a| stats.describe(&a).ok().map(|d| (Some(a), d)))
            .unwrap_or((None, Vec::new())),
    };
    sample(&stats, &mut targets, true);

    // Which target is which described node; the order of rows is the description's.
    let mut order = Vec::new();
    let mut unmatched = Vec::new();
    let default_port = asked.as_deref().and_then(port_of);
    for d in &described {
        let same_place = described
            .iter()
            .filter(|o| o.dc == d.dc && o.rack == d.rack)
            .count();
        let free = |t: &Target| t.described.is_none();
        let by_peer = targets.iter().position(|t| {
            free(t)
                && t.peer
                    .as_ref()
                    .is_some_and(|p| *p == d.peer() || *p == format!("{}:{}", d.ip(), d.port))
        });
        let by_place = || {
            if same_place != 1 {
                return None;
            }
            let found: Vec<usize> = (0..targets.len())
                .filter(|&i| {
                    let t = &targets[i];
                    free(t)
                        && t.peer.is_none()
                        && t.first
                            .as_ref()
                            .is_some_and(|s| s.info.dc == d.dc && s.info.rack == d.rack)
                })
                .collect();
            (found.len() == 1).then(|| found[0])
        };
        if let Some(i) = by_peer.or_else(by_place) {
            targets[i].described = Some(d.clone());
            order.push(i);
        } else {
            unmatched.push(d.clone());
        }
    }
    for d in unmatched {
        let i = if listed {
            // A listed node that did not answer is the one described node left, if only one.
            let silent: Vec<usize> = (0..targets.len())
                .filter(|&i| {
                    targets[i].described.is_none()
                        && targets[i].peer.is_none()
                        && targets[i].first.is_none()
                })
                .collect();
            let left = described.len() - order.len();
            if silent.len() == 1 && left == 1 {
                silent[0]
            } else {
                targets.push(Target {
                    no_stats: Some("stats address unknown: not matched by --nodes".into()),
                    ..Target::default()
                });
                targets.len() - 1
            }
        } else {
            let port = map
                .get(&format!("{}:{}", d.ip(), d.port))
                .or_else(|| map.get(&format!("{}:{}", d.host, d.port)))
                .or_else(|| map.get(&d.port.to_string()))
                .copied()
                .or(default_port);
            let addr = port.map(|p| format!("{}:{p}", d.ip()));
            match targets
                .iter()
                .position(|t| t.stats.is_some() && t.stats == addr)
            {
                Some(i) if targets[i].described.is_none() => i,
                Some(_) => {
                    targets.push(Target {
                        no_stats: Some(format!(
                            "stats address unknown: {} is another node's; give --stats-port-map, --config or --nodes",
                            addr.unwrap_or_default()
                        )),
                        ..Target::default()
                    });
                    targets.len() - 1
                }
                None => {
                    targets.push(Target {
                        stats: addr,
                        ..Target::default()
                    });
                    targets.len() - 1
                }
            }
        };
        targets[i].described = Some(d);
        order.push(i);
    }
    let rest: Vec<usize> = (0..targets.len()).filter(|i| !order.contains(i)).collect();
    order.extend(rest);
    sample(&stats, &mut targets, true);

    if !interval.is_zero() {
        std::thread::sleep(interval);
        sample(&stats, &mut targets, false);
    }

    let nodes: Vec<NodeRow> = order.iter().map(|&i| row(&targets[i])).collect();
    Ok(Status {
        asked,
        ok: !nodes.is_empty() && nodes.iter().all(|n| n.ok),
        interval_ms: interval.as_millis() as u64,
        nodes,
    })
}

fn row(t: &Target) -> NodeRow {
    let d = t.described.as_ref();
    let mut r = NodeRow {
        dc: d.map(|d| d.dc.clone()).or_else(|| t.dc.clone()),
        rack: d.map(|d| d.rack.clone()).or_else(|| t.rack.clone()),
        token: d.map(|d| d.token).or(t.token),
        address: t.stats.clone(),
        peer: d.map(Described::peer).or_else(|| t.peer.clone()),
        seen: d.map(|d| match d.state.as_str() {
            "NORMAL" => "up".to_string(),
            "DOWN" => "down".to_string(),
            "" => "-".to_string(),
            s => s.to_ascii_lowercase(),
        }),
        ..NodeRow::default()
    };
    match &t.last {
        None => r.error = t.no_stats.clone().or(Some("not asked".into())),
        Some(Err(e)) => {
            r.error = Some(format!(
                "{e} (is dynomited running, and is this its stats port?)"
            ))
        }
        Some(Ok(s)) => {
            let i = &s.info;
            r.reachable = true;
            r.dc = r.dc.or_else(|| Some(i.dc.clone()));
            r.rack = r.rack.or_else(|| Some(i.rack.clone()));
            r.state = i.state.clone();
            r.client_connections = Some(i.client_connections);
            r.p99_ms = Some(i.latency_99th_us as f64 / 1000.0);
            r.errors = Some(i.errors);
            r.datastore_ok = i.datastore_connected.map(|n| n > 0);
            r.hints = Some(i.hints);
            if let Some(f) = &t.first {
                let secs = s.at.saturating_duration_since(f.at).as_secs_f64();
                if secs > 0.0 && i.requests >= f.info.requests {
                    r.ops_per_sec = Some((i.requests - f.info.requests) as f64 / secs);
                }
            }
            r.ok = problems(&r).is_empty();
        }
    }
    r
}
