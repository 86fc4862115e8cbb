//! The native host, the scenario format and the canonical JSON encoding.
//!
//! This file is shared: the conformance crate compiles it as a module, and
//! `core/tests/scenarios.rs` includes it with `#[path]`, so the core's own tests and the
//! cross-host suite read the scenario files (`tests/scenarios/*.json`) the same way and compare
//! answers the same way. It depends on `reservation_core` and `serde_json` only.
//!
//! # Calls ("ops")
//! Every host runs the same calls, written as JSON objects:
//!
//! | op             | fields                              | ok answer                               |
//! |----------------|-------------------------------------|-----------------------------------------|
//! | `decide`       | `command`                           | `{"type":"ok","events":[…]}`            |
//! | `evolve`       | `event`                             | `{"type":"ok","state":{…}}`             |
//! | `preview`      | `snapshot`, `request`, `now`        | `{"type":"ok","preview":{…}}`           |
//! | `availability` | `snapshot`, `party_size`, `now`     | `{"type":"ok","date","party_size","times"}` |
//! | `validate`     | `request`                           | `{"type":"ok","request":{…}}`           |
//!
//! A refusal is `{"type":"error","errors":[{"code","message","field"?,"alternatives"?}]}`; an
//! argument of the wrong shape is a `malformed_input` error. `decide` and `evolve` act on the
//! host's running state: after an ok `decide` the host folds the events into it with `evolve`.
//!
//! # Scenario files
//! ```json
//! {
//!   "about": "why the expectations are right, from DOMAIN.md",
//!   "restaurant": { … },                            // optional: registered first
//!   "given": [ {"command": { … }}, {"event": { … }} ], // optional: history (commands must succeed)
//!   "steps": [ {"when": {"op": "decide", "command": { … }}, "then": { … }} ]
//! }
//! ```
//! `preview` and `availability` steps may say `"snapshot_of": "YYYY-MM-DD"` instead of giving a
//! `snapshot`: the snapshot of that day in the state reached so far. Expectations are compared
//! with the answer after canonical encoding; an error's `message` is compared only when the
//! expectation states it.

#![allow(dead_code)] // Each includer uses its own part of this module.

use std::fmt::Write as _;

use reservation_core::request::{ReservationRequest, ValidRequest};
use reservation_core::snapshot::DaySnapshot;
use reservation_core::{Command, DateTime, DomainError, ErrorCode, Event, State};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// The names of the calls, in the order used by coverage reports.
pub const OPS: [&str; 5] = ["decide", "evolve", "preview", "availability", "validate"];

/// The native host: `reservation-core` called directly, with the running state as a Rust value.
#[derive(Debug, Clone, Default)]
pub struct Native {
    pub state: State,
}

impl Native {
    pub fn new(state: State) -> Self {
        Native { state }
    }

    /// Runs one call and answers it in the hosts' common JSON form.
    pub fn call(&mut self, op: &Value) -> Value {
        match op.get("op").and_then(Value::as_str) {
            Some("decide") => match arg::<Command>(op, "command") {
                Ok(command) => match reservation_core::decide(&command, &self.state) {
                    Ok(events) => {
                        for event in &events {
                            self.state =
                                reservation_core::evolve(std::mem::take(&mut self.state), event);
                        }
                        json!({"type": "ok", "events": events})
                    }
                    Err(error) => refusal(vec![error]),
                },
                Err(answer) => answer,
            },
            Some("evolve") => match arg::<Event>(op, "event") {
                Ok(event) => {
                    self.state = reservation_core::evolve(std::mem::take(&mut self.state), &event);
                    json!({"type": "ok", "state": self.state})
                }
                Err(answer) => answer,
            },
            Some("preview") => {
                let args = (
                    arg::<DaySnapshot>(op, "snapshot"),
                    arg::<ReservationRequest>(op, "request"),
                    arg::<DateTime>(op, "now"),
                );
                match args {
                    (Ok(snapshot), Ok(request), Ok(now)) => {
                        match reservation_core::request::preview(&snapshot, &request, now) {
                            Ok(preview) => json!({"type": "ok", "preview": preview}),
                            Err(errors) => refusal(errors),
                        }
                    }
                    (Err(answer), _, _) | (_, Err(answer), _) | (_, _, Err(answer)) => answer,
                }
            }
            Some("availability") => {
                let args = (
                    arg::<DaySnapshot>(op, "snapshot"),
                    party_size(op),
                    arg::<DateTime>(op, "now"),
                );
                match args {
                    (Ok(snapshot), Ok(party_size), Ok(now)) => {
                        match snapshot.availability(party_size, now) {
                            Ok(times) => {
                                json!({"type": "ok", "date": snapshot.date, "party_size": party_size, "times": times})
                            }
                            Err(error) => refusal(vec![error]),
                        }
                    }
                    (Err(answer), _, _) | (_, Err(answer), _) | (_, _, Err(answer)) => answer,
                }
            }
            Some("validate") => match arg::<ReservationRequest>(op, "request") {
                Ok(request) => match request.validate() {
                    Ok(valid) => json!({"type": "ok", "request": as_read(valid)}),
                    Err(errors) => refusal(errors),
                },
                Err(answer) => answer,
            },
            _ => malformed("op", "unknown op"),
        }
    }
}

/// A refusal: `{"type":"error","errors":[…]}`.
pub fn refusal(errors: Vec<DomainError>) -> Value {
    json!({"type": "error", "errors": errors})
}

fn malformed(field: &str, message: &str) -> Value {
    refusal(vec![
        DomainError::new(ErrorCode::MalformedInput, message).with_field(field),
    ])
}

fn arg<T: DeserializeOwned>(op: &Value, name: &str) -> Result<T, Value> {
    let value = op.get(name).cloned().unwrap_or(Value::Null);
    serde_json::from_value(value).map_err(|e| malformed(name, &e.to_string()))
}

/// An integer party size; out-of-range values saturate so that the core refuses them itself.
fn party_size(op: &Value) -> Result<u16, Value> {
    let value = op.get("party_size");
    match (value.and_then(Value::as_i64), value.and_then(Value::as_u64)) {
        (Some(n), _) => Ok(u16::try_from(n.max(0)).unwrap_or(u16::MAX)),
        (None, Some(_)) => Ok(u16::MAX),
        (None, None) => Err(malformed("party_size", "expected an integer")),
    }
}

/// The request as the server reads it, in its wire form.
fn as_read(valid: ValidRequest) -> ReservationRequest {
    ReservationRequest {
        id: valid.id.map(|id| id.to_string()),
        user_id: valid.user_id.map(|id| id.to_string()),
        name: valid.name,
        party_size: i64::from(valid.party_size),
        date: valid.date.to_string(),
        time: valid.time.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Canonical encoding and expectations

/// The one canonical JSON encoding every host's answer is compared in: object keys sorted, `null`
/// members dropped (a missing field and a `null` one are the same), no whitespace. The message
/// and field of a `malformed_input` error are dropped too: they come from each host's own
/// parser (serde_json, serde-wasm-bindgen), so only the code is the same everywhere.
pub fn canonical(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(&mut out, value);
    out
}

fn write_canonical(out: &mut String, value: &Value) {
    match value {
        Value::Object(map) => {
            let malformed = map.get("code").and_then(Value::as_str) == Some("malformed_input");
            let mut keys: Vec<&String> = map
                .iter()
                .filter(|(k, v)| {
                    !v.is_null()
                        && !(malformed && (k.as_str() == "message" || k.as_str() == "field"))
                })
                .map(|(k, _)| k)
                .collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                if let Some(v) = map.get(key.as_str()) {
                    write_canonical(out, v);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(out, item);
            }
            out.push(']');
        }
        Value::String(s) => write_string(out, s),
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

fn write_string(out: &mut String, s: &str) {
    // serde_json and JSON.stringify escape strings identically (", \, control characters).
    out.push_str(&Value::String(s.to_string()).to_string());
}

/// `value` with the canonical encoding's rules applied: `null` members dropped, and the
/// host-specific details (message, field) of `malformed_input` errors removed.
pub fn normalized(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let malformed = map.get("code").and_then(Value::as_str) == Some("malformed_input");
            Value::Object(
                map.iter()
                    .filter(|(k, v)| {
                        !v.is_null()
                            && !(malformed && (k.as_str() == "message" || k.as_str() == "field"))
                    })
                    .map(|(k, v)| (k.clone(), normalized(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(normalized).collect()),
        other => other.clone(),
    }
}

/// Whether `actual` is what `expected` describes: equal after normalisation (see [`canonical`]),
/// except that an object of `expected` without `"message"` does not check the message. Returns
/// where they differ.
pub fn check(expected: &Value, actual: &Value) -> Result<(), String> {
    check_at("$", &normalized(expected), &normalized(actual))
}

fn check_at(path: &str, expected: &Value, actual: &Value) -> Result<(), String> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            let mut want: Vec<&String> = e.keys().collect();
            let mut have: Vec<&String> = a
                .keys()
                .filter(|k| k.as_str() != "message" || e.contains_key("message"))
                .collect();
            want.sort();
            have.sort();
            if want != have {
                return Err(format!(
                    "{path}: keys {want:?} expected, found {have:?} in {}",
                    canonical(actual)
                ));
            }
            for (key, ev) in e {
                let av = a.get(key).unwrap_or(&Value::Null);
                check_at(&format!("{path}.{key}"), ev, av)?;
            }
            Ok(())
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                return Err(format!(
                    "{path}: {} items expected, found {}: {}",
                    e.len(),
                    a.len(),
                    canonical(actual)
                ));
            }
            e.iter()
                .zip(a)
                .enumerate()
                .try_for_each(|(i, (ev, av))| check_at(&format!("{path}[{i}]"), ev, av))
        }
        _ if expected == actual => Ok(()),
        _ => Err(format!(
            "{path}: expected {}, found {}",
            canonical(expected),
            canonical(actual)
        )),
    }
}

/// The error codes an answer carries (none for an ok answer).
pub fn error_codes(answer: &Value) -> Vec<String> {
    answer
        .get("errors")
        .and_then(Value::as_array)
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e.get("code").and_then(Value::as_str))
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Scenarios

/// A scenario file, read.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub about: String,
    pub restaurant: Option<Value>,
    pub given: Vec<Value>,
    pub steps: Vec<(Value, Value)>,
}

/// A scenario made concrete by running it natively: the state the hosts start from, the calls
/// they make (snapshots filled in), the expectations and the native answers.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub name: String,
    pub initial_state: Value,
    pub ops: Vec<Value>,
    pub expected: Vec<Value>,
    pub answers: Vec<Value>,
    pub final_state: Value,
}

impl Scenario {
    pub fn parse(name: &str, text: &str) -> Result<Scenario, String> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| format!("{name}: not JSON: {e}"))?;
        let Value::Object(mut file) = value else {
            return Err(format!("{name}: not an object"));
        };
        let about = match file.remove("about") {
            Some(Value::String(about)) if !about.trim().is_empty() => about,
            _ => return Err(format!("{name}: \"about\" must explain the expectations")),
        };
        let restaurant = file.remove("restaurant");
        let given = match file.remove("given") {
            None => Vec::new(),
            Some(Value::Array(items)) => items,
            Some(_) => return Err(format!("{name}: \"given\" must be a list")),
        };
        let Some(Value::Array(raw_steps)) = file.remove("steps") else {
            return Err(format!("{name}: \"steps\" must be a list"));
        };
        let mut steps = Vec::new();
        for (i, step) in raw_steps.into_iter().enumerate() {
            let Value::Object(mut step) = step else {
                return Err(format!("{name}: step {i} is not an object"));
            };
            match (step.remove("when"), step.remove("then")) {
                (Some(when), Some(then)) if step.is_empty() => steps.push((when, then)),
                _ => {
                    return Err(format!(
                        "{name}: step {i} needs exactly \"when\" and \"then\""
                    ));
                }
            }
        }
        if steps.is_empty() {
            return Err(format!("{name}: no steps"));
        }
        if let Some(key) = file.keys().next() {
            return Err(format!("{name}: unknown key {key:?}"));
        }
        Ok(Scenario {
            name: name.to_string(),
            about,
            restaurant,
            given,
            steps,
        })
    }

    /// Runs the scenario natively, filling in snapshots. Errors are problems of the file itself
    /// (a history command that fails, an unknown snapshot date), not of the answers.
    pub fn resolve(&self) -> Result<Resolved, String> {
        let name = &self.name;
        let mut native = Native::default();
        if let Some(restaurant) = &self.restaurant {
            let event =
                json!({"type": "restaurant_registered", "version": 1, "restaurant": restaurant});
            let answer = native.call(&json!({"op": "evolve", "event": event}));
            if answer["type"] != "ok" {
                return Err(format!("{name}: restaurant: {}", canonical(&answer)));
            }
        }
        for (i, item) in self.given.iter().enumerate() {
            let op = match (item.get("command"), item.get("event")) {
                (Some(command), None) => json!({"op": "decide", "command": command}),
                (None, Some(event)) => json!({"op": "evolve", "event": event}),
                _ => {
                    return Err(format!(
                        "{name}: given[{i}] needs one of \"command\" or \"event\""
                    ));
                }
            };
            let answer = native.call(&op);
            if answer["type"] != "ok" {
                return Err(format!("{name}: given[{i}] failed: {}", canonical(&answer)));
            }
        }
        let initial_state = serde_json::to_value(&native.state).map_err(|e| e.to_string())?;
        let mut resolved = Resolved {
            name: name.clone(),
            initial_state,
            ops: Vec::new(),
            expected: Vec::new(),
            answers: Vec::new(),
            final_state: Value::Null,
        };
        for (i, (when, then)) in self.steps.iter().enumerate() {
            let op =
                fill_snapshot(when, &native.state).map_err(|e| format!("{name}: step {i}: {e}"))?;
            resolved.answers.push(native.call(&op));
            resolved.ops.push(op);
            resolved.expected.push(then.clone());
        }
        resolved.final_state = serde_json::to_value(&native.state).map_err(|e| e.to_string())?;
        Ok(resolved)
    }
}

/// Replaces `"snapshot_of": date` with the snapshot of that day in `state`.
pub fn fill_snapshot(op: &Value, state: &State) -> Result<Value, String> {
    let mut op = op.clone();
    let Some(fields) = op.as_object_mut() else {
        return Err("a call must be an object".into());
    };
    if let Some(date) = fields.remove("snapshot_of") {
        let date: reservation_core::Date =
            serde_json::from_value(date).map_err(|e| format!("snapshot_of: {e}"))?;
        let restaurant = state
            .restaurant
            .as_ref()
            .ok_or("snapshot_of needs a restaurant")?;
        let day = state.day_book(&restaurant.id, date);
        let snapshot = DaySnapshot::of(restaurant, &day);
        fields.insert(
            "snapshot".into(),
            serde_json::to_value(&snapshot).map_err(|e| e.to_string())?,
        );
    }
    Ok(op)
}

/// Reads every `*.json` file of a directory as a scenario, sorted by name.
pub fn load_dir(dir: &std::path::Path) -> Result<Vec<Scenario>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut paths: Vec<std::path::PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "json")
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('_'))
        })
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            Scenario::parse(&name, &text)
        })
        .collect()
}

/// Where the scenario files live, from any crate of the workspace.
pub fn scenario_dir(manifest_dir: &str) -> std::path::PathBuf {
    let here = std::path::Path::new(manifest_dir);
    let workspace = if here.join("scenarios").is_dir() {
        here.to_path_buf()
    } else {
        here.join("..").join("tests")
    };
    workspace.join("scenarios")
}

// ---------------------------------------------------------------------------------------------
// Coverage

/// What the scenarios leave uncovered: every command type must be decided somewhere, and every
/// (call, error code) pair must either be expected by some scenario or be listed in
/// `_unreachable.json` with the reason the core cannot produce it there — not both.
pub fn coverage_gaps(resolved: &[Resolved], unreachable: &Value) -> Vec<String> {
    let mut covered: Vec<(String, String)> = Vec::new();
    let mut commands: Vec<String> = Vec::new();
    for scenario in resolved {
        for (op, expected) in scenario.ops.iter().zip(&scenario.expected) {
            let name = op
                .get("op")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if name == "decide"
                && let Some(kind) = op.pointer("/command/type").and_then(Value::as_str)
            {
                commands.push(kind.to_string());
            }
            for code in error_codes(expected) {
                covered.push((name.clone(), code));
            }
        }
    }
    let mut gaps = Vec::new();
    for (kind, _) in Command::TYPES {
        if !commands.iter().any(|c| c == kind) {
            gaps.push(format!("no scenario decides a {kind} command"));
        }
    }
    for op in OPS {
        for code in ErrorCode::ALL {
            let code = code.as_str();
            let is_covered = covered.iter().any(|(o, c)| o == op && c == code);
            let reason = unreachable
                .get(op)
                .and_then(|codes| codes.get(code))
                .and_then(Value::as_str);
            match (is_covered, reason) {
                (true, Some(_)) => gaps.push(format!(
                    "{op}/{code} is listed as unreachable but a scenario expects it"
                )),
                (false, None) => gaps.push(format!(
                    "{op}/{code}: no scenario expects it and _unreachable.json gives no reason"
                )),
                (false, Some(reason)) if reason.trim().is_empty() => {
                    gaps.push(format!("{op}/{code}: empty reason"))
                }
                _ => {}
            }
        }
    }
    gaps
}
