//! dynomite-rs: the library behind `dynomited`, `dynoctl` and `dynotop`.
//!
//! Pure (no sockets, no threads; usable from the tools, tests, fuzz targets and benches):
//! [`auth`] (credentials compared in constant time), [`conf`] (its [`conf::load`] also reads the file it is named), [`ring`], [`cluster`] (the
//! routing, replication and quorum decisions), [`proto`] (the datastore parsers, a walker over
//! whole RESP replies, the reply merges), [`peer`] (dnode frames, gossip and seed-list text), [`stats`] (the stats model,
//! histograms, the admin HTTP protocol, `/cluster_describe`), [`types`]. They never import
//! the runtime modules.
//!
//! Runtime (the daemon's single-threaded data path): [`event`] (the syscall boundary),
//! [`mbuf`], [`msg`], [`conn`], [`core`], [`log`].
//!
//! Threads and blocking sockets, off the data path: [`seeds`] (the seed providers: a side
//! thread that fetches the seed list over TCP or UDP; its Florida and DNS codecs are pure),
//! [`client`] (a blocking RESP client for the operator tools; its reply parser is pure).
//!
//! Start-up only: [`cli`] (the command line; writes or checks man pages and completions on
//! request), [`daemon`] (the checks before detaching, and detaching), [`tls`] (peer-link
//! TLS, keyed from `pem_key_file`), [`certs`] (client-listener and datastore TLS from the
//! operator's PEM files, also read again on SIGHUP).

pub mod auth;
pub mod certs;
pub mod cli;
pub mod client;
pub mod cluster;
pub mod conf;
pub mod peer;
pub mod proto;
pub mod resolver;
pub mod ring;
pub mod seeds;
pub mod stats;
pub mod tls;
pub mod types;

/// Fuzz target bodies (for `fuzz/` and the bounded stable runs); not part of the API.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;

pub mod conn;
pub mod core;
pub mod daemon;
pub mod event;
pub mod log;
pub mod mbuf;
pub mod msg;

/// The version string printed by `-V` and returned in `/info`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
