//! The Redis request parser: RESP multi-bulk and inline commands, resumable and zero-copy.
//!
//! ```text
//!            '*'                 count>0              '$'                 len
//!   Start ───────► Line(Count) ─────────► ArgHdr ───────► Line(Bulk) ─────────► ArgData
//!     │  other        │ count<=0: Done       ▲                                   │ len bytes,
//!     │               ▼                      │ more args          '\n'   '\r'   │ counted
//!     │             (message)                └──────────────── ArgLf ◄── ArgCr ◄─┘
//!     ▼                                                           │ last arg: Done
//!   Inline(..) ── tokens split like redis-server's sdssplitargs ── '\n': Done
//!
//!   any framing error ──► SkipLine ── '\n' ──► Done (info.error = Protocol(..), Discard::Drop)
//! ```
//!
//! Framing follows redis-server's `processMultibulkBuffer` / `processInlineBuffer` (numbers as
//! `string2ll`, at most `i32::MAX` arguments, bulk lengths up to 512 MiB, 64 KiB lines), so the
//! proxy delimits requests exactly as the datastore does. One deliberate difference: the two
//! bytes after a bulk payload must be `\r\n` (redis-server skips them unchecked), so malformed
//! data is never forwarded to datastores or peers. And a request must end within 4 GiB (its
//! positions are u32 offsets; redis-server closes a client at a 1 GiB query buffer).
//!
//! Payloads are skipped by counting; only the command name, a container's subcommand name and
//! a `numkeys` argument are looked at, and only the first two are copied (into fixed buffers).

mod command;
mod inline;

use command::{is_key, range_key_count};

use super::commands::{CmdSpec, Route};
use super::num::Num;
use crate::proto::{Discard, Parse, ReqInfo, Span, ARGS_MAX, NAME_MAX};

/// redis-server's `PROTO_INLINE_MAX_SIZE`: the longest inline request or header line.
pub const PROTO_INLINE_MAX_SIZE: usize = 64 * 1024;
/// redis-server's default `proto-max-bulk-len`.
pub const PROTO_MAX_BULK_LEN: i64 = 512 * 1024 * 1024;
/// redis-server accepts up to `INT_MAX` multi-bulk elements.
pub const PROTO_MAX_MULTIBULK: i64 = i32::MAX as i64;

pub(crate) const E_MBULK_LEN: &str = "Protocol error: invalid multibulk length";
pub(crate) const E_BULK_LEN: &str = "Protocol error: invalid bulk length";
pub(crate) const E_MBULK_BIG: &str = "Protocol error: too big mbulk count string";
pub(crate) const E_BULK_BIG: &str = "Protocol error: too big bulk count string";
pub(crate) const E_INLINE_BIG: &str = "Protocol error: too big inline request";
pub(crate) const E_QUOTES: &str = "Protocol error: unbalanced quotes in request";
/// Ours (redis-server does not check the bytes after a bulk payload).
pub(crate) const E_BULK_CRLF: &str = "Protocol error: expected CRLF after bulk argument";
/// Ours: positions in a request are u32 offsets (redis-server itself closes a client whose
/// query buffer passes 1 GiB).
pub(crate) const E_REQ_BIG: &str = "Protocol error: request larger than 4 GiB";
/// Ours: an inline request whose key needs unescaping cannot be hashed from its raw bytes.
pub(crate) const E_INLINE_ESC_KEY: &str =
    "Protocol error: quoted or escaped keys (and MSET values) in inline requests are not supported";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LineKind {
    Count,
    Bulk,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum St {
    /// Before the first byte of a message.
    Start,
    /// The text of a `*<count>` or `$<len>` header line.
    Line(LineKind),
    /// The `\r` ending a header line was seen; `\n` must follow.
    LineLf(LineKind),
    /// Expecting the `$` of an argument header.
    ArgHdr,
    /// Inside a bulk payload (`need` bytes left).
    ArgData,
    ArgCr,
    ArgLf,
    Inline(inline::In),
    /// After a framing error: dropping bytes up to and including the next `\n`.
    SkipLine,
}

/// What the argument being read is to the parser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Name,
    Sub,
    Numkeys,
    Other,
}

/// A resumable parser of Redis requests; see the module docs. One per client connection.
#[derive(Clone, Debug)]
pub struct ReqParser {
    st: St,
    /// Bytes of the current message consumed so far.
    off: usize,
    /// Multi-bulk: the announced argument count.
    nargs: u32,
    /// Index of the argument being read (inline: tokens finished so far).
    argi: u32,
    /// Payload bytes left of the current bulk.
    need: usize,
    role: Role,
    /// The number on the current header line.
    num: Num,
    line_len: usize,
    /// A bulk header started with this byte instead of `$`.
    dollar: Option<u8>,
    name: [u8; NAME_MAX],
    /// Length of the command name as sent (may exceed NAME_MAX; only NAME_MAX bytes are kept).
    name_len: usize,
    sub: [u8; NAME_MAX],
    sub_len: usize,
    /// The command, once known (for a container, the container until argument 1 is read).
    spec: Option<&'static CmdSpec>,
    /// `spec` is a container and argument 1 will name the subcommand.
    await_sub: bool,
    /// Where the command's keys are.
    keys: KeyPlan,
    /// The message is known to be bad: its bytes will not be forwarded.
    drop: bool,
    /// The inline token being read.
    tok: Token,
}

/// Multi-bulk: `spec`'s positional keys are the arguments `lo..=hi`, every `step` (as
/// `is_key` with the argument count known); set with `spec` by `found`. The `numkeys`
/// argument being read, and its value once read.
#[derive(Clone, Debug)]
struct KeyPlan {
    lo: u32,
    hi: u32,
    step: u32,
    knum: Num,
    numkeys: u32,
}

impl Default for KeyPlan {
    fn default() -> Self {
        KeyPlan {
            lo: 1,
            hi: 0,
            step: 1,
            knum: Num::default(),
            numkeys: 0,
        }
    }
}

/// An inline request's token being read.
#[derive(Clone, Debug)]
struct Token {
    start: usize,
    quoted: bool,
    esc: bool,
    close_pos: usize,
    /// Index in `ReqInfo::keys` of the first key token that had quotes or escapes.
    esc_key: usize,
}

impl Default for Token {
    fn default() -> Self {
        Token {
            start: 0,
            quoted: false,
            esc: false,
            close_pos: 0,
            esc_key: usize::MAX,
        }
    }
}

impl Default for ReqParser {
    fn default() -> Self {
        ReqParser {
            st: St::Start,
            off: 0,
            nargs: 0,
            argi: 0,
            need: 0,
            role: Role::Other,
            num: Num::default(),
            line_len: 0,
            dollar: None,
            name: [0; NAME_MAX],
            name_len: 0,
            sub: [0; NAME_MAX],
            sub_len: 0,
            spec: None,
            await_sub: false,
            keys: KeyPlan::default(),
            drop: false,
            tok: Token::default(),
        }
    }
}

/// A message offset as a span coordinate (messages beyond 4 GiB saturate).
#[inline]
fn u32_of(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// `Protocol error: expected '$', got 'X'` for every byte X, as redis-server formats it
/// (`\r` and `\n` shown as spaces). Bytes >= 0x80, which a Rust `&str` cannot carry raw, and
/// NUL (which redis-server never answers: it waits for a `\r` its C string search cannot see)
/// are shown as `\xHH`.
fn expected_dollar(b: u8) -> &'static str {
    const PREFIX: &[u8] = b"Protocol error: expected '$', got '";
    const W: usize = PREFIX.len() + 5;
    const fn build() -> [([u8; W], u8); 256] {
        let mut t = [([0u8; W], 0u8); 256];
        let mut b = 0;
        while b < 256 {
            let mut buf = [0u8; W];
            let mut n = 0;
            while n < PREFIX.len() {
                buf[n] = PREFIX[n];
                n += 1;
            }
            if b >= 0x80 || b == 0 {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                buf[n] = b'\\';
                buf[n + 1] = b'x';
                buf[n + 2] = HEX[b >> 4];
                buf[n + 3] = HEX[b & 15];
                n += 4;
            } else if b == b'\r' as usize || b == b'\n' as usize {
                buf[n] = b' ';
                n += 1;
            } else {
                buf[n] = b as u8;
                n += 1;
            }
            buf[n] = b'\'';
            n += 1;
            t[b] = (buf, n as u8);
            b += 1;
        }
        t
    }
    static TABLE: [([u8; W], u8); 256] = build();
    let (buf, n) = &TABLE[usize::from(b)];
    std::str::from_utf8(&buf[..usize::from(*n)]).unwrap_or("Protocol error: expected '$'")
}

impl ReqParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets any partial message; the next byte fed starts a new one.
    ///
    /// Only the fields a message reads before writing are reset (this runs after every
    /// message): the name buffers' bytes past their lengths are never read, and `num`, `knum`,
    /// `need` and the inline token fields are set when the state that reads them is entered.
    pub fn reset(&mut self) {
        self.st = St::Start;
        self.off = 0;
        self.nargs = 0;
        self.argi = 0;
        self.role = Role::Other;
        self.line_len = 0;
        self.dollar = None;
        self.name_len = 0;
        self.sub_len = 0;
        self.spec = None;
        self.await_sub = false;
        self.keys.numkeys = 0;
        self.drop = false;
        self.tok.esc_key = usize::MAX;
    }

    /// Bytes of the current message consumed so far (0 between messages).
    pub fn offset(&self) -> usize {
        self.off
    }

    /// Whether the bytes of the message being parsed are worth keeping.
    pub fn discard(&self) -> Discard {
        if self.drop {
            Discard::Drop
        } else {
            Discard::Keep
        }
    }

    /// Parses `chunk`, the next bytes of the stream. At the first byte of a message `info` is
    /// cleared; it is complete when `Done` is returned.
    pub fn feed(&mut self, chunk: &[u8], info: &mut ReqInfo) -> Parse {
        let mut i = 0;
        while i < chunk.len() {
            let rest = &chunk[i..];
            match self.st {
                St::ArgData => {
                    let k = self.need.min(rest.len());
                    self.take_data(&rest[..k]);
                    i += k;
                    self.off += k;
                    self.need -= k;
                    if self.need == 0 {
                        self.st = St::ArgCr;
                    }
                    continue;
                }
                St::ArgCr if rest.starts_with(b"\r\n") => {
                    i += 2;
                    self.off += 2;
                    if self.arg_end(info) {
                        return self.done(i);
                    }
                    continue;
                }
                St::ArgHdr => {
                    // Whole arguments (`$<len>\r\n<data>\r\n` all in this chunk), one after
                    // the other without going through the states.
                    let mut any = false;
                    while let Some((n, len)) = fast_line(&chunk[i..], b'$', PROTO_MAX_BULK_LEN) {
                        any = true;
                        let rest = &chunk[i..];
                        let start = self.off + n;
                        match rest.get(n..n + len + 2) {
                            Some(arg) if arg[len..] == *b"\r\n" => {
                                // The name: copy a fixed-size window when the chunk has one.
                                let window = match rest.get(n..n + NAME_MAX) {
                                    Some(w) if self.argi == 0 => w.try_into().ok(),
                                    _ => None,
                                };
                                i += n + len + 2;
                                self.off = start + len + 2;
                                if self.whole_arg(start, &arg[..len], window, info) {
                                    return self.done(i);
                                }
                            }
                            _ => {
                                self.arg_begin(start, len, info);
                                i += n;
                                self.off = start;
                                break;
                            }
                        }
                    }
                    if any {
                        continue;
                    }
                }
                St::Start => {
                    if let Some((n, count)) = fast_line(rest, b'*', PROTO_MAX_MULTIBULK) {
                        info.clear();
                        i += n;
                        self.off += n;
                        self.nargs = count as u32;
                        info.nargs = self.nargs;
                        self.argi = 0;
                        self.st = St::ArgHdr;
                        continue;
                    }
                    if let Some(n) = self.inline_word(rest, info) {
                        return self.done(i + n);
                    }
                }
                St::SkipLine => match rest.iter().position(|&b| b == b'\n') {
                    Some(p) => {
                        i += p + 1;
                        self.off += p + 1;
                        return self.done(i);
                    }
                    None => {
                        self.off += rest.len();
                        return Parse::Incomplete;
                    }
                },
                _ => {}
            }
            let b = rest[0];
            let pos = self.off;
            i += 1;
            self.off += 1;
            if self.step(b, pos, info) {
                return self.done(i);
            }
        }
        Parse::Incomplete
    }

    /// A whole inline request of one plain word (`PING\r\n`) at the start of `rest`, handled
    /// as the byte-at-a-time path (`inline_byte`) would: its length. None (nothing done) for
    /// anything else.
    #[inline(never)]
    fn inline_word(&mut self, rest: &[u8], info: &mut ReqInfo) -> Option<usize> {
        if rest.first() == Some(&b'*') {
            // A multi-bulk request.
            return None;
        }
        // Bytes that are a word's content in every inline state: no space, control, quote.
        let p = rest
            .iter()
            .take(NAME_MAX + 1)
            .position(|&b| !b.is_ascii_graphic() || b == b'"' || b == b'\'')?;
        if p == 0 || p > NAME_MAX || rest.get(p..p + 2)? != b"\r\n" {
            return None;
        }
        info.clear();
        info.inline = true;
        // The token (`tok_end`): argument 0, the command name.
        info.args[0] = Span::new(0, p as u32);
        self.copy_whole_name(&rest[..p]);
        self.name_done(true, false, info);
        self.argi = 1;
        // The line end (`inline_end` with one argument).
        info.nargs = 1;
        if self.await_sub {
            self.await_sub = false;
            if let Some(s) = self.spec {
                self.found(s, false, info);
            }
        }
        if let (Some(s), false) = (self.spec, self.drop) {
            self.check_arity(s, 1, info);
            if !self.drop {
                info.cmd = s.id;
            }
        }
        Some(p + 2)
    }

    fn done(&mut self, consumed: usize) -> Parse {
        self.reset();
        Parse::Done { consumed }
    }

    /// Consumes one byte at message offset `pos`; true when it ends the message.
    fn step(&mut self, b: u8, pos: usize, info: &mut ReqInfo) -> bool {
        match self.st {
            St::Start => {
                info.clear();
                if b == b'*' {
                    self.begin_line(LineKind::Count);
                    false
                } else {
                    info.inline = true;
                    self.st = St::Inline(inline::In::Blank);
                    self.inline_byte(b, pos, info)
                }
            }
            St::Line(kind) => self.line_byte(kind, b, info),
            St::LineLf(kind) => {
                if b == b'\n' {
                    self.line_done(kind, pos + 1, info)
                } else {
                    // `\r` not followed by `\n`: the number is malformed; skip to the line end.
                    let e = self.line_error(kind);
                    self.fail_proto(e, info);
                    self.st = St::SkipLine;
                    false
                }
            }
            St::ArgHdr => {
                self.begin_line(LineKind::Bulk);
                if b != b'$' {
                    self.dollar = Some(b);
                    self.drop = true;
                    return self.line_byte(LineKind::Bulk, b, info);
                }
                false
            }
            St::ArgCr => {
                if b == b'\r' {
                    self.st = St::ArgLf;
                    false
                } else {
                    self.fail_proto(E_BULK_CRLF, info);
                    self.st = St::SkipLine;
                    b == b'\n'
                }
            }
            St::ArgLf => {
                if b != b'\n' {
                    self.fail_proto(E_BULK_CRLF, info);
                    self.st = St::SkipLine;
                    return false;
                }
                self.arg_end(info)
            }
            St::Inline(_) => self.inline_byte(b, pos, info),
            // Handled in `feed` (bulk), kept total for safety.
            St::ArgData => {
                self.take_data(&[b]);
                self.need = self.need.saturating_sub(1);
                if self.need == 0 {
                    self.st = St::ArgCr;
                }
                false
            }
            St::SkipLine => b == b'\n',
        }
    }

    /// A whole argument `data` (with its `\r\n`) at message offset `start`, as `arg_begin`,
    /// `take_data` and `arg_end` would handle it; true when it ends the message. `window`:
    /// the chunk's NAME_MAX bytes from `start` (when there are as many), which may be copied
    /// whole as the command name.
    #[inline(always)]
    fn whole_arg(
        &mut self,
        start: usize,
        data: &[u8],
        window: Option<&[u8; NAME_MAX]>,
        info: &mut ReqInfo,
    ) -> bool {
        let i = self.argi;
        self.check_span(start, data.len(), info);
        let span = Span::new(u32_of(start), u32_of(data.len()));
        if (i as usize) < ARGS_MAX {
            info.args[i as usize] = span;
        }
        if i == 0 {
            match window {
                // Bytes past the name's length are never read.
                Some(w) => {
                    self.name = *w;
                    self.name_len = data.len();
                }
                None => self.copy_whole_name(data),
            }
            self.name_done(self.nargs >= 2, true, info);
        } else if self.await_sub && i == 1 {
            self.sub_len = 0;
            copy_name(&mut self.sub, &mut self.sub_len, data);
            self.sub_done(true, info);
        } else if let (Some(s), false) = (self.spec, self.drop) {
            if self.is_key_mb(s, i) {
                info.keys.push(span);
            } else if s.route == Route::SplitKv && i >= 2 {
                info.vals.push(span);
            }
            if i64::from(i) == i64::from(s.keynum_arg) {
                self.keys.knum = Num::default();
                self.keys.knum.push_all(data);
                self.numkeys_done();
            }
        }
        self.arg_count(info)
    }

    /// The command name `data`, copied without a window (near the end of a chunk).
    #[inline(never)]
    fn copy_whole_name(&mut self, data: &[u8]) {
        self.name_len = 0;
        copy_name(&mut self.name, &mut self.name_len, data);
    }

    /// The `\r\n` after a bulk payload was read; true when it ends the message.
    #[inline(always)]
    fn arg_end(&mut self, info: &mut ReqInfo) -> bool {
        self.arg_done(info);
        self.arg_count(info)
    }

    /// An argument is complete; true when it was the last one.
    #[inline(always)]
    fn arg_count(&mut self, info: &mut ReqInfo) -> bool {
        self.argi += 1;
        if self.argi >= self.nargs {
            if !self.drop {
                if let Some(s) = self.spec {
                    info.cmd = s.id;
                }
            }
            return true;
        }
        self.st = St::ArgHdr;
        false
    }

    fn begin_line(&mut self, kind: LineKind) {
        self.st = St::Line(kind);
        self.num = Num::default();
        self.line_len = 1;
        self.dollar = None;
    }

    fn line_error(&self, kind: LineKind) -> &'static str {
        match (kind, self.dollar) {
            (LineKind::Bulk, Some(b)) => expected_dollar(b),
            (LineKind::Bulk, None) => E_BULK_LEN,
            (LineKind::Count, _) => E_MBULK_LEN,
        }
    }

    /// One byte of a header line's text (the type byte already consumed).
    fn line_byte(&mut self, kind: LineKind, b: u8, info: &mut ReqInfo) -> bool {
        match b {
            b'\r' => {
                self.st = St::LineLf(kind);
                false
            }
            b'\n' => {
                // A bare `\n` inside the line: malformed, and the line ends here.
                let e = self.line_error(kind);
                self.fail_proto(e, info);
                true
            }
            _ => {
                self.num.push(b);
                self.line_len += 1;
                if self.num.is_bad() {
                    self.drop = true;
                }
                if self.line_len > PROTO_INLINE_MAX_SIZE {
                    let e = match kind {
                        LineKind::Count => E_MBULK_BIG,
                        LineKind::Bulk => E_BULK_BIG,
                    };
                    self.fail_proto(e, info);
                    self.st = St::SkipLine;
                }
                false
            }
        }
    }

    /// A complete header line; `next` is the message offset after its `\n`.
    fn line_done(&mut self, kind: LineKind, next: usize, info: &mut ReqInfo) -> bool {
        let v = self.num.value();
        match kind {
            LineKind::Count => match v {
                Some(n) if n <= PROTO_MAX_MULTIBULK => {
                    if n <= 0 {
                        // `*0`, `*-1`: redis-server ignores them; an empty message.
                        return true;
                    }
                    self.nargs = n as u32;
                    info.nargs = self.nargs;
                    self.argi = 0;
                    self.st = St::ArgHdr;
                    false
                }
                _ => {
                    self.fail_proto(E_MBULK_LEN, info);
                    true
                }
            },
            LineKind::Bulk => match (self.dollar, v) {
                (None, Some(n)) if (0..=PROTO_MAX_BULK_LEN).contains(&n) => {
                    self.arg_begin(next, n as usize, info);
                    false
                }
                _ => {
                    let e = self.line_error(kind);
                    self.fail_proto(e, info);
                    true
                }
            },
        }
    }

    /// A bulk argument of `len` bytes starts at message offset `start`.
    #[inline(always)]
    fn arg_begin(&mut self, start: usize, len: usize, info: &mut ReqInfo) {
        let i = self.argi;
        self.check_span(start, len, info);
        self.need = len;
        self.st = if len == 0 { St::ArgCr } else { St::ArgData };
        let span = Span::new(u32_of(start), u32_of(len));
        if (i as usize) < ARGS_MAX {
            info.args[i as usize] = span;
        }
        self.role = Role::Other;
        if i == 0 {
            self.role = Role::Name;
            self.name_len = 0;
        } else if self.await_sub && i == 1 {
            self.role = Role::Sub;
            self.sub_len = 0;
        } else if let (Some(s), false) = (self.spec, self.drop) {
            if i64::from(i) == i64::from(s.keynum_arg) {
                self.role = Role::Numkeys;
                self.keys.knum = Num::default();
            }
            if self.is_key_mb(s, i) {
                info.keys.push(span);
            } else if s.route == Route::SplitKv && i >= 2 {
                info.vals.push(span);
            }
        }
    }

    /// An argument at `start` of `len` bytes must end within u32 offsets, where spans can
    /// say where it is; past them the request is refused (its keys would point elsewhere).
    #[inline(always)]
    fn check_span(&mut self, start: usize, len: usize, info: &mut ReqInfo) {
        if start + len > u32::MAX as usize && !self.drop {
            self.fail_proto(E_REQ_BIG, info);
        }
    }

    /// Payload bytes of the current argument (the part of it in this chunk).
    #[inline(always)]
    fn take_data(&mut self, data: &[u8]) {
        match self.role {
            Role::Name => copy_name(&mut self.name, &mut self.name_len, data),
            Role::Sub => copy_name(&mut self.sub, &mut self.sub_len, data),
            Role::Numkeys => self.keys.knum.push_all(data),
            Role::Other => {}
        }
    }

    /// The current (multi-bulk) argument is complete.
    #[inline(always)]
    fn arg_done(&mut self, info: &mut ReqInfo) {
        match self.role {
            Role::Name => self.name_done(self.nargs >= 2, true, info),
            Role::Sub => self.sub_done(true, info),
            Role::Numkeys => self.numkeys_done(),
            Role::Other => {}
        }
    }
}

/// A whole `<lead><n>\r\n` header at the start of `rest` with a plain positive `n <= max`
/// (no sign, no leading zero): its length and `n`. Anything else (a partial line, an error,
/// `*0`, `*-1`) returns None and goes through the byte-at-a-time path, which handles it.
#[inline]
fn fast_line(rest: &[u8], lead: u8, max: i64) -> Option<(usize, usize)> {
    if rest.first() != Some(&lead) || !matches!(rest.get(1), Some(b'1'..=b'9')) {
        return None;
    }
    // One to three digits (every `max` is larger): the common case, without the loop.
    if let Some(&[_, a, b, c, d]) = rest.get(..5) {
        let a = usize::from(a - b'0');
        if [b, c] == *b"\r\n" {
            return Some((4, a));
        }
        if b.is_ascii_digit() {
            let ab = a * 10 + usize::from(b - b'0');
            if [c, d] == *b"\r\n" {
                return Some((5, ab));
            }
            if c.is_ascii_digit() && d == b'\r' && rest.get(5) == Some(&b'\n') {
                return Some((6, ab * 10 + usize::from(c - b'0')));
            }
        }
    }
    let mut v: u64 = 0;
    let mut j = 1;
    while j < rest.len().min(19) && rest[j].is_ascii_digit() {
        v = v * 10 + u64::from(rest[j] - b'0');
        j += 1;
    }
    if rest.get(j) != Some(&b'\r') || rest.get(j + 1) != Some(&b'\n') {
        return None;
    }
    let n = i64::try_from(v).ok().filter(|&n| n <= max)?;
    Some((j + 2, usize::try_from(n).ok()?))
}

/// Appends `data` to a name buffer, keeping at most NAME_MAX bytes but counting them all.
#[inline]
fn copy_name(buf: &mut [u8; NAME_MAX], len: &mut usize, data: &[u8]) {
    if *len < NAME_MAX {
        let k = data.len().min(NAME_MAX - *len);
        buf[*len..*len + k].copy_from_slice(&data[..k]);
    }
    *len = len.saturating_add(data.len());
}

#[cfg(test)]
#[path = "tests/request.rs"]
mod tests;
