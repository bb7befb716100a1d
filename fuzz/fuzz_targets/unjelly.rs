//! libFuzzer entry point of the `unjelly` target; see `spread_fuzz::unjelly`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| spread_fuzz::unjelly(data));
