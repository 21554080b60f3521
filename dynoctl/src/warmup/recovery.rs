//! What a failed warm-up leaves, and how to go on: the stage it reached, the node put back
//! in STANDBY while its datastore still follows the source, and the report and message that
//! name the state left and the commands to continue or roll back.

use super::redis::{role, split_addr, Redis};
use super::steps::{Warmup, SEQUENCE};
use super::{StepReport, WarmupReport};
use crate::admin::{state_set, TargetState};

/// How far a failed warm-up got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// The datastore was not changed.
    Unchanged,
    /// The datastore replicates the source.
    Following,
    /// The datastore holds the copy and replicates no more.
    Promoted,
}

impl Stage {
    fn of(replica: bool, promoted: bool) -> Stage {
        match (replica, promoted) {
            (_, true) => Stage::Promoted,
            (true, false) => Stage::Following,
            (false, false) => Stage::Unchanged,
        }
    }

    /// What the message says before the commands that continue.
    fn advice(self) -> &'static str {
        match self {
            Stage::Promoted => {
                "\nthe datastore holds the copied data and no longer replicates; there is no roll \
                 back from here. Finish at once (the writes the node holds fail after its timeout):"
            }
            Stage::Following => {
                "\nto continue (the datastore keeps following the source meanwhile), run again:"
            }
            Stage::Unchanged => "\nthe datastore was not changed; to try again, run:",
        }
    }
}

/// What is known about the failed warm-up that the commands name.
struct Context<'a> {
    node: &'a str,
    datastore: &'a str,
    /// The datastore has a password (redis-cli needs `-a`).
    password: bool,
    /// The node's state before the warm-up (`NORMAL`, `STANDBY`, ...).
    state_before: &'a str,
    /// The command that runs the warm-up again.
    args_line: &'a str,
}

impl Context<'_> {
    fn state_cmd(&self, state: &str) -> String {
        format!("dynoctl state set {} {state}", self.node)
    }

    fn redis_cli(&self, cmd: &str) -> String {
        let (h, p) = split_addr(self.datastore);
        let auth = if self.password {
            " -a <datastore_password>"
        } else {
            ""
        };
        format!("redis-cli -h {h} -p {p}{auth} {cmd}")
    }

    /// The commands that continue the warm-up from `stage`, and those that roll it back.
    fn commands(&self, stage: Stage) -> (Vec<String>, Vec<String>) {
        match stage {
            Stage::Promoted => (
                vec![
                    self.state_cmd("resuming"),
                    "sleep 2".to_string(),
                    self.state_cmd("normal"),
                ],
                vec![],
            ),
            Stage::Following => (
                vec![self.args_line.to_string()],
                vec![self.redis_cli("SLAVEOF NO ONE"), self.state_cmd("normal")],
            ),
            Stage::Unchanged => (
                vec![self.args_line.to_string()],
                vec![self.state_cmd(match self.state_before {
                    "STANDBY" => "standby",
                    "WRITES_ONLY" => "writes_only",
                    "RESUMING" => "resuming",
                    _ => "normal",
                })],
            ),
        }
    }
}

/// The message logged when the warm-up fails.
fn message(
    node: &str,
    error: &str,
    left_in: &str,
    stage: Stage,
    to_continue: &[String],
    to_roll_back: &[String],
) -> String {
    let mut msg = format!("warm-up of {node} failed: {error}\nleft in: {left_in}");
    msg += stage.advice();
    for c in to_continue {
        msg += &format!("\n  {c}");
    }
    if !to_roll_back.is_empty() {
        msg += "\nto roll back (the node serves its own, incomplete data again):";
        for c in to_roll_back {
            msg += &format!("\n  {c}");
        }
    }
    msg
}

impl Warmup<'_> {
    /// The failure report: what the node is left in and the commands to continue or roll
    /// back; the steps not reached are `skipped`.
    pub fn fail(mut self, error: String) -> WarmupReport {
        let stage = Stage::of(self.replica, self.promoted);
        if stage == Stage::Following && self.writes_only {
            self.back_to_standby();
        }
        let (to_continue, to_roll_back) = Context {
            node: &self.me.node,
            datastore: &self.me.datastore,
            password: self.me.password.is_some(),
            state_before: &self.me.state,
            args_line: &self.args_line,
        }
        .commands(stage);
        let left_in = format!(
            "node {} in state {}; its datastore {}: {}",
            self.me.node,
            self.node_state(),
            self.me.datastore,
            self.datastore_role()
        );
        let msg = message(
            &self.me.node,
            &error,
            &left_in,
            stage,
            &to_continue,
            &to_roll_back,
        );
        self.log.line(&msg);
        let done: Vec<&str> = self.report.steps.iter().map(|s| s.step).collect();
        let skipped: Vec<StepReport> = SEQUENCE
            .iter()
            .filter(|s| !done.contains(&s.name))
            .map(|s| StepReport::not_run(s.name, "skipped", String::new()))
            .collect();
        let r = &mut self.report;
        r.steps.extend(skipped);
        r.ok = false;
        r.lag_bytes = None;
        r.elapsed_ms = self.start.elapsed().as_millis() as u64;
        r.error = Some(error);
        r.left_in = Some(left_in);
        r.to_continue = to_continue;
        r.to_roll_back = to_roll_back;
        self.report
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
            Ok(i) if role(&i) == "slave" => format!(
                "a replica of {}:{} (link {})",
                i.get("master_host").map_or("?", String::as_str),
                i.get("master_port").map_or("?", String::as_str),
                i.get("master_link_status").map_or("?", String::as_str)
            ),
            Ok(i) => role(&i).to_string(),
            Err(e) => format!("unknown ({e})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(password: bool, state_before: &str) -> Context<'_> {
        Context {
            node: "127.0.0.1:22222",
            datastore: "127.0.0.1:6379",
            password,
            state_before,
            args_line: "dynoctl warmup 127.0.0.1:22222 --datastore 127.0.0.1:6379 --peer-datastore 127.0.0.1:6380",
        }
    }

    #[test]
    fn the_stage_a_failure_leaves() {
        assert_eq!(Stage::of(false, false), Stage::Unchanged);
        assert_eq!(Stage::of(true, false), Stage::Following);
        assert_eq!(Stage::of(true, true), Stage::Promoted);
    }

    #[test]
    fn unchanged_runs_again_or_restores_the_state_before() {
        let (cont, back) = context(false, "WRITES_ONLY").commands(Stage::Unchanged);
        assert_eq!(cont, [context(false, "").args_line]);
        assert_eq!(back, ["dynoctl state set 127.0.0.1:22222 writes_only"]);
        let (_, back) = context(false, "NORMAL").commands(Stage::Unchanged);
        assert_eq!(back, ["dynoctl state set 127.0.0.1:22222 normal"]);
        let (_, back) = context(false, "JOINING").commands(Stage::Unchanged);
        assert_eq!(back, ["dynoctl state set 127.0.0.1:22222 normal"]);
    }

    #[test]
    fn following_runs_again_or_promotes_and_serves_its_own_data() {
        let (cont, back) = context(true, "NORMAL").commands(Stage::Following);
        assert_eq!(cont, [context(true, "").args_line]);
        assert_eq!(
            back,
            [
                "redis-cli -h 127.0.0.1 -p 6379 -a <datastore_password> SLAVEOF NO ONE",
                "dynoctl state set 127.0.0.1:22222 normal"
            ]
        );
        let (_, back) = context(false, "NORMAL").commands(Stage::Following);
        assert_eq!(back[0], "redis-cli -h 127.0.0.1 -p 6379 SLAVEOF NO ONE");
    }

    #[test]
    fn promoted_can_only_finish() {
        let (cont, back) = context(false, "NORMAL").commands(Stage::Promoted);
        assert_eq!(
            cont,
            [
                "dynoctl state set 127.0.0.1:22222 resuming",
                "sleep 2",
                "dynoctl state set 127.0.0.1:22222 normal"
            ]
        );
        assert!(back.is_empty());
    }

    #[test]
    fn the_message_names_the_state_left_and_the_commands() {
        let (cont, back) = context(false, "NORMAL").commands(Stage::Following);
        let m = message(
            "n:1",
            "not in sync after 0ms (the limit, --timeout)",
            "node n:1 in state STANDBY; its datastore d:1: a replica of h:2 (link up)",
            Stage::Following,
            &cont,
            &back,
        );
        let lines: Vec<&str> = m.lines().collect();
        assert_eq!(
            lines[0],
            "warm-up of n:1 failed: not in sync after 0ms (the limit, --timeout)"
        );
        assert_eq!(
            lines[1],
            "left in: node n:1 in state STANDBY; its datastore d:1: a replica of h:2 (link up)"
        );
        assert_eq!(
            lines[2],
            "to continue (the datastore keeps following the source meanwhile), run again:"
        );
        assert_eq!(lines[3], format!("  {}", cont[0]));
        assert_eq!(
            lines[4],
            "to roll back (the node serves its own, incomplete data again):"
        );
        assert_eq!(
            lines[5..],
            [format!("  {}", back[0]), format!("  {}", back[1])]
        );
        let (cont, back) = context(false, "NORMAL").commands(Stage::Promoted);
        let m = message("n:1", "e", "l", Stage::Promoted, &cont, &back);
        assert!(
            m.contains("there is no roll back from here. Finish at once"),
            "{m}"
        );
        assert!(!m.contains("to roll back"), "{m}");
        assert!(message("n:1", "e", "l", Stage::Unchanged, &[], &[])
            .ends_with("the datastore was not changed; to try again, run:"));
    }
}
