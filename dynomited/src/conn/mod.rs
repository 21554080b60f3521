//! Connections and their roles: listeners, clients, datastore servers, stats/admin HTTP.
//!
//! ```text
//!                 client                                   datastore server
//!            ┌──────────────┐                        ┌──────────────────────────┐
//!  requests  │ parser ──► Msg ──── forward ─────────►│ in_q ──writev──► socket  │
//!  ─────────►│   queue: [m1 m2 m3 m4]   (request     │                   │      │
//!            │           ▲  order)                   │ out_q ◄── FIFO match ◄┘  │
//!  replies   │           │ done?                     │   │                      │
//!  ◄─────────│ writev ◄──┴── replies in order ◄──────┼───┘  reply parser       │
//!            └──────────────┘                        └──────────────────────────┘
//! ```
//!
//! A client may pipeline any number of requests. Each is forwarded as soon as it is parsed
//! (all requests of one read reach the datastore in one `writev`), and its reply is written
//! back strictly in request order: the client's `queue` holds every outstanding message, the
//! front is written once it is `Done`, and all consecutive done replies go out in one
//! `writev`. A datastore connection keeps `in_q` (waiting to be written) and `out_q`
//! (written, awaiting a reply, matched first-in first-out).
//!
//! Back-pressure: a client with too many outstanding requests or too many unwritten reply
//! bytes is not read until it drains (`Client::paused`). The limits are in `core`.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use crate::mbuf::{MbufId, Seg};
use crate::msg::MsgRef;
use crate::proto::{self, Discard, Parse, ReqInfo, RspInfo};

/// The request parser of a client connection.
pub enum ReqParser {
    Redis(proto::redis::ReqParser),
    Memcache(proto::memcache::ReqParser),
}

impl ReqParser {
    pub fn new(p: proto::Protocol) -> ReqParser {
        match p {
            proto::Protocol::Redis => ReqParser::Redis(proto::redis::ReqParser::new()),
            proto::Protocol::Memcache => ReqParser::Memcache(proto::memcache::ReqParser::new()),
        }
    }
    pub fn feed(&mut self, chunk: &[u8], info: &mut ReqInfo) -> Parse {
        match self {
            ReqParser::Redis(p) => p.feed(chunk, info),
            ReqParser::Memcache(p) => p.feed(chunk, info),
        }
    }
    pub fn discard(&self) -> Discard {
        match self {
            ReqParser::Redis(p) => p.discard(),
            ReqParser::Memcache(p) => p.discard(),
        }
    }
}

/// The reply parser of a datastore connection.
pub enum RspParser {
    Redis(proto::redis::RspParser),
    Memcache(proto::memcache::RspParser),
}

impl RspParser {
    pub fn new(p: proto::Protocol) -> RspParser {
        match p {
            proto::Protocol::Redis => RspParser::Redis(proto::redis::RspParser::new()),
            proto::Protocol::Memcache => RspParser::Memcache(proto::memcache::RspParser::new()),
        }
    }
    pub fn feed(&mut self, chunk: &[u8], info: &mut RspInfo) -> Parse {
        match self {
            RspParser::Redis(p) => p.feed(chunk, info),
            RspParser::Memcache(p) => p.feed(chunk, info),
        }
    }
    pub fn reset(&mut self) {
        match self {
            RspParser::Redis(p) => p.reset(),
            RspParser::Memcache(p) => p.reset(),
        }
    }
}

/// How a client connection's requests arrive.
pub enum Framing {
    /// The datastore protocol as clients speak it.
    Plain,
    /// Dynomite's peer protocol: each request is a dnode frame (header + datastore payload),
    /// sent by another node over its outgoing peer connection (an incoming "dnode client").
    Dnode(Box<DnodeIn>),
}

pub struct DnodeIn {
    pub header: crate::peer::HeaderParser,
    /// The header of the frame whose payload is being parsed.
    pub cur: Option<crate::peer::Header>,
    /// Payload bytes still to skip (frames whose payload is not a request).
    pub skip: usize,
    /// A gossip payload being collected, and how many bytes of it are still to come.
    pub gossip: Vec<u8>,
    pub gossip_left: usize,
}

pub struct Client {
    pub parser: ReqParser,
    pub framing: Framing,
    /// The message being parsed, if its first bytes have arrived.
    pub cur: Option<MsgRef>,
    /// Every outstanding request, in request order; the front's reply is written first.
    pub queue: VecDeque<MsgRef>,
    /// Bytes of the front reply already written.
    pub wpos: usize,
    /// Bytes of done replies not yet written (back-pressure).
    pub pending_bytes: usize,
    /// Not read until the queue drains (back-pressure) or a message object frees up.
    pub paused: bool,
    /// Close once every queued reply is written (QUIT, or EOF from the client).
    pub closing: bool,
    /// Negotiated with HELLO 3: served by RESP3 datastore connections.
    pub resp3: bool,
    pub authed: bool,
    pub id: u64,
    pub name: Option<Box<str>>,
    /// Set by `dyno_config:conn_consistency`; `None` = the node's current default.
    pub consistency: Option<crate::types::Consistency>,
}

impl Client {
    pub fn new(p: proto::Protocol, id: u64, authed: bool) -> Client {
        Client {
            parser: ReqParser::new(p),
            framing: Framing::Plain,
            cur: None,
            queue: VecDeque::new(),
            wpos: 0,
            pending_bytes: 0,
            paused: false,
            closing: false,
            resp3: false,
            authed,
            id,
            name: None,
            consistency: None,
        }
    }

    /// An incoming peer connection: dnode framing, no AUTH (peers are trusted, as in Dynomite).
    pub fn new_peer(p: proto::Protocol, id: u64) -> Client {
        let mut c = Client::new(p, id, true);
        c.framing = Framing::Dnode(Box::new(DnodeIn {
            header: crate::peer::HeaderParser::new(),
            cur: None,
            skip: 0,
            gossip: Vec::new(),
            gossip_left: 0,
        }));
        c
    }

    pub fn is_peer(&self) -> bool {
        matches!(self.framing, Framing::Dnode(_))
    }
}

/// Which set of datastore connections a server connection belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    /// RESP2 (and every Memcached connection).
    Main,
    /// Switched to RESP3 with HELLO 3 on connect, for RESP3 clients.
    Resp3,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerState {
    /// Non-blocking connect in progress since `since` (loop-clock ns); requests queue in
    /// `in_q` meanwhile. It fails after the request timeout.
    Connecting {
        since: u64,
    },
    Connected,
    /// No socket; reconnect at `retry_at` (exponential back-off).
    Down {
        retry_at: Instant,
    },
}

/// What makes an outgoing peer connection different from a datastore connection: where it
/// goes, and that its replies arrive as dnode frames (header, then the datastore reply).
pub struct PeerOut {
    /// The peer's index in the topology.
    pub node: usize,
    pub same_dc: bool,
    pub header: crate::peer::HeaderParser,
    /// A reply header was read; its payload is being parsed.
    pub in_payload: bool,
    /// The id in the header of the reply being parsed.
    pub reply_id: u64,
    /// Frame ids of the requests in `out_q`, in the same order: replies are matched by id
    /// (SPEC §5.3), so a request that gets no reply cannot shift the others' replies.
    pub out_ids: std::collections::VecDeque<u64>,
}

/// A request written on a connection and waiting for its reply. Its length is kept here
/// because a request that timed out is answered and freed while its entry still waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    pub msg: MsgRef,
    /// Request bytes written (the `out_queue_bytes` gauges).
    pub len: u32,
}

/// A connection the proxy sends requests on: to its datastore, or (with `peer`) to another
/// node. Both queue, write, match replies first-in first-out, time out and reconnect alike.
pub struct Server {
    pub peer: Option<Box<PeerOut>>,
    pub pool: PoolKind,
    pub slot: usize,
    pub state: ServerState,
    pub parser: RspParser,
    pub in_q: VecDeque<MsgRef>,
    pub out_q: VecDeque<Sent>,
    /// Bytes of the front of `in_q` already written.
    pub wpos: usize,
    /// How many entries at the front of `out_q` timed out already (their clients have the
    /// error; the entries only wait to swallow late replies): timeout scans start after them.
    pub expired: usize,
    /// The reply being parsed.
    pub rsp_segs: Vec<Seg>,
    pub rsp_info: RspInfo,
    pub rsp_len: usize,
    /// Current reconnect back-off (1 s doubling to the cap).
    pub backoff: Duration,
    /// When the connection last became connected (loop-clock ns).
    pub connected_at: u64,
    /// Peer connections: the reads queued or in flight, with their deadlines (in queue order,
    /// and so in deadline order). Writes to peers get 20 s more than reads, so a read can be
    /// due while a write ahead of it is not: it must not wait for the write's deadline.
    pub reads: VecDeque<(MsgRef, u64)>,
    /// Remote-DC peers: messages this connection may still send in the second `rate_sec`
    /// (loop clock seconds) under `conn_msg_rate` (SPEC §9.5).
    pub rate_left: u32,
    pub rate_sec: u64,
    /// Peer connections: when the next liveness probe goes out (loop clock ns).
    pub next_probe: u64,
}

/// A stats/admin HTTP connection: one request, one reply, close.
pub struct StatsConn {
    pub buf: Vec<u8>,
    pub out: Vec<u8>,
    pub written: usize,
}

pub enum Role {
    ClientListener,
    PeerListener,
    StatsListener,
    Signals,
    /// The seed provider's thread hands seed lists over on this socket.
    Seeds,
    Client(Box<Client>),
    Server(Box<Server>),
    Stats(StatsConn),
}

impl Role {
    pub fn name(&self) -> &'static str {
        match self {
            Role::ClientListener => "client-listener",
            Role::PeerListener => "peer-listener",
            Role::Client(c) if c.is_peer() => "dnode-client",
            Role::StatsListener => "stats-listener",
            Role::Signals => "signals",
            Role::Seeds => "seeds",
            Role::Client(_) => "client",
            Role::Server(s) if s.peer.is_some() => "peer",
            Role::Server(_) => "server",
            Role::Stats(_) => "stats",
        }
    }
}

pub struct Conn {
    pub gen: u32,
    pub fd: Option<OwnedFd>,
    pub addr: Option<SocketAddr>,
    /// Current epoll interest bits.
    pub interest: u32,
    /// The mbuf being read into, and how far it has been parsed.
    pub rbuf: Option<MbufId>,
    pub rpos: u32,
    pub role: Role,
    /// The TLS session of an encrypted peer link (SPEC §5.4; see `tls`).
    pub tls: Option<Box<rustls::Connection>>,
    /// An accepted peer connection whose first byte will tell TLS from plain dnode frames.
    pub tls_detect: bool,
}

impl Conn {
    /// A connection with no socket or read buffer yet (the caller registers its fd).
    pub fn new(role: Role, addr: Option<SocketAddr>, interest: u32) -> Conn {
        Conn {
            gen: 0,
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
    pub fn server(&self) -> Option<&Server> {
        match &self.role {
            Role::Server(s) => Some(s),
            _ => None,
        }
    }
    pub fn server_mut(&mut self) -> Option<&mut Server> {
        match &mut self.role {
            Role::Server(s) => Some(s),
            _ => None,
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
