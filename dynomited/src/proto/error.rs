//! Dynomite's own errors and their client-visible text (SPEC Part B §9.6), kept word for word
//! because clients and scripts match on them.
//!
//! Redis clients get `-ERR <source> <text>\r\n`, Memcached clients `SERVER_ERROR <source>
//! <text>\r\n`. Request errors found by the parsers (`ReqError`) are turned into replies by
//! each protocol's `req_error_reply`; everything else goes through [`dyn_error_reply`].

use super::Protocol;

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
