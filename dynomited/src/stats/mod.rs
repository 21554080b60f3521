//! Stats: the pure model (metric table, histograms, /info JSON, Prometheus, admin HTTP), and
//! the node's counters with the rules for which of them a connection's traffic feeds.
pub mod counters;
pub mod describe;
pub mod histogram;
pub mod http;
pub mod model;
