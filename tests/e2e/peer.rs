//! The peer ("dnode") port: a Dynomite C node's recorded requests, answered byte for byte as
//! Dynomite C answered them; garbage closes the connection and is counted.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::util::*;

fn fixture(name: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests-data/peer-wire")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A node whose peer port we know.
fn node_with_peer_port() -> (Redis, Node, u16) {
    let r = Redis::start();
    let (port, stats, dyn_port) = (free_port(), free_port(), free_port());
    let text = format!(
        "dyn_o_mite:\n  listen: 127.0.0.1:{port}\n  dyn_listen: 127.0.0.1:{dyn_port}\n  stats_listen: 127.0.0.1:{stats}\n  servers:\n  - {}:1\n  tokens: '1383429731'\n  datacenter: dc1\n  rack: rack2\n",
        r.addr()
    );
    let n = Node::start_conf(&text, port, stats, &[]);
    n.wait_backend();
    (r, n, dyn_port)
}

fn read_exactly(s: &mut TcpStream, len: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut buf = [0u8; 65536];
    while out.len() < len && Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
    }
    out
}

#[test]
fn answers_dynomite_c_peer_requests_like_dynomite_c() {
    replay("same-dc-requests.bin", "same-dc-replies.bin");
}

#[test]
fn answers_dynomite_c_cross_dc_forwards_like_dynomite_c() {
    // REQ_FORWARD frames (type 4, same_dc 0) from another DC: executed here (this node is its
    // DC's only rack) and answered with same_dc 0, as Dynomite C's node C did.
    replay("cross-dc-forwards.bin", "cross-dc-replies.bin");
}

fn replay(requests: &str, replies: &str) {
    let requests = fixture(requests);
    let replies = fixture(replies);
    // Whole, then in odd-sized pieces: each run on a fresh datastore.
    for pieces in [1usize, 7, 301] {
        let (_r, _n, dyn_port) = node_with_peer_port();
        let mut s = TcpStream::connect(("127.0.0.1", dyn_port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut w = s.try_clone().unwrap();
        let req = requests.clone();
        let t = std::thread::spawn(move || {
            let step = req.len().div_ceil(pieces);
            for chunk in req.chunks(step) {
                w.write_all(chunk).unwrap();
                w.flush().unwrap();
            }
        });
        let got = read_exactly(&mut s, replies.len());
        t.join().unwrap();
        assert_eq!(
            got.len(),
            replies.len(),
            "reply stream length ({pieces} pieces)"
        );
        assert!(
            got == replies,
            "reply stream differs from Dynomite C's ({pieces} pieces)"
        );
    }
}

#[test]
fn garbage_on_the_peer_port_is_counted_and_closed() {
    let (_r, n, dyn_port) = node_with_peer_port();
    let mut s = TcpStream::connect(("127.0.0.1", dyn_port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"*1\r\n$4\r\nPING\r\n").unwrap();
    let mut b = [0u8; 16];
    assert!(
        matches!(s.read(&mut b), Ok(0) | Err(_)),
        "the connection is closed"
    );
    let v: serde_json::Value = serde_json::from_str(&http_get(n.stats_port, "/info").1).unwrap();
    assert_eq!(v["dyn_o_mite"]["dnode_client_err"], 1);
}
