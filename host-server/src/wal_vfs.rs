//! A SQLite VFS that hands each transaction's WAL frames to the kernel in a few large writes.
//!
//! SQLite's own `unix` VFS writes every WAL frame with two `pwrite` calls, its 24-byte header
//! and then its page. Under load the server commits about 1.5 frames per booking to the event
//! store and 2.5 to the read models, and those calls were about a seventh of its CPU, most of
//! it the cost of a system call rather than of the bytes (`host-server/PERFORMANCE.md`, 11).
//! This VFS is `unix` with one change: writes to a WAL file that continue one another are
//! gathered in a buffer and written in a few calls of up to [`MAX_WRITE`] bytes. Every other
//! file, and every other operation, is `unix`'s own.
//!
//! # Why it is as safe as `unix`
//! What SQLite wrote must be in the file (the kernel's page cache, as with `unix`) before
//! anything can observe it:
//! - **Commits.** A transaction ends with its commit frame, whose header carries the database
//!   size (nonzero only there). The write of that frame's page flushes the buffer before it
//!   returns, so SQLite publishes the commit in the WAL index (the moment readers, checkpoints
//!   and the event store's syncer can see it) only after every frame before it is in the file,
//!   and a failed flush fails the commit as a failed `pwrite` would.
//! - **Everything else.** Reads, syncs, size queries, truncation, file controls and closing
//!   flush first. A write that does not continue the buffer (SQLite overwriting a frame it
//!   spilled earlier in the same transaction, or rewriting checksums) flushes the buffer and is
//!   written through, never gathered, so no such write waits for a later flush.
//!
//! What is still in the buffer when the process dies is only frames of a transaction that had
//! not committed, which SQLite ignores on recovery anyway. Connections that only read never
//! write, so the buffer is never used on them.
#![allow(unsafe_code)]

use std::ffi::{CStr, c_int, c_void};
use std::mem::size_of;
use std::ptr;
use std::sync::OnceLock;

use rusqlite::ffi;

/// The name this VFS is registered under (see [`name`]).
const NAME: &CStr = c"reservation-wal-gather";

/// Bytes gathered before they are written even though the transaction goes on (in writes of
/// [`MAX_WRITE`]): a long transaction makes one write per 27 frames of 4 KiB pages instead of 54.
const MAX_GATHERED: usize = 256 * 1024;

/// Bytes per write to the wrapped file: `unix` writes at most 128 KiB - 1 per call (it masks
/// the length with `0x1ffff`, so a longer write would be cut short and reported as a full disk).
const MAX_WRITE: usize = 112 * 1024;

/// A WAL frame's header; its bytes 4..8 are the database size after a commit, 0 otherwise.
const FRAME_HEADER: usize = 24;
/// The WAL file's own header, written at offset 0 when a WAL generation starts.
const WAL_HEADER: usize = 32;

/// Registers the VFS (once per process) and returns its name for
/// [`rusqlite::Connection::open_with_flags_and_vfs`].
fn name() -> Result<&'static CStr, String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED.get_or_init(register).clone().map(|()| NAME)
}

/// Opens a connection through this VFS.
pub(crate) fn open(
    path: &std::path::Path,
    flags: rusqlite::OpenFlags,
) -> rusqlite::Result<rusqlite::Connection> {
    let vfs = name().map_err(|reason| {
        rusqlite::Error::SqliteFailure(ffi::Error::new(ffi::SQLITE_ERROR), Some(reason))
    })?;
    rusqlite::Connection::open_with_flags_and_vfs(path, flags, vfs)
}

/// The `unix` VFS that this one wraps.
struct Underlying(*mut ffi::sqlite3_vfs);
// SAFETY: SQLite's VFS objects are immutable once registered and safe to use from any thread
// (SQLite itself calls them from every connection's thread).
unsafe impl Send for Underlying {}
// SAFETY: as above.
unsafe impl Sync for Underlying {}

static UNDERLYING: OnceLock<Underlying> = OnceLock::new();

fn register() -> Result<(), String> {
    // SAFETY: `sqlite3_vfs_find` with a null name returns the default VFS (or null), which lives
    // as long as the process. Reading it by value copies plain data.
    let (real, mut vfs) = unsafe {
        let real = ffi::sqlite3_vfs_find(ptr::null());
        if real.is_null() {
            return Err("SQLite has no default VFS".to_owned());
        }
        (real, *real)
    };
    let extra = c_int::try_from(size_of::<WalFile>()).map_err(|e| e.to_string())?;
    vfs.szOsFile = vfs
        .szOsFile
        .checked_add(extra)
        .ok_or("VFS file size overflows")?;
    vfs.zName = NAME.as_ptr();
    vfs.pNext = ptr::null_mut();
    vfs.xOpen = Some(open_file);
    if UNDERLYING.set(Underlying(real)).is_err() {
        return Err("the WAL VFS was registered twice".to_owned());
    }
    // Registered VFSs must outlive every connection: this one lives as long as the process.
    let vfs: &'static mut ffi::sqlite3_vfs = Box::leak(Box::new(vfs));
    // SAFETY: `vfs` is a valid, 'static VFS object; SQLite links it into its list.
    let rc = unsafe { ffi::sqlite3_vfs_register(vfs, 0) };
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(format!("registering the WAL VFS failed with code {rc}"))
    }
}

/// The file object for a WAL file: SQLite's base struct, then the `unix` file it wraps, which
/// lives in the same allocation right after this struct (`szOsFile` counts both).
#[repr(C)]
struct WalFile {
    base: ffi::sqlite3_file,
    real: *mut ffi::sqlite3_file,
    gathered: *mut Gathered,
}

/// Writes not yet handed to the kernel: `bytes` belong at `offset` in the file.
#[derive(Default)]
struct Gathered {
    bytes: Vec<u8>,
    offset: i64,
    /// The last frame header written was a commit frame's: its page ends the transaction.
    commit: bool,
}

unsafe extern "C" fn open_file(
    _vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let Some(Underlying(real_vfs)) = UNDERLYING.get() else {
        return ffi::SQLITE_ERROR;
    };
    // SAFETY: `real_vfs` is the default VFS found at registration; it is never unregistered.
    let Some(real_open) = (unsafe { (**real_vfs).xOpen }) else {
        return ffi::SQLITE_ERROR;
    };
    if flags & ffi::SQLITE_OPEN_WAL == 0 {
        // Not a WAL file: `file` has room for a `unix` file, which then is all it is.
        // SAFETY: SQLite passes an allocation of `szOsFile` bytes, more than `unix` needs.
        return unsafe { real_open(*real_vfs, name, file, flags, out_flags) };
    }
    let wal = file.cast::<WalFile>();
    // SAFETY: the allocation holds a `WalFile` followed by the `unix` file (see `register`); it
    // is at least 8-byte aligned, and `size_of::<WalFile>()` is a multiple of 8.
    unsafe {
        let real = file.cast::<u8>().add(size_of::<WalFile>()).cast();
        // Until the open succeeds SQLite must not call any method on this file.
        (*wal).base.pMethods = ptr::null();
        let rc = real_open(*real_vfs, name, real, flags, out_flags);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        (*wal).real = real;
        (*wal).gathered = Box::into_raw(Box::default());
        (*wal).base.pMethods = &WAL_METHODS;
    }
    ffi::SQLITE_OK
}

/// Version 1: a WAL file needs neither shared memory nor memory mapping.
static WAL_METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 1,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock),
    xUnlock: Some(unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: None,
    xShmLock: None,
    xShmBarrier: None,
    xShmUnmap: None,
    xFetch: None,
    xUnfetch: None,
};

/// The wrapped `unix` file and its methods.
///
/// # Safety
/// `file` must be a `WalFile` opened by [`open_file`] and not yet closed.
unsafe fn parts<'a>(
    file: *mut ffi::sqlite3_file,
) -> (
    *mut ffi::sqlite3_file,
    &'a ffi::sqlite3_io_methods,
    &'a mut Gathered,
) {
    let wal = file.cast::<WalFile>();
    // SAFETY: per the contract, `real` is an open `unix` file whose methods are static, and
    // `gathered` is this file's own buffer, used by one connection (one thread) at a time.
    unsafe {
        let real = (*wal).real;
        (real, &*(*real).pMethods, &mut *(*wal).gathered)
    }
}

/// Writes out what was gathered.
///
/// # Safety
/// As for [`parts`].
unsafe fn flush(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: per the contract.
    unsafe {
        let (real, methods, gathered) = parts(file);
        write_out(real, methods, gathered)
    }
}

/// # Safety
/// `real` must be the open file that `methods` belong to.
unsafe fn write_out(
    real: *mut ffi::sqlite3_file,
    methods: &ffi::sqlite3_io_methods,
    gathered: &mut Gathered,
) -> c_int {
    if gathered.bytes.is_empty() {
        return ffi::SQLITE_OK;
    }
    let Some(real_write) = methods.xWrite else {
        return ffi::SQLITE_IOERR_WRITE;
    };
    let mut rc = ffi::SQLITE_OK;
    let mut offset = gathered.offset;
    for chunk in gathered.bytes.chunks(MAX_WRITE) {
        let (Ok(len), Ok(step)) = (c_int::try_from(chunk.len()), i64::try_from(chunk.len())) else {
            rc = ffi::SQLITE_IOERR_WRITE;
            break;
        };
        #[cfg(test)]
        tests::count_write();
        // SAFETY: `chunk` is `len` initialized bytes; `real` is open.
        rc = unsafe { real_write(real, chunk.as_ptr().cast(), len, offset) };
        if rc != ffi::SQLITE_OK {
            break;
        }
        offset += step;
    }
    // On failure the bytes are dropped too: SQLite treats the error as the failure of the
    // transaction they belong to, which it never commits.
    gathered.bytes.clear();
    rc
}

unsafe extern "C" fn write(
    file: *mut ffi::sqlite3_file,
    data: *const c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    // SAFETY: SQLite calls this on a file opened by `open_file`.
    let (real, methods, gathered) = unsafe { parts(file) };
    let Ok(len) = usize::try_from(amount) else {
        return ffi::SQLITE_IOERR_WRITE;
    };
    // SAFETY: SQLite passes `amount` readable bytes.
    let bytes = unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) };
    let end = i64::try_from(gathered.bytes.len())
        .ok()
        .and_then(|gathered_len| gathered.offset.checked_add(gathered_len));
    let continues = !gathered.bytes.is_empty() && end == Some(offset);
    if !gathered.bytes.is_empty() && !continues {
        // SAFETY: as above.
        let rc = unsafe { write_out(real, methods, gathered) };
        if rc != ffi::SQLITE_OK {
            return rc;
        }
    }
    let frame_header = len == FRAME_HEADER;
    let commit_header = frame_header && bytes[4..8] != [0, 0, 0, 0];
    // Gather what continues the buffer, and what starts a frame or a WAL generation; write
    // anything else through (an overwrite: see the module docs). A commit frame's header
    // starts a buffer only if it continues one: alone it may be a checksum rewrite, which no
    // page follows.
    let gather = if continues {
        true
    } else if commit_header {
        false
    } else {
        frame_header || (len == WAL_HEADER && offset == 0)
    };
    let rc = if gather {
        if gathered.bytes.is_empty() {
            gathered.offset = offset;
        }
        gathered.bytes.extend_from_slice(bytes);
        ffi::SQLITE_OK
    } else {
        let Some(real_write) = methods.xWrite else {
            return ffi::SQLITE_IOERR_WRITE;
        };
        #[cfg(test)]
        tests::count_write();
        // SAFETY: forwarding SQLite's own arguments to the wrapped file.
        unsafe { real_write(real, data, amount, offset) }
    };
    if rc != ffi::SQLITE_OK {
        return rc;
    }
    let ends_commit = gathered.commit && !frame_header;
    gathered.commit = commit_header;
    if ends_commit || gathered.bytes.len() >= MAX_GATHERED {
        // SAFETY: as above.
        return unsafe { write_out(real, methods, gathered) };
    }
    ffi::SQLITE_OK
}

unsafe extern "C" fn close(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: SQLite calls this once, on a file opened by `open_file`.
    unsafe {
        let flushed = flush(file);
        let wal = file.cast::<WalFile>();
        drop(Box::from_raw((*wal).gathered));
        (*wal).gathered = ptr::null_mut();
        let real = (*wal).real;
        let closed = match (*(*real).pMethods).xClose {
            Some(real_close) => real_close(real),
            None => ffi::SQLITE_OK,
        };
        if flushed != ffi::SQLITE_OK {
            flushed
        } else {
            closed
        }
    }
}

/// Defines a method that hands the call on to the wrapped file's method `$method` (or answers
/// `$missing` if it has none). `flushing` methods first write out what was gathered: they read,
/// sync, measure or cut the file, so it must hold every byte SQLite wrote.
macro_rules! forward {
    (flushing $name:ident($($arg:ident: $ty:ty),*) => $method:ident or $missing:expr) => {
        forward!(@define true, $name($($arg: $ty),*) => $method or $missing);
    };
    ($name:ident($($arg:ident: $ty:ty),*) => $method:ident or $missing:expr) => {
        forward!(@define false, $name($($arg: $ty),*) => $method or $missing);
    };
    (@define $flush:literal, $name:ident($($arg:ident: $ty:ty),*) => $method:ident or $missing:expr) => {
        unsafe extern "C" fn $name(file: *mut ffi::sqlite3_file, $($arg: $ty),*) -> c_int {
            // SAFETY: SQLite calls this on a file opened by `open_file`, with arguments for the
            // wrapped file's method of the same name.
            unsafe {
                if $flush {
                    let rc = flush(file);
                    if rc != ffi::SQLITE_OK {
                        return rc;
                    }
                }
                let (real, methods, _) = parts(file);
                match methods.$method {
                    Some(wrapped) => wrapped(real, $($arg),*),
                    None => $missing,
                }
            }
        }
    };
}

forward!(flushing read(data: *mut c_void, amount: c_int, offset: i64) => xRead or ffi::SQLITE_IOERR_READ);
forward!(flushing truncate(size: i64) => xTruncate or ffi::SQLITE_IOERR_TRUNCATE);
forward!(flushing sync(flags: c_int) => xSync or ffi::SQLITE_IOERR_FSYNC);
forward!(flushing file_size(size: *mut i64) => xFileSize or ffi::SQLITE_IOERR_FSTAT);
forward!(flushing file_control(op: c_int, arg: *mut c_void) => xFileControl or ffi::SQLITE_NOTFOUND);
forward!(lock(level: c_int) => xLock or ffi::SQLITE_IOERR_LOCK);
forward!(unlock(level: c_int) => xUnlock or ffi::SQLITE_IOERR_UNLOCK);
forward!(check_reserved_lock(out: *mut c_int) => xCheckReservedLock or ffi::SQLITE_IOERR_CHECKRESERVEDLOCK);
forward!(sector_size() => xSectorSize or 4096);
forward!(device_characteristics() => xDeviceCharacteristics or 0);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::cell::Cell;
    use std::path::Path;

    use rusqlite::{Connection, OpenFlags, params};

    use super::*;

    thread_local! {
        /// Writes that reached a WAL file on this thread.
        static WRITES: Cell<u64> = const { Cell::new(0) };
    }

    pub(super) fn count_write() {
        WRITES.with(|w| w.set(w.get() + 1));
    }

    fn writes() -> u64 {
        WRITES.with(Cell::get)
    }

    /// A WAL database through this VFS that never checkpoints, with a cache of `cache_pages`.
    fn writer(path: &Path, cache_pages: i64) -> Connection {
        let conn = open(path, OpenFlags::default()).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
        conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        conn.pragma_update(None, "cache_size", cache_pages).unwrap();
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v BLOB NOT NULL);
             CREATE INDEX IF NOT EXISTS t_v ON t (v);",
        )
        .unwrap();
        conn
    }

    /// Inserts `rows` rows with random-ish keys in one transaction (random index leaves).
    fn insert(conn: &mut Connection, from: i64, rows: i64) {
        let tx = conn.transaction().unwrap();
        for k in from..from + rows {
            let v = (k.wrapping_mul(2_654_435_761) % 1_000_003)
                .to_be_bytes()
                .repeat(20);
            tx.execute("INSERT INTO t (k, v) VALUES (?1, ?2)", params![k, v])
                .unwrap();
        }
        tx.commit().unwrap();
    }

    fn count(conn: &Connection) -> i64 {
        conn.query_row("SELECT count(*) FROM t", [], |row| row.get(0))
            .unwrap()
    }

    fn integrity(conn: &Connection) -> String {
        conn.query_row("PRAGMA integrity_check", [], |row| row.get(0))
            .unwrap()
    }

    #[test]
    fn a_transaction_reaches_the_wal_in_a_few_writes() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = writer(&dir.path().join("db"), 2000);
        insert(&mut conn, 0, 10);
        // Given a transaction of about 100 frames (two writes each through `unix`)
        let frames_before: i64 = conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| row.get(1))
            .unwrap();
        let before = writes();
        insert(&mut conn, 10, 2000);
        let written = writes() - before;
        let frames_after: i64 = conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| row.get(1))
            .unwrap();
        let frames = frames_after - frames_before;
        // Then it took one write per 27 frames or so, not two per frame.
        assert!(frames > 60, "the transaction wrote {frames} frames");
        let most = u64::try_from(frames).unwrap() / 20 + 2;
        assert!(
            written <= most,
            "{written} writes for {frames} frames (at most {most})"
        );
    }

    #[test]
    fn every_commit_is_in_the_files_when_it_returns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        // A cache of 10 pages: large transactions spill, overwrite spilled frames and rewrite
        // their checksums at commit, the paths that write around the buffer.
        let mut conn = writer(&path, 10);
        let reader = open(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let mut expected = 0;
        for (i, rows) in [1, 3, 500, 1, 2000, 7, 300].into_iter().enumerate() {
            insert(&mut conn, expected, rows);
            expected += rows;
            // Another connection sees it at once...
            assert_eq!(count(&reader), expected, "commit {i}");
            // ...and so does recovery from a copy of the files, which checks every frame's
            // checksum: a frame missing or out of place would drop the commits from it on.
            let copy = dir.path().join(format!("copy{i}"));
            std::fs::copy(&path, &copy).unwrap();
            let mut wal = copy.clone().into_os_string();
            wal.push("-wal");
            let mut source = path.clone().into_os_string();
            source.push("-wal");
            std::fs::copy(&source, &wal).unwrap();
            let recovered = Connection::open(&copy).unwrap();
            assert_eq!(count(&recovered), expected, "recovered after commit {i}");
            assert_eq!(integrity(&recovered), "ok");
        }
        // Rolled-back spills leave nothing behind.
        let tx = conn.transaction().unwrap();
        for k in 0..500 {
            tx.execute(
                "INSERT INTO t (k, v) VALUES (?1, ?2)",
                params![1_000_000 + k, vec![7u8; 200]],
            )
            .unwrap();
        }
        tx.rollback().unwrap();
        insert(&mut conn, expected, 5);
        expected += 5;
        drop(conn);
        let reopened = writer(&path, 10);
        assert_eq!(count(&reopened), expected);
        assert_eq!(integrity(&reopened), "ok");
    }

    #[test]
    fn checkpoints_and_a_restarted_wal_keep_every_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let mut conn = writer(&path, 10);
        // Each restart also cuts the WAL file back (a truncate after gathered writes).
        conn.pragma_update(None, "journal_size_limit", 64 * 1024)
            .unwrap();
        let mut expected = 0;
        for round in 0..5 {
            insert(&mut conn, expected, 400);
            expected += 400;
            // A full checkpoint lets the next transaction start the WAL over from offset 0.
            conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()))
                .unwrap();
            insert(&mut conn, expected, 3);
            expected += 3;
            assert_eq!(count(&conn), expected, "round {round}");
            let mut wal = path.clone().into_os_string();
            wal.push("-wal");
            let wal_len = std::fs::metadata(&wal).unwrap().len();
            assert!(
                wal_len <= 64 * 1024,
                "round {round}: the WAL is {wal_len} bytes"
            );
        }
        drop(conn);
        let plain = Connection::open(&path).unwrap();
        assert_eq!(count(&plain), expected);
        assert_eq!(integrity(&plain), "ok");
    }
}
