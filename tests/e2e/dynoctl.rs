//! `dynoctl`: conf-test verdicts as `dynomited -t`, tokens and their checks, gen-config output
//! that dynomited loads, the florida seed endpoint and the seed listings.

use std::net::TcpStream;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use crate::util::*;

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The newest modification time of the files under `dir`.
fn newest(dir: &std::path::Path) -> std::time::SystemTime {
    let mut t = std::time::SystemTime::UNIX_EPOCH;
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        let m = if p.is_dir() {
            newest(&p)
        } else {
            e.metadata().and_then(|m| m.modified()).unwrap_or(t)
        };
        t = t.max(m);
    }
    t
}

/// The dynoctl binary next to dynomited (a `--release` run uses target/release/dynoctl).
/// A workspace test run has just built it; a run of this crate's tests alone may not have,
/// so it is built (in the tests' profile) when it is missing or older than its sources.
/// Not built otherwise: a `cargo build` here would resolve features apart from the test
/// build's and rebuild the library each time the two alternate.
pub(crate) fn dynoctl() -> std::path::PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    let bin = std::path::Path::new(DYNOMITED).with_file_name("dynoctl");
    BUILT.get_or_init(|| {
        let built = std::fs::metadata(&bin).and_then(|m| m.modified()).ok();
        let sources = newest(&root().join("dynoctl")).max(newest(&root().join("dynomited/src")));
        if built.is_some_and(|b| b >= sources) {
            return;
        }
        let profile: &[&str] = if cfg!(debug_assertions) {
            &[]
        } else {
            &["--release"]
        };
        let status = Command::new("cargo")
            .args(["build", "-q", "-p", "dynoctl"])
            .args(profile)
            .current_dir(root())
            .status()
            .unwrap();
        assert!(status.success());
    });
    bin
}

fn run(args: &[&str]) -> Output {
    Command::new(dynoctl())
        .current_dir(root())
        .args(args)
        .output()
        .unwrap()
}

/// Run and expect exit 0; the stdout.
fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "dynoctl {args:?}: {}{}",
        s(&out.stdout),
        s(&out.stderr)
    );
    s(&out.stdout)
}

#[test]
fn conf_test_valid_and_invalid() {
    let out = run(&["conf-test", "conf/redis_single.yml", "conf/dc1_rack1.yml"]);
    assert_eq!(out.status.code(), Some(0), "{}", s(&out.stderr));
    assert_eq!(
        s(&out.stdout),
        "conf/redis_single.yml: ok\nconf/dc1_rack1.yml: ok\n"
    );
    let bad = "tests/fixtures/conf-invalid/unknown-key.yml";
    let out = run(&["conf-test", "conf/redis_single.yml", bad]);
    assert_eq!(out.status.code(), Some(1));
    let expected = std::fs::read_to_string(root().join(bad).with_extension("expected")).unwrap();
    assert!(
        s(&out.stdout).contains(expected.trim_end()),
        "{}",
        s(&out.stdout)
    );
    let out = run(&["conf-test"]);
    assert_eq!(out.status.code(), Some(2), "usage error");
}

/// The tokens column of a plain (piped) table, skipping the header.
fn token_column(table: &str) -> Vec<String> {
    table
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().nth(3).unwrap().to_string())
        .collect()
}

#[test]
fn tokens_netflix_vectors() {
    let one = ok(&["tokens", "--racks", "3"]);
    assert_eq!(token_column(&one), ["1383429731"; 3]);
    let two = ok(&["tokens", "--racks", "2", "--nodes-per-rack", "2"]);
    assert_eq!(
        token_column(&two),
        ["1383429731", "3530913378", "1383429731", "3530913378"]
    );
    let three = ok(&["tokens", "--racks", "3", "--nodes-per-rack", "3"]);
    let tokens = token_column(&three);
    assert_eq!(tokens.len(), 9);
    for rack in tokens.chunks(3) {
        assert_eq!(rack, ["1383429731", "2815085496", "4246741261"]);
    }
    assert!(three.starts_with("dc"), "{three}");
    assert!(
        three.lines().nth(4).unwrap().starts_with("dc1  rack2  0"),
        "{three}"
    );

    let json = ok(&[
        "tokens",
        "--racks",
        "2",
        "--nodes-per-rack",
        "3",
        "--dcs",
        "east,west",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let nodes = v["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 12);
    assert_eq!(v["scheme"], "netflix");
    assert_eq!(nodes[7]["dc"], "west");
    assert_eq!(nodes[7]["rack"], "rack1");
    assert_eq!(nodes[7]["slot"], 1);
    assert_eq!(nodes[7]["token"], 2815085496u64);

    let even = ok(&[
        "tokens",
        "--racks",
        "1",
        "--nodes-per-rack",
        "3",
        "--scheme",
        "even",
    ]);
    assert_eq!(
        token_column(&even),
        ["1431655765", "2863311530", "4294967295"]
    );
    let out = run(&["tokens"]);
    assert_eq!(out.status.code(), Some(2), "--racks is required");
}

#[test]
fn tokens_seed_lines() {
    let dir = TempDir::new("dynoctl-hosts");
    let hosts = dir.path().join("hosts");
    std::fs::write(&hosts, "# three racks\n10.0.0.1\n10.0.0.2\n\n10.0.0.3\n").unwrap();
    let out = ok(&[
        "tokens",
        "--racks",
        "3",
        "--seeds",
        "--hosts",
        hosts.to_str().unwrap(),
    ]);
    let seeds: Vec<&str> = out
        .lines()
        .skip_while(|l| l.trim() != "dyn_seeds:")
        .collect();
    assert_eq!(
        seeds,
        [
            "  dyn_seeds:",
            "  - 10.0.0.1:8101:rack1:dc1:1383429731",
            "  - 10.0.0.2:8101:rack2:dc1:1383429731",
            "  - 10.0.0.3:8101:rack3:dc1:1383429731",
        ],
        "{out}"
    );
    let json = ok(&[
        "tokens",
        "--racks",
        "1",
        "--nodes-per-rack",
        "2",
        "--seeds",
        "--hosts",
        "a,b",
        "--peer-port",
        "9101",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["nodes"][1]["seed"], "b:9101:rack1:dc1:3530913378");
    let out = run(&["tokens", "--racks", "3", "--seeds", "--hosts", "a,b"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        s(&out.stderr).contains("2 hosts given for 3 nodes"),
        "{}",
        s(&out.stderr)
    );
}

#[test]
fn gen_config_loads_and_checks() {
    let dir = TempDir::new("dynoctl-gen");
    let out_dir = dir.path().join("conf");
    let hosts = "127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5,127.0.0.6";
    let common = [
        "gen-config",
        "--racks",
        "3",
        "--nodes-per-rack",
        "2",
        "--hosts",
        hosts,
        "--redis-port",
        "6380",
        "--write-consistency",
        "dc_quorum",
        "--out",
        out_dir.to_str().unwrap(),
    ];
    let dry = ok(&[&common[..], &["--dry-run"]].concat());
    assert!(!out_dir.exists(), "--dry-run writes nothing");
    assert_eq!(dry.matches("# file: ").count(), 6, "{dry}");
    assert!(dry.contains("  write_consistency: DC_QUORUM\n"), "{dry}");

    ok(&common);
    let mut files: Vec<_> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let names: Vec<_> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "dc1-rack1-0.yml",
            "dc1-rack1-1.yml",
            "dc1-rack2-0.yml",
            "dc1-rack2-1.yml",
            "dc1-rack3-0.yml",
            "dc1-rack3-1.yml"
        ]
    );
    for f in &files {
        let st = Command::new(DYNOMITED)
            .arg("-t")
            .arg("-c")
            .arg(f)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(st.success(), "dynomited -t {}", f.display());
    }
    let text = std::fs::read_to_string(&files[3]).unwrap();
    assert!(text.contains("  dyn_listen: 127.0.0.4:8101\n"), "{text}");
    assert!(text.contains("  tokens: '3530913378'\n"), "{text}");
    assert!(text.contains("  - 127.0.0.1:6380:1\n"), "{text}");
    assert_eq!(
        text.matches("\n  - 127.0.0.").count(),
        6,
        "5 seeds + 1 server: {text}"
    );
    assert!(
        !text.contains("127.0.0.4:8101:rack2"),
        "no seed for itself: {text}"
    );

    let file_args: Vec<&str> = files.iter().map(|f| f.to_str().unwrap()).collect();
    let check = ok(&[&["tokens", "--check"][..], &file_args].concat());
    assert!(check.contains("ok: 6 file(s), 3 rack(s)"), "{check}");
    let json = ok(&[&["tokens", "--json", "--check"][..], &file_args].concat());
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["racks"].as_array().unwrap().len(), 3);
    assert!(v["racks"][0]["imbalance"].as_f64().unwrap() < 1.001);

    // Broken: every slot-1 node given slot 0's token, consistently in every file.
    for f in &files {
        let t = std::fs::read_to_string(f).unwrap();
        std::fs::write(f, t.replace("3530913378", "1383429731")).unwrap();
    }
    let out = run(&[&["tokens", "--check"][..], &file_args].concat());
    assert_eq!(out.status.code(), Some(1), "{}", s(&out.stdout));
    let text = s(&out.stdout);
    assert_eq!(
        text.matches("duplicate token 1383429731").count(),
        3,
        "{text}"
    );
    assert!(
        text.contains("dc1/rack2: duplicate token 1383429731 on 127.0.0.3:8101, 127.0.0.4:8101"),
        "{text}"
    );
}

/// A `dynoctl serve-seeds` process and its port.
fn serve_seeds(file: &std::path::Path) -> (Proc, u16) {
    let port = free_port();
    let child = Command::new(dynoctl())
        .args(["serve-seeds", "--file"])
        .arg(file)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let proc = Proc { child: Some(child) };
    wait_for("serve-seeds to listen", Duration::from_secs(10), || {
        TcpStream::connect(("127.0.0.1", port)).ok()
    });
    (proc, port)
}

#[test]
fn serve_seeds_over_http() {
    let dir = TempDir::new("dynoctl-serve");
    let file = dir.path().join("seeds.list");
    let a = "127.0.0.1:8101:rack1:dc1:1383429731";
    let b = "127.0.0.2:8101:rack2:dc1:1383429731";
    std::fs::write(&file, format!("# the cluster\n{a}\n\n{b}\n")).unwrap();
    let (mut proc, port) = serve_seeds(&file);

    let (head, body) = http_get(port, "/REST/v1/admin/get_seeds");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("Content-Type: text/plain"), "{head}");
    assert_eq!(body, format!("{a}|{b}"));
    assert_eq!(
        http_get(port, "/api/v1/admin/get_seeds").1,
        format!("{a}|{b}")
    );
    assert_eq!(
        http_get(port, "/rest/V1/ADMIN/Get_Seeds").1,
        format!("{a}|{b}")
    );
    assert!(http_get(port, "/nothing").0.starts_with("HTTP/1.1 404"));

    let florida = ok(&[
        "seeds",
        "--florida",
        &format!("127.0.0.1:{port}"),
        "--format",
        "florida",
    ]);
    assert_eq!(florida, format!("{a}|{b}\n"));
    let table = ok(&[
        "seeds",
        "--florida",
        &format!("http://127.0.0.1:{port}/api/v1/admin/get_seeds"),
    ]);
    assert_eq!(table.lines().count(), 3, "{table}");
    assert!(table
        .lines()
        .nth(2)
        .unwrap()
        .starts_with("127.0.0.2  8101  rack2  dc1  1383429731"));

    // A new file is served within a deadline.
    let c = "127.0.0.3:8101:rack3:dc1:1383429731";
    std::fs::write(&file, format!("{a}\n{b}\n{c}\n")).unwrap();
    let want = format!("{a}|{b}|{c}");
    wait_for("the new seeds", Duration::from_secs(10), || {
        (http_get(port, "/REST/v1/admin/get_seeds").1 == want).then_some(())
    });
    // An invalid file keeps the last good seeds.
    std::fs::write(&file, "not a seed\n").unwrap();
    assert_eq!(http_get(port, "/REST/v1/admin/get_seeds").1, want);
    assert_eq!(
        proc.wait_exit(Duration::from_millis(100)),
        None,
        "still running"
    );
    proc.kill();
}

#[test]
fn seeds_from_config_and_live_node() {
    let out = ok(&[
        "seeds",
        "--config",
        "conf/dc1_rack1.yml",
        "--format",
        "florida",
    ]);
    assert_eq!(
        out,
        "127.0.0.1:8101:rack1:dc1:1383429731|127.0.0.2:8201:rack2:dc1:1383429731|127.0.0.3:8301:rack3:dc1:1383429731\n"
    );
    let json = ok(&["seeds", "--config", "conf/dc1_rack1.yml", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["nodes"][2]["port"], 8301);
    assert_eq!(v["nodes"][2]["rack"], "rack3");

    let r = Redis::start();
    let n = Node::start(&r.addr(), 0, "");
    let table = ok(&["seeds", "--node", &format!("127.0.0.1:{}", n.stats_port)]);
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(rows.len(), 2, "{table}");
    assert!(rows[1].starts_with("127.0.0.1"), "{table}");
    assert!(rows[1].ends_with("1383429731"), "{table}");

    let dead = free_port();
    let out = run(&["seeds", "--node", &format!("127.0.0.1:{dead}")]);
    assert_eq!(out.status.code(), Some(2));
    let err = s(&out.stderr);
    assert!(
        err.starts_with(&format!(
            "dynoctl: cannot reach http://127.0.0.1:{dead}/cluster_describe: "
        )),
        "{err}"
    );
    assert!(err.contains("\nhint: "), "{err}");
}

/// The stats address of a cluster member.
fn stats_addr(m: &crate::cluster::Member) -> String {
    format!("127.0.0.1:{}", m.node.as_ref().unwrap().stats_port)
}

#[test]
fn dynoctl_state_and_consistency_round_trip() {
    let (_r, n) = redis_node();
    let node = format!("127.0.0.1:{}", n.stats_port);
    assert_eq!(ok(&["state", "get", &node]), "NORMAL\n");
    assert_eq!(ok(&["state", "set", &node, "standby"]), "STANDBY\n");
    assert_eq!(
        http_get(n.stats_port, "/state/get_state").1,
        "State: STANDBY\n"
    );
    assert_eq!(ok(&["state", "get", &node]), "STANDBY\n");
    let v: serde_json::Value =
        serde_json::from_str(&ok(&["state", "set", &node, "writes_only", "--json"])).unwrap();
    assert_eq!(v["state"], "WRITES_ONLY");
    assert_eq!(v["previous"], "STANDBY");
    assert_eq!(ok(&["state", "set", &node, "normal"]), "NORMAL\n");
    let out = run(&["state", "set", &node, "bogus"]);
    assert_eq!(out.status.code(), Some(2), "usage error");

    let table = ok(&["consistency", "get", &node]);
    assert_eq!(
        table
            .lines()
            .nth(1)
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["DC_ONE", "DC_ONE"],
        "{table}"
    );
    ok(&["consistency", "set", &node, "--read", "dc_quorum"]);
    let json = ok(&[
        "consistency",
        "set",
        &node,
        "--write",
        "DC_SAFE_QUORUM",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["read"], "DC_QUORUM");
    assert_eq!(v["write"], "DC_SAFE_QUORUM");
    assert_eq!(
        http_get(n.stats_port, "/get_consistency").1,
        "Read Consistency: DC_QUORUM\r\nWrite Consistency: DC_SAFE_QUORUM\r\n"
    );
    let v: serde_json::Value =
        serde_json::from_str(&ok(&["consistency", "get", &node, "--json"])).unwrap();
    assert_eq!(
        (&v["read"], &v["write"]),
        (&"DC_QUORUM".into(), &"DC_SAFE_QUORUM".into())
    );
    assert_eq!(run(&["consistency", "set", &node]).status.code(), Some(2));
    assert_eq!(
        run(&["consistency", "set", &node, "--read", "dc_two"])
            .status
            .code(),
        Some(2)
    );

    assert!(ok(&["loglevel", &node, "up"]).contains("raised"));
    assert!(ok(&["loglevel", &node, "7"]).contains("set to 7"));
    assert_eq!(run(&["loglevel", &node, "12"]).status.code(), Some(2));

    let dead = format!("127.0.0.1:{}", free_port());
    let out = run(&["state", "get", &dead]);
    assert_eq!(out.status.code(), Some(2));
    let err = s(&out.stderr);
    assert!(
        err.starts_with(&format!(
            "dynoctl: cannot reach http://{dead}/state/get_state: "
        )),
        "{err}"
    );
    assert!(err.contains("\nhint: "), "{err}");
}

#[test]
fn dynoctl_peer_down_and_up() {
    let m = crate::cluster::three_racks("");
    let node = stats_addr(&m[0]);
    let out = run(&["peer", "down", &node, "10.9.9.9"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        s(&out.stderr).contains("knows no peer named \"10.9.9.9\""),
        "{}",
        s(&out.stderr)
    );
    // Every node is on 127.0.0.1: the name matches all peers.
    let table = ok(&["peer", "down", &node, "127.0.0.1"]);
    assert_eq!(table.lines().count(), 4, "{table}");
    assert!(table.starts_with("dc "), "{table}");
    let v: serde_json::Value =
        serde_json::from_str(&ok(&["peer", "up", &node, "127.0.0.1", "--json"])).unwrap();
    assert_eq!(v["action"], "up");
    assert_eq!(v["peers"].as_array().unwrap().len(), 3);
    ok(&["peer", "reset", &node, "all"]);
}

#[test]
fn dynoctl_health_and_wait() {
    let mut m = crate::cluster::three_racks("");
    let node = stats_addr(&m[1]);
    let out = ok(&["health", &node]);
    assert_eq!(
        out.lines().filter(|l| l.contains("  ok  ")).count(),
        3,
        "{out}"
    );
    let v: serde_json::Value = serde_json::from_str(&ok(&["health", &node, "--json"])).unwrap();
    assert_eq!(v["ok"], true);

    assert!(ok(&[
        "wait",
        &node,
        "--state",
        "normal",
        "--healthy",
        "--timeout",
        "5s"
    ])
    .contains("NORMAL and healthy after"));
    ok(&["state", "set", &node, "standby"]);
    let out = run(&["wait", &node, "--timeout", "600ms", "--interval", "100ms"]);
    assert_eq!(out.status.code(), Some(1), "{}", s(&out.stderr));
    assert!(
        s(&out.stdout).contains("last saw: state STANDBY"),
        "{}",
        s(&out.stdout)
    );
    assert!(
        ok(&["wait", &node, "--state", "standby", "--timeout", "2s"]).contains("STANDBY after")
    );

    // The state changes while dynoctl waits.
    let waiter = Command::new(dynoctl())
        .args([
            "wait",
            &node,
            "--state",
            "normal",
            "--timeout",
            "20s",
            "--interval",
            "100ms",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        http_get(m[1].node.as_ref().unwrap().stats_port, "/state/normal").1,
        "OK\r\n"
    );
    let out = waiter.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        s(&out.stdout),
        s(&out.stderr)
    );

    // No datastore: health fails on the datastore check, wait --healthy times out.
    m[1].redis.proc.kill();
    let out = wait_for("health to fail", Duration::from_secs(10), || {
        let out = run(&["health", &node]);
        (out.status.code() == Some(1)).then_some(out)
    });
    let text = s(&out.stdout);
    let datastore = text.lines().find(|l| l.starts_with("datastore")).unwrap();
    assert!(datastore.contains("FAIL"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("process") && l.contains(" ok ")),
        "{text}"
    );
    let out = run(&["wait", &node, "--healthy", "--timeout", "500ms"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(s(&out.stdout).contains("datastore"), "{}", s(&out.stdout));

    // An unreachable node: health exits 2 naming it; wait tolerates it until the timeout.
    let dead = format!("127.0.0.1:{}", free_port());
    let out = run(&["health", &dead]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        s(&out.stderr).contains(&format!("cannot reach http://{dead}/ping")),
        "{}",
        s(&out.stderr)
    );
    let out = run(&["wait", &dead, "--timeout", "300ms"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(s(&out.stdout).contains("unreachable"), "{}", s(&out.stdout));
    assert_eq!(
        run(&["wait", &node, "--timeout", "10x"]).status.code(),
        Some(2)
    );
}

#[test]
fn dynoctl_status_with_a_node_killed() {
    let mut m = crate::cluster::three_racks("");
    let addrs: Vec<String> = m.iter().map(stats_addr).collect();
    let list = addrs.join(",");
    let json = ok(&["status", "--nodes", &list, "--interval", "200ms", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["ok"], true, "{json}");
    let nodes = v["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 3, "{json}");
    for (i, n) in nodes.iter().enumerate() {
        assert_eq!(n["rack"], format!("rack{}", i + 1), "{json}");
        assert_eq!(n["address"], addrs[i].as_str(), "{json}");
        assert_eq!(n["state"], "NORMAL", "{json}");
        assert_eq!(n["seen"], "up", "{json}");
        assert_eq!(n["token"], 1383429731u64, "{json}");
        assert_eq!(n["datastore_ok"], true, "{json}");
    }
    // From one node: on one host the others' stats ports must be mapped from peer ports.
    let out = run(&["status", "--node", &addrs[0], "--interval", "0s"]);
    assert_eq!(out.status.code(), Some(1), "{}", s(&out.stdout));
    assert_eq!(
        s(&out.stdout).matches("stats address unknown").count(),
        2,
        "{}",
        s(&out.stdout)
    );
    let map: Vec<String> = nodes
        .iter()
        .zip(&addrs)
        .map(|(n, a)| {
            let peer_port = n["peer"].as_str().unwrap().rsplit(':').next().unwrap();
            format!("{peer_port}={}", a.rsplit(':').next().unwrap())
        })
        .collect();
    let json = ok(&[
        "status",
        "--node",
        &addrs[0],
        "--stats-port-map",
        &map.join(","),
        "--interval",
        "0s",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["nodes"][2]["address"], addrs[2].as_str(), "{json}");
    // The same found from config files.
    let confs: Vec<String> = m
        .iter()
        .map(|x| x.node.as_ref().unwrap().conf_path().display().to_string())
        .collect();
    let conf_args: Vec<&str> = confs.iter().map(String::as_str).collect();
    let table = ok(&[&["status", "--interval", "0s", "--config"][..], &conf_args].concat());
    assert_eq!(
        table.lines().filter(|l| l.starts_with("dc1 ")).count(),
        3,
        "{table}"
    );

    drop(m[2].node.take());
    let out = run(&["status", "--nodes", &list, "--interval", "200ms"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        s(&out.stdout),
        s(&out.stderr)
    );
    let table = s(&out.stdout);
    let row = table.lines().find(|l| l.contains(&addrs[2])).unwrap();
    assert!(row.contains("UNREACHABLE"), "{table}");
    assert!(row.contains("rack3"), "{table}");
    assert!(row.contains("refused"), "{table}");
    assert_eq!(
        table.lines().filter(|l| l.contains("NORMAL")).count(),
        2,
        "{table}"
    );
    assert!(table.contains("1 unreachable"), "{table}");
    // The other nodes come to see it down.
    wait_for("rack3 seen down", Duration::from_secs(20), || {
        let out = run(&["status", "--nodes", &list, "--interval", "0s", "--json"]);
        let v: serde_json::Value = serde_json::from_str(&s(&out.stdout)).ok()?;
        (v["nodes"][2]["seen"] == "down" && v["nodes"][2]["reachable"] == false).then_some(())
    });
}

/// A cluster started by `dynoctl cluster up`, stopped by `cluster down` on drop (and every
/// process it ever recorded killed by PID if that did not stop it), even when a test fails.
struct LocalCluster {
    dir: TempDir,
    /// Every (pid, program) ever read from cluster.json.
    seen: std::cell::RefCell<Vec<(i32, &'static str)>>,
}

/// Is `pid` a live (not zombie) process whose command line names `name`?
fn running(pid: i32, name: &str) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat.rsplit(')').next().unwrap_or("").trim().chars().next();
    if matches!(state, Some('Z' | 'X') | None) {
        return false;
    }
    let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    s(&cmd).contains(name)
}

impl LocalCluster {
    /// `cluster up` with `args` in a new directory on a free range of ports (a few ranges are
    /// tried if another test takes a port first); the stdout of `cluster up`.
    fn up(racks: u32, args: &[&str]) -> (LocalCluster, String) {
        let dir = TempDir::new("dynoctl-cluster");
        let nodes = u16::try_from(racks).unwrap();
        for _ in 0..5 {
            let base = free_base(nodes);
            let out = run(&[
                &[
                    "cluster",
                    "up",
                    "--racks",
                    &racks.to_string(),
                    "--dir",
                    dir.path().to_str().unwrap(),
                    "--base-port",
                    &base.to_string(),
                ][..],
                args,
            ]
            .concat());
            if out.status.code() == Some(2) && s(&out.stderr).contains("is in use") {
                continue;
            }
            let c = LocalCluster {
                dir,
                seen: Default::default(),
            };
            c.json(); // records the PIDs for the guard
            assert_eq!(
                out.status.code(),
                Some(0),
                "cluster up: {}{}",
                s(&out.stdout),
                s(&out.stderr)
            );
            return (c, s(&out.stdout));
        }
        panic!("no free range of ports for {racks} nodes after 5 tries");
    }

    fn dir(&self) -> &str {
        self.dir.path().to_str().unwrap()
    }

    /// cluster.json (Null once removed); remembers its PIDs.
    fn json(&self) -> serde_json::Value {
        let text =
            std::fs::read_to_string(self.dir.path().join("cluster.json")).unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let mut seen = self.seen.borrow_mut();
        for n in v["nodes"].as_array().into_iter().flatten() {
            for (k, name) in [
                ("dynomited_pid", "dynomited"),
                ("redis_pid", "redis-server"),
            ] {
                if let Some(pid) = n[k].as_i64().filter(|&p| p > 0) {
                    if !seen.contains(&(pid as i32, name)) {
                        seen.push((pid as i32, name));
                    }
                }
            }
        }
        v
    }

    /// Node i's (0-based) address of `kind` (client, stats, redis).
    fn addr(&self, i: usize, kind: &str) -> String {
        self.json()["nodes"][i][kind].as_str().unwrap().to_string()
    }

    fn port(&self, i: usize, kind: &str) -> u16 {
        self.addr(i, kind)
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        self.json();
        if self.dir.path().join("cluster.json").exists() {
            let _ = run(&["cluster", "down", "--dir", self.dir()]);
        }
        for &(pid, name) in self.seen.borrow().iter() {
            if running(pid, name) {
                // SAFETY: a signal to a process this test started (checked by its cmdline).
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
    }
}

/// A base port whose node blocks (base+1 .. base+10*nodes) are all free now.
fn free_base(nodes: u16) -> u16 {
    for _ in 0..200 {
        let base = free_port() / 10 * 10;
        if base < 10_000 || u32::from(base) + 10 * u32::from(nodes) + 10 > 32_700 {
            continue;
        }
        let all_free =
            (1..=10 * nodes).all(|k| std::net::TcpListener::bind(("127.0.0.1", base + k)).is_ok());
        if all_free {
            return base;
        }
    }
    panic!("no free range of {nodes} x 10 ports");
}

#[test]
fn dynoctl_cluster_up_replicates_and_down_stops_it() {
    let (c, table) = LocalCluster::up(3, &[]);
    let v = c.json();
    let nodes = v["nodes"].as_array().unwrap().clone();
    assert_eq!(nodes.len(), 3, "{v}");
    let base = v["base_port"].as_u64().unwrap();
    for (i, n) in nodes.iter().enumerate() {
        assert_eq!(n["rack"], format!("rack{}", i + 1), "{v}");
        assert_eq!(n["token"], 1383429731u64, "{v}");
        let block = base + 10 * i as u64;
        assert_eq!(n["peer"], format!("127.0.0.1:{}", block + 1), "{v}");
        assert_eq!(n["client"], format!("127.0.0.1:{}", block + 2), "{v}");
        assert_eq!(n["stats"], format!("127.0.0.1:{}", block + 3), "{v}");
        assert_eq!(n["redis"], format!("127.0.0.1:{}", block + 4), "{v}");
        assert!(table.contains(n["client"].as_str().unwrap()), "{table}");
        assert!(table.contains(n["redis"].as_str().unwrap()), "{table}");
        // Detached: each process leads its own process group.
        for k in ["dynomited_pid", "redis_pid"] {
            let pid = n[k].as_i64().unwrap();
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
            let pgrp: i64 = stat
                .rsplit(')')
                .next()
                .unwrap()
                .split_whitespace()
                .nth(2)
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(pgrp, pid, "{k} of node {i} in its own process group");
        }
        assert!(std::path::Path::new(n["config"].as_str().unwrap()).is_file());
    }
    assert!(
        table.contains(&format!("redis-cli -p {}", base + 2)),
        "{table}"
    );
    assert!(
        table.contains("dynoctl status --nodes 127.0.0.1:"),
        "{table}"
    );
    assert!(table.contains("dynotop --nodes 127.0.0.1:"), "{table}");

    // A write through node 1 reaches the other racks' own redis-servers.
    let mut client = Resp::connect(c.port(0, "client"));
    assert_eq!(client.cmd(&["SET", "cluster-up", "yes"]), b"+OK\r\n");
    for i in [1, 2] {
        let port = c.port(i, "redis");
        wait_for(
            &format!("the key in node {}'s redis", i + 1),
            Duration::from_secs(10),
            || (Resp::connect(port).cmd(&["GET", "cluster-up"]) == b"$3\r\nyes\r\n").then_some(()),
        );
    }
    drop(client);

    // A second cluster in the same directory is refused while this one runs.
    let out = run(&["cluster", "up", "--racks", "1", "--dir", c.dir()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(s(&out.stderr).contains("is running"), "{}", s(&out.stderr));

    let st = run(&[
        "cluster",
        "status",
        "--dir",
        c.dir(),
        "--interval",
        "0s",
        "--json",
    ]);
    assert_eq!(st.status.code(), Some(0), "{}", s(&st.stdout));

    let pids: Vec<(i32, &str)> = c.seen.borrow().clone();
    assert_eq!(pids.len(), 6);
    let down = ok(&["cluster", "down", "--dir", c.dir()]);
    assert_eq!(
        down.lines().filter(|l| l.ends_with("stopped")).count(),
        6,
        "{down}"
    );
    for (pid, name) in pids {
        assert!(
            !running(pid, name),
            "{name} {pid} still running after cluster down"
        );
    }
    assert!(!c.dir.path().join("cluster.json").exists());
    let out = run(&["cluster", "down", "--dir", c.dir()]);
    assert_eq!(out.status.code(), Some(2), "no cluster.json any more");
}

/// Load through one connection to `port` at DC_ONE until `stop` (or 200,000 operations or
/// 120 s): SET k v then GET k, each checked. Returns (operations, errors, first error).
fn load(
    port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> (u64, u64, Option<String>) {
    use std::io::Write;
    use std::sync::atomic::Ordering;
    let mut c = Resp::connect(port);
    assert_eq!(
        c.cmd(&["dyno_config:conn_consistency", "DC_ONE"]),
        b"+OK\r\n"
    );
    let start = std::time::Instant::now();
    let (mut ops, mut errors, mut first) = (0u64, 0u64, None);
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed)
        && ops < 200_000
        && start.elapsed() < Duration::from_secs(120)
    {
        i += 1;
        let key = format!("rolling-{}", i % 5000);
        let val = format!("v{i}");
        for (cmd, want) in [
            (encode_str(&["SET", &key, &val]), b"+OK\r\n".to_vec()),
            (
                encode_str(&["GET", &key]),
                format!("${}\r\n{val}\r\n", val.len()).into_bytes(),
            ),
        ] {
            ops += 1;
            let reply = c
                .stream
                .write_all(&cmd)
                .ok()
                .and_then(|()| c.try_read_reply());
            if reply.as_deref() != Some(&want[..]) {
                errors += 1;
                first
                    .get_or_insert_with(|| format!("op {ops}: {:?}", reply.as_ref().map(|r| s(r))));
                if reply.is_none() {
                    // The connection is gone: reconnect (counted as an error already).
                    match Resp::try_connect(port) {
                        Some(n) => c = n,
                        None => return (ops, errors, first),
                    }
                }
            }
        }
    }
    (ops, errors, first)
}

#[test]
fn dynoctl_rolling_restart_script_under_load() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let (c, _) = LocalCluster::up(3, &[]);
    let script = root().join("dynoctl/examples/rolling-restart.sh");
    let bin = dynoctl();
    let restart = format!(
        "'{}' cluster restart-node --dir '{}' {{node}}",
        bin.display(),
        c.dir()
    );
    let targets = [c.addr(1, "stats"), c.addr(2, "stats")];
    let old: Vec<i64> = (0..3)
        .map(|i| c.json()["nodes"][i]["dynomited_pid"].as_i64().unwrap())
        .collect();

    let stop = Arc::new(AtomicBool::new(false));
    let port = c.port(0, "client");
    let loader = {
        let stop = stop.clone();
        std::thread::spawn(move || load(port, stop))
    };
    std::thread::sleep(Duration::from_millis(300));
    let out = Command::new("bash")
        .arg(&script)
        .args(["--dynoctl", bin.to_str().unwrap(), "--drain-wait", "0.5"])
        .args(["--timeout", "60s", "--restart-cmd", &restart])
        .args(&targets)
        .current_dir(root())
        .output()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let (ops, errors, first) = loader.join().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "rolling-restart.sh: {}{}",
        s(&out.stdout),
        s(&out.stderr)
    );
    let log = s(&out.stderr);
    assert!(log.contains(&format!("[2/2] {}", targets[1])), "{log}");
    assert!(log.contains("done: restarted"), "{log}");
    assert_eq!(
        errors, 0,
        "client errors through node 1: {first:?} ({ops} ops)"
    );
    assert!(ops > 100, "the load ran during the restarts: {ops} ops");

    // Nodes 2 and 3 run new processes; node 1 the same; every node NORMAL and healthy.
    let v = c.json();
    assert_eq!(v["nodes"][0]["dynomited_pid"].as_i64().unwrap(), old[0]);
    for i in [1, 2] {
        let pid = v["nodes"][i]["dynomited_pid"].as_i64().unwrap();
        assert_ne!(pid, old[i], "node {} restarted", i + 1);
        assert!(running(pid as i32, "dynomited"));
        assert!(!running(old[i] as i32, "dynomited"));
    }
    for i in 0..3 {
        ok(&["health", &c.addr(i, "stats")]);
    }
    let st = run(&[
        "cluster",
        "status",
        "--dir",
        c.dir(),
        "--interval",
        "0s",
        "--json",
    ]);
    let sv: serde_json::Value = serde_json::from_str(&s(&st.stdout)).unwrap();
    assert_eq!(sv["ok"], true, "{sv}");

    // A failing restart command stops the script at that node, saying how to resume.
    let out = Command::new("bash")
        .arg(&script)
        .args(["--dynoctl", bin.to_str().unwrap(), "--drain-wait", "0"])
        .args(["--restart-cmd", "exit 3"])
        .args(&targets)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = s(&out.stderr);
    assert!(err.contains(&format!("FAILED at {}", targets[0])), "{err}");
    assert!(err.contains("resume from"), "{err}");
    assert_eq!(ok(&["state", "get", &targets[0]]), "STANDBY\n");
    ok(&["state", "set", &targets[0], "normal"]);
    let out = Command::new("bash").arg(&script).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "usage error");
}

// ---- warmup ----

/// A field of a redis-server's `INFO`.
fn redis_info(port: u16, field: &str) -> Option<String> {
    let text = s(&Resp::connect(port).cmd(&["INFO"]));
    let key = format!("{field}:");
    text.lines()
        .find_map(|l| l.strip_prefix(&key).map(|v| v.trim().to_string()))
}

/// How many of `keys` a redis-server holds.
fn count_present(port: u16, keys: &[String]) -> usize {
    let mut c = Resp::connect(port);
    keys.chunks(200)
        .map(|chunk| {
            let mut args = vec!["EXISTS"];
            args.extend(chunk.iter().map(String::as_str));
            let r = s(&c.cmd(&args));
            r.trim_start_matches(':').trim().parse::<usize>().unwrap()
        })
        .sum()
}

#[test]
fn warmup_refills_an_emptied_datastore_under_load() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Instant;

    let token = crate::cluster::ONE_TOKEN;
    let m = crate::cluster::cluster_tokens(
        &[("dc1", "rack1", token), ("dc1", "rack2", token)],
        "",
        &[String::new(), String::new()],
        0,
    );
    let node1 = stats_addr(&m[0]);
    let (r1, r2) = (m[0].redis.port, m[1].redis.port);
    let ds1 = format!("127.0.0.1:{r1}");
    let ds2 = format!("127.0.0.1:{r2}");

    // 2,000 keys through rack2's node, replicated to rack1; then rack1's datastore is emptied.
    let keys: Vec<String> = (0..2000).map(|i| format!("warm:{i}")).collect();
    let mut c = m[1].node.as_ref().unwrap().client();
    for chunk in keys.chunks(100) {
        let cmds: Vec<Vec<&str>> = chunk.iter().map(|k| vec!["SET", k, k]).collect();
        for r in c.pipeline(&cmds) {
            assert_eq!(r, b"+OK\r\n");
        }
    }
    wait_for(
        "rack1 to hold the 2,000 keys",
        Duration::from_secs(20),
        || (count_present(r1, &keys) == 2000).then_some(()),
    );
    assert_eq!(Resp::connect(r1).cmd(&["FLUSHALL"]), b"+OK\r\n");
    assert_eq!(count_present(r1, &keys), 0);

    // The dry run prints the plan and changes nothing.
    let base = [
        "warmup",
        &node1,
        "--datastore",
        &ds1,
        "--peer-datastore",
        &ds2,
    ];
    let plan = ok(&[&base[..], &["--dry-run"]].concat());
    assert!(plan.contains("plan: warm up"), "{plan}");
    assert!(plan.contains(&format!("from {ds2}")), "{plan}");
    assert!(plan.contains(&format!("SLAVEOF 127.0.0.1 {r2}")), "{plan}");
    assert!(plan.contains("1000000 bytes"), "{plan}");
    assert_eq!(redis_info(r1, "role").as_deref(), Some("master"));
    assert_eq!(
        http_get(m[0].node.as_ref().unwrap().stats_port, "/state/get_state").1,
        "State: NORMAL\n"
    );
    assert_eq!(count_present(r1, &keys), 0);

    // A bounded write load through rack2's node while rack1 is warmed up.
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let stop = stop.clone();
        let port = m[1].node.as_ref().unwrap().port;
        std::thread::spawn(move || {
            let mut c = Resp::connect(port);
            let t0 = Instant::now();
            let mut acked = Vec::new();
            for i in 0..2000 {
                if stop.load(Ordering::Relaxed) || t0.elapsed() > Duration::from_secs(20) {
                    break;
                }
                let k = format!("load:{i}");
                if c.cmd(&["SET", &k, &i.to_string()]) == b"+OK\r\n" {
                    acked.push(k);
                }
                std::thread::sleep(Duration::from_millis(4));
            }
            acked
        })
    };

    // A warm-up that gives up (no time to sync) names the state it leaves and what to run.
    let out = run(&[&base[..], &["--timeout", "0s", "--json"]].concat());
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        s(&out.stdout),
        s(&out.stderr)
    );
    let err = s(&out.stderr);
    assert!(err.contains("left in: node"), "{err}");
    assert!(err.contains("STANDBY"), "{err}");
    assert!(
        err.contains(&format!("a replica of 127.0.0.1:{r2}")),
        "{err}"
    );
    assert!(
        err.contains(&format!("redis-cli -h 127.0.0.1 -p {r1} SLAVEOF NO ONE")),
        "{err}"
    );
    assert!(
        err.contains(&format!("dynoctl state set {node1} normal")),
        "{err}"
    );
    let v: serde_json::Value = serde_json::from_str(&s(&out.stdout)).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["steps"][3]["step"], "sync");
    assert_eq!(v["steps"][3]["outcome"], "failed");
    assert_eq!(v["steps"][4]["outcome"], "skipped");
    assert_eq!(redis_info(r1, "role").as_deref(), Some("slave"));

    // Continued: the whole warm-up.
    let out = run(&[&base[..], &["--json", "--resume-wait", "1s"]].concat());
    stop.store(true, Ordering::Relaxed);
    let acked = load.join().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        s(&out.stdout),
        s(&out.stderr)
    );
    let err = s(&out.stderr);
    assert!(err.contains("[4/9] sync: ok"), "{err}");
    let v: serde_json::Value = serde_json::from_str(&s(&out.stdout)).unwrap();
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["source"], ds2.as_str());
    let steps: Vec<(&str, &str)> = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["step"].as_str().unwrap(), s["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [
            ("check", "ok"),
            ("standby", "ok"),
            ("replicaof", "ok"),
            ("sync", "ok"),
            ("writes_only", "ok"),
            ("catch_up", "ok"),
            ("promote", "ok"),
            ("resuming", "ok"),
            ("normal", "ok")
        ]
    );
    assert!(!acked.is_empty(), "the load wrote during the warm-up");

    // rack1 is a master again, NORMAL, and holds every key and every acknowledged write.
    assert_eq!(redis_info(r1, "role").as_deref(), Some("master"));
    assert_eq!(
        http_get(m[0].node.as_ref().unwrap().stats_port, "/state/get_state").1,
        "State: NORMAL\n"
    );
    assert_eq!(count_present(r1, &keys), 2000);
    wait_for(
        "every acknowledged write in rack1",
        Duration::from_secs(10),
        || (count_present(r1, &acked) == acked.len()).then_some(()),
    );
    let mut c = Resp::connect(r1);
    let last = acked.last().unwrap();
    let n = last.trim_start_matches("load:");
    assert_eq!(
        s(&c.cmd(&["GET", last])),
        format!("${}\r\n{n}\r\n", n.len())
    );
}

#[test]
fn warmup_refuses_memcached() {
    let mc = Memcached::start();
    let mc_addr = format!("127.0.0.1:{}", mc.port);
    let n = Node::start(&mc_addr, 1, "");
    let node = format!("127.0.0.1:{}", n.stats_port);
    let conf = n.conf_path().display().to_string();
    for own in [
        ["--datastore", mc_addr.as_str()],
        ["--config", conf.as_str()],
    ] {
        let out = run(&[
            &["warmup", &node][..],
            &own[..],
            &["--peer-datastore", "127.0.0.1:1"],
        ]
        .concat());
        assert_eq!(out.status.code(), Some(2), "{own:?}: {}", s(&out.stderr));
        assert!(
            s(&out.stderr)
                .lines()
                .any(|l| l
                    == "dynoctl: warm-up is not possible for memcached: it has no replication"),
            "{}",
            s(&out.stderr)
        );
    }
    // Usage: the peers must be given.
    let out = run(&["warmup", &node, "--datastore", &mc_addr]);
    assert_eq!(out.status.code(), Some(2));
}

// ---- seeds from DNS ----

/// A DNS server on loopback answering its first queries with `txt` as TXT records of
/// the asked name (each record one character-string).
fn dns_txt_server(records: &[&str]) -> u16 {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    let port = sock.local_addr().unwrap().port();
    let records: Vec<Vec<u8>> = records.iter().map(|r| r.as_bytes().to_vec()).collect();
    std::thread::spawn(move || {
        // Answers at most a few queries (a client may retry), then the socket closes.
        for _ in 0..4 {
            let mut q = [0u8; 512];
            let Ok((n, from)) = sock.recv_from(&mut q) else {
                return;
            };
            // The question ends after the name's zero byte, QTYPE and QCLASS.
            let mut end = 12;
            while end < n && q[end] != 0 {
                end += 1 + q[end] as usize;
            }
            end += 5;
            let mut r = Vec::new();
            r.extend_from_slice(&q[..2]); // id
            r.extend_from_slice(&[0x81, 0x80, 0, 1]); // response, RD RA, one question
            r.extend_from_slice(&(records.len() as u16).to_be_bytes());
            r.extend_from_slice(&[0, 0, 0, 0]);
            r.extend_from_slice(&q[12..end]);
            for rec in &records {
                r.extend_from_slice(&[0xc0, 0x0c, 0, 16, 0, 1, 0, 0, 0, 60]);
                r.extend_from_slice(&((rec.len() + 1) as u16).to_be_bytes());
                r.push(rec.len() as u8);
                r.extend_from_slice(rec);
            }
            let _ = sock.send_to(&r, from);
        }
    });
    port
}

#[test]
fn dynoctl_seeds_from_dns_txt_records() {
    let port =
        dns_txt_server(&["10.0.0.1:8101:rack1:dc1:1383429731|10.0.0.2:8101:rack2:dc1:1383429731"]);
    let server = format!("127.0.0.1:{port}");
    let out = ok(&[
        "seeds",
        "--dns",
        "_dynomite.test",
        "--dns-server",
        &server,
        "--format",
        "florida",
    ]);
    assert_eq!(
        out,
        "10.0.0.1:8101:rack1:dc1:1383429731|10.0.0.2:8101:rack2:dc1:1383429731\n"
    );
}
