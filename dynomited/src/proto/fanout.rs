//! Replies of a keyspace command sent to every node of a rack (each holds a share of the
//! keys), combined into what one redis-server holding the whole dataset answers: `KEYS` the
//! union, `DBSIZE` the sum (`merge::coalesce_sum`), `RANDOMKEY` one node's key; and `SCAN`,
//! which walks the nodes one after the other with a cursor that says which node and where
//! in it. The read-repair metadata keys (`._add-set...`, `._rem-set...`) are the proxy's,
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
//! reply, typically, which the caller then answers with).

/// Whether a key is read-repair metadata (SPEC §4.7), hidden from keyspace commands.
pub fn is_metadata_key(key: &[u8]) -> bool {
    key.starts_with(b"._add-set") || key.starts_with(b"._rem-set")
}

/// A decimal length line `<lead><n>\r\n` at `pos`: `n` and the offset after the line.
fn header(buf: &[u8], pos: usize, lead: u8) -> Option<(i64, usize)> {
    if buf.get(pos) != Some(&lead) {
        return None;
    }
    let end = pos + 1 + buf[pos + 1..].windows(2).position(|w| w == b"\r\n")?;
    let digits = std::str::from_utf8(&buf[pos + 1..end]).ok()?;
    Some((digits.parse().ok()?, end + 2))
}

/// `KEYS`: every node's keys, in node order (each key lives on exactly one node of a rack,
/// so the concatenation is the union), metadata keys left out.
pub fn keys_union(parts: &[&[u8]], out: &mut Vec<u8>) -> Result<(), usize> {
    out.clear();
    let mut body: Vec<(usize, std::ops::Range<usize>)> = Vec::new();
    for (k, part) in parts.iter().enumerate() {
        let (n, mut pos) = header(part, 0, b'*').filter(|&(n, _)| n >= 0).ok_or(k)?;
        for _ in 0..n {
            let (len, start) = header(part, pos, b'$').filter(|&(l, _)| l >= 0).ok_or(k)?;
            let end = start + len as usize;
            if part.get(end..end + 2) != Some(b"\r\n") {
                return Err(k);
            }
            if !is_metadata_key(&part[start..end]) {
                body.push((k, pos..end + 2));
            }
            pos = end + 2;
        }
        if pos != part.len() {
            return Err(k);
        }
    }
    out.push(b'*');
    out.extend_from_slice(body.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
    for (k, r) in body {
        out.extend_from_slice(&parts[k][r]);
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
    let (two, pos) = header(part, 0, b'*').ok_or(ScanError::NotAScan)?;
    if two != 2 {
        return Err(bad);
    }
    let (len, start) = header(part, pos, b'$')
        .filter(|&(l, _)| l >= 0)
        .ok_or(ScanError::NotAScan)?;
    let end = start + len as usize;
    let c = std::str::from_utf8(part.get(start..end).ok_or(ScanError::NotAScan)?)
        .ok()
        .and_then(|t| t.parse::<u64>().ok())
        .ok_or(ScanError::NotAScan)?;
    let next = match (c, node + 1 < nodes) {
        (0, true) => scan_encode(0, node + 1),
        (0, false) => Some(0),
        (c, _) => scan_encode(c, node),
    }
    .ok_or(ScanError::CursorTooLarge)?;
    let mut keys = Vec::new();
    keys_union(
        &[part.get(end + 2..).ok_or(ScanError::NotAScan)?],
        &mut keys,
    )
    .map_err(|_| ScanError::NotAScan)?;
    let cursor = next.to_string();
    out.extend_from_slice(b"*2\r\n$");
    out.extend_from_slice(cursor.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(cursor.as_bytes());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&keys);
    Ok(())
}

/// The members an SPOP reply names, as ranges of it: one bulk string, a nil (none), or an
/// array (RESP2 `*`, RESP3 set `~`) of bulk strings. False for anything else.
pub fn popped_members(reply: &[u8], out: &mut Vec<std::ops::Range<usize>>) -> bool {
    out.clear();
    if is_nil(reply) {
        return true;
    }
    let one = |pos: usize| -> Option<(std::ops::Range<usize>, usize)> {
        let (len, start) = header(reply, pos, b'$').filter(|&(l, _)| l >= 0)?;
        let end = start + len as usize;
        (reply.get(end..end + 2) == Some(b"\r\n")).then_some((start..end, end + 2))
    };
    if reply.first() == Some(&b'$') {
        return match one(0) {
            Some((r, end)) if end == reply.len() => {
                out.push(r);
                true
            }
            _ => false,
        };
    }
    let lead = match reply.first() {
        Some(&b'*') => b'*',
        Some(&b'~') => b'~',
        _ => return false,
    };
    let Some((n, mut pos)) = header(reply, 0, lead).filter(|&(n, _)| n >= 0) else {
        return false;
    };
    for _ in 0..n {
        let Some((r, next)) = one(pos) else {
            return false;
        };
        out.push(r);
        pos = next;
    }
    pos == reply.len()
}

/// The bytes of a bulk-string reply (`None` for a nil or anything else).
pub fn bulk(reply: &[u8]) -> Option<&[u8]> {
    let (len, start) = header(reply, 0, b'$').filter(|&(l, _)| l >= 0)?;
    let end = start + len as usize;
    (reply.get(end..) == Some(b"\r\n")).then(|| &reply[start..end])
}

/// Whether a reply is a nil (`$-1` in RESP2, `_` in RESP3).
fn is_nil(reply: &[u8]) -> bool {
    reply == b"$-1\r\n" || reply == b"_\r\n"
}

/// `RANDOMKEY`: a key from one of the nodes that have any (`pick` chooses among them), else
/// the nil of the client's protocol. A metadata key a node picked counts as none.
pub fn random_key(parts: &[&[u8]], pick: u64, out: &mut Vec<u8>) -> Result<(), usize> {
    out.clear();
    let mut keys = 0u64;
    for (k, part) in parts.iter().enumerate() {
        if is_nil(part) {
            continue;
        }
        let (len, start) = header(part, 0, b'$').filter(|&(l, _)| l >= 0).ok_or(k)?;
        if part.len() != start + len as usize + 2 {
            return Err(k);
        }
        if !is_metadata_key(&part[start..start + len as usize]) {
            keys += 1;
        }
    }
    let chosen = (keys > 0).then(|| pick % keys);
    let mut seen = 0u64;
    for part in parts {
        if is_nil(part) {
            continue;
        }
        let (len, start) = header(part, 0, b'$').expect("checked");
        if is_metadata_key(&part[start..start + len as usize]) {
            continue;
        }
        if Some(seen) == chosen {
            out.extend_from_slice(part);
            return Ok(());
        }
        seen += 1;
    }
    // No key anywhere: the nil, as the first node (the client's protocol) wrote it.
    let nil = parts
        .iter()
        .find(|p| is_nil(p))
        .copied()
        .unwrap_or(b"$-1\r\n");
    out.extend_from_slice(nil);
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
