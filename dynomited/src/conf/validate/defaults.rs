//! The defaults Dynomite applies in `conf_validate_pool` (SPEC §1.2), and ours.

pub const STATS_LISTEN: &str = "0.0.0.0:22222";
pub const RACK: &str = "localrack";
pub const DATACENTER: &str = "localdc";
pub const TIMEOUT_MS: u64 = 5000;
pub const BACKLOG: u32 = 512;
pub const CLIENT_CONNECTIONS: u32 = 0;
pub const PRECONNECT: bool = true;
pub const AUTO_EJECT_HOSTS: bool = true;
pub const SERVER_RETRY_TIMEOUT_MS: u64 = 10_000;
pub const SERVER_FAILURE_LIMIT: u32 = 3;
pub const DYN_READ_TIMEOUT_MS: u64 = 10_000;
pub const DYN_WRITE_TIMEOUT_MS: u64 = 10_000;
pub const DYN_CONNECTIONS: u32 = 100;
pub const DYN_PORT: u32 = 0;
pub const GOS_INTERVAL_MS: u64 = 30_000;
pub const ENABLE_GOSSIP: bool = false;
pub const PEM_KEY_FILE: &str = "conf/dynomite.pem";
pub const RECON_KEY_FILE: &str = "conf/recon_key.pem";
pub const RECON_IV_FILE: &str = "conf/recon_iv.pem";
pub const ENV: &str = "aws";
pub const CONN_MSG_RATE: u32 = 50_000;
pub const READ_REPAIRS_ENABLED: bool = false;
pub const ALLOW_FLUSH: bool = false;
pub const STATS_INTERVAL_MS: u64 = 30_000;
/// Used when neither `mbuf_size` nor `-m` is given.
pub const MBUF_SIZE: usize = 16384;
pub const MBUF_SIZE_MIN: usize = 512;
pub const MBUF_SIZE_MAX: usize = 512_000;
/// Used when neither `max_msgs` nor `-M` is given.
pub const MAX_MSGS: usize = 200_000;
pub const MAX_MSGS_MIN: usize = 100_000;
pub const MAX_MSGS_MAX: usize = 1_000_000;
pub const DATASTORE_CONNECTIONS: u32 = 1;
/// Ours: seconds, not Dynomite's 20 minutes of gossip silence.
pub const PEER_DOWN_AFTER_MS: u64 = 3000;
pub const HINTS_MAX_PER_PEER: u64 = 100_000;
pub const HINTS_MAX_BYTES_PER_PEER: u64 = 64 << 20;
/// Three hours, Cassandra's `max_hint_window`.
pub const HINTS_MAX_AGE_MS: u64 = 3 * 3600 * 1000;
pub const LOCAL_PEER_CONNECTIONS: u32 = 1;
pub const REMOTE_PEER_CONNECTIONS: u32 = 1;
/// Redis refuses a multibulk length above INT_MAX.
pub const MAX_MULTIBULK_LEN: u64 = i32::MAX as u64;
/// Redis's client-query-buffer-limit.
pub const CLIENT_QUERY_BUFFER_LIMIT: u64 = 1 << 30;
pub const MAX_GOSSIP_NODES: u32 = 1024;
