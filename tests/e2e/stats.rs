//! The stats and admin HTTP port: /info JSON shape, /metrics, /ping, admin calls.

use crate::util::*;

#[test]
fn info_is_dynomites_json() {
    let (r, n) = redis_node();
    let mut c = n.client();
    for i in 0..50 {
        assert_eq!(c.cmd(&["SET", &format!("k{i}"), "v"]), b"+OK\r\n");
        c.cmd(&["GET", &format!("k{i}")]);
    }
    let (head, body) = http_get(n.stats_port, "/info");
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert!(head.contains("Content-Type: application/json"), "{head}");
    let v: serde_json::Value =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(v["service"], "dynomite");
    assert_eq!(v["rack"], "localrack");
    assert_eq!(v["dc"], "localdc");
    let pool = &v["dyn_o_mite"];
    assert_eq!(pool["client_connections"], 1);
    assert_eq!(pool["client_write_requests"], 50);
    assert!(pool["client_read_requests"].as_u64().unwrap() >= 50);
    let ds = &pool[format!("127.0.0.1:{}", r.port)];
    assert_eq!(ds["write_requests"], 50, "{body}");
    assert_eq!(ds["redis_req_set"], 50);
    assert_eq!(ds["redis_req_get"].as_u64().unwrap(), 50 + 1);
    assert!(v["latency_max"].as_u64().unwrap() > 0);
    assert!(v["alloc_mbufs"].as_u64().unwrap() > 0);
    // Field order of Dynomite's /info: scrapers rely on it.
    let keys = [
        "\"service\"",
        "\"source\"",
        "\"version\"",
        "\"uptime\"",
        "\"timestamp\"",
        "\"rack\"",
        "\"dc\"",
        "\"latency_max\"",
        "\"dyn_memory\"",
        "\"dyn_o_mite\"",
    ];
    let mut at = 0;
    for k in keys {
        let p = body[at..]
            .find(k)
            .unwrap_or_else(|| panic!("{k} out of order in {body}"));
        at += p;
    }
    // `/` is /info too.
    let (_, root) = http_get(n.stats_port, "/");
    assert!(root.starts_with("{\"service\":\"dynomite\""));
}

#[test]
fn metrics_ping_help_and_admin() {
    let (_r, n) = redis_node();
    let (head, body) = http_get(n.stats_port, "/metrics");
    assert!(head.contains("text/plain"), "{head}");
    assert!(
        body.contains("# TYPE dynomite_client_connections gauge"),
        "{body}"
    );
    assert!(body.contains("dynomite_latency_microseconds_bucket"));
    assert_eq!(http_get(n.stats_port, "/ping").1, "OK\r\n");
    assert!(http_get(n.stats_port, "/help")
        .1
        .contains("/cluster_describe"));
    assert_eq!(
        http_get(n.stats_port, "/get_consistency").1,
        "Read Consistency: DC_ONE\r\nWrite Consistency: DC_ONE\r\n"
    );
    assert_eq!(
        http_get(n.stats_port, "/set_consistency/read/dc_quorum").1,
        "OK\r\n"
    );
    assert_eq!(
        http_req(
            n.stats_port,
            "POST",
            "/set_consistency/write/DC_SAFE_QUORUM"
        )
        .1,
        "OK\r\n"
    );
    assert_eq!(
        http_get(n.stats_port, "/get_consistency").1,
        "Read Consistency: DC_QUORUM\r\nWrite Consistency: DC_SAFE_QUORUM\r\n"
    );
    assert_eq!(http_get(n.stats_port, "/set_timeout_factor/4").1, "OK\r\n");
    assert_eq!(
        http_get(n.stats_port, "/get_timeout_factor").1,
        "Timeout factor: 4\n"
    );
    assert_eq!(
        http_get(n.stats_port, "/state/get_state").1,
        "State: NORMAL\n"
    );
    let cd = http_get(n.stats_port, "/cluster_describe").1;
    let v: serde_json::Value = serde_json::from_str(&cd).unwrap_or_else(|e| panic!("{e}: {cd}"));
    assert_eq!(
        v["dcs"][0]["racks"][0]["servers"][0]["token"],
        1383429731u64
    );
}

#[test]
fn node_states_gate_the_datastore() {
    let (_r, n) = redis_node();
    let mut c = n.client();
    assert_eq!(c.cmd(&["SET", "s", "1"]), b"+OK\r\n");
    http_get(n.stats_port, "/state/standby");
    let err = "-ERR Dynomite: Dynomite's current state does not allow this request\r\n";
    assert_eq!(s(&c.cmd(&["GET", "s"])), err);
    assert_eq!(s(&c.cmd(&["SET", "s", "2"])), err);
    // WRITES_ONLY: reads refused, writes held until RESUMING/NORMAL, then applied in order.
    http_get(n.stats_port, "/state/writes_only");
    assert_eq!(s(&c.cmd(&["GET", "s"])), err);
    c.send(&encode_str(&["SET", "s", "3"]));
    c.send(&encode_str(&["APPEND", "s", "4"]));
    std::thread::sleep(std::time::Duration::from_millis(200));
    let mut other = n.client();
    http_get(n.stats_port, "/state/normal");
    assert_eq!(c.read_reply(), b"+OK\r\n");
    assert_eq!(c.read_reply(), b":2\r\n");
    assert_eq!(other.cmd(&["GET", "s"]), b"$2\r\n34\r\n");
}

#[test]
fn held_write_times_out_without_other_traffic() {
    let r = Redis::start();
    let n = Node::start(&r.addr(), 0, "  timeout: 500\n");
    n.wait_backend();
    http_get(n.stats_port, "/state/writes_only");
    let mut c = n.client();
    let t0 = std::time::Instant::now();
    let got = c.cmd(&["SET", "held", "1"]);
    assert_eq!(
        s(&got),
        "-ERR Dynomite: Dynomite's current state does not allow this request\r\n"
    );
    let took = t0.elapsed();
    assert!(
        took < std::time::Duration::from_secs(3),
        "answered after {took:?}"
    );
}
