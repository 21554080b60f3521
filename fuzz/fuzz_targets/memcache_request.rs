#![no_main]
//! cargo-fuzz target `memcache_request`: the body and its oracle are `dynomite::fuzzing::memcache_request`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| dynomite::fuzzing::memcache_request(data));
