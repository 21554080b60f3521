//! Shared test helpers for the Redis parsers (stream drivers that check the contract on every
//! feed), the error-reply texts, and the property tests.

pub(crate) mod props;

use super::{req_error_reply, spec, ReqParser, RspParser};
use crate::proto::{Discard, Parse, ReqError, ReqInfo, RspInfo, Span};

/// One parsed request, with its spans resolved to bytes for readable comparisons.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Req {
    /// Message length in bytes.
    pub len: usize,
    pub cmd: &'static str,
    pub nargs: u32,
    pub args: Vec<Vec<u8>>,
    pub keys: Vec<Vec<u8>>,
    pub inline: bool,
    pub error: Option<ReqError>,
}

fn resolve(stream: &[u8], msg_start: usize, s: Span) -> Vec<u8> {
    let a = msg_start + s.start as usize;
    let b = msg_start + s.end() as usize;
    stream
        .get(a..b)
        .map(<[u8]>::to_vec)
        .unwrap_or_else(|| b"<out of range>".to_vec())
}

/// Feeds `stream` cut into chunks at `cuts` (sorted offsets) and returns the complete requests
/// and the number of trailing bytes of an unfinished one. Checks the contract on every feed.
pub(crate) fn reqs_split(stream: &[u8], cuts: &[usize]) -> (Vec<Req>, usize) {
    let mut p = ReqParser::new();
    let mut info = ReqInfo::default();
    let mut out = Vec::new();
    let mut msg_start = 0;
    let mut saw_drop = false;
    let mut bounds: Vec<usize> = cuts.iter().copied().filter(|&c| c < stream.len()).collect();
    bounds.push(stream.len());
    let mut pos = 0;
    for &end in &bounds {
        while pos < end {
            let chunk = &stream[pos..end];
            match p.feed(chunk, &mut info) {
                Parse::Done { consumed } => {
                    assert!(
                        consumed >= 1 && consumed <= chunk.len(),
                        "consumed {consumed}"
                    );
                    pos += consumed;
                    assert_eq!(p.offset(), 0);
                    assert_eq!(p.discard(), Discard::Keep);
                    if saw_drop {
                        assert!(info.error.is_some(), "dropped message without an error");
                    }
                    saw_drop = false;
                    let n = (info.nargs as usize).min(crate::proto::ARGS_MAX);
                    out.push(Req {
                        len: pos - msg_start,
                        cmd: spec(info.cmd).name,
                        nargs: info.nargs,
                        args: info.args[..n]
                            .iter()
                            .map(|&s| resolve(stream, msg_start, s))
                            .collect(),
                        keys: info
                            .keys
                            .iter()
                            .map(|&s| resolve(stream, msg_start, s))
                            .collect(),
                        inline: info.inline,
                        error: info.error.clone(),
                    });
                    msg_start = pos;
                }
                Parse::Incomplete => {
                    pos = end;
                    assert_eq!(p.offset(), pos - msg_start);
                    saw_drop |= p.discard() == Discard::Drop;
                }
            }
        }
    }
    (out, stream.len() - msg_start)
}

pub(crate) fn reqs(stream: &[u8]) -> (Vec<Req>, usize) {
    reqs_split(stream, &[])
}

/// Same requests whole, split at every offset (if `every_offset`), and one byte at a time.
pub(crate) fn reqs_all_ways(stream: &[u8], every_offset: bool) -> (Vec<Req>, usize) {
    let whole = reqs(stream);
    if every_offset {
        for cut in 1..stream.len() {
            assert_eq!(reqs_split(stream, &[cut]), whole, "split at {cut}");
        }
    }
    let bytes: Vec<usize> = (1..stream.len()).collect();
    assert_eq!(reqs_split(stream, &bytes), whole, "byte by byte");
    whole
}

/// One parsed reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rsp {
    pub len: usize,
    pub info: RspInfo,
}

pub(crate) fn rsps_split(stream: &[u8], cuts: &[usize]) -> (Vec<Rsp>, usize) {
    let mut p = RspParser::new();
    let mut info = RspInfo::default();
    let mut out = Vec::new();
    let mut msg_start = 0;
    let mut bounds: Vec<usize> = cuts.iter().copied().filter(|&c| c < stream.len()).collect();
    bounds.push(stream.len());
    let mut pos = 0;
    for &end in &bounds {
        while pos < end {
            let chunk = &stream[pos..end];
            match p.feed(chunk, &mut info) {
                Parse::Done { consumed } => {
                    assert!(
                        consumed >= 1 && consumed <= chunk.len(),
                        "consumed {consumed}"
                    );
                    pos += consumed;
                    assert_eq!(p.offset(), 0);
                    out.push(Rsp {
                        len: pos - msg_start,
                        info,
                    });
                    msg_start = pos;
                }
                Parse::Incomplete => {
                    pos = end;
                    assert_eq!(p.offset(), pos - msg_start);
                }
            }
        }
    }
    (out, stream.len() - msg_start)
}

pub(crate) fn rsps(stream: &[u8]) -> (Vec<Rsp>, usize) {
    rsps_split(stream, &[])
}

pub(crate) fn rsps_all_ways(stream: &[u8], every_offset: bool) -> (Vec<Rsp>, usize) {
    let whole = rsps(stream);
    if every_offset {
        for cut in 1..stream.len() {
            assert_eq!(rsps_split(stream, &[cut]), whole, "split at {cut}");
        }
    }
    let bytes: Vec<usize> = (1..stream.len()).collect();
    assert_eq!(rsps_split(stream, &bytes), whole, "byte by byte");
    whole
}

/// RESP multi-bulk encoding of `args`.
pub(crate) fn resp(args: &[&[u8]]) -> Vec<u8> {
    crate::client::encode(args)
}

fn reply_text(e: ReqError) -> String {
    let mut out = Vec::new();
    req_error_reply(&e, &mut out);
    String::from_utf8(out).unwrap()
}

#[test]
fn error_replies_match_redis() {
    // Texts checked against redis-server 7.0.15 (sent over a raw socket).
    let cases = [
        (
            ReqError::UnknownCommand("foo".into()),
            "-ERR unknown command 'foo', with args beginning with: \r\n",
        ),
        (
            ReqError::UnknownCommand("Foo\r\nx".into()),
            "-ERR unknown command 'Foo  x', with args beginning with: \r\n",
        ),
        (
            ReqError::UnknownCommand("config|FOO".into()),
            "-ERR unknown subcommand 'FOO'. Try CONFIG HELP.\r\n",
        ),
        (
            ReqError::UnknownCommand("get|x".into()),
            "-ERR unknown command 'get|x', with args beginning with: \r\n",
        ),
        (
            ReqError::WrongArity("get".into()),
            "-ERR wrong number of arguments for 'get' command\r\n",
        ),
        (
            ReqError::WrongArity("client|kill".into()),
            "-ERR wrong number of arguments for 'client|kill' command\r\n",
        ),
        (
            ReqError::Unsupported("BLPOP".into()),
            "-ERR unsupported command 'BLPOP' (cannot run through a sharding proxy)\r\n",
        ),
        (
            ReqError::Protocol("Protocol error: invalid multibulk length"),
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            ReqError::Protocol("Protocol error: expected '$', got 'x'"),
            "-ERR Protocol error: expected '$', got 'x'\r\n",
        ),
    ];
    for (e, want) in cases {
        assert_eq!(reply_text(e), want);
    }
}

#[test]
fn parser_errors_render_like_redis() {
    // End to end: bytes in, the reply redis-server 7.0.15 sends out.
    let cases: &[(&[u8], &str)] = &[
        (
            b"*1\r\n$3\r\nfoo\r\n",
            "-ERR unknown command 'foo', with args beginning with: \r\n",
        ),
        (
            b"*1\r\n$3\r\nGET\r\n",
            "-ERR wrong number of arguments for 'get' command\r\n",
        ),
        (
            b"*x\r\n",
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\nx\r\n",
            "-ERR Protocol error: expected '$', got 'x'\r\n",
        ),
        (
            b"*1\r\n\r\n",
            "-ERR Protocol error: expected '$', got ' '\r\n",
        ),
        (
            b"*1\r\n\x01\r\n",
            "-ERR Protocol error: expected '$', got '\x01'\r\n",
        ),
        (
            b"*1\r\n$x\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*01\r\n",
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\n$-1\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$536870913\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*2147483648\r\n",
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"set \"a b\r\n",
            "-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
        (
            b"echo \"ab\"c\r\n",
            "-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
        (
            b"client setname\r\n",
            "-ERR wrong number of arguments for 'client|setname' command\r\n",
        ),
        (
            b"config\r\n",
            "-ERR wrong number of arguments for 'config' command\r\n",
        ),
        (
            b"CONFIG FOO\r\n",
            "-ERR unknown subcommand 'FOO'. Try CONFIG HELP.\r\n",
        ),
        (
            b"config foo\r\n",
            "-ERR unknown subcommand 'foo'. Try CONFIG HELP.\r\n",
        ),
        (
            b"mset a\r\n",
            "-ERR wrong number of arguments for 'mset' command\r\n",
        ),
        (
            b"*2\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n",
            "-ERR wrong number of arguments for 'config|get' command\r\n",
        ),
        (
            b"dbsize x\r\n",
            "-ERR wrong number of arguments for 'dbsize' command\r\n",
        ),
        (
            b"object nope k\r\n",
            "-ERR unknown subcommand 'nope'. Try OBJECT HELP.\r\n",
        ),
        (
            b"COMMAND FOO\r\n",
            "-ERR unknown subcommand 'FOO'. Try COMMAND HELP.\r\n",
        ),
        (
            b"*1\r\n$0\r\n\r\n",
            "-ERR unknown command '', with args beginning with: \r\n",
        ),
    ];
    for (input, want) in cases {
        let (msgs, rest) = reqs(input);
        assert_eq!(rest, 0, "{input:?}");
        assert_eq!(msgs.len(), 1, "{input:?}");
        let e = msgs[0]
            .error
            .clone()
            .unwrap_or_else(|| panic!("no error for {input:?}"));
        assert_eq!(reply_text(e), *want, "{input:?}");
    }
}
