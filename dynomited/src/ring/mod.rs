//! Key placement: hash functions, tokens, and the dc → rack → node topology with one token
//! ring per rack (SPEC §3). Pure: no I/O.
//!
//! ```text
//!  request key ──routing_key(hash_tag)──▶ bytes ──hash(kind)──▶ u32
//!      │ empty? ──▶ the local node (Dynomite's quirk, §3.3)
//!      ▼
//!  for each rack that must see it: rack.continuum.owner(h) ──▶ NodeIdx ──▶ topology.nodes[i]
//! ```
//!
//! Placement is bit-identical to Dynomite: the same hash functions ([`hashkit`]), the same
//! hash tags ([`routing_key`]), the same `(previous, token]` ownership with wrap-around
//! ([`Continuum::owner`]), and the same token formulas ([`netflix_token`], [`even_token`]).

mod continuum;
pub mod hashkit;
mod md5;
mod token;
mod topology;

#[cfg(test)]
mod known_answers;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod topology_tests;

pub use continuum::Continuum;
pub use hashkit::hash;
pub use token::{even_token, netflix_token, parse_token, Token, MAX_TOKEN, NETFLIX_OFFSET};
pub use topology::{Dc, Node, Rack, Topology};

use crate::conf::HashKind;

/// An index into [`Topology::nodes`]: 0 is the local node, then the `dyn_seeds` in config
/// order, then nodes added at run time. Stable for the life of the topology.
pub type NodeIdx = usize;

/// The bytes of `key` that are hashed (§3.3). With a hash tag `[X, Y]`: the bytes strictly
/// between the first `X` and the first `Y` after it, when both exist (possibly none, as in
/// `a{}b`); otherwise, or without a tag, the whole key.
pub fn routing_key(key: &[u8], tag: Option<[u8; 2]>) -> &[u8] {
    let Some([open, close]) = tag else {
        return key;
    };
    let Some(start) = key.iter().position(|&b| b == open) else {
        return key;
    };
    let inside = &key[start + 1..];
    match inside.iter().position(|&b| b == close) {
        Some(end) => &inside[..end],
        None => key,
    }
}

/// The token of a request key: `hash(kind, routing_key(key, tag))`, or `None` when the routing
/// key is empty (an empty key, or an empty tagged part like `a{}b`). Dynomite sends such
/// requests to the local node whatever the rack (`dnode_peer_for_key_on_rack` returns peer
/// index 0), and the caller should do the same.
pub fn hash_tagged(kind: HashKind, key: &[u8], tag: Option<[u8; 2]>) -> Option<u32> {
    let routed = routing_key(key, tag);
    if routed.is_empty() {
        None
    } else {
        Some(hash(kind, routed))
    }
}
