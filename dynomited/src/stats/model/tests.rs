//! Tests of the stats model: `/info` against Dynomite's own reply, JSON validity, `-D`,
//! `/cluster_describe` and the Prometheus text.

use super::prometheus::BUCKET_STEP;
use super::*;
use crate::stats::histogram::{HistogramSummary, BUCKETS};

const FIXTURE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests-data/dynomite-info-sample.json"
));

const FIXTURE_POOL: [u64; POOL_METRICS_LEN] = [
    1114,
    0,
    50,
    5200025,
    6068353,
    0,
    0,
    0,
    0,
    0,
    0,
    2,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    2,
    0,
    0,
    2,
    0,
    12136706,
    1747685458,
    0,
    0,
    1795371374032,
    0,
    1600,
    0,
    230400,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
];

const FIXTURE_SERVER: [u64; SERVER_METRICS_LEN] = [
    0, 0, 0, 0, 0, 0, 5200025, 187200951, 6068353, 873842729, 11267578, 583972244, 0, 0, 800,
    115200, 0, 0, 5200001, 6068353, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 24,
];

fn fixture_stats() -> (PoolStats, ServerStats) {
    let mut pool = PoolStats::default();
    for (v, f) in pool.values_mut().into_iter().zip(FIXTURE_POOL) {
        *v = f;
    }
    let mut server = ServerStats::default();
    for (v, f) in server.values_mut().into_iter().zip(FIXTURE_SERVER) {
        *v = f;
    }
    (pool, server)
}

fn fixture_numbers() -> InfoNumbers {
    let full = |max, p999, p99, p95, mean| HistogramSummary {
        max,
        p999,
        p99,
        p95,
        mean,
    };
    let avg99 = |mean, p99| HistogramSummary {
        p99,
        mean,
        ..Default::default()
    };
    let p99 = |p99| HistogramSummary {
        p99,
        ..Default::default()
    };
    InfoNumbers {
        latency: full(55772, 42512, 29523, 20503, 9690),
        payload_size: full(144, 126, 126, 126, 126),
        cross_region_rtt: avg99(0, 1),
        cross_zone_latency: avg99(15854, 51014),
        server_latency: avg99(3557, 11866),
        cross_region_queue_wait: avg99(0, 1),
        cross_zone_queue_wait: avg99(5970, 17086),
        server_queue_wait: avg99(2759, 9889),
        client_out_queue: p99(16),
        server_in_queue: p99(772),
        server_out_queue: p99(772),
        dnode_client_out_queue: p99(1),
        peer_in_queue: p99(772),
        peer_out_queue: p99(1918),
        remote_peer_out_queue: p99(1),
        remote_peer_in_queue: p99(1),
    }
}

fn info<'a>(
    h: &'a Histograms,
    pool: &'a PoolStats,
    server: &'a ServerStats,
    names: [&'a str; 5],
) -> Info<'a> {
    Info {
        source: names[0],
        version: "v0.6.21-rc2-23-g7bb74b0",
        uptime: 570,
        timestamp: 1795371944,
        rack: names[1],
        dc: names[2],
        histograms: h,
        alloc_msgs: 12194,
        free_msgs: 9794,
        alloc_mbufs: 23218,
        free_mbufs: 19218,
        dyn_memory: 390272,
        pool_name: names[3],
        pool,
        server_name: names[4],
        server,
    }
}

const FIXTURE_NAMES: [&str; 5] = ["vm", "rack1", "dc1", "dyn_o_mite", "127.0.0.1:7011"];

#[test]
fn tables_match_dynomite() {
    assert_eq!(POOL_METRICS_LEN, 45);
    assert_eq!(SERVER_METRICS_LEN, 34);
    assert_eq!(HISTOGRAM_COUNT, 16);
    let mut names: Vec<&str> = POOL_METRICS.iter().map(|d| d.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), POOL_METRICS_LEN);
    let mut names: Vec<&str> = SERVER_METRICS.iter().map(|d| d.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), SERVER_METRICS_LEN);
    assert_eq!(POOL_METRICS[4].description, "# client write responses");
    assert_eq!(POOL_METRICS[31].kind, MetricKind::Timestamp);
    assert_eq!(SERVER_METRICS[3].name, "server_ejected_at");
}

#[test]
fn fields_and_values_follow_the_table() {
    let mut p = PoolStats::default();
    p.client_eof += 1;
    p.stats_count = 7;
    let v = p.values();
    assert_eq!(v[0], 1);
    assert_eq!(v[POOL_METRICS_LEN - 1], 7);
    let (first, _) = p.iter().next().unwrap_or((&POOL_METRICS[1], 0));
    assert_eq!(first.name, "client_eof");
}

#[test]
fn accumulate_adds_and_replaces_timestamps() {
    let mut sum = ServerStats {
        read_requests: 5,
        server_ejected_at: 1000,
        in_queue: 3,
        ..Default::default()
    };
    let delta = ServerStats {
        read_requests: 2,
        server_ejected_at: 0,
        in_queue: u64::MAX, // a gauge going down by one, as a wrapping delta
        ..Default::default()
    };
    sum.accumulate(&delta);
    assert_eq!(
        (sum.read_requests, sum.server_ejected_at, sum.in_queue),
        (7, 1000, 2)
    );
    sum.accumulate(&ServerStats {
        server_ejected_at: 2000,
        ..Default::default()
    });
    assert_eq!(sum.server_ejected_at, 2000);
}

#[test]
fn info_is_byte_identical_to_dynomite() {
    let h = Histograms::default();
    let (pool, server) = fixture_stats();
    let info = info(&h, &pool, &server, FIXTURE_NAMES);
    let mut out = String::new();
    render_info_numbers(&info, &fixture_numbers(), &[], &mut out);
    if out != FIXTURE {
        for (i, (a, b)) in out.lines().zip(FIXTURE.lines()).enumerate() {
            assert_eq!(a, b, "line {}", i + 1);
        }
    }
    assert_eq!(out, FIXTURE);
    assert!(json::valid(&out));
}

#[test]
fn info_from_live_histograms() {
    let mut h = Histograms::default();
    h.latency.record(100);
    h.latency.record(300);
    h.client_out_queue.record(4);
    let (pool, server) = (PoolStats::default(), ServerStats::default());
    let info = info(&h, &pool, &server, FIXTURE_NAMES);
    let mut out = String::new();
    render_info(&info, &[], &mut out);
    // floor(2 × 0.999) = 1 observation: the bucket of 100, bound 105.
    assert!(out.contains("\"latency_max\":300,\n\"latency_999th\":105,\n"));
    assert!(out.contains("\"latency_mean\":200,\n"));
    assert!(out.contains("\"99_cross_region_rtt\":0,\n"));
    assert!(out.contains("\"client_out_queue_99\":4,\n"));
    assert!(json::valid(&out));
    h.reset_all();
    assert_eq!(h, Histograms::default());
}

#[test]
fn info_extras_go_after_dyn_memory() {
    let h = Histograms::default();
    let (pool, server) = fixture_stats();
    let info = info(&h, &pool, &server, FIXTURE_NAMES);
    let mut out = String::new();
    let extra = [
        ("state", ExtraValue::Str("NORMAL")),
        ("read_consistency", ExtraValue::Str("DC_ONE")),
        ("timeout_factor", ExtraValue::Num(2)),
        ("read_repairs", ExtraValue::Bool(false)),
    ];
    render_info_numbers(&info, &fixture_numbers(), &extra, &mut out);
    assert!(out.contains(
        "\"dyn_memory\":390272,\n\"state\":\"NORMAL\",\"read_consistency\":\"DC_ONE\",\
         \"timeout_factor\":2,\n\"read_repairs\":false,\n\"dyn_o_mite\": {\"client_eof\":1114,\n"
    ));
    assert!(json::valid(&out));
}

#[test]
fn info_is_valid_json_with_odd_names() {
    let h = Histograms::default();
    let (pool, server) = fixture_stats();
    let odd = [
        "host\"name\\",
        "rack\n1\t\u{1}",
        "dc \u{7f} é ☃",
        "po\"ol\\",
        "\\\"127.0.0.1:7011\"",
    ];
    let info = info(&h, &pool, &server, odd);
    let mut out = String::new();
    render_info(
        &info,
        &[("we\"ird", ExtraValue::Str("va\\l\"ue"))],
        &mut out,
    );
    assert!(json::valid(&out), "{out}");
    assert!(out.contains("\"source\":\"host\\\"name\\\\\","));
    assert!(out.contains("\"rack\":\"rack\\n1\\t\\u0001\","));
    // And the validator does reject what Dynomite would have produced.
    assert!(!json::valid("{\"source\":\"host\"name\"}"));
}

#[test]
fn describe_matches_dynomite_format() {
    let mut out = String::new();
    describe(&mut out);
    let lines: Vec<&str> = out.split('\n').collect();
    assert_eq!(lines[0], "pool stats:");
    assert_eq!(
        lines[1],
        "  client_eof          \"# eof on client connections\""
    );
    assert_eq!(
        lines[7],
        "  client_non_quorum_w_responses\"# client non quorum write responses\""
    );
    assert_eq!(lines[1 + POOL_METRICS_LEN], "");
    assert_eq!(lines[2 + POOL_METRICS_LEN], "server stats:");
    assert_eq!(
        lines[3 + POOL_METRICS_LEN],
        "  server_eof          \"# eof on server connections\""
    );
    assert_eq!(
        lines[2 + POOL_METRICS_LEN + SERVER_METRICS_LEN],
        "  redis_req_other     \"# Redis other\""
    );
    // Dynomite's text, unchanged; then our own figures, declared in EXTRAS.
    let dynomite_end = 3 + POOL_METRICS_LEN + SERVER_METRICS_LEN;
    assert_eq!(lines[dynomite_end], "");
    assert!(lines[dynomite_end + 1].starts_with("own stats"));
    assert_eq!(
        lines[dynomite_end + 2],
        "  state               \"the node's state (NORMAL, STANDBY, WRITES_ONLY, RESUMING, ...)\" (info)"
    );
    // (the last line ends in a newline: an empty string after it)
    assert_eq!(lines.len(), dynomite_end + 3 + EXTRAS.len());
    assert_eq!(
        lines[dynomite_end + 1 + EXTRAS.len()],
        "  datastore_tls_handshake_failures\"# TLS handshakes with the datastore that failed\" (counter)"
    );
}

#[test]
fn every_own_figure_is_declared_once() {
    for (i, d) in EXTRAS.iter().enumerate() {
        assert!(
            EXTRAS[..i].iter().all(|e| e.name != d.name),
            "{} twice",
            d.name
        );
        assert!(matches!(d.kind, "counter" | "gauge" | "info"), "{}", d.name);
        assert_eq!(extra_desc(d.name), Some(d));
        assert_eq!(extra_desc(&format!("{}_total", d.name)), Some(d));
    }
}

fn server(name: &str, host: &str, port: u16, token: u32) -> DescribeServer {
    DescribeServer {
        name: name.into(),
        host: host.into(),
        port,
        token,
        state: "NORMAL",
        since_ms: 0,
        hints: 0,
        hints_lost: 0,
    }
}

#[test]
fn cluster_describe_separators() {
    let dcs = vec![
        DescribeDc {
            name: "dc1".into(),
            racks: vec![
                DescribeRack {
                    name: "rack1".into(),
                    servers: vec![
                        server("10.0.0.1", "h1", 8101, 1383429731),
                        server("10.0.0.2", "h2", 8101, 4294967295),
                    ],
                },
                DescribeRack {
                    name: "rack2".into(),
                    servers: vec![server("10.0.0.3", "h3", 8101, 0)],
                },
            ],
        },
        DescribeDc {
            name: "dc2".into(),
            racks: vec![DescribeRack {
                name: "rack1".into(),
                servers: vec![server("10.1.0.1", "h\"4", 8102, 7)],
            }],
        },
    ];
    let mut out = String::new();
    render_cluster_describe(&dcs, &mut out);
    // Dynomite's fields in Dynomite's shape; ours (state, since, hints) before the token.
    let expected = concat!(
        "{\"dcs\": [{\"name\":\"dc1\",\"racks\": [{\"name\":\"rack1\",\"servers\": [",
        "{\"name\":\"10.0.0.1\",\"host\":\"h1\",\"port\":8101,\n\"token\":1383429731\n},",
        "{\"name\":\"10.0.0.2\",\"host\":\"h2\",\"port\":8101,\n\"token\":4294967295\n}]},",
        "{\"name\":\"rack2\",\"servers\": [",
        "{\"name\":\"10.0.0.3\",\"host\":\"h3\",\"port\":8101,\n\"token\":0\n}]}]},",
        "{\"name\":\"dc2\",\"racks\": [{\"name\":\"rack1\",\"servers\": [",
        "{\"name\":\"10.1.0.1\",\"host\":\"h\\\"4\",\"port\":8102,\n\"token\":7\n}]}]}]}\n",
    );
    let ours = ",\n\"state\":\"NORMAL\",\"since\":0,\n\"hints\":0,\n\"hints_lost\":0,\n\"token\"";
    assert_eq!(out, expected.replace(",\n\"token\"", ours));
    assert!(json::valid(&out));

    let mut out = String::new();
    render_cluster_describe(&[], &mut out);
    assert_eq!(out, "{\"dcs\": []}\n");
    assert!(json::valid(&out));
    let mut out = String::new();
    render_cluster_describe(
        &[DescribeDc {
            name: "d".into(),
            racks: vec![DescribeRack::default()],
        }],
        &mut out,
    );
    assert!(json::valid(&out), "{out}");
}

/// Checks one exposition: comments are `# HELP name text` / `# TYPE name kind`, every sample is
/// `name{label="value",...} value` of a family declared just before, with valid names.
fn check_exposition(text: &str) -> Result<usize, String> {
    fn is_name(s: &str) -> bool {
        let mut cs = s.chars();
        matches!(cs.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
            && cs.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    }
    let mut family = String::new();
    let mut kind = String::new();
    let mut samples = 0;
    if !text.ends_with('\n') {
        return Err("no final newline".into());
    }
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap_or("");
            if !is_name(name) {
                return Err(format!("bad HELP: {line}"));
            }
            family = name.to_string();
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut it = rest.split(' ');
            let (name, k) = (it.next().unwrap_or(""), it.next().unwrap_or(""));
            if name != family || !["counter", "gauge", "histogram"].contains(&k) {
                return Err(format!("bad TYPE: {line}"));
            }
            kind = k.to_string();
        } else {
            let (name, rest) = match line.find('{') {
                Some(i) => (&line[..i], &line[i + 1..]),
                None => return Err(format!("no labels: {line}")),
            };
            let ok_name = match kind.as_str() {
                "histogram" => ["_bucket", "_sum", "_count"]
                    .iter()
                    .any(|s| name.strip_suffix(s) == Some(family.as_str())),
                _ => name == family,
            };
            if !ok_name || !is_name(name) {
                return Err(format!("sample outside its family: {line}"));
            }
            // Labels: name="value" pairs, value with \\ \" \n escapes.
            let b = rest.as_bytes();
            let mut i = 0;
            loop {
                let start = i;
                while i < b.len() && b[i] != b'=' {
                    i += 1;
                }
                if !is_name(&rest[start..i]) || b.get(i + 1) != Some(&b'"') {
                    return Err(format!("bad label: {line}"));
                }
                i += 2;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        if !matches!(b.get(i + 1), Some(b'\\' | b'"' | b'n')) {
                            return Err(format!("bad escape: {line}"));
                        }
                        i += 1;
                    } else if b[i] == b'\n' {
                        return Err(format!("raw newline: {line}"));
                    }
                    i += 1;
                }
                i += 1;
                match b.get(i) {
                    Some(b',') => i += 1,
                    Some(b'}') => break,
                    _ => return Err(format!("unterminated labels: {line}")),
                }
            }
            let value = rest[i + 1..]
                .strip_prefix(' ')
                .ok_or(format!("no value: {line}"))?;
            if value.parse::<f64>().is_err() {
                return Err(format!("bad value: {line}"));
            }
            samples += 1;
        }
    }
    Ok(samples)
}

#[test]
fn prometheus_output_parses() {
    let mut h = Histograms::default();
    for v in [1, 5, 700, 20_000, 100_000_000] {
        h.latency.record(v);
    }
    h.peer_out_queue.record(3);
    let (pool, server) = fixture_stats();
    let info = info(&h, &pool, &server, FIXTURE_NAMES);
    let mut out = String::new();
    let extra = [
        ("state", ExtraValue::Str("NORMAL")),
        ("timeout_factor", ExtraValue::Num(1)),
        ("read_repairs", ExtraValue::Bool(true)),
    ];
    render_prometheus_with_extra(&info, &extra, &mut out);
    let samples = check_exposition(&out).unwrap_or_else(|e| panic!("{e}"));
    let per_histogram = (BUCKETS - 1).div_ceil(BUCKET_STEP) + 3;
    assert_eq!(
        samples,
        2 + 5 + extra.len() + POOL_METRICS_LEN + SERVER_METRICS_LEN + 16 * per_histogram
    );
    for want in [
        "# HELP dynomite_client_eof_total # eof on client connections\n",
        "# TYPE dynomite_client_eof_total counter\n",
        "dynomite_client_eof_total{pool=\"dyn_o_mite\",rack=\"rack1\",dc=\"dc1\"} 1114\n",
        "dynomite_client_connections{pool=\"dyn_o_mite\",rack=\"rack1\",dc=\"dc1\"} 50\n",
        "dynomite_peer_ejected_at_timestamp_seconds{pool=\"dyn_o_mite\",rack=\"rack1\",dc=\"dc1\"} \
         1795371374.032\n",
        "dynomite_redis_req_other_total{pool=\"dyn_o_mite\",datastore=\"127.0.0.1:7011\",\
         rack=\"rack1\",dc=\"dc1\"} 24\n",
        "dynomite_dyn_memory_bytes{rack=\"rack1\",dc=\"dc1\"} 399638528\n",
        "dynomite_state{rack=\"rack1\",dc=\"dc1\",state=\"NORMAL\"} 1\n",
        "dynomite_read_repairs{rack=\"rack1\",dc=\"dc1\"} 1\n",
        "# TYPE dynomite_latency_microseconds histogram\n",
        "dynomite_latency_microseconds_bucket{rack=\"rack1\",dc=\"dc1\",le=\"1\"} 1\n",
        "dynomite_latency_microseconds_bucket{rack=\"rack1\",dc=\"dc1\",le=\"5\"} 2\n",
        "dynomite_latency_microseconds_bucket{rack=\"rack1\",dc=\"dc1\",le=\"30130994\"} 4\n",
        "dynomite_latency_microseconds_bucket{rack=\"rack1\",dc=\"dc1\",le=\"+Inf\"} 5\n",
        "dynomite_latency_microseconds_sum{rack=\"rack1\",dc=\"dc1\"} 100020706\n",
        "dynomite_latency_microseconds_count{rack=\"rack1\",dc=\"dc1\"} 5\n",
        "dynomite_peer_out_queue_length_count{rack=\"rack1\",dc=\"dc1\"} 1\n",
    ] {
        assert!(out.contains(want), "missing {want:?}");
    }
    // Every family is declared once.
    let mut families: Vec<&str> = out.lines().filter(|l| l.starts_with("# TYPE ")).collect();
    let n = families.len();
    families.sort_unstable();
    families.dedup();
    assert_eq!(families.len(), n);
    // Bucket counts never decrease.
    let mut last = 0u64;
    for line in out
        .lines()
        .filter(|l| l.starts_with("dynomite_latency_microseconds_bucket"))
    {
        let v: u64 = line
            .rsplit(' ')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        assert!(v >= last, "{line}");
        last = v;
    }
}

#[test]
fn prometheus_escapes_odd_labels() {
    let h = Histograms::default();
    let (pool, server) = fixture_stats();
    let odd = ["h", "ra\"ck\\", "d\nc", "p", "s"];
    let info = info(&h, &pool, &server, odd);
    let mut out = String::new();
    render_prometheus_with_extra(&info, &[("9 odd-key", ExtraValue::Str("x\"y"))], &mut out);
    check_exposition(&out).unwrap_or_else(|e| panic!("{e}"));
    assert!(out.contains("rack=\"ra\\\"ck\\\\\",dc=\"d\\nc\""));
    assert!(out.contains("dynomite__9_odd_key{"));
}

/// A minimal recursive-descent JSON validator (RFC 8259 grammar, no extensions).
mod json {
    pub fn valid(s: &str) -> bool {
        let mut p = P {
            b: s.as_bytes(),
            i: 0,
        };
        p.ws();
        let ok = p.value(0);
        p.ws();
        ok && p.i == p.b.len()
    }

    struct P<'a> {
        b: &'a [u8],
        i: usize,
    }

    impl P<'_> {
        fn peek(&self) -> Option<u8> {
            self.b.get(self.i).copied()
        }
        fn eat(&mut self, c: u8) -> bool {
            if self.peek() == Some(c) {
                self.i += 1;
                true
            } else {
                false
            }
        }
        fn ws(&mut self) {
            while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                self.i += 1;
            }
        }
        fn value(&mut self, depth: usize) -> bool {
            if depth > 64 {
                return false;
            }
            match self.peek() {
                Some(b'{') => self.object(depth),
                Some(b'[') => self.array(depth),
                Some(b'"') => self.string(),
                Some(b't') => self.lit(b"true"),
                Some(b'f') => self.lit(b"false"),
                Some(b'n') => self.lit(b"null"),
                Some(b'-' | b'0'..=b'9') => self.number(),
                _ => false,
            }
        }
        fn lit(&mut self, l: &[u8]) -> bool {
            if self.b[self.i..].starts_with(l) {
                self.i += l.len();
                true
            } else {
                false
            }
        }
        fn object(&mut self, depth: usize) -> bool {
            self.i += 1;
            self.ws();
            if self.eat(b'}') {
                return true;
            }
            loop {
                self.ws();
                if !self.string() {
                    return false;
                }
                self.ws();
                if !self.eat(b':') {
                    return false;
                }
                self.ws();
                if !self.value(depth + 1) {
                    return false;
                }
                self.ws();
                if self.eat(b'}') {
                    return true;
                }
                if !self.eat(b',') {
                    return false;
                }
            }
        }
        fn array(&mut self, depth: usize) -> bool {
            self.i += 1;
            self.ws();
            if self.eat(b']') {
                return true;
            }
            loop {
                self.ws();
                if !self.value(depth + 1) {
                    return false;
                }
                self.ws();
                if self.eat(b']') {
                    return true;
                }
                if !self.eat(b',') {
                    return false;
                }
            }
        }
        fn string(&mut self) -> bool {
            if !self.eat(b'"') {
                return false;
            }
            while let Some(c) = self.peek() {
                self.i += 1;
                match c {
                    b'"' => return true,
                    b'\\' => match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 1,
                        Some(b'u') => {
                            let hex = self.b.get(self.i + 1..self.i + 5);
                            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                                return false;
                            }
                            self.i += 5;
                        }
                        _ => return false,
                    },
                    0..=0x1f => return false,
                    _ => {}
                }
            }
            false
        }
        fn number(&mut self) -> bool {
            self.eat(b'-');
            let digits = |p: &mut Self| {
                let s = p.i;
                while matches!(p.peek(), Some(b'0'..=b'9')) {
                    p.i += 1;
                }
                p.i > s
            };
            if self.eat(b'0') {
                // no leading zeros
            } else if !digits(self) {
                return false;
            }
            if self.eat(b'.') && !digits(self) {
                return false;
            }
            if matches!(self.peek(), Some(b'e' | b'E')) {
                self.i += 1;
                if !self.eat(b'+') {
                    self.eat(b'-');
                }
                if !digits(self) {
                    return false;
                }
            }
            true
        }
    }

    #[test]
    fn validator_sanity() {
        for ok in [
            "{}",
            "[]",
            "{\"a\": [1, -2.5e3, true, false, null, \"x\\u00e9\\n\"]}",
            " 0 ",
        ] {
            assert!(valid(ok), "{ok}");
        }
        for bad in [
            "{",
            "{\"a\":1,}",
            "[1 2]",
            "01",
            "\"\n\"",
            "{\"a\" 1}",
            "\"\\x\"",
            "{}}",
        ] {
            assert!(!valid(bad), "{bad}");
        }
    }
}
