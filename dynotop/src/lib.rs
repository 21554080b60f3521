//! dynotop's library: pure dashboard state, `/info` parsing, fetching, and the panes.

pub mod app;
pub mod datastore;
pub mod fetch;
#[doc(hidden)]
pub mod fixture;
pub mod sample;
pub mod term;
pub mod topology;
pub mod ui;
