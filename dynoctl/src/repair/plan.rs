//! The walk's plan, pure: the racks compared (from the nodes' configs), the elementary token
//! ranges, each range's owner in every rack, and the units the walk goes by.
//!
//! ```text
//!  rack1:  ─────────── a ─────────────────────── c ──────────
//!  rack2:  ───────────────────── b ──────────────────────────
//!  ranges: (c, a]  (a, b]  (b, c]            the union of every rack's tokens
//!  owner:  rack1: node of a | node of c | node of c;   rack2: node of b | b | b
//! ```
//!
//! A node owns `(previous token, token]` of its rack's ring (dynomited's `Continuum`, a node's
//! first token only, as dynomited places keys); the elementary ranges are cut at every token of
//! every rack compared, so each one has exactly one owner in each rack. Ranges whose owners are
//! the same nodes in every rack form a [`Unit`]: the walk scans those owners once for all of
//! them, and records the unit's ranges as done together (`--resume`). A key belongs to the
//! range of `hash(routing key)` with the configured `hash` and `hash_tag`; a key whose routing
//! key is empty (`a{}b`) has no token (dynomited serves it on the coordinator's own node) and
//! is compared as hash 0, where dynomited's other racks look for it.

use std::collections::HashMap;

use dynomite::conf::{Config, HashKind, Listen};
use dynomite::ring::{hash_tagged, Continuum};
use dynomite::types::DataStore;

/// One node, as its config file describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeSpec {
    /// The config file.
    pub file: String,
    pub dc: String,
    pub rack: String,
    /// Its first token: the one that places keys.
    pub token: u32,
    /// Its datastore, `host:port`.
    pub datastore: String,
    pub password: Option<String>,
    /// Its stats address (`stats_listen`), for the hints it holds; `None` for a unix socket.
    pub stats: Option<String>,
}

/// One rack compared: its nodes and their ring.
#[derive(Clone, Debug)]
pub struct RackPlan {
    pub dc: String,
    pub name: String,
    /// `rack`, or `dc/rack` when the racks of several DCs are compared.
    pub label: String,
    pub nodes: Vec<NodeSpec>,
    continuum: Continuum,
}

impl RackPlan {
    /// The node (index into `nodes`) that owns hash `h` in this rack.
    fn owner(&self, h: u32) -> usize {
        self.continuum.owner(h).unwrap_or(0)
    }
}

/// Ranges walked together: their owners are the same node in every rack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    /// Indices into [`Plan::ends`].
    pub ranges: Vec<usize>,
    /// Per rack (as [`Plan::racks`]), the owner's index in the rack's `nodes`.
    pub owners: Vec<usize>,
}

/// Which racks are compared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The racks of the one DC the configs name (an error when they name several).
    OnlyDc,
    /// The racks of this DC.
    Dc(String),
    /// The racks of every DC, all against each other.
    AllDcs,
}

/// What the walk covers.
#[derive(Clone, Debug)]
pub struct Plan {
    pub racks: Vec<RackPlan>,
    pub hash: HashKind,
    pub hash_tag: Option<[u8; 2]>,
    /// The DC compared (`None` with `--all-dcs`).
    pub dc: Option<String>,
    /// The distinct tokens of every rack, ascending: range `i` is `(ends[i-1], ends[i]]`, and
    /// range 0 wraps around: `(ends[last], ends[0]]` (the whole ring when there is one token).
    pub ends: Vec<u32>,
    pub units: Vec<Unit>,
    /// Range index → unit index.
    unit_of: Vec<usize>,
}

impl Plan {
    /// The range of a key.
    pub fn range_of(&self, key: &[u8]) -> usize {
        let h = hash_tagged(self.hash, key, self.hash_tag).unwrap_or(0);
        range_index(&self.ends, h)
    }

    /// The unit that walks range `r`.
    pub fn unit_of(&self, range: usize) -> usize {
        self.unit_of[range]
    }

    /// The range `(start, end]` as text: `(1383429731, 2457171554]`.
    pub fn range_text(&self, r: usize) -> String {
        let prev = if r == 0 {
            self.ends[self.ends.len() - 1]
        } else {
            self.ends[r - 1]
        };
        format!("({prev}, {}]", self.ends[r])
    }

    /// What identifies this walk in a state file: the racks, their nodes (token and
    /// datastore) and the key placement. A resumed run must cover the same.
    pub fn fingerprint(&self) -> String {
        let mut s = format!(
            "hash={} hash_tag={}",
            self.hash.name(),
            self.hash_tag
                .map_or(String::new(), |t| String::from_utf8_lossy(&t).into_owned())
        );
        for r in &self.racks {
            s.push_str(&format!("; {}/{}:", r.dc, r.name));
            for n in &r.nodes {
                s.push_str(&format!(" {}@{}", n.token, n.datastore));
            }
        }
        s
    }
}

/// The range of hash `h` over sorted distinct `ends` (see [`Plan::ends`]).
pub fn range_index(ends: &[u32], h: u32) -> usize {
    let i = ends.partition_point(|&t| t < h);
    if i == ends.len() {
        0
    } else {
        i
    }
}

/// The plan for `configs` (file name, config), in the order given.
pub fn plan(configs: &[(String, Config)], scope: &Scope) -> Result<Plan, String> {
    let Some((first_file, first)) = configs.first() else {
        return Err("no config files: give each node's config (CONF...) or --dir".into());
    };
    let mut nodes: Vec<NodeSpec> = Vec::new();
    for (file, c) in configs {
        if c.data_store != DataStore::Redis {
            return Err(format!(
                "{file}: data_store is memcached; repair compares Redis datastores"
            ));
        }
        if (c.hash, c.hash_tag) != (first.hash, first.hash_tag) {
            return Err(format!(
                "{file} places keys with hash {} and hash_tag {:?}, {first_file} with hash {} and hash_tag {:?}: every node must use the same",
                c.hash.name(),
                tag_text(c.hash_tag),
                first.hash.name(),
                tag_text(first.hash_tag)
            ));
        }
        let s = &c.backend.server;
        if s.unix.is_some() || s.port == 0 {
            return Err(format!(
                "{file}: the datastore is a unix socket ({}); repair needs a TCP address",
                s.host
            ));
        }
        // The node's own host, when its dyn_listen names one.
        let node_host = match &c.net.dyn_listen {
            Some(Listen::Tcp { host, .. }) => Some(host.as_str()),
            _ => None,
        };
        let node = NodeSpec {
            file: file.clone(),
            dc: c.datacenter.clone(),
            rack: c.rack.clone(),
            token: c.tokens.first().copied().unwrap_or(0),
            datastore: join(&on_node(&s.host, node_host), s.port),
            password: c.backend.datastore_password.clone(),
            stats: match &c.net.stats_listen {
                Listen::Tcp { host, addr } => Some(join(&on_node(host, node_host), addr.port())),
                Listen::Unix(_) => None,
            },
        };
        if let Some(same) = nodes.iter().find(|n| n.datastore == node.datastore) {
            if (&same.dc, &same.rack, same.token) == (&node.dc, &node.rack, node.token) {
                continue; // the same node given twice
            }
            return Err(format!(
                "{file} and {} name the same datastore {}: each node has its own",
                same.file, node.datastore
            ));
        }
        if let Some(same) = nodes
            .iter()
            .find(|n| (&n.dc, &n.rack, n.token) == (&node.dc, &node.rack, node.token))
        {
            return Err(format!(
                "{file} and {} are both {}/{} token {}: give one config per node",
                same.file, node.dc, node.rack, node.token
            ));
        }
        nodes.push(node);
    }

    let mut dcs: Vec<String> = Vec::new();
    for n in &nodes {
        if !dcs.contains(&n.dc) {
            dcs.push(n.dc.clone());
        }
    }
    let dc = match scope {
        Scope::AllDcs => None,
        Scope::Dc(d) if dcs.contains(d) => Some(d.clone()),
        Scope::Dc(d) => {
            return Err(format!(
                "no config is of DC {d} (they are of {})",
                dcs.join(", ")
            ))
        }
        Scope::OnlyDc if dcs.len() == 1 => Some(dcs[0].clone()),
        Scope::OnlyDc => {
            return Err(format!(
                "the configs are of several DCs ({}): give --dc NAME, or --all-dcs to compare every rack of every DC",
                dcs.join(", ")
            ))
        }
    };
    let chosen = |d: &str| dc.as_deref().is_none_or(|x| x == d);
    check_complete(configs, &nodes, &chosen)?;

    let mut racks: Vec<RackPlan> = Vec::new();
    for n in nodes.iter().filter(|n| chosen(&n.dc)) {
        match racks
            .iter_mut()
            .find(|r| (&r.dc, &r.name) == (&n.dc, &n.rack))
        {
            Some(r) => r.nodes.push(n.clone()),
            None => racks.push(RackPlan {
                dc: n.dc.clone(),
                name: n.rack.clone(),
                label: String::new(),
                nodes: vec![n.clone()],
                continuum: Continuum::new(),
            }),
        }
    }
    racks.sort_by(|a, b| (&a.dc, &a.name).cmp(&(&b.dc, &b.name)));
    let several_dcs = racks.iter().any(|r| r.dc != racks[0].dc);
    for r in &mut racks {
        r.label = if several_dcs {
            format!("{}/{}", r.dc, r.name)
        } else {
            r.name.clone()
        };
        r.continuum =
            Continuum::from_entries(r.nodes.iter().enumerate().map(|(i, n)| (n.token, i)));
    }
    if racks.len() < 2 {
        return Err(format!(
            "only one rack ({}) to compare: repair makes the racks of a DC equal; give the configs of every rack",
            racks.first().map_or("none", |r| r.label.as_str())
        ));
    }

    let mut ends: Vec<u32> = racks
        .iter()
        .flat_map(|r| r.nodes.iter().map(|n| n.token))
        .collect();
    ends.sort_unstable();
    ends.dedup();
    let mut units: Vec<Unit> = Vec::new();
    let mut by_owners: HashMap<Vec<usize>, usize> = HashMap::new();
    let mut unit_of = Vec::with_capacity(ends.len());
    for (i, &end) in ends.iter().enumerate() {
        let owners: Vec<usize> = racks.iter().map(|r| r.owner(end)).collect();
        let u = *by_owners.entry(owners.clone()).or_insert_with(|| {
            units.push(Unit {
                ranges: Vec::new(),
                owners,
            });
            units.len() - 1
        });
        units[u].ranges.push(i);
        unit_of.push(u);
    }
    Ok(Plan {
        racks,
        hash: first.hash,
        hash_tag: first.hash_tag,
        dc,
        ends,
        units,
        unit_of,
    })
}

/// A host of the machine it is written on: unspecified, `localhost` or loopback.
fn is_local(host: &str) -> bool {
    matches!(host, "" | "0.0.0.0" | "::" | "[::]" | "localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Where a host of a node's config is reached from here: a local one (the datastore on the
/// node's loopback, a stats port on 0.0.0.0) on the node's own host (its `dyn_listen` host)
/// when that is not local too, else on this machine.
fn on_node(host: &str, node_host: Option<&str>) -> String {
    if !is_local(host) {
        return host.to_string();
    }
    match node_host {
        Some(h) if !is_local(h) => h.to_string(),
        _ if matches!(host, "" | "0.0.0.0" | "::" | "[::]") => "127.0.0.1".to_string(),
        _ => host.to_string(),
    }
}

/// `host:port`, with brackets around an IPv6 host.
fn join(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn tag_text(t: Option<[u8; 2]>) -> String {
    t.map_or(String::new(), |t| String::from_utf8_lossy(&t).into_owned())
}

/// Every node the configs' seeds name in the racks compared must have a config of its own:
/// without it, its keys would be looked for on the wrong node.
fn check_complete(
    configs: &[(String, Config)],
    nodes: &[NodeSpec],
    chosen: &dyn Fn(&str) -> bool,
) -> Result<(), String> {
    for (file, c) in configs {
        for s in &c.peering.dyn_seeds {
            let token = s.tokens.first().copied().unwrap_or(0);
            if !chosen(&s.dc) {
                continue;
            }
            let known = nodes
                .iter()
                .any(|n| (&n.dc, &n.rack, n.token) == (&s.dc, &s.rack, token));
            if !known {
                return Err(format!(
                    "{file} names the node {}:{} ({}/{} token {token}) and no config given is that node: give the config of every node of the racks compared",
                    s.host, s.port, s.dc, s.rack
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A node's config: `dc`, `rack`, `token`, datastore port, the seeds `host:port:rack:dc:token`.
    fn conf(dc: &str, rack: &str, token: u32, port: u16, seeds: &[&str], extra: &str) -> Config {
        let seeds: String = seeds.iter().map(|s| format!("  - {s}\n")).collect();
        let seeds = if seeds.is_empty() {
            String::new()
        } else {
            format!("  dyn_seeds:\n{seeds}")
        };
        let text = format!(
            "dyn_o_mite:\n  datacenter: {dc}\n  rack: {rack}\n  listen: 127.0.0.1:8102\n  dyn_listen: 127.0.0.1:8101\n  tokens: '{token}'\n  servers:\n  - 127.0.0.1:{port}:1\n{seeds}{extra}"
        );
        dynomite::conf::parse_str(&text, "t.yml").unwrap()
    }

    fn files(cs: Vec<Config>) -> Vec<(String, Config)> {
        cs.into_iter()
            .enumerate()
            .map(|(i, c)| (format!("n{i}.yml"), c))
            .collect()
    }

    #[test]
    fn one_node_per_rack_is_one_range_and_one_unit() {
        let p = plan(
            &files(vec![
                conf("dc1", "rack2", 1383429731, 7002, &[], ""),
                conf("dc1", "rack1", 1383429731, 7001, &[], ""),
                conf("dc1", "rack3", 1383429731, 7003, &[], ""),
            ]),
            &Scope::OnlyDc,
        )
        .unwrap();
        let labels: Vec<_> = p.racks.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels, ["rack1", "rack2", "rack3"]);
        assert_eq!(p.ends, [1383429731]);
        assert_eq!(
            p.units,
            [Unit {
                ranges: vec![0],
                owners: vec![0, 0, 0]
            }]
        );
        assert_eq!(p.range_text(0), "(1383429731, 1383429731]");
        for key in [&b"a"[..], b"zz", b""] {
            assert_eq!(p.range_of(key), 0);
        }
        assert_eq!(p.dc.as_deref(), Some("dc1"));
    }

    #[test]
    fn ranges_are_cut_at_every_racks_tokens() {
        // rack1: nodes at 100 and 300; rack2: one node at 200.
        let p = plan(
            &files(vec![
                conf("dc1", "rack1", 100, 7001, &[], ""),
                conf("dc1", "rack1", 300, 7002, &[], ""),
                conf("dc1", "rack2", 200, 7003, &[], ""),
            ]),
            &Scope::OnlyDc,
        )
        .unwrap();
        assert_eq!(p.ends, [100, 200, 300]);
        // (300, 100] and (200, 300]... owners: rack1 → node of 100 for (300,100], node of
        // 300 for (100,200] and (200,300]; rack2 → its only node everywhere.
        assert_eq!(
            p.units,
            [
                Unit {
                    ranges: vec![0],
                    owners: vec![0, 0]
                },
                Unit {
                    ranges: vec![1, 2],
                    owners: vec![1, 0]
                },
            ]
        );
        assert_eq!(p.unit_of(2), 1);
        assert_eq!(range_index(&p.ends, 0), 0);
        assert_eq!(range_index(&p.ends, 100), 0);
        assert_eq!(range_index(&p.ends, 101), 1);
        assert_eq!(range_index(&p.ends, 200), 1);
        assert_eq!(range_index(&p.ends, 300), 2);
        assert_eq!(range_index(&p.ends, 301), 0);
        assert_eq!(range_index(&p.ends, u32::MAX), 0);
        assert_eq!(p.range_text(0), "(300, 100]");
        assert_eq!(p.range_text(2), "(200, 300]");
    }

    #[test]
    fn keys_are_placed_with_the_hash_and_the_hash_tag() {
        let tag = "  hash: murmur\n  hash_tag: '{}'\n";
        let p = plan(
            &files(vec![
                conf("dc1", "rack1", 1_000_000_000, 7001, &[], tag),
                conf("dc1", "rack1", 3_000_000_000, 7002, &[], tag),
                conf("dc1", "rack2", 1_000_000_000, 7003, &[], tag),
                conf("dc1", "rack2", 3_000_000_000, 7004, &[], tag),
            ]),
            &Scope::OnlyDc,
        )
        .unwrap();
        let h = dynomite::ring::hash(HashKind::Murmur, b"user42");
        assert_eq!(p.range_of(b"x{user42}y"), range_index(&p.ends, h));
        assert_eq!(p.range_of(b"{user42}"), p.range_of(b"user42"));
        // An empty tag has no token: compared where hash 0 is.
        assert_eq!(p.range_of(b"a{}b"), 0);
        let other = conf("dc1", "rack3", 1, 7005, &[], "");
        let mut cs = files(vec![conf("dc1", "rack1", 1, 7001, &[], tag)]);
        cs.push(("o.yml".into(), other));
        let e = plan(&cs, &Scope::OnlyDc).unwrap_err();
        assert!(e.contains("every node must use the same"), "{e}");
    }

    #[test]
    fn the_dc_is_chosen_and_labels_name_it_when_several_are_compared() {
        let cs = files(vec![
            conf("dc1", "rack1", 1, 7001, &[], ""),
            conf("dc1", "rack2", 1, 7002, &[], ""),
            conf("dc2", "rack1", 1, 7003, &[], ""),
        ]);
        let e = plan(&cs, &Scope::OnlyDc).unwrap_err();
        assert!(e.contains("--dc NAME"), "{e}");
        let p = plan(&cs, &Scope::Dc("dc1".into())).unwrap();
        assert_eq!(p.racks.len(), 2);
        assert_eq!(p.racks[1].label, "rack2");
        let e = plan(&cs, &Scope::Dc("dc2".into())).unwrap_err();
        assert!(e.contains("only one rack"), "{e}");
        let p = plan(&cs, &Scope::AllDcs).unwrap();
        let labels: Vec<_> = p.racks.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels, ["dc1/rack1", "dc1/rack2", "dc2/rack1"]);
        assert_eq!(p.dc, None);
        assert!(plan(&cs, &Scope::Dc("dc9".into()))
            .unwrap_err()
            .contains("no config is of DC dc9"));
    }

    #[test]
    fn every_node_of_the_racks_needs_its_config() {
        let seeds = ["127.0.0.1:9101:rack2:dc1:1", "127.0.0.1:9111:rack2:dc1:2"];
        let cs = files(vec![
            conf("dc1", "rack1", 1, 7001, &seeds, ""),
            conf("dc1", "rack2", 1, 7002, &[], ""),
        ]);
        let e = plan(&cs, &Scope::OnlyDc).unwrap_err();
        assert!(e.contains("127.0.0.1:9111 (dc1/rack2 token 2)"), "{e}");
        // A node of a DC that is not compared needs none.
        let cs = files(vec![
            conf("dc1", "rack1", 1, 7001, &["127.0.0.1:9101:rack1:dc2:1"], ""),
            conf("dc1", "rack2", 1, 7002, &[], ""),
        ]);
        assert!(plan(&cs, &Scope::Dc("dc1".into())).is_ok());
    }

    #[test]
    fn duplicates_and_datastores_that_cannot_be_compared() {
        let a = conf("dc1", "rack1", 1, 7001, &[], "");
        let b = conf("dc1", "rack2", 1, 7002, &[], "");
        let p = plan(
            &files(vec![a.clone(), b.clone(), a.clone()]),
            &Scope::OnlyDc,
        )
        .unwrap();
        assert_eq!(p.racks[0].nodes.len(), 1, "the same node given twice");
        let shared = conf("dc1", "rack3", 1, 7001, &[], "");
        let e = plan(&files(vec![a.clone(), shared]), &Scope::OnlyDc).unwrap_err();
        assert!(e.contains("the same datastore 127.0.0.1:7001"), "{e}");
        let twin = conf("dc1", "rack1", 1, 7009, &[], "");
        let e = plan(&files(vec![a.clone(), twin]), &Scope::OnlyDc).unwrap_err();
        assert!(e.contains("both dc1/rack1 token 1"), "{e}");
        let mc = conf("dc1", "rack2", 1, 7002, &[], "  data_store: 1\n");
        let e = plan(&files(vec![a, mc]), &Scope::OnlyDc).unwrap_err();
        assert!(e.contains("memcached"), "{e}");
        assert!(plan(&[], &Scope::OnlyDc).is_err());
    }

    #[test]
    fn a_datastore_on_a_nodes_loopback_is_reached_on_the_nodes_host() {
        assert_eq!(on_node("127.0.0.1", Some("10.0.0.5")), "10.0.0.5");
        assert_eq!(on_node("localhost", Some("db1.example")), "db1.example");
        assert_eq!(on_node("0.0.0.0", Some("10.0.0.5")), "10.0.0.5");
        assert_eq!(on_node("0.0.0.0", Some("127.0.0.1")), "127.0.0.1");
        assert_eq!(on_node("0.0.0.0", None), "127.0.0.1");
        assert_eq!(on_node("127.0.0.2", Some("127.0.0.1")), "127.0.0.2");
        assert_eq!(on_node("10.0.0.9", Some("10.0.0.5")), "10.0.0.9");
        assert_eq!(join("::1", 6379), "[::1]:6379");
        assert_eq!(join("h", 6379), "h:6379");
        // Two nodes on other hosts, each with its datastore on its own loopback.
        let node = |host: &str, rack: &str| {
            let text = format!(
                "dyn_o_mite:\n  datacenter: dc1\n  rack: {rack}\n  listen: 0.0.0.0:8102\n  dyn_listen: {host}:8101\n  stats_listen: 0.0.0.0:22222\n  tokens: '1'\n  servers:\n  - 127.0.0.1:22122:1\n"
            );
            dynomite::conf::parse_str(&text, "t.yml").unwrap()
        };
        let p = plan(
            &files(vec![node("10.0.0.1", "rack1"), node("10.0.0.2", "rack2")]),
            &Scope::OnlyDc,
        )
        .unwrap();
        let n = &p.racks[1].nodes[0];
        assert_eq!(n.datastore, "10.0.0.2:22122");
        assert_eq!(n.stats.as_deref(), Some("10.0.0.2:22222"));
    }

    #[test]
    fn the_fingerprint_names_racks_tokens_and_datastores() {
        let p = plan(
            &files(vec![
                conf("dc1", "rack1", 1, 7001, &[], ""),
                conf("dc1", "rack2", 1, 7002, &[], ""),
            ]),
            &Scope::OnlyDc,
        )
        .unwrap();
        assert_eq!(
            p.fingerprint(),
            "hash=murmur hash_tag=; dc1/rack1: 1@127.0.0.1:7001; dc1/rack2: 1@127.0.0.1:7002"
        );
    }
}
