//! TLS: the client listener (`tls_listen`) with redis-cli, redis-py, pymemcache and a rustls
//! client, beside the plain listener; mutual TLS; certificates swapped and SIGHUP'd; and
//! dynomited reaching a redis-server that only listens on its `tls-port`.
//!
//! Certificates are made at test time with the `openssl` command (a CA, server certificates
//! for 127.0.0.1 with known serials, client certificates from that CA and from another).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::util::*;

/// A test PKI in a temp dir: `ca`, `server` (serial 1001), `server2` (serial 1002, the
/// reload), `client` (from `ca`), `evilclient` (from another CA, `evil`).
struct Pki {
    dir: TempDir,
}

const GEN: &str = r#"set -e
ca() { openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout $1.key -out $1.crt -subj "/CN=$1" -days 2 -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null; }
leaf() {
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout $1.key -out $1.csr -subj "/CN=$1" 2>/dev/null
  printf 'basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' > $1.ext
  openssl x509 -req -in $1.csr -CA $2.crt -CAkey $2.key -set_serial $3 -days 2 -extfile $1.ext -out $1.crt 2>/dev/null
}
ca ca; ca evil; leaf server ca 1001; leaf server2 ca 1002; leaf client ca 2001; leaf evilclient evil 3001
"#;

impl Pki {
    fn new() -> Pki {
        let dir = TempDir::new("pki");
        let st = Command::new("sh")
            .arg("-c")
            .arg(GEN)
            .current_dir(dir.path())
            .status()
            .expect("the openssl command must be installed");
        assert!(st.success(), "generating test certificates");
        Pki { dir }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn p(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }
    /// A copy of `name`'s certificate and key as `live.crt`/`live.key` (what the node is
    /// configured with, so a test can swap it).
    fn install(&self, name: &str) {
        for ext in ["crt", "key"] {
            std::fs::copy(
                self.path(&format!("{name}.{ext}")),
                self.path(&format!("live.{ext}.new")),
            )
            .unwrap();
            std::fs::rename(
                self.path(&format!("live.{ext}.new")),
                self.path(&format!("live.{ext}")),
            )
            .unwrap();
        }
    }
    /// Config lines of a TLS listener on `port` serving `live.crt`.
    fn listener(&self, port: u16, mutual: bool) -> String {
        let mut s = format!(
            "  tls_listen: 127.0.0.1:{port}\n  tls_cert_file: {}\n  tls_key_file: {}\n",
            self.p("live.crt"),
            self.p("live.key")
        );
        if mutual {
            s += &format!("  tls_ca_file: {}\n", self.p("ca.crt"));
        }
        s
    }
}

/// A blocking rustls client: the server's certificate checked against `ca`, with a client
/// certificate when `client` names one.
struct TlsClient {
    s: rustls::StreamOwned<rustls::ClientConnection, TcpStream>,
    buf: Vec<u8>,
}

impl TlsClient {
    fn connect(port: u16, pki: &Pki, client: Option<&str>) -> std::io::Result<TlsClient> {
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_file_iter(pki.path("ca.crt")).unwrap() {
            roots.add(c.unwrap()).unwrap();
        }
        let b = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
        let config = match client {
            Some(name) => {
                let chain = CertificateDer::pem_file_iter(pki.path(&format!("{name}.crt")))
                    .unwrap()
                    .map(|c| c.unwrap())
                    .collect();
                let key = PrivateKeyDer::from_pem_file(pki.path(&format!("{name}.key"))).unwrap();
                b.with_client_auth_cert(chain, key).unwrap()
            }
            None => b.with_no_client_auth(),
        };
        let conn = rustls::ClientConnection::new(Arc::new(config), "127.0.0.1".try_into().unwrap())
            .map_err(std::io::Error::other)?;
        let tcp = TcpStream::connect(("127.0.0.1", port))?;
        tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut s = rustls::StreamOwned::new(conn, tcp);
        while s.conn.is_handshaking() {
            s.conn.complete_io(&mut s.sock)?;
        }
        Ok(TlsClient { s, buf: Vec::new() })
    }

    /// The certificate the server presented.
    fn server_cert(&self) -> Vec<u8> {
        self.s.conn.peer_certificates().unwrap()[0].to_vec()
    }

    fn cmd(&mut self, args: &[&str]) -> std::io::Result<Vec<u8>> {
        self.s.write_all(&encode_str(args))?;
        self.s.flush()?;
        loop {
            let mut p = dynomite::proto::redis::RspParser::new();
            let mut info = dynomite::proto::RspInfo::default();
            if let dynomite::proto::Parse::Done { consumed } = p.feed(&self.buf, &mut info) {
                return Ok(self.buf.drain(..consumed).collect());
            }
            let mut tmp = [0u8; 4096];
            match self.s.read(&mut tmp)? {
                0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                n => self.buf.extend_from_slice(&tmp[..n]),
            }
        }
    }
}

fn cert_der(path: &Path) -> Vec<u8> {
    CertificateDer::from_pem_file(path).unwrap().to_vec()
}

/// `redis-cli --tls` with `args`; (exit status ok, stdout + stderr).
fn redis_cli_tls(port: u16, pki: &Pki, client: Option<&str>, args: &[&str]) -> (bool, String) {
    let mut cmd = Command::new("redis-cli");
    cmd.args([
        "-p",
        &port.to_string(),
        "--tls",
        "--cacert",
        &pki.p("ca.crt"),
    ]);
    if let Some(c) = client {
        cmd.args(["--cert", &pki.p(&format!("{c}.crt"))]);
        cmd.args(["--key", &pki.p(&format!("{c}.key"))]);
    }
    let out = cmd
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("redis-cli runs");
    (
        out.status.success(),
        format!("{}{}", s(&out.stdout), s(&out.stderr)),
    )
}

fn info_num(stats_port: u16, key: &str) -> u64 {
    let (_, body) = http_get(stats_port, "/info");
    let v: serde_json::Value = serde_json::from_str(&body).expect("/info is JSON");
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} in /info: {body}"))
}

/// A node in front of a plain redis-server with a TLS listener (optionally mutual).
fn tls_node(pki: &Pki, mutual: bool) -> (Redis, Node, u16) {
    pki.install("server");
    let r = Redis::start();
    let tls_port = free_port();
    let n = Node::start(&r.addr(), 0, &pki.listener(tls_port, mutual));
    n.wait_backend();
    (r, n, tls_port)
}

#[test]
fn tls_redis_cli_and_redis_py_beside_the_plain_listener() {
    let pki = Pki::new();
    let (_r, n, tls_port) = tls_node(&pki, false);

    let (ok, out) = redis_cli_tls(tls_port, &pki, None, &["SET", "tls:k", "over-tls"]);
    assert!(ok && out.trim() == "OK", "{out}");
    let (ok, out) = redis_cli_tls(tls_port, &pki, None, &["GET", "tls:k"]);
    assert!(ok && out.trim() == "over-tls", "{out}");
    // The plain listener of the same node sees it, and the other way round.
    let mut plain = n.client();
    assert_eq!(plain.cmd(&["GET", "tls:k"]), b"$8\r\nover-tls\r\n");
    assert_eq!(plain.cmd(&["SET", "plain:k", "v"]), b"+OK\r\n");
    let (_, out) = redis_cli_tls(tls_port, &pki, None, &["GET", "plain:k"]);
    assert_eq!(out.trim(), "v");

    // Pipelined: redis-cli --pipe sends the whole stream at once.
    let mut stream = Vec::new();
    for i in 0..500 {
        stream.extend_from_slice(&encode_str(&["SET", &format!("pipe:{i}"), &i.to_string()]));
    }
    let mut child = Command::new("redis-cli")
        .args([
            "-p",
            &tls_port.to_string(),
            "--tls",
            "--cacert",
            &pki.p("ca.crt"),
            "--pipe",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&stream).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = s(&out.stdout);
    assert!(
        text.contains("errors: 0, replies: 500"),
        "{text}{}",
        s(&out.stderr)
    );
    assert_eq!(plain.cmd(&["GET", "pipe:499"]), b"$3\r\n499\r\n");

    // redis-py with ssl=True: single commands and a pipeline of 200.
    let script = r#"
import sys, redis
r = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]), ssl=True, ssl_ca_certs=sys.argv[2])
assert r.set("py:k", "v1")
assert r.get("py:k") == b"v1", r.get("py:k")
p = r.pipeline(transaction=False)
for i in range(200):
    p.set(f"py:{i}", i)
for i in range(200):
    p.get(f"py:{i}")
res = p.execute()
assert res[:200] == [True] * 200, res[:3]
assert res[200:] == [str(i).encode() for i in range(200)], res[200:203]
print("ok")
"#;
    let out = redis_py(script, &[&tls_port.to_string(), &pki.p("ca.crt")]);
    assert_eq!(out.trim(), "ok");
    assert_eq!(plain.cmd(&["GET", "py:199"]), b"$3\r\n199\r\n");

    // A plain client on the TLS port is not served (its bytes are no TLS record).
    let mut wrong = Resp::connect(tls_port);
    wrong.send(&encode_str(&["PING"]));
    assert!(wrong
        .try_read_reply()
        .is_none_or(|r| !r.starts_with(b"+PONG")));
    assert!(info_num(n.stats_port, "tls_handshakes") >= 5);
    wait_for("the failure counted", Duration::from_secs(5), || {
        (info_num(n.stats_port, "tls_handshake_failures") >= 1).then_some(())
    });
}

#[test]
fn tls_memcached_client_through_the_tls_listener() {
    let pki = Pki::new();
    pki.install("server");
    let mc = Memcached::start();
    let tls_port = free_port();
    let n = Node::start(
        &format!("127.0.0.1:{}", mc.port),
        1,
        &pki.listener(tls_port, false),
    );
    let script = r#"
import sys, ssl
from pymemcache.client.base import Client
ctx = ssl.create_default_context(cafile=sys.argv[2])
c = Client(("127.0.0.1", int(sys.argv[1])), tls_context=ctx, connect_timeout=5, timeout=5)
for _ in range(100):
    try:
        c.set("warm", "1")
        break
    except Exception:
        import time; time.sleep(0.1)
assert c.set("mc:k", b"over-tls", noreply=False)
assert c.get("mc:k") == b"over-tls", c.get("mc:k")
assert c.get_many(["mc:k", "warm"]) == {"mc:k": b"over-tls", "warm": b"1"}
print("ok")
"#;
    let out = python(
        "__import__('pymemcache')",
        "pip install pymemcache",
        script,
        &[&tls_port.to_string(), &pki.p("ca.crt")],
    );
    assert_eq!(out.trim(), "ok");
    // The plain listener serves the same data.
    let mut plain = TcpStream::connect(("127.0.0.1", n.port)).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    plain.write_all(b"get mc:k\r\n").unwrap();
    let mut got = Vec::new();
    let mut tmp = [0u8; 256];
    while !got.ends_with(b"END\r\n") {
        let k = plain.read(&mut tmp).unwrap();
        assert!(k > 0);
        got.extend_from_slice(&tmp[..k]);
    }
    assert_eq!(got, b"VALUE mc:k 0 8\r\nover-tls\r\nEND\r\n");
}

#[test]
fn tls_mutual_refuses_clients_without_the_right_certificate() {
    let pki = Pki::new();
    let (_r, n, tls_port) = tls_node(&pki, true);

    let (_, out) = redis_cli_tls(tls_port, &pki, None, &["PING"]);
    assert!(!out.contains("PONG"), "no client certificate: {out}");
    let (_, out) = redis_cli_tls(tls_port, &pki, Some("evilclient"), &["PING"]);
    assert!(!out.contains("PONG"), "a certificate of another CA: {out}");
    let (ok, out) = redis_cli_tls(tls_port, &pki, Some("client"), &["PING"]);
    assert!(ok && out.trim() == "PONG", "the right certificate: {out}");

    // The same with a rustls client: refused before any request runs.
    for who in [None, Some("evilclient")] {
        let refused = match TlsClient::connect(tls_port, &pki, who) {
            Err(_) => true,
            Ok(mut c) => c.cmd(&["SET", "mtls:k", "bad"]).is_err(),
        };
        assert!(refused, "{who:?} must be refused");
    }
    let mut good = TlsClient::connect(tls_port, &pki, Some("client")).unwrap();
    assert_eq!(good.cmd(&["GET", "mtls:k"]).unwrap(), b"$-1\r\n");
    assert!(info_num(n.stats_port, "tls_handshake_failures") >= 4);
    assert!(info_num(n.stats_port, "tls_handshakes") >= 2);
}

#[test]
fn tls_certificate_swapped_and_sighupped_serves_new_connections() {
    let pki = Pki::new();
    let (_r, n, tls_port) = tls_node(&pki, false);
    let mut old = TlsClient::connect(tls_port, &pki, None).unwrap();
    assert_eq!(old.server_cert(), cert_der(&pki.path("server.crt")));
    assert_eq!(old.cmd(&["SET", "reload:k", "1"]).unwrap(), b"+OK\r\n");

    pki.install("server2");
    n.proc.signal(libc::SIGHUP);
    let new_cert = cert_der(&pki.path("server2.crt"));
    wait_for(
        "the new certificate served",
        Duration::from_secs(10),
        || {
            let c = TlsClient::connect(tls_port, &pki, None).ok()?;
            (c.server_cert() == new_cert).then_some(())
        },
    );
    // Its serial, as openssl sees it.
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "openssl s_client -connect 127.0.0.1:{tls_port} -CAfile {} </dev/null 2>/dev/null | openssl x509 -noout -serial -subject",
            pki.p("ca.crt")
        ))
        .output()
        .unwrap();
    let text = s(&out.stdout);
    assert!(
        text.contains("serial=03EA") && text.contains("server2"),
        "{text}"
    );
    // The connection opened before the reload keeps working.
    assert_eq!(old.cmd(&["GET", "reload:k"]).unwrap(), b"$1\r\n1\r\n");
    let mut fresh = TlsClient::connect(tls_port, &pki, None).unwrap();
    assert_eq!(fresh.cmd(&["GET", "reload:k"]).unwrap(), b"$1\r\n1\r\n");

    // A broken file on reload: logged with the file, line and key; the running one stays.
    std::fs::write(pki.path("live.crt"), "not a certificate\n").unwrap();
    n.proc.signal(libc::SIGHUP);
    let line = wait_for("the reload refused", Duration::from_secs(10), || {
        n.log_text()
            .lines()
            .find(|l| l.contains("the running TLS certificates stay"))
            .map(str::to_string)
    });
    assert!(
        line.contains("dynomite.yml:") && line.contains("dyn_o_mite.tls_cert_file:"),
        "{line}"
    );
    assert!(line.contains("holds no certificate"), "{line}");
    let c = TlsClient::connect(tls_port, &pki, None).unwrap();
    assert_eq!(c.server_cert(), new_cert);
    assert_eq!(old.cmd(&["GET", "reload:k"]).unwrap(), b"$1\r\n1\r\n");
}

#[test]
fn tls_bad_certificate_file_at_start_names_file_line_and_key() {
    let pki = Pki::new();
    let dir = TempDir::new("tls-bad");
    let conf = dir.path().join("bad.yml");
    std::fs::write(
        &conf,
        format!(
            "dyn_o_mite:\n  listen: 127.0.0.1:{}\n  servers:\n  - 127.0.0.1:6379:1\n  tls_listen: 127.0.0.1:{}\n  tls_cert_file: {}\n  tls_key_file: {}\n",
            free_port(),
            free_port(),
            pki.p("server.crt"),
            pki.p("client.key"),
        ),
    )
    .unwrap();
    // The node refuses to start (exit 1) and says why on stderr.
    let start = || {
        let out = Command::new(DYNOMITED)
            .arg("-c")
            .arg(&conf)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        s(&out.stderr)
    };
    let err = start();
    assert!(
        err.contains("bad.yml:7: dyn_o_mite.tls_key_file:") && err.contains("does not go with"),
        "{err}"
    );
    std::fs::write(
        &conf,
        std::fs::read_to_string(&conf)
            .unwrap()
            .replace(&pki.p("client.key"), "/nonexistent/key.pem"),
    )
    .unwrap();
    let err = start();
    assert!(
        err.contains("bad.yml:7: dyn_o_mite.tls_key_file: cannot read \"/nonexistent/key.pem\""),
        "{err}"
    );
}

/// A redis-server listening only on its TLS port, with the test PKI's server certificate.
fn tls_redis(pki: &Pki, auth_clients: &str) -> (Proc, u16, TempDir) {
    let port = free_port();
    let dir = TempDir::new("redis-tls");
    let child = Command::new("redis-server")
        .arg("--dir")
        .arg(dir.path())
        .args([
            "--port",
            "0",
            "--tls-port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .args(["--tls-cert-file", &pki.p("server.crt")])
        .args(["--tls-key-file", &pki.p("server.key")])
        .args(["--tls-ca-cert-file", &pki.p("ca.crt")])
        .args(["--tls-auth-clients", auth_clients])
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .args(["--protected-mode", "no", "--loglevel", "warning"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server");
    let p = Proc { child: Some(child) };
    wait_for("redis-server's tls-port", Duration::from_secs(10), || {
        TcpStream::connect(("127.0.0.1", port)).ok()
    });
    (p, port, dir)
}

#[test]
fn tls_datastore_reached_on_its_tls_port() {
    let pki = Pki::new();
    for (auth, client) in [("optional", false), ("yes", true)] {
        let (_redis, port, _dir) = tls_redis(&pki, auth);
        let mut extra = format!(
            "  datastore_tls: true\n  datastore_tls_ca_file: {}\n",
            pki.p("ca.crt")
        );
        if client {
            extra += &format!(
                "  datastore_tls_cert_file: {}\n  datastore_tls_key_file: {}\n",
                pki.p("client.crt"),
                pki.p("client.key")
            );
        }
        let n = Node::start(&format!("127.0.0.1:{port}"), 0, &extra);
        n.wait_backend();
        let mut c = n.client();
        assert_eq!(c.cmd(&["SET", "ds:k", auth]), b"+OK\r\n");
        let want = format!("${}\r\n{auth}\r\n", auth.len());
        assert_eq!(c.cmd(&["GET", "ds:k"]), want.as_bytes());
        let replies = c.pipeline(&(0..100).map(|_| vec!["INCR", "ds:n"]).collect::<Vec<_>>());
        assert_eq!(replies.last().unwrap(), b":100\r\n");
        // It is really in that redis-server.
        let (ok, out) = redis_cli_tls(port, &pki, Some("client"), &["GET", "ds:k"]);
        assert!(ok && out.trim() == auth, "{out}");
        assert!(info_num(n.stats_port, "datastore_tls_handshakes") >= 1);
    }

    // tls-auth-clients yes and no client certificate: the datastore refuses the node.
    let (_redis, port, _dir) = tls_redis(&pki, "yes");
    let extra = format!(
        "  datastore_tls: true\n  datastore_tls_ca_file: {}\n",
        pki.p("ca.crt")
    );
    let n = Node::start(&format!("127.0.0.1:{port}"), 0, &extra);
    let mut c = n.client();
    let r = c.cmd(&["GET", "ds:k"]);
    assert!(r.starts_with(b"-"), "{}", s(&r));
    // Under TLS 1.3 the datastore refuses the missing certificate after the handshake
    // (an alert on the first read): the connection fails and the log says why.
    wait_for("the refusal logged", Duration::from_secs(10), || {
        n.log_text().contains("CertificateRequired").then_some(())
    });
}
