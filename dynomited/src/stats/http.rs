//! The admin HTTP protocol of the stats port: request parsing, path routing, reply writing.
//!
//! Pure and resumable: the server appends what it reads to one buffer and calls
//! [`parse_request`] again until it stops saying [`HttpParse::Incomplete`]; the same bytes
//! give the same answer however they were split. [`route`] maps a path to an [`Admin`]
//! command with Dynomite's matching rules (SPEC §7.2); the server performs it, picks the body
//! (helpers below) and writes it with [`write_response`], then closes, as Dynomite does.
//!
//! Access: with an admin token, every command that changes anything needs
//! `Authorization: Bearer <token>` ([`Admin::is_open`] names the ones that do not), whatever
//! the method; the server answers [`write_unauthorized`] otherwise and changes nothing.
//!
//! Differences from Dynomite C, on purpose:
//! - Any method runs the command as GET does (Dynomite's calls are GETs; `curl -X POST` sends
//!   POST); the admin token is asked for whatever the method.
//! - A path that names no endpoint answers `404 Not Found` ([`write_not_found`]); Dynomite
//!   answers it `OK\r\n` like a ping, so a mistyped health probe passed. That includes a word
//!   after `/state/` or `/peer/` that is not one of theirs and a non-number after
//!   `/setloglevel/` or `/set_timeout_factor/`. Dynomite's own "invalid input is OK" replies
//!   stay: a bad level after `/set_consistency/<read|write>/` and a bad word after
//!   `/read_repairs` answer `OK\r\n` and change nothing.
//! - `/health` (the process answers: `OK\r\n`) and `/ready` (`OK\r\n` when the node can
//!   serve at its consistency levels, else `503` with the reasons) are ours.
//! - The request is read up to the end of its headers (and a `Content-Length` body), not with
//!   one `recv`; at end of input, [`parse_request_at_eof`] still accepts a bare request line
//!   (`echo "GET /info HTTP/1.0" | nc` keeps working).
//! - A malformed request gets a real `400 Bad Request` ([`write_bad_request`]) instead of
//!   `HTTP/1.0 400 Bad Request\n` followed by a `200 OK` reply.
//! - The query string is ignored (`/info?x=1` is `/info`; Dynomite treats it as a ping).
//! - `/set_consistency/<read|write>/dc_each_safe_quorum` is accepted.
//! - A malformed number in `/setloglevel/` or `/set_timeout_factor/` changes nothing (Dynomite
//!   sets the timeout factor to 1).
//! - `/peer/<verb>` and `/state` must be followed by `/` (Dynomite skips any one character).
//! - `/metrics` serves Prometheus text; `/help` lists it.

use crate::types::{Consistency, NodeState};

/// Longest request accepted (request line, headers and body).
pub const MAX_REQUEST: usize = 8192;

/// Content type of the Dynomite endpoints (JSON or not, as Dynomite sends it).
pub const CONTENT_TYPE_JSON: &str = "application/json; charset=utf-8";

/// Content type of `/metrics`.
pub const CONTENT_TYPE_PROMETHEUS: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The body of every command without output, and of unknown paths.
pub const OK_BODY: &str = "OK\r\n";

/// The body Dynomite sends when it cannot build a JSON reply.
pub const ERR_BODY: &str = "ERR";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Other,
}

/// The outcome of parsing the bytes received so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpParse<'a> {
    /// Not a whole request yet: read more.
    Incomplete,
    /// A whole request of `consumed` bytes; `path` has the query string removed;
    /// `authorization` is the `Authorization` header's value, if sent.
    Request {
        method: Method,
        path: &'a str,
        consumed: usize,
        authorization: Option<&'a str>,
    },
    /// Not HTTP/1.x, malformed, or longer than [`MAX_REQUEST`].
    Bad,
}

/// Parses one request: request line, headers up to the empty line (CRLF or bare LF line
/// endings), and a `Content-Length` body if any (ignored, only waited for). A second
/// `Content-Length` that differs, or a second `Authorization`, makes it [`HttpParse::Bad`].
pub fn parse_request(buf: &[u8]) -> HttpParse<'_> {
    parse(buf, false)
}

/// Like [`parse_request`] when the client has closed its side: the end of the input ends the
/// request line, the headers and the body.
pub fn parse_request_at_eof(buf: &[u8]) -> HttpParse<'_> {
    if buf.is_empty() {
        return HttpParse::Bad;
    }
    parse(buf, true)
}

/// A byte that may appear in a request line or header line (CR is checked separately).
fn line_byte_ok(c: u8) -> bool {
    c == b'\t' || c == b'\r' || (0x20..0x7f).contains(&c) || c >= 0x80
}

fn parse(buf: &[u8], eof: bool) -> HttpParse<'_> {
    let window = &buf[..buf.len().min(MAX_REQUEST)];
    let mut lines = Lines {
        buf: window,
        pos: 0,
        eof,
    };
    let incomplete = || {
        if buf.len() >= MAX_REQUEST {
            HttpParse::Bad
        } else {
            HttpParse::Incomplete
        }
    };

    let Some(line) = lines.next() else {
        // Reject garbage (binary, TLS hellos) before it fills the buffer.
        return if window.iter().all(|&c| line_byte_ok(c)) {
            incomplete()
        } else {
            HttpParse::Bad
        };
    };
    let Some((method, target)) = request_line(line) else {
        return HttpParse::Bad;
    };

    let mut content_length: Option<usize> = None;
    let mut authorization: Option<&[u8]> = None;
    loop {
        let Some(line) = lines.next() else {
            if eof {
                break;
            }
            return if window[lines.pos..].iter().all(|&c| line_byte_ok(c)) {
                incomplete()
            } else {
                HttpParse::Bad
            };
        };
        if line.is_empty() {
            break;
        }
        match header(line) {
            Err(()) => return HttpParse::Bad,
            Ok(Header::Other) => {}
            Ok(Header::ContentLength(n)) => {
                if content_length.is_some_and(|c| c != n) {
                    return HttpParse::Bad;
                }
                content_length = Some(n);
            }
            Ok(Header::Authorization(v)) => {
                if authorization.replace(v).is_some() {
                    return HttpParse::Bad;
                }
            }
        }
    }

    let head = lines.pos;
    let consumed = match head.checked_add(content_length.unwrap_or(0)) {
        Some(c) if c <= MAX_REQUEST => c,
        _ => return HttpParse::Bad,
    };
    let consumed = if buf.len() < consumed {
        if !eof {
            return HttpParse::Incomplete;
        }
        buf.len()
    } else {
        consumed
    };

    let path_end = target
        .iter()
        .position(|&c| c == b'?' || c == b'#')
        .unwrap_or(target.len());
    let authorization = match authorization.map(std::str::from_utf8) {
        None => None,
        Some(Ok(v)) => Some(v),
        Some(Err(_)) => return HttpParse::Bad,
    };
    match std::str::from_utf8(&target[..path_end]) {
        Ok(path) => HttpParse::Request {
            method,
            path,
            consumed,
            authorization,
        },
        Err(_) => HttpParse::Bad,
    }
}

/// Lines ending in LF (a CR before it is dropped); at `eof` the rest is a last line.
struct Lines<'a> {
    buf: &'a [u8],
    pos: usize,
    eof: bool,
}

impl<'a> Lines<'a> {
    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = &self.buf[self.pos..];
        match rest.iter().position(|&c| c == b'\n') {
            Some(n) => {
                self.pos += n + 1;
                Some(rest[..n].strip_suffix(b"\r").unwrap_or(&rest[..n]))
            }
            None if self.eof && !rest.is_empty() => {
                self.pos = self.buf.len();
                Some(rest.strip_suffix(b"\r").unwrap_or(rest))
            }
            None => None,
        }
    }
}

/// `METHOD SP target SP HTTP/1.x`, separated by runs of spaces or tabs.
fn request_line(line: &[u8]) -> Option<(Method, &[u8])> {
    if !line.iter().all(|&c| line_byte_ok(c) && c != b'\r') {
        return None;
    }
    let mut parts = line
        .split(|&c| c == b' ' || c == b'\t')
        .filter(|p| !p.is_empty());
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !(version == b"HTTP/1.0" || version == b"HTTP/1.1") {
        return None;
    }
    if !method.iter().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let method = match method {
        b"GET" => Method::Get,
        b"POST" => Method::Post,
        _ => Method::Other,
    };
    Some((method, target))
}

/// The headers the server reads.
enum Header<'a> {
    ContentLength(usize),
    /// The value, blanks around it removed.
    Authorization(&'a [u8]),
    Other,
}

/// One header line.
fn header(line: &[u8]) -> Result<Header<'_>, ()> {
    if !line.iter().all(|&c| line_byte_ok(c) && c != b'\r') {
        return Err(());
    }
    let colon = line.iter().position(|&c| c == b':').ok_or(())?;
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    if name.is_empty() || name.iter().any(|&c| c == b' ' || c == b'\t') {
        return Err(());
    }
    if name.eq_ignore_ascii_case(b"authorization") {
        return Ok(Header::Authorization(value.trim_ascii()));
    }
    if !name.eq_ignore_ascii_case(b"content-length") {
        return Ok(Header::Other);
    }
    let value = value.trim_ascii();
    if value.is_empty() || value.len() > 9 || !value.iter().all(u8::is_ascii_digit) {
        return Err(());
    }
    let n = value
        .iter()
        .fold(0usize, |n, &d| n * 10 + usize::from(d - b'0'));
    Ok(Header::ContentLength(n))
}

/// The verb of `/peer/<verb>/<name>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerVerb {
    /// State NORMAL.
    Up,
    /// State DOWN.
    Down,
    /// State RESET.
    Reset,
}

/// An admin command, as [`route`] reads it from a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Admin {
    /// `/info` and `/`: the stats JSON.
    Info,
    /// `/metrics`: Prometheus text (ours).
    Metrics,
    /// `/ping`: `OK\r\n`.
    Ping,
    /// `/health` (ours): `OK\r\n` while the process serves.
    Health,
    /// `/ready` (ours): `OK\r\n` when the node can serve, else 503 with the reasons.
    Ready,
    /// `/help`: [`help_text`].
    Help,
    /// `/cluster_describe`: the topology JSON.
    ClusterDescribe,
    /// `/setloglevel/<n>`: the level, already clamped to 0..=11.
    SetLogLevel(i32),
    LogLevelUp,
    LogLevelDown,
    /// `/historeset`: reset every histogram.
    HistoReset,
    /// `/get_consistency`: [`consistency_body`].
    GetConsistency,
    /// `/set_consistency/<read|write>/<level>`; `level` is `None` when not a level name (the
    /// reply is `OK\r\n` anyway and nothing changes).
    SetConsistency {
        write: bool,
        level: Option<Consistency>,
    },
    /// `/get_timeout_factor`: [`timeout_factor_body`].
    GetTimeoutFactor,
    /// `/set_timeout_factor/<n>`: the factor, already clamped to 1..=10.
    SetTimeoutFactor(i64),
    /// `/peer/<up|down|reset>/<name>`; `name` `all` sets every peer to RESET whatever the verb.
    Peer {
        verb: PeerVerb,
        name: String,
    },
    /// `/read_repairs/enable` (`Some(true)`), `/read_repairs/disable` (`Some(false)`); `None`
    /// for anything else under `/read_repairs` (answered `OK\r\n`).
    ReadRepairs(Option<bool>),
    /// `/state/<standby|writes_only|resuming|normal>`.
    SetState(NodeState),
    /// `/state/get_state`: [`state_body`].
    GetState,
    /// A path that names no endpoint: `404 Not Found`.
    Unknown,
}

impl Admin {
    /// The commands that change nothing, served without the admin token: `/info` (and `/`,
    /// the same), `/metrics`, `/ping`, `/health`, `/ready`, `/cluster_describe`,
    /// `/state/get_state`, `/get_consistency`, `/get_timeout_factor`, `/help`. Every other
    /// command needs it, also when its argument makes it change nothing
    /// (`/set_consistency/read/bogus`). [`Admin::Unknown`] is answered 404 before this asks.
    pub const fn is_open(&self) -> bool {
        matches!(
            self,
            Admin::Info
                | Admin::Metrics
                | Admin::Ping
                | Admin::Health
                | Admin::Ready
                | Admin::ClusterDescribe
                | Admin::GetState
                | Admin::GetConsistency
                | Admin::GetTimeoutFactor
                | Admin::Help
        )
    }
}

/// Dynomite's `sscanf("%d")`: optional blanks, optional sign, digits; the rest is ignored.
/// Saturates instead of overflowing.
fn scan_int(s: &str) -> Option<i64> {
    let s = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let n = digits.bytes().take_while(u8::is_ascii_digit).count();
    if n == 0 {
        return None;
    }
    let v = digits.as_bytes()[..n].iter().fold(0i64, |v, &d| {
        v.saturating_mul(10).saturating_add(i64::from(d - b'0'))
    });
    Some(if neg { -v } else { v })
}

/// Maps a path (query string already removed) to its command, with Dynomite's rules: exact
/// paths, and prefixes for `/setloglevel/`, `/set_consistency/`, `/set_timeout_factor/`,
/// `/peer/`, `/read_repairs`, `/state/`.
pub fn route(path: &str) -> Admin {
    match path {
        "/" | "/info" => return Admin::Info,
        "/metrics" => return Admin::Metrics,
        "/help" => return Admin::Help,
        "/ping" => return Admin::Ping,
        "/health" => return Admin::Health,
        "/ready" => return Admin::Ready,
        "/cluster_describe" => return Admin::ClusterDescribe,
        "/loglevelup" => return Admin::LogLevelUp,
        "/logleveldown" => return Admin::LogLevelDown,
        "/historeset" => return Admin::HistoReset,
        "/get_consistency" => return Admin::GetConsistency,
        "/get_timeout_factor" => return Admin::GetTimeoutFactor,
        _ => {}
    }
    if let Some(n) = path.strip_prefix("/setloglevel/") {
        return match scan_int(n) {
            Some(n) => Admin::SetLogLevel(n.clamp(0, 11) as i32),
            None => Admin::Unknown,
        };
    }
    if let Some(op) = path.strip_prefix("/set_consistency") {
        let (write, rest) = if let Some(rest) = op.strip_prefix("/read") {
            (false, rest)
        } else if let Some(rest) = op.strip_prefix("/write") {
            (true, rest)
        } else {
            return Admin::Unknown;
        };
        let level = rest.strip_prefix('/').and_then(Consistency::parse_dynomite);
        return Admin::SetConsistency { write, level };
    }
    if let Some(n) = path.strip_prefix("/set_timeout_factor/") {
        return match scan_int(n) {
            Some(n) => Admin::SetTimeoutFactor(n.clamp(1, 10)),
            None => Admin::Unknown,
        };
    }
    if let Some(rest) = path.strip_prefix("/peer/") {
        let verbs = [
            ("down", PeerVerb::Down),
            ("up", PeerVerb::Up),
            ("reset", PeerVerb::Reset),
        ];
        for (word, verb) in verbs {
            if let Some(after) = rest.strip_prefix(word) {
                return match after.strip_prefix('/') {
                    Some(name) => Admin::Peer {
                        verb,
                        name: name.to_string(),
                    },
                    None if after.is_empty() => Admin::Peer {
                        verb,
                        name: String::new(),
                    },
                    None => Admin::Unknown,
                };
            }
        }
        return Admin::Unknown;
    }
    if let Some(rest) = path.strip_prefix("/read_repairs") {
        return Admin::ReadRepairs(match rest {
            "/enable" => Some(true),
            "/disable" => Some(false),
            _ => None,
        });
    }
    if let Some(word) = path.strip_prefix("/state/") {
        return match word {
            "standby" => Admin::SetState(NodeState::Standby),
            "writes_only" => Admin::SetState(NodeState::WritesOnly),
            "resuming" => Admin::SetState(NodeState::Resuming),
            "normal" => Admin::SetState(NodeState::Normal),
            "get_state" => Admin::GetState,
            _ => Admin::Unknown,
        };
    }
    Admin::Unknown
}

/// The `/help` body: Dynomite's list, plus `/metrics`, `/health`, `/ready`,
/// `dc_each_safe_quorum`, the peer name and `/read_repairs`, which Dynomite serves but does
/// not list.
pub const fn help_text() -> &'static str {
    "/info\n/metrics\n/help\n/ping\n/cluster_describe\n/setloglevel/<0-11>\n/loglevelup\n\
     /logleveldown\n/historeset\n/get_consistency\n\
     /set_consistency/<read|write>/<dc_one|dc_quorum|dc_safe_quorum|dc_each_safe_quorum>\n\
     /get_timeout_factor\n/set_timeout_factor/<1-10>\n/peer/<up|down|reset>/<name|all>\n\
     /read_repairs/<enable|disable>\n/health\n/ready\n\
     /state/<get_state|standby|writes_only|normal|resuming>\n\n"
}

/// `/get_consistency`: `Read Consistency: DC_ONE\r\nWrite Consistency: DC_ONE\r\n`.
pub fn consistency_body(read: Consistency, write: Consistency) -> String {
    format!(
        "Read Consistency: {}\r\nWrite Consistency: {}\r\n",
        read.name(),
        write.name()
    )
}

/// `/get_timeout_factor`: `Timeout factor: <n>\n`.
pub fn timeout_factor_body(factor: i64) -> String {
    format!("Timeout factor: {factor}\n")
}

/// `/state/get_state`: `State: <NAME>\n`.
pub fn state_body(state: NodeState) -> String {
    format!("State: {}\n", state.name())
}

/// `/read_repairs/enable|disable`: `Read Repairs: ENABLED\r\n` / `DISABLED`.
pub const fn read_repairs_body(enabled: bool) -> &'static str {
    if enabled {
        "Read Repairs: ENABLED\r\n"
    } else {
        "Read Repairs: DISABLED\r\n"
    }
}

/// Writes Dynomite's reply header, byte for byte (lines end with space + LF, the length is
/// followed by a space, the header ends with CRLF CRLF), then the body.
pub fn write_response(out: &mut Vec<u8>, body: &[u8], content_type: &str) {
    out.extend_from_slice(b"HTTP/1.1 200 OK \nContent-Type: ");
    out.extend_from_slice(content_type.as_bytes());
    out.extend_from_slice(b" \nContent-Length: ");
    out.extend_from_slice(body.len().to_string().as_bytes());
    out.extend_from_slice(b" \r\n\r\n");
    out.extend_from_slice(body);
}

/// A reply of ours other than 200 (`status` such as `404 Not Found`): plain text, with
/// `extra` header lines (each ending in CRLF).
pub fn write_status(out: &mut Vec<u8>, status: &str, extra: &str, body: &str) {
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_bytes());
    out.extend_from_slice(b"\r\nContent-Type: text/plain; charset=utf-8\r\n");
    out.extend_from_slice(extra.as_bytes());
    out.extend_from_slice(b"Content-Length: ");
    out.extend_from_slice(body.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
    out.extend_from_slice(body.as_bytes());
}

/// The reply to an admin call without the right token: 401 with a `WWW-Authenticate`
/// challenge (RFC 6750).
pub fn write_unauthorized(out: &mut Vec<u8>, path: &str, token_sent: bool) {
    let why = if token_sent {
        "the admin token sent is not this node's"
    } else {
        "this call changes the node and needs its admin token"
    };
    let body = format!(
        "401 Unauthorized: {path}: {why}; send the header \"Authorization: Bearer <admin_token>\" (dynoctl and dynotop: --admin-token, --admin-token-file or DYNOMITE_ADMIN_TOKEN). Nothing was changed.\n"
    );
    let challenge = if token_sent {
        "WWW-Authenticate: Bearer realm=\"dynomite\", error=\"invalid_token\"\r\n"
    } else {
        "WWW-Authenticate: Bearer realm=\"dynomite\"\r\n"
    };
    write_status(out, "401 Unauthorized", challenge, &body);
}

/// The reply to a path [`route`] calls [`Admin::Unknown`].
pub fn write_not_found(out: &mut Vec<u8>, path: &str) {
    let body = format!("404 Not Found: {path} is not an endpoint of this node; see /help\n");
    write_status(out, "404 Not Found", "", &body);
}

/// The reply to a request [`parse_request`] calls [`HttpParse::Bad`] (a fix: Dynomite writes
/// `HTTP/1.0 400 Bad Request\n` and then a `200 OK` reply on the same connection).
pub fn write_bad_request(out: &mut Vec<u8>) {
    out.extend_from_slice(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
}

#[cfg(test)]
mod tests;
