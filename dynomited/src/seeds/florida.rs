//! dynomite-manager ("Florida") as a seed provider: its address and request from the
//! environment, and the HTTP/1.x response parser that takes the seed-list text out of its
//! body. Pure: the request is sent and the response read by `fetcher.rs`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::{env_value, Source};

/// Florida's default address and request (Dynomite's `FLORIDA_IP`, `FLORIDA_PORT`,
/// `FLORIDA_REQUEST`).
pub const FLORIDA_IP: Ipv4Addr = Ipv4Addr::LOCALHOST;
pub const FLORIDA_PORT: u16 = 8080;
pub const FLORIDA_REQUEST: &str =
    "GET /REST/v1/admin/get_seeds HTTP/1.0\r\nHost: 127.0.0.1\r\nUser-Agent: HTMLGET 1.0\r\n\r\n";
/// The largest Florida response read.
pub const FLORIDA_MAX_RESPONSE: usize = 1 << 20;

const NO_FLORIDA_SEEDS: &str = "No seeds were found in Florida response";

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
}

/// The seed-list text of a complete body: UTF-8, trimmed, not empty.
pub(crate) fn finish_body(body: Vec<u8>) -> Result<String, String> {
    let text = String::from_utf8(body).map_err(|_| "the body is not UTF-8 text".to_string())?;
    let text = text.trim();
    if text.is_empty() {
        return Err(NO_FLORIDA_SEEDS.into());
    }
    Ok(text.to_string())
}

pub(super) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The body of a complete HTTP response, `None` while more bytes are needed (`eof`: no more
/// will come, so a body without a length ends here).
pub(crate) fn http_body(buf: &[u8], eof: bool) -> Result<Option<Vec<u8>>, String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seeds::env_of;

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

    // ---- the response parser alone, without sockets ----

    #[test]
    fn every_prefix_of_a_response_needs_more_bytes() {
        let responses: [&[u8]; 3] = [
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nseeds",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nse\r\n3;x\r\neds\r\n0\r\n\r\n",
            b"HTTP/1.0 200 OK\r\ncontent-length:5\r\n\r\nseedsEXTRA",
        ];
        for r in responses {
            for cut in 0..r.len() {
                if let Ok(Some(body)) = http_body(&r[..cut], false) {
                    assert_eq!(
                        body,
                        b"seeds",
                        "cut at {cut} of {:?}",
                        String::from_utf8_lossy(r)
                    );
                    assert!(cut >= r.len() - 5, "complete too early, at {cut}");
                } else {
                    assert_eq!(http_body(&r[..cut], false), Ok(None), "cut at {cut}");
                }
            }
            assert_eq!(http_body(r, false), Ok(Some(b"seeds".to_vec())));
            assert_eq!(http_body(r, true), Ok(Some(b"seeds".to_vec())));
        }
    }

    #[test]
    fn the_end_of_the_stream_ends_a_body_without_a_length() {
        let r = b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\na|b\n";
        assert_eq!(http_body(r, false), Ok(None));
        assert_eq!(http_body(r, true), Ok(Some(b"a|b\n".to_vec())));
        let errors: [(&[u8], bool, &str); 4] = [
            (
                b"HTTP/1.0 200 OK\r\nContent-Length: 9\r\n\r\nabc",
                true,
                "body ended after 3 of 9 bytes",
            ),
            (
                b"HTTP/1.0 200 OK\r\nServer",
                true,
                "response ended inside the headers",
            ),
            (
                b"HTTP/1.0 200 OK\r\nContent-Length: x\r\n\r\n",
                false,
                "bad Content-Length \"x\"",
            ),
            (
                b"HTTP/2 200\r\n",
                false,
                "HTTP status is not 200: \"HTTP/2 200\"",
            ),
        ];
        for (response, eof, error) in errors {
            assert_eq!(http_body(response, eof), Err(error.to_string()));
        }
        assert!(http_body(b"HTTP/1.1 20", true)
            .unwrap_err()
            .contains("not 200"));
    }

    #[test]
    fn bodies_become_seed_text() {
        assert_eq!(finish_body(b" a|b \r\n".to_vec()), Ok("a|b".into()));
        assert_eq!(finish_body(b"\n".to_vec()), Err(NO_FLORIDA_SEEDS.into()));
        assert_eq!(
            finish_body(vec![0xFF]),
            Err("the body is not UTF-8 text".into())
        );
        assert_eq!(
            dechunk(b"3\r\nabcX\r\n", false),
            Err("chunk not followed by CRLF".into())
        );
    }
}
