//! Targets `memcache_request` and `memcache_reply`: the resumable memcached text parsers,
//! checked against the bytes (line, data block, key shapes), against themselves cut into
//! chunks, and against generated valid requests and replies.

use super::{assert_split_invariant, drive, requests, Gen, Req, GRAPHIC};
use crate::proto::memcache::{Cmd, ReqParser, RspParser, KEY_MAX};
use crate::proto::RspInfo;

/// Feeds `chunks` as one stream to a memcached request parser.
pub(crate) fn memcache_requests(chunks: &[&[u8]]) -> (Vec<Req>, usize) {
    requests(ReqParser::new(), chunks)
}

/// Checks one request against its bytes: its command line ends at its first `\n`; a valid
/// storage request is that line, `<bytes>` of data and CRLF; spans lie in the line; keys of
/// valid requests are 1..=250 bytes without space or control bytes; `noreply` is the line's
/// last token.
fn check_request(data: &[u8], m: &Req) {
    let msg = &data[m.start..m.start + m.len];
    let nl = msg
        .iter()
        .position(|&b| b == b'\n')
        .expect("a request without a line end");
    let line = &msg[..nl];
    let i = m;
    for s in i.args.iter().chain(&i.keys) {
        assert!(
            s.end() as usize <= nl,
            "span {s:?} outside the {nl} byte line"
        );
        assert!(
            !line[s.start as usize..s.end() as usize].contains(&b' '),
            "token {s:?} holds a space"
        );
    }
    let storage = Cmd::from_u16(i.cmd).is_some_and(Cmd::is_storage);
    let vlen = || -> usize {
        // `<bytes>` is token 4 of `set` and of `cas` alike.
        let s = i.args[4];
        std::str::from_utf8(&line[s.start as usize..s.end() as usize])
            .ok()
            .and_then(|t| t.trim_start_matches('+').parse().ok())
            .expect("a storage request's <bytes>")
    };
    if i.error.is_none() {
        assert_ne!(i.cmd, 0, "a valid request without a command");
        if storage {
            assert_eq!(m.len, nl + 1 + vlen() + 2, "storage request framed wrong");
            assert!(msg.ends_with(b"\r\n"));
        } else {
            assert_eq!(m.len, nl + 1, "request does not end at its line end");
        }
        for k in &i.keys {
            let key = &line[k.start as usize..k.end() as usize];
            assert!(
                (1..=KEY_MAX).contains(&key.len()),
                "key {k:?} of {} bytes",
                key.len()
            );
            assert!(
                !key.iter().any(|&b| b <= b' ' || b == 0x7f),
                "key {k:?} has a control byte"
            );
        }
    } else {
        // Only a bad data chunk is more than its line.
        assert!(
            m.len == nl + 1 || (storage && m.len == nl + 1 + vlen() + 2),
            "bad request framed wrong"
        );
    }
    if i.noreply {
        let text = line.strip_suffix(b"\r").unwrap_or(line);
        let last = text.split(|&b| b == b' ').rfind(|t| !t.is_empty());
        assert_eq!(
            last,
            Some(&b"noreply"[..]),
            "noreply without a last noreply token"
        );
    }
}

fn key(g: &mut Gen) -> Vec<u8> {
    let max = if g.below(16) == 0 { KEY_MAX } else { 12 };
    let mut k = g.bytes(max, GRAPHIC);
    if k.is_empty() {
        k.push(b'k');
    }
    k.truncate(KEY_MAX);
    k
}

/// A generated valid request: its bytes, command, keys, noreply.
fn gen_request(g: &mut Gen) -> (Vec<u8>, Cmd, Vec<Vec<u8>>, bool) {
    let cmd = g.pick(&Cmd::ALL[..16]);
    let noreply = g.bool();
    let mut keys = Vec::new();
    let mut toks: Vec<Vec<u8>> = vec![cmd.name().as_bytes().to_vec()];
    let mut data = None;
    let mut nr = false;
    match cmd {
        Cmd::Get | Cmd::Gets | Cmd::Gat | Cmd::Gats => {
            if matches!(cmd, Cmd::Gat | Cmd::Gats) {
                toks.push(format!("{}", g.below(1000)).into_bytes());
            }
            for _ in 0..1 + g.below(5) {
                keys.push(key(g));
            }
        }
        Cmd::Incr | Cmd::Decr | Cmd::Touch | Cmd::Delete => {
            keys.push(key(g));
            match cmd {
                Cmd::Delete => {}
                Cmd::Touch => toks.push(format!("{}", g.below(100_000)).into_bytes()),
                _ => toks.push(format!("{}", g.u64()).into_bytes()),
            }
            nr = noreply;
        }
        Cmd::Quit | Cmd::Version => {}
        _ => {
            // Storage.
            keys.push(key(g));
            let d = g.bytes(40, &[]);
            toks.push(format!("{}", g.u64() as u32).into_bytes());
            toks.push(format!("{}", g.below(100_000)).into_bytes());
            toks.push(format!("{}", d.len()).into_bytes());
            if cmd == Cmd::Cas {
                toks.push(format!("{}", g.u64()).into_bytes());
            }
            data = Some(d);
            nr = noreply;
        }
    }
    // Keys go after the name (after the exptime of gat/gats).
    let at = if matches!(cmd, Cmd::Gat | Cmd::Gats) {
        2
    } else {
        1
    };
    for (j, k) in keys.iter().enumerate() {
        toks.insert(at + j, k.clone());
    }
    if nr {
        toks.push(b"noreply".to_vec());
    }
    let mut out = toks.join(&b' ');
    out.extend_from_slice(if g.bool() { b"\r\n" } else { b"\n" });
    if let Some(d) = data {
        out.extend_from_slice(&d);
        out.extend_from_slice(b"\r\n");
    }
    (out, cmd, keys, nr)
}

/// Target `memcache_request`: arbitrary bytes, then a generated pipeline, through the
/// memcached request parser.
///
/// Oracle: the feed contract; fed cut anywhere = fed whole; each request ends at its line's
/// `\n` (a storage request: after `<bytes>` of data and CRLF); spans inside the line, keys
/// of valid requests well-formed; `noreply` only when it is the last token; a generated
/// pipeline parses to its requests, commands, keys and `noreply` flags.
pub fn memcache_request(data: &[u8]) {
    let (msgs, pending) = assert_split_invariant(data, memcache_requests);
    assert_eq!(
        msgs.iter().map(|m| m.len).sum::<usize>() + pending,
        data.len()
    );
    for m in &msgs {
        check_request(data, m);
    }

    let mut g = Gen::new(data);
    let mut stream = Vec::new();
    let mut want = Vec::new();
    for _ in 0..1 + g.below(4) {
        let (bytes, cmd, keys, nr) = gen_request(&mut g);
        want.push((stream.len(), bytes.len(), cmd, keys, nr));
        stream.extend_from_slice(&bytes);
    }
    let (msgs, pending) = assert_split_invariant(&stream, memcache_requests);
    assert_eq!(pending, 0);
    assert_eq!(
        msgs.len(),
        want.len(),
        "generated pipeline: wrong number of requests"
    );
    for (m, (start, len, cmd, keys, nr)) in msgs.iter().zip(&want) {
        assert_eq!(
            (m.start, m.len),
            (*start, *len),
            "generated request framed wrong"
        );
        assert_eq!(m.error, None, "generated request rejected");
        assert_eq!(m.cmd, *cmd as u16);
        assert_eq!(m.noreply, *nr);
        let got: Vec<&[u8]> = m
            .keys
            .iter()
            .map(|s| &stream[start + s.start as usize..start + s.end() as usize])
            .collect();
        assert_eq!(
            got,
            keys.iter().map(Vec::as_slice).collect::<Vec<_>>(),
            "keys"
        );
        check_request(&stream, m);
    }
}

/// One reply as the parser delimited it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RspMsg {
    pub len: usize,
    pub info: RspInfo,
}

/// Feeds `chunks` as one stream up to the first broken reply.
pub(crate) fn replies(chunks: &[&[u8]]) -> (Vec<RspMsg>, usize) {
    let mut out = Vec::new();
    let pending = drive(RspParser::new(), chunks, |_, len, info: &RspInfo, _| {
        out.push(RspMsg { len, info: *info });
        !info.broken
    });
    (out, pending)
}

/// A generated valid reply and whether it is an error.
fn gen_reply(g: &mut Gen) -> (Vec<u8>, bool) {
    let eol: &[u8] = if g.below(4) == 0 { b"\n" } else { b"\r\n" };
    let text = |g: &mut Gen| -> Vec<u8> {
        g.bytes(20, &[])
            .into_iter()
            .filter(|&b| b != b'\n' && b != b'\r')
            .collect()
    };
    let mut out = Vec::new();
    let mut error = false;
    match g.below(6) {
        0 => {
            for _ in 0..g.below(4) {
                let d = g.bytes(30, &[]);
                out.extend_from_slice(b"VALUE ");
                out.extend(key(g));
                out.extend_from_slice(format!(" {} {}", g.u64() as u32, d.len()).as_bytes());
                if g.bool() {
                    out.extend_from_slice(format!(" {}", g.u64()).as_bytes());
                }
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(&d);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"END");
        }
        1 => {
            out.extend_from_slice(g.pick(&[
                &b"STORED"[..],
                b"NOT_STORED",
                b"EXISTS",
                b"NOT_FOUND",
                b"DELETED",
                b"TOUCHED",
                b"OK",
            ]));
        }
        2 => out.extend_from_slice(format!("{}", g.u64()).as_bytes()),
        3 => {
            error = true;
            out.extend_from_slice(g.pick(&[&b"CLIENT_ERROR "[..], b"SERVER_ERROR "]));
            out.extend(text(g));
        }
        4 => {
            for _ in 0..g.below(4) {
                out.extend_from_slice(g.pick(&[&b"STAT "[..], b"ITEM ", b"PREFIX "]));
                out.extend(text(g));
                out.extend_from_slice(eol);
            }
            out.extend_from_slice(b"END");
        }
        _ => {
            if g.bool() {
                error = true;
                out.extend_from_slice(b"ERROR");
            } else {
                out.extend_from_slice(b"VERSION ");
                out.extend(text(g));
            }
        }
    }
    out.extend_from_slice(eol);
    (out, error)
}

/// Target `memcache_reply`: arbitrary bytes, then generated replies, through the memcached
/// reply parser.
///
/// Oracle: the feed contract; fed cut anywhere = fed whole (up to the first broken reply);
/// generated replies (`VALUE` runs, `STAT` lists, status lines, numbers, errors) parse one by
/// one at their lengths with the right error flag.
pub fn memcache_reply(data: &[u8]) {
    let (msgs, pending) = assert_split_invariant(data, replies);
    let total = msgs.iter().map(|m| m.len).sum::<usize>() + pending;
    if !msgs.last().is_some_and(|m| m.info.broken) {
        assert_eq!(total, data.len());
    }
    let mut at = 0;
    for m in &msgs {
        let msg = &data[at..at + m.len];
        at += m.len;
        assert!(!m.info.is_push);
        if !m.info.broken {
            // A whole reply ends its last line; an error is one line saying so.
            assert_eq!(msg.last(), Some(&b'\n'), "a reply that does not end a line");
            let word = msg
                .split(|b| b" \r\n".contains(b))
                .next()
                .unwrap_or_default();
            let error = matches!(word, b"ERROR" | b"CLIENT_ERROR" | b"SERVER_ERROR");
            assert_eq!(
                m.info.is_error,
                error,
                "is_error of {:?}",
                String::from_utf8_lossy(msg)
            );
        }
    }

    let mut g = Gen::new(data);
    let mut stream = Vec::new();
    let mut want = Vec::new();
    for _ in 0..1 + g.below(4) {
        let (r, error) = gen_reply(&mut g);
        want.push(RspMsg {
            len: r.len(),
            info: RspInfo {
                is_error: error,
                ..RspInfo::default()
            },
        });
        stream.extend_from_slice(&r);
    }
    let (msgs, pending) = assert_split_invariant(&stream, replies);
    assert_eq!((msgs, pending), (want, 0), "generated replies");
}
