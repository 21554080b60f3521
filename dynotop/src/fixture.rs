//! Fixture dashboards built from a recorded `/info` reply, for the tests and snapshots.

use serde_json::Value;

use crate::app::{App, DsProbe, Fetched};
use crate::datastore::{self, DsInfo};
use crate::sample;
use crate::topology::Target;

/// A real Dynomite `/info` reply (ours adds `state` and the consistency levels).
pub const INFO: &str = include_str!("../../dynomited/tests-data/dynomite-info-sample.json");

/// `INFO memory`, `INFO keyspace`, `INFO replication` as a redis-server 7.0 master with two
/// keys answered them (the RESP bytes).
pub const REDIS_MASTER: &[u8] = include_bytes!("../tests-data/redis-info-master.resp");

/// The same asked of its replica, link up.
pub const REDIS_REPLICA: &[u8] = include_bytes!("../tests-data/redis-info-replica.resp");

/// The summary of recorded RESP replies (empty if they do not parse).
pub fn ds_info(resp: &[u8]) -> DsInfo {
    datastore::parse_replies(resp)
        .and_then(|(r, _)| datastore::info_text(&r))
        .map(|t| datastore::parse_info(&t))
        .unwrap_or_default()
}

/// Unix time of the fixture's last poll: 2026-11-22 21:00:00 UTC.
pub const NOW: u64 = 1_795_381_200;

/// `INFO` edited: rack, state and counters bumped by `bump` reads, `bump / 2` writes and
/// `errors` forward errors.
pub fn info(rack: &str, state: &str, bump: u64, errors: u64) -> String {
    let mut v: Value = serde_json::from_str(INFO).unwrap_or(Value::Null);
    if let Some(top) = v.as_object_mut() {
        top.insert("rack".into(), rack.into());
        top.insert("state".into(), state.into());
        top.insert("read_consistency".into(), "DC_ONE".into());
        top.insert("write_consistency".into(), "DC_ONE".into());
        if let Some(Value::Object(pool)) = top.get_mut("dyn_o_mite") {
            let mut add = |k: &str, d: u64| {
                let old = pool.get(k).and_then(Value::as_u64).unwrap_or(0);
                pool.insert(k.into(), (old + d).into());
            };
            add("client_read_requests", bump);
            add("client_write_requests", bump / 2);
            add("forward_error", errors);
        }
    }
    v.to_string()
}

/// Three nodes of `dc1` in racks `rack1..rack3`: one NORMAL, one WRITES_ONLY, and the third
/// DOWN (connection refused, last seen 30 s ago); each fed twice 2 s apart. Their datastores
/// answered `INFO` 30 s ago: a master (nodes 1 and 3) and a replica (node 2).
pub fn app() -> App {
    let tokens = [101_134_286_u32, 1_383_429_731, 2_147_483_647];
    let targets: Vec<Target> = (0..3)
        .map(|i| Target {
            addr: format!("10.0.0.{}:22222", i + 1),
            name: format!("node{}:8101", i + 1),
            dc: "dc1".into(),
            rack: format!("rack{}", i + 1),
            tokens: vec![tokens[i]],
        })
        .collect();
    let mut app = App::new(targets, 2.0);
    let states = ["NORMAL", "WRITES_ONLY", "NORMAL"];
    for (round, (at_ms, unix)) in [(0_u64, NOW - 32), (2000, NOW - 30)]
        .into_iter()
        .enumerate()
    {
        for i in 0..3_u64 {
            let bump = round as u64 * 2000 * (i + 1);
            let body = info(
                &format!("rack{}", i + 1),
                states[i as usize],
                bump,
                round as u64 * 3 * i,
            );
            app.apply(Fetched {
                addr: format!("10.0.0.{}:22222", i + 1),
                unix,
                result: sample::parse(&body, at_ms),
            });
        }
    }
    for (i, resp) in [REDIS_MASTER, REDIS_REPLICA, REDIS_MASTER]
        .into_iter()
        .enumerate()
    {
        app.apply_datastore(
            &format!("10.0.0.{}:22222", i + 1),
            DsProbe {
                addr: format!("10.0.0.{}:7011", i + 1),
                unix: NOW - 30,
                result: Ok(ds_info(resp)),
            },
        );
    }
    app.apply(Fetched {
        addr: "10.0.0.3:22222".into(),
        unix: NOW,
        result: Err("connect: Connection refused (os error 111)".into()),
    });
    app.now_unix = NOW;
    app
}
