//! `dynoctl`: the operator's command line for dynomite-rs clusters.
//!
//! Exit codes scripts can rely on: 0 ok, 1 the check found a problem, 2 usage or runtime error.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "dynoctl",
    version,
    about = "The operator's command line for dynomite-rs clusters"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Validate config files exactly as `dynomited -t` does: `ok` per valid file, or every
    /// error with file, line, key and fix. Exit 0 if all are valid, 1 if any is not.
    ConfTest {
        /// Config files to check
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match cli.command {
        Command::ConfTest { files } => conf_test(&files),
    }
}

fn conf_test(files: &[PathBuf]) -> ExitCode {
    let mut out = std::io::stdout().lock();
    let mut bad = false;
    for f in files {
        let line = match dynomite::conf::load(f) {
            Ok(_) => format!("{}: ok\n", f.display()),
            Err(errs) => {
                bad = true;
                format!("{errs}\n")
            }
        };
        // A closed pipe (`dynoctl conf-test ... | head`) is not an error.
        if out.write_all(line.as_bytes()).is_err() {
            break;
        }
    }
    ExitCode::from(u8::from(bad))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use dynomite::cli::check_generated;

    #[test]
    fn man_page_and_completions_are_current() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let cmd = Cli::command();
        let mut man = Vec::new();
        clap_mangen::Man::new(cmd.clone()).render(&mut man).unwrap();
        check_generated(&root.join("man/dynoctl.1"), &man).unwrap();
        for (shell, file) in [
            (clap_complete::Shell::Bash, "dynoctl.bash"),
            (clap_complete::Shell::Zsh, "_dynoctl"),
            (clap_complete::Shell::Fish, "dynoctl.fish"),
        ] {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut cmd.clone(), "dynoctl", &mut out);
            check_generated(&root.join("completions").join(file), &out).unwrap();
        }
    }
}
