//! Builders shared by the core's tests: a restaurant, requests and the events they produce.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use jiff::civil::{Date, DateTime, date};

use crate::allocation::RejectionReason;
use crate::command::*;
use crate::event::*;
use crate::ids::{ReservationId, RestaurantId, TableId, UserId};
use crate::opening_hours::WeeklyHours;
use crate::policy::BookingPolicy;
use crate::reservation::Actor;
use crate::restaurant::{Combination, Restaurant, Table};
use crate::time::{ClockTime, TimeRange, datetime_at};

pub fn rid() -> RestaurantId {
    RestaurantId::parse("r1").unwrap()
}
pub fn res(id: &str) -> ReservationId {
    ReservationId::parse(id).unwrap()
}
pub fn user() -> UserId {
    UserId::parse("u1").unwrap()
}
pub fn t(id: &str) -> TableId {
    TableId::parse(id).unwrap()
}
pub fn clock(text: &str) -> ClockTime {
    ClockTime::parse(text).unwrap()
}
/// Tuesday, the service date of most tests.
pub fn day() -> Date {
    date(2026, 12, 8)
}
/// A week before `day()`.
pub fn now() -> DateTime {
    date(2026, 12, 1).at(10, 0, 0, 0)
}

pub fn every_day(ranges: &[&str]) -> WeeklyHours {
    let r: Vec<TimeRange> = ranges
        .iter()
        .map(|r| TimeRange::parse(r).unwrap())
        .collect();
    WeeklyHours {
        monday: r.clone(),
        tuesday: r.clone(),
        wednesday: r.clone(),
        thursday: r.clone(),
        friday: r.clone(),
        saturday: r.clone(),
        sunday: r,
    }
}

pub fn restaurant(tables: &[(&str, u16)], combinations: &[(&[&str], u16)]) -> Restaurant {
    Restaurant {
        id: rid(),
        name: "Chez Test".into(),
        timezone: "Europe/Berlin".into(),
        tables: tables
            .iter()
            .map(|(id, seats)| Table {
                id: t(id),
                seats: *seats,
                area: None,
            })
            .collect(),
        combinations: combinations
            .iter()
            .map(|(ids, seats)| Combination {
                tables: ids.iter().map(|id| t(id)).collect(),
                seats: *seats,
            })
            .collect(),
        opening_hours: every_day(&["12:00-23:00"]),
        exceptions: Vec::new(),
        policy: BookingPolicy::default(),
    }
}

pub fn registered(restaurant: Restaurant) -> Event {
    Event::RestaurantRegistered(RestaurantRegistered { restaurant })
}

pub fn request(id: &str, party_size: u16, time: &str) -> Command {
    request_on(id, party_size, day(), time)
}

pub fn request_on(id: &str, party_size: u16, date: Date, time: &str) -> Command {
    Command::RequestReservation(RequestReservation {
        reservation_id: res(id),
        restaurant_id: rid(),
        user_id: user(),
        guest_name: "Ada".into(),
        party_size,
        date,
        time: clock(time),
        now: now(),
    })
}

/// The two events of a confirmed booking on `day()` with a 60-minute turn and no buffer.
pub fn confirmed(
    id: &str,
    party_size: u16,
    requested: &str,
    time: &str,
    tables: &[&str],
) -> [Event; 2] {
    confirmed_for(id, party_size, day(), requested, time, tables, 60)
}

pub fn confirmed_for(
    id: &str,
    party_size: u16,
    date: Date,
    requested: &str,
    time: &str,
    tables: &[&str],
    hold_minutes: i32,
) -> [Event; 2] {
    let start = clock(time).minutes()
        + if clock(time) < clock("06:00") {
            1440
        } else {
            0
        };
    let table_ids: Vec<TableId> = tables.iter().map(|id| t(id)).collect();
    [
        Event::TablesAllocated(TablesAllocated {
            restaurant_id: rid(),
            date,
            reservation_id: res(id),
            table_ids: table_ids.clone(),
            party_size,
            starts_at: datetime_at(date, start),
            held_until: datetime_at(date, start + hold_minutes),
        }),
        Event::ReservationConfirmed(ReservationConfirmed {
            reservation_id: res(id),
            restaurant_id: rid(),
            user_id: user(),
            guest_name: "Ada".into(),
            party_size,
            date,
            requested_time: clock(requested),
            time: clock(time),
            starts_at: datetime_at(date, start),
            table_ids,
            at: now(),
        }),
    ]
}

pub fn rejected(
    id: &str,
    party_size: u16,
    requested: &str,
    reason: RejectionReason,
    alternatives: &[&str],
) -> Event {
    Event::ReservationRejected(ReservationRejected {
        reservation_id: res(id),
        restaurant_id: rid(),
        user_id: user(),
        guest_name: "Ada".into(),
        party_size,
        date: day(),
        requested_time: clock(requested),
        reason,
        alternatives: alternatives.iter().map(|a| clock(a)).collect(),
        at: now(),
    })
}

pub fn cancel(id: &str, by: Actor, now: DateTime) -> Command {
    Command::CancelReservation(CancelReservation {
        reservation_id: res(id),
        by,
        now,
    })
}

pub fn at(time: &str) -> DateTime {
    datetime_at(day(), clock(time).minutes())
}
