//! The read database: tables, pragmas, and the projection's schema version.
//!
//! Everything here can be dropped and rebuilt from the event log, so the database trades
//! durability for speed: `synchronous=OFF` in WAL mode where the OS gives a boot id (a power cut
//! may tear the file; it is then rebuilt, see `boot_marker`), else `synchronous=NORMAL` (a power
//! cut may lose the newest transactions, never corrupt the file). Either way the checkpoint is
//! written in the same transaction as the data it covers.

use rusqlite::{Connection, OptionalExtension, params};

/// Bump when the tables or what is stored in them change: a database written by another
/// schema version is reset on open, and the next catch-up replays the log into it.
pub(crate) const SCHEMA_VERSION: i64 = 4;

const TABLES: &str = "
CREATE TABLE IF NOT EXISTS restaurants (
    id TEXT PRIMARY KEY,
    -- the core's Restaurant, as JSON
    config TEXT NOT NULL
) WITHOUT ROWID;

-- Without a rowid: one B-tree keyed by id instead of a table and an index on id (the server's
-- ids are time-ordered, so new rows go to the right edge). 4 % less CPU per booking under load.
-- No other index: the listings find their rows through the hint tables below (`hints.rs`).
CREATE TABLE IF NOT EXISTS reservations (
    id TEXT PRIMARY KEY,
    restaurant_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    -- the service date, YYYY-MM-DD
    date TEXT NOT NULL,
    -- minutes since 1970-01-01T00:00 (civil) of the assigned start, or of the requested time
    -- when there is none (rejected)
    sort_key INTEGER NOT NULL,
    status TEXT NOT NULL,
    -- the core's Reservation (with its history), as JSON
    state TEXT NOT NULL
) WITHOUT ROWID;

-- Hints not merged yet, in the order they were recorded: a reservation opened on a day, or
-- moved to one. Appended at the right edge; merged into the two tables below in key order.
CREATE TABLE IF NOT EXISTS hint_log (
    seq INTEGER PRIMARY KEY,
    restaurant_id TEXT NOT NULL,
    date TEXT NOT NULL,
    user_id TEXT NOT NULL,
    reservation_id TEXT NOT NULL
);

-- Every (restaurant, service date) a reservation ever belonged to: the day listings' index and
-- the as-of queries' (the reservations' current rows say which day each is on now).
CREATE TABLE IF NOT EXISTS day_hints (
    restaurant_id TEXT NOT NULL,
    date TEXT NOT NULL,
    reservation_id TEXT NOT NULL,
    PRIMARY KEY (restaurant_id, date, reservation_id)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS user_hints (
    user_id TEXT NOT NULL,
    reservation_id TEXT NOT NULL,
    PRIMARY KEY (user_id, reservation_id)
) WITHOUT ROWID;

-- Reservations per restaurant and status, maintained by the projection.
CREATE TABLE IF NOT EXISTS restaurant_counts (
    restaurant_id TEXT NOT NULL,
    status TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (restaurant_id, status)
) WITHOUT ROWID;
";

const DROP: &str = "
DROP TABLE IF EXISTS restaurants;
DROP TABLE IF EXISTS reservations;
DROP TABLE IF EXISTS reservation_days;
DROP TABLE IF EXISTS reservation_moves;
DROP TABLE IF EXISTS hint_log;
DROP TABLE IF EXISTS day_hints;
DROP TABLE IF EXISTS user_hints;
DROP TABLE IF EXISTS restaurant_counts;
";

/// Page cache of the connection that applies events: the pages a batch dirties stay in memory
/// (a bigger batch spills to the WAL early, which is correct, only slower). A live batch (10 ms
/// of bookings) dirties about 1 MiB. 8 MiB applied a replay 1.10× as fast but held 7 MiB more
/// of the server's RSS under load.
pub(crate) const WRITER_CACHE_KIB: i64 = 2 * 1024;
/// Page cache of each reader connection (lookups by key; the OS page cache holds the rest).
pub(crate) const READER_CACHE_KIB: i64 = 512;

/// How the writing connection syncs (readers never write, so theirs does not matter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Durability {
    /// No fsync at all: only with a boot marker that rebuilds a torn database.
    Off,
    Normal,
}

/// Pragmas for every connection, with a page cache of `cache_kib` KiB (the server's memory
/// budget is small: keep these modest).
pub(crate) fn configure(
    conn: &Connection,
    cache_kib: i64,
    durability: Durability,
) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    let synchronous = match durability {
        Durability::Off => "OFF",
        Durability::Normal => "NORMAL",
    };
    conn.pragma_update(None, "synchronous", synchronous)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // Negative: a size in KiB rather than in pages.
    conn.pragma_update(None, "cache_size", -cache_kib)?;
    // Checkpoint the WAL into the database every 16,000 pages (64 MiB). Each booking rewrote a
    // random leaf of the day and user listings (now each hint merge rewrites thousands of
    // them); a checkpoint copies a page once however often the WAL rewrote it, so a larger WAL
    // copies fewer pages per booking. Measured before the hint log: 1.07x the bookings
    // per second of 2,000 pages at 64 connections (6 rounds), a p99 about 0.5 ms lower, for
    // 2-3 MiB more peak RSS. (In an early build, 32 MiB at a time held the event store's WAL
    // fsyncs up for 70 ms; this one's p99 did not rise: `host-server/PERFORMANCE.md`, 1 and 10.)
    conn.pragma_update(None, "wal_autocheckpoint", 16_000)?;
    // Above the 66 MB such a WAL takes, so that it is not cut back and grown again each time.
    conn.pragma_update(None, "journal_size_limit", 96 * 1024 * 1024)?;
    conn.set_prepared_statement_cache_capacity(32);
    Ok(())
}

/// Creates the tables if missing, resets them if they were written by another schema version,
/// and returns the checkpoint.
pub(crate) fn migrate(conn: &mut Connection) -> rusqlite::Result<u64> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;",
    )?;
    let version: Option<i64> = tx
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |row| row.get(0),
        )
        .optional()?;
    if version != Some(SCHEMA_VERSION) {
        if let Some(old) = version {
            tracing::warn!(
                old,
                new = SCHEMA_VERSION,
                "read-model schema changed: resetting; the log will be replayed"
            );
        }
        reset_in(&tx)?;
    } else {
        tx.execute_batch(TABLES)?;
    }
    let checkpoint = read_checkpoint(&tx)?;
    tx.commit()?;
    Ok(checkpoint)
}

/// Drops every read model and sets the checkpoint to 0, in one transaction.
pub(crate) fn reset(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    reset_in(&tx)?;
    tx.commit()
}

fn reset_in(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(DROP)?;
    tx.execute_batch(TABLES)?;
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![SCHEMA_VERSION],
    )?;
    write_checkpoint(tx, 0)
}

pub(crate) fn read_checkpoint(conn: &Connection) -> rusqlite::Result<u64> {
    let value: Option<i64> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'checkpoint'",
            [],
            |row| row.get(0),
        )
        .optional()?;
    Ok(value.and_then(|v| u64::try_from(v).ok()).unwrap_or(0))
}

pub(crate) fn write_checkpoint(conn: &Connection, position: u64) -> rusqlite::Result<()> {
    let value = i64::try_from(position)
        .map_err(|_| rusqlite::Error::IntegralValueOutOfRange(0, i64::MAX))?;
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES ('checkpoint', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![value])?;
    Ok(())
}
