#![no_main]
//! cargo-fuzz target `conf_yaml`: the body and its oracle are `dynomite::fuzzing::conf_yaml`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| dynomite::fuzzing::conf_yaml(data));
