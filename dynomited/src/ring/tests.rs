//! Tests of the hash functions (known answers), hash tags, tokens and the per-rack ring.

use proptest::prelude::*;

use super::hashkit::*;
use super::known_answers::{long_key, KNOWN, LONG_KEY};
use super::*;

// ---- hash functions ------------------------------------------------------------------------

#[test]
fn murmur_answers_of_the_spec() {
    // Checked against the real dynomite-hash-tool (SPEC §3.2): authoritative.
    let spec: [(&[u8], u32); 6] = [
        (b"", 0),
        (b"a", 1262581116),
        (b"foo", 3303027599),
        (b"hello", 1377504255),
        (b"user:42", 1601091210),
        (b"KEY_VALUE_0", 19374756),
    ];
    for (key, want) in spec {
        assert_eq!(hash(HashKind::Murmur, key), want, "{key:?}");
        assert_eq!(
            hash(HashKind::default(), key),
            want,
            "default hash, {key:?}"
        );
    }
}

#[test]
fn known_answers_of_every_hash() {
    assert!(KNOWN.len() > 30);
    for (key, answers) in KNOWN {
        for (kind, want) in HashKind::ALL.into_iter().zip(answers) {
            assert_eq!(
                hash(kind, key),
                *want,
                "{kind} of {:?}",
                String::from_utf8_lossy(key)
            );
        }
    }
    let long = long_key();
    assert_eq!(long.len(), 1000);
    for (kind, want) in HashKind::ALL.into_iter().zip(LONG_KEY) {
        assert_eq!(hash(kind, &long), want, "{kind} of the long key");
    }
}

#[test]
fn known_answers_cover_every_tail_length_and_high_bytes() {
    for n in 0..=13 {
        assert!(
            KNOWN.iter().any(|(k, _)| k.len() == n),
            "no key of {n} bytes"
        );
    }
    assert!(KNOWN.iter().any(|(k, _)| k.iter().any(|&b| b >= 0x80)));
    // A 3-byte tail ending in a high byte (hsieh's `key[2] << 18`, murmur's tail).
    assert!(KNOWN
        .iter()
        .any(|(k, _)| k.len() % 4 == 3 && k[k.len() - 1] >= 0x80));
}

#[test]
fn published_check_values() {
    // The standard "123456789" check values of the CRC catalogue.
    let check = b"123456789";
    assert_eq!(crc16(check) & 0xffff, 0x31c3, "CRC-16/XMODEM");
    assert_eq!(crc32a(check), 0xcbf4_3926, "CRC-32");
    assert_eq!(crc32(check), (0xcbf4_3926 >> 16) & 0x7fff);
    // MurmurHash3 x86_32, seed 0.
    assert_eq!(murmur3(b""), 0);
    assert_eq!(murmur3(b"hello"), 0x248b_fa47);
    assert_eq!(
        murmur3(b"The quick brown fox jumps over the lazy dog"),
        0x2e4f_f723
    );
    // FNV reference values (Fowler/Noll/Vo test suite).
    assert_eq!(fnv1a_32(b"a"), 0xe40c_292c);
    assert_eq!(fnv1_32(b"a"), 0x050c_5d7e);
    // Jenkins one-at-a-time of "a".
    assert_eq!(one_at_a_time(b"a"), 0xca2e_9442);
}

#[test]
fn one_at_a_time_reads_signed_chars() {
    let unsigned = |key: &[u8]| {
        let mut h: u32 = 0;
        for &b in key {
            h = h.wrapping_add(u32::from(b));
            h = h.wrapping_add(h << 10);
            h ^= h >> 6;
        }
        h = h.wrapping_add(h << 3);
        h ^= h >> 11;
        h.wrapping_add(h << 15)
    };
    assert_eq!(one_at_a_time(b"plain ascii"), unsigned(b"plain ascii"));
    assert_ne!(one_at_a_time(b"\x80"), unsigned(b"\x80"));
    assert_ne!(
        one_at_a_time("café".as_bytes()),
        unsigned("café".as_bytes())
    );
}

#[test]
fn crc16_keeps_the_high_bits() {
    // Bits 16..31 keep the high bytes of the CRCs of the key without its last one or two bytes.
    assert!(crc16(b"a") <= 0xffff, "one byte still fits in 16 bits");
    assert_eq!(crc16(b"ab"), (u32::from(CRC16_A >> 8) << 16) | 0x74ff);
    assert!(
        crc16(b"abc") > 0xff_ffff,
        "no mask: 24 bits and more from the third byte on"
    );
    assert_eq!(crc16(b""), 0);
}

/// CRC-16/XMODEM of "a" (= crc16(b"a")).
const CRC16_A: u16 = 0x7c87;

#[test]
fn fnv_64_variants_equal_the_truncated_64_bit_hashes() {
    // Truncating the constants does not change the low 32 bits of the products, so Dynomite's
    // 32-bit "fnv1a_64" equals the real FNV-1a 64 cut to 32 bits.
    let fnv64 = |key: &[u8], xor_first: bool| {
        key.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
            if xor_first {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            } else {
                h.wrapping_mul(0x100_0000_01b3) ^ u64::from(b)
            }
        }) as u32
    };
    for (key, _) in KNOWN {
        assert_eq!(fnv1a_64(key), fnv64(key, true));
        assert_eq!(fnv1_64(key), fnv64(key, false));
    }
}

#[test]
fn empty_keys() {
    for kind in HashKind::ALL {
        let want = match kind {
            HashKind::Md5 => 0xd98c_1dd4, // d41d8cd9...
            HashKind::Fnv1_64 | HashKind::Fnv1a_64 => 0x8422_2325,
            HashKind::Fnv1_32 | HashKind::Fnv1a_32 => 2_166_136_261,
            // hsieh and jenkins leave Dynomite's zeroed token unset; the rest compute 0.
            _ => 0,
        };
        assert_eq!(hash(kind, b""), want, "{kind}");
    }
}

// ---- hash tags -----------------------------------------------------------------------------

const BRACES: Option<[u8; 2]> = Some(*b"{}");

/// `(key, hash tag, routing key)`.
type TagCase = (&'static [u8], Option<[u8; 2]>, &'static [u8]);

#[test]
fn routing_key_rules() {
    let cases: [TagCase; 12] = [
        (b"user:{42}:name", BRACES, b"42"),
        (b"user:{42}:name", None, b"user:{42}:name"),
        (b"plain", BRACES, b"plain"),
        (b"open{only", BRACES, b"open{only"),
        (b"close}only", BRACES, b"close}only"),
        (b"a}b{c", BRACES, b"a}b{c"),
        (b"a}b{c}d", BRACES, b"c"),
        (b"{a{b}c}", BRACES, b"a{b"),
        (b"{x}{y}", BRACES, b"x"),
        (b"a{}b", BRACES, b""),
        (b"abc{", BRACES, b"abc{"),
        (b"a:b:c", Some(*b"::"), b"b"),
    ];
    for (key, tag, want) in cases {
        assert_eq!(
            routing_key(key, tag),
            want,
            "{:?} with {tag:?}",
            String::from_utf8_lossy(key)
        );
    }
    assert_eq!(routing_key(b"", BRACES), b"");
}

#[test]
fn hash_tagged_hashes_the_tag_and_flags_empty_ones() {
    for kind in HashKind::ALL {
        assert_eq!(
            hash_tagged(kind, b"user:{42}:name", BRACES),
            Some(hash(kind, b"42"))
        );
        assert_eq!(
            hash_tagged(kind, b"user:{42}:name", None),
            Some(hash(kind, b"user:{42}:name"))
        );
        assert_eq!(
            hash_tagged(kind, b"no-tag", BRACES),
            Some(hash(kind, b"no-tag"))
        );
        // The quirk: an empty tagged part or an empty key goes to the local node.
        assert_eq!(hash_tagged(kind, b"a{}b", BRACES), None);
        assert_eq!(hash_tagged(kind, b"", BRACES), None);
        assert_eq!(hash_tagged(kind, b"", None), None);
    }
    assert_eq!(
        hash_tagged(HashKind::Murmur, b"{user:42}", BRACES),
        Some(1601091210)
    );
}

// ---- tokens --------------------------------------------------------------------------------

#[test]
fn parse_tokens() {
    assert_eq!(parse_token("0"), Ok(0));
    assert_eq!(parse_token("101134286"), Ok(101134286));
    assert_eq!(parse_token("4294967295"), Ok(u32::MAX));
    assert_eq!(parse_token("0001383429731"), Ok(1383429731));
    for bad in [
        "",
        "-1",
        "4294967296",
        "99999999999",
        "12a",
        " 1",
        "1 ",
        "+1",
        "0x10",
    ] {
        let err = parse_token(bad).unwrap_err();
        assert!(err.contains("0..4294967295"), "{bad:?}: {err}");
    }
}

#[test]
fn netflix_token_vectors() {
    // TokenManagerTest: createToken(0,1), createToken(1,2), and the 4-argument
    // createToken(1, rac_count 2, rac_size 2) = a rack of 2 * 2 = 4 slots.
    assert_eq!(netflix_token(0, 1, NETFLIX_OFFSET), 1383429731);
    assert_eq!(netflix_token(1, 2, NETFLIX_OFFSET), 3530913378);
    assert_eq!(netflix_token(1, 2 * 2, NETFLIX_OFFSET), 2457171554);
    let three: Vec<u32> = (0..3)
        .map(|s| netflix_token(s, 3, NETFLIX_OFFSET))
        .collect();
    assert_eq!(three, [1383429731, 2815085496, 4246741261]);
    // The modulus is 2^32 - 1: (MAX/4)*3 + offset = 4604655200 wraps to 309687905, not
    // 309687904.
    assert_eq!(netflix_token(3, 4, NETFLIX_OFFSET), 309687905);
    assert_eq!(netflix_token(0, 1, 0), 0);
    assert_eq!(netflix_token(1, 1, 0), 0, "MAX mod MAX");
    assert_eq!(
        netflix_token(0, 0, NETFLIX_OFFSET),
        1383429731,
        "n = 0 acts as 1"
    );
    assert_eq!(MAX_TOKEN, u64::from(u32::MAX));
}

#[test]
fn even_token_vectors() {
    let three: Vec<u32> = (0..3).map(|s| even_token(s, 3)).collect();
    assert_eq!(three, [1431655765, 2863311530, 4294967295]);
    assert_eq!(even_token(0, 1), 4294967295);
    assert_eq!(
        [even_token(0, 2), even_token(1, 2)],
        [2147483647, 4294967294]
    );
    assert_eq!(even_token(0, 0), 4294967295, "n = 0 acts as 1");
}

// ---- the ring ------------------------------------------------------------------------------

fn ring(tokens: &[u32]) -> Continuum {
    Continuum::from_entries(tokens.iter().enumerate().map(|(i, &t)| (t, i)))
}

#[test]
fn empty_ring_owns_nothing() {
    let c = Continuum::new();
    assert!(c.is_empty());
    assert_eq!(c.owner(0), None);
    assert_eq!(c.owner(u32::MAX), None);
    assert!(c.ranges().is_empty());
}

#[test]
fn single_node_owns_everything() {
    for token in [0, 1, 1383429731, u32::MAX] {
        let c = ring(&[token]);
        for h in [
            0,
            1,
            token.wrapping_sub(1),
            token,
            token.wrapping_add(1),
            u32::MAX,
        ] {
            assert_eq!(c.owner(h), Some(0), "token {token}, hash {h}");
        }
        assert_eq!(c.ranges(), [(token, token, 0)]);
    }
}

#[test]
fn ownership_at_the_boundaries() {
    // Entries given out of order: nodes 0, 1, 2 hold 200, 100, 300.
    let c = ring(&[200, 100, 300]);
    assert_eq!(c.entries(), [(100, 1), (200, 0), (300, 2)]);
    let cases = [
        (0, 1),        // below the smallest token: wraps to the smallest
        (99, 1),       //
        (100, 1),      // exactly the smallest token
        (101, 0),      // just above: next token
        (199, 0),      //
        (200, 0),      // exactly a token: that node
        (201, 2),      //
        (300, 2),      // exactly the largest token
        (301, 1),      // above the largest: wraps to the smallest
        (u32::MAX, 1), //
    ];
    for (h, want) in cases {
        assert_eq!(c.owner(h), Some(want), "hash {h}");
    }
    assert_eq!(c.ranges(), [(300, 100, 1), (100, 200, 0), (200, 300, 2)]);
}

#[test]
fn extreme_tokens() {
    let c = ring(&[0, u32::MAX]);
    assert_eq!(c.owner(0), Some(0));
    assert_eq!(c.owner(1), Some(1));
    assert_eq!(c.owner(u32::MAX), Some(1));
    assert_eq!(c.ranges(), [(u32::MAX, 0, 0), (0, u32::MAX, 1)]);

    let c = ring(&[0, 1000]);
    assert_eq!(c.owner(0), Some(0));
    assert_eq!(c.owner(1), Some(1));
    assert_eq!(c.owner(1000), Some(1));
    assert_eq!(c.owner(1001), Some(0));
}

#[test]
fn the_netflix_three_node_ring() {
    let c = ring(&[1383429731, 2815085496, 4246741261]);
    assert_eq!(c.owner(hash(HashKind::Murmur, b"foo")), Some(2)); // 3303027599
    assert_eq!(c.owner(hash(HashKind::Murmur, b"a")), Some(0)); // 1262581116
    assert_eq!(c.owner(hash(HashKind::Murmur, b"hello")), Some(0)); // 1377504255
    assert_eq!(c.owner(hash(HashKind::Murmur, b"user:42")), Some(1)); // 1601091210
    assert_eq!(c.owner(hash(HashKind::Murmur, b"KEY_VALUE_0")), Some(0)); // 19374756
    assert_eq!(c.owner(4246741262), Some(0));
}

#[test]
fn duplicate_tokens_go_to_the_first_added() {
    let c = Continuum::from_entries([(200, 7), (100, 5), (100, 3), (200, 1)]);
    assert_eq!(c.entries(), [(100, 5), (100, 3), (200, 7), (200, 1)]);
    for (h, want) in [(0, 5), (100, 5), (101, 7), (200, 7), (201, 5)] {
        assert_eq!(c.owner(h), Some(want), "hash {h}");
    }
    assert_eq!(c.ranges(), [(200, 100, 5), (100, 200, 7)]);

    let mut c = Continuum::new();
    c.insert(100, 9);
    c.insert(100, 4);
    assert_eq!(c.owner(50), Some(9));
    assert_eq!(c.owner(100), Some(9));
    assert_eq!(c.ranges(), [(100, 100, 9)]);
}

/// The naive rule: the smallest token ≥ h (first added on ties), else the smallest token.
fn oracle(entries: &[(u32, usize)], h: u32) -> Option<usize> {
    let min_first =
        |it: &mut dyn Iterator<Item = &(u32, usize)>| it.min_by_key(|e| e.0).map(|e| e.1);
    min_first(&mut entries.iter().filter(|e| e.0 >= h)).or_else(|| min_first(&mut entries.iter()))
}

fn arb_entries() -> impl Strategy<Value = Vec<(u32, usize)>> {
    // Small token values often (duplicates, neighbours), the full range otherwise.
    let token = prop_oneof![0u32..8, any::<u32>(), (u32::MAX - 8)..=u32::MAX];
    prop::collection::vec(token, 0..24).prop_map(|tokens| {
        tokens
            .into_iter()
            .enumerate()
            .map(|(i, t)| (t, i))
            .collect()
    })
}

fn arb_hash() -> impl Strategy<Value = u32> {
    prop_oneof![0u32..10, any::<u32>(), (u32::MAX - 10)..=u32::MAX]
}

proptest! {
    #[test]
    fn owner_matches_a_linear_scan(entries in arb_entries(), hashes in prop::collection::vec(arb_hash(), 1..32)) {
        let c = Continuum::from_entries(entries.clone());
        let mut inserted = Continuum::new();
        for &(t, n) in &entries {
            inserted.insert(t, n);
        }
        prop_assert_eq!(&inserted, &c);
        // Also probe every token and its neighbours.
        let probes = entries.iter().flat_map(|e| [e.0.wrapping_sub(1), e.0, e.0.wrapping_add(1)]);
        for h in hashes.into_iter().chain(probes) {
            prop_assert_eq!(c.owner(h), oracle(&entries, h), "hash {}", h);
        }
    }

    #[test]
    fn ranges_cover_the_ring_once(entries in arb_entries()) {
        let c = Continuum::from_entries(entries.clone());
        let ranges = c.ranges();
        if entries.is_empty() {
            prop_assert!(ranges.is_empty());
            return Ok(());
        }
        // Each range's end and the hash just after its start belong to its node, and the
        // ranges chain end-to-start all the way round.
        for (i, &(start, end, node)) in ranges.iter().enumerate() {
            prop_assert_eq!(c.owner(end), Some(node));
            prop_assert_eq!(c.owner(start.wrapping_add(1)), Some(node));
            let next = ranges[(i + 1) % ranges.len()];
            prop_assert_eq!(next.0, end);
        }
        let total: u64 = ranges
            .iter()
            .map(|&(s, e, _)| if s == e { 1u64 << 32 } else { u64::from(e.wrapping_sub(s)) })
            .sum();
        prop_assert_eq!(total, 1u64 << 32);
    }

    #[test]
    fn routing_key_is_a_slice_of_the_key(key in prop::collection::vec(any::<u8>(), 0..40), tag in any::<[u8; 2]>()) {
        let routed = routing_key(&key, Some(tag));
        // Either the whole key or the bytes between the first open and the next close.
        if routed.len() != key.len() {
            let open = key.iter().position(|&b| b == tag[0]).unwrap();
            prop_assert_eq!(routed, &key[open + 1..open + 1 + routed.len()]);
            prop_assert_eq!(key[open + 1 + routed.len()], tag[1]);
            prop_assert!(!routed.contains(&tag[1]));
        }
    }
}
