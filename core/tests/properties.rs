//! Property tests over random restaurants and random command sequences: DOMAIN.md's invariants
//! hold after every step, availability agrees with the decision, replaying the decided events
//! (through their JSON form) reproduces the state, and every command and event round-trips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use jiff::civil::{Date, DateTime, date};
use proptest::prelude::*;
use reservation_core::command::*;
use reservation_core::ids::{ReservationId, RestaurantId, TableId, UserId};
use reservation_core::opening_hours::WeeklyHours;
use reservation_core::policy::{BookingPolicy, Pacing};
use reservation_core::reservation::{Actor, Status};
use reservation_core::restaurant::{Combination, Restaurant, Table};
use reservation_core::time::{ClockTime, TimeRange, minute_of};
use reservation_core::{Command, Event, State, allocation, decide, evolve};

const HOURS: [&[&str]; 6] = [
    &[],
    &["12:00-15:00", "18:00-23:00"],
    &["18:00-02:00"],
    &["11:00-23:00"],
    &["17:00-00:00"],
    &["12:10-14:50", "19:05-22:40"],
];

fn first_day() -> Date {
    date(2026, 12, 7)
}

fn build_restaurant(
    seats: Vec<u16>,
    combos: Vec<(usize, usize, u16)>,
    hours: Vec<usize>,
    (turn, buffer, flex, pacing): (u16, u16, u16, Option<u16>),
) -> Restaurant {
    let tables: Vec<Table> = seats
        .iter()
        .enumerate()
        .map(|(i, &s)| Table {
            id: TableId::parse(format!("T{i}")).unwrap(),
            seats: s,
            area: None,
        })
        .collect();
    let mut combinations: Vec<Combination> = Vec::new();
    for (a, b, less) in combos {
        let (a, b) = (a % tables.len(), b % tables.len());
        if a == b
            || combinations
                .iter()
                .any(|c| c.tables.contains(&tables[a].id) && c.tables.contains(&tables[b].id))
        {
            continue;
        }
        let total = tables[a].seats + tables[b].seats;
        combinations.push(Combination {
            tables: vec![tables[a].id.clone(), tables[b].id.clone()],
            seats: total.saturating_sub(less).max(1),
        });
    }
    let day = |i: usize| -> Vec<TimeRange> {
        HOURS[hours[i]]
            .iter()
            .map(|r| TimeRange::parse(r).unwrap())
            .collect()
    };
    Restaurant {
        id: RestaurantId::parse("r1").unwrap(),
        name: "Random".into(),
        timezone: "UTC".into(),
        tables,
        combinations,
        opening_hours: WeeklyHours {
            monday: day(0),
            tuesday: day(1),
            wednesday: day(2),
            thursday: day(3),
            friday: day(4),
            saturday: day(5),
            sunday: day(6),
        },
        exceptions: Vec::new(),
        policy: BookingPolicy {
            turn_minutes: turn,
            buffer_minutes: buffer,
            flex_minutes: flex,
            pacing: pacing.map(|max_guests| Pacing { max_guests }),
            ..BookingPolicy::default()
        },
    }
}

fn restaurants() -> impl Strategy<Value = Restaurant> {
    (
        prop::collection::vec(1u16..=8, 1..=8),
        prop::collection::vec((0usize..8, 0usize..8, 0u16..=3), 0..=3),
        prop::collection::vec(0usize..HOURS.len(), 7),
        (
            prop::sample::select(vec![30u16, 45, 60, 90, 120]),
            prop::sample::select(vec![0u16, 15]),
            prop::sample::select(vec![0u16, 15, 30]),
            prop::option::weighted(0.2, 4u16..=12),
        ),
    )
        .prop_map(|(seats, combos, hours, policy)| build_restaurant(seats, combos, hours, policy))
        .prop_filter("a valid restaurant", |r| r.validate().is_ok())
}

#[derive(Debug, Clone)]
enum Op {
    Request {
        id: u8,
        party: u16,
        day: u8,
        minute: u16,
    },
    Cancel {
        id: u8,
        staff: bool,
    },
    Modify {
        id: u8,
        day: Option<u8>,
        minute: Option<u16>,
        party: Option<u16>,
    },
    Seat {
        id: u8,
    },
    Complete {
        id: u8,
    },
    NoShow {
        id: u8,
    },
    Wait {
        minutes: u16,
    },
}

fn ops() -> impl Strategy<Value = Op> {
    let id = 0u8..10;
    // Minutes from 10:00 to 03:00 the next morning, on and off the 15-minute grid.
    let minute = prop_oneof![(40u16..108).prop_map(|q| q * 15), 600u16..1620];
    prop_oneof![
        6 => (id.clone(), 1u16..=10, 0u8..3, minute.clone()).prop_map(|(id, party, day, minute)| Op::Request { id, party, day, minute }),
        1 => (id.clone(), any::<bool>()).prop_map(|(id, staff)| Op::Cancel { id, staff }),
        2 => (id.clone(), prop::option::of(0u8..3), prop::option::of(minute), prop::option::of(1u16..=8))
            .prop_map(|(id, day, minute, party)| Op::Modify { id, day, minute, party }),
        1 => id.clone().prop_map(|id| Op::Seat { id }),
        1 => id.clone().prop_map(|id| Op::Complete { id }),
        1 => id.prop_map(|id| Op::NoShow { id }),
        2 => (0u16..900).prop_map(|minutes| Op::Wait { minutes }),
    ]
}

fn rid(id: u8) -> ReservationId {
    ReservationId::parse(format!("res{id}")).unwrap()
}

fn to_command(op: &Op, now: DateTime) -> Option<Command> {
    let date_of = |d: u8| {
        first_day()
            .checked_add(jiff::Span::new().days(i64::from(d)))
            .unwrap()
    };
    let clock = |m: u16| ClockTime::from_minute(i32::from(m));
    Some(match *op {
        Op::Request {
            id,
            party,
            day,
            minute,
        } => Command::RequestReservation(RequestReservation {
            reservation_id: rid(id),
            restaurant_id: RestaurantId::parse("r1").unwrap(),
            user_id: UserId::parse("u1").unwrap(),
            guest_name: "Guest".into(),
            party_size: party,
            date: date_of(day),
            time: clock(minute),
            now,
        }),
        Op::Cancel { id, staff } => Command::CancelReservation(CancelReservation {
            reservation_id: rid(id),
            by: if staff { Actor::Staff } else { Actor::Guest },
            now,
        }),
        Op::Modify {
            id,
            day,
            minute,
            party,
        } => Command::ModifyReservation(ModifyReservation {
            reservation_id: rid(id),
            date: day.map(date_of),
            time: minute.map(clock),
            party_size: party,
            by: Actor::Guest,
            now,
        }),
        Op::Seat { id } => Command::SeatReservation(SeatReservation {
            reservation_id: rid(id),
            now,
        }),
        Op::Complete { id } => Command::CompleteReservation(CompleteReservation {
            reservation_id: rid(id),
            now,
        }),
        Op::NoShow { id } => Command::MarkNoShow(MarkNoShow {
            reservation_id: rid(id),
            now,
        }),
        Op::Wait { .. } => return None,
    })
}

/// DOMAIN.md's invariants over the whole state.
fn check_invariants(state: &State) {
    let restaurant = state.restaurant.as_ref().unwrap();
    for (date, book) in &state.day_books {
        let bookings: Vec<_> = book.bookings().collect();
        for (i, (id_a, a)) in bookings.iter().enumerate() {
            // Seats: a single table or a declared combination that seats the party.
            let seats = match &a.table_ids[..] {
                [single] => restaurant
                    .tables
                    .iter()
                    .find(|t| &t.id == single)
                    .map(|t| t.seats),
                many => restaurant
                    .combinations
                    .iter()
                    .find(|c| c.tables == many)
                    .map(|c| c.seats),
            };
            assert!(
                seats.is_some_and(|s| s >= a.party_size),
                "{id_a} exceeds its seats: {a:?}"
            );
            for (id_b, b) in &bookings[i + 1..] {
                let shared = a.table_ids.iter().any(|t| b.table_ids.contains(t));
                let overlap = a.start < b.held_until && b.start < a.held_until;
                assert!(
                    !(shared && overlap),
                    "{id_a} and {id_b} hold the same table at once on {date}"
                );
            }
        }
    }
    for (id, r) in &state.reservations {
        let held = state
            .day_books
            .get(&r.date)
            .and_then(|book| book.booking(id));
        match r.status {
            Status::Confirmed => {
                let start = minute_of(r.date, r.starts_at.unwrap()) as i32;
                let turn = restaurant.policy.turn_for(r.party_size);
                let spans = restaurant.schedule().spans_on(r.date);
                assert!(
                    spans.iter().any(|&(s, e)| s <= start && start + turn <= e),
                    "{id} outside hours"
                );
                let held = held.unwrap_or_else(|| panic!("{id} is confirmed but holds no table"));
                assert_eq!(held.start, start);
                assert_eq!(held.table_ids, r.table_ids);
            }
            Status::Rejected => assert!(held.is_none(), "{id} was rejected but holds a table"),
            Status::Cancelled | Status::NoShow | Status::Seated | Status::Completed => {}
        }
    }
}

/// Every start listed as available is confirmed exactly then; every grid time not listed is not.
fn check_availability(state: &State, date: Date, party: u16, now: DateTime) {
    let restaurant = state.restaurant.as_ref().unwrap();
    let book = state.day_book(&restaurant.id, date);
    let Ok(listed) = allocation::availability(restaurant, &book, party, now) else {
        assert!(party > restaurant.largest_party());
        return;
    };
    for quarter in 0..(27 * 4) {
        let time = ClockTime::from_minute(quarter * 15);
        let command = Command::RequestReservation(RequestReservation {
            reservation_id: ReservationId::parse("probe").unwrap(),
            restaurant_id: restaurant.id.clone(),
            user_id: UserId::parse("u1").unwrap(),
            guest_name: "Probe".into(),
            party_size: party,
            date,
            time,
            now,
        });
        let exact = match decide(&command, state) {
            Ok(events) => events
                .iter()
                .any(|e| matches!(e, Event::ReservationConfirmed(c) if c.time == time)),
            Err(_) => false,
        };
        assert_eq!(
            listed.contains(&time),
            exact,
            "availability and decision disagree at {time} for {party}"
        );
    }
}

fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(
    value: &T,
) {
    let json = serde_json::to_string(value).unwrap();
    let back: T = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    assert_eq!(&back, value, "{json}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_and_replay_reproduces_the_state(
        restaurant in restaurants(),
        script in prop::collection::vec(ops(), 1..40),
        probes in prop::collection::vec((0u8..3, 1u16..=9), 4),
    ) {
        let registered = Event::RestaurantRegistered(reservation_core::event::RestaurantRegistered { restaurant });
        let mut log = vec![registered.clone()];
        let mut state = evolve(State::default(), &registered);
        let mut now = first_day().at(9, 0, 0, 0);
        for (step, op) in script.iter().enumerate() {
            if let Op::Wait { minutes } = op {
                now = now.checked_add(jiff::Span::new().minutes(i64::from(*minutes))).unwrap();
                continue;
            }
            let command = to_command(op, now).unwrap();
            round_trip(&command);
            if let Ok(events) = decide(&command, &state) {
                for event in &events {
                    round_trip(event);
                    state = evolve(state, event);
                }
                log.extend(events);
            }
            check_invariants(&state);
            let (day, party) = probes[step % probes.len()];
            let date = first_day().checked_add(jiff::Span::new().days(i64::from(day))).unwrap();
            check_availability(&state, date, party, now);
        }
        // Replay through the wire form reproduces the state, and so does the state's own JSON.
        let wire = serde_json::to_string(&log).unwrap();
        let replayed: Vec<Event> = serde_json::from_str(&wire).unwrap();
        prop_assert_eq!(&State::from_events(&replayed), &state);
        round_trip(&state);
    }
}
