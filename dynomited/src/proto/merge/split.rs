//! The split side: reassembling the fragments of a Redis multi-key command sent to several
//! nodes (MGET's values in key order, the sum of DEL/EXISTS counts, MSET's OK; SPEC §8.6).

use super::reply::{array_elements, integer, is_error, push_array_header, push_i64};

/// MGET: `*<keys>\r\n` then, for key i in original order, element `placement[i].1` of fragment
/// `placement[i].0`'s array reply. Errors: if any fragment reply is an error, Err(index of the
/// first such fragment in fragment order); if a fragment reply is not an array or is too short,
/// Err(that fragment index) as well (the runtime answers with a generic error then).
///
/// Error replies are looked for first (in every fragment), then malformed ones, then short
/// ones, each in fragment order, so the result does not depend on key order. Fragments longer
/// than needed are accepted. A placement naming a fragment past `frags` gives
/// Err(frags.len()).
pub fn coalesce_mget(
    placement: &[(u16, u32)],
    frags: &[&[u8]],
    out: &mut Vec<u8>,
) -> Result<(), usize> {
    out.clear();
    if let Some(f) = frags.iter().position(|r| is_error(r)) {
        return Err(f);
    }
    // Element ranges of fragment f are ranges[starts[f]..starts[f + 1]].
    let mut ranges = Vec::new();
    let mut scratch = Vec::new();
    let mut starts = Vec::with_capacity(frags.len() + 1);
    starts.push(0);
    for (f, reply) in frags.iter().enumerate() {
        if array_elements(reply, &mut scratch).is_none() {
            return Err(f);
        }
        ranges.append(&mut scratch);
        starts.push(ranges.len());
    }
    // Elements each fragment must have: one past the highest position asked of it.
    let mut needed = vec![0usize; frags.len()];
    for &(f, p) in placement {
        let slot = needed.get_mut(usize::from(f)).ok_or(frags.len())?;
        *slot = (*slot).max(p as usize + 1);
    }
    if let Some(f) = (0..frags.len()).find(|&f| starts[f + 1] - starts[f] < needed[f]) {
        return Err(f);
    }
    push_array_header(out, placement.len());
    for &(f, p) in placement {
        let f = usize::from(f);
        out.extend_from_slice(&frags[f][ranges[starts[f] + p as usize].clone()]);
    }
    Ok(())
}

/// DEL / EXISTS / UNLINK / TOUCH: `:<sum>\r\n` of the fragments' integer replies; Err(first
/// fragment whose reply is an error or not an integer).
///
/// A sum that overflows i64 (impossible for real counts) gives Err(the fragment that
/// overflowed it).
pub fn coalesce_sum(frags: &[&[u8]], out: &mut Vec<u8>) -> Result<(), usize> {
    out.clear();
    let mut sum = 0i64;
    for (f, reply) in frags.iter().enumerate() {
        sum = integer(reply).and_then(|n| sum.checked_add(n)).ok_or(f)?;
    }
    out.push(b':');
    push_i64(out, sum);
    out.extend_from_slice(b"\r\n");
    Ok(())
}

/// MSET: `+OK\r\n` when every fragment answered `+OK` (case-insensitive), else Err(first other).
pub fn coalesce_ok(frags: &[&[u8]], out: &mut Vec<u8>) -> Result<(), usize> {
    out.clear();
    if let Some(f) = frags
        .iter()
        .position(|r| !r.eq_ignore_ascii_case(b"+OK\r\n"))
    {
        return Err(f);
    }
    out.extend_from_slice(b"+OK\r\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mget_reorders_by_placement() {
        // MGET k0 k1 k2 k3 with k0, k2 on fragment 0 and k1, k3 on fragment 1.
        let placement = [(0, 0), (1, 0), (0, 1), (1, 1)];
        let f0: &[u8] = b"*2\r\n$2\r\nv0\r\n$-1\r\n";
        let f1: &[u8] = b"*2\r\n$2\r\nv1\r\n$2\r\nv3\r\n";
        let mut out = b"junk".to_vec();
        coalesce_mget(&placement, &[f0, f1], &mut out).unwrap();
        assert_eq!(out, b"*4\r\n$2\r\nv0\r\n$2\r\nv1\r\n$-1\r\n$2\r\nv3\r\n");

        // Duplicated keys may pick the same element twice.
        coalesce_mget(&[(0, 0), (0, 0)], &[b"*1\r\n$1\r\na\r\n"], &mut out).unwrap();
        assert_eq!(out, b"*2\r\n$1\r\na\r\n$1\r\na\r\n");

        coalesce_mget(&[], &[], &mut out).unwrap();
        assert_eq!(out, b"*0\r\n");
    }

    #[test]
    fn mget_errors() {
        let ok: &[u8] = b"*1\r\n$1\r\na\r\n";
        let err: &[u8] = b"-ERR boom\r\n";
        let mut out = Vec::new();
        let p2 = [(0, 0), (1, 0)];
        let p3 = [(0, 0), (1, 0), (2, 0)];
        assert_eq!(coalesce_mget(&p2, &[ok, err], &mut out), Err(1));
        assert_eq!(coalesce_mget(&p3, &[ok, err, err], &mut out), Err(1));
        assert_eq!(coalesce_mget(&p2, &[b"!1\r\nx\r\n", ok], &mut out), Err(0));
        // Error replies win over malformed ones that come earlier.
        assert_eq!(coalesce_mget(&p2, &[b"+OK\r\n", err], &mut out), Err(1));
        assert_eq!(coalesce_mget(&p2, &[b"+OK\r\n", ok], &mut out), Err(0));
        assert_eq!(
            coalesce_mget(&p2, &[ok, b"*1\r\n$1\r\na"], &mut out),
            Err(1)
        );
        // Too short.
        assert_eq!(
            coalesce_mget(&[(0, 0), (1, 0), (1, 1)], &[ok, ok], &mut out),
            Err(1)
        );
        assert_eq!(coalesce_mget(&p2, &[ok, b"*0\r\n"], &mut out), Err(1));
        // Placement naming a missing fragment: a caller bug.
        assert_eq!(
            coalesce_mget(&[(0, 0), (5, 0)], &[ok, ok], &mut out),
            Err(2)
        );
    }

    #[test]
    fn sum_and_ok() {
        let mut out = b"junk".to_vec();
        coalesce_sum(&[b":1\r\n", b":0\r\n", b":2\r\n"], &mut out).unwrap();
        assert_eq!(out, b":3\r\n");
        coalesce_sum(&[], &mut out).unwrap();
        assert_eq!(out, b":0\r\n");
        coalesce_sum(&[b":-5\r\n", b":2\r\n"], &mut out).unwrap();
        assert_eq!(out, b":-3\r\n");
        assert_eq!(
            coalesce_sum(&[b":1\r\n", b"-ERR x\r\n", b"+OK\r\n"], &mut out),
            Err(1)
        );
        assert_eq!(
            coalesce_sum(&[b"$1\r\n1\r\n", b"-ERR\r\n"], &mut out),
            Err(0)
        );
        assert_eq!(
            coalesce_sum(&[b":9223372036854775807\r\n", b":1\r\n"], &mut out),
            Err(1)
        );

        coalesce_ok(&[b"+OK\r\n", b"+ok\r\n"], &mut out).unwrap();
        assert_eq!(out, b"+OK\r\n");
        assert_eq!(
            coalesce_ok(&[b"+OK\r\n", b"-ERR a\r\n", b"-ERR b\r\n"], &mut out),
            Err(1)
        );
        assert_eq!(coalesce_ok(&[b"+OK\r\n+OK\r\n"], &mut out), Err(0));
        assert_eq!(coalesce_ok(&[b"+OK"], &mut out), Err(0));
    }
}
