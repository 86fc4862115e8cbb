//! The real `reservation-server` binary as a process: `kill -9` mid-load loses no acknowledged
//! booking, SIGTERM shuts down gracefully with exit 0, `rebuild-projections` rebuilds the read
//! models to exactly what the live projection built, and flags are honoured.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::{Client, StatusCode};
use reservation_server::projection::ReadModels;
use serde_json::{Value, json};

#[path = "support/process.rs"]
mod process;

use process::{BINARY, ServerProcess, client_with, day, token};

/// The binary, with an admin token from `reservation-server token`.
struct Server {
    process: ServerProcess,
    admin: String,
}

impl Server {
    /// Starts the binary on a free port with its data in `dir`; waits until it listens.
    fn start(dir: &Path) -> Server {
        Server {
            process: ServerProcess::start(dir, "info"),
            admin: token(dir, &["--role", "admin", "--subject", "test-admin"]),
        }
    }

    /// A client acting as an admin.
    fn client(&self) -> Client {
        client_with(&self.admin)
    }
}

impl std::ops::Deref for Server {
    type Target = ServerProcess;
    fn deref(&self) -> &ServerProcess {
        &self.process
    }
}

impl std::ops::DerefMut for Server {
    fn deref_mut(&mut self) -> &mut ServerProcess {
        &mut self.process
    }
}

fn all_day_restaurant(id: &str, tables: usize) -> Value {
    process::all_day_restaurant(id, "Always Open", tables)
}

async fn post(client: &Client, url: String, body: &Value) -> reqwest::Response {
    client.post(url).json(body).send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_load_loses_no_acknowledged_booking() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let client = server.client();
    for r in ["k1", "k2"] {
        let response = post(
            &client,
            server.url("/restaurants"),
            &all_day_restaurant(r, 20),
        )
        .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let acks = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = Vec::new();
    for worker in 0..16u32 {
        let client = client.clone();
        let base = server.base.clone();
        let stop = Arc::clone(&stop);
        let acks = Arc::clone(&acks);
        workers.push(tokio::spawn(async move {
            let mut acknowledged: Vec<Value> = Vec::new();
            let mut n = 0u32;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let restaurant = if n.is_multiple_of(2) { "k1" } else { "k2" };
                let body = json!({
                    "user_id": format!("w{worker}"), "name": "Load", "party_size": 2,
                    "date": day(2 + i64::from(n % 7)), "time": format!("{:02}:{:02}", 8 + (n * 7 + worker) % 12, 15 * (n % 4)),
                });
                let sent = client.post(format!("{base}/restaurants/{restaurant}/reservations")).json(&body).send().await;
                let Ok(response) = sent else { break };
                if response.status() != StatusCode::CREATED {
                    break;
                }
                match response.json::<Value>().await {
                    Ok(outcome) => {
                        acknowledged.push(outcome);
                        acks.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => break,
                }
            }
            acknowledged
        }));
    }
    // Kill mid-load: once enough bookings are acknowledged (however busy the machine is),
    // while the workers are still sending.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while acks.load(Ordering::Relaxed) < 60 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.process.kill_9(); // SIGKILL: no shutdown code runs
    stop.store(true, Ordering::Relaxed);
    let mut acknowledged = Vec::new();
    for worker in workers {
        acknowledged.extend(worker.await.unwrap());
    }
    assert!(
        acknowledged.len() >= 50,
        "only {} bookings acknowledged before the kill",
        acknowledged.len()
    );

    let server = Server::start(dir.path());
    for outcome in &acknowledged {
        let id = outcome["id"].as_str().unwrap();
        process::assert_stored_as_acknowledged(&client, &server, id, outcome).await;
    }
    // No table is held twice across the restarts.
    let mut held = std::collections::BTreeSet::new();
    for outcome in acknowledged.iter().filter(|o| o["status"] == "confirmed") {
        let key = (
            outcome["restaurant_id"].to_string(),
            outcome["starts_at"].to_string(),
            outcome["table_ids"].to_string(),
        );
        assert!(held.insert(key.clone()), "double booking {key:?}");
    }
}

#[tokio::test]
async fn sigterm_finishes_in_flight_work_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path());
    let client = server.client();
    let response = post(
        &client,
        server.url("/restaurants"),
        &all_day_restaurant("g1", 2),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let booked: Value = post(
        &client,
        server.url("/restaurants/g1/reservations"),
        &json!({"user_id": "u1", "name": "Ada", "party_size": 2, "date": day(3), "time": "19:00"}),
    )
    .await
    .json()
    .await
    .unwrap();
    // A live tail is open: shutdown must end it rather than wait for it forever.
    let mut tail = client
        .get(server.url("/events/stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(tail.status(), StatusCode::OK);
    let _ = tokio::time::timeout(Duration::from_secs(2), tail.chunk()).await;
    server.signal("TERM");
    let status = tokio::task::spawn_blocking(move || {
        let status = server.wait(15);
        (status, server)
    })
    .await
    .unwrap();
    assert!(status.0.success(), "exit status {:?}", status.0);
    drop(status.1);

    // Everything was flushed: the read models were current at exit, and closed cleanly (fsynced,
    // so they would be kept even if the machine stopped now).
    let marker = std::fs::read_to_string(dir.path().join("read.db.boot")).unwrap();
    assert!(marker.ends_with(" clean\n"), "{marker}");
    let read = ReadModels::open(dir.path()).unwrap();
    assert_eq!(read.checkpoint().await.unwrap(), 3);
    assert_eq!(
        read.reservation(booked["id"].as_str().unwrap())
            .await
            .unwrap()
            .unwrap()
            .id,
        booked["id"].as_str().unwrap()
    );
}

#[tokio::test]
async fn rebuilt_projections_equal_the_live_read_models() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path());
    let client = server.client();
    for r in ["p1", "p2"] {
        post(
            &client,
            server.url("/restaurants"),
            &all_day_restaurant(r, 2),
        )
        .await;
    }
    let mut ids = Vec::new();
    for i in 0..12 {
        let restaurant = if i % 3 == 0 { "p2" } else { "p1" };
        let body = json!({"user_id": format!("u{}", i % 4), "name": format!("Guest {i}"), "party_size": 2 + i % 3,
                          "date": day(2 + i % 2), "time": "19:00"});
        let outcome: Value = post(
            &client,
            server.url(&format!("/restaurants/{restaurant}/reservations")),
            &body,
        )
        .await
        .json()
        .await
        .unwrap();
        ids.push(outcome["id"].as_str().unwrap().to_owned());
    }
    post(
        &client,
        server.url(&format!("/reservations/{}/cancel", ids[1])),
        &json!({"by": "staff"}),
    )
    .await;
    post(
        &client,
        server.url(&format!("/reservations/{}/modify", ids[2])),
        &json!({"time": "21:00"}),
    )
    .await;
    client
        .patch(server.url("/restaurants/p1"))
        .json(&json!({"policy": {"buffer_minutes": 15}}))
        .send()
        .await
        .unwrap();

    let listings = |server_base: String| {
        let client = client.clone();
        async move {
            let mut out = Vec::new();
            for path in [
                format!("/restaurants/p1/reservations?date={}", day(2)),
                format!("/restaurants/p1/reservations?date={}", day(3)),
                format!("/restaurants/p2/reservations?date={}", day(2)),
                "/users/u1/reservations".to_owned(),
                "/restaurants/p1".to_owned(),
                "/restaurants/p2".to_owned(),
            ] {
                out.push(
                    client
                        .get(format!("{server_base}{path}"))
                        .send()
                        .await
                        .unwrap()
                        .json::<Value>()
                        .await
                        .unwrap(),
                );
            }
            out
        }
    };
    let live = listings(server.base.clone()).await;
    server.signal("TERM");
    assert!(server.wait(15).success());
    let before = ReadModels::open(dir.path()).unwrap().dump().await.unwrap();

    let rebuilt = process::rebuild_projections(dir.path());
    assert!(String::from_utf8_lossy(&rebuilt.stdout).contains("rebuilt up to position"));
    let after = ReadModels::open(dir.path()).unwrap().dump().await.unwrap();
    assert_eq!(
        before, after,
        "the rebuilt read models differ from the live ones"
    );
    assert!(after["reservations"].as_array().unwrap().len() >= 12);

    let server = Server::start(dir.path());
    assert_eq!(listings(server.base.clone()).await, live);
}

#[test]
fn the_dynamodb_store_without_a_table_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(BINARY)
        .args([
            "--store",
            "dynamodb",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(dir.path())
        .env_remove("RESERVATION_DYNAMODB_TABLE")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--dynamodb-table"));
    let bad_flag = Command::new(BINARY)
        .args(["--listen", "not-an-address"])
        .output()
        .unwrap();
    assert!(!bad_flag.status.success());
}
