//! The walk of one unit (ranges with the same owners): scan each rack's owner, digest every
//! key on every rack, look again at differing keys `--recheck-after` later, and write the
//! winner where the key still differs the same way.
//!
//! ```text
//!  rack r's owner: SCAN batch ─▶ keys of the unit's ranges (metadata keys skipped)
//!     ─▶ r > 0: keys an earlier rack holds were compared in its scan: skipped
//!     ─▶ digest on every rack ─▶ all equal: done │ else: pending (first look, time)
//!  pending keys whose first look is --recheck-after old:
//!     ─▶ digest again on every rack ─▶ equal now: settled │ changed: changed meanwhile
//!     ─▶ same difference: decide ─▶ tie / evicted / report-only: left │ repair:
//!          value winner: DUMP on the winner if its digest is still the same
//!          each target: compare-and-replace (RESTORE ... REPLACE ABSTTL, or DEL)
//! ```
//!
//! Pending keys are bounded ([`MAX_PENDING`]): when more wait, the scan waits for the oldest
//! to be due. A unit ends when every pending key is resolved, so a finished unit has nothing
//! in flight. Within a unit, every [`CHECKPOINT_EVERY`] the walk reports the position before
//! which every key is resolved: the rack and SCAN cursor of the oldest pending key's batch (or
//! of the next batch when none is pending), for `--resume`.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use super::decide::{decide, By, Prefer, Seen, Verdict, Winner};
use super::plan::Plan;
use super::progress::Progress;
use super::rate::{Limiter, Rate};
use super::report::{key_text, Left, RackCounts, Totals, MAX_LEFT};
use super::scripts::{is_metadata, Applied, Payload};
use super::store::Store;

/// The most differing keys waiting for their second look.
pub const MAX_PENDING: usize = 50_000;

/// Time between checkpoints within a unit.
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// Where a unit's walk starts or got to: a rack and its owner's SCAN cursor.
pub type Position = (usize, String);

/// How the walk runs.
#[derive(Clone, Debug)]
pub struct Options {
    pub prefer: Prefer,
    pub report_only: bool,
    pub recheck_after: Duration,
    /// Keys per SCAN and per script call.
    pub batch: usize,
    pub rate: Rate,
}

/// A differing key waiting for its second look.
struct Pending {
    key: Vec<u8>,
    first: Vec<Seen>,
    at: Instant,
    /// The rack whose scan found it, and the cursor that batch was asked with.
    found: Position,
}

/// A repair to carry out: the key (index into the batch), the winner, the racks to write.
struct Job {
    i: usize,
    winner: Winner,
    targets: Vec<usize>,
    /// Racks left alone because they may have evicted the key.
    evicted: Vec<usize>,
}

/// The walk's state across units.
pub struct Walk<'a> {
    plan: &'a Plan,
    /// Per rack, per node (as the plan's racks).
    stores: Vec<Vec<Store>>,
    opts: &'a Options,
    pub racks: Vec<RackCounts>,
    pub totals: Totals,
    pub left: Vec<Left>,
    pub left_unlisted: u64,
    limiter: Limiter,
    started: Instant,
    pub progress: Progress,
}

impl<'a> Walk<'a> {
    pub fn new(
        plan: &'a Plan,
        stores: Vec<Vec<Store>>,
        opts: &'a Options,
        racks: Vec<RackCounts>,
        progress: Progress,
    ) -> Walk<'a> {
        Walk {
            plan,
            stores,
            opts,
            racks,
            totals: Totals::default(),
            left: Vec::new(),
            left_unlisted: 0,
            limiter: Limiter::new(opts.rate),
            started: Instant::now(),
            progress,
        }
    }

    /// The stores, for the metadata trim after the walk.
    pub fn stores(&mut self) -> &mut Vec<Vec<Store>> {
        &mut self.stores
    }

    /// Walk unit `u`, from `from` (a checkpoint) or from the start; `checkpoint` is given the
    /// position before which every key is resolved, every [`CHECKPOINT_EVERY`].
    pub fn unit(
        &mut self,
        u: usize,
        from: Option<Position>,
        checkpoint: &mut dyn FnMut(&Position) -> Result<(), String>,
    ) -> Result<(), String> {
        let owners = self.plan.units[u].owners.clone();
        let mut pending: VecDeque<Pending> = VecDeque::new();
        let mut queued: HashSet<Vec<u8>> = HashSet::new();
        let (first_rack, first_cursor) = from.unwrap_or((0, "0".to_string()));
        let mut saved = Instant::now();
        for r in first_rack..owners.len() {
            let mut cursor = if r == first_rack {
                first_cursor.clone()
            } else {
                "0".to_string()
            };
            loop {
                let (next, keys) = self.stores[r][owners[r]].scan(&cursor, self.opts.batch)?;
                self.progress.seen += keys.len() as u64;
                let keys: Vec<Vec<u8>> = keys
                    .into_iter()
                    .filter(|k| !is_metadata(k) && self.plan.unit_of(self.plan.range_of(k)) == u)
                    .collect();
                self.racks[r].scanned += keys.len() as u64;
                let pause = self.limiter.take(keys.len() as u64, self.started.elapsed());
                if !pause.is_zero() {
                    std::thread::sleep(pause);
                }
                let keys = self.not_on_earlier_racks(&owners, r, keys)?;
                if !keys.is_empty() {
                    let seen = self.digests(&owners, &keys)?;
                    for (key, first) in keys.into_iter().zip(seen) {
                        self.totals.keys += 1;
                        if all_equal(&first) || queued.contains(&key) {
                            continue;
                        }
                        queued.insert(key.clone());
                        pending.push_back(Pending {
                            key,
                            first,
                            at: Instant::now(),
                            found: (r, cursor.clone()),
                        });
                    }
                }
                self.resolve_due(&owners, &mut pending, &mut queued, false)?;
                while pending.len() > MAX_PENDING {
                    self.resolve_due(&owners, &mut pending, &mut queued, true)?;
                }
                self.progress
                    .tick(self.totals.differing, self.totals.repaired);
                if saved.elapsed() >= CHECKPOINT_EVERY && next != "0" {
                    let at = match pending.front() {
                        Some(p) => p.found.clone(),
                        None => (r, next.clone()),
                    };
                    checkpoint(&at)?;
                    saved = Instant::now();
                }
                cursor = next;
                if cursor == "0" {
                    break;
                }
            }
        }
        while !pending.is_empty() {
            self.resolve_due(&owners, &mut pending, &mut queued, true)?;
        }
        Ok(())
    }

    /// Keys of rack `r`'s scan that no earlier rack holds (those were compared in its scan).
    fn not_on_earlier_racks(
        &mut self,
        owners: &[usize],
        r: usize,
        keys: Vec<Vec<u8>>,
    ) -> Result<Vec<Vec<u8>>, String> {
        if r == 0 || keys.is_empty() {
            return Ok(keys);
        }
        let refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        for (e, &o) in owners[..r].iter().enumerate() {
            self.stores[e][o].send_exists(&refs)?;
        }
        let mut held = vec![false; keys.len()];
        for (e, &o) in owners[..r].iter().enumerate() {
            for (h, x) in held
                .iter_mut()
                .zip(self.stores[e][o].recv_exists(keys.len())?)
            {
                *h |= x;
            }
        }
        Ok(keys
            .into_iter()
            .zip(held)
            .filter_map(|(k, h)| (!h).then_some(k))
            .collect())
    }

    /// Every rack's digest of each key: `[key][rack]`.
    fn digests(&mut self, owners: &[usize], keys: &[Vec<u8>]) -> Result<Vec<Vec<Seen>>, String> {
        let refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        for (r, &o) in owners.iter().enumerate() {
            self.stores[r][o].send_digest(&refs)?;
        }
        let mut per_key: Vec<Vec<Seen>> = (0..keys.len())
            .map(|_| Vec::with_capacity(owners.len()))
            .collect();
        for (r, &o) in owners.iter().enumerate() {
            for (k, s) in self.stores[r][o]
                .recv_digest(keys.len())?
                .into_iter()
                .enumerate()
            {
                per_key[k].push(s);
            }
        }
        Ok(per_key)
    }

    /// Take a second look at the pending keys that are due (with `wait`, first wait for the
    /// oldest to be due), a batch at a time.
    fn resolve_due(
        &mut self,
        owners: &[usize],
        pending: &mut VecDeque<Pending>,
        queued: &mut HashSet<Vec<u8>>,
        wait: bool,
    ) -> Result<(), String> {
        if wait {
            if let Some(p) = pending.front() {
                let due = p.at + self.opts.recheck_after;
                let now = Instant::now();
                if due > now {
                    std::thread::sleep(due - now);
                }
            }
        }
        loop {
            let now = Instant::now();
            let mut batch = Vec::new();
            while batch.len() < self.opts.batch {
                match pending.front() {
                    Some(p) if p.at + self.opts.recheck_after <= now => {
                        let p = pending.pop_front().expect("just seen");
                        queued.remove(&p.key);
                        batch.push(p);
                    }
                    _ => break,
                }
            }
            if batch.is_empty() {
                return Ok(());
            }
            self.second_look(owners, batch)?;
        }
    }

    fn leave(&mut self, key: &[u8], why: &'static str, racks: &[usize], error: Option<String>) {
        if self.left.len() >= MAX_LEFT {
            self.left_unlisted += 1;
            return;
        }
        self.left.push(Left {
            key: key_text(key),
            why,
            racks: racks.iter().map(|&r| self.racks[r].rack.clone()).collect(),
            error,
        });
    }

    /// The second look at a batch of keys, the decisions and the writes.
    fn second_look(&mut self, owners: &[usize], batch: Vec<Pending>) -> Result<(), String> {
        let keys: Vec<Vec<u8>> = batch.iter().map(|p| p.key.clone()).collect();
        let second = self.digests(owners, &keys)?;
        let evict: Vec<_> = owners
            .iter()
            .enumerate()
            .map(|(r, &o)| self.stores[r][o].eviction)
            .collect();
        let all: Vec<usize> = (0..owners.len()).collect();
        let mut jobs = Vec::new();
        for (i, (p, now)) in batch.iter().zip(&second).enumerate() {
            if all_equal(now) {
                self.totals.settled += 1;
                continue;
            }
            self.totals.differing += 1;
            let moved: Vec<usize> = (0..owners.len())
                .filter(|&r| p.first[r].digest != now[r].digest)
                .collect();
            if !moved.is_empty() {
                self.totals.changed_meanwhile += 1;
                for &r in &moved {
                    self.racks[r].changed_meanwhile += 1;
                }
                self.leave(&p.key, "changed_meanwhile", &moved, None);
                continue;
            }
            match decide(now, &evict, &self.opts.prefer) {
                Verdict::Equal => unreachable!("not all equal"),
                Verdict::Tie => {
                    self.totals.ties += 1;
                    self.leave(&p.key, "tie", &all, None);
                }
                Verdict::Evicted { racks } => {
                    self.totals.evicted += 1;
                    for &r in &racks {
                        self.racks[r].differs += 1;
                        self.racks[r].evicted += 1;
                    }
                    self.leave(&p.key, "evicted", &racks, None);
                }
                Verdict::Repair {
                    winner,
                    by,
                    targets,
                    evicted,
                } => {
                    match by {
                        By::Timestamp => self.totals.by_timestamp += 1,
                        By::Majority => self.totals.by_majority += 1,
                        By::Rack => self.totals.by_rack += 1,
                    }
                    for &r in targets.iter().chain(&evicted) {
                        self.racks[r].differs += 1;
                    }
                    for &r in &evicted {
                        self.racks[r].evicted += 1;
                    }
                    if self.opts.report_only {
                        self.totals.would_repair += 1;
                        self.leave(&p.key, "would_repair", &targets, None);
                        continue;
                    }
                    jobs.push(Job {
                        i,
                        winner,
                        targets,
                        evicted,
                    });
                }
            }
        }
        if !jobs.is_empty() {
            self.write(owners, &keys, &second, jobs)?;
        }
        Ok(())
    }

    /// Carry out the repairs: the winners' payloads, then compare-and-replace on each target.
    fn write(
        &mut self,
        owners: &[usize],
        keys: &[Vec<u8>],
        seen: &[Vec<Seen>],
        jobs: Vec<Job>,
    ) -> Result<(), String> {
        // The winners' payloads, fetched from each winning rack for its keys.
        let mut payloads: Vec<Option<Payload>> = vec![None; jobs.len()];
        let mut winner_moved = vec![false; jobs.len()];
        for w in 0..owners.len() {
            let mine: Vec<usize> = (0..jobs.len())
                .filter(|&j| jobs[j].winner == Winner::Value(w))
                .collect();
            if mine.is_empty() {
                continue;
            }
            let ks: Vec<&[u8]> = mine.iter().map(|&j| keys[jobs[j].i].as_slice()).collect();
            let expected: Vec<&[u8]> = mine
                .iter()
                .map(|&j| digest_bytes(&seen[jobs[j].i][w]))
                .collect();
            let got = self.stores[w][owners[w]].fetch(&ks, &expected)?;
            for (&j, p) in mine.iter().zip(got) {
                winner_moved[j] = p.is_none();
                payloads[j] = p;
            }
        }
        // Per target rack: (job, its expected digest, expiry, payload).
        let mut results: Vec<Vec<Applied>> = vec![Vec::new(); jobs.len()];
        for t in 0..owners.len() {
            let mine: Vec<usize> = (0..jobs.len())
                .filter(|&j| !winner_moved[j] && jobs[j].targets.contains(&t))
                .collect();
            if mine.is_empty() {
                continue;
            }
            let ks: Vec<&[u8]> = mine.iter().map(|&j| keys[jobs[j].i].as_slice()).collect();
            let mut args: Vec<&[u8]> = Vec::with_capacity(3 * mine.len());
            for &j in &mine {
                args.push(digest_bytes(&seen[jobs[j].i][t]));
                match &payloads[j] {
                    Some(p) => {
                        args.push(p.expiry.as_bytes());
                        args.push(&p.dump);
                    }
                    None => {
                        args.push(b"0");
                        args.push(b"");
                    }
                }
            }
            let got = self.stores[t][owners[t]].apply(&ks, &args)?;
            for (&j, a) in mine.iter().zip(got) {
                match &a {
                    Applied::Written => self.racks[t].repaired += 1,
                    Applied::ChangedMeanwhile => self.racks[t].changed_meanwhile += 1,
                    Applied::Failed(_) => self.racks[t].failed += 1,
                }
                results[j].push(a);
            }
        }
        for (j, job) in jobs.iter().enumerate() {
            let key = &keys[job.i];
            if winner_moved[j] {
                self.totals.changed_meanwhile += 1;
                if let Winner::Value(w) = job.winner {
                    self.racks[w].changed_meanwhile += 1;
                    self.leave(key, "changed_meanwhile", &[w], None);
                }
                continue;
            }
            let failed = results[j].iter().find_map(|a| match a {
                Applied::Failed(e) => Some(e.clone()),
                _ => None,
            });
            if let Some(e) = failed {
                self.totals.failed += 1;
                self.leave(key, "failed", &job.targets, Some(e));
            } else if results[j].contains(&Applied::ChangedMeanwhile) {
                self.totals.changed_meanwhile += 1;
                self.leave(key, "changed_meanwhile", &job.targets, None);
            } else if !job.evicted.is_empty() {
                self.totals.evicted += 1;
                self.leave(key, "evicted", &job.evicted, None);
            } else {
                self.totals.repaired += 1;
            }
        }
        Ok(())
    }
}

/// A digest as the scripts take it (`""` for no key).
fn digest_bytes(s: &Seen) -> &[u8] {
    s.digest.as_deref().unwrap_or("").as_bytes()
}

fn all_equal(seen: &[Seen]) -> bool {
    seen.iter().all(|s| s.digest == seen[0].digest)
}
