//! Applying recorded events to the DynamoDB read models: **version-checked, exactly-once**
//! upserts, so any number of appliers (every replica's projector, request handlers catching
//! up for read-your-writes) may apply the same events, in any order, at the same time.
//!
//! Each reservation and restaurant item records the version of its stream it reflects (`v`).
//! For a batch of events, the streams it touches are read (one consistent `BatchGetItem` per
//! chunk), each stream's events after the item's version are folded onto the item's state
//! with the projection's own fold (`fold_reservation`, the core's `evolve`), and everything is
//! written in one `TransactWriteItems` per chunk in which **each item's write is conditioned on
//! the version that was read**. If another applier got there first the transaction is
//! cancelled and the chunk is re-read and re-planned (events already reflected are skipped).
//! A gap (the item is older than the batch's first event for it, because records arrived out
//! of order or were never seen) is filled from the event store (`load` after the item's
//! version), so the fold always sees the whole stream prefix.
//!
//! Counts per restaurant and status move in the same transaction as the reservation item that
//! changes status (`ADD`), so they move exactly once per transition. Day and user memberships
//! are immutable puts (idempotent).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, Put, TransactWriteItem, Update};
use reservation_core::reservation::{Reservation, Status};
use reservation_core::restaurant::Restaurant;
use reservation_core::{State, evolve};

use super::layout::{
    self, Item, PK, SINGLE, VERSION, count_attribute, counts_pk, day_pk, key, n, reservation_item,
    reservation_pk, restaurant_item, restaurant_pk, user_pk,
};
use crate::projection::{ProjectionError, decode, fold_reservation};
use crate::store::{EventStore, RecordedEvent, StoreError};

/// Streams per transaction: each adds up to three items (its own, a day and a user
/// membership) plus its restaurant's counts item, within DynamoDB's 100.
const STREAMS_PER_CHUNK: usize = 24;
const _: () = assert!(
    STREAMS_PER_CHUNK * 4 <= 100,
    "a chunk must fit in one transaction"
);
/// Fresh attempts of one chunk when other appliers keep winning.
const MAX_ATTEMPTS: u32 = 30;
/// Rounds of unprocessed keys (throttling) in one `BatchGetItem`.
const MAX_UNPROCESSED_ROUNDS: u32 = 8;

const RESERVATION_PREFIX: &str = "reservation:";
const RESTAURANT_PREFIX: &str = "restaurant:";

/// Which read model a stream feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Reservation,
    Restaurant,
}

fn kind(stream: &str) -> Option<(Kind, &str)> {
    if let Some(id) = stream.strip_prefix(RESERVATION_PREFIX) {
        Some((Kind::Reservation, id))
    } else {
        stream
            .strip_prefix(RESTAURANT_PREFIX)
            .map(|id| (Kind::Restaurant, id))
    }
}

/// Applies `events` (any streams, any order, duplicates allowed) to the read models in
/// `table`. Returns the number of items written.
pub(crate) async fn apply(
    client: &Client,
    table: &str,
    store: &dyn EventStore,
    events: &[RecordedEvent],
) -> Result<usize, ProjectionError> {
    let mut by_stream: BTreeMap<&str, Vec<&RecordedEvent>> = BTreeMap::new();
    for event in events {
        if kind(&event.stream).is_some() {
            by_stream
                .entry(event.stream.as_str())
                .or_default()
                .push(event);
        }
    }
    for list in by_stream.values_mut() {
        list.sort_by_key(|e| e.stream_version);
        list.dedup_by_key(|e| e.stream_version);
    }
    let streams: Vec<(&str, Vec<&RecordedEvent>)> = by_stream.into_iter().collect();
    let mut written = 0;
    for chunk in streams.chunks(STREAMS_PER_CHUNK) {
        written += apply_chunk(client, table, store, chunk).await?;
    }
    Ok(written)
}

/// One stream's change, as planned from the item read.
enum Change {
    Reservation {
        expected: u64,
        before: Option<Reservation>,
        after: Reservation,
        version: u64,
        position: u64,
    },
    Restaurant {
        expected: u64,
        after: Restaurant,
        version: u64,
        position: u64,
    },
}

async fn apply_chunk(
    client: &Client,
    table: &str,
    store: &dyn EventStore,
    chunk: &[(&str, Vec<&RecordedEvent>)],
) -> Result<usize, ProjectionError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let keys: Vec<Item> = chunk
            .iter()
            .filter_map(|(stream, _)| kind(stream))
            .map(|(kind, id)| match kind {
                Kind::Reservation => key(reservation_pk(id), SINGLE),
                Kind::Restaurant => key(restaurant_pk(id), SINGLE),
            })
            .collect();
        let current = batch_get(client, table, keys).await?;
        let mut changes = Vec::new();
        for (stream, events) in chunk {
            if let Some(change) = plan(store, stream, events, &current).await? {
                changes.push(change);
            }
        }
        if changes.is_empty() {
            return Ok(0);
        }
        let items = transaction(table, &changes)?;
        let count = items.len();
        match client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => return Ok(count),
            Err(error) => {
                let retry = retryable(&error);
                if !retry || attempt >= MAX_ATTEMPTS {
                    return Err(store_error(
                        &format!("applying events to the read models (attempt {attempt})"),
                        &error,
                    ));
                }
                tracing::debug!(attempt, error = %DisplayErrorContext(&error), "read-model chunk retried");
                tokio::time::sleep(backoff(attempt)).await;
            }
        }
    }
}

/// Whether a failed transaction is another applier's doing (or throttling): read and plan again.
fn retryable(error: &SdkError<TransactWriteItemsError>) -> bool {
    match error.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => cancelled
            .cancellation_reasons()
            .iter()
            .filter_map(|r| r.code())
            .all(|code| {
                matches!(
                    code,
                    "None"
                        | "ConditionalCheckFailed"
                        | "TransactionConflict"
                        | "ThrottlingError"
                        | "ProvisionedThroughputExceeded"
                        | "RequestLimitExceeded"
                )
            }),
        Some(TransactWriteItemsError::TransactionInProgressException(_))
        | Some(TransactWriteItemsError::ProvisionedThroughputExceededException(_))
        | Some(TransactWriteItemsError::RequestLimitExceeded(_))
        | Some(TransactWriteItemsError::InternalServerError(_)) => true,
        Some(other) => other.code() == Some("ThrottlingException"),
        // Timeouts, I/O: the transaction may have committed; re-reading tells.
        None => !matches!(error, SdkError::ConstructionFailure(_)),
    }
}

/// What the stream's item needs, from the item read and the events at hand (filling a gap
/// from the store).
async fn plan(
    store: &dyn EventStore,
    stream: &str,
    events: &[&RecordedEvent],
    current: &HashMap<String, Item>,
) -> Result<Option<Change>, ProjectionError> {
    let Some((kind, id)) = kind(stream) else {
        return Ok(None);
    };
    let pk = match kind {
        Kind::Reservation => reservation_pk(id),
        Kind::Restaurant => restaurant_pk(id),
    };
    let item = current.get(&pk);
    let expected = match item {
        Some(item) => layout::get_u64(item, VERSION)?,
        None => 0,
    };
    let fresh: Vec<RecordedEvent> = match events.iter().position(|e| e.stream_version > expected) {
        None => return Ok(None),
        Some(first) if events[first].stream_version == expected + 1 => {
            events[first..].iter().map(|e| (*e).clone()).collect()
        }
        // A gap: the item is older than these events; read what lies between from the store.
        Some(_) => store.load(stream, expected).await?,
    };
    let Some(last) = fresh.last() else {
        return Ok(None);
    };
    let (version, position) = (last.stream_version, last.position);
    match kind {
        Kind::Reservation => {
            let before = match item {
                Some(item) => Some(layout::decode_reservation_item(item)?.1),
                None => None,
            };
            match fold_reservation(before.clone(), &fresh, None)? {
                Some(after) => Ok(Some(Change::Reservation {
                    expected,
                    before,
                    after,
                    version,
                    position,
                })),
                None => {
                    tracing::warn!(
                        stream,
                        "reservation stream without an opening event ignored"
                    );
                    Ok(None)
                }
            }
        }
        Kind::Restaurant => {
            let before = match item {
                Some(item) => Some(Arc::new(layout::decode_restaurant_item(item)?.1)),
                None => None,
            };
            let mut state = State {
                restaurant: before,
                ..State::default()
            };
            for recorded in &fresh {
                if let Some(event) = decode(recorded)? {
                    state = evolve(state, &event);
                }
            }
            Ok(state.restaurant.map(|after| Change::Restaurant {
                expected,
                after: Arc::unwrap_or_clone(after),
                version,
                position,
            }))
        }
    }
}

/// The transaction for `changes`: each item write conditioned on the version read, the
/// memberships a change adds, and one counts update per restaurant.
fn transaction(table: &str, changes: &[Change]) -> Result<Vec<TransactWriteItem>, ProjectionError> {
    let built = |e: aws_sdk_dynamodb::error::BuildError| {
        ProjectionError::Store(StoreError::Unavailable(format!("building a write: {e}")))
    };
    let mut items = Vec::new();
    let mut memberships: HashSet<(String, String)> = HashSet::new();
    let mut counts: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    let mut count = |restaurant: &str, status: Status, delta: i64| {
        *counts
            .entry(restaurant.to_owned())
            .or_default()
            .entry(count_attribute(status))
            .or_default() += delta;
    };
    for change in changes {
        let (item, expected) = match change {
            Change::Reservation {
                expected,
                before,
                after,
                version,
                position,
            } => {
                let new_day = before
                    .as_ref()
                    .is_none_or(|b| b.restaurant_id != after.restaurant_id || b.date != after.date);
                if new_day {
                    memberships.insert((
                        day_pk(after.restaurant_id.as_str(), after.date),
                        after.id.to_string(),
                    ));
                }
                if before.as_ref().is_none_or(|b| b.user_id != after.user_id) {
                    memberships.insert((user_pk(after.user_id.as_str()), after.id.to_string()));
                }
                match before {
                    Some(b)
                        if b.status == after.status && b.restaurant_id == after.restaurant_id => {}
                    Some(b) => {
                        count(b.restaurant_id.as_str(), b.status, -1);
                        count(after.restaurant_id.as_str(), after.status, 1);
                    }
                    None => count(after.restaurant_id.as_str(), after.status, 1),
                }
                (reservation_item(after, *version, *position)?, *expected)
            }
            Change::Restaurant {
                expected,
                after,
                version,
                position,
            } => (restaurant_item(after, *version, *position)?, *expected),
        };
        let put = Put::builder()
            .table_name(table)
            .set_item(Some(item))
            .expression_attribute_names("#v", VERSION);
        let put = if expected == 0 {
            put.condition_expression("attribute_not_exists(#v)")
        } else {
            put.condition_expression("#v = :expected")
                .expression_attribute_values(":expected", n(expected))
        };
        items.push(
            TransactWriteItem::builder()
                .put(put.build().map_err(built)?)
                .build(),
        );
    }
    for (pk, sk) in memberships {
        let put = Put::builder()
            .table_name(table)
            .set_item(Some(key(pk, sk)))
            .build()
            .map_err(built)?;
        items.push(TransactWriteItem::builder().put(put).build());
    }
    for (restaurant, deltas) in counts {
        let deltas: Vec<(String, i64)> = deltas.into_iter().filter(|(_, d)| *d != 0).collect();
        if deltas.is_empty() {
            continue;
        }
        let mut update = Update::builder()
            .table_name(table)
            .set_key(Some(key(counts_pk(&restaurant), SINGLE)));
        let mut clauses = Vec::new();
        for (i, (attribute, delta)) in deltas.iter().enumerate() {
            clauses.push(format!("#c{i} :d{i}"));
            update = update
                .expression_attribute_names(format!("#c{i}"), attribute)
                .expression_attribute_values(format!(":d{i}"), n(*delta));
        }
        let update = update
            .update_expression(format!("ADD {}", clauses.join(", ")))
            .build()
            .map_err(built)?;
        items.push(TransactWriteItem::builder().update(update).build());
    }
    Ok(items)
}

/// Reads `keys` consistently (any number, 100 per request), by partition key.
pub(crate) async fn batch_get(
    client: &Client,
    table: &str,
    keys: Vec<Item>,
) -> Result<HashMap<String, Item>, ProjectionError> {
    let mut found = HashMap::new();
    let mut seen = HashSet::new();
    let keys: Vec<Item> = keys
        .into_iter()
        .filter(|k| {
            seen.insert((
                k.get(PK).cloned().map(av_text),
                k.get(layout::SK).cloned().map(av_text),
            ))
        })
        .collect();
    for chunk in keys.chunks(100) {
        let mut pending = chunk.to_vec();
        let mut round = 0;
        while !pending.is_empty() {
            round += 1;
            let request = KeysAndAttributes::builder()
                .set_keys(Some(pending))
                .consistent_read(true)
                .build()
                .map_err(|e| {
                    ProjectionError::Store(StoreError::Unavailable(format!("building a read: {e}")))
                })?;
            let out = client
                .batch_get_item()
                .request_items(table, request)
                .send()
                .await
                .map_err(|e| store_error("reading read-model items", &e))?;
            for item in out
                .responses()
                .and_then(|r| r.get(table))
                .into_iter()
                .flatten()
            {
                let pk = layout::get_s(item, PK)?.to_owned();
                found.insert(pk, item.clone());
            }
            pending = out
                .unprocessed_keys()
                .and_then(|u| u.get(table))
                .map(|k| k.keys().to_vec())
                .unwrap_or_default();
            if !pending.is_empty() {
                if round >= MAX_UNPROCESSED_ROUNDS {
                    return Err(ProjectionError::Store(StoreError::Unavailable(format!(
                        "DynamoDB left {} read-model keys unread after {round} tries (throttled)",
                        pending.len()
                    ))));
                }
                tokio::time::sleep(backoff(round)).await;
            }
        }
    }
    Ok(found)
}

fn av_text(value: AttributeValue) -> String {
    match value {
        AttributeValue::S(text) | AttributeValue::N(text) => text,
        other => format!("{other:?}"),
    }
}

/// Exponential backoff with full jitter: up to 5 ms × 2^attempt, at most 1 s.
pub(crate) fn backoff(attempt: u32) -> Duration {
    let cap = 5u64.saturating_mul(1u64 << attempt.min(10)).min(1000);
    Duration::from_millis(fastrand::u64(1..=cap.max(1)))
}

pub(crate) fn store_error(what: &str, error: &dyn std::error::Error) -> ProjectionError {
    ProjectionError::Store(StoreError::Unavailable(format!(
        "DynamoDB read models, {what}: {}",
        DisplayErrorContext(error)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_reservation_and_restaurant_streams_feed_read_models() {
        assert_eq!(kind("reservation:abc"), Some((Kind::Reservation, "abc")));
        assert_eq!(kind("restaurant:r1"), Some((Kind::Restaurant, "r1")));
        assert_eq!(kind("daybook:r1:2026-12-08"), None);
    }
}
