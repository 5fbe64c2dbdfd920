#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| crow_server::fuzzing::answer_head(data));
