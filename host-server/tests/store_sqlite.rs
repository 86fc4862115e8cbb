//! The SQLite adapter against the event-store contract, plus what only a durable store can
//! show: reopening, `kill -9` mid-load, group commit, notifications.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod contract;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::ops::Deref;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reservation_server::store::sqlite::{DATABASE_FILE, SqliteOptions, SqliteStore};
use reservation_server::store::{EventStore, NewEvent, RecordedEvent, StoreError, StreamWrite};
use tempfile::TempDir;

use contract::{events, unique, write};

/// A store in its own temporary directory, removed when the fixture drops.
struct Fixture {
    store: SqliteStore,
    _dir: TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        Fixture { store, _dir: dir }
    }
}

impl Deref for Fixture {
    type Target = SqliteStore;
    fn deref(&self) -> &SqliteStore {
        &self.store
    }
}

contract_tests!(async { Fixture::new() });

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let a = unique("reopen-a");
    let b = unique("reopen-b");
    let recorded = {
        let store = SqliteStore::open(dir.path()).unwrap();
        let mut recorded = store
            .append(vec![write(&a, 0, events(&a, 1, 3))])
            .await
            .unwrap();
        recorded.extend(
            store
                .append(vec![
                    write(&b, 0, events(&b, 1, 1)),
                    write(&a, 3, events(&a, 4, 1)),
                ])
                .await
                .unwrap(),
        );
        store.shutdown().await;
        // Shut down: appends are refused, cleanly.
        let refused = store.append(vec![write(&a, 4, events(&a, 5, 1))]).await;
        assert!(
            matches!(refused, Err(StoreError::Unavailable(_))),
            "{refused:?}"
        );
        recorded
    };
    assert!(dir.path().join(DATABASE_FILE).exists());
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(store.head().await.unwrap(), 5);
    assert_eq!(store.read_all(0, 100).await.unwrap(), recorded);
    assert_eq!(store.load(&a, 0).await.unwrap().len(), 4);
    // Versions and positions carry on where they were, and time does not go back.
    let more = store
        .append(vec![write(&a, 4, events(&a, 5, 1))])
        .await
        .unwrap();
    assert_eq!((more[0].position, more[0].stream_version), (6, 5));
    assert!(more[0].recorded_at >= recorded[4].recorded_at);
    // A store dropped without shutdown keeps what it acknowledged too.
    drop(store);
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(store.head().await.unwrap(), 6);
    assert_eq!(store.load(&a, 4).await.unwrap(), more);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_is_created_and_garbage_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a").join("b");
    let store = SqliteStore::open(&nested).unwrap();
    assert_eq!(store.path(), nested.join(DATABASE_FILE));
    drop(store);
    let garbage = dir.path().join("garbage");
    std::fs::create_dir_all(&garbage).unwrap();
    std::fs::write(garbage.join(DATABASE_FILE), b"this is not a database, just some bytes .......................................................................................").unwrap();
    let error = SqliteStore::open(&garbage).unwrap_err();
    assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    // A file where the directory should be.
    let file = dir.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    assert!(matches!(
        SqliteStore::open(&file),
        Err(StoreError::Unavailable(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_see_the_head_after_each_commit() {
    let fixture = Fixture::new();
    let mut head = fixture.subscribe();
    assert_eq!(*head.borrow_and_update(), 0);
    let stream = unique("subscribe");
    let waiter = {
        let mut head = fixture.subscribe();
        tokio::spawn(async move {
            head.changed().await.unwrap();
            *head.borrow_and_update()
        })
    };
    fixture
        .append(vec![write(&stream, 0, events(&stream, 1, 2))])
        .await
        .unwrap();
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(10), waiter)
            .await
            .unwrap()
            .unwrap(),
        2
    );
    assert!(head.has_changed().unwrap());
    assert_eq!(*head.borrow_and_update(), 2);
    // A failed append does not wake anyone.
    let failed = fixture
        .append(vec![write(&stream, 0, events(&stream, 3, 1))])
        .await;
    assert!(failed.is_err());
    assert!(!head.has_changed().unwrap());
    // Shutting down ends the subscription.
    fixture.shutdown().await;
    assert!(head.changed().await.is_err());
}

/// Concurrent appends share transactions (hence fsyncs), visible as shared commit times; a
/// conflicting append in the same batch fails alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_are_committed_in_groups_and_fail_alone() {
    let fixture = Fixture::new();
    let store: &SqliteStore = &fixture;
    let contested = unique("group-contested");
    store
        .append(vec![write(&contested, 0, events(&contested, 1, 1))])
        .await
        .unwrap();
    let mut rounds_with_shared_commits = 0;
    for round in 0..5 {
        let streams: Vec<String> = (0..64)
            .map(|i| unique(&format!("group-{round}-{i}")))
            .collect();
        let mut appends: Vec<_> = streams
            .iter()
            .map(|s| store.append(vec![write(s, 0, events(s, 1, 2))]))
            .collect();
        // A stale write to an existing stream, in the middle of the crowd.
        appends.insert(
            32,
            store.append(vec![write(&contested, 0, events(&contested, 9, 1))]),
        );
        let mut results = futures_util::future::join_all(appends).await;
        let stale = results.remove(32);
        assert!(
            matches!(stale, Err(StoreError::Conflict { actual: 1, .. })),
            "{stale:?}"
        );
        let recorded: Vec<RecordedEvent> = results.into_iter().flat_map(|r| r.unwrap()).collect();
        assert_eq!(recorded.len(), 128);
        let commit_times: std::collections::HashSet<_> =
            recorded.iter().map(|e| e.recorded_at).collect();
        if commit_times.len() < 64 {
            rounds_with_shared_commits += 1;
        }
        for s in &streams {
            assert_eq!(store.load(s, 0).await.unwrap().len(), 2);
        }
    }
    assert!(
        rounds_with_shared_commits > 0,
        "64 concurrent appends never shared a commit"
    );
    assert_eq!(store.load(&contested, 0).await.unwrap().len(), 1);
    let log = store.read_all(0, 10_000).await.unwrap();
    assert_eq!(log.len(), 1 + 5 * 128);
    assert!(
        log.iter()
            .enumerate()
            .all(|(i, e)| e.position == i as u64 + 1)
    );
}

/// Appends `appends` times `per_append` events to the new stream `stream`, each payload padded
/// with `pad` spaces (to fill WAL pages quickly).
async fn append_padded(
    store: &SqliteStore,
    stream: &str,
    appends: u64,
    per_append: u64,
    pad: usize,
) {
    for i in 0..appends {
        let mut batch = events(stream, i * per_append + 1, per_append);
        for e in &mut batch {
            e.payload.push_str(&" ".repeat(pad));
        }
        store
            .append(vec![write(stream, i * per_append, batch)])
            .await
            .unwrap();
    }
}

/// Under sustained appends (and concurrent reads) the WAL is checkpointed and started over, so
/// it stays small, and nothing is lost on the way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_is_checkpointed_under_load() {
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteOptions {
        checkpoint_frames: 100,
        checkpoint_step_frames: 30,
        ..SqliteOptions::default()
    };
    let store = std::sync::Arc::new(SqliteStore::open_with(dir.path(), options).unwrap());
    let wal = dir.path().join(format!("{DATABASE_FILE}-wal"));
    let writers: Vec<_> = (0..16)
        .map(|w| {
            let store = std::sync::Arc::clone(&store);
            tokio::spawn(async move {
                let stream = unique(&format!("wal-{w}"));
                append_padded(&store, &stream, 100, 3, 1000).await;
                stream
            })
        })
        .collect();
    let reader = {
        let store = std::sync::Arc::clone(&store);
        tokio::spawn(async move {
            let mut largest_wal = 0;
            let mut reads = 0;
            while store.head().await.unwrap() < 16 * 300 {
                let head = store.head().await.unwrap();
                let page = store.read_all(head.saturating_sub(50), 50).await.unwrap();
                assert!(page.iter().all(|e| e.position > head.saturating_sub(50)));
                largest_wal =
                    largest_wal.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
                reads += 1;
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            (largest_wal, reads)
        })
    };
    let mut streams = Vec::new();
    for writer in writers {
        streams.push(writer.await.unwrap());
    }
    let (largest_wal, reads) = reader.await.unwrap();
    // 4,800 events of ~1.1 KB: about 6 MB of WAL without checkpoints.
    assert!(reads > 10);
    assert!(
        largest_wal < 3_000_000,
        "the WAL grew to {largest_wal} bytes"
    );
    for stream in &streams {
        let loaded = store.load(stream, 0).await.unwrap();
        assert_eq!(loaded.len(), 300);
        assert!(
            loaded
                .iter()
                .enumerate()
                .all(|(i, e)| e.stream_version == i as u64 + 1)
        );
    }
    store.shutdown().await;
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(store.head().await.unwrap(), 16 * 300);
    assert_eq!(store.read_all(0, 10_000).await.unwrap().len(), 16 * 300);
}

/// Between two restarts of the WAL, the checkpointer copies it into the database file in steps
/// (each then fsynced), rather than all at once before the restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_is_copied_into_the_database_in_steps_before_any_restart() {
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteOptions {
        checkpoint_frames: 1_000_000,
        checkpoint_step_frames: 50,
        ..SqliteOptions::default()
    };
    let store = SqliteStore::open_with(dir.path(), options).unwrap();
    let db = dir.path().join(DATABASE_FILE);
    let empty = std::fs::metadata(&db).unwrap().len();
    let stream = unique("steps");
    // About 400 pages of events, far from the restart at 1,000,000 frames.
    append_padded(&store, &stream, 100, 4, 4000).await;
    let copied = async {
        loop {
            let size = std::fs::metadata(&db).unwrap().len();
            if size > empty + 1_000_000 {
                return size;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    let size = tokio::time::timeout(Duration::from_secs(10), copied)
        .await
        .expect("the WAL was not copied into the database before a restart was due");
    assert!(size > empty);
    assert_eq!(store.load(&stream, 0).await.unwrap().len(), 400);
    store.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// kill -9 mid-load: the test re-executes its own binary as the child that appends.

const CHILD_DIR: &str = "RESERVATION_STORE_CRASH_CHILD_DIR";
const CRASH_TEST: &str = "acknowledged_appends_survive_kill_9";
const CHILD_WRITERS: usize = 16;
const DAY_BOOKS: usize = 4;

fn crash_payload(stream: &str, version: u64) -> String {
    let pad = "p".repeat((version % 200) as usize);
    format!(
        r#"{{"type":"crash_test","version":1,"stream":"{stream}","v":{version},"pad":"{pad}"}}"#
    )
}

fn crash_event(stream: &str, version: u64) -> NewEvent {
    NewEvent {
        event_type: "crash_test".into(),
        schema_version: 1,
        payload: crash_payload(stream, version),
    }
}

/// The child: booking-like appends (a new reservation stream with 2 events + 1 event on a
/// shared day book) from many tasks, printing every acknowledged event, until killed.
async fn crash_child(dir: String) {
    let store = std::sync::Arc::new(SqliteStore::open(&dir).unwrap());
    let deadline = Instant::now() + Duration::from_secs(120);
    let tasks: Vec<_> = (0..CHILD_WRITERS)
        .map(|writer| {
            let store = std::sync::Arc::clone(&store);
            tokio::spawn(async move {
                let book = format!("daybook:crash:{}", writer % DAY_BOOKS);
                let run = std::process::id();
                let mut i = 0u64;
                while Instant::now() < deadline {
                    let version = store.load(&book, 0).await.unwrap().len() as u64;
                    let reservation = format!("reservation:crash-{run}-{writer}-{i}");
                    let writes = vec![
                        StreamWrite {
                            stream: reservation.clone(),
                            expected_version: 0,
                            events: vec![
                                crash_event(&reservation, 1),
                                crash_event(&reservation, 2),
                            ],
                        },
                        StreamWrite {
                            stream: book.clone(),
                            expected_version: version,
                            events: vec![crash_event(&book, version + 1)],
                        },
                    ];
                    match store.append(writes).await {
                        Ok(recorded) => {
                            for e in recorded {
                                println!("ACK {} {} {}", e.position, e.stream, e.stream_version);
                            }
                            i += 1;
                        }
                        Err(StoreError::Conflict { .. }) => {}
                        Err(other) => panic!("{other:?}"),
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_appends_survive_kill_9() {
    if let Ok(dir) = std::env::var(CHILD_DIR) {
        crash_child(dir).await;
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for round in 0..2 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([CRASH_TEST, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_DIR, dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        // Read acknowledgements on a thread; kill once enough have arrived (mid-load).
        let (enough_tx, enough_rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut acks = Vec::new();
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let mut signalled = false;
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                // A line cut short by the kill is not an acknowledgement.
                if let Some(rest) = line.strip_suffix('\n').and_then(|l| l.strip_prefix("ACK ")) {
                    let mut parts = rest.split(' ');
                    let position: u64 = parts.next().unwrap().parse().unwrap();
                    let stream = parts.next().unwrap().to_owned();
                    let version: u64 = parts.next().unwrap().parse().unwrap();
                    acks.push((position, stream, version));
                    if acks.len() >= 3_000 && !signalled {
                        signalled = true;
                        let _ = enough_tx.send(());
                    }
                }
                line.clear();
            }
            acks
        });
        let got_enough = enough_rx.recv_timeout(Duration::from_secs(90)).is_ok();
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let acks = reader.join().unwrap();
        assert!(
            got_enough,
            "round {round}: the child acknowledged only {} events",
            acks.len()
        );

        let store = SqliteStore::open(dir.path()).unwrap();
        let head = store.head().await.unwrap();
        let mut log = Vec::new();
        let mut after = 0;
        loop {
            let page = store.read_all(after, 5_000).await.unwrap();
            let Some(last) = page.last() else { break };
            after = last.position;
            log.extend(page);
        }
        assert_eq!(log.len() as u64, head, "the log is gap-free up to the head");
        assert!(
            log.iter()
                .enumerate()
                .all(|(i, e)| e.position == i as u64 + 1)
        );
        let by_position: HashMap<u64, &RecordedEvent> =
            log.iter().map(|e| (e.position, e)).collect();
        for (position, stream, version) in &acks {
            let stored = by_position
                .get(position)
                .unwrap_or_else(|| panic!("acknowledged position {position} lost (head {head})"));
            assert_eq!(&stored.stream, stream);
            assert_eq!(stored.stream_version, *version);
            assert_eq!(
                stored.payload,
                crash_payload(stream, *version),
                "payload intact"
            );
        }
        // Every stream is whole: versions 1..n, intact payloads.
        let mut streams: BTreeMap<&str, Vec<&RecordedEvent>> = BTreeMap::new();
        for e in log.iter().filter(|e| e.event_type == "crash_test") {
            streams.entry(e.stream.as_str()).or_default().push(e);
        }
        assert!(streams.len() > 1_000 * (round + 1));
        for (stream, stored) in &streams {
            for (i, e) in stored.iter().enumerate() {
                assert_eq!(e.stream_version, i as u64 + 1, "{stream}");
                assert_eq!(e.payload, crash_payload(stream, e.stream_version));
            }
        }
        // And the store goes on: the next append continues the log.
        let stream = unique("after-crash");
        let next = store
            .append(vec![write(&stream, 0, events(&stream, 1, 1))])
            .await
            .unwrap();
        assert_eq!(next[0].position, head + 1);
        store.shutdown().await;
        eprintln!(
            "round {round}: {} acknowledged, {} stored",
            acks.len(),
            head
        );
    }
}

/// Two stores on one directory stand for two processes (e.g. a second server started on the
/// same data by mistake): each sees the other's appends in its version checks, so no version
/// is taken twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_writer_on_the_same_database_is_seen() {
    let dir = tempfile::tempdir().unwrap();
    let a = SqliteStore::open(dir.path()).unwrap();
    let b = SqliteStore::open(dir.path()).unwrap();
    let stream = unique("two-writers");
    for version in 0..6u64 {
        let (this, other) = if version % 2 == 0 { (&a, &b) } else { (&b, &a) };
        this.append(vec![write(&stream, version, events(&stream, version, 1))])
            .await
            .unwrap();
        // The other store refuses the version that was just taken.
        let stale = other
            .append(vec![write(&stream, version, events(&stream, 99, 1))])
            .await;
        assert!(
            matches!(stale, Err(StoreError::Conflict { actual, .. }) if actual == version + 1),
            "{stale:?}"
        );
    }
    // Each store's head moves with its own appends only; a new one catches the other's.
    let c = SqliteStore::open(dir.path()).unwrap();
    let loaded = c.load(&stream, 0).await.unwrap();
    assert_eq!(
        loaded.iter().map(|e| e.stream_version).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6]
    );
    for store in [&a, &b, &c] {
        store.shutdown().await;
    }
}
