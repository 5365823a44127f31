//! `falcon_pachinko._native`: module glue only.
//!
//! Each concern lives in its own file; `frame`, `fanout` and the core of `bus`
//! are PyO3-free and
//! covered by `cargo test`. The Python package's `_accel` module is the only
//! importer of this module.

pub mod bus;
mod errors;
pub mod fanout;
pub mod frame;
mod hub;
mod lookup;

use pyo3::prelude::*;

/// Bumped whenever the native contract changes; `_accel` refuses a module
/// whose ABI differs from the pure twin's.
pub const ACCEL_ABI: u32 = 2;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("ACCEL_ABI", ACCEL_ABI)?;
    m.add_function(wrap_pyfunction!(lookup::scan_frame, m)?)?;
    m.add_class::<lookup::TagTable>()?;
    m.add_class::<hub::FanoutHub>()?;
    m.add("BUS_KINDS", pyo3::types::PyTuple::new(m.py(), bus::KINDS)?)?;
    m.add_function(wrap_pyfunction!(bus::encode_bus_frame, m)?)?;
    m.add_function(wrap_pyfunction!(bus::decode_bus_frame, m)?)?;
    Ok(())
}
