//! What misbehaving clients and hostile bytes can make a node do: bounded buffer memory,
//! the client limit, request caps, hostile bytes on every port.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::util::*;

/// The node's resident memory, in bytes.
fn rss(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<u64>()
        .unwrap()
        * 1024
}

fn info(n: &Node) -> serde_json::Value {
    serde_json::from_str(&http_get(n.stats_port, "/info").1).unwrap()
}

fn figure(n: &Node, name: &str) -> u64 {
    info(n)[name]
        .as_u64()
        .unwrap_or_else(|| panic!("{name} missing from /info"))
}

/// A client that pipelines `gets` GETs of `key` and reads nothing, with a small receive
/// buffer so the kernel holds little of what it is sent.
fn slow_reader(port: u16, key: &str, gets: usize) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    nix::sys::socket::setsockopt(&s, nix::sys::socket::sockopt::RcvBuf, &4096).unwrap();
    let one = encode_str(&["GET", key]);
    s.try_clone().unwrap().write_all(&one.repeat(gets)).unwrap();
    s
}

#[test]
fn slow_readers_neither_stall_other_clients_nor_hold_memory_past_the_budget() {
    const BUDGET: u64 = 64 << 20;
    let redis = Redis::start();
    let node = Node::start(&redis.addr(), 0, "  max_buffer_memory: 64mb\n");
    node.wait_backend();
    let pid = node.proc.pid();
    let mut c = node.client();
    let big = "x".repeat(1 << 20);
    assert_eq!(c.cmd(&["SET", "big", &big]), b"+OK\r\n");
    assert_eq!(figure(&node, "max_buffer_memory"), BUDGET);
    let idle = rss(pid);
    // 50 clients ask for 400 MiB each and read nothing.
    let slow: Vec<TcpStream> = (0..50)
        .map(|_| slow_reader(node.port, "big", 400))
        .collect();
    let (mut lat, mut peak) = (Vec::new(), 0);
    let start = Instant::now();
    let mut i = 0;
    while start.elapsed() < Duration::from_secs(3) && i < 20_000 {
        let t = Instant::now();
        let (k, v) = (format!("k{i}"), format!("v{i}"));
        assert_eq!(c.cmd(&["SET", &k, &v]), b"+OK\r\n");
        assert_eq!(s(&c.cmd(&["GET", &k])), format!("${}\r\n{v}\r\n", v.len()));
        lat.push(t.elapsed());
        if i % 20 == 0 {
            peak = peak.max(rss(pid));
        }
        i += 1;
        std::thread::sleep(Duration::from_millis(2));
    }
    lat.sort();
    let (p95, max) = (lat[lat.len() * 95 / 100], lat[lat.len() - 1]);
    eprintln!(
        "{} SET+GET pairs beside 50 slow readers: p95 {p95:?}, max {max:?}; RSS idle {} MiB, peak {} MiB",
        lat.len(),
        idle >> 20,
        peak >> 20
    );
    assert!(max < Duration::from_secs(1), "a request waited {max:?}");
    assert!(
        peak < BUDGET + (24 << 20),
        "RSS peaked at {} MiB with a budget of 64 MiB",
        peak >> 20
    );
    let paused = figure(&node, "clients_paused_memory");
    let closed = figure(&node, "clients_closed_memory");
    assert!(paused + closed > 0, "the budget never acted");
    assert!(node.log_text().contains("over max_buffer_memory") || closed == 0);
    drop(slow);
    // Once they are gone, the buffers are free and their storage goes back to the system.
    wait_for("RSS back near idle", Duration::from_secs(10), || {
        (rss(pid) < 2 * idle && figure(&node, "buffer_memory") < 1 << 20).then_some(())
    });
    assert!(figure(&node, "buffer_memory_released") > 0);
    assert_eq!(c.cmd(&["GET", "k0"]), b"$2\r\nv0\r\n");
}

/// Read what the node answers until it closes the connection (or `limit` passes).
fn read_to_close(s: &mut TcpStream, limit: Duration) -> Vec<u8> {
    s.set_read_timeout(Some(limit)).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            // Closed with bytes of ours unread: the kernel resets instead of a FIN.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return out,
            Err(e) => panic!("connection not closed ({e}); read {:?}", s_lossy(&out)),
        }
    }
}

fn s_lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn client_connections_is_the_client_limit() {
    let redis = Redis::start();
    let node = Node::start(&redis.addr(), 0, "  client_connections: 3\n");
    node.wait_backend();
    let mut held: Vec<Resp> = (0..3).map(|_| node.client()).collect();
    for c in &mut held {
        assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
    }
    let mut over = TcpStream::connect(("127.0.0.1", node.port)).unwrap();
    assert_eq!(
        s_lossy(&read_to_close(&mut over, Duration::from_secs(5))),
        "-ERR max number of clients reached\r\n"
    );
    assert_eq!(figure(&node, "clients_rejected"), 1);
    // One leaves: the next one is served.
    drop(held.pop());
    wait_for("a client slot frees", Duration::from_secs(5), || {
        let mut c = Resp::try_connect(node.port)?;
        (c.cmd(&["PING"]) == b"+PONG\r\n").then_some(())
    });
    assert_eq!(held[0].cmd(&["SET", "a", "1"]), b"+OK\r\n");
}

#[test]
fn requests_over_a_cap_get_the_error_and_their_connection_closes() {
    let redis = Redis::start();
    let node = Node::start(
        &redis.addr(),
        0,
        "  max_multibulk_len: 100\n  client_query_buffer_limit: 1mb\n",
    );
    node.wait_backend();
    let refused = |bytes: &[u8]| {
        let mut c = TcpStream::connect(("127.0.0.1", node.port)).unwrap();
        // A request in front of the bad one is answered first.
        c.write_all(b"*1\r\n$4\r\nPING\r\n").unwrap();
        c.write_all(bytes).unwrap();
        s_lossy(&read_to_close(&mut c, Duration::from_secs(5)))
    };
    assert_eq!(
        refused(b"*101\r\n$3\r\nDEL\r\n"),
        "+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n"
    );
    // A 2 MiB value: refused once 1 MiB has arrived, the rest never read.
    let mut big = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2097152\r\n".to_vec();
    big.extend(std::iter::repeat_n(b'x', 1 << 20));
    big.extend_from_slice(&[b'x'; 64 << 10]);
    assert_eq!(
        refused(&big),
        "+PONG\r\n-ERR Protocol error: request over client_query_buffer_limit\r\n"
    );
    let mut c = node.client();
    let mut del = vec!["DEL"];
    let keys: Vec<String> = (0..99).map(|i| format!("k{i}")).collect();
    del.extend(keys.iter().map(|k| k.as_str()));
    assert_eq!(c.cmd(&del), b":0\r\n", "100 arguments are within the cap");
    assert_eq!(figure(&node, "requests_over_limits"), 2);
    assert_eq!(Resp::connect(redis.port).cmd(&["EXISTS", "k"]), b":0\r\n");
}

#[test]
fn before_auth_requests_are_held_to_redis_limits() {
    let redis = Redis::start();
    let node = Node::start(&redis.addr(), 0, "  requirepass: sesame\n");
    wait_for("the datastore connection", Duration::from_secs(10), || {
        let mut c = Resp::try_connect(node.port)?;
        c.cmd(&["AUTH", "sesame"]);
        (!c.cmd(&["GET", "__probe__"]).starts_with(b"-")).then_some(())
    });
    let mut c = TcpStream::connect(("127.0.0.1", node.port)).unwrap();
    c.write_all(b"*11\r\n$3\r\nDEL\r\n").unwrap();
    assert_eq!(
        s_lossy(&read_to_close(&mut c, Duration::from_secs(5))),
        "-ERR Protocol error: unauthenticated multibulk length\r\n"
    );
    let mut c = TcpStream::connect(("127.0.0.1", node.port)).unwrap();
    c.write_all(b"*2\r\n$4\r\nAUTH\r\n$20000\r\n").unwrap();
    c.write_all(&[b'x'; 20000]).unwrap();
    assert_eq!(
        s_lossy(&read_to_close(&mut c, Duration::from_secs(5))),
        "-ERR Protocol error: unauthenticated bulk length\r\n"
    );
    // Once authenticated, the same requests are fine.
    let mut ok = node.client();
    assert_eq!(ok.cmd(&["AUTH", "sesame"]), b"+OK\r\n");
    let mut del = vec!["DEL"];
    let keys: Vec<String> = (0..10).map(|i| format!("k{i}")).collect();
    del.extend(keys.iter().map(|k| k.as_str()));
    assert_eq!(ok.cmd(&del), b":0\r\n");
    assert_eq!(figure(&node, "requests_over_limits"), 2);
}

/// A node whose peer port is known (no seeds), with extra config lines.
fn node_with_peer_port(redis: &Redis, extra: &str) -> (Node, u16) {
    let (port, dyn_port, stats) = (free_port(), free_port(), free_port());
    let text = format!(
        "dyn_o_mite:\n  listen: 127.0.0.1:{port}\n  dyn_listen: 127.0.0.1:{dyn_port}\n  stats_listen: 127.0.0.1:{stats}\n  servers:\n  - {}:1\n  tokens: '1383429731'\n  data_store: 0\n{extra}",
        redis.addr()
    );
    let node = Node::start_conf(&text, port, stats, &[]);
    node.wait_backend();
    (node, dyn_port)
}

fn frame(ty: dynomite::peer::MsgType, payload: &[u8], announced: usize) -> Vec<u8> {
    let mut b = Vec::new();
    dynomite::peer::write_header(&mut b, 7, ty, 0, true, announced);
    b.extend_from_slice(payload);
    b
}

#[test]
fn a_peer_frame_whose_payload_is_not_what_it_announced_closes_the_peer() {
    use dynomite::peer::MsgType;
    let redis = Redis::start();
    let (node, dyn_port) = node_with_peer_port(&redis, "");
    let ping = b"*1\r\n$4\r\nPING\r\n";
    // Announced right, or not at all (Dynomite's own test script sends 0): answered.
    for announced in [ping.len(), 0] {
        let mut p = TcpStream::connect(("127.0.0.1", dyn_port)).unwrap();
        p.write_all(&frame(MsgType::Req, ping, announced)).unwrap();
        p.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 256];
        let n = p.read(&mut buf).unwrap();
        assert!(
            s_lossy(&buf[..n]).ends_with("+PONG\r\n"),
            "{:?}",
            s_lossy(&buf[..n])
        );
    }
    // A payload longer or shorter than announced, bytes that are no frame, a payload the
    // parser cannot frame: each closes the connection, counted.
    let bad: [Vec<u8>; 4] = [
        frame(MsgType::Req, ping, 5),
        frame(
            MsgType::Req,
            b"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n",
            28 + 9,
        ),
        b"GET x\r\nhello there\r\n".to_vec(),
        frame(MsgType::Req, b"*1\r\n$x\r\n", 8),
    ];
    for (i, b) in bad.iter().enumerate() {
        let mut p = TcpStream::connect(("127.0.0.1", dyn_port)).unwrap();
        p.write_all(b).unwrap();
        let got = read_to_close(&mut p, Duration::from_secs(5));
        assert!(
            !s_lossy(&got).contains("PONG") || i == 1,
            "case {i}: {got:?}"
        );
    }
    wait_for("the bad frames counted", Duration::from_secs(5), || {
        (figure(&node, "peer_frames_malformed") == 4).then_some(())
    });
    assert_eq!(node.client().cmd(&["PING"]), b"+PONG\r\n");
}

#[test]
fn peer_tls_required_refuses_plain_peer_connections() {
    let dir = TempDir::new("peer-tls");
    let key = dir.path().join("cluster.pem");
    std::fs::write(
        &key,
        "-----BEGIN RSA PRIVATE KEY-----\nY2x1c3RlciBrZXk=\n-----END RSA PRIVATE KEY-----\n",
    )
    .unwrap();
    let redis = Redis::start();
    let extra = format!(
        "  secure_server_option: all\n  pem_key_file: {}\n  peer_tls_required: true\n",
        key.display()
    );
    let (node, dyn_port) = node_with_peer_port(&redis, &extra);
    let mut p = TcpStream::connect(("127.0.0.1", dyn_port)).unwrap();
    p.write_all(&frame(
        dynomite::peer::MsgType::Req,
        b"*1\r\n$4\r\nPING\r\n",
        14,
    ))
    .unwrap();
    assert_eq!(read_to_close(&mut p, Duration::from_secs(5)), b"");
    assert_eq!(figure(&node, "peers_refused_plain"), 1);
    // Without `all`, the node would send plain links itself: refused at load.
    let (port, stats) = (free_port(), free_port());
    let bad = format!(
        "dyn_o_mite:\n  listen: 127.0.0.1:{port}\n  dyn_listen: 127.0.0.1:{}\n  stats_listen: 127.0.0.1:{stats}\n  servers:\n  - {}:1\n  secure_server_option: datacenter\n  pem_key_file: {}\n  peer_tls_required: true\n",
        free_port(),
        redis.addr(),
        key.display()
    );
    let conf = dir.path().join("bad.yml");
    std::fs::write(&conf, bad).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dynomited"))
        .args(["-t", "-c"])
        .arg(&conf)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains(
            "bad.yml:9: dyn_o_mite.peer_tls_required: true needs secure_server_option: all"
        ),
        "{err}"
    );
}

#[test]
fn gossip_adds_at_most_max_gossip_nodes() {
    use dynomite::peer::{write_header_data, MsgType, DATA_GOSSIP};
    let redis = Redis::start();
    let (node, dyn_port) =
        node_with_peer_port(&redis, "  enable_gossip: true\n  max_gossip_nodes: 2\n");
    let digest: Vec<String> = (1..=5)
        .map(|i| format!("dc1$rack{i}${i}00,1,1,127.0.0.{i}:{}", free_port()))
        .collect();
    let payload = digest.join("|");
    let mut b = Vec::new();
    write_header_data(
        &mut b,
        1,
        MsgType::GossipSyn,
        0,
        true,
        DATA_GOSSIP,
        payload.len(),
    );
    b.extend_from_slice(payload.as_bytes());
    let mut p = TcpStream::connect(("127.0.0.1", dyn_port)).unwrap();
    p.write_all(&b).unwrap();
    wait_for(
        "gossip refused past the cap",
        Duration::from_secs(5),
        || (figure(&node, "gossip_nodes_refused") == 3).then_some(()),
    );
    let describe: serde_json::Value =
        serde_json::from_str(&http_get(node.stats_port, "/cluster_describe").1).unwrap();
    let nodes: usize = describe["dcs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|dc| dc["racks"].as_array().unwrap().iter())
        .map(|r| r["servers"].as_array().unwrap().len())
        .sum();
    assert_eq!(nodes, 3, "this node and two gossiped ones: {describe}");
}

/// Bytes from a seeded xorshift generator (the same every run).
fn random_bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Send `bytes` on a fresh connection to `port` and give the node a moment to answer or
/// close (either is fine; what matters is the node after).
fn hostile(port: u16, bytes: &[u8]) {
    let Ok(mut c) = TcpStream::connect(("127.0.0.1", port)) else {
        panic!("port {port} refused a connection");
    };
    let _ = c.write_all(bytes);
    c.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut buf = [0u8; 4096];
    while let Ok(n) = c.read(&mut buf) {
        if n == 0 {
            break;
        }
    }
}

#[test]
fn hostile_bytes_on_every_port_and_ten_thousand_idle_connections() {
    use dynomite::peer::MsgType;
    // Room for 10,000 connections on both ends; the node inherits the limit.
    let want = 10_000 + 2_000;
    let (_, hard) =
        nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE).unwrap();
    let idle_count = if hard >= want {
        nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE, want, hard)
            .unwrap();
        10_000
    } else {
        eprintln!(
            "RLIMIT_NOFILE hard limit {hard}: {} idle connections",
            hard - 2_000
        );
        hard.saturating_sub(2_000)
    } as usize;
    let redis = Redis::start();
    let (node, dyn_port) = node_with_peer_port(&redis, "");
    let mut ok = node.client();
    let check = |ok: &mut Resp, what: &str| {
        assert_eq!(ok.cmd(&["SET", "alive", what]), b"+OK\r\n", "after {what}");
        let (status, _) = http_get(node.stats_port, "/ping");
        assert!(status.contains("200"), "stats after {what}: {status}");
    };
    let nested = "*1\r\n".repeat(100_000);
    let client_cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "a negative multibulk",
            b"*-5\r\n*1\r\n$4\r\nPING\r\n".to_vec(),
        ),
        ("a huge multibulk", b"*2147483648\r\n".to_vec()),
        (
            "a huge bulk",
            b"*2\r\n$3\r\nGET\r\n$99999999999999\r\n".to_vec(),
        ),
        ("a negative bulk", b"*2\r\n$3\r\nGET\r\n$-7\r\n".to_vec()),
        ("deep nesting", nested.clone().into_bytes()),
        (
            "a truncated request",
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\nab".to_vec(),
        ),
        ("a 1 MiB inline line", vec![b'a'; 1 << 20]),
        ("random bytes", random_bytes(7, 256 << 10)),
    ];
    for (what, bytes) in &client_cases {
        hostile(node.port, bytes);
        check(&mut ok, what);
    }
    let mut huge_header = Vec::new();
    dynomite::peer::write_header(
        &mut huge_header,
        1,
        MsgType::Req,
        0,
        true,
        u32::MAX as usize,
    );
    let mut gossip_header = Vec::new();
    dynomite::peer::write_header_data(
        &mut gossip_header,
        1,
        MsgType::GossipSyn,
        0,
        true,
        dynomite::peer::DATA_GOSSIP,
        u32::MAX as usize,
    );
    let peer_cases: Vec<(&str, Vec<u8>)> = vec![
        ("a frame of 4 GiB", huge_header.clone()),
        ("a gossip frame of 4 GiB", gossip_header),
        ("a truncated header", b"   $2014$ 1 3 0 1 1 *1 d *".to_vec()),
        ("peer random bytes", random_bytes(11, 256 << 10)),
        (
            "a frame then deep nesting",
            [huge_header, nested.into_bytes()].concat(),
        ),
    ];
    for (what, bytes) in &peer_cases {
        hostile(dyn_port, bytes);
        check(&mut ok, what);
    }
    let stats_cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "an endless header",
            [b"GET /info HTTP/1.1\r\nX: ".to_vec(), vec![b'x'; 64 << 10]].concat(),
        ),
        (
            "a huge Content-Length",
            b"POST /info HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n".to_vec(),
        ),
        ("stats random bytes", random_bytes(13, 64 << 10)),
    ];
    for (what, bytes) in &stats_cases {
        hostile(node.stats_port, bytes);
        check(&mut ok, what);
    }
    // A slow HTTP client (a header byte every 20 ms) does not hold the stats port.
    let mut slow = TcpStream::connect(("127.0.0.1", node.stats_port)).unwrap();
    for b in b"GET /info HTTP/1.1\r\nHost: x".iter() {
        slow.write_all(&[*b]).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        if *b == b'/' {
            check(&mut ok, "a slow HTTP header");
        }
    }
    // 10,000 idle client connections: the node keeps serving, and holds no buffer for them.
    let idle: Vec<TcpStream> = (0..idle_count)
        .map(|i| {
            TcpStream::connect(("127.0.0.1", node.port))
                .unwrap_or_else(|e| panic!("idle connection {i}: {e}"))
        })
        .collect();
    wait_for(
        "every idle client accepted",
        Duration::from_secs(20),
        || {
            let v = info(&node);
            (v["dyn_o_mite"]["client_connections"].as_u64() >= Some(idle_count as u64))
                .then_some(())
        },
    );
    check(&mut ok, "10,000 idle connections");
    let buffered = figure(&node, "buffer_memory");
    assert!(
        buffered < 1 << 20,
        "idle clients hold {buffered} bytes of buffers"
    );
    eprintln!(
        "{} idle clients: node RSS {} MiB",
        idle.len(),
        rss(node.proc.pid()) >> 20
    );
    drop(idle);
    assert!(figure(&node, "peer_frames_malformed") >= 3);
    let last = "10,000 idle connections";
    assert_eq!(
        s(&ok.cmd(&["GET", "alive"])),
        format!("${}\r\n{last}\r\n", last.len())
    );
}
