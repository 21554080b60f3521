//! The table of every configuration key: its value kind, an example, and what it expects.
//!
//! Dynomite's 42 keys (`src/dyn_conf.c`, SPEC §1.2) plus our own `requirepass`, `users`,
//! `admin_token`, `admin_token_file`, `allow_flush`, `log_level`, `peer_down_after`,
//! `hints_max_per_peer`, `hints_max_bytes_per_peer`, `hints_max_age`, `hints_dir`,
//! `hints_fsync` and `datastore_password`; the limits: `max_buffer_memory`,
//! `max_multibulk_len`, `client_query_buffer_limit`, `max_gossip_nodes`, `peer_tls_required`;
//! and TLS: `tls_listen`, `tls_cert_file`, `tls_key_file`, `tls_ca_file`, `datastore_tls`
//! and its `datastore_tls_*` files and server name.
//! Error messages take their "expected ..., e.g. ..." part from here.

/// How a key's value is read (Dynomite's setter kinds, plus the enums it matches by name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `host:port` or a unix socket path, resolved at load.
    Listen,
    /// The one `servers:` list entry.
    Servers,
    /// The `dyn_seeds:` list.
    Seeds,
    /// Decimal digits; 0 means "use the default" (`conf_set_num`).
    Num,
    /// A size in bytes, optionally with Redis's units (`512mb`, `1gb`); 0 means the default.
    Size,
    /// Like `Num` but stored in 8 bits: wraps modulo 256 (`conf_set_short`).
    Short,
    /// Exactly `true` or `false`.
    Bool,
    /// Any non-empty text.
    Str,
    /// Comma list of u32 tokens.
    Tokens,
    Hash,
    HashTag,
    Consistency,
    SecureOption,
    SeedProvider,
    /// Accepted, value ignored, warning logged.
    Deprecated,
}

/// One configuration key.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KeySpec {
    pub name: &'static str,
    pub kind: Kind,
    /// What a valid value looks like, completing "expected ...".
    pub what: &'static str,
    /// A full example line, completing "e.g. ...".
    pub example: &'static str,
    /// Set for keys that are accepted for compatibility but have no effect: the warning text.
    pub unused: Option<&'static str>,
}

const MS: &str = "milliseconds as decimal digits";
const COUNT: &str = "a count as decimal digits";
const CONNS: &str = "a connection count 1..255 as decimal digits";
const BOOL: &str = "true or false";
const PARSED_ONLY: &str = "accepted for compatibility, has no effect (Dynomite only parses it)";
const RECON: &str =
    "accepted for compatibility, has no effect (Dynomite's reconciliation feature never runs)";

const fn key(name: &'static str, kind: Kind, what: &'static str, example: &'static str) -> KeySpec {
    KeySpec {
        name,
        kind,
        what,
        example,
        unused: None,
    }
}

const fn unused(
    name: &'static str,
    kind: Kind,
    what: &'static str,
    example: &'static str,
    note: &'static str,
) -> KeySpec {
    KeySpec {
        name,
        kind,
        what,
        example,
        unused: Some(note),
    }
}

/// Every key, in the order of SPEC §1.2.
pub(crate) const KEYS: &[KeySpec] = &[
    key(
        "listen",
        Kind::Listen,
        "\"host:port\" or a unix socket path",
        "listen: 127.0.0.1:8102",
    ),
    key(
        "dyn_listen",
        Kind::Listen,
        "\"host:port\" for peer connections",
        "dyn_listen: 127.0.0.1:8101",
    ),
    key(
        "stats_listen",
        Kind::Listen,
        "\"host:port\" for the stats server",
        "stats_listen: 127.0.0.1:22222",
    ),
    key(
        "servers",
        Kind::Servers,
        "a list with one datastore \"host:port:weight\"",
        "\"servers:\" followed by the line \"  - 127.0.0.1:6379:1\"",
    ),
    key(
        "data_store",
        Kind::Num,
        "0 (Redis) or 1 (Memcached)",
        "data_store: 0",
    ),
    key(
        "tokens",
        Kind::Tokens,
        "decimal tokens 0..4294967295 (a comma list is allowed)",
        "tokens: 1383429731",
    ),
    key("rack", Kind::Str, "a rack name", "rack: rack1"),
    key(
        "datacenter",
        Kind::Str,
        "a datacenter name",
        "datacenter: dc1",
    ),
    key(
        "dyn_seeds",
        Kind::Seeds,
        "a list of peers \"host:port:rack:dc:tokens\"",
        "\"dyn_seeds:\" followed by the line \"  - 127.0.0.2:8101:rack1:dc1:1383429731\"",
    ),
    key(
        "dyn_seed_provider",
        Kind::SeedProvider,
        "simple_provider, florida_provider or dns_provider",
        "dyn_seed_provider: simple_provider",
    ),
    key("hash", Kind::Hash, "a hash function name", "hash: murmur"),
    key(
        "hash_tag",
        Kind::HashTag,
        "two characters",
        "hash_tag: \"{}\"",
    ),
    key("distribution", Kind::Deprecated, "", ""),
    key("server_connections", Kind::Deprecated, "", ""),
    key("timeout", Kind::Num, MS, "timeout: 5000"),
    key("backlog", Kind::Num, COUNT, "backlog: 512"),
    key(
        "client_connections",
        Kind::Num,
        COUNT,
        "client_connections: 0",
    ),
    key("preconnect", Kind::Bool, BOOL, "preconnect: true"),
    key(
        "auto_eject_hosts",
        Kind::Bool,
        BOOL,
        "auto_eject_hosts: true",
    ),
    key(
        "server_retry_timeout",
        Kind::Num,
        MS,
        "server_retry_timeout: 10000",
    ),
    key(
        "server_failure_limit",
        Kind::Num,
        COUNT,
        "server_failure_limit: 3",
    ),
    unused(
        "dyn_read_timeout",
        Kind::Num,
        MS,
        "dyn_read_timeout: 10000",
        PARSED_ONLY,
    ),
    unused(
        "dyn_write_timeout",
        Kind::Num,
        MS,
        "dyn_write_timeout: 10000",
        PARSED_ONLY,
    ),
    unused(
        "dyn_connections",
        Kind::Num,
        COUNT,
        "dyn_connections: 100",
        PARSED_ONLY,
    ),
    unused(
        "dyn_port",
        Kind::Num,
        "a port number as decimal digits",
        "dyn_port: 8101",
        PARSED_ONLY,
    ),
    key("gos_interval", Kind::Num, MS, "gos_interval: 30000"),
    key("enable_gossip", Kind::Bool, BOOL, "enable_gossip: false"),
    key(
        "secure_server_option",
        Kind::SecureOption,
        "none, rack, datacenter or all",
        "secure_server_option: datacenter",
    ),
    key(
        "pem_key_file",
        Kind::Str,
        "a file path",
        "pem_key_file: conf/dynomite.pem",
    ),
    unused(
        "recon_key_file",
        Kind::Str,
        "a file path",
        "recon_key_file: conf/recon_key.pem",
        RECON,
    ),
    unused(
        "recon_iv_file",
        Kind::Str,
        "a file path",
        "recon_iv_file: conf/recon_iv.pem",
        RECON,
    ),
    key("env", Kind::Str, "an environment name", "env: aws"),
    key(
        "conn_msg_rate",
        Kind::Num,
        "messages per second as decimal digits",
        "conn_msg_rate: 50000",
    ),
    key(
        "read_consistency",
        Kind::Consistency,
        "",
        "read_consistency: DC_QUORUM",
    ),
    key(
        "write_consistency",
        Kind::Consistency,
        "",
        "write_consistency: DC_QUORUM",
    ),
    key(
        "read_repairs_enabled",
        Kind::Bool,
        BOOL,
        "read_repairs_enabled: false",
    ),
    key("stats_interval", Kind::Num, MS, "stats_interval: 30000"),
    key(
        "mbuf_size",
        Kind::Num,
        "bytes as decimal digits",
        "mbuf_size: 16384",
    ),
    key(
        "max_msgs",
        Kind::Num,
        "a message count as decimal digits",
        "max_msgs: 200000",
    ),
    key(
        "datastore_connections",
        Kind::Short,
        CONNS,
        "datastore_connections: 1",
    ),
    key(
        "local_peer_connections",
        Kind::Short,
        CONNS,
        "local_peer_connections: 1",
    ),
    key(
        "remote_peer_connections",
        Kind::Short,
        CONNS,
        "remote_peer_connections: 1",
    ),
    // Ours, not Dynomite's.
    key(
        "requirepass",
        Kind::Str,
        "the password clients must send with AUTH, or a list of them (any one works)",
        "requirepass: s3cret",
    ),
    key(
        "users",
        Kind::Str,
        "a list of \"name:password\" logins for AUTH name password",
        "\"users:\" followed by the line \"  - alice:s3cret\"",
    ),
    key(
        "admin_token",
        Kind::Str,
        "the token admin calls on the stats port must send as Authorization: Bearer",
        "admin_token: 9f2c47e1d0b3",
    ),
    key(
        "admin_token_file",
        Kind::Str,
        "a file holding the admin token",
        "admin_token_file: /etc/dynomite/admin_token",
    ),
    key(
        "datastore_password",
        Kind::Str,
        "the password sent to the datastore with AUTH",
        "datastore_password: s3cret",
    ),
    key(
        "log_level",
        Kind::Num,
        "a log level 0..11 (as -v)",
        "log_level: 6",
    ),
    key(
        "peer_down_after",
        Kind::Num,
        "milliseconds a peer may have no connection before it is DOWN",
        "peer_down_after: 3000",
    ),
    key(
        "hints_max_per_peer",
        Kind::Num,
        "a count of missed writes kept for a peer",
        "hints_max_per_peer: 100000",
    ),
    key(
        "hints_max_bytes_per_peer",
        Kind::Num,
        "a size in bytes of missed writes kept for a peer",
        "hints_max_bytes_per_peer: 67108864",
    ),
    key(
        "hints_max_age",
        Kind::Num,
        "milliseconds a missed write is kept for a peer",
        "hints_max_age: 10800000",
    ),
    key(
        "hints_dir",
        Kind::Str,
        "a directory for the writes kept for peers (one file each)",
        "hints_dir: /var/lib/dynomite/hints",
    ),
    key(
        "hints_fsync",
        Kind::Str,
        "always, everysec or never",
        "hints_fsync: everysec",
    ),
    key("allow_flush", Kind::Bool, BOOL, "allow_flush: true"),
    key(
        "max_buffer_memory",
        Kind::Size,
        "a size for all buffered requests and replies (0: an eighth of the memory)",
        "max_buffer_memory: 1gb",
    ),
    key(
        "max_multibulk_len",
        Kind::Num,
        "the most arguments one request may have",
        "max_multibulk_len: 1048576",
    ),
    key(
        "client_query_buffer_limit",
        Kind::Size,
        "the largest request a client may send",
        "client_query_buffer_limit: 1gb",
    ),
    key(
        "max_gossip_nodes",
        Kind::Num,
        "the most nodes gossip may add to the ring",
        "max_gossip_nodes: 1024",
    ),
    key(
        "peer_tls_required",
        Kind::Bool,
        BOOL,
        "peer_tls_required: true",
    ),
    key(
        "tls_listen",
        Kind::Listen,
        "\"host:port\" for TLS clients",
        "tls_listen: 127.0.0.1:6380",
    ),
    key(
        "tls_cert_file",
        Kind::Str,
        "a PEM file with the certificate chain the TLS listener presents",
        "tls_cert_file: /etc/dynomite/tls/server.crt",
    ),
    key(
        "tls_key_file",
        Kind::Str,
        "a PEM file with the private key of tls_cert_file",
        "tls_key_file: /etc/dynomite/tls/server.key",
    ),
    key(
        "tls_ca_file",
        Kind::Str,
        "a PEM file with the CA certificates client certificates must be signed by",
        "tls_ca_file: /etc/dynomite/tls/ca.crt",
    ),
    key("datastore_tls", Kind::Bool, BOOL, "datastore_tls: true"),
    key(
        "datastore_tls_ca_file",
        Kind::Str,
        "a PEM file with the CA certificates the datastore's certificate is checked against",
        "datastore_tls_ca_file: /etc/redis/tls/ca.crt",
    ),
    key(
        "datastore_tls_cert_file",
        Kind::Str,
        "a PEM file with the client certificate chain sent to the datastore",
        "datastore_tls_cert_file: /etc/dynomite/tls/client.crt",
    ),
    key(
        "datastore_tls_key_file",
        Kind::Str,
        "a PEM file with the private key of datastore_tls_cert_file",
        "datastore_tls_key_file: /etc/dynomite/tls/client.key",
    ),
    key(
        "datastore_tls_server_name",
        Kind::Str,
        "the name the datastore's certificate must carry",
        "datastore_tls_server_name: redis.internal",
    ),
];

/// The spec of a key (case-sensitive, as in Dynomite).
pub(crate) fn spec(name: &str) -> Option<&'static KeySpec> {
    KEYS.iter().find(|k| k.name == name)
}

/// The names of every key accepted in the pool mapping.
pub fn known_keys() -> impl Iterator<Item = &'static str> {
    KEYS.iter().map(|k| k.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        assert_eq!(KEYS.len(), 69, "42 Dynomite keys + 27 of ours");
        for (i, k) in KEYS.iter().enumerate() {
            assert!(
                KEYS[..i].iter().all(|o| o.name != k.name),
                "duplicate {}",
                k.name
            );
            if k.kind != Kind::Deprecated {
                assert!(!k.example.is_empty(), "{} has no example", k.name);
            }
        }
        assert!(spec("listen").is_some());
        assert!(spec("Listen").is_none());
    }
}
