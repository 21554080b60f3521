//! Dynomite's own errors and their client-visible text (SPEC Part B §9.6), kept word for word
//! because clients and scripts match on them.
//!
//! Redis clients get `-ERR <source> <text>\r\n`, Memcached clients `SERVER_ERROR <source>
//! <text>\r\n`. [`error_reply`] is the one place any [`Failure`] (a request error found by a
//! parser, one of Dynomite's errors, a command refused by the routing table) becomes the
//! client's reply bytes; it uses each protocol's `req_error_reply` and [`dyn_error_reply`].

use super::{Protocol, ReqError};

/// Every reason the proxy answers a request with an error, whoever found it.
#[derive(Clone, Copy, Debug)]
pub enum Failure<'a> {
    /// The parser found the request malformed, unknown or of the wrong arity.
    Request(&'a ReqError),
    /// One of Dynomite's own errors (storage, peer, state, quorum, ...).
    Dynomite(DynError),
    /// A known command that cannot work through a sharding proxy (by the command table).
    Unsupported(&'a str),
    /// A command whose keys live on different nodes (in some rack) and that cannot be split:
    /// Redis Cluster's CROSSSLOT, with how to fix it.
    CrossSlot,
    /// A command the config leaves off (`FLUSHALL`/`flush_all` without `allow_flush`): its
    /// name as the client sent it, and the config line that enables it.
    Disabled { name: &'a str, enable: &'static str },
    /// A replicated script that calls a command whose result each datastore chooses for
    /// itself (named, lower case).
    Nondeterministic(&'static str),
}

/// The refusal of a command whose keys span nodes.
pub const CROSSSLOT: &str = "-CROSSSLOT Keys in request don't hash to the same node (use a \
                             hash_tag such as {user1}:a and {user1}:b)\r\n";

/// Append the reply for `f` in the client's protocol. A memcached `noreply` request gets
/// nothing at all, not even an error: a reply would be taken as the answer to the client's
/// next request.
pub fn error_reply(proto: Protocol, f: Failure<'_>, noreply: bool, out: &mut Vec<u8>) {
    match (proto, f) {
        (Protocol::Memcache, _) if noreply => {}
        (Protocol::Redis, Failure::Request(e)) => super::redis::req_error_reply(e, out),
        (Protocol::Memcache, Failure::Request(e)) => super::memcache::req_error_reply(e, out),
        (_, Failure::Dynomite(e)) => dyn_error_reply(proto, e, out),
        (Protocol::Redis, Failure::Unsupported(name)) => {
            out.extend_from_slice(b"-ERR unsupported command '");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"' (cannot run through a sharding proxy)\r\n");
        }
        (Protocol::Redis, Failure::CrossSlot) => out.extend_from_slice(CROSSSLOT.as_bytes()),
        (Protocol::Memcache, Failure::CrossSlot) => {
            out.extend_from_slice(b"CLIENT_ERROR keys in request don't hash to the same node\r\n")
        }
        (_, Failure::Disabled { name, enable }) => {
            out.extend_from_slice(match proto {
                Protocol::Redis => b"-ERR ".as_slice(),
                Protocol::Memcache => b"CLIENT_ERROR ",
            });
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b" is disabled on this cluster (");
            out.extend_from_slice(enable.as_bytes());
            out.extend_from_slice(b" in every node's config enables it)\r\n");
        }
        (_, Failure::Nondeterministic(name)) => {
            out.extend_from_slice(match proto {
                Protocol::Redis => b"-ERR ".as_slice(),
                Protocol::Memcache => b"CLIENT_ERROR ",
            });
            out.extend_from_slice(b"the script calls ");
            out.extend_from_slice(name.to_ascii_uppercase().as_bytes());
            out.extend_from_slice(
                b", whose result each rack's datastore would choose for itself (the racks \
                  would diverge); use EVAL_RO/FCALL_RO if it only reads, or make that call \
                  from the client\r\n",
            );
        }
        (Protocol::Memcache, Failure::Unsupported(name)) => {
            out.extend_from_slice(b"CLIENT_ERROR unsupported command ");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DynError {
    /// The datastore has no connected slot, or the connection closed with the request in it.
    StorageConnectionRefused,
    /// The datastore did not answer within `timeout` (Dynomite reports this with the same
    /// text as a refused connection; so do we, for clients that match on it).
    StorageTimeout,
    PeerHostNotConnected,
    PeerConnectionRefused,
    InvalidState,
    InvalidAdminRequest,
    NoQuorum,
    ScriptSpansNodes,
    PayloadTooLarge,
    Unknown,
    /// An error without a Dynomite code (a Redis error inside a split multi-key request).
    Generic,
    /// `requirepass` is set and the client has not authenticated (Redis's own text).
    NoAuth,
}

impl DynError {
    /// `(source, text)` as Dynomite prints them.
    pub const fn parts(self) -> (&'static str, &'static str) {
        match self {
            DynError::StorageConnectionRefused | DynError::StorageTimeout => {
                ("Storage:", "Datastore refused connection")
            }
            DynError::PeerHostNotConnected => ("Peer:", "Peer Node is not connected"),
            DynError::PeerConnectionRefused => ("Peer:", "Peer Node refused connection"),
            DynError::InvalidState => (
                "Dynomite:",
                "Dynomite's current state does not allow this request",
            ),
            DynError::InvalidAdminRequest => {
                ("Dynomite:", "Invalid request in Dynomite's admin mode")
            }
            DynError::NoQuorum => ("Dynomite:", "Failed to achieve Quorum"),
            DynError::ScriptSpansNodes => {
                ("Dynomite:", "Keys in the script cannot span multiple nodes")
            }
            DynError::PayloadTooLarge => ("Dynomite:", "MSET/MGET/SCAN payload too large"),
            DynError::Unknown => ("unknown:", "Unknown Error"),
            DynError::Generic => ("unknown:", "unknown"),
            DynError::NoAuth => ("", "Authentication required."),
        }
    }
}

/// Append the reply for `err` in the client's protocol.
pub fn dyn_error_reply(proto: Protocol, err: DynError, out: &mut Vec<u8>) {
    let (source, text) = err.parts();
    match (proto, err) {
        (Protocol::Redis, DynError::NoAuth) => out.extend_from_slice(b"-NOAUTH "),
        (Protocol::Redis, _) => out.extend_from_slice(b"-ERR "),
        (Protocol::Memcache, _) => out.extend_from_slice(b"SERVER_ERROR "),
    }
    if !source.is_empty() {
        out.extend_from_slice(source.as_bytes());
        out.push(b' ');
    }
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(p: Protocol, e: DynError) -> String {
        let mut v = Vec::new();
        dyn_error_reply(p, e, &mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn failures_in_both_protocols() {
        let f = |p, f, noreply| {
            let mut v = Vec::new();
            error_reply(p, f, noreply, &mut v);
            String::from_utf8(v).unwrap()
        };
        assert_eq!(
            f(Protocol::Redis, Failure::Unsupported("blpop"), false),
            "-ERR unsupported command 'blpop' (cannot run through a sharding proxy)\r\n"
        );
        let e = ReqError::Unsupported("blpop".into());
        let mut via_parser = Vec::new();
        crate::proto::redis::req_error_reply(&e, &mut via_parser);
        assert_eq!(
            f(Protocol::Redis, Failure::Unsupported("blpop"), false).as_bytes(),
            via_parser,
            "the table's refusal reads as the parser's"
        );
        assert_eq!(
            f(
                Protocol::Redis,
                Failure::Dynomite(DynError::NoQuorum),
                false
            ),
            "-ERR Dynomite: Failed to achieve Quorum\r\n"
        );
        assert_eq!(
            f(Protocol::Redis, Failure::CrossSlot, false),
            "-CROSSSLOT Keys in request don't hash to the same node (use a hash_tag such as \
             {user1}:a and {user1}:b)\r\n"
        );
        let flush = Failure::Disabled {
            name: "FLUSHALL",
            enable: "allow_flush: true",
        };
        assert_eq!(
            f(Protocol::Redis, flush, false),
            "-ERR FLUSHALL is disabled on this cluster (allow_flush: true in every node's \
             config enables it)\r\n"
        );
        assert_eq!(
            f(Protocol::Redis, Failure::Nondeterministic("spop"), false),
            "-ERR the script calls SPOP, whose result each rack's datastore would choose for \
             itself (the racks would diverge); use EVAL_RO/FCALL_RO if it only reads, or make \
             that call from the client\r\n"
        );
        let bad = ReqError::Client("bad data chunk");
        assert_eq!(
            f(Protocol::Memcache, Failure::Request(&bad), false),
            "CLIENT_ERROR bad data chunk\r\n"
        );
        for fail in [
            Failure::Request(&bad),
            Failure::Dynomite(DynError::StorageTimeout),
        ] {
            assert_eq!(
                f(Protocol::Memcache, fail, true),
                "",
                "noreply gets nothing"
            );
        }
        assert_eq!(
            f(
                Protocol::Redis,
                Failure::Dynomite(DynError::StorageTimeout),
                true
            ),
            "-ERR Storage: Datastore refused connection\r\n",
            "noreply is a memcached word"
        );
    }

    #[test]
    fn dynomite_texts() {
        assert_eq!(
            text(Protocol::Redis, DynError::StorageConnectionRefused),
            "-ERR Storage: Datastore refused connection\r\n"
        );
        assert_eq!(
            text(Protocol::Redis, DynError::NoQuorum),
            "-ERR Dynomite: Failed to achieve Quorum\r\n"
        );
        assert_eq!(
            text(Protocol::Memcache, DynError::PeerHostNotConnected),
            "SERVER_ERROR Peer: Peer Node is not connected\r\n"
        );
        assert_eq!(
            text(Protocol::Redis, DynError::Generic),
            "-ERR unknown: unknown\r\n"
        );
        assert_eq!(
            text(Protocol::Redis, DynError::NoAuth),
            "-NOAUTH Authentication required.\r\n"
        );
    }
}
