//! Walker tests: every token, every error and where it is reported, the limits, attributes and
//! pushes, and agreement with the resumable reply parser on real and generated replies.

use super::*;
use crate::proto::redis::tests::props::{self, V};
use crate::proto::redis::tests::rsps;
use proptest::prelude::*;

/// Every token of the first value of `buf` (its attributes included), and where it ends.
fn tokens(buf: &[u8]) -> Result<(Vec<Token<'_>>, usize), Error> {
    let mut w = Walker::new(buf);
    let mut out = vec![w.next_token()?];
    while w.depth() > 0 || out.last() == Some(&Token::End { ty: b'|' }) {
        out.push(w.next_token()?);
    }
    Ok((out, w.pos()))
}

fn err(kind: ErrorKind, at: usize) -> Error {
    Error { kind, at }
}

#[test]
fn every_scalar() {
    use Token::*;
    let table: [(&[u8], Token); 17] = [
        (
            b"+OK\r\n",
            Line {
                ty: b'+',
                text: b"OK",
            },
        ),
        (
            b"+\r\n",
            Line {
                ty: b'+',
                text: b"",
            },
        ),
        (
            b"-ERR x\r\n",
            Line {
                ty: b'-',
                text: b"ERR x",
            },
        ),
        (
            b",-1.5e3\r\n",
            Line {
                ty: b',',
                text: b"-1.5e3",
            },
        ),
        (
            b",inf\r\n",
            Line {
                ty: b',',
                text: b"inf",
            },
        ),
        (
            b"(-12345678901234567890\r\n",
            Line {
                ty: b'(',
                text: b"-12345678901234567890",
            },
        ),
        (
            b"#t\r\n",
            Line {
                ty: b'#',
                text: b"t",
            },
        ),
        (b":0\r\n", Int(0)),
        (b":-9223372036854775808\r\n", Int(i64::MIN)),
        (b":007\r\n", Int(7)),
        (
            b"$3\r\na\r\n\r\n",
            Blob {
                ty: b'$',
                data: b"a\r\n",
            },
        ),
        (
            b"$0\r\n\r\n",
            Blob {
                ty: b'$',
                data: b"",
            },
        ),
        (
            b"!3\r\nERR\r\n",
            Blob {
                ty: b'!',
                data: b"ERR",
            },
        ),
        (
            b"=8\r\ntxt:abcd\r\n",
            Blob {
                ty: b'=',
                data: b"txt:abcd",
            },
        ),
        (b"_\r\n", Null { ty: b'_' }),
        (b"$-1\r\n", Null { ty: b'$' }),
        (b"*-1\r\n", Null { ty: b'*' }),
    ];
    for (buf, want) in table {
        let mut w = Walker::new(buf);
        assert_eq!(
            w.next_token(),
            Ok(want),
            "{:?}",
            String::from_utf8_lossy(buf)
        );
        assert_eq!((w.pos(), w.depth(), w.end_next()), (buf.len(), 0, false));
    }
}

#[test]
fn aggregates_open_and_end() {
    use Token::*;
    let buf = b"*3\r\n%1\r\n+k\r\n~0\r\n|1\r\n+a\r\n:1\r\n>1\r\n:2\r\n";
    let mut w = Walker::new(buf);
    let want = [
        (Open { ty: b'*', count: 3 }, 1),
        (Open { ty: b'%', count: 1 }, 2),
        (
            Line {
                ty: b'+',
                text: b"k",
            },
            2,
        ),
        (Open { ty: b'~', count: 0 }, 3),
        (End { ty: b'~' }, 2),
        (End { ty: b'%' }, 1),
        // An attribute before the third element: it does not count as one.
        (Open { ty: b'|', count: 1 }, 2),
        (
            Line {
                ty: b'+',
                text: b"a",
            },
            2,
        ),
        (Int(1), 2),
        (End { ty: b'|' }, 1),
    ];
    for (i, (tok, depth)) in want.into_iter().enumerate() {
        assert_eq!((w.next_token(), w.depth()), (Ok(tok), depth), "token {i}");
    }
    // A push is a whole reply, never an element.
    assert_eq!(w.next_token(), Err(err(ErrorKind::BadType, 28)));
    let mut w = Walker::new(&buf[28..]);
    assert_eq!(w.next_token(), Ok(Open { ty: b'>', count: 1 }));
    assert_eq!(w.next_token(), Ok(Int(2)));
    assert!(w.end_next());
    assert_eq!(w.next_token(), Ok(End { ty: b'>' }));
    assert_eq!((w.depth(), w.pos(), w.end_next()), (0, 8, false));
    // Past the end of the buffer: more bytes needed.
    assert_eq!(w.next_token(), Err(err(ErrorKind::Incomplete, 8)));
}

#[test]
fn skip_takes_whole_values_with_their_attributes() {
    let buf = b"|1\r\n+ttl\r\n:3\r\n*2\r\n|0\r\n$1\r\nv\r\n*0\r\n:9\r\n";
    let mut w = Walker::new(buf);
    assert_eq!(w.skip(), Ok(0..33));
    assert_eq!(w.skip(), Ok(33..37));
    assert_eq!(w.skip(), Err(err(ErrorKind::Incomplete, 37)));

    // Inside an aggregate: one element at a time, then nothing where its End is next.
    let buf = b"*2\r\n*1\r\n:1\r\n|1\r\n+a\r\n+b\r\n_\r\n";
    let mut w = Walker::new(buf);
    assert_eq!(w.next_token(), Ok(Token::Open { ty: b'*', count: 2 }));
    assert_eq!(w.skip(), Ok(4..12));
    assert_eq!(w.skip(), Ok(12..27));
    assert_eq!(w.skip(), Ok(27..27));
    assert_eq!(w.next_token(), Ok(Token::End { ty: b'*' }));
    // An attribute with nothing after it to annotate.
    let mut w = Walker::new(b"|1\r\n+a\r\n+b\r\n");
    assert_eq!(w.skip(), Err(err(ErrorKind::Incomplete, 12)));
}

#[test]
fn errors_name_the_value_at_fault() {
    use ErrorKind::*;
    let table: [(&[u8], ErrorKind, usize); 34] = [
        (b"", Incomplete, 0),
        (b"+OK", Incomplete, 0),
        (b"+OK\r", Incomplete, 0),
        (b"+O\nK\r\n", BadLine, 0),
        (b"+O\rK\r\n", BadLine, 0),
        (b"*1\r\n:1\n", BadLine, 4),
        (b"?\r\n", BadType, 0),
        (b"*1\r\nERROR\r\n", BadType, 4),
        (b"*1\r\n>0\r\n", BadType, 4),
        (b":\r\n", BadInteger, 0),
        (b":+1\r\n", BadInteger, 0),
        (b":1.5\r\n", BadInteger, 0),
        (b":9223372036854775808\r\n", BadInteger, 0),
        (b"(\r\n", BadValue, 0),
        (b"(+1\r\n", BadValue, 0),
        (b"#x\r\n", BadValue, 0),
        (b"_x\r\n", BadValue, 0),
        (b"=3\r\ntxt\r\n", BadValue, 0),
        (b"=4\r\ntxtx\r\n", BadValue, 0),
        (b"$\r\n", BadLength, 0),
        (b"$+1\r\na\r\n", BadLength, 0),
        (b"$-2\r\n", BadLength, 0),
        (b"$-0\r\n", BadLength, 0),
        (b"!-1\r\n", BadLength, 0),
        (b"%-1\r\n", BadLength, 0),
        (b"* 1\r\n", BadLength, 0),
        (b"*9223372036854775808\r\n", BadLength, 0),
        (b"*2\r\n$18446744073709551615\r\n", BadLength, 4),
        (b"$3\r\nabcd\r\n", NoCrlf, 0),
        (b"$3\r\nab", Incomplete, 0),
        (b"$3\r\nabc\r", Incomplete, 0),
        (b"*2\r\n:1\r\n", Incomplete, 8),
        (b"*1\r\n%1\r\n+k\r\n", Incomplete, 12),
        (b"$9223372036854775807\r\nab\r\n", Incomplete, 0),
    ];
    for (buf, kind, at) in table {
        let got = Walker::new(buf).skip();
        assert_eq!(
            got,
            Err(err(kind, at)),
            "{:?}",
            String::from_utf8_lossy(buf)
        );
    }
}

#[test]
fn the_line_limit_counts_the_type_byte() {
    let limits = Limits {
        max_line: 8,
        max_size: usize::MAX,
    };
    let walk = |buf: &[u8]| Walker::with_limits(buf, limits).skip();
    // 8 bytes before the CRLF are allowed; a ninth is a long line.
    assert_eq!(walk(b"+1234567\r\n"), Ok(0..10));
    assert_eq!(walk(b"+12345678\r\n"), Err(err(ErrorKind::LongLine, 0)));
    // Until a ninth byte arrives, more may still complete the line.
    assert_eq!(walk(b"+1234567"), Err(err(ErrorKind::Incomplete, 0)));
    assert_eq!(walk(b"+1234567\r"), Err(err(ErrorKind::Incomplete, 0)));
    assert_eq!(walk(b"+12345678"), Err(err(ErrorKind::Incomplete, 0)));
    assert_eq!(walk(b"+123456789"), Err(err(ErrorKind::LongLine, 0)));
    // Headers are lines too; data is not.
    assert_eq!(walk(b"$1234567\r\n"), Err(err(ErrorKind::Incomplete, 0)));
    assert_eq!(walk(b"$12345678\r\n"), Err(err(ErrorKind::LongLine, 0)));
    assert_eq!(walk(b"$12\r\nabcdefghijkl\r\n"), Ok(0..19));
}

#[test]
fn the_size_limit_is_checked_at_each_header() {
    let walk = |buf: &[u8], max_size| {
        let limits = Limits {
            max_line: usize::MAX,
            max_size,
        };
        Walker::with_limits(buf, limits).skip()
    };
    // Two elements and 3 + 3 bytes.
    let arr = b"*2\r\n$3\r\nabc\r\n$3\r\ndef\r\n";
    assert_eq!(walk(arr, 8), Ok(0..arr.len()));
    assert_eq!(walk(arr, 7), Err(err(ErrorKind::TooLarge(3), 13)));
    assert_eq!(walk(arr, 1), Err(err(ErrorKind::TooLarge(2), 0)));
    // Before the data is looked for: a huge length is refused at once.
    assert_eq!(
        walk(b"$99999999999\r\n", 1 << 20),
        Err(err(ErrorKind::TooLarge(99_999_999_999), 0))
    );
    // Nulls take nothing.
    assert_eq!(walk(b"*2\r\n$-1\r\n*-1\r\n", 2), Ok(0..14));
}

#[test]
fn nesting_is_bounded_below_the_top_level_value() {
    let nest = |depth: usize, inner: &[u8]| {
        let mut r = b"*1\r\n".repeat(depth + 1);
        r.extend_from_slice(inner);
        r
    };
    for inner in [&b":1\r\n"[..], b"*0\r\n", b"%0\r\n"] {
        let ok = nest(MAX_DEPTH, inner);
        assert_eq!(Walker::new(&ok).skip(), Ok(0..ok.len()));
    }
    // (An empty aggregate takes no frame: it may sit one level deeper than a full one.)
    let deep = nest(MAX_DEPTH + 1, b":1\r\n");
    let at = 4 * (MAX_DEPTH + 1);
    assert_eq!(Walker::new(&deep).skip(), Err(err(ErrorKind::TooDeep, at)));
    let very = nest(100_000, b":1\r\n");
    assert_eq!(
        Walker::new(&very).skip().unwrap_err().kind,
        ErrorKind::TooDeep
    );
}

/// Whole replies one after another: the boundaries `skip` finds.
fn boundaries(stream: &[u8]) -> Result<Vec<usize>, Error> {
    let mut w = Walker::new(stream);
    let mut lens = Vec::new();
    while w.pos() < stream.len() {
        lens.push(w.skip()?.len());
    }
    Ok(lens)
}

/// The reply parser of the datastore connections finds the same replies in real traffic.
#[test]
fn real_redis_captures_agree_with_the_reply_parser() {
    let resp3: &[u8] = include_bytes!("resp3_capture.resp");
    let resp2: &[u8] = include_bytes!("resp2_capture.resp");
    for stream in [resp3, resp2] {
        let (parsed, rest) = rsps(stream);
        assert_eq!(rest, 0);
        let want: Vec<usize> = parsed.iter().map(|r| r.len).collect();
        assert_eq!(boundaries(stream), Ok(want));
        // Every cut short reply needs more bytes; nothing else is reported.
        for cut in 0..stream.len() {
            let Err(e) = boundaries(&stream[..cut]) else {
                continue;
            };
            assert_eq!(e.kind, ErrorKind::Incomplete, "cut at {cut}");
        }
    }
}

/// What the walker accepts of a generated reply: all of it, unless it nests a push or holds
/// a verbatim string without its `xxx:` format, which the reply parser lets through.
fn strict(v: &V, top: bool) -> bool {
    match v {
        V::Bulk(b'=', d) => d.get(3) == Some(&b':'),
        V::Agg(b'>', _) if !top => false,
        V::Agg(_, items) => items.iter().all(|x| strict(x, false)),
        V::Attr(kv, v) => kv.iter().all(|x| strict(x, false)) && strict(v, top),
        _ => true,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn generated_replies_walk_exactly(v in props::value()) {
        let mut buf = Vec::new();
        props::encode(&v, &mut buf);
        let got = Walker::new(&buf).skip();
        if strict(&v, true) {
            prop_assert_eq!(got, Ok(0..buf.len()));
            // Token by token: the same end, and every aggregate opened is ended.
            let (toks, end) = tokens(&buf).unwrap();
            prop_assert_eq!(end, buf.len());
            let opens = toks.iter().filter(|t| matches!(t, Token::Open { .. })).count();
            let ends = toks.iter().filter(|t| matches!(t, Token::End { .. })).count();
            prop_assert_eq!(opens, ends);
            for cut in 0..buf.len() {
                let e = Walker::new(&buf[..cut]).skip().unwrap_err();
                prop_assert_eq!(e.kind, ErrorKind::Incomplete);
            }
        } else {
            let kind = got.unwrap_err().kind;
            prop_assert!(matches!(kind, ErrorKind::BadType | ErrorKind::BadValue), "{:?}", kind);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in proptest::collection::vec(
            prop_oneof![Just(b'\r'), Just(b'\n'), Just(b'*'), Just(b'|'), Just(b'$'), any::<u8>()],
            0..64,
        ),
        max_line in 1usize..8,
        max_size in 0usize..64,
    ) {
        let mut w = Walker::with_limits(&bytes, Limits { max_line, max_size });
        // Every token consumes bytes or closes an aggregate: the walk ends.
        let mut steps = 0;
        while let Ok(t) = w.next_token() {
            prop_assert!(w.pos() <= bytes.len());
            steps += 1;
            prop_assert!(steps <= 2 * bytes.len() + 2, "{:?}", t);
        }
    }
}
