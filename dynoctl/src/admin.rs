//! `dynoctl state`, `consistency`, `peer` and `loglevel`: typed wrappers over a node's admin
//! endpoints (SPEC §7.2). The node answers `OK` to almost anything, so every setter reads the
//! result back and fails (exit 2) when the node does not report what was asked.

use dynomite::types::Consistency;
use serde::Serialize;

use crate::output::{Block, CliError, Render};
use crate::stats::{unexpected, Described, Stats};

/// A state an operator can put a node in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TargetState {
    /// Serve clients normally
    Normal,
    /// Refuse client requests (drained)
    Standby,
    /// Accept writes, refuse reads (warm-up)
    #[value(name = "writes_only", alias = "writes-only")]
    WritesOnly,
    /// Accept writes and reads from the datastore while catching up
    Resuming,
}

impl TargetState {
    /// The path word (`/state/<word>`).
    pub fn word(self) -> &'static str {
        match self {
            TargetState::Normal => "normal",
            TargetState::Standby => "standby",
            TargetState::WritesOnly => "writes_only",
            TargetState::Resuming => "resuming",
        }
    }

    /// The name the node reports (`State: <NAME>`).
    pub fn name(self) -> &'static str {
        match self {
            TargetState::Normal => "NORMAL",
            TargetState::Standby => "STANDBY",
            TargetState::WritesOnly => "WRITES_ONLY",
            TargetState::Resuming => "RESUMING",
        }
    }
}

/// `dynoctl state get|set`: the node's state.
#[derive(Serialize)]
pub struct StateReport {
    pub node: String,
    pub state: String,
    /// The state before a `set`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
}

impl Render for StateReport {
    fn human(&self) -> Vec<Block> {
        vec![Block::Lines(vec![self.state.clone()])]
    }
}

pub fn state_get(stats: &Stats, node: &str) -> Result<StateReport, CliError> {
    Ok(StateReport {
        node: node.to_string(),
        state: stats.state(node)?,
        previous: None,
    })
}

pub fn state_set(stats: &Stats, node: &str, to: TargetState) -> Result<StateReport, CliError> {
    let previous = stats.state(node)?;
    stats.command(node, &format!("/state/{}", to.word()))?;
    let state = stats.state(node)?;
    if state != to.name() {
        return Err(CliError::new(format!(
            "{node} accepted state {} but reports {state}",
            to.word()
        )));
    }
    Ok(StateReport {
        node: node.to_string(),
        state,
        previous: Some(previous),
    })
}

/// `dynoctl consistency get|set`: the node's default read and write consistency.
#[derive(Serialize)]
pub struct ConsistencyReport {
    pub node: String,
    pub read: String,
    pub write: String,
}

impl Render for ConsistencyReport {
    fn human(&self) -> Vec<Block> {
        vec![Block::Table {
            headers: vec!["read", "write"],
            rows: vec![vec![self.read.clone(), self.write.clone()]],
        }]
    }
}

pub fn consistency_get(stats: &Stats, node: &str) -> Result<ConsistencyReport, CliError> {
    let body = stats.get(node, "/get_consistency")?;
    let field = |key: &str| {
        body.lines()
            .find_map(|l| l.trim().strip_prefix(key))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    match (field("Read Consistency:"), field("Write Consistency:")) {
        (Some(read), Some(write)) => Ok(ConsistencyReport {
            node: node.to_string(),
            read,
            write,
        }),
        _ => Err(unexpected(
            node,
            "/get_consistency",
            &body,
            "Read Consistency: X / Write Consistency: Y",
        )),
    }
}

pub fn consistency_set(
    stats: &Stats,
    node: &str,
    read: Option<Consistency>,
    write: Option<Consistency>,
) -> Result<ConsistencyReport, CliError> {
    if read.is_none() && write.is_none() {
        return Err(CliError::new("give --read LEVEL, --write LEVEL or both"));
    }
    for (kind, level) in [("read", read), ("write", write)] {
        if let Some(l) = level {
            stats.command(node, &format!("/set_consistency/{kind}/{}", l.name()))?;
        }
    }
    let now = consistency_get(stats, node)?;
    for (kind, level, got) in [("read", read, &now.read), ("write", write, &now.write)] {
        if let Some(l) = level {
            if got != l.name() {
                return Err(CliError::new(format!(
                    "{node} accepted {kind} consistency {} but reports {got}",
                    l.name()
                )));
            }
        }
    }
    Ok(now)
}

/// What to do to a peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PeerAction {
    /// Mark the peer up (NORMAL)
    Up,
    /// Mark the peer down: no requests are sent to it
    Down,
    /// Drop and reconnect the peer's connections
    Reset,
}

impl PeerAction {
    fn word(self) -> &'static str {
        match self {
            PeerAction::Up => "up",
            PeerAction::Down => "down",
            PeerAction::Reset => "reset",
        }
    }
}

/// `dynoctl peer`: the peers acted on, as the node sees them afterwards.
#[derive(Serialize)]
pub struct PeerReport {
    pub node: String,
    pub action: &'static str,
    pub peer: String,
    pub peers: Vec<PeerRow>,
}

#[derive(Serialize)]
pub struct PeerRow {
    pub dc: String,
    pub rack: String,
    pub name: String,
    pub host: String,
    pub port: u16,
    pub token: u32,
    pub state: String,
}

impl Render for PeerReport {
    fn human(&self) -> Vec<Block> {
        let rows = self
            .peers
            .iter()
            .map(|p| {
                vec![
                    p.dc.clone(),
                    p.rack.clone(),
                    format!("{}:{}", p.host, p.port),
                    p.token.to_string(),
                    p.state.clone(),
                ]
            })
            .collect();
        vec![Block::Table {
            headers: vec!["dc", "rack", "peer", "token", "state"],
            rows,
        }]
    }
}

fn matches(d: &Described, peer: &str) -> bool {
    peer == "all" || d.name == peer || d.host == peer
}

pub fn peer(
    stats: &Stats,
    node: &str,
    action: PeerAction,
    peer: &str,
) -> Result<PeerReport, CliError> {
    if peer.is_empty() || peer.contains('/') {
        return Err(CliError::new(format!("bad peer name \"{peer}\"")));
    }
    let before = stats.describe(node)?;
    if !before.iter().any(|d| matches(d, peer)) {
        let mut names: Vec<String> = before.iter().map(Described::peer).collect();
        names.dedup();
        let hint = if peer.contains(':') {
            "give the peer's host or IP without the port (the node matches peers by host)"
                .to_string()
        } else {
            format!("the nodes {node} knows: {}", names.join(", "))
        };
        return Err(
            CliError::new(format!("{node} knows no peer named \"{peer}\"")).with_hint(hint),
        );
    }
    stats.command(node, &format!("/peer/{}/{peer}", action.word()))?;
    let after = stats.describe(node)?;
    let peers = after
        .into_iter()
        .filter(|d| matches(d, peer))
        .map(|d| PeerRow {
            dc: d.dc,
            rack: d.rack,
            host: if d.host.is_empty() {
                d.name.clone()
            } else {
                d.host
            },
            name: d.name,
            port: d.port,
            token: d.token,
            state: d.state,
        })
        .collect();
    Ok(PeerReport {
        node: node.to_string(),
        action: if peer == "all" {
            "reset"
        } else {
            action.word()
        },
        peer: peer.to_string(),
        peers,
    })
}

/// How to change the log level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    Up,
    Down,
    Set(u8),
}

/// `up`, `down` or a level 0..=11.
pub fn parse_log_level(s: &str) -> Result<LogLevel, String> {
    match s.to_ascii_lowercase().as_str() {
        "up" => Ok(LogLevel::Up),
        "down" => Ok(LogLevel::Down),
        n => match n.parse::<u8>() {
            Ok(l) if l <= 11 => Ok(LogLevel::Set(l)),
            _ => {
                Err("want up, down or a level 0..11 (5 notice, 6 info, 7 debug, 11 verbose)".into())
            }
        },
    }
}

/// `dynoctl loglevel`: what was done (the node does not report its level).
#[derive(Serialize)]
pub struct LogLevelReport {
    pub node: String,
    /// `up`, `down` or `set`.
    pub action: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<u8>,
}

impl Render for LogLevelReport {
    fn human(&self) -> Vec<Block> {
        let line = match (self.action, self.level) {
            ("up", _) => format!("{}: log level raised by one", self.node),
            ("down", _) => format!("{}: log level lowered by one", self.node),
            (_, l) => format!("{}: log level set to {}", self.node, l.unwrap_or(0)),
        };
        vec![Block::Lines(vec![line])]
    }
}

pub fn loglevel(stats: &Stats, node: &str, change: LogLevel) -> Result<LogLevelReport, CliError> {
    let (path, action, level) = match change {
        LogLevel::Up => ("/loglevelup".to_string(), "up", None),
        LogLevel::Down => ("/logleveldown".to_string(), "down", None),
        LogLevel::Set(n) => (format!("/setloglevel/{n}"), "set", Some(n)),
    };
    stats.command(node, &path)?;
    Ok(LogLevelReport {
        node: node.to_string(),
        action,
        level,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_levels() {
        assert_eq!(parse_log_level("UP"), Ok(LogLevel::Up));
        assert_eq!(parse_log_level("down"), Ok(LogLevel::Down));
        assert_eq!(parse_log_level("11"), Ok(LogLevel::Set(11)));
        assert!(parse_log_level("12").is_err());
        assert!(parse_log_level("-1").is_err());
    }
}
