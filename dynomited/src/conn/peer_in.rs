//! An incoming peer connection: another node's outgoing connection to us. Its requests are
//! dnode frames (a header, then the datastore request as payload); gossip digests arrive on
//! it too. Peers are trusted as in Dynomite (no AUTH).
//!
//! ```text
//!   bytes ─► header ─┬─ DMSG_REQ / DMSG_REQ_FORWARD ─► Payload: the request parser takes over
//!                    ├─ GOSSIP_SYN (≤ 1 MiB) ────────► collected, then handed over (Gossip)
//!                    ├─ GOSSIP_SYN (larger) ─────────► skipped
//!                    └─ anything else, garbage ──────► Close
//! ```

use super::inbound::Inbound;
use crate::peer::{Header, HeaderParse, HeaderParser, MsgType};
use crate::proto;

/// The reply size guessed for a new incoming peer connection.
pub const PEER_FIRST_REPLY_GUESS: usize = 4 << 10;

/// Largest gossip digest read (thousands of nodes); a larger one is skipped.
pub const MAX_GOSSIP: usize = 1 << 20;

pub struct PeerIn {
    pub inb: Inbound,
    pub header: HeaderParser,
    /// The header of the frame whose payload is being parsed.
    pub cur: Option<Header>,
    /// Payload bytes still to skip (frames whose payload is not a request).
    pub skip: usize,
    /// A gossip payload being collected, and how many bytes of it are still to come.
    pub gossip: Vec<u8>,
    pub gossip_left: usize,
}

/// What [`PeerIn::frame_step`] found in front of the next request.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// Consumed a header or skipped bytes: look again.
    Again,
    /// Every byte was consumed and more are needed.
    More,
    /// A gossip payload is complete in `gossip`.
    Gossip,
    /// A request payload is next: parse it with the datastore parser.
    Payload,
    /// The peer broke the protocol: close the connection (counted in `dnode_client_err`).
    Close(String),
}

impl PeerIn {
    pub fn new(p: proto::Protocol, id: u64) -> PeerIn {
        let mut inb = Inbound::new(p, id);
        // Another node's connection carries many clients' requests: it is not held to one
        // request in flight until its first reply (replies the size of its guess would
        // still narrow its window).
        inb.reply_guess = PEER_FIRST_REPLY_GUESS;
        PeerIn {
            inb,
            header: HeaderParser::new(),
            cur: None,
            skip: 0,
            gossip: Vec::new(),
            gossip_left: 0,
        }
    }

    /// Whether a request payload is being parsed (no frame header comes next).
    pub fn in_payload(&self) -> bool {
        self.inb.cur.is_some() || self.cur.is_some()
    }

    /// Consume frame headers (and payloads that are not requests) at the front of `chunk`:
    /// how many bytes were consumed and what comes next.
    pub fn frame_step(&mut self, chunk: &[u8]) -> (usize, Frame) {
        if self.in_payload() {
            return (0, Frame::Payload);
        }
        if self.gossip_left > 0 {
            let n = self.gossip_left.min(chunk.len());
            self.gossip.extend_from_slice(&chunk[..n]);
            self.gossip_left -= n;
            let next = if self.gossip_left == 0 {
                Frame::Gossip
            } else {
                Frame::Again
            };
            return (n, next);
        }
        if self.skip > 0 {
            let n = self.skip.min(chunk.len());
            self.skip -= n;
            return (n, Frame::Again);
        }
        match self.header.feed(chunk) {
            HeaderParse::Incomplete => (chunk.len(), Frame::More),
            HeaderParse::Garbage { .. } => (
                0,
                Frame::Close("sent bytes that are not a dnode frame".into()),
            ),
            HeaderParse::Done { consumed, header } => {
                if header.encrypted() {
                    let why = "sent an encrypted frame (not supported yet)".into();
                    return (consumed, Frame::Close(why));
                }
                match header.ty {
                    // Requests: the payload follows, framed by the datastore parser.
                    MsgType::Req | MsgType::ReqForward => self.cur = Some(header),
                    MsgType::GossipSyn if header.payload_len as usize <= MAX_GOSSIP => {
                        self.gossip.clear();
                        self.gossip_left = header.payload_len as usize;
                    }
                    MsgType::GossipSyn => self.skip = header.payload_len as usize,
                    other => {
                        let why = format!("sent a {other:?} frame on a request connection");
                        return (consumed, Frame::Close(why));
                    }
                }
                (consumed, Frame::Again)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::peer::{write_header, write_header_data, DATA_GOSSIP};

    fn peer() -> PeerIn {
        PeerIn::new(proto::Protocol::Redis, 1)
    }

    #[test]
    fn request_header_then_payload() {
        let mut p = peer();
        let mut b = Vec::new();
        write_header(&mut b, 7, MsgType::Req, 0, true, 14);
        b.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
        let (n, f) = p.frame_step(&b);
        assert_eq!(f, Frame::Again);
        assert_eq!(p.cur.map(|h| h.id), Some(7));
        assert_eq!(p.frame_step(&b[n..]), (0, Frame::Payload));
    }

    #[test]
    fn header_split_anywhere() {
        let mut b = Vec::new();
        write_header(&mut b, 9, MsgType::ReqForward, 0, false, 3);
        for cut in 1..b.len() {
            let mut p = peer();
            assert_eq!(p.frame_step(&b[..cut]), (cut, Frame::More), "cut {cut}");
            let (_, f) = p.frame_step(&b[cut..]);
            assert_eq!(f, Frame::Again, "cut {cut}");
            assert_eq!(p.cur.map(|h| (h.id, h.ty)), Some((9, MsgType::ReqForward)));
        }
    }

    #[test]
    fn gossip_is_collected_in_pieces() {
        let mut p = peer();
        let payload = b"dc$rack$1,2,4,10.0.0.1";
        let mut b = Vec::new();
        write_header_data(
            &mut b,
            1,
            MsgType::GossipSyn,
            0,
            true,
            DATA_GOSSIP,
            payload.len(),
        );
        b.extend_from_slice(payload);
        let (n, f) = p.frame_step(&b);
        assert_eq!(f, Frame::Again);
        let (m, f) = p.frame_step(&b[n..n + 5]);
        assert_eq!((m, f), (5, Frame::Again));
        let (_, f) = p.frame_step(&b[n + 5..]);
        assert_eq!(f, Frame::Gossip);
        assert_eq!(p.gossip, payload);
    }

    #[test]
    fn garbage_and_replies_close() {
        let mut p = peer();
        assert!(matches!(p.frame_step(b"GET x\r\n").1, Frame::Close(_)));
        let mut p = peer();
        let mut b = Vec::new();
        write_header(&mut b, 1, MsgType::Res, 0, true, 0);
        assert!(matches!(p.frame_step(&b).1, Frame::Close(why) if why.contains("Res")));
    }
}
