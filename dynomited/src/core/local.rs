//! Routing decisions for the local node, node-state rules (SPEC §10.1), and the commands the
//! proxy answers itself (PING, ECHO, QUIT, SELECT 0, AUTH, HELLO, CLIENT ...).

use std::collections::VecDeque;
use std::io::Write;

use super::client::Dispatch;
use super::coordinator::SplitKind;
use super::Core;
use crate::conn::PoolKind;
use crate::msg::MsgRef;
use crate::proto::error::DynError;
use crate::proto::memcache::Cmd as McCmd;
use crate::proto::redis::{self, Route};
use crate::proto::Protocol;
use crate::types::{Consistency, NodeState};

/// Writes held in WRITES_ONLY are bounded; past this they get the invalid-state error.
pub const MAX_HELD_WRITES: usize = 100_000;

/// A write held while the node is WRITES_ONLY, with what forwarding it needs later.
pub(super) struct Held {
    pub client: u32,
    pub msg: MsgRef,
    pub pool: PoolKind,
}

pub(super) type HeldQueue = VecDeque<Held>;

impl Core {
    pub(super) fn route_redis(&mut self, idx: u32, mref: MsgRef) -> (Dispatch, bool) {
        let Some(msg) = self.msgs.get(mref) else {
            return (Dispatch::Answered, false);
        };
        if msg.req.error.is_some() {
            self.answer_req_error(mref);
            return (Dispatch::Answered, false);
        }
        let spec = redis::spec(msg.req.cmd);
        let authed = self.client_of(idx).map(|c| c.authed).unwrap_or(false);
        if !authed && !matches!(spec.name, "auth" | "hello" | "quit") {
            self.answer_dyn_error(mref, DynError::NoAuth);
            return (Dispatch::Answered, spec.write);
        }
        if spec.name != "ping" {
            if spec.write {
                self.pool_stats.client_write_requests += 1;
            } else {
                self.pool_stats.client_read_requests += 1;
            }
        }
        match spec.route {
            Route::Proxy => {
                let d = self.redis_local(idx, mref, spec.name);
                (d, spec.write)
            }
            Route::Unsupported => {
                self.scratch.clear();
                self.scratch
                    .extend_from_slice(b"-ERR unsupported command '");
                self.scratch.extend_from_slice(spec.name.as_bytes());
                self.scratch
                    .extend_from_slice(b"' (cannot run through a sharding proxy)\r\n");
                let reply = std::mem::take(&mut self.scratch);
                self.answer(mref, &reply);
                self.scratch = reply;
                (Dispatch::Answered, spec.write)
            }
            route => {
                if let Some(m) = self.msgs.get_mut(mref) {
                    m.is_write = spec.write;
                }
                self.count_redis_command(spec.id);
                (
                    self.route_keyed(idx, mref, spec.write, route, spec.name),
                    spec.write,
                )
            }
        }
    }

    /// Where a request for the datastore goes, by its origin: another node's DMSG_REQ runs
    /// here (the owner role); a DMSG_REQ_FORWARD is fanned out to this DC (the forwarder
    /// role); a client's request is coordinated.
    fn route_keyed(
        &mut self,
        idx: u32,
        mref: MsgRef,
        write: bool,
        route: Route,
        name: &str,
    ) -> Dispatch {
        match self.msgs.get(mref).and_then(|m| m.peer) {
            Some(p) if p.forward => return self.forward_dc(idx, mref, write),
            Some(_) => return self.state_gate(idx, mref, write),
            None => {}
        }
        match route {
            Route::LocalNodeOnly => self.state_gate(idx, mref, write),
            Route::AllNodes => {
                self.broadcast(idx, mref);
                self.state_gate(idx, mref, write)
            }
            Route::SplitArgx | Route::SplitKv => {
                let kind = match (self.proto, name) {
                    (Protocol::Memcache, _) => SplitKind::McGet,
                    (_, "mget") => SplitKind::Mget,
                    (_, "mset") => SplitKind::Ok,
                    _ => SplitKind::Sum,
                };
                if self.split(idx, mref, write, kind) {
                    Dispatch::Answered
                } else {
                    self.coordinate(idx, mref, write, Route::Normal)
                }
            }
            _ => {
                let script = matches!(
                    name,
                    "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall" | "fcall_ro"
                );
                if script && self.script_spans_nodes(mref) {
                    self.answer_dyn_error(mref, DynError::ScriptSpansNodes);
                    return Dispatch::Answered;
                }
                self.coordinate(idx, mref, write, route)
            }
        }
    }

    pub(super) fn route_memcache(&mut self, idx: u32, mref: MsgRef) -> (Dispatch, bool) {
        let Some(msg) = self.msgs.get(mref) else {
            return (Dispatch::Answered, false);
        };
        if msg.req.error.is_some() {
            self.answer_req_error(mref);
            return (Dispatch::Answered, false);
        }
        let cmd = McCmd::from_u16(msg.req.cmd);
        if cmd == Some(McCmd::Quit) {
            // memcached closes without a reply (Dynomite answers "+OK", a quirk we fix).
            if let Some(c) = self.client_of(idx) {
                c.closing = true;
            }
            self.answer(mref, b"");
            return (Dispatch::Answered, false);
        }
        let write = cmd.map(|c| !c.is_read()).unwrap_or(true);
        if write {
            self.pool_stats.client_write_requests += 1;
        } else {
            self.pool_stats.client_read_requests += 1;
        }
        if let Some(m) = self.msgs.get_mut(mref) {
            m.is_write = write;
        }
        let multi_get = matches!(cmd, Some(McCmd::Get) | Some(McCmd::Gets));
        let route = if multi_get {
            Route::SplitArgx
        } else {
            Route::Normal
        };
        (self.route_keyed(idx, mref, write, route, ""), write)
    }

    /// Apply the node state to a request for the local datastore (SPEC §10.1).
    pub(super) fn state_gate(&mut self, idx: u32, mref: MsgRef, write: bool) -> Dispatch {
        match self.state {
            NodeState::Normal | NodeState::Joining | NodeState::Init => Dispatch::Forward,
            NodeState::Resuming if write => Dispatch::Forward,
            NodeState::WritesOnly if write => {
                if self.held.len() >= MAX_HELD_WRITES {
                    self.answer_dyn_error(mref, DynError::InvalidState);
                    return Dispatch::Answered;
                }
                let peer_resp3 = self
                    .msgs
                    .get(mref)
                    .and_then(|m| m.peer)
                    .is_some_and(|p| p.resp3);
                let pool = match self.client_of(idx) {
                    Some(c) if c.resp3 || peer_resp3 => PoolKind::Resp3,
                    _ => PoolKind::Main,
                };
                if let Some(m) = self.msgs.get_mut(mref) {
                    m.is_write = true;
                    m.t_queued = self.now_ns;
                }
                self.held.push_back(Held {
                    client: idx,
                    msg: mref,
                    pool,
                });
                Dispatch::Answered
            }
            _ => {
                self.answer_dyn_error(mref, DynError::InvalidState);
                Dispatch::Answered
            }
        }
    }

    /// Change the node state; leaving WRITES_ONLY sends the held writes in arrival order
    /// (Dynomite leaves them stuck when going straight to NORMAL; we do not).
    pub fn set_state(&mut self, state: NodeState) {
        let old = self.state;
        self.state = state;
        crate::log_notice!("node state {old} -> {state}");
        if state == NodeState::Normal || state == NodeState::Resuming {
            while let Some(h) = self.held.pop_front() {
                if self.msgs.get(h.msg).is_some() {
                    self.forward_local(h.client, h.msg, h.pool);
                }
            }
        }
    }

    /// Fail held writes older than the request timeout (the client must not wait forever).
    pub(super) fn expire_held(&mut self) {
        let timeout = self.server_timeout_ns();
        while let Some(h) = self.held.front() {
            match self.msgs.get(h.msg) {
                Some(m) if m.t_queued + timeout > self.now_ns => break,
                Some(_) => {
                    let h = self.held.pop_front().expect("front");
                    self.answer_dyn_error(h.msg, DynError::InvalidState);
                }
                None => {
                    self.held.pop_front();
                }
            }
        }
    }

    /// Dynomite's per-command counters, for requests sent to the local datastore.
    fn count_redis_command(&mut self, id: u16) {
        let s = &mut self.server_stats;
        match stat_class(id) {
            StatClass::Get => s.redis_req_get += 1,
            StatClass::Set => s.redis_req_set += 1,
            StatClass::Sunion => {
                s.redis_req_set += 1;
                s.redis_req_sunion += 1;
            }
            StatClass::Del => s.redis_req_del += 1,
            StatClass::IncrDecr => s.redis_req_incr_decr += 1,
            StatClass::Keys => s.redis_req_keys += 1,
            StatClass::Mget => s.redis_req_mget += 1,
            StatClass::Scan => s.redis_req_scan += 1,
            StatClass::Sort => s.redis_req_sort += 1,
            StatClass::Lists => s.redis_req_lists += 1,
            StatClass::Lrem => {
                s.redis_req_lists += 1;
                s.redis_req_lreqm += 1;
            }
            StatClass::Hashes => s.redis_req_hashes += 1,
            StatClass::SortedSets => s.redis_req_sortedsets += 1,
            StatClass::Other => s.redis_req_other += 1,
        }
    }

    /// Commands answered by the proxy. Returns `Forward` for the few "proxy" commands that
    /// describe the datastore itself (COMMAND and its subcommands).
    fn redis_local(&mut self, idx: u32, mref: MsgRef, name: &str) -> Dispatch {
        // Two buffers reused across requests: answering PING does not allocate.
        let mut a1 = std::mem::take(&mut self.local_arg);
        let mut out = std::mem::take(&mut self.local_out);
        a1.clear();
        out.clear();
        let d = self.redis_local_into(idx, mref, name, &mut a1, &mut out);
        if let Dispatch::Answered = d {
            self.answer(mref, &out);
        }
        self.local_arg = a1;
        self.local_out = out;
        d
    }

    fn redis_local_into(
        &mut self,
        idx: u32,
        mref: MsgRef,
        name: &str,
        a1: &mut Vec<u8>,
        out: &mut Vec<u8>,
    ) -> Dispatch {
        let nargs = self.msgs.get(mref).map(|m| m.req.nargs).unwrap_or(0) as usize;
        let resp3 = self.client_of(idx).map(|c| c.resp3).unwrap_or(false);
        match name {
            "ping" => {
                if nargs >= 2 && self.req_arg(mref, 1, a1) {
                    bulk(out, a1);
                } else {
                    out.extend_from_slice(b"+PONG\r\n");
                }
                self.server_stats.redis_req_ping += 1;
            }
            "echo" => {
                self.req_arg(mref, 1, a1);
                bulk(out, a1);
            }
            "quit" => {
                out.extend_from_slice(b"+OK\r\n");
                if let Some(c) = self.client_of(idx) {
                    c.closing = true;
                }
            }
            "select" => {
                self.req_arg(mref, 1, a1);
                if a1.as_slice() == b"0" {
                    out.extend_from_slice(b"+OK\r\n");
                } else {
                    out.extend_from_slice(
                        b"-ERR DB index is out of range (only database 0 is served through dynomite)\r\n",
                    );
                }
            }
            "auth" => {
                let mut pass = Vec::new();
                let mut user = Vec::new();
                if nargs == 2 {
                    self.req_arg(mref, 1, &mut pass);
                } else {
                    self.req_arg(mref, 1, &mut user);
                    self.req_arg(mref, 2, &mut pass);
                }
                self.auth(idx, &user, &pass, out);
            }
            "hello" => self.hello(idx, mref, nargs, out),
            "client|setinfo" | "client|no-evict" | "client|no-touch" => {
                out.extend_from_slice(b"+OK\r\n")
            }
            "client|setname" => {
                self.req_arg(mref, 2, a1);
                if a1.iter().any(|&b| b <= b' ' || b > b'~') {
                    out.extend_from_slice(
                        b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n",
                    );
                } else {
                    let name = String::from_utf8_lossy(a1).into_owned();
                    if let Some(c) = self.client_of(idx) {
                        c.name = (!name.is_empty()).then(|| name.into_boxed_str());
                    }
                    out.extend_from_slice(b"+OK\r\n");
                }
            }
            "client|getname" => match self.client_of(idx).and_then(|c| c.name.clone()) {
                Some(n) => bulk(out, n.as_bytes()),
                None => null(out, resp3),
            },
            "client|id" => {
                let id = self.client_of(idx).map(|c| c.id).unwrap_or(0);
                let _ = write!(out, ":{id}\r\n");
            }
            "client|info" => {
                let line = self.client_info_line(idx);
                bulk(out, line.as_bytes());
            }
            n if n == "command" || n.starts_with("command|") => return Dispatch::Forward,
            "dyno_config:conn_consistency" => {
                self.req_arg(mref, 1, a1);
                match Consistency::parse_dynomite(&String::from_utf8_lossy(a1)) {
                    Some(c) => {
                        if let Some(cl) = self.client_of(idx) {
                            cl.consistency = Some(c);
                        }
                        out.extend_from_slice(b"+OK\r\n");
                    }
                    None => out.extend_from_slice(
                        b"-ERR invalid consistency level: expected DC_ONE, DC_QUORUM, DC_SAFE_QUORUM or DC_EACH_SAFE_QUORUM\r\n",
                    ),
                }
            }
            other => {
                out.extend_from_slice(b"-ERR unsupported command '");
                out.extend_from_slice(other.as_bytes());
                out.extend_from_slice(b"' (cannot run through a sharding proxy)\r\n");
            }
        }
        Dispatch::Answered
    }

    fn auth(&mut self, idx: u32, user: &[u8], pass: &[u8], out: &mut Vec<u8>) -> bool {
        let Some(want) = self.cfg.requirepass.as_deref() else {
            out.extend_from_slice(b"-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n");
            return false;
        };
        let user_ok = user.is_empty() || user == b"default";
        if user_ok && pass == want.as_bytes() {
            if let Some(c) = self.client_of(idx) {
                c.authed = true;
            }
            out.extend_from_slice(b"+OK\r\n");
            true
        } else {
            out.extend_from_slice(
                b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
            );
            false
        }
    }

    /// `HELLO [protover [AUTH user pass] [SETNAME name]]`, answered as Redis 7 answers it.
    fn hello(&mut self, idx: u32, mref: MsgRef, nargs: usize, out: &mut Vec<u8>) {
        let mut arg = Vec::new();
        let mut proto3 = self.client_of(idx).map(|c| c.resp3).unwrap_or(false);
        if nargs >= 2 {
            self.req_arg(mref, 1, &mut arg);
            match std::str::from_utf8(&arg)
                .ok()
                .and_then(|s| s.parse::<i64>().ok())
            {
                Some(2) => proto3 = false,
                Some(3) => proto3 = true,
                Some(_) => {
                    out.extend_from_slice(b"-NOPROTO unsupported protocol version\r\n");
                    return;
                }
                None => {
                    out.extend_from_slice(
                        b"-ERR Protocol version is not an integer or out of range\r\n",
                    );
                    return;
                }
            }
        }
        let mut i = 2;
        let mut setname: Option<Vec<u8>> = None;
        while i < nargs {
            self.req_arg(mref, i, &mut arg);
            if arg.eq_ignore_ascii_case(b"auth") && i + 2 < nargs {
                let (mut user, mut pass) = (Vec::new(), Vec::new());
                self.req_arg(mref, i + 1, &mut user);
                self.req_arg(mref, i + 2, &mut pass);
                let mut res = Vec::new();
                if !self.auth(idx, &user, &pass, &mut res) {
                    out.extend_from_slice(&res);
                    return;
                }
                i += 3;
            } else if arg.eq_ignore_ascii_case(b"setname") && i + 1 < nargs {
                let mut n = Vec::new();
                self.req_arg(mref, i + 1, &mut n);
                setname = Some(n);
                i += 2;
            } else {
                out.extend_from_slice(b"-ERR Syntax error in HELLO option '");
                out.extend_from_slice(&arg);
                out.extend_from_slice(b"'\r\n");
                return;
            }
        }
        let authed = self.client_of(idx).map(|c| c.authed).unwrap_or(false);
        if !authed {
            out.extend_from_slice(b"-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n");
            return;
        }
        let Some(c) = self.client_of(idx) else { return };
        c.resp3 = proto3;
        if let Some(n) = setname {
            c.name = (!n.is_empty()).then(|| String::from_utf8_lossy(&n).into());
        }
        let id = c.id;
        if proto3 {
            out.extend_from_slice(b"%7\r\n");
        } else {
            out.extend_from_slice(b"*14\r\n");
        }
        bulk(out, b"server");
        bulk(out, b"redis");
        bulk(out, b"version");
        bulk(out, HELLO_VERSION.as_bytes());
        bulk(out, b"proto");
        out.extend_from_slice(if proto3 { b":3\r\n" } else { b":2\r\n" });
        bulk(out, b"id");
        let _ = write!(out, ":{id}\r\n");
        bulk(out, b"mode");
        bulk(out, b"standalone");
        bulk(out, b"role");
        bulk(out, b"master");
        bulk(out, b"modules");
        out.extend_from_slice(b"*0\r\n");
    }

    fn client_info_line(&self, idx: u32) -> String {
        let Some(conn) = self.conn(idx) else {
            return String::new();
        };
        let Some(c) = conn.client() else {
            return String::new();
        };
        format!(
            "id={} addr={} fd={} name={} db=0 resp={}\n",
            c.id,
            conn.addr.map(|a| a.to_string()).unwrap_or_default(),
            conn.raw_fd(),
            c.name.as_deref().unwrap_or(""),
            if c.resp3 { 3 } else { 2 }
        )
    }
}

/// The Redis version HELLO reports: the feature level of the commands we route, not the
/// version of the datastore behind us (which can differ per node).
pub const HELLO_VERSION: &str = "7.0.0";

fn bulk(out: &mut Vec<u8>, b: &[u8]) {
    let _ = write!(out, "${}\r\n", b.len());
    out.extend_from_slice(b);
    out.extend_from_slice(b"\r\n");
}

fn null(out: &mut Vec<u8>, resp3: bool) {
    out.extend_from_slice(if resp3 { b"_\r\n" } else { b"$-1\r\n" });
}

/// Which of Dynomite's `redis_req_*` counters a command feeds (SPEC §7.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StatClass {
    Get,
    Set,
    Sunion,
    Del,
    IncrDecr,
    Keys,
    Mget,
    Scan,
    Sort,
    Lists,
    Lrem,
    Hashes,
    SortedSets,
    Other,
}

fn classify(name: &str) -> StatClass {
    match name {
        "get" => StatClass::Get,
        "set" | "setbit" | "setex" | "setrange" | "sadd" | "sdiff" | "sdiffstore" | "sinter"
        | "sinterstore" | "srem" | "sunionstore" | "sscan" => StatClass::Set,
        "sunion" => StatClass::Sunion,
        "del" => StatClass::Del,
        "incr" | "decr" => StatClass::IncrDecr,
        "keys" => StatClass::Keys,
        "mget" => StatClass::Mget,
        "scan" => StatClass::Scan,
        "sort" => StatClass::Sort,
        "lrange" | "lset" | "ltrim" | "lindex" | "lpushx" => StatClass::Lists,
        "lrem" => StatClass::Lrem,
        "hincrby" | "hincrbyfloat" | "hset" | "hsetnx" => StatClass::Hashes,
        "zadd" | "zinterstore" | "zrange" | "zrangebyscore" | "zrem" | "zrevrange"
        | "zrevrangebyscore" | "zunionstore" | "zscan" | "zcount" | "zincrby" | "zlexcount"
        | "zrangebylex" | "zremrangebylex" | "zremrangebyrank" | "zremrangebyscore"
        | "zrevrangebylex" => StatClass::SortedSets,
        _ => StatClass::Other,
    }
}

/// The class of command `id`, from a table built once from the command table (no string
/// compares per request).
fn stat_class(id: u16) -> StatClass {
    static TABLE: std::sync::OnceLock<Vec<StatClass>> = std::sync::OnceLock::new();
    let t = TABLE.get_or_init(|| {
        let all = redis::all();
        let max = all.iter().map(|s| s.id as usize).max().unwrap_or(0);
        let mut t = vec![StatClass::Other; max + 1];
        for s in all {
            t[s.id as usize] = classify(s.name);
        }
        t
    });
    t.get(id as usize).copied().unwrap_or(StatClass::Other)
}
