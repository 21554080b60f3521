//! What the replies of a quorum say (SPEC §4.5): Dynomite's response manager, for any number
//! of racks, with DC_EACH_SAFE_QUORUM's rule that every DC must agree.
//!
//! ```text
//!   vote arrives ─► decide(votes, level) ─┬─ Wait            more replies to come
//!                                         ├─ Answer(part)    a quorum agrees on that reply
//!                                         ├─ NoQuorum(part)  cannot reach a quorum any more:
//!                                         │                  that error reply, or Dynomite's
//!                                         │                  no-quorum error (None)
//!                                         └─ Merge{fallback} MGET, all in, no whole reply has a
//!                                                            quorum: merge element by element
//! ```
//!
//! A vote is one reply slot: the DC it comes from, whether it arrived and is good or an error,
//! its rank (arrival order) and the checksum of its bytes. Equal checksums agree.

use crate::types::Consistency;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoteState {
    Pending,
    Good,
    Error,
}

/// One reply a collector waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vote {
    /// The DC (topology index) the reply comes from: quorums are counted per DC.
    pub dc: u16,
    pub state: VoteState,
    /// When it arrived, among the collector's votes (the first good reply wins a tie).
    pub rank: u16,
    /// Checksum of the reply's bytes.
    pub sum: u32,
}

impl Vote {
    pub const fn pending(dc: u16) -> Vote {
        Vote {
            dc,
            state: VoteState::Pending,
            rank: 0,
            sum: 0,
        }
    }
}

/// What one DC's votes say so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Wait,
    /// Answer with this vote's reply.
    Pick(usize),
    /// A quorum cannot be reached: this error vote's reply (`None`: Dynomite's error).
    Fail(Option<usize>),
    /// Every reply is in and none has a quorum.
    Merge,
}

/// What the collector does now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Wait,
    /// A quorum agrees: answer with this vote's reply.
    Answer(usize),
    /// No quorum (counted as such): answer with this vote's reply (an error reply, or under
    /// DC_QUORUM the first good reply), or with Dynomite's no-quorum error for `None`.
    NoQuorum(Option<usize>),
    /// MGET replies, all in, no whole reply with a quorum: merge them element by element
    /// (see [`merge_order`]); if that fails too, it is `NoQuorum(fallback)`.
    Merge {
        fallback: Option<usize>,
    },
}

/// Dynomite's response manager for one DC: a reply that `quorum` votes agree on wins (the
/// earliest of equals); an error when good and pending votes can no longer make a quorum;
/// `Merge` once all are in without agreement.
pub fn dc_verdict(votes: &[Vote], dc: u16, quorum: usize) -> Verdict {
    let in_dc = || votes.iter().enumerate().filter(move |(_, v)| v.dc == dc);
    let (mut good, mut pending) = (0usize, 0usize);
    let mut best: Option<(usize, usize, u16)> = None; // (vote, agreeing, rank)
    for (i, v) in in_dc() {
        match v.state {
            VoteState::Pending => pending += 1,
            VoteState::Error => {}
            VoteState::Good => {
                good += 1;
                let agree = in_dc()
                    .filter(|(_, w)| w.state == VoteState::Good && w.sum == v.sum)
                    .count();
                let better = match best {
                    None => true,
                    Some((_, n, r)) => agree > n || (agree == n && v.rank < r),
                };
                if better {
                    best = Some((i, agree, v.rank));
                }
            }
        }
    }
    if let Some((i, agree, _)) = best {
        if agree >= quorum {
            return Verdict::Pick(i);
        }
    }
    if good + pending < quorum {
        let first_err = in_dc()
            .filter(|(_, v)| v.state == VoteState::Error)
            .min_by_key(|(_, v)| v.rank)
            .map(|(i, _)| i);
        return Verdict::Fail(first_err);
    }
    if pending > 0 {
        return Verdict::Wait;
    }
    Verdict::Merge
}

/// The verdict over every DC with votes: the local DC's, and under DC_EACH_SAFE_QUORUM every
/// other DC must reach its own quorum too (a DC that fails fails the request at once; no
/// element-wise merge for another DC: a safe quorum needs agreement). `quorum(dc)` is the
/// number of replies a quorum needs in that DC.
pub fn verdict(
    votes: &[Vote],
    level: Consistency,
    local_dc: u16,
    quorum: impl Fn(usize) -> usize,
) -> Verdict {
    let local = dc_verdict(votes, local_dc, quorum(local_dc as usize));
    if level != Consistency::DcEachSafeQuorum {
        return local;
    }
    let mut all = local;
    let mut seen: u64 = 0;
    for v in votes {
        if v.dc == local_dc || v.dc >= 64 || seen & (1 << v.dc) != 0 {
            continue;
        }
        seen |= 1 << v.dc;
        match dc_verdict(votes, v.dc, quorum(v.dc as usize)) {
            Verdict::Fail(k) => return Verdict::Fail(k),
            Verdict::Wait => all = Verdict::Wait,
            Verdict::Pick(_) => {}
            Verdict::Merge => return Verdict::Fail(None),
        }
    }
    if let Verdict::Fail(_) = local {
        return local;
    }
    all
}

/// The first good reply received in the local DC.
pub fn first_good(votes: &[Vote], local_dc: u16) -> Option<usize> {
    votes
        .iter()
        .enumerate()
        .filter(|(_, v)| v.dc == local_dc && v.state == VoteState::Good)
        .min_by_key(|(_, v)| v.rank)
        .map(|(i, _)| i)
}

/// What to do with a quorum collector's votes now. `mget`: the replies are arrays that may
/// be merged element by element when no whole reply has a quorum.
pub fn decide(
    votes: &[Vote],
    level: Consistency,
    local_dc: u16,
    quorum: impl Fn(usize) -> usize,
    mget: bool,
) -> Decision {
    match verdict(votes, level, local_dc, quorum) {
        Verdict::Wait => Decision::Wait,
        Verdict::Pick(k) => Decision::Answer(k),
        Verdict::Fail(k) => Decision::NoQuorum(k),
        Verdict::Merge => {
            // DC_QUORUM settles for the first good reply; the safe levels do not.
            let fallback = match level {
                Consistency::DcQuorum => first_good(votes, local_dc),
                _ => None,
            };
            if mget {
                Decision::Merge { fallback }
            } else {
                Decision::NoQuorum(fallback)
            }
        }
    }
}

/// The good local-DC votes in arrival order: the replies an element-wise merge compares.
pub fn merge_order(votes: &[Vote], local_dc: u16, out: &mut Vec<usize>) {
    out.clear();
    out.extend(
        votes
            .iter()
            .enumerate()
            .filter(|(_, v)| v.dc == local_dc && v.state == VoteState::Good)
            .map(|(i, _)| i),
    );
    out.sort_unstable_by_key(|&i| votes[i].rank);
}

/// A write that runs on every node (`SCRIPT LOAD`, `FUNCTION LOAD`, `FLUSHALL`, ...) at a
/// quorum level: one vote per node of the local DC, `dc` holding the vote's *rack* (0 to
/// `racks - 1`); `local` is this node's vote. A rack has the write when every one of its
/// nodes answered without error. Decided once every vote is in:
/// - a quorum of racks has it: `Answer` with this node's reply (else the first good one);
/// - not, and this node's own reply is an error (the datastore refused it, as it would on
///   every rack, or this node's datastore failed): `NoQuorum` with that reply;
/// - not, this node's reply good: `NoQuorum(None)`, Dynomite's no-quorum error.
pub fn broadcast_decide(votes: &[Vote], racks: usize, quorum: usize, local: usize) -> Decision {
    if votes.iter().any(|v| v.state == VoteState::Pending) {
        return Decision::Wait;
    }
    let complete = (0..racks)
        .filter(|&r| {
            let mut of_rack = votes.iter().filter(|v| usize::from(v.dc) == r).peekable();
            of_rack.peek().is_some() && of_rack.all(|v| v.state == VoteState::Good)
        })
        .count();
    let good = |i: usize| votes.get(i).is_some_and(|v| v.state == VoteState::Good);
    if complete >= quorum {
        let first = (0..votes.len()).find(|&i| good(i));
        return match (good(local), first) {
            (true, _) => Decision::Answer(local),
            (false, Some(i)) => Decision::Answer(i),
            (false, None) => Decision::NoQuorum(None),
        };
    }
    if local < votes.len() && !good(local) {
        Decision::NoQuorum(Some(local))
    } else {
        Decision::NoQuorum(None)
    }
}
