//! `/metrics`: the stats tables of [`super`] in Prometheus text exposition format 0.0.4.
//!
//! Naming: `dynomite_<metric>`; counters get `_total`; Dynomite's timestamps (milliseconds)
//! become `dynomite_<metric>_timestamp_seconds`; histograms are real Prometheus histograms
//! (`_bucket{le=...}`, `_sum`, `_count`) named with their unit (`_microseconds`, `_bytes`,
//! `_length`), exposing every [`BUCKET_STEP`]-th bucket bound plus `+Inf`. The `# HELP` text of
//! a pool or server metric is its `-D` description. Labels: `rack` and `dc` on every sample,
//! `pool` on pool and datastore metrics, `datastore` on datastore metrics.
//!
//! The derived `/info` numbers (`latency_99th`, `99_cross_region_rtt`, ...) are not exported:
//! Prometheus computes quantiles from the histograms.

use std::fmt::Write as _;

use super::{ExtraValue, Info, MetricKind, HISTOGRAMS, NODE_GAUGES};
use crate::stats::histogram::{BOUNDS, BUCKETS};

/// Every how many bucket bounds one `le` bucket is exported (0, 4, 8, ..., 92, then `+Inf`).
pub const BUCKET_STEP: usize = 4;

/// `\`, `"` and newline escaped, as label values require.
fn label_value(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// `\` and newline escaped, as `# HELP` text requires.
fn help_text(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// A metric or label name made valid: `[a-zA-Z0-9_]`, anything else becomes `_`, and a
/// leading digit gets a `_` in front.
fn name_part(out: &mut String, s: &str) {
    if s.starts_with(|c: char| c.is_ascii_digit()) || s.is_empty() {
        out.push('_');
    }
    for c in s.chars() {
        out.push(if c.is_ascii_alphanumeric() || c == '_' {
            c
        } else {
            '_'
        });
    }
}

/// `# HELP` and `# TYPE` lines of family `dynomite_<name><suffix>`.
fn family(out: &mut String, name: &str, suffix: &str, help: &str, kind: &str) {
    out.push_str("# HELP dynomite_");
    name_part(out, name);
    out.push_str(suffix);
    out.push(' ');
    help_text(out, help);
    out.push_str("\n# TYPE dynomite_");
    name_part(out, name);
    out.push_str(suffix);
    out.push(' ');
    out.push_str(kind);
    out.push('\n');
}

/// `dynomite_<name><suffix>{<labels>[,<k>="<v>"]} ` (the value follows).
fn sample_start(
    out: &mut String,
    name: &str,
    suffix: &str,
    labels: &str,
    extra: Option<(&str, &str)>,
) {
    out.push_str("dynomite_");
    name_part(out, name);
    out.push_str(suffix);
    out.push('{');
    out.push_str(labels);
    if let Some((k, v)) = extra {
        out.push(',');
        name_part(out, k);
        out.push_str("=\"");
        label_value(out, v);
        out.push('"');
    }
    out.push_str("} ");
}

fn labels(pairs: &[(&str, &str)]) -> String {
    let mut s = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(k);
        s.push_str("=\"");
        label_value(&mut s, v);
        s.push('"');
    }
    s
}

/// Milliseconds since the epoch as seconds with up to three decimals.
fn millis_as_seconds(out: &mut String, ms: u64) {
    let (secs, frac) = (ms / 1000, ms % 1000);
    if frac == 0 {
        let _ = write!(out, "{secs}");
    } else {
        let _ = write!(out, "{secs}.{frac:03}");
    }
}

fn stats_family(out: &mut String, labels: &str, d: &super::MetricDesc, v: u64) {
    match d.kind {
        MetricKind::Counter => {
            family(out, d.name, "_total", d.description, "counter");
            sample_start(out, d.name, "_total", labels, None);
            let _ = writeln!(out, "{v}");
        }
        MetricKind::Gauge => {
            family(out, d.name, "", d.description, "gauge");
            sample_start(out, d.name, "", labels, None);
            let _ = writeln!(out, "{v}");
        }
        MetricKind::Timestamp => {
            family(out, d.name, "_timestamp_seconds", d.description, "gauge");
            sample_start(out, d.name, "_timestamp_seconds", labels, None);
            millis_as_seconds(out, v);
            out.push('\n');
        }
    }
}

/// Renders every stat of `info`.
pub fn render_prometheus(info: &Info<'_>, out: &mut String) {
    render_prometheus_with_extra(info, &[], out);
}

/// Renders every stat of `info` and the `extra` fields: numbers and booleans as gauges
/// `dynomite_<field>`, strings as a gauge of value 1 carrying the string in a label named like
/// the field (`dynomite_state{...,state="NORMAL"} 1`).
pub fn render_prometheus_with_extra(
    info: &Info<'_>,
    extra: &[(&str, ExtraValue<'_>)],
    out: &mut String,
) {
    let node = labels(&[("rack", info.rack), ("dc", info.dc)]);
    let pool = labels(&[
        ("pool", info.pool_name),
        ("rack", info.rack),
        ("dc", info.dc),
    ]);
    let server = labels(&[
        ("pool", info.pool_name),
        ("datastore", info.server_name),
        ("rack", info.rack),
        ("dc", info.dc),
    ]);
    let identity = labels(&[
        ("source", info.source),
        ("version", info.version),
        ("rack", info.rack),
        ("dc", info.dc),
    ]);

    family(
        out,
        "info",
        "",
        "Node identity: host name, version, rack and datacenter (value is always 1).",
        "gauge",
    );
    sample_start(out, "info", "", &identity, None);
    out.push_str("1\n");

    family(
        out,
        "uptime_seconds",
        "",
        "Seconds since the stats were created.",
        "gauge",
    );
    sample_start(out, "uptime_seconds", "", &node, None);
    let _ = writeln!(out, "{}", info.uptime);

    for g in &NODE_GAUGES {
        family(out, g.prom_name, "", g.help, "gauge");
        sample_start(out, g.prom_name, "", &node, None);
        let _ = writeln!(out, "{}", (g.get)(info).saturating_mul(g.scale));
    }

    for (k, v) in extra {
        let desc = super::extra_desc(k);
        let ty = match desc.map(|d| d.kind) {
            Some("counter") if k.ends_with("_total") => "counter",
            _ => "gauge",
        };
        family(out, k, "", desc.map_or(k, |d| d.description), ty);
        match *v {
            ExtraValue::Num(n) => {
                sample_start(out, k, "", &node, None);
                let _ = writeln!(out, "{n}");
            }
            ExtraValue::Bool(b) => {
                sample_start(out, k, "", &node, None);
                out.push_str(if b { "1\n" } else { "0\n" });
            }
            ExtraValue::Str(s) => {
                sample_start(out, k, "", &node, Some((k, s)));
                out.push_str("1\n");
            }
        }
    }

    for (d, v) in info.pool.iter() {
        stats_family(out, &pool, d, v);
    }
    for (d, v) in info.server.iter() {
        stats_family(out, &server, d, v);
    }

    for (d, h) in HISTOGRAMS.iter().zip(info.histograms.as_array()) {
        family(out, d.prom_name, "", d.help, "histogram");
        let mut cum = 0u64;
        for (i, &c) in h.counts().iter().enumerate().take(BUCKETS - 1) {
            cum = cum.wrapping_add(c);
            if i % BUCKET_STEP == 0 {
                let le = BOUNDS[i].to_string();
                sample_start(out, d.prom_name, "_bucket", &node, Some(("le", &le)));
                let _ = writeln!(out, "{cum}");
            }
        }
        sample_start(out, d.prom_name, "_bucket", &node, Some(("le", "+Inf")));
        let _ = writeln!(out, "{}", h.count());
        sample_start(out, d.prom_name, "_sum", &node, None);
        let _ = writeln!(out, "{}", h.sum());
        sample_start(out, d.prom_name, "_count", &node, None);
        let _ = writeln!(out, "{}", h.count());
    }
}
