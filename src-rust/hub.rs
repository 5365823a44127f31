//! `FanoutHub`: Python binding of the fan-out core.
//!
//! One call per broadcast walks the recipients in Rust and returns only the
//! connections Python must act on: idle ones to write to directly, and those
//! the overflow policy says to close. Frames are shared references (encoded
//! once); queuing one costs a refcount increment.

use std::collections::HashSet;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::{PyList, PyTuple};

use crate::errors::hub_error;
use crate::fanout::{Delivery, Hub, Policy, Target};

#[pyclass(module = "falcon_pachinko._native")]
pub struct FanoutHub {
    hub: Hub<Py<PyAny>, Py<PyAny>>,
}

fn decision_name(d: Delivery) -> &'static str {
    match d {
        Delivery::Direct => "direct",
        Delivery::Queued => "queued",
        Delivery::Dropped => "dropped",
        Delivery::Close => "close",
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

impl FanoutHub {
    fn run<'py>(
        &mut self,
        py: Python<'py>,
        target: Target<'_>,
        frame: &Bound<'py, PyAny>,
        exclude: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let excluded = exclusions(exclude)?;
        let set: HashSet<&str> = excluded.iter().map(|s| &**s).collect();
        let mut direct: Vec<Py<PyAny>> = Vec::new();
        let mut close: Vec<Py<PyAny>> = Vec::new();
        self.hub.fanout(
            target,
            &set,
            &mut || frame.clone().unbind(),
            &mut |decision, conn| match decision {
                Delivery::Direct => direct.push(conn.clone_ref(py)),
                Delivery::Close => close.push(conn.clone_ref(py)),
                Delivery::Queued | Delivery::Dropped => {}
            },
        );
        PyTuple::new(py, [PyList::new(py, direct)?, PyList::new(py, close)?])
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

    fn add(&mut self, conn_id: &str, target: Py<PyAny>) -> PyResult<()> {
        self.hub
            .add(conn_id, target)
            .map_err(|e| hub_error(e, conn_id))
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
        let conn = self
            .hub
            .get(conn_id)
            .ok_or_else(|| hub_error(crate::fanout::HubError::NotFound, conn_id))?;
        Ok(conn.rooms.clone())
    }

    fn user_of(&self, conn_id: &str) -> PyResult<Option<String>> {
        let conn = self
            .hub
            .get(conn_id)
            .ok_or_else(|| hub_error(crate::fanout::HubError::NotFound, conn_id))?;
        Ok(conn.user.clone())
    }

    fn room_size(&self, room: &str) -> usize {
        self.hub.room_size(room)
    }

    fn target(&self, conn_id: &str, py: Python<'_>) -> Option<Py<PyAny>> {
        self.hub.get(conn_id).map(|c| c.target.clone_ref(py))
    }

    /// `(queued, dropped, busy)` for one connection.
    fn stats(&self, conn_id: &str) -> PyResult<(usize, u64, bool)> {
        let conn = self
            .hub
            .get(conn_id)
            .ok_or_else(|| hub_error(crate::fanout::HubError::NotFound, conn_id))?;
        Ok((conn.outbox.len(), conn.dropped, conn.busy))
    }

    #[pyo3(signature = (room, frame, exclude = None))]
    fn fanout_room<'py>(
        &mut self,
        py: Python<'py>,
        room: &str,
        frame: &Bound<'py, PyAny>,
        exclude: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        self.run(py, Target::Room(room), frame, exclude)
    }

    #[pyo3(signature = (user_id, frame, exclude = None))]
    fn fanout_user<'py>(
        &mut self,
        py: Python<'py>,
        user_id: &str,
        frame: &Bound<'py, PyAny>,
        exclude: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        self.run(py, Target::User(user_id), frame, exclude)
    }

    #[pyo3(signature = (frame, exclude = None))]
    fn fanout_all<'py>(
        &mut self,
        py: Python<'py>,
        frame: &Bound<'py, PyAny>,
        exclude: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        self.run(py, Target::All, frame, exclude)
    }

    /// Deliver to one connection: `(decision, target)`.
    fn send_one(
        &mut self,
        py: Python<'_>,
        conn_id: &str,
        frame: Py<PyAny>,
    ) -> PyResult<(&'static str, Py<PyAny>)> {
        let (decision, target) = self
            .hub
            .send_one(conn_id, frame)
            .map_err(|e| hub_error(e, conn_id))?;
        Ok((decision_name(decision), target.clone_ref(py)))
    }

    fn mark_busy(&mut self, conn_id: &str) -> PyResult<()> {
        self.hub
            .mark_busy(conn_id)
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
