//! The edge entry points as safe functions: each takes the JSON text of its arguments and returns
//! the JSON text of its answer. They never panic: undecodable input is a `malformed_input` error.
//!
//! | function       | input object                                      | ok answer              |
//! |----------------|---------------------------------------------------|------------------------|
//! | `decide`       | `{state, command}`                                | `{type, events}`       |
//! | `evolve`       | `{state, event}`                                  | `{type, state}`        |
//! | `preview`      | `{snapshot, request, now}`                        | `{type, preview}`      |
//! | `availability` | `{snapshot, party_size, now}`                     | `{type, date, party_size, times}` |
//! | `validate`     | `{request}`                                       | `{type, request}` (as the server reads it) |
//!
//! The ok answers have the npm package's shapes (`host-wasm`), so both hosts answer alike.

use reservation_core::json::{Fields, FromJson, JsonError};
use reservation_core::request::{ReservationRequest, ValidRequest, preview as preview_request};
use reservation_core::snapshot::DaySnapshot;
use reservation_core::time::format_date;
use reservation_core::{
    Command, DateTime, DomainError, ErrorCode, Event, State, decide as core_decide,
    evolve as core_evolve,
};
use serde::Serialize;
use serde_json::Value;

/// Declares an input object and reads it with the core's JSON decoding: every field required,
/// unknown fields refused.
macro_rules! input {
    ($name:ident { $($field:ident: $ty:ty),+ $(,)? }) => {
        struct $name {
            $($field: $ty),+
        }

        impl FromJson for $name {
            fn from_json(value: Value) -> Result<Self, JsonError> {
                let mut fields = Fields::new(value, "an object")?;
                let input = $name { $($field: fields.req(stringify!($field))?),+ };
                fields.deny_unknown()?;
                Ok(input)
            }
        }
    };
}

input!(DecideInput {
    state: State,
    command: Command,
});

input!(EvolveInput {
    state: State,
    event: Event,
});

input!(PreviewInput {
    snapshot: DaySnapshot,
    request: ReservationRequest,
    now: DateTime,
});

input!(AvailabilityInput {
    snapshot: DaySnapshot,
    party_size: i64,
    now: DateTime,
});

input!(ValidateInput {
    request: ReservationRequest,
});

/// `decide(state, command)`: the events the command records, or why it is refused.
pub fn decide(input: &[u8]) -> Vec<u8> {
    match decode::<DecideInput>(input) {
        Ok(input) => match core_decide(&input.command, &input.state) {
            Ok(events) => ok("events", &events),
            Err(error) => errors(&[error]),
        },
        Err(error) => errors(&[error]),
    }
}

/// `evolve(state, event)`: the state after the event.
pub fn evolve(input: &[u8]) -> Vec<u8> {
    match decode::<EvolveInput>(input) {
        Ok(input) => ok("state", &core_evolve(input.state, &input.event)),
        Err(error) => errors(&[error]),
    }
}

/// `preview(snapshot, request, now)`: what the server would decide for the request now.
pub fn preview(input: &[u8]) -> Vec<u8> {
    match decode::<PreviewInput>(input) {
        Ok(input) => match preview_request(&input.snapshot, &input.request, input.now) {
            Ok(preview) => ok("preview", &preview),
            Err(list) => errors(&list),
        },
        Err(error) => errors(&[error]),
    }
}

/// `availability(snapshot, party_size, now)`: the bookable start times.
pub fn availability(input: &[u8]) -> Vec<u8> {
    match decode::<AvailabilityInput>(input) {
        Ok(input) => {
            // Sizes beyond u16 are still "too large", not malformed; the core checks the rest.
            let party_size = u16::try_from(input.party_size.max(0)).unwrap_or(u16::MAX);
            match input.snapshot.availability(party_size, input.now) {
                Ok(times) => {
                    #[derive(Serialize)]
                    struct Available<'a> {
                        #[serde(rename = "type")]
                        kind: &'static str,
                        date: String,
                        party_size: u16,
                        times: &'a [reservation_core::time::ClockTime],
                    }
                    let answer = Available {
                        kind: "ok",
                        date: format_date(input.snapshot.date),
                        party_size,
                        times: &times,
                    };
                    serde_json::to_vec(&answer).unwrap_or_else(|e| encoding_failed(&e))
                }
                Err(error) => errors(&[error]),
            }
        }
        Err(error) => errors(&[error]),
    }
}

/// `validate(request)`: field-level errors of a frontend's request, or the request as accepted.
pub fn validate(input: &[u8]) -> Vec<u8> {
    match decode::<ValidateInput>(input) {
        Ok(input) => match input.request.validate() {
            Ok(valid) => ok("request", &as_read(valid)),
            Err(list) => errors(&list),
        },
        Err(error) => errors(&[error]),
    }
}

/// The request as the server reads it: the name trimmed, every field in its canonical form.
fn as_read(valid: ValidRequest) -> ReservationRequest {
    ReservationRequest {
        id: valid.id.map(|id| id.to_string()),
        user_id: valid.user_id.map(|id| id.to_string()),
        name: valid.name,
        party_size: i64::from(valid.party_size),
        date: format_date(valid.date),
        time: valid.time.to_string(),
    }
}

/// Parses the text into a JSON tree, then reads the arguments from the tree with the core's
/// JSON decoding (`reservation_core::json`), the small hand-written one.
fn decode<T: FromJson>(input: &[u8]) -> Result<T, DomainError> {
    reservation_core::json::from_slice(input).map_err(|e| {
        let error = DomainError::new(ErrorCode::MalformedInput, e.message);
        if e.path.is_empty() {
            error
        } else {
            error.with_field(e.path)
        }
    })
}

/// `{"type":"ok","<key>":<value>}`, written without building an intermediate JSON tree.
fn ok<T: Serialize + ?Sized>(key: &'static str, value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"{\"type\":\"ok\",\"");
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
    match serde_json::to_writer(&mut out, value) {
        Ok(()) => {
            out.push(b'}');
            out
        }
        Err(e) => encoding_failed(&e),
    }
}

/// Unreachable for the core's types (no maps with non-string keys, no failing serializers).
fn encoding_failed(e: &serde_json::Error) -> Vec<u8> {
    errors(&[DomainError::new(
        ErrorCode::MalformedInput,
        format!("cannot encode the answer: {e}"),
    )])
}

/// `{"type":"error","errors":[{code, message, field?, alternatives?}, …]}`.
pub(crate) fn errors(list: &[DomainError]) -> Vec<u8> {
    const PREFIX: &[u8] = b"{\"type\":\"error\",\"errors\":";
    let mut out = Vec::with_capacity(128);
    out.extend_from_slice(PREFIX);
    if serde_json::to_writer(&mut out, list).is_err() {
        // Unreachable for DomainError (strings and enums only); keep the answer well-formed anyway.
        out.truncate(PREFIX.len());
        out.extend_from_slice(b"[]");
    }
    out.push(b'}');
    out
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn call(f: fn(&[u8]) -> Vec<u8>, input: &Value) -> Value {
        serde_json::from_slice(&f(input.to_string().as_bytes())).unwrap()
    }

    #[test]
    fn garbage_is_malformed_input_not_a_panic() {
        for f in [decide, evolve, preview, availability, validate] {
            for input in [
                &b""[..],
                b"{",
                b"null",
                b"[]",
                b"{\"state\":{}}",
                &[0xff, 0xfe],
                b"{\"a\":1}",
            ] {
                let answer: Value = serde_json::from_slice(&f(input)).unwrap();
                assert_eq!(answer["type"], "error");
                assert_eq!(answer["errors"][0]["code"], "malformed_input");
            }
        }
    }

    #[test]
    fn validate_reports_every_field() {
        let answer = call(
            validate,
            &json!({"request": {"name": " ", "party_size": 0, "date": "2026-13-01", "time": "7pm"}}),
        );
        let codes: Vec<&str> = answer["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["code"].as_str().unwrap())
            .collect();
        assert_eq!(
            codes,
            [
                "invalid_name",
                "invalid_party_size",
                "invalid_date",
                "invalid_time"
            ]
        );
        let ok = call(
            validate,
            &json!({"request": {"name": " Ada ", "party_size": 2, "date": "2026-12-08", "time": "19:00"}}),
        );
        assert_eq!(
            ok,
            json!({"type": "ok", "request": {"name": "Ada", "party_size": 2, "date": "2026-12-08", "time": "19:00"}})
        );
    }

    #[test]
    fn errors_are_well_formed_json() {
        let out = errors(&[
            DomainError::new(ErrorCode::NotSeatable, "a \"quoted\" message").with_field("id"),
        ]);
        let answer: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            answer,
            json!({"type": "error", "errors": [{"code": "not_seatable", "message": "a \"quoted\" message", "field": "id"}]})
        );
    }
}
