//! The decider: `decide(&Command, &State) -> Result<Vec<Event>, DomainError>` and
//! `evolve(State, &Event) -> State`. `State` holds the streams of one restaurant that a command
//! needs (see [`streams_to_load`]); every event names its own stream, so a host appends each
//! event to `event.stream()`, all in one atomic write.

use jiff::civil::{Date, DateTime};
use serde::{Serialize, Serializer};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::allocation::{Allocation, Ask, allocate};
use crate::command::*;
use crate::day_book::{Booking, DayBook, clamp_minute};
use crate::error::{DomainError, ErrorCode};
use crate::event::*;
use crate::ids::{ReservationId, RestaurantId};
use crate::json::from_json;
use crate::reservation::{Actor, Reservation, Status};
use crate::restaurant::{Restaurant, validate_name, validate_tables};
use crate::stream::StreamId;
use crate::time::{add_minutes, datetime_at, format_date, minute_of};

/// The loaded streams of one restaurant: its configuration, some of its day books and some of
/// its reservations. Day books missing from `day_books` are taken to be empty.
/// Every field may be absent (`{}` is the empty state); unknown fields are refused.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct State {
    /// Shared: a host keeps one configuration for all the commands it decides for a restaurant.
    /// Copying its tables and hours into every booking's state cost the server about as much
    /// CPU as deciding the booking (1.8 % of it each, in a profile under load).
    pub restaurant: Option<Arc<Restaurant>>,
    #[serde(serialize_with = "serialize_day_books")]
    pub day_books: BTreeMap<Date, DayBook>,
    pub reservations: BTreeMap<ReservationId, Reservation>,
}

from_json!(
    State,
    deny_unknown_fields {
        restaurant: opt,
        day_books: or_default,
        reservations: or_default,
    }
);

/// Day books keyed by their date in its wire form, `YYYY-MM-DD`.
fn serialize_day_books<S: Serializer>(
    day_books: &BTreeMap<Date, DayBook>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_map(
        day_books
            .iter()
            .map(|(date, book)| (format_date(*date), book)),
    )
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
            .as_deref()
            .filter(|r| &r.id == id)
            .ok_or_else(|| {
                DomainError::new(ErrorCode::RestaurantNotFound, format!("no restaurant {id}"))
            })
    }

    fn reservation(&self, id: &ReservationId) -> Result<&Reservation, DomainError> {
        self.reservations.get(id).ok_or_else(|| {
            DomainError::new(
                ErrorCode::ReservationNotFound,
                format!("no reservation {id}"),
            )
        })
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
        | Command::ChangePolicy(ChangePolicy { restaurant_id, .. }) => {
            vec![StreamId::Restaurant(restaurant_id.clone())]
        }
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
                if let Command::ModifyReservation(ModifyReservation {
                    date: Some(date), ..
                }) = command
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
            let unchanged =
                restaurant.tables == c.tables && restaurant.combinations == c.combinations;
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
            crate::opening_hours::Schedule {
                weekly: &c.opening_hours,
                exceptions: &c.exceptions,
            }
            .validate()?;
            let unchanged = restaurant.opening_hours == c.opening_hours
                && restaurant.exceptions == c.exceptions;
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
            let buffer = i64::from(restaurant.policy.buffer_minutes);
            let from = add_minutes(c.now, buffer).unwrap_or(c.now);
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

/// The state's restaurant if it is `id`, unshared first (copied only if a host still shares it).
fn restaurant_to_change<'s>(state: &'s mut State, id: &RestaurantId) -> Option<&'s mut Restaurant> {
    state
        .restaurant
        .as_mut()
        .filter(|r| &r.id == id)
        .map(Arc::make_mut)
}

pub fn evolve(mut state: State, event: &Event) -> State {
    match event {
        Event::RestaurantRegistered(e) => state.restaurant = Some(Arc::new(e.restaurant.clone())),
        Event::TablesChanged(e) => {
            if let Some(r) = restaurant_to_change(&mut state, &e.restaurant_id) {
                r.tables = e.tables.clone();
                r.combinations = e.combinations.clone();
            }
        }
        Event::OpeningHoursChanged(e) => {
            if let Some(r) = restaurant_to_change(&mut state, &e.restaurant_id) {
                r.opening_hours = e.opening_hours.clone();
                r.exceptions = e.exceptions.clone();
            }
        }
        Event::BookingPolicyChanged(e) => {
            if let Some(r) = restaurant_to_change(&mut state, &e.restaurant_id) {
                r.policy = e.policy.clone();
            }
        }
        Event::TablesAllocated(e) => {
            let book = state
                .day_books
                .entry(e.date)
                .or_insert_with(|| DayBook::new(e.restaurant_id.clone(), e.date));
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
            state
                .reservations
                .insert(e.reservation_id.clone(), Reservation::confirmed(e));
        }
        Event::ReservationRejected(e) => {
            state
                .reservations
                .insert(e.reservation_id.clone(), Reservation::rejected(e));
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
        Some(existing) if **existing == c.restaurant => Ok(Vec::new()),
        Some(existing) if existing.id == c.restaurant.id => Err(DomainError::new(
            ErrorCode::RestaurantAlreadyRegistered,
            format!("restaurant {} is already registered", existing.id),
        )
        .with_field("id")),
        _ => Ok(vec![Event::RestaurantRegistered(RestaurantRegistered {
            restaurant: c.restaurant.clone(),
        })]),
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
                format!(
                    "reservation {} already exists with other details",
                    c.reservation_id
                ),
            )
            .with_field("id"))
        };
    }
    let day = state.day_book(&c.restaurant_id, c.date);
    let ask = Ask {
        date: c.date,
        time: c.time,
        party_size: c.party_size,
        now: c.now,
        ignore: None,
    };
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
        Allocation::Rejected {
            reason,
            alternatives,
        } => vec![Event::ReservationRejected(ReservationRejected {
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
        return Err(DomainError::new(
            ErrorCode::NotModifiable,
            "the reservation has already started",
        ));
    }
    let restaurant = state.restaurant(&r.restaurant_id)?;
    let date = c.date.unwrap_or(r.date);
    let time = c.time.unwrap_or(current_time);
    let party_size = c.party_size.unwrap_or(r.party_size);
    if date == r.date && time == current_time && party_size == r.party_size {
        return Ok(Vec::new());
    }
    let day = state.day_book(&r.restaurant_id, date);
    let ask = Ask {
        date,
        time,
        party_size,
        now: c.now,
        ignore: Some(&r.id),
    };
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
    DomainError::new(
        code,
        format!(
            "a {} reservation cannot be {verb}",
            r.status.as_str().replace('_', "-")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allocation::RejectionReason::*;
    use crate::fixtures::*;
    use crate::fixtures::{cancel, request};
    use crate::opening_hours::Exception;
    use crate::policy::{BookingPolicy, Pacing};
    use crate::specification::given;
    use crate::time::ClockTime;
    use crate::time::TimeRange;
    use jiff::civil::date;

    /// One 6-seat table: the original service's examples.
    fn six_top() -> Restaurant {
        restaurant(&[("T6", 6)], &[])
    }

    /// Tables of 2, 4, 4, 4 and 6 seats; T3+T4 seat 8.
    fn dining_room() -> Restaurant {
        restaurant(
            &[("T1", 2), ("T2", 4), ("T3", 4), ("T4", 4), ("T6", 6)],
            &[(&["T3", "T4"], 8)],
        )
    }

    fn with_policy(mut r: Restaurant, policy: BookingPolicy) -> Restaurant {
        r.policy = policy;
        r
    }

    // ---- restaurant configuration ----

    #[test]
    fn registering_a_restaurant_records_it_once() {
        let r = dining_room();
        let command = Command::RegisterRestaurant(RegisterRestaurant {
            restaurant: r.clone(),
        });
        given([])
            .when(command.clone())
            .then([registered(r.clone())]);
        given([registered(r.clone())]).when(command).then([]);
        let mut renamed = r.clone();
        renamed.name = "Other".into();
        given([registered(r)])
            .when(Command::RegisterRestaurant(RegisterRestaurant {
                restaurant: renamed,
            }))
            .then_error(ErrorCode::RestaurantAlreadyRegistered);
    }

    #[test]
    fn invalid_restaurants_are_refused_with_the_field() {
        type Mutation = Box<dyn Fn(&mut Restaurant)>;
        let cases: Vec<(Mutation, ErrorCode)> = vec![
            (Box::new(|r| r.tables.clear()), ErrorCode::InvalidTables),
            (
                Box::new(|r| r.timezone = "Not a zone".into()),
                ErrorCode::InvalidTimezone,
            ),
            (Box::new(|r| r.name = " ".into()), ErrorCode::InvalidName),
            (
                Box::new(|r| r.combinations[0].seats = 99),
                ErrorCode::InvalidCombination,
            ),
            (
                Box::new(|r| {
                    r.opening_hours
                        .monday
                        .push(TimeRange::parse("13:00-14:00").unwrap())
                }),
                ErrorCode::InvalidOpeningHours,
            ),
            (
                Box::new(|r| r.policy.turn_minutes = 0),
                ErrorCode::InvalidPolicy,
            ),
        ];
        for (mutate, code) in cases {
            let mut r = dining_room();
            mutate(&mut r);
            given([])
                .when(Command::RegisterRestaurant(RegisterRestaurant {
                    restaurant: r,
                }))
                .then_error(code);
        }
    }

    #[test]
    fn a_change_to_a_shared_restaurant_leaves_the_other_holders_copy_alone() {
        let before = given([registered(dining_room())]).state().clone();
        let shared = before.restaurant.clone();
        let tables = vec![crate::restaurant::Table {
            id: t("T9"),
            seats: 10,
            area: None,
        }];
        let after = evolve(
            before,
            &Event::TablesChanged(TablesChanged {
                restaurant_id: rid(),
                tables: tables.clone(),
                combinations: vec![],
            }),
        );
        assert_eq!(after.restaurant.as_ref().unwrap().tables, tables);
        assert_eq!(shared.unwrap().tables, dining_room().tables);
    }

    #[test]
    fn staff_change_tables_hours_and_policy() {
        let r = dining_room();
        let tables = vec![crate::restaurant::Table {
            id: t("T9"),
            seats: 10,
            area: Some("terrace".into()),
        }];
        let state = given([registered(r.clone())])
            .when(Command::ChangeTables(ChangeTables {
                restaurant_id: rid(),
                tables: tables.clone(),
                combinations: vec![],
            }))
            .then([Event::TablesChanged(TablesChanged {
                restaurant_id: rid(),
                tables: tables.clone(),
                combinations: vec![],
            })]);
        assert_eq!(state.restaurant.as_ref().unwrap().largest_party(), 10);

        let hours = every_day(&["18:00-02:00"]);
        let exceptions = vec![Exception {
            date: day(),
            closed: true,
            hours: vec![],
        }];
        given([registered(r.clone())])
            .when(Command::ChangeOpeningHours(ChangeOpeningHours {
                restaurant_id: rid(),
                opening_hours: hours.clone(),
                exceptions: exceptions.clone(),
            }))
            .then([Event::OpeningHoursChanged(OpeningHoursChanged {
                restaurant_id: rid(),
                opening_hours: hours,
                exceptions,
            })]);

        let policy = BookingPolicy {
            buffer_minutes: 15,
            ..BookingPolicy::default()
        };
        given([registered(r.clone())])
            .when(Command::ChangePolicy(ChangePolicy {
                restaurant_id: rid(),
                policy: policy.clone(),
            }))
            .then([Event::BookingPolicyChanged(BookingPolicyChanged {
                restaurant_id: rid(),
                policy,
            })]);
        given([registered(r.clone())])
            .when(Command::ChangePolicy(ChangePolicy {
                restaurant_id: rid(),
                policy: BookingPolicy::default(),
            }))
            .then([]);
        given([])
            .when(Command::ChangePolicy(ChangePolicy {
                restaurant_id: rid(),
                policy: BookingPolicy::default(),
            }))
            .then_error(ErrorCode::RestaurantNotFound);
        given([registered(r)])
            .when(Command::ChangeTables(ChangeTables {
                restaurant_id: rid(),
                tables: vec![],
                combinations: vec![],
            }))
            .then_error(ErrorCode::InvalidTables);
    }

    // ---- booking: the original service's examples ----

    #[test]
    fn a_request_at_a_free_time_gets_the_smallest_table_that_fits() {
        given([registered(dining_room())])
            .when(request("a", 3, "19:00"))
            .then(confirmed("a", 3, "19:00", "19:00", &["T2"]));
        given([registered(dining_room())])
            .when(request("a", 2, "19:00"))
            .then(confirmed("a", 2, "19:00", "19:00", &["T1"]));
    }

    #[test]
    fn a_request_at_15_45_after_a_15_00_booking_is_seated_at_16_00() {
        let [a1, a2] = confirmed("a", 6, "15:00", "15:00", &["T6"]);
        given([registered(six_top()), a1, a2])
            .when(request("b", 6, "15:45"))
            .then(confirmed("b", 6, "15:45", "16:00", &["T6"]));
    }

    #[test]
    fn a_request_at_17_15_between_16_00_and_18_00_moves_to_17_00() {
        let [a1, a2] = confirmed("a", 6, "16:00", "16:00", &["T6"]);
        let [b1, b2] = confirmed("b", 6, "18:00", "18:00", &["T6"]);
        given([registered(six_top()), a1, a2, b1, b2])
            .when(request("c", 6, "17:15"))
            .then(confirmed("c", 6, "17:15", "17:00", &["T6"]));
    }

    #[test]
    fn intervals_are_half_open() {
        let [a1, a2] = confirmed("a", 6, "16:00", "16:00", &["T6"]);
        given([registered(six_top()), a1.clone(), a2.clone()])
            .when(request("b", 6, "17:00"))
            .then(confirmed("b", 6, "17:00", "17:00", &["T6"]));
        given([registered(six_top()), a1, a2])
            .when(request("b", 6, "15:00"))
            .then(confirmed("b", 6, "15:00", "15:00", &["T6"]));
    }

    #[test]
    fn earlier_is_tried_before_later() {
        // 16:00 is taken; 15:45 and 16:15 both clash, so nothing fits within ±15.
        let [a1, a2] = confirmed("a", 6, "16:00", "16:00", &["T6"]);
        let events = given([registered(six_top()), a1, a2])
            .when(request("b", 6, "16:00"))
            .events();
        assert!(matches!(&events[..], [Event::ReservationRejected(_)]));
        // With a 30-minute flex, 15:00 (t−60) is out of reach and 17:00 (t+60) too: still rejected;
        // with a 60-minute flex the earlier 15:00 wins over the later 17:00.
        let [a1, a2] = confirmed("a", 6, "16:00", "16:00", &["T6"]);
        let wide = with_policy(
            six_top(),
            BookingPolicy {
                flex_minutes: 60,
                ..BookingPolicy::default()
            },
        );
        given([registered(wide), a1, a2])
            .when(request("b", 6, "16:00"))
            .then(confirmed("b", 6, "16:00", "15:00", &["T6"]));
    }

    #[test]
    fn combinations_are_used_only_when_no_single_table_fits() {
        given([registered(dining_room())])
            .when(request("a", 6, "19:00"))
            .then(confirmed("a", 6, "19:00", "19:00", &["T6"]));
        given([registered(dining_room())])
            .when(request("a", 8, "19:00"))
            .then(confirmed("a", 8, "19:00", "19:00", &["T3", "T4"]));
        let [a1, a2] = confirmed("a", 6, "19:00", "19:00", &["T6"]);
        given([registered(dining_room()), a1, a2])
            .when(request("b", 5, "19:00"))
            .then(confirmed("b", 5, "19:00", "19:00", &["T3", "T4"]));
    }

    #[test]
    fn a_full_day_is_rejected_with_the_three_nearest_alternatives() {
        let r = six_top();
        let mut events = vec![registered(r)];
        for (id, time) in [("a", "18:00"), ("b", "19:00"), ("c", "20:00")] {
            events.extend(confirmed(id, 6, time, time, &["T6"]));
        }
        given(events).when(request("d", 6, "19:00")).then([rejected(
            "d",
            6,
            "19:00",
            NoTableAvailable,
            &["17:00", "21:00", "16:45"],
        )]);
    }

    #[test]
    fn pacing_limits_guests_starting_per_interval() {
        let r = with_policy(
            dining_room(),
            BookingPolicy {
                pacing: Some(Pacing { max_guests: 6 }),
                flex_minutes: 0,
                ..BookingPolicy::default()
            },
        );
        let [a1, a2] = confirmed("a", 4, "19:00", "19:00", &["T2"]);
        let events = given([registered(r.clone()), a1.clone(), a2.clone()])
            .when(request("b", 4, "19:05"))
            .events();
        match &events[..] {
            [Event::ReservationRejected(e)] => {
                assert_eq!(e.reason, PacingLimitReached);
                assert!(!e.alternatives.contains(&clock("19:00")));
                assert_eq!(e.alternatives[..2], [clock("19:15"), clock("18:45")]);
            }
            other => panic!("expected a rejection, got {other:?}"),
        }
        given([registered(r), a1, a2])
            .when(request("b", 2, "19:00"))
            .then(confirmed("b", 2, "19:00", "19:00", &["T1"]));
    }

    #[test]
    fn the_buffer_keeps_a_table_free_after_a_party_leaves() {
        let r = with_policy(
            six_top(),
            BookingPolicy {
                buffer_minutes: 15,
                flex_minutes: 0,
                ..BookingPolicy::default()
            },
        );
        let [a1, a2] = confirmed_for("a", 6, day(), "16:00", "16:00", &["T6"], 75);
        let events = given([registered(r.clone()), a1.clone(), a2.clone()])
            .when(request("b", 6, "17:00"))
            .events();
        assert!(matches!(&events[..], [Event::ReservationRejected(_)]));
        given([registered(r), a1, a2])
            .when(request("b", 6, "17:15"))
            .then(confirmed_for("b", 6, day(), "17:15", "17:15", &["T6"], 75));
    }

    #[test]
    fn turn_time_depends_on_party_size_band() {
        let r = with_policy(
            dining_room(),
            BookingPolicy {
                turn_by_party_size: vec![crate::policy::TurnBand {
                    min_party: 5,
                    max_party: 8,
                    turn_minutes: 120,
                }],
                ..BookingPolicy::default()
            },
        );
        given([registered(r)])
            .when(request("a", 6, "19:00"))
            .then(confirmed_for("a", 6, day(), "19:00", "19:00", &["T6"], 120));
    }

    #[test]
    fn ranges_past_midnight_belong_to_the_day_they_open() {
        let mut r = six_top();
        r.opening_hours = every_day(&["18:00-02:00"]);
        given([registered(r.clone())])
            .when(request("a", 2, "00:30"))
            .then(confirmed_for("a", 2, day(), "00:30", "00:30", &["T6"], 60));
        let state = given([registered(r.clone())])
            .when(request("a", 2, "00:30"))
            .then(confirmed("a", 2, "00:30", "00:30", &["T6"]));
        assert_eq!(
            state.reservations[&res("a")].starts_at,
            Some(date(2026, 12, 9).at(0, 30, 0, 0))
        );
        // The last seating must finish by 02:00.
        given([registered(r.clone())])
            .when(request("a", 2, "01:15"))
            .then(confirmed("a", 2, "01:15", "01:00", &["T6"]));
        given([registered(r)])
            .when(request("a", 2, "01:45"))
            .then_error(ErrorCode::OutsideOpeningHours);
    }

    // ---- booking: invalid requests record nothing ----

    #[test]
    fn invalid_requests_are_refused_with_a_code_and_field() {
        let base = dining_room();
        let cases: Vec<(Restaurant, Command, ErrorCode, &str)> = vec![
            (
                base.clone(),
                request("a", 0, "19:00"),
                ErrorCode::InvalidPartySize,
                "party_size",
            ),
            (
                base.clone(),
                request("a", 9, "19:00"),
                ErrorCode::PartyTooLarge,
                "party_size",
            ),
            (
                base.clone(),
                request_on("a", 2, date(2026, 11, 30), "19:00"),
                ErrorCode::InThePast,
                "date",
            ),
            (
                base.clone(),
                request_on("a", 2, date(2026, 12, 1), "09:45"),
                ErrorCode::InThePast,
                "time",
            ),
            (
                base.clone(),
                request_on("a", 2, date(2027, 3, 2), "19:00"),
                ErrorCode::BeyondHorizon,
                "date",
            ),
            (
                base.clone(),
                request("a", 2, "08:00"),
                ErrorCode::OutsideOpeningHours,
                "time",
            ),
            (
                base.clone(),
                request("a", 2, "22:30"),
                ErrorCode::OutsideOpeningHours,
                "time",
            ),
            (
                with_policy(
                    base.clone(),
                    BookingPolicy {
                        lead_minutes: 180,
                        ..BookingPolicy::default()
                    },
                ),
                request_on("a", 2, date(2026, 12, 1), "12:00"),
                ErrorCode::InsufficientNotice,
                "time",
            ),
            (
                Restaurant {
                    exceptions: vec![Exception {
                        date: day(),
                        closed: true,
                        hours: vec![],
                    }],
                    ..base.clone()
                },
                request("a", 2, "19:00"),
                ErrorCode::ClosedOnDate,
                "date",
            ),
            (
                with_policy(
                    base.clone(),
                    BookingPolicy {
                        max_party_size: Some(4),
                        ..BookingPolicy::default()
                    },
                ),
                request("a", 6, "19:00"),
                ErrorCode::PartyTooLarge,
                "party_size",
            ),
        ];
        for (r, command, code, field) in cases {
            let error = given([registered(r)]).when(command).then_error(code);
            assert_eq!(error.field.as_deref(), Some(field), "{code}");
        }
        given([])
            .when(request("a", 2, "19:00"))
            .then_error(ErrorCode::RestaurantNotFound);
        let Command::RequestReservation(mut nameless) = request("a", 2, "19:00") else {
            unreachable!()
        };
        nameless.guest_name = "\u{7}".into();
        given([registered(base)])
            .when(Command::RequestReservation(nameless))
            .then_error(ErrorCode::InvalidName);
    }

    #[test]
    fn the_horizon_is_inclusive() {
        given([registered(dining_room())])
            .when(request_on("a", 2, date(2027, 3, 1), "19:00"))
            .then(confirmed_for(
                "a",
                2,
                date(2027, 3, 1),
                "19:00",
                "19:00",
                &["T1"],
                60,
            ));
    }

    #[test]
    fn a_repeated_request_records_nothing_and_a_reused_id_is_refused() {
        let [a1, a2] = confirmed("a", 2, "19:00", "19:00", &["T1"]);
        given([registered(dining_room()), a1.clone(), a2.clone()])
            .when(request("a", 2, "19:00"))
            .then([]);
        given([registered(dining_room()), a1, a2])
            .when(request("a", 3, "19:00"))
            .then_error(ErrorCode::ReservationIdConflict);
        let rejection = rejected("a", 2, "19:00", NoTableAvailable, &[]);
        given([registered(dining_room()), rejection])
            .when(request("a", 2, "19:00"))
            .then([]);
    }

    // ---- lifecycle ----

    fn booked_at_19() -> Vec<Event> {
        let [a1, a2] = confirmed("a", 2, "19:00", "19:00", &["T1"]);
        vec![registered(dining_room()), a1, a2]
    }

    fn released(id: &str, from: DateTime) -> Event {
        Event::TablesReleased(TablesReleased {
            restaurant_id: rid(),
            date: day(),
            reservation_id: res(id),
            from,
        })
    }

    #[test]
    fn a_guest_cancels_until_the_start_and_the_table_is_free_again() {
        let state = given(booked_at_19())
            .when(cancel("a", Actor::Guest, now()))
            .then([
                released("a", at("19:00")),
                Event::ReservationCancelled(ReservationCancelled {
                    reservation_id: res("a"),
                    restaurant_id: rid(),
                    by: Actor::Guest,
                    at: now(),
                }),
            ]);
        assert_eq!(state.reservations[&res("a")].status, Status::Cancelled);
        assert!(state.day_books[&day()].is_empty());
        given(booked_at_19())
            .when(cancel("a", Actor::Guest, at("19:00")))
            .then_error(ErrorCode::NotCancellable);
    }

    #[test]
    fn staff_cancel_at_any_time_freeing_the_table_from_then_on() {
        let state = given(booked_at_19())
            .when(cancel("a", Actor::Staff, at("19:20")))
            .then([
                released("a", at("19:20")),
                Event::ReservationCancelled(ReservationCancelled {
                    reservation_id: res("a"),
                    restaurant_id: rid(),
                    by: Actor::Staff,
                    at: at("19:20"),
                }),
            ]);
        let book = &state.day_books[&day()];
        assert!(book.is_free(&t("T1"), 1160, 1220, None));
        assert!(!book.is_free(&t("T1"), 1140, 1160, None));
        let mut cancelled = booked_at_19();
        cancelled.extend(
            given(booked_at_19())
                .when(cancel("a", Actor::Staff, now()))
                .events(),
        );
        given(cancelled)
            .when(cancel("a", Actor::Staff, now()))
            .then_error(ErrorCode::NotCancellable);
        given([registered(dining_room())])
            .when(cancel("zz", Actor::Staff, now()))
            .then_error(ErrorCode::ReservationNotFound);
    }

    fn modify(
        id: &str,
        date: Option<Date>,
        time: Option<&str>,
        party_size: Option<u16>,
    ) -> Command {
        Command::ModifyReservation(ModifyReservation {
            reservation_id: res(id),
            date,
            time: time.map(clock),
            party_size,
            by: Actor::Guest,
            now: now(),
        })
    }

    #[test]
    fn modifying_re_allocates_ignoring_the_reservations_own_slot() {
        // T1 is the only 2-top; moving 19:00 → 19:30 overlaps its own slot, which must not count.
        let [allocated, _] = confirmed("a", 2, "19:30", "19:30", &["T1"]);
        let state = given(booked_at_19())
            .when(modify("a", None, Some("19:30"), None))
            .then([
                allocated,
                Event::ReservationModified(ReservationModified {
                    reservation_id: res("a"),
                    restaurant_id: rid(),
                    party_size: 2,
                    date: day(),
                    requested_time: clock("19:30"),
                    time: clock("19:30"),
                    starts_at: at("19:30"),
                    table_ids: vec![t("T1")],
                    by: Actor::Guest,
                    at: now(),
                }),
            ]);
        let book = &state.day_books[&day()];
        assert_eq!(book.len(), 1);
        assert!(book.is_free(&t("T1"), 1140, 1170, None));
        assert_eq!(state.reservations[&res("a")].time, Some(clock("19:30")));
    }

    #[test]
    fn modifying_to_another_day_moves_the_hold() {
        let other = date(2026, 12, 9);
        let [allocated, _] = confirmed_for("a", 4, other, "19:00", "19:00", &["T2"], 60);
        let state = given(booked_at_19())
            .when(modify("a", Some(other), None, Some(4)))
            .then([
                released("a", at("19:00")),
                allocated,
                Event::ReservationModified(ReservationModified {
                    reservation_id: res("a"),
                    restaurant_id: rid(),
                    party_size: 4,
                    date: other,
                    requested_time: clock("19:00"),
                    time: clock("19:00"),
                    starts_at: other.at(19, 0, 0, 0),
                    table_ids: vec![t("T2")],
                    by: Actor::Guest,
                    at: now(),
                }),
            ]);
        assert!(state.day_books[&day()].is_empty());
        assert_eq!(state.day_books[&other].len(), 1);
    }

    #[test]
    fn a_modification_that_does_not_fit_keeps_the_old_slot() {
        let mut events = booked_at_19();
        events.extend(confirmed("b", 6, "21:00", "21:00", &["T6"]));
        events.extend(confirmed("c", 8, "21:00", "21:00", &["T3", "T4"]));
        let error = given(events.clone())
            .when(modify("a", None, Some("21:00"), Some(6)))
            .then_error(ErrorCode::NoTableAvailable);
        assert!(!error.alternatives.is_empty());
        given(events.clone())
            .when(modify("a", None, None, Some(9)))
            .then_error(ErrorCode::PartyTooLarge);
        given(events)
            .when(modify("a", None, Some("19:00"), Some(2)))
            .then([]);
    }

    #[test]
    fn only_confirmed_future_reservations_can_be_modified() {
        let Command::ModifyReservation(mut late) = modify("a", None, Some("20:00"), None) else {
            unreachable!()
        };
        late.now = at("19:05");
        given(booked_at_19())
            .when(Command::ModifyReservation(late))
            .then_error(ErrorCode::NotModifiable);
        let rejection = rejected("a", 2, "19:00", NoTableAvailable, &[]);
        given([registered(dining_room()), rejection])
            .when(modify("a", None, Some("20:00"), None))
            .then_error(ErrorCode::NotModifiable);
    }

    #[test]
    fn seating_completing_and_no_shows_follow_the_lifecycle() {
        let seat = Command::SeatReservation(SeatReservation {
            reservation_id: res("a"),
            now: at("19:02"),
        });
        let seated = Event::ReservationSeated(ReservationSeated {
            reservation_id: res("a"),
            restaurant_id: rid(),
            at: at("19:02"),
        });
        given(booked_at_19())
            .when(seat.clone())
            .then([seated.clone()]);
        let mut after_seating = booked_at_19();
        after_seating.push(seated);
        given(after_seating.clone())
            .when(seat)
            .then_error(ErrorCode::NotSeatable);

        let complete = Command::CompleteReservation(CompleteReservation {
            reservation_id: res("a"),
            now: at("19:40"),
        });
        let state = given(after_seating.clone()).when(complete.clone()).then([
            released("a", at("19:40")),
            Event::ReservationCompleted(ReservationCompleted {
                reservation_id: res("a"),
                restaurant_id: rid(),
                at: at("19:40"),
            }),
        ]);
        assert!(state.day_books[&day()].is_free(&t("T1"), 1180, 1240, None));
        assert_eq!(state.reservations[&res("a")].history.len(), 3);
        given(booked_at_19())
            .when(complete)
            .then_error(ErrorCode::NotCompletable);

        let no_show = |now| {
            Command::MarkNoShow(MarkNoShow {
                reservation_id: res("a"),
                now,
            })
        };
        given(booked_at_19())
            .when(no_show(at("18:59")))
            .then_error(ErrorCode::NoShowNotAllowed);
        given(booked_at_19()).when(no_show(at("19:30"))).then([
            released("a", at("19:30")),
            Event::ReservationMarkedNoShow(ReservationMarkedNoShow {
                reservation_id: res("a"),
                restaurant_id: rid(),
                at: at("19:30"),
            }),
        ]);
        given(after_seating)
            .when(no_show(at("19:30")))
            .then_error(ErrorCode::NoShowNotAllowed);
    }

    #[test]
    fn completing_keeps_the_buffer() {
        let r = with_policy(
            dining_room(),
            BookingPolicy {
                buffer_minutes: 15,
                ..BookingPolicy::default()
            },
        );
        let [a1, a2] = confirmed_for("a", 2, day(), "19:00", "19:00", &["T1"], 75);
        let seated = Event::ReservationSeated(ReservationSeated {
            reservation_id: res("a"),
            restaurant_id: rid(),
            at: at("19:00"),
        });
        given([registered(r), a1, a2, seated])
            .when(Command::CompleteReservation(CompleteReservation {
                reservation_id: res("a"),
                now: at("19:30"),
            }))
            .then([
                released("a", at("19:45")),
                Event::ReservationCompleted(ReservationCompleted {
                    reservation_id: res("a"),
                    restaurant_id: rid(),
                    at: at("19:30"),
                }),
            ]);
    }

    #[test]
    fn streams_to_load_name_what_a_decision_reads() {
        let streams = streams_to_load(&request("a", 2, "19:00"), None);
        let names: Vec<String> = streams.iter().map(ToString::to_string).collect();
        assert_eq!(
            names,
            ["restaurant:r1", "daybook:r1:2026-12-08", "reservation:a"]
        );
        let state = given(booked_at_19()).state().clone();
        let r = &state.reservations[&res("a")];
        let moved = modify("a", Some(date(2026, 12, 9)), None, None);
        let names: Vec<String> = streams_to_load(&moved, Some(r))
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            names,
            [
                "reservation:a",
                "restaurant:r1",
                "daybook:r1:2026-12-08",
                "daybook:r1:2026-12-09"
            ]
        );
        assert_eq!(streams_to_load(&moved, None).len(), 1);
    }

    #[test]
    fn every_event_names_its_stream() {
        let events = booked_at_19();
        let streams: Vec<String> = events.iter().map(|e| e.stream().to_string()).collect();
        assert_eq!(
            streams,
            ["restaurant:r1", "daybook:r1:2026-12-08", "reservation:a"]
        );
        let _: ClockTime = clock("00:00");
    }
}
