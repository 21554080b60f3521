//! Property tests of the memcached parsers: generated valid requests and replies parse to the
//! right boundaries and keys however they are chunked; random and mutated bytes never panic,
//! always make progress, and parse the same however they are chunked.

use proptest::prelude::*;

use super::{parse_reqs, parse_rsps, Req, Rsp};
use crate::proto::memcache::Cmd;

fn cfg() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn key() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![0x21u8..=0x7e, 0x80u8..=0xff];
    prop_oneof![
        8 => prop::collection::vec(byte.clone(), 1..12),
        1 => prop::collection::vec(byte, 250..=250),
    ]
}

/// Values full of the bytes that would fool a scanner.
fn data() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        Just(b'\r'),
        Just(b'\n'),
        Just(b' '),
        Just(b'E'),
        any::<u8>()
    ];
    prop_oneof![
        4 => prop::collection::vec(byte, 0..40),
        1 => Just(b"\r\nEND\r\n".to_vec()),
        1 => Just(b"VALUE k 0 1\r\nx\r\nEND\r\n".to_vec()),
        1 => Just(b"get k\r\nset k 0 0 1\r\n".to_vec()),
    ]
}

/// A valid request and what the parser must report for it.
#[derive(Clone, Debug)]
struct Gen {
    bytes: Vec<u8>,
    cmd: Cmd,
    nargs: u32,
    keys: Vec<Vec<u8>>,
    noreply: bool,
}

/// Line layout: separators of one or two spaces, optional leading spaces, `\r\n` or `\n`.
#[derive(Clone, Debug)]
struct Layout {
    wide: bool,
    lead: usize,
    bare_lf: bool,
}

fn layout() -> impl Strategy<Value = Layout> {
    (any::<bool>(), 0usize..3, any::<bool>()).prop_map(|(wide, lead, bare_lf)| Layout {
        wide,
        lead,
        bare_lf,
    })
}

fn line(l: &Layout, toks: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![b' '; l.lead];
    for (i, t) in toks.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(if l.wide { b"  " } else { b" " });
        }
        out.extend_from_slice(t);
    }
    out.extend_from_slice(if l.bare_lf { b"\n" } else { b"\r\n" });
    out
}

fn s(v: impl ToString) -> Vec<u8> {
    v.to_string().into_bytes()
}

fn request() -> impl Strategy<Value = Gen> {
    let store = (
        prop::sample::select(vec![
            Cmd::Set,
            Cmd::Add,
            Cmd::Replace,
            Cmd::Append,
            Cmd::Prepend,
            Cmd::Cas,
        ]),
        key(),
        any::<u32>(),
        any::<i32>(),
        data(),
        any::<u64>(),
        any::<bool>(),
        layout(),
    )
        .prop_map(|(cmd, k, flags, exp, data, cas, noreply, l)| {
            let mut toks = vec![s(cmd.name()), k.clone(), s(flags), s(exp), s(data.len())];
            if cmd == Cmd::Cas {
                toks.push(s(cas));
            }
            if noreply {
                toks.push(b"noreply".to_vec());
            }
            let mut bytes = line(&l, &toks);
            bytes.extend_from_slice(&data);
            bytes.extend_from_slice(b"\r\n");
            Gen {
                bytes,
                cmd,
                nargs: toks.len() as u32,
                keys: vec![k],
                noreply,
            }
        });
    let get = (
        prop::sample::select(vec![Cmd::Get, Cmd::Gets, Cmd::Gat, Cmd::Gats]),
        prop::collection::vec(key(), 1..30),
        any::<i32>(),
        layout(),
    )
        .prop_map(|(cmd, mut keys, exp, l)| {
            let mut toks = vec![s(cmd.name())];
            if matches!(cmd, Cmd::Gat | Cmd::Gats) {
                toks.push(s(exp));
                // Only get/gets lines may be longer than LINE_MAX.
                while keys.len() > 1 && keys.iter().map(|k| k.len() + 2).sum::<usize>() > 1900 {
                    keys.pop();
                }
            }
            toks.extend(keys.iter().cloned());
            Gen {
                bytes: line(&l, &toks),
                cmd,
                nargs: toks.len() as u32,
                keys,
                noreply: false,
            }
        });
    let other = (
        prop::sample::select(vec![
            Cmd::Incr,
            Cmd::Decr,
            Cmd::Touch,
            Cmd::Delete,
            Cmd::Version,
        ]),
        key(),
        any::<u64>(),
        any::<i32>(),
        0u8..3,
        any::<bool>(),
        layout(),
    )
        .prop_map(|(cmd, k, delta, exp, variant, noreply, l)| {
            let mut toks = vec![s(cmd.name())];
            let mut keys = vec![k.clone()];
            match cmd {
                Cmd::Incr | Cmd::Decr => toks.extend([k, s(delta)]),
                Cmd::Touch => toks.extend([k, s(exp)]),
                Cmd::Delete if variant == 0 => toks.extend([k, b"0".to_vec()]),
                Cmd::Delete => toks.push(k),
                _ => keys.clear(),
            }
            let noreply = noreply && cmd != Cmd::Version;
            if noreply {
                toks.push(b"noreply".to_vec());
            }
            Gen {
                bytes: line(&l, &toks),
                cmd,
                nargs: toks.len() as u32,
                keys,
                noreply,
            }
        });
    prop_oneof![store, get, other]
}

fn cuts(max_len: usize) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0..=max_len, 0..12)
}

/// A reply message and whether it is an error.
fn reply() -> impl Strategy<Value = (Vec<u8>, bool)> {
    let value = (key(), any::<u32>(), data(), prop::option::of(any::<u64>()));
    let values = prop::collection::vec(value, 0..4).prop_map(|vs| {
        let mut out = Vec::new();
        for (k, flags, data, cas) in vs {
            out.extend_from_slice(b"VALUE ");
            out.extend_from_slice(&k);
            out.extend_from_slice(format!(" {flags} {}", data.len()).as_bytes());
            if let Some(cas) = cas {
                out.extend_from_slice(format!(" {cas}").as_bytes());
            }
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(&data);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"END\r\n");
        (out, false)
    });
    let word = prop::sample::select(vec![
        "STORED",
        "NOT_STORED",
        "EXISTS",
        "NOT_FOUND",
        "DELETED",
        "TOUCHED",
        "OK",
        "END",
        "ERROR",
    ])
    .prop_map(|w| (format!("{w}\r\n").into_bytes(), w == "ERROR"));
    let number = any::<u64>().prop_map(|n| (format!("{n}\r\n").into_bytes(), false));
    let text = (
        prop::sample::select(vec!["CLIENT_ERROR", "SERVER_ERROR", "ERROR", "VERSION"]),
        "[ -~]{1,40}",
    )
        .prop_map(|(w, t)| (format!("{w} {t}\r\n").into_bytes(), w != "VERSION"));
    prop_oneof![3 => values, 2 => word, 1 => number, 1 => text]
}

/// Bytes that look like the protocol often enough to reach deep states.
fn noise() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        prop::sample::select(vec![
            &b"get"[..],
            b"gets",
            b"set",
            b"cas",
            b"delete",
            b"incr",
            b"touch",
            b"gat",
            b"noreply",
            b" ",
            b"  ",
            b"\r\n",
            b"\n",
            b"\r",
            b"0",
            b"1",
            b"5",
            b"-1",
            b"k",
            b"VALUE",
            b"END",
            b"STORED",
            b"ERROR",
            b"SERVER_ERROR",
        ])
        .prop_map(|p| p.to_vec()),
        any::<u8>().prop_map(|b| vec![b]),
    ];
    prop::collection::vec(piece, 0..80).prop_map(|v| v.concat())
}

fn check_reqs_deterministic(stream: &[u8], cuts: &[usize]) {
    let whole = parse_reqs(stream, &[]);
    assert_eq!(parse_reqs(stream, cuts), whole);
    let (msgs, rest) = whole;
    assert_eq!(
        msgs.iter().map(|m| m.len).sum::<usize>() + rest,
        stream.len()
    );
}

fn check_rsps_deterministic(stream: &[u8], cuts: &[usize]) {
    let whole = parse_rsps(stream, &[]);
    assert_eq!(parse_rsps(stream, cuts), whole);
    let (msgs, rest) = whole;
    assert_eq!(
        msgs.iter().map(|m| m.len).sum::<usize>() + rest,
        stream.len()
    );
}

proptest! {
    #![proptest_config(cfg())]

    #[test]
    fn valid_requests(reqs in prop::collection::vec(request(), 1..6), cuts in cuts(2000)) {
        let stream: Vec<u8> = reqs.iter().flat_map(|r| r.bytes.iter().copied()).collect();
        let (got, rest) = parse_reqs(&stream, &cuts);
        prop_assert_eq!(rest, 0);
        prop_assert_eq!(got.len(), reqs.len());
        for (g, want) in got.iter().zip(&reqs) {
            let Req { len, cmd, nargs, keys, noreply, error, .. } = g;
            prop_assert_eq!(*len, want.bytes.len());
            prop_assert_eq!(*cmd, want.cmd as u16);
            prop_assert_eq!(*nargs, want.nargs);
            prop_assert_eq!(keys, &want.keys);
            prop_assert_eq!(*noreply, want.noreply);
            prop_assert_eq!(error, &None);
        }
    }

    /// A strict prefix of a valid request never completes.
    #[test]
    fn truncated_requests(req in request(), cut in any::<prop::sample::Index>(), cuts in cuts(400)) {
        let end = cut.index(req.bytes.len());
        let (got, rest) = parse_reqs(&req.bytes[..end], &cuts);
        prop_assert!(got.is_empty());
        prop_assert_eq!(rest, end);
    }

    #[test]
    fn mutated_requests(
        reqs in prop::collection::vec(request(), 1..4),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<u8>()), 1..4),
        cuts in cuts(1000),
    ) {
        let mut stream: Vec<u8> = reqs.iter().flat_map(|r| r.bytes.iter().copied()).collect();
        for (at, op, b) in edits {
            if stream.is_empty() {
                break;
            }
            let i = at.index(stream.len());
            match op {
                0 => stream[i] = b,
                1 => { stream.remove(i); }
                _ => stream.insert(i, b),
            }
        }
        check_reqs_deterministic(&stream, &cuts);
    }

    #[test]
    fn random_requests(stream in noise(), cuts in cuts(400)) {
        check_reqs_deterministic(&stream, &cuts);
    }

    #[test]
    fn random_bytes(stream in prop::collection::vec(any::<u8>(), 0..300), cuts in cuts(300)) {
        check_reqs_deterministic(&stream, &cuts);
        check_rsps_deterministic(&stream, &cuts);
    }

    #[test]
    fn valid_replies(rsps in prop::collection::vec(reply(), 1..6), cuts in cuts(2000)) {
        let stream: Vec<u8> = rsps.iter().flat_map(|r| r.0.iter().copied()).collect();
        let (got, rest) = parse_rsps(&stream, &cuts);
        prop_assert_eq!(rest, 0);
        let want: Vec<Rsp> = rsps
            .iter()
            .map(|(b, is_error)| Rsp { len: b.len(), is_error: *is_error, broken: false })
            .collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn random_replies(stream in noise(), cuts in cuts(400)) {
        check_rsps_deterministic(&stream, &cuts);
    }

    #[test]
    fn mutated_replies(
        rsps in prop::collection::vec(reply(), 1..4),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..3),
        cuts in cuts(1000),
    ) {
        let mut stream: Vec<u8> = rsps.iter().flat_map(|r| r.0.iter().copied()).collect();
        for (at, b) in edits {
            let i = at.index(stream.len());
            stream[i] = b;
        }
        check_rsps_deterministic(&stream, &cuts);
    }
}
