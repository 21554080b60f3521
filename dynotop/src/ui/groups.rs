//! The racks and DCs views: the nodes table aggregated per rack or per DC.

use std::collections::BTreeMap;

use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Cell, Row, Table};
use ratatui::Frame;

use super::{kib, micros, rate, Theme};
use crate::app::App;

/// One rack's or DC's totals.
#[derive(Default)]
struct Group {
    nodes: usize,
    up: usize,
    down: usize,
    reads: Option<f64>,
    writes: Option<f64>,
    errors: Option<f64>,
    clients: u64,
    worst_p99: u64,
    memory: u64,
}

fn add(a: Option<f64>, b: f64) -> Option<f64> {
    Some(a.unwrap_or(0.0) + b)
}

fn aggregate(app: &App, by_dc: bool) -> BTreeMap<String, Group> {
    let mut out: BTreeMap<String, Group> = BTreeMap::new();
    for n in &app.nodes {
        let key = if by_dc {
            n.dc().to_owned()
        } else {
            format!("{}/{}", n.dc(), n.rack())
        };
        let g = out.entry(key).or_default();
        g.nodes += 1;
        if n.is_down() {
            g.down += 1;
        } else if let Some(s) = &n.cur {
            g.up += 1;
            g.clients += s.client_connections;
            g.worst_p99 = g.worst_p99.max(s.latency_99th);
            g.memory += s.dyn_memory;
        }
        if let Some(r) = n.live_rates() {
            g.reads = add(g.reads, r.reads);
            g.writes = add(g.writes, r.writes);
            g.errors = add(g.errors, r.errors);
        }
    }
    out
}

pub fn render(f: &mut Frame, area: Rect, app: &App, theme: Theme, by_dc: bool) {
    let titles = [
        if by_dc { "DC" } else { "DC/RACK" },
        "NODES",
        "UP",
        "DOWN",
        "OPS/s",
        "R/W%",
        "ERR/s",
        "CLI",
        "P99max",
        "MEM",
    ];
    let widths = [16, 5, 3, 4, 7, 5, 6, 5, 7, 7];
    let rows: Vec<Row> = aggregate(app, by_dc)
        .into_iter()
        .map(|(name, g)| {
            let ops = g.reads.zip(g.writes).map(|(r, w)| r + w);
            let down = Cell::from(g.down.to_string()).style(if g.down > 0 {
                theme.state("DOWN")
            } else {
                theme.dim()
            });
            Row::new(vec![
                Cell::from(name),
                Cell::from(g.nodes.to_string()),
                Cell::from(g.up.to_string()).style(theme.state("UP")),
                down,
                Cell::from(rate(ops)),
                Cell::from(match (g.reads, ops) {
                    (Some(r), Some(o)) if o > 0.0 => {
                        format!("{:.0}/{:.0}", r * 100.0 / o, 100.0 - r * 100.0 / o)
                    }
                    _ => "-".into(),
                }),
                Cell::from(rate(g.errors)),
                Cell::from(g.clients.to_string()),
                Cell::from(if g.up > 0 {
                    micros(g.worst_p99)
                } else {
                    "-".into()
                }),
                Cell::from(if g.up > 0 { kib(g.memory) } else { "-".into() }),
            ])
        })
        .collect();
    let table = Table::new(rows, widths.map(Constraint::Length))
        .header(Row::new(titles).style(theme.title()))
        .column_spacing(1);
    f.render_widget(table, area);
}
