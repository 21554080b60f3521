//! Replies of a keyspace command sent to every node of a rack (each holds a share of the
//! keys), combined into what one redis-server holding the whole dataset answers: `KEYS` the
//! union, `DBSIZE` the sum (`merge::coalesce_sum`), `RANDOMKEY` one node's key. The
//! read-repair metadata keys (`._add-set...`, `._rem-set...`) are the proxy's, not the
//! user's: they never show.
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
