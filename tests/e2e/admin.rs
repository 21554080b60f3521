//! The protected stats port: with `admin_token`, calls that change the node need
//! `Authorization: Bearer <token>` (401 and no change otherwise), read-only ones stay open,
//! unknown paths answer 404, `/health` and `/ready` say whether the node can serve; dynoctl
//! sends the token from its flag, its file flag or the environment.

use std::process::{Command, Output};
use std::time::Duration;

use crate::dynoctl::dynoctl;
use crate::util::*;

const TOKEN: &str = "e2e-4dm1n-t0ken";

fn status(head: &str) -> &str {
    head.lines().next().unwrap_or("").trim_end()
}

fn bearer(token: &str) -> String {
    format!("Authorization: Bearer {token}\r\n")
}

fn info(port: u16) -> serde_json::Value {
    let body = http_get(port, "/info").1;
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

fn guarded_node() -> (Redis, Node) {
    let r = Redis::start();
    let n = Node::start(&r.addr(), 0, &format!("  admin_token: {TOKEN}\n"));
    n.wait_backend();
    (r, n)
}

#[test]
fn admin_token_guards_every_change() {
    let (_r, n) = guarded_node();
    let port = n.stats_port;
    // Without the token, or with a wrong one, whatever the method: 401, nothing changes.
    let calls = [
        "/state/standby",
        "/set_consistency/read/dc_quorum",
        "/set_timeout_factor/7",
        "/setloglevel/11",
        "/peer/down/all",
        "/read_repairs/enable",
        "/historeset",
    ];
    let mut refused = 0;
    for path in calls {
        for (method, headers) in [
            ("GET", String::new()),
            ("POST", String::new()),
            ("PUT", String::new()),
            ("GET", bearer("wrong")),
            ("POST", "Authorization: Basic ZTJlOg==\r\n".to_string()),
        ] {
            let (head, body) = http_req_with(port, method, path, &headers);
            assert_eq!(
                status(&head),
                "HTTP/1.1 401 Unauthorized",
                "{method} {path}"
            );
            assert!(
                head.contains("\r\nWWW-Authenticate: Bearer realm=\"dynomite\""),
                "{head}"
            );
            assert!(
                body.contains(path) && body.contains("Nothing was changed"),
                "{body}"
            );
            refused += 1;
        }
    }
    assert_eq!(http_get(port, "/state/get_state").1, "State: NORMAL\n");
    assert_eq!(
        http_get(port, "/get_consistency").1,
        "Read Consistency: DC_ONE\r\nWrite Consistency: DC_ONE\r\n"
    );
    assert_eq!(
        http_get(port, "/get_timeout_factor").1,
        "Timeout factor: 1\n"
    );
    let mut c = n.client();
    assert_eq!(c.cmd(&["SET", "k", "v"]), b"+OK\r\n", "still serving");

    // The read-only endpoints stay open.
    for path in [
        "/info",
        "/",
        "/metrics",
        "/ping",
        "/health",
        "/ready",
        "/cluster_describe",
        "/state/get_state",
        "/get_consistency",
        "/get_timeout_factor",
        "/help",
    ] {
        let (head, _) = http_get(port, path);
        assert_eq!(status(&head), "HTTP/1.1 200 OK", "{path}");
    }

    // With the token (any case of the scheme), the change.
    let with = bearer(TOKEN);
    assert_eq!(
        http_req_with(port, "GET", "/state/standby", &with).1,
        "OK\r\n"
    );
    assert_eq!(http_get(port, "/state/get_state").1, "State: STANDBY\n");
    let lower = format!("authorization: bearer {TOKEN}\r\n");
    assert_eq!(
        http_req_with(port, "POST", "/set_consistency/read/dc_quorum", &lower).1,
        "OK\r\n"
    );
    assert_eq!(
        http_get(port, "/get_consistency").1,
        "Read Consistency: DC_QUORUM\r\nWrite Consistency: DC_ONE\r\n"
    );
    assert_eq!(
        http_req_with(port, "GET", "/state/normal", &with).1,
        "OK\r\n"
    );

    // Refusals are counted, in /info and /metrics, and logged with the caller's address.
    let v = info(port);
    assert_eq!(v["admin_unauthorized"], refused, "{v}");
    let metrics = http_get(port, "/metrics").1;
    assert!(
        metrics.contains(&format!(
            "dynomite_admin_unauthorized_total{{rack=\"localrack\",dc=\"localdc\"}} {refused}\n"
        )),
        "{metrics}"
    );
    let log = n.log_text();
    assert!(
        log.contains("stats 127.0.0.1:") && log.contains("/state/standby refused: no admin token"),
        "{log}"
    );
    assert!(!log.contains(TOKEN), "the token was logged");
}

#[test]
fn unknown_paths_answer_404() {
    for token in [false, true] {
        let r = Redis::start();
        let extra = if token {
            format!("  admin_token: {TOKEN}\n")
        } else {
            String::new()
        };
        let n = Node::start(&r.addr(), 0, &extra);
        let port = n.stats_port;
        for path in [
            "/helth",
            "/readyz",
            "/infos",
            "/state/NORMAL",
            "/state/stanby",
            "/peer/sideways/x",
            "/setloglevel/x",
            "/describe",
        ] {
            let (head, body) = http_get(port, path);
            assert_eq!(status(&head), "HTTP/1.1 404 Not Found", "{path}");
            assert_eq!(
                body,
                format!("404 Not Found: {path} is not an endpoint of this node; see /help\n")
            );
        }
        assert_eq!(info(port)["admin_not_found"], 8);
        assert_eq!(http_get(port, "/state/get_state").1, "State: NORMAL\n");
        if !token {
            // Without a token, every call works as in Dynomite.
            assert_eq!(http_get(port, "/state/standby").1, "OK\r\n");
            assert_eq!(http_get(port, "/state/get_state").1, "State: STANDBY\n");
            assert_eq!(http_get(port, "/set_consistency/read/bogus").1, "OK\r\n");
        }
    }
}

#[test]
fn ready_follows_the_datastore_and_the_state() {
    let (mut r, n) = redis_node();
    let port = n.stats_port;
    let get = |path: &str| {
        let (head, body) = http_get(port, path);
        (status(&head).to_string(), body)
    };
    assert_eq!(get("/ready"), ("HTTP/1.1 200 OK".into(), "OK\r\n".into()));
    assert_eq!(get("/health"), ("HTTP/1.1 200 OK".into(), "OK\r\n".into()));
    r.proc.kill();
    let body = wait_for("/ready to fail", Duration::from_secs(10), || {
        let (st, body) = get("/ready");
        (st == "HTTP/1.1 503 Service Unavailable").then_some(body)
    });
    assert_eq!(body, "not ready: no datastore connection is up\n");
    assert_eq!(get("/health").0, "HTTP/1.1 200 OK");
    r.restart();
    wait_for("/ready again", Duration::from_secs(20), || {
        (get("/ready").0 == "HTTP/1.1 200 OK").then_some(())
    });
    http_get(port, "/state/writes_only");
    assert_eq!(
        get("/ready"),
        (
            "HTTP/1.1 503 Service Unavailable".into(),
            "not ready: state is WRITES_ONLY, not NORMAL\n".into()
        )
    );
    http_get(port, "/state/normal");
    assert_eq!(get("/ready").0, "HTTP/1.1 200 OK");
}

#[test]
fn ready_counts_reachable_racks_for_quorum() {
    let mut m = crate::cluster::three_racks(
        "  read_consistency: DC_QUORUM\n  write_consistency: DC_QUORUM\n  peer_down_after: 500\n",
    );
    let port = m[0].node.as_ref().unwrap().stats_port;
    let ready = || {
        let (head, body) = http_get(port, "/ready");
        (status(&head) == "HTTP/1.1 200 OK", body)
    };
    wait_for("every peer connected", Duration::from_secs(10), || {
        ready().0.then_some(())
    });
    // One rack of three gone: a quorum of two is left.
    m[2].node.take();
    std::thread::sleep(Duration::from_millis(800));
    assert!(ready().0, "{}", ready().1);
    m[1].node.take();
    let body = wait_for("/ready to fail", Duration::from_secs(10), || {
        let (ok, body) = ready();
        (!ok).then_some(body)
    });
    assert_eq!(
        body,
        "not ready: reads and writes at DC_QUORUM: needs 2 of the 3 racks of dc1 whole, 1 are (rack2 has 0 of 1 nodes reachable, rack3 has 0 of 1 nodes reachable)\n"
    );
}

fn dynoctl_run(args: &[&str], env: Option<&str>) -> Output {
    let mut cmd = Command::new(dynoctl());
    cmd.args(args).env_remove("DYNOMITE_ADMIN_TOKEN");
    if let Some(t) = env {
        cmd.env("DYNOMITE_ADMIN_TOKEN", t);
    }
    cmd.output().unwrap()
}

#[test]
fn dynoctl_sends_the_admin_token() {
    let (_r, n) = guarded_node();
    let node = format!("127.0.0.1:{}", n.stats_port);
    // Without it: exit 2, a message naming the ways to give it, nothing changed.
    let out = dynoctl_run(&["state", "set", &node, "standby"], None);
    assert_eq!(out.status.code(), Some(2));
    let err = s(&out.stderr);
    assert!(err.contains("HTTP 401"), "{err}");
    assert!(
        err.contains("--admin-token") && err.contains("DYNOMITE_ADMIN_TOKEN"),
        "{err}"
    );
    assert_eq!(
        http_get(n.stats_port, "/state/get_state").1,
        "State: NORMAL\n"
    );
    // A wrong one says so.
    let out = dynoctl_run(
        &["--admin-token", "nope", "state", "set", &node, "standby"],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        s(&out.stderr).contains("not the node's"),
        "{}",
        s(&out.stderr)
    );
    // Read-only commands need none.
    let out = dynoctl_run(&["state", "get", &node], None);
    assert_eq!(s(&out.stdout), "NORMAL\n", "{}", s(&out.stderr));

    // The flag, the environment, the file.
    let out = dynoctl_run(
        &["state", "set", &node, "standby", "--admin-token", TOKEN],
        None,
    );
    assert_eq!(s(&out.stdout), "STANDBY\n", "{}", s(&out.stderr));
    let out = dynoctl_run(&["state", "set", &node, "normal"], Some(TOKEN));
    assert_eq!(s(&out.stdout), "NORMAL\n", "{}", s(&out.stderr));
    let dir = TempDir::new("token");
    let file = dir.path().join("token");
    std::fs::write(&file, format!("{TOKEN}\n")).unwrap();
    let f = file.to_str().unwrap();
    let out = dynoctl_run(
        &[
            "--admin-token-file",
            f,
            "consistency",
            "set",
            &node,
            "--read",
            "dc_quorum",
        ],
        Some("wrong-env-token"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", s(&out.stderr));
    assert_eq!(
        http_get(n.stats_port, "/get_consistency").1,
        "Read Consistency: DC_QUORUM\r\nWrite Consistency: DC_ONE\r\n"
    );
    let out = dynoctl_run(&["loglevel", &node, "7"], Some(TOKEN));
    assert_eq!(out.status.code(), Some(0), "{}", s(&out.stderr));
}
