//! Checkpoints of the event store's WAL, kept off the commit path.
//!
//! SQLite's automatic checkpoint would copy the whole WAL into the database file and fsync it
//! inside a `COMMIT`, delaying every append of that batch. Here a checkpointer thread copies the
//! WAL beside the writer, and the writer only finishes the last few frames between batches, so
//! the WAL starts over every [`SqliteOptions::checkpoint_frames`] frames without a long stall.
//! (A passive checkpoint on another connection rarely catches up with a busy writer, so without
//! the writer's finishing pass the WAL would grow without bound.)
//!
//! # Why in steps, each synced
//! A passive checkpoint that does not reach the end of the WAL (the writer keeps appending)
//! copies its pages into the database file but does not fsync it: SQLite syncs the database only
//! when a checkpoint completes. So with one bulk pass per WAL generation, the writer's finishing
//! pass inherited the fsync of all 2,000 pages the bulk pass had copied, 6–25 ms during which
//! no append was committed, about seven times a second at 64 connections (a trace of every
//! booking's completion lined up its gaps with those passes). Now the checkpointer copies every
//! [`SqliteOptions::checkpoint_step_frames`] frames and fsyncs the database file itself after
//! each step, so that of the checkpoints' page writes a WAL fsync queues behind one step's at
//! most. Before the WAL starts over it repeats short passes until few frames are left,
//! so the writer's finishing pass copies and syncs only those. (By default the WAL is now large
//! enough, 16,000 frames, that one pass per WAL generation does best: see
//! [`SqliteOptions::checkpoint_step_frames`].)
//!
//! # The descriptor used for the fsync
//! The checkpointer fsyncs the database through its own file descriptor, opened once. Closing
//! any descriptor of a file drops every POSIX lock the process holds on it, SQLite's included,
//! so it is never reopened per pass: the writer closes it after its own connection (see
//! [`Checkpoints::stop`]).

use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::Instant;

use rusqlite::{Connection, OpenFlags};

use super::{BUSY_TIMEOUT, SqliteOptions, unavailable};
use crate::store::StoreError;

/// Histogram, labelled `pass`: how long a checkpoint pass took. `step` and `restart` are the
/// checkpointer's (copy and fsync, beside the writer); `finish` is the writer's, during which
/// no batch commits.
pub const CHECKPOINT_DURATION: &str = "reservation_event_store_checkpoint_seconds";

/// Before the WAL starts over, the checkpointer repeats passes until at most this many frames
/// are left for the writer's finishing pass (or [`RESTART_PASSES`] passes are done).
const FINISH_FRAMES: usize = 64;
/// Most passes the checkpointer makes before a restart; under a steady stream of appends each
/// pass leaves fewer frames behind, so more rarely help.
const RESTART_PASSES: usize = 3;

/// What the writer asks the checkpointer for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// Copy what the WAL holds and sync the database file.
    Step,
    /// The same, repeated until the writer's finishing pass is short; then the writer completes
    /// the checkpoint and its next transaction starts the WAL over.
    Restart,
}

/// The writer's side: decides when a pass is due, and finishes the checkpoint before a restart.
pub(super) struct Checkpoints {
    /// Wakes the checkpointer; dropped to stop it.
    wake: Option<SyncSender<Pass>>,
    thread: Option<JoinHandle<File>>,
    /// Set by the checkpointer when a pass is done.
    pass_done: Arc<AtomicBool>,
    /// Frames in the WAL after the last commit (from SQLite's WAL hook).
    wal_frames: Arc<AtomicUsize>,
    /// The pass asked for and not finished yet.
    requested: Option<Pass>,
    /// WAL frames when the last step was asked for (0 after a restart).
    stepped_at: usize,
    /// [`SqliteOptions::checkpoint_step_frames`].
    step: usize,
    /// [`SqliteOptions::checkpoint_frames`].
    restart_at: usize,
}

impl Checkpoints {
    /// Opens the checkpointer's connection and database descriptor and starts its thread.
    pub(super) fn start(
        path: &Path,
        wal_frames: Arc<AtomicUsize>,
        options: &SqliteOptions,
    ) -> Result<Self, StoreError> {
        let conn = open_checkpointer(path)?;
        let db = File::open(path)
            .map_err(|e| unavailable("opening the database for the checkpointer", e))?;
        let (wake, passes) = std::sync::mpsc::sync_channel(1);
        let pass_done = Arc::new(AtomicBool::new(false));
        let thread = {
            let (done, frames) = (Arc::clone(&pass_done), Arc::clone(&wal_frames));
            std::thread::Builder::new()
                .name("event-store-checkpointer".into())
                .spawn(move || run_checkpointer(conn, db, &passes, &done, &frames))
                .map_err(|e| unavailable("starting the checkpoint thread", e))?
        };
        Ok(Checkpoints {
            wake: Some(wake),
            thread: Some(thread),
            pass_done,
            wal_frames,
            requested: None,
            stepped_at: 0,
            step: options.checkpoint_step_frames.max(1),
            restart_at: options.checkpoint_frames.max(1),
        })
    }

    /// After a commit and its hand-off to the syncer.
    pub(super) fn after_commit(&mut self, conn: &Connection) {
        let frames = self.wal_frames.load(Ordering::Relaxed);
        if frames < self.stepped_at {
            // The WAL started over (a pass that happened to complete the checkpoint).
            self.stepped_at = 0;
        }
        if self.pass_done.swap(false, Ordering::Acquire) {
            if self.requested.take() == Some(Pass::Restart) {
                timed("finish", || {
                    checkpoint(conn, "finish");
                });
                self.stepped_at = 0;
            }
        } else if self.requested.is_none() {
            let pass = if frames >= self.restart_at {
                Pass::Restart
            } else if frames >= self.stepped_at.saturating_add(self.step) {
                Pass::Step
            } else {
                return;
            };
            self.requested = Some(pass);
            self.stepped_at = frames;
            let woken = self.wake.as_ref().map(|wake| wake.try_send(pass));
            if let Some(Err(TrySendError::Disconnected(_))) | None = woken {
                // No checkpointer (it cannot panic, but be safe): do it all here.
                self.requested = None;
                checkpoint(conn, "writer");
            }
        }
    }

    /// Stops the checkpointer thread and waits for it. Returns its database descriptor, for the
    /// writer to close after its own connection (closing it drops the process's locks on the
    /// file).
    pub(super) fn stop(&mut self) -> Option<File> {
        self.wake = None;
        self.thread.take().and_then(|thread| thread.join().ok())
    }
}

/// A connection for the checkpointer thread: copies committed WAL frames into the database
/// file beside the writer (fsyncing the WAL first, as `synchronous=FULL` demands).
fn open_checkpointer(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = crate::wal_vfs::open(path, flags)
        .map_err(|e| unavailable("opening the checkpoint connection", e))?;
    let setup = || -> rusqlite::Result<()> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "wal_autocheckpoint", 0)
    };
    setup().map_err(|e| unavailable("configuring the checkpoint connection", e))?;
    Ok(conn)
}

/// Runs the passes the writer asks for, then tells it, until the writer hangs up. Returns the
/// database descriptor (see [`Checkpoints::stop`]).
fn run_checkpointer(
    conn: Connection,
    db: File,
    passes: &Receiver<Pass>,
    done: &AtomicBool,
    wal_frames: &AtomicUsize,
) -> File {
    while let Ok(pass) = passes.recv() {
        let (label, rounds) = match pass {
            Pass::Step => ("step", 1),
            Pass::Restart => ("restart", RESTART_PASSES),
        };
        timed(label, || {
            for _ in 0..rounds {
                let copied = checkpoint(&conn, label);
                if let Err(error) = db.sync_data() {
                    tracing::warn!(%error, "fsync of the event database after a checkpoint failed");
                }
                // A failed pass (`None`) is not repeated: the next request tries again.
                let left = copied.map_or(0, |copied| {
                    wal_frames.load(Ordering::Relaxed).saturating_sub(copied)
                });
                if left <= FINISH_FRAMES {
                    break;
                }
            }
        });
        done.store(true, Ordering::Release);
    }
    if let Err((_, error)) = conn.close() {
        tracing::warn!(%error, "closing the event store checkpoint connection failed");
    }
    db
}

fn timed(pass: &'static str, work: impl FnOnce()) {
    let started = Instant::now();
    work();
    metrics::histogram!(CHECKPOINT_DURATION, "pass" => pass).record(started.elapsed());
}

/// A passive checkpoint: copies the committed WAL frames no reader still needs into the
/// database file. Returns how many frames of the WAL are now in the database file. Failures are
/// logged; the WAL just stays longer.
fn checkpoint(conn: &Connection, which: &str) -> Option<usize> {
    let result = conn
        .prepare_cached("PRAGMA wal_checkpoint(PASSIVE)")
        .and_then(|mut statement| {
            statement.query_row([], |row| Ok((row.get::<_, i64>(1)?, row.get::<_, i64>(2)?)))
        });
    match result {
        Ok((frames, checkpointed)) => {
            tracing::debug!(which, frames, checkpointed, "event store checkpoint");
            usize::try_from(checkpointed).ok()
        }
        Err(error) => {
            tracing::warn!(which, %error, "event store checkpoint failed");
            None
        }
    }
}
