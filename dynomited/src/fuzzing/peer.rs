//! Targets `dnode_frame` and `gossip`: the peer protocol. A stream of dnode frames (header,
//! then a payload counted by `payload_len` or framed by the datastore parsers), and the
//! gossip records a `GOSSIP_SYN` payload carries.

use super::{assert_split_invariant, Gen, GRAPHIC};
use crate::peer::{
    parse_gossip, parse_header, payload_is_counted, write_gossip, write_header, write_header_data,
    GossipError, GossipNode, Header, HeaderParse, HeaderParser, MsgType, DATA_MAX, MAGIC,
    MAX_HEADER_LEN, PAYLOAD_MAX,
};
use crate::proto::{memcache, redis, Parse, Protocol, ReqInfo, RspInfo};

/// What a peer stream held, frame by frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Event {
    /// A header of `len` bytes starting at stream offset `at`.
    Header { at: usize, header: Header },
    /// A datastore payload: the bytes the datastore parser framed, what the header announced,
    /// and whether the message was malformed (broken reply, request error).
    Payload {
        framed: usize,
        announced: u32,
        bad: bool,
    },
    /// A counted payload of `len` bytes (gossip: parsed, `ok` when it parsed).
    Counted { len: usize, gossip: Option<bool> },
    /// Bytes that cannot start or continue a header, at stream offset `at`.
    Garbage { at: usize },
}

enum Payload {
    Header,
    Req(ReqInfo),
    Rsp(RspInfo),
    Counted {
        left: usize,
        gossip: Option<Vec<u8>>,
    },
}

/// Walks a peer stream delivered as `chunks`, the datastore payloads in `proto`, up to the
/// first garbage or broken reply (where the runtime closes the connection). Asserts the
/// header parser's contract; returns the events and the bytes of an unfinished frame part.
pub(crate) fn frames(chunks: &[&[u8]], proto: Protocol) -> (Vec<Event>, usize) {
    let mut hp = HeaderParser::new();
    let mut rq_redis = redis::ReqParser::new();
    let mut rs_redis = redis::RspParser::new();
    let mut rq_mc = memcache::ReqParser::new();
    let mut rs_mc = memcache::RspParser::new();
    let mut out = Vec::new();
    let mut state = Payload::Header;
    let (mut pos, mut part, mut announced) = (0usize, 0usize, 0u32);
    for chunk in chunks {
        let mut c = *chunk;
        while !c.is_empty() {
            match &mut state {
                Payload::Header => match hp.feed(c) {
                    HeaderParse::Done { consumed, header } => {
                        assert!((1..=c.len()).contains(&consumed), "consumed {consumed}");
                        assert_eq!(hp.offset(), 0);
                        out.push(Event::Header {
                            at: pos + consumed - header.len as usize,
                            header,
                        });
                        assert_eq!(part + consumed, header.len as usize, "header length");
                        pos += consumed;
                        c = &c[consumed..];
                        part = 0;
                        announced = header.payload_len;
                        state = if payload_is_counted(&header) {
                            let gossip = (header.ty == MsgType::GossipSyn
                                && header.payload_len <= 1 << 16)
                                .then(Vec::new);
                            Payload::Counted {
                                left: header.payload_len as usize,
                                gossip,
                            }
                        } else if header.ty == MsgType::Res {
                            Payload::Rsp(RspInfo::default())
                        } else {
                            Payload::Req(ReqInfo::default())
                        };
                        if let Payload::Counted { left: 0, gossip } = &state {
                            let g = gossip.as_ref().map(|p| parse_gossip(p).is_ok());
                            out.push(Event::Counted { len: 0, gossip: g });
                            state = Payload::Header;
                        }
                    }
                    HeaderParse::Incomplete => {
                        pos += c.len();
                        part += c.len();
                        assert_eq!(hp.offset(), part, "offset of an unfinished header");
                        assert!(part <= MAX_HEADER_LEN);
                        break;
                    }
                    HeaderParse::Garbage { consumed } => {
                        assert!((1..=c.len()).contains(&consumed), "consumed {consumed}");
                        out.push(Event::Garbage {
                            at: pos + consumed - 1,
                        });
                        return (out, 0);
                    }
                },
                Payload::Counted { left, gossip } => {
                    let n = (*left).min(c.len());
                    if let Some(g) = gossip.as_mut() {
                        g.extend_from_slice(&c[..n]);
                    }
                    *left -= n;
                    pos += n;
                    part += n;
                    c = &c[n..];
                    if *left == 0 {
                        let g = gossip.as_ref().map(|p| parse_gossip(p).is_ok());
                        out.push(Event::Counted {
                            len: part,
                            gossip: g,
                        });
                        part = 0;
                        state = Payload::Header;
                    }
                }
                Payload::Req(info) => {
                    let r = match proto {
                        Protocol::Redis => rq_redis.feed(c, info),
                        Protocol::Memcache => rq_mc.feed(c, info),
                    };
                    let bad = info.error.is_some();
                    if !datastore_step(r, &mut c, &mut pos, &mut part, announced, bad, &mut out) {
                        break;
                    }
                    state = Payload::Header;
                }
                Payload::Rsp(info) => {
                    let r = match proto {
                        Protocol::Redis => rs_redis.feed(c, info),
                        Protocol::Memcache => rs_mc.feed(c, info),
                    };
                    let broken = info.broken;
                    if !datastore_step(r, &mut c, &mut pos, &mut part, announced, broken, &mut out)
                    {
                        break;
                    }
                    if broken {
                        return (out, 0);
                    }
                    state = Payload::Header;
                }
            }
        }
    }
    (out, part)
}

/// One feed of a datastore payload: true when the payload ended (its event pushed).
fn datastore_step(
    r: Parse,
    c: &mut &[u8],
    pos: &mut usize,
    part: &mut usize,
    announced: u32,
    bad: bool,
    out: &mut Vec<Event>,
) -> bool {
    match r {
        Parse::Done { consumed } => {
            assert!((1..=c.len()).contains(&consumed), "consumed {consumed}");
            *pos += consumed;
            *part += consumed;
            *c = &c[consumed..];
            out.push(Event::Payload {
                framed: *part,
                announced,
                bad,
            });
            *part = 0;
            true
        }
        Parse::Incomplete => {
            *pos += c.len();
            *part += c.len();
            *c = &[];
            false
        }
    }
}

/// Checks a header against its bytes and its re-encoding.
fn check_header(data: &[u8], at: usize, h: &Header) {
    let bytes = &data[at..at + h.len as usize];
    assert!(
        bytes.starts_with(MAGIC) && bytes.ends_with(b"\r\n"),
        "header bytes"
    );
    assert!(
        h.data.end() <= h.len && h.data.len == h.data_len,
        "data span {:?}",
        h.data
    );
    assert!((1..=DATA_MAX).contains(&h.data_len) && h.payload_len <= PAYLOAD_MAX);
    assert_eq!(
        &bytes[h.data.start as usize - 1..h.data.start as usize],
        b" "
    );
    let d = &bytes[h.data.start as usize..h.data.end() as usize];
    let mut enc = Vec::new();
    write_header_data(
        &mut enc,
        h.id,
        h.ty,
        h.flags,
        h.same_dc,
        d,
        h.payload_len as usize,
    );
    match parse_header(&enc) {
        HeaderParse::Done { consumed, header } => {
            assert_eq!(consumed, enc.len());
            let same = Header {
                version: h.version,
                data: h.data,
                len: h.len,
                ..header
            };
            assert_eq!(same, *h, "re-encoded header");
            assert_eq!(header.version, 1);
            assert_eq!(
                &enc[header.data.start as usize..header.data.end() as usize],
                d
            );
        }
        other => panic!("re-encoded header does not parse: {other:?}"),
    }
}

/// A generated frame: its bytes, and the header fields and payload it was written from.
fn gen_frame(g: &mut Gen, proto: Protocol) -> (Vec<u8>, Header) {
    let ty = g.pick(&[
        MsgType::Req,
        MsgType::ReqForward,
        MsgType::Res,
        MsgType::GossipSyn,
    ]);
    let payload: Vec<u8> = match (ty, proto) {
        (MsgType::GossipSyn, _) => {
            let nodes: Vec<GossipNode> = (0..g.below(3)).map(|_| gen_node(g)).collect();
            let mut p = Vec::new();
            write_gossip(&mut p, &nodes);
            p
        }
        (MsgType::Res, Protocol::Redis) => {
            let d = g.bytes(20, &[]);
            [format!("${}\r\n", d.len()).as_bytes(), &d, b"\r\n"].concat()
        }
        (MsgType::Res, Protocol::Memcache) => b"STORED\r\n".to_vec(),
        (_, Protocol::Redis) => {
            let k = g.bytes(12, &[]);
            [
                format!("*2\r\n$3\r\nGET\r\n${}\r\n", k.len()).as_bytes(),
                &k,
                b"\r\n",
            ]
            .concat()
        }
        (_, Protocol::Memcache) => {
            let mut k = g.bytes(12, GRAPHIC);
            k.insert(0, b'k');
            [b"get ", &k[..], b"\r\n"].concat()
        }
    };
    let (id, flags, same_dc) = (g.u64(), g.pick(&[0u8, 16]), g.bool());
    let mut out = Vec::new();
    if ty == MsgType::GossipSyn {
        write_header_data(&mut out, id, ty, flags, same_dc, b"a", payload.len());
    } else if g.below(4) == 0 {
        let d = g.bytes(300, &[]);
        let d = if d.is_empty() { vec![b'd'] } else { d };
        write_header_data(&mut out, id, ty, flags, same_dc, &d, payload.len());
    } else {
        write_header(&mut out, id, ty, flags, same_dc, payload.len());
    }
    let HeaderParse::Done { header, .. } = parse_header(&out) else {
        panic!("a written header does not parse");
    };
    assert_eq!(
        (
            header.id,
            header.ty,
            header.flags,
            header.same_dc,
            header.payload_len as usize
        ),
        (id, ty, flags, same_dc, payload.len()),
        "written header"
    );
    out.extend_from_slice(&payload);
    (out, header)
}

/// Target `dnode_frame`: arbitrary bytes as a peer stream (payloads as Redis and as
/// Memcached), then a generated stream of frames.
///
/// Oracle: the header parser's contract (consumed, offset, `len` = the header's bytes, at
/// most `MAX_HEADER_LEN`); fed cut anywhere = fed whole; every header starts with the magic,
/// ends with CRLF, holds its `data` span, and re-encodes to the same fields; in a generated
/// stream every header comes back and each datastore payload is framed by the datastore
/// parser at exactly its `payload_len`. On arbitrary bytes `payload_len` and the framed length
/// may differ (Dynomite's framing; the runtime's check is not the parser's): not asserted.
pub fn dnode_frame(data: &[u8]) {
    for proto in [Protocol::Redis, Protocol::Memcache] {
        let (events, _) = assert_split_invariant(data, |c| frames(c, proto));
        for e in &events {
            if let Event::Header { at, header } = e {
                check_header(data, *at, header);
            }
        }
    }

    let mut g = Gen::new(data);
    let proto = if g.bool() {
        Protocol::Redis
    } else {
        Protocol::Memcache
    };
    let mut stream = Vec::new();
    let mut want = Vec::new();
    for _ in 0..1 + g.below(4) {
        let (f, h) = gen_frame(&mut g, proto);
        want.push((stream.len(), h));
        stream.extend_from_slice(&f);
    }
    let (events, pending) = assert_split_invariant(&stream, |c| frames(c, proto));
    assert_eq!(pending, 0);
    let headers: Vec<(usize, Header)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Header { at, header } => Some((*at, *header)),
            _ => None,
        })
        .collect();
    let want_h: Vec<(usize, Header)> = want
        .iter()
        .map(|(at, h)| (*at, Header { data: h.data, ..*h }))
        .collect();
    assert_eq!(headers, want_h, "generated headers");
    for e in &events {
        match e {
            Event::Payload {
                framed,
                announced,
                bad,
            } => assert_eq!(
                (*framed, *bad),
                (*announced as usize, false),
                "payload framed"
            ),
            Event::Counted { gossip, .. } => assert_ne!(*gossip, Some(false), "gossip payload"),
            Event::Garbage { at } => panic!("garbage at {at} in a generated stream"),
            Event::Header { at, header } => check_header(&stream, *at, header),
        }
    }
}

/// A generated node whose gossip text round-trips: no `|` anywhere, no `,` in the address,
/// no `$` in the rack, dc, rack and address not empty.
fn gen_node(g: &mut Gen) -> GossipNode {
    let dc = if g.below(4) == 0 {
        // Non-ASCII text is fine too.
        "dc-é$,".to_string()
    } else {
        g.word(12, b"|")
    };
    GossipNode {
        dc,
        rack: g.word(12, b"|$"),
        token: g.u64() as u32,
        ts: g.u64(),
        state: g.byte(),
        address: g.word(12, b"|,"),
    }
}

/// Target `gossip`: arbitrary bytes, then generated records, through the gossip payload
/// parser.
///
/// Oracle: parsed records re-encode (`write_gossip`) to text that parses to the same
/// records, and to the very bytes when the numbers carry no leading zeros; an error names a
/// record that exists; generated records parse back equal.
pub fn gossip(data: &[u8]) {
    let records = data.split(|&b| b == b'|').count();
    match parse_gossip(data) {
        Ok(nodes) => {
            let mut enc = Vec::new();
            write_gossip(&mut enc, &nodes);
            assert_eq!(parse_gossip(&enc), Ok(nodes.clone()), "re-encoded gossip");
            let canonical = data.split(|&b| b == b'|').all(|r| {
                r.split(|&b| b == b',' || b == b'$')
                    .all(|f| !(f.len() > 1 && f[0] == b'0' && f.iter().all(u8::is_ascii_digit)))
            });
            if canonical && !data.is_empty() {
                assert_eq!(enc, data, "gossip does not re-encode to its bytes");
            }
            assert_eq!(nodes.len(), if data.is_empty() { 0 } else { records });
        }
        Err(e) => {
            let r = match e {
                GossipError::NotUtf8 { record }
                | GossipError::EmptyRecord { record }
                | GossipError::MissingField { record, .. }
                | GossipError::EmptyField { record, .. }
                | GossipError::BadNumber { record, .. } => record,
            };
            assert!(r < records, "error names record {r} of {records}");
            assert!(!e.to_string().contains('\n'));
        }
    }

    let mut g = Gen::new(data);
    let nodes: Vec<GossipNode> = (0..g.below(6)).map(|_| gen_node(&mut g)).collect();
    let mut enc = Vec::new();
    write_gossip(&mut enc, &nodes);
    assert_eq!(parse_gossip(&enc), Ok(nodes), "generated gossip");
}
