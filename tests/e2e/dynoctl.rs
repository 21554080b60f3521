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
