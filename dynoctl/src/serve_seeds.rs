//! `dynoctl serve-seeds`: a florida-compatible seed endpoint (SPEC C.1, C.5) that nodes with
//! `dyn_seed_provider: florida_provider` poll, serving a seeds file.
//!
//! ```text
//!   GET /REST/v1/admin/get_seeds  ─┐  (paths case-insensitive, query ignored)
//!   GET /api/v1/admin/get_seeds   ─┴─► 200 text/plain  host:port:rack:dc:token|...
//!   anything else                 ───► 404 (405 for a method other than GET/HEAD)
//! ```
//!
//! The file holds one seed per line; blank lines and `#` comments are skipped. Before each
//! answer the file's mtime and size are compared with the last read; on a change it is read
//! again and checked with `peer::parse_seed_list`. A file that became invalid or unreadable is
//! logged on stderr and the last good content keeps being served. One thread, one request per
//! connection (`Connection: close`). It runs until a signal (SIGTERM, SIGINT) ends it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use dynomite::peer::parse_seed_list;

use crate::output::{log, CliError};

/// The request paths answered, lower-case.
const PATHS: [&str; 2] = ["/rest/v1/admin/get_seeds", "/api/v1/admin/get_seeds"];

/// The largest request head read.
const MAX_HEAD: u64 = 16 * 1024;

/// The seeds file and what was last served from it.
struct Seeds {
    path: PathBuf,
    /// (mtime, size) of the content last read, good or bad.
    stamp: Option<(SystemTime, u64)>,
    /// The last valid body.
    body: String,
}

impl Seeds {
    /// Re-read the file if its mtime or size changed; keep the last good body on errors.
    fn refresh(&mut self) {
        let stamp = match std::fs::metadata(&self.path) {
            Ok(m) => (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()),
            Err(e) => {
                if self.stamp.take().is_some() {
                    log(format!(
                        "warning: cannot read {}: {e}; still serving the last good seeds",
                        self.path.display()
                    ));
                }
                return;
            }
        };
        if self.stamp == Some(stamp) {
            return;
        }
        self.stamp = Some(stamp);
        match read_body(&self.path) {
            Ok((body, n)) => {
                if body != self.body {
                    log(format!("serving {n} seed(s) from {}", self.path.display()));
                }
                self.body = body;
            }
            Err(e) => log(format!("warning: {e}; still serving the last good seeds")),
        }
    }
}

/// The file's seeds joined by `|`, and their number, or why the file is not a seed list.
fn read_body(path: &Path) -> Result<(String, usize), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let body = lines.join("|");
    let recs = parse_seed_list(&body)
        .map_err(|e| format!("{} is not a seed list: {e}", path.display()))?;
    Ok((body, recs.len()))
}

/// Serve `file` on `listen` until the process is killed. Returns only on a start-up error.
pub fn run(file: &Path, listen: &str) -> Result<(), CliError> {
    let (body, n) = read_body(file).map_err(|e| {
        CliError::new(e).with_hint("one host:port:rack:dc:token per line; # starts a comment")
    })?;
    let listener = TcpListener::bind(listen).map_err(|e| {
        CliError::new(format!("cannot listen on {listen}: {e}"))
            .with_hint("give a free HOST:PORT, e.g. 127.0.0.1:8080")
    })?;
    if n == 0 {
        log(format!(
            "warning: {} holds no seeds; nodes will log \"No seeds were found\"",
            file.display()
        ));
    }
    let local = listener
        .local_addr()
        .map_or_else(|_| listen.to_string(), |a| a.to_string());
    let stamp = std::fs::metadata(file)
        .ok()
        .map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()));
    let mut seeds = Seeds {
        path: file.to_path_buf(),
        stamp,
        body,
    };
    log(format!(
        "serving {n} seed(s) from {} on http://{local}/REST/v1/admin/get_seeds (and /api/v1/admin/get_seeds)",
        file.display()
    ));
    for conn in listener.incoming() {
        match conn {
            Ok(stream) => {
                let peer = stream
                    .peer_addr()
                    .map_or_else(|_| "?".to_string(), |a| a.to_string());
                if let Err(e) = handle(stream, &mut seeds) {
                    log(format!("warning: request from {peer}: {e}"));
                }
            }
            // EMFILE and friends: wait a little instead of spinning.
            Err(e) => {
                log(format!("warning: accept: {e}"));
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    Ok(())
}

/// Answer one request on `stream`.
fn handle(stream: TcpStream, seeds: &mut Seeds) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new((&stream).take(MAX_HEAD));
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Read (and drop) the rest of the head so the client sees its request consumed.
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split(['?', '#']).next().unwrap_or("");
    let path = path.to_ascii_lowercase();
    let path = path.trim_end_matches('/');
    let (status, body) = if !PATHS.contains(&path) {
        (
            "404 Not Found",
            "not found; try GET /REST/v1/admin/get_seeds\n".to_string(),
        )
    } else if method != "GET" && method != "HEAD" {
        ("405 Method Not Allowed", "only GET\n".to_string())
    } else {
        seeds.refresh();
        ("200 OK", seeds.body.clone())
    };
    let mut w = &stream;
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    w.write_all(head.as_bytes())?;
    if method != "HEAD" {
        w.write_all(body.as_bytes())?;
    }
    w.flush()
}
