//! The datastore's own `INFO`: a tiny RESP client and the summary parsed from its text.
//!
//! A node's `/info` names its datastore (the one object inside the pool object is keyed by the
//! datastore's `host:port`). Each poll round, after a node's `/info`, the fetcher connects
//! there with the same timeout and sends, pipelined,
//!
//! ```text
//! INFO memory   INFO keyspace   INFO replication
//! ```
//!
//! and reads three bulk replies. [`parse_reply`] (RESP framing) and [`parse_info`] (the
//! `field:value` text) are pure; only [`fetch`] does I/O. A memcached datastore answers
//! `ERROR`, which is not RESP: the exchange fails with a reason, shown as
//! "datastore INFO unavailable: <reason>", and nothing else on the node is affected.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// The three commands, as RESP arrays.
pub const REQUEST: &[u8] = b"*2\r\n$4\r\nINFO\r\n$6\r\nmemory\r\n\
*2\r\n$4\r\nINFO\r\n$8\r\nkeyspace\r\n\
*2\r\n$4\r\nINFO\r\n$11\r\nreplication\r\n";

/// Replies expected for [`REQUEST`].
const REPLIES: usize = 3;

/// Refuse replies larger than this (a sane `INFO` is a few KiB).
const MAX_REPLY: usize = 1 << 20;

/// What the dashboard shows of a datastore's `INFO`; `None` for a field it did not report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DsInfo {
    /// `used_memory`, bytes.
    pub used_memory: Option<u64>,
    /// `used_memory_human`, e.g. `919.50K`.
    pub used_memory_human: Option<String>,
    /// `db0:keys=N`; `Some(0)` when the keyspace section is there but has no `db0`.
    pub keys: Option<u64>,
    /// `role`: `master` or `slave`.
    pub role: Option<String>,
    pub master_repl_offset: Option<i64>,
    pub slave_repl_offset: Option<i64>,
    /// `master_link_status` (replicas): `up` or `down`.
    pub master_link_status: Option<String>,
    /// `master_host:master_port` (replicas).
    pub master: Option<String>,
    /// `master_sync_in_progress:1` (a replica doing its full sync).
    pub syncing: bool,
}

/// One RESP reply (the kinds `INFO` can produce).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    Bulk(Option<Vec<u8>>),
    Simple(String),
    Error(String),
    Int(i64),
}

/// The first line of `buf`, quoted and cut short, for error messages.
fn quote_start(buf: &[u8]) -> String {
    let line = buf
        .split(|&b| b == b'\r' || b == b'\n')
        .next()
        .unwrap_or(buf);
    let text = String::from_utf8_lossy(&line[..line.len().min(40)]);
    format!("{text:?}")
}

/// Parse one reply from the start of `buf`: `Ok(None)` when more bytes are needed, else the
/// reply and how many bytes it took. Anything that is not RESP (memcached's `ERROR`) is an
/// `Err`.
pub fn parse_reply(buf: &[u8]) -> Result<Option<(Reply, usize)>, String> {
    let Some(&kind) = buf.first() else {
        return Ok(None);
    };
    if !matches!(kind, b'+' | b'-' | b':' | b'$') {
        let hint = if buf.starts_with(b"ERROR") {
            " (memcached?)"
        } else {
            ""
        };
        return Err(format!("not a Redis reply: {}{hint}", quote_start(buf)));
    }
    let Some(eol) = buf.windows(2).position(|w| w == b"\r\n") else {
        if buf.len() > 4096 {
            return Err(format!("bad RESP line: {}", quote_start(buf)));
        }
        return Ok(None);
    };
    let line = String::from_utf8_lossy(&buf[1..eol]).into_owned();
    let after = eol + 2;
    let reply = match kind {
        b'+' => Reply::Simple(line),
        b'-' => Reply::Error(line),
        b':' => Reply::Int(
            line.parse()
                .map_err(|_| format!("bad RESP integer: {line:?}"))?,
        ),
        _ => {
            let len: i64 = line
                .parse()
                .map_err(|_| format!("bad RESP bulk length: {line:?}"))?;
            if len < 0 {
                return Ok(Some((Reply::Bulk(None), after)));
            }
            let len = usize::try_from(len).unwrap_or(usize::MAX);
            if len > MAX_REPLY {
                return Err(format!("RESP reply too large: {len} bytes"));
            }
            let end = after + len;
            if buf.len() < end + 2 {
                return Ok(None);
            }
            if &buf[end..end + 2] != b"\r\n" {
                return Err("bad RESP bulk: no CRLF after the data".into());
            }
            return Ok(Some((Reply::Bulk(Some(buf[after..end].to_vec())), end + 2)));
        }
    };
    Ok(Some((reply, after)))
}

/// Every complete reply in `buf`, in order, and whether `buf` held exactly those.
pub fn parse_replies(mut buf: &[u8]) -> Result<(Vec<Reply>, bool), String> {
    let mut out = Vec::new();
    while let Some((r, used)) = parse_reply(buf)? {
        out.push(r);
        buf = &buf[used..];
    }
    Ok((out, buf.is_empty()))
}

/// The `INFO` text of the replies: bulk bodies joined; an error reply is the reason.
pub fn info_text(replies: &[Reply]) -> Result<String, String> {
    let mut text = String::new();
    for r in replies {
        match r {
            Reply::Bulk(Some(b)) => {
                text.push_str(&String::from_utf8_lossy(b));
                text.push('\n');
            }
            Reply::Error(e) => return Err(format!("INFO: {e}")),
            other => return Err(format!("INFO: unexpected reply {other:?}")),
        }
    }
    Ok(text)
}

/// The summary from `INFO` text (any sections, `\r\n` or `\n` lines; unknown fields skipped).
pub fn parse_info(text: &str) -> DsInfo {
    let mut d = DsInfo::default();
    let (mut host, mut port) = (None, None);
    for line in text.lines().map(str::trim) {
        if line.eq_ignore_ascii_case("# keyspace") {
            d.keys.get_or_insert(0);
            continue;
        }
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        match k {
            "used_memory" => d.used_memory = v.parse().ok(),
            "used_memory_human" => d.used_memory_human = Some(v.to_owned()),
            "db0" => {
                d.keys = v
                    .split(',')
                    .find_map(|kv| kv.strip_prefix("keys="))
                    .and_then(|n| n.parse().ok())
            }
            "role" => d.role = Some(v.to_owned()),
            "master_repl_offset" => d.master_repl_offset = v.parse().ok(),
            "slave_repl_offset" => d.slave_repl_offset = v.parse().ok(),
            "master_link_status" => d.master_link_status = Some(v.to_owned()),
            "master_host" => host = Some(v.to_owned()),
            "master_port" => port = Some(v.to_owned()),
            "master_sync_in_progress" => d.syncing = v == "1",
            _ => {}
        }
    }
    if let Some(h) = host {
        d.master = Some(match port {
            Some(p) => format!("{h}:{p}"),
            None => h,
        });
    }
    d
}

fn is_local(host: &str) -> bool {
    matches!(
        host,
        "" | "localhost" | "0.0.0.0" | "::" | "[::]" | "::1" | "[::1]"
    ) || host.starts_with("127.")
}

/// Where to reach a datastore named `ds` (as the node at stats address `stats` names it): a
/// loopback or unspecified datastore host means the node's own host.
pub fn connect_addr(stats: &str, ds: &str) -> String {
    let node_host = stats.rsplit_once(':').map_or("", |(h, _)| h);
    match ds.rsplit_once(':') {
        Some((h, p)) if is_local(h) && !is_local(node_host) => format!("{node_host}:{p}"),
        Some((h, p)) if is_local(h) => format!("127.0.0.1:{p}"),
        _ => ds.to_owned(),
    }
}

/// `timeout after N ms`, else `what: error`.
fn io_reason(what: &str, e: &std::io::Error, timeout: Duration) -> String {
    match e.kind() {
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
            format!("timeout after {} ms", timeout.as_millis())
        }
        _ => format!("{what}: {e}"),
    }
}

/// Connect to `addr` (`host:port`), send [`REQUEST`] and parse the answer; every step within
/// `timeout` overall. The error is a short reason.
pub fn fetch(addr: &str, timeout: Duration) -> Result<DsInfo, String> {
    let deadline = Instant::now() + timeout;
    let sa: SocketAddr = addr
        .to_socket_addrs()
        .map_err(|e| format!("resolve {addr}: {e}"))?
        .next()
        .ok_or_else(|| format!("resolve {addr}: no address"))?;
    let mut sock =
        TcpStream::connect_timeout(&sa, timeout).map_err(|e| io_reason("connect", &e, timeout))?;
    let left = || {
        deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    };
    let timed_out = || format!("timeout after {} ms", timeout.as_millis());
    sock.set_write_timeout(Some(left().ok_or_else(timed_out)?))
        .and_then(|()| sock.write_all(REQUEST))
        .map_err(|e| io_reason("send", &e, timeout))?;
    let mut buf = Vec::with_capacity(8192);
    let mut chunk = [0u8; 8192];
    loop {
        let (replies, _) = parse_replies(&buf)?;
        if replies.len() >= REPLIES {
            return info_text(&replies[..REPLIES]).map(|t| parse_info(&t));
        }
        if buf.len() > MAX_REPLY {
            return Err("INFO reply too large".into());
        }
        let wait = left().ok_or_else(timed_out)?;
        sock.set_read_timeout(Some(wait))
            .map_err(|e| format!("read: {e}"))?;
        match sock.read(&mut chunk) {
            Ok(0) => return Err("connection closed by the datastore".into()),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_reason("read", &e, timeout)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `INFO memory`, `INFO keyspace`, `INFO replication` as redis-server 7.0 answered them
    /// (a master with two keys, and its replica with the link up).
    const MASTER: &[u8] = include_bytes!("../tests-data/redis-info-master.resp");
    const REPLICA: &[u8] = include_bytes!("../tests-data/redis-info-replica.resp");

    fn recorded(bytes: &[u8]) -> DsInfo {
        let (replies, exact) = parse_replies(bytes).unwrap();
        assert!(exact);
        assert_eq!(replies.len(), 3);
        parse_info(&info_text(&replies).unwrap())
    }

    #[test]
    fn parses_a_recorded_master() {
        let d = recorded(MASTER);
        assert_eq!(d.used_memory, Some(941_568));
        assert_eq!(d.used_memory_human.as_deref(), Some("919.50K"));
        assert_eq!(d.keys, Some(2));
        assert_eq!(d.role.as_deref(), Some("master"));
        assert_eq!(d.master_repl_offset, Some(0));
        assert_eq!(
            (d.slave_repl_offset, d.master_link_status, d.master),
            (None, None, None)
        );
        assert!(!d.syncing);
    }

    #[test]
    fn parses_a_recorded_replica() {
        let d = recorded(REPLICA);
        assert_eq!(d.role.as_deref(), Some("slave"));
        assert_eq!(d.master.as_deref(), Some("127.0.0.1:37911"));
        assert_eq!(d.master_link_status.as_deref(), Some("up"));
        assert_eq!(
            (d.slave_repl_offset, d.master_repl_offset),
            (Some(14), Some(14))
        );
        assert_eq!(d.keys, Some(2));
    }

    #[test]
    fn an_empty_keyspace_is_zero_keys_and_a_missing_one_unknown() {
        assert_eq!(parse_info("# Keyspace\r\n").keys, Some(0));
        assert_eq!(parse_info("# Memory\r\nused_memory:1\r\n").keys, None);
        assert_eq!(
            parse_info("db0:keys=12,expires=1,avg_ttl=0\ndb1:keys=5").keys,
            Some(12)
        );
    }

    #[test]
    fn partial_replies_need_more_bytes() {
        for cut in [0, 1, 5, 10, MASTER.len() - 1] {
            let (replies, _) = parse_replies(&MASTER[..cut]).unwrap();
            assert!(replies.len() < 3, "cut at {cut}");
        }
        assert_eq!(parse_reply(b"$5\r\nab").unwrap(), None);
        assert_eq!(
            parse_reply(b"$-1\r\n").unwrap(),
            Some((Reply::Bulk(None), 5))
        );
        assert_eq!(
            parse_reply(b"+OK\r\n:12\r\n").unwrap(),
            Some((Reply::Simple("OK".into()), 5))
        );
    }

    #[test]
    fn non_resp_and_error_replies_are_reasons() {
        let e = parse_reply(b"ERROR\r\nERROR\r\n").unwrap_err();
        assert_eq!(e, "not a Redis reply: \"ERROR\" (memcached?)");
        assert!(parse_reply(b"$x\r\n").is_err());
        assert!(parse_reply(b"$3\r\nabcd\r\n").is_err());
        assert!(parse_reply(b"$99999999999\r\n").is_err());
        let (r, _) = parse_replies(b"-NOAUTH Authentication required.\r\n").unwrap();
        assert_eq!(
            info_text(&r).unwrap_err(),
            "INFO: NOAUTH Authentication required."
        );
    }

    #[test]
    fn loopback_datastores_are_on_the_node_host() {
        assert_eq!(
            connect_addr("127.0.0.1:22222", "127.0.0.1:6379"),
            "127.0.0.1:6379"
        );
        assert_eq!(
            connect_addr("10.0.0.2:22222", "127.0.0.1:6379"),
            "10.0.0.2:6379"
        );
        assert_eq!(
            connect_addr("10.0.0.2:22222", "0.0.0.0:6379"),
            "10.0.0.2:6379"
        );
        assert_eq!(
            connect_addr("localhost:22222", "localhost:6379"),
            "127.0.0.1:6379"
        );
        assert_eq!(
            connect_addr("10.0.0.2:22222", "10.0.0.9:6379"),
            "10.0.0.9:6379"
        );
    }

    #[test]
    fn fetch_from_a_fake_redis_and_a_refusing_port() {
        use std::net::TcpListener;
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let server = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut got = vec![0u8; REQUEST.len()];
            s.read_exact(&mut got).unwrap();
            assert_eq!(got, REQUEST);
            // Dribbled out in small pieces: the client reassembles.
            for piece in REPLICA.chunks(300) {
                s.write_all(piece).unwrap();
                s.flush().unwrap();
            }
        });
        let d = fetch(&addr, Duration::from_secs(5)).unwrap();
        server.join().unwrap();
        assert_eq!(d.keys, Some(2));
        assert_eq!(d.master_link_status.as_deref(), Some("up"));
        let closed = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .to_string();
        let e = fetch(&closed, Duration::from_millis(500)).unwrap_err();
        assert!(e.starts_with("connect: "), "{e}");
    }

    #[test]
    fn a_silent_datastore_times_out() {
        use std::net::TcpListener;
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let t = Instant::now();
        let e = fetch(&addr, Duration::from_millis(200)).unwrap_err();
        assert_eq!(e, "timeout after 200 ms");
        assert!(t.elapsed() < Duration::from_secs(2));
        drop(l);
    }
}
