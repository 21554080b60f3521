//! What a repair found and did: the counts per rack and in total, the keys left unequal, and
//! their table and JSON forms.

use std::time::Duration;

use serde::Serialize;

use crate::duration::show_duration;
use crate::output::{Block, Render};

/// The most keys listed in [`RepairReport::left`].
pub const MAX_LEFT: usize = 100;

/// One rack's counts.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RackCounts {
    /// `rack`, or `dc/rack` when several DCs are compared.
    pub rack: String,
    pub dc: String,
    /// Its nodes' datastores.
    pub datastores: Vec<String>,
    /// The datastores' `maxmemory-policy` (`?` where it could not be read), comma-separated
    /// when they differ.
    pub eviction_policy: String,
    /// Keys of the ranges walked that its SCANs found.
    pub scanned: u64,
    /// Differing keys this rack did not hold the winner of (or, for a key left alone because
    /// it may have been evicted, is missing).
    pub differs: u64,
    /// Keys written or deleted here.
    pub repaired: u64,
    /// Keys not written here because they changed after the second look.
    pub changed_meanwhile: u64,
    /// Keys missing here, present elsewhere, not recreated: its policy may have evicted them.
    pub evicted: u64,
    /// Keys whose write failed here.
    pub failed: u64,
    /// Read-repair metadata removed here (members and sets of keys that no longer exist).
    pub metadata_trimmed: u64,
}

/// The counts over every rack. `differing` keys end as exactly one of `repaired`,
/// `changed_meanwhile`, `ties`, `evicted`, `failed` or (with `--report-only`)
/// `would_repair`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Totals {
    /// Distinct keys compared.
    pub keys: u64,
    /// Keys that differed in both looks, the same way.
    pub differing: u64,
    /// Keys that differed in the first look only (a write in flight).
    pub settled: u64,
    pub repaired: u64,
    /// Keys written between the looks or before the write: left alone (run again).
    pub changed_meanwhile: u64,
    /// Keys whose racks hold no majority value: left alone.
    pub ties: u64,
    /// Keys missing where the eviction policy may have evicted them: not recreated.
    pub evicted: u64,
    pub would_repair: u64,
    pub failed: u64,
    /// How the winners were chosen.
    pub by_timestamp: u64,
    pub by_majority: u64,
    pub by_rack: u64,
    pub metadata_trimmed: u64,
}

impl Totals {
    /// Keys left unequal.
    pub fn remaining(&self) -> u64 {
        self.differing - self.repaired
    }
}

/// A key left unequal.
#[derive(Clone, Debug, Serialize)]
pub struct Left {
    /// The key, with bytes that are not printable ASCII as `\xNN`.
    pub key: String,
    /// `tie`, `evicted`, `changed_meanwhile`, `failed` or `would_repair`.
    pub why: &'static str,
    /// The racks it concerns: those that differ from the winner (all racks for a tie).
    pub racks: Vec<String>,
    /// The error, for `failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The result of `dynoctl repair`.
#[derive(Clone, Debug, Serialize)]
pub struct RepairReport {
    /// The DC compared (`null` with `--all-dcs`).
    pub dc: Option<String>,
    pub report_only: bool,
    /// `majority` or `rack:NAME`.
    pub prefer: String,
    pub rate: String,
    pub recheck_after_ms: u64,
    /// Elementary token ranges in all, walked now, skipped as done by an earlier run.
    pub ranges: usize,
    pub ranges_walked: usize,
    pub ranges_skipped: usize,
    pub racks: Vec<RackCounts>,
    #[serde(flatten)]
    pub totals: Totals,
    pub elapsed_ms: u64,
    /// Keys compared per second, over the walk.
    pub keys_per_s: u64,
    /// Every key compared is equal on every rack at the end (no difference remains).
    pub equal: bool,
    /// Keys left unequal (at most [`MAX_LEFT`]).
    pub left: Vec<Left>,
    /// Keys left unequal beyond those listed.
    pub left_unlisted: u64,
}

/// A key as text: printable ASCII as it is, other bytes as `\xNN`.
pub fn key_text(key: &[u8]) -> String {
    let mut s = String::with_capacity(key.len());
    for &b in key {
        if (0x20..0x7f).contains(&b) && b != b'\\' {
            s.push(b as char);
        } else {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    s
}

impl Render for RepairReport {
    fn human(&self) -> Vec<Block> {
        let rows = self
            .racks
            .iter()
            .map(|r| {
                vec![
                    r.rack.clone(),
                    r.datastores.join(","),
                    r.eviction_policy.clone(),
                    r.scanned.to_string(),
                    r.differs.to_string(),
                    r.repaired.to_string(),
                    r.changed_meanwhile.to_string(),
                    r.evicted.to_string(),
                    r.failed.to_string(),
                    r.metadata_trimmed.to_string(),
                ]
            })
            .collect();
        let t = &self.totals;
        let mut lines = vec![
            format!(
                "{} keys compared in {} ({} keys/s), {} of {} ranges walked{}",
                t.keys,
                show_duration(Duration::from_millis(self.elapsed_ms)),
                self.keys_per_s,
                self.ranges_walked,
                self.ranges,
                if self.ranges_skipped > 0 {
                    format!(" ({} done before)", self.ranges_skipped)
                } else {
                    String::new()
                }
            ),
            format!(
                "differing: {} (repaired {}, changed meanwhile {}, ties {}, evicted {}, failed {}{}); settled between the looks: {}",
                t.differing,
                t.repaired,
                t.changed_meanwhile,
                t.ties,
                t.evicted,
                t.failed,
                if self.report_only {
                    format!(", would repair {}", t.would_repair)
                } else {
                    String::new()
                },
                t.settled
            ),
            format!(
                "winners by timestamp {}, by majority {}, by rack {}; read-repair metadata trimmed: {}",
                t.by_timestamp, t.by_majority, t.by_rack, t.metadata_trimmed
            ),
        ];
        if self.equal {
            lines.push("the racks are equal".into());
        } else {
            lines.push(format!(
                "{} key(s) still differ{}",
                t.remaining(),
                if self.report_only {
                    " (--report-only: nothing was changed)"
                } else {
                    ""
                }
            ));
        }
        let mut blocks = vec![
            Block::Table {
                headers: vec![
                    "rack",
                    "datastores",
                    "policy",
                    "scanned",
                    "differs",
                    "repaired",
                    "changed meanwhile",
                    "evicted",
                    "failed",
                    "metadata trimmed",
                ],
                rows,
            },
            Block::Lines(lines),
        ];
        if !self.left.is_empty() {
            let rows = self
                .left
                .iter()
                .map(|l| {
                    vec![
                        l.key.clone(),
                        l.why.to_string(),
                        l.racks.join(","),
                        l.error.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            blocks.push(Block::Table {
                headers: vec!["key left", "why", "racks", "error"],
                rows,
            });
            if self.left_unlisted > 0 {
                blocks.push(Block::Lines(vec![format!(
                    "... and {} more",
                    self.left_unlisted
                )]));
            }
        }
        blocks
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::render_human;

    #[test]
    fn keys_are_shown_safely() {
        assert_eq!(key_text(b"user:1"), "user:1");
        assert_eq!(key_text(b"a\r\n\xff\\"), "a\\x0d\\x0a\\xff\\x5c");
    }

    #[test]
    fn the_report_as_a_table_and_json() {
        let r = RepairReport {
            dc: Some("dc1".into()),
            report_only: false,
            prefer: "majority".into(),
            rate: "unlimited".into(),
            recheck_after_ms: 5000,
            ranges: 1,
            ranges_walked: 1,
            ranges_skipped: 0,
            racks: vec![RackCounts {
                rack: "rack1".into(),
                dc: "dc1".into(),
                datastores: vec!["127.0.0.1:7001".into()],
                eviction_policy: "noeviction".into(),
                scanned: 10,
                differs: 2,
                repaired: 2,
                ..RackCounts::default()
            }],
            totals: Totals {
                keys: 10,
                differing: 3,
                repaired: 2,
                ties: 1,
                ..Totals::default()
            },
            elapsed_ms: 1500,
            keys_per_s: 6,
            equal: false,
            left: vec![Left {
                key: "k".into(),
                why: "tie",
                racks: vec!["rack1".into(), "rack2".into()],
                error: None,
            }],
            left_unlisted: 0,
        };
        let text = render_human(&r.human(), false);
        assert!(
            text.contains("10 keys compared in 1.5s (6 keys/s), 1 of 1 ranges walked"),
            "{text}"
        );
        assert!(
            text.contains("differing: 3 (repaired 2, changed meanwhile 0, ties 1"),
            "{text}"
        );
        assert!(text.contains("1 key(s) still differ"), "{text}");
        assert!(
            text.lines()
                .any(|l| l.starts_with("k") && l.contains("tie")),
            "{text}"
        );
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["differing"], 3);
        assert_eq!(v["racks"][0]["repaired"], 2);
        assert_eq!(v["left"][0]["why"], "tie");
        assert!(v["left"][0].get("error").is_none());
    }
}
