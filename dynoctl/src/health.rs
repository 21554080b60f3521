//! `dynoctl health` and `dynoctl wait`: the primitives of a rolling restart. A node is healthy
//! when its stats port answers `/ping`, it has a datastore connection up
//! (`datastore_connected` > 0 in `/info`) and its state is NORMAL.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::duration::show_duration;
use crate::output::{Block, CliError, Render};
use crate::stats::{GetError, Stats};

/// One check of `dynoctl health`.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// `process`, `datastore` or `state`.
    pub check: &'static str,
    pub ok: bool,
    pub detail: String,
}

/// The result of `dynoctl health`.
#[derive(Clone, Debug, Serialize)]
pub struct Health {
    pub node: String,
    pub ok: bool,
    pub checks: Vec<Check>,
}

impl Render for Health {
    fn human(&self) -> Vec<Block> {
        let rows = self
            .checks
            .iter()
            .map(|c| {
                vec![
                    c.check.to_string(),
                    if c.ok { "ok" } else { "FAIL" }.to_string(),
                    c.detail.clone(),
                ]
            })
            .collect();
        vec![Block::Table {
            headers: vec!["check", "result", "detail"],
            rows,
        }]
    }
}

impl Health {
    /// The failed checks as one line: `datastore: no connection; state: STANDBY`.
    pub fn failures(&self) -> String {
        self.checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| format!("{}: {}", c.check, c.detail))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Check `node`. `Err` only when the node does not answer at all (its stats port is down).
pub fn check(stats: &Stats, node: &str) -> Result<Health, GetError> {
    let ping = stats.try_get(node, "/ping");
    let process = match &ping {
        Ok(body) if body.trim() == "OK" => Check {
            check: "process",
            ok: true,
            detail: "answers /ping".into(),
        },
        Ok(body) => Check {
            check: "process",
            ok: false,
            detail: format!("/ping answered {:?}", body.trim()),
        },
        Err(e @ GetError::Unreachable(_)) => return Err(e.clone()),
        Err(e) => Check {
            check: "process",
            ok: false,
            detail: format!("/ping: {e}"),
        },
    };
    let mut checks = vec![process];
    match stats.try_info(node) {
        Ok(info) => {
            checks.push(match info.datastore_connected {
                Some(0) => Check {
                    check: "datastore",
                    ok: false,
                    detail: "no datastore connection (datastore_connected 0): is the \
                             redis-server/memcached behind the node running?"
                        .into(),
                },
                Some(n) => Check {
                    check: "datastore",
                    ok: true,
                    detail: format!("{n} connection(s) up"),
                },
                None => Check {
                    check: "datastore",
                    ok: false,
                    detail: "/info does not report datastore_connected".into(),
                },
            });
            checks.push(match info.state.as_deref() {
                Some("NORMAL") => Check {
                    check: "state",
                    ok: true,
                    detail: "NORMAL".into(),
                },
                Some(s) => Check {
                    check: "state",
                    ok: false,
                    detail: format!("{s}, not NORMAL"),
                },
                None => Check {
                    check: "state",
                    ok: false,
                    detail: "/info does not report the state".into(),
                },
            });
        }
        Err(e) => {
            for name in ["datastore", "state"] {
                checks.push(Check {
                    check: name,
                    ok: false,
                    detail: format!("/info: {e}"),
                });
            }
        }
    }
    Ok(Health {
        node: node.to_string(),
        ok: checks.iter().all(|c| c.ok),
        checks,
    })
}

/// `dynoctl health`: the checks, or exit 2 when the node does not answer.
pub fn run(stats: &Stats, node: &str) -> Result<Health, CliError> {
    check(stats, node).map_err(|e| {
        CliError::unreachable(&format!("http://{node}/ping"), e, crate::stats::NODE_HINT)
    })
}

/// The result of `dynoctl wait`.
#[derive(Serialize)]
pub struct WaitReport {
    pub node: String,
    /// The state waited for.
    pub state: String,
    pub healthy: bool,
    pub reached: bool,
    pub elapsed_ms: u64,
    /// What the last poll saw: a state, a failed health check, or why the node did not answer.
    pub last: String,
}

impl Render for WaitReport {
    fn human(&self) -> Vec<Block> {
        let what = if self.healthy {
            format!("{} and healthy", self.state)
        } else {
            self.state.clone()
        };
        let elapsed = show_duration(Duration::from_millis(self.elapsed_ms));
        let line = if self.reached {
            format!("{}: {what} after {elapsed}", self.node)
        } else {
            format!(
                "{}: not {what} after {elapsed}; last saw: {}",
                self.node, self.last
            )
        };
        vec![Block::Lines(vec![line])]
    }
}

/// Poll `node` every `interval` until it reports `state` (and with `healthy`, passes every
/// health check) or `timeout` passes. An unreachable node is waited for, not an error.
pub fn wait(
    node: &str,
    state: &str,
    healthy: bool,
    timeout: Duration,
    interval: Duration,
) -> Result<WaitReport, CliError> {
    let start = Instant::now();
    let deadline = start + timeout;
    loop {
        let now = Instant::now();
        // Each poll must end by the deadline (but gets at least 100 ms, at most 2 s).
        let budget = deadline
            .saturating_duration_since(now)
            .clamp(Duration::from_millis(100), Duration::from_secs(2));
        let stats = Stats::new(budget)?;
        let (reached, last) = match stats.try_state(node) {
            Err(e) => (false, format!("unreachable ({e})")),
            Ok(s) if s != state => (false, format!("state {s}")),
            Ok(s) if !healthy => (true, format!("state {s}")),
            Ok(s) => match check(&stats, node) {
                Ok(h) if h.ok => (true, format!("state {s}, healthy")),
                Ok(h) => (false, format!("state {s}, unhealthy ({})", h.failures())),
                Err(e) => (false, format!("unreachable ({e})")),
            },
        };
        let elapsed = start.elapsed();
        if reached || Instant::now() >= deadline {
            return Ok(WaitReport {
                node: node.to_string(),
                state: state.to_string(),
                healthy,
                reached,
                elapsed_ms: elapsed.as_millis() as u64,
                last,
            });
        }
        let next = (now + interval).min(deadline);
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
}
