//! cargo-fuzz entry point: the checks live in `src/tag_table.rs` so that
//! `make test` replays saved inputs on stable (`fuzz/tests/replay.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| falcon_pachinko_fuzz::tag_table::check(data));
