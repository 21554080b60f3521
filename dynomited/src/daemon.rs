//! Process management around the loop: the checks made before the node detaches, detaching
//! (`-d`) with a readiness pipe, and nothing else. The event loop never forks.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

use crate::conf::Config;
use crate::event;

/// Checks that need more than the file's syntax, made before the node detaches so the
/// error reaches the terminal: with encryption on, the key file must be readable (a node
/// never runs its peer links in the clear instead); the TLS files of the client listener and
/// the datastore must hold what their keys say.
pub fn check_supported(cfg: &Config) -> Result<(), String> {
    if cfg.security.secure_server_option != crate::conf::SecureOption::None {
        crate::tls::PeerTls::load(&cfg.security.pem_key_file).map_err(|e| {
            format!(
                "{}: secure_server_option is {}, but {e}; refusing to start rather than send \
                 peer traffic in the clear",
                cfg.file.display(),
                cfg.security.secure_server_option.name()
            )
        })?;
    }
    crate::certs::Certs::load(cfg)?;
    Ok(())
}

/// The daemon's end of the readiness pipe: the foreground process waits on it and exits 0
/// once the daemon says it started, or 1 with the daemon's error.
pub struct Ready(Option<OwnedFd>);

impl Ready {
    /// Not daemonized: nobody waits.
    pub fn none() -> Ready {
        Ready(None)
    }
    pub fn ok(&mut self) {
        self.send(b"OK\n");
    }
    pub fn fail(&mut self, msg: &str) {
        self.send(msg.as_bytes());
    }
    fn send(&mut self, b: &[u8]) {
        if let Some(fd) = self.0.take() {
            let _ = event::write(fd.as_raw_fd(), b);
        }
    }
}

/// Detach from the terminal the way Dynomite does (fork, setsid, fork, umask 0, standard
/// streams to /dev/null, no chdir), except that the foreground process does not exit until
/// the daemon has started: it exits 0 then, or prints the daemon's start-up error and exits 1
/// (Dynomite exits 0 at once, so a daemon that failed to bind went unnoticed).
///
/// # Safety
/// The process must have one thread only (call it from `main` before anything spawns one):
/// after `fork` the child holds just the calling thread, and whatever another thread held
/// locked (the allocator, the logger) would stay locked in it forever.
pub unsafe fn daemonize() -> io::Result<Ready> {
    use nix::unistd::{fork, pipe, setsid, ForkResult};
    let (rd, wr) = pipe().map_err(io::Error::from)?;
    // SAFETY: the caller guarantees the process is single-threaded (this function's
    // contract), so the child is a faithful copy of it.
    match unsafe { fork() }.map_err(io::Error::from)? {
        ForkResult::Parent { .. } => {
            drop(wr);
            let mut msg = Vec::new();
            let mut buf = [0u8; 512];
            while let Ok(n) = event::read(rd.as_raw_fd(), &mut buf) {
                if n == 0 {
                    break;
                }
                msg.extend_from_slice(&buf[..n]);
            }
            if msg.starts_with(b"OK") {
                std::process::exit(0);
            }
            let text = String::from_utf8_lossy(&msg);
            if text.is_empty() {
                eprintln!("dynomited: the daemon exited during start-up (see its log)");
            } else {
                eprintln!("dynomited: {}", text.trim_end());
            }
            std::process::exit(1);
        }
        ForkResult::Child => drop(rd),
    }
    setsid().map_err(io::Error::from)?;
    // SAFETY: still single-threaded: the first child is a copy of a single-threaded process
    // and has started no thread.
    match unsafe { fork() }.map_err(io::Error::from)? {
        ForkResult::Parent { .. } => std::process::exit(0),
        ForkResult::Child => {}
    }
    nix::sys::stat::umask(nix::sys::stat::Mode::empty());
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    for fd in 0..=2 {
        nix::unistd::dup2(null.as_raw_fd(), fd).map_err(io::Error::from)?;
    }
    Ok(Ready(Some(wr)))
}
