//! Membership index and per-connection bounded outboxes (PyO3-free core).
//!
//! One broadcast walks the recipients once and decides, per recipient, what
//! Python must do: write directly (the connection's writer is idle), nothing
//! (the frame was queued or dropped by policy), or close the peer. Python only
//! ever touches the recipients that need it. Generic over the connection
//! handle `T` and the frame `F` so tests run without an interpreter.

use std::collections::{HashMap, HashSet, VecDeque};

use indexmap::IndexSet;

/// What to do when a busy connection's outbox is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    DropOldest,
    DropNewest,
    Close,
}

impl Policy {
    #[must_use]
    pub fn parse(name: &str) -> Option<Policy> {
        match name {
            "drop_oldest" => Some(Policy::DropOldest),
            "drop_newest" => Some(Policy::DropNewest),
            "close" => Some(Policy::Close),
            _ => None,
        }
    }

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Policy::DropOldest => "drop_oldest",
            Policy::DropNewest => "drop_newest",
            Policy::Close => "close",
        }
    }
}

/// Errors the Python layer maps to its exception classes.
#[derive(Debug, PartialEq, Eq)]
pub enum HubError {
    Duplicate,
    NotFound,
}

/// One connection's routing state.
#[derive(Debug)]
pub struct Conn<T, F> {
    pub id: String,
    pub target: T,
    pub outbox: VecDeque<F>,
    pub busy: bool,
    pub closing: bool,
    pub dropped: u64,
    pub rooms: Vec<String>,
    pub user: Option<String>,
}

/// Per-recipient decision of one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Writer idle: Python writes the frame now.
    Direct,
    /// Writer busy: the frame waits in the outbox.
    Queued,
    /// Dropped by policy (counted on the connection).
    Dropped,
    /// Policy says close this peer; reported once.
    Close,
}

/// Which recipients a fan-out addresses.
#[derive(Debug, Clone, Copy)]
pub enum Target<'k> {
    Room(&'k str),
    User(&'k str),
    All,
}

#[derive(Debug)]
pub struct Hub<T, F> {
    pub capacity: usize,
    pub policy: Policy,
    slots: Vec<Option<Conn<T, F>>>,
    free: Vec<usize>,
    ids: HashMap<String, usize>,
    rooms: HashMap<String, IndexSet<usize>>,
    users: HashMap<String, IndexSet<usize>>,
    dropped_total: u64,
}

impl<T, F> Hub<T, F> {
    #[must_use]
    pub fn new(capacity: usize, policy: Policy) -> Self {
        Hub {
            capacity,
            policy,
            slots: Vec::new(),
            free: Vec::new(),
            ids: HashMap::new(),
            rooms: HashMap::new(),
            users: HashMap::new(),
            dropped_total: 0,
        }
    }

    pub fn add(&mut self, id: &str, target: T) -> Result<(), HubError> {
        if self.ids.contains_key(id) {
            return Err(HubError::Duplicate);
        }
        let conn = Conn {
            id: id.to_owned(),
            target,
            outbox: VecDeque::new(),
            busy: false,
            closing: false,
            dropped: 0,
            rooms: Vec::new(),
            user: None,
        };
        let len = self.slots.len();
        let slot = if let Some(slot) = self.free.pop().filter(|&slot| slot < len) {
            if let Some(entry) = self.slots.get_mut(slot) {
                *entry = Some(conn);
            }
            slot
        } else {
            self.slots.push(Some(conn));
            len
        };
        self.ids.insert(id.to_owned(), slot);
        Ok(())
    }

    /// Forget a connection and every membership it had. Idempotent.
    pub fn remove(&mut self, id: &str) -> Option<Conn<T, F>> {
        let slot = self.ids.remove(id)?;
        let conn = self.slots.get_mut(slot)?.take()?;
        self.free.push(slot);
        for room in &conn.rooms {
            unlink(&mut self.rooms, room, slot);
        }
        if let Some(user) = &conn.user {
            unlink(&mut self.users, user, slot);
        }
        Some(conn)
    }

    fn slot_of(&self, id: &str) -> Result<usize, HubError> {
        self.ids.get(id).copied().ok_or(HubError::NotFound)
    }

    #[must_use]
    pub fn get(&self, id: &str) -> Option<&Conn<T, F>> {
        let slot = *self.ids.get(id)?;
        self.slots.get(slot)?.as_ref()
    }

    fn conn_mut(&mut self, id: &str) -> Result<&mut Conn<T, F>, HubError> {
        let slot = self.slot_of(id)?;
        self.slots
            .get_mut(slot)
            .and_then(Option::as_mut)
            .ok_or(HubError::NotFound)
    }

    pub fn join(&mut self, id: &str, room: &str) -> Result<(), HubError> {
        let slot = self.slot_of(id)?;
        let members = self.rooms.entry(room.to_owned()).or_default();
        if members.insert(slot) {
            self.conn_mut(id)?.rooms.push(room.to_owned());
        }
        Ok(())
    }

    pub fn leave(&mut self, id: &str, room: &str) -> Result<(), HubError> {
        let slot = self.slot_of(id)?;
        unlink(&mut self.rooms, room, slot);
        self.conn_mut(id)?.rooms.retain(|r| r != room);
        Ok(())
    }

    pub fn set_user(&mut self, id: &str, user: Option<&str>) -> Result<(), HubError> {
        let slot = self.slot_of(id)?;
        let previous = self.conn_mut(id)?.user.take();
        if let Some(old) = previous {
            unlink(&mut self.users, &old, slot);
        }
        if let Some(new) = user {
            self.users.entry(new.to_owned()).or_default().insert(slot);
            self.conn_mut(id)?.user = Some(new.to_owned());
        }
        Ok(())
    }

    fn ids_of(&self, slots: Option<&IndexSet<usize>>) -> Vec<&str> {
        slots
            .into_iter()
            .flatten()
            .filter_map(|&s| self.slots.get(s)?.as_ref().map(|c| c.id.as_str()))
            .collect()
    }

    #[must_use]
    pub fn members(&self, room: &str) -> Vec<&str> {
        self.ids_of(self.rooms.get(room))
    }

    #[must_use]
    pub fn user_members(&self, user: &str) -> Vec<&str> {
        self.ids_of(self.users.get(user))
    }

    #[must_use]
    pub fn room_size(&self, room: &str) -> usize {
        self.rooms.get(room).map_or(0, IndexSet::len)
    }

    pub fn room_names(&self) -> impl Iterator<Item = &str> {
        self.rooms.keys().map(String::as_str)
    }

    pub fn connection_ids(&self) -> impl Iterator<Item = &str> {
        self.ids.keys().map(String::as_str)
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    #[must_use]
    pub fn dropped_total(&self) -> u64 {
        self.dropped_total
    }

    /// Deliver one frame to every recipient of `target` not in `exclude`,
    /// calling `visit` with the decision for each (`make` clones the frame).
    pub fn fanout(
        &mut self,
        target: Target<'_>,
        exclude: &HashSet<&str>,
        make: &mut impl FnMut() -> F,
        visit: &mut impl FnMut(Delivery, &Conn<T, F>),
    ) {
        let policy = self.policy;
        let capacity = self.capacity;
        let mut dropped = 0;
        let mut step = |conn: &mut Conn<T, F>| {
            if !exclude.is_empty() && exclude.contains(conn.id.as_str()) {
                return;
            }
            let before = conn.dropped;
            let decision = deliver(conn, policy, capacity, make);
            dropped += conn.dropped - before;
            visit(decision, conn);
        };
        match target {
            Target::All => self.slots.iter_mut().flatten().for_each(&mut step),
            Target::Room(key) | Target::User(key) => {
                let index = if let Target::Room(_) = target {
                    &self.rooms
                } else {
                    &self.users
                };
                if let Some(members) = index.get(key) {
                    for &slot in members {
                        if let Some(Some(conn)) = self.slots.get_mut(slot) {
                            step(conn);
                        }
                    }
                }
            }
        }
        self.dropped_total += dropped;
    }

    /// Deliver one frame to a single connection.
    pub fn send_one(&mut self, id: &str, frame: F) -> Result<(Delivery, &T), HubError> {
        let (policy, capacity) = (self.policy, self.capacity);
        let conn = self.conn_mut(id)?;
        let mut once = Some(frame);
        let mut make = || once.take();
        let before = conn.dropped;
        let decision = deliver_opt(conn, policy, capacity, &mut make);
        self.dropped_total += conn.dropped - before;
        let conn = self.get(id).ok_or(HubError::NotFound)?;
        Ok((decision, &conn.target))
    }

    /// Mark a connection's writer busy (a direct write would have blocked).
    pub fn mark_busy(&mut self, id: &str) -> Result<(), HubError> {
        self.conn_mut(id)?.busy = true;
        Ok(())
    }

    /// Stop delivering to a connection that is going away: what its outbox
    /// held is dropped (counted) and later frames are dropped on arrival.
    /// Returns how many queued frames were discarded.
    pub fn mark_closing(&mut self, id: &str) -> Result<usize, HubError> {
        let conn = self.conn_mut(id)?;
        if conn.closing {
            return Ok(0);
        }
        conn.closing = true;
        let lost = conn.outbox.len();
        conn.outbox.clear();
        conn.dropped += lost as u64;
        self.dropped_total += lost as u64;
        Ok(lost)
    }

    /// Next queued frame for the writer; `None` (and writer idle) when empty
    /// or when the connection is gone.
    pub fn pop(&mut self, id: &str) -> Option<F> {
        let conn = self.conn_mut(id).ok()?;
        let frame = conn.outbox.pop_front();
        if frame.is_none() {
            conn.busy = false;
        }
        frame
    }
}

fn deliver<T, F>(
    conn: &mut Conn<T, F>,
    policy: Policy,
    capacity: usize,
    make: &mut impl FnMut() -> F,
) -> Delivery {
    let mut wrapped = || Some(make());
    deliver_opt(conn, policy, capacity, &mut wrapped)
}

fn deliver_opt<T, F>(
    conn: &mut Conn<T, F>,
    policy: Policy,
    capacity: usize,
    make: &mut impl FnMut() -> Option<F>,
) -> Delivery {
    if conn.closing {
        conn.dropped += 1;
        return Delivery::Dropped;
    }
    if !conn.busy {
        return Delivery::Direct;
    }
    if conn.outbox.len() < capacity {
        if let Some(frame) = make() {
            conn.outbox.push_back(frame);
        }
        return Delivery::Queued;
    }
    match policy {
        Policy::DropNewest => {
            conn.dropped += 1;
            Delivery::Dropped
        }
        Policy::DropOldest => {
            conn.dropped += 1;
            conn.outbox.pop_front();
            if let Some(frame) = make() {
                conn.outbox.push_back(frame);
            }
            Delivery::Queued
        }
        Policy::Close => {
            conn.closing = true;
            conn.dropped += 1 + conn.outbox.len() as u64;
            conn.outbox.clear();
            Delivery::Close
        }
    }
}

fn unlink(index: &mut HashMap<String, IndexSet<usize>>, key: &str, slot: usize) {
    if let Some(members) = index.get_mut(key) {
        members.swap_remove(&slot);
        if members.is_empty() {
            index.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hub(policy: Policy) -> Hub<&'static str, u32> {
        let mut h = Hub::new(2, policy);
        for id in ["a", "b", "c"] {
            h.add(id, id).expect("fresh id");
            h.join(id, "room").expect("known id");
        }
        h
    }

    fn run(
        h: &mut Hub<&'static str, u32>,
        exclude: &[&str],
        frame: u32,
    ) -> Vec<(Delivery, &'static str)> {
        let set: HashSet<&str> = exclude.iter().copied().collect();
        let mut out = Vec::new();
        h.fanout(Target::Room("room"), &set, &mut || frame, &mut |d, c| {
            out.push((d, c.target));
        });
        out.sort_by_key(|&(_, t)| t);
        out
    }

    #[test]
    fn idle_members_get_direct_and_exclusions_hold() {
        let mut h = hub(Policy::DropOldest);
        assert_eq!(
            run(&mut h, &["b"], 1),
            vec![(Delivery::Direct, "a"), (Delivery::Direct, "c")]
        );
        assert_eq!(h.add("a", "a"), Err(HubError::Duplicate));
        assert_eq!(h.join("zz", "room"), Err(HubError::NotFound));
    }

    #[test]
    fn busy_members_queue_then_apply_policy() {
        let mut h = hub(Policy::DropOldest);
        h.mark_busy("a").expect("known");
        for frame in 1..=3 {
            run(&mut h, &[], frame);
        }
        assert_eq!(h.get("a").map(|c| c.dropped), Some(1));
        assert_eq!(h.pop("a"), Some(2));
        assert_eq!(h.pop("a"), Some(3));
        assert_eq!(h.pop("a"), None);
        assert!(!h.get("a").is_some_and(|c| c.busy));
        assert_eq!(h.dropped_total(), 1);
    }

    #[test]
    fn close_policy_reports_once_then_drops() {
        let mut h = hub(Policy::Close);
        h.mark_busy("b").expect("known");
        run(&mut h, &[], 1);
        run(&mut h, &[], 2);
        assert!(run(&mut h, &[], 3).contains(&(Delivery::Close, "b")));
        assert!(run(&mut h, &[], 4).contains(&(Delivery::Dropped, "b")));
        let mut h2 = hub(Policy::DropNewest);
        h2.mark_busy("c").expect("known");
        for frame in 1..=3 {
            run(&mut h2, &[], frame);
        }
        assert_eq!(h2.pop("c"), Some(1));
    }

    #[test]
    fn closing_discards_the_outbox_and_drops_later_frames() {
        let mut h = hub(Policy::DropOldest);
        h.mark_busy("a").expect("known");
        run(&mut h, &[], 1);
        run(&mut h, &[], 2);
        assert_eq!(h.mark_closing("a"), Ok(2));
        assert_eq!(h.mark_closing("a"), Ok(0));
        assert!(run(&mut h, &[], 3).contains(&(Delivery::Dropped, "a")));
        assert_eq!(h.pop("a"), None);
        assert_eq!(h.get("a").map(|c| c.dropped), Some(3));
        assert_eq!(h.dropped_total(), 3);
        assert_eq!(h.mark_closing("zz"), Err(HubError::NotFound));
    }

    #[test]
    fn remove_unlinks_rooms_and_users() {
        let mut h = hub(Policy::DropOldest);
        h.set_user("a", Some("u")).expect("known");
        assert_eq!(h.user_members("u"), vec!["a"]);
        assert!(h.remove("a").is_some());
        assert!(h.remove("a").is_none());
        assert_eq!(h.room_size("room"), 2);
        assert!(h.user_members("u").is_empty());
        h.leave("b", "room").expect("known");
        h.leave("c", "room").expect("known");
        assert_eq!(h.room_names().count(), 0);
    }
}
