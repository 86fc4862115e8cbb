//! Test helpers: every test gets its own server on a free port with its own temp data dir
//! (zero-to-production's `spawn_app`), a fixed clock, and an HTTP client that sends an admin
//! token (signed with the secret the server created in its data dir). [`TestApp::token`],
//! [`TestApp::guest_token`], [`TestApp::staff_token`] mint others; [`TestApp::anonymous`] is a
//! client without a token.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use jiff::Timestamp;
use reqwest::{Client, Response, StatusCode};
use reservation_server::app::FixedClock;
use reservation_server::auth::{self, Role};
use reservation_server::config::Settings;
use reservation_server::startup::Application;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The fixed "now" of in-process tests: Tuesday 2026-12-01, 11:00 in Berlin.
pub const NOW: &str = "2026-12-01T10:00:00Z";
/// The day after [`NOW`] (a Wednesday), and two days after.
pub const TOMORROW: &str = "2026-12-02";
pub const DAY_AFTER: &str = "2026-12-03";

pub struct TestApp {
    pub address: String,
    /// Sends `Authorization: Bearer <admin token>` with every request.
    pub client: Client,
    /// Sends no token.
    pub anonymous: Client,
    /// The server's HS256 secret (`None` when it verifies with another key).
    pub secret: Option<Vec<u8>>,
    pub dir: TempDir,
    pub clock: Arc<FixedClock>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_in(tempfile::tempdir().unwrap()).await
}

pub async fn spawn_app_in(dir: TempDir) -> TestApp {
    spawn_with(dir, |_| {}).await
}

pub async fn spawn_with(dir: TempDir, tweak: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = Settings::for_data_dir(dir.path());
    tweak(&mut settings);
    let clock = Arc::new(FixedClock::new(NOW.parse().unwrap()));
    let app = Application::build_with_clock(&settings, clock.clone())
        .await
        .expect("the server starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let secret = if settings.auth.auth_public_key.is_none() && settings.auth.auth_jwks.is_none() {
        let path =
            settings.auth.auth_secret_file.clone().unwrap_or_else(|| {
                reservation_server::auth::secret::default_path(&settings.data_dir)
            });
        Some(reservation_server::auth::secret::load(&path).unwrap())
    } else {
        None
    };
    let client = match &secret {
        Some(secret) => client_with_token(&sign(secret, Role::Admin, "test-admin", &[])),
        None => Client::new(),
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    TestApp {
        address,
        client,
        anonymous: Client::new(),
        secret,
        dir,
        clock,
        stop: Some(stop),
        server: Some(server),
    }
}

/// An HS256 token for `role`/`subject`, valid for an hour.
pub fn sign(secret: &[u8], role: Role, subject: &str, restaurants: &[&str]) -> String {
    let restaurants: Vec<String> = restaurants.iter().map(|r| (*r).to_owned()).collect();
    auth::sign_hs256(secret, &auth::claims(role, subject, &restaurants, 3600)).unwrap()
}

/// A client that sends `Authorization: Bearer <token>` with every request.
pub fn client_with_token(token: &str) -> Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    Client::builder().default_headers(headers).build().unwrap()
}

impl TestApp {
    /// A token signed with the server's secret.
    pub fn token(&self, role: Role, subject: &str, restaurants: &[&str]) -> String {
        sign(
            self.secret
                .as_deref()
                .expect("the server uses an HS256 secret"),
            role,
            subject,
            restaurants,
        )
    }

    /// A guest token for `user` (the guest's user id).
    pub fn guest_token(&self, user: &str) -> String {
        self.token(Role::Guest, user, &[])
    }

    /// A staff token for the restaurants `restaurants`.
    pub fn staff_token(&self, restaurants: &[&str]) -> String {
        self.token(Role::Staff, "test-staff", restaurants)
    }

    /// A client acting with `token`.
    pub fn client_as(&self, token: &str) -> Client {
        client_with_token(token)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Response {
        self.client
            .patch(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Registers [`restaurant`] under `id`.
    pub async fn register(&self, id: &str) -> Value {
        let response = self.post("/restaurants", &restaurant(id)).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }

    pub async fn book(&self, restaurant: &str, body: &Value) -> Response {
        self.post(&format!("/restaurants/{restaurant}/reservations"), body)
            .await
    }

    /// Every event in the global log.
    pub async fn all_events(&self) -> Vec<Value> {
        let mut events = Vec::new();
        let mut after = 0;
        loop {
            let page: Value = self
                .get(&format!("/events?after={after}&limit=1000"))
                .await
                .json()
                .await
                .unwrap();
            let batch = page["events"].as_array().unwrap().clone();
            if batch.is_empty() {
                return events;
            }
            after = page["next_after"].as_u64().unwrap();
            events.extend(batch);
        }
    }

    pub fn set_now(&self, at: &str) {
        self.clock.set(at.parse::<Timestamp>().unwrap());
    }

    /// Stops the server gracefully and waits for it; returns the data dir for a restart.
    pub async fn stop(mut self) -> TempDir {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        std::mem::replace(&mut self.dir, dir)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A restaurant open every day 12:00–15:00 and 18:00–23:00 in Berlin, with tables of 2, 4, 4,
/// 4 and 6 seats (T3+T4 seat 8), on the default policy (60-minute turns, 15-minute flex).
pub fn restaurant(id: &str) -> Value {
    let hours = json!(["12:00-15:00", "18:00-23:00"]);
    json!({
        "id": id,
        "name": "Chez Test",
        "timezone": "Europe/Berlin",
        "tables": [
            {"id": "T1", "seats": 2}, {"id": "T2", "seats": 4}, {"id": "T3", "seats": 4},
            {"id": "T4", "seats": 4}, {"id": "T6", "seats": 6}
        ],
        "combinations": [{"tables": ["T3", "T4"], "seats": 8}],
        "opening_hours": {
            "monday": hours, "tuesday": hours, "wednesday": hours, "thursday": hours,
            "friday": hours, "saturday": hours, "sunday": hours
        }
    })
}

/// A restaurant with a single table of `seats` seats, open every day 18:00–23:00.
pub fn one_table_restaurant(id: &str, seats: u16) -> Value {
    let hours = json!(["18:00-23:00"]);
    json!({
        "id": id,
        "name": "Tiny",
        "timezone": "Europe/Berlin",
        "tables": [{"id": "T1", "seats": seats}],
        "opening_hours": {
            "monday": hours, "tuesday": hours, "wednesday": hours, "thursday": hours,
            "friday": hours, "saturday": hours, "sunday": hours
        }
    })
}

pub fn booking(user: &str, party_size: i64, date: &str, time: &str) -> Value {
    json!({"user_id": user, "name": format!("Guest {user}"), "party_size": party_size, "date": date, "time": time})
}

/// Asserts a problem+json answer with `status` and `code`; returns the problem.
pub async fn assert_problem(response: Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status().as_u16(), status, "status");
    let content_type = response
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("application/problem+json"),
        "content type {content_type}"
    );
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], code, "{problem}");
    assert_eq!(problem["status"], status, "{problem}");
    assert!(
        problem["title"].is_string()
            && problem["detail"].is_string()
            && problem["type"].is_string(),
        "{problem}"
    );
    problem
}
