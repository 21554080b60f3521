//! A small blocking RESP2 client, for the operator tools (`dynoctl`, `dynotop`) and tests.
//!
//! Client-side only: it allocates freely (every reply is an owned [`Reply`] tree, the read
//! buffer grows as a reply needs) and blocks the calling thread, so the daemon's data path
//! (the event loop, [`crate::msg`], [`crate::proto`]) must never use it; the daemon takes
//! only [`encode`], for the few commands it sends a datastore of its own accord (`AUTH`,
//! `HELLO 3`) when it connects.
//!
//! - [`parse_reply`]: the pure, incremental parser: one reply from the start of a buffer, or
//!   "more bytes needed", within a size limit; the bytes are read by the library's one walker
//!   over whole replies ([`crate::proto::redis::walk`], which the reply merges use too);
//! - [`encode`] and [`encode_into`]: a command as a RESP array of bulk strings;
//! - [`Connection`]: one TCP connection to a server: connect with a timeout (each address
//!   `host:port` resolves to in turn), `TCP_NODELAY`, read and write timeouts or one overall
//!   deadline ([`Connection::connect_until`]), [`Connection::call`],
//!   [`Connection::pipeline`] and [`Connection::auth`];
//! - [`parse_info`]: the `field:value` lines of an `INFO` reply.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use crate::proto::redis::walk::{self, Limits, Token, Walker};

/// The longest line (of a simple string, an error, an integer, or the header of a bulk string
/// or an array) the parser waits for.
pub const MAX_LINE: usize = 4096;

/// Arrays nested deeper than this are refused.
pub const MAX_DEPTH: usize = 64;

/// The size limit of a [`Connection`]'s replies unless [`Connection::set_max_reply`] says
/// otherwise.
pub const DEFAULT_MAX_REPLY: usize = 64 << 20;

/// One RESP2 reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// `+OK`: the text after the `+`.
    Simple(String),
    /// `-ERR ...`: the text after the `-`.
    Error(String),
    /// `:12`.
    Int(i64),
    /// `$3\r\nabc`; `None` for the nil bulk string `$-1`.
    Bulk(Option<Vec<u8>>),
    /// `*2\r\n...`; `None` for the nil array `*-1`.
    Array(Option<Vec<Reply>>),
}

/// What is wrong with the bytes [`parse_reply`] was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// They do not start with a RESP type byte (Memcached answers `ERROR`).
    NotResp,
    /// A line longer than [`MAX_LINE`] with no line end.
    LongLine,
    /// A CR or LF inside a line (a simple string, an error, an integer, a header) that is
    /// not its CRLF end.
    BadLine,
    /// `:` and not an integer.
    BadInteger,
    /// `$` or `*` and not an integer.
    BadLength,
    /// A bulk string (its length in bytes) or an array (its length in elements) over what the
    /// size limit leaves.
    TooLarge(usize),
    /// A bulk string not followed by CRLF.
    NoCrlf,
    /// Arrays nested deeper than [`MAX_DEPTH`].
    TooDeep,
}

/// Why [`parse_reply`] refused its input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub kind: ParseErrorKind,
    /// The line at fault, lossily decoded, without its line end (and at most [`MAX_LINE`]
    /// bytes of it): the first line for [`ParseErrorKind::NotResp`] and
    /// [`ParseErrorKind::LongLine`], else the line with the type byte (`$x`, `*99999`).
    pub line: String,
}

impl ParseError {
    fn new(kind: ParseErrorKind, line: &[u8]) -> ParseError {
        let line = line
            .split(|&b| b == b'\r' || b == b'\n')
            .next()
            .unwrap_or(line);
        ParseError {
            kind,
            line: String::from_utf8_lossy(&line[..line.len().min(MAX_LINE)]).into_owned(),
        }
    }

    /// The line after its type byte.
    fn value(&self) -> &str {
        self.line.get(1..).unwrap_or("")
    }

    /// The line's start, quoted and cut short.
    fn quoted_start(&self) -> String {
        let mut end = self.line.len().min(40);
        while !self.line.is_char_boundary(end) {
            end -= 1;
        }
        format!("{:?}", &self.line[..end])
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let array = self.line.starts_with('*');
        match self.kind {
            ParseErrorKind::NotResp => {
                let hint = if self.line.starts_with("ERROR") {
                    " (memcached?)"
                } else {
                    ""
                };
                write!(f, "not a Redis reply: {}{hint}", self.quoted_start())
            }
            ParseErrorKind::LongLine | ParseErrorKind::BadLine => {
                write!(f, "bad RESP line: {}", self.quoted_start())
            }
            ParseErrorKind::BadInteger => write!(f, "bad RESP integer: {:?}", self.value()),
            ParseErrorKind::BadLength if array => {
                write!(f, "bad RESP array length: {:?}", self.value())
            }
            ParseErrorKind::BadLength => write!(f, "bad RESP bulk length: {:?}", self.value()),
            ParseErrorKind::TooLarge(n) if array => {
                write!(f, "RESP array too large: {n} elements")
            }
            ParseErrorKind::TooLarge(n) => write!(f, "RESP reply too large: {n} bytes"),
            ParseErrorKind::NoCrlf => f.write_str("bad RESP bulk: no CRLF after the data"),
            ParseErrorKind::TooDeep => f.write_str("RESP arrays nested too deep"),
        }
    }
}

impl std::error::Error for ParseError {}

/// Parse one reply from the start of `buf`: `Ok(None)` when more bytes are needed, else the
/// reply and how many bytes it took. Anything that is not RESP is an `Err`, and so is a reply
/// whose bulk strings and array lengths add up to more than `max` (bytes and elements).
///
/// The bytes are read by the library's one reply walker ([`walk`]), with its rules, within
/// [`MAX_LINE`] and `max`; this builds the tree and keeps to RESP2.
pub fn parse_reply(buf: &[u8], max: usize) -> Result<Option<(Reply, usize)>, ParseError> {
    let limits = Limits {
        max_line: MAX_LINE,
        max_size: max,
    };
    let mut w = Walker::with_limits(buf, limits);
    // The arrays open around the next value, outermost first.
    let mut open: Vec<Vec<Reply>> = Vec::new();
    loop {
        let at = w.pos();
        if !w.end_next() {
            match buf.get(at) {
                None => return Ok(None),
                Some(b'+' | b'-' | b':' | b'$' | b'*') => {}
                Some(_) => return Err(ParseError::new(ParseErrorKind::NotResp, &buf[at..])),
            }
        }
        let reply = match w.next_token() {
            Ok(Token::Line { ty: b'+', text }) => Reply::Simple(lossy(text)),
            Ok(Token::Line { text, .. }) => Reply::Error(lossy(text)),
            Ok(Token::Int(n)) => Reply::Int(n),
            Ok(Token::Blob { data, .. }) => Reply::Bulk(Some(data.to_vec())),
            Ok(Token::Null { ty: b'$' }) => Reply::Bulk(None),
            Ok(Token::Null { .. }) => Reply::Array(None),
            Ok(Token::Open { count, .. }) => {
                if open.len() >= MAX_DEPTH {
                    return Err(ParseError::new(ParseErrorKind::TooDeep, &buf[at..]));
                }
                open.push(Vec::with_capacity(count.min(1024) as usize));
                continue;
            }
            Ok(Token::End { .. }) => Reply::Array(Some(open.pop().unwrap_or_default())),
            Err(e) if e.kind == walk::ErrorKind::Incomplete => return Ok(None),
            Err(e) => return Err(ParseError::new(kind_of(e.kind), &buf[e.at..])),
        };
        match open.last_mut() {
            Some(items) => items.push(reply),
            None => return Ok(Some((reply, w.pos()))),
        }
    }
}

fn lossy(text: &[u8]) -> String {
    String::from_utf8_lossy(text).into_owned()
}

/// The client's name for what the walker found wrong (only RESP2 types reach the walker).
fn kind_of(kind: walk::ErrorKind) -> ParseErrorKind {
    use walk::ErrorKind as W;
    match kind {
        W::LongLine => ParseErrorKind::LongLine,
        W::BadLine => ParseErrorKind::BadLine,
        W::BadInteger => ParseErrorKind::BadInteger,
        W::BadLength => ParseErrorKind::BadLength,
        W::TooLarge(n) => ParseErrorKind::TooLarge(n),
        W::NoCrlf => ParseErrorKind::NoCrlf,
        W::TooDeep => ParseErrorKind::TooDeep,
        W::Incomplete | W::BadType | W::BadValue => ParseErrorKind::NotResp,
    }
}

/// Append the command `args` to `out` as a RESP array of bulk strings.
pub fn encode_into<A: AsRef<[u8]>>(out: &mut Vec<u8>, args: &[A]) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        let a = a.as_ref();
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// The command `args` as a RESP array of bulk strings.
pub fn encode<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(&mut out, args);
    out
}

/// The `field:value` lines of an `INFO` reply (`\r\n` or `\n` lines; section headers, blank
/// lines and lines without `:` skipped; a field given twice keeps its last value).
pub fn parse_info(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Why an exchange with a server failed.
#[derive(Debug)]
pub enum Error {
    /// `addr` did not resolve (`error`), or resolved to no address (`None`).
    Resolve {
        addr: String,
        error: Option<io::Error>,
    },
    /// Connecting failed (to the last address tried); `TimedOut` when the time ran out.
    Connect(io::Error),
    /// Sending failed; `TimedOut` or `WouldBlock` when the time ran out.
    Write(io::Error),
    /// Receiving failed; `TimedOut` or `WouldBlock` when the time ran out.
    Read(io::Error),
    /// The server closed the connection before a whole reply.
    Closed,
    /// The server's answer is not RESP.
    Protocol(ParseError),
    /// The server refused the command ([`Connection::auth`]): its reply.
    Refused(Reply),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Resolve {
                addr,
                error: Some(e),
            } => write!(f, "cannot resolve {addr}: {e}"),
            Error::Resolve { addr, error: None } => write!(f, "{addr} resolves to no address"),
            Error::Connect(e) | Error::Write(e) | Error::Read(e) => write!(f, "{e}"),
            Error::Closed => f.write_str("connection closed"),
            Error::Protocol(p) => write!(f, "not a Redis answer: {:?}", p.line),
            Error::Refused(Reply::Error(e)) => write!(f, "answered -{e}"),
            Error::Refused(r) => write!(f, "answered {r:?}"),
        }
    }
}

impl std::error::Error for Error {}

fn timed_out() -> io::Error {
    io::ErrorKind::TimedOut.into()
}

/// What is left until `deadline`, `None` once it has passed.
fn left(deadline: Instant) -> Option<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
}

/// One blocking connection to a RESP server (see the [module](self) documentation).
pub struct Connection {
    addr: String,
    stream: TcpStream,
    /// Received and not yet parsed.
    buf: Vec<u8>,
    /// Every exchange ends by then (else each read and write has its own timeout).
    deadline: Option<Instant>,
    max_reply: usize,
}

impl Connection {
    /// Connect to `addr` (`host:port`), trying each address it resolves to with `timeout`;
    /// every later read and write has `timeout` too.
    pub fn connect(addr: &str, timeout: Duration) -> Result<Connection, Error> {
        Connection::open(addr, timeout, None)
    }

    /// Connect to `addr` (`host:port`), trying each address it resolves to, and do this and
    /// every later exchange before `deadline` (then they fail with `TimedOut`).
    pub fn connect_until(addr: &str, deadline: Instant) -> Result<Connection, Error> {
        Connection::open(addr, Duration::ZERO, Some(deadline))
    }

    fn open(addr: &str, timeout: Duration, deadline: Option<Instant>) -> Result<Connection, Error> {
        let addrs: Vec<SocketAddr> = addr
            .to_socket_addrs()
            .map_err(|e| Error::Resolve {
                addr: addr.to_string(),
                error: Some(e),
            })?
            .collect();
        let mut last = Error::Resolve {
            addr: addr.to_string(),
            error: None,
        };
        for a in addrs {
            let t = match deadline {
                Some(d) => left(d).ok_or_else(|| Error::Connect(timed_out()))?,
                None => timeout,
            };
            match TcpStream::connect_timeout(&a, t) {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    if deadline.is_none() {
                        let _ = stream.set_read_timeout(Some(timeout));
                        let _ = stream.set_write_timeout(Some(timeout));
                    }
                    return Ok(Connection {
                        addr: addr.to_string(),
                        stream,
                        buf: Vec::new(),
                        deadline,
                        max_reply: DEFAULT_MAX_REPLY,
                    });
                }
                Err(e) => last = Error::Connect(e),
            }
        }
        Err(last)
    }

    /// The address as given to connect.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Refuse replies larger than `max` (see [`parse_reply`]); [`DEFAULT_MAX_REPLY`] if not set.
    pub fn set_max_reply(&mut self, max: usize) {
        self.max_reply = max;
    }

    /// Send the command `args` and read its reply.
    pub fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<Reply, Error> {
        self.write_all(&encode(args))?;
        self.recv()
    }

    /// Send the commands `cmds` at once and read their replies, in order.
    pub fn pipeline<C, A>(&mut self, cmds: &[C]) -> Result<Vec<Reply>, Error>
    where
        C: AsRef<[A]>,
        A: AsRef<[u8]>,
    {
        let mut out = Vec::new();
        for c in cmds {
            encode_into(&mut out, c.as_ref());
        }
        self.write_all(&out)?;
        cmds.iter().map(|_| self.recv()).collect()
    }

    /// `AUTH password`. A server without a password that says so (`no password is set`,
    /// `without any password configured`) is not an error; any other answer but `+OK` is
    /// [`Error::Refused`].
    pub fn auth(&mut self, password: &str) -> Result<(), Error> {
        match self.call(&["AUTH", password])? {
            Reply::Simple(_) => Ok(()),
            Reply::Error(e)
                if e.contains("without any password configured")
                    || e.contains("no password is set") =>
            {
                Ok(())
            }
            other => Err(Error::Refused(other)),
        }
    }

    /// Send raw bytes (encoded commands).
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<(), Error> {
        if let Some(d) = self.deadline {
            let t = left(d).ok_or_else(|| Error::Write(timed_out()))?;
            self.stream
                .set_write_timeout(Some(t))
                .map_err(Error::Write)?;
        }
        self.stream.write_all(bytes).map_err(Error::Write)
    }

    /// Read the next reply.
    pub fn recv(&mut self) -> Result<Reply, Error> {
        let mut chunk = [0u8; 8192];
        loop {
            // Not RESP: wait for the whole line (for the error to name it), unless it stops.
            let pending = match parse_reply(&self.buf, self.max_reply) {
                Ok(Some((reply, used))) => {
                    self.buf.drain(..used);
                    return Ok(reply);
                }
                Ok(None) => None,
                Err(p)
                    if p.kind == ParseErrorKind::NotResp
                        && self.buf.len() < MAX_LINE
                        && !self.buf.contains(&b'\n') =>
                {
                    Some(p)
                }
                Err(p) => return Err(Error::Protocol(p)),
            };
            match (self.fill(&mut chunk), pending) {
                (Ok(()), _) => {}
                (Err(_), Some(p)) => return Err(Error::Protocol(p)),
                (Err(e), None) => return Err(e),
            }
        }
    }

    /// Read what the server has sent (at least a byte) into the buffer.
    fn fill(&mut self, chunk: &mut [u8]) -> Result<(), Error> {
        loop {
            if let Some(d) = self.deadline {
                let t = left(d).ok_or_else(|| Error::Read(timed_out()))?;
                self.stream.set_read_timeout(Some(t)).map_err(Error::Read)?;
            }
            match self.stream.read(chunk) {
                Ok(0) => return Err(Error::Closed),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::Read(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    const MAX: usize = 1 << 20;

    /// Every reply in `buf`, then the error or `None` (more bytes needed).
    fn all(mut buf: &[u8]) -> (Vec<Reply>, Option<ParseError>) {
        let mut out = Vec::new();
        loop {
            match parse_reply(buf, MAX) {
                Ok(Some((r, used))) => {
                    out.push(r);
                    buf = &buf[used..];
                }
                Ok(None) => return (out, None),
                Err(e) => return (out, Some(e)),
            }
        }
    }

    #[test]
    fn every_kind_of_reply() {
        let (r, e) =
            all(b"+OK\r\n-ERR no\r\n:12\r\n$3\r\nabc\r\n$-1\r\n*2\r\n+a\r\n:1\r\n*-1\r\n*0\r\nERROR\r\n");
        assert_eq!(
            r,
            vec![
                Reply::Simple("OK".into()),
                Reply::Error("ERR no".into()),
                Reply::Int(12),
                Reply::Bulk(Some(b"abc".to_vec())),
                Reply::Bulk(None),
                Reply::Array(Some(vec![Reply::Simple("a".into()), Reply::Int(1)])),
                Reply::Array(None),
                Reply::Array(Some(vec![])),
            ]
        );
        let e = e.unwrap();
        assert_eq!(
            (e.kind, e.line.as_str()),
            (ParseErrorKind::NotResp, "ERROR")
        );
        assert_eq!(
            parse_reply(b"*2\r\n*1\r\n$1\r\nx\r\n:-3\r\n", MAX).unwrap(),
            Some((
                Reply::Array(Some(vec![
                    Reply::Array(Some(vec![Reply::Bulk(Some(b"x".to_vec()))])),
                    Reply::Int(-3)
                ])),
                20
            ))
        );
    }

    #[test]
    fn partial_replies_need_more_bytes() {
        assert_eq!(parse_reply(b"", MAX).unwrap(), None);
        assert_eq!(parse_reply(b"+OK", MAX).unwrap(), None);
        assert_eq!(parse_reply(b"$5\r\nab", MAX).unwrap(), None);
        assert_eq!(parse_reply(b"$2\r\nab", MAX).unwrap(), None);
        assert_eq!(parse_reply(b"*2\r\n:1\r\n", MAX).unwrap(), None);
        assert_eq!(
            parse_reply(b"$-1\r\n", MAX).unwrap(),
            Some((Reply::Bulk(None), 5))
        );
        assert_eq!(
            parse_reply(b"+OK\r\n:12\r\n", MAX).unwrap(),
            Some((Reply::Simple("OK".into()), 5))
        );
        let whole = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n+v\r\n";
        for cut in 0..whole.len() {
            assert_eq!(
                parse_reply(&whole[..cut], MAX).unwrap(),
                None,
                "cut at {cut}"
            );
        }
        assert_eq!(parse_reply(whole, MAX).unwrap().unwrap().1, whole.len());
    }

    #[test]
    fn non_resp_and_bad_replies_are_errors() {
        let msg = |b: &[u8]| parse_reply(b, MAX).unwrap_err().to_string();
        assert_eq!(
            msg(b"ERROR\r\nERROR\r\n"),
            "not a Redis reply: \"ERROR\" (memcached?)"
        );
        assert_eq!(msg(b"HTTP/1.1 400"), "not a Redis reply: \"HTTP/1.1 400\"");
        assert_eq!(msg(b"$x\r\n"), "bad RESP bulk length: \"x\"");
        assert_eq!(msg(b"*x\r\n"), "bad RESP array length: \"x\"");
        assert_eq!(msg(b":1.5\r\n"), "bad RESP integer: \"1.5\"");
        assert_eq!(
            msg(b"$3\r\nabcd\r\n"),
            "bad RESP bulk: no CRLF after the data"
        );
        assert_eq!(
            msg(b"$99999999999\r\n"),
            "RESP reply too large: 99999999999 bytes"
        );
        assert_eq!(
            msg(b"*2000000\r\n"),
            "RESP array too large: 2000000 elements"
        );
        let e = parse_reply(b"$x\r\n", MAX).unwrap_err();
        assert_eq!((e.kind, e.line.as_str()), (ParseErrorKind::BadLength, "$x"));
        let long = vec![b'+'; MAX_LINE + 2];
        assert_eq!(
            parse_reply(&long, MAX).unwrap_err().kind,
            ParseErrorKind::LongLine
        );
        assert_eq!(parse_reply(&long[..MAX_LINE], MAX).unwrap(), None);
        let deep = "*1\r\n".repeat(MAX_DEPTH + 1);
        assert_eq!(
            parse_reply(deep.as_bytes(), MAX).unwrap_err().kind,
            ParseErrorKind::TooDeep
        );
    }

    /// The walker's rules, stricter than the hand-rolled parser this client had: what
    /// redis-server never writes is an error, not a guess.
    #[test]
    fn replies_are_read_by_the_walkers_rules() {
        use ParseErrorKind::*;
        let table: [(&[u8], ParseErrorKind); 14] = [
            // A CR or LF inside a line: not a line end, and no reason to wait for one.
            (b"+a\nb\r\n", BadLine),
            (b"+a\rb\r\n", BadLine),
            (b"-ERR\n", BadLine),
            (b"*1\r\n:1\n", BadLine),
            // Signs: `-1` is the only negative length, and no number takes a `+`.
            (b"$-2\r\n", BadLength),
            (b"*-5\r\n", BadLength),
            (b"$-0\r\n", BadLength),
            (b"$+1\r\na\r\n", BadLength),
            (b"*+1\r\n:1\r\n", BadLength),
            (b":+5\r\n", BadInteger),
            // RESP3 types are not this client's.
            (b"_\r\n", NotResp),
            (b"%1\r\n+a\r\n:1\r\n", NotResp),
            (b"*1\r\n#t\r\n", NotResp),
            (b">1\r\n:1\r\n", NotResp),
        ];
        for (bytes, kind) in table {
            let got = parse_reply(bytes, MAX).map(|r| r.map(|(_, n)| n));
            assert_eq!(
                got.map_err(|e| e.kind),
                Err(kind),
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
        assert_eq!(
            parse_reply(b"+a\nb\r\n", MAX).unwrap_err().to_string(),
            "bad RESP line: \"+a\""
        );
        // An empty array nested at the limit is still too deep, as any array there.
        let mut deep = "*1\r\n".repeat(MAX_DEPTH);
        deep.push_str("*0\r\n");
        assert_eq!(parse_reply(deep.as_bytes(), MAX).unwrap_err().kind, TooDeep);
        let ok = &deep.as_bytes()[4..];
        assert_eq!(parse_reply(ok, MAX).unwrap().unwrap().1, ok.len());
    }

    #[test]
    fn the_size_limit_covers_the_whole_reply() {
        assert!(parse_reply(b"$4\r\nabcd\r\n", 4).unwrap().is_some());
        let e = parse_reply(b"$5\r\nabcde\r\n", 4).unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::TooLarge(5));
        // Two elements and 3 + 3 bytes.
        let arr = b"*2\r\n$3\r\nabc\r\n$3\r\ndef\r\n";
        assert!(parse_reply(arr, 8).unwrap().is_some());
        assert_eq!(
            parse_reply(arr, 7).unwrap_err().kind,
            ParseErrorKind::TooLarge(3)
        );
        assert_eq!(
            parse_reply(arr, 1).unwrap_err().kind,
            ParseErrorKind::TooLarge(2)
        );
    }

    #[test]
    fn commands_are_arrays_of_bulk_strings() {
        assert_eq!(
            encode(&["INFO", "memory"]),
            b"*2\r\n$4\r\nINFO\r\n$6\r\nmemory\r\n"
        );
        let mut out = b"x".to_vec();
        encode_into(&mut out, &[b"SET".as_slice(), b"k\r\n", b""]);
        assert_eq!(out, b"x*3\r\n$3\r\nSET\r\n$3\r\nk\r\n\r\n$0\r\n\r\n");
        assert_eq!(encode::<&str>(&[]), b"*0\r\n");
    }

    #[test]
    fn info_fields() {
        let i = parse_info(
            "# Replication\r\nrole:slave\r\nmaster_link_status:up\r\n\r\n# Keyspace\r\ndb0:keys=2,expires=0,avg_ttl=0\nno colon\n  used_memory_human:1.5K  \n",
        );
        assert_eq!(i["role"], "slave");
        assert_eq!(i["master_link_status"], "up");
        assert_eq!(i["db0"], "keys=2,expires=0,avg_ttl=0");
        assert_eq!(i["used_memory_human"], "1.5K");
        assert_eq!(i.len(), 4);
        assert!(parse_info("# Keyspace\r\n").is_empty());
    }

    /// A server on a loopback port: for each step, reads that many bytes then answers them
    /// (in small pieces); then closes. What it read is the thread's result.
    fn server(steps: Vec<(usize, &'static [u8])>) -> (String, std::thread::JoinHandle<Vec<u8>>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let h = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut got = Vec::new();
            for (expect, answer) in steps {
                let mut b = vec![0u8; expect];
                s.read_exact(&mut b).unwrap();
                got.extend_from_slice(&b);
                for piece in answer.chunks(3) {
                    s.write_all(piece).unwrap();
                    s.flush().unwrap();
                }
            }
            got
        });
        (addr, h)
    }

    #[test]
    fn calls_and_pipelines_over_a_connection() {
        let ping = encode(&["PING"]);
        let info = encode(&["INFO", "memory"]);
        let (addr, h) = server(vec![
            (ping.len(), &b"+PONG\r\n"[..]),
            (
                ping.len() + info.len(),
                b"$9\r\nused:1\r\nx\r\n*2\r\n+a\r\n:1\r\n-ERR no\r\nERROR\r\n",
            ),
        ]);
        let mut c = Connection::connect(&addr, Duration::from_secs(5)).unwrap();
        assert_eq!(c.addr(), addr);
        assert_eq!(c.call(&["PING"]).unwrap(), Reply::Simple("PONG".into()));
        let r = c.pipeline(&[&["INFO", "memory"][..], &["PING"]]).unwrap();
        assert_eq!(
            r,
            vec![
                Reply::Bulk(Some(b"used:1\r\nx".to_vec())),
                Reply::Array(Some(vec![Reply::Simple("a".into()), Reply::Int(1)]))
            ]
        );
        assert_eq!(c.recv().unwrap(), Reply::Error("ERR no".into()));
        let e = c.recv().unwrap_err();
        assert!(
            matches!(&e, Error::Protocol(p) if p.line == "ERROR"),
            "{e:?}"
        );
        assert_eq!(e.to_string(), "not a Redis answer: \"ERROR\"");
        let got = h.join().unwrap();
        assert_eq!(got, [ping.clone(), info, ping].concat());
    }

    #[test]
    fn a_closed_connection_and_a_limit() {
        let (addr, h) = server(vec![(0, &b"+OK\r\n$5\r\nab"[..])]);
        let mut c = Connection::connect(&addr, Duration::from_secs(5)).unwrap();
        h.join().unwrap();
        assert_eq!(c.recv().unwrap(), Reply::Simple("OK".into()));
        let e = c.recv().unwrap_err();
        assert!(matches!(e, Error::Closed), "{e:?}");
        assert_eq!(e.to_string(), "connection closed");

        let (addr, h) = server(vec![(0, &b"$5\r\nabcde\r\n"[..])]);
        let mut c = Connection::connect(&addr, Duration::from_secs(5)).unwrap();
        c.set_max_reply(4);
        let e = c.recv().unwrap_err();
        assert!(
            matches!(&e, Error::Protocol(p) if p.kind == ParseErrorKind::TooLarge(5)),
            "{e:?}"
        );
        h.join().unwrap();
    }

    #[test]
    fn a_non_resp_line_cut_short_by_the_close_is_named() {
        let (addr, h) = server(vec![(0, &b"ERR"[..])]);
        let mut c = Connection::connect(&addr, Duration::from_secs(5)).unwrap();
        h.join().unwrap();
        let e = c.recv().unwrap_err();
        assert!(matches!(&e, Error::Protocol(p) if p.line == "ERR"), "{e:?}");
    }

    #[test]
    fn auth_tolerates_a_server_without_a_password() {
        let cmd = encode(&["AUTH", "pw"]).len();
        for (answer, ok) in [
            (&b"+OK\r\n"[..], true),
            (b"-ERR Client sent AUTH, but no password is set\r\n", true),
            (
                b"-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n",
                true,
            ),
            (b"-WRONGPASS invalid username-password pair\r\n", false),
            (b":1\r\n", false),
        ] {
            let (addr, h) = server(vec![(cmd, answer)]);
            let mut c = Connection::connect(&addr, Duration::from_secs(5)).unwrap();
            let r = c.auth("pw");
            h.join().unwrap();
            assert_eq!(r.is_ok(), ok, "{r:?}");
            if let Err(e) = r {
                assert!(matches!(e, Error::Refused(_)), "{e:?}");
            }
        }
    }

    #[test]
    fn connect_errors() {
        let closed = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .to_string();
        let e = Connection::connect(&closed, Duration::from_millis(500))
            .err()
            .unwrap();
        assert!(matches!(e, Error::Connect(_)), "{e:?}");
        let e = Connection::connect("no port", Duration::from_millis(500))
            .err()
            .unwrap();
        assert!(e.to_string().starts_with("cannot resolve no port: "), "{e}");
        let e = Connection::connect_until(&closed, Instant::now())
            .err()
            .unwrap();
        assert!(
            matches!(&e, Error::Connect(io) if io.kind() == io::ErrorKind::TimedOut),
            "{e:?}"
        );
    }

    #[test]
    fn a_deadline_bounds_every_exchange() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let t = Instant::now();
        let mut c = Connection::connect_until(&addr, t + Duration::from_millis(200)).unwrap();
        let e = c.call(&["PING"]).unwrap_err();
        assert!(
            matches!(&e, Error::Read(io) if matches!(io.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock)),
            "{e:?}"
        );
        assert!(t.elapsed() < Duration::from_secs(2));
        let e = c.call(&["PING"]).unwrap_err();
        assert!(
            matches!(&e, Error::Write(io) if io.kind() == io::ErrorKind::TimedOut),
            "{e:?}"
        );
        drop(l);
    }
}
