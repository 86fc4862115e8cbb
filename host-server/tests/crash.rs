//! The crash test: many concurrent clients book while the real server binary is killed with
//! `kill -9` at random moments. After every restart, every acknowledged booking (201) is
//! present exactly as acknowledged, no table is given twice, and the read models equal a
//! rebuild from the event log.
//!
//! `RESERVATION_CRASH_KILLS` sets the number of kills (default 5, for CI); the README's
//! reliability section runs 20:
//! `RESERVATION_CRASH_KILLS=20 cargo test -p reservation-server --test crash -- --nocapture`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use reservation_server::projection::ReadModels;
use serde_json::{Value, json};

#[path = "support/process.rs"]
mod process;

use process::{ServerProcess, day, token};
const RESTAURANTS: [&str; 3] = ["c1", "c2", "c3"];
const TABLES: usize = 8;
const DAYS: i64 = 45;
/// Requested start times, two hours apart (a turn is one hour, flex a quarter).
const SLOTS: [&str; 7] = [
    "10:00", "12:00", "14:00", "16:00", "18:00", "20:00", "22:00",
];
const TURN_MINUTES: i64 = 60;
const WORKERS: u32 = 32;

fn start(dir: &Path) -> ServerProcess {
    ServerProcess::start(dir, "warn,reservation_server::startup=info")
}

fn admin_client(dir: &Path) -> Client {
    let token = token(
        dir,
        &["--role", "admin", "--subject", "crash-test", "--ttl", "1d"],
    );
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    Client::builder()
        .default_headers(headers)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn restaurant(id: &str) -> Value {
    process::all_day_restaurant(id, "Crash Diner", TABLES)
}

/// Books as fast as it can until `stop`; returns the acknowledged outcomes and the attempts.
async fn worker(
    client: Client,
    base: String,
    worker: u32,
    round: usize,
    stop: Arc<AtomicBool>,
    acks: Arc<AtomicUsize>,
) -> (Vec<Value>, usize) {
    let mut acknowledged = Vec::new();
    let mut attempts = 0;
    let mut n = 0u32;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        attempts += 1;
        let restaurant = RESTAURANTS[fastrand::usize(..RESTAURANTS.len())];
        let body = json!({
            "id": format!("k{round}-{worker}-{n}"), "user_id": format!("w{worker}"), "name": "Load",
            "party_size": 1 + fastrand::i64(0..4), "date": day(2 + fastrand::i64(0..DAYS)),
            "time": SLOTS[fastrand::usize(..SLOTS.len())],
        });
        let sent = client
            .post(format!("{base}/restaurants/{restaurant}/reservations"))
            .json(&body)
            .send()
            .await;
        let Ok(response) = sent else { break };
        if response.status() != StatusCode::CREATED {
            continue;
        }
        match response.json::<Value>().await {
            Ok(outcome) => {
                acknowledged.push(outcome);
                acks.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => break,
        }
    }
    (acknowledged, attempts)
}

/// Confirmed reservations of one table never overlap (each holds its table for a turn).
fn assert_no_overlap<'a>(reservations: impl Iterator<Item = &'a Value>, what: &str) {
    let mut starts: BTreeMap<(String, String), Vec<i64>> = BTreeMap::new();
    for r in reservations.filter(|r| r["status"] == "confirmed") {
        let start: jiff::civil::DateTime = r["starts_at"].as_str().unwrap().parse().unwrap();
        let minutes = start
            .date()
            .since(jiff::civil::date(2000, 1, 1))
            .unwrap()
            .get_days() as i64
            * 1440
            + i64::from(start.hour()) * 60
            + i64::from(start.minute());
        for table in r["table_ids"].as_array().unwrap() {
            starts
                .entry((r["restaurant_id"].to_string(), table.to_string()))
                .or_default()
                .push(minutes);
        }
    }
    for (key, mut list) in starts {
        list.sort_unstable();
        for pair in list.windows(2) {
            assert!(
                pair[1] - pair[0] >= TURN_MINUTES,
                "{what} double booking of {key:?}: starts {pair:?} (minutes)"
            );
        }
    }
}

/// Every acknowledged outcome is stored as acknowledged; no table is held twice on a day.
async fn verify(
    client: &Client,
    server: &ServerProcess,
    acknowledged: &BTreeMap<String, Value>,
    check_all: bool,
    fresh: &[String],
) {
    let ids: Vec<&String> = if check_all {
        acknowledged.keys().collect()
    } else {
        fresh.iter().collect()
    };
    for id in ids {
        process::assert_stored_as_acknowledged(client, server, id, &acknowledged[id]).await;
    }
    // No table was acknowledged to two overlapping bookings.
    assert_no_overlap(acknowledged.values(), "acknowledged");
    for restaurant in RESTAURANTS {
        for d in 2..2 + DAYS {
            let date = day(d);
            let listing: Value = client
                .get(server.url(&format!(
                    "/restaurants/{restaurant}/reservations?date={date}"
                )))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_no_overlap(listing["reservations"].as_array().unwrap().iter(), "stored");
        }
    }
}

/// Stops the server gracefully, then checks that a rebuild from the log equals the live read
/// models.
fn projections_equal_a_rebuild(server: ServerProcess, dir: &Path) -> tokio::task::JoinHandle<()> {
    server.terminate();
    let dir = dir.to_owned();
    tokio::spawn(async move {
        let live = ReadModels::open(&dir).unwrap().dump().await.unwrap();
        process::rebuild_projections(&dir);
        let after = ReadModels::open(&dir).unwrap().dump().await.unwrap();
        assert!(
            live == after,
            "the read models differ from a rebuild from the log"
        );
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_random_moments_loses_nothing_and_oversells_nothing() {
    let kills: usize = std::env::var("RESERVATION_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let dir = tempfile::tempdir().unwrap();
    let client = admin_client(dir.path());
    let server = start(dir.path());
    for r in RESTAURANTS {
        let response = client
            .post(server.url("/restaurants"))
            .json(&restaurant(r))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let mut server = Some(server);
    let mut acknowledged: BTreeMap<String, Value> = BTreeMap::new();
    let (mut attempts, mut confirmed) = (0usize, 0usize);
    let started = Instant::now();
    for round in 0..kills {
        let running = match server.take() {
            Some(server) => server,
            None => start(dir.path()),
        };
        let stop = Arc::new(AtomicBool::new(false));
        let acks = Arc::new(AtomicUsize::new(0));
        let workers: Vec<_> = (0..WORKERS)
            .map(|w| {
                tokio::spawn(worker(
                    client.clone(),
                    running.base.clone(),
                    w,
                    round,
                    Arc::clone(&stop),
                    Arc::clone(&acks),
                ))
            })
            .collect();
        // Kill at a random moment once the load is flowing.
        let deadline = Instant::now() + Duration::from_secs(60);
        while acks.load(Ordering::Relaxed) < 5 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(fastrand::u64(0..1500))).await;
        running.kill_9();
        stop.store(true, Ordering::Relaxed);
        let mut fresh = Vec::new();
        for w in workers {
            let (outcomes, tried) = w.await.unwrap();
            attempts += tried;
            for outcome in outcomes {
                let id = outcome["id"].as_str().unwrap().to_owned();
                if outcome["status"] == "confirmed" {
                    confirmed += 1;
                }
                fresh.push(id.clone());
                acknowledged.insert(id, outcome);
            }
        }
        let restarted = start(dir.path());
        verify(
            &client,
            &restarted,
            &acknowledged,
            round + 1 == kills,
            &fresh,
        )
        .await;
        projections_equal_a_rebuild(restarted, dir.path())
            .await
            .unwrap();
        eprintln!(
            "crash round {}/{kills}: {} acknowledged this round, {} in all",
            round + 1,
            fresh.len(),
            acknowledged.len()
        );
    }
    eprintln!(
        "crash test: {kills} kills, {attempts} attempts, {} acknowledged ({confirmed} confirmed), 0 lost, 0 double bookings, read models equal a rebuild after every restart ({:.0?})",
        acknowledged.len(),
        started.elapsed()
    );
    assert!(acknowledged.len() >= kills * 5);
}
