//! The real `reservation-server` binary as a child process, for the tests that kill, signal
//! and restart it (`api_process.rs`, `crash.rs`): started on a free port with its data in a
//! directory, found by the `listening` line it logs, always killed when dropped.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::Duration;

use reqwest::Client;
use serde_json::{Value, json};

pub const BINARY: &str = env!("CARGO_BIN_EXE_reservation-server");

pub struct ServerProcess {
    pub child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl ServerProcess {
    /// Starts the binary on a free port with its data in `dir` and logs at `log_level`; waits
    /// until it listens.
    pub fn start(dir: &Path, log_level: &str) -> ServerProcess {
        let mut child = Command::new(BINARY)
            .args(["--listen", "127.0.0.1:0", "--log-format", "json"])
            .args(["--log-level", log_level, "--data-dir"])
            .arg(dir)
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        // Keeps reading (and dropping) the log, so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if !sent
                    && let Ok(entry) = serde_json::from_str::<Value>(&line)
                    && entry["fields"]["message"] == "listening"
                {
                    let _ = tx.send(entry["fields"]["address"].as_str().unwrap().to_owned());
                    sent = true;
                }
            }
        });
        let address = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server logs its address");
        ServerProcess {
            child,
            base: format!("http://{address}"),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit (at most `seconds`).
    pub fn wait(&mut self, seconds: u64) -> ExitStatus {
        for _ in 0..seconds * 20 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("the server did not exit within {seconds} s");
    }

    pub fn kill_9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, then a clean exit within 30 s.
    pub fn terminate(mut self) {
        self.signal("TERM");
        let status = self.wait(30);
        assert!(status.success(), "exit status {status:?}");
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `reservation-server token --data-dir DIR ARGS…`: the token it prints.
pub fn token(dir: &Path, args: &[&str]) -> String {
    let output = Command::new(BINARY)
        .arg("token")
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "token failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// A client sending `Authorization: Bearer <token>`.
pub fn client_with(token: &str) -> Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    Client::builder().default_headers(headers).build().unwrap()
}

/// Checks that the server returns acknowledged booking `id` exactly as it was acknowledged.
pub async fn assert_stored_as_acknowledged(
    client: &Client,
    server: &ServerProcess,
    id: &str,
    acknowledged: &Value,
) {
    let response = client
        .get(server.url(&format!("/reservations/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        reqwest::StatusCode::OK,
        "acknowledged booking {id} lost"
    );
    let stored: Value = response.json().await.unwrap();
    assert_eq!(&stored, acknowledged, "acknowledged booking {id} changed");
}

/// `reservation-server rebuild-projections --data-dir DIR`, checked to succeed.
pub fn rebuild_projections(dir: &Path) -> Output {
    let rebuilt = Command::new(BINARY)
        .args(["rebuild-projections", "--log-level", "warn", "--data-dir"])
        .arg(dir)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(
        rebuilt.status.success(),
        "rebuild failed: {}",
        String::from_utf8_lossy(&rebuilt.stderr)
    );
    rebuilt
}

/// Open around the clock in UTC, with `tables` four-seat tables.
pub fn all_day_restaurant(id: &str, name: &str, tables: usize) -> Value {
    let hours = json!(["00:00-24:00"]);
    let tables: Vec<Value> = (1..=tables)
        .map(|i| json!({"id": format!("T{i}"), "seats": 4}))
        .collect();
    json!({
        "id": id, "name": name, "timezone": "UTC", "tables": tables,
        "opening_hours": {"monday": hours, "tuesday": hours, "wednesday": hours, "thursday": hours,
                          "friday": hours, "saturday": hours, "sunday": hours}
    })
}

/// `days` days after today (UTC), as `YYYY-MM-DD`.
pub fn day(days: i64) -> String {
    let today = jiff::tz::TimeZone::UTC
        .to_datetime(jiff::Timestamp::now())
        .date();
    today
        .checked_add(jiff::Span::new().days(days))
        .unwrap()
        .to_string()
}
