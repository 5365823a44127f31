//! Every input a fuzz target once failed on, replayed on stable.
//!
//! `cargo fuzz` saves crashing inputs under `artifacts/<target>/`; commit
//! them (or copy them to `regressions/<target>/`) and this test runs each
//! through the same check, so `make test` keeps them fixed. An empty folder
//! is a pass: the count is printed.

use std::fs;
use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut count = 0;
    for folder in ["artifacts", "regressions"] {
        let Ok(entries) = fs::read_dir(root.join(folder).join(target)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_file() {
                let data = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                check(&data);
                count += 1;
            }
        }
    }
    println!("{target}: {count} saved inputs replayed");
    count
}

#[test]
fn saved_inputs_pass_their_checks() {
    replay("frame_scan", falcon_pachinko_fuzz::frame_scan::check);
    replay("tag_table", falcon_pachinko_fuzz::tag_table::check);
    replay("hub_ops", falcon_pachinko_fuzz::hub_ops::check);
}

#[test]
fn the_checks_run_on_known_inputs() {
    // The replay must exercise real checks: a valid frame, a table input and
    // an operation sequence each go through without a panic.
    falcon_pachinko_fuzz::frame_scan::check(br#"{"type":"a","payload":[1,{"b":null}]}"#);
    falcon_pachinko_fuzz::tag_table::check(b"\x00\x40\x08{\"type\":\"x\"}");
    falcon_pachinko_fuzz::hub_ops::check(&[7, 0, 1, 2, 1, 11, 3, 9, 1, 1, 1]);
}
