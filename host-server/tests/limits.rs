//! Limits over real sockets: a slow-loris client is cut off, a slow body times out, one client
//! cannot hold more than its share of in-flight requests (429), the server sheds load beyond
//! its concurrency limit (503), the per-client rate limit, and size limits on bodies, strings,
//! tables and pages.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::{TOMORROW, TestApp, assert_problem, booking, restaurant, spawn_with};
use reservation_server::auth::Role;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn port(app: &TestApp) -> u16 {
    app.address.rsplit(':').next().unwrap().parse().unwrap()
}

/// Opens a connection and sends the head of a POST whose body never fully arrives; the
/// request then occupies its place until the server gives up on it.
async fn hold(app: &TestApp, token: &str) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", port(app))).await.unwrap();
    let head = format!(
        "POST /restaurants/r1/reservations HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"name\""
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

/// Reads until the server closes the connection or `limit` passes; returns what was read.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (bool, String) {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (true, String::from_utf8_lossy(&buffer).into_owned()),
            Ok(Ok(n)) => buffer.extend_from_slice(&chunk[..n]),
            Err(_) => return (false, String::from_utf8_lossy(&buffer).into_owned()),
        }
    }
}

#[tokio::test]
async fn a_slow_loris_client_is_cut_off_while_others_are_served() {
    let app = spawn_with(tempfile::tempdir().unwrap(), |s| {
        s.client_limits.header_timeout_secs = 1;
    })
    .await;
    let mut slow = TcpStream::connect(("127.0.0.1", port(&app))).await.unwrap();
    let head = b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let started = Instant::now();
    let mut cut_off = false;
    for byte in head {
        if slow.write_all(&[*byte]).await.is_err() {
            cut_off = true;
            break;
        }
        // Meanwhile the server keeps serving everybody else.
        assert_eq!(app.get("/health").await.status(), 200);
        tokio::time::sleep(Duration::from_millis(100)).await;
        if started.elapsed() > Duration::from_secs(4) {
            break;
        }
    }
    if !cut_off {
        let (closed, answer) = read_until_closed(&mut slow, Duration::from_secs(3)).await;
        assert!(
            closed,
            "the connection is still open after {:?}",
            started.elapsed()
        );
        assert!(
            !answer.contains("200 OK"),
            "the trickled request was served: {answer}"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "cut off only after {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_body_that_never_arrives_times_out_with_503() {
    let app = spawn_with(tempfile::tempdir().unwrap(), |s| {
        s.request_timeout_secs = 1;
    })
    .await;
    app.register("r1").await;
    let token = app.token(Role::Admin, "slow", &[]);
    let mut stream = hold(&app, &token).await;
    let (_, answer) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("\"code\":\"timeout\""), "{answer}");
}

#[tokio::test]
async fn one_client_cannot_hold_more_than_its_share_of_requests() {
    let app = spawn_with(tempfile::tempdir().unwrap(), |s| {
        s.client_limits.max_in_flight_per_client = 2;
        s.request_timeout_secs = 30;
    })
    .await;
    app.register("r1").await;
    let hog = app.token(Role::Admin, "hog", &[]);
    let _held = [hold(&app, &hog).await, hold(&app, &hog).await];
    // Once both held requests are admitted, the hog's next one is refused.
    let mut response = None;
    for _ in 0..100 {
        let answer = app
            .client_as(&hog)
            .get(app.url("/restaurants/r1"))
            .send()
            .await
            .unwrap();
        if answer.status() == 429 {
            response = Some(answer);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let response = response.expect("the third request in flight is refused");
    assert!(response.headers().contains_key("retry-after"));
    assert_problem(response, 429, "rate_limited").await;
    // Everybody else is still served.
    assert_eq!(app.get("/restaurants/r1").await.status(), 200);
    let guest = app.client_as(&app.guest_token("g1"));
    let booked = guest
        .post(app.url("/restaurants/r1/reservations"))
        .json(&json!({"name": "Ada", "party_size": 2, "date": TOMORROW, "time": "19:00"}))
        .send()
        .await
        .unwrap();
    assert_eq!(booked.status(), 201);
}

#[tokio::test]
async fn load_beyond_the_concurrency_limit_is_shed_with_503() {
    let app = spawn_with(tempfile::tempdir().unwrap(), |s| {
        s.max_concurrency = 2;
        s.request_timeout_secs = 30;
    })
    .await;
    app.register("r1").await;
    let _held = [
        hold(&app, &app.token(Role::Admin, "a", &[])).await,
        hold(&app, &app.token(Role::Admin, "b", &[])).await,
    ];
    let mut response = None;
    for _ in 0..100 {
        let answer = app.get("/health").await;
        if answer.status() == 503 {
            response = Some(answer);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let response = response.expect("a third request is shed");
    assert_eq!(response.headers()["retry-after"], "1");
    assert_problem(response, 503, "overloaded").await;
    drop(_held);
    // Once the held requests are gone, the server answers again.
    let mut answered = false;
    for _ in 0..50 {
        if app.get("/health").await.status() == 200 {
            answered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(answered);
}

#[tokio::test]
async fn the_per_client_rate_limit_refuses_beyond_the_burst() {
    let app = spawn_with(tempfile::tempdir().unwrap(), |s| {
        s.client_limits.rate_limit_per_client = 5;
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..15 {
        statuses.push(app.get("/health").await.status().as_u16());
    }
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert!(refused >= 4, "{statuses:?}");
    assert_eq!(statuses[0], 200);
    let response = app.get("/health").await;
    if response.status() == 429 {
        assert!(response.headers().contains_key("retry-after"));
        assert_problem(response, 429, "rate_limited").await;
    }
    // Another client has its own bucket.
    let other = app.client_as(&app.guest_token("g1"));
    assert_eq!(
        other.get(app.url("/health")).send().await.unwrap().status(),
        200
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(app.get("/health").await.status(), 200, "the bucket refills");
}

#[tokio::test]
async fn sizes_are_limited() {
    let app = spawn_with(tempfile::tempdir().unwrap(), |s| {
        s.max_body_bytes = 64 * 1024;
    })
    .await;
    app.register("r1").await;
    // Body size.
    let mut huge = booking("u1", 2, TOMORROW, "19:00");
    huge["name"] = json!("x".repeat(70 * 1024));
    assert_problem(app.book("r1", &huge).await, 413, "payload_too_large").await;
    // String lengths (the core's limits).
    let mut long_name = booking("u1", 2, TOMORROW, "19:00");
    long_name["name"] = json!("x".repeat(201));
    assert_problem(app.book("r1", &long_name).await, 422, "invalid_name").await;
    let mut long_user = booking(&"u".repeat(65), 2, TOMORROW, "19:00");
    long_user["name"] = json!("Ada");
    assert_problem(app.book("r1", &long_user).await, 422, "invalid_id").await;
    // Party size.
    assert_problem(
        app.book("r1", &booking("u1", 1001, TOMORROW, "19:00"))
            .await,
        422,
        "party_too_large",
    )
    .await;
    // Tables per restaurant.
    let mut many = restaurant("big");
    many["tables"] = Value::Array(
        (0..501)
            .map(|i| json!({"id": format!("T{i}"), "seats": 2}))
            .collect(),
    );
    let response = app.post("/restaurants", &many).await;
    assert_eq!(response.status(), 422, "{}", response.text().await.unwrap());
    // Page sizes are clamped.
    for _ in 0..3 {
        app.book("r1", &booking("u1", 2, TOMORROW, "19:00")).await;
    }
    let page: Value = app.get("/events?limit=0").await.json().await.unwrap();
    assert_eq!(page["events"].as_array().unwrap().len(), 1);
    let page: Value = app
        .get("/events?limit=99999999")
        .await
        .json()
        .await
        .unwrap();
    assert!(page["events"].as_array().unwrap().len() <= 1000);
    assert_problem(app.get("/events?limit=-1").await, 422, "invalid_query").await;
    // Oversized headers are refused by the HTTP layer.
    let response = app
        .client
        .get(app.url("/health"))
        .header("x-junk", "y".repeat(128 * 1024))
        .send()
        .await;
    assert!(
        response
            .map(|r| r.status().as_u16() == 431 || r.status().is_client_error())
            .unwrap_or(true)
    );
}
