//! Fuzz target bodies: one `pub fn <target>(data: &[u8])` per reader of untrusted bytes, each
//! asserting an oracle beyond "no panic" (a failed assertion is the fuzzer's finding).
//!
//! ```text
//!   fuzz/fuzz_targets/<target>.rs (cargo +nightly fuzz run <target>) ─┐
//!   runner.rs (#[test]s on stable: corpus + mutations + generation) ──┴─► fuzzing::<target>(data)
//! ```
//!
//! Compiled for this crate's tests and with the `fuzzing` feature (which only the `fuzz/`
//! crate turns on), so release builds carry none of it. Every target reads its input two
//! ways: as raw bytes for the parser, and as the entropy of a [`Gen`] that builds a
//! structured, valid value, encodes it and checks that the parser gives the value back.
//!
//! The oracles shared by the resumable parsers ([`Cuts`]): `consumed` is at least one byte
//! and never more than the chunk, `offset()` counts the bytes of the unfinished message, and
//! the same bytes cut into chunks anywhere give the same messages as fed whole.

mod conf;
mod http;
mod memcache;
mod peer;
mod redis;
mod seeds;

#[cfg(test)]
mod runner;

pub use conf::conf_yaml;
pub use http::stats_http;
pub use memcache::{memcache_reply, memcache_request};
pub use peer::{dnode_frame, gossip};
pub use redis::{redis_reply, redis_request};
pub use seeds::{dns_seeds, florida_seeds};

/// A target body: panics when its oracle fails.
pub type Target = fn(&[u8]);

/// Every target, by the name of its `fuzz/fuzz_targets/<name>.rs` and `fuzz/corpus/<name>/`.
pub const TARGETS: &[(&str, Target)] = &[
    ("redis_request", redis_request),
    ("redis_reply", redis_reply),
    ("memcache_request", memcache_request),
    ("memcache_reply", memcache_reply),
    ("dnode_frame", dnode_frame),
    ("gossip", gossip),
    ("stats_http", stats_http),
    ("florida_seeds", florida_seeds),
    ("dns_seeds", dns_seeds),
    ("conf_yaml", conf_yaml),
];

/// Structured input drawn from the fuzzer's bytes: every draw reads the next byte(s), and an
/// exhausted input reads as zeros (so every input builds some value, the small ones first).
pub struct Gen<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Gen<'a> {
    pub fn new(data: &'a [u8]) -> Gen<'a> {
        Gen { data, pos: 0 }
    }

    pub fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    pub fn bool(&mut self) -> bool {
        self.byte() & 1 == 1
    }

    /// A number in `0..n` (`n >= 1`), from one or two bytes.
    pub fn below(&mut self, n: usize) -> usize {
        if n <= 256 {
            usize::from(self.byte()) % n
        } else {
            (usize::from(self.byte()) << 8 | usize::from(self.byte())) % n
        }
    }

    pub fn u64(&mut self) -> u64 {
        (0..8).fold(0u64, |v, _| v << 8 | u64::from(self.byte()))
    }

    /// One of `items` (not empty).
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// Up to `max` bytes, each drawn from `alphabet` (any byte when it is empty).
    pub fn bytes(&mut self, max: usize, alphabet: &[u8]) -> Vec<u8> {
        let n = self.below(max + 1);
        (0..n)
            .map(|_| {
                if alphabet.is_empty() {
                    self.byte()
                } else {
                    self.pick(alphabet)
                }
            })
            .collect()
    }

    /// A word of 1..=`max` bytes of [`GRAPHIC`] without the `banned` ones.
    pub fn word(&mut self, max: usize, banned: &[u8]) -> String {
        let mut w: Vec<u8> = self
            .bytes(max, GRAPHIC)
            .into_iter()
            .filter(|c| !banned.contains(c))
            .collect();
        if w.is_empty() {
            w.push(b'w');
        }
        String::from_utf8(w).unwrap_or_default()
    }

    /// Whether every byte of the input has been drawn.
    pub fn exhausted(&self) -> bool {
        self.pos >= self.data.len()
    }
}

/// Printable bytes without space: the alphabet of tokens, keys and names.
pub const GRAPHIC: &[u8] =
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-:.{}#@!$%&*+/=?^|~";

/// The ways a stream of `len` bytes is cut into chunks for the split oracle: every single cut
/// when the stream is short (else a sample of them), one byte at a time, and a few cuts at
/// many places derived from `seed`. Each entry is a sorted list of cut offsets.
pub struct Cuts;

impl Cuts {
    pub fn of(len: usize, seed: u64) -> Vec<Vec<usize>> {
        let mut out = Vec::new();
        if len < 2 {
            return out;
        }
        let mut rng = seed | 1;
        let mut next = |n: usize| {
            // xorshift64
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng % n as u64) as usize
        };
        if len <= 96 {
            out.extend((1..len).map(|c| vec![c]));
        } else {
            out.extend((0..48).map(|_| vec![1 + next(len - 1)]));
            out.push(vec![1]);
            out.push(vec![len - 1]);
        }
        if len <= 4096 {
            out.push((1..len).collect());
        }
        for _ in 0..3 {
            let k = 1 + next(len.min(64));
            let mut c: Vec<usize> = (0..k).map(|_| 1 + next(len - 1)).collect();
            c.sort_unstable();
            c.dedup();
            out.push(c);
        }
        out
    }

    /// `data` cut at `cuts` (sorted, each inside `1..data.len()`).
    pub fn chunks<'a>(data: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
        let mut out = Vec::with_capacity(cuts.len() + 1);
        let mut at = 0;
        for &c in cuts {
            if c > at && c < data.len() {
                out.push(&data[at..c]);
                at = c;
            }
        }
        out.push(&data[at..]);
        out
    }
}

/// A seed for [`Cuts::of`] from the input itself (FNV-1a), so a finding replays exactly.
pub fn seed_of(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Asserts that feeding `data` whole and cut every way [`Cuts::of`] lists gives the same
/// outcome; `run` feeds the chunks to a fresh parser and returns what it found.
pub fn assert_split_invariant<T: PartialEq + std::fmt::Debug>(
    data: &[u8],
    run: impl Fn(&[&[u8]]) -> T,
) -> T {
    let whole = run(&[data]);
    for cuts in Cuts::of(data.len(), seed_of(data)) {
        let split = run(&Cuts::chunks(data, &cuts));
        assert_eq!(split, whole, "fed cut at {cuts:?} != fed whole");
    }
    whole
}

/// A resumable parser of the [`crate::proto`] contract, as [`drive`] feeds it.
pub(crate) trait Stream {
    type Info: Default;
    fn feed(&mut self, chunk: &[u8], info: &mut Self::Info) -> crate::proto::Parse;
    fn offset(&self) -> usize;
    /// A request parser's `discard() == Drop` (reply parsers never drop).
    fn dropping(&self) -> bool {
        false
    }
}

macro_rules! stream {
    ($($p:ty => $info:ty, $drop:expr;)*) => {
        $(impl Stream for $p {
            type Info = $info;
            fn feed(&mut self, chunk: &[u8], info: &mut $info) -> crate::proto::Parse {
                <$p>::feed(self, chunk, info)
            }
            fn offset(&self) -> usize {
                <$p>::offset(self)
            }
            fn dropping(&self) -> bool {
                let f: fn(&$p) -> bool = $drop;
                f(self)
            }
        })*
    };
}

stream! {
    crate::proto::redis::ReqParser => crate::proto::ReqInfo, |p| p.discard() == crate::proto::Discard::Drop;
    crate::proto::memcache::ReqParser => crate::proto::ReqInfo, |p| p.discard() == crate::proto::Discard::Drop;
    crate::proto::redis::RspParser => crate::proto::RspInfo, |_| false;
    crate::proto::memcache::RspParser => crate::proto::RspInfo, |_| false;
}

/// Feeds `chunks` to `p` as one stream, asserting the feed contract on every call: `Done`
/// consumes 1..=chunk bytes and leaves `offset() == 0` and nothing dropped; `Incomplete`
/// leaves `offset()` = the bytes of the unfinished message. `done(start, len, info,
/// dropped)` sees each message (`dropped`: the parser said `Drop` while reading it) and
/// returns false to end the stream (a broken reply closes the connection). Returns the
/// bytes of an unfinished message (0 when ended early).
pub(crate) fn drive<P: Stream>(
    mut p: P,
    chunks: &[&[u8]],
    mut done: impl FnMut(usize, usize, &P::Info, bool) -> bool,
) -> usize {
    use crate::proto::Parse;
    let mut info = P::Info::default();
    let (mut pos, mut start, mut dropped) = (0usize, 0usize, false);
    for chunk in chunks {
        let mut c = *chunk;
        while !c.is_empty() {
            match p.feed(c, &mut info) {
                Parse::Done { consumed } => {
                    assert!((1..=c.len()).contains(&consumed), "consumed {consumed}");
                    pos += consumed;
                    c = &c[consumed..];
                    assert_eq!(p.offset(), 0, "offset after Done");
                    assert!(!p.dropping(), "Drop after Done");
                    if !done(start, pos - start, &info, dropped) {
                        return 0;
                    }
                    start = pos;
                    dropped = false;
                }
                Parse::Incomplete => {
                    pos += c.len();
                    assert_eq!(p.offset(), pos - start, "offset of an unfinished message");
                    dropped |= p.dropping();
                    break;
                }
            }
        }
    }
    pos - start
}

/// One request as a request parser delimited it (spans are message offsets): the facts of
/// its [`ReqInfo`](crate::proto::ReqInfo), which has no `PartialEq`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Req {
    pub start: usize,
    pub len: usize,
    pub cmd: u16,
    pub nargs: u32,
    pub args: Vec<crate::proto::Span>,
    pub keys: Vec<crate::proto::Span>,
    pub vals: Vec<crate::proto::Span>,
    pub noreply: bool,
    pub inline: bool,
    pub error: Option<crate::proto::ReqError>,
}

/// Feeds `chunks` to the request parser `p` as one stream ([`drive`]): the requests found
/// and the bytes of an unfinished one. A request the parser said to drop has an error.
pub(crate) fn requests<P: Stream<Info = crate::proto::ReqInfo>>(
    p: P,
    chunks: &[&[u8]],
) -> (Vec<Req>, usize) {
    let mut out = Vec::new();
    let pending = drive(p, chunks, |start, len, info, dropped| {
        assert!(
            !dropped || info.error.is_some(),
            "a dropped request without an error"
        );
        let n = (info.nargs as usize).min(crate::proto::ARGS_MAX);
        out.push(Req {
            start,
            len,
            cmd: info.cmd,
            nargs: info.nargs,
            args: info.args[..n].to_vec(),
            keys: info.keys.clone(),
            vals: info.vals.clone(),
            noreply: info.noreply,
            inline: info.inline,
            error: info.error.clone(),
        });
        true
    });
    (out, pending)
}
