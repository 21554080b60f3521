//! The seed providers' side thread and every socket it uses: one blocking [`fetch`] (Florida
//! over TCP, DNS over UDP with a TCP retry), and the [`Fetcher`] thread that fetches every
//! `every` and hands changes to the event loop through a socket pair (see the module docs of
//! [`crate::seeds`] for the hand-over).

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::dns::{
    build_query, encode_name, flags, is_reply_to, parse_txt_reply, seed_text, FLAG_TC, TYPE_TXT,
};
use super::florida::{finish_body, http_body, FLORIDA_MAX_RESPONSE};
use super::{encode, Source, TAG_ERR, TAG_OK};

const A_RECORDS: &str = "A records carry no rack/dc/token; use TXT records";

/// Fetch once, blocking, every step bounded by `timeout`. Ok(text) is the seed-list text.
pub fn fetch(src: &Source, timeout: Duration) -> Result<String, String> {
    match src {
        Source::Florida { addr, request } => {
            fetch_florida(*addr, request, timeout).map_err(|e| format!("florida {addr}: {e}"))
        }
        Source::Dns {
            name,
            server,
            a_records,
        } => {
            if *a_records {
                return Err(format!("dns {name}: {A_RECORDS}"));
            }
            fetch_dns_txt(name, *server, timeout).map_err(|e| format!("dns {name} @{server}: {e}"))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Florida (HTTP over TCP)

fn fetch_florida(addr: SocketAddr, request: &[u8], timeout: Duration) -> Result<String, String> {
    let timeout = nonzero(timeout);
    let mut stream =
        TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_write_timeout(Some(timeout))
        .map_err(|e| format!("connect: {e}"))?;
    stream
        .write_all(request)
        .map_err(|e| format!("write: {e}"))?;
    let deadline = Instant::now() + timeout;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(body) = http_body(&buf, false)? {
            return finish_body(body);
        }
        let left = remaining(deadline).ok_or("read: timed out")?;
        stream
            .set_read_timeout(Some(left))
            .map_err(|e| format!("read: {e}"))?;
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                if buf.len() + n > FLORIDA_MAX_RESPONSE {
                    return Err(format!("response larger than {FLORIDA_MAX_RESPONSE} bytes"));
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_timeout(&e) => return Err("read: timed out".into()),
            Err(e) => return Err(format!("read: {e}")),
        }
    }
    match http_body(&buf, true)? {
        Some(body) => finish_body(body),
        None => Err("response ended early".into()),
    }
}

// ---------------------------------------------------------------------------------------------
// DNS (UDP, TCP when truncated)

fn query_id() -> u16 {
    static COUNTER: AtomicU16 = AtomicU16::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mixed =
        (nanos as u64) ^ (nanos >> 64) as u64 ^ u64::from(std::process::id()).rotate_left(17);
    let folded = mixed ^ (mixed >> 16) ^ (mixed >> 32) ^ (mixed >> 48);
    (folded as u16) ^ COUNTER.fetch_add(0x9e37, Ordering::Relaxed)
}

fn fetch_dns_txt(name: &str, server: SocketAddr, timeout: Duration) -> Result<String, String> {
    let timeout = nonzero(timeout);
    let qname = encode_name(name)?;
    let id = query_id();
    let query = build_query(id, &qname, TYPE_TXT);
    let reply = udp_exchange(server, &query, id, timeout)?;
    let reply = if flags(&reply) & FLAG_TC != 0 {
        tcp_exchange(server, &query, id, timeout).map_err(|e| format!("(over TCP) {e}"))?
    } else {
        reply
    };
    seed_text(&parse_txt_reply(&reply, &qname, name)?)
}

fn udp_exchange(
    server: SocketAddr,
    query: &[u8],
    id: u16,
    timeout: Duration,
) -> Result<Vec<u8>, String> {
    let local: SocketAddr = match server {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let sock = UdpSocket::bind(local).map_err(|e| format!("bind: {e}"))?;
    // Connected: the kernel drops datagrams from anyone but the server.
    sock.connect(server).map_err(|e| format!("connect: {e}"))?;
    sock.set_write_timeout(Some(timeout))
        .map_err(|e| format!("send: {e}"))?;
    sock.send(query).map_err(|e| format!("send: {e}"))?;
    let deadline = Instant::now() + timeout;
    let mut buf = vec![0u8; 65_535];
    loop {
        let left = remaining(deadline).ok_or("no reply: timed out")?;
        sock.set_read_timeout(Some(left))
            .map_err(|e| format!("recv: {e}"))?;
        match sock.recv(&mut buf) {
            Ok(n) if is_reply_to(&buf[..n], id) => return Ok(buf[..n].to_vec()),
            Ok(_) => {} // another query's reply
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_timeout(&e) => return Err("no reply: timed out".into()),
            Err(e) => return Err(format!("recv: {e}")),
        }
    }
}

fn tcp_exchange(
    server: SocketAddr,
    query: &[u8],
    id: u16,
    timeout: Duration,
) -> Result<Vec<u8>, String> {
    let mut stream =
        TcpStream::connect_timeout(&server, timeout).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_write_timeout(Some(timeout))
        .map_err(|e| format!("write: {e}"))?;
    let len = u16::try_from(query.len()).map_err(|_| "query too long".to_string())?;
    let mut framed = len.to_be_bytes().to_vec();
    framed.extend_from_slice(query);
    stream
        .write_all(&framed)
        .map_err(|e| format!("write: {e}"))?;
    let deadline = Instant::now() + timeout;
    let mut len = [0u8; 2];
    read_exact_by(&mut stream, &mut len, deadline)?;
    let mut reply = vec![0u8; usize::from(u16::from_be_bytes(len))];
    read_exact_by(&mut stream, &mut reply, deadline)?;
    if !is_reply_to(&reply, id) {
        return Err("reply id does not match the query".into());
    }
    Ok(reply)
}

fn read_exact_by(
    stream: &mut TcpStream,
    mut buf: &mut [u8],
    deadline: Instant,
) -> Result<(), String> {
    while !buf.is_empty() {
        let left = remaining(deadline).ok_or("read: timed out")?;
        stream
            .set_read_timeout(Some(left))
            .map_err(|e| format!("read: {e}"))?;
        match stream.read(buf) {
            Ok(0) => return Err("read: connection closed early".into()),
            Ok(n) => buf = &mut buf[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_timeout(&e) => return Err("read: timed out".into()),
            Err(e) => return Err(format!("read: {e}")),
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Background fetcher and hand-off

fn nonzero(timeout: Duration) -> Duration {
    timeout.max(Duration::from_millis(1))
}

/// Time left until `deadline`, `None` once it has passed.
fn remaining(deadline: Instant) -> Option<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// The longest sleep between two looks at the stop flag.
const STEP: Duration = Duration::from_millis(100);

/// A background fetcher: every `every` (Dynomite: 30 s) it fetches and, when the text differs
/// from the last one it handed over (compare the text itself), writes one message to the socket:
/// `b"OK "` or `b"ERR "` + text, framed by a 4-byte big-endian length prefix. Errors are handed
/// over too, but only when different from the previous error (so the loop can log each problem once).
/// The first fetch happens at once.
///
/// A successful fetch forgets the previous error, so a problem that comes back after a
/// recovery is handed over again.
pub struct Fetcher {
    stop: Arc<AtomicBool>,
}

impl Fetcher {
    /// Spawns the thread (named "dyn-seeds"). Returns the fetcher and the event loop's end of
    /// the socket pair (std::os::unix::net::UnixStream, set non-blocking).
    pub fn spawn(
        src: Source,
        every: Duration,
        timeout: Duration,
    ) -> io::Result<(Fetcher, UnixStream)> {
        let (loop_end, thread_end) = UnixStream::pair()?;
        loop_end.set_nonblocking(true)?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        thread::Builder::new()
            .name("dyn-seeds".into())
            .spawn(move || run(src, every, timeout, thread_end, &flag))?;
        Ok((Fetcher { stop }, loop_end))
    }
}

impl Drop for Fetcher {
    /// Tells the thread to stop; it exits at its next wake-up (within 100 ms when sleeping,
    /// or after the fetch under way), without being waited for.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn run(src: Source, every: Duration, timeout: Duration, sock: UnixStream, stop: &AtomicBool) {
    let mut last_text: Option<String> = None;
    let mut last_error: Option<String> = None;
    while !stop.load(Ordering::Relaxed) {
        let message = match fetch(&src, timeout) {
            Ok(text) => {
                last_error = None;
                (last_text.as_ref() != Some(&text)).then(|| {
                    last_text = Some(text.clone());
                    encode(TAG_OK, &text)
                })
            }
            Err(e) => (last_error.as_ref() != Some(&e)).then(|| {
                last_error = Some(e.clone());
                encode(TAG_ERR, &e)
            }),
        };
        if stop.load(Ordering::Relaxed) {
            return;
        }
        if let Some(message) = message {
            if send_all(&sock, &message).is_err() {
                return; // the event loop's end is gone
            }
        }
        let wake = Instant::now() + every;
        while let Some(left) = remaining(wake) {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            thread::sleep(left.min(STEP));
        }
    }
}

/// Writes all of `buf` (blocking) without raising SIGPIPE when the other end is gone.
fn send_all(sock: &UnixStream, mut buf: &[u8]) -> io::Result<()> {
    use nix::sys::socket::{send, MsgFlags};
    while !buf.is_empty() {
        match send(sock.as_raw_fd(), buf, MsgFlags::MSG_NOSIGNAL) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => buf = &buf[n..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seeds::dns::fixtures::{reply, txt, QPTR};
    use crate::seeds::dns::{read_name, DNS_NAME, TYPE_CNAME};
    use crate::seeds::florida::{find, FLORIDA_REQUEST};
    use crate::seeds::{Inbox, Update};
    use std::net::TcpListener;

    const T: Duration = Duration::from_secs(2);

    // ---- Florida ----

    /// Serves `responses[i]` to the i-th connection (the last one forever), after reading the
    /// request head. Returns the address.
    fn http_server(responses: Vec<Vec<u8>>) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        thread::spawn(move || {
            for (i, conn) in listener.incoming().enumerate() {
                let Ok(mut conn) = conn else { return };
                conn.set_read_timeout(Some(T)).unwrap();
                let mut req = Vec::new();
                let mut b = [0u8; 1024];
                while find(&req, b"\r\n\r\n").is_none() {
                    match conn.read(&mut b) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => req.extend_from_slice(&b[..n]),
                    }
                }
                let resp = &responses[i.min(responses.len() - 1)];
                let _ = conn.write_all(resp);
            }
        });
        addr
    }

    fn florida(addr: SocketAddr) -> Source {
        Source::Florida {
            addr,
            request: FLORIDA_REQUEST.as_bytes().to_vec(),
        }
    }

    const SEEDS: &str = "127.0.0.1:8101:rack1:dc1:0|127.0.0.2:8101:rack1:dc1:2147483647";

    #[test]
    fn florida_200_with_body() {
        let resp = format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{SEEDS}\n");
        let addr = http_server(vec![resp.into_bytes()]);
        assert_eq!(fetch(&florida(addr), T), Ok(SEEDS.to_string()));
    }

    #[test]
    fn florida_http10_content_length_bounds_body() {
        // The server keeps the connection open: Content-Length ends the read.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut b = [0u8; 1024];
            let _ = conn.read(&mut b);
            let body = format!("{SEEDS}EXTRA");
            let resp = format!(
                "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                SEEDS.len()
            );
            conn.write_all(resp.as_bytes()).unwrap();
            // Hold the connection until the client closes it (or 2 s pass).
            conn.set_read_timeout(Some(T)).unwrap();
            let _ = conn.read(&mut b);
        });
        let start = Instant::now();
        assert_eq!(fetch(&florida(addr), T), Ok(SEEDS.to_string()));
        assert!(start.elapsed() < Duration::from_secs(1));
        server.join().unwrap();
    }

    #[test]
    fn florida_200_chunked() {
        let (a, b) = SEEDS.split_at(10);
        let resp = format!(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x};ext=1\r\n{a}\r\n{:X}\r\n{b}\r\n0\r\n\r\n",
            a.len(),
            b.len()
        );
        let addr = http_server(vec![resp.into_bytes()]);
        assert_eq!(fetch(&florida(addr), T), Ok(SEEDS.to_string()));
    }

    #[test]
    fn florida_bad_chunked() {
        let resp = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n";
        let addr = http_server(vec![resp.into()]);
        let err = fetch(&florida(addr), T).unwrap_err();
        assert!(err.contains("bad chunk size"), "{err}");
        let resp = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc";
        let addr = http_server(vec![resp.into()]);
        let err = fetch(&florida(addr), T).unwrap_err();
        assert!(err.contains("chunked body ended early"), "{err}");
    }

    #[test]
    fn florida_404() {
        let addr = http_server(vec![b"HTTP/1.1 404 Not Found\r\n\r\nnope".to_vec()]);
        let err = fetch(&florida(addr), T).unwrap_err();
        assert!(err.starts_with(&format!("florida {addr}: ")), "{err}");
        assert!(err.contains("HTTP/1.1 404 Not Found"), "{err}");
        // "200" elsewhere than the status code is not success.
        let addr = http_server(vec![b"HTTP/1.1 500 200 OK\r\n\r\nx".to_vec()]);
        assert!(fetch(&florida(addr), T).is_err());
        let addr = http_server(vec![b"garbage".to_vec()]);
        assert!(fetch(&florida(addr), T).unwrap_err().contains("not 200"));
    }

    #[test]
    fn florida_empty_body() {
        let addr = http_server(vec![
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n \n".to_vec()
        ]);
        assert_eq!(
            fetch(&florida(addr), T),
            Err(format!(
                "florida {addr}: No seeds were found in Florida response"
            ))
        );
    }

    #[test]
    fn florida_too_large() {
        let mut resp = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
        resp.resize(FLORIDA_MAX_RESPONSE + 10, b'x');
        let addr = http_server(vec![resp]);
        assert!(fetch(&florida(addr), T)
            .unwrap_err()
            .contains("larger than"));
    }

    #[test]
    fn florida_connection_refused() {
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let err = fetch(&florida(addr), T).unwrap_err();
        assert!(
            err.starts_with(&format!("florida {addr}: connect: ")),
            "{err}"
        );
    }

    #[test]
    fn florida_silent_server_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let start = Instant::now();
        let err = fetch(&florida(addr), Duration::from_millis(200)).unwrap_err();
        assert!(err.contains("timed out"), "{err}");
        assert!(start.elapsed() < Duration::from_secs(2));
        drop(listener);
    }

    // ---- DNS ----

    /// Answers one query with the datagrams `answer(query)` returns.
    fn dns_server(answer: impl FnOnce(&[u8]) -> Vec<Vec<u8>> + Send + 'static) -> SocketAddr {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = sock.local_addr().unwrap();
        thread::spawn(move || {
            sock.set_read_timeout(Some(T)).unwrap();
            let mut buf = [0u8; 512];
            let Ok((n, peer)) = sock.recv_from(&mut buf) else {
                return;
            };
            for d in answer(&buf[..n]) {
                sock.send_to(&d, peer).unwrap();
            }
        });
        addr
    }

    fn dns(server: SocketAddr) -> Source {
        Source::Dns {
            name: DNS_NAME.into(),
            server,
            a_records: false,
        }
    }

    #[test]
    fn dns_query_format() {
        let server = dns_server(|q| {
            assert_eq!(&q[2..12], &[1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
            let (name, end) = read_name(q, 12).unwrap();
            assert_eq!(name, encode_name(DNS_NAME).unwrap());
            assert_eq!(&q[end..], &[0, 16, 0, 1]);
            vec![reply(q, 0, &[(QPTR.to_vec(), TYPE_TXT, txt(&["x"]))])]
        });
        assert_eq!(fetch(&dns(server), T), Ok("x".into()));
    }

    #[test]
    fn dns_one_txt_two_strings() {
        let (a, b) = SEEDS.split_at(20);
        let server =
            dns_server(move |q| vec![reply(q, 0, &[(QPTR.to_vec(), TYPE_TXT, txt(&[a, b]))])]);
        assert_eq!(fetch(&dns(server), T), Ok(SEEDS.to_string()));
    }

    #[test]
    fn dns_two_txt_records_all_kept_sorted() {
        let server = dns_server(|q| {
            let owner = encode_name(&DNS_NAME.to_uppercase()).unwrap(); // uncompressed, any case
            vec![reply(
                q,
                0,
                &[
                    (QPTR.to_vec(), TYPE_TXT, txt(&["127.0.0.2:8101:r:d:2"])),
                    (owner, TYPE_TXT, txt(&["127.0.0.1:8101:r:d:1"])),
                    (
                        encode_name("other.example").unwrap(),
                        TYPE_TXT,
                        txt(&["nope"]),
                    ),
                ],
            )]
        });
        assert_eq!(
            fetch(&dns(server), T),
            Ok("127.0.0.1:8101:r:d:1|127.0.0.2:8101:r:d:2".into())
        );
    }

    #[test]
    fn dns_cname_followed() {
        let server = dns_server(|q| {
            let qend = read_name(q, 12).unwrap().1 + 4;
            // CNAME at offset qend: target "seeds" + pointer to the question name.
            let target_off = qend + 12;
            let mut target = vec![5];
            target.extend_from_slice(b"seeds");
            target.extend_from_slice(&QPTR);
            let ptr = vec![0xC0 | (target_off >> 8) as u8, target_off as u8];
            vec![reply(
                q,
                0,
                &[
                    (QPTR.to_vec(), TYPE_CNAME, target),
                    (ptr, TYPE_TXT, txt(&["s"])),
                ],
            )]
        });
        assert_eq!(fetch(&dns(server), T), Ok("s".into()));
    }

    #[test]
    fn dns_nxdomain() {
        let server = dns_server(|q| vec![reply(q, 3, &[])]);
        let err = fetch(&dns(server), T).unwrap_err();
        assert!(err.contains("NXDOMAIN"), "{err}");
        assert!(err.contains(DNS_NAME), "{err}");
    }

    #[test]
    fn dns_no_answers() {
        let server = dns_server(|q| vec![reply(q, 0, &[])]);
        assert!(fetch(&dns(server), T)
            .unwrap_err()
            .contains("no TXT records"));
    }

    #[test]
    fn dns_pointer_loop() {
        let server = dns_server(|q| {
            let at = read_name(q, 12).unwrap().1 + 4; // the answer's owner name starts here
            let ptr = vec![0xC0 | (at >> 8) as u8, at as u8];
            vec![reply(q, 0, &[(ptr, TYPE_TXT, txt(&["x"]))])]
        });
        let start = Instant::now();
        let err = fetch(&dns(server), T).unwrap_err();
        assert!(err.contains("pointer loop"), "{err}");
        assert!(start.elapsed() < T);
    }

    #[test]
    fn dns_truncated_and_garbage() {
        let server = dns_server(|q| {
            let mut r = reply(q, 0, &[(QPTR.to_vec(), TYPE_TXT, txt(&["abcdef"]))]);
            r.truncate(r.len() - 3);
            vec![r]
        });
        assert!(fetch(&dns(server), T).unwrap_err().contains("truncated"));
        let server = dns_server(|q| vec![vec![q[0], q[1], 0x80]]);
        assert!(fetch(&dns(server), T).unwrap_err().contains("truncated"));
        let server = dns_server(|_| vec![vec![7]]);
        assert!(fetch(&dns(server), T).is_err());
        // TXT character-string overrunning its RDATA.
        let server = dns_server(|q| vec![reply(q, 0, &[(QPTR.to_vec(), TYPE_TXT, vec![9, b'a'])])]);
        assert!(fetch(&dns(server), T)
            .unwrap_err()
            .contains("truncated TXT"));
    }

    #[test]
    fn dns_wrong_id_ignored() {
        let server = dns_server(|q| {
            let mut wrong = reply(q, 0, &[(QPTR.to_vec(), TYPE_TXT, txt(&["wrong"]))]);
            wrong[1] ^= 1;
            vec![
                wrong,
                reply(q, 0, &[(QPTR.to_vec(), TYPE_TXT, txt(&["right"]))]),
            ]
        });
        assert_eq!(fetch(&dns(server), T), Ok("right".into()));
    }

    #[test]
    fn dns_timeout() {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        let server = sock.local_addr().unwrap();
        let start = Instant::now();
        let err = fetch(&dns(server), Duration::from_millis(200)).unwrap_err();
        assert!(err.contains("timed out"), "{err}");
        assert!(start.elapsed() < T);
    }

    #[test]
    fn dns_truncated_reply_retried_over_tcp() {
        // A UDP and a TCP socket on the same port (retry if the TCP port is taken).
        let (udp, tcp) = (0..20)
            .find_map(|_| {
                let udp = UdpSocket::bind("127.0.0.1:0").ok()?;
                let tcp = TcpListener::bind(udp.local_addr().ok()?).ok()?;
                Some((udp, tcp))
            })
            .unwrap();
        let server = udp.local_addr().unwrap();
        thread::spawn(move || {
            udp.set_read_timeout(Some(T)).unwrap();
            let mut buf = [0u8; 512];
            let Ok((n, peer)) = udp.recv_from(&mut buf) else {
                return;
            };
            udp.send_to(&reply(&buf[..n], FLAG_TC, &[]), peer).unwrap();
        });
        thread::spawn(move || {
            let (mut conn, _) = tcp.accept().unwrap();
            conn.set_read_timeout(Some(T)).unwrap();
            let mut len = [0u8; 2];
            conn.read_exact(&mut len).unwrap();
            let mut q = vec![0u8; usize::from(u16::from_be_bytes(len))];
            conn.read_exact(&mut q).unwrap();
            let r = reply(&q, 0, &[(QPTR.to_vec(), TYPE_TXT, txt(&[SEEDS]))]);
            conn.write_all(&(r.len() as u16).to_be_bytes()).unwrap();
            conn.write_all(&r).unwrap();
        });
        assert_eq!(fetch(&dns(server), T), Ok(SEEDS.into()));
    }

    #[test]
    fn dns_a_records_rejected() {
        let src = Source::Dns {
            name: DNS_NAME.into(),
            server: "127.0.0.1:9".parse().unwrap(),
            a_records: true,
        };
        let err = fetch(&src, T).unwrap_err();
        assert!(
            err.contains("A records carry no rack/dc/token; use TXT records"),
            "{err}"
        );
    }

    /// Reads one whole message within `wait`, `None` on timeout.
    fn read_update(sock: &mut UnixStream, inbox: &mut Inbox, wait: Duration) -> Option<Update> {
        sock.set_nonblocking(false).unwrap();
        let deadline = Instant::now() + wait;
        loop {
            if let Some(u) = inbox.next() {
                return Some(u);
            }
            sock.set_read_timeout(Some(remaining(deadline)?)).unwrap();
            let mut buf = [0u8; 4096];
            match sock.read(&mut buf) {
                Ok(0) => return None,
                Ok(n) => inbox.feed(&buf[..n]),
                Err(e) if is_timeout(&e) => return None,
                Err(e) => panic!("{e}"),
            }
        }
    }

    fn ok_response(body: &str) -> Vec<u8> {
        format!("HTTP/1.0 200 OK\r\n\r\n{body}").into_bytes()
    }

    #[test]
    fn fetcher_hands_over_changes_only() {
        let addr = http_server(vec![ok_response("A"), ok_response("A\n"), ok_response("B")]);
        let every = Duration::from_millis(50);
        let (fetcher, mut sock) = Fetcher::spawn(florida(addr), every, T).unwrap();
        let mut inbox = Inbox::default();
        let start = Instant::now();
        assert_eq!(
            read_update(&mut sock, &mut inbox, T),
            Some(Update::Seeds("A".into()))
        );
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "first fetch at once"
        );
        // The second fetch returns the same text: the next message is B.
        assert_eq!(
            read_update(&mut sock, &mut inbox, T),
            Some(Update::Seeds("B".into()))
        );
        // B again and again: nothing more.
        assert_eq!(
            read_update(&mut sock, &mut inbox, Duration::from_millis(300)),
            None
        );
        drop(fetcher);
        // The thread stops and closes its end.
        let mut buf = [0u8; 16];
        sock.set_read_timeout(Some(T)).unwrap();
        assert_eq!(sock.read(&mut buf).unwrap(), 0);
    }

    #[test]
    fn fetcher_hands_over_each_error_once() {
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let (_fetcher, mut sock) =
            Fetcher::spawn(florida(addr), Duration::from_millis(30), T).unwrap();
        let mut inbox = Inbox::default();
        match read_update(&mut sock, &mut inbox, T) {
            Some(Update::Error(e)) => assert!(e.contains("connect"), "{e}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            read_update(&mut sock, &mut inbox, Duration::from_millis(300)),
            None
        );
    }

    #[test]
    fn fetcher_exits_when_loop_end_closes() {
        let addr = http_server(vec![ok_response("A"), ok_response("B"), ok_response("C")]);
        let (fetcher, sock) = Fetcher::spawn(florida(addr), Duration::from_millis(20), T).unwrap();
        drop(sock);
        // No SIGPIPE, no panic: the thread notices on its next write and ends.
        thread::sleep(Duration::from_millis(200));
        drop(fetcher);
    }
}
