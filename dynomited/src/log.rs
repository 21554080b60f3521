//! The daemon's logger: Dynomite's levels 0..11, one line per event on stderr or a file.
//!
//! Line format: `[YYYY-MM-DD HH:MM:SS.mmm] <LEVEL> <message>` in local time. The level can
//! change at run time (SIGTTIN / SIGTTOU, `/setloglevel/N`); SIGHUP reopens the file so
//! logrotate can move it away. A log line that cannot be written is dropped, never fatal.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Mutex;

pub const EMERG: i32 = 0;
pub const ALERT: i32 = 1;
pub const CRIT: i32 = 2;
pub const ERR: i32 = 3;
pub const WARN: i32 = 4;
pub const NOTICE: i32 = 5;
pub const INFO: i32 = 6;
pub const DEBUG: i32 = 7;
pub const VERB: i32 = 8;
pub const MAX: i32 = 11;

static LEVEL: AtomicI32 = AtomicI32::new(NOTICE);
static SINK: Mutex<Sink> = Mutex::new(Sink {
    path: None,
    file: None,
});

struct Sink {
    path: Option<PathBuf>,
    file: Option<File>,
}

fn open(path: &PathBuf, mode: u32) -> std::io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(mode)
        .open(path)
}

/// Log to `path` (None = stderr). Fails if the file cannot be opened.
pub fn init(level: i32, path: Option<PathBuf>) -> std::io::Result<()> {
    set_level(level);
    let mut s = SINK.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = &path {
        // 0644 whatever the umask (a daemon runs with umask 0).
        s.file = Some(open(p, 0o644)?);
    }
    s.path = path;
    Ok(())
}

/// Reopen the log file (SIGHUP); on failure keep logging to the old handle.
pub fn reopen() {
    let mut s = SINK.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = s.path.clone() {
        match open(&p, 0o644) {
            Ok(f) => s.file = Some(f),
            Err(e) => {
                drop(s);
                log(
                    ERR,
                    format_args!("reopening log file {} failed: {e}", p.display()),
                );
            }
        }
    }
}

pub fn level() -> i32 {
    LEVEL.load(Ordering::Relaxed)
}

pub fn set_level(l: i32) {
    LEVEL.store(l.clamp(0, MAX), Ordering::Relaxed);
}

pub fn level_up() {
    set_level(level() + 1);
}

pub fn level_down() {
    set_level(level() - 1);
}

pub fn enabled(l: i32) -> bool {
    l <= LEVEL.load(Ordering::Relaxed)
}

fn level_name(l: i32) -> &'static str {
    match l {
        EMERG => "EMERG",
        ALERT => "ALERT",
        CRIT => "CRIT",
        ERR => "ERROR",
        WARN => "WARN",
        NOTICE => "NOTICE",
        INFO => "INFO",
        DEBUG => "DEBUG",
        _ => "VERB",
    }
}

/// Local time broken down, via `localtime_r`.
fn local_now() -> (libc::tm, u32) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as libc::time_t;
    // SAFETY: `tm` is plain old data; all-zero is valid.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers refer to live locals for the duration of the call.
    unsafe { libc::localtime_r(&secs, &mut tm) };
    (tm, now.subsec_millis())
}

pub fn log(l: i32, args: std::fmt::Arguments<'_>) {
    let (tm, ms) = local_now();
    let line = format!(
        "[{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}] {} {}\n",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        ms,
        level_name(l),
        args
    );
    let mut s = SINK.lock().unwrap_or_else(|e| e.into_inner());
    match s.file.as_mut() {
        Some(f) => {
            let _ = f.write_all(line.as_bytes());
        }
        None => {
            let _ = std::io::stderr().write_all(line.as_bytes());
        }
    }
}

#[macro_export]
macro_rules! log_at {
    ($lvl:expr, $($arg:tt)*) => {
        if $crate::log::enabled($lvl) {
            $crate::log::log($lvl, format_args!($($arg)*));
        }
    };
}
#[macro_export]
macro_rules! log_error { ($($arg:tt)*) => { $crate::log_at!($crate::log::ERR, $($arg)*) }; }
#[macro_export]
macro_rules! log_warn { ($($arg:tt)*) => { $crate::log_at!($crate::log::WARN, $($arg)*) }; }
#[macro_export]
macro_rules! log_notice { ($($arg:tt)*) => { $crate::log_at!($crate::log::NOTICE, $($arg)*) }; }
#[macro_export]
macro_rules! log_info { ($($arg:tt)*) => { $crate::log_at!($crate::log::INFO, $($arg)*) }; }
#[macro_export]
macro_rules! log_debug { ($($arg:tt)*) => { $crate::log_at!($crate::log::DEBUG, $($arg)*) }; }
