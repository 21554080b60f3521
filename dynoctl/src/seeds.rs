//! `dynoctl seeds`: the cluster's nodes (host, port, rack, dc, token) from a config file, a
//! florida endpoint (`get_seeds`, SPEC C.5) or a live node's `/cluster_describe` (SPEC §7.4).

use std::path::Path;
use std::time::Duration;

use dynomite::peer::{parse_seed_list, write_seed_list, SeedRecord};
use serde::Serialize;

use crate::output::{Block, CliError, Render};

/// The path dynomited's florida provider asks for (SPEC §1.5).
pub const FLORIDA_PATH: &str = "/REST/v1/admin/get_seeds";

/// Where the node list comes from.
pub enum Source<'a> {
    Config(&'a Path),
    /// A URL, or `host:port` (then `http://host:port/REST/v1/admin/get_seeds`).
    Florida(&'a str),
    /// `host:statsport` of a running node.
    Node(&'a str),
    /// The TXT records of a DNS name (dns_provider), asked of `server` (IP:PORT) or of the
    /// first nameserver of /etc/resolv.conf.
    Dns {
        name: &'a str,
        server: Option<&'a str>,
    },
}

/// One node of the cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SeedNode {
    pub host: String,
    pub port: u16,
    pub rack: String,
    pub dc: String,
    pub token: u32,
}

/// The result of `dynoctl seeds`.
#[derive(Serialize)]
pub struct SeedList {
    pub source: String,
    pub nodes: Vec<SeedNode>,
}

impl Render for SeedList {
    fn human(&self) -> Vec<Block> {
        let rows = self
            .nodes
            .iter()
            .map(|n| {
                vec![
                    n.host.clone(),
                    n.port.to_string(),
                    n.rack.clone(),
                    n.dc.clone(),
                    n.token.to_string(),
                ]
            })
            .collect();
        vec![Block::Table {
            headers: vec!["host", "port", "rack", "dc", "token"],
            rows,
        }]
    }
}

impl SeedList {
    /// The florida `host:port:rack:dc:token|...` text, with a final newline.
    pub fn florida(&self) -> String {
        let recs: Vec<SeedRecord> = self
            .nodes
            .iter()
            .map(|n| SeedRecord {
                host: n.host.clone(),
                port: n.port,
                rack: n.rack.clone(),
                dc: n.dc.clone(),
                token: n.token,
            })
            .collect();
        let mut s = write_seed_list(&recs);
        s.push('\n');
        s
    }
}

/// Read the node list from `source`.
pub fn run(source: &Source) -> Result<SeedList, CliError> {
    match source {
        Source::Config(path) => from_config(path),
        Source::Florida(url) => {
            let url = florida_url(url);
            let body = http_get(&url, "is the seed endpoint (dynoctl serve-seeds, florida) running there? check the address and port")?;
            let recs = parse_seed_list(&body)
                .map_err(|e| CliError::new(format!("{url} answered an invalid seed list: {e}")))?;
            let nodes = recs
                .into_iter()
                .map(|r| SeedNode {
                    host: r.host,
                    port: r.port,
                    rack: r.rack,
                    dc: r.dc,
                    token: r.token,
                })
                .collect();
            Ok(SeedList { source: url, nodes })
        }
        Source::Dns { name, server } => {
            let resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
            let env = |k: &str| match k {
                "DYNOMITE_DNS_NAME" => Some(name.to_string()),
                _ => std::env::var(k).ok(),
            };
            let mut src =
                dynomite::seeds::Source::dns_from_env(env, &resolv).map_err(CliError::new)?;
            if let (Some(addr), dynomite::seeds::Source::Dns { server: s, .. }) = (server, &mut src)
            {
                *s = addr.parse().map_err(|_| {
                    CliError::new(format!(
                        "--dns-server {addr}: expected IP:PORT, e.g. 127.0.0.1:53"
                    ))
                })?;
            }
            let text =
                dynomite::seeds::fetch(&src, std::time::Duration::from_secs(5)).map_err(|e| {
                    CliError::new(e)
                        .with_hint("check the name's TXT records (dig TXT NAME) and the DNS server")
                })?;
            let recs = parse_seed_list(&text).map_err(|e| {
                CliError::new(format!(
                    "the TXT records of {name} are not a seed list: {e}"
                ))
            })?;
            let nodes = recs
                .into_iter()
                .map(|r| SeedNode {
                    host: r.host,
                    port: r.port,
                    rack: r.rack,
                    dc: r.dc,
                    token: r.token,
                })
                .collect();
            Ok(SeedList {
                source: format!("dns TXT {name}"),
                nodes,
            })
        }
        Source::Node(addr) => {
            let url = format!("http://{addr}/cluster_describe");
            let body = http_get(&url, "is dynomited running there? give HOST:PORT of its stats_listen (default port 22222)")?;
            let nodes = parse_cluster_describe(&body)
                .map_err(|e| CliError::new(format!("{url} answered invalid JSON: {e}")))?;
            Ok(SeedList { source: url, nodes })
        }
    }
}

fn from_config(path: &Path) -> Result<SeedList, CliError> {
    let cfg = dynomite::conf::load(path).map_err(|e| {
        CliError::new(format!("invalid config:\n{e}")).with_hint(format!(
            "run `dynoctl conf-test {}` for details",
            path.display()
        ))
    })?;
    let (host, port) = match cfg.net.dyn_listen.as_ref().unwrap_or(&cfg.net.listen) {
        dynomite::conf::Listen::Tcp { host, addr } => (host.clone(), addr.port()),
        dynomite::conf::Listen::Unix(p) => (p.display().to_string(), 0),
    };
    let mut nodes = vec![SeedNode {
        host,
        port,
        rack: cfg.rack.clone(),
        dc: cfg.datacenter.clone(),
        token: cfg.tokens.first().copied().unwrap_or(0),
    }];
    nodes.extend(cfg.peering.dyn_seeds.iter().map(|s| SeedNode {
        host: s.host.clone(),
        port: s.port,
        rack: s.rack.clone(),
        dc: s.dc.clone(),
        token: s.tokens.first().copied().unwrap_or(0),
    }));
    Ok(SeedList {
        source: path.display().to_string(),
        nodes,
    })
}

/// `host:port` → the default florida URL; a URL without a path gets the default path.
fn florida_url(arg: &str) -> String {
    let with_scheme = if arg.contains("://") {
        arg.to_string()
    } else {
        format!("http://{arg}")
    };
    let after_scheme = with_scheme.split_once("://").map_or("", |(_, r)| r);
    if after_scheme.contains('/') {
        with_scheme
    } else {
        format!("{with_scheme}{FLORIDA_PATH}")
    }
}

/// GET `url` (no proxy, 5 s timeout); the body of a 200 answer, else an error saying why.
pub fn http_get(url: &str, hint: &str) -> Result<String, CliError> {
    let resp = crate::stats::http_client(Duration::from_secs(5))?
        .get(url)
        .send()
        .map_err(|e| CliError::unreachable(url, root_cause(&e), hint))?;
    let status = resp.status();
    let body = resp
        .text()
        .map_err(|e| CliError::unreachable(url, root_cause(&e), hint))?;
    if !status.is_success() {
        return Err(CliError::new(format!("{url} answered HTTP {status}"))
            .with_hint("check the URL's path"));
    }
    Ok(body)
}

/// The innermost error's message ("Connection refused (os error 111)"), which says more than
/// reqwest's outer "error sending request".
pub fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    let msg = cur.to_string();
    if e.to_string().contains("timed out") && !msg.contains("timed out") {
        format!("timed out ({msg})")
    } else {
        msg
    }
}

/// The nodes of a `/cluster_describe` document, in its order; `host` falls back to `name`.
pub fn parse_cluster_describe(body: &str) -> Result<Vec<SeedNode>, String> {
    Ok(dynomite::stats::describe::parse_describe(body)?
        .into_iter()
        .map(|d| SeedNode {
            host: if d.host.is_empty() { d.name } else { d.host },
            port: d.port,
            rack: d.rack,
            dc: d.dc,
            token: d.token,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dynomite_cluster_describe() {
        let body = "{\"dcs\": [{\"name\":\"dc1\",\"racks\": [{\"name\":\"rack1\",\"servers\": [{\"name\":\"127.0.0.1\",\"host\":\"127.0.0.1\",\"port\":8101,\n\"token\":1383429731\n},{\"name\":\"127.0.0.2\",\"host\":\"\",\"port\":8201,\n\"token\":7\n}]}]}]}\n";
        let n = parse_cluster_describe(body).unwrap();
        assert_eq!(n.len(), 2);
        assert_eq!(n[0].token, 1383429731);
        assert_eq!(n[1].host, "127.0.0.2");
        assert_eq!(n[1].rack, "rack1");
    }

    #[test]
    fn florida_urls() {
        assert_eq!(
            florida_url("127.0.0.1:8080"),
            "http://127.0.0.1:8080/REST/v1/admin/get_seeds"
        );
        assert_eq!(
            florida_url("http://h:1/api/v1/admin/get_seeds"),
            "http://h:1/api/v1/admin/get_seeds"
        );
    }
}
