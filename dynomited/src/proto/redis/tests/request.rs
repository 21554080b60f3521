//! Request parser tests: raw `(bytes, expected)` tables, every split of every stream, limits.

use super::*;
use crate::proto::redis::spec;
use crate::proto::redis::tests::{reqs, reqs_all_ways, resp, Req};
use crate::proto::ReqError;

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

fn ok(len: usize, cmd: &'static str, args: &[&str], keys: &[&str], inline: bool) -> Req {
    Req {
        len,
        cmd,
        nargs: args.len() as u32,
        args: args
            .iter()
            .take(crate::proto::ARGS_MAX)
            .map(|a| b(a))
            .collect(),
        keys: keys.iter().map(|k| b(k)).collect(),
        inline,
        error: None,
    }
}

/// A multi-bulk request and what it must parse to.
fn mb(args: &[&str], cmd: &'static str, keys: &[&str]) -> (Vec<u8>, Req) {
    let raw: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    let bytes = resp(&raw);
    let req = ok(bytes.len(), cmd, args, keys, false);
    (bytes, req)
}

fn valid_multibulk() -> Vec<(Vec<u8>, Req)> {
    vec![
        mb(&["SET", "k", "v"], "set", &["k"]),
        mb(&["get", "key:1"], "get", &["key:1"]),
        mb(&["SET", "k", "v", "EX", "10", "NX"], "set", &["k"]),
        mb(&["MGET", "a", "b", "c"], "mget", &["a", "b", "c"]),
        mb(&["DEL", "a"], "del", &["a"]),
        mb(&["MSET", "k1", "v1", "k2", "v2"], "mset", &["k1", "k2"]),
        mb(&["HSET", "h", "f1", "v1", "f2", "v2"], "hset", &["h"]),
        mb(
            &["EVAL", "return 1", "2", "a", "b", "x"],
            "eval",
            &["a", "b"],
        ),
        mb(&["EVALSHA", "abc", "0"], "evalsha", &[]),
        mb(&["EVAL", "s", "5", "a", "b"], "eval", &["a", "b"]),
        mb(&["EVAL", "s", "-1", "a"], "eval", &[]),
        mb(&["EVAL", "s", "x", "a"], "eval", &[]),
        mb(&["FCALL", "f", "1", "k", "arg"], "fcall", &["k"]),
        mb(
            &["ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"],
            "zunionstore",
            &["d", "a", "b"],
        ),
        mb(&["LMPOP", "2", "l1", "l2", "LEFT"], "lmpop", &["l1", "l2"]),
        mb(
            &["SINTERCARD", "2", "s1", "s2", "LIMIT", "5"],
            "sintercard",
            &["s1", "s2"],
        ),
        mb(&["RENAME", "a", "b"], "rename", &["a", "b"]),
        mb(
            &["SUNIONSTORE", "d", "a", "b"],
            "sunionstore",
            &["d", "a", "b"],
        ),
        mb(&["BITOP", "AND", "d", "a", "b"], "bitop", &["d", "a", "b"]),
        mb(&["CONFIG", "GET", "maxmemory"], "config|get", &[]),
        mb(&["client", "SetName", "x"], "client|setname", &[]),
        mb(&["OBJECT", "ENCODING", "k"], "object|encoding", &["k"]),
        mb(&["XINFO", "STREAM", "s"], "xinfo|stream", &["s"]),
        mb(
            &["MEMORY", "USAGE", "k", "SAMPLES", "5"],
            "memory|usage",
            &["k"],
        ),
        mb(&["COMMAND"], "command", &[]),
        mb(&["COMMAND", "DOCS", "get"], "command|docs", &[]),
        mb(&["PING"], "ping", &[]),
        mb(&["ping", "hello world"], "ping", &[]),
        mb(&["HELLO", "3"], "hello", &[]),
        mb(&["SCRIPT", "LOAD", "return 1"], "script|load", &[]),
        mb(
            &["dyno_config:conn_consistency", "DC_QUORUM"],
            "dyno_config:conn_consistency",
            &[],
        ),
        mb(&["JSON.MGET", "a", "b", "$.x"], "json.mget", &["a", "b"]),
        mb(&["INFO"], "info", &[]),
        mb(&["SLAVEOF", "NO", "ONE"], "slaveof", &[]),
        mb(&["SET", "", ""], "set", &[""]),
        mb(
            &["SET", "k\r\n*1\r\n", "$3\r\nfoo\r\n"],
            "set",
            &["k\r\n*1\r\n"],
        ),
        mb(
            &["TOUCH", "a", "b", "c", "d", "e", "f", "g", "h", "i"],
            "touch",
            &["a", "b", "c", "d", "e", "f", "g", "h", "i"],
        ),
    ]
}

fn inl(line: &str, cmd: &'static str, args: &[&str], keys: &[&str]) -> (Vec<u8>, Req) {
    (b(line), ok(line.len(), cmd, args, keys, true))
}

fn valid_inline() -> Vec<(Vec<u8>, Req)> {
    vec![
        inl("PING\r\n", "ping", &["PING"], &[]),
        inl("ping\n", "ping", &["ping"], &[]),
        inl("set a b\r\n", "set", &["set", "a", "b"], &["a"]),
        inl("  SET\t a   b  \r\n", "set", &["SET", "a", "b"], &["a"]),
        inl("GET \"a b\"\r\n", "get", &["GET", "a b"], &["a b"]),
        inl("GET 'a b'\r\n", "get", &["GET", "a b"], &["a b"]),
        inl("ECHO \"a\\\"b\"\r\n", "echo", &["ECHO", "a\\\"b"], &[]),
        inl("ECHO ab\"c d\"\r\n", "echo", &["ECHO", "ab\"c d\""], &[]),
        inl("ECHO \"\"\r\n", "echo", &["ECHO", ""], &[]),
        inl(
            "MSET a 1 b 2\r\n",
            "mset",
            &["MSET", "a", "1", "b", "2"],
            &["a", "b"],
        ),
        inl(
            "MGET a b c\r\n",
            "mget",
            &["MGET", "a", "b", "c"],
            &["a", "b", "c"],
        ),
        inl(
            "SUNIONSTORE d a b\r\n",
            "sunionstore",
            &["SUNIONSTORE", "d", "a", "b"],
            &["d", "a", "b"],
        ),
        inl(
            "JSON.MGET a b $\r\n",
            "json.mget",
            &["JSON.MGET", "a", "b", "$"],
            &["a", "b"],
        ),
        inl(
            "EVAL s 1 k a\r\n",
            "eval",
            &["EVAL", "s", "1", "k", "a"],
            &["k"],
        ),
        inl(
            "ZUNIONSTORE d 2 a b\r\n",
            "zunionstore",
            &["ZUNIONSTORE", "d", "2", "a", "b"],
            &["d", "a", "b"],
        ),
        inl(
            "config get maxmemory\r\n",
            "config|get",
            &["config", "get", "maxmemory"],
            &[],
        ),
        inl("command\r\n", "command", &["command"], &[]),
        inl("\t\x0bPING\r\n", "ping", &["PING"], &[]),
        inl("PING a\x00 b c\r\n", "ping", &["PING", "a"], &[]),
        inl("PING\r\r\n", "ping", &["PING"], &[]),
    ]
}

fn empty(len: usize, inline: bool) -> Req {
    Req {
        len,
        cmd: "",
        nargs: 0,
        args: vec![],
        keys: vec![],
        inline,
        error: None,
    }
}

#[test]
fn table_multibulk() {
    for (bytes, want) in valid_multibulk() {
        let (got, rest) = reqs_all_ways(&bytes, true);
        assert_eq!(rest, 0);
        assert_eq!(got, vec![want], "{:?}", String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn table_inline() {
    for (bytes, want) in valid_inline() {
        let (got, rest) = reqs_all_ways(&bytes, true);
        assert_eq!(rest, 0);
        assert_eq!(got, vec![want], "{:?}", String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn empty_messages() {
    let cases: &[(&str, Req)] = &[
        ("\r\n", empty(2, true)),
        ("\n", empty(1, true)),
        ("   \t\r\n", empty(6, true)),
        ("\x00junk\r\n", empty(7, true)),
        ("*0\r\n", empty(4, false)),
        ("*-1\r\n", empty(5, false)),
        ("*-99\r\n", empty(6, false)),
    ];
    for (s, want) in cases {
        let (got, rest) = reqs_all_ways(s.as_bytes(), true);
        assert_eq!((got, rest), (vec![want.clone()], 0), "{s:?}");
    }
}

#[test]
fn pipeline_of_everything_splits_the_same() {
    let mut stream = Vec::new();
    let mut want = Vec::new();
    for (bytes, req) in valid_multibulk().into_iter().chain(valid_inline()) {
        stream.extend_from_slice(&bytes);
        want.push(req);
    }
    let (got, rest) = reqs_all_ways(&stream, true);
    assert_eq!(rest, 0);
    assert_eq!(got, want);
}

fn err(input: &str) -> (Vec<Req>, usize) {
    reqs_all_ways(input.as_bytes(), true)
}

fn one_error(input: &str) -> ReqError {
    let (got, rest) = err(input);
    assert_eq!(rest, 0, "{input:?}");
    assert_eq!(got.len(), 1, "{input:?}: {got:?}");
    assert_eq!(got[0].len, input.len(), "{input:?}");
    got[0]
        .error
        .clone()
        .unwrap_or_else(|| panic!("{input:?} has no error"))
}

#[test]
fn command_errors() {
    use ReqError::*;
    let unk = |s: &str| UnknownCommand(s.to_string());
    let cases: &[(&str, ReqError)] = &[
        ("*1\r\n$3\r\nfoo\r\n", unk("foo")),
        ("*2\r\n$3\r\nFoo\r\n$1\r\na\r\n", unk("Foo")),
        ("foo bar\r\n", unk("foo")),
        ("*1\r\n$0\r\n\r\n", unk("")),
        ("*1\r\n$9\r\nclient|id\r\n", unk("client|id")),
        (
            "*1\r\n$33\r\nabcdefghijklmnopqrstuvwxyz0123456\r\n",
            unk("abcdefghijklmnopqrstuvwxyz012345"),
        ),
        ("*2\r\n$6\r\nCONFIG\r\n$3\r\nFOO\r\n", unk("config|FOO")),
        ("object nope k\r\n", unk("object|nope")),
        ("*1\r\n$3\r\nGET\r\n", WrongArity("get".into())),
        (
            "*4\r\n$3\r\nGET\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n",
            WrongArity("get".into()),
        ),
        ("get\r\n", WrongArity("get".into())),
        ("mset a\r\n", WrongArity("mset".into())),
        ("config\r\n", WrongArity("config".into())),
        ("*1\r\n$6\r\nconfig\r\n", WrongArity("config".into())),
        ("client setname\r\n", WrongArity("client|setname".into())),
        (
            "dyno_config:conn_consistency\r\n",
            WrongArity("dyno_config:conn_consistency".into()),
        ),
        (
            "*3\r\n$5\r\nBLPOP\r\n$1\r\nl\r\n$1\r\n0\r\n",
            Unsupported("BLPOP".into()),
        ),
        ("multi\r\n", Unsupported("MULTI".into())),
        ("subscribe ch\r\n", Unsupported("SUBSCRIBE".into())),
        (
            "client kill 1.2.3.4:5\r\n",
            Unsupported("CLIENT KILL".into()),
        ),
        ("SWAPDB 0 1\r\n", Unsupported("SWAPDB".into())),
        (
            "config set maxmemory 1\r\n",
            Unsupported("CONFIG SET".into()),
        ),
        ("GET \"a\\x41\"\r\n", Protocol(E_INLINE_ESC_KEY)),
        ("MSET a 1 'b\\'' 2\r\n", Protocol(E_INLINE_ESC_KEY)),
    ];
    for (input, want) in cases {
        assert_eq!(one_error(input), *want, "{input:?}");
    }
    // Escapes in a non-key argument are fine.
    let (got, _) = err("SET k \"a\\x41\"\r\n");
    assert_eq!(got[0].error, None);
    assert_eq!(got[0].keys, vec![b("k")]);
}

#[test]
fn framing_errors_resync_at_line_end() {
    use ReqError::Protocol;
    let cases: &[(&str, &str, &str)] = &[
        // (bad message, its error, the rest parsed afterwards)
        ("*x\r\n", E_MBULK_LEN, ""),
        ("*1x\r\n", E_MBULK_LEN, ""),
        ("*01\r\n", E_MBULK_LEN, ""),
        ("*\r\n", E_MBULK_LEN, ""),
        ("*2147483648\r\n", E_MBULK_LEN, ""),
        ("*1\n", E_MBULK_LEN, ""),
        ("*1\rx\n", E_MBULK_LEN, ""),
        ("*1\r\nx\r\n", "Protocol error: expected '$', got 'x'", ""),
        ("*1\r\n\r\n", "Protocol error: expected '$', got ' '", ""),
        ("*1\r\n\n", "Protocol error: expected '$', got ' '", ""),
        (
            "*1\r\n\u{7f}\r\n",
            "Protocol error: expected '$', got '\u{7f}'",
            "",
        ),
        ("*1\r\n$x\r\n", E_BULK_LEN, ""),
        ("*1\r\n$-1\r\n", E_BULK_LEN, ""),
        ("*1\r\n$536870913\r\n", E_BULK_LEN, ""),
        ("*1\r\n$4\r\nPINGxy\r\n", E_BULK_CRLF, ""),
        ("*1\r\n$4\r\nPING\n", E_BULK_CRLF, ""),
        ("*1\r\n$4\r\nPING\rx\n", E_BULK_CRLF, ""),
        ("*2\r\n$3\r\nGET\r\n$1x\r\n", E_BULK_LEN, ""),
        ("set \"a b\r\n", E_QUOTES, ""),
        ("set 'a b\r\n", E_QUOTES, ""),
        ("echo \"ab\"c\r\n", E_QUOTES, ""),
        ("echo 'a\\'\r\n", E_QUOTES, ""),
        ("echo \"a\\\r\n", E_QUOTES, ""),
        ("echo \"a\x00\" b\r\n", E_QUOTES, ""),
    ];
    let ping = resp(&[b"PING"]);
    for (bad, e, _) in cases {
        let mut stream = bad.as_bytes().to_vec();
        stream.extend_from_slice(&ping);
        let (got, rest) = reqs_all_ways(&stream, true);
        assert_eq!(rest, 0, "{bad:?}");
        assert_eq!(got.len(), 2, "{bad:?}: {got:?}");
        assert_eq!(got[0].len, bad.len(), "{bad:?}");
        assert_eq!(got[0].error, Some(Protocol(e)), "{bad:?}");
        assert_eq!(
            got[1],
            ok(ping.len(), "ping", &["PING"], &[], false),
            "{bad:?}"
        );
    }
    // A framing error replaces an earlier command error.
    let input = "*2\r\n$3\r\nfoo\r\n$x\r\n";
    assert_eq!(one_error(input), Protocol(E_BULK_LEN));
}

#[test]
fn discard_is_drop_once_known_bad() {
    use crate::proto::{Discard, Parse, ReqInfo};
    let mut p = ReqParser::new();
    let mut info = ReqInfo::default();
    assert_eq!(
        p.feed(b"*3\r\n$5\r\nBLPOP\r\n", &mut info),
        Parse::Incomplete
    );
    assert_eq!(p.discard(), Discard::Drop);
    assert_eq!(
        p.feed(b"$1\r\nl\r\n$1\r\n0\r\n", &mut info),
        Parse::Done { consumed: 14 }
    );
    assert_eq!(p.discard(), Discard::Keep);
    assert_eq!(p.feed(b"*1\r\n$3\r\nGET", &mut info), Parse::Incomplete);
    assert_eq!(p.discard(), Discard::Keep); // the name is not complete yet
    assert_eq!(p.feed(b"\r\n", &mut info), Parse::Done { consumed: 2 });
    assert_eq!(info.error, Some(ReqError::WrongArity("get".into())));
    let mut p = ReqParser::new();
    assert_eq!(p.feed(b"*1\r\n$4\r\nPI", &mut info), Parse::Incomplete);
    assert_eq!(p.discard(), Discard::Keep);
    assert_eq!(p.feed(b"*x", &mut info), Parse::Incomplete);
    assert_eq!(p.discard(), Discard::Keep); // still payload bytes
    let mut p = ReqParser::new();
    assert_eq!(p.feed(b"*1x", &mut info), Parse::Incomplete);
    assert_eq!(p.discard(), Discard::Drop);
    assert_eq!(p.offset(), 3);
    assert_eq!(
        p.feed(b"yz\r\nPING\r\n", &mut info),
        Parse::Done { consumed: 4 }
    );
    p.reset();
    assert_eq!(p.offset(), 0);
}

#[test]
fn too_big_lines() {
    use ReqError::Protocol;
    let mut s = vec![b'a'; PROTO_INLINE_MAX_SIZE + 1];
    s.extend_from_slice(b"\r\nPING\r\n");
    let (got, rest) = reqs(&s);
    assert_eq!(rest, 0);
    assert_eq!(got[0].error, Some(Protocol(E_INLINE_BIG)));
    assert_eq!(got[0].len, PROTO_INLINE_MAX_SIZE + 3);
    assert_eq!(got[1].cmd, "ping");
    // Exactly the limit is fine.
    let mut s = b"ECHO ".to_vec();
    s.resize(PROTO_INLINE_MAX_SIZE, b'x');
    s.extend_from_slice(b"\n");
    let (got, _) = reqs(&s);
    assert_eq!(got[0].error, None);
    assert_eq!(got[0].args[1].len(), PROTO_INLINE_MAX_SIZE - 5);

    for (head, e) in [("*1", E_MBULK_BIG), ("*1\r\n$1", E_BULK_BIG)] {
        let mut s = head.as_bytes().to_vec();
        s.resize(PROTO_INLINE_MAX_SIZE + 10, b'1');
        s.extend_from_slice(b"\r\n");
        let (got, rest) = reqs(&s);
        assert_eq!((got.len(), rest), (1, 0));
        assert_eq!(got[0].error, Some(Protocol(e)));
    }
}

/// Found while fuzzing the `i32::MAX` arguments a header may announce: past 4 GiB a span's
/// u32 start saturated, so the keys of a huge MGET pointed at the wrong bytes (and
/// `Span::end` overflowed). Such a request is now refused, and framed to its end.
#[test]
fn a_request_past_4_gib_is_refused() {
    let bulk = 512usize << 20;
    let zeros = vec![0u8; 1 << 20];
    let mut p = ReqParser::new();
    let mut info = ReqInfo::default();
    assert_eq!(
        p.feed(b"*11\r\n$4\r\nMGET\r\n", &mut info),
        Parse::Incomplete
    );
    for _ in 0..9 {
        assert_eq!(
            p.feed(format!("${bulk}\r\n").as_bytes(), &mut info),
            Parse::Incomplete
        );
        for _ in 0..bulk / zeros.len() {
            assert_eq!(p.feed(&zeros, &mut info), Parse::Incomplete);
        }
        assert_eq!(p.feed(b"\r\n", &mut info), Parse::Incomplete);
    }
    assert_eq!(
        p.feed(b"$1\r\nk\r\n", &mut info),
        Parse::Done { consumed: 7 }
    );
    assert_eq!(info.error, Some(ReqError::Protocol(E_REQ_BIG)));
    for k in &info.keys {
        assert!(k.start.checked_add(k.len).is_some(), "key span {k:?}");
    }
    // The parser is in step for the next request.
    assert_eq!(p.feed(b"PING\r\n", &mut info), Parse::Done { consumed: 6 });
    assert_eq!(info.error, None);
}

#[test]
fn hundred_thousand_args_and_five_mib_value() {
    let n = 100_000;
    let keys: Vec<String> = (0..n / 2).map(|i| format!("key:{i:06}")).collect();
    let mut args: Vec<&[u8]> = vec![b"MSET"];
    for k in &keys {
        args.push(k.as_bytes());
        args.push(b"value");
    }
    let big = vec![b'v'; 5 << 20];
    let set_big = resp(&[b"SET", b"big", &big]);
    let mut stream = resp(&args);
    let mset_len = stream.len();
    stream.extend_from_slice(&set_big);

    // Odd chunk sizes, including ones that cut headers and payloads.
    for chunk in [stream.len(), 16 * 1024, 4093, 7] {
        let cuts: Vec<usize> = (1..)
            .map(|i| i * chunk)
            .take_while(|&c| c < stream.len())
            .collect();
        let (got, rest) = super::super::tests::reqs_split(&stream, &cuts);
        assert_eq!(rest, 0);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].len, mset_len);
        assert_eq!(got[0].nargs as usize, args.len());
        assert_eq!(got[0].keys.len(), n / 2);
        assert_eq!(got[0].keys[n / 2 - 1], keys[n / 2 - 1].as_bytes());
        assert_eq!(got[0].error, None);
        assert_eq!(got[1].cmd, "set");
        assert_eq!(got[1].args[2].len(), 5 << 20);
        assert_eq!(got[1].keys, vec![b("big")]);
    }
}

#[test]
fn limits_accepted() {
    // The largest count and length redis-server accepts start a message; nothing else needed.
    use crate::proto::{Parse, ReqInfo};
    let mut p = ReqParser::new();
    let mut info = ReqInfo::default();
    let s = format!("*{}\r\n$4\r\nMGET\r\n${}\r\n", i32::MAX, PROTO_MAX_BULK_LEN);
    assert_eq!(p.feed(s.as_bytes(), &mut info), Parse::Incomplete);
    assert_eq!(p.discard(), crate::proto::Discard::Keep);
    assert_eq!(info.nargs, i32::MAX as u32);
    assert_eq!(info.keys.len(), 1);
    assert_eq!(info.keys[0].len as i64, PROTO_MAX_BULK_LEN);
}

#[test]
fn info_is_reset_per_message_and_keys_capacity_reused() {
    use crate::proto::{Parse, ReqInfo};
    let mut p = ReqParser::new();
    let mut info = ReqInfo::default();
    let a = resp(&[b"MGET", b"a", b"b", b"c"]);
    let c = resp(&[b"PING"]);
    assert_eq!(p.feed(&a, &mut info), Parse::Done { consumed: a.len() });
    let cap = info.keys.capacity();
    assert_eq!(p.feed(&c, &mut info), Parse::Done { consumed: c.len() });
    assert!(info.keys.is_empty());
    assert_eq!(info.keys.capacity(), cap);
    assert_eq!(spec(info.cmd).name, "ping");
}

#[test]
fn key_helpers_agree() {
    // Positional keys counted by `range_key_count` are the ones `is_key` accepts.
    for s in crate::proto::redis::all() {
        for nargs in 1..12u32 {
            let n = (0..nargs).filter(|&i| is_key(s, i, Some(nargs), 0)).count();
            assert_eq!(n, range_key_count(s, nargs), "{} {nargs}", s.name);
        }
    }
}

/// The one-chunk fast paths (whole multi-bulk arguments, one-word inline requests) give what
/// the byte-at-a-time path gives, with and without bytes after the request in the chunk.
#[test]
fn fast_paths_agree_with_byte_at_a_time() {
    let long_name = vec![b'x'; NAME_MAX];
    let longer_name = vec![b'x'; NAME_MAX + 1];
    let mut streams: Vec<Vec<u8>> = [
        &b"PING\r\n"[..],
        b"ping\r\nPING\r\n",
        b"*abc\r\n",
        b"*\r\n",
        b"ping\x0b\r\n",
        b"\x0bping\r\n",
        b"GET\r\n",
        b"client\r\n",
        b"CONFIG\r\nPING\r\n",
        b"nosuchcommand\r\n",
        b"multi\r\n",
        b"a\"b\r\n",
        b"'ping'\r\n",
        b"PI\\NG\r\n",
        b"PING\n",
        b"PING\r\r\n",
        b"PING\rx\n",
        b"PING \r\n",
        b"PING\0\r\n",
        b"*1\r\n$04\r\nPING\r\n",
        b"*2\r\n$3\r\nGET\r\n$1\r\nkXY\r\n",
        b"*2\r\n$3\r\nGET\r\n$1\r\nk\n",
        b"*2\r\n$3\r\nGET\r\n$10\r\nk\r\n",
        b"*1\r\n$0\r\n\r\n",
        b"*3\r\n$3\r\nGET\r\n$1\r\nk\r\n$1\r\nv\r\n",
        b"*2\r\n$7\r\nUNKNOWN\r\n$1\r\nk\r\n",
        b"*2\r\n$5\r\nMULTI\r\n$1\r\nk\r\n",
        b"*99\r\n$3\r\nGET\r\n",
    ]
    .iter()
    .map(|s| s.to_vec())
    .collect();
    let mut line = long_name.clone();
    line.extend_from_slice(b"\r\n");
    streams.push(line);
    let mut line = longer_name.clone();
    line.extend_from_slice(b"\r\n");
    streams.push(line);
    let key = b"key:000000012345";
    let value = [b'v'; 100];
    for args in [
        &[&b"GET"[..], key][..],
        &[b"get", key],
        &[b"SET", key, &value],
        &[
            b"MGET", b"a", b"b", b"c", b"d", b"e", b"f", b"g", b"h", b"i", b"j",
        ],
        &[b"MSET", b"a", b"1", b"b", b"2"],
        &[b"EVAL", b"return 1", b"2", b"a", b"b", b"c"],
        &[b"EVAL", b"return 1", b"x", b"a"],
        &[
            b"ZUNIONSTORE",
            b"d",
            b"2",
            b"a",
            b"b",
            b"WEIGHTS",
            b"1",
            b"2",
        ],
        &[b"CLIENT", b"SETNAME", b"n"],
        &[b"config", b"get", b"maxmemory"],
        &[b"config", b"nope"],
        &[b"client"],
        &[b"GET"],
        &[b"PING"],
        &[&long_name, b"a"],
        &[&longer_name, b"a"],
        &[b"", b"a"],
    ] {
        streams.push(resp(args));
    }
    // Each again with a request after it, so more than a name's worth of bytes follows.
    let tail = resp(&[b"GET", &[b'k'; 40]]);
    for i in 0..streams.len() {
        let mut s = streams[i].clone();
        s.extend_from_slice(&tail);
        streams.push(s);
    }
    for s in &streams {
        reqs_all_ways(s, true);
    }
}
