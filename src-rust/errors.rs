//! Python exception classes, imported from `falcon_pachinko.exceptions`.
//!
//! Rust never defines its own exception types: both implementations raise the
//! very same classes, so `except FrameError` works whichever one is loaded.

use pyo3::prelude::*;

use crate::fanout::HubError;
use crate::frame::ScanError;

pyo3::import_exception!(falcon_pachinko.exceptions, FrameError);
pyo3::import_exception!(falcon_pachinko.exceptions, WebSocketConnectionNotFoundError);

/// `FrameError(kind, position)`; the message is built on the Python side.
pub fn frame_error(err: ScanError) -> PyErr {
    FrameError::new_err((err.kind.as_str(), err.position))
}

pub fn hub_error(err: HubError, id: &str) -> PyErr {
    match err {
        HubError::Duplicate => {
            pyo3::exceptions::PyValueError::new_err(format!("Duplicate connection ID: {id}"))
        }
        HubError::NotFound => WebSocketConnectionNotFoundError::new_err(id.to_owned()),
    }
}
