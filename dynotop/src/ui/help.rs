//! The help pane: every key, over the current view.

use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use super::Theme;

const KEYS: [(&str, &str); 15] = [
    ("1", "nodes, grouped by DC and rack"),
    ("2", "racks, aggregated"),
    ("3", "DCs, aggregated"),
    ("4", "the ring: token ranges per rack"),
    ("Enter", "detail of the selected node"),
    ("Up/Down j/k", "select a row"),
    ("s", "sort by the next column"),
    ("r", "reverse the sort"),
    ("/", "filter rows (name, DC, rack, state)"),
    ("Esc", "clear the filter / leave detail / help"),
    ("?", "this help"),
    ("q Ctrl-C", "quit"),
    ("DS", "datastore: ok, or FAIL if ejected/closed"),
    ("HINT", "writes kept for peers that missed them (hints)"),
    ("KEYS", "keys in the datastore (its own INFO)"),
];

pub fn render(f: &mut Frame, area: Rect, theme: Theme) {
    let h = (KEYS.len() as u16 + 2).min(area.height);
    let w = 56.min(area.width);
    let [row] = Layout::vertical([Constraint::Length(h)])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::horizontal([Constraint::Length(w)])
        .flex(Flex::Center)
        .areas(row);
    let lines: Vec<Line> = KEYS
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!("{k:>12} "), theme.title()),
                Span::raw(*what),
            ])
        })
        .collect();
    f.render_widget(Clear, popup);
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(" keys ")),
        popup,
    );
}
