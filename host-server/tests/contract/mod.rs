//! The event-store contract: every adapter of `reservation_server::store::EventStore` must pass
//! every check here.
//!
//! Use it from a test entry file (`tests/store_<adapter>.rs`):
//!
//! ```ignore
//! mod contract;
//! contract_tests!(async { my_adapter_fixture().await });
//! ```
//!
//! The argument is an expression evaluating to a future whose output derefs to
//! `dyn EventStore`-compatible store (e.g. `Arc<dyn EventStore>`, or a fixture struct that keeps a
//! temp dir or a server alive and implements `Deref<Target = dyn EventStore>`). The macro expands
//! to one `#[tokio::test]` per check, each building its own store. Every check uses stream names
//! unique to the check and the run, and never assumes the log is empty or that nobody else
//! appends meanwhile, so checks may also share one store.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use reservation_server::store::{
    EventStore, MAX_EVENTS_PER_APPEND, MAX_PAYLOAD_BYTES, NewEvent, RecordedEvent, StoreError,
    StreamWrite,
};

/// Expands to one `#[tokio::test]` per contract check. `$make` is evaluated afresh by each test
/// and must be a future whose output `o` gives the store as `&*o`.
#[macro_export]
macro_rules! contract_tests {
    ($make:expr) => {
        $crate::contract_tests!(@checks $make;
            append_and_load_round_trip,
            load_after_a_version,
            stale_writer_loses_and_nothing_is_written,
            new_stream_expectation_conflicts_when_the_stream_exists,
            multi_stream_append_is_all_or_nothing,
            one_append_may_name_a_stream_twice,
            a_write_without_events_asserts_the_version,
            empty_append_writes_nothing,
            global_order_is_gap_free_across_streams,
            read_all_pages_with_after_and_limit,
            head_follows_appends,
            large_stream_loads_whole_and_after_a_version,
            limits_are_refused_with_too_large,
            racing_appenders_one_winner_per_version,
            racing_appenders_lose_and_duplicate_nothing,
            recorded_at_never_decreases_with_position,
            odd_input_is_handled,
        );
    };
    (@checks $make:expr; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let store = $make.await;
                $crate::contract::$check(&*store).await;
            }
        )*
    };
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A stream name no other check or run uses.
pub fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = jiff::Timestamp::now().as_nanosecond();
    format!("test-{prefix}:{}-{nanos}-{n}", std::process::id())
}

pub fn event(stream: &str, n: u64) -> NewEvent {
    NewEvent {
        event_type: "test_happened".into(),
        schema_version: 1,
        payload: format!(r#"{{"type":"test_happened","version":1,"stream":"{stream}","n":{n}}}"#),
    }
}

pub fn events(stream: &str, from: u64, count: u64) -> Vec<NewEvent> {
    (from..from + count).map(|n| event(stream, n)).collect()
}

pub fn write(stream: &str, expected_version: u64, events: Vec<NewEvent>) -> StreamWrite {
    StreamWrite {
        stream: stream.to_owned(),
        expected_version,
        events,
    }
}

fn assert_matches(recorded: &RecordedEvent, stream: &str, version: u64, event: &NewEvent) {
    assert_eq!(recorded.stream, stream);
    assert_eq!(recorded.stream_version, version);
    assert_eq!(recorded.event_type, event.event_type);
    assert_eq!(recorded.schema_version, event.schema_version);
    assert_eq!(recorded.payload, event.payload);
}

fn assert_consecutive(events: &[RecordedEvent]) {
    for pair in events.windows(2) {
        assert_eq!(
            pair[1].position,
            pair[0].position + 1,
            "positions must be gap-free"
        );
    }
}

pub async fn append_and_load_round_trip(store: &dyn EventStore) {
    let stream = unique("round-trip");
    let mut sent = events(&stream, 1, 3);
    sent[1].event_type = "other_happened".into();
    sent[1].schema_version = 7;
    sent[2].payload = r#"{"text":"ünïcödé ✓ \"quoted\" \\ \u0000"}"#.into();
    let recorded = store
        .append(vec![write(&stream, 0, sent.clone())])
        .await
        .unwrap();
    assert_eq!(recorded.len(), 3);
    for (i, (r, e)) in recorded.iter().zip(&sent).enumerate() {
        assert_matches(r, &stream, i as u64 + 1, e);
    }
    assert!(recorded[0].position >= 1);
    assert_consecutive(&recorded);
    let loaded = store.load(&stream, 0).await.unwrap();
    assert_eq!(
        loaded, recorded,
        "load returns exactly what append recorded"
    );
    assert!(
        store
            .load(&unique("never-written"), 0)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn load_after_a_version(store: &dyn EventStore) {
    let stream = unique("after");
    store
        .append(vec![write(&stream, 0, events(&stream, 1, 3))])
        .await
        .unwrap();
    store
        .append(vec![write(&stream, 3, events(&stream, 4, 2))])
        .await
        .unwrap();
    let all = store.load(&stream, 0).await.unwrap();
    assert_eq!(all.len(), 5);
    for after in 0..=6u64 {
        let tail = store.load(&stream, after).await.unwrap();
        let expected: Vec<_> = all
            .iter()
            .filter(|e| e.stream_version > after)
            .cloned()
            .collect();
        assert_eq!(tail, expected, "after {after}");
    }
    assert!(store.load(&stream, u64::MAX).await.unwrap().is_empty());
}

pub async fn stale_writer_loses_and_nothing_is_written(store: &dyn EventStore) {
    let stream = unique("stale");
    store
        .append(vec![write(&stream, 0, events(&stream, 1, 2))])
        .await
        .unwrap();
    // Two writers decided on version 2; the first wins.
    store
        .append(vec![write(&stream, 2, events(&stream, 3, 1))])
        .await
        .unwrap();
    let head = store.head().await.unwrap();
    let error = store
        .append(vec![write(&stream, 2, events(&stream, 100, 1))])
        .await
        .unwrap_err();
    assert_eq!(
        error,
        StoreError::Conflict {
            stream: stream.clone(),
            expected: 2,
            actual: 3
        }
    );
    // Ahead of the stream is a conflict too.
    let error = store
        .append(vec![write(&stream, 9, events(&stream, 200, 1))])
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::Conflict {
                actual: 3,
                expected: 9,
                ..
            }
        ),
        "{error:?}"
    );
    let loaded = store.load(&stream, 0).await.unwrap();
    assert_eq!(loaded.len(), 3);
    assert!(
        loaded
            .iter()
            .all(|e| !e.payload.contains("\"n\":100") && !e.payload.contains("\"n\":200"))
    );
    // Nothing else entered the log for the losers (others may append concurrently, but not to
    // this stream).
    let after: Vec<_> = store.read_all(head, 10_000).await.unwrap();
    assert!(after.iter().all(|e| e.stream != stream));
}

pub async fn new_stream_expectation_conflicts_when_the_stream_exists(store: &dyn EventStore) {
    let stream = unique("new");
    store
        .append(vec![write(&stream, 0, events(&stream, 1, 1))])
        .await
        .unwrap();
    let error = store
        .append(vec![write(&stream, 0, events(&stream, 2, 1))])
        .await
        .unwrap_err();
    assert_eq!(
        error,
        StoreError::Conflict {
            stream: stream.clone(),
            expected: 0,
            actual: 1
        }
    );
    assert_eq!(store.load(&stream, 0).await.unwrap().len(), 1);
    // Expecting events in a stream that does not exist is a conflict with actual 0.
    let missing = unique("missing");
    let error = store
        .append(vec![write(&missing, 1, events(&missing, 1, 1))])
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::Conflict {
                actual: 0,
                expected: 1,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(store.load(&missing, 0).await.unwrap().is_empty());
}

pub async fn multi_stream_append_is_all_or_nothing(store: &dyn EventStore) {
    let a = unique("multi-a");
    let b = unique("multi-b");
    let c = unique("multi-c");
    store
        .append(vec![write(&b, 0, events(&b, 1, 2))])
        .await
        .unwrap();
    // Success: three streams at once, in the order given.
    let recorded = store
        .append(vec![
            write(&a, 0, events(&a, 1, 2)),
            write(&b, 2, events(&b, 3, 1)),
            write(&c, 0, events(&c, 1, 1)),
        ])
        .await
        .unwrap();
    let order: Vec<_> = recorded
        .iter()
        .map(|e| (e.stream.clone(), e.stream_version))
        .collect();
    assert_eq!(
        order,
        vec![
            (a.clone(), 1),
            (a.clone(), 2),
            (b.clone(), 3),
            (c.clone(), 1)
        ]
    );
    assert_consecutive(&recorded);
    let head = store.head().await.unwrap();
    // Failure in the last write: nothing is written to any stream.
    for failing_last in [true, false] {
        let mut writes = vec![
            write(&a, 2, events(&a, 10, 2)),
            write(&c, 1, events(&c, 10, 1)),
            write(&b, 1, events(&b, 10, 1)), // stale: b is at 3
        ];
        if !failing_last {
            writes.rotate_right(1);
        }
        let error = store.append(writes).await.unwrap_err();
        assert_eq!(
            error,
            StoreError::Conflict {
                stream: b.clone(),
                expected: 1,
                actual: 3
            }
        );
    }
    assert_eq!(store.load(&a, 0).await.unwrap().len(), 2);
    assert_eq!(store.load(&b, 0).await.unwrap().len(), 3);
    assert_eq!(store.load(&c, 0).await.unwrap().len(), 1);
    let later = store.read_all(head, 10_000).await.unwrap();
    assert!(
        later
            .iter()
            .all(|e| e.stream != a && e.stream != b && e.stream != c)
    );
}

pub async fn one_append_may_name_a_stream_twice(store: &dyn EventStore) {
    let stream = unique("twice");
    let recorded = store
        .append(vec![
            write(&stream, 0, events(&stream, 1, 1)),
            write(&stream, 1, events(&stream, 2, 2)),
        ])
        .await
        .unwrap();
    let versions: Vec<_> = recorded.iter().map(|e| e.stream_version).collect();
    assert_eq!(versions, vec![1, 2, 3]);
    // The second write's expectation must follow the first.
    let error = store
        .append(vec![
            write(&stream, 3, events(&stream, 4, 1)),
            write(&stream, 3, events(&stream, 5, 1)),
        ])
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::Conflict {
                expected: 3,
                actual: 4,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(store.load(&stream, 0).await.unwrap().len(), 3);
}

pub async fn a_write_without_events_asserts_the_version(store: &dyn EventStore) {
    let config = unique("guard-config");
    let book = unique("guard-book");
    store
        .append(vec![write(&config, 0, events(&config, 1, 2))])
        .await
        .unwrap();
    // The configuration is still at 2: the booking goes in, the configuration stays as it is.
    let recorded = store
        .append(vec![
            write(&config, 2, vec![]),
            write(&book, 0, events(&book, 1, 1)),
        ])
        .await
        .unwrap();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].stream, book);
    assert_eq!(store.load(&config, 0).await.unwrap().len(), 2);
    // It changed meanwhile: the booking is refused.
    store
        .append(vec![write(&config, 2, events(&config, 3, 1))])
        .await
        .unwrap();
    let error = store
        .append(vec![
            write(&config, 2, vec![]),
            write(&book, 1, events(&book, 2, 1)),
        ])
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::Conflict {
                expected: 2,
                actual: 3,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(store.load(&book, 0).await.unwrap().len(), 1);
}

pub async fn empty_append_writes_nothing(store: &dyn EventStore) {
    let stream = unique("empty");
    assert!(store.append(vec![]).await.unwrap().is_empty());
    assert!(
        store
            .append(vec![write(&stream, 0, vec![])])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.load(&stream, 0).await.unwrap().is_empty());
}

pub async fn global_order_is_gap_free_across_streams(store: &dyn EventStore) {
    let streams: Vec<String> = (0..4).map(|i| unique(&format!("global-{i}"))).collect();
    let mut mine = Vec::new();
    for round in 0..5u64 {
        for stream in &streams {
            let recorded = store
                .append(vec![write(
                    stream,
                    round * 2,
                    events(stream, round * 2 + 1, 2),
                )])
                .await
                .unwrap();
            mine.extend(recorded);
        }
    }
    // Positions of my appends grow in the order they were acknowledged.
    for pair in mine.windows(2) {
        assert!(pair[1].position > pair[0].position);
    }
    let first = mine[0].position;
    let last = mine.last().unwrap().position;
    let log = store
        .read_all(first - 1, (last - first + 1) as usize)
        .await
        .unwrap();
    assert_eq!(log.len() as u64, last - first + 1);
    assert_eq!(log[0].position, first);
    assert_consecutive(&log);
    let from_log: Vec<_> = log
        .iter()
        .filter(|e| streams.contains(&e.stream))
        .cloned()
        .collect();
    assert_eq!(
        from_log, mine,
        "the log holds my events as recorded, in order"
    );
    // Each stream's events also sit in the log in stream order.
    for stream in &streams {
        let versions: Vec<_> = log
            .iter()
            .filter(|e| &e.stream == stream)
            .map(|e| e.stream_version)
            .collect();
        assert_eq!(versions, (1..=10).collect::<Vec<_>>());
        assert_eq!(
            store.load(stream, 0).await.unwrap(),
            from_log
                .iter()
                .filter(|e| &e.stream == stream)
                .cloned()
                .collect::<Vec<_>>()
        );
    }
    // The log from the start is gap-free too, starting at 1.
    let start = store.read_all(0, 3).await.unwrap();
    assert_eq!(start[0].position, 1);
    assert_consecutive(&start);
}

pub async fn read_all_pages_with_after_and_limit(store: &dyn EventStore) {
    let stream = unique("paging");
    let before = store.head().await.unwrap();
    let mut mine = Vec::new();
    for i in 0..7u64 {
        mine.extend(
            store
                .append(vec![write(&stream, i * 3, events(&stream, i * 3 + 1, 3))])
                .await
                .unwrap(),
        );
    }
    let last = mine.last().unwrap().position;
    for limit in [1usize, 2, 5, 64] {
        let mut after = before;
        let mut seen = Vec::new();
        loop {
            let page = store.read_all(after, limit).await.unwrap();
            assert!(page.len() <= limit);
            if let Some(first) = page.first() {
                assert_eq!(
                    first.position,
                    after + 1,
                    "a page starts right after `after`"
                );
            }
            assert_consecutive(&page);
            seen.extend(page.iter().filter(|e| e.stream == stream).cloned());
            match page.last() {
                Some(e) if e.position < last => after = e.position,
                _ => break,
            }
            assert_eq!(page.len(), limit, "a short page means the end of the log");
        }
        assert_eq!(seen, mine, "limit {limit}");
    }
    assert!(store.read_all(before, 0).await.unwrap().is_empty());
    assert!(store.read_all(u64::MAX, 10).await.unwrap().is_empty());
    let head = store.head().await.unwrap();
    assert!(
        store
            .read_all(head, 10)
            .await
            .unwrap()
            .iter()
            .all(|e| e.position > head)
    );
    assert_eq!(store.read_all(last - 1, 1).await.unwrap()[0].position, last);
    assert_eq!(
        store.read_all(last - 1, usize::MAX).await.unwrap()[0],
        *mine.last().unwrap()
    );
}

pub async fn head_follows_appends(store: &dyn EventStore) {
    let stream = unique("head");
    let before = store.head().await.unwrap();
    let recorded = store
        .append(vec![write(&stream, 0, events(&stream, 1, 3))])
        .await
        .unwrap();
    let head = store.head().await.unwrap();
    assert!(
        head >= recorded[2].position,
        "head {head} covers the acknowledged append"
    );
    assert!(head > before);
    // The head is an event in the log, and nothing lies beyond it.
    let at_head = store.read_all(head - 1, 1).await.unwrap();
    assert_eq!(at_head.len(), 1);
    assert_eq!(at_head[0].position, head);
    let failed = store
        .append(vec![write(&stream, 0, events(&stream, 9, 1))])
        .await;
    assert!(failed.is_err());
    assert!(store.head().await.unwrap() >= head);
}

pub async fn large_stream_loads_whole_and_after_a_version(store: &dyn EventStore) {
    let stream = unique("large");
    let total = 5_000u64;
    let chunk = MAX_EVENTS_PER_APPEND as u64;
    let mut version = 0;
    while version < total {
        store
            .append(vec![write(
                &stream,
                version,
                events(&stream, version + 1, chunk),
            )])
            .await
            .unwrap();
        version += chunk;
    }
    let all = store.load(&stream, 0).await.unwrap();
    assert_eq!(all.len() as u64, total);
    for (i, e) in all.iter().enumerate() {
        assert_matches(e, &stream, i as u64 + 1, &event(&stream, i as u64 + 1));
    }
    for pair in all.windows(2) {
        assert!(pair[1].position > pair[0].position);
    }
    let tail = store.load(&stream, 4_990).await.unwrap();
    assert_eq!(tail.len(), 10);
    assert_eq!(tail[..], all[4_990..]);
    let middle = store.load(&stream, 2_500).await.unwrap();
    assert_eq!(middle[..], all[2_500..]);
    assert!(store.load(&stream, total).await.unwrap().is_empty());
    store
        .append(vec![write(&stream, total, events(&stream, total + 1, 1))])
        .await
        .unwrap();
    assert_eq!(store.load(&stream, total).await.unwrap().len(), 1);
}

pub async fn limits_are_refused_with_too_large(store: &dyn EventStore) {
    let stream = unique("limits");
    let head = store.head().await.unwrap();
    let mut big = event(&stream, 1);
    big.payload = format!("\"{}\"", "x".repeat(MAX_PAYLOAD_BYTES - 1)); // MAX + 1 bytes
    let error = store
        .append(vec![write(&stream, 0, vec![big])])
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::TooLarge(_)), "{error:?}");
    // In a multi-stream append, one oversized event refuses all of it.
    let other = unique("limits-other");
    let mut big = event(&stream, 1);
    big.payload = "y".repeat(MAX_PAYLOAD_BYTES + 1);
    let error = store
        .append(vec![
            write(&other, 0, events(&other, 1, 1)),
            write(&stream, 0, vec![big]),
        ])
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::TooLarge(_)), "{error:?}");
    let error = store
        .append(vec![
            write(&stream, 0, events(&stream, 1, MAX_EVENTS_PER_APPEND as u64)),
            write(&other, 0, events(&other, 1, 1)),
        ])
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::TooLarge(_)), "{error:?}");
    let error = store
        .append(vec![write(&"s".repeat(100_000), 0, events(&stream, 1, 1))])
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::TooLarge(_)), "{error:?}");
    assert!(store.load(&stream, 0).await.unwrap().is_empty());
    assert!(store.load(&other, 0).await.unwrap().is_empty());
    let later = store.read_all(head, 10_000).await.unwrap();
    assert!(
        later
            .iter()
            .all(|e| e.stream != stream && e.stream != other)
    );
    // Exactly at the limits is fine.
    let mut max = event(&stream, 1);
    max.payload = "z".repeat(MAX_PAYLOAD_BYTES);
    let recorded = store
        .append(vec![write(&stream, 0, vec![max.clone()])])
        .await
        .unwrap();
    assert_eq!(recorded[0].payload.len(), MAX_PAYLOAD_BYTES);
    assert_eq!(
        store.load(&stream, 0).await.unwrap()[0].payload,
        max.payload
    );
    let recorded = store
        .append(vec![write(
            &other,
            0,
            events(&other, 1, MAX_EVENTS_PER_APPEND as u64),
        )])
        .await
        .unwrap();
    assert_eq!(recorded.len(), MAX_EVENTS_PER_APPEND);
}

/// Many appenders race for the same version of fresh streams: exactly one wins each race.
pub async fn racing_appenders_one_winner_per_version(store: &dyn EventStore) {
    const RACERS: usize = 16;
    for race in 0..5u64 {
        let stream = unique("race");
        if race % 2 == 1 {
            store
                .append(vec![write(&stream, 0, events(&stream, 0, 2))])
                .await
                .unwrap();
        }
        let expected = if race % 2 == 1 { 2 } else { 0 };
        let attempts = (0..RACERS).map(|racer| {
            let stream = stream.clone();
            async move {
                let payload = event(&stream, 1000 + racer as u64);
                (
                    racer,
                    store
                        .append(vec![write(&stream, expected, vec![payload])])
                        .await,
                )
            }
        });
        let results = futures_util::future::join_all(attempts).await;
        let winners: Vec<_> = results
            .iter()
            .filter(|(_, r)| r.is_ok())
            .map(|(racer, _)| *racer)
            .collect();
        assert_eq!(winners.len(), 1, "exactly one winner, got {winners:?}");
        for (_, result) in &results {
            if let Err(error) = result {
                assert_eq!(
                    *error,
                    StoreError::Conflict {
                        stream: stream.clone(),
                        expected,
                        actual: expected + 1
                    }
                );
            }
        }
        let loaded = store.load(&stream, expected).await.unwrap();
        assert_eq!(loaded.len(), 1);
        assert_eq!(
            loaded[0].payload,
            event(&stream, 1000 + winners[0] as u64).payload
        );
    }
}

/// Appenders that each reload and retry on conflict: every acknowledged event is in the
/// stream exactly once, at the version it was acknowledged with, and nothing else is.
pub async fn racing_appenders_lose_and_duplicate_nothing(store: &dyn EventStore) {
    const WRITERS: u64 = 8;
    const EACH: u64 = 15;
    let stream = unique("contended");
    let attempts_made = Arc::new(AtomicU64::new(0));
    let writers = (0..WRITERS).map(|writer| {
        let stream = stream.clone();
        let attempts_made = Arc::clone(&attempts_made);
        async move {
            let mut acknowledged = Vec::new();
            let mut n = 0;
            while n < EACH {
                let version = store.load(&stream, 0).await.unwrap().len() as u64;
                let payload = event(&stream, writer * 1000 + n);
                attempts_made.fetch_add(1, Ordering::Relaxed);
                match store
                    .append(vec![write(&stream, version, vec![payload])])
                    .await
                {
                    Ok(recorded) => {
                        assert_eq!(recorded[0].stream_version, version + 1);
                        acknowledged.push(recorded.into_iter().next().unwrap());
                        n += 1;
                    }
                    Err(StoreError::Conflict { actual, .. }) => assert!(actual > version),
                    Err(other) => panic!("unexpected {other:?}"),
                }
                tokio::task::yield_now().await;
            }
            acknowledged
        }
    });
    let acknowledged: Vec<RecordedEvent> = futures_util::future::join_all(writers)
        .await
        .into_iter()
        .flatten()
        .collect();
    let loaded = store.load(&stream, 0).await.unwrap();
    assert_eq!(
        loaded.len() as u64,
        WRITERS * EACH,
        "no lost and no extra events"
    );
    let versions: Vec<_> = loaded.iter().map(|e| e.stream_version).collect();
    assert_eq!(versions, (1..=WRITERS * EACH).collect::<Vec<_>>());
    let by_version: BTreeMap<u64, &RecordedEvent> =
        loaded.iter().map(|e| (e.stream_version, e)).collect();
    for ack in &acknowledged {
        assert_eq!(
            by_version[&ack.stream_version], ack,
            "acknowledged event stored as acknowledged"
        );
    }
    let payloads: HashSet<_> = loaded.iter().map(|e| e.payload.clone()).collect();
    assert_eq!(payloads.len(), loaded.len(), "no event stored twice");
    for pair in loaded.windows(2) {
        assert!(pair[1].position > pair[0].position);
    }
}

pub async fn recorded_at_never_decreases_with_position(store: &dyn EventStore) {
    let streams: Vec<String> = (0..8).map(|i| unique(&format!("time-{i}"))).collect();
    let before = store.head().await.unwrap();
    let started = jiff::Timestamp::now();
    let appends = streams.iter().map(|stream| async move {
        for i in 0..5u64 {
            store
                .append(vec![write(stream, i, events(stream, i + 1, 1))])
                .await
                .unwrap();
        }
    });
    futures_util::future::join_all(appends).await;
    let finished = jiff::Timestamp::now();
    let log = store.read_all(before, 100_000).await.unwrap();
    for pair in log.windows(2) {
        assert!(
            pair[1].recorded_at >= pair[0].recorded_at,
            "{:?} then {:?}",
            pair[0],
            pair[1]
        );
    }
    let mine: Vec<_> = log.iter().filter(|e| streams.contains(&e.stream)).collect();
    assert_eq!(mine.len(), 40);
    // The store's clock is close to ours (a generous margin for remote stores).
    let margin = jiff::SignedDuration::from_secs(60);
    for e in mine {
        assert!(
            e.recorded_at >= started - margin && e.recorded_at <= finished + margin,
            "{e:?}"
        );
    }
}

/// Names and payloads are opaque text: odd ones are stored and read back as given.
pub async fn odd_input_is_handled(store: &dyn EventStore) {
    let base = unique("odd");
    let names = [
        format!("{base}:'; DROP TABLE events; --"),
        format!("{base}:%_*?[]"),
        format!("{base}:日本語\u{0}nul"),
        format!("{base} "),
    ];
    for name in &names {
        let mut e = event(name, 1);
        e.event_type = "typé\"'".into();
        e.payload = "not json at all \u{0} \u{10FFFF}".into();
        store
            .append(vec![write(name, 0, vec![e.clone()])])
            .await
            .unwrap();
        let loaded = store.load(name, 0).await.unwrap();
        assert_eq!(loaded.len(), 1, "{name:?}");
        assert_matches(&loaded[0], name, 1, &e);
    }
    // A prefix of a stream name is another stream.
    assert!(store.load(&base, 0).await.unwrap().is_empty());
    let error = store
        .append(vec![write(&names[0], u64::MAX, events(&names[0], 2, 1))])
        .await
        .unwrap_err();
    assert!(
        matches!(error, StoreError::Conflict { actual: 1, .. }),
        "{error:?}"
    );
    assert_eq!(store.load(&names[0], u64::MAX - 1).await.unwrap(), vec![]);
}
