//! Previews and availability against a day snapshot (`GET /restaurants/{id}/days/{date}/snapshot`).
//! The functions take the snapshot each call; `DaySnapshot` reads it once for many calls.

use reservation_core::DateTime;
use reservation_core::request::{Preview, ReservationRequest, preview};
use reservation_core::snapshot::DaySnapshot;
use reservation_core::time::{ClockTime, format_date};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::answer::{Answer, civil_now, from_js, party_size, to_js};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Previewed {
    pub preview: Preview,
}

/// The same shape as the server's `GET /restaurants/{id}/availability`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Available {
    /// `YYYY-MM-DD`.
    pub date: String,
    pub party_size: u16,
    pub times: Vec<ClockTime>,
}

pub fn preview_answer(
    snapshot: &DaySnapshot,
    request: &ReservationRequest,
    now: DateTime,
) -> Answer<Previewed> {
    preview(snapshot, request, now)
        .map(|preview| Previewed { preview })
        .into()
}

pub fn availability_answer(
    snapshot: &DaySnapshot,
    party_size: u16,
    now: DateTime,
) -> Answer<Available> {
    snapshot
        .availability(party_size, now)
        .map(|times| Available {
            date: format_date(snapshot.date),
            party_size,
            times,
        })
        .into()
}

/// What the server would decide for `request` at `now` (the restaurant's civil time).
#[wasm_bindgen(js_name = previewReservation)]
pub fn preview_reservation(
    snapshot: JsValue,
    request: JsValue,
    now: JsValue,
) -> Result<JsValue, JsValue> {
    let snapshot: DaySnapshot = from_js(&snapshot, "snapshot")?;
    let request: ReservationRequest = from_js(&request, "request")?;
    to_js(&preview_answer(&snapshot, &request, civil_now(&now)?))
}

/// Bookable start times for a party at `now` (the restaurant's civil time).
#[wasm_bindgen(js_name = availability)]
pub fn availability(
    snapshot: JsValue,
    party_size_value: JsValue,
    now: JsValue,
) -> Result<JsValue, JsValue> {
    let snapshot: DaySnapshot = from_js(&snapshot, "snapshot")?;
    to_js(&availability_answer(
        &snapshot,
        party_size(&party_size_value)?,
        civil_now(&now)?,
    ))
}

/// A snapshot read once, for many previews and availability lists (a booking page).
#[wasm_bindgen(js_name = PreparedSnapshot)]
pub struct PreparedSnapshot {
    snapshot: DaySnapshot,
}

#[wasm_bindgen(js_class = PreparedSnapshot)]
impl PreparedSnapshot {
    #[wasm_bindgen(constructor)]
    pub fn new(snapshot: JsValue) -> Result<PreparedSnapshot, JsValue> {
        Ok(PreparedSnapshot {
            snapshot: from_js(&snapshot, "snapshot")?,
        })
    }

    pub fn preview(&self, request: JsValue, now: JsValue) -> Result<JsValue, JsValue> {
        let request: ReservationRequest = from_js(&request, "request")?;
        to_js(&preview_answer(&self.snapshot, &request, civil_now(&now)?))
    }

    pub fn availability(
        &self,
        party_size_value: JsValue,
        now: JsValue,
    ) -> Result<JsValue, JsValue> {
        to_js(&availability_answer(
            &self.snapshot,
            party_size(&party_size_value)?,
            civil_now(&now)?,
        ))
    }

    /// The service date, `YYYY-MM-DD`.
    #[wasm_bindgen(getter)]
    pub fn date(&self) -> String {
        format_date(self.snapshot.date)
    }

    /// The restaurant's IANA time-zone name.
    #[wasm_bindgen(getter)]
    pub fn timezone(&self) -> String {
        self.snapshot.restaurant.timezone.clone()
    }
}
