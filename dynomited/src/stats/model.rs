//! The stats model: every metric declared once, and the renderers built on that one table.
//!
//! [`stats_table!`] declares each pool and server metric a single time (name, kind, the `-D`
//! description Dynomite prints) and generates the struct the runtime increments
//! (`stats.pool.client_eof += 1`), the descriptor table ([`POOL_METRICS`], [`SERVER_METRICS`])
//! and ordered access to the values. [`histogram_set!`] does the same for the histograms
//! behind `/info`'s latency, size and queue numbers. From those tables come:
//!
//! ```text
//!   POOL_METRICS ─┐                     ┌─► render_info        /info JSON (Dynomite's exact text)
//!   SERVER_METRICS├─► PoolStats,        ├─► render_prometheus  /metrics (text format 0.0.4)
//!   HISTOGRAMS   ─┘   ServerStats,      └─► describe           dynomited -D
//!                     Histograms
//! ```
//!
//! Everything here is pure: values and the clock readings (`uptime`, `timestamp`) come in as
//! parameters, text goes out into a caller-provided `String`.

use std::fmt::Write as _;

use super::histogram::{Histogram, HistogramSummary};

pub mod prometheus;

pub use prometheus::{render_prometheus, render_prometheus_with_extra};

/// How a metric behaves over time (Dynomite's `stats_type_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricKind {
    /// Monotonic accumulator.
    Counter,
    /// Current level; may go up and down.
    Gauge,
    /// Milliseconds since the Unix epoch of the last event, 0 if it never happened.
    Timestamp,
}

/// One metric of the table: its `/info` name, kind and the `-D` description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetricDesc {
    pub name: &'static str,
    pub kind: MetricKind,
    pub description: &'static str,
}

/// Declares a stats struct and its descriptor table from one list of metrics.
///
/// Each `name: Kind = "description",` line becomes a `pub name: u64` field (in order), an
/// entry of the table, and a position in `values()`.
macro_rules! stats_table {
    (
        $(#[$meta:meta])*
        struct $name:ident, table $table:ident, len $len:ident {
            $($field:ident: $kind:ident = $desc:literal,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        pub struct $name {
            $(#[doc = $desc] pub $field: u64,)*
        }

        #[doc = concat!("Number of metrics in [`", stringify!($name), "`].")]
        pub const $len: usize = [$(stringify!($field)),*].len();

        #[doc = concat!("The metrics of [`", stringify!($name), "`], in `/info` order.")]
        pub const $table: &[MetricDesc; $len] = &[
            $(MetricDesc {
                name: stringify!($field),
                kind: MetricKind::$kind,
                description: $desc,
            },)*
        ];

        impl $name {
            /// The values, in table order.
            pub fn values(&self) -> [u64; $len] {
                [$(self.$field,)*]
            }

            /// Mutable references to the values, in table order.
            pub fn values_mut(&mut self) -> [&mut u64; $len] {
                [$(&mut self.$field,)*]
            }

            /// Each metric's descriptor with its value, in table order.
            pub fn iter(&self) -> impl Iterator<Item = (&'static MetricDesc, u64)> {
                $table.iter().zip(self.values())
            }

            /// Dynomite's aggregation step: counters and gauges add the delta, a timestamp is
            /// replaced when the delta holds one.
            pub fn accumulate(&mut self, delta: &Self) {
                for ((d, v), dv) in $table.iter().zip(self.values_mut()).zip(delta.values()) {
                    match d.kind {
                        MetricKind::Counter | MetricKind::Gauge => *v = v.wrapping_add(dv),
                        MetricKind::Timestamp => {
                            if dv != 0 {
                                *v = dv;
                            }
                        }
                    }
                }
            }
        }
    };
}

stats_table! {
    /// Pool metrics (Dynomite's `STATS_POOL_CODEC`), the object keyed by the pool name.
    struct PoolStats, table POOL_METRICS, len POOL_METRICS_LEN {
        client_eof: Counter = "# eof on client connections",
        client_err: Counter = "# errors on client connections",
        client_connections: Gauge = "# active client connections",
        client_read_requests: Counter = "# client read requests",
        client_write_requests: Counter = "# client write responses",
        client_dropped_requests: Counter = "# client dropped requests",
        client_non_quorum_w_responses: Counter = "# client non quorum write responses",
        client_non_quorum_r_responses: Counter = "# client non quorum read responses",
        server_ejects: Counter = "# times backend server was ejected",
        dnode_client_eof: Counter = "# eof on dnode client connections",
        dnode_client_err: Counter = "# errors on dnode client connections",
        dnode_client_connections: Gauge = "# active dnode client connections",
        dnode_client_in_queue: Gauge = "# dnode client requests in incoming queue",
        dnode_client_in_queue_bytes: Gauge = "current dnode client request bytes in incoming queue",
        dnode_client_out_queue: Gauge = "# dnode client requests in outgoing queue",
        dnode_client_out_queue_bytes: Gauge = "current dnode client request bytes in outgoing queue",
        peer_dropped_requests: Counter = "# local dc peer dropped requests",
        peer_timedout_requests: Counter = "# local dc peer timedout requests",
        remote_peer_dropped_requests: Counter = "# remote dc peer dropped requests",
        remote_peer_timedout_requests: Counter = "# remote dc peer timedout requests",
        remote_peer_failover_requests: Counter = "# remote dc peer failover requests",
        peer_eof: Counter = "# eof on peer connections",
        peer_err: Counter = "# errors on peer connections",
        peer_timedout: Counter = "# timeouts on local dc peer connections",
        remote_peer_timedout: Counter = "# timeouts on remote dc peer connections",
        peer_connections: Gauge = "# active peer connections",
        peer_forward_error: Gauge = "# times we encountered a peer forwarding error",
        peer_requests: Counter = "# peer requests",
        peer_request_bytes: Counter = "total peer request bytes",
        peer_responses: Counter = "# peer respones",
        peer_response_bytes: Counter = "total peer response bytes",
        peer_ejected_at: Timestamp = "timestamp when peer was ejected",
        peer_ejects: Counter = "# times a peer was ejected",
        peer_in_queue: Gauge = "# local dc peer requests in incoming queue",
        remote_peer_in_queue: Gauge = "# remote dc peer requests in incoming queue",
        peer_in_queue_bytes: Gauge = "current peer request bytes in incoming queue",
        remote_peer_in_queue_bytes: Gauge = "current peer request bytes in incoming queue to remote DC",
        peer_out_queue: Gauge = "# local dc peer requests in outgoing queue",
        remote_peer_out_queue: Gauge = "# remote dc peer requests in outgoing queue",
        peer_out_queue_bytes: Gauge = "current peer request bytes in outgoing queue",
        remote_peer_out_queue_bytes: Gauge = "current peer request bytes in outgoing queue to remote DC",
        peer_mismatch_requests: Counter = "current dnode peer mismatched messages",
        forward_error: Counter = "# times we encountered a forwarding error",
        fragments: Counter = "# fragments created from a multi-vector request",
        stats_count: Counter = "# stats request",
    }
}

stats_table! {
    /// Datastore metrics (Dynomite's `STATS_SERVER_CODEC`), the object keyed by the datastore
    /// name, nested as the last member of the pool object.
    struct ServerStats, table SERVER_METRICS, len SERVER_METRICS_LEN {
        server_eof: Counter = "# eof on server connections",
        server_err: Counter = "# errors on server connections",
        server_timedout: Counter = "# timeouts on server connections",
        server_ejected_at: Timestamp = "timestamp when server was ejected in usec since epoch",
        server_dropped_requests: Counter = "# server dropped requests",
        server_timedout_requests: Counter = "# server timedout requests",
        read_requests: Counter = "# read requests",
        read_request_bytes: Counter = "total read request bytes",
        write_requests: Counter = "# write requests",
        write_request_bytes: Counter = "total write request bytes",
        read_responses: Counter = "# read respones",
        read_response_bytes: Counter = "total read response bytes",
        write_responses: Counter = "# write respones",
        write_response_bytes: Counter = "total write response bytes",
        in_queue: Gauge = "# requests in incoming queue",
        in_queue_bytes: Gauge = "current request bytes in incoming queue",
        out_queue: Gauge = "# requests in outgoing queue",
        out_queue_bytes: Gauge = "current request bytes in outgoing queue",
        redis_req_get: Counter = "# Redis get",
        redis_req_set: Counter = "# Redis set",
        redis_req_del: Counter = "# Redis del",
        redis_req_incr_decr: Counter = "# Redis incr or decr",
        redis_req_keys: Counter = "# Redis keys",
        redis_req_mget: Counter = "# Redis mget",
        redis_req_scan: Counter = "# Redis scan",
        redis_req_sort: Counter = "# Redis sort",
        redis_req_lreqm: Counter = "# Redis lreqm",
        redis_req_sunion: Counter = "# Redis sunion",
        redis_req_ping: Counter = "# Redis ping",
        redis_req_lists: Counter = "# Redis lists",
        redis_req_sets: Counter = "# Redis sets",
        redis_req_hashes: Counter = "# Redis hashes",
        redis_req_sortedsets: Counter = "# Redis sortedsets",
        redis_req_other: Counter = "# Redis other",
    }
}

/// Which `/info` numbers a histogram contributes (Dynomite names them three different ways).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InfoShape {
    /// `<name>_max`, `<name>_999th`, `<name>_99th`, `<name>_95th`, `<name>_mean`.
    Full,
    /// `average_<name>`, `99_<name>`.
    AvgP99,
    /// `<name>_99`.
    P99,
}

/// One histogram of the set: its `/info` stem, shape, Prometheus name and help text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HistogramDesc {
    pub name: &'static str,
    pub shape: InfoShape,
    /// Metric family name after `dynomite_` (unit suffixed).
    pub prom_name: &'static str,
    pub help: &'static str,
}

/// Declares [`HistogramSet`] and [`HISTOGRAMS`] from one list, in `/info` order.
macro_rules! histogram_set {
    ($($field:ident: $shape:ident, $prom:literal, $help:literal;)*) => {
        /// Number of histograms in a [`HistogramSet`].
        pub const HISTOGRAM_COUNT: usize = [$(stringify!($field)),*].len();

        /// The histograms, in `/info` order.
        pub const HISTOGRAMS: &[HistogramDesc; HISTOGRAM_COUNT] = &[
            $(HistogramDesc {
                name: stringify!($field),
                shape: InfoShape::$shape,
                prom_name: $prom,
                help: $help,
            },)*
        ];

        /// One `T` per histogram: [`Histograms`] (the live data) or [`InfoNumbers`] (the
        /// summaries `/info` prints).
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        pub struct HistogramSet<T> {
            $(#[doc = $help] pub $field: T,)*
        }

        impl<T> HistogramSet<T> {
            /// The members in [`HISTOGRAMS`] order.
            pub fn as_array(&self) -> [&T; HISTOGRAM_COUNT] {
                [$(&self.$field,)*]
            }

            /// The members in [`HISTOGRAMS`] order, mutably.
            pub fn as_mut_array(&mut self) -> [&mut T; HISTOGRAM_COUNT] {
                [$(&mut self.$field,)*]
            }

            /// Applies `f` to every member.
            pub fn map<U>(&self, mut f: impl FnMut(&T) -> U) -> HistogramSet<U> {
                HistogramSet { $($field: f(&self.$field),)* }
            }
        }
    };
}

histogram_set! {
    latency: Full, "latency_microseconds",
        "Client request latency in microseconds, from request received to reply sent.";
    payload_size: Full, "payload_size_bytes",
        "Size in bytes of each write request received from clients.";
    cross_region_rtt: AvgP99, "cross_region_rtt_microseconds",
        "Microseconds between sending a request to a remote-DC peer and getting its reply.";
    cross_zone_latency: AvgP99, "cross_zone_latency_microseconds",
        "Microseconds between sending a request to a same-DC peer and getting its reply.";
    server_latency: AvgP99, "server_latency_microseconds",
        "Microseconds between sending a request to the local datastore and getting its reply.";
    cross_region_queue_wait: AvgP99, "cross_region_queue_wait_microseconds",
        "Microseconds a request waited in a remote-DC peer connection's queue before being written.";
    cross_zone_queue_wait: AvgP99, "cross_zone_queue_wait_microseconds",
        "Microseconds a request waited in a same-DC peer connection's queue before being written.";
    server_queue_wait: AvgP99, "server_queue_wait_microseconds",
        "Microseconds a request waited in a datastore connection's queue before being written.";
    client_out_queue: P99, "client_out_queue_length",
        "Client out-queue length observed at each enqueue and dequeue.";
    server_in_queue: P99, "server_in_queue_length",
        "Datastore in-queue length observed at each enqueue and dequeue.";
    server_out_queue: P99, "server_out_queue_length",
        "Datastore out-queue length observed at each enqueue and dequeue.";
    dnode_client_out_queue: P99, "dnode_client_out_queue_length",
        "Incoming peer connection out-queue length observed at each enqueue and dequeue.";
    peer_in_queue: P99, "peer_in_queue_length",
        "Same-DC peer in-queue length observed at each enqueue and dequeue.";
    peer_out_queue: P99, "peer_out_queue_length",
        "Same-DC peer out-queue length observed at each enqueue and dequeue.";
    remote_peer_out_queue: P99, "remote_peer_out_queue_length",
        "Remote-DC peer out-queue length observed at each enqueue and dequeue.";
    remote_peer_in_queue: P99, "remote_peer_in_queue_length",
        "Remote-DC peer in-queue length observed at each enqueue and dequeue.";
}

/// The live histograms of a node.
pub type Histograms = HistogramSet<Histogram>;

/// The histogram-derived numbers `/info` prints, already computed.
pub type InfoNumbers = HistogramSet<HistogramSummary>;

impl Histograms {
    /// Resets every histogram (`/historeset`, and the periodic reset).
    pub fn reset_all(&mut self) {
        for h in self.as_mut_array() {
            h.reset();
        }
    }

    /// The summaries `/info` prints.
    pub fn numbers(&self) -> InfoNumbers {
        self.map(Histogram::summary)
    }
}

/// Everything `/info` and `/metrics` show, borrowed from the runtime.
#[derive(Clone, Copy, Debug)]
pub struct Info<'a> {
    /// The host name (`gethostname()`).
    pub source: &'a str,
    pub version: &'a str,
    /// Seconds since the stats were created.
    pub uptime: u64,
    /// Now, in seconds since the Unix epoch.
    pub timestamp: u64,
    pub rack: &'a str,
    pub dc: &'a str,
    pub histograms: &'a Histograms,
    /// Message objects ever allocated (high-water mark).
    pub alloc_msgs: u64,
    /// Message objects in the free list.
    pub free_msgs: u64,
    /// Buffers ever allocated (high-water mark).
    pub alloc_mbufs: u64,
    /// Buffers in the free list.
    pub free_mbufs: u64,
    /// `ru_maxrss` in KiB, as Dynomite reports it.
    pub dyn_memory: u64,
    pub pool_name: &'a str,
    pub pool: &'a PoolStats,
    /// The datastore name (`host:port` of the `servers:` entry).
    pub server_name: &'a str,
    pub server: &'a ServerStats,
}

/// A node-level number of `/info` that is neither a pool metric nor a histogram.
pub(crate) struct NodeGauge {
    pub key: &'static str,
    pub prom_name: &'static str,
    pub help: &'static str,
    /// Multiplier applied for Prometheus (KiB to bytes).
    pub scale: u64,
    pub get: fn(&Info<'_>) -> u64,
}

/// The numbers `/info` prints after the histograms, in order.
pub(crate) const NODE_GAUGES: [NodeGauge; 5] = [
    NodeGauge {
        key: "alloc_msgs",
        prom_name: "alloc_msgs",
        help: "Message objects ever allocated (high-water mark).",
        scale: 1,
        get: |i| i.alloc_msgs,
    },
    NodeGauge {
        key: "free_msgs",
        prom_name: "free_msgs",
        help: "Message objects in the free list.",
        scale: 1,
        get: |i| i.free_msgs,
    },
    NodeGauge {
        key: "alloc_mbufs",
        prom_name: "alloc_mbufs",
        help: "Buffers ever allocated (high-water mark).",
        scale: 1,
        get: |i| i.alloc_mbufs,
    },
    NodeGauge {
        key: "free_mbufs",
        prom_name: "free_mbufs",
        help: "Buffers in the free list.",
        scale: 1,
        get: |i| i.free_mbufs,
    },
    NodeGauge {
        key: "dyn_memory",
        prom_name: "dyn_memory_bytes",
        help: "Peak resident set size of the process (ru_maxrss).",
        scale: 1024,
        get: |i| i.dyn_memory,
    },
];

/// A field of our own appended to `/info` after `dyn_memory` (Dynomite's fields keep their
/// order so existing scrapers are unaffected).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExtraValue<'a> {
    Str(&'a str),
    Num(u64),
    Bool(bool),
}

/// One of our own figures: its name (in `/info`, memcached `stats` as `dyn_<name>`, and
/// `/metrics` as `dynomite_<name>`, with `_total` for a counter), what it says, and its
/// Prometheus kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtraDesc {
    pub name: &'static str,
    pub description: &'static str,
    /// `counter` (only grows), `gauge` (a level) or `info` (a label, value 1).
    pub kind: &'static str,
}

const fn extra(name: &'static str, kind: &'static str, description: &'static str) -> ExtraDesc {
    ExtraDesc {
        name,
        description,
        kind,
    }
}

/// Every figure of our own, in `/info` order: the stats table `-D` prints after Dynomite's.
pub const EXTRAS: &[ExtraDesc] = &[
    extra(
        "state",
        "info",
        "the node's state (NORMAL, STANDBY, WRITES_ONLY, RESUMING, ...)",
    ),
    extra(
        "read_consistency",
        "info",
        "the node's read consistency level",
    ),
    extra(
        "write_consistency",
        "info",
        "the node's write consistency level",
    ),
    extra(
        "read_failovers",
        "counter",
        "# reads served by another rack (local owner down)",
    ),
    extra(
        "crossslot_refusals",
        "counter",
        "# requests refused: keys on different nodes",
    ),
    extra(
        "script_refusals",
        "counter",
        "# replicated scripts refused: non-deterministic calls",
    ),
    extra(
        "admin_unauthorized",
        "counter",
        "# stats-port calls refused: no or wrong admin token (401)",
    ),
    extra(
        "admin_not_found",
        "counter",
        "# stats-port requests for a path that is no endpoint (404)",
    ),
    extra("peers_down", "gauge", "peers seen DOWN now"),
    extra(
        "datastore_connected",
        "gauge",
        "datastore connections up now",
    ),
    extra("hints", "gauge", "writes kept for peers that missed them"),
    extra("hints_bytes", "gauge", "bytes of the writes kept for peers"),
    extra(
        "hints_stored",
        "counter",
        "# writes kept for a peer (hinted)",
    ),
    extra(
        "hints_replayed",
        "counter",
        "# kept writes replayed to their peer",
    ),
    extra(
        "hints_dropped",
        "counter",
        "# kept writes dropped (over a bound or too old)",
    ),
    extra(
        "hints_expired",
        "counter",
        "# kept writes dropped for being older than hints_max_age",
    ),
    extra(
        "hints_oldest_age_ms",
        "gauge",
        "age of the oldest kept write (ms; 0 none)",
    ),
    extra(
        "read_repair_writes",
        "counter",
        "# writes recorded with their moment (read repair)",
    ),
    extra(
        "read_repair_reads",
        "counter",
        "# quorum reads decided by their replicas' moments",
    ),
    extra(
        "read_repair_keys",
        "counter",
        "# reads that found replicas behind (keys repaired)",
    ),
    extra(
        "read_repairs_issued",
        "counter",
        "# repair writes sent to replicas behind",
    ),
    extra(
        "read_repair_cleanups",
        "counter",
        "# delete tombstones cleaned up once replicas agreed",
    ),
    extra(
        "buffer_memory",
        "gauge",
        "bytes of requests and replies buffered now",
    ),
    extra(
        "max_buffer_memory",
        "gauge",
        "the budget for buffered bytes (max_buffer_memory)",
    ),
    extra(
        "buffer_memory_released",
        "counter",
        "# bytes of buffer storage given back to the system",
    ),
    extra(
        "clients_paused_memory",
        "counter",
        "# times a client was not read: node near max_buffer_memory",
    ),
    extra(
        "clients_closed_memory",
        "counter",
        "# clients closed: node over max_buffer_memory",
    ),
    extra(
        "clients_closed_unread",
        "counter",
        "# clients closed: 256 MiB of replies left unread",
    ),
    extra(
        "clients_rejected",
        "counter",
        "# clients refused: client_connections reached",
    ),
    extra(
        "requests_over_limits",
        "counter",
        "# requests over a request cap (client closed)",
    ),
    extra(
        "peers_refused_plain",
        "counter",
        "# peer connections refused: not TLS (peer_tls_required)",
    ),
    extra(
        "peer_frames_malformed",
        "counter",
        "# peer connections closed for a malformed frame",
    ),
    extra(
        "gossip_nodes_refused",
        "counter",
        "# gossiped nodes not added: max_gossip_nodes reached",
    ),
    extra(
        "tls_handshakes",
        "counter",
        "# TLS handshakes completed by clients (tls_listen)",
    ),
    extra(
        "tls_handshake_failures",
        "counter",
        "# TLS clients refused or gone mid-handshake",
    ),
    extra(
        "datastore_tls_handshakes",
        "counter",
        "# TLS handshakes completed with the datastore",
    ),
    extra(
        "datastore_tls_handshake_failures",
        "counter",
        "# TLS handshakes with the datastore that failed",
    ),
];

/// The declaration of our figure `name` (a `/metrics` name may end in `_total`).
pub fn extra_desc(name: &str) -> Option<&'static ExtraDesc> {
    let base = name.strip_suffix("_total").unwrap_or(name);
    EXTRAS.iter().find(|d| d.name == base)
}

/// Appends `s` as the inside of a JSON string (quotes not included).
pub fn json_escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
}

fn json_key(out: &mut String, key: &str) {
    out.push('"');
    json_escape_into(out, key);
    out.push_str("\":");
}

/// Dynomite's string member: `"k":"v",` with no newline.
fn json_str(out: &mut String, key: &str, value: &str) {
    json_key(out, key);
    out.push('"');
    json_escape_into(out, value);
    out.push_str("\",");
}

/// Dynomite's number member: `"k":N,` and a newline.
fn json_num(out: &mut String, key: &str, value: u64) {
    json_key(out, key);
    let _ = writeln!(out, "{value},");
}

/// The `/info` number of a histogram under a generated key: `prefix name suffix`.
fn json_num3(out: &mut String, prefix: &str, name: &str, suffix: &str, value: u64) {
    out.push('"');
    out.push_str(prefix);
    out.push_str(name);
    out.push_str(suffix);
    let _ = writeln!(out, "\":{value},");
}

/// Renders `/info` from the live histograms (see [`render_info_numbers`]).
pub fn render_info(info: &Info<'_>, extra: &[(&str, ExtraValue<'_>)], out: &mut String) {
    let numbers = info.histograms.numbers();
    render_info_numbers(info, &numbers, extra, out);
}

/// Renders `/info` exactly as Dynomite C lays it out (strings `"k":"v",`, numbers
/// `"k":N,\n`, the pool object then the datastore object nested last, closing `}}}\n`), with
/// the histogram numbers given. `extra` fields go after `dyn_memory`. Always valid JSON: names
/// from the configuration are escaped.
pub fn render_info_numbers(
    info: &Info<'_>,
    numbers: &InfoNumbers,
    extra: &[(&str, ExtraValue<'_>)],
    out: &mut String,
) {
    out.push('{');
    json_str(out, "service", "dynomite");
    json_str(out, "source", info.source);
    json_str(out, "version", info.version);
    json_num(out, "uptime", info.uptime);
    json_num(out, "timestamp", info.timestamp);
    json_str(out, "rack", info.rack);
    json_str(out, "dc", info.dc);
    for (d, n) in HISTOGRAMS.iter().zip(numbers.as_array()) {
        match d.shape {
            InfoShape::Full => {
                json_num3(out, "", d.name, "_max", n.max);
                json_num3(out, "", d.name, "_999th", n.p999);
                json_num3(out, "", d.name, "_99th", n.p99);
                json_num3(out, "", d.name, "_95th", n.p95);
                json_num3(out, "", d.name, "_mean", n.mean);
            }
            InfoShape::AvgP99 => {
                json_num3(out, "average_", d.name, "", n.mean);
                json_num3(out, "99_", d.name, "", n.p99);
            }
            InfoShape::P99 => json_num3(out, "", d.name, "_99", n.p99),
        }
    }
    for g in &NODE_GAUGES {
        json_num(out, g.key, (g.get)(info));
    }
    for (k, v) in extra {
        match *v {
            ExtraValue::Str(s) => json_str(out, k, s),
            ExtraValue::Num(n) => json_num(out, k, n),
            ExtraValue::Bool(b) => {
                json_key(out, k);
                out.push_str(if b { "true,\n" } else { "false,\n" });
            }
        }
    }
    json_key(out, info.pool_name);
    out.push_str(" {");
    for (d, v) in info.pool.iter() {
        json_num(out, d.name, v);
    }
    json_key(out, info.server_name);
    out.push_str(" {");
    let mut first = true;
    for (d, v) in info.server.iter() {
        if !first {
            out.push_str(",\n");
        }
        first = false;
        json_key(out, d.name);
        let _ = write!(out, "{v}");
    }
    out.push_str("\n}}}\n");
}

/// The `-D` text after the version line: `pool stats:`, one `  %-20s"<description>"` line per
/// pool metric, an empty line, `server stats:` and the server metrics.
pub fn describe(out: &mut String) {
    out.push_str("pool stats:\n");
    for d in POOL_METRICS {
        let _ = writeln!(out, "  {:<20}\"{}\"", d.name, d.description);
    }
    out.push_str("\nserver stats:\n");
    for d in SERVER_METRICS {
        let _ = writeln!(out, "  {:<20}\"{}\"", d.name, d.description);
    }
    out.push_str("\nown stats (after Dynomite's in /info; /metrics: dynomite_<name>, _total for counters):\n");
    for d in EXTRAS {
        let _ = writeln!(out, "  {:<20}\"{}\" ({})", d.name, d.description, d.kind);
    }
}

/// One node of `/cluster_describe`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DescribeServer {
    /// The node's IP address.
    pub name: String,
    pub host: String,
    /// Its peer (dnode) port.
    pub port: u16,
    pub token: u32,
    /// Ours: the node's state as the answering node sees it (its own state for itself,
    /// `NORMAL` or `DOWN` for a peer), and since when (unix ms, 0 = since start).
    pub state: &'static str,
    pub since_ms: u64,
    /// Ours: writes kept for the peer, and writes it lost for good (hints over the bound).
    pub hints: u64,
    pub hints_lost: u64,
}

/// One rack of `/cluster_describe`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DescribeRack {
    pub name: String,
    pub servers: Vec<DescribeServer>,
}

/// One datacenter of `/cluster_describe`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DescribeDc {
    pub name: String,
    pub racks: Vec<DescribeRack>,
}

/// Renders `/cluster_describe` with Dynomite's separators:
/// `{"dcs": [{"name":"dc1","racks": [{"name":"r1","servers": [{"name":"10.0.0.1",`
/// `"host":"h1","port":8101,\n"token":1383429731\n}]}]}]}\n`.
pub fn render_cluster_describe(dcs: &[DescribeDc], out: &mut String) {
    out.push_str("{\"dcs\": [");
    for (i, dc) in dcs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('{');
        json_str(out, "name", &dc.name);
        out.push_str("\"racks\": [");
        for (j, rack) in dc.racks.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            out.push('{');
            json_str(out, "name", &rack.name);
            out.push_str("\"servers\": [");
            for (k, s) in rack.servers.iter().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                out.push('{');
                json_str(out, "name", &s.name);
                json_str(out, "host", &s.host);
                json_num(out, "port", u64::from(s.port));
                json_str(out, "state", s.state);
                json_num(out, "since", s.since_ms);
                json_num(out, "hints", s.hints);
                json_num(out, "hints_lost", s.hints_lost);
                json_key(out, "token");
                let _ = writeln!(out, "{}", s.token);
                out.push('}');
            }
            out.push_str("]}");
        }
        out.push_str("]}");
    }
    out.push_str("]}\n");
}

#[cfg(test)]
mod tests;
