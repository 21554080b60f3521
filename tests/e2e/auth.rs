//! Client logins: `requirepass` as a list (a password rotated without downtime), `users`
//! logins (`AUTH name password`, Redis 6 ACL style), through redis-cli, redis-py and raw RESP.

use std::process::Command;
use std::time::Duration;

use crate::util::*;

const WRONGPASS: &str = "-WRONGPASS invalid username-password pair or user is disabled.\r\n";

/// `redis-cli -p port <args>`: its stdout (redis-cli prints errors there too), trimmed.
fn redis_cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "--no-auth-warning",
        ])
        .args(args)
        .output()
        .expect("redis-cli must be installed");
    s(&out.stdout).trim().to_string()
}

#[test]
fn requirepass_list_and_users_log_in() {
    let r = Redis::start();
    let n = Node::start(
        &r.addr(),
        0,
        "  requirepass:\n  - old-pw\n  - new-pw\n  users:\n  - alice:wonder:land\n  - bob:builder\n",
    );
    n.wait_backend_authed("new-pw");
    // Either password of the default user, with and without the user name.
    for pw in ["old-pw", "new-pw"] {
        assert_eq!(redis_cli(n.port, &["-a", pw, "SET", "k", pw]), "OK");
        assert_eq!(
            redis_cli(n.port, &["--user", "default", "--pass", pw, "GET", "k"]),
            pw
        );
    }
    // A user with a colon in the password, and one without.
    assert_eq!(
        redis_cli(
            n.port,
            &["--user", "alice", "--pass", "wonder:land", "GET", "k"]
        ),
        "new-pw"
    );
    assert_eq!(
        redis_cli(n.port, &["--user", "bob", "--pass", "builder", "PING"]),
        "PONG"
    );
    // Wrong pairs, exactly as Redis words them; the connection is still not logged in.
    let mut c = n.client();
    for bad in [
        vec!["AUTH", "builder"],
        vec!["AUTH", "bob", "wonder:land"],
        vec!["AUTH", "alice", "wonder"],
        vec!["AUTH", "carol", "old-pw"],
        vec!["AUTH", "default", "builder"],
    ] {
        assert_eq!(s(&c.cmd(&bad)), WRONGPASS, "{bad:?}");
    }
    assert_eq!(
        s(&c.cmd(&["GET", "k"])),
        "-NOAUTH Authentication required.\r\n"
    );
    let got = c.cmd(&["HELLO", "3", "AUTH", "bob", "nope"]);
    assert_eq!(s(&got), WRONGPASS);
    let got = c.cmd(&["HELLO", "3", "AUTH", "bob", "builder"]);
    assert!(got.starts_with(b"%7\r\n"), "{}", s(&got));
    assert_eq!(c.cmd(&["GET", "k"]), b"$6\r\nnew-pw\r\n");

    // redis-py, with a password and with a user name.
    let out = redis_py(
        "import redis, sys\n\
         port = int(sys.argv[1])\n\
         a = redis.Redis(port=port, password='old-pw')\n\
         b = redis.Redis(port=port, username='alice', password='wonder:land')\n\
         print(a.get('k').decode(), b.set('py', '1'), b.get('py').decode())\n\
         try:\n\
         \x20   redis.Redis(port=port, username='alice', password='x').ping()\n\
         except redis.AuthenticationError as e:\n\
         \x20   print('refused:', e)\n",
        &[&n.port.to_string()],
    );
    assert_eq!(
        out.trim(),
        "new-pw True 1\nrefused: invalid username-password pair or user is disabled."
    );
}

#[test]
fn a_password_rotates_without_downtime() {
    let r = Redis::start();
    let n = Node::start(&r.addr(), 0, "  requirepass: old-pw\n");
    n.wait_backend_authed("old-pw");
    // A client logged in with the old password stays connected through the whole rotation.
    let mut kept = n.client();
    assert_eq!(kept.cmd(&["AUTH", "old-pw"]), b"+OK\r\n");
    let conf = std::fs::read_to_string(n.conf_path()).unwrap();
    let both = conf.replace(
        "  requirepass: old-pw\n",
        "  requirepass:\n  - old-pw\n  - new-pw\n",
    );
    std::fs::write(n.conf_path(), &both).unwrap();
    n.proc.signal(libc::SIGHUP);
    wait_for("new-pw accepted", Duration::from_secs(10), || {
        (redis_cli(n.port, &["-a", "new-pw", "PING"]) == "PONG").then_some(())
    });
    assert_eq!(redis_cli(n.port, &["-a", "old-pw", "PING"]), "PONG");
    let only_new = conf.replace("  requirepass: old-pw\n", "  requirepass: new-pw\n");
    std::fs::write(n.conf_path(), only_new).unwrap();
    n.proc.signal(libc::SIGHUP);
    wait_for("old-pw refused", Duration::from_secs(10), || {
        let mut c = n.client();
        (s(&c.cmd(&["AUTH", "old-pw"])) == WRONGPASS).then_some(())
    });
    assert_eq!(redis_cli(n.port, &["-a", "new-pw", "PING"]), "PONG");
    assert_eq!(kept.cmd(&["SET", "still", "here"]), b"+OK\r\n");
    assert!(n.log_text().contains("applied: requirepass"));
    assert!(!n.log_text().contains("new-pw"), "a password was logged");
}

#[test]
fn users_without_requirepass_turn_the_default_user_off() {
    let r = Redis::start();
    let n = Node::start(&r.addr(), 0, "  users:\n  - ops:0ps\n");
    let mut c = n.client();
    assert_eq!(s(&c.cmd(&["PING"])), "-NOAUTH Authentication required.\r\n");
    assert_eq!(s(&c.cmd(&["AUTH", "0ps"])), WRONGPASS);
    assert_eq!(c.cmd(&["AUTH", "ops", "0ps"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
}
