//! Hints journaled to disk (`hints_dir`): every write kept for a peer is also appended to
//! that peer's file (`peer::hintfile` frames), so it survives a restart or a `kill -9` of
//! this node. At start-up each peer's file is read back into its hint queue (the bounds and
//! `hints_max_age` applied again, a damaged tail reported and cut off) and rewritten with
//! what was kept; the file is emptied once the peer's queue has drained.
//!
//! ```text
//!   hint_push ─► memory queue ─┬─► append a frame (fsync: always | every second | never)
//!   start-up  ◄── read, check ─┘   replay drained the queue ─► truncate to the header
//! ```
//!
//! The files are written on the loop thread: a local disk append per kept write, which is
//! only while a peer is unreachable.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;

use super::membership::Hint;
use super::Core;
use crate::conf::HintsFsync;
use crate::peer::hintfile::{self, MAGIC};
use crate::{log_notice, log_warn};

/// One peer's open hints file.
pub(super) struct HintLog {
    file: File,
    path: PathBuf,
    /// Bytes in the file (the header included).
    len: u64,
    /// Written since the last fsync.
    dirty: bool,
}

impl Core {
    /// The file of the writes this node keeps for topology node `node`: named by both
    /// nodes' DC, rack and token (which stay when an address changes), so nodes sharing a
    /// directory do not share files.
    fn hint_log_path(&self, node: usize) -> Option<PathBuf> {
        let dir = self.cfg.peering.hints_dir.as_ref()?;
        let topo = self.place.topo();
        let (me, peer) = (topo.nodes.first()?, topo.nodes.get(node)?);
        let id = |n: &crate::ring::Node| -> String {
            format!("{}-{}-{}", n.dc, n.rack, n.token)
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect()
        };
        Some(dir.join(format!("hints.{}.to.{}.log", id(me), id(peer))))
    }

    /// Start-up: every peer's kept writes back from its file, in order.
    pub(super) fn load_hint_logs(&mut self) {
        let Some(dir) = self.cfg.peering.hints_dir.clone() else {
            return;
        };
        if let Err(e) = std::fs::create_dir_all(&dir) {
            log_warn!(
                "hints_dir {}: {e}; hints are kept in memory only",
                dir.display()
            );
            return;
        }
        for node in 1..self.mesh.views.len() {
            let Some(path) = self.hint_log_path(node) else {
                continue;
            };
            let bytes = match std::fs::read(&path) {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    log_warn!("hints file {}: {e}; not replayed", path.display());
                    continue;
                }
            };
            let (records, damage) = hintfile::decode(&bytes);
            if let Some(d) = &damage {
                log_warn!(
                    "hints file {} damaged at byte offset {} ({}): the {} writes before it are \
                     replayed, the {} bytes from there are skipped",
                    path.display(),
                    d.offset,
                    d.why,
                    records.len(),
                    bytes.len() - d.offset
                );
            }
            let now_ms = crate::stats::counters::unix_ms();
            let n = records.len();
            for r in records {
                let age_ns = now_ms.saturating_sub(r.at_ms).saturating_mul(1_000_000);
                let hint = Hint::new(
                    r.ty,
                    r.resp3,
                    r.noreply,
                    self.now_ns.saturating_sub(age_ns),
                    r.payload,
                );
                self.mesh.views[node].push_loaded(hint);
            }
            self.bound_hints(node);
            self.expire_hints(node);
            let kept = self.mesh.views[node].hints.len();
            log_notice!(
                "hints file {}: {kept} writes to replay ({} read)",
                path.display(),
                n
            );
            // Rewritten with what is kept: no damage, no dropped writes left in it.
            let mut out = MAGIC.to_vec();
            for h in &self.mesh.views[node].hints {
                h.encode(now_ms, self.now_ns, &mut out);
            }
            let tmp = path.with_extension("log.tmp");
            let written = std::fs::write(&tmp, &out).and_then(|()| std::fs::rename(&tmp, &path));
            if let Err(e) = written {
                log_warn!("hints file {}: rewriting it: {e}", path.display());
            }
            self.mesh.views[node].log = self.open_hint_log(node);
        }
    }

    /// Append a kept write to `node`'s file (opened, with its header, when first needed).
    pub(super) fn journal_hint(&mut self, node: usize, hint: &Hint) {
        if self.cfg.peering.hints_dir.is_none() {
            return;
        }
        if self.mesh.views.get(node).is_some_and(|v| v.log.is_none()) {
            let Some(log) = self.open_hint_log(node) else {
                return;
            };
            self.mesh.views[node].log = Some(log);
        }
        let mut frame = std::mem::take(&mut self.scratch.bytes);
        frame.clear();
        hint.encode(crate::stats::counters::unix_ms(), self.now_ns, &mut frame);
        let always = self.cfg.peering.hints_fsync == HintsFsync::Always;
        let Some(log) = self.mesh.views.get_mut(node).and_then(|v| v.log.as_mut()) else {
            self.scratch.bytes = frame;
            return;
        };
        let res =
            log.file.write_all(&frame).and_then(
                |()| {
                    if always {
                        log.file.sync_data()
                    } else {
                        Ok(())
                    }
                },
            );
        match res {
            Ok(()) => {
                log.len += frame.len() as u64;
                log.dirty = !always;
            }
            Err(e) => {
                log_warn!(
                    "hints file {}: {e}; this peer's hints are kept in memory only",
                    log.path.display()
                );
                self.mesh.views[node].log = None;
            }
        }
        self.scratch.bytes = frame;
    }

    fn open_hint_log(&mut self, node: usize) -> Option<HintLog> {
        let path = self.hint_log_path(node)?;
        let opened = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| {
                let len = f.metadata()?.len();
                if len == 0 {
                    f.write_all(MAGIC)?;
                }
                Ok((f, len.max(MAGIC.len() as u64)))
            });
        match opened {
            Ok((file, len)) => Some(HintLog {
                file,
                path,
                len,
                dirty: false,
            }),
            Err(e) => {
                log_warn!(
                    "hints file {}: {e}; hints are kept in memory only",
                    path.display()
                );
                None
            }
        }
    }

    /// `node`'s queue drained: its file goes back to its header.
    pub(super) fn hint_log_drained(&mut self, node: usize) {
        let Some(log) = self.mesh.views.get_mut(node).and_then(|v| v.log.as_mut()) else {
            return;
        };
        if log.len <= MAGIC.len() as u64 {
            return;
        }
        match log.file.set_len(MAGIC.len() as u64) {
            Ok(()) => log.len = MAGIC.len() as u64,
            Err(e) => log_warn!("hints file {}: emptying it: {e}", log.path.display()),
        }
    }

    /// `hints_fsync: everysec`: flush the files written since the last call (once a second).
    pub(super) fn sync_hint_logs(&mut self) {
        if self.cfg.peering.hints_fsync != HintsFsync::EverySec {
            return;
        }
        for v in &mut self.mesh.views {
            if let Some(log) = v.log.as_mut().filter(|l| l.dirty) {
                if let Err(e) = log.file.sync_data() {
                    log_warn!("hints file {}: fsync: {e}", log.path.display());
                }
                log.dirty = false;
            }
        }
    }
}
