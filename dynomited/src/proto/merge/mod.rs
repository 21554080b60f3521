//! Comparing and combining replies from several nodes (SPEC §4.5 "Reconcile", §8.2, §8.6).
//!
//! Everything here is pure and works on complete, contiguous replies (the runtime gathers a
//! reply's mbufs before calling in). Nothing panics on malformed input: functions that parse
//! report failure with `None`, `false` or `Err(fragment index)` so the runtime can pick the
//! client-visible error. RESP is read with the one walker of
//! [`crate::proto::redis::walk`], the one [`crate::client`] uses too.
//!
//! - [`Checksum`] / [`checksum`]: Dynomite's case-insensitive reply fingerprint.
//! - [`array_elements`], [`integer`], [`is_error`]: the few reply facts the merges need.
//! - [`merge_elementwise`]: the quorum reconcile of array replies, element by element;
//!   [`unordered_checksum`]: the fingerprint of a set reply, whatever its members' order.
//! - [`coalesce_mget`], [`coalesce_sum`], [`coalesce_ok`]: reassemble a split Redis
//!   multi-key command.
//! - [`merge_memcache_get`]: reassemble a split memcached `get`/`gets`.
//!
//! Invalid *arguments* (as opposed to invalid replies), such as a fragment index past the end
//! of `frags`, are a caller bug; functions returning `Err(index)` then return
//! `Err(frags.len())`, an index no fragment has.
//!
//! Files: `reply.rs` (the reply facts, and the bytes the merges write), `quorum.rs` (the
//! quorum side: checksums, element-wise merge), `split.rs` (the split side: MGET, sum, OK),
//! `memcache.rs` (the memcached multi-get), `tests.rs` (random input against every merge).

mod memcache;
mod quorum;
mod reply;
mod split;

#[cfg(test)]
mod tests;

pub use memcache::merge_memcache_get;
pub use quorum::{checksum, merge_elementwise, unordered_checksum, Checksum, NoMajority};
pub use reply::{array_elements, integer, is_error};
pub use split::{coalesce_mget, coalesce_ok, coalesce_sum};
