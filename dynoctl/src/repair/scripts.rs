//! The Lua scripts repair runs on the datastores, and the reading of their replies (pure).
//!
//! Values never cross the network to be compared: each datastore digests its own keys.
//! A digest is `TYPE PEXPIRETIME COUNT HASH` (`""` when there is no key):
//!
//! - the absolute expiry in ms (`-1`: none), since dynomited replicates expirations as
//!   absolute moments, so every rack holds the same one;
//! - strings: SHA1 of the value; lists, sorted sets (by score, then member) and streams
//!   (entries by ID, then the last generated ID): SHA1 over the elements in their own
//!   order, length-prefixed, chained over chunks of 500; sorted-set scores are written as
//!   `%.17g` of the double, so servers that print doubles differently agree;
//! - sets and hashes, whose member order depends on the server's hash seed: the XOR of the
//!   members' (fields' and values') SHA1s, which no order changes;
//! - any other type (a module's): SHA1 of `DUMP`, which may differ between servers holding
//!   the same value (then it is reported every time, and repaired to the same bytes).
//!
//! The writes compare and replace in one script on the target: the key's digest must still be
//! the one the second look saw, else nothing is written ("changed meanwhile").

use dynomite::client::Reply;

use super::decide::Seen;

/// The digest function and its helpers, shared by the scripts that need it.
const DIGEST_FN: &str = r#"
local function lp(s) return #s .. ':' .. s end
local function mix(acc, hex)
  for i = 0, 4 do
    acc[i + 1] = bit.bxor(acc[i + 1], tonumber(string.sub(hex, i * 8 + 1, i * 8 + 8), 16))
  end
end
local function unordered(acc)
  local t = {}
  for i = 1, 5 do t[i] = bit.tohex(acc[i], 8) end
  return table.concat(t)
end
local function chained(h, part)
  for j = 1, #part do part[j] = lp(part[j]) end
  return redis.sha1hex(h .. table.concat(part))
end
local function digest(key)
  local ty = redis.call('TYPE', key)['ok']
  if ty == 'none' then return '' end
  local exp = redis.call('PEXPIRETIME', key)
  local n, h = 1, ''
  if ty == 'string' then
    h = redis.sha1hex(redis.call('GET', key))
  elseif ty == 'list' then
    n = redis.call('LLEN', key)
    for i = 0, n - 1, 500 do
      h = chained(h, redis.call('LRANGE', key, i, i + 499))
    end
  elseif ty == 'zset' then
    n = redis.call('ZCARD', key)
    for i = 0, n - 1, 500 do
      local part = redis.call('ZRANGE', key, i, i + 499, 'WITHSCORES')
      for j = 2, #part, 2 do part[j] = string.format('%.17g', tonumber(part[j])) end
      h = chained(h, part)
    end
  elseif ty == 'set' then
    local acc = {0, 0, 0, 0, 0}
    local m = redis.call('SMEMBERS', key)
    n = #m
    for i = 1, n do mix(acc, redis.sha1hex(m[i])) end
    h = unordered(acc)
  elseif ty == 'hash' then
    local acc = {0, 0, 0, 0, 0}
    local m = redis.call('HGETALL', key)
    n = #m / 2
    for i = 1, #m, 2 do mix(acc, redis.sha1hex(lp(m[i]) .. m[i + 1])) end
    h = unordered(acc)
  elseif ty == 'stream' then
    n = redis.call('XLEN', key)
    local start = '-'
    while true do
      local part = redis.call('XRANGE', key, start, '+', 'COUNT', 200)
      if #part == 0 then break end
      local t = {}
      for j = 1, #part do
        t[#t + 1] = part[j][1]
        for k = 1, #part[j][2] do t[#t + 1] = part[j][2][k] end
      end
      h = chained(h, t)
      start = '(' .. part[#part][1]
    end
    local info = redis.call('XINFO', 'STREAM', key)
    for j = 1, #info - 1, 2 do
      if info[j] == 'last-generated-id' then h = h .. ' ' .. info[j + 1] end
    end
  else
    h = redis.sha1hex(redis.call('DUMP', key))
  end
  return ty .. ' ' .. exp .. ' ' .. n .. ' ' .. h
end
"#;

/// KEYS: the keys; ARGV[1]: `1` when the node holds field sets (`._add-set_<key>`,
/// `._rem-set_<key>`; they are looked for per key only then, or when `._add-set` or
/// `._rem-set` exists). Per key: its digest, the newest write and the delete the read-repair
/// metadata records for it on this node (`""` when none).
const DIGEST_BODY: &str = r#"
local function newest(a, b)
  if b == nil or b == false or b == '' then return a end
  if a == '' or tonumber(b) > tonumber(a) then return b end
  return a
end
local function top(set)
  local r = redis.pcall('ZRANGE', set, -1, -1, 'WITHSCORES')
  if type(r) == 'table' and r[2] then return r[2] end
  return ''
end
local meta = redis.call('EXISTS', '._add-set', '._rem-set') > 0
local fields = meta or ARGV[1] == '1'
local out = {}
for i = 1, #KEYS do
  local k = KEYS[i]
  local w, d = '', ''
  if meta then
    w = newest(w, redis.pcall('ZSCORE', '._add-set', k))
    d = newest(d, redis.pcall('ZSCORE', '._rem-set', k))
  end
  if fields and redis.call('EXISTS', '._add-set_' .. k, '._rem-set_' .. k) > 0 then
    w = newest(w, top('._add-set_' .. k))
    w = newest(w, top('._rem-set_' .. k))
  end
  out[#out + 1] = digest(k)
  out[#out + 1] = w
  out[#out + 1] = d
end
return out
"#;

/// KEYS: the keys. Per key: 1 when it exists, else 0.
pub const EXISTS: &str = r#"
local out = {}
for i = 1, #KEYS do out[i] = redis.call('EXISTS', KEYS[i]) end
return out
"#;

/// KEYS: the keys; ARGV: their expected digests. Per key: its DUMP and absolute expiry (`0`
/// for none) when its digest is the expected one, else `""` and `0`.
const FETCH_BODY: &str = r#"
local out = {}
for i = 1, #KEYS do
  local k = KEYS[i]
  if digest(k) == ARGV[i] then
    out[#out + 1] = redis.call('DUMP', k)
    local e = redis.call('PEXPIRETIME', k)
    if e < 0 then e = 0 end
    out[#out + 1] = tostring(e)
  else
    out[#out + 1] = ''
    out[#out + 1] = '0'
  end
end
return out
"#;

/// KEYS: the keys; ARGV: per key its expected digest, the absolute expiry to restore with
/// and the DUMP payload (`""`: delete). Per key: 1 written, 0 changed meanwhile (its digest
/// is not the expected one: nothing written), or the error text of RESTORE.
const APPLY_BODY: &str = r#"
local out = {}
for i = 1, #KEYS do
  local k = KEYS[i]
  local j = (i - 1) * 3
  if digest(k) ~= ARGV[j + 1] then
    out[i] = 0
  elseif ARGV[j + 3] == '' then
    redis.call('DEL', k)
    out[i] = 1
  else
    local r = redis.pcall('RESTORE', k, ARGV[j + 2], ARGV[j + 3], 'REPLACE', 'ABSTTL')
    if type(r) == 'table' and r.err then out[i] = r.err else out[i] = 1 end
  end
end
return out
"#;

/// KEYS[1]: `._add-set`; ARGV[1]: `1` to count only; ARGV[2..]: members. Removes (or
/// counts) the members whose key does not exist.
pub const TRIM_MEMBERS: &str = r#"
local n = 0
for i = 2, #ARGV do
  if redis.call('EXISTS', ARGV[i]) == 0 then
    n = n + 1
    if ARGV[1] ~= '1' then redis.call('ZREM', KEYS[1], ARGV[i]) end
  end
end
return n
"#;

/// ARGV[1]: `1` to count only; ARGV[2..]: `._add-set_<key>` / `._rem-set_<key>` names.
/// Deletes (or counts) those whose `<key>` does not exist.
pub const TRIM_SETS: &str = r#"
local n = 0
for i = 2, #ARGV do
  local name = ARGV[i]
  if redis.call('EXISTS', string.sub(name, 11)) == 0 then
    n = n + 1
    if ARGV[1] ~= '1' then redis.call('DEL', name) end
  end
end
return n
"#;

/// The digest script's body.
pub fn digest() -> String {
    format!("{DIGEST_FN}{DIGEST_BODY}")
}

/// The winner's read script's body.
pub fn fetch() -> String {
    format!("{DIGEST_FN}{FETCH_BODY}")
}

/// The target's compare-and-replace script's body.
pub fn apply() -> String {
    format!("{DIGEST_FN}{APPLY_BODY}")
}

/// The read-repair metadata keys: per node, never compared or copied.
pub fn is_metadata(key: &[u8]) -> bool {
    key.starts_with(b"._add-set") || key.starts_with(b"._rem-set")
}

/// The elements of an array reply of `n` elements.
fn elements(reply: Reply, n: usize, what: &str) -> Result<Vec<Reply>, String> {
    match reply {
        Reply::Array(Some(v)) if v.len() == n => Ok(v),
        Reply::Error(e) => Err(format!("{what} answered -{e}")),
        other => Err(format!("{what}: unexpected reply {}", short(&other))),
    }
}

fn short(r: &Reply) -> String {
    let mut s = format!("{r:?}");
    if s.len() > 80 {
        let mut end = 80;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push_str("...");
    }
    s
}

fn text(r: Reply) -> Result<String, String> {
    match r {
        Reply::Bulk(Some(b)) => String::from_utf8(b).map_err(|_| "not text".to_string()),
        Reply::Bulk(None) => Ok(String::new()),
        other => Err(format!("unexpected element {}", short(&other))),
    }
}

fn bytes(r: Reply) -> Result<Vec<u8>, String> {
    match r {
        Reply::Bulk(Some(b)) => Ok(b),
        Reply::Bulk(None) => Ok(Vec::new()),
        other => Err(format!("unexpected element {}", short(&other))),
    }
}

/// A score as the metadata holds it: ms, possibly written as a double.
fn millis(s: &str) -> Option<u64> {
    let f: f64 = s.trim().parse().ok()?;
    (f.is_finite() && f >= 0.0).then_some(f as u64)
}

/// The digest script's reply for `n` keys.
pub fn read_digests(reply: Reply, n: usize) -> Result<Vec<Seen>, String> {
    let v = elements(reply, 3 * n, "the digest script")?;
    let mut out = Vec::with_capacity(n);
    let mut it = v.into_iter();
    while let (Some(d), Some(w), Some(r)) = (it.next(), it.next(), it.next()) {
        let d = text(d)?;
        out.push(Seen {
            digest: (!d.is_empty()).then_some(d),
            written: millis(&text(w)?),
            deleted: millis(&text(r)?),
        });
    }
    Ok(out)
}

/// The exists script's reply for `n` keys.
pub fn read_exists(reply: Reply, n: usize) -> Result<Vec<bool>, String> {
    elements(reply, n, "the exists script")?
        .into_iter()
        .map(|r| match r {
            Reply::Int(i) => Ok(i != 0),
            other => Err(format!("unexpected element {}", short(&other))),
        })
        .collect()
}

/// The winner's payload for a key: `None` when it changed since the second look.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payload {
    pub dump: Vec<u8>,
    /// Absolute expiry in ms, 0 for none.
    pub expiry: String,
}

/// The fetch script's reply for `n` keys.
pub fn read_fetch(reply: Reply, n: usize) -> Result<Vec<Option<Payload>>, String> {
    let v = elements(reply, 2 * n, "the fetch script")?;
    let mut out = Vec::with_capacity(n);
    let mut it = v.into_iter();
    while let (Some(d), Some(e)) = (it.next(), it.next()) {
        let dump = bytes(d)?;
        let expiry = text(e)?;
        out.push((!dump.is_empty()).then_some(Payload { dump, expiry }));
    }
    Ok(out)
}

/// What the compare-and-replace did to one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    Written,
    ChangedMeanwhile,
    /// RESTORE's error.
    Failed(String),
}

/// The apply script's reply for `n` keys.
pub fn read_apply(reply: Reply, n: usize) -> Result<Vec<Applied>, String> {
    elements(reply, n, "the apply script")?
        .into_iter()
        .map(|r| match r {
            Reply::Int(1) => Ok(Applied::Written),
            Reply::Int(0) => Ok(Applied::ChangedMeanwhile),
            Reply::Bulk(Some(e)) => Ok(Applied::Failed(String::from_utf8_lossy(&e).into_owned())),
            other => Err(format!("unexpected element {}", short(&other))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Reply {
        Reply::Bulk(Some(s.as_bytes().to_vec()))
    }

    #[test]
    fn digests_with_and_without_metadata() {
        let r = Reply::Array(Some(vec![
            bulk("string -1 1 abc"),
            bulk(""),
            bulk(""),
            bulk(""),
            bulk("1700000000123"),
            bulk("1.7000000002e+12"),
        ]));
        let seen = read_digests(r, 2).unwrap();
        assert_eq!(seen[0], Seen::value("string -1 1 abc"));
        assert_eq!(
            seen[1],
            Seen {
                digest: None,
                written: Some(1_700_000_000_123),
                deleted: Some(1_700_000_000_200),
            }
        );
        assert!(read_digests(Reply::Array(Some(vec![bulk("x")])), 1).is_err());
        let e = read_digests(Reply::Error("NOSCRIPT x".into()), 1).unwrap_err();
        assert!(e.contains("-NOSCRIPT"), "{e}");
    }

    #[test]
    fn exists_fetch_and_apply_replies() {
        let r = Reply::Array(Some(vec![Reply::Int(1), Reply::Int(0)]));
        assert_eq!(read_exists(r, 2).unwrap(), [true, false]);
        let r = Reply::Array(Some(vec![bulk("\x00dump"), bulk("0"), bulk(""), bulk("0")]));
        assert_eq!(
            read_fetch(r, 2).unwrap(),
            [
                Some(Payload {
                    dump: b"\x00dump".to_vec(),
                    expiry: "0".into()
                }),
                None
            ]
        );
        let r = Reply::Array(Some(vec![
            Reply::Int(1),
            Reply::Int(0),
            bulk("ERR DUMP payload version or checksum are wrong"),
        ]));
        assert_eq!(
            read_apply(r, 3).unwrap(),
            [
                Applied::Written,
                Applied::ChangedMeanwhile,
                Applied::Failed("ERR DUMP payload version or checksum are wrong".into())
            ]
        );
    }

    #[test]
    fn metadata_keys_are_the_proxys() {
        assert!(is_metadata(b"._add-set"));
        assert!(is_metadata(b"._rem-set_user:1"));
        assert!(!is_metadata(b"user:._add-set"));
        assert!(!is_metadata(b"._add"));
    }
}
