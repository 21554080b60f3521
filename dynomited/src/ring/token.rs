//! Tokens (SPEC §3.1) and the two token generators operators meet (SPEC §3.5, C.2, §1.4).
//!
//! A token is a `u32` position on the ring; Dynomite's `{signum, mag[], len}` struct only ever
//! holds one 32-bit word, and its order is plain unsigned order for every value it can hold.
//!
//! Generators:
//! - [`netflix_token`]: dynomite-manager's `initialToken(size, position, offset)` =
//!   `((MAX / size) * position + offset) mod MAX` with `MAX = 2^32 − 1` (not 2^32) and integer
//!   division. Slot *i* of every rack gets the same token, so same-slot nodes replicate each
//!   other. With three nodes per rack: 1383429731, 2815085496, 4246741261.
//!   dynomite-manager's 4-argument `createToken(slot, rac_count, rac_size, region)` is
//!   `netflix_token(slot, rac_count * rac_size, NETFLIX_OFFSET)` (unused at run time).
//! - [`even_token`]: `scripts/dynomite/generate_yamls.py`'s `(MAX // n) * i` for `i = 1..=n`
//!   (no offset). With three nodes: 1431655765, 2863311530, 4294967295.

/// A position on the ring; a node with token `T` owns the hashes in `(previous token, T]`.
pub type Token = u32;

/// dynomite-manager's `MAXIMUM_TOKEN`, `2^32 − 1`; also the modulus of [`netflix_token`].
pub const MAX_TOKEN: u64 = 4_294_967_295;

/// dynomite-manager's region offset, `|String.hashCode("etimonyD")|`, the same for every DC.
pub const NETFLIX_OFFSET: u64 = 1_383_429_731;

/// Parse one token: 1 to 10 decimal digits, `0..=4294967295`. Dynomite wraps or garbles
/// out-of-range values and accepts a leading `-`; we reject them.
pub fn parse_token(s: &str) -> Result<Token, String> {
    if s.is_empty() {
        return Err("a token cannot be empty; a token is decimal digits 0..4294967295".into());
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "\"{s}\" is not a valid token; a token is decimal digits 0..4294967295"
        ));
    }
    s.parse::<u32>()
        .map_err(|_| format!("\"{s}\" is out of range; a token is decimal digits 0..4294967295"))
}

/// dynomite-manager's token for instance `slot` (0-based) of a rack of `n` instances:
/// `((MAX_TOKEN / n) * slot + offset) mod MAX_TOKEN`. Pass [`NETFLIX_OFFSET`] as `offset` for
/// the tokens dynomite-manager hands out. `n = 0` is treated as 1.
pub fn netflix_token(slot: u64, n: u64, offset: u64) -> Token {
    let n = u128::from(n.max(1));
    let max = u128::from(MAX_TOKEN);
    let t = ((max / n) * u128::from(slot) + u128::from(offset)) % max;
    // `t < MAX_TOKEN <= u32::MAX`.
    t as Token
}

/// `generate_yamls.py`'s token for node `slot` (0-based) of `n`: `(MAX_TOKEN / n) * (slot + 1)`,
/// so the last node gets `MAX_TOKEN` when `n` divides it. `n = 0` is treated as 1; a result
/// beyond `u32` (slot ≥ n) wraps modulo 2^32.
pub fn even_token(slot: u64, n: u64) -> Token {
    let step = MAX_TOKEN / n.max(1);
    step.wrapping_mul(slot.wrapping_add(1)) as Token
}
