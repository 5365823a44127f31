//! `falcon_pachinko._native`: module glue only.
//!
//! The core is PyO3-free: `frame` (JSON frame scan), `fanout` (membership,
//! outboxes, overflow policy) and `bus` (bus-frame codec) build and test
//! without Python (a plain `cargo test`). The bindings, behind the `python`
//! feature (off by default; maturin turns it on through `extension-module`),
//! are `lookup` (`scan_frame`, `TagTable`),
//! `hub` (`FanoutHub`, `Fanout`), `bus_binding` and `errors` (the Python exception
//! classes).
//! The Python package's `_accel` module is the only importer of this module.

pub mod bus;
pub mod fanout;
pub mod frame;

#[cfg(feature = "python")]
mod bus_binding;
#[cfg(feature = "python")]
mod errors;
#[cfg(feature = "python")]
mod hub;
#[cfg(feature = "python")]
mod lookup;

#[cfg(feature = "python")]
use pyo3::prelude::*;

/// Bumped whenever the native contract changes; `_accel` refuses a module
/// whose ABI differs from the pure twin's.
pub const ACCEL_ABI: u32 = 3;

#[cfg(feature = "python")]
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("ACCEL_ABI", ACCEL_ABI)?;
    m.add_function(wrap_pyfunction!(lookup::scan_frame, m)?)?;
    m.add_class::<lookup::TagTable>()?;
    m.add_class::<hub::FanoutHub>()?;
    m.add_class::<hub::Fanout>()?;
    let policies = fanout::Policy::ALL.map(fanout::Policy::name);
    m.add("POLICIES", pyo3::types::PyTuple::new(m.py(), policies)?)?;
    let states = fanout::State::ALL.map(fanout::State::name);
    m.add("STATES", pyo3::types::PyTuple::new(m.py(), states)?)?;
    m.add("DEFAULT_CAPACITY", fanout::DEFAULT_CAPACITY)?;
    m.add("BUS_KINDS", pyo3::types::PyTuple::new(m.py(), bus::KINDS)?)?;
    m.add_function(wrap_pyfunction!(bus_binding::encode_bus_frame, m)?)?;
    m.add_function(wrap_pyfunction!(bus_binding::decode_bus_frame, m)?)?;
    Ok(())
}
