//! `validateReservation(request)`: the field-level checks the server makes on a request.

use reservation_core::request::{ReservationRequest, ValidRequest};
use reservation_core::time::format_date;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::answer::{Answer, from_js, to_js};

/// The request as the server will read it (the name trimmed), in its wire form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Validated {
    pub request: ReservationRequest,
}

impl From<ValidRequest> for Validated {
    fn from(valid: ValidRequest) -> Self {
        Validated {
            request: ReservationRequest {
                id: valid.id.map(|id| id.to_string()),
                user_id: valid.user_id.map(|id| id.to_string()),
                name: valid.name,
                party_size: i64::from(valid.party_size),
                date: format_date(valid.date),
                time: valid.time.to_string(),
            },
        }
    }
}

/// `{type: "ok", request}` or `{type: "error", errors}` with every field's problem.
pub fn validate(request: &ReservationRequest) -> Answer<Validated> {
    request.validate().map(Validated::from).into()
}

#[wasm_bindgen(js_name = validateReservation)]
pub fn validate_reservation(request: JsValue) -> Result<JsValue, JsValue> {
    let request: ReservationRequest = from_js(&request, "request")?;
    to_js(&validate(&request))
}
