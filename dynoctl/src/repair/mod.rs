//! `dynoctl repair`: anti-entropy for racks that diverged. It compares the replicas of every
//! token range across the racks of a DC (or of every DC) on the datastores themselves, and
//! makes them equal, safely under live traffic.
//!
//! ```text
//!  configs (CONF... or --dir) ─▶ plan: racks, elementary token ranges, units (same owners)
//!  connect every datastore: AUTH, maxmemory-policy, scripts        (failures: exit 2)
//!  for each unit not done (--resume skips those the state file records):
//!      walk (walk.rs): SCAN each rack's owner, digest on every rack, second look after
//!      --recheck-after, decide (decide.rs), compare-and-replace on the targets
//!      record the unit's ranges as done in --state-file
//!  trim each node's read-repair metadata of keys that no longer exist
//!  remove the state file; report (report.rs): exit 0 racks equal, 1 differences remain
//! ```
//!
//! The files: `plan` (pure: racks, ranges, units), `decide` (pure: the winner), `rate` (the
//! limiter), `state` (the resume file), `scripts` (the Lua run on the datastores and their
//! replies), `store` (one datastore connection), `walk` (one unit), `progress` (stderr),
//! `report` (the result).

mod decide;
mod plan;
mod progress;
pub mod rate;
mod report;
mod scripts;
mod state;
mod store;
mod walk;

use std::path::PathBuf;
use std::time::Instant;

use crate::cli::{PreferArg, RepairArgs};
use crate::output::{log, CliError};
pub use decide::Prefer;
use plan::{Plan, Scope};
use report::RackCounts;
pub use report::RepairReport;
use store::{Script, Store};
use walk::{Options, Walk};

/// Members or names per trim script call.
const TRIM_BATCH: usize = 500;

/// `dynoctl repair`.
pub fn run(args: &RepairArgs) -> Result<RepairReport, CliError> {
    let started = Instant::now();
    let configs = load_configs(args)?;
    let scope = match (&args.dc, args.all_dcs) {
        (_, true) => Scope::AllDcs,
        (Some(d), false) => Scope::Dc(d.clone()),
        (None, false) => Scope::OnlyDc,
    };
    let plan = plan::plan(&configs, &scope).map_err(CliError::new)?;
    let prefer = prefer(&plan, &args.prefer)?;
    let opts = Options {
        prefer,
        report_only: args.report_only,
        recheck_after: args.recheck_after,
        batch: args.batch as usize,
        rate: args.rate,
    };

    check_hints(&plan, args.ignore_hints)?;
    let mut stores = Vec::new();
    let mut racks = Vec::new();
    for r in &plan.racks {
        let mut mine = Vec::new();
        for n in &r.nodes {
            let s =
                Store::open(&n.datastore, n.password.as_deref(), args.timeout).map_err(|e| {
                    CliError::unreachable(
                        &n.datastore,
                        e,
                        &format!("is the redis-server of {} ({}) running?", n.file, r.label),
                    )
                })?;
            if s.policy.is_none() {
                log(format!(
                    "{}: CONFIG GET maxmemory-policy gave no answer; taken as allkeys-* (no missing key is recreated there)",
                    n.datastore
                ));
            }
            mine.push(s);
        }
        racks.push(RackCounts {
            rack: r.label.clone(),
            dc: r.dc.clone(),
            datastores: r.nodes.iter().map(|n| n.datastore.clone()).collect(),
            eviction_policy: policies(&mine),
            ..RackCounts::default()
        });
        stores.push(mine);
    }

    let mut fingerprint = plan.fingerprint();
    if args.report_only {
        fingerprint.push_str("; report-only");
    }
    let mut st = if args.resume {
        match state::load(&args.state_file, &fingerprint)
            .map_err(|e| CliError::new(e).with_hint("run without --resume to start over"))?
        {
            Some(s) => s,
            None => {
                log(format!(
                    "no state file {}: walking every range",
                    args.state_file.display()
                ));
                state::State::new(&fingerprint)
            }
        }
    } else {
        state::State::new(&fingerprint)
    };
    state::save(&args.state_file, &st).map_err(CliError::new)?;

    let todo: Vec<usize> = (0..plan.units.len())
        .filter(|&u| {
            plan.units[u]
                .ranges
                .iter()
                .any(|&i| !st.done.contains(&plan.ends[i]))
        })
        .collect();
    let skipped = plan.ends.len()
        - todo
            .iter()
            .map(|&u| plan.units[u].ranges.len())
            .sum::<usize>();
    let mut total = 0;
    for &u in &todo {
        for (r, &o) in plan.units[u].owners.iter().enumerate() {
            total += stores[r][o].dbsize().map_err(CliError::new)?;
        }
    }
    log(format!(
        "repair: {} of {}: {} range(s) in {} unit(s) to walk{}, about {total} keys; second look after {}; rate {}{}",
        plan.racks
            .iter()
            .map(|r| r.label.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        plan.dc.as_deref().map_or("every DC".to_string(), |d| format!("DC {d}")),
        plan.ends.len() - skipped,
        todo.len(),
        if skipped > 0 {
            format!(" ({skipped} done before)")
        } else {
            String::new()
        },
        crate::duration::show_duration(opts.recheck_after),
        opts.rate.text(),
        if opts.report_only { "; report only" } else { "" },
    ));

    let run_ids: Vec<Vec<String>> = stores
        .iter()
        .map(|r| r.iter().map(|s| s.run_id.clone()).collect())
        .collect();
    let mut walk = Walk::new(&plan, stores, &opts, racks, progress::Progress::new(total));
    for (n, &u) in todo.iter().enumerate() {
        let unit = &plan.units[u];
        let unit_id = plan.ends[unit.ranges[0]];
        let owners_ids: Vec<String> = unit
            .owners
            .iter()
            .enumerate()
            .map(|(r, &o)| run_ids[r][o].clone())
            .collect();
        let from = match st.at.take() {
            Some(cp) if cp.unit == unit_id && cp.run_ids == owners_ids => {
                log(format!(
                    "repair: unit {}/{} resumed at {}'s SCAN cursor {}",
                    n + 1,
                    todo.len(),
                    plan.racks[cp.rack].label,
                    cp.cursor
                ));
                Some((cp.rack, cp.cursor))
            }
            Some(cp) if cp.unit == unit_id => {
                log(format!(
                    "repair: unit {}/{} walked from its start: a datastore restarted since the checkpoint",
                    n + 1,
                    todo.len()
                ));
                None
            }
            Some(cp) => {
                st.at = Some(cp);
                None
            }
            None => None,
        };
        let path = &args.state_file;
        let mut save = |at: &walk::Position| {
            let mut s = st.clone();
            s.at = Some(state::Checkpoint {
                unit: unit_id,
                rack: at.0,
                cursor: at.1.clone(),
                run_ids: owners_ids.clone(),
            });
            state::save(path, &s)
        };
        walk.unit(u, from, &mut save).map_err(|e| {
            walk.progress.clear();
            CliError::new(e).with_hint(format!(
                "finished ranges are recorded in {}; continue with --resume",
                args.state_file.display()
            ))
        })?;
        st.at = None;
        st.done
            .extend(plan.units[u].ranges.iter().map(|&i| plan.ends[i]));
        state::save(&args.state_file, &st).map_err(CliError::new)?;
        walk.progress.clear();
        let ranges: Vec<String> = plan.units[u]
            .ranges
            .iter()
            .map(|&i| plan.range_text(i))
            .collect();
        log(format!(
            "repair: unit {}/{} done ({}): {} keys compared so far, {} differing, {} repaired",
            n + 1,
            todo.len(),
            ranges.join(" "),
            walk.totals.keys,
            walk.totals.differing,
            walk.totals.repaired
        ));
    }
    trim_metadata(&mut walk, opts.report_only)?;
    state::remove(&args.state_file).map_err(CliError::new)?;

    let elapsed = started.elapsed();
    let t = walk.totals.clone();
    Ok(RepairReport {
        dc: plan.dc.clone(),
        report_only: opts.report_only,
        prefer: match &args.prefer {
            PreferArg::Majority => "majority".into(),
            PreferArg::Rack(r) => format!("rack:{r}"),
        },
        rate: opts.rate.text(),
        recheck_after_ms: opts.recheck_after.as_millis() as u64,
        ranges: plan.ends.len(),
        ranges_walked: plan.ends.len() - skipped,
        ranges_skipped: skipped,
        racks: walk.racks.clone(),
        keys_per_s: (t.keys as f64 / elapsed.as_secs_f64().max(0.001)) as u64,
        equal: t.remaining() == 0,
        totals: t,
        elapsed_ms: elapsed.as_millis() as u64,
        left: walk.left.clone(),
        left_unlisted: walk.left_unlisted,
    })
}

/// The config files: CONF... and those of the nodes of `--dir`'s cluster.json.
fn load_configs(args: &RepairArgs) -> Result<Vec<(String, dynomite::conf::Config)>, CliError> {
    let mut files: Vec<PathBuf> = args.configs.clone();
    if let Some(dir) = &args.dir {
        let c = crate::cluster::load(dir)?;
        files.extend(c.nodes.iter().map(|n| PathBuf::from(&n.config)));
    }
    files
        .iter()
        .map(|p| {
            dynomite::conf::load(p)
                .map(|c| (p.display().to_string(), c))
                .map_err(|e| {
                    CliError::new(format!("invalid config:\n{e}")).with_hint(format!(
                        "run `dynoctl conf-test {}` for details",
                        p.display()
                    ))
                })
        })
        .collect()
}

/// `--prefer` against the plan's racks: `rack:NAME` names a rack by its label (`rack` or
/// `dc/rack`) or, when only one has it, by its name.
fn prefer(plan: &Plan, arg: &PreferArg) -> Result<Prefer, CliError> {
    let PreferArg::Rack(name) = arg else {
        return Ok(Prefer::Majority);
    };
    if let Some(i) = plan.racks.iter().position(|r| &r.label == name) {
        return Ok(Prefer::Rack(i));
    }
    let named: Vec<usize> = (0..plan.racks.len())
        .filter(|&i| &plan.racks[i].name == name)
        .collect();
    match named[..] {
        [i] => Ok(Prefer::Rack(i)),
        _ => Err(CliError::new(format!(
            "--prefer rack:{name}: {} (the racks compared are {})",
            if named.is_empty() {
                "no such rack"
            } else {
                "several DCs have a rack of that name; write rack:DC/RACK"
            },
            plan.racks
                .iter()
                .map(|r| r.label.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Refuse to walk while a node holds hints (writes a peer has not received): they would be
/// taken for differences. Nodes that do not answer are warned about.
fn check_hints(plan: &Plan, ignore: bool) -> Result<(), CliError> {
    let stats = crate::stats::Stats::new(std::time::Duration::from_secs(2))?;
    let mut holding = Vec::new();
    for n in plan.racks.iter().flat_map(|r| &r.nodes) {
        let Some(addr) = &n.stats else { continue };
        match stats.try_info(addr) {
            Ok(i) if i.hints > 0 => holding.push(format!("{addr} ({}/{}): {}", n.dc, n.rack, i.hints)),
            Ok(_) => {}
            Err(e) => log(format!(
                "cannot read the hints of {addr} ({}): {e}; writes it holds for a peer would be taken for differences",
                n.file
            )),
        }
    }
    if holding.is_empty() || ignore {
        return Ok(());
    }
    Err(CliError::new(format!(
        "nodes hold hints (writes a peer has not received yet): {}",
        holding.join(", ")
    ))
    .with_hint(
        "wait until they are delivered (`dynoctl status` shows them), or give --ignore-hints",
    ))
}

/// A rack's policies as the report shows them.
fn policies(stores: &[Store]) -> String {
    let mut all: Vec<&str> = Vec::new();
    for s in stores {
        let p = s.policy.as_deref().unwrap_or("?");
        if !all.contains(&p) {
            all.push(p);
        }
    }
    all.join(",")
}

/// On every node: remove the read-repair metadata of keys that no longer exist (members of
/// `._add-set`, sets `._add-set_<key>` and `._rem-set_<key>`); `._rem-set`'s members are
/// tombstones and stay. With `--report-only`, count them only.
fn trim_metadata(walk: &mut Walk, dry: bool) -> Result<(), CliError> {
    let flag: &[u8] = if dry { b"1" } else { b"0" };
    let mut counts = Vec::new();
    for rack in walk.stores().iter_mut() {
        let mut n = 0;
        for s in rack.iter_mut() {
            n += trim_node(s, flag).map_err(CliError::new)?;
        }
        counts.push(n);
    }
    for (r, n) in counts.into_iter().enumerate() {
        walk.racks[r].metadata_trimmed = n;
        walk.totals.metadata_trimmed += n;
    }
    Ok(())
}

fn trim_node(s: &mut Store, flag: &[u8]) -> Result<u64, String> {
    let mut n = 0;
    let mut cursor = "0".to_string();
    loop {
        let (next, members) = s.zscan("._add-set", &cursor, TRIM_BATCH)?;
        if !members.is_empty() {
            let mut args: Vec<&[u8]> = vec![flag];
            args.extend(members.iter().map(Vec::as_slice));
            n += s.trim(Script::TrimMembers, &[b"._add-set"], &args)?;
        }
        cursor = next;
        if cursor == "0" {
            break;
        }
    }
    for pattern in ["._add-set_*", "._rem-set_*"] {
        let mut cursor = "0".to_string();
        loop {
            let (next, names) = s.scan_match(&cursor, TRIM_BATCH, Some(pattern))?;
            if !names.is_empty() {
                let mut args: Vec<&[u8]> = vec![flag];
                args.extend(names.iter().map(Vec::as_slice));
                n += s.trim(Script::TrimSets, &[], &args)?;
            }
            cursor = next;
            if cursor == "0" {
                break;
            }
        }
    }
    Ok(n)
}
