//! The peer ("dnode") wire format spoken between nodes: frame headers, gossip payloads and the
//! seed-list text of seed providers (SPEC §5.2, §6.3, §1.5). Pure: no sockets, no clocks.
//!
//! Every frame on a peer connection is an ASCII header followed by a payload:
//!
//! ```text
//!   ␣␣␣$2014$␣ id ␣ type ␣ flags ␣ version ␣ same_dc ␣ [*]data_len ␣ data ␣ *payload_len \r\n payload
//!   └─ MAGIC ─┘  (␣ = exactly one space; numbers are unsigned decimal)
//!
//!   id           u64: a request's id; a reply copies the id of the request it answers
//!   type         MsgType: 3 REQ, 4 REQ_FORWARD, 5 RES, 7 GOSSIP_SYN (the only ones sent)
//!   flags        bit 0 FLAG_ENCRYPTED; bit 4 FLAG_RESP3 (ours, invisible to Dynomite C)
//!   version      always 1
//!   same_dc      one digit: 1 = sender and receiver are in the same DC
//!   data_len     1..=4096 bytes of data: "d" (requests, replies), "a" (gossip), or the
//!                binary RSA-encrypted key on an encrypted link's first frame
//!   payload_len  payload bytes; delimits the payload only where payload_is_counted() says so,
//!                otherwise the datastore parser frames it (one RESP/memcache message)
//! ```
//!
//! Example, a `GET foo` sent to a peer in the same DC, and its reply (SPEC §5.2):
//!
//! ```text
//!   "   $2014$ 1344 3 0 1 1 *1 d *22\r\n*2\r\n$3\r\nget\r\n$3\r\nfoo\r\n"
//!   "   $2014$ 1344 5 0 1 1 *1 d *9\r\n$3\r\nbar\r\n"
//! ```
//!
//! [`HeaderParser`] reads headers resumably, chunk by chunk, like the datastore parsers of
//! [`crate::proto`]; it records the `data` field as a [`Span`] (zero-copy). Unlike Dynomite,
//! which scans forward for the next `$2014$` and silently drops whatever it skipped, anything
//! that is not a valid header where a header must start is [`HeaderParse::Garbage`]: the runtime
//! counts it and closes the connection. [`write_header`] composes headers byte-identical to
//! Dynomite's `dmsg_write`. [`payload_is_counted`] says how the payload after a header is
//! delimited. `gossip.rs` holds the gossip payload and seed-list text formats.
//!
//! Files: `frame.rs` (header parser and writer), `gossip.rs` (gossip records, seed lists, and
//! their tests), `tests.rs` (recorded Dynomite C traffic, garbage, property tests).

mod frame;
mod gossip;
pub mod hintfile;

#[cfg(test)]
mod tests;

pub use frame::{
    parse_header, write_header, write_header_data, HeaderParse, HeaderParser, DATA_GOSSIP,
    DATA_MAX, DATA_REQ, MAGIC, MAX_DIGITS, MAX_HEADER_LEN, PAYLOAD_MAX,
};
pub use gossip::{
    parse_gossip, parse_seed_list, split_seed, write_gossip, write_seed_list, GossipError,
    GossipNode, SeedRecord,
};

use crate::proto::Span;

/// Frame types (Dynomite's `dmsg_type_t`, same numbers). Dynomite C only ever sends
/// [`Req`](MsgType::Req), [`ReqForward`](MsgType::ReqForward), [`Res`](MsgType::Res) and
/// [`GossipSyn`](MsgType::GossipSyn); the others exist in its enum and are accepted on the wire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum MsgType {
    #[default]
    Unknown = 0,
    Debug = 1,
    ParseError = 2,
    /// A request for the receiver's own datastore (`DMSG_REQ`).
    Req = 3,
    /// A request the receiver replicates to every rack of its DC (`DMSG_REQ_FORWARD`).
    ReqForward = 4,
    /// A reply, carrying the id of the request it answers (`DMSG_RES`).
    Res = 5,
    CryptoHandshake = 6,
    /// A gossip digest or announcement (§6.3); no reply is expected.
    GossipSyn = 7,
    GossipSynReply = 8,
    GossipAck = 9,
    GossipDigestSyn = 10,
    GossipDigestAck = 11,
    GossipDigestAck2 = 12,
    GossipShutdown = 13,
}

impl MsgType {
    /// Every type, in numeric order (`ALL[n].as_u8() == n`).
    pub const ALL: [MsgType; 14] = [
        MsgType::Unknown,
        MsgType::Debug,
        MsgType::ParseError,
        MsgType::Req,
        MsgType::ReqForward,
        MsgType::Res,
        MsgType::CryptoHandshake,
        MsgType::GossipSyn,
        MsgType::GossipSynReply,
        MsgType::GossipAck,
        MsgType::GossipDigestSyn,
        MsgType::GossipDigestAck,
        MsgType::GossipDigestAck2,
        MsgType::GossipShutdown,
    ];

    /// The type numbered `n`, if there is one (0..=13).
    pub const fn from_u8(n: u8) -> Option<MsgType> {
        if (n as usize) < MsgType::ALL.len() {
            Some(MsgType::ALL[n as usize])
        } else {
            None
        }
    }

    pub const fn as_u8(self) -> u8 {
        self as u8
    }

    /// Requests and replies whose payload is a datastore message (RESP or memcache text).
    pub const fn is_datastore(self) -> bool {
        matches!(self, MsgType::Req | MsgType::ReqForward | MsgType::Res)
    }
}

impl TryFrom<u8> for MsgType {
    type Error = u8;
    fn try_from(n: u8) -> Result<Self, u8> {
        MsgType::from_u8(n).ok_or(n)
    }
}

impl From<MsgType> for u8 {
    fn from(t: MsgType) -> u8 {
        t.as_u8()
    }
}

/// Flags bit 0: the payload is encrypted (AES, key sent in the first frame's `data`).
///
/// Dynomite C tests `flags == 1` exactly after masking with `0xF`; the only values either
/// implementation sends are 0, 1 and (ours) 16, 17, on which `flags & FLAG_ENCRYPTED` agrees.
/// Bit 1 (value 2) is Dynomite's "compressed", declared and never used.
pub const FLAG_ENCRYPTED: u8 = 1;

/// Flags bit 4: the payload is RESP3 (ours; Dynomite C neither sends nor sees it).
///
/// On a request: it came from a client that said `HELLO 3`, so the receiving node must run it
/// on a RESP3 backend connection. On a reply: the payload was produced by a RESP3 backend
/// connection. Without the bit, payloads are RESP2 (or memcache text).
///
/// Why a Dynomite C node ignores it harmlessly: its header parser (`dyn_parse_core`, state
/// `DYN_BIT_FIELD`) reads the flags number in full and stores `num & 0xF`, so `16` is stored
/// as `0` and `17` as `1`; every later test (`flags == 1` for encryption) sees exactly what it
/// would have seen without the bit. A C node answers such a request from its RESP2 backend and
/// its reply carries flags 0, which is how the coordinator can tell the reply is RESP2 (the
/// runtime must then not hand it to a RESP3 client unconverted).
pub const FLAG_RESP3: u8 = 16;

/// One frame header, as read by [`HeaderParser`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// Requests: the sender's message id; replies: the id of the request answered.
    pub id: u64,
    pub ty: MsgType,
    /// The flags number as sent (0..=255), unmasked; see [`FLAG_ENCRYPTED`], [`FLAG_RESP3`].
    pub flags: u8,
    /// Always 1 from Dynomite C and from us; not checked.
    pub version: u8,
    pub same_dc: bool,
    /// Length of the `data` side channel, 1..=[`DATA_MAX`].
    pub data_len: u32,
    /// As announced; whether it delimits the payload is [`payload_is_counted`]'s question.
    pub payload_len: u32,
    /// Where the `data` bytes are, as an offset from the header's first byte
    /// (`data.len == data_len`). `d` or `a` on plaintext links; on an encrypted link's first
    /// frame, the binary RSA ciphertext of the AES key.
    pub data: Span,
    /// Length of the whole header in bytes, from the first space to `\n` inclusive.
    pub len: u32,
}

impl Header {
    /// The payload is encrypted (bit 0 of the flags).
    pub const fn encrypted(&self) -> bool {
        self.flags & FLAG_ENCRYPTED != 0
    }

    /// The payload is RESP3 (bit 4 of the flags; ours).
    pub const fn resp3(&self) -> bool {
        self.flags & FLAG_RESP3 != 0
    }
}

/// Whether `payload_len` delimits the payload that follows the header `h`.
///
/// - Plaintext [`Req`](MsgType::Req), [`ReqForward`](MsgType::ReqForward) and
///   [`Res`](MsgType::Res) frames: **no**. Dynomite ignores `payload_len` for them and frames the
///   payload with the datastore parser (one RESP/memcache message per frame); so must we. The
///   recorded traffic shows Dynomite C's `payload_len` is exact for requests, forwards and
///   direct replies, but a relayed reply (remote-DC coordinator forwarding to a same-rack peer)
///   counts the inner hop's header bytes too (SPEC §5.2, known defect), and
///   `scripts/dynomite/dynomite-test.sh` sends `*0` before full requests.
/// - Encrypted frames (flags bit 0): **yes**, `payload_len` is the ciphertext length.
/// - [`GossipSyn`](MsgType::GossipSyn): **yes**, the payload is gossip text (§6.3).
/// - Every other type: **yes**. Dynomite C never sends them; counting is the only framing that
///   does not guess (we send them, if ever, with the exact length, usually 0).
pub const fn payload_is_counted(h: &Header) -> bool {
    h.encrypted() || !h.ty.is_datastore()
}
