//! An in-memory [`EventStore`] with the same semantics as the durable adapters (and held to the
//! same contract tests). Nothing survives the process; for tests and experiments.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use jiff::Timestamp;
use tokio::sync::watch;

use super::{EventStore, RecordedEvent, StoreError, StreamWrite, check_limits};

/// The in-memory event store.
#[derive(Debug)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
    head: watch::Sender<u64>,
}

#[derive(Debug, Default)]
struct Inner {
    /// The global log; `log[i].position == i + 1`.
    log: Vec<RecordedEvent>,
    /// Indices into `log` of each stream's events, in stream order.
    streams: HashMap<String, Vec<usize>>,
    /// The newest `recorded_at`, so time never runs backwards in the log.
    last_recorded_at: Option<Timestamp>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        MemoryStore {
            inner: Mutex::new(Inner::default()),
            head: watch::Sender::new(0),
        }
    }

    /// The head position, now and after every commit (see [`super::sqlite::SqliteStore::subscribe`]).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.head.subscribe()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every mutation below is completed before the guard drops, so a poisoned lock still
        // holds consistent data.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn to_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

#[async_trait]
impl EventStore for MemoryStore {
    async fn append(&self, writes: Vec<StreamWrite>) -> Result<Vec<RecordedEvent>, StoreError> {
        check_limits(&writes)?;
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        let mut inner = self.lock();
        // Check every expectation first, following earlier writes of the same call.
        let mut pending: HashMap<&str, u64> = HashMap::new();
        for write in &writes {
            let actual = match pending.get(write.stream.as_str()) {
                Some(version) => *version,
                None => inner
                    .streams
                    .get(&write.stream)
                    .map_or(0, |s| to_u64(s.len())),
            };
            if actual != write.expected_version {
                return Err(StoreError::Conflict {
                    stream: write.stream.clone(),
                    expected: write.expected_version,
                    actual,
                });
            }
            let after = actual.saturating_add(to_u64(write.events.len()));
            pending.insert(write.stream.as_str(), after);
        }
        let now = Timestamp::now();
        let recorded_at = inner.last_recorded_at.map_or(now, |last| last.max(now));
        inner.last_recorded_at = Some(recorded_at);
        let mut recorded = Vec::new();
        for write in writes {
            let base = inner.streams.get(&write.stream).map_or(0, Vec::len);
            for (offset, event) in write.events.into_iter().enumerate() {
                let index = inner.log.len();
                let record = RecordedEvent {
                    position: to_u64(index + 1),
                    stream: write.stream.clone(),
                    stream_version: to_u64(base + offset + 1),
                    event_type: event.event_type,
                    schema_version: event.schema_version,
                    payload: event.payload,
                    recorded_at,
                };
                inner.log.push(record.clone());
                inner
                    .streams
                    .entry(write.stream.clone())
                    .or_default()
                    .push(index);
                recorded.push(record);
            }
        }
        let head = to_u64(inner.log.len());
        drop(inner);
        if !recorded.is_empty() {
            self.head.send_replace(head);
        }
        Ok(recorded)
    }

    async fn load(
        &self,
        stream: &str,
        after_version: u64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let inner = self.lock();
        let Some(indices) = inner.streams.get(stream) else {
            return Ok(Vec::new());
        };
        let skip = usize::try_from(after_version).unwrap_or(usize::MAX);
        Ok(indices
            .iter()
            .skip(skip)
            .filter_map(|&i| inner.log.get(i).cloned())
            .collect())
    }

    async fn read_all(&self, after: u64, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        let inner = self.lock();
        let skip = usize::try_from(after).unwrap_or(usize::MAX);
        Ok(inner.log.iter().skip(skip).take(limit).cloned().collect())
    }

    async fn head(&self) -> Result<u64, StoreError> {
        Ok(to_u64(self.lock().log.len()))
    }

    fn subscribe(&self) -> watch::Receiver<u64> {
        MemoryStore::subscribe(self)
    }
}
