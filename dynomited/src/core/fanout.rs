//! Keyspace commands (`KEYS`, `DBSIZE`, `RANDOMKEY`) on a rack of several nodes: each node
//! holds a share of the keys, so the request runs on every node of the local rack and the
//! replies are combined (`collect.rs`, `proto::fanout`) into what one redis-server holding
//! the whole dataset answers. A rack of one node answers alone, as before.
//!
//! `SCAN` walks the rack's nodes one after the other: the client's cursor names the node
//! and its cursor there; each call goes to that one node (`proto::fanout` for the cursor).
//!
//! ```text
//!   KEYS p ─► this node's datastore ─┐
//!          ─► node 2 (DMSG_REQ) ─────┼─► collector ─► the union / the sum / one key
//!          ─► node 3 (DMSG_REQ) ─────┘
//! ```

use super::collect::{Collect, FanKind};
use super::route::Dispatch;
use super::Core;
use crate::msg::MsgRef;
use crate::peer::MsgType;
use crate::proto::error::DynError;
use crate::proto::fanout::scan_decode;
use crate::proto::redis::cmd;
use crate::proto::ARGS_MAX;

impl Core {
    /// Whether the local rack has several nodes (keyspace commands must ask them all).
    pub(super) fn rack_is_sharded(&self) -> bool {
        let (ldc, lrack) = self.place.local_rack();
        self.place
            .topo()
            .dcs
            .get(ldc)
            .and_then(|d| d.racks.get(lrack))
            .is_some_and(|r| r.nodes.len() > 1)
    }

    /// This node's position among the local rack's nodes (the part a fan-out calls `local`).
    pub(super) fn local_rack_slot(&self) -> u16 {
        let (ldc, lrack) = self.place.local_rack();
        let nodes = &self.place.topo().dcs[ldc].racks[lrack].nodes;
        nodes.iter().position(|&n| n == 0).unwrap_or(0) as u16
    }

    /// Whether an INFO request asks for the keyspace section (no section named, or
    /// `keyspace`, `all`, `everything`, `default`).
    pub(super) fn info_wants_keyspace(&mut self, mref: MsgRef) -> bool {
        let nargs = self.bufs.msgs.get(mref).map_or(0, |m| m.req.nargs as usize);
        if nargs < 2 {
            return true;
        }
        (1..nargs.min(crate::proto::ARGS_MAX)).any(|i| {
            self.bufs.req_arg(mref, i, &mut self.scratch.arg);
            let a = self.scratch.arg.to_ascii_lowercase();
            matches!(
                a.as_slice(),
                b"keyspace" | b"all" | b"everything" | b"default"
            )
        })
    }

    /// Run `mref` on every node of the local rack and answer with the combined replies.
    pub(super) fn fanout(&mut self, client: u32, mref: MsgRef, kind: FanKind) -> Dispatch {
        let (ldc, lrack) = self.place.local_rack();
        let mut nodes = std::mem::take(&mut self.scratch.nodes);
        nodes.clear();
        nodes.extend_from_slice(&self.place.topo().dcs[ldc].racks[lrack].nodes);
        let resp3 = self.client_of(client).is_some_and(|c| c.resp3);
        let agg = self.agg_alloc(mref, Collect::Fanout(kind), nodes.len());
        let hint = self.fd_hint(client);
        for (slot, &node) in nodes.iter().enumerate() {
            self.send_part(client, hint, mref, slot as u16, node, false, resp3);
        }
        self.scratch.nodes = nodes;
        self.agg_built(mref, agg);
        Dispatch::Answered
    }

    /// SCAN on a sharded rack: the node the client's cursor names, with its own cursor.
    pub(super) fn scan(&mut self, client: u32, mref: MsgRef) -> Dispatch {
        let (ldc, lrack) = self.place.local_rack();
        let nodes = &self.place.topo().dcs[ldc].racks[lrack].nodes;
        let n = nodes.len();
        let nargs = self.bufs.msgs.get(mref).map_or(0, |m| m.req.nargs as usize);
        let cursor = self
            .bufs
            .req_arg(mref, 1, &mut self.scratch.arg)
            .then(|| scan_decode(&self.scratch.arg, n))
            .flatten();
        let Some((c, i)) = cursor else {
            self.answer(mref, b"-ERR invalid cursor\r\n");
            return Dispatch::Answered;
        };
        if nargs > ARGS_MAX {
            self.answer(mref, b"-ERR syntax error\r\n");
            return Dispatch::Answered;
        }
        let target = nodes[i];
        // The node's request: the client's arguments with the node's own cursor.
        let mut req = std::mem::take(&mut self.scratch.out);
        req.clear();
        req.extend_from_slice(format!("*{nargs}\r\n$4\r\nSCAN\r\n").as_bytes());
        let c = c.to_string();
        req.extend_from_slice(format!("${}\r\n{c}\r\n", c.len()).as_bytes());
        for a in 2..nargs {
            self.bufs.req_arg(mref, a, &mut self.scratch.arg);
            req.extend_from_slice(format!("${}\r\n", self.scratch.arg.len()).as_bytes());
            req.extend_from_slice(&self.scratch.arg);
            req.extend_from_slice(b"\r\n");
        }
        let child = self.bufs.msgs.alloc(self.now_ns, None);
        let Some(child) = child else {
            self.scratch.out = req;
            self.answer_dyn_error(mref, DynError::Unknown);
            return Dispatch::Answered;
        };
        if let Some(m) = self.bufs.msgs.get_mut(child) {
            self.bufs.mbufs.append_bytes(&mut m.req_segs, &req);
            m.req_len = req.len();
            m.req.cmd = cmd::SCAN;
            m.req.nargs = nargs as u32;
        }
        self.scratch.out = req;
        let kind = FanKind::Scan {
            node: i as u16,
            nodes: n as u16,
        };
        let agg = self.agg_alloc(mref, Collect::Fanout(kind), 1);
        let resp3 = self.client_of(client).is_some_and(|c| c.resp3);
        if target == 0 {
            if let Some(m) = self.bufs.msgs.get_mut(child) {
                m.parent = Some(mref);
            }
            if let Dispatch::Forward = self.state_gate(client, child, false) {
                self.forward_local(client, child, Self::pool_of(resp3));
            }
        } else {
            // The child is the copy's template: the copy carries its bytes, answers `mref`.
            let hint = self.fd_hint(client);
            let copy = self.send_copy(hint, child, target, MsgType::Req, resp3, Some(mref));
            self.bufs.free_msg(child);
            if copy.is_none() {
                self.stats.pool.peer_forward_error += 1;
                self.agg_part_failed(mref, 0, DynError::PeerHostNotConnected);
            }
        }
        self.agg_built(mref, agg);
        Dispatch::Answered
    }
}
