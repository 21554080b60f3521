//! Stage two: Dynomite's setter rules and named defaults, from the raw pool to a [`Config`].
//!
//! Every key goes through one getter per setter kind (number, short, bool, string, listen, ...)
//! that applies Dynomite's duplicate rules, reports a bad value with its line and a fix, and
//! falls back to the default so that every problem of the file is found in one pass.

use std::path::PathBuf;

use super::error::{did_you_mean, one_line, ConfError, ConfErrors};
use super::keys::{self, KeySpec, Kind};
use super::model::{
    Backend, Config, HashKind, HintsFsync, Listen, Net, Peering, SecureOption, Security,
    SeedProvider, Server,
};
use super::raw::{RawEntry, RawPool, RawValue};
use super::value::{self, NumError};
use crate::types::{Consistency, DataStore};

mod auth;
mod limits;
mod tls;

pub mod defaults;

struct Ctx<'a> {
    file: &'a str,
    pool: &'a str,
    pool_line: usize,
    /// Known keys with their entries, in file order.
    entries: Vec<(&'static KeySpec, &'a RawEntry)>,
    errors: Vec<ConfError>,
    warnings: Vec<(usize, String)>,
}

/// A key's spec; the table holds every key this module asks for.
fn spec(name: &str) -> &'static KeySpec {
    const FALLBACK: KeySpec = KeySpec {
        name: "",
        kind: Kind::Str,
        what: "a value",
        example: "",
        unused: None,
    };
    keys::spec(name).unwrap_or(&FALLBACK)
}

impl<'a> Ctx<'a> {
    fn path(&self, key: &str) -> String {
        format!("{}.{}", self.pool, key)
    }

    fn err(&mut self, line: usize, key: &str, message: String) {
        let path = self.path(key);
        self.errors
            .push(ConfError::new(self.file, Some(line), Some(path), message));
    }

    fn warn(&mut self, line: usize, key: &str, message: &str) {
        let text = one_line(&format!(
            "{}:{}: {}: {}",
            self.file,
            line,
            self.path(key),
            message
        ));
        self.warnings.push((line, text));
    }

    fn occurrences(&self, key: &str) -> Vec<&'a RawEntry> {
        self.entries
            .iter()
            .filter(|(s, _)| s.name == key)
            .map(|(_, e)| *e)
            .collect()
    }

    fn is_set(&self, key: &str) -> bool {
        self.entries.iter().any(|(s, _)| s.name == key)
    }

    /// The single scalar of an entry, or an error for an empty value or a list.
    fn text(&mut self, e: &'a RawEntry) -> Option<&'a str> {
        let s = spec(&e.key);
        match &e.value {
            RawValue::Scalar(t) => Some(t),
            RawValue::Empty => {
                let msg = format!("empty value; expected {}, e.g. {}", s.what, s.example);
                self.err(e.line, &e.key, msg);
                None
            }
            RawValue::List(_) => {
                let msg = format!(
                    "a list is not allowed here; expected a single value: {}, e.g. {}",
                    s.what, s.example
                );
                self.err(e.line, &e.key, msg);
                None
            }
        }
    }

    /// Dynomite's duplicate rule for one-value keys: a later occurrence is an error unless
    /// `replaceable(first value)` (a number left at 0, a bool left at false), in which case it
    /// replaces the first one with a warning.
    fn single<T>(
        &mut self,
        key: &str,
        mut parse: impl FnMut(&mut Self, &'a RawEntry, &'a str) -> Option<T>,
        replaceable: impl Fn(&T) -> bool,
    ) -> Option<(T, usize)> {
        let mut cur: Option<(T, usize)> = None;
        for e in self.occurrences(key) {
            let Some(text) = self.text(e) else { continue };
            if let Some((prev, line)) = &cur {
                let line = *line;
                if !replaceable(prev) {
                    let msg = format!(
                        "\"{text}\" is a duplicate: {key} is already set on line {line}; keep only one {key} line"
                    );
                    self.err(e.line, key, msg);
                    continue;
                }
                let msg = format!(
                    "duplicate key replaces the value set on line {line} (as in Dynomite); keep only one {key} line"
                );
                self.warn(e.line, key, &msg);
            }
            if let Some(v) = parse(self, e, text) {
                cur = Some((v, e.line));
            }
        }
        cur
    }

    /// A number key: `Some(n)` when set to a non-zero value (0 means "use the default").
    fn num(&mut self, key: &str) -> Option<(u64, usize)> {
        let found = self.single(
            key,
            |cx, e, text| match value::parse_num(text) {
                Ok(n) => Some(n),
                Err(why) => {
                    let s = spec(&e.key);
                    let msg = match why {
                        NumError::NotANumber => format!(
                            "\"{text}\" is not a number; expected {}, e.g. {}",
                            s.what, s.example
                        ),
                        NumError::TooLarge => format!(
                            "\"{text}\" is too large; the maximum is {}, e.g. {}",
                            value::NUM_MAX,
                            s.example
                        ),
                    };
                    cx.err(e.line, &e.key, msg);
                    None
                }
            },
            |n| *n == 0,
        );
        found.filter(|(n, _)| *n != 0)
    }

    fn num_or(&mut self, key: &str, default: u64) -> u64 {
        self.num(key).map_or(default, |(n, _)| n)
    }

    fn num_u32_or(&mut self, key: &str, default: u32) -> u32 {
        self.num(key)
            .map_or(default, |(n, _)| u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// A short key (`conf_set_short`): stored in 8 bits, so the value wraps modulo 256, and a
    /// result of 0 means the default.
    fn short_or(&mut self, key: &str, default: u32) -> u32 {
        let Some((n, line)) = self.num(key) else {
            return default;
        };
        let wrapped = (n % 256) as u32;
        if n >= 256 {
            let then = if wrapped == 0 {
                format!("0, which means the default {default}")
            } else {
                wrapped.to_string()
            };
            let msg = format!(
                "\"{n}\" is above 255 and wraps to {then} (Dynomite stores it in 8 bits); use 1..255"
            );
            self.warn(line, key, &msg);
        }
        if wrapped == 0 {
            default
        } else {
            wrapped
        }
    }

    fn bool_or(&mut self, key: &str, default: bool) -> bool {
        let found = self.single(
            key,
            |cx, e, text| match text {
                "true" => Some(true),
                "false" => Some(false),
                _ => {
                    let msg = format!(
                        "\"{text}\" is not \"true\" or \"false\"; write {k}: true or {k}: false",
                        k = e.key
                    );
                    cx.err(e.line, &e.key, msg);
                    None
                }
            },
            |b| !*b,
        );
        found.map_or(default, |(b, _)| b)
    }

    fn string(&mut self, key: &str) -> Option<String> {
        self.single(key, |_, _, text| Some(text.to_string()), |_| false)
            .map(|(s, _)| s)
    }

    /// A string key matched against a fixed set by `parse`; `bad` builds the error message.
    fn choice<T>(
        &mut self,
        key: &str,
        parse: impl Fn(&str) -> Option<T>,
        bad: impl Fn(&str) -> String,
    ) -> Option<T> {
        self.single(
            key,
            |cx, e, text| {
                let v = parse(text);
                if v.is_none() {
                    cx.err(e.line, &e.key, bad(text));
                }
                v
            },
            |_| false,
        )
        .map(|(v, _)| v)
    }

    fn listen(&mut self, key: &str) -> Option<Listen> {
        let example = spec(key).example;
        self.single(
            key,
            |cx, e, text| match value::parse_listen(text, example) {
                Ok(l) => Some(l),
                Err(msg) => {
                    cx.err(e.line, &e.key, msg);
                    None
                }
            },
            |_| false,
        )
        .map(|(l, _)| l)
    }

    /// The items of a list key (a single scalar counts as a one-item list), with their lines.
    fn items(&mut self, key: &str) -> Vec<(usize, &'a str)> {
        let mut out = Vec::new();
        for e in self.occurrences(key) {
            self.entry_items(key, e, &mut out);
        }
        out
    }

    /// The items of one entry of a list key.
    fn entry_items(&mut self, key: &str, e: &'a RawEntry, out: &mut Vec<(usize, &'a str)>) {
        match &e.value {
            RawValue::Scalar(t) => out.push((e.line, t.as_str())),
            RawValue::List(items) => {
                for (line, t) in items {
                    match t {
                        Some(t) => out.push((*line, t.as_str())),
                        None => {
                            let expected = match key {
                                "servers" => "a datastore \"host:port:weight\", e.g. \"- 127.0.0.1:6379:1\"",
                                "dyn_seeds" => "a peer \"host:port:rack:dc:tokens\", e.g. \"- 127.0.0.2:8101:rack1:dc1:1383429731\"",
                                "requirepass" => "a password, e.g. \"- s3cret\"",
                                "users" => "a login \"name:password\", e.g. \"- alice:s3cret\"",
                                _ => "a token, e.g. \"- 1383429731\"",
                            };
                            let msg = format!("empty list item; expected {expected}");
                            self.err(*line, key, msg);
                        }
                    }
                }
            }
            RawValue::Empty => {
                let s = spec(key);
                let msg = format!("empty value; expected {}, e.g. {}", s.what, s.example);
                self.err(e.line, key, msg);
            }
        }
    }

    /// A key of one line holding a value or a list of values (a second line of the key is an
    /// error, as for one-value keys): the values with their lines.
    fn one_list(&mut self, key: &str) -> Vec<(usize, &'a str)> {
        let mut out = Vec::new();
        let all = self.occurrences(key);
        let Some((first, rest)) = all.split_first() else {
            return out;
        };
        for e in rest {
            let msg = format!(
                "a duplicate: {key} is already set on line {}; keep one {key} line (it may hold a list)",
                first.line
            );
            self.err(e.line, key, msg);
        }
        self.entry_items(key, first, &mut out);
        out
    }

    fn tokens(&mut self) -> Vec<u32> {
        let mut out = Vec::new();
        for (line, text) in self.items("tokens") {
            match value::parse_tokens(text) {
                Ok(t) => out.extend(t),
                Err(msg) => {
                    let msg = format!("{msg}, e.g. tokens: 1383429731");
                    self.err(line, "tokens", msg);
                }
            }
        }
        out
    }

    /// The `servers` entry: exactly one.
    fn server(&mut self) -> Option<Server> {
        let mut first: Option<Server> = None;
        let mut count = 0;
        for (line, text) in self.items("servers") {
            count += 1;
            if count > 1 {
                let msg = format!(
                    "\"{text}\" is a second datastore: only one datastore per node is supported; keep one \"- host:port:weight\" line and run one node per datastore"
                );
                self.err(line, "servers", msg);
                continue;
            }
            match value::parse_server(text) {
                Ok(s) => first = Some(s),
                Err(msg) => self.err(line, "servers", msg),
            }
        }
        first
    }

    fn seeds(&mut self) -> Vec<super::model::Seed> {
        let mut out = Vec::new();
        for (line, text) in self.items("dyn_seeds") {
            match value::parse_seed(text) {
                Ok(s) => out.push(s),
                Err(msg) => self.err(line, "dyn_seeds", msg),
            }
        }
        out
    }

    fn missing(&mut self, key: &str, message: String) {
        let line = self.pool_line;
        self.err(line, key, message);
    }
}

/// Validate a raw pool. `errors` holds problems already found by the earlier stages; they are
/// reported together with the ones found here, in line order.
pub(crate) fn build(
    pool: &RawPool,
    file: &str,
    errors: Vec<ConfError>,
) -> Result<Config, ConfErrors> {
    let mut cx = Ctx {
        file,
        pool: &pool.name,
        pool_line: pool.line,
        entries: Vec::new(),
        errors,
        warnings: Vec::new(),
    };
    for e in &pool.entries {
        match keys::spec(&e.key) {
            Some(s) => cx.entries.push((s, e)),
            None => {
                let hint = match did_you_mean(&e.key, keys::known_keys()) {
                    h if h.is_empty() => {
                        "; remove it or fix its spelling (keys are case-sensitive, e.g. listen, servers, tokens)"
                            .to_string()
                    }
                    h => h,
                };
                let msg = format!("unknown key \"{}\"{hint}", e.key);
                cx.err(e.line, &e.key, msg);
            }
        }
    }
    // Deprecated and no-op keys: accepted with a warning.
    let mut warned: Vec<&str> = Vec::new();
    for (s, e) in cx.entries.clone() {
        if s.kind == Kind::Deprecated {
            cx.warn(e.line, s.name, "deprecated, value ignored");
        } else if let Some(note) = s.unused {
            if !warned.contains(&s.name) {
                warned.push(s.name);
                cx.warn(e.line, s.name, note);
            }
        }
    }

    let listen = cx.listen("listen");
    if listen.is_none() && !cx.is_set("listen") {
        cx.missing(
            "listen",
            "missing required key \"listen\"; add e.g. listen: 127.0.0.1:8102".into(),
        );
    }
    let dyn_listen = cx.listen("dyn_listen");
    let stats_listen = cx.listen("stats_listen");
    let server = cx.server();
    if server.is_none() && !cx.is_set("servers") {
        cx.missing(
            "servers",
            "missing required key \"servers\" (the pool has no datastores); add e.g. \"servers:\" followed by the line \"  - 127.0.0.1:6379:1\"".into(),
        );
    }
    let data_store = match cx.num("data_store") {
        None | Some((0, _)) => DataStore::Redis,
        Some((1, _)) => DataStore::Memcache,
        Some((n, line)) => {
            let msg = format!(
                "\"{n}\" is not a valid datastore; expected 0 (Redis) or 1 (Memcached), e.g. data_store: 0"
            );
            cx.err(line, "data_store", msg);
            DataStore::Redis
        }
    };
    let tokens = cx.tokens();
    let rack = cx.string("rack").unwrap_or_else(|| defaults::RACK.into());
    let datacenter = cx
        .string("datacenter")
        .unwrap_or_else(|| defaults::DATACENTER.into());
    let dyn_seeds = cx.seeds();
    let dyn_seed_provider = match cx.single(
        "dyn_seed_provider",
        |_, e, t| Some((t, e.line)),
        |_| false,
    ) {
        Some(((text, line), _)) => {
            let p = SeedProvider::parse_dynomite(text);
            if p == SeedProvider::Simple && !text.starts_with("simple_provider") {
                let msg = format!(
                    "\"{text}\" is not a known seed provider, so simple_provider is used (as in Dynomite); expected simple_provider, florida_provider or dns_provider"
                );
                cx.warn(line, "dyn_seed_provider", &msg);
            }
            p
        }
        None => SeedProvider::Simple,
    };
    let hash = cx
        .choice("hash", HashKind::parse, |t| {
            let names: Vec<&str> = HashKind::ALL.iter().map(|h| h.name()).collect();
            let dym = did_you_mean(t, names.iter().copied());
            if dym.is_empty() {
                format!(
                    "\"{t}\" is not a valid hash; expected one of {}, e.g. hash: murmur",
                    names.join(", ")
                )
            } else {
                format!(
                    "\"{t}\" is not a valid hash{dym} (expected one of {})",
                    names.join(", ")
                )
            }
        })
        .unwrap_or_default();
    let hash_tag = cx.choice(
        "hash_tag",
        |t| match t.as_bytes() {
            [a, b] => Some([*a, *b]),
            _ => None,
        },
        |t| {
            format!(
                "\"{t}\" is not a valid hash tag string with two characters; expected e.g. hash_tag: \"{{}}\""
            )
        },
    );
    let timeout_ms = cx.num_or("timeout", defaults::TIMEOUT_MS);
    let backlog = cx.num_u32_or("backlog", defaults::BACKLOG);
    let client_connections = cx.num_u32_or("client_connections", defaults::CLIENT_CONNECTIONS);
    let preconnect = cx.bool_or("preconnect", defaults::PRECONNECT);
    let auto_eject_hosts = cx.bool_or("auto_eject_hosts", defaults::AUTO_EJECT_HOSTS);
    let server_retry_timeout_ms =
        cx.num_or("server_retry_timeout", defaults::SERVER_RETRY_TIMEOUT_MS);
    let server_failure_limit =
        cx.num_u32_or("server_failure_limit", defaults::SERVER_FAILURE_LIMIT);
    let dyn_read_timeout_ms = cx.num_or("dyn_read_timeout", defaults::DYN_READ_TIMEOUT_MS);
    let dyn_write_timeout_ms = cx.num_or("dyn_write_timeout", defaults::DYN_WRITE_TIMEOUT_MS);
    let dyn_connections = cx.num_u32_or("dyn_connections", defaults::DYN_CONNECTIONS);
    let dyn_port = cx.num_u32_or("dyn_port", defaults::DYN_PORT);
    let gos_interval_ms = cx.num_or("gos_interval", defaults::GOS_INTERVAL_MS);
    let enable_gossip = cx.bool_or("enable_gossip", defaults::ENABLE_GOSSIP);
    let secure_server_option = cx
        .choice("secure_server_option", SecureOption::parse, |t| {
            format!(
                "\"{t}\" must be one of 'none' 'rack' 'datacenter' 'all'; e.g. secure_server_option: datacenter"
            )
        })
        .unwrap_or_default();
    let path_or = |cx: &mut Ctx, key: &str, default: &str| {
        PathBuf::from(cx.string(key).unwrap_or_else(|| default.into()))
    };
    let pem_key_file = path_or(&mut cx, "pem_key_file", defaults::PEM_KEY_FILE);
    let recon_key_file = path_or(&mut cx, "recon_key_file", defaults::RECON_KEY_FILE);
    let recon_iv_file = path_or(&mut cx, "recon_iv_file", defaults::RECON_IV_FILE);
    let env = cx.string("env").unwrap_or_else(|| defaults::ENV.into());
    let conn_msg_rate = cx.num_u32_or("conn_msg_rate", defaults::CONN_MSG_RATE);
    let consistency = |cx: &mut Ctx, key: &str| {
        cx.choice(key, Consistency::parse_dynomite, |t| {
            format!(
                "\"{t}\" must be one of 'DC_ONE' 'DC_QUORUM' 'DC_SAFE_QUORUM' 'DC_EACH_SAFE_QUORUM'; e.g. {key}: DC_QUORUM"
            )
        })
        .unwrap_or(Consistency::DcOne)
    };
    let read_consistency = consistency(&mut cx, "read_consistency");
    let write_consistency = consistency(&mut cx, "write_consistency");
    let read_repairs_enabled = cx.bool_or("read_repairs_enabled", defaults::READ_REPAIRS_ENABLED);
    let stats_interval_ms = cx.num_or("stats_interval", defaults::STATS_INTERVAL_MS);
    let mbuf_size = match cx.num("mbuf_size") {
        None => None,
        Some((n, line)) => {
            let n = n as usize;
            let problem = if !(defaults::MBUF_SIZE_MIN..=defaults::MBUF_SIZE_MAX).contains(&n) {
                Some("mbuf chunk size must be between 512 and 512000 bytes")
            } else if n & 15 != 0 {
                // not a multiple of 16 (written without is_multiple_of for the 1.80 MSRV)
                Some("mbuf size must be a multiple of 16")
            } else {
                None
            };
            if let Some(p) = problem {
                let msg = format!("\"{n}\" is invalid: {p}; e.g. mbuf_size: 16384");
                cx.err(line, "mbuf_size", msg);
            }
            Some(n)
        }
    };
    let max_msgs = match cx.num("max_msgs") {
        None => None,
        Some((n, line)) => {
            let n = n as usize;
            if !(defaults::MAX_MSGS_MIN..=defaults::MAX_MSGS_MAX).contains(&n) {
                let msg = format!(
                    "\"{n}\" is invalid: max allocated messages buffer must be between 100000 and 1000000 messages; e.g. max_msgs: 200000"
                );
                cx.err(line, "max_msgs", msg);
            }
            Some(n)
        }
    };
    let datastore_connections =
        cx.short_or("datastore_connections", defaults::DATASTORE_CONNECTIONS);
    let local_peer_connections =
        cx.short_or("local_peer_connections", defaults::LOCAL_PEER_CONNECTIONS);
    let remote_peer_connections =
        cx.short_or("remote_peer_connections", defaults::REMOTE_PEER_CONNECTIONS);
    let requirepass = cx
        .one_list("requirepass")
        .into_iter()
        .map(|(_, p)| p.to_string())
        .collect();
    let users = cx.users();
    let admin_token = cx.admin_token();
    let limits = cx.limits(secure_server_option);
    let allow_flush = cx.bool_or("allow_flush", defaults::ALLOW_FLUSH);
    let datastore_password = cx.string("datastore_password");
    let client_tls = cx.client_tls();
    let datastore_tls = cx.datastore_tls(server.as_ref());
    let log_level = match cx.num("log_level") {
        Some((n, line)) if n > 11 => {
            cx.err(
                line,
                "log_level",
                format!("\"{n}\" is invalid: a log level is 0..11; e.g. log_level: 6"),
            );
            None
        }
        Some((n, _)) => Some(n as i32),
        None => None,
    };
    let peer_down_after_ms = cx.num_or("peer_down_after", defaults::PEER_DOWN_AFTER_MS);
    let hints_max_per_peer = cx.num_or("hints_max_per_peer", defaults::HINTS_MAX_PER_PEER);
    let hints_max_bytes_per_peer = cx.num_or(
        "hints_max_bytes_per_peer",
        defaults::HINTS_MAX_BYTES_PER_PEER,
    );
    let hints_max_age_ms = cx.num_or("hints_max_age", defaults::HINTS_MAX_AGE_MS);
    let hints_dir = cx.string("hints_dir").map(std::path::PathBuf::from);
    let hints_fsync = cx
        .choice(
            "hints_fsync",
            |s| match s {
                "always" => Some(HintsFsync::Always),
                "everysec" => Some(HintsFsync::EverySec),
                "never" => Some(HintsFsync::Never),
                _ => None,
            },
            |s| format!("\"{s}\" is invalid: expected always, everysec or never; e.g. hints_fsync: everysec"),
        )
        .unwrap_or_default();

    // A node with peers needs its peer listener and its own token (Dynomite fails at startup).
    let has_peers = !dyn_seeds.is_empty() || dyn_seed_provider != SeedProvider::Simple;
    if has_peers && !cx.is_set("dyn_listen") {
        cx.missing(
            "dyn_listen",
            "missing key \"dyn_listen\", required when the node has peers (dyn_seeds or a seed provider); add e.g. dyn_listen: 127.0.0.1:8101".into(),
        );
    }
    if has_peers && !cx.is_set("tokens") {
        cx.missing(
            "tokens",
            "missing key \"tokens\", required when the node has peers (dyn_seeds or a seed provider); add e.g. tokens: 1383429731".into(),
        );
    }

    let mut errors = std::mem::take(&mut cx.errors);
    errors.sort_by_key(|e| e.line.unwrap_or(usize::MAX));
    let (Some(listen), Some(server), true) = (listen, server, errors.is_empty()) else {
        if errors.is_empty() {
            errors.push(ConfError::new(
                file,
                Some(pool.line),
                Some(pool.name.clone()),
                "incomplete configuration; add listen and servers",
            ));
        }
        return Err(ConfErrors(errors));
    };
    let stats_listen = match stats_listen {
        Some(l) => l,
        None => value::parse_listen(defaults::STATS_LISTEN, "")
            .map_err(|m| ConfErrors(vec![ConfError::new(file, None, None, m)]))?,
    };
    let mut warnings = std::mem::take(&mut cx.warnings);
    warnings.sort_by_key(|(line, _)| *line);

    Ok(Config {
        file: PathBuf::from(file),
        pool_name: pool.name.clone(),
        data_store,
        tokens,
        rack,
        datacenter,
        hash,
        hash_tag,
        env,
        read_consistency,
        write_consistency,
        read_repairs_enabled,
        mbuf_size,
        max_msgs,
        log_level,
        warnings: warnings.into_iter().map(|(_, w)| w).collect(),
        net: Net {
            listen,
            dyn_listen,
            stats_listen,
            backlog,
            client_connections,
            stats_interval_ms,
        },
        backend: Backend {
            server,
            timeout_ms,
            preconnect,
            auto_eject_hosts,
            server_retry_timeout_ms,
            server_failure_limit,
            datastore_connections,
            datastore_password,
            tls: datastore_tls,
        },
        peering: Peering {
            dyn_seeds,
            dyn_seed_provider,
            dyn_read_timeout_ms,
            dyn_write_timeout_ms,
            dyn_connections,
            dyn_port,
            gos_interval_ms,
            enable_gossip,
            conn_msg_rate,
            local_peer_connections,
            remote_peer_connections,
            peer_down_after_ms,
            hints_max_per_peer,
            hints_max_bytes_per_peer,
            hints_max_age_ms,
            hints_dir,
            hints_fsync,
        },
        security: Security {
            secure_server_option,
            pem_key_file,
            recon_key_file,
            recon_iv_file,
            requirepass,
            users,
            admin_token,
            allow_flush,
            client_tls,
        },
        limits,
    })
}
