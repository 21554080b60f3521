//! Which replica of a differing key wins, pure: read-repair timestamps where they exist, else
//! the operator's rule (`--prefer majority` or `--prefer rack:NAME`), and what a rack's
//! eviction policy forbids (a key that may have been evicted is never recreated).
//!
//! ```text
//!  seen per rack ──▶ equal? ──yes──▶ Equal
//!        │ no
//!        ▼
//!  racks missing the key where maxmemory may have evicted it: "unknown" (no vote, no write)
//!        ▼
//!  timestamps: newest delete ≥ newest write ─▶ Absent wins
//!              newest write held by replicas that agree ─▶ their value wins
//!        │ none (or they do not decide)
//!        ▼
//!  --prefer rack:NAME ─▶ that rack's state (unknown there: Evicted)
//!  --prefer majority  ─▶ the state most known racks hold ("absent" is a state), else Tie
//!        ▼
//!  Repair { targets: racks not holding the winner, minus unknown racks when a value wins }
//! ```

/// What one rack holds for a key.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Seen {
    /// The digest of type, absolute expiry and value (see `scripts`); `None`: no such key.
    pub digest: Option<String>,
    /// The newest write the read-repair metadata records for the key on this node: its score
    /// in `._add-set`, or the newest of its fields' in `._add-set_<key>` / `._rem-set_<key>`
    /// (ms).
    pub written: Option<u64>,
    /// Its score in `._rem-set` (ms): when it was deleted.
    pub deleted: Option<u64>,
}

#[cfg(test)]
impl Seen {
    pub fn absent() -> Seen {
        Seen::default()
    }

    pub fn value(digest: &str) -> Seen {
        Seen {
            digest: Some(digest.to_string()),
            ..Seen::default()
        }
    }
}

/// Whether the digest records an expiry (its second field is not `-1`).
pub fn has_ttl(digest: &str) -> bool {
    digest.split(' ').nth(1).is_some_and(|e| e != "-1")
}

/// What a datastore's `maxmemory-policy` may evict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Eviction {
    /// `noeviction`: nothing.
    Nothing,
    /// `allkeys-lru`, `allkeys-lfu`, `allkeys-random`: any key.
    AllKeys,
    /// `volatile-lru`, `volatile-lfu`, `volatile-random`, `volatile-ttl`: keys with a TTL.
    Volatile,
}

impl Eviction {
    /// The class of a policy; an unknown or unreadable one is taken as `AllKeys` (nothing is
    /// recreated that may have been evicted).
    pub fn of_policy(policy: Option<&str>) -> Eviction {
        match policy.map(str::to_ascii_lowercase).as_deref() {
            Some("noeviction") => Eviction::Nothing,
            Some(p) if p.starts_with("volatile-") => Eviction::Volatile,
            _ => Eviction::AllKeys,
        }
    }
}

/// The operator's rule when no timestamps decide.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Prefer {
    Majority,
    /// This rack (index into the plan's racks).
    Rack(usize),
}

/// The state that wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Winner {
    /// The value this rack holds.
    Value(usize),
    /// No key.
    Absent,
}

/// What decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    Timestamp,
    Majority,
    Rack,
}

/// The decision for one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every rack holds the same.
    Equal,
    /// Write the winner on `targets`; `evicted` are racks missing the key where it may have
    /// been evicted, left alone.
    Repair {
        winner: Winner,
        by: By,
        targets: Vec<usize>,
        evicted: Vec<usize>,
    },
    /// No state holds a majority: reported, left alone.
    Tie,
    /// Only racks that may have evicted the key differ (or the preferred rack is one): left
    /// alone.
    Evicted { racks: Vec<usize> },
}

/// Decide for one key: `seen[r]` and `evict[r]` per rack.
pub fn decide(seen: &[Seen], evict: &[Eviction], prefer: &Prefer) -> Verdict {
    let first = &seen[0].digest;
    if seen.iter().all(|s| &s.digest == first) {
        return Verdict::Equal;
    }
    let ttl = seen.iter().filter_map(|s| s.digest.as_deref()).any(has_ttl);
    let unknown: Vec<bool> = seen
        .iter()
        .zip(evict)
        .map(|(s, e)| {
            s.digest.is_none()
                && match e {
                    Eviction::Nothing => false,
                    Eviction::AllKeys => true,
                    Eviction::Volatile => ttl,
                }
        })
        .collect();
    let (winner, by) = match by_timestamps(seen) {
        Some(w) => (w, By::Timestamp),
        None => match prefer {
            Prefer::Rack(p) if unknown[*p] => {
                return Verdict::Evicted {
                    racks: indices(&unknown),
                }
            }
            Prefer::Rack(p) => (state_winner(seen, *p), By::Rack),
            Prefer::Majority => match majority(seen, &unknown) {
                Some(w) => (w, By::Majority),
                None => return Verdict::Tie,
            },
        },
    };
    let want = match winner {
        Winner::Value(r) => seen[r].digest.as_ref(),
        Winner::Absent => None,
    };
    let mut targets = Vec::new();
    let mut evicted = Vec::new();
    for (r, s) in seen.iter().enumerate() {
        if s.digest.as_ref() == want {
            continue;
        }
        if unknown[r] && want.is_some() {
            evicted.push(r);
        } else {
            targets.push(r);
        }
    }
    if targets.is_empty() {
        return Verdict::Evicted { racks: evicted };
    }
    Verdict::Repair {
        winner,
        by,
        targets,
        evicted,
    }
}

fn indices(flags: &[bool]) -> Vec<usize> {
    flags
        .iter()
        .enumerate()
        .filter_map(|(i, &f)| f.then_some(i))
        .collect()
}

/// Rack `r`'s state as a winner.
fn state_winner(seen: &[Seen], r: usize) -> Winner {
    if seen[r].digest.is_some() {
        Winner::Value(r)
    } else {
        Winner::Absent
    }
}

/// The read-repair timestamps' verdict: the newest delete when it is at least as new as the
/// newest write; else the newest write's value when every rack that records it holds the same
/// value. `None` when no rack records anything, or the newest write does not name one value.
fn by_timestamps(seen: &[Seen]) -> Option<Winner> {
    let written = seen.iter().filter_map(|s| s.written).max();
    let deleted = seen.iter().filter_map(|s| s.deleted).max();
    match (written, deleted) {
        (None, None) => None,
        (w, Some(d)) if w.is_none_or(|w| d >= w) => Some(Winner::Absent),
        (Some(w), _) => {
            let newest: Vec<usize> = (0..seen.len())
                .filter(|&r| seen[r].written == Some(w))
                .collect();
            let value = seen[newest[0]].digest.as_ref()?;
            newest
                .iter()
                .all(|&r| seen[r].digest.as_ref() == Some(value))
                .then_some(Winner::Value(newest[0]))
        }
        (None, Some(_)) => unreachable!("matched above"),
    }
}

/// The state most racks that are not `unknown` hold, when one holds more than any other.
fn majority(seen: &[Seen], unknown: &[bool]) -> Option<Winner> {
    // (first rack with the state, votes)
    let mut tally: Vec<(usize, usize)> = Vec::new();
    for (r, s) in seen.iter().enumerate() {
        if unknown[r] {
            continue;
        }
        match tally.iter_mut().find(|(f, _)| seen[*f].digest == s.digest) {
            Some((_, n)) => *n += 1,
            None => tally.push((r, 1)),
        }
    }
    let best = tally.iter().map(|&(_, n)| n).max()?;
    let mut top = tally.iter().filter(|&&(_, n)| n == best);
    match (top.next(), top.next()) {
        (Some(&(r, _)), None) => Some(state_winner(seen, r)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Eviction::{AllKeys, Nothing, Volatile};

    const NONE3: [Eviction; 3] = [Nothing, Nothing, Nothing];

    fn v(d: &str) -> Seen {
        Seen::value(d)
    }
    fn a() -> Seen {
        Seen::absent()
    }
    fn ts(mut s: Seen, written: Option<u64>, deleted: Option<u64>) -> Seen {
        s.written = written;
        s.deleted = deleted;
        s
    }
    fn repair(winner: Winner, by: By, targets: &[usize], evicted: &[usize]) -> Verdict {
        Verdict::Repair {
            winner,
            by,
            targets: targets.to_vec(),
            evicted: evicted.to_vec(),
        }
    }

    const X: &str = "string -1 1 aaa";
    const Y: &str = "string -1 1 bbb";
    const Z: &str = "string -1 1 ccc";
    const XT: &str = "string 1700000000000 1 aaa";

    #[test]
    fn equal_replicas_need_nothing() {
        assert_eq!(
            decide(&[v(X), v(X), v(X)], &NONE3, &Prefer::Majority),
            Verdict::Equal
        );
        assert_eq!(
            decide(&[a(), a(), a()], &NONE3, &Prefer::Majority),
            Verdict::Equal
        );
        // Metadata alone is no difference.
        let s = [ts(v(X), Some(1), None), v(X), v(X)];
        assert_eq!(decide(&s, &NONE3, &Prefer::Majority), Verdict::Equal);
    }

    #[test]
    fn the_majority_wins_and_absent_is_a_value() {
        let m = Prefer::Majority;
        assert_eq!(
            decide(&[v(Y), v(X), v(X)], &NONE3, &m),
            repair(Winner::Value(1), By::Majority, &[0], &[])
        );
        // Written on one rack only: two racks say "absent".
        assert_eq!(
            decide(&[v(X), a(), a()], &NONE3, &m),
            repair(Winner::Absent, By::Majority, &[0], &[])
        );
        // Deleted on one rack only.
        assert_eq!(
            decide(&[v(X), a(), v(X)], &NONE3, &m),
            repair(Winner::Value(0), By::Majority, &[1], &[])
        );
        // A different TTL is a different value.
        assert_eq!(
            decide(&[v(X), v(X), v(XT)], &NONE3, &m),
            repair(Winner::Value(0), By::Majority, &[2], &[])
        );
    }

    #[test]
    fn a_tie_is_left_alone() {
        let m = Prefer::Majority;
        assert_eq!(decide(&[v(X), v(Y), v(Z)], &NONE3, &m), Verdict::Tie);
        assert_eq!(decide(&[v(X), a()], &[Nothing, Nothing], &m), Verdict::Tie);
        let four = [Nothing; 4];
        assert_eq!(decide(&[v(X), v(X), a(), a()], &four, &m), Verdict::Tie);
        assert_eq!(
            decide(&[v(X), v(X), a(), v(Y)], &four, &m),
            repair(Winner::Value(0), By::Majority, &[2, 3], &[])
        );
    }

    #[test]
    fn a_preferred_rack_wins_even_alone() {
        assert_eq!(
            decide(&[v(X), v(Y), v(Y)], &NONE3, &Prefer::Rack(0)),
            repair(Winner::Value(0), By::Rack, &[1, 2], &[])
        );
        assert_eq!(
            decide(&[v(X), v(X), a()], &NONE3, &Prefer::Rack(2)),
            repair(Winner::Absent, By::Rack, &[0, 1], &[])
        );
        assert_eq!(
            decide(&[v(X), v(Y), v(Z)], &NONE3, &Prefer::Rack(2)),
            repair(Winner::Value(2), By::Rack, &[0, 1], &[])
        );
    }

    #[test]
    fn timestamps_decide_before_the_rule() {
        // The newest write is on the minority rack.
        let s = [ts(v(Y), Some(200), None), ts(v(X), Some(100), None), v(X)];
        assert_eq!(
            decide(&s, &NONE3, &Prefer::Majority),
            repair(Winner::Value(0), By::Timestamp, &[1, 2], &[])
        );
        // ... and before a preferred rack.
        assert_eq!(
            decide(&s, &NONE3, &Prefer::Rack(2)),
            repair(Winner::Value(0), By::Timestamp, &[1, 2], &[])
        );
        // A delete newer than every write: deleted wins, even against the majority.
        let s = [
            ts(a(), Some(100), Some(300)),
            v(X),
            ts(v(X), Some(200), None),
        ];
        assert_eq!(
            decide(&s, &NONE3, &Prefer::Majority),
            repair(Winner::Absent, By::Timestamp, &[1, 2], &[])
        );
        // A write newer than the delete: the value wins, on the rack that had deleted it too.
        let s = [ts(a(), None, Some(100)), ts(v(X), Some(200), None), v(Y)];
        assert_eq!(
            decide(&s, &NONE3, &Prefer::Majority),
            repair(Winner::Value(1), By::Timestamp, &[0, 2], &[])
        );
        // A delete and a write at the same moment: the delete.
        let s = [ts(a(), None, Some(100)), ts(v(X), Some(100), None), v(X)];
        assert_eq!(
            decide(&s, &NONE3, &Prefer::Majority),
            repair(Winner::Absent, By::Timestamp, &[1, 2], &[])
        );
    }

    #[test]
    fn timestamps_that_name_no_one_value_leave_it_to_the_rule() {
        // Two replicas record the newest write and hold different values.
        let s = [
            ts(v(X), Some(200), None),
            ts(v(Y), Some(200), None),
            ts(v(Y), Some(100), None),
        ];
        assert_eq!(
            decide(&s, &NONE3, &Prefer::Majority),
            repair(Winner::Value(1), By::Majority, &[0], &[])
        );
        // The newest write's replica no longer holds the key (it expired there).
        let s = [ts(a(), Some(200), None), v(X), v(X)];
        assert_eq!(
            decide(&s, &NONE3, &Prefer::Majority),
            repair(Winner::Value(1), By::Majority, &[0], &[])
        );
    }

    #[test]
    fn a_key_that_may_have_been_evicted_is_not_recreated() {
        let m = Prefer::Majority;
        // allkeys-*: missing on that rack, present elsewhere: reported.
        assert_eq!(
            decide(&[v(X), v(X), a()], &[Nothing, Nothing, AllKeys], &m),
            Verdict::Evicted { racks: vec![2] }
        );
        // The evicting racks do not vote for "absent": the one copy is not deleted.
        assert_eq!(
            decide(&[v(X), a(), a()], &[Nothing, AllKeys, AllKeys], &m),
            Verdict::Evicted { racks: vec![1, 2] }
        );
        // Other racks are still repaired.
        assert_eq!(
            decide(
                &[v(X), v(X), v(Y), a()],
                &[Nothing, Nothing, Nothing, AllKeys],
                &m
            ),
            repair(Winner::Value(0), By::Majority, &[2], &[3])
        );
        // volatile-*: only keys with a TTL may have been evicted.
        let vol = [Nothing, Nothing, Volatile];
        assert_eq!(
            decide(&[v(XT), v(XT), a()], &vol, &m),
            Verdict::Evicted { racks: vec![2] }
        );
        assert_eq!(
            decide(&[v(X), v(X), a()], &vol, &m),
            repair(Winner::Value(0), By::Majority, &[2], &[])
        );
        // A delete is still carried out where nothing was evicted.
        assert_eq!(
            decide(&[v(X), a(), a()], &[AllKeys, Nothing, Nothing], &m),
            repair(Winner::Absent, By::Majority, &[0], &[])
        );
        // A preferred rack that may have evicted it decides nothing.
        assert_eq!(
            decide(
                &[v(X), v(X), a()],
                &[Nothing, Nothing, AllKeys],
                &Prefer::Rack(2)
            ),
            Verdict::Evicted { racks: vec![2] }
        );
        // A newer write by timestamps is not recreated there either.
        let s = [ts(v(Y), Some(9), None), v(X), a()];
        assert_eq!(
            decide(&s, &[Nothing, Nothing, AllKeys], &m),
            repair(Winner::Value(0), By::Timestamp, &[1], &[2])
        );
    }

    #[test]
    fn policies() {
        assert_eq!(Eviction::of_policy(Some("noeviction")), Nothing);
        assert_eq!(Eviction::of_policy(Some("allkeys-lru")), AllKeys);
        assert_eq!(Eviction::of_policy(Some("allkeys-random")), AllKeys);
        assert_eq!(Eviction::of_policy(Some("volatile-ttl")), Volatile);
        assert_eq!(Eviction::of_policy(Some("VOLATILE-LFU")), Volatile);
        assert_eq!(Eviction::of_policy(None), AllKeys);
        assert!(has_ttl(XT) && !has_ttl(X) && !has_ttl(""));
    }
}
