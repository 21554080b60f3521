//! Which nodes to watch: `/cluster_describe` parsing and the stats-address rules.
//!
//! `/cluster_describe` (SPEC §7.4) lists every node's DC, rack, `name` (its IP), `host`, peer
//! `port` and `token`, but not its stats port. The stats address of a described node is
//! `name:STATS` (or `host:STATS` when `name` is empty), where `STATS` is, first match wins:
//! 1. `--stats-port-map` entry `HOST:PEERPORT=STATSPORT`, then one for `PEERPORT=STATSPORT`;
//! 2. a `--config` file whose `dyn_listen` port is that peer port (its `stats_listen` port);
//! 3. the stats port of the `--node` the description was read from.

use std::collections::BTreeMap;

/// One node to poll, with what is known of it before its first `/info`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Target {
    /// Stats address `host:port` polled for `/info`.
    pub addr: String,
    /// Display name: `host:peerport` from a description or config, else `addr`.
    pub name: String,
    pub dc: String,
    pub rack: String,
    pub tokens: Vec<u32>,
}

pub use dynomite::stats::describe::{parse_describe, parse_port_map, Described};

/// Turn a description into targets, with `default_port` the stats port of the node asked.
pub fn targets_from_describe(
    described: &[Described],
    map: &BTreeMap<String, u16>,
    default_port: u16,
) -> Vec<Target> {
    described
        .iter()
        .map(|d| {
            let ip = if d.name.is_empty() { &d.host } else { &d.name };
            let label = if d.host.is_empty() { ip } else { &d.host };
            let stats = map
                .get(&format!("{ip}:{}", d.port))
                .or_else(|| map.get(&format!("{}:{}", d.host, d.port)))
                .or_else(|| map.get(&d.port.to_string()))
                .copied()
                .unwrap_or(default_port);
            Target {
                addr: format!("{ip}:{stats}"),
                name: format!("{label}:{}", d.port),
                dc: d.dc.clone(),
                rack: d.rack.clone(),
                tokens: vec![d.token],
            }
        })
        .collect()
}

/// The stats address to connect to for a listener host: an unspecified (`0.0.0.0`, `::`, empty)
/// host means this machine.
pub fn connect_host(host: &str) -> &str {
    match host {
        "" | "0.0.0.0" | "::" | "[::]" => "127.0.0.1",
        h => h,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DESCRIBE: &str = "{\"dcs\": [{\"name\":\"dc1\",\"racks\": [{\"name\":\"r1\",\"servers\": [{\"name\":\"10.0.0.1\",\"host\":\"a\",\"port\":8101,\n\"token\":1\n},{\"name\":\"10.0.0.2\",\"host\":\"b\",\"port\":8102,\n\"token\":2\n}]}]}]}\n";

    #[test]
    fn describe_and_port_rules() {
        let d = parse_describe(DESCRIBE).unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!((d[1].port, d[1].token), (8102, 2));
        let map = parse_port_map("8102=22223").unwrap();
        let t = targets_from_describe(&d, &map, 22222);
        assert_eq!(t[0].addr, "10.0.0.1:22222");
        assert_eq!(t[0].name, "a:8101");
        assert_eq!(t[1].addr, "10.0.0.2:22223");
        let map = parse_port_map("10.0.0.1:8101=1, 8101=2").unwrap();
        assert_eq!(targets_from_describe(&d, &map, 9)[0].addr, "10.0.0.1:1");
        assert!(parse_port_map("8101").is_err());
        assert!(parse_describe("{}").is_err());
        assert!(parse_describe("nope").is_err());
    }
}
