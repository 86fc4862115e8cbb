//! The event-store port. Adapters (in-memory, SQLite, DynamoDB) implement [`EventStore`]; the
//! application only ever sees this trait, and one contract test suite holds every adapter to it.
//!
//! Streams are named by `reservation_core::stream::StreamId` (`restaurant:r1`,
//! `daybook:r1:2026-12-08`, `reservation:<uuid>`). A stream's version is the number of events
//! in it; appending with `expected_version` N succeeds only if the stream holds exactly N events.
//! Payloads are opaque JSON text (the core's documented event wire form).

use async_trait::async_trait;

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
    Conflict { stream: String, expected: u64, actual: u64 },
    /// The write breaks a limit of the store (item size, events per transaction, …).
    #[error("write too large: {0}")]
    TooLarge(String),
    /// The store could not be reached or failed; nothing was written.
    #[error("event store unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait EventStore: Send + Sync + 'static {
    /// Appends to every stream in `writes` atomically: either all events are stored, each
    /// stream's expected version held, and they are durable when this returns, or nothing is.
    /// Returns the recorded events in the order given.
    async fn append(&self, writes: Vec<StreamWrite>) -> Result<Vec<RecordedEvent>, StoreError>;

    /// The events of `stream` after `after_version` (0: all), in stream order.
    async fn load(&self, stream: &str, after_version: u64) -> Result<Vec<RecordedEvent>, StoreError>;

    /// Up to `limit` events of the global log after `after` (0: from the start), in order.
    async fn read_all(&self, after: u64, limit: usize) -> Result<Vec<RecordedEvent>, StoreError>;

    /// The position of the newest event (0 when empty).
    async fn head(&self) -> Result<u64, StoreError>;
}
