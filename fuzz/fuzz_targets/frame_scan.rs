//! cargo-fuzz entry point: the checks live in `src/frame_scan.rs` so that
//! `make test` replays saved inputs on stable (`fuzz/tests/replay.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| falcon_pachinko_fuzz::frame_scan::check(data));
