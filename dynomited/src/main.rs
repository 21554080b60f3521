//! `dynomited`: the daemon. Parses Dynomite's flags, loads the config, starts the loop.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;
use dynomite::cli::{usage, Args};
use dynomite::core::{Core, Options};
use dynomite::daemon::Ready;
use dynomite::{conf, log_error, log_notice, VERSION};

fn version_line() -> String {
    format!("This is dynomited-{VERSION}\r\n")
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let msg = e.to_string();
            let first = msg.lines().next().unwrap_or("invalid arguments");
            eprintln!("dynomited: {}", first.trim_start_matches("error: "));
            eprint!("{}", usage());
            return ExitCode::from(1);
        }
    };
    if args.help {
        eprint!("{}\n{}", version_line(), usage());
        return ExitCode::SUCCESS;
    }
    if args.version {
        eprintln!("{}", version_line());
        return ExitCode::SUCCESS;
    }
    if args.describe_stats {
        let mut s = String::new();
        dynomite::stats::model::describe(&mut s);
        print!("{}\n{s}", version_line());
        return ExitCode::SUCCESS;
    }
    let checked = match args.check() {
        Ok(c) => c,
        Err(msg) => {
            eprintln!("{msg}");
            eprint!("{}", usage());
            return ExitCode::from(1);
        }
    };
    let path = args.conf_file.clone();
    if args.test_conf {
        return match conf::load(&path) {
            Ok(_) => {
                eprintln!(
                    "dynomited: configuration file '{}' syntax is valid",
                    path.display()
                );
                ExitCode::SUCCESS
            }
            Err(errs) => {
                eprintln!("{errs}");
                eprintln!(
                    "dynomited: configuration file '{}' syntax is invalid",
                    path.display()
                );
                ExitCode::from(1)
            }
        };
    }
    let cfg = match conf::load(&path) {
        Ok(c) => c,
        Err(errs) => {
            eprintln!("{errs}");
            eprintln!(
                "dynomited: configuration file '{}' syntax is invalid",
                path.display()
            );
            return ExitCode::from(1);
        }
    };
    if let Err(msg) = dynomite::daemon::check_supported(&cfg) {
        eprintln!("dynomited: {msg}");
        return ExitCode::from(1);
    }
    // The log is opened before detaching, so a bad -o path is reported on the terminal.
    // -v given on the command line wins over the file's log_level.
    let level = match (&args.verbosity, cfg.log_level) {
        (None, Some(l)) => l,
        _ => checked.verbosity,
    };
    if let Err(e) = dynomite::log::init(level, args.output.clone()) {
        eprintln!(
            "dynomited: cannot open log file '{}': {e}",
            args.output
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        );
        return ExitCode::from(1);
    }
    let mut ready = if args.daemonize {
        // SAFETY: main has started no thread yet (the seed provider's and TLS set-up come
        // later, in `Core::start`), as `daemonize` requires.
        match unsafe { dynomite::daemon::daemonize() } {
            Ok(r) => r,
            Err(e) => {
                eprintln!("dynomited: cannot daemonize: {e}");
                return ExitCode::from(1);
            }
        }
    } else {
        Ready::none()
    };
    for w in &cfg.warnings {
        dynomite::log_warn!("{w}");
    }
    run(cfg, checked, args.pid_file.as_deref(), &mut ready)
}

/// Write the pid file (0644, whatever the umask).
fn write_pid_file(p: &Path) -> std::io::Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .open(p)?
        .write_all(std::process::id().to_string().as_bytes())
}

/// Remove the pid file at exit, unless another instance has written its own pid there since.
fn remove_pid_file(p: &Path) {
    let ours = std::fs::read_to_string(p)
        .map(|s| s.trim() == std::process::id().to_string())
        .unwrap_or(false);
    if ours {
        let _ = std::fs::remove_file(p);
    }
}

fn run(
    cfg: conf::Config,
    checked: dynomite::cli::Checked,
    pid_file: Option<&Path>,
    ready: &mut Ready,
) -> ExitCode {
    let opts = Options {
        mbuf_size: checked.mbuf_size,
        max_msgs: checked.max_msgs,
        admin_op: checked.admin_op,
    };
    let file = cfg.file.display().to_string();
    let mut core = match Core::new(cfg, opts) {
        Ok(c) => c,
        Err(e) => {
            log_error!("cannot create the event loop: {e}");
            ready.fail(&format!("cannot create the event loop: {e}"));
            return ExitCode::from(1);
        }
    };
    if let Err(e) = core.start() {
        log_error!("cannot start: {e}");
        ready.fail(&format!("cannot start: {e}"));
        return ExitCode::from(1);
    }
    // Written only once the listeners are bound, so a second instance that fails to start
    // does not clobber the running one's pid file.
    if let Some(p) = pid_file {
        if let Err(e) = write_pid_file(p) {
            log_error!("cannot write pid file '{}': {e}", p.display());
            ready.fail(&format!("cannot write pid file '{}': {e}", p.display()));
            return ExitCode::from(1);
        }
    }
    ready.ok();
    log_notice!(
        "dynomited-{VERSION} started on pid {} with {file}",
        std::process::id()
    );
    let code = match core.run() {
        Ok(()) => {
            log_notice!("dynomited exiting");
            ExitCode::SUCCESS
        }
        Err(e) => {
            log_error!("event loop failed: {e}");
            ExitCode::from(1)
        }
    };
    if let Some(p) = pid_file {
        remove_pid_file(p);
    }
    code
}
