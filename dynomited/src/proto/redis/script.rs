//! What a Lua script or function library calls, read from its source: whether it calls a
//! command whose result each datastore chooses for itself (a random member, the clock, a
//! stream ID of its own). Every rack runs a replicated script on its own datastore, so such
//! a script would leave the racks different; the router refuses it before anything runs.
//!
//! [`ScriptCache`] keeps the bodies of the scripts `SCRIPT LOAD` brought through this node,
//! by their SHA1, so an `EVALSHA` can travel to every rack as the `EVAL` of its body: a rack
//! whose datastore lacks the script (restarted, restored, or never reached) still runs it.
//!
//! The check reads the literal command names of `redis.call(...)`, `redis.pcall(...)` and
//! `server.call(...)` (any `call(`/`pcall(` followed by a quoted name). A name built at run
//! time is not seen: the check catches the usual code, not every program.

/// Commands whose result, or effect, differs from one datastore to the next.
pub const NONDETERMINISTIC: &[&str] = &[
    "spop",
    "srandmember",
    "randomkey",
    "hrandfield",
    "zrandmember",
    "time",
    "xadd",
    "xautoclaim",
    "xclaim",
];

/// The first command of [`NONDETERMINISTIC`] that `body` calls by a literal name, if any.
pub fn nondeterministic_call(body: &[u8]) -> Option<&'static str> {
    let mut i = 0;
    while let Some(at) = find(&body[i..], b"call") {
        let mut j = i + at + 4;
        i = j;
        while body.get(j).is_some_and(|b| b.is_ascii_whitespace()) {
            j += 1;
        }
        if body.get(j) != Some(&b'(') {
            continue;
        }
        j += 1;
        while body.get(j).is_some_and(|b| b.is_ascii_whitespace()) {
            j += 1;
        }
        let Some(&quote @ (b'\'' | b'"')) = body.get(j) else {
            continue;
        };
        let name_start = j + 1;
        let Some(len) = body[name_start..].iter().position(|&b| b == quote) else {
            continue;
        };
        let name = &body[name_start..name_start + len];
        if let Some(hit) = NONDETERMINISTIC
            .iter()
            .find(|c| name.eq_ignore_ascii_case(c.as_bytes()))
        {
            return Some(hit);
        }
    }
    None
}

/// At most this many scripts are kept, and this many bytes of them; past that, new ones are
/// not learnt (their `EVALSHA` travels as sent).
pub const CACHE_MAX_SCRIPTS: usize = 10_000;
pub const CACHE_MAX_BYTES: usize = 64 << 20;

/// A script's SHA1 as Redis names it: 40 lower-case hex digits.
pub fn sha1_hex(body: &[u8]) -> [u8; 40] {
    let d = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, body);
    let mut out = [0u8; 40];
    for (i, b) in d.as_ref().iter().enumerate() {
        out[2 * i] = b"0123456789abcdef"[usize::from(b >> 4)];
        out[2 * i + 1] = b"0123456789abcdef"[usize::from(b & 15)];
    }
    out
}

/// Script bodies by SHA1 (see the module doc).
#[derive(Default)]
pub struct ScriptCache {
    map: std::collections::HashMap<[u8; 40], Box<[u8]>>,
    bytes: usize,
}

impl ScriptCache {
    /// Keep `body` (a `SCRIPT LOAD`'s); false when the cache is full.
    pub fn learn(&mut self, body: &[u8]) -> bool {
        let sha = sha1_hex(body);
        if self.map.contains_key(&sha) {
            return true;
        }
        if self.map.len() >= CACHE_MAX_SCRIPTS || self.bytes + body.len() > CACHE_MAX_BYTES {
            return false;
        }
        self.bytes += body.len();
        self.map.insert(sha, body.into());
        true
    }

    /// The body whose SHA1 is `sha` (hex, any case, as `EVALSHA` takes it).
    pub fn body(&self, sha: &[u8]) -> Option<&[u8]> {
        let key: [u8; 40] = sha.try_into().ok()?;
        self.map
            .get(&key.map(|b| b.to_ascii_lowercase()))
            .map(|b| &b[..])
    }

    /// `SCRIPT FLUSH`: the datastores forget every script, and so does the proxy.
    pub fn clear(&mut self) {
        self.map.clear();
        self.bytes = 0;
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_by_sha1() {
        // redis-cli SCRIPT LOAD "return 1"
        assert_eq!(
            &sha1_hex(b"return 1"),
            b"e0e1f9fabfc9d4800c877a703b823ac0578ff8db"
        );
        let mut c = ScriptCache::default();
        assert!(c.learn(b"return 1") && c.learn(b"return 1"));
        assert_eq!(c.len(), 1);
        assert_eq!(
            c.body(b"E0E1F9FABFC9D4800C877A703B823AC0578FF8DB"),
            Some(&b"return 1"[..])
        );
        assert_eq!(c.body(b"e0e1"), None);
        assert!(
            !c.learn(&vec![b' '; CACHE_MAX_BYTES + 1]),
            "over the byte bound"
        );
        c.clear();
        assert!(
            c.is_empty()
                && c.body(b"e0e1f9fabfc9d4800c877a703b823ac0578ff8db")
                    .is_none()
        );
    }

    #[test]
    fn literal_calls_are_found() {
        let cases: &[(&str, Option<&str>)] = &[
            ("return redis.call('SPOP', KEYS[1])", Some("spop")),
            ("return redis.pcall( \"time\" )", Some("time")),
            ("local t = server.call('TIME')", Some("time")),
            ("redis.call('xadd', KEYS[1], '*', 'f', 'v')", Some("xadd")),
            ("redis.call ('srandmember', KEYS[1])", Some("srandmember")),
            // A field named like a command is no call of it.
            ("redis.call('hset', KEYS[1], 'time', ARGV[1])", None),
            ("return redis.call('get', KEYS[1])", None),
            ("while true do end", None),
            ("redis.call(cmd, KEYS[1])", None),
            ("redis.call('spop", None),
            ("call", None),
            ("", None),
            (
                "#!lua name=lib\nredis.register_function('f', function(k) return \
                 redis.call('RANDOMKEY') end)",
                Some("randomkey"),
            ),
        ];
        for (body, want) in cases {
            assert_eq!(nondeterministic_call(body.as_bytes()), *want, "{body}");
        }
    }
}
