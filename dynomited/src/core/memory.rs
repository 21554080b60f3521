//! Bounded memory: every byte a request or reply occupies lives in an mbuf, so the mbufs in
//! use are what clients make the node hold, and `max_buffer_memory` bounds them.
//!
//! ```text
//!   in use   0 ────────── resume (5/8) ── pressure (3/4) ───── budget ──────►
//!            clients read as usual         heavy clients not    the client holding
//!                                          read (back-pressure) the most is closed
//! ```
//!
//! - Each connection already keeps its own share small (`conn::inbound`: a window of reply
//!   bytes in flight and unwritten, so a reader that reads nothing holds a few MiB).
//! - Under pressure, a client that holds at least [`HEAVY_CLIENT`] (unwritten replies, or a
//!   request it is still sending) is not read until the pressure ends: its socket fills and
//!   the kernel slows it down. Replies keep being written; light clients keep being served.
//! - Past the budget, the client holding the most is closed (logged with its address,
//!   counted), one per loop iteration, while the node stays over it.
//! - Once a second, the mbuf pool gives back the storage of the free mbufs the recent
//!   seconds did not need (above their busiest moment, which fades by three quarters a
//!   second, plus a margin), and the allocator returns the pages to the system
//!   (`malloc_trim`): the RSS falls a few seconds after a burst instead of staying at its
//!   peak, and a load that swings keeps its buffers.
//!
//! Incoming peers are never paused or closed for memory: they carry replication and answers
//! for other nodes' clients, and their own window bounds them.

use super::Core;
use crate::conn::{Role, Who, MAX_PENDING_BYTES, MIN_WINDOW};
use crate::{log_notice, log_warn};

/// Under pressure, a client holding at least this many bytes is not read.
pub(super) const HEAVY_CLIENT: usize = 64 << 10;
/// How often the pools give memory back.
const TRIM_EVERY_NS: u64 = 1_000_000_000;
/// Free mbufs always kept (1 MiB of the default 16 KiB ones): an idle node's working set.
const KEEP_FREE_MBUFS: usize = 64;

/// The memory budget's state and what it did.
#[derive(Debug, Default)]
pub(super) struct Memory {
    /// `max_buffer_memory`, in bytes.
    pub budget: usize,
    /// Above three quarters of the budget until back under five eighths.
    pub pressure: bool,
    /// Clients not read because of the pressure, read again when it ends.
    pub paused: Vec<u32>,
    /// The reply window of each inbound connection now (`Core::reply_window`), and the
    /// number of connections it was computed for.
    pub window: usize,
    pub window_conns: u64,
    /// The most mbufs in use at once lately: each second's peak, or a quarter of the
    /// previous value when that is higher (a load that swings keeps its buffers; a burst
    /// that ended is forgotten in a few seconds).
    pub peak_hold: usize,
    pub next_trim: u64,
    pub stats: MemoryStats,
}

/// Counters of the memory budget, for `/info` and `/metrics`.
#[derive(Clone, Copy, Debug, Default)]
pub struct MemoryStats {
    /// Times a client stopped being read because the node was near its budget.
    pub clients_paused: u64,
    /// Clients closed because the node was over its budget.
    pub clients_closed: u64,
    /// Bytes of buffer storage given back to the system.
    pub released_bytes: u64,
}

impl Memory {
    pub fn new(budget: usize) -> Memory {
        Memory {
            budget,
            window: MAX_PENDING_BYTES,
            window_conns: u64::MAX,
            ..Default::default()
        }
    }

    fn pressure_at(&self) -> usize {
        self.budget / 4 * 3
    }

    fn resume_at(&self) -> usize {
        self.budget / 8 * 5
    }
}

/// The default budget: an eighth of the memory this process may use (the machine's, or its
/// cgroup's limit when lower), at least 64 MiB.
pub fn default_budget() -> usize {
    let total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| meminfo_total(&m));
    let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
        .ok()
        .and_then(|t| t.trim().parse::<u64>().ok());
    budget_from(total, cgroup)
}

fn meminfo_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kb.checked_mul(1024)
}

fn budget_from(total: Option<u64>, cgroup: Option<u64>) -> usize {
    let limit = match (total, cgroup) {
        (Some(t), Some(c)) => t.min(c),
        (t, c) => t.or(c).unwrap_or(8 << 30),
    };
    usize::try_from(limit / 8)
        .unwrap_or(usize::MAX)
        .max(64 << 20)
}

impl Core {
    /// Bytes of buffers in use: what requests and replies occupy now.
    pub(super) fn buffer_bytes(&self) -> usize {
        self.bufs.mbufs.in_use() * self.bufs.mbufs.chunk_size()
    }

    /// The reply window of each inbound connection (`conn::inbound`): a quarter of the
    /// budget shared by the connections there are, between `MIN_WINDOW` and
    /// `MAX_PENDING_BYTES`. What clients may ask for ahead of each other, all together, is
    /// then about a quarter of the budget, however many there are.
    /// Computed again when the number of connections changed (`memory_check`).
    pub(super) fn reply_window(&self) -> usize {
        self.mem.window
    }

    fn update_window(&mut self) {
        let conns = self.stats.pool.client_connections + self.stats.pool.dnode_client_connections;
        if conns == self.mem.window_conns {
            return;
        }
        self.mem.window_conns = conns;
        let share = self.mem.budget / 4 / usize::try_from(conns.max(1)).unwrap_or(usize::MAX);
        self.mem.window = share.clamp(MIN_WINDOW, MAX_PENDING_BYTES);
    }

    /// What a client holds that pausing it would stop growing: its unwritten replies, the
    /// replies it asked for once their size is known, and the request it is sending.
    fn client_holds(&self, idx: u32) -> Option<usize> {
        let Role::Client(c) = &self.rx.conn(idx)?.role else {
            return None;
        };
        let cur = c
            .inb
            .cur
            .and_then(|m| self.bufs.msgs.get(m))
            .map_or(0, |m| m.req_len);
        Some(c.inb.held_known() + cur)
    }

    /// Whether client `idx` must stop being read for the budget; if so it is paused and
    /// read again once the pressure ends.
    pub(super) fn memory_pause(&mut self, idx: u32) -> bool {
        if !self.mem.pressure || self.client_holds(idx).unwrap_or(0) < HEAVY_CLIENT {
            return false;
        }
        let Some(inb) = self.inbound_of(idx) else {
            return false;
        };
        inb.paused = true;
        if !self.mem.paused.contains(&idx) {
            self.mem.paused.push(idx);
        }
        self.mem.stats.clients_paused += 1;
        true
    }

    /// Once per loop iteration: enter or leave pressure, close the worst client past the
    /// budget, give memory back now and then.
    pub(super) fn memory_check(&mut self) {
        self.update_window();
        let used = self.buffer_bytes();
        if !self.mem.pressure && used >= self.mem.pressure_at() {
            self.mem.pressure = true;
            log_warn!(
                "buffers hold {} MiB of max_buffer_memory {} MiB: clients holding {} KiB or more are not read until they drain",
                used >> 20,
                self.mem.budget >> 20,
                HEAVY_CLIENT >> 10
            );
        } else if self.mem.pressure && used < self.mem.resume_at() {
            self.mem.pressure = false;
            log_notice!(
                "buffers back to {} MiB: every client is read again",
                used >> 20
            );
            for idx in std::mem::take(&mut self.mem.paused) {
                let next = self.in_resume(idx);
                self.in_act(idx, next);
            }
        }
        if used > self.mem.budget {
            self.close_worst_client(used);
        }
        if self.now_ns >= self.mem.next_trim {
            self.mem.next_trim = self.now_ns + TRIM_EVERY_NS;
            self.give_back_memory();
        }
    }

    /// When the loop must wake up to give memory back: while more mbufs are free than a
    /// quiet node would keep (the trims after a burst let its peak fade, then free).
    pub(super) fn memory_deadline(&self) -> Option<u64> {
        let quiet = (self.bufs.mbufs.in_use() / 4).max(KEEP_FREE_MBUFS);
        (self.bufs.mbufs.free_count() > quiet).then_some(self.mem.next_trim)
    }

    /// Free mbufs kept at a trim: what the recent busiest moment (`peak` mbufs in use,
    /// `Memory::peak_hold`) needed beyond what is in use now, plus a quarter of that peak, at
    /// least `KEEP_FREE_MBUFS`.
    fn free_mbufs_kept(&self, peak: usize) -> usize {
        peak.saturating_sub(self.bufs.mbufs.in_use()) + (peak / 4).max(KEEP_FREE_MBUFS)
    }

    fn close_worst_client(&mut self, used: usize) {
        let worst = self
            .rx
            .indexed()
            .filter(|(_, c)| matches!(c.role, Role::Client(_)))
            .filter_map(|(i, _)| Some((self.client_holds(i)?, i)))
            .max();
        let Some((held, idx)) = worst.filter(|&(held, _)| held >= HEAVY_CLIENT) else {
            return;
        };
        if let Some(c) = self.rx.conn(idx) {
            log_warn!(
                "{}: closed, holding {} KiB while buffers hold {} MiB, over max_buffer_memory {} MiB",
                Who(c),
                held >> 10,
                used >> 20,
                self.mem.budget >> 20
            );
        }
        self.mem.stats.clients_closed += 1;
        self.in_close(idx, "over max_buffer_memory");
    }

    /// Free the storage of the coldest free mbufs beyond [`Core::free_mbufs_kept`] and return
    /// the pages to the system.
    fn give_back_memory(&mut self) {
        let peak = self.bufs.mbufs.take_peak().max(self.mem.peak_hold / 4);
        self.mem.peak_hold = peak;
        let keep = self.free_mbufs_kept(peak);
        // Less than a watermark's worth above what is kept: a load's ordinary swing, not a
        // burst that ended (freeing it would only reallocate it).
        if self.bufs.mbufs.free_count() < keep + KEEP_FREE_MBUFS {
            return;
        }
        let freed = self.bufs.mbufs.trim(keep);
        if freed > 0 {
            self.mem.stats.released_bytes += freed as u64;
            crate::event::release_free_memory();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_budget_is_an_eighth_of_the_memory_or_of_the_cgroup_limit() {
        let m = "MemTotal:       24683784 kB\nMemFree:        15037188 kB\n";
        let total = meminfo_total(m);
        assert_eq!(total, Some(24683784 * 1024));
        assert_eq!(budget_from(total, None), 24683784 * 1024 / 8);
        assert_eq!(budget_from(total, Some(4 << 30)), 512 << 20);
        // Tiny containers still get 64 MiB; unknown memory counts as 8 GiB.
        assert_eq!(budget_from(total, Some(100 << 20)), 64 << 20);
        assert_eq!(budget_from(None, None), 1 << 30);
        assert_eq!(meminfo_total("nothing here"), None);
    }

    #[test]
    fn pressure_starts_at_three_quarters_and_ends_under_five_eighths() {
        let m = Memory::new(800 << 20);
        assert_eq!((m.pressure_at(), m.resume_at()), (600 << 20, 500 << 20));
    }
}
