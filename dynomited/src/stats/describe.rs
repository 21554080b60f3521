//! Reading `/cluster_describe` (SPEC §7.4, plus our per-node `state`, `since`, `hints`,
//! `hints_lost`) and the `--stats-port-map` option, shared by `dynoctl` and `dynotop`, which
//! both find a cluster's nodes from one node's description.

use std::collections::BTreeMap;

use serde_json::Value;

/// A node as `/cluster_describe` lists it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Described {
    pub dc: String,
    pub rack: String,
    /// The node's IP.
    pub name: String,
    /// Its host as in the seeds.
    pub host: String,
    /// Its peer (dyn_listen) port.
    pub port: u16,
    pub token: u32,
    /// As the asked node sees it (its own state for itself); empty from Dynomite C.
    pub state: String,
    /// Since when (unix ms) in that state; 0 if never changed or not reported.
    pub since: u64,
    /// Writes the asked node keeps for it, and writes it lost for good.
    pub hints: u64,
    pub hints_lost: u64,
}

impl Described {
    /// The address to connect to: `name` (the IP), else `host`.
    pub fn ip(&self) -> &str {
        if self.name.is_empty() {
            &self.host
        } else {
            &self.name
        }
    }

    /// `host:peerport` (the host as in the seeds, else the IP), for display.
    pub fn peer(&self) -> String {
        let h = if self.host.is_empty() {
            &self.name
        } else {
            &self.host
        };
        format!("{h}:{}", self.port)
    }
}

/// Parse a `/cluster_describe` reply, in its order; an error is a short reason, never a
/// panic. Missing fields read as empty or 0.
pub fn parse_describe(body: &str) -> Result<Vec<Described>, String> {
    let v: Value =
        serde_json::from_str(body).map_err(|e| format!("bad /cluster_describe JSON: {e}"))?;
    let dcs = v
        .get("dcs")
        .and_then(Value::as_array)
        .ok_or("bad /cluster_describe JSON: no dcs")?;
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let n = |v: &Value, k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
    let list = |v: &Value, k: &str| v.get(k).and_then(Value::as_array).cloned();
    let mut out = Vec::new();
    for dc in dcs {
        for rack in list(dc, "racks").into_iter().flatten() {
            for srv in list(&rack, "servers").into_iter().flatten() {
                out.push(Described {
                    dc: s(dc, "name"),
                    rack: s(&rack, "name"),
                    name: s(&srv, "name"),
                    host: s(&srv, "host"),
                    port: u16::try_from(n(&srv, "port")).unwrap_or(0),
                    token: u32::try_from(n(&srv, "token")).unwrap_or(0),
                    state: s(&srv, "state"),
                    since: n(&srv, "since"),
                    hints: n(&srv, "hints"),
                    hints_lost: n(&srv, "hints_lost"),
                });
            }
        }
    }
    Ok(out)
}

/// `--stats-port-map` entries, comma separated: `PEERPORT=STATSPORT` or
/// `HOST:PEERPORT=STATSPORT`, into a map keyed by `PEERPORT` or `HOST:PEERPORT`.
pub fn parse_port_map(text: &str) -> Result<BTreeMap<String, u16>, String> {
    let mut map = BTreeMap::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (k, v) = item.split_once('=').ok_or_else(|| {
            format!(
                "bad --stats-port-map entry \"{item}\": want PEERPORT=STATSPORT or HOST:PEERPORT=STATSPORT"
            )
        })?;
        let port: u16 = v
            .trim()
            .parse()
            .map_err(|_| format!("bad stats port \"{v}\" in --stats-port-map entry \"{item}\""))?;
        map.insert(k.trim().to_owned(), port);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dynomite_and_our_fields() {
        // Dynomite C's shape (newlines inside objects), and ours with the extra fields.
        let body = "{\"dcs\": [{\"name\":\"dc1\",\"racks\": [{\"name\":\"rack1\",\"servers\": [{\"name\":\"127.0.0.1\",\"host\":\"a\",\"port\":8101,\n\"token\":1383429731\n},{\"name\":\"127.0.0.2\",\"host\":\"\",\"port\":8201,\n\"state\":\"DOWN\",\"since\":5,\n\"hints\":2,\n\"hints_lost\":1,\n\"token\":7\n}]}]}]}\n";
        let d = parse_describe(body).unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(
            (d[0].dc.as_str(), d[0].rack.as_str(), d[0].token),
            ("dc1", "rack1", 1383429731)
        );
        assert_eq!(d[0].state, "");
        assert_eq!(d[1].peer(), "127.0.0.2:8201");
        assert_eq!(
            (d[1].state.as_str(), d[1].since, d[1].hints, d[1].hints_lost),
            ("DOWN", 5, 2, 1)
        );
        assert!(parse_describe("{}").is_err());
        assert!(parse_describe("nope").is_err());
    }

    #[test]
    fn port_maps() {
        let m = parse_port_map("8101=22222, 10.0.0.2:8101=22223").unwrap();
        assert_eq!(m.get("8101"), Some(&22222));
        assert_eq!(m.get("10.0.0.2:8101"), Some(&22223));
        assert!(parse_port_map("8101").is_err());
        assert!(parse_port_map("8101=x").is_err());
    }
}
