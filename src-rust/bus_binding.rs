//! Python binding of the bus-frame codec (`bus.rs` holds the PyO3-free core).

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString, PyTuple};

use crate::bus::{decode, encode, BusError, BusErrorKind, Payload, KINDS};

pyo3::import_exception!(falcon_pachinko.exceptions, BusFrameError);

fn bus_error(e: BusError) -> PyErr {
    BusFrameError::new_err((e.kind.as_str(), e.position))
}

fn type_name(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(obj.get_type().name()?.to_string())
}

fn text_arg<'a>(obj: &'a Bound<'_, PyAny>) -> PyResult<&'a str> {
    match obj.cast::<PyString>() {
        Ok(s) => s.to_str(),
        Err(_) => Err(PyTypeError::new_err(format!(
            "expected str, not {}",
            type_name(obj)?
        ))),
    }
}

/// `encode_bus_frame(kind, target, exclude, origin, payload) -> bytes`.
#[pyfunction]
#[pyo3(signature = (kind, target, exclude, origin, payload, /))]
pub fn encode_bus_frame<'py>(
    py: Python<'py>,
    kind: &Bound<'py, PyAny>,
    target: &Bound<'py, PyAny>,
    exclude: &Bound<'py, PyAny>,
    origin: &Bound<'py, PyAny>,
    payload: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let Ok(kind) = kind.cast::<PyString>() else {
        return Err(PyTypeError::new_err(format!(
            "kind must be str, not {}",
            type_name(kind)?
        )));
    };
    let kind_str = kind.to_str()?;
    let Some(index) = KINDS.iter().position(|k| *k == kind_str) else {
        return Err(bus_error(BusError {
            kind: BusErrorKind::TargetKind,
            position: 0,
        }));
    };
    let target = text_arg(target)?;
    // Same order of checks as the pure twin: exclude ids, origin, payload.
    let mut owned: Vec<Bound<'py, PyAny>> = Vec::new();
    if !exclude.is_none() {
        for item in exclude.try_iter()? {
            owned.push(item?);
        }
    }
    let mut ids = Vec::with_capacity(owned.len());
    for item in &owned {
        ids.push(text_arg(item)?);
    }
    let origin = text_arg(origin)?;
    let body = if let Ok(b) = payload.cast::<PyBytes>() {
        Payload::Binary(b.as_bytes())
    } else if let Ok(s) = payload.cast::<PyString>() {
        Payload::Text(s.to_str()?)
    } else {
        return Err(PyTypeError::new_err(format!(
            "payload must be str or bytes, not {}",
            type_name(payload)?
        )));
    };
    let out = encode(index, target, &ids, origin, body).map_err(bus_error)?;
    Ok(PyBytes::new(py, &out))
}

/// `decode_bus_frame(frame, max_size=16 MiB) -> (kind, target, exclude, origin, payload)`.
#[pyfunction]
#[pyo3(signature = (frame, /, *, max_size = 16_777_216))]
pub fn decode_bus_frame<'py>(
    py: Python<'py>,
    frame: &Bound<'py, PyAny>,
    max_size: usize,
) -> PyResult<Bound<'py, PyTuple>> {
    let Ok(bytes) = frame.cast::<PyBytes>() else {
        return Err(PyTypeError::new_err(format!(
            "frame must be bytes, not {}",
            type_name(frame)?
        )));
    };
    let f = decode(bytes.as_bytes(), max_size).map_err(bus_error)?;
    // `decode` only returns kinds it found in KINDS; checked, never indexed.
    let kind = KINDS.get(f.kind).copied().ok_or_else(|| {
        bus_error(BusError {
            kind: BusErrorKind::TargetKind,
            position: 3,
        })
    })?;
    let exclude = PyTuple::new(py, f.exclude.iter().map(|s| PyString::new(py, s)))?;
    let payload = match f.payload {
        Payload::Text(s) => PyString::new(py, s).into_any(),
        Payload::Binary(b) => PyBytes::new(py, b).into_any(),
    };
    PyTuple::new(
        py,
        [
            PyString::new(py, kind).into_any(),
            PyString::new(py, f.target).into_any(),
            exclude.into_any(),
            PyString::new(py, f.origin).into_any(),
            payload,
        ],
    )
}
