//! `dynoctl warmup`: fill a node's empty or stale Redis from a replica in another rack, the way
//! dynomite-manager's warm bootstrap does it (SPEC Part C.3, §10.2), made safe.
//!
//! The sequence, every step logged to stderr with a timestamp:
//!
//! 1. check: the node's stats port answers, its datastore answers PING (a Memcached datastore
//!    is refused: it has no replication), the source is chosen: the same-token node in another
//!    rack of the node's DC whose datastore has been up longest;
//! 2. `standby`: while its datastore is a replica the node refuses reads (no stale or empty
//!    answers) and writes (they reach the datastore through replication instead);
//! 3. `SLAVEOF source` on the node's datastore, directly (a full sync replaces its data);
//! 4. poll both datastores' `INFO` every `--interval` until the replica's link is up and its
//!    offset is at most `--max-lag-bytes` behind the source's; fail on `--timeout`, on a gap
//!    that grew `--max-growing-polls` polls in a row, or on 10 failed polls in a row;
//! 5. `writes_only`: the node holds the writes it receives from now on;
//! 6. catch-up: wait until the replica has applied everything the source had once the node
//!    held writes (so no write acknowledged before the switch is lost; dynomite-manager skips
//!    this);
//! 7. `SLAVEOF NO ONE`;
//! 8. `resuming` (the held writes are sent), then `--resume-wait`;
//! 9. `normal`, verified in `/info`.
//!
//! Unlike dynomite-manager, an error reply from Redis is a failure (never counted as success),
//! and the warm-up runs whether or not the datastore is alive and holds data. A failure leaves
//! the node in a named state (STANDBY with its datastore still following the source, until the
//! promotion), with the commands to continue or roll back.

use std::collections::BTreeMap;
use std::io::{self, IsTerminal, Write};
use std::net::IpAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use dynomite::client::{self, parse_info, Connection, Reply};
use serde::Serialize;

use crate::admin::{state_set, TargetState};
use crate::cli::WarmupArgs;
use crate::duration::{show_duration, span};
use crate::output::{Block, CliError, Render};
use crate::stats::{node_addr, Stats};

/// Connect timeout and read/write timeout of datastore connections.
const REDIS_TIMEOUT: Duration = Duration::from_secs(5);
/// Failed polls in a row that end the sync.
const MAX_POLL_ERRORS: u32 = 10;
/// The longest the final catch-up may take: the node holds writes meanwhile, and they fail
/// after its `timeout` (5 s by default).
const CATCH_UP_LIMIT: Duration = Duration::from_secs(2);
/// Time given to writes in flight at the switch to WRITES_ONLY to reach the source.
const SETTLE: Duration = Duration::from_millis(200);
/// The number of steps, for `[n/9]` in the log.
const STEPS: usize = 9;

/// The message for a Memcached node.
pub const MEMCACHED: &str = "warm-up is not possible for memcached: it has no replication";

/// One step of the warm-up.
#[derive(Clone, Debug, Serialize)]
pub struct StepReport {
    /// `check`, `standby`, `replicaof`, `sync`, `writes_only`, `catch_up`, `promote`,
    /// `resuming`, `normal`.
    pub step: &'static str,
    /// `ok`, `failed`, `planned` (dry run) or `skipped` (not reached).
    pub outcome: &'static str,
    /// Milliseconds since the warm-up started.
    pub started_ms: u64,
    pub elapsed_ms: u64,
    pub detail: String,
}

/// A datastore the node could be warmed up from.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Candidate {
    /// The datastore, as the node's redis-server will connect to it.
    pub datastore: String,
    /// `--peer-datastore` or the config file.
    pub from: String,
    /// The node's stats address, when known (from its config file).
    pub stats: Option<String>,
    pub rack: Option<String>,
    /// The redis-server's `uptime_in_seconds`.
    pub datastore_uptime_s: Option<u64>,
    /// The node's `/info` uptime.
    pub node_uptime_s: Option<u64>,
    pub keys: Option<u64>,
    /// `master` or `slave`.
    pub role: Option<String>,
    /// Why it cannot be used.
    pub error: Option<String>,
    pub chosen: bool,
    #[serde(skip)]
    password: Option<String>,
}

impl Candidate {
    /// What the choice is made on: how long the datastore has held its data (and the node
    /// served it, when known).
    fn score(&self) -> Option<u64> {
        match (self.datastore_uptime_s, self.node_uptime_s) {
            (Some(d), Some(n)) => Some(d.min(n)),
            (d, _) => d,
        }
    }
}

/// The result of `dynoctl warmup`.
#[derive(Serialize)]
pub struct WarmupReport {
    pub node: String,
    pub datastore: String,
    pub source: Option<String>,
    pub candidates: Vec<Candidate>,
    pub dry_run: bool,
    /// The warm-up completed (or, with `--dry-run`, could start).
    pub ok: bool,
    pub max_lag_bytes: u64,
    pub timeout_ms: u64,
    pub max_growing_polls: u32,
    pub steps: Vec<StepReport>,
    /// Keys in the node's datastore before and after.
    pub keys_before: Option<u64>,
    pub keys_after: Option<u64>,
    /// Keys in the source when the sync was reached.
    pub source_keys: Option<u64>,
    /// Bytes the replica was behind when the sync was reached.
    pub lag_bytes: Option<u64>,
    pub elapsed_ms: u64,
    /// Why the warm-up failed.
    pub error: Option<String>,
    /// The node's state and its datastore's role after a failure.
    pub left_in: Option<String>,
    /// Commands that continue the warm-up after a failure.
    pub to_continue: Vec<String>,
    /// Commands that roll it back after a failure.
    pub to_roll_back: Vec<String>,
}

impl Render for WarmupReport {
    fn human(&self) -> Vec<Block> {
        let rows = self
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| {
                vec![
                    format!("{}", i + 1),
                    s.step.to_string(),
                    s.outcome.to_string(),
                    if s.outcome == "planned" || s.outcome == "skipped" {
                        "-".into()
                    } else {
                        show_duration(Duration::from_millis(s.elapsed_ms))
                    },
                    s.detail.clone(),
                ]
            })
            .collect();
        let mut lines = Vec::new();
        let source = self.source.as_deref().unwrap_or("-");
        if self.dry_run {
            lines.push(format!(
                "plan: warm up {} (datastore {}) from {source}; nothing was changed",
                self.node, self.datastore
            ));
            lines.push(format!(
                "thresholds: in sync at <= {} bytes behind; give up after {} or {} growing polls",
                self.max_lag_bytes,
                span(Duration::from_millis(self.timeout_ms)),
                self.max_growing_polls
            ));
        } else if self.ok {
            lines.push(format!(
                "{} warmed up from {source} in {}: {} keys (source {} keys, {} bytes behind at the switch)",
                self.node,
                show_duration(Duration::from_millis(self.elapsed_ms)),
                opt(&self.keys_after),
                opt(&self.source_keys),
                opt(&self.lag_bytes)
            ));
        } else {
            lines.push(format!(
                "warm-up of {} FAILED: {}",
                self.node,
                self.error.as_deref().unwrap_or("-")
            ));
            if let Some(l) = &self.left_in {
                lines.push(format!("left in: {l}"));
            }
            if !self.to_continue.is_empty() {
                lines.push("to continue:".into());
                lines.extend(self.to_continue.iter().map(|c| format!("  {c}")));
            }
            if !self.to_roll_back.is_empty() {
                lines.push("to roll back:".into());
                lines.extend(self.to_roll_back.iter().map(|c| format!("  {c}")));
            }
        }
        let cands = self
            .candidates
            .iter()
            .map(|c| {
                vec![
                    c.datastore.clone(),
                    c.rack.clone().unwrap_or_else(|| "-".into()),
                    opt(&c.datastore_uptime_s),
                    opt(&c.node_uptime_s),
                    opt(&c.keys),
                    c.role.clone().unwrap_or_else(|| "-".into()),
                    if c.chosen {
                        "source".into()
                    } else {
                        c.error.clone().unwrap_or_else(|| "-".into())
                    },
                ]
            })
            .collect();
        vec![
            Block::Table {
                headers: vec!["#", "step", "result", "time", "detail"],
                rows,
            },
            Block::Table {
                headers: vec![
                    "candidate",
                    "rack",
                    "datastore_uptime_s",
                    "node_uptime_s",
                    "keys",
                    "role",
                    "note",
                ],
                rows: cands,
            },
            Block::Lines(lines),
        ]
    }
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map_or_else(|| "-".to_string(), T::to_string)
}

// ---------------------------------------------------------------------------------------------
// Datastore connections.

/// One connection to a redis-server, with the warm-up's messages.
struct Redis {
    conn: Connection,
}

impl Redis {
    fn connect(addr: &str) -> Result<Redis, client::Error> {
        Connection::connect(addr, REDIS_TIMEOUT).map(|conn| Redis { conn })
    }

    /// Connect, and AUTH when a password is given (a password in the config of a datastore
    /// that has none is not an error).
    fn open(addr: &str, password: Option<&str>) -> Result<Redis, String> {
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

    fn call(&mut self, args: &[&str]) -> Result<Reply, client::Error> {
        self.conn.call(args)
    }

    /// A command whose reply must not be an error: its status or bulk text.
    fn ok(&mut self, args: &[&str]) -> Result<String, String> {
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
    fn info(&mut self, section: Option<&str>) -> Result<BTreeMap<String, String>, String> {
        let text = match section {
            Some(s) => self.ok(&["INFO", s])?,
            None => self.ok(&["INFO"])?,
        };
        Ok(parse_info(&text))
    }
}

fn num(info: &BTreeMap<String, String>, key: &str) -> Option<u64> {
    info.get(key).and_then(|v| v.trim().parse().ok())
}

/// The keys of every database (`db0:keys=12,expires=0,avg_ttl=0`).
fn keys_of(info: &BTreeMap<String, String>) -> u64 {
    info.iter()
        .filter(|(k, _)| k.starts_with("db") && k[2..].chars().all(|c| c.is_ascii_digit()))
        .filter_map(|(_, v)| {
            v.split(',')
                .find_map(|f| f.strip_prefix("keys="))
                .and_then(|n| n.parse::<u64>().ok())
        })
        .sum()
}

// ---------------------------------------------------------------------------------------------
// Logging.

/// Seconds since the epoch as `2024-05-01T12:34:56Z`.
fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn now() -> String {
    utc(SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()))
}

/// Writes timestamped lines and the progress line to stderr.
struct Log {
    tty: bool,
    /// Length of the progress line on screen (tty only), 0 if none.
    drawn: usize,
}

impl Log {
    fn new() -> Log {
        Log {
            tty: io::stderr().is_terminal(),
            drawn: 0,
        }
    }

    fn line(&mut self, msg: &str) {
        let mut e = io::stderr().lock();
        if self.drawn > 0 {
            let _ = write!(e, "\r{}\r", " ".repeat(self.drawn));
            self.drawn = 0;
        }
        let _ = writeln!(e, "dynoctl: {} warmup: {msg}", now());
    }

    fn progress(&mut self, msg: &str) {
        if !self.tty {
            self.line(msg);
            return;
        }
        let text = format!("dynoctl: {} warmup: {msg}", now());
        let pad = self.drawn.saturating_sub(text.chars().count());
        let mut e = io::stderr().lock();
        let _ = write!(e, "\r{text}{}", " ".repeat(pad));
        let _ = e.flush();
        self.drawn = text.chars().count();
    }

    /// End a progress line (tty): keep it on screen.
    fn done_progress(&mut self) {
        if self.drawn > 0 {
            let _ = writeln!(io::stderr().lock());
            self.drawn = 0;
        }
    }
}

fn bytes(n: u64) -> String {
    let f = n as f64;
    if n < 1024 {
        format!("{n} B")
    } else if f < 1024.0 * 1024.0 {
        format!("{:.1} KiB", f / 1024.0)
    } else if f < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.1} MiB", f / (1024.0 * 1024.0))
    } else {
        format!("{:.2} GiB", f / (1024.0 * 1024.0 * 1024.0))
    }
}

fn eta(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return "?".into();
    }
    let s = secs.ceil() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, s % 3600 / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

// ---------------------------------------------------------------------------------------------
// The warm-up.

/// `host:port` of a datastore argument.
fn datastore_addr(arg: &str, what: &str) -> Result<String, CliError> {
    let a = arg.trim();
    match a.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0) => Ok(a.to_string()),
        _ => Err(CliError::new(format!(
            "bad {what} \"{arg}\": want HOST:PORT"
        ))),
    }
}

/// Host and port of `host:port` (brackets of an IPv6 host removed).
fn split_addr(addr: &str) -> (String, String) {
    let (h, p) = addr.rsplit_once(':').unwrap_or((addr, ""));
    (
        h.trim_start_matches('[').trim_end_matches(']').to_string(),
        p.to_string(),
    )
}

fn is_local(host: &str) -> bool {
    matches!(host, "" | "0.0.0.0" | "::" | "[::]" | "localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A listen host to connect to: an unspecified host means this machine.
fn connect_host(host: &str) -> &str {
    match host {
        "" | "0.0.0.0" | "::" | "[::]" => "127.0.0.1",
        h => h,
    }
}

fn load_config(path: &std::path::Path) -> Result<dynomite::conf::Config, CliError> {
    dynomite::conf::load(path).map_err(|e| {
        CliError::new(format!("invalid config:\n{e}")).with_hint(format!(
            "run `dynoctl conf-test {}` for details",
            path.display()
        ))
    })
}

/// The TCP datastore of a config.
fn config_datastore(
    c: &dynomite::conf::Config,
    path: &std::path::Path,
) -> Result<String, CliError> {
    if c.server.unix.is_some() || c.server.port == 0 {
        return Err(CliError::new(format!(
            "{}: the datastore is a unix socket ({}): replication needs a TCP address",
            path.display(),
            c.server.host
        ))
        .with_hint("give --datastore HOST:PORT / --peer-datastore HOST:PORT"));
    }
    Ok(format!("{}:{}", c.server.host, c.server.port))
}

/// What the node is known to be, from its config and `/info`.
struct Me {
    node: String,
    datastore: String,
    password: Option<String>,
    dc: String,
    rack: String,
    token: Option<u32>,
    /// The node's request timeout, when known (held writes fail after it).
    timeout: Option<Duration>,
    state: String,
}

/// The state of a warm-up in progress, for the failure message.
struct Run {
    args_line: String,
    me: Me,
    source: String,
    stats: Stats,
    log: Log,
    start: Instant,
    steps: Vec<StepReport>,
    /// The node's datastore was told to replicate.
    replica: bool,
    /// ... and was promoted back.
    promoted: bool,
    /// The node was told to hold writes.
    writes_only: bool,
}

impl Run {
    fn begin(&mut self, step: &'static str, what: &str) -> (Instant, &'static str) {
        let n = self.steps.len() + 1;
        self.log.line(&format!("[{n}/{STEPS}] {step}: {what}"));
        (Instant::now(), step)
    }

    fn end(&mut self, started: (Instant, &'static str), ok: bool, detail: String) {
        let (at, step) = started;
        let n = self.steps.len() + 1;
        self.log.done_progress();
        self.log.line(&format!(
            "[{n}/{STEPS}] {step}: {} ({}): {detail}",
            if ok { "ok" } else { "FAILED" },
            show_duration(at.elapsed())
        ));
        self.steps.push(StepReport {
            step,
            outcome: if ok { "ok" } else { "failed" },
            started_ms: at.duration_since(self.start).as_millis() as u64,
            elapsed_ms: at.elapsed().as_millis() as u64,
            detail,
        });
    }

    fn redis_cli(&self, addr: &str, cmd: &str) -> String {
        let (h, p) = split_addr(addr);
        let auth = if self.me.password.is_some() {
            " -a <datastore_password>"
        } else {
            ""
        };
        format!("redis-cli -h {h} -p {p}{auth} {cmd}")
    }

    fn state_cmd(&self, state: &str) -> String {
        format!("dynoctl state set {} {state}", self.me.node)
    }

    /// The state the node reports now, for messages.
    fn node_state(&self) -> String {
        match self.stats.try_state(&self.me.node) {
            Ok(s) => s,
            Err(e) => format!("unknown (the node does not answer: {e})"),
        }
    }

    /// The datastore's role now, for messages.
    fn datastore_role(&self) -> String {
        match Redis::open(&self.me.datastore, self.me.password.as_deref())
            .and_then(|mut r| r.info(Some("replication")))
        {
            Ok(i) if i.get("role").map(String::as_str) == Some("slave") => format!(
                "a replica of {}:{} (link {})",
                i.get("master_host").map_or("?", String::as_str),
                i.get("master_port").map_or("?", String::as_str),
                i.get("master_link_status").map_or("?", String::as_str)
            ),
            Ok(i) => i.get("role").cloned().unwrap_or_else(|| "?".into()),
            Err(e) => format!("unknown ({e})"),
        }
    }

    /// Put the node back in STANDBY after a failure while its datastore still replicates:
    /// no stale reads, and the writes it refuses reach the datastore through the source.
    fn back_to_standby(&mut self) {
        if let Err(e) = state_set(&self.stats, &self.me.node, TargetState::Standby) {
            self.log
                .line(&format!("could not put the node back in STANDBY: {e}"));
        } else {
            self.writes_only = false;
        }
    }

    /// The failure report: what the node is left in and the commands to continue or roll back.
    fn fail(mut self, error: String) -> WarmupReport {
        let node = self.me.node.clone();
        let ds = self.me.datastore.clone();
        let (to_continue, to_roll_back) = if self.promoted {
            (
                vec![
                    self.state_cmd("resuming"),
                    "sleep 2".to_string(),
                    self.state_cmd("normal"),
                ],
                vec![],
            )
        } else if self.replica {
            if self.writes_only {
                self.back_to_standby();
            }
            (
                vec![self.args_line.clone()],
                vec![
                    self.redis_cli(&ds, "SLAVEOF NO ONE"),
                    self.state_cmd("normal"),
                ],
            )
        } else {
            (
                vec![self.args_line.clone()],
                vec![self.state_cmd(match self.me.state.as_str() {
                    "STANDBY" => "standby",
                    "WRITES_ONLY" => "writes_only",
                    "RESUMING" => "resuming",
                    _ => "normal",
                })],
            )
        };
        let left_in = format!(
            "node {node} in state {}; its datastore {ds}: {}",
            self.node_state(),
            self.datastore_role()
        );
        let mut msg = format!("warm-up of {node} failed: {error}\nleft in: {left_in}");
        msg += if self.promoted {
            "\nthe datastore holds the copied data and no longer replicates; there is no roll \
             back from here. Finish at once (the writes the node holds fail after its timeout):"
        } else if self.replica {
            "\nto continue (the datastore keeps following the source meanwhile), run again:"
        } else {
            "\nthe datastore was not changed; to try again, run:"
        };
        for c in &to_continue {
            msg += &format!("\n  {c}");
        }
        if !to_roll_back.is_empty() {
            msg += "\nto roll back (the node serves its own, incomplete data again):";
            for c in &to_roll_back {
                msg += &format!("\n  {c}");
            }
        }
        self.log.line(&msg);
        let done: Vec<&str> = self.steps.iter().map(|s| s.step).collect();
        for s in ALL_STEPS.iter().filter(|s| !done.contains(s)) {
            self.steps.push(StepReport {
                step: s,
                outcome: "skipped",
                started_ms: 0,
                elapsed_ms: 0,
                detail: String::new(),
            });
        }
        WarmupReport {
            node,
            datastore: ds,
            source: Some(self.source.clone()),
            candidates: Vec::new(),
            dry_run: false,
            ok: false,
            max_lag_bytes: 0,
            timeout_ms: 0,
            max_growing_polls: 0,
            steps: self.steps,
            keys_before: None,
            keys_after: None,
            source_keys: None,
            lag_bytes: None,
            elapsed_ms: self.start.elapsed().as_millis() as u64,
            error: Some(error),
            left_in: Some(left_in),
            to_continue,
            to_roll_back,
        }
    }
}

const ALL_STEPS: [&str; STEPS] = [
    "check",
    "standby",
    "replicaof",
    "sync",
    "writes_only",
    "catch_up",
    "promote",
    "resuming",
    "normal",
];

/// One poll of both datastores.
struct Sample {
    at: Instant,
    master_offset: u64,
    replica_offset: Option<u64>,
    link_up: bool,
    syncing: bool,
    loading: bool,
    read_bytes: Option<u64>,
    total_bytes: Option<u64>,
    source_keys: u64,
    replica_keys: u64,
}

impl Sample {
    /// Bytes behind, when the link is up and the full sync is over.
    fn gap(&self) -> Option<u64> {
        if self.link_up && !self.syncing && !self.loading {
            self.replica_offset
                .map(|r| self.master_offset.saturating_sub(r))
        } else {
            None
        }
    }
}

/// Why a poll failed.
enum PollError {
    /// A datastore did not answer: the next poll may work.
    Transient(String),
    /// Someone else changed the replica: stop.
    Fatal(String),
}

fn sample(src: &mut Redis, rep: &mut Redis, source: &str) -> Result<Sample, PollError> {
    let s = src.info(None).map_err(PollError::Transient)?;
    let r = rep.info(None).map_err(PollError::Transient)?;
    let at = Instant::now();
    if r.get("role").map(String::as_str) != Some("slave") {
        return Err(PollError::Fatal(format!(
            "{} is no longer a replica (role {}): was SLAVEOF NO ONE sent by someone else?",
            rep.conn.addr(),
            r.get("role").map_or("?", String::as_str)
        )));
    }
    let (sh, sp) = split_addr(source);
    let mh = r.get("master_host").cloned().unwrap_or_default();
    let mp = r.get("master_port").cloned().unwrap_or_default();
    if mp != sp || (mh != sh && !(is_local(&mh) && is_local(&sh))) {
        return Err(PollError::Fatal(format!(
            "{} now replicates {mh}:{mp}, not {source}: another warm-up or operator repointed it",
            rep.conn.addr()
        )));
    }
    Ok(Sample {
        at,
        master_offset: num(&s, "master_repl_offset").unwrap_or(0),
        replica_offset: num(&r, "slave_repl_offset"),
        link_up: r.get("master_link_status").map(String::as_str) == Some("up"),
        syncing: num(&r, "master_sync_in_progress") == Some(1),
        loading: num(&r, "loading") == Some(1),
        read_bytes: num(&r, "master_sync_read_bytes"),
        total_bytes: r
            .get("master_sync_total_bytes")
            .and_then(|v| v.parse::<i64>().ok())
            .and_then(|v| u64::try_from(v).ok()),
        source_keys: keys_of(&s),
        replica_keys: keys_of(&r),
    })
}

/// The progress line of a sample (rates from the previous one).
fn progress_line(cur: &Sample, prev: Option<&Sample>, max_lag: u64) -> String {
    let dt = prev.map_or(0.0, |p| cur.at.duration_since(p.at).as_secs_f64());
    let keys = format!("keys {}/{}", cur.replica_keys, cur.source_keys);
    if cur.loading {
        return format!("loading the source's data into the replica; {keys}");
    }
    if cur.syncing || !cur.link_up {
        return match (cur.read_bytes, cur.total_bytes) {
            (Some(read), Some(total)) if total > 0 => {
                let rate = match prev.and_then(|p| p.read_bytes) {
                    Some(pr) if dt > 0.0 => read.saturating_sub(pr) as f64 / dt,
                    _ => 0.0,
                };
                format!(
                    "full sync: {}/{} ({:.0}%), {}/s, ETA {}; {keys}",
                    bytes(read),
                    bytes(total),
                    100.0 * read as f64 / total as f64,
                    bytes(rate as u64),
                    eta(if rate > 0.0 {
                        total.saturating_sub(read) as f64 / rate
                    } else {
                        f64::NAN
                    })
                )
            }
            (Some(read), _) if read > 0 => {
                format!("full sync: {} received (size unknown); {keys}", bytes(read))
            }
            _ => format!("full sync: waiting for the source's snapshot; {keys}"),
        };
    }
    let gap = cur.gap().unwrap_or(0);
    let (rate, closing) = match prev {
        Some(p) if dt > 0.0 => {
            let rep = cur
                .replica_offset
                .unwrap_or(0)
                .saturating_sub(p.replica_offset.unwrap_or(0)) as f64
                / dt;
            let closing = p.gap().map(|pg| (pg as f64 - gap as f64) / dt);
            (rep, closing)
        }
        _ => (0.0, None),
    };
    let to_go = gap.saturating_sub(max_lag) as f64;
    let eta = match closing {
        _ if to_go == 0.0 => "0s".into(),
        Some(c) if c > 0.0 => eta(to_go / c),
        _ => "?".into(),
    };
    format!(
        "{} behind (target <= {max_lag} bytes), {keys}, {}/s, ETA {eta}",
        bytes(gap),
        bytes(rate as u64)
    )
}

/// `dynoctl warmup`.
pub fn run(args: &WarmupArgs) -> Result<WarmupReport, CliError> {
    let start = Instant::now();
    let node = node_addr(&args.node)?;
    let stats = Stats::new(Duration::from_secs(5))?;
    let mut log = Log::new();

    // The node's own config: datastore, data store kind, token, password.
    let own = match &args.config {
        Some(p) => Some((load_config(p)?, p.clone())),
        None => None,
    };
    if let Some((c, _)) = &own {
        if c.data_store == dynomite::types::DataStore::Memcache {
            return Err(memcached(&node));
        }
    }
    let datastore = match (&args.datastore, &own) {
        (Some(d), _) => datastore_addr(d, "--datastore")?,
        (None, Some((c, p))) => config_datastore(c, p)?,
        (None, None) => {
            return Err(CliError::new(
                "give the node's datastore: --datastore HOST:PORT or --config FILE",
            ))
        }
    };
    let password = own.as_ref().and_then(|(c, _)| c.datastore_password.clone());

    // 1. check (nothing changes yet: failures here are exit 2).
    let check_started = Instant::now();
    log.line(&format!(
        "[1/{STEPS}] check: {node} and its datastore {datastore}"
    ));
    let info = stats.try_info(&node).map_err(|e| {
        CliError::unreachable(&format!("http://{node}/info"), e, crate::stats::NODE_HINT)
    })?;
    let state = info.state.clone().unwrap_or_else(|| "NORMAL".into());
    let mut mine = Redis::connect(&datastore).map_err(|e| {
        CliError::unreachable(
            &datastore,
            e,
            "is the node's redis-server running there? give --datastore HOST:PORT",
        )
    })?;
    match mine.call(&["PING"]) {
        Ok(Reply::Simple(s)) if s == "PONG" => {}
        Ok(Reply::Error(e)) if e.starts_with("NOAUTH") && password.is_some() => {}
        Ok(Reply::Error(e)) => {
            return Err(
                CliError::new(format!("{datastore} answered PING with -{e}")).with_hint(
                    if e.starts_with("NOAUTH") {
                        "the datastore needs a password: give --config FILE with datastore_password"
                    } else {
                        "is this the node's redis-server?"
                    },
                ),
            )
        }
        Ok(other) => {
            return Err(CliError::new(format!(
                "{datastore} answered PING with {other:?}, not +PONG"
            ))
            .with_hint("is this the node's redis-server?"))
        }
        Err(client::Error::Protocol(p))
            if p.line.starts_with("ERROR") || p.line.starts_with("CLIENT_ERROR") =>
        {
            return Err(memcached(&node))
        }
        Err(e) => {
            return Err(CliError::unreachable(
                &datastore,
                e,
                "is the node's redis-server running there? give --datastore HOST:PORT",
            ))
        }
    }
    let mut mine = match &password {
        Some(_) => Redis::open(&datastore, password.as_deref())
            .map_err(|e| CliError::new(format!("cannot use {datastore}: {e}")))?,
        None => mine,
    };
    let my_info = mine
        .info(None)
        .map_err(|e| CliError::new(format!("cannot read INFO of {datastore}: {e}")))?;
    let keys_before = keys_of(&my_info);

    // The node's token: from its config, else the only node of its rack.
    let described = stats.describe(&node)?;
    let token = own
        .as_ref()
        .and_then(|(c, _)| c.tokens.first().copied())
        .or_else(|| {
            let mut same = described
                .iter()
                .filter(|d| d.dc == info.dc && d.rack == info.rack);
            match (same.next(), same.next()) {
                (Some(d), None) => Some(d.token),
                _ => None,
            }
        });
    let replicas: Vec<_> = described
        .iter()
        .filter(|d| {
            d.dc == info.dc && d.rack != info.rack && (token.is_none() || token == Some(d.token))
        })
        .collect();
    if replicas.is_empty() {
        return Err(CliError::new(format!(
            "{node} (dc {}, rack {}, token {}) has no replica: no node of {} in another rack has its token",
            info.dc,
            info.rack,
            opt(&token),
            info.dc
        ))
        .with_hint("warm-up copies a same-token node of another rack; see `dynoctl status --node NODE`"));
    }
    let me = Me {
        node: node.clone(),
        datastore: datastore.clone(),
        password,
        dc: info.dc.clone(),
        rack: info.rack.clone(),
        token,
        timeout: own
            .as_ref()
            .map(|(c, _)| Duration::from_millis(c.timeout_ms)),
        state,
    };

    // The candidates.
    let mut candidates = Vec::new();
    for d in &args.peer_datastore {
        candidates.push(Candidate {
            datastore: datastore_addr(d, "--peer-datastore")?,
            from: "--peer-datastore".into(),
            ..Candidate::default()
        });
    }
    for p in &args.peer_config {
        let c = load_config(p)?;
        let mut cand = Candidate {
            from: p.display().to_string(),
            rack: Some(c.rack.clone()),
            password: c.datastore_password.clone(),
            ..Candidate::default()
        };
        cand.datastore = config_datastore(&c, p)?;
        // A datastore on the peer's loopback is reached on the peer's host.
        let (dh, dp) = split_addr(&cand.datastore);
        if let Some(dynomite::conf::Listen::Tcp { host, .. }) = &c.dyn_listen {
            if is_local(&dh) && !is_local(host) {
                cand.datastore = format!("{host}:{dp}");
            }
        }
        if let dynomite::conf::Listen::Tcp { host, addr } = &c.stats_listen {
            cand.stats = Some(format!("{}:{}", connect_host(host), addr.port()));
        }
        if c.datacenter != me.dc {
            cand.error = Some(format!("dc {}, not the node's {}", c.datacenter, me.dc));
        } else if c.rack == me.rack {
            cand.error = Some("the node's own rack".into());
        } else if me.token.is_some_and(|t| c.tokens.first() != Some(&t)) {
            cand.error = Some(format!(
                "token {}, not the node's {}",
                opt(&c.tokens.first()),
                opt(&me.token)
            ));
        } else if me.token.is_none() {
            return Err(CliError::new(format!(
                "cannot tell {node}'s token (its rack has several nodes) to match --peer-config files"
            ))
            .with_hint("give the node's --config FILE, or --peer-datastore HOST:PORT"));
        }
        candidates.push(cand);
    }
    for c in candidates.iter_mut().filter(|c| c.error.is_none()) {
        if same_datastore(&c.datastore, &me.datastore) {
            c.error = Some("the node's own datastore".into());
            continue;
        }
        match Redis::open(&c.datastore, c.password.as_deref()).and_then(|mut r| r.info(None)) {
            Ok(i) => {
                c.datastore_uptime_s = num(&i, "uptime_in_seconds");
                c.keys = Some(keys_of(&i));
                c.role = i.get("role").cloned();
                if c.role.as_deref() == Some("slave") {
                    let m = format!(
                        "{}:{}",
                        i.get("master_host").map_or("", String::as_str),
                        i.get("master_port").map_or("", String::as_str)
                    );
                    if same_datastore(&m, &me.datastore) {
                        c.error = Some("a replica of the node's own datastore".into());
                    }
                }
            }
            Err(e) => c.error = Some(format!("cannot read INFO: {e}")),
        }
        if let Some(s) = &c.stats {
            c.node_uptime_s = stats.try_info(s).ok().map(|i| i.uptime);
        }
    }
    let best = candidates
        .iter()
        .enumerate()
        .filter(|(_, c)| c.error.is_none())
        .max_by_key(|(i, c)| (c.score(), std::cmp::Reverse(*i)))
        .map(|(i, _)| i);
    let Some(best) = best else {
        let why: Vec<String> = candidates
            .iter()
            .map(|c| format!("{}: {}", c.datastore, c.error.as_deref().unwrap_or("-")))
            .collect();
        return Err(CliError::new(format!(
            "no usable source for {node}: {}",
            why.join("; ")
        ))
        .with_hint(format!(
            "the replicas of {node} in other racks of {}: {}; give one's datastore with --peer-datastore HOST:PORT",
            me.dc,
            replicas
                .iter()
                .map(|d| format!("{} ({})", d.peer(), d.rack))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    };
    candidates[best].chosen = true;
    let src = candidates[best].clone();
    if src.keys == Some(0) && keys_before > 0 && !args.force {
        return Err(CliError::new(format!(
            "the source {} holds no keys but {datastore} holds {keys_before}: warming up would empty it",
            src.datastore
        ))
        .with_hint("check the source; --force warms up anyway"));
    }
    let my_role = my_info.get("role").cloned().unwrap_or_default();
    let check_detail = format!(
        "{node} is {} in {}/{}; its datastore {datastore} answers PING, holds {keys_before} keys (role {my_role}); source {} ({}up {}s, {} keys)",
        me.state,
        me.dc,
        me.rack,
        src.datastore,
        src.rack.as_ref().map_or(String::new(), |r| format!("{r}, ")),
        opt(&src.score()),
        opt(&src.keys)
    );
    if my_role == "slave" {
        log.line(&format!(
            "note: {datastore} is already a replica of {}:{}; it is pointed at {}",
            my_info.get("master_host").map_or("?", String::as_str),
            my_info.get("master_port").map_or("?", String::as_str),
            src.datastore
        ));
    }
    let catch_up_limit = me
        .timeout
        .map_or(CATCH_UP_LIMIT, |t| (t / 2).min(CATCH_UP_LIMIT));
    let mut args_line = format!("dynoctl warmup {node}");
    if let Some(c) = &args.config {
        args_line += &format!(" --config {}", c.display());
    }
    if args.datastore.is_some() || args.config.is_none() {
        args_line += &format!(" --datastore {datastore}");
    }
    args_line += &format!(" --peer-datastore {}", src.datastore);
    let check = StepReport {
        step: "check",
        outcome: "ok",
        started_ms: 0,
        elapsed_ms: check_started.elapsed().as_millis() as u64,
        detail: check_detail.clone(),
    };
    log.line(&format!(
        "[1/{STEPS}] check: ok ({}): {check_detail}",
        show_duration(check_started.elapsed())
    ));

    let mut report = WarmupReport {
        node: node.clone(),
        datastore: datastore.clone(),
        source: Some(src.datastore.clone()),
        candidates: candidates.clone(),
        dry_run: args.dry_run,
        ok: true,
        max_lag_bytes: args.max_lag_bytes,
        timeout_ms: args.timeout.as_millis() as u64,
        max_growing_polls: args.max_growing_polls,
        steps: vec![check],
        keys_before: Some(keys_before),
        keys_after: None,
        source_keys: src.keys,
        lag_bytes: None,
        elapsed_ms: 0,
        error: None,
        left_in: None,
        to_continue: Vec::new(),
        to_roll_back: Vec::new(),
    };
    let (sh, sp) = split_addr(&src.datastore);
    if args.dry_run {
        let plan = [
            ("standby", format!("state set {node} standby: refuse reads and writes while the datastore is a replica")),
            ("replicaof", format!("SLAVEOF {sh} {sp} on {datastore} (a full sync replaces its {keys_before} keys)")),
            ("sync", format!(
                "poll INFO of both every {} until link up and <= {} bytes behind; fail after {} or {} growing polls",
                show_duration(args.interval),
                args.max_lag_bytes,
                span(args.timeout),
                args.max_growing_polls
            )),
            ("writes_only", format!("state set {node} writes_only: hold new writes")),
            ("catch_up", format!("wait (at most {}) until {datastore} applied all the source had", show_duration(catch_up_limit))),
            ("promote", format!("SLAVEOF NO ONE on {datastore}")),
            ("resuming", format!("state set {node} resuming (send the held writes), wait {}", show_duration(args.resume_wait))),
            ("normal", format!("state set {node} normal, verified in /info")),
        ];
        for (step, detail) in plan {
            report.steps.push(StepReport {
                step,
                outcome: "planned",
                started_ms: 0,
                elapsed_ms: 0,
                detail,
            });
        }
        report.elapsed_ms = start.elapsed().as_millis() as u64;
        log.line("dry run: nothing was changed");
        return Ok(report);
    }

    let mut run = Run {
        args_line,
        me,
        source: src.datastore.clone(),
        stats,
        log,
        start,
        steps: report.steps.clone(),
        replica: false,
        promoted: false,
        writes_only: false,
    };
    let fail = |run: Run, error: String, report: &WarmupReport| {
        let mut r = run.fail(error);
        r.candidates = report.candidates.clone();
        r.max_lag_bytes = report.max_lag_bytes;
        r.timeout_ms = report.timeout_ms;
        r.max_growing_polls = report.max_growing_polls;
        r.keys_before = report.keys_before;
        r.source_keys = report.source_keys;
        r
    };

    // 2. standby.
    let st = run.begin(
        "standby",
        "the node refuses reads and writes while its datastore syncs",
    );
    match state_set(&run.stats, &node, TargetState::Standby) {
        Ok(r) => run.end(
            st,
            true,
            format!("{} -> {}", r.previous.unwrap_or_default(), r.state),
        ),
        Err(e) => {
            run.end(st, false, e.message.clone());
            return Ok(fail(run, e.message, &report));
        }
    }

    // 3. SLAVEOF source.
    let st = run.begin("replicaof", &format!("SLAVEOF {sh} {sp} on {datastore}"));
    run.replica = true;
    match mine.ok(&["SLAVEOF", &sh, &sp]) {
        Ok(s) => run.end(st, true, format!("+{s}")),
        Err(e) => {
            // The command was refused: check whether the datastore changed at all.
            run.replica = mine
                .info(Some("replication"))
                .map_or(true, |i| i.get("role").map(String::as_str) == Some("slave"));
            run.end(st, false, e.clone());
            return Ok(fail(run, e, &report));
        }
    }

    // 4. sync.
    let st = run.begin(
        "sync",
        &format!(
            "until {datastore} is at most {} bytes behind {} (timeout {})",
            args.max_lag_bytes,
            src.datastore,
            span(args.timeout)
        ),
    );
    let mut source = match Redis::open(&src.datastore, src.password.as_deref()) {
        Ok(r) => r,
        Err(e) => {
            run.end(st, false, e.clone());
            return Ok(fail(run, e, &report));
        }
    };
    let sync_start = Instant::now();
    let mut prev: Option<Sample> = None;
    let mut growing = 0u32;
    let mut errors = 0u32;
    let outcome: Result<Sample, String> = loop {
        let poll_at = Instant::now();
        match sample(&mut source, &mut mine, &src.datastore) {
            Ok(cur) => {
                errors = 0;
                let line = progress_line(&cur, prev.as_ref(), args.max_lag_bytes);
                run.log.progress(&line);
                if let (Some(g), Some(pg)) = (cur.gap(), prev.as_ref().and_then(Sample::gap)) {
                    if g > pg {
                        growing += 1;
                    } else {
                        growing = 0;
                    }
                }
                if cur.gap().is_some_and(|g| g <= args.max_lag_bytes) {
                    break Ok(cur);
                }
                if growing >= args.max_growing_polls {
                    break Err(format!(
                        "the gap grew {growing} polls in a row (now {}): writes outrun the sync",
                        bytes(cur.gap().unwrap_or(0))
                    ));
                }
                prev = Some(cur);
            }
            Err(PollError::Fatal(e)) => break Err(e),
            Err(PollError::Transient(e)) => {
                errors += 1;
                run.log
                    .line(&format!("poll failed ({errors}/{MAX_POLL_ERRORS}): {e}"));
                if errors >= MAX_POLL_ERRORS {
                    break Err(format!("{errors} polls in a row failed, the last: {e}"));
                }
                // Reconnect both for the next poll.
                if let Ok(r) = Redis::open(&src.datastore, src.password.as_deref()) {
                    source = r;
                }
                if let Ok(r) = Redis::open(&datastore, run.me.password.as_deref()) {
                    mine = r;
                }
            }
        }
        // Gossip can force a node back to NORMAL: keep it refusing reads.
        match run.stats.try_state(&node) {
            Ok(s) if s != "STANDBY" => {
                run.log.line(&format!(
                    "the node went {s} during the sync; setting STANDBY again"
                ));
                if let Err(e) = state_set(&run.stats, &node, TargetState::Standby) {
                    break Err(format!("cannot keep the node in STANDBY: {}", e.message));
                }
            }
            _ => {}
        }
        if sync_start.elapsed() >= args.timeout {
            break Err(format!(
                "not in sync after {} (the limit, --timeout)",
                span(args.timeout)
            ));
        }
        let next = poll_at + args.interval;
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    };
    match outcome {
        Ok(s) => {
            let gap = s.gap().unwrap_or(0);
            report.lag_bytes = Some(gap);
            report.source_keys = Some(s.source_keys);
            run.end(
                st,
                true,
                format!(
                    "link up, {gap} bytes behind, {} of the source's {} keys",
                    s.replica_keys, s.source_keys
                ),
            );
        }
        Err(e) => {
            run.end(st, false, e.clone());
            return Ok(fail(run, e, &report));
        }
    }

    // 5. writes_only.
    let st = run.begin("writes_only", "the node holds the writes it receives");
    run.writes_only = true;
    match state_set(&run.stats, &node, TargetState::WritesOnly) {
        Ok(r) => run.end(
            st,
            true,
            format!("{} -> {}", r.previous.unwrap_or_default(), r.state),
        ),
        Err(e) => {
            run.end(st, false, e.message.clone());
            return Ok(fail(run, e.message, &report));
        }
    }

    // 6. catch-up: everything the source acknowledged before the node held writes.
    let st = run.begin(
        "catch_up",
        &format!(
            "until {datastore} applied all the source had (at most {})",
            show_duration(catch_up_limit)
        ),
    );
    std::thread::sleep(SETTLE);
    let target = match source
        .info(Some("replication"))
        .map(|i| num(&i, "master_repl_offset"))
    {
        Ok(Some(m)) => m,
        Ok(None) => {
            let e = format!("{} reports no master_repl_offset", src.datastore);
            run.end(st, false, e.clone());
            return Ok(fail(run, e, &report));
        }
        Err(e) => {
            run.end(st, false, e.clone());
            return Ok(fail(run, e, &report));
        }
    };
    let caught = loop {
        let r = mine.info(Some("replication"));
        let off = r.as_ref().ok().and_then(|i| {
            (i.get("master_link_status").map(String::as_str) == Some("up"))
                .then(|| num(i, "slave_repl_offset"))
                .flatten()
        });
        if let Some(o) = off.filter(|o| *o >= target) {
            break Ok(o);
        }
        if st.0.elapsed() >= catch_up_limit {
            break Err(match r {
                Err(e) => e,
                Ok(_) => format!(
                    "{datastore} did not reach the source's offset {target} in {} (at {})",
                    show_duration(catch_up_limit),
                    opt(&off)
                ),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    match caught {
        Ok(o) => run.end(st, true, format!("offset {o} >= {target}")),
        Err(e) => {
            run.end(st, false, e.clone());
            return Ok(fail(run, e, &report));
        }
    }

    // 7. promote.
    let st = run.begin("promote", &format!("SLAVEOF NO ONE on {datastore}"));
    let promoted = mine.ok(&["SLAVEOF", "NO", "ONE"]).and_then(|s| {
        let i = mine.info(Some("replication"))?;
        match i.get("role").map(String::as_str) {
            Some("master") => Ok(s),
            r => Err(format!(
                "{datastore} answered +{s} but its role is {}",
                r.unwrap_or("?")
            )),
        }
    });
    match promoted {
        Ok(s) => {
            run.promoted = true;
            run.end(st, true, format!("+{s}, role master"));
        }
        Err(e) => {
            run.end(st, false, e.clone());
            return Ok(fail(run, e, &report));
        }
    }

    // 8. resuming, then a wait while the held writes are sent.
    let st = run.begin(
        "resuming",
        &format!(
            "the node sends the writes it held; then {} wait",
            show_duration(args.resume_wait)
        ),
    );
    match state_set(&run.stats, &node, TargetState::Resuming) {
        Ok(r) => {
            std::thread::sleep(args.resume_wait);
            run.end(
                st,
                true,
                format!("{} -> {}", r.previous.unwrap_or_default(), r.state),
            );
        }
        Err(e) => {
            run.end(st, false, e.message.clone());
            return Ok(fail(run, e.message, &report));
        }
    }

    // 9. normal, verified.
    let st = run.begin("normal", "the node serves reads again");
    let verified = state_set(&run.stats, &node, TargetState::Normal)
        .map_err(|e| e.message)
        .and_then(|_| run.stats.try_info(&node))
        .and_then(|i| match (i.state.as_deref(), i.datastore_connected) {
            (Some("NORMAL"), Some(n)) if n > 0 => Ok(n),
            (s, d) => Err(format!(
                "/info reports state {} and {} datastore connection(s)",
                s.unwrap_or("?"),
                opt(&d)
            )),
        });
    match verified {
        Ok(n) => run.end(
            st,
            true,
            format!("/info: state NORMAL, {n} datastore connection(s)"),
        ),
        Err(e) => {
            run.end(st, false, e.clone());
            return Ok(fail(run, e, &report));
        }
    }
    report.keys_after = mine.info(Some("keyspace")).ok().map(|i| keys_of(&i));
    report.steps = run.steps;
    report.elapsed_ms = start.elapsed().as_millis() as u64;
    run.log.line(&format!(
        "done in {}: {node} is NORMAL, its datastore holds {} keys",
        show_duration(start.elapsed()),
        opt(&report.keys_after)
    ));
    Ok(report)
}

fn memcached(node: &str) -> CliError {
    CliError::new(MEMCACHED).with_hint(format!(
        "{node}'s datastore is Memcached; refill it by replaying writes (or let reads repair it) instead"
    ))
}

/// Two `host:port` datastores are the same (loopback spellings are equal).
fn same_datastore(a: &str, b: &str) -> bool {
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
    fn timestamps_and_units() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(eta(61.2), "1m02s");
        assert_eq!(eta(f64::NAN), "?");
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
    fn progress_lines() {
        let at = Instant::now();
        let s = |off: u64, up: bool| Sample {
            at,
            master_offset: 1000,
            replica_offset: Some(off),
            link_up: up,
            syncing: !up,
            loading: false,
            read_bytes: Some(10),
            total_bytes: Some(100),
            source_keys: 10,
            replica_keys: 4,
        };
        let l = progress_line(&s(0, false), None, 0);
        assert!(l.starts_with("full sync: 10 B/100 B (10%)"), "{l}");
        let l = progress_line(&s(900, true), None, 0);
        assert!(l.starts_with("100 B behind"), "{l}");
        assert!(l.contains("keys 4/10"), "{l}");
        assert_eq!(s(900, true).gap(), Some(100));
        assert_eq!(s(900, false).gap(), None);
    }
}
