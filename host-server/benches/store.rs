//! Durable append throughput of the SQLite event store (group commit), booking-shaped appends.
//!
//! ```text
//! cargo bench -p reservation-server --bench store
//! ```
//!
//! Each append is what a booking writes: a new reservation stream (2 events, expected version 0)
//! and one event on a day book (expected version = its current one), spread over many
//! restaurants and days, so appenders do not conflict. For 1, 16 and 64 concurrent appenders it
//! runs ROUNDS windows of SECS seconds on a fresh database (after a warm-up) and prints the
//! median appends/s (min–max over the windows) and append latency percentiles.
//! Every acknowledged append is fsynced (the store's syncer fsyncs the WAL before answering).
//!
//! Environment: `STORE_BENCH_CONCURRENCY` (default `1,16,64`), `STORE_BENCH_SECS` (default 3),
//! `STORE_BENCH_ROUNDS` (default 5), `STORE_BENCH_MAX_BATCH` (default: the store's default),
//! `STORE_BENCH_DIR` (where the temporary databases go; default the system temp dir).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reservation_server::store::sqlite::{SqliteOptions, SqliteStore};
use reservation_server::store::{EventStore, NewEvent, StreamWrite};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn booking(writer: usize, n: u64, versions: &mut HashMap<String, u64>) -> Vec<StreamWrite> {
    // 200 restaurants x 30 days of day books, visited in a writer-specific order.
    let slot = (n as usize * 7 + writer * 13) % 6000;
    let (restaurant, day) = (slot / 30, slot % 30 + 1);
    let book = format!("daybook:bench-restaurant-{restaurant:03}-w{writer}:2026-12-{day:02}");
    let reservation_id = format!("{:012x}-7000-8000-{writer:012x}", n);
    let reservation = format!("reservation:{reservation_id}");
    let version = versions.entry(book.clone()).or_insert(0);
    let expected = *version;
    *version += 1;
    let allocated = format!(
        r#"{{"type":"tables_allocated","version":1,"restaurant_id":"bench-restaurant-{restaurant:03}","date":"2026-12-{day:02}","reservation_id":"{reservation_id}","table_ids":["t4","t5"],"party_size":4,"starts_at":"2026-12-{day:02}T19:30:00","held_until":"2026-12-{day:02}T21:45:00"}}"#
    );
    let requested = format!(
        r#"{{"type":"reservation_requested","version":1,"reservation_id":"{reservation_id}","restaurant_id":"bench-restaurant-{restaurant:03}","user_id":"user-{writer}-{n}","guest_name":"Ada Lovelace","party_size":4,"date":"2026-12-{day:02}","requested_time":"19:30"}}"#
    );
    let confirmed = format!(
        r#"{{"type":"reservation_confirmed","version":1,"reservation_id":"{reservation_id}","restaurant_id":"bench-restaurant-{restaurant:03}","user_id":"user-{writer}-{n}","guest_name":"Ada Lovelace","party_size":4,"date":"2026-12-{day:02}","requested_time":"19:30","time":"19:30","starts_at":"2026-12-{day:02}T19:30:00","table_ids":["t4","t5"],"at":"2026-12-01T10:00:00"}}"#
    );
    let event = |event_type: &str, payload: String| NewEvent {
        event_type: event_type.into(),
        schema_version: 1,
        payload,
    };
    vec![
        StreamWrite {
            stream: book,
            expected_version: expected,
            events: vec![event("tables_allocated", allocated)],
        },
        StreamWrite {
            stream: reservation,
            expected_version: 0,
            events: vec![
                event("reservation_requested", requested),
                event("reservation_confirmed", confirmed),
            ],
        },
    ]
}

struct Figures {
    appenders: usize,
    rates: Vec<f64>,
    latencies: Vec<Duration>,
    events: u64,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

async fn run(appenders: usize, secs: u64, rounds: usize, options: SqliteOptions) -> Figures {
    let base = std::env::var("STORE_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir());
    let dir = tempfile::tempdir_in(base).unwrap();
    let store = Arc::new(SqliteStore::open_with(dir.path(), options).unwrap());
    let done = Arc::new(AtomicU64::new(0));
    let recording = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..appenders)
        .map(|writer| {
            let (store, done, recording, stop) = (
                Arc::clone(&store),
                Arc::clone(&done),
                Arc::clone(&recording),
                Arc::clone(&stop),
            );
            tokio::spawn(async move {
                let mut versions = HashMap::new();
                let mut latencies = Vec::new();
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let writes = booking(writer, n, &mut versions);
                    let started = Instant::now();
                    store.append(writes).await.unwrap();
                    if recording.load(Ordering::Relaxed) {
                        latencies.push(started.elapsed());
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                    n += 1;
                }
                latencies
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await; // warm-up
    recording.store(true, Ordering::Relaxed);
    let mut rates = Vec::new();
    for _ in 0..rounds {
        let (start_count, start) = (done.load(Ordering::Relaxed), Instant::now());
        tokio::time::sleep(Duration::from_secs(secs)).await;
        let (end_count, elapsed) = (done.load(Ordering::Relaxed), start.elapsed());
        rates.push((end_count - start_count) as f64 / elapsed.as_secs_f64());
    }
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    latencies.sort();
    let head = store.head().await.unwrap();
    store.shutdown().await;
    Figures {
        appenders,
        rates,
        latencies,
        events: head,
    }
}

fn main() {
    let concurrency: Vec<usize> = std::env::var("STORE_BENCH_CONCURRENCY")
        .unwrap_or_else(|_| "1,16,64".into())
        .split(',')
        .filter_map(|c| c.trim().parse().ok())
        .collect();
    let secs = env_or("STORE_BENCH_SECS", 3u64);
    let rounds = env_or("STORE_BENCH_ROUNDS", 5usize);
    let mut options = SqliteOptions::default();
    options.max_batch_appends = env_or("STORE_BENCH_MAX_BATCH", options.max_batch_appends);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "SQLite event store, booking-shaped appends (2 streams, 3 events), durable; {rounds} x {secs} s per row, max batch {}",
        options.max_batch_appends
    );
    println!(
        "{:>9} {:>14} {:>21} {:>9} {:>9} {:>9} {:>12}",
        "appenders", "appends/s med", "min..max", "p50 ms", "p99 ms", "max ms", "events total"
    );
    for appenders in concurrency {
        let mut figures = runtime.block_on(run(appenders, secs, rounds, options.clone()));
        let (min, max) = figures
            .rates
            .iter()
            .fold((f64::MAX, 0f64), |(lo, hi), r| (lo.min(*r), hi.max(*r)));
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let med = median(&mut figures.rates);
        println!(
            "{:>9} {:>14.0} {:>21} {:>9.2} {:>9.2} {:>9.2} {:>12}",
            figures.appenders,
            med,
            format!("{min:.0}..{max:.0}"),
            ms(percentile(&figures.latencies, 0.50)),
            ms(percentile(&figures.latencies, 0.99)),
            ms(percentile(&figures.latencies, 1.0)),
            figures.events,
        );
    }
}
