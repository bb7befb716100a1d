//! libFuzzer entry point of the `proto_server` target; see `spread_fuzz::proto_server`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| spread_fuzz::proto_server(data));
