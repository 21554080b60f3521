#![no_main]
//! cargo-fuzz target `gossip`: the body and its oracle are `dynomite::fuzzing::gossip`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| dynomite::fuzzing::gossip(data));
