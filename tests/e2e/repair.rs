//! `dynoctl repair`: racks diverged on purpose (writes straight into one rack's
//! redis-server, deletes on another, other TTLs, every data type) are made equal, with exact
//! counts, and `--report-only` changes nothing; ties, read-repair timestamps, eviction
//! policies and the metadata trim; `--resume` after a kill; and under a write load through the
//! cluster no key ends older than its last acknowledged write.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dynomite::client::{Connection, Reply};

use crate::cluster::{cluster_tokens, three_racks, Member};
use crate::util::*;

/// A finished `dynoctl repair`.
struct Run {
    code: i32,
    json: serde_json::Value,
    stdout: String,
    stderr: String,
}

fn confs(m: &[Member]) -> Vec<String> {
    m.iter()
        .map(|x| x.node.as_ref().unwrap().conf_path().display().to_string())
        .collect()
}

fn repair_cmd(m: &[Member], state: &TempDir, args: &[&str]) -> Command {
    let mut c = Command::new(crate::dynoctl::dynoctl());
    c.arg("repair")
        .args(confs(m))
        .arg("--state-file")
        .arg(state.path().join("repair.json"))
        .args(args);
    c
}

/// `dynoctl repair CONF... --state-file DIR/repair.json ARGS`.
fn repair(m: &[Member], state: &TempDir, args: &[&str]) -> Run {
    let out = repair_cmd(m, state, args).output().unwrap();
    let stdout = s(&out.stdout);
    Run {
        code: out.status.code().unwrap_or(-1),
        json: serde_json::from_str(&stdout).unwrap_or_default(),
        stdout,
        stderr: s(&out.stderr),
    }
}

impl Run {
    fn num(&self, field: &str) -> u64 {
        self.json[field]
            .as_u64()
            .unwrap_or_else(|| panic!("no {field} in {}\n{}", self.stdout, self.stderr))
    }
    /// A per-rack count, in rack order.
    fn racks(&self, field: &str) -> Vec<u64> {
        self.json["racks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[field].as_u64().unwrap())
            .collect()
    }
    fn show(&self) -> String {
        format!("exit {}\n{}\n{}", self.code, self.stdout, self.stderr)
    }
}

/// Send `cmds` to the server on `port` (in pipelines), each reply checked not an error.
fn direct(port: u16, cmds: &[Vec<String>]) {
    let mut c = Resp::connect(port);
    for chunk in cmds.chunks(500) {
        let refs: Vec<Vec<&str>> = chunk
            .iter()
            .map(|c| c.iter().map(String::as_str).collect())
            .collect();
        for (cmd, r) in refs.iter().zip(c.pipeline(&refs)) {
            assert!(!r.starts_with(b"-"), "{cmd:?}: {}", s(&r));
        }
    }
}

/// `cmd` for each key `prefix{i}`, `i` in `range`; `{k}` in the arguments is the key.
fn each(prefix: &str, range: std::ops::Range<usize>, cmd: &[&str]) -> Vec<Vec<String>> {
    range
        .map(|i| {
            let k = format!("{prefix}{i}");
            cmd.iter().map(|a| a.replace("{k}", &k)).collect()
        })
        .collect()
}

fn dbsize(port: u16) -> u64 {
    let r = s(&Resp::connect(port).cmd(&["DBSIZE"]));
    r.trim().trim_start_matches(':').parse().unwrap()
}

fn text(r: &Reply) -> String {
    match r {
        Reply::Simple(s) | Reply::Error(s) => s.clone(),
        Reply::Int(n) => n.to_string(),
        Reply::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
        Reply::Bulk(None) => "(nil)".into(),
        Reply::Array(None) => "(nil array)".into(),
        Reply::Array(Some(v)) => format!("[{}]", v.iter().map(text).collect::<Vec<_>>().join(",")),
    }
}

/// Each key as the server on `port` holds it, independently of repair's digests: type,
/// absolute expiry and the value (hash fields and set members sorted).
fn snapshot(port: u16, keys: &[String]) -> Vec<String> {
    let mut c = Connection::connect(&format!("127.0.0.1:{port}"), Duration::from_secs(10)).unwrap();
    let mut out = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(500) {
        let meta: Vec<Vec<String>> = chunk
            .iter()
            .flat_map(|k| {
                [
                    vec!["TYPE".to_string(), k.clone()],
                    vec!["PEXPIRETIME".to_string(), k.clone()],
                ]
            })
            .collect();
        let meta = c.pipeline(&meta).unwrap();
        let reads: Vec<Vec<String>> = chunk
            .iter()
            .zip(meta.chunks(2))
            .map(|(k, m)| {
                let args: &[&str] = match text(&m[0]).as_str() {
                    "string" => &["GET"],
                    "list" => &["LRANGE", "{k}", "0", "-1"],
                    "hash" => &["HGETALL"],
                    "set" => &["SMEMBERS"],
                    "zset" => &["ZRANGE", "{k}", "0", "-1", "WITHSCORES"],
                    "stream" => &["XRANGE", "{k}", "-", "+"],
                    _ => &["EXISTS"],
                };
                let mut cmd: Vec<String> = args.iter().map(|a| a.replace("{k}", k)).collect();
                if cmd.len() == 1 {
                    cmd.push(k.clone());
                }
                cmd
            })
            .collect();
        let values = c.pipeline(&reads).unwrap();
        for ((k, m), v) in chunk.iter().zip(meta.chunks(2)).zip(values) {
            let ty = text(&m[0]);
            let value = match (&*ty, v) {
                ("hash", Reply::Array(Some(items))) => {
                    let mut pairs: Vec<String> = items
                        .chunks(2)
                        .map(|p| format!("{}={}", text(&p[0]), text(&p[1])))
                        .collect();
                    pairs.sort();
                    pairs.join(",")
                }
                ("set", Reply::Array(Some(items))) => {
                    let mut m: Vec<String> = items.iter().map(text).collect();
                    m.sort();
                    m.join(",")
                }
                (_, v) => text(&v),
            };
            out.push(format!("{k} {ty} {} {value}", text(&m[1])));
        }
    }
    out
}

/// 20,000 keys of every type, written through `c` (a node's client port): 14,000 strings
/// (`str:0..500` with a TTL), 1,200 each of lists, hashes, sets, sorted sets and streams.
fn populate(c: &mut Resp) -> Vec<String> {
    let mut cmds = each("str:", 0..500, &["SET", "{k}", "v-{k}", "EX", "3600"]);
    cmds.extend(each("str:", 500..14_000, &["SET", "{k}", "v-{k}"]));
    cmds.extend(each("list:", 0..1200, &["RPUSH", "{k}", "a", "b", "c"]));
    cmds.extend(each(
        "hash:",
        0..1200,
        &["HSET", "{k}", "f1", "v1", "f2", "v2", "f3", "v3"],
    ));
    cmds.extend(each("set:", 0..1200, &["SADD", "{k}", "a", "b", "c"]));
    cmds.extend(each(
        "zset:",
        0..1200,
        &["ZADD", "{k}", "1", "a", "2", "b", "3", "c"],
    ));
    cmds.extend(each("stream:", 0..1200, &["XADD", "{k}", "1-1", "f", "v"]));
    for chunk in cmds.chunks(500) {
        let refs: Vec<Vec<&str>> = chunk
            .iter()
            .map(|c| c.iter().map(String::as_str).collect())
            .collect();
        for (cmd, r) in refs.iter().zip(c.pipeline(&refs)) {
            assert!(!r.starts_with(b"-"), "{cmd:?}: {}", s(&r));
        }
    }
    cmds.into_iter().map(|c| c[1].clone()).collect()
}

#[test]
fn repair_makes_diverged_racks_equal_with_exact_counts() {
    let m = three_racks("");
    let state = TempDir::new("repair-state");
    let mut keys = populate(&mut m[0].node.as_ref().unwrap().client());
    assert_eq!(keys.len(), 20_000);
    for x in &m {
        let port = x.redis.port;
        wait_for("20,000 keys in every rack", Duration::from_secs(20), || {
            (dbsize(port) == 20_000).then_some(())
        });
    }
    let extra: Vec<String> = (0..100).map(|i| format!("only1:{i}")).collect();
    keys.extend(extra.iter().cloned());
    let original = snapshot(m[0].redis.port, &keys);
    for x in &m[1..] {
        assert_eq!(snapshot(x.redis.port, &keys), original);
    }

    // rack1: other values, keys of its own, collections changed: 650 keys.
    let mut r1 = each("str:", 1000..1300, &["SET", "{k}", "rogue"]);
    r1.extend(each("only1:", 0..100, &["SET", "{k}", "x"]));
    r1.extend(each("list:", 100..150, &["RPUSH", "{k}", "extra"]));
    r1.extend(each("hash:", 0..50, &["HSET", "{k}", "f9", "x"]));
    r1.extend(each("set:", 0..50, &["SADD", "{k}", "extra"]));
    r1.extend(each("zset:", 0..50, &["ZADD", "{k}", "5", "extra"]));
    r1.extend(each("stream:", 0..50, &["XADD", "{k}", "9-1", "f", "v"]));
    direct(m[0].redis.port, &r1);
    // rack2: deletes: 250 keys.
    let mut r2 = each("str:", 2000..2200, &["DEL", "{k}"]);
    r2.extend(each("list:", 0..50, &["DEL", "{k}"]));
    direct(m[1].redis.port, &r2);
    // rack3: other expirations, elements removed or changed: 300 keys.
    let mut r3 = each("str:", 3000..3100, &["PEXPIREAT", "{k}", "4102444800000"]);
    r3.extend(each("str:", 0..50, &["PERSIST", "{k}"]));
    r3.extend(each("hash:", 100..150, &["HDEL", "{k}", "f1"]));
    r3.extend(each("set:", 100..150, &["SREM", "{k}", "a"]));
    r3.extend(each("zset:", 100..150, &["ZINCRBY", "{k}", "1", "a"]));
    direct(m[2].redis.port, &r3);
    let diverged: Vec<Vec<String>> = m.iter().map(|x| snapshot(x.redis.port, &keys)).collect();

    // Report only: every difference found, nothing changed, exit 1.
    let t = Instant::now();
    let r = repair(
        &m,
        &state,
        &[
            "--report-only",
            "--rate",
            "unlimited",
            "--recheck-after",
            "300ms",
            "--json",
        ],
    );
    let report_only_took = t.elapsed();
    assert_eq!(r.code, 1, "{}", r.show());
    assert_eq!(r.num("keys"), 20_100, "{}", r.show());
    assert_eq!(r.num("differing"), 1200, "{}", r.show());
    assert_eq!(r.num("would_repair"), 1200, "{}", r.show());
    assert_eq!(r.num("repaired"), 0);
    assert_eq!(r.racks("scanned"), [20_100, 19_750, 20_000]);
    assert_eq!(r.racks("differs"), [650, 250, 300]);
    assert_eq!(r.racks("repaired"), [0, 0, 0]);
    assert_eq!(r.json["equal"], false);
    for (x, before) in m.iter().zip(&diverged) {
        assert!(
            &snapshot(x.redis.port, &keys) == before,
            "--report-only changed something"
        );
    }

    // Repair: every difference repaired by the majority, exit 0.
    let t = Instant::now();
    let r = repair(
        &m,
        &state,
        &["--rate", "unlimited", "--recheck-after", "300ms", "--json"],
    );
    let repair_took = t.elapsed();
    assert_eq!(r.code, 0, "{}", r.show());
    assert_eq!(r.num("keys"), 20_100, "{}", r.show());
    assert_eq!(r.num("differing"), 1200, "{}", r.show());
    assert_eq!(r.num("repaired"), 1200, "{}", r.show());
    assert_eq!(r.num("by_majority"), 1200);
    for f in ["settled", "changed_meanwhile", "ties", "evicted", "failed"] {
        assert_eq!(r.num(f), 0, "{f}: {}", r.show());
    }
    // rack2's scan comes after rack1's, whose repairs may already have restored keys there.
    let scanned = r.racks("scanned");
    assert_eq!((scanned[0], scanned[2]), (20_100, 20_000), "{}", r.show());
    assert!((19_750..=20_000).contains(&scanned[1]), "{}", r.show());
    assert_eq!(r.racks("differs"), [650, 250, 300]);
    assert_eq!(r.racks("repaired"), [650, 250, 300]);
    assert_eq!(r.json["equal"], true);
    assert!(r.stderr.contains("unit 1/1 done"), "{}", r.show());
    // Independently of the digests: every rack holds what the cluster was written, TTLs
    // included, and rack1's own keys are gone.
    for x in &m {
        let now = snapshot(x.redis.port, &keys);
        for (a, b) in now.iter().zip(&original) {
            assert_eq!(a, b, "rack of port {}", x.redis.port);
        }
    }
    assert!(
        !state.path().join("repair.json").exists(),
        "a finished walk leaves no state"
    );

    // Again: nothing differs (a table this time).
    let r = repair(
        &m,
        &state,
        &["--rate", "unlimited", "--recheck-after", "300ms"],
    );
    assert_eq!(r.code, 0, "{}", r.show());
    assert!(r.stdout.contains("the racks are equal"), "{}", r.show());
    assert!(r.stdout.contains("differing: 0 "), "{}", r.show());
    assert!(r.stdout.contains("20000 keys compared"), "{}", r.show());
    eprintln!("report-only run {report_only_took:?}, repair run {repair_took:?}");
}

/// `._add-set` / `._rem-set` and field sets on the server on `port`.
fn zadd(port: u16, set: &str, score: u64, member: &str) {
    direct(
        port,
        &[vec![
            "ZADD".into(),
            set.into(),
            score.to_string(),
            member.into(),
        ]],
    );
}

fn get(port: u16, key: &str) -> String {
    s(&Resp::connect(port).cmd(&["GET", key]))
}

#[test]
fn repair_ties_timestamps_eviction_and_the_metadata_trim() {
    let m = three_racks("");
    let state = TempDir::new("repair-state");
    let p: Vec<u16> = m.iter().map(|x| x.redis.port).collect();
    for &port in &p {
        direct(port, &each("common:", 0..10, &["SET", "{k}", "same"]));
    }
    // Ties: three values.
    for (i, v) in ["a", "b", "c"].iter().enumerate() {
        direct(p[i], &each("tie:", 0..5, &["SET", "{k}", v]));
    }
    // Timestamps: the newest write is on rack1 alone; a delete on rack1 is newer than the
    // others' writes; a hash field written last on rack2.
    direct(p[0], &[vec!["SET".into(), "ts:new".into(), "new".into()]]);
    zadd(p[0], "._add-set", 2000, "ts:new");
    zadd(p[0], "._rem-set", 3000, "ts:del");
    for &port in &p[1..] {
        direct(port, &[vec!["SET".into(), "ts:new".into(), "old".into()]]);
        zadd(port, "._add-set", 1000, "ts:new");
        direct(port, &[vec!["SET".into(), "ts:del".into(), "v".into()]]);
        zadd(port, "._add-set", 1000, "ts:del");
    }
    for (i, &port) in p.iter().enumerate() {
        let v = if i == 1 { "new" } else { "old" };
        direct(port, &each("ts:field", 0..1, &["HSET", "{k}", "f", v]));
    }
    zadd(p[1], "._add-set_ts:field0", 5000, "f");
    // Eviction: rack3 under allkeys-lru misses ev:*; rack2 under volatile-ttl misses a key
    // with a TTL and one without.
    direct(
        p[2],
        &[vec![
            "CONFIG".into(),
            "SET".into(),
            "maxmemory-policy".into(),
            "allkeys-lru".into(),
        ]],
    );
    direct(
        p[1],
        &[vec![
            "CONFIG".into(),
            "SET".into(),
            "maxmemory-policy".into(),
            "volatile-ttl".into(),
        ]],
    );
    for &port in &p[..2] {
        direct(port, &each("ev:", 0..3, &["SET", "{k}", "x"]));
    }
    for &port in [p[0], p[2]].iter() {
        direct(
            port,
            &[
                vec![
                    "SET".into(),
                    "vol:ttl".into(),
                    "x".into(),
                    "PXAT".into(),
                    "4102444800000".into(),
                ],
                vec!["SET".into(), "vol:plain".into(), "x".into()],
            ],
        );
    }
    // Metadata of keys that are gone (rack1): trimmed, but not the tombstone.
    zadd(p[0], "._add-set", 10, "gone:1");
    zadd(p[0], "._add-set_gone:2", 10, "f");
    zadd(p[0], "._rem-set", 10, "gone:3");

    let r = repair(
        &m,
        &state,
        &["--rate", "unlimited", "--recheck-after", "200ms", "--json"],
    );
    assert_eq!(r.code, 1, "ties and evicted keys remain: {}", r.show());
    assert_eq!(r.num("keys"), 10 + 5 + 3 + 3 + 2, "{}", r.show());
    assert_eq!(r.num("differing"), 13, "{}", r.show());
    assert_eq!(r.num("ties"), 5, "{}", r.show());
    assert_eq!(r.num("evicted"), 4, "{}", r.show());
    assert_eq!(r.num("repaired"), 4, "{}", r.show());
    assert_eq!(r.num("by_timestamp"), 3, "{}", r.show());
    assert_eq!(r.num("by_majority"), 1, "{}", r.show());
    assert_eq!(r.racks("repaired"), [1, 3, 3], "{}", r.show());
    assert_eq!(r.racks("evicted"), [0, 1, 3], "{}", r.show());
    assert_eq!(r.racks("metadata_trimmed"), [2, 1, 1], "{}", r.show());
    assert_eq!(r.num("metadata_trimmed"), 4);
    let policies: Vec<&str> = r.json["racks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["eviction_policy"].as_str().unwrap())
        .collect();
    assert_eq!(policies, ["noeviction", "volatile-ttl", "allkeys-lru"]);
    let left = r.json["left"].as_array().unwrap();
    let why = |k: &str| {
        left.iter()
            .find(|l| l["key"] == k)
            .map(|l| l["why"].as_str().unwrap().to_string())
    };
    assert_eq!(why("tie:3").as_deref(), Some("tie"), "{}", r.show());
    assert_eq!(why("ev:0").as_deref(), Some("evicted"), "{}", r.show());
    assert_eq!(why("vol:ttl").as_deref(), Some("evicted"), "{}", r.show());
    for &port in &p {
        assert_eq!(get(port, "ts:new"), "$3\r\nnew\r\n");
        assert_eq!(get(port, "ts:del"), "$-1\r\n");
        assert_eq!(
            s(&Resp::connect(port).cmd(&["HGET", "ts:field0", "f"])),
            "$3\r\nnew\r\n"
        );
        assert_eq!(get(port, "vol:plain"), "$1\r\nx\r\n");
    }
    assert_eq!(
        get(p[2], "ev:1"),
        "$-1\r\n",
        "not recreated under allkeys-lru"
    );
    assert_eq!(
        get(p[1], "vol:ttl"),
        "$-1\r\n",
        "not recreated under volatile-ttl"
    );
    let mut c = Resp::connect(p[0]);
    assert_eq!(c.cmd(&["ZSCORE", "._add-set", "gone:1"]), b"$-1\r\n");
    assert_eq!(c.cmd(&["EXISTS", "._add-set_gone:2"]), b":0\r\n");
    assert_eq!(c.cmd(&["ZSCORE", "._rem-set", "gone:3"]), b"$2\r\n10\r\n");
    assert_eq!(c.cmd(&["ZSCORE", "._add-set", "ts:new"]), b"$4\r\n2000\r\n");
    // Metadata is per node: never copied.
    assert_eq!(
        Resp::connect(p[1]).cmd(&["ZSCORE", "._rem-set", "ts:del"]),
        b"$-1\r\n"
    );

    // The operator settles the ties for rack3; the evicted keys stay reported.
    let r = repair(
        &m,
        &state,
        &[
            "--rate",
            "unlimited",
            "--recheck-after",
            "200ms",
            "--prefer",
            "rack:rack3",
            "--json",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.show());
    assert_eq!(r.num("differing"), 9, "{}", r.show());
    assert_eq!(r.num("repaired"), 5, "{}", r.show());
    assert_eq!(r.num("by_rack"), 5, "{}", r.show());
    assert_eq!(r.num("evicted"), 4, "{}", r.show());
    assert_eq!(r.racks("repaired"), [5, 5, 0], "{}", r.show());
    for &port in &p {
        assert_eq!(get(port, "tie:4"), "$1\r\nc\r\n");
    }
    let r = repair(&m, &state, &["--prefer", "rack:rack9"]);
    assert_eq!(r.code, 2, "{}", r.show());
    assert!(r.stderr.contains("no such rack"), "{}", r.show());
}

#[test]
fn repair_resumes_after_the_last_finished_range() {
    // Two racks of two nodes: ranges (3e9, 1e9] and (1e9, 3e9], one unit each.
    let (a, b) = (1_000_000_000u32, 3_000_000_000u32);
    let layout = [
        ("dc1", "rack1", a),
        ("dc1", "rack1", b),
        ("dc1", "rack2", a),
        ("dc1", "rack2", b),
    ];
    let m = cluster_tokens(&layout, "", &vec![String::new(); 4], 0);
    let state = TempDir::new("repair-state");
    let state_file = state.path().join("repair.json");
    let cmds = each("r:", 0..2000, &["SET", "{k}", "v"]);
    let mut c = m[0].node.as_ref().unwrap().client();
    for chunk in cmds.chunks(500) {
        let refs: Vec<Vec<&str>> = chunk
            .iter()
            .map(|c| c.iter().map(String::as_str).collect())
            .collect();
        for r in c.pipeline(&refs) {
            assert_eq!(r, b"+OK\r\n");
        }
    }
    let p: Vec<u16> = m.iter().map(|x| x.redis.port).collect();
    wait_for("2000 keys in each rack", Duration::from_secs(20), || {
        (dbsize(p[0]) + dbsize(p[1]) == 2000 && dbsize(p[2]) + dbsize(p[3]) == 2000).then_some(())
    });
    // rack2 loses r:0..200, from both of its nodes.
    let deleted = |port: u16| -> usize {
        let mut c = Resp::connect(port);
        (0..200)
            .filter(|i| c.cmd(&["DEL", &format!("r:{i}")]) == b":1\r\n")
            .count()
    };
    let (lost_a, lost_b) = (deleted(p[2]), deleted(p[3]));
    assert!(lost_a > 0 && lost_b > 0, "{lost_a} {lost_b}");

    // The first run is killed once its first unit is done. Two racks hold no majority:
    // rack1 is preferred.
    let args = ["--rate", "unlimited", "--prefer", "rack:rack1"];
    let mut child = repair_cmd(
        &m,
        &state,
        &[&args[..], &["--recheck-after", "1s"]].concat(),
    )
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut run1 = Proc { child: Some(child) };
    let mut lines = BufReader::new(stderr).lines();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = String::new();
    loop {
        let line = lines.next().expect("dynoctl's stderr").unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("unit 1/2 done") {
            break;
        }
        assert!(Instant::now() < deadline, "no unit finished: {seen}");
    }
    run1.kill();
    let st: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state_file).unwrap()).unwrap();
    assert_eq!(st["done"], serde_json::json!([a]), "{st}");
    // Unit 1 (the ranges of token a) was repaired, unit 2 not yet.
    let holds =
        |port: u16, i: usize| Resp::connect(port).cmd(&["EXISTS", &format!("r:{i}")]) == b":1\r\n";
    let in_a: Vec<usize> = (0..200).filter(|&i| holds(p[0], i)).collect();
    assert_eq!(in_a.len(), lost_a);
    let missing: Vec<usize> = in_a.iter().copied().filter(|&i| !holds(p[2], i)).collect();
    assert!(missing.is_empty(), "{missing:?} {seen}");
    assert_eq!((0..200).filter(|&i| holds(p[3], i)).count(), 0);
    // A difference in the finished range now is not looked at by the resumed run.
    let again = in_a[0];
    assert_eq!(
        Resp::connect(p[2]).cmd(&["DEL", &format!("r:{again}")]),
        b":1\r\n"
    );

    let r = repair(
        &m,
        &state,
        &[
            &args[..],
            &["--resume", "--recheck-after", "200ms", "--json"],
        ]
        .concat(),
    );
    assert_eq!(r.code, 0, "{}", r.show());
    assert_eq!(r.num("ranges_skipped"), 1, "{}", r.show());
    assert_eq!(r.num("ranges_walked"), 1, "{}", r.show());
    assert_eq!(r.num("repaired"), lost_b as u64, "{}", r.show());
    // Every key of the token-b nodes is of the walked range: placement as dynomited's.
    assert_eq!(
        r.racks("scanned"),
        [dbsize(p[1]), dbsize(p[3]) - lost_b as u64],
        "{}",
        r.show()
    );
    assert_eq!((0..200).filter(|&i| holds(p[3], i)).count(), lost_b);
    assert!(!holds(p[2], again), "the finished range was walked again");
    assert!(!state_file.exists());

    // A state file of other nodes is refused.
    std::fs::write(
        &state_file,
        "{\"version\": 1, \"cluster\": \"hash=murmur; elsewhere\", \"done\": []}",
    )
    .unwrap();
    let r = repair(&m, &state, &["--resume"]);
    assert_eq!(r.code, 2, "{}", r.show());
    assert!(r.stderr.contains("other racks or nodes"), "{}", r.show());
}

/// Keys the writer updates: `live:i` for `i % 4 != 3`.
const LIVE: usize = 2000;

/// Writes `live:i = seq` through `port` (DC_ONE) over the keys `i % 4 != 3`, a sweep after
/// another, until `stop` (or 400,000 writes, or 60 s); the last acknowledged value of each key.
fn writer(port: u16, stop: Arc<AtomicBool>, done: Arc<AtomicU64>) -> HashMap<String, u64> {
    let mut c = Resp::connect(port);
    let keys: Vec<String> = (0..LIVE)
        .filter(|i| i % 4 != 3)
        .map(|i| format!("live:{i}"))
        .collect();
    let mut acked = HashMap::new();
    let start = Instant::now();
    let mut seq = 0u64;
    'sweeps: while start.elapsed() < Duration::from_secs(60) {
        for k in &keys {
            if stop.load(Ordering::Relaxed) || seq >= 400_000 {
                break 'sweeps;
            }
            seq += 1;
            if c.cmd(&["SET", k, &seq.to_string()]) == b"+OK\r\n" {
                acked.insert(k.clone(), seq);
            }
            done.fetch_add(1, Ordering::Relaxed);
        }
    }
    acked
}

#[test]
fn repair_under_writes_never_undoes_an_acknowledged_write() {
    let m = three_racks("");
    let state = TempDir::new("repair-state");
    let p: Vec<u16> = m.iter().map(|x| x.redis.port).collect();
    let mut c = m[0].node.as_ref().unwrap().client();
    let cmds = each("live:", 0..LIVE, &["SET", "{k}", "0"]);
    let refs: Vec<Vec<&str>> = cmds
        .iter()
        .map(|c| c.iter().map(String::as_str).collect())
        .collect();
    for r in c.pipeline(&refs) {
        assert_eq!(r, b"+OK\r\n");
    }
    for &port in &p {
        wait_for("the keys in every rack", Duration::from_secs(10), || {
            (dbsize(port) == LIVE as u64).then_some(())
        });
    }
    // rack2 loses half the keys, rack1 holds stale values of a quarter.
    direct(p[1], &each("live:", 0..LIVE / 2, &["DEL", "{k}"]));
    direct(
        p[0],
        &each("live:", LIVE / 2..LIVE * 3 / 4, &["SET", "{k}", "-1"]),
    );

    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let w = {
        let (stop, done, port) = (stop.clone(), done.clone(), m[0].node.as_ref().unwrap().port);
        std::thread::spawn(move || writer(port, stop, done))
    };
    wait_for("the writer under way", Duration::from_secs(10), || {
        (done.load(Ordering::Relaxed) > 500).then_some(())
    });
    let r = repair(
        &m,
        &state,
        &[
            "--rate",
            "unlimited",
            "--recheck-after",
            "200ms",
            "--batch",
            "50",
            "--json",
        ],
    );
    assert!(r.code == 0 || r.code == 1, "{}", r.show());
    // Every written key is written at least once more after the repair.
    let after = done.load(Ordering::Relaxed);
    wait_for("two more sweeps", Duration::from_secs(30), || {
        (done.load(Ordering::Relaxed) > after + 2 * LIVE as u64).then_some(())
    });
    stop.store(true, Ordering::Relaxed);
    let acked = w.join().unwrap();
    assert!(
        acked.len() >= LIVE * 3 / 4 - 10,
        "{} keys written",
        acked.len()
    );
    // Once replication settles, no rack holds an older value than the last acknowledged.
    for &port in &p {
        wait_for("replication settled", Duration::from_secs(10), || {
            let mut c = Resp::connect(port);
            let bad: Vec<String> = acked
                .iter()
                .filter(|(k, &v)| {
                    let got = s(&c.cmd(&["GET", k]));
                    let got: Option<u64> = got.lines().nth(1).and_then(|l| l.parse().ok());
                    got.is_none_or(|g| g < v)
                })
                .map(|(k, _)| k.clone())
                .collect();
            bad.is_empty().then_some(())
        });
    }
    eprintln!(
        "under writes: differing {}, repaired {}, changed meanwhile {}, settled {}",
        r.num("differing"),
        r.num("repaired"),
        r.num("changed_meanwhile"),
        r.num("settled")
    );
    // The keys nobody wrote were repaired; now the racks are equal.
    let r = repair(
        &m,
        &state,
        &["--rate", "unlimited", "--recheck-after", "200ms", "--json"],
    );
    assert_eq!(r.code, 0, "{}", r.show());
    assert_eq!(r.num("differing"), 0, "{}", r.show());
    assert_eq!(r.num("keys"), LIVE as u64, "{}", r.show());
}

#[test]
fn repair_leaves_a_key_that_changes_between_the_looks() {
    let m = three_racks("");
    let state = TempDir::new("repair-state");
    let p: Vec<u16> = m.iter().map(|x| x.redis.port).collect();
    for &port in &p {
        direct(port, &each("k:", 0..10, &["SET", "{k}", "v"]));
    }
    direct(p[1], &each("k:", 0..2, &["SET", "{k}", "stale"]));
    // The first look at 10 keys takes milliseconds; the second is 3 s later. In between, one
    // of the two differing keys changes on rack2 (a write that has not reached the others).
    let mut child = repair_cmd(
        &m,
        &state,
        &["--rate", "unlimited", "--recheck-after", "3s", "--json"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut run = Proc { child: Some(child) };
    std::thread::sleep(Duration::from_secs(1));
    direct(p[1], &each("k:", 1..2, &["SET", "{k}", "newer"]));
    assert_eq!(run.wait_exit(Duration::from_secs(20)), Some(1));
    let mut out = String::new();
    std::io::Read::read_to_string(&mut BufReader::new(stdout), &mut out).unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["differing"], 2, "{v}");
    assert_eq!(v["repaired"], 1, "{v}");
    assert_eq!(v["changed_meanwhile"], 1, "{v}");
    assert_eq!(v["racks"][1]["changed_meanwhile"], 1, "{v}");
    assert_eq!(v["left"][0]["key"], "k:1", "{v}");
    assert_eq!(v["left"][0]["why"], "changed_meanwhile", "{v}");
    assert_eq!(get(p[1], "k:0"), "$1\r\nv\r\n");
    assert_eq!(
        get(p[1], "k:1"),
        "$5\r\nnewer\r\n",
        "the newer write is left alone"
    );
}

/// 100,000 keys, a tenth of them diverged: how fast repair compares and repairs. Prints the
/// figures; run with `cargo nextest run --release --test e2e repair_speed --run-ignored all
/// --no-capture`.
#[test]
#[ignore]
fn repair_speed_over_100000_keys() {
    const N: usize = 100_000;
    let m = three_racks("");
    let state = TempDir::new("repair-state");
    let p: Vec<u16> = m.iter().map(|x| x.redis.port).collect();
    let value = "x".repeat(100);
    let mut cmds = each("perf:", 0..N - 8000, &["SET", "{k}", &value]);
    cmds.extend(each(
        "perf:",
        N - 8000..N - 6000,
        &["RPUSH", "{k}", "a", "b", "c", "d"],
    ));
    cmds.extend(each(
        "perf:",
        N - 6000..N - 4000,
        &["HSET", "{k}", "f1", "v1", "f2", "v2"],
    ));
    cmds.extend(each(
        "perf:",
        N - 4000..N - 2000,
        &["SADD", "{k}", "a", "b", "c", "d"],
    ));
    cmds.extend(each(
        "perf:",
        N - 2000..N,
        &["ZADD", "{k}", "1", "a", "2", "b"],
    ));
    let mut c = m[0].node.as_ref().unwrap().client();
    let t = Instant::now();
    for chunk in cmds.chunks(1000) {
        let refs: Vec<Vec<&str>> = chunk
            .iter()
            .map(|c| c.iter().map(String::as_str).collect())
            .collect();
        for r in c.pipeline(&refs) {
            assert!(!r.starts_with(b"-"), "{}", s(&r));
        }
    }
    for &port in &p {
        wait_for("every key in every rack", Duration::from_secs(60), || {
            (dbsize(port) == N as u64).then_some(())
        });
    }
    eprintln!("{N} keys written through the cluster in {:?}", t.elapsed());
    let args = ["--rate", "unlimited", "--recheck-after", "1s", "--json"];

    let r = repair(&m, &state, &args);
    assert_eq!(r.code, 0, "{}", r.show());
    let equal_ms = r.num("elapsed_ms");
    eprintln!(
        "equal racks: {} keys compared in {equal_ms} ms: {} keys/s",
        r.num("keys"),
        r.num("keys_per_s")
    );

    // A tenth diverged: rack2 loses 5,000 keys, rack3 holds 5,000 other values.
    direct(p[1], &each("perf:", 0..5000, &["DEL", "{k}"]));
    direct(
        p[2],
        &each("perf:", 50_000..55_000, &["SET", "{k}", "other"]),
    );
    let r = repair(&m, &state, &args);
    assert_eq!(r.code, 0, "{}", r.show());
    assert_eq!(r.num("repaired"), 10_000, "{}", r.show());
    let ms = r.num("elapsed_ms");
    eprintln!(
        "10,000 of {N} keys diverged: {} keys compared and {} repaired in {ms} ms (1 s of it the second look): {} keys/s compared, {} keys/s repaired",
        r.num("keys"),
        r.num("repaired"),
        r.num("keys_per_s"),
        r.num("repaired") * 1000 / ms.max(1)
    );
    let r = repair(&m, &state, &args);
    assert_eq!((r.code, r.num("differing")), (0, 0), "{}", r.show());
}

#[test]
fn repair_waits_until_hints_are_delivered() {
    let mut m = three_racks("  peer_down_after: 1000\n");
    let state = TempDir::new("repair-state");
    let stats0 = m[0].node.as_ref().unwrap().stats_port;
    m[2].node.as_mut().unwrap().proc.kill();
    let info = |port: u16| -> serde_json::Value {
        serde_json::from_str(&http_get(port, "/info").1).unwrap()
    };
    wait_for("rack3 seen down", Duration::from_secs(10), || {
        (info(stats0)["peers_down"] == 1).then_some(())
    });
    let mut c = m[0].node.as_ref().unwrap().client();
    for i in 0..10 {
        assert_eq!(c.cmd(&["SET", &format!("h:{i}"), "v"]), b"+OK\r\n");
    }
    assert_eq!(info(stats0)["hints"], 10);
    // rack3 lacks the writes it is owed: repair would take them for differences.
    let r = repair(
        &m,
        &state,
        &["--rate", "unlimited", "--recheck-after", "200ms"],
    );
    assert_eq!(r.code, 2, "{}", r.show());
    assert!(r.stderr.contains("nodes hold hints"), "{}", r.show());
    assert!(r.stderr.contains(": 10"), "{}", r.show());
    assert!(
        r.stderr.contains("cannot read the hints of"),
        "the dead node is named: {}",
        r.show()
    );
    // Once they are delivered, there is nothing to repair.
    m[2].node.as_mut().unwrap().restart();
    wait_for("the hints delivered", Duration::from_secs(30), || {
        (info(stats0)["hints"] == 0).then_some(())
    });
    let r = repair(
        &m,
        &state,
        &["--rate", "unlimited", "--recheck-after", "200ms", "--json"],
    );
    assert_eq!(r.code, 0, "{}", r.show());
    assert_eq!((r.num("keys"), r.num("differing")), (10, 0), "{}", r.show());
}

#[test]
fn repair_resumes_within_a_range_at_its_scan_cursor() {
    // One node per rack: the whole ring is one range, so a killed walk resumes from the
    // checkpoint within it.
    let m = three_racks("");
    let state = TempDir::new("repair-state");
    let state_file = state.path().join("repair.json");
    let p: Vec<u16> = m.iter().map(|x| x.redis.port).collect();
    for &port in &p {
        direct(port, &each("c:", 0..6000, &["SET", "{k}", "v"]));
    }
    direct(p[2], &each("c:", 0..300, &["DEL", "{k}"]));
    let args = ["--recheck-after", "200ms"];
    let child = repair_cmd(&m, &state, &[&args[..], &["--rate", "4000"]].concat())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut run1 = Proc { child: Some(child) };
    let cp = wait_for(
        "a checkpoint within the range",
        Duration::from_secs(20),
        || {
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&state_file).ok()?).ok()?;
            (!v["at"].is_null()).then_some(v)
        },
    );
    run1.kill();
    assert_eq!(cp["done"], serde_json::json!([]), "{cp}");
    let holds = |i: usize| Resp::connect(p[2]).cmd(&["EXISTS", &format!("c:{i}")]) == b":1\r\n";
    let restored = (0..300).filter(|&i| holds(i)).count();
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state_file).unwrap()).unwrap();

    let r = repair(
        &m,
        &state,
        &[&args[..], &["--resume", "--rate", "unlimited", "--json"]].concat(),
    );
    assert_eq!(r.code, 0, "{}", r.show());
    assert!(r.stderr.contains("resumed at rack"), "{}", r.show());
    assert_eq!(r.num("repaired"), (300 - restored) as u64, "{}", r.show());
    if v["at"]["rack"] == 0 {
        assert!(
            r.racks("scanned")[0] < 6000,
            "rack1's scan resumed: {}",
            r.show()
        );
    }
    assert_eq!((0..300).filter(|&i| holds(i)).count(), 300);
    let r = repair(
        &m,
        &state,
        &[&args[..], &["--rate", "unlimited", "--json"]].concat(),
    );
    assert_eq!((r.code, r.num("differing")), (0, 0), "{}", r.show());
}

/// The churn without `hints_dir` and with a small hint bound: a rack killed and
/// restarted under two writers misses the writes its coordinators could not keep (counted as
/// dropped); once the hints left are delivered, `dynoctl repair` gives it every one back.
#[test]
fn repair_restores_what_a_flapping_rack_lost_past_the_hint_bound() {
    let mut m = three_racks("  peer_down_after: 300\n  hints_max_per_peer: 1000\n");
    let stop = Arc::new(AtomicBool::new(false));
    let ports = [0usize, 2].map(|i| m[i].node.as_ref().unwrap().port);
    // Paced (at most 10,000 writes/s each): the load lasts as long as the churn.
    let writers = set_writers(&ports, "c", 100_000, Duration::from_millis(10), &stop);
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(300));
        m[1].node.as_mut().unwrap().proc.kill();
        std::thread::sleep(Duration::from_millis(600));
        m[1].node.as_mut().unwrap().restart();
    }
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    let acked: u64 = writers.into_iter().map(|w| w.join().unwrap() as u64).sum();
    let info = |i: usize| -> serde_json::Value {
        let port = m[i].node.as_ref().unwrap().stats_port;
        serde_json::from_str(&http_get(port, "/info").1).unwrap()
    };
    // The hints that were kept are delivered; the rest were counted as dropped.
    wait_for("hints delivered", Duration::from_secs(30), || {
        (info(0)["hints"] == 0 && info(2)["hints"] == 0).then_some(())
    });
    let dropped =
        info(0)["hints_dropped"].as_u64().unwrap() + info(2)["hints_dropped"].as_u64().unwrap();
    let rack2 = dbsize(m[1].redis.port);
    eprintln!("{acked} writes acknowledged, {dropped} hints dropped, rack2 holds {rack2}");
    assert!(
        dropped > 0,
        "the churn should overflow a bound of 1000 hints"
    );
    // Every missed write is a counted drop (a write applied just before a kill may be both
    // on rack2 and dropped as a hint).
    assert!(
        rack2 < acked && rack2 + dropped >= acked,
        "{rack2} + {dropped} vs {acked}"
    );
    let state = TempDir::new("repair");
    let args = ["--recheck-after", "200ms", "--rate", "unlimited", "--json"];
    let run = repair(&m, &state, &args);
    assert_eq!(run.code, 0, "{}", run.show());
    assert_eq!(run.num("repaired"), acked - rack2, "{}", run.show());
    for r in &m {
        assert_eq!(dbsize(r.redis.port), acked);
    }
}
