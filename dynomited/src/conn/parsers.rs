//! The datastore-protocol parsers a connection feeds: requests on clients and incoming peers,
//! replies on datastore and outgoing peer connections (one enum each, matched per chunk).

use crate::proto::{self, Discard, Parse, ReqInfo, RspInfo};

/// The request parser of a client (or incoming peer) connection.
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

/// The reply parser of a datastore (or outgoing peer) connection.
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
