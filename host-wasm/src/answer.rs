//! Answers are data tagged by `type`: `{type: "ok", ...}` or `{type: "error", errors: [...]}`,
//! where each error is the core's `DomainError` (`{code, message, field?, alternatives?}`).
//! Misuse (an argument of the wrong shape) is not an answer: it is thrown as a `TypeError` with
//! `name: "MalformedInputError"`, `code: "malformed_input"` and the offending `field`.
//!
//! Values cross the boundary as JSON text: arguments go through `JSON.stringify` and
//! serde_json, answers through serde_json and `JSON.parse`. So the canonical form of every
//! answer is exactly the core's serde_json encoding, the one the server and the edge module
//! send (plain objects, `null`, absent optional fields left out; never `Map` or `undefined`),
//! and arguments mean what their JSON means. serde-wasm-bindgen was measured as the alternative
//! (see host-wasm/README.md): a bigger module and no faster, without serde_json's depth limit.

use reservation_core::DomainError;
use reservation_core::json::FromJson;
use reservation_core::time::parse_civil_datetime;
use serde::Serialize;
use wasm_bindgen::JsValue;

/// An answer: what the core said, or why it refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Answer<T> {
    Ok(T),
    Error { errors: Vec<DomainError> },
}

impl<T> From<Result<T, Vec<DomainError>>> for Answer<T> {
    fn from(result: Result<T, Vec<DomainError>>) -> Self {
        match result {
            Ok(value) => Answer::Ok(value),
            Err(errors) => Answer::Error { errors },
        }
    }
}

impl<T> From<Result<T, DomainError>> for Answer<T> {
    fn from(result: Result<T, DomainError>) -> Self {
        result.map_err(|e| vec![e]).into()
    }
}

/// Converts an answer (or any core value) to its canonical JS form.
pub fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    let text = serde_json::to_string(value).map_err(|e| misuse("answer", &e.to_string()))?;
    js_sys::JSON::parse(&text)
}

/// Reads argument `name` as a `T` through its JSON text. The text is read into a
/// `serde_json::Value` first, the form commands and events are decoded (and upcast) from, and
/// read from the tree with the core's JSON decoding (`reservation_core::json`); serde_json's
/// depth limit keeps absurdly nested input harmless.
pub fn from_js<T: FromJson>(value: &JsValue, name: &str) -> Result<T, JsValue> {
    let text = js_sys::JSON::stringify(value)
        .ok()
        .and_then(|text| text.as_string())
        .ok_or_else(|| misuse(name, "expected a JSON value"))?;
    reservation_core::json::from_slice(text.as_bytes()).map_err(|e| misuse(name, &e.to_string()))
}

/// Reads `now`: the restaurant's civil date-time, `YYYY-MM-DDTHH:MM[:SS]`.
pub fn civil_now(now: &JsValue) -> Result<reservation_core::DateTime, JsValue> {
    now.as_string()
        .and_then(|text| parse_civil_datetime(&text))
        .ok_or_else(|| {
            misuse(
                "now",
                "expected the restaurant's civil date-time, e.g. \"2026-12-08T18:00:00\"",
            )
        })
}

/// Reads a party size: an integer. Out-of-range values are passed on saturated, so that the
/// core itself refuses them with `invalid_party_size` / `party_too_large`.
pub fn party_size(value: &JsValue) -> Result<u16, JsValue> {
    match value.as_f64() {
        Some(n) if n.is_finite() && n.fract() == 0.0 => {
            Ok(n.clamp(0.0, f64::from(u16::MAX)) as u16)
        }
        _ => Err(misuse("partySize", "expected an integer")),
    }
}

/// The typed misuse error: a JS `TypeError` with `name`, `code` and `field`.
pub fn misuse(field: &str, message: &str) -> JsValue {
    let error = js_sys::TypeError::new(message);
    // Setting plain data properties on a fresh error object cannot fail.
    let _ = js_sys::Reflect::set(&error, &"name".into(), &"MalformedInputError".into());
    let _ = js_sys::Reflect::set(&error, &"code".into(), &"malformed_input".into());
    let _ = js_sys::Reflect::set(&error, &"field".into(), &field.into());
    error.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reservation_core::ErrorCode;

    #[test]
    fn answers_are_tagged_by_type() {
        #[derive(Serialize)]
        struct Times {
            times: Vec<&'static str>,
        }
        let ok: Answer<Times> = Ok::<_, Vec<DomainError>>(Times {
            times: vec!["19:00"],
        })
        .into();
        assert_eq!(
            serde_json::to_value(&ok).unwrap(),
            serde_json::json!({"type": "ok", "times": ["19:00"]})
        );
        let error: Answer<Times> = Err::<Times, _>(
            DomainError::new(ErrorCode::PartyTooLarge, "too many").with_field("party_size"),
        )
        .into();
        assert_eq!(
            serde_json::to_value(&error).unwrap(),
            serde_json::json!({"type": "error", "errors": [
                {"code": "party_too_large", "message": "too many", "field": "party_size"}
            ]})
        );
    }
}
