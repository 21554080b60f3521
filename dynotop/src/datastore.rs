//! The datastore's own `INFO`, fetched with [`dynomite::client`], and the summary parsed from its
//! text.
//!
//! A node's `/info` names its datastore (the one object inside the pool object is keyed by the
//! datastore's `host:port`). Each poll round, after a node's `/info`, the fetcher connects
//! there with the same timeout and sends, pipelined,
//!
//! ```text
//! INFO memory   INFO keyspace   INFO replication
//! ```
//!
//! and reads three bulk replies. The RESP framing is [`dynomite::client`]'s; [`parse_info`] (the
//! `field:value` text) is pure, and only [`fetch`] does I/O. A memcached datastore answers
//! `ERROR`, which is not RESP: the exchange fails with a reason, shown as
//! `datastore INFO unavailable: <reason>`, and nothing else on the node is affected.

use std::time::{Duration, Instant};

use dynomite::client::{self, Connection};

pub use dynomite::client::Reply;

/// The three commands.
const COMMANDS: [[&str; 2]; 3] = [
    ["INFO", "memory"],
    ["INFO", "keyspace"],
    ["INFO", "replication"],
];

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

/// Every complete reply in `buf`, in order, and whether `buf` held exactly those.
pub fn parse_replies(mut buf: &[u8]) -> Result<(Vec<Reply>, bool), String> {
    let mut out = Vec::new();
    while let Some((r, used)) = client::parse_reply(buf, MAX_REPLY).map_err(|e| e.to_string())? {
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
    let f = client::parse_info(text);
    let text_of = |k: &str| f.get(k).cloned();
    let keyspace = text
        .lines()
        .any(|l| l.trim().eq_ignore_ascii_case("# keyspace"));
    DsInfo {
        used_memory: f.get("used_memory").and_then(|v| v.parse().ok()),
        used_memory_human: text_of("used_memory_human"),
        keys: match f.get("db0") {
            Some(v) => v
                .split(',')
                .find_map(|kv| kv.strip_prefix("keys="))
                .and_then(|n| n.parse().ok()),
            None => keyspace.then_some(0),
        },
        role: text_of("role"),
        master_repl_offset: f.get("master_repl_offset").and_then(|v| v.parse().ok()),
        slave_repl_offset: f.get("slave_repl_offset").and_then(|v| v.parse().ok()),
        master_link_status: text_of("master_link_status"),
        master: text_of("master_host").map(|h| match f.get("master_port") {
            Some(p) => format!("{h}:{p}"),
            None => h,
        }),
        syncing: f.get("master_sync_in_progress").is_some_and(|v| v == "1"),
    }
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

/// The reason for a failed exchange: `timeout after N ms`, else what failed and why.
fn reason(e: client::Error, timeout: Duration) -> String {
    match e {
        client::Error::Resolve {
            addr,
            error: Some(e),
        } => format!("resolve {addr}: {e}"),
        client::Error::Resolve { addr, error: None } => format!("resolve {addr}: no address"),
        client::Error::Connect(e) => io_reason("connect", &e, timeout),
        client::Error::Write(e) => io_reason("send", &e, timeout),
        client::Error::Read(e) => io_reason("read", &e, timeout),
        client::Error::Closed => "connection closed by the datastore".into(),
        client::Error::Protocol(p) => p.to_string(),
        e => e.to_string(),
    }
}

/// Connect to `addr` (`host:port`), send the three `INFO` commands pipelined and parse the
/// answer; every step within `timeout` overall. The error is a short reason.
pub fn fetch(addr: &str, timeout: Duration) -> Result<DsInfo, String> {
    let deadline = Instant::now() + timeout;
    let mut conn = Connection::connect_until(addr, deadline).map_err(|e| reason(e, timeout))?;
    conn.set_max_reply(MAX_REPLY);
    let replies = conn.pipeline(&COMMANDS).map_err(|e| reason(e, timeout))?;
    info_text(&replies).map(|t| parse_info(&t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// The three commands, as RESP arrays.
    const REQUEST: &[u8] = b"*2\r\n$4\r\nINFO\r\n$6\r\nmemory\r\n\
*2\r\n$4\r\nINFO\r\n$8\r\nkeyspace\r\n\
*2\r\n$4\r\nINFO\r\n$11\r\nreplication\r\n";

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

    /// The framing itself is tested in `dynomite::client`.
    #[test]
    fn partial_replies_need_more_bytes() {
        for cut in [0, 1, 5, 10, MASTER.len() - 1] {
            let (replies, exact) = parse_replies(&MASTER[..cut]).unwrap();
            assert!(replies.len() < 3, "cut at {cut}");
            assert_eq!(exact, cut == 0, "cut at {cut}");
        }
        assert_eq!(
            parse_replies(b"$-1\r\n+OK\r\n:12\r\n$5\r\nab").unwrap(),
            (
                vec![
                    Reply::Bulk(None),
                    Reply::Simple("OK".into()),
                    Reply::Int(12)
                ],
                false
            )
        );
    }

    #[test]
    fn non_resp_and_error_replies_are_reasons() {
        let e = parse_replies(b"ERROR\r\nERROR\r\n").unwrap_err();
        assert_eq!(e, "not a Redis reply: \"ERROR\" (memcached?)");
        assert!(parse_replies(b"$x\r\n").is_err());
        assert!(parse_replies(b"$3\r\nabcd\r\n").is_err());
        assert!(parse_replies(b"$99999999999\r\n").is_err());
        let big = format!("${}\r\n", MAX_REPLY + 1);
        assert_eq!(
            parse_replies(big.as_bytes()).unwrap_err(),
            "RESP reply too large: 1048577 bytes"
        );
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
