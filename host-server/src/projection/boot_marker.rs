//! Whether the read database can be trusted after the last run.
//!
//! The read models are derived from the event log, so `read.db` gives up more durability than
//! the event store may: it runs with `synchronous=OFF`, without an fsync on commit or checkpoint
//! (which had filled the disk queue that the event log's WAL fsyncs wait in: about 1.2× the
//! bookings per second at 64 connections). A crash of the process, even `kill -9`, still loses
//! nothing, because SQLite's writes are already in the OS page cache. Only a crash of the OS or a
//! power cut can leave the file torn.
//!
//! So the data directory holds `read.db.boot`. It records the boot (`/proc/sys/kernel/random/
//! boot_id`) in which the database was last written, and whether that run closed it cleanly
//! (everything checkpointed and fsynced). On open, a database written in another boot and not
//! closed cleanly is deleted, and the next catch-up rebuilds it from the log. Without a boot id
//! (not Linux) the database keeps `synchronous=NORMAL`, which never corrupts.
//!
//! The marker is written (and fsynced) before the first write of a run, and marked clean only
//! after the database file is fsynced; a write after that marks it open again.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// The marker's file name inside the data directory.
pub const MARKER_FILE: &str = "read.db.boot";

const BOOT_ID: &str = "/proc/sys/kernel/random/boot_id";

/// The state a run left the database in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Being written: unsynced pages may exist until the OS has written them back.
    Open,
    /// Closed cleanly: checkpointed and fsynced.
    Clean,
}

impl State {
    fn as_str(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Clean => "clean",
        }
    }
}

#[derive(Debug)]
pub struct BootMarker {
    path: PathBuf,
    boot_id: String,
    /// The marker on disk says `clean`: the next write must mark it open first.
    clean: AtomicBool,
}

impl BootMarker {
    /// The marker of `dir` for this boot; `None` where the OS has no boot id.
    pub fn for_this_boot(dir: &Path) -> Option<BootMarker> {
        let boot_id = std::fs::read_to_string(BOOT_ID).ok()?;
        Self::with_boot_id(dir, boot_id.trim())
    }

    /// The marker of `dir` as seen from the boot `boot_id`.
    pub fn with_boot_id(dir: &Path, boot_id: &str) -> Option<BootMarker> {
        let boot_id = boot_id.trim();
        if boot_id.is_empty() || boot_id.contains(char::is_whitespace) {
            return None;
        }
        Some(BootMarker {
            path: dir.join(MARKER_FILE),
            boot_id: boot_id.to_owned(),
            clean: AtomicBool::new(true),
        })
    }

    /// Whether a database left by the previous run may be torn: it was being written in another
    /// boot and never closed cleanly. An unreadable marker counts as torn; no marker at all
    /// does not (a database from a build that kept `synchronous=NORMAL`).
    pub fn previous_run_may_be_torn(&self) -> bool {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => {
                let mut parts = text.split_whitespace();
                match (parts.next(), parts.next(), parts.next()) {
                    (Some(boot), Some(state), None) => {
                        boot != self.boot_id && state != State::Clean.as_str()
                    }
                    _ => true,
                }
            }
            Err(error) => error.kind() != std::io::ErrorKind::NotFound,
        }
    }

    /// Records, durably, that this run is about to write. Cheap when it already did.
    pub fn before_write(&self) -> std::io::Result<()> {
        if self.clean.load(Ordering::Acquire) {
            self.write(State::Open)?;
            self.clean.store(false, Ordering::Release);
        }
        Ok(())
    }

    /// Records, durably, that the database file is complete on disk (call after its fsync).
    pub fn after_clean_close(&self) -> std::io::Result<()> {
        self.write(State::Clean)?;
        self.clean.store(true, Ordering::Release);
        Ok(())
    }

    /// Replaces the marker atomically: a temporary file, fsynced, renamed, and the directory
    /// fsynced, so a power cut leaves either the old marker or the new one.
    fn write(&self, state: State) -> std::io::Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let temporary = self.path.with_extension("boot.tmp");
        let mut file = std::fs::File::create(&temporary)?;
        writeln!(file, "{} {}", self.boot_id, state.as_str())?;
        file.sync_all()?;
        std::fs::rename(&temporary, &self.path)?;
        std::fs::File::open(dir)?.sync_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marker(dir: &Path, boot: &str) -> BootMarker {
        BootMarker::with_boot_id(dir, boot).unwrap()
    }

    #[test]
    fn only_an_unclean_run_of_another_boot_may_have_torn_the_database() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            !marker(dir.path(), "a").previous_run_may_be_torn(),
            "no marker yet"
        );
        let run = marker(dir.path(), "a");
        run.before_write().unwrap();
        assert!(
            !marker(dir.path(), "a").previous_run_may_be_torn(),
            "same boot: a process crash"
        );
        assert!(
            marker(dir.path(), "b").previous_run_may_be_torn(),
            "another boot, not closed"
        );
        run.after_clean_close().unwrap();
        assert!(
            !marker(dir.path(), "b").previous_run_may_be_torn(),
            "closed cleanly"
        );
        run.before_write().unwrap();
        assert!(
            marker(dir.path(), "b").previous_run_may_be_torn(),
            "written again after"
        );
    }

    #[test]
    fn a_garbled_marker_counts_as_torn_and_blank_boot_ids_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(MARKER_FILE), "nonsense").unwrap();
        assert!(marker(dir.path(), "a").previous_run_may_be_torn());
        assert!(BootMarker::with_boot_id(dir.path(), " ").is_none());
    }

    #[test]
    fn this_machine_has_a_boot_id() {
        let dir = tempfile::tempdir().unwrap();
        assert!(BootMarker::for_this_boot(dir.path()).is_some());
    }
}
