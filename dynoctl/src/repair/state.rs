//! The resume state (`--state-file`): which token ranges a walk has finished, for the walk of
//! the same racks that `--resume` continues. A small JSON file, written after each unit
//! through a temporary file and a rename (never half written), removed when a walk ends.

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
}

impl State {
    pub fn new(cluster: &str) -> State {
        State {
            version: VERSION,
            cluster: cluster.to_string(),
            done: BTreeSet::new(),
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
