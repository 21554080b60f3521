//! Where requests go: the owner of a token in each rack, the copies a write gets, the replies a
//! quorum collects, the racks a read fails over to (SPEC §4.3-§4.5).
//!
//! [`Placement`] owns the [`Topology`] together with the facts derived from it (the local
//! rack, whether any rack has several nodes), so they can never be out of date: every change
//! goes through [`Placement::update`], which derives them again.

use crate::ring::{NodeIdx, Topology};
use crate::types::Consistency;

/// The topology and what every routing decision derives from it.
#[derive(Clone, Debug)]
pub struct Placement {
    topo: Topology,
    /// The local node's `(dc, rack)` indices.
    local: (usize, usize),
    /// Some rack has more than one node: keys must be hashed to find their owner.
    multi_node: bool,
    /// More than one rack.
    replicated: bool,
}

/// How a client's request is served (the coordinator's plan for one key).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// DC_ONE: the owner in the local rack answers (0: this node); with `replicate`, the
    /// write is also copied to the other racks of this DC and to one rack per remote DC.
    One { owner: NodeIdx, replicate: bool },
    /// A quorum: the owner in every rack of the local DC answers into a collector (every rack
    /// of every DC when `each`); with `replicate_remote`, the write is also copied to one rack
    /// per remote DC whose replies nobody waits for.
    Quorum { each: bool, replicate_remote: bool },
}

/// The level a request runs at: the one asked for, except that requests routed other than by
/// key, memcached `noreply` requests and single-node clusters run at DC_ONE.
pub fn effective_level(
    requested: Consistency,
    by_key: bool,
    noreply: bool,
    nodes: usize,
) -> Consistency {
    if !by_key || noreply || nodes < 2 {
        Consistency::DcOne
    } else {
        requested
    }
}

impl Placement {
    pub fn new(topo: Topology) -> Placement {
        let mut p = Placement {
            topo,
            local: (0, 0),
            multi_node: false,
            replicated: false,
        };
        p.derive();
        p
    }

    /// The topology routing is done by.
    pub fn topo(&self) -> &Topology {
        &self.topo
    }

    /// Change the topology (nodes join, move or leave); the derived facts follow.
    pub fn update<R>(&mut self, f: impl FnOnce(&mut Topology) -> R) -> R {
        let r = f(&mut self.topo);
        self.derive();
        r
    }

    fn derive(&mut self) {
        self.multi_node = self
            .topo
            .dcs
            .iter()
            .any(|d| d.racks.iter().any(|r| r.nodes.len() > 1));
        self.local = self.topo.local_rack();
        self.replicated = self.topo.dcs.iter().map(|d| d.racks.len()).sum::<usize>() > 1;
    }

    /// Whether there is more than one rack (in any DC): writes then run on several
    /// datastores, each on its own.
    pub fn replicated(&self) -> bool {
        self.replicated
    }

    /// The local node's `(dc, rack)` indices.
    pub fn local_rack(&self) -> (usize, usize) {
        self.local
    }

    pub fn local_dc(&self) -> usize {
        self.local.0
    }

    /// Whether a key's token matters: false when every rack has one node (it owns all).
    pub fn needs_hash(&self) -> bool {
        self.multi_node
    }

    /// How many nodes are known (the local one included, retired ones too).
    pub fn nodes(&self) -> usize {
        self.topo.nodes.len()
    }

    /// Whether node `n` is in the same DC as this one.
    pub fn same_dc(&self, n: NodeIdx) -> bool {
        self.topo.nodes[n].dc == self.topo.nodes[0].dc
    }

    /// Replies needed for a quorum in DC `dc`.
    pub fn quorum(&self, dc: usize) -> usize {
        self.topo.quorum(dc)
    }

    /// The owner of token `h` in a rack (a rack of one node needs no lookup). A request
    /// without a token (`None`: an empty routing key) belongs to this node in the local rack,
    /// and to the rack's first node on the ring elsewhere (Dynomite's rule).
    pub fn owner(&self, dc: usize, rack: usize, h: Option<u32>) -> Option<NodeIdx> {
        let r = self.topo.dcs.get(dc)?.racks.get(rack)?;
        if r.nodes.len() == 1 {
            return r.nodes.first().copied();
        }
        match h {
            Some(h) => r.continuum.owner(h),
            None if (dc, rack) == self.local => Some(0),
            None => r.continuum.owner(0),
        }
    }

    /// The owner of `h` in the local rack (0: this node).
    pub fn local_owner(&self, h: Option<u32>) -> NodeIdx {
        self.owner(self.local.0, self.local.1, h).unwrap_or(0)
    }

    /// The owner of `h` in every other rack of the local DC, in rack order, this node left
    /// out, into `out` (replacing what it held): where a DC_ONE write is copied, and where a
    /// read fails over to. (A plain loop: it runs for every replicated write.)
    pub fn other_racks(&self, h: Option<u32>, out: &mut Vec<NodeIdx>) {
        out.clear();
        let (ldc, lrack) = self.local;
        let racks = self.topo.dcs.get(ldc).map_or(0, |d| d.racks.len());
        for r in 0..racks {
            if r == lrack {
                continue;
            }
            match self.owner(ldc, r, h) {
                Some(n) if n != 0 => out.push(n),
                _ => {}
            }
        }
    }

    /// Append to `out` the owner of token `h` in every rack that has several nodes, in DC
    /// and rack order: two keys with equal signatures live on the same node in every rack
    /// (racks of one node hold every key).
    pub fn signature(&self, h: Option<u32>, out: &mut Vec<NodeIdx>) {
        for (d, dc) in self.topo.dcs.iter().enumerate() {
            for (r, rack) in dc.racks.iter().enumerate() {
                if rack.nodes.len() > 1 {
                    out.push(self.owner(d, r, h).unwrap_or(0));
                }
            }
        }
    }

    /// How many entries [`Placement::signature`] appends.
    pub fn signature_len(&self) -> usize {
        self.topo
            .dcs
            .iter()
            .flat_map(|d| d.racks.iter())
            .filter(|r| r.nodes.len() > 1)
            .count()
    }

    /// Whether keys with these tokens all live on one node in every rack of every DC (every
    /// rack a write is copied to, and every rack a read may be served by): then a request
    /// naming them can run as one request anywhere. `work` is scratch space.
    pub fn one_node_everywhere(&self, hashes: &[Option<u32>], work: &mut Vec<NodeIdx>) -> bool {
        if !self.multi_node || hashes.len() < 2 {
            return true;
        }
        work.clear();
        self.signature(hashes[0], work);
        let w = work.len();
        hashes[1..].iter().all(|&h| {
            work.truncate(w);
            self.signature(h, work);
            work[..w] == work[w..]
        })
    }

    /// The DCs other than the local one that have racks.
    pub fn remote_dcs(&self) -> impl Iterator<Item = usize> + '_ {
        let ldc = self.local.0;
        (0..self.topo.dcs.len()).filter(move |&dc| dc != ldc && !self.topo.dcs[dc].racks.is_empty())
    }

    /// Where a write's copy to remote DC `dc` goes, in the order to try: the owner in the
    /// preselected rack first, then in the DC's other racks (`(k, node)`, `k > 0` being a
    /// failover, `remote_peer_failover_requests`).
    pub fn remote_order(
        &self,
        dc: usize,
        h: Option<u32>,
    ) -> impl Iterator<Item = (usize, NodeIdx)> + '_ {
        let racks = self.topo.dcs.get(dc).map_or(0, |d| d.racks.len());
        let first = self.topo.preselected_remote_rack(dc);
        (0..racks).filter_map(move |k| Some((k, self.owner(dc, (first + k) % racks, h)?)))
    }

    /// The node that keeps the hint of a copy no rack of remote DC `dc` could take: the owner
    /// in its preselected rack.
    pub fn remote_hint_target(&self, dc: usize, h: Option<u32>) -> Option<NodeIdx> {
        self.owner(dc, self.topo.preselected_remote_rack(dc), h)
    }

    /// The replies a quorum collects: `(dc, node)` of the owner in every rack of the local DC
    /// (of every DC when `each`), the local DC's first.
    pub fn quorum_targets(&self, h: Option<u32>, each: bool, out: &mut Vec<(usize, NodeIdx)>) {
        out.clear();
        let ldc = self.local.0;
        for dc in std::iter::once(ldc).chain((0..self.topo.dcs.len()).filter(|&d| d != ldc)) {
            if dc != ldc && !each {
                continue;
            }
            for rack in 0..self.topo.dcs.get(dc).map_or(0, |d| d.racks.len()) {
                if let Some(node) = self.owner(dc, rack, h) {
                    out.push((dc, node));
                }
            }
        }
    }

    /// Every node that is still in the rings, this one left out (a broadcast's targets).
    pub fn every_peer(&self) -> impl Iterator<Item = NodeIdx> + '_ {
        (1..self.topo.nodes.len()).filter(|&n| !self.topo.retired[n])
    }

    /// The coordinator's plan for a client request with token `h` at `level` (already the
    /// effective one).
    pub fn plan(&self, h: Option<u32>, write: bool, by_key: bool, level: Consistency) -> Plan {
        match level {
            Consistency::DcOne => Plan::One {
                owner: self.local_owner(h),
                replicate: write && by_key,
            },
            _ => {
                let each = level == Consistency::DcEachSafeQuorum;
                Plan::Quorum {
                    each,
                    replicate_remote: write && !each,
                }
            }
        }
    }
}
