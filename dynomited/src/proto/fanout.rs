//! Replies of a keyspace command sent to every node of a rack (each holds a share of the
//! keys), combined into what one redis-server holding the whole dataset answers: `KEYS` the
//! union, `DBSIZE` the sum (`merge::coalesce_sum`), `RANDOMKEY` one node's key; and `SCAN`,
//! which walks the nodes one after the other with a cursor that says which node and where
//! in it; memcached `stats`, the rack's figures summed. The read-repair metadata keys (`._add-set...`, `._rem-set...`) are the proxy's,
//! not the user's: they never show.
//!
//! ```text
//!   client cursor = node cursor << 8 | node index      (0 = node 0 from its start)
//!   SCAN c ─► node i: SCAN c' ─► reply cursor 0? ─► next node from 0 (the last: 0, done)
//!                                         else   ─► same node, its new cursor
//! ```
//!
//! Every function takes the parts' bytes (one whole reply each) and writes the combined reply
//! to `out`, or returns `Err(k)` when part `k` is not a reply of the expected kind (an error
//! reply, typically, which the caller then answers with). Replies are read with the one RESP
//! walker, [`crate::proto::redis::walk`].

use std::ops::Range;

use super::redis::walk::{Token, Walker};

/// Whether a key is read-repair metadata (SPEC §4.7), hidden from keyspace commands.
pub fn is_metadata_key(key: &[u8]) -> bool {
    key.starts_with(b"._add-set") || key.starts_with(b"._rem-set")
}

/// The byte range of `part` within `whole` (a slice the walker returned).
fn range_in(whole: &[u8], part: &[u8]) -> Range<usize> {
    let start = part.as_ptr() as usize - whole.as_ptr() as usize;
    start..start + part.len()
}

/// Walk the bulk strings of an array (or set) until its end, pushing the range of each
/// one's data; false if anything else is in it.
fn bulk_items(reply: &[u8], w: &mut Walker<'_>, out: &mut Vec<Range<usize>>) -> bool {
    loop {
        match w.next_token() {
            Ok(Token::Blob { ty: b'$', data }) => out.push(range_in(reply, data)),
            Ok(Token::End { .. }) => return true,
            _ => return false,
        }
    }
}

/// The bulk strings of a whole array or set reply (`*`, RESP3 `~`); false for anything else.
fn bulk_array(reply: &[u8], out: &mut Vec<Range<usize>>) -> bool {
    out.clear();
    let mut w = Walker::new(reply);
    matches!(
        w.next_token(),
        Ok(Token::Open {
            ty: b'*' | b'~',
            ..
        })
    ) && bulk_items(reply, &mut w, out)
        && w.pos() == reply.len()
}

/// Append a bulk string of `data`.
pub(crate) fn push_bulk(out: &mut Vec<u8>, data: &[u8]) {
    use std::io::Write as _;
    let _ = write!(out, "${}\r\n", data.len());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// `KEYS`: every node's keys, in node order (each key lives on exactly one node of a rack,
/// so the concatenation is the union), metadata keys left out.
pub fn keys_union(parts: &[&[u8]], out: &mut Vec<u8>) -> Result<(), usize> {
    out.clear();
    let mut items = Vec::new();
    let mut keys: Vec<(usize, Range<usize>)> = Vec::new();
    for (k, part) in parts.iter().enumerate() {
        if !bulk_array(part, &mut items) {
            return Err(k);
        }
        keys.extend(
            items
                .drain(..)
                .filter(|r| !is_metadata_key(&part[r.clone()]))
                .map(|r| (k, r)),
        );
    }
    out.push(b'*');
    out.extend_from_slice(keys.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
    for (k, r) in keys {
        push_bulk(out, &parts[k][r]);
    }
    Ok(())
}

/// Bits of a client's SCAN cursor that name the node (so a rack has at most 256 nodes).
pub const SCAN_NODE_BITS: u32 = 8;

/// A client's SCAN cursor: the node's own cursor and the node's index, if it is one this
/// proxy could have given out for a rack of `nodes` nodes.
pub fn scan_decode(cursor: &[u8], nodes: usize) -> Option<(u64, usize)> {
    if cursor.is_empty() || cursor.len() > 20 || !cursor.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let c: u64 = std::str::from_utf8(cursor).ok()?.parse().ok()?;
    let node = (c & ((1 << SCAN_NODE_BITS) - 1)) as usize;
    (node < nodes).then_some((c >> SCAN_NODE_BITS, node))
}

/// The client's cursor for node `node` at its cursor `c`; `None` if `c` does not fit.
pub fn scan_encode(c: u64, node: usize) -> Option<u64> {
    (c >> (64 - SCAN_NODE_BITS) == 0).then_some(c << SCAN_NODE_BITS | node as u64)
}

/// Why a node's SCAN reply cannot be turned into the client's.
#[derive(Debug, PartialEq, Eq)]
pub enum ScanError {
    /// Not a `[cursor, [keys...]]` reply (an error reply, typically).
    NotAScan,
    /// The node's cursor is too large to carry the node index beside it.
    CursorTooLarge,
}

/// Node `node`'s (of `nodes`) SCAN reply as the client's: its cursor re-encoded (the next
/// node from its start when this one is done, 0 after the last), metadata keys left out.
pub fn scan_reply(
    part: &[u8],
    node: usize,
    nodes: usize,
    out: &mut Vec<u8>,
) -> Result<(), ScanError> {
    out.clear();
    let bad = ScanError::NotAScan;
    let mut w = Walker::new(part);
    let Ok(Token::Open { ty: b'*', count: 2 }) = w.next_token() else {
        return Err(bad);
    };
    let Ok(Token::Blob { ty: b'$', data }) = w.next_token() else {
        return Err(bad);
    };
    let c = std::str::from_utf8(data)
        .ok()
        .and_then(|t| t.parse::<u64>().ok())
        .ok_or(ScanError::NotAScan)?;
    let mut items = Vec::new();
    let keys_ok = matches!(
        w.next_token(),
        Ok(Token::Open {
            ty: b'*' | b'~',
            ..
        })
    ) && bulk_items(part, &mut w, &mut items)
        && matches!(w.next_token(), Ok(Token::End { .. }))
        && w.pos() == part.len();
    if !keys_ok {
        return Err(ScanError::NotAScan);
    }
    let next = match (c, node + 1 < nodes) {
        (0, true) => scan_encode(0, node + 1),
        (0, false) => Some(0),
        (c, _) => scan_encode(c, node),
    }
    .ok_or(ScanError::CursorTooLarge)?;
    items.retain(|r| !is_metadata_key(&part[r.clone()]));
    out.extend_from_slice(b"*2\r\n");
    push_bulk(out, next.to_string().as_bytes());
    out.push(b'*');
    out.extend_from_slice(items.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
    for r in items {
        push_bulk(out, &part[r]);
    }
    Ok(())
}

/// The members an SPOP reply names, as ranges of it: one bulk string, a nil (none), or an
/// array (RESP2 `*`, RESP3 set `~`) of bulk strings. False for anything else.
pub fn popped_members(reply: &[u8], out: &mut Vec<Range<usize>>) -> bool {
    out.clear();
    let mut w = Walker::new(reply);
    let whole = match w.next_token() {
        Ok(Token::Null { .. }) => true,
        Ok(Token::Blob { ty: b'$', data }) => {
            out.push(range_in(reply, data));
            true
        }
        Ok(Token::Open {
            ty: b'*' | b'~', ..
        }) => bulk_items(reply, &mut w, out),
        _ => false,
    };
    whole && w.pos() == reply.len()
}

/// The bytes of a bulk-string reply (`None` for a nil or anything else).
pub fn bulk(reply: &[u8]) -> Option<&[u8]> {
    let mut w = Walker::new(reply);
    match w.next_token() {
        Ok(Token::Blob { ty: b'$', data }) if w.pos() == reply.len() => Some(data),
        _ => None,
    }
}

/// `INFO` with its keyspace section: this node's reply (`parts[local]`), its `# Keyspace`
/// lines replaced by the rack's (`db<N>:keys=..,expires=..,avg_ttl=..`: keys and expiring
/// keys summed over the nodes, the average TTL weighted by each node's expiring keys, any
/// other field this node's). A reply without a keyspace section is this node's as it is.
pub fn info_keyspace(parts: &[&[u8]], local: usize, out: &mut Vec<u8>) -> Result<(), usize> {
    out.clear();
    let text_of = |k: usize| -> Result<(u8, &[u8]), usize> {
        let mut w = Walker::new(parts[k]);
        match w.next_token() {
            Ok(Token::Blob {
                ty: ty @ (b'$' | b'='),
                data,
            }) if w.pos() == parts[k].len() => Ok((ty, data)),
            _ => Err(k),
        }
    };
    let (ty, mine) = text_of(local)?;
    // db name -> (keys, expires, ttl * expires, this node's line)
    let mut dbs: Vec<(String, u64, u64, u128, Option<String>)> = Vec::new();
    for k in 0..parts.len() {
        let (_, data) = text_of(k)?;
        let text = String::from_utf8_lossy(data);
        for line in keyspace_lines(&text) {
            let Some((db, fields)) = line.split_once(':') else {
                continue;
            };
            let get = |name: &str| {
                fields
                    .split(',')
                    .find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            let (keys, expires, ttl) = (get("keys"), get("expires"), get("avg_ttl"));
            let at = match dbs.iter().position(|d| d.0 == db) {
                Some(at) => at,
                None => {
                    dbs.push((db.to_string(), 0, 0, 0, None));
                    dbs.len() - 1
                }
            };
            let d = &mut dbs[at];
            d.1 += keys;
            d.2 += expires;
            d.3 += u128::from(ttl) * u128::from(expires);
            if k == local {
                d.4 = Some(fields.to_string());
            }
        }
    }
    let text = String::from_utf8_lossy(mine);
    let Some(start) = text.find("# Keyspace\r\n") else {
        out.extend_from_slice(parts[local]);
        return Ok(());
    };
    let body = start + "# Keyspace\r\n".len();
    // The section ends at its first empty line (kept) or at the end of the text.
    let mut end = body;
    while let Some(i) = text[end..].find("\r\n") {
        if i == 0 {
            break;
        }
        end += i + 2;
    }
    dbs.sort_by_key(|d| {
        d.0.trim_start_matches("db")
            .parse::<u64>()
            .unwrap_or(u64::MAX)
    });
    let mut combined = String::new();
    for (db, keys, expires, weighted, own) in dbs {
        let avg = if expires == 0 {
            0
        } else {
            weighted / u128::from(expires)
        };
        combined += &format!("{db}:keys={keys},expires={expires},avg_ttl={avg}");
        // Fields a newer redis-server adds (subexpiry=...): this node's.
        for f in own.iter().flat_map(|o| o.split(',')) {
            if !["keys=", "expires=", "avg_ttl="]
                .iter()
                .any(|p| f.starts_with(p))
            {
                combined += ",";
                combined += f;
            }
        }
        combined += "\r\n";
    }
    let new_text = format!("{}{combined}{}", &text[..body], &text[end..]);
    out.push(ty);
    out.extend_from_slice(new_text.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(new_text.as_bytes());
    out.extend_from_slice(b"\r\n");
    Ok(())
}

/// The `db...` lines of an INFO text's `# Keyspace` section.
fn keyspace_lines(text: &str) -> impl Iterator<Item = &str> {
    let section = text
        .find("# Keyspace\r\n")
        .map_or("", |s| &text[s + "# Keyspace\r\n".len()..]);
    section
        .split("\r\n")
        .take_while(|l| !l.is_empty() && !l.starts_with('#'))
        .filter(|l| l.starts_with("db"))
}

/// memcached `stats` figures that describe one server, not the data or the traffic: in a
/// sharded rack they are the local datastore's, never summed.
const MC_STATS_OWN: &[&str] = &[
    "pid",
    "uptime",
    "time",
    "version",
    "libevent",
    "pointer_size",
    "rusage_user",
    "rusage_system",
    "max_connections",
    "threads",
    "hash_power_level",
    "hash_is_expanding",
    "accepting_conns",
    "reserved_fds",
    "slab_reassign_running",
    "lru_crawler_running",
];

/// The `name value` pairs of a memcached `STAT` list reply (closed by `END`); `None` if it
/// is anything else.
fn mc_stat_lines(reply: &[u8]) -> Option<Vec<(&str, &str)>> {
    let text = std::str::from_utf8(reply).ok()?;
    let body = text.strip_suffix("END\r\n")?;
    body.split_terminator("\r\n")
        .map(|line| line.strip_prefix("STAT ")?.split_once(' '))
        .collect()
}

/// memcached `stats` on a rack: with one node, its datastore's lines; with several, each
/// figure the local datastore (`parts[local]`) reports, counters and sizes (every whole
/// number but [`MC_STATS_OWN`]) summed over the rack's datastores. Then the proxy's own
/// lines (`STAT name value\r\n` each), then `END`.
pub fn mc_stats(
    parts: &[&[u8]],
    local: usize,
    proxy: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), usize> {
    out.clear();
    let all: Vec<Vec<(&str, &str)>> = parts
        .iter()
        .enumerate()
        .map(|(k, p)| mc_stat_lines(p).ok_or(k))
        .collect::<Result<_, _>>()?;
    for &(name, value) in &all[local] {
        let summed = match value.parse::<u64>() {
            Ok(mine) if !MC_STATS_OWN.contains(&name) => {
                let others = all.iter().enumerate().filter(|&(k, _)| k != local);
                let more = others.filter_map(|(_, lines)| {
                    let (_, v) = lines.iter().find(|(n, _)| *n == name)?;
                    v.parse::<u64>().ok()
                });
                Some(more.fold(mine, u64::wrapping_add))
            }
            _ => None,
        };
        out.extend_from_slice(b"STAT ");
        out.extend_from_slice(name.as_bytes());
        out.push(b' ');
        match summed {
            Some(v) => out.extend_from_slice(v.to_string().as_bytes()),
            None => out.extend_from_slice(value.as_bytes()),
        }
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(proxy);
    out.extend_from_slice(b"END\r\n");
    Ok(())
}

/// Whether a reply is a nil (`$-1` in RESP2, `_` in RESP3).
fn is_nil(reply: &[u8]) -> bool {
    reply == b"$-1\r\n" || reply == b"_\r\n"
}

/// `RANDOMKEY`: a key from one of the nodes that have any (`pick` chooses among them), else
/// the nil of the client's protocol. A metadata key a node picked counts as none.
pub fn random_key(parts: &[&[u8]], pick: u64, out: &mut Vec<u8>) -> Result<(), usize> {
    out.clear();
    let mut keys: Vec<&[u8]> = Vec::new();
    let mut nil: Option<&[u8]> = None;
    for (k, part) in parts.iter().enumerate() {
        if is_nil(part) {
            nil.get_or_insert(part);
            continue;
        }
        let key = bulk(part).ok_or(k)?;
        if !is_metadata_key(key) {
            keys.push(part);
        }
    }
    match keys.len() {
        // No key anywhere: the nil, as the first node (the client's protocol) wrote it.
        0 => out.extend_from_slice(nil.unwrap_or(b"$-1\r\n")),
        n => out.extend_from_slice(keys[(pick % n as u64) as usize]),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(parts: &[&[u8]]) -> Result<String, usize> {
        let mut out = Vec::new();
        keys_union(parts, &mut out).map(|()| String::from_utf8(out).unwrap())
    }

    #[test]
    fn keys_is_the_union_without_metadata() {
        assert_eq!(
            keys(&[
                b"*2\r\n$1\r\na\r\n$2\r\nbb\r\n",
                b"*0\r\n",
                b"*1\r\n$1\r\nc\r\n"
            ]),
            Ok("*3\r\n$1\r\na\r\n$2\r\nbb\r\n$1\r\nc\r\n".into())
        );
        assert_eq!(
            keys(&[
                b"*2\r\n$10\r\n._add-set1\r\n$1\r\nx\r\n",
                b"*1\r\n$11\r\n._rem-set_k\r\n"
            ]),
            Ok("*1\r\n$1\r\nx\r\n".into())
        );
        // A key with CR LF inside is sized by its length, not by its bytes.
        assert_eq!(
            keys(&[b"*1\r\n$4\r\na\r\nb\r\n"]),
            Ok("*1\r\n$4\r\na\r\nb\r\n".into())
        );
        assert_eq!(keys(&[b"*0\r\n", b"-ERR busy\r\n"]), Err(1));
        assert_eq!(keys(&[b"*2\r\n$1\r\na\r\n"]), Err(0), "short");
        assert_eq!(keys(&[b"*1\r\n$1\r\nab\r\n"]), Err(0), "length mismatch");
    }

    #[test]
    fn scan_cursors_walk_the_nodes() {
        assert_eq!(scan_decode(b"0", 3), Some((0, 0)));
        assert_eq!(scan_decode(b"258", 3), Some((1, 2)));
        assert_eq!(scan_decode(b"3", 3), None, "no such node");
        assert_eq!(scan_decode(b"-1", 3), None);
        assert_eq!(scan_decode(b"x", 3), None);
        assert_eq!(scan_decode(b"99999999999999999999", 3), None, "over u64");
        assert_eq!(scan_encode(7, 1), Some(7 << 8 | 1));
        assert_eq!(scan_encode(1 << 56, 0), None);
        let mut out = Vec::new();
        let reply = |c: &str, keys: &str| format!("*2\r\n${}\r\n{c}\r\n{keys}", c.len());
        // Node 0 of 2 is done: the next node from its start.
        scan_reply(reply("0", "*1\r\n$1\r\na\r\n").as_bytes(), 0, 2, &mut out).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out),
            reply("1", "*1\r\n$1\r\na\r\n")
        );
        // Node 1 in the middle: its cursor, node 1.
        scan_reply(reply("12", "*0\r\n").as_bytes(), 1, 2, &mut out).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out),
            reply(&(12 << 8 | 1).to_string(), "*0\r\n")
        );
        // The last node done: 0, the end. Metadata keys do not show.
        let with_meta = reply("0", "*2\r\n$9\r\n._rem-set\r\n$1\r\nb\r\n");
        scan_reply(with_meta.as_bytes(), 1, 2, &mut out).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out),
            reply("0", "*1\r\n$1\r\nb\r\n")
        );
        assert_eq!(
            scan_reply(b"-ERR x\r\n", 0, 2, &mut out),
            Err(ScanError::NotAScan)
        );
        let huge = reply(&(1u64 << 60).to_string(), "*0\r\n");
        assert_eq!(
            scan_reply(huge.as_bytes(), 0, 2, &mut out),
            Err(ScanError::CursorTooLarge)
        );
    }

    #[test]
    fn popped_members_and_bulks() {
        let mut r = Vec::new();
        let texts = |reply: &[u8], r: &[std::ops::Range<usize>]| -> Vec<String> {
            r.iter()
                .map(|x| String::from_utf8_lossy(&reply[x.clone()]).into())
                .collect()
        };
        assert!(popped_members(b"$1\r\na\r\n", &mut r));
        assert_eq!(texts(b"$1\r\na\r\n", &r), ["a"]);
        assert!(popped_members(b"$-1\r\n", &mut r) && r.is_empty());
        let arr = b"*2\r\n$2\r\nbb\r\n$1\r\nc\r\n";
        assert!(popped_members(arr, &mut r));
        assert_eq!(texts(arr, &r), ["bb", "c"]);
        let set = b"~1\r\n$3\r\na\r\n\r\n";
        assert!(popped_members(set, &mut r));
        assert_eq!(texts(set, &r), ["a\r\n"]);
        assert!(popped_members(b"*0\r\n", &mut r) && r.is_empty());
        assert!(!popped_members(b"-WRONGTYPE x\r\n", &mut r));
        assert!(!popped_members(b"*2\r\n$1\r\na\r\n", &mut r), "short");
        assert_eq!(bulk(b"$6\r\n1-0000\r\n"), Some(&b"1-0000"[..]));
        assert_eq!(bulk(b"$-1\r\n"), None);
        assert_eq!(bulk(b":1\r\n"), None);
    }

    #[test]
    fn info_keyspace_is_summed_over_the_rack() {
        let bulk = |t: &str| format!("${}\r\n{t}\r\n", t.len());
        let a = bulk("# Server\r\nredis_version:7.0.15\r\n\r\n# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=100\r\n");
        let b = bulk("# Server\r\nredis_version:7.0.15\r\n\r\n# Keyspace\r\ndb0:keys=3,expires=3,avg_ttl=500\r\ndb1:keys=1,expires=0,avg_ttl=0\r\n");
        let mut out = Vec::new();
        info_keyspace(&[a.as_bytes(), b.as_bytes()], 0, &mut out).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out),
            bulk("# Server\r\nredis_version:7.0.15\r\n\r\n# Keyspace\r\ndb0:keys=5,expires=4,avg_ttl=400\r\ndb1:keys=1,expires=0,avg_ttl=0\r\n")
        );
        // An empty node, a section in the middle, RESP3 verbatim text.
        let v = |t: &str| format!("={}\r\ntxt:{t}\r\n", t.len() + 4);
        let c = v("# Keyspace\r\n\r\n# Other\r\nx:1\r\n");
        let d = v("# Keyspace\r\ndb0:keys=7,expires=0,avg_ttl=0\r\n\r\n# Other\r\nx:2\r\n");
        info_keyspace(&[c.as_bytes(), d.as_bytes()], 0, &mut out).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out),
            v("# Keyspace\r\ndb0:keys=7,expires=0,avg_ttl=0\r\n\r\n# Other\r\nx:1\r\n")
        );
        // No keyspace section: this node's reply as it is; an error reply is refused.
        let e = bulk("# Server\r\nx:1\r\n");
        info_keyspace(&[e.as_bytes(), d.as_bytes()], 0, &mut out).unwrap();
        assert_eq!(out, e.as_bytes());
        assert_eq!(
            info_keyspace(&[e.as_bytes(), b"-ERR x\r\n"], 0, &mut out),
            Err(1)
        );
    }

    #[test]
    fn memcached_stats_are_summed_over_the_rack() {
        let a: &[u8] = b"STAT pid 7\r\nSTAT curr_items 3\r\nSTAT version 1.6.18\r\nSTAT threads 4\r\nSTAT rusage_user 0.5\r\nEND\r\n";
        let b: &[u8] =
            b"STAT pid 9\r\nSTAT curr_items 4\r\nSTAT version 1.6.18\r\nSTAT threads 4\r\nEND\r\n";
        let proxy = b"STAT dyn_pid 1\r\n";
        let mut out = Vec::new();
        mc_stats(&[b, a], 1, proxy, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            "STAT pid 7\r\nSTAT curr_items 7\r\nSTAT version 1.6.18\r\nSTAT threads 4\r\n\
             STAT rusage_user 0.5\r\nSTAT dyn_pid 1\r\nEND\r\n"
        );
        mc_stats(&[a], 0, b"", &mut out).unwrap();
        assert_eq!(out, a, "one node: its lines as they are");
        assert_eq!(
            mc_stats(&[a, b"SERVER_ERROR x\r\n"], 0, b"", &mut out),
            Err(1)
        );
        assert_eq!(mc_stats(&[b"STAT x\r\nEND\r\n"], 0, b"", &mut out), Err(0));
    }

    #[test]
    fn randomkey_picks_among_nodes_with_keys() {
        let parts: [&[u8]; 3] = [b"$-1\r\n", b"$1\r\na\r\n", b"$1\r\nb\r\n"];
        let mut out = Vec::new();
        for (pick, want) in [(0, "$1\r\na\r\n"), (1, "$1\r\nb\r\n"), (2, "$1\r\na\r\n")] {
            random_key(&parts, pick, &mut out).unwrap();
            assert_eq!(String::from_utf8_lossy(&out), want);
        }
        random_key(&[b"_\r\n", b"_\r\n"], 7, &mut out).unwrap();
        assert_eq!(out, b"_\r\n", "RESP3 nil when no node has a key");
        random_key(&[b"$9\r\n._add-set\r\n", b"$-1\r\n"], 0, &mut out).unwrap();
        assert_eq!(out, b"$-1\r\n", "metadata keys are not keys");
        assert_eq!(random_key(&[b"-ERR x\r\n"], 0, &mut out), Err(0));
    }
}
