//! Keyspace commands (`KEYS`, `DBSIZE`, `RANDOMKEY`) on a rack of several nodes: each node
//! holds a share of the keys, so the request runs on every node of the local rack and the
//! replies are combined (`collect.rs`, `proto::fanout`) into what one redis-server holding
//! the whole dataset answers. A rack of one node answers alone, as before.
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
            let slot = slot as u16;
            if node == 0 {
                match self.local_child(mref, slot) {
                    Some(child) => {
                        if let Dispatch::Forward = self.state_gate(client, child, false) {
                            self.forward_local(client, child, Self::pool_of(resp3));
                        }
                    }
                    None => self.agg_part_failed(mref, slot, DynError::Unknown),
                }
                continue;
            }
            match self.send_copy(hint, mref, node, MsgType::Req, resp3, Some(mref)) {
                Some(copy) => {
                    if let Some(c) = self.bufs.msgs.get_mut(copy) {
                        c.slot = slot;
                    }
                }
                None => {
                    self.stats.pool.peer_forward_error += 1;
                    self.agg_part_failed(mref, slot, DynError::PeerHostNotConnected);
                }
            }
        }
        self.scratch.nodes = nodes;
        self.agg_built(mref, agg);
        Dispatch::Answered
    }
}
