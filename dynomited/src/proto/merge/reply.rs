//! The few facts of a reply the merges need (the elements of an array or set, an integer,
//! whether it is an error), read with the shared RESP walker, and the bytes the merges write.

use std::ops::Range;

use crate::proto::redis::walk::{parse_i64, Token, Walker};

/// Byte ranges (offsets into `reply`) of the top-level elements of a RESP array reply
/// (`*N\r\n` then N elements; RESP3 also `~N` set and `>N` push are NOT arrays here: only `*`).
/// Each element may be any RESP2 or RESP3 value, nested to any depth (`*`, `%` map = 2N values,
/// `~` set, `|` attribute then the value it annotates counts as part of the same element,
/// `$` bulk incl. `$-1`, `+`, `-`, `:`, `_`, `#`, `,`, `(`, `!` blob error, `=` verbatim).
/// Returns None if `reply` is not exactly one complete, well-formed array (nothing may follow
/// it), or it is `*-1`. `out` is cleared first.
///
/// Nesting inside one element is followed up to
/// [`MAX_DEPTH`](crate::proto::redis::walk::MAX_DEPTH) (64) aggregates deep; deeper gives None.
/// Validation is structural: lengths, counts, CRLFs, integer / boolean / null syntax, and the
/// `xxx:` prefix of verbatim strings; double (`,`) contents are not checked.
pub fn array_elements(reply: &[u8], out: &mut Vec<Range<usize>>) -> Option<()> {
    elements_of(reply, b'*', out)
}

/// The byte ranges of the elements of `reply` if it is exactly one aggregate of type `ty`
/// (`*` array or `~` set), as [`array_elements`] says. `out` is cleared first.
pub(super) fn elements_of(reply: &[u8], ty: u8, out: &mut Vec<Range<usize>>) -> Option<()> {
    out.clear();
    let mut w = Walker::new(reply);
    let count = match w.next_token() {
        Ok(Token::Open { ty: t, count }) if t == ty => count,
        _ => return None,
    };
    // Then the aggregate's End (no bytes): nothing may follow.
    w.items(out).ok()?;
    debug_assert!(out.len() as u64 == count && w.end_next());
    (w.pos() == reply.len()).then_some(())
}

/// The value of an integer reply `:N\r\n` (exactly one reply, nothing after it), by the
/// walker's integer rule. Not a walk: the whole reply is the one line, which is cheaper to
/// take apart directly (a split DEL or EXISTS has one per fragment).
pub fn integer(reply: &[u8]) -> Option<i64> {
    parse_i64(reply.strip_prefix(b":")?.strip_suffix(b"\r\n")?)
}

/// Whether a reply is an error: Redis `-...` or RESP3 `!...`; memcached `ERROR`,
/// `CLIENT_ERROR ...`, `SERVER_ERROR ...` (at the start of the reply).
///
/// Only the start is looked at, so a truncated error still counts (the quorum logic treats
/// it as a failure either way). Memcached keywords are case-sensitive, as memcached sends them.
pub fn is_error(reply: &[u8]) -> bool {
    matches!(reply.first(), Some(b'-' | b'!'))
        || reply.starts_with(b"ERROR")
        || reply.starts_with(b"CLIENT_ERROR")
        || reply.starts_with(b"SERVER_ERROR")
}

/// Appends `n` in decimal.
pub(super) fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Appends `n` in decimal, with a `-` when negative.
pub(super) fn push_i64(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    push_u64(out, n.unsigned_abs());
}

/// Appends the RESP2 array header `*<n>\r\n`.
pub(super) fn push_array_header(out: &mut Vec<u8>, n: usize) {
    out.push(b'*');
    push_u64(out, n as u64);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::redis::walk::MAX_DEPTH;

    fn elements(reply: &[u8]) -> Option<Vec<&[u8]>> {
        let mut out = Vec::new();
        array_elements(reply, &mut out)?;
        Some(out.into_iter().map(|r| &reply[r]).collect())
    }

    #[test]
    fn array_elements_flat() {
        assert_eq!(
            elements(b"*3\r\n$3\r\nfoo\r\n$-1\r\n:12\r\n").unwrap(),
            vec![&b"$3\r\nfoo\r\n"[..], b"$-1\r\n", b":12\r\n"]
        );
        assert_eq!(elements(b"*0\r\n").unwrap(), Vec::<&[u8]>::new());
        assert_eq!(
            elements(b"*2\r\n$0\r\n\r\n+OK\r\n").unwrap(),
            vec![&b"$0\r\n\r\n"[..], b"+OK\r\n"]
        );
        // Binary-safe bulk contents.
        assert_eq!(
            elements(b"*1\r\n$4\r\n\r\n\r\n\r\n").unwrap(),
            vec![&b"$4\r\n\r\n\r\n\r\n"[..]]
        );
        // `out` is cleared first, also on failure.
        let mut out = vec![0..3, 4..5];
        assert!(array_elements(b"*1\r\n:1\r\n", &mut out).is_some());
        assert_eq!(out, vec![4..8]);
        assert!(array_elements(b"nope", &mut out).is_none());
        assert!(out.is_empty());
    }

    #[test]
    fn array_elements_nested_resp2() {
        let reply = b"*3\r\n*2\r\n$1\r\na\r\n*1\r\n*0\r\n*-1\r\n-ERR x\r\n";
        assert_eq!(
            elements(reply).unwrap(),
            vec![
                &b"*2\r\n$1\r\na\r\n*1\r\n*0\r\n"[..],
                b"*-1\r\n",
                b"-ERR x\r\n"
            ]
        );
        // A stray CRLF after a nested empty array is trailing garbage.
        assert!(elements(b"*1\r\n*1\r\n*0\r\n\r\n").is_none());
        // Nested counts are honoured: one element short, one too many.
        assert!(elements(b"*1\r\n*2\r\n:1\r\n").is_none());
        assert!(elements(b"*1\r\n*1\r\n:1\r\n:2\r\n").is_none());
    }

    #[test]
    fn array_elements_resp3() {
        let map = b"%2\r\n+a\r\n:1\r\n+b\r\n*1\r\n_\r\n";
        let set = b"~2\r\n#t\r\n#f\r\n";
        let attr = b"|1\r\n+ttl\r\n:3\r\n$1\r\nv\r\n";
        let misc: [&[u8]; 6] = [
            b",3.14\r\n",
            b"(-123456789012345678901234567890\r\n",
            b"!5\r\nERR x\r\n",
            b"=8\r\ntxt:abcd\r\n",
            b"_\r\n",
            b",inf\r\n",
        ];
        let mut reply = b"*10\r\n".to_vec();
        reply.extend_from_slice(map);
        reply.extend_from_slice(set);
        reply.extend_from_slice(attr);
        for m in misc {
            reply.extend_from_slice(m);
        }
        reply.extend_from_slice(b"%0\r\n");
        let mut expected: Vec<&[u8]> = vec![map, set, attr];
        expected.extend_from_slice(&misc);
        expected.push(b"%0\r\n");
        assert_eq!(elements(&reply).unwrap(), expected);

        // Attribute nested inside an aggregate, and an empty attribute.
        let inner = b"*2\r\n|1\r\n+k\r\n+v\r\n:1\r\n|0\r\n:2\r\n";
        let mut reply = b"*1\r\n".to_vec();
        reply.extend_from_slice(inner);
        assert_eq!(elements(&reply).unwrap(), vec![&inner[..]]);
        // An attribute with nothing to annotate is incomplete.
        assert!(elements(b"*1\r\n|1\r\n+k\r\n+v\r\n").is_none());
        // Map values count double.
        assert!(elements(b"*1\r\n%1\r\n+k\r\n").is_none());
    }

    #[test]
    fn array_elements_only_star_is_an_array() {
        assert!(elements(b"~1\r\n:1\r\n").is_none());
        assert!(elements(b">1\r\n:1\r\n").is_none());
        assert!(elements(b"%1\r\n:1\r\n:2\r\n").is_none());
        assert!(elements(b"*-1\r\n").is_none());
        assert!(elements(b"$3\r\nfoo\r\n").is_none());
        // A push is not an element type.
        assert!(elements(b"*1\r\n>1\r\n:1\r\n").is_none());
    }

    #[test]
    fn array_elements_rejects_bad_input() {
        let bad: &[&[u8]] = &[
            b"",
            b"*",
            b"*1",
            b"*1\r",
            b"*1\r\n",
            b"*1\r\n$3\r\nfo",
            b"*1\r\n$3\r\nfoo",
            b"*1\r\n$3\r\nfoo\r",
            b"*1\r\n$3\r\nfoox\n",
            b"*1\r\n:1\r\n:2\r\n",
            b"*1\r\n:1\r\nx",
            b"*0\r\n\r\n",
            b"*-2\r\n",
            b"*1\r\n$-2\r\n",
            b"*1\r\n*-3\r\n",
            b"*1\r\n%-1\r\n",
            b"*1\r\n!-1\r\n",
            b"*x\r\n",
            b"*+1\r\n:1\r\n",
            b"*1 \r\n:1\r\n",
            b"*\r\n",
            b"*1\r\n$\r\n\r\n",
            b"*1\r\n$1x\r\na\r\n",
            b"*1\r\n:\r\n",
            b"*1\r\n:1.5\r\n",
            b"*1\r\n:99999999999999999999\r\n",
            b"*1\r\n#x\r\n",
            b"*1\r\n_x\r\n",
            b"*1\r\n(\r\n",
            b"*1\r\n=3\r\ntxt\r\n",
            b"*1\r\n=4\r\ntxtx\r\n",
            b"*1\r\n?\r\n",
            b"*1\n:1\n",
            b"*1\r\n+a\nb\r\n",
            b"*99999999999999999999999\r\n",
            b"*18446744073709551615\r\n:1\r\n",
            b"*1\r\n%9223372036854775808\r\n",
            b"*1\r\n$18446744073709551615\r\n",
            b"*1\r\n$9223372036854775807\r\nab\r\n",
            b"*1\r\n*1000\r\n:1\r\n",
        ];
        for b in bad {
            assert!(elements(b).is_none(), "{:?}", String::from_utf8_lossy(b));
        }
    }

    #[test]
    fn array_elements_depth_cap() {
        let nest = |depth: usize| {
            let mut r = b"*1\r\n".to_vec();
            for _ in 0..depth {
                r.extend_from_slice(b"*1\r\n");
            }
            r.extend_from_slice(b":1\r\n");
            r
        };
        assert!(elements(&nest(MAX_DEPTH)).is_some());
        assert!(elements(&nest(MAX_DEPTH + 1)).is_none());
        assert!(elements(&nest(100_000)).is_none());
    }

    #[test]
    fn integer_and_is_error() {
        assert_eq!(integer(b":0\r\n"), Some(0));
        assert_eq!(integer(b":-42\r\n"), Some(-42));
        assert_eq!(integer(b":9223372036854775807\r\n"), Some(i64::MAX));
        assert_eq!(integer(b":-9223372036854775808\r\n"), Some(i64::MIN));
        for bad in [
            &b":9223372036854775808\r\n"[..],
            b":1\r\n:2\r\n",
            b":1\r\n\r\n",
            b":\r\n",
            b":-\r\n",
            b":+1\r\n",
            b":1",
            b"1\r\n",
            b"+1\r\n",
            b"",
        ] {
            assert_eq!(integer(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }

        for e in [
            &b"-ERR x\r\n"[..],
            b"-WRONGTYPE y\r\n",
            b"!3\r\nERR\r\n",
            b"ERROR\r\n",
            b"CLIENT_ERROR bad data chunk\r\n",
            b"SERVER_ERROR out of memory\r\n",
        ] {
            assert!(is_error(e));
        }
        for ok in [
            &b"+OK\r\n"[..],
            b":1\r\n",
            b"$-1\r\n",
            b"END\r\n",
            b"",
            b"error\r\n",
        ] {
            assert!(!is_error(ok));
        }
    }
}
