//! Relative expirations made absolute before a write is replicated: every rack applies the
//! same moment, however long the copy takes to arrive (a slow cross-DC link would otherwise
//! lengthen the TTL by the replication delay). As Redis itself replicates them to its
//! replicas: `EXPIRE`/`PEXPIRE` become `PEXPIREAT`, `SETEX`/`PSETEX` and `SET ... EX|PX`
//! become `SET ... PXAT`, `GETEX ... EX|PX` becomes `GETEX ... PXAT`, and `RESTORE` with a
//! TTL gets `ABSTTL`.
//!
//! Approximate stream trimming is made exact the same way (Redis replicates it so too, since
//! where `~` cuts depends on each server's `stream-node-max-*` settings): `XADD`/`XTRIM ...
//! MAXLEN|MINID ~ n [LIMIT c]` become `... MAXLEN|MINID = n`, which keeps the `~` promise
//! (at least `n` entries, or none older than the ID) exactly.
//!
//! [`plan`] says what to send instead, as a list of arguments: the request's own (by index,
//! so their bytes are referenced, not copied) or new ones. A request it cannot read for sure
//! (a number that is not one, a value that would overflow, an option it does not know) is
//! sent as it is: the datastore gives its own error, identically in every rack.

use super::commands::id;

/// One argument of the request to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// Argument `i` of the original request.
    Orig(usize),
    /// A command name or option.
    Word(&'static str),
    /// A number.
    Num(i64),
}

const EXPIRE: u16 = id("expire");
const PEXPIRE: u16 = id("pexpire");
const SETEX: u16 = id("setex");
const PSETEX: u16 = id("psetex");
const SET: u16 = id("set");
const GETEX: u16 = id("getex");
const RESTORE: u16 = id("restore");
const XADD: u16 = id("xadd");
const XTRIM: u16 = id("xtrim");

/// Whether a request may carry an approximate trim (`~`) that [`plan`] makes exact.
pub fn may_trim(cmd: u16) -> bool {
    matches!(cmd, XADD | XTRIM)
}

/// Whether a request of `nargs` arguments may carry a relative expiration (the only ones
/// [`plan`] rewrites): a plain `SET k v` does not, and costs nothing here.
pub fn may_expire(cmd: u16, nargs: usize) -> bool {
    match cmd {
        SET => nargs > 3,
        EXPIRE | PEXPIRE | SETEX | PSETEX | GETEX | RESTORE => true,
        _ => false,
    }
}

/// Whether [`plan`] reads argument `i` (it never reads a value or payload, which may be
/// large, nor a stream entry's fields): the caller need not gather the others.
pub fn reads(cmd: u16, i: usize) -> bool {
    match cmd {
        SET => i != 2,
        SETEX | PSETEX | RESTORE => i != 3,
        // XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] n [LIMIT c]] id ...: options end by 8.
        XADD | XTRIM => i <= 8,
        _ => true,
    }
}

fn int(b: &[u8]) -> Option<i64> {
    let t = std::str::from_utf8(b).ok()?;
    if t.is_empty() || t.starts_with('+') || (t.len() > 1 && t.starts_with('0')) {
        return None;
    }
    t.parse().ok()
}

/// `now_ms + n * unit`, if it does not overflow.
fn at(now_ms: i64, n: i64, unit: i64) -> Option<i64> {
    n.checked_mul(unit)?.checked_add(now_ms)
}

/// The arguments to send instead of request `cmd` (`nargs` arguments, name included, each
/// readable with `arg`), with its relative expiration made absolute at `now_ms` (Unix ms),
/// into `out`. False (and `out` unchanged in meaning) when the request goes as it is.
pub fn plan<'a>(
    cmd: u16,
    nargs: usize,
    arg: impl Fn(usize) -> Option<&'a [u8]>,
    now_ms: i64,
    out: &mut Vec<Arg>,
) -> bool {
    out.clear();
    let upper = |i: usize| arg(i).map(|a| a.to_ascii_uppercase());
    match cmd {
        XADD | XTRIM if nargs >= 4 => {
            let mut i = 2;
            if cmd == XADD && upper(i).as_deref() == Some(b"NOMKSTREAM") {
                i += 1;
            }
            if !matches!(upper(i).as_deref(), Some(b"MAXLEN" | b"MINID")) {
                return false;
            }
            let tilde = i + 1;
            if arg(tilde) != Some(b"~") {
                return false; // exact already (or the datastore's error)
            }
            let limit = (upper(tilde + 2).as_deref() == Some(b"LIMIT")).then_some(tilde + 2);
            out.push(Arg::Word(if cmd == XADD { "XADD" } else { "XTRIM" }));
            out.extend((1..tilde).map(Arg::Orig));
            out.extend([Arg::Word("="), Arg::Orig(tilde + 1)]);
            let rest = limit.map_or(tilde + 2, |l| l + 2);
            if rest > nargs {
                out.clear();
                return false; // LIMIT without its count: the datastore's error
            }
            out.extend((rest..nargs).map(Arg::Orig));
            true
        }
        EXPIRE | PEXPIRE if nargs >= 3 => {
            let unit = if cmd == EXPIRE { 1000 } else { 1 };
            let Some(t) = arg(2).and_then(int).and_then(|n| at(now_ms, n, unit)) else {
                return false;
            };
            out.extend([Arg::Word("PEXPIREAT"), Arg::Orig(1), Arg::Num(t)]);
            out.extend((3..nargs).map(Arg::Orig));
            true
        }
        SETEX | PSETEX if nargs == 4 => {
            let unit = if cmd == SETEX { 1000 } else { 1 };
            // A TTL that is not positive is the datastore's error to give.
            let Some(t) = arg(2)
                .and_then(int)
                .filter(|&n| n > 0)
                .and_then(|n| at(now_ms, n, unit))
            else {
                return false;
            };
            out.extend([
                Arg::Word("SET"),
                Arg::Orig(1),
                Arg::Orig(3),
                Arg::Word("PXAT"),
                Arg::Num(t),
            ]);
            true
        }
        SET | GETEX => {
            let first = if cmd == SET { 3 } else { 2 };
            let mut i = first;
            let mut found = None;
            while i < nargs {
                let Some(o) = upper(i) else { return false };
                match o.as_slice() {
                    b"EX" | b"PX" => {
                        let unit = if o == b"EX" { 1000 } else { 1 };
                        let Some(t) = arg(i + 1)
                            .and_then(int)
                            .filter(|&n| n > 0)
                            .and_then(|n| at(now_ms, n, unit))
                        else {
                            return false;
                        };
                        if found.is_some() {
                            return false; // two expirations: the datastore's syntax error
                        }
                        found = Some((i, t));
                        i += 2;
                    }
                    b"EXAT" | b"PXAT" => return false, // absolute already
                    b"NX" | b"XX" | b"GET" | b"KEEPTTL" | b"PERSIST" => i += 1,
                    _ => return false,
                }
            }
            let Some((at_i, t)) = found else { return false };
            out.push(Arg::Word(if cmd == SET { "SET" } else { "GETEX" }));
            out.extend((1..at_i).map(Arg::Orig));
            out.extend([Arg::Word("PXAT"), Arg::Num(t)]);
            out.extend((at_i + 2..nargs).map(Arg::Orig));
            true
        }
        RESTORE if nargs >= 4 => {
            let mut i = 4;
            while i < nargs {
                match upper(i).as_deref() {
                    Some(b"REPLACE") => i += 1,
                    Some(b"ABSTTL") => return false, // absolute already
                    Some(b"IDLETIME") | Some(b"FREQ") => i += 2,
                    _ => return false,
                }
            }
            let Some(t) = arg(2)
                .and_then(int)
                .filter(|&n| n > 0)
                .and_then(|n| at(now_ms, n, 1))
            else {
                return false; // 0: no TTL; negative: the datastore's error
            };
            out.extend([Arg::Word("RESTORE"), Arg::Orig(1), Arg::Num(t)]);
            out.extend((3..nargs).map(Arg::Orig));
            out.push(Arg::Word("ABSTTL"));
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::redis::lookup;

    /// The request `plan` makes of `req` at t = 1000 ms, as words (None: as it is).
    fn planned(req: &[&str]) -> Option<String> {
        let cmd = lookup(req[0].as_bytes()).unwrap().id;
        let mut out = Vec::new();
        plan(
            cmd,
            req.len(),
            |i| req.get(i).map(|a| a.as_bytes()),
            1000,
            &mut out,
        )
        .then(|| {
            out.iter()
                .map(|a| match a {
                    Arg::Orig(i) => req[*i].to_string(),
                    Arg::Word(w) => w.to_string(),
                    Arg::Num(n) => n.to_string(),
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
    }

    #[test]
    fn only_requests_that_may_carry_an_expiry_are_looked_at() {
        assert!(!may_expire(SET, 3), "SET k v");
        assert!(may_expire(SET, 5) && may_expire(EXPIRE, 3) && may_expire(RESTORE, 4));
        assert!(!may_expire(lookup(b"get").unwrap().id, 2));
        assert!(!reads(SET, 2) && reads(SET, 3) && !reads(RESTORE, 3) && reads(EXPIRE, 2));
        assert!(reads(XADD, 8) && !reads(XADD, 9) && may_trim(XTRIM) && !may_trim(SET));
    }

    #[test]
    fn approximate_trims_become_exact() {
        let table: &[(&[&str], Option<&str>)] = &[
            (
                &["XADD", "s", "MAXLEN", "~", "100", "*", "f", "~"],
                Some("XADD s MAXLEN = 100 * f ~"),
            ),
            (
                &[
                    "xadd",
                    "s",
                    "nomkstream",
                    "minid",
                    "~",
                    "5-0",
                    "LIMIT",
                    "10",
                    "*",
                    "f",
                    "v",
                ],
                Some("XADD s nomkstream minid = 5-0 * f v"),
            ),
            (&["XADD", "s", "MAXLEN", "100", "*", "f", "v"], None),
            (&["XADD", "s", "MAXLEN", "=", "100", "*", "f", "v"], None),
            (&["XADD", "s", "*", "MAXLEN", "~"], None), // a field, not an option
            (
                &["XTRIM", "s", "MAXLEN", "~", "7"],
                Some("XTRIM s MAXLEN = 7"),
            ),
            (
                &["XTRIM", "s", "MINID", "~", "7", "LIMIT", "3"],
                Some("XTRIM s MINID = 7"),
            ),
            (&["XTRIM", "s", "MAXLEN", "~", "7", "LIMIT"], None),
        ];
        for (req, want) in table {
            assert_eq!(planned(req).as_deref(), *want, "{req:?}");
        }
    }

    #[test]
    fn relative_becomes_absolute() {
        let table: &[(&[&str], Option<&str>)] = &[
            (&["EXPIRE", "k", "10"], Some("PEXPIREAT k 11000")),
            (&["expire", "k", "10", "NX"], Some("PEXPIREAT k 11000 NX")),
            (&["EXPIRE", "k", "-5"], Some("PEXPIREAT k -4000")),
            (&["PEXPIRE", "k", "250", "gt"], Some("PEXPIREAT k 1250 gt")),
            (&["SETEX", "k", "2", "v"], Some("SET k v PXAT 3000")),
            (&["PSETEX", "k", "5", "v"], Some("SET k v PXAT 1005")),
            (&["SETEX", "k", "0", "v"], None),
            (&["SET", "k", "v", "EX", "3"], Some("SET k v PXAT 4000")),
            (
                &["SET", "k", "v", "nx", "px", "7", "GET"],
                Some("SET k v nx PXAT 1007 GET"),
            ),
            (&["SET", "k", "v"], None),
            (&["SET", "k", "v", "KEEPTTL"], None),
            (&["SET", "k", "v", "PXAT", "5"], None),
            (&["SET", "k", "v", "EX", "x"], None),
            (&["SET", "k", "v", "EX", "1", "PX", "2"], None),
            (&["SET", "k", "v", "EX", "01"], None),
            (&["SET", "k", "v", "BOGUS"], None),
            (&["GETEX", "k", "EX", "1"], Some("GETEX k PXAT 2000")),
            (&["GETEX", "k", "PERSIST"], None),
            (
                &["RESTORE", "k", "100", "payload"],
                Some("RESTORE k 1100 payload ABSTTL"),
            ),
            (
                &["RESTORE", "k", "100", "p", "REPLACE", "IDLETIME", "5"],
                Some("RESTORE k 1100 p REPLACE IDLETIME 5 ABSTTL"),
            ),
            (&["RESTORE", "k", "0", "p"], None),
            (&["RESTORE", "k", "100", "p", "ABSTTL"], None),
            (&["EXPIRE", "k", "9223372036854775807"], None),
            (&["GET", "k"], None),
        ];
        for (req, want) in table {
            assert_eq!(planned(req).as_deref(), *want, "{req:?}");
        }
    }
}
