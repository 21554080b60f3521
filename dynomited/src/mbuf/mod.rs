//! Fixed-size buffer chunks ("mbufs") in a pool that is reused, never freed per request.
//!
//! A connection reads into the spare tail of one mbuf. Parsed messages do not copy their bytes
//! out: they hold [`Seg`]s (mbuf id + byte range) and a reference on each mbuf they touch. An
//! mbuf returns to the free list when its last reference goes, so a read buffer shared by many
//! pipelined requests (or a backend buffer holding replies for many clients) lives exactly as
//! long as the last message that needs it.
//!
//! ```text
//!   read ─► [ req1 | req2 | req3 | par- ]   mbuf A (refs: conn + 3 msgs + partial msg)
//!           [ -tial req4 |  spare ...   ]   mbuf B (refs: conn + req4)
//! ```
//!
//! Pool exhaustion cannot happen: the pool grows on demand. What bounds memory is
//! back-pressure upstream (`core::memory`, against `max_buffer_memory`). Unlike Dynomite's,
//! the pool gives memory back: [`MbufPool::trim`] frees the storage of the coldest free
//! mbufs above a watermark (their slots stay, empty, and get storage again when needed),
//! and the caller then returns the pages to the system. The pool reports its counts for
//! `/info` (`alloc_mbufs`: with storage, `free_mbufs`).

/// Index of an mbuf in the pool.
pub type MbufId = u32;

/// A byte range inside one mbuf.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seg {
    pub buf: MbufId,
    pub start: u32,
    pub end: u32,
}

impl Seg {
    pub fn len(&self) -> usize {
        (self.end - self.start) as usize
    }
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

struct Mbuf {
    data: Box<[u8]>,
    /// Bytes written so far (the read position lives with the connection).
    len: usize,
    refs: u32,
}

pub struct MbufPool {
    bufs: Vec<Mbuf>,
    /// Free mbufs with storage, the most recently freed last (taken first: still in cache).
    free: Vec<MbufId>,
    /// Free slots whose storage was given back ([`MbufPool::trim`]).
    vacant: Vec<MbufId>,
    chunk: usize,
    /// The most mbufs in use at once since [`MbufPool::take_peak`] was last called.
    peak: usize,
}

impl MbufPool {
    pub fn new(chunk: usize) -> MbufPool {
        MbufPool {
            bufs: Vec::new(),
            free: Vec::new(),
            vacant: Vec::new(),
            chunk,
            peak: 0,
        }
    }

    pub fn chunk_size(&self) -> usize {
        self.chunk
    }

    /// Take an empty mbuf with one reference (the caller's).
    pub fn get(&mut self) -> MbufId {
        let id = self.take();
        self.peak = self.peak.max(self.in_use());
        id
    }

    /// The most mbufs in use at once since the last call (or creation); starts again from
    /// those in use now.
    pub fn take_peak(&mut self) -> usize {
        let in_use = self.in_use();
        std::mem::replace(&mut self.peak, in_use).max(in_use)
    }

    fn take(&mut self) -> MbufId {
        if let Some(id) = self.free.pop() {
            let m = &mut self.bufs[id as usize];
            debug_assert_eq!(m.refs, 0);
            m.refs = 1;
            m.len = 0;
            return id;
        }
        if let Some(id) = self.vacant.pop() {
            let m = &mut self.bufs[id as usize];
            m.data = vec![0u8; self.chunk].into_boxed_slice();
            m.refs = 1;
            m.len = 0;
            return id;
        }
        let id = self.bufs.len() as MbufId;
        self.bufs.push(Mbuf {
            data: vec![0u8; self.chunk].into_boxed_slice(),
            len: 0,
            refs: 1,
        });
        id
    }

    pub fn incref(&mut self, id: MbufId) {
        self.bufs[id as usize].refs += 1;
    }

    /// Drop one reference; the mbuf goes back to the free list when none is left.
    pub fn decref(&mut self, id: MbufId) {
        let m = &mut self.bufs[id as usize];
        debug_assert!(m.refs > 0, "mbuf {id} over-released");
        m.refs -= 1;
        if m.refs == 0 {
            self.free.push(id);
        }
    }

    /// Release every segment's reference and clear the list (capacity is kept).
    pub fn release(&mut self, segs: &mut Vec<Seg>) {
        for s in segs.iter() {
            self.decref(s.buf);
        }
        segs.clear();
        if segs.capacity() > 1024 {
            segs.shrink_to(16);
        }
    }

    /// The filled part of an mbuf.
    pub fn filled(&self, id: MbufId) -> &[u8] {
        let m = &self.bufs[id as usize];
        &m.data[..m.len]
    }

    pub fn len(&self, id: MbufId) -> usize {
        self.bufs[id as usize].len
    }

    pub fn is_full(&self, id: MbufId) -> bool {
        self.bufs[id as usize].len == self.chunk
    }

    /// The writable tail of an mbuf.
    pub fn spare(&mut self, id: MbufId) -> &mut [u8] {
        let m = &mut self.bufs[id as usize];
        &mut m.data[m.len..]
    }

    /// Mark `n` more bytes of the spare tail as filled.
    pub fn advance(&mut self, id: MbufId, n: usize) {
        let m = &mut self.bufs[id as usize];
        m.len = (m.len + n).min(self.chunk);
    }

    pub fn slice(&self, s: Seg) -> &[u8] {
        &self.bufs[s.buf as usize].data[s.start as usize..s.end as usize]
    }

    /// Copy bytes into the pool as segments (used for replies the proxy builds itself, and for
    /// requests it composes). Each new mbuf is referenced once by the returned segments.
    pub fn append_bytes(&mut self, segs: &mut Vec<Seg>, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            // Continue in the last mbuf if this list owns its tail exclusively.
            let id = match segs.last() {
                Some(s)
                    if self.bufs[s.buf as usize].refs == 1
                        && s.end as usize == self.bufs[s.buf as usize].len
                        && (s.end as usize) < self.chunk =>
                {
                    s.buf
                }
                _ => {
                    let id = self.get();
                    let len = self.len(id) as u32;
                    segs.push(Seg {
                        buf: id,
                        start: len,
                        end: len,
                    });
                    id
                }
            };
            let spare = self.spare(id);
            let n = spare.len().min(bytes.len());
            spare[..n].copy_from_slice(&bytes[..n]);
            self.advance(id, n);
            if let Some(last) = segs.last_mut() {
                last.end += n as u32;
            }
            bytes = &bytes[n..];
        }
    }

    /// Append bytes to the shared mbuf `cur` (the proxy's own replies: PING, errors, ...),
    /// pushing one segment per mbuf touched onto `segs`, each holding a reference. Many small
    /// replies thus share one mbuf instead of taking one each; existing segments never change
    /// because bytes are only ever added past them. `cur` holds its own reference.
    pub fn append_shared(
        &mut self,
        cur: &mut Option<MbufId>,
        segs: &mut Vec<Seg>,
        mut bytes: &[u8],
    ) {
        while !bytes.is_empty() {
            let id = self.shared_tail(cur);
            let start = self.len(id);
            let spare = self.spare(id);
            let n = spare.len().min(bytes.len());
            spare[..n].copy_from_slice(&bytes[..n]);
            self.advance(id, n);
            self.push_appended(segs, id, start, n);
            bytes = &bytes[n..];
        }
    }

    /// Append to `out` a packed copy of the first `len` bytes of `src`, written into the
    /// shared mbuf `cur`: a message that may wait long then no longer pins the (mostly empty)
    /// mbufs its bytes were read into. Bytes go from mbuf to mbuf in one copy each, and
    /// continue the last segment of `out` when it ends where they start (a frame header
    /// appended just before and its payload make one segment).
    pub fn append_packed(
        &mut self,
        cur: &mut Option<MbufId>,
        out: &mut Vec<Seg>,
        src: &[Seg],
        len: usize,
    ) {
        let mut left = len;
        for s in src {
            if left == 0 {
                break;
            }
            let mut from = s.start as usize;
            let to = from + s.len().min(left);
            left -= to - from;
            while from < to {
                let id = self.shared_tail(cur);
                let start = self.len(id);
                let n = (self.chunk - start).min(to - from);
                self.copy_between(s.buf, from, id, start, n);
                self.advance(id, n);
                self.push_appended(out, id, start, n);
                from += n;
            }
        }
    }

    /// The shared append mbuf `cur`, replaced by a fresh one when full.
    fn shared_tail(&mut self, cur: &mut Option<MbufId>) -> MbufId {
        match *cur {
            Some(id) if !self.is_full(id) => id,
            other => {
                if let Some(old) = other {
                    self.decref(old);
                }
                let id = self.get();
                *cur = Some(id);
                id
            }
        }
    }

    /// `n` bytes were just appended at `start` of `id`: extend the last segment of `segs` if
    /// it ends there (nothing else can reference bytes appended past it), else push a
    /// segment holding a new reference.
    fn push_appended(&mut self, segs: &mut Vec<Seg>, id: MbufId, start: usize, n: usize) {
        let (start, end) = (start as u32, (start + n) as u32);
        match segs.last_mut() {
            Some(last) if last.buf == id && last.end == start => last.end = end,
            _ => {
                self.incref(id);
                segs.push(Seg {
                    buf: id,
                    start,
                    end,
                });
            }
        }
    }

    /// Copy `n` bytes at `from` in mbuf `src` to `at` in mbuf `dst`.
    fn copy_between(&mut self, src: MbufId, from: usize, dst: MbufId, at: usize, n: usize) {
        let (a, b) = (src as usize, dst as usize);
        if a == b {
            self.bufs[a].data.copy_within(from..from + n, at);
            return;
        }
        let (s, d) = if a < b {
            let (lo, hi) = self.bufs.split_at_mut(b);
            (&lo[a], &mut hi[0])
        } else {
            let (lo, hi) = self.bufs.split_at_mut(a);
            (&hi[0], &mut lo[b])
        };
        d.data[at..at + n].copy_from_slice(&s.data[from..from + n]);
    }

    /// Add the bytes of `segs`, less the first `*skip` of them, to a gather list. Returns
    /// false when the list is full (the caller writes what it has and comes back).
    pub fn push_iov<'a>(
        &'a self,
        segs: &[Seg],
        skip: &mut usize,
        iov: &mut crate::event::IoVecs<'a>,
    ) -> bool {
        for &seg in segs {
            let b = self.slice(seg);
            if *skip >= b.len() {
                *skip -= b.len();
                continue;
            }
            if !iov.push(&b[*skip..]) {
                return false;
            }
            *skip = 0;
        }
        true
    }

    /// Mbufs with storage (in use or free).
    pub fn allocated(&self) -> usize {
        self.bufs.len() - self.vacant.len()
    }

    /// Mbufs in use (referenced).
    pub fn in_use(&self) -> usize {
        self.allocated() - self.free.len()
    }

    /// Give back the storage of the coldest free mbufs beyond `keep` free ones. Returns the
    /// bytes freed (the caller returns the pages to the system: `malloc_trim`).
    pub fn trim(&mut self, keep: usize) -> usize {
        let excess = self.free.len().saturating_sub(keep);
        for &id in &self.free[..excess] {
            self.bufs[id as usize].data = Box::default();
        }
        self.vacant.extend(self.free.drain(..excess));
        excess * self.chunk
    }

    pub fn free_count(&self) -> usize {
        self.free.len()
    }

    /// The check the event loop makes after every iteration in debug builds, without
    /// allocating (the data path must not): every mbuf in the free list has no reference,
    /// and as many mbufs have none as the free list holds.
    pub fn check_counts(&self) -> Result<(), String> {
        if let Some(&f) = self.free.iter().find(|&&f| self.bufs[f as usize].refs != 0) {
            return Err(format!(
                "free mbuf {f} has {} references",
                self.bufs[f as usize].refs
            ));
        }
        let unreferenced = self.bufs.iter().filter(|m| m.refs == 0).count();
        if unreferenced != self.free.len() + self.vacant.len() {
            return Err(format!(
                "{unreferenced} mbufs without a reference, {} in the free list, {} vacant",
                self.free.len(),
                self.vacant.len()
            ));
        }
        if let Some(&v) = self
            .vacant
            .iter()
            .find(|&&v| !self.bufs[v as usize].data.is_empty())
        {
            return Err(format!("vacant mbuf {v} still has storage"));
        }
        Ok(())
    }

    /// Debug check: every mbuf is either free with no reference, or referenced and not free.
    pub fn check_invariants(&self) {
        if cfg!(debug_assertions) {
            let mut is_free = vec![false; self.bufs.len()];
            for &f in self.free.iter().chain(&self.vacant) {
                assert!(!is_free[f as usize], "mbuf {f} twice in the free list");
                is_free[f as usize] = true;
            }
            for (i, m) in self.bufs.iter().enumerate() {
                assert_eq!(m.refs == 0, is_free[i], "mbuf {i} refs {}", m.refs);
            }
        }
    }
}

/// [`gather`], appending to what `out` holds.
pub fn gather_append(pool: &MbufPool, segs: &[Seg], start: usize, len: usize, out: &mut Vec<u8>) {
    let mut off = 0usize;
    let end = start + len;
    for s in segs {
        let b = pool.slice(*s);
        let (lo, hi) = (off, off + b.len());
        if hi > start && lo < end {
            let a = start.max(lo) - lo;
            let z = end.min(hi) - lo;
            out.extend_from_slice(&b[a..z]);
        }
        off = hi;
        if off >= end {
            break;
        }
    }
}

/// Copy the bytes of `segs` from `start` (an offset into their concatenation) into `out`,
/// at most `max` bytes. Used for the few small things the proxy must see contiguously
/// (a key to hash, an argument of a command it answers itself).
pub fn gather(pool: &MbufPool, segs: &[Seg], start: usize, len: usize, out: &mut Vec<u8>) {
    out.clear();
    gather_append(pool, segs, start, len, out);
}

/// Append to `out` references to the bytes of `segs` from `start` (an offset into their
/// concatenation), `len` bytes, taking one reference per piece: a zero-copy slice (a key or
/// value re-sent in a request the proxy builds).
pub fn slice_into(pool: &mut MbufPool, segs: &[Seg], start: usize, len: usize, out: &mut Vec<Seg>) {
    let mut off = 0usize;
    let end = start + len;
    for s in segs {
        let (lo, hi) = (off, off + s.len());
        if hi > start && lo < end {
            let a = (start.max(lo) - lo) as u32;
            let z = (end.min(hi) - lo) as u32;
            out.push(Seg {
                buf: s.buf,
                start: s.start + a,
                end: s.start + z,
            });
            pool.incref(s.buf);
        }
        off = hi;
        if off >= end {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_take_references() {
        let mut p = MbufPool::new(8);
        let mut cur = None;
        let mut segs = Vec::new();
        p.append_shared(&mut cur, &mut segs, b"0123456789abcdef");
        assert_eq!(segs.len(), 2);
        let mut out = Vec::new();
        slice_into(&mut p, &segs, 6, 4, &mut out);
        let bytes: Vec<u8> = out.iter().flat_map(|s| p.slice(*s).to_vec()).collect();
        assert_eq!(bytes, b"6789");
        assert_eq!(out.len(), 2, "a slice across two mbufs has two pieces");
        p.release(&mut segs);
        if let Some(c) = cur.take() {
            p.decref(c);
        }
        assert_eq!(p.free_count(), 0, "the slice still holds both buffers");
        p.release(&mut out);
        assert_eq!(p.free_count(), p.allocated());
        p.check_invariants();
    }

    #[test]
    fn refcounts_return_buffers() {
        let mut p = MbufPool::new(512);
        let a = p.get();
        p.spare(a)[..3].copy_from_slice(b"abc");
        p.advance(a, 3);
        p.incref(a);
        p.decref(a);
        assert_eq!(p.free_count(), 0);
        p.decref(a);
        assert_eq!(p.free_count(), 1);
        let b = p.get();
        assert_eq!(a, b);
        assert_eq!(p.len(b), 0);
        p.decref(b);
        p.check_invariants();
    }

    #[test]
    fn trim_gives_back_the_coldest_free_storage() {
        let mut p = MbufPool::new(512);
        let ids: Vec<_> = (0..10).map(|_| p.get()).collect();
        for &id in &ids {
            p.decref(id);
        }
        assert_eq!((p.allocated(), p.free_count(), p.in_use()), (10, 10, 0));
        // The first freed (coldest) go; the last freed stay, and are taken first.
        assert_eq!(p.trim(4), 6 * 512);
        assert_eq!((p.allocated(), p.free_count()), (4, 4));
        assert_eq!(p.check_counts(), Ok(()));
        p.check_invariants();
        let hot: Vec<_> = (0..4).map(|_| p.get()).collect();
        assert_eq!(hot, [ids[9], ids[8], ids[7], ids[6]]);
        // Past the free ones, vacant slots get storage again before the pool grows.
        let again = p.get();
        assert!(ids[..6].contains(&again));
        assert_eq!(p.spare(again).len(), 512);
        p.spare(again)[..2].copy_from_slice(b"ok");
        p.advance(again, 2);
        assert_eq!(p.filled(again), b"ok");
        assert_eq!((p.allocated(), p.in_use(), p.trim(0)), (5, 5, 0));
        assert_eq!(p.check_counts(), Ok(()));
        p.check_invariants();
        // The peak is the most in use at once, however briefly.
        assert_eq!(p.take_peak(), 10);
        assert_eq!(p.take_peak(), 5);
        let extra = p.get();
        p.decref(extra);
        assert_eq!(p.take_peak(), 6);
    }

    #[test]
    fn shared_appends_pack_one_buffer() {
        let mut p = MbufPool::new(512);
        let mut cur = None;
        let mut a = Vec::new();
        let mut b = Vec::new();
        p.append_shared(&mut cur, &mut a, b"+PONG\r\n");
        p.append_shared(&mut cur, &mut b, b"+OK\r\n");
        assert_eq!(p.allocated(), 1);
        assert_eq!(p.slice(a[0]), b"+PONG\r\n");
        assert_eq!(p.slice(b[0]), b"+OK\r\n");
        let big = vec![b'x'; 700];
        let mut c = Vec::new();
        p.append_shared(&mut cur, &mut c, &big);
        assert_eq!(c.iter().map(|s| s.len()).sum::<usize>(), 700);
        p.release(&mut a);
        p.release(&mut b);
        p.release(&mut c);
        if let Some(id) = cur.take() {
            p.decref(id);
        }
        p.check_invariants();
        assert_eq!(p.free_count(), p.allocated());
    }

    #[test]
    fn packed_copies_join_the_header_and_free_the_sources() {
        let mut p = MbufPool::new(64);
        let data: Vec<u8> = (0..150u8).collect();
        // The source: a client's read buffers (three mbufs of 64).
        let mut src = Vec::new();
        p.append_bytes(&mut src, &data);
        assert_eq!(src.len(), 3);
        let mut cur = None;
        let mut out = Vec::new();
        p.append_shared(&mut cur, &mut out, b"HDR ");
        p.append_packed(&mut cur, &mut out, &src, 120);
        let bytes: Vec<u8> = out.iter().flat_map(|s| p.slice(*s).to_vec()).collect();
        assert_eq!(&bytes[..4], b"HDR ");
        assert_eq!(&bytes[4..], &data[..120]);
        // 124 bytes in mbufs of 64: two segments, the header and the first 60 bytes in one.
        assert_eq!(out.len(), 2);
        p.release(&mut src);
        // Packing again from the shared mbuf itself (a re-packed copy) works too.
        let mut again = Vec::new();
        p.append_packed(&mut cur, &mut again, &out, 124);
        let bytes2: Vec<u8> = again.iter().flat_map(|s| p.slice(*s).to_vec()).collect();
        assert_eq!(bytes2, bytes);
        p.release(&mut out);
        p.release(&mut again);
        if let Some(id) = cur.take() {
            p.decref(id);
        }
        p.check_invariants();
        assert_eq!(
            p.free_count(),
            p.allocated(),
            "every reference was returned"
        );
    }

    #[test]
    fn append_and_gather_across_buffers() {
        let mut p = MbufPool::new(512);
        let mut segs = Vec::new();
        let data: Vec<u8> = (0..2000u32).map(|i| (i % 251) as u8).collect();
        p.append_bytes(&mut segs, &data[..700]);
        p.append_bytes(&mut segs, &data[700..]);
        assert_eq!(segs.iter().map(|s| s.len()).sum::<usize>(), 2000);
        assert_eq!(segs.len(), 4);
        let mut out = Vec::new();
        gather(&p, &segs, 500, 600, &mut out);
        assert_eq!(out, &data[500..1100]);
        p.release(&mut segs);
        p.check_invariants();
        assert_eq!(p.free_count(), p.allocated());
    }
}
