//! The npm package in Node and in headless Chromium, through `tests/js/harness.mjs`.
//!
//! The runs are written to a JSON-lines file; the harness replays each one with the package's
//! own functions (`decide`, `evolve`, `previewReservation`, `availability`,
//! `validateReservation`) and writes, per run, the SHA-256 of its canonical transcript (digest
//! mode) or the transcript itself (full mode). For Chromium the harness serves the package and a
//! test page from a static server on 127.0.0.1 (a free port), drives the page with
//! playwright-core and `/usr/bin/chromium`, and always stops both.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use crate::paths;
use crate::run::{Run, Transcript};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsHost {
    Node,
    Chromium,
}

impl JsHost {
    pub fn name(self) -> &'static str {
        match self {
            JsHost::Node => "node",
            JsHost::Chromium => "chromium",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One SHA-256 per run.
    Digest,
    /// Every answer and the final state.
    Full,
}

/// What the harness reported for one run.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Digest(String),
    Transcript(Transcript),
    /// The host threw something other than a typed misuse error, or crashed.
    Failed(String),
}

/// A harness process at work.
pub struct Job {
    host: JsHost,
    child: Child,
    dir: PathBuf,
    count: usize,
}

static JOBS: AtomicUsize = AtomicUsize::new(0);

/// Checks what the JS hosts need, with the way to get it.
pub fn check_setup(host: JsHost) -> Result<(), String> {
    let package = paths::npm_package().join("package.json");
    if !package.is_file() {
        return Err(format!(
            "the npm package is not built ({} missing); {}",
            package.display(),
            paths::SETUP_HINT
        ));
    }
    let modules = paths::js_dir().join("node_modules");
    if !modules.is_dir() {
        return Err(format!(
            "{} is missing; {}",
            modules.display(),
            paths::SETUP_HINT
        ));
    }
    if host == JsHost::Chromium && !std::path::Path::new(&chromium()).exists() {
        return Err(format!(
            "no Chromium at {} (apt-get install chromium, or set CHROMIUM)",
            chromium()
        ));
    }
    Ok(())
}

fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

/// Starts the harness on `runs` in the background.
pub fn start(host: JsHost, runs: &[Run], mode: Mode) -> Result<Job, String> {
    check_setup(host)?;
    let dir = std::env::temp_dir().join(format!(
        "reservation-conformance-{}-{}",
        std::process::id(),
        JOBS.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut input = String::new();
    for run in runs {
        input.push_str(&serde_json::to_string(run).map_err(|e| e.to_string())?);
        input.push('\n');
    }
    let input_path = dir.join("input.jsonl");
    std::fs::write(&input_path, input).map_err(|e| format!("{}: {e}", input_path.display()))?;
    let child = Command::new(std::env::var("NODE").unwrap_or_else(|_| "node".into()))
        .current_dir(paths::js_dir())
        .arg("harness.mjs")
        .args(["--host", host.name()])
        .args([
            "--mode",
            if mode == Mode::Digest {
                "digest"
            } else {
                "full"
            },
        ])
        .arg("--input")
        .arg(&input_path)
        .arg("--output")
        .arg(dir.join("output.json"))
        .arg("--package")
        .arg(paths::npm_package())
        .env("CHROMIUM", chromium())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start node: {e} (Node 20 must be on PATH)"))?;
    Ok(Job {
        host,
        child,
        dir,
        count: runs.len(),
    })
}

impl Job {
    /// Waits for the harness and reads its report, one outcome per run.
    pub fn wait(self) -> Result<Vec<Outcome>, String> {
        let Job {
            host,
            child,
            dir,
            count,
        } = self;
        let result = child
            .wait_with_output()
            .map_err(|e| format!("{}: {e}", host.name()));
        let output_path = dir.join("output.json");
        let report = std::fs::read_to_string(&output_path);
        let _ = std::fs::remove_dir_all(&dir);
        let output = result?;
        if !output.status.success() {
            return Err(format!(
                "the {} harness failed ({}):\n{}\n{}",
                host.name(),
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let report = report.map_err(|e| format!("{}: no report: {e}", host.name()))?;
        let items: Vec<Value> = serde_json::from_str(&report)
            .map_err(|e| format!("{}: bad report: {e}", host.name()))?;
        if items.len() != count {
            return Err(format!(
                "{}: {} outcomes for {count} runs",
                host.name(),
                items.len()
            ));
        }
        Ok(items.into_iter().map(outcome).collect())
    }
}

fn outcome(item: Value) -> Outcome {
    if let Some(digest) = item.get("digest").and_then(Value::as_str) {
        return Outcome::Digest(digest.to_string());
    }
    if let Some(error) = item.get("error") {
        return Outcome::Failed(
            error
                .as_str()
                .map_or_else(|| error.to_string(), String::from),
        );
    }
    match serde_json::from_value::<Transcript>(item) {
        Ok(transcript) => Outcome::Transcript(transcript),
        Err(e) => Outcome::Failed(format!("unreadable outcome: {e}")),
    }
}

/// Runs `runs` on `host` and waits.
pub fn run(host: JsHost, runs: &[Run], mode: Mode) -> Result<Vec<Outcome>, String> {
    start(host, runs, mode)?.wait()
}
