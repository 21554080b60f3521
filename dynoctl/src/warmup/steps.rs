//! Steps 2 to 9 of the warm-up, each a function, in [`SEQUENCE`]: what `--dry-run` says it
//! would do, what it logs as it begins, and the step itself; and [`Warmup`], the state they
//! share (the connections, what has been changed so far, the report being filled).

use std::time::{Duration, Instant};

use super::log::Log;
use super::plan::{Candidate, Me, Plan};
use super::redis::{keys_of, num, role, split_addr, Info, Redis};
use super::sync::until_in_sync;
use super::{opt, StepReport, WarmupReport};
use crate::admin::{state_set, StateReport, TargetState};
use crate::cli::WarmupArgs;
use crate::duration::{show_duration, span};
use crate::stats::{self, Stats};

/// Time given to writes in flight at the switch to WRITES_ONLY to reach the source.
const SETTLE: Duration = Duration::from_millis(200);

/// A warm-up under way.
pub struct Warmup<'a> {
    pub args: &'a WarmupArgs,
    pub me: Me,
    /// The chosen candidate.
    pub source: Candidate,
    /// The node's datastore.
    pub mine: Redis,
    /// The source's datastore, from the sync on.
    source_conn: Option<Redis>,
    pub stats: Stats,
    pub log: Log,
    pub start: Instant,
    pub keys_before: u64,
    pub catch_up_limit: Duration,
    /// The command that runs the warm-up again.
    pub args_line: String,
    /// The node's datastore was told to replicate.
    pub replica: bool,
    /// ... and was promoted back.
    pub promoted: bool,
    /// The node was told to hold writes.
    pub writes_only: bool,
    /// Filled as the steps run.
    pub report: WarmupReport,
}

/// One step after the check.
pub struct Step {
    pub name: &'static str,
    /// What `--dry-run` says the step would do.
    plan: fn(&Warmup) -> String,
    /// What the step does, logged as it begins.
    what: fn(&Warmup) -> String,
    /// The step: the detail of what it did, or why it failed.
    act: fn(&mut Warmup) -> Result<String, String>,
}

/// The steps after the check, in order.
pub const SEQUENCE: [Step; 8] = [
    Step {
        name: "standby",
        plan: |w| {
            format!(
                "state set {} standby: refuse reads and writes while the datastore is a replica",
                w.me.node
            )
        },
        what: |_| "the node refuses reads and writes while its datastore syncs".into(),
        act: standby,
    },
    Step {
        name: "replicaof",
        plan: |w| {
            format!(
                "{} on {} (a full sync replaces its {} keys)",
                w.slaveof(),
                w.me.datastore,
                w.keys_before
            )
        },
        what: |w| format!("{} on {}", w.slaveof(), w.me.datastore),
        act: replicaof,
    },
    Step {
        name: "sync",
        plan: |w| {
            format!(
                "poll INFO of both every {} until link up and <= {} bytes behind; fail after {} or {} growing polls",
                show_duration(w.args.interval),
                w.args.max_lag_bytes,
                span(w.args.timeout),
                w.args.max_growing_polls
            )
        },
        what: |w| {
            format!(
                "until {} is at most {} bytes behind {} (timeout {})",
                w.me.datastore,
                w.args.max_lag_bytes,
                w.source.datastore,
                span(w.args.timeout)
            )
        },
        act: sync,
    },
    Step {
        name: "writes_only",
        plan: |w| format!("state set {} writes_only: hold new writes", w.me.node),
        what: |_| "the node holds the writes it receives".into(),
        act: writes_only,
    },
    Step {
        name: "catch_up",
        plan: |w| {
            format!(
                "wait (at most {}) until {} applied all the source had",
                show_duration(w.catch_up_limit),
                w.me.datastore
            )
        },
        what: |w| {
            format!(
                "until {} applied all the source had (at most {})",
                w.me.datastore,
                show_duration(w.catch_up_limit)
            )
        },
        act: catch_up,
    },
    Step {
        name: "promote",
        plan: |w| format!("SLAVEOF NO ONE on {}", w.me.datastore),
        what: |w| format!("SLAVEOF NO ONE on {}", w.me.datastore),
        act: promote,
    },
    Step {
        name: "resuming",
        plan: |w| {
            format!(
                "state set {} resuming (send the held writes), wait {}",
                w.me.node,
                show_duration(w.args.resume_wait)
            )
        },
        what: |w| {
            format!(
                "the node sends the writes it held; then {} wait",
                show_duration(w.args.resume_wait)
            )
        },
        act: resuming,
    },
    Step {
        name: "normal",
        plan: |w| format!("state set {} normal, verified in /info", w.me.node),
        what: |_| "the node serves reads again".into(),
        act: normal,
    },
];

impl<'a> Warmup<'a> {
    /// The warm-up planned by the check (its report holds the check).
    pub fn new(
        args: &'a WarmupArgs,
        plan: Plan,
        stats: Stats,
        log: Log,
        start: Instant,
    ) -> Warmup<'a> {
        let report = WarmupReport {
            node: plan.me.node.clone(),
            datastore: plan.me.datastore.clone(),
            source: Some(plan.source.datastore.clone()),
            candidates: plan.candidates,
            dry_run: args.dry_run,
            ok: true,
            max_lag_bytes: args.max_lag_bytes,
            timeout_ms: args.timeout.as_millis() as u64,
            max_growing_polls: args.max_growing_polls,
            steps: vec![plan.check],
            keys_before: Some(plan.keys_before),
            keys_after: None,
            source_keys: plan.source.keys,
            lag_bytes: None,
            elapsed_ms: 0,
            error: None,
            left_in: None,
            to_continue: Vec::new(),
            to_roll_back: Vec::new(),
        };
        Warmup {
            args,
            me: plan.me,
            source: plan.source,
            mine: plan.mine,
            source_conn: None,
            stats,
            log,
            start,
            keys_before: plan.keys_before,
            catch_up_limit: plan.catch_up_limit,
            args_line: plan.args_line,
            replica: false,
            promoted: false,
            writes_only: false,
            report,
        }
    }

    /// `--dry-run`: the plan of every step; nothing changes.
    pub fn dry_run(mut self) -> WarmupReport {
        for step in &SEQUENCE {
            let plan = StepReport::not_run(step.name, "planned", (step.plan)(&self));
            self.report.steps.push(plan);
        }
        self.report.elapsed_ms = self.start.elapsed().as_millis() as u64;
        self.log.line("dry run: nothing was changed");
        self.report
    }

    /// Run one step: log it as it begins and ends, and report it.
    pub fn step(&mut self, step: &Step) -> Result<(), String> {
        let n = self.report.steps.len() + 1;
        let what = (step.what)(self);
        self.log.begin(n, step.name, &what);
        let at = Instant::now();
        let outcome = (step.act)(self);
        let (ok, detail) = match &outcome {
            Ok(detail) => (true, detail.clone()),
            Err(error) => (false, error.clone()),
        };
        let took = at.elapsed();
        self.log.end(n, step.name, ok, took, &detail);
        let started_ms = at.duration_since(self.start).as_millis() as u64;
        let report = StepReport::done(step.name, ok, started_ms, took, detail);
        self.report.steps.push(report);
        outcome.map(|_| ())
    }

    /// Every step went well: the keys the node's datastore holds now.
    pub fn done(mut self) -> WarmupReport {
        self.report.keys_after = self.mine.info(Some("keyspace")).ok().map(|i| keys_of(&i));
        self.report.elapsed_ms = self.start.elapsed().as_millis() as u64;
        self.log.line(&format!(
            "done in {}: {} is NORMAL, its datastore holds {} keys",
            show_duration(self.start.elapsed()),
            self.me.node,
            opt(&self.report.keys_after)
        ));
        self.report
    }

    /// `SLAVEOF host port` of the source.
    fn slaveof(&self) -> String {
        let (h, p) = split_addr(&self.source.datastore);
        format!("SLAVEOF {h} {p}")
    }

    /// Put the node in `to`; the transition as `PREVIOUS -> NOW`.
    fn set_state(&self, to: TargetState) -> Result<String, String> {
        state_set(&self.stats, &self.me.node, to)
            .map(|r| transition(&r))
            .map_err(|e| e.message)
    }
}

fn transition(r: &StateReport) -> String {
    format!("{} -> {}", r.previous.clone().unwrap_or_default(), r.state)
}

/// Step 2: the node refuses reads and writes.
fn standby(w: &mut Warmup) -> Result<String, String> {
    w.set_state(TargetState::Standby)
}

/// Step 3: the node's datastore replicates the source.
fn replicaof(w: &mut Warmup) -> Result<String, String> {
    let (h, p) = split_addr(&w.source.datastore);
    w.replica = true;
    match w.mine.ok(&["SLAVEOF", &h, &p]) {
        Ok(s) => Ok(format!("+{s}")),
        Err(e) => {
            // The command was refused: check whether the datastore changed at all.
            w.replica = w
                .mine
                .info(Some("replication"))
                .map_or(true, |i| role(&i) == "slave");
            Err(e)
        }
    }
}

/// Step 4: until the replica is close enough behind the source.
fn sync(w: &mut Warmup) -> Result<String, String> {
    let mut source = Redis::open(&w.source.datastore, w.source.password.as_deref())?;
    let outcome = until_in_sync(w, &mut source);
    w.source_conn = Some(source);
    let s = outcome?;
    let gap = s.gap().unwrap_or(0);
    w.report.lag_bytes = Some(gap);
    w.report.source_keys = Some(s.source_keys);
    Ok(format!(
        "link up, {gap} bytes behind, {} of the source's {} keys",
        s.replica_keys, s.source_keys
    ))
}

/// Step 5: the node holds the writes it receives.
fn writes_only(w: &mut Warmup) -> Result<String, String> {
    w.writes_only = true;
    w.set_state(TargetState::WritesOnly)
}

/// Step 6: until the replica has applied everything the source acknowledged before the node
/// held writes (at most the catch-up limit, counted from the step's start).
fn catch_up(w: &mut Warmup) -> Result<String, String> {
    let started = Instant::now();
    let limit = w.catch_up_limit;
    std::thread::sleep(SETTLE);
    let source = w
        .source_conn
        .as_mut()
        .expect("the sync step, before this one, connected to the source");
    let target = match source
        .info(Some("replication"))
        .map(|i| num(&i, "master_repl_offset"))?
    {
        Some(m) => m,
        None => {
            return Err(format!(
                "{} reports no master_repl_offset",
                w.source.datastore
            ))
        }
    };
    loop {
        let r = w.mine.info(Some("replication"));
        let off = r.as_ref().ok().and_then(applied);
        if let Some(o) = off.filter(|o| *o >= target) {
            return Ok(format!("offset {o} >= {target}"));
        }
        if started.elapsed() >= limit {
            return Err(match r {
                Err(e) => e,
                Ok(_) => format!(
                    "{} did not reach the source's offset {target} in {} (at {})",
                    w.me.datastore,
                    show_duration(limit),
                    opt(&off)
                ),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The offset a replica has applied, while its link to the source is up.
fn applied(i: &Info) -> Option<u64> {
    (i.get("master_link_status").map(String::as_str) == Some("up"))
        .then(|| num(i, "slave_repl_offset"))
        .flatten()
}

/// Step 7: the node's datastore stops replicating, and says it is a master.
fn promote(w: &mut Warmup) -> Result<String, String> {
    let datastore = &w.me.datastore;
    let mine = &mut w.mine;
    let s = mine.ok(&["SLAVEOF", "NO", "ONE"])?;
    let i = mine.info(Some("replication"))?;
    match i.get("role").map(String::as_str) {
        Some("master") => {
            w.promoted = true;
            Ok(format!("+{s}, role master"))
        }
        r => Err(format!(
            "{datastore} answered +{s} but its role is {}",
            r.unwrap_or("?")
        )),
    }
}

/// Step 8: the node sends the writes it held, for `--resume-wait`.
fn resuming(w: &mut Warmup) -> Result<String, String> {
    let t = w.set_state(TargetState::Resuming)?;
    std::thread::sleep(w.args.resume_wait);
    Ok(t)
}

/// Step 9: the node serves reads again, as its `/info` confirms.
fn normal(w: &mut Warmup) -> Result<String, String> {
    w.set_state(TargetState::Normal)?;
    let n = serving(&w.stats.try_info(&w.me.node)?)?;
    Ok(format!("/info: state NORMAL, {n} datastore connection(s)"))
}

/// A node's `/info` says it serves: NORMAL with its datastore connected (how many).
fn serving(i: &stats::Info) -> Result<u64, String> {
    match (i.state.as_deref(), i.datastore_connected) {
        (Some("NORMAL"), Some(n)) if n > 0 => Ok(n),
        (s, d) => Err(format!(
            "/info reports state {} and {} datastore connection(s)",
            s.unwrap_or("?"),
            opt(&d)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dynomite::client::parse_info;

    #[test]
    fn the_check_and_the_sequence_are_the_nine_steps() {
        let names: Vec<&str> = SEQUENCE.iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            [
                "standby",
                "replicaof",
                "sync",
                "writes_only",
                "catch_up",
                "promote",
                "resuming",
                "normal"
            ]
        );
        assert_eq!(super::super::STEPS, 9);
    }

    #[test]
    fn the_catch_up_reads_the_applied_offset_only_with_the_link_up() {
        let i = |s: &str| parse_info(s);
        assert_eq!(
            applied(&i("master_link_status:up\r\nslave_repl_offset:42\r\n")),
            Some(42)
        );
        assert_eq!(
            applied(&i("master_link_status:down\r\nslave_repl_offset:42\r\n")),
            None
        );
        assert_eq!(applied(&i("master_link_status:up\r\n")), None);
    }

    #[test]
    fn normal_is_verified_with_a_datastore_connection() {
        let info = |state: Option<&str>, ds| stats::Info {
            state: state.map(str::to_string),
            datastore_connected: ds,
            ..stats::Info::default()
        };
        assert_eq!(serving(&info(Some("NORMAL"), Some(2))), Ok(2));
        assert_eq!(
            serving(&info(Some("NORMAL"), Some(0))),
            Err("/info reports state NORMAL and 0 datastore connection(s)".into())
        );
        assert_eq!(
            serving(&info(None, None)),
            Err("/info reports state ? and - datastore connection(s)".into())
        );
        assert!(serving(&info(Some("STANDBY"), Some(1))).is_err());
    }
}
