//! A reservation's life: requested, then confirmed or rejected; from confirmed, cancelled,
//! modified, seated or marked no-show; from seated, completed. Its stream is its history.

use jiff::civil::{Date, DateTime};
use serde::Serialize;

use crate::allocation::RejectionReason;
use crate::event::{Event, ReservationConfirmed, ReservationRejected};
use crate::ids::{ReservationId, RestaurantId, TableId, UserId};
use crate::json::{from_json, from_json_names};
use crate::time::ClockTime;

/// Who asked for a change. Guests may cancel only until the reservation starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    Guest,
    Staff,
}

from_json_names!(Actor { "guest" => Guest, "staff" => Staff });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Confirmed,
    Rejected,
    Cancelled,
    Seated,
    Completed,
    NoShow,
}

from_json_names!(Status {
    "confirmed" => Confirmed,
    "rejected" => Rejected,
    "cancelled" => Cancelled,
    "seated" => Seated,
    "completed" => Completed,
    "no_show" => NoShow,
});

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Confirmed => "confirmed",
            Status::Rejected => "rejected",
            Status::Cancelled => "cancelled",
            Status::Seated => "seated",
            Status::Completed => "completed",
            Status::NoShow => "no_show",
        }
    }

    /// Whether the reservation holds (or held) its tables.
    pub fn is_active(self) -> bool {
        matches!(self, Status::Confirmed | Status::Seated)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Confirmed,
    Rejected,
    Cancelled,
    Modified,
    Seated,
    Completed,
    NoShow,
}

from_json_names!(ChangeKind {
    "confirmed" => Confirmed,
    "rejected" => Rejected,
    "cancelled" => Cancelled,
    "modified" => Modified,
    "seated" => Seated,
    "completed" => Completed,
    "no_show" => NoShow,
});

/// One entry of a reservation's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    #[serde(serialize_with = "crate::time::serialize_datetime")]
    pub at: DateTime,
    pub change: ChangeKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<Actor>,
}

from_json!(Change {
    at: req,
    change: req,
    by: opt
});

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reservation {
    pub id: ReservationId,
    pub restaurant_id: RestaurantId,
    pub user_id: UserId,
    pub guest_name: String,
    pub party_size: u16,
    /// The service date.
    #[serde(serialize_with = "crate::time::serialize_date")]
    pub date: Date,
    pub requested_time: ClockTime,
    /// The assigned start (absent when rejected).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<ClockTime>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::time::serialize_optional_datetime"
    )]
    pub starts_at: Option<DateTime>,
    pub table_ids: Vec<TableId>,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<RejectionReason>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<ClockTime>,
    pub history: Vec<Change>,
}

from_json!(Reservation {
    id: req,
    restaurant_id: req,
    user_id: req,
    guest_name: req,
    party_size: req,
    date: req,
    requested_time: req,
    time: opt,
    starts_at: opt,
    table_ids: req,
    status: req,
    reason: opt,
    alternatives: or_default,
    history: req,
});

impl Reservation {
    pub fn confirmed(e: &ReservationConfirmed) -> Self {
        Reservation {
            id: e.reservation_id.clone(),
            restaurant_id: e.restaurant_id.clone(),
            user_id: e.user_id.clone(),
            guest_name: e.guest_name.clone(),
            party_size: e.party_size,
            date: e.date,
            requested_time: e.requested_time,
            time: Some(e.time),
            starts_at: Some(e.starts_at),
            table_ids: e.table_ids.clone(),
            status: Status::Confirmed,
            reason: None,
            alternatives: Vec::new(),
            history: vec![Change {
                at: e.at,
                change: ChangeKind::Confirmed,
                by: None,
            }],
        }
    }

    pub fn rejected(e: &ReservationRejected) -> Self {
        Reservation {
            id: e.reservation_id.clone(),
            restaurant_id: e.restaurant_id.clone(),
            user_id: e.user_id.clone(),
            guest_name: e.guest_name.clone(),
            party_size: e.party_size,
            date: e.date,
            requested_time: e.requested_time,
            time: None,
            starts_at: None,
            table_ids: Vec::new(),
            status: Status::Rejected,
            reason: Some(e.reason),
            alternatives: e.alternatives.clone(),
            history: vec![Change {
                at: e.at,
                change: ChangeKind::Rejected,
                by: None,
            }],
        }
    }

    /// Applies a later event of this reservation's stream.
    pub fn apply(&mut self, event: &Event) {
        let (status, change) = match event {
            Event::ReservationCancelled(e) => (
                Status::Cancelled,
                Change {
                    at: e.at,
                    change: ChangeKind::Cancelled,
                    by: Some(e.by),
                },
            ),
            Event::ReservationSeated(e) => (
                Status::Seated,
                Change {
                    at: e.at,
                    change: ChangeKind::Seated,
                    by: None,
                },
            ),
            Event::ReservationCompleted(e) => (
                Status::Completed,
                Change {
                    at: e.at,
                    change: ChangeKind::Completed,
                    by: None,
                },
            ),
            Event::ReservationMarkedNoShow(e) => (
                Status::NoShow,
                Change {
                    at: e.at,
                    change: ChangeKind::NoShow,
                    by: None,
                },
            ),
            Event::ReservationModified(e) => {
                self.party_size = e.party_size;
                self.date = e.date;
                self.requested_time = e.requested_time;
                self.time = Some(e.time);
                self.starts_at = Some(e.starts_at);
                self.table_ids = e.table_ids.clone();
                (
                    self.status,
                    Change {
                        at: e.at,
                        change: ChangeKind::Modified,
                        by: Some(e.by),
                    },
                )
            }
            _ => return,
        };
        self.status = status;
        self.history.push(change);
    }
}
