//! The resume state (`--state-file`): which token ranges a walk has finished, and how far the
//! unit under way has got, for the walk of the same racks that `--resume` continues. A small
//! JSON file, written after each unit and every few seconds within one, through a temporary
//! file and a rename (never half written), removed when a walk ends.
//!
//! Within a unit the position is a rack and a SCAN cursor of its owner: every key that scan
//! returned before it has been resolved. A cursor means something only to the redis-server
//! process that gave it (its hash table, its hash seed), so the owners' `run_id`s are kept
//! with it, and a resumed walk starts the unit over when any of them has restarted.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The version of the file's format.
const VERSION: u32 = 1;

/// The state file's contents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    /// The plan's fingerprint (racks, nodes, tokens, datastores, placement): a resumed walk
    /// must cover the same.
    pub cluster: String,
    /// The ends of the finished ranges (a range is `(previous token, end]`).
    pub done: BTreeSet<u32>,
    /// How far the unit under way has got.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Checkpoint>,
}

/// A position within a unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The unit, by the end of its first range.
    pub unit: u32,
    /// The rack (index in the plan) whose owner is being scanned.
    pub rack: usize,
    /// Its SCAN cursor: every key returned before it is resolved.
    pub cursor: String,
    /// The `run_id` of each rack's owner (in plan order) when the cursor was taken.
    pub run_ids: Vec<String>,
}

impl State {
    pub fn new(cluster: &str) -> State {
        State {
            version: VERSION,
            cluster: cluster.to_string(),
            done: BTreeSet::new(),
            at: None,
        }
    }

    /// The state as the file holds it; what is wrong with it otherwise.
    pub fn parse(text: &str, cluster: &str) -> Result<State, String> {
        let s: State =
            serde_json::from_str(text).map_err(|e| format!("not a repair state file: {e}"))?;
        if s.version != VERSION {
            return Err(format!(
                "state file version {} (this dynoctl writes {VERSION})",
                s.version
            ));
        }
        if s.cluster != cluster {
            return Err(format!(
                "it records a walk of other racks or nodes:\n  it: {}\n  now: {cluster}",
                s.cluster
            ));
        }
        Ok(s)
    }

    pub fn text(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// Read the state file: `None` when there is none.
pub fn load(path: &Path, cluster: &str) -> Result<Option<State>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => State::parse(&text, cluster)
            .map(Some)
            .map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// Write the state file (a temporary file beside it, then a rename).
pub fn save(path: &Path, state: &State) -> Result<(), String> {
    let name = path.file_name().map_or_else(
        || "repair-state".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    std::fs::write(&tmp, state.text())
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Remove the state file (a walk that ended leaves nothing to resume).
pub fn remove(path: &Path) -> Result<(), String> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(format!("cannot remove {}: {e}", path.display()))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_round_trips_and_belongs_to_its_cluster() {
        let mut s = State::new("hash=murmur; dc1/rack1: 1@h:1");
        s.done.extend([7, 3]);
        let text = s.text();
        assert_eq!(State::parse(&text, &s.cluster), Ok(s.clone()));
        assert!(text.contains("\"done\": [\n    3,\n    7\n  ]"), "{text}");
        let e = State::parse(&text, "hash=murmur; dc1/rack1: 1@h:2").unwrap_err();
        assert!(e.contains("other racks or nodes"), "{e}");
        assert!(State::parse("{}", "x").is_err());
        let old = text.replace("\"version\": 1", "\"version\": 9");
        assert!(State::parse(&old, &s.cluster)
            .unwrap_err()
            .contains("version 9"));
    }

    #[test]
    fn a_checkpoint_within_a_unit_round_trips() {
        let mut s = State::new("c");
        s.at = Some(Checkpoint {
            unit: 9,
            rack: 1,
            cursor: "4096".into(),
            run_ids: vec!["a".into(), "b".into()],
        });
        assert_eq!(State::parse(&s.text(), "c"), Ok(s.clone()));
        // A file without one (as the first version wrote) still reads.
        let plain = "{\"version\": 1, \"cluster\": \"c\", \"done\": [1]}";
        assert_eq!(State::parse(plain, "c").unwrap().at, None);
    }

    #[test]
    fn the_file_is_written_whole_read_back_and_removed() {
        let dir = std::env::temp_dir().join(format!("dynoctl-repair-state-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("repair.json");
        assert_eq!(load(&path, "c"), Ok(None));
        let mut s = State::new("c");
        s.done.insert(42);
        save(&path, &s).unwrap();
        assert_eq!(load(&path, "c"), Ok(Some(s)));
        assert!(load(&path, "d")
            .unwrap_err()
            .starts_with(&path.display().to_string()));
        remove(&path).unwrap();
        remove(&path).unwrap();
        assert_eq!(load(&path, "c"), Ok(None));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
