//! The node's counters and histograms (what `/info` and `/metrics` show), and the rules for
//! which counters a connection's traffic feeds.

use std::time::{Duration, Instant};

use super::model::{Histograms, PoolStats, ServerStats};

/// How long the latency and queue histograms collect before they start again (Dynomite's).
pub const HISTOGRAM_WINDOW: Duration = Duration::from_secs(300);

/// Which counters a connection's traffic feeds: the datastore's, or Dynomite's peer counters
/// (same DC) or remote-peer counters (other DC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Datastore,
    LocalPeer,
    RemotePeer,
}

pub struct Stats {
    pub pool: PoolStats,
    pub server: ServerStats,
    pub histos: Histograms,
    /// When the histograms start again.
    pub histo_reset_at: Instant,
    /// Reads served by another rack because the local datastore was down.
    pub read_failovers: u64,
    /// Requests refused because their keys live on different nodes (CROSSSLOT).
    pub crossslot_refusals: u64,
    /// Replicated scripts refused because they call a non-deterministic command.
    pub script_refusals: u64,
    /// The stats port's refusals: admin calls without the right token (401), paths that
    /// name no endpoint (404).
    pub admin: AdminStats,
    /// Hinted handoff, for `/info`.
    pub hints: HintStats,
    /// Read repair, for `/info` and `/metrics`.
    pub repair: RepairStats,
    /// What the limits refused.
    pub limits: LimitStats,
}

/// What the limits of clients, requests and peers refused (README, "Security").
#[derive(Clone, Copy, Debug, Default)]
pub struct LimitStats {
    /// Clients closed for leaving `HARD_PENDING_BYTES` of replies unread.
    pub closed_unread: u64,
    /// Clients refused at `client_connections`.
    pub rejected_clients: u64,
    /// Requests over a request cap (their client is closed, as Redis does).
    pub over_limits: u64,
    /// Incoming peer connections closed for a malformed frame.
    pub bad_frames: u64,
    /// Gossiped nodes not added past `max_gossip_nodes`.
    pub gossip_refused: u64,
}

/// What read repair did.
#[derive(Clone, Copy, Debug, Default)]
pub struct RepairStats {
    /// Writes recorded with their moment.
    pub writes: u64,
    /// Quorum reads answered from their replicas' moments.
    pub reads: u64,
    /// Reads that found replicas behind (keys repaired).
    pub keys: u64,
    /// Repair writes sent (one per replica behind).
    pub issued: u64,
    /// Tombstones cleaned up once every replica agreed.
    pub cleanups: u64,
}

/// What the stats port refused.
#[derive(Clone, Copy, Debug, Default)]
pub struct AdminStats {
    pub unauthorized: u64,
    pub not_found: u64,
}

/// Counters of hinted handoff for `/info`.
#[derive(Default)]
pub struct HintStats {
    pub stored: u64,
    pub replayed: u64,
    /// Over a bound or too old (`expired` counts the latter too).
    pub dropped: u64,
    /// Older than `hints_max_age`.
    pub expired: u64,
}

impl Stats {
    pub fn new(now: Instant) -> Stats {
        Stats {
            pool: PoolStats::default(),
            server: ServerStats::default(),
            histos: Histograms::default(),
            histo_reset_at: now + HISTOGRAM_WINDOW,
            read_failovers: 0,
            crossslot_refusals: 0,
            script_refusals: 0,
            admin: AdminStats::default(),
            hints: HintStats::default(),
            repair: RepairStats::default(),
            limits: LimitStats::default(),
        }
    }

    pub fn reset_histograms(&mut self, now: Instant) {
        self.histos.reset_all();
        self.histo_reset_at = now + HISTOGRAM_WINDOW;
    }

    /// Requests waiting to be written: `n` more (or fewer), `bytes` of them.
    pub fn in_queue(&mut self, k: Kind, n: i64, bytes: i64) {
        let (q, b) = match k {
            Kind::Datastore => (&mut self.server.in_queue, &mut self.server.in_queue_bytes),
            Kind::LocalPeer => (
                &mut self.pool.peer_in_queue,
                &mut self.pool.peer_in_queue_bytes,
            ),
            Kind::RemotePeer => (
                &mut self.pool.remote_peer_in_queue,
                &mut self.pool.remote_peer_in_queue_bytes,
            ),
        };
        *q = q.saturating_add_signed(n);
        *b = b.saturating_add_signed(bytes);
    }

    /// Requests written and waiting for their reply: `n` more (or fewer), `bytes` of them.
    pub fn out_queue(&mut self, k: Kind, n: i64, bytes: i64) {
        let (q, b) = match k {
            Kind::Datastore => (&mut self.server.out_queue, &mut self.server.out_queue_bytes),
            Kind::LocalPeer => (
                &mut self.pool.peer_out_queue,
                &mut self.pool.peer_out_queue_bytes,
            ),
            Kind::RemotePeer => (
                &mut self.pool.remote_peer_out_queue,
                &mut self.pool.remote_peer_out_queue_bytes,
            ),
        };
        *q = q.saturating_add_signed(n);
        *b = b.saturating_add_signed(bytes);
    }

    pub fn eof(&mut self, k: Kind) {
        match k {
            Kind::Datastore => self.server.server_eof += 1,
            _ => self.pool.peer_eof += 1,
        }
    }

    pub fn err(&mut self, k: Kind) {
        match k {
            Kind::Datastore => self.server.server_err += 1,
            _ => self.pool.peer_err += 1,
        }
    }

    /// A timeout on a connection, and how many requests it failed.
    pub fn timedout(&mut self, k: Kind, requests: u64) {
        match k {
            Kind::Datastore => {
                self.server.server_timedout += 1;
                self.server.server_timedout_requests += requests;
            }
            Kind::LocalPeer => {
                self.pool.peer_timedout += 1;
                self.pool.peer_timedout_requests += requests;
            }
            Kind::RemotePeer => {
                self.pool.remote_peer_timedout += 1;
                self.pool.remote_peer_timedout_requests += requests;
            }
        }
    }

    /// Queue lengths and waits go to the histograms of the connection's kind.
    pub fn queues(
        &mut self,
        k: Kind,
        in_len: Option<u64>,
        out_len: Option<u64>,
        wait_us: Option<u64>,
    ) {
        let h = &mut self.histos;
        let (i, o, w) = match k {
            Kind::Datastore => (
                &mut h.server_in_queue,
                &mut h.server_out_queue,
                &mut h.server_queue_wait,
            ),
            Kind::LocalPeer => (
                &mut h.peer_in_queue,
                &mut h.peer_out_queue,
                &mut h.cross_zone_queue_wait,
            ),
            Kind::RemotePeer => (
                &mut h.remote_peer_in_queue,
                &mut h.remote_peer_out_queue,
                &mut h.cross_region_queue_wait,
            ),
        };
        if let Some(v) = in_len {
            i.record(v);
        }
        if let Some(v) = out_len {
            o.record(v);
        }
        if let Some(v) = wait_us {
            w.record(v);
        }
    }

    /// The queue-wait histogram of a connection kind.
    pub fn wait_histogram(&mut self, k: Kind) -> &mut super::histogram::Histogram {
        match k {
            Kind::Datastore => &mut self.histos.server_queue_wait,
            Kind::LocalPeer => &mut self.histos.cross_zone_queue_wait,
            Kind::RemotePeer => &mut self.histos.cross_region_queue_wait,
        }
    }
}

/// Wall-clock milliseconds since the epoch (the `*_at` stats, gossip clocks).
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
