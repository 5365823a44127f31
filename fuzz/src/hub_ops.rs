//! Arbitrary operation sequences on the fan-out hub core, against a model.
//!
//! Each input byte pair is one operation on a small id/room/user space, so
//! collisions (duplicate adds, leaving twice, removing mid-broadcast) are
//! frequent. After every step the hub's membership, outbox bounds and drop
//! counters must equal a plain-map model of the documented semantics.
use std::collections::{BTreeMap, BTreeSet, HashSet};

use _native::fanout::{Audience, Delivery, Hub, HubError, Policy, State};

const IDS: [&str; 4] = ["a", "b", "c", "d"];
const ROOMS: [&str; 3] = ["r0", "r1", "é"];
const USERS: [&str; 2] = ["u0", "u1"];

#[derive(Clone)]
struct Model {
    state: State,
    outbox: usize,
    dropped: u64,
    rooms: BTreeSet<&'static str>,
    user: Option<&'static str>,
}

impl Model {
    fn new(pending: bool) -> Self {
        Model {
            state: if pending { State::Pending } else { State::Idle },
            outbox: 0,
            dropped: 0,
            rooms: BTreeSet::new(),
            user: None,
        }
    }
}

fn deliver(m: &mut Model, policy: Policy, capacity: usize, total: &mut u64) -> Delivery {
    match m.state {
        State::Closing => {
            m.dropped += 1;
            *total += 1;
            return Delivery::Dropped;
        }
        State::Idle => return Delivery::Direct,
        State::Pending | State::Writing => {}
    }
    if m.outbox < capacity {
        m.outbox += 1;
        return Delivery::Queued;
    }
    match policy {
        Policy::DropNewest => {
            m.dropped += 1;
            *total += 1;
            Delivery::Dropped
        }
        Policy::DropOldest => {
            m.dropped += 1;
            *total += 1;
            Delivery::Queued
        }
        Policy::Close => {
            let lost = 1 + m.outbox as u64;
            m.state = State::Closing;
            m.dropped += lost;
            *total += lost;
            m.outbox = 0;
            Delivery::Close
        }
    }
}

/// One input: panics on any violation (what the fuzzer reports).
pub fn check(data: &[u8]) {
    let Some((&head, ops)) = data.split_first() else {
        return;
    };
    let policy = [Policy::DropOldest, Policy::DropNewest, Policy::Close][usize::from(head % 3)];
    let capacity = usize::from(head / 3 % 4) + 1;
    let mut hub: Hub<u8, u32> = Hub::new(capacity, policy);
    let mut model: BTreeMap<&'static str, Model> = BTreeMap::new();
    let mut total = 0u64;
    let mut frame = 0u32;
    for pair in ops.chunks_exact(2) {
        let (op, arg) = (pair[0] % 12, pair[1]);
        let id = IDS[usize::from(arg) % IDS.len()];
        let room = ROOMS[usize::from(arg >> 2) % ROOMS.len()];
        let user = USERS[usize::from(arg >> 4) % USERS.len()];
        let known = model.contains_key(id);
        let not_found = if known {
            Ok(())
        } else {
            Err(HubError::NotFound)
        };
        match op {
            0 => {
                let want = if known {
                    Err(HubError::Duplicate)
                } else {
                    Ok(())
                };
                let pending = arg & 0x80 != 0;
                assert_eq!(hub.add(id, arg, pending), want);
                model.entry(id).or_insert_with(|| Model::new(pending));
            }
            1 => {
                assert_eq!(hub.remove(id).is_some(), model.remove(id).is_some());
            }
            2 => {
                assert_eq!(hub.join(id, room), not_found);
                if let Some(m) = model.get_mut(id) {
                    m.rooms.insert(room);
                }
            }
            3 => {
                assert_eq!(hub.leave(id, room), not_found);
                if let Some(m) = model.get_mut(id) {
                    m.rooms.remove(room);
                }
            }
            4 => {
                let who = (arg & 1 == 0).then_some(user);
                assert_eq!(hub.set_user(id, who), not_found);
                if let Some(m) = model.get_mut(id) {
                    m.user = who;
                }
            }
            5 => {
                assert_eq!(hub.start_writing(id), not_found);
                if let Some(m) = model.get_mut(id) {
                    if m.state == State::Idle {
                        m.state = State::Writing;
                    }
                }
            }
            6 => {
                let lost = hub.mark_closing(id);
                match model.get_mut(id) {
                    None => assert_eq!(lost, Err(HubError::NotFound)),
                    Some(m) if m.state == State::Closing => assert_eq!(lost, Ok(0)),
                    Some(m) => {
                        assert_eq!(lost, Ok(m.outbox));
                        m.state = State::Closing;
                        m.dropped += m.outbox as u64;
                        total += m.outbox as u64;
                        m.outbox = 0;
                    }
                }
            }
            7 => {
                let popped = hub.next_frame(id);
                match model.get_mut(id) {
                    Some(m) if m.state == State::Writing => {
                        assert_eq!(popped.is_some(), m.outbox > 0);
                        if m.outbox > 0 {
                            m.outbox -= 1;
                        } else {
                            m.state = State::Idle;
                        }
                    }
                    _ => assert!(popped.is_none()),
                }
            }
            11 => {
                let woke = hub.activate(id);
                match model.get_mut(id) {
                    None => assert_eq!(woke, Err(HubError::NotFound)),
                    Some(m) if m.state == State::Pending => {
                        assert_eq!(woke, Ok(m.outbox > 0));
                        m.state = if m.outbox > 0 {
                            State::Writing
                        } else {
                            State::Idle
                        };
                    }
                    Some(_) => assert_eq!(woke, Ok(false)),
                }
            }
            8..=10 => {
                frame += 1;
                let audience = match op {
                    8 => Audience::Room(room),
                    9 => Audience::User(user),
                    _ => Audience::All,
                };
                let excluded: HashSet<&str> = (arg & 0x40 != 0).then_some(id).into_iter().collect();
                let mut seen: Vec<(String, Delivery)> = Vec::new();
                hub.fanout(audience, &excluded, &mut || frame, &mut |d, conn| {
                    seen.push((conn.id.clone(), d));
                });
                let mut expected: Vec<(String, Delivery)> = Vec::new();
                for (cid, m) in &mut model {
                    let addressed = match audience {
                        Audience::Room(r) => m.rooms.contains(r),
                        Audience::User(u) => m.user == Some(u),
                        Audience::All => true,
                    };
                    if addressed && !excluded.contains(cid) {
                        expected
                            .push(((*cid).to_owned(), deliver(m, policy, capacity, &mut total)));
                    }
                }
                seen.sort_by(|x, y| x.0.cmp(&y.0));
                assert_eq!(seen, expected);
            }
            _ => unreachable!(),
        }
        // Invariants after every operation.
        assert_eq!(hub.len(), model.len());
        assert_eq!(hub.dropped_total(), total);
        for room in ROOMS {
            let mut members: Vec<&str> = hub.members(room);
            members.sort_unstable();
            let want: Vec<&str> = model
                .iter()
                .filter(|(_, m)| m.rooms.contains(room))
                .map(|(id, _)| *id)
                .collect();
            assert_eq!(members, want);
            assert_eq!(hub.room_size(room), want.len());
        }
        for user in USERS {
            let mut members: Vec<&str> = hub.user_members(user);
            members.sort_unstable();
            let want: Vec<&str> = model
                .iter()
                .filter(|(_, m)| m.user == Some(user))
                .map(|(id, _)| *id)
                .collect();
            assert_eq!(members, want);
        }
        for (id, m) in &model {
            let conn = hub.get(id).expect("registered");
            assert!(conn.outbox.len() <= capacity);
            assert_eq!(
                (conn.outbox.len(), conn.state, conn.dropped),
                (m.outbox, m.state, m.dropped)
            );
        }
    }
}
