//! Where a parsed request goes: refused, answered by the proxy itself (`builtin.rs`), run on
//! the local datastore, or coordinated over the cluster (`coordinator.rs`, `split.rs`); and
//! the node-state rules for the local datastore (SPEC §10.1), with the writes held while the
//! node is WRITES_ONLY.
//!
//! ```text
//!   request ─► error? ─► the error reply          (errors.rs)
//!      │ ─► not authenticated? ─► -NOAUTH
//!      │ ─► by command id: Proxy ─► builtin.rs    Unsupported ─► -ERR unsupported command
//!      └─► by origin: DMSG_REQ ─► state gate ─► local datastore          (owner role)
//!                     DMSG_REQ_FORWARD ─► this DC's racks at DC_ONE      (forwarder role)
//!                     client ─► LocalNodeOnly │ AllNodes │ split │ coordinate
//! ```

use std::collections::VecDeque;

use super::collect::{FanKind, SplitKind};
use super::Core;
use crate::cluster::{gate, Gate};
use crate::conn::PoolKind;
use crate::msg::{Lane, MsgRef};
use crate::proto::error::{DynError, Failure};
use crate::proto::memcache::Cmd as McCmd;
use crate::proto::redis::{self, cmd, handling, Handling, Keyspace, Route};
use crate::types::NodeState;

/// What the proxy does with a request once it is routed.
pub(super) enum Dispatch {
    /// Send the message itself to the local datastore (through the RESP2 or RESP3 pool).
    Forward,
    /// Answered already, or sent elsewhere (another node, a collector's children, held).
    Answered,
}

/// memcached `stats <args>` through a rack of several nodes.
const MC_STATS_SHARDED: &[u8] = b"CLIENT_ERROR stats with arguments describes one memcached: \
this rack has several (ask each datastore; plain `stats` sums the rack)\r\n";

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
    /// Route one Redis request. Returns what to do with it and whether it is a write.
    pub(super) fn route_redis(&mut self, idx: u32, mref: MsgRef) -> (Dispatch, bool) {
        let Some(msg) = self.bufs.msgs.get(mref) else {
            return (Dispatch::Answered, false);
        };
        if msg.req.error.is_some() {
            self.answer_req_error(mref);
            return (Dispatch::Answered, false);
        }
        let spec = redis::spec(msg.req.cmd);
        let from_peer = msg.peer.is_some();
        let authed = self.authed(idx);
        if !authed && !matches!(spec.id, cmd::AUTH | cmd::HELLO | cmd::QUIT) {
            self.answer_dyn_error(mref, DynError::NoAuth);
            return (Dispatch::Answered, spec.write);
        }
        if spec.id != cmd::PING {
            if spec.write {
                self.stats.pool.client_write_requests += 1;
            } else {
                self.stats.pool.client_read_requests += 1;
            }
        }
        let d = match (spec.route, handling(spec)) {
            // COMMAND and its subcommands describe the datastore: `builtin` forwards them.
            (Route::Proxy, _) => self.builtin(idx, mref, spec.id),
            (_, Handling::Refused(_)) => {
                self.answer_failure(mref, Failure::Unsupported(spec.name));
                Dispatch::Answered
            }
            // The coordinating node's config decides; its copies run wherever they arrive.
            (_, Handling::Flush) if !self.cfg.security.allow_flush && msg.peer.is_none() => {
                let name = spec.name.to_ascii_uppercase();
                self.refuse_flush(mref, &name);
                Dispatch::Answered
            }
            (_, h) => {
                let lane = match (spec.id, h) {
                    (cmd::SCRIPT_KILL | cmd::FUNCTION_KILL, _) => Lane::Urgent,
                    (_, Handling::ByKey { script: true, .. }) => Lane::Script,
                    _ => Lane::Shared,
                };
                if let Some(m) = self.bufs.msgs.get_mut(mref) {
                    m.is_write = spec.write;
                    m.lane = lane;
                }
                match spec.id {
                    cmd::SCRIPT_LOAD => self.learn_script(mref),
                    cmd::SCRIPT_FLUSH => self.scripts.clear(),
                    // Every rack runs the body this node knows, whatever its datastore has.
                    cmd::EVALSHA if !from_peer && self.place.replicated() => {
                        self.evalsha_as_eval(mref)
                    }
                    _ => {}
                }
                if matches!(spec.id, cmd::EVAL | cmd::EVALSHA | cmd::FUNCTION_LOAD) {
                    if let Some(name) = self.nondeterministic_script(mref) {
                        self.stats.script_refusals += 1;
                        self.answer_failure(mref, Failure::Nondeterministic(name));
                        return (Dispatch::Answered, spec.write);
                    }
                }
                self.count_redis_command(spec.id);
                self.route_keyed(idx, mref, spec.write, h)
            }
        };
        (d, spec.write)
    }

    /// Route one memcached request. Returns what to do with it and whether it is a write.
    pub(super) fn route_memcache(&mut self, idx: u32, mref: MsgRef) -> (Dispatch, bool) {
        let Some(msg) = self.bufs.msgs.get(mref) else {
            return (Dispatch::Answered, false);
        };
        if msg.req.error.is_some() {
            self.answer_req_error(mref);
            return (Dispatch::Answered, false);
        }
        let cmd = McCmd::from_u16(msg.req.cmd);
        let (from_peer, noreply, nargs) = (msg.peer.is_some(), msg.req.noreply, msg.req.nargs);
        if cmd == Some(McCmd::Quit) {
            // memcached closes without a reply (Dynomite answers "+OK", a quirk we fix).
            if let Some(c) = self.inbound_of(idx) {
                c.closing = true;
            }
            self.answer(mref, b"");
            return (Dispatch::Answered, false);
        }
        let write = cmd.map(|c| !c.is_read()).unwrap_or(true);
        if write {
            self.stats.pool.client_write_requests += 1;
        } else {
            self.stats.pool.client_read_requests += 1;
        }
        if let Some(m) = self.bufs.msgs.get_mut(mref) {
            m.is_write = write;
        }
        let h = match cmd {
            Some(McCmd::Get) | Some(McCmd::Gets) => Handling::Split(SplitKind::McGet),
            Some(McCmd::Version) => Handling::Local,
            Some(McCmd::Verbosity) => {
                // The proxy has no memcached log level; memcached takes any level with `OK`.
                self.answer(mref, if noreply { b"" } else { b"OK\r\n" });
                return (Dispatch::Answered, write);
            }
            Some(McCmd::Stats) if from_peer => Handling::Local,
            Some(McCmd::Stats) if nargs == 1 => {
                let local = self.local_rack_slot();
                return (self.fanout(idx, mref, FanKind::McStats { local }), write);
            }
            // `stats settings|items|slabs|...` describe one memcached: in a rack of several,
            // which one would be a guess.
            Some(McCmd::Stats) if self.rack_is_sharded() => {
                self.answer(mref, MC_STATS_SHARDED);
                return (Dispatch::Answered, write);
            }
            Some(McCmd::Stats) => Handling::Local,
            Some(McCmd::FlushAll) if !self.cfg.security.allow_flush && !from_peer => {
                self.refuse_flush(mref, "flush_all");
                return (Dispatch::Answered, write);
            }
            Some(McCmd::FlushAll) => Handling::Flush,
            _ => Handling::ByKey {
                multi: false,
                script: false,
                quorum: true,
            },
        };
        (self.route_keyed(idx, mref, write, h), write)
    }

    /// A script every rack would run on its own (`EVAL`, or a library `FUNCTION LOAD`
    /// installs on every node, through a cluster of several racks, from a client) that calls
    /// a command whose result each datastore chooses for itself: that command's name.
    /// An `EVALSHA` is checked once it travels as the `EVAL` of a body this node knows;
    /// `EVAL_RO`/`FCALL_RO` run on one rack and change nothing.
    fn nondeterministic_script(&mut self, mref: MsgRef) -> Option<&'static str> {
        let m = self.bufs.msgs.get(mref)?;
        let arg = match m.req.cmd {
            cmd::EVAL => 1,
            cmd::FUNCTION_LOAD => (m.req.nargs as usize).checked_sub(1)?,
            _ => return None,
        };
        if m.peer.is_some() || !self.place.replicated() {
            return None;
        }
        self.bufs.req_arg(mref, arg, &mut self.scratch.arg);
        redis::script::nondeterministic_call(&self.scratch.arg)
    }

    /// `FLUSHALL`, `FLUSHDB`, `flush_all` without `allow_flush: true`.
    fn refuse_flush(&mut self, mref: MsgRef, name: &str) {
        let enable = "allow_flush: true";
        self.answer_failure(mref, Failure::Disabled { name, enable });
    }

    /// Where a request for the datastore goes, by its origin: another node's DMSG_REQ runs
    /// here (the owner role); a DMSG_REQ_FORWARD is fanned out to this DC (the forwarder
    /// role); a client's request as the command table says (`handling`).
    fn route_keyed(&mut self, idx: u32, mref: MsgRef, write: bool, h: Handling) -> Dispatch {
        match self.bufs.msgs.get(mref).and_then(|m| m.peer) {
            Some(p) if p.forward => return self.forward_dc(idx, mref, write),
            Some(_) => return self.state_gate(idx, mref, write),
            None => {}
        }
        match h {
            // Fanned out also in a rack of one node while read repair may have left its
            // metadata keys there: the fan-in leaves them out.
            Handling::Keyspace(k) if self.rack_is_sharded() || self.node.read_repairs => match k {
                Keyspace::Keys => self.fanout(idx, mref, FanKind::Keys),
                Keyspace::Dbsize => self.fanout(idx, mref, FanKind::Dbsize),
                Keyspace::RandomKey => self.fanout(idx, mref, FanKind::RandomKey),
                Keyspace::Scan => self.scan(idx, mref),
                Keyspace::Info if self.info_wants_keyspace(mref) => {
                    let local = self.local_rack_slot();
                    self.fanout(idx, mref, FanKind::Info { local })
                }
                Keyspace::Info => self.state_gate(idx, mref, write),
            },
            Handling::Local | Handling::Keyspace(_) => self.state_gate(idx, mref, write),
            Handling::Broadcast | Handling::Flush => {
                // A write for every node is answered at the write consistency; a KILL (to
                // end a script, which most racks may not be running) and `noreply` as one.
                let (lane, noreply) = self
                    .bufs
                    .msgs
                    .get(mref)
                    .map_or((Lane::Shared, false), |m| (m.lane, m.req.noreply));
                let quorum = write
                    && !noreply
                    && lane != Lane::Urgent
                    && self.level_for(idx, true) != crate::types::Consistency::DcOne;
                if quorum && self.broadcast_quorum(idx, mref) {
                    return Dispatch::Answered;
                }
                self.broadcast(idx, mref, write);
                self.state_gate(idx, mref, write)
            }
            Handling::Split(kind) => {
                if self.split(idx, mref, write, kind) {
                    Dispatch::Answered
                } else {
                    self.coordinate(idx, mref, write, true)
                }
            }
            Handling::ByKey {
                multi,
                script,
                quorum,
            } => {
                // A request that is not split runs as one request on one node of every rack:
                // its keys must all live there (a script's: Dynomite's error for it).
                if multi && self.keys_span_nodes(mref, script) {
                    if script {
                        self.answer_dyn_error(mref, DynError::ScriptSpansNodes);
                    } else {
                        self.stats.crossslot_refusals += 1;
                        self.answer_failure(mref, Failure::CrossSlot);
                    }
                    return Dispatch::Answered;
                }
                // Replicated: every rack must apply the same expiry moment, and the same
                // change where the command would choose for itself.
                if write && self.place.nodes() > 1 {
                    self.absolute_expiry(mref);
                    self.mark_effect(mref);
                }
                self.coordinate(idx, mref, write, quorum)
            }
            Handling::Proxy | Handling::Refused(_) => {
                self.answer_dyn_error(mref, DynError::Unknown);
                Dispatch::Answered
            }
        }
    }

    /// Apply the node state to a request for the local datastore (SPEC §10.1).
    pub(super) fn state_gate(&mut self, idx: u32, mref: MsgRef, write: bool) -> Dispatch {
        match gate(self.node.state, write) {
            Gate::Forward => Dispatch::Forward,
            Gate::Hold if self.node.held.len() < MAX_HELD_WRITES => {
                let peer_resp3 = self
                    .bufs
                    .msgs
                    .get(mref)
                    .and_then(|m| m.peer)
                    .is_some_and(|p| p.resp3);
                let resp3 = self.client_of(idx).is_some_and(|c| c.resp3) || peer_resp3;
                if let Some(m) = self.bufs.msgs.get_mut(mref) {
                    m.is_write = true;
                    m.t.queued = self.now_ns;
                }
                self.node.held.push_back(Held {
                    client: idx,
                    msg: mref,
                    pool: Self::pool_of(resp3),
                });
                Dispatch::Answered
            }
            Gate::Hold | Gate::Refuse => {
                self.answer_dyn_error(mref, DynError::InvalidState);
                Dispatch::Answered
            }
        }
    }

    /// Change the node state; leaving WRITES_ONLY sends the held writes in arrival order
    /// (Dynomite leaves them stuck when going straight to NORMAL; we do not).
    pub fn set_state(&mut self, state: NodeState) {
        let old = self.node.state;
        self.node.state = state;
        crate::log_notice!("node state {old} -> {state}");
        if state == NodeState::Normal || state == NodeState::Resuming {
            while let Some(h) = self.node.held.pop_front() {
                if self.bufs.msgs.get(h.msg).is_some() {
                    self.forward_local(h.client, h.msg, h.pool);
                }
            }
        }
    }

    /// Fail held writes older than the request timeout (the client must not wait forever).
    pub(super) fn expire_held(&mut self) {
        let timeout = self.server_timeout_ns();
        while let Some(h) = self.node.held.front() {
            match self.bufs.msgs.get(h.msg) {
                Some(m) if m.t.queued + timeout > self.now_ns => break,
                Some(_) => {
                    let h = self.node.held.pop_front().expect("front");
                    self.answer_dyn_error(h.msg, DynError::InvalidState);
                }
                None => {
                    self.node.held.pop_front();
                }
            }
        }
    }

    /// Dynomite's per-command counters, for requests sent to the local datastore.
    fn count_redis_command(&mut self, id: u16) {
        let s = &mut self.stats.server;
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
