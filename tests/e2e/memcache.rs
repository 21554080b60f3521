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
