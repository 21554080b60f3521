#![no_main]
//! cargo-fuzz target `stats_http`: the body and its oracle are `dynomite::fuzzing::stats_http`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| dynomite::fuzzing::stats_http(data));
