#![no_main]
//! cargo-fuzz target `florida_seeds`: the body and its oracle are `dynomite::fuzzing::florida_seeds`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| dynomite::fuzzing::florida_seeds(data));
