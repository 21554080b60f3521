//! A differential check against a real memcached, run by hand:
//! `MEMCACHED_ADDR=127.0.0.1:11211 cargo test -p dynomited --lib proto::memcache -- --ignored`.
//! Each stream is sent to memcached as is, and again the way the proxy handles it (requests
//! split by our parser, valid ones forwarded one by one, rejected ones answered with
//! `req_error_reply`); the client must see the same bytes both ways.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};

use super::super::{req_error_reply, Cmd, ReqParser, RspParser};
use crate::proto::{Parse, ReqInfo, RspInfo};

/// Streams where the proxy must answer exactly like memcached.
const CORPUS: &[&[u8]] = &[
    b"set k 0 0 5\r\nhello\r\nget k\r\n",
    b"set k 0 0 5\nhello\r\nget k\n",
    b"  get   a  b \r\nGET k\r\nget\r\ngets\r\n\r\n\n   \r\nv\r\n",
    b"set k 0 0 1 noreply\r\na\r\nget k\r\nset k 0 0 1 foo\r\nb\r\nget k\r\n",
    b"set k 0 0 +1\r\na\r\nset k 0 -1 1\r\na\r\nget k\r\n",
    b"set k 0 0 x\r\nget k\r\nset k -1 0 1\r\na\r\nset k 0 0 -1\r\na\r\n",
    b"set k 0 0 1 noreply\r\nab\r\nversion\r\nset k 0 0 noreply\r\nget k\r\n",
    b"set k\t0 0 1\r\na\r\n",
    b"set k 0 0 5\r\nhello world\r\nget k\r\nset k 0 0 5\r\nhelloXY\r\nget k\r\n",
    b"set k 0 0 2\r\na\n\r\nget k\r\nset k 0 0 0\r\n\r\nget k\r\n",
    b"cas k 0 0 1 5\r\na\r\ncas k 0 0 1 x\r\na\r\ncas k 0 0 1\r\na\r\n",
    b"set n 0 0 2\r\n10\r\nincr n 5\r\ndecr n 100\r\nincr n x\r\nincr n noreply\r\nincr n 1 2\r\n",
    b"incr k\r\nincr n 1\r\ndecr n 18446744073709551615 noreply\r\nversion\r\n",
    b"set t 0 0 1\r\na\r\ntouch t 10\r\ntouch t 10 20\r\ntouch t x\r\ntouch t noreply\r\n",
    b"set g 0 0 1\r\na\r\ngat 10 g h\r\ngat x g\r\ngat\r\ngat 100 g\r\n",
    b"set d 0 0 1\r\na\r\ndelete d\r\ndelete d 0\r\ndelete d noreply\r\ndelete d 0 noreply\r\n",
    b"delete d 1\r\ndelete d 0 0\r\ndelete d x noreply\r\ndelete d a b c\r\ndelete\r\nversion\r\n",
    b"delete noreply\r\nversion foo\r\n",
    b"set k 0 0 1\r\n",
];

fn send(addr: &str, bytes: &[u8]) -> TcpStream {
    let mut s = TcpStream::connect(addr).expect("connect to MEMCACHED_ADDR");
    s.write_all(b"flush_all\r\n").unwrap();
    let mut ok = [0u8; 4];
    s.read_exact(&mut ok).unwrap();
    assert_eq!(&ok, b"OK\r\n");
    s.write_all(bytes).unwrap();
    s
}

fn direct(addr: &str, stream: &[u8]) -> Vec<u8> {
    let mut s = send(addr, stream);
    s.shutdown(Shutdown::Write).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    out
}

fn proxied(addr: &str, stream: &[u8]) -> Vec<u8> {
    let mut s = send(addr, b"");
    let mut p = ReqParser::new();
    let mut info = ReqInfo::default();
    let mut out = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        let Parse::Done { consumed } = p.feed(rest, &mut info) else {
            break;
        };
        let (msg, tail) = rest.split_at(consumed);
        rest = tail;
        match &info.error {
            Some(_) if info.noreply => {}
            Some(e) => req_error_reply(e, &mut out),
            None if info.cmd == Cmd::Quit as u16 => break,
            None => {
                s.write_all(msg).unwrap();
                if !info.noreply {
                    read_reply(&mut s, &mut out);
                }
            }
        }
    }
    out
}

fn read_reply(s: &mut TcpStream, out: &mut Vec<u8>) {
    let mut rp = RspParser::new();
    let mut ri = RspInfo::default();
    let mut byte = [0u8; 1];
    loop {
        s.read_exact(&mut byte).unwrap();
        out.push(byte[0]);
        if let Parse::Done { .. } = rp.feed(&byte, &mut ri) {
            assert!(
                !ri.broken,
                "broken reply: {:?}",
                String::from_utf8_lossy(out)
            );
            return;
        }
    }
}

#[test]
#[ignore = "needs a memcached: set MEMCACHED_ADDR"]
fn same_as_memcached() {
    let Ok(addr) = std::env::var("MEMCACHED_ADDR") else {
        return;
    };
    for stream in CORPUS {
        let want = direct(&addr, stream);
        let got = proxied(&addr, stream);
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want),
            "stream {:?}",
            String::from_utf8_lossy(stream)
        );
    }
}
