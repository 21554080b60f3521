//! Tests of the whole configuration pipeline: defaults, Dynomite's own example files, every
//! error class (the `tests/fixtures/conf-invalid` files), and the shipped `conf/*.yml`.

use std::path::{Path, PathBuf};

use super::*;
use crate::types::{Consistency, DataStore};

const MIN: &str = "dyn_o_mite:\n  listen: 127.0.0.1:8102\n  servers:\n  - 127.0.0.1:6379:1\n";

fn ok(text: &str) -> Config {
    match parse_str(text, "t.yml") {
        Ok(c) => c,
        Err(e) => panic!("expected a valid config, got:\n{e}\n--- text:\n{text}"),
    }
}

fn errs(text: &str) -> Vec<String> {
    match parse_str(text, "t.yml") {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(e) => e.lines(),
    }
}

fn with(extra: &str) -> String {
    format!("{MIN}{extra}")
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Found by fuzzing: a syntax error at the end of a text whose last line has no line end
/// named a line past the end of the file.
#[test]
fn yaml_errors_at_the_end_name_the_last_line() {
    for text in ["  l:\n  s", "dyn_o_mite:\n  listen: 127.0.0.1:8102\n  x"] {
        let last = text.lines().count();
        for e in errs(text) {
            assert!(e.starts_with(&format!("t.yml:{last}: ")), "{e}");
        }
    }
}

#[test]
fn every_default() {
    let c = ok(MIN);
    assert_eq!(c.file, PathBuf::from("t.yml"));
    assert_eq!(c.pool_name, "dyn_o_mite");
    assert_eq!(c.net.listen.to_string(), "127.0.0.1:8102");
    assert!(c.net.dyn_listen.is_none());
    match &c.net.stats_listen {
        Listen::Tcp { host, addr } => {
            assert_eq!(host, "0.0.0.0");
            assert_eq!(*addr, "0.0.0.0:22222".parse().unwrap());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c.backend.server.name, "127.0.0.1:6379");
    assert_eq!(c.data_store, DataStore::Redis);
    assert!(c.tokens.is_empty());
    assert_eq!(c.rack, "localrack");
    assert_eq!(c.datacenter, "localdc");
    assert!(c.peering.dyn_seeds.is_empty());
    assert_eq!(c.peering.dyn_seed_provider, SeedProvider::Simple);
    assert!(!c.has_peers());
    assert_eq!(c.hash, HashKind::Murmur);
    assert_eq!(c.hash_tag, None);
    assert_eq!(c.backend.timeout_ms, 5000);
    assert_eq!(c.net.backlog, 512);
    assert_eq!(c.net.client_connections, 0);
    assert!(c.backend.preconnect);
    assert!(c.backend.auto_eject_hosts);
    assert_eq!(c.backend.server_retry_timeout_ms, 10000);
    assert_eq!(c.backend.server_failure_limit, 3);
    assert_eq!(c.peering.dyn_read_timeout_ms, 10000);
    assert_eq!(c.peering.dyn_write_timeout_ms, 10000);
    assert_eq!(c.peering.dyn_connections, 100);
    assert_eq!(c.peering.dyn_port, 0);
    assert_eq!(c.peering.gos_interval_ms, 30000);
    assert!(!c.peering.enable_gossip);
    assert_eq!(c.security.secure_server_option, SecureOption::None);
    assert_eq!(c.security.pem_key_file, PathBuf::from("conf/dynomite.pem"));
    assert_eq!(
        c.security.recon_key_file,
        PathBuf::from("conf/recon_key.pem")
    );
    assert_eq!(c.security.recon_iv_file, PathBuf::from("conf/recon_iv.pem"));
    assert_eq!(c.env, "aws");
    assert_eq!(c.peering.conn_msg_rate, 50000);
    assert_eq!(c.read_consistency, Consistency::DcOne);
    assert_eq!(c.write_consistency, Consistency::DcOne);
    assert!(!c.read_repairs_enabled);
    assert_eq!(c.net.stats_interval_ms, 30000);
    assert_eq!(c.mbuf_size, None);
    assert_eq!(c.max_msgs, None);
    assert_eq!(c.backend.datastore_connections, 1);
    assert_eq!(c.peering.local_peer_connections, 1);
    assert_eq!(c.peering.remote_peer_connections, 1);
    assert!(c.security.requirepass.is_empty());
    assert!(c.security.users.is_empty());
    assert_eq!(c.security.admin_token, None);
    assert_eq!(c.backend.datastore_password, None);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn zero_means_default_for_numbers() {
    let c = ok(&with(
        "  timeout: 0\n  backlog: 0\n  gos_interval: 0\n  mbuf_size: 0\n  max_msgs: 0\n  data_store: 0\n  datastore_connections: 0\n",
    ));
    assert_eq!(c.backend.timeout_ms, 5000);
    assert_eq!(c.net.backlog, 512);
    assert_eq!(c.peering.gos_interval_ms, 30000);
    assert_eq!(c.mbuf_size, None);
    assert_eq!(c.max_msgs, None);
    assert_eq!(c.data_store, DataStore::Redis);
    assert_eq!(c.backend.datastore_connections, 1);
}

#[test]
fn every_key_set() {
    let text = "\
cluster_a:
  listen: 0.0.0.0:9102
  dyn_listen: :9101
  stats_listen: 127.0.0.1:9222
  servers:
  - 127.0.0.1:11211:2 mc-a
  data_store: 1
  tokens: 12345678,87654321
  rack: r1
  datacenter: d1
  dyn_seeds:
  - 127.0.0.2:9101:r2:d1:12345678
  dyn_seed_provider: simple_provider
  hash: fnv1a_64
  hash_tag: '{}'
  timeout: 150000
  backlog: 1024
  client_connections: 10
  preconnect: false
  auto_eject_hosts: false
  server_retry_timeout: 2000
  server_failure_limit: 5
  dyn_read_timeout: 1000
  dyn_write_timeout: 1001
  dyn_connections: 7
  dyn_port: 9101
  gos_interval: 1000
  enable_gossip: true
  secure_server_option: rack
  pem_key_file: /etc/dyn/key.pem
  recon_key_file: /etc/dyn/rk.pem
  recon_iv_file: /etc/dyn/ri.pem
  env: network
  conn_msg_rate: 100
  read_consistency: dc_safe_quorum
  write_consistency: DC_EACH_SAFE_QUORUM
  read_repairs_enabled: true
  stats_interval: 10000
  mbuf_size: 32768
  max_msgs: 1000000
  datastore_connections: 3
  local_peer_connections: 4
  remote_peer_connections: 255
  requirepass: 'p@ss: word'
  datastore_password: \"s3cret #1\"
";
    let c = ok(text);
    assert_eq!(c.pool_name, "cluster_a");
    assert_eq!(c.net.listen.to_string(), "0.0.0.0:9102");
    match c.net.dyn_listen.as_ref() {
        Some(Listen::Tcp { host, addr }) => {
            assert_eq!(host, "");
            assert_eq!(*addr, "0.0.0.0:9101".parse().unwrap());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c.net.stats_listen.port(), 9222);
    assert_eq!(c.backend.server.name, "mc-a");
    assert_eq!((c.backend.server.port, c.backend.server.weight), (11211, 2));
    assert_eq!(c.data_store, DataStore::Memcache);
    assert_eq!(c.tokens, vec![12345678, 87654321]);
    assert_eq!((c.rack.as_str(), c.datacenter.as_str()), ("r1", "d1"));
    assert_eq!(c.peering.dyn_seeds.len(), 1);
    assert_eq!(c.peering.dyn_seeds[0].rack, "r2");
    assert_eq!(c.hash, HashKind::Fnv1a_64);
    assert_eq!(c.hash_tag, Some(*b"{}"));
    assert_eq!(c.backend.timeout_ms, 150000);
    assert_eq!(c.net.backlog, 1024);
    assert_eq!(c.net.client_connections, 10);
    assert!(!c.backend.preconnect);
    assert!(!c.backend.auto_eject_hosts);
    assert_eq!(c.backend.server_retry_timeout_ms, 2000);
    assert_eq!(c.backend.server_failure_limit, 5);
    assert_eq!(
        (
            c.peering.dyn_read_timeout_ms,
            c.peering.dyn_write_timeout_ms
        ),
        (1000, 1001)
    );
    assert_eq!((c.peering.dyn_connections, c.peering.dyn_port), (7, 9101));
    assert_eq!(c.peering.gos_interval_ms, 1000);
    assert!(c.peering.enable_gossip);
    assert_eq!(c.security.secure_server_option, SecureOption::Rack);
    assert_eq!(c.security.pem_key_file, PathBuf::from("/etc/dyn/key.pem"));
    assert_eq!(c.security.recon_key_file, PathBuf::from("/etc/dyn/rk.pem"));
    assert_eq!(c.security.recon_iv_file, PathBuf::from("/etc/dyn/ri.pem"));
    assert_eq!(c.env, "network");
    assert_eq!(c.peering.conn_msg_rate, 100);
    assert_eq!(c.read_consistency, Consistency::DcSafeQuorum);
    assert_eq!(c.write_consistency, Consistency::DcEachSafeQuorum);
    assert!(c.read_repairs_enabled);
    assert_eq!(c.net.stats_interval_ms, 10000);
    assert_eq!(c.mbuf_size, Some(32768));
    assert_eq!(c.max_msgs, Some(1_000_000));
    assert_eq!(
        (
            c.backend.datastore_connections,
            c.peering.local_peer_connections,
            c.peering.remote_peer_connections
        ),
        (3, 4, 255)
    );
    assert_eq!(c.security.requirepass, ["p@ss: word"]);
    assert_eq!(c.backend.datastore_password.as_deref(), Some("s3cret #1"));
    // The no-op keys are accepted with one warning each.
    let w = c.warnings.join("\n");
    for k in [
        "dyn_read_timeout",
        "dyn_write_timeout",
        "dyn_connections",
        "dyn_port",
    ] {
        assert!(
            w.contains(&format!("cluster_a.{k}: accepted for compatibility")),
            "{k}: {w}"
        );
    }
    assert_eq!(c.warnings.len(), 6, "{w}");
    assert!(
        c.warnings[0].starts_with("t.yml:23: cluster_a.dyn_read_timeout: "),
        "{w}"
    );
}

/// Dynomite's shipped `conf/` files, written from SPEC §1.4 in Dynomite's own style.
const DYNOMITE_FILES: &[(&str, &str)] = &[
    (
        "dynomite.yml",
        "dyn_o_mite:\n  dyn_listen: 127.0.0.1:8101\n  data_store: 0\n  listen: 127.0.0.1:8102\n  dyn_seed_provider: simple_provider\n  servers:\n  - 127.0.0.1:22122:1\n  tokens: 101134286\n  mbuf_size: 16384\n  max_msgs: 300000\n",
    ),
    (
        "redis_single.yml",
        "dyn_o_mite:\n  datacenter: dc\n  rack: rack1\n  dyn_listen: 0.0.0.0:8101\n  listen: 0.0.0.0:8102\n  dyn_seed_provider: simple_provider\n  servers:\n  - 127.0.0.1:22122:1\n  tokens: 437425602\n  data_store: 0\n  stats_listen: 0.0.0.0:22222\n",
    ),
    (
        "mc_single.yml",
        "dyn_o_mite:\n  datacenter: dc\n  rack: rack1\n  dyn_listen: 0.0.0.0:8101\n  listen: 0.0.0.0:8102\n  servers:\n  - 127.0.0.1:22122:1\n  tokens: '437425602'\n  data_store: 1\n",
    ),
    (
        "dynomite_dns_single.yml",
        "dyn_o_mite:\n  datacenter: dc\n  rack: rack1\n  dyn_listen: 0.0.0.0:8101\n  listen: 0.0.0.0:8102\n  dyn_seed_provider: dns_provider\n  servers:\n  - 127.0.0.1:6379:1\n  tokens: '0'\n  data_store: 0\n",
    ),
    (
        "dynomite_florida_single.yml",
        "dyn_o_mite:\n  datacenter: dc\n  rack: rack1\n  dyn_listen: 0.0.0.0:8101\n  listen: 0.0.0.0:8102\n  dyn_seed_provider: florida_provider\n  servers:\n  - 127.0.0.1:6379:1\n  tokens: '0'\n  secure_server_option: datacenter\n  pem_key_file: conf/dynomite.pem\n  data_store: 0\n  stats_listen: 0.0.0.0:22222\n",
    ),
    (
        "node1.yml",
        "dyn_o_mite:\n  datacenter: dc1\n  rack: rack1\n  dyn_listen: 127.0.0.1:8101\n  dyn_seeds:\n  - 127.0.0.1:8113:rack1:dc2:101134286\n  listen: 127.0.0.1:8102\n  servers:\n  - 127.0.0.1:11371:1\n  tokens: '101134286'\n  preconnect: true\n  stats_listen: 0.0.0.0:33331\n",
    ),
    (
        "node2.yml",
        "dyn_o_mite:\n  datacenter: dc2\n  rack: rack1\n  dyn_listen: 127.0.0.1:8113\n  dyn_seeds:\n  - 127.0.0.1:8101:rack1:dc1:101134286\n  listen: 127.0.0.1:8114\n  servers:\n  - 127.0.0.1:11370:1\n  tokens: '101134286'\n  preconnect: true\n  stats_listen: 0.0.0.0:33333\n",
    ),
    (
        "redis_dc1.yml",
        "dyn_o_mite:\n  datacenter: dc1\n  rack: rack1\n  dyn_listen: 127.0.0.1:8101\n  dyn_seeds:\n  - 127.0.0.2:8101:rack2:dc2:1383429731\n  listen: 127.0.0.1:8102\n  servers:\n  - 127.0.0.1:22122:1\n  tokens: '12345678'\n  secure_server_option: datacenter\n  pem_key_file: conf/dynomite.pem\n  data_store: 0\n  stats_listen: 127.0.0.1:22221\n  datastore_connections: 3\n  local_peer_connections: 3\n  remote_peer_connections: 3\n",
    ),
    (
        "redis_dc2.yml",
        "dyn_o_mite:\n  datacenter: dc2\n  rack: rack2\n  dyn_listen: 127.0.0.2:8101\n  dyn_seeds:\n  - 127.0.0.1:8101:rack1:dc1:12345678\n  listen: 127.0.0.2:8102\n  servers:\n  - 127.0.0.1:22123:1\n  tokens: '1383429731'\n  secure_server_option: datacenter\n  pem_key_file: conf/dynomite.pem\n  data_store: 0\n  stats_listen: 127.0.0.1:22222\n  datastore_connections: 3\n  local_peer_connections: 3\n  remote_peer_connections: 3\n",
    ),
    (
        "redis_node1.yml",
        "dyn_o_mite:\n  datacenter: dc\n  rack: rack\n  dyn_listen: 127.0.0.1:8101\n  dyn_seeds:\n  - 127.0.0.2:8101:rack:dc:1383429731\n  listen: 127.0.0.1:8102\n  servers:\n  - 127.0.0.1:22122:1\n  tokens: '12345678'\n  data_store: 0\n  stats_listen: 127.0.0.1:22222\n",
    ),
    (
        "redis_node2.yml",
        "dyn_o_mite:\n  datacenter: dc\n  rack: rack\n  dyn_listen: 127.0.0.2:8101\n  dyn_seeds:\n  - 127.0.0.1:8101:rack:dc:12345678\n  listen: 127.0.0.2:8102\n  servers:\n  - 127.0.0.1:22123:1\n  tokens: '1383429731'\n  data_store: 0\n  stats_listen: 127.0.0.1:22223\n",
    ),
    (
        "redis_rack1_node.yml",
        "dyn_o_mite:\n  datacenter: dc\n  rack: rack1\n  dyn_listen: 127.0.0.1:8101\n  dyn_seeds:\n  - 127.0.0.2:8101:rack2:dc:1383429731\n  - 127.0.0.3:8101:rack3:dc:1383429731\n  listen: 127.0.0.1:8102\n  servers:\n  - 127.0.0.1:22121:1\n  tokens: '1383429731'\n  data_store: 0\n  stats_listen: 127.0.0.1:22221\n  read_consistency : DC_SAFE_QUORUM\n  write_consistency : DC_SAFE_QUORUM\n",
    ),
    (
        "redis_rack2_node.yml",
        "dyn_o_mite:\n  datacenter: dc\n  rack: rack2\n  dyn_listen: 127.0.0.2:8101\n  dyn_seeds:\n  - 127.0.0.1:8101:rack1:dc:1383429731\n  - 127.0.0.3:8101:rack3:dc:1383429731\n  listen: 127.0.0.2:8102\n  servers:\n  - 127.0.0.1:22122:1\n  tokens: '1383429731'\n  data_store: 0\n  stats_listen: 127.0.0.1:22222\n  read_consistency : DC_SAFE_QUORUM\n  write_consistency : DC_SAFE_QUORUM\n",
    ),
    (
        "redis_rack3_node.yml",
        "dyn_o_mite:\n  datacenter: dc\n  rack: rack3\n  dyn_listen: 127.0.0.3:8101\n  dyn_seeds:\n  - 127.0.0.1:8101:rack1:dc:1383429731\n  - 127.0.0.2:8101:rack2:dc:1383429731\n  listen: 127.0.0.3:8102\n  servers:\n  - 127.0.0.1:22123:1\n  tokens: '1383429731'\n  data_store: 0\n  stats_listen: 127.0.0.1:22223\n  read_consistency : DC_SAFE_QUORUM\n  write_consistency : DC_SAFE_QUORUM\n",
    ),
    (
        // scripts/dynomite/generate_yamls.py output.
        "generated.yml",
        "dyn_o_mite:\n  datacenter: dc1\n  rack: rack1\n  dyn_listen: 127.0.0.1:8101\n  dyn_port: 8101\n  dyn_seeds:\n  - 127.0.0.2:8101:rack1:dc1:2863311530\n  listen: 127.0.0.1:8102\n  servers:\n  - 127.0.0.1:11211:1\n  tokens: 1431655765\n  data_store: 1\n  timeout: 150000\n",
    ),
];

#[test]
fn dynomite_example_files_load() {
    for (name, text) in DYNOMITE_FILES {
        let c = match parse_str(text, name) {
            Ok(c) => c,
            Err(e) => panic!("{name} must load:\n{e}"),
        };
        assert!(!c.tokens.is_empty(), "{name}");
        let unexpected: Vec<_> = c
            .warnings
            .iter()
            .filter(|w| !w.contains("dyn_port"))
            .collect();
        assert!(unexpected.is_empty(), "{name}: {unexpected:?}");
    }
    let get = |n: &str| {
        let (_, t) = DYNOMITE_FILES.iter().find(|(f, _)| *f == n).expect("file");
        ok(t)
    };
    let c = get("dynomite.yml");
    assert_eq!(c.tokens, vec![101134286]);
    assert_eq!((c.mbuf_size, c.max_msgs), (Some(16384), Some(300000)));
    assert_eq!(c.net.stats_listen.to_string(), "0.0.0.0:22222");
    assert_eq!(c.backend.server.name, "127.0.0.1:22122");
    let c = get("mc_single.yml");
    assert_eq!(
        (c.data_store, c.tokens.clone()),
        (DataStore::Memcache, vec![437425602])
    );
    assert_eq!(get("redis_single.yml").tokens, vec![437425602]);
    let c = get("dynomite_dns_single.yml");
    assert_eq!(
        (c.peering.dyn_seed_provider, c.tokens.clone()),
        (SeedProvider::Dns, vec![0])
    );
    let c = get("dynomite_florida_single.yml");
    assert_eq!(c.peering.dyn_seed_provider, SeedProvider::Florida);
    assert_eq!(c.security.secure_server_option, SecureOption::Datacenter);
    let c = get("redis_dc1.yml");
    assert_eq!(
        (
            c.backend.datastore_connections,
            c.peering.local_peer_connections,
            c.peering.remote_peer_connections
        ),
        (3, 3, 3)
    );
    let c = get("redis_rack2_node.yml");
    assert_eq!(c.read_consistency, Consistency::DcSafeQuorum);
    assert_eq!(c.write_consistency, Consistency::DcSafeQuorum);
    assert_eq!(c.peering.dyn_seeds.len(), 2);
    assert_eq!(c.peering.dyn_seeds[1].name, "127.0.0.3");
    assert_eq!(c.peering.dyn_seeds[1].tokens, vec![1383429731]);
    let c = get("generated.yml");
    assert_eq!(
        (
            c.backend.timeout_ms,
            c.peering.dyn_port,
            c.backend.server.name.as_str()
        ),
        (150000, 8101, "127.0.0.1")
    );
}

#[test]
fn quoted_and_unquoted_values_read_the_same() {
    for tokens in ["101134286", "'101134286'", "\"101134286\""] {
        let c = ok(&with(&format!("  tokens: {tokens}\n  timeout: '150000'\n")));
        assert_eq!(c.tokens, vec![101134286], "{tokens}");
        assert_eq!(c.backend.timeout_ms, 150000);
    }
    // Values are read as text, as Dynomite does: YAML's own number forms are not numbers.
    for (v, shown) in [
        ("0x10", "0x10"),
        ("+5", "+5"),
        ("1.5", "1.5"),
        ("1e3", "1e3"),
    ] {
        let e = errs(&with(&format!("  backlog: {v}\n")));
        assert_eq!(
            e,
            vec![format!(
                "t.yml:5: dyn_o_mite.backlog: \"{shown}\" is not a number; expected a count as decimal digits, e.g. backlog: 512"
            )]
        );
    }
    assert_eq!(ok(&with("  backlog: 0100\n")).net.backlog, 100);
    // Strings that YAML would call bools or null stay text.
    assert_eq!(
        ok(&with("  rack: true\n  datacenter: null\n")).datacenter,
        "null"
    );
    assert_eq!(ok(&with("  rack: ~\n")).rack, "~");
}

#[test]
fn dynomite_spacing_comments_and_line_endings() {
    let text = "# comment: [not] {flow} &a *b !c\r\ndyn_o_mite :   # pool\r\n  listen : 127.0.0.1:8102   # client port\r\n  servers :\r\n    - '127.0.0.1:6379:1' # backend\r\n  rack : 'rack #1'\r\n  hash_tag: '{}'\r\n";
    let c = ok(text);
    assert_eq!(c.rack, "rack #1");
    assert_eq!(c.hash_tag, Some(*b"{}"));
    // A byte-order mark is skipped.
    ok(&format!("\u{feff}{MIN}"));
}

#[test]
fn unix_sockets() {
    let c = ok("d:\n  listen: /tmp/dyn.sock\n  servers:\n  - /var/run/redis.sock:1\n");
    assert_eq!(c.net.listen, Listen::Unix(PathBuf::from("/tmp/dyn.sock")));
    assert_eq!(
        c.backend.server.unix,
        Some(PathBuf::from("/var/run/redis.sock"))
    );
    assert_eq!(c.backend.server.port, 0);
}

#[test]
fn short_keys_wrap_at_256() {
    let c = ok(&with(
        "  datastore_connections: 256\n  local_peer_connections: 257\n  remote_peer_connections: 300\n",
    ));
    assert_eq!(c.backend.datastore_connections, 1);
    assert_eq!(c.peering.local_peer_connections, 1);
    assert_eq!(c.peering.remote_peer_connections, 44);
    assert_eq!(
        c.warnings,
        vec![
            "t.yml:5: dyn_o_mite.datastore_connections: \"256\" is above 255 and wraps to 0, which means the default 1 (Dynomite stores it in 8 bits); use 1..255",
            "t.yml:6: dyn_o_mite.local_peer_connections: \"257\" is above 255 and wraps to 1 (Dynomite stores it in 8 bits); use 1..255",
            "t.yml:7: dyn_o_mite.remote_peer_connections: \"300\" is above 255 and wraps to 44 (Dynomite stores it in 8 bits); use 1..255",
        ]
    );
}

#[test]
fn deprecated_keys_warn() {
    let c = ok(&with("  distribution: ketama\n  server_connections: 5\n"));
    assert_eq!(
        c.warnings,
        vec![
            "t.yml:5: dyn_o_mite.distribution: deprecated, value ignored",
            "t.yml:6: dyn_o_mite.server_connections: deprecated, value ignored",
        ]
    );
}

#[test]
fn duplicates_follow_dynomite() {
    // A number left at 0 or a bool left at false may be set again (with a warning).
    let c = ok(&with(
        "  timeout: 0\n  timeout: 7\n  preconnect: false\n  preconnect: true\n",
    ));
    assert_eq!((c.backend.timeout_ms, c.backend.preconnect), (7, true));
    assert_eq!(
        c.warnings,
        vec![
            "t.yml:6: dyn_o_mite.timeout: duplicate key replaces the value set on line 5 (as in Dynomite); keep only one timeout line",
            "t.yml:8: dyn_o_mite.preconnect: duplicate key replaces the value set on line 7 (as in Dynomite); keep only one preconnect line",
        ]
    );
    // Repeated tokens append.
    assert_eq!(ok(&with("  tokens: 1\n  tokens: 2\n")).tokens, vec![1, 2]);
    // Everything else is an error naming both lines.
    assert_eq!(
        errs(&with("  timeout: 5\n  timeout: 6\n  preconnect: true\n  preconnect: false\n")),
        vec![
            "t.yml:6: dyn_o_mite.timeout: \"6\" is a duplicate: timeout is already set on line 5; keep only one timeout line",
            "t.yml:8: dyn_o_mite.preconnect: \"false\" is a duplicate: preconnect is already set on line 7; keep only one preconnect line",
        ]
    );
    assert_eq!(
        errs(&with("  listen: 127.0.0.1:8103\n")),
        vec!["t.yml:5: dyn_o_mite.listen: \"127.0.0.1:8103\" is a duplicate: listen is already set on line 2; keep only one listen line"]
    );
}

#[test]
fn consistency_and_option_prefix_rules() {
    let c = ok(&with(
        "  read_consistency: dc_quorum\n  write_consistency: Dc_One\n  secure_server_option: datacenter_x\n",
    ));
    assert_eq!(c.read_consistency, Consistency::DcQuorum);
    assert_eq!(c.write_consistency, Consistency::DcOne);
    assert_eq!(c.security.secure_server_option, SecureOption::Datacenter);
    assert_eq!(
        errs(&with("  write_consistency: one\n")),
        vec!["t.yml:5: dyn_o_mite.write_consistency: \"one\" must be one of 'DC_ONE' 'DC_QUORUM' 'DC_SAFE_QUORUM' 'DC_EACH_SAFE_QUORUM'; e.g. write_consistency: DC_QUORUM"]
    );
}

#[test]
fn unknown_seed_provider_is_simple_with_a_warning() {
    let c = ok(&with("  dyn_seed_provider: consul\n"));
    assert_eq!(c.peering.dyn_seed_provider, SeedProvider::Simple);
    assert_eq!(
        c.warnings,
        vec!["t.yml:5: dyn_o_mite.dyn_seed_provider: \"consul\" is not a known seed provider, so simple_provider is used (as in Dynomite); expected simple_provider, florida_provider or dns_provider"]
    );
}

#[test]
fn seeds_need_dyn_listen_and_tokens() {
    assert_eq!(
        errs(&with("  dyn_seeds:\n  - 127.0.0.2:8101:r:d:1\n")),
        vec![
            "t.yml:1: dyn_o_mite.dyn_listen: missing key \"dyn_listen\", required when the node has peers (dyn_seeds or a seed provider); add e.g. dyn_listen: 127.0.0.1:8101",
            "t.yml:1: dyn_o_mite.tokens: missing key \"tokens\", required when the node has peers (dyn_seeds or a seed provider); add e.g. tokens: 1383429731",
        ]
    );
}

#[test]
fn servers_as_a_single_scalar_is_one_entry() {
    let c = ok("d:\n  listen: 127.0.0.1:8102\n  servers: 127.0.0.1:6379:1\n");
    assert_eq!(c.backend.server.name, "127.0.0.1:6379");
}

#[test]
fn a_typo_is_named_with_its_line_and_a_suggestion() {
    assert_eq!(
        errs("dyn_o_mite:\n  listne: 127.0.0.1:8102\n  servers:\n  - 127.0.0.1:6379:1\n"),
        vec![
            "t.yml:1: dyn_o_mite.listen: missing required key \"listen\"; add e.g. listen: 127.0.0.1:8102",
            "t.yml:2: dyn_o_mite.listne: unknown key \"listne\"; did you mean \"listen\"?",
        ]
    );
    // Keys are case-sensitive, as in Dynomite.
    assert_eq!(
        errs(&with("  Timeout: 5\n")),
        vec!["t.yml:5: dyn_o_mite.Timeout: unknown key \"Timeout\"; did you mean \"timeout\"?"]
    );
}

#[test]
fn unresolvable_host_is_named() {
    let e = errs("d:\n  listen: no-such-host.invalid:8102\n  servers:\n  - 127.0.0.1:6379:1\n");
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with("t.yml:2: d.listen: \"no-such-host.invalid:8102\" has an invalid value: cannot resolve host \"no-such-host.invalid\""),
        "{e:?}"
    );
    assert!(
        e[0].ends_with("; use an IP address or a host name that resolves"),
        "{e:?}"
    );
}

#[test]
fn logins_and_the_admin_token() {
    let c = ok(&with(
        "  requirepass:\n  - old\n  - 'new: pw'\n  users:\n  - alice:a:1\n  - bob:b\n  - alice:a2\n  admin_token: t0k\n",
    ));
    assert_eq!(c.security.requirepass, ["old", "new: pw"]);
    let users: Vec<(&str, &str)> = c
        .security
        .users
        .iter()
        .map(|u| (u.name.as_str(), u.password.as_str()))
        .collect();
    assert_eq!(users, [("alice", "a:1"), ("bob", "b"), ("alice", "a2")]);
    assert_eq!(format!("{:?}", c.security.users[0]), "User(\"alice\")");
    assert_eq!(c.security.admin_token.as_deref(), Some("t0k"));
    // The token file's contents, trimmed.
    let dir = std::env::temp_dir().join(format!("dynomite-conf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("token");
    std::fs::write(&file, "  s3cr3t-token\n").unwrap();
    let c = ok(&with(&format!("  admin_token_file: {}\n", file.display())));
    assert_eq!(c.security.admin_token.as_deref(), Some("s3cr3t-token"));
    std::fs::write(&file, " \n").unwrap();
    assert_eq!(
        errs(&with(&format!("  admin_token_file: {}\n", file.display()))),
        [format!(
            "t.yml:5: dyn_o_mite.admin_token_file: \"{}\" is empty; write the token into it",
            file.display()
        )]
    );
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(
        errs(&with("  requirepass: a\n  requirepass: b\n")),
        ["t.yml:6: dyn_o_mite.requirepass: a duplicate: requirepass is already set on line 5; keep one requirepass line (it may hold a list)"]
    );
    assert_eq!(
        errs(&with("  admin_token: 'a b'\n")),
        ["t.yml:5: dyn_o_mite.admin_token: the token has a space or control character inside; an HTTP bearer token cannot (use e.g. openssl rand -hex 32)"]
    );
}

#[test]
fn load_reads_files_and_reports_missing_ones() {
    let e = load(Path::new("conf/does-not-exist.yml")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "conf/does-not-exist.yml: cannot read file: No such file or directory (os error 2)"
    );
    let path = workspace_root().join("conf/redis_single.yml");
    let c = load(&path).expect("loads");
    assert_eq!(c.file, path);
}

/// Every `tests/fixtures/conf-invalid/<name>.yml` fails with exactly the lines of its
/// `<name>.expected`.
#[test]
fn invalid_fixtures_give_the_expected_messages() {
    let dir = workspace_root().join("tests/fixtures/conf-invalid");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixture dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".yml"))
        .collect();
    names.sort();
    assert!(names.len() >= 30, "fixtures missing: {names:?}");
    let mut failures = Vec::new();
    for name in &names {
        let rel = format!("tests/fixtures/conf-invalid/{name}");
        let text = std::fs::read_to_string(dir.join(name)).expect("fixture");
        let expected_path = dir.join(name.replace(".yml", ".expected"));
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|_| panic!("{} has no .expected file", rel));
        match parse_str(&text, &rel) {
            Ok(_) => failures.push(format!("{rel}: loaded, but should fail")),
            Err(e) => {
                if e.to_string() != expected.trim_end() {
                    failures.push(format!(
                        "{rel}:\n  got:\n{e}\n  expected:\n{}",
                        expected.trim_end()
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Every shipped example in `conf/` loads, without warnings.
#[test]
fn shipped_examples_load() {
    let dir = workspace_root().join("conf");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("conf dir") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("yml") {
            continue;
        }
        count += 1;
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(
            text.starts_with('#'),
            "{} must start with a comment",
            path.display()
        );
        match load(&path) {
            Ok(c) => assert!(
                c.warnings.is_empty(),
                "{}: {:?}",
                path.display(),
                c.warnings
            ),
            Err(e) => panic!("{} is invalid:\n{e}", path.display()),
        }
    }
    assert!(
        count >= 7,
        "expected the example configs in {}",
        dir.display()
    );

    let load_ex = |n: &str| load(&dir.join(n)).expect("valid");
    let c = load_ex("redis_single.yml");
    assert_eq!(c.backend.server.name, "127.0.0.1:6379");
    assert_eq!(c.tokens, vec![1383429731]);
    assert_eq!(c.net.stats_listen.to_string(), "127.0.0.1:22222");
    assert_eq!(
        load_ex("memcache_single.yml").data_store,
        DataStore::Memcache
    );
    let c = load_ex("redis_tls.yml");
    assert!(c.security.client_tls.is_some_and(|t| t.ca_file.is_some()));
    assert!(c.backend.tls.is_some_and(|t| t.cert_file.is_some()));
    for n in 1..=3 {
        let c = load_ex(&format!("dc1_rack{n}.yml"));
        assert_eq!(c.rack, format!("rack{n}"));
        assert_eq!(c.peering.dyn_seeds.len(), 2);
        assert!(c
            .peering
            .dyn_seeds
            .iter()
            .all(|s| s.dc == "dc1" && s.rack != c.rack));
        assert_eq!(c.read_consistency, Consistency::DcQuorum);
        assert_eq!(c.write_consistency, Consistency::DcQuorum);
    }
    let a = load_ex("dc2_a_dc1.yml");
    let b = load_ex("dc2_b_dc2.yml");
    assert_eq!(
        (a.datacenter.as_str(), b.datacenter.as_str()),
        ("dc1", "dc2")
    );
    assert_eq!(
        a.peering.dyn_seeds[0].addr,
        b.net
            .dyn_listen
            .clone()
            .map(|l| match l {
                Listen::Tcp { addr, .. } => addr,
                Listen::Unix(_) => panic!("tcp expected"),
            })
            .expect("dyn_listen")
    );
}

mod fuzz {
    use proptest::prelude::*;

    const FRAGMENTS: &[&str] = &[
        "dyn_o_mite:",
        "\n",
        "\n",
        "\n",
        "\r\n",
        "  ",
        "    ",
        "\t",
        "- ",
        ": ",
        ":",
        "#",
        " # c",
        "  listen: 127.0.0.1:8102",
        "  servers:",
        "  - 127.0.0.1:6379:1",
        "  dyn_seeds:",
        "  - 127.0.0.2:8101:r:d:1",
        "  timeout: ",
        "  tokens: ",
        "  rack: ",
        "  hash_tag: ",
        "  mbuf_size: ",
        "  datastore_connections: ",
        "  read_consistency : ",
        "abc",
        "0",
        "256",
        "99999999999",
        "4294967296",
        "1,2",
        "dc_quorum",
        "true",
        "~",
        "null",
        "'",
        "\"",
        "''",
        "[",
        "]",
        "{",
        "}",
        ",",
        "&a",
        "*a",
        "!!str",
        "---",
        "...",
        "%YAML 1.1",
        "|",
        ">",
        "?",
        "\u{fc}",
        "\u{feff}",
        "/tmp/x.sock",
        "@",
        "`",
        "\\",
    ];

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 2000,
            // Keep the working tree clean: no proptest-regressions files.
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// Arbitrary arrangements of YAML fragments never panic; every error names the file and
        /// is one line.
        #[test]
        fn never_panics(parts in proptest::collection::vec(0..FRAGMENTS.len(), 0..40)) {
            let text: String = parts.iter().map(|i| FRAGMENTS[*i]).collect();
            if let Err(errors) = super::parse_str(&text, "f.yml") {
                prop_assert!(!errors.is_empty());
                for e in errors.iter() {
                    let line = e.to_string();
                    prop_assert!(line.starts_with("f.yml"), "{}", line);
                    prop_assert!(!line.contains('\n'), "{:?}", line);
                }
            }
        }

        /// Any bytes-as-text input never panics.
        #[test]
        fn never_panics_on_noise(text in "\\PC{0,300}") {
            let _ = super::parse_str(&text, "f.yml");
        }
    }
}

#[test]
fn tls_keys_load_with_their_lines() {
    let c = ok(&with(
        "  tls_listen: 127.0.0.1:6380\n  tls_cert_file: /tls/server.crt\n  tls_key_file: /tls/server.key\n  tls_ca_file: /tls/ca.crt\n  datastore_tls: true\n  datastore_tls_ca_file: /tls/redis-ca.crt\n  datastore_tls_cert_file: /tls/client.crt\n  datastore_tls_key_file: /tls/client.key\n",
    ));
    let t = c.security.client_tls.expect("client TLS");
    assert_eq!(t.listen.to_string(), "127.0.0.1:6380");
    assert_eq!(t.cert_file.path, PathBuf::from("/tls/server.crt"));
    assert_eq!((t.cert_file.line, t.cert_file.key), (6, "tls_cert_file"));
    assert_eq!(t.key_file.line, 7);
    assert_eq!(t.ca_file.map(|f| f.line), Some(8));
    let d = c.backend.tls.expect("datastore TLS");
    assert_eq!(d.ca_file.path, PathBuf::from("/tls/redis-ca.crt"));
    assert_eq!(d.server_name, "127.0.0.1", "the servers: host by default");
    assert!(d.cert_file.is_some() && d.key_file.is_some());

    let c = ok(&with(
        "  datastore_tls: true\n  datastore_tls_ca_file: ca.crt\n  datastore_tls_server_name: redis.internal\n",
    ));
    assert_eq!(c.backend.tls.unwrap().server_name, "redis.internal");
    let c = ok(MIN);
    assert!(c.security.client_tls.is_none() && c.backend.tls.is_none());
    let c = ok(&with("  datastore_tls: false\n"));
    assert!(c.backend.tls.is_none());
}

#[test]
fn tls_keys_that_do_not_go_together() {
    // (extra lines after MIN, the one error expected)
    let cases: &[(&str, &str)] = &[
        (
            "  tls_listen: 127.0.0.1:6380\n  tls_key_file: k.pem\n",
            "t.yml:5: dyn_o_mite.tls_cert_file: missing key \"tls_cert_file\", required with tls_listen; add e.g. tls_cert_file: /etc/dynomite/tls/server.crt",
        ),
        (
            "  tls_cert_file: c.pem\n",
            "t.yml:5: dyn_o_mite.tls_cert_file: tls_cert_file is set but tls_listen is not; add e.g. tls_listen: 127.0.0.1:6380 or remove tls_cert_file",
        ),
        (
            "  datastore_tls: true\n",
            "t.yml:5: dyn_o_mite.datastore_tls_ca_file: missing key \"datastore_tls_ca_file\", required with datastore_tls: true (the CA the datastore's certificate is checked against); add e.g. datastore_tls_ca_file: /etc/redis/tls/ca.crt",
        ),
        (
            "  datastore_tls_ca_file: ca.crt\n",
            "t.yml:5: dyn_o_mite.datastore_tls_ca_file: datastore_tls_ca_file is set but datastore_tls: true is not; add e.g. datastore_tls: true or remove datastore_tls_ca_file",
        ),
        (
            "  datastore_tls: true\n  datastore_tls_ca_file: ca.crt\n  datastore_tls_cert_file: c.crt\n",
            "t.yml:7: dyn_o_mite.datastore_tls_cert_file: datastore_tls_cert_file needs datastore_tls_key_file (the certificate's private key); add e.g. datastore_tls_key_file: /etc/dynomite/tls/client.key",
        ),
    ];
    for (extra, want) in cases {
        assert_eq!(errs(&with(extra)), vec![want.to_string()], "{extra}");
    }
    let unix = "dyn_o_mite:\n  listen: 127.0.0.1:8102\n  servers:\n  - /tmp/redis.sock:1\n  datastore_tls: true\n  datastore_tls_ca_file: ca.crt\n";
    assert_eq!(
        errs(unix),
        vec!["t.yml:5: dyn_o_mite.datastore_tls: \"true\" needs a TCP datastore, and \"/tmp/redis.sock\" is a unix socket; use the datastore's host:port (its tls-port) in servers"]
    );
}
