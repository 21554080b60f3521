//! The cluster's decisions, pure: where a key lives, which nodes get a write's copies, which
//! replies a consistency level waits for and what they add up to, how a multi-key request is
//! split over the nodes of a rack, and what the node state lets through. No sockets, no
//! buffers, no clock: the coordinator (`core`) asks, then acts on the answer.
//!
//! ```text
//!   request ──► gate(state, write) ──► Forward │ Hold │ Refuse           (SPEC §10.1)
//!      │
//!      ├─ multi-key ──► SplitPlan::plan(owners of each key) ──► one fragment per node (§8.2)
//!      │
//!      └─ Placement::plan(h, write, level) ──► One { owner, replicate }   DC_ONE (§4.3, §4.4)
//!                                          └─► Quorum { each, replicate_remote }  (§4.5)
//!                                                 └─ quorum::decide(votes) ──► Wait │ Answer(part)
//!                                                                            │ NoQuorum │ Merge
//! ```

mod placement;
pub mod quorum;
pub mod ready;
mod split;

#[cfg(test)]
mod tests;

pub use placement::{effective_level, Placement, Plan};
pub use quorum::{Decision, Vote, VoteState};
pub use split::SplitPlan;

use crate::types::NodeState;

/// What the node state does with a request for the local datastore (SPEC §10.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Run it now.
    Forward,
    /// Keep it until the node leaves WRITES_ONLY (a write that a warm-up must not lose).
    Hold,
    /// Answer with Dynomite's invalid-state error.
    Refuse,
}

/// The node-state rule: NORMAL, JOINING and INIT serve everything; RESUMING serves writes;
/// WRITES_ONLY holds writes; every other state (and reads in RESUMING or WRITES_ONLY) refuses.
pub fn gate(state: NodeState, write: bool) -> Gate {
    match state {
        NodeState::Normal | NodeState::Joining | NodeState::Init => Gate::Forward,
        NodeState::Resuming if write => Gate::Forward,
        NodeState::WritesOnly if write => Gate::Hold,
        _ => Gate::Refuse,
    }
}
