#![no_main]
//! cargo-fuzz target `dnode_frame`: the body and its oracle are `dynomite::fuzzing::dnode_frame`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| dynomite::fuzzing::dnode_frame(data));
