//! `FanoutHub`: Python binding of the fan-out core, and `Fanout`, the one
//! result of every delivery.
//!
//! One call per broadcast walks the recipients in Rust, applies the overflow
//! policy to queueing ones, and drives the send coroutine of every idle one
//! with `PyIter_Send` (no `StopIteration` object per completed send). Python
//! only hears about the recipients it must act on: sends that suspended (it
//! hands them to the connection's writer), sends that failed, and peers the
//! policy says to close. Frames are shared references: encoded once, queued
//! by refcount. A single-target send returns the same `Fanout`.

use std::collections::HashSet;

use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::iterator::PySendResult;
use pyo3::types::{PyIterator, PyList, PyString};

use crate::errors::hub_error;
use crate::fanout::{Audience, Delivery, Hub, HubError, Policy, DEFAULT_CAPACITY};

/// A connection as the hub stores it: its id (as a Python string, made once)
/// and the async send callable that takes a frame.
pub struct Peer {
    id: Py<PyString>,
    send: Py<PyAny>,
}

#[pyclass(module = "falcon_pachinko._native")]
pub struct FanoutHub {
    hub: Hub<Peer, Py<PyAny>>,
}

/// What one delivery did. `sent` recipients were written directly and
/// `dropped` ones lost the frame (policy, or already closing); the lists
/// name the recipients the caller must act on: `suspended`
/// (`(conn_id, iterator, yielded)`, for the connection's writer), `failed`
/// (`(conn_id, exception)`), `to_close` (the close policy fired) and
/// `queued` (the frame waits in their outbox).
#[pyclass(module = "falcon_pachinko._native", frozen, get_all)]
pub struct Fanout {
    sent: usize,
    dropped: usize,
    suspended: Py<PyList>,
    failed: Py<PyList>,
    to_close: Py<PyList>,
    queued: Py<PyList>,
}

#[pymethods]
impl Fanout {
    #[new]
    #[pyo3(signature = (sent, dropped, suspended, failed, to_close, queued, /))]
    fn new(
        sent: usize,
        dropped: usize,
        suspended: Bound<'_, PyList>,
        failed: Bound<'_, PyList>,
        to_close: Bound<'_, PyList>,
        queued: Bound<'_, PyList>,
    ) -> Self {
        Fanout {
            sent,
            dropped,
            suspended: suspended.unbind(),
            failed: failed.unbind(),
            to_close: to_close.unbind(),
            queued: queued.unbind(),
        }
    }

    /// True when nothing is left for the caller: every recipient was
    /// written directly or dropped (the common case, checked first).
    #[getter]
    fn settled(&self, py: Python<'_>) -> bool {
        [&self.suspended, &self.failed, &self.to_close, &self.queued]
            .iter()
            .all(|list| list.bind(py).is_empty())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Fanout(sent={}, dropped={}, suspended={}, failed={}, to_close={}, queued={})",
            self.sent,
            self.dropped,
            self.suspended.bind(py).repr()?,
            self.failed.bind(py).repr()?,
            self.to_close.bind(py).repr()?,
            self.queued.bind(py).repr()?,
        ))
    }
}

impl Fanout {
    /// The result of a delivery to one recipient: `Fanout` with one entry.
    fn one<'py>(
        py: Python<'py>,
        sent: usize,
        dropped: usize,
        lists: [Option<Bound<'py, PyAny>>; 4],
    ) -> PyResult<Bound<'py, Fanout>> {
        let [suspended, failed, to_close, queued] = lists.map(|item| PyList::new(py, item));
        let fanout = Fanout::new(sent, dropped, suspended?, failed?, to_close?, queued?);
        Bound::new(py, fanout)
    }
}

/// Outcome of driving one send coroutine until it first suspends.
enum Sent<'py> {
    Done,
    Suspended(Bound<'py, PyAny>, Bound<'py, PyAny>),
    Failed(PyErr),
}

/// Only `Exception`s count as a failed send; `BaseException`s such as
/// `KeyboardInterrupt` propagate, as in the pure twin.
fn drive<'py>(send: &Bound<'py, PyAny>, frame: &Bound<'py, PyAny>) -> PyResult<Sent<'py>> {
    let py = send.py();
    let failed = |err: PyErr| {
        if err.is_instance_of::<PyException>(py) {
            Ok(Sent::Failed(err))
        } else {
            Err(err)
        }
    };
    let started = send
        .call1((frame,))
        .and_then(|coro| coro.call_method0(pyo3::intern!(py, "__await__")))
        .and_then(|it| Ok(it.cast_into::<PyIterator>()?));
    let iter = match started {
        Ok(iter) => iter,
        Err(err) => return failed(err),
    };
    match iter.send(&py.None().into_bound(py)) {
        Ok(PySendResult::Return(_)) => Ok(Sent::Done),
        Ok(PySendResult::Next(yielded)) => Ok(Sent::Suspended(iter.into_any(), yielded)),
        Err(err) => failed(err),
    }
}

fn exclusions(exclude: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<PyBackedStr>> {
    let mut ids = Vec::new();
    if let Some(items) = exclude {
        if !items.is_none() {
            for item in items.try_iter()? {
                ids.push(item?.extract::<PyBackedStr>()?);
            }
        }
    }
    Ok(ids)
}

fn not_found(id: &str) -> PyErr {
    hub_error(HubError::NotFound, id)
}

impl FanoutHub {
    /// Route one frame to an audience; the one `Fanout` of the call.
    fn run<'py>(
        slf: &Bound<'py, Self>,
        audience: Audience<'_>,
        frame: &Bound<'py, PyAny>,
        exclude: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, Fanout>> {
        let py = slf.py();
        let excluded = exclusions(exclude)?;
        let skip: HashSet<&str> = excluded.iter().map(|s| &**s).collect();
        let mut direct: Vec<(Py<PyString>, Py<PyAny>)> = Vec::new();
        let to_close = PyList::empty(py);
        let queued = PyList::empty(py);
        let mut dropped = 0usize;
        {
            let mut this = slf.borrow_mut();
            let mut closing: Vec<Py<PyString>> = Vec::new();
            let mut waiting: Vec<Py<PyString>> = Vec::new();
            this.hub.fanout(
                audience,
                &skip,
                &mut || frame.clone().unbind(),
                &mut |decision, conn| match decision {
                    Delivery::Direct => {
                        direct.push((conn.handle.id.clone_ref(py), conn.handle.send.clone_ref(py)));
                    }
                    Delivery::Close => closing.push(conn.handle.id.clone_ref(py)),
                    Delivery::Queued => waiting.push(conn.handle.id.clone_ref(py)),
                    Delivery::Dropped => dropped += 1,
                },
            );
            for id in closing {
                to_close.append(id)?;
            }
            for id in waiting {
                queued.append(id)?;
            }
        }
        // NOTE: the borrow is released: send coroutines may call back into
        // the hub (join, leave, even remove their own connection).
        let suspended = PyList::empty(py);
        let failed = PyList::empty(py);
        let mut sent = 0usize;
        for (id, send) in direct {
            match drive(send.bind(py), frame)? {
                Sent::Done => sent += 1,
                Sent::Suspended(iter, yielded) => {
                    slf.borrow_mut()
                        .hub
                        .start_writing(id.bind(py).to_str()?)
                        .ok();
                    suspended.append((id, iter, yielded))?;
                }
                Sent::Failed(err) => failed.append((id, err.into_value(py)))?,
            }
        }
        let fanout = Fanout::new(sent, dropped, suspended, failed, to_close, queued);
        Bound::new(py, fanout)
    }
}

// NOTE: the signature spells the default out (a constant would show as
// `capacity=...` in `__text_signature__`, which stubtest and `inspect` read);
// this keeps it equal to the core's.
const _: () = assert!(DEFAULT_CAPACITY == 256);

#[pymethods]
impl FanoutHub {
    #[new]
    #[pyo3(signature = (*, capacity = 256, policy = "drop_oldest"))]
    fn new(capacity: usize, policy: &str) -> PyResult<Self> {
        if capacity < 1 {
            return Err(PyValueError::new_err("capacity must be at least 1"));
        }
        let Some(policy) = Policy::parse(policy) else {
            let names: Vec<String> = Policy::ALL
                .iter()
                .map(|p| format!("'{}'", p.name()))
                .collect();
            return Err(PyValueError::new_err(format!(
                "policy must be one of {}; got {policy:?}",
                names.join(", ")
            )));
        };
        Ok(FanoutHub {
            hub: Hub::new(capacity, policy),
        })
    }

    #[getter]
    fn capacity(&self) -> usize {
        self.hub.capacity
    }

    #[getter]
    fn policy(&self) -> &'static str {
        self.hub.policy.name()
    }

    #[getter]
    fn dropped_total(&self) -> u64 {
        self.hub.dropped_total()
    }

    #[pyo3(signature = (conn_id, send, /, *, pending = false))]
    fn add(
        &mut self,
        conn_id: &Bound<'_, PyString>,
        send: Py<PyAny>,
        pending: bool,
    ) -> PyResult<()> {
        let key = conn_id.to_str()?;
        let peer = Peer {
            id: conn_id.clone().unbind(),
            send,
        };
        self.hub
            .add(key, peer, pending)
            .map_err(|e| hub_error(e, key))
    }

    #[pyo3(signature = (conn_id, /))]
    fn remove(&mut self, conn_id: &str) -> bool {
        self.hub.remove(conn_id).is_some()
    }

    #[pyo3(signature = (conn_id, room, /))]
    fn join(&mut self, conn_id: &str, room: &str) -> PyResult<()> {
        self.hub
            .join(conn_id, room)
            .map_err(|e| hub_error(e, conn_id))
    }

    #[pyo3(signature = (conn_id, room, /))]
    fn leave(&mut self, conn_id: &str, room: &str) -> PyResult<()> {
        self.hub
            .leave(conn_id, room)
            .map_err(|e| hub_error(e, conn_id))
    }

    #[pyo3(signature = (conn_id, user_id, /))]
    fn set_user(&mut self, conn_id: &str, user_id: Option<&str>) -> PyResult<()> {
        self.hub
            .set_user(conn_id, user_id)
            .map_err(|e| hub_error(e, conn_id))
    }

    #[pyo3(signature = (room, /))]
    fn members(&self, room: &str) -> Vec<String> {
        self.hub
            .members(room)
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    #[pyo3(signature = (user_id, /))]
    fn user_members(&self, user_id: &str) -> Vec<String> {
        self.hub
            .user_members(user_id)
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    fn rooms(&self) -> Vec<String> {
        self.hub.room_names().map(str::to_owned).collect()
    }

    #[pyo3(signature = (conn_id, /))]
    fn rooms_of(&self, conn_id: &str) -> PyResult<Vec<String>> {
        let conn = self.hub.get(conn_id).ok_or_else(|| not_found(conn_id))?;
        Ok(conn.rooms.clone())
    }

    #[pyo3(signature = (conn_id, /))]
    fn user_of(&self, conn_id: &str) -> PyResult<Option<String>> {
        let conn = self.hub.get(conn_id).ok_or_else(|| not_found(conn_id))?;
        Ok(conn.user.clone())
    }

    #[pyo3(signature = (room, /))]
    fn room_size(&self, room: &str) -> usize {
        self.hub.room_size(room)
    }

    /// `pending`, `idle`, `writing` or `closing`.
    #[pyo3(signature = (conn_id, /))]
    fn state(&self, conn_id: &str) -> PyResult<&'static str> {
        let conn = self.hub.get(conn_id).ok_or_else(|| not_found(conn_id))?;
        Ok(conn.state.name())
    }

    /// Frames waiting in the connection's outbox.
    #[pyo3(signature = (conn_id, /))]
    fn queued_count(&self, conn_id: &str) -> PyResult<usize> {
        let conn = self.hub.get(conn_id).ok_or_else(|| not_found(conn_id))?;
        Ok(conn.outbox.len())
    }

    /// Frames dropped for the connection (policy, or sent while closing).
    #[pyo3(signature = (conn_id, /))]
    fn dropped_count(&self, conn_id: &str) -> PyResult<u64> {
        let conn = self.hub.get(conn_id).ok_or_else(|| not_found(conn_id))?;
        Ok(conn.dropped)
    }

    #[pyo3(signature = (room, frame, exclude = None, /))]
    fn fanout_room<'py>(
        slf: &Bound<'py, Self>,
        room: &str,
        frame: &Bound<'py, PyAny>,
        exclude: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, Fanout>> {
        Self::run(slf, Audience::Room(room), frame, exclude)
    }

    #[pyo3(signature = (user_id, frame, exclude = None, /))]
    fn fanout_user<'py>(
        slf: &Bound<'py, Self>,
        user_id: &str,
        frame: &Bound<'py, PyAny>,
        exclude: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, Fanout>> {
        Self::run(slf, Audience::User(user_id), frame, exclude)
    }

    #[pyo3(signature = (frame, exclude = None, /))]
    fn fanout_all<'py>(
        slf: &Bound<'py, Self>,
        frame: &Bound<'py, PyAny>,
        exclude: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, Fanout>> {
        Self::run(slf, Audience::All, frame, exclude)
    }

    /// Deliver to one connection; the same `Fanout` as a broadcast, with
    /// that connection in at most one place.
    #[pyo3(signature = (conn_id, frame, /))]
    fn send_one<'py>(
        slf: &Bound<'py, Self>,
        conn_id: &str,
        frame: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, Fanout>> {
        let py = slf.py();
        let (decision, id, send) = {
            let mut this = slf.borrow_mut();
            let (decision, peer) = this
                .hub
                .send_one(conn_id, frame.clone().unbind())
                .map_err(|e| hub_error(e, conn_id))?;
            (decision, peer.id.clone_ref(py), peer.send.clone_ref(py))
        };
        let id = id.into_bound(py).into_any();
        match decision {
            Delivery::Queued => Fanout::one(py, 0, 0, [None, None, None, Some(id)]),
            Delivery::Dropped => Fanout::one(py, 0, 1, [None, None, None, None]),
            Delivery::Close => Fanout::one(py, 0, 0, [None, None, Some(id), None]),
            // The borrow is released: the send may call back into the hub.
            Delivery::Direct => match drive(send.bind(py), frame)? {
                Sent::Done => Fanout::one(py, 1, 0, [None, None, None, None]),
                Sent::Suspended(iter, yielded) => {
                    slf.borrow_mut().hub.start_writing(conn_id).ok();
                    let entry = (id, iter, yielded).into_pyobject(py)?.into_any();
                    Fanout::one(py, 0, 0, [Some(entry), None, None, None])
                }
                Sent::Failed(err) => {
                    let entry = (id, err.into_value(py)).into_pyobject(py)?.into_any();
                    Fanout::one(py, 0, 0, [None, Some(entry), None, None])
                }
            },
        }
    }

    /// The handshake completed: `True` when frames queued while pending
    /// (the connection is now writing: start its writer), else `False`.
    #[pyo3(signature = (conn_id, /))]
    fn activate(&mut self, conn_id: &str) -> PyResult<bool> {
        self.hub
            .activate(conn_id)
            .map_err(|e| hub_error(e, conn_id))
    }

    /// Stop delivering to a departing connection; returns the frames discarded.
    #[pyo3(signature = (conn_id, /))]
    fn mark_closing(&mut self, conn_id: &str) -> PyResult<usize> {
        self.hub
            .mark_closing(conn_id)
            .map_err(|e| hub_error(e, conn_id))
    }

    /// The writer's next frame; `None` ends the writer (the connection is
    /// idle again, or not writing at all).
    #[pyo3(signature = (conn_id, /))]
    fn next_frame(&mut self, conn_id: &str) -> Option<Py<PyAny>> {
        self.hub.next_frame(conn_id)
    }

    fn __len__(&self) -> usize {
        self.hub.len()
    }

    fn __contains__(&self, conn_id: &str) -> bool {
        self.hub.get(conn_id).is_some()
    }
}
