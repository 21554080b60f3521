//! The dashboard's whole state as plain data, the key handler, and the poll results applied.
//!
//! Nothing here touches the terminal or the network: `main` feeds [`App::apply`] with fetch
//! results and [`App::on_key`] with key presses; the panes in `ui` only read an `App`.

use std::cmp::Ordering;
use std::collections::VecDeque;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::datastore::DsInfo;
use crate::sample::{Rates, Sample};
use crate::topology::{Described, Target};

/// Samples of history kept for the sparklines (5 minutes at the default 2 s interval).
pub const HISTORY: usize = 150;

/// One watched node: what discovery said, its last two samples and its rates.
#[derive(Clone, Debug, Default)]
pub struct Node {
    pub target: Target,
    pub prev: Option<Sample>,
    pub cur: Option<Sample>,
    pub rates: Option<Rates>,
    /// Why the last poll failed; `None` while it answers.
    pub down: Option<String>,
    /// Unix time (s) of the last good poll.
    pub last_seen: Option<u64>,
    /// `(ops/s, p99 µs)` per poll, oldest first.
    pub history: VecDeque<(u64, u64)>,
    /// The last exchange with the node's datastore (its own `INFO`), if any yet.
    pub datastore: Option<DsProbe>,
}

/// One `INFO` exchange with a node's datastore.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DsProbe {
    /// The address connected to (`host:port`).
    pub addr: String,
    /// Unix time (s) of the answer.
    pub unix: u64,
    /// The summary, or why there is none (the node itself is unaffected).
    pub result: Result<DsInfo, String>,
}

impl Node {
    pub fn new(target: Target) -> Node {
        Node {
            target,
            ..Node::default()
        }
    }

    /// `DOWN`, the node's own `state`, `UP` for a Dynomite that does not report one, or
    /// `WAIT` before the first answer.
    pub fn state(&self) -> &str {
        if self.down.is_some() {
            return "DOWN";
        }
        match &self.cur {
            None => "WAIT",
            Some(s) => s.state.as_deref().unwrap_or("UP"),
        }
    }

    pub fn is_down(&self) -> bool {
        self.down.is_some()
    }

    /// Live rates, none while down.
    pub fn live_rates(&self) -> Option<&Rates> {
        if self.is_down() {
            None
        } else {
            self.rates.as_ref()
        }
    }

    /// Datastore reachable, derived: `Some(false)` if the datastore connection was ejected,
    /// closed or failed (`server_ejects`, `server_eof`, `server_err`, `server_timedout` rose)
    /// during the last interval; `None` when unknown (no rate yet, or the node is down).
    pub fn datastore_ok(&self) -> Option<bool> {
        self.live_rates().map(|r| r.datastore_failures == 0)
    }

    /// The datastore's summary when its last `INFO` exchange worked.
    pub fn ds_info(&self) -> Option<&DsInfo> {
        self.datastore.as_ref().and_then(|p| p.result.as_ref().ok())
    }

    /// Keys in the datastore (`db0`), when known.
    pub fn keys(&self) -> Option<u64> {
        self.ds_info().and_then(|d| d.keys)
    }

    pub fn token(&self) -> Option<u32> {
        self.target.tokens.first().copied()
    }

    pub fn dc(&self) -> &str {
        match &self.cur {
            Some(s) if !s.dc.is_empty() => &s.dc,
            _ => &self.target.dc,
        }
    }

    pub fn rack(&self) -> &str {
        match &self.cur {
            Some(s) if !s.rack.is_empty() => &s.rack,
            _ => &self.target.rack,
        }
    }
}

/// The outcome of one poll of one node.
#[derive(Clone, Debug)]
pub struct Fetched {
    pub addr: String,
    /// Unix time (s) the reply came.
    pub unix: u64,
    pub result: Result<Sample, String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Nodes,
    Racks,
    Dcs,
    Detail,
    Ring,
}

/// Table columns, in display and `s` cycling order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    /// The default: grouped by DC, rack, then token.
    Node,
    State,
    Token,
    Ops,
    Reads,
    Mean,
    P99,
    Max,
    Clients,
    Peers,
    Errors,
    Datastore,
    Hints,
    Memory,
    /// Keys in the node's datastore (its own `INFO`).
    Keys,
}

impl Column {
    pub const ALL: [Column; 15] = [
        Column::Node,
        Column::State,
        Column::Token,
        Column::Ops,
        Column::Reads,
        Column::Mean,
        Column::P99,
        Column::Max,
        Column::Clients,
        Column::Peers,
        Column::Errors,
        Column::Datastore,
        Column::Hints,
        Column::Memory,
        Column::Keys,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Column::Node => "NODE",
            Column::State => "STATE",
            Column::Token => "TOKEN",
            Column::Ops => "OPS/s",
            Column::Reads => "R/W%",
            Column::Mean => "MEAN",
            Column::P99 => "P99",
            Column::Max => "MAX",
            Column::Clients => "CLI",
            Column::Peers => "PEER",
            Column::Errors => "ERR/s",
            Column::Datastore => "DS",
            Column::Hints => "HINT",
            Column::Memory => "MEM",
            Column::Keys => "KEYS",
        }
    }

    fn next(self) -> Column {
        let i = Column::ALL.iter().position(|&c| c == self).unwrap_or(0);
        Column::ALL[(i + 1) % Column::ALL.len()]
    }
}

/// What the caller should do after a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    None,
    Quit,
}

#[derive(Clone, Debug)]
pub struct App {
    /// Pool name from `/info` (or given); shown as the cluster name.
    pub cluster: String,
    pub nodes: Vec<Node>,
    pub interval_secs: f64,
    /// Unix time (s) used for "last seen" and the header clock.
    pub now_unix: u64,
    pub view: View,
    pub sort: Column,
    pub reverse: bool,
    pub filter: String,
    /// `/` was pressed: keys go to the filter text.
    pub filtering: bool,
    /// Index into [`App::visible`].
    pub selected: usize,
    /// Stats address of the node shown in the detail view.
    pub detail: Option<String>,
    pub help: bool,
}

impl App {
    pub fn new(targets: Vec<Target>, interval_secs: f64) -> App {
        App {
            cluster: String::new(),
            nodes: targets.into_iter().map(Node::new).collect(),
            interval_secs,
            now_unix: 0,
            view: View::Nodes,
            sort: Column::Node,
            reverse: false,
            filter: String::new(),
            filtering: false,
            selected: 0,
            detail: None,
            help: false,
        }
    }

    /// Record one poll result.
    pub fn apply(&mut self, f: Fetched) {
        let Some(node) = self.nodes.iter_mut().find(|n| n.target.addr == f.addr) else {
            return;
        };
        match f.result {
            Ok(s) => {
                if self.cluster.is_empty() {
                    self.cluster = s.pool.clone();
                }
                // After a DOWN spell the previous sample is stale: rates restart.
                let prev = if node.is_down() {
                    None
                } else {
                    node.cur.take()
                };
                node.rates = Rates::between(prev.as_ref(), &s);
                let ops = node.rates.map(|r| r.ops().round() as u64).unwrap_or(0);
                node.history.push_back((ops, s.latency_99th));
                while node.history.len() > HISTORY {
                    node.history.pop_front();
                }
                node.prev = prev;
                node.cur = Some(s);
                node.down = None;
                node.last_seen = Some(f.unix);
            }
            Err(reason) => {
                node.down = Some(reason);
                node.rates = None;
            }
        }
    }

    /// Record one `INFO` exchange with the datastore of the node at stats address `addr`.
    pub fn apply_datastore(&mut self, addr: &str, probe: DsProbe) {
        if let Some(node) = self.nodes.iter_mut().find(|n| n.target.addr == addr) {
            node.datastore = Some(probe);
        }
    }

    /// Open `view` (as `--view` / `--select` do): the cursor goes to `select`, a 1-based row
    /// of the nodes table or a node's stats address or name (the first row when `None`), and
    /// the detail view shows that node.
    pub fn open(&mut self, view: View, select: Option<&str>) -> Result<(), String> {
        let rows = self.visible();
        let row = match select {
            None => 0,
            Some(s) => match s.parse::<usize>() {
                Ok(n) if (1..=rows.len()).contains(&n) => n - 1,
                Ok(n) => return Err(format!("--select {n}: want a row from 1 to {}", rows.len())),
                Err(_) => rows
                    .iter()
                    .position(|&i| self.nodes[i].target.addr == s || self.nodes[i].target.name == s)
                    .ok_or_else(|| format!("--select {s}: no such node"))?,
            },
        };
        self.selected = row;
        self.switch(view);
        if view == View::Detail {
            self.detail = rows.get(row).map(|&i| self.nodes[i].target.addr.clone());
        }
        Ok(())
    }

    /// Fill in unknown tokens from a `/cluster_describe`: a node without tokens takes the
    /// token of the one described node with its DC, rack and host (when exactly one matches).
    pub fn set_described(&mut self, described: &[Described]) {
        for n in self.nodes.iter_mut().filter(|n| n.target.tokens.is_empty()) {
            let host = n.target.addr.rsplit_once(':').map_or("", |(h, _)| h);
            let mut m = described.iter().filter(|d| {
                d.dc == n.dc() && d.rack == n.rack() && (d.name == host || d.host == host)
            });
            if let (Some(d), None) = (m.next(), m.next()) {
                n.target.tokens = vec![d.token];
            }
        }
    }

    fn matches(&self, n: &Node) -> bool {
        if self.filter.is_empty() {
            return true;
        }
        let f = self.filter.to_lowercase();
        [
            n.target.name.as_str(),
            n.target.addr.as_str(),
            n.dc(),
            n.rack(),
            n.state(),
        ]
        .iter()
        .any(|s| s.to_lowercase().contains(&f))
    }

    /// Indices into `nodes` of the rows shown, filtered and sorted.
    pub fn visible(&self) -> Vec<usize> {
        let mut v: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| self.matches(&self.nodes[i]))
            .collect();
        v.sort_by(|&a, &b| {
            let (a, b) = (&self.nodes[a], &self.nodes[b]);
            let o = compare(self.sort, a, b).then_with(|| compare(Column::Node, a, b));
            if self.reverse {
                o.reverse()
            } else {
                o
            }
        });
        v
    }

    /// The node under the cursor (nodes view) or pinned (detail view).
    pub fn selected_node(&self) -> Option<&Node> {
        if let Some(addr) = &self.detail {
            return self.nodes.iter().find(|n| &n.target.addr == addr);
        }
        self.visible().get(self.selected).map(|&i| &self.nodes[i])
    }

    pub fn on_key(&mut self, key: KeyEvent) -> Action {
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            return Action::Quit;
        }
        if self.filtering {
            match key.code {
                KeyCode::Esc => {
                    self.filter.clear();
                    self.filtering = false;
                }
                KeyCode::Enter => self.filtering = false,
                KeyCode::Backspace => {
                    self.filter.pop();
                }
                KeyCode::Char(c) => self.filter.push(c),
                _ => {}
            }
            self.selected = 0;
            return Action::None;
        }
        let rows = self.visible().len();
        match key.code {
            KeyCode::Char('q') => return Action::Quit,
            KeyCode::Char('?') => self.help = !self.help,
            KeyCode::Esc if self.help => self.help = false,
            KeyCode::Esc if self.view == View::Detail => {
                self.view = View::Nodes;
                self.detail = None;
            }
            KeyCode::Esc => {
                self.filter.clear();
                self.selected = 0;
            }
            KeyCode::Char('s') => self.sort = self.sort.next(),
            KeyCode::Char('r') => self.reverse = !self.reverse,
            KeyCode::Char('/') => {
                self.filtering = true;
                self.view = View::Nodes;
                self.detail = None;
            }
            KeyCode::Char('1') => self.switch(View::Nodes),
            KeyCode::Char('2') => self.switch(View::Racks),
            KeyCode::Char('3') => self.switch(View::Dcs),
            KeyCode::Char('4') => self.switch(View::Ring),
            KeyCode::Enter => {
                if let Some(&i) = self.visible().get(self.selected) {
                    self.detail = Some(self.nodes[i].target.addr.clone());
                    self.view = View::Detail;
                }
            }
            KeyCode::Down | KeyCode::Char('j') => {
                self.selected = (self.selected + 1).min(rows.saturating_sub(1));
            }
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::Home | KeyCode::Char('g') => self.selected = 0,
            KeyCode::End | KeyCode::Char('G') => self.selected = rows.saturating_sub(1),
            _ => {}
        }
        Action::None
    }

    fn switch(&mut self, view: View) {
        self.view = view;
        self.detail = None;
    }
}

fn opt_f(o: Option<f64>) -> f64 {
    o.unwrap_or(-1.0)
}

/// Order two nodes by one column; missing values sort first.
pub fn compare(col: Column, a: &Node, b: &Node) -> Ordering {
    let num = |f: &dyn Fn(&Node) -> f64| f(a).total_cmp(&f(b));
    let s = |n: &Node| n.cur.clone().filter(|_| !n.is_down());
    match col {
        Column::Node => (a.dc(), a.rack(), a.token(), &a.target.name).cmp(&(
            b.dc(),
            b.rack(),
            b.token(),
            &b.target.name,
        )),
        Column::State => a.state().cmp(b.state()),
        Column::Token => a.token().cmp(&b.token()),
        Column::Ops => num(&|n| opt_f(n.live_rates().map(Rates::ops))),
        Column::Reads => num(&|n| {
            opt_f(
                n.live_rates()
                    .filter(|r| r.ops() > 0.0)
                    .map(|r| r.reads / r.ops()),
            )
        }),
        Column::Mean => num(&|n| opt_f(s(n).map(|s| s.latency_mean as f64))),
        Column::P99 => num(&|n| opt_f(s(n).map(|s| s.latency_99th as f64))),
        Column::Max => num(&|n| opt_f(s(n).map(|s| s.latency_max as f64))),
        Column::Clients => num(&|n| opt_f(s(n).map(|s| s.client_connections as f64))),
        Column::Peers => num(&|n| opt_f(s(n).map(|s| s.peer_connections as f64))),
        Column::Errors => num(&|n| opt_f(n.live_rates().map(|r| r.errors))),
        Column::Datastore => a.datastore_ok().cmp(&b.datastore_ok()),
        Column::Hints => num(&|n| opt_f(s(n).and_then(|s| s.hints).map(|h| h as f64))),
        Column::Memory => num(&|n| opt_f(s(n).map(|s| s.dyn_memory as f64))),
        Column::Keys => a.keys().cmp(&b.keys()),
    }
}

#[cfg(test)]
#[path = "app_tests.rs"]
mod tests;
