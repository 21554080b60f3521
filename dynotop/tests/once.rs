//! `dynotop --once` against a node nobody listens on: one frame, the node DOWN with the reason.

use std::net::TcpListener;
use std::process::Command;

#[test]
fn once_shows_an_unreachable_node_down_with_the_reason() {
    // A loopback port that was free a moment ago and that nobody listens on now.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let addr = format!("127.0.0.1:{port}");
    let out = Command::new(env!("CARGO_BIN_EXE_dynotop"))
        .args([
            "--nodes",
            &addr,
            "--once",
            "--interval",
            "0.2",
            "--width",
            "100",
            "--height",
            "12",
        ])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(text.lines().count(), 12, "{text}");
    assert!(text.contains("down 1"), "{text}");
    let row = text
        .lines()
        .find(|l| {
            l.get(2..)
                .is_some_and(|r| r.starts_with(&format!("{addr} ")))
        })
        .unwrap_or_else(|| panic!("no table row: {text}"));
    assert!(row.contains("DOWN"), "{text}");
    let why = text
        .lines()
        .find(|l| l.starts_with(&format!("{addr} DOWN")))
        .unwrap_or_else(|| panic!("no reason line: {text}"));
    assert!(why.contains("never seen"), "{text}");
    assert!(why.contains("Connection refused"), "{text}");
}

#[test]
fn usage_errors_exit_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_dynotop"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_dynotop"))
        .args(["--nodes", "127.0.0.1:1", "--interval", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn once_with_a_config_file_names_the_node_and_its_rack() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let dir = std::env::temp_dir().join(format!("dynotop-once-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("node.yml");
    std::fs::write(
        &conf,
        format!(
            "dyn_o_mite:\n  listen: 127.0.0.1:1\n  dyn_listen: 127.0.0.1:8101\n  stats_listen: 127.0.0.1:{port}\n  servers:\n  - 127.0.0.1:2:1\n  tokens: '12345'\n  rack: rackA\n  datacenter: dcX\n"
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_dynotop"))
        .arg("--config")
        .arg(&conf)
        .args(["--once", "--interval", "0.1"])
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let row = text
        .lines()
        .find(|l| l.contains("127.0.0.1:8101") && l.contains("dcX/rackA"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(row.contains("DOWN") && row.contains("12345"), "{text}");
}
