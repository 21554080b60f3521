//! End-to-end tests: real redis-server / memcached / dynomited processes on loopback.
//!
//! Every test starts its own datastore and node on free ports and kills them (by PID) when it
//! ends; waits use deadlines, never fixed sleeps; every load loop is bounded.

mod util;

mod admin;
mod auth;
mod cli;
pub mod cluster;
pub mod dynoctl;
mod dynotop;
mod limits;
mod membership;
mod memcache;
mod partition;
mod peer;
mod read_repair;
mod redis;
mod repair;
mod ring;
mod stats;
mod tls;
