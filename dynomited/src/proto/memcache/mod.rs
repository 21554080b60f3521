//! Memcached ASCII protocol: the command table, the request and reply parsers, and the one place
//! a rejected request becomes the client's error reply.
//!
//! Requests (one command line, `\r\n` or a bare `\n` at its end, tokens separated by spaces):
//!
//! ```text
//!   get|gets <key>+                                   keys: 1..=250 bytes, no control chars
//!   gat|gats <exptime> <key>+
//!   set|add|replace|append|prepend <key> <flags> <exptime> <bytes> [noreply]\r\n<data>\r\n
//!   cas <key> <flags> <exptime> <bytes> <cas unique> [noreply]\r\n<data>\r\n
//!   incr|decr <key> <delta> [noreply]
//!   delete <key> [0] [noreply]
//!   touch <key> <exptime> [noreply]
//!   flush_all [<delay>] [noreply]                     (only with `allow_flush: true`)
//!   verbosity <level> [noreply]                       (answered by the proxy: `OK`)
//!   stats [<args>]
//!   version | quit
//! ```
//!
//! Replies: `VALUE <key> <flags> <bytes> [<cas>]\r\n<data>\r\n` blocks closed by `END\r\n` (the
//! whole run is one message), or one line: `STORED`, `NOT_STORED`, `EXISTS`, `NOT_FOUND`,
//! `DELETED`, `TOUCHED`, `OK`, `RESET`, a number, `VERSION <x>`, `ERROR`, `CLIENT_ERROR <text>`,
//! `SERVER_ERROR <text>`; or `STAT <name> <value>` lines (also `ITEM`, `PREFIX`) closed by `END`.
//!
//! # What memcached does, and what we do
//!
//! Checked against memcached 1.6.18 over a raw socket (`proto_text.c` for the reasons):
//!
//! - An unknown command, a command name shorter than two bytes, an empty line, a known command
//!   with the wrong number of tokens: `ERROR`. Names are case-sensitive (`GET k` is `ERROR`).
//! - A key longer than 250 bytes, or a non-numeric `<flags>`/`<exptime>`/`<bytes>`/`<cas>`:
//!   `CLIENT_ERROR bad command line format`. Memcached does *not* skip the data block then (it
//!   cannot know its length), so the next line is read as a command, usually answered `ERROR`:
//!   `set k 0 0 x\r\nhello\r\n` gets `CLIENT_ERROR bad command line format\r\nERROR\r\n`.
//!   We frame it the same way: the bad line is one message, the data line the next one.
//! - `incr k x`: `CLIENT_ERROR invalid numeric delta argument`; `touch k x`, `gat x k`:
//!   `CLIENT_ERROR invalid exptime argument`; `delete k 1`: `CLIENT_ERROR bad command line
//!   format.  Usage: delete <key> [noreply]` (two spaces; `delete k 0` is the legacy form).
//! - A data block not followed by `\r\n`: memcached reads exactly `<bytes>` + 2 bytes, answers
//!   `CLIENT_ERROR bad data chunk` and parses on right after them, *not* at the next line:
//!   `set k 0 0 5\r\nhello world\r\n` gets `CLIENT_ERROR bad data chunk\r\nERROR\r\n` (the
//!   `orld` line is the `ERROR`). We do exactly that; the connection stays usable.
//! - A command line longer than 2048 bytes (everything before the `\n`): memcached closes the
//!   connection when it has read 2049 bytes without a `\n`, unless the line starts (after at
//!   most 100 spaces) with `get ` or `gets `. We answer `CLIENT_ERROR line too long` (our text)
//!   and resume at the next line; `get`/`gets` lines may be up to [`RETRIEVAL_LINE_MAX`].
//! - `noreply` is the last token, compared exactly. When memcached has seen it, it suppresses
//!   *every* reply to that request, error replies included (`set k 0 0 noreply` answers
//!   nothing, then the data line gets `ERROR`). [`ReqInfo::noreply`](crate::proto::ReqInfo) is
//!   set exactly when memcached would have set it, also on requests that carry an error: the
//!   runtime must then send nothing, or a `noreply` client reads the error as the reply to its
//!   next request.
//! - A trailing extra token that is not `noreply` (`set k 0 0 1 foo`) is ignored, as memcached
//!   ignores it.
//!
//! Where we are stricter than memcached (such requests get an error and are never forwarded,
//! so the proxy and the datastore can never disagree on where a request ends). A randomised
//! differential run against memcached 1.6.18 (12 000 mutated pipelines) found no other
//! difference; `tests/live.rs` replays a corpus against a live memcached on demand.
//! - keys with control characters (memcached takes `k\x01`, and cuts a key at a NUL); a `\r`
//!   that is not right before the `\n` is such a byte (memcached agrees that it ends no line);
//! - numbers in other shapes than `[+]digits` (`[+-]digits` for `<exptime>`), or out of the
//!   range of their C type: memcached's `strtol` also takes `-0`, a leading tab and anything
//!   after a `\t`/`\r` (`0\t` is 0), and it silently truncates `<flags>` 4294967296 to 0;
//! - `gat <exptime>` with no key (memcached answers `END`; we answer `ERROR`: nothing to route);
//! - `get`/`gets` lines longer than [`RETRIEVAL_LINE_MAX`] (memcached has no limit).

mod reply;
mod request;
#[cfg(test)]
mod tests;

pub use reply::{RspParser, RSP_LINE_MAX};
pub use request::ReqParser;

use super::ReqError;

/// Longest key memcached accepts (`KEY_MAX_LENGTH`).
pub const KEY_MAX: usize = 250;

/// Longest command line (bytes before its `\n`, a `\r` included) memcached reads without closing
/// the connection, `get`/`gets` lines excepted (`try_read_command_ascii`).
pub const LINE_MAX: usize = 2048;

/// Our bound on a `get`/`gets` line (memcached has none): about 4000 keys of 250 bytes.
pub const RETRIEVAL_LINE_MAX: usize = 1 << 20;

/// Largest `<bytes>` memcached accepts (`INT_MAX - 2`); its item size limit (`-I`, 1 MiB by
/// default) is enforced by memcached itself (`SERVER_ERROR object too large for cache`).
pub const VALUE_MAX: u64 = i32::MAX as u64 - 2;

/// `CLIENT_ERROR` texts, word for word as memcached 1.6 prints them (except `LINE_TOO_LONG`,
/// where memcached closes the connection).
pub mod text {
    pub const BAD_FORMAT: &str = "bad command line format";
    pub const BAD_DELETE: &str = "bad command line format.  Usage: delete <key> [noreply]";
    pub const BAD_EXPTIME: &str = "invalid exptime argument";
    pub const BAD_DELTA: &str = "invalid numeric delta argument";
    pub const BAD_CHUNK: &str = "bad data chunk";
    pub const LINE_TOO_LONG: &str = "line too long";
}

/// Commands the proxy parses. Anything else is `ReqError::UnknownCommand` (memcached's
/// `ERROR`); the other admin commands (`shutdown`, `cache_memlimit`, `slabs`, `lru_crawler`,
/// ...) and the meta commands (`mg`, `ms`, ...: quiet mode and base64 keys need their own
/// routing) are not forwarded.
#[repr(u16)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cmd {
    Get = 1,
    Gets,
    Set,
    Add,
    Replace,
    Append,
    Prepend,
    Cas,
    Incr,
    Decr,
    Delete,
    Touch,
    Quit,
    /// Get and touch: `gat <exptime> <key>+`; a write (it changes the expiry).
    Gat,
    Gats,
    /// Keyless; answered by the local datastore (`VERSION 1.6.18`).
    Version,
    /// `flush_all [delay] [noreply]`: every datastore of every rack, when `allow_flush` is on.
    FlushAll,
    /// `stats [args]`: the rack's datastores' figures and the proxy's own counters.
    Stats,
    /// `verbosity <level> [noreply]`: answered `OK` by the proxy (memcached takes any level).
    Verbosity,
}

impl Cmd {
    /// Every command, in `repr` order (`ALL[i] as u16 == i + 1`).
    pub const ALL: [Cmd; 19] = [
        Cmd::Get,
        Cmd::Gets,
        Cmd::Set,
        Cmd::Add,
        Cmd::Replace,
        Cmd::Append,
        Cmd::Prepend,
        Cmd::Cas,
        Cmd::Incr,
        Cmd::Decr,
        Cmd::Delete,
        Cmd::Touch,
        Cmd::Quit,
        Cmd::Gat,
        Cmd::Gats,
        Cmd::Version,
        Cmd::FlushAll,
        Cmd::Stats,
        Cmd::Verbosity,
    ];

    /// The command with this id (`ReqInfo::cmd`); `None` for 0 and unknown ids.
    pub fn from_u16(v: u16) -> Option<Cmd> {
        Cmd::ALL.get(usize::from(v).wrapping_sub(1)).copied()
    }

    /// The command as sent on the wire (lower case).
    pub fn name(self) -> &'static str {
        match self {
            Cmd::Get => "get",
            Cmd::Gets => "gets",
            Cmd::Set => "set",
            Cmd::Add => "add",
            Cmd::Replace => "replace",
            Cmd::Append => "append",
            Cmd::Prepend => "prepend",
            Cmd::Cas => "cas",
            Cmd::Incr => "incr",
            Cmd::Decr => "decr",
            Cmd::Delete => "delete",
            Cmd::Touch => "touch",
            Cmd::Quit => "quit",
            Cmd::Gat => "gat",
            Cmd::Gats => "gats",
            Cmd::Version => "version",
            Cmd::FlushAll => "flush_all",
            Cmd::Stats => "stats",
            Cmd::Verbosity => "verbosity",
        }
    }

    /// Look a command name up, exactly as sent (memcached is case-sensitive).
    pub fn from_name(name: &[u8]) -> Option<Cmd> {
        Some(match name {
            b"get" => Cmd::Get,
            b"gets" => Cmd::Gets,
            b"set" => Cmd::Set,
            b"add" => Cmd::Add,
            b"replace" => Cmd::Replace,
            b"append" => Cmd::Append,
            b"prepend" => Cmd::Prepend,
            b"cas" => Cmd::Cas,
            b"incr" => Cmd::Incr,
            b"decr" => Cmd::Decr,
            b"delete" => Cmd::Delete,
            b"touch" => Cmd::Touch,
            b"quit" => Cmd::Quit,
            b"gat" => Cmd::Gat,
            b"gats" => Cmd::Gats,
            b"version" => Cmd::Version,
            b"flush_all" => Cmd::FlushAll,
            b"stats" => Cmd::Stats,
            b"verbosity" => Cmd::Verbosity,
            _ => return None,
        })
    }

    /// Reads (Dynomite's classification): `get`, `gets`, and the keyless `version`,
    /// `stats`, `verbosity`. Everything else is a write; `gat`/`gats` are writes because they
    /// change the expiry.
    pub fn is_read(self) -> bool {
        matches!(
            self,
            Cmd::Get | Cmd::Gets | Cmd::Version | Cmd::Stats | Cmd::Verbosity
        )
    }

    /// Storage commands: a data block follows the command line.
    pub fn is_storage(self) -> bool {
        matches!(
            self,
            Cmd::Set | Cmd::Add | Cmd::Replace | Cmd::Append | Cmd::Prepend | Cmd::Cas
        )
    }

    /// Multi-key retrievals (`get`, `gets`, `gat`, `gats`): the reply is `VALUE` blocks and one
    /// `END`, so a request split by node is answered by merging the blocks.
    pub fn is_retrieval(self) -> bool {
        matches!(self, Cmd::Get | Cmd::Gets | Cmd::Gat | Cmd::Gats)
    }
}

/// The one place a [`ReqError`] becomes the client's reply: `ERROR\r\n` for an unknown command
/// or a wrong number of tokens (what memcached says), `CLIENT_ERROR <text>\r\n` for the rest.
///
/// A request with `ReqInfo::noreply` set must get no reply at all, not even this one: that is
/// what memcached does, and what a `noreply` client expects.
pub fn req_error_reply(err: &ReqError, out: &mut Vec<u8>) {
    match err {
        ReqError::UnknownCommand(_) | ReqError::WrongArity(_) => {
            out.extend_from_slice(b"ERROR\r\n");
        }
        ReqError::Unsupported(name) => {
            out.extend_from_slice(b"CLIENT_ERROR unsupported command ");
            push_printable(name.as_bytes(), out);
            out.extend_from_slice(b"\r\n");
        }
        ReqError::Protocol(t) | ReqError::Client(t) => {
            out.extend_from_slice(b"CLIENT_ERROR ");
            push_printable(t.as_bytes(), out);
            out.extend_from_slice(b"\r\n");
        }
    }
}

/// Copy `s` into a one-line reply: control characters become `?`.
fn push_printable(s: &[u8], out: &mut Vec<u8>) {
    out.extend(
        s.iter()
            .map(|&b| if b < 0x20 || b == 0x7f { b'?' } else { b }),
    );
}
