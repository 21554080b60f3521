//! `dynoctl cluster up|down|status|restart-node`: a local cluster on 127.0.0.1, one
//! `redis-server` (no persistence) and one `dynomited` per node, for trying dynomite-rs out,
//! for tests and for rehearsing operations (rolling restarts).
//!
//! Ports: node `i` (1-based, in dc, rack, slot order) owns the block `base + 10·(i−1)` and uses
//! `+1` peer (dyn_listen), `+2` client (listen), `+3` stats and admin (stats_listen), `+4`
//! redis-server. With the default base 8100, node 1 is 8101/8102/8103/8104, node 2
//! 8111/8112/8113/8114, and so on. Every port is checked free before anything starts.
//!
//! Files in DIR: `<dc>-<rack>-<slot>.yml` (the config, from [`gen_config::node_file`]),
//! `<dc>-<rack>-<slot>.log` (dynomited's stdout and stderr), `<dc>-<rack>-<slot>.redis.log`,
//! and `cluster.json`: the nodes, their ports, PIDs and file paths, which `down`,
//! `status` and `restart-node` read. Processes run in their own process group with stdin
//! closed, so they outlive dynoctl; `down` stops them by the recorded PIDs, and only PIDs
//! whose `/proc/PID/cmdline` still names the program (a recycled PID is never signalled).

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dynomite::types::Consistency;
use serde::{Deserialize, Serialize};

use crate::duration::show_duration;
use crate::gen_config;
use crate::output::{log, Block, CliError, Render};
use crate::stats::node_addr;
use crate::tokens::Layout;

mod procs;

use procs::{
    absolute, dynomited_args, free, kill_all, program, redis_args, spawn, stop, wait_ready, Started,
};
pub use procs::{is_running, Stopped};

/// The default `--base-port`: node 1 gets 8101 (peer), 8102 (client), 8103 (stats), 8104
/// (redis).
pub const DEFAULT_BASE_PORT: u16 = 8100;
/// The default `--dir` (relative to the current directory).
pub const DEFAULT_DIR: &str = "dynomite-cluster";
/// Ports reserved per node.
pub const PORTS_PER_NODE: u16 = 10;
/// The state file in DIR.
pub const STATE_FILE: &str = "cluster.json";
/// How long `down` and `restart-node` wait after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// What `cluster up` starts.
pub struct UpOptions {
    pub layout: Layout,
    pub dir: PathBuf,
    pub base_port: u16,
    pub dynomited: Option<PathBuf>,
    pub redis_server: Option<PathBuf>,
    pub consistency: Consistency,
    pub timeout: Duration,
}

/// One node of a local cluster, as `cluster.json` records it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ClusterNode {
    /// 1-based, in dc, rack, slot order.
    pub index: usize,
    pub dc: String,
    pub rack: String,
    pub slot: u32,
    pub token: u32,
    /// `127.0.0.1:PORT` of each listener.
    pub client: String,
    pub peer: String,
    pub stats: String,
    pub redis: String,
    pub dynomited_pid: u32,
    pub redis_pid: u32,
    pub config: String,
    pub log: String,
    pub redis_log: String,
}

impl ClusterNode {
    fn name(&self) -> String {
        format!("node {} ({}/{})", self.index, self.dc, self.rack)
    }
}

/// `cluster.json`, and the result of `cluster up`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Cluster {
    pub dir: String,
    pub base_port: u16,
    pub dynomited: String,
    pub redis_server: String,
    pub nodes: Vec<ClusterNode>,
}

impl Cluster {
    fn stats_list(&self) -> String {
        self.nodes
            .iter()
            .map(|n| n.stats.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

pub(super) fn port(addr: &str) -> &str {
    addr.rsplit(':').next().unwrap_or(addr)
}

impl Render for Cluster {
    fn human(&self) -> Vec<Block> {
        let rows = self
            .nodes
            .iter()
            .map(|n| {
                vec![
                    n.index.to_string(),
                    n.dc.clone(),
                    n.rack.clone(),
                    n.token.to_string(),
                    n.client.clone(),
                    n.stats.clone(),
                    n.redis.clone(),
                    n.dynomited_pid.to_string(),
                    n.redis_pid.to_string(),
                ]
            })
            .collect();
        let table = Block::Table {
            headers: vec![
                "node",
                "dc",
                "rack",
                "token",
                "client",
                "stats",
                "redis",
                "dynomited pid",
                "redis pid",
            ],
            rows,
        };
        let list = self.stats_list();
        let dir = &self.dir;
        let mut hints = Vec::new();
        if let (Some(a), Some(b)) = (self.nodes.first(), self.nodes.last()) {
            hints.push(format!(
                "write:  redis-cli -p {} set hello world",
                port(&a.client)
            ));
            hints.push(format!(
                "read:   redis-cli -p {} get hello",
                port(&b.client)
            ));
            hints.push(format!(
                "check:  redis-cli -p {} get hello   (node {}'s own redis-server)",
                port(&b.redis),
                b.index
            ));
        }
        hints.push(format!("status: dynoctl status --nodes {list}"));
        hints.push(format!("watch:  dynotop --nodes {list}"));
        hints.push(format!("logs:   {dir}/*.log"));
        hints.push(format!("stop:   dynoctl cluster down --dir {dir}"));
        vec![table, Block::Lines(hints)]
    }
}

/// Read `DIR/cluster.json`.
pub fn load(dir: &Path) -> Result<Cluster, CliError> {
    let path = dir.join(STATE_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        CliError::new(format!("cannot read {}: {e}", path.display())).with_hint(
            "is there a cluster started with `dynoctl cluster up --dir DIR` there? give its --dir",
        )
    })?;
    serde_json::from_str(&text)
        .map_err(|e| CliError::new(format!("{} is not a cluster.json: {e}", path.display())))
}

/// Write `DIR/cluster.json` (through a temporary file, so it is never half written).
fn save(cluster: &Cluster) -> Result<(), CliError> {
    let dir = Path::new(&cluster.dir);
    let path = dir.join(STATE_FILE);
    let tmp = dir.join(format!(".{STATE_FILE}.tmp"));
    let mut text = serde_json::to_string_pretty(cluster).unwrap_or_default();
    text.push('\n');
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| CliError::new(format!("cannot write {}: {e}", path.display())))
}

/// The result of `cluster down`.
#[derive(Serialize)]
pub struct Down {
    pub dir: String,
    pub processes: Vec<Stopped>,
}

impl Render for Down {
    fn human(&self) -> Vec<Block> {
        let rows = self
            .processes
            .iter()
            .map(|s| {
                vec![
                    s.node.to_string(),
                    s.process.to_string(),
                    s.pid.to_string(),
                    s.result.to_string(),
                ]
            })
            .collect();
        vec![Block::Table {
            headers: vec!["node", "process", "pid", "result"],
            rows,
        }]
    }
}

/// `dynoctl cluster down`: stop every recorded process (dynomited first, then the
/// redis-servers), remove cluster.json.
pub fn down(dir: &Path) -> Result<Down, CliError> {
    let cluster = load(dir)?;
    let daemons: Vec<_> = cluster
        .nodes
        .iter()
        .map(|n| (n.index, "dynomited", n.dynomited_pid))
        .collect();
    let redis: Vec<_> = cluster
        .nodes
        .iter()
        .map(|n| (n.index, "redis-server", n.redis_pid))
        .collect();
    let mut processes = stop(&daemons, STOP_GRACE);
    processes.extend(stop(&redis, STOP_GRACE));
    if let Some(s) = processes.iter().find(|s| s.result == "still running") {
        return Err(CliError::new(format!(
            "{} of node {} (pid {}) is still running after SIGKILL; cluster.json kept",
            s.process, s.node, s.pid
        )));
    }
    let path = dir.join(STATE_FILE);
    std::fs::remove_file(&path)
        .map_err(|e| CliError::new(format!("cannot remove {}: {e}", path.display())))?;
    Ok(Down {
        dir: dir.display().to_string(),
        processes,
    })
}

/// `dynoctl cluster up`.
pub fn up(opts: &UpOptions) -> Result<Cluster, CliError> {
    let dynomited = program(
        &opts.dynomited,
        "dynomited",
        true,
        "build it (cargo build --release -p dynomited) or give --dynomited PATH",
    )?;
    let redis_server = program(
        &opts.redis_server,
        "redis-server",
        false,
        "install it (apt-get install redis-server) or give --redis-server PATH",
    )?;
    let dir = absolute(&opts.dir);
    if let Ok(old) = load(&dir) {
        for n in &old.nodes {
            for (what, pid) in [
                ("dynomited", n.dynomited_pid),
                ("redis-server", n.redis_pid),
            ] {
                if is_running(pid, what) {
                    return Err(CliError::new(format!(
                        "a cluster from {} is running (the {what} of {}, pid {pid})",
                        dir.display(),
                        n.name()
                    ))
                    .with_hint(format!(
                        "stop it with `dynoctl cluster down --dir {}`, or give another --dir",
                        dir.display()
                    )));
                }
            }
        }
        log(format!(
            "{} is left from a cluster that is no longer running; replacing it",
            dir.join(STATE_FILE).display()
        ));
    }

    let mut nodes = opts.layout.nodes()?;
    let count = nodes.len();
    let last = u32::from(opts.base_port) + u32::from(PORTS_PER_NODE) * count as u32;
    if opts.base_port < 1024 || last > u32::from(u16::MAX) {
        return Err(CliError::new(format!(
            "--base-port {} does not fit {count} node(s): they use ports {}..{last}, which must be within 1024..65535",
            opts.base_port,
            opts.base_port
        )));
    }
    let addr = |i: usize, k: u16| {
        format!(
            "127.0.0.1:{}",
            opts.base_port + PORTS_PER_NODE * i as u16 + k
        )
    };
    for (i, n) in nodes.iter_mut().enumerate() {
        n.host = Some("127.0.0.1".into());
        n.seed = Some(format!(
            "127.0.0.1:{}:{}:{}:{}",
            port(&addr(i, 1)),
            n.rack,
            n.dc,
            n.token
        ));
    }
    // Every port free, before anything starts.
    for i in 0..count {
        for (k, role) in [(1, "peer"), (2, "client"), (3, "stats"), (4, "redis")] {
            let a = addr(i, k);
            if !free(&a) {
                return Err(CliError::new(format!(
                    "port {} ({role} port of node {}) is in use",
                    port(&a),
                    i + 1
                ))
                .with_hint(
                    "node i uses --base-port + 10*(i-1) + 1..4; give another --base-port, or stop \
                     what listens there (a cluster started before: dynoctl cluster down --dir DIR)",
                ));
            }
        }
    }
    std::fs::create_dir_all(&dir)
        .map_err(|e| CliError::new(format!("cannot create directory {}: {e}", dir.display())))?;

    let mut cluster = Cluster {
        dir: dir.display().to_string(),
        base_port: opts.base_port,
        dynomited: dynomited.display().to_string(),
        redis_server: redis_server.display().to_string(),
        nodes: Vec::with_capacity(count),
    };
    for (i, n) in nodes.iter().enumerate() {
        let settings = gen_config::Settings {
            redis_port: opts.base_port + PORTS_PER_NODE * i as u16 + 4,
            client_port: opts.base_port + PORTS_PER_NODE * i as u16 + 2,
            peer_port: opts.base_port + PORTS_PER_NODE * i as u16 + 1,
            stats_port: opts.base_port + PORTS_PER_NODE * i as u16 + 3,
            data_store: 0,
            read_consistency: opts.consistency,
            write_consistency: opts.consistency,
        };
        let file = gen_config::node_file(n, &nodes, &opts.layout, &settings, &dir)?;
        std::fs::write(&file.path, &file.text)
            .map_err(|e| CliError::new(format!("cannot write {}: {e}", file.path)))?;
        let stem = dir.join(format!("{}-{}-{}", n.dc, n.rack, n.slot));
        cluster.nodes.push(ClusterNode {
            index: i + 1,
            dc: n.dc.clone(),
            rack: n.rack.clone(),
            slot: n.slot,
            token: n.token,
            client: addr(i, 2),
            peer: addr(i, 1),
            stats: addr(i, 3),
            redis: addr(i, 4),
            dynomited_pid: 0,
            redis_pid: 0,
            config: file.path,
            log: format!("{}.log", stem.display()),
            redis_log: format!("{}.redis.log", stem.display()),
        });
    }

    let mut started: Vec<Started> = Vec::new();
    let result = start_all(&mut cluster, &dynomited, &redis_server, &mut started, opts);
    if let Err(e) = result {
        kill_all(&mut started);
        let _ = std::fs::remove_file(dir.join(STATE_FILE));
        return Err(e);
    }
    Ok(cluster)
}

/// Start the redis-servers, then the dynomiteds, recording each PID in cluster.json as soon
/// as it runs (so `down` can stop them even if this dynoctl is interrupted), and wait until
/// every node is ready.
fn start_all(
    cluster: &mut Cluster,
    dynomited: &Path,
    redis_server: &Path,
    started: &mut Vec<Started>,
    opts: &UpOptions,
) -> Result<(), CliError> {
    let deadline = Instant::now() + opts.timeout;
    for i in 0..cluster.nodes.len() {
        let n = &cluster.nodes[i];
        let s = spawn(
            redis_server,
            &redis_args(n, &cluster.dir),
            Path::new(&n.redis_log),
            format!("redis-server of {}", n.name()),
        )?;
        cluster.nodes[i].redis_pid = s.child.id();
        started.push(s);
        save(cluster)?;
    }
    for i in 0..cluster.nodes.len() {
        let addr = cluster.nodes[i].redis.clone();
        loop {
            for s in started.iter_mut() {
                s.check()?;
            }
            if TcpStream::connect(&addr).is_ok() {
                break;
            }
            if Instant::now() >= deadline {
                let n = &cluster.nodes[i];
                return Err(CliError::new(format!(
                    "redis-server of {} does not listen on {addr} after {}; its log is {}",
                    n.name(),
                    show_duration(opts.timeout),
                    n.redis_log
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    for i in 0..cluster.nodes.len() {
        let n = &cluster.nodes[i];
        let s = spawn(
            dynomited,
            &dynomited_args(n),
            Path::new(&n.log),
            format!("dynomited of {}", n.name()),
        )?;
        cluster.nodes[i].dynomited_pid = s.child.id();
        started.push(s);
        save(cluster)?;
    }
    let peers = cluster.nodes.len() as u64 - 1;
    let all: Vec<&ClusterNode> = cluster.nodes.iter().collect();
    let left = deadline.saturating_duration_since(Instant::now());
    wait_ready(&all, peers, started, left.max(Duration::from_secs(1)))
}

/// The node `arg` names: its index (1-based), or its stats or client address.
fn find_node<'a>(cluster: &'a Cluster, arg: &str) -> Result<&'a ClusterNode, CliError> {
    let found = match arg.trim().parse::<usize>() {
        Ok(i) => cluster.nodes.iter().find(|n| n.index == i),
        Err(_) => {
            let a = node_addr(arg)?;
            cluster.nodes.iter().find(|n| n.stats == a || n.client == a)
        }
    };
    found.ok_or_else(|| {
        CliError::new(format!("the cluster in {} has no node {arg}", cluster.dir)).with_hint(
            format!(
                "give a node number 1..{} or a node's stats address ({})",
                cluster.nodes.len(),
                cluster.stats_list()
            ),
        )
    })
}

/// The result of `cluster restart-node`.
#[derive(Serialize)]
pub struct Restarted {
    pub node: usize,
    pub stats: String,
    pub old_pid: u32,
    /// What happened to the old process (see [`Stopped::result`]).
    pub stopped: &'static str,
    pub new_pid: u32,
    pub elapsed_ms: u64,
}

impl Render for Restarted {
    fn human(&self) -> Vec<Block> {
        vec![Block::Lines(vec![format!(
            "node {} ({}): dynomited {} (pid {}), started again (pid {}), ready after {}",
            self.node,
            self.stats,
            self.stopped,
            self.old_pid,
            self.new_pid,
            show_duration(Duration::from_millis(self.elapsed_ms))
        )])]
    }
}

/// `dynoctl cluster restart-node`: stop a node's dynomited by its PID (SIGTERM, SIGKILL after
/// 10 s), start it again with the same config and log, record the new PID and wait until it
/// is ready (healthy, connected to its peers).
pub fn restart_node(dir: &Path, arg: &str, timeout: Duration) -> Result<Restarted, CliError> {
    let start = Instant::now();
    let mut cluster = load(dir)?;
    let n = find_node(&cluster, arg)?.clone();
    let stopped = stop(&[(n.index, "dynomited", n.dynomited_pid)], STOP_GRACE);
    let result = stopped[0].result;
    if result == "still running" {
        return Err(CliError::new(format!(
            "dynomited of {} (pid {}) is still running after SIGKILL",
            n.name(),
            n.dynomited_pid
        )));
    }
    // Its listeners close with it; wait until the ports can be bound again.
    let deadline = Instant::now() + Duration::from_secs(5);
    for a in [&n.client, &n.peer, &n.stats] {
        while !free(a) {
            if Instant::now() >= deadline {
                return Err(CliError::new(format!(
                    "port {} of {} is still in use after its dynomited stopped",
                    port(a),
                    n.name()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let mut s = spawn(
        Path::new(&cluster.dynomited),
        &dynomited_args(&n),
        Path::new(&n.log),
        format!("dynomited of {}", n.name()),
    )?;
    let new_pid = s.child.id();
    if let Some(m) = cluster.nodes.iter_mut().find(|m| m.index == n.index) {
        m.dynomited_pid = new_pid;
    }
    save(&cluster)?;
    let peers = cluster.nodes.len() as u64 - 1;
    wait_ready(&[&n], peers, std::slice::from_mut(&mut s), timeout)?;
    Ok(Restarted {
        node: n.index,
        stats: n.stats.clone(),
        old_pid: n.dynomited_pid,
        stopped: result,
        new_pid,
        elapsed_ms: start.elapsed().as_millis() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_is_recognised_and_others_are_not() {
        let me = std::process::id();
        // The unit test binary is not dynomited.
        assert!(!is_running(me, "dynomited"));
        let exe = std::env::current_exe().unwrap();
        let name = exe.file_name().unwrap().to_string_lossy().into_owned();
        assert!(is_running(me, &name[..5]));
        assert!(!is_running(0, "dynomited"));
        assert!(!is_running(u32::MAX, "dynomited"));
    }
}
