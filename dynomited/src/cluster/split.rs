//! How a multi-key request is split over the nodes of the local rack (SPEC §8.2): one fragment
//! per owner, fragments in the order their first key appears, each key's place remembered so
//! the replies can be put back in key order.
//!
//! ```text
//!   MGET a b c d     owners: n2 n0 n2 n1
//!   fragments:       0 → n2 [a c]   1 → n0 [b]   2 → n1 [d]
//!   placement:       a (0,0)  b (1,0)  c (0,1)  d (2,0)     (fragment, position in it)
//! ```

use crate::ring::NodeIdx;

/// A split's plan; its vectors are reused from request to request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SplitPlan {
    /// For each fragment: the node it goes to.
    pub nodes: Vec<NodeIdx>,
    /// For each key, in request order: its fragment and its position in that fragment.
    pub placement: Vec<(u16, u16)>,
    /// Keys counted per fragment so far (working space).
    counts: Vec<u16>,
}

impl SplitPlan {
    /// Plan the split of keys whose owners are `owners`, in key order.
    pub fn plan(&mut self, owners: impl IntoIterator<Item = NodeIdx>) {
        self.nodes.clear();
        self.placement.clear();
        self.counts.clear();
        for node in owners {
            let f = match self.nodes.iter().position(|&n| n == node) {
                Some(f) => f,
                None => {
                    self.nodes.push(node);
                    self.counts.push(0);
                    self.nodes.len() - 1
                }
            };
            self.placement.push((f as u16, self.counts[f]));
            self.counts[f] = self.counts[f].wrapping_add(1);
        }
    }

    /// How many fragments: 1 when every key lives on one node (no split is needed).
    pub fn fragments(&self) -> usize {
        self.nodes.len()
    }

    /// The keys (indices in request order) of fragment `f`, in request order.
    pub fn keys_of(&self, f: usize) -> impl Iterator<Item = usize> + '_ {
        self.placement
            .iter()
            .enumerate()
            .filter(move |(_, &(g, _))| g as usize == f)
            .map(|(i, _)| i)
    }

    /// Each key's fragment, in request order.
    pub fn frag_of(&self) -> impl Iterator<Item = u16> + '_ {
        self.placement.iter().map(|&(f, _)| f)
    }
}
