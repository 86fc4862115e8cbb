//! The embedded, durable [`EventStore`]: one SQLite database file (`DIR/events.db`) in WAL mode,
//! whose WAL is fsynced before any append is acknowledged, so an acknowledged append survives
//! `kill -9` and power loss.
//!
//! # Writes: group commit
//! One dedicated thread owns the only write connection. [`EventStore::append`] queues its
//! request on a bounded channel and waits for a reply. The thread takes whatever is queued (up to
//! [`SqliteOptions::max_batch_appends`] requests / [`SqliteOptions::max_batch_events`] events)
//! and commits it in **one** transaction, hence at most one WAL fsync, however many appends it
//! holds.
//! Each request's expected versions are all checked before any of its events is written: a
//! request whose expectation fails writes nothing and is answered with its conflict, while the
//! others commit. (A savepoint per request cost two more statements per append; a database
//! error while inserting fails the whole batch instead, which nothing has been told about yet.)
//!
//! # Durability: the writer's own fsync
//! The write connection runs with `synchronous=NORMAL` (SQLite still syncs checkpoints and the
//! WAL header when the WAL restarts, so the file is never corrupted), and after `COMMIT` the
//! writer fsyncs the WAL file itself (`syncer`) and only then answers the batch's appenders
//! and moves the head. The WAL is written in commit order, so a transaction that is durable
//! has every earlier one durable too.
//!
//! **One commit per fsync.** The appends that arrive while the writer commits and fsyncs queue
//! up, and its next transaction takes all of them. Each commit writes every page it touched as
//! a new WAL frame, and the pages all commits share (the table's last page, the index's inner
//! pages) are rewritten by every one of them: committing while an fsync was in flight (on a
//! separate syncer thread, as this store once did) made three commits per fsync at 64
//! connections, for 2.1 WAL frames per booking instead of 1.5 (`PERFORMANCE.md`, "One commit
//! per fsync"). The cost is that a commit never overlaps an fsync: the store alone
//! (`benches/store.rs`, where the disk and not the CPU sets the pace) appended 0.77× as fast
//! with 16 appenders and 0.87× with 64 when that was measured. Without the thread, a batch no
//! longer waits for two thread wake-ups on busy cores (section 13 there).
//!
//! **Few writes per commit.** Every connection opens through [`crate::wal_vfs`], SQLite's
//! `unix` VFS except that a commit's WAL frames reach the kernel in a few large writes instead
//! of two per frame; a commit is in the file before SQLite publishes it, as with `unix`.
//!
//! Nothing is visible before it is durable: the head position ([`SqliteStore::subscribe`],
//! `head`) moves after the fsync, and reads (`load`, `read_all`) stop at that head, so no feed,
//! projection or decision ever sees an event that a power cut could still take back.
//!
//! Positions are the rowids of the `events` table, assigned by the single writer in commit
//! order: strictly increasing and gap-free (a rolled-back request gives its positions back).
//! Every event of one transaction gets the same `recorded_at`, never earlier than the newest
//! one already stored, even if the wall clock steps back.
//!
//! # Reads
//! Reads run on a small pool of read-only connections via `spawn_blocking`. WAL readers see the
//! last committed state and never wait for the writer (nor it for them). Since transactions
//! commit whole and positions are given in commit order, a read of the global log always sees a
//! gap-free prefix. The log's tail, which the projector and live feeds ask for, is answered from
//! the newest durable events the writer keeps in memory after each fsync, without a query
//! (see `recent`).
//!
//! # Checkpoints
//! SQLite's automatic checkpoint (inside `COMMIT`) is off; a checkpointer thread copies the WAL
//! into the database file beside the writer in small synced steps, and the writer only finishes
//! the last few frames between batches, so the WAL stays small without stalling commits (see
//! `checkpoints`).
//!
//! # Notifications
//! [`SqliteStore::subscribe`] returns a `watch` receiver of the head position, updated after
//! every commit that stored events, before its appenders get their replies: the wake-up for live
//! tails (SSE) and projections.
//!
//! # Errors
//! SQLite errors become [`StoreError::Unavailable`] with the detail (for logs). Limits are
//! checked before anything is queued ([`super::check_limits`]). Nothing here panics on input.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, params};
use tokio::sync::{Semaphore, mpsc, oneshot, watch};

use super::{EventStore, NewEvent, RecordedEvent, StoreError, StreamWrite, check_limits};

mod checkpoints;
mod recent;
mod syncer;
pub use checkpoints::CHECKPOINT_DURATION;
use checkpoints::Checkpoints;
use recent::RecentEvents;
use syncer::{Committed, Syncer};

/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "events.db";

/// Histogram: how long the writer took to commit a batch (from `BEGIN` to `COMMIT`, without
/// the fsync). With [`SYNC_DURATION`] it splits an append's time between the writer and the disk.
pub const COMMIT_DURATION: &str = "reservation_event_store_commit_seconds";
/// Histogram: how long one fsync of the WAL took (it covers every batch committed before it).
pub const SYNC_DURATION: &str = "reservation_event_store_sync_seconds";
/// Histogram: appends committed together in one batch.
pub const BATCH_APPENDS: &str = "reservation_event_store_batch_appends";

/// The schema this build reads and writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    position       INTEGER PRIMARY KEY,
    stream         TEXT    NOT NULL,
    stream_version INTEGER NOT NULL,
    event_type     TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    payload        TEXT    NOT NULL,
    recorded_at    INTEGER NOT NULL, -- nanoseconds since the Unix epoch
    UNIQUE (stream, stream_version)
) STRICT;
";

const EVENT_COLUMNS: &str =
    "position, stream, stream_version, event_type, schema_version, payload, recorded_at";

/// Page cache of each read connection, in KiB.
const READER_CACHE_KIB: i64 = 512;

/// How long a connection waits for a lock held by another connection (e.g. a second process
/// opened on the same directory by mistake) before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Tuning knobs; [`SqliteOptions::default`] is what the service uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteOptions {
    /// Most append requests committed in one transaction.
    pub max_batch_appends: usize,
    /// A batch stops taking requests once it holds this many events.
    pub max_batch_events: usize,
    /// Append requests that may wait for the writer before callers are held back.
    pub queue_capacity: usize,
    /// Read-only connections, hence concurrent reads.
    pub read_connections: usize,
    /// WAL size, in frames (pages), at which the WAL is checkpointed completely and starts
    /// over (see `checkpoints`). A restart stalls the writer briefly; a smaller WAL restarts
    /// more often and copies rewritten pages more often. Every booking rewrites a random leaf
    /// of the stream index, so the larger the WAL between two copies, the more of those
    /// rewrites a copy folds into one page write: 16,000 frames (64 MiB) with one pass gave
    /// 1.10× the bookings per second of 2,000 frames in steps of 250 at 64 connections, 1.16×
    /// at 16, for a p99 about 0.4 ms higher and 1–4 MiB more peak RSS. 32,000 was slower again
    /// (a reader looks a page up in every 4,096-frame segment of the WAL's index).
    pub checkpoint_frames: usize,
    /// Frames between two of the checkpointer's passes, each of which copies the WAL into the
    /// database file and fsyncs it, so that no fsync has more than about this many pages to
    /// write (see `checkpoints`). Smaller steps shorten the waits of the WAL fsyncs queued
    /// behind them but copy a page rewritten between two steps twice. When the WAL held 2,000
    /// frames, steps of 250 gave a p99 of 8.9 ms at 16 connections against 17.2 ms with one
    /// pass; with 16,000 frames, one pass (the default: the same as `checkpoint_frames`) gave
    /// 6.6–6.8 ms and steps of 500 or 2,000 frames no better p99 and fewer bookings.
    pub checkpoint_step_frames: usize,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            max_batch_appends: 512,
            max_batch_events: 4096,
            queue_capacity: 4096,
            read_connections: 4,
            checkpoint_frames: 16_000,
            checkpoint_step_frames: 16_000,
        }
    }
}

type Reply = oneshot::Sender<Result<Vec<RecordedEvent>, StoreError>>;

struct AppendRequest {
    writes: Vec<StreamWrite>,
    reply: Reply,
}

enum Message {
    Append(AppendRequest),
    Shutdown(oneshot::Sender<()>),
}

/// The SQLite event store. Share it behind an `Arc`; dropping the last handle lets the writer
/// finish what is queued and close.
pub struct SqliteStore {
    path: PathBuf,
    requests: mpsc::Sender<Message>,
    readers: Arc<ReadPool>,
    head: watch::Receiver<u64>,
    /// The newest durable events (the tail that `read_all` is mostly asked for).
    recent: Arc<RecentEvents>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn unavailable(context: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("sqlite {context}: {error}"))
}

impl SqliteStore {
    /// Opens (creating if needed) the store in `dir` with the default options.
    /// Blocking: call it at startup or from `spawn_blocking`.
    pub fn open(dir: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        Self::open_with(dir, SqliteOptions::default())
    }

    /// Opens (creating if needed) the store in `dir`: creates the directory and the schema
    /// (idempotent), checks the schema version, and starts the writer thread.
    pub fn open_with(
        dir: impl AsRef<Path>,
        options: SqliteOptions,
    ) -> Result<SqliteStore, StoreError> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir)
            .map_err(|e| unavailable(&format!("creating {}", dir.display()), e))?;
        let path = dir.join(DATABASE_FILE);
        let mut conn = open_writer(&path)?;
        let head = current_head(&conn).map_err(|e| unavailable("reading the head", e))?;
        let wal_frames = Arc::new(AtomicUsize::new(0));
        let frames = Arc::clone(&wal_frames);
        conn.wal_hook(Some(
            move |_: &mut rusqlite::hooks::Wal, pages: std::ffi::c_int| {
                frames.store(usize::try_from(pages).unwrap_or(0), Ordering::Relaxed);
                Ok(())
            },
        ))
        .map_err(|e| unavailable("installing the WAL hook", e))?;
        let (head_tx, head_rx) = watch::channel(head);
        let recent = Arc::new(RecentEvents::default());
        let syncer = Syncer::open(&companion_file(&path, "-wal"), head_tx, Arc::clone(&recent))?;
        let (requests, queue) = mpsc::channel(options.queue_capacity.max(1));
        let batch = Batching {
            max_appends: options.max_batch_appends.max(1),
            max_events: options.max_batch_events.max(1),
        };
        let checkpoints = Checkpoints::start(&path, wal_frames, &options)?;
        let writer = Writer {
            conn,
            syncer,
            checkpoints,
        };
        std::thread::Builder::new()
            .name("event-store-writer".into())
            .spawn(move || run_writer(writer, queue, batch))
            .map_err(|e| unavailable("starting the writer thread", e))?;
        let readers = Arc::new(ReadPool {
            path: path.clone(),
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(options.read_connections.max(1))),
        });
        Ok(SqliteStore {
            path,
            requests,
            readers,
            head: head_rx,
            recent,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The head position: the current value at once, then a change after every commit that
    /// stored events (values only grow). Wake-ups for live tails and projections:
    /// `while rx.changed().await.is_ok() { let head = *rx.borrow_and_update(); … }`.
    /// `changed()` fails once the store has shut down.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.head.clone()
    }

    /// Stops the writer once the appends queued before this call are committed and answered;
    /// later appends fail with [`StoreError::Unavailable`]. Returns when the write connection is
    /// closed. Idempotent. (Everything acknowledged is already durable; this only makes the
    /// end orderly, e.g. on SIGTERM.)
    pub async fn shutdown(&self) {
        let (done, wait) = oneshot::channel();
        if self.requests.send(Message::Shutdown(done)).await.is_ok() {
            let _ = wait.await;
        }
        self.readers
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

#[async_trait]
impl EventStore for SqliteStore {
    async fn append(&self, writes: Vec<StreamWrite>) -> Result<Vec<RecordedEvent>, StoreError> {
        check_limits(&writes)?;
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Message::Append(AppendRequest { writes, reply }))
            .await
            .map_err(|_| StoreError::Unavailable("the event store is shut down".into()))?;
        answer.await.map_err(|_| {
            StoreError::Unavailable("the event store writer stopped before answering".into())
        })?
    }

    async fn load(
        &self,
        stream: &str,
        after_version: u64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let stream = stream.to_owned();
        let after = clamp_i64(after_version);
        let durable = clamp_i64(*self.head.borrow());
        self.readers
            .run(move |conn| {
                let sql = format!(
                    "SELECT {EVENT_COLUMNS} FROM events \
                     WHERE stream = ?1 AND stream_version > ?2 AND position <= ?3 \
                     ORDER BY stream_version"
                );
                query_events(conn, &sql, params![stream, after, durable])
            })
            .await
    }

    async fn read_all(&self, after: u64, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let durable_head = *self.head.borrow();
        if let Some(events) = self.recent.after(after, durable_head, limit) {
            return Ok(events);
        }
        let after = clamp_i64(after);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let durable = clamp_i64(durable_head);
        self.readers
            .run(move |conn| {
                let sql = format!(
                    "SELECT {EVENT_COLUMNS} FROM events WHERE position > ?1 AND position <= ?2 \
                     ORDER BY position LIMIT ?3"
                );
                query_events(conn, &sql, params![after, durable, limit])
            })
            .await
    }

    async fn head(&self) -> Result<u64, StoreError> {
        Ok(*self.head.borrow())
    }

    fn subscribe(&self) -> watch::Receiver<u64> {
        SqliteStore::subscribe(self)
    }

    async fn shutdown(&self) {
        SqliteStore::shutdown(self).await;
    }
}

fn clamp_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

// ---------------------------------------------------------------------------------------------
// Connections and schema

/// SQLite's WAL file beside `db`.
/// One of SQLite's companion files of the database `db`: its name plus `suffix` (`-wal`,
/// `-shm`).
pub(crate) fn companion_file(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn open_writer(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = crate::wal_vfs::open(path, flags)
        .map_err(|e| unavailable(&format!("opening {}", path.display()), e))?;
    configure_writer(&conn)?;
    migrate(&conn)?;
    Ok(conn)
}

/// WAL + `synchronous=NORMAL`: `COMMIT` does not wait for the disk; the writer's [`Syncer`]
/// fsyncs the WAL before anything is acknowledged (see the module docs). Do not answer an
/// append from anywhere else: acknowledged appends must survive power loss.
fn configure_writer(conn: &Connection) -> Result<(), StoreError> {
    let setup = || -> rusqlite::Result<String> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // Checkpoints mostly run on their own thread (see `Checkpoints`), not in the commit path.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        // Keep the WAL file from staying large after a burst; above the 66 MB a WAL of the
        // default 16,000 frames takes, so that it is not cut back and grown again every time.
        conn.pragma_update(None, "journal_size_limit", 96 * 1024 * 1024)?;
        conn.set_prepared_statement_cache_capacity(16);
        stable_plans(conn)?;
        Ok(mode)
    };
    let mode = setup().map_err(|e| unavailable("configuring the write connection", e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Unavailable(format!(
            "sqlite could not switch to WAL mode (journal_mode is {mode})"
        )));
    }
    Ok(())
}

/// Creates the schema, or checks that an existing database has a schema this build knows.
fn migrate(conn: &Connection) -> Result<(), StoreError> {
    let run = || -> rusqlite::Result<Result<(), StoreError>> {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        let outcome = match version {
            0 => {
                conn.execute_batch(SCHEMA)?;
                conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
                Ok(())
            }
            SCHEMA_VERSION => Ok(()),
            newer => Err(StoreError::Unavailable(format!(
                "the event database has schema version {newer}; this build knows up to {SCHEMA_VERSION}"
            ))),
        };
        conn.execute_batch(if outcome.is_ok() {
            "COMMIT"
        } else {
            "ROLLBACK"
        })?;
        Ok(outcome)
    };
    match run() {
        Ok(outcome) => outcome,
        Err(e) => {
            rollback(conn);
            Err(unavailable("creating the schema", e))
        }
    }
}

/// Keeps cached statements prepared: without the query-planner stability guarantee, the bundled
/// SQLite re-prepares `WHERE stream = ?1` statements on every new binding (a parse per append).
fn stable_plans(conn: &Connection) -> rusqlite::Result<()> {
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )
    .map(|_| ())
}

fn current_head(conn: &Connection) -> rusqlite::Result<u64> {
    let head: i64 = conn.query_row("SELECT COALESCE(MAX(position), 0) FROM events", [], |row| {
        row.get(0)
    })?;
    Ok(u64::try_from(head).unwrap_or(0))
}

fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = crate::wal_vfs::open(path, flags)
        .map_err(|e| unavailable("opening a read connection", e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .and_then(|()| stable_plans(&conn))
        // Reads are point lookups and short range scans; the OS page cache holds the rest.
        .and_then(|()| conn.pragma_update(None, "cache_size", -READER_CACHE_KIB))
        .map_err(|e| unavailable("configuring a read connection", e))?;
    conn.set_prepared_statement_cache_capacity(8);
    Ok(conn)
}

fn rollback(conn: &Connection) {
    if !conn.is_autocommit() {
        // If even this fails, SQLite has already rolled back or the connection is unusable;
        // the next BEGIN reports it.
        let _ = conn.execute_batch("ROLLBACK");
    }
}

// ---------------------------------------------------------------------------------------------
// Reads

struct ReadPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
}

impl ReadPool {
    /// Runs `query` on an idle read connection (opening one if none is idle) on the blocking
    /// thread pool, at most `read_connections` at a time.
    async fn run<T, F>(self: &Arc<Self>, query: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Unavailable("the read pool is closed".into()))?;
        let pool = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let idle = pool
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            let conn = match idle {
                Some(conn) => conn,
                None => open_reader(&pool.path)?,
            };
            let result = query(&conn);
            pool.idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(conn);
            result
        })
        .await
        .map_err(|e| unavailable("read task", e))?
    }
}

fn query_events(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let run = || -> rusqlite::Result<Vec<RecordedEvent>> {
        let mut statement = conn.prepare_cached(sql)?;
        let rows = statement.query_map(params, event_from_row)?;
        rows.collect()
    };
    run().map_err(|e| unavailable("reading events", e))
}

fn event_from_row(row: &Row<'_>) -> rusqlite::Result<RecordedEvent> {
    let position: i64 = row.get(0)?;
    let stream_version: i64 = row.get(2)?;
    let schema_version: i64 = row.get(4)?;
    let recorded_at: i64 = row.get(6)?;
    Ok(RecordedEvent {
        position: u64::try_from(position)
            .map_err(|_| rusqlite::Error::IntegralValueOutOfRange(0, position))?,
        stream: row.get(1)?,
        stream_version: u64::try_from(stream_version)
            .map_err(|_| rusqlite::Error::IntegralValueOutOfRange(2, stream_version))?,
        event_type: row.get(3)?,
        schema_version: u16::try_from(schema_version)
            .map_err(|_| rusqlite::Error::IntegralValueOutOfRange(4, schema_version))?,
        payload: row.get(5)?,
        recorded_at: Timestamp::from_nanosecond(i128::from(recorded_at)).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(
                6,
                rusqlite::types::Type::Integer,
                Box::new(e),
            )
        })?,
    })
}

// ---------------------------------------------------------------------------------------------
// The writer thread

#[derive(Debug, Clone, Copy)]
struct Batching {
    max_appends: usize,
    max_events: usize,
}

fn event_count(writes: &[StreamWrite]) -> usize {
    writes.iter().map(|w| w.events.len()).sum()
}

/// The writer thread's state.
struct Writer {
    conn: Connection,
    /// Makes committed batches durable, then answers them and moves the head.
    syncer: Syncer,
    checkpoints: Checkpoints,
}

/// A batch being gathered.
struct Gathering {
    appends: Vec<AppendRequest>,
    events: usize,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Gathering {
    fn add(&mut self, message: Message) {
        match message {
            Message::Append(request) => {
                self.events += event_count(&request.writes);
                self.appends.push(request);
            }
            Message::Shutdown(done) => self.shutdown = Some(done),
        }
    }

    /// Adds what is queued, up to the batch limits.
    fn take_queued(&mut self, queue: &mut mpsc::Receiver<Message>, batching: Batching) {
        while self.shutdown.is_none()
            && self.appends.len() < batching.max_appends
            && self.events < batching.max_events
        {
            match queue.try_recv() {
                Ok(message) => self.add(message),
                Err(_) => break,
            }
        }
    }
}

fn run_writer(mut writer: Writer, mut queue: mpsc::Receiver<Message>, batching: Batching) {
    let mut batch = Gathering {
        appends: Vec::with_capacity(batching.max_appends.min(1024)),
        events: 0,
        shutdown: None,
    };
    while batch.shutdown.is_none() {
        let Some(first) = queue.blocking_recv() else {
            break; // every store handle is gone
        };
        batch.events = 0;
        batch.add(first);
        // One commit per fsync (see the module docs): what arrived while the previous batch
        // was being synced joins this one.
        batch.take_queued(&mut queue, batching);
        if !batch.appends.is_empty() {
            commit_batch(&mut writer, &mut batch.appends);
        }
    }
    let shutdown = batch.shutdown;
    // Refuse what is still queued (the callers get `Unavailable`), then close.
    queue.close();
    while let Ok(message) = queue.try_recv() {
        match message {
            Message::Append(request) => {
                let _ = request.reply.send(Err(StoreError::Unavailable(
                    "the event store is shut down".into(),
                )));
            }
            Message::Shutdown(done) => {
                let _ = done.send(());
            }
        }
    }
    // Everything committed was answered (after its fsync) when it was committed.
    let Writer {
        conn,
        syncer,
        mut checkpoints,
    } = writer;
    drop(syncer);
    let checkpointer_db = checkpoints.stop();
    if let Err((_, e)) = conn.close() {
        tracing::warn!(error = %e, "closing the event store write connection failed");
    }
    drop(checkpointer_db);
    if let Some(done) = shutdown {
        let _ = done.send(());
    }
}

/// Commits `batch` in one transaction and answers every request (draining `batch`).
fn commit_batch(writer: &mut Writer, batch: &mut Vec<AppendRequest>) {
    let started = std::time::Instant::now();
    let committed = run_batch(&writer.conn, batch);
    metrics::histogram!(COMMIT_DURATION).record(started.elapsed());
    #[allow(clippy::cast_precision_loss)] // a batch holds at most a few thousand appends
    metrics::histogram!(BATCH_APPENDS).record(batch.len() as f64);
    match committed {
        Ok((results, new_head)) => {
            writer.syncer.sync_and_answer(Committed {
                replies: batch
                    .drain(..)
                    .map(|request| request.reply)
                    .zip(results)
                    .collect(),
                head: new_head,
            });
            writer.checkpoints.after_commit(&writer.conn);
        }
        Err(error) => {
            tracing::error!(%error, appends = batch.len(), "event store batch failed");
            for request in batch.drain(..) {
                let _ = request.reply.send(Err(error.clone()));
            }
        }
    }
}

type BatchOutcome = (Vec<Result<Vec<RecordedEvent>, StoreError>>, Option<u64>);

fn run_batch(conn: &Connection, batch: &mut [AppendRequest]) -> Result<BatchOutcome, StoreError> {
    run(conn, "BEGIN IMMEDIATE").map_err(|e| unavailable("beginning a transaction", e))?;
    let outcome = apply_batch(conn, batch).and_then(|outcome| {
        if conn.is_autocommit() {
            // SQLite rolled the transaction back by itself (e.g. disk full).
            return Err(StoreError::Unavailable(
                "sqlite rolled the transaction back".into(),
            ));
        }
        run(conn, "COMMIT").map_err(|e| unavailable("committing", e))?;
        Ok(outcome)
    });
    if outcome.is_err() {
        rollback(conn);
    }
    outcome
}

fn apply_batch(conn: &Connection, batch: &mut [AppendRequest]) -> Result<BatchOutcome, StoreError> {
    let db = |e| unavailable("appending", e);
    // Read from the database, not from memory: always right, even after a failed commit.
    let head_before: i64 = conn
        .prepare_cached("SELECT COALESCE(MAX(position), 0) FROM events")
        .and_then(|mut statement| statement.query_row([], |row| row.get(0)))
        .map_err(db)?;
    let newest: Option<i64> = conn
        .prepare_cached("SELECT recorded_at FROM events ORDER BY position DESC LIMIT 1")
        .and_then(|mut statement| statement.query_row([], |row| row.get(0)).optional())
        .map_err(db)?;
    let now = i64::try_from(Timestamp::now().as_nanosecond()).unwrap_or(i64::MAX);
    let recorded_at_nanos = newest.map_or(now, |newest| newest.max(now));
    let recorded_at = Timestamp::from_nanosecond(i128::from(recorded_at_nanos))
        .map_err(|e| unavailable("commit time", e))?;
    let stamp = Stamp {
        nanos: recorded_at_nanos,
        at: recorded_at,
    };

    let mut next = head_before.saturating_add(1);
    let mut results = Vec::with_capacity(batch.len());
    for request in batch.iter_mut() {
        let writes = std::mem::take(&mut request.writes);
        // Every expectation is checked before anything is written, so a refused request leaves
        // nothing to undo; a failed insert fails the whole batch (nothing of it is answered yet).
        match check_request(conn, &writes) {
            Ok(versions) => results.push(Ok(insert_request(
                conn, writes, &versions, &mut next, stamp,
            )?)),
            Err(error) => results.push(Err(error)),
        }
        if conn.is_autocommit() {
            return Err(StoreError::Unavailable(
                "sqlite rolled the transaction back".into(),
            ));
        }
    }
    let head_after = next.saturating_sub(1);
    let new_head = (head_after > head_before).then(|| u64::try_from(head_after).unwrap_or(0));
    Ok((results, new_head))
}

/// Runs one parameterless statement, prepared once per connection.
fn run(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

#[derive(Debug, Clone, Copy)]
struct Stamp {
    nanos: i64,
    at: Timestamp,
}

/// Checks each expectation of one append (seeing the earlier appends of the batch, and the
/// earlier writes of the same append to the same stream) and returns each write's version
/// before its events.
fn check_request(conn: &Connection, writes: &[StreamWrite]) -> Result<Vec<i64>, StoreError> {
    let db = |e| unavailable("appending", e);
    let mut version_of = conn
        .prepare_cached(
            "SELECT stream_version FROM events WHERE stream = ?1 \
             ORDER BY stream_version DESC LIMIT 1",
        )
        .map_err(db)?;
    let mut versions: Vec<i64> = Vec::with_capacity(writes.len());
    for (i, write) in writes.iter().enumerate() {
        let earlier = writes[..i]
            .iter()
            .zip(&versions)
            .rev()
            .find(|(earlier, _)| earlier.stream == write.stream)
            .map(|(earlier, version)| version.saturating_add(events_in(earlier)));
        let actual = match earlier {
            Some(version) => version,
            None => version_of
                .query_row([&write.stream], |row| row.get(0))
                .optional()
                .map_err(db)?
                .unwrap_or(0),
        };
        if i64::try_from(write.expected_version).ok() != Some(actual) {
            return Err(StoreError::Conflict {
                stream: write.stream.clone(),
                expected: write.expected_version,
                actual: u64::try_from(actual).unwrap_or(0),
            });
        }
        versions.push(actual);
    }
    Ok(versions)
}

fn events_in(write: &StreamWrite) -> i64 {
    i64::try_from(write.events.len()).unwrap_or(i64::MAX)
}

/// Inserts the events of one checked append at positions `next..`; `versions` are what
/// [`check_request`] returned for `writes`.
fn insert_request(
    conn: &Connection,
    writes: Vec<StreamWrite>,
    versions: &[i64],
    next: &mut i64,
    stamp: Stamp,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let db = |e| unavailable("appending", e);
    let mut recorded = Vec::with_capacity(event_count(&writes));
    let mut insert = conn
        .prepare_cached(
            "INSERT INTO events \
             (position, stream, stream_version, event_type, schema_version, payload, recorded_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .map_err(db)?;
    for (write, &before) in writes.into_iter().zip(versions) {
        let mut version = before;
        for NewEvent {
            event_type,
            schema_version,
            payload,
        } in write.events
        {
            version = version.saturating_add(1);
            let position = *next;
            insert
                .execute(params![
                    position,
                    write.stream,
                    version,
                    event_type,
                    i64::from(schema_version),
                    payload,
                    stamp.nanos
                ])
                .map_err(db)?;
            *next = next.saturating_add(1);
            recorded.push(RecordedEvent {
                position: u64::try_from(position).unwrap_or(0),
                stream: write.stream.clone(),
                stream_version: u64::try_from(version).unwrap_or(0),
                event_type,
                schema_version,
                payload,
                recorded_at: stamp.at,
            });
        }
    }
    Ok(recorded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_write_connection_leaves_commit_fsyncs_to_the_syncer() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_writer(&dir.path().join(DATABASE_FILE)).unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        let synchronous: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(
            synchronous, 1,
            "NORMAL: the syncer fsyncs the WAL before any append is answered"
        );
    }

    fn request(writes: Vec<StreamWrite>) -> AppendRequest {
        let (reply, _) = oneshot::channel();
        AppendRequest { writes, reply }
    }

    fn write(stream: &str, expected_version: u64, events: usize) -> StreamWrite {
        StreamWrite {
            stream: stream.into(),
            expected_version,
            events: (0..events)
                .map(|_| NewEvent {
                    event_type: "noted".into(),
                    schema_version: 1,
                    payload: "{}".into(),
                })
                .collect(),
        }
    }

    #[test]
    fn a_refused_append_writes_nothing_and_the_rest_of_its_batch_commits() {
        // Given a stream at version 1
        let dir = tempfile::tempdir().unwrap();
        let conn = open_writer(&dir.path().join(DATABASE_FILE)).unwrap();
        run_batch(&conn, &mut [request(vec![write("a", 0, 1)])]).unwrap();
        // When one batch holds an append, a stale one (a new stream first, then a conflict), and
        // one that writes a stream twice
        let mut batch = [
            request(vec![write("a", 1, 1)]),
            request(vec![write("b", 0, 2), write("a", 1, 1)]),
            request(vec![write("c", 0, 1), write("c", 1, 2)]),
        ];
        let (results, head) = run_batch(&conn, &mut batch).unwrap();
        // Then the stale append is refused whole, and the others take gap-free positions
        assert!(matches!(
            &results[1],
            Err(StoreError::Conflict { stream, expected: 1, actual: 2 }) if stream == "a"
        ));
        let positions = |i: usize| -> Vec<(u64, String, u64)> {
            results[i]
                .as_ref()
                .unwrap()
                .iter()
                .map(|e| (e.position, e.stream.clone(), e.stream_version))
                .collect()
        };
        assert_eq!(positions(0), [(2, "a".into(), 2)]);
        assert_eq!(
            positions(2),
            [(3, "c".into(), 1), (4, "c".into(), 2), (5, "c".into(), 3)]
        );
        assert_eq!(head, Some(5));
        let b_events: i64 = conn
            .query_row("SELECT COUNT(*) FROM events WHERE stream = 'b'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(b_events, 0);
    }

    #[test]
    fn opening_twice_keeps_the_schema_and_a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DATABASE_FILE);
        drop(open_writer(&path).unwrap());
        let conn = open_writer(&path).unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(conn);
        match open_writer(&path) {
            Err(StoreError::Unavailable(detail)) => assert!(detail.contains("schema version")),
            other => panic!("expected a schema error, got {other:?}"),
        }
    }
}
