use super::*;

fn args<'a>(v: &'a [&'a [u8]]) -> impl Fn(usize) -> Option<&'a [u8]> + 'a {
    move |i| v.get(i).copied()
}

#[test]
fn covered_writes_by_shape() {
    let set: &[&[u8]] = &[b"SET", b"k", b"v"];
    assert_eq!(write_kind(cmd::SET, 3, 1, args(set)), Some(Write::Set));
    let set_px: &[&[u8]] = &[b"SET", b"k", b"v", b"PXAT", b"17", b"nx"];
    assert_eq!(write_kind(cmd::SET, 6, 1, args(set_px)), Some(Write::Set));
    let set_get: &[&[u8]] = &[b"SET", b"k", b"v", b"GET"];
    assert_eq!(write_kind(cmd::SET, 4, 1, args(set_get)), None);
    let set_short: &[&[u8]] = &[b"SET", b"k", b"v", b"EX"];
    assert_eq!(write_kind(cmd::SET, 4, 1, args(set_short)), None);
    let del: &[&[u8]] = &[b"DEL", b"a", b"b"];
    assert_eq!(write_kind(cmd::DEL, 3, 2, args(del)), Some(Write::Del));
    let hset: &[&[u8]] = &[b"HSET", b"k", b"f", b"v"];
    assert_eq!(write_kind(cmd::HSET, 4, 1, args(hset)), Some(Write::Hset));
    // A wrong arity is the datastore's to refuse, in its own words.
    assert_eq!(write_kind(cmd::HSET, 5, 1, args(hset)), None);
    let zadd: &[&[u8]] = &[b"ZADD", b"z", b"1", b"m"];
    assert_eq!(write_kind(cmd::ZADD, 4, 1, args(zadd)), Some(Write::Zadd));
    let zadd_nx: &[&[u8]] = &[b"ZADD", b"z", b"NX", b"1", b"m", b"x"];
    assert_eq!(write_kind(cmd::ZADD, 6, 1, args(zadd_nx)), None);
    let incr: &[&[u8]] = &[b"INCR", b"k"];
    assert_eq!(write_kind(cmd::INCR, 2, 1, args(incr)), None);
    assert_eq!(read_kind(cmd::GET, 2), Read::Get);
    assert_eq!(read_kind(cmd::HGET, 3), Read::Hget);
    assert_eq!(read_kind(cmd::GET, 3), Read::None);
}

#[test]
fn the_rewrite_header_counts_every_argument() {
    let mut out = Vec::new();
    let at = rewrite_head(SET_BODY, 3, 1, &mut out);
    assert!(out.starts_with(format!("*8\r\n$4\r\nEVAL\r\n${}\r\n", SET_BODY.len()).as_bytes()));
    assert_eq!(&out[at..at + SET_BODY.len()], SET_BODY.as_bytes());
    assert!(out.ends_with(b"\r\n$1\r\n3\r\n"));
    let mut meta = Vec::new();
    meta_keys(&mut meta);
    assert_eq!(meta, b"$9\r\n._add-set\r\n$9\r\n._rem-set\r\n");
    let mut t = Vec::new();
    ts_trailer(1_700_000_000_123, &mut t);
    assert_eq!(t, b"$13\r\n1700000000123\r\n");
}

#[test]
fn versioned_replies_are_read_and_others_are_not() {
    let e = b"*4\r\n$1\r\nE\r\n$13\r\n1700000000001\r\n$3\r\nabc\r\n:-1\r\n";
    let v = parse_versioned(e).unwrap();
    assert_eq!(
        (v.status, v.ts, v.nil, v.expire),
        (b'E', 1_700_000_000_001, false, -1)
    );
    assert_eq!(&e[v.value.clone()], b"$3\r\nabc\r\n");
    assert_eq!(&e[v.data.clone()], b"abc");
    let x = b"*4\r\n$1\r\nX\r\n$1\r\n0\r\n$-1\r\n:1800000000000\r\n";
    let v = parse_versioned(x).unwrap();
    assert_eq!(
        (v.status, v.ts, v.nil, v.expire),
        (b'X', 0, true, 1_800_000_000_000)
    );
    assert_eq!(&x[v.value.clone()], b"$-1\r\n");
    let s = b"*3\r\n$1\r\nR\r\n$16\r\n1.7000000000e+12\r\n:0\r\n";
    let v = parse_versioned(s).unwrap();
    assert_eq!((v.status, v.ts), (b'R', 1_700_000_000_000));
    assert_eq!(&s[v.data.clone()], b"0");
    assert_eq!(&s[v.value.clone()], b":0\r\n");
    assert!(parse_versioned(b"-WRONGTYPE Operation against a key\r\n").is_none());
    assert!(parse_versioned(b"$3\r\nabc\r\n").is_none());
    assert!(parse_versioned(b"*3\r\n$1\r\nQ\r\n:1\r\n$1\r\na\r\n").is_none());
}

fn ver(status: u8, ts: u64, nil: bool) -> Option<Versioned> {
    Some(Versioned {
        status,
        ts,
        value: 0..0,
        nil,
        data: 0..0,
        expire: -1,
    })
}

#[test]
fn the_newest_moment_wins_and_the_others_are_repaired() {
    let vals: [&[u8]; 3] = [b"old", b"new", b"old"];
    let parts = [
        ver(b'E', 5, false),
        ver(b'E', 9, false),
        ver(b'X', 0, false),
    ];
    let o = decide(&parts, |i| vals[i]);
    assert_eq!(o.winner, Some(1));
    assert_eq!(o.stale, vec![0, 2]);
    assert!(!o.agreed_deleted);
    // A delete newer than a write wins.
    let parts = [ver(b'E', 5, false), ver(b'R', 7, true), None];
    let o = decide(&parts, |i| vals[i]);
    assert_eq!((o.winner, o.stale), (Some(1), vec![0]));
}

#[test]
fn nothing_recorded_or_a_tie_leaves_it_to_the_values_quorum() {
    let vals: [&[u8]; 3] = [b"a", b"b", b"a"];
    let parts = [ver(b'X', 0, false), ver(b'X', 0, false), None];
    assert_eq!(decide(&parts, |i| vals[i]), Outcome::default());
    let parts = [
        ver(b'E', 9, false),
        ver(b'E', 9, false),
        ver(b'E', 3, false),
    ];
    assert_eq!(decide(&parts, |i| vals[i]), Outcome::default());
    let same: [&[u8]; 3] = [b"a", b"a", b"a"];
    let o = decide(&parts, |i| same[i]);
    assert_eq!((o.winner, o.stale), (Some(0), vec![2]));
}

#[test]
fn an_agreed_delete_is_seen_only_with_every_reply_in() {
    let nil: [&[u8]; 3] = [b"$-1\r\n"; 3];
    let parts = [ver(b'R', 4, true), ver(b'R', 4, true), ver(b'R', 4, true)];
    assert!(decide(&parts, |i| nil[i]).agreed_deleted);
    let parts = [ver(b'R', 4, true), ver(b'R', 4, true), None];
    assert!(!decide(&parts, |i| nil[i]).agreed_deleted);
}

#[test]
fn repair_writes_carry_the_winners_value_and_moment() {
    let reply = b"*4\r\n$1\r\nE\r\n$2\r\n42\r\n$3\r\nnew\r\n:1800000000000\r\n";
    let w = parse_versioned(reply).unwrap();
    let mut out = Vec::new();
    assert!(repair_request(Read::Get, b"k", b"", reply, &w, &mut out));
    let mut want = Vec::new();
    rewrite_head(SET_BODY, 5, 1, &mut want);
    want.extend_from_slice(b"$1\r\nk\r\n");
    meta_keys(&mut want);
    want.extend_from_slice(b"$3\r\nnew\r\n$4\r\nPXAT\r\n$13\r\n1800000000000\r\n$2\r\n42\r\n");
    assert_eq!(out, want);
    let reply = b"*3\r\n$1\r\nR\r\n$2\r\n43\r\n$-1\r\n";
    let w = parse_versioned(reply).unwrap();
    assert!(repair_request(
        Read::Zscore,
        b"z",
        b"m",
        reply,
        &w,
        &mut out
    ));
    let mut want = Vec::new();
    rewrite_head(ZREM_BODY, 3, 1, &mut want);
    want.extend_from_slice(b"$1\r\nz\r\n");
    meta_keys(&mut want);
    want.extend_from_slice(b"$1\r\nm\r\n$2\r\n43\r\n");
    assert_eq!(out, want);
    let reply = b"*3\r\n$1\r\nE\r\n$2\r\n43\r\n:1\r\n";
    let w = parse_versioned(reply).unwrap();
    assert!(repair_request(
        Read::Sismember,
        b"s",
        b"m",
        reply,
        &w,
        &mut out
    ));
    assert!(out
        .windows(SADD_BODY.len())
        .any(|x| x == SADD_BODY.as_bytes()));
}
