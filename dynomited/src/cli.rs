//! The `dynomited` command line: Dynomite's flags with Dynomite's meanings and exit codes.
//!
//! Parsed with clap (the single source of truth for the man page and completions), with
//! clap's own help/version flags replaced by Dynomite's `-h` and `-V` behaviour. Numeric
//! arguments are taken as text and checked here so the messages are Dynomite's.

use std::path::PathBuf;

use clap::Parser;

/// Default config file path when `-c` is not given.
pub const DEFAULT_CONF: &str = "/etc/dynomite/dynomite.yml";

pub const MBUF_MIN: usize = 512;
pub const MBUF_MAX: usize = 512_000;
pub const MBUF_DEFAULT: usize = 16384;
pub const MSGS_MIN: usize = 100_000;
pub const MSGS_MAX: usize = 1_000_000;
pub const MSGS_DEFAULT: usize = 200_000;

#[derive(Parser, Debug, Default)]
#[command(
    name = "dynomited",
    version = crate::VERSION,
    about = "A peer-to-peer, multi-rack, multi-datacenter proxy that shards and replicates Redis or Memcached (Dynomite rebuilt in Rust)",
    long_about = "dynomited sits beside one Redis or Memcached server and speaks that datastore's own \
protocol to clients. It reads Dynomite's YAML configuration file unchanged and accepts \
Dynomite's command-line flags with the same meanings and exit codes. Stats and admin calls \
are served over HTTP on stats_listen (default 0.0.0.0:22222): /info, /metrics, /ping, /health, \
/ready, /help, /cluster_describe, /state/..., /get_consistency, /set_consistency/..., and more; \
with admin_token (or admin_token_file) set, the calls that change the node need the header \
\"Authorization: Bearer <token>\" (else 401), and a path that is no endpoint answers 404.",
    after_long_help = "SIGNALS:\n  SIGTERM, SIGINT  stop accepting, answer requests in flight (at most 5 s), exit 0\n  SIGHUP           reopen the log file given with -o (for logrotate) and reload the\n                   configuration file (seeds added or removed, consistency, timeouts, gossip,\n                   connection counts apply at once; addresses, tokens, rack and dc need a\n                   restart); the TLS certificate files are read again (new connections get\n                   the new certificate, open ones keep theirs; a bad file keeps the old)\n  SIGTTIN, SIGTTOU raise or lower the log level by one\n\nTLS:\n  tls_listen, tls_cert_file and tls_key_file (PEM) add a TLS client listener beside listen,\n  the datastore protocol unchanged; with tls_ca_file, clients must present a certificate\n  signed by that CA. datastore_tls: true with datastore_tls_ca_file (and optionally\n  datastore_tls_cert_file and datastore_tls_key_file) connects to the datastore's TLS port.\n\nLIMITS:\n  max_buffer_memory (default an eighth of the memory) bounds buffered requests and replies:\n  near it the clients holding the most are not read, past it the worst is closed;\n  client_connections limits clients (-ERR max number of clients reached);\n  max_multibulk_len and client_query_buffer_limit cap requests (Redis's errors);\n  peer_tls_required refuses plain peer connections; max_gossip_nodes caps gossip.\n\nEXIT STATUS:\n  0 clean exit or valid configuration (-t); 1 invalid configuration, bad flag, or a start-up failure\n\nFILES:\n  /etc/dynomite/dynomite.yml  the default configuration file\n\nSEE ALSO:\n  dynoctl(1), redis-server(1), memcached(1)",
    disable_help_flag = true,
    disable_version_flag = true
)]
pub struct Args {
    /// This help
    #[arg(short = 'h', long = "help")]
    pub help: bool,
    /// Show the version and exit
    #[arg(short = 'V', long = "version")]
    pub version: bool,
    /// Test the configuration for syntax errors and exit (0 valid, 1 invalid)
    #[arg(short = 't', long = "test-conf")]
    pub test_conf: bool,
    /// Run as a daemon
    #[arg(short = 'd', long = "daemonize")]
    pub daemonize: bool,
    /// Print the stats description and exit
    #[arg(short = 'D', long = "describe-stats")]
    pub describe_stats: bool,
    /// Logging level, 0..11 (default: 5)
    #[arg(short = 'v', long = "verbosity", value_name = "N")]
    pub verbosity: Option<String>,
    /// Log file (default: stderr); SIGHUP reopens it
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Configuration file
    #[arg(short = 'c', long = "conf-file", value_name = "FILE", default_value = DEFAULT_CONF)]
    pub conf_file: PathBuf,
    /// Pid file, written at start and removed at clean exit (default: off)
    #[arg(short = 'p', long = "pid-file", value_name = "FILE")]
    pub pid_file: Option<PathBuf>,
    /// Size of mbuf chunks in bytes, 512..512000, a multiple of 16 (deprecated: use mbuf_size)
    #[arg(short = 'm', long = "mbuf-size", value_name = "N")]
    pub mbuf_size: Option<String>,
    /// Max message objects, 100000..1000000 (deprecated: use max_msgs)
    #[arg(short = 'M', long = "max-msgs", value_name = "N")]
    pub max_msgs: Option<String>,
    /// Admin mode N > 0: no peer connections; with 1, DEL only for keys this node owns
    #[arg(short = 'x', long = "admin-operation", value_name = "N")]
    pub admin_op: Option<String>,
}

/// Arguments checked and defaulted.
#[derive(Debug)]
pub struct Checked {
    pub verbosity: i32,
    pub mbuf_size: usize,
    pub max_msgs: usize,
    pub admin_op: u32,
}

/// Dynomite's usage text, with our additions, for `-h` and after a usage error.
pub fn usage() -> String {
    format!(
        "Usage: dynomited [-?hVdDt] [-v verbosity level] [-o output file]\n\
         \x20                 [-c conf file] [-p pid file] [-m mbuf size (deprecated)]\n\
         \x20                 [-M max alloc messages (deprecated)] [-x admin operation]\n\
         \n\
         Options:\n\
         \x20 -h, --help                 : this help\n\
         \x20 -V, --version              : show version and exit\n\
         \x20 -t, --test-conf            : test configuration for syntax errors and exit\n\
         \x20 -d, --daemonize            : run as a daemon\n\
         \x20 -D, --describe-stats       : print stats description and exit\n\
         \x20 -v, --verbosity=N          : set logging level (default: 5, min: 0, max: 11)\n\
         \x20 -o, --output=S             : set logging file (default: stderr)\n\
         \x20 -c, --conf-file=S          : set configuration file (default: {DEFAULT_CONF})\n\
         \x20 -p, --pid-file=S           : set pid file (default: off)\n\
         \x20 -m, --mbuf-size=N          : set size of mbuf chunk in bytes (default: {MBUF_DEFAULT} bytes)\n\
         \x20 -M, --max-msgs=N           : set max number of messages to allocate (default: {MSGS_DEFAULT})\n\
         \x20 -x, --admin-operation=N    : set admin operation (default: 0)\n"
    )
}

fn number(flag: char, v: &Option<String>) -> Result<Option<i64>, String> {
    match v {
        None => Ok(None),
        Some(s) => s
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| format!("dynomited: option -{flag} requires a number")),
    }
}

impl Args {
    /// Validate the numeric flags with Dynomite's messages.
    pub fn check(&self) -> Result<Checked, String> {
        let verbosity = number('v', &self.verbosity)?.unwrap_or(5).clamp(0, 11) as i32;
        let mbuf_size = match number('m', &self.mbuf_size)? {
            None => MBUF_DEFAULT,
            Some(0) => return Err("dynomited: option -m requires a non-zero number".into()),
            Some(n) if n < MBUF_MIN as i64 || n > MBUF_MAX as i64 => {
                return Err(format!(
                    "dynomited: mbuf chunk size must be between {MBUF_MIN} and {MBUF_MAX} bytes"
                ))
            }
            Some(n) if n % 16 != 0 => {
                return Err("dynomited: mbuf chunk size must be a multiple of 16".into())
            }
            Some(n) => n as usize,
        };
        let max_msgs = match number('M', &self.max_msgs)? {
            None => MSGS_DEFAULT,
            Some(n) if n < MSGS_MIN as i64 || n > MSGS_MAX as i64 => {
                return Err(format!(
                    "dynomited: max allocated messages buffer must be between {MSGS_MIN} and {MSGS_MAX} messages"
                ))
            }
            Some(n) => n as usize,
        };
        let admin_op = match number('x', &self.admin_op)? {
            None => 0,
            Some(n) if n <= 0 => {
                return Err("dynomited: option -x requires a non-zero positive number".into())
            }
            Some(n) => n as u32,
        };
        Ok(Checked {
            verbosity,
            mbuf_size,
            max_msgs,
            admin_op,
        })
    }
}

/// Compare a generated file (man page, completion script) with the checked-in copy at
/// `path`, or rewrite it when `UPDATE_GENERATED=1` is set. Used by the tests of every program,
/// so `--help`, the man pages and the completions never drift from the clap definitions.
pub fn check_generated(path: &std::path::Path, content: &[u8]) -> Result<(), String> {
    if std::env::var_os("UPDATE_GENERATED").is_some() {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        }
        return std::fs::write(path, content).map_err(|e| format!("{}: {e}", path.display()));
    }
    match std::fs::read(path) {
        Ok(old) if old == content => Ok(()),
        Ok(_) => Err(format!(
            "{} is out of date with the command line; regenerate with UPDATE_GENERATED=1 cargo test",
            path.display()
        )),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// The environment variable dynoctl and dynotop take the admin token from.
pub const ADMIN_TOKEN_ENV: &str = "DYNOMITE_ADMIN_TOKEN";

/// What to do when a node answers 401 (the tools' messages).
pub const ADMIN_TOKEN_HINT: &str = "the node has an admin_token: give it with --admin-token TOKEN, --admin-token-file FILE or the environment variable DYNOMITE_ADMIN_TOKEN";

/// The admin token of dynoctl and dynotop: `--admin-token`, else the trimmed contents of
/// `--admin-token-file`, else `$DYNOMITE_ADMIN_TOKEN` (`env`, non-empty); `None` if none.
pub fn admin_token(
    flag: Option<&str>,
    file: Option<&std::path::Path>,
    env: Option<std::ffi::OsString>,
) -> Result<Option<String>, String> {
    if let Some(t) = flag {
        return Ok(Some(t.trim().to_string()).filter(|t| !t.is_empty()));
    }
    if let Some(f) = file {
        let text = std::fs::read_to_string(f)
            .map_err(|e| format!("--admin-token-file {}: {e}", f.display()))?;
        let t = text.trim();
        if t.is_empty() {
            return Err(format!(
                "--admin-token-file {}: the file is empty",
                f.display()
            ));
        }
        return Ok(Some(t.to_string()));
    }
    Ok(env
        .and_then(|v| v.into_string().ok())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty()))
}

/// Render `cmd`'s man page (`man/<name>.<section>`) and bash/zsh/fish completions
/// (`completions/<name>.bash`, `_<name>`, `<name>.fish`) and compare them with the checked-in
/// files (see [`check_generated`]). Every program's tests call this once.
pub fn check_docs(cmd: clap::Command, name: &str, section: &str) -> Result<(), String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut man = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .section(section)
        .render(&mut man)
        .map_err(|e| e.to_string())?;
    check_generated(&root.join(format!("man/{name}.{section}")), &man)?;
    for (shell, file) in [
        (clap_complete::Shell::Bash, format!("{name}.bash")),
        (clap_complete::Shell::Zsh, format!("_{name}")),
        (clap_complete::Shell::Fish, format!("{name}.fish")),
    ] {
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut cmd.clone(), name, &mut out);
        check_generated(&root.join("completions").join(file), &out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Args {
        Args::try_parse_from(std::iter::once("dynomited").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn dynomite_flags_parse() {
        let a = parse(&[
            "-t", "-c", "x.yml", "-v", "7", "-m", "512", "-M", "100000", "-x", "1",
        ]);
        assert!(a.test_conf);
        assert_eq!(a.conf_file, PathBuf::from("x.yml"));
        let c = a.check().unwrap();
        assert_eq!(
            (c.verbosity, c.mbuf_size, c.max_msgs, c.admin_op),
            (7, 512, 100000, 1)
        );
        let a = parse(&["--verbosity=11", "--conf-file=y.yml", "-d", "-p", "/tmp/p"]);
        assert!(a.daemonize);
        assert_eq!(a.check().unwrap().verbosity, 11);
        assert_eq!(parse(&["-v", "99"]).check().unwrap().verbosity, 11);
    }

    #[test]
    fn admin_token_flag_then_file_then_env() {
        let env = || Some(std::ffi::OsString::from(" from-env\n"));
        assert_eq!(admin_token(Some("f"), None, env()), Ok(Some("f".into())));
        assert_eq!(admin_token(None, None, env()), Ok(Some("from-env".into())));
        assert_eq!(admin_token(None, None, Some("".into())), Ok(None));
        assert_eq!(admin_token(None, None, None), Ok(None));
        let dir = std::env::temp_dir().join(format!("dynomite-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("t");
        std::fs::write(&file, "from-file\n").unwrap();
        assert_eq!(
            admin_token(None, Some(&file), env()),
            Ok(Some("from-file".into()))
        );
        std::fs::write(&file, "\n").unwrap();
        assert!(admin_token(None, Some(&file), env())
            .unwrap_err()
            .ends_with("the file is empty"));
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(admin_token(None, Some(&dir), None)
            .unwrap_err()
            .starts_with("--admin-token-file "));
    }

    #[test]
    fn man_page_and_completions_are_current() {
        check_docs(<Args as clap::CommandFactory>::command(), "dynomited", "8").unwrap();
    }

    #[test]
    fn dynomite_messages() {
        assert_eq!(
            parse(&["-m", "100"]).check().unwrap_err(),
            "dynomited: mbuf chunk size must be between 512 and 512000 bytes"
        );
        assert_eq!(
            parse(&["-m", "520"]).check().unwrap_err(),
            "dynomited: mbuf chunk size must be a multiple of 16"
        );
        assert_eq!(
            parse(&["-v", "x"]).check().unwrap_err(),
            "dynomited: option -v requires a number"
        );
        assert_eq!(
            parse(&["-x", "0"]).check().unwrap_err(),
            "dynomited: option -x requires a non-zero positive number"
        );
        assert!(parse(&["-M", "5"]).check().is_err());
    }
}
