//! The memcached reply parser: finds where each reply ends (a run of `VALUE` blocks up to `END`,
//! or one line) and whether it is an error, without copying anything.
//!
//! ```text
//!   Word ──"VALUE "──► Header ──EOL──► Data ──<bytes>──► Trailer ──"\r\n"──► Word (VALUE|END only)
//!     │──"END" / STORED / NOT_STORED / EXISTS / NOT_FOUND / DELETED / TOUCHED / OK / digits
//!     │        / ERROR ──► ("\r")? '\n' ──► Done
//!     │──"ERROR " / "CLIENT_ERROR " / "SERVER_ERROR " / "VERSION " ──► Text ──'\n'──► Done
//!     └──"STAT " / "ITEM " / "PREFIX " ──► Text ──'\n'──► Word (those or END only)
//! ```
//!
//! Anything else is a broken stream: `Done` with `RspInfo::broken`, after which the runtime
//! closes the datastore connection (nothing after it could be matched to a request).

use super::VALUE_MAX;
use crate::proto::{Parse, RspInfo};

/// Longest reply line we accept (data blocks excluded). memcached's longest lines are `VALUE`
/// headers (under 300 bytes) and short error texts.
pub const RSP_LINE_MAX: usize = 8192;

/// Longest first word we need to tell apart (`CLIENT_ERROR`, `SERVER_ERROR`).
const WORD_MAX: usize = 12;

/// Longest number reply (`incr`/`decr` return a u64: 20 digits).
const NUMBER_MAX: usize = 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Reading the first word of a line.
    Word,
    /// The rest of a `VALUE <key> <flags> <bytes> [<cas>]` line.
    Header,
    /// A `\r` was seen where the line must end: the next byte must be `\n`.
    Lf,
    /// The free text of an error or `VERSION` line, up to its `\n`.
    Text,
    /// Inside a value: `data_left` bytes to go.
    Data,
    /// The `\r\n` after a value.
    Trailer,
}

/// Resumable parser of memcached replies; one per datastore connection.
#[derive(Clone, Debug)]
pub struct RspParser {
    state: State,
    /// Bytes of the current message consumed so far.
    pos: usize,
    /// Bytes of the current line so far.
    line_len: usize,
    word: [u8; WORD_MAX],
    word_len: usize,
    word_digits: bool,
    /// The line being ended (state `Lf`) is a `VALUE` header: data follows.
    header_line: bool,
    /// At least one `VALUE` block of this message is done: only `VALUE` or `END` may follow.
    in_values: bool,
    /// The `Text` line being read is a `STAT`/`ITEM`/`PREFIX` line: more lines follow.
    list_line: bool,
    /// At least one such line is done: only those or `END` may follow.
    in_list: bool,
    // The header's tokens after `VALUE`: key, flags, bytes, [cas].
    htok: u8,
    h_in_tok: bool,
    h_val: u64,
    h_bad: bool,
    vlen: u64,
    data_left: usize,
    trailer_len: u8,
}

impl Default for RspParser {
    fn default() -> Self {
        Self::new()
    }
}

impl RspParser {
    pub fn new() -> Self {
        RspParser {
            state: State::Word,
            pos: 0,
            line_len: 0,
            word: [0; WORD_MAX],
            word_len: 0,
            word_digits: true,
            header_line: false,
            in_values: false,
            list_line: false,
            in_list: false,
            htok: 0,
            h_in_tok: false,
            h_val: 0,
            h_bad: false,
            vlen: 0,
            data_left: 0,
            trailer_len: 0,
        }
    }

    /// Forget any partly parsed reply (after the connection was closed and reopened).
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// Bytes of the current, unfinished reply consumed so far (0 between replies).
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// Parse `chunk` as the continuation of the current reply (see the contract in
    /// [`crate::proto`]). `info` is cleared when a new reply starts.
    pub fn feed(&mut self, chunk: &[u8], info: &mut RspInfo) -> Parse {
        if self.pos == 0 && !chunk.is_empty() {
            *info = RspInfo::default();
        }
        let mut i = 0;
        while i < chunk.len() {
            match self.state {
                State::Data => {
                    let n = self.data_left.min(chunk.len() - i);
                    i += n;
                    self.pos += n;
                    self.data_left -= n;
                    if self.data_left == 0 {
                        self.state = State::Trailer;
                    }
                }
                State::Text => {
                    // At most `room` more bytes may come before the `\n`.
                    let room = RSP_LINE_MAX.saturating_sub(self.line_len);
                    let rest = &chunk[i..];
                    match rest.iter().take(room + 1).position(|&b| b == b'\n') {
                        Some(at) => {
                            i += at + 1;
                            self.pos += at + 1;
                            if !self.list_line {
                                return self.done(i);
                            }
                            self.list_line = false;
                            self.in_list = true;
                            self.new_line();
                        }
                        None if rest.len() > room => return self.broken(i + room + 1, info),
                        None => {
                            self.line_len += rest.len();
                            self.pos += rest.len();
                            i = chunk.len();
                        }
                    }
                }
                _ => {
                    let b = chunk[i];
                    i += 1;
                    self.pos += 1;
                    match self.byte(b, info) {
                        Step::More => {}
                        Step::Done => return self.done(i),
                        Step::Broken => return self.broken(i, info),
                    }
                }
            }
        }
        Parse::Incomplete
    }

    /// One byte in a line-reading state (or the trailer).
    fn byte(&mut self, b: u8, info: &mut RspInfo) -> Step {
        if b != b'\n' {
            self.line_len += 1;
            if self.line_len > RSP_LINE_MAX {
                return Step::Broken;
            }
        }
        match self.state {
            State::Word => match b {
                b' ' | b'\r' | b'\n' => self.end_word(b, info),
                _ => {
                    if let Some(slot) = self.word.get_mut(self.word_len) {
                        *slot = b;
                    }
                    self.word_len += 1;
                    self.word_digits &= b.is_ascii_digit();
                    Step::More
                }
            },
            State::Header => self.header_byte(b),
            State::Lf => match b {
                b'\n' => self.end_line(),
                _ => Step::Broken,
            },
            State::Trailer => {
                let want = if self.trailer_len == 0 { b'\r' } else { b'\n' };
                if b != want {
                    return Step::Broken;
                }
                self.trailer_len += 1;
                if self.trailer_len == 2 {
                    self.in_values = true;
                    self.new_line();
                }
                Step::More
            }
            State::Text | State::Data => Step::Broken,
        }
    }

    /// The first word of a line ended with `sep` (a space, `\r` or `\n`).
    fn end_word(&mut self, sep: u8, info: &mut RspInfo) -> Step {
        if self.word_len == 0 {
            return Step::Broken;
        }
        // Longer words are no keyword (only numbers can be longer).
        let word = self.word.get(..self.word_len).unwrap_or_default();
        if self.in_values && word != b"VALUE" && word != b"END" {
            return Step::Broken;
        }
        let listed = matches!(word, b"STAT" | b"ITEM" | b"PREFIX");
        if self.in_list && !listed && word != b"END" {
            return Step::Broken;
        }
        enum Kind {
            Header,
            Line,
            Text,
        }
        let kind = match word {
            b"VALUE" => Kind::Header,
            b"END" | b"STORED" | b"NOT_STORED" | b"EXISTS" | b"NOT_FOUND" | b"DELETED"
            | b"TOUCHED" | b"OK" | b"RESET" => Kind::Line,
            b"ERROR" | b"CLIENT_ERROR" | b"SERVER_ERROR" => {
                info.is_error = true;
                Kind::Text
            }
            b"VERSION" => Kind::Text,
            _ if listed && sep == b' ' => {
                self.list_line = true;
                Kind::Text
            }
            _ if self.word_digits && self.word_len <= NUMBER_MAX => Kind::Line,
            _ => return Step::Broken,
        };
        match (kind, sep) {
            (Kind::Header, b' ') => {
                self.state = State::Header;
                Step::More
            }
            (Kind::Header, _) => Step::Broken,
            (Kind::Text, b' ') => {
                self.state = State::Text;
                Step::More
            }
            (_, b' ') => Step::Broken,
            (_, b'\r') => {
                self.state = State::Lf;
                Step::More
            }
            _ => self.end_line(),
        }
    }

    /// One byte of a `VALUE` header after `VALUE `.
    fn header_byte(&mut self, b: u8) -> Step {
        match b {
            b' ' => {
                self.h_in_tok = false;
                Step::More
            }
            b'\r' | b'\n' => {
                // Tokens: 1 key, 2 flags, 3 bytes, 4 cas (optional).
                if self.h_bad || !(3..=4).contains(&self.htok) {
                    return Step::Broken;
                }
                self.header_line = true;
                if b == b'\r' {
                    self.state = State::Lf;
                    Step::More
                } else {
                    self.end_line()
                }
            }
            _ => {
                if !self.h_in_tok {
                    self.h_in_tok = true;
                    self.htok = self.htok.saturating_add(1);
                    self.h_val = 0;
                }
                match self.htok {
                    1 => self.h_bad |= b < 0x20 || b == 0x7f,
                    2..=4 => {
                        match self
                            .h_val
                            .checked_mul(10)
                            .and_then(|v| v.checked_add(u64::from(b.wrapping_sub(b'0'))))
                        {
                            Some(v) if b.is_ascii_digit() => self.h_val = v,
                            _ => self.h_bad = true,
                        }
                        match self.htok {
                            2 => self.h_bad |= self.h_val > u64::from(u32::MAX),
                            3 => {
                                self.vlen = self.h_val;
                                self.h_bad |= self.vlen > VALUE_MAX;
                            }
                            _ => {}
                        }
                    }
                    _ => self.h_bad = true,
                }
                Step::More
            }
        }
    }

    /// A line ended (its `\n` consumed).
    fn end_line(&mut self) -> Step {
        if self.header_line {
            self.header_line = false;
            self.data_left = usize::try_from(self.vlen).unwrap_or(usize::MAX);
            self.state = if self.data_left == 0 {
                State::Trailer
            } else {
                State::Data
            };
            self.trailer_len = 0;
            self.line_len = 0;
            return Step::More;
        }
        Step::Done
    }

    /// Ready for the next line of the same message.
    fn new_line(&mut self) {
        self.state = State::Word;
        self.line_len = 0;
        self.word_len = 0;
        self.word_digits = true;
        self.htok = 0;
        self.h_in_tok = false;
        self.h_bad = false;
        self.vlen = 0;
    }

    fn done(&mut self, consumed: usize) -> Parse {
        self.reset();
        Parse::Done { consumed }
    }

    fn broken(&mut self, consumed: usize, info: &mut RspInfo) -> Parse {
        info.broken = true;
        self.reset();
        Parse::Done { consumed }
    }
}

enum Step {
    More,
    Done,
    Broken,
}
