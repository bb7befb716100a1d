//! libFuzzer entry point of the `round_trip` target; see `spread_fuzz::round_trip`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| spread_fuzz::round_trip(data));
