//! Unit tests of the connection roles' state machines, on real buffers and messages but no
//! sockets: replies leave an inbound queue in order, requests move from in_q to out_q as
//! they are written, peer replies are matched by frame id, deadlines and the rate limit.

use super::*;
use crate::event::{IoVecBuf, IoVecs};
use crate::msg::{Buffers, MsgRef, MsgState};
use crate::proto::Protocol;
use crate::stats::histogram::Histogram;

/// A message whose request is `req` and, when `rsp` is given, whose reply is done.
fn msg(bufs: &mut Buffers, req: &[u8], rsp: Option<&[u8]>) -> MsgRef {
    let m = bufs.msgs.alloc(0, None).unwrap();
    let msg = bufs.msgs.get_mut(m).unwrap();
    bufs.mbufs.append_bytes(&mut msg.req_segs, req);
    msg.req_len = req.len();
    if let Some(rsp) = rsp {
        let msg = bufs.msgs.get_mut(m).unwrap();
        bufs.mbufs.append_bytes(&mut msg.rsp_segs, rsp);
        msg.rsp_len = rsp.len();
        msg.state = MsgState::Done;
    }
    m
}

fn written(iov: &IoVecs<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    iov.copy_into(&mut out).unwrap();
    out
}

#[test]
fn inbound_writes_done_replies_in_order_and_stops_at_a_pending_one() {
    let mut bufs = Buffers::new(512, 100);
    let mut inb = Inbound::new(Protocol::Redis, 1);
    let a = msg(&mut bufs, b"GET a", Some(b"$1\r\nA\r\n"));
    let b = msg(&mut bufs, b"GET b", Some(b"$1\r\nB\r\n"));
    let c = msg(&mut bufs, b"GET c", None);
    let d = msg(&mut bufs, b"GET d", Some(b"$1\r\nD\r\n"));
    inb.queue.extend([a, b, c, d]);
    let mut store = IoVecBuf::new();
    let mut iov = IoVecs::new(&mut store);
    assert_eq!(inb.gather(&bufs.msgs, &bufs.mbufs, &mut iov), 2);
    assert_eq!(written(&iov), b"$1\r\nA\r\n$1\r\nB\r\n");
    drop(iov);
    // Only part of the second reply went out: the first is freed, the second stays.
    let mut lat = Histogram::new();
    let p = inb.pop_written(9, usize::MAX, &mut bufs, 1_000_000, &mut lat);
    assert_eq!((p.msgs, p.bytes, inb.wpos), (1, 7, 2));
    assert!(bufs.msgs.get(a).is_none() && bufs.msgs.get(b).is_some());
    assert_eq!(lat.count(), 1);
    let mut iov = IoVecs::new(&mut store);
    inb.gather(&bufs.msgs, &bufs.mbufs, &mut iov);
    assert_eq!(
        written(&iov),
        b"\r\nB\r\n",
        "resumes after the written bytes"
    );
    drop(iov);
    let p = inb.pop_written(5, usize::MAX, &mut bufs, 0, &mut lat);
    assert_eq!((p.msgs, inb.queue.front()), (1, Some(&c)));
    // The pending reply holds back the done one behind it.
    bufs.msgs.get_mut(c).unwrap().state = MsgState::Done;
    let p = inb.pop_written(0, usize::MAX, &mut bufs, 0, &mut lat);
    assert_eq!(p.msgs, 1, "an empty done reply goes without bytes");
    assert_eq!(inb.queue.front(), Some(&d));
}

#[test]
fn inbound_back_pressure_limits() {
    let mut bufs = Buffers::new(512, 100);
    let mut inb = Inbound::new(Protocol::Memcache, 1);
    assert!(inb.reading() && !inb.over_limits(MAX_PENDING_BYTES) && inb.drained(MAX_PENDING_BYTES));
    // A new connection has one request in flight before it has seen a reply...
    inb.queue.push_back(bufs.msgs.alloc(0, None).unwrap());
    assert!(inb.over_limits(MAX_PENDING_BYTES) && !inb.drained(MAX_PENDING_BYTES));
    // ...then twice as many per small reply, up to MAX_OUTSTANDING.
    for _ in 0..4 {
        inb.saw_reply(100);
    }
    for i in 1..16 {
        assert!(!inb.over_limits(MAX_PENDING_BYTES), "{i} outstanding");
        inb.queue.push_back(bufs.msgs.alloc(0, None).unwrap());
    }
    for _ in 0..10 {
        inb.saw_reply(100);
    }
    assert!(inb.reply_guess < 2048, "{}", inb.reply_guess);
    assert!(!inb.over_limits(MAX_PENDING_BYTES) && inb.drained(MAX_PENDING_BYTES));
    // One 1 MiB reply: eight of those in flight at most.
    inb.saw_reply(1 << 20);
    assert_eq!(inb.reply_guess, 1 << 20);
    assert!(inb.over_limits(MAX_PENDING_BYTES));
    inb.queue.truncate(7);
    assert!(!inb.over_limits(MAX_PENDING_BYTES) && !inb.drained(MAX_PENDING_BYTES));
    inb.queue.truncate(3);
    assert!(inb.drained(MAX_PENDING_BYTES));
    // Unwritten replies count whatever the guess.
    inb.reply_guess = 1;
    inb.pending_bytes = MAX_PENDING_BYTES;
    assert!(inb.over_limits(MAX_PENDING_BYTES) && !inb.drained(MAX_PENDING_BYTES));
    inb.pending_bytes = MAX_PENDING_BYTES / 2 - 4;
    assert!(!inb.over_limits(MAX_PENDING_BYTES) && inb.drained(MAX_PENDING_BYTES));
    // Nothing outstanding: always read.
    inb.queue.clear();
    inb.reply_guess = usize::MAX;
    assert!(!inb.over_limits(MAX_PENDING_BYTES) && inb.drained(MAX_PENDING_BYTES));
    inb.closing = true;
    assert!(!inb.reading());
}

fn peer_out() -> (Outbound, PeerLink) {
    let mut out = Outbound::new(Protocol::Redis, 0, 0);
    out.state = ServerState::Connected;
    (out, PeerLink::new(3, true))
}

#[test]
fn outbound_moves_written_requests_and_keeps_peer_write_copies() {
    let mut bufs = Buffers::new(512, 100);
    let (mut out, mut link) = peer_out();
    let read = msg(&mut bufs, b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n", None);
    let write = msg(
        &mut bufs,
        b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n",
        None,
    );
    bufs.msgs.get_mut(write).unwrap().is_write = true;
    bufs.msgs.get_mut(read).unwrap().frame_id = 7;
    bufs.msgs.get_mut(write).unwrap().frame_id = 8;
    out.in_q.extend([read, write]);
    let mut store = IoVecBuf::new();
    let mut iov = IoVecs::new(&mut store);
    out.gather(&bufs.msgs, &bufs.mbufs, 1, &mut iov);
    assert_eq!(iov.bytes(), 20, "the rate limit lets one through");
    drop(iov);
    let (mut wait, mut done, mut spare) = (Histogram::new(), Vec::new(), Vec::new());
    let total = 20 + 27;
    let w = out.pop_written(
        total - 1,
        Some(&mut link),
        &mut bufs,
        5,
        &mut wait,
        &mut done,
        &mut spare,
    );
    assert_eq!(
        (w.popped, w.pushed, out.wpos),
        (1, 1, 26),
        "the write is half out"
    );
    let w = out.pop_written(
        1,
        Some(&mut link),
        &mut bufs,
        5,
        &mut wait,
        &mut done,
        &mut spare,
    );
    assert_eq!((w.popped, w.pushed, out.wpos), (1, 1, 0));
    assert_eq!(
        out.out_q.iter().map(|s| s.msg).collect::<Vec<_>>(),
        [read, write]
    );
    assert_eq!(link.out_ids, [7, 8]);
    assert!(
        bufs.msgs.get(read).unwrap().req_segs.is_empty(),
        "a read's bytes go"
    );
    assert!(
        !bufs.msgs.get(write).unwrap().req_segs.is_empty(),
        "a copy keeps its bytes for a hint"
    );
    assert_eq!(wait.count(), 2);
    // Failing the connection takes everything, written first.
    let mut failed = Vec::new();
    let (n_out, out_bytes, n_in, _) = out.drain(&bufs.msgs, &mut failed);
    assert_eq!((n_out, out_bytes, n_in), (2, 47, 0));
    assert_eq!(failed, [read, write]);
}

#[test]
fn noreply_requests_are_done_once_written() {
    let mut bufs = Buffers::new(512, 100);
    let mut out = Outbound::new(Protocol::Memcache, 0, 0);
    let m = msg(&mut bufs, b"set k 0 0 1 noreply\r\nx\r\n", None);
    bufs.msgs.get_mut(m).unwrap().req.noreply = true;
    out.in_q.push_back(m);
    let (mut wait, mut done, mut spare) = (Histogram::new(), Vec::new(), Vec::new());
    let w = out.pop_written(24, None, &mut bufs, 0, &mut wait, &mut done, &mut spare);
    assert_eq!((w.popped, w.pushed, done.as_slice()), (1, 0, &[m][..]));
    assert!(out.out_q.is_empty());
}

#[test]
fn peer_replies_match_by_frame_id() {
    let mut bufs = Buffers::new(512, 100);
    let (mut out, mut link) = peer_out();
    let ms: Vec<MsgRef> = (0..3).map(|_| msg(&mut bufs, b"x", None)).collect();
    for (i, &m) in ms.iter().enumerate() {
        out.out_q.push_back(Sent {
            msg: m,
            len: 1,
            stall: false,
        });
        link.out_ids.push_back(10 + i as u64);
    }
    let mut skipped = Vec::new();
    // The reply to 11: 10 got none.
    link.reply_id = 11;
    assert!(link.match_reply(&mut out, &mut skipped));
    assert_eq!(skipped.iter().map(|s| s.msg).collect::<Vec<_>>(), [ms[0]]);
    assert_eq!(
        out.out_q.front().map(|s| s.msg),
        Some(ms[1]),
        "the reply's request is next"
    );
    out.out_q.pop_front();
    // A reply older than every request waiting is dropped.
    skipped.clear();
    link.reply_id = 5;
    assert!(!link.match_reply(&mut out, &mut skipped));
    assert!(skipped.is_empty());
    assert_eq!(link.out_ids, [12]);
}

#[test]
fn reads_overdue_and_the_rate_limit() {
    let mut bufs = Buffers::new(512, 100);
    let (_, mut link) = peer_out();
    let done = msg(&mut bufs, b"x", Some(b"y"));
    let waiting = msg(&mut bufs, b"x", None);
    link.reads.extend([(done, 10), (waiting, 100)]);
    assert!(
        !link.read_overdue(&bufs.msgs, 50),
        "an answered read is skipped"
    );
    assert_eq!(link.reads.len(), 1);
    assert!(link.read_overdue(&bufs.msgs, 100));
    // conn_msg_rate: a budget per second, refilled when the second changes.
    assert!(!link.throttled(true), "not limited before the first budget");
    assert_eq!(link.rate_budget(2, 7), 2);
    link.rate_left = 0;
    assert!(link.throttled(true) && !link.throttled(false));
    assert_eq!(link.rate_budget(2, 7), 0);
    assert_eq!(link.rate_budget(2, 8), 2);
}

#[test]
fn due_is_the_deadline_or_the_timeout_after_queueing() {
    let mut bufs = Buffers::new(512, 100);
    let m = msg(&mut bufs, b"x", None);
    let msg = bufs.msgs.get_mut(m).unwrap();
    msg.t.queued = 1_000;
    assert_eq!(
        due(msg, 500),
        1_500,
        "setup requests have no deadline of their own"
    );
    msg.t.deadline = 9_000;
    assert_eq!(due(msg, 500), 9_000);
}

#[test]
fn request_caps_are_redis_limits_and_ours() {
    let limits = crate::conf::Limits {
        max_buffer_memory: None,
        max_multibulk_len: 1000,
        client_query_buffer_limit: 1 << 20,
        max_gossip_nodes: 1024,
        peer_tls_required: false,
    };
    let cap = |nargs, len, authed| request_cap(&limits, nargs, len, authed);
    assert_eq!(cap(1000, 1 << 20, true), None);
    assert_eq!(
        cap(1001, 10, true),
        Some("Protocol error: invalid multibulk length")
    );
    assert_eq!(
        cap(3, (1 << 20) + 1, true),
        Some("Protocol error: request over client_query_buffer_limit")
    );
    // Before AUTH: Redis's 10 arguments and 16 KiB.
    assert_eq!(cap(10, 16 << 10, false), None);
    assert_eq!(
        cap(11, 100, false),
        Some("Protocol error: unauthenticated multibulk length")
    );
    assert_eq!(
        cap(2, (16 << 10) + 1, false),
        Some("Protocol error: unauthenticated bulk length")
    );
}
