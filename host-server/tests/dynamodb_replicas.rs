//! Stateless replicas on DynamoDB: two servers (each its own `Application`, own port, own
//! data dir, own caches and projector) on one DynamoDB Local table behave like one server.
//! DynamoDB Local is started by the harness on 127.0.0.1 with a free port (one per test
//! binary) and stopped at the end; every test gets fresh tables.
//!
//! - 200 concurrent bookings for one slot split across both replicas: exactly as many
//!   confirmed as tables fit, no table sold twice, both replicas' read models converge.
//! - The race test of #7: thousands of attempts (`RESERVATION_RACE_ATTEMPTS`, default 2,000)
//!   over a few slots across both replicas: no table held twice at once, checked on every
//!   table's holds in the event log.
//! - Read your writes across replicas, the restaurant view, as-of queries and the event feed
//!   on this store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[path = "support/dynamodb_local.rs"]
mod dynamodb_local;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{DAY_AFTER, TOMORROW, TestApp, booking, spawn_with};
use dynamodb_local::DynamoDbLocal;
use reqwest::StatusCode;
use reservation_server::config::StoreKind;
use serde_json::Value;
use tokio::sync::Semaphore;

/// Two replicas on fresh tables of the shared DynamoDB Local.
async fn replicas() -> (String, TestApp, TestApp) {
    let server = DynamoDbLocal::shared();
    let table = server.fresh_tables().await;
    let start = |table: String| async move {
        spawn_with(tempfile::tempdir().unwrap(), move |settings| {
            settings.store = StoreKind::Dynamodb;
            settings.dynamodb_table = Some(table);
            settings.aws = Some(server.sdk_config());
            // Every append of the table takes its turn at the head item (see the adapter's
            // README): under a pile-up on one slot a request may wait long on a debug build.
            settings.request_timeout_secs = 120;
        })
        .await
    };
    let a = start(table.clone()).await;
    let b = start(table.clone()).await;
    (table, a, b)
}

/// Books `body` at `app` and returns the 201 answer (panics on anything else).
async fn book(app: &TestApp, restaurant: &str, body: &Value) -> Value {
    let response = app.book(restaurant, body).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(
        status,
        StatusCode::CREATED,
        "booking answered {status}: {text}"
    );
    serde_json::from_str(&text).unwrap()
}

async fn day_listing(app: &TestApp, restaurant: &str, date: &str) -> Vec<Value> {
    let response = app
        .get(&format!(
            "/restaurants/{restaurant}/reservations?date={date}"
        ))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let page: Value = response.json().await.unwrap();
    page["reservations"].as_array().unwrap().clone()
}

/// Polls both replicas' day listings until both hold `expected` reservations and agree.
async fn converged(
    a: &TestApp,
    b: &TestApp,
    restaurant: &str,
    date: &str,
    expected: usize,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let (left, right) = (
            day_listing(a, restaurant, date).await,
            day_listing(b, restaurant, date).await,
        );
        if left.len() == expected && left == right {
            return left;
        }
        assert!(
            Instant::now() < deadline,
            "the replicas' listings did not converge: {} and {} of {expected}",
            left.len(),
            right.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A table hold: from, until (civil date-times), reservation id.
type Hold = (String, String, String);

/// Every table hold (`tables_allocated`) in the event log, per (restaurant, table), with
/// releases applied; asserts that no two holds of a table overlap.
fn assert_no_table_held_twice(events: &[Value]) -> usize {
    let mut holds: BTreeMap<(String, String), Vec<Hold>> = BTreeMap::new();
    for event in events {
        match event["type"].as_str() {
            Some("tables_allocated") => {
                for table in event["table_ids"].as_array().unwrap() {
                    holds
                        .entry((
                            event["restaurant_id"].as_str().unwrap().to_owned(),
                            table.as_str().unwrap().to_owned(),
                        ))
                        .or_default()
                        .push((
                            event["starts_at"].as_str().unwrap().to_owned(),
                            event["held_until"].as_str().unwrap().to_owned(),
                            event["reservation_id"].as_str().unwrap().to_owned(),
                        ));
                }
            }
            Some("tables_released") => panic!("no test here releases tables: {event}"),
            _ => {}
        }
    }
    let mut count = 0;
    for ((restaurant, table), mut list) in holds {
        list.sort();
        for pair in list.windows(2) {
            // Civil date-times in one format compare as strings; half-open intervals.
            assert!(
                pair[0].1 <= pair[1].0,
                "table {table} of {restaurant} is held twice at once: {:?} and {:?}",
                pair[0],
                pair[1]
            );
        }
        count += list.len();
    }
    count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_sell_each_table_once_and_their_read_models_converge() {
    let (_table, a, b) = replicas().await;
    a.register("r1").await;
    let (a, b) = (Arc::new(a), Arc::new(b));
    // 200 guests want 19:00 tomorrow for two: five tables fit a party of two, each once in
    // the flex window (60-minute turns, ±15 minutes).
    let mut tasks = Vec::new();
    for i in 0..200 {
        let app = if i % 2 == 0 {
            Arc::clone(&a)
        } else {
            Arc::clone(&b)
        };
        tasks.push(tokio::spawn(async move {
            book(&app, "r1", &booking(&format!("u{i}"), 2, TOMORROW, "19:00")).await
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    let confirmed: Vec<&Value> = answers
        .iter()
        .filter(|r| r["status"] == "confirmed")
        .collect();
    assert_eq!(confirmed.len(), 5, "exactly one booking per table");
    assert_eq!(
        answers.iter().filter(|r| r["status"] == "rejected").count(),
        195
    );
    let tables: HashSet<&str> = confirmed
        .iter()
        .flat_map(|r| r["table_ids"].as_array().unwrap())
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(tables.len(), 5, "no table sold twice: {confirmed:?}");

    // Both replicas' read models converge to the same listing of all 200 requests.
    let listing = converged(&a, &b, "r1", TOMORROW, 200).await;
    assert_eq!(
        listing
            .iter()
            .filter(|r| r["status"] == "confirmed")
            .count(),
        5
    );
    // The log agrees: five holds, none overlapping.
    let events = a.all_events().await;
    assert_eq!(assert_no_table_held_twice(&events), 5);
    assert_eq!(events, b.all_events().await, "one global log");

    // Both replicas count the same (the counts move exactly once per transition, whichever
    // replica's projector applied it).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let view_a: Value = a.get("/restaurants/r1").await.json().await.unwrap();
        let view_b: Value = b.get("/restaurants/r1").await.json().await.unwrap();
        let counts = &view_a["reservations"];
        if counts["total"] == 200 && view_a == view_b {
            assert_eq!(counts["confirmed"], 5);
            assert_eq!(counts["rejected"], 195);
            break;
        }
        assert!(Instant::now() < deadline, "counts: {view_a} / {view_b}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_racing_attempts_across_replicas_never_oversell() {
    let attempts: usize = std::env::var("RESERVATION_RACE_ATTEMPTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let started = Instant::now();
    let (_table, a, b) = replicas().await;
    a.register("r1").await;
    b.register("r2").await;
    let (a, b) = (Arc::new(a), Arc::new(b));
    let slots = [
        ("r1", TOMORROW, "19:00"),
        ("r1", TOMORROW, "20:00"),
        ("r1", DAY_AFTER, "19:00"),
        ("r2", TOMORROW, "19:00"),
    ];
    // At most 32 requests in flight per replica, like a load balancer's connection pools.
    let limits = [Arc::new(Semaphore::new(32)), Arc::new(Semaphore::new(32))];
    let mut tasks = Vec::new();
    for i in 0..attempts {
        let which = fastrand::usize(0..2);
        let app = if which == 0 {
            Arc::clone(&a)
        } else {
            Arc::clone(&b)
        };
        let limit = Arc::clone(&limits[which]);
        let (restaurant, date, time) = slots[fastrand::usize(0..slots.len())];
        let party = fastrand::i64(1..=8);
        tasks.push(tokio::spawn(async move {
            let _permit = limit.acquire().await.unwrap();
            book(
                &app,
                restaurant,
                &booking(&format!("g{i}"), party, date, time),
            )
            .await
        }));
    }
    let mut confirmed = 0;
    for task in tasks {
        if task.await.unwrap()["status"] == "confirmed" {
            confirmed += 1;
        }
    }
    let events = a.all_events().await;
    let holds = assert_no_table_held_twice(&events);
    let confirmations = events
        .iter()
        .filter(|e| e["type"] == "reservation_confirmed")
        .count();
    assert_eq!(
        confirmations, confirmed,
        "every 201 confirmed is in the log"
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| e["type"] == "reservation_rejected")
            .count(),
        attempts - confirmed
    );
    assert!(holds >= confirmed && confirmed > 0);
    eprintln!(
        "{attempts} attempts across two replicas in {:?}: {confirmed} confirmed, {holds} table holds, no overlap",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_read_endpoint_works_across_replicas() {
    let (_table, a, b) = replicas().await;
    a.register("r1").await;
    // A 201 from one replica is readable at once from the other (folded from the event
    // stream with a consistent read).
    let made = book(&a, "r1", &booking("alice", 2, TOMORROW, "19:00")).await;
    let id = made["id"].as_str().unwrap();
    let read: Value = b
        .get(&format!("/reservations/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read, made);
    // The restaurant itself, registered on `a`, is known to `b` (the write side reads the
    // table).
    assert_eq!(
        b.get("/restaurants/r1/availability?date=2026-12-02&party_size=2")
            .await
            .status(),
        StatusCode::OK
    );
    // Cancel on `b`; both replicas then list it cancelled (each reads its own writes at
    // once, the other within the Streams delay).
    let before_cancel = jiff::Timestamp::now();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let cancelled = b
        .post(
            &format!("/reservations/{id}/cancel"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(cancelled.status(), StatusCode::OK);
    let listing = day_listing(&b, "r1", TOMORROW).await;
    assert_eq!(listing.len(), 1);
    assert_eq!(listing[0]["status"], "cancelled");
    converged(&a, &b, "r1", TOMORROW, 1).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mine: Value = a
            .get("/users/alice/reservations")
            .await
            .json()
            .await
            .unwrap();
        if mine["reservations"][0]["status"] == "cancelled" {
            break;
        }
        assert!(Instant::now() < deadline, "user listing: {mine}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // As of before the cancellation, it was confirmed (folded from the events).
    let as_of: Value = a
        .get(&format!(
            "/restaurants/r1/reservations?date={TOMORROW}&as_of={before_cancel}"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(as_of["reservations"][0]["status"], "confirmed", "{as_of}");
    // The feed is the same from both replicas.
    let events = a.all_events().await;
    assert_eq!(events, b.all_events().await);
    assert!(events.iter().any(|e| e["type"] == "reservation_cancelled"));
    let ready: Value = a.get("/ready").await.json().await.unwrap();
    assert_eq!(ready["status"], "ready");
}

/// The real binary with AWS's standard environment: `dynamodb create-table` (twice: it is
/// idempotent), then `--store dynamodb` serving from the table it created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_creates_its_tables_and_serves_from_them() {
    const BINARY: &str = env!("CARGO_BIN_EXE_reservation-server");
    let server = DynamoDbLocal::shared();
    let table = format!("cli-{}", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    let command = |args: &[&str]| {
        let mut command = std::process::Command::new(BINARY);
        command
            .args(["--store", "dynamodb", "--data-dir"])
            .arg(dir.path())
            .args(args)
            .env("RESERVATION_DYNAMODB_TABLE", &table)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ENDPOINT_URL", server.endpoint())
            .env_remove("RUST_LOG");
        command
    };
    for expected in ["Created", "AlreadyExisted"] {
        let output = command(&["dynamodb", "create-table"]).output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "create-table failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            stdout.contains(&format!("event table {table}: {expected}"))
                && stdout.contains(&format!("read-model table {table}-read: {expected}")),
            "{stdout}"
        );
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = command(&["--listen", &format!("127.0.0.1:{port}")])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while client.get(format!("{base}/health")).send().await.is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let token = command(&["token", "--role", "admin", "--subject", "ops"])
        .output()
        .unwrap();
    let token = String::from_utf8(token.stdout).unwrap().trim().to_owned();
    let created = client
        .post(format!("{base}/restaurants"))
        .bearer_auth(&token)
        .json(&common::restaurant("cli"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let view = client
        .get(format!("{base}/restaurants/cli"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(view.status(), StatusCode::OK);
    let ready: Value = client
        .get(format!("{base}/ready"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(ready["status"], "ready", "{ready}");
}
