//! The panes: each renders a part of an [`App`] and changes nothing.
//!
//! ```text
//! ┌ header: cluster, counts, totals, interval, clock ┐
//! │ body: nodes | racks | DCs | node detail | ring    │
//! └ footer: keys, or the filter being typed          ┘   (+ help over it all)
//! ```

mod detail;
mod groups;
mod header;
mod help;
mod nodes;
mod ring;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::app::{App, View};

/// Colours, or none at all for `--no-color` / `NO_COLOR` (bold and reverse remain).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    fn fg(self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }

    pub fn state(self, state: &str) -> Style {
        match state {
            "NORMAL" | "UP" => self.fg(Color::Green),
            "STANDBY" => self.fg(Color::Yellow),
            "WRITES_ONLY" => self.fg(Color::Magenta),
            "RESUMING" | "JOINING" => self.fg(Color::Cyan),
            "DOWN" => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            _ => self.fg(Color::DarkGray),
        }
    }

    pub fn title(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn bad(self) -> Style {
        self.fg(Color::Red)
    }

    pub fn dim(self) -> Style {
        self.fg(Color::DarkGray)
    }

    pub fn selected(self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }
}

/// Draw the whole dashboard.
pub fn draw(f: &mut Frame, app: &App, theme: Theme) {
    let [top, body, foot] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(f.area());
    header::render(f, top, app, theme);
    match app.view {
        View::Nodes => nodes::render(f, body, app, theme),
        View::Racks => groups::render(f, body, app, theme, false),
        View::Dcs => groups::render(f, body, app, theme, true),
        View::Detail => detail::render(f, body, app, theme),
        View::Ring => ring::render(f, body, app, theme),
    }
    footer(f, foot, app, theme);
    if app.help {
        help::render(f, f.area(), theme);
    }
}

fn footer(f: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let line = if app.filtering {
        Line::from(vec![
            Span::styled("/", theme.title()),
            Span::raw(app.filter.clone()),
            Span::styled("_", theme.selected()),
            Span::styled("  Enter keep  Esc clear", theme.dim()),
        ])
    } else {
        let keys = [
            ("1", "nodes"),
            ("2", "racks"),
            ("3", "dcs"),
            ("4", "ring"),
            ("Enter", "detail"),
            ("s", "sort"),
            ("r", "rev"),
            ("/", "filter"),
            ("?", "help"),
            ("q", "quit"),
        ];
        Line::from(
            keys.iter()
                .flat_map(|(k, what)| {
                    [
                        Span::styled(*k, theme.title()),
                        Span::raw(format!(" {what} ")),
                    ]
                })
                .collect::<Vec<_>>(),
        )
    };
    f.render_widget(Paragraph::new(line), area);
}

/// `1234`, `12.3k`, `1.2M`; `-` for none.
pub fn rate(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if v < 10.0 && v.fract() != 0.0 => format!("{v:.1}"),
        Some(v) if v < 10_000.0 => format!("{v:.0}"),
        Some(v) if v < 10_000_000.0 => format!("{:.1}k", v / 1000.0),
        Some(v) => format!("{:.1}M", v / 1_000_000.0),
    }
}

/// A latency in µs: `850us`, `9.7ms`, `1.20s`.
pub fn micros(v: u64) -> String {
    match v {
        0..=999 => format!("{v}us"),
        1000..=999_999 => format!("{:.1}ms", v as f64 / 1000.0),
        _ => format!("{:.2}s", v as f64 / 1_000_000.0),
    }
}

/// A size in KiB: `512K`, `381.1M`, `2.0G`.
pub fn kib(v: u64) -> String {
    match v {
        0..=1023 => format!("{v}K"),
        1024..=1_048_575 => format!("{:.1}M", v as f64 / 1024.0),
        _ => format!("{:.1}G", v as f64 / 1_048_576.0),
    }
}

/// How long ago: `12s`, `5m`, `3h`, `2d`.
pub fn ago(secs: u64) -> String {
    match secs {
        0..=119 => format!("{secs}s"),
        120..=7199 => format!("{}m", secs / 60),
        7200..=172_799 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86400),
    }
}

/// `last seen 30s ago` or `never seen`.
pub fn last_seen(app: &App, seen: Option<u64>) -> String {
    match seen {
        Some(t) => format!("last seen {} ago", ago(app.now_unix.saturating_sub(t))),
        None => "never seen".into(),
    }
}

/// Seconds since the epoch as `HH:MM:SS` UTC.
pub fn clock(unix: u64) -> String {
    let s = unix % 86400;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// Render `app` into a `width`x`height` test backend and return its lines as plain text,
/// trailing blanks trimmed (`--once` and the snapshot tests).
pub fn render_text(app: &App, width: u16, height: u16) -> String {
    let backend = ratatui::backend::TestBackend::new(width, height);
    let mut term = ratatui::Terminal::new(backend).unwrap_or_else(|e| match e {});
    if term.draw(|f| draw(f, app, Theme { color: false })).is_err() {
        return String::new();
    }
    let buf = term.backend().buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut line = String::new();
        for x in 0..buf.area.width {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
