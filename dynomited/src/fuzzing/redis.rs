//! Targets `redis_request` and `redis_reply`: the resumable RESP parsers, checked against the
//! bytes (spans, re-encoding), against themselves cut into chunks, against the strict reply
//! [`Walker`], and against generated valid requests and replies.

use super::{assert_split_invariant, drive, requests, Gen, Req, GRAPHIC};
use crate::proto::redis::walk::{ErrorKind, Token, Walker};
use crate::proto::redis::{ReqParser, RspParser};
use crate::proto::{ReqError, RspInfo, Span, ARGS_MAX};

/// Feeds `chunks` as one stream to a Redis request parser.
pub(crate) fn redis_requests(chunks: &[&[u8]]) -> (Vec<Req>, usize) {
    requests(ReqParser::new(), chunks)
}

fn encode_request(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn bytes_of(msg: &[u8], s: Span) -> &[u8] {
    &msg[s.start as usize..s.end() as usize]
}

/// Checks one request against its bytes.
fn check_request(data: &[u8], m: &Req) {
    let msg = &data[m.start..m.start + m.len];
    for s in m.args.iter().chain(&m.keys).chain(&m.vals) {
        assert!(
            s.end() as usize <= m.len,
            "span {s:?} outside a {} byte request",
            m.len
        );
    }
    if matches!(m.error, Some(ReqError::Protocol(_))) || m.nargs == 0 {
        return;
    }
    if m.inline {
        if m.error.is_some() {
            // Refused before its keys were checked (unknown command, wrong arity).
            return;
        }
        // Keys (and MSET values) are raw tokens of the line: a word without separators or
        // quotes, or the bytes between two quotes, with no escape and no line end.
        for s in m.keys.iter().chain(&m.vals) {
            let (a, b) = (s.start as usize, s.end() as usize);
            let k = bytes_of(msg, *s);
            match a.checked_sub(1).map(|i| msg[i]) {
                Some(q @ (b'"' | b'\'')) => {
                    assert_eq!(msg.get(b), Some(&q), "quoted inline key {s:?} not closed");
                    assert!(!k.contains(&q) && !k.contains(&b'\\') && !k.contains(&b'\n'));
                }
                _ => assert!(
                    !k.iter().any(|c| b" \t\r\n\"'".contains(c)),
                    "inline key {s:?} holds a separator"
                ),
            }
        }
        return;
    }
    // A well-framed multi-bulk request re-encodes to its own bytes (`string2ll` numbers have
    // one spelling), as far as its arguments are recorded.
    let args: Vec<&[u8]> = m.args.iter().map(|&s| bytes_of(msg, s)).collect();
    let mut enc = encode_request(&args);
    enc.splice(
        ..format!("*{}", args.len()).len(),
        format!("*{}", m.nargs).bytes(),
    );
    if m.nargs as usize <= ARGS_MAX {
        assert_eq!(enc, msg, "request does not re-encode to its bytes");
    } else {
        assert!(
            msg.starts_with(&enc),
            "request's first arguments do not re-encode"
        );
    }
    // Every key and value is a whole bulk argument: `$<len>\r\n` before it, CRLF after.
    for s in m.keys.iter().chain(&m.vals) {
        let (a, b) = (s.start as usize, s.end() as usize);
        let head = format!("${}\r\n", s.len);
        assert!(
            msg[..a].ends_with(head.as_bytes()),
            "key {s:?} is not a bulk argument"
        );
        assert_eq!(&msg[b..b + 2], b"\r\n", "key {s:?} is not a bulk argument");
    }
}

/// Command names that reach the key finders (fixed keys, numkeys, key ranges, containers).
const NAMES: &[&str] = &[
    "get",
    "SET",
    "mget",
    "MSET",
    "del",
    "eval",
    "EVALSHA",
    "fcall",
    "exists",
    "ping",
    "echo",
    "hello",
    "auth",
    "select",
    "client",
    "config",
    "xread",
    "zunionstore",
    "georadius",
    "sort",
    "object",
    "memory",
    "lpush",
    "blpop",
    "script",
    "function",
    "migrate",
    "lmpop",
    "zadd",
    "bitop",
    "xgroup",
    "command",
    "msetnx",
    "rename",
    "smove",
    "keys",
    "scan",
    "multi",
];

/// A generated request: argument bytes, with the name first.
fn gen_request(g: &mut Gen) -> Vec<Vec<u8>> {
    let mut args = vec![match g.below(4) {
        0 => g.bytes(40, &[]),
        _ => {
            let n = g.pick(NAMES);
            if g.bool() {
                n.to_ascii_uppercase().into_bytes()
            } else {
                n.as_bytes().to_vec()
            }
        }
    }];
    let n = g.below(14);
    for _ in 0..n {
        args.push(match g.below(5) {
            0 => g.bytes(20, &[]),
            1 => g.below(12).to_string().into_bytes(),
            _ => g.bytes(12, GRAPHIC),
        });
    }
    args
}

/// Target `redis_request`: arbitrary bytes, then a generated pipeline, through the request
/// parser (RESP multi-bulk and inline).
///
/// Oracle: the feed contract; fed cut anywhere = fed whole; argument, key and value spans
/// inside their request; a well-framed multi-bulk request re-encodes to its bytes, each key
/// and value being a whole bulk argument; a generated pipeline parses to its requests with
/// their arguments at their places and keys among them.
pub fn redis_request(data: &[u8]) {
    let (msgs, pending) = assert_split_invariant(data, redis_requests);
    assert_eq!(
        msgs.iter().map(|m| m.len).sum::<usize>() + pending,
        data.len()
    );
    for m in &msgs {
        check_request(data, m);
    }

    // Generated: a pipeline of multi-bulk requests, and inline words.
    let mut g = Gen::new(data);
    let mut stream = Vec::new();
    let mut want = Vec::new();
    for _ in 0..1 + g.below(4) {
        let args = gen_request(&mut g);
        let start = stream.len();
        if g.below(4) == 0 {
            // Inline: plain words, no quotes or escapes.
            let words: Vec<Vec<u8>> = args
                .iter()
                .map(|a| {
                    a.iter()
                        .copied()
                        .filter(|b| GRAPHIC.contains(b) && !b"\"'\\".contains(b))
                        .collect::<Vec<u8>>()
                })
                .filter(|w| !w.is_empty())
                .collect();
            if words.is_empty() || words[0][0] == b'*' {
                continue;
            }
            let mut spans = Vec::new();
            for w in &words {
                if !spans.is_empty() {
                    stream.push(b' ');
                }
                spans.push(Span::new((stream.len() - start) as u32, w.len() as u32));
                stream.extend_from_slice(w);
            }
            stream.extend_from_slice(b"\r\n");
            want.push((stream.len() - start, true, spans));
        } else {
            let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
            let enc = encode_request(&refs);
            let mut spans = Vec::new();
            let mut at = format!("*{}\r\n", args.len()).len();
            for a in &args {
                at += format!("${}\r\n", a.len()).len();
                spans.push(Span::new(at as u32, a.len() as u32));
                at += a.len() + 2;
            }
            stream.extend_from_slice(&enc);
            want.push((enc.len(), false, spans));
        }
    }
    let (msgs, pending) = assert_split_invariant(&stream, redis_requests);
    assert_eq!(pending, 0, "generated pipeline left unfinished");
    assert_eq!(
        msgs.len(),
        want.len(),
        "generated pipeline: wrong number of requests"
    );
    for (m, (len, inline, spans)) in msgs.iter().zip(&want) {
        assert_eq!(
            (m.len, m.inline),
            (*len, *inline),
            "generated request framed wrong"
        );
        assert!(
            !matches!(m.error, Some(ReqError::Protocol(_))),
            "{:?}",
            m.error
        );
        assert_eq!(m.nargs as usize, spans.len());
        assert_eq!(m.args[..], spans[..spans.len().min(ARGS_MAX)]);
        for k in m.keys.iter().chain(&m.vals) {
            assert!(spans[1..].contains(k), "key {k:?} is not an argument");
        }
        check_request(&stream, m);
    }
}

/// One reply as the parser delimited it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RspMsg {
    pub start: usize,
    pub len: usize,
    pub info: RspInfo,
}

/// Feeds `chunks` as one stream up to the first broken reply (where the runtime closes the
/// connection); the replies found and the bytes of an unfinished one.
pub(crate) fn replies(chunks: &[&[u8]]) -> (Vec<RspMsg>, usize) {
    let mut out = Vec::new();
    let pending = drive(RspParser::new(), chunks, |start, len, info: &RspInfo, _| {
        out.push(RspMsg {
            start,
            len,
            info: *info,
        });
        !info.broken
    });
    (out, pending)
}

/// The tokens of the first value of `buf` (attributes before it included) and its length,
/// or the walker's error.
fn walk_value(buf: &[u8]) -> Result<(Vec<Token<'_>>, usize), ErrorKind> {
    let mut w = Walker::new(buf);
    let mut toks = Vec::new();
    loop {
        let t = w.next_token().map_err(|e| e.kind)?;
        let attr_end = matches!(t, Token::End { ty: b'|' });
        toks.push(t);
        if w.depth() == 0 && !attr_end && !matches!(t, Token::Open { ty: b'|', count: 0 }) {
            return Ok((toks, w.pos()));
        }
    }
}

/// Whether the resumable parser accepts every token the walker accepted: the walker does not
/// check doubles (the parser takes digits, letters, sign, point and exponent, 1..=64 bytes).
fn parser_accepts(toks: &[Token]) -> bool {
    toks.iter().all(|t| match t {
        Token::Line { ty: b',', text } => {
            !text.is_empty()
                && text.len() <= 64
                && text
                    .iter()
                    .all(|&c| c.is_ascii_alphanumeric() || b"+-.".contains(&c))
        }
        _ => true,
    })
}

fn encode_tokens(toks: &[Token], out: &mut Vec<u8>) {
    for t in toks {
        match *t {
            Token::Line { ty, text } => {
                out.push(ty);
                out.extend_from_slice(text);
                out.extend_from_slice(b"\r\n");
            }
            Token::Int(v) => out.extend_from_slice(format!(":{v}\r\n").as_bytes()),
            Token::Blob { ty, data } => {
                out.extend_from_slice(format!("{}{}\r\n", ty as char, data.len()).as_bytes());
                out.extend_from_slice(data);
                out.extend_from_slice(b"\r\n");
            }
            Token::Null { ty: b'_' } => out.extend_from_slice(b"_\r\n"),
            Token::Null { ty } => out.extend_from_slice(format!("{}-1\r\n", ty as char).as_bytes()),
            Token::Open { ty, count } => {
                out.extend_from_slice(format!("{}{count}\r\n", ty as char).as_bytes())
            }
            Token::End { .. } => {}
        }
    }
}

/// Checks the reply at `m` against the strict walker.
fn check_reply(data: &[u8], m: &RspMsg) {
    let rest = &data[m.start..];
    match walk_value(rest) {
        Ok((toks, len)) if parser_accepts(&toks) => {
            let mut enc = Vec::new();
            encode_tokens(&toks, &mut enc);
            if enc != rest[..len] && m.info.broken {
                // Not in canonical form (a length with a leading zero, say): the walker takes
                // what `string2ll` refuses. Only the canonical form must be read alike.
                let (msgs, _) = replies(&[&enc]);
                assert!(
                    !msgs[0].info.broken,
                    "canonical form of a walked reply is broken"
                );
                return;
            }
            assert_eq!(
                (m.len, m.info.broken),
                (len, false),
                "the walker reads a {len} byte reply"
            );
            // The type of the value itself: the first token outside the attributes.
            let mut open = 0usize;
            let mut ty = 0;
            for t in &toks {
                match (open, t) {
                    (0, Token::Open { ty: b'|', .. }) => open = 1,
                    (
                        0,
                        Token::Line { ty: t, .. }
                        | Token::Blob { ty: t, .. }
                        | Token::Open { ty: t, .. },
                    ) => {
                        ty = *t;
                        break;
                    }
                    (0, _) => break,
                    (_, Token::Open { .. }) => open += 1,
                    (_, Token::End { .. }) => open -= 1,
                    _ => {}
                }
            }
            assert_eq!(m.info.is_error, matches!(ty, b'-' | b'!'), "is_error");
            assert_eq!(m.info.is_push, ty == b'>', "is_push");
            // Canonical re-encoding walks to the same tokens and parses as one reply.
            let (again, n) = walk_value(&enc).expect("re-encoded reply walks");
            assert_eq!((again, n), (toks, enc.len()), "re-encoded reply");
            let (msgs, pending) = replies(&[&enc]);
            assert_eq!(
                (msgs.len(), pending),
                (1, 0),
                "re-encoded reply parses as one"
            );
            assert_eq!(msgs[0].info, m.info);
        }
        Err(ErrorKind::Incomplete) if !m.info.broken => {
            // The walker wants more bytes than the stream holds: the parser cannot have found
            // the reply's end inside them.
            panic!(
                "parser ended a reply of {} bytes the walker finds incomplete",
                m.len
            );
        }
        _ => {}
    }
}

/// A generated reply value (tokens the walker would read, lengths and counts canonical).
fn gen_value(g: &mut Gen, depth: usize, top: bool, out: &mut Vec<u8>) {
    let kinds: &[u8] = if depth >= 4 || g.exhausted() {
        b"+-:$_#,(!="
    } else if top {
        b"+-:$_#,(!=*%~|>*$"
    } else {
        b"+-:$_#,(!=*%~|*$"
    };
    let ty = g.pick(kinds);
    match ty {
        b'+' | b'-' => {
            out.push(ty);
            out.extend(
                g.bytes(16, &[])
                    .into_iter()
                    .filter(|&b| b != b'\r' && b != b'\n'),
            );
            out.extend_from_slice(b"\r\n");
        }
        b':' => out.extend_from_slice(format!(":{}\r\n", g.u64() as i64).as_bytes()),
        b'$' | b'!' | b'=' => {
            let mut d = g.bytes(24, &[]);
            if ty == b'=' {
                d.splice(0..0, *b"txt:");
            }
            if ty == b'$' && g.below(8) == 0 {
                out.extend_from_slice(b"$-1\r\n");
                return;
            }
            out.extend_from_slice(format!("{}{}\r\n", ty as char, d.len()).as_bytes());
            out.extend_from_slice(&d);
            out.extend_from_slice(b"\r\n");
        }
        b'_' => out.extend_from_slice(b"_\r\n"),
        b'#' => out.extend_from_slice(if g.bool() { b"#t\r\n" } else { b"#f\r\n" }),
        b',' => {
            let d = g.pick(&["3.14", "-1", "inf", "-inf", "nan", "1e-10", "0", "1.5E+300"]);
            out.extend_from_slice(format!(",{d}\r\n").as_bytes());
        }
        b'(' => out.extend_from_slice(format!("(-{}{}\r\n", g.u64(), g.u64()).as_bytes()),
        _ => {
            if ty == b'*' && g.below(8) == 0 {
                out.extend_from_slice(b"*-1\r\n");
                return;
            }
            let n = g.below(4);
            out.extend_from_slice(format!("{}{n}\r\n", ty as char).as_bytes());
            let elems = if matches!(ty, b'%' | b'|') { 2 * n } else { n };
            for _ in 0..elems {
                gen_value(g, depth + 1, false, out);
            }
            if ty == b'|' {
                // The value the attribute annotates.
                gen_value(g, depth + 1, top, out);
            }
        }
    }
}

/// Target `redis_reply`: arbitrary bytes, then generated replies, through the resumable reply
/// parser (every RESP2 and RESP3 type).
///
/// Oracle: the feed contract; fed cut anywhere = fed whole (up to the first broken reply);
/// wherever the strict walker reads a whole reply the parser ends it at the same byte, with
/// the same error and push flags, and its canonical re-encoding walks to the same tokens;
/// where the walker says the bytes end inside a reply the parser has not ended it; generated
/// replies parse one by one at their lengths.
pub fn redis_reply(data: &[u8]) {
    let (msgs, pending) = assert_split_invariant(data, replies);
    let total = msgs.iter().map(|m| m.len).sum::<usize>() + pending;
    assert!(total <= data.len());
    if !msgs.last().is_some_and(|m| m.info.broken) {
        assert_eq!(total, data.len());
    }
    for m in &msgs {
        check_reply(data, m);
    }

    let mut g = Gen::new(data);
    let mut stream = Vec::new();
    let mut lens = Vec::new();
    for _ in 0..1 + g.below(4) {
        let start = stream.len();
        gen_value(&mut g, 0, true, &mut stream);
        lens.push(stream.len() - start);
    }
    let (msgs, pending) = assert_split_invariant(&stream, replies);
    assert_eq!(pending, 0);
    let got: Vec<usize> = msgs.iter().map(|m| m.len).collect();
    assert_eq!(got, lens, "generated replies framed wrong");
    for m in &msgs {
        assert!(!m.info.broken, "a generated reply is broken");
        check_reply(&stream, m);
    }
}
