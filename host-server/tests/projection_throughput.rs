//! How fast the projection applies a log of bookings, from the real stores.
//!
//! `cargo test --release -p reservation-server --test projection_throughput -- --nocapture`
//! prints events/s for a catch-up over the whole log and for a rebuild. The number of bookings
//! is `PROJECTION_BENCH_BOOKINGS` (default 20,000; each confirmed booking is 2 events on 2
//! streams). The assertion is a floor far below the target, so a loaded CI machine passes while a
//! pathological slowdown (e.g. a transaction per event) does not.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod projection_support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use projection_support::*;
use reservation_core::{Command, Date, DateTime, Event, State, decide, evolve};
use reservation_server::projection::ReadModels;
use reservation_server::store::{EventStore, NewEvent, StreamWrite};
use serde_json::json;

const RESTAURANTS: usize = 50;
const DAYS: i64 = 30;
/// Events per batch in the live-like pass (about 10 ms of bookings at 15,000/s).
const SMALL_BATCH: u64 = 300;

fn bookings() -> usize {
    std::env::var("PROJECTION_BENCH_BOOKINGS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

/// Decides `n` bookings spread over restaurants, days and times against in-memory state (the
/// decisions are real; loading is skipped since each stream is written only from here), and
/// appends them 50 bookings per append, 16 appends in flight.
async fn fill(store: Arc<dyn EventStore>, n: usize) -> u64 {
    let tables: Vec<_> = (1..=20)
        .map(|i| (format!("T{i}"), [2u16, 4, 6][i % 3]))
        .collect();
    let tables: Vec<(&str, u16)> = tables
        .iter()
        .map(|(id, seats)| (id.as_str(), *seats))
        .collect();
    let mut states: HashMap<String, State> = HashMap::new();
    for r in 0..RESTAURANTS {
        let id = format!("r{r}");
        let recorded = run(
            store.as_ref(),
            register(&id, "UTC", &tables, &["10:00-23:00"]),
        )
        .await;
        let event: Event = serde_json::from_str(&recorded[0].payload).unwrap();
        states.insert(id, evolve(State::default(), &event));
    }
    let first_day: Date = "2030-01-01".parse().unwrap();
    let now: DateTime = "2029-12-01T10:00".parse().unwrap();
    let mut versions: HashMap<String, u64> = HashMap::new();
    let mut pending: Vec<StreamWrite> = Vec::new();
    let mut in_flight = tokio::task::JoinSet::new();
    for i in 0..n {
        let restaurant = format!("r{}", i % RESTAURANTS);
        let date = first_day
            .checked_add(jiff::Span::new().days((i / RESTAURANTS) as i64 % DAYS))
            .unwrap();
        let minute = 600 + 15 * ((i * 7919) % 49);
        let command: Command = serde_json::from_value(json!({
            "type": "request_reservation", "reservation_id": format!("b-{i:08}"), "restaurant_id": restaurant,
            "user_id": format!("u{}", i % 5000), "guest_name": "Guest", "party_size": 2 + (i % 3),
            "date": date.to_string(), "time": format!("{:02}:{:02}", minute / 60, minute % 60), "now": now.to_string()
        }))
        .unwrap();
        let state = states.get_mut(&restaurant).unwrap();
        let events = decide(&command, state).unwrap();
        for event in events {
            *state = evolve(std::mem::take(state), &event);
            let stream = event.stream().to_string();
            let version = versions.entry(stream.clone()).or_insert(0);
            pending.push(StreamWrite {
                stream,
                expected_version: *version,
                events: vec![NewEvent {
                    event_type: event.type_name().into(),
                    schema_version: event.version(),
                    payload: serde_json::to_string(&event).unwrap(),
                }],
            });
            *version += 1;
        }
        // The reservations map is not needed for further decisions here; keep memory flat.
        state.reservations.clear();
        if pending.len() >= 96 || i + 1 == n {
            let writes = std::mem::take(&mut pending);
            let store = Arc::clone(&store);
            in_flight.spawn(async move { store.append(writes).await.unwrap() });
            // A day book recurs every RESTAURANTS * DAYS = 1,500 bookings, more than the
            // 16 appends in flight hold (16 * 48): concurrent appends never share a stream.
            if in_flight.len() >= 16 {
                while in_flight.join_next().await.is_some() {}
            }
        }
    }
    while in_flight.join_next().await.is_some() {}
    store.head().await.unwrap()
}

/// CPU time used by this process so far (user + system), from /proc/self/stat (Linux).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses): utime and stime are the 12th
    // and 13th, in clock ticks (100 per second on Linux).
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projection_keeps_up_with_bookings() {
    let n = bookings();
    for backend in backends() {
        let head = fill(Arc::clone(&backend.store), n).await;
        let read = ReadModels::open(&backend.dir.path().join("read")).unwrap();
        let (started, cpu) = (Instant::now(), cpu_seconds());
        assert_eq!(read.catch_up(backend.store.as_ref()).await.unwrap(), head);
        let (catch_up, catch_up_cpu) = (started.elapsed(), cpu_seconds() - cpu);
        let (started, cpu) = (Instant::now(), cpu_seconds());
        assert_eq!(read.rebuild(backend.store.as_ref()).await.unwrap(), head);
        let (rebuild, rebuild_cpu) = (started.elapsed(), cpu_seconds() - cpu);
        // As a live server sees it: small batches (the events of a few milliseconds).
        let small = ReadModels::open(&backend.dir.path().join("small")).unwrap();
        let (started, cpu) = (Instant::now(), cpu_seconds());
        let mut position = 0;
        while position < head {
            position = (position + SMALL_BATCH).min(head);
            small
                .catch_up_to(backend.store.as_ref(), position)
                .await
                .unwrap();
        }
        let (live, live_cpu) = (started.elapsed(), cpu_seconds() - cpu);
        let rate = |d: std::time::Duration| head as f64 / d.as_secs_f64();
        let per_cpu = |cpu: f64| head as f64 / cpu.max(0.01);
        println!(
            "{:>6}: {head} events in batches of {SMALL_BATCH}: {:.2?} = {:.0} events/s \
             ({live_cpu:.2} CPU-s = {:.0} events per CPU-second)",
            backend.name,
            live,
            rate(live),
            per_cpu(live_cpu),
        );
        println!(
            "{:>6}: {head} events ({n} booking requests): catch-up {:.2?} = {:.0} events/s \
             ({catch_up_cpu:.2} CPU-s = {:.0} events per CPU-second); rebuild {:.2?} = {:.0} events/s \
             ({rebuild_cpu:.2} CPU-s = {:.0} events per CPU-second)",
            backend.name,
            catch_up,
            rate(catch_up),
            per_cpu(catch_up_cpu),
            rebuild,
            rate(rebuild),
            per_cpu(rebuild_cpu),
        );
        // The listings are there.
        let views = read.day("r0", "2030-01-01".parse().unwrap()).await.unwrap();
        assert!(!views.is_empty());
        assert!(
            rate(catch_up) > 2_000.0,
            "{}: projection far too slow: {:.0} events/s",
            backend.name,
            rate(catch_up)
        );
    }
}
