//! Snapshot tests: fixture dashboards rendered at 80x24 and 120x40 for every view, compared
//! with the text files in `tests/snapshots/` (rewrite them with `UPDATE_SNAPSHOTS=1`).

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use dynotop::app::{App, DsProbe, View};
use dynotop::fixture;
use dynotop::ui::render_text;

fn key(app: &mut App, c: KeyCode) {
    app.on_key(KeyEvent::new(c, KeyModifiers::NONE));
}

fn check(name: &str, app: &App) {
    let mut failures = Vec::new();
    for (w, h) in [(80, 24), (120, 40)] {
        let text = render_text(app, w, h);
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/snapshots")
            .join(format!("{name}_{w}x{h}.txt"));
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        if old != text {
            failures.push(format!(
                "{} differs; got:\n{text}\nupdate with: UPDATE_SNAPSHOTS=1 cargo test -p dynotop --test snapshots",
                path.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn nodes_view() {
    check("nodes", &fixture::app());
}

#[test]
fn nodes_view_sorted_and_filtered() {
    let mut app = fixture::app();
    for _ in 0..3 {
        key(&mut app, KeyCode::Char('s')); // NODE -> STATE -> TOKEN -> OPS/s
    }
    key(&mut app, KeyCode::Char('r'));
    check("nodes_sorted_ops_desc", &app);
    key(&mut app, KeyCode::Char('/'));
    for c in "rack2".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    check("nodes_filtered", &app);
}

#[test]
fn racks_view() {
    let mut app = fixture::app();
    key(&mut app, KeyCode::Char('2'));
    assert_eq!(app.view, View::Racks);
    check("racks", &app);
}

#[test]
fn dcs_view() {
    let mut app = fixture::app();
    key(&mut app, KeyCode::Char('3'));
    check("dcs", &app);
}

#[test]
fn detail_view() {
    let mut app = fixture::app();
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.view, View::Detail);
    check("detail", &app);
    // The DOWN node's detail says why and since when.
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Enter);
    check("detail_down", &app);
}

#[test]
fn detail_view_of_a_datastore_without_info() {
    let mut app = fixture::app();
    // A memcached datastore does not speak RESP: its INFO is unavailable, the rest is not.
    app.apply_datastore(
        "10.0.0.1:22222",
        DsProbe {
            addr: "10.0.0.1:11211".into(),
            unix: fixture::NOW,
            result: Err("not a Redis reply: \"ERROR\" (memcached?)".into()),
        },
    );
    app.open(View::Detail, Some("10.0.0.1:22222")).unwrap();
    check("detail_memcached", &app);
}

#[test]
fn ring_view() {
    let mut app = fixture::app();
    key(&mut app, KeyCode::Char('4'));
    check("ring", &app);
}

#[test]
fn help_view() {
    let mut app = fixture::app();
    key(&mut app, KeyCode::Char('?'));
    check("help", &app);
}

#[test]
fn ring_view_with_two_nodes_per_rack() {
    let mut app = fixture::app();
    // A second node in rack1, halfway round the ring.
    let mut extra = app.nodes[0].clone();
    extra.target.addr = "10.0.0.4:22222".into();
    extra.target.name = "node4:8101".into();
    extra.target.tokens = vec![2_248_618_934];
    app.nodes.push(extra);
    key(&mut app, KeyCode::Char('4'));
    check("ring_two_per_rack", &app);
}
