//! Seed providers (SPEC §1.5, C.5): fetch the seed-list *text* (`host:port:rack:dc:token|...`,
//! parsed elsewhere by [`crate::peer::parse_seed_list`]) from dynomite-manager ("Florida") or
//! from DNS TXT records, blocking with timeouts, on a background thread that hands the results
//! to the single-threaded event loop through a non-blocking socket pair.
//!
//! ```text
//!   Fetcher thread "dyn-seeds"                           event loop
//!   every `every`: fetch(src) ──changed?──► [len u32 BE]["OK " text | "ERR " error] ──► Inbox
//! ```
//!
//! Differences from Dynomite C, on purpose:
//! - Florida: the status line is parsed (`HTTP/1.0 200` and `HTTP/1.1 200` both accepted),
//!   `Content-Length` bounds the body and `Transfer-Encoding: chunked` is de-chunked.
//! - DNS: a hand-written RFC 1035 client (no `res_query`); the server is the first usable
//!   `nameserver` of `/etc/resolv.conf`, read when the [`Source`] is built. All TXT records
//!   are kept (Dynomite keeps only the last one), sorted and joined with `|` so that a server
//!   rotating its records does not look like a change. A records are rejected: they carry no
//!   rack, dc or token (Dynomite misreads them, PR #575).
//! - Change detection compares the text itself, not a Jenkins hash of it.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Florida's default address and request (Dynomite's `FLORIDA_IP`, `FLORIDA_PORT`,
/// `FLORIDA_REQUEST`).
pub const FLORIDA_IP: Ipv4Addr = Ipv4Addr::LOCALHOST;
pub const FLORIDA_PORT: u16 = 8080;
pub const FLORIDA_REQUEST: &str =
    "GET /REST/v1/admin/get_seeds HTTP/1.0\r\nHost: 127.0.0.1\r\nUser-Agent: HTMLGET 1.0\r\n\r\n";
/// The default DNS name of the seed TXT records (Dynomite's `DNS_TXT_NAME`).
pub const DNS_NAME: &str = "_dynomite.ec2-internal";
/// Dynomite's `SEEDS_CHECK_INTERVAL`.
pub const POLL_INTERVAL: Duration = Duration::from_millis(30_000);
/// The largest Florida response read.
pub const FLORIDA_MAX_RESPONSE: usize = 1 << 20;

const NO_FLORIDA_SEEDS: &str = "No seeds were found in Florida response";
const A_RECORDS: &str = "A records carry no rack/dc/token; use TXT records";

/// Where the seed list comes from (Dynomite's `dyn_seed_provider`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// dynomite-manager ("Florida"): a raw HTTP/1.0 request to ip:port.
    Florida { addr: SocketAddr, request: Vec<u8> },
    /// DNS: TXT records (or A records) of `name`, asked of `server` (from /etc/resolv.conf).
    Dns {
        name: String,
        server: SocketAddr,
        a_records: bool,
    },
}

/// An environment value, empty counting as unset.
fn env_value(env: &impl Fn(&str) -> Option<String>, key: &str) -> Option<String> {
    env(key).filter(|v| !v.trim().is_empty())
}

impl Source {
    /// Dynomite's defaults and environment variables: Florida from DYNOMITE_FLORIDA_IP (default 127.0.0.1),
    /// DYNOMITE_FLORIDA_PORT (8080), DYNOMITE_FLORIDA_REQUEST (default
    /// "GET /REST/v1/admin/get_seeds HTTP/1.0\r\nHost: 127.0.0.1\r\nUser-Agent: HTMLGET 1.0\r\n\r\n");
    /// `env` is a lookup function (so tests need not set process env): e.g. `|k| std::env::var(k).ok()`.
    ///
    /// Empty values count as unset. The request is used as given, raw (as Dynomite does): it
    /// must hold real CR LF bytes. The IP must be a literal IPv4 or IPv6 address.
    pub fn florida_from_env(env: impl Fn(&str) -> Option<String>) -> Result<Source, String> {
        let ip = match env_value(&env, "DYNOMITE_FLORIDA_IP") {
            None => IpAddr::V4(FLORIDA_IP),
            Some(v) => v.trim().parse::<IpAddr>().map_err(|_| {
                format!("DYNOMITE_FLORIDA_IP=\"{v}\" is not an IP address, e.g. \"127.0.0.1\"")
            })?,
        };
        let port = match env_value(&env, "DYNOMITE_FLORIDA_PORT") {
            None => FLORIDA_PORT,
            Some(v) => match v.trim().parse::<u16>() {
                Ok(p) if p != 0 => p,
                _ => {
                    return Err(format!(
                        "DYNOMITE_FLORIDA_PORT=\"{v}\" is not a port (1..=65535), e.g. \"8080\""
                    ))
                }
            },
        };
        let request = env_value(&env, "DYNOMITE_FLORIDA_REQUEST")
            .unwrap_or_else(|| FLORIDA_REQUEST.to_string())
            .into_bytes();
        Ok(Source::Florida {
            addr: SocketAddr::new(ip, port),
            request,
        })
    }

    /// DNS name from DYNOMITE_DNS_NAME (default "_dynomite.ec2-internal"), A records when
    /// DYNOMITE_DNS_TYPE=A, server = first `nameserver` line of /etc/resolv.conf (port 53; default 127.0.0.1:53).
    ///
    /// `resolv_conf` is the text of /etc/resolv.conf. `nameserver` lines whose address does
    /// not parse (e.g. a link-local IPv6 address with a `%scope`) are skipped. DYNOMITE_DNS_TYPE
    /// is `A` or `TXT` (any case; empty or unset = TXT); anything else is an error. The name is
    /// checked here (labels of 1..=63 bytes, at most 253 bytes).
    pub fn dns_from_env(
        env: impl Fn(&str) -> Option<String>,
        resolv_conf: &str,
    ) -> Result<Source, String> {
        let name = env_value(&env, "DYNOMITE_DNS_NAME")
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| DNS_NAME.to_string());
        encode_name(&name).map_err(|e| format!("DYNOMITE_DNS_NAME=\"{name}\": {e}"))?;
        let a_records = match env_value(&env, "DYNOMITE_DNS_TYPE") {
            None => false,
            Some(v) if v.trim().eq_ignore_ascii_case("A") => true,
            Some(v) if v.trim().eq_ignore_ascii_case("TXT") => false,
            Some(v) => {
                return Err(format!(
                    "DYNOMITE_DNS_TYPE=\"{v}\": expected \"TXT\" or \"A\""
                ))
            }
        };
        let server = SocketAddr::new(
            resolv_conf_nameserver(resolv_conf).unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            53,
        );
        Ok(Source::Dns {
            name,
            server,
            a_records,
        })
    }
}

/// The first `nameserver` of resolv.conf text whose address parses.
fn resolv_conf_nameserver(text: &str) -> Option<IpAddr> {
    text.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        if words.next()? != "nameserver" {
            return None;
        }
        words.next()?.parse::<IpAddr>().ok()
    })
}

/// Fetch once, blocking, every step bounded by `timeout`. Ok(text) is the seed-list text.
pub fn fetch(src: &Source, timeout: Duration) -> Result<String, String> {
    match src {
        Source::Florida { addr, request } => {
            fetch_florida(*addr, request, timeout).map_err(|e| format!("florida {addr}: {e}"))
        }
        Source::Dns {
            name,
            server,
            a_records,
        } => {
            if *a_records {
                return Err(format!("dns {name}: {A_RECORDS}"));
            }
            fetch_dns_txt(name, *server, timeout).map_err(|e| format!("dns {name} @{server}: {e}"))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Florida (HTTP)

fn fetch_florida(addr: SocketAddr, request: &[u8], timeout: Duration) -> Result<String, String> {
    let timeout = nonzero(timeout);
    let mut stream =
        TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_write_timeout(Some(timeout))
        .map_err(|e| format!("connect: {e}"))?;
    stream
        .write_all(request)
        .map_err(|e| format!("write: {e}"))?;
    let deadline = Instant::now() + timeout;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(body) = http_body(&buf, false)? {
            return finish_body(body);
        }
        let left = remaining(deadline).ok_or("read: timed out")?;
        stream
            .set_read_timeout(Some(left))
            .map_err(|e| format!("read: {e}"))?;
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                if buf.len() + n > FLORIDA_MAX_RESPONSE {
                    return Err(format!("response larger than {FLORIDA_MAX_RESPONSE} bytes"));
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_timeout(&e) => return Err("read: timed out".into()),
            Err(e) => return Err(format!("read: {e}")),
        }
    }
    match http_body(&buf, true)? {
        Some(body) => finish_body(body),
        None => Err("response ended early".into()),
    }
}

fn finish_body(body: Vec<u8>) -> Result<String, String> {
    let text = String::from_utf8(body).map_err(|_| "the body is not UTF-8 text".to_string())?;
    let text = text.trim();
    if text.is_empty() {
        return Err(NO_FLORIDA_SEEDS.into());
    }
    Ok(text.to_string())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The body of a complete HTTP response, `None` while more bytes are needed (`eof`: no more
/// will come, so a body without a length ends here).
fn http_body(buf: &[u8], eof: bool) -> Result<Option<Vec<u8>>, String> {
    let status_end = match find(buf, b"\r\n") {
        Some(i) => i,
        None if eof => return Err(status_error(buf)),
        None => return Ok(None),
    };
    let status = &buf[..status_end];
    let mut parts = status.split(|&b| b == b' ').filter(|p| !p.is_empty());
    let version = parts.next().unwrap_or_default();
    let code = parts.next().unwrap_or_default();
    if !version.starts_with(b"HTTP/1.") || code != b"200" {
        return Err(status_error(status));
    }
    let Some(head_end) = find(buf, b"\r\n\r\n") else {
        return if eof {
            Err("response ended inside the headers".into())
        } else {
            Ok(None)
        };
    };
    let mut chunked = false;
    let mut length = None;
    let headers = buf.get(status_end + 2..head_end).unwrap_or_default();
    for line in headers.split(|&b| b == b'\n') {
        let line = String::from_utf8_lossy(line);
        let Some((name, value)) = line.trim_end_matches('\r').split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value
                .rsplit(',')
                .next()
                .is_some_and(|c| c.trim().eq_ignore_ascii_case("chunked"));
        } else if name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .parse::<usize>()
                    .map_err(|_| format!("bad Content-Length \"{value}\""))?,
            );
        }
    }
    let body = &buf[head_end + 4..];
    if chunked {
        return dechunk(body, eof);
    }
    match length {
        Some(n) if body.len() >= n => Ok(Some(body[..n].to_vec())),
        Some(n) if eof => Err(format!("body ended after {} of {n} bytes", body.len())),
        Some(_) => Ok(None),
        None if eof => Ok(Some(body.to_vec())),
        None => Ok(None),
    }
}

fn status_error(status: &[u8]) -> String {
    let line = String::from_utf8_lossy(&status[..status.len().min(200)]).into_owned();
    format!("HTTP status is not 200: \"{}\"", line.escape_debug())
}

/// De-chunks a `Transfer-Encoding: chunked` body; `None` while incomplete (and not `eof`).
fn dechunk(mut body: &[u8], eof: bool) -> Result<Option<Vec<u8>>, String> {
    let mut out = Vec::new();
    let incomplete = || {
        if eof {
            Err("chunked body ended early".to_string())
        } else {
            Ok(None)
        }
    };
    loop {
        let Some(line_end) = find(body, b"\r\n") else {
            return incomplete();
        };
        let line = String::from_utf8_lossy(&body[..line_end]);
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .ok()
            .filter(|&n| n <= FLORIDA_MAX_RESPONSE)
            .ok_or_else(|| format!("bad chunk size \"{}\"", size_text.escape_debug()))?;
        body = &body[line_end + 2..];
        if size == 0 {
            // Trailers, if any, are not needed.
            return Ok(Some(out));
        }
        if body.len() < size + 2 {
            return incomplete();
        }
        if &body[size..size + 2] != b"\r\n" {
            return Err("chunk not followed by CRLF".into());
        }
        out.extend_from_slice(&body[..size]);
        body = &body[size + 2..];
    }
}

// ---------------------------------------------------------------------------------------------
// DNS (RFC 1035)

const TYPE_A: u16 = 1;
const TYPE_CNAME: u16 = 5;
const TYPE_TXT: u16 = 16;
const CLASS_IN: u16 = 1;
const FLAG_QR: u16 = 0x8000;
const FLAG_TC: u16 = 0x0200;
const FLAG_RD: u16 = 0x0100;
const MAX_POINTERS: usize = 64;

/// A name in wire format (labels, terminating zero).
fn encode_name(name: &str) -> Result<Vec<u8>, String> {
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    if trimmed.is_empty() {
        return Err("empty DNS name".into());
    }
    let mut out = Vec::with_capacity(trimmed.len() + 2);
    for label in trimmed.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(format!("DNS label \"{label}\" must be 1..=63 bytes"));
        }
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    if out.len() > 255 {
        return Err("DNS name longer than 253 bytes".into());
    }
    Ok(out)
}

fn query_id() -> u16 {
    static COUNTER: AtomicU16 = AtomicU16::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mixed =
        (nanos as u64) ^ (nanos >> 64) as u64 ^ u64::from(std::process::id()).rotate_left(17);
    let folded = mixed ^ (mixed >> 16) ^ (mixed >> 32) ^ (mixed >> 48);
    (folded as u16) ^ COUNTER.fetch_add(0x9e37, Ordering::Relaxed)
}

fn build_query(id: u16, qname: &[u8], qtype: u16) -> Vec<u8> {
    let mut q = Vec::with_capacity(12 + qname.len() + 4);
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&FLAG_RD.to_be_bytes());
    q.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]); // QDCOUNT 1, AN/NS/AR 0
    q.extend_from_slice(qname);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&CLASS_IN.to_be_bytes());
    q
}

fn fetch_dns_txt(name: &str, server: SocketAddr, timeout: Duration) -> Result<String, String> {
    let timeout = nonzero(timeout);
    let qname = encode_name(name)?;
    let id = query_id();
    let query = build_query(id, &qname, TYPE_TXT);
    let reply = udp_exchange(server, &query, id, timeout)?;
    let reply = if flags(&reply) & FLAG_TC != 0 {
        tcp_exchange(server, &query, id, timeout).map_err(|e| format!("(over TCP) {e}"))?
    } else {
        reply
    };
    let records = parse_txt_reply(&reply, &qname, name)?;
    let mut records: Vec<String> = records
        .iter()
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .collect();
    if records.is_empty() {
        return Err("no seeds were found in the TXT records".into());
    }
    records.sort();
    records.dedup();
    Ok(records.join("|"))
}

fn flags(msg: &[u8]) -> u16 {
    match msg {
        [_, _, a, b, ..] => u16::from_be_bytes([*a, *b]),
        _ => 0,
    }
}

/// Whether `msg` answers query `id` (a reply shorter than its id counts as ours: it is
/// garbage from the server we asked, and an error).
fn is_reply_to(msg: &[u8], id: u16) -> bool {
    match msg {
        [a, b, ..] => u16::from_be_bytes([*a, *b]) == id,
        _ => true,
    }
}

fn udp_exchange(
    server: SocketAddr,
    query: &[u8],
    id: u16,
    timeout: Duration,
) -> Result<Vec<u8>, String> {
    let local: SocketAddr = match server {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let sock = UdpSocket::bind(local).map_err(|e| format!("bind: {e}"))?;
    // Connected: the kernel drops datagrams from anyone but the server.
    sock.connect(server).map_err(|e| format!("connect: {e}"))?;
    sock.set_write_timeout(Some(timeout))
        .map_err(|e| format!("send: {e}"))?;
    sock.send(query).map_err(|e| format!("send: {e}"))?;
    let deadline = Instant::now() + timeout;
    let mut buf = vec![0u8; 65_535];
    loop {
        let left = remaining(deadline).ok_or("no reply: timed out")?;
        sock.set_read_timeout(Some(left))
            .map_err(|e| format!("recv: {e}"))?;
        match sock.recv(&mut buf) {
            Ok(n) if is_reply_to(&buf[..n], id) => return Ok(buf[..n].to_vec()),
            Ok(_) => {} // another query's reply
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_timeout(&e) => return Err("no reply: timed out".into()),
            Err(e) => return Err(format!("recv: {e}")),
        }
    }
}

fn tcp_exchange(
    server: SocketAddr,
    query: &[u8],
    id: u16,
    timeout: Duration,
) -> Result<Vec<u8>, String> {
    let mut stream =
        TcpStream::connect_timeout(&server, timeout).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_write_timeout(Some(timeout))
        .map_err(|e| format!("write: {e}"))?;
    let len = u16::try_from(query.len()).map_err(|_| "query too long".to_string())?;
    let mut framed = len.to_be_bytes().to_vec();
    framed.extend_from_slice(query);
    stream
        .write_all(&framed)
        .map_err(|e| format!("write: {e}"))?;
    let deadline = Instant::now() + timeout;
    let mut len = [0u8; 2];
    read_exact_by(&mut stream, &mut len, deadline)?;
    let mut reply = vec![0u8; usize::from(u16::from_be_bytes(len))];
    read_exact_by(&mut stream, &mut reply, deadline)?;
    if !is_reply_to(&reply, id) {
        return Err("reply id does not match the query".into());
    }
    Ok(reply)
}

fn read_exact_by(
    stream: &mut TcpStream,
    mut buf: &mut [u8],
    deadline: Instant,
) -> Result<(), String> {
    while !buf.is_empty() {
        let left = remaining(deadline).ok_or("read: timed out")?;
        stream
            .set_read_timeout(Some(left))
            .map_err(|e| format!("read: {e}"))?;
        match stream.read(buf) {
            Ok(0) => return Err("read: connection closed early".into()),
            Ok(n) => buf = &mut buf[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_timeout(&e) => return Err("read: timed out".into()),
            Err(e) => return Err(format!("read: {e}")),
        }
    }
    Ok(())
}

fn be16(msg: &[u8], at: usize) -> Result<u16, String> {
    match msg.get(at..at + 2) {
        Some(&[a, b]) => Ok(u16::from_be_bytes([a, b])),
        _ => Err("truncated reply".into()),
    }
}

/// Reads the (possibly compressed) name at `pos`: the name in lower case wire format without
/// pointers, and the position after it in the message.
fn read_name(msg: &[u8], mut pos: usize) -> Result<(Vec<u8>, usize), String> {
    let mut name = Vec::new();
    let mut end = None;
    let mut jumps = 0;
    loop {
        let len = *msg.get(pos).ok_or("truncated name")?;
        match len & 0xC0 {
            0xC0 => {
                let low = *msg.get(pos + 1).ok_or("truncated name")?;
                jumps += 1;
                if jumps > MAX_POINTERS {
                    return Err("compression pointer loop".into());
                }
                end.get_or_insert(pos + 2);
                pos = (usize::from(len & 0x3F) << 8) | usize::from(low);
            }
            0x00 if len == 0 => {
                name.push(0);
                return Ok((name, end.unwrap_or(pos + 1)));
            }
            0x00 => {
                let label = msg
                    .get(pos + 1..pos + 1 + usize::from(len))
                    .ok_or("truncated name")?;
                name.push(len);
                name.extend(label.iter().map(u8::to_ascii_lowercase));
                if name.len() > 254 {
                    return Err("name longer than 255 bytes".into());
                }
                pos += 1 + usize::from(len);
            }
            _ => return Err("unknown label type".into()),
        }
    }
}

/// The texts of the TXT records answering `qname` (wire format) in a DNS reply, one string
/// per record (its character-strings concatenated). CNAMEs from `qname` are followed within
/// the reply.
fn parse_txt_reply(msg: &[u8], qname: &[u8], name: &str) -> Result<Vec<String>, String> {
    let flags = be16(msg, 2)?;
    if flags & FLAG_QR == 0 {
        return Err("the reply is a query".into());
    }
    match flags & 0x000F {
        0 => {}
        3 => return Err(format!("NXDOMAIN: no such name \"{name}\"")),
        2 => return Err("SERVFAIL: the server failed".into()),
        5 => return Err("REFUSED: the server refused to answer".into()),
        rcode => return Err(format!("error reply (RCODE {rcode})")),
    }
    let qdcount = be16(msg, 4)?;
    let ancount = be16(msg, 6)?;
    let lowered: Vec<u8> = qname.iter().map(u8::to_ascii_lowercase).collect();
    let mut pos = 12;
    for _ in 0..qdcount {
        let (qn, next) = read_name(msg, pos)?;
        if qn != lowered {
            return Err("the reply is for another name".into());
        }
        be16(msg, next + 2)?; // QTYPE, QCLASS present
        pos = next + 4;
    }
    // (owner, type, rdata start, rdata end)
    let mut answers = Vec::with_capacity(usize::from(ancount).min(256));
    for _ in 0..ancount {
        let (owner, next) = read_name(msg, pos)?;
        let rtype = be16(msg, next)?;
        let class = be16(msg, next + 2)?;
        let rdlen = usize::from(be16(msg, next + 8)?);
        let start = next + 10;
        if msg.len() < start + rdlen {
            return Err("truncated reply".into());
        }
        if class == CLASS_IN {
            answers.push((owner, rtype, start, start + rdlen));
        }
        pos = start + rdlen;
    }
    // The names that stand for qname: itself and its aliases.
    let mut names = vec![lowered];
    for _ in 0..answers.len() {
        let mut grew = false;
        for (owner, rtype, start, _) in &answers {
            if *rtype == TYPE_CNAME && names.contains(owner) {
                let (target, _) = read_name(msg, *start)?;
                if !names.contains(&target) {
                    names.push(target);
                    grew = true;
                }
            }
        }
        if !grew {
            break;
        }
    }
    let mut records = Vec::new();
    for (owner, rtype, start, end) in &answers {
        if *rtype != TYPE_TXT || !names.contains(owner) {
            continue;
        }
        let rdata = &msg[*start..*end];
        let mut text = Vec::new();
        let mut i = 0;
        while i < rdata.len() {
            let len = usize::from(rdata[i]);
            let s = rdata
                .get(i + 1..i + 1 + len)
                .ok_or("truncated TXT record")?;
            text.extend_from_slice(s);
            i += 1 + len;
        }
        records.push(String::from_utf8(text).map_err(|_| "a TXT record is not UTF-8 text")?);
    }
    if records.is_empty() {
        let kind = if answers.iter().any(|a| a.1 == TYPE_A) {
            " (only A records)"
        } else {
            ""
        };
        return Err(format!("no TXT records{kind}"));
    }
    Ok(records)
}

// ---------------------------------------------------------------------------------------------
// Background fetcher and hand-off

fn nonzero(timeout: Duration) -> Duration {
    timeout.max(Duration::from_millis(1))
}

/// Time left until `deadline`, `None` once it has passed.
fn remaining(deadline: Instant) -> Option<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

const TAG_OK: &[u8] = b"OK ";
const TAG_ERR: &[u8] = b"ERR ";
/// The longest sleep between two looks at the stop flag.
const STEP: Duration = Duration::from_millis(100);

/// A background fetcher: every `every` (Dynomite: 30 s) it fetches and, when the text differs
/// from the last one it handed over (compare the text itself), writes one message to the socket:
/// `b"OK "` or `b"ERR "` + text, framed by a 4-byte big-endian length prefix. Errors are handed
/// over too, but only when different from the previous error (so the loop can log each problem once).
/// The first fetch happens at once.
///
/// A successful fetch forgets the previous error, so a problem that comes back after a
/// recovery is handed over again.
pub struct Fetcher {
    stop: Arc<AtomicBool>,
}

impl Fetcher {
    /// Spawns the thread (named "dyn-seeds"). Returns the fetcher and the event loop's end of
    /// the socket pair (std::os::unix::net::UnixStream, set non-blocking).
    pub fn spawn(
        src: Source,
        every: Duration,
        timeout: Duration,
    ) -> io::Result<(Fetcher, UnixStream)> {
        let (loop_end, thread_end) = UnixStream::pair()?;
        loop_end.set_nonblocking(true)?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        thread::Builder::new()
            .name("dyn-seeds".into())
            .spawn(move || run(src, every, timeout, thread_end, &flag))?;
        Ok((Fetcher { stop }, loop_end))
    }
}

impl Drop for Fetcher {
    /// Tells the thread to stop; it exits at its next wake-up (within 100 ms when sleeping,
    /// or after the fetch under way), without being waited for.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn run(src: Source, every: Duration, timeout: Duration, sock: UnixStream, stop: &AtomicBool) {
    let mut last_text: Option<String> = None;
    let mut last_error: Option<String> = None;
    while !stop.load(Ordering::Relaxed) {
        let message = match fetch(&src, timeout) {
            Ok(text) => {
                last_error = None;
                (last_text.as_ref() != Some(&text)).then(|| {
                    last_text = Some(text.clone());
                    encode(TAG_OK, &text)
                })
            }
            Err(e) => (last_error.as_ref() != Some(&e)).then(|| {
                last_error = Some(e.clone());
                encode(TAG_ERR, &e)
            }),
        };
        if stop.load(Ordering::Relaxed) {
            return;
        }
        if let Some(message) = message {
            if send_all(&sock, &message).is_err() {
                return; // the event loop's end is gone
            }
        }
        let wake = Instant::now() + every;
        while let Some(left) = remaining(wake) {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            thread::sleep(left.min(STEP));
        }
    }
}

fn encode(tag: &[u8], text: &str) -> Vec<u8> {
    let len = (tag.len() + text.len()) as u32;
    let mut out = Vec::with_capacity(4 + len as usize);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(tag);
    out.extend_from_slice(text.as_bytes());
    out
}

/// Writes all of `buf` (blocking) without raising SIGPIPE when the other end is gone.
fn send_all(sock: &UnixStream, mut buf: &[u8]) -> io::Result<()> {
    use nix::sys::socket::{send, MsgFlags};
    while !buf.is_empty() {
        match send(sock.as_raw_fd(), buf, MsgFlags::MSG_NOSIGNAL) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => buf = &buf[n..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// A message of the fetcher.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Update {
    /// New seed-list text (not yet parsed).
    Seeds(String),
    /// A fetch failed, with a message naming the source.
    Error(String),
}

/// Decoding on the loop side: feed bytes read from the socket, get whole messages.
#[derive(Default)]
pub struct Inbox {
    buf: Vec<u8>,
}

impl Inbox {
    /// Appends bytes read from the socket.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole message, `None` until one is complete. A message with an unknown tag
    /// (which the fetcher never writes) comes out as an [`Update::Error`].
    // Not an Iterator: `None` only means "not yet", more bytes may complete a message.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<Update> {
        let len: [u8; 4] = self.buf.get(..4)?.try_into().ok()?;
        let end = 4usize.checked_add(u32::from_be_bytes(len) as usize)?;
        if self.buf.len() < end {
            return None;
        }
        let payload: Vec<u8> = self.buf.drain(..end).skip(4).collect();
        let text = |tag: &[u8]| String::from_utf8_lossy(&payload[tag.len()..]).into_owned();
        Some(if payload.starts_with(TAG_OK) {
            Update::Seeds(text(TAG_OK))
        } else if payload.starts_with(TAG_ERR) {
            Update::Error(text(TAG_ERR))
        } else {
            Update::Error(format!(
                "seed fetcher: bad message {:?}",
                String::from_utf8_lossy(&payload)
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    const T: Duration = Duration::from_secs(2);

    // ---- Florida ----

    /// Serves `responses[i]` to the i-th connection (the last one forever), after reading the
    /// request head. Returns the address.
    fn http_server(responses: Vec<Vec<u8>>) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        thread::spawn(move || {
            for (i, conn) in listener.incoming().enumerate() {
                let Ok(mut conn) = conn else { return };
                conn.set_read_timeout(Some(T)).unwrap();
                let mut req = Vec::new();
                let mut b = [0u8; 1024];
                while find(&req, b"\r\n\r\n").is_none() {
                    match conn.read(&mut b) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => req.extend_from_slice(&b[..n]),
                    }
                }
                let resp = &responses[i.min(responses.len() - 1)];
                let _ = conn.write_all(resp);
            }
        });
        addr
    }

    fn florida(addr: SocketAddr) -> Source {
        Source::Florida {
            addr,
            request: FLORIDA_REQUEST.as_bytes().to_vec(),
        }
    }

    const SEEDS: &str = "127.0.0.1:8101:rack1:dc1:0|127.0.0.2:8101:rack1:dc1:2147483647";

    #[test]
    fn florida_200_with_body() {
        let resp = format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{SEEDS}\n");
        let addr = http_server(vec![resp.into_bytes()]);
        assert_eq!(fetch(&florida(addr), T), Ok(SEEDS.to_string()));
    }

    #[test]
    fn florida_http10_content_length_bounds_body() {
        // The server keeps the connection open: Content-Length ends the read.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut b = [0u8; 1024];
            let _ = conn.read(&mut b);
            let body = format!("{SEEDS}EXTRA");
            let resp = format!(
                "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                SEEDS.len()
            );
            conn.write_all(resp.as_bytes()).unwrap();
            // Hold the connection until the client closes it (or 2 s pass).
            conn.set_read_timeout(Some(T)).unwrap();
            let _ = conn.read(&mut b);
        });
        let start = Instant::now();
        assert_eq!(fetch(&florida(addr), T), Ok(SEEDS.to_string()));
        assert!(start.elapsed() < Duration::from_secs(1));
        server.join().unwrap();
    }

    #[test]
    fn florida_200_chunked() {
        let (a, b) = SEEDS.split_at(10);
        let resp = format!(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x};ext=1\r\n{a}\r\n{:X}\r\n{b}\r\n0\r\n\r\n",
            a.len(),
            b.len()
        );
        let addr = http_server(vec![resp.into_bytes()]);
        assert_eq!(fetch(&florida(addr), T), Ok(SEEDS.to_string()));
    }

    #[test]
    fn florida_bad_chunked() {
        let resp = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n";
        let addr = http_server(vec![resp.into()]);
        let err = fetch(&florida(addr), T).unwrap_err();
        assert!(err.contains("bad chunk size"), "{err}");
        let resp = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc";
        let addr = http_server(vec![resp.into()]);
        let err = fetch(&florida(addr), T).unwrap_err();
        assert!(err.contains("chunked body ended early"), "{err}");
    }

    #[test]
    fn florida_404() {
        let addr = http_server(vec![b"HTTP/1.1 404 Not Found\r\n\r\nnope".to_vec()]);
        let err = fetch(&florida(addr), T).unwrap_err();
        assert!(err.starts_with(&format!("florida {addr}: ")), "{err}");
        assert!(err.contains("HTTP/1.1 404 Not Found"), "{err}");
        // "200" elsewhere than the status code is not success.
        let addr = http_server(vec![b"HTTP/1.1 500 200 OK\r\n\r\nx".to_vec()]);
        assert!(fetch(&florida(addr), T).is_err());
        let addr = http_server(vec![b"garbage".to_vec()]);
        assert!(fetch(&florida(addr), T).unwrap_err().contains("not 200"));
    }

    #[test]
    fn florida_empty_body() {
        let addr = http_server(vec![
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n \n".to_vec()
        ]);
        assert_eq!(
            fetch(&florida(addr), T),
            Err(format!(
                "florida {addr}: No seeds were found in Florida response"
            ))
        );
    }

    #[test]
    fn florida_too_large() {
        let mut resp = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
        resp.resize(FLORIDA_MAX_RESPONSE + 10, b'x');
        let addr = http_server(vec![resp]);
        assert!(fetch(&florida(addr), T)
            .unwrap_err()
            .contains("larger than"));
    }

    #[test]
    fn florida_connection_refused() {
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let err = fetch(&florida(addr), T).unwrap_err();
        assert!(
            err.starts_with(&format!("florida {addr}: connect: ")),
            "{err}"
        );
    }

    #[test]
    fn florida_silent_server_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let start = Instant::now();
        let err = fetch(&florida(addr), Duration::from_millis(200)).unwrap_err();
        assert!(err.contains("timed out"), "{err}");
        assert!(start.elapsed() < Duration::from_secs(2));
        drop(listener);
    }

    // ---- DNS ----

    /// A reply to `query` (its id and question echoed) with `flags` and `answers`, each given
    /// as (owner name in wire format, type, rdata).
    fn reply(query: &[u8], flags: u16, answers: &[(Vec<u8>, u16, Vec<u8>)]) -> Vec<u8> {
        let qend = read_name(query, 12).unwrap().1 + 4;
        let mut r = query[..2].to_vec();
        r.extend_from_slice(&(FLAG_QR | FLAG_RD | 0x0080 | flags).to_be_bytes());
        r.extend_from_slice(&[0, 1]);
        r.extend_from_slice(&(answers.len() as u16).to_be_bytes());
        r.extend_from_slice(&[0, 0, 0, 0]);
        r.extend_from_slice(&query[12..qend]);
        for (owner, rtype, rdata) in answers {
            r.extend_from_slice(owner);
            r.extend_from_slice(&rtype.to_be_bytes());
            r.extend_from_slice(&CLASS_IN.to_be_bytes());
            r.extend_from_slice(&300u32.to_be_bytes());
            r.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
            r.extend_from_slice(rdata);
        }
        r
    }

    /// TXT rdata of character-strings.
    fn txt(strings: &[&str]) -> Vec<u8> {
        strings
            .iter()
            .flat_map(|s| [&[s.len() as u8][..], s.as_bytes()].concat())
            .collect()
    }

    /// A pointer to the question name.
    const QPTR: [u8; 2] = [0xC0, 12];

    /// Answers one query with the datagrams `answer(query)` returns.
    fn dns_server(answer: impl FnOnce(&[u8]) -> Vec<Vec<u8>> + Send + 'static) -> SocketAddr {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = sock.local_addr().unwrap();
        thread::spawn(move || {
            sock.set_read_timeout(Some(T)).unwrap();
            let mut buf = [0u8; 512];
            let Ok((n, peer)) = sock.recv_from(&mut buf) else {
                return;
            };
            for d in answer(&buf[..n]) {
                sock.send_to(&d, peer).unwrap();
            }
        });
        addr
    }

    fn dns(server: SocketAddr) -> Source {
        Source::Dns {
            name: DNS_NAME.into(),
            server,
            a_records: false,
        }
    }

    #[test]
    fn dns_query_format() {
        let server = dns_server(|q| {
            assert_eq!(&q[2..12], &[1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
            let (name, end) = read_name(q, 12).unwrap();
            assert_eq!(name, encode_name(DNS_NAME).unwrap());
            assert_eq!(&q[end..], &[0, 16, 0, 1]);
            vec![reply(q, 0, &[(QPTR.to_vec(), TYPE_TXT, txt(&["x"]))])]
        });
        assert_eq!(fetch(&dns(server), T), Ok("x".into()));
    }

    #[test]
    fn dns_one_txt_two_strings() {
        let (a, b) = SEEDS.split_at(20);
        let server =
            dns_server(move |q| vec![reply(q, 0, &[(QPTR.to_vec(), TYPE_TXT, txt(&[a, b]))])]);
        assert_eq!(fetch(&dns(server), T), Ok(SEEDS.to_string()));
    }

    #[test]
    fn dns_two_txt_records_all_kept_sorted() {
        let server = dns_server(|q| {
            let owner = encode_name(&DNS_NAME.to_uppercase()).unwrap(); // uncompressed, any case
            vec![reply(
                q,
                0,
                &[
                    (QPTR.to_vec(), TYPE_TXT, txt(&["127.0.0.2:8101:r:d:2"])),
                    (owner, TYPE_TXT, txt(&["127.0.0.1:8101:r:d:1"])),
                    (
                        encode_name("other.example").unwrap(),
                        TYPE_TXT,
                        txt(&["nope"]),
                    ),
                ],
            )]
        });
        assert_eq!(
            fetch(&dns(server), T),
            Ok("127.0.0.1:8101:r:d:1|127.0.0.2:8101:r:d:2".into())
        );
    }

    #[test]
    fn dns_cname_followed() {
        let server = dns_server(|q| {
            let qend = read_name(q, 12).unwrap().1 + 4;
            // CNAME at offset qend: target "seeds" + pointer to the question name.
            let target_off = qend + 12;
            let mut target = vec![5];
            target.extend_from_slice(b"seeds");
            target.extend_from_slice(&QPTR);
            let ptr = vec![0xC0 | (target_off >> 8) as u8, target_off as u8];
            vec![reply(
                q,
                0,
                &[
                    (QPTR.to_vec(), TYPE_CNAME, target),
                    (ptr, TYPE_TXT, txt(&["s"])),
                ],
            )]
        });
        assert_eq!(fetch(&dns(server), T), Ok("s".into()));
    }

    #[test]
    fn dns_nxdomain() {
        let server = dns_server(|q| vec![reply(q, 3, &[])]);
        let err = fetch(&dns(server), T).unwrap_err();
        assert!(err.contains("NXDOMAIN"), "{err}");
        assert!(err.contains(DNS_NAME), "{err}");
    }

    #[test]
    fn dns_no_answers() {
        let server = dns_server(|q| vec![reply(q, 0, &[])]);
        assert!(fetch(&dns(server), T)
            .unwrap_err()
            .contains("no TXT records"));
    }

    #[test]
    fn dns_pointer_loop() {
        let server = dns_server(|q| {
            let at = read_name(q, 12).unwrap().1 + 4; // the answer's owner name starts here
            let ptr = vec![0xC0 | (at >> 8) as u8, at as u8];
            vec![reply(q, 0, &[(ptr, TYPE_TXT, txt(&["x"]))])]
        });
        let start = Instant::now();
        let err = fetch(&dns(server), T).unwrap_err();
        assert!(err.contains("pointer loop"), "{err}");
        assert!(start.elapsed() < T);
    }

    #[test]
    fn dns_truncated_and_garbage() {
        let server = dns_server(|q| {
            let mut r = reply(q, 0, &[(QPTR.to_vec(), TYPE_TXT, txt(&["abcdef"]))]);
            r.truncate(r.len() - 3);
            vec![r]
        });
        assert!(fetch(&dns(server), T).unwrap_err().contains("truncated"));
        let server = dns_server(|q| vec![vec![q[0], q[1], 0x80]]);
        assert!(fetch(&dns(server), T).unwrap_err().contains("truncated"));
        let server = dns_server(|_| vec![vec![7]]);
        assert!(fetch(&dns(server), T).is_err());
        // TXT character-string overrunning its RDATA.
        let server = dns_server(|q| vec![reply(q, 0, &[(QPTR.to_vec(), TYPE_TXT, vec![9, b'a'])])]);
        assert!(fetch(&dns(server), T)
            .unwrap_err()
            .contains("truncated TXT"));
    }

    #[test]
    fn dns_wrong_id_ignored() {
        let server = dns_server(|q| {
            let mut wrong = reply(q, 0, &[(QPTR.to_vec(), TYPE_TXT, txt(&["wrong"]))]);
            wrong[1] ^= 1;
            vec![
                wrong,
                reply(q, 0, &[(QPTR.to_vec(), TYPE_TXT, txt(&["right"]))]),
            ]
        });
        assert_eq!(fetch(&dns(server), T), Ok("right".into()));
    }

    #[test]
    fn dns_timeout() {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        let server = sock.local_addr().unwrap();
        let start = Instant::now();
        let err = fetch(&dns(server), Duration::from_millis(200)).unwrap_err();
        assert!(err.contains("timed out"), "{err}");
        assert!(start.elapsed() < T);
    }

    #[test]
    fn dns_truncated_reply_retried_over_tcp() {
        // A UDP and a TCP socket on the same port (retry if the TCP port is taken).
        let (udp, tcp) = (0..20)
            .find_map(|_| {
                let udp = UdpSocket::bind("127.0.0.1:0").ok()?;
                let tcp = TcpListener::bind(udp.local_addr().ok()?).ok()?;
                Some((udp, tcp))
            })
            .unwrap();
        let server = udp.local_addr().unwrap();
        thread::spawn(move || {
            udp.set_read_timeout(Some(T)).unwrap();
            let mut buf = [0u8; 512];
            let Ok((n, peer)) = udp.recv_from(&mut buf) else {
                return;
            };
            udp.send_to(&reply(&buf[..n], FLAG_TC, &[]), peer).unwrap();
        });
        thread::spawn(move || {
            let (mut conn, _) = tcp.accept().unwrap();
            conn.set_read_timeout(Some(T)).unwrap();
            let mut len = [0u8; 2];
            conn.read_exact(&mut len).unwrap();
            let mut q = vec![0u8; usize::from(u16::from_be_bytes(len))];
            conn.read_exact(&mut q).unwrap();
            let r = reply(&q, 0, &[(QPTR.to_vec(), TYPE_TXT, txt(&[SEEDS]))]);
            conn.write_all(&(r.len() as u16).to_be_bytes()).unwrap();
            conn.write_all(&r).unwrap();
        });
        assert_eq!(fetch(&dns(server), T), Ok(SEEDS.into()));
    }

    #[test]
    fn dns_a_records_rejected() {
        let src = Source::Dns {
            name: DNS_NAME.into(),
            server: "127.0.0.1:9".parse().unwrap(),
            a_records: true,
        };
        let err = fetch(&src, T).unwrap_err();
        assert!(
            err.contains("A records carry no rack/dc/token; use TXT records"),
            "{err}"
        );
    }

    #[test]
    fn read_name_bounds() {
        assert!(read_name(&[], 0).is_err());
        assert!(read_name(&[3, b'a'], 0).is_err());
        assert!(read_name(&[0xC0], 0).is_err());
        assert!(read_name(&[0xC0, 0x50], 0).is_err());
        assert!(read_name(&[0x40], 0).is_err());
        assert_eq!(
            read_name(&[1, b'A', 0xC0, 4, 0], 0),
            Ok((vec![1, b'a', 0], 4))
        );
        // A label then a pointer back to it: bounded, an error.
        assert!(read_name(&[1, b'a', 0xC0, 0], 0).is_err());
        // Too long a name.
        let mut long = Vec::new();
        for _ in 0..5 {
            long.push(63);
            long.extend_from_slice(&[b'x'; 63]);
        }
        long.push(0);
        assert!(read_name(&long, 0).unwrap_err().contains("longer than"));
    }

    // ---- environment ----

    fn env_of<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn florida_env_defaults_and_overrides() {
        assert_eq!(
            Source::florida_from_env(env_of(&[])),
            Ok(Source::Florida {
                addr: "127.0.0.1:8080".parse().unwrap(),
                request: FLORIDA_REQUEST.as_bytes().to_vec()
            })
        );
        assert_eq!(
            Source::florida_from_env(env_of(&[
                ("DYNOMITE_FLORIDA_IP", "10.0.0.7"),
                ("DYNOMITE_FLORIDA_PORT", "9090"),
                ("DYNOMITE_FLORIDA_REQUEST", "GET /s HTTP/1.0\r\n\r\n"),
            ])),
            Ok(Source::Florida {
                addr: "10.0.0.7:9090".parse().unwrap(),
                request: b"GET /s HTTP/1.0\r\n\r\n".to_vec()
            })
        );
        let Ok(Source::Florida { addr, .. }) =
            Source::florida_from_env(env_of(&[("DYNOMITE_FLORIDA_IP", "::1")]))
        else {
            panic!("IPv6 Florida address rejected")
        };
        assert_eq!(addr, "[::1]:8080".parse().unwrap());
        assert!(
            Source::florida_from_env(env_of(&[("DYNOMITE_FLORIDA_IP", "florida")]))
                .unwrap_err()
                .contains("DYNOMITE_FLORIDA_IP")
        );
        for bad in ["0", "65536", "x"] {
            let err = Source::florida_from_env(env_of(&[("DYNOMITE_FLORIDA_PORT", bad)]));
            assert!(err.unwrap_err().contains("DYNOMITE_FLORIDA_PORT"));
        }
    }

    #[test]
    fn dns_env_defaults_and_overrides() {
        assert_eq!(
            Source::dns_from_env(env_of(&[]), ""),
            Ok(Source::Dns {
                name: DNS_NAME.into(),
                server: "127.0.0.1:53".parse().unwrap(),
                a_records: false
            })
        );
        let resolv = "# generated\nsearch ec2.internal\nnameserver fe80::1%eth0\n\
                      nameserver 10.0.0.2  # vpc\nnameserver 10.0.0.3\n";
        assert_eq!(
            Source::dns_from_env(
                env_of(&[
                    ("DYNOMITE_DNS_NAME", "_seeds.example.com."),
                    ("DYNOMITE_DNS_TYPE", "a")
                ]),
                resolv
            ),
            Ok(Source::Dns {
                name: "_seeds.example.com.".into(),
                server: "10.0.0.2:53".parse().unwrap(),
                a_records: true
            })
        );
        assert_eq!(
            Source::dns_from_env(env_of(&[]), "nameserver 2001:db8::53\n"),
            Ok(Source::Dns {
                name: DNS_NAME.into(),
                server: "[2001:db8::53]:53".parse().unwrap(),
                a_records: false
            })
        );
        assert!(Source::dns_from_env(env_of(&[("DYNOMITE_DNS_TYPE", "SRV")]), "").is_err());
        assert!(Source::dns_from_env(env_of(&[("DYNOMITE_DNS_NAME", "a..b")]), "").is_err());
    }

    // ---- hand-off ----

    #[test]
    fn inbox_split_feeds() {
        let mut wire = encode(TAG_OK, "a:1:r:d:0");
        wire.extend(encode(TAG_ERR, "florida 1.2.3.4:80: connect: refused"));
        wire.extend(encode(TAG_OK, ""));
        let mut inbox = Inbox::default();
        let mut got = Vec::new();
        for byte in wire.chunks(3) {
            inbox.feed(byte);
            while let Some(u) = inbox.next() {
                got.push(u);
            }
        }
        assert_eq!(
            got,
            vec![
                Update::Seeds("a:1:r:d:0".into()),
                Update::Error("florida 1.2.3.4:80: connect: refused".into()),
                Update::Seeds(String::new()),
            ]
        );
        assert!(inbox.next().is_none());
        inbox.feed(&[0, 0, 0, 2, b'?', b'?']);
        assert!(matches!(inbox.next(), Some(Update::Error(_))));
    }

    /// Reads one whole message within `wait`, `None` on timeout.
    fn read_update(sock: &mut UnixStream, inbox: &mut Inbox, wait: Duration) -> Option<Update> {
        sock.set_nonblocking(false).unwrap();
        let deadline = Instant::now() + wait;
        loop {
            if let Some(u) = inbox.next() {
                return Some(u);
            }
            sock.set_read_timeout(Some(remaining(deadline)?)).unwrap();
            let mut buf = [0u8; 4096];
            match sock.read(&mut buf) {
                Ok(0) => return None,
                Ok(n) => inbox.feed(&buf[..n]),
                Err(e) if is_timeout(&e) => return None,
                Err(e) => panic!("{e}"),
            }
        }
    }

    fn ok_response(body: &str) -> Vec<u8> {
        format!("HTTP/1.0 200 OK\r\n\r\n{body}").into_bytes()
    }

    #[test]
    fn fetcher_hands_over_changes_only() {
        let addr = http_server(vec![ok_response("A"), ok_response("A\n"), ok_response("B")]);
        let every = Duration::from_millis(50);
        let (fetcher, mut sock) = Fetcher::spawn(florida(addr), every, T).unwrap();
        let mut inbox = Inbox::default();
        let start = Instant::now();
        assert_eq!(
            read_update(&mut sock, &mut inbox, T),
            Some(Update::Seeds("A".into()))
        );
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "first fetch at once"
        );
        // The second fetch returns the same text: the next message is B.
        assert_eq!(
            read_update(&mut sock, &mut inbox, T),
            Some(Update::Seeds("B".into()))
        );
        // B again and again: nothing more.
        assert_eq!(
            read_update(&mut sock, &mut inbox, Duration::from_millis(300)),
            None
        );
        drop(fetcher);
        // The thread stops and closes its end.
        let mut buf = [0u8; 16];
        sock.set_read_timeout(Some(T)).unwrap();
        assert_eq!(sock.read(&mut buf).unwrap(), 0);
    }

    #[test]
    fn fetcher_hands_over_each_error_once() {
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let (_fetcher, mut sock) =
            Fetcher::spawn(florida(addr), Duration::from_millis(30), T).unwrap();
        let mut inbox = Inbox::default();
        match read_update(&mut sock, &mut inbox, T) {
            Some(Update::Error(e)) => assert!(e.contains("connect"), "{e}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            read_update(&mut sock, &mut inbox, Duration::from_millis(300)),
            None
        );
    }

    #[test]
    fn fetcher_exits_when_loop_end_closes() {
        let addr = http_server(vec![ok_response("A"), ok_response("B"), ok_response("C")]);
        let (fetcher, sock) = Fetcher::spawn(florida(addr), Duration::from_millis(20), T).unwrap();
        drop(sock);
        // No SIGPIPE, no panic: the thread notices on its next write and ends.
        thread::sleep(Duration::from_millis(200));
        drop(fetcher);
    }
}
