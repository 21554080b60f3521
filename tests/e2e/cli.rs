//! The daemon's command line: -V, -D, -t with valid and broken configs, -p, SIGTERM.

use std::process::Command;
use std::time::Duration;

use crate::util::*;

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn version_and_describe_stats() {
    let out = Command::new(DYNOMITED).arg("-V").output().unwrap();
    assert!(out.status.success());
    assert!(s(&out.stderr).starts_with("This is dynomited-"));
    let out = Command::new(DYNOMITED).arg("-D").output().unwrap();
    assert!(out.status.success());
    let text = s(&out.stdout);
    assert!(
        text.contains("pool stats:") && text.contains("server stats:"),
        "{text}"
    );
    assert!(
        text.contains("  client_eof          \"# eof on client connections\""),
        "{text}"
    );
    let out = Command::new(DYNOMITED).arg("--bogus").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(s(&out.stderr).contains("Usage: dynomited"));
}

#[test]
fn test_conf_on_every_example_and_fixture() {
    for entry in std::fs::read_dir(root().join("conf")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "yml") {
            let out = Command::new(DYNOMITED)
                .arg("-t")
                .arg("-c")
                .arg(&p)
                .output()
                .unwrap();
            assert!(out.status.success(), "{}: {}", p.display(), s(&out.stderr));
            assert!(s(&out.stderr).contains("syntax is valid"));
        }
    }
    let dir = root().join("tests/fixtures/conf-invalid");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_none_or(|e| e != "yml") {
            continue;
        }
        n += 1;
        let rel = format!(
            "tests/fixtures/conf-invalid/{}",
            p.file_name().unwrap().to_string_lossy()
        );
        let out = Command::new(DYNOMITED)
            .current_dir(root())
            .args(["-t", "-c", &rel])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{rel}");
        let expected = std::fs::read_to_string(p.with_extension("expected")).unwrap();
        let err = s(&out.stderr);
        assert!(
            err.contains(expected.trim_end()),
            "{rel}:\nexpected\n{expected}\ngot\n{err}"
        );
        assert!(err.contains(&format!("configuration file '{rel}' syntax is invalid")));
    }
    assert!(n >= 5, "expected invalid-config fixtures, found {n}");
}

#[test]
fn pid_file_and_sigterm_exit_cleanly() {
    let r = Redis::start();
    let port = free_port();
    let stats = free_port();
    let text = single_conf(port, stats, &r.addr(), 0, "");
    let dir = TempDir::new("pid");
    let pid = dir.path().join("d.pid");
    let mut n = Node::start_conf(&text, port, stats, &["-p", pid.to_str().unwrap()]);
    n.wait_backend();
    let written = std::fs::read_to_string(&pid).unwrap();
    assert_eq!(written, n.proc.pid().to_string());
    // A request in flight when SIGTERM arrives is still answered.
    let mut c = n.client();
    c.send(&encode_str(&["SET", "t", "1"]));
    n.proc.signal(libc::SIGTERM);
    assert_eq!(c.read_reply(), b"+OK\r\n");
    assert_eq!(n.proc.wait_exit(Duration::from_secs(10)), Some(0));
    assert!(!pid.exists(), "pid file removed at exit");
}

#[test]
fn log_file_reopens_on_sighup_and_levels_change() {
    let r = Redis::start();
    let n = Node::start(&r.addr(), 0, "");
    n.wait_backend();
    let rotated = n.log.with_extension("log.1");
    std::fs::rename(&n.log, &rotated).unwrap();
    n.proc.signal(libc::SIGHUP);
    wait_for(
        "a new log file after SIGHUP",
        Duration::from_secs(5),
        || n.log.exists().then_some(()),
    );
    n.proc.signal(libc::SIGTTOU);
    wait_for("the level change logged", Duration::from_secs(5), || {
        let t = std::fs::read_to_string(&n.log).unwrap_or_default()
            + &std::fs::read_to_string(&rotated).unwrap_or_default();
        t.contains("log level down").then_some(())
    });
}

#[test]
fn daemonize_writes_pid_and_serves() {
    let r = Redis::start();
    let port = free_port();
    let stats = free_port();
    let dir = TempDir::new("daemon");
    let conf = dir.path().join("d.yml");
    std::fs::write(&conf, single_conf(port, stats, &r.addr(), 0, "")).unwrap();
    let pid_file = dir.path().join("d.pid");
    let status = Command::new(DYNOMITED)
        .args([
            "-d",
            "-c",
            conf.to_str().unwrap(),
            "-p",
            pid_file.to_str().unwrap(),
        ])
        .args(["-o", dir.path().join("d.log").to_str().unwrap()])
        .status()
        .unwrap();
    assert!(
        status.success(),
        "the foreground process exits 0 once detached"
    );
    let pid: i32 = wait_for("the daemon's pid file", Duration::from_secs(10), || {
        std::fs::read_to_string(&pid_file).ok()?.trim().parse().ok()
    });
    // Whatever happens below, the daemon is killed by its PID when this guard drops.
    struct Kill(i32);
    impl Drop for Kill {
        fn drop(&mut self) {
            // SAFETY: signalling a pid this test started; no memory is involved.
            unsafe { libc::kill(self.0, libc::SIGKILL) };
        }
    }
    let _guard = Kill(pid);
    let mut c = wait_for("the daemon to listen", Duration::from_secs(10), || {
        Resp::try_connect(port)
    });
    wait_for("the datastore", Duration::from_secs(10), || {
        (c.cmd(&["SET", "d", "1"]) == b"+OK\r\n").then_some(())
    });
    use std::os::unix::fs::PermissionsExt;
    for f in [&pid_file, &dir.path().join("d.log")] {
        let mode = std::fs::metadata(f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644, "{} has mode {mode:o}", f.display());
    }
    // A second instance on the same ports fails: the foreground process says why and exits
    // 1, and the running daemon's pid file is left alone.
    let out = Command::new(DYNOMITED)
        .args([
            "-d",
            "-c",
            conf.to_str().unwrap(),
            "-p",
            pid_file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        s(&out.stderr).contains("Address already in use"),
        "{}",
        s(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&pid_file).unwrap(), pid.to_string());
    // SAFETY: as above.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    wait_for(
        "the daemon to exit and remove its pid file",
        Duration::from_secs(10),
        || (!pid_file.exists()).then_some(()),
    );
}
