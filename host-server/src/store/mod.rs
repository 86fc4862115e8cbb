//! The event-store port. Adapters (in-memory, SQLite, DynamoDB) implement [`EventStore`]; the
//! application only ever sees this trait, and one contract test suite holds every adapter to it.
//!
//! Streams are named by `reservation_core::stream::StreamId` (`restaurant:r1`,
//! `daybook:r1:2026-12-08`, `reservation:<uuid>`). A stream's version is the number of events
//! in it; appending with `expected_version` N succeeds only if the stream holds exactly N events.
//! Payloads are opaque JSON text (the core's documented event wire form).
//!
//! Adapters: [`memory::MemoryStore`] (tests), [`sqlite::SqliteStore`] (the embedded, durable
//! store) and [`dynamodb::DynamoStore`] (Amazon DynamoDB, for stateless replicas). Each offers
//! `subscribe()` (the head position after commits, for live tails and projection wake-ups)
//! and `shutdown()` through the port. Contract: `host-server/tests/contract/`.

use async_trait::async_trait;

pub mod dynamodb;
pub mod memory;
pub mod sqlite;

/// Largest accepted event payload, in bytes.
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;
/// Most events one [`EventStore::append`] may carry (summed over its streams).
pub const MAX_EVENTS_PER_APPEND: usize = 100;
/// Largest sum of payload bytes in one [`EventStore::append`].
pub const MAX_APPEND_BYTES: usize = 2 * 1024 * 1024;
/// Longest accepted stream name, in bytes.
pub const MAX_STREAM_NAME_BYTES: usize = 512;
/// Longest accepted event type, in bytes.
pub const MAX_EVENT_TYPE_BYTES: usize = 128;

/// Checks the limits every adapter enforces (the `MAX_*` constants), so an append is refused
/// with [`StoreError::TooLarge`] the same way by each of them before anything is written.
pub fn check_limits(writes: &[StreamWrite]) -> Result<(), StoreError> {
    let mut events = 0usize;
    let mut bytes = 0usize;
    for write in writes {
        if write.stream.len() > MAX_STREAM_NAME_BYTES {
            return Err(StoreError::TooLarge(format!(
                "stream name is {} bytes, the limit is {MAX_STREAM_NAME_BYTES}",
                write.stream.len()
            )));
        }
        for event in &write.events {
            if event.payload.len() > MAX_PAYLOAD_BYTES {
                return Err(StoreError::TooLarge(format!(
                    "event payload is {} bytes, the limit is {MAX_PAYLOAD_BYTES}",
                    event.payload.len()
                )));
            }
            if event.event_type.len() > MAX_EVENT_TYPE_BYTES {
                return Err(StoreError::TooLarge(format!(
                    "event type is {} bytes, the limit is {MAX_EVENT_TYPE_BYTES}",
                    event.event_type.len()
                )));
            }
            bytes = bytes.saturating_add(event.payload.len());
        }
        events = events.saturating_add(write.events.len());
    }
    if events > MAX_EVENTS_PER_APPEND {
        return Err(StoreError::TooLarge(format!(
            "{events} events in one append, the limit is {MAX_EVENTS_PER_APPEND}"
        )));
    }
    if bytes > MAX_APPEND_BYTES {
        return Err(StoreError::TooLarge(format!(
            "{bytes} payload bytes in one append, the limit is {MAX_APPEND_BYTES}"
        )));
    }
    Ok(())
}

/// An event to append. `event_type` and `schema_version` repeat what the payload says, so the
/// store can be queried and upcast without parsing payloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub event_type: String,
    pub schema_version: u16,
    /// The event's JSON wire form.
    pub payload: String,
}

/// Events for one stream, with the version the writer based its decision on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamWrite {
    pub stream: String,
    /// Events in the stream when the decision was made (0: the stream must not exist yet).
    pub expected_version: u64,
    pub events: Vec<NewEvent>,
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedEvent {
    /// Position in the global log: strictly increasing in commit order, starting at 1.
    pub position: u64,
    pub stream: String,
    /// 1-based index of this event within its stream.
    pub stream_version: u64,
    pub event_type: String,
    pub schema_version: u16,
    pub payload: String,
    /// When the store committed the event (the instant for as-of queries).
    pub recorded_at: jiff::Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// Another writer got there first: reload and decide again.
    #[error("stream {stream} is at version {actual}, not {expected}")]
    Conflict {
        stream: String,
        expected: u64,
        actual: u64,
    },
    /// The write breaks a limit of the store (item size, events per transaction, …).
    #[error("write too large: {0}")]
    TooLarge(String),
    /// The store could not be reached or failed; nothing was written. (The one exception, as
    /// with any database: an I/O failure while committing leaves the outcome unknown; callers
    /// that retry rely on idempotency.) The detail is for logs, not for clients.
    #[error("event store unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait EventStore: Send + Sync + 'static {
    /// Appends to every stream in `writes` atomically: either all events are stored, each
    /// stream's expected version held, and they are durable when this returns, or nothing is.
    /// Returns the recorded events in the order given.
    ///
    /// - A stream may appear more than once: each write's expectation is checked against the
    ///   stream as the earlier writes of the same call leave it.
    /// - A write with no events only asserts its stream's version (e.g. that a configuration
    ///   the decision read is unchanged).
    /// - An empty `writes` succeeds without writing anything.
    /// - Limits ([`check_limits`]) are checked first: [`StoreError::TooLarge`], nothing written.
    /// - A failed expectation is [`StoreError::Conflict`] for the first stream that failed.
    /// - Dropping the returned future after the call began does not cancel the write.
    async fn append(&self, writes: Vec<StreamWrite>) -> Result<Vec<RecordedEvent>, StoreError>;

    /// The events of `stream` after `after_version` (0: all), in stream order.
    async fn load(
        &self,
        stream: &str,
        after_version: u64,
    ) -> Result<Vec<RecordedEvent>, StoreError>;

    /// Up to `limit` events of the global log after `after` (0: from the start), in order.
    async fn read_all(&self, after: u64, limit: usize) -> Result<Vec<RecordedEvent>, StoreError>;

    /// The position of the newest event (0 when empty).
    async fn head(&self) -> Result<u64, StoreError>;

    /// The head position: the current value at once, then a change after commits (values only
    /// grow), for live tails and projection wake-ups. The adapters override it; this default
    /// never changes (its sender is gone, so `changed()` fails and callers fall back to polling).
    fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        tokio::sync::watch::channel(0).1
    }

    /// Ends the store in order once the server stops (e.g. SQLite's writer finishes its queue
    /// and closes). Idempotent. Nothing to do by default.
    async fn shutdown(&self) {}
}
