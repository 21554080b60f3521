//! The node detail pane: identity and state, latencies and queue depths, the datastore's own
//! `INFO` summary (memory, keys, replication: a warm-up can be watched), and sparklines of
//! ops/s and p99 over the kept history.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Sparkline, Wrap};
use ratatui::Frame;

use super::{ago, kib, last_seen, micros, rate, Theme};
use crate::app::{App, Node};

fn kv(k: &str, v: String, theme: Theme) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{k:<12}"), theme.dim()),
        Span::raw(v),
    ])
}

fn identity(app: &App, n: &Node, theme: Theme) -> Vec<Line<'static>> {
    let s = n.cur.as_ref();
    let opt = |f: &dyn Fn(&crate::sample::Sample) -> String| s.map_or("-".into(), f);
    let lines = vec![
        Line::from(vec![
            Span::styled(format!("{} ", n.target.name), theme.title()),
            Span::styled(n.state().to_owned(), theme.state(n.state())),
        ]),
        kv("stats", n.target.addr.clone(), theme),
        kv("dc/rack", format!("{}/{}", n.dc(), n.rack()), theme),
        kv(
            "token",
            n.token().map_or("-".into(), |t| t.to_string()),
            theme,
        ),
        kv("version", opt(&|s| s.version.clone()), theme),
        kv("uptime", opt(&|s| ago(s.uptime)), theme),
        kv(
            "consistency",
            opt(&|s| {
                format!(
                    "r {} w {}",
                    s.read_consistency.as_deref().unwrap_or("?"),
                    s.write_consistency.as_deref().unwrap_or("?")
                )
            }),
            theme,
        ),
        kv("seen", last_seen(app, n.last_seen), theme),
    ];
    lines
}

fn stats(n: &Node, theme: Theme) -> Vec<Line<'static>> {
    let Some(s) = n.cur.as_ref() else {
        return vec![Line::raw("no /info yet")];
    };
    let r = n.live_rates();
    vec![
        kv(
            "ops/s",
            format!(
                "{} (r {} w {}) err/s {}",
                rate(r.map(|r| r.ops())),
                rate(r.map(|r| r.reads)),
                rate(r.map(|r| r.writes)),
                rate(r.map(|r| r.errors))
            ),
            theme,
        ),
        kv(
            "latency",
            format!(
                "mean {} p99 {} max {}",
                micros(s.latency_mean),
                micros(s.latency_99th),
                micros(s.latency_max)
            ),
            theme,
        ),
        kv(
            "cross-rack",
            format!(
                "avg {} p99 {}",
                micros(s.cross_zone_latency_avg),
                micros(s.cross_zone_latency_99)
            ),
            theme,
        ),
        kv(
            "cross-dc",
            format!(
                "avg {} p99 {}",
                micros(s.cross_region_rtt_avg),
                micros(s.cross_region_rtt_99)
            ),
            theme,
        ),
        kv(
            "datastore",
            format!(
                "avg {} p99 {} {}",
                micros(s.server_latency_avg),
                micros(s.server_latency_99),
                match n.datastore_ok() {
                    Some(true) => "ok",
                    Some(false) => "FAIL",
                    None => "-",
                }
            ),
            theme,
        ),
        kv(
            "queues p99",
            format!(
                "cli {} srv-in {} srv-out {}",
                s.client_out_queue_99, s.server_in_queue_99, s.server_out_queue_99,
            ),
            theme,
        ),
        kv(
            "",
            format!(
                "peer in/out {}/{} dc-out {}",
                s.peer_in_queue_99, s.peer_out_queue_99, s.remote_peer_out_queue_99
            ),
            theme,
        ),
        kv(
            "conns",
            format!(
                "clients {} peers {}",
                s.client_connections, s.peer_connections
            ),
            theme,
        ),
        kv(
            "memory",
            format!(
                "rss {} msgs {} free {}",
                kib(s.dyn_memory),
                s.alloc_msgs,
                s.free_msgs
            ),
            theme,
        ),
    ]
}

/// The datastore's own `INFO`: where, memory and keys; then replication.
fn datastore(app: &App, n: &Node, theme: Theme) -> Vec<Line<'static>> {
    let label = |k: &str| Span::styled(k.to_owned(), theme.dim());
    let Some(p) = &n.datastore else {
        let why = match n.cur.as_ref().and_then(|s| s.datastore.as_ref()) {
            _ if n.cur.is_none() => "no /info yet",
            None => "no datastore in /info",
            Some(_) => "not polled yet",
        };
        return vec![Line::from(vec![
            label("datastore INFO "),
            Span::raw(format!("unavailable: {why}")),
        ])];
    };
    let d = match &p.result {
        Ok(d) => d,
        Err(why) => {
            return vec![
                Line::from(vec![
                    label("datastore INFO "),
                    Span::styled(format!("unavailable: {why}"), theme.bad()),
                ]),
                Line::from(vec![
                    label("  asked "),
                    Span::raw(p.addr.clone()),
                    label(
                        format!(" {} ago", super::ago(app.now_unix.saturating_sub(p.unix)))
                            .as_str(),
                    ),
                ]),
            ]
        }
    };
    let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    let used = match (&d.used_memory_human, d.used_memory) {
        (Some(h), Some(b)) => format!("{h} ({b} B)"),
        (h, b) => opt(h.clone().or(b.map(|b| b.to_string()))),
    };
    let stale = if n.is_down() {
        format!(
            " as of {} ago",
            super::ago(app.now_unix.saturating_sub(p.unix))
        )
    } else {
        String::new()
    };
    let first = Line::from(vec![
        label("datastore INFO "),
        Span::raw(p.addr.clone()),
        Span::styled(stale, theme.dim()),
        label("  used "),
        Span::raw(used),
        label("  keys "),
        Span::raw(opt(d.keys.map(|k| k.to_string()))),
    ]);
    let mut second = vec![label("  role "), Span::raw(opt(d.role.clone()))];
    if let Some(m) = &d.master {
        second.extend([label(" of "), Span::raw(m.clone())]);
    }
    if let Some(l) = &d.master_link_status {
        let style = if l == "up" {
            Default::default()
        } else {
            theme.bad()
        };
        second.extend([label("  link "), Span::styled(l.clone(), style)]);
    }
    if d.syncing {
        second.push(Span::styled(" syncing", theme.state("RESUMING")));
    }
    let offset = match (d.role.as_deref(), d.slave_repl_offset, d.master_repl_offset) {
        (Some("slave"), Some(o), _) | (_, _, Some(o)) => Some(o),
        (_, o, None) => o,
    };
    second.extend([
        label("  repl offset "),
        Span::raw(opt(offset.map(|o| o.to_string()))),
    ]);
    vec![first, Line::from(second)]
}

pub fn render(f: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let Some(n) = app.selected_node() else {
        f.render_widget(Paragraph::new("no node selected"), area);
        return;
    };
    let down_h = u16::from(n.is_down());
    let [top, ds_area, down_area, ops_area, p99_area] = Layout::vertical([
        Constraint::Length(10),
        Constraint::Length(2),
        Constraint::Length(down_h),
        Constraint::Min(3),
        Constraint::Min(3),
    ])
    .areas(area);
    let [left, right] = Layout::horizontal([Constraint::Length(36), Constraint::Min(0)]).areas(top);
    if let Some(why) = &n.down {
        let text = format!("DOWN, {}: {why}", last_seen(app, n.last_seen));
        f.render_widget(Paragraph::new(text).style(theme.bad()), down_area);
    }
    f.render_widget(Paragraph::new(identity(app, n, theme)), left);
    f.render_widget(Paragraph::new(stats(n, theme)), right);
    f.render_widget(
        Paragraph::new(datastore(app, n, theme)).wrap(Wrap { trim: false }),
        ds_area,
    );
    let width = usize::from(area.width.saturating_sub(2));
    let skip = n.history.len().saturating_sub(width);
    let ops: Vec<u64> = n.history.iter().skip(skip).map(|h| h.0).collect();
    let p99: Vec<u64> = n.history.iter().skip(skip).map(|h| h.1).collect();
    let title = |what: &str, last: String| {
        Block::default()
            .borders(Borders::ALL)
            .title(format!(" {what} now {last}, last {} samples ", ops.len()))
    };
    let last_ops = n.live_rates().map(|r| r.ops());
    f.render_widget(
        Sparkline::default()
            .block(title("ops/s", rate(last_ops)))
            .style(theme.state("UP"))
            .data(&ops),
        ops_area,
    );
    let last_p99 = n
        .cur
        .as_ref()
        .map_or("-".into(), |s| micros(s.latency_99th));
    f.render_widget(
        Sparkline::default()
            .block(title("p99", last_p99))
            .style(theme.state("RESUMING"))
            .data(&p99),
        p99_area,
    );
}
