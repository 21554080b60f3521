//! The cluster as this node sees it: datacenters → racks → nodes, each rack with its ring
//! (SPEC §3.4, §4.4, §6.4).
//!
//! ```text
//!   nodes[]  0 = local node, 1.. = dyn_seeds in config order, then nodes added at run time
//!   dcs[]    order of first appearance (the local DC is dcs[0])
//!     racks[]  sorted by name; each: its node indices + its Continuum
//! ```
//!
//! Indices into `nodes` ([`NodeIdx`]) and into `dcs` never change: nodes and DCs are only
//! appended, never removed (a dead node keeps its range, as in Dynomite). Rack indices are
//! positions in the name-sorted list, so a rack created at run time shifts the racks after it;
//! look them up again (e.g. [`Topology::locate`]) after [`Topology::add_node`].

use std::net::SocketAddr;

use super::continuum::Continuum;
use super::token::Token;
use super::NodeIdx;
use crate::conf::{Config, Listen};

/// One dynomite node: the local one or a peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// What admin calls (`/peer/...`) and gossip call it: the host as written.
    pub name: String,
    /// The host of its peer (dnode) address, as written.
    pub host: String,
    /// Its peer (dnode) port; 0 when unknown (a local node without `dyn_listen`).
    pub port: u16,
    /// The resolved peer address; `None` when unknown.
    pub addr: Option<SocketAddr>,
    pub dc: String,
    pub rack: String,
    /// The token that places keys (only a node's first token counts, SPEC §3.4).
    pub token: Token,
    /// True for `nodes[0]` only.
    pub is_local: bool,
}

/// A datacenter: its racks, sorted by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dc {
    pub name: String,
    pub racks: Vec<Rack>,
}

/// A rack: a full copy of the key space, sharded over its nodes by token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rack {
    pub name: String,
    /// Its nodes in the order they were added.
    pub nodes: Vec<NodeIdx>,
    pub continuum: Continuum,
}

/// Every known node, grouped by DC and rack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topology {
    pub nodes: Vec<Node>,
    pub dcs: Vec<Dc>,
    /// Nodes taken out of the rings (`retire`); their indices stay valid, they own nothing.
    pub retired: Vec<bool>,
}

impl Topology {
    /// A topology holding only the local node (which becomes `nodes[0]`).
    pub fn new(local: Node) -> Topology {
        let mut topo = Topology {
            nodes: Vec::new(),
            dcs: Vec::new(),
            retired: Vec::new(),
        };
        topo.add_node(local);
        topo
    }

    /// The local node (from `dyn_listen`, `datacenter`, `rack` and the first of `tokens`,
    /// 0 when absent), then every `dyn_seeds` entry in file order (first token each).
    ///
    /// Without `dyn_listen` the local node's name and host are those of `listen` and it has no
    /// peer port or address.
    pub fn from_config(cfg: &Config) -> Topology {
        let (host, port, addr) = match (&cfg.net.dyn_listen, &cfg.net.listen) {
            (Some(Listen::Tcp { host, addr }), _) => (host.clone(), addr.port(), Some(*addr)),
            (Some(Listen::Unix(path)), _) | (None, Listen::Unix(path)) => {
                (path.display().to_string(), 0, None)
            }
            (None, Listen::Tcp { host, .. }) => (host.clone(), 0, None),
        };
        let mut topo = Topology::new(Node {
            name: host.clone(),
            host,
            port,
            addr,
            dc: cfg.datacenter.clone(),
            rack: cfg.rack.clone(),
            token: cfg.tokens.first().copied().unwrap_or(0),
            is_local: true,
        });
        for seed in &cfg.peering.dyn_seeds {
            topo.add_node(Node {
                name: seed.name.clone(),
                host: seed.host.clone(),
                port: seed.port,
                addr: Some(seed.addr),
                dc: seed.dc.clone(),
                rack: seed.rack.clone(),
                token: seed.tokens.first().copied().unwrap_or(0),
                is_local: false,
            });
        }
        topo
    }

    /// Append a node, creating its DC (at the end) and rack (at its place by name) when new, and
    /// insert its token into the rack's ring. `is_local` is set here: true only for the first
    /// node. Does not check for an existing node with the same (dc, rack, token); see
    /// [`Topology::find`] and [`Topology::replace_address`] for the gossip merge rule (§6.4).
    pub fn add_node(&mut self, mut node: Node) -> NodeIdx {
        let idx = self.nodes.len();
        node.is_local = idx == 0;
        let dc = match self.dc_index(&node.dc) {
            Some(dc) => dc,
            None => {
                self.dcs.push(Dc {
                    name: node.dc.clone(),
                    racks: Vec::new(),
                });
                self.dcs.len() - 1
            }
        };
        let racks = &mut self.dcs[dc].racks;
        let rack = match racks.binary_search_by(|r| r.name.as_str().cmp(&node.rack)) {
            Ok(rack) => rack,
            Err(at) => {
                racks.insert(
                    at,
                    Rack {
                        name: node.rack.clone(),
                        nodes: Vec::new(),
                        continuum: Continuum::new(),
                    },
                );
                at
            }
        };
        racks[rack].nodes.push(idx);
        racks[rack].continuum.insert(node.token, idx);
        self.nodes.push(node);
        self.retired.push(false);
        debug_assert_eq!(self.check_invariants(), Ok(()));
        idx
    }

    /// A replacement node (same dc, rack and token, new address, §6.4): give the existing peer
    /// the new host, name, port and address. Returns its index, or `None` when no peer (the
    /// local node excluded) has that (dc, rack, token). Its ring position does not change.
    pub fn replace_address(
        &mut self,
        dc: &str,
        rack: &str,
        token: Token,
        host: &str,
        port: u16,
        addr: Option<SocketAddr>,
    ) -> Option<NodeIdx> {
        let idx = self
            .nodes
            .iter()
            .position(|n| !n.is_local && n.dc == dc && n.rack == rack && n.token == token)?;
        let node = &mut self.nodes[idx];
        node.name = host.to_string();
        node.host = host.to_string();
        node.port = port;
        node.addr = addr;
        Some(idx)
    }

    /// The first node (the local one included) with this (dc, rack, token): gossip's identity
    /// of a node.
    pub fn find(&self, dc: &str, rack: &str, token: Token) -> Option<NodeIdx> {
        self.nodes
            .iter()
            .enumerate()
            .position(|(i, n)| !self.retired[i] && n.dc == dc && n.rack == rack && n.token == token)
    }

    /// Take a peer out of the rings: its range goes to the next token of its rack; a rack
    /// (and a DC) left empty disappears. Its index stays valid. False for the local node or
    /// a node already retired.
    pub fn retire(&mut self, idx: NodeIdx) -> bool {
        if idx == 0 || self.retired.get(idx).copied().unwrap_or(true) {
            return false;
        }
        self.retired[idx] = true;
        for dc in &mut self.dcs {
            for rack in &mut dc.racks {
                if let Some(at) = rack.nodes.iter().position(|&n| n == idx) {
                    rack.nodes.remove(at);
                    let nodes = &self.nodes;
                    rack.continuum =
                        Continuum::from_entries(rack.nodes.iter().map(|&n| (nodes[n].token, n)));
                }
            }
            dc.racks.retain(|r| !r.nodes.is_empty());
        }
        self.dcs.retain(|d| !d.racks.is_empty());
        debug_assert_eq!(self.check_invariants(), Ok(()));
        true
    }

    /// The local node, `nodes[0]`.
    pub fn local(&self) -> &Node {
        &self.nodes[0]
    }

    /// The local DC's index (always 0: it is the first DC to appear).
    pub fn local_dc(&self) -> usize {
        self.local_rack().0
    }

    /// The local node's `(dc, rack)` indices.
    pub fn local_rack(&self) -> (usize, usize) {
        self.locate(0).unwrap_or((0, 0))
    }

    /// The index of the DC named `name`.
    pub fn dc_index(&self, name: &str) -> Option<usize> {
        self.dcs.iter().position(|d| d.name == name)
    }

    /// The index of the rack named `name` in DC `dc`.
    pub fn rack_index(&self, dc: usize, name: &str) -> Option<usize> {
        self.dcs
            .get(dc)?
            .racks
            .binary_search_by(|r| r.name.as_str().cmp(name))
            .ok()
    }

    /// Where node `idx` lives: `(dc, rack)` indices.
    pub fn locate(&self, idx: NodeIdx) -> Option<(usize, usize)> {
        let node = self.nodes.get(idx)?;
        let dc = self.dc_index(&node.dc)?;
        Some((dc, self.rack_index(dc, &node.rack)?))
    }

    /// The owner of hash `h` in one rack; `None` for an unknown DC or rack.
    pub fn owner_in_rack(&self, dc: usize, rack: usize, h: u32) -> Option<NodeIdx> {
        self.dcs.get(dc)?.racks.get(rack)?.continuum.owner(h)
    }

    /// The owner of hash `h` in every rack of DC `dc`: `(rack index, node)`, in rack order.
    pub fn owners_in_dc(&self, dc: usize, h: u32) -> impl Iterator<Item = (usize, NodeIdx)> + '_ {
        self.dcs
            .get(dc)
            .map(|d| d.racks.as_slice())
            .unwrap_or_default()
            .iter()
            .enumerate()
            .filter_map(move |(i, r)| Some((i, r.continuum.owner(h)?)))
    }

    /// Replies needed for a quorum in DC `dc`: `racks / 2 + 1`, for any number of racks
    /// (Dynomite only handles up to 3). 1 for an unknown DC.
    pub fn quorum(&self, dc: usize) -> usize {
        self.dcs.get(dc).map_or(0, |d| d.racks.len()) / 2 + 1
    }

    /// The rack of DC `remote_dc` that receives this node's cross-DC writes (§4.4): with the
    /// local rack at index `i` of the local DC's name-sorted racks, rack `i mod (racks in the
    /// remote DC)`. Computed on every call, so racks that appear at run time are taken into
    /// account (Dynomite picks once at startup). For the local DC it is the local rack; 0 for an
    /// unknown DC.
    pub fn preselected_remote_rack(&self, remote_dc: usize) -> usize {
        let racks = self.dcs.get(remote_dc).map_or(0, |d| d.racks.len());
        if racks == 0 {
            return 0;
        }
        self.local_rack().1 % racks
    }

    /// Check the structure: `nodes[0]` alone is local, DC names unique, racks sorted with unique
    /// names, every node listed in exactly the rack its names say, every ring matching its
    /// rack's nodes and sorted.
    pub fn check_invariants(&self) -> Result<(), String> {
        for (i, n) in self.nodes.iter().enumerate() {
            if n.is_local != (i == 0) {
                return Err(format!(
                    "node {i} ({}) has is_local = {}",
                    n.name, n.is_local
                ));
            }
        }
        let mut seen = vec![0usize; self.nodes.len()];
        for (d, dc) in self.dcs.iter().enumerate() {
            if self.dcs[..d].iter().any(|other| other.name == dc.name) {
                return Err(format!("DC {:?} is listed twice", dc.name));
            }
            if dc.racks.is_empty() {
                return Err(format!("DC {:?} has no rack", dc.name));
            }
            if dc.racks.windows(2).any(|w| w[0].name >= w[1].name) {
                return Err(format!(
                    "racks of DC {:?} not sorted or not unique",
                    dc.name
                ));
            }
            for rack in &dc.racks {
                let mut want: Vec<(Token, NodeIdx)> = Vec::new();
                for &idx in &rack.nodes {
                    let Some(node) = self.nodes.get(idx) else {
                        return Err(format!("rack {:?} lists unknown node {idx}", rack.name));
                    };
                    if node.dc != dc.name || node.rack != rack.name {
                        return Err(format!("node {idx} is listed in {}/{}", dc.name, rack.name));
                    }
                    seen[idx] += 1;
                    want.push((node.token, idx));
                }
                if rack.continuum != Continuum::from_entries(want) {
                    return Err(format!("ring of {}/{} out of date", dc.name, rack.name));
                }
            }
        }
        let want = |idx: usize| usize::from(!self.retired.get(idx).copied().unwrap_or(false));
        match (0..seen.len()).find(|&idx| seen[idx] != want(idx)) {
            Some(idx) => Err(format!("node {idx} is in {} racks", seen[idx])),
            None => Ok(()),
        }
    }
}
