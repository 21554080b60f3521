//! Read repair (SPEC §4.7) through three racks at DC_SAFE_QUORUM: writes record their
//! moments in `._add-set`/`._rem-set` on every replica; a quorum read returns the newest
//! value and writes it back to the replicas behind, as Dynomite's own functional suite
//! checks it (one replica changed behind the cluster's back, its timestamp raised).

use std::time::Duration;

use crate::cluster::{three_racks, Member};
use crate::util::*;

const REPAIR: &str = "  read_repairs_enabled: true\n  read_consistency: DC_SAFE_QUORUM\n  write_consistency: DC_SAFE_QUORUM\n  hints_max_age: 1500\n";

fn store(m: &[Member], i: usize) -> Resp {
    Resp::connect(m[i].redis.port)
}

fn info(m: &[Member], i: usize) -> serde_json::Value {
    let port = m[i].node.as_ref().unwrap().stats_port;
    serde_json::from_str(&http_get(port, "/info").1).unwrap()
}

/// The score of `member` in the sorted set `set` of replica `i`, as an integer.
fn score(m: &[Member], i: usize, set: &str, member: &str) -> Option<u64> {
    let r = s(&store(m, i).cmd(&["ZSCORE", set, member]));
    let text = r.lines().nth(1)?.to_string();
    text.parse::<f64>().ok().map(|f| f as u64)
}

/// Wait until `cmd` answers `want` in every replica's own redis-server.
fn on_every_replica(m: &[Member], cmd: &[&str], want: &str) {
    for i in 0..m.len() {
        wait_for(
            &format!("{cmd:?} = {want:?} on replica {i}"),
            Duration::from_secs(10),
            || (s(&store(m, i).cmd(cmd)) == want).then_some(()),
        );
    }
}

/// Change replica `i` behind the cluster's back, as a newer write only it got: `write` on
/// its own datastore, the moment of `member` in `set` raised past everyone's.
fn newer_on(m: &[Member], i: usize, set: &str, member: &str, write: &[&str]) {
    let mut r = store(m, i);
    let ts = score(m, i, set, member).expect("a recorded moment") + 1;
    assert_eq!(s(&r.cmd(&["ZADD", set, &ts.to_string(), member])), ":0\r\n");
    let reply = s(&r.cmd(write));
    assert!(!reply.starts_with('-'), "{write:?}: {reply}");
}

#[test]
fn a_quorum_read_returns_and_spreads_the_newest_value() {
    let m = three_racks(REPAIR);
    let mut c = m[0].node.as_ref().unwrap().client();
    // Covered writes answer as the commands do, and record their moment on every replica.
    assert_eq!(c.cmd(&["SET", "key", "v1"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["HSET", "h", "f", "a", "g", "b"]), b":2\r\n");
    assert_eq!(c.cmd(&["SADD", "s", "x", "y"]), b":2\r\n");
    assert_eq!(c.cmd(&["ZADD", "z", "1.5", "m"]), b":1\r\n");
    assert_eq!(
        s(&c.cmd(&["ZADD", "z", "nope", "q"])),
        "-ERR value is not a valid float\r\n"
    );
    assert_eq!(c.cmd(&["GET", "key"]), b"$2\r\nv1\r\n");
    for i in 0..3 {
        wait_for(&format!("moments on {i}"), Duration::from_secs(10), || {
            score(&m, i, "._add-set", "key")?;
            score(&m, i, "._add-set_z", "m")
        });
    }

    // Dynomite's functional test: the value deleted on one replica, its moment raised,
    // a new value written there; a DC_SAFE_QUORUM GET returns the new value (within 20
    // tries: here, at the first) and every replica ends with it.
    {
        let mut r = store(&m, 2);
        assert_eq!(r.cmd(&["DEL", "key"]), b":1\r\n");
        assert_eq!(r.cmd(&["EXISTS", "._add-set"]), b":1\r\n");
    }
    newer_on(&m, 2, "._add-set", "key", &["SET", "key", "REPAIRED_VALUE"]);
    let mut seen = false;
    for _ in 0..20 {
        if c.cmd(&["GET", "key"]) == b"$14\r\nREPAIRED_VALUE\r\n" {
            seen = true;
            break;
        }
    }
    assert!(seen, "the newest value was never returned");
    on_every_replica(&m, &["GET", "key"], "$14\r\nREPAIRED_VALUE\r\n");

    // Fields: a hash field, a set member, a sorted-set score.
    newer_on(&m, 1, "._add-set_h", "f", &["HSET", "h", "f", "newer"]);
    assert_eq!(c.cmd(&["HGET", "h", "f"]), b"$5\r\nnewer\r\n");
    on_every_replica(&m, &["HGET", "h", "f"], "$5\r\nnewer\r\n");
    {
        let mut r = store(&m, 1);
        let ts = score(&m, 1, "._add-set_s", "x").unwrap() + 1;
        r.cmd(&["ZADD", "._rem-set_s", &ts.to_string(), "x"]);
        r.cmd(&["ZREM", "._add-set_s", "x"]);
        r.cmd(&["SREM", "s", "x"]);
    }
    assert_eq!(c.cmd(&["SISMEMBER", "s", "x"]), b":0\r\n");
    on_every_replica(&m, &["SISMEMBER", "s", "x"], ":0\r\n");
    newer_on(&m, 0, "._add-set_z", "m", &["ZADD", "z", "7", "m"]);
    assert_eq!(c.cmd(&["ZSCORE", "z", "m"]), b"$1\r\n7\r\n");
    on_every_replica(&m, &["ZSCORE", "z", "m"], "$1\r\n7\r\n");

    // A newer delete on one replica wins over the others' value.
    let mut d = m[1].node.as_ref().unwrap().client();
    assert_eq!(d.cmd(&["SET", "gone", "here"]), b"+OK\r\n");
    wait_for("gone on replica 2", Duration::from_secs(10), || {
        score(&m, 2, "._add-set", "gone")
    });
    newer_on(&m, 2, "._add-set", "gone", &["DEL", "gone"]);
    {
        // ... recorded as the delete scripts do: the key's moment moves to `._rem-set`.
        let mut r = store(&m, 2);
        let ts = score(&m, 2, "._add-set", "gone").unwrap();
        r.cmd(&["ZREM", "._add-set", "gone"]);
        r.cmd(&["ZADD", "._rem-set", &ts.to_string(), "gone"]);
    }
    assert_eq!(d.cmd(&["GET", "gone"]), b"$-1\r\n");
    on_every_replica(&m, &["EXISTS", "gone"], ":0\r\n");

    // The metadata keys are not the client's.
    let keys = s(&c.cmd(&["KEYS", "*"]));
    assert!(!keys.contains("._"), "{keys}");
    let scan = s(&c.cmd(&["SCAN", "0", "COUNT", "1000"]));
    assert!(!scan.contains("._") && scan.contains("key"), "{scan}");

    // Counted, on the coordinators.
    let (a, b) = (info(&m, 0), info(&m, 1));
    let keys = a["read_repair_keys"].as_u64().unwrap() + b["read_repair_keys"].as_u64().unwrap();
    assert_eq!(keys, 5, "{a}");
    assert!(a["read_repairs_issued"].as_u64().unwrap() >= 4, "{a}");
    assert!(a["read_repair_writes"].as_u64().unwrap() >= 4, "{a}");
    let metrics = http_get(m[0].node.as_ref().unwrap().stats_port, "/metrics").1;
    assert!(
        metrics.contains("# TYPE dynomite_read_repair_keys_total counter"),
        "{metrics}"
    );
}

#[test]
fn a_delete_every_replica_agrees_on_loses_its_tombstone_after_the_hint_window() {
    let m = three_racks(REPAIR);
    let mut c = m[0].node.as_ref().unwrap().client();
    assert_eq!(c.cmd(&["SET", "t", "1"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["DEL", "t", "never"]), b":1\r\n");
    // Acknowledged by a quorum: the third replica may apply it a moment later.
    for i in 0..3 {
        wait_for(
            &format!("tombstone on {i}"),
            Duration::from_secs(10),
            || score(&m, i, "._rem-set", "t"),
        );
    }
    // Within the window a replayed older write must still meet the tombstone.
    assert_eq!(c.cmd(&["GET", "t"]), b"$-1\r\n");
    assert!(score(&m, 0, "._rem-set", "t").is_some());
    std::thread::sleep(Duration::from_millis(1600));
    assert_eq!(c.cmd(&["GET", "t"]), b"$-1\r\n");
    on_every_replica(&m, &["ZSCORE", "._rem-set", "t"], "$-1\r\n");
    assert_eq!(info(&m, 0)["read_repair_cleanups"], 1);
    // SET with options is covered too (its expiry made absolute, then recorded); GET is not.
    assert_eq!(
        c.cmd(&["SET", "opt", "v", "PX", "100000", "NX"]),
        b"+OK\r\n"
    );
    assert_eq!(c.cmd(&["SET", "opt2", "v", "GET"]), b"$-1\r\n");
    wait_for("SET PX NX recorded", Duration::from_secs(10), || {
        score(&m, 0, "._add-set", "opt")
    });
    assert!(score(&m, 0, "._add-set", "opt2").is_none());
    // A write older than a tombstone changes nothing; a newer one applies.
    assert_eq!(c.cmd(&["SET", "never", "back"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["GET", "never"]), b"$4\r\nback\r\n");
}

#[test]
fn without_both_levels_above_dc_one_nothing_is_rewritten() {
    let m = three_racks("  read_repairs_enabled: true\n  read_consistency: DC_QUORUM\n");
    let mut c = m[0].node.as_ref().unwrap().client();
    assert_eq!(c.cmd(&["SET", "plain", "v"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["GET", "plain"]), b"$1\r\nv\r\n");
    assert_eq!(store(&m, 0).cmd(&["EXISTS", "._add-set"]), b":0\r\n");
    assert_eq!(info(&m, 0)["read_repair_writes"], 0);
    // Turned on at run time with the write level raised: from then on.
    let port = m[0].node.as_ref().unwrap().stats_port;
    http_get(port, "/set_consistency/write/DC_QUORUM");
    assert_eq!(c.cmd(&["SET", "plain", "w"]), b"+OK\r\n");
    wait_for("the write's moment", Duration::from_secs(10), || {
        score(&m, 0, "._add-set", "plain")
    });
    http_get(port, "/read_repairs/disable");
    assert_eq!(c.cmd(&["SET", "other", "w"]), b"+OK\r\n");
    assert!(score(&m, 0, "._add-set", "other").is_none());
}

#[test]
fn field_reads_of_a_deleted_key_clean_nothing_again_and_again() {
    let m = three_racks(REPAIR);
    let mut c = m[0].node.as_ref().unwrap().client();
    assert_eq!(c.cmd(&["HSET", "h", "f", "v"]), b":1\r\n");
    assert_eq!(c.cmd(&["DEL", "h"]), b":1\r\n");
    std::thread::sleep(Duration::from_millis(1600));
    for _ in 0..5 {
        assert_eq!(c.cmd(&["HGET", "h", "f"]), b"$-1\r\n");
    }
    let i = info(&m, 0);
    assert_eq!(i["read_repair_cleanups"], 0, "{i}");
    assert_eq!(i["read_repairs_issued"], 0, "{i}");
    assert_eq!(i["read_repair_keys"], 0, "{i}");
}

/// Two DCs of one rack of two nodes: a rewritten write forwarded to the other DC is placed
/// there by its own key (the script's first key), not by the metadata sets' names.
#[test]
fn rewritten_writes_reach_their_owner_in_another_dc() {
    let layout = [
        ("dc1", "rack1", 1_000_000_000u32),
        ("dc1", "rack1", 3_000_000_000),
        ("dc2", "rack1", 1_000_000_000),
        ("dc2", "rack1", 3_000_000_000),
    ];
    let extra = "  read_repairs_enabled: true\n  read_consistency: DC_QUORUM\n  write_consistency: DC_QUORUM\n";
    let m = crate::cluster::cluster_tokens(&layout, extra, &vec![String::new(); 4], 0);
    let mut c = m[0].node.as_ref().unwrap().client();
    let keys: Vec<String> = (0..20).map(|i| format!("dc-key-{i}")).collect();
    for k in &keys {
        assert_eq!(c.cmd(&["SET", k, "v"]), b"+OK\r\n");
    }
    for k in &keys {
        // Its owner in dc1 (the node of the same token in dc2 owns it there).
        let here = |i: usize| store(&m, i).cmd(&["EXISTS", k]) == b":1\r\n";
        let owner = if here(0) { 0 } else { 1 };
        assert!(here(owner), "{k} in dc1");
        wait_for(
            &format!("{k} on its dc2 owner"),
            Duration::from_secs(10),
            || here(owner + 2).then_some(()),
        );
        assert!(!here(3 - owner), "{k} also on the other dc2 node");
    }
}
