//! Gossip payload text (type 7 `GOSSIP_SYN`, SPEC §6.3) and the seed-list text of seed
//! providers (Florida body, DNS TXT record; SPEC §1.5, C.5).
//!
//! ```text
//!   gossip:     record ( "|" record )*           (an empty payload is no record)
//!   record:     dc "$" rack "$" token "," ts "," state "," address
//!               split from the right: address, state, ts on ","; then token, rack on "$";
//!               what is left is dc (which may hold "$" and ",")
//!
//!   seed list:  entry ( "|" entry )*             (entries trimmed; empty entries skipped)
//!   entry:      host ":" port ":" rack ":" dc ":" token
//!               split from the right on the last four ":", so the host may hold ":" (IPv6)
//! ```
//!
//! Numbers are strict: ASCII digits only (no sign, no spaces), at least one, and in range.

use std::fmt;

/// One node as a gossip record describes it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct GossipNode {
    pub dc: String,
    pub rack: String,
    pub token: u32,
    /// Seconds since the epoch of the last update of this node's state.
    pub ts: u64,
    /// A node state number (`types::NodeState`; §6.1), as sent.
    pub state: u8,
    /// The node's broadcast address or name (no port).
    pub address: String,
}

/// Why a gossip payload was rejected. `record` counts from 0 in payload order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GossipError {
    /// The record is not UTF-8.
    NotUtf8 {
        record: usize,
    },
    /// Nothing between two `|` (or before the first, or after the last).
    EmptyRecord {
        record: usize,
    },
    /// Fewer than three `,` or two `$`.
    MissingField {
        record: usize,
        field: &'static str,
    },
    EmptyField {
        record: usize,
        field: &'static str,
    },
    /// Not decimal digits, or out of range for the field.
    BadNumber {
        record: usize,
        field: &'static str,
    },
}

impl fmt::Display for GossipError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GossipError::NotUtf8 { record } => write!(f, "gossip record {record} is not UTF-8"),
            GossipError::EmptyRecord { record } => write!(f, "gossip record {record} is empty"),
            GossipError::MissingField { record, field } => {
                write!(f, "gossip record {record} has no {field}; expected \"dc$rack$token,ts,state,address\"")
            }
            GossipError::EmptyField { record, field } => {
                write!(f, "gossip record {record} has an empty {field}")
            }
            GossipError::BadNumber { record, field } => {
                write!(f, "gossip record {record} has an invalid {field}")
            }
        }
    }
}

impl std::error::Error for GossipError {}

/// Strict unsigned decimal: 1..=20 ASCII digits that fit `T`.
fn dec<T: TryFrom<u64>>(s: &str) -> Option<T> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let mut n: u64 = 0;
    for b in s.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    T::try_from(n).ok()
}

/// Parses a gossip payload into its records, in payload order. An empty payload is an empty
/// list. Anything malformed rejects the whole payload (gossip is resent every round).
pub fn parse_gossip(payload: &[u8]) -> Result<Vec<GossipNode>, GossipError> {
    if payload.is_empty() {
        return Ok(Vec::new());
    }
    payload
        .split(|&b| b == b'|')
        .enumerate()
        .map(|(record, raw)| parse_record(record, raw))
        .collect()
}

fn parse_record(record: usize, raw: &[u8]) -> Result<GossipNode, GossipError> {
    if raw.is_empty() {
        return Err(GossipError::EmptyRecord { record });
    }
    let text = std::str::from_utf8(raw).map_err(|_| GossipError::NotUtf8 { record })?;
    let missing = |field| GossipError::MissingField { record, field };
    let empty = |field| GossipError::EmptyField { record, field };
    let bad = |field| GossipError::BadNumber { record, field };
    let mut parts = text.rsplitn(4, ',');
    let address = parts.next().ok_or_else(|| missing("address"))?;
    let state = parts.next().ok_or_else(|| missing("state"))?;
    let ts = parts.next().ok_or_else(|| missing("ts"))?;
    let host_id = parts.next().ok_or_else(|| missing("host id"))?;
    let mut ids = host_id.rsplitn(3, '$');
    let token = ids.next().ok_or_else(|| missing("token"))?;
    let rack = ids.next().ok_or_else(|| missing("rack"))?;
    let dc = ids.next().ok_or_else(|| missing("dc"))?;
    for (field, value) in [("dc", dc), ("rack", rack), ("address", address)] {
        if value.is_empty() {
            return Err(empty(field));
        }
    }
    Ok(GossipNode {
        dc: dc.to_string(),
        rack: rack.to_string(),
        token: dec(token).ok_or_else(|| bad("token"))?,
        ts: dec(ts).ok_or_else(|| bad("ts"))?,
        state: dec(state).ok_or_else(|| bad("state"))?,
        address: address.to_string(),
    })
}

/// Appends the gossip text of `nodes` (records joined by `|`), as Dynomite's
/// `gossip_forward_state` writes it. Round-trips through [`parse_gossip`] when no field holds
/// `|`, the address holds no `,`, the rack no `$`, and dc, rack and address are non-empty.
pub fn write_gossip(out: &mut Vec<u8>, nodes: &[GossipNode]) {
    use std::io::Write;
    for (i, n) in nodes.iter().enumerate() {
        if i > 0 {
            out.push(b'|');
        }
        // Writing to a Vec cannot fail.
        let _ = write!(
            out,
            "{}${}${},{},{},{}",
            n.dc, n.rack, n.token, n.ts, n.state, n.address
        );
    }
}

/// One entry of a seed list: a peer and its place in the topology.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct SeedRecord {
    /// Host name or address, as given (resolving is the caller's business).
    pub host: String,
    /// The peer port (`dyn_listen` of that node).
    pub port: u16,
    pub rack: String,
    pub dc: String,
    pub token: u32,
}

const SEED_FIX: &str =
    "expected \"host:port:rack:dc:token\", e.g. \"127.0.0.2:8101:rack1:dc1:1383429731\"";

/// Parses seed-list text: entries separated by `|`, each trimmed of whitespace (newlines
/// included), empty entries skipped. The error names the entry, in quotes, and the fix.
pub fn parse_seed_list(text: &str) -> Result<Vec<SeedRecord>, String> {
    text.split('|')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(parse_seed)
        .collect()
}

/// The five fields of a seed string `host:port:rack:dc:tokens`, split from the right (so the
/// host may contain `:`), as Dynomite splits both `dyn_seeds` entries and seed-provider
/// records: `(host, port, rack, dc, tokens)`. `None` with fewer than five fields.
pub fn split_seed(s: &str) -> Option<(&str, &str, &str, &str, &str)> {
    let mut parts = s.rsplitn(5, ':');
    let tokens = parts.next()?;
    let dc = parts.next()?;
    let rack = parts.next()?;
    let port = parts.next()?;
    let host = parts.next()?;
    Some((host, port, rack, dc, tokens))
}

fn parse_seed(entry: &str) -> Result<SeedRecord, String> {
    let Some((host, port, rack, dc, token)) = split_seed(entry) else {
        return Err(format!("seed \"{entry}\" has too few fields; {SEED_FIX}"));
    };
    for (what, value) in [("host", host), ("rack", rack), ("dc", dc)] {
        if value.is_empty() {
            return Err(format!("seed \"{entry}\" has an empty {what}; {SEED_FIX}"));
        }
    }
    let port = match dec::<u16>(port) {
        Some(p) if p > 0 => p,
        _ => {
            return Err(format!(
                "seed \"{entry}\" has an invalid port \"{port}\"; the port must be 1..65535; {SEED_FIX}"
            ))
        }
    };
    let Some(token) = dec::<u32>(token) else {
        return Err(format!(
            "seed \"{entry}\" has an invalid token \"{token}\"; a token is decimal digits 0..4294967295"
        ));
    };
    Ok(SeedRecord {
        host: host.to_string(),
        port,
        rack: rack.to_string(),
        dc: dc.to_string(),
        token,
    })
}

/// The seed-list text of `seeds` (entries joined by `|`, as dynomite-manager's `get_seeds`
/// returns them). Round-trips through [`parse_seed_list`] when no field holds `|`, rack, dc
/// hold no `:`, and no field has leading or trailing whitespace.
pub fn write_seed_list(seeds: &[SeedRecord]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for (i, s) in seeds.iter().enumerate() {
        if i > 0 {
            out.push('|');
        }
        // Writing to a String cannot fail.
        let _ = write!(out, "{}:{}:{}:{}:{}", s.host, s.port, s.rack, s.dc, s.token);
    }
    out
}

/// Gossip records and seed lists: examples, every error, and write/parse round trips.
#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn node(dc: &str, rack: &str, token: u32, ts: u64, state: u8, address: &str) -> GossipNode {
        GossipNode {
            dc: dc.into(),
            rack: rack.into(),
            token,
            ts,
            state,
            address: address.into(),
        }
    }

    #[test]
    fn gossip_records() {
        assert_eq!(parse_gossip(b""), Ok(vec![]));
        let announce = b"dc1$rack1$1383429731,1700000000,7,10.0.0.1";
        let a = node("dc1", "rack1", 1383429731, 1700000000, 7, "10.0.0.1");
        assert_eq!(parse_gossip(announce), Ok(vec![a.clone()]));
        let digest =
            b"dc1$rack1$1383429731,1700000000,7,10.0.0.1|us$east$1$r,k$0,0,4,host.example:x";
        let b = node("us$east$1", "r,k", 0, 0, 4, "host.example:x");
        assert_eq!(parse_gossip(digest), Ok(vec![a.clone(), b.clone()]));
        let mut out = Vec::new();
        write_gossip(&mut out, &[a.clone(), b]);
        assert_eq!(out, digest);
        out.clear();
        write_gossip(&mut out, &[]);
        assert!(out.is_empty());
        let max = node("d", "r", u32::MAX, u64::MAX, 255, "a");
        out.clear();
        write_gossip(&mut out, std::slice::from_ref(&max));
        assert_eq!(out, b"d$r$4294967295,18446744073709551615,255,a");
        assert_eq!(parse_gossip(&out), Ok(vec![max]));
    }

    #[test]
    fn gossip_errors() {
        use GossipError::*;
        let cases: &[(&[u8], GossipError)] = &[
            (b"|", EmptyRecord { record: 0 }),
            (b"d$r$1,2,3,a|", EmptyRecord { record: 1 }),
            (b"d$r$1,2,3,a||d$r$1,2,3,a", EmptyRecord { record: 1 }),
            (
                b"d$r$1,2,a",
                MissingField {
                    record: 0,
                    field: "host id",
                },
            ),
            (
                b"r$1,2,3,a",
                MissingField {
                    record: 0,
                    field: "dc",
                },
            ),
            (
                b"d$r$1,2,3,",
                EmptyField {
                    record: 0,
                    field: "address",
                },
            ),
            (
                b"$r$1,2,3,a",
                EmptyField {
                    record: 0,
                    field: "dc",
                },
            ),
            (
                b"d$$1,2,3,a",
                EmptyField {
                    record: 0,
                    field: "rack",
                },
            ),
            (
                b"d$r$,2,3,a",
                BadNumber {
                    record: 0,
                    field: "token",
                },
            ),
            (
                b"d$r$-1,2,3,a",
                BadNumber {
                    record: 0,
                    field: "token",
                },
            ),
            (
                b"d$r$ 1,2,3,a",
                BadNumber {
                    record: 0,
                    field: "token",
                },
            ),
            (
                b"d$r$4294967296,2,3,a",
                BadNumber {
                    record: 0,
                    field: "token",
                },
            ),
            (
                b"d$r$1,1.5,3,a",
                BadNumber {
                    record: 0,
                    field: "ts",
                },
            ),
            (
                b"d$r$1,18446744073709551616,3,a",
                BadNumber {
                    record: 0,
                    field: "ts",
                },
            ),
            (
                b"d$r$1,2,256,a",
                BadNumber {
                    record: 0,
                    field: "state",
                },
            ),
            (
                b"d$r$1,2,+3,a",
                BadNumber {
                    record: 0,
                    field: "state",
                },
            ),
            (b"d$r$1,2,3,a|d$r$1,2,3,\xff", NotUtf8 { record: 1 }),
        ];
        for (payload, err) in cases {
            assert_eq!(
                parse_gossip(payload).as_ref(),
                Err(err),
                "{}",
                String::from_utf8_lossy(payload)
            );
            assert!(!err.to_string().is_empty());
        }
    }

    fn seed(host: &str, port: u16, rack: &str, dc: &str, token: u32) -> SeedRecord {
        SeedRecord {
            host: host.into(),
            port,
            rack: rack.into(),
            dc: dc.into(),
            token,
        }
    }

    #[test]
    fn seed_lists() {
        let florida = "ec2-54-145-17-101.compute-1.amazonaws.com:8101:dyno_pds--useast1e:us-east-1:1383429731|ec2-54-101-51-17.eu-west-1.compute.amazonaws.com:8101:dyno_pds--euwest1c:eu-west-1:1383429731";
        let want = vec![
            seed(
                "ec2-54-145-17-101.compute-1.amazonaws.com",
                8101,
                "dyno_pds--useast1e",
                "us-east-1",
                1383429731,
            ),
            seed(
                "ec2-54-101-51-17.eu-west-1.compute.amazonaws.com",
                8101,
                "dyno_pds--euwest1c",
                "eu-west-1",
                1383429731,
            ),
        ];
        assert_eq!(parse_seed_list(florida), Ok(want.clone()));
        assert_eq!(write_seed_list(&want), florida);
        assert_eq!(parse_seed_list(""), Ok(vec![]));
        assert_eq!(parse_seed_list(" \r\n|\n"), Ok(vec![]));
        assert_eq!(
            parse_seed_list(" 192.168.6.41:8101:rc1:dc1:2147483647\n| |\t::1:65535:r:d:0 |\r\n"),
            Ok(vec![
                seed("192.168.6.41", 8101, "rc1", "dc1", 2147483647),
                seed("::1", 65535, "r", "d", 0),
            ])
        );
        assert_eq!(
            parse_seed_list("fe80::1:2:8101:r:d:4294967295"),
            Ok(vec![seed("fe80::1:2", 8101, "r", "d", u32::MAX)])
        );
    }

    #[test]
    fn seed_list_errors() {
        let cases = [
            ("a:8101:r:d", "has too few fields"),
            (":8101:r:d:1", "empty host"),
            ("a:8101::d:1", "empty rack"),
            ("a:8101:r::1", "empty dc"),
            ("a:0:r:d:1", "invalid port \"0\""),
            ("a:65536:r:d:1", "invalid port \"65536\""),
            ("a:x:r:d:1", "invalid port \"x\""),
            ("a:8101:r:d:4294967296", "invalid token \"4294967296\""),
            ("a:8101:r:d:1,2", "invalid token \"1,2\""),
            ("a:8101:r:d:", "invalid token \"\""),
        ];
        for (text, want) in cases {
            let list = format!("ok:1:r:d:1|{text}");
            let err = parse_seed_list(&list).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
            assert!(err.contains(&format!("\"{text}\"")), "{text}: {err}");
        }
    }

    fn config(cases: u32) -> ProptestConfig {
        ProptestConfig {
            cases,
            ..ProptestConfig::default()
        }
    }

    fn gossip_node() -> impl Strategy<Value = GossipNode> {
        (
            "[a-z0-9_$,.-]{1,12}",
            "[a-z0-9_,.-]{1,12}",
            any::<u32>(),
            any::<u64>(),
            any::<u8>(),
            "[a-z0-9_.:$-]{1,20}",
        )
            .prop_map(|(dc, rack, token, ts, state, address)| GossipNode {
                dc,
                rack,
                token,
                ts,
                state,
                address,
            })
    }

    fn seed_record() -> impl Strategy<Value = SeedRecord> {
        (
            "[a-z0-9.:-]{1,30}",
            1..=u16::MAX,
            "[a-z0-9_.-]{1,12}",
            "[a-z0-9_.-]{1,12}",
            any::<u32>(),
        )
            .prop_map(|(host, port, rack, dc, token)| SeedRecord {
                host,
                port,
                rack,
                dc,
                token,
            })
    }

    proptest! {
        #![proptest_config(config(500))]

        #[test]
        fn gossip_round_trips(nodes in proptest::collection::vec(gossip_node(), 0..6)) {
            let mut out = Vec::new();
            write_gossip(&mut out, &nodes);
            prop_assert_eq!(parse_gossip(&out), Ok(nodes));
        }

        #[test]
        fn gossip_never_panics(payload in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_gossip(&payload);
        }

        #[test]
        fn seed_list_round_trips(seeds in proptest::collection::vec(seed_record(), 0..6)) {
            let text = write_seed_list(&seeds);
            prop_assert_eq!(parse_seed_list(&text), Ok(seeds.clone()));
            let spaced = text.replace('|', " |\n ");
            prop_assert_eq!(parse_seed_list(&spaced), Ok(seeds));
        }

        #[test]
        fn seed_list_never_panics(text in "[a-z0-9:| \n]{0,80}") {
            let _ = parse_seed_list(&text);
        }
    }
}
