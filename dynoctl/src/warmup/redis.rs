//! The warm-up's redis-servers (the node's own and the candidates'): their `HOST:PORT`
//! addresses, one connection with the warm-up's messages, and the `INFO` fields it reads.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use dynomite::client::{self, parse_info, Connection, Reply};

use crate::output::CliError;

/// Connect timeout and read/write timeout of datastore connections.
const REDIS_TIMEOUT: Duration = Duration::from_secs(5);

/// `INFO` as a map of its `key:value` lines.
pub type Info = BTreeMap<String, String>;

/// One connection to a redis-server, with the warm-up's messages.
pub struct Redis {
    conn: Connection,
}

impl Redis {
    pub fn connect(addr: &str) -> Result<Redis, client::Error> {
        Connection::connect(addr, REDIS_TIMEOUT).map(|conn| Redis { conn })
    }

    /// Connect, and AUTH when a password is given (a password in the config of a datastore
    /// that has none is not an error).
    pub fn open(addr: &str, password: Option<&str>) -> Result<Redis, String> {
        let mut r = Redis::connect(addr).map_err(|e| e.to_string())?;
        if let Some(p) = password {
            r.conn.auth(p).map_err(|e| match e {
                client::Error::Refused(Reply::Error(e)) => {
                    format!("{addr} answered AUTH with -{e}")
                }
                client::Error::Refused(other) => format!("{addr} answered AUTH with {other:?}"),
                e => format!("{addr} (AUTH): {e}"),
            })?;
        }
        Ok(r)
    }

    /// The address it was connected to.
    pub fn addr(&self) -> &str {
        self.conn.addr()
    }

    pub fn call(&mut self, args: &[&str]) -> Result<Reply, client::Error> {
        self.conn.call(args)
    }

    /// A command whose reply must not be an error: its status or bulk text.
    pub fn ok(&mut self, args: &[&str]) -> Result<String, String> {
        let shown = if args.first().is_some_and(|a| a.eq_ignore_ascii_case("auth")) {
            "AUTH ...".to_string()
        } else {
            args.join(" ")
        };
        let reply = self.conn.call(args);
        let addr = self.conn.addr();
        match reply {
            Ok(Reply::Error(e)) => Err(format!("{addr} answered {shown} with -{e}")),
            Ok(Reply::Simple(s)) => Ok(s),
            Ok(Reply::Bulk(Some(b))) => Ok(String::from_utf8_lossy(&b).into_owned()),
            Ok(Reply::Int(n)) => Ok(n.to_string()),
            Ok(other) => Ok(format!("{other:?}")),
            Err(e) => Err(format!("{addr} ({shown}): {e}")),
        }
    }

    /// `INFO [section]` as a map of its `key:value` lines.
    pub fn info(&mut self, section: Option<&str>) -> Result<Info, String> {
        let text = match section {
            Some(s) => self.ok(&["INFO", s])?,
            None => self.ok(&["INFO"])?,
        };
        Ok(parse_info(&text))
    }
}

/// A numeric `INFO` field.
pub fn num(info: &Info, key: &str) -> Option<u64> {
    info.get(key).and_then(|v| v.trim().parse().ok())
}

/// The keys of every database (`db0:keys=12,expires=0,avg_ttl=0`).
pub fn keys_of(info: &Info) -> u64 {
    info.iter()
        .filter(|(k, _)| k.starts_with("db") && k[2..].chars().all(|c| c.is_ascii_digit()))
        .filter_map(|(_, v)| {
            v.split(',')
                .find_map(|f| f.strip_prefix("keys="))
                .and_then(|n| n.parse::<u64>().ok())
        })
        .sum()
}

/// The `role` field (`master`, `slave`), `?` when missing.
pub fn role(info: &Info) -> &str {
    info.get("role").map_or("?", String::as_str)
}

/// A replica's `master_host:master_port` as `INFO` reports it (empty parts when missing).
pub fn master_of(info: &Info) -> String {
    format!(
        "{}:{}",
        info.get("master_host").map_or("", String::as_str),
        info.get("master_port").map_or("", String::as_str)
    )
}

/// `host:port` of a datastore argument.
pub fn datastore_addr(arg: &str, what: &str) -> Result<String, CliError> {
    let a = arg.trim();
    match a.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0) => Ok(a.to_string()),
        _ => Err(CliError::new(format!(
            "bad {what} \"{arg}\": want HOST:PORT"
        ))),
    }
}

/// Host and port of `host:port` (brackets of an IPv6 host removed).
pub fn split_addr(addr: &str) -> (String, String) {
    let (h, p) = addr.rsplit_once(':').unwrap_or((addr, ""));
    (
        h.trim_start_matches('[').trim_end_matches(']').to_string(),
        p.to_string(),
    )
}

/// A host of this machine: unspecified, `localhost` or a loopback address.
pub fn is_local(host: &str) -> bool {
    matches!(host, "" | "0.0.0.0" | "::" | "[::]" | "localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A listen host to connect to: an unspecified host means this machine.
pub fn connect_host(host: &str) -> &str {
    match host {
        "" | "0.0.0.0" | "::" | "[::]" => "127.0.0.1",
        h => h,
    }
}

/// Two `host:port` datastores are the same (loopback spellings are equal).
pub fn same_datastore(a: &str, b: &str) -> bool {
    let (ah, ap) = split_addr(a);
    let (bh, bp) = split_addr(b);
    ap == bp && (ah == bh || (is_local(&ah) && is_local(&bh)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_and_keys() {
        let i = parse_info(
            "# Replication\r\nrole:slave\r\nmaster_link_status:up\r\nslave_repl_offset:42\r\n\r\n# Keyspace\r\ndb0:keys=2000,expires=0,avg_ttl=0\r\ndb3:keys=5,expires=1,avg_ttl=9\r\n",
        );
        assert_eq!(i["role"], "slave");
        assert_eq!(num(&i, "slave_repl_offset"), Some(42));
        assert_eq!(keys_of(&i), 2005);
        assert_eq!(keys_of(&parse_info("# Keyspace\r\n")), 0);
    }

    #[test]
    fn addresses() {
        assert!(same_datastore("127.0.0.1:6379", "localhost:6379"));
        assert!(!same_datastore("127.0.0.1:6379", "127.0.0.1:6380"));
        assert!(!same_datastore("10.0.0.1:6379", "10.0.0.2:6379"));
        assert_eq!(split_addr("[::1]:6379"), ("::1".into(), "6379".into()));
        assert!(datastore_addr("h:0", "x").is_err());
        assert!(datastore_addr("h", "x").is_err());
        assert_eq!(datastore_addr(" h:1 ", "x").unwrap(), "h:1");
    }

    #[test]
    fn a_replicas_master() {
        let i = parse_info("role:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:7001\r\n");
        assert_eq!(
            (role(&i), master_of(&i).as_str()),
            ("slave", "127.0.0.1:7001")
        );
        assert!(same_datastore(&master_of(&i), "localhost:7001"));
        let m = parse_info("role:master\r\n");
        assert_eq!(master_of(&m), ":");
        assert!(!same_datastore(&master_of(&m), "127.0.0.1:7001"));
        assert_eq!(role(&parse_info("")), "?");
        assert_eq!(connect_host("0.0.0.0"), "127.0.0.1");
        assert_eq!(connect_host("10.0.0.1"), "10.0.0.1");
        assert!(is_local("::1") && is_local("127.0.0.2") && !is_local("10.0.0.1"));
    }
}
