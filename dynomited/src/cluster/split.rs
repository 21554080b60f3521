//! How a multi-key request is split (SPEC §8.2): one fragment per set of keys that live on the
//! same node in every rack (racks may differ in shape: a fragment must be one request in each
//! of them, or its copies would put keys on the wrong nodes there), fragments in the order
//! their first key appears, each key's place remembered so the replies can be put back in key
//! order. With racks of one shape that is one fragment per owner in the local rack.
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
    pub placement: Vec<(u16, u32)>,
    /// Keys counted per fragment so far, and each fragment's first key (working space).
    counts: Vec<u32>,
    first: Vec<usize>,
}

impl SplitPlan {
    /// Plan the split of keys whose owners are `owners`, in key order (every rack of one
    /// shape).
    pub fn plan(&mut self, owners: &[NodeIdx]) {
        self.plan_by(owners.len(), |a, b| owners[a] == owners[b], |i| owners[i]);
    }

    /// Plan the split of keys with `sigs` (each key's owners in every multi-node rack, `width`
    /// entries a key, from `Placement::signature`); `local(i)` is key `i`'s owner in the local
    /// rack, where its fragment is sent.
    pub fn plan_signatures(
        &mut self,
        sigs: &[NodeIdx],
        width: usize,
        local: impl Fn(usize) -> NodeIdx,
    ) {
        let n = sigs.len().checked_div(width).unwrap_or(0);
        let sig = |i: usize| &sigs[i * width..(i + 1) * width];
        self.plan_by(n, |a, b| sig(a) == sig(b), local);
    }

    /// Group `n` keys into fragments: key `i` joins the first fragment whose first key `r`
    /// has `same(r, i)`, else starts one sent to `node(i)`.
    fn plan_by(
        &mut self,
        n: usize,
        same: impl Fn(usize, usize) -> bool,
        node: impl Fn(usize) -> NodeIdx,
    ) {
        self.nodes.clear();
        self.placement.clear();
        self.counts.clear();
        self.first.clear();
        for i in 0..n {
            // Fragments are at most one per node of the ring (gossip caps the node count
            // below u16::MAX); a fragment's positions can exceed it (an MGET of 70,000
            // keys for one node), so they are u32.
            let f = match self.first.iter().position(|&r| same(r, i)) {
                Some(f) => f,
                None => {
                    self.first.push(i);
                    self.nodes.push(node(i));
                    self.counts.push(0);
                    self.nodes.len() - 1
                }
            };
            self.placement.push((f as u16, self.counts[f]));
            self.counts[f] += 1;
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
