//! `dynoctl warmup`: fill a node's empty or stale Redis from a replica in another rack, the way
//! dynomite-manager's warm bootstrap does it (SPEC Part C.3, §10.2), made safe. This file
//! holds the driver that runs the steps in order and the report it returns.
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
//! the node in a named state, with the commands to continue or roll back:
//!
//! ```text
//!  check → standby → replicaof → sync → writes_only → catch_up → promote → resuming → normal
//!
//!  a failure in      exit  leaves                        to continue          to roll back
//!  check             2     nothing changed               -                    -
//!  standby,          1     the datastore unchanged       run again            state set <before>
//!  replicaof
//!  sync .. promote   1     the datastore following the   run again            SLAVEOF NO ONE,
//!                          source, the node in STANDBY                        state set normal
//!  resuming, normal  1     the datastore promoted        state set resuming,  -
//!                                                        sleep 2, state set
//!                                                        normal
//! ```
//!
//! (A SLAVEOF that answered an error but took effect counts as following.) The files:
//! `plan` is step 1 and the choice of the source, `steps` the other steps in order, `sync`
//! step 4's polling, `recovery` what a failure leaves and how to go on, `redis` the
//! datastore connections, `log` the stderr lines.

mod log;
mod plan;
mod recovery;
mod redis;
mod steps;
mod sync;

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::cli::WarmupArgs;
use crate::duration::{show_duration, span};
use crate::output::{Block, CliError, Render};
use crate::stats::{node_addr, Stats};
use log::Log;
use plan::Candidate;
use steps::{Warmup, SEQUENCE};

/// The number of steps (the check and the sequence), for `[n/9]` in the log.
const STEPS: usize = 1 + SEQUENCE.len();

/// `dynoctl warmup`: the check (exit 2 when it fails), then the steps in order until one
/// fails; a failure is a report (exit 1) that says what the node is left in.
pub fn run(args: &WarmupArgs) -> Result<WarmupReport, CliError> {
    let start = Instant::now();
    let node = node_addr(&args.node)?;
    let stats = Stats::new(Duration::from_secs(5))?;
    let mut log = Log::new();
    let plan = plan::check(args, &node, &stats, &mut log)?;
    let mut w = Warmup::new(args, plan, stats, log, start);
    if args.dry_run {
        return Ok(w.dry_run());
    }
    for step in &SEQUENCE {
        if let Err(error) = w.step(step) {
            return Ok(w.fail(error));
        }
    }
    Ok(w.done())
}

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

impl StepReport {
    /// A step that ran, `started_ms` after the warm-up started, for `took`.
    fn done(
        step: &'static str,
        ok: bool,
        started_ms: u64,
        took: Duration,
        detail: String,
    ) -> StepReport {
        StepReport {
            step,
            outcome: if ok { "ok" } else { "failed" },
            started_ms,
            elapsed_ms: took.as_millis() as u64,
            detail,
        }
    }

    /// A step that did not run: `planned` (with what it would do) or `skipped`.
    fn not_run(step: &'static str, outcome: &'static str, detail: String) -> StepReport {
        StepReport {
            step,
            outcome,
            started_ms: 0,
            elapsed_ms: 0,
            detail,
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
