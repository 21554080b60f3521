//! The seed providers' contract (SPEC §1.5, C.5): where a seed list comes from ([`Source`],
//! built from Dynomite's environment variables), and what the event loop sees of the side
//! thread that fetches it ([`Update`], decoded by an [`Inbox`]).
//!
//! ```text
//!   Fetcher thread "dyn-seeds"                           event loop
//!   every `every`: fetch(src) ──changed?──► [len u32 BE]["OK " text | "ERR " error] ──► Inbox
//! ```
//!
//! The seed list is *text* (`host:port:rack:dc:token|...`), handed over unparsed and parsed
//! by the loop with [`crate::peer::parse_seed_list`]: that text format is pure and shared with
//! `dyn_seeds` in the config and with dynoctl, so it lives with the other node-list text in
//! [`crate::peer`], which must not depend on this module.
//!
//! Files: `florida.rs` (dynomite-manager's HTTP seed list: the response parser, pure),
//! `dns.rs` (the DNS wire codec and the TXT records' seed text, pure), `fetcher.rs` (the only
//! file with threads and sockets: one blocking [`fetch`], the side thread [`Fetcher`] and its
//! end of the hand-over socket pair).
//!
//! Differences from Dynomite C, on purpose:
//! - Florida: the status line is parsed (`HTTP/1.0 200` and `HTTP/1.1 200` both accepted),
//!   `Content-Length` bounds the body and `Transfer-Encoding: chunked` is de-chunked.
//! - DNS: a hand-written RFC 1035 client (no `res_query`); the server is the first usable
//!   `nameserver` of `/etc/resolv.conf`, read when the [`Source`] is built. All TXT records
//!   are kept (Dynomite keeps only the last one), sorted and joined with `|` so that a server
//!   rotating its records does not look like a change. A records are rejected: they carry no
//!   rack, dc or token (Dynomite misreads them, PR #575).
//! - Change detection compares the text itself, not a Jenkins hash of it.

pub(crate) mod dns;
mod fetcher;
pub(crate) mod florida;

use std::net::SocketAddr;
use std::time::Duration;

pub use dns::DNS_NAME;
pub use fetcher::{fetch, Fetcher};
pub use florida::{FLORIDA_IP, FLORIDA_MAX_RESPONSE, FLORIDA_PORT, FLORIDA_REQUEST};

/// Dynomite's `SEEDS_CHECK_INTERVAL`.
pub const POLL_INTERVAL: Duration = Duration::from_millis(30_000);

/// Where the seed list comes from (Dynomite's `dyn_seed_provider`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// dynomite-manager ("Florida"): a raw HTTP/1.0 request to ip:port.
    Florida { addr: SocketAddr, request: Vec<u8> },
    /// DNS: TXT records (or A records) of `name`, asked of `server` (from /etc/resolv.conf).
    Dns {
        name: String,
        server: SocketAddr,
        a_records: bool,
    },
}

/// An environment value, empty counting as unset.
pub(super) fn env_value(env: &impl Fn(&str) -> Option<String>, key: &str) -> Option<String> {
    env(key).filter(|v| !v.trim().is_empty())
}

// ---------------------------------------------------------------------------------------------
// The hand-over: what the loop sees

pub(super) const TAG_OK: &[u8] = b"OK ";
pub(super) const TAG_ERR: &[u8] = b"ERR ";

/// One hand-over message: the 4-byte big-endian length, the tag, the text.
pub(super) fn encode(tag: &[u8], text: &str) -> Vec<u8> {
    let len = (tag.len() + text.len()) as u32;
    let mut out = Vec::with_capacity(4 + len as usize);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(tag);
    out.extend_from_slice(text.as_bytes());
    out
}

/// A message of the fetcher.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Update {
    /// New seed-list text (not yet parsed).
    Seeds(String),
    /// A fetch failed, with a message naming the source.
    Error(String),
}

/// Decoding on the loop side: feed bytes read from the socket, get whole messages.
#[derive(Default)]
pub struct Inbox {
    buf: Vec<u8>,
}

impl Inbox {
    /// Appends bytes read from the socket.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole message, `None` until one is complete. A message with an unknown tag
    /// (which the fetcher never writes) comes out as an [`Update::Error`].
    // Not an Iterator: `None` only means "not yet", more bytes may complete a message.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<Update> {
        let len: [u8; 4] = self.buf.get(..4)?.try_into().ok()?;
        let end = 4usize.checked_add(u32::from_be_bytes(len) as usize)?;
        if self.buf.len() < end {
            return None;
        }
        let payload: Vec<u8> = self.buf.drain(..end).skip(4).collect();
        let text = |tag: &[u8]| String::from_utf8_lossy(&payload[tag.len()..]).into_owned();
        Some(if payload.starts_with(TAG_OK) {
            Update::Seeds(text(TAG_OK))
        } else if payload.starts_with(TAG_ERR) {
            Update::Error(text(TAG_ERR))
        } else {
            Update::Error(format!(
                "seed fetcher: bad message {:?}",
                String::from_utf8_lossy(&payload)
            ))
        })
    }
}

/// An environment lookup over `pairs`, for the tests of the `*_from_env` constructors.
#[cfg(test)]
pub(super) fn env_of<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |k| {
        pairs
            .iter()
            .find(|(key, _)| *key == k)
            .map(|(_, v)| v.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbox_split_feeds() {
        let mut wire = encode(TAG_OK, "a:1:r:d:0");
        wire.extend(encode(TAG_ERR, "florida 1.2.3.4:80: connect: refused"));
        wire.extend(encode(TAG_OK, ""));
        let mut inbox = Inbox::default();
        let mut got = Vec::new();
        for byte in wire.chunks(3) {
            inbox.feed(byte);
            while let Some(u) = inbox.next() {
                got.push(u);
            }
        }
        assert_eq!(
            got,
            vec![
                Update::Seeds("a:1:r:d:0".into()),
                Update::Error("florida 1.2.3.4:80: connect: refused".into()),
                Update::Seeds(String::new()),
            ]
        );
        assert!(inbox.next().is_none());
        inbox.feed(&[0, 0, 0, 2, b'?', b'?']);
        assert!(matches!(inbox.next(), Some(Update::Error(_))));
    }
}
