//! The fuzz targets on stable, for a bounded time: each `#[test]` runs its target over the
//! checked-in corpus (`fuzz/corpus/<target>/`), then over mutations of it (bit flips, byte
//! edits, protocol tokens, interesting numbers, splices) from a seeded PRNG, until
//! `FUZZ_SECONDS` (default 2) or `FUZZ_ITERS` (default 1,000,000) runs out. The targets
//! generate structured input from the same bytes (see [`super::Gen`]).
//!
//! A failing input is shrunk, written to `target/fuzz-failures/<target>-<hash>.bin` and
//! printed (the slowest input of a run, when over 100 ms, goes to `<target>-slowest.bin`);
//! replay it with `cargo +nightly fuzz run <target> <file>` or by pointing
//! `FUZZ_REPLAY` at it. `FUZZ_SEED` picks the PRNG seed (printed with the run's figures).
//!
//! ```text
//!   FUZZ_SECONDS=300 cargo test -p dynomited --lib fuzzing::runner::redis_request -- --nocapture
//! ```

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::TARGETS;

/// Tokens the mutator inserts: the protocols' framing bytes and words.
const DICT: &[&[u8]] = &[
    b"\r\n",
    b"\r",
    b"\n",
    b" ",
    b"*",
    b"$",
    b":",
    b"+",
    b"-",
    b"%",
    b"~",
    b">",
    b"|",
    b"!",
    b"=",
    b"_",
    b"#",
    b",",
    b"(",
    b"-1",
    b"0",
    b"00",
    b"*0\r\n",
    b"$0\r\n\r\n",
    b"*1\r\n",
    b"$-1\r\n",
    b"*-1\r\n",
    b"\"",
    b"'",
    b"\\",
    b"\\x",
    b"\0",
    b"noreply",
    b"VALUE ",
    b"END\r\n",
    b"STAT ",
    b"get ",
    b"set ",
    b"cas ",
    b"   $2014$ ",
    b" *",
    b"$2014$",
    b"HTTP/1.1 200 OK\r\n",
    b"Content-Length: ",
    b"Transfer-Encoding: chunked\r\n",
    b"\r\n\r\n",
    b"\xC0\x0C",
    b"\xC0",
    b"\x3F",
    b": ",
    b"- ",
    b"\n  ",
    b"  ",
    b"---",
    b"...",
    b"&a",
    b"*a",
    b"!!str",
    b"{",
    b"}",
    b"[",
    b"]",
    b"dyn_seeds:",
    b"tokens: ",
    b"listen: ",
    b"servers:",
    b"dyn_o_mite:",
    b"\t",
    b"\xEF\xBB\xBF",
    b"\xFF",
    b"GET",
    b"MGET",
    b"EVAL",
    b"config",
];

/// Numbers at the edges of the parsers' types and limits.
const NUMBERS: &[&str] = &[
    "0",
    "1",
    "2",
    "7",
    "8",
    "9",
    "13",
    "14",
    "63",
    "64",
    "65",
    "250",
    "251",
    "255",
    "256",
    "2048",
    "4096",
    "4097",
    "65535",
    "65536",
    "2147483645",
    "2147483646",
    "2147483647",
    "2147483648",
    "4294967295",
    "4294967296",
    "536870912",
    "536870913",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "-1",
    "-0",
    "-9223372036854775808",
    "-9223372036854775809",
    "+1",
    "01",
    "99999999999999999999999",
];

/// xorshift64*: small, seeded, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One to four stacked mutations of `input` (`other`: another corpus entry to splice).
fn mutate(rng: &mut Rng, input: &mut Vec<u8>, other: &[u8], max_len: usize) {
    for _ in 0..1 + rng.below(4) {
        let len = input.len();
        match rng.below(12) {
            0 if len > 0 => {
                let i = rng.below(len);
                input[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                input[i] = rng.next() as u8;
            }
            2 => {
                let i = rng.below(len + 1);
                input.insert(i, rng.next() as u8);
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(16));
                input.drain(i..i + n);
            }
            4 | 5 => {
                let i = rng.below(len + 1);
                let t = DICT[rng.below(DICT.len())];
                input.splice(i..i, t.iter().copied());
            }
            6 => {
                // Replace a run of digits (or insert) with an edge number.
                let n = NUMBERS[rng.below(NUMBERS.len())].as_bytes();
                let digits: Vec<usize> = (0..len).filter(|&i| input[i].is_ascii_digit()).collect();
                if digits.is_empty() {
                    let i = rng.below(len + 1);
                    input.splice(i..i, n.iter().copied());
                } else {
                    let s = digits[rng.below(digits.len())];
                    let mut e = s;
                    while e < len && input[e].is_ascii_digit() {
                        e += 1;
                    }
                    let mut s = s;
                    while s > 0 && input[s - 1].is_ascii_digit() {
                        s -= 1;
                    }
                    input.splice(s..e, n.iter().copied());
                }
            }
            7 if len > 0 => {
                // Duplicate a range.
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(64));
                let copy = input[i..i + n].to_vec();
                let at = rng.below(len + 1);
                input.splice(at..at, copy);
            }
            8 if !other.is_empty() => {
                // Splice: a piece of another entry.
                let i = rng.below(other.len());
                let n = 1 + rng.below((other.len() - i).min(256));
                let at = rng.below(len + 1);
                input.splice(at..at, other[i..i + n].iter().copied());
            }
            9 if len > 1 => input.truncate(rng.below(len)),
            10 => {
                // Concatenate the other entry (pipelines, several frames).
                input.extend_from_slice(other);
            }
            _ if len > 0 => {
                // Swap two bytes.
                let (a, b) = (rng.below(len), rng.below(len));
                input.swap(a, b);
            }
            _ => input.push(rng.next() as u8),
        }
    }
    input.truncate(max_len);
}

fn env_num<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn corpus_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(name)
}

fn load_corpus(name: &str) -> Vec<Vec<u8>> {
    let dir = corpus_dir(name);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let corpus: Vec<Vec<u8>> = files.iter().filter_map(|p| std::fs::read(p).ok()).collect();
    assert!(!corpus.is_empty(), "corpus {} is empty", dir.display());
    corpus
}

/// Whether `f(input)` panics, with the panic message silenced.
fn fails(f: fn(&[u8]), input: &[u8]) -> bool {
    panic::catch_unwind(AssertUnwindSafe(|| f(input))).is_err()
}

/// A smaller input that still fails: ranges removed while it keeps failing.
fn shrink(f: fn(&[u8]), input: &[u8]) -> Vec<u8> {
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let mut cur = input.to_vec();
    let mut n = cur.len() / 2;
    let deadline = Instant::now() + Duration::from_secs(20);
    while n >= 1 && Instant::now() < deadline {
        let mut i = 0;
        let mut shrunk = false;
        while i + n <= cur.len() {
            let mut c = cur.clone();
            c.drain(i..i + n);
            if fails(f, &c) {
                cur = c;
                shrunk = true;
            } else {
                i += n;
            }
        }
        if !shrunk {
            n /= 2;
        }
    }
    panic::set_hook(hook);
    cur
}

/// Saves a failing input (shrunk) and fails the test with it.
fn report(name: &str, f: fn(&[u8]), input: &[u8]) -> ! {
    let small = shrink(f, input);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/fuzz-failures");
    let _ = std::fs::create_dir_all(&dir);
    let file = dir.join(format!("{name}-{:016x}.bin", super::seed_of(&small)));
    let _ = std::fs::write(&file, &small);
    eprintln!(
        "fuzz {name}: failing input ({} bytes, shrunk from {}) saved to {}:\n{:?}",
        small.len(),
        input.len(),
        file.display(),
        String::from_utf8_lossy(&small)
    );
    // Fail with the shrunk input's own panic message.
    f(&small);
    panic!("fuzz {name}: the input failed before shrinking");
}

/// Runs target `name` over its corpus, then mutations, within the time and count bounds.
fn run(name: &str) {
    let f = TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, f)| *f)
        .expect("a target");
    if let Ok(path) = std::env::var("FUZZ_REPLAY") {
        // Relative to the workspace root (tests run in the package's directory).
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let input = std::fs::read(root.join(&path)).expect("FUZZ_REPLAY file");
        f(&input);
        return;
    }
    let secs: f64 = env_num("FUZZ_SECONDS", 2.0);
    let iters: u64 = env_num("FUZZ_ITERS", 1_000_000);
    let seed: u64 = env_num("FUZZ_SEED", 0x5eed_f022);
    let max_len: usize = env_num("FUZZ_MAX_LEN", 4096);
    let corpus = load_corpus(name);
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(secs);
    for input in &corpus {
        if fails(f, input) {
            report(name, f, input);
        }
    }
    let mut rng = Rng(seed ^ super::seed_of(name.as_bytes()) | 1);
    let mut execs = corpus.len() as u64;
    let mut slowest = (Duration::ZERO, 0usize);
    let mut input = Vec::new();
    while execs < iters && Instant::now() < deadline {
        let base = &corpus[rng.below(corpus.len())];
        let other = &corpus[rng.below(corpus.len())];
        input.clear();
        match rng.below(16) {
            // Random bytes now and then, as structured-generation entropy mostly.
            0 => input.extend((0..rng.below(256)).map(|_| rng.next() as u8)),
            _ => input.extend_from_slice(base),
        }
        // Several rounds on one base get further from it.
        for _ in 0..1 + rng.below(3) {
            mutate(&mut rng, &mut input, other, max_len);
        }
        let t = Instant::now();
        if fails(f, &input) {
            report(name, f, &input);
        }
        let took = t.elapsed();
        if took > slowest.0 {
            slowest = (took, input.len());
            if took > Duration::from_millis(100) {
                // Kept to look at: a slow input is a finding too.
                let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/fuzz-failures");
                let _ = std::fs::create_dir_all(&dir);
                let _ = std::fs::write(dir.join(format!("{name}-slowest.bin")), &input);
            }
        }
        execs += 1;
    }
    eprintln!(
        "fuzz {name}: {execs} execs in {:.1} s (corpus {}, seed {seed:#x}, slowest {:?} on {} bytes)",
        start.elapsed().as_secs_f64(),
        corpus.len(),
        slowest.0,
        slowest.1,
    );
}

macro_rules! targets {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                run(stringify!($name));
            }
        )*

        #[test]
        fn every_target_has_a_test() {
            let tested = [$(stringify!($name)),*];
            let all: Vec<&str> = TARGETS.iter().map(|(n, _)| *n).collect();
            assert_eq!(tested[..], all[..]);
        }
    };
}

targets!(
    redis_request,
    redis_reply,
    memcache_request,
    memcache_reply,
    dnode_frame,
    gossip,
    stats_http,
    florida_seeds,
    dns_seeds,
    conf_yaml,
);
