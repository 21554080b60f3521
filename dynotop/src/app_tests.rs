//! Unit tests of the dashboard state: applying polls, sorting, filtering, keys.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::fixture;

fn press(app: &mut App, c: KeyCode) -> Action {
    app.on_key(KeyEvent::new(c, KeyModifiers::NONE))
}

fn names(app: &App) -> Vec<String> {
    app.visible()
        .iter()
        .map(|&i| app.nodes[i].target.name.clone())
        .collect()
}

#[test]
fn fixture_has_rates_and_a_down_node() {
    let app = fixture::app();
    assert_eq!(app.cluster, "dyn_o_mite");
    let ops: Vec<Option<f64>> = app
        .nodes
        .iter()
        .map(|n| n.live_rates().map(|r| r.ops()))
        .collect();
    assert_eq!(ops, [Some(1500.0), Some(3000.0), None]);
    assert_eq!(app.nodes[2].state(), "DOWN");
    assert_eq!(app.nodes[2].last_seen, Some(fixture::NOW - 30));
    assert_eq!(app.nodes[1].state(), "WRITES_ONLY");
    assert_eq!(app.nodes[0].datastore_ok(), Some(true));
}

#[test]
fn a_restarted_node_shows_no_rate_then_recovers() {
    let mut app = fixture::app();
    let parse = |body: &str, at| crate::sample::parse(body, at);
    let addr = "10.0.0.1:22222".to_string();
    // Counters back to the fixture's (lower) values: a reset, no rate.
    app.apply(Fetched {
        addr: addr.clone(),
        unix: 1,
        result: parse(fixture::INFO, 4000),
    });
    assert_eq!(app.nodes[0].rates, None);
    app.apply(Fetched {
        addr,
        unix: 2,
        result: parse(&fixture::info("rack1", "NORMAL", 4000, 0), 6000),
    });
    assert_eq!(app.nodes[0].rates.map(|r| r.reads), Some(2000.0));
}

#[test]
fn a_down_node_comes_back_without_a_stale_rate() {
    let mut app = fixture::app();
    app.apply(Fetched {
        addr: "10.0.0.3:22222".into(),
        unix: 5,
        result: crate::sample::parse(&fixture::info("rack3", "NORMAL", 99_000, 0), 9000),
    });
    assert_eq!(app.nodes[2].state(), "NORMAL");
    assert_eq!(app.nodes[2].rates, None);
    assert_eq!(app.nodes[2].last_seen, Some(5));
}

#[test]
fn bad_json_shows_the_node_down_with_the_reason() {
    let mut app = fixture::app();
    app.apply(Fetched {
        addr: "10.0.0.1:22222".into(),
        unix: 9,
        result: crate::sample::parse("{not json", 9000),
    });
    assert_eq!(app.nodes[0].state(), "DOWN");
    assert!(app.nodes[0]
        .down
        .as_deref()
        .unwrap()
        .starts_with("bad /info JSON"));
}

#[test]
fn sort_cycles_and_reverses() {
    let mut app = fixture::app();
    assert_eq!(names(&app), ["node1:8101", "node2:8101", "node3:8101"]);
    for _ in 0..3 {
        press(&mut app, KeyCode::Char('s'));
    }
    assert_eq!(app.sort, Column::Ops);
    // Ascending: the DOWN node (no rate) first.
    assert_eq!(names(&app), ["node3:8101", "node1:8101", "node2:8101"]);
    press(&mut app, KeyCode::Char('r'));
    assert_eq!(names(&app), ["node2:8101", "node1:8101", "node3:8101"]);
    for _ in 0..Column::ALL.len() - 3 {
        press(&mut app, KeyCode::Char('s'));
    }
    assert_eq!(app.sort, Column::Node);
    // Every column sorts without panicking.
    for c in Column::ALL {
        app.sort = c;
        assert_eq!(app.visible().len(), 3);
    }
}

#[test]
fn filter_typing_and_clearing() {
    let mut app = fixture::app();
    press(&mut app, KeyCode::Char('/'));
    assert!(app.filtering);
    for c in "DOWN".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    assert_eq!(names(&app), ["node3:8101"]);
    // While typing, `q` is text, not quit.
    assert_eq!(press(&mut app, KeyCode::Char('q')), Action::None);
    assert_eq!(app.filter, "DOWNq");
    press(&mut app, KeyCode::Backspace);
    press(&mut app, KeyCode::Enter);
    assert!(!app.filtering);
    assert_eq!(app.filter, "DOWN");
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.filter, "");
    assert_eq!(names(&app).len(), 3);
    // Filter on rack.
    app.filter = "rack2".into();
    assert_eq!(names(&app), ["node2:8101"]);
}

#[test]
fn keys_switch_views_select_and_quit() {
    let mut app = fixture::app();
    for (k, v) in [
        ('2', View::Racks),
        ('3', View::Dcs),
        ('4', View::Ring),
        ('1', View::Nodes),
    ] {
        press(&mut app, KeyCode::Char(k));
        assert_eq!(app.view, v);
    }
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Down);
    assert_eq!(app.selected, 2);
    press(&mut app, KeyCode::Up);
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.view, View::Detail);
    assert_eq!(app.selected_node().unwrap().target.name, "node2:8101");
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.view, View::Nodes);
    press(&mut app, KeyCode::Char('?'));
    assert!(app.help);
    press(&mut app, KeyCode::Esc);
    assert!(!app.help);
    assert_eq!(press(&mut app, KeyCode::Char('q')), Action::Quit);
    assert_eq!(
        app.on_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
        Action::Quit
    );
}

#[test]
fn described_tokens_fill_unknown_ones() {
    let mut app = App::new(
        vec![Target {
            addr: "10.0.0.9:22222".into(),
            name: "x".into(),
            ..Target::default()
        }],
        2.0,
    );
    app.apply(Fetched {
        addr: "10.0.0.9:22222".into(),
        unix: 1,
        result: crate::sample::parse(fixture::INFO, 0),
    });
    let d = Described {
        dc: "dc1".into(),
        rack: "rack1".into(),
        name: "10.0.0.9".into(),
        host: "h".into(),
        port: 8101,
        token: 42,
        ..Default::default()
    };
    app.set_described(&[d]);
    assert_eq!(app.nodes[0].token(), Some(42));
}

#[test]
fn datastore_info_is_kept_apart_from_the_node_state() {
    let mut app = fixture::app();
    assert_eq!(app.nodes[0].keys(), Some(2));
    assert_eq!(
        app.nodes[1]
            .ds_info()
            .and_then(|d| d.master_link_status.as_deref()),
        Some("up")
    );
    // A failed exchange: no summary, and the node is still up with its rates.
    app.apply_datastore(
        "10.0.0.1:22222",
        DsProbe {
            addr: "10.0.0.1:11211".into(),
            unix: fixture::NOW,
            result: Err("not a Redis reply: \"ERROR\" (memcached?)".into()),
        },
    );
    assert_eq!(app.nodes[0].keys(), None);
    assert_eq!(app.nodes[0].state(), "NORMAL");
    assert!(app.nodes[0].live_rates().is_some());
    // Unknown addresses are ignored; the KEYS column sorts (unknown first).
    app.apply_datastore("nowhere:1", app.nodes[1].datastore.clone().unwrap());
    app.sort = Column::Keys;
    assert_eq!(names(&app)[0], "node1:8101");
}

#[test]
fn open_a_view_on_a_selected_node() {
    let mut app = fixture::app();
    app.open(View::Detail, None).unwrap();
    assert_eq!(app.selected_node().unwrap().target.name, "node1:8101");
    app.open(View::Detail, Some("3")).unwrap();
    assert_eq!(app.selected_node().unwrap().target.name, "node3:8101");
    app.open(View::Detail, Some("10.0.0.2:22222")).unwrap();
    assert_eq!(app.selected_node().unwrap().target.name, "node2:8101");
    app.open(View::Detail, Some("node1:8101")).unwrap();
    assert_eq!(app.detail.as_deref(), Some("10.0.0.1:22222"));
    app.open(View::Ring, Some("2")).unwrap();
    assert_eq!(
        (app.view, app.detail.as_deref(), app.selected),
        (View::Ring, None, 1)
    );
    assert!(app.open(View::Detail, Some("0")).is_err());
    assert!(app.open(View::Detail, Some("4")).is_err());
    assert!(app.open(View::Detail, Some("nope")).is_err());
}
