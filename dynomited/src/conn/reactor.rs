//! The reactor: epoll, the slab of connections (slot + generation, so an event or a
//! reference to a connection closed since is recognised as stale), reads into pooled mbufs,
//! TLS sessions, `writev`, and accepting on the listeners. It knows sockets, not requests.
//!
//! ```text
//!   token = gen << 32 | slot      remove(): deregister, close, gen += 1, slot to the free list
//!   read_once(): [TLS detect] ─► [TLS decrypt] ─► read(2) into the connection's mbuf
//!   writev(): plain writev(2), or copy into the TLS session and send its records
//! ```

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use crate::conn::{Conn, Role, Who};
use crate::event::{self, Epoll, IoVecs};
use crate::mbuf::{MbufId, MbufPool};
use crate::msg::ConnRef;
use crate::{log_debug, log_warn};

/// How long listeners are not watched after `accept` failed (out of descriptors).
pub const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

const TOKEN_GEN_SHIFT: u64 = 32;

pub fn token(idx: u32, gen: u32) -> u64 {
    (gen as u64) << TOKEN_GEN_SHIFT | idx as u64
}

struct Slot {
    gen: u32,
    conn: Option<Conn>,
}

/// What one read of a connection brought.
pub enum ReadOutcome {
    /// Bytes arrived; `full` when they filled the mbuf (there may be more to read).
    Data {
        full: bool,
    },
    /// Nothing to read right now.
    Empty,
    Eof,
    Error(io::Error),
    /// The connection is closed or has no socket.
    Gone,
}

pub struct Reactor {
    pub epoll: Epoll,
    slots: Vec<Slot>,
    free: Vec<u32>,
    /// The listening sockets' slots.
    pub listeners: Vec<u32>,
    /// Listeners are unwatched until then after an accept failure.
    pub accept_paused_until: Option<Instant>,
    /// Encrypted peer links (`secure_server_option` other than none).
    pub peer_tls: Option<crate::tls::PeerTls>,
    /// `peer_tls_required`: an accepted peer connection that does not start TLS is refused,
    /// and counted here.
    pub peer_tls_required: bool,
    pub plain_peers_refused: u64,
    /// The TLS client listener's and the datastore link's configurations, and their
    /// handshake counts.
    pub certs: crate::certs::Certs,
    /// TLS records read from a socket.
    tls_in: Vec<u8>,
}

impl Reactor {
    pub fn new() -> io::Result<Reactor> {
        Ok(Reactor {
            epoll: Epoll::new(1024)?,
            slots: Vec::new(),
            free: Vec::new(),
            listeners: Vec::new(),
            accept_paused_until: None,
            peer_tls: None,
            peer_tls_required: false,
            plain_peers_refused: 0,
            certs: Default::default(),
            tls_in: Vec::new(),
        })
    }

    /// The slot of an event's token, if its connection is still the one it was for.
    pub fn resolve(&self, token: u64) -> Option<u32> {
        let idx = (token & 0xffff_ffff) as u32;
        let gen = (token >> TOKEN_GEN_SHIFT) as u32;
        let slot = self.slots.get(idx as usize)?;
        (slot.gen == gen && slot.conn.is_some()).then_some(idx)
    }

    pub fn insert(&mut self, conn: Conn) -> u32 {
        let idx = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(Slot { gen: 0, conn: None });
                (self.slots.len() - 1) as u32
            }
        };
        self.slots[idx as usize].conn = Some(conn);
        idx
    }

    pub fn conn(&self, idx: u32) -> Option<&Conn> {
        self.slots.get(idx as usize).and_then(|s| s.conn.as_ref())
    }

    pub fn conn_mut(&mut self, idx: u32) -> Option<&mut Conn> {
        self.slots
            .get_mut(idx as usize)
            .and_then(|s| s.conn.as_mut())
    }

    /// Every connection (for the few whole-node questions: is anything still in flight?).
    pub fn conns(&self) -> impl Iterator<Item = &Conn> {
        self.slots.iter().filter_map(|s| s.conn.as_ref())
    }

    /// Every connection with its slot.
    pub fn indexed(&self) -> impl Iterator<Item = (u32, &Conn)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.conn.as_ref().map(|c| (i as u32, c)))
    }

    pub fn conn_ref(&self, idx: u32) -> ConnRef {
        ConnRef {
            idx,
            gen: self.slots[idx as usize].gen,
        }
    }

    /// Whether the connection a reference was taken of is still open.
    pub fn live(&self, r: ConnRef) -> bool {
        self.slots
            .get(r.idx as usize)
            .is_some_and(|s| s.gen == r.gen && s.conn.is_some())
    }

    /// Remove a connection from the slab: deregister, close the socket, bump the generation.
    pub fn remove(&mut self, idx: u32, mbufs: &mut MbufPool) -> Option<Conn> {
        let slot = self.slots.get_mut(idx as usize)?;
        let mut conn = slot.conn.take()?;
        slot.gen = slot.gen.wrapping_add(1);
        self.free.push(idx);
        if let Some(fd) = conn.fd.take() {
            let _ = self.epoll.delete(fd.as_raw_fd());
        }
        if let Some(b) = conn.rbuf.take() {
            mbufs.decref(b);
        }
        Some(conn)
    }

    /// Close a connection's socket but keep its slot (a datastore or peer connection that
    /// will reconnect): deregister, drop TLS and the read buffer, bump the generation so
    /// events of the old socket are ignored.
    pub fn close_socket(&mut self, idx: u32, mbufs: &mut MbufPool) {
        let Some(slot) = self.slots.get_mut(idx as usize) else {
            return;
        };
        slot.gen = slot.gen.wrapping_add(1);
        let Some(conn) = slot.conn.as_mut() else {
            return;
        };
        if let Some(fd) = conn.fd.take() {
            let _ = self.epoll.delete(fd.as_raw_fd());
        }
        conn.interest = 0;
        conn.tls = None;
        if let Some(b) = conn.rbuf.take() {
            mbufs.decref(b);
        }
        conn.rpos = 0;
    }

    /// Give a kept slot a new socket (a reconnect): a new generation, registered for
    /// `interest`.
    pub fn attach(&mut self, idx: u32, fd: OwnedFd, interest: u32) -> io::Result<()> {
        let slot = &mut self.slots[idx as usize];
        slot.gen = slot.gen.wrapping_add(1);
        let gen = slot.gen;
        self.epoll.add(fd.as_raw_fd(), interest, token(idx, gen))?;
        if let Some(c) = self.slots[idx as usize].conn.as_mut() {
            c.fd = Some(fd);
            c.interest = interest;
        }
        Ok(())
    }

    /// Register a socket with the loop for `interest`; the connection owns it from now on.
    pub fn register(&mut self, idx: u32, fd: OwnedFd, interest: u32) -> io::Result<()> {
        let gen = self.slots[idx as usize].gen;
        self.epoll.add(fd.as_raw_fd(), interest, token(idx, gen))?;
        if let Some(c) = self.conn_mut(idx) {
            c.fd = Some(fd);
            c.interest = interest;
        }
        Ok(())
    }

    /// Register a descriptor that another part owns (the signalfd, the seed thread's
    /// socket) under a connection slot of `role`.
    pub fn add_foreign(&mut self, fd: RawFd, role: Role) -> io::Result<u32> {
        let idx = self.insert(Conn::new(role, None, event::READ));
        self.epoll.add(fd, event::READ, token(idx, 0))?;
        Ok(idx)
    }

    /// Change a connection's interest bits if they differ.
    pub fn set_interest(&mut self, idx: u32, mut interest: u32) {
        let Some(slot) = self.slots.get_mut(idx as usize) else {
            return;
        };
        let gen = slot.gen;
        let Some(c) = slot.conn.as_mut() else { return };
        // A TLS session with records to send needs the socket writable, whatever the caller.
        if c.tls.as_ref().is_some_and(|t| t.wants_write()) {
            interest |= event::WRITE;
        }
        if c.interest == interest {
            return;
        }
        c.interest = interest;
        let fd = c.raw_fd();
        if fd >= 0 {
            let _ = self.epoll.modify(fd, interest, token(idx, gen));
        }
    }

    /// Accept one pending connection on listener `lidx` and register it with `role`.
    /// `None` when nothing is pending (or the listener is gone).
    pub fn accept_one(
        &mut self,
        lidx: u32,
        now: Instant,
        mbufs: &mut MbufPool,
        role: impl FnOnce() -> Role,
    ) -> Option<u32> {
        let fd = self.accept_fd(lidx, now)?;
        event::set_nodelay(fd.as_raw_fd());
        let addr = event::peer_addr(fd.as_raw_fd());
        let idx = self.insert(Conn::new(role(), addr, event::READ));
        if let Err(e) = self.register(idx, fd, event::READ) {
            log_warn!("registering an accepted connection: {e}");
            self.remove(idx, mbufs);
            return None;
        }
        Some(idx)
    }

    /// Accept one connection only to answer `reply` and close it (a client over the limit).
    /// Returns false when there was none to accept.
    pub fn refuse_one(&mut self, lidx: u32, now: Instant, reply: &[u8]) -> bool {
        let Some(fd) = self.accept_fd(lidx, now) else {
            return false;
        };
        // A fresh socket's send buffer takes a one-line reply whole; if not, the client sees
        // the close alone.
        let _ = event::write(fd.as_raw_fd(), reply);
        true
    }

    /// The socket of one pending connection on listener `lidx`. On EMFILE and friends the
    /// listener stays readable, so it is not watched for a moment instead of spinning (and
    /// logging) until a descriptor frees up.
    fn accept_fd(&mut self, lidx: u32, now: Instant) -> Option<OwnedFd> {
        let lfd = self.conn(lidx)?.raw_fd();
        match event::accept(lfd) {
            Ok(fd) => fd,
            Err(e) => {
                log_warn!(
                    "accept on {}: {e}; pausing accepts for {:?}",
                    self.conn(lidx)?.role.name(),
                    ACCEPT_PAUSE
                );
                self.set_interest(lidx, 0);
                self.accept_paused_until = Some(now + ACCEPT_PAUSE);
                None
            }
        }
    }

    /// Watch the listeners again once an accept pause is over.
    pub fn resume_accepts(&mut self, now: Instant) {
        if self.accept_paused_until.is_some_and(|t| now >= t) {
            self.accept_paused_until = None;
            for i in 0..self.listeners.len() {
                self.set_interest(self.listeners[i], event::READ);
            }
        }
    }

    /// The connection's read mbuf with spare room (a fresh one when full or absent), and its fd.
    fn ensure_rbuf(&mut self, idx: u32, mbufs: &mut MbufPool) -> Option<(RawFd, MbufId)> {
        let conn = self.conn_mut(idx)?;
        let fd = conn.raw_fd();
        if fd < 0 {
            return None;
        }
        match conn.rbuf {
            Some(b) if !mbufs.is_full(b) => Some((fd, b)),
            other => {
                if let Some(b) = other {
                    mbufs.decref(b);
                }
                let b = mbufs.get();
                conn.rbuf = Some(b);
                conn.rpos = 0;
                Some((fd, b))
            }
        }
    }

    /// Drop a connection's hold on its read mbuf once everything in it is parsed and no
    /// message is half-way (an idle connection keeps no buffer; messages keep their own
    /// references). A message in progress keeps the buffer, so a request trickling in a byte
    /// per read fills one mbuf instead of taking a fresh one per read.
    pub fn release_rbuf_if_parsed(&mut self, idx: u32, mbufs: &mut MbufPool) {
        let Some(conn) = self.conn_mut(idx) else {
            return;
        };
        if conn.mid_message() {
            return;
        }
        if let Some(b) = conn.rbuf {
            if conn.rpos as usize >= mbufs.len(b) {
                conn.rbuf = None;
                conn.rpos = 0;
                mbufs.decref(b);
            }
        }
    }

    /// One `read` into the connection's mbuf. Parsing is the caller's.
    pub fn read_once(&mut self, idx: u32, mbufs: &mut MbufPool) -> ReadOutcome {
        if let Some(outcome) = self.tls_detect(idx) {
            return outcome;
        }
        if self.conn(idx).is_some_and(|c| c.tls.is_some()) {
            return self.tls_read(idx, mbufs);
        }
        let Some((fd, buf)) = self.ensure_rbuf(idx, mbufs) else {
            return ReadOutcome::Gone;
        };
        loop {
            match event::read(fd, mbufs.spare(buf)) {
                Ok(0) => return ReadOutcome::Eof,
                Ok(n) => {
                    mbufs.advance(buf, n);
                    return ReadOutcome::Data {
                        full: mbufs.is_full(buf),
                    };
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return ReadOutcome::Empty,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return ReadOutcome::Error(e),
            }
        }
    }

    /// An accepted peer connection on a node with encryption: its first byte says whether it
    /// is TLS. `Some` when there is nothing to read yet (or the peer left).
    fn tls_detect(&mut self, idx: u32) -> Option<ReadOutcome> {
        let c = self.conn(idx)?;
        if !c.tls_detect {
            return None;
        }
        match event::peek_byte(c.raw_fd()) {
            Ok(None) => Some(ReadOutcome::Eof),
            Ok(Some(b)) => {
                let session = if b == crate::tls::TLS_HANDSHAKE_BYTE {
                    match self.peer_tls.as_ref().map(|t| t.accept()) {
                        Some(Ok(s)) => Some(Box::new(s)),
                        Some(Err(e)) => return Some(ReadOutcome::Error(io::Error::other(e))),
                        None => None,
                    }
                } else if self.peer_tls_required {
                    self.plain_peers_refused += 1;
                    return Some(ReadOutcome::Error(io::Error::new(
                        io::ErrorKind::PermissionDenied,
                        "refused: not TLS, and peer_tls_required is set",
                    )));
                } else {
                    None
                };
                let c = self.conn_mut(idx)?;
                c.tls_detect = false;
                c.tls = session;
                None
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Some(ReadOutcome::Empty),
            Err(e) => Some(ReadOutcome::Error(e)),
        }
    }

    /// `read_once` for a TLS connection, counting the handshakes of client and datastore
    /// connections that end (or fail) in it.
    fn tls_read(&mut self, idx: u32, mbufs: &mut MbufPool) -> ReadOutcome {
        let handshaking = |rx: &Reactor| {
            rx.conn(idx)
                .and_then(|c| c.tls.as_ref())
                .is_some_and(|t| t.is_handshaking())
        };
        if !handshaking(self) {
            return self.tls_read_session(idx, mbufs);
        }
        let out = self.tls_read_session(idx, mbufs);
        let failed = matches!(out, ReadOutcome::Eof | ReadOutcome::Error(_));
        if failed || !handshaking(self) {
            self.count_handshake(idx, &out);
        }
        out
    }

    fn count_handshake(&mut self, idx: u32, out: &ReadOutcome) {
        let Some(c) = self.slots.get(idx as usize).and_then(|s| s.conn.as_ref()) else {
            return;
        };
        let n = &mut self.certs.counts;
        let (ok, failed) = match c.role {
            Role::Client(_) => (&mut n.client_handshakes, &mut n.client_failures),
            Role::Datastore(_) => (&mut n.datastore_handshakes, &mut n.datastore_failures),
            _ => return,
        };
        match out {
            ReadOutcome::Eof => {
                *failed += 1;
                log_debug!("{}: TLS handshake not completed (closed)", Who(c));
            }
            ReadOutcome::Error(e) => {
                *failed += 1;
                log_debug!("{}: TLS handshake failed: {e}", Who(c));
            }
            _ => *ok += 1,
        }
    }

    /// `read_once` for a TLS connection: plaintext already decrypted first, else one socket
    /// read fed to the session (whose handshake replies are sent at once).
    fn tls_read_session(&mut self, idx: u32, mbufs: &mut MbufPool) -> ReadOutcome {
        let Some((fd, buf)) = self.ensure_rbuf(idx, mbufs) else {
            return ReadOutcome::Gone;
        };
        if self.tls_in.len() < 16 * 1024 {
            self.tls_in.resize(16 * 1024, 0);
        }
        loop {
            let Some(tls) = self
                .slots
                .get_mut(idx as usize)
                .and_then(|s| s.conn.as_mut())
                .and_then(|c| c.tls.as_mut())
            else {
                return ReadOutcome::Gone;
            };
            match io::Read::read(&mut tls.reader(), mbufs.spare(buf)) {
                Ok(0) => return ReadOutcome::Eof,
                Ok(n) => {
                    mbufs.advance(buf, n);
                    return ReadOutcome::Data {
                        full: mbufs.is_full(buf),
                    };
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return ReadOutcome::Error(e),
            }
            let n = match event::read(fd, &mut self.tls_in) {
                Ok(0) => return ReadOutcome::Eof,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return ReadOutcome::Empty,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return ReadOutcome::Error(e),
            };
            let mut rest = &self.tls_in[..n];
            while !rest.is_empty() {
                if let Err(e) = tls.read_tls(&mut rest) {
                    return ReadOutcome::Error(e);
                }
                if let Err(e) = tls.process_new_packets() {
                    // Tell the peer why (an alert), then give up on the connection.
                    let _ = tls.write_tls(&mut event::FdIo(fd));
                    return ReadOutcome::Error(io::Error::other(format!("TLS: {e}")));
                }
            }
            if let Err(e) = self.tls_flush(idx) {
                return ReadOutcome::Error(e);
            }
        }
    }

    /// Send what a TLS session has ready (handshake records, encrypted data), as far as the
    /// socket takes it; write interest stays on while some is left.
    pub fn tls_flush(&mut self, idx: u32) -> io::Result<()> {
        let Some(c) = self.conn_mut(idx) else {
            return Ok(());
        };
        let fd = c.raw_fd();
        let Some(tls) = c.tls.as_mut() else {
            return Ok(());
        };
        while tls.wants_write() {
            match tls.write_tls(&mut event::FdIo(fd)) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let pending = tls.wants_write();
        let interest = c.interest;
        if pending && interest & event::WRITE == 0 {
            self.set_interest(idx, interest | event::WRITE);
        }
        Ok(())
    }

    /// `writev` of the gathered iovecs to a connection: through its TLS session if it has
    /// one (the plaintext is copied into the session, then as much as the socket takes is
    /// sent). Returns the plaintext bytes taken, like `writev`.
    pub fn writev(&mut self, idx: u32, iov: &IoVecs<'_>) -> io::Result<usize> {
        let Some(c) = self.conn_mut(idx) else {
            return Err(io::ErrorKind::NotConnected.into());
        };
        let fd = c.raw_fd();
        let Some(tls) = c.tls.as_mut() else {
            return iov.writev(fd);
        };
        let n = iov.copy_into(&mut tls.writer())?;
        self.tls_flush(idx)?;
        if n == 0 && iov.bytes() > 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(n)
    }
}
