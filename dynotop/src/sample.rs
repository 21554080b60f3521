//! One `/info` reply parsed into a typed [`Sample`], and [`Rates`] from two samples' counters.
//!
//! Parsing never panics: a reply that is not JSON, or lacks a required field, is an `Err`
//! with a short reason that the dashboard shows beside the node (which then counts as DOWN).
//! Rates are counter deltas over the time between the two polls. A counter that went
//! backwards (the node restarted, or its stats were reset) makes the whole interval a reset:
//! [`Rates::between`] returns `None` and the dashboard shows no rate rather than a negative or
//! huge one.

use serde_json::{Map, Value};

/// The fields of one `/info` reply the dashboard uses (SPEC §7.3).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sample {
    /// When the reply arrived, in ms on the fetcher's monotonic clock (only differences matter).
    pub at_ms: u64,
    pub version: String,
    pub source: String,
    pub uptime: u64,
    pub rack: String,
    pub dc: String,
    /// The pool name (the key of the pool object): the cluster name shown in the header.
    pub pool: String,
    /// The datastore's name (`host:port`): the key of the one object inside the pool object.
    pub datastore: Option<String>,
    /// `state` (ours); `None` on Netflix Dynomite, which does not report it.
    pub state: Option<String>,
    pub read_consistency: Option<String>,
    pub write_consistency: Option<String>,
    /// Client latency in µs.
    pub latency_mean: u64,
    pub latency_99th: u64,
    pub latency_max: u64,
    pub cross_zone_latency_avg: u64,
    pub cross_zone_latency_99: u64,
    pub cross_region_rtt_avg: u64,
    pub cross_region_rtt_99: u64,
    pub server_latency_avg: u64,
    pub server_latency_99: u64,
    pub client_out_queue_99: u64,
    pub server_in_queue_99: u64,
    pub server_out_queue_99: u64,
    pub peer_in_queue_99: u64,
    pub peer_out_queue_99: u64,
    pub remote_peer_out_queue_99: u64,
    pub alloc_msgs: u64,
    pub free_msgs: u64,
    /// `dyn_memory`: max RSS in KiB.
    pub dyn_memory: u64,
    /// `hints` (ours): writes the node keeps for peers that missed them; `None` on Netflix
    /// Dynomite, which has no hinted handoff.
    pub hints: Option<u64>,
    pub client_connections: u64,
    /// Outgoing peer connections plus incoming ones (`dnode_client_connections`).
    pub peer_connections: u64,
    pub counters: Counters,
}

/// The monotonically increasing counters rates are computed from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub reads: u64,
    pub writes: u64,
    /// `forward_error` + `peer_timedout_requests` + `remote_peer_timedout_requests` +
    /// `client_non_quorum_r_responses` + `client_non_quorum_w_responses`.
    pub errors: u64,
    /// `server_ejects` + the datastore's `server_eof` + `server_err` + `server_timedout`.
    pub datastore_failures: u64,
}

impl Counters {
    fn fields(&self) -> [u64; 4] {
        [
            self.reads,
            self.writes,
            self.errors,
            self.datastore_failures,
        ]
    }
}

/// Per-second rates over one poll interval.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Rates {
    pub reads: f64,
    pub writes: f64,
    pub errors: f64,
    /// Datastore connection failures during the interval (a count, not per second).
    pub datastore_failures: u64,
}

impl Rates {
    /// Rates from `prev` to `cur`; `None` for a first sample (no `prev`), a zero interval, or
    /// a reset (uptime or any counter went backwards).
    pub fn between(prev: Option<&Sample>, cur: &Sample) -> Option<Rates> {
        let prev = prev?;
        if cur.at_ms <= prev.at_ms || cur.uptime < prev.uptime {
            return None;
        }
        let (a, b) = (prev.counters.fields(), cur.counters.fields());
        if a.iter().zip(b.iter()).any(|(p, c)| c < p) {
            return None;
        }
        let secs = (cur.at_ms - prev.at_ms) as f64 / 1000.0;
        let per_sec = |p: u64, c: u64| (c - p) as f64 / secs;
        Some(Rates {
            reads: per_sec(a[0], b[0]),
            writes: per_sec(a[1], b[1]),
            errors: per_sec(a[2], b[2]),
            datastore_failures: b[3] - a[3],
        })
    }

    pub fn ops(&self) -> f64 {
        self.reads + self.writes
    }
}

fn num(obj: &Map<String, Value>, key: &str) -> u64 {
    obj.get(key).and_then(Value::as_u64).unwrap_or(0)
}

fn text(obj: &Map<String, Value>, key: &str) -> Option<String> {
    obj.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// The single member of `obj` whose value is an object: the pool inside the reply, the
/// datastore inside the pool.
fn only_object(obj: &Map<String, Value>) -> Option<(&String, &Map<String, Value>)> {
    obj.iter().find_map(|(k, v)| v.as_object().map(|o| (k, o)))
}

/// Parse an `/info` reply received at `at_ms`.
pub fn parse(body: &str, at_ms: u64) -> Result<Sample, String> {
    let v: Value = serde_json::from_str(body).map_err(|e| format!("bad /info JSON: {e}"))?;
    let top = v.as_object().ok_or("bad /info JSON: not an object")?;
    if !top.contains_key("uptime") {
        return Err("bad /info JSON: no uptime".into());
    }
    let (pool, p) = only_object(top).ok_or("bad /info JSON: no pool object")?;
    let empty = Map::new();
    let (ds_name, ds) = only_object(p).map_or((None, &empty), |(n, d)| (Some(n.clone()), d));
    Ok(Sample {
        at_ms,
        version: text(top, "version").unwrap_or_default(),
        source: text(top, "source").unwrap_or_default(),
        uptime: num(top, "uptime"),
        rack: text(top, "rack").unwrap_or_default(),
        dc: text(top, "dc").unwrap_or_default(),
        pool: pool.clone(),
        datastore: ds_name,
        state: text(top, "state"),
        read_consistency: text(top, "read_consistency"),
        write_consistency: text(top, "write_consistency"),
        latency_mean: num(top, "latency_mean"),
        latency_99th: num(top, "latency_99th"),
        latency_max: num(top, "latency_max"),
        cross_zone_latency_avg: num(top, "average_cross_zone_latency"),
        cross_zone_latency_99: num(top, "99_cross_zone_latency"),
        cross_region_rtt_avg: num(top, "average_cross_region_rtt"),
        cross_region_rtt_99: num(top, "99_cross_region_rtt"),
        server_latency_avg: num(top, "average_server_latency"),
        server_latency_99: num(top, "99_server_latency"),
        client_out_queue_99: num(top, "client_out_queue_99"),
        server_in_queue_99: num(top, "server_in_queue_99"),
        server_out_queue_99: num(top, "server_out_queue_99"),
        peer_in_queue_99: num(top, "peer_in_queue_99"),
        peer_out_queue_99: num(top, "peer_out_queue_99"),
        remote_peer_out_queue_99: num(top, "remote_peer_out_queue_99"),
        alloc_msgs: num(top, "alloc_msgs"),
        free_msgs: num(top, "free_msgs"),
        dyn_memory: num(top, "dyn_memory"),
        hints: top.get("hints").and_then(Value::as_u64),
        client_connections: num(p, "client_connections"),
        peer_connections: num(p, "peer_connections") + num(p, "dnode_client_connections"),
        counters: Counters {
            reads: num(p, "client_read_requests"),
            writes: num(p, "client_write_requests"),
            errors: num(p, "forward_error")
                + num(p, "peer_timedout_requests")
                + num(p, "remote_peer_timedout_requests")
                + num(p, "client_non_quorum_r_responses")
                + num(p, "client_non_quorum_w_responses"),
            datastore_failures: num(p, "server_ejects")
                + num(ds, "server_eof")
                + num(ds, "server_err")
                + num(ds, "server_timedout"),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO: &str = include_str!("../../dynomited/tests-data/dynomite-info-sample.json");

    fn at(ms: u64, reads: u64, writes: u64) -> Sample {
        let mut s = parse(INFO, ms).unwrap();
        s.counters.reads = reads;
        s.counters.writes = writes;
        s
    }

    #[test]
    fn parses_the_recorded_reply() {
        let s = parse(INFO, 7).unwrap();
        assert_eq!(s.pool, "dyn_o_mite");
        assert_eq!(s.datastore.as_deref(), Some("127.0.0.1:7011"));
        assert_eq!((s.rack.as_str(), s.dc.as_str()), ("rack1", "dc1"));
        assert_eq!(s.counters.reads, 5200025);
        assert_eq!(s.counters.writes, 6068353);
        assert_eq!(s.latency_99th, 29523);
        assert_eq!(s.peer_connections, 4);
        assert_eq!(s.state, None);
    }

    #[test]
    fn bad_json_is_an_error_not_a_panic() {
        for body in ["", "{", "[1,2]", "{\"a\":1}", "{\"uptime\":1}", "\u{0}"] {
            assert!(parse(body, 0).is_err(), "{body:?}");
        }
    }

    #[test]
    fn first_sample_has_no_rate() {
        assert_eq!(Rates::between(None, &at(1000, 10, 10)), None);
    }

    #[test]
    fn normal_rate_is_delta_over_seconds() {
        let r = Rates::between(Some(&at(1000, 100, 50)), &at(3000, 300, 150)).unwrap();
        assert_eq!((r.reads, r.writes, r.ops()), (100.0, 50.0, 150.0));
        assert_eq!(r.errors, 0.0);
    }

    #[test]
    fn counter_reset_shows_no_rate() {
        assert_eq!(
            Rates::between(Some(&at(1000, 100, 50)), &at(3000, 5, 150)),
            None
        );
        let mut restarted = at(3000, 300, 150);
        restarted.uptime = 1;
        assert_eq!(Rates::between(Some(&at(1000, 100, 50)), &restarted), None);
        // A zero or backwards interval is no rate either.
        assert_eq!(Rates::between(Some(&at(3000, 1, 1)), &at(3000, 2, 2)), None);
    }
}
