//! The command a Redis request names, as the parser learns it: the name and a container's
//! subcommand looked up in the table, the arity checked, and where the keys are (positional
//! first/last/step, or a `numkeys` argument), so every key's span is recorded as it passes.

use super::super::commands::{lookup_buf, lookup_sub, CmdSpec, Route};
use super::ReqParser;
use crate::proto::{ReqError, ReqInfo, NAME_MAX};

/// Whether `i` is a key position of `s` in a request of `nargs` arguments (`None`: not known
/// yet; a negative last key then bounds nothing and the caller trims at the end).
pub(super) fn is_key(s: &CmdSpec, i: u32, nargs: Option<u32>, numkeys: u32) -> bool {
    let i = i64::from(i);
    if s.first_key > 0 {
        let first = i64::from(s.first_key);
        let step = i64::from(s.step.max(1));
        let last = if s.last_key >= 0 {
            Some(i64::from(s.last_key))
        } else {
            nargs.map(|n| i64::from(n) + i64::from(s.last_key))
        };
        if i >= first && (step == 1 || (i - first) % step == 0) && !matches!(last, Some(l) if i > l)
        {
            return true;
        }
    }
    if s.keynum_arg > 0 {
        let k = i64::from(s.keynum_arg);
        if i > k && i <= k + i64::from(numkeys) {
            return true;
        }
    }
    false
}

/// How many positional keys `s` has in a request of `nargs` arguments.
pub(super) fn range_key_count(s: &CmdSpec, nargs: u32) -> usize {
    if s.first_key <= 0 {
        return 0;
    }
    let first = i64::from(s.first_key);
    let last = if s.last_key >= 0 {
        i64::from(s.last_key)
    } else {
        i64::from(nargs) + i64::from(s.last_key)
    }
    .min(i64::from(nargs) - 1);
    if last < first {
        return 0;
    }
    usize::try_from((last - first) / i64::from(s.step.max(1)) + 1).unwrap_or(0)
}

impl ReqParser {
    /// The command name is complete. `more`: a subcommand argument may follow (multi-bulk:
    /// known; inline: assumed until the line ends). `check_arity`: the argument count is known.
    pub(super) fn name_done(&mut self, more: bool, check_arity: bool, info: &mut ReqInfo) {
        let found = if self.name_len <= NAME_MAX {
            lookup_buf(&self.name, self.name_len)
        } else {
            None
        };
        match found {
            None => self.unknown_name(info),
            Some(s) if s.is_container() && more => {
                self.spec = Some(s);
                self.await_sub = true;
            }
            Some(s) => self.found(s, check_arity, info),
        }
    }

    #[cold]
    #[inline(never)]
    pub(super) fn unknown_name(&mut self, info: &mut ReqInfo) {
        let name = &self.name[..self.name_len.min(NAME_MAX)];
        let e = ReqError::UnknownCommand(String::from_utf8_lossy(name).into_owned());
        self.fail_cmd(e, info);
    }

    /// A container's subcommand name (argument 1) is complete.
    pub(super) fn sub_done(&mut self, check_arity: bool, info: &mut ReqInfo) {
        self.await_sub = false;
        let Some(container) = self.spec.take() else {
            return;
        };
        let sub = &self.sub[..self.sub_len.min(NAME_MAX)];
        let found = if self.sub_len <= NAME_MAX {
            lookup_sub(container.name.as_bytes(), sub)
        } else {
            None
        };
        match found {
            Some(s) => self.found(s, check_arity, info),
            None => {
                // Encoded as `container|sub`; `req_error_reply` prints Redis's
                // "unknown subcommand 'sub'. Try CONTAINER HELP." for it.
                let sub = String::from_utf8_lossy(sub);
                let e = ReqError::UnknownCommand(format!("{}|{}", container.name, sub));
                self.fail_cmd(e, info);
            }
        }
    }

    /// `is_key(s, i, Some(self.nargs), self.keys.numkeys)`, with the positional range `found`
    /// computed once per message.
    #[inline(always)]
    pub(super) fn is_key_mb(&self, s: &CmdSpec, i: u32) -> bool {
        if i >= self.keys.lo
            && i <= self.keys.hi
            // (signed: `is_multiple_of` is newer than the 1.80 MSRV)
            && (self.keys.step == 1
                || (i64::from(i) - i64::from(self.keys.lo)) % i64::from(self.keys.step) == 0)
        {
            return true;
        }
        if s.keynum_arg > 0 {
            let k = i64::from(s.keynum_arg);
            let i = i64::from(i);
            return i > k && i <= k + i64::from(self.keys.numkeys);
        }
        false
    }

    pub(super) fn found(&mut self, s: &'static CmdSpec, check_arity: bool, info: &mut ReqInfo) {
        self.spec = Some(s);
        // The positional key range for `is_key_mb` (empty: lo > hi).
        (self.keys.lo, self.keys.hi, self.keys.step) = (1, 0, 1);
        if s.first_key > 0 {
            let last = if s.last_key >= 0 {
                i64::from(s.last_key)
            } else {
                i64::from(self.nargs) + i64::from(s.last_key)
            };
            if last >= i64::from(s.first_key) {
                self.keys.lo = s.first_key as u32;
                self.keys.hi = u32::try_from(last).unwrap_or(u32::MAX);
                self.keys.step = s.step.max(1) as u32;
            }
        }
        if s.route == Route::Unsupported {
            self.unsupported(s, info);
        } else if check_arity {
            self.check_arity(s, self.nargs, info);
        }
    }

    #[cold]
    #[inline(never)]
    pub(super) fn unsupported(&mut self, s: &'static CmdSpec, info: &mut ReqInfo) {
        let name = s.name.to_ascii_uppercase().replace('|', " ");
        self.fail_cmd(ReqError::Unsupported(name), info);
    }

    pub(super) fn check_arity(&mut self, s: &'static CmdSpec, nargs: u32, info: &mut ReqInfo) {
        if !s.arity_ok(nargs) {
            self.wrong_arity(s, info);
        }
    }

    #[cold]
    #[inline(never)]
    pub(super) fn wrong_arity(&mut self, s: &'static CmdSpec, info: &mut ReqInfo) {
        self.fail_cmd(ReqError::WrongArity(s.name.to_string()), info);
    }

    pub(super) fn numkeys_done(&mut self) {
        // Invalid or negative: no keys (redis-server rejects the command itself). Too many:
        // only existing arguments are keys.
        self.keys.numkeys = self
            .keys
            .knum
            .value()
            .map_or(0, |n| u32::try_from(n.max(0)).unwrap_or(u32::MAX));
    }

    /// A well-framed request that cannot be forwarded; the first such error wins.
    pub(super) fn fail_cmd(&mut self, e: ReqError, info: &mut ReqInfo) {
        self.drop = true;
        if info.error.is_none() {
            info.error = Some(e);
        }
    }

    /// A framing error; it replaces any command error.
    pub(super) fn fail_proto(&mut self, e: &'static str, info: &mut ReqInfo) {
        self.drop = true;
        info.error = Some(ReqError::Protocol(e));
    }
}
