#![no_main]
//! cargo-fuzz target `redis_reply`: the body and its oracle are `dynomite::fuzzing::redis_reply`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| dynomite::fuzzing::redis_reply(data));
