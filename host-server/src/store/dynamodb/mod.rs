//! The Amazon DynamoDB adapter of the event-store port: stateless server replicas sharing one
//! table. The layout, the request counts and the operator snippets are in `README.md` beside
//! this file; in short:
//!
//! - one **tip** item per stream (`pk` = stream, `sk` = 2^53−1) holds its version and newest
//!   events; older events move to immutable **batch** items (`sk` = their last version) before
//!   the tip outgrows [`DynamoOptions::tip_max_bytes`]. `load` is one `Query` (`sk > after`).
//! - one **head** item (`$head`) holds the global position; every append moves it, with the
//!   position it read as the condition, so positions are gap-free and in commit order.
//! - one **feed** item per commit (`$feed#<bucket>`, `sk` = last position) repeats the commit's
//!   events in global order: `read_all` is a `GetItem` of the head plus a `Query`, and it is the
//!   record phase 2's projector reads from DynamoDB Streams.
//! - an append is **one consistent read** (`BatchGetItem` of the head and the written streams'
//!   tips, versions and sizes only) and **one `TransactWriteItems`** (head, each stream's tip
//!   with its expected version as the condition, the feed item). A roll-over adds a read of the
//!   full tip.
//!
//! Errors: a failed stream condition is [`StoreError::Conflict`]; a moved head (another
//! replica committed meanwhile), `TransactionConflict` and throttling inside a transaction are
//! retried here from a fresh read (no re-decision needed: the streams held); throttling and
//! transient failures of single requests are retried by the SDK with backoff; a transaction
//! whose outcome is unknown (timeouts) is re-sent with the same `ClientRequestToken`, which
//! DynamoDB deduplicates; anything else is [`StoreError::Unavailable`] with the detail.
//! DynamoDB transactions are all-or-nothing, so nothing is ever half-written.

pub mod layout;
mod plan;
pub mod read;
mod requests;
mod table;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, SharedHttpClient};
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, KeysAndAttributes, Put, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};
use jiff::Timestamp;
use tokio::sync::{Mutex, watch};

use self::layout::{
    FEED_BUCKET, FEED_PREFIX, HEAD_PK, HEAD_SK, Item, MAX_TRANSACTION_ITEMS, PK, SK, TIP_SK, attr,
    check_stream_name, decode_events, get_i64, get_s, get_u64, key, n, n_i64, s,
};
use self::plan::{Head, Op, Plan, Planned, Tip};
pub use self::requests::{RequestCounter, RequestCounts};
pub use self::table::{CreateTableOutcome, check_table, create_table};
use super::{EventStore, RecordedEvent, StoreError, StreamWrite, check_limits};

/// Tuning knobs; [`DynamoOptions::default`] is what the service uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamoOptions {
    /// Event bytes a tip may hold before older events move to a batch item. Every append
    /// rewrites the tip, and DynamoDB bills a write by the item's size: a smaller tip is
    /// cheaper to append to, a larger one serves more of a stream from one item. Clamped to
    /// what fits in an item.
    pub tip_max_bytes: usize,
    /// Fresh attempts of one append when another replica moved the head in between, or a
    /// transaction was throttled or clashed with another (`TransactionConflict`).
    pub max_attempts: u32,
    /// How often [`DynamoStore::subscribe`] polls the head for other replicas' commits.
    pub head_poll_interval: Duration,
}

impl Default for DynamoOptions {
    fn default() -> Self {
        DynamoOptions {
            tip_max_bytes: 16 * 1024,
            max_attempts: 25,
            head_poll_interval: Duration::from_secs(1),
        }
    }
}

/// Times a transaction whose outcome is unknown (timeouts, 5xx after the SDK's retries) is
/// re-sent with its `ClientRequestToken` before the append reports `Unavailable`.
const MAX_RESENDS: u32 = 3;
/// Tries to read keys DynamoDB left unprocessed (throttling) in a `BatchGetItem`.
const MAX_UNPROCESSED_ROUNDS: u32 = 8;

/// The SDK's retry policy for every request: standard mode (throttling, 5xx, timeouts and I/O
/// errors are retried with exponential backoff and jitter).
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(5)
        .with_initial_backoff(Duration::from_millis(20))
        .with_max_backoff(Duration::from_secs(2))
}

/// Timeouts for every request.
pub fn timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(10))
        .operation_timeout(Duration::from_secs(30))
        .build()
}

/// The HTTP client: hyper with rustls (ring), HTTPS or plain HTTP (a local endpoint).
pub fn http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// The standard AWS configuration: `AWS_REGION`, the default credentials chain (environment,
/// profile, web identity, ECS/EC2 roles, …), `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_DYNAMODB`
/// for a local endpoint.
pub async fn load_aws_config() -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client())
        .load()
        .await
}

/// The DynamoDB client configuration for `sdk`: its region, credentials and endpoint.
pub fn client_config(sdk: &aws_config::SdkConfig) -> aws_sdk_dynamodb::config::Builder {
    aws_sdk_dynamodb::config::Builder::from(sdk)
}

/// A DynamoDB client from the standard AWS configuration, with this adapter's HTTP client,
/// retry policy and timeouts (for `reservation-server dynamodb create-table`).
pub async fn client_from_env() -> Client {
    let sdk = load_aws_config().await;
    Client::from_conf(
        client_config(&sdk)
            .retry_config(retry_config())
            .timeout_config(timeout_config())
            .build(),
    )
}

/// The DynamoDB event store. Cheap to clone; clones share the client and the counters.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: Client,
    table: String,
    options: DynamoOptions,
    requests: RequestCounter,
    /// Appends of this process take turns: they would all condition on the same head item,
    /// so running them side by side only makes all but one fail and retry.
    write_lock: Mutex<()>,
    head: watch::Sender<u64>,
    poller: std::sync::Mutex<bool>,
}

impl DynamoStore {
    /// The store on table `table` with the standard AWS configuration (see
    /// [`load_aws_config`]); checks that the table exists with the right keys.
    pub async fn connect(table: &str) -> Result<Self, StoreError> {
        let sdk = load_aws_config().await;
        Self::connect_with(client_config(&sdk), table, DynamoOptions::default()).await
    }

    /// [`DynamoStore::new`], then checks that the table exists with the right keys.
    pub async fn connect_with(
        config: aws_sdk_dynamodb::config::Builder,
        table: &str,
        options: DynamoOptions,
    ) -> Result<Self, StoreError> {
        let store = Self::new(config, table, options);
        check_table(&store.inner.client, table).await?;
        Ok(store)
    }

    /// The store on `table` with the client `config` (region, credentials, endpoint), to which
    /// this adapter adds its HTTP client, retry policy, timeouts and request counter. Sends
    /// nothing.
    pub fn new(
        config: aws_sdk_dynamodb::config::Builder,
        table: &str,
        mut options: DynamoOptions,
    ) -> Self {
        options.tip_max_bytes = options.tip_max_bytes.min(layout::MAX_CHUNK_BYTES);
        options.max_attempts = options.max_attempts.max(1);
        let requests = RequestCounter::default();
        let config = config
            .http_client(http_client())
            .retry_config(retry_config())
            .timeout_config(timeout_config())
            .interceptor(requests.clone())
            .build();
        DynamoStore {
            inner: Arc::new(Inner {
                client: Client::from_conf(config),
                table: table.to_owned(),
                options,
                requests,
                write_lock: Mutex::new(()),
                head: watch::Sender::new(0),
                poller: std::sync::Mutex::new(false),
            }),
        }
    }

    /// The DynamoDB client (with the adapter's configuration).
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.inner.table
    }

    /// Requests sent so far, by operation (SDK retries included).
    pub fn requests(&self) -> RequestCounts {
        self.inner.requests.snapshot()
    }

    /// The head position, updated after this process's commits and, by polling every
    /// [`DynamoOptions::head_poll_interval`] while anyone subscribes, after other replicas'.
    /// Like `SqliteStore::subscribe`, for live tails and projection wake-ups.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        let receiver = self.inner.head.subscribe();
        let mut started = self
            .inner
            .poller
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !*started && let Ok(runtime) = tokio::runtime::Handle::try_current() {
            *started = true;
            let weak = Arc::downgrade(&self.inner);
            runtime.spawn(async move {
                loop {
                    let Some(inner) = weak.upgrade() else { return };
                    let interval = inner.options.head_poll_interval;
                    if inner.head.receiver_count() > 0
                        && let Ok(head) = inner.read_head().await
                    {
                        inner.head.send_if_modified(|current| {
                            let newer = head.position > *current;
                            if newer {
                                *current = head.position;
                            }
                            newer
                        });
                    }
                    drop(inner);
                    tokio::time::sleep(interval).await;
                }
            });
        }
        receiver
    }
}

#[async_trait]
impl EventStore for DynamoStore {
    async fn append(&self, writes: Vec<StreamWrite>) -> Result<Vec<RecordedEvent>, StoreError> {
        // On its own task: a caller that stops waiting does not cancel a write half-way
        // through its retries (the transaction itself is atomic either way).
        let inner = Arc::clone(&self.inner);
        tokio::spawn(async move { inner.append(writes).await })
            .await
            .map_err(|e| StoreError::Unavailable(format!("the append task failed: {e}")))?
    }

    async fn load(
        &self,
        stream: &str,
        after_version: u64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.inner.load(stream, after_version).await
    }

    async fn read_all(&self, after: u64, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        self.inner.read_all(after, limit).await
    }

    async fn head(&self) -> Result<u64, StoreError> {
        Ok(self.inner.read_head().await?.position)
    }

    fn subscribe(&self) -> watch::Receiver<u64> {
        DynamoStore::subscribe(self)
    }
}

/// How a failed transaction goes on.
enum TxFailure {
    /// Read again and plan a new transaction (the head moved, a `TransactionConflict`, …).
    Retry(String),
    /// The append's answer.
    Fail(StoreError),
}

impl Inner {
    async fn append(&self, writes: Vec<StreamWrite>) -> Result<Vec<RecordedEvent>, StoreError> {
        check_limits(&writes)?;
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        let mut streams: Vec<&str> = Vec::new();
        let mut seen = HashSet::new();
        for write in &writes {
            check_stream_name(&write.stream)?;
            if seen.insert(write.stream.as_str()) {
                streams.push(&write.stream);
            }
        }
        if streams.len() + 1 > MAX_TRANSACTION_ITEMS {
            return Err(StoreError::TooLarge(format!(
                "{} streams in one append; a DynamoDB transaction holds at most {MAX_TRANSACTION_ITEMS} items",
                streams.len()
            )));
        }
        let _turn = self.write_lock.lock().await;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let plan = self.plan(&writes, &streams).await?;
            let checks_only = plan.recorded.is_empty();
            if checks_only && plan.ops.len() <= 1 {
                // One stream's version, just read consistently: nothing to write.
                return Ok(Vec::new());
            }
            match self.transact(&plan).await {
                Ok(()) => {
                    if let Some(last) = plan.recorded.last() {
                        let position = last.position;
                        self.head.send_if_modified(|current| {
                            let newer = position > *current;
                            if newer {
                                *current = position;
                            }
                            newer
                        });
                    }
                    return Ok(plan.recorded);
                }
                Err(TxFailure::Fail(error)) => return Err(error),
                Err(TxFailure::Retry(reason)) if attempt < self.options.max_attempts => {
                    tracing::debug!(attempt, %reason, "DynamoDB append retried from a fresh read");
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(TxFailure::Retry(reason)) => {
                    return Err(StoreError::Unavailable(format!(
                        "DynamoDB append gave up after {attempt} attempts: {reason}"
                    )));
                }
            }
        }
    }

    /// The one read (head and tips' versions and sizes), plus the full tips of streams that
    /// roll over, then the plan.
    async fn plan(&self, writes: &[StreamWrite], streams: &[&str]) -> Result<Plan, StoreError> {
        let (head, mut tips) = self.read_state(streams, false).await?;
        for _ in 0..3 {
            match plan::plan(
                writes,
                head,
                &tips,
                Timestamp::now(),
                self.options.tip_max_bytes,
            )? {
                Planned::Ready(plan) => return Ok(plan),
                Planned::NeedTips(names) => {
                    let names: Vec<&str> = names.iter().map(String::as_str).collect();
                    let (_, full) = self.read_state(&names, true).await?;
                    tips.extend(full);
                }
            }
        }
        Err(StoreError::Unavailable(
            "the tips of a roll-over kept changing while being read".into(),
        ))
    }

    /// Reads (consistently, in one `BatchGetItem`) the head and the tips of `streams`; only
    /// their versions and sizes unless `full`. Every stream gets an entry (`None`: no tip).
    async fn read_state(
        &self,
        streams: &[&str],
        full: bool,
    ) -> Result<(Head, HashMap<String, Option<Tip>>), StoreError> {
        let mut keys: Vec<Item> = streams.iter().map(|stream| key(stream, TIP_SK)).collect();
        if !full {
            keys.push(key(HEAD_PK, HEAD_SK));
        }
        let mut head = Head::default();
        let mut tips: HashMap<String, Option<Tip>> =
            streams.iter().map(|s| ((*s).to_owned(), None)).collect();
        let mut round = 0;
        while !keys.is_empty() {
            round += 1;
            let mut request = KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true);
            if !full {
                request = request
                    .projection_expression("#pk, #sk, #v, #z, #ts")
                    .expression_attribute_names("#pk", PK)
                    .expression_attribute_names("#sk", SK)
                    .expression_attribute_names("#v", attr::VERSION)
                    .expression_attribute_names("#z", attr::TIP_BYTES)
                    .expression_attribute_names("#ts", attr::TIMESTAMP);
            }
            let request = request
                .build()
                .map_err(|e| StoreError::Unavailable(format!("building a read: {e}")))?;
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(|e| unavailable("reading the head and tips", e))?;
            for item in out
                .responses()
                .and_then(|r| r.get(&self.table))
                .into_iter()
                .flatten()
            {
                let pk = get_s(item, PK)?;
                if pk == HEAD_PK {
                    head = Head {
                        position: get_u64(item, attr::VERSION)?,
                        recorded_at: Some(get_i64(item, attr::TIMESTAMP)?),
                    };
                } else {
                    let events = if full {
                        match item.get(attr::EVENTS) {
                            Some(AttributeValue::L(list)) => Some(list.clone()),
                            _ => return Err(layout::malformed("a tip has no event list")),
                        }
                    } else {
                        None
                    };
                    let tip = Tip {
                        version: get_u64(item, attr::VERSION)?,
                        bytes: get_u64(item, attr::TIP_BYTES)?,
                        events,
                    };
                    tips.insert(pk.to_owned(), Some(tip));
                }
            }
            keys = out
                .unprocessed_keys()
                .and_then(|u| u.get(&self.table))
                .map(|k| k.keys().to_vec())
                .unwrap_or_default();
            if !keys.is_empty() {
                if round >= MAX_UNPROCESSED_ROUNDS {
                    return Err(StoreError::Unavailable(format!(
                        "DynamoDB left {} keys unread after {round} tries (throttled)",
                        keys.len()
                    )));
                }
                tokio::time::sleep(backoff(round)).await;
            }
        }
        Ok((head, tips))
    }

    /// Sends the plan as one `TransactWriteItems`; re-sends it with the same token while its
    /// outcome is unknown.
    async fn transact(&self, plan: &Plan) -> Result<(), TxFailure> {
        let items = plan
            .ops
            .iter()
            .map(|op| self.item(op))
            .collect::<Result<Vec<_>, _>>()
            .map_err(TxFailure::Fail)?;
        let token = uuid::Uuid::now_v7().to_string();
        let mut resends = 0;
        loop {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .client_request_token(&token)
                .send()
                .await;
            let error = match result {
                Ok(_) => return Ok(()),
                Err(error) => error,
            };
            match classify(&error, plan) {
                Classified::Definite(failure) => return Err(failure),
                Classified::Unknown(detail) if resends < MAX_RESENDS => {
                    resends += 1;
                    tracing::warn!(resends, %detail, "DynamoDB transaction outcome unknown; re-sending it with its token");
                    tokio::time::sleep(backoff(resends + 3)).await;
                }
                Classified::Unknown(detail) => {
                    return Err(TxFailure::Fail(StoreError::Unavailable(format!(
                        "DynamoDB transaction outcome unknown after {resends} re-sends: {detail}"
                    ))));
                }
            }
        }
    }

    fn item(&self, op: &Op) -> Result<TransactWriteItem, StoreError> {
        let built = |e: aws_sdk_dynamodb::error::BuildError| {
            StoreError::Unavailable(format!("building a write: {e}"))
        };
        let fail_returns = ReturnValuesOnConditionCheckFailure::AllOld;
        let table = self.table.as_str();
        Ok(match op {
            Op::Head {
                previous,
                position,
                recorded_at,
            } => {
                let update = Update::builder()
                    .table_name(table)
                    .set_key(Some(key(HEAD_PK, HEAD_SK)))
                    .update_expression("SET #v = :v, #ts = :ts")
                    .expression_attribute_names("#v", attr::VERSION)
                    .expression_attribute_names("#ts", attr::TIMESTAMP)
                    .expression_attribute_values(":v", n(*position))
                    .expression_attribute_values(":ts", n_i64(*recorded_at));
                let update = if *previous == 0 {
                    update.condition_expression("attribute_not_exists(#v)")
                } else {
                    update
                        .condition_expression("#v = :prev")
                        .expression_attribute_values(":prev", n(*previous))
                };
                TransactWriteItem::builder()
                    .update(update.build().map_err(built)?)
                    .build()
            }
            Op::Check { stream, expected } => {
                let check = ConditionCheck::builder()
                    .table_name(table)
                    .set_key(Some(key(stream, TIP_SK)))
                    .expression_attribute_names("#v", attr::VERSION)
                    .return_values_on_condition_check_failure(fail_returns);
                let check = if *expected == 0 {
                    check.condition_expression("attribute_not_exists(#v)")
                } else {
                    check
                        .condition_expression("#v = :expected")
                        .expression_attribute_values(":expected", n(*expected))
                };
                TransactWriteItem::builder()
                    .condition_check(check.build().map_err(built)?)
                    .build()
            }
            Op::Append {
                stream,
                expected,
                version,
                bytes,
                events,
            } => {
                let update = Update::builder()
                    .table_name(table)
                    .set_key(Some(key(stream, TIP_SK)))
                    .update_expression("SET #v = :v, #z = :z, #e = list_append(#e, :e)")
                    .condition_expression("#v = :expected")
                    .expression_attribute_names("#v", attr::VERSION)
                    .expression_attribute_names("#z", attr::TIP_BYTES)
                    .expression_attribute_names("#e", attr::EVENTS)
                    .expression_attribute_values(":v", n(*version))
                    .expression_attribute_values(":z", n(*bytes))
                    .expression_attribute_values(":e", AttributeValue::L(events.clone()))
                    .expression_attribute_values(":expected", n(*expected))
                    .return_values_on_condition_check_failure(fail_returns)
                    .build()
                    .map_err(built)?;
                TransactWriteItem::builder().update(update).build()
            }
            Op::PutTip {
                stream,
                expected,
                version,
                bytes,
                events,
            } => {
                let mut item = key(stream, TIP_SK);
                item.insert(attr::VERSION.into(), n(*version));
                item.insert(attr::TIP_BYTES.into(), n(*bytes));
                item.insert(attr::EVENTS.into(), AttributeValue::L(events.clone()));
                let put = Put::builder()
                    .table_name(table)
                    .set_item(Some(item))
                    .expression_attribute_names("#v", attr::VERSION)
                    .return_values_on_condition_check_failure(fail_returns);
                let put = if *expected == 0 {
                    put.condition_expression("attribute_not_exists(#v)")
                } else {
                    put.condition_expression("#v = :expected")
                        .expression_attribute_values(":expected", n(*expected))
                };
                TransactWriteItem::builder()
                    .put(put.build().map_err(built)?)
                    .build()
            }
            Op::PutNew { pk, sk, events } => {
                let mut item = key(pk, *sk);
                item.insert(attr::EVENTS.into(), AttributeValue::L(events.clone()));
                let put = Put::builder()
                    .table_name(table)
                    .set_item(Some(item))
                    .condition_expression("attribute_not_exists(#pk)")
                    .expression_attribute_names("#pk", PK)
                    .build()
                    .map_err(built)?;
                TransactWriteItem::builder().put(put).build()
            }
        })
    }

    async fn load(&self, stream: &str, after: u64) -> Result<Vec<RecordedEvent>, StoreError> {
        check_stream_name(stream)?;
        let mut events = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND #sk > :after")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_values(":pk", s(stream))
                .expression_attribute_values(":after", n(after))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| unavailable(&format!("loading stream {stream}"), e))?;
            for item in out.items() {
                events.extend(
                    decode_events(item, Some(stream))?
                        .into_iter()
                        .filter(|e| e.stream_version > after),
                );
            }
            match out.last_evaluated_key() {
                Some(last) if !last.is_empty() => start = Some(last.clone()),
                _ => break,
            }
        }
        for (index, event) in events.iter().enumerate() {
            if Some(event.stream_version) != after.checked_add(layout_index(index)) {
                return Err(StoreError::Unavailable(format!(
                    "stream {stream} in the DynamoDB table is not contiguous: version {} where {} was expected",
                    event.stream_version,
                    after.saturating_add(layout_index(index))
                )));
            }
        }
        Ok(events)
    }

    async fn read_all(&self, after: u64, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let head = self.read_head().await?.position;
        if after >= head {
            return Ok(Vec::new());
        }
        let target = head.min(after.saturating_add(u64::try_from(limit).unwrap_or(u64::MAX)));
        let wanted = usize::try_from(target - after).unwrap_or(usize::MAX);
        let mut events: Vec<RecordedEvent> = Vec::with_capacity(wanted.min(1024));
        let mut bucket = (after + 1) / FEED_BUCKET;
        'buckets: while bucket <= target / FEED_BUCKET {
            let mut start: Option<Item> = None;
            loop {
                let remaining = wanted.saturating_sub(events.len()).clamp(1, 1000);
                let out = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("#pk = :pk AND #sk > :after")
                    .expression_attribute_names("#pk", PK)
                    .expression_attribute_names("#sk", SK)
                    .expression_attribute_values(":pk", s(format!("{FEED_PREFIX}{bucket}")))
                    .expression_attribute_values(":after", n(after))
                    .consistent_read(true)
                    .limit(i32::try_from(remaining).unwrap_or(1000))
                    .set_exclusive_start_key(start.take())
                    .send()
                    .await
                    .map_err(|e| unavailable("reading the feed", e))?;
                for item in out.items() {
                    events.extend(
                        decode_events(item, None)?
                            .into_iter()
                            .filter(|e| e.position > after && e.position <= target),
                    );
                }
                if events.len() >= wanted {
                    break 'buckets;
                }
                match out.last_evaluated_key() {
                    Some(last) if !last.is_empty() => start = Some(last.clone()),
                    _ => break,
                }
            }
            bucket += 1;
        }
        for (index, event) in events.iter().enumerate() {
            if Some(event.position) != after.checked_add(layout_index(index)) {
                return Err(StoreError::Unavailable(format!(
                    "the feed in the DynamoDB table has a gap: position {} where {} was expected",
                    event.position,
                    after.saturating_add(layout_index(index))
                )));
            }
        }
        if events.len() < wanted {
            return Err(StoreError::Unavailable(format!(
                "the feed in the DynamoDB table ends at {} but the head is at {head}",
                after.saturating_add(layout_index(events.len()).saturating_sub(1))
            )));
        }
        Ok(events)
    }

    async fn read_head(&self) -> Result<Head, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(HEAD_PK, HEAD_SK)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("reading the head", e))?;
        match out.item() {
            Some(item) => Ok(Head {
                position: get_u64(item, attr::VERSION)?,
                recorded_at: Some(get_i64(item, attr::TIMESTAMP)?),
            }),
            None => Ok(Head::default()),
        }
    }
}

/// 1-based offset of the `index`th event.
fn layout_index(index: usize) -> u64 {
    u64::try_from(index).unwrap_or(u64::MAX).saturating_add(1)
}

/// Exponential backoff with full jitter: up to 5 ms × 2^attempt, at most 500 ms.
fn backoff(attempt: u32) -> Duration {
    let cap = 5u64.saturating_mul(1u64 << attempt.min(10)).min(500);
    Duration::from_millis(fastrand::u64(1..=cap.max(1)))
}

enum Classified {
    Definite(TxFailure),
    /// The transaction may or may not have committed.
    Unknown(String),
}

/// What a failed `TransactWriteItems` means for `plan`.
fn classify(error: &SdkError<TransactWriteItemsError>, plan: &Plan) -> Classified {
    let detail = || DisplayErrorContext(error).to_string();
    let Some(service) = error.as_service_error() else {
        return match error {
            SdkError::ConstructionFailure(_) => {
                Classified::Definite(TxFailure::Fail(StoreError::Unavailable(detail())))
            }
            // Timeouts, connection failures, unreadable responses: the request may have run.
            _ => Classified::Unknown(detail()),
        };
    };
    match service {
        TransactWriteItemsError::TransactionCanceledException(canceled) => {
            let reasons = canceled.cancellation_reasons();
            // A stream's condition: a conflict for the first such stream, in write order.
            for (op, reason) in plan.ops.iter().zip(reasons) {
                if reason.code() == Some("ConditionalCheckFailed")
                    && let Some((stream, expected)) = op.checked_stream()
                {
                    let actual = reason
                        .item()
                        .and_then(|item| get_u64(item, attr::VERSION).ok())
                        .unwrap_or(0);
                    return Classified::Definite(TxFailure::Fail(StoreError::Conflict {
                        stream: stream.to_owned(),
                        expected,
                        actual,
                    }));
                }
            }
            let codes: Vec<&str> = reasons
                .iter()
                .filter_map(|r| r.code())
                .filter(|c| *c != "None")
                .collect();
            let retry = [
                "ConditionalCheckFailed",
                "TransactionConflict",
                "ThrottlingError",
                "ProvisionedThroughputExceeded",
                "RequestLimitExceeded",
            ];
            if !codes.is_empty() && codes.iter().all(|code| retry.contains(code)) {
                return Classified::Definite(TxFailure::Retry(format!(
                    "transaction cancelled: {codes:?}"
                )));
            }
            let too_large = reasons.iter().any(|r| {
                r.code() == Some("ItemCollectionSizeLimitExceeded")
                    || (r.code() == Some("ValidationError")
                        && r.message().is_some_and(|m| m.contains("size")))
            });
            if too_large {
                return Classified::Definite(TxFailure::Fail(StoreError::TooLarge(detail())));
            }
            Classified::Definite(TxFailure::Fail(StoreError::Unavailable(detail())))
        }
        TransactWriteItemsError::IdempotentParameterMismatchException(_)
        | TransactWriteItemsError::ResourceNotFoundException(_)
        | TransactWriteItemsError::InvalidEndpointException(_) => {
            Classified::Definite(TxFailure::Fail(StoreError::Unavailable(detail())))
        }
        other if other.code() == Some("ValidationException") => {
            if other
                .message()
                .is_some_and(|m| m.contains("size") || m.contains("exceed"))
            {
                Classified::Definite(TxFailure::Fail(StoreError::TooLarge(detail())))
            } else {
                Classified::Definite(TxFailure::Fail(StoreError::Unavailable(detail())))
            }
        }
        // In progress, throttled, internal errors, …: an earlier attempt of this very request
        // (the SDK retries with the same token) may have committed.
        _ => Classified::Unknown(detail()),
    }
}

fn unavailable(what: &str, error: impl std::error::Error) -> StoreError {
    StoreError::Unavailable(format!("DynamoDB {what}: {}", DisplayErrorContext(error)))
}
