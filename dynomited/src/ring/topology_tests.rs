//! Tests of the topology: building it from configs, run-time additions and replacements,
//! ownership per rack, quorum and the preselected remote rack.

use super::*;
use crate::conf::{self, Config};

fn config(text: &str) -> Config {
    match conf::parse_str(text, "t.yml") {
        Ok(c) => c,
        Err(e) => panic!("bad test config:\n{e}\n---\n{text}"),
    }
}

/// `conf/redis_rack{1,2,3}_node.yml` from the point of view of `local` (1..=3).
fn three_racks(local: u8) -> Config {
    let seeds: String = (1..=3u8)
        .filter(|&i| i != local)
        .map(|i| format!("  - 127.0.0.{i}:8101:rack{i}:dc:1383429731\n"))
        .collect();
    config(&format!(
        "dyn_o_mite:\n  datacenter: dc\n  rack: rack{local}\n  dyn_listen: 127.0.0.{local}:8101\n  dyn_seeds:\n{seeds}  listen: 127.0.0.{local}:8102\n  servers:\n  - 127.0.0.1:2212{local}:1\n  tokens: '1383429731'\n  read_consistency : DC_SAFE_QUORUM\n"
    ))
}

/// dc1: racks rack1..rack3 of one node each; dc2: racks racka, rackb of two nodes each
/// (tokens 1383429731 and 3530913378). Seeds deliberately list dc2 first and mix the racks.
fn two_dcs(local_dc: &str, local_rack: &str) -> Config {
    let all = [
        ("127.0.0.1", "rack1", "dc1", 1383429731u32),
        ("127.0.0.4", "rackb", "dc2", 1383429731),
        ("127.0.0.2", "rack2", "dc1", 1383429731),
        ("127.0.0.5", "racka", "dc2", 1383429731),
        ("127.0.0.6", "rackb", "dc2", 3530913378),
        ("127.0.0.3", "rack3", "dc1", 1383429731),
        ("127.0.0.7", "racka", "dc2", 3530913378),
    ];
    let (me, _, _, token) = *all
        .iter()
        .find(|n| n.2 == local_dc && n.1 == local_rack)
        .expect("local node in the table");
    let seeds: String = all
        .iter()
        .filter(|n| n.0 != me)
        .map(|(host, rack, dc, token)| format!("  - {host}:8101:{rack}:{dc}:{token}\n"))
        .collect();
    config(&format!(
        "dyn_o_mite:\n  datacenter: {local_dc}\n  rack: {local_rack}\n  dyn_listen: {me}:8101\n  listen: {me}:8102\n  servers:\n  - 127.0.0.1:22121:1\n  tokens: '{token}'\n  dyn_seeds:\n{seeds}"
    ))
}

fn rack_names(t: &Topology, dc: usize) -> Vec<&str> {
    t.dcs[dc].racks.iter().map(|r| r.name.as_str()).collect()
}

fn peer(host: &str, dc: &str, rack: &str, token: u32) -> Node {
    Node {
        name: host.into(),
        host: host.into(),
        port: 8101,
        addr: Some(format!("{host}:8101").parse().unwrap()),
        dc: dc.into(),
        rack: rack.into(),
        token,
        is_local: false,
    }
}

#[test]
fn three_racks_one_dc() {
    let t = Topology::from_config(&three_racks(1));
    assert_eq!(t.check_invariants(), Ok(()));
    assert_eq!(t.nodes.len(), 3);
    let local = t.local();
    assert!(local.is_local);
    assert_eq!(
        (local.name.as_str(), local.host.as_str()),
        ("127.0.0.1", "127.0.0.1")
    );
    assert_eq!(local.port, 8101);
    assert_eq!(local.addr, Some("127.0.0.1:8101".parse().unwrap()));
    assert_eq!((local.dc.as_str(), local.rack.as_str()), ("dc", "rack1"));
    assert_eq!(local.token, 1383429731);
    assert_eq!(t.nodes[1].name, "127.0.0.2");
    assert_eq!(t.nodes[2].rack, "rack3");
    assert!(!t.nodes[1].is_local && !t.nodes[2].is_local);

    assert_eq!(t.dcs.len(), 1);
    assert_eq!(rack_names(&t, 0), ["rack1", "rack2", "rack3"]);
    assert_eq!((t.local_dc(), t.local_rack()), (0, (0, 0)));
    assert_eq!(t.quorum(0), 2);
    // Each rack holds a full copy: every hash is owned by that rack's only node.
    for h in [0, 1383429731, 1383429732, u32::MAX] {
        let owners: Vec<(usize, NodeIdx)> = t.owners_in_dc(0, h).collect();
        assert_eq!(owners, [(0, 0), (1, 1), (2, 2)], "hash {h}");
    }
}

#[test]
fn racks_are_sorted_by_name_whatever_the_seed_order() {
    let t = Topology::from_config(&three_racks(2));
    assert_eq!(rack_names(&t, 0), ["rack1", "rack2", "rack3"]);
    assert_eq!(t.local_rack(), (0, 1));
    assert_eq!(t.dcs[0].racks[0].nodes, [1]);
    assert_eq!(t.dcs[0].racks[1].nodes, [0]);
    assert_eq!(t.owner_in_rack(0, 0, 12345), Some(1));
    assert_eq!(t.owner_in_rack(0, 1, 12345), Some(0));
    assert_eq!(t.owner_in_rack(0, 3, 12345), None);
    assert_eq!(t.owner_in_rack(1, 0, 12345), None);
    assert_eq!(
        t.preselected_remote_rack(0),
        1,
        "the local DC gives the local rack"
    );
}

#[test]
fn asymmetric_two_dcs() {
    let t = Topology::from_config(&two_dcs("dc1", "rack2"));
    assert_eq!(t.check_invariants(), Ok(()));
    assert_eq!(t.nodes.len(), 7);
    // Node order: local, then the seeds in file order.
    let hosts: Vec<&str> = t.nodes.iter().map(|n| n.host.as_str()).collect();
    assert_eq!(
        hosts,
        [
            "127.0.0.2",
            "127.0.0.1",
            "127.0.0.4",
            "127.0.0.5",
            "127.0.0.6",
            "127.0.0.3",
            "127.0.0.7"
        ]
    );
    // The local DC first although the first seed is in dc2.
    let dcs: Vec<&str> = t.dcs.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(dcs, ["dc1", "dc2"]);
    assert_eq!(rack_names(&t, 0), ["rack1", "rack2", "rack3"]);
    assert_eq!(rack_names(&t, 1), ["racka", "rackb"]);
    assert_eq!(t.dcs[1].racks[0].nodes, [3, 6]);
    assert_eq!(t.dcs[1].racks[1].nodes, [2, 4]);
    assert_eq!(t.local_rack(), (0, 1));
    assert_eq!(t.locate(6), Some((1, 0)));
    assert_eq!(t.locate(7), None);

    assert_eq!(t.quorum(0), 2, "3 racks");
    assert_eq!(t.quorum(1), 2, "2 racks");
    // Local rack index 1 → remote rack 1 mod 2 = rackb.
    assert_eq!(t.preselected_remote_rack(1), 1);

    // dc2's rings: (3530913378, 1383429731] → first node, (1383429731, 3530913378] → second.
    for (h, a, b) in [
        (0, 3, 2),
        (1383429731, 3, 2),
        (1383429732, 6, 4),
        (3530913378, 6, 4),
        (3530913379, 3, 2),
        (u32::MAX, 3, 2),
    ] {
        assert_eq!(t.owner_in_rack(1, 0, h), Some(a), "racka, hash {h}");
        assert_eq!(t.owner_in_rack(1, 1, h), Some(b), "rackb, hash {h}");
        let owners: Vec<_> = t.owners_in_dc(1, h).collect();
        assert_eq!(owners, [(0, a), (1, b)]);
    }
    assert_eq!(t.owners_in_dc(9, 0).count(), 0);
}

#[test]
fn preselected_rack_follows_the_local_rack_index() {
    for (rack, want) in [("rack1", 0), ("rack2", 1), ("rack3", 0)] {
        let t = Topology::from_config(&two_dcs("dc1", rack));
        assert_eq!(t.preselected_remote_rack(1), want, "local {rack}");
    }
    // Seen from dc2 (2 racks) towards dc1 (3 racks): index i of racka/rackb, i mod 3.
    for (rack, want) in [("racka", 0), ("rackb", 1)] {
        let t = Topology::from_config(&two_dcs("dc2", rack));
        assert_eq!(t.dcs[0].name, "dc2", "the local DC is first");
        assert_eq!(t.preselected_remote_rack(1), want, "local {rack}");
        assert_eq!(t.quorum(1), 2);
    }
    let t = Topology::from_config(&two_dcs("dc1", "rack1"));
    assert_eq!(t.preselected_remote_rack(5), 0, "unknown DC");
}

#[test]
fn quorum_for_any_number_of_racks() {
    for racks in 1..=7usize {
        let mut t = Topology::new(peer("127.0.0.1", "dc", "r0", 1));
        for r in 1..racks {
            t.add_node(peer(
                &format!("127.0.0.{}", r + 1),
                "dc",
                &format!("r{r}"),
                1,
            ));
        }
        assert_eq!(t.dcs[0].racks.len(), racks);
        assert_eq!(
            t.quorum(0),
            [1, 2, 2, 3, 3, 4, 4][racks - 1],
            "{racks} racks"
        );
    }
    let t = Topology::new(peer("127.0.0.1", "dc", "r0", 1));
    assert_eq!(t.quorum(3), 1, "unknown DC");
}

#[test]
fn single_node_without_peers() {
    let t = Topology::from_config(&config(
        "dyn_o_mite:\n  listen: 127.0.0.1:8102\n  servers:\n  - 127.0.0.1:6379:1\n",
    ));
    assert_eq!(t.check_invariants(), Ok(()));
    assert_eq!(t.nodes.len(), 1);
    let local = t.local();
    assert_eq!(
        (local.name.as_str(), local.port, local.addr),
        ("127.0.0.1", 0, None)
    );
    assert_eq!(
        (local.dc.as_str(), local.rack.as_str()),
        ("localdc", "localrack")
    );
    assert_eq!(local.token, 0, "no tokens: 0");
    assert_eq!(t.owner_in_rack(0, 0, 42), Some(0));
    assert_eq!(t.quorum(0), 1);
    assert_eq!(t.preselected_remote_rack(0), 0);
}

#[test]
fn first_token_of_several() {
    let t = Topology::from_config(&config(
        "dyn_o_mite:\n  listen: 127.0.0.1:8102\n  dyn_listen: 127.0.0.1:8101\n  servers:\n  - 127.0.0.1:6379:1\n  tokens: 12345678,87654321\n  dyn_seeds:\n  - 127.0.0.2:8101:localrack:localdc:5,6\n",
    ));
    assert_eq!(t.nodes[0].token, 12345678);
    assert_eq!(t.nodes[1].token, 5);
    assert_eq!(
        t.dcs[0].racks[0].continuum.entries(),
        [(5, 1), (12345678, 0)]
    );
}

#[test]
fn nodes_added_at_run_time() {
    let mut t = Topology::from_config(&two_dcs("dc1", "rack2"));
    let before = t.clone();

    // A third node in dc2/racka, at the top of the ring.
    let i = t.add_node(peer("127.0.0.8", "dc2", "racka", 4000000000));
    assert_eq!(i, 7);
    assert!(!t.nodes[i].is_local);
    assert_eq!(t.owner_in_rack(1, 0, 3999999999), Some(7));
    assert_eq!(t.owner_in_rack(1, 0, 4000000001), Some(3), "wrap-around");
    assert_eq!(
        t.owner_in_rack(1, 1, 3999999999),
        Some(2),
        "other rack unchanged"
    );

    // A new rack sorts into place; a new DC is appended.
    let j = t.add_node(peer("127.0.0.9", "dc2", "rack0", 7));
    assert_eq!(rack_names(&t, 1), ["rack0", "racka", "rackb"]);
    assert_eq!(t.locate(j), Some((1, 0)));
    assert_eq!(t.locate(7), Some((1, 1)));
    assert_eq!(t.rack_index(1, "rackb"), Some(2));
    let k = t.add_node(peer("127.0.0.10", "dc0", "r", 7));
    assert_eq!(t.dc_index("dc0"), Some(2));
    assert_eq!(t.locate(k), Some((2, 0)));
    assert_eq!(t.local_rack(), before.local_rack());
    assert_eq!(t.preselected_remote_rack(1), 1, "1 mod 3 racks");
    assert_eq!(t.check_invariants(), Ok(()));

    // is_local is decided by position.
    let mut claim = peer("127.0.0.11", "dc1", "rack1", 9);
    claim.is_local = true;
    let l = t.add_node(claim);
    assert!(!t.nodes[l].is_local);
    assert_eq!(t.check_invariants(), Ok(()));
}

#[test]
fn replacement_node_keeps_its_place() {
    let mut t = Topology::from_config(&two_dcs("dc1", "rack1"));
    let owner = t.owner_in_rack(1, 1, 3000000000);
    assert_eq!(owner, Some(4));
    assert_eq!(t.find("dc2", "rackb", 3530913378), Some(4));

    let new_addr = "127.0.1.6:8101".parse().unwrap();
    let got = t.replace_address(
        "dc2",
        "rackb",
        3530913378,
        "127.0.1.6",
        8101,
        Some(new_addr),
    );
    assert_eq!(got, Some(4));
    let n = &t.nodes[4];
    assert_eq!(
        (n.name.as_str(), n.host.as_str(), n.port, n.addr),
        ("127.0.1.6", "127.0.1.6", 8101, Some(new_addr))
    );
    assert_eq!(t.owner_in_rack(1, 1, 3000000000), owner);
    assert_eq!(t.nodes.len(), 7);
    assert_eq!(t.check_invariants(), Ok(()));

    // Unknown (dc, rack, token): nothing to replace.
    assert_eq!(t.replace_address("dc2", "rackb", 1, "x", 1, None), None);
    assert_eq!(
        t.replace_address("dc3", "rackb", 3530913378, "x", 1, None),
        None
    );
    // The local node is never replaced.
    assert_eq!(t.find("dc1", "rack1", 1383429731), Some(0));
    assert_eq!(
        t.replace_address("dc1", "rack1", 1383429731, "10.0.0.1", 8101, None),
        None
    );
    assert_eq!(t.local().host, "127.0.0.1");
}

#[test]
fn invariant_check_catches_damage() {
    let good = Topology::from_config(&two_dcs("dc1", "rack1"));
    let mut t = good.clone();
    t.nodes[3].token = 1;
    assert!(t.check_invariants().unwrap_err().contains("ring"));
    let mut t = good.clone();
    t.dcs[1].racks.swap(0, 1);
    assert!(t.check_invariants().unwrap_err().contains("sorted"));
    let mut t = good.clone();
    t.nodes[2].is_local = true;
    assert!(t.check_invariants().unwrap_err().contains("is_local"));
    let mut t = good;
    t.dcs[0].racks[0].nodes.clear();
    t.dcs[0].racks[0].continuum = Continuum::new();
    assert!(t.check_invariants().unwrap_err().contains("node 0"));
}

#[test]
fn retired_nodes_leave_the_rings() {
    let mut t = Topology::from_config(&three_racks(1));
    let a = t.add_node(peer("10.0.0.9", "dc", "rack2", 3_000_000_000));
    let (dc, rack2) = (0, t.rack_index(0, "rack2").unwrap());
    assert_eq!(t.owner_in_rack(dc, rack2, 2_000_000_000), Some(a));
    assert!(t.retire(a));
    assert!(!t.retire(a), "already retired");
    assert!(!t.retire(0), "the local node stays");
    assert_eq!(t.check_invariants(), Ok(()));
    assert_ne!(t.owner_in_rack(dc, rack2, 2_000_000_000), Some(a));
    assert_eq!(t.find("dc", "rack2", 3_000_000_000), None);
    // The only node of rack3 retired: the rack is gone, the others keep their indices.
    let r3 = t.dcs[0].racks[t.rack_index(0, "rack3").unwrap()].nodes[0];
    assert!(t.retire(r3));
    assert_eq!(rack_names(&t, 0), vec!["rack1", "rack2"]);
    assert_eq!(t.locate(0), Some((0, 0)));
    assert_eq!(t.check_invariants(), Ok(()));
    // Learned again: a new index, in the ring again.
    let b = t.add_node(peer("10.0.0.9", "dc", "rack2", 3_000_000_000));
    assert_ne!(a, b);
    assert_eq!(t.find("dc", "rack2", 3_000_000_000), Some(b));
    assert_eq!(t.check_invariants(), Ok(()));
}
