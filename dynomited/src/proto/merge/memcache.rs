//! The memcached multi-get merge: the `VALUE` items of a split `get`/`gets`, back in the
//! order of the keys asked, under one `END` (SPEC §8.6).

use std::ops::Range;

use super::reply::is_error;

/// The line starting at `pos`: its content (without `\r\n`) and the offset after the `\r\n`.
/// The content may not contain `\r` or `\n`.
fn line_at(buf: &[u8], pos: usize) -> Option<(&[u8], usize)> {
    let rest = buf.get(pos..)?;
    let cr = rest.iter().position(|&b| b == b'\r' || b == b'\n')?;
    if rest[cr] != b'\r' || rest.get(cr + 1) != Some(&b'\n') {
        return None;
    }
    Some((&rest[..cr], pos + cr + 2))
}

/// A non-empty run of ASCII digits as u64 (no sign, no overflow).
fn parse_u64(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        if d.is_ascii_digit() {
            n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        } else {
            None
        }
    })
}

/// The item `VALUE <key> <flags> <bytes>[ <cas>]\r\n<data>\r\n` starting at `pos`: the key's
/// range and the offset after the item. Fields are separated by single spaces.
fn memcache_item(buf: &[u8], pos: usize) -> Option<(Range<usize>, usize)> {
    let (line, data_start) = line_at(buf, pos)?;
    let fields = line.strip_prefix(b"VALUE ")?;
    let mut parts = fields.split(|&b| b == b' ');
    let key = parts.next().filter(|k| !k.is_empty())?;
    let _flags = parse_u64(parts.next()?)?;
    let bytes = usize::try_from(parse_u64(parts.next()?)?).ok()?;
    if let Some(cas) = parts.next() {
        parse_u64(cas)?;
    }
    if parts.next().is_some() {
        return None;
    }
    let key_start = pos + b"VALUE ".len();
    let data_end = data_start.checked_add(bytes)?;
    let end = data_end.checked_add(2)?;
    if buf.get(data_end..end)? != b"\r\n" {
        return None;
    }
    Some((key_start..key_start + key.len(), end))
}

/// Merge fragment replies into one reply with the hits in the original key order followed by
/// one `END\r\n` (exactly what a single memcached would answer, duplicates included: `get a a`
/// gives the item twice). Walk keys in order; for key i, if the next unconsumed item of fragment
/// `frag_of_key[i]` has key == `keys[i]`, copy it and advance. At the end every fragment must be
/// at its `END\r\n` with nothing after it. Err(fragment index) when a fragment reply is an error
/// (`ERROR`, `CLIENT_ERROR ...`, `SERVER_ERROR ...`) or malformed/does not fit this walk.
///
/// Error replies are looked for first, in fragment order; then the walk reports the first
/// fragment it cannot follow (a malformed item where one is expected, or items left over).
/// Keys compare byte-exact (memcached keys are case-sensitive). `keys` and `frag_of_key` of
/// different lengths, or a fragment index past `frags`, give Err(frags.len()).
pub fn merge_memcache_get(
    keys: &[&[u8]],
    frag_of_key: &[u16],
    frags: &[&[u8]],
    out: &mut Vec<u8>,
) -> Result<(), usize> {
    out.clear();
    if keys.len() != frag_of_key.len() {
        return Err(frags.len());
    }
    if let Some(f) = frags.iter().position(|r| is_error(r)) {
        return Err(f);
    }
    let mut cursors = vec![0usize; frags.len()];
    for (&key, &f) in keys.iter().zip(frag_of_key) {
        let f = usize::from(f);
        let (Some(frag), Some(cur)) = (frags.get(f), cursors.get_mut(f)) else {
            return Err(frags.len());
        };
        let rest = &frag[*cur..];
        if rest.starts_with(b"VALUE ") {
            let (key_range, end) = memcache_item(frag, *cur).ok_or(f)?;
            if frag[key_range] == *key {
                out.extend_from_slice(&frag[*cur..end]);
                *cur = end;
            }
        } else if !rest.starts_with(b"END\r\n") {
            return Err(f);
        }
    }
    if let Some(f) = (0..frags.len()).find(|&f| &frags[f][cursors[f]..] != b"END\r\n") {
        return Err(f);
    }
    out.extend_from_slice(b"END\r\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mc(keys: &[&str], frag_of_key: &[u16], frags: &[&[u8]]) -> Result<Vec<u8>, usize> {
        let keys: Vec<&[u8]> = keys.iter().map(|k| k.as_bytes()).collect();
        let mut out = b"junk".to_vec();
        merge_memcache_get(&keys, frag_of_key, frags, &mut out).map(|()| out)
    }

    #[test]
    fn memcache_merge_in_key_order_with_misses() {
        // get a b c d: a, c on fragment 0; b, d on fragment 1; c and b miss.
        let f0: &[u8] = b"VALUE a 0 1\r\n1\r\nEND\r\n";
        let f1: &[u8] = b"VALUE d 5 3\r\nddd\r\nEND\r\n";
        assert_eq!(
            mc(&["a", "b", "c", "d"], &[0, 1, 0, 1], &[f0, f1]).unwrap(),
            b"VALUE a 0 1\r\n1\r\nVALUE d 5 3\r\nddd\r\nEND\r\n"
        );
        // All miss.
        assert_eq!(
            mc(&["a", "b"], &[0, 1], &[b"END\r\n", b"END\r\n"]).unwrap(),
            b"END\r\n"
        );
        // Nothing asked.
        assert_eq!(mc(&[], &[], &[]).unwrap(), b"END\r\n");
    }

    #[test]
    fn memcache_merge_duplicates_and_gets() {
        // get a b a: memcached answers a twice.
        let f0: &[u8] = b"VALUE a 0 1\r\nx\r\nVALUE a 0 1\r\nx\r\nEND\r\n";
        let f1: &[u8] = b"VALUE b 0 0\r\n\r\nEND\r\n";
        assert_eq!(
            mc(&["a", "b", "a"], &[0, 1, 0], &[f0, f1]).unwrap(),
            b"VALUE a 0 1\r\nx\r\nVALUE b 0 0\r\n\r\nVALUE a 0 1\r\nx\r\nEND\r\n"
        );
        // gets with cas; data containing CRLF and `END`.
        let f0: &[u8] = b"VALUE k1 7 5 12345\r\nE\r\nND\r\nEND\r\n";
        let f1: &[u8] = b"VALUE k2 0 2 99\r\nhi\r\nEND\r\n";
        assert_eq!(
            mc(&["k2", "k1"], &[1, 0], &[f0, f1]).unwrap(),
            b"VALUE k2 0 2 99\r\nhi\r\nVALUE k1 7 5 12345\r\nE\r\nND\r\nEND\r\n"
        );
    }

    #[test]
    fn memcache_merge_errors() {
        let ok: &[u8] = b"VALUE a 0 1\r\n1\r\nEND\r\n";
        let end: &[u8] = b"END\r\n";
        assert_eq!(
            mc(
                &["a", "b"],
                &[0, 1],
                &[ok, b"SERVER_ERROR out of memory\r\n"]
            ),
            Err(1)
        );
        assert_eq!(mc(&["a", "b"], &[0, 1], &[ok, b"ERROR\r\n"]), Err(1));
        assert_eq!(
            mc(&["a", "b"], &[0, 1], &[b"CLIENT_ERROR x\r\n", b"ERROR\r\n"]),
            Err(0)
        );
        // An error reply wins over an earlier malformed one.
        assert_eq!(mc(&["a", "b"], &[0, 1], &[b"junk", b"ERROR\r\n"]), Err(1));

        let malformed: &[&[u8]] = &[
            b"",
            b"END",
            b"END\r\nEND\r\n",
            b"VALUE b 0 1\r\n1\r\n",
            b"VALUE b 0 2\r\n1\r\nEND\r\n",
            b"VALUE b 0 1\r\n12\r\nEND\r\n",
            b"VALUE b x 1\r\n1\r\nEND\r\n",
            b"VALUE b 0\r\n1\r\nEND\r\n",
            b"VALUE b 0 1 2 3\r\n1\r\nEND\r\n",
            b"VALUE b  0 1\r\n1\r\nEND\r\n",
            b"VALUE  0 1\r\n1\r\nEND\r\n",
            b"VALUE b 0 -1\r\n1\r\nEND\r\n",
            b"VALUE b 0 1 \r\n1\r\nEND\r\n",
            b"STORED\r\n",
            // An item for a key not asked of this fragment (or out of order).
            b"VALUE z 0 1\r\n1\r\nEND\r\n",
        ];
        for m in malformed {
            assert_eq!(
                mc(&["a", "b"], &[0, 1], &[ok, m]),
                Err(1),
                "{:?}",
                String::from_utf8_lossy(m)
            );
        }
        // Items in the wrong order do not fit the walk.
        let swapped: &[u8] = b"VALUE b 0 1\r\n2\r\nVALUE a 0 1\r\n1\r\nEND\r\n";
        assert_eq!(mc(&["a", "b"], &[0, 0], &[swapped]), Err(0));
        // An unused fragment must still be a bare END.
        assert_eq!(mc(&["a"], &[0], &[ok, ok]), Err(1));
        assert_eq!(mc(&["a"], &[0], &[ok, end]).unwrap(), ok);
        // Caller bugs.
        assert_eq!(mc(&["a"], &[3], &[ok]), Err(1));
        assert_eq!(mc(&["a"], &[0, 0], &[ok]), Err(1));
    }
}
