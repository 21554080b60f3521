//! The nodes table: one row per node, grouped by DC and rack, sortable and filtered; below it,
//! why each DOWN node is down and when it was last seen.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, HighlightSpacing, Paragraph, Row, Table, TableState, Wrap};
use ratatui::Frame;

use super::{kib, last_seen, micros, rate, Theme};
use crate::app::{App, Column, Node};

/// A displayed column: a sortable one, or the DC/rack group label.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Col {
    Sort(Column),
    Group,
}

/// Columns by priority (kept while they fit), with their widths.
fn choose(width: u16, name_w: u16, group_w: u16) -> Vec<(Col, u16)> {
    let by_priority = [
        (Col::Sort(Column::Node), name_w),
        (Col::Sort(Column::State), 11),
        (Col::Sort(Column::Ops), 7),
        (Col::Group, group_w),
        (Col::Sort(Column::P99), 7),
        (Col::Sort(Column::Errors), 6),
        (Col::Sort(Column::Reads), 5),
        (Col::Sort(Column::Clients), 5),
        (Col::Sort(Column::Datastore), 4),
        (Col::Sort(Column::Memory), 7),
        (Col::Sort(Column::Peers), 4),
        (Col::Sort(Column::Mean), 7),
        (Col::Sort(Column::Max), 7),
        (Col::Sort(Column::Token), 10),
        (Col::Sort(Column::Hints), 4),
        (Col::Sort(Column::Keys), 7),
    ];
    let mut used = 0;
    let mut chosen: Vec<(Col, u16)> = Vec::new();
    for (c, w) in by_priority {
        if used + w < width {
            used += w + 1;
            chosen.push((c, w));
        }
    }
    let order = |c: &Col| match c {
        Col::Group => 1,
        Col::Sort(s) => {
            let i = Column::ALL.iter().position(|x| x == s).unwrap_or(0);
            if i == 0 {
                0
            } else {
                i + 1
            }
        }
    };
    chosen.sort_by_key(|(c, _)| order(c));
    chosen
}

fn title(app: &App, c: Col) -> String {
    match c {
        Col::Group => "DC/RACK".into(),
        Col::Sort(s) if s == app.sort => {
            format!("{}{}", s.title(), if app.reverse { "▼" } else { "▲" })
        }
        Col::Sort(s) => s.title().into(),
    }
}

fn cell<'a>(n: &'a Node, c: Col, group: &str, theme: Theme) -> Cell<'a> {
    let live = n.cur.as_ref().filter(|_| !n.is_down());
    let num = |f: &dyn Fn(&crate::sample::Sample) -> String| live.map_or("-".into(), f);
    let r = n.live_rates();
    let text = match c {
        Col::Group => group.to_owned(),
        Col::Sort(col) => match col {
            Column::Node => n.target.name.clone(),
            Column::State => return Cell::from(n.state().to_owned()).style(theme.state(n.state())),
            Column::Token => n.token().map_or("-".into(), |t| t.to_string()),
            Column::Ops => rate(r.map(|r| r.ops())),
            Column::Reads => match r {
                Some(r) if r.ops() > 0.0 => format!(
                    "{:.0}/{:.0}",
                    r.reads * 100.0 / r.ops(),
                    r.writes * 100.0 / r.ops()
                ),
                _ => "-".into(),
            },
            Column::Mean => num(&|s| micros(s.latency_mean)),
            Column::P99 => num(&|s| micros(s.latency_99th)),
            Column::Max => num(&|s| micros(s.latency_max)),
            Column::Clients => num(&|s| s.client_connections.to_string()),
            Column::Peers => num(&|s| s.peer_connections.to_string()),
            Column::Errors => {
                let e = r.map(|r| r.errors);
                let style = if e.unwrap_or(0.0) > 0.0 {
                    theme.bad()
                } else {
                    Default::default()
                };
                return Cell::from(rate(e)).style(style);
            }
            Column::Datastore => match n.datastore_ok() {
                Some(true) => "ok".into(),
                Some(false) => return Cell::from("FAIL").style(theme.bad()),
                None => "-".into(),
            },
            Column::Hints => match n
                .cur
                .as_ref()
                .and_then(|s| s.hints)
                .filter(|_| !n.is_down())
            {
                Some(h) => h.to_string(),
                None => "-".into(),
            },
            Column::Memory => num(&|s| kib(s.dyn_memory)),
            Column::Keys => rate(n.keys().filter(|_| !n.is_down()).map(|k| k as f64)),
        },
    };
    Cell::from(text)
}

pub fn render(f: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let rows = app.visible();
    let down: Vec<&Node> = rows
        .iter()
        .map(|&i| &app.nodes[i])
        .filter(|n| n.is_down())
        .collect();
    let down_h = (2 * down.len() as u16).min(area.height / 3);
    let [table_area, down_area] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(down_h)]).areas(area);
    let name_w = rows
        .iter()
        .map(|&i| app.nodes[i].target.name.len() as u16)
        .max()
        .unwrap_or(4)
        .clamp(4, 24);
    let group_w = rows
        .iter()
        .map(|&i| (app.nodes[i].dc().len() + app.nodes[i].rack().len() + 1) as u16)
        .max()
        .unwrap_or(7)
        .clamp(7, 24);
    let cols = choose(area.width.saturating_sub(2), name_w, group_w);
    let header =
        Row::new(cols.iter().map(|&(c, _)| Cell::from(title(app, c)))).style(theme.title());
    let grouped = app.sort == Column::Node;
    let mut last_group = String::new();
    let body: Vec<Row> = rows
        .iter()
        .map(|&i| {
            let n = &app.nodes[i];
            let g = if n.dc().is_empty() && n.rack().is_empty() {
                "-".to_string()
            } else {
                format!("{}/{}", n.dc(), n.rack())
            };
            let shown = if grouped && g == last_group {
                String::new()
            } else {
                g.clone()
            };
            last_group = g;
            Row::new(
                cols.iter()
                    .map(|&(c, _)| cell(n, c, &shown, theme))
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    let widths: Vec<Constraint> = cols.iter().map(|&(_, w)| Constraint::Length(w)).collect();
    let table = Table::new(body, widths)
        .header(header)
        .column_spacing(1)
        .row_highlight_style(theme.selected())
        .highlight_symbol("> ")
        .highlight_spacing(HighlightSpacing::Always);
    let mut state = TableState::default().with_selected((!rows.is_empty()).then_some(app.selected));
    f.render_stateful_widget(table, table_area, &mut state);
    let lines: Vec<Line> = down
        .iter()
        .map(|n| {
            Line::from(vec![
                Span::styled(format!("{} DOWN", n.target.name), theme.state("DOWN")),
                Span::raw(format!(
                    " {}{}: {}",
                    last_seen(app, n.last_seen),
                    if n.target.addr == n.target.name {
                        String::new()
                    } else {
                        format!(", {}", n.target.addr)
                    },
                    n.down.as_deref().unwrap_or(""),
                )),
            ])
        })
        .collect();
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), down_area);
}
