//! Helpers for the end-to-end tests: free ports, real processes killed by PID on drop,
//! a raw RESP client that frames replies with our own reply parser, a tiny HTTP GET.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use dynomite::proto::{redis::RspParser, Parse, RspInfo};

pub const DYNOMITED: &str = env!("CARGO_BIN_EXE_dynomited");

/// A port nobody listens on right now. Ports come from below the kernel's ephemeral range
/// (where bind(0) and every outgoing connection take theirs, so a port found that way can be
/// taken by someone else before our server binds it), sequentially from an offset that
/// depends on the test process (nextest runs each test in its own process), and are checked
/// free by binding them once.
pub fn free_port() -> u16 {
    const LOW: u32 = 10_000;
    const SPAN: u32 = 22_000; // 10000..32000, below the default ephemeral range (32768..)
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let offset = std::process::id().wrapping_mul(7919) % SPAN;
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        assert!(n < SPAN, "no free port left");
        let port = (LOW + (offset + n) % SPAN) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Poll `f` until it returns Some or the deadline passes.
pub fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        if Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A scratch directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "dynomite-e2e-{}-{}-{}",
            std::process::id(),
            tag,
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process killed (by its PID) and reaped on drop.
pub struct Proc {
    pub child: Option<Child>,
}

impl Proc {
    pub fn pid(&self) -> i32 {
        self.child.as_ref().map(|c| c.id() as i32).unwrap_or(-1)
    }
    pub fn signal(&self, sig: i32) {
        if self.pid() > 0 {
            // SAFETY: sending a signal to a pid we spawned; no memory is involved.
            unsafe { libc::kill(self.pid(), sig) };
        }
    }
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
    /// Wait for the process to exit by itself; returns its exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        let c = self.child.as_mut()?;
        loop {
            if let Ok(Some(st)) = c.try_wait() {
                self.child = None;
                return st.code();
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

pub struct Redis {
    pub proc: Proc,
    pub port: u16,
    pub extra: Vec<String>,
    /// Its own working directory: a replica's RDB (warm-up tests) must never be found and
    /// loaded by a later redis-server started in a shared directory.
    dir: TempDir,
}

impl Redis {
    pub fn start() -> Redis {
        Redis::start_with(&[])
    }
    pub fn start_with(extra: &[&str]) -> Redis {
        let port = free_port();
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let dir = TempDir::new("redis");
        let proc = spawn_redis(port, &extra, dir.path());
        Redis {
            proc,
            port,
            extra,
            dir,
        }
    }
    /// Start again on the same port (after a kill).
    pub fn restart(&mut self) {
        self.proc.kill();
        self.proc = spawn_redis(self.port, &self.extra, self.dir.path());
    }
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

fn spawn_redis(port: u16, extra: &[String], dir: &Path) -> Proc {
    let mut cmd = Command::new("redis-server");
    cmd.arg("--dir").arg(dir);
    cmd.args([
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--protected-mode",
        "no",
        "--daemonize",
        "no",
        "--loglevel",
        "warning",
    ]);
    cmd.args(extra);
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    let child = cmd
        .spawn()
        .expect("redis-server must be installed (apt-get install redis-server)");
    let p = Proc { child: Some(child) };
    wait_for("redis-server to listen", Duration::from_secs(10), || {
        TcpStream::connect(("127.0.0.1", port)).ok()
    });
    p
}

pub struct Memcached {
    pub proc: Proc,
    pub port: u16,
}

impl Memcached {
    pub fn start() -> Memcached {
        let port = free_port();
        let child = Command::new("memcached")
            .args([
                "-p",
                &port.to_string(),
                "-U",
                "0",
                "-l",
                "127.0.0.1",
                "-m",
                "64",
            ])
            .args(if nix_is_root() {
                vec!["-u", "root"]
            } else {
                vec![]
            })
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("memcached must be installed (apt-get install memcached)");
        let proc = Proc { child: Some(child) };
        wait_for("memcached to listen", Duration::from_secs(10), || {
            TcpStream::connect(("127.0.0.1", port)).ok()
        });
        Memcached { proc, port }
    }
}

fn nix_is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A running dynomited with its config and log in a temp dir.
pub struct Node {
    pub proc: Proc,
    pub port: u16,
    pub stats_port: u16,
    /// Holds the config and log; removed with the node.
    _dir: TempDir,
    pub log: PathBuf,
}

/// The config of a single node in front of `backend` (`host:port`).
pub fn single_conf(port: u16, stats: u16, backend: &str, data_store: u8, extra: &str) -> String {
    let timeout = if extra.contains("timeout:") {
        ""
    } else {
        "  timeout: 3000\n"
    };
    format!(
        "dyn_o_mite:\n  listen: 127.0.0.1:{port}\n  dyn_listen: 127.0.0.1:{dyn_port}\n  stats_listen: 127.0.0.1:{stats}\n  servers:\n  - {backend}:1\n  tokens: '1383429731'\n  data_store: {data_store}\n{timeout}{extra}",
        dyn_port = free_port()
    )
}

impl Node {
    /// Start a node in front of `backend` with extra config lines (indented two spaces).
    pub fn start(backend: &str, data_store: u8, extra: &str) -> Node {
        let port = free_port();
        let stats_port = free_port();
        let text = single_conf(port, stats_port, backend, data_store, extra);
        Node::start_conf(&text, port, stats_port, &[])
    }

    pub fn start_conf(text: &str, port: u16, stats_port: u16, args: &[&str]) -> Node {
        Node::start_conf_env(text, port, stats_port, args, &[])
    }

    /// The same with environment variables for the daemon.
    pub fn start_conf_env(
        text: &str,
        port: u16,
        stats_port: u16,
        args: &[&str],
        envs: &[(&str, String)],
    ) -> Node {
        let dir = TempDir::new("node");
        let conf = dir.path().join("dynomite.yml");
        std::fs::write(&conf, text).unwrap();
        let log = dir.path().join("dynomited.log");
        let proc = Node::spawn(&conf, &log, port, stats_port, args, envs);
        Node {
            proc,
            port,
            stats_port,
            _dir: dir,
            log,
        }
    }

    /// The node's config file (rewrite it and send SIGHUP to reload).
    pub fn conf_path(&self) -> PathBuf {
        self._dir.path().join("dynomite.yml")
    }

    /// Kill the node (by PID) and start it again with the same config and log file.
    pub fn restart(&mut self) {
        self.proc.kill();
        let conf = self._dir.path().join("dynomite.yml");
        self.proc = Node::spawn(&conf, &self.log, self.port, self.stats_port, &[], &[]);
    }

    fn spawn(
        conf: &Path,
        log: &Path,
        port: u16,
        stats_port: u16,
        args: &[&str],
        envs: &[(&str, String)],
    ) -> Proc {
        let child = Command::new(DYNOMITED)
            .arg("-c")
            .arg(conf)
            .arg("-o")
            .arg(log)
            .args(["-v", "6"])
            .args(args)
            .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn dynomited");
        let mut proc = Proc { child: Some(child) };
        let started = wait_for_result("dynomited to listen", Duration::from_secs(10), || {
            if let Some(c) = proc.child.as_mut() {
                if let Ok(Some(st)) = c.try_wait() {
                    let mut err = String::new();
                    if let Some(mut e) = c.stderr.take() {
                        let _ = e.read_to_string(&mut err);
                    }
                    let logtext = std::fs::read_to_string(log).unwrap_or_default();
                    return Some(Err(format!("dynomited exited {st}: {err}\n{logtext}")));
                }
            }
            let a = TcpStream::connect(("127.0.0.1", port)).is_ok();
            let b = TcpStream::connect(("127.0.0.1", stats_port)).is_ok();
            (a && b).then_some(Ok(()))
        });
        if let Err(e) = started {
            proc.kill();
            panic!("{e}");
        }
        proc
    }

    pub fn client(&self) -> Resp {
        Resp::connect(self.port)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Wait until the node answers through to its own datastore (a GET of a key at DC_ONE,
    /// which a node can serve before its peers are up).
    pub fn wait_backend(&self) {
        wait_for("the datastore connection", Duration::from_secs(10), || {
            let mut c = Resp::try_connect(self.port)?;
            c.cmd(&["dyno_config:conn_consistency", "DC_ONE"]);
            let r = c.cmd(&["GET", "__probe__"]);
            (!r.starts_with(b"-")).then_some(())
        });
    }
}

fn wait_for_result<T>(what: &str, timeout: Duration, f: impl FnMut() -> Option<T>) -> T {
    wait_for(what, timeout, f)
}

/// Encode a command as RESP.
pub fn encode(args: &[&[u8]]) -> Vec<u8> {
    dynomite::client::encode(args)
}

pub fn encode_str(args: &[&str]) -> Vec<u8> {
    let v: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    encode(&v)
}

/// A raw RESP connection: replies are returned as their exact bytes.
pub struct Resp {
    pub stream: TcpStream,
    buf: Vec<u8>,
    parser: RspParser,
}

impl Resp {
    pub fn connect(port: u16) -> Resp {
        Resp::try_connect(port).unwrap_or_else(|| panic!("connect to 127.0.0.1:{port}"))
    }
    /// Connect to `host:port` (not only loopback: the partition test's namespaces).
    pub fn connect_addr(addr: &str) -> Resp {
        let a: SocketAddr = addr.parse().expect("an ip:port address");
        let stream = TcpStream::connect_timeout(&a, Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.set_nodelay(true).unwrap();
        Resp {
            stream,
            buf: Vec::new(),
            parser: RspParser::new(),
        }
    }
    pub fn try_connect(port: u16) -> Option<Resp> {
        let stream = TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port))).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .ok()?;
        stream.set_nodelay(true).ok()?;
        Some(Resp {
            stream,
            buf: Vec::new(),
            parser: RspParser::new(),
        })
    }
    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }
    /// Read one whole reply, framed by our reply parser.
    pub fn read_reply(&mut self) -> Vec<u8> {
        self.try_read_reply()
            .expect("a reply before the read timeout")
    }
    pub fn try_read_reply(&mut self) -> Option<Vec<u8>> {
        let mut scanned = 0usize;
        loop {
            if scanned < self.buf.len() {
                let mut info = RspInfo::default();
                match self.parser.feed(&self.buf[scanned..], &mut info) {
                    Parse::Done { consumed } => {
                        let end = scanned + consumed;
                        let reply: Vec<u8> = self.buf.drain(..end).collect();
                        return Some(reply);
                    }
                    Parse::Incomplete => scanned = self.buf.len(),
                }
            }
            let mut tmp = [0u8; 65536];
            match self.stream.read(&mut tmp) {
                Ok(0) => return None,
                Ok(n) => self.buf.extend_from_slice(&tmp[..n]),
                Err(_) => return None,
            }
        }
    }
    pub fn cmd(&mut self, args: &[&str]) -> Vec<u8> {
        self.send(&encode_str(args));
        self.read_reply()
    }
    /// Send every command in one write, then read one reply per command.
    pub fn pipeline(&mut self, cmds: &[Vec<&str>]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for c in cmds {
            out.extend_from_slice(&encode_str(c));
        }
        self.send(&out);
        cmds.iter().map(|_| self.read_reply()).collect()
    }
    pub fn cmd_bytes(&mut self, args: &[&[u8]]) -> Vec<u8> {
        self.send(&encode(args));
        self.read_reply()
    }
    /// True once the server has closed the connection (read returns EOF).
    pub fn is_closed(&mut self) -> bool {
        let mut b = [0u8; 1];
        matches!(self.stream.read(&mut b), Ok(0))
    }
}

/// A redis-server and a dynomited in front of it, the datastore connected.
pub fn redis_node() -> (Redis, Node) {
    let r = Redis::start();
    let n = Node::start(&r.addr(), 0, "");
    n.wait_backend();
    (r, n)
}

/// CPU clock ticks (user + system) a process has used, from /proc.
pub fn cpu_ticks(pid: i32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let f: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

/// Minimal HTTP/1.0 GET; returns (head, body).
pub fn http_get(port: u16, path: &str) -> (String, String) {
    http_req(port, "GET", path)
}

pub fn http_req(port: u16, method: &str, path: &str) -> (String, String) {
    http_req_with(port, method, path, "")
}

/// [`http_req`] with more header lines (each ending in CRLF).
pub fn http_req_with(port: u16, method: &str, path: &str, headers: &str) -> (String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect stats");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: localhost\r\n{headers}Content-Length: 0\r\n\r\n"
    )
    .unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    match text.split_once("\r\n\r\n") {
        Some((h, b)) => (h.to_string(), b.to_string()),
        None => (text, String::new()),
    }
}

pub fn s(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Run a Python client `script` with `args` (after `check`, an expression that is true when
/// the client library the script needs is installed; `install` says how to get it); its
/// stdout. Fails the test, with the script's output, when the script does.
pub fn python(check: &str, install: &str, script: &str, args: &[&str]) -> String {
    let probe = format!("import sys\nsys.exit(0 if ({check}) else 1)");
    let ok = Command::new("python3")
        .args(["-c", &probe])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "python3 with {check} is required: {install}");
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "the python client failed:\n{}\n{}",
        s(&out.stdout),
        s(&out.stderr)
    );
    s(&out.stdout)
}

/// [`python`] with redis-py 5 or later.
pub fn redis_py(script: &str, args: &[&str]) -> String {
    python(
        "__import__('redis') and int(__import__('redis').__version__.split('.')[0]) >= 5",
        "pip install 'redis>=8'",
        script,
        args,
    )
}

/// Writers for a churn test: one thread per port, each pipelining `SET <prefix><w>:<n> v`
/// in batches of 100 (`w` its index) until `stop` or `max` writes, a pause of `pace` before
/// each batch; bounded to 60 s. Each returns how many writes were acknowledged; a write
/// that fails through a live node fails the test.
pub fn set_writers(
    ports: &[u16],
    prefix: &str,
    max: usize,
    pace: Duration,
    stop: &std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Vec<std::thread::JoinHandle<usize>> {
    ports
        .iter()
        .enumerate()
        .map(|(w, &port)| {
            let (stop, prefix) = (stop.clone(), prefix.to_string());
            std::thread::spawn(move || {
                let mut c = Resp::connect(port);
                let (mut acked, t) = (0usize, std::time::Instant::now());
                while acked < max && !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    std::thread::sleep(pace);
                    assert!(t.elapsed() < Duration::from_secs(60));
                    let keys: Vec<String> = (acked..acked + 100)
                        .map(|k| format!("{prefix}{w}:{k}"))
                        .collect();
                    let cmds: Vec<Vec<&str>> =
                        keys.iter().map(|k| vec!["SET", k.as_str(), "v"]).collect();
                    let ok = c.pipeline(&cmds).iter().all(|r| r == b"+OK\r\n");
                    assert!(ok, "a write through a live node failed");
                    acked += 100;
                }
                acked
            })
        })
        .collect()
}

impl Node {
    /// [`Node::wait_backend`] for a node whose clients must log in with `password`.
    pub fn wait_backend_authed(&self, password: &str) {
        wait_for("the datastore connection", Duration::from_secs(10), || {
            let mut c = Resp::try_connect(self.port)?;
            (c.cmd(&["AUTH", password]) == b"+OK\r\n").then_some(())?;
            let r = c.cmd(&["GET", "__probe__"]);
            (!r.starts_with(b"-")).then_some(())
        });
    }
}
