//! Small enums shared by the configuration, the stats server and the runtime.

use std::fmt;

/// Which datastore sits behind the node (`data_store:` 0 or 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataStore {
    Redis,
    Memcache,
}

/// Consistency levels (Dynomite's `consistency_t`, same numeric values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Consistency {
    DcOne = 0,
    DcQuorum = 1,
    DcSafeQuorum = 2,
    DcEachSafeQuorum = 3,
}

impl Consistency {
    pub const ALL: [Consistency; 4] = [
        Consistency::DcOne,
        Consistency::DcQuorum,
        Consistency::DcSafeQuorum,
        Consistency::DcEachSafeQuorum,
    ];

    /// The upper-case name Dynomite prints (`DC_ONE`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Consistency::DcOne => "DC_ONE",
            Consistency::DcQuorum => "DC_QUORUM",
            Consistency::DcSafeQuorum => "DC_SAFE_QUORUM",
            Consistency::DcEachSafeQuorum => "DC_EACH_SAFE_QUORUM",
        }
    }

    /// Dynomite's matching rule: case-insensitive *prefix* match against each constant's full
    /// length, tested in the order one, safe_quorum, quorum, each_safe_quorum.
    pub fn parse_dynomite(s: &str) -> Option<Consistency> {
        let order = [
            Consistency::DcOne,
            Consistency::DcSafeQuorum,
            Consistency::DcQuorum,
            Consistency::DcEachSafeQuorum,
        ];
        let b = s.as_bytes();
        order.into_iter().find(|c| {
            let n = c.name().as_bytes();
            b.len() >= n.len() && b[..n.len()].eq_ignore_ascii_case(n)
        })
    }
}

impl fmt::Display for Consistency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Node states (Dynomite's `dyn_state_t`, same numeric values).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeState {
    Init = 0,
    Standby = 1,
    WritesOnly = 2,
    Resuming = 3,
    Normal = 4,
    Joining = 7,
    Down = 8,
    Reset = 11,
    Unknown = 12,
}

impl NodeState {
    pub const fn name(self) -> &'static str {
        match self {
            NodeState::Init => "INIT",
            NodeState::Standby => "STANDBY",
            NodeState::WritesOnly => "WRITES_ONLY",
            NodeState::Resuming => "RESUMING",
            NodeState::Normal => "NORMAL",
            NodeState::Joining => "JOINING",
            NodeState::Down => "DOWN",
            NodeState::Reset => "RESET",
            NodeState::Unknown => "Unknown",
        }
    }
}

impl fmt::Display for NodeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consistency_prefix_rules() {
        assert_eq!(
            Consistency::parse_dynomite("dc_one"),
            Some(Consistency::DcOne)
        );
        assert_eq!(
            Consistency::parse_dynomite("DC_QUORUM"),
            Some(Consistency::DcQuorum)
        );
        assert_eq!(
            Consistency::parse_dynomite("dc_safe_quorum"),
            Some(Consistency::DcSafeQuorum)
        );
        assert_eq!(
            Consistency::parse_dynomite("DC_EACH_SAFE_QUORUM"),
            Some(Consistency::DcEachSafeQuorum)
        );
        assert_eq!(
            Consistency::parse_dynomite("dc_onex"),
            Some(Consistency::DcOne)
        );
        assert_eq!(Consistency::parse_dynomite("dc_o"), None);
        assert_eq!(Consistency::parse_dynomite("quorum"), None);
    }
}
