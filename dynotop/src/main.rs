//! `dynotop`: the live terminal dashboard of a dynomite-rs cluster (arguments and wiring).
//!
//! Exit codes: 0 ok, 2 usage or runtime error.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use clap::{ArgGroup, Parser, ValueEnum};
use crossterm::event::{self, Event, KeyEventKind};
use dynotop::app::{Action, App, View};
use dynotop::fetch::{self, Discovery, Msg};
use dynotop::{term, topology, ui};

#[derive(Parser, Debug)]
#[command(
    name = "dynotop",
    version,
    about = "A live terminal dashboard of a dynomite-rs cluster",
    long_about = "dynotop polls the stats port (/info) of every node of a Dynomite cluster and shows \
nodes, racks, DCs, a node's detail and the token ring, refreshed every --interval seconds. \
The detail view includes the datastore's own INFO (used memory, keys, replication role, \
offset and link), asked of the datastore each node's /info names. \
Nodes are found from one node's /cluster_describe (--node), from config files (--config), \
or listed (--nodes). /cluster_describe gives each node's address and peer port but not its \
stats port: a described node's stats port is taken from --stats-port-map, else from a --config \
file whose dyn_listen port is that peer port, else it is the --node's own stats port.",
    after_long_help = "KEYS:\n  1 nodes  2 racks  3 DCs  4 ring  Enter node detail  s sort column  r reverse\n  / filter  Esc clear  ? help  q quit\n\nENVIRONMENT:\n  NO_COLOR  when set and not empty, no colours (as --no-color)\n\nEXIT STATUS:\n  0 ok; 2 usage or runtime error\n\nSEE ALSO:\n  dynomited(8), dynoctl(1)",
    group(ArgGroup::new("source").required(true).multiple(true).args(["node", "config", "nodes"]))
)]
struct Cli {
    /// A node's stats address; every node is found from its /cluster_describe
    #[arg(long, value_name = "HOST:STATSPORT")]
    node: Option<String>,
    /// Config files, one per node; each node is polled on its stats_listen
    #[arg(long, value_name = "FILE", num_args = 1..)]
    config: Vec<PathBuf>,
    /// Stats addresses to poll, comma separated
    #[arg(long, value_name = "HOST:PORT,...", value_delimiter = ',')]
    nodes: Vec<String>,
    /// Stats ports of described nodes: PEERPORT=STATSPORT or HOST:PEERPORT=STATSPORT, comma separated
    #[arg(long, value_name = "MAP")]
    stats_port_map: Option<String>,
    /// Seconds between polls
    #[arg(long, value_name = "SECS", default_value_t = 2.0)]
    interval: f64,
    /// Per-node request timeout in milliseconds
    #[arg(long, value_name = "MS", default_value_t = 800)]
    timeout: u64,
    /// Poll twice, --interval apart, print one frame as plain text and exit
    #[arg(long)]
    once: bool,
    /// Width of the --once frame
    #[arg(long, value_name = "COLS", default_value_t = 120)]
    width: u16,
    /// Height of the --once frame
    #[arg(long, value_name = "ROWS", default_value_t = 40)]
    height: u16,
    /// No colours (also when NO_COLOR is set)
    #[arg(long)]
    no_color: bool,
    /// The view to start in (with --once, the view printed)
    #[arg(long, value_enum, value_name = "VIEW", default_value_t = ViewArg::Nodes)]
    view: ViewArg,
    /// The selected node, shown by --view detail: a row of the nodes table (1 is the first) or a
    /// node's stats address or name
    #[arg(long, value_name = "ROW|NODE")]
    select: Option<String>,
    /// The nodes' admin token (their admin_token), sent as "Authorization: Bearer TOKEN" on
    /// every poll [env: DYNOMITE_ADMIN_TOKEN]
    #[arg(long, value_name = "TOKEN")]
    admin_token: Option<String>,
    /// Read the admin token from FILE (its contents, trimmed)
    #[arg(long, value_name = "FILE", conflicts_with = "admin_token")]
    admin_token_file: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ViewArg {
    /// One row per node, grouped by DC and rack
    Nodes,
    /// Racks, aggregated
    Racks,
    /// DCs, aggregated
    Dcs,
    /// The selected node's detail, with its datastore's own INFO
    Detail,
    /// Token ranges per rack
    Ring,
}

impl From<ViewArg> for View {
    fn from(v: ViewArg) -> View {
        match v {
            ViewArg::Nodes => View::Nodes,
            ViewArg::Racks => View::Racks,
            ViewArg::Dcs => View::Dcs,
            ViewArg::Detail => View::Detail,
            ViewArg::Ring => View::Ring,
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dynotop: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: &Cli) -> Result<(), String> {
    if !(cli.interval > 0.0 && cli.interval <= 3600.0) {
        return Err(format!(
            "--interval {}: want 0 < SECS <= 3600",
            cli.interval
        ));
    }
    let interval = Duration::from_secs_f64(cli.interval);
    let timeout = Duration::from_millis(cli.timeout.max(1));
    // Before any thread starts, so every thread inherits the blocked signals.
    let signals = if cli.once {
        None
    } else {
        Some(term::Signals::install().map_err(|e| format!("signals: {e}"))?)
    };
    let discovery = Discovery {
        node: cli.node.clone(),
        configs: cli.config.clone(),
        nodes: cli.nodes.clone(),
        port_map: match &cli.stats_port_map {
            Some(m) => topology::parse_port_map(m)?,
            None => Default::default(),
        },
    };
    let token = dynomite::cli::admin_token(
        cli.admin_token.as_deref(),
        cli.admin_token_file.as_deref(),
        std::env::var_os(dynomite::cli::ADMIN_TOKEN_ENV),
    )?;
    let client = fetch::client(timeout, token.as_deref())?;
    let targets = fetch::discover(&discovery, &client, timeout)?;
    let addrs: Vec<String> = targets.iter().map(|t| t.addr.clone()).collect();
    let mut app = App::new(targets, cli.interval);
    let (tx, rx) = mpsc::channel();
    match signals {
        None => {
            let clock = Instant::now();
            fetch::round(&client, &addrs, clock, timeout, &tx);
            std::thread::sleep(interval);
            fetch::round(&client, &addrs, clock, timeout, &tx);
            drop(tx);
            rx.into_iter().for_each(|m| apply(&mut app, m));
            app.open(cli.view.into(), cli.select.as_deref())?;
            app.now_unix = fetch::unix_now();
            let text = ui::render_text(&app, cli.width, cli.height);
            // A closed pipe (`dynotop --once | head`) is not an error.
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
            Ok(())
        }
        Some(signals) => {
            app.open(cli.view.into(), cli.select.as_deref())?;
            let color =
                !cli.no_color && !matches!(std::env::var_os("NO_COLOR"), Some(v) if !v.is_empty());
            let fetcher = fetch::spawn(client, addrs, interval, timeout, tx)
                .map_err(|e| format!("fetch thread: {e}"))?;
            let result = interactive(&mut app, &rx, &signals, ui::Theme { color });
            drop(rx);
            drop(fetcher); // detached: it stops at its next send
            result
        }
    }
}

fn apply(app: &mut App, m: Msg) {
    match m {
        Msg::Info(f) => app.apply(*f),
        Msg::Datastore(addr, p) => app.apply_datastore(&addr, *p),
        Msg::Describe(d) => app.set_described(&d),
    }
}

fn interactive(
    app: &mut App,
    rx: &mpsc::Receiver<Msg>,
    signals: &term::Signals,
    theme: ui::Theme,
) -> Result<(), String> {
    let mut guard = term::Guard::new().map_err(|e| format!("terminal: {e}"))?;
    loop {
        while let Ok(m) = rx.try_recv() {
            apply(app, m);
        }
        app.now_unix = fetch::unix_now();
        guard
            .terminal
            .draw(|f| ui::draw(f, app, theme))
            .map_err(|e| format!("draw: {e}"))?;
        if signals.raised() {
            return Ok(());
        }
        if event::poll(Duration::from_millis(200)).map_err(|e| format!("input: {e}"))? {
            if let Event::Key(k) = event::read().map_err(|e| format!("input: {e}"))? {
                if k.kind == KeyEventKind::Press && app.on_key(k) == Action::Quit {
                    return Ok(());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn man_page_and_completions_are_current() {
        dynomite::cli::check_docs(Cli::command(), "dynotop", "1").unwrap();
    }

    #[test]
    fn cli_needs_a_source() {
        assert!(Cli::try_parse_from(["dynotop"]).is_err());
        let c = Cli::try_parse_from(["dynotop", "--nodes", "a:1,b:2", "--once"]).unwrap();
        assert_eq!(c.nodes, ["a:1", "b:2"]);
        assert_eq!((c.interval, c.width, c.height), (2.0, 120, 40));
        assert_eq!((c.view, c.select), (ViewArg::Nodes, None));
        let c = Cli::try_parse_from([
            "dynotop", "--nodes", "a:1", "--view", "detail", "--select", "2",
        ])
        .unwrap();
        assert_eq!((c.view, c.select.as_deref()), (ViewArg::Detail, Some("2")));
        assert!(Cli::try_parse_from(["dynotop", "--nodes", "a:1", "--view", "x"]).is_err());
    }
}
