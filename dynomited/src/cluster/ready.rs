//! Readiness (`/ready`): can this node serve its clients at the configured read and write
//! consistency now? Pure: the caller says what it sees (state, datastore, which nodes are
//! reachable), this says yes or why not.
//!
//! ```text
//!   state NORMAL? ─► a datastore connection up? ─► for the read level, then the write level:
//!       DC_ONE                         every node of this node's rack reachable
//!       DC_QUORUM, DC_SAFE_QUORUM      racks / 2 + 1 racks of the local DC whole
//!       DC_EACH_SAFE_QUORUM            racks / 2 + 1 racks whole in every DC
//! ```
//!
//! A rack is whole when every node of it is reachable (this node always is): a key's owner
//! in that rack is then up, whatever the key.

use crate::types::{Consistency, NodeState};

/// One rack as the node sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RackSeen {
    pub name: String,
    pub nodes: usize,
    /// Nodes reachable now (a connection up, not DOWN, not marked down by an operator).
    pub reachable: usize,
    /// This node's rack.
    pub local: bool,
}

impl RackSeen {
    fn whole(&self) -> bool {
        self.reachable >= self.nodes
    }
}

/// One datacenter as the node sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DcSeen {
    pub name: String,
    pub racks: Vec<RackSeen>,
    pub local: bool,
}

/// What the node sees.
#[derive(Clone, Debug)]
pub struct Seen<'a> {
    pub state: NodeState,
    pub datastore_up: bool,
    pub read: Consistency,
    pub write: Consistency,
    pub dcs: &'a [DcSeen],
}

/// `Ok` when ready; else every reason, one per line.
pub fn readiness(seen: &Seen<'_>) -> Result<(), String> {
    let mut why = Vec::new();
    if seen.state != NodeState::Normal {
        why.push(format!("state is {}, not NORMAL", seen.state.name()));
    }
    if !seen.datastore_up {
        why.push("no datastore connection is up".to_string());
    }
    let levels = if seen.read == seen.write {
        vec![("reads and writes", seen.read)]
    } else {
        vec![("reads", seen.read), ("writes", seen.write)]
    };
    for (what, level) in levels {
        for dc in seen.dcs {
            if let Some(r) = short_of(dc, level) {
                why.push(format!("{what} at {}: {r}", level.name()));
            }
        }
    }
    if why.is_empty() {
        Ok(())
    } else {
        Err(why.join("\n"))
    }
}

/// Why `dc` falls short of what `level` needs, if it does.
fn short_of(dc: &DcSeen, level: Consistency) -> Option<String> {
    let needs_quorum = match level {
        Consistency::DcOne => false,
        Consistency::DcQuorum | Consistency::DcSafeQuorum => {
            if !dc.local {
                return None;
            }
            true
        }
        Consistency::DcEachSafeQuorum => true,
    };
    let broken: Vec<String> = dc
        .racks
        .iter()
        .filter(|r| !r.whole())
        .map(|r| {
            format!(
                "{} has {} of {} nodes reachable",
                r.name, r.reachable, r.nodes
            )
        })
        .collect();
    if !needs_quorum {
        let local = dc.racks.iter().find(|r| r.local)?;
        return (!local.whole()).then(|| {
            format!(
                "this node's rack {} of {} has {} of {} nodes reachable",
                local.name, dc.name, local.reachable, local.nodes
            )
        });
    }
    let quorum = dc.racks.len() / 2 + 1;
    let whole = dc.racks.iter().filter(|r| r.whole()).count();
    (whole < quorum).then(|| {
        format!(
            "needs {quorum} of the {} racks of {} whole, {whole} are ({})",
            dc.racks.len(),
            dc.name,
            broken.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Consistency as C;

    fn rack(name: &str, nodes: usize, reachable: usize, local: bool) -> RackSeen {
        RackSeen {
            name: name.into(),
            nodes,
            reachable,
            local,
        }
    }

    /// dc1: rack1 (local, 2 nodes), rack2, rack3; dc2: rack1, rack2.
    fn cluster(reach: [usize; 5]) -> Vec<DcSeen> {
        vec![
            DcSeen {
                name: "dc1".into(),
                local: true,
                racks: vec![
                    rack("rack1", 2, reach[0], true),
                    rack("rack2", 1, reach[1], false),
                    rack("rack3", 1, reach[2], false),
                ],
            },
            DcSeen {
                name: "dc2".into(),
                local: false,
                racks: vec![
                    rack("rack1", 1, reach[3], false),
                    rack("rack2", 1, reach[4], false),
                ],
            },
        ]
    }

    fn check(dcs: &[DcSeen], read: C, write: C) -> Result<(), String> {
        readiness(&Seen {
            state: NodeState::Normal,
            datastore_up: true,
            read,
            write,
            dcs,
        })
    }

    #[test]
    fn all_reachable_is_ready_at_every_level() {
        let dcs = cluster([2, 1, 1, 1, 1]);
        for l in [C::DcOne, C::DcQuorum, C::DcSafeQuorum, C::DcEachSafeQuorum] {
            assert_eq!(check(&dcs, l, l), Ok(()), "{l:?}");
        }
        // A lone node.
        let one = vec![DcSeen {
            name: "dc".into(),
            local: true,
            racks: vec![rack("r", 1, 1, true)],
        }];
        assert_eq!(check(&one, C::DcQuorum, C::DcEachSafeQuorum), Ok(()));
    }

    #[test]
    fn state_and_datastore() {
        let dcs = cluster([2, 1, 1, 1, 1]);
        let got = readiness(&Seen {
            state: NodeState::Standby,
            datastore_up: false,
            read: C::DcOne,
            write: C::DcOne,
            dcs: &dcs,
        });
        assert_eq!(
            got,
            Err("state is STANDBY, not NORMAL\nno datastore connection is up".into())
        );
    }

    #[test]
    fn dc_one_needs_the_local_rack_whole() {
        // Other racks down: DC_ONE still serves.
        assert_eq!(check(&cluster([2, 0, 0, 0, 0]), C::DcOne, C::DcOne), Ok(()));
        assert_eq!(
            check(&cluster([1, 1, 1, 1, 1]), C::DcOne, C::DcOne),
            Err("reads and writes at DC_ONE: this node's rack rack1 of dc1 has 1 of 2 nodes reachable".into())
        );
    }

    #[test]
    fn quorum_needs_a_majority_of_local_racks() {
        // One of three racks down: a quorum of two is left.
        assert_eq!(
            check(&cluster([2, 0, 1, 0, 0]), C::DcQuorum, C::DcQuorum),
            Ok(())
        );
        assert_eq!(
            check(&cluster([2, 0, 0, 1, 1]), C::DcOne, C::DcSafeQuorum),
            Err("writes at DC_SAFE_QUORUM: needs 2 of the 3 racks of dc1 whole, 1 are (rack2 has 0 of 1 nodes reachable, rack3 has 0 of 1 nodes reachable)".into())
        );
        // The local rack counts only when whole.
        assert!(check(&cluster([1, 1, 0, 1, 1]), C::DcQuorum, C::DcOne).is_err());
    }

    #[test]
    fn each_safe_quorum_needs_every_dc() {
        assert_eq!(
            check(&cluster([2, 1, 1, 1, 0]), C::DcEachSafeQuorum, C::DcOne),
            Err("reads at DC_EACH_SAFE_QUORUM: needs 2 of the 2 racks of dc2 whole, 1 are (rack2 has 0 of 1 nodes reachable)".into())
        );
        assert_eq!(
            check(&cluster([2, 1, 1, 1, 0]), C::DcQuorum, C::DcOne),
            Ok(())
        );
    }
}
