//! The DNS wire format of the seed provider (RFC 1035): the query for the TXT records of a
//! name, the reply parser (compressed names, CNAME chains, every RCODE), the seed text made of
//! the records, and the name and server from the environment and `/etc/resolv.conf`. Pure:
//! the query is sent and the reply received by `fetcher.rs`.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::{env_value, Source};

/// The default DNS name of the seed TXT records (Dynomite's `DNS_TXT_NAME`).
pub const DNS_NAME: &str = "_dynomite.ec2-internal";

const TYPE_A: u16 = 1;
pub(crate) const TYPE_CNAME: u16 = 5;
pub(crate) const TYPE_TXT: u16 = 16;
pub(crate) const CLASS_IN: u16 = 1;
pub(crate) const FLAG_QR: u16 = 0x8000;
pub(super) const FLAG_TC: u16 = 0x0200;
pub(super) const FLAG_RD: u16 = 0x0100;
const MAX_POINTERS: usize = 64;

impl Source {
    /// DNS name from DYNOMITE_DNS_NAME (default "_dynomite.ec2-internal"), A records when
    /// DYNOMITE_DNS_TYPE=A, server = first `nameserver` line of /etc/resolv.conf (port 53; default 127.0.0.1:53).
    ///
    /// `resolv_conf` is the text of /etc/resolv.conf. `nameserver` lines whose address does
    /// not parse (e.g. a link-local IPv6 address with a `%scope`) are skipped. DYNOMITE_DNS_TYPE
    /// is `A` or `TXT` (any case; empty or unset = TXT); anything else is an error. The name is
    /// checked here (labels of 1..=63 bytes, at most 253 bytes).
    pub fn dns_from_env(
        env: impl Fn(&str) -> Option<String>,
        resolv_conf: &str,
    ) -> Result<Source, String> {
        let name = env_value(&env, "DYNOMITE_DNS_NAME")
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| DNS_NAME.to_string());
        encode_name(&name).map_err(|e| format!("DYNOMITE_DNS_NAME=\"{name}\": {e}"))?;
        let a_records = match env_value(&env, "DYNOMITE_DNS_TYPE") {
            None => false,
            Some(v) if v.trim().eq_ignore_ascii_case("A") => true,
            Some(v) if v.trim().eq_ignore_ascii_case("TXT") => false,
            Some(v) => {
                return Err(format!(
                    "DYNOMITE_DNS_TYPE=\"{v}\": expected \"TXT\" or \"A\""
                ))
            }
        };
        let server = SocketAddr::new(
            resolv_conf_nameserver(resolv_conf).unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            53,
        );
        Ok(Source::Dns {
            name,
            server,
            a_records,
        })
    }
}

/// The first `nameserver` of resolv.conf text whose address parses.
fn resolv_conf_nameserver(text: &str) -> Option<IpAddr> {
    text.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        if words.next()? != "nameserver" {
            return None;
        }
        words.next()?.parse::<IpAddr>().ok()
    })
}

/// A name in wire format (labels, terminating zero).
pub(crate) fn encode_name(name: &str) -> Result<Vec<u8>, String> {
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    if trimmed.is_empty() {
        return Err("empty DNS name".into());
    }
    let mut out = Vec::with_capacity(trimmed.len() + 2);
    for label in trimmed.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(format!("DNS label \"{label}\" must be 1..=63 bytes"));
        }
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    if out.len() > 255 {
        return Err("DNS name longer than 253 bytes".into());
    }
    Ok(out)
}

pub(crate) fn build_query(id: u16, qname: &[u8], qtype: u16) -> Vec<u8> {
    let mut q = Vec::with_capacity(12 + qname.len() + 4);
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&FLAG_RD.to_be_bytes());
    q.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]); // QDCOUNT 1, AN/NS/AR 0
    q.extend_from_slice(qname);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&CLASS_IN.to_be_bytes());
    q
}

pub(super) fn flags(msg: &[u8]) -> u16 {
    match msg {
        [_, _, a, b, ..] => u16::from_be_bytes([*a, *b]),
        _ => 0,
    }
}

/// Whether `msg` answers query `id` (a reply shorter than its id counts as ours: it is
/// garbage from the server we asked, and an error).
pub(super) fn is_reply_to(msg: &[u8], id: u16) -> bool {
    match msg {
        [a, b, ..] => u16::from_be_bytes([*a, *b]) == id,
        _ => true,
    }
}

fn be16(msg: &[u8], at: usize) -> Result<u16, String> {
    match msg.get(at..at + 2) {
        Some(&[a, b]) => Ok(u16::from_be_bytes([a, b])),
        _ => Err("truncated reply".into()),
    }
}

/// Reads the (possibly compressed) name at `pos`: the name in lower case wire format without
/// pointers, and the position after it in the message.
pub(crate) fn read_name(msg: &[u8], mut pos: usize) -> Result<(Vec<u8>, usize), String> {
    let mut name = Vec::new();
    let mut end = None;
    let mut jumps = 0;
    loop {
        let len = *msg.get(pos).ok_or("truncated name")?;
        match len & 0xC0 {
            0xC0 => {
                let low = *msg.get(pos + 1).ok_or("truncated name")?;
                jumps += 1;
                if jumps > MAX_POINTERS {
                    return Err("compression pointer loop".into());
                }
                end.get_or_insert(pos + 2);
                pos = (usize::from(len & 0x3F) << 8) | usize::from(low);
            }
            0x00 if len == 0 => {
                name.push(0);
                return Ok((name, end.unwrap_or(pos + 1)));
            }
            0x00 => {
                let label = msg
                    .get(pos + 1..pos + 1 + usize::from(len))
                    .ok_or("truncated name")?;
                name.push(len);
                name.extend(label.iter().map(u8::to_ascii_lowercase));
                if name.len() > 254 {
                    return Err("name longer than 255 bytes".into());
                }
                pos += 1 + usize::from(len);
            }
            _ => return Err("unknown label type".into()),
        }
    }
}

/// The texts of the TXT records answering `qname` (wire format) in a DNS reply, one string
/// per record (its character-strings concatenated). CNAMEs from `qname` are followed within
/// the reply.
pub(crate) fn parse_txt_reply(msg: &[u8], qname: &[u8], name: &str) -> Result<Vec<String>, String> {
    let flags = be16(msg, 2)?;
    if flags & FLAG_QR == 0 {
        return Err("the reply is a query".into());
    }
    match flags & 0x000F {
        0 => {}
        3 => return Err(format!("NXDOMAIN: no such name \"{name}\"")),
        2 => return Err("SERVFAIL: the server failed".into()),
        5 => return Err("REFUSED: the server refused to answer".into()),
        rcode => return Err(format!("error reply (RCODE {rcode})")),
    }
    let qdcount = be16(msg, 4)?;
    let ancount = be16(msg, 6)?;
    let lowered: Vec<u8> = qname.iter().map(u8::to_ascii_lowercase).collect();
    let mut pos = 12;
    for _ in 0..qdcount {
        let (qn, next) = read_name(msg, pos)?;
        if qn != lowered {
            return Err("the reply is for another name".into());
        }
        be16(msg, next + 2)?; // QTYPE, QCLASS present
        pos = next + 4;
    }
    // (owner, type, rdata start, rdata end)
    let mut answers = Vec::with_capacity(usize::from(ancount).min(256));
    for _ in 0..ancount {
        let (owner, next) = read_name(msg, pos)?;
        let rtype = be16(msg, next)?;
        let class = be16(msg, next + 2)?;
        let rdlen = usize::from(be16(msg, next + 8)?);
        let start = next + 10;
        if msg.len() < start + rdlen {
            return Err("truncated reply".into());
        }
        if class == CLASS_IN {
            answers.push((owner, rtype, start, start + rdlen));
        }
        pos = start + rdlen;
    }
    // The names that stand for qname: itself and its aliases, each name's CNAMEs followed
    // once (a chain listed backwards costs one step per name, not a pass over the answers).
    let mut cnames: HashMap<&[u8], Vec<usize>> = HashMap::new();
    for (owner, rtype, start, _) in &answers {
        if *rtype == TYPE_CNAME {
            cnames.entry(owner.as_slice()).or_default().push(*start);
        }
    }
    let mut names = HashSet::from([lowered.clone()]);
    let mut todo = vec![lowered];
    while let Some(name) = todo.pop() {
        for &start in cnames.get(name.as_slice()).into_iter().flatten() {
            let (target, _) = read_name(msg, start)?;
            if names.insert(target.clone()) {
                todo.push(target);
            }
        }
    }
    let mut records = Vec::new();
    for (owner, rtype, start, end) in &answers {
        if *rtype != TYPE_TXT || !names.contains(owner) {
            continue;
        }
        let rdata = &msg[*start..*end];
        let mut text = Vec::new();
        let mut i = 0;
        while i < rdata.len() {
            let len = usize::from(rdata[i]);
            let s = rdata
                .get(i + 1..i + 1 + len)
                .ok_or("truncated TXT record")?;
            text.extend_from_slice(s);
            i += 1 + len;
        }
        records.push(String::from_utf8(text).map_err(|_| "a TXT record is not UTF-8 text")?);
    }
    if records.is_empty() {
        let kind = if answers.iter().any(|a| a.1 == TYPE_A) {
            " (only A records)"
        } else {
            ""
        };
        return Err(format!("no TXT records{kind}"));
    }
    Ok(records)
}

/// The seed-list text of the TXT records of a reply: each record trimmed, empty ones dropped,
/// the rest sorted, deduplicated and joined with `|` (so a server rotating its records does
/// not look like a change).
pub(crate) fn seed_text(records: &[String]) -> Result<String, String> {
    let mut records: Vec<String> = records
        .iter()
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .collect();
    if records.is_empty() {
        return Err("no seeds were found in the TXT records".into());
    }
    records.sort();
    records.dedup();
    Ok(records.join("|"))
}

/// DNS replies built by hand, for the tests here and in `fetcher.rs`.
#[cfg(test)]
pub(super) mod fixtures {
    use super::*;

    /// A reply to `query` (its id and question echoed) with `flags` and `answers`, each given
    /// as (owner name in wire format, type, rdata).
    pub(crate) fn reply(query: &[u8], flags: u16, answers: &[(Vec<u8>, u16, Vec<u8>)]) -> Vec<u8> {
        let qend = read_name(query, 12).unwrap().1 + 4;
        let mut r = query[..2].to_vec();
        r.extend_from_slice(&(FLAG_QR | FLAG_RD | 0x0080 | flags).to_be_bytes());
        r.extend_from_slice(&[0, 1]);
        r.extend_from_slice(&(answers.len() as u16).to_be_bytes());
        r.extend_from_slice(&[0, 0, 0, 0]);
        r.extend_from_slice(&query[12..qend]);
        for (owner, rtype, rdata) in answers {
            r.extend_from_slice(owner);
            r.extend_from_slice(&rtype.to_be_bytes());
            r.extend_from_slice(&CLASS_IN.to_be_bytes());
            r.extend_from_slice(&300u32.to_be_bytes());
            r.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
            r.extend_from_slice(rdata);
        }
        r
    }

    /// TXT rdata of character-strings.
    pub(crate) fn txt(strings: &[&str]) -> Vec<u8> {
        strings
            .iter()
            .flat_map(|s| [&[s.len() as u8][..], s.as_bytes()].concat())
            .collect()
    }

    /// A pointer to the question name.
    pub(crate) const QPTR: [u8; 2] = [0xC0, 12];
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seeds::env_of;

    #[test]
    fn read_name_bounds() {
        assert!(read_name(&[], 0).is_err());
        assert!(read_name(&[3, b'a'], 0).is_err());
        assert!(read_name(&[0xC0], 0).is_err());
        assert!(read_name(&[0xC0, 0x50], 0).is_err());
        assert!(read_name(&[0x40], 0).is_err());
        assert_eq!(
            read_name(&[1, b'A', 0xC0, 4, 0], 0),
            Ok((vec![1, b'a', 0], 4))
        );
        // A label then a pointer back to it: bounded, an error.
        assert!(read_name(&[1, b'a', 0xC0, 0], 0).is_err());
        // Too long a name.
        let mut long = Vec::new();
        for _ in 0..5 {
            long.push(63);
            long.extend_from_slice(&[b'x'; 63]);
        }
        long.push(0);
        assert!(read_name(&long, 0).unwrap_err().contains("longer than"));
    }

    #[test]
    fn dns_env_defaults_and_overrides() {
        assert_eq!(
            Source::dns_from_env(env_of(&[]), ""),
            Ok(Source::Dns {
                name: DNS_NAME.into(),
                server: "127.0.0.1:53".parse().unwrap(),
                a_records: false
            })
        );
        let resolv = "# generated\nsearch ec2.internal\nnameserver fe80::1%eth0\n\
                      nameserver 10.0.0.2  # vpc\nnameserver 10.0.0.3\n";
        assert_eq!(
            Source::dns_from_env(
                env_of(&[
                    ("DYNOMITE_DNS_NAME", "_seeds.example.com."),
                    ("DYNOMITE_DNS_TYPE", "a")
                ]),
                resolv
            ),
            Ok(Source::Dns {
                name: "_seeds.example.com.".into(),
                server: "10.0.0.2:53".parse().unwrap(),
                a_records: true
            })
        );
        assert_eq!(
            Source::dns_from_env(env_of(&[]), "nameserver 2001:db8::53\n"),
            Ok(Source::Dns {
                name: DNS_NAME.into(),
                server: "[2001:db8::53]:53".parse().unwrap(),
                a_records: false
            })
        );
        assert!(Source::dns_from_env(env_of(&[("DYNOMITE_DNS_TYPE", "SRV")]), "").is_err());
        assert!(Source::dns_from_env(env_of(&[("DYNOMITE_DNS_NAME", "a..b")]), "").is_err());
    }

    // ---- the codec alone, without sockets ----

    use super::fixtures::{reply, txt, QPTR};

    fn query() -> (Vec<u8>, Vec<u8>) {
        let qname = encode_name(DNS_NAME).unwrap();
        (build_query(0xBEEF, &qname, TYPE_TXT), qname)
    }

    #[test]
    fn query_layout() {
        let (q, qname) = query();
        assert_eq!(&q[..4], &[0xBE, 0xEF, 0x01, 0x00]); // id, RD
        assert_eq!(&q[4..12], &[0, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&q[12..12 + qname.len()], &qname[..]);
        assert_eq!(&q[12 + qname.len()..], &[0, 16, 0, 1]);
        assert!(is_reply_to(&q, 0xBEEF) && !is_reply_to(&q, 0xBEEE));
        assert!(
            is_reply_to(&[7], 1),
            "too short to carry an id: ours, and garbage"
        );
        assert_eq!(flags(&q), FLAG_RD);
        assert_eq!(flags(&[1, 2, 3]), 0);
    }

    #[test]
    fn txt_reply_parsed_without_a_server() {
        let (q, qname) = query();
        let r = reply(
            &q,
            0,
            &[
                (QPTR.to_vec(), TYPE_TXT, txt(&["b:1:r:d:2", " "])),
                (QPTR.to_vec(), TYPE_A, vec![127, 0, 0, 1]),
                (QPTR.to_vec(), TYPE_TXT, txt(&["a:1:r:d:1"])),
            ],
        );
        let records = parse_txt_reply(&r, &qname, DNS_NAME).unwrap();
        assert_eq!(records, vec!["b:1:r:d:2 ".to_string(), "a:1:r:d:1".into()]);
        assert_eq!(seed_text(&records), Ok("a:1:r:d:1|b:1:r:d:2".to_string()));
        let only_a = reply(&q, 0, &[(QPTR.to_vec(), TYPE_A, vec![127, 0, 0, 1])]);
        assert_eq!(
            parse_txt_reply(&only_a, &qname, DNS_NAME),
            Err("no TXT records (only A records)".into())
        );
    }

    /// Found by fuzzing (a slow input of `dns_seeds`): a CNAME chain listed backwards took a
    /// pass over the answers per alias, each looking through every alias (2,000 of them, in
    /// a 60 KB TCP reply, took 38 s in a debug build; the seed thread stalled that long).
    #[test]
    fn long_cname_chains_are_followed_in_one_pass() {
        let (q, qname) = query();
        let name = |i: usize| encode_name(&format!("n{i:05}.e")).unwrap();
        let n = 2000;
        let mut answers: Vec<_> = (0..n)
            .rev()
            .map(|i| (name(i), TYPE_CNAME, name(i + 1)))
            .collect();
        answers.push((QPTR.to_vec(), TYPE_CNAME, name(0)));
        answers.push((name(n), TYPE_TXT, txt(&["h:1:r:d:1"])));
        let r = reply(&q, 0, &answers);
        let t = std::time::Instant::now();
        assert_eq!(
            parse_txt_reply(&r, &qname, DNS_NAME),
            Ok(vec!["h:1:r:d:1".to_string()])
        );
        assert!(
            t.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            t.elapsed()
        );
    }

    #[test]
    fn txt_reply_errors_name_the_problem() {
        let (q, qname) = query();
        let rcode = |code: u16| parse_txt_reply(&reply(&q, code, &[]), &qname, DNS_NAME);
        assert_eq!(
            rcode(3),
            Err(format!("NXDOMAIN: no such name \"{DNS_NAME}\""))
        );
        assert_eq!(rcode(2), Err("SERVFAIL: the server failed".into()));
        assert_eq!(
            rcode(5),
            Err("REFUSED: the server refused to answer".into())
        );
        assert_eq!(rcode(4), Err("error reply (RCODE 4)".into()));
        assert_eq!(
            parse_txt_reply(&q, &qname, DNS_NAME),
            Err("the reply is a query".into())
        );
        let other = encode_name("other.example").unwrap();
        assert_eq!(
            parse_txt_reply(&reply(&q, 0, &[]), &other, "other.example"),
            Err("the reply is for another name".into())
        );
        assert_eq!(
            parse_txt_reply(&[0, 1], &qname, DNS_NAME),
            Err("truncated reply".into())
        );
        let not_utf8 = reply(&q, 0, &[(QPTR.to_vec(), TYPE_TXT, vec![1, 0xFF])]);
        assert_eq!(
            parse_txt_reply(&not_utf8, &qname, DNS_NAME),
            Err("a TXT record is not UTF-8 text".into())
        );
    }

    #[test]
    fn seed_text_trims_sorts_and_dedups() {
        let recs = |r: &[&str]| r.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(seed_text(&recs(&["b", " a ", "b", "\n"])), Ok("a|b".into()));
        assert_eq!(
            seed_text(&recs(&[" ", ""])),
            Err("no seeds were found in the TXT records".into())
        );
        assert!(seed_text(&[]).is_err());
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(encode_name("a.bc.").unwrap(), b"\x01a\x02bc\x00");
        assert_eq!(encode_name("a.bc"), encode_name("a.bc."));
        assert!(encode_name("").is_err() && encode_name(".").is_err());
        assert!(encode_name(&"x".repeat(64)).is_err());
        let long = ["x".repeat(63).as_str(); 4].join(".");
        assert!(encode_name(&long).unwrap_err().contains("longer than 253"));
    }
}
