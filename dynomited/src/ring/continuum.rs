//! One rack's ring: its nodes' tokens in ascending order, and who owns a hash (SPEC §3.4).
//!
//! ```text
//!        0 ─────────── t0 ─────────── t1 ─────────── t2 ─────────── 2^32−1
//!   owner:  node of t0  │  node of t1  │  node of t2  │  node of t0 (wrap-around)
//!                       ▲ inclusive    ▲ inclusive    ▲ inclusive
//! ```
//!
//! A node with token `T` owns `(previous token, T]`; the smallest token also owns everything
//! above the largest token and everything ≤ itself (`vnode_dispatch`). Two nodes of one rack
//! with the same token: the one added first owns the range, the other owns nothing (Dynomite's
//! `qsort` leaves this to chance; we make it deterministic).

use super::token::Token;
use super::NodeIdx;

/// One rack's `(token, node)` entries, sorted by token; equal tokens in insertion order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Continuum {
    entries: Vec<(Token, NodeIdx)>,
}

impl Continuum {
    /// An empty ring (owns nothing).
    pub fn new() -> Continuum {
        Continuum::default()
    }

    /// A ring from entries in any order; equal tokens keep their order in `entries`.
    pub fn from_entries(entries: impl IntoIterator<Item = (Token, NodeIdx)>) -> Continuum {
        let mut entries: Vec<_> = entries.into_iter().collect();
        entries.sort_by_key(|&(token, _)| token); // stable: first added wins a tie
        Continuum { entries }
    }

    /// Add a node's token, after any entries with the same token.
    pub fn insert(&mut self, token: Token, node: NodeIdx) {
        let at = self.entries.partition_point(|&(t, _)| t <= token);
        self.entries.insert(at, (token, node));
    }

    /// The sorted entries.
    pub fn entries(&self) -> &[(Token, NodeIdx)] {
        &self.entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The node that owns hash `h` (`vnode_dispatch`): if `h <= min_token` or `h > max_token`,
    /// the node with the smallest token; else the node with the smallest token ≥ `h`. `None`
    /// only for an empty ring.
    pub fn owner(&self, h: u32) -> Option<NodeIdx> {
        let (&(min, first), &(max, _)) = (self.entries.first()?, self.entries.last()?);
        if h <= min || h > max {
            return Some(first);
        }
        // min < h <= max, so some token ≥ h exists; the first of equal tokens wins.
        let at = self.entries.partition_point(|&(t, _)| t < h);
        Some(self.entries[at].1)
    }

    /// Every owned range as `(exclusive start, inclusive end, node)`, in token order: for each
    /// distinct token `T` (its first-added node), `(previous distinct token, T]`; the first
    /// range is the wrap-around one, `(max token, min token]`, which passes through 2^32−1 and 0.
    /// A ring with one distinct token gives `(T, T]`, meaning the whole ring. Nodes shadowed by
    /// an equal token own nothing and are not listed.
    pub fn ranges(&self) -> Vec<(u32, u32, NodeIdx)> {
        let mut distinct: Vec<(Token, NodeIdx)> = Vec::with_capacity(self.entries.len());
        for &(token, node) in &self.entries {
            if distinct.last().map(|&(t, _)| t) != Some(token) {
                distinct.push((token, node));
            }
        }
        let Some(&(max, _)) = distinct.last() else {
            return Vec::new();
        };
        let mut prev = max;
        distinct
            .into_iter()
            .map(|(token, node)| {
                let range = (prev, token, node);
                prev = token;
                range
            })
            .collect()
    }
}
