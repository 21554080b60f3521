//! The quorum side: Dynomite's reply fingerprint, the order-insensitive fingerprint of set
//! replies, and the element-wise reconcile of array replies (SPEC §4.5, §8.2).

use std::ops::Range;

use super::reply::{array_elements, elements_of, push_array_header};
use crate::ring::hashkit::CRC32_TABLE;

/// Dynomite's reply fingerprint (`crc32_sz`): CRC-32 over the bytes after ASCII-lowercasing
/// each, so replies differing only in case compare equal. Streaming: feed a reply's parts in
/// order.
///
/// This is the standard CRC-32 (init and final xor 0xFFFFFFFF) of the lowercased bytes, so a
/// reply split across mbufs gets the same value as the contiguous reply.
#[derive(Clone, Copy, Debug)]
pub struct Checksum {
    crc: u32,
}

impl Checksum {
    /// A fresh checksum (nothing fed yet).
    pub fn new() -> Checksum {
        Checksum { crc: u32::MAX }
    }

    /// Feeds the next bytes of the reply.
    pub fn update(&mut self, bytes: &[u8]) {
        let mut crc = self.crc;
        for &b in bytes {
            let b = b.to_ascii_lowercase();
            crc = (crc >> 8) ^ CRC32_TABLE[((crc ^ u32::from(b)) & 0xff) as usize];
        }
        self.crc = crc;
    }

    /// The fingerprint of everything fed so far.
    pub fn finish(self) -> u32 {
        !self.crc
    }
}

impl Default for Checksum {
    fn default() -> Self {
        Checksum::new()
    }
}

/// The fingerprint of one contiguous reply (see [`Checksum`]).
pub fn checksum(bytes: &[u8]) -> u32 {
    let mut c = Checksum::new();
    c.update(bytes);
    c.finish()
}

/// An order-insensitive fingerprint of a set reply (a RESP2 array or a RESP3 `~` set): the
/// element count plus the wrapping sum of the elements' [`checksum`]s. Replicas list a large
/// set's members in different orders (each redis-server seeds its hash tables differently);
/// this lets them agree, where Dynomite rewrites `SMEMBERS` into `SORT ... ALPHA` instead.
/// `None` when `reply` is not such a reply.
pub fn unordered_checksum(reply: &[u8], scratch: &mut Vec<Range<usize>>) -> Option<u32> {
    let ty = if reply.first() == Some(&b'~') {
        b'~'
    } else {
        b'*'
    };
    elements_of(reply, ty, scratch)?;
    let mut sum = scratch.len() as u32;
    for e in scratch.iter() {
        sum = sum.wrapping_add(checksum(&reply[e.clone()]));
    }
    Some(sum)
}

/// How to settle an element on which no `quorum` replies agree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoMajority {
    /// Take the element of `replies[0]` (DC_QUORUM: "the first reply received").
    TakeFirst,
    /// Abandon the merge (DC_SAFE_QUORUM / DC_EACH_SAFE_QUORUM).
    Fail,
}

/// Merge array replies element by element: element i of the result is the element i that at
/// least `quorum` of the `replies` have equal (by `checksum` of that element's bytes); with no
/// such element, `TakeFirst` takes it from `replies[0]`, `Fail` gives up. Writes the merged
/// array (`*N\r\n` + elements, byte-exact copies of the chosen elements) to `out` (cleared first)
/// and returns true; returns false (out unspecified) when any reply is not an array, the element
/// counts differ, there are no replies, or an element failed under `Fail`.
///
/// This is Dynomite's `redis_reconcile_responses` generalised from "2 of ≤ 3" to any count.
/// When several replies agree, the bytes come from the earliest of them (they may differ in
/// ASCII case). A `quorum` of 0 is treated as 1 (any element is accepted: the first reply's);
/// a `quorum` above `replies.len()` can never be met, so every element is a no-majority one.
/// The header is always the RESP2 `*N` form.
pub fn merge_elementwise(
    replies: &[&[u8]],
    quorum: usize,
    no_majority: NoMajority,
    out: &mut Vec<u8>,
) -> bool {
    out.clear();
    let Some(first) = replies.first() else {
        return false;
    };
    let quorum = quorum.max(1);
    // Element ranges of reply r are ranges[r * n .. (r + 1) * n]; sums likewise.
    let mut ranges = Vec::new();
    let mut scratch = Vec::new();
    if array_elements(first, &mut scratch).is_none() {
        return false;
    }
    let n = scratch.len();
    ranges.reserve(n * replies.len());
    ranges.append(&mut scratch);
    for reply in &replies[1..] {
        if array_elements(reply, &mut scratch).is_none() || scratch.len() != n {
            return false;
        }
        ranges.append(&mut scratch);
    }
    let sums: Vec<u32> = ranges
        .iter()
        .enumerate()
        .map(|(k, r)| checksum(&replies[k / n.max(1)][r.clone()]))
        .collect();

    push_array_header(out, n);
    for i in 0..n {
        // The earliest reply whose element i is shared by at least `quorum` replies.
        let chosen = (0..replies.len()).find(|&r| {
            let sum = sums[r * n + i];
            (0..replies.len())
                .filter(|&o| sums[o * n + i] == sum)
                .count()
                >= quorum
        });
        let r = match (chosen, no_majority) {
            (Some(r), _) => r,
            (None, NoMajority::TakeFirst) => 0,
            (None, NoMajority::Fail) => return false,
        };
        out.extend_from_slice(&replies[r][ranges[r * n + i].clone()]);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The standard CRC-32, bit by bit, as an independent reference.
    fn crc32_reference(bytes: &[u8]) -> u32 {
        let mut crc = u32::MAX;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    fn merged(replies: &[&[u8]], quorum: usize, nm: NoMajority) -> Option<Vec<u8>> {
        let mut out = b"junk".to_vec();
        merge_elementwise(replies, quorum, nm, &mut out).then_some(out)
    }

    #[test]
    fn unordered_checksum_ignores_member_order() {
        let mut sc = Vec::new();
        let a = unordered_checksum(b"*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n", &mut sc);
        let b = unordered_checksum(b"*3\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nb\r\n", &mut sc);
        let set = unordered_checksum(b"~3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nA\r\n", &mut sc);
        let other = unordered_checksum(b"*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nd\r\n", &mut sc);
        let fewer = unordered_checksum(b"*2\r\n$1\r\na\r\n$1\r\nb\r\n", &mut sc);
        assert!(a.is_some() && a == b && a == set);
        assert!(a != other && a != fewer);
        assert_eq!(unordered_checksum(b"+OK\r\n", &mut sc), None);
    }

    #[test]
    fn checksum_known_answers() {
        assert_eq!(checksum(b"123456789"), 0xCBF4_3926);
        assert_eq!(checksum(b""), 0);
        assert_eq!(checksum(b"abc"), 0x3524_41C2);
        assert_eq!(checksum(b"abc"), crc32_reference(b"abc"));
        assert_eq!(checksum(b"ABC"), checksum(b"abc"));
        assert_eq!(checksum(b"$5\r\nHeLLo\r\n"), checksum(b"$5\r\nhello\r\n"));
        assert_ne!(checksum(b"abc"), checksum(b"abd"));
        // Non-letters are untouched by lowercasing.
        let all: Vec<u8> = (0..=255u8).collect();
        let lowered: Vec<u8> = all.iter().map(u8::to_ascii_lowercase).collect();
        assert_eq!(checksum(&all), crc32_reference(&lowered));
    }

    #[test]
    fn checksum_streams() {
        let data = b"*2\r\n$3\r\nFOO\r\n:42\r\n";
        for split in 0..=data.len() {
            let mut c = Checksum::default();
            c.update(&data[..split]);
            c.update(&[]);
            c.update(&data[split..]);
            assert_eq!(c.finish(), checksum(data));
        }
        assert_eq!(Checksum::new().finish(), 0);
    }

    #[test]
    fn merge_three_replies_one_differs() {
        let a: &[u8] = b"*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n";
        let b: &[u8] = b"*3\r\n$1\r\na\r\n$1\r\nX\r\n$1\r\nc\r\n";
        let c: &[u8] = b"*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n";
        for nm in [NoMajority::TakeFirst, NoMajority::Fail] {
            assert_eq!(merged(&[a, b, c], 2, nm).unwrap(), a);
            assert_eq!(merged(&[b, a, c], 2, nm).unwrap(), a);
        }
    }

    #[test]
    fn merge_majority_per_element() {
        // Each reply differs from the others in one place; every element still has 2 of 3.
        let a: &[u8] = b"*3\r\n:1\r\n:2\r\n:3\r\n";
        let b: &[u8] = b"*3\r\n:9\r\n:2\r\n:3\r\n";
        let c: &[u8] = b"*3\r\n:1\r\n:2\r\n:9\r\n";
        let expected = b"*3\r\n:1\r\n:2\r\n:3\r\n";
        assert_eq!(merged(&[a, b, c], 2, NoMajority::Fail).unwrap(), expected);
        assert_eq!(merged(&[b, c, a], 2, NoMajority::Fail).unwrap(), expected);
    }

    #[test]
    fn merge_case_insensitive_takes_earliest_agreeing_bytes() {
        let a: &[u8] = b"*1\r\n$3\r\nxyz\r\n";
        let b: &[u8] = b"*1\r\n$3\r\nFOO\r\n";
        let c: &[u8] = b"*1\r\n$3\r\nfoo\r\n";
        assert_eq!(merged(&[a, b, c], 2, NoMajority::Fail).unwrap(), b);
        assert_eq!(merged(&[a, c, b], 2, NoMajority::Fail).unwrap(), c);
    }

    #[test]
    fn merge_no_majority() {
        let a: &[u8] = b"*2\r\n:1\r\n$1\r\na\r\n";
        let b: &[u8] = b"*2\r\n:1\r\n$1\r\nb\r\n";
        let c: &[u8] = b"*2\r\n:1\r\n$1\r\nc\r\n";
        assert_eq!(merged(&[b, a, c], 2, NoMajority::TakeFirst).unwrap(), b);
        assert_eq!(merged(&[b, a, c], 2, NoMajority::Fail), None);
        // Two replies disagreeing with quorum 2.
        assert_eq!(merged(&[c, a], 2, NoMajority::TakeFirst).unwrap(), c);
        assert_eq!(merged(&[c, a], 2, NoMajority::Fail), None);
        // Quorum above the reply count can never be met.
        assert_eq!(merged(&[a, a], 3, NoMajority::Fail), None);
        assert_eq!(merged(&[a, a], 3, NoMajority::TakeFirst).unwrap(), a);
    }

    #[test]
    fn merge_refuses_bad_shapes() {
        let a: &[u8] = b"*2\r\n:1\r\n:2\r\n";
        let short: &[u8] = b"*1\r\n:1\r\n";
        for nm in [NoMajority::TakeFirst, NoMajority::Fail] {
            assert_eq!(merged(&[a, short, a], 2, nm), None);
            assert_eq!(merged(&[a, a, b"-ERR x\r\n"], 2, nm), None);
            assert_eq!(merged(&[b"+OK\r\n"], 1, nm), None);
            assert_eq!(merged(&[a, b"*2\r\n:1\r\n"], 1, nm), None);
            assert_eq!(merged(&[], 1, nm), None);
        }
    }

    #[test]
    fn merge_quorum_one_and_single_reply() {
        let a: &[u8] = b"*2\r\n:1\r\n$1\r\na\r\n";
        let b: &[u8] = b"*2\r\n:2\r\n$1\r\nb\r\n";
        assert_eq!(merged(&[a, b], 1, NoMajority::Fail).unwrap(), a);
        assert_eq!(merged(&[b, a], 1, NoMajority::Fail).unwrap(), b);
        assert_eq!(merged(&[a], 1, NoMajority::Fail).unwrap(), a);
        assert_eq!(merged(&[a, b], 0, NoMajority::Fail).unwrap(), a);
        assert_eq!(
            merged(&[b"*0\r\n", b"*0\r\n"], 2, NoMajority::Fail).unwrap(),
            b"*0\r\n"
        );
    }

    #[test]
    fn merge_five_replies_quorum_three() {
        let r: [&[u8]; 5] = [
            b"*3\r\n:1\r\n:5\r\n$1\r\nx\r\n",
            b"*3\r\n:2\r\n:5\r\n$1\r\ny\r\n",
            b"*3\r\n:2\r\n:6\r\n$1\r\nz\r\n",
            b"*3\r\n:2\r\n:6\r\n$1\r\nx\r\n",
            b"*3\r\n:1\r\n:5\r\n$1\r\ny\r\n",
        ];
        // Element 0: `:2` x3. Element 1: `:5` x3. Element 2: at most 2 agree.
        assert_eq!(merged(&r, 3, NoMajority::Fail), None);
        assert_eq!(
            merged(&r, 3, NoMajority::TakeFirst).unwrap(),
            b"*3\r\n:2\r\n:5\r\n$1\r\nx\r\n"
        );
        let mut r2 = r;
        r2[2] = b"*3\r\n:2\r\n:6\r\n$1\r\ny\r\n";
        assert_eq!(
            merged(&r2, 3, NoMajority::Fail).unwrap(),
            b"*3\r\n:2\r\n:5\r\n$1\r\ny\r\n"
        );
    }

    #[test]
    fn merge_copies_nested_elements_exactly() {
        let a: &[u8] = b"*2\r\n*2\r\n$1\r\nk\r\n$-1\r\n%1\r\n+a\r\n:1\r\n";
        let b: &[u8] = b"*2\r\n*2\r\n$1\r\nk\r\n$-1\r\n%1\r\n+a\r\n:2\r\n";
        assert_eq!(merged(&[a, b, a], 2, NoMajority::Fail).unwrap(), a);
    }
}
