//! Shared by the projection tests: runs real core commands against a real event store, the way
//! the application service does (load the streams, decide, append with expected versions).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::collections::HashMap;
use std::sync::Arc;

use reservation_core::stream::StreamId;
use reservation_core::{Command, DomainError, Event, State, decide, evolve, streams_to_load};
use reservation_server::store::memory::MemoryStore;
use reservation_server::store::sqlite::SqliteStore;
use reservation_server::store::{EventStore, NewEvent, RecordedEvent, StreamWrite};
use serde_json::{Value, json};

/// A store under test, with the directory that holds it (and the read models).
pub struct Backend {
    pub name: &'static str,
    pub store: Arc<dyn EventStore>,
    pub dir: tempfile::TempDir,
}

/// The real adapters: in-memory and SQLite.
pub fn backends() -> Vec<Backend> {
    let memory_dir = tempfile::tempdir().unwrap();
    let sqlite_dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(sqlite_dir.path().join("events")).unwrap();
    vec![
        Backend {
            name: "memory",
            store: Arc::new(MemoryStore::new()),
            dir: memory_dir,
        },
        Backend {
            name: "sqlite",
            store: Arc::new(sqlite),
            dir: sqlite_dir,
        },
    ]
}

async fn load(store: &dyn EventStore, streams: &[StreamId]) -> (State, HashMap<String, u64>) {
    let mut state = State::default();
    let mut versions = HashMap::new();
    for stream in streams {
        let name = stream.to_string();
        let events = store.load(&name, 0).await.unwrap();
        versions.insert(name, events.len() as u64);
        for recorded in &events {
            let event: Event = serde_json::from_str(&recorded.payload).unwrap();
            state = evolve(state, &event);
        }
    }
    (state, versions)
}

/// Loads, decides and appends one command; returns what the store recorded.
pub async fn execute(
    store: &dyn EventStore,
    command: Value,
) -> Result<Vec<RecordedEvent>, DomainError> {
    let command: Command = serde_json::from_value(command).unwrap();
    let mut streams = streams_to_load(&command, None);
    let (mut state, mut versions) = load(store, &streams).await;
    if !matches!(command, Command::RequestReservation(_))
        && let Some(id) = command.reservation_id()
    {
        let reservation = state.reservations.get(id).cloned();
        streams = streams_to_load(&command, reservation.as_ref());
        (state, versions) = load(store, &streams).await;
    }
    let events = decide(&command, &state)?;
    let mut writes: Vec<StreamWrite> = Vec::new();
    for event in events {
        let stream = event.stream().to_string();
        let new = NewEvent {
            event_type: event.type_name().into(),
            schema_version: event.version(),
            payload: serde_json::to_string(&event).unwrap(),
        };
        match writes.iter_mut().find(|w| w.stream == stream) {
            Some(write) => write.events.push(new),
            None => writes.push(StreamWrite {
                expected_version: versions.get(&stream).copied().unwrap_or(0),
                stream,
                events: vec![new],
            }),
        }
    }
    Ok(store.append(writes).await.unwrap())
}

/// Executes a command that must succeed and record something.
pub async fn run(store: &dyn EventStore, command: Value) -> Vec<RecordedEvent> {
    let recorded = execute(store, command.clone())
        .await
        .unwrap_or_else(|e| panic!("{command}: {e}"));
    assert!(!recorded.is_empty(), "{command} recorded nothing");
    recorded
}

pub fn register(id: &str, timezone: &str, tables: &[(&str, u16)], hours: &[&str]) -> Value {
    let tables: Vec<Value> = tables
        .iter()
        .map(|(id, seats)| json!({ "id": id, "seats": seats }))
        .collect();
    json!({
        "type": "register_restaurant",
        "restaurant": {
            "id": id, "name": format!("Restaurant {id}"), "timezone": timezone, "tables": tables,
            "opening_hours": {
                "monday": hours, "tuesday": hours, "wednesday": hours, "thursday": hours,
                "friday": hours, "saturday": hours, "sunday": hours
            }
        }
    })
}

/// A booking request made at `now` (civil, the restaurant's zone).
pub fn book(
    id: &str,
    restaurant: &str,
    user: &str,
    party: u16,
    date: &str,
    time: &str,
    now: &str,
) -> Value {
    json!({
        "type": "request_reservation", "reservation_id": id, "restaurant_id": restaurant,
        "user_id": user, "guest_name": format!("Guest {user}"), "party_size": party,
        "date": date, "time": time, "now": now
    })
}

pub fn change(kind: &str, id: &str, now: &str) -> Value {
    match kind {
        "cancel_reservation" => {
            json!({ "type": kind, "reservation_id": id, "by": "guest", "now": now })
        }
        _ => json!({ "type": kind, "reservation_id": id, "now": now }),
    }
}

pub fn modify(id: &str, date: &str, time: &str, now: &str) -> Value {
    json!({ "type": "modify_reservation", "reservation_id": id, "date": date, "time": time, "by": "guest", "now": now })
}

/// The core's own fold of the whole log: the oracle the read models must agree with.
pub async fn fold_all(store: &dyn EventStore) -> State {
    let mut state = State::default();
    let mut after = 0;
    loop {
        let batch = store.read_all(after, 1000).await.unwrap();
        let Some(last) = batch.last() else { break };
        after = last.position;
        for recorded in &batch {
            let event: Event = serde_json::from_str(&recorded.payload).unwrap();
            state = evolve(state, &event);
        }
    }
    state
}
