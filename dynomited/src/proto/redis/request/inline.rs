//! Inline requests (`SET k v\r\n`): one line split into arguments like redis-server's
//! `sdssplitargs`, one byte at a time so a line may span chunks.
//!
//! ```text
//!   Blank ─other─► Word ─' ' \t \r─► Blank        Word ─'"'/'\''─► Dq / Sq (mid-word quote)
//!     │'"'          │ NUL ► Ignore                 Dq ─'\\'─► DqEsc ─any─► Dq
//!     ▼             ▼ '\n' ► Done                  Dq ─'"'─► Close ─space/end─► Blank
//!     Dq ...      (Sq alike, '\'' closes,                    Close ─other─► error
//!                  only \' is an escape)           '\n' or NUL inside quotes ─► error
//! ```
//!
//! An argument's span covers its raw bytes: for a quoted argument, the bytes between the
//! quotes. Escapes and mid-word quotes are not decoded (that would need a copy); such an
//! argument is marked, and a request whose *key* is marked is refused, because the key could not
//! be hashed as the datastore will see it. Redis ends the line's arguments at a NUL byte; so do
//! we. A line longer than 64 KiB is an error, as in redis-server.

use super::super::commands::Route;
use super::{
    copy_name, is_key, range_key_count, u32_of, ReqParser, Role, St, E_INLINE_BIG,
    E_INLINE_ESC_KEY, E_QUOTES, PROTO_INLINE_MAX_SIZE,
};
use crate::proto::{ReqInfo, Span, ARGS_MAX};

/// Where the tokenizer is within an inline line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum In {
    /// Between arguments.
    Blank,
    /// In an unquoted argument.
    Word,
    /// In double quotes.
    Dq,
    /// After a backslash in double quotes.
    DqEsc,
    /// In single quotes.
    Sq,
    /// After a backslash in single quotes.
    SqEsc,
    /// After a closing quote: a space or the line end must follow.
    Close,
    /// After a NUL outside quotes: the rest of the line is ignored (redis-server stops there).
    Ignore,
}

/// C `isspace` in the "C" locale: what `sdssplitargs` skips between arguments.
#[inline]
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

impl ReqParser {
    /// One byte of an inline line at message offset `pos`; true when the message ends.
    pub(super) fn inline_byte(&mut self, b: u8, pos: usize, info: &mut ReqInfo) -> bool {
        let St::Inline(state) = self.st else {
            return false;
        };
        if b != b'\n' {
            self.line_len += 1;
            if self.line_len > PROTO_INLINE_MAX_SIZE {
                self.fail_proto(E_INLINE_BIG, info);
                self.st = St::SkipLine;
                return false;
            }
        }
        let next = match state {
            In::Blank => match b {
                b'\n' => return self.inline_end(info),
                0 => In::Ignore,
                _ if is_space(b) => In::Blank,
                b'"' | b'\'' => {
                    self.tok_begin(pos + 1, true);
                    if b == b'"' {
                        In::Dq
                    } else {
                        In::Sq
                    }
                }
                _ => {
                    self.tok_begin(pos, false);
                    self.tok_byte(b);
                    In::Word
                }
            },
            In::Word => match b {
                b' ' | b'\t' | b'\r' => {
                    self.tok_end(pos, info);
                    In::Blank
                }
                b'\n' => {
                    self.tok_end(pos, info);
                    return self.inline_end(info);
                }
                0 => {
                    self.tok_end(pos, info);
                    In::Ignore
                }
                b'"' => {
                    self.tok.esc = true;
                    In::Dq
                }
                b'\'' => {
                    self.tok.esc = true;
                    In::Sq
                }
                _ => {
                    self.tok_byte(b);
                    In::Word
                }
            },
            In::Dq | In::Sq if b == b'\n' || b == 0 => return self.unbalanced(b, info),
            In::Dq => match b {
                b'\\' => {
                    self.tok.esc = true;
                    self.tok_byte(b);
                    In::DqEsc
                }
                b'"' => {
                    self.tok.close_pos = pos;
                    In::Close
                }
                _ => {
                    self.tok_byte(b);
                    In::Dq
                }
            },
            In::DqEsc => {
                if b == b'\n' || b == 0 {
                    return self.unbalanced(b, info);
                }
                self.tok_byte(b);
                In::Dq
            }
            In::Sq => match b {
                b'\\' => In::SqEsc,
                b'\'' => {
                    self.tok.close_pos = pos;
                    In::Close
                }
                _ => {
                    self.tok_byte(b);
                    In::Sq
                }
            },
            In::SqEsc => {
                if b == b'\'' {
                    // `\'` is the only escape in single quotes.
                    self.tok.esc = true;
                    self.tok_byte(b);
                    In::Sq
                } else {
                    // The backslash was a plain byte; `b` is read as in `Sq`.
                    self.tok_byte(b'\\');
                    match b {
                        b'\n' | 0 => return self.unbalanced(b, info),
                        b'\\' => In::SqEsc,
                        _ => {
                            self.tok_byte(b);
                            In::Sq
                        }
                    }
                }
            }
            In::Close => {
                // A quoted argument ends before its closing quote; a word with a quote inside
                // (`ab"c d"`, marked) keeps its raw bytes, closing quote included.
                let end = self.tok.close_pos + usize::from(!self.tok.quoted);
                if b == b'\n' {
                    self.tok_end(end, info);
                    return self.inline_end(info);
                } else if b == 0 {
                    self.tok_end(end, info);
                    In::Ignore
                } else if is_space(b) {
                    self.tok_end(end, info);
                    In::Blank
                } else {
                    // A closing quote must be followed by a space or the end.
                    self.fail_proto(E_QUOTES, info);
                    self.st = St::SkipLine;
                    return false;
                }
            }
            In::Ignore => {
                if b == b'\n' {
                    return self.inline_end(info);
                }
                In::Ignore
            }
        };
        self.st = St::Inline(next);
        false
    }

    /// Unterminated quotes: at `\n` the message ends now, at NUL skip to the line end.
    fn unbalanced(&mut self, b: u8, info: &mut ReqInfo) -> bool {
        self.fail_proto(E_QUOTES, info);
        self.st = St::SkipLine;
        b == b'\n'
    }

    fn tok_begin(&mut self, start: usize, quoted: bool) {
        self.tok.start = start;
        self.tok.quoted = quoted;
        self.tok.esc = false;
        let i = self.argi;
        self.role = if i == 0 {
            self.name_len = 0;
            Role::Name
        } else if i == 1 && self.await_sub {
            self.sub_len = 0;
            Role::Sub
        } else {
            match self.spec {
                Some(s) if !self.drop && i64::from(i) == i64::from(s.keynum_arg) => {
                    self.keys.knum = Default::default();
                    Role::Numkeys
                }
                _ => Role::Other,
            }
        };
    }

    /// One content byte of the current token.
    #[inline]
    fn tok_byte(&mut self, b: u8) {
        match self.role {
            Role::Name => copy_name(&mut self.name, &mut self.name_len, &[b]),
            Role::Sub => copy_name(&mut self.sub, &mut self.sub_len, &[b]),
            Role::Numkeys => self.keys.knum.push(b),
            Role::Other => {}
        }
    }

    /// The current token ends; its raw bytes end at message offset `end` (exclusive).
    fn tok_end(&mut self, end: usize, info: &mut ReqInfo) {
        let i = self.argi;
        let start = self.tok.start;
        let span = Span::new(u32_of(start), u32_of(end.saturating_sub(start)));
        if (i as usize) < ARGS_MAX {
            info.args[i as usize] = span;
        }
        match self.role {
            Role::Name => self.name_done(true, false, info),
            Role::Sub => self.sub_done(false, info),
            Role::Numkeys => self.numkeys_done(),
            Role::Other => {}
        }
        if i >= 1 && self.role != Role::Sub {
            if let (Some(s), false) = (self.spec, self.drop || self.await_sub) {
                if is_key(s, i, None, self.keys.numkeys) {
                    if self.tok.esc && self.tok.esc_key == usize::MAX {
                        self.tok.esc_key = info.keys.len();
                    }
                    info.keys.push(span);
                } else if s.route == Route::SplitKv && i >= 2 {
                    // A value is re-encoded from its raw bytes when the request is split, so
                    // it must not need unescaping either.
                    if self.tok.esc && self.tok.esc_key == usize::MAX {
                        self.tok.esc_key = info.keys.len().saturating_sub(1);
                    }
                    info.vals.push(span);
                }
            }
        }
        self.argi = self.argi.saturating_add(1);
        self.role = Role::Other;
    }

    /// The line ends: the argument count is known, so finish the command checks.
    fn inline_end(&mut self, info: &mut ReqInfo) -> bool {
        let nargs = self.argi;
        info.nargs = nargs;
        if nargs == 0 {
            // An empty line: redis-server ignores it; an empty message without an error.
            return true;
        }
        if self.await_sub {
            // A container named alone: the container itself (its arity decides).
            self.await_sub = false;
            if let Some(s) = self.spec {
                self.found(s, false, info);
            }
        }
        if self.drop {
            return true;
        }
        let Some(s) = self.spec else {
            return true;
        };
        self.check_arity(s, nargs, info);
        if self.drop {
            return true;
        }
        if s.first_key > 0 && s.last_key < 0 && s.keynum_arg == 0 {
            // Candidates were taken without an upper bound; trim to the real last key.
            info.keys.truncate(range_key_count(s, nargs));
        }
        if self.tok.esc_key < info.keys.len() {
            self.fail_proto(E_INLINE_ESC_KEY, info);
            return true;
        }
        info.cmd = s.id;
        true
    }
}
