//! Tests of the admin HTTP protocol: parsing split at every byte, the route table, replies.

use super::*;

fn request(method: Method, path: &str, consumed: usize) -> HttpParse<'_> {
    HttpParse::Request {
        method,
        path,
        consumed,
        authorization: None,
    }
}

/// Every proper prefix is `Incomplete`, the whole request gives `expected`.
fn check_split(req: &[u8], expected: HttpParse<'_>) {
    for k in 0..req.len() {
        assert_eq!(
            parse_request(&req[..k]),
            HttpParse::Incomplete,
            "prefix of {k} bytes of {:?}",
            String::from_utf8_lossy(req)
        );
    }
    assert_eq!(parse_request(req), expected);
}

#[test]
fn curl_get_split_at_every_byte() {
    let req = b"GET /info HTTP/1.1\r\nHost: localhost:22222\r\nUser-Agent: curl/8.5.0\r\n\
                Accept: */*\r\n\r\n";
    check_split(req, request(Method::Get, "/info", req.len()));
}

#[test]
fn post_with_body_split_at_every_byte() {
    let req = b"POST /state/normal HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
    check_split(req, request(Method::Post, "/state/normal", req.len()));
}

#[test]
fn bare_lf_and_query_string() {
    let req = b"GET /info?pretty=1#frag HTTP/1.0\n\n";
    check_split(req, request(Method::Get, "/info", req.len()));
    let req = b"GET\t/ping \t HTTP/1.1\r\n\n";
    check_split(req, request(Method::Get, "/ping", req.len()));
}

#[test]
fn pipelined_bytes_are_not_consumed() {
    let one = b"GET /ping HTTP/1.1\r\n\r\n";
    let mut two = one.to_vec();
    two.extend_from_slice(b"GET /info HTTP/1.1\r\n\r\n");
    assert_eq!(
        parse_request(&two),
        request(Method::Get, "/ping", one.len())
    );
}

#[test]
fn other_methods_are_parsed() {
    let req = b"DELETE /peer/down/x HTTP/1.1\r\n\r\n";
    assert_eq!(
        parse_request(req),
        request(Method::Other, "/peer/down/x", req.len())
    );
    let req = b"get /info HTTP/1.1\r\n\r\n";
    assert_eq!(
        parse_request(req),
        request(Method::Other, "/info", req.len())
    );
}

#[test]
fn bad_requests() {
    for bad in [
        &b"GET /info\r\n\r\n"[..],
        b"GET /info HTTP/2.0\r\n\r\n",
        b"GET /info HTTP/1.1 extra\r\n\r\n",
        b"GET\r\n\r\n",
        b"\r\n\r\n",
        b"GET /info HTTP/1.1\r\nno colon here\r\n\r\n",
        b"GET /info HTTP/1.1\r\nBad Name: x\r\n\r\n",
        b"GET /info HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        b"GET /info HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        b"GET /info HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"GET /info HTTP/1.1\r\nContent-Length: 9000\r\n\r\n",
        b"GET /in\rfo HTTP/1.1\r\n\r\n",
        b"GET /\xff HTTP/1.1\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01",
        b"GET /info HTTP/1.1\r\nX: \x00\r\n",
    ] {
        assert_eq!(
            parse_request(bad),
            HttpParse::Bad,
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
    // Same Content-Length twice is fine.
    let req = b"POST /ping HTTP/1.1\r\ncontent-length: 2\r\nContent-Length:2\r\n\r\nok";
    assert_eq!(
        parse_request(req),
        request(Method::Post, "/ping", req.len())
    );
}

#[test]
fn size_limit() {
    let mut req = b"GET /info HTTP/1.1\r\n".to_vec();
    while req.len() < MAX_REQUEST {
        req.extend_from_slice(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
    }
    assert_eq!(parse_request(&req), HttpParse::Bad);
    assert_eq!(
        parse_request(&req[..MAX_REQUEST - 1]),
        HttpParse::Incomplete
    );
    let mut long = b"GET /".to_vec();
    long.resize(MAX_REQUEST + 10, b'a');
    assert_eq!(parse_request(&long), HttpParse::Bad);
    // Exactly MAX_REQUEST bytes is accepted.
    let mut exact = b"GET /info HTTP/1.1\r\nX: ".to_vec();
    exact.resize(MAX_REQUEST - 4, b'a');
    exact.extend_from_slice(b"\r\n\r\n");
    assert_eq!(
        parse_request(&exact),
        request(Method::Get, "/info", MAX_REQUEST)
    );
}

#[test]
fn at_eof_a_request_line_is_enough() {
    assert_eq!(
        parse_request_at_eof(b"GET /info HTTP/1.0\n"),
        request(Method::Get, "/info", 19)
    );
    assert_eq!(
        parse_request_at_eof(b"GET /ping HTTP/1.1"),
        request(Method::Get, "/ping", 18)
    );
    assert_eq!(
        parse_request_at_eof(b"POST /ping HTTP/1.1\r\nContent-Length: 10\r\n\r\nab"),
        request(Method::Post, "/ping", 45)
    );
    assert_eq!(parse_request_at_eof(b""), HttpParse::Bad);
    assert_eq!(parse_request_at_eof(b"GET /info"), HttpParse::Bad);
    // Complete requests parse the same either way.
    let req = b"GET /info HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_eq!(parse_request_at_eof(req), parse_request(req));
}

#[test]
fn no_panic_on_any_short_input() {
    // Every 1- and 2-byte input, and mutations of a real request.
    for a in 0..=255u8 {
        let _ = parse_request(&[a]);
        let _ = parse_request_at_eof(&[a]);
        for b in 0..=255u8 {
            let _ = parse_request(&[a, b]);
        }
    }
    let base = b"POST /set_consistency/read/dc_one HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
    for i in 0..base.len() {
        for v in [0u8, b'\r', b'\n', b' ', b':', b'9', 0xff] {
            let mut m = base.to_vec();
            m[i] = v;
            if let HttpParse::Request { consumed, .. } = parse_request(&m) {
                assert!(consumed <= m.len());
            }
            let _ = parse_request_at_eof(&m);
        }
    }
}

#[test]
fn route_table() {
    use crate::types::{Consistency as C, NodeState as S};
    let peer = |verb, name: &str| Admin::Peer {
        verb,
        name: name.to_string(),
    };
    let set_c = |write, level| Admin::SetConsistency { write, level };
    let table: Vec<(&str, Admin)> = vec![
        ("/", Admin::Info),
        ("/info", Admin::Info),
        ("/info/", Admin::Unknown),
        ("/INFO", Admin::Unknown),
        ("/metrics", Admin::Metrics),
        ("/help", Admin::Help),
        ("/ping", Admin::Ping),
        ("/health", Admin::Health),
        ("/ready", Admin::Ready),
        ("/ready/", Admin::Unknown),
        ("/healthz", Admin::Unknown),
        ("/cluster_describe", Admin::ClusterDescribe),
        ("/describe", Admin::Unknown),
        ("/setloglevel/7", Admin::SetLogLevel(7)),
        ("/setloglevel/ 3abc", Admin::SetLogLevel(3)),
        ("/setloglevel/99", Admin::SetLogLevel(11)),
        ("/setloglevel/-4", Admin::SetLogLevel(0)),
        ("/setloglevel/x", Admin::Unknown),
        ("/setloglevel", Admin::Unknown),
        ("/setloglevel7", Admin::Unknown),
        ("/loglevelup", Admin::LogLevelUp),
        ("/logleveldown", Admin::LogLevelDown),
        ("/historeset", Admin::HistoReset),
        ("/get_consistency", Admin::GetConsistency),
        ("/set_consistency/read/dc_one", set_c(false, Some(C::DcOne))),
        (
            "/set_consistency/read/DC_QUORUM",
            set_c(false, Some(C::DcQuorum)),
        ),
        (
            "/set_consistency/write/dc_safe_quorum",
            set_c(true, Some(C::DcSafeQuorum)),
        ),
        (
            "/set_consistency/write/Dc_Safe_QuorumXYZ",
            set_c(true, Some(C::DcSafeQuorum)),
        ),
        (
            "/set_consistency/write/dc_each_safe_quorum",
            set_c(true, Some(C::DcEachSafeQuorum)),
        ),
        ("/set_consistency/read/dc_o", set_c(false, None)),
        ("/set_consistency/read/", set_c(false, None)),
        ("/set_consistency/read", set_c(false, None)),
        ("/set_consistency/readx/dc_one", set_c(false, None)),
        ("/set_consistency/other/dc_one", Admin::Unknown),
        ("/set_consistency", Admin::Unknown),
        ("/get_timeout_factor", Admin::GetTimeoutFactor),
        ("/set_timeout_factor/4", Admin::SetTimeoutFactor(4)),
        ("/set_timeout_factor/0", Admin::SetTimeoutFactor(1)),
        (
            "/set_timeout_factor/99999999999999999999",
            Admin::SetTimeoutFactor(10),
        ),
        ("/set_timeout_factor/", Admin::Unknown),
        ("/set_timeout_factor", Admin::Unknown),
        ("/peer/down/10.0.0.2", peer(PeerVerb::Down, "10.0.0.2")),
        ("/peer/up/host-b", peer(PeerVerb::Up, "host-b")),
        ("/peer/reset/all", peer(PeerVerb::Reset, "all")),
        ("/peer/up", peer(PeerVerb::Up, "")),
        ("/peer/upx/a", Admin::Unknown),
        ("/peer/sideways/a", Admin::Unknown),
        ("/peer", Admin::Unknown),
        ("/read_repairs/enable", Admin::ReadRepairs(Some(true))),
        ("/read_repairs/disable", Admin::ReadRepairs(Some(false))),
        ("/read_repairs/maybe", Admin::ReadRepairs(None)),
        ("/read_repairs", Admin::ReadRepairs(None)),
        ("/state/standby", Admin::SetState(S::Standby)),
        ("/state/writes_only", Admin::SetState(S::WritesOnly)),
        ("/state/resuming", Admin::SetState(S::Resuming)),
        ("/state/normal", Admin::SetState(S::Normal)),
        ("/state/get_state", Admin::GetState),
        ("/state/NORMAL", Admin::Unknown),
        ("/state/normal/", Admin::Unknown),
        ("/state", Admin::Unknown),
        ("/standby", Admin::Unknown),
        ("", Admin::Unknown),
        ("*", Admin::Unknown),
    ];
    for (path, want) in table {
        assert_eq!(route(path), want, "{path:?}");
    }
}

#[test]
fn help_lists_every_endpoint() {
    let h = help_text();
    assert!(h.starts_with("/info\n/metrics\n/help\n/ping\n/cluster_describe\n"));
    assert!(h.ends_with("/state/<get_state|standby|writes_only|normal|resuming>\n\n"));
    for line in h.lines().filter(|l| !l.is_empty()) {
        assert!(!line.starts_with(' '), "{line:?}");
        let path = line.split('<').next().unwrap_or(line);
        let path = path.trim_end_matches('/');
        let fixed = match path {
            "/setloglevel" => "/setloglevel/5",
            "/set_consistency" => "/set_consistency/read/dc_one",
            "/set_timeout_factor" => "/set_timeout_factor/2",
            "/peer" => "/peer/up/x",
            "/read_repairs" => "/read_repairs/enable",
            "/state" => "/state/normal",
            p => p,
        };
        assert_ne!(route(fixed), Admin::Unknown, "{line}");
    }
}

#[test]
fn bodies() {
    use crate::types::{Consistency as C, NodeState as S};
    assert_eq!(
        consistency_body(C::DcOne, C::DcEachSafeQuorum),
        "Read Consistency: DC_ONE\r\nWrite Consistency: DC_EACH_SAFE_QUORUM\r\n"
    );
    assert_eq!(timeout_factor_body(3), "Timeout factor: 3\n");
    assert_eq!(state_body(S::WritesOnly), "State: WRITES_ONLY\n");
    assert_eq!(read_repairs_body(true), "Read Repairs: ENABLED\r\n");
    assert_eq!(read_repairs_body(false), "Read Repairs: DISABLED\r\n");
}

#[test]
fn response_header_is_dynomites() {
    let mut out = Vec::new();
    write_response(&mut out, OK_BODY.as_bytes(), CONTENT_TYPE_JSON);
    assert_eq!(
        out,
        b"HTTP/1.1 200 OK \nContent-Type: application/json; charset=utf-8 \n\
          Content-Length: 4 \r\n\r\nOK\r\n"
    );
    let mut out = Vec::new();
    write_response(&mut out, b"", CONTENT_TYPE_PROMETHEUS);
    assert_eq!(
        out,
        b"HTTP/1.1 200 OK \nContent-Type: text/plain; version=0.0.4; charset=utf-8 \n\
          Content-Length: 0 \r\n\r\n"
    );
    let mut out = Vec::new();
    write_bad_request(&mut out);
    assert_eq!(
        out,
        b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
    );
}

#[test]
fn authorization_header_is_parsed_once() {
    let req = b"POST /state/standby HTTP/1.1\r\nHost: x\r\nauthorization:  Bearer abc \r\n\r\n";
    for k in 0..req.len() {
        assert_eq!(parse_request(&req[..k]), HttpParse::Incomplete, "{k}");
    }
    assert_eq!(
        parse_request(req),
        HttpParse::Request {
            method: Method::Post,
            path: "/state/standby",
            consumed: req.len(),
            authorization: Some("Bearer abc"),
        }
    );
    let twice = b"GET /ping HTTP/1.1\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b\r\n\r\n";
    assert_eq!(parse_request(twice), HttpParse::Bad);
    let binary = b"GET /ping HTTP/1.1\r\nAuthorization: Bearer \xff\r\n\r\n";
    assert_eq!(parse_request(binary), HttpParse::Bad);
}

/// Exactly the documented read-only endpoints are open; every documented call that changes
/// something (any argument) needs the token.
#[test]
fn open_endpoints_are_exactly_the_read_only_ones() {
    let open = [
        "/info",
        "/",
        "/metrics",
        "/ping",
        "/health",
        "/ready",
        "/cluster_describe",
        "/state/get_state",
        "/get_consistency",
        "/get_timeout_factor",
        "/help",
    ];
    for p in open {
        let cmd = route(p);
        assert_ne!(cmd, Admin::Unknown, "{p}");
        assert!(cmd.is_open(), "{p}");
    }
    let guarded = [
        "/setloglevel/5",
        "/loglevelup",
        "/logleveldown",
        "/historeset",
        "/set_consistency/read/dc_one",
        "/set_consistency/write/dc_quorum",
        "/set_consistency/read/bogus",
        "/set_timeout_factor/3",
        "/peer/down/10.0.0.2",
        "/peer/up/x",
        "/peer/reset/all",
        "/peer/up",
        "/read_repairs/enable",
        "/read_repairs/disable",
        "/read_repairs/maybe",
        "/state/standby",
        "/state/writes_only",
        "/state/resuming",
        "/state/normal",
    ];
    for p in guarded {
        let cmd = route(p);
        assert_ne!(cmd, Admin::Unknown, "{p}");
        assert!(!cmd.is_open(), "{p}");
    }
    // Every line of /help is one of the two lists.
    for line in help_text().lines().filter(|l| !l.is_empty()) {
        let base = line.split('<').next().unwrap_or(line);
        assert!(
            open.iter()
                .chain(guarded.iter())
                .any(|p| p.starts_with(base)),
            "{line}"
        );
    }
}

#[test]
fn refusal_replies() {
    let mut out = Vec::new();
    write_unauthorized(&mut out, "/state/standby", false);
    let text = String::from_utf8(out).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 401 Unauthorized\r\n"), "{head}");
    assert!(head.contains("\r\nWWW-Authenticate: Bearer realm=\"dynomite\"\r\n"));
    assert!(head.contains(&format!("\r\nContent-Length: {}\r\n", body.len())));
    assert!(body.contains("/state/standby") && body.contains("Nothing was changed"));
    let mut out = Vec::new();
    write_unauthorized(&mut out, "/x", true);
    assert!(String::from_utf8(out)
        .unwrap()
        .contains("error=\"invalid_token\""));
    let mut out = Vec::new();
    write_not_found(&mut out, "/helth");
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("HTTP/1.1 404 Not Found\r\n"), "{text}");
    assert!(text
        .ends_with("\r\n\r\n404 Not Found: /helth is not an endpoint of this node; see /help\n"));
}
