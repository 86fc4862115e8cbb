//! The Streams projector: follows the event table's DynamoDB Streams and applies the feed
//! items' events to the read models. Every replica runs one; they need no coordination,
//! because applying is version-checked and exactly-once ([`super::apply`]).
//!
//! - **Shards** are listed (`DescribeStream`) at start and every
//!   [`ProjectorOptions::shard_refresh`], and whenever a shard ends. A shard with a
//!   checkpoint resumes after it (`AFTER_SEQUENCE_NUMBER`); at first start an open shard
//!   without one starts at `LATEST` and the feed is caught up to the head *after* that
//!   iterator was taken (so nothing falls between); a shard that appears later (a split, a
//!   rotation) starts at `TRIM_HORIZON`.
//! - **Checkpoints**: after each batch of records is applied, the shard's newest sequence number
//!   goes to the read table (`$shard` / shard id), only ever forward (conditional update).
//! - **Catch-up from the event table**: when a checkpoint is older than the Streams window
//!   (`TrimmedDataAccessException`), when positions stay missing behind applied ones for
//!   [`ProjectorOptions::gap_timeout`], and at first start, the feed (`read_all`) is applied from
//!   the watermark up to the head.
//! - **Watermark**: the contiguous position applied is stored (`$mark`, only forward) every
//!   [`ProjectorOptions::mark_interval`]; a starting replica begins there.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodbstreams::operation::get_records::GetRecordsError;
use aws_sdk_dynamodbstreams::operation::get_shard_iterator::GetShardIteratorError;
use aws_sdk_dynamodbstreams::types::{OperationType, ShardIteratorType};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::layout::{self, SEQUENCE, SHARD_PK};
use super::{DynamoReadModels, convert, unavailable};
use crate::projection::ProjectionError;
use crate::store::dynamodb::layout::{FEED_PREFIX, decode_events};
use crate::store::{RecordedEvent, StoreError};

/// Raw (unpadded) sequence number attribute of a shard checkpoint.
const RAW_SEQUENCE: &str = "raw";

/// Timing of the projector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProjectorOptions {
    /// Wait between `GetRecords` calls on a shard that returned nothing (DynamoDB allows about
    /// 5 per second per shard, shared by every replica reading it).
    pub poll_interval: Duration,
    /// How long positions may stay missing behind applied ones before the feed fills them.
    pub gap_timeout: Duration,
    /// How often shards are listed again.
    pub shard_refresh: Duration,
    /// How often the watermark is stored.
    pub mark_interval: Duration,
}

impl Default for ProjectorOptions {
    fn default() -> Self {
        ProjectorOptions {
            poll_interval: Duration::from_millis(500),
            gap_timeout: Duration::from_secs(3),
            shard_refresh: Duration::from_secs(60),
            mark_interval: Duration::from_secs(1),
        }
    }
}

/// Spawns the projector of `read`. `wake` (the store's head) makes an idle projector poll at
/// once after this replica's own commits. Errors are logged and retried with backoff. Ends
/// when `shutdown` completes.
pub fn spawn_stream_projector<S>(
    read: Arc<DynamoReadModels>,
    options: ProjectorOptions,
    mut wake: watch::Receiver<u64>,
    shutdown: S,
) -> JoinHandle<()>
where
    S: Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        tokio::pin!(shutdown);
        let mut projector = Projector::new(read, options);
        let mut failures: u32 = 0;
        let mut wake_open = true;
        loop {
            let result = tokio::select! {
                biased;
                () = &mut shutdown => break,
                result = projector.step() => result,
            };
            let pause = match result {
                Ok(true) => {
                    failures = 0;
                    continue;
                }
                Ok(false) => {
                    failures = 0;
                    options.poll_interval
                }
                Err(error) => {
                    if failures.is_multiple_of(20) {
                        tracing::error!(%error, failures, "DynamoDB projector failed; retrying");
                    }
                    failures = failures.saturating_add(1);
                    projector.reset_iterators();
                    super::apply::backoff(failures.saturating_add(6))
                }
            };
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                changed = wake.changed(), if wake_open => {
                    if changed.is_err() {
                        wake_open = false;
                    }
                }
                () = tokio::time::sleep(pause) => {}
            }
        }
    })
}

#[derive(Debug)]
struct Shard {
    iterator: Option<String>,
    /// The newest sequence number applied from this shard (by this replica).
    last: Option<String>,
    /// Read to its end (a closed shard).
    done: bool,
}

struct Projector {
    read: Arc<DynamoReadModels>,
    options: ProjectorOptions,
    stream_arn: Option<String>,
    shards: BTreeMap<String, Shard>,
    /// Shards have been listed once (the first listing decides `LATEST` vs `TRIM_HORIZON`).
    listed: bool,
    refreshed: Option<Instant>,
    /// The feed must be applied up to the head (first start, trimmed records).
    repair: bool,
    mark_written: u64,
    mark_at: Instant,
}

enum Fetched {
    Records(Vec<RecordedEvent>, Option<String>, Option<String>),
    Expired,
    Trimmed,
    Gone,
}

impl Projector {
    fn new(read: Arc<DynamoReadModels>, options: ProjectorOptions) -> Self {
        Projector {
            read,
            options,
            stream_arn: None,
            shards: BTreeMap::new(),
            listed: false,
            refreshed: None,
            repair: true,
            mark_written: 0,
            mark_at: Instant::now(),
        }
    }

    /// After an error: iterators may be stale; take them again from the checkpoints.
    fn reset_iterators(&mut self) {
        self.refreshed = None;
        for shard in self.shards.values_mut() {
            shard.iterator = None;
        }
    }

    /// One round over the shards. `Ok(true)`: records were applied (poll again at once).
    async fn step(&mut self) -> Result<bool, ProjectionError> {
        let stale = self
            .refreshed
            .is_none_or(|at| at.elapsed() >= self.options.shard_refresh);
        if stale {
            self.refresh_shards().await?;
        }
        if self.repair
            || self
                .read
                .gap_age()
                .is_some_and(|age| age >= self.options.gap_timeout)
        {
            let store = Arc::clone(&self.read.inner.store);
            let reached =
                crate::projection::ReadSide::catch_up(self.read.as_ref(), store.as_ref()).await?;
            tracing::debug!(reached, "read models caught up from the event table's feed");
            self.repair = false;
        }
        let mut busy = false;
        let ids: Vec<String> = self.shards.keys().cloned().collect();
        for id in ids {
            busy |= self.poll(&id).await?;
        }
        let applied = self.read.applied();
        if applied > self.mark_written && self.mark_at.elapsed() >= self.options.mark_interval {
            self.read.write_mark(applied).await?;
            self.mark_written = applied;
            self.mark_at = Instant::now();
        }
        Ok(busy)
    }

    async fn poll(&mut self, id: &str) -> Result<bool, ProjectionError> {
        let Some(shard) = self.shards.get(id) else {
            return Ok(false);
        };
        if shard.done {
            return Ok(false);
        }
        let iterator = match &shard.iterator {
            Some(iterator) => iterator.clone(),
            None => {
                let checkpoint = shard.last.clone();
                let kind = if checkpoint.is_some() {
                    ShardIteratorType::AfterSequenceNumber
                } else {
                    ShardIteratorType::TrimHorizon
                };
                match self.iterator(id, kind, checkpoint.as_deref()).await? {
                    Some(iterator) => iterator,
                    None => return Ok(false),
                }
            }
        };
        match self.fetch(&iterator).await? {
            Fetched::Records(events, last, next) => {
                let busy = !events.is_empty() || last.is_some();
                if !events.is_empty() {
                    self.read.apply_and_mark(&events).await?;
                }
                if let Some(sequence) = &last {
                    self.checkpoint(id, sequence).await?;
                }
                if let Some(shard) = self.shards.get_mut(id) {
                    if last.is_some() {
                        shard.last = last;
                    }
                    shard.done = next.is_none();
                    shard.iterator = next;
                    if shard.done {
                        // A closed shard: its children appear in the next listing.
                        self.refreshed = None;
                    }
                }
                Ok(busy)
            }
            Fetched::Expired => {
                if let Some(shard) = self.shards.get_mut(id) {
                    shard.iterator = None;
                    if shard.last.is_none() {
                        // Records may have come and gone unseen: fill from the feed.
                        self.repair = true;
                    }
                }
                Ok(false)
            }
            Fetched::Trimmed => {
                tracing::warn!(
                    shard = id,
                    "shard records trimmed before being read; catching up from the feed"
                );
                if let Some(shard) = self.shards.get_mut(id) {
                    shard.last = None;
                    shard.iterator = None;
                }
                self.repair = true;
                Ok(false)
            }
            Fetched::Gone => {
                self.shards.remove(id);
                self.refreshed = None;
                Ok(false)
            }
        }
    }

    async fn fetch(&self, iterator: &str) -> Result<Fetched, ProjectionError> {
        let out = match self
            .read
            .inner
            .streams
            .get_records()
            .shard_iterator(iterator)
            .limit(1000)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                return match e.as_service_error() {
                    Some(GetRecordsError::ExpiredIteratorException(_)) => Ok(Fetched::Expired),
                    Some(GetRecordsError::TrimmedDataAccessException(_)) => Ok(Fetched::Trimmed),
                    Some(GetRecordsError::ResourceNotFoundException(_)) => Ok(Fetched::Gone),
                    _ => Err(unavailable("reading DynamoDB Streams records", &e)),
                };
            }
        };
        let mut events = Vec::new();
        let mut last = None;
        for record in out.records() {
            let Some(data) = record.dynamodb() else {
                continue;
            };
            last = data.sequence_number().map(str::to_owned).or(last);
            if record.event_name() != Some(&OperationType::Insert) {
                continue;
            }
            let Some(image) = data.new_image() else {
                continue;
            };
            let is_feed = matches!(
                image.get(crate::store::dynamodb::layout::PK),
                Some(aws_sdk_dynamodbstreams::types::AttributeValue::S(pk)) if pk.starts_with(FEED_PREFIX)
            );
            if !is_feed {
                continue;
            }
            let item: Option<HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> = image
                .iter()
                .map(|(k, v)| convert(v).map(|v| (k.clone(), v)))
                .collect();
            let Some(item) = item else {
                return Err(ProjectionError::Corrupt(
                    "a feed item in DynamoDB Streams has an unknown attribute type".into(),
                ));
            };
            events.extend(decode_events(&item, None)?);
        }
        events.sort_by_key(|e| e.position);
        Ok(Fetched::Records(
            events,
            last,
            out.next_shard_iterator().map(str::to_owned),
        ))
    }

    async fn iterator(
        &self,
        shard: &str,
        kind: ShardIteratorType,
        after: Option<&str>,
    ) -> Result<Option<String>, ProjectionError> {
        let Some(arn) = &self.stream_arn else {
            return Ok(None);
        };
        let result = self
            .read
            .inner
            .streams
            .get_shard_iterator()
            .stream_arn(arn)
            .shard_id(shard)
            .shard_iterator_type(kind.clone())
            .set_sequence_number(after.map(str::to_owned))
            .send()
            .await;
        match result {
            Ok(out) => Ok(out.shard_iterator().map(str::to_owned)),
            Err(e) => match e.as_service_error() {
                Some(GetShardIteratorError::TrimmedDataAccessException(_))
                    if kind == ShardIteratorType::AfterSequenceNumber =>
                {
                    tracing::warn!(
                        shard,
                        "checkpoint older than the Streams window; catching up from the feed"
                    );
                    self.trimmed_iterator(shard).await
                }
                Some(GetShardIteratorError::ResourceNotFoundException(_)) => Ok(None),
                _ => Err(unavailable("getting a DynamoDB Streams shard iterator", &e)),
            },
        }
    }

    async fn trimmed_iterator(&self, shard: &str) -> Result<Option<String>, ProjectionError> {
        let Some(arn) = &self.stream_arn else {
            return Ok(None);
        };
        let out = self
            .read
            .inner
            .streams
            .get_shard_iterator()
            .stream_arn(arn)
            .shard_id(shard)
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .map_err(|e| unavailable("getting a DynamoDB Streams shard iterator", &e))?;
        Ok(out.shard_iterator().map(str::to_owned))
    }

    /// Lists the shards; takes iterators for new ones.
    async fn refresh_shards(&mut self) -> Result<(), ProjectionError> {
        let arn = match &self.stream_arn {
            Some(arn) => arn.clone(),
            None => {
                let arn = self.stream_arn_of_table().await?;
                self.stream_arn = Some(arn.clone());
                arn
            }
        };
        let checkpoints = self.checkpoints().await?;
        let mut listed = Vec::new();
        let mut start: Option<String> = None;
        loop {
            let out = self
                .read
                .inner
                .streams
                .describe_stream()
                .stream_arn(&arn)
                .set_exclusive_start_shard_id(start.take())
                .send()
                .await
                .map_err(|e| unavailable("describing the DynamoDB stream", &e))?;
            let Some(description) = out.stream_description() else {
                break;
            };
            for shard in description.shards() {
                if let Some(id) = shard.shard_id() {
                    let open = shard
                        .sequence_number_range()
                        .is_none_or(|range| range.ending_sequence_number().is_none());
                    listed.push((id.to_owned(), open));
                }
            }
            match description.last_evaluated_shard_id() {
                Some(last) => start = Some(last.to_owned()),
                None => break,
            }
        }
        let first_listing = !self.listed;
        for (id, open) in listed {
            if self
                .shards
                .get(&id)
                .is_some_and(|s| s.iterator.is_some() || s.done)
            {
                continue;
            }
            let checkpoint = checkpoints.get(&id).cloned();
            let iterator = match (&checkpoint, first_listing, open) {
                (Some(sequence), _, _) => {
                    self.iterator(&id, ShardIteratorType::AfterSequenceNumber, Some(sequence))
                        .await?
                }
                // At first start, the feed catch-up covers everything before `LATEST`.
                (None, true, true) => self.iterator(&id, ShardIteratorType::Latest, None).await?,
                (None, true, false) => {
                    self.shards.insert(
                        id,
                        Shard {
                            iterator: None,
                            last: None,
                            done: true,
                        },
                    );
                    continue;
                }
                (None, false, _) => {
                    self.iterator(&id, ShardIteratorType::TrimHorizon, None)
                        .await?
                }
            };
            let entry = self.shards.entry(id).or_insert(Shard {
                iterator: None,
                last: None,
                done: false,
            });
            entry.last = checkpoint.or(entry.last.take());
            entry.iterator = iterator;
        }
        self.listed = true;
        self.refreshed = Some(Instant::now());
        Ok(())
    }

    async fn stream_arn_of_table(&self) -> Result<String, ProjectionError> {
        let table = &self.read.inner.events_table;
        let out = self
            .read
            .inner
            .client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| unavailable("describing the event table", &e))?;
        out.table()
            .and_then(|t| t.latest_stream_arn())
            .map(str::to_owned)
            .ok_or_else(|| {
                ProjectionError::Store(StoreError::Unavailable(format!(
                    "DynamoDB Streams are off on table {table}: run `reservation-server dynamodb create-table`"
                )))
            })
    }

    /// The stored shard checkpoints (raw sequence numbers).
    async fn checkpoints(&self) -> Result<HashMap<String, String>, ProjectionError> {
        let mut found = HashMap::new();
        let mut start = None;
        loop {
            let out = self
                .read
                .inner
                .client
                .query()
                .table_name(&self.read.inner.table)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", layout::PK)
                .expression_attribute_values(":pk", layout::s(SHARD_PK))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| unavailable("reading shard checkpoints", &e))?;
            for item in out.items() {
                found.insert(
                    layout::get_s(item, layout::SK)?.to_owned(),
                    layout::get_s(item, RAW_SEQUENCE)?.to_owned(),
                );
            }
            match out.last_evaluated_key() {
                Some(last) if !last.is_empty() => start = Some(last.clone()),
                _ => return Ok(found),
            }
        }
    }

    /// Moves the shard's checkpoint forward to `sequence` (never back).
    async fn checkpoint(&self, shard: &str, sequence: &str) -> Result<(), ProjectionError> {
        let result = self
            .read
            .inner
            .client
            .update_item()
            .table_name(&self.read.inner.table)
            .set_key(Some(layout::key(SHARD_PK, shard)))
            .update_expression("SET #q = :q, #raw = :raw")
            .condition_expression("attribute_not_exists(#q) OR #q < :q")
            .expression_attribute_names("#q", SEQUENCE)
            .expression_attribute_names("#raw", RAW_SEQUENCE)
            .expression_attribute_values(":q", layout::s(layout::pad_sequence(sequence)))
            .expression_attribute_values(":raw", layout::s(sequence))
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
            Err(e) => Err(unavailable("writing a shard checkpoint", &e)),
        }
    }
}
