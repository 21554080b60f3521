//! dynomite-rs: the library behind `dynomited`, `dynoctl` and `dynotop`.
//!
//! Pure modules (no sockets, no syscalls): [`conf`], [`proto`], [`stats::model`], [`types`].
//! Runtime modules (the daemon's single-threaded data path): [`event`], [`mbuf`], [`msg`],
//! [`conn`], [`core`], [`log`].
//! For the operator tools: [`client`] (a small blocking RESP client), [`stats::describe`].

pub mod cli;
pub mod client;
pub mod cluster;
pub mod conf;
pub mod peer;
pub mod proto;
pub mod ring;
pub mod stats;
pub mod tls;
pub mod types;

pub mod conn;
pub mod core;
pub mod daemon;
pub mod event;
pub mod log;
pub mod mbuf;
pub mod msg;

/// The version string printed by `-V` and returned in `/info`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
