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

/// The dynoctl binary, built once per test run (it sits next to dynomited).
fn dynoctl() -> std::path::PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let status = Command::new("cargo")
            .args(["build", "-q", "-p", "dynoctl"])
            .current_dir(root())
            .status()
            .unwrap();
        assert!(status.success());
    });
    std::path::Path::new(DYNOMITED).with_file_name("dynoctl")
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
