//! libFuzzer entry point of the `banana` target; see `spread_fuzz::banana`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| spread_fuzz::banana(data));
