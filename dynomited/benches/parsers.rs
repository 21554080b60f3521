//! Parser throughput (criterion, `Throughput::Bytes`): one function per protocol, and one for
//! the reply merges of quorum reads and split requests (`proto::merge`) and the operator tools'
//! reply parser (`client::parse_reply`).
//!
//! Streams are fed in 16 KiB chunks, as the runtime feeds mbufs. Run with
//! `cargo bench -p dynomited --bench parsers` (`-- merge` for the merges alone).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dynomite::proto::redis::{ReqParser, RspParser};
use dynomite::proto::{Parse, ReqInfo, RspInfo};
use std::hint::black_box;

/// The chunk size the runtime feeds (an mbuf).
const CHUNK: usize = 16 * 1024;

fn resp_request(args: &[&[u8]], out: &mut Vec<u8>) {
    dynomite::client::encode_into(out, args);
}

/// Feeds `stream` in CHUNK-sized pieces; returns the number of complete requests.
fn parse_requests(p: &mut ReqParser, info: &mut ReqInfo, stream: &[u8]) -> usize {
    let mut n = 0;
    for mut chunk in stream.chunks(CHUNK) {
        while !chunk.is_empty() {
            match p.feed(chunk, info) {
                Parse::Done { consumed } => {
                    n += 1;
                    black_box(&*info);
                    chunk = &chunk[consumed..];
                }
                Parse::Incomplete => break,
            }
        }
    }
    n
}

fn parse_replies(p: &mut RspParser, info: &mut RspInfo, stream: &[u8]) -> usize {
    let mut n = 0;
    for mut chunk in stream.chunks(CHUNK) {
        while !chunk.is_empty() {
            match p.feed(chunk, info) {
                Parse::Done { consumed } => {
                    n += 1;
                    black_box(&*info);
                    chunk = &chunk[consumed..];
                }
                Parse::Incomplete => break,
            }
        }
    }
    n
}

fn redis(c: &mut Criterion) {
    let value = [b'x'; 100];
    let mut requests = Vec::new();
    let count = 1000;
    for i in 0..count {
        let key = format!("key:{i:06}");
        resp_request(&[b"SET", key.as_bytes(), &value], &mut requests);
        resp_request(&[b"GET", key.as_bytes()], &mut requests);
    }
    let mut get = Vec::new();
    let mut mget = Vec::new();
    let mut ping = Vec::new();
    for i in 0..count {
        let key = format!("key:{i:012}");
        resp_request(&[b"GET", key.as_bytes()], &mut get);
        let keys: Vec<String> = (0..10).map(|j| format!("key:{:012}", i * 10 + j)).collect();
        let mut args: Vec<&[u8]> = vec![b"MGET"];
        args.extend(keys.iter().map(String::as_bytes));
        resp_request(&args, &mut mget);
        ping.extend_from_slice(b"PING\r\n");
    }
    let mut g = c.benchmark_group("redis");
    let requests: [(&str, &[u8], usize); 4] = [
        ("requests_set_get", &requests, 2 * count),
        ("requests_get", &get, count),
        ("requests_mget_10", &mget, count),
        ("requests_ping_inline", &ping, count),
    ];
    for (name, stream, n) in requests {
        g.throughput(Throughput::Bytes(stream.len() as u64));
        g.bench_function(name, |b| {
            let mut p = ReqParser::new();
            let mut info = ReqInfo::default();
            b.iter(|| assert_eq!(parse_requests(&mut p, &mut info, stream), n));
        });
    }

    let mut status = Vec::new();
    for _ in 0..count {
        status.extend_from_slice(b"+OK\r\n");
    }
    let mut bulk = Vec::new();
    for _ in 0..count {
        bulk.extend_from_slice(b"$100\r\n");
        bulk.extend_from_slice(&value);
        bulk.extend_from_slice(b"\r\n");
    }
    let mut array = Vec::new();
    for _ in 0..count / 10 {
        array.extend_from_slice(b"*10\r\n");
        for j in 0..10 {
            array.extend_from_slice(format!("$8\r\nvalue:{j:02}\r\n").as_bytes());
        }
    }
    let mut int = Vec::new();
    for i in 0..count {
        int.extend_from_slice(format!(":{i}\r\n").as_bytes());
    }
    let replies: [(&str, &[u8], usize); 4] = [
        ("replies_status", &status, count),
        ("replies_bulk", &bulk, count),
        ("replies_int", &int, count),
        ("replies_array", &array, count / 10),
    ];
    for (name, stream, n) in replies {
        g.throughput(Throughput::Bytes(stream.len() as u64));
        g.bench_function(name, |b| {
            let mut p = RspParser::new();
            let mut info = RspInfo::default();
            b.iter(|| assert_eq!(parse_replies(&mut p, &mut info, stream), n));
        });
    }
    g.finish();
}

/// Feeds `stream` in CHUNK-sized pieces to any parser's `feed`; returns the complete messages.
fn mc_parse(stream: &[u8], mut feed: impl FnMut(&[u8]) -> Parse) -> usize {
    let mut n = 0;
    for mut chunk in stream.chunks(CHUNK) {
        while !chunk.is_empty() {
            match feed(chunk) {
                Parse::Done { consumed } => {
                    n += 1;
                    chunk = &chunk[consumed..];
                }
                Parse::Incomplete => break,
            }
        }
    }
    n
}

/// Memcached ASCII: set/get pipelines, a 10-key multi-get, and the replies to them.
fn memcache(c: &mut Criterion) {
    use dynomite::proto::memcache;
    let value = [b'x'; 100];
    let count = 1000;
    let mut set_get = Vec::new();
    let mut multiget = Vec::new();
    for i in 0..count {
        set_get.extend_from_slice(format!("set key:{i:06} 0 0 {}\r\n", value.len()).as_bytes());
        set_get.extend_from_slice(&value);
        set_get.extend_from_slice(b"\r\n");
        set_get.extend_from_slice(format!("get key:{i:06}\r\n").as_bytes());
        if i % 10 == 0 {
            multiget.extend_from_slice(b"get");
            for j in 0..10 {
                multiget.extend_from_slice(format!(" key:{:06}", i + j).as_bytes());
            }
            multiget.extend_from_slice(b"\r\n");
        }
    }
    let mut g = c.benchmark_group("memcache");
    let requests: [(&str, &[u8], usize); 2] = [
        ("requests_set_get", &set_get, 2 * count),
        ("requests_multiget_10", &multiget, count / 10),
    ];
    for (name, stream, n) in requests {
        g.throughput(Throughput::Bytes(stream.len() as u64));
        g.bench_function(name, |b| {
            let mut p = memcache::ReqParser::new();
            let mut info = ReqInfo::default();
            b.iter(|| {
                let got = mc_parse(stream, |chunk| {
                    let r = p.feed(chunk, &mut info);
                    black_box(&info);
                    r
                });
                assert_eq!(got, n);
            });
        });
    }

    let mut stored = Vec::new();
    let mut values = Vec::new();
    for i in 0..count {
        stored.extend_from_slice(b"STORED\r\n");
        values.extend_from_slice(format!("VALUE key:{i:06} 0 {}\r\n", value.len()).as_bytes());
        values.extend_from_slice(&value);
        values.extend_from_slice(b"\r\n");
        if i % 10 == 9 {
            values.extend_from_slice(b"END\r\n");
        }
    }
    let replies: [(&str, &[u8], usize); 2] = [
        ("replies_stored", &stored, count),
        ("replies_values_10", &values, count / 10),
    ];
    for (name, stream, n) in replies {
        g.throughput(Throughput::Bytes(stream.len() as u64));
        g.bench_function(name, |b| {
            let mut p = memcache::RspParser::new();
            let mut info = RspInfo::default();
            b.iter(|| {
                let got = mc_parse(stream, |chunk| {
                    let r = p.feed(chunk, &mut info);
                    black_box(&info);
                    r
                });
                assert_eq!(got, n);
            });
        });
    }
    g.finish();
}

/// A RESP array of `n` bulk strings `value:<i>` (an MGET or SMEMBERS reply).
fn bulk_array(n: usize, first: usize) -> Vec<u8> {
    let mut r = format!("*{n}\r\n").into_bytes();
    for i in first..first + n {
        let v = format!("value:{i:06}");
        r.extend_from_slice(format!("${}\r\n{v}\r\n", v.len()).as_bytes());
    }
    r
}

/// The merges of `proto::merge` on replies of a typical size, and `client::parse_reply`.
fn merge(c: &mut Criterion) {
    use dynomite::proto::merge::{self, NoMajority};
    let mut g = c.benchmark_group("merge");
    let mut out = Vec::new();

    // Quorum: three replicas' 10-element MGET replies, one differing in one element.
    let a = bulk_array(10, 0);
    let mut b = a.clone();
    let last = b.len() - 3;
    b[last] = b'X';
    // Nested elements (HGETALL-like pairs inside each element).
    let mut nested = b"*10\r\n".to_vec();
    for i in 0..10 {
        nested.extend_from_slice(format!("*2\r\n$4\r\nf:{i:02}\r\n:{i}\r\n").as_bytes());
    }
    let quorum: [(&str, [&[u8]; 3]); 2] = [
        ("quorum_elementwise_3x10", [&a, &b, &a]),
        (
            "quorum_elementwise_nested_3x10",
            [&nested, &nested, &nested],
        ),
    ];
    for (name, replies) in &quorum {
        g.throughput(Throughput::Bytes(
            replies.iter().map(|r| r.len() as u64).sum(),
        ));
        g.bench_function(*name, |bch| {
            bch.iter(|| {
                assert!(merge::merge_elementwise(
                    black_box(replies),
                    2,
                    NoMajority::Fail,
                    &mut out
                ))
            })
        });
    }
    // SMEMBERS of 100 members, as an array and as a RESP3 set.
    let members = bulk_array(100, 0);
    let mut set = members.clone();
    set[0] = b'~';
    let mut ranges = Vec::new();
    for (name, reply) in [
        ("unordered_checksum_100", &members),
        ("unordered_checksum_set_100", &set),
    ] {
        g.throughput(Throughput::Bytes(reply.len() as u64));
        g.bench_function(name, |bch| {
            bch.iter(|| assert!(merge::unordered_checksum(black_box(reply), &mut ranges).is_some()))
        });
    }

    // Split: an MGET of 30 keys over 3 fragments, interleaved.
    let frags: Vec<Vec<u8>> = (0..3).map(|f| bulk_array(10, f * 10)).collect();
    let frag_refs: Vec<&[u8]> = frags.iter().map(Vec::as_slice).collect();
    let placement: Vec<(u16, u32)> = (0..30).map(|k| ((k % 3) as u16, (k / 3) as u32)).collect();
    let bytes: usize = frags.iter().map(Vec::len).sum();
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("split_mget_3x10", |bch| {
        bch.iter(|| merge::coalesce_mget(black_box(&placement), &frag_refs, &mut out).unwrap())
    });
    let ints: Vec<Vec<u8>> = (0..10).map(|i| format!(":{i}\r\n").into_bytes()).collect();
    let int_refs: Vec<&[u8]> = ints.iter().map(Vec::as_slice).collect();
    g.throughput(Throughput::Elements(int_refs.len() as u64));
    g.bench_function("split_sum_10", |bch| {
        bch.iter(|| merge::coalesce_sum(black_box(&int_refs), &mut out).unwrap())
    });

    // Memcached: a 30-key get over 3 fragments.
    let keys: Vec<Vec<u8>> = (0..30)
        .map(|k| format!("key:{k:06}").into_bytes())
        .collect();
    let key_refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
    let frag_of: Vec<u16> = (0..30).map(|k| (k % 3) as u16).collect();
    let mc: Vec<Vec<u8>> = (0..3)
        .map(|f| {
            let mut r = Vec::new();
            for k in (f..30).step_by(3) {
                r.extend_from_slice(
                    format!("VALUE key:{k:06} 0 12\r\nvalue:{k:06}\r\n").as_bytes(),
                );
            }
            r.extend_from_slice(b"END\r\n");
            r
        })
        .collect();
    let mc_refs: Vec<&[u8]> = mc.iter().map(Vec::as_slice).collect();
    let bytes: usize = mc.iter().map(Vec::len).sum();
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("memcache_get_3x10", |bch| {
        bch.iter(|| {
            merge::merge_memcache_get(black_box(&key_refs), &frag_of, &mc_refs, &mut out).unwrap()
        })
    });

    // The operator tools' parser: a 100-element array reply.
    g.throughput(Throughput::Bytes(members.len() as u64));
    g.bench_function("client_parse_array_100", |bch| {
        bch.iter(|| {
            let (r, n) = dynomite::client::parse_reply(black_box(&members), 1 << 20)
                .unwrap()
                .unwrap();
            assert_eq!(n, members.len());
            black_box(r);
        })
    });
    g.finish();
}

criterion_group!(parsers, redis, memcache, merge);
criterion_main!(parsers);
