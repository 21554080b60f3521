//! Random input, biased towards protocol syntax, against every merge: nothing panics, and
//! what is accepted keeps the merges' invariants.

use super::*;

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
