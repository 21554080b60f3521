//! Command table tests: Dynomite's §8.1 commands keep their class (with Part A's fixes), the
//! table is sorted and consistent, lookups are case-insensitive.

use super::*;
use Route::*;

const R: bool = false;
const W: bool = true;

/// SPEC Part B §8.1, every accepted command, with Part A's corrections: TTL and PFCOUNT are
/// reads; SUNIONSTORE, ZUNIONSTORE, ZINTERSTORE and `SORT` (which may STORE) are writes, as
/// redis-server flags them. PING is answered by the proxy (Part A).
const DYNOMITE: &[(&str, bool, Route)] = &[
    ("get", R, Normal),
    ("set", W, Normal),
    ("setnx", W, Normal),
    ("setex", W, Normal),
    ("psetex", W, Normal),
    ("setrange", W, Normal),
    ("setbit", W, Normal),
    ("getset", W, Normal),
    ("getrange", R, Normal),
    ("getbit", R, Normal),
    ("bitcount", R, Normal),
    ("append", W, Normal),
    ("strlen", R, Normal),
    ("incr", W, Normal),
    ("decr", W, Normal),
    ("incrby", W, Normal),
    ("decrby", W, Normal),
    ("incrbyfloat", W, Normal),
    ("mget", R, SplitArgx),
    ("mset", W, SplitKv),
    ("del", W, SplitArgx),
    ("exists", R, SplitArgx),
    ("unlink", W, SplitArgx),
    ("touch", R, SplitArgx),
    ("expire", W, Normal),
    ("expireat", W, Normal),
    ("pexpire", W, Normal),
    ("pexpireat", W, Normal),
    ("persist", W, Normal),
    ("ttl", R, Normal),
    ("pttl", R, Normal),
    ("type", R, Normal),
    ("dump", R, Normal),
    ("restore", W, Normal),
    ("sort", W, Normal),
    ("keys", R, LocalNodeOnly),
    ("scan", R, LocalNodeOnly),
    ("hget", R, Normal),
    ("hset", W, Normal),
    ("hsetnx", W, Normal),
    ("hmset", W, Normal),
    ("hmget", R, Normal),
    ("hdel", W, Normal),
    ("hexists", R, Normal),
    ("hlen", R, Normal),
    ("hincrby", W, Normal),
    ("hincrbyfloat", W, Normal),
    ("hgetall", R, OwnerLocalRackOnly),
    ("hkeys", R, OwnerLocalRackOnly),
    ("hvals", R, OwnerLocalRackOnly),
    ("hscan", R, OwnerLocalRackOnly),
    ("hstrlen", R, Normal),
    ("lpush", W, Normal),
    ("rpush", W, Normal),
    ("lpushx", W, Normal),
    ("rpushx", W, Normal),
    ("lpop", W, Normal),
    ("rpop", W, Normal),
    ("rpoplpush", W, Normal),
    ("lindex", R, Normal),
    ("linsert", W, Normal),
    ("llen", R, Normal),
    ("lrange", R, Normal),
    ("lrem", W, Normal),
    ("lset", W, Normal),
    ("ltrim", W, Normal),
    ("sadd", W, Normal),
    ("srem", W, Normal),
    ("scard", R, Normal),
    ("sismember", R, Normal),
    ("smembers", R, Normal),
    ("srandmember", R, Normal),
    ("spop", W, Normal),
    ("smove", W, Normal),
    ("sdiff", R, Normal),
    ("sinter", R, Normal),
    ("sunion", R, Normal),
    ("sdiffstore", W, Normal),
    ("sinterstore", W, Normal),
    ("sunionstore", W, Normal),
    ("sscan", R, OwnerLocalRackOnly),
    ("zadd", W, Normal),
    ("zrem", W, Normal),
    ("zincrby", W, Normal),
    ("zcard", R, Normal),
    ("zcount", R, Normal),
    ("zlexcount", R, Normal),
    ("zrange", R, Normal),
    ("zrevrange", R, Normal),
    ("zrangebyscore", R, Normal),
    ("zrevrangebyscore", R, Normal),
    ("zrangebylex", R, Normal),
    ("zrevrangebylex", R, Normal),
    ("zrank", R, Normal),
    ("zrevrank", R, Normal),
    ("zscore", R, Normal),
    ("zremrangebyrank", W, Normal),
    ("zremrangebyscore", W, Normal),
    ("zremrangebylex", W, Normal),
    ("zinterstore", W, Normal),
    ("zunionstore", W, Normal),
    ("zscan", R, OwnerLocalRackOnly),
    ("pfadd", W, Normal),
    ("pfcount", R, Normal),
    ("geoadd", W, Normal),
    ("geodist", R, Normal),
    ("geohash", R, Normal),
    ("geopos", R, Normal),
    // Flagged `write` by redis-server because of their STORE options.
    ("georadius", W, Normal),
    ("georadiusbymember", W, Normal),
    ("json.set", W, Normal),
    ("json.del", W, Normal),
    ("json.arrappend", W, Normal),
    ("json.arrinsert", W, Normal),
    ("json.get", R, Normal),
    ("json.type", R, Normal),
    ("json.mget", R, Normal),
    ("json.arrlen", R, Normal),
    ("json.objkeys", R, Normal),
    ("json.objlen", R, Normal),
    ("eval", W, Normal),
    ("evalsha", W, Normal),
    ("script|load", W, AllNodes),
    ("script|exists", R, AllNodes),
    ("script|flush", W, AllNodes),
    ("script|kill", W, AllNodes),
    ("ping", R, Proxy),
    ("info", R, LocalNodeOnly),
    ("config|get", R, LocalNodeOnly),
    ("slaveof", W, LocalNodeOnly),
    ("quit", R, Proxy),
    ("dyno_config:conn_consistency", R, Proxy),
];

fn get(name: &str) -> &'static CmdSpec {
    let found = match name.split_once('|') {
        Some((c, s)) => lookup_sub(c.as_bytes(), s.as_bytes()),
        None => lookup(name.as_bytes()),
    };
    found.unwrap_or_else(|| panic!("{name} is missing"))
}

#[test]
fn dynomite_commands_keep_their_class() {
    for &(name, write, route) in DYNOMITE {
        let s = get(name);
        assert_eq!(s.name, name);
        assert_eq!((s.write, s.route), (write, route), "{name}");
        assert!(s.id > 0 && spec(s.id) == s, "{name}");
    }
}

#[test]
fn part_a_decisions() {
    let cases: &[(&str, Route)] = &[
        ("echo", Proxy),
        ("select", Proxy),
        ("auth", Proxy),
        ("hello", Proxy),
        ("client|setinfo", Proxy),
        ("client|setname", Proxy),
        ("client|getname", Proxy),
        ("client|id", Proxy),
        ("client|info", Proxy),
        ("command", Proxy),
        ("command|count", Proxy),
        ("command|docs", Proxy),
        ("command|info", Proxy),
        ("dbsize", LocalNodeOnly),
        ("randomkey", LocalNodeOnly),
        ("time", LocalNodeOnly),
        ("blpop", Unsupported),
        ("brpoplpush", Unsupported),
        ("bzpopmin", Unsupported),
        ("blmpop", Unsupported),
        ("xread", Unsupported),
        ("subscribe", Unsupported),
        ("psubscribe", Unsupported),
        ("publish", Unsupported),
        ("pubsub|channels", Unsupported),
        ("ssubscribe", Unsupported),
        ("multi", Unsupported),
        ("exec", Unsupported),
        ("discard", Unsupported),
        ("watch", Unsupported),
        ("unwatch", Unsupported),
        ("wait", Unsupported),
        ("waitaof", Unsupported),
        ("cluster|info", Unsupported),
        ("replicaof", Unsupported),
        ("sync", Unsupported),
        ("psync", Unsupported),
        ("monitor", Unsupported),
        ("shutdown", Unsupported),
        ("debug", Unsupported),
        // Refused unless the config allows them (decided by the router at run time).
        ("flushall", Flush),
        ("flushdb", Flush),
        ("swapdb", Unsupported),
        ("move", Unsupported),
        ("migrate", Unsupported),
        ("client|kill", Unsupported),
        ("client|pause", Unsupported),
        ("client|list", Unsupported),
        ("config|set", Unsupported),
        ("object|encoding", Normal),
        ("getdel", Normal),
        ("getex", Normal),
        ("smismember", Normal),
        ("lmpop", Normal),
        ("eval_ro", Normal),
        ("fcall", Normal),
        ("function|load", AllNodes),
    ];
    for &(name, route) in cases {
        assert_eq!(get(name).route, route, "{name}");
    }
    assert!(get("getdel").write && get("fcall").write && !get("eval_ro").write);
    assert!(!get("fcall_ro").write);
}

#[test]
fn lookup_is_case_insensitive_and_strict() {
    assert_eq!(lookup(b"GeT").map(|s| s.name), Some("get"));
    assert_eq!(
        lookup(b"DYNO_CONFIG:CONN_CONSISTENCY").map(|s| s.name),
        Some("dyno_config:conn_consistency")
    );
    assert_eq!(
        lookup_sub(b"Config", b"GET").map(|s| s.name),
        Some("config|get")
    );
    assert_eq!(
        lookup_sub(b"CLIENT", b"SetInfo").map(|s| s.name),
        Some("client|setinfo")
    );
    assert!(lookup(b"config|get").is_none());
    assert!(lookup(b"nope").is_none());
    assert!(lookup(b"").is_none());
    assert!(lookup(&[b'a'; 100]).is_none());
    assert!(lookup_sub(b"get", b"x").is_none());
    assert!(lookup_sub(b"config", b"get|x").is_none());
    assert_eq!(spec(0).name, "");
    assert_eq!(spec(u16::MAX).name, "");
}

#[test]
fn table_is_sorted_and_consistent() {
    let generated = &SPECS[1..=N_GEN];
    for w in generated.windows(2) {
        assert!(
            w[0].name.as_bytes() < w[1].name.as_bytes(),
            "{} {}",
            w[0].name,
            w[1].name
        );
    }
    for (i, s) in SPECS.iter().enumerate() {
        assert_eq!(usize::from(s.id), i);
        if i == 0 {
            continue;
        }
        assert!(s.name.len() <= 2 * NAME_MAX + 1, "{}", s.name);
        assert_eq!(s.name, s.name.to_ascii_lowercase());
        assert!(s.arity != 0, "{}", s.name);
        // Inline requests trim open-ended key ranges at the line end; that needs no numkeys.
        assert!(!(s.last_key < 0 && s.keynum_arg > 0), "{}", s.name);
        if s.first_key > 0 {
            assert!(s.last_key != 0 && s.step > 0, "{}", s.name);
        }
        // Keys of a subcommand come after it.
        if s.name.contains('|') {
            assert!(s.first_key == 0 || s.first_key >= 2, "{}", s.name);
            assert!(s.keynum_arg == 0 || s.keynum_arg >= 2, "{}", s.name);
            let (c, sub) = s.name.split_once('|').unwrap();
            assert!(c.len() <= NAME_MAX && sub.len() <= NAME_MAX);
            assert!(
                lookup(c.as_bytes()).is_some_and(CmdSpec::is_container),
                "{}",
                s.name
            );
        } else {
            assert!(s.name.len() <= NAME_MAX);
            assert_eq!(lookup(s.name.as_bytes()), Some(s));
        }
        assert!(get(s.name) == s, "{}", s.name);
    }
    assert!(table_version().starts_with('7'));
}

/// Prints the routing classes (run with `--nocapture` when reviewing the table).
#[test]
fn dump_routes() {
    for s in all() {
        if s.route != Normal {
            println!("{:<32} {:?} write={}", s.name, s.route, s.write);
        }
    }
}

/// Reference lookups: a linear scan with the documented rules (Redis's `strcasecmp`, no `|`
/// in a name or subcommand, names up to NAME_MAX).
fn naive_lookup(name: &[u8]) -> Option<&'static CmdSpec> {
    if name.len() > NAME_MAX || name.contains(&b'|') {
        return None;
    }
    all()
        .iter()
        .find(|s| s.name.as_bytes().eq_ignore_ascii_case(name))
}

fn naive_lookup_sub(name: &[u8], sub: &[u8]) -> Option<&'static CmdSpec> {
    if name.len() > NAME_MAX || sub.len() > NAME_MAX || name.contains(&b'|') || sub.contains(&b'|')
    {
        return None;
    }
    let mut full = name.to_vec();
    full.push(b'|');
    full.extend_from_slice(sub);
    all()
        .iter()
        .find(|s| s.name.as_bytes().eq_ignore_ascii_case(&full))
}

#[test]
fn lower8_is_to_ascii_lowercase() {
    for b in 0..=255u8 {
        for pos in 0..8 {
            // The byte among neighbours that could disturb a carry.
            for fill in [0x00u8, 0x40, 0x5a, 0x7f, 0x80, 0xff] {
                let mut w = [fill; 8];
                w[pos] = b;
                let got = lower8(u64::from_le_bytes(w)).to_le_bytes();
                let want = w.map(|c| c.to_ascii_lowercase());
                assert_eq!(got, want, "{b:#x} at {pos} among {fill:#x}");
            }
        }
    }
}

#[test]
fn lookup_matches_a_linear_scan() {
    let mut names: Vec<Vec<u8>> = Vec::new();
    for s in all() {
        let n = s.name.as_bytes();
        names.push(n.to_vec());
        names.push(n.to_ascii_uppercase());
        // Mixed case, a byte more, a byte less, a NUL or a non-ASCII byte at the end.
        names.push(
            n.iter()
                .enumerate()
                .map(|(i, c)| {
                    if i % 2 == 0 {
                        c.to_ascii_uppercase()
                    } else {
                        *c
                    }
                })
                .collect(),
        );
        for extra in [b"x" as &[u8], b"\0", b"\xc1", b"|", b" "] {
            let mut m = n.to_vec();
            m.extend_from_slice(extra);
            names.push(m);
        }
        names.push(n[..n.len() - 1].to_vec());
        // Case folding is ASCII only: 'A' + 0x80 is not 'a' + 0x80.
        names.push(n.iter().map(|c| c | 0x80).collect());
    }
    for len in 0..=40 {
        names.push(vec![b'a'; len]);
        names.push(vec![b'@'; len]);
        names.push(vec![b'['; len]);
    }
    for name in &names {
        assert_eq!(
            lookup(name),
            naive_lookup(name),
            "{:?}",
            String::from_utf8_lossy(name)
        );
        let mut buf = [0xAAu8; NAME_MAX];
        if name.len() <= NAME_MAX {
            buf[..name.len()].copy_from_slice(name);
            assert_eq!(lookup_buf(&buf, name.len()), naive_lookup(name));
        }
        if let Some(p) = name.iter().position(|&c| c == b'|') {
            let (c, s) = (&name[..p], &name[p + 1..]);
            assert_eq!(lookup_sub(c, s), naive_lookup_sub(c, s), "{c:?} {s:?}");
        }
        for c in [b"config" as &[u8], b"CLIENT", b"get", b"x"] {
            assert_eq!(lookup_sub(c, name), naive_lookup_sub(c, name));
        }
    }
}
