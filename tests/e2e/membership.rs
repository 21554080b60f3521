//! Failure detection and hinted handoff: a dead peer is seen DOWN within `peer_down_after`,
//! writes it misses are kept and replayed, in order, when it is back.

use std::time::{Duration, Instant};

use crate::cluster::{three_racks, Member};
use crate::util::*;

fn node(m: &[Member], i: usize) -> &Node {
    m[i].node.as_ref().unwrap()
}

fn json(port: u16, path: &str) -> serde_json::Value {
    serde_json::from_str(&http_get(port, path).1).unwrap()
}

/// `(state, hints, hints_lost)` of the node with peer port `peer_port` in `/cluster_describe`.
fn seen(describe: &serde_json::Value, rack: &str) -> (String, u64, u64) {
    for dc in describe["dcs"].as_array().unwrap() {
        for r in dc["racks"].as_array().unwrap() {
            if r["name"] == rack {
                let s = &r["servers"][0];
                return (
                    s["state"].as_str().unwrap().to_string(),
                    s["hints"].as_u64().unwrap(),
                    s["hints_lost"].as_u64().unwrap(),
                );
            }
        }
    }
    panic!("no rack {rack} in {describe}");
}

fn write_keys(c: &mut Resp, prefix: &str, n: usize) {
    for batch in 0..n.div_ceil(500) {
        let keys: Vec<String> = (batch * 500..((batch + 1) * 500).min(n))
            .map(|i| format!("{prefix}{i}"))
            .collect();
        let cmds: Vec<Vec<&str>> = keys.iter().map(|k| vec!["SET", k.as_str(), "h"]).collect();
        for r in c.pipeline(&cmds) {
            assert_eq!(r, b"+OK\r\n");
        }
    }
}

#[test]
fn a_dead_peer_is_down_quickly_and_gets_its_missed_writes_back() {
    let mut m = three_racks("  peer_down_after: 1000\n");
    let stats0 = node(&m, 0).stats_port;
    let t0 = Instant::now();
    m[2].node.as_mut().unwrap().proc.kill();
    wait_for("rack3 seen DOWN", Duration::from_secs(10), || {
        (seen(&json(stats0, "/cluster_describe"), "rack3").0 == "DOWN").then_some(())
    });
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(4), "DOWN after {took:?}");
    assert!(node(&m, 0).log_text().contains("is DOWN"));
    // Reads and writes carry on; the writes rack3 misses are kept for it.
    let mut c = node(&m, 0).client();
    write_keys(&mut c, "hh", 10_000);
    assert_eq!(c.cmd(&["GET", "hh9999"]), b"$1\r\nh\r\n");
    let (_, hints, lost) = seen(&json(stats0, "/cluster_describe"), "rack3");
    assert_eq!((hints, lost), (10_000, 0));
    let info = json(stats0, "/info");
    assert_eq!(info["peers_down"], 1, "{info}");
    assert_eq!(info["hints"], 10_000, "{info}");
    // rack3 comes back empty-handed: within seconds it has every key.
    m[2].node.as_mut().unwrap().restart();
    let port3 = m[2].redis.port;
    wait_for(
        "every missed write on rack3",
        Duration::from_secs(30),
        || (Resp::connect(port3).cmd(&["DBSIZE"]) == b":10000\r\n").then_some(()),
    );
    let d = json(stats0, "/cluster_describe");
    assert_eq!(seen(&d, "rack3"), ("NORMAL".to_string(), 0, 0));
    let info = json(stats0, "/info");
    assert!(info["hints_replayed"].as_u64() >= Some(10_000), "{info}");
    assert!(node(&m, 0).log_text().contains("is NORMAL again"));
}

#[test]
fn hints_are_bounded_and_a_peer_that_lost_some_is_flagged() {
    let mut m = three_racks("  peer_down_after: 500\n  hints_max_per_peer: 100\n");
    let stats0 = node(&m, 0).stats_port;
    m[2].node.as_mut().unwrap().proc.kill();
    wait_for("rack3 seen DOWN", Duration::from_secs(10), || {
        (seen(&json(stats0, "/cluster_describe"), "rack3").0 == "DOWN").then_some(())
    });
    let mut c = node(&m, 0).client();
    write_keys(&mut c, "b", 300);
    let (_, hints, lost) = seen(&json(stats0, "/cluster_describe"), "rack3");
    assert_eq!((hints, lost), (100, 200));
    assert_eq!(json(stats0, "/info")["hints_dropped"], 200);
    m[2].node.as_mut().unwrap().restart();
    let port3 = m[2].redis.port;
    wait_for("the kept writes on rack3", Duration::from_secs(30), || {
        (Resp::connect(port3).cmd(&["DBSIZE"]) == b":100\r\n").then_some(())
    });
    // The newest writes were kept; the flag stays until the operator warms the node up.
    let mut r = Resp::connect(port3);
    assert_eq!(r.cmd(&["EXISTS", "b299"]), b":1\r\n");
    assert_eq!(r.cmd(&["EXISTS", "b0"]), b":0\r\n");
    assert_eq!(seen(&json(stats0, "/cluster_describe"), "rack3").2, 200);
}
