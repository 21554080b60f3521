//! Parser throughput (criterion, `Throughput::Bytes`): one function per protocol.
//!
//! Streams are fed in 16 KiB chunks, as the runtime feeds mbufs. Run with
//! `cargo bench -p dynomited --bench parsers`.

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

criterion_group!(parsers, redis, memcache);
criterion_main!(parsers);
