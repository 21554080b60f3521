//! A walker over RESP2/RESP3 replies held whole in one contiguous buffer: the one reader of
//! element boundaries, types, lengths, counts and nesting for the reply merges
//! ([`crate::proto::merge`]) and the operator tools' client ([`crate::client`]).
//!
//! The datastore connections do not use it: their replies arrive in pieces and go through the
//! resumable [`RspParser`](super::RspParser). Here the bytes are all present, so a value is
//! read in one call, and "the buffer ends inside this value" is one more outcome,
//! [`ErrorKind::Incomplete`], which a caller holding a complete reply treats as malformed and
//! a caller still reading from a socket as "read more".
//!
//! ```text
//!   next_token():  +text  -text  ,text  (digits  #t|#f ──► Line { ty, text }
//!                  :digits ──────────────────────────────► Int(i64)
//!                  $n !n =n, then n bytes and CRLF ───────► Blob { ty, data }
//!                  _   $-1   *-1 ────────────────────────► Null { ty }
//!                  *n %n ~n |n >n ───────────────────────► Open { ty, count },
//!                                                          its values, End { ty }
//!   skip():        the whole value here (attributes before it included) ──► its range
//! ```
//!
//! Rules (strict: what redis-server writes; the resumable parser is laxer, taking `:+1` or a
//! nested push, say). Anything else is an [`Error`] naming the value at fault:
//! - a line ends at its first CR or LF, which must be a CRLF;
//! - integers: an optional `-`, digits, within i64; big numbers: an optional `-`, digits;
//!   booleans `t` or `f`; null `_` has no text; doubles are not checked;
//! - lengths and counts: digits within i64, or `-1` for the null bulk and null array only;
//!   maps and attributes hold two values per count; verbatim data starts `xxx:`;
//! - an attribute annotates the value after it and does not count as an element;
//! - a push (`>`) is a whole reply, never an element;
//! - aggregates nest at most [`MAX_DEPTH`] below the top-level value.
//!
//! [`Limits`] bound what a caller reading from a socket waits for: the length of a line, and
//! the bytes and elements of a whole reply.

use std::ops::Range;

/// Aggregates (their values not yet all read) nested below the top-level value at most.
pub const MAX_DEPTH: usize = 64;
/// Open aggregates at most: the top-level value's and [`MAX_DEPTH`] below it.
const FRAMES: usize = MAX_DEPTH + 1;
/// Open aggregates kept in the walker itself; deeper ones (rare) go to a `Vec`. Small, as a
/// walker is made for every reply and most replies are a scalar or one flat array.
const INLINE: usize = 8;

/// Bounds on what one walk reads; [`Limits::NONE`] for a reply already held whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The longest line, type byte included, CRLF excluded; a line without its CRLF within
    /// this many bytes is [`ErrorKind::LongLine`].
    pub max_line: usize,
    /// Blob lengths (bytes) and aggregate counts (as sent), summed over the walk; more is
    /// [`ErrorKind::TooLarge`], found at the header, before its data is looked for.
    pub max_size: usize,
}

impl Limits {
    pub const NONE: Limits = Limits {
        max_line: usize::MAX,
        max_size: usize::MAX,
    };
}

/// One step of a walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Token<'a> {
    /// `+` simple string, `-` error, `,` double, `(` big number, `#` boolean: the text between
    /// the type byte and the CRLF.
    Line { ty: u8, text: &'a [u8] },
    /// `:` integer.
    Int(i64),
    /// `$` bulk string, `!` blob error, `=` verbatim string (its `xxx:` included): the data.
    Blob { ty: u8, data: &'a [u8] },
    /// `_` null, `$-1` null bulk string, `*-1` null array.
    Null { ty: u8 },
    /// An aggregate's header: `*` array, `%` map, `~` set, `|` attribute, `>` push. `count` as
    /// sent; its values (maps and attributes: two per count) follow, then [`Token::End`].
    Open { ty: u8, count: u64 },
    /// The innermost open aggregate, of type `ty`, is complete. After an attribute's `End`
    /// the value it annotates follows.
    End { ty: u8 },
}

/// What is wrong with the value at [`Error::at`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The buffer ends inside the value (more bytes may complete it).
    Incomplete,
    /// Not a RESP type byte, or a push where a value is nested.
    BadType,
    /// No line end within [`Limits::max_line`].
    LongLine,
    /// A CR or LF in a line that is not its CRLF end.
    BadLine,
    /// `:` and not an integer.
    BadInteger,
    /// A length or count that is not one (or `-1` where the type has no null).
    BadLength,
    /// A big number, boolean, null or verbatim string of the wrong shape.
    BadValue,
    /// A length or count (this one) over what [`Limits::max_size`] has left.
    TooLarge(usize),
    /// Blob data not followed by CRLF.
    NoCrlf,
    /// Aggregates nested deeper than [`MAX_DEPTH`].
    TooDeep,
}

/// Why a walk stopped: the kind, and the offset of the value at fault (its type byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub at: usize,
}

/// A walk over the replies in a buffer, value by value; see the module docs.
///
/// After an error the walker's state is unspecified: a walk does not resume past bad input.
#[derive(Clone, Debug)]
pub struct Walker<'a> {
    buf: &'a [u8],
    pos: usize,
    max_line: usize,
    /// What [`Limits::max_size`] has left.
    budget: usize,
    /// Open aggregates, innermost last.
    frames: Frames,
}

impl<'a> Walker<'a> {
    /// A walk from the start of `buf`, without limits.
    pub fn new(buf: &'a [u8]) -> Walker<'a> {
        Walker::with_limits(buf, Limits::NONE)
    }

    /// A walk from the start of `buf` within `limits`.
    pub fn with_limits(buf: &'a [u8], limits: Limits) -> Walker<'a> {
        Walker {
            buf,
            pos: 0,
            max_line: limits.max_line,
            budget: limits.max_size,
            frames: Frames::default(),
        }
    }

    /// The offset of the next token: everything before it has been walked.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Open aggregates around the next token.
    pub fn depth(&self) -> usize {
        self.frames.len
    }

    /// The next token is an [`Token::End`] (no value starts at [`Walker::pos`]).
    pub fn end_next(&self) -> bool {
        self.frames.len > 0 && self.frames.top == 0
    }

    /// The next token.
    #[inline(always)]
    pub fn next_token(&mut self) -> Result<Token<'a>, Error> {
        if self.end_next() {
            let ty = self.frames.pop();
            self.completed(ty);
            return Ok(Token::End { ty });
        }
        let at = self.pos;
        self.value(at).map_err(|kind| Error { kind, at })
    }

    /// Walks the whole value starting at [`Walker::pos`], with the attributes before it, and
    /// returns its byte range. Where no value starts ([`Walker::end_next`]) the range is empty
    /// and nothing is walked.
    #[inline]
    pub fn skip(&mut self) -> Result<Range<usize>, Error> {
        let start = self.pos;
        if self.end_next() {
            return Ok(start..start);
        }
        Ok(start..self.skip_value()?)
    }

    /// Walks the values still to read in the innermost open aggregate, pushing the byte range
    /// of each (its attributes included) to `out`; its [`Token::End`] is then next. Outside any
    /// aggregate, nothing is walked.
    #[inline]
    pub fn items(&mut self, out: &mut Vec<Range<usize>>) -> Result<(), Error> {
        let base = self.frames.len;
        if base == 0 {
            return Ok(());
        }
        // The walk's state in locals while the values are scalars (most are); an aggregate
        // goes through the frames.
        let (buf, max_line) = (self.buf, self.max_line);
        let (mut pos, mut budget) = (self.pos, self.budget);
        while self.frames.top > 0 {
            let start = pos;
            match read(buf, start, max_line, &mut budget, false) {
                Ok((token @ Token::Open { .. }, next)) => {
                    (self.pos, self.budget) = (next, budget);
                    self.opened(token)
                        .map_err(|kind| Error { kind, at: start })?;
                    pos = self.close_to(base)?;
                    budget = self.budget;
                }
                Ok((_, end)) => {
                    self.frames.count_one();
                    pos = end;
                }
                Err(kind) => {
                    (self.pos, self.budget) = (start, budget);
                    return Err(Error { kind, at: start });
                }
            }
            out.push(start..pos);
        }
        (self.pos, self.budget) = (pos, budget);
        Ok(())
    }

    /// Walks the value (and the attributes before it) that starts at [`Walker::pos`]; where
    /// it ends.
    #[inline(always)]
    fn skip_value(&mut self) -> Result<usize, Error> {
        let base = self.frames.len;
        let at = self.pos;
        match self.value(at).map_err(|kind| Error { kind, at })? {
            Token::Open { .. } => self.close_to(base),
            // Most values are scalars: done in one read.
            _ => Ok(self.pos),
        }
    }

    /// Walks on until a value completes with `base` aggregates open (an attribute's end is
    /// not one: the value it annotates follows); where it ends.
    fn close_to(&mut self, base: usize) -> Result<usize, Error> {
        loop {
            match self.next_token()? {
                Token::Open { .. } => {}
                Token::End { ty: b'|' } if self.frames.len == base => {}
                _ if self.frames.len == base => return Ok(self.pos),
                _ => {}
            }
        }
    }

    /// A value of type `ty` is complete at the current depth: it counts in its aggregate
    /// (an attribute does not; the value it annotates will).
    #[inline(always)]
    fn completed(&mut self, ty: u8) {
        if ty != b'|' {
            self.frames.count_one();
        }
    }

    /// Reads the value starting at `at`: a whole scalar, or an aggregate's header.
    #[inline(always)]
    fn value(&mut self, at: usize) -> Result<Token<'a>, ErrorKind> {
        let top = self.frames.len == 0;
        let (token, next) = read(self.buf, at, self.max_line, &mut self.budget, top)?;
        self.opened(token)?;
        self.pos = next;
        Ok(token)
    }

    /// `token` was read: an aggregate's header opens its frame, a scalar counts as one value
    /// of the aggregate around it.
    #[inline(always)]
    fn opened(&mut self, token: Token<'a>) -> Result<(), ErrorKind> {
        match token {
            Token::Open { ty, count } => {
                // count <= i64::MAX: twice it fits.
                let values = if ty == b'%' || ty == b'|' {
                    count * 2
                } else {
                    count
                };
                // An empty aggregate is closed by the next token: it may sit deeper.
                if values > 0 && self.frames.len >= FRAMES {
                    return Err(ErrorKind::TooDeep);
                }
                self.frames.push(values, ty);
            }
            _ => self.frames.count_one(),
        }
        Ok(())
    }
}

/// Reads the value at `at`: the token and the offset after what was read. `budget` is what
/// [`Limits::max_size`] has left; `top`: the value is not nested (so it may be a push).
#[inline(always)]
fn read<'a>(
    buf: &'a [u8],
    at: usize,
    max_line: usize,
    budget: &mut usize,
    top: bool,
) -> Result<(Token<'a>, usize), ErrorKind> {
    let ty = *buf.get(at).ok_or(ErrorKind::Incomplete)?;
    let line = || line(buf, at, max_line);
    // Bulk strings first: most elements of the replies merged are.
    if ty == b'$' {
        let (text, next) = line()?;
        return match parse_len(text) {
            Some(Some(len)) => blob(buf, ty, take(budget, len)?, next),
            Some(None) => Ok((Token::Null { ty }, next)),
            None => Err(ErrorKind::BadLength),
        };
    }
    let token = match ty {
        b'!' | b'=' => {
            let (text, next) = line()?;
            let Some(Some(len)) = parse_len(text) else {
                return Err(ErrorKind::BadLength);
            };
            let (token, end) = blob(buf, ty, take(budget, len)?, next)?;
            // Verbatim strings start with a 3-byte format and a colon (`txt:`).
            match token {
                Token::Blob { ty: b'=', data } if data.get(3) != Some(&b':') => {
                    return Err(ErrorKind::BadValue)
                }
                _ => return Ok((token, end)),
            }
        }
        b':' => {
            let (text, next) = line()?;
            let n = parse_i64(text).ok_or(ErrorKind::BadInteger)?;
            return Ok((Token::Int(n), next));
        }
        b'*' | b'%' | b'~' | b'|' => ty,
        b'>' if top => ty,
        b'+' | b'-' | b',' => {
            let (text, next) = line()?;
            return Ok((Token::Line { ty, text }, next));
        }
        b'(' => {
            let (text, next) = line()?;
            let digits = text.strip_prefix(b"-").unwrap_or(text);
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return Err(ErrorKind::BadValue);
            }
            return Ok((Token::Line { ty, text }, next));
        }
        b'#' => {
            let (text, next) = line()?;
            if text != b"t" && text != b"f" {
                return Err(ErrorKind::BadValue);
            }
            return Ok((Token::Line { ty, text }, next));
        }
        b'_' => {
            let (text, next) = line()?;
            if !text.is_empty() {
                return Err(ErrorKind::BadValue);
            }
            return Ok((Token::Null { ty }, next));
        }
        _ => return Err(ErrorKind::BadType),
    };
    // An aggregate's header.
    let (text, next) = line()?;
    match parse_len(text) {
        Some(Some(count)) => {
            take(budget, count)?;
            Ok((Token::Open { ty: token, count }, next))
        }
        Some(None) if ty == b'*' => Ok((Token::Null { ty }, next)),
        _ => Err(ErrorKind::BadLength),
    }
}

/// The text of the line whose type byte is at `at` (`at` is in the buffer), and the offset
/// after its CRLF.
#[inline(always)]
fn line(buf: &[u8], at: usize, max_line: usize) -> Result<(&[u8], usize), ErrorKind> {
    let text = &buf[at + 1..];
    let window = &text[..text.len().min(max_line)];
    match window.iter().position(|&b| b == b'\r' || b == b'\n') {
        Some(i) if text[i] == b'\r' => match text.get(i + 1) {
            Some(b'\n') => Ok((&text[..i], at + i + 3)),
            Some(_) => Err(ErrorKind::BadLine),
            None => Err(ErrorKind::Incomplete),
        },
        Some(_) => Err(ErrorKind::BadLine),
        None if text.len() > max_line => Err(ErrorKind::LongLine),
        None => Err(ErrorKind::Incomplete),
    }
}

/// Takes `n` (a length or count) from the size budget.
#[inline(always)]
fn take(budget: &mut usize, n: u64) -> Result<usize, ErrorKind> {
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    if n > *budget {
        return Err(ErrorKind::TooLarge(n));
    }
    *budget -= n;
    Ok(n)
}

/// A blob of `len` bytes whose data starts at `data`, and the offset after its CRLF.
#[inline(always)]
fn blob(buf: &[u8], ty: u8, len: usize, data: usize) -> Result<(Token<'_>, usize), ErrorKind> {
    let data_end = data.checked_add(len).ok_or(ErrorKind::Incomplete)?;
    let end = data_end.checked_add(2).ok_or(ErrorKind::Incomplete)?;
    match buf.get(data_end..end) {
        None => return Err(ErrorKind::Incomplete),
        Some(crlf) if crlf != b"\r\n" => return Err(ErrorKind::NoCrlf),
        Some(_) => {}
    }
    Ok((
        Token::Blob {
            ty,
            data: &buf[data..data_end],
        },
        end,
    ))
}

/// The open aggregates of a walk: the values still to read in each, and its type byte. The
/// innermost one's count is kept apart, as every value read touches it.
#[derive(Clone, Debug, Default)]
struct Frames {
    len: usize,
    /// Values still to read in the innermost aggregate (meaningless when `len` is 0).
    top: u64,
    /// The type of the innermost aggregate.
    top_ty: u8,
    /// The frames around the innermost: the first `INLINE` here, the rest in `deeper`.
    left: [u64; INLINE],
    kinds: [u8; INLINE],
    deeper: Vec<(u64, u8)>,
}

impl Frames {
    /// A value of the innermost aggregate has been read (none open: nothing to count, and
    /// `top` is not looked at).
    #[inline(always)]
    fn count_one(&mut self) {
        self.top = self.top.wrapping_sub(1);
    }

    #[inline]
    fn push(&mut self, values: u64, ty: u8) {
        if self.len > 0 {
            let outer = self.len - 1;
            if outer < INLINE {
                self.left[outer] = self.top;
                self.kinds[outer] = self.top_ty;
            } else {
                self.deeper.push((self.top, self.top_ty));
            }
        }
        self.top = values;
        self.top_ty = ty;
        self.len += 1;
    }

    /// Closes the innermost aggregate; its type byte.
    #[inline]
    fn pop(&mut self) -> u8 {
        let ty = self.top_ty;
        self.len -= 1;
        if self.len > 0 {
            let outer = self.len - 1;
            (self.top, self.top_ty) = if outer < INLINE {
                (self.left[outer], self.kinds[outer])
            } else {
                self.deeper.pop().unwrap_or_default()
            };
        }
        ty
    }
}

/// A RESP integer: an optional `-`, then at least one digit, within i64.
pub(crate) fn parse_i64(line: &[u8]) -> Option<i64> {
    let (neg, digits) = match line.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, line),
    };
    if digits.is_empty() {
        return None;
    }
    // Accumulate towards the sign so i64::MIN is representable.
    digits.iter().try_fold(0i64, |n, &d| {
        if !d.is_ascii_digit() {
            return None;
        }
        let d = i64::from(d - b'0');
        let n = n.checked_mul(10)?;
        if neg {
            n.checked_sub(d)
        } else {
            n.checked_add(d)
        }
    })
}

/// A length or count: `-1` gives `Some(None)` (null), digits within i64 give `Some(Some(n))`;
/// anything else (other negatives, signs, empty, non-digits) is `None`.
#[inline(always)]
fn parse_len(line: &[u8]) -> Option<Option<u64>> {
    match line {
        [] => None,
        [b'-', ..] => (line == b"-1").then_some(None),
        _ => {
            let mut n: u64 = 0;
            for &d in line {
                if !d.is_ascii_digit() {
                    return None;
                }
                n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
            }
            i64::try_from(n).is_ok().then_some(Some(n))
        }
    }
}

#[cfg(test)]
#[path = "tests/walk.rs"]
mod tests;
