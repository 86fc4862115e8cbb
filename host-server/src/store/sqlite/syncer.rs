//! The syncer thread: makes committed batches durable, then answers them.
//!
//! The writer commits a batch with `synchronous=NORMAL` (the frames are in the WAL file, not yet
//! on disk) and hands its replies here. This thread takes every batch waiting, fsyncs the WAL
//! file once for all of them, and only then sends the replies and moves the head position that
//! readers stop at. Meanwhile the writer gathers the next batch, and commits it as soon as this
//! thread is done ([`Syncer::wait_while_syncing`]). Before the head moves, the batches' events
//! are also kept in the store's tail of recent events (`recent`), for `read_all`.
//!
//! If an fsync fails, the batches it covered are answered with an error, as if the reply had been
//! lost: their events may still reach the disk with a later fsync (which covers them too), so a
//! client retries with its own reservation id or `Idempotency-Key` to be safe. The head moves
//! only after an fsync succeeds.

use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, PoisonError, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::{oneshot, watch};

use super::recent::RecentEvents;
use super::unavailable;
use crate::store::{RecordedEvent, StoreError};

type Reply = oneshot::Sender<Result<Vec<RecordedEvent>, StoreError>>;

/// A batch that is committed but not yet known to be on disk.
pub(super) struct Committed {
    pub replies: Vec<(Reply, Result<Vec<RecordedEvent>, StoreError>)>,
    /// The head after the batch, if it stored events.
    pub head: Option<u64>,
}

pub(super) struct Syncer {
    batches: Option<mpsc::Sender<Committed>>,
    thread: Option<JoinHandle<()>>,
    busy: Arc<Busy>,
}

/// Whether a submitted batch waits for its fsync: set by [`Syncer::submit`], cleared (and
/// waiters woken) each time the thread has synced and answered what it took.
#[derive(Default)]
struct Busy {
    syncing: Mutex<bool>,
    done: Condvar,
}

impl Busy {
    fn set(&self, syncing: bool) {
        *self.syncing.lock().unwrap_or_else(PoisonError::into_inner) = syncing;
        if !syncing {
            self.done.notify_all();
        }
    }
}

impl Syncer {
    /// Starts the thread. `head` is published only for durable positions.
    /// Durable events are also copied to `recent`.
    pub fn start(
        wal: &Path,
        head: watch::Sender<u64>,
        recent: Arc<RecentEvents>,
    ) -> Result<Syncer, StoreError> {
        let wal_file = WalFile::open(wal)?;
        let (batches, queue) = mpsc::channel();
        let busy = Arc::new(Busy::default());
        let signal = Arc::clone(&busy);
        let thread = std::thread::Builder::new()
            .name("event-store-sync".into())
            .spawn(move || run(wal_file, queue, head, &recent, &signal))
            .map_err(|e| unavailable("starting the sync thread", e))?;
        Ok(Syncer {
            batches: Some(batches),
            thread: Some(thread),
            busy,
        })
    }

    /// Blocks while a submitted batch waits for its fsync, at most `limit`. A commit made
    /// meanwhile would miss that fsync anyway; made after it, it gathers every append that
    /// arrived during the fsync into one transaction.
    pub fn wait_while_syncing(&self, limit: Duration) {
        let syncing = self
            .busy
            .syncing
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let _idle = self
            .busy
            .done
            .wait_timeout_while(syncing, limit, |syncing| *syncing)
            .unwrap_or_else(PoisonError::into_inner);
    }

    /// Queues a committed batch; its appenders are answered once it is on disk.
    pub fn submit(&self, batch: Committed) {
        self.busy.set(true);
        let refused = match &self.batches {
            Some(batches) => batches.send(batch).err().map(|e| e.0),
            None => Some(batch),
        };
        if let Some(batch) = refused {
            // The thread is gone (it cannot panic, but be safe): nothing may be acknowledged.
            fail(
                batch,
                &StoreError::Unavailable("the event store sync thread stopped".into()),
            );
        }
    }

    /// Syncs and answers everything submitted, then stops the thread.
    pub fn stop(mut self) {
        self.batches = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The WAL file, reopened if SQLite replaced it (it only deletes the WAL when its last
/// connection closes, but an fsync of a deleted file would silently make nothing durable).
struct WalFile {
    path: PathBuf,
    file: File,
}

impl WalFile {
    fn open(path: &Path) -> Result<WalFile, StoreError> {
        let file = File::open(path)
            .map_err(|e| unavailable(&format!("opening {} to sync it", path.display()), e))?;
        Ok(WalFile {
            path: path.to_owned(),
            file,
        })
    }

    fn sync(&mut self) -> std::io::Result<()> {
        let current = std::fs::metadata(&self.path)?;
        let ours = self.file.metadata()?;
        if current.ino() != ours.ino() || current.dev() != ours.dev() {
            self.file = File::open(&self.path)?;
        }
        self.file.sync_data()
    }
}

fn run(
    mut wal: WalFile,
    queue: mpsc::Receiver<Committed>,
    head: watch::Sender<u64>,
    recent: &RecentEvents,
    busy: &Busy,
) {
    let mut waiting = Vec::new();
    while let Ok(first) = queue.recv() {
        waiting.push(first);
        waiting.extend(queue.try_iter());
        let started = std::time::Instant::now();
        let synced = wal.sync();
        metrics::histogram!(super::SYNC_DURATION).record(started.elapsed());
        match synced {
            Ok(()) => {
                // Before the head moves: a reader that sees the new head finds them here.
                recent.extend(
                    waiting
                        .iter()
                        .flat_map(|batch| &batch.replies)
                        .filter_map(|(_, result)| result.as_ref().ok())
                        .flatten(),
                );
                let newest = waiting.iter().filter_map(|b| b.head).max();
                if let Some(newest) = newest {
                    head.send_if_modified(|current| {
                        let moved = newest > *current;
                        if moved {
                            *current = newest;
                        }
                        moved
                    });
                }
                for batch in waiting.drain(..) {
                    for (reply, result) in batch.replies {
                        let _ = reply.send(result);
                    }
                }
            }
            Err(error) => {
                tracing::error!(%error, batches = waiting.len(), "fsync of the event store WAL failed");
                let error = unavailable("syncing the WAL", error);
                for batch in waiting.drain(..) {
                    fail(batch, &error);
                }
            }
        }
        busy.set(false);
    }
    busy.set(false);
}

fn fail(batch: Committed, error: &StoreError) {
    for (reply, result) in batch.replies {
        let _ = reply.send(result.and(Err(error.clone())));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(
        head: Option<u64>,
    ) -> (
        Committed,
        oneshot::Receiver<Result<Vec<RecordedEvent>, StoreError>>,
    ) {
        let (reply, answer) = oneshot::channel();
        (
            Committed {
                replies: vec![(reply, Ok(Vec::new()))],
                head,
            },
            answer,
        )
    }

    /// A syncer on a fresh WAL file: the directory (keep it alive), the file, the syncer and
    /// the head it moves.
    fn started() -> (tempfile::TempDir, PathBuf, Syncer, watch::Receiver<u64>) {
        let dir = tempfile::tempdir().unwrap();
        let wal = dir.path().join("events.db-wal");
        std::fs::write(&wal, b"frames").unwrap();
        let (head, heads) = watch::channel(0);
        let syncer = Syncer::start(&wal, head, Arc::default()).unwrap();
        (dir, wal, syncer, heads)
    }

    #[test]
    fn batches_are_answered_and_the_head_moves_after_the_sync() {
        let (_dir, _wal, syncer, mut heads) = started();
        let (first, first_answer) = batch(Some(3));
        let (second, second_answer) = batch(None);
        syncer.submit(first);
        syncer.submit(second);
        syncer.stop();
        assert!(first_answer.blocking_recv().unwrap().is_ok());
        assert!(second_answer.blocking_recv().unwrap().is_ok());
        assert_eq!(*heads.borrow_and_update(), 3);
    }

    #[test]
    fn the_writer_waits_for_the_fsync_in_flight_and_no_longer() {
        let (_dir, _wal, syncer, _heads) = started();
        let idle = std::time::Instant::now();
        syncer.wait_while_syncing(Duration::from_secs(5));
        assert!(
            idle.elapsed() < Duration::from_secs(1),
            "nothing to wait for"
        );
        for _ in 0..20 {
            let (committed, mut answer) = batch(Some(1));
            syncer.submit(committed);
            syncer.wait_while_syncing(Duration::from_secs(5));
            assert!(
                answer.try_recv().is_ok(),
                "the wait ended before the batch was synced and answered"
            );
        }
        syncer.stop();
    }

    #[test]
    fn a_replaced_wal_file_is_reopened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.db-wal");
        std::fs::write(&path, b"old").unwrap();
        let mut wal = WalFile::open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, b"new").unwrap();
        wal.sync().unwrap();
        let reopened = wal.file.metadata().unwrap().ino();
        assert_eq!(reopened, std::fs::metadata(&path).unwrap().ino());
    }

    #[test]
    fn a_missing_wal_file_fails_the_batch_instead_of_acknowledging_it() {
        let (_dir, path, syncer, heads) = started();
        std::fs::remove_file(&path).unwrap();
        let (committed, answer) = batch(Some(7));
        syncer.submit(committed);
        syncer.stop();
        assert!(matches!(
            answer.blocking_recv().unwrap(),
            Err(StoreError::Unavailable(_))
        ));
        assert_eq!(
            *heads.borrow(),
            0,
            "the head only moves after a successful sync"
        );
    }
}
