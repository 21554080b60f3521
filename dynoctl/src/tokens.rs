//! `dynoctl tokens`: the token of every node of a topology (SPEC C.2), ready `dyn_seeds` lines,
//! and `--check` of a set of config files (duplicates, imbalance, racks that do not line up).
//!
//! A topology is DCs × racks (`rack1..rackN`) × slots (0-based). The Netflix scheme gives slot
//! `i` of a rack of `K` nodes `((2^32−1) / K · i + offset) mod (2^32−1)`, the same in every rack
//! and DC, so same-slot nodes replicate each other; the even scheme is `generate_yamls.py`'s
//! `(2^32−1) / K · (i + 1)`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use dynomite::ring::{even_token, netflix_token, Continuum, Token};
use serde::Serialize;

use crate::output::{Block, CliError, Render};

/// How tokens are computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    Netflix,
    Even,
}

/// The shape of a cluster: DCs, racks per DC, nodes per rack.
#[derive(Clone, Debug)]
pub struct Layout {
    pub dcs: Vec<String>,
    pub racks: u32,
    pub nodes_per_rack: u32,
    pub offset: u64,
    pub scheme: Scheme,
}

/// One node of a layout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NodeToken {
    pub dc: String,
    pub rack: String,
    pub slot: u32,
    pub token: Token,
    /// The node's host, when hosts were given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Its `dyn_seeds` entry `host:port:rack:dc:token`, when hosts were given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<String>,
}

impl Layout {
    /// Every node, in dc, rack, slot order.
    pub fn nodes(&self) -> Result<Vec<NodeToken>, CliError> {
        if self.racks == 0 || self.nodes_per_rack == 0 {
            return Err(CliError::new(
                "--racks and --nodes-per-rack must be at least 1",
            ));
        }
        if self.dcs.is_empty() || self.dcs.iter().any(|d| d.is_empty() || d.contains(':')) {
            return Err(CliError::new(format!(
                "invalid --dcs \"{}\"; give comma-separated DC names without ':'",
                self.dcs.join(",")
            )));
        }
        let k = u64::from(self.nodes_per_rack);
        let mut out = Vec::new();
        for dc in &self.dcs {
            for r in 1..=self.racks {
                for slot in 0..self.nodes_per_rack {
                    let token = match self.scheme {
                        Scheme::Netflix => netflix_token(u64::from(slot), k, self.offset),
                        Scheme::Even => even_token(u64::from(slot), k),
                    };
                    out.push(NodeToken {
                        dc: dc.clone(),
                        rack: format!("rack{r}"),
                        slot,
                        token,
                        host: None,
                        seed: None,
                    });
                }
            }
        }
        Ok(out)
    }

    /// Every node with its host (assigned in dc, rack, slot order) and seed string.
    pub fn nodes_on(&self, hosts: &[String], peer_port: u16) -> Result<Vec<NodeToken>, CliError> {
        let mut nodes = self.nodes()?;
        if hosts.len() != nodes.len() {
            return Err(CliError::new(format!(
                "{} hosts given for {} nodes ({} DC(s) × {} rack(s) × {} per rack)",
                hosts.len(),
                nodes.len(),
                self.dcs.len(),
                self.racks,
                self.nodes_per_rack
            ))
            .with_hint("give exactly one host per node, in dc, rack, slot order"));
        }
        for (n, h) in nodes.iter_mut().zip(hosts) {
            if h.contains(':') || h.contains('|') || h.contains(char::is_whitespace) {
                return Err(CliError::new(format!(
                    "host \"{h}\" cannot be used in a seed; a host has no ':', '|' or spaces"
                )));
            }
            n.seed = Some(format!("{h}:{peer_port}:{}:{}:{}", n.rack, n.dc, n.token));
            n.host = Some(h.clone());
        }
        Ok(nodes)
    }
}

/// `--hosts`: a file with one host per line (`#` comments and blank lines skipped) if such a
/// file exists, else a comma-separated list.
pub fn read_hosts(arg: &str) -> Result<Vec<String>, CliError> {
    let p = Path::new(arg);
    let text = if p.is_file() {
        std::fs::read_to_string(p)
            .map_err(|e| CliError::new(format!("cannot read hosts file {arg}: {e}")))?
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join(",")
    } else {
        arg.to_string()
    };
    let hosts: Vec<String> = text.split(',').map(|h| h.trim().to_string()).collect();
    if hosts.iter().any(String::is_empty) {
        return Err(CliError::new(format!(
            "--hosts \"{arg}\" has an empty host; give a file or a comma-separated list"
        )));
    }
    Ok(hosts)
}

/// The result of `dynoctl tokens`.
#[derive(Serialize)]
pub struct TokenList {
    pub scheme: Scheme,
    pub nodes: Vec<NodeToken>,
}

impl Render for TokenList {
    fn human(&self) -> Vec<Block> {
        let seeds = self.nodes.iter().any(|n| n.seed.is_some());
        let mut headers = vec!["dc", "rack", "slot", "token"];
        if seeds {
            headers.push("host");
        }
        let rows = self
            .nodes
            .iter()
            .map(|n| {
                let mut r = vec![
                    n.dc.clone(),
                    n.rack.clone(),
                    n.slot.to_string(),
                    n.token.to_string(),
                ];
                r.extend(n.host.clone());
                r
            })
            .collect();
        let mut blocks = vec![Block::Table { headers, rows }];
        if seeds {
            // Indented as in a config file, ready to paste under `dyn_o_mite:`; each node lists
            // every node but itself.
            let mut lines = vec!["  dyn_seeds:".to_string()];
            lines.extend(
                self.nodes
                    .iter()
                    .filter_map(|n| n.seed.as_ref().map(|s| format!("  - {s}"))),
            );
            blocks.push(Block::Lines(lines));
        }
        blocks
    }
}

/// One rack seen by `--check`.
#[derive(Serialize)]
pub struct RackCheck {
    pub dc: String,
    pub rack: String,
    pub nodes: usize,
    /// Distinct tokens, ascending.
    pub tokens: Vec<Token>,
    pub smallest_range: u64,
    pub largest_range: u64,
    /// largest_range / smallest_range (1.0 = perfectly even).
    pub imbalance: f64,
}

/// The result of `dynoctl tokens --check`.
#[derive(Serialize)]
pub struct CheckReport {
    pub files: Vec<String>,
    pub racks: Vec<RackCheck>,
    /// Findings that make the check fail (exit 1).
    pub problems: Vec<String>,
    /// Findings worth knowing that do not fail the check.
    pub warnings: Vec<String>,
    pub ok: bool,
}

impl Render for CheckReport {
    fn human(&self) -> Vec<Block> {
        let rows = self
            .racks
            .iter()
            .map(|r| {
                let tokens: Vec<String> = r.tokens.iter().map(u32::to_string).collect();
                vec![
                    r.dc.clone(),
                    r.rack.clone(),
                    r.nodes.to_string(),
                    tokens.join(","),
                    format!("{:.3}", r.imbalance),
                ]
            })
            .collect();
        let mut lines: Vec<String> = self
            .problems
            .iter()
            .map(|p| format!("problem: {p}"))
            .collect();
        lines.extend(self.warnings.iter().map(|w| format!("warning: {w}")));
        lines.push(if self.ok {
            format!(
                "ok: {} file(s), {} rack(s)",
                self.files.len(),
                self.racks.len()
            )
        } else {
            format!("FAILED: {} problem(s)", self.problems.len())
        });
        vec![
            Block::Table {
                headers: vec!["dc", "rack", "nodes", "tokens", "imbalance"],
                rows,
            },
            Block::Lines(lines),
        ]
    }
}

/// A node as the config files describe it.
struct Seen {
    host: String,
    port: u16,
    token: Token,
    /// The file that described it.
    file: String,
}

fn unspecified(host: &str) -> bool {
    matches!(host, "" | "0.0.0.0" | "::" | "[::]" | "*")
}

/// `dynoctl tokens --check FILE...`: load every file, gather each file's own node and its seeds
/// into racks (a node described by several files counts once: same dc, rack, port and host, or
/// same token when one side listens on an unspecified address), and judge each rack.
pub fn check(files: &[PathBuf], max_imbalance: f64) -> Result<CheckReport, CliError> {
    let mut racks: BTreeMap<(String, String), Vec<Seen>> = BTreeMap::new();
    let mut problems = Vec::new();
    for f in files {
        let cfg = dynomite::conf::load(f).map_err(|e| {
            CliError::new(format!("cannot check invalid config:\n{e}")).with_hint(format!(
                "run `dynoctl conf-test {}` for details",
                f.display()
            ))
        })?;
        let file = f.display().to_string();
        let (host, port) = match cfg.net.dyn_listen.as_ref().unwrap_or(&cfg.net.listen) {
            dynomite::conf::Listen::Tcp { host, addr } => (host.clone(), addr.port()),
            dynomite::conf::Listen::Unix(p) => (p.display().to_string(), 0),
        };
        let mut add = |dc: &str, rack: &str, host: String, port: u16, token: Token| {
            let list = racks.entry((dc.to_string(), rack.to_string())).or_default();
            let same = list.iter().position(|s| {
                s.port == port
                    && (s.host == host
                        || ((unspecified(&s.host) || unspecified(&host)) && s.token == token))
            });
            match same {
                Some(i) if list[i].token != token => problems.push(format!(
                    "{dc}/{rack}: node {host}:{port} has token {} in {} but {token} in {file}",
                    list[i].token, list[i].file
                )),
                Some(i) => {
                    if unspecified(&list[i].host) {
                        list[i].host = host;
                    }
                }
                None => list.push(Seen {
                    host,
                    port,
                    token,
                    file: file.clone(),
                }),
            }
        };
        let token = cfg.tokens.first().copied().unwrap_or(0);
        add(&cfg.datacenter, &cfg.rack, host, port, token);
        for s in &cfg.peering.dyn_seeds {
            let t = s.tokens.first().copied().unwrap_or(0);
            add(&s.dc, &s.rack, s.host.clone(), s.port, t);
        }
    }
    let mut out = Vec::new();
    for ((dc, rack), seen) in &racks {
        let mut by_token: BTreeMap<Token, Vec<String>> = BTreeMap::new();
        for s in seen {
            by_token
                .entry(s.token)
                .or_default()
                .push(format!("{}:{}", s.host, s.port));
        }
        for (t, nodes) in &by_token {
            if nodes.len() > 1 {
                problems.push(format!(
                    "{dc}/{rack}: duplicate token {t} on {}; only the first owns its range, the others get no keys",
                    nodes.join(", ")
                ));
            }
        }
        let ring = Continuum::from_entries(seen.iter().enumerate().map(|(i, s)| (s.token, i)));
        let sizes: Vec<u64> = ring
            .ranges()
            .iter()
            .map(|&(start, end, _)| range_size(start, end))
            .collect();
        let smallest = sizes.iter().copied().min().unwrap_or(0);
        let largest = sizes.iter().copied().max().unwrap_or(0);
        let imbalance = if smallest == 0 {
            f64::INFINITY
        } else {
            largest as f64 / smallest as f64
        };
        if imbalance > max_imbalance {
            problems.push(format!(
                "{dc}/{rack}: imbalance {imbalance:.3} (largest range {largest}, smallest {smallest}) is above {max_imbalance}"
            ));
        }
        out.push(RackCheck {
            dc: dc.clone(),
            rack: rack.clone(),
            nodes: seen.len(),
            tokens: by_token.keys().copied().collect(),
            smallest_range: smallest,
            largest_range: largest,
            imbalance,
        });
    }
    let mut warnings = Vec::new();
    for pair in out.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if a.dc == b.dc && a.tokens != b.tokens {
            warnings.push(format!(
                "{}: racks {} and {} have different token sets; replicas will not line up for warm-up",
                a.dc, a.rack, b.rack
            ));
        }
    }
    let ok = problems.is_empty();
    Ok(CheckReport {
        files: files.iter().map(|f| f.display().to_string()).collect(),
        racks: out,
        problems,
        warnings,
        ok,
    })
}

/// The number of hashes in `(start, end]` on the 2^32 ring; `(T, T]` is the whole ring.
fn range_size(start: u32, end: u32) -> u64 {
    match end.wrapping_sub(start) {
        0 => 1 << 32,
        n => u64::from(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dynomite::ring::NETFLIX_OFFSET;

    fn layout(k: u32) -> Layout {
        Layout {
            dcs: vec!["dc1".into()],
            racks: 2,
            nodes_per_rack: k,
            offset: NETFLIX_OFFSET,
            scheme: Scheme::Netflix,
        }
    }

    #[test]
    fn netflix_vectors_in_every_rack() {
        let nodes = layout(3).nodes().unwrap();
        let tokens: Vec<_> = nodes.iter().map(|n| n.token).collect();
        let three = [1383429731, 2815085496, 4246741261];
        assert_eq!(tokens, [three, three].concat());
        assert_eq!(nodes[3].rack, "rack2");
        assert_eq!(nodes[3].slot, 0);
        let two: Vec<_> = layout(2).nodes().unwrap().iter().map(|n| n.token).collect();
        assert_eq!(two[..2], [1383429731, 3530913378]);
    }

    #[test]
    fn seeds_need_one_host_per_node() {
        let l = layout(1);
        let hosts = vec!["a".to_string(), "b".to_string()];
        let n = l.nodes_on(&hosts, 8101).unwrap();
        assert_eq!(n[1].seed.as_deref(), Some("b:8101:rack2:dc1:1383429731"));
        assert!(l.nodes_on(&hosts[..1], 8101).is_err());
    }

    #[test]
    fn range_sizes() {
        assert_eq!(range_size(5, 5), 1 << 32);
        assert_eq!(range_size(4246741261, 1383429731), 1431655766);
        assert_eq!(range_size(1383429731, 2815085496), 1431655765);
    }
}
