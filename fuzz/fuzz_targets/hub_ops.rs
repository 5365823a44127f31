//! cargo-fuzz entry point: the checks live in `src/hub_ops.rs` so that
//! `make test` replays saved inputs on stable (`fuzz/tests/replay.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| falcon_pachinko_fuzz::hub_ops::check(data));
