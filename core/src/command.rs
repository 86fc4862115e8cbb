//! Commands: what restaurants, guests and staff ask for. Every command that needs a clock or a
//! new id carries it (`now`, `reservation_id`), so the core stays pure.

use jiff::civil::{Date, DateTime};
use serde::{Deserialize, Serialize};

use crate::ids::{ReservationId, RestaurantId, UserId};
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterRestaurant {
    pub restaurant: Restaurant,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeTables {
    pub restaurant_id: RestaurantId,
    pub tables: Vec<Table>,
    #[serde(default)]
    pub combinations: Vec<Combination>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeOpeningHours {
    pub restaurant_id: RestaurantId,
    pub opening_hours: WeeklyHours,
    #[serde(default)]
    pub exceptions: Vec<Exception>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangePolicy {
    pub restaurant_id: RestaurantId,
    pub policy: BookingPolicy,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestReservation {
    pub reservation_id: ReservationId,
    pub restaurant_id: RestaurantId,
    pub user_id: UserId,
    pub guest_name: String,
    pub party_size: u16,
    /// The service date.
    pub date: Date,
    pub time: ClockTime,
    /// The restaurant's civil time when the request was made.
    pub now: DateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelReservation {
    pub reservation_id: ReservationId,
    pub by: Actor,
    pub now: DateTime,
}

/// Moves a reservation and/or changes its party size; absent fields keep their value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModifyReservation {
    pub reservation_id: ReservationId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<ClockTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party_size: Option<u16>,
    pub by: Actor,
    pub now: DateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatReservation {
    pub reservation_id: ReservationId,
    pub now: DateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompleteReservation {
    pub reservation_id: ReservationId,
    pub now: DateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkNoShow {
    pub reservation_id: ReservationId,
    pub now: DateTime,
}
