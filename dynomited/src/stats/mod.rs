//! Stats: the pure model (metric table, histograms, /info JSON, Prometheus, admin HTTP).
pub mod describe;
pub mod histogram;
pub mod http;
pub mod model;
