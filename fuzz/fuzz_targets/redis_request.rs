#![no_main]
//! cargo-fuzz target `redis_request`: the body and its oracle are `dynomite::fuzzing::redis_request`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| dynomite::fuzzing::redis_request(data));
