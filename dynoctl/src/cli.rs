//! The command line of `dynoctl`: every clap definition, the single source of truth for
//! `--help`, the man page (man/dynoctl.1) and the completions (completions/), plus the value
//! parsers and the few conversions of arguments into the commands' own types.

use std::path::PathBuf;
use std::time::Duration;

use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{ArgGroup, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use dynomite::ring::NETFLIX_OFFSET;
use dynomite::types::Consistency;

use crate::duration::parse_duration;
use crate::repair::rate::{parse_rate, Rate};
use crate::{admin, cluster, tokens};

#[derive(Parser, Debug)]
#[command(
    name = "dynoctl",
    version,
    about = "The operator's command line for dynomite-rs clusters",
    after_long_help = "OUTPUT:\n  Data goes to stdout (a table, or JSON with --json), messages to stderr. Tables have no\n  colours; piped or redirected, they are plain space-separated columns. A closed pipe is not\n  an error.\n\nEXIT STATUS:\n  0 ok; 1 a check found a problem (conf-test, tokens --check, status, health, wait timed\n  out, repair left differences); 2 usage or runtime error (bad flag, unreachable node or endpoint, an admin command\n  the node did not apply, unreadable or invalid file)\n\nREPAIR:\n  dynoctl repair leaves alone keys missing on a rack whose maxmemory-policy may have\n  evicted them: any key under allkeys-lru, allkeys-lfu, allkeys-random; keys with a TTL under\n  volatile-lru, volatile-lfu, volatile-random, volatile-ttl. See dynoctl repair --help.\n\nNODES:\n  NODE is a node's stats and admin address (stats_listen): HOST:PORT, or HOST for port\n  22222. A node with an admin_token answers calls that change it (state set, consistency\n  set, peer, loglevel, ...) only with that token: --admin-token, --admin-token-file or\n  DYNOMITE_ADMIN_TOKEN; without it they fail (exit 2) with HTTP 401.\n\nSEE ALSO:\n  dynomited(8)"
)]
pub struct Cli {
    /// Print JSON instead of a table (seeds: as --format json; not for conf-test or
    /// serve-seeds)
    #[arg(long, global = true)]
    pub json: bool,
    /// The nodes' admin token (their admin_token), sent as "Authorization: Bearer TOKEN" on
    /// every stats-port call [env: DYNOMITE_ADMIN_TOKEN]
    #[arg(long, global = true, value_name = "TOKEN")]
    pub admin_token: Option<String>,
    /// Read the admin token from FILE (its contents, trimmed)
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        conflicts_with = "admin_token"
    )]
    pub admin_token_file: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// The shape of a topology, shared by `tokens` and `gen-config`.
#[derive(Args, Debug)]
pub struct Shape {
    /// Nodes in each rack (slots 0..K-1)
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub nodes_per_rack: u32,
    /// Datacenter names, comma-separated, or a count N for dc1..dcN
    #[arg(
        long,
        value_name = "DC,...",
        value_delimiter = ',',
        default_value = "dc1"
    )]
    pub dcs: Vec<String>,
    /// Offset of the netflix scheme (dynomite-manager's region offset)
    #[arg(long, value_name = "X", default_value_t = NETFLIX_OFFSET)]
    pub offset: u64,
    /// Token formula: netflix = ((2^32-1)/K*slot + offset) mod (2^32-1), the same in every
    /// rack and DC; even = (2^32-1)/K*(slot+1) (Dynomite's generate_yamls.py, no offset)
    #[arg(long, value_enum, default_value_t = SchemeArg::Netflix)]
    pub scheme: SchemeArg,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SchemeArg {
    Netflix,
    Even,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DataStoreArg {
    Redis,
    Memcache,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SeedFormat {
    Table,
    Json,
    /// host:port:rack:dc:token|... as a florida endpoint serves it
    Florida,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Validate config files exactly as `dynomited -t` does: `ok` per valid file, or every
    /// error with file, line, key and fix. Exit 0 if all are valid, 1 if any is not.
    ConfTest {
        /// Config files to check
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// The token of every node of a topology (racks rack1..rackN, slots 0..K-1), ready
    /// dyn_seeds lines (--seeds --hosts), or a check of config files' tokens (--check).
    ///
    /// --check loads each file, puts each file's own node and its seeds into per-rack rings,
    /// and reports duplicate tokens in a rack, nodes whose token differs between files, each
    /// rack's imbalance (largest range / smallest range) and racks of one DC whose token sets
    /// differ (a warning: replicas will not line up for warm-up). Exit 1 on duplicates,
    /// disagreements, or an imbalance above --max-imbalance; 2 if a file does not load.
    Tokens {
        /// Racks per datacenter (named rack1..rackN)
        #[arg(long, value_name = "N", required_unless_present = "check")]
        racks: Option<u32>,
        #[command(flatten)]
        shape: Shape,
        /// Also print dyn_seeds lines host:PEER_PORT:rack:dc:token (needs --hosts)
        #[arg(long, requires = "hosts")]
        seeds: bool,
        /// With --seeds: one host per node, in dc, rack, slot order: a file (one per line) or
        /// a comma-separated list
        #[arg(long, value_name = "FILE|HOST,...", requires = "seeds")]
        hosts: Option<String>,
        /// Peer (dyn_listen) port used in the seed lines
        #[arg(long, value_name = "PORT", default_value_t = 8101)]
        peer_port: u16,
        /// Check the tokens of these config files instead
        #[arg(long, value_name = "FILE", num_args = 1.., conflicts_with_all = ["racks", "seeds"])]
        check: Vec<PathBuf>,
        /// With --check: the largest acceptable largest-range / smallest-range ratio of a rack
        /// [default: 2.0]
        #[arg(long, value_name = "RATIO")]
        max_imbalance: Option<f64>,
    },
    /// Write one Dynomite YAML file per node (DIR/<dc>-<rack>-<slot>.yml): listen, dyn_listen
    /// and stats_listen on the node's host, the datastore on 127.0.0.1, the token from the
    /// formula, every other node as a seed.
    ///
    /// Each file is checked like `dynomited -t` first (so hosts must resolve here); nothing is
    /// written if any would be invalid. Existing files are overwritten.
    GenConfig {
        /// Racks per datacenter (named rack1..rackN)
        #[arg(long, value_name = "N")]
        racks: u32,
        #[command(flatten)]
        shape: Shape,
        /// One host per node, in dc, rack, slot order: a file (one per line) or a
        /// comma-separated list
        #[arg(long, value_name = "FILE|HOST,...")]
        hosts: String,
        /// Datastore port (servers: 127.0.0.1:PORT:1)
        #[arg(long, value_name = "PORT", default_value_t = 22122)]
        redis_port: u16,
        /// Client port (listen)
        #[arg(long, value_name = "PORT", default_value_t = 8102)]
        client_port: u16,
        /// Peer port (dyn_listen and the seeds)
        #[arg(long, value_name = "PORT", default_value_t = 8101)]
        peer_port: u16,
        /// Stats and admin port (stats_listen)
        #[arg(long, value_name = "PORT", default_value_t = 22222)]
        stats_port: u16,
        /// Datastore behind each node
        #[arg(long, value_enum, default_value_t = DataStoreArg::Redis)]
        data_store: DataStoreArg,
        /// dc_one, dc_quorum, dc_safe_quorum or dc_each_safe_quorum
        #[arg(long, value_name = "LEVEL", default_value = "dc_one", value_parser = consistency)]
        read_consistency: Consistency,
        /// dc_one, dc_quorum, dc_safe_quorum or dc_each_safe_quorum
        #[arg(long, value_name = "LEVEL", default_value = "dc_one", value_parser = consistency)]
        write_consistency: Consistency,
        /// Directory for the files (created if missing)
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Print the files instead of writing them
        #[arg(long)]
        dry_run: bool,
    },
    /// List the cluster's nodes (host, port, rack, dc, token) from a config file (the node and
    /// its dyn_seeds), a florida endpoint, the TXT records of a DNS name (dns_provider), or a
    /// running node's /cluster_describe.
    #[command(group(ArgGroup::new("source").required(true).args(["config", "florida", "node", "dns"])))]
    Seeds {
        /// A node's config file
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// A florida endpoint: a URL, or HOST:PORT for http://HOST:PORT/REST/v1/admin/get_seeds
        #[arg(long, value_name = "URL")]
        florida: Option<String>,
        /// A DNS name whose TXT records hold the seed list (as dns_provider reads it)
        #[arg(long, value_name = "NAME")]
        dns: Option<String>,
        /// With --dns: the DNS server to ask (default: the first nameserver of /etc/resolv.conf)
        #[arg(long, value_name = "IP:PORT", requires = "dns")]
        dns_server: Option<String>,
        /// A running node's stats address; reads http://HOST:PORT/cluster_describe
        #[arg(long, value_name = "HOST:PORT")]
        node: Option<String>,
        /// Output format
        #[arg(long, value_enum, default_value_t = SeedFormat::Table, conflicts_with = "json")]
        format: SeedFormat,
    },
    /// Serve a seeds file as a florida endpoint for nodes with dyn_seed_provider:
    /// florida_provider: GET /REST/v1/admin/get_seeds or /api/v1/admin/get_seeds (any case)
    /// answers 200 text/plain with the file's seeds joined by '|'.
    ///
    /// The file holds one host:port:rack:dc:token per line; blank lines and # comments are
    /// skipped. It is read again when its modification time or size changes; if it becomes
    /// invalid, a warning goes to stderr and the last good seeds keep being served.
    #[command(
        after_long_help = "SIGNALS:\n  Runs in the foreground until SIGTERM or SIGINT (Ctrl-C) ends it; there is nothing to\n  clean up.\n\nNODES:\n  dynomited's florida provider asks 127.0.0.1:8080 unless DYNOMITE_FLORIDA_IP and\n  DYNOMITE_FLORIDA_PORT say otherwise."
    )]
    ServeSeeds {
        /// The seeds file
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
        /// Address to listen on
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
        listen: String,
    },
    /// One row per node of the cluster: dc, rack, token, stats address, peer address, state,
    /// up/down as the asked node sees it, client connections, ops/s, p99 latency, errors,
    /// datastore, hints pending. Exit 0 if every node answered, is NORMAL and has its
    /// datastore; 1 otherwise; 2 if --node does not answer.
    ///
    /// The nodes come from one node's /cluster_describe (--node, else the first --config or
    /// --nodes entry that answers). /cluster_describe has each node's address and peer port
    /// but not its stats port: a described node's stats port is taken from --stats-port-map,
    /// else from a --config file whose dyn_listen port is that peer port, else it is the
    /// asked node's own stats port (the same rule as dynotop). With --nodes the stats
    /// addresses are given and matched to described nodes by DC and rack (for clusters on
    /// one host, where nodes differ only by port). ops/s is the change of
    /// client_read_requests + client_write_requests over two /info samples --interval apart;
    /// errors is client_err + forward_error since the node started; hints are those the
    /// node holds for others.
    #[command(group(ArgGroup::new("source").required(true).multiple(true).args(["node", "config", "nodes"])))]
    Status {
        /// A node's stats address; every node is found from its /cluster_describe
        #[arg(long, value_name = "HOST:PORT")]
        node: Option<String>,
        /// Config files, one per node (each node is asked on its stats_listen)
        #[arg(long, value_name = "FILE", num_args = 1..)]
        config: Vec<PathBuf>,
        /// Stats addresses of the nodes, comma-separated
        #[arg(long, value_name = "HOST:PORT,...", value_delimiter = ',')]
        nodes: Vec<String>,
        /// Stats ports of described nodes: PEERPORT=STATSPORT or HOST:PEERPORT=STATSPORT,
        /// comma-separated
        #[arg(long, value_name = "MAP")]
        stats_port_map: Option<String>,
        /// Time between the two /info samples ops/s is computed from (0s: one sample, no
        /// ops/s)
        #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration)]
        interval: Duration,
        /// Timeout of each request to a node
        #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration)]
        timeout: Duration,
    },
    /// Get or set a node's state (normal, standby, writes_only, resuming); prints the state
    /// the node reports afterwards.
    #[command(subcommand)]
    State(StateCmd),
    /// Get or set a node's default read and write consistency (for client connections
    /// accepted afterwards).
    #[command(subcommand)]
    Consistency(ConsistencyCmd),
    /// Mark a peer up or down, or reset its connections, as NODE sees it; prints the peer(s)
    /// as NODE sees them afterwards. PEER is a peer's host or IP as in /cluster_describe
    /// (every peer on that host), or `all` (reset every peer, whatever the action).
    Peer {
        #[arg(value_enum)]
        action: admin::PeerAction,
        /// The node's stats address
        #[arg(value_name = "NODE")]
        node: String,
        /// A peer's host or IP, or `all`
        #[arg(value_name = "PEER")]
        peer: String,
    },
    /// Raise or lower a node's log level by one, or set it (0..11: 5 notice, 6 info, 7 debug,
    /// 11 verbose).
    Loglevel {
        /// The node's stats address
        #[arg(value_name = "NODE")]
        node: String,
        /// up, down or a level 0..11
        #[arg(value_name = "up|down|N", value_parser = admin::parse_log_level)]
        level: admin::LogLevel,
    },
    /// Check a node: its process answers (/ping), its datastore is connected
    /// (datastore_connected > 0 in /info) and its state is NORMAL. Exit 0 healthy, 1 a check
    /// failed, 2 the node does not answer.
    Health {
        /// The node's stats address
        #[arg(value_name = "NODE")]
        node: String,
        /// Timeout of each request
        #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration)]
        timeout: Duration,
    },
    /// Wait until a node reports a state (and with --healthy, passes every `health` check).
    /// A node that does not answer (restarting) is waited for. Exit 0 when reached, 1 on
    /// timeout (saying what was last seen).
    Wait {
        /// The node's stats address
        #[arg(value_name = "NODE")]
        node: String,
        /// The state to wait for
        #[arg(long, value_enum, default_value_t = admin::TargetState::Normal)]
        state: admin::TargetState,
        /// Also wait until the node is healthy (as `dynoctl health`)
        #[arg(long)]
        healthy: bool,
        /// How long to wait: 500ms, 60s, 2m
        #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
        timeout: Duration,
        /// Time between polls
        #[arg(long, value_name = "DURATION", default_value = "200ms", value_parser = parse_duration)]
        interval: Duration,
    },
    /// A local cluster on 127.0.0.1 (one redis-server and one dynomited per node): start it,
    /// stop it, see it, restart one node.
    #[command(subcommand)]
    Cluster(ClusterCmd),
    /// Warm up a node whose Redis is empty or stale from a same-token replica in another rack
    /// of its DC (SLAVEOF, sync, writes_only, SLAVEOF NO ONE, resuming, normal). Exit 0 done,
    /// 1 failed (the message names the state left and the commands to continue or roll back),
    /// 2 usage error, unreachable node or datastore, or a Memcached node.
    Warmup(WarmupArgs),
    /// Make the racks of a DC hold the same data (anti-entropy): compare every key of every
    /// token range on each rack's datastore and write the winner where they differ. Exit 0
    /// when the racks are equal at the end, 1 when differences remain (--report-only, ties,
    /// keys evicted, changed meanwhile or failed), 2 on error.
    ///
    /// The nodes come from their config files (CONF..., one per node, or --dir of a `cluster
    /// up` cluster): each one's datastore (servers:, datastore_password), rack, datacenter,
    /// first token, hash and hash_tag; every node the seeds name in the racks compared must
    /// be given. The walk goes by elementary token ranges (cut at every token of every rack;
    /// a node owns (previous token, token] of its rack): for the ranges with the same owners,
    /// it SCANs each owner's datastore directly, in batches, and has every rack digest each
    /// key in a Lua script (type, absolute expiry from PEXPIRETIME, and the value: sets and
    /// hashes in an order-free form), so no value crosses the network to be compared. A key
    /// that differs is looked at again --recheck-after later (a write in flight is no
    /// difference) and repaired only if it still differs the same way: the winner's DUMP is
    /// written by a script on each target that first checks the key's digest is still the one
    /// seen (RESTORE key expiry payload REPLACE ABSTTL, or DEL when "absent" wins), so a write
    /// that lands meanwhile is never overwritten. Read-repair metadata (keys ._add-set...,
    /// ._rem-set...) is per node: never compared or copied; after the walk each node's is
    /// trimmed of keys that no longer exist (._rem-set members, the tombstones, stay).
    #[command(after_long_help = "WINNERS:
  Read-repair timestamps decide first where a node records any for the key (its score in
  ._add-set and the newest of its fields' in ._add-set_<key>/._rem-set_<key>: the last write;
  its score in ._rem-set: the delete): a delete at least as new as every write wins (the key
  is deleted); else the value of the newest write, if the racks that record it agree. Else
  --prefer: majority (the state most racks hold, \"absent\" being one; a tie is reported and
  left alone) or rack:NAME (that rack's state, absent included).

EVICTION:
  Each datastore's maxmemory-policy is read (CONFIG GET). A key missing on a rack whose
  policy may have evicted it is reported as evicted and not recreated there, and that rack
  does not vote for \"absent\": under allkeys-lru, allkeys-lfu and allkeys-random any key,
  under volatile-lru, volatile-lfu, volatile-random and volatile-ttl keys with a TTL. An
  unreadable policy counts as allkeys-*. Under noeviction every key is repaired.

HINTS:
  Each node's /info is read first (its stats_listen): while a node holds hints, writes some
  rack has not received yet, repair refuses to start (exit 2) unless --ignore-hints, since it
  would take those writes for differences (and a write held for two racks of three for one
  the majority lacks). A node that does not answer is warned about.

RESUME:
  After each unit of ranges the finished ranges are recorded in --state-file (written whole
  through a rename), and every second within a unit the rack and SCAN cursor before which
  every key is resolved; --resume continues from there (a unit whose datastores restarted
  since, from its start). The file belongs to the racks, nodes and tokens it was written for
  (and to --report-only or not), and is removed when the walk ends.

PROGRESS:
  On a terminal, a bar with keys/s and the ETA on stderr; otherwise a line every 5 s and one
  per unit. SCAN may return a key twice when a datastore resizes its table under writes; it
  is then counted twice in scanned, and compared again.

EXAMPLE:
  dynoctl repair --dir dynomite-cluster --report-only
  dynoctl repair /etc/dynomite/dc1-*.yml --rate 20k --recheck-after 10s
  dynoctl repair --dir dynomite-cluster --prefer rack:rack2 --json")]
    Repair(RepairArgs),
}

#[derive(Subcommand, Debug)]
pub enum ClusterCmd {
    /// Start a local cluster on 127.0.0.1: one redis-server (no persistence) and one dynomited
    /// per node, configs from the token formula (as gen-config), each node listing the others
    /// as seeds. Returns once every node answers /info, has its datastore connected and a
    /// connection to every peer; prints the nodes and how to use them.
    ///
    /// Node i (1-based, in dc, rack, slot order) uses the ports BASE+10*(i-1)+1 peer, +2
    /// client, +3 stats and admin, +4 redis-server: with the default base 8100, node 1 is
    /// 8101/8102/8103/8104, node 2 8111/8112/8113/8114. All are checked free first. DIR gets
    /// each node's config (<dc>-<rack>-<slot>.yml), logs (<dc>-<rack>-<slot>.log and
    /// .redis.log) and cluster.json (nodes, ports, PIDs, files), which the other `cluster`
    /// commands read. The processes run detached (own process group, stdin closed, output to
    /// the logs) and outlive dynoctl; stop them with `dynoctl cluster down`. If a process
    /// fails to start, everything started is stopped and the message names the process and
    /// its log (exit 2).
    #[command(after_long_help = "PROGRAMS:
  dynomited: --dynomited, else the one next to the dynoctl executable, else on PATH.
  redis-server: --redis-server, else on PATH.

EXAMPLE:
  dynoctl cluster up --racks 3
  redis-cli -p 8102 set hello world
  redis-cli -p 8124 get hello       # rack3's own redis-server
  dynoctl cluster down")]
    Up {
        /// Racks per datacenter (named rack1..rackN)
        #[arg(long, value_name = "N")]
        racks: u32,
        #[command(flatten)]
        shape: Shape,
        /// Directory for the configs, logs and cluster.json (created if missing)
        #[arg(long, value_name = "DIR", default_value = cluster::DEFAULT_DIR)]
        dir: PathBuf,
        /// First port of the range; node i uses BASE+10*(i-1)+1..4
        #[arg(long, value_name = "PORT", default_value_t = cluster::DEFAULT_BASE_PORT)]
        base_port: u16,
        /// The dynomited executable
        #[arg(long, value_name = "PATH")]
        dynomited: Option<PathBuf>,
        /// The redis-server executable
        #[arg(long, value_name = "PATH")]
        redis_server: Option<PathBuf>,
        /// Read and write consistency of every node: dc_one, dc_quorum, dc_safe_quorum or
        /// dc_each_safe_quorum
        #[arg(long, value_name = "LEVEL", default_value = "dc_one", value_parser = consistency)]
        consistency: Consistency,
        /// How long to wait for every node to be ready
        #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
        timeout: Duration,
    },
    /// Stop a cluster started by `cluster up`: SIGTERM to each recorded PID whose
    /// /proc/PID/cmdline still names dynomited or redis-server (a recycled PID is left
    /// alone), dynomited first; SIGKILL whatever still runs 10 s later; then remove
    /// cluster.json. Configs and logs stay.
    Down {
        /// The cluster's directory
        #[arg(long, value_name = "DIR", default_value = cluster::DEFAULT_DIR)]
        dir: PathBuf,
    },
    /// `dynoctl status` over the nodes recorded in cluster.json.
    Status {
        /// The cluster's directory
        #[arg(long, value_name = "DIR", default_value = cluster::DEFAULT_DIR)]
        dir: PathBuf,
        /// Time between the two /info samples ops/s is computed from
        #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration)]
        interval: Duration,
        /// Timeout of each request to a node
        #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration)]
        timeout: Duration,
    },
    /// Restart one node's dynomited: stop it by its recorded PID (SIGTERM, SIGKILL after
    /// 10 s), start it again with the same config and log file, record the new PID, and wait
    /// until it is ready (healthy and connected to its peers). Its redis-server keeps running.
    /// The restart command of examples/rolling-restart.sh for these clusters.
    RestartNode {
        /// The cluster's directory
        #[arg(long, value_name = "DIR", default_value = cluster::DEFAULT_DIR)]
        dir: PathBuf,
        /// The node: its number (1..N, as `cluster up` lists them) or its stats or client
        /// address
        #[arg(value_name = "NODE")]
        node: String,
        /// How long to wait for the restarted node to be ready
        #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
        timeout: Duration,
    },
}

#[derive(Subcommand, Debug)]
pub enum StateCmd {
    /// Print the node's state (NORMAL, STANDBY, WRITES_ONLY, RESUMING, ...)
    Get {
        /// The node's stats address
        #[arg(value_name = "NODE")]
        node: String,
    },
    /// Set the node's state and print it as the node reports it afterwards
    Set {
        /// The node's stats address
        #[arg(value_name = "NODE")]
        node: String,
        #[arg(value_enum, value_name = "STATE")]
        state: admin::TargetState,
    },
}

#[derive(Subcommand, Debug)]
pub enum ConsistencyCmd {
    /// Print the node's read and write consistency
    Get {
        /// The node's stats address
        #[arg(value_name = "NODE")]
        node: String,
    },
    /// Set the read consistency, the write consistency or both; prints both afterwards
    #[command(group(ArgGroup::new("level").required(true).multiple(true).args(["read", "write"])))]
    Set {
        /// The node's stats address
        #[arg(value_name = "NODE")]
        node: String,
        /// dc_one, dc_quorum, dc_safe_quorum or dc_each_safe_quorum
        #[arg(long, value_name = "LEVEL", value_parser = consistency)]
        read: Option<Consistency>,
        /// dc_one, dc_quorum, dc_safe_quorum or dc_each_safe_quorum
        #[arg(long, value_name = "LEVEL", value_parser = consistency)]
        write: Option<Consistency>,
    },
}

/// Arguments of `dynoctl warmup`.
#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("own").required(true).multiple(true).args(["datastore", "config"])))]
#[command(group(clap::ArgGroup::new("peers").required(true).multiple(true).args(["peer_datastore", "peer_config"])))]
pub struct WarmupArgs {
    /// The stats address of the node to warm up
    #[arg(value_name = "NODE")]
    pub node: String,
    /// The node's datastore (its redis-server), HOST:PORT
    #[arg(long, value_name = "HOST:PORT")]
    pub datastore: Option<String>,
    /// The node's config file: its datastore (servers:), data_store, token and
    /// datastore_password
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// A replica's datastore, HOST:PORT (repeat or comma-separate for several: the one whose
    /// redis-server has been up longest is the source)
    #[arg(long, value_name = "HOST:PORT", value_delimiter = ',')]
    pub peer_datastore: Vec<String>,
    /// Other nodes' config files: those of the node's DC with its token in another rack are
    /// the candidates (their servers: datastore; their stats_listen for their uptime)
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub peer_config: Vec<PathBuf>,
    /// In sync when the replica is at most this many bytes behind the source
    #[arg(long, value_name = "BYTES", default_value_t = 1_000_000)]
    pub max_lag_bytes: u64,
    /// Give up the sync after this long: 90s, 20m
    #[arg(long, value_name = "DURATION", default_value = "20m", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Give up when the gap grows this many polls in a row (writes outrun the sync)
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub max_growing_polls: u32,
    /// Time between polls of the replication offsets
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration)]
    pub interval: Duration,
    /// How long the node stays RESUMING (sending the writes it held) before NORMAL
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration)]
    pub resume_wait: Duration,
    /// Warm up even from a source that holds no keys while the node's datastore holds some
    #[arg(long)]
    pub force: bool,
    /// Print the plan (source, steps, thresholds) and change nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// `--prefer`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PreferArg {
    Majority,
    /// A rack's name (`rack`, or `dc/rack`).
    Rack(String),
}

/// `majority` or `rack:NAME`.
fn parse_prefer(s: &str) -> Result<PreferArg, String> {
    match s.trim() {
        "majority" => Ok(PreferArg::Majority),
        r => match r.strip_prefix("rack:") {
            Some(name) if !name.trim().is_empty() => Ok(PreferArg::Rack(name.trim().to_string())),
            _ => Err("want majority or rack:NAME".into()),
        },
    }
}

/// Arguments of `dynoctl repair`.
#[derive(clap::Args, Debug)]
#[command(group(ArgGroup::new("nodes").required(true).multiple(true).args(["configs", "dir"])))]
pub struct RepairArgs {
    /// Every node's config file
    #[arg(value_name = "CONF")]
    pub configs: Vec<PathBuf>,
    /// A cluster started by `dynoctl cluster up`: the configs its cluster.json names
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The DC whose racks are compared [default: the only DC of the configs]
    #[arg(long, value_name = "DC", conflicts_with = "all_dcs")]
    pub dc: Option<String>,
    /// Compare the racks of every DC, all with each other
    #[arg(long)]
    pub all_dcs: bool,
    /// Who wins where no read-repair timestamps decide: majority, or rack:NAME
    #[arg(long, value_name = "majority|rack:NAME", default_value = "majority", value_parser = parse_prefer)]
    pub prefer: PreferArg,
    /// Compare and report what would be repaired; change nothing
    #[arg(long)]
    pub report_only: bool,
    /// Time between the two looks at a differing key
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub recheck_after: Duration,
    /// Keys taken from the racks' SCANs per second at most, summed over racks: 5000keys/s,
    /// 20k; unlimited (or 0) for no limit
    #[arg(long, value_name = "RATE", default_value = "5000keys/s", value_parser = parse_rate)]
    pub rate: Rate,
    /// Keys per SCAN and per script call on a datastore
    #[arg(long, value_name = "N", default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub batch: u32,
    /// Walk even while nodes hold hints (writes not yet delivered to a peer, which the walk
    /// would take for differences)
    #[arg(long)]
    pub ignore_hints: bool,
    /// Continue the walk recorded in --state-file after its last finished token range
    #[arg(long)]
    pub resume: bool,
    /// Where the walk records its finished token ranges
    #[arg(long, value_name = "FILE", default_value = "dynoctl-repair.json")]
    pub state_file: PathBuf,
    /// Timeout of each datastore request
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub timeout: Duration,
}

/// The command line of this process. `--json` is global, so clap takes it before or after
/// any command; two rules clap cannot see across levels are checked here, with the usage
/// errors (exit 2) these command lines got before `--json` was global: conf-test and
/// serve-seeds print no table and refuse it, and seeds refuses it with `--format`.
pub fn parse() -> Result<Cli, clap::Error> {
    parse_from(std::env::args_os())
}

fn parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let mut cmd = Cli::command();
    let matches = cmd.try_get_matches_from_mut(args)?;
    let cli = Cli::from_arg_matches(&matches)?;
    if !cli.json {
        return Ok(cli);
    }
    let refused = match (&cli.command, matches.subcommand()) {
        (Command::Seeds { .. }, Some((name, m)))
            if m.value_source("format") == Some(ValueSource::CommandLine) =>
        {
            Some((
                name,
                ErrorKind::ArgumentConflict,
                "the argument '--json' cannot be used with '--format <FORMAT>'",
            ))
        }
        (Command::ConfTest { .. } | Command::ServeSeeds { .. }, Some((name, _))) => Some((
            name,
            ErrorKind::UnknownArgument,
            "unexpected argument '--json' found",
        )),
        _ => None,
    };
    match refused {
        None => Ok(cli),
        Some((name, kind, message)) => {
            let sub = cmd
                .find_subcommand_mut(name)
                .expect("the subcommand just parsed");
            Err(sub.error(kind, message))
        }
    }
}

/// A consistency level, exactly as named (any case).
pub fn consistency(s: &str) -> Result<Consistency, String> {
    match Consistency::parse_dynomite(s) {
        Some(c) if c.name().len() == s.len() => Ok(c),
        _ => Err("must be one of dc_one, dc_quorum, dc_safe_quorum, dc_each_safe_quorum".into()),
    }
}

impl Shape {
    pub fn layout(&self, racks: u32) -> tokens::Layout {
        tokens::Layout {
            dcs: dc_names(&self.dcs),
            racks,
            nodes_per_rack: self.nodes_per_rack,
            offset: self.offset,
            scheme: match self.scheme {
                SchemeArg::Netflix => tokens::Scheme::Netflix,
                SchemeArg::Even => tokens::Scheme::Even,
            },
        }
    }
}

/// `--dcs`: names as given, or a lone count N for dc1..dcN.
fn dc_names(dcs: &[String]) -> Vec<String> {
    match dcs {
        [one] => match one.trim().parse::<u32>() {
            Ok(n) if n > 0 => (1..=n).map(|i| format!("dc{i}")).collect(),
            _ => vec![one.trim().to_string()],
        },
        _ => dcs.iter().map(|d| d.trim().to_string()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn man_page_and_completions_are_current() {
        dynomite::cli::check_docs(Cli::command(), "dynoctl", "1").unwrap();
    }

    fn json(args: &str) -> Result<bool, ErrorKind> {
        parse_from(args.split_whitespace())
            .map(|c| c.json)
            .map_err(|e| e.kind())
    }

    #[test]
    fn json_after_every_command_that_prints_a_table() {
        for args in [
            "tokens --racks 3",
            "tokens --check a.yml b.yml",
            "gen-config --racks 3 --hosts a,b,c --out d",
            "seeds --config a.yml",
            "seeds --florida h:1",
            "status --node h:1",
            "status --nodes a:1,b:2",
            "state get h:1",
            "state set h:1 standby",
            "consistency get h:1",
            "consistency set h:1 --read dc_one",
            "peer down h:1 10.0.0.1",
            "loglevel h:1 up",
            "health h:1",
            "wait h:1 --healthy",
            "cluster up --racks 3",
            "cluster down",
            "cluster status",
            "cluster restart-node 2",
            "warmup h:1 --datastore h:2 --peer-datastore h:3",
            "repair a.yml b.yml",
            "repair --dir d --report-only",
        ] {
            assert_eq!(json(&format!("dynoctl {args}")), Ok(false), "{args}");
            assert_eq!(json(&format!("dynoctl {args} --json")), Ok(true), "{args}");
            assert_eq!(json(&format!("dynoctl --json {args}")), Ok(true), "{args}");
        }
        // Where a command takes a list, --json still ends it.
        let c = parse_from(["dynoctl", "tokens", "--check", "a.yml", "--json"]).unwrap();
        assert!(c.json);
        assert!(matches!(c.command, Command::Tokens { check, .. } if check.len() == 1));
    }

    #[test]
    fn json_refused_where_it_was_refused() {
        use ErrorKind::{ArgumentConflict, UnknownArgument};
        assert_eq!(json("dynoctl conf-test a.yml --json"), Err(UnknownArgument));
        assert_eq!(json("dynoctl --json conf-test a.yml"), Err(UnknownArgument));
        assert_eq!(
            json("dynoctl serve-seeds --file f --json"),
            Err(UnknownArgument)
        );
        assert_eq!(json("dynoctl conf-test a.yml"), Ok(false));
        // seeds: --json is --format json, and the two do not go together.
        for args in [
            "seeds --config a.yml --json --format table",
            "seeds --config a.yml --format json --json",
            "seeds --json --config a.yml --format florida",
            "--json seeds --config a.yml --format florida",
        ] {
            assert_eq!(
                json(&format!("dynoctl {args}")),
                Err(ArgumentConflict),
                "{args}"
            );
        }
        assert_eq!(
            json("dynoctl seeds --config a.yml --format json"),
            Ok(false)
        );
    }

    #[test]
    fn repair_arguments() {
        let c = parse_from(["dynoctl", "repair", "a.yml", "b.yml"]).unwrap();
        let Command::Repair(a) = c.command else {
            panic!("not repair")
        };
        assert_eq!(a.configs.len(), 2);
        assert_eq!(a.prefer, PreferArg::Majority);
        assert_eq!(a.rate, Rate(Some(5000)));
        assert_eq!(a.recheck_after, Duration::from_secs(5));
        assert_eq!(a.state_file, PathBuf::from("dynoctl-repair.json"));
        let c = parse_from(
            "dynoctl repair --dir d --prefer rack:rack2 --rate unlimited --recheck-after 200ms"
                .split_whitespace(),
        )
        .unwrap();
        let Command::Repair(a) = c.command else {
            panic!("not repair")
        };
        assert_eq!(a.prefer, PreferArg::Rack("rack2".into()));
        assert_eq!(a.rate, Rate(None));
        assert_eq!(a.recheck_after, Duration::from_millis(200));
        let kind = |args: &str| {
            parse_from(format!("dynoctl repair {args}").split_whitespace())
                .err()
                .map(|e| e.kind())
        };
        assert_eq!(kind(""), Some(ErrorKind::MissingRequiredArgument));
        assert_eq!(
            kind("a.yml --prefer newest"),
            Some(ErrorKind::ValueValidation)
        );
        assert_eq!(
            kind("a.yml --prefer rack:"),
            Some(ErrorKind::ValueValidation)
        );
        assert_eq!(
            kind("a.yml --dc dc1 --all-dcs"),
            Some(ErrorKind::ArgumentConflict)
        );
        assert_eq!(kind("a.yml --batch 0"), Some(ErrorKind::ValueValidation));
    }

    #[test]
    fn dcs_by_name_or_count() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(dc_names(&v(&["2"])), v(&["dc1", "dc2"]));
        assert_eq!(dc_names(&v(&["dc1", " east "])), v(&["dc1", "east"]));
        assert_eq!(dc_names(&v(&["west"])), v(&["west"]));
        assert_eq!(dc_names(&v(&["0"])), v(&["0"]));
    }
}
