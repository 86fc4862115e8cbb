//! CQRS read models, projected from the event log into SQLite (`<data dir>/read.db`).
//!
//! - **Tables**: reservations by id (the core's `Reservation`, folded with
//!   `Reservation::confirmed/rejected` and `.apply`); the hints that list them per restaurant
//!   and service date (every day a reservation ever belonged to: also the as-of index) and per
//!   user, logged per booking and merged in sorted bulk (`hints`: the listings cost no random
//!   index writes per booking); restaurants (the core's `Restaurant`, folded with the core's
//!   `evolve`) with reservation counts per status.
//! - **Checkpoint**: the global position of the last applied event, written in the same
//!   transaction as the read-model changes of its batch: a crash never applies an event twice nor
//!   skips one. Batches always read the store from checkpoint + 1; events at or below the
//!   checkpoint are skipped. One applier at a time (a mutex).
//! - **Freshness**: [`ReadModels::catch_up`] makes everything the store had acknowledged when it
//!   was called visible; [`ReadModels::catch_up_to`] waits for one position (read your writes).
//!   [`spawn_projector`] keeps the models current in the background.
//! - **Listings include rejected requests**: they are part of the record (a guest sees that the
//!   request was turned down); callers filter by `status` where they want only held tables.
//! - **Undecodable events** (a payload this build cannot read, or an event stored in another
//!   stream than its own): projection stops *before* that event, applies and checkpoints the
//!   ones before it, and reports [`ProjectionError::Undecodable`] / [`ProjectionError::WrongStream`]
//!   (logged by the projector, returned by `catch_up`). It never skips it: that would silently
//!   lose data. A build that understands the event resumes where it stopped.
//! - **Rebuild**: [`ReadModels::rebuild`] (or [`rebuild_projections`] for the CLI) drops every
//!   table and replays the log; the result equals the live projection ([`ReadModels::dump`]).
//!   Readers see partial models while it runs: run it with the server stopped, or accept that.
//!   A database written by another projection schema version is reset on open and replayed by
//!   the next catch-up.

mod apply;
mod as_of;
mod boot_marker;
mod hints;
mod projector;
mod read_side;
mod restaurant_view;
mod schema;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use reservation_core::reservation::Reservation;
use reservation_core::{Date, DateTime};
use rusqlite::{Connection, OpenFlags, params};
use serde_json::{Value, json};

pub use as_of::day_as_of;
pub use hints::MERGE_AT;
pub use projector::{MIN_GAP, POLL_INTERVAL, spawn_projector};
pub use read_side::ReadSide;
// Store-neutral pieces of the projection, shared with the DynamoDB read models.
pub(crate) use apply::{civil_minutes, decode, decode_reservation, decode_restaurant, sort_key};
pub(crate) use as_of::fold_reservation;
pub use restaurant_view::{ReservationCounts, RestaurantView};

use crate::store::{EventStore, StoreError};
use crate::view::ReservationView;

/// Events read from the store and applied per transaction.
pub const BATCH_SIZE: usize = 4096;

/// Idle reader connections kept open.
const MAX_IDLE_READERS: usize = 4;

/// The read database's file name inside the data directory.
pub const READ_DB_FILE: &str = "read.db";

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("read-model database: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("event store: {0}")]
    Store(#[from] StoreError),
    /// The payload is not an event this build can read; projection stops before it.
    #[error("event at position {position} ({event_type}) cannot be decoded: {reason}")]
    Undecodable {
        position: u64,
        event_type: String,
        reason: String,
    },
    /// The event names another stream than the one it was stored in; projection stops before it.
    #[error("event at position {position} was stored in stream {stream} but belongs to {expected}")]
    WrongStream {
        position: u64,
        stream: String,
        expected: String,
    },
    /// `catch_up_to` was asked for a position the store does not have.
    #[error("position {position} is not in the event store (it ends at {end})")]
    NotInStore { position: u64, end: u64 },
    /// The read models are ahead of the store (the store was replaced or restored from an older
    /// backup): run `reservation-server rebuild-projections`.
    #[error(
        "read models are at position {checkpoint} but the event store ends at {head}: rebuild them"
    )]
    AheadOfStore { checkpoint: u64, head: u64 },
    #[error("read-model data is corrupt: {0}")]
    Corrupt(String),
    #[error("cannot create {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("read-model worker failed: {0}")]
    Worker(String),
}

type Result<T, E = ProjectionError> = std::result::Result<T, E>;

/// The read models. `Send + Sync`; share it as `Arc<ReadModels>`.
pub struct ReadModels {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    /// The one connection that writes (used by the applier holding `apply_lock`).
    writer: Mutex<Connection>,
    /// Serializes appliers (catch-up, rebuild) across tasks.
    apply_lock: tokio::sync::Mutex<()>,
    readers: Mutex<Vec<Connection>>,
    /// The committed checkpoint, for lock-free freshness checks.
    checkpoint: AtomicU64,
    /// The hint log's rows (see `hints`): changed only by the applier, after it commits, and
    /// read before any query that needs them.
    pending: Mutex<Arc<hints::Pending>>,
    /// Hint rows that make the applier merge the log.
    merge_at: usize,
    /// Present when the database runs without fsyncs (see `boot_marker`).
    marker: Option<boot_marker::BootMarker>,
}

impl std::fmt::Debug for ReadModels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadModels")
            .field("path", &self.inner.path)
            .field("checkpoint", &self.inner.checkpoint.load(Ordering::Acquire))
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while a connection was borrowed leaves at most an open transaction, which rusqlite
    // rolls back when it is dropped: the connection is still consistent.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Inner {
    fn open_connection(&self) -> Result<Connection> {
        let conn = crate::wal_vfs::open(&self.path, OpenFlags::default())?;
        schema::configure(&conn, schema::READER_CACHE_KIB, schema::Durability::Normal)?;
        Ok(conn)
    }

    /// Before any write: records in the boot marker that this run writes.
    fn before_write(&self) -> Result<()> {
        match &self.marker {
            Some(marker) => marker.before_write().map_err(|source| ProjectionError::Io {
                path: self.path.with_file_name(boot_marker::MARKER_FILE),
                source,
            }),
            None => Ok(()),
        }
    }

    /// The hint log's rows as of the last committed batch, to read without holding the lock.
    fn pending(&self) -> Arc<hints::Pending> {
        Arc::clone(&lock(&self.pending))
    }

    fn take_reader(&self) -> Result<Connection> {
        let idle = lock(&self.readers).pop();
        match idle {
            Some(conn) => Ok(conn),
            None => {
                let conn = self.open_connection()?;
                conn.pragma_update(None, "query_only", true)?;
                Ok(conn)
            }
        }
    }

    fn return_reader(&self, conn: Connection) {
        let mut readers = lock(&self.readers);
        if readers.len() < MAX_IDLE_READERS {
            readers.push(conn);
        }
    }
}

impl ReadModels {
    /// Opens (creating if missing) `dir/read.db`. A database written by another projection
    /// schema version is reset; the next catch-up replays the log.
    /// Where the OS gives a boot id, a database that the OS may have torn (see `boot_marker`) is
    /// deleted first, and the next catch-up rebuilds it.
    pub fn open(dir: &Path) -> Result<Self> {
        Self::open_merging_at(dir, MERGE_AT)
    }

    /// [`Self::open`], merging the hint log whenever it holds `merge_at` rows (at least one)
    /// instead of [`MERGE_AT`]: small values exercise the merges in tests.
    pub fn open_merging_at(dir: &Path, merge_at: usize) -> Result<Self> {
        let marker = boot_marker::BootMarker::for_this_boot(dir);
        std::fs::create_dir_all(dir).map_err(|source| ProjectionError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join(READ_DB_FILE);
        if marker
            .as_ref()
            .is_some_and(|m| m.previous_run_may_be_torn())
        {
            tracing::warn!(path = %path.display(), "the read models were being written when the OS stopped: rebuilding them from the event log");
            remove_database(&path)?;
        }
        let durability = if marker.is_some() {
            schema::Durability::Off
        } else {
            schema::Durability::Normal
        };
        let inner = Inner {
            writer: Mutex::new(crate::wal_vfs::open(&path, OpenFlags::default())?),
            path,
            apply_lock: tokio::sync::Mutex::new(()),
            readers: Mutex::new(Vec::new()),
            checkpoint: AtomicU64::new(0),
            pending: Mutex::new(Arc::default()),
            merge_at: merge_at.max(1),
            marker,
        };
        inner.before_write()?;
        {
            let mut writer = lock(&inner.writer);
            schema::configure(&writer, schema::WRITER_CACHE_KIB, durability)?;
            let checkpoint = schema::migrate(&mut writer)?;
            *lock(&inner.pending) = Arc::new(hints::load(&writer)?);
            inner.checkpoint.store(checkpoint, Ordering::Release);
        }
        Ok(ReadModels {
            inner: Arc::new(inner),
        })
    }

    /// Makes the database complete on disk (checkpointed, fsynced) and marks it closed cleanly,
    /// so it is kept even if the OS stops before the next start. Writes after this mark it open
    /// again.
    pub async fn close(&self) -> Result<()> {
        let _applier = self.inner.apply_lock.lock().await;
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let Some(marker) = &inner.marker else {
                return Ok(());
            };
            let writer = lock(&inner.writer);
            let (busy, log, done): (i64, i64, i64) =
                writer.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })?;
            if busy != 0 || log != done {
                return Err(ProjectionError::Worker(format!(
                    "read-model checkpoint incomplete ({done} of {log} frames)"
                )));
            }
            let io = |source| ProjectionError::Io {
                path: inner.path.clone(),
                source,
            };
            std::fs::File::open(&inner.path)
                .and_then(|file| file.sync_all())
                .map_err(io)?;
            marker.after_clean_close().map_err(io)
        })
        .await
        .map_err(|e| ProjectionError::Worker(e.to_string()))?
    }

    /// The read database's path.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The global position of the last applied event (0: none).
    pub async fn checkpoint(&self) -> Result<u64> {
        Ok(self.current())
    }

    fn current(&self) -> u64 {
        self.inner.checkpoint.load(Ordering::Acquire)
    }

    /// Applies everything the store holds when called (its head); returns the checkpoint.
    /// Cheap when already current: one `head()` call and no lock.
    pub async fn catch_up(&self, store: &dyn EventStore) -> Result<u64> {
        let head = store.head().await?;
        let checkpoint = self.current();
        if checkpoint > head {
            return Err(ProjectionError::AheadOfStore { checkpoint, head });
        }
        self.advance(store, head).await
    }

    /// Ensures the checkpoint is at least `position` (e.g. the position of an event this
    /// process just appended: read your writes). Returns at once when it already is.
    pub async fn catch_up_to(&self, store: &dyn EventStore, position: u64) -> Result<()> {
        self.advance(store, position).await.map(|_| ())
    }

    async fn advance(&self, store: &dyn EventStore, target: u64) -> Result<u64> {
        let checkpoint = self.current();
        if checkpoint >= target {
            return Ok(checkpoint);
        }
        let _applier = self.inner.apply_lock.lock().await;
        self.advance_locked(store, target).await
    }

    /// Reads and applies batches until the checkpoint reaches `target`. Caller holds `apply_lock`.
    async fn advance_locked(&self, store: &dyn EventStore, target: u64) -> Result<u64> {
        loop {
            let checkpoint = self.current();
            if checkpoint >= target {
                return Ok(checkpoint);
            }
            let events = store.read_all(checkpoint, BATCH_SIZE).await?;
            if events.is_empty() {
                return Err(ProjectionError::NotInStore {
                    position: target,
                    end: checkpoint,
                });
            }
            let inner = Arc::clone(&self.inner);
            let (checkpoint, stopped) = tokio::task::spawn_blocking(move || {
                inner.before_write()?;
                let mut writer = lock(&inner.writer);
                let logged = inner.pending();
                let apply::BatchOutcome {
                    checkpoint,
                    hints,
                    stopped,
                } = apply::apply_batch(&mut writer, checkpoint, &logged, inner.merge_at, &events)?;
                drop(logged);
                // Committed: the hints first, then the checkpoint that readers wait for.
                hints.apply_to(&mut lock(&inner.pending));
                inner.checkpoint.store(checkpoint, Ordering::Release);
                Ok::<_, ProjectionError>((checkpoint, stopped))
            })
            .await
            .map_err(|e| ProjectionError::Worker(e.to_string()))??;
            if let Some(error) = stopped {
                tracing::error!(%error, checkpoint, "projection stopped before an event it cannot apply");
                return Err(error);
            }
        }
    }

    /// Drops every read model and replays the whole log; returns the checkpoint (the head).
    pub async fn rebuild(&self, store: &dyn EventStore) -> Result<u64> {
        let _applier = self.inner.apply_lock.lock().await;
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            inner.before_write()?;
            let mut writer = lock(&inner.writer);
            schema::reset(&mut writer)?;
            *lock(&inner.pending) = Arc::new(hints::Pending::with_capacity(inner.merge_at));
            inner.checkpoint.store(0, Ordering::Release);
            Ok::<_, ProjectionError>(())
        })
        .await
        .map_err(|e| ProjectionError::Worker(e.to_string()))??;
        let head = store.head().await?;
        self.advance_locked(store, head).await
    }

    /// Runs `query` on a reader connection, off the async threads.
    async fn read<T, F>(&self, query: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let conn = inner.take_reader()?;
            let result = query(&conn);
            inner.return_reader(conn);
            result
        })
        .await
        .map_err(|e| ProjectionError::Worker(e.to_string()))?
    }

    /// One reservation as the API shows it.
    pub async fn reservation(&self, id: &str) -> Result<Option<ReservationView>> {
        Ok(self
            .reservation_record(id)
            .await?
            .map(|r| ReservationView::from(&r)))
    }

    /// One reservation with its history (the core's `Reservation`).
    pub async fn reservation_record(&self, id: &str) -> Result<Option<Reservation>> {
        let id = id.to_owned();
        self.read(move |conn| apply::load_reservation(conn, &id))
            .await
    }

    /// Every reservation of a restaurant's service date, in any status (rejected included),
    /// sorted by start (`starts_at`; the requested time when rejected), then id.
    pub async fn day(&self, restaurant_id: &str, date: Date) -> Result<Vec<ReservationView>> {
        let logged = self.inner.pending().on_days(restaurant_id, date..=date);
        let keys = [restaurant_id.to_owned(), date.to_string()];
        self.read(move |conn| {
            listing(
                conn,
                "SELECT r.date, r.sort_key, r.id, r.state FROM day_hints h
                 JOIN reservations r ON r.id = h.reservation_id
                 WHERE h.restaurant_id = ?1 AND h.date = ?2 AND r.restaurant_id = ?1 AND r.date = ?2",
                "SELECT date, sort_key, id, state FROM reservations
                 WHERE id = ?3 AND restaurant_id = ?1 AND date = ?2",
                &keys,
                logged,
            )
        })
        .await
    }

    /// Every reservation of a user across restaurants, in any status, sorted by service date,
    /// start, then id.
    pub async fn user(&self, user_id: &str) -> Result<Vec<ReservationView>> {
        let logged = self.inner.pending().of_user(user_id);
        let keys = [user_id.to_owned()];
        self.read(move |conn| {
            listing(
                conn,
                "SELECT r.date, r.sort_key, r.id, r.state FROM user_hints h
                 JOIN reservations r ON r.id = h.reservation_id
                 WHERE h.user_id = ?1 AND r.user_id = ?1",
                "SELECT date, sort_key, id, state FROM reservations WHERE id = ?2 AND user_id = ?1",
                &keys,
                logged,
            )
        })
        .await
    }

    /// A restaurant's configuration and reservation counts ("upcoming" as of now).
    pub async fn restaurant(&self, id: &str) -> Result<Option<RestaurantView>> {
        self.restaurant_at(id, jiff::Timestamp::now()).await
    }

    /// [`Self::restaurant`] with "upcoming" counted from `now`.
    pub async fn restaurant_at(
        &self,
        id: &str,
        now: jiff::Timestamp,
    ) -> Result<Option<RestaurantView>> {
        // Days from two before today in UTC: every zone's yesterday, where "upcoming" starts.
        let earliest = jiff::tz::TimeZone::UTC
            .to_datetime(now)
            .date()
            .checked_sub(jiff::Span::new().days(2))
            .unwrap_or(Date::MIN);
        let pending = self.inner.pending().on_days(id, earliest..);
        let id = id.to_owned();
        self.read(move |conn| restaurant_view::load(conn, &id, now, &pending))
            .await
    }

    /// The ids of every reservation that ever belonged to this restaurant and service date.
    pub async fn reservations_ever_on(
        &self,
        restaurant_id: &str,
        date: Date,
    ) -> Result<Vec<String>> {
        let mut ids = self.inner.pending().on_days(restaurant_id, date..=date);
        let (restaurant_id, date) = (restaurant_id.to_owned(), date.to_string());
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT reservation_id FROM day_hints WHERE restaurant_id = ?1 AND date = ?2",
            )?;
            for id in stmt.query_map(params![restaurant_id, date], |row| row.get(0))? {
                ids.push(id?);
            }
            ids.sort_unstable();
            ids.dedup();
            Ok(ids)
        })
        .await
    }

    /// Every read model in a canonical JSON form (sorted, no volatile values): equal dumps mean
    /// equal read models. For tests and diagnostics; it reads everything.
    pub async fn dump(&self) -> Result<Value> {
        self.read(|conn| {
            let tx = conn.unchecked_transaction()?;
            let checkpoint = schema::read_checkpoint(&tx)?;
            let restaurants = rows(&tx, "SELECT id, config FROM restaurants ORDER BY id", |row| {
                let config: String = row.get(1)?;
                Ok(json!({ "id": row.get::<_, String>(0)?, "config": parse_json(&config) }))
            })?;
            let reservations = rows(
                &tx,
                "SELECT id, restaurant_id, user_id, date, sort_key, status, state FROM reservations ORDER BY id",
                |row| {
                    let state: String = row.get(6)?;
                    Ok(json!({
                        "id": row.get::<_, String>(0)?,
                        "restaurant_id": row.get::<_, String>(1)?,
                        "user_id": row.get::<_, String>(2)?,
                        "date": row.get::<_, String>(3)?,
                        "sort_key": row.get::<_, i64>(4)?,
                        "status": row.get::<_, String>(5)?,
                        "state": parse_json(&state),
                    }))
                },
            )?;
            // Merged or still in the log: where a hint is depends on when merges ran.
            let day_hints = rows(
                &tx,
                "SELECT restaurant_id, date, reservation_id FROM day_hints
                 UNION SELECT restaurant_id, date, reservation_id FROM hint_log ORDER BY 1, 2, 3",
                |row| Ok(json!([row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, String>(2)?])),
            )?;
            let user_hints = rows(
                &tx,
                "SELECT user_id, reservation_id FROM user_hints
                 UNION SELECT user_id, reservation_id FROM hint_log ORDER BY 1, 2",
                |row| Ok(json!([row.get::<_, String>(0)?, row.get::<_, String>(1)?])),
            )?;
            let counts = rows(
                &tx,
                "SELECT restaurant_id, status, n FROM restaurant_counts WHERE n != 0 ORDER BY 1, 2",
                |row| Ok(json!([row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, i64>(2)?])),
            )?;
            tx.finish()?;
            Ok(json!({
                "checkpoint": checkpoint,
                "restaurants": restaurants,
                "reservations": reservations,
                "day_hints": day_hints,
                "user_hints": user_hints,
                "restaurant_counts": counts,
            }))
        })
        .await
    }
}

/// Opens the read models in `data_dir` and rebuilds them from `store` (the CLI's
/// `reservation-server rebuild-projections --data-dir DIR`). Returns the checkpoint reached.
/// Run it with the server stopped: a running server would keep serving the partial models
/// while the rebuild runs.
pub async fn rebuild_projections(data_dir: &Path, store: &dyn EventStore) -> Result<u64> {
    let read = ReadModels::open(data_dir)?;
    let checkpoint = read.rebuild(store).await?;
    read.close().await?;
    Ok(checkpoint)
}

/// Deletes the read database and its WAL and shared-memory files (missing ones are fine).
fn remove_database(path: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let file = crate::store::sqlite::companion_file(path, suffix);
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(ProjectionError::Io { path: file, source }),
        }
    }
    Ok(())
}

/// A listed reservation's row: (date, sort key, id, state), the listings' order.
type Listed = (String, i64, String, String);

/// A listing, read in one transaction: the rows `merged` finds through the merged hint tables
/// (parameters `keys`), and each id of the in-memory hint log (`logged`) looked up with `one`
/// (parameters `keys`, then the id).
fn listing(
    conn: &Connection,
    merged: &str,
    one: &str,
    keys: &[String],
    logged: Vec<String>,
) -> Result<Vec<ReservationView>> {
    let tx = conn.unchecked_transaction()?;
    let mut rows = Vec::new();
    listed(&tx, merged, rusqlite::params_from_iter(keys), &mut rows)?;
    for id in &logged {
        let params = rusqlite::params_from_iter(keys.iter().chain([id]));
        listed(&tx, one, params, &mut rows)?;
    }
    tx.finish()?;
    views(rows)
}

fn listed(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    out: &mut Vec<Listed>,
) -> Result<()> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    while let Some(row) = rows.next()? {
        out.push((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?));
    }
    Ok(())
}

/// Sorts rows by date, start and id, drops repeats (a reservation hinted twice), and decodes.
fn views(mut rows: Vec<Listed>) -> Result<Vec<ReservationView>> {
    rows.sort_unstable_by(|a, b| (&a.0, a.1, &a.2).cmp(&(&b.0, b.1, &b.2)));
    // Read in one transaction, a reservation's repeats are equal rows, hence adjacent.
    rows.dedup_by(|a, b| a.2 == b.2);
    rows.iter()
        .map(|(_, _, _, state)| Ok(ReservationView::from(&apply::decode_reservation(state)?)))
        .collect()
}

fn rows<F>(conn: &Connection, sql: &str, map: F) -> Result<Vec<Value>>
where
    F: FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<Value>,
{
    let mut stmt = conn.prepare(sql)?;
    let values = stmt.query_map([], map)?;
    Ok(values.collect::<Result<Vec<_>, _>>()?)
}

fn parse_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

/// The civil "now" in a restaurant's zone (UTC when the zone is unknown to this build).
pub(crate) fn civil_now(timezone: &str, now: jiff::Timestamp) -> DateTime {
    match jiff::tz::TimeZone::get(timezone) {
        Ok(tz) => tz.to_datetime(now),
        Err(_) => jiff::tz::TimeZone::UTC.to_datetime(now),
    }
}

/// Sorts views as the listings do: start (requested time when rejected), then id.
pub(crate) fn sort_views(views: &mut [(i64, ReservationView)]) {
    views.sort_by(|(a_key, a), (b_key, b)| a_key.cmp(b_key).then_with(|| a.id.cmp(&b.id)));
}
