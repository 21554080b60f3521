//! Table tests of the cluster decisions: topology × consistency × replies → verdict, and
//! keys × ring → fragments. No sockets.

use super::quorum::{self, merge_order};
use super::*;
use crate::ring::{Node, NodeIdx, Topology};
use crate::types::{Consistency, NodeState};

use Consistency::{DcEachSafeQuorum as Each, DcOne as One, DcQuorum as Q, DcSafeQuorum as Safe};

fn node(dc: &str, rack: &str, token: u32, i: usize) -> Node {
    let host = format!("10.0.0.{i}");
    Node {
        name: host.clone(),
        host: host.clone(),
        port: 8101,
        addr: Some(format!("{host}:8101").parse().unwrap()),
        dc: dc.into(),
        rack: rack.into(),
        token,
        is_local: false,
    }
}

/// A topology of `dcs` (name, racks, tokens per rack), every rack holding one node per token;
/// the local node is the first token of `local = (dc, rack)`.
fn cluster(dcs: &[(&str, &[&str], &[u32])], local: (&str, &str)) -> Placement {
    let mut all = Vec::new();
    for (dc, racks, tokens) in dcs {
        for rack in racks.iter() {
            for &t in tokens.iter() {
                all.push((dc.to_string(), rack.to_string(), t));
            }
        }
    }
    let me = all
        .iter()
        .position(|(d, r, _)| d == local.0 && r == local.1)
        .expect("local rack in the table");
    let first = all.remove(me);
    let mut topo = Topology::new(node(&first.0, &first.1, first.2, 0));
    for (i, (d, r, t)) in all.iter().enumerate() {
        topo.add_node(node(d, r, *t, i + 1));
    }
    Placement::new(topo)
}

/// Node index of the node with `token` in `dc`/`rack`.
fn idx(p: &Placement, dc: &str, rack: &str, token: u32) -> NodeIdx {
    p.topo()
        .find(dc, rack, token)
        .expect("node in the topology")
}

const RACKS3: &[&str] = &["rack1", "rack2", "rack3"];

#[test]
fn node_state_gate() {
    use NodeState::*;
    let table = [
        (Normal, Gate::Forward, Gate::Forward),
        (Joining, Gate::Forward, Gate::Forward),
        (Init, Gate::Forward, Gate::Forward),
        (Resuming, Gate::Refuse, Gate::Forward),
        (WritesOnly, Gate::Refuse, Gate::Hold),
        (Standby, Gate::Refuse, Gate::Refuse),
        (Down, Gate::Refuse, Gate::Refuse),
        (Reset, Gate::Refuse, Gate::Refuse),
        (Unknown, Gate::Refuse, Gate::Refuse),
    ];
    for (state, read, write) in table {
        assert_eq!(gate(state, false), read, "read in {state}");
        assert_eq!(gate(state, true), write, "write in {state}");
    }
}

#[test]
fn effective_level_falls_back_to_dc_one() {
    for level in Consistency::ALL {
        assert_eq!(effective_level(level, true, false, 3), level);
        assert_eq!(effective_level(level, false, false, 3), One, "not by key");
        assert_eq!(effective_level(level, true, true, 3), One, "noreply");
        assert_eq!(effective_level(level, true, false, 1), One, "one node");
    }
}

#[test]
fn plan_for_every_level() {
    let p = cluster(&[("dc1", RACKS3, &[100])], ("dc1", "rack2"));
    let h = Some(50);
    for (level, write, want) in [
        (
            One,
            false,
            Plan::One {
                owner: 0,
                replicate: false,
            },
        ),
        (
            One,
            true,
            Plan::One {
                owner: 0,
                replicate: true,
            },
        ),
        (
            Q,
            false,
            Plan::Quorum {
                each: false,
                replicate_remote: false,
            },
        ),
        (
            Q,
            true,
            Plan::Quorum {
                each: false,
                replicate_remote: true,
            },
        ),
        (
            Safe,
            true,
            Plan::Quorum {
                each: false,
                replicate_remote: true,
            },
        ),
        (
            Each,
            true,
            Plan::Quorum {
                each: true,
                replicate_remote: false,
            },
        ),
        (
            Each,
            false,
            Plan::Quorum {
                each: true,
                replicate_remote: false,
            },
        ),
    ] {
        assert_eq!(p.plan(h, write, true, level), want, "{level} write={write}");
    }
    // A write routed other than by key is served, not replicated.
    assert_eq!(
        p.plan(h, true, false, One),
        Plan::One {
            owner: 0,
            replicate: false
        }
    );
}

#[test]
fn owners_with_two_nodes_a_rack() {
    let p = cluster(&[("dc1", RACKS3, &[1000, 2000])], ("dc1", "rack1"));
    assert!(p.needs_hash());
    let (ldc, lrack) = p.local_rack();
    let mine2000 = idx(&p, "dc1", "rack1", 2000);
    assert_eq!(
        p.owner(ldc, lrack, Some(1000)),
        Some(0),
        "(prev, token] is inclusive"
    );
    assert_eq!(p.owner(ldc, lrack, Some(1500)), Some(mine2000));
    assert_eq!(
        p.owner(ldc, lrack, Some(2500)),
        Some(0),
        "wraps to the smallest token"
    );
    assert_eq!(p.owner(ldc, lrack, Some(5)), Some(0));
    // No token: this node in the local rack, the first on the ring elsewhere.
    assert_eq!(p.local_owner(None), 0);
    let r2 = p.topo().rack_index(0, "rack2").unwrap();
    assert_eq!(p.owner(0, r2, None), Some(idx(&p, "dc1", "rack2", 1000)));
    // Another node of the local rack owns 1500: DC_ONE relays to it.
    assert_eq!(
        p.plan(Some(1500), false, true, One),
        Plan::One {
            owner: mine2000,
            replicate: false
        }
    );
}

#[test]
fn one_node_racks_need_no_hash() {
    let p = cluster(&[("dc1", RACKS3, &[7])], ("dc1", "rack3"));
    assert!(!p.needs_hash());
    for h in [None, Some(0), Some(7), Some(u32::MAX)] {
        assert_eq!(p.local_owner(h), 0);
    }
}

#[test]
fn dc_one_copies_and_failover_go_to_the_other_racks() {
    let p = cluster(&[("dc1", RACKS3, &[1000, 2000])], ("dc1", "rack2"));
    // The owner of 1500 in rack1 then rack3 (rack order), never the local rack.
    let mut got = Vec::new();
    p.other_racks(Some(1500), &mut got);
    assert_eq!(
        got,
        [idx(&p, "dc1", "rack1", 2000), idx(&p, "dc1", "rack3", 2000)]
    );
    p.other_racks(Some(3000), &mut got);
    assert_eq!(
        got,
        [idx(&p, "dc1", "rack1", 1000), idx(&p, "dc1", "rack3", 1000)]
    );
    // A single-rack DC has no other rack to copy to or fail over to.
    let lone = cluster(&[("dc1", &["r"], &[1, 2])], ("dc1", "r"));
    lone.other_racks(Some(2), &mut got);
    assert!(got.is_empty());
}

#[test]
fn remote_dcs_get_one_copy_preselected_rack_first() {
    // dc1: rack1..rack3; dc2: racka, rackb (2 nodes each). Local rack2 (index 1) of dc1:
    // preselected remote rack is 1 % 2 = rackb, then racka.
    let p = cluster(
        &[
            ("dc1", RACKS3, &[1000]),
            ("dc2", &["racka", "rackb"], &[1000, 2000]),
        ],
        ("dc1", "rack2"),
    );
    let remote: Vec<_> = p.remote_dcs().collect();
    assert_eq!(remote, [1]);
    let order: Vec<_> = p.remote_order(1, Some(1500)).collect();
    assert_eq!(
        order,
        [
            (0, idx(&p, "dc2", "rackb", 2000)),
            (1, idx(&p, "dc2", "racka", 2000))
        ]
    );
    assert_eq!(
        p.remote_hint_target(1, Some(1500)),
        Some(idx(&p, "dc2", "rackb", 2000))
    );
    // From rack1 (index 0) the preselected rack is racka.
    let p1 = cluster(
        &[
            ("dc1", RACKS3, &[1000]),
            ("dc2", &["racka", "rackb"], &[1000, 2000]),
        ],
        ("dc1", "rack1"),
    );
    assert_eq!(
        p1.remote_order(1, Some(500)).next(),
        Some((0, idx(&p1, "dc2", "racka", 1000)))
    );
}

#[test]
fn quorum_targets_local_dc_first() {
    let p = cluster(
        &[
            ("dc1", RACKS3, &[1000, 2000]),
            ("dc2", &["racka", "rackb"], &[1000]),
        ],
        ("dc1", "rack1"),
    );
    let mut t = Vec::new();
    p.quorum_targets(Some(1500), false, &mut t);
    assert_eq!(
        t,
        [
            (0, idx(&p, "dc1", "rack1", 2000)),
            (0, idx(&p, "dc1", "rack2", 2000)),
            (0, idx(&p, "dc1", "rack3", 2000)),
        ]
    );
    p.quorum_targets(Some(500), true, &mut t);
    assert_eq!(
        t,
        [
            (0, 0),
            (0, idx(&p, "dc1", "rack2", 1000)),
            (0, idx(&p, "dc1", "rack3", 1000)),
            (1, idx(&p, "dc2", "racka", 1000)),
            (1, idx(&p, "dc2", "rackb", 1000)),
        ]
    );
    assert_eq!((p.quorum(0), p.quorum(1)), (2, 2));
}

#[test]
fn split_plan_keys_to_fragments() {
    let mut s = SplitPlan::default();
    s.plan(&[2, 0, 2, 1]);
    assert_eq!(s.fragments(), 3);
    assert_eq!(s.nodes, [2, 0, 1]);
    assert_eq!(s.placement, [(0, 0), (1, 0), (0, 1), (2, 0)]);
    assert_eq!(s.keys_of(0).collect::<Vec<_>>(), [0, 2]);
    assert_eq!(s.frag_of().collect::<Vec<_>>(), [0, 1, 0, 2]);
    // Reused: the previous plan leaves nothing behind.
    s.plan(&[5, 5, 5]);
    assert_eq!((s.fragments(), s.nodes.as_slice()), (1, &[5][..]));
    assert_eq!(s.placement, [(0, 0), (0, 1), (0, 2)]);
}

#[test]
fn split_positions_past_u16_stay_exact() {
    // 70,000 keys, every other one on node 1: positions in fragment 1 reach 34,999 and the
    // MGET reply puts each value back at its key (a u16 position wrapped at 65,536 and, in
    // release builds, answered values of the wrong keys).
    let n = 140_000usize;
    let owners: Vec<_> = (0..n).map(|i| (i % 2) as NodeIdx).collect();
    let mut s = SplitPlan::default();
    s.plan(&owners);
    assert_eq!(s.fragments(), 2);
    assert_eq!(s.placement[n - 1], (1, (n / 2 - 1) as u32));
    let frag = |f: usize| {
        let mut r = format!("*{}\r\n", n / 2).into_bytes();
        for i in (f..n).step_by(2) {
            let v = i.to_string();
            r.extend_from_slice(format!("${}\r\n{v}\r\n", v.len()).as_bytes());
        }
        r
    };
    let (f0, f1) = (frag(0), frag(1));
    let mut out = Vec::new();
    crate::proto::merge::coalesce_mget(&s.placement, &[&f0, &f1], &mut out).unwrap();
    let mut want = format!("*{n}\r\n").into_bytes();
    for i in 0..n {
        let v = i.to_string();
        want.extend_from_slice(format!("${}\r\n{v}\r\n", v.len()).as_bytes());
    }
    assert!(out == want, "values out of key order");
}

#[test]
fn split_plan_over_a_ring_of_three_nodes() {
    // One rack of three nodes (tokens 100, 200, 300): keys by token to their owners.
    let p = cluster(&[("dc1", &["r"], &[100, 200, 300])], ("dc1", "r"));
    let n200 = idx(&p, "dc1", "r", 200);
    let n300 = idx(&p, "dc1", "r", 300);
    let tokens = [150, 50, 250, 301, 200, 100];
    let mut s = SplitPlan::default();
    let owners: Vec<_> = tokens.iter().map(|&t| p.local_owner(Some(t))).collect();
    s.plan(&owners);
    assert_eq!(s.nodes, [n200, 0, n300]);
    assert_eq!(s.frag_of().collect::<Vec<_>>(), [0, 1, 2, 1, 0, 1]);
    assert_eq!(
        s.placement,
        [(0, 0), (1, 0), (2, 0), (1, 1), (0, 1), (1, 2)]
    );
}

/// Votes in arrival order from a compact description: per vote its DC, then `g<sum>` (good),
/// `e` (error) or `p` (pending). Arrived votes are ranked in the order given.
fn votes(desc: &[(u16, &str)]) -> Vec<Vote> {
    let mut rank = 0;
    desc.iter()
        .map(|&(dc, s)| {
            let mut v = Vote::pending(dc);
            match s.as_bytes()[0] {
                b'p' => {}
                b'e' => v.state = VoteState::Error,
                _ => {
                    v.state = VoteState::Good;
                    v.sum = s[1..].parse().unwrap();
                }
            }
            if v.state != VoteState::Pending {
                v.rank = rank;
                rank += 1;
            }
            v
        })
        .collect()
}

fn racks_of(n: usize) -> impl Fn(usize) -> usize {
    move |_| n / 2 + 1
}

#[test]
fn quorum_decisions_one_dc() {
    use Decision::*;
    let d = |desc: &[&str], racks: usize, level, mget| {
        let v = votes(&desc.iter().map(|s| (0u16, *s)).collect::<Vec<_>>());
        quorum::decide(&v, level, 0, racks_of(racks), mget)
    };
    // (replies, racks, level, mget) → decision
    let table: &[(&[&str], usize, Consistency, bool, Decision)] = &[
        (&["g1"], 1, Q, false, Answer(0)),
        (&["e"], 1, Safe, false, NoQuorum(Some(0))),
        (&["g1", "p"], 2, Q, false, Wait),
        (&["g1", "g1"], 2, Safe, false, Answer(0)),
        (&["g1", "e"], 2, Q, false, NoQuorum(Some(1))),
        (&["g1", "g2"], 2, Q, false, NoQuorum(Some(0))),
        (&["g1", "g2"], 2, Safe, false, NoQuorum(None)),
        (&["g1", "g1", "p"], 3, Q, false, Answer(0)),
        (&["g1", "g2", "p"], 3, Q, false, Wait),
        (&["p", "p", "p"], 3, Safe, false, Wait),
        (&["g1", "g2", "g3"], 3, Q, false, NoQuorum(Some(0))),
        (&["g1", "g2", "g3"], 3, Safe, false, NoQuorum(None)),
        (&["g1", "g2", "g3"], 3, Q, true, Merge { fallback: Some(0) }),
        (&["g1", "g2", "g3"], 3, Safe, true, Merge { fallback: None }),
        (&["e", "e", "p"], 3, Q, false, NoQuorum(Some(0))),
        (&["e", "g1", "g1"], 3, Safe, false, Answer(1)),
        // The earliest of the agreeing replies wins: rank order, not slot order.
        (&["g2", "g1", "g1"], 3, Q, false, Answer(1)),
        (&["g1", "g1", "g2", "p"], 4, Q, false, Wait),
        (&["g1", "g1", "g1", "p"], 4, Safe, false, Answer(0)),
        (&["e", "e", "g1", "p"], 4, Q, false, NoQuorum(Some(0))),
        (&["g1", "g2", "g1", "p", "p"], 5, Q, false, Wait),
        (&["g1", "g2", "g1", "p", "g1"], 5, Safe, false, Answer(0)),
        (
            &["e", "e", "e", "p", "p"],
            5,
            Safe,
            false,
            NoQuorum(Some(0)),
        ),
    ];
    for (i, &(desc, racks, level, mget, want)) in table.iter().enumerate() {
        assert_eq!(
            d(desc, racks, level, mget),
            want,
            "row {i}: {desc:?} {racks} racks {level}"
        );
    }
}

#[test]
fn quorum_decisions_every_dc() {
    use Decision::*;
    // Local DC 0 and remote DC 1, three racks each (quorum 2 in both).
    let d = |local: &[&str], remote: &[&str], level| {
        let desc: Vec<(u16, &str)> = local
            .iter()
            .map(|s| (0u16, *s))
            .chain(remote.iter().map(|s| (1u16, *s)))
            .collect();
        quorum::decide(&votes(&desc), level, 0, racks_of(3), false)
    };
    let table: &[(&[&str], &[&str], Consistency, Decision)] = &[
        (&["g1", "g1", "g1"], &["g1", "p", "p"], Each, Wait),
        (&["g1", "g1", "p"], &["g1", "g1", "p"], Each, Answer(0)),
        (
            &["g1", "g1", "p"],
            &["e", "e", "p"],
            Each,
            NoQuorum(Some(3)),
        ),
        (
            &["g1", "g1", "g1"],
            &["g1", "g2", "g3"],
            Each,
            NoQuorum(None),
        ),
        (
            &["e", "e", "p"],
            &["g1", "g1", "g1"],
            Each,
            NoQuorum(Some(0)),
        ),
        (&["g1", "p", "p"], &["g1", "g1", "g1"], Each, Wait),
        // The other levels look at the local DC only.
        (&["g1", "g1", "p"], &["e", "e", "e"], Safe, Answer(0)),
        (&["g1", "g1", "p"], &["p", "p", "p"], Q, Answer(0)),
    ];
    for (i, &(local, remote, level, want)) in table.iter().enumerate() {
        assert_eq!(
            d(local, remote, level),
            want,
            "row {i}: {local:?} {remote:?} {level}"
        );
    }
}

#[test]
fn merge_order_is_arrival_order_of_local_good_replies() {
    let v = votes(&[(0, "p"), (0, "g1"), (1, "g1"), (0, "e"), (0, "g2")]);
    let mut out = Vec::new();
    merge_order(&v, 0, &mut out);
    assert_eq!(out, [1, 4]);
    let mut v2 = v.clone();
    v2[1].rank = 9; // arrived last
    merge_order(&v2, 0, &mut out);
    assert_eq!(out, [4, 1]);
}

#[test]
fn one_node_everywhere_checks_every_rack() {
    // rack1 (local) has two nodes, rack2 three: tokens 150 and 250 share a node in rack1
    // (token 1000 owns (500, 1000]... see below) but not in rack2.
    let p = cluster(
        &[
            ("dc1", &["rack1"], &[100, 300]),
            ("dc2", &["rack2"], &[100, 200, 300]),
        ],
        ("dc1", "rack1"),
    );
    let mut work = Vec::new();
    // 150 and 250: one node in rack1 (token 300), two in rack2 (200 and 300).
    assert_eq!(p.local_owner(Some(150)), p.local_owner(Some(250)));
    assert!(!p.one_node_everywhere(&[Some(150), Some(250)], &mut work));
    // 210 and 250: token 300's in both racks.
    assert!(p.one_node_everywhere(&[Some(210), Some(250)], &mut work));
    assert!(p.one_node_everywhere(&[Some(210)], &mut work), "one key");
    assert!(!p.one_node_everywhere(&[Some(50), Some(250)], &mut work));
    // Racks of one node hold every key.
    let q = cluster(&[("dc1", RACKS3, &[7])], ("dc1", "rack1"));
    assert!(q.one_node_everywhere(&[Some(1), Some(u32::MAX), None], &mut work));
}

#[test]
fn split_by_signature_separates_keys_that_part_in_another_rack() {
    let p = cluster(
        &[
            ("dc1", &["rack1"], &[100, 300]),
            ("dc2", &["rack2"], &[100, 200, 300]),
        ],
        ("dc1", "rack1"),
    );
    let tokens = [Some(150), Some(250), Some(210), Some(50)];
    let mut sigs = Vec::new();
    for &h in &tokens {
        p.signature(h, &mut sigs);
    }
    let width = p.signature_len();
    assert_eq!(width, 2);
    let mut s = SplitPlan::default();
    s.plan_signatures(&sigs, width, |i| p.local_owner(tokens[i]));
    // 150 alone (token 200 in rack2), 250 with 210 (token 300 in both), 50 alone.
    assert_eq!(s.frag_of().collect::<Vec<_>>(), [0, 1, 1, 2]);
    let n300 = idx(&p, "dc1", "rack1", 300);
    assert_eq!(s.nodes, [n300, n300, 0], "two fragments for one local node");
}

#[test]
fn broadcast_needs_every_node_of_a_quorum_of_racks() {
    use super::quorum::broadcast_decide;
    use super::{Decision, Vote, VoteState};
    // (rack, state) per node of the local DC; vote 0 is this node.
    let votes = |desc: &[(u16, char)]| -> Vec<Vote> {
        desc.iter()
            .map(|&(rack, s)| Vote {
                state: match s {
                    'g' => VoteState::Good,
                    'e' => VoteState::Error,
                    _ => VoteState::Pending,
                },
                ..Vote::pending(rack)
            })
            .collect()
    };
    let d = |desc: &[(u16, char)]| broadcast_decide(&votes(desc), 3, 2, 0);
    assert_eq!(d(&[(0, 'g'), (1, 'g'), (2, 'p')]), Decision::Wait);
    assert_eq!(d(&[(0, 'g'), (1, 'g'), (2, 'e')]), Decision::Answer(0));
    assert_eq!(d(&[(0, 'g'), (1, 'e'), (2, 'e')]), Decision::NoQuorum(None));
    // The datastore refuses it everywhere (a script that does not compile): its error.
    assert_eq!(
        d(&[(0, 'e'), (1, 'e'), (2, 'e')]),
        Decision::NoQuorum(Some(0))
    );
    // This node's datastore failed, two racks have it: the first good reply.
    assert_eq!(d(&[(0, 'e'), (1, 'g'), (2, 'g')]), Decision::Answer(1));
    // Racks of two nodes: a rack counts only with both.
    let two = [(0, 'g'), (0, 'g'), (1, 'g'), (1, 'e'), (2, 'g'), (2, 'p')];
    assert_eq!(d(&two), Decision::Wait);
    let two = [(0, 'g'), (0, 'g'), (1, 'g'), (1, 'e'), (2, 'g'), (2, 'e')];
    assert_eq!(d(&two), Decision::NoQuorum(None));
    let two = [(0, 'g'), (0, 'g'), (1, 'g'), (1, 'e'), (2, 'g'), (2, 'g')];
    assert_eq!(d(&two), Decision::Answer(0));
    // One rack of one node in a 1-rack quorum.
    assert_eq!(
        broadcast_decide(&votes(&[(0, 'g')]), 1, 1, 0),
        Decision::Answer(0)
    );
}
