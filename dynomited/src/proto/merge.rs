//! Comparing and combining replies from several nodes (SPEC §4.5 "Reconcile", §8.2, §8.6).
//!
//! Everything here is pure and works on complete, contiguous replies (the runtime gathers a
//! reply's mbufs before calling in). Nothing panics on malformed input: functions that parse
//! report failure with `None`, `false` or `Err(fragment index)` so the runtime can pick the
//! client-visible error.
//!
//! - [`Checksum`] / [`checksum`]: Dynomite's case-insensitive reply fingerprint.
//! - [`array_elements`], [`integer`], [`is_error`]: the few reply facts the merges need.
//! - [`merge_elementwise`]: the quorum reconcile of array replies, element by element.
//! - [`coalesce_mget`], [`coalesce_sum`], [`coalesce_ok`]: reassemble a split Redis
//!   multi-key command.
//! - [`merge_memcache_get`]: reassemble a split memcached `get`/`gets`.
//!
//! Invalid *arguments* (as opposed to invalid replies), such as a fragment index past the end
//! of `frags`, are a caller bug; functions returning `Err(index)` then return
//! `Err(frags.len())`, an index no fragment has.

use std::ops::Range;

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

// ---------------------------------------------------------------------------------------------
// RESP scanning
// ---------------------------------------------------------------------------------------------

/// Deepest aggregate nesting [`array_elements`] follows inside one element; deeper is refused
/// (no real reply nests this far, and the bound keeps the walk's state fixed-size).
const MAX_DEPTH: usize = 64;

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

/// A RESP integer: optional `-`, then at least one digit, within i64.
fn parse_i64(line: &[u8]) -> Option<i64> {
    let (neg, digits) = match line.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, line),
    };
    if digits.is_empty() {
        return None;
    }
    // Accumulate towards the sign so i64::MIN is representable.
    digits.iter().try_fold(0i64, |n, &d| {
        if !d.is_ascii_digit() {
            return None;
        }
        let d = i64::from(d - b'0');
        let n = n.checked_mul(10)?;
        if neg {
            n.checked_sub(d)
        } else {
            n.checked_add(d)
        }
    })
}

/// A RESP length or count: `-1` gives `Some(None)` (null), digits give `Some(Some(n))`;
/// anything else (other negatives, signs, empty, non-digits) is `None`.
fn parse_len(line: &[u8]) -> Option<Option<u64>> {
    if line == b"-1" {
        return Some(None);
    }
    parse_u64(line).map(Some)
}

/// One step of the RESP walk: a value header (and, for scalars, the whole value) at a position.
enum Step {
    /// A complete scalar (or null aggregate) ending at this offset.
    Value(usize),
    /// An aggregate header ending at `next`, followed by `items` values. `attr`: an attribute,
    /// which annotates the value after it instead of being a value itself.
    Aggregate { items: u64, attr: bool, next: usize },
}

/// Reads the value header at `pos` (and the whole value if it is a scalar).
fn step(buf: &[u8], pos: usize) -> Option<Step> {
    let ty = *buf.get(pos)?;
    let (line, next) = line_at(buf, pos + 1)?;
    let ok = match ty {
        b'+' | b'-' | b',' => true,
        b':' => parse_i64(line).is_some(),
        b'(' => {
            let digits = line.strip_prefix(b"-").unwrap_or(line);
            !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
        }
        b'_' => line.is_empty(),
        b'#' => line == b"t" || line == b"f",
        b'$' | b'!' | b'=' => {
            let len = match parse_len(line)? {
                None if ty == b'$' => return Some(Step::Value(next)),
                None => return None,
                Some(len) => usize::try_from(len).ok()?,
            };
            let data_end = next.checked_add(len)?;
            let end = data_end.checked_add(2)?;
            if buf.get(data_end..end)? != b"\r\n" {
                return None;
            }
            // Verbatim strings start with a 3-byte format and a colon (`txt:`).
            if ty == b'=' && (len < 4 || buf[next + 3] != b':') {
                return None;
            }
            return Some(Step::Value(end));
        }
        b'*' | b'~' | b'%' | b'|' => {
            let n = match parse_len(line)? {
                None if ty == b'*' => return Some(Step::Value(next)),
                None => return None,
                Some(n) => n,
            };
            let items = if ty == b'%' || ty == b'|' {
                n.checked_mul(2)?
            } else {
                n
            };
            // Every value takes at least 3 bytes; a count the rest of the input cannot hold is
            // refused now rather than walked down.
            if items > (buf.len() - next) as u64 {
                return None;
            }
            return Some(Step::Aggregate {
                items,
                attr: ty == b'|',
                next,
            });
        }
        _ => false,
    };
    ok.then_some(Step::Value(next))
}

/// Open aggregate during [`skip_value`]: values still to read, and whether it is an attribute.
#[derive(Clone, Copy)]
struct Frame {
    left: u64,
    attr: bool,
}

/// The end offset of the one RESP value starting at `pos` (attributes included with the value
/// they annotate). Iterative, with at most [`MAX_DEPTH`] open aggregates.
fn skip_value(buf: &[u8], pos: usize) -> Option<usize> {
    // Fast path: most elements (MGET bulks, integers) are scalars.
    let first = step(buf, pos)?;
    if let Step::Value(end) = first {
        return Some(end);
    }
    let mut stack = [Frame {
        left: 0,
        attr: false,
    }; MAX_DEPTH];
    let mut depth = 0usize;
    let mut pending = Some(first);
    let mut pos = pos;
    loop {
        let s = match pending.take() {
            Some(s) => s,
            None => step(buf, pos)?,
        };
        match s {
            Step::Aggregate { items, attr, next } => {
                pos = next;
                if items > 0 {
                    if depth == MAX_DEPTH {
                        return None;
                    }
                    stack[depth] = Frame { left: items, attr };
                    depth += 1;
                    continue;
                }
                if attr {
                    // An empty attribute: the annotated value still follows.
                    continue;
                }
                // An empty aggregate is a complete value: fall through.
            }
            Step::Value(end) => pos = end,
        }
        // A value completed at the current level; close every aggregate it completes.
        loop {
            if depth == 0 {
                return Some(pos);
            }
            let top = &mut stack[depth - 1];
            top.left -= 1;
            if top.left > 0 {
                break;
            }
            let attr = top.attr;
            depth -= 1;
            if attr {
                // The attribute is done; the value it annotates comes next at this level.
                break;
            }
        }
    }
}

/// Byte ranges (offsets into `reply`) of the top-level elements of a RESP array reply
/// (`*N\r\n` then N elements; RESP3 also `~N` set and `>N` push are NOT arrays here: only `*`).
/// Each element may be any RESP2 or RESP3 value, nested to any depth (`*`, `%` map = 2N values,
/// `~` set, `|` attribute then the value it annotates counts as part of the same element,
/// `$` bulk incl. `$-1`, `+`, `-`, `:`, `_`, `#`, `,`, `(`, `!` blob error, `=` verbatim).
/// Returns None if `reply` is not exactly one complete, well-formed array (nothing may follow
/// it), or it is `*-1`. `out` is cleared first.
///
/// Nesting inside one element is followed up to 64 aggregates deep; deeper gives None.
/// Validation is structural: lengths, counts, CRLFs, integer / boolean / null syntax, and the
/// `xxx:` prefix of verbatim strings; double (`,`) contents are not checked.
pub fn array_elements(reply: &[u8], out: &mut Vec<Range<usize>>) -> Option<()> {
    out.clear();
    if reply.first() != Some(&b'*') {
        return None;
    }
    let (line, mut pos) = line_at(reply, 1)?;
    let n = parse_len(line)??;
    if n > (reply.len() - pos) as u64 {
        return None;
    }
    for _ in 0..n {
        let end = skip_value(reply, pos)?;
        out.push(pos..end);
        pos = end;
    }
    (pos == reply.len()).then_some(())
}

/// The value of an integer reply `:N\r\n` (exactly one reply, nothing after it).
pub fn integer(reply: &[u8]) -> Option<i64> {
    let body = reply.strip_prefix(b":")?.strip_suffix(b"\r\n")?;
    parse_i64(body)
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

// ---------------------------------------------------------------------------------------------
// Output helpers
// ---------------------------------------------------------------------------------------------

/// Appends `n` in decimal.
fn push_u64(out: &mut Vec<u8>, mut n: u64) {
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
fn push_i64(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    push_u64(out, n.unsigned_abs());
}

/// Appends the RESP2 array header `*<n>\r\n`.
fn push_array_header(out: &mut Vec<u8>, n: usize) {
    out.push(b'*');
    push_u64(out, n as u64);
    out.extend_from_slice(b"\r\n");
}

// ---------------------------------------------------------------------------------------------
// Quorum reconcile
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Redis multi-key coalesce
// ---------------------------------------------------------------------------------------------

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
    placement: &[(u16, u16)],
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
        *slot = (*slot).max(usize::from(p) + 1);
    }
    if let Some(f) = (0..frags.len()).find(|&f| starts[f + 1] - starts[f] < needed[f]) {
        return Err(f);
    }
    push_array_header(out, placement.len());
    for &(f, p) in placement {
        let f = usize::from(f);
        out.extend_from_slice(&frags[f][ranges[starts[f] + usize::from(p)].clone()]);
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

// ---------------------------------------------------------------------------------------------
// Memcached multi-get
// ---------------------------------------------------------------------------------------------

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
/// `frag_of_key[i]` has key == keys[i], copy it and advance. At the end every fragment must be
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

/// An order-insensitive fingerprint of a set reply (a RESP2 array or a RESP3 `~` set): the
/// element count plus the wrapping sum of the elements' [`checksum`]s. Replicas list a large
/// set's members in different orders (each redis-server seeds its hash tables differently);
/// this lets them agree, where Dynomite rewrites `SMEMBERS` into `SORT ... ALPHA` instead.
/// `None` when `reply` is not such a reply.
pub fn unordered_checksum(reply: &[u8], scratch: &mut Vec<Range<usize>>) -> Option<u32> {
    let owned;
    let r = if reply.first() == Some(&b'~') {
        let mut v = reply.to_vec();
        v[0] = b'*';
        owned = v;
        &owned[..]
    } else {
        reply
    };
    array_elements(r, scratch)?;
    let mut sum = scratch.len() as u32;
    for e in scratch.iter() {
        sum = sum.wrapping_add(checksum(&r[e.clone()]));
    }
    Some(sum)
}

#[cfg(test)]
mod tests {
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

    fn elements(reply: &[u8]) -> Option<Vec<&[u8]>> {
        let mut out = Vec::new();
        array_elements(reply, &mut out)?;
        Some(out.into_iter().map(|r| &reply[r]).collect())
    }

    fn merged(replies: &[&[u8]], quorum: usize, nm: NoMajority) -> Option<Vec<u8>> {
        let mut out = b"junk".to_vec();
        merge_elementwise(replies, quorum, nm, &mut out).then_some(out)
    }

    // --- checksum -----------------------------------------------------------------------------

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

    // --- array_elements -----------------------------------------------------------------------

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

    // --- merge_elementwise --------------------------------------------------------------------

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

    // --- coalesce -----------------------------------------------------------------------------

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

    // --- memcached ----------------------------------------------------------------------------

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

    // --- never panic --------------------------------------------------------------------------

    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// Random bytes biased towards protocol syntax, or a mutation of a valid reply.
    fn random_reply(rng: &mut XorShift, seeds: &[&[u8]]) -> Vec<u8> {
        const ALPHABET: &[u8] = b"*$%~|>+-:_#,(!=\r\n0123456789-1 VALUEND abkx";
        let mut v = if rng.below(2) == 0 {
            seeds[rng.below(seeds.len())].to_vec()
        } else {
            (0..rng.below(40))
                .map(|_| ALPHABET[rng.below(ALPHABET.len())])
                .collect()
        };
        for _ in 0..rng.below(4) {
            match rng.below(4) {
                0 if !v.is_empty() => {
                    let i = rng.below(v.len());
                    v[i] = ALPHABET[rng.below(ALPHABET.len())];
                }
                1 if !v.is_empty() => v.truncate(rng.below(v.len())),
                2 => {
                    let i = rng.below(v.len() + 1);
                    v.insert(i, ALPHABET[rng.below(ALPHABET.len())]);
                }
                _ => {
                    let s = seeds[rng.below(seeds.len())];
                    v.extend_from_slice(&s[..rng.below(s.len() + 1)]);
                }
            }
        }
        v
    }

    #[test]
    fn random_inputs_never_panic() {
        let resp_seeds: &[&[u8]] = &[
            b"*2\r\n$1\r\na\r\n$-1\r\n",
            b"*1\r\n%1\r\n+k\r\n*2\r\n:1\r\n~1\r\n#t\r\n",
            b"*2\r\n|1\r\n+a\r\n:1\r\n=6\r\ntxt:ab\r\n!1\r\nE\r\n",
            b"*0\r\n",
            b":12\r\n",
        ];
        let mc_seeds: &[&[u8]] = &[
            b"VALUE a 0 1\r\n1\r\nEND\r\n",
            b"VALUE b 1 2 3\r\nxy\r\nVALUE a 0 0\r\n\r\nEND\r\n",
            b"END\r\n",
            b"SERVER_ERROR x\r\n",
        ];
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let mut ranges = Vec::new();
        let mut out = Vec::new();
        let keys: [&[u8]; 4] = [b"a", b"b", b"a", b"k"];
        let (mut arrays, mut merges) = (0, 0);
        for _ in 0..20_000 {
            let r = random_reply(&mut rng, resp_seeds);
            if array_elements(&r, &mut ranges).is_some() {
                arrays += 1;
                // Elements tile the reply after the header.
                let mut at = r.len();
                for range in ranges.iter().rev() {
                    assert_eq!(range.end, at);
                    at = range.start;
                }
            }
            let _ = integer(&r);
            let r2 = random_reply(&mut rng, resp_seeds);
            let _ = merge_elementwise(&[&r, &r2, &r], 2, NoMajority::Fail, &mut out);
            let _ = coalesce_mget(&[(0, 0), (1, 1), (0, 2)], &[&r, &r2], &mut out);
            let _ = coalesce_sum(&[&r, &r2], &mut out);

            let f0 = random_reply(&mut rng, mc_seeds);
            let f1 = random_reply(&mut rng, mc_seeds);
            let frag_of_key: Vec<u16> = (0..keys.len()).map(|_| rng.below(2) as u16).collect();
            if merge_memcache_get(&keys, &frag_of_key, &[&f0, &f1], &mut out).is_ok() {
                assert!(out.ends_with(b"END\r\n"));
                merges += 1;
            }
        }
        // The generator also reaches the success paths, not only the rejections.
        assert!(arrays > 100 && merges > 20, "{arrays} {merges}");
    }
}
