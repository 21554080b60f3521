//! Memcached through dynomited: the ASCII protocol, noreply, errors, large values.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::util::*;

struct Mc(TcpStream);

impl Mc {
    fn connect(port: u16) -> Mc {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        Mc(s)
    }
    /// Send `req` and read until the reply ends with `end`.
    fn req(&mut self, req: &[u8], end: &str) -> String {
        self.0.write_all(req).unwrap();
        let mut out = Vec::new();
        let mut b = [0u8; 65536];
        while !out.ends_with(end.as_bytes()) {
            let n = self.0.read(&mut b).expect("reply");
            assert!(n > 0, "closed; got {:?}", s(&out));
            out.extend_from_slice(&b[..n]);
        }
        s(&out)
    }
}

fn node() -> (Memcached, Node) {
    let m = Memcached::start();
    let n = Node::start(&format!("127.0.0.1:{}", m.port), 1, "");
    wait_for("memcached backend", Duration::from_secs(10), || {
        let mut c = Mc::connect(n.port);
        let r = c.req(b"get probe\r\n", "\r\n");
        (r == "END\r\n").then_some(())
    });
    (m, n)
}

#[test]
fn ascii_protocol_table() {
    let (_m, n) = node();
    let mut c = Mc::connect(n.port);
    let table: &[(&[u8], &str)] = &[
        (b"set a 5 0 3\r\nabc\r\n", "STORED\r\n"),
        (b"get a\r\n", "VALUE a 5 3\r\nabc\r\nEND\r\n"),
        (b"add a 0 0 1\r\nx\r\n", "NOT_STORED\r\n"),
        (b"replace a 0 0 2\r\nxy\r\n", "STORED\r\n"),
        (b"append a 0 0 1\r\nz\r\n", "STORED\r\n"),
        (b"prepend a 0 0 1\r\nw\r\n", "STORED\r\n"),
        (b"get a nokey\r\n", "VALUE a 0 4\r\nwxyz\r\nEND\r\n"),
        (b"set n 0 0 1\r\n5\r\n", "STORED\r\n"),
        (b"incr n 10\r\n", "15\r\n"),
        (b"decr n 3\r\n", "12\r\n"),
        (b"touch n 100\r\n", "TOUCHED\r\n"),
        (b"delete n\r\n", "DELETED\r\n"),
        (b"delete n\r\n", "NOT_FOUND\r\n"),
        (b"bogus\r\n", "ERROR\r\n"),
        (
            b"set q 0 0 1 noreply\r\nq\r\nget q\r\n",
            "VALUE q 0 1\r\nq\r\nEND\r\n",
        ),
        // An invalid noreply request gets no reply at all (memcached's rule).
        (
            b"incr q x noreply\r\nget q\r\n",
            "VALUE q 0 1\r\nq\r\nEND\r\n",
        ),
    ];
    for (req, want) in table {
        let end = if want.starts_with("VALUE") || *want == "END\r\n" {
            "END\r\n"
        } else {
            "\r\n"
        };
        assert_eq!(&c.req(req, end), want, "request {:?}", s(req));
    }
    // gets returns a cas token that cas accepts once.
    let r = c.req(b"gets a\r\n", "END\r\n");
    let cas: u64 = r
        .lines()
        .next()
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        c.req(format!("cas a 0 0 1 {cas}\r\nC\r\n").as_bytes(), "\r\n"),
        "STORED\r\n"
    );
    assert_eq!(
        c.req(format!("cas a 0 0 1 {cas}\r\nD\r\n").as_bytes(), "\r\n"),
        "EXISTS\r\n"
    );
}

#[test]
fn large_value_and_bad_chunk_keep_connection() {
    let (_m, n) = node();
    let mut c = Mc::connect(n.port);
    let v = vec![b'z'; 900_000];
    let mut req = format!("set big 0 0 {}\r\n", v.len()).into_bytes();
    req.extend_from_slice(&v);
    req.extend_from_slice(b"\r\n");
    assert_eq!(c.req(&req, "\r\n"), "STORED\r\n");
    let got = c.req(b"get big\r\n", "END\r\n");
    assert_eq!(got.len(), "VALUE big 0 900000\r\n".len() + 900_000 + 2 + 5);
    let bad = c.req(b"set x 0 0 2\r\nabcd\r\n", "\r\n");
    assert!(bad.starts_with("CLIENT_ERROR"), "{bad}");
    // The connection is still usable afterwards.
    let mut tail = String::new();
    if !bad.ends_with("ERROR\r\n") || bad.matches("\r\n").count() < 2 {
        // memcached may answer the swallowed data line separately; drain it if so.
        let _ = c.0.set_read_timeout(Some(Duration::from_millis(300)));
        let mut b = [0u8; 256];
        if let Ok(n) = c.0.read(&mut b) {
            tail = s(&b[..n]);
        }
        let _ = c.0.set_read_timeout(Some(Duration::from_secs(5)));
    }
    let _ = tail;
    assert_eq!(c.req(b"get big2\r\n", "END\r\n"), "END\r\n");
}

#[test]
fn killed_memcached_gives_server_error() {
    let (mut m, n) = node();
    let mut c = Mc::connect(n.port);
    m.proc.kill();
    let got = c.req(b"get a\r\n", "\r\n");
    assert_eq!(
        got,
        "SERVER_ERROR Storage: Datastore refused connection\r\n"
    );
}

/// pymemcache, a real memcached client, through a node: its usual flows, `stats` included.
#[test]
fn pymemcache_flows_through_a_node() {
    let (_m, n) = node();
    let script = r#"
import sys
from pymemcache.client.base import Client
from pymemcache.exceptions import MemcacheClientError
c = Client(("127.0.0.1", int(sys.argv[1])), default_noreply=False, timeout=5)
assert c.set("a", b"1") is True
assert c.get("a") == b"1"
assert c.add("a", b"2") is False and c.add("b", b"2") is True
assert c.replace("a", b"10") is True and c.replace("nope", b"x") is False
assert c.append("a", b"0") is True and c.prepend("a", b"1") is True
assert c.get("a") == b"1100"
assert c.get_many(["a", "b", "nope"]) == {"a": b"1100", "b": b"2"}
v, cas = c.gets("a")
assert c.cas("a", b"7", cas) is True and c.cas("a", b"8", cas) is False
assert c.incr("a", 5) == 12 and c.decr("a", 2) == 10
assert c.touch("a", 100) is True and c.touch("nope", 100) is False
c.set_many({"m1": b"x", "m2": b"y"})
assert c.delete("m1") is True and c.delete("m1") is False
c.set("q", b"1", noreply=True)
assert c.get("q") == b"1"
s = c.stats()
assert s[b"curr_items"] >= 4, s
assert s[b"dyn_version"], s
assert int(s[b"dyn_client_read_requests"]) > 0, s
assert c.version().startswith(b"1."), c.version()
try:
    c.flush_all(noreply=False)
    raise SystemExit("flush_all went through without allow_flush")
except MemcacheClientError as e:
    assert b"allow_flush" in e.args[0] if isinstance(e.args[0], bytes) else "allow_flush" in str(e), e
assert c.get("a") == b"10"
c.quit()
print("ok")
"#;
    let check = "__import__('pymemcache')";
    python(
        check,
        "pip install pymemcache",
        script,
        &[&n.port.to_string()],
    );
    // The admin lines over a raw socket, noreply included.
    let mut c = Mc::connect(n.port);
    assert_eq!(c.req(b"verbosity 1\r\n", "\r\n"), "OK\r\n");
    // Nothing for a noreply verbosity: the next reply read is the version's.
    let v = c.req(b"verbosity 1 noreply\r\nversion\r\n", "\r\n");
    assert!(v.starts_with("VERSION 1."), "{v}");
    assert_eq!(
        c.req(b"verbosity x\r\n", "\r\n"),
        "CLIENT_ERROR bad command line format\r\n"
    );
    let refused = c.req(b"flush_all noreply\r\nversion\r\n", "\r\n");
    assert!(
        refused.starts_with("VERSION 1."),
        "noreply: not even the refusal: {refused}"
    );
    let st = c.req(b"stats settings\r\n", "END\r\n");
    assert!(
        st.contains("STAT maxbytes "),
        "one node: its own settings: {st}"
    );
}

/// A memcached cluster of three racks of two nodes: `stats` sums the rack's datastores,
/// `stats <args>` is refused there, and `flush_all` (with `allow_flush`) empties every
/// memcached of every rack, `noreply` answering nothing at all.
#[test]
fn stats_and_flush_all_over_a_sharded_cluster() {
    let mcs: Vec<Memcached> = (0..6).map(|_| Memcached::start()).collect();
    let stores: Vec<String> = mcs
        .iter()
        .map(|m| format!("127.0.0.1:{}", m.port))
        .collect();
    let mut layout = Vec::new();
    for rack in ["rack1", "rack2", "rack3"] {
        for t in [1383429731, 3530913378] {
            layout.push(("dc1", rack, t));
        }
    }
    let m = crate::cluster::cluster_tokens(&layout, "  allow_flush: true\n", &stores, 1);
    let n = m[2].node.as_ref().unwrap();
    let mut c = Mc::connect(n.port);
    for i in 0..40 {
        let req = format!("set k{i} 0 0 1\r\nv\r\n");
        assert_eq!(c.req(req.as_bytes(), "\r\n"), "STORED\r\n");
    }
    let items = |port: u16| -> u64 {
        let st = Mc::connect(port).req(b"stats\r\n", "END\r\n");
        let line = st
            .lines()
            .find(|l| l.starts_with("STAT curr_items "))
            .unwrap();
        line["STAT curr_items ".len()..].parse().unwrap()
    };
    for rack in 0..3 {
        let (a, b) = (mcs[2 * rack].port, mcs[2 * rack + 1].port);
        wait_for("every rack holds 40 keys", Duration::from_secs(10), || {
            (items(a) + items(b) == 40).then_some(())
        });
        assert!(items(a) > 0 && items(b) > 0, "keys on both nodes of a rack");
    }
    let st = c.req(b"stats\r\n", "END\r\n");
    assert!(
        st.contains("STAT curr_items 40\r\n"),
        "summed over the rack: {st}"
    );
    assert!(
        st.contains("STAT dyn_pool_name ") || st.contains("STAT dyn_state "),
        "{st}"
    );
    assert!(st.starts_with("STAT pid "), "{st}");
    assert!(c
        .req(b"stats items\r\n", "\r\n")
        .starts_with("CLIENT_ERROR stats with arguments"));
    // noreply: nothing comes back, the next reply read is the next request's.
    let v = c.req(b"flush_all noreply\r\nversion\r\n", "\r\n");
    assert!(v.starts_with("VERSION "), "{v}");
    for mc in &mcs {
        let port = mc.port;
        wait_for("every memcached empty", Duration::from_secs(10), || {
            let got = Mc::connect(port).req(b"get k0 k1 k2 k3 k4 k5 k6 k7\r\n", "END\r\n");
            (got == "END\r\n").then_some(())
        });
    }
    assert_eq!(c.req(b"set z 0 0 1\r\nv\r\n", "\r\n"), "STORED\r\n");
    assert_eq!(c.req(b"flush_all\r\n", "\r\n"), "OK\r\n");
    for rack in 0..3 {
        let (a, b) = (mcs[2 * rack].port, mcs[2 * rack + 1].port);
        wait_for("z flushed in every rack", Duration::from_secs(10), || {
            let gone = [a, b]
                .iter()
                .all(|&p| Mc::connect(p).req(b"get z\r\n", "END\r\n") == "END\r\n");
            gone.then_some(())
        });
    }
}
