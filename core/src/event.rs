//! Events: past-tense facts, each with a stable `type` and a schema `version` on the wire.
//! `core/EVENTS.md` documents every one with an example for the services that read them.

use jiff::civil::{Date, DateTime};
use serde::Serialize;

use crate::allocation::RejectionReason;
use crate::ids::{ReservationId, RestaurantId, TableId, UserId};
use crate::json::from_json;
use crate::opening_hours::{Exception, WeeklyHours};
use crate::policy::BookingPolicy;
use crate::reservation::Actor;
use crate::restaurant::{Combination, Restaurant, Table};
use crate::stream::StreamId;
use crate::time::ClockTime;
use crate::wire::{Upcaster, versioned_enum};

/// Upcasters for events written by older builds. Every event is still at version 1; a change to
/// an event's fields adds a version and an entry here, so stored history keeps loading.
pub const EVENT_UPCASTERS: &[Upcaster] = &[];

versioned_enum! {
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Event upcast by EVENT_UPCASTERS; {
        RestaurantRegistered(RestaurantRegistered) = ("restaurant_registered", 1),
        TablesChanged(TablesChanged) = ("tables_changed", 1),
        OpeningHoursChanged(OpeningHoursChanged) = ("opening_hours_changed", 1),
        BookingPolicyChanged(BookingPolicyChanged) = ("booking_policy_changed", 1),
        TablesAllocated(TablesAllocated) = ("tables_allocated", 1),
        TablesReleased(TablesReleased) = ("tables_released", 1),
        ReservationConfirmed(ReservationConfirmed) = ("reservation_confirmed", 1),
        ReservationRejected(ReservationRejected) = ("reservation_rejected", 1),
        ReservationCancelled(ReservationCancelled) = ("reservation_cancelled", 1),
        ReservationModified(ReservationModified) = ("reservation_modified", 1),
        ReservationSeated(ReservationSeated) = ("reservation_seated", 1),
        ReservationCompleted(ReservationCompleted) = ("reservation_completed", 1),
        ReservationMarkedNoShow(ReservationMarkedNoShow) = ("reservation_marked_no_show", 1),
    }
}

impl Event {
    /// The stream this event belongs to.
    pub fn stream(&self) -> StreamId {
        match self {
            Event::RestaurantRegistered(e) => StreamId::Restaurant(e.restaurant.id.clone()),
            Event::TablesChanged(e) => StreamId::Restaurant(e.restaurant_id.clone()),
            Event::OpeningHoursChanged(e) => StreamId::Restaurant(e.restaurant_id.clone()),
            Event::BookingPolicyChanged(e) => StreamId::Restaurant(e.restaurant_id.clone()),
            Event::TablesAllocated(e) => StreamId::DayBook(e.restaurant_id.clone(), e.date),
            Event::TablesReleased(e) => StreamId::DayBook(e.restaurant_id.clone(), e.date),
            Event::ReservationConfirmed(e) => StreamId::Reservation(e.reservation_id.clone()),
            Event::ReservationRejected(e) => StreamId::Reservation(e.reservation_id.clone()),
            Event::ReservationCancelled(e) => StreamId::Reservation(e.reservation_id.clone()),
            Event::ReservationModified(e) => StreamId::Reservation(e.reservation_id.clone()),
            Event::ReservationSeated(e) => StreamId::Reservation(e.reservation_id.clone()),
            Event::ReservationCompleted(e) => StreamId::Reservation(e.reservation_id.clone()),
            Event::ReservationMarkedNoShow(e) => StreamId::Reservation(e.reservation_id.clone()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestaurantRegistered {
    pub restaurant: Restaurant,
}

from_json!(RestaurantRegistered { restaurant: req });

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TablesChanged {
    pub restaurant_id: RestaurantId,
    pub tables: Vec<Table>,
    pub combinations: Vec<Combination>,
}

from_json!(TablesChanged {
    restaurant_id: req,
    tables: req,
    combinations: req
});

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpeningHoursChanged {
    pub restaurant_id: RestaurantId,
    pub opening_hours: WeeklyHours,
    pub exceptions: Vec<Exception>,
}

from_json!(OpeningHoursChanged {
    restaurant_id: req,
    opening_hours: req,
    exceptions: req
});

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BookingPolicyChanged {
    pub restaurant_id: RestaurantId,
    pub policy: BookingPolicy,
}

from_json!(BookingPolicyChanged {
    restaurant_id: req,
    policy: req
});

/// Day-book fact: tables are held for a party over `[starts_at, held_until)`. Carries no PII.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TablesAllocated {
    pub restaurant_id: RestaurantId,
    #[serde(serialize_with = "crate::time::serialize_date")]
    pub date: Date,
    pub reservation_id: ReservationId,
    pub table_ids: Vec<TableId>,
    pub party_size: u16,
    #[serde(serialize_with = "crate::time::serialize_datetime")]
    pub starts_at: DateTime,
    #[serde(serialize_with = "crate::time::serialize_datetime")]
    pub held_until: DateTime,
}

from_json!(TablesAllocated {
    restaurant_id: req,
    date: req,
    reservation_id: req,
    table_ids: req,
    party_size: req,
    starts_at: req,
    held_until: req,
});

/// Day-book fact: a reservation's tables are free from `from` on (from its start: entirely).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TablesReleased {
    pub restaurant_id: RestaurantId,
    #[serde(serialize_with = "crate::time::serialize_date")]
    pub date: Date,
    pub reservation_id: ReservationId,
    #[serde(serialize_with = "crate::time::serialize_datetime")]
    pub from: DateTime,
}

from_json!(TablesReleased {
    restaurant_id: req,
    date: req,
    reservation_id: req,
    from: req
});

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReservationConfirmed {
    pub reservation_id: ReservationId,
    pub restaurant_id: RestaurantId,
    pub user_id: UserId,
    pub guest_name: String,
    pub party_size: u16,
    /// The service date.
    #[serde(serialize_with = "crate::time::serialize_date")]
    pub date: Date,
    pub requested_time: ClockTime,
    /// The assigned start, which may differ from the requested time by up to the flex.
    pub time: ClockTime,
    #[serde(serialize_with = "crate::time::serialize_datetime")]
    pub starts_at: DateTime,
    pub table_ids: Vec<TableId>,
    #[serde(serialize_with = "crate::time::serialize_datetime")]
    pub at: DateTime,
}

from_json!(ReservationConfirmed {
    reservation_id: req,
    restaurant_id: req,
    user_id: req,
    guest_name: req,
    party_size: req,
    date: req,
    requested_time: req,
    time: req,
    starts_at: req,
    table_ids: req,
    at: req,
});

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReservationRejected {
    pub reservation_id: ReservationId,
    pub restaurant_id: RestaurantId,
    pub user_id: UserId,
    pub guest_name: String,
    pub party_size: u16,
    #[serde(serialize_with = "crate::time::serialize_date")]
    pub date: Date,
    pub requested_time: ClockTime,
    pub reason: RejectionReason,
    pub alternatives: Vec<ClockTime>,
    #[serde(serialize_with = "crate::time::serialize_datetime")]
    pub at: DateTime,
}

from_json!(ReservationRejected {
    reservation_id: req,
    restaurant_id: req,
    user_id: req,
    guest_name: req,
    party_size: req,
    date: req,
    requested_time: req,
    reason: req,
    alternatives: req,
    at: req,
});

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReservationCancelled {
    pub reservation_id: ReservationId,
    pub restaurant_id: RestaurantId,
    pub by: Actor,
    #[serde(serialize_with = "crate::time::serialize_datetime")]
    pub at: DateTime,
}

from_json!(ReservationCancelled {
    reservation_id: req,
    restaurant_id: req,
    by: req,
    at: req
});

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReservationModified {
    pub reservation_id: ReservationId,
    pub restaurant_id: RestaurantId,
    pub party_size: u16,
    #[serde(serialize_with = "crate::time::serialize_date")]
    pub date: Date,
    pub requested_time: ClockTime,
    pub time: ClockTime,
    #[serde(serialize_with = "crate::time::serialize_datetime")]
    pub starts_at: DateTime,
    pub table_ids: Vec<TableId>,
    pub by: Actor,
    #[serde(serialize_with = "crate::time::serialize_datetime")]
    pub at: DateTime,
}

from_json!(ReservationModified {
    reservation_id: req,
    restaurant_id: req,
    party_size: req,
    date: req,
    requested_time: req,
    time: req,
    starts_at: req,
    table_ids: req,
    by: req,
    at: req,
});

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReservationSeated {
    pub reservation_id: ReservationId,
    pub restaurant_id: RestaurantId,
    #[serde(serialize_with = "crate::time::serialize_datetime")]
    pub at: DateTime,
}

from_json!(ReservationSeated {
    reservation_id: req,
    restaurant_id: req,
    at: req
});

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReservationCompleted {
    pub reservation_id: ReservationId,
    pub restaurant_id: RestaurantId,
    #[serde(serialize_with = "crate::time::serialize_datetime")]
    pub at: DateTime,
}

from_json!(ReservationCompleted {
    reservation_id: req,
    restaurant_id: req,
    at: req
});

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReservationMarkedNoShow {
    pub reservation_id: ReservationId,
    pub restaurant_id: RestaurantId,
    #[serde(serialize_with = "crate::time::serialize_datetime")]
    pub at: DateTime,
}

from_json!(ReservationMarkedNoShow {
    reservation_id: req,
    restaurant_id: req,
    at: req
});
