#![no_main]
//! cargo-fuzz target `dns_seeds`: the body and its oracle are `dynomite::fuzzing::dns_seeds`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| dynomite::fuzzing::dns_seeds(data));
