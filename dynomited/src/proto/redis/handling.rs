//! How dynomited handles each Redis command through a cluster. One classification, used by
//! the router (`core/route.rs`) and written out as the conformance table (`COMMANDS.md` at the
//! root of the repository, one row a command), so the table and the code cannot disagree: a
//! test fails when the checked-in table is not what this module writes.
//!
//! ```text
//!   CmdSpec (route, flags, key positions) ─► handling() ─► Proxy │ Refused(why) │ Local
//!                                                         │ Keyspace(..) │ Broadcast
//!                                                         │ Split(..) │ ByKey { .. }
//! ```

use super::commands::{cmd, CmdSpec, Route};
use super::flags;

/// A keyspace command that a sharded rack answers from every node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keyspace {
    Keys,
    Dbsize,
    RandomKey,
    /// Walks the nodes one after the other.
    Scan,
    /// INFO: this node's, with the rack's keyspace section (when it is asked for).
    Info,
}

/// How a multi-key command's fragments are combined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Splitting {
    /// MGET: the values in key order.
    Mget,
    /// DEL, EXISTS, UNLINK, TOUCH: the sum of the counts.
    Sum,
    /// MSET: `+OK` when every fragment said so.
    Ok,
    /// memcached get/gets: the hits in key order, one `END`.
    McGet,
}

/// What happens to a command sent through a dynomited node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handling {
    /// Answered by the proxy itself.
    Proxy,
    /// Refused before anything runs: `-ERR unsupported command`, for this reason.
    Refused(&'static str),
    /// Run on this node's datastore (reads that name no key: INFO, TIME, ...).
    Local,
    /// On a rack of several nodes, run on every node of the rack and combined.
    Keyspace(Keyspace),
    /// Sent to every node of every rack and DC; this node's datastore answers.
    Broadcast,
    /// FLUSHDB / FLUSHALL: refused unless the config says `allow_flush: true`; then as
    /// `Broadcast` (a typo must not empty every rack).
    Flush,
    /// Split per owner, combined in key order.
    Split(Splitting),
    /// By key: the owner in each rack (a write is replicated to every rack). A command that
    /// may name several keys (`multi`) is refused with CROSSSLOT when they live on
    /// different nodes (a `script`: Dynomite's error). `quorum`: the consistency level
    /// applies (false: the local rack's owner answers, as Dynomite routes big replies).
    ByKey {
        multi: bool,
        script: bool,
        quorum: bool,
    },
}

/// Whether a command may name more than one key.
fn multi_key(s: &CmdSpec) -> bool {
    s.keynum_arg > 0 || (s.first_key > 0 && s.last_key != s.first_key)
}

/// The handling of one command, from a table built once (the router asks per request).
pub fn handling(s: &CmdSpec) -> Handling {
    static TABLE: std::sync::OnceLock<Vec<Handling>> = std::sync::OnceLock::new();
    let t = TABLE.get_or_init(|| {
        let all = super::commands::all();
        let max = all.iter().map(|s| s.id as usize).max().unwrap_or(0);
        let mut t = vec![Handling::Refused("no such command"); max + 1];
        for s in all {
            t[s.id as usize] = classify(s);
        }
        t
    });
    t.get(s.id as usize).copied().unwrap_or_else(|| classify(s))
}

/// The handling of one command, worked out.
fn classify(s: &CmdSpec) -> Handling {
    match s.route {
        Route::Proxy if matches!(s.id, cmd::COMMAND | cmd::COMMAND_COUNT) => Handling::Local,
        Route::Proxy if matches!(s.id, cmd::COMMAND_DOCS | cmd::COMMAND_INFO) => Handling::Local,
        Route::Proxy => Handling::Proxy,
        Route::Flush => Handling::Flush,
        Route::Unsupported => Handling::Refused(refusal(s)),
        Route::LocalNodeOnly => match s.id {
            cmd::KEYS => Handling::Keyspace(Keyspace::Keys),
            cmd::DBSIZE => Handling::Keyspace(Keyspace::Dbsize),
            cmd::RANDOMKEY => Handling::Keyspace(Keyspace::RandomKey),
            cmd::SCAN => Handling::Keyspace(Keyspace::Scan),
            cmd::INFO => Handling::Keyspace(Keyspace::Info),
            _ => Handling::Local,
        },
        Route::AllNodes => Handling::Broadcast,
        Route::SplitArgx | Route::SplitKv => Handling::Split(match s.id {
            cmd::MGET => Splitting::Mget,
            cmd::MSET => Splitting::Ok,
            _ => Splitting::Sum,
        }),
        Route::Normal | Route::OwnerLocalRackOnly => Handling::ByKey {
            multi: multi_key(s),
            script: matches!(
                s.id,
                cmd::EVAL
                    | cmd::EVALSHA
                    | cmd::EVAL_RO
                    | cmd::EVALSHA_RO
                    | cmd::FCALL
                    | cmd::FCALL_RO
            ),
            quorum: s.route == Route::Normal,
        },
    }
}

/// Why a command cannot run through a sharding proxy.
fn refusal(s: &CmdSpec) -> &'static str {
    let name = s.name;
    let container = name.split('|').next().unwrap_or(name);
    match container {
        "multi" | "exec" | "discard" | "watch" | "unwatch" => "a transaction",
        "subscribe" | "unsubscribe" | "psubscribe" | "punsubscribe" | "ssubscribe"
        | "sunsubscribe" | "publish" | "spublish" | "pubsub" => "Pub/Sub",
        "cluster" | "readonly" | "readwrite" | "asking" => "the Redis Cluster protocol",
        "client" => "the state of one datastore connection",
        "config" => "it would change one node's datastore only",
        "flushall" | "flushdb" | "swapdb" => "it would empty or swap one node's data only",
        "acl" => "the proxy has its own authentication",
        "wait" | "waitaof" => "it counts the replicas of one datastore connection",
        "reset" => "connection state the proxy does not track",
        "move" | "migrate" => "other databases and hosts are not served through the proxy",
        "script" => "it switches the connection into a debugging session",
        "replicaof" | "sync" | "psync" | "replconf" | "failover" | "monitor" | "shutdown"
        | "debug" => "replication or server administration of one node",
        _ if s.flags & flags::BLOCKING != 0 => "a blocking command",
        _ if s.flags & flags::PUBSUB != 0 => "Pub/Sub",
        _ if s.flags & flags::ADMIN != 0 => "server administration of one node",
        _ if s.flags & flags::WRITE != 0 => "a write that names no key would change one node only",
        _ => "it cannot run through a sharding proxy",
    }
}

/// What the conformance table says of a handling.
fn describe(h: Handling) -> String {
    match h {
        Handling::Proxy => "answered by the proxy".into(),
        Handling::Refused(why) => format!("refused: {why}"),
        Handling::Local => "this node's datastore".into(),
        Handling::Keyspace(Keyspace::Scan) => {
            "every node of the rack, one after the other (the cursor names the node)".into()
        }
        Handling::Keyspace(Keyspace::Info) => {
            "this node's datastore; its keyspace section summed over every node of the rack".into()
        }
        Handling::Keyspace(k) => format!(
            "every node of the rack, {}",
            match k {
                Keyspace::Keys => "the union",
                Keyspace::Dbsize => "the sum",
                _ => "a key from one node",
            }
        ),
        Handling::Broadcast => "every node of every rack; this node answers".into(),
        Handling::Flush => {
            "refused unless `allow_flush: true`; then every node of every rack; this node answers"
                .into()
        }
        Handling::Split(s) => format!(
            "split per owner, {}",
            match s {
                Splitting::Mget => "values in key order",
                Splitting::Sum => "the counts summed",
                Splitting::Ok => "OK when every part is",
                Splitting::McGet => "the hits in key order",
            }
        ),
        Handling::ByKey {
            multi,
            script,
            quorum,
        } => {
            let mut d = String::from("by key: its owner");
            if !quorum {
                d += " in the local rack, never a quorum";
            }
            match (multi, script) {
                (true, true) => d += "; keys on one node, else Dynomite's error",
                (true, false) => d += "; keys on one node, else refused (CROSSSLOT)",
                _ => {}
            }
            d
        }
    }
}

/// The conformance table: every command of the table, one row each, in markdown.
pub fn conformance_table() -> String {
    let mut out = String::from(
        "# Redis commands through dynomited\n\n\
         How a dynomited node handles every command of its table (Redis 7, plus RedisJSON and\n\
         Dynomite's own), through a cluster of any shape. Generated from the command table\n\
         (`dynomited/src/proto/redis/handling.rs`): `UPDATE_GENERATED=1 cargo test -p dynomited\n\
         --lib conformance` rewrites it, and that test fails when this file and the code\n\
         disagree. \"By key\" commands run on the key's owner in each rack (writes are\n\
         replicated to every rack and DC); \"refused\" commands get an error before anything\n\
         runs.\n\n\
         | command | writes | through a cluster |\n\
         |---|---|---|\n",
    );
    let mut specs: Vec<&CmdSpec> = super::commands::all().iter().collect();
    specs.sort_by_key(|s| s.name);
    for s in specs {
        let name = s.name.replace('|', " ");
        let write = if s.write { "yes" } else { "" };
        let mut how = describe(handling(s));
        if super::absolute::may_expire(s.id, usize::MAX) {
            how += "; a relative expiry is replicated as an absolute one";
        }
        if super::absolute::may_trim(s.id) {
            how += "; `MAXLEN|MINID ~` trimming is replicated exact (`=`)";
        }
        match s.id {
            cmd::SPOP => how += "; runs once (DC_ONE), replicated as SREM of what it popped",
            cmd::XADD => how += "; with `*`, runs once (DC_ONE), replicated with the ID chosen",
            cmd::EVAL | cmd::FUNCTION_LOAD => {
                how += "; with several racks, refused when the script calls a command whose \
                        result each datastore chooses (`SPOP`, `SRANDMEMBER`, `TIME`, `XADD`, \
                        ...)"
            }
            _ => {}
        }
        out += &format!("| `{name}` | {write} | {how} |\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::redis::lookup;

    fn of(name: &str) -> Handling {
        handling(lookup(name.as_bytes()).unwrap())
    }

    #[test]
    fn families() {
        assert_eq!(of("ping"), Handling::Proxy);
        assert_eq!(
            of("get"),
            Handling::ByKey {
                multi: false,
                script: false,
                quorum: true
            }
        );
        assert_eq!(
            of("sunionstore"),
            Handling::ByKey {
                multi: true,
                script: false,
                quorum: true
            }
        );
        assert_eq!(
            of("msetnx"),
            Handling::ByKey {
                multi: true,
                script: false,
                quorum: true
            }
        );
        assert_eq!(
            of("eval"),
            Handling::ByKey {
                multi: true,
                script: true,
                quorum: true
            }
        );
        assert_eq!(
            of("hgetall"),
            Handling::ByKey {
                multi: false,
                script: false,
                quorum: false
            }
        );
        assert_eq!(of("mget"), Handling::Split(Splitting::Mget));
        assert_eq!(of("keys"), Handling::Keyspace(Keyspace::Keys));
        assert_eq!(of("scan"), Handling::Keyspace(Keyspace::Scan));
        assert_eq!(of("info"), Handling::Keyspace(Keyspace::Info));
        assert_eq!(of("command"), Handling::Local);
        assert_eq!(of("blpop"), Handling::Refused("a blocking command"));
        assert_eq!(of("multi"), Handling::Refused("a transaction"));
        assert_eq!(of("flushall"), Handling::Flush);
        assert_eq!(
            of("swapdb"),
            Handling::Refused("it would empty or swap one node's data only")
        );
    }

    #[test]
    fn conformance_table_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../COMMANDS.md");
        crate::cli::check_generated(&path, conformance_table().as_bytes()).unwrap();
    }
}
