//! Making committed batches durable, then answering them.
//!
//! The writer commits a batch with `synchronous=NORMAL` (the frames are in the WAL file, not yet
//! on disk) and then calls [`Syncer::sync_and_answer`]: one fsync of the WAL file, and only then
//! the replies, and the head position that readers stop at moves. Before the head moves, the
//! batch's events are also kept in the store's tail of recent events (`recent`), for `read_all`.
//! Appends that arrive meanwhile queue up and go into the writer's next batch, so each commit
//! gets one fsync.
//!
//! This ran on a thread of its own, which let a commit overlap the fsync before it. Once the
//! writer waited for the fsync anyway (one commit per fsync), the thread only cost two
//! wake-ups per batch (the batch handed over, the writer told it was synced) on busy cores:
//! run on the writer, 1.06× the bookings per second at 64 connections (`PERFORMANCE.md`,
//! section 13).
//!
//! If an fsync fails, the batch is answered with an error, as if the reply had been lost: its
//! events may still reach the disk with a later fsync (which covers them too), so a client
//! retries with its own reservation id or `Idempotency-Key` to be safe. The head moves only
//! after an fsync succeeds.

use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
    wal: WalFile,
    head: watch::Sender<u64>,
    recent: Arc<RecentEvents>,
}

impl Syncer {
    /// `head` is published only for durable positions; durable events are also copied to
    /// `recent`.
    pub fn open(
        wal: &Path,
        head: watch::Sender<u64>,
        recent: Arc<RecentEvents>,
    ) -> Result<Syncer, StoreError> {
        Ok(Syncer {
            wal: WalFile::open(wal)?,
            head,
            recent,
        })
    }

    /// Makes a committed batch durable, then answers its appenders and moves the head.
    pub fn sync_and_answer(&mut self, batch: Committed) {
        let started = std::time::Instant::now();
        let synced = self.wal.sync();
        metrics::histogram!(super::SYNC_DURATION).record(started.elapsed());
        if let Err(error) = synced {
            tracing::error!(%error, "fsync of the event store WAL failed");
            fail(batch, &unavailable("syncing the WAL", error));
            return;
        }
        // Before the head moves: a reader that sees the new head finds them here.
        self.recent.extend(
            batch
                .replies
                .iter()
                .filter_map(|(_, result)| result.as_ref().ok())
                .flatten(),
        );
        if let Some(newest) = batch.head {
            self.head.send_if_modified(|current| {
                let moved = newest > *current;
                if moved {
                    *current = newest;
                }
                moved
            });
        }
        for (reply, result) in batch.replies {
            let _ = reply.send(result);
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
    fn opened() -> (tempfile::TempDir, PathBuf, Syncer, watch::Receiver<u64>) {
        let dir = tempfile::tempdir().unwrap();
        let wal = dir.path().join("events.db-wal");
        std::fs::write(&wal, b"frames").unwrap();
        let (head, heads) = watch::channel(0);
        let syncer = Syncer::open(&wal, head, Arc::default()).unwrap();
        (dir, wal, syncer, heads)
    }

    #[test]
    fn batches_are_answered_and_the_head_moves_after_the_sync() {
        let (_dir, _wal, mut syncer, mut heads) = opened();
        let (first, mut first_answer) = batch(Some(3));
        let (second, mut second_answer) = batch(None);
        syncer.sync_and_answer(first);
        assert!(first_answer.try_recv().unwrap().is_ok());
        assert_eq!(*heads.borrow_and_update(), 3);
        syncer.sync_and_answer(second);
        assert!(second_answer.try_recv().unwrap().is_ok());
        assert_eq!(
            *heads.borrow_and_update(),
            3,
            "a batch without events keeps the head"
        );
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
        let (_dir, path, mut syncer, heads) = opened();
        std::fs::remove_file(&path).unwrap();
        let (committed, mut answer) = batch(Some(7));
        syncer.sync_and_answer(committed);
        assert!(matches!(
            answer.try_recv().unwrap(),
            Err(StoreError::Unavailable(_))
        ));
        assert_eq!(
            *heads.borrow(),
            0,
            "the head only moves after a successful sync"
        );
    }
}
