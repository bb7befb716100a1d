//! libFuzzer entry point of the `proto_client` target; see `spread_fuzz::proto_client`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| spread_fuzz::proto_client(data));
