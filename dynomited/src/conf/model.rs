//! The validated configuration: [`Config`] and the typed values it holds.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::types::{Consistency, DataStore};

/// A node's configuration, every default applied (SPEC §1.2). Dynomite's file is one flat
/// list of keys; here they are grouped by what they configure (the table of keys,
/// `conf/keys.rs`, stays flat, as the file is).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The file it was read from (as given; used in messages).
    pub file: PathBuf,
    /// The root key, conventionally `dyn_o_mite`; the pool name in `/info`.
    pub pool_name: String,
    /// `data_store`: 0 Redis (default), 1 Memcached.
    pub data_store: DataStore,
    /// This node's tokens; only the first one places keys. Empty when absent.
    pub tokens: Vec<u32>,
    pub rack: String,
    pub datacenter: String,
    pub hash: HashKind,
    /// The two hash-tag delimiters, e.g. `{}`.
    pub hash_tag: Option<[u8; 2]>,
    pub env: String,
    pub read_consistency: Consistency,
    pub write_consistency: Consistency,
    pub read_repairs_enabled: bool,
    /// `None` when absent: then `-m` or 16384 applies. Validated 512..=512000, multiple of 16.
    pub mbuf_size: Option<usize>,
    /// `None` when absent: then `-M` or 200000 applies. Validated 100000..=1000000.
    pub max_msgs: Option<usize>,
    /// Ours: the log level (0..11, as `-v`); `-v` on the command line wins at start, a
    /// changed value applies on SIGHUP.
    pub log_level: Option<i32>,
    /// One line each, `<file>:<line>: <keypath>: <text>` (deprecated or no-op keys, wraps, ...).
    pub warnings: Vec<String>,
    /// The listeners.
    pub net: Net,
    /// The datastore behind the node and how it is talked to.
    pub backend: Backend,
    /// The other nodes: seeds, connections, gossip, failure detection, hints.
    pub peering: Peering,
    /// Encryption of peer links and client authentication.
    pub security: Security,
    /// What one client, one request or gossip may make the node hold.
    pub limits: Limits,
}

/// Ours: bounds on what clients, requests and gossip may make the node hold (README,
/// "Security"). Request caps are Redis's, with its defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of buffered requests and replies the node may hold; `None`: an eighth of the
    /// machine's (or cgroup's) memory, decided at start.
    pub max_buffer_memory: Option<u64>,
    /// Most arguments in one request (Redis refuses more than i32::MAX).
    pub max_multibulk_len: u64,
    /// Longest request (Redis's client-query-buffer-limit).
    pub client_query_buffer_limit: u64,
    /// Most nodes gossip may add to the ring beyond the configured seeds.
    pub max_gossip_nodes: u32,
    /// Refuse incoming peer connections that do not start TLS.
    pub peer_tls_required: bool,
}

/// The listeners.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Net {
    /// Client-facing listener (required).
    pub listen: Listen,
    /// Peer listener; needed as soon as the node has peers.
    pub dyn_listen: Option<Listen>,
    /// Stats/admin HTTP listener, default `0.0.0.0:22222`.
    pub stats_listen: Listen,
    pub backlog: u32,
    /// The most client connections at once; 0 means no limit (Dynomite parses the key and
    /// forces 0; here it is enforced, answered with Redis's "max number of clients reached").
    pub client_connections: u32,
    pub stats_interval_ms: u64,
}

/// The datastore behind the node and how it is talked to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backend {
    /// The one backend datastore (`servers:` entry).
    pub server: Server,
    pub timeout_ms: u64,
    pub preconnect: bool,
    pub auto_eject_hosts: bool,
    pub server_retry_timeout_ms: u64,
    pub server_failure_limit: u32,
    pub datastore_connections: u32,
    /// Ours: sent as `AUTH` to the datastore on connect.
    pub datastore_password: Option<String>,
    /// Ours: TLS to the datastore (Redis's `tls-port`), when `datastore_tls: true`.
    pub tls: Option<DatastoreTls>,
}

/// The other nodes: seeds, connections, gossip, failure detection, hints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peering {
    pub dyn_seeds: Vec<Seed>,
    pub dyn_seed_provider: SeedProvider,
    pub dyn_read_timeout_ms: u64,
    pub dyn_write_timeout_ms: u64,
    pub dyn_connections: u32,
    pub dyn_port: u32,
    pub gos_interval_ms: u64,
    pub enable_gossip: bool,
    /// Messages per second per cross-DC peer connection.
    pub conn_msg_rate: u32,
    pub local_peer_connections: u32,
    pub remote_peer_connections: u32,
    /// Ours: a peer with no connection for this long is DOWN (default 3000 ms).
    pub peer_down_after_ms: u64,
    /// Ours: writes kept for a peer that missed them, at most this many (default 100000)...
    pub hints_max_per_peer: u64,
    /// ...and this many bytes (default 64 MiB); past either bound the oldest are dropped.
    pub hints_max_bytes_per_peer: u64,
    /// Ours: a missed write older than this is dropped, not replayed (default 3 h).
    pub hints_max_age_ms: u64,
    /// Ours: where the writes kept for peers are journaled (one file per peer); `None`:
    /// in memory only.
    pub hints_dir: Option<std::path::PathBuf>,
    /// Ours: when a hints file is flushed to disk.
    pub hints_fsync: HintsFsync,
}

/// Encryption of peer links and client authentication.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Security {
    pub secure_server_option: SecureOption,
    pub pem_key_file: PathBuf,
    pub recon_key_file: PathBuf,
    pub recon_iv_file: PathBuf,
    /// Ours: clients must `AUTH` with one of these passwords (the default user's; several
    /// while a password is rotated). Empty: none.
    pub requirepass: Vec<String>,
    /// Ours: logins for `AUTH name password` (a name may have several passwords).
    pub users: Vec<User>,
    /// Ours: admin calls on the stats port need `Authorization: Bearer <token>`
    /// (`admin_token`, or the trimmed contents of `admin_token_file`).
    pub admin_token: Option<String>,
    /// Ours: FLUSHDB and FLUSHALL run on every node of every rack and DC (refused without).
    pub allow_flush: bool,
    /// Ours: a TLS client listener beside `listen` (`tls_listen` and its files).
    pub client_tls: Option<ClientTls>,
}

/// A file a key names, with the line it is named on: an error reading or parsing the file
/// (at start or on SIGHUP) points at that line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyFile {
    pub path: PathBuf,
    pub line: usize,
    /// The key (`tls_cert_file`, ...).
    pub key: &'static str,
}

/// The TLS client listener: where, the certificate chain and key it presents (PEM), and the
/// CA a client's certificate must be signed by (mutual TLS) when `ca_file` is set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientTls {
    pub listen: Listen,
    pub cert_file: KeyFile,
    pub key_file: KeyFile,
    pub ca_file: Option<KeyFile>,
}

/// TLS to the datastore: the CA its certificate is checked against, the name it must carry
/// (default: the `servers:` host), and an optional client certificate (for
/// `tls-auth-clients yes`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatastoreTls {
    pub ca_file: KeyFile,
    pub cert_file: Option<KeyFile>,
    pub key_file: Option<KeyFile>,
    pub server_name: String,
}

/// One login of `users:` (`name:password`).
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub password: String,
}

impl fmt::Debug for User {
    /// The name only: passwords stay out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "User({:?})", self.name)
    }
}

impl Config {
    /// True when the node is meant to talk to peers (seeds listed or a seed provider).
    pub fn has_peers(&self) -> bool {
        !self.peering.dyn_seeds.is_empty() || self.peering.dyn_seed_provider != SeedProvider::Simple
    }
}

/// A listening address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listen {
    /// `host:port`; `host` is the text before the last `:` (may be empty: all addresses).
    Tcp { host: String, addr: SocketAddr },
    /// A path starting with `/`.
    Unix(PathBuf),
}

impl Listen {
    /// The TCP port (0 for a unix socket).
    pub fn port(&self) -> u16 {
        match self {
            Listen::Tcp { addr, .. } => addr.port(),
            Listen::Unix(_) => 0,
        }
    }
}

impl fmt::Display for Listen {
    /// As written in the file: `host:port` or the socket path.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Listen::Tcp { host, addr } => write!(f, "{host}:{}", addr.port()),
            Listen::Unix(p) => write!(f, "{}", p.display()),
        }
    }
}

/// The backend datastore (`host:port:weight [name]` or `/path.sock:weight [name]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Server {
    /// Host as written, or the socket path for a unix socket.
    pub host: String,
    /// 0 for a unix socket.
    pub port: u16,
    pub addr: Option<SocketAddr>,
    pub unix: Option<PathBuf>,
    /// Parsed and ignored, as in Dynomite.
    pub weight: u32,
    /// The given name, else `host` when the port is 11211, else `host:port` (the path for a
    /// unix socket). The datastore's key in `/info`.
    pub name: String,
}

/// A peer from `dyn_seeds` (`host:port:rack:dc:tokens [name]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seed {
    pub host: String,
    pub port: u16,
    pub rack: String,
    pub dc: String,
    pub tokens: Vec<u32>,
    pub addr: SocketAddr,
    /// The host part (what `/peer/...` admin calls and gossip use).
    pub name: String,
}

/// Key hash functions (`hash:`), SPEC §3.2. Variant names follow Dynomite's (`fnv1a_64`).
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum HashKind {
    OneAtATime,
    Md5,
    Crc16,
    Crc32,
    Crc32a,
    Fnv1_64,
    Fnv1a_64,
    Fnv1_32,
    Fnv1a_32,
    Hsieh,
    #[default]
    Murmur,
    Jenkins,
    Murmur3,
}

impl HashKind {
    /// Every hash, in Dynomite's order.
    pub const ALL: [HashKind; 13] = [
        HashKind::OneAtATime,
        HashKind::Md5,
        HashKind::Crc16,
        HashKind::Crc32,
        HashKind::Crc32a,
        HashKind::Fnv1_64,
        HashKind::Fnv1a_64,
        HashKind::Fnv1_32,
        HashKind::Fnv1a_32,
        HashKind::Hsieh,
        HashKind::Murmur,
        HashKind::Jenkins,
        HashKind::Murmur3,
    ];

    /// The name used in the YAML file.
    pub const fn name(&self) -> &'static str {
        match self {
            HashKind::OneAtATime => "one_at_a_time",
            HashKind::Md5 => "md5",
            HashKind::Crc16 => "crc16",
            HashKind::Crc32 => "crc32",
            HashKind::Crc32a => "crc32a",
            HashKind::Fnv1_64 => "fnv1_64",
            HashKind::Fnv1a_64 => "fnv1a_64",
            HashKind::Fnv1_32 => "fnv1_32",
            HashKind::Fnv1a_32 => "fnv1a_32",
            HashKind::Hsieh => "hsieh",
            HashKind::Murmur => "murmur",
            HashKind::Jenkins => "jenkins",
            HashKind::Murmur3 => "murmur3",
        }
    }

    /// Exact, case-sensitive match, as in Dynomite.
    pub fn parse(s: &str) -> Option<HashKind> {
        HashKind::ALL.into_iter().find(|h| h.name() == s)
    }
}

impl fmt::Display for HashKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where the peer list comes from (`dyn_seed_provider:`), SPEC §1.5.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SeedProvider {
    /// `dyn_seeds` from the file.
    #[default]
    Simple,
    /// Netflix dynomite-manager over HTTP.
    Florida,
    /// A DNS TXT record.
    Dns,
}

impl SeedProvider {
    pub const fn name(&self) -> &'static str {
        match self {
            SeedProvider::Simple => "simple_provider",
            SeedProvider::Florida => "florida_provider",
            SeedProvider::Dns => "dns_provider",
        }
    }

    /// Dynomite's rule: `florida_provider` or `dns_provider` as a prefix, anything else simple.
    pub fn parse_dynomite(s: &str) -> SeedProvider {
        if s.starts_with("florida_provider") {
            SeedProvider::Florida
        } else if s.starts_with("dns_provider") {
            SeedProvider::Dns
        } else {
            SeedProvider::Simple
        }
    }
}

impl fmt::Display for SeedProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which peer links are encrypted (`secure_server_option:`), SPEC §5.4.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SecureOption {
    #[default]
    None,
    Rack,
    Datacenter,
    All,
}

impl SecureOption {
    pub const fn name(&self) -> &'static str {
        match self {
            SecureOption::None => "none",
            SecureOption::Rack => "rack",
            SecureOption::Datacenter => "datacenter",
            SecureOption::All => "all",
        }
    }

    /// Prefix match (`datacenter_only` is `datacenter`), ASCII case-insensitive; `None` if no
    /// option matches (Dynomite then silently uses `none`; we report an error).
    pub fn parse(s: &str) -> Option<SecureOption> {
        [
            SecureOption::None,
            SecureOption::Rack,
            SecureOption::Datacenter,
            SecureOption::All,
        ]
        .into_iter()
        .find(|o| {
            let n = o.name().as_bytes();
            s.len() >= n.len() && s.as_bytes()[..n.len()].eq_ignore_ascii_case(n)
        })
    }
}

impl fmt::Display for SecureOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_names_round_trip() {
        for h in HashKind::ALL {
            assert_eq!(HashKind::parse(h.name()), Some(h));
        }
        assert_eq!(HashKind::parse("Murmur"), None);
        assert_eq!(HashKind::default(), HashKind::Murmur);
    }

    #[test]
    fn provider_and_secure_prefixes() {
        assert_eq!(
            SeedProvider::parse_dynomite("florida_provider"),
            SeedProvider::Florida
        );
        assert_eq!(
            SeedProvider::parse_dynomite("dns_provider_x"),
            SeedProvider::Dns
        );
        assert_eq!(SeedProvider::parse_dynomite("dns"), SeedProvider::Simple);
        assert_eq!(
            SecureOption::parse("datacenter"),
            Some(SecureOption::Datacenter)
        );
        assert_eq!(SecureOption::parse("RACK"), Some(SecureOption::Rack));
        assert_eq!(SecureOption::parse("allx"), Some(SecureOption::All));
        assert_eq!(SecureOption::parse("dc"), None);
    }
}

/// When a hints file is flushed to disk (`hints_fsync`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HintsFsync {
    /// After every kept write.
    Always,
    /// At most a second after a write (the default): a machine crash loses up to a second.
    #[default]
    EverySec,
    /// Left to the kernel. A killed process loses nothing; a machine crash may.
    Never,
}
