#![no_main]
//! cargo-fuzz target `memcache_reply`: the body and its oracle are `dynomite::fuzzing::memcache_reply`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| dynomite::fuzzing::memcache_reply(data));
