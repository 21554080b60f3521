//! The key hash functions of Dynomite's `hashkit` (SPEC §3.2), bit for bit, quirks included.
//!
//! Every function maps a key to the 32-bit token it is placed by. They reproduce Dynomite v0.8
//! as compiled on x86-64 (little-endian, `char` signed), including what it does oddly:
//!
//! | function | quirk kept |
//! |---|---|
//! | [`murmur`] (default) | MurmurHash2 with seed `0xdeadbeef * len` (wrapping) |
//! | [`one_at_a_time`] | bytes ≥ 0x80 are read as *signed* `char` and sign-extended |
//! | [`crc16`] | XMODEM table, but the accumulator is 32 bits and never masked to 16 |
//! | [`crc32`] | only 15 bits of the CRC: `((~crc) >> 16) & 0x7fff` |
//! | [`fnv1a_64`] | computed in 32 bits with the 64-bit offset and prime truncated |
//! | [`hsieh`], [`jenkins`] | an empty key hashes to 0 (Dynomite leaves its zeroed token unset) |
//! | [`murmur3`] | a stub in Dynomite (garbage token); here a real MurmurHash3 x86_32, seed 0 |
//!
//! The known answers in `known_answers/` come from an independent C model (`hashkit_ref.c`)
//! and Python's standard library, see its README.

use super::md5;
use crate::conf::HashKind;

/// The token of `key` under `kind`.
pub fn hash(kind: HashKind, key: &[u8]) -> u32 {
    match kind {
        HashKind::OneAtATime => one_at_a_time(key),
        HashKind::Md5 => md5(key),
        HashKind::Crc16 => crc16(key),
        HashKind::Crc32 => crc32(key),
        HashKind::Crc32a => crc32a(key),
        HashKind::Fnv1_64 => fnv1_64(key),
        HashKind::Fnv1a_64 => fnv1a_64(key),
        HashKind::Fnv1_32 => fnv1_32(key),
        HashKind::Fnv1a_32 => fnv1a_32(key),
        HashKind::Hsieh => hsieh(key),
        HashKind::Murmur => murmur(key),
        HashKind::Jenkins => jenkins(key),
        HashKind::Murmur3 => murmur3(key),
    }
}

/// A key byte as C's `(uint32_t)(char)b` on a signed-`char` platform.
#[inline]
fn signed_byte(b: u8) -> u32 {
    b as i8 as i32 as u32
}

/// Little-endian u32 from 4 bytes (the C code's native unaligned load on x86).
#[inline]
fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// Little-endian u32 from up to 4 bytes, missing high bytes zero.
#[inline]
fn le32_partial(b: &[u8]) -> u32 {
    b.iter()
        .enumerate()
        .fold(0, |acc, (i, &byte)| acc | (u32::from(byte) << (8 * i)))
}

/// Jenkins one-at-a-time over signed bytes.
pub fn one_at_a_time(key: &[u8]) -> u32 {
    let mut h: u32 = 0;
    for &b in key {
        h = h.wrapping_add(signed_byte(b));
        h = h.wrapping_add(h << 10);
        h ^= h >> 6;
    }
    h = h.wrapping_add(h << 3);
    h ^= h >> 11;
    h.wrapping_add(h << 15)
}

/// Little-endian u32 of the first four bytes of the key's MD5 digest.
pub fn md5(key: &[u8]) -> u32 {
    le32(&md5::digest(key))
}

/// CRC-16/XMODEM (polynomial 0x1021, MSB first) lookup table.
const CRC16_TABLE: [u16; 256] = {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = (i as u16) << 8;
        let mut bit = 0;
        while bit < 8 {
            c = if c & 0x8000 != 0 {
                (c << 1) ^ 0x1021
            } else {
                c << 1
            };
            bit += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// CRC-16/XMODEM with Dynomite's unmasked 32-bit accumulator: the low 16 bits are the CRC,
/// the high 16 bits keep what shifted out (so keys of 2+ bytes get values above 0xffff).
pub fn crc16(key: &[u8]) -> u32 {
    key.iter().fold(0u32, |crc, &b| {
        (crc << 8) ^ u32::from(CRC16_TABLE[(((crc >> 8) ^ u32::from(b)) & 0xff) as usize])
    })
}

/// Reflected CRC-32 (polynomial 0xEDB88320) lookup table.
pub(crate) const CRC32_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut bit = 0;
        while bit < 8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
            bit += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// The standard CRC-32 (as zlib's `crc32`).
fn crc32_full(key: &[u8]) -> u32 {
    !key.iter().fold(u32::MAX, |crc, &b| {
        (crc >> 8) ^ CRC32_TABLE[((crc ^ u32::from(b)) & 0xff) as usize]
    })
}

/// libmemcached's CRC-32 variant: bits 16..30 of the standard CRC-32.
pub fn crc32(key: &[u8]) -> u32 {
    (crc32_full(key) >> 16) & 0x7fff
}

/// The standard CRC-32, all 32 bits.
pub fn crc32a(key: &[u8]) -> u32 {
    crc32_full(key)
}

const FNV_64_INIT: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_64_PRIME: u64 = 0x0100_0000_01b3;
const FNV_32_INIT: u32 = 2_166_136_261;
const FNV_32_PRIME: u32 = 16_777_619;

/// FNV-1 64-bit, truncated to the low 32 bits.
pub fn fnv1_64(key: &[u8]) -> u32 {
    key.iter().fold(FNV_64_INIT, |h, &b| {
        h.wrapping_mul(FNV_64_PRIME) ^ u64::from(b)
    }) as u32
}

/// "FNV-1a 64" as Dynomite computes it: in 32 bits, with the 64-bit offset basis and prime
/// truncated to 32 bits (`0x84222325`, `0x1b3`).
pub fn fnv1a_64(key: &[u8]) -> u32 {
    key.iter().fold(FNV_64_INIT as u32, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(FNV_64_PRIME as u32)
    })
}

/// FNV-1 32-bit.
pub fn fnv1_32(key: &[u8]) -> u32 {
    key.iter().fold(FNV_32_INIT, |h, &b| {
        h.wrapping_mul(FNV_32_PRIME) ^ u32::from(b)
    })
}

/// FNV-1a 32-bit.
pub fn fnv1a_32(key: &[u8]) -> u32 {
    key.iter().fold(FNV_32_INIT, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(FNV_32_PRIME)
    })
}

/// Two bytes as a little-endian 16-bit value.
#[inline]
fn get16(b: &[u8]) -> u32 {
    u32::from(b[0]) | (u32::from(b[1]) << 8)
}

/// Paul Hsieh's SuperFastHash as libmemcached/Dynomite use it: the initial hash is 0 (not the
/// length), bytes are unsigned (v0.8 takes `const unsigned char *`), and an empty key gives 0.
pub fn hsieh(key: &[u8]) -> u32 {
    if key.is_empty() {
        return 0;
    }
    let mut hash: u32 = 0;
    let mut blocks = key.chunks_exact(4);
    for block in blocks.by_ref() {
        hash = hash.wrapping_add(get16(block));
        let tmp = (get16(&block[2..]) << 11) ^ hash;
        hash = (hash << 16) ^ tmp;
        hash = hash.wrapping_add(hash >> 11);
    }
    match *blocks.remainder() {
        [b0, b1, b2] => {
            hash = hash.wrapping_add(get16(&[b0, b1]));
            hash ^= hash << 16;
            hash ^= u32::from(b2) << 18;
            hash = hash.wrapping_add(hash >> 11);
        }
        [b0, b1] => {
            hash = hash.wrapping_add(get16(&[b0, b1]));
            hash ^= hash << 11;
            hash = hash.wrapping_add(hash >> 17);
        }
        [b0] => {
            hash = hash.wrapping_add(u32::from(b0));
            hash ^= hash << 10;
            hash = hash.wrapping_add(hash >> 1);
        }
        _ => {}
    }
    hash ^= hash << 3;
    hash = hash.wrapping_add(hash >> 5);
    hash ^= hash << 4;
    hash = hash.wrapping_add(hash >> 17);
    hash ^= hash << 25;
    hash.wrapping_add(hash >> 6)
}

/// MurmurHash2 (32-bit), `m = 0x5bd1e995`, `r = 24`, seeded with `0xdeadbeef * len`: Dynomite's
/// default key hash. `murmur(b"") == 0`.
pub fn murmur(key: &[u8]) -> u32 {
    const M: u32 = 0x5bd1_e995;
    let len = key.len() as u32;
    let mut h = 0xdead_beef_u32.wrapping_mul(len) ^ len;
    let mut blocks = key.chunks_exact(4);
    for block in blocks.by_ref() {
        let mut k = le32(block).wrapping_mul(M);
        k ^= k >> 24;
        h = h.wrapping_mul(M) ^ k.wrapping_mul(M);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        h ^= le32_partial(tail);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^ (h >> 15)
}

/// lookup3's `mix`.
#[inline]
fn jenkins_mix(a: &mut u32, b: &mut u32, c: &mut u32) {
    *a = a.wrapping_sub(*c) ^ c.rotate_left(4);
    *c = c.wrapping_add(*b);
    *b = b.wrapping_sub(*a) ^ a.rotate_left(6);
    *a = a.wrapping_add(*c);
    *c = c.wrapping_sub(*b) ^ b.rotate_left(8);
    *b = b.wrapping_add(*a);
    *a = a.wrapping_sub(*c) ^ c.rotate_left(16);
    *c = c.wrapping_add(*b);
    *b = b.wrapping_sub(*a) ^ a.rotate_left(19);
    *a = a.wrapping_add(*c);
    *c = c.wrapping_sub(*b) ^ b.rotate_left(4);
    *b = b.wrapping_add(*a);
}

/// lookup3's `final`; returns `c`.
#[inline]
fn jenkins_final(mut a: u32, mut b: u32, mut c: u32) -> u32 {
    c = (c ^ b).wrapping_sub(b.rotate_left(14));
    a = (a ^ c).wrapping_sub(c.rotate_left(11));
    b = (b ^ a).wrapping_sub(a.rotate_left(25));
    c = (c ^ b).wrapping_sub(b.rotate_left(16));
    a = (a ^ c).wrapping_sub(c.rotate_left(4));
    b = (b ^ a).wrapping_sub(a.rotate_left(14));
    (c ^ b).wrapping_sub(b.rotate_left(24))
}

/// Bob Jenkins' lookup3 `hashlittle(key, len, 13)`; an empty key gives 0 (Dynomite returns
/// before setting the token).
pub fn jenkins(key: &[u8]) -> u32 {
    if key.is_empty() {
        return 0;
    }
    let init = 0xdead_beef_u32
        .wrapping_add(key.len() as u32)
        .wrapping_add(13);
    let (mut a, mut b, mut c) = (init, init, init);
    let mut rest = key;
    // All but the last 1..=12 bytes go through `mix`; the last block (zero-padded) through
    // `final` only.
    while rest.len() > 12 {
        a = a.wrapping_add(le32(&rest[0..4]));
        b = b.wrapping_add(le32(&rest[4..8]));
        c = c.wrapping_add(le32(&rest[8..12]));
        jenkins_mix(&mut a, &mut b, &mut c);
        rest = &rest[12..];
    }
    let mut last = [0u8; 12];
    last[..rest.len()].copy_from_slice(rest);
    a = a.wrapping_add(le32(&last[0..4]));
    b = b.wrapping_add(le32(&last[4..8]));
    c = c.wrapping_add(le32(&last[8..12]));
    jenkins_final(a, b, c)
}

/// MurmurHash3 x86_32 with seed 0 (Dynomite's `murmur3` is an unfinished stub).
pub fn murmur3(key: &[u8]) -> u32 {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;
    let scramble = |k: u32| k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
    let mut h: u32 = 0;
    let mut blocks = key.chunks_exact(4);
    for block in blocks.by_ref() {
        h ^= scramble(le32(block));
        h = h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        h ^= scramble(le32_partial(tail));
    }
    h ^= key.len() as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}
