//! Value formats (SPEC §1.1 setters, §1.3): numbers, listen addresses, the `servers` entry,
//! `dyn_seeds` entries and tokens. Each parser returns the message of the error it finds.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

use super::model::{Listen, Seed, Server};

/// Largest number accepted: Dynomite stores numbers in a C `int`.
pub(crate) const NUM_MAX: u64 = i32::MAX as u64;

/// Why a number was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NumError {
    NotANumber,
    TooLarge,
}

/// Dynomite's `dn_atoi`: decimal digits only, no sign, no spaces; at most [`NUM_MAX`].
pub(crate) fn parse_num(text: &str) -> Result<u64, NumError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NumError::NotANumber);
    }
    match text.parse::<u64>() {
        Ok(n) if n <= NUM_MAX => Ok(n),
        _ => Err(NumError::TooLarge),
    }
}

/// A size in bytes as Redis writes it: decimal digits with an optional unit, `k`/`m`/`g`
/// (powers of 1000) or `kb`/`mb`/`gb` (powers of 1024), any case (`512mb`, `1GB`, `65536`).
pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
    let lower = text.to_ascii_lowercase();
    let digits = lower.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &lower[digits.len()..];
    let mult: u64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1 << 10,
        "m" => 1000 * 1000,
        "mb" => 1 << 20,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1 << 30,
        _ => {
            return Err(format!(
                "\"{text}\" has an unknown unit \"{unit}\"; use bytes or k, kb, m, mb, g, gb"
            ))
        }
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("\"{text}\" is not a size"));
    }
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("\"{text}\" is too large"))
}

/// One token: decimal digits, 0..=4294967295.
fn parse_token(text: &str) -> Result<u32, &'static str> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err("is not a valid token");
    }
    text.parse::<u32>().map_err(|_| "is out of range")
}

/// A comma list of tokens (`tokens:` and the last field of a seed). Spaces around items are
/// allowed.
pub(crate) fn parse_tokens(text: &str) -> Result<Vec<u32>, String> {
    let mut out = Vec::new();
    for item in text.split(',') {
        let item = item.trim();
        match parse_token(item) {
            Ok(t) => out.push(t),
            Err(why) if item == text => {
                return Err(format!(
                    "\"{text}\" {why}; a token is decimal digits 0..4294967295"
                ))
            }
            Err(why) => {
                return Err(format!(
                    "\"{text}\" has a token \"{item}\" that {why}; a token is decimal digits 0..4294967295"
                ))
            }
        }
    }
    Ok(out)
}

/// Resolve `host` (text as written, may be empty or a bracketed IPv6 literal) with `port`:
/// first address, as Dynomite's `getaddrinfo` use. An empty host means all addresses.
pub(crate) fn resolve(host: &str, port: u16) -> Result<SocketAddr, String> {
    if host.is_empty() {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port));
    }
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    let valid_name = bare.len() <= 253
        && bare
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
    if !valid_name {
        return Err(format!(
            "cannot resolve host \"{host}\": not a valid host name"
        ));
    }
    match (bare, port).to_socket_addrs() {
        Ok(mut addrs) => addrs
            .next()
            .ok_or_else(|| format!("cannot resolve host \"{host}\": no address found")),
        Err(e) => Err(format!("cannot resolve host \"{host}\": {e}")),
    }
}

/// A port 1..=65535.
fn parse_port(text: &str) -> Option<u16> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u16>().ok().filter(|p| *p != 0)
}

const FIX_RESOLVE: &str = "use an IP address or a host name that resolves";

/// `listen`-style values (`conf_set_listen`): `host:port` split at the last `:`, or a unix
/// socket path starting with `/`. `example` completes the fix hints.
pub(crate) fn parse_listen(text: &str, example: &str) -> Result<Listen, String> {
    if text.starts_with('/') {
        return Ok(Listen::Unix(PathBuf::from(text)));
    }
    let Some((host, port)) = text.rsplit_once(':') else {
        return Err(format!(
            "\"{text}\" has an invalid \"hostname:port\" format string; expected e.g. {example}"
        ));
    };
    let Some(port) = parse_port(port) else {
        return Err(format!(
            "\"{text}\" has an invalid port in \"hostname:port\" format string; the port must be 1..65535, e.g. {example}"
        ));
    };
    let addr = resolve(host, port)
        .map_err(|why| format!("\"{text}\" has an invalid value: {why}; {FIX_RESOLVE}"))?;
    Ok(Listen::Tcp {
        host: host.to_string(),
        addr,
    })
}

/// Split an optional ` name` off the end of a `servers` / `dyn_seeds` entry.
fn split_name(text: &str) -> (&str, Option<&str>) {
    match text.split_once([' ', '\t']) {
        Some((main, name)) if !name.trim().is_empty() => (main, Some(name.trim())),
        Some((main, _)) => (main, None),
        None => (text, None),
    }
}

const SERVER_FORMAT: &str = "has an invalid \"hostname:port:weight [name]\" or \"/path/unix_socket:weight [name]\" format string; expected e.g. \"- 127.0.0.1:6379:1\"";

/// The `servers` entry (`conf_add_server`): `host:port:weight [name]` or
/// `/path.sock:weight [name]`, parsed from the right.
pub(crate) fn parse_server(text: &str) -> Result<Server, String> {
    let bad_format = || format!("\"{text}\" {SERVER_FORMAT}");
    let (main, name) = split_name(text);
    if main.starts_with('/') {
        let (path, weight) = main.rsplit_once(':').ok_or_else(bad_format)?;
        let weight = parse_num(weight).map_err(|_| bad_format())?;
        if path.len() < 2 {
            return Err(bad_format());
        }
        return Ok(Server {
            host: path.to_string(),
            port: 0,
            addr: None,
            unix: Some(PathBuf::from(path)),
            weight: weight as u32,
            name: name.unwrap_or(path).to_string(),
        });
    }
    let mut parts = main.rsplitn(3, ':');
    let (Some(weight), Some(port), Some(host)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad_format());
    };
    let weight = parse_num(weight).map_err(|_| bad_format())?;
    if host.is_empty() {
        return Err(bad_format());
    }
    let Some(port_n) = parse_port(port) else {
        return Err(format!(
            "\"{text}\" has an invalid port in \"hostname:port:weight [name]\" format string; the port must be 1..65535, e.g. \"- 127.0.0.1:6379:1\""
        ));
    };
    let addr = resolve(host, port_n)
        .map_err(|why| format!("\"{text}\" has an invalid value: {why}; {FIX_RESOLVE}"))?;
    let name = match name {
        Some(n) => n.to_string(),
        None if port_n == 11211 => host.to_string(),
        None => format!("{host}:{port}"),
    };
    Ok(Server {
        host: host.to_string(),
        port: port_n,
        addr: Some(addr),
        unix: None,
        weight: weight as u32,
        name,
    })
}

const SEED_FORMAT: &str = "has an invalid format must match \"hostname:port:rack:dc:tokens [name]\"; expected e.g. \"- 127.0.0.2:8101:rack1:dc1:1383429731\"";

/// A `dyn_seeds` entry (`conf_add_dyn_server`): `host:port:rack:dc:tokens [name]`, five fields
/// split from the right. The optional name is ignored; the seed's name is its host.
pub(crate) fn parse_seed(text: &str) -> Result<Seed, String> {
    let bad_format = || format!("\"{text}\" {SEED_FORMAT}");
    let (main, _name) = split_name(text);
    let Some((host, port, rack, dc, tokens)) = crate::peer::split_seed(main) else {
        return Err(bad_format());
    };
    if host.is_empty() || rack.is_empty() || dc.is_empty() || tokens.is_empty() {
        return Err(bad_format());
    }
    let Some(port_n) = parse_port(port) else {
        return Err(format!(
            "\"{text}\" has an invalid port \"{port}\"; the port must be 1..65535, e.g. \"- 127.0.0.2:8101:rack1:dc1:1383429731\""
        ));
    };
    let tokens = parse_tokens(tokens).map_err(|why| format!("\"{text}\": {why}"))?;
    let addr = resolve(host, port_n)
        .map_err(|why| format!("\"{text}\" has an invalid value: {why}; {FIX_RESOLVE}"))?;
    Ok(Seed {
        host: host.to_string(),
        port: port_n,
        rack: rack.to_string(),
        dc: dc.to_string(),
        tokens,
        addr,
        name: host.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_num("5000"), Ok(5000));
        assert_eq!(parse_num("007"), Ok(7));
        assert_eq!(parse_num("0"), Ok(0));
        assert_eq!(parse_num("2147483647"), Ok(2147483647));
        assert_eq!(parse_num("2147483648"), Err(NumError::TooLarge));
        assert_eq!(
            parse_num("99999999999999999999999"),
            Err(NumError::TooLarge)
        );
        for bad in ["", "-1", "+1", "1.5", "0x10", "1_000", " 1", "abc", "１"] {
            assert_eq!(parse_num(bad), Err(NumError::NotANumber), "{bad:?}");
        }
    }

    #[test]
    fn tokens() {
        assert_eq!(parse_tokens("101134286"), Ok(vec![101134286]));
        assert_eq!(parse_tokens("0"), Ok(vec![0]));
        assert_eq!(parse_tokens("4294967295"), Ok(vec![u32::MAX]));
        assert_eq!(parse_tokens("1, 2,3"), Ok(vec![1, 2, 3]));
        assert_eq!(
            parse_tokens("4294967296").unwrap_err(),
            "\"4294967296\" is out of range; a token is decimal digits 0..4294967295"
        );
        assert_eq!(
            parse_tokens("-5").unwrap_err(),
            "\"-5\" is not a valid token; a token is decimal digits 0..4294967295"
        );
        assert_eq!(
            parse_tokens("1,x").unwrap_err(),
            "\"1,x\" has a token \"x\" that is not a valid token; a token is decimal digits 0..4294967295"
        );
        assert!(parse_tokens("1,").is_err());
    }

    #[test]
    fn listen_forms() {
        let ex = "listen: 127.0.0.1:8102";
        match parse_listen("127.0.0.1:8102", ex) {
            Ok(Listen::Tcp { host, addr }) => {
                assert_eq!(host, "127.0.0.1");
                assert_eq!(addr, "127.0.0.1:8102".parse().unwrap());
            }
            other => panic!("{other:?}"),
        }
        match parse_listen(":8101", ex) {
            Ok(Listen::Tcp { host, addr }) => {
                assert_eq!(host, "");
                assert_eq!(addr, "0.0.0.0:8101".parse().unwrap());
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(parse_listen("[::1]:8102", ex), Ok(Listen::Tcp { addr, .. }) if addr.is_ipv6())
        );
        assert!(
            matches!(parse_listen("localhost:8102", ex), Ok(Listen::Tcp { addr, .. }) if addr.ip().is_loopback())
        );
        assert_eq!(
            parse_listen("/tmp/d.sock", ex),
            Ok(Listen::Unix(PathBuf::from("/tmp/d.sock")))
        );
        assert_eq!(
            parse_listen("8102", ex).unwrap_err(),
            "\"8102\" has an invalid \"hostname:port\" format string; expected e.g. listen: 127.0.0.1:8102"
        );
        for bad in ["1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:", "1.2.3.4:x"] {
            assert!(
                parse_listen(bad, ex)
                    .unwrap_err()
                    .contains("has an invalid port"),
                "{bad}"
            );
        }
        assert_eq!(
            parse_listen("a b:8102", ex).unwrap_err(),
            "\"a b:8102\" has an invalid value: cannot resolve host \"a b\": not a valid host name; use an IP address or a host name that resolves"
        );
        assert!(parse_listen("1.2.3.4:5:8102", ex)
            .unwrap_err()
            .contains("not a valid host name"));
        let e = parse_listen("no-such-host.invalid:8102", ex).unwrap_err();
        assert!(
            e.starts_with("\"no-such-host.invalid:8102\" has an invalid value: cannot resolve host \"no-such-host.invalid\""),
            "{e}"
        );
    }

    #[test]
    fn servers() {
        let s = parse_server("127.0.0.1:22122:1").unwrap();
        assert_eq!((s.host.as_str(), s.port, s.weight), ("127.0.0.1", 22122, 1));
        assert_eq!(s.name, "127.0.0.1:22122");
        assert_eq!(s.addr, Some("127.0.0.1:22122".parse().unwrap()));
        assert_eq!(parse_server("127.0.0.1:11211:1").unwrap().name, "127.0.0.1");
        assert_eq!(
            parse_server("127.0.0.1:6379:1 redis-a").unwrap().name,
            "redis-a"
        );
        let u = parse_server("/var/run/redis.sock:1").unwrap();
        assert_eq!(u.unix, Some(PathBuf::from("/var/run/redis.sock")));
        assert_eq!(
            (u.port, u.addr, u.name.as_str()),
            (0, None, "/var/run/redis.sock")
        );
        for bad in [
            "127.0.0.1:6379",
            "127.0.0.1",
            ":6379:1",
            "127.0.0.1:6379:x",
            "/x.sock",
        ] {
            let e = parse_server(bad).unwrap_err();
            assert!(e.contains("format string"), "{bad}: {e}");
        }
        assert!(parse_server("127.0.0.1:0:1")
            .unwrap_err()
            .contains("invalid port"));
    }

    #[test]
    fn seeds() {
        let s = parse_seed("127.0.0.2:8101:rack2:dc1:1383429731").unwrap();
        assert_eq!(s.host, "127.0.0.2");
        assert_eq!(s.name, "127.0.0.2");
        assert_eq!(
            (s.port, s.rack.as_str(), s.dc.as_str()),
            (8101, "rack2", "dc1")
        );
        assert_eq!(s.tokens, vec![1383429731]);
        assert_eq!(s.addr, "127.0.0.2:8101".parse().unwrap());
        let s = parse_seed("127.0.0.2:8101:r:d:1,2 peer-b").unwrap();
        assert_eq!(
            (s.tokens.clone(), s.name.as_str()),
            (vec![1, 2], "127.0.0.2")
        );
        for bad in [
            "127.0.0.2:8101:rack:dc",
            "127.0.0.2:8101::dc:1",
            ":8101:r:d:1",
        ] {
            assert!(
                parse_seed(bad)
                    .unwrap_err()
                    .contains("has an invalid format must match"),
                "{bad}"
            );
        }
        assert!(parse_seed("127.0.0.2:0:r:d:1")
            .unwrap_err()
            .contains("invalid port"));
        assert!(parse_seed("127.0.0.2:8101:r:d:x")
            .unwrap_err()
            .contains("not a valid token"));
    }
}
