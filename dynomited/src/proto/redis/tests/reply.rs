//! Reply parser tests: every RESP2/RESP3 type, nesting, attributes, pushes, broken streams.

use super::*;
use crate::proto::redis::tests::{rsps, rsps_all_ways, Rsp};
use crate::proto::RspInfo;

fn info(is_error: bool, is_push: bool, broken: bool) -> RspInfo {
    RspInfo {
        is_error,
        is_push,
        broken,
    }
}

const PLAIN: RspInfo = RspInfo {
    is_error: false,
    is_push: false,
    broken: false,
};
const ERROR: RspInfo = RspInfo {
    is_error: true,
    is_push: false,
    broken: false,
};
const PUSH: RspInfo = RspInfo {
    is_error: false,
    is_push: true,
    broken: false,
};

fn valid() -> Vec<(&'static str, RspInfo)> {
    vec![
        ("+OK\r\n", PLAIN),
        ("+\r\n", PLAIN),
        ("-ERR unknown command 'foo', with args beginning with: \r\n", ERROR),
        ("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", ERROR),
        (":0\r\n", PLAIN),
        (":-42\r\n", PLAIN),
        ("$5\r\nhello\r\n", PLAIN),
        ("$0\r\n\r\n", PLAIN),
        ("$-1\r\n", PLAIN),
        ("$4\r\n\r\n\r\n\r\n", PLAIN),
        ("*-1\r\n", PLAIN),
        ("*0\r\n", PLAIN),
        ("*2\r\n$3\r\nfoo\r\n$-1\r\n", PLAIN),
        ("*3\r\n:1\r\n-ERR inner\r\n+OK\r\n", PLAIN),
        ("*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n", PLAIN),
        ("*2\r\n*2\r\n*0\r\n*1\r\n:1\r\n*1\r\n*1\r\n*-1\r\n", PLAIN),
        // RESP3
        ("_\r\n", PLAIN),
        ("#t\r\n", PLAIN),
        ("#f\r\n", PLAIN),
        (",3.14\r\n", PLAIN),
        (",-inf\r\n", PLAIN),
        (",nan\r\n", PLAIN),
        (",1.5e-10\r\n", PLAIN),
        ("(3492890328409238509324850943850943825024385\r\n", PLAIN),
        ("(-1\r\n", PLAIN),
        ("!21\r\nSYNTAX invalid syntax\r\n", ERROR),
        ("=15\r\ntxt:Some string\r\n", PLAIN),
        ("%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n", PLAIN),
        ("%0\r\n", PLAIN),
        ("~3\r\n+a\r\n+b\r\n#t\r\n", PLAIN),
        (">3\r\n+message\r\n+ch\r\n$2\r\nhi\r\n", PUSH),
        ("|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.19\r\n$1\r\nb\r\n,0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n", PLAIN),
        ("|1\r\n+ttl\r\n:3600\r\n-ERR after attribute\r\n", ERROR),
        ("|0\r\n+OK\r\n", PLAIN),
        ("*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n:2\r\n", PLAIN),
        ("%1\r\n|1\r\n+a\r\n+b\r\n+k\r\n|1\r\n+c\r\n+d\r\n+v\r\n", PLAIN),
        ("|1\r\n+a\r\n+x\r\n|1\r\n+b\r\n+c\r\n:7\r\n", PLAIN),
        ("|1\r\n+a\r\n|1\r\n+b\r\n+c\r\n:7\r\n:8\r\n", PLAIN),
        (">2\r\n+invalidate\r\n*1\r\n$3\r\nfoo\r\n", PUSH),
        ("*1\r\n>1\r\n+not-top-level\r\n", PLAIN),
        ("*1\r\n!3\r\nERR\r\n", PLAIN),
    ]
}

#[test]
fn table_each_alone() {
    for (s, want) in valid() {
        let (got, rest) = rsps_all_ways(s.as_bytes(), true);
        assert_eq!(rest, 0, "{s:?}");
        assert_eq!(
            got,
            vec![Rsp {
                len: s.len(),
                info: want
            }],
            "{s:?}"
        );
    }
}

#[test]
fn table_pipelined() {
    let cases = valid();
    let stream: Vec<u8> = cases.iter().flat_map(|(s, _)| s.bytes()).collect();
    let want: Vec<Rsp> = cases
        .iter()
        .map(|&(s, info)| Rsp { len: s.len(), info })
        .collect();
    let (got, rest) = rsps_all_ways(&stream, true);
    assert_eq!(rest, 0);
    assert_eq!(got, want);
}

#[test]
fn incomplete_stays_incomplete() {
    let (got, rest) = rsps(b"*2\r\n$3\r\nfoo\r\n");
    assert!(got.is_empty());
    assert_eq!(rest, 13);
    let (got, rest) = rsps(b"|1\r\n+a\r\n+b\r\n");
    assert!(got.is_empty(), "an attribute alone is not a reply");
    assert_eq!(rest, 12);
}

#[test]
fn broken_replies() {
    let cases: &[(&str, usize)] = &[
        // (input, bytes consumed up to and including the offending byte)
        ("?\r\n", 1),
        ("\r\n", 1),
        ("+OK\n", 4),
        ("+OK\rx", 5),
        (":abc\r\n", 6),
        (":\r\n", 3),
        ("#x\r\n", 4),
        ("#tt\r\n", 5),
        ("_x\r\n", 4),
        (",\r\n", 3),
        ("$x\r\n", 2),
        ("$-2\r\n", 5),
        ("!-1\r\n", 5),
        ("$01\r\n", 3),
        ("$3\r\nfooX\r\n", 8),
        ("$3\r\nfoo\rX", 9),
        ("*-2\r\n", 5),
        ("%-1\r\n", 5),
        ("*1\r\n?\r\n", 5),
        ("*1\r\n$1\r\na\r\n\r\n", 11),
        ("$1\rx", 4),
        ("$11111111111111111111111111111111111\r\n", 22),
    ];
    for (s, consumed) in cases {
        let (got, _) = rsps_all_ways(s.as_bytes(), true);
        assert!(!got.is_empty(), "{s:?}");
        let first = got[0];
        if *s == "*1\r\n$1\r\na\r\n\r\n" {
            // The array is fine; the stray CRLF after it is the broken "reply".
            assert!(!first.info.broken);
            assert!(got[1].info.broken);
            continue;
        }
        assert!(first.info.broken, "{s:?}");
        assert_eq!(first.len, *consumed, "{s:?}");
    }
}

#[test]
fn too_deep_is_broken() {
    let mut s = Vec::new();
    for _ in 0..MAX_DEPTH {
        s.extend_from_slice(b"*1\r\n");
    }
    s.extend_from_slice(b":1\r\n");
    let (got, rest) = rsps(&s);
    assert_eq!(rest, 0);
    assert_eq!(
        got,
        vec![Rsp {
            len: s.len(),
            info: PLAIN
        }]
    );
    let mut deeper = b"*1\r\n".to_vec();
    deeper.extend_from_slice(&s);
    let (got, _) = rsps(&deeper);
    assert!(got[0].info.broken);
}

#[test]
fn big_array_and_big_bulk() {
    let n = 100_000;
    let mut s = format!("*{n}\r\n").into_bytes();
    for i in 0..n {
        s.extend_from_slice(format!("$8\r\nval{i:05}\r\n").as_bytes());
    }
    let array_len = s.len();
    let big = 5 << 20;
    s.extend_from_slice(format!("${big}\r\n").as_bytes());
    s.resize(s.len() + big, b'x');
    s.extend_from_slice(b"\r\n");
    for chunk in [s.len(), 16 * 1024, 4093, 7] {
        let cuts: Vec<usize> = (1..)
            .map(|i| i * chunk)
            .take_while(|&c| c < s.len())
            .collect();
        let (got, rest) = super::super::tests::rsps_split(&s, &cuts);
        assert_eq!(rest, 0);
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0],
            Rsp {
                len: array_len,
                info: PLAIN
            }
        );
        assert_eq!(got[1].len, s.len() - array_len);
    }
}

#[test]
fn info_cleared_per_reply_and_stack_reused() {
    use crate::proto::Parse;
    let mut p = RspParser::new();
    let mut i = info(false, false, false);
    assert_eq!(p.feed(b"-ERR x\r\n", &mut i), Parse::Done { consumed: 8 });
    assert!(i.is_error);
    assert_eq!(
        p.feed(b"*1\r\n*1\r\n+OK\r\n", &mut i),
        Parse::Done { consumed: 13 }
    );
    assert_eq!(i, PLAIN);
    let cap = p.stack.capacity();
    assert_eq!(
        p.feed(b"*1\r\n*1\r\n+OK\r\n", &mut i),
        Parse::Done { consumed: 13 }
    );
    assert_eq!(p.stack.capacity(), cap);
    assert_eq!(p.feed(b">1\r\n+x\r\n", &mut i), Parse::Done { consumed: 8 });
    assert_eq!(i, info(false, true, false));
}

/// Replies captured from redis-server 7.0.15 (`DEBUG PROTOCOL attrib|push|bignum|double|
/// verbatim|true|false|null|map|set`, HGETALL, SMEMBERS, ZRANGE WITHSCORES, nested EVAL tables
/// with an error inside, client-tracking invalidation pushes, XRANGE, SCAN, COMMAND INFO, an
/// unknown command), in RESP3 after `HELLO 3` and in RESP2. Boundaries from an independent
/// reference parser.
#[test]
fn real_redis_captures() {
    let resp3: &[u8] = include_bytes!("resp3_capture.resp");
    let lens3 = [
        145, 93, 32, 47, 40, 8, 36, 4, 4, 3, 28, 16, 4, 32, 4, 11, 3, 4, 21, 39, 10, 7, 5, 7, 5,
        33, 7, 22, 92, 59, 307, 56,
    ];
    let resp2: &[u8] = include_bytes!("resp2_capture.resp");
    let lens2 = [
        46, 45, 44, 11, 32, 4, 4, 5, 28, 16, 4, 32, 4, 11, 5, 4, 20, 39, 10, 9, 7, 5, 7, 22, 136,
        59, 307, 56,
    ];
    for (stream, lens, pushes, errors) in [(resp3, &lens3[..], 2, 2), (resp2, &lens2[..], 0, 3)] {
        let (got, rest) = rsps_all_ways(stream, true);
        assert_eq!(rest, 0);
        assert_eq!(got.iter().map(|r| r.len).collect::<Vec<_>>(), lens);
        assert_eq!(got.iter().filter(|r| r.info.is_push).count(), pushes);
        assert_eq!(got.iter().filter(|r| r.info.is_error).count(), errors);
        assert!(got.iter().all(|r| !r.info.broken));
    }
}

/// The whole-reply fast paths give what the byte-at-a-time path gives.
#[test]
fn fast_paths_agree_with_byte_at_a_time() {
    let mut streams: Vec<Vec<u8>> = [
        &b"$0\r\n\r\n"[..],
        b"$3\r\nabc\r\n",
        b"$3\r\nabcX\n",
        b"$3\r\nabc\rX",
        b"$-1\r\n",
        b"$-2\r\n",
        b"$01\r\na\r\n",
        b"$1 \r\na\r\n",
        b"+OK\r\n",
        b"-ERR x\r\n",
        b"+\r\n",
        b"+a\nb\r\n",
        b"+a\rb\r\n",
        b":0\r\n",
        b":-\r\n",
        b":+5\r\n",
        b":-12\r\n",
        b":--5\r\n",
        b":\r\n",
        b":1a\r\n",
        b":5\n",
        b":5\r",
        b":5\rx",
        b"*2\r\n$1\r\na\r\n$1\r\nb\r\n",
        b"*1\r\n$3\r\nabcXY",
        b"*2\r\n$-1\r\n+OK\r\n",
        b"%1\r\n$1\r\na\r\n:1\r\n",
        b"|1\r\n+a\r\n+b\r\n$1\r\nc\r\n",
        b">2\r\n$1\r\na\r\n$1\r\nb\r\n",
    ]
    .iter()
    .map(|s| s.to_vec())
    .collect();
    for n in [63, 64, 65] {
        let mut s = vec![b':'];
        s.extend_from_slice(&[b'1'; 65][..n]);
        s.extend_from_slice(b"\r\n");
        streams.push(s);
        let mut s = b":-".to_vec();
        s.extend_from_slice(&[b'1'; 65][..n - 1]);
        s.extend_from_slice(b"\r\n");
        streams.push(s);
    }
    let mut s = b"$100\r\n".to_vec();
    s.extend_from_slice(&[b'x'; 100]);
    s.extend_from_slice(b"\r\n");
    streams.push(s);
    for i in 0..streams.len() {
        let mut s = streams[i].clone();
        s.extend_from_slice(b"+OK\r\n$2\r\nab\r\n");
        streams.push(s);
    }
    for s in &streams {
        rsps_all_ways(s, true);
    }
}
