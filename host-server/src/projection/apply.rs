//! Applying recorded events to the read models: one SQLite transaction per batch, which also
//! advances the checkpoint, so a crash never applies an event twice or skips one.

use std::collections::HashMap;
use std::sync::Arc;

use reservation_core::reservation::{Reservation, Status};
use reservation_core::restaurant::Restaurant;
use reservation_core::time::{MINUTES_PER_DAY, datetime_at, days_between};
use reservation_core::{Date, Event, State, evolve};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use super::{ProjectionError, schema};
use crate::store::RecordedEvent;

/// Day-book events carry table occupancy only: no read model uses them, so they are not even
/// decoded (decoding is the larger part of projecting an event).
const IGNORED_TYPES: &[&str] = &["tables_allocated", "tables_released"];

/// What a batch did: the new checkpoint and, if an event could not be projected, why the batch
/// stopped before it (the events before it are applied and checkpointed).
pub(crate) struct BatchOutcome {
    pub checkpoint: u64,
    pub stopped: Option<ProjectionError>,
}

/// Decodes an event and checks that it was stored in its own stream. `None`: nothing to project.
pub(crate) fn decode(recorded: &RecordedEvent) -> Result<Option<Event>, ProjectionError> {
    if IGNORED_TYPES.contains(&recorded.event_type.as_str()) {
        return Ok(None);
    }
    let event: Event =
        serde_json::from_str(&recorded.payload).map_err(|e| ProjectionError::Undecodable {
            position: recorded.position,
            event_type: recorded.event_type.clone(),
            reason: e.to_string(),
        })?;
    let own_stream = event.stream().to_string();
    if own_stream != recorded.stream {
        return Err(ProjectionError::WrongStream {
            position: recorded.position,
            stream: recorded.stream.clone(),
            expected: own_stream,
        });
    }
    Ok(Some(event))
}

/// Applies the events after `checkpoint` (those at or below it are skipped) in one transaction.
/// A database error rolls the whole batch back; an event that cannot be decoded stops the batch
/// after the events before it.
pub(crate) fn apply_batch(
    conn: &mut Connection,
    checkpoint: u64,
    events: &[RecordedEvent],
) -> Result<BatchOutcome, ProjectionError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Another process (e.g. `rebuild-projections`) may have moved the checkpoint.
    let mut position = schema::read_checkpoint(&tx)?.max(checkpoint);
    let mut counts = Counts::default();
    let mut stopped = None;
    for recorded in events {
        if recorded.position <= position {
            continue;
        }
        match decode(recorded) {
            Ok(Some(event)) => project(&tx, &event, &mut counts)?,
            Ok(None) => {}
            Err(error) => {
                stopped = Some(error);
                break;
            }
        }
        position = recorded.position;
    }
    counts.flush(&tx)?;
    schema::write_checkpoint(&tx, position)?;
    tx.commit()?;
    Ok(BatchOutcome {
        checkpoint: position,
        stopped,
    })
}

/// Changes of reservation counts per (restaurant, status), written once per batch.
#[derive(Default)]
struct Counts(HashMap<(String, Status), i64>);

impl Counts {
    fn add(&mut self, restaurant_id: &str, status: Status, delta: i64) {
        *self
            .0
            .entry((restaurant_id.to_owned(), status))
            .or_default() += delta;
    }

    fn flush(self, tx: &Transaction<'_>) -> Result<(), ProjectionError> {
        let mut upsert = tx.prepare_cached(
            "INSERT INTO restaurant_counts (restaurant_id, status, n) VALUES (?1, ?2, ?3)
             ON CONFLICT (restaurant_id, status) DO UPDATE SET n = n + excluded.n",
        )?;
        for ((restaurant_id, status), delta) in self.0 {
            if delta != 0 {
                upsert.execute(params![restaurant_id, status.as_str(), delta])?;
            }
        }
        Ok(())
    }
}

fn project(
    tx: &Transaction<'_>,
    event: &Event,
    counts: &mut Counts,
) -> Result<(), ProjectionError> {
    match event {
        Event::RestaurantRegistered(_)
        | Event::TablesChanged(_)
        | Event::OpeningHoursChanged(_)
        | Event::BookingPolicyChanged(_) => project_restaurant(tx, event),
        Event::TablesAllocated(_) | Event::TablesReleased(_) => Ok(()),
        Event::ReservationConfirmed(e) => {
            insert_reservation(tx, &Reservation::confirmed(e), counts)
        }
        Event::ReservationRejected(e) => insert_reservation(tx, &Reservation::rejected(e), counts),
        Event::ReservationCancelled(e) => {
            update_reservation(tx, e.reservation_id.as_str(), event, counts)
        }
        Event::ReservationModified(e) => {
            update_reservation(tx, e.reservation_id.as_str(), event, counts)
        }
        Event::ReservationSeated(e) => {
            update_reservation(tx, e.reservation_id.as_str(), event, counts)
        }
        Event::ReservationCompleted(e) => {
            update_reservation(tx, e.reservation_id.as_str(), event, counts)
        }
        Event::ReservationMarkedNoShow(e) => {
            update_reservation(tx, e.reservation_id.as_str(), event, counts)
        }
    }
}

/// Restaurant configuration, folded by the core's own `evolve`.
fn project_restaurant(tx: &Transaction<'_>, event: &Event) -> Result<(), ProjectionError> {
    let id = match event.stream() {
        reservation_core::stream::StreamId::Restaurant(id) => id,
        _ => return Ok(()),
    };
    let current: Option<String> = tx
        .prepare_cached("SELECT config FROM restaurants WHERE id = ?1")?
        .query_row(params![id.as_str()], |row| row.get(0))
        .optional()?;
    let restaurant = match current {
        Some(json) => Some(Arc::new(decode_restaurant(&json)?)),
        None => None,
    };
    let state = evolve(
        State {
            restaurant: restaurant.clone(),
            ..State::default()
        },
        event,
    );
    match state.restaurant {
        Some(updated) if Some(&updated) != restaurant.as_ref() => {
            tx.prepare_cached(
                "INSERT INTO restaurants (id, config) VALUES (?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET config = excluded.config",
            )?
            .execute(params![updated.id.as_str(), encode(&updated)?])?;
        }
        _ => {}
    }
    Ok(())
}

fn insert_reservation(
    tx: &Transaction<'_>,
    r: &Reservation,
    counts: &mut Counts,
) -> Result<(), ProjectionError> {
    let state = encode(r)?;
    let inserted = tx
        .prepare_cached(
            "INSERT INTO reservations (id, restaurant_id, user_id, date, sort_key, status, state)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            r.id.as_str(),
            r.restaurant_id.as_str(),
            r.user_id.as_str(),
            r.date.to_string(),
            sort_key(r),
            r.status.as_str(),
            state
        ]);
    match inserted {
        Ok(_) => {}
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            // A second opening event for the same id (the core's `evolve` replaces the
            // reservation; so does the projection).
            tracing::warn!(reservation_id = %r.id, "reservation opened twice; replacing it as the core does");
            if let Some(old) = load_reservation(tx, r.id.as_str())? {
                counts.add(old.restaurant_id.as_str(), old.status, -1);
                if old.date != r.date || old.restaurant_id != r.restaurant_id {
                    record_move(tx, &old)?;
                }
            }
            write_reservation(tx, r, &state)?;
        }
        Err(e) => return Err(e.into()),
    }
    counts.add(r.restaurant_id.as_str(), r.status, 1);
    Ok(())
}

fn update_reservation(
    tx: &Transaction<'_>,
    id: &str,
    event: &Event,
    counts: &mut Counts,
) -> Result<(), ProjectionError> {
    let Some(mut r) = load_reservation(tx, id)? else {
        // The core's `evolve` ignores such an event too; the log is inconsistent, not the
        // projection, and the as-of fold of the stream ignores it the same way.
        tracing::warn!(
            reservation_id = id,
            event = event.type_name(),
            "event for an unknown reservation ignored"
        );
        return Ok(());
    };
    let before = r.clone();
    r.apply(event);
    write_reservation(tx, &r, &encode(&r)?)?;
    if r.status != before.status {
        counts.add(r.restaurant_id.as_str(), before.status, -1);
        counts.add(r.restaurant_id.as_str(), r.status, 1);
    }
    if r.date != before.date {
        record_move(tx, &before)?;
    }
    Ok(())
}

fn write_reservation(
    tx: &Transaction<'_>,
    r: &Reservation,
    state: &str,
) -> Result<(), ProjectionError> {
    tx.prepare_cached(
        "UPDATE reservations SET restaurant_id = ?2, user_id = ?3, date = ?4, sort_key = ?5, status = ?6,
         state = ?7 WHERE id = ?1",
    )?
    .execute(params![
        r.id.as_str(),
        r.restaurant_id.as_str(),
        r.user_id.as_str(),
        r.date.to_string(),
        sort_key(r),
        r.status.as_str(),
        state
    ])?;
    Ok(())
}

/// Remembers that `r` was on its (current) day before it moved away, for as-of queries: with
/// the reservations' current dates this gives every day a reservation ever belonged to.
fn record_move(tx: &Transaction<'_>, r: &Reservation) -> Result<(), ProjectionError> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO reservation_moves (restaurant_id, date, reservation_id)
         VALUES (?1, ?2, ?3)",
    )?
    .execute(params![
        r.restaurant_id.as_str(),
        r.date.to_string(),
        r.id.as_str()
    ])?;
    Ok(())
}

pub(crate) fn load_reservation(
    conn: &Connection,
    id: &str,
) -> Result<Option<Reservation>, ProjectionError> {
    let json: Option<String> = conn
        .prepare_cached("SELECT state FROM reservations WHERE id = ?1")?
        .query_row(params![id], |row| row.get(0))
        .optional()?;
    json.map(|json| decode_reservation(&json)).transpose()
}

pub(crate) fn decode_reservation(json: &str) -> Result<Reservation, ProjectionError> {
    serde_json::from_str(json)
        .map_err(|e| ProjectionError::Corrupt(format!("stored reservation: {e}")))
}

pub(crate) fn decode_restaurant(json: &str) -> Result<Restaurant, ProjectionError> {
    serde_json::from_str(json)
        .map_err(|e| ProjectionError::Corrupt(format!("stored restaurant: {e}")))
}

fn encode<T: serde::Serialize>(value: &T) -> Result<String, ProjectionError> {
    serde_json::to_string(value)
        .map_err(|e| ProjectionError::Corrupt(format!("cannot encode a read model: {e}")))
}

/// Listing order: the assigned start (the requested time when rejected), as minutes since
/// 1970-01-01T00:00 civil time; ties are broken by id.
pub(crate) fn sort_key(r: &Reservation) -> i64 {
    let at = r
        .starts_at
        .unwrap_or_else(|| datetime_at(r.date, r.requested_time.minutes()));
    civil_minutes(at)
}

pub(crate) fn civil_minutes(at: reservation_core::DateTime) -> i64 {
    const EPOCH: Date = Date::constant(1970, 1, 1);
    days_between(EPOCH, at.date()) * i64::from(MINUTES_PER_DAY)
        + i64::from(at.hour()) * 60
        + i64::from(at.minute())
}
