//! The reservation as the HTTP API and the read models show it. One shape, built from the core's
//! `Reservation`, so a 201, a `GET /reservations/{id}` and a listing always agree.

use reservation_core::allocation::RejectionReason;
use reservation_core::reservation::{Reservation, Status};
use reservation_core::time::ClockTime;
use reservation_core::{Date, DateTime};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservationView {
    pub id: String,
    pub restaurant_id: String,
    pub user_id: String,
    /// The guest's name.
    pub name: String,
    pub party_size: u16,
    /// The service date (`YYYY-MM-DD`).
    pub date: Date,
    pub requested_time: ClockTime,
    /// The assigned start; absent when rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<ClockTime>,
    /// The assigned start as a civil date-time (differs from `date` after midnight).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<DateTime>,
    pub status: Status,
    pub table_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<RejectionReason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alternatives: Option<Vec<ClockTime>>,
}

impl From<&Reservation> for ReservationView {
    fn from(r: &Reservation) -> Self {
        ReservationView {
            id: r.id.to_string(),
            restaurant_id: r.restaurant_id.to_string(),
            user_id: r.user_id.to_string(),
            name: r.guest_name.clone(),
            party_size: r.party_size,
            date: r.date,
            requested_time: r.requested_time,
            time: r.time,
            starts_at: r.starts_at,
            status: r.status,
            table_ids: r.table_ids.iter().map(ToString::to_string).collect(),
            reason: r.reason,
            alternatives: (r.status == Status::Rejected).then(|| r.alternatives.clone()),
        }
    }
}
