//! Tests of the frame header codec: recorded Dynomite C v0.8 traffic (`tests-data/peer-wire/`)
//! walked frame by frame however split, byte-identical composition, garbage rejection, and
//! property tests of the parser's contract. Gossip and seed-list tests live in `gossip.rs`.

use super::*;
use crate::proto::redis::{ReqParser, RspParser};
use crate::proto::{Parse, ReqInfo, RspInfo};
use proptest::prelude::*;

const SAME_DC_REQUESTS: &[u8] = include_bytes!("../../tests-data/peer-wire/same-dc-requests.bin");
const SAME_DC_REPLIES: &[u8] = include_bytes!("../../tests-data/peer-wire/same-dc-replies.bin");
const CROSS_DC_FORWARDS: &[u8] = include_bytes!("../../tests-data/peer-wire/cross-dc-forwards.bin");
const CROSS_DC_REPLIES: &[u8] = include_bytes!("../../tests-data/peer-wire/cross-dc-replies.bin");

/// Ids of the frames A sent to B (and B's replies), in order.
const SAME_DC_IDS: [u64; 10] = [2, 8, 14, 20, 27, 34, 40, 46, 50, 56];
/// Ids of the frames A sent to C (and C's replies), in order.
const CROSS_DC_IDS: [u64; 7] = [3, 9, 21, 35, 41, 51, 57];

// ---------------------------------------------------------------------------------------------
// Walking a recorded stream: header, then the payload framed by the Redis parser.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Requests,
    Replies,
}

/// One frame found in a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Frame {
    /// Stream offset of the header's first byte.
    start: usize,
    header: Header,
    /// Payload length as delimited by the Redis parser.
    payload: usize,
}

/// Walks a whole stream delivered as `chunks`; panics on garbage, a broken payload, or a frame
/// left unfinished at the end.
fn walk<'a>(chunks: impl IntoIterator<Item = &'a [u8]>, side: Side) -> Vec<Frame> {
    let mut hp = HeaderParser::new();
    let mut rq = ReqParser::new();
    let mut rs = RspParser::new();
    let mut ri = ReqInfo::default();
    let mut si = RspInfo::default();
    let mut frames = Vec::new();
    let mut cur: Option<Frame> = None;
    let mut base = 0;
    let mut start = 0;
    for c in chunks {
        let mut i = 0;
        while i < c.len() {
            let rest = &c[i..];
            match cur.as_mut() {
                None => {
                    if hp.offset() == 0 {
                        start = base + i;
                    }
                    match hp.feed(rest) {
                        HeaderParse::Done { consumed, header } => {
                            assert!(consumed >= 1 && consumed <= rest.len());
                            assert_eq!(start + header.len as usize, base + i + consumed);
                            i += consumed;
                            cur = Some(Frame {
                                start,
                                header,
                                payload: 0,
                            });
                        }
                        HeaderParse::Incomplete => {
                            assert!(hp.offset() <= MAX_HEADER_LEN);
                            i = c.len();
                        }
                        HeaderParse::Garbage { consumed } => {
                            panic!("garbage at stream offset {}", base + i + consumed - 1)
                        }
                    }
                }
                Some(f) => {
                    let r = match side {
                        Side::Requests => rq.feed(rest, &mut ri),
                        Side::Replies => rs.feed(rest, &mut si),
                    };
                    match r {
                        Parse::Done { consumed } => {
                            assert!(consumed >= 1 && consumed <= rest.len());
                            f.payload += consumed;
                            i += consumed;
                            assert_eq!(ri.error, None);
                            assert!(!si.broken);
                            frames.extend(cur.take());
                        }
                        Parse::Incomplete => {
                            f.payload += rest.len();
                            i = c.len();
                        }
                    }
                }
            }
        }
        base += c.len();
    }
    assert!(cur.is_none(), "stream ends inside a payload");
    assert_eq!(hp.offset(), 0, "stream ends inside a header");
    frames
}

/// The walk of `stream` fed whole, byte by byte, and split in two at every offset must agree.
fn walk_every_split(stream: &[u8], side: Side) -> Vec<Frame> {
    let whole = walk([stream], side);
    assert_eq!(walk(stream.chunks(1), side), whole, "byte by byte");
    for k in 1..stream.len() {
        let (a, b) = stream.split_at(k);
        assert_eq!(walk([a, b], side), whole, "split at {k}");
    }
    whole
}

/// Checks what every frame of a recording should be, and that we compose the same header.
fn check_frames(stream: &[u8], frames: &[Frame], ty: MsgType, same_dc: bool, ids: &[u64]) {
    assert_eq!(
        frames.iter().map(|f| f.header.id).collect::<Vec<_>>(),
        ids,
        "ids"
    );
    for f in frames {
        let h = &f.header;
        assert_eq!(h.ty, ty);
        assert_eq!(h.same_dc, same_dc);
        assert_eq!((h.flags, h.version, h.data_len), (0, 1, 1));
        let data = f.start + h.data.start as usize;
        assert_eq!(&stream[data..data + h.data.len as usize], DATA_REQ);
        assert!(!payload_is_counted(h));
        // Dynomite C's payload_len is exact for direct requests, forwards and replies.
        assert_eq!(
            h.payload_len as usize, f.payload,
            "payload_len of id {}",
            h.id
        );
        let mut out = Vec::new();
        write_header(&mut out, h.id, h.ty, h.flags, h.same_dc, f.payload);
        assert_eq!(out, &stream[f.start..f.start + h.len as usize]);
    }
    let last = frames
        .last()
        .map_or(0, |f| f.start + f.header.len as usize + f.payload);
    assert_eq!(last, stream.len());
}

#[test]
fn same_dc_requests() {
    let frames = walk_every_split(SAME_DC_REQUESTS, Side::Requests);
    check_frames(SAME_DC_REQUESTS, &frames, MsgType::Req, true, &SAME_DC_IDS);
    // The first frame, byte for byte.
    assert!(SAME_DC_REQUESTS.starts_with(b"   $2014$ 2 3 0 1 1 *1 d *30\r\n*3\r\n$3\r\nSET\r\n"));
}

#[test]
fn same_dc_replies() {
    let frames = walk_every_split(SAME_DC_REPLIES, Side::Replies);
    check_frames(SAME_DC_REPLIES, &frames, MsgType::Res, true, &SAME_DC_IDS);
}

#[test]
fn cross_dc_forwards() {
    let frames = walk_every_split(CROSS_DC_FORWARDS, Side::Requests);
    check_frames(
        CROSS_DC_FORWARDS,
        &frames,
        MsgType::ReqForward,
        false,
        &CROSS_DC_IDS,
    );
}

#[test]
fn cross_dc_replies_every_three_way_split() {
    let s = CROSS_DC_REPLIES;
    let frames = walk_every_split(s, Side::Replies);
    check_frames(s, &frames, MsgType::Res, false, &CROSS_DC_IDS);
    for a in 1..s.len() {
        for b in a + 1..s.len() {
            assert_eq!(walk([&s[..a], &s[a..b], &s[b..]], Side::Replies), frames);
        }
    }
}

#[test]
fn replies_answer_requests_in_order() {
    let pairs = [
        (SAME_DC_REQUESTS, SAME_DC_REPLIES),
        (CROSS_DC_FORWARDS, CROSS_DC_REPLIES),
    ];
    for (req, rsp) in pairs {
        let q = walk([req], Side::Requests);
        let r = walk([rsp], Side::Replies);
        let qi: Vec<u64> = q.iter().map(|f| f.header.id).collect();
        let ri: Vec<u64> = r.iter().map(|f| f.header.id).collect();
        assert_eq!(qi, ri);
    }
}

// ---------------------------------------------------------------------------------------------
// Composing and parsing single headers.

fn hdr(id: u64, ty: MsgType, flags: u8, same_dc: bool, data: &[u8], payload_len: usize) -> Vec<u8> {
    let mut out = Vec::new();
    write_header_data(&mut out, id, ty, flags, same_dc, data, payload_len);
    out
}

fn done(buf: &[u8]) -> Header {
    match parse_header(buf) {
        HeaderParse::Done { consumed, header } => {
            assert_eq!(consumed, buf.len());
            header
        }
        other => panic!("{other:?} for {:?}", String::from_utf8_lossy(buf)),
    }
}

#[test]
fn spec_examples() {
    let get = b"   $2014$ 1344 3 0 1 1 *1 d *22\r\n";
    assert_eq!(hdr(1344, MsgType::Req, 0, true, b"d", 22), get);
    let mut out = b"prefix".to_vec();
    write_header(&mut out, 1344, MsgType::Res, 0, true, 9);
    assert_eq!(out, b"prefix   $2014$ 1344 5 0 1 1 *1 d *9\r\n");
    let h = done(get);
    assert_eq!(
        h,
        Header {
            id: 1344,
            ty: MsgType::Req,
            flags: 0,
            version: 1,
            same_dc: true,
            data_len: 1,
            payload_len: 22,
            data: crate::proto::Span::new(26, 1),
            len: get.len() as u32,
        }
    );
    // dynomite-test.sh: payload_len 0 before a full request (ignored for plaintext requests).
    let h = done(b"   $2014$ 1 3 0 1 1 *1 d *0\r\n");
    assert_eq!((h.id, h.payload_len), (1, 0));
    // Gossip frames carry `a`.
    let g = hdr(7, MsgType::GossipSyn, 0, false, DATA_GOSSIP, 40);
    assert_eq!(g, b"   $2014$ 7 7 0 1 0 *1 a *40\r\n");
    assert!(payload_is_counted(&done(&g)));
}

#[test]
fn star_before_data_len_is_optional() {
    let h = done(b"   $2014$ 9 4 0 1 0 1 d *31\r\n");
    assert_eq!(
        (h.id, h.ty, h.data_len, h.payload_len),
        (9, MsgType::ReqForward, 1, 31)
    );
}

#[test]
fn leading_zeros_and_extremes() {
    let h = done(b"   $2014$ 007 05 00 01 1 *001 d *0010\r\n");
    assert_eq!(
        (h.id, h.ty, h.flags, h.version, h.data_len),
        (7, MsgType::Res, 0, 1, 1)
    );
    assert_eq!(h.payload_len, 10);
    let h = done(&hdr(
        u64::MAX,
        MsgType::GossipShutdown,
        255,
        true,
        b"d",
        PAYLOAD_MAX as usize,
    ));
    assert_eq!((h.id, h.flags, h.payload_len), (u64::MAX, 255, PAYLOAD_MAX));
    // The longest header there can be.
    let mut big = MAGIC.to_vec();
    big.extend_from_slice(b"18446744073709551615 00000000000000000003 00000000000000000255 ");
    big.extend_from_slice(b"00000000000000000001 1 *00000000000000004096 ");
    big.resize(big.len() + DATA_MAX as usize, b'\r');
    big.extend_from_slice(b" *00000000000536870912\r\n");
    assert_eq!(big.len(), MAX_HEADER_LEN);
    let h = done(&big);
    assert_eq!(
        (h.data_len, h.payload_len, h.len as usize),
        (DATA_MAX, PAYLOAD_MAX, big.len())
    );
}

/// An encrypted link's first frame carries the RSA-encrypted key: binary `data` that may hold
/// anything, the magic and `\r\n` included.
#[test]
fn binary_data_is_opaque() {
    let mut key: Vec<u8> = (0..=255u8).cycle().take(128).collect();
    key[..10].copy_from_slice(MAGIC);
    key[10..14].copy_from_slice(b"\r\n *");
    let buf = hdr(77, MsgType::Req, FLAG_ENCRYPTED, false, &key, 48);
    let h = done(&buf);
    assert_eq!((h.data_len, h.payload_len), (128, 48));
    assert!(h.encrypted() && payload_is_counted(&h));
    let d = h.data.start as usize;
    assert_eq!(&buf[d..d + 128], &key[..]);
    for k in 1..buf.len() {
        let mut p = HeaderParser::new();
        assert_eq!(p.feed(&buf[..k]), HeaderParse::Incomplete);
        assert_eq!(p.offset(), k);
        assert_eq!(
            p.feed(&buf[k..]),
            HeaderParse::Done {
                consumed: buf.len() - k,
                header: h
            }
        );
        assert_eq!(p.offset(), 0);
    }
}

#[test]
fn msg_type_numbers() {
    for n in 0..=255u8 {
        match MsgType::from_u8(n) {
            Some(t) => {
                assert_eq!(t.as_u8(), n);
                assert_eq!(u8::from(t), n);
                assert_eq!(MsgType::try_from(n), Ok(t));
            }
            None => {
                assert!(n > 13);
                assert_eq!(MsgType::try_from(n), Err(n));
            }
        }
    }
    assert_eq!(MsgType::from_u8(3), Some(MsgType::Req));
    assert_eq!(MsgType::from_u8(7), Some(MsgType::GossipSyn));
    assert_eq!(MsgType::from_u8(13), Some(MsgType::GossipShutdown));
}

#[test]
fn payload_counting_rule() {
    let h = |ty, flags| Header {
        ty,
        flags,
        ..Header::default()
    };
    for ty in MsgType::ALL {
        let plain = payload_is_counted(&h(ty, 0));
        assert_eq!(
            plain,
            !matches!(ty, MsgType::Req | MsgType::ReqForward | MsgType::Res)
        );
        assert_eq!(payload_is_counted(&h(ty, FLAG_RESP3)), plain);
        assert!(payload_is_counted(&h(ty, FLAG_ENCRYPTED)));
        assert!(payload_is_counted(&h(ty, FLAG_ENCRYPTED | FLAG_RESP3)));
    }
}

/// Dynomite C stores `flags & 0xF` and tests `== 1` for encryption: our bit disappears.
#[test]
fn resp3_flag_is_invisible_to_dynomite_c() {
    assert_eq!(FLAG_RESP3 & 0xF, 0);
    assert_eq!((FLAG_RESP3 | FLAG_ENCRYPTED) & 0xF, FLAG_ENCRYPTED);
    assert_eq!(FLAG_RESP3 & FLAG_ENCRYPTED, 0);
    let buf = hdr(5, MsgType::Req, FLAG_RESP3, true, DATA_REQ, 14);
    assert_eq!(buf, b"   $2014$ 5 3 16 1 1 *1 d *14\r\n");
    let h = done(&buf);
    assert!(h.resp3() && !h.encrypted() && !payload_is_counted(&h));
}

// ---------------------------------------------------------------------------------------------
// Garbage: the first byte that cannot continue a header is reported, however the input is split.

/// `(prefix, rest)`: `prefix` can start a header, the first byte of `rest` cannot continue it.
const GARBAGE: &[(&str, &str)] = &[
    ("", "x   $2014$ 1 3 0 1 1 *1 d *0\r\n"),
    ("", "$2014$ 1 3 0 1 1 *1 d *0\r\n"),
    ("  ", "$2014$ 1 3 0 1 1 *1 d *0\r\n"),
    (" ", "\0  $2014$ 1 3 0 1 1 *1 d *0\r\n"),
    ("   $201", "5$ 1 3 0 1 1 *1 d *0\r\n"),
    ("   $2014", " 1 3 0 1 1 *1 d *0\r\n"),
    ("   $2014$", "1 3 0 1 1 *1 d *0\r\n"),
    ("   $2014$ ", " 1 3 0 1 1 *1 d *0\r\n"),
    ("   $2014$ ", "-1 3 0 1 1 *1 d *0\r\n"),
    ("   $2014$ 1", "a 3 0 1 1 *1 d *0\r\n"),
    ("   $2014$ 1", "\t3 0 1 1 *1 d *0\r\n"),
    ("   $2014$ 1 ", "x 0 1 1 *1 d *0\r\n"),
    ("   $2014$ 1844674407370955161", "6 3 0 1 1 *1 d *0\r\n"),
    ("   $2014$ 00000000000000000000", "0 3 0 1 1 *1 d *0\r\n"),
    ("   $2014$ 1 14", " 0 1 1 *1 d *0\r\n"),
    ("   $2014$ 1 256", " 0 1 1 *1 d *0\r\n"),
    ("   $2014$ 1 3 256", " 1 1 *1 d *0\r\n"),
    ("   $2014$ 1 3 0 256", " 1 *1 d *0\r\n"),
    ("   $2014$ 1 3 0 1", "\r\n*1 d *0\r\n"),
    ("   $2014$ 1 3 0 1 ", "2 *1 d *0\r\n"),
    ("   $2014$ 1 3 0 1 ", " *1 d *0\r\n"),
    ("   $2014$ 1 3 0 1 1", "0 *1 d *0\r\n"),
    ("   $2014$ 1 3 0 1 1", "*1 d *0\r\n"),
    ("   $2014$ 1 3 0 1 1 *", "*1 d *0\r\n"),
    ("   $2014$ 1 3 0 1 1 *", " d *0\r\n"),
    ("   $2014$ 1 3 0 1 1 *0", " d *0\r\n"),
    ("   $2014$ 1 3 0 1 1 *4097", " d *0\r\n"),
    ("   $2014$ 1 3 0 1 1 *1", "d *0\r\n"),
    ("   $2014$ 1 3 0 1 1 *1 d", "*0\r\n"),
    ("   $2014$ 1 3 0 1 1 *1 d", "d *0\r\n"),
    ("   $2014$ 1 3 0 1 1 *1 d ", "0\r\n"),
    ("   $2014$ 1 3 0 1 1 *1 d ", " *0\r\n"),
    ("   $2014$ 1 3 0 1 1 *1 d *", "\r\n"),
    ("   $2014$ 1 3 0 1 1 *1 d *0", "\n"),
    ("   $2014$ 1 3 0 1 1 *1 d *0", " \r\n"),
    ("   $2014$ 1 3 0 1 1 *1 d *0\r", "\r"),
    ("   $2014$ 1 3 0 1 1 *1 d *0\r", "x"),
    ("   $2014$ 1 3 0 1 1 *1 d *536870913", "\r\n"),
    ("   $2014$ 1 3 0 1 1 *1 d *9999999999999999999", "9\r\n"),
    ("   $2014$ 1 3 0 1 1 *1 d *10000000000", "\r\n"),
    ("   $2014$ 1 3 0 1 1 *1 d *00000000000000000000", "0\r\n"),
];

/// Feeds `chunks` until the first non-`Incomplete` outcome; returns it with the number of
/// bytes fed before the chunk that produced it.
fn first_outcome(chunks: &[&[u8]]) -> (usize, HeaderParse) {
    let mut p = HeaderParser::new();
    let mut before = 0;
    for c in chunks {
        match p.feed(c) {
            HeaderParse::Incomplete => before += c.len(),
            other => return (before, other),
        }
    }
    (before, HeaderParse::Incomplete)
}

#[test]
fn garbage_is_rejected_at_the_offending_byte() {
    for &(prefix, rest) in GARBAGE {
        let buf = [prefix.as_bytes(), rest.as_bytes()].concat();
        let at = prefix.len() + 1;
        let (_, whole) = first_outcome(&[&buf]);
        assert_eq!(
            whole,
            HeaderParse::Garbage { consumed: at },
            "{prefix:?} + {rest:?}"
        );
        for k in 1..buf.len() {
            let (a, b) = buf.split_at(k);
            let (before, got) = first_outcome(&[a, b]);
            match got {
                HeaderParse::Garbage { consumed } => {
                    assert_eq!(before + consumed, at, "{buf:?} split at {k}")
                }
                other => panic!("{other:?} for {buf:?} split at {k}"),
            }
        }
        // The parser is reset: a good header parses right after.
        let mut p = HeaderParser::new();
        let good = b"   $2014$ 1 3 0 1 1 *1 d *0\r\n";
        assert!(matches!(p.feed(&buf[..at]), HeaderParse::Garbage { .. }));
        assert_eq!(p.offset(), 0);
        assert!(matches!(
            p.feed(good),
            HeaderParse::Done { consumed: 29, .. }
        ));
    }
}

#[test]
fn prefixes_of_a_header_are_incomplete() {
    let buf = hdr(1, MsgType::Res, 0, true, b"d", 5);
    for k in 0..buf.len() {
        assert_eq!(parse_header(&buf[..k]), HeaderParse::Incomplete, "{k}");
    }
    // Whatever follows the header is left for the payload parser.
    let mut more = buf.clone();
    more.extend_from_slice(b"+OK\r\n   $2014$");
    assert!(
        matches!(parse_header(&more), HeaderParse::Done { consumed, .. } if consumed == buf.len())
    );
}

// ---------------------------------------------------------------------------------------------
// Properties.

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

fn split<'a>(buf: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut prev = 0;
    for &c in cuts.iter().chain(std::iter::once(&buf.len())) {
        out.push(&buf[prev..c]);
        prev = c;
    }
    out
}

/// Every outcome of feeding `chunks`, as (stream offset just past it, header if any), checking
/// the progress contract on each feed. After garbage the parser restarts at the next byte.
fn events(chunks: &[&[u8]]) -> Vec<(usize, Option<Header>)> {
    let mut p = HeaderParser::new();
    let mut out = Vec::new();
    let mut base = 0;
    for c in chunks {
        let mut i = 0;
        while i < c.len() {
            let rest = &c[i..];
            match p.feed(rest) {
                HeaderParse::Done { consumed, header } => {
                    assert!(consumed >= 1 && consumed <= rest.len());
                    i += consumed;
                    out.push((base + i, Some(header)));
                }
                HeaderParse::Garbage { consumed } => {
                    assert!(consumed >= 1 && consumed <= rest.len());
                    i += consumed;
                    out.push((base + i, None));
                }
                HeaderParse::Incomplete => i = c.len(),
            }
            assert!(p.offset() <= MAX_HEADER_LEN);
        }
        base += c.len();
    }
    out
}

/// Bytes that look like headers often enough to reach every state.
fn header_ish() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(MAGIC.to_vec()),
        Just(b"   $2014$ 1 3 0 1 1 *1 d *0\r\n".to_vec()),
        Just(b" ".to_vec()),
        Just(b"*".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"d".to_vec()),
        "[0-9]{1,22}".prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..4),
    ];
    proptest::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn random_bytes_never_panic_and_progress(
        buf in proptest::collection::vec(any::<u8>(), 0..400),
        raw in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let c = cuts(buf.len(), &raw);
        events(&split(&buf, &c));
    }

    #[test]
    fn split_does_not_change_outcomes(
        buf in header_ish(),
        raw in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let whole = events(&[&buf]);
        let c = cuts(buf.len(), &raw);
        prop_assert_eq!(events(&split(&buf, &c)), whole.clone());
        prop_assert_eq!(events(&buf.chunks(1).collect::<Vec<_>>()), whole);
    }

    #[test]
    fn write_then_parse_round_trips(
        id in any::<u64>(),
        ty in 0..14u8,
        flags in any::<u8>(),
        same_dc in any::<bool>(),
        data in proptest::collection::vec(any::<u8>(), 1..300),
        payload_len in 0..=PAYLOAD_MAX,
        raw in proptest::collection::vec(any::<usize>(), 0..6),
    ) {
        let ty = MsgType::from_u8(ty).unwrap_or_default();
        let buf = hdr(id, ty, flags, same_dc, &data, payload_len as usize);
        let c = cuts(buf.len(), &raw);
        let ev = events(&split(&buf, &c));
        prop_assert_eq!(ev.len(), 1);
        let (end, h) = ev[0];
        prop_assert_eq!(end, buf.len());
        let h = h.unwrap_or_default();
        let data_at = buf.len() - data.len() - 4 - payload_len.to_string().len();
        prop_assert_eq!(h, Header {
            id,
            ty,
            flags,
            version: 1,
            same_dc,
            data_len: data.len() as u32,
            payload_len,
            data: crate::proto::Span::new(data_at as u32, data.len() as u32),
            len: buf.len() as u32,
        });
        prop_assert_eq!(&buf[data_at..data_at + data.len()], &data[..]);
    }
}
