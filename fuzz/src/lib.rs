//! The fuzz targets' checks, one module per target.
//!
//! `fuzz_targets/*.rs` hand each libFuzzer input to `check`;
//! `tests/replay.rs` hands it every input saved under `artifacts/` (and
//! `regressions/`), so a failure once found stays a test that `make test`
//! runs without nightly.
pub mod frame_scan;
pub mod hub_ops;
pub mod tag_table;
