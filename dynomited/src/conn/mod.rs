//! Connections and their roles: listeners, clients, incoming peers, datastore and outgoing
//! peer connections, the stats/admin HTTP server. Each role is a type with its own state and
//! its own state machine (in its file); what the roles share is one level down: requests
//! come in on an [`Inbound`] (clients, incoming peers) and go out on an [`Outbound`]
//! (datastore, outgoing peers).
//!
//! ```text
//!                 client / incoming peer                    datastore / outgoing peer
//!            ┌──────────────────────────┐               ┌──────────────────────────┐
//!  requests  │ parser ──► Msg ──────────┼─── forward ──►│ in_q ──writev──► socket  │
//!  ─────────►│   queue: [m1 m2 m3 m4]   │  (request     │                   │      │
//!            │           ▲  order)      │               │ out_q ◄── FIFO match ◄┘  │
//!  replies   │           │ done?        │               │   │    (peers: by id)    │
//!  ◄─────────│ writev ◄──┴── in order ◄─┼───────────────┼───┘  reply parser        │
//!            └──────────────────────────┘               └──────────────────────────┘
//! ```
//!
//! A client may pipeline any number of requests. Each is forwarded as soon as it is parsed
//! (all requests of one read reach the datastore in one `writev`), and its reply is written
//! back strictly in request order: the queue holds every outstanding message, the front is
//! written once it is `Done`, and all consecutive done replies go out in one `writev`.
//!
//! Back-pressure: an inbound connection with too many outstanding requests or too many
//! unwritten reply bytes is not read until it drains ([`Inbound::paused`]).
//!
//! Roles never act on other connections: they change their own state and return what the
//! loop (`core`) should do; the loop closes connections, in one place per role.

mod inbound;
mod outbound;
mod parsers;
mod peer_in;
mod reactor;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

pub use inbound::{
    request_cap, Client, Inbound, Popped, HARD_PENDING_BYTES, MAX_OUTSTANDING, MAX_PENDING_BYTES,
    MIN_WINDOW,
};
pub use outbound::{
    due, Datastore, Outbound, PeerLink, PeerOut, PoolKind, Sent, ServerState, Written,
    BACKOFF_START, PACK_AFTER,
};
pub use parsers::{ReqParser, RspParser};
pub use peer_in::{Frame, PeerIn};
pub use reactor::{token, Reactor, ReadOutcome, ACCEPT_PAUSE};

use crate::mbuf::MbufId;

/// What a listening socket accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listener {
    Clients,
    /// `tls_listen`: clients whose connections start with a TLS handshake.
    TlsClients,
    Peers,
    Stats,
}

/// A stats/admin HTTP connection: one request, one reply, close.
#[derive(Default)]
pub struct StatsConn {
    pub buf: Vec<u8>,
    pub out: Vec<u8>,
    pub written: usize,
}

pub enum Role {
    Listener(Listener),
    /// The signalfd of the handled signals.
    Signals,
    /// The seed provider's thread hands seed lists over on this socket.
    Seeds,
    Client(Box<Client>),
    PeerIn(Box<PeerIn>),
    Datastore(Box<Datastore>),
    PeerOut(Box<PeerOut>),
    Stats(StatsConn),
}

impl Role {
    pub fn name(&self) -> &'static str {
        match self {
            Role::Listener(Listener::Clients) => "client-listener",
            Role::Listener(Listener::TlsClients) => "tls-client-listener",
            Role::Listener(Listener::Peers) => "peer-listener",
            Role::Listener(Listener::Stats) => "stats-listener",
            Role::Signals => "signals",
            Role::Seeds => "seeds",
            Role::Client(_) => "client",
            Role::PeerIn(_) => "dnode-client",
            Role::Datastore(_) => "server",
            Role::PeerOut(_) => "peer",
            Role::Stats(_) => "stats",
        }
    }
}

pub struct Conn {
    pub fd: Option<OwnedFd>,
    pub addr: Option<SocketAddr>,
    /// Current epoll interest bits.
    pub interest: u32,
    /// The mbuf being read into, and how far it has been parsed.
    pub rbuf: Option<MbufId>,
    pub rpos: u32,
    pub role: Role,
    /// The TLS session of an encrypted peer link (SPEC §5.4; see `tls`), a client of the
    /// TLS listener or a TLS datastore connection (see `certs`).
    pub tls: Option<Box<rustls::Connection>>,
    /// An accepted peer connection whose first byte will tell TLS from plain dnode frames.
    pub tls_detect: bool,
}

impl Conn {
    /// A connection with no socket or read buffer yet (the caller registers its fd).
    pub fn new(role: Role, addr: Option<SocketAddr>, interest: u32) -> Conn {
        Conn {
            fd: None,
            addr,
            interest,
            rbuf: None,
            rpos: 0,
            role,
            tls: None,
            tls_detect: false,
        }
    }

    pub fn raw_fd(&self) -> RawFd {
        self.fd.as_ref().map(|f| f.as_raw_fd()).unwrap_or(-1)
    }

    /// The request side of a client or an incoming peer.
    pub fn inbound(&self) -> Option<&Inbound> {
        match &self.role {
            Role::Client(c) => Some(&c.inb),
            Role::PeerIn(p) => Some(&p.inb),
            _ => None,
        }
    }
    pub fn inbound_mut(&mut self) -> Option<&mut Inbound> {
        match &mut self.role {
            Role::Client(c) => Some(&mut c.inb),
            Role::PeerIn(p) => Some(&mut p.inb),
            _ => None,
        }
    }
    pub fn client(&self) -> Option<&Client> {
        match &self.role {
            Role::Client(c) => Some(c),
            _ => None,
        }
    }
    pub fn client_mut(&mut self) -> Option<&mut Client> {
        match &mut self.role {
            Role::Client(c) => Some(c),
            _ => None,
        }
    }
    pub fn is_peer_in(&self) -> bool {
        matches!(self.role, Role::PeerIn(_))
    }

    /// The sending side of a datastore or outgoing peer connection.
    pub fn outbound(&self) -> Option<&Outbound> {
        match &self.role {
            Role::Datastore(d) => Some(&d.out),
            Role::PeerOut(p) => Some(&p.out),
            _ => None,
        }
    }
    pub fn outbound_mut(&mut self) -> Option<&mut Outbound> {
        match &mut self.role {
            Role::Datastore(d) => Some(&mut d.out),
            Role::PeerOut(p) => Some(&mut p.out),
            _ => None,
        }
    }
    /// The sending side and, for a peer connection, what only a peer connection has.
    pub fn outbound_parts(&mut self) -> Option<(&mut Outbound, Option<&mut PeerLink>)> {
        match &mut self.role {
            Role::Datastore(d) => Some((&mut d.out, None)),
            Role::PeerOut(p) => Some((&mut p.out, Some(&mut p.link))),
            _ => None,
        }
    }
    pub fn peer_link(&self) -> Option<&PeerLink> {
        match &self.role {
            Role::PeerOut(p) => Some(&p.link),
            _ => None,
        }
    }

    /// Whether a message is half-way through being parsed (its read buffer must be kept).
    pub fn mid_message(&self) -> bool {
        match &self.role {
            Role::Client(c) => c.inb.cur.is_some(),
            Role::PeerIn(p) => p.inb.cur.is_some(),
            Role::Datastore(d) => d.out.in_reply(),
            Role::PeerOut(p) => p.out.in_reply(),
            _ => false,
        }
    }
}

/// Log-line prefix naming a connection: role, fd and peer address (STYLE habit 10).
pub struct Who<'a>(pub &'a Conn);

impl std::fmt::Display for Who<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} fd {}", self.0.role.name(), self.0.raw_fd())?;
        if let Some(a) = self.0.addr {
            write!(f, " {a}")?;
        }
        Ok(())
    }
}
