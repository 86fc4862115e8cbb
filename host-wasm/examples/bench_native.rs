//! The native side of `host-wasm/bench.sh`: the same questions on the same snapshot as
//! `bench/node.mjs` asks the npm package, timed the same way (median of runs of many calls).
//!
//! ```text
//! cargo run --release -p reservation-wasm --example bench_native -- BENCH_JSON
//! ```
//!
//! Prints one JSON line per measurement: `{"name", "median_us", "runs"}`. Times are CPU time
//! of this thread (`/proc/thread-self/schedstat`, so a busy machine does not inflate them),
//! or wall-clock time where that file is missing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reservation_core::DateTime;
use reservation_core::request::{ReservationRequest, preview};
use reservation_core::snapshot::DaySnapshot;
use serde_json::Value;
use std::hint::black_box;
use std::time::Instant;

const RUNS: usize = 9;

/// CPU time of this thread in microseconds, if the OS tells it.
fn cpu_us() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: f64 = text.split_whitespace().next()?.parse().ok()?;
    Some(nanos / 1e3)
}

/// Microseconds elapsed since `start` (CPU time where available).
fn clock() -> impl Fn() -> f64 {
    let wall = Instant::now();
    let cpu = cpu_us();
    move || match (cpu, cpu_us()) {
        (Some(start), Some(now)) => now - start,
        _ => wall.elapsed().as_secs_f64() * 1e6,
    }
}

/// Median over `RUNS` runs of the mean time per call, in microseconds; a run lasts ~0.3 s.
fn measure(name: &str, mut f: impl FnMut()) {
    let start = Instant::now();
    let mut calls = 0u32;
    while start.elapsed().as_millis() < 200 {
        f();
        calls += 1;
    }
    let per_run = (calls * 3 / 2).max(10);
    let mut runs: Vec<f64> = (0..RUNS)
        .map(|_| {
            let elapsed = clock();
            for _ in 0..per_run {
                f();
            }
            elapsed() / f64::from(per_run)
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    println!(
        "{}",
        serde_json::json!({"name": name, "median_us": runs[RUNS / 2], "runs": runs, "calls_per_run": per_run})
    );
}

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: bench_native BENCH_JSON");
    let bench: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let snapshot_text = bench["snapshot"].to_string();
    let snapshot: DaySnapshot = serde_json::from_value(bench["snapshot"].clone()).unwrap();
    let request: ReservationRequest = serde_json::from_value(bench["request"].clone()).unwrap();
    let now: DateTime = bench["now"].as_str().unwrap().parse().unwrap();
    let party_size = u16::try_from(bench["party_size"].as_u64().unwrap()).unwrap();
    assert!(preview(&snapshot, &request, now).is_ok());

    measure("preview", || {
        black_box(preview(black_box(&snapshot), black_box(&request), now).unwrap());
    });
    measure("availability", || {
        black_box(snapshot.availability(black_box(party_size), now).unwrap());
    });
    measure("preview_from_json", || {
        let snapshot: DaySnapshot = serde_json::from_str(black_box(&snapshot_text)).unwrap();
        black_box(preview(&snapshot, black_box(&request), now).unwrap());
    });
}
