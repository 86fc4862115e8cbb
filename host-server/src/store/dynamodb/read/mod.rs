//! The read side on DynamoDB: the read models (reservation, restaurant-day listing, user's
//! reservations, restaurant view) as items of a second table, `<events table>-read`, kept
//! current by a projector that follows the event table's **DynamoDB Streams** (the feed items'
//! `NEW_IMAGE`s), with per-shard checkpoints in the read table, version-checked exactly-once
//! upserts ([`apply`]) so several replicas may run it at once, and catch-up from the event
//! table's own feed (`read_all`) whenever Streams cannot help (first start, a checkpoint
//! beyond the 24-hour window, records missing for too long). Layout and trade-offs: the
//! adapter's `README.md`.
//!
//! Freshness:
//! - `reservation(id)` is folded from the reservation's own stream (one consistent `Query` of
//!   the event table): a client that got a 201 from any replica reads its reservation at once
//!   from every replica.
//! - Listings and the restaurant view read the read models (consistent reads). A replica
//!   reads its own writes ([`ReadSide::catch_up_to`] applies the feed up to the position it
//!   wrote if the projector has not yet); other replicas' writes appear within the Streams
//!   delay (about a second).

pub(crate) mod apply;
pub mod layout;
mod projector;
mod table;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, Select, WriteRequest};
use reservation_core::Date;
use reservation_core::reservation::Status;

use self::layout::{
    BY_START, Item, MARK, MARK_PK, PK, RESTAURANT, SINGLE, SK, START, STATUS, counts_pk, day_pk,
    key, reservation_pk, restaurant_pk, s, user_pk,
};
pub use self::projector::{ProjectorOptions, spawn_stream_projector};
pub use self::table::{check_read_table, create_read_table, read_table_name};
use super::{RequestCounter, RequestCounts, http_client, retry_config, timeout_config};
use crate::projection::{
    ProjectionError, ReadSide, ReservationCounts, RestaurantView, civil_minutes, civil_now,
    fold_reservation, sort_key, sort_views,
};
use crate::store::{EventStore, StoreError};
use crate::view::ReservationView;

type Result<T, E = ProjectionError> = std::result::Result<T, E>;

/// Events read from the feed per catch-up step.
const FEED_BATCH: usize = 1000;

/// The DynamoDB read models. Share it as `Arc<DynamoReadModels>`.
pub struct DynamoReadModels {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    streams: aws_sdk_dynamodbstreams::Client,
    events_table: String,
    table: String,
    store: Arc<dyn EventStore>,
    requests: RequestCounter,
    /// What this replica knows to be applied.
    progress: Mutex<Progress>,
    /// Appliers of this replica take turns (they would only collide on the same items).
    apply_lock: tokio::sync::Mutex<()>,
}

/// Positions known to be applied: everything up to `applied`, plus the ranges in `ahead`
/// (applied from Streams records that arrived before some earlier position was seen).
#[derive(Debug, Default)]
struct Progress {
    applied: u64,
    ahead: BTreeMap<u64, u64>,
    /// Since when `ahead` has not been empty (a gap that Streams may still fill).
    gap_since: Option<Instant>,
}

impl Progress {
    fn mark(&mut self, first: u64, last: u64) {
        if last > self.applied {
            if first <= self.applied.saturating_add(1) {
                self.applied = last;
            } else {
                let end = self.ahead.entry(first).or_insert(last);
                *end = (*end).max(last);
            }
        }
        while let Some((&first, &last)) = self.ahead.first_key_value() {
            if first > self.applied.saturating_add(1) {
                break;
            }
            self.ahead.remove(&first);
            self.applied = self.applied.max(last);
        }
        if self.ahead.is_empty() {
            self.gap_since = None;
        } else if self.gap_since.is_none() {
            self.gap_since = Some(Instant::now());
        }
    }
}

impl std::fmt::Debug for DynamoReadModels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamoReadModels")
            .field("table", &self.inner.table)
            .field("applied", &self.applied())
            .finish_non_exhaustive()
    }
}

fn unavailable(what: &str, error: &dyn std::error::Error) -> ProjectionError {
    apply::store_error(what, error)
}

impl DynamoReadModels {
    /// The read models of the event table `events_table` (in `<events_table>-read`), with the
    /// AWS configuration `sdk`; `store` is the event store on that table (for catch-up and
    /// gap filling). Checks that the read table exists and starts from its watermark.
    pub async fn open(
        sdk: &aws_config::SdkConfig,
        events_table: &str,
        store: Arc<dyn EventStore>,
    ) -> Result<Self> {
        let requests = RequestCounter::for_side("read");
        let client = Client::from_conf(
            super::client_config(sdk)
                .http_client(http_client())
                .retry_config(retry_config())
                .timeout_config(timeout_config())
                .interceptor(requests.clone())
                .build(),
        );
        let streams = aws_sdk_dynamodbstreams::Client::from_conf(
            aws_sdk_dynamodbstreams::config::Builder::from(sdk)
                .http_client(http_client())
                .retry_config(retry_config())
                .timeout_config(timeout_config())
                .build(),
        );
        let table = read_table_name(events_table);
        check_read_table(&client, &table).await?;
        let read = DynamoReadModels {
            inner: Arc::new(Inner {
                client,
                streams,
                events_table: events_table.to_owned(),
                table,
                store,
                requests,
                progress: Mutex::new(Progress::default()),
                apply_lock: tokio::sync::Mutex::new(()),
            }),
        };
        let mark = read.read_mark().await?;
        read.progress().mark(1, mark);
        Ok(read)
    }

    /// The read-model table's name.
    pub fn table(&self) -> &str {
        &self.inner.table
    }

    /// Requests the read side sent to DynamoDB so far (Streams requests not included).
    pub fn requests(&self) -> RequestCounts {
        self.inner.requests.snapshot()
    }

    fn progress(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.inner
            .progress
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Every position up to this one is applied (as far as this replica knows).
    pub fn applied(&self) -> u64 {
        self.progress().applied
    }

    /// How long positions have been missing behind ones applied (a gap Streams has not filled).
    fn gap_age(&self) -> Option<Duration> {
        self.progress().gap_since.map(|since| since.elapsed())
    }

    /// Applies `events` (from a Streams record or the feed) and marks their positions.
    async fn apply_and_mark(&self, events: &[crate::store::RecordedEvent]) -> Result<()> {
        let (Some(first), Some(last)) = (events.first(), events.last()) else {
            return Ok(());
        };
        let (first, last) = (first.position, last.position);
        let _turn = self.inner.apply_lock.lock().await;
        if self.applied() >= last {
            return Ok(());
        }
        apply::apply(
            &self.inner.client,
            &self.inner.table,
            self.inner.store.as_ref(),
            events,
        )
        .await?;
        self.progress().mark(first, last);
        Ok(())
    }

    /// Applies the feed from what is applied up to `target`.
    async fn catch_up_feed(&self, store: &dyn EventStore, target: u64) -> Result<u64> {
        if self.applied() >= target {
            return Ok(self.applied());
        }
        let _turn = self.inner.apply_lock.lock().await;
        loop {
            let applied = self.applied();
            if applied >= target {
                return Ok(applied);
            }
            let events = store.read_all(applied, FEED_BATCH).await?;
            let (Some(first), Some(last)) = (events.first(), events.last()) else {
                return Err(ProjectionError::NotInStore {
                    position: target,
                    end: applied,
                });
            };
            let (first, last) = (first.position, last.position);
            apply::apply(&self.inner.client, &self.inner.table, store, &events).await?;
            self.progress().mark(first, last);
        }
    }

    /// The watermark stored in the read table (0: none yet).
    async fn read_mark(&self) -> Result<u64> {
        let out = self
            .inner
            .client
            .get_item()
            .table_name(&self.inner.table)
            .set_key(Some(key(MARK_PK, SINGLE)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("reading the watermark", &e))?;
        match out.item() {
            Some(item) => layout::get_u64(item, MARK),
            None => Ok(0),
        }
    }

    /// Stores `mark` as the watermark unless a larger one is stored.
    async fn write_mark(&self, mark: u64) -> Result<()> {
        let result = self
            .inner
            .client
            .update_item()
            .table_name(&self.inner.table)
            .set_key(Some(key(MARK_PK, SINGLE)))
            .update_expression("SET #w = :w")
            .condition_expression("attribute_not_exists(#w) OR #w < :w")
            .expression_attribute_names("#w", MARK)
            .expression_attribute_values(":w", layout::n(mark))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(unavailable("writing the watermark", &e)),
        }
    }

    /// The sort keys (reservation ids) of partition `pk`, consistently.
    async fn ids_in(&self, pk: &str) -> Result<Vec<String>> {
        let mut ids = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .inner
                .client
                .query()
                .table_name(&self.inner.table)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_values(":pk", s(pk))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| unavailable("listing memberships", &e))?;
            for item in out.items() {
                ids.push(layout::get_s(item, SK)?.to_owned());
            }
            match out.last_evaluated_key() {
                Some(last) if !last.is_empty() => start = Some(last.clone()),
                _ => return Ok(ids),
            }
        }
    }

    /// The reservations with these ids, as stored in the read models.
    async fn reservations(
        &self,
        ids: &[String],
    ) -> Result<Vec<reservation_core::reservation::Reservation>> {
        let keys = ids
            .iter()
            .map(|id| key(reservation_pk(id), SINGLE))
            .collect();
        let items = apply::batch_get(&self.inner.client, &self.inner.table, keys).await?;
        let mut found = Vec::with_capacity(items.len());
        for id in ids {
            if let Some(item) = items.get(&reservation_pk(id)) {
                found.push(layout::decode_reservation_item(item)?.1);
            }
        }
        Ok(found)
    }

    /// Confirmed reservations of `restaurant_id` starting at or after `from` (civil minutes).
    async fn upcoming(&self, restaurant_id: &str, from: i64) -> Result<u64> {
        let mut total = 0u64;
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .inner
                .client
                .query()
                .table_name(&self.inner.table)
                .index_name(BY_START)
                .key_condition_expression("#r = :r AND #k >= :k")
                .filter_expression("#s = :confirmed")
                .expression_attribute_names("#r", RESTAURANT)
                .expression_attribute_names("#k", START)
                .expression_attribute_names("#s", STATUS)
                .expression_attribute_values(":r", s(restaurant_id))
                .expression_attribute_values(":k", layout::n(from))
                .expression_attribute_values(":confirmed", s(Status::Confirmed.as_str()))
                .select(Select::Count)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| unavailable("counting upcoming reservations", &e))?;
            total += u64::try_from(out.count()).unwrap_or(0);
            match out.last_evaluated_key() {
                Some(last) if !last.is_empty() => start = Some(last.clone()),
                _ => return Ok(total),
            }
        }
    }

    /// Deletes every read model, checkpoint and the watermark, then replays the feed (the
    /// CLI's `rebuild-projections` on DynamoDB; run it with every replica stopped).
    pub async fn rebuild(&self, store: &dyn EventStore) -> Result<u64> {
        {
            let _turn = self.inner.apply_lock.lock().await;
            let mut start: Option<Item> = None;
            loop {
                let out = self
                    .inner
                    .client
                    .scan()
                    .table_name(&self.inner.table)
                    .projection_expression("#pk, #sk")
                    .expression_attribute_names("#pk", PK)
                    .expression_attribute_names("#sk", SK)
                    .consistent_read(true)
                    .set_exclusive_start_key(start.take())
                    .send()
                    .await
                    .map_err(|e| unavailable("scanning the read models", &e))?;
                for chunk in out.items().chunks(25) {
                    self.delete(chunk).await?;
                }
                match out.last_evaluated_key() {
                    Some(last) if !last.is_empty() => start = Some(last.clone()),
                    _ => break,
                }
            }
            *self.progress() = Progress::default();
        }
        let head = store.head().await?;
        let reached = self.catch_up_feed(store, head).await?;
        self.write_mark(reached).await?;
        Ok(reached)
    }

    async fn delete(&self, keys: &[Item]) -> Result<()> {
        let built = |e: aws_sdk_dynamodb::error::BuildError| {
            ProjectionError::Store(StoreError::Unavailable(format!("building a delete: {e}")))
        };
        let mut requests = keys
            .iter()
            .map(|k| {
                Ok(WriteRequest::builder()
                    .delete_request(
                        DeleteRequest::builder()
                            .set_key(Some(k.clone()))
                            .build()
                            .map_err(built)?,
                    )
                    .build())
            })
            .collect::<Result<Vec<_>>>()?;
        let mut round = 0;
        while !requests.is_empty() {
            round += 1;
            let out = self
                .inner
                .client
                .batch_write_item()
                .request_items(&self.inner.table, requests)
                .send()
                .await
                .map_err(|e| unavailable("deleting read models", &e))?;
            requests = out
                .unprocessed_items()
                .and_then(|u| u.get(&self.inner.table))
                .cloned()
                .unwrap_or_default();
            if !requests.is_empty() {
                if round >= 10 {
                    return Err(ProjectionError::Store(StoreError::Unavailable(
                        "DynamoDB kept read-model deletes unprocessed (throttled)".into(),
                    )));
                }
                tokio::time::sleep(apply::backoff(round)).await;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl ReadSide for DynamoReadModels {
    async fn checkpoint(&self) -> Result<u64> {
        Ok(self.applied())
    }

    async fn catch_up(&self, store: &dyn EventStore) -> Result<u64> {
        let head = store.head().await?;
        self.catch_up_feed(store, head).await
    }

    async fn catch_up_to(&self, store: &dyn EventStore, position: u64) -> Result<()> {
        self.catch_up_feed(store, position).await.map(|_| ())
    }

    async fn reservation(&self, id: &str) -> Result<Option<ReservationView>> {
        // From the event stream, consistently: fresh on every replica right after a 201.
        let events = self
            .inner
            .store
            .load(&format!("reservation:{id}"), 0)
            .await?;
        Ok(fold_reservation(None, &events, None)?.map(|r| ReservationView::from(&r)))
    }

    async fn day(&self, restaurant_id: &str, date: Date) -> Result<Vec<ReservationView>> {
        let ids = self.ids_in(&day_pk(restaurant_id, date)).await?;
        let mut views: Vec<(i64, ReservationView)> = self
            .reservations(&ids)
            .await?
            .iter()
            .filter(|r| r.date == date && r.restaurant_id.as_str() == restaurant_id)
            .map(|r| (sort_key(r), ReservationView::from(r)))
            .collect();
        sort_views(&mut views);
        Ok(views.into_iter().map(|(_, view)| view).collect())
    }

    async fn user(&self, user_id: &str) -> Result<Vec<ReservationView>> {
        let ids = self.ids_in(&user_pk(user_id)).await?;
        let mut found: Vec<_> = self
            .reservations(&ids)
            .await?
            .into_iter()
            .filter(|r| r.user_id.as_str() == user_id)
            .collect();
        found.sort_by(|a, b| {
            (a.date, sort_key(a), a.id.as_str()).cmp(&(b.date, sort_key(b), b.id.as_str()))
        });
        Ok(found.iter().map(ReservationView::from).collect())
    }

    async fn restaurant_at(
        &self,
        id: &str,
        now: jiff::Timestamp,
    ) -> Result<Option<RestaurantView>> {
        let items = apply::batch_get(
            &self.inner.client,
            &self.inner.table,
            vec![key(restaurant_pk(id), SINGLE), key(counts_pk(id), SINGLE)],
        )
        .await?;
        let Some(item) = items.get(&restaurant_pk(id)) else {
            return Ok(None);
        };
        let restaurant = layout::decode_restaurant_item(item)?.1;
        let mut counts = ReservationCounts::default();
        if let Some(item) = items.get(&counts_pk(id)) {
            for status in layout::STATUSES {
                let n = layout::get_count(item, &layout::count_attribute(status));
                let slot = match status {
                    Status::Confirmed => &mut counts.confirmed,
                    Status::Rejected => &mut counts.rejected,
                    Status::Cancelled => &mut counts.cancelled,
                    Status::Seated => &mut counts.seated,
                    Status::Completed => &mut counts.completed,
                    Status::NoShow => &mut counts.no_show,
                };
                *slot = n;
                counts.total += n;
            }
        }
        let from = civil_minutes(civil_now(&restaurant.timezone, now));
        counts.upcoming = self.upcoming(id, from).await?;
        Ok(Some(RestaurantView {
            largest_party: restaurant.largest_party(),
            restaurant,
            reservations: counts,
        }))
    }

    async fn reservations_ever_on(&self, restaurant_id: &str, date: Date) -> Result<Vec<String>> {
        let mut ids = self.ids_in(&day_pk(restaurant_id, date)).await?;
        ids.sort();
        Ok(ids)
    }
}

/// A Streams attribute value as the DynamoDB SDK's (the two SDKs have their own types).
pub(crate) fn convert(
    value: &aws_sdk_dynamodbstreams::types::AttributeValue,
) -> Option<AttributeValue> {
    use aws_sdk_dynamodbstreams::types::AttributeValue as S;
    Some(match value {
        S::S(text) => AttributeValue::S(text.clone()),
        S::N(number) => AttributeValue::N(number.clone()),
        S::B(blob) => AttributeValue::B(blob.clone()),
        S::Bool(b) => AttributeValue::Bool(*b),
        S::Null(b) => AttributeValue::Null(*b),
        S::Ss(set) => AttributeValue::Ss(set.clone()),
        S::Ns(set) => AttributeValue::Ns(set.clone()),
        S::Bs(set) => AttributeValue::Bs(set.clone()),
        S::L(list) => AttributeValue::L(list.iter().map(convert).collect::<Option<_>>()?),
        S::M(map) => AttributeValue::M(
            map.iter()
                .map(|(k, v)| convert(v).map(|v| (k.clone(), v)))
                .collect::<Option<_>>()?,
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_advances_over_contiguous_ranges_only() {
        let mut p = Progress::default();
        p.mark(1, 3);
        assert_eq!(p.applied, 3);
        p.mark(6, 8);
        assert_eq!(p.applied, 3);
        assert!(p.gap_since.is_some());
        p.mark(2, 3);
        assert_eq!(p.applied, 3);
        p.mark(4, 5);
        assert_eq!((p.applied, p.ahead.len(), p.gap_since), (8, 0, None));
        p.mark(9, 9);
        assert_eq!(p.applied, 9);
    }
}
