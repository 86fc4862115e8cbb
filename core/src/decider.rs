//! The decider: `decide(&Command, &State) -> Result<Vec<Event>, DomainError>` and
//! `evolve(State, &Event) -> State`. `State` holds the streams of one restaurant that a command
//! needs (see [`streams_to_load`]); every event names its own stream, so a host appends each
//! event to `event.stream()`, all in one atomic write.

use jiff::civil::{Date, DateTime};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::allocation::{Allocation, Ask, allocate};
use crate::command::*;
use crate::day_book::{Booking, DayBook, clamp_minute};
use crate::error::{DomainError, ErrorCode};
use crate::event::*;
use crate::ids::{ReservationId, RestaurantId};
use crate::reservation::{Actor, Reservation, Status};
use crate::restaurant::{Restaurant, validate_name, validate_tables};
use crate::stream::StreamId;
use crate::time::{datetime_at, minute_of};

/// The loaded streams of one restaurant: its configuration, some of its day books and some of
/// its reservations. Day books missing from `day_books` are taken to be empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct State {
    pub restaurant: Option<Restaurant>,
    pub day_books: BTreeMap<Date, DayBook>,
    pub reservations: BTreeMap<ReservationId, Reservation>,
}

impl State {
    /// Folds events into the state, in order.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a Event>) -> State {
        events.into_iter().fold(State::default(), evolve)
    }

    pub fn day_book(&self, restaurant_id: &RestaurantId, date: Date) -> Cow<'_, DayBook> {
        match self.day_books.get(&date) {
            Some(book) => Cow::Borrowed(book),
            None => Cow::Owned(DayBook::new(restaurant_id.clone(), date)),
        }
    }

    fn restaurant(&self, id: &RestaurantId) -> Result<&Restaurant, DomainError> {
        self.restaurant
            .as_ref()
            .filter(|r| &r.id == id)
            .ok_or_else(|| DomainError::new(ErrorCode::RestaurantNotFound, format!("no restaurant {id}")))
    }

    fn reservation(&self, id: &ReservationId) -> Result<&Reservation, DomainError> {
        self.reservations
            .get(id)
            .ok_or_else(|| DomainError::new(ErrorCode::ReservationNotFound, format!("no reservation {id}")))
    }
}

/// The streams a host loads before deciding `command`. Commands about an existing reservation
/// are asked twice: first with `None` (which names the reservation's stream), then with the
/// loaded reservation (which adds its restaurant and day books).
pub fn streams_to_load(command: &Command, reservation: Option<&Reservation>) -> Vec<StreamId> {
    match command {
        Command::RegisterRestaurant(c) => vec![StreamId::Restaurant(c.restaurant.id.clone())],
        Command::ChangeTables(ChangeTables { restaurant_id, .. })
        | Command::ChangeOpeningHours(ChangeOpeningHours { restaurant_id, .. })
        | Command::ChangePolicy(ChangePolicy { restaurant_id, .. }) => vec![StreamId::Restaurant(restaurant_id.clone())],
        Command::RequestReservation(c) => vec![
            StreamId::Restaurant(c.restaurant_id.clone()),
            StreamId::DayBook(c.restaurant_id.clone(), c.date),
            StreamId::Reservation(c.reservation_id.clone()),
        ],
        Command::CancelReservation(CancelReservation { reservation_id, .. })
        | Command::ModifyReservation(ModifyReservation { reservation_id, .. })
        | Command::SeatReservation(SeatReservation { reservation_id, .. })
        | Command::CompleteReservation(CompleteReservation { reservation_id, .. })
        | Command::MarkNoShow(MarkNoShow { reservation_id, .. }) => {
            let mut streams = vec![StreamId::Reservation(reservation_id.clone())];
            if let Some(r) = reservation {
                streams.push(StreamId::Restaurant(r.restaurant_id.clone()));
                streams.push(StreamId::DayBook(r.restaurant_id.clone(), r.date));
                if let Command::ModifyReservation(ModifyReservation { date: Some(date), .. }) = command
                    && *date != r.date
                {
                    streams.push(StreamId::DayBook(r.restaurant_id.clone(), *date));
                }
            }
            streams
        }
    }
}

pub fn decide(command: &Command, state: &State) -> Result<Vec<Event>, DomainError> {
    match command {
        Command::RegisterRestaurant(c) => register(c, state),
        Command::ChangeTables(c) => {
            let restaurant = state.restaurant(&c.restaurant_id)?;
            validate_tables(&c.tables, &c.combinations)?;
            let unchanged = restaurant.tables == c.tables && restaurant.combinations == c.combinations;
            Ok(changed_unless(unchanged, || {
                Event::TablesChanged(TablesChanged {
                    restaurant_id: c.restaurant_id.clone(),
                    tables: c.tables.clone(),
                    combinations: c.combinations.clone(),
                })
            }))
        }
        Command::ChangeOpeningHours(c) => {
            let restaurant = state.restaurant(&c.restaurant_id)?;
            crate::opening_hours::Schedule { weekly: &c.opening_hours, exceptions: &c.exceptions }.validate()?;
            let unchanged = restaurant.opening_hours == c.opening_hours && restaurant.exceptions == c.exceptions;
            Ok(changed_unless(unchanged, || {
                Event::OpeningHoursChanged(OpeningHoursChanged {
                    restaurant_id: c.restaurant_id.clone(),
                    opening_hours: c.opening_hours.clone(),
                    exceptions: c.exceptions.clone(),
                })
            }))
        }
        Command::ChangePolicy(c) => {
            let restaurant = state.restaurant(&c.restaurant_id)?;
            c.policy.validate()?;
            Ok(changed_unless(restaurant.policy == c.policy, || {
                Event::BookingPolicyChanged(BookingPolicyChanged {
                    restaurant_id: c.restaurant_id.clone(),
                    policy: c.policy.clone(),
                })
            }))
        }
        Command::RequestReservation(c) => request(c, state),
        Command::CancelReservation(c) => cancel(c, state),
        Command::ModifyReservation(c) => modify(c, state),
        Command::SeatReservation(c) => {
            let r = state.reservation(&c.reservation_id)?;
            if r.status != Status::Confirmed {
                return Err(refusal(ErrorCode::NotSeatable, r, "seated"));
            }
            Ok(vec![Event::ReservationSeated(ReservationSeated {
                reservation_id: r.id.clone(),
                restaurant_id: r.restaurant_id.clone(),
                at: c.now,
            })])
        }
        Command::CompleteReservation(c) => {
            let r = state.reservation(&c.reservation_id)?;
            if r.status != Status::Seated {
                return Err(refusal(ErrorCode::NotCompletable, r, "completed"));
            }
            let restaurant = state.restaurant(&r.restaurant_id)?;
            let buffer = jiff::Span::new().minutes(i64::from(restaurant.policy.buffer_minutes));
            let from = c.now.checked_add(buffer).unwrap_or(c.now);
            Ok(vec![
                release(r, from),
                Event::ReservationCompleted(ReservationCompleted {
                    reservation_id: r.id.clone(),
                    restaurant_id: r.restaurant_id.clone(),
                    at: c.now,
                }),
            ])
        }
        Command::MarkNoShow(c) => {
            let r = state.reservation(&c.reservation_id)?;
            if r.status != Status::Confirmed {
                return Err(refusal(ErrorCode::NoShowNotAllowed, r, "marked no-show"));
            }
            if r.starts_at.is_some_and(|start| c.now < start) {
                return Err(DomainError::new(
                    ErrorCode::NoShowNotAllowed,
                    "a reservation can be marked no-show only once it has started",
                ));
            }
            Ok(vec![
                release(r, c.now),
                Event::ReservationMarkedNoShow(ReservationMarkedNoShow {
                    reservation_id: r.id.clone(),
                    restaurant_id: r.restaurant_id.clone(),
                    at: c.now,
                }),
            ])
        }
    }
}

pub fn evolve(mut state: State, event: &Event) -> State {
    match event {
        Event::RestaurantRegistered(e) => state.restaurant = Some(e.restaurant.clone()),
        Event::TablesChanged(e) => {
            if let Some(r) = state.restaurant.as_mut().filter(|r| r.id == e.restaurant_id) {
                r.tables = e.tables.clone();
                r.combinations = e.combinations.clone();
            }
        }
        Event::OpeningHoursChanged(e) => {
            if let Some(r) = state.restaurant.as_mut().filter(|r| r.id == e.restaurant_id) {
                r.opening_hours = e.opening_hours.clone();
                r.exceptions = e.exceptions.clone();
            }
        }
        Event::BookingPolicyChanged(e) => {
            if let Some(r) = state.restaurant.as_mut().filter(|r| r.id == e.restaurant_id) {
                r.policy = e.policy.clone();
            }
        }
        Event::TablesAllocated(e) => {
            let book =
                state.day_books.entry(e.date).or_insert_with(|| DayBook::new(e.restaurant_id.clone(), e.date));
            book.allocate(
                e.reservation_id.clone(),
                Booking {
                    table_ids: e.table_ids.clone(),
                    start: clamp_minute(minute_of(e.date, e.starts_at)),
                    held_until: clamp_minute(minute_of(e.date, e.held_until)),
                    party_size: e.party_size,
                },
            );
        }
        Event::TablesReleased(e) => {
            if let Some(book) = state.day_books.get_mut(&e.date) {
                book.release(&e.reservation_id, clamp_minute(minute_of(e.date, e.from)));
            }
        }
        Event::ReservationConfirmed(e) => {
            state.reservations.insert(e.reservation_id.clone(), Reservation::confirmed(e));
        }
        Event::ReservationRejected(e) => {
            state.reservations.insert(e.reservation_id.clone(), Reservation::rejected(e));
        }
        Event::ReservationCancelled(ReservationCancelled { reservation_id, .. })
        | Event::ReservationModified(ReservationModified { reservation_id, .. })
        | Event::ReservationSeated(ReservationSeated { reservation_id, .. })
        | Event::ReservationCompleted(ReservationCompleted { reservation_id, .. })
        | Event::ReservationMarkedNoShow(ReservationMarkedNoShow { reservation_id, .. }) => {
            if let Some(r) = state.reservations.get_mut(reservation_id) {
                r.apply(event);
            }
        }
    }
    state
}

fn changed_unless(unchanged: bool, event: impl FnOnce() -> Event) -> Vec<Event> {
    if unchanged { Vec::new() } else { vec![event()] }
}

fn register(c: &RegisterRestaurant, state: &State) -> Result<Vec<Event>, DomainError> {
    c.restaurant.validate()?;
    match &state.restaurant {
        Some(existing) if existing == &c.restaurant => Ok(Vec::new()),
        Some(existing) if existing.id == c.restaurant.id => Err(DomainError::new(
            ErrorCode::RestaurantAlreadyRegistered,
            format!("restaurant {} is already registered", existing.id),
        )
        .with_field("id")),
        _ => Ok(vec![Event::RestaurantRegistered(RestaurantRegistered { restaurant: c.restaurant.clone() })]),
    }
}

fn request(c: &RequestReservation, state: &State) -> Result<Vec<Event>, DomainError> {
    let restaurant = state.restaurant(&c.restaurant_id)?;
    validate_name(&c.guest_name, "name")?;
    if let Some(existing) = state.reservations.get(&c.reservation_id) {
        // A retry repeats the original request and records nothing; anything else reusing the
        // id is refused rather than silently answered with another reservation.
        let retry = existing.restaurant_id == c.restaurant_id
            && existing.user_id == c.user_id
            && existing.guest_name == c.guest_name
            && existing.party_size == c.party_size
            && existing.date == c.date
            && existing.requested_time == c.time;
        return if retry {
            Ok(Vec::new())
        } else {
            Err(DomainError::new(
                ErrorCode::ReservationIdConflict,
                format!("reservation {} already exists with other details", c.reservation_id),
            )
            .with_field("id"))
        };
    }
    let day = state.day_book(&c.restaurant_id, c.date);
    let ask = Ask { date: c.date, time: c.time, party_size: c.party_size, now: c.now, ignore: None };
    Ok(match allocate(restaurant, &day, &ask)? {
        Allocation::Confirmed(seating) => {
            let starts_at = datetime_at(c.date, seating.start);
            vec![
                Event::TablesAllocated(TablesAllocated {
                    restaurant_id: c.restaurant_id.clone(),
                    date: c.date,
                    reservation_id: c.reservation_id.clone(),
                    table_ids: seating.table_ids.clone(),
                    party_size: c.party_size,
                    starts_at,
                    held_until: datetime_at(c.date, seating.held_until),
                }),
                Event::ReservationConfirmed(ReservationConfirmed {
                    reservation_id: c.reservation_id.clone(),
                    restaurant_id: c.restaurant_id.clone(),
                    user_id: c.user_id.clone(),
                    guest_name: c.guest_name.clone(),
                    party_size: c.party_size,
                    date: c.date,
                    requested_time: c.time,
                    time: crate::time::ClockTime::from_minute(seating.start),
                    starts_at,
                    table_ids: seating.table_ids,
                    at: c.now,
                }),
            ]
        }
        Allocation::Rejected { reason, alternatives } => vec![Event::ReservationRejected(ReservationRejected {
            reservation_id: c.reservation_id.clone(),
            restaurant_id: c.restaurant_id.clone(),
            user_id: c.user_id.clone(),
            guest_name: c.guest_name.clone(),
            party_size: c.party_size,
            date: c.date,
            requested_time: c.time,
            reason,
            alternatives,
            at: c.now,
        })],
    })
}

fn cancel(c: &CancelReservation, state: &State) -> Result<Vec<Event>, DomainError> {
    let r = state.reservation(&c.reservation_id)?;
    if r.status != Status::Confirmed {
        return Err(refusal(ErrorCode::NotCancellable, r, "cancelled"));
    }
    let start = r.starts_at.unwrap_or(c.now);
    if c.by == Actor::Guest && c.now >= start {
        return Err(DomainError::new(
            ErrorCode::NotCancellable,
            "guests can cancel until the reservation starts; please call the restaurant",
        ));
    }
    Ok(vec![
        release(r, start.max(c.now)),
        Event::ReservationCancelled(ReservationCancelled {
            reservation_id: r.id.clone(),
            restaurant_id: r.restaurant_id.clone(),
            by: c.by,
            at: c.now,
        }),
    ])
}

fn modify(c: &ModifyReservation, state: &State) -> Result<Vec<Event>, DomainError> {
    let r = state.reservation(&c.reservation_id)?;
    if r.status != Status::Confirmed {
        return Err(refusal(ErrorCode::NotModifiable, r, "modified"));
    }
    let (Some(current_time), Some(current_start)) = (r.time, r.starts_at) else {
        return Err(refusal(ErrorCode::NotModifiable, r, "modified"));
    };
    if c.now >= current_start {
        return Err(DomainError::new(ErrorCode::NotModifiable, "the reservation has already started"));
    }
    let restaurant = state.restaurant(&r.restaurant_id)?;
    let date = c.date.unwrap_or(r.date);
    let time = c.time.unwrap_or(current_time);
    let party_size = c.party_size.unwrap_or(r.party_size);
    if date == r.date && time == current_time && party_size == r.party_size {
        return Ok(Vec::new());
    }
    let day = state.day_book(&r.restaurant_id, date);
    let ask = Ask { date, time, party_size, now: c.now, ignore: Some(&r.id) };
    let seating = match allocate(restaurant, &day, &ask)? {
        Allocation::Confirmed(seating) => seating,
        Allocation::Rejected { alternatives, .. } => {
            return Err(DomainError::new(
                ErrorCode::NoTableAvailable,
                "no table is free for the change; the reservation stays as it was",
            )
            .with_field("time")
            .with_alternatives(alternatives));
        }
    };
    let starts_at = datetime_at(date, seating.start);
    let mut events = Vec::with_capacity(3);
    if date != r.date {
        events.push(release(r, current_start));
    }
    events.push(Event::TablesAllocated(TablesAllocated {
        restaurant_id: r.restaurant_id.clone(),
        date,
        reservation_id: r.id.clone(),
        table_ids: seating.table_ids.clone(),
        party_size,
        starts_at,
        held_until: datetime_at(date, seating.held_until),
    }));
    events.push(Event::ReservationModified(ReservationModified {
        reservation_id: r.id.clone(),
        restaurant_id: r.restaurant_id.clone(),
        party_size,
        date,
        requested_time: time,
        time: crate::time::ClockTime::from_minute(seating.start),
        starts_at,
        table_ids: seating.table_ids,
        by: c.by,
        at: c.now,
    }));
    Ok(events)
}

fn release(r: &Reservation, from: DateTime) -> Event {
    Event::TablesReleased(TablesReleased {
        restaurant_id: r.restaurant_id.clone(),
        date: r.date,
        reservation_id: r.id.clone(),
        from,
    })
}

fn refusal(code: ErrorCode, r: &Reservation, verb: &str) -> DomainError {
    DomainError::new(code, format!("a {} reservation cannot be {verb}", r.status.as_str().replace('_', "-")))
}
