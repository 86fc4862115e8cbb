//! Applying recorded events to the read models: one SQLite transaction per batch, which also
//! advances the checkpoint, so a crash never applies an event twice or skips one.

use std::collections::HashMap;
use std::sync::Arc;

use reservation_core::reservation::{Reservation, Status};
use reservation_core::restaurant::Restaurant;
use reservation_core::time::{MINUTES_PER_DAY, datetime_at, days_between};
use reservation_core::{Date, Event, State, evolve};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use super::hints::{self, Hint, Pending};
use super::{ProjectionError, schema};
use crate::store::RecordedEvent;

/// Day-book events carry table occupancy only: no read model uses them, so they are not even
/// decoded (decoding is the larger part of projecting an event).
const IGNORED_TYPES: &[&str] = &["tables_allocated", "tables_released"];

/// What a batch did: the new checkpoint, what became of the hint log, and, if an event could
/// not be projected, why the batch stopped before it (the events before it are applied and
/// checkpointed).
pub(crate) struct BatchOutcome {
    pub checkpoint: u64,
    pub hints: HintLogChange,
    pub stopped: Option<ProjectionError>,
}

/// How the in-memory copy of the hint log follows a committed batch.
pub(crate) enum HintLogChange {
    /// These hints were appended.
    Appended(Vec<Hint>),
    /// The log was merged and is empty.
    Merged,
    /// Another process had written the read models: the log as it now is.
    Reloaded(Pending),
}

impl HintLogChange {
    /// Brings `pending` (the log as this process knew it before the batch) up to date. Readers
    /// share it: an append copies it if one is reading it.
    pub(crate) fn apply_to(self, pending: &mut Arc<Pending>) {
        match self {
            HintLogChange::Appended(hints) if hints.is_empty() => {}
            HintLogChange::Appended(hints) => {
                let pending = Arc::make_mut(pending);
                hints.iter().for_each(|hint| pending.push(hint));
            }
            HintLogChange::Merged => match Arc::get_mut(pending) {
                Some(pending) => pending.clear(),
                None => *pending = Arc::new(Pending::with_capacity(hints::MERGE_AT)),
            },
            HintLogChange::Reloaded(log) => *pending = Arc::new(log),
        }
    }
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
/// after the events before it. `logged` is the hint log as this process knew it after its last
/// batch; the log is merged once it holds `merge_at` hints.
pub(crate) fn apply_batch(
    conn: &mut Connection,
    checkpoint: u64,
    logged: &Pending,
    merge_at: usize,
    events: &[RecordedEvent],
) -> Result<BatchOutcome, ProjectionError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Another process (e.g. `rebuild-projections`) may have written the read models: then the
    // checkpoint moved, and this process's copy of the hint log is stale.
    let stored = schema::read_checkpoint(&tx)?;
    let mut position = stored.max(checkpoint);
    let mut batch = Batch::default();
    let mut stopped = None;
    for recorded in events {
        if recorded.position <= position {
            continue;
        }
        match decode(recorded) {
            Ok(Some(event)) => project(&tx, &event, &mut batch)?,
            Ok(None) => {}
            Err(error) => {
                stopped = Some(error);
                break;
            }
        }
        position = recorded.position;
    }
    batch.counts.flush(&tx)?;
    let total = logged.len() + batch.hints.len();
    let hints = if stored != checkpoint {
        HintLogChange::Reloaded(hints::load(&tx)?)
    } else if total < merge_at {
        HintLogChange::Appended(batch.hints)
    } else if hints::logged_rows(&tx)? == total {
        hints::merge(&tx, logged, &batch.hints)?;
        HintLogChange::Merged
    } else {
        // Not expected (the checkpoint says nobody else wrote); the log is the truth.
        tracing::warn!(
            total,
            "the hint log differs from this process's copy: reloading it"
        );
        HintLogChange::Reloaded(hints::load(&tx)?)
    };
    schema::write_checkpoint(&tx, position)?;
    tx.commit()?;
    Ok(BatchOutcome {
        checkpoint: position,
        hints,
        stopped,
    })
}

/// What a batch gathers besides its writes.
#[derive(Default)]
struct Batch {
    counts: Counts,
    /// Hints logged by this batch.
    hints: Vec<Hint>,
}

impl Batch {
    /// Logs that `r` is on its current day.
    fn hint(&mut self, tx: &Transaction<'_>, r: &Reservation) -> Result<(), ProjectionError> {
        let hint = Hint {
            restaurant_id: r.restaurant_id.as_str().to_owned(),
            date: r.date,
            user_id: r.user_id.as_str().to_owned(),
            reservation_id: r.id.as_str().to_owned(),
        };
        hints::record(tx, &hint)?;
        self.hints.push(hint);
        Ok(())
    }
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

fn project(tx: &Transaction<'_>, event: &Event, batch: &mut Batch) -> Result<(), ProjectionError> {
    match event {
        Event::RestaurantRegistered(_)
        | Event::TablesChanged(_)
        | Event::OpeningHoursChanged(_)
        | Event::BookingPolicyChanged(_) => project_restaurant(tx, event),
        Event::TablesAllocated(_) | Event::TablesReleased(_) => Ok(()),
        Event::ReservationConfirmed(e) => insert_reservation(tx, &Reservation::confirmed(e), batch),
        Event::ReservationRejected(e) => insert_reservation(tx, &Reservation::rejected(e), batch),
        Event::ReservationCancelled(e) => {
            update_reservation(tx, e.reservation_id.as_str(), event, batch)
        }
        Event::ReservationModified(e) => {
            update_reservation(tx, e.reservation_id.as_str(), event, batch)
        }
        Event::ReservationSeated(e) => {
            update_reservation(tx, e.reservation_id.as_str(), event, batch)
        }
        Event::ReservationCompleted(e) => {
            update_reservation(tx, e.reservation_id.as_str(), event, batch)
        }
        Event::ReservationMarkedNoShow(e) => {
            update_reservation(tx, e.reservation_id.as_str(), event, batch)
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
    batch: &mut Batch,
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
            // The old day's hint stays: it says where the reservation once was.
            if let Some(old) = load_reservation(tx, r.id.as_str())? {
                batch.counts.add(old.restaurant_id.as_str(), old.status, -1);
            }
            write_reservation(tx, r, &state)?;
        }
        Err(e) => return Err(e.into()),
    }
    batch.counts.add(r.restaurant_id.as_str(), r.status, 1);
    batch.hint(tx, r)
}

fn update_reservation(
    tx: &Transaction<'_>,
    id: &str,
    event: &Event,
    batch: &mut Batch,
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
        batch
            .counts
            .add(r.restaurant_id.as_str(), before.status, -1);
        batch.counts.add(r.restaurant_id.as_str(), r.status, 1);
    }
    if r.date != before.date {
        batch.hint(tx, &r)?;
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
