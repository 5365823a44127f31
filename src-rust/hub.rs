//! `FanoutHub`: Python binding of the fan-out core.
//!
//! One call per broadcast walks the recipients in Rust, applies the overflow
//! policy to busy ones, and drives the send coroutine of every idle one with
//! `PyIter_Send` (no `StopIteration` object per completed send). Python only
//! hears about the recipients it must act on: sends that suspended (it hands
//! them to the connection's writer), sends that failed, and peers the policy
//! says to close. Frames are shared references: encoded once, queued by
//! refcount.

use std::collections::HashSet;

use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::iterator::PySendResult;
use pyo3::types::{PyIterator, PyList, PyString, PyTuple};

use crate::errors::hub_error;
use crate::fanout::{Delivery, Hub, HubError, Policy, Target};

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
    /// Route one frame; returns `(sent, dropped, suspended, failed, close, queued)`.
    fn run<'py>(
        slf: &Bound<'py, Self>,
        target: Target<'_>,
        frame: &Bound<'py, PyAny>,
        exclude: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let excluded = exclusions(exclude)?;
        let set: HashSet<&str> = excluded.iter().map(|s| &**s).collect();
        let mut direct: Vec<(Py<PyString>, Py<PyAny>)> = Vec::new();
        let close = PyList::empty(py);
        let queued = PyList::empty(py);
        let mut dropped = 0usize;
        {
            let mut this = slf.borrow_mut();
            let mut closing: Vec<Py<PyString>> = Vec::new();
            let mut waiting: Vec<Py<PyString>> = Vec::new();
            this.hub.fanout(
                target,
                &set,
                &mut || frame.clone().unbind(),
                &mut |decision, conn| match decision {
                    Delivery::Direct => {
                        direct.push((conn.target.id.clone_ref(py), conn.target.send.clone_ref(py)));
                    }
                    Delivery::Close => closing.push(conn.target.id.clone_ref(py)),
                    Delivery::Queued => waiting.push(conn.target.id.clone_ref(py)),
                    Delivery::Dropped => dropped += 1,
                },
            );
            for id in closing {
                close.append(id)?;
            }
            for id in waiting {
                queued.append(id)?;
            }
        }
        // The borrow is released: send coroutines may call back into the hub.
        let suspended = PyList::empty(py);
        let failed = PyList::empty(py);
        let mut completed = 0usize;
        for (id, send) in direct {
            match drive(send.bind(py), frame)? {
                Sent::Done => completed += 1,
                Sent::Suspended(iter, yielded) => {
                    slf.borrow_mut().hub.mark_busy(id.bind(py).to_str()?).ok();
                    suspended.append((id, iter, yielded))?;
                }
                Sent::Failed(err) => failed.append((id, err.into_value(py)))?,
            }
        }
        (completed, dropped, suspended, failed, close, queued).into_pyobject(py)
    }
}

#[pymethods]
impl FanoutHub {
    #[new]
    #[pyo3(signature = (capacity = 256, policy = "drop_oldest"))]
    fn new(capacity: usize, policy: &str) -> PyResult<Self> {
        if capacity < 1 {
            return Err(PyValueError::new_err("capacity must be at least 1"));
        }
        let Some(policy) = Policy::parse(policy) else {
            return Err(PyValueError::new_err(format!(
                "policy must be one of 'drop_oldest', 'drop_newest', 'close'; got {policy:?}"
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

    fn add(&mut self, conn_id: &Bound<'_, PyString>, send: Py<PyAny>) -> PyResult<()> {
        let key = conn_id.to_str()?;
        let peer = Peer {
            id: conn_id.clone().unbind(),
            send,
        };
        self.hub.add(key, peer).map_err(|e| hub_error(e, key))
    }

    fn remove(&mut self, conn_id: &str) -> bool {
        self.hub.remove(conn_id).is_some()
    }

    fn join(&mut self, conn_id: &str, room: &str) -> PyResult<()> {
        self.hub
            .join(conn_id, room)
            .map_err(|e| hub_error(e, conn_id))
    }

    fn leave(&mut self, conn_id: &str, room: &str) -> PyResult<()> {
        self.hub
            .leave(conn_id, room)
            .map_err(|e| hub_error(e, conn_id))
    }

    #[pyo3(signature = (conn_id, user_id))]
    fn set_user(&mut self, conn_id: &str, user_id: Option<&str>) -> PyResult<()> {
        self.hub
            .set_user(conn_id, user_id)
            .map_err(|e| hub_error(e, conn_id))
    }

    fn members(&self, room: &str) -> Vec<String> {
        self.hub
            .members(room)
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

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

    fn connection_ids(&self) -> Vec<String> {
        self.hub.connection_ids().map(str::to_owned).collect()
    }

    fn rooms_of(&self, conn_id: &str) -> PyResult<Vec<String>> {
        let conn = self.hub.get(conn_id).ok_or_else(|| not_found(conn_id))?;
        Ok(conn.rooms.clone())
    }

    fn user_of(&self, conn_id: &str) -> PyResult<Option<String>> {
        let conn = self.hub.get(conn_id).ok_or_else(|| not_found(conn_id))?;
        Ok(conn.user.clone())
    }

    fn room_size(&self, room: &str) -> usize {
        self.hub.room_size(room)
    }

    fn target(&self, py: Python<'_>, conn_id: &str) -> Option<Py<PyAny>> {
        self.hub.get(conn_id).map(|c| c.target.send.clone_ref(py))
    }

    /// `(queued, dropped, busy)` for one connection.
    fn stats(&self, conn_id: &str) -> PyResult<(usize, u64, bool)> {
        let conn = self.hub.get(conn_id).ok_or_else(|| not_found(conn_id))?;
        Ok((conn.outbox.len(), conn.dropped, conn.busy))
    }

    #[pyo3(signature = (room, frame, exclude = None))]
    fn fanout_room<'py>(
        slf: &Bound<'py, Self>,
        room: &str,
        frame: &Bound<'py, PyAny>,
        exclude: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        Self::run(slf, Target::Room(room), frame, exclude)
    }

    #[pyo3(signature = (user_id, frame, exclude = None))]
    fn fanout_user<'py>(
        slf: &Bound<'py, Self>,
        user_id: &str,
        frame: &Bound<'py, PyAny>,
        exclude: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        Self::run(slf, Target::User(user_id), frame, exclude)
    }

    #[pyo3(signature = (frame, exclude = None))]
    fn fanout_all<'py>(
        slf: &Bound<'py, Self>,
        frame: &Bound<'py, PyAny>,
        exclude: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        Self::run(slf, Target::All, frame, exclude)
    }

    /// Deliver to one connection: `(outcome, a, b)` with outcome one of
    /// `sent`, `suspended` (a=iterator, b=yielded), `failed` (a=exception),
    /// `queued`, `dropped`, `close`.
    fn send_one<'py>(
        slf: &Bound<'py, Self>,
        conn_id: &str,
        frame: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let none = || py.None().into_bound(py);
        let (decision, send) = {
            let mut this = slf.borrow_mut();
            let (decision, peer) = this
                .hub
                .send_one(conn_id, frame.clone().unbind())
                .map_err(|e| hub_error(e, conn_id))?;
            (decision, peer.send.clone_ref(py))
        };
        let name = match decision {
            Delivery::Queued => "queued",
            Delivery::Dropped => "dropped",
            Delivery::Close => "close",
            Delivery::Direct => match drive(send.bind(py), frame)? {
                Sent::Done => "sent",
                Sent::Suspended(iter, yielded) => {
                    slf.borrow_mut().hub.mark_busy(conn_id).ok();
                    return ("suspended", iter, yielded).into_pyobject(py);
                }
                Sent::Failed(err) => {
                    return ("failed", err.into_value(py), none()).into_pyobject(py)
                }
            },
        };
        (name, none(), none()).into_pyobject(py)
    }

    fn mark_busy(&mut self, conn_id: &str) -> PyResult<()> {
        self.hub
            .mark_busy(conn_id)
            .map_err(|e| hub_error(e, conn_id))
    }

    /// Stop delivering to a departing connection; returns the frames discarded.
    fn mark_closing(&mut self, conn_id: &str) -> PyResult<usize> {
        self.hub
            .mark_closing(conn_id)
            .map_err(|e| hub_error(e, conn_id))
    }

    fn pop(&mut self, conn_id: &str) -> Option<Py<PyAny>> {
        self.hub.pop(conn_id)
    }

    fn __len__(&self) -> usize {
        self.hub.len()
    }

    fn __contains__(&self, conn_id: &str) -> bool {
        self.hub.get(conn_id).is_some()
    }
}
