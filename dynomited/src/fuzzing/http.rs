//! Target `stats_http`: the admin HTTP request parser of the stats port and its router.

use super::Gen;
use crate::stats::http::{parse_request, parse_request_at_eof, route, HttpParse, MAX_REQUEST};

/// Checks one answer against the bytes it was given.
fn check(buf: &[u8], r: &HttpParse) {
    if let HttpParse::Request { path, consumed, .. } = *r {
        assert!(
            consumed <= buf.len().min(MAX_REQUEST),
            "consumed {consumed}"
        );
        let range = buf.as_ptr_range();
        let p = path.as_bytes().as_ptr_range();
        assert!(
            range.start <= p.start && p.end <= range.end,
            "path outside the buffer"
        );
        assert!(!path.contains(['?', '#']), "path {path:?} keeps its query");
        let _ = route(path);
    }
}

/// Target `stats_http`: arbitrary bytes, then a generated request, through the admin HTTP
/// parser as the server calls it (again on every read; once more at end of input).
///
/// Oracle: `consumed` within the bytes and `MAX_REQUEST`, the path a query-less slice of
/// them; the answer on a prefix is `Incomplete` or the answer on the whole (the server stops
/// at the first one that is not `Incomplete`), so bytes split anywhere give one answer; at
/// end of input a complete request is the same request and nothing is `Incomplete`; a
/// generated request parses to its path and length.
pub fn stats_http(data: &[u8]) {
    let whole = parse_request(data);
    check(data, &whole);
    let eof = parse_request_at_eof(data);
    check(data, &eof);
    assert_ne!(eof, HttpParse::Incomplete, "Incomplete at end of input");
    if let HttpParse::Request { .. } = whole {
        assert_eq!(eof, whole, "end of input changed a complete request");
    }
    // Prefixes: every one when short, else a sample (and the ones near the end).
    let n = data.len();
    let step = (n / 64).max(1);
    for cut in (0..n).step_by(step).chain(n.saturating_sub(4)..n) {
        let p = parse_request(&data[..cut]);
        check(&data[..cut], &p);
        if p != HttpParse::Incomplete {
            assert_eq!(p, whole, "the first {cut} bytes answer differently");
        }
    }

    let mut g = Gen::new(data);
    let paths = [
        "/info",
        "/",
        "/ping",
        "/metrics",
        "/state/standby",
        "/peer/down/a:1",
        "/set_consistency/read/dc_quorum",
        "/setloglevel/-99999999999999999999",
        "/set_timeout_factor/+7",
        "/read_repairs/enable",
        "/cluster_describe",
    ];
    let path = g.pick(&paths);
    let query = if g.bool() { "?x=1#f" } else { "" };
    let method = g.pick(&["GET", "POST", "PUT"]);
    let version = g.pick(&["HTTP/1.0", "HTTP/1.1"]);
    let eol = if g.bool() { "\r\n" } else { "\n" };
    let body: String = (0..g.below(40))
        .map(|_| char::from(b'a' + g.below(26) as u8))
        .collect();
    let mut req = format!("{method} {path}{query} {version}{eol}Host: x{eol}");
    let token = g.pick(&["", "Bearer s3cret", "Basic eA=="]);
    if !token.is_empty() {
        req.push_str(&format!("Authorization:  {token} {eol}"));
    }
    if !body.is_empty() {
        req.push_str(&format!("Content-Length: {}{eol}", body.len()));
    }
    req.push_str(eol);
    let head = req.len();
    req.push_str(&body);
    let want = HttpParse::Request {
        method: match method {
            "GET" => crate::stats::http::Method::Get,
            "POST" => crate::stats::http::Method::Post,
            _ => crate::stats::http::Method::Other,
        },
        path,
        consumed: head + body.len(),
        authorization: (!token.is_empty()).then_some(token),
    };
    let bytes = req.as_bytes();
    assert_eq!(parse_request(bytes), want, "generated request");
    for cut in 0..bytes.len() {
        assert_eq!(
            parse_request(&bytes[..cut]),
            HttpParse::Incomplete,
            "cut at {cut}"
        );
    }
}
