//! The one place that prints: command results as tables (comfy-table), JSON (`--json`) or plain
//! text on stdout; warnings and errors on stderr.
//!
//! Commands return a value implementing [`Render`]; `main` hands it to [`print`]. A closed
//! stdout (`dynoctl tokens ... | head -1`) is not an error: the rest of the output is dropped.
//! Tables have no colours at all (so `NO_COLOR` holds trivially); on a terminal they get
//! UTF-8 borders, otherwise plain space-separated columns that `awk` and `cut` can read.

use std::fmt;
use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use comfy_table::{presets, ContentArrangement, Table};
use serde::Serialize;

/// A human-readable piece of a result.
pub enum Block {
    /// A table: header row, then data rows.
    Table {
        headers: Vec<&'static str>,
        rows: Vec<Vec<String>>,
    },
    /// Lines printed as they are (each gets a newline).
    Lines(Vec<String>),
}

/// A command's result: its JSON form (through `Serialize`) and its human form.
pub trait Render: Serialize {
    /// The blocks printed without `--json`, in order.
    fn human(&self) -> Vec<Block>;
}

/// How to print a result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Human,
    Json,
}

impl Style {
    pub fn json(json: bool) -> Style {
        if json {
            Style::Json
        } else {
            Style::Human
        }
    }
}

/// A usage or runtime error: exit 2 with `dynoctl: <message>` and an optional hint.
#[derive(Debug)]
pub struct CliError {
    pub message: String,
    pub hint: Option<String>,
}

impl CliError {
    pub fn new(message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> CliError {
        self.hint = Some(hint.into());
        self
    }

    /// `cannot reach <addr>: <reason>` with a hint on what to check.
    pub fn unreachable(addr: &str, reason: impl fmt::Display, hint: &str) -> CliError {
        CliError::new(format!("cannot reach {addr}: {reason}")).with_hint(hint)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Print `err` to stderr and return exit code 2.
pub fn fail(err: &CliError) -> ExitCode {
    let mut e = io::stderr().lock();
    let _ = writeln!(e, "dynoctl: {}", err.message);
    if let Some(h) = &err.hint {
        let _ = writeln!(e, "hint: {h}");
    }
    ExitCode::from(2)
}

/// A message for the operator (stderr), prefixed `dynoctl: `.
pub fn log(msg: impl fmt::Display) {
    let _ = writeln!(io::stderr().lock(), "dynoctl: {msg}");
}

/// Print a result on stdout in `style`.
pub fn print<R: Render>(value: &R, style: Style) {
    let text = match style {
        Style::Json => {
            // Serializing our own plain structs cannot fail.
            let mut s = serde_json::to_string_pretty(value).unwrap_or_default();
            s.push('\n');
            s
        }
        Style::Human => render_human(&value.human(), io::stdout().is_terminal()),
    };
    text_out(&text);
}

/// Print `text` on stdout as it is.
pub fn text_out(text: &str) {
    let mut out = io::stdout().lock();
    // A closed pipe is not an error; any other write error cannot be reported anywhere
    // better than stderr, which is where it would go.
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() != io::ErrorKind::BrokenPipe {
            log(format!("cannot write to stdout: {e}"));
        }
    }
}

/// The human form of `blocks`; `tty` picks borders (terminal) or plain columns (pipe, file).
pub fn render_human(blocks: &[Block], tty: bool) -> String {
    let mut out = String::new();
    for (i, b) in blocks.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        match b {
            Block::Table { headers, rows } => {
                let mut t = Table::new();
                if tty {
                    // No wrapping: a row stays one line, whatever the terminal reports.
                    t.load_preset(presets::UTF8_FULL_CONDENSED)
                        .set_content_arrangement(ContentArrangement::Disabled);
                } else {
                    t.load_preset(presets::NOTHING).force_no_tty();
                }
                t.set_header(headers.clone());
                for r in rows {
                    t.add_row(r.clone());
                }
                for line in t.to_string().lines() {
                    // NOTHING leaves a space of padding at both ends of each line.
                    let line = if tty { line } else { line.trim() };
                    out.push_str(line);
                    out.push('\n');
                }
            }
            Block::Lines(lines) => {
                for l in lines {
                    out.push_str(l);
                    out.push('\n');
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_table_has_no_borders() {
        let b = [Block::Table {
            headers: vec!["dc", "token"],
            rows: vec![vec!["dc1".into(), "1383429731".into()]],
        }];
        let s = render_human(&b, false);
        let lines: Vec<_> = s.lines().collect();
        assert_eq!(lines.len(), 2, "{s}");
        assert!(lines[0].starts_with("dc"), "{s}");
        assert!(
            lines[1].starts_with("dc1") && lines[1].ends_with("1383429731"),
            "{s}"
        );
        assert!(!s.contains('|') && !s.contains('─'), "{s}");
    }
}
