//! `dynotop --once` against a live 3-rack cluster under a small load: every node with its rack
//! and NORMAL, some node with a non-zero ops/s, a node's datastore `INFO` with keys in the
//! detail view; then one node killed and shown DOWN with the reason.

use std::collections::HashMap;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::cluster::Member;
use crate::util::*;

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The dynotop binary, built once per test run (it sits next to dynomited).
fn dynotop() -> std::path::PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let status = Command::new("cargo")
            .args(["build", "-q", "-p", "dynotop"])
            .current_dir(root())
            .status()
            .unwrap();
        assert!(status.success());
    });
    std::path::Path::new(DYNOMITED).with_file_name("dynotop")
}

/// One `--once` frame (160x40, no colours) of the nodes at `addrs`.
fn once(addrs: &[String], extra: &[&str]) -> String {
    let out = Command::new(dynotop())
        .args(["--nodes", &addrs.join(",")])
        .args([
            "--once",
            "--interval",
            "0.5",
            "--width",
            "160",
            "--height",
            "40",
        ])
        .args(extra)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = s(&out.stdout);
    assert!(
        out.status.success(),
        "dynotop exit {:?}: {}{text}",
        out.status,
        s(&out.stderr)
    );
    assert_eq!(text.lines().count(), 40, "{text}");
    text
}

/// The nodes table of a frame: per node name, its cells by column title (`NODE`, `DC/RACK`,
/// `STATE`, `OPS/s`, ...), cut at the header's column starts.
fn table(frame: &str) -> HashMap<String, HashMap<String, String>> {
    let lines: Vec<&str> = frame.lines().collect();
    let h = lines
        .iter()
        .position(|l| l.trim_start().starts_with("NODE") && l.contains("STATE"))
        .unwrap_or_else(|| panic!("no table header: {frame}"));
    let header: Vec<char> = lines[h].chars().collect();
    // Column starts: where a title begins after blanks.
    let mut cols: Vec<(usize, String)> = Vec::new();
    for (i, c) in header.iter().enumerate() {
        if *c != ' ' && (i == 0 || header[i - 1] == ' ') {
            let title: String = header[i..].iter().take_while(|c| **c != ' ').collect();
            cols.push((i, title.trim_end_matches(['▲', '▼']).to_string()));
        }
    }
    let mut rows = HashMap::new();
    for line in &lines[h + 1..] {
        let chars: Vec<char> = line.chars().collect();
        if !(line.starts_with("  ") || line.starts_with("> ")) || chars.len() <= cols[0].0 {
            break;
        }
        let cell = |k: usize| -> String {
            let end = cols
                .get(k + 1)
                .map_or(chars.len(), |c| c.0)
                .min(chars.len());
            let start = cols[k].0.min(end);
            chars[start..end]
                .iter()
                .collect::<String>()
                .trim()
                .to_string()
        };
        let cells: HashMap<String, String> = (0..cols.len())
            .map(|k| (cols[k].1.clone(), cell(k)))
            .collect();
        rows.insert(cells["NODE"].clone(), cells);
    }
    rows
}

/// A rate cell as a number: `0`, `2.5`, `1234`, `12.3k`, `1.2M`; `-` is none.
fn rate(cell: &str) -> Option<f64> {
    let (n, mult) = match cell.chars().last()? {
        'k' => (&cell[..cell.len() - 1], 1e3),
        'M' => (&cell[..cell.len() - 1], 1e6),
        _ => (cell, 1.0),
    };
    n.parse::<f64>().ok().map(|v| v * mult)
}

fn stats_addr(m: &Member) -> String {
    format!("127.0.0.1:{}", m.node.as_ref().unwrap().stats_port)
}

#[test]
fn dynotop_once_shows_a_live_cluster_and_a_dead_node() {
    dynotop(); // built before the cluster and the load start
    let mut m = crate::cluster::three_racks("");
    let addrs: Vec<String> = m.iter().map(stats_addr).collect();
    let ports: Vec<u16> = m[..2]
        .iter()
        .map(|x| x.node.as_ref().unwrap().port)
        .collect();

    // A small bounded load through two nodes: at most 3,000 commands and 10 s, paced so that
    // it spans dynotop's two polls.
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let load = {
        let (stop, done) = (stop.clone(), done.clone());
        std::thread::spawn(move || {
            let mut clients: Vec<Resp> = ports.iter().map(|&p| Resp::connect(p)).collect();
            let start = Instant::now();
            for i in 0..3000_u64 {
                if stop.load(Ordering::Relaxed) || start.elapsed() > Duration::from_secs(10) {
                    break;
                }
                let c = &mut clients[(i % 2) as usize];
                let key = format!("dynotop-{}", i / 2);
                if i % 4 < 2 {
                    assert_eq!(c.cmd(&["SET", &key, "v"]), b"+OK\r\n");
                } else {
                    c.cmd(&["GET", &key]);
                }
                done.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    wait_for("the load to start", Duration::from_secs(10), || {
        (done.load(Ordering::Relaxed) >= 50).then_some(())
    });

    let frame = once(&addrs, &["--view", "nodes"]);
    let rows = table(&frame);
    for (i, addr) in addrs.iter().enumerate() {
        let row = rows
            .get(addr)
            .unwrap_or_else(|| panic!("no row for {addr}: {frame}"));
        assert_eq!(row["DC/RACK"], format!("dc1/rack{}", i + 1), "{frame}");
        assert_eq!(row["STATE"], "NORMAL", "{frame}");
    }
    let busy = addrs
        .iter()
        .filter(|a| rate(&rows[*a]["OPS/s"]).unwrap_or(0.0) > 0.0)
        .count();
    assert!(busy >= 1, "no node with ops/s > 0: {frame}");
    assert!(frame.contains("up 3 down 0"), "{frame}");

    // The detail of rack1's node: its own redis-server's INFO, with the keys written.
    let frame = once(&addrs, &["--view", "detail", "--select", &addrs[0]]);
    let ds = frame
        .lines()
        .find(|l| l.starts_with("datastore INFO "))
        .unwrap_or_else(|| panic!("no datastore INFO line: {frame}"));
    assert!(ds.contains(&m[0].redis.addr()), "{frame}");
    let keys: u64 = ds
        .split_once("  keys ")
        .and_then(|(_, k)| k.split_whitespace().next())
        .and_then(|k| k.parse().ok())
        .unwrap_or_else(|| panic!("no keys in {ds:?}: {frame}"));
    assert!(keys > 0, "{frame}");
    assert!(
        frame
            .lines()
            .any(|l| l.trim_start().starts_with("role master")),
        "{frame}"
    );

    stop.store(true, Ordering::Relaxed);
    load.join().unwrap();

    // rack3's node killed (by PID, on drop): DOWN with the reason, the others still NORMAL.
    drop(m[2].node.take());
    let frame = once(&addrs, &["--view", "nodes"]);
    let rows = table(&frame);
    assert_eq!(rows[&addrs[2]]["STATE"], "DOWN", "{frame}");
    assert_eq!(rows[&addrs[0]]["STATE"], "NORMAL", "{frame}");
    assert_eq!(rows[&addrs[1]]["STATE"], "NORMAL", "{frame}");
    let why = frame
        .lines()
        .find(|l| l.starts_with(&format!("{} DOWN", addrs[2])))
        .unwrap_or_else(|| panic!("no reason line: {frame}"));
    assert!(why.contains("connect: "), "{frame}");
    assert!(frame.contains("up 2 down 1"), "{frame}");
}
