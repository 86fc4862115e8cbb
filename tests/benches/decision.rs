//! Median decision time for the same day snapshot: native `reservation-core`, the same JSON entry
//! point compiled natively, the edge module in wasmtime, and the npm package in Node.
//!
//!   cargo bench -p reservation-conformance --bench decision
//!
//! The decision is a preview (`preview(snapshot, request, now)`): a request for 19:00 on a busy
//! evening, decided against the day's snapshot exactly as the server would decide it. Each host
//! takes its own input form: Rust values (native core), JSON text (native JSON, wasmtime) or JS
//! values (Node). Samples time batches of calls; the report gives the median per call.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::process::Command;
use std::time::Instant;

use reservation_conformance::edge::Edge;
use reservation_conformance::native::Native;
use reservation_conformance::paths;
use reservation_core::request::{ReservationRequest, preview};
use reservation_core::snapshot::DaySnapshot;
use reservation_core::{DateTime, State};
use serde_json::{Value, json};

const SAMPLES: usize = 101;

/// A restaurant of 24 tables and 6 combinations with a busy Tuesday evening (24 parties).
fn busy_snapshot() -> Value {
    let mut tables = Vec::new();
    for i in 1..=24 {
        let seats = [2, 2, 4, 4, 6, 8][i % 6];
        tables.push(json!({"id": format!("T{i:02}"), "seats": seats}));
    }
    let combinations: Vec<Value> =
        (0..6).map(|i| json!({"tables": [format!("T{:02}", 2 * i + 1), format!("T{:02}", 2 * i + 2)], "seats": 6 + i % 3})).collect();
    let hours = json!(["12:00-15:00", "18:00-23:30"]);
    let restaurant = json!({
        "id": "bench", "name": "Bench", "timezone": "Europe/Berlin", "tables": tables, "combinations": combinations,
        "opening_hours": {"monday": hours, "tuesday": hours, "wednesday": hours, "thursday": hours, "friday": hours, "saturday": hours, "sunday": hours},
        "policy": {"turn_minutes": 90, "buffer_minutes": 15, "flex_minutes": 30, "pacing": {"max_guests": 24}},
    });
    let mut host = Native::new(State::default());
    host.call(&json!({"op": "decide", "command": {"type": "register_restaurant", "version": 1, "restaurant": restaurant}}));
    let times = [
        "18:00", "18:30", "19:00", "19:30", "20:00", "20:30", "21:00", "21:30",
    ];
    for i in 0..24 {
        let command = json!({
            "type": "request_reservation", "version": 1, "reservation_id": format!("r{i}"), "restaurant_id": "bench",
            "user_id": "u", "guest_name": "Guest", "party_size": 2 + i % 5, "date": "2026-12-08",
            "time": times[i % times.len()], "now": "2026-12-01T10:00:00",
        });
        host.call(&json!({"op": "decide", "command": command}));
    }
    let restaurant = host.state.restaurant.clone().unwrap();
    let day = host
        .state
        .day_book(&restaurant.id, "2026-12-08".parse().unwrap());
    serde_json::to_value(DaySnapshot::of(&restaurant, &day)).unwrap()
}

/// Median seconds per call of `f`, timing batches of `batch` calls.
fn median(batch: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..batch * 5 {
        f();
    }
    let mut samples: Vec<f64> = (0..SAMPLES)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..batch {
                f();
            }
            t.elapsed().as_secs_f64() / batch as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[SAMPLES / 2]
}

fn micros(seconds: f64) -> String {
    format!("{:8.1} µs", seconds * 1e6)
}

fn main() {
    let snapshot_json = busy_snapshot();
    let request_json =
        json!({"name": "Ada", "party_size": 4, "date": "2026-12-08", "time": "19:00"});
    let now = "2026-12-08T12:00:00";
    let occupancy = snapshot_json["occupancy"].as_array().map_or(0, Vec::len);

    let snapshot: DaySnapshot = serde_json::from_value(snapshot_json.clone()).unwrap();
    let request: ReservationRequest = serde_json::from_value(request_json.clone()).unwrap();
    let civil: DateTime = now.parse().unwrap();
    let answer = preview(&snapshot, &request, civil).unwrap();
    println!(
        "decision: preview of {request_json} on a snapshot of {occupancy} holds → {}",
        serde_json::to_string(&answer).unwrap()
    );

    let input = json!({"snapshot": snapshot_json, "request": request_json, "now": now}).to_string();
    let native_core = median(200, || {
        black_box(preview(black_box(&snapshot), black_box(&request), civil).ok());
    });
    let native_json = median(50, || {
        black_box(reservation_edge::api::preview(black_box(input.as_bytes())));
    });
    let mut edge = Edge::new().unwrap_or_else(|e| panic!("{e}"));
    let expected = reservation_edge::api::preview(input.as_bytes());
    assert_eq!(
        edge.call_raw(2, input.as_bytes()).unwrap(),
        expected,
        "wasmtime and native answer differently"
    );
    let wasmtime = median(20, || {
        black_box(edge.call_raw(2, black_box(input.as_bytes())).unwrap());
    });

    let file = std::env::temp_dir().join(format!("reservation-bench-{}.json", std::process::id()));
    std::fs::write(
        &file,
        json!({"snapshot": snapshot_json, "request": request_json, "now": now, "samples": SAMPLES})
            .to_string(),
    )
    .unwrap();
    let output = Command::new(std::env::var("NODE").unwrap_or_else(|_| "node".into()))
        .current_dir(paths::js_dir())
        .arg("bench.mjs")
        .arg(&file)
        .output();
    let _ = std::fs::remove_file(&file);
    let node: Value = match output {
        Ok(out) if out.status.success() => serde_json::from_slice(&out.stdout).unwrap(),
        Ok(out) => panic!(
            "node bench failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => panic!("cannot run node: {e}"),
    };
    assert_eq!(
        node["answer"],
        serde_json::from_slice::<Value>(&expected).unwrap()["preview"],
        "Node answers differently"
    );
    let node_call = node["previewReservation"].as_f64().unwrap();
    let node_prepared = node["prepared"].as_f64().unwrap();

    let ratio = |x: f64| format!("{:6.2}×", x / native_core);
    println!("median time per decision ({SAMPLES} samples):");
    println!(
        "  native core (Rust values)              {}  {}",
        micros(native_core),
        ratio(native_core)
    );
    println!(
        "  native JSON (edge api, compiled native) {}  {}",
        micros(native_json),
        ratio(native_json)
    );
    println!(
        "  wasmtime (edge module, JSON ABI)       {}  {}",
        micros(wasmtime),
        ratio(wasmtime)
    );
    println!(
        "  node previewReservation (npm package)  {}  {}",
        micros(node_call),
        ratio(node_call)
    );
    println!(
        "  node PreparedSnapshot.preview (npm)    {}  {}",
        micros(node_prepared),
        ratio(node_prepared)
    );
    println!("  wasmtime / native JSON: {:.2}×", wasmtime / native_json);
}
