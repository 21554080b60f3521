//! The parser contract shared by the datastore protocols (Redis RESP, Memcached text).
//!
//! Every parser here is pure, resumable and zero-copy. The runtime reads bytes into pooled
//! mbufs and feeds the parser one contiguous *chunk* at a time (the unparsed tail of an mbuf).
//! A message may span any number of chunks and chunk boundaries may fall anywhere, even inside
//! a `\r\n`. The parser never copies payload bytes; it only records *positions* ([`Span`]s,
//! offsets from the first byte of the current message) and small facts (command id, counts).
//! The one copy allowed is a command name (at most [`NAME_MAX`] bytes) into a fixed inline
//! buffer, so a name that straddles two chunks can still be looked up.
//!
//! ```text
//!   feed(chunk) ──► Done { consumed }   message ends `consumed` bytes into this chunk;
//!                                        the parser is reset for the next message
//!               ──► Incomplete          every byte of the chunk belongs to the message;
//!                                        feed the next chunk
//! ```
//!
//! Malformed input is *not* a separate outcome: the parser skips to the end of the offending
//! line (or, for a bad data block, to where the protocol lets it resynchronise), then reports
//! `Done` with the error recorded in the message info (`ReqInfo::error` / `RspInfo::error`).
//! The runtime answers such a request with the protocol's error reply and keeps the connection.
//! While a parser is discarding bytes it says so ([`Discard`]), so the runtime can drop them
//! instead of keeping them in buffers.
//!
//! A parser must never panic, never loop without consuming input, and must produce the same
//! sequence of messages however the stream is split into chunks.

pub mod error;
pub mod fanout;
pub mod memcache;
pub mod merge;
pub mod redis;

/// Longest command name the parsers copy for lookup; longer names are unknown commands.
pub const NAME_MAX: usize = 32;

/// How many leading arguments (the command name included) a request records positions for.
/// Commands the proxy answers itself (PING, ECHO, HELLO, AUTH, SELECT, CLIENT ...) need no more.
pub const ARGS_MAX: usize = 8;

/// A byte range of the current message: `start` is the offset from the message's first byte.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    pub start: u32,
    pub len: u32,
}

impl Span {
    pub const fn new(start: u32, len: u32) -> Self {
        Span { start, len }
    }
    pub const fn end(&self) -> u32 {
        self.start + self.len
    }
}

/// The outcome of feeding one chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parse {
    /// The current message ends after `consumed` bytes of this chunk (`consumed >= 1`).
    Done { consumed: usize },
    /// The whole chunk was consumed and the message is not finished yet.
    Incomplete,
}

/// Whether the bytes of the message being parsed are worth keeping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Discard {
    Keep,
    /// The message is already known to be malformed; its bytes will never be forwarded.
    Drop,
}

/// Which protocol a connection speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Redis,
    Memcache,
}

/// Why a request cannot be forwarded. Each kind maps to one client-visible reply, produced in one
/// place by the runtime (`Redis`: `-ERR ...`; `Memcache`: `CLIENT_ERROR ...` / `ERROR`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReqError {
    /// Framing is broken; the text says how, in the datastore's own words where it has them,
    /// e.g. Redis `Protocol error: invalid multibulk length`.
    Protocol(&'static str),
    /// A well-formed request whose command the proxy does not know or cannot route.
    /// Carries the command name as sent (at most NAME_MAX bytes, lossily UTF-8).
    UnknownCommand(String),
    /// A known command that cannot work through a sharding proxy (MULTI, SUBSCRIBE, BLPOP, ...).
    Unsupported(String),
    /// Known command, wrong number of arguments (Redis: `wrong number of arguments for 'x' command`).
    WrongArity(String),
    /// Anything else the protocol calls a client error (Memcached `CLIENT_ERROR <text>`).
    Client(&'static str),
}

/// What a request parser learned about one request. Owned by a pooled message object and
/// reused: `clear()` keeps the allocated capacity so steady state does not allocate.
#[derive(Clone, Debug, Default)]
pub struct ReqInfo {
    /// Protocol-specific command id (`redis::Cmd` or `memcache::Cmd` as u16); 0 = none.
    pub cmd: u16,
    /// Number of arguments including the command name (Redis); number of tokens (Memcache).
    pub nargs: u32,
    /// Positions of the first `ARGS_MAX` arguments (index 0 = the command name).
    pub args: [Span; ARGS_MAX],
    /// Positions of every key of the request, in request order (routing, multi-key split).
    pub keys: Vec<Span>,
    /// Positions of the values of key/value commands split per key (`MSET`): `vals[i]` goes
    /// with `keys[i]`. Empty for every other command.
    pub vals: Vec<Span>,
    /// Memcached `noreply`: no reply will come from the datastore.
    pub noreply: bool,
    /// The request was sent in Redis inline form (`PING\r\n`), not as a multi-bulk.
    pub inline: bool,
    /// Set when the request must not be forwarded; see [`ReqError`].
    pub error: Option<ReqError>,
}

impl ReqInfo {
    /// An empty info with room for `n` keys (a pooled message's, sized once).
    pub fn with_capacity(n: usize) -> ReqInfo {
        ReqInfo {
            keys: Vec::with_capacity(n),
            ..ReqInfo::default()
        }
    }

    #[inline(always)]
    pub fn clear(&mut self) {
        self.cmd = 0;
        self.nargs = 0;
        self.args = [Span::default(); ARGS_MAX];
        self.keys.clear();
        if self.keys.capacity() > 4096 {
            self.keys.shrink_to(64);
        }
        self.vals.clear();
        if self.vals.capacity() > 4096 {
            self.vals.shrink_to(16);
        }
        self.noreply = false;
        self.inline = false;
        self.error = None;
    }

    /// The recorded argument `i` (0 = command), if it is among the first `ARGS_MAX`.
    pub fn arg(&self, i: usize) -> Option<Span> {
        if i < ARGS_MAX && (i as u32) < self.nargs {
            Some(self.args[i])
        } else {
            None
        }
    }
}

/// What a reply parser learned about one reply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RspInfo {
    /// An error reply: Redis `-...` or RESP3 blob error `!...`; Memcached `ERROR`,
    /// `CLIENT_ERROR ...`, `SERVER_ERROR ...`.
    pub is_error: bool,
    /// A RESP3 push (`>`): out-of-band data that answers no request.
    pub is_push: bool,
    /// Set when the reply stream is broken; the runtime closes the datastore connection
    /// (nothing after a broken reply can be matched to a request any more).
    pub broken: bool,
}
