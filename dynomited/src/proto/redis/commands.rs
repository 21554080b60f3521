//! The Redis command table: generated facts (`commands_gen.rs`) plus Dynomite's routing classes
//! and our decisions, built at compile time into one static table.
//!
//! ```text
//!   redis-server 7 `COMMAND` ──gen_commands.py──► commands_gen.rs  (arity, flags, key positions)
//!                                                        │
//!   this file: EXTRA commands (not in that server) ──────┤  route_for(): explicit ROUTES,
//!              route / write decisions ──────────────────┘  then a rule on the flags
//!                                                        ▼
//!                                   SPECS: [CmdSpec] (id = index; 0 = none)
//! ```
//!
//! Lookup never allocates: the name, lower-cased into a fixed 32-byte key (zero-padded, its
//! length in the last byte), is hashed to probe an open-addressing index built at compile time,
//! then one fixed-size comparison with the entry's precomputed key confirms it.

use super::commands_gen::{GenCmd, GEN, REDIS_VERSION};
use crate::proto::NAME_MAX;

pub use super::commands_gen::flags;

/// How Dynomite routes a command (SPEC §4.1), plus what the proxy answers itself or refuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Route {
    /// By the (first) key to its token owner, replicated per consistency if a write.
    Normal,
    /// The local node's datastore only (keyspace-wide reads, `INFO`, `CONFIG GET`, `SLAVEOF`).
    LocalNodeOnly,
    /// The key's owner in the local rack only, never quorum (`HGETALL`, `HSCAN`, ...).
    OwnerLocalRackOnly,
    /// Every node of every rack and DC; the client gets the local node's reply (`SCRIPT LOAD`).
    AllNodes,
    /// Split into one unit per key (`MGET DEL EXISTS UNLINK TOUCH`), SPEC §8.2.
    SplitArgx,
    /// Split into one unit per key/value pair (`MSET`), SPEC §8.2.
    SplitKv,
    /// Answered by the proxy itself (`PING ECHO QUIT SELECT AUTH HELLO`, `CLIENT SETNAME`, ...).
    Proxy,
    /// Cannot work through a sharding proxy; answered with `-ERR unsupported command ...`.
    Unsupported,
    /// FLUSHDB / FLUSHALL: refused as `Unsupported` unless the config has `allow_flush: true`
    /// (decided at run time, so the parser lets them through).
    Flush,
}

/// Everything the proxy knows about one command or subcommand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CmdSpec {
    /// Index in the table, stored in `ReqInfo::cmd`; 0 = no command.
    pub id: u16,
    /// Lower case; subcommands as `container|sub` (Redis's own "full name").
    pub name: &'static str,
    /// Redis arity: positive = exact argument count (name included), negative = minimum.
    pub arity: i16,
    /// Bits of [`flags`].
    pub flags: u32,
    /// Positional keys: first index, last index (negative = from the end), step; 0 = none.
    pub first_key: i16,
    pub last_key: i16,
    pub step: i16,
    /// Index of a `numkeys` argument (EVAL: 2); the keys are the numkeys arguments after it.
    pub keynum_arg: i16,
    pub route: Route,
    /// Whether the command modifies data (replicated as a write).
    pub write: bool,
}

impl CmdSpec {
    /// Whether `nargs` arguments (name included) satisfy the arity.
    pub fn arity_ok(&self, nargs: u32) -> bool {
        let a = i64::from(self.arity);
        let n = i64::from(nargs);
        if a >= 0 {
            n == a
        } else {
            n >= -a
        }
    }

    /// Whether the command has subcommands (argument 1 selects the real command).
    pub fn is_container(&self) -> bool {
        self.flags & flags::CONTAINER != 0
    }
}

/// Commands that are not in the table generated from redis-server 7.0: newer Redis (7.2), the
/// RedisJSON commands Dynomite routed (SPEC §8.1), and Dynomite's own pseudo-command (§8.4).
const EXTRA: [GenCmd; 15] = {
    use flags::*;
    const fn c(name: &'static str, arity: i16, flags: u32, first: i16, last: i16) -> GenCmd {
        let step = if first > 0 { 1 } else { 0 };
        GenCmd {
            name,
            arity,
            flags,
            first_key: first,
            last_key: last,
            step,
            keynum_arg: 0,
        }
    }
    [
        c("client|setinfo", 4, NOSCRIPT | LOADING | STALE, 0, 0),
        c("client|no-touch", 3, NOSCRIPT | LOADING | STALE, 0, 0),
        c("waitaof", 4, NOSCRIPT, 0, 0),
        c(
            "dyno_config:conn_consistency",
            2,
            FAST | LOADING | STALE,
            0,
            0,
        ),
        c("json.set", -4, MODULE | WRITE | DENYOOM, 1, 1),
        c("json.del", -2, MODULE | WRITE, 1, 1),
        c("json.arrappend", -4, MODULE | WRITE | DENYOOM, 1, 1),
        c("json.arrinsert", -5, MODULE | WRITE | DENYOOM, 1, 1),
        c("json.get", -2, MODULE | READONLY, 1, 1),
        c("json.type", -2, MODULE | READONLY, 1, 1),
        c("json.mget", -3, MODULE | READONLY, 1, -2),
        c("json.arrlen", -2, MODULE | READONLY, 1, 1),
        c("json.objkeys", -2, MODULE | READONLY, 1, 1),
        c("json.objlen", -2, MODULE | READONLY, 1, 1),
        c("json.resp", -2, MODULE | READONLY, 1, 1),
    ]
};

/// Explicit routing decisions. A name ending in `|` covers every subcommand of that container
/// not listed by its full name. Everything else follows [`route_for`]'s rule on the flags.
const ROUTES: &[(&str, Route)] = {
    use Route::*;
    &[
        // Answered by the proxy: what frameworks send on connect, and Dynomite's own command.
        ("ping", Proxy),
        ("echo", Proxy),
        ("quit", Proxy),
        ("select", Proxy),
        ("auth", Proxy),
        ("hello", Proxy),
        ("client|setinfo", Proxy),
        ("client|setname", Proxy),
        ("client|getname", Proxy),
        ("client|id", Proxy),
        ("client|info", Proxy),
        ("client|", Unsupported), // KILL, PAUSE, LIST, TRACKING, REPLY ...: per-backend state
        ("command", Proxy),
        ("command|count", Proxy),
        ("command|docs", Proxy),
        ("command|info", Proxy),
        ("command|list", LocalNodeOnly),
        ("command|getkeys", LocalNodeOnly),
        ("command|getkeysandflags", LocalNodeOnly),
        ("command|help", LocalNodeOnly),
        ("dyno_config:conn_consistency", Proxy),
        // Dynomite's local-node-only reads (§4.1) and the keyspace-wide ones (Part A).
        ("info", LocalNodeOnly),
        ("keys", LocalNodeOnly),
        ("scan", LocalNodeOnly),
        ("dbsize", LocalNodeOnly),
        ("randomkey", LocalNodeOnly),
        ("config|get", LocalNodeOnly),
        ("config|help", LocalNodeOnly),
        ("config|", Unsupported), // SET / REWRITE / RESETSTAT would change one node only
        ("slaveof", LocalNodeOnly), // Dynomite routes it so; the warm-up uses it (§10.2)
        // Token owner in the local rack only (§4.1): big or cursor-based replies, never quorum.
        ("hgetall", OwnerLocalRackOnly),
        ("hkeys", OwnerLocalRackOnly),
        ("hvals", OwnerLocalRackOnly),
        ("hscan", OwnerLocalRackOnly),
        ("sscan", OwnerLocalRackOnly),
        ("zscan", OwnerLocalRackOnly),
        // Broadcast so script and function caches stay identical on every node (§8.3).
        ("script|load", AllNodes),
        ("script|exists", AllNodes),
        ("script|flush", AllNodes),
        ("script|kill", AllNodes),
        ("script|debug", Unsupported), // switches the connection into a debugging session
        ("function|load", AllNodes),
        ("function|delete", AllNodes),
        ("function|flush", AllNodes),
        ("function|restore", AllNodes),
        ("function|kill", AllNodes),
        // Multi-key commands split per key (§8.2).
        ("mget", SplitArgx),
        ("del", SplitArgx),
        ("exists", SplitArgx),
        ("unlink", SplitArgx),
        ("touch", SplitArgx),
        ("mset", SplitKv),
        // Connection-state and server-wide commands that cannot work through a sharding proxy.
        ("multi", Unsupported), // transactions: the keys may live on several nodes
        ("exec", Unsupported),
        ("discard", Unsupported),
        ("watch", Unsupported),
        ("unwatch", Unsupported),
        ("wait", Unsupported), // counts replicas of one backend connection
        ("waitaof", Unsupported),
        ("reset", Unsupported), // resets proxy-side connection state we do not track
        ("cluster", Unsupported),
        ("cluster|", Unsupported),
        ("readonly", Unsupported), // Redis Cluster client protocol
        ("readwrite", Unsupported),
        ("asking", Unsupported),
        ("replicaof", Unsupported), // replication admin; only SLAVEOF is routed, as Dynomite does
        ("sync", Unsupported),
        ("psync", Unsupported),
        ("replconf", Unsupported),
        ("failover", Unsupported),
        ("monitor", Unsupported),
        ("shutdown", Unsupported),
        ("debug", Unsupported),
        // FLUSHALL / FLUSHDB would empty only the one node the proxy happens to pick, leaving the
        // other replicas full: a silent inconsistency. Operators flush each datastore directly.
        ("flushall", Flush),
        ("flushdb", Flush),
        ("swapdb", Unsupported), // keyspace-wide; would swap on one node only
        ("move", Unsupported),   // other databases are not sharded through the proxy
        ("migrate", Unsupported),
        ("acl", Unsupported),
        ("acl|", Unsupported), // the proxy has its own authentication
    ]
};

/// Commands that are writes although Redis does not flag them `write`: scripts may write and
/// must be replicated like writes (§8.3), and Dynomite's table marks these as writes.
const WRITES: &[&str] = &[
    "eval",
    "evalsha",
    "fcall",
    "script|load",
    "script|flush",
    "script|kill",
    "function|kill",
    "slaveof",
];

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// `prefix` ends in `|` and `name` is a subcommand of that container.
const fn is_sub_of(name: &str, prefix: &str) -> bool {
    let (n, p) = (name.as_bytes(), prefix.as_bytes());
    if p.is_empty() || p[p.len() - 1] != b'|' || n.len() <= p.len() {
        return false;
    }
    let mut i = 0;
    while i < p.len() {
        if n[i] != p[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The route of one command: an explicit decision from [`ROUTES`], else a rule on its flags.
const fn route_for(c: &GenCmd) -> Route {
    let mut i = 0;
    while i < ROUTES.len() {
        if str_eq(c.name, ROUTES[i].0) {
            return ROUTES[i].1;
        }
        i += 1;
    }
    let mut i = 0;
    while i < ROUTES.len() {
        if is_sub_of(c.name, ROUTES[i].0) {
            return ROUTES[i].1;
        }
        i += 1;
    }
    let f = c.flags;
    if f & (flags::BLOCKING | flags::PUBSUB | flags::ADMIN) != 0 {
        // Blocking pops/streams, pub/sub, and server administration acting on one node.
        Route::Unsupported
    } else if c.first_key > 0 || c.keynum_arg > 0 {
        Route::Normal
    } else if f & flags::WRITE != 0 {
        // A keyless write would change one arbitrary node only.
        Route::Unsupported
    } else {
        // Keyless reads (TIME, LASTSAVE, ROLE, MEMORY STATS, ...): the local datastore answers.
        Route::LocalNodeOnly
    }
}

const fn write_for(c: &GenCmd) -> bool {
    if c.flags & flags::WRITE != 0 {
        return true;
    }
    let mut i = 0;
    while i < WRITES.len() {
        if str_eq(c.name, WRITES[i]) {
            return true;
        }
        i += 1;
    }
    false
}

const N_GEN: usize = GEN.len();
const N_SPECS: usize = 1 + N_GEN + EXTRA.len();

const NONE: CmdSpec = CmdSpec {
    id: 0,
    name: "",
    arity: 0,
    flags: 0,
    first_key: 0,
    last_key: 0,
    step: 0,
    keynum_arg: 0,
    route: Route::Unsupported,
    write: false,
};

const fn build() -> [CmdSpec; N_SPECS] {
    let mut out = [NONE; N_SPECS];
    let mut i = 1;
    while i < N_SPECS {
        let c = if i <= N_GEN {
            &GEN[i - 1]
        } else {
            &EXTRA[i - 1 - N_GEN]
        };
        out[i] = CmdSpec {
            id: i as u16,
            name: c.name,
            arity: c.arity,
            flags: c.flags,
            first_key: c.first_key,
            last_key: c.last_key,
            step: c.step,
            keynum_arg: c.keynum_arg,
            route: route_for(c),
            write: write_for(c),
        };
        i += 1;
    }
    out
}

const TABLE: [CmdSpec; N_SPECS] = build();

/// The whole table: `SPECS[0]` is "no command", then the generated rows (sorted), then EXTRA.
static SPECS: [CmdSpec; N_SPECS] = TABLE;

/// Lookup keys: a name lower-cased into `KEY_W` bytes (as four little-endian words),
/// zero-padded, its length in the last byte. Equal keys mean equal names (case-insensitively),
/// so one fixed-size comparison confirms a probe. Every name in the table must fit
/// (`KEY_W - 1` bytes, checked at compile time).
const KEY_W: usize = 32;
type Key = [u64; KEY_W / 8];

/// Open-addressing hash index over `SPECS` (ids; 0 = empty slot), built at compile time.
/// Its load stays under 1/2, so a probe sequence always reaches an empty slot quickly.
const INDEX_SIZE: usize = 1024;
const INDEX_MASK: usize = INDEX_SIZE - 1;
static INDEX: [u16; INDEX_SIZE] = build_index();
const _: () = assert!(2 * N_SPECS <= INDEX_SIZE, "grow INDEX_SIZE");

/// `SPECS[id]`'s key.
static KEYS: [Key; N_SPECS] = build_keys();
/// Where `SPECS[id]`'s name has its `|` (a subcommand: `container|sub`); 0 = none.
static PIPE: [u8; N_SPECS] = build_pipes();

const ONES: u64 = 0x0101_0101_0101_0101;

/// Eight bytes lower-cased at once, exactly as `u8::to_ascii_lowercase` does each: bytes
/// `A..=Z` get bit 0x20, every other byte (>= 0x80 included) is unchanged.
#[inline(always)]
const fn lower8(w: u64) -> u64 {
    let low7 = w & (0x7f * ONES);
    // Bit 7 of each byte: its low 7 bits are >= 'A' / > 'Z' (no carry crosses bytes).
    let ge_a = low7 + (0x80 - b'A' as u64) * ONES;
    let gt_z = low7 + (0x80 - b'Z' as u64 - 1) * ONES;
    let upper = ge_a & !gt_z & !w & (0x80 * ONES);
    w | (upper >> 2)
}

/// The key of the name made of the first `len` bytes of `buf` (the rest is ignored).
/// `len` must be below `KEY_W`.
#[inline(always)]
fn key_of(buf: &[u8; KEY_W], len: usize) -> Key {
    let word = |w: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&buf[8 * w..8 * w + 8]);
        lower8(u64::from_le_bytes(b))
    };
    let len = len.min(KEY_W - 1);
    let mut k = [0u64; KEY_W / 8];
    // Whole words of the name, then the part of the last one that belongs to it.
    let full = len / 8;
    for (w, kw) in k.iter_mut().enumerate().take(full) {
        *kw = word(w);
    }
    let rem = len % 8;
    if rem != 0 {
        k[full] = word(full) & ((1u64 << (8 * rem)) - 1);
    }
    k[KEY_W / 8 - 1] |= (len as u64) << 56;
    k
}

/// The index slot a key's probe sequence starts at.
#[inline(always)]
const fn slot_of(k: &Key) -> usize {
    let h = k[0] ^ k[1].rotate_left(21) ^ k[2].rotate_left(42) ^ k[3].rotate_left(7);
    (h.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 54) as usize & INDEX_MASK
}

const fn build_keys() -> [Key; N_SPECS] {
    let mut keys = [[0u64; KEY_W / 8]; N_SPECS];
    let mut id = 1;
    while id < N_SPECS {
        let name = TABLE[id].name.as_bytes();
        assert!(
            name.len() < KEY_W,
            "a command name does not fit KEY_W: grow it"
        );
        let mut i = 0;
        let mut pipes = 0;
        while i < name.len() {
            assert!(
                name[i].to_ascii_lowercase() == name[i],
                "table names are lower case"
            );
            if name[i] == b'|' {
                pipes += 1;
            }
            keys[id][i / 8] |= (name[i] as u64) << (8 * (i % 8));
            i += 1;
        }
        assert!(pipes <= 1, "at most one `|` in a name");
        keys[id][KEY_W / 8 - 1] |= (name.len() as u64) << 56;
        id += 1;
    }
    keys
}

const fn build_pipes() -> [u8; N_SPECS] {
    let mut pipes = [0u8; N_SPECS];
    let mut id = 1;
    while id < N_SPECS {
        let name = TABLE[id].name.as_bytes();
        let mut i = 0;
        while i < name.len() {
            if name[i] == b'|' {
                pipes[id] = i as u8;
            }
            i += 1;
        }
        id += 1;
    }
    pipes
}

const fn build_index() -> [u16; INDEX_SIZE] {
    let keys = build_keys();
    let mut idx = [0u16; INDEX_SIZE];
    let mut id = 1;
    while id < N_SPECS {
        let mut slot = slot_of(&keys[id]);
        while idx[slot] != 0 {
            slot = (slot + 1) & INDEX_MASK;
        }
        idx[slot] = id as u16;
        id += 1;
    }
    idx
}

/// The id of the entry whose key is `k`, or 0.
#[inline]
fn probe(k: &Key) -> usize {
    let mut slot = slot_of(k);
    for _ in 0..INDEX_SIZE {
        let id = usize::from(INDEX[slot]);
        if id == 0 || KEYS[id] == *k {
            return id;
        }
        slot = (slot + 1) & INDEX_MASK;
    }
    0
}

/// The id of the command named `name` (lower case; `container|sub` for a subcommand), found
/// at compile time: a name that is not in the table does not compile.
pub const fn id(name: &str) -> u16 {
    let mut i = 1;
    while i < N_SPECS {
        if str_eq(TABLE[i].name, name) {
            return i as u16;
        }
        i += 1;
    }
    panic!("a command name that is not in the table")
}

/// The ids of the commands the proxy treats specially, so that requests are dispatched by
/// their id (no string compare per request).
pub mod cmd {
    use super::id;
    pub const PING: u16 = id("ping");
    pub const ECHO: u16 = id("echo");
    pub const QUIT: u16 = id("quit");
    pub const SELECT: u16 = id("select");
    pub const AUTH: u16 = id("auth");
    pub const HELLO: u16 = id("hello");
    pub const CLIENT_SETINFO: u16 = id("client|setinfo");
    pub const CLIENT_NO_EVICT: u16 = id("client|no-evict");
    pub const CLIENT_NO_TOUCH: u16 = id("client|no-touch");
    pub const CLIENT_SETNAME: u16 = id("client|setname");
    pub const CLIENT_GETNAME: u16 = id("client|getname");
    pub const CLIENT_ID: u16 = id("client|id");
    pub const CLIENT_INFO: u16 = id("client|info");
    pub const COMMAND: u16 = id("command");
    pub const COMMAND_COUNT: u16 = id("command|count");
    pub const COMMAND_DOCS: u16 = id("command|docs");
    pub const COMMAND_INFO: u16 = id("command|info");
    pub const CONN_CONSISTENCY: u16 = id("dyno_config:conn_consistency");
    pub const MGET: u16 = id("mget");
    pub const MSET: u16 = id("mset");
    pub const EVAL: u16 = id("eval");
    pub const EVALSHA: u16 = id("evalsha");
    pub const EVAL_RO: u16 = id("eval_ro");
    pub const EVALSHA_RO: u16 = id("evalsha_ro");
    pub const FCALL: u16 = id("fcall");
    pub const FCALL_RO: u16 = id("fcall_ro");
    pub const SCRIPT_KILL: u16 = id("script|kill");
    pub const FUNCTION_LOAD: u16 = id("function|load");
    pub const SCRIPT_LOAD: u16 = id("script|load");
    pub const SCRIPT_FLUSH: u16 = id("script|flush");
    pub const FUNCTION_KILL: u16 = id("function|kill");
    pub const SMEMBERS: u16 = id("smembers");
    pub const SINTER: u16 = id("sinter");
    pub const SUNION: u16 = id("sunion");
    pub const SDIFF: u16 = id("sdiff");
    pub const KEYS: u16 = id("keys");
    pub const DBSIZE: u16 = id("dbsize");
    pub const RANDOMKEY: u16 = id("randomkey");
    pub const SCAN: u16 = id("scan");
    pub const SPOP: u16 = id("spop");
    pub const XADD: u16 = id("xadd");
    pub const FLUSHALL: u16 = id("flushall");
    pub const INFO: u16 = id("info");
    pub const FLUSHDB: u16 = id("flushdb");
    // Read repair's commands (`repair.rs`).
    pub const GET: u16 = id("get");
    pub const SET: u16 = id("set");
    pub const DEL: u16 = id("del");
    pub const HGET: u16 = id("hget");
    pub const HSET: u16 = id("hset");
    pub const HMSET: u16 = id("hmset");
    pub const HDEL: u16 = id("hdel");
    pub const SADD: u16 = id("sadd");
    pub const SREM: u16 = id("srem");
    pub const SISMEMBER: u16 = id("sismember");
    pub const ZADD: u16 = id("zadd");
    pub const ZREM: u16 = id("zrem");
    pub const ZSCORE: u16 = id("zscore");
    pub const INCR: u16 = id("incr");
}

/// The redis-server version the generated part of the table comes from.
pub fn table_version() -> &'static str {
    REDIS_VERSION
}

/// Every command and subcommand, in id order (without the id-0 placeholder).
pub fn all() -> &'static [CmdSpec] {
    &SPECS[1..]
}

/// The command with id `id` (as stored in `ReqInfo::cmd`); id 0 or an unknown id gives a
/// placeholder with an empty name and `Route::Unsupported`.
pub fn spec(id: u16) -> &'static CmdSpec {
    SPECS.get(usize::from(id)).unwrap_or(&SPECS[0])
}

/// The command named `name` (case-insensitive, ASCII as Redis's `strcasecmp`). Subcommands
/// are not found this way (a `|` in the name never matches, as in Redis); see [`lookup_sub`].
pub fn lookup(name: &[u8]) -> Option<&'static CmdSpec> {
    if name.len() > NAME_MAX {
        return None;
    }
    let mut buf = [0u8; NAME_MAX];
    buf[..name.len()].copy_from_slice(name);
    lookup_buf(&buf, name.len())
}

/// [`lookup`] of the name made of the first `len` bytes of `buf` (the rest is ignored), as
/// the request parser keeps it; no copy.
#[inline]
pub(crate) fn lookup_buf(buf: &[u8; NAME_MAX], len: usize) -> Option<&'static CmdSpec> {
    const _: () = assert!(NAME_MAX == KEY_W);
    if len >= KEY_W {
        // No table name is that long (`build_keys`).
        return None;
    }
    let id = probe(&key_of(buf, len));
    // A matching name with a `|` was looked up with a `|` in it: Redis never matches that.
    (id != 0 && PIPE[id] == 0).then(|| &SPECS[id])
}

/// The subcommand `sub` of the container command `name` (`CONFIG GET`, `CLIENT SETNAME`, ...).
pub fn lookup_sub(name: &[u8], sub: &[u8]) -> Option<&'static CmdSpec> {
    if name.len() > NAME_MAX || sub.len() > NAME_MAX {
        return None;
    }
    let len = name.len() + 1 + sub.len();
    if len >= KEY_W {
        return None;
    }
    let mut buf = [0u8; KEY_W];
    buf[..name.len()].copy_from_slice(name);
    buf[name.len()] = b'|';
    buf[name.len() + 1..len].copy_from_slice(sub);
    let id = probe(&key_of(&buf, len));
    // The match has exactly one `|` (`build_keys`); it must be the one between `name` and
    // `sub`, so neither of them contained one.
    (id != 0 && usize::from(PIPE[id]) == name.len()).then(|| &SPECS[id])
}

#[cfg(test)]
#[path = "tests/commands.rs"]
mod tests;
