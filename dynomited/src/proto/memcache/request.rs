//! The memcached request parser: a resumable, zero-copy state machine over one command line and,
//! for storage commands, the data block after it.
//!
//! ```text
//!            ┌──────── '\n' (bad line, or no data block) ──────────────► Done
//!   Line ────┤
//!     │      └──────── '\n' (valid storage line) ──► Data ──<bytes>──► Trailer ──2 bytes──► Done
//!     │ unknown command / line too long                                (not "\r\n": bad data chunk)
//!     └──► Skip ──'\n'──► Done
//! ```
//!
//! The line is tokenised byte by byte exactly as memcached does it (tokens split at spaces only;
//! a `\r` ends the line only right before the `\n`). What each token must be is known from the
//! command and the token's index, so each is checked as it streams past; whether the line is
//! valid, and which error memcached would report first, is decided at the end of the line.
//! Data blocks are skipped by count, never scanned.

use super::text::{BAD_CHUNK, BAD_DELETE, BAD_DELTA, BAD_EXPTIME, BAD_FORMAT, LINE_TOO_LONG};
use super::{Cmd, KEY_MAX, LINE_MAX, RETRIEVAL_LINE_MAX, VALUE_MAX};
use crate::proto::{Discard, Parse, ReqError, ReqInfo, Span, NAME_MAX};

/// A long `get`/`gets` line is only let through by memcached after at most this many spaces.
const LEAD_SPACES_MAX: usize = 100;

const NOREPLY: &[u8] = b"noreply";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Reading the command line.
    Line,
    /// The line is already known to be rejected: drop bytes up to its `\n`.
    Skip,
    /// Inside a data block: `data_left` bytes to go.
    Data,
    /// The two bytes after a data block, which must be `\r\n`.
    Trailer,
}

/// Why the current request will be rejected (turned into a `ReqError` when it is done).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fail {
    Unknown,
    Arity,
    Client(&'static str),
}

/// What a token is, by command and position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Key,
    Flags,
    /// `<exptime>` of a storage command (a bad one is `bad command line format`).
    StoreExptime,
    /// `<exptime>` of touch/gat (a bad one is `invalid exptime argument`).
    Exptime,
    Bytes,
    CasUnique,
    Delta,
    /// delete's legacy `0` (or `noreply`).
    Hold,
    /// flush_all's `<delay>` (or `noreply`).
    Delay,
    /// verbosity's `<level>`.
    Level,
    /// The optional trailing `[noreply]`; anything else there is ignored, like memcached does.
    Opt,
    /// Beyond the command's arity (the line will be `ERROR`), or a keyless command's argument.
    Extra,
}

fn role(cmd: Cmd, idx: u32) -> Role {
    match (cmd, idx) {
        (Cmd::Get | Cmd::Gets, _) => Role::Key,
        (Cmd::Gat | Cmd::Gats, 1) => Role::Exptime,
        (Cmd::Gat | Cmd::Gats, _) => Role::Key,
        (Cmd::Quit | Cmd::Version | Cmd::Stats, _) => Role::Extra,
        // `flush_all noreply` has no delay: the first token is checked at the end of the line.
        (Cmd::FlushAll, 1) => Role::Delay,
        (Cmd::Verbosity, 1) => Role::Level,
        (Cmd::FlushAll | Cmd::Verbosity, 2) => Role::Opt,
        (Cmd::FlushAll | Cmd::Verbosity, _) => Role::Extra,
        (_, 1) => Role::Key,
        (Cmd::Incr | Cmd::Decr, 2) => Role::Delta,
        (Cmd::Touch, 2) => Role::Exptime,
        (Cmd::Delete, 2) => Role::Hold,
        (Cmd::Incr | Cmd::Decr | Cmd::Touch | Cmd::Delete, 3) => Role::Opt,
        (_, 2) => Role::Flags,
        (_, 3) => Role::StoreExptime,
        (_, 4) => Role::Bytes,
        (Cmd::Cas, 5) => Role::CasUnique,
        (Cmd::Cas, 6) => Role::Opt,
        (Cmd::Cas, _) => Role::Extra,
        (_, 5) => Role::Opt,
        _ => Role::Extra,
    }
}

/// The facts about one token, gathered byte by byte.
#[derive(Clone, Copy, Debug, Default)]
struct Tok {
    start: usize,
    len: usize,
    /// Contains a control character (`< 0x20` or DEL).
    ctrl: bool,
    /// Differs from `noreply` somewhere in its first 7 bytes.
    not_noreply: bool,
    /// The first byte is `+` or `-`.
    sign: Option<u8>,
    has_digit: bool,
    /// A byte other than a digit (or a leading sign).
    not_number: bool,
    overflow: bool,
    val: u64,
}

impl Tok {
    fn push(&mut self, b: u8) {
        let i = self.len;
        self.len += 1;
        if b < 0x20 || b == 0x7f {
            self.ctrl = true;
        }
        if NOREPLY.get(i) != Some(&b) {
            self.not_noreply = true;
        }
        if b.is_ascii_digit() {
            self.has_digit = true;
            match self
                .val
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(b - b'0')))
            {
                Some(v) => self.val = v,
                None => self.overflow = true,
            }
        } else if i == 0 && (b == b'+' || b == b'-') {
            self.sign = Some(b);
        } else {
            self.not_number = true;
        }
    }

    fn is_noreply(&self) -> bool {
        self.len == NOREPLY.len() && !self.not_noreply
    }

    fn is_zero(&self) -> bool {
        self.len == 1 && self.has_digit && self.val == 0
    }

    /// `[+]digits` within `max`.
    fn unsigned(&self, max: u64) -> Option<u64> {
        let ok = self.has_digit && !self.not_number && !self.overflow && self.sign != Some(b'-');
        (ok && self.val <= max).then_some(self.val)
    }

    /// `[+-]digits` within `i32` (memcached's `safe_strtol` into an `int32_t`).
    fn is_i32(&self) -> bool {
        let ok = self.has_digit && !self.not_number && !self.overflow;
        let max = if self.sign == Some(b'-') {
            1u64 << 31
        } else {
            i32::MAX as u64
        };
        ok && self.val <= max
    }

    fn is_key(&self) -> bool {
        self.len <= KEY_MAX && !self.ctrl
    }
}

/// Resumable parser of memcached requests; one per client connection.
#[derive(Clone, Debug)]
pub struct ReqParser {
    state: State,
    /// Bytes of the current message consumed so far (the offset of the next byte).
    pos: usize,
    fail: Option<Fail>,

    // The command line.
    /// Bytes of the line before its `\n` so far.
    line_len: usize,
    /// Spaces before the first token.
    lead: usize,
    /// Tokens completed so far.
    ntok: u32,
    in_tok: bool,
    /// The token in progress is a key: plain bytes need no per-byte bookkeeping.
    in_key: bool,
    tok: Tok,
    /// A `\r` was the last byte; whether it ends the line depends on the next one.
    cr: bool,
    name: [u8; NAME_MAX],
    /// Bytes of `name` in use, once the name token is complete.
    name_len: usize,
    cmd: Option<Cmd>,

    /// What the tokens said.
    said: Said,
    /// The data block of a storage command.
    data: DataBlock,
}

/// What the tokens of a command line said; a set `*_bad` flag means the request will be
/// rejected.
#[derive(Clone, Debug, Default)]
struct Said {
    key_bad: bool,
    num_bad: bool,
    exptime_bad: bool,
    delta_bad: bool,
    opt_bad: bool,
    hold_zero: bool,
    /// flush_all's first token is not a number: bad only if it is the delay (not `noreply`),
    /// known at the end of the line.
    delay_nan: bool,
    last_noreply: bool,
    /// The announced value length of a storage command.
    vlen: u64,
}

/// A storage command's data block: bytes still to come, then its `\r\n` trailer.
#[derive(Clone, Debug)]
struct DataBlock {
    left: usize,
    trailer_len: u8,
    trailer_ok: bool,
}

impl Default for DataBlock {
    fn default() -> Self {
        DataBlock {
            left: 0,
            trailer_len: 0,
            trailer_ok: true,
        }
    }
}

impl Default for ReqParser {
    fn default() -> Self {
        Self::new()
    }
}

impl ReqParser {
    pub fn new() -> Self {
        ReqParser {
            state: State::Line,
            pos: 0,
            fail: None,
            line_len: 0,
            lead: 0,
            ntok: 0,
            in_tok: false,
            in_key: false,
            tok: Tok::default(),
            cr: false,
            name: [0; NAME_MAX],
            name_len: 0,
            cmd: None,
            said: Said::default(),
            data: DataBlock::default(),
        }
    }

    /// Forget any partly parsed message.
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// Bytes of the current, unfinished message consumed so far (0 between messages).
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// `Drop` once the current message is known to be rejected: its bytes are never forwarded.
    pub fn discard(&self) -> Discard {
        let doomed = self.state == State::Skip
            || self.fail.is_some()
            || self.said.key_bad
            || self.said.num_bad
            || self.said.exptime_bad
            || self.said.delta_bad
            || self.said.opt_bad;
        if doomed {
            Discard::Drop
        } else {
            Discard::Keep
        }
    }

    /// Parse `chunk` as the continuation of the current message (see the contract in
    /// [`crate::proto`]). `info` is cleared when a new message starts.
    pub fn feed(&mut self, chunk: &[u8], info: &mut ReqInfo) -> Parse {
        if self.pos == 0 && !chunk.is_empty() {
            info.clear();
        }
        let mut i = 0;
        while i < chunk.len() {
            match self.state {
                State::Line => {
                    while i < chunk.len() {
                        if self.in_key && !self.cr {
                            // Fast path: the plain bytes of a key, up to the line limit.
                            let room = self.line_limit().saturating_sub(self.line_len);
                            let rest = &chunk[i..];
                            let n = rest
                                .iter()
                                .take(room)
                                .position(|&b| b <= b' ' || b == 0x7f)
                                .unwrap_or(rest.len().min(room));
                            self.tok.len += n;
                            self.line_len += n;
                            self.pos += n;
                            i += n;
                            if i == chunk.len() {
                                break;
                            }
                        }
                        let b = chunk[i];
                        i += 1;
                        if b == b'\n' {
                            self.pos += 1;
                            if self.end_line(info) {
                                return self.done(i, info);
                            }
                            break;
                        }
                        self.line_byte(b, info);
                        self.pos += 1;
                        if self.state != State::Line {
                            break;
                        }
                    }
                }
                State::Skip => match chunk[i..].iter().position(|&b| b == b'\n') {
                    Some(at) => {
                        i += at + 1;
                        self.pos += at + 1;
                        info.nargs = self.ntok;
                        return self.done(i, info);
                    }
                    None => {
                        self.pos += chunk.len() - i;
                        i = chunk.len();
                    }
                },
                State::Data => {
                    let n = self.data.left.min(chunk.len() - i);
                    i += n;
                    self.pos += n;
                    self.data.left -= n;
                    if self.data.left == 0 {
                        self.state = State::Trailer;
                    }
                }
                State::Trailer => {
                    let b = chunk[i];
                    i += 1;
                    self.pos += 1;
                    let want = if self.data.trailer_len == 0 {
                        b'\r'
                    } else {
                        b'\n'
                    };
                    self.data.trailer_ok &= b == want;
                    self.data.trailer_len += 1;
                    if self.data.trailer_len == 2 {
                        if !self.data.trailer_ok {
                            self.fail = Some(Fail::Client(BAD_CHUNK));
                        }
                        return self.done(i, info);
                    }
                }
            }
        }
        Parse::Incomplete
    }

    /// One byte of the command line other than `\n`, at offset `self.pos`.
    fn line_byte(&mut self, b: u8, info: &mut ReqInfo) {
        self.line_len += 1;
        if self.line_len > self.line_limit() {
            self.fail = Some(Fail::Client(LINE_TOO_LONG));
            self.state = State::Skip;
            return;
        }
        if self.cr {
            // The previous `\r` did not end the line: it is part of a token.
            self.cr = false;
            self.token_byte(b'\r', self.pos - 1);
        }
        match b {
            b'\r' => self.cr = true,
            b' ' => {
                if self.in_tok {
                    self.end_token(info);
                } else if self.ntok == 0 {
                    self.lead += 1;
                }
            }
            _ => self.token_byte(b, self.pos),
        }
    }

    /// How long the line may get: memcached lets only `get`/`gets` lines past `LINE_MAX`.
    fn line_limit(&self) -> usize {
        if matches!(self.cmd, Some(Cmd::Get | Cmd::Gets)) && self.lead <= LEAD_SPACES_MAX {
            RETRIEVAL_LINE_MAX
        } else {
            LINE_MAX
        }
    }

    fn token_byte(&mut self, b: u8, at: usize) {
        if !self.in_tok {
            self.in_tok = true;
            self.tok = Tok {
                start: at,
                ..Tok::default()
            };
            self.in_key = matches!(self.cmd, Some(c) if role(c, self.ntok) == Role::Key);
        }
        if self.ntok == 0 {
            if let Some(slot) = self.name.get_mut(self.tok.len) {
                *slot = b;
            }
        }
        self.tok.push(b);
    }

    fn end_token(&mut self, info: &mut ReqInfo) {
        self.in_tok = false;
        let t = self.tok;
        let idx = self.ntok;
        self.ntok = self.ntok.saturating_add(1);
        // Messages are bounded (a line by RETRIEVAL_LINE_MAX, a data block by VALUE_MAX), so
        // offsets fit in u32.
        let span = Span::new(t.start as u32, t.len as u32);
        if let Some(slot) = info.args.get_mut(idx as usize) {
            *slot = span;
        }
        // Keys are never the last token where memcached looks for `noreply`, and the fast
        // path in `feed` does not track it for them.
        self.said.last_noreply = !self.in_key && t.is_noreply();
        self.in_key = false;
        if idx == 0 {
            self.name_len = t.len.min(NAME_MAX);
            self.cmd = self.name.get(..t.len).and_then(Cmd::from_name);
            if self.cmd.is_none() {
                self.fail = Some(Fail::Unknown);
                self.state = State::Skip;
            }
            return;
        }
        let Some(cmd) = self.cmd else { return };
        match role(cmd, idx) {
            Role::Key => {
                self.said.key_bad |= !t.is_key();
                info.keys.push(span);
            }
            Role::Flags => self.said.num_bad |= t.unsigned(u64::from(u32::MAX)).is_none(),
            Role::StoreExptime => self.said.num_bad |= !t.is_i32(),
            Role::Exptime => self.said.exptime_bad |= !t.is_i32(),
            Role::Bytes => match t.unsigned(VALUE_MAX) {
                Some(v) => self.said.vlen = v,
                None => self.said.num_bad = true,
            },
            Role::CasUnique => self.said.num_bad |= t.unsigned(u64::MAX).is_none(),
            Role::Delta => self.said.delta_bad |= t.unsigned(u64::MAX).is_none(),
            Role::Hold => self.said.hold_zero = t.is_zero(),
            Role::Delay => self.said.delay_nan = !t.is_i32(),
            Role::Level => self.said.num_bad |= t.unsigned(u64::from(u32::MAX)).is_none(),
            // flush_all and verbosity take any bytes there (their lines are not refused for
            // it), so it must not mark them bad: a `Drop` the line does not end in an error
            // would lose the bytes of a request that is then forwarded.
            Role::Opt => {
                self.said.opt_bad |= t.ctrl && !matches!(cmd, Cmd::FlushAll | Cmd::Verbosity)
            }
            Role::Extra => {}
        }
    }

    /// The `\n` of the command line has been consumed. Decide the request; returns `true` if the
    /// message is complete, `false` if a data block follows.
    fn end_line(&mut self, info: &mut ReqInfo) -> bool {
        // A `\r` right before the `\n` is the line ending, not part of a token.
        self.cr = false;
        if self.in_tok {
            self.end_token(info);
        }
        info.nargs = self.ntok;
        if self.fail.is_some() {
            return true;
        }
        let Some(cmd) = self.cmd else {
            // An empty line (or only spaces).
            self.fail = Some(Fail::Unknown);
            return true;
        };
        let n = self.ntok;
        let arity_ok = match cmd {
            Cmd::Get | Cmd::Gets => n >= 2,
            // memcached takes `gat <exptime>` (and answers END); see below.
            Cmd::Gat | Cmd::Gats => n >= 2,
            Cmd::Set | Cmd::Add | Cmd::Replace | Cmd::Append | Cmd::Prepend => n == 5 || n == 6,
            Cmd::Cas => n == 6 || n == 7,
            Cmd::Incr | Cmd::Decr | Cmd::Touch => n == 3 || n == 4,
            Cmd::Delete => (2..=4).contains(&n),
            Cmd::Quit | Cmd::Version | Cmd::Stats => true,
            Cmd::FlushAll => (1..=3).contains(&n),
            Cmd::Verbosity => n == 2 || n == 3,
        };
        if !arity_ok {
            self.fail = Some(Fail::Arity);
            return true;
        }
        // memcached's set_noreply_maybe(): the last token, for the commands that take it
        // (delete only looks when it has more than a key).
        info.noreply = match cmd {
            Cmd::Delete => n >= 3 && self.said.last_noreply,
            c if c.is_storage() => self.said.last_noreply,
            Cmd::Incr | Cmd::Decr | Cmd::Touch | Cmd::FlushAll | Cmd::Verbosity => {
                self.said.last_noreply
            }
            _ => false,
        };
        // The first error memcached would report, in its order of checks.
        let fail = match cmd {
            Cmd::Get | Cmd::Gets => self.said.key_bad.then_some(BAD_FORMAT),
            Cmd::Gat | Cmd::Gats => {
                if self.said.exptime_bad {
                    Some(BAD_EXPTIME)
                } else if n == 2 {
                    // No key to route by: `ERROR` (memcached answers `END`).
                    self.fail = Some(Fail::Arity);
                    return true;
                } else {
                    self.said.key_bad.then_some(BAD_FORMAT)
                }
            }
            Cmd::Incr | Cmd::Decr => {
                if self.said.key_bad || self.said.opt_bad {
                    Some(BAD_FORMAT)
                } else {
                    self.said.delta_bad.then_some(BAD_DELTA)
                }
            }
            Cmd::Touch => {
                if self.said.key_bad || self.said.opt_bad {
                    Some(BAD_FORMAT)
                } else {
                    self.said.exptime_bad.then_some(BAD_EXPTIME)
                }
            }
            Cmd::Delete => {
                let hold_ok = match n {
                    3 => self.said.hold_zero || self.said.last_noreply,
                    4 => self.said.hold_zero && self.said.last_noreply,
                    _ => true,
                };
                if !hold_ok {
                    Some(BAD_DELETE)
                } else {
                    self.said.key_bad.then_some(BAD_FORMAT)
                }
            }
            Cmd::Quit | Cmd::Version | Cmd::Stats => None,
            Cmd::Verbosity => self.said.num_bad.then_some(BAD_FORMAT),
            // memcached reads a delay unless the line is `flush_all [noreply]`.
            Cmd::FlushAll => {
                let delay = n > 1 + u32::from(info.noreply);
                (delay && self.said.delay_nan).then_some(BAD_EXPTIME)
            }
            _ => {
                (self.said.key_bad || self.said.num_bad || self.said.opt_bad).then_some(BAD_FORMAT)
            }
        };
        if let Some(t) = fail {
            self.fail = Some(Fail::Client(t));
            return true;
        }
        if cmd.is_storage() {
            // VALUE_MAX < usize::MAX on every platform we build for (32 bits included).
            self.data.left = usize::try_from(self.said.vlen).unwrap_or(usize::MAX);
            self.state = if self.data.left == 0 {
                State::Trailer
            } else {
                State::Data
            };
            return false;
        }
        true
    }

    /// The message ends after `consumed` bytes of the chunk: record the outcome, reset.
    fn done(&mut self, consumed: usize, info: &mut ReqInfo) -> Parse {
        info.cmd = self.cmd.map_or(0, |c| c as u16);
        info.error = self.fail.map(|f| match f {
            Fail::Unknown => ReqError::UnknownCommand(self.name_lossy()),
            Fail::Arity => ReqError::WrongArity(self.name_lossy()),
            Fail::Client(t) => ReqError::Client(t),
        });
        self.reset();
        Parse::Done { consumed }
    }

    /// The command name as sent (at most `NAME_MAX` bytes), for error messages.
    fn name_lossy(&self) -> String {
        let name = self.name.get(..self.name_len).unwrap_or_default();
        String::from_utf8_lossy(name).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_table() {
        assert_eq!(role(Cmd::Set, 1), Role::Key);
        assert_eq!(role(Cmd::Set, 4), Role::Bytes);
        assert_eq!(role(Cmd::Set, 5), Role::Opt);
        assert_eq!(role(Cmd::Set, 6), Role::Extra);
        assert_eq!(role(Cmd::Cas, 5), Role::CasUnique);
        assert_eq!(role(Cmd::Cas, 6), Role::Opt);
        assert_eq!(role(Cmd::Gat, 1), Role::Exptime);
        assert_eq!(role(Cmd::Gat, 9), Role::Key);
        assert_eq!(role(Cmd::Get, 9), Role::Key);
        assert_eq!(role(Cmd::Delete, 2), Role::Hold);
        assert_eq!(role(Cmd::Delete, 3), Role::Opt);
        assert_eq!(role(Cmd::Touch, 2), Role::Exptime);
        assert_eq!(role(Cmd::Incr, 2), Role::Delta);
        assert_eq!(role(Cmd::Version, 1), Role::Extra);
    }

    #[test]
    fn numbers() {
        let tok = |s: &[u8]| {
            let mut t = Tok::default();
            s.iter().for_each(|&b| t.push(b));
            t
        };
        assert_eq!(tok(b"0").unsigned(5), Some(0));
        assert_eq!(tok(b"+7").unsigned(9), Some(7));
        assert_eq!(tok(b"-7").unsigned(9), None);
        assert_eq!(tok(b"10").unsigned(9), None);
        assert_eq!(tok(b"+").unsigned(9), None);
        assert_eq!(tok(b"1x").unsigned(9), None);
        assert_eq!(
            tok(b"18446744073709551615").unsigned(u64::MAX),
            Some(u64::MAX)
        );
        assert_eq!(tok(b"18446744073709551616").unsigned(u64::MAX), None);
        assert!(tok(b"-2147483648").is_i32());
        assert!(!tok(b"-2147483649").is_i32());
        assert!(tok(b"2147483647").is_i32());
        assert!(!tok(b"2147483648").is_i32());
        assert!(tok(b"noreply").is_noreply());
        assert!(!tok(b"noreplyx").is_noreply());
        assert!(!tok(b"norepl").is_noreply());
        assert!(tok(b"0").is_zero());
        assert!(!tok(b"00").is_zero());
    }
}
