//! Commands: what restaurants, guests and staff ask for. Every command that needs a clock or a
//! new id carries it (`now`, `reservation_id`), so the core stays pure.

use jiff::civil::{Date, DateTime};
use serde::Serialize;

use crate::ids::{ReservationId, RestaurantId, UserId};
use crate::json::from_json;
use crate::opening_hours::{Exception, WeeklyHours};
use crate::policy::BookingPolicy;
use crate::reservation::Actor;
use crate::restaurant::{Combination, Restaurant, Table};
use crate::time::ClockTime;
use crate::wire::{Upcaster, versioned_enum};

/// Upcasters for commands sent by older clients (none yet: every command is at version 1).
pub const COMMAND_UPCASTERS: &[Upcaster] = &[];

versioned_enum! {
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Command upcast by COMMAND_UPCASTERS; {
        RegisterRestaurant(RegisterRestaurant) = ("register_restaurant", 1),
        ChangeTables(ChangeTables) = ("change_tables", 1),
        ChangeOpeningHours(ChangeOpeningHours) = ("change_opening_hours", 1),
        ChangePolicy(ChangePolicy) = ("change_policy", 1),
        RequestReservation(RequestReservation) = ("request_reservation", 1),
        CancelReservation(CancelReservation) = ("cancel_reservation", 1),
        ModifyReservation(ModifyReservation) = ("modify_reservation", 1),
        SeatReservation(SeatReservation) = ("seat_reservation", 1),
        CompleteReservation(CompleteReservation) = ("complete_reservation", 1),
        MarkNoShow(MarkNoShow) = ("mark_no_show", 1),
    }
}

impl Command {
    /// The reservation a command is about, if any.
    pub fn reservation_id(&self) -> Option<&ReservationId> {
        match self {
            Command::RequestReservation(c) => Some(&c.reservation_id),
            Command::CancelReservation(c) => Some(&c.reservation_id),
            Command::ModifyReservation(c) => Some(&c.reservation_id),
            Command::SeatReservation(c) => Some(&c.reservation_id),
            Command::CompleteReservation(c) => Some(&c.reservation_id),
            Command::MarkNoShow(c) => Some(&c.reservation_id),
            Command::RegisterRestaurant(_)
            | Command::ChangeTables(_)
            | Command::ChangeOpeningHours(_)
            | Command::ChangePolicy(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegisterRestaurant {
    pub restaurant: Restaurant,
}

from_json!(RegisterRestaurant { restaurant: req });

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeTables {
    pub restaurant_id: RestaurantId,
    pub tables: Vec<Table>,
    pub combinations: Vec<Combination>,
}

from_json!(ChangeTables {
    restaurant_id: req,
    tables: req,
    combinations: or_default
});

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeOpeningHours {
    pub restaurant_id: RestaurantId,
    pub opening_hours: WeeklyHours,
    pub exceptions: Vec<Exception>,
}

from_json!(ChangeOpeningHours {
    restaurant_id: req,
    opening_hours: req,
    exceptions: or_default
});

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangePolicy {
    pub restaurant_id: RestaurantId,
    pub policy: BookingPolicy,
}

from_json!(ChangePolicy {
    restaurant_id: req,
    policy: req
});

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestReservation {
    pub reservation_id: ReservationId,
    pub restaurant_id: RestaurantId,
    pub user_id: UserId,
    pub guest_name: String,
    pub party_size: u16,
    /// The service date.
    #[serde(serialize_with = "crate::time::serialize_date")]
    pub date: Date,
    pub time: ClockTime,
    /// The restaurant's civil time when the request was made.
    #[serde(serialize_with = "crate::time::serialize_datetime")]
    pub now: DateTime,
}

from_json!(RequestReservation {
    reservation_id: req,
    restaurant_id: req,
    user_id: req,
    guest_name: req,
    party_size: req,
    date: req,
    time: req,
    now: req,
});

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CancelReservation {
    pub reservation_id: ReservationId,
    pub by: Actor,
    #[serde(serialize_with = "crate::time::serialize_datetime")]
    pub now: DateTime,
}

from_json!(CancelReservation {
    reservation_id: req,
    by: req,
    now: req
});

/// Moves a reservation and/or changes its party size; absent fields keep their value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModifyReservation {
    pub reservation_id: ReservationId,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::time::serialize_optional_date"
    )]
    pub date: Option<Date>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<ClockTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub party_size: Option<u16>,
    pub by: Actor,
    #[serde(serialize_with = "crate::time::serialize_datetime")]
    pub now: DateTime,
}

from_json!(ModifyReservation {
    reservation_id: req,
    date: opt,
    time: opt,
    party_size: opt,
    by: req,
    now: req,
});

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeatReservation {
    pub reservation_id: ReservationId,
    #[serde(serialize_with = "crate::time::serialize_datetime")]
    pub now: DateTime,
}

from_json!(SeatReservation {
    reservation_id: req,
    now: req
});

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompleteReservation {
    pub reservation_id: ReservationId,
    #[serde(serialize_with = "crate::time::serialize_datetime")]
    pub now: DateTime,
}

from_json!(CompleteReservation {
    reservation_id: req,
    now: req
});

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MarkNoShow {
    pub reservation_id: ReservationId,
    #[serde(serialize_with = "crate::time::serialize_datetime")]
    pub now: DateTime,
}

from_json!(MarkNoShow {
    reservation_id: req,
    now: req
});
