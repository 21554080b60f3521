//! Property tests: arbitrary bytes never panic and always make progress, however split;
//! generated valid requests and replies parse to the right keys, lengths and boundaries.

use super::{reqs, reqs_split, resp, rsps, rsps_split, Rsp};
use crate::proto::redis::{lookup, ReqParser, RspParser};
use crate::proto::{Parse, ReqInfo, RspInfo};
use proptest::prelude::*;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

/// Sorted cut offsets inside a stream of length `len`, from arbitrary numbers.
fn cuts(len: usize, raw: &[usize]) -> Vec<usize> {
    let mut c: Vec<usize> = raw
        .iter()
        .map(|r| r % len.max(1))
        .filter(|&c| c > 0)
        .collect();
    c.sort_unstable();
    c.dedup();
    c
}

/// Feeds arbitrary chunks to both parsers checking only the progress contract.
fn progress(chunks: &[Vec<u8>]) {
    let mut rq = ReqParser::new();
    let mut rs = RspParser::new();
    let mut ri = ReqInfo::default();
    let mut si = RspInfo::default();
    for chunk in chunks {
        let mut c = &chunk[..];
        while !c.is_empty() {
            match rq.feed(c, &mut ri) {
                Parse::Done { consumed } => {
                    assert!(consumed >= 1 && consumed <= c.len());
                    c = &c[consumed..];
                }
                Parse::Incomplete => break,
            }
        }
        let mut c = &chunk[..];
        while !c.is_empty() {
            match rs.feed(c, &mut si) {
                Parse::Done { consumed } => {
                    assert!(consumed >= 1 && consumed <= c.len());
                    c = &c[consumed..];
                }
                Parse::Incomplete => break,
            }
        }
    }
}

/// Bytes that look like RESP often enough to reach deep states.
fn resp_ish() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"*".to_vec()),
        Just(b"$".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"'".to_vec()),
        Just(b"\\".to_vec()),
        Just(b" ".to_vec()),
        Just(b"\0".to_vec()),
        Just(b"-1".to_vec()),
        Just(b"0".to_vec()),
        Just(b"3".to_vec()),
        Just(b"GET".to_vec()),
        Just(b"EVAL".to_vec()),
        Just(b"config".to_vec()),
        Just(b"%".to_vec()),
        Just(b"|".to_vec()),
        Just(b">".to_vec()),
        Just(b"+OK".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..4),
    ];
    proptest::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

/// A valid request for a keyed command, and its expected keys.
fn keyed_request() -> impl Strategy<Value = (Vec<Vec<u8>>, Vec<Vec<u8>>)> {
    let word = proptest::collection::vec(any::<u8>(), 0..12);
    let words = proptest::collection::vec(word, 1..12);
    (0usize..6, words, proptest::bool::ANY).prop_map(|(which, w, upper)| {
        let name = |s: &str| {
            if upper {
                s.to_ascii_uppercase().into_bytes()
            } else {
                s.as_bytes().to_vec()
            }
        };
        match which {
            0 => {
                // MGET k1 .. kn
                let mut args = vec![name("mget")];
                args.extend(w.iter().cloned());
                (args, w)
            }
            1 => {
                // MSET k v k v ...
                let mut args = vec![name("mset")];
                let mut keys = vec![];
                for (i, x) in w.iter().enumerate() {
                    args.push(x.clone());
                    args.push(format!("v{i}").into_bytes());
                    keys.push(x.clone());
                }
                (args, keys)
            }
            2 => {
                // EVAL script numkeys keys.. args..
                let nk = w.len() / 2;
                let mut args = vec![
                    name("eval"),
                    b"return 1".to_vec(),
                    nk.to_string().into_bytes(),
                ];
                args.extend(w.iter().cloned());
                (args, w[..nk].to_vec())
            }
            3 => {
                // SET key value [args]
                let mut args = vec![name("set"), w[0].clone(), b"v".to_vec()];
                if w.len() > 2 {
                    args.push(b"EX".to_vec());
                    args.push(b"10".to_vec());
                }
                (args, vec![w[0].clone()])
            }
            4 => {
                // ZUNIONSTORE dest numkeys k.. WEIGHTS ..
                let nk = w.len();
                let mut args = vec![
                    name("zunionstore"),
                    b"dest".to_vec(),
                    nk.to_string().into_bytes(),
                ];
                args.extend(w.iter().cloned());
                let mut keys = vec![b"dest".to_vec()];
                keys.extend(w.iter().cloned());
                (args, keys)
            }
            _ => {
                // SUNIONSTORE dest k..
                let mut w = w;
                if w.len() < 2 {
                    w.push(b"x".to_vec());
                }
                let mut args = vec![name("sunionstore")];
                args.extend(w.iter().cloned());
                (args, w)
            }
        }
    })
}

/// A random RESP3 reply (arbitrary nesting) and whether it is an error / push at top level.
#[derive(Clone, Debug)]
pub(crate) enum V {
    Simple(u8, Vec<u8>),
    Bulk(u8, Vec<u8>),
    Null(u8),
    Agg(u8, Vec<V>),
    Attr(Vec<V>, Box<V>),
}

pub(crate) fn value() -> impl Strategy<Value = V> {
    let text = proptest::collection::vec(
        any::<u8>().prop_filter("no CR/LF", |b| *b != b'\r' && *b != b'\n'),
        0..8,
    );
    let leaf = prop_oneof![
        (prop_oneof![Just(b'+'), Just(b'-')], text).prop_map(|(k, t)| V::Simple(k, t)),
        any::<i64>().prop_map(|n| V::Simple(b':', n.to_string().into_bytes())),
        any::<f64>()
            .prop_map(|f| V::Simple(b',', format!("{f:?}").replace("NaN", "nan").into_bytes())),
        proptest::bool::ANY
            .prop_map(|b| V::Simple(b'#', if b { b"t".to_vec() } else { b"f".to_vec() })),
        Just(V::Simple(b'_', vec![])),
        (
            prop_oneof![Just(b'$'), Just(b'!'), Just(b'=')],
            proptest::collection::vec(any::<u8>(), 0..40)
        )
            .prop_map(|(k, d)| V::Bulk(k, d)),
        prop_oneof![Just(b'$'), Just(b'*')].prop_map(V::Null),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            (
                prop_oneof![Just(b'*'), Just(b'~'), Just(b'>')],
                proptest::collection::vec(inner.clone(), 0..6)
            )
                .prop_map(|(k, v)| V::Agg(k, v)),
            proptest::collection::vec(inner.clone(), 0..3).prop_map(|v| {
                let mut kv = Vec::new();
                for x in v {
                    kv.push(V::Simple(b'+', b"k".to_vec()));
                    kv.push(x);
                }
                V::Agg(b'%', kv)
            }),
            (inner.clone(), inner)
                .prop_map(|(a, v)| V::Attr(vec![V::Simple(b'+', b"a".to_vec()), a], Box::new(v))),
        ]
    })
}

pub(crate) fn encode(v: &V, out: &mut Vec<u8>) {
    match v {
        V::Simple(k, t) => {
            out.push(*k);
            out.extend_from_slice(t);
            out.extend_from_slice(b"\r\n");
        }
        V::Bulk(k, d) => {
            out.push(*k);
            out.extend_from_slice(format!("{}\r\n", d.len()).as_bytes());
            out.extend_from_slice(d);
            out.extend_from_slice(b"\r\n");
        }
        V::Null(k) => {
            out.push(*k);
            out.extend_from_slice(b"-1\r\n");
        }
        V::Agg(k, items) => {
            let n = if *k == b'%' {
                items.len() / 2
            } else {
                items.len()
            };
            out.push(*k);
            out.extend_from_slice(format!("{n}\r\n").as_bytes());
            for x in items {
                encode(x, out);
            }
        }
        V::Attr(kv, v) => {
            out.extend_from_slice(format!("|{}\r\n", kv.len() / 2).as_bytes());
            for x in kv {
                encode(x, out);
            }
            encode(v, out);
        }
    }
}

/// The top-level value after any attributes.
fn top(v: &V) -> &V {
    match v {
        V::Attr(_, v) => top(v),
        v => v,
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn random_bytes_progress(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..8)) {
        progress(&chunks);
    }

    #[test]
    fn resp_ish_bytes_split_the_same(s in resp_ish(), raw in proptest::collection::vec(any::<usize>(), 0..6)) {
        let c = cuts(s.len(), &raw);
        prop_assert_eq!(reqs_split(&s, &c), reqs(&s));
        prop_assert_eq!(rsps_split(&s, &c), rsps(&s));
        let bytes: Vec<usize> = (1..s.len()).collect();
        prop_assert_eq!(reqs_split(&s, &bytes), reqs(&s));
        prop_assert_eq!(rsps_split(&s, &bytes), rsps(&s));
    }

    #[test]
    fn mutated_and_truncated_requests(
        (args, _) in keyed_request(),
        muts in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..3),
        cut in any::<usize>(),
        raw in proptest::collection::vec(any::<usize>(), 0..4),
    ) {
        let refs: Vec<&[u8]> = args.iter().map(|a| &a[..]).collect();
        let mut s = resp(&refs);
        for (at, b) in muts {
            let at = at % s.len();
            s[at] = b;
        }
        s.truncate(cut % (s.len() + 1));
        let c = cuts(s.len(), &raw);
        let whole = reqs(&s);
        prop_assert_eq!(reqs_split(&s, &c), whole.clone());
        // Whatever was parsed covers the stream exactly.
        let total: usize = whole.0.iter().map(|r| r.len).sum::<usize>() + whole.1;
        prop_assert_eq!(total, s.len());
    }

    #[test]
    fn generated_requests_parse_exactly(
        batch in proptest::collection::vec(keyed_request(), 1..6),
        inline in proptest::collection::vec(proptest::bool::ANY, 6),
        raw in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let mut s = Vec::new();
        let mut want = Vec::new();
        for (i, (args, keys)) in batch.iter().enumerate() {
            let refs: Vec<&[u8]> = args.iter().map(|a| &a[..]).collect();
            // Inline form only for arguments that are plain words.
            let plain = args.iter().all(|a| !a.is_empty() && a.iter().all(|&b| b.is_ascii_alphanumeric()));
            let bytes = if inline[i] && plain {
                let mut l = args.join(&b' ');
                l.extend_from_slice(b"\r\n");
                l
            } else {
                resp(&refs)
            };
            want.push((bytes.len(), args.len() as u32, keys.clone(), lookup(&args[0]).map(|s| s.name)));
            s.extend_from_slice(&bytes);
        }
        let c = cuts(s.len(), &raw);
        let (got, rest) = reqs_split(&s, &c);
        prop_assert_eq!(rest, 0);
        prop_assert_eq!(got.len(), want.len());
        for (g, (len, nargs, keys, name)) in got.iter().zip(want) {
            prop_assert_eq!(g.error.clone(), None);
            prop_assert_eq!(g.len, len);
            prop_assert_eq!(g.nargs, nargs);
            prop_assert_eq!(&g.keys, &keys);
            prop_assert_eq!(Some(g.cmd), name);
        }
    }

    #[test]
    fn generated_replies_parse_exactly(
        batch in proptest::collection::vec(value(), 1..5),
        raw in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let mut s = Vec::new();
        let mut want = Vec::new();
        for v in &batch {
            let start = s.len();
            encode(v, &mut s);
            let t = top(v);
            let is_error = matches!(t, V::Simple(b'-', _) | V::Bulk(b'!', _));
            let is_push = matches!(t, V::Agg(b'>', _));
            want.push(Rsp { len: s.len() - start, info: RspInfo { is_error, is_push, broken: false } });
        }
        let c = cuts(s.len(), &raw);
        prop_assert_eq!(rsps_split(&s, &c), (want, 0));
    }
}
