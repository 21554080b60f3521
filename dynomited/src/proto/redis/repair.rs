//! Read repair (SPEC §4.7), Dynomite's metadata scheme: every write of a covered command
//! also records, on the node that applies it, the moment the coordinator received it (ms
//! since the epoch) in sorted sets kept beside the data:
//!
//! ```text
//!   ._add-set          member = key,   score = last write of the key
//!   ._rem-set          member = key,   score = last delete of the key (a tombstone)
//!   ._add-set_<key>    member = field, score = last write of that field (hash field, set or
//!   ._rem-set_<key>    member = field, score = last delete of it          sorted-set member)
//! ```
//!
//! A write older than what a replica recorded for the same key or field changes nothing
//! there (last write wins). Quorum reads of the repairable commands run as scripts that
//! answer `[status, ts, value(, expire)]` (status `E` written, `R` deleted, `X` unknown), so
//! the coordinator can answer with the newest value and write it back to the replicas that
//! are behind. The metadata layout and the scripts' effects are the contract with Dynomite
//! C nodes running the same scheme; the scripts themselves are ours (they also keep a
//! repaired string's expiry, and a write fails whole on a bad argument, as the command
//! would).
//!
//! Rewriting is zero-copy: the new request is a header written by the proxy, then the
//! original request's bytes from the key onwards (referenced, not copied), then the
//! timestamp:
//!
//! ```text
//!   SET k v       ─►  EVAL <SET body> 3 │ k │ ._add-set ._rem-set │ v │ <ts>
//!   DEL a b       ─►  EVAL <DEL body> 4 │ a b │ ._add-set ._rem-set │ <ts>
//!   HGET k f      ─►  EVAL <HGET body> 3 │ k │ ._add-set ._rem-set │ f │ <ts>
//! ```
//!
//! Everything here is pure: which requests are covered, the scripts, the rewrite's header,
//! reading a versioned reply, the decision over the replies, and the repair writes.

use std::io::Write as _;
use std::ops::Range;

use super::cmd;
use super::walk::{Token, Walker};
use crate::proto::fanout::push_bulk;

/// The metadata sets' names (keys on every node; never hashed or routed).
pub const ADD_SET: &[u8] = b"._add-set";
pub const REM_SET: &[u8] = b"._rem-set";

/// Writes with more arguments than this go as they are (Lua's `unpack` has a bound).
pub const MAX_ARGS: u32 = 4096;

/// A write whose metadata is recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Write {
    Set,
    Del,
    Hset,
    Hmset,
    Hdel,
    Sadd,
    Srem,
    Zadd,
    Zrem,
}

/// A read answered from versioned replies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Read {
    #[default]
    None,
    Get,
    Hget,
    Sismember,
    Zscore,
}

impl Read {
    /// Whether the read names a field (hash field, set or sorted-set member) after the key.
    pub fn has_field(self) -> bool {
        matches!(self, Read::Hget | Read::Sismember | Read::Zscore)
    }
}

/// Which covered write a request is, given its command, its argument count and its
/// recorded arguments (`arg(i)`, 0 = the name; `None` past the recorded ones). Requests of
/// another shape (options this scheme does not model, a wrong arity that the datastore must
/// refuse itself) are not covered.
pub fn write_kind<'a>(
    cmd: u16,
    nargs: u32,
    nkeys: usize,
    arg: impl Fn(usize) -> Option<&'a [u8]>,
) -> Option<Write> {
    if nargs > MAX_ARGS {
        return None;
    }
    let word = |i: usize, words: &[&str]| {
        arg(i).is_some_and(|a| words.iter().any(|w| a.eq_ignore_ascii_case(w.as_bytes())))
    };
    let kind = match cmd {
        // SET k v [EX|PX|EXAT|PXAT n | KEEPTTL] [NX|XX]; not GET (its reply is the old value,
        // which says nothing about whether it set).
        cmd::SET if nargs >= 3 => {
            let mut i = 3;
            while i < nargs as usize {
                if word(i, &["ex", "px", "exat", "pxat"]) {
                    i += 2;
                } else if word(i, &["keepttl", "nx", "xx"]) {
                    i += 1;
                } else {
                    return None;
                }
            }
            if i != nargs as usize {
                return None;
            }
            Write::Set
        }
        cmd::DEL if nargs >= 2 && nkeys + 1 == nargs as usize => Write::Del,
        cmd::HSET if nargs >= 4 && nargs.is_multiple_of(2) => Write::Hset,
        cmd::HMSET if nargs >= 4 && nargs.is_multiple_of(2) => Write::Hmset,
        cmd::HDEL if nargs >= 3 => Write::Hdel,
        cmd::SADD if nargs >= 3 => Write::Sadd,
        cmd::SREM if nargs >= 3 => Write::Srem,
        // Options (NX, XX, GT, LT, CH, INCR) come before the first score: not covered.
        cmd::ZADD if nargs >= 4 && nargs.is_multiple_of(2) => {
            if word(2, &["nx", "xx", "gt", "lt", "ch", "incr"]) {
                return None;
            }
            Write::Zadd
        }
        cmd::ZREM if nargs >= 3 => Write::Zrem,
        _ => return None,
    };
    Some(kind)
}

/// Which repairable read a request is.
pub fn read_kind(cmd: u16, nargs: u32) -> Read {
    match (cmd, nargs) {
        (cmd::GET, 2) => Read::Get,
        (cmd::HGET, 3) => Read::Hget,
        (cmd::SISMEMBER, 3) => Read::Sismember,
        (cmd::ZSCORE, 3) => Read::Zscore,
        _ => Read::None,
    }
}

// The scripts. KEYS: the command's key(s), then `._add-set`, `._rem-set` (Dynomite's
// order); ARGV: the command's arguments after its key, then the timestamp. `newer(s)`: a recorded moment
// later than this write's.

macro_rules! prelude {
    () => {
        "local add, rem = KEYS[#KEYS - 1], KEYS[#KEYS]\n\
         local ts = tonumber(ARGV[#ARGV])\n\
         local function newer(s) return s and tonumber(s) > ts end\n"
    };
}

/// `SET key value [options]`: a newer write or delete of the key leaves it alone (the
/// write is superseded: `OK`, as last-write-wins answers).
pub const SET_BODY: &str = concat!(
    prelude!(),
    "local key = KEYS[1]\n\
     local a = redis.call('ZSCORE', add, key)\n\
     local r = redis.call('ZSCORE', rem, key)\n\
     if newer(a) or newer(r) then return {ok='OK'} end\n\
     local res = redis.pcall('SET', key, unpack(ARGV, 1, #ARGV - 1))\n\
     if type(res) == 'table' and res.err then return res end\n\
     if res then\n\
     \x20 if r then redis.call('ZREM', rem, key) end\n\
     \x20 redis.call('ZADD', add, ts, key)\n\
     \x20 redis.call('DEL', add .. '_' .. key, rem .. '_' .. key)\n\
     end\n\
     return res\n"
);

/// `DEL key...`: each key not written or deleted later gets a tombstone, loses its field
/// metadata, and is deleted; the count of keys deleted.
pub const DEL_BODY: &str = concat!(
    prelude!(),
    "local n = 0\n\
     for i = 1, #KEYS - 2 do\n\
     \x20 local key = KEYS[i]\n\
     \x20 local a = redis.call('ZSCORE', add, key)\n\
     \x20 local r = redis.call('ZSCORE', rem, key)\n\
     \x20 if not (newer(a) or newer(r)) then\n\
     \x20   if a then redis.call('ZREM', add, key) end\n\
     \x20   redis.call('ZADD', rem, ts, key)\n\
     \x20   redis.call('DEL', add .. '_' .. key, rem .. '_' .. key)\n\
     \x20   n = n + redis.call('DEL', key)\n\
     \x20 end\n\
     end\n\
     return n\n"
);

/// A write of fields: every field (argument `i + off` of each group of `step`) not written
/// or deleted later than this write, unless the whole key was deleted later. The command
/// runs once with the fields that apply (so a bad argument fails it whole, before any
/// metadata changes); `none` is the answer when none apply.
macro_rules! field_write {
    ($cmd:literal, $step:literal, $off:literal, $none:literal) => {
        concat!(
            prelude!(),
            "local key = KEYS[1]\n\
             local r = redis.call('ZSCORE', rem, key)\n\
             if newer(r) then return ",
            $none,
            " end\n\
             local fadd, frem = add .. '_' .. key, rem .. '_' .. key\n\
             local args, fields = {}, {}\n\
             for i = 1, #ARGV - 1, ",
            $step,
            " do\n\
             \x20 local f = ARGV[i + ",
            $off,
            "]\n\
             \x20 if not (newer(redis.call('ZSCORE', fadd, f)) or newer(redis.call('ZSCORE', frem, f))) then\n\
             \x20   for j = i, i + ",
            $step,
            " - 1 do args[#args + 1] = ARGV[j] end\n\
             \x20   fields[#fields + 1] = f\n\
             \x20 end\n\
             end\n\
             if #fields == 0 then return ",
            $none,
            " end\n\
             local res = redis.pcall('",
            $cmd,
            "', key, unpack(args))\n\
             if type(res) == 'table' and res.err then return res end\n\
             if r then redis.call('ZREM', rem, key) end\n\
             local a = redis.call('ZSCORE', add, key)\n\
             if not a or tonumber(a) < ts then redis.call('ZADD', add, ts, key) end\n\
             for _, f in ipairs(fields) do\n\
             \x20 redis.call('ZREM', frem, f)\n\
             \x20 redis.call('ZADD', fadd, ts, f)\n\
             end\n\
             return res\n"
        )
    };
}

/// A delete of fields: each field not written or deleted later gets a tombstone; a key
/// with no field known written leaves `._add-set` (Dynomite's rule).
macro_rules! field_delete {
    ($cmd:literal) => {
        concat!(
            prelude!(),
            "local key = KEYS[1]\n\
             if newer(redis.call('ZSCORE', rem, key)) then return 0 end\n\
             local fadd, frem = add .. '_' .. key, rem .. '_' .. key\n\
             local fields = {}\n\
             for i = 1, #ARGV - 1 do\n\
             \x20 local f = ARGV[i]\n\
             \x20 if not (newer(redis.call('ZSCORE', fadd, f)) or newer(redis.call('ZSCORE', frem, f))) then\n\
             \x20   fields[#fields + 1] = f\n\
             \x20 end\n\
             end\n\
             if #fields == 0 then return 0 end\n\
             local res = redis.pcall('",
            $cmd,
            "', key, unpack(fields))\n\
             if type(res) == 'table' and res.err then return res end\n\
             for _, f in ipairs(fields) do\n\
             \x20 redis.call('ZREM', fadd, f)\n\
             \x20 redis.call('ZADD', frem, ts, f)\n\
             end\n\
             if redis.call('ZCARD', fadd) == 0 then redis.call('ZREM', add, key) end\n\
             return res\n"
        )
    };
}

pub const HSET_BODY: &str = field_write!("HSET", "2", "0", "0");
pub const HMSET_BODY: &str = field_write!("HMSET", "2", "0", "{ok='OK'}");
pub const SADD_BODY: &str = field_write!("SADD", "1", "0", "0");
/// `ZADD key score member ...`: the member is the second of each pair.
pub const ZADD_BODY: &str = field_write!("ZADD", "2", "1", "0");
pub const HDEL_BODY: &str = field_delete!("HDEL");
pub const SREM_BODY: &str = field_delete!("SREM");
pub const ZREM_BODY: &str = field_delete!("ZREM");

/// `GET key`: `[status, ts, value, expire]`; `expire` is the key's absolute expiry in ms
/// (`PEXPIRETIME`; -1 none or unknown), so a repair keeps it.
pub const GET_BODY: &str = "local key, add, rem = KEYS[1], KEYS[2], KEYS[3]\n\
     local v = redis.pcall('GET', key)\n\
     if type(v) == 'table' and v.err then return v end\n\
     local e = redis.pcall('PEXPIRETIME', key)\n\
     if type(e) ~= 'number' then e = -1 end\n\
     local a = redis.call('ZSCORE', add, key)\n\
     local r = redis.call('ZSCORE', rem, key)\n\
     if a and (not r or tonumber(a) > tonumber(r)) then return {'E', a, v, e} end\n\
     if r then return {'R', r, v, e} end\n\
     return {'X', '0', v, e}\n";

/// A read of one field: `[status, ts, value]` by the field's newest event (the key's own
/// delete counts as the field's).
macro_rules! field_read {
    ($cmd:literal) => {
        concat!(
            "local key, add, rem, f = KEYS[1], KEYS[2], KEYS[3], ARGV[1]\n\
             local v = redis.pcall('",
            $cmd,
            "', key, f)\n\
             if type(v) == 'table' and v.err then return v end\n\
             local fa = redis.call('ZSCORE', add .. '_' .. key, f)\n\
             local rs = redis.call('ZSCORE', rem .. '_' .. key, f)\n\
             local r = redis.call('ZSCORE', rem, key)\n\
             if r and (not rs or tonumber(r) > tonumber(rs)) then rs = r end\n\
             if fa and (not rs or tonumber(fa) > tonumber(rs)) then return {'E', fa, v} end\n\
             if rs then return {'R', rs, v} end\n\
             return {'X', '0', v}\n"
        )
    };
}

pub const HGET_BODY: &str = field_read!("HGET");
pub const SISMEMBER_BODY: &str = field_read!("SISMEMBER");
pub const ZSCORE_BODY: &str = field_read!("ZSCORE");

/// A key's tombstone goes once every replica agrees the key is deleted (and the key is
/// still absent): `ARGV[1]` the tombstone's moment.
pub const CLEAN_KEY_BODY: &str = "local key, rem = KEYS[1], KEYS[3]\n\
     local r = redis.call('ZSCORE', rem, key)\n\
     if r and tonumber(r) <= tonumber(ARGV[#ARGV]) and redis.call('EXISTS', key) == 0 then\n\
     \x20 redis.call('ZREM', rem, key)\n\
     \x20 return 1\n\
     end\n\
     return 0\n";

/// The script of a covered write.
pub fn write_body(w: Write) -> &'static str {
    match w {
        Write::Set => SET_BODY,
        Write::Del => DEL_BODY,
        Write::Hset => HSET_BODY,
        Write::Hmset => HMSET_BODY,
        Write::Hdel => HDEL_BODY,
        Write::Sadd => SADD_BODY,
        Write::Srem => SREM_BODY,
        Write::Zadd => ZADD_BODY,
        Write::Zrem => ZREM_BODY,
    }
}

/// The script of a repairable read.
pub fn read_body(r: Read) -> Option<&'static str> {
    match r {
        Read::None => None,
        Read::Get => Some(GET_BODY),
        Read::Hget => Some(HGET_BODY),
        Read::Sismember => Some(SISMEMBER_BODY),
        Read::Zscore => Some(ZSCORE_BODY),
    }
}

/// The header of a rewritten request of `nargs` arguments (the original's), `nkeys` of them
/// keys, run by `body`: `*<nargs+5> EVAL <body> <nkeys+2>`, after which come the original's
/// keys (its bytes), [`meta_keys`], the original's other arguments (its bytes), then
/// [`ts_trailer`]: Dynomite's layout, the command's keys first, so every node routes the
/// script by the command's own key. Returns where the body starts in `out`.
pub fn rewrite_head(body: &str, nargs: u32, nkeys: usize, out: &mut Vec<u8>) -> usize {
    let _ = write!(out, "*{}\r\n$4\r\nEVAL\r\n${}\r\n", nargs + 5, body.len());
    let at = out.len();
    out.extend_from_slice(body.as_bytes());
    out.extend_from_slice(b"\r\n");
    push_num(out, nkeys as u64 + 2);
    at
}

/// The metadata sets, the script's last two keys.
pub fn meta_keys(out: &mut Vec<u8>) {
    push_bulk(out, ADD_SET);
    push_bulk(out, REM_SET);
}

/// The timestamp argument that ends a rewritten request.
pub fn ts_trailer(ts: u64, out: &mut Vec<u8>) {
    push_num(out, ts);
}

/// A number as a bulk string (written in place: nothing allocated).
fn push_num(out: &mut Vec<u8>, n: u64) {
    let _ = write!(out, "${}\r\n{n}\r\n", count_digits(n));
}

/// How many decimal digits `n` has.
pub fn count_digits(mut n: u64) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

/// A versioned reply: `[status, ts, value]` or `[status, ts, value, expire]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Versioned {
    /// `E`, `R` or `X`.
    pub status: u8,
    pub ts: u64,
    /// The value element's bytes in the reply (what the client gets).
    pub value: Range<usize>,
    /// The value is a null.
    pub nil: bool,
    /// The value as text: a bulk string's data, or an integer's digits.
    pub data: Range<usize>,
    /// A string's absolute expiry in ms; -1 none or not reported.
    pub expire: i64,
}

/// Read a versioned reply; `None` for anything else (an error reply, say).
pub fn parse_versioned(reply: &[u8]) -> Option<Versioned> {
    let mut w = Walker::new(reply);
    let n = match w.next_token().ok()? {
        Token::Open { ty: b'*', count } if count == 3 || count == 4 => count,
        _ => return None,
    };
    let status = match w.next_token().ok()? {
        Token::Blob {
            ty: b'$',
            data: [s @ (b'E' | b'R' | b'X')],
        } => *s,
        _ => return None,
    };
    let ts = match w.next_token().ok()? {
        Token::Blob { ty: b'$', data } => parse_ts(data)?,
        Token::Int(i) if i >= 0 => i as u64,
        _ => return None,
    };
    let start = w.pos();
    let (nil, data) = match w.next_token().ok()? {
        Token::Null { .. } => (true, 0..0),
        Token::Blob { ty: b'$', data } => (false, sub_range(reply, data)),
        Token::Int(_) => {
            let text = &reply[start + 1..w.pos() - 2];
            (false, sub_range(reply, text))
        }
        _ => return None,
    };
    let value = start..w.pos();
    let expire = if n == 4 {
        match w.next_token().ok()? {
            Token::Int(e) => e,
            _ => return None,
        }
    } else {
        -1
    };
    match w.next_token().ok()? {
        Token::End { .. } if w.pos() == reply.len() => {}
        _ => return None,
    }
    Some(Versioned {
        status,
        ts,
        value,
        nil,
        data,
        expire,
    })
}

fn sub_range(whole: &[u8], part: &[u8]) -> Range<usize> {
    let start = part.as_ptr() as usize - whole.as_ptr() as usize;
    start..start + part.len()
}

/// A sorted-set score as Redis prints it: an integer, or a float of one (`1.7e+12`).
fn parse_ts(text: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(text).ok()?;
    if let Ok(n) = s.parse::<u64>() {
        return Some(n);
    }
    let f: f64 = s.parse().ok()?;
    (f.is_finite() && f >= 0.0).then_some(f as u64)
}

/// What the versioned replies of one read decide.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The reply whose value answers the client; `None`: no timestamp decides (nothing was
    /// recorded, or the newest replies disagree), the values' quorum does.
    pub winner: Option<usize>,
    /// Replies (by index) behind the winner: a repair write goes to each.
    pub stale: Vec<usize>,
    /// Every reply is in, and agrees the key (or field) is deleted: its tombstone may go.
    pub agreed_deleted: bool,
}

/// Decide over the replies of one read, in part order: `None` for a part that failed or
/// did not answer a versioned reply; `value(i)` is part `i`'s value bytes.
pub fn decide<'a>(parts: &[Option<Versioned>], value: impl Fn(usize) -> &'a [u8]) -> Outcome {
    let mut out = Outcome::default();
    let newest = parts
        .iter()
        .flatten()
        .filter(|v| v.status != b'X')
        .map(|v| v.ts)
        .max();
    let Some(newest) = newest else {
        return out;
    };
    let mut winner: Option<usize> = None;
    for (i, p) in parts.iter().enumerate() {
        let Some(v) = p else { continue };
        if v.status == b'X' || v.ts < newest {
            out.stale.push(i);
            continue;
        }
        match winner {
            None => winner = Some(i),
            Some(w) => {
                let wv = parts[w].as_ref().expect("winner is a reply");
                if wv.status != v.status || value(w) != value(i) {
                    // Two different changes at the same moment: no timestamp decides.
                    return Outcome::default();
                }
            }
        }
    }
    out.winner = winner;
    let w = parts[winner.expect("the newest is a reply")]
        .as_ref()
        .expect("a reply");
    out.agreed_deleted = w.status == b'R'
        && w.nil
        && out.stale.is_empty()
        && parts.iter().all(|p| p.as_ref().is_some_and(|v| v.nil));
    out
}

/// The write that brings a stale replica to the winner `w` (of `reply`): the winner's
/// value with the winner's moment, for `key` (and `field`). False when the winner's value
/// is not one this read's repair can write.
pub fn repair_request(
    read: Read,
    key: &[u8],
    field: &[u8],
    reply: &[u8],
    w: &Versioned,
    out: &mut Vec<u8>,
) -> bool {
    let data = &reply[w.data.clone()];
    let mut args: Vec<&[u8]> = Vec::with_capacity(4);
    let mut expire = Vec::new();
    let body = match read {
        Read::None => return false,
        Read::Get if w.nil => DEL_BODY,
        Read::Get => {
            args.push(data);
            if w.expire > 0 {
                args.push(b"PXAT");
                expire = w.expire.to_string().into_bytes();
            }
            SET_BODY
        }
        Read::Hget if w.nil => {
            args.push(field);
            HDEL_BODY
        }
        Read::Hget => {
            args.push(field);
            args.push(data);
            HSET_BODY
        }
        Read::Sismember => {
            args.push(field);
            match data {
                b"1" => SADD_BODY,
                b"0" => SREM_BODY,
                _ => return false,
            }
        }
        Read::Zscore if w.nil => {
            args.push(field);
            ZREM_BODY
        }
        Read::Zscore => {
            args.push(data);
            args.push(field);
            ZADD_BODY
        }
    };
    if !expire.is_empty() {
        args.push(&expire);
    }
    script_request(body, key, &args, w.ts, out);
    true
}

/// The tombstone clean-up for a `GET` whose replicas all agree the key was deleted at `ts`
/// (field reads clean nothing: the tombstone that decides them may be the key's, which
/// another field of the key may still need).
pub fn cleanup_request(key: &[u8], ts: u64, out: &mut Vec<u8>) {
    script_request(CLEAN_KEY_BODY, key, &[], ts, out);
}

/// `EVAL body 3 key ._add-set ._rem-set args... ts`, whole.
fn script_request(body: &str, key: &[u8], args: &[&[u8]], ts: u64, out: &mut Vec<u8>) {
    out.clear();
    rewrite_head(body, 2 + args.len() as u32, 1, out);
    push_bulk(out, key);
    meta_keys(out);
    for a in args {
        push_bulk(out, a);
    }
    ts_trailer(ts, out);
}

#[cfg(test)]
mod tests;
