//! Wire tables for the memcached parsers (client-visible outcomes checked against memcached
//! 1.6.18), every stream split at every byte offset, and shared test helpers.

use super::*;
use crate::proto::{Discard, Parse, ReqError, ReqInfo, RspInfo, Span, ARGS_MAX};

mod live;
mod props;

/// One parsed request, with its spans resolved to bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Req {
    pub len: usize,
    pub cmd: u16,
    pub nargs: u32,
    pub args: Vec<Vec<u8>>,
    pub keys: Vec<Vec<u8>>,
    pub noreply: bool,
    pub error: Option<ReqError>,
}

/// One parsed reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Rsp {
    pub len: usize,
    pub is_error: bool,
    pub broken: bool,
}

fn bytes_at(msg: &[u8], s: Span) -> Vec<u8> {
    msg.get(s.start as usize..s.end() as usize)
        .unwrap_or_else(|| panic!("span {s:?} outside a message of {} bytes", msg.len()))
        .to_vec()
}

/// Split `stream` at `cuts` (offsets, any order, duplicates allowed).
pub(super) fn chunks<'a>(stream: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = cuts.iter().map(|&c| c.min(stream.len())).collect();
    cuts.sort_unstable();
    let mut out = Vec::new();
    let mut at = 0;
    for c in cuts.into_iter().chain([stream.len()]) {
        out.push(&stream[at..c]);
        at = c;
    }
    out
}

/// Parse a request stream fed in the given chunks, checking the feed contract on every call.
/// Returns the complete messages and the length of a trailing unfinished one.
pub(super) fn parse_reqs(stream: &[u8], cuts: &[usize]) -> (Vec<Req>, usize) {
    let mut p = ReqParser::new();
    let mut info = ReqInfo::default();
    let mut out = Vec::new();
    let mut start = 0; // stream offset of the current message
    let mut at = 0; // stream offset of the next unfed byte
    for chunk in chunks(stream, cuts) {
        let mut rest = chunk;
        while !rest.is_empty() {
            match p.feed(rest, &mut info) {
                Parse::Done { consumed } => {
                    assert!(
                        consumed >= 1 && consumed <= rest.len(),
                        "consumed {consumed}"
                    );
                    at += consumed;
                    rest = &rest[consumed..];
                    let msg = &stream[start..at];
                    let nargs = (info.nargs as usize).min(ARGS_MAX);
                    out.push(Req {
                        len: msg.len(),
                        cmd: info.cmd,
                        nargs: info.nargs,
                        args: info.args[..nargs]
                            .iter()
                            .map(|&s| bytes_at(msg, s))
                            .collect(),
                        keys: info.keys.iter().map(|&s| bytes_at(msg, s)).collect(),
                        noreply: info.noreply,
                        error: info.error.clone(),
                    });
                    assert_eq!(p.offset(), 0);
                    start = at;
                }
                Parse::Incomplete => {
                    at += rest.len();
                    rest = &[];
                    assert_eq!(p.offset(), at - start, "offset after Incomplete");
                }
            }
        }
    }
    (out, at - start)
}

/// Parse a reply stream fed in the given chunks, checking the feed contract on every call.
pub(super) fn parse_rsps(stream: &[u8], cuts: &[usize]) -> (Vec<Rsp>, usize) {
    let mut p = RspParser::new();
    let mut info = RspInfo::default();
    let mut out = Vec::new();
    let mut len = 0;
    for chunk in chunks(stream, cuts) {
        let mut rest = chunk;
        while !rest.is_empty() {
            match p.feed(rest, &mut info) {
                Parse::Done { consumed } => {
                    assert!(
                        consumed >= 1 && consumed <= rest.len(),
                        "consumed {consumed}"
                    );
                    rest = &rest[consumed..];
                    out.push(Rsp {
                        len: len + consumed,
                        is_error: info.is_error,
                        broken: info.broken,
                    });
                    assert!(!info.is_push);
                    assert_eq!(p.offset(), 0);
                    len = 0;
                }
                Parse::Incomplete => {
                    len += rest.len();
                    rest = &[];
                    assert_eq!(p.offset(), len, "offset after Incomplete");
                }
            }
        }
    }
    (out, len)
}

/// Whole, split at every offset, and one byte at a time: the same messages each way.
pub(super) fn reqs_any_split(stream: &[u8]) -> (Vec<Req>, usize) {
    let whole = parse_reqs(stream, &[]);
    for k in 0..=stream.len() {
        assert_eq!(parse_reqs(stream, &[k]), whole, "split at {k}");
    }
    let all: Vec<usize> = (0..stream.len()).collect();
    assert_eq!(parse_reqs(stream, &all), whole, "byte at a time");
    whole
}

pub(super) fn rsps_any_split(stream: &[u8]) -> (Vec<Rsp>, usize) {
    let whole = parse_rsps(stream, &[]);
    for k in 0..=stream.len() {
        assert_eq!(parse_rsps(stream, &[k]), whole, "split at {k}");
    }
    let all: Vec<usize> = (0..stream.len()).collect();
    assert_eq!(parse_rsps(stream, &all), whole, "byte at a time");
    whole
}

/// What the client would see from the proxy: each rejected request's error reply (nothing for
/// `noreply`), each forwarded one as `[name]` (`[name~]` with noreply).
pub(super) fn client_view(stream: &[u8]) -> String {
    view(reqs_any_split(stream))
}

/// `client_view` of a long stream, split at a few offsets only (all of them is slow).
fn client_view_long(stream: &[u8]) -> String {
    let whole = parse_reqs(stream, &[]);
    for cuts in [
        &[1, 2047, 2048, 2049][..],
        &[2050, 2051, 4000],
        &[100, 101, 102, 103],
    ] {
        assert_eq!(parse_reqs(stream, cuts), whole, "{cuts:?}");
    }
    view(whole)
}

fn view((reqs, rest): (Vec<Req>, usize)) -> String {
    let mut out = Vec::new();
    for r in &reqs {
        match &r.error {
            Some(_) if r.noreply => {}
            Some(e) => req_error_reply(e, &mut out),
            None => {
                let name = Cmd::from_u16(r.cmd).map_or("?", Cmd::name);
                let tilde = if r.noreply { "~" } else { "" };
                out.extend_from_slice(format!("[{name}{tilde}]").as_bytes());
            }
        }
    }
    if rest > 0 {
        out.extend_from_slice(format!("<{rest} pending>").as_bytes());
    }
    String::from_utf8_lossy(&out).into_owned()
}

const FMT: &str = "CLIENT_ERROR bad command line format\r\n";

/// Client-visible outcomes. Every line marked "mc" was sent to memcached 1.6.18 and its reply
/// there is the same (with the forwarded commands answered by memcached instead).
#[test]
fn client_visible_table() {
    let long_key = format!("get {}\r\n", "a".repeat(251));
    let long_set = format!("set {} 0 0 1\r\nx\r\n", "a".repeat(251));
    let ok_key = format!("get {}\r\n", "a".repeat(250));
    let cases: Vec<(&[u8], String)> = vec![
        (b"get k\r\n", "[get]".into()),
        (b"get k\n", "[get]".into()),           // mc: bare \n accepted
        (b"  get   a  b \r\n", "[get]".into()), // mc: spaces collapse
        (b"gets a b c\r\n", "[gets]".into()),
        (b"GET k\r\n", "ERROR\r\n".into()), // mc: names are case-sensitive
        (b"get\r\n", "ERROR\r\n".into()),   // mc
        (b"gets\r\n", "ERROR\r\n".into()),  // mc
        (b"\r\n", "ERROR\r\n".into()),      // mc
        (b"\n", "ERROR\r\n".into()),        // mc
        (b"   \r\n", "ERROR\r\n".into()),   // mc
        (b"v\r\n", "ERROR\r\n".into()),     // mc
        (long_key.as_bytes(), FMT.into()),  // mc
        (ok_key.as_bytes(), "[get]".into()), // mc
        (long_set.as_bytes(), format!("{FMT}ERROR\r\n")), // mc: no data skipped
        (b"get k\x01x\r\n", FMT.into()),    // stricter: memcached takes it
        (b"get k\rx\r\n", FMT.into()),      // stricter: a lone \r is a key byte
        (b"set k 0 0 5\r\nhello\r\n", "[set]".into()),
        (b"set k 0 0 5\nhello\r\n", "[set]".into()), // mc
        (b"set k 0 0 0\r\n\r\n", "[set]".into()),
        (b"set k 0 0 1 noreply\r\na\r\n", "[set~]".into()),
        (b"set k 0 0 1 foo\r\na\r\n", "[set]".into()), // mc: STORED, the extra token ignored
        (b"set k 0 0 +1\r\na\r\n", "[set]".into()),    // mc
        (b"set k 0 -1 1\r\na\r\n", "[set]".into()),    // mc
        (b"set k 0 0 x\r\nget k\r\n", format!("{FMT}[get]")), // mc
        (b"set k -1 0 1\r\na\r\n", format!("{FMT}ERROR\r\n")), // mc
        (b"set k 0 0 -1\r\na\r\n", format!("{FMT}ERROR\r\n")), // mc
        (
            b"set k 0 0 1 noreply\r\nab\r\nversion\r\n",
            "ERROR\r\n[version]".into(),
        ), // mc
        (b"set k 0 0 noreply\r\nget k\r\n", "[get]".into()), // mc: the error is not sent
        (b"set k\t0 0 1\r\na\r\n", "ERROR\r\nERROR\r\n".into()), // mc: a tab is no separator
        (
            b"set k 0 0 5\r\nhello world\r\nget k\r\n", // mc
            "CLIENT_ERROR bad data chunk\r\nERROR\r\n[get]".into(),
        ),
        (
            b"set k 0 0 5\r\nhelloXY\r\nget k\r\n", // mc
            "CLIENT_ERROR bad data chunk\r\nERROR\r\n[get]".into(),
        ),
        (b"set k 0 0 2\r\na\n\r\n", "[set]".into()), // mc: data may hold \n
        (b"set k 0 0 4294967296\r\n", FMT.into()),   // stricter (memcached truncates)
        (b"set k 4294967296 0 1\r\na\r\n", format!("{FMT}ERROR\r\n")), // stricter
        (b"set k 0 0 1\r\n", "<13 pending>".into()),
        (b"cas k 0 0 1 5\r\na\r\n", "[cas]".into()),
        (b"cas k 0 0 1 x\r\na\r\n", format!("{FMT}ERROR\r\n")), // mc
        (
            b"cas k 0 0 1 5 noreply\r\na\r\nversion\r\n",
            "[cas~][version]".into(),
        ),
        (b"cas k 0 0 1\r\na\r\n", "ERROR\r\nERROR\r\n".into()),
        (b"incr k 1\r\n", "[incr]".into()),
        (b"decr k 18446744073709551615 noreply\r\n", "[decr~]".into()),
        (
            b"incr k x\r\n",
            "CLIENT_ERROR invalid numeric delta argument\r\n".into(),
        ), // mc
        (b"incr k noreply\r\nversion\r\n", "[version]".into()), // mc: error suppressed
        (b"incr k 1 2\r\n", "[incr]".into()),                   // mc: forwarded, the `2` ignored
        (b"incr k\r\n", "ERROR\r\n".into()),
        (b"touch k 10\r\n", "[touch]".into()),
        (b"touch k 10 20\r\n", "[touch]".into()), // mc: TOUCHED
        (
            b"touch k x\r\n",
            "CLIENT_ERROR invalid exptime argument\r\n".into(),
        ), // mc
        (b"touch k noreply\r\nversion\r\n", "[version]".into()), // mc
        (b"gat 10 a b\r\n", "[gat]".into()),
        (b"gats -1 a\r\n", "[gats]".into()),
        (
            b"gat x k\r\n",
            "CLIENT_ERROR invalid exptime argument\r\n".into(),
        ), // mc
        (b"gat\r\n", "ERROR\r\n".into()),    // mc
        (b"gat 10\r\n", "ERROR\r\n".into()), // stricter: memcached says END
        (
            b"gat 1x\r\n",
            "CLIENT_ERROR invalid exptime argument\r\n".into(),
        ), // mc
        (b"delete k\r\n", "[delete]".into()),
        (b"delete k 0\r\n", "[delete]".into()), // mc: DELETED
        (b"delete k noreply\r\n", "[delete~]".into()),
        (b"delete k 0 noreply\r\n", "[delete~]".into()), // mc
        (b"delete noreply\r\n", "[delete]".into()),      // the key is "noreply"
        (
            b"delete k 1\r\n", // mc
            "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n".into(),
        ),
        (
            b"delete k 0 0\r\n", // mc
            "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n".into(),
        ),
        (b"delete k x noreply\r\nversion\r\n", "[version]".into()), // mc: error suppressed
        (b"delete k a b c\r\n", "ERROR\r\n".into()),                // mc
        (b"delete\r\n", "ERROR\r\n".into()),                        // mc
        (b"version\r\n", "[version]".into()),
        (b"version foo\r\n", "[version]".into()), // mc
        (b"quit\r\n", "[quit]".into()),
        (b"quit foo\r\n", "[quit]".into()),       // mc: closes
        (b"mg k v\r\n", "ERROR\r\n".into()),      // meta commands are not forwarded
        (b"flush_all\r\n", "[flush_all]".into()), // mc: OK
        (b"flush_all noreply\r\n", "[flush_all~]".into()), // mc
        (b"flush_all -1\r\n", "[flush_all]".into()), // mc: OK
        (b"flush_all 10 foo\r\n", "[flush_all]".into()), // mc: OK
        (b"flush_all 10 noreply\r\n", "[flush_all~]".into()),
        (
            b"flush_all x\r\n",
            "CLIENT_ERROR invalid exptime argument\r\n".into(),
        ), // mc
        (b"flush_all x noreply\r\nversion\r\n", "[version]".into()), // mc
        (b"flush_all noreply noreply\r\n", "".into()),               // mc: nothing
        (b"flush_all 1 2 3\r\n", "ERROR\r\n".into()),                // mc
        (b"verbosity\r\n", "ERROR\r\n".into()),                      // mc
        (b"verbosity 1\r\n", "[verbosity]".into()),                  // mc: OK
        (b"verbosity 1 2\r\n", "[verbosity]".into()),                // mc: OK
        (b"verbosity 1 noreply\r\n", "[verbosity~]".into()),         // mc
        (b"verbosity x\r\n", FMT.into()),                            // mc
        (b"verbosity noreply\r\nversion\r\n", "[version]".into()),   // mc: nothing
        (b"verbosity 1 2 3\r\n", "ERROR\r\n".into()),                // mc
        (b"stats\r\n", "[stats]".into()),
        (b"stats settings\r\n", "[stats]".into()),
        (b"stats foo noreply\r\n", "[stats]".into()), // stats takes no noreply
    ];
    for (stream, want) in cases {
        assert_eq!(
            client_view(stream),
            want,
            "{:?}",
            String::from_utf8_lossy(stream)
        );
    }
}

/// Lines past 2048 bytes: memcached closes the connection unless the line is a get/gets with at
/// most 100 leading spaces (checked with a live memcached, the line sent in two writes).
#[test]
fn long_lines() {
    let too_long = "CLIENT_ERROR line too long\r\n";
    let pad = |n: usize| " ".repeat(n);
    // "version" + spaces: 2048 bytes before the \n pass, 2049 do not (a \r counts).
    let ok = format!("version{}\n", pad(2041));
    assert_eq!(client_view_long(ok.as_bytes()), "[version]");
    let ok = format!("version{}\r\n", pad(2040));
    assert_eq!(client_view_long(ok.as_bytes()), "[version]");
    let bad = format!("version{}\r\nget k\r\n", pad(2041));
    assert_eq!(parse_reqs(bad.as_bytes(), &[]).0.len(), 2);
    assert_eq!(client_view_long(bad.as_bytes()), format!("{too_long}[get]"));
    // A data block after a too long storage line is read as the next command.
    let bad = format!("set k 0 0 1 {}\r\na\r\n", pad(2100));
    assert_eq!(
        client_view_long(bad.as_bytes()),
        format!("{too_long}ERROR\r\n")
    );
    // get/gets may be long: 3000 keys.
    let keys = "k ".repeat(3000);
    let get = format!("get {keys}\r\n");
    let (reqs, _) = parse_reqs(get.as_bytes(), &[100, 2047, 2048, 2049, 4000]);
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].keys.len(), 3000);
    assert_eq!(reqs[0].nargs, 3001);
    assert_eq!(reqs[0].error, None);
    let gets = format!("{}gets {keys}\r\n", pad(100));
    assert_eq!(client_view_long(gets.as_bytes()), "[gets]");
    let gets = format!("{}gets {keys}\r\n", pad(101));
    assert_eq!(client_view_long(gets.as_bytes()), too_long);
    let gat = format!("gat 0 {keys}\r\n");
    assert_eq!(client_view_long(gat.as_bytes()), too_long);
    // Past RETRIEVAL_LINE_MAX even a get is too long; the parser drops, not buffers.
    let huge = format!("get {}", "k ".repeat(RETRIEVAL_LINE_MAX / 2));
    let mut p = ReqParser::new();
    let mut info = ReqInfo::default();
    assert_eq!(p.feed(huge.as_bytes(), &mut info), Parse::Incomplete);
    assert_eq!(p.discard(), Discard::Drop);
    assert_eq!(
        p.feed(b"k\r\nget x\r\n", &mut info),
        Parse::Done { consumed: 3 }
    );
    assert_eq!(info.error, Some(ReqError::Client(text::LINE_TOO_LONG)));
}

#[test]
fn request_fields() {
    let (reqs, rest) =
        reqs_any_split(b"get a bb ccc\r\nset k 1 2 3 noreply\r\nxyz\r\ndelete k 0\r\nfoo\r\n");
    assert_eq!(rest, 0);
    assert_eq!(
        reqs[0],
        Req {
            len: 14,
            cmd: Cmd::Get as u16,
            nargs: 4,
            args: vec![
                b"get".to_vec(),
                b"a".to_vec(),
                b"bb".to_vec(),
                b"ccc".to_vec()
            ],
            keys: vec![b"a".to_vec(), b"bb".to_vec(), b"ccc".to_vec()],
            noreply: false,
            error: None,
        }
    );
    assert_eq!(reqs[1].len, 26);
    assert_eq!(reqs[1].cmd, Cmd::Set as u16);
    assert_eq!(reqs[1].nargs, 6);
    assert_eq!(reqs[1].args[4], b"3");
    assert_eq!(reqs[1].keys, vec![b"k".to_vec()]);
    assert!(reqs[1].noreply);
    assert_eq!(reqs[2].cmd, Cmd::Delete as u16);
    assert_eq!(reqs[2].nargs, 3);
    assert!(!reqs[2].noreply);
    assert_eq!(reqs[3].cmd, 0);
    assert_eq!(reqs[3].error, Some(ReqError::UnknownCommand("foo".into())));
    // Only the first ARGS_MAX tokens are recorded; nargs counts them all; every key is kept.
    let (reqs, _) = reqs_any_split(b"gat 1 a b c d e f g h i\r\n");
    assert_eq!(reqs[0].nargs, 11);
    assert_eq!(reqs[0].args.len(), ARGS_MAX);
    assert_eq!(reqs[0].keys.len(), 9);
    // Errors keep the command id; names are cut at NAME_MAX.
    let (reqs, _) = reqs_any_split(b"set k 0 0\r\n");
    assert_eq!(reqs[0].cmd, Cmd::Set as u16);
    assert_eq!(reqs[0].error, Some(ReqError::WrongArity("set".into())));
    let long = [b'x'; 40];
    let mut line = long.to_vec();
    line.extend_from_slice(b" a\r\n");
    let (reqs, _) = reqs_any_split(&line);
    assert_eq!(
        reqs[0].error,
        Some(ReqError::UnknownCommand("x".repeat(NAME_MAX_T)))
    );
}

const NAME_MAX_T: usize = crate::proto::NAME_MAX;

#[test]
fn discard_is_early() {
    let mut info = ReqInfo::default();
    let mut p = ReqParser::new();
    assert_eq!(p.feed(b"set k 0 0 5\r\nhel", &mut info), Parse::Incomplete);
    assert_eq!(p.discard(), Discard::Keep);
    p.reset();
    assert_eq!(p.offset(), 0);
    assert_eq!(p.feed(b"frobnicate a b", &mut info), Parse::Incomplete);
    assert_eq!(p.discard(), Discard::Drop);
    assert_eq!(p.feed(b" c\r", &mut info), Parse::Incomplete);
    assert_eq!(p.feed(b"\n", &mut info), Parse::Done { consumed: 1 });
    assert_eq!(p.discard(), Discard::Keep);
    let key = format!("get {} ", "a".repeat(251));
    assert_eq!(p.feed(key.as_bytes(), &mut info), Parse::Incomplete);
    assert_eq!(p.discard(), Discard::Drop);
}

/// Found by fuzzing: `flush_all` and `verbosity` take any bytes after their number, so a
/// control byte there is no reason to `Drop`: the runtime would forget the bytes read so far
/// and forward the rest of a request that ends without an error.
#[test]
fn discard_only_what_is_refused() {
    for line in [
        &b"flush_all 0 \x01"[..],
        b"flush_all 0 \r ",
        b"verbosity 1 \x7f",
    ] {
        let mut info = ReqInfo::default();
        let mut p = ReqParser::new();
        assert_eq!(p.feed(line, &mut info), Parse::Incomplete);
        assert_eq!(p.discard(), Discard::Keep, "{line:?}");
        assert_eq!(p.feed(b"\r\n", &mut info), Parse::Done { consumed: 2 });
        assert_eq!(info.error, None, "{line:?}");
    }
}

/// A 1 MiB + 17 value passes, skipped by count: one feed per chunk, no scanning.
#[test]
fn big_value() {
    let n = (1 << 20) + 17;
    let mut stream = format!("set big 0 0 {n}\r\n").into_bytes();
    stream.extend(std::iter::repeat_n(b'\n', n));
    stream.extend_from_slice(b"\r\nget big\r\n");
    let mut p = ReqParser::new();
    let mut info = ReqInfo::default();
    let mut feeds = 0;
    let mut done = Vec::new();
    for chunk in stream.chunks(16 * 1024) {
        let mut rest = chunk;
        while !rest.is_empty() {
            feeds += 1;
            match p.feed(rest, &mut info) {
                Parse::Done { consumed } => {
                    done.push((info.cmd, info.error.clone()));
                    rest = &rest[consumed..];
                }
                Parse::Incomplete => rest = &[],
            }
        }
    }
    assert_eq!(done, vec![(Cmd::Set as u16, None), (Cmd::Get as u16, None)]);
    assert_eq!(feeds, stream.len().div_ceil(16 * 1024) + 1);
}

#[test]
fn info_is_reused() {
    let mut p = ReqParser::new();
    let mut info = ReqInfo::default();
    let stream = b"get a b c d e f\r\n";
    assert!(matches!(p.feed(stream, &mut info), Parse::Done { .. }));
    let cap = info.keys.capacity();
    for _ in 0..100 {
        assert!(matches!(p.feed(stream, &mut info), Parse::Done { .. }));
        assert_eq!(info.keys.len(), 6);
    }
    assert_eq!(info.keys.capacity(), cap);
}

#[test]
fn cmd_table() {
    for (i, c) in Cmd::ALL.iter().enumerate() {
        assert_eq!(*c as u16 as usize, i + 1);
        assert_eq!(Cmd::from_u16(*c as u16), Some(*c));
        assert_eq!(Cmd::from_name(c.name().as_bytes()), Some(*c));
    }
    assert_eq!(Cmd::from_u16(0), None);
    assert_eq!(Cmd::from_u16(Cmd::ALL.len() as u16 + 1), None);
    assert_eq!(Cmd::from_u16(u16::MAX), None);
    let reads: Vec<Cmd> = Cmd::ALL.into_iter().filter(|c| c.is_read()).collect();
    let want = [
        Cmd::Get,
        Cmd::Gets,
        Cmd::Version,
        Cmd::Stats,
        Cmd::Verbosity,
    ];
    assert_eq!(reads, want);
    let storage: Vec<&str> = Cmd::ALL
        .iter()
        .filter(|c| c.is_storage())
        .map(|c| c.name())
        .collect();
    assert_eq!(
        storage,
        vec!["set", "add", "replace", "append", "prepend", "cas"]
    );
    assert!(Cmd::Gat.is_retrieval() && !Cmd::Gat.is_read());
}

#[test]
fn error_replies() {
    let mut out = Vec::new();
    req_error_reply(&ReqError::UnknownCommand("foo".into()), &mut out);
    req_error_reply(&ReqError::WrongArity("set".into()), &mut out);
    req_error_reply(&ReqError::Client(text::BAD_CHUNK), &mut out);
    req_error_reply(&ReqError::Protocol("x\r\ny"), &mut out);
    req_error_reply(&ReqError::Unsupported("mg\n".into()), &mut out);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "ERROR\r\nERROR\r\nCLIENT_ERROR bad data chunk\r\nCLIENT_ERROR x??y\r\n\
         CLIENT_ERROR unsupported command mg?\r\n"
    );
}

/// Replies as memcached 1.6.18 sends them (captured from a live server), each a message.
#[test]
fn reply_table() {
    let ok = |len, is_error| Rsp {
        len,
        is_error,
        broken: false,
    };
    let cases: Vec<(&[u8], Vec<Rsp>)> = vec![
        (b"STORED\r\n", vec![ok(8, false)]),
        (
            b"NOT_STORED\r\nEXISTS\r\nNOT_FOUND\r\n",
            vec![ok(12, false), ok(8, false), ok(11, false)],
        ),
        (
            b"DELETED\r\nTOUCHED\r\nOK\r\n",
            vec![ok(9, false), ok(9, false), ok(4, false)],
        ),
        (b"END\r\n", vec![ok(5, false)]),
        (
            b"15\r\n0\r\n18446744073709551615\r\n",
            vec![ok(4, false), ok(3, false), ok(22, false)],
        ),
        (b"ERROR\r\n", vec![ok(7, true)]),
        (b"ERROR Too many open connections\r\n", vec![ok(33, true)]),
        (b"CLIENT_ERROR bad data chunk\r\n", vec![ok(29, true)]),
        (
            b"SERVER_ERROR object too large for cache\r\n",
            vec![ok(41, true)],
        ),
        (b"VERSION 1.6.18\r\n", vec![ok(16, false)]),
        (b"VALUE k 0 1\r\na\r\nEND\r\n", vec![ok(21, false)]),
        (
            b"VALUE e 5 7 12\r\n\r\nEND\r\n\r\nEND\r\n",
            vec![ok(30, false)],
        ),
        (
            b"VALUE a 0 2\r\nxy\r\nVALUE b 4294967295 0\r\n\r\nEND\r\nSTORED\r\n",
            vec![ok(46, false), ok(8, false)],
        ),
        (b"STORED\n", vec![ok(7, false)]), // lenient on bare \n
        (
            b"STAT pid 1\r\nSTAT version 1.6.18\r\nEND\r\nRESET\r\n",
            vec![ok(38, false), ok(7, false)],
        ),
        (b"ITEM k [1 b; 0 s]\r\nEND\r\n", vec![ok(24, false)]),
        (
            b"PREFIX a get 1 hit 1 set 0 del 0\r\nEND\r\n",
            vec![ok(39, false)],
        ),
    ];
    for (stream, want) in cases {
        let (got, rest) = rsps_any_split(stream);
        assert_eq!(got, want, "{:?}", String::from_utf8_lossy(stream));
        assert_eq!(rest, 0);
    }
}

#[test]
fn broken_replies() {
    let broken: &[&[u8]] = &[
        b"HELLO\r\n",
        b"stored\r\n",
        b"STORED \r\n",
        b"STORED\rX",
        b"\r\n",
        b" STORED\r\n",
        b"VALUE\r\n",
        b"VALUE k 0\r\n",
        b"VALUE k x 1\r\n",
        b"VALUE k 0 1 2 3\r\n",
        b"VALUE k 0 1\r\nabc\r\n",
        b"VALUE k 0 1\r\na\r\nSTORED\r\n",
        b"VALUE k 0 99999999999\r\n",
        b"VALUE k\x01 0 1\r\n",
        b"123456789012345678901\r\n",
        b"-1\r\n",
        b"STAT pid 1\r\nSTORED\r\n",
        b"STAT\r\n",
    ];
    for stream in broken {
        let (got, _) = rsps_any_split(stream);
        assert!(
            got.first().is_some_and(|r| r.broken),
            "{:?} gave {got:?}",
            String::from_utf8_lossy(stream)
        );
    }
    // Over-long lines break instead of buffering forever.
    let long = format!("SERVER_ERROR {}\r\n", "x".repeat(reply::RSP_LINE_MAX));
    let whole = parse_rsps(long.as_bytes(), &[]);
    assert!(whole.0[0].broken);
    assert_eq!(whole.0[0].len, reply::RSP_LINE_MAX + 1);
    for cuts in [
        &[10, 5000][..],
        &[8192],
        &[8193],
        &[8194],
        &[1, 2, 8191, 8195],
    ] {
        assert_eq!(parse_rsps(long.as_bytes(), cuts), whole, "{cuts:?}");
    }
    let ok = format!("SERVER_ERROR {}\r\n", "x".repeat(reply::RSP_LINE_MAX - 14));
    assert_eq!(
        parse_rsps(ok.as_bytes(), &[3, 8190, 8191]).0,
        vec![Rsp {
            len: ok.len(),
            is_error: true,
            broken: false
        }]
    );
    let long = "1".repeat(reply::RSP_LINE_MAX + 1);
    assert!(parse_rsps(long.as_bytes(), &[]).0[0].broken);
}

#[test]
fn big_reply_value() {
    let n = (1 << 20) + 3;
    let mut stream = format!("VALUE big 0 {n}\r\n").into_bytes();
    stream.extend(b"END\r\n".iter().cycle().take(n));
    stream.extend_from_slice(b"\r\nEND\r\nSTORED\r\n");
    let (got, rest) = parse_rsps(&stream, &[7, 100, 70_000, 1 << 20, stream.len() - 9]);
    assert_eq!(rest, 0);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].len, stream.len() - 8);
    assert!(!got[0].broken && !got[1].broken);
}
