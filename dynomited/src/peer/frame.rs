//! The dnode frame header: a resumable, strict parser and a byte-exact writer.
//!
//! ```text
//!   Magic(0..10) ──"   $2014$ "──► Num(Id) ─' '─► Num(Type) ─' '─► Num(Flags) ─' '─► Num(Version)
//!        ─' '─► SameDc ─'0'|'1'─► SameDcEnd ─' '─► DataStar ─['*']─► Num(DataLen) ─' '─► Data
//!        ─data_len bytes─► PayloadSpace ─' '─► PayloadStar ─'*'─► Num(PayloadLen) ─'\r'─► Lf
//!        ─'\n'─► Done
//!   any other byte, an empty or over-long number, a value out of bounds ──► Garbage
//! ```
//!
//! Numbers are 1..=[`MAX_DIGITS`] decimal digits (leading zeros accepted, as Dynomite does) and
//! must fit their field: id ≤ `u64::MAX`, type 0..=13, flags and version ≤ 255,
//! data_len 1..=[`DATA_MAX`], payload_len ≤ [`PAYLOAD_MAX`]. So a header is at most
//! [`MAX_HEADER_LEN`] bytes and the parser holds no buffer: only the numbers read so far.

use super::{Header, MsgType};
use crate::proto::Span;

/// The bytes every frame starts with: three spaces, `$2014$`, one space.
pub const MAGIC: &[u8; 10] = b"   $2014$ ";
/// The `data` Dynomite sends on requests and replies of plaintext links.
pub const DATA_REQ: &[u8] = b"d";
/// The `data` Dynomite sends on gossip frames of plaintext links.
pub const DATA_GOSSIP: &[u8] = b"a";
/// Longest `data` accepted (Dynomite sends 1 byte, or the RSA modulus size: 128 for 1024-bit
/// keys, 512 for 4096-bit ones).
pub const DATA_MAX: u32 = 4096;
/// Largest `payload_len` accepted: Redis's `proto-max-bulk-len`.
pub const PAYLOAD_MAX: u32 = 512 * 1024 * 1024;
/// Most digits in one header number (`u64::MAX` has 20).
pub const MAX_DIGITS: u8 = 20;
/// Longest possible header: magic, four numbers and their spaces, `same_dc` and its space,
/// `*`, data_len and its space, the data, ` *`, payload_len, `\r\n`.
pub const MAX_HEADER_LEN: usize = MAGIC.len()
    + 4 * (MAX_DIGITS as usize + 1)
    + 2
    + 1
    + (MAX_DIGITS as usize + 1)
    + DATA_MAX as usize
    + 2
    + MAX_DIGITS as usize
    + 2;

/// The outcome of feeding one chunk to a [`HeaderParser`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderParse {
    /// The header ends `consumed` bytes into this chunk (`consumed >= 1`); the payload starts
    /// right after. The parser is reset for the next header.
    Done { consumed: usize, header: Header },
    /// Every byte of the chunk belongs to the header; feed the next chunk.
    Incomplete,
    /// Byte `consumed - 1` of this chunk cannot continue a valid header (`consumed >= 1`). The
    /// stream is not a dnode stream (or is corrupt): count it and close the connection. The
    /// parser is reset.
    Garbage { consumed: usize },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Id,
    Type,
    Flags,
    Version,
    DataLen,
    PayloadLen,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum St {
    /// This many bytes of [`MAGIC`] matched.
    Magic(u8),
    Num(Field),
    SameDc,
    SameDcEnd,
    /// Expecting the optional `*` before data_len, or its first digit.
    DataStar,
    /// Skipping `need` bytes of data.
    Data,
    PayloadSpace,
    PayloadStar,
    Lf,
}

/// What one byte did to the header.
enum Step {
    More,
    Done,
    Bad,
}

/// A resumable parser of frame headers; one per peer connection (both directions). See the
/// module docs for the grammar.
#[derive(Clone, Debug)]
pub struct HeaderParser {
    st: St,
    /// Bytes of the current header consumed so far.
    off: usize,
    /// The number being read and its digit count.
    num: u64,
    digits: u8,
    /// Data bytes still to skip.
    need: u32,
    h: Header,
}

impl Default for HeaderParser {
    fn default() -> Self {
        HeaderParser {
            st: St::Magic(0),
            off: 0,
            num: 0,
            digits: 0,
            need: 0,
            h: Header::default(),
        }
    }
}

/// Parses one header from the start of `buf` (a convenience for tests and tools; the runtime
/// keeps a [`HeaderParser`] per connection).
pub fn parse_header(buf: &[u8]) -> HeaderParse {
    HeaderParser::new().feed(buf)
}

impl HeaderParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets any partial header; the next byte fed must start a new one.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Bytes of the current header consumed so far (0 between headers; never more than
    /// [`MAX_HEADER_LEN`]).
    pub fn offset(&self) -> usize {
        self.off
    }

    /// Parses `chunk`, the next bytes of the stream. An empty chunk is `Incomplete`.
    pub fn feed(&mut self, chunk: &[u8]) -> HeaderParse {
        // The common case, a whole well-formed header at the start of the chunk, in one pass;
        // anything else (a split header, a malformed one) goes byte by byte below, which
        // decides every case the fast path declines.
        if self.st == St::Magic(0) {
            if let Some((consumed, header)) = whole_header(chunk) {
                return HeaderParse::Done { consumed, header };
            }
        }
        let mut i = 0;
        while i < chunk.len() {
            if self.st == St::Data {
                let k = (self.need as usize).min(chunk.len() - i);
                i += k;
                self.off += k;
                // k <= need, a u32.
                self.need -= k as u32;
                if self.need == 0 {
                    self.st = St::PayloadSpace;
                }
                continue;
            }
            let b = chunk[i];
            i += 1;
            self.off += 1;
            match self.step(b) {
                Step::More => {}
                Step::Done => {
                    let header = self.h;
                    self.reset();
                    return HeaderParse::Done {
                        consumed: i,
                        header,
                    };
                }
                Step::Bad => {
                    self.reset();
                    return HeaderParse::Garbage { consumed: i };
                }
            }
        }
        HeaderParse::Incomplete
    }

    /// Takes one byte (never a data byte).
    fn step(&mut self, b: u8) -> Step {
        match self.st {
            St::Magic(n) => {
                if MAGIC.get(usize::from(n)) != Some(&b) {
                    return Step::Bad;
                }
                self.st = if usize::from(n) + 1 == MAGIC.len() {
                    self.start_num(Field::Id)
                } else {
                    St::Magic(n + 1)
                };
            }
            St::Num(field) => return self.num_byte(field, b),
            St::SameDc => {
                self.h.same_dc = match b {
                    b'0' => false,
                    b'1' => true,
                    _ => return Step::Bad,
                };
                self.st = St::SameDcEnd;
            }
            St::SameDcEnd if b == b' ' => self.st = St::DataStar,
            St::DataStar if b == b'*' => self.st = self.start_num(Field::DataLen),
            St::DataStar => {
                self.st = self.start_num(Field::DataLen);
                return self.num_byte(Field::DataLen, b);
            }
            St::PayloadSpace if b == b' ' => self.st = St::PayloadStar,
            St::PayloadStar if b == b'*' => self.st = self.start_num(Field::PayloadLen),
            St::Lf if b == b'\n' => {
                // off <= MAX_HEADER_LEN, far below u32::MAX.
                self.h.len = self.off as u32;
                return Step::Done;
            }
            St::SameDcEnd | St::PayloadSpace | St::PayloadStar | St::Lf | St::Data => {
                return Step::Bad
            }
        }
        Step::More
    }

    fn start_num(&mut self, field: Field) -> St {
        self.num = 0;
        self.digits = 0;
        St::Num(field)
    }

    /// A byte of a number, or its terminator.
    fn num_byte(&mut self, field: Field, b: u8) -> Step {
        if b.is_ascii_digit() {
            if self.digits >= MAX_DIGITS {
                return Step::Bad;
            }
            self.digits += 1;
            return match self
                .num
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(b - b'0')))
            {
                Some(n) => {
                    self.num = n;
                    Step::More
                }
                None => Step::Bad,
            };
        }
        let end = if field == Field::PayloadLen {
            b'\r'
        } else {
            b' '
        };
        if b != end || self.digits == 0 {
            return Step::Bad;
        }
        let n = self.num;
        self.st = match field {
            Field::Id => {
                self.h.id = n;
                self.start_num(Field::Type)
            }
            Field::Type => {
                match u8::try_from(n).ok().and_then(MsgType::from_u8) {
                    Some(t) => self.h.ty = t,
                    None => return Step::Bad,
                }
                self.start_num(Field::Flags)
            }
            Field::Flags => {
                match u8::try_from(n) {
                    Ok(f) => self.h.flags = f,
                    Err(_) => return Step::Bad,
                }
                self.start_num(Field::Version)
            }
            Field::Version => {
                match u8::try_from(n) {
                    Ok(v) => self.h.version = v,
                    Err(_) => return Step::Bad,
                }
                St::SameDc
            }
            Field::DataLen => {
                if n == 0 || n > u64::from(super::DATA_MAX) {
                    return Step::Bad;
                }
                // n <= DATA_MAX.
                self.h.data_len = n as u32;
                self.need = n as u32;
                // off <= MAX_HEADER_LEN.
                self.h.data = Span::new(self.off as u32, n as u32);
                St::Data
            }
            Field::PayloadLen => {
                if n > u64::from(PAYLOAD_MAX) {
                    return Step::Bad;
                }
                // n <= PAYLOAD_MAX.
                self.h.payload_len = n as u32;
                St::Lf
            }
        };
        Step::More
    }
}

/// A complete, valid header at the start of `c`: its length and fields. `None` when the
/// header is split, malformed or out of bounds (the byte-at-a-time parser then decides);
/// whatever this accepts, that parser accepts with the same result.
#[inline]
fn whole_header(c: &[u8]) -> Option<(usize, Header)> {
    if !c.starts_with(MAGIC) {
        return None;
    }
    let (id, i) = decimal(c, MAGIC.len(), b' ')?;
    let (ty, i) = decimal(c, i, b' ')?;
    let (flags, i) = decimal(c, i, b' ')?;
    let (version, i) = decimal(c, i, b' ')?;
    let same_dc = match (c.get(i)?, c.get(i + 1)?) {
        (b'0', b' ') => false,
        (b'1', b' ') => true,
        _ => return None,
    };
    let i = i + 2;
    let i = if c.get(i)? == &b'*' { i + 1 } else { i };
    let (data_len, i) = decimal(c, i, b' ')?;
    if data_len == 0 || data_len > u64::from(DATA_MAX) {
        return None;
    }
    // data_len <= DATA_MAX.
    let data = Span::new(u32::try_from(i).ok()?, data_len as u32);
    let i = i + data_len as usize;
    if c.get(i..i + 2)? != b" *" {
        return None;
    }
    let (payload_len, i) = decimal(c, i + 2, b'\r')?;
    if c.get(i)? != &b'\n' || payload_len > u64::from(PAYLOAD_MAX) {
        return None;
    }
    let len = i + 1;
    let header = Header {
        id,
        ty: MsgType::from_u8(u8::try_from(ty).ok()?)?,
        flags: u8::try_from(flags).ok()?,
        version: u8::try_from(version).ok()?,
        same_dc,
        data_len: data_len as u32,
        // payload_len <= PAYLOAD_MAX.
        payload_len: payload_len as u32,
        data,
        len: u32::try_from(len).ok()?,
    };
    Some((len, header))
}

/// The 1..=MAX_DIGITS decimal digits at `c[i..]` followed by `end`: their value and the index
/// after `end`.
#[inline]
fn decimal(c: &[u8], mut i: usize, end: u8) -> Option<(u64, usize)> {
    let start = i;
    let mut v: u64 = 0;
    while let Some(&b) = c.get(i) {
        if !b.is_ascii_digit() {
            break;
        }
        if i - start == usize::from(MAX_DIGITS) {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        i += 1;
    }
    (i > start && c.get(i) == Some(&end)).then_some((v, i + 1))
}

/// Appends a header byte-identical to Dynomite's `dmsg_write` (requests and replies):
/// `"   $2014$ <id> <type> <flags> 1 <same_dc> *1 d *<payload_len>\r\n"`.
///
/// `payload_len` should be the exact payload length (Dynomite's relayed replies get it wrong;
/// we do not). Grows `out` by one reservation; allocates nothing else.
pub fn write_header(
    out: &mut Vec<u8>,
    id: u64,
    ty: MsgType,
    flags: u8,
    same_dc: bool,
    payload_len: usize,
) {
    write_header_data(out, id, ty, flags, same_dc, DATA_REQ, payload_len);
}

/// Like [`write_header`] with another `data` side channel: [`DATA_GOSSIP`] for gossip frames
/// (Dynomite's `dmsg_write_mbuf`). `data` must be 1..=[`DATA_MAX`] bytes for a receiver to
/// accept the header; it is written as given.
pub fn write_header_data(
    out: &mut Vec<u8>,
    id: u64,
    ty: MsgType,
    flags: u8,
    same_dc: bool,
    data: &[u8],
    payload_len: usize,
) {
    // Magic, 4 numbers of at most 20 digits and their spaces, same_dc, " *", data_len, ' ';
    // then (short data only) the data, " *", payload_len and CRLF.
    let mut head = Stack::<128>::new();
    head.put(MAGIC);
    head.num(id);
    head.put(b" ");
    head.num(u64::from(ty.as_u8()));
    head.put(b" ");
    head.num(u64::from(flags));
    head.put(if same_dc { b" 1 1 *" } else { b" 1 0 *" });
    head.num(data.len() as u64);
    head.put(b" ");
    if data.len() <= 8 {
        head.put(data);
        head.put(b" *");
        head.num(payload_len as u64);
        head.put(b"\r\n");
        out.extend_from_slice(head.bytes());
        return;
    }
    let mut tail = Stack::<24>::new();
    tail.put(b" *");
    tail.num(payload_len as u64);
    tail.put(b"\r\n");
    out.reserve(head.len + data.len() + tail.len);
    out.extend_from_slice(head.bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(tail.bytes());
}

/// A fixed stack buffer for composing header text without allocating.
struct Stack<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Stack<N> {
    fn new() -> Self {
        Stack {
            buf: [0; N],
            len: 0,
        }
    }

    /// Appends `s`. The callers size `N` for their worst case (a longer write would be a bug
    /// in this file and panics).
    #[inline(always)]
    fn put(&mut self, s: &[u8]) {
        self.buf[self.len..self.len + s.len()].copy_from_slice(s);
        self.len += s.len();
    }

    /// Appends `v` in decimal, without padding.
    #[inline(always)]
    fn num(&mut self, mut v: u64) {
        if v < 10 {
            self.buf[self.len] = b'0' + v as u8;
            self.len += 1;
            return;
        }
        let digits = v.ilog10() as usize + 1;
        let end = self.len + digits;
        for b in self.buf[self.len..end].iter_mut().rev() {
            *b = b'0' + (v % 10) as u8;
            v /= 10;
        }
        self.len = end;
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}
