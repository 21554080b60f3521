//! `dynoctl`: the operator's command line for dynomite-rs clusters. This file only parses the
//! command line ([`cli`]) and hands each command to its module; every command returns a value
//! that [`output`] prints.
//!
//! Exit codes scripts can rely on: 0 ok, 1 the check found a problem, 2 usage or runtime error.

mod admin;
mod cli;
mod cluster;
mod conf_test;
mod duration;
mod gen_config;
mod health;
mod output;
mod repair;
mod seeds;
mod serve_seeds;
mod stats;
mod status;
mod tokens;
mod warmup;

use std::process::ExitCode;
use std::time::Duration;

use cli::{ClusterCmd, Command, ConsistencyCmd, DataStoreArg, SeedFormat, StateCmd};
use output::{fail, print, text_out, CliError, Style};

fn main() -> ExitCode {
    let cli = match cli::parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let token = dynomite::cli::admin_token(
        cli.admin_token.as_deref(),
        cli.admin_token_file.as_deref(),
        std::env::var_os(dynomite::cli::ADMIN_TOKEN_ENV),
    );
    match token {
        Ok(t) => stats::set_admin_token(t),
        Err(e) => return fail(&CliError::new(e)),
    }
    match run(cli.command, Style::json(cli.json)) {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}

fn run(command: Command, style: Style) -> Result<ExitCode, CliError> {
    match command {
        Command::ConfTest { files } => Ok(conf_test::run(&files)),
        Command::Tokens {
            racks,
            shape,
            seeds: _,
            hosts,
            peer_port,
            check,
            max_imbalance,
        } => {
            if check.is_empty() && max_imbalance.is_some() {
                return Err(CliError::new(
                    "--max-imbalance only applies to --check FILE...",
                ));
            }
            if !check.is_empty() {
                let report = tokens::check(&check, max_imbalance.unwrap_or(2.0))?;
                print(&report, style);
                return Ok(ExitCode::from(u8::from(!report.ok)));
            }
            let layout = shape.layout(racks.unwrap_or(1));
            let nodes = match hosts {
                Some(h) => layout.nodes_on(&tokens::read_hosts(&h)?, peer_port)?,
                None => layout.nodes()?,
            };
            let list = tokens::TokenList {
                scheme: layout.scheme,
                nodes,
            };
            print(&list, style);
            Ok(ExitCode::SUCCESS)
        }
        Command::GenConfig {
            racks,
            shape,
            hosts,
            redis_port,
            client_port,
            peer_port,
            stats_port,
            data_store,
            read_consistency,
            write_consistency,
            out,
            dry_run,
        } => {
            let settings = gen_config::Settings {
                redis_port,
                client_port,
                peer_port,
                stats_port,
                data_store: match data_store {
                    DataStoreArg::Redis => 0,
                    DataStoreArg::Memcache => 1,
                },
                read_consistency,
                write_consistency,
            };
            let hosts = tokens::read_hosts(&hosts)?;
            let generated =
                gen_config::run(&shape.layout(racks), &hosts, &settings, &out, dry_run)?;
            if dry_run && style == Style::Human {
                text_out(&generated.dry_run_text());
            } else {
                print(&generated, style);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Seeds {
            config,
            florida,
            dns,
            dns_server,
            node,
            format,
        } => {
            let source = match (&config, &florida, &node, &dns) {
                (Some(c), _, _, _) => seeds::Source::Config(c),
                (_, Some(f), _, _) => seeds::Source::Florida(f),
                (_, _, Some(n), _) => seeds::Source::Node(n),
                (_, _, _, Some(d)) => seeds::Source::Dns {
                    name: d,
                    server: dns_server.as_deref(),
                },
                // clap's required group guarantees one of them.
                _ => return Err(CliError::new("give --config, --florida, --dns or --node")),
            };
            let list = seeds::run(&source)?;
            match (style, format) {
                (Style::Json, _) | (_, SeedFormat::Json) => print(&list, Style::Json),
                (_, SeedFormat::Table) => print(&list, Style::Human),
                (_, SeedFormat::Florida) => text_out(&list.florida()),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::ServeSeeds { file, listen } => {
            serve_seeds::run(&file, &listen)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Status {
            node,
            config,
            nodes,
            stats_port_map,
            interval,
            timeout,
        } => {
            let sources = status::Sources {
                node,
                configs: config,
                nodes,
                port_map: stats_port_map,
            };
            let st = status::run(&sources, interval, timeout)?;
            print(&st, style);
            Ok(ExitCode::from(u8::from(!st.ok)))
        }
        Command::State(StateCmd::Get { node }) => {
            let r = admin::state_get(&admin_client()?, &stats::node_addr(&node)?)?;
            print(&r, style);
            Ok(ExitCode::SUCCESS)
        }
        Command::State(StateCmd::Set { node, state }) => {
            let r = admin::state_set(&admin_client()?, &stats::node_addr(&node)?, state)?;
            print(&r, style);
            Ok(ExitCode::SUCCESS)
        }
        Command::Consistency(ConsistencyCmd::Get { node }) => {
            let r = admin::consistency_get(&admin_client()?, &stats::node_addr(&node)?)?;
            print(&r, style);
            Ok(ExitCode::SUCCESS)
        }
        Command::Consistency(ConsistencyCmd::Set { node, read, write }) => {
            let r =
                admin::consistency_set(&admin_client()?, &stats::node_addr(&node)?, read, write)?;
            print(&r, style);
            Ok(ExitCode::SUCCESS)
        }
        Command::Peer { action, node, peer } => {
            let r = admin::peer(&admin_client()?, &stats::node_addr(&node)?, action, &peer)?;
            print(&r, style);
            Ok(ExitCode::SUCCESS)
        }
        Command::Loglevel { node, level } => {
            let r = admin::loglevel(&admin_client()?, &stats::node_addr(&node)?, level)?;
            print(&r, style);
            Ok(ExitCode::SUCCESS)
        }
        Command::Health { node, timeout } => {
            let h = health::run(&stats::Stats::new(timeout)?, &stats::node_addr(&node)?)?;
            print(&h, style);
            Ok(ExitCode::from(u8::from(!h.ok)))
        }
        Command::Wait {
            node,
            state,
            healthy,
            timeout,
            interval,
        } => {
            let node = stats::node_addr(&node)?;
            let w = health::wait(&node, state.name(), healthy, timeout, interval)?;
            print(&w, style);
            Ok(ExitCode::from(u8::from(!w.reached)))
        }
        Command::Cluster(cmd) => run_cluster(cmd, style),
        Command::Warmup(args) => {
            let r = warmup::run(&args)?;
            print(&r, style);
            Ok(ExitCode::from(u8::from(!r.ok)))
        }
        Command::Repair(args) => {
            let r = repair::run(&args)?;
            print(&r, style);
            Ok(ExitCode::from(u8::from(!r.equal)))
        }
    }
}

fn run_cluster(cmd: ClusterCmd, style: Style) -> Result<ExitCode, CliError> {
    match cmd {
        ClusterCmd::Up {
            racks,
            shape,
            dir,
            base_port,
            dynomited,
            redis_server,
            consistency,
            timeout,
        } => {
            let opts = cluster::UpOptions {
                layout: shape.layout(racks),
                dir,
                base_port,
                dynomited,
                redis_server,
                consistency,
                timeout,
            };
            let c = cluster::up(&opts)?;
            print(&c, style);
            Ok(ExitCode::SUCCESS)
        }
        ClusterCmd::Down { dir } => {
            let d = cluster::down(&dir)?;
            print(&d, style);
            Ok(ExitCode::SUCCESS)
        }
        ClusterCmd::Status {
            dir,
            interval,
            timeout,
        } => {
            let c = cluster::load(&dir)?;
            let sources = status::Sources {
                node: None,
                configs: Vec::new(),
                nodes: c.nodes.iter().map(|n| n.stats.clone()).collect(),
                port_map: None,
            };
            let st = status::run(&sources, interval, timeout)?;
            print(&st, style);
            Ok(ExitCode::from(u8::from(!st.ok)))
        }
        ClusterCmd::RestartNode { dir, node, timeout } => {
            let r = cluster::restart_node(&dir, &node, timeout)?;
            print(&r, style);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The client for one node's admin commands.
fn admin_client() -> Result<stats::Stats, CliError> {
    stats::Stats::new(Duration::from_secs(5))
}
