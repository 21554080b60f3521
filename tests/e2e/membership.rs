//! Failure detection and hinted handoff: a dead peer is seen DOWN within `peer_down_after`,
//! writes it misses are kept and replayed, in order, when it is back.

use std::time::{Duration, Instant};

use crate::cluster::{cluster_tokens, three_racks, Member};
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

/// A config for one node (`seeds`: `host:port:rack:dc:token` lines).
fn conf(
    dc: &str,
    rack: &str,
    token: u32,
    ports: (u16, u16, u16),
    backend: &str,
    seeds: &[String],
    extra: &str,
) -> String {
    let (port, dyn_port, stats) = ports;
    let mut seed_lines = String::new();
    for s in seeds {
        seed_lines += &format!("  - {s}\n");
    }
    let seeds_key = if seeds.is_empty() {
        String::new()
    } else {
        format!("  dyn_seeds:\n{seed_lines}")
    };
    format!(
        "dyn_o_mite:\n  datacenter: {dc}\n  rack: {rack}\n  listen: 127.0.0.1:{port}\n  dyn_listen: 127.0.0.1:{dyn_port}\n  stats_listen: 127.0.0.1:{stats}\n  tokens: '{token}'\n  servers:\n  - {backend}:1\n{seeds_key}{extra}"
    )
}

#[test]
fn gossip_spreads_a_new_node_to_every_node() {
    // A, B and C know each other; D knows only A. Gossip makes D known everywhere: B's
    // writes reach D's datastore, and D appears in C's /cluster_describe.
    let gossip = "  enable_gossip: true\n  gos_interval: 100\n";
    let racks = ["rack1", "rack2", "rack3", "rack4"];
    let ports: Vec<(u16, u16, u16)> = (0..4)
        .map(|_| (free_port(), free_port(), free_port()))
        .collect();
    let seed = |i: usize| {
        format!(
            "127.0.0.1:{}:{}:dc1:{}",
            ports[i].1,
            racks[i],
            crate::cluster::ONE_TOKEN
        )
    };
    let mut redis = Vec::new();
    let mut nodes = Vec::new();
    for i in 0..4 {
        let r = Redis::start();
        let seeds: Vec<String> = match i {
            3 => vec![seed(0)],
            _ => (0..3).filter(|&j| j != i).map(seed).collect(),
        };
        let text = conf(
            "dc1",
            racks[i],
            crate::cluster::ONE_TOKEN,
            ports[i],
            &r.addr(),
            &seeds,
            gossip,
        );
        let n = Node::start_conf(&text, ports[i].0, ports[i].2, &[]);
        n.wait_backend();
        redis.push(r);
        nodes.push(n);
    }
    wait_for("D known to C", Duration::from_secs(20), || {
        let d = json(nodes[2].stats_port, "/cluster_describe");
        let racks = d["dcs"][0]["racks"].as_array()?.len();
        (racks == 4).then_some(())
    });
    wait_for("B connected to D", Duration::from_secs(20), || {
        (json(nodes[1].stats_port, "/info")["dyn_o_mite"]["peer_connections"].as_u64() == Some(3))
            .then_some(())
    });
    let mut c = nodes[1].client();
    assert_eq!(c.cmd(&["SET", "via-b", "1"]), b"+OK\r\n");
    let port_d = redis[3].port;
    wait_for("B's write on D", Duration::from_secs(10), || {
        (Resp::connect(port_d).cmd(&["GET", "via-b"]) == b"$1\r\n1\r\n").then_some(())
    });
    assert!(
        nodes[1].log_text().contains("joined (gossip)"),
        "{}",
        nodes[1].log_text()
    );
}

#[test]
fn a_frozen_peer_is_down_by_its_silent_heartbeat_and_reads_go_around_it() {
    // rack1 has two nodes; its second freezes (SIGSTOP: its sockets still accept). Its
    // gossip heartbeat stops, it is seen DOWN, and reads of its keys are served by rack2.
    let layout = [
        ("dc1", "rack1", 1383429731u32),
        ("dc1", "rack1", 3530913378),
        ("dc1", "rack2", 1383429731),
        ("dc1", "rack2", 3530913378),
    ];
    let extra =
        "  enable_gossip: true\n  gos_interval: 100\n  peer_down_after: 1000\n  timeout: 1000\n";
    let m = cluster_tokens(&layout, extra, &vec![String::new(); 4], 0);
    let stats0 = node(&m, 0).stats_port;
    let mut c = node(&m, 0).client();
    // A key member 1 owns.
    let mut key = None;
    for i in 0..100 {
        let k = format!("f{i}");
        assert_eq!(c.cmd(&["SET", &k, "v"]), b"+OK\r\n");
        let on1 = wait_for("the write on rack1", Duration::from_secs(5), || {
            let a = Resp::connect(m[0].redis.port).cmd(&["EXISTS", &k]) == b":1\r\n";
            let b = Resp::connect(m[1].redis.port).cmd(&["EXISTS", &k]) == b":1\r\n";
            (a || b).then_some(b)
        });
        if on1 {
            key = Some(k);
            break;
        }
    }
    let key = key.expect("a key on member 1");
    let rack = |d: &serde_json::Value| -> String {
        d["dcs"][0]["racks"][0]["servers"][1]["state"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(rack(&json(stats0, "/cluster_describe")), "NORMAL");
    m[1].node.as_ref().unwrap().proc.signal(libc::SIGSTOP);
    let t0 = Instant::now();
    wait_for("member 1 seen DOWN", Duration::from_secs(15), || {
        (rack(&json(stats0, "/cluster_describe")) == "DOWN").then_some(())
    });
    let took = t0.elapsed();
    assert_eq!(c.cmd(&["GET", &key]), b"$1\r\nv\r\n");
    m[1].node.as_ref().unwrap().proc.signal(libc::SIGCONT);
    assert!(took < Duration::from_secs(8), "DOWN after {took:?}");
    wait_for("member 1 NORMAL again", Duration::from_secs(20), || {
        (rack(&json(stats0, "/cluster_describe")) == "NORMAL").then_some(())
    });
    assert!(
        node(&m, 0).log_text().contains("no gossip heartbeat"),
        "{}",
        node(&m, 0).log_text()
    );
}

/// A tiny HTTP server answering every request with the current seed list (Florida's
/// `get_seeds`). Bounded: it serves until the test drops `stop`.
struct Florida {
    port: u16,
    list: std::sync::Arc<std::sync::Mutex<String>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Florida {
    fn start(list: &str) -> Florida {
        use std::io::{Read, Write};
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let port = l.local_addr().unwrap().port();
        let list = std::sync::Arc::new(std::sync::Mutex::new(list.to_string()));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (l2, s2) = (list.clone(), stop.clone());
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(120);
            while !s2.load(std::sync::atomic::Ordering::Relaxed) && Instant::now() < deadline {
                match l.accept() {
                    Ok((mut c, _)) => {
                        c.set_nonblocking(false).unwrap();
                        c.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
                        let mut req = [0u8; 1024];
                        let _ = c.read(&mut req);
                        let body = l2.lock().unwrap().clone();
                        let _ = write!(
                            c,
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                            body.len()
                        );
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Florida { port, list, stop }
    }

    fn set(&self, list: &str) {
        *self.list.lock().unwrap() = list.to_string();
    }
}

impl Drop for Florida {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

#[test]
fn a_replacement_node_is_adopted_through_the_seed_provider() {
    // Two racks learn each other from Florida. rack2's machine is replaced by one on a new
    // address with the same token: once the list says so, rack1 sends its writes there.
    let token = crate::cluster::ONE_TOKEN;
    let ports: Vec<(u16, u16, u16)> = (0..3)
        .map(|_| (free_port(), free_port(), free_port()))
        .collect();
    let entry = |i: usize, rack: &str| format!("127.0.0.1:{}:{rack}:dc1:{token}", ports[i].1);
    let florida = Florida::start(&format!("{}|{}", entry(0, "rack1"), entry(1, "rack2")));
    let envs = [
        ("DYNOMITE_FLORIDA_IP", "127.0.0.1".to_string()),
        ("DYNOMITE_FLORIDA_PORT", florida.port.to_string()),
        ("DYNOMITE_SEEDS_INTERVAL_MS", "200".to_string()),
    ];
    let extra = "  dyn_seed_provider: florida_provider\n";
    let start = |i: usize, rack: &str, r: &Redis| {
        let text = conf("dc1", rack, token, ports[i], &r.addr(), &[], extra);
        let n = Node::start_conf_env(&text, ports[i].0, ports[i].2, &[], &envs);
        n.wait_backend();
        n
    };
    let redis: Vec<Redis> = (0..3).map(|_| Redis::start()).collect();
    let a = start(0, "rack1", &redis[0]);
    let b = start(1, "rack2", &redis[1]);
    wait_for("rack1 connected to rack2", Duration::from_secs(20), || {
        (json(a.stats_port, "/info")["dyn_o_mite"]["peer_connections"].as_u64() == Some(1))
            .then_some(())
    });
    let mut c = a.client();
    assert_eq!(c.cmd(&["SET", "k1", "v1"]), b"+OK\r\n");
    let p1 = redis[1].port;
    wait_for("k1 on rack2", Duration::from_secs(10), || {
        (Resp::connect(p1).cmd(&["GET", "k1"]) == b"$2\r\nv1\r\n").then_some(())
    });
    // The replacement: same rack and token, a new address.
    drop(b);
    let b2 = start(2, "rack2", &redis[2]);
    florida.set(&format!("{}|{}", entry(0, "rack1"), entry(2, "rack2")));
    wait_for(
        "rack1 connected to the replacement",
        Duration::from_secs(20),
        || {
            let d = json(a.stats_port, "/cluster_describe");
            let port = d["dcs"][0]["racks"][1]["servers"][0]["port"].as_u64()?;
            let up =
                json(a.stats_port, "/info")["dyn_o_mite"]["peer_connections"].as_u64() == Some(1);
            (port == u64::from(ports[2].1) && up).then_some(())
        },
    );
    assert_eq!(c.cmd(&["SET", "k2", "v2"]), b"+OK\r\n");
    let p2 = redis[2].port;
    wait_for("k2 on the replacement", Duration::from_secs(10), || {
        (Resp::connect(p2).cmd(&["GET", "k2"]) == b"$2\r\nv2\r\n").then_some(())
    });
    assert!(a.log_text().contains("moved from"), "{}", a.log_text());
    drop(b2);
}

#[test]
fn sighup_reloads_seeds_and_consistency_and_keeps_a_bad_file_out() {
    let m = three_racks("");
    // A second cluster's worth of node: rack4, known to nobody yet, knowing rack1.
    let (port, dyn_port, stats) = (free_port(), free_port(), free_port());
    let r4 = Redis::start();
    let a_text = std::fs::read_to_string(node(&m, 0).conf_path()).unwrap();
    let dyn1 = a_text
        .lines()
        .find_map(|l| l.trim().strip_prefix("dyn_listen: 127.0.0.1:"))
        .unwrap()
        .to_string();
    let text4 = conf(
        "dc1",
        "rack4",
        crate::cluster::ONE_TOKEN,
        (port, dyn_port, stats),
        &r4.addr(),
        &[format!(
            "127.0.0.1:{dyn1}:rack1:dc1:{}",
            crate::cluster::ONE_TOKEN
        )],
        "",
    );
    let n4 = Node::start_conf(&text4, port, stats, &[]);
    n4.wait_backend();
    // rack1 learns rack4 from its file, and the levels change.
    let a = node(&m, 0);
    let with4 = a_text.replace(
        "  dyn_seeds:\n",
        &format!(
            "  dyn_seeds:\n  - 127.0.0.1:{dyn_port}:rack4:dc1:{}\n",
            crate::cluster::ONE_TOKEN
        ),
    ) + "  write_consistency: DC_QUORUM\n  log_level: 7\n";
    std::fs::write(a.conf_path(), &with4).unwrap();
    a.proc.signal(libc::SIGHUP);
    wait_for("rack1 connected to rack4", Duration::from_secs(20), || {
        (json(a.stats_port, "/info")["dyn_o_mite"]["peer_connections"].as_u64() == Some(3))
            .then_some(())
    });
    assert_eq!(
        json(a.stats_port, "/info")["write_consistency"],
        "DC_QUORUM"
    );
    let mut c = a.client();
    assert_eq!(c.cmd(&["SET", "reloaded", "1"]), b"+OK\r\n");
    let p4 = r4.port;
    wait_for("the write on rack4", Duration::from_secs(10), || {
        (Resp::connect(p4).cmd(&["GET", "reloaded"]) == b"$1\r\n1\r\n").then_some(())
    });
    // rack3's seed removed from the file: rack1 no longer sends it anything.
    let dyn3 = std::fs::read_to_string(node(&m, 2).conf_path())
        .unwrap()
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("dyn_listen: 127.0.0.1:")
                .map(str::to_string)
        })
        .unwrap();
    let without3: String = with4
        .lines()
        .filter(|l| !l.contains(&format!(":{dyn3}:rack3:")))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(without3, with4, "rack3's seed line found");
    std::fs::write(a.conf_path(), &without3).unwrap();
    a.proc.signal(libc::SIGHUP);
    wait_for(
        "rack3 out of rack1's rings",
        Duration::from_secs(10),
        || {
            let racks = json(a.stats_port, "/cluster_describe")["dcs"][0]["racks"]
                .as_array()?
                .iter()
                .map(|r| r["name"].as_str().unwrap_or("").to_string())
                .collect::<Vec<_>>();
            (racks == ["rack1", "rack2", "rack4"]).then_some(())
        },
    );
    assert_eq!(c.cmd(&["SET", "after-removal", "1"]), b"+OK\r\n");
    wait_for("the write on rack4", Duration::from_secs(10), || {
        (Resp::connect(p4).cmd(&["GET", "after-removal"]) == b"$1\r\n1\r\n").then_some(())
    });
    assert_eq!(
        Resp::connect(m[2].redis.port).cmd(&["EXISTS", "after-removal"]),
        b":0\r\n"
    );
    let with4 = without3;
    // A token change needs a restart: reported, the running value kept.
    std::fs::write(
        a.conf_path(),
        with4.replace("tokens: '1383429731'", "tokens: '7'"),
    )
    .unwrap();
    a.proc.signal(libc::SIGHUP);
    wait_for("the restart warning", Duration::from_secs(10), || {
        a.log_text()
            .contains("applied only at a restart (running values kept): tokens")
            .then_some(())
    });
    // A broken file is rejected; the node keeps serving with what it runs.
    std::fs::write(a.conf_path(), "dyn_o_mite:\n  listen: nonsense\n").unwrap();
    a.proc.signal(libc::SIGHUP);
    wait_for("the rejection", Duration::from_secs(10), || {
        a.log_text()
            .contains("does not load; the running config stays")
            .then_some(())
    });
    assert_eq!(c.cmd(&["GET", "reloaded"]), b"$1\r\n1\r\n");
    assert_eq!(
        json(a.stats_port, "/info")["write_consistency"],
        "DC_QUORUM"
    );
}

/// A TCP relay from a local port to `to`, keeping every byte that passes (both ways).
struct Tap {
    port: u16,
    seen: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

impl Tap {
    fn start(to: u16) -> Tap {
        use std::io::{Read, Write};
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let s2 = seen.clone();
        std::thread::spawn(move || {
            // Relays until the test process ends; each side's thread ends with its socket.
            for c in l.incoming().take(16) {
                let Ok(a) = c else { return };
                let Ok(b) = std::net::TcpStream::connect(("127.0.0.1", to)) else {
                    continue;
                };
                for (mut from, mut into) in
                    [(a.try_clone().unwrap(), b.try_clone().unwrap()), (b, a)]
                {
                    let seen = s2.clone();
                    std::thread::spawn(move || {
                        let mut buf = [0u8; 16384];
                        loop {
                            match from.read(&mut buf) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => {
                                    seen.lock().unwrap().extend_from_slice(&buf[..n]);
                                    if into.write_all(&buf[..n]).is_err() {
                                        break;
                                    }
                                }
                            }
                        }
                        let _ = into.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        Tap { port, seen }
    }

    fn bytes(&self) -> Vec<u8> {
        self.seen.lock().unwrap().clone()
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn encrypted_links_between_datacenters() {
    // dc1 and dc2 with secure_server_option: datacenter and one shared key file. The link
    // between the DCs goes through a tap: the write arrives, and the tap saw no plaintext.
    // A dc2 node with another key file is refused.
    let dir = TempDir::new("tls");
    let key = dir.path().join("dynomite.pem");
    std::fs::write(&key, "-----BEGIN RSA PRIVATE KEY-----\nc2hhcmVkIGNsdXN0ZXIga2V5\n-----END RSA PRIVATE KEY-----\n").unwrap();
    let other = dir.path().join("other.pem");
    std::fs::write(
        &other,
        "-----BEGIN RSA PRIVATE KEY-----\nYW5vdGhlciBrZXk=\n-----END RSA PRIVATE KEY-----\n",
    )
    .unwrap();
    let token = crate::cluster::ONE_TOKEN;
    let ports: Vec<(u16, u16, u16)> = (0..3)
        .map(|_| (free_port(), free_port(), free_port()))
        .collect();
    let tap = Tap::start(ports[1].1);
    let secure = |k: &std::path::Path| {
        format!(
            "  secure_server_option: datacenter\n  pem_key_file: {}\n",
            k.display()
        )
    };
    let redis: Vec<Redis> = (0..3).map(|_| Redis::start()).collect();
    // dc1 reaches dc2's node through the tap, and the intruder directly.
    let a = Node::start_conf(
        &conf(
            "dc1",
            "rack1",
            token,
            ports[0],
            &redis[0].addr(),
            &[
                format!("127.0.0.1:{}:rack1:dc2:{token}", tap.port),
                format!("127.0.0.1:{}:rack2:dc2:{token}", ports[2].1),
            ],
            &secure(&key),
        ),
        ports[0].0,
        ports[0].2,
        &[],
    );
    let b = Node::start_conf(
        &conf(
            "dc2",
            "rack1",
            token,
            ports[1],
            &redis[1].addr(),
            &[format!("127.0.0.1:{}:rack1:dc1:{token}", ports[0].1)],
            &secure(&key),
        ),
        ports[1].0,
        ports[1].2,
        &[],
    );
    let intruder = Node::start_conf(
        &conf(
            "dc2",
            "rack2",
            token,
            ports[2],
            &redis[2].addr(),
            &[format!("127.0.0.1:{}:rack1:dc1:{token}", ports[0].1)],
            &secure(&other),
        ),
        ports[2].0,
        ports[2].2,
        &[],
    );
    for n in [&a, &b, &intruder] {
        n.wait_backend();
    }
    assert!(a
        .log_text()
        .contains("peer links encrypted (datacenter) with TLS 1.3"));
    let mut c = a.client();
    let secret_value = "plaintext-value-7f3a9c";
    assert_eq!(c.cmd(&["SET", "secret-key-4b1e", secret_value]), b"+OK\r\n");
    let pb = redis[1].port;
    wait_for("the write in dc2", Duration::from_secs(20), || {
        (Resp::connect(pb).cmd(&["GET", "secret-key-4b1e"])
            == format!("${}\r\n{secret_value}\r\n", secret_value.len()).as_bytes())
        .then_some(())
    });
    // A load through the encrypted link: 3,000 pipelined writes of 1 KiB, all delivered.
    let big = "x".repeat(1024);
    let keys: Vec<String> = (0..3000).map(|i| format!("tls{i}")).collect();
    for chunk in keys.chunks(500) {
        let cmds: Vec<Vec<&str>> = chunk
            .iter()
            .map(|k| vec!["SET", k.as_str(), big.as_str()])
            .collect();
        for r in c.pipeline(&cmds) {
            assert_eq!(r, b"+OK\r\n");
        }
    }
    wait_for("3,000 writes in dc2", Duration::from_secs(30), || {
        (Resp::connect(pb).cmd(&["DBSIZE"]) == b":3001\r\n").then_some(())
    });
    let seen = tap.bytes();
    assert!(seen.len() > 3_000_000, "the tap saw {} bytes", seen.len());
    assert!(
        !contains(&seen, &big.as_bytes()[..64]),
        "a value in the clear"
    );
    assert!(!contains(&seen, b"secret-key-4b1e") && !contains(&seen, secret_value.as_bytes()));
    assert!(!contains(&seen, b"$2014$"), "dnode headers in the clear");
    // The intruder never gets the write, and dc1 counts its refused handshakes.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        Resp::connect(redis[2].port).cmd(&["EXISTS", "secret-key-4b1e"]),
        b":0\r\n"
    );
    let v = json(a.stats_port, "/info");
    assert!(v["dyn_o_mite"]["peer_err"].as_u64() >= Some(1), "{v}");
    assert!(a.log_text().contains("TLS"), "{}", a.log_text());
}

#[test]
fn hints_older_than_hints_max_age_are_dropped_not_replayed() {
    let mut m = three_racks("  peer_down_after: 500\n  hints_max_age: 1500\n");
    let stats0 = node(&m, 0).stats_port;
    m[2].node.as_mut().unwrap().proc.kill();
    wait_for("rack3 seen DOWN", Duration::from_secs(10), || {
        (seen(&json(stats0, "/cluster_describe"), "rack3").0 == "DOWN").then_some(())
    });
    let mut c = node(&m, 0).client();
    write_keys(&mut c, "old", 200);
    let age = json(stats0, "/info")["hints_oldest_age_ms"]
        .as_u64()
        .unwrap();
    assert!(age < 1500, "{age}");
    std::thread::sleep(Duration::from_millis(2000));
    write_keys(&mut c, "new", 50);
    let info = json(stats0, "/info");
    assert_eq!(
        (
            &info["hints"],
            &info["hints_expired"],
            &info["hints_dropped"]
        ),
        (&50.into(), &200.into(), &200.into()),
        "{info}"
    );
    let metrics = http_get(stats0, "/metrics").1;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("dynomite_hints_oldest_age_ms")),
        "{metrics}"
    );
    m[2].node.as_mut().unwrap().restart();
    let port3 = m[2].redis.port;
    wait_for(
        "the recent writes on rack3",
        Duration::from_secs(30),
        || (Resp::connect(port3).cmd(&["DBSIZE"]) == b":50\r\n").then_some(()),
    );
    assert_eq!(Resp::connect(port3).cmd(&["EXISTS", "old0"]), b":0\r\n");
    assert_eq!(seen(&json(stats0, "/cluster_describe"), "rack3").2, 200);
    assert!(node(&m, 0).log_text().contains("older than hints_max_age"));
}

/// A peer that comes back is reached at once, not when our back-off (grown to seconds while
/// it was away) runs out: its connection to us says it is up. Its missed writes follow.
#[test]
fn a_returning_peer_is_reconnected_at_once_and_caught_up() {
    let mut m = three_racks("  peer_down_after: 500\n");
    let stats0 = node(&m, 0).stats_port;
    m[2].node.as_mut().unwrap().proc.kill();
    wait_for("rack3 seen DOWN", Duration::from_secs(10), || {
        (seen(&json(stats0, "/cluster_describe"), "rack3").0 == "DOWN").then_some(())
    });
    let mut c = node(&m, 0).client();
    write_keys(&mut c, "f", 2000);
    // Failed reconnects every 1, 2, 4 s: the next one is 8 s away.
    std::thread::sleep(Duration::from_secs(7));
    m[2].node.as_mut().unwrap().restart();
    let port3 = m[2].redis.port;
    let t = Instant::now();
    wait_for("rack3 caught up", Duration::from_secs(30), || {
        (Resp::connect(port3).cmd(&["DBSIZE"]) == b":2000\r\n").then_some(())
    });
    // Well before the back-off would have let us try again (generous for a slow machine).
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
}

/// The hints files of a node in `dir` (one per peer it keeps writes for).
fn hint_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    v.sort();
    v
}

/// Three racks keeping hints in `dir`; rack 3's node killed and seen DOWN, then `n` writes
/// (`prefix0`...) through rack 1's node, which keeps them for rack 3.
fn hinted_through_rack1(dir: &TempDir, fsync: &str, prefix: &str, n: usize) -> Vec<Member> {
    let extra = format!(
        "  peer_down_after: 500\n  hints_dir: {}\n  hints_fsync: {fsync}\n",
        dir.path().display()
    );
    let mut m = three_racks(&extra);
    let stats0 = node(&m, 0).stats_port;
    m[2].node.as_mut().unwrap().proc.kill();
    wait_for("rack3 seen DOWN", Duration::from_secs(10), || {
        (seen(&json(stats0, "/cluster_describe"), "rack3").0 == "DOWN").then_some(())
    });
    write_keys(&mut node(&m, 0).client(), prefix, n);
    m
}

#[test]
fn hints_in_hints_dir_survive_a_kill_9_of_the_coordinator() {
    let dir = TempDir::new("hints");
    let mut m = hinted_through_rack1(&dir, "never", "d", 10_000);
    // The coordinator dies holding them (SIGKILL), and comes back.
    m[0].node.as_mut().unwrap().restart();
    node(&m, 0).wait_backend();
    assert!(node(&m, 0).log_text().contains("10000 writes to replay"));
    m[2].node.as_mut().unwrap().restart();
    let port3 = m[2].redis.port;
    wait_for("every kept write on rack3", Duration::from_secs(30), || {
        (Resp::connect(port3).cmd(&["DBSIZE"]) == b":10000\r\n").then_some(())
    });
    // Replayed: the file is back to its header.
    wait_for("the hints file emptied", Duration::from_secs(10), || {
        let files = hint_files(dir.path());
        files
            .iter()
            .all(|f| std::fs::metadata(f).unwrap().len() == 8)
            .then_some(())
    });
}

#[test]
fn a_hints_file_is_emptied_only_once_the_peer_answered_the_replays() {
    let dir = TempDir::new("hints");
    let mut m = hinted_through_rack1(&dir, "always", "q", 500);
    let files = hint_files(dir.path());
    assert_eq!(files.len(), 1, "{files:?}");
    let size = || std::fs::metadata(&files[0]).unwrap().len();
    assert!(size() > 8);
    // The peer comes back with its datastore frozen: it takes the replays, answers none.
    m[2].redis.proc.signal(libc::SIGSTOP);
    m[2].node.as_mut().unwrap().restart();
    let stats0 = node(&m, 0).stats_port;
    wait_for("every hint sent", Duration::from_secs(10), || {
        (json(stats0, "/info")["hints"] == 0).then_some(())
    });
    std::thread::sleep(Duration::from_millis(500));
    assert!(size() > 8, "emptied before the peer answered");
    m[2].redis.proc.signal(libc::SIGCONT);
    let port3 = m[2].redis.port;
    wait_for("every kept write on rack3", Duration::from_secs(10), || {
        (Resp::connect(port3).cmd(&["DBSIZE"]) == b":500\r\n").then_some(())
    });
    wait_for(
        "the file emptied once answered",
        Duration::from_secs(10),
        || (size() == 8).then_some(()),
    );
}

#[test]
fn a_damaged_hints_file_replays_its_intact_prefix() {
    let dir = TempDir::new("hints");
    let mut m = hinted_through_rack1(&dir, "always", "t", 100);
    m[0].node.as_mut().unwrap().proc.kill();
    // A torn last frame, as a crash in the middle of an append leaves it.
    let files = hint_files(dir.path());
    assert_eq!(files.len(), 1, "{files:?}");
    let len = std::fs::metadata(&files[0]).unwrap().len();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&files[0])
        .unwrap();
    f.set_len(len - 3).unwrap();
    drop(f);
    m[0].node.as_mut().unwrap().restart();
    node(&m, 0).wait_backend();
    let log = node(&m, 0).log_text();
    assert!(log.contains("damaged at byte offset"), "{log}");
    assert!(
        log.contains("the 99 writes before it are replayed"),
        "{log}"
    );
    m[2].node.as_mut().unwrap().restart();
    let port3 = m[2].redis.port;
    wait_for(
        "the intact prefix on rack3",
        Duration::from_secs(30),
        || (Resp::connect(port3).cmd(&["DBSIZE"]) == b":99\r\n").then_some(()),
    );
    assert_eq!(Resp::connect(port3).cmd(&["EXISTS", "t99"]), b":0\r\n");
}

/// The churn, CI-sized: two writers through racks 1 and 3 while rack 2's node is
/// killed and restarted five times; soon after the end rack 2 holds every acknowledged write.
#[test]
fn a_flapping_rack_ends_with_every_acknowledged_write() {
    let dir = TempDir::new("hints");
    let extra = format!(
        "  peer_down_after: 300\n  hints_dir: {}\n",
        dir.path().display()
    );
    let mut m = three_racks(&extra);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ports = [node(&m, 0).port, node(&m, 2).port];
    let writers = set_writers(&ports, "w", 200_000, Duration::ZERO, &stop);
    for _ in 0..5 {
        std::thread::sleep(Duration::from_millis(800));
        m[1].node.as_mut().unwrap().proc.kill();
        std::thread::sleep(Duration::from_millis(800));
        m[1].node.as_mut().unwrap().restart();
    }
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let acked: usize = writers.into_iter().map(|w| w.join().unwrap()).sum();
    assert!(acked > 1000, "{acked}");
    eprintln!("{acked} writes acknowledged");
    let port2 = m[1].redis.port;
    let want = format!(":{acked}\r\n");
    wait_for(
        "every acknowledged write on rack 2",
        Duration::from_secs(10),
        || (Resp::connect(port2).cmd(&["DBSIZE"]) == want.as_bytes()).then_some(()),
    );
    for (i, stats) in [(0, node(&m, 0).stats_port), (2, node(&m, 2).stats_port)] {
        let info = json(stats, "/info");
        assert_eq!(info["hints_dropped"], 0, "node {i}: {info}");
    }
}
