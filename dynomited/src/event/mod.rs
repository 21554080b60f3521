//! The syscall boundary: epoll, non-blocking sockets, `readv`/`writev`, signalfd.
//!
//! Every libc call of the data path goes through this module, each `unsafe` block with its
//! `// SAFETY:` justification, and every `-1` becomes an `io::Error` in [`cvt`]. The loop is
//! level-triggered: a readable socket is read once (again only if the read filled the buffer),
//! and write interest is registered only while output is pending, as mio's docs advise.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Turn a libc return value into `io::Result`, reading `errno` on -1.
pub fn cvt(res: isize) -> io::Result<usize> {
    if res < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(res as usize)
    }
}

/// Interest bits for [`Epoll::add`] / [`Epoll::modify`].
pub const READ: u32 = libc::EPOLLIN as u32 | libc::EPOLLRDHUP as u32;
pub const WRITE: u32 = libc::EPOLLOUT as u32;

/// One readiness event as the loop sees it.
#[derive(Clone, Copy, Debug)]
pub struct Event {
    pub token: u64,
    pub readable: bool,
    pub writable: bool,
    /// Error or hang-up: the socket is dead or half-dead; reading will tell which.
    pub error: bool,
}

pub struct Epoll {
    fd: OwnedFd,
    events: Vec<libc::epoll_event>,
}

impl Epoll {
    pub fn new(capacity: usize) -> io::Result<Epoll> {
        // SAFETY: epoll_create1 takes no pointers; the result is checked before use.
        let fd = cvt(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) } as isize)?;
        // SAFETY: fd was just returned by epoll_create1 and is owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd as RawFd) };
        Ok(Epoll {
            fd,
            events: vec![libc::epoll_event { events: 0, u64: 0 }; capacity],
        })
    }

    fn ctl(&self, op: libc::c_int, fd: RawFd, interest: u32, token: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event {
            events: interest,
            u64: token,
        };
        // SAFETY: `ev` is a valid epoll_event that lives across the call; fds are plain ints.
        cvt(unsafe { libc::epoll_ctl(self.fd.as_raw_fd(), op, fd, &mut ev) } as isize)?;
        Ok(())
    }

    pub fn add(&self, fd: RawFd, interest: u32, token: u64) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, interest, token)
    }

    pub fn modify(&self, fd: RawFd, interest: u32, token: u64) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_MOD, fd, interest, token)
    }

    pub fn delete(&self, fd: RawFd) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_DEL, fd, 0, 0)
    }

    /// Wait up to `timeout_ms` (-1 = forever); returns how many events [`Epoll::event`] holds.
    pub fn wait(&mut self, timeout_ms: i32) -> io::Result<usize> {
        let cap = self.events.len() as libc::c_int;
        // SAFETY: the pointer and capacity describe `self.events`, which outlives the call.
        let res = unsafe {
            libc::epoll_wait(
                self.fd.as_raw_fd(),
                self.events.as_mut_ptr(),
                cap,
                timeout_ms,
            )
        };
        match cvt(res as isize) {
            Ok(n) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(0),
            Err(e) => Err(e),
        }
    }

    pub fn event(&self, i: usize) -> Event {
        let ev = self.events[i];
        let bits = ev.events;
        Event {
            token: ev.u64,
            readable: bits & (libc::EPOLLIN as u32 | libc::EPOLLRDHUP as u32) != 0,
            writable: bits & libc::EPOLLOUT as u32 != 0,
            error: bits & (libc::EPOLLERR as u32 | libc::EPOLLHUP as u32) != 0,
        }
    }
}

/// `read(2)` into `buf`. `Ok(0)` is end of file.
pub fn read(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: the pointer and length describe a live, writable slice.
    cvt(unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) })
}

/// Return the allocator's free memory to the system (glibc `malloc_trim`): freed buffers
/// otherwise stay in the heap, counted in the RSS, for the life of the process.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointers and only walks the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Half-close a socket for writing: the peer sees the end of the data (a FIN) after
/// everything written so far.
pub fn shutdown_write(fd: RawFd) -> io::Result<()> {
    nix::sys::socket::shutdown(fd, nix::sys::socket::Shutdown::Write).map_err(io::Error::from)
}

/// Read and drop whatever is waiting on a non-blocking socket, at most `max` bytes.
pub fn drain(fd: RawFd, max: usize) {
    let mut sink = [0u8; 2048];
    let mut left = max;
    while left > 0 {
        match read(fd, &mut sink[..left.min(2048)]) {
            Ok(n) if n > 0 => left -= n,
            _ => return,
        }
    }
}

/// The first byte waiting on a socket, without taking it (`recv` with `MSG_PEEK`).
pub fn peek_byte(fd: RawFd) -> io::Result<Option<u8>> {
    let mut b = [0u8; 1];
    // SAFETY: the pointer and length describe a live, writable one-byte buffer.
    let n = cvt(unsafe { libc::recv(fd, b.as_mut_ptr().cast(), 1, libc::MSG_PEEK) })?;
    Ok((n == 1).then_some(b[0]))
}

/// A socket as `std::io::Read + Write` (for a TLS session's record I/O).
pub struct FdIo(pub RawFd);

impl std::io::Read for FdIo {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        read(self.0, buf)
    }
}

impl std::io::Write for FdIo {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        write(self.0, buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `write(2)` of `buf`.
pub fn write(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: the pointer and length describe a live slice.
    cvt(unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) })
}

/// Most iovecs one `writev` takes (Linux `IOV_MAX`).
pub const IOV_MAX: usize = 1024;

/// The storage a gather list reuses, so that building one never allocates in steady state.
/// It holds no pointers between uses: an [`IoVecs`] borrows it, and leaves it empty.
#[derive(Default)]
pub struct IoVecBuf(Vec<libc::iovec>);

impl IoVecBuf {
    pub fn new() -> IoVecBuf {
        IoVecBuf(Vec::with_capacity(IOV_MAX))
    }
}

/// A gather list for one `writev`, over slices that live at least as long as `'a`: the type
/// keeps every pushed slice borrowed until the list is dropped, so none can be freed or
/// changed before `writev` reads it.
pub struct IoVecs<'a> {
    iov: &'a mut Vec<libc::iovec>,
    bytes: usize,
    _data: std::marker::PhantomData<&'a [u8]>,
}

impl<'a> IoVecs<'a> {
    /// An empty list in `buf`'s storage.
    pub fn new(buf: &'a mut IoVecBuf) -> IoVecs<'a> {
        buf.0.clear();
        IoVecs {
            iov: &mut buf.0,
            bytes: 0,
            _data: std::marker::PhantomData,
        }
    }
    pub fn is_full(&self) -> bool {
        self.iov.len() >= IOV_MAX
    }
    pub fn len(&self) -> usize {
        self.iov.len()
    }
    pub fn is_empty(&self) -> bool {
        self.iov.is_empty()
    }
    pub fn bytes(&self) -> usize {
        self.bytes
    }
    /// Append a slice; empty slices are skipped, and a slice that starts where the previous
    /// one ends (pipelined requests in one read buffer, the replies to one client in a
    /// datastore's buffer) extends it instead of taking an iovec of its own. Returns false when
    /// the list is full.
    pub fn push(&mut self, s: &'a [u8]) -> bool {
        if s.is_empty() {
            return true;
        }
        if let Some(last) = self.iov.last_mut() {
            if (last.iov_base as usize).wrapping_add(last.iov_len) == s.as_ptr() as usize {
                last.iov_len += s.len();
                self.bytes += s.len();
                return true;
            }
        }
        if self.is_full() {
            return false;
        }
        self.iov.push(libc::iovec {
            iov_base: s.as_ptr() as *mut libc::c_void,
            iov_len: s.len(),
        });
        self.bytes += s.len();
        true
    }

    /// Copy everything pushed into `w` (an encrypting session), in order, stopping where `w`
    /// takes less than offered. Returns the bytes taken.
    pub fn copy_into(&self, w: &mut dyn std::io::Write) -> io::Result<usize> {
        let mut total = 0;
        for v in self.iov.iter() {
            // SAFETY: each iovec was built in `push` from a `&'a [u8]`, and `self` borrows
            // those slices for `'a`, so they are alive and unchanged.
            let s = unsafe { std::slice::from_raw_parts(v.iov_base as *const u8, v.iov_len) };
            let n = w.write(s)?;
            total += n;
            if n < s.len() {
                break;
            }
        }
        Ok(total)
    }

    /// `writev(2)` of everything pushed.
    pub fn writev(&self, fd: RawFd) -> io::Result<usize> {
        if self.iov.is_empty() {
            return Ok(0);
        }
        // SAFETY: each iovec was built in `push` from a `&'a [u8]` that `self` still borrows
        // (alive and unchanged); the count is at most IOV_MAX.
        cvt(unsafe { libc::writev(fd, self.iov.as_ptr(), self.iov.len() as libc::c_int) })
    }
}

impl Drop for IoVecs<'_> {
    /// The storage keeps its capacity but no pointer to the slices once they may be gone.
    fn drop(&mut self) {
        self.iov.clear();
    }
}

fn sockaddr_of(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    let sa: nix::sys::socket::SockaddrStorage = (*addr).into();
    use nix::sys::socket::SockaddrLike;
    // SAFETY: sockaddr_storage is plain old data; all-zero is a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = sa.len();
    // SAFETY: `sa.as_ptr()` points to `len` valid bytes of a sockaddr, and `len` is at most
    // size_of::<sockaddr_storage>(); the regions do not overlap.
    unsafe {
        std::ptr::copy_nonoverlapping(
            sa.as_ptr().cast::<u8>(),
            (&mut storage as *mut libc::sockaddr_storage).cast::<u8>(),
            len as usize,
        );
    }
    (storage, len)
}

fn new_socket(domain: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: socket(2) takes no pointers; the result is checked.
    let fd = cvt(unsafe {
        libc::socket(
            domain,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    } as isize)?;
    // SAFETY: fd is a fresh descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

fn setsockopt_int(fd: RawFd, level: libc::c_int, name: libc::c_int, v: libc::c_int) {
    // SAFETY: the option value is a live c_int and its size is passed; errors are ignored on
    // purpose (these are tuning options).
    unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&v as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

pub fn set_nodelay(fd: RawFd) {
    setsockopt_int(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, 1);
}

pub fn set_keepalive(fd: RawFd) {
    setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1);
}

/// A non-blocking TCP listener with `SO_REUSEADDR`.
pub fn tcp_listen(addr: &SocketAddr, backlog: u32) -> io::Result<OwnedFd> {
    let domain = if addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    let fd = new_socket(domain)?;
    setsockopt_int(fd.as_raw_fd(), libc::SOL_SOCKET, libc::SO_REUSEADDR, 1);
    let (sa, len) = sockaddr_of(addr);
    // SAFETY: `sa` is a valid sockaddr of `len` bytes living across the call.
    cvt(unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&sa as *const libc::sockaddr_storage).cast(),
            len,
        )
    } as isize)?;
    // SAFETY: plain integer arguments.
    cvt(unsafe { libc::listen(fd.as_raw_fd(), backlog as libc::c_int) } as isize)?;
    Ok(fd)
}

/// A non-blocking unix-domain listener (Dynomite allows `listen: /path`).
pub fn unix_listen(path: &std::path::Path, backlog: u32) -> io::Result<OwnedFd> {
    let _ = std::fs::remove_file(path);
    let l = std::os::unix::net::UnixListener::bind(path)?;
    l.set_nonblocking(true)?;
    let fd: OwnedFd = l.into();
    // SAFETY: plain integer arguments.
    cvt(unsafe { libc::listen(fd.as_raw_fd(), backlog as libc::c_int) } as isize)?;
    Ok(fd)
}

/// Accept one connection, non-blocking and close-on-exec. `Ok(None)` when none is pending.
pub fn accept(listener: RawFd) -> io::Result<Option<OwnedFd>> {
    // SAFETY: null address pointers are allowed by accept4; flags are plain integers.
    let res = unsafe {
        libc::accept4(
            listener,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
        )
    };
    match cvt(res as isize) {
        // SAFETY: a fresh descriptor returned by accept4, owned by nobody else.
        Ok(fd) => Ok(Some(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::ECONNABORTED) | Some(libc::EINTR) | Some(libc::EPROTO)
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Start a non-blocking TCP connect. Completion is reported as writability; check it with
/// [`take_error`].
pub fn tcp_connect(addr: &SocketAddr) -> io::Result<OwnedFd> {
    let domain = if addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    let fd = new_socket(domain)?;
    set_nodelay(fd.as_raw_fd());
    set_keepalive(fd.as_raw_fd());
    let (sa, len) = sockaddr_of(addr);
    // SAFETY: `sa` is a valid sockaddr of `len` bytes living across the call.
    let res = unsafe {
        libc::connect(
            fd.as_raw_fd(),
            (&sa as *const libc::sockaddr_storage).cast(),
            len,
        )
    };
    match cvt(res as isize) {
        Ok(_) => Ok(fd),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(fd),
        Err(e) => Err(e),
    }
}

/// Start a non-blocking unix-domain connect.
pub fn unix_connect(path: &std::path::Path) -> io::Result<OwnedFd> {
    let fd = new_socket(libc::AF_UNIX)?;
    let addr = nix::sys::socket::UnixAddr::new(path).map_err(io::Error::from)?;
    use nix::sys::socket::SockaddrLike;
    // SAFETY: `addr` is a valid sockaddr_un of `addr.len()` bytes living across the call.
    let res = unsafe { libc::connect(fd.as_raw_fd(), addr.as_ptr().cast(), addr.len()) };
    match cvt(res as isize) {
        Ok(_) => Ok(fd),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(fd),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(fd),
        Err(e) => Err(e),
    }
}

/// `SO_ERROR`: the pending error of a socket (how a non-blocking connect reports failure).
pub fn take_error(fd: RawFd) -> io::Result<Option<io::Error>> {
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `v` and `len` are live and sized for the SO_ERROR option.
    cvt(unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ERROR,
            (&mut v as *mut libc::c_int).cast(),
            &mut len,
        )
    } as isize)?;
    Ok(if v == 0 {
        None
    } else {
        Some(io::Error::from_raw_os_error(v))
    })
}

/// The peer address of a connected TCP socket, for log lines.
pub fn peer_addr(fd: RawFd) -> Option<SocketAddr> {
    let ss: nix::sys::socket::SockaddrStorage = nix::sys::socket::getpeername(fd).ok()?;
    if let Some(v4) = ss.as_sockaddr_in() {
        return Some(SocketAddr::V4((*v4).into()));
    }
    ss.as_sockaddr_in6().map(|v6| SocketAddr::V6((*v6).into()))
}

/// Signals the loop handles itself (through a signalfd) instead of default actions.
pub const HANDLED_SIGNALS: [nix::sys::signal::Signal; 5] = [
    nix::sys::signal::Signal::SIGHUP,
    nix::sys::signal::Signal::SIGTERM,
    nix::sys::signal::Signal::SIGINT,
    nix::sys::signal::Signal::SIGTTIN,
    nix::sys::signal::Signal::SIGTTOU,
];

/// Block the handled signals in this thread (call before any thread is spawned) and return a
/// non-blocking signalfd that reports them. SIGPIPE is ignored: a closed socket is an error
/// return, not a process kill.
pub fn signal_fd() -> io::Result<nix::sys::signalfd::SignalFd> {
    use nix::sys::signal::{self, SigHandler, SigSet, Signal};
    use nix::sys::signalfd::{SfdFlags, SignalFd};
    // SAFETY: SIG_IGN installs no Rust code as a handler, so no async-signal-safety concerns.
    unsafe { signal::signal(Signal::SIGPIPE, SigHandler::SigIgn) }.map_err(io::Error::from)?;
    let mut set = SigSet::empty();
    for s in HANDLED_SIGNALS {
        set.add(s);
    }
    set.thread_block().map_err(io::Error::from)?;
    SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
        .map_err(io::Error::from)
}

/// Peak resident set size in KiB (`ru_maxrss`), Dynomite's `dyn_memory`.
pub fn max_rss_kib() -> u64 {
    nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF)
        .map(|u| u.max_rss() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::IoVecs;

    #[test]
    fn adjacent_slices_share_an_iovec() {
        let buf = b"hello world";
        let other = b"!!";
        let mut storage = super::IoVecBuf::new();
        let mut v = IoVecs::new(&mut storage);
        v.push(&buf[..5]);
        v.push(&buf[5..]);
        assert_eq!((v.len(), v.bytes()), (1, 11));
        v.push(other);
        assert_eq!((v.len(), v.bytes()), (2, 13));
        v.push(&buf[..0]);
        assert_eq!(v.len(), 2);
    }
}
