//! The header: cluster name, counts, totals, refresh interval and the clock.

use std::collections::BTreeSet;

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{clock, rate, Theme};
use crate::app::{App, View};

pub fn render(f: &mut Frame, area: Rect, app: &App, theme: Theme) {
    // Nodes never seen and not described have no DC or rack yet: not counted as one.
    let dcs: BTreeSet<&str> = app
        .nodes
        .iter()
        .map(|n| n.dc())
        .filter(|d| !d.is_empty())
        .collect();
    let racks: BTreeSet<(&str, &str)> = app
        .nodes
        .iter()
        .map(|n| (n.dc(), n.rack()))
        .filter(|r| !r.1.is_empty())
        .collect();
    let down = app.nodes.iter().filter(|n| n.is_down()).count();
    let up = app
        .nodes
        .iter()
        .filter(|n| n.cur.is_some() && !n.is_down())
        .count();
    let rates: Vec<_> = app.nodes.iter().filter_map(|n| n.live_rates()).collect();
    let sum = |f: &dyn Fn(&crate::sample::Rates) -> f64| -> Option<f64> {
        (!rates.is_empty()).then(|| rates.iter().map(|r| f(r)).sum())
    };
    let clients: u64 = app
        .nodes
        .iter()
        .filter(|n| !n.is_down())
        .filter_map(|n| n.cur.as_ref().map(|s| s.client_connections))
        .sum();
    let cluster = if app.cluster.is_empty() {
        "?"
    } else {
        &app.cluster
    };
    let view = match app.view {
        View::Nodes => "nodes",
        View::Racks => "racks",
        View::Dcs => "dcs",
        View::Detail => "detail",
        View::Ring => "ring",
    };
    let line1 = Line::from(vec![
        Span::styled("dynotop ", theme.title()),
        Span::raw(format!(
            "{cluster}  dcs {} racks {} nodes {} ",
            dcs.len(),
            racks.len(),
            app.nodes.len()
        )),
        Span::styled(format!("up {up}"), theme.state("UP")),
        Span::raw(" "),
        Span::styled(
            format!("down {down}"),
            if down > 0 {
                theme.state("DOWN")
            } else {
                theme.dim()
            },
        ),
        Span::raw(format!(
            "  every {}s  {} UTC",
            app.interval_secs,
            clock(app.now_unix)
        )),
    ]);
    let errors = sum(&|r| r.errors);
    let mut spans = vec![
        Span::raw(format!(
            "ops/s {} (r {} w {})  clients {clients}  ",
            rate(sum(&|r| r.ops())),
            rate(sum(&|r| r.reads)),
            rate(sum(&|r| r.writes)),
        )),
        Span::styled(
            format!("err/s {}", rate(errors)),
            if errors.unwrap_or(0.0) > 0.0 {
                theme.bad()
            } else {
                theme.dim()
            },
        ),
        Span::raw(format!(
            "  view {view}  sort {}{}",
            app.sort.title(),
            if app.reverse { " desc" } else { "" }
        )),
    ];
    if !app.filter.is_empty() {
        spans.push(Span::raw(format!("  filter \"{}\"", app.filter)));
    }
    f.render_widget(Paragraph::new(vec![line1, Line::from(spans)]), area);
}
