//! The ring view: per DC and rack, each node's token range `(previous, token]` and its share.

use std::collections::BTreeMap;

use dynomite::ring::Continuum;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Cell, Row, Table};
use ratatui::Frame;

use super::Theme;
use crate::app::App;

pub fn render(f: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let mut racks: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (i, n) in app.nodes.iter().enumerate() {
        racks
            .entry((n.dc().to_owned(), n.rack().to_owned()))
            .or_default()
            .push(i);
    }
    let mut rows = Vec::new();
    for ((dc, rack), idx) in racks {
        let ring = Continuum::from_entries(
            idx.iter()
                .filter_map(|&i| app.nodes[i].token().map(|t| (t, i))),
        );
        let ranges = ring.ranges();
        let group = format!("{dc}/{rack}");
        let mut first = true;
        let mut label = || {
            let l = if first { group.clone() } else { String::new() };
            first = false;
            l
        };
        for (start, end, i) in &ranges {
            let n = &app.nodes[*i];
            let span = if ranges.len() == 1 {
                1u64 << 32
            } else {
                u64::from(end.wrapping_sub(*start))
            };
            rows.push(Row::new(vec![
                Cell::from(label()),
                Cell::from(n.target.name.clone()),
                Cell::from(n.state().to_owned()).style(theme.state(n.state())),
                Cell::from(end.to_string()),
                Cell::from(if ranges.len() == 1 {
                    "whole ring".to_string()
                } else {
                    format!("({start}, {end}]")
                }),
                Cell::from(format!("{:.1}%", span as f64 * 100.0 / (1u64 << 32) as f64)),
            ]));
        }
        let owned: Vec<usize> = ranges.iter().map(|r| r.2).collect();
        for &i in idx.iter().filter(|i| !owned.contains(i)) {
            let n = &app.nodes[i];
            rows.push(Row::new(vec![
                Cell::from(label()),
                Cell::from(n.target.name.clone()),
                Cell::from(n.state().to_owned()).style(theme.state(n.state())),
                Cell::from(n.token().map_or("?".into(), |t| t.to_string())),
                Cell::from(if n.token().is_some() {
                    "none (same token)"
                } else {
                    "token unknown"
                }),
                Cell::from("-"),
            ]));
        }
    }
    let widest = |f: &dyn Fn(&crate::app::Node) -> usize| {
        app.nodes.iter().map(f).max().unwrap_or(0).clamp(7, 24) as u16
    };
    let group_w = widest(&|n| n.dc().len() + n.rack().len() + 1);
    let name_w = widest(&|n| n.target.name.len());
    let widths = [group_w, name_w, 11, 10, 24, 6].map(Constraint::Length);
    let header =
        Row::new(["DC/RACK", "NODE", "STATE", "TOKEN", "RANGE", "SHARE"]).style(theme.title());
    f.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        area,
    );
}
