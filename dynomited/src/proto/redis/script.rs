//! What a Lua script or function library calls, read from its source: whether it calls a
//! command whose result each datastore chooses for itself (a random member, the clock, a
//! stream ID of its own). Every rack runs a replicated script on its own datastore, so such
//! a script would leave the racks different; the router refuses it before anything runs.
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

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

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
