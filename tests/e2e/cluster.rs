//! Clusters of one node per rack under DC_ONE: writes through any node reach every rack of
//! every DC (checked in each node's own redis-server); a dead peer does not stop writes.

use std::time::Duration;

use crate::util::*;

pub struct Member {
    pub redis: Redis,
    pub node: Option<Node>,
}

/// The token of the only node of a rack (Netflix's formula for one node per rack).
pub const ONE_TOKEN: u32 = 1383429731;

/// dc1 with three racks of one node each, `extra` added to every node's config.
pub fn three_racks(extra: &str) -> Vec<Member> {
    let layout: Vec<(&str, &str, u32)> = ["rack1", "rack2", "rack3"]
        .iter()
        .map(|r| ("dc1", *r, ONE_TOKEN))
        .collect();
    cluster_tokens(&layout, extra, &vec![String::new(); 3], 0)
}

/// Start one redis-server + dynomited per (dc, rack), all with token 1383429731, each
/// listing every other node as a seed.
fn cluster(layout: &[(&str, &str)], extra: &str) -> Vec<Member> {
    let stores: Vec<String> = layout.iter().map(|_| String::new()).collect();
    cluster_with(layout, extra, &stores, 0).0
}

/// The same with the datastores given (`host:port`, empty = start a redis-server), and
/// `data_store` 0 (Redis) or 1 (Memcached).
fn cluster_with(
    layout: &[(&str, &str)],
    extra: &str,
    stores: &[String],
    data_store: u8,
) -> (Vec<Member>, ()) {
    let layout: Vec<(&str, &str, u32)> = layout.iter().map(|&(d, r)| (d, r, ONE_TOKEN)).collect();
    (cluster_tokens(&layout, extra, stores, data_store), ())
}

/// A cluster of any shape: one redis-server (or the given datastore) + dynomited per
/// `(dc, rack, token)`, each listing every other node as a seed.
pub fn cluster_tokens(
    layout: &[(&str, &str, u32)],
    extra: &str,
    stores: &[String],
    data_store: u8,
) -> Vec<Member> {
    let ports: Vec<(u16, u16, u16)> = layout
        .iter()
        .map(|_| (free_port(), free_port(), free_port()))
        .collect();
    let mut members = Vec::new();
    for (i, (dc, rack, token)) in layout.iter().enumerate() {
        let redis = Redis::start();
        let backend = if stores[i].is_empty() {
            redis.addr()
        } else {
            stores[i].clone()
        };
        let (port, dyn_port, stats) = ports[i];
        let mut seeds = String::new();
        for (j, (sdc, srack, stoken)) in layout.iter().enumerate() {
            if j != i {
                seeds += &format!("  - 127.0.0.1:{}:{srack}:{sdc}:{stoken}\n", ports[j].1);
            }
        }
        let text = format!(
            "dyn_o_mite:\n  datacenter: {dc}\n  rack: {rack}\n  listen: 127.0.0.1:{port}\n  dyn_listen: 127.0.0.1:{dyn_port}\n  stats_listen: 127.0.0.1:{stats}\n  tokens: '{token}'\n  data_store: {data_store}\n  servers:\n  - {backend}:1\n  dyn_seeds:\n{seeds}{extra}",
        );
        let node = Node::start_conf(&text, port, stats, &[]);
        if data_store == 0 {
            node.wait_backend();
        }
        members.push(Member {
            redis,
            node: Some(node),
        });
    }
    // Peers started after a node are reached on its reconnect back-off: wait until every
    // node has its connections to all the others (copies for a down peer are dropped under
    // DC_ONE, as in Dynomite).
    let others = layout.len() as u64 - 1;
    for m in &members {
        let n = m.node.as_ref().unwrap();
        wait_for("peer connections", Duration::from_secs(20), || {
            let v: serde_json::Value =
                serde_json::from_str(&http_get(n.stats_port, "/info").1).ok()?;
            (v["dyn_o_mite"]["peer_connections"].as_u64() == Some(others)).then_some(())
        });
    }
    members
}

/// Wait until `key` has `value` in the redis-server of every listed member.
fn everywhere(members: &[Member], which: &[usize], key: &str, value: &str) {
    for &i in which {
        let port = members[i].redis.port;
        wait_for(
            &format!("{key}={value} in member {i}'s redis"),
            Duration::from_secs(10),
            || {
                let mut r = Resp::connect(port);
                let want = format!("${}\r\n{value}\r\n", value.len());
                (r.cmd(&["GET", key]) == want.as_bytes()).then_some(())
            },
        );
    }
}

#[test]
fn three_racks_replicate_every_write() {
    let m = cluster(&[("dc1", "rack1"), ("dc1", "rack2"), ("dc1", "rack3")], "");
    for (i, member) in m.iter().enumerate() {
        let mut c = member.node.as_ref().unwrap().client();
        let key = format!("k{i}");
        assert_eq!(c.cmd(&["SET", &key, &format!("v{i}")]), b"+OK\r\n");
        // A read is served by the coordinator's own rack.
        assert_eq!(s(&c.cmd(&["GET", &key])), format!("$2\r\nv{i}\r\n"));
    }
    for i in 0..3 {
        everywhere(&m, &[0, 1, 2], &format!("k{i}"), &format!("v{i}"));
    }
    // Peer traffic is counted as peer traffic: rack1's datastore saw its own 3 keys' writes
    // (one from its client, two copies from peers), its peers got 2 copies of its one write.
    let n0 = m[0].node.as_ref().unwrap();
    let redis0 = format!("127.0.0.1:{}", m[0].redis.port);
    wait_for(
        "queues drained and counted",
        Duration::from_secs(10),
        || {
            let v: serde_json::Value =
                serde_json::from_str(&http_get(n0.stats_port, "/info").1).ok()?;
            let pool = &v["dyn_o_mite"];
            let ds = &pool[&redis0];
            let ok = ds["write_requests"] == 3
                && ds["in_queue"] == 0
                && ds["out_queue"] == 0
                && pool["peer_requests"] == 2
                && pool["peer_responses"] == 2
                && pool["peer_in_queue"] == 0
                && pool["peer_out_queue"] == 0;
            ok.then_some(())
        },
    );
    // /cluster_describe lists every rack with its node and token.
    let n = m[0].node.as_ref().unwrap();
    let v: serde_json::Value =
        serde_json::from_str(&http_get(n.stats_port, "/cluster_describe").1).unwrap();
    let racks = v["dcs"][0]["racks"].as_array().unwrap();
    assert_eq!(racks.len(), 3, "{v}");
    for r in racks {
        assert_eq!(r["servers"][0]["token"], 1383429731u64);
    }
    // Multi-key writes and deletes replicate as well.
    let mut c = m[1].node.as_ref().unwrap().client();
    assert_eq!(c.cmd(&["MSET", "a", "1", "b", "2"]), b"+OK\r\n");
    everywhere(&m, &[0, 1, 2], "b", "2");
    assert_eq!(c.cmd(&["DEL", "a", "b"]), b":2\r\n");
    for member in &m {
        let port = member.redis.port;
        wait_for("the delete replicated", Duration::from_secs(10), || {
            (Resp::connect(port).cmd(&["EXISTS", "a", "b"]) == b":0\r\n").then_some(())
        });
    }
}

#[test]
fn two_dcs_forward_to_every_rack() {
    // dc1: one rack; dc2: two racks. A write in dc1 goes to dc2's preselected rack as a
    // REQ_FORWARD, and that node replicates it to the other rack of dc2.
    let m = cluster(&[("dc1", "rack1"), ("dc2", "rack1"), ("dc2", "rack2")], "");
    let mut c = m[0].node.as_ref().unwrap().client();
    assert_eq!(c.cmd(&["SET", "from-dc1", "x"]), b"+OK\r\n");
    everywhere(&m, &[0, 1, 2], "from-dc1", "x");
    let mut c = m[2].node.as_ref().unwrap().client();
    assert_eq!(c.cmd(&["SET", "from-dc2", "y"]), b"+OK\r\n");
    everywhere(&m, &[0, 1, 2], "from-dc2", "y");
}

#[test]
fn writes_continue_with_a_peer_down() {
    let mut m = cluster(&[("dc1", "rack1"), ("dc1", "rack2"), ("dc1", "rack3")], "");
    m[2].node.take(); // kills rack3's dynomited (by PID, on drop)
    let mut c = m[0].node.as_ref().unwrap().client();
    for i in 0..20 {
        assert_eq!(c.cmd(&["SET", &format!("d{i}"), "1"]), b"+OK\r\n");
    }
    everywhere(&m, &[0, 1], "d19", "1");
}

#[test]
fn unsupported_topologies_are_refused() {
    let port = free_port();
    let dir = TempDir::new("refuse");
    let cases = [
        (
            "  secure_server_option: datacenter\n  pem_key_file: /nonexistent.pem\n  dyn_seeds:\n  - 127.0.0.1:1:rack2:dc2:1\n",
            "pem_key_file /nonexistent.pem: No such file or directory (os error 2); refusing to start rather than send peer traffic in the clear",
        ),
    ];
    for (extra, want) in cases {
        let text = format!(
            "dyn_o_mite:\n  datacenter: dc1\n  rack: rack1\n  listen: 127.0.0.1:{port}\n  dyn_listen: 127.0.0.1:{}\n  tokens: '1383429731'\n  servers:\n  - 127.0.0.1:6379:1\n{extra}",
            free_port()
        );
        let conf = dir.path().join("c.yml");
        std::fs::write(&conf, text).unwrap();
        let out = std::process::Command::new(DYNOMITED)
            .args(["-c", conf.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(s(&out.stderr).contains(want), "{}", s(&out.stderr));
    }
}

#[test]
fn reads_fail_over_to_another_rack_when_the_datastore_is_down() {
    let mut m = cluster(&[("dc1", "rack1"), ("dc1", "rack2"), ("dc1", "rack3")], "");
    let n = m[0].node.take().unwrap();
    let mut c = n.client();
    assert_eq!(c.cmd(&["SET", "fo", "v"]), b"+OK\r\n");
    everywhere(&m, &[1, 2], "fo", "v");
    m[0].redis.proc.kill();
    // rack1's datastore is gone: its node serves the read from another rack.
    assert_eq!(c.cmd(&["GET", "fo"]), b"$1\r\nv\r\n");
    assert_eq!(c.cmd(&["GET", "nokey"]), b"$-1\r\n");
    // A write still needs the local datastore and says so.
    assert!(c.cmd(&["SET", "fo", "w"]).starts_with(b"-ERR Storage"));
    let v: serde_json::Value = serde_json::from_str(&http_get(n.stats_port, "/info").1).unwrap();
    assert!(v["read_failovers"].as_u64().unwrap() >= 2, "{v}");
    m[0].node = Some(n);
}

#[test]
fn differential_through_a_three_rack_cluster() {
    // One client on rack1's node, DC_ONE: every reply as plain redis-server gives it, and the
    // datastores of all three racks end up with plain redis-server's dataset.
    let m = cluster(&[("dc1", "rack1"), ("dc1", "rack2"), ("dc1", "rack3")], "");
    let plain = Redis::start();
    let port = m[0].node.as_ref().unwrap().port;
    crate::redis::differential_against(&plain, port, false, 0x5eed_00c1);
    let mut p = Resp::connect(plain.port);
    for k in 0..12 {
        let key = format!("key:{k}");
        let want = p.cmd(&["DUMP", &key]);
        for (i, member) in m.iter().enumerate() {
            let port = member.redis.port;
            wait_for(
                &format!("{key} in rack {} as in plain redis", i + 1),
                Duration::from_secs(10),
                || (Resp::connect(port).cmd(&["DUMP", &key]) == want).then_some(()),
            );
        }
    }
}

#[test]
fn remote_dc_write_fails_over_to_another_rack_of_that_dc() {
    // dc1's write goes to dc2's preselected rack (rack1); with it down, to dc2's rack2.
    let mut m = cluster(&[("dc1", "rack1"), ("dc2", "rack1"), ("dc2", "rack2")], "");
    m[1].node.take();
    let n = m[0].node.as_ref().unwrap();
    let mut c = n.client();
    wait_for("dc1 to see dc2/rack1 down", Duration::from_secs(10), || {
        let v: serde_json::Value = serde_json::from_str(&http_get(n.stats_port, "/info").1).ok()?;
        (v["dyn_o_mite"]["peer_connections"].as_u64() == Some(1)).then_some(())
    });
    assert_eq!(c.cmd(&["SET", "x", "1"]), b"+OK\r\n");
    everywhere(&m, &[0, 2], "x", "1");
    let v: serde_json::Value = serde_json::from_str(&http_get(n.stats_port, "/info").1).unwrap();
    assert!(
        v["dyn_o_mite"]["remote_peer_failover_requests"].as_u64() >= Some(1),
        "{v}"
    );
}

#[test]
fn memcached_noreply_does_not_shift_peer_replies() {
    use std::io::{Read, Write};
    let mcs: Vec<Memcached> = (0..2).map(|_| Memcached::start()).collect();
    let stores: Vec<String> = mcs
        .iter()
        .map(|m| format!("127.0.0.1:{}", m.port))
        .collect();
    let (m, ()) = cluster_with(&[("dc1", "rack1"), ("dc1", "rack2")], "", &stores, 1);
    let n = m[0].node.as_ref().unwrap();
    let mut c = std::net::TcpStream::connect(("127.0.0.1", n.port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let read_until = |c: &mut std::net::TcpStream, end: &str| {
        let mut out = Vec::new();
        let mut b = [0u8; 4096];
        while !out.ends_with(end.as_bytes()) {
            let k = c.read(&mut b).expect("reply");
            assert!(k > 0);
            out.extend_from_slice(&b[..k]);
        }
        s(&out)
    };
    c.write_all(b"set a 0 0 1\r\nA\r\nset b 0 0 1\r\nB\r\n")
        .unwrap();
    assert_eq!(
        read_until(&mut c, "STORED\r\nSTORED\r\n"),
        "STORED\r\nSTORED\r\n"
    );
    c.write_all(b"set z 0 0 1 noreply\r\nZ\r\n").unwrap();
    // rack2 has everything; now rack1's memcached dies and reads fail over to rack2.
    let rack2 = mcs[1].port;
    wait_for("z replicated to rack2", Duration::from_secs(10), || {
        let mut r = std::net::TcpStream::connect(("127.0.0.1", rack2)).ok()?;
        r.write_all(b"get z\r\n").ok()?;
        let mut b = [0u8; 256];
        let k = r.read(&mut b).ok()?;
        s(&b[..k]).starts_with("VALUE z").then_some(())
    });
    let mut mcs = mcs.into_iter();
    drop(mcs.next()); // rack1's memcached, killed by PID
    let _rack2_alive = mcs.next();
    c.write_all(b"get a\r\nget b\r\n").unwrap();
    let got = read_until(&mut c, "END\r\n");
    let got = if got.matches("END").count() < 2 {
        got + &read_until(&mut c, "END\r\n")
    } else {
        got
    };
    assert_eq!(
        got,
        "VALUE a 0 1\r\nA\r\nEND\r\nVALUE b 0 1\r\nB\r\nEND\r\n"
    );
}

#[test]
fn failover_read_to_a_frozen_peer_fails_near_the_timeout() {
    let mut m = cluster(&[("dc1", "rack1"), ("dc1", "rack2")], "  timeout: 500\n");
    let n = m[0].node.take().unwrap();
    let mut c = n.client();
    m[0].redis.proc.kill();
    m[1].node.as_ref().unwrap().proc.signal(libc::SIGSTOP);
    let t0 = std::time::Instant::now();
    let got = c.cmd(&["GET", "k"]);
    let took = t0.elapsed();
    m[1].node.as_ref().unwrap().proc.signal(libc::SIGCONT);
    assert_eq!(s(&got), "-ERR Peer: Peer Node refused connection\r\n");
    assert!(took < Duration::from_secs(3), "answered after {took:?}");
    m[0].node = Some(n);
}

#[test]
fn copies_queued_for_a_frozen_peer_do_not_pin_client_buffers() {
    let m = cluster(&[("dc1", "rack1"), ("dc1", "rack2")], "");
    let n = m[0].node.as_ref().unwrap();
    m[1].node.as_ref().unwrap().proc.signal(libc::SIGSTOP);
    let mut c = n.client();
    let v = vec![b'p'; 4096];
    // One request per write: each arrives in a read buffer of its own.
    for i in 0..3000 {
        let key = format!("p{i}");
        assert_eq!(c.cmd_bytes(&[b"SET", key.as_bytes(), &v]), b"+OK\r\n");
    }
    let info: serde_json::Value = serde_json::from_str(&http_get(n.stats_port, "/info").1).unwrap();
    m[1].node.as_ref().unwrap().proc.signal(libc::SIGCONT);
    let mbufs = info["alloc_mbufs"].as_u64().unwrap();
    eprintln!("alloc_mbufs {mbufs} after 3000 x 4 KiB SETs with the peer frozen");
    // 12 MB of copies waiting: packed, about 750 mbufs of 16 KiB; pinned, one per request.
    assert!(
        mbufs < 1500,
        "{mbufs} mbufs: each queued copy pins its client's read buffer"
    );
    // The packed copies arrive intact once the peer runs again.
    let value = "p".repeat(4096);
    everywhere(&m, &[1], "p0", &value);
    everywhere(&m, &[1], "p2999", &value);
}

#[test]
fn admin_peer_down_up_and_reset() {
    let m = cluster(&[("dc1", "rack1"), ("dc1", "rack2")], "");
    let n = m[0].node.as_ref().unwrap();
    let mut c = n.client();
    // Every peer here is named 127.0.0.1 (a peer's name is its host, as in Dynomite).
    assert_eq!(http_get(n.stats_port, "/peer/down/127.0.0.1").1, "OK\r\n");
    assert_eq!(c.cmd(&["SET", "while-down", "1"]), b"+OK\r\n");
    assert_eq!(
        http_req(n.stats_port, "POST", "/peer/up/127.0.0.1").1,
        "OK\r\n"
    );
    assert_eq!(c.cmd(&["SET", "after-up", "1"]), b"+OK\r\n");
    everywhere(&m, &[1], "after-up", "1");
    // The write made while the peer was DOWN was kept as a hint, and arrived first.
    everywhere(&m, &[1], "while-down", "1");
    let v: serde_json::Value = serde_json::from_str(&http_get(n.stats_port, "/info").1).unwrap();
    assert!(
        v["dyn_o_mite"]["peer_dropped_requests"].as_u64() >= Some(1),
        "{v}"
    );
    assert!(v["hints_replayed"].as_u64() >= Some(1), "{v}");
    // RESET rebuilds the connection; replication carries on.
    assert_eq!(http_get(n.stats_port, "/peer/reset/all").1, "OK\r\n");
    wait_for("the peer connection back", Duration::from_secs(10), || {
        let v: serde_json::Value = serde_json::from_str(&http_get(n.stats_port, "/info").1).ok()?;
        (v["dyn_o_mite"]["peer_connections"].as_u64() == Some(1)).then_some(())
    });
    assert_eq!(c.cmd(&["SET", "after-reset", "1"]), b"+OK\r\n");
    everywhere(&m, &[1], "after-reset", "1");
    assert!(
        n.log_text().contains("set Reset by the admin API"),
        "{}",
        n.log_text()
    );
}

#[test]
fn peer_request_queues_are_counted() {
    // rack2's datastore is frozen: the copies rack1 sends wait in rack2's dnode client
    // in-queue; once it runs again they are answered and the gauges return to zero.
    let m = cluster(&[("dc1", "rack1"), ("dc1", "rack2")], "");
    let (n0, n1) = (m[0].node.as_ref().unwrap(), m[1].node.as_ref().unwrap());
    m[1].redis.proc.signal(libc::SIGSTOP);
    let mut c = n0.client();
    for i in 0..5 {
        assert_eq!(c.cmd(&["SET", &format!("q{i}"), "v"]), b"+OK\r\n");
    }
    let pool = |n: &Node| -> serde_json::Value {
        let v: serde_json::Value =
            serde_json::from_str(&http_get(n.stats_port, "/info").1).unwrap();
        v["dyn_o_mite"].clone()
    };
    let redis1 = format!("127.0.0.1:{}", m[1].redis.port);
    wait_for("5 copies queued on rack2", Duration::from_secs(10), || {
        let p = pool(n1);
        (p["dnode_client_in_queue"] == 5
            && p["dnode_client_in_queue_bytes"].as_u64() > Some(100)
            // Written to the frozen redis-server (its socket takes them), awaiting replies.
            && p[&redis1]["out_queue"] == 5
            && p[&redis1]["out_queue_bytes"].as_u64() > Some(100))
        .then_some(())
    });
    // rack1 waits for rack2's answers to the 5 copies it sent.
    let p0 = pool(n0);
    assert_eq!(p0["peer_out_queue"], 5, "{p0}");
    assert!(p0["peer_out_queue_bytes"].as_u64() > Some(100), "{p0}");
    m[1].redis.proc.signal(libc::SIGCONT);
    wait_for("the queues drained", Duration::from_secs(10), || {
        let (p, p0) = (pool(n1), pool(n0));
        let drained = p["dnode_client_in_queue"] == 0
            && p["dnode_client_in_queue_bytes"] == 0
            && p["dnode_client_out_queue"] == 0
            && p["dnode_client_out_queue_bytes"] == 0
            && p[&redis1]["out_queue"] == 0
            && p[&redis1]["out_queue_bytes"] == 0
            && p0["peer_out_queue"] == 0
            && p0["peer_out_queue_bytes"] == 0;
        drained.then_some(())
    });
    assert!(pool(n1)["stats_count"].as_u64() >= Some(2));
    everywhere(&m, &[1], "q4", "v");
}

#[test]
fn a_restarted_peer_gets_traffic_again_by_itself() {
    let mut m = cluster(&[("dc1", "rack1"), ("dc1", "rack2"), ("dc1", "rack3")], "");
    let stats0 = m[0].node.as_ref().unwrap().stats_port;
    let mut c = m[0].node.as_ref().unwrap().client();
    m[2].node.as_mut().unwrap().proc.kill();
    assert_eq!(c.cmd(&["SET", "before", "1"]), b"+OK\r\n");
    m[2].node.as_mut().unwrap().restart();
    // No admin call, no restart of the others: rack1 reconnects on its back-off.
    wait_for(
        "rack1 reconnected to rack3",
        Duration::from_secs(20),
        || {
            let v: serde_json::Value = serde_json::from_str(&http_get(stats0, "/info").1).ok()?;
            (v["dyn_o_mite"]["peer_connections"].as_u64() == Some(2)).then_some(())
        },
    );
    assert_eq!(c.cmd(&["SET", "after", "2"]), b"+OK\r\n");
    everywhere(&m, &[0, 1, 2], "after", "2");
    // And rack3 coordinates again: its writes reach rack1.
    let mut c3 = m[2].node.as_ref().unwrap().client();
    assert_eq!(c3.cmd(&["SET", "from3", "3"]), b"+OK\r\n");
    everywhere(&m, &[0, 1, 2], "from3", "3");
}

#[test]
fn cross_dc_copies_respect_conn_msg_rate() {
    // 200 writes with conn_msg_rate 50: dc2 gets them over at least 3 seconds, all of them.
    let m = cluster(
        &[("dc1", "rack1"), ("dc2", "rack1")],
        "  conn_msg_rate: 50\n",
    );
    let mut c = m[0].node.as_ref().unwrap().client();
    let t0 = std::time::Instant::now();
    let keys: Vec<String> = (0..200).map(|i| format!("r{i}")).collect();
    let cmds: Vec<Vec<&str>> = keys.iter().map(|k| vec!["SET", k.as_str(), "v"]).collect();
    for r in c.pipeline(&cmds) {
        assert_eq!(r, b"+OK\r\n");
    }
    let port = m[1].redis.port;
    wait_for("all 200 copies in dc2", Duration::from_secs(20), || {
        (Resp::connect(port).cmd(&["DBSIZE"]) == b":200\r\n").then_some(())
    });
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_secs(2),
        "200 copies at 50/s arrived in {took:?}"
    );
}

#[test]
fn relative_expirations_reach_every_rack_as_one_moment() {
    let m = three_racks("");
    let mut c = m[1].node.as_ref().unwrap().client();
    let ok = |r: Vec<u8>| {
        assert!(
            r == b"+OK\r\n" || r == b":1\r\n" || r.starts_with(b"$"),
            "{}",
            s(&r)
        )
    };
    ok(c.cmd(&["SET", "e:set", "v", "EX", "100"]));
    ok(c.cmd(&["SET", "e:px", "v", "NX", "PX", "90000", "GET"]));
    ok(c.cmd(&["SETEX", "e:setex", "80", "v"]));
    ok(c.cmd(&["PSETEX", "e:psetex", "70000", "v"]));
    ok(c.cmd(&["SET", "e:expire", "v"]));
    ok(c.cmd(&["EXPIRE", "e:expire", "60"]));
    ok(c.cmd(&["SET", "e:getex", "v"]));
    ok(c.cmd(&["GETEX", "e:getex", "EX", "50"]));
    let keys = [
        "e:set", "e:px", "e:setex", "e:psetex", "e:expire", "e:getex",
    ];
    for key in keys {
        // The same absolute expiry (ms) in every rack, whenever each got its copy.
        let at: Vec<Vec<u8>> = m
            .iter()
            .map(|member| {
                let port = member.redis.port;
                wait_for(
                    &format!("{key} in every rack"),
                    Duration::from_secs(10),
                    || {
                        let r = Resp::connect(port).cmd(&["PEXPIRETIME", key]);
                        (r != b":-2\r\n").then_some(r)
                    },
                )
            })
            .collect();
        assert!(at[0] != b":-1\r\n", "{key} has no expiry");
        assert!(at.iter().all(|a| a == &at[0]), "{key}: {at:?}");
    }
    // The client still gets what it asked for: a TTL, not a date.
    let ttl = s(&c.cmd(&["TTL", "e:set"]));
    assert!(ttl == ":100\r\n" || ttl == ":99\r\n", "{ttl}");
}

#[test]
fn non_deterministic_writes_leave_every_rack_identical() {
    let m = three_racks("");
    let mut c = m[0].node.as_ref().unwrap().client();
    let members: Vec<String> = (0..40).map(|i| format!("m{i}")).collect();
    let mut sadd = vec!["SADD", "s"];
    sadd.extend(members.iter().map(|x| x.as_str()));
    assert_eq!(c.cmd(&sadd), b":40\r\n");
    // SPOP with a count, without one, and at a quorum level (where every rack would pop
    // its own random members if the command itself were sent).
    assert!(c.cmd(&["SPOP", "s", "10"]).starts_with(b"*10\r\n"));
    assert!(c.cmd(&["SPOP", "s"]).starts_with(b"$"));
    assert_eq!(
        c.cmd(&["DYNO_CONFIG:CONN_CONSISTENCY", "DC_QUORUM"]),
        b"+OK\r\n"
    );
    assert!(c.cmd(&["SPOP", "s", "5"]).starts_with(b"*5\r\n"));
    // XADD with a generated ID: every rack's stream gets the ID the first one chose.
    for i in 0..5 {
        let r = c.cmd(&["XADD", "x", "MAXLEN", "=", "100", "*", "f", &i.to_string()]);
        assert!(r.starts_with(b"$"), "{}", s(&r));
    }
    let sorted = |port: u16| {
        let r = s(&Resp::connect(port).cmd(&["SMEMBERS", "s"]));
        let mut v: Vec<String> = r
            .lines()
            .filter(|l| l.starts_with('m'))
            .map(String::from)
            .collect();
        v.sort();
        v
    };
    let want = sorted(m[0].redis.port);
    assert_eq!(want.len(), 24);
    let stream = s(&Resp::connect(m[0].redis.port).cmd(&["XRANGE", "x", "-", "+"]));
    for member in &m[1..] {
        let port = member.redis.port;
        wait_for(
            "every rack's set as rack 1's",
            Duration::from_secs(10),
            || (sorted(port) == want).then_some(()),
        );
        wait_for(
            "every rack's stream as rack 1's",
            Duration::from_secs(10),
            || (s(&Resp::connect(port).cmd(&["XRANGE", "x", "-", "+"])) == stream).then_some(()),
        );
    }
}

#[test]
fn flush_is_refused_unless_allowed_and_then_empties_every_rack() {
    let m = three_racks("");
    let mut c = m[0].node.as_ref().unwrap().client();
    assert_eq!(c.cmd(&["SET", "f", "1"]), b"+OK\r\n");
    for cmd in ["FLUSHALL", "FLUSHDB"] {
        assert_eq!(
            s(&c.cmd(&[cmd])),
            format!(
                "-ERR {cmd} is disabled on this cluster (allow_flush: true in every node's \
                 config enables it)\r\n"
            )
        );
    }
    let m = three_racks("  allow_flush: true\n");
    let mut c = m[2].node.as_ref().unwrap().client();
    for i in 0..20 {
        assert_eq!(c.cmd(&["SET", &format!("f{i}"), "1"]), b"+OK\r\n");
    }
    for member in &m {
        let port = member.redis.port;
        wait_for("the keys in every rack", Duration::from_secs(10), || {
            (Resp::connect(port).cmd(&["DBSIZE"]) == b":20\r\n").then_some(())
        });
    }
    assert_eq!(c.cmd(&["FLUSHALL", "SYNC"]), b"+OK\r\n");
    for member in &m {
        let port = member.redis.port;
        wait_for("every rack empty", Duration::from_secs(10), || {
            (Resp::connect(port).cmd(&["DBSIZE"]) == b":0\r\n").then_some(())
        });
    }
}

/// A runaway script replicated to every rack spins on every rack's datastore; `SCRIPT KILL`
/// through another node reaches every one of them, on connections of their own.
#[test]
fn script_kill_ends_a_runaway_script_on_every_rack() {
    let m = three_racks("  timeout: 10000\n");
    for member in &m {
        let mut r = Resp::connect(member.redis.port);
        assert_eq!(
            r.cmd(&["CONFIG", "SET", "busy-reply-threshold", "200"]),
            b"+OK\r\n"
        );
    }
    let mut runner = m[0].node.as_ref().unwrap().client();
    runner.send(&encode_str(&["EVAL", "while true do end", "1", "spin"]));
    for member in &m {
        let port = member.redis.port;
        wait_for(
            "every rack's datastore busy",
            Duration::from_secs(10),
            || {
                s(&Resp::connect(port).cmd(&["PING"]))
                    .starts_with("-BUSY")
                    .then_some(())
            },
        );
    }
    let mut other = m[1].node.as_ref().unwrap().client();
    assert!(s(&other.cmd(&["GET", "x"])).starts_with("-BUSY "));
    assert_eq!(other.cmd(&["SCRIPT", "KILL"]), b"+OK\r\n");
    assert!(s(&runner.read_reply()).contains("Script killed by user"));
    for member in &m {
        let port = member.redis.port;
        wait_for(
            "every rack's datastore free",
            Duration::from_secs(10),
            || (Resp::connect(port).cmd(&["PING"]) == b"+PONG\r\n").then_some(()),
        );
    }
    assert_eq!(other.cmd(&["SET", "x", "1"]), b"+OK\r\n");
    everywhere(&m, &[0, 1, 2], "x", "1");
}

/// `SCRIPT LOAD` reaches every rack's datastore, also behind big writes on the same
/// connection (seen: after ten 5 MB `SET`s through a rack-2 node, rack 1 lacked the script
/// and `EVALSHA` there answered `NOSCRIPT`).
#[test]
fn script_load_reaches_every_rack_behind_big_writes() {
    let m = three_racks("");
    let mut c = m[1].node.as_ref().unwrap().client();
    let big = "x".repeat(5 << 20);
    for i in 0..10 {
        c.send(&encode_str(&["SET", &format!("big{i}"), &big]));
    }
    c.send(&encode_str(&["SCRIPT", "LOAD", "return 'loaded'"]));
    for _ in 0..10 {
        assert_eq!(c.read_reply(), b"+OK\r\n");
    }
    let sha = s(&c.read_reply());
    let sha = sha.lines().nth(1).expect("a sha").to_string();
    assert_eq!(sha.len(), 40, "{sha}");
    for member in &m {
        let port = member.redis.port;
        wait_for("the script in every rack", Duration::from_secs(20), || {
            (Resp::connect(port).cmd(&["SCRIPT", "EXISTS", &sha]) == b"*1\r\n:1\r\n").then_some(())
        });
    }
    for member in &m {
        let mut n = member.node.as_ref().unwrap().client();
        assert_eq!(n.cmd(&["EVALSHA", &sha, "0"]), b"$6\r\nloaded\r\n");
    }
}

/// A replicated script that calls a non-deterministic command is refused before anything
/// runs (each rack would pop its own members); read-only scripts and a lone rack run them.
#[test]
fn nondeterministic_scripts_are_refused_through_a_replicated_cluster() {
    let m = three_racks("");
    let n = m[0].node.as_ref().unwrap();
    let mut c = n.client();
    assert_eq!(c.cmd(&["SADD", "s", "a", "b", "c"]), b":3\r\n");
    let got = s(&c.cmd(&["EVAL", "return redis.call('SPOP', KEYS[1])", "1", "s"]));
    assert!(
        got.starts_with("-ERR the script calls SPOP, whose result each rack's datastore"),
        "{got}"
    );
    assert_eq!(c.cmd(&["SCARD", "s"]), b":3\r\n", "nothing ran");
    let lib = "#!lua name=rnd\nredis.register_function('rk', function() return redis.call('RANDOMKEY') end)";
    let got = s(&c.cmd(&["FUNCTION", "LOAD", lib]));
    assert!(got.starts_with("-ERR the script calls RANDOMKEY"), "{got}");
    let member = s(&c.cmd(&[
        "EVAL_RO",
        "return redis.call('SRANDMEMBER', KEYS[1])",
        "1",
        "s",
    ]));
    assert!(
        member.starts_with("$1\r\n"),
        "a read-only script runs: {member}"
    );
    let ok = c.cmd(&["EVAL", "return redis.call('SCARD', KEYS[1])", "1", "s"]);
    assert_eq!(ok, b":3\r\n");
    let v: serde_json::Value = serde_json::from_str(&http_get(n.stats_port, "/info").1).unwrap();
    assert_eq!(v["script_refusals"].as_u64(), Some(2), "{v}");
    // One rack: nothing to diverge from.
    let (_r, single) = redis_node();
    let mut c = single.client();
    assert_eq!(c.cmd(&["SADD", "s", "a"]), b":1\r\n");
    let popped = c.cmd(&["EVAL", "return redis.call('SPOP', KEYS[1])", "1", "s"]);
    assert_eq!(popped, b"$1\r\na\r\n");
}

/// An `EVALSHA` of a script loaded through the cluster runs on every rack, also where the
/// datastore lost its script cache (a restart): the node sends it as the `EVAL` of its body.
#[test]
fn evalsha_runs_on_a_rack_whose_datastore_lost_the_script() {
    let m = three_racks("");
    let mut c0 = m[0].node.as_ref().unwrap().client();
    let mut c1 = m[1].node.as_ref().unwrap().client();
    let load = s(&c0.cmd(&["SCRIPT", "LOAD", "return redis.call('INCR', KEYS[1])"]));
    let sha = load.lines().nth(1).unwrap().to_string();
    for member in &m {
        let port = member.redis.port;
        wait_for("the script everywhere", Duration::from_secs(10), || {
            (Resp::connect(port).cmd(&["SCRIPT", "EXISTS", &sha]) == b"*1\r\n:1\r\n").then_some(())
        });
    }
    // Rack 3's datastore forgets it, as a restart would.
    assert_eq!(
        Resp::connect(m[2].redis.port).cmd(&["SCRIPT", "FLUSH"]),
        b"+OK\r\n"
    );
    assert_eq!(c0.cmd(&["EVALSHA", &sha, "1", "n"]), b":1\r\n");
    everywhere(&m, &[0, 1, 2], "n", "1");
    // Node 2 learnt the body from node 1's copy of the SCRIPT LOAD; upper case works too.
    assert_eq!(
        c1.cmd(&["EVALSHA", &sha.to_uppercase(), "1", "n"]),
        b":2\r\n"
    );
    everywhere(&m, &[0, 1, 2], "n", "2");
    // Keys and arguments keep their places in the rewritten request.
    let load = s(&c0.cmd(&[
        "SCRIPT",
        "LOAD",
        "return {KEYS[1], KEYS[2], ARGV[1], ARGV[2]}",
    ]));
    let echo = load.lines().nth(1).unwrap().to_string();
    let big = "v".repeat(100_000);
    let got = c0.cmd(&["EVALSHA", &echo, "2", "ka", "kb", "x", &big]);
    assert_eq!(
        s(&got),
        format!("*4\r\n$2\r\nka\r\n$2\r\nkb\r\n$1\r\nx\r\n$100000\r\n{big}\r\n")
    );
    // A non-deterministic script is refused once its body is known.
    let load = s(&c0.cmd(&["SCRIPT", "LOAD", "return redis.call('SPOP', KEYS[1])"]));
    let spop = load.lines().nth(1).unwrap().to_string();
    let got = s(&c0.cmd(&["EVALSHA", &spop, "1", "s"]));
    assert!(got.starts_with("-ERR the script calls SPOP"), "{got}");
    // SCRIPT FLUSH through the cluster: NOSCRIPT, as from one redis-server.
    assert_eq!(c1.cmd(&["SCRIPT", "FLUSH"]), b"+OK\r\n");
    for member in &m {
        let port = member.redis.port;
        wait_for("every cache flushed", Duration::from_secs(10), || {
            (Resp::connect(port).cmd(&["SCRIPT", "EXISTS", &sha]) == b"*1\r\n:0\r\n").then_some(())
        });
    }
    let got = s(&c0.cmd(&["EVALSHA", &sha, "1", "n"]));
    assert!(got.starts_with("-NOSCRIPT"), "{got}");
}

/// At DC_QUORUM, `SCRIPT LOAD` (a write for every node) is answered once a quorum of racks
/// has it; with a rack gone it still is, with two gone it is Dynomite's no-quorum error,
/// and a script that does not compile gets the datastore's own error.
#[test]
fn script_load_is_answered_at_the_write_consistency() {
    let mut m = three_racks("  write_consistency: DC_QUORUM\n");
    let mut c = m[0].node.as_ref().unwrap().client();
    let load = s(&c.cmd(&["SCRIPT", "LOAD", "return 'q1'"]));
    let sha = load.lines().nth(1).expect("a sha").to_string();
    let have = |m: &[Member]| {
        m.iter()
            .filter(|x| {
                Resp::connect(x.redis.port).cmd(&["SCRIPT", "EXISTS", &sha]) == b"*1\r\n:1\r\n"
            })
            .count()
    };
    assert!(
        have(&m) >= 2,
        "a quorum of racks has it when the client hears OK"
    );
    let bad = s(&c.cmd(&["SCRIPT", "LOAD", "return +"]));
    assert!(bad.starts_with("-ERR Error compiling script"), "{bad}");
    drop(m[2].node.take()); // rack 3's node, killed by PID
    let load = s(&c.cmd(&["SCRIPT", "LOAD", "return 'q2'"]));
    assert!(load.starts_with("$40\r\n"), "two racks of three: {load}");
    drop(m[1].node.take());
    let got = s(&c.cmd(&["SCRIPT", "LOAD", "return 'q3'"]));
    assert_eq!(got, "-ERR Dynomite: Failed to achieve Quorum\r\n");
}

/// `XADD ... MAXLEN ~ n` and `XTRIM ... ~`: where `~` cuts depends on each datastore's
/// `stream-node-max-entries`; replicated exact, every rack keeps the same entries.
#[test]
fn approximate_stream_trims_leave_every_rack_the_same() {
    let m = three_racks("");
    for (i, member) in m.iter().enumerate() {
        let per_node = ["100", "4", "7"][i];
        let mut r = Resp::connect(member.redis.port);
        let set = r.cmd(&["CONFIG", "SET", "stream-node-max-entries", per_node]);
        assert_eq!(set, b"+OK\r\n");
    }
    let mut clients: Vec<Resp> = m
        .iter()
        .map(|x| x.node.as_ref().unwrap().client())
        .collect();
    for i in 0..60 {
        let c = &mut clients[i % 3];
        let id = format!("{}-1", i + 1);
        let got = s(&c.cmd(&["XADD", "st", "MAXLEN", "~", "10", &id, "n", &i.to_string()]));
        assert_eq!(got, format!("${}\r\n{id}\r\n", id.len()));
    }
    let mut c = m[1].node.as_ref().unwrap().client();
    assert_eq!(
        c.cmd(&["XTRIM", "st", "MINID", "~", "55-1", "LIMIT", "100"]),
        b":4\r\n"
    );
    let want = s(&Resp::connect(m[0].redis.port).cmd(&["XRANGE", "st", "-", "+"]));
    for member in &m {
        let port = member.redis.port;
        wait_for(
            "every rack's stream the same",
            Duration::from_secs(10),
            || (s(&Resp::connect(port).cmd(&["XRANGE", "st", "-", "+"])) == want).then_some(()),
        );
    }
    assert_eq!(
        Resp::connect(m[2].redis.port).cmd(&["XLEN", "st"]),
        b":6\r\n"
    );
}
