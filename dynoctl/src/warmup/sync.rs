//! Step 4, the sync: both datastores' `INFO` polled every `--interval` until the replica is
//! close enough behind the source, with a progress line per poll, and the rules that give up
//! (`--timeout`, a gap that keeps growing, polls that keep failing).

use std::time::Instant;

use super::redis::{keys_of, master_of, num, role, same_datastore, Redis};
use super::steps::Warmup;
use crate::admin::{state_set, TargetState};
use crate::duration::span;

/// Failed polls in a row that end the sync.
const MAX_POLL_ERRORS: u32 = 10;

/// One poll of both datastores.
pub struct Sample {
    pub at: Instant,
    pub master_offset: u64,
    pub replica_offset: Option<u64>,
    pub link_up: bool,
    pub syncing: bool,
    pub loading: bool,
    pub read_bytes: Option<u64>,
    pub total_bytes: Option<u64>,
    pub source_keys: u64,
    pub replica_keys: u64,
}

impl Sample {
    /// Bytes behind, when the link is up and the full sync is over.
    pub fn gap(&self) -> Option<u64> {
        if self.link_up && !self.syncing && !self.loading {
            self.replica_offset
                .map(|r| self.master_offset.saturating_sub(r))
        } else {
            None
        }
    }
}

/// Why a poll failed.
enum PollError {
    /// A datastore did not answer: the next poll may work.
    Transient(String),
    /// Someone else changed the replica: stop.
    Fatal(String),
}

/// Poll the source `src` (at `source`) and the replica `rep`.
fn sample(src: &mut Redis, rep: &mut Redis, source: &str) -> Result<Sample, PollError> {
    let s = src.info(None).map_err(PollError::Transient)?;
    let r = rep.info(None).map_err(PollError::Transient)?;
    let at = Instant::now();
    if role(&r) != "slave" {
        return Err(PollError::Fatal(format!(
            "{} is no longer a replica (role {}): was SLAVEOF NO ONE sent by someone else?",
            rep.addr(),
            role(&r)
        )));
    }
    let master = master_of(&r);
    if !same_datastore(&master, source) {
        return Err(PollError::Fatal(format!(
            "{} now replicates {master}, not {source}: another warm-up or operator repointed it",
            rep.addr()
        )));
    }
    Ok(Sample {
        at,
        master_offset: num(&s, "master_repl_offset").unwrap_or(0),
        replica_offset: num(&r, "slave_repl_offset"),
        link_up: r.get("master_link_status").map(String::as_str) == Some("up"),
        syncing: num(&r, "master_sync_in_progress") == Some(1),
        loading: num(&r, "loading") == Some(1),
        read_bytes: num(&r, "master_sync_read_bytes"),
        total_bytes: r
            .get("master_sync_total_bytes")
            .and_then(|v| v.parse::<i64>().ok())
            .and_then(|v| u64::try_from(v).ok()),
        source_keys: keys_of(&s),
        replica_keys: keys_of(&r),
    })
}

/// What a sample means for the sync.
#[derive(Debug, PartialEq)]
enum Verdict {
    /// At most `--max-lag-bytes` behind.
    InSync,
    /// Why the sync gives up.
    GiveUp(String),
    /// Poll again.
    Poll,
}

/// The sync's counters: the decisions made from the samples alone.
struct Watch {
    max_lag: u64,
    max_growing: u32,
    /// Polls in a row whose gap grew.
    growing: u32,
    /// Failed polls in a row.
    errors: u32,
    prev: Option<Sample>,
}

impl Watch {
    fn new(max_lag: u64, max_growing: u32) -> Watch {
        Watch {
            max_lag,
            max_growing,
            growing: 0,
            errors: 0,
            prev: None,
        }
    }

    /// A poll that answered; `cur` becomes the previous sample unless the sync ends.
    fn sample(&mut self, cur: &Sample) -> Verdict {
        self.errors = 0;
        if let (Some(g), Some(pg)) = (cur.gap(), self.prev.as_ref().and_then(Sample::gap)) {
            if g > pg {
                self.growing += 1;
            } else {
                self.growing = 0;
            }
        }
        if cur.gap().is_some_and(|g| g <= self.max_lag) {
            return Verdict::InSync;
        }
        if self.growing >= self.max_growing {
            return Verdict::GiveUp(format!(
                "the gap grew {} polls in a row (now {}): writes outrun the sync",
                self.growing,
                bytes(cur.gap().unwrap_or(0))
            ));
        }
        Verdict::Poll
    }

    /// A poll that failed: the failures in a row so far.
    fn failed(&mut self) -> u32 {
        self.errors += 1;
        self.errors
    }
}

/// Poll until the replica is in sync (the last sample) or the sync gives up (why).
pub fn until_in_sync(w: &mut Warmup, source: &mut Redis) -> Result<Sample, String> {
    let args = w.args;
    let src = w.source.datastore.clone();
    let started = Instant::now();
    let mut watch = Watch::new(args.max_lag_bytes, args.max_growing_polls);
    loop {
        let poll_at = Instant::now();
        match sample(source, &mut w.mine, &src) {
            Ok(cur) => {
                let line = progress_line(&cur, watch.prev.as_ref(), args.max_lag_bytes);
                w.log.progress(&line);
                match watch.sample(&cur) {
                    Verdict::InSync => return Ok(cur),
                    Verdict::GiveUp(why) => return Err(why),
                    Verdict::Poll => watch.prev = Some(cur),
                }
            }
            Err(PollError::Fatal(e)) => return Err(e),
            Err(PollError::Transient(e)) => {
                let errors = watch.failed();
                w.log
                    .line(&format!("poll failed ({errors}/{MAX_POLL_ERRORS}): {e}"));
                if errors >= MAX_POLL_ERRORS {
                    return Err(format!("{errors} polls in a row failed, the last: {e}"));
                }
                // Reconnect both for the next poll.
                if let Ok(r) = Redis::open(&src, w.source.password.as_deref()) {
                    *source = r;
                }
                if let Ok(r) = Redis::open(&w.me.datastore, w.me.password.as_deref()) {
                    w.mine = r;
                }
            }
        }
        // Gossip can force a node back to NORMAL: keep it refusing reads.
        match w.stats.try_state(&w.me.node) {
            Ok(s) if s != "STANDBY" => {
                w.log.line(&format!(
                    "the node went {s} during the sync; setting STANDBY again"
                ));
                if let Err(e) = state_set(&w.stats, &w.me.node, TargetState::Standby) {
                    return Err(format!("cannot keep the node in STANDBY: {}", e.message));
                }
            }
            _ => {}
        }
        if started.elapsed() >= args.timeout {
            return Err(format!(
                "not in sync after {} (the limit, --timeout)",
                span(args.timeout)
            ));
        }
        let next = poll_at + args.interval;
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
}

/// The progress line of a sample (rates from the previous one).
fn progress_line(cur: &Sample, prev: Option<&Sample>, max_lag: u64) -> String {
    let dt = prev.map_or(0.0, |p| cur.at.duration_since(p.at).as_secs_f64());
    let keys = format!("keys {}/{}", cur.replica_keys, cur.source_keys);
    if cur.loading {
        return format!("loading the source's data into the replica; {keys}");
    }
    if cur.syncing || !cur.link_up {
        return match (cur.read_bytes, cur.total_bytes) {
            (Some(read), Some(total)) if total > 0 => {
                let rate = match prev.and_then(|p| p.read_bytes) {
                    Some(pr) if dt > 0.0 => read.saturating_sub(pr) as f64 / dt,
                    _ => 0.0,
                };
                format!(
                    "full sync: {}/{} ({:.0}%), {}/s, ETA {}; {keys}",
                    bytes(read),
                    bytes(total),
                    100.0 * read as f64 / total as f64,
                    bytes(rate as u64),
                    eta(if rate > 0.0 {
                        total.saturating_sub(read) as f64 / rate
                    } else {
                        f64::NAN
                    })
                )
            }
            (Some(read), _) if read > 0 => {
                format!("full sync: {} received (size unknown); {keys}", bytes(read))
            }
            _ => format!("full sync: waiting for the source's snapshot; {keys}"),
        };
    }
    let gap = cur.gap().unwrap_or(0);
    let (rate, closing) = match prev {
        Some(p) if dt > 0.0 => {
            let rep = cur
                .replica_offset
                .unwrap_or(0)
                .saturating_sub(p.replica_offset.unwrap_or(0)) as f64
                / dt;
            let closing = p.gap().map(|pg| (pg as f64 - gap as f64) / dt);
            (rep, closing)
        }
        _ => (0.0, None),
    };
    let to_go = gap.saturating_sub(max_lag) as f64;
    let eta = match closing {
        _ if to_go == 0.0 => "0s".into(),
        Some(c) if c > 0.0 => eta(to_go / c),
        _ => "?".into(),
    };
    format!(
        "{} behind (target <= {max_lag} bytes), {keys}, {}/s, ETA {eta}",
        bytes(gap),
        bytes(rate as u64)
    )
}

fn bytes(n: u64) -> String {
    let f = n as f64;
    if n < 1024 {
        format!("{n} B")
    } else if f < 1024.0 * 1024.0 {
        format!("{:.1} KiB", f / 1024.0)
    } else if f < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.1} MiB", f / (1024.0 * 1024.0))
    } else {
        format!("{:.2} GiB", f / (1024.0 * 1024.0 * 1024.0))
    }
}

fn eta(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return "?".into();
    }
    let s = secs.ceil() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, s % 3600 / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(at: Instant, off: u64, up: bool) -> Sample {
        Sample {
            at,
            master_offset: 1000,
            replica_offset: Some(off),
            link_up: up,
            syncing: !up,
            loading: false,
            read_bytes: Some(10),
            total_bytes: Some(100),
            source_keys: 10,
            replica_keys: 4,
        }
    }

    #[test]
    fn units() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(eta(61.2), "1m02s");
        assert_eq!(eta(f64::NAN), "?");
    }

    #[test]
    fn progress_lines() {
        let now = Instant::now();
        let s = |off: u64, up: bool| at(now, off, up);
        let l = progress_line(&s(0, false), None, 0);
        assert!(l.starts_with("full sync: 10 B/100 B (10%)"), "{l}");
        let l = progress_line(&s(900, true), None, 0);
        assert!(l.starts_with("100 B behind"), "{l}");
        assert!(l.contains("keys 4/10"), "{l}");
        assert_eq!(s(900, true).gap(), Some(100));
        assert_eq!(s(900, false).gap(), None);
    }

    #[test]
    fn progress_rates_and_eta() {
        let t0 = Instant::now();
        let prev = at(t0, 600, true);
        let cur = at(t0 + Duration::from_secs(1), 800, true);
        // 400 -> 200 bytes behind in 1 s: 200 B/s closing, 100 to go above a 100-byte target.
        let l = progress_line(&cur, Some(&prev), 100);
        assert_eq!(
            l,
            "200 B behind (target <= 100 bytes), keys 4/10, 200 B/s, ETA 1s"
        );
        let l = progress_line(&cur, Some(&prev), 500);
        assert!(l.ends_with("ETA 0s"), "{l}");
        // A gap that grows has no ETA.
        let grown = at(t0 + Duration::from_secs(2), 700, true);
        let l = progress_line(&grown, Some(&cur), 100);
        assert!(l.starts_with("300 B behind"), "{l}");
        assert!(l.ends_with("ETA ?"), "{l}");
        let mut loading = at(t0, 0, true);
        loading.loading = true;
        assert!(progress_line(&loading, None, 0).starts_with("loading"));
    }

    #[test]
    fn in_sync_at_the_target_and_not_before_the_link_is_up() {
        let t0 = Instant::now();
        let mut w = Watch::new(100, 3);
        assert_eq!(w.sample(&at(t0, 0, false)), Verdict::Poll);
        assert_eq!(w.sample(&at(t0, 899, true)), Verdict::Poll);
        assert_eq!(w.sample(&at(t0, 900, true)), Verdict::InSync);
    }

    #[test]
    fn a_gap_growing_too_many_polls_in_a_row_gives_up() {
        let t0 = Instant::now();
        let mut w = Watch::new(0, 2);
        for (off, growing) in [(500, 0), (400, 1), (450, 0), (300, 1)] {
            assert_eq!(w.sample(&at(t0, off, true)), Verdict::Poll, "{off}");
            assert_eq!(w.growing, growing, "{off}");
            w.prev = Some(at(t0, off, true));
        }
        // A sample without a gap (full sync again) neither counts nor resets.
        assert_eq!(w.sample(&at(t0, 0, false)), Verdict::Poll);
        assert_eq!(w.growing, 1);
        assert_eq!(
            w.sample(&at(t0, 200, true)),
            Verdict::GiveUp(
                "the gap grew 2 polls in a row (now 800 B): writes outrun the sync".into()
            )
        );
    }

    #[test]
    fn failed_polls_count_until_one_answers() {
        let mut w = Watch::new(0, 10);
        assert_eq!((w.failed(), w.failed()), (1, 2));
        w.sample(&at(Instant::now(), 0, false));
        assert_eq!(w.failed(), 1);
    }
}
