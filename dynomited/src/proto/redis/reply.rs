//! The Redis reply parser: every RESP2 and RESP3 type, any nesting and size, resumable.
//!
//! ```text
//!   Type ──'+' '-' ':' '_' '#' ',' '('──► Line ──'\r'──► LineLf ──'\n'──► value done
//!     │ ──'$' '!' '='──► Len ─► (Data: payload skipped by count) ─► DataCr ─► DataLf ─► value done
//!     │ ──'*' '%' '~' '>' '|'──► Len ─► push a frame of n (maps, attributes: 2n) elements
//!     ▼
//!   value done: decrement the top frame; pop finished frames; stack empty ─► Done
//! ```
//!
//! Nesting uses a stack of remaining-element counts kept in the parser and reused (no
//! recursion, no allocation once warm). An attribute (`|`) frame is popped without counting as
//! an element of its parent: the value it annotates follows and is part of the same message.
//! Anything malformed ends the message with `RspInfo::broken` (the stream cannot be resynced).

use super::num::Num;
use crate::proto::{Parse, RspInfo};

/// Deepest nesting accepted; deeper is treated as a broken stream (protects the stack).
pub const MAX_DEPTH: usize = 8192;
/// Longest `$<len>` / `*<count>` header text.
const MAX_LEN_LINE: usize = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum St {
    /// Expecting a type byte.
    Type,
    /// The text of a one-line value (`+ - : _ # , (`), type in `kind`.
    Line,
    LineLf,
    /// The length/count text after `$ ! = * % ~ > |`.
    Len,
    LenLf,
    /// Skipping `need` payload bytes.
    Data,
    DataCr,
    DataLf,
}

#[derive(Clone, Copy, Debug)]
struct Frame {
    remaining: u64,
    attr: bool,
}

/// A resumable parser of Redis replies; see the module docs. One per datastore connection.
#[derive(Clone, Debug)]
pub struct RspParser {
    st: St,
    kind: u8,
    num: Num,
    line_len: usize,
    /// Line validation: the text is still acceptable for its type.
    line_ok: bool,
    need: u64,
    stack: Vec<Frame>,
    /// Bytes of the current message consumed so far.
    off: usize,
}

impl Default for RspParser {
    fn default() -> Self {
        RspParser {
            st: St::Type,
            kind: 0,
            num: Num::default(),
            line_len: 0,
            line_ok: true,
            need: 0,
            stack: Vec::new(),
            off: 0,
        }
    }
}

impl RspParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets any partial reply (keeps the stack's capacity).
    pub fn reset(&mut self) {
        self.st = St::Type;
        self.kind = 0;
        self.num = Num::default();
        self.line_len = 0;
        self.line_ok = true;
        self.need = 0;
        self.stack.clear();
        if self.stack.capacity() > 1024 {
            self.stack.shrink_to(64);
        }
        self.off = 0;
    }

    /// Bytes of the current reply consumed so far (0 between replies).
    pub fn offset(&self) -> usize {
        self.off
    }

    /// Parses `chunk`, the next bytes of the stream. At the first byte of a reply `info` is
    /// cleared; it is complete when `Done` is returned.
    #[inline]
    pub fn feed(&mut self, chunk: &[u8], info: &mut RspInfo) -> Parse {
        if self.off == 0 && self.st == St::Type {
            // Fast path: a whole common reply at the start of the chunk (the parser stays
            // reset; nothing of it is needed after).
            if let Some(n) = whole_simple(chunk) {
                *info = RspInfo {
                    is_error: chunk[0] == b'-',
                    ..RspInfo::default()
                };
                return Parse::Done { consumed: n };
            }
        }
        self.feed_any(chunk, info)
    }

    /// `feed` for everything but a whole common reply at the start of the chunk.
    #[inline(never)]
    fn feed_any(&mut self, chunk: &[u8], info: &mut RspInfo) -> Parse {
        let mut i = 0;
        while i < chunk.len() {
            if self.st == St::Data {
                let avail = (chunk.len() - i) as u64;
                let k = self.need.min(avail);
                // k <= avail, which came from a usize.
                let ku = k as usize;
                i += ku;
                self.off += ku;
                self.need -= k;
                if self.need == 0 {
                    self.st = St::DataCr;
                }
                continue;
            }
            if self.st == St::Type {
                // Fast path: a whole plain `$<n>\r\n` / `*<n>\r\n` header in this chunk.
                if let Some((n, v)) = fast_len(&chunk[i..]) {
                    if self.off == 0 {
                        *info = RspInfo::default();
                    }
                    self.begin_value(chunk[i], info);
                    if let Some(end) = whole_bulk(&chunk[i..], n, v) {
                        // The whole bulk string and its `\r\n` are here.
                        i += end;
                        self.off += end;
                        if let Step::Done = self.value_done() {
                            self.reset();
                            return Parse::Done { consumed: i };
                        }
                        continue;
                    }
                    i += n;
                    self.off += n;
                    let step = self.len_value(v);
                    match step {
                        Step::More => continue,
                        Step::Done => {
                            self.reset();
                            return Parse::Done { consumed: i };
                        }
                        Step::Broken => {
                            info.broken = true;
                            self.reset();
                            return Parse::Done { consumed: i };
                        }
                    }
                }
            }
            if self.st == St::Type && matches!(chunk[i], b'+' | b'-') {
                // Fast path: a whole status or error line in this chunk.
                let rest = &chunk[i + 1..];
                if let Some(p) = rest.iter().position(|&b| b == b'\r' || b == b'\n') {
                    if rest[p] == b'\r' && rest.get(p + 1) == Some(&b'\n') {
                        if self.off == 0 {
                            *info = RspInfo::default();
                        }
                        self.begin_value(chunk[i], info);
                        i += p + 3;
                        self.off += p + 3;
                        if let Step::Done = self.value_done() {
                            self.reset();
                            return Parse::Done { consumed: i };
                        }
                        continue;
                    }
                }
            }
            if self.st == St::Line {
                // Fast path: scan the line text up to `\r` in one go.
                let rest = &chunk[i..];
                let n = rest.iter().position(|&b| b == b'\r' || b == b'\n');
                let text = &rest[..n.unwrap_or(rest.len())];
                self.line_text(text);
                i += text.len();
                self.off += text.len();
                if n.is_none() {
                    break;
                }
            }
            let b = chunk[i];
            if self.off == 0 {
                *info = RspInfo::default();
            }
            i += 1;
            self.off += 1;
            match self.step(b, info) {
                Step::More => {}
                Step::Done => {
                    self.reset();
                    return Parse::Done { consumed: i };
                }
                Step::Broken => {
                    info.broken = true;
                    self.reset();
                    return Parse::Done { consumed: i };
                }
            }
        }
        Parse::Incomplete
    }

    fn step(&mut self, b: u8, info: &mut RspInfo) -> Step {
        match self.st {
            St::Type => {
                match b {
                    b'+' | b'-' | b':' | b'_' | b'#' | b',' | b'(' => {
                        self.begin_value(b, info);
                        self.st = St::Line;
                    }
                    b'$' | b'!' | b'=' | b'*' | b'%' | b'~' | b'>' | b'|' => {
                        self.begin_value(b, info);
                        self.st = St::Len;
                    }
                    _ => return Step::Broken,
                }
                Step::More
            }
            St::Line => match b {
                b'\r' => {
                    self.st = St::LineLf;
                    Step::More
                }
                b'\n' => Step::Broken,
                _ => {
                    self.line_text(&[b]);
                    Step::More
                }
            },
            St::LineLf => {
                if b != b'\n' || !self.line_valid() {
                    return Step::Broken;
                }
                self.value_done()
            }
            St::Len => match b {
                b'\r' => {
                    self.st = St::LenLf;
                    Step::More
                }
                _ => {
                    self.num.push(b);
                    self.line_len += 1;
                    if self.num.is_bad() || self.line_len > MAX_LEN_LINE {
                        Step::Broken
                    } else {
                        Step::More
                    }
                }
            },
            St::LenLf => {
                if b != b'\n' {
                    return Step::Broken;
                }
                self.len_done()
            }
            St::DataCr => {
                if b != b'\r' {
                    return Step::Broken;
                }
                self.st = St::DataLf;
                Step::More
            }
            St::DataLf => {
                if b != b'\n' {
                    return Step::Broken;
                }
                self.value_done()
            }
            // Handled in `feed`; kept total.
            St::Data => {
                self.need = self.need.saturating_sub(1);
                if self.need == 0 {
                    self.st = St::DataCr;
                }
                Step::More
            }
        }
    }

    /// A value of type `kind` starts; errors and pushes count only at the top level.
    fn begin_value(&mut self, kind: u8, info: &mut RspInfo) {
        self.kind = kind;
        self.line_len = 0;
        self.line_ok = true;
        self.num = Num::default();
        if self.stack.is_empty() {
            match kind {
                b'-' | b'!' => info.is_error = true,
                b'>' => info.is_push = true,
                _ => {}
            }
        }
    }

    /// Text bytes of a one-line value (no `\r` or `\n` among them).
    fn line_text(&mut self, text: &[u8]) {
        if text.is_empty() {
            return;
        }
        let first = self.line_len == 0;
        self.line_len = self.line_len.saturating_add(text.len());
        if !self.line_ok {
            return;
        }
        self.line_ok = match self.kind {
            // Status and error text: anything but CR/LF.
            b'+' | b'-' => true,
            b'_' => false,
            // A boolean is exactly `t` or `f`.
            b'#' => first && text.len() == 1 && matches!(text[0], b't' | b'f'),
            // Integers and big numbers: an optional sign, then digits.
            b':' | b'(' => text
                .iter()
                .enumerate()
                .all(|(j, &c)| c.is_ascii_digit() || (first && j == 0 && (c == b'-' || c == b'+'))),
            // Doubles: digits, sign, point, exponent, `inf`, `nan`.
            b',' => text
                .iter()
                .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.')),
            _ => false,
        };
    }

    fn line_valid(&self) -> bool {
        if !self.line_ok {
            return false;
        }
        match self.kind {
            b'_' => self.line_len == 0,
            b'#' => self.line_len == 1,
            b':' | b',' => self.line_len > 0 && self.line_len <= 64,
            b'(' => self.line_len > 0,
            _ => true,
        }
    }

    /// A complete `<len>`/`<count>` header.
    fn len_done(&mut self) -> Step {
        match self.num.value() {
            Some(n) => self.len_value(n),
            None => Step::Broken,
        }
    }

    /// The length or count `n` of the current bulk or aggregate value.
    fn len_value(&mut self, n: i64) -> Step {
        match self.kind {
            b'$' | b'!' | b'=' => {
                if n == -1 && self.kind == b'$' {
                    return self.value_done();
                }
                let Ok(len) = u64::try_from(n) else {
                    return Step::Broken;
                };
                self.need = len;
                self.st = if len == 0 { St::DataCr } else { St::Data };
                Step::More
            }
            _ => {
                if n == -1 && self.kind == b'*' {
                    return self.value_done();
                }
                let Ok(count) = u64::try_from(n) else {
                    return Step::Broken;
                };
                let attr = self.kind == b'|';
                let elems = if attr || self.kind == b'%' {
                    count.saturating_mul(2)
                } else {
                    count
                };
                if elems == 0 {
                    if attr {
                        // An empty attribute annotates the value that follows.
                        self.st = St::Type;
                        return Step::More;
                    }
                    return self.value_done();
                }
                if self.stack.len() >= MAX_DEPTH {
                    return Step::Broken;
                }
                self.stack.push(Frame {
                    remaining: elems,
                    attr,
                });
                self.st = St::Type;
                Step::More
            }
        }
    }

    /// A value is complete: count it in its parent frames.
    fn value_done(&mut self) -> Step {
        self.st = St::Type;
        while let Some(top) = self.stack.last_mut() {
            top.remaining -= 1;
            if top.remaining > 0 {
                return Step::More;
            }
            let attr = top.attr;
            self.stack.pop();
            if attr {
                // The attribute is complete; the value it annotates comes next and counts.
                return Step::More;
            }
        }
        Step::Done
    }
}

/// A whole `<type><n>\r\n` header for a bulk or aggregate type with a plain non-negative `n`
/// (no sign, no leading zero) at the start of `rest`: its length and `n`. Anything else goes
/// through the byte-at-a-time path.
#[inline]
fn fast_len(rest: &[u8]) -> Option<(usize, i64)> {
    if !matches!(
        rest.first(),
        Some(b'$' | b'*' | b'%' | b'~' | b'>' | b'|' | b'!' | b'=')
    ) {
        return None;
    }
    if rest.get(1) == Some(&b'0') {
        return (rest.get(2..4) == Some(b"\r\n")).then_some((4, 0));
    }
    // One to three digits: the common case, without the loop.
    if let Some(&[_, a, b, c, d, e]) = rest.get(..6) {
        if a.is_ascii_digit() {
            let a = i64::from(a - b'0');
            if [b, c] == *b"\r\n" {
                return Some((4, a));
            }
            if b.is_ascii_digit() {
                let ab = a * 10 + i64::from(b - b'0');
                if [c, d] == *b"\r\n" {
                    return Some((5, ab));
                }
                if c.is_ascii_digit() && [d, e] == *b"\r\n" {
                    return Some((6, ab * 10 + i64::from(c - b'0')));
                }
            }
        }
    }
    let mut v: i64 = 0;
    let mut j = 1;
    while j < rest.len().min(19) && rest[j].is_ascii_digit() {
        v = v * 10 + i64::from(rest[j] - b'0');
        j += 1;
    }
    if j == 1 || rest.get(j) != Some(&b'\r') || rest.get(j + 1) != Some(&b'\n') {
        return None;
    }
    Some((j + 2, v))
}

/// The length of a bulk string `rest` whose `$<v>\r\n` header is `n` bytes, if its payload
/// and `\r\n` are all in `rest`.
#[inline(always)]
fn whole_bulk(rest: &[u8], n: usize, v: i64) -> Option<usize> {
    if rest[0] != b'$' {
        return None;
    }
    let end = n.checked_add(usize::try_from(v).ok()?)?;
    (rest.get(end..end.checked_add(2)?)? == b"\r\n").then_some(end + 2)
}

/// A whole top-level reply of a common kind at the start of `chunk`: a bulk string (or null
/// bulk), a status or error line, an integer. Its length; None for anything else or anything
/// not all here (the general path then parses it, with the same result).
#[inline(always)]
fn whole_simple(chunk: &[u8]) -> Option<usize> {
    match *chunk.first()? {
        b'$' => {
            if chunk.starts_with(b"$-1\r\n") {
                return Some(5);
            }
            let (n, v) = fast_len(chunk)?;
            whole_bulk(chunk, n, v)
        }
        b'+' | b'-' => {
            // Any text but CR and LF, then CRLF.
            let p = 1 + chunk[1..].iter().position(|&b| b == b'\r' || b == b'\n')?;
            (chunk.get(p..p + 2)? == b"\r\n").then_some(p + 2)
        }
        b':' => {
            // 1 to 64 bytes: an optional sign, then digits (as `line_text` / `line_valid`).
            let lim = chunk.len().min(66);
            let mut j = 1 + usize::from(matches!(chunk.get(1), Some(b'-' | b'+')));
            while j < lim && chunk[j].is_ascii_digit() {
                j += 1;
            }
            if !(2..=65).contains(&j) || chunk.get(j..j + 2)? != b"\r\n" {
                return None;
            }
            Some(j + 2)
        }
        _ => None,
    }
}

enum Step {
    More,
    Done,
    Broken,
}

#[cfg(test)]
#[path = "tests/reply.rs"]
mod tests;
