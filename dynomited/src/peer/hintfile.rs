//! The on-disk form of the writes a node keeps for a peer that missed them (`hints_dir`):
//! one append-only file per peer, a header then length-prefixed, checksummed frames.
//!
//! ```text
//!   file  = "DYNHINT1"  frame*
//!   frame = len: u32 LE (of body) | crc32: u32 LE (of body) | body
//!   body  = at: u64 LE (unix ms it was kept) | type: u8 (dnode MsgType) | flags: u8 | payload
//!   flags = bit 0: RESP3 datastore connection, bit 1: memcached noreply
//! ```
//!
//! [`decode`] reads frames up to the first one that is torn (the file ends inside it) or
//! corrupt (bad length, checksum, type): that and everything after it are reported, with the
//! byte offset, and never returned. Pure: no files here.

use super::MsgType;

/// The first bytes of every hints file.
pub const MAGIC: &[u8; 8] = b"DYNHINT1";

/// A frame body larger than this is corrupt (a hint is one datastore request; the proxy's
/// requests are far smaller).
pub const BODY_MAX: usize = 1 << 30;

/// One kept write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub at_ms: u64,
    pub ty: MsgType,
    pub resp3: bool,
    pub noreply: bool,
    pub payload: Vec<u8>,
}

/// Where and why reading stopped before the end of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Damage {
    pub offset: usize,
    pub why: &'static str,
}

/// Append the frame of one write to `out`.
pub fn encode(
    at_ms: u64,
    ty: MsgType,
    resp3: bool,
    noreply: bool,
    payload: &[u8],
    out: &mut Vec<u8>,
) {
    let len = 8 + 2 + payload.len();
    let start = out.len();
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&at_ms.to_le_bytes());
    out.push(ty.as_u8());
    out.push(u8::from(resp3) | u8::from(noreply) << 1);
    out.extend_from_slice(payload);
    let crc = crc32(&out[start + 8..]);
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// Every intact frame of a whole file, in order, and the damage that ended reading early.
pub fn decode(file: &[u8]) -> (Vec<Record>, Option<Damage>) {
    let mut out = Vec::new();
    if file.is_empty() {
        return (out, None);
    }
    if file.len() < MAGIC.len() || &file[..MAGIC.len()] != MAGIC {
        let why = "not a hints file (bad header)";
        return (out, Some(Damage { offset: 0, why }));
    }
    let mut at = MAGIC.len();
    while at < file.len() {
        let damage = |why| Some(Damage { offset: at, why });
        let Some(head) = file.get(at..at + 8) else {
            return (out, damage("torn frame header"));
        };
        let len = u32::from_le_bytes(head[..4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_le_bytes(head[4..].try_into().expect("4 bytes"));
        if !(10..=BODY_MAX).contains(&len) {
            return (out, damage("bad frame length"));
        }
        let Some(body) = file.get(at + 8..at + 8 + len) else {
            return (out, damage("torn frame"));
        };
        if crc32(body) != crc {
            return (out, damage("checksum mismatch"));
        }
        let Some(ty) = MsgType::from_u8(body[8]) else {
            return (out, damage("bad message type"));
        };
        out.push(Record {
            at_ms: u64::from_le_bytes(body[..8].try_into().expect("8 bytes")),
            ty,
            resp3: body[9] & 1 != 0,
            noreply: body[9] & 2 != 0,
            payload: body[10..].to_vec(),
        });
        at += 8 + len;
    }
    (out, None)
}

/// CRC-32 (IEEE 802.3, reflected, as zlib's `crc32`).
pub fn crc32(data: &[u8]) -> u32 {
    crate::ring::hashkit::crc32a(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(recs: &[(u64, &[u8])]) -> Vec<u8> {
        let mut f = MAGIC.to_vec();
        for (i, (at, p)) in recs.iter().enumerate() {
            encode(*at, MsgType::Req, i % 2 == 1, i % 3 == 2, p, &mut f);
        }
        f
    }

    #[test]
    fn crc32_is_zlibs() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn frames_round_trip() {
        let f = file(&[
            (1, b"*1\r\n$4\r\nPING\r\n"),
            (2, b""),
            (3, b"set k 0 0 1\r\nx\r\n"),
        ]);
        let (recs, damage) = decode(&f);
        assert_eq!(damage, None);
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[0].payload, b"*1\r\n$4\r\nPING\r\n");
        assert_eq!(
            (recs[1].at_ms, recs[1].resp3, recs[1].noreply),
            (2, true, false)
        );
        assert_eq!((recs[2].resp3, recs[2].noreply), (false, true));
        assert_eq!(decode(b""), (vec![], None));
        assert_eq!(decode(MAGIC), (vec![], None));
    }

    #[test]
    fn a_torn_or_corrupt_tail_is_reported_and_never_returned() {
        let f = file(&[(1, b"first"), (2, b"second"), (3, b"third")]);
        let second_at = MAGIC.len() + 8 + 10 + 5;
        let third_at = second_at + 8 + 10 + 6;
        // Torn anywhere inside the last frame: the first two come back.
        for cut in third_at + 1..f.len() {
            let (recs, damage) = decode(&f[..cut]);
            assert_eq!(recs.len(), 2, "cut at {cut}");
            assert_eq!(damage.unwrap().offset, third_at);
        }
        // A flipped payload byte in the second: only the first, damage at the second.
        let mut bad = f.clone();
        bad[second_at + 8 + 10 + 2] ^= 0x40;
        let (recs, damage) = decode(&bad);
        assert_eq!(recs.len(), 1);
        assert_eq!(
            damage,
            Some(Damage {
                offset: second_at,
                why: "checksum mismatch"
            })
        );
        // Garbage where a length should be.
        let mut bad = f.clone();
        bad[second_at..second_at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(decode(&bad).1.unwrap().why, "bad frame length");
        assert_eq!(decode(b"nonsense").1.unwrap().offset, 0);
    }
}
