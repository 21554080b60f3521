//! The processes of a local cluster: finding the programs, starting a redis-server or a
//! dynomited detached (own process group, log file), waiting until each answers, and stopping
//! them by PID (only PIDs whose `/proc/PID/cmdline` still names the program).

use std::fs::OpenOptions;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde::Serialize;

use serde_json::Value;

use super::{port, ClusterNode};
use crate::duration::show_duration;
use crate::health;
use crate::output::CliError;
use crate::stats::Stats;

/// `name` next to this executable, else on PATH.
pub(super) fn find_program(name: &str, beside_self: bool) -> Option<PathBuf> {
    if beside_self {
        if let Ok(me) = std::env::current_exe() {
            let p = me.with_file_name(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

pub(super) fn program(
    given: &Option<PathBuf>,
    name: &str,
    beside_self: bool,
    hint: &str,
) -> Result<PathBuf, CliError> {
    match given {
        Some(p) if p.is_file() => Ok(p.clone()),
        Some(p) => Err(CliError::new(format!("{} does not exist", p.display()))),
        None => find_program(name, beside_self).ok_or_else(|| {
            CliError::new(format!(
                "cannot find {name}{} nor on PATH",
                if beside_self { " next to dynoctl" } else { "" }
            ))
            .with_hint(hint)
        }),
    }
}

/// The path as an absolute path (the processes and cluster.json outlive the current
/// directory).
pub(super) fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    }
}

/// Is `pid` a live (not zombie) process whose command line names `name`?
pub fn is_running(pid: u32, name: &str) -> bool {
    if pid == 0 {
        return false;
    }
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state follows the command name in parentheses.
    let state = stat
        .rsplit(')')
        .next()
        .and_then(|r| r.trim().chars().next());
    if matches!(state, Some('Z' | 'X') | None) {
        return false;
    }
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    // redis-server rewrites its title into argv[0] ("/usr/bin/redis-server 127.0.0.1:8104").
    let arg0 =
        String::from_utf8_lossy(cmdline.split(|&b| b == 0).next().unwrap_or(&[])).into_owned();
    let word = arg0.split_whitespace().next().unwrap_or("");
    let base = word.rsplit('/').next().unwrap_or(word);
    base.starts_with(name)
}

pub(super) fn signal(pid: u32, sig: Signal) {
    if let Ok(p) = i32::try_from(pid) {
        let _ = kill(Pid::from_raw(p), sig);
    }
}

/// One process `down` (or `restart-node`) stopped.
#[derive(Clone, Debug, Serialize)]
pub struct Stopped {
    pub node: usize,
    pub process: &'static str,
    pub pid: u32,
    /// `stopped` (exited after SIGTERM), `killed` (SIGKILL after 10 s), `not running`
    /// (gone, or the PID now belongs to another program), or `still running`.
    pub result: &'static str,
}

/// SIGTERM every process that is still what was recorded, wait up to `grace` for all of them,
/// then SIGKILL the rest and wait a little more.
pub(super) fn stop(procs: &[(usize, &'static str, u32)], grace: Duration) -> Vec<Stopped> {
    let mut out: Vec<Stopped> = procs
        .iter()
        .map(|&(node, process, pid)| {
            let running = is_running(pid, process);
            if running {
                signal(pid, Signal::SIGTERM);
            }
            Stopped {
                node,
                process,
                pid,
                result: if running { "stopped" } else { "not running" },
            }
        })
        .collect();
    let pending = |out: &[Stopped]| {
        out.iter()
            .any(|s| s.result == "stopped" && is_running(s.pid, s.process))
    };
    let deadline = Instant::now() + grace;
    while pending(&out) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    for s in &mut out {
        if s.result == "stopped" && is_running(s.pid, s.process) {
            signal(s.pid, Signal::SIGKILL);
            s.result = "killed";
        }
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while out
        .iter()
        .any(|s| s.result == "killed" && is_running(s.pid, s.process))
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    for s in &mut out {
        if s.result == "killed" && is_running(s.pid, s.process) {
            s.result = "still running";
        }
    }
    out
}

/// A process `up` or `restart-node` started and is waiting for.
pub(super) struct Started {
    what: String,
    pub(super) child: Child,
    log: PathBuf,
}

impl Started {
    /// `Err` naming the process and its log if it has exited.
    pub(super) fn check(&mut self) -> Result<(), CliError> {
        match self.child.try_wait() {
            Ok(Some(st)) => Err(exited(&self.what, &st.to_string(), &self.log)),
            _ => Ok(()),
        }
    }
}

pub(super) fn exited(what: &str, status: &str, log: &Path) -> CliError {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let tail: Vec<&str> = text.lines().rev().take(5).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    let mut msg = format!("{what} exited ({status}); its log is {}", log.display());
    if !tail.is_empty() {
        msg.push_str(":\n  ");
        msg.push_str(&tail.join("\n  "));
    }
    CliError::new(msg)
}

/// Start `program args` detached: its own process group, stdin closed, stdout and stderr
/// appended to `log`.
pub(super) fn spawn(
    program: &Path,
    args: &[String],
    log: &Path,
    what: String,
) -> Result<Started, CliError> {
    let out = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| CliError::new(format!("cannot open {}: {e}", log.display())))?;
    let err = out
        .try_clone()
        .map_err(|e| CliError::new(format!("cannot open {}: {e}", log.display())))?;
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
        .map_err(|e| CliError::new(format!("cannot start {}: {e}", program.display())))?;
    Ok(Started {
        what,
        child,
        log: log.to_path_buf(),
    })
}

pub(super) fn dynomited_args(n: &ClusterNode) -> Vec<String> {
    vec!["-c".into(), n.config.clone(), "-v".into(), "5".into()]
}

pub(super) fn redis_args(n: &ClusterNode, dir: &str) -> Vec<String> {
    [
        "--port",
        port(&n.redis),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--protected-mode",
        "no",
        "--daemonize",
        "no",
        "--dir",
        dir,
        "--loglevel",
        "notice",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Is `addr`'s port free to listen on?
pub(super) fn free(addr: &str) -> bool {
    TcpListener::bind(addr).is_ok()
}

/// Why `n` is not ready yet (`Ok` when its stats port answers, it is healthy and has a
/// connection to each of its `peers` peers).
pub(super) fn ready(stats: &Stats, n: &ClusterNode, peers: u64) -> Result<(), String> {
    let h = health::check(stats, &n.stats).map_err(|e| format!("stats port: {e}"))?;
    if !h.ok {
        return Err(h.failures());
    }
    let body = stats
        .try_get(&n.stats, "/info")
        .map_err(|e| e.to_string())?;
    let v: Value = serde_json::from_str(&body).map_err(|e| format!("bad /info: {e}"))?;
    let up = v
        .as_object()
        .and_then(|o| o.values().find(|v| v.is_object()))
        .and_then(|pool| pool.get("peer_connections"))
        .and_then(Value::as_u64)
        .unwrap_or(0);
    if up < peers {
        return Err(format!("{up} of {peers} peer connection(s) up"));
    }
    Ok(())
}

/// Wait until every node of `nodes` is ready, failing early if a started process exits.
pub(super) fn wait_ready(
    nodes: &[&ClusterNode],
    peers: u64,
    started: &mut [Started],
    timeout: Duration,
) -> Result<(), CliError> {
    let deadline = Instant::now() + timeout;
    let stats = Stats::new(Duration::from_secs(1))?;
    let mut pending: Vec<&ClusterNode> = nodes.to_vec();
    loop {
        for s in started.iter_mut() {
            s.check()?;
        }
        let mut last = Vec::new();
        pending.retain(|n| match ready(&stats, n, peers) {
            Ok(()) => false,
            Err(why) => {
                last.push((n.name(), n.log.clone(), why));
                true
            }
        });
        if pending.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            let (name, log, why) = &last[0];
            return Err(CliError::new(format!(
                "{name} not ready after {}: {why}; its log is {log}",
                show_duration(timeout)
            ))
            .with_hint("raise --timeout, or read the log"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Kill (SIGKILL) and reap everything `up` started, after a failure.
pub(super) fn kill_all(started: &mut [Started]) {
    for s in started.iter_mut() {
        let _ = s.child.kill();
        let _ = s.child.wait();
    }
}
