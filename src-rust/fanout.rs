//! Membership index and per-connection bounded outboxes (PyO3-free core).
//!
//! One broadcast walks the recipients once and decides, per recipient, what
//! Python must do: write directly (the connection is idle), nothing (the
//! frame was queued or dropped by policy), or close the peer. Python only
//! ever touches the recipients that need it. Generic over the connection
//! handle `H` and the frame `F` so tests run without an interpreter.
//!
//! Each connection is in exactly one [`State`]; every operation below names
//! the transition it makes:
//!
//! ```text
//!   add(pending)──► Pending ──activate()──► Writing (frames were queued)
//!                      │                └─► Idle    (nothing queued)
//!   add ─────────────► Idle ──start_writing()──► Writing
//!                                 ◄──next_frame() = None──┘
//!   any state ──mark_closing() or the close policy──► Closing (final)
//! ```
//!
//! Pending and Writing queue frames (bounded, overflow policy); Idle asks
//! for a direct write; Closing drops and counts.

use std::collections::{HashMap, HashSet, VecDeque};

use indexmap::IndexSet;

/// Outbox length when the caller does not choose one.
pub const DEFAULT_CAPACITY: usize = 256;

/// What to do when a queueing connection's outbox is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    DropOldest,
    DropNewest,
    Close,
}

impl Policy {
    /// Every policy, the default first; the Python names come from here.
    pub const ALL: [Policy; 3] = [Policy::DropOldest, Policy::DropNewest, Policy::Close];

    #[must_use]
    pub fn parse(name: &str) -> Option<Policy> {
        Policy::ALL.into_iter().find(|p| p.name() == name)
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

/// One connection's delivery state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Registered before its handshake completed: frames queue until
    /// [`Hub::activate`].
    Pending,
    /// Nothing in flight: a frame is written directly by the caller.
    Idle,
    /// A send is in flight (its writer drains the outbox): frames queue.
    Writing,
    /// Going away: its outbox was discarded, later frames are dropped.
    Closing,
}

impl State {
    /// Every state, in lifecycle order; the Python names come from here.
    pub const ALL: [State; 4] = [State::Pending, State::Idle, State::Writing, State::Closing];

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Idle => "idle",
            State::Writing => "writing",
            State::Closing => "closing",
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
pub struct Conn<H, F> {
    pub id: String,
    /// What the binding writes through (the Python send callable).
    pub handle: H,
    pub outbox: VecDeque<F>,
    pub state: State,
    pub dropped: u64,
    pub rooms: Vec<String>,
    pub user: Option<String>,
}

/// Per-recipient decision of one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Idle: the caller writes the frame now.
    Direct,
    /// Pending or writing: the frame waits in the outbox.
    Queued,
    /// Dropped by policy or because the peer is closing (counted).
    Dropped,
    /// Policy says close this peer (it is now closing); reported once.
    Close,
}

/// Who a fan-out addresses.
#[derive(Debug, Clone, Copy)]
pub enum Audience<'k> {
    Room(&'k str),
    User(&'k str),
    All,
}

#[derive(Debug)]
pub struct Hub<H, F> {
    pub capacity: usize,
    pub policy: Policy,
    slots: Vec<Option<Conn<H, F>>>,
    free: Vec<usize>,
    ids: HashMap<String, usize>,
    rooms: HashMap<String, IndexSet<usize>>,
    users: HashMap<String, IndexSet<usize>>,
    dropped_total: u64,
}

impl<H, F> Hub<H, F> {
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

    /// Register a connection: `Pending` (frames queue until [`Hub::activate`])
    /// or `Idle`.
    pub fn add(&mut self, id: &str, handle: H, pending: bool) -> Result<(), HubError> {
        if self.ids.contains_key(id) {
            return Err(HubError::Duplicate);
        }
        let conn = Conn {
            id: id.to_owned(),
            handle,
            outbox: VecDeque::new(),
            state: if pending { State::Pending } else { State::Idle },
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
    pub fn remove(&mut self, id: &str) -> Option<Conn<H, F>> {
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
    pub fn get(&self, id: &str) -> Option<&Conn<H, F>> {
        let slot = *self.ids.get(id)?;
        self.slots.get(slot)?.as_ref()
    }

    fn conn_mut(&mut self, id: &str) -> Result<&mut Conn<H, F>, HubError> {
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

    /// Deliver one frame to every recipient of `audience` not in `exclude`,
    /// calling `visit` with the decision for each (`make` clones the frame).
    pub fn fanout(
        &mut self,
        audience: Audience<'_>,
        exclude: &HashSet<&str>,
        make: &mut impl FnMut() -> F,
        visit: &mut impl FnMut(Delivery, &Conn<H, F>),
    ) {
        let policy = self.policy;
        let capacity = self.capacity;
        let mut dropped = 0;
        let mut step = |conn: &mut Conn<H, F>| {
            if !exclude.is_empty() && exclude.contains(conn.id.as_str()) {
                return;
            }
            let before = conn.dropped;
            let decision = deliver(conn, policy, capacity, make);
            dropped += conn.dropped - before;
            visit(decision, conn);
        };
        match audience {
            Audience::All => self.slots.iter_mut().flatten().for_each(&mut step),
            Audience::Room(key) | Audience::User(key) => {
                let index = if let Audience::Room(_) = audience {
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

    /// Deliver one frame to a single connection: the decision and the
    /// connection's handle (to write through on `Direct`).
    pub fn send_one(&mut self, id: &str, frame: F) -> Result<(Delivery, &H), HubError> {
        let (policy, capacity) = (self.policy, self.capacity);
        let conn = self.conn_mut(id)?;
        let mut once = Some(frame);
        let mut make = || once.take();
        let before = conn.dropped;
        let decision = deliver_opt(conn, policy, capacity, &mut make);
        self.dropped_total += conn.dropped - before;
        let conn = self.get(id).ok_or(HubError::NotFound)?;
        Ok((decision, &conn.handle))
    }

    /// `Idle -> Writing`: a direct write suspended, so a writer now owns the
    /// connection and later frames queue. Any other state is left as it is
    /// (a send that closed its own peer stays `Closing`).
    pub fn start_writing(&mut self, id: &str) -> Result<(), HubError> {
        let conn = self.conn_mut(id)?;
        if conn.state == State::Idle {
            conn.state = State::Writing;
        }
        Ok(())
    }

    /// The handshake completed: `Pending -> Writing` when frames were queued
    /// meanwhile (returns `true`: the caller starts a writer to drain them),
    /// `Pending -> Idle` otherwise. Other states are unchanged (`false`).
    pub fn activate(&mut self, id: &str) -> Result<bool, HubError> {
        let conn = self.conn_mut(id)?;
        if conn.state != State::Pending {
            return Ok(false);
        }
        let queued = !conn.outbox.is_empty();
        conn.state = if queued { State::Writing } else { State::Idle };
        Ok(queued)
    }

    /// Stop delivering to a connection that is going away (`-> Closing`):
    /// what its outbox held is dropped (counted) and later frames are
    /// dropped on arrival. Returns how many queued frames were discarded.
    pub fn mark_closing(&mut self, id: &str) -> Result<usize, HubError> {
        let conn = self.conn_mut(id)?;
        if conn.state == State::Closing {
            return Ok(0);
        }
        conn.state = State::Closing;
        let lost = conn.outbox.len();
        conn.outbox.clear();
        conn.dropped += lost as u64;
        self.dropped_total += lost as u64;
        Ok(lost)
    }

    /// The writer's next frame. `None` when there is none to write: a
    /// `Writing` connection with an empty outbox becomes `Idle` (the writer
    /// stops); `Pending` keeps its frames for [`Hub::activate`]; an unknown
    /// id (removed while its writer ran) has nothing.
    pub fn next_frame(&mut self, id: &str) -> Option<F> {
        let conn = self.conn_mut(id).ok()?;
        if conn.state != State::Writing {
            return None;
        }
        let frame = conn.outbox.pop_front();
        if frame.is_none() {
            conn.state = State::Idle;
        }
        frame
    }
}

fn deliver<H, F>(
    conn: &mut Conn<H, F>,
    policy: Policy,
    capacity: usize,
    make: &mut impl FnMut() -> F,
) -> Delivery {
    let mut wrapped = || Some(make());
    deliver_opt(conn, policy, capacity, &mut wrapped)
}

fn deliver_opt<H, F>(
    conn: &mut Conn<H, F>,
    policy: Policy,
    capacity: usize,
    make: &mut impl FnMut() -> Option<F>,
) -> Delivery {
    match conn.state {
        State::Idle => return Delivery::Direct,
        State::Closing => {
            conn.dropped += 1;
            return Delivery::Dropped;
        }
        State::Pending | State::Writing => {}
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
            conn.state = State::Closing;
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
            h.add(id, id, false).expect("fresh id");
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
        h.fanout(Audience::Room("room"), &set, &mut || frame, &mut |d, c| {
            out.push((d, c.handle));
        });
        out.sort_by_key(|&(_, t)| t);
        out
    }

    fn state(h: &Hub<&'static str, u32>, id: &str) -> Option<State> {
        h.get(id).map(|c| c.state)
    }

    #[test]
    fn idle_members_get_direct_and_exclusions_hold() {
        let mut h = hub(Policy::DropOldest);
        assert_eq!(
            run(&mut h, &["b"], 1),
            vec![(Delivery::Direct, "a"), (Delivery::Direct, "c")]
        );
        assert_eq!(h.add("a", "a", false), Err(HubError::Duplicate));
        assert_eq!(h.join("zz", "room"), Err(HubError::NotFound));
    }

    #[test]
    fn writing_members_queue_then_apply_policy() {
        let mut h = hub(Policy::DropOldest);
        h.start_writing("a").expect("known");
        assert_eq!(state(&h, "a"), Some(State::Writing));
        for frame in 1..=3 {
            run(&mut h, &[], frame);
        }
        assert_eq!(h.get("a").map(|c| c.dropped), Some(1));
        assert_eq!(h.next_frame("a"), Some(2));
        assert_eq!(h.next_frame("a"), Some(3));
        assert_eq!(h.next_frame("a"), None);
        assert_eq!(state(&h, "a"), Some(State::Idle));
        assert_eq!(h.dropped_total(), 1);
    }

    #[test]
    fn close_policy_reports_once_then_drops() {
        let mut h = hub(Policy::Close);
        h.start_writing("b").expect("known");
        run(&mut h, &[], 1);
        run(&mut h, &[], 2);
        assert!(run(&mut h, &[], 3).contains(&(Delivery::Close, "b")));
        assert_eq!(state(&h, "b"), Some(State::Closing));
        assert!(run(&mut h, &[], 4).contains(&(Delivery::Dropped, "b")));
        let mut h2 = hub(Policy::DropNewest);
        h2.start_writing("c").expect("known");
        for frame in 1..=3 {
            run(&mut h2, &[], frame);
        }
        assert_eq!(h2.next_frame("c"), Some(1));
    }

    #[test]
    fn closing_discards_the_outbox_and_drops_later_frames() {
        let mut h = hub(Policy::DropOldest);
        h.start_writing("a").expect("known");
        run(&mut h, &[], 1);
        run(&mut h, &[], 2);
        assert_eq!(h.mark_closing("a"), Ok(2));
        assert_eq!(h.mark_closing("a"), Ok(0));
        assert!(run(&mut h, &[], 3).contains(&(Delivery::Dropped, "a")));
        assert_eq!(h.next_frame("a"), None);
        assert_eq!(h.start_writing("a"), Ok(()));
        assert_eq!(h.activate("a"), Ok(false));
        assert_eq!(state(&h, "a"), Some(State::Closing));
        assert_eq!(h.get("a").map(|c| c.dropped), Some(3));
        assert_eq!(h.dropped_total(), 3);
        assert_eq!(h.mark_closing("zz"), Err(HubError::NotFound));
    }

    #[test]
    fn pending_queues_until_activated() {
        let mut h = hub(Policy::DropOldest);
        h.add("p", "p", true).expect("fresh id");
        h.join("p", "room").expect("known");
        assert_eq!(state(&h, "p"), Some(State::Pending));
        assert!(run(&mut h, &[], 1).contains(&(Delivery::Queued, "p")));
        // The handshake is not done: no writer may take its frames yet.
        assert_eq!(h.next_frame("p"), None);
        assert_eq!(h.activate("p"), Ok(true));
        assert_eq!(state(&h, "p"), Some(State::Writing));
        assert_eq!(h.next_frame("p"), Some(1));
        assert_eq!(h.next_frame("p"), None);
        assert_eq!(state(&h, "p"), Some(State::Idle));
        assert_eq!(h.activate("p"), Ok(false));
        h.add("q", "q", true).expect("fresh id");
        assert_eq!(h.activate("q"), Ok(false));
        assert_eq!(state(&h, "q"), Some(State::Idle));
        assert_eq!(h.activate("zz"), Err(HubError::NotFound));
        assert_eq!(h.start_writing("zz"), Err(HubError::NotFound));
    }

    #[test]
    fn send_one_decides_like_a_fanout() {
        let mut h = hub(Policy::DropNewest);
        assert_eq!(
            h.send_one("a", 1).map(|(d, t)| (d, *t)),
            Ok((Delivery::Direct, "a"))
        );
        h.start_writing("a").expect("known");
        assert_eq!(h.send_one("a", 2).map(|(d, _)| d), Ok(Delivery::Queued));
        assert_eq!(h.send_one("a", 3).map(|(d, _)| d), Ok(Delivery::Queued));
        assert_eq!(h.send_one("a", 4).map(|(d, _)| d), Ok(Delivery::Dropped));
        assert_eq!(h.dropped_total(), 1);
        assert_eq!(h.send_one("zz", 5).map(|(d, _)| d), Err(HubError::NotFound));
    }

    #[test]
    fn names_are_defined_once() {
        let names: Vec<&str> = Policy::ALL.iter().map(|p| p.name()).collect();
        assert_eq!(names, ["drop_oldest", "drop_newest", "close"]);
        assert!(Policy::ALL
            .iter()
            .all(|&p| Policy::parse(p.name()) == Some(p)));
        assert_eq!(Policy::parse("nope"), None);
        let states: Vec<&str> = State::ALL.iter().map(|s| s.name()).collect();
        assert_eq!(states, ["pending", "idle", "writing", "closing"]);
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
