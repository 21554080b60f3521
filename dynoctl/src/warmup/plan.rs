//! Step 1, the check, and the plan it makes: the node and its datastore as they are, the
//! candidates (`--peer-datastore`, `--peer-config`), the source chosen among them, and the
//! limits and the command line that continues the warm-up. Nothing changes yet: a failure
//! here is a usage or runtime error (exit 2).

use std::cmp::Reverse;
use std::path::Path;
use std::time::{Duration, Instant};

use dynomite::client::{self, Reply};
use dynomite::conf::{Config, Listen};
use dynomite::types::DataStore;
use serde::Serialize;

use super::log::Log;
use super::redis::{
    connect_host, datastore_addr, is_local, keys_of, master_of, num, same_datastore, split_addr,
    Info, Redis,
};
use super::{opt, StepReport};
use crate::cli::WarmupArgs;
use crate::output::CliError;
use crate::stats::{self, Described, Stats};

/// The longest the final catch-up may take: the node holds writes meanwhile, and they fail
/// after its `timeout` (5 s by default).
const CATCH_UP_LIMIT: Duration = Duration::from_secs(2);

/// The message for a Memcached node.
const MEMCACHED: &str = "warm-up is not possible for memcached: it has no replication";

/// The hint when the node's datastore does not answer.
const DATASTORE_HINT: &str = "is the node's redis-server running there? give --datastore HOST:PORT";

/// What the node is known to be, from its config and `/info`.
pub struct Me {
    pub node: String,
    pub datastore: String,
    pub password: Option<String>,
    pub dc: String,
    pub rack: String,
    pub token: Option<u32>,
    /// The node's request timeout, when known (held writes fail after it).
    pub timeout: Option<Duration>,
    /// Its state before the warm-up.
    pub state: String,
}

/// A datastore the node could be warmed up from.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Candidate {
    /// The datastore, as the node's redis-server will connect to it.
    pub datastore: String,
    /// `--peer-datastore` or the config file.
    pub from: String,
    /// The node's stats address, when known (from its config file).
    pub stats: Option<String>,
    pub rack: Option<String>,
    /// The redis-server's `uptime_in_seconds`.
    pub datastore_uptime_s: Option<u64>,
    /// The node's `/info` uptime.
    pub node_uptime_s: Option<u64>,
    pub keys: Option<u64>,
    /// `master` or `slave`.
    pub role: Option<String>,
    /// Why it cannot be used.
    pub error: Option<String>,
    pub chosen: bool,
    #[serde(skip)]
    pub password: Option<String>,
}

impl Candidate {
    /// What the choice is made on: how long the datastore has held its data (and the node
    /// served it, when known).
    pub fn score(&self) -> Option<u64> {
        match (self.datastore_uptime_s, self.node_uptime_s) {
            (Some(d), Some(n)) => Some(d.min(n)),
            (d, _) => d,
        }
    }
}

/// What the check found, and what the other steps work with.
pub struct Plan {
    pub me: Me,
    /// A connection to the node's datastore (authenticated when it has a password).
    pub mine: Redis,
    pub candidates: Vec<Candidate>,
    /// The chosen candidate.
    pub source: Candidate,
    pub keys_before: u64,
    /// The longest the catch-up may hold the node's writes.
    pub catch_up_limit: Duration,
    /// The command that runs the warm-up again from the same source.
    pub args_line: String,
    /// The check's own report.
    pub check: StepReport,
}

/// Step 1: look at the node, its datastore and the candidates, and choose the source.
/// `node` is the node's stats address.
pub fn check(
    args: &WarmupArgs,
    node: &str,
    stats: &Stats,
    log: &mut Log,
) -> Result<Plan, CliError> {
    let (own, datastore) = own_datastore(args, node)?;
    let password = own
        .as_ref()
        .and_then(|c| c.backend.datastore_password.clone());

    let check_started = Instant::now();
    log.begin(1, "check", &format!("{node} and its datastore {datastore}"));
    let info = stats
        .try_info(node)
        .map_err(|e| CliError::unreachable(&format!("http://{node}/info"), e, stats::NODE_HINT))?;
    let state = info.state.clone().unwrap_or_else(|| "NORMAL".into());
    let mut mine = open_own(&datastore, password.as_deref(), node)?;
    let my_info = mine
        .info(None)
        .map_err(|e| CliError::new(format!("cannot read INFO of {datastore}: {e}")))?;
    let keys_before = keys_of(&my_info);

    let described = stats.describe(node)?;
    let token = own
        .as_ref()
        .and_then(|c| c.tokens.first().copied())
        .or_else(|| only_token_of_rack(&described, &info.dc, &info.rack));
    let replicas = replicas(&described, &info.dc, &info.rack, token);
    if replicas.is_empty() {
        return Err(CliError::new(format!(
            "{node} (dc {}, rack {}, token {}) has no replica: no node of {} in another rack has its token",
            info.dc,
            info.rack,
            opt(&token),
            info.dc
        ))
        .with_hint("warm-up copies a same-token node of another rack; see `dynoctl status --node NODE`"));
    }
    let me = Me {
        node: node.to_string(),
        datastore: datastore.clone(),
        password,
        dc: info.dc.clone(),
        rack: info.rack.clone(),
        token,
        timeout: own
            .as_ref()
            .map(|c| Duration::from_millis(c.backend.timeout_ms)),
        state,
    };

    let mut candidates = candidates(args, &me)?;
    for c in candidates.iter_mut().filter(|c| c.error.is_none()) {
        probe(c, &me, stats);
    }
    let Some(best) = choose(&candidates) else {
        return Err(no_source(&me, &candidates, &replicas));
    };
    candidates[best].chosen = true;
    let source = candidates[best].clone();
    refuse_to_empty(&source, &datastore, keys_before, args.force)?;

    let my_role = my_info.get("role").cloned().unwrap_or_default();
    let detail = check_detail(&me, keys_before, &my_role, &source);
    if my_role == "slave" {
        log.line(&format!(
            "note: {datastore} is already a replica of {}:{}; it is pointed at {}",
            my_info.get("master_host").map_or("?", String::as_str),
            my_info.get("master_port").map_or("?", String::as_str),
            source.datastore
        ));
    }
    let took = check_started.elapsed();
    log.end(1, "check", true, took, &detail);
    Ok(Plan {
        catch_up_limit: catch_up_limit(me.timeout),
        args_line: continue_line(args, node, &datastore, &source.datastore),
        me,
        mine,
        candidates,
        source,
        keys_before,
        // The check is where the warm-up starts.
        check: StepReport::done("check", true, 0, took, detail),
    })
}

/// The node's config (when given) and its datastore's address.
fn own_datastore(args: &WarmupArgs, node: &str) -> Result<(Option<Config>, String), CliError> {
    let own = match &args.config {
        Some(p) => Some((load_config(p)?, p)),
        None => None,
    };
    if let Some((c, _)) = &own {
        if c.data_store == DataStore::Memcache {
            return Err(memcached(node));
        }
    }
    let datastore = match (&args.datastore, &own) {
        (Some(d), _) => datastore_addr(d, "--datastore")?,
        (None, Some((c, p))) => config_datastore(c, p)?,
        (None, None) => {
            return Err(CliError::new(
                "give the node's datastore: --datastore HOST:PORT or --config FILE",
            ))
        }
    };
    Ok((own.map(|(c, _)| c), datastore))
}

/// Connect to the node's datastore, check that it is a redis-server (PING), and AUTH.
fn open_own(datastore: &str, password: Option<&str>, node: &str) -> Result<Redis, CliError> {
    let mut mine = Redis::connect(datastore)
        .map_err(|e| CliError::unreachable(datastore, e, DATASTORE_HINT))?;
    match mine.call(&["PING"]) {
        Ok(Reply::Simple(s)) if s == "PONG" => {}
        Ok(Reply::Error(e)) if e.starts_with("NOAUTH") && password.is_some() => {}
        Ok(Reply::Error(e)) => {
            return Err(
                CliError::new(format!("{datastore} answered PING with -{e}")).with_hint(
                    if e.starts_with("NOAUTH") {
                        "the datastore needs a password: give --config FILE with datastore_password"
                    } else {
                        "is this the node's redis-server?"
                    },
                ),
            )
        }
        Ok(other) => {
            return Err(CliError::new(format!(
                "{datastore} answered PING with {other:?}, not +PONG"
            ))
            .with_hint("is this the node's redis-server?"))
        }
        Err(client::Error::Protocol(p))
            if p.line.starts_with("ERROR") || p.line.starts_with("CLIENT_ERROR") =>
        {
            return Err(memcached(node))
        }
        Err(e) => return Err(CliError::unreachable(datastore, e, DATASTORE_HINT)),
    }
    match password {
        Some(_) => Redis::open(datastore, password)
            .map_err(|e| CliError::new(format!("cannot use {datastore}: {e}"))),
        None => Ok(mine),
    }
}

fn memcached(node: &str) -> CliError {
    CliError::new(MEMCACHED).with_hint(format!(
        "{node}'s datastore is Memcached; refill it by replaying writes (or let reads repair it) instead"
    ))
}

fn load_config(path: &Path) -> Result<Config, CliError> {
    dynomite::conf::load(path).map_err(|e| {
        CliError::new(format!("invalid config:\n{e}")).with_hint(format!(
            "run `dynoctl conf-test {}` for details",
            path.display()
        ))
    })
}

/// The TCP datastore of a config.
fn config_datastore(c: &Config, path: &Path) -> Result<String, CliError> {
    if c.backend.server.unix.is_some() || c.backend.server.port == 0 {
        return Err(CliError::new(format!(
            "{}: the datastore is a unix socket ({}): replication needs a TCP address",
            path.display(),
            c.backend.server.host
        ))
        .with_hint("give --datastore HOST:PORT / --peer-datastore HOST:PORT"));
    }
    Ok(format!(
        "{}:{}",
        c.backend.server.host, c.backend.server.port
    ))
}

/// Without a config, the node's token is known only when it is alone in its rack.
fn only_token_of_rack(described: &[Described], dc: &str, rack: &str) -> Option<u32> {
    let mut same = described.iter().filter(|d| d.dc == dc && d.rack == rack);
    match (same.next(), same.next()) {
        (Some(d), None) => Some(d.token),
        _ => None,
    }
}

/// The node's replicas: the nodes of its DC in other racks with its token (any token when
/// it is not known).
fn replicas<'a>(
    described: &'a [Described],
    dc: &str,
    rack: &str,
    token: Option<u32>,
) -> Vec<&'a Described> {
    described
        .iter()
        .filter(|d| d.dc == dc && d.rack != rack && (token.is_none() || token == Some(d.token)))
        .collect()
}

/// The candidates of `--peer-datastore` and `--peer-config`, in that order, each config's
/// with the reason it cannot be used, if any.
fn candidates(args: &WarmupArgs, me: &Me) -> Result<Vec<Candidate>, CliError> {
    let mut candidates = Vec::new();
    for d in &args.peer_datastore {
        candidates.push(Candidate {
            datastore: datastore_addr(d, "--peer-datastore")?,
            from: "--peer-datastore".into(),
            ..Candidate::default()
        });
    }
    for p in &args.peer_config {
        candidates.push(from_config(&load_config(p)?, p, me)?);
    }
    Ok(candidates)
}

/// A peer's config as a candidate: its datastore as the node reaches it, its stats address,
/// and why it is not a replica of the node (another DC, the node's rack, another token).
fn from_config(c: &Config, path: &Path, me: &Me) -> Result<Candidate, CliError> {
    let mut cand = Candidate {
        from: path.display().to_string(),
        rack: Some(c.rack.clone()),
        password: c.backend.datastore_password.clone(),
        ..Candidate::default()
    };
    cand.datastore = config_datastore(c, path)?;
    // A datastore on the peer's loopback is reached on the peer's host.
    let (dh, dp) = split_addr(&cand.datastore);
    if let Some(Listen::Tcp { host, .. }) = &c.net.dyn_listen {
        if is_local(&dh) && !is_local(host) {
            cand.datastore = format!("{host}:{dp}");
        }
    }
    if let Listen::Tcp { host, addr } = &c.net.stats_listen {
        cand.stats = Some(format!("{}:{}", connect_host(host), addr.port()));
    }
    if c.datacenter != me.dc {
        cand.error = Some(format!("dc {}, not the node's {}", c.datacenter, me.dc));
    } else if c.rack == me.rack {
        cand.error = Some("the node's own rack".into());
    } else if me.token.is_some_and(|t| c.tokens.first() != Some(&t)) {
        cand.error = Some(format!(
            "token {}, not the node's {}",
            opt(&c.tokens.first()),
            opt(&me.token)
        ));
    } else if me.token.is_none() {
        return Err(CliError::new(format!(
            "cannot tell {}'s token (its rack has several nodes) to match --peer-config files",
            me.node
        ))
        .with_hint("give the node's --config FILE, or --peer-datastore HOST:PORT"));
    }
    Ok(cand)
}

/// Ask a candidate's datastore (and its node, when known) what it holds and since when.
fn probe(c: &mut Candidate, me: &Me, stats: &Stats) {
    if same_datastore(&c.datastore, &me.datastore) {
        c.error = Some("the node's own datastore".into());
        return;
    }
    match Redis::open(&c.datastore, c.password.as_deref()).and_then(|mut r| r.info(None)) {
        Ok(i) => judge(c, &i, me),
        Err(e) => c.error = Some(format!("cannot read INFO: {e}")),
    }
    if let Some(s) = &c.stats {
        c.node_uptime_s = stats.try_info(s).ok().map(|i| i.uptime);
    }
}

/// A candidate's `INFO`: its uptime, keys and role; a replica of the node's own datastore
/// cannot be its source.
fn judge(c: &mut Candidate, i: &Info, me: &Me) {
    c.datastore_uptime_s = num(i, "uptime_in_seconds");
    c.keys = Some(keys_of(i));
    c.role = i.get("role").cloned();
    if c.role.as_deref() == Some("slave") && same_datastore(&master_of(i), &me.datastore) {
        c.error = Some("a replica of the node's own datastore".into());
    }
}

/// The usable candidate whose data is oldest; the first of equals.
fn choose(candidates: &[Candidate]) -> Option<usize> {
    candidates
        .iter()
        .enumerate()
        .filter(|(_, c)| c.error.is_none())
        .max_by_key(|(i, c)| (c.score(), Reverse(*i)))
        .map(|(i, _)| i)
}

/// No candidate can be the source: why not, each, and where the replicas are.
fn no_source(me: &Me, candidates: &[Candidate], replicas: &[&Described]) -> CliError {
    let why: Vec<String> = candidates
        .iter()
        .map(|c| format!("{}: {}", c.datastore, c.error.as_deref().unwrap_or("-")))
        .collect();
    CliError::new(format!(
        "no usable source for {}: {}",
        me.node,
        why.join("; ")
    ))
    .with_hint(format!(
        "the replicas of {} in other racks of {}: {}; give one's datastore with --peer-datastore HOST:PORT",
        me.node,
        me.dc,
        replicas
            .iter()
            .map(|d| format!("{} ({})", d.peer(), d.rack))
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// An empty source would empty a datastore that holds keys: only with `--force`.
fn refuse_to_empty(
    source: &Candidate,
    datastore: &str,
    keys_before: u64,
    force: bool,
) -> Result<(), CliError> {
    if source.keys == Some(0) && keys_before > 0 && !force {
        return Err(CliError::new(format!(
            "the source {} holds no keys but {datastore} holds {keys_before}: warming up would empty it",
            source.datastore
        ))
        .with_hint("check the source; --force warms up anyway"));
    }
    Ok(())
}

/// The check's detail: the node, its datastore and the source.
fn check_detail(me: &Me, keys_before: u64, my_role: &str, source: &Candidate) -> String {
    format!(
        "{} is {} in {}/{}; its datastore {} answers PING, holds {keys_before} keys (role {my_role}); source {} ({}up {}s, {} keys)",
        me.node,
        me.state,
        me.dc,
        me.rack,
        me.datastore,
        source.datastore,
        source.rack.as_ref().map_or(String::new(), |r| format!("{r}, ")),
        opt(&source.score()),
        opt(&source.keys)
    )
}

/// The catch-up may take at most half the node's timeout, and never more than 2 s.
fn catch_up_limit(node_timeout: Option<Duration>) -> Duration {
    node_timeout.map_or(CATCH_UP_LIMIT, |t| (t / 2).min(CATCH_UP_LIMIT))
}

/// The command that runs the warm-up again, from the chosen source.
fn continue_line(args: &WarmupArgs, node: &str, datastore: &str, source: &str) -> String {
    let mut line = format!("dynoctl warmup {node}");
    if let Some(c) = &args.config {
        line += &format!(" --config {}", c.display());
    }
    if args.datastore.is_some() || args.config.is_none() {
        line += &format!(" --datastore {datastore}");
    }
    line + &format!(" --peer-datastore {source}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use dynomite::client::parse_info;

    fn me(token: Option<u32>) -> Me {
        Me {
            node: "127.0.0.1:22222".into(),
            datastore: "127.0.0.1:6379".into(),
            password: None,
            dc: "dc1".into(),
            rack: "rack1".into(),
            token,
            timeout: None,
            state: "NORMAL".into(),
        }
    }

    fn peer(dc: &str, rack: &str, token: u32, extra: &str) -> Config {
        let yaml = format!(
            "dyn_o_mite:\n  datacenter: {dc}\n  rack: {rack}\n  listen: 0.0.0.0:8102\n  dyn_listen: 10.0.0.2:8101\n  stats_listen: 0.0.0.0:22223\n  tokens: '{token}'\n  servers:\n  - 127.0.0.1:6380:1\n{extra}"
        );
        dynomite::conf::parse_str(&yaml, "peer.yml").unwrap()
    }

    fn args(line: &str) -> WarmupArgs {
        #[derive(Parser)]
        struct Cmd {
            #[command(flatten)]
            warmup: WarmupArgs,
        }
        Cmd::try_parse_from(line.split_whitespace()).unwrap().warmup
    }

    fn described(rack: &str, token: u32) -> Described {
        Described {
            dc: "dc1".into(),
            rack: rack.into(),
            host: format!("{rack}.example"),
            port: 8101,
            token,
            ..Described::default()
        }
    }

    #[test]
    fn a_peer_config_is_reached_on_the_peers_host() {
        let c = from_config(
            &peer("dc1", "rack2", 7, ""),
            Path::new("p.yml"),
            &me(Some(7)),
        );
        let c = c.unwrap();
        assert_eq!(c.datastore, "10.0.0.2:6380");
        assert_eq!(c.stats.as_deref(), Some("127.0.0.1:22223"));
        assert_eq!((c.rack.as_deref(), c.error), (Some("rack2"), None));
        assert_eq!(c.from, "p.yml");
    }

    #[test]
    fn a_peer_config_that_is_no_replica_says_why() {
        let why = |c: Config, token| {
            from_config(&c, Path::new("p.yml"), &me(token))
                .unwrap()
                .error
                .unwrap_or_default()
        };
        assert_eq!(
            why(peer("dc2", "rack2", 7, ""), Some(7)),
            "dc dc2, not the node's dc1"
        );
        assert_eq!(
            why(peer("dc1", "rack1", 7, ""), Some(7)),
            "the node's own rack"
        );
        assert_eq!(
            why(peer("dc1", "rack2", 8, ""), Some(7)),
            "token 8, not the node's 7"
        );
        // Another DC is told apart even when the node's token is unknown ...
        assert_eq!(
            why(peer("dc2", "rack2", 7, ""), None),
            "dc dc2, not the node's dc1"
        );
        // ... but a same-DC peer cannot be matched without it.
        let e = from_config(&peer("dc1", "rack2", 7, ""), Path::new("p.yml"), &me(None));
        assert!(e.unwrap_err().message.contains("cannot tell"));
    }

    #[test]
    fn the_token_and_the_replicas_from_cluster_describe() {
        let d = [
            described("rack1", 1),
            described("rack2", 1),
            described("rack2", 2),
            described("rack3", 2),
        ];
        assert_eq!(only_token_of_rack(&d, "dc1", "rack1"), Some(1));
        assert_eq!(only_token_of_rack(&d, "dc1", "rack2"), None);
        assert_eq!(only_token_of_rack(&d, "dc2", "rack1"), None);
        let racks = |token| {
            replicas(&d, "dc1", "rack1", token)
                .iter()
                .map(|d| (d.rack.as_str(), d.token))
                .collect::<Vec<_>>()
        };
        assert_eq!(racks(Some(1)), [("rack2", 1)]);
        assert_eq!(racks(None), [("rack2", 1), ("rack2", 2), ("rack3", 2)]);
        assert!(racks(Some(9)).is_empty());
    }

    #[test]
    fn the_source_is_the_oldest_usable_candidate() {
        let c = |d: Option<u64>, n: Option<u64>, error: Option<&str>| Candidate {
            datastore_uptime_s: d,
            node_uptime_s: n,
            error: error.map(str::to_string),
            ..Candidate::default()
        };
        // The node's uptime caps the datastore's: the data is as old as both.
        assert_eq!(c(Some(100), Some(5), None).score(), Some(5));
        assert_eq!(c(Some(100), None, None).score(), Some(100));
        assert_eq!(c(None, Some(5), None).score(), None);
        let list = [
            c(Some(50), None, None),
            c(Some(900), None, Some("cannot read INFO")),
            c(Some(80), Some(60), None),
            c(Some(60), None, None),
        ];
        assert_eq!(choose(&list), Some(2));
        // The first of equals.
        assert_eq!(choose(&[c(None, None, None), c(None, None, None)]), Some(0));
        assert_eq!(choose(&[c(Some(1), None, Some("x"))]), None);
        assert_eq!(choose(&[]), None);
    }

    #[test]
    fn a_replica_of_the_nodes_own_datastore_is_refused() {
        let mut c = Candidate::default();
        let i = parse_info("role:slave\r\nmaster_host:localhost\r\nmaster_port:6379\r\nuptime_in_seconds:40\r\ndb0:keys=3,expires=0\r\n");
        judge(&mut c, &i, &me(Some(7)));
        assert_eq!((c.datastore_uptime_s, c.keys), (Some(40), Some(3)));
        assert_eq!(
            c.error.as_deref(),
            Some("a replica of the node's own datastore")
        );
        let mut c = Candidate::default();
        judge(&mut c, &parse_info("role:master\r\n"), &me(Some(7)));
        assert_eq!((c.role.as_deref(), c.error), (Some("master"), None));
    }

    #[test]
    fn an_empty_source_needs_force() {
        let src = |keys| Candidate {
            datastore: "10.0.0.2:6379".into(),
            keys,
            ..Candidate::default()
        };
        let e = refuse_to_empty(&src(Some(0)), "127.0.0.1:6379", 5, false).unwrap_err();
        assert_eq!(
            e.message,
            "the source 10.0.0.2:6379 holds no keys but 127.0.0.1:6379 holds 5: warming up would empty it"
        );
        assert!(refuse_to_empty(&src(Some(0)), "d", 5, true).is_ok());
        assert!(refuse_to_empty(&src(Some(0)), "d", 0, false).is_ok());
        assert!(refuse_to_empty(&src(None), "d", 5, false).is_ok());
    }

    #[test]
    fn the_catch_up_holds_writes_half_the_node_timeout_at_most() {
        assert_eq!(catch_up_limit(None), Duration::from_secs(2));
        assert_eq!(
            catch_up_limit(Some(Duration::from_secs(5))),
            Duration::from_secs(2)
        );
        assert_eq!(
            catch_up_limit(Some(Duration::from_secs(1))),
            Duration::from_millis(500)
        );
    }

    #[test]
    fn the_line_that_continues_names_the_source() {
        let l = |a: &str| continue_line(&args(a), "n:1", "127.0.0.1:6379", "10.0.0.2:6379");
        assert_eq!(
            l("w n:1 --datastore h:1 --peer-datastore x:1"),
            "dynoctl warmup n:1 --datastore 127.0.0.1:6379 --peer-datastore 10.0.0.2:6379"
        );
        assert_eq!(
            l("w n:1 --config a.yml --peer-config b.yml"),
            "dynoctl warmup n:1 --config a.yml --peer-datastore 10.0.0.2:6379"
        );
        assert_eq!(
            l("w n:1 --config a.yml --datastore h:1 --peer-config b.yml"),
            "dynoctl warmup n:1 --config a.yml --datastore 127.0.0.1:6379 --peer-datastore 10.0.0.2:6379"
        );
    }

    #[test]
    fn the_check_detail() {
        let src = Candidate {
            datastore: "10.0.0.2:6380".into(),
            rack: Some("rack2".into()),
            datastore_uptime_s: Some(30),
            keys: Some(12),
            ..Candidate::default()
        };
        assert_eq!(
            check_detail(&me(Some(7)), 0, "master", &src),
            "127.0.0.1:22222 is NORMAL in dc1/rack1; its datastore 127.0.0.1:6379 answers PING, holds 0 keys (role master); source 10.0.0.2:6380 (rack2, up 30s, 12 keys)"
        );
        let bare = Candidate {
            datastore: "h:1".into(),
            ..Candidate::default()
        };
        assert!(
            check_detail(&me(None), 3, "", &bare).ends_with("(role ); source h:1 (up -s, - keys)")
        );
    }
}
