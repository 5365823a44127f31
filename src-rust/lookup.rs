//! Frame scan bindings and the per-class tag table.
//!
//! `TagTable.scan` does the frame scan and the tag -> handler-slot lookup in
//! one call, and hands back the table's own interned tag string for known
//! tags, so the per-message path allocates only the payload bytes.

use std::collections::HashMap;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString, PyTuple};

use crate::errors::frame_error;
use crate::frame::{scan_bytes, scan_str, Limits, Scanned};

/// Run the scanner over a `str` or `bytes` frame and pass the result on.
fn with_scan<R>(
    frame: &Bound<'_, PyAny>,
    key: &str,
    limits: Limits,
    then: impl FnOnce(Scanned<'_>) -> PyResult<R>,
) -> PyResult<R> {
    if let Ok(text) = frame.cast::<PyString>() {
        if let Ok(s) = text.to_str() {
            return then(scan_str(s, key, limits).map_err(frame_error)?);
        }
        // Lone surrogates: scan the surrogatepass bytes, which fail UTF-8
        // validation at the same offset as in the pure twin.
        let encoded = text.call_method1("encode", ("utf-8", "surrogatepass"))?;
        let bytes = encoded.cast::<PyBytes>()?;
        return then(scan_bytes(bytes.as_bytes(), key, limits).map_err(frame_error)?);
    }
    if let Ok(bytes) = frame.cast::<PyBytes>() {
        return then(scan_bytes(bytes.as_bytes(), key, limits).map_err(frame_error)?);
    }
    Err(PyTypeError::new_err(format!(
        "frame must be str or bytes, not {}",
        frame.get_type().name()?
    )))
}

fn payload_obj<'py>(py: Python<'py>, payload: Option<&[u8]>) -> Bound<'py, PyAny> {
    match payload {
        Some(raw) => PyBytes::new(py, raw).into_any(),
        None => py.None().into_bound(py),
    }
}

/// Scan one frame: `(tag, payload_bytes_or_None)`.
#[pyfunction]
#[pyo3(signature = (frame, /, *, key = "type", max_size = 1_048_576, max_depth = 64))]
pub fn scan_frame<'py>(
    py: Python<'py>,
    frame: &Bound<'py, PyAny>,
    key: &str,
    max_size: usize,
    max_depth: usize,
) -> PyResult<Bound<'py, PyTuple>> {
    with_scan(
        frame,
        key,
        Limits {
            max_size,
            max_depth,
        },
        |s| {
            PyTuple::new(
                py,
                [
                    PyString::new(py, &s.tag).into_any(),
                    payload_obj(py, s.payload),
                ],
            )
        },
    )
}

/// Tag -> (slot, interned Python tag). Resource classes have a handful of
/// tags, for which comparing bytes in a short vector beats hashing; large
/// tables use a map.
enum Slots {
    Few(Vec<(String, isize, Py<PyString>)>),
    Many(HashMap<String, (isize, Py<PyString>)>),
}

const FEW: usize = 16;

impl Slots {
    fn get(&self, tag: &str) -> Option<(isize, &Py<PyString>)> {
        match self {
            Slots::Few(items) => items
                .iter()
                .find(|(t, _, _)| t == tag)
                .map(|(_, s, p)| (*s, p)),
            Slots::Many(map) => map.get(tag).map(|(s, p)| (*s, p)),
        }
    }

    fn len(&self) -> usize {
        match self {
            Slots::Few(items) => items.len(),
            Slots::Many(map) => map.len(),
        }
    }
}

/// A slot's route: the object returned for it and the optional decoder.
type Route = (Py<PyAny>, Option<Py<PyAny>>);

/// Frozen tag -> slot table built once per resource class.
#[pyclass(frozen, module = "falcon_pachinko._native")]
pub struct TagTable {
    slots: Slots,
    /// Per slot: the Python object `route` returns (a handler entry) and
    /// the decoder for its argument (`None`: no argument to decode).
    routes: Vec<Route>,
    /// `b"null"`, what a missing or `null` payload is decoded from (made
    /// once: the per-frame path allocates nothing for it).
    null: Py<PyBytes>,
    #[pyo3(get)]
    whole_frame: bool,
    #[pyo3(get)]
    key: String,
    #[pyo3(get)]
    max_size: usize,
    #[pyo3(get)]
    max_depth: usize,
}

impl TagTable {
    fn limits(&self) -> Limits {
        Limits {
            max_size: self.max_size,
            max_depth: self.max_depth,
        }
    }
}

#[pymethods]
impl TagTable {
    #[new]
    #[pyo3(signature = (tags, /, *, key = "type", max_size = 1_048_576, max_depth = 64, routes = None, whole_frame = false))]
    fn new(
        py: Python<'_>,
        tags: &Bound<'_, PyDict>,
        key: &str,
        max_size: usize,
        max_depth: usize,
        routes: Option<Vec<Route>>,
        whole_frame: bool,
    ) -> PyResult<Self> {
        let mut map = HashMap::with_capacity(tags.len());
        for (tag, slot) in tags.iter() {
            let tag = tag.cast_into::<PyString>()?;
            let slot: isize = slot.extract()?;
            map.insert(tag.to_str()?.to_owned(), (slot, tag.unbind()));
        }
        let slots = if map.len() <= FEW {
            Slots::Few(map.into_iter().map(|(t, (s, p))| (t, s, p)).collect())
        } else {
            Slots::Many(map)
        };
        Ok(TagTable {
            slots,
            routes: routes.unwrap_or_default(),
            null: PyBytes::new(py, b"null").unbind(),
            whole_frame,
            key: key.to_owned(),
            max_size,
            max_depth,
        })
    }

    /// Slot for `tag`, or -1 when no handler is registered for it.
    #[pyo3(signature = (tag, /))]
    fn lookup(&self, tag: &str) -> isize {
        self.slots.get(tag).map_or(-1, |(slot, _)| slot)
    }

    /// Scan a frame and look its tag up: `(slot, tag, payload_or_None)`.
    #[pyo3(signature = (frame, /))]
    fn scan<'py>(
        &self,
        py: Python<'py>,
        frame: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        with_scan(frame, &self.key, self.limits(), |s| {
            let (slot, tag) = match self.slots.get(s.tag.as_ref()) {
                Some((slot, interned)) => (slot, interned.bind(py).clone()),
                None => (-1, PyString::new(py, &s.tag)),
            };
            PyTuple::new(
                py,
                [
                    slot.into_pyobject(py)?.into_any(),
                    tag.into_any(),
                    payload_obj(py, s.payload),
                ],
            )
        })
    }

    /// Scan, look up and decode in one call: `(entry, value)` for a routed
    /// tag (`value` is the decoder applied to the payload bytes, or to the
    /// whole frame with `whole_frame`; a missing or `null` payload is decoded
    /// from `b"null"`, so the handler's annotation decides whether `None` is
    /// valid; `None` for a slot without a decoder), `(None, (tag, payload))`
    /// for a tag without a route (the scan's own result: never rescanned). `FrameError` and the decoder's own exceptions
    /// propagate.
    #[pyo3(signature = (frame, /))]
    fn route<'py>(
        &self,
        py: Python<'py>,
        frame: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        with_scan(frame, &self.key, self.limits(), |s| {
            let routed = self
                .slots
                .get(s.tag.as_ref())
                .and_then(|(slot, _)| usize::try_from(slot).ok())
                .and_then(|slot| self.routes.get(slot));
            let Some((entry, decode)) = routed else {
                // A miss hands back what the scan found, so the caller can
                // resolve a convention spelling without scanning again.
                let found = PyTuple::new(
                    py,
                    [
                        PyString::new(py, &s.tag).into_any(),
                        payload_obj(py, s.payload),
                    ],
                )?;
                return PyTuple::new(py, [py.None().into_bound(py), found.into_any()]);
            };
            let value = match (decode, self.whole_frame, s.payload) {
                (None, _, _) => py.None().into_bound(py),
                (Some(decode), true, _) => decode.bind(py).call1((frame,))?,
                (Some(decode), false, None) => decode.bind(py).call1((self.null.bind(py),))?,
                (Some(decode), false, Some(raw)) => {
                    decode.bind(py).call1((PyBytes::new(py, raw),))?
                }
            };
            PyTuple::new(py, [entry.bind(py).clone(), value])
        })
    }

    fn __len__(&self) -> usize {
        self.slots.len()
    }

    fn __contains__(&self, tag: &str) -> bool {
        self.slots.get(tag).is_some()
    }
}
