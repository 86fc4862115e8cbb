//! The booking decision and a whole day's availability on a busy day book: 60 tables and 500
//! existing reservations. Targets: decision ≤ 10 µs median, availability ≤ 200 µs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{Criterion, criterion_group, criterion_main};
use jiff::civil::date;
use reservation_core::command::RequestReservation;
use reservation_core::ids::{ReservationId, RestaurantId, TableId, UserId};
use reservation_core::opening_hours::WeeklyHours;
use reservation_core::policy::BookingPolicy;
use reservation_core::restaurant::{Combination, Restaurant, Table};
use reservation_core::time::{ClockTime, TimeRange};
use reservation_core::{Command, Event, State, allocation, decide, evolve};
use std::hint::black_box;

fn busy_day() -> (State, Restaurant) {
    let seats = [2u16, 2, 4, 4, 4, 6, 6, 8];
    let tables: Vec<Table> = (0..60)
        .map(|i| Table {
            id: TableId::parse(format!("T{i:02}")).unwrap(),
            seats: seats[i % seats.len()],
            area: None,
        })
        .collect();
    let combinations = (0..10)
        .map(|i| Combination {
            tables: vec![tables[2 * i].id.clone(), tables[2 * i + 1].id.clone()],
            seats: 4,
        })
        .collect();
    let hours: Vec<TimeRange> = vec![TimeRange::parse("11:00-23:00").unwrap()];
    let restaurant = Restaurant {
        id: RestaurantId::parse("r1").unwrap(),
        name: "Busy".into(),
        timezone: "UTC".into(),
        tables,
        combinations,
        opening_hours: WeeklyHours {
            monday: hours.clone(),
            tuesday: hours.clone(),
            wednesday: hours.clone(),
            thursday: hours.clone(),
            friday: hours.clone(),
            saturday: hours.clone(),
            sunday: hours,
        },
        exceptions: vec![],
        policy: BookingPolicy::default(),
    };
    let mut state = evolve(
        State::default(),
        &Event::RestaurantRegistered(reservation_core::event::RestaurantRegistered {
            restaurant: restaurant.clone(),
        }),
    );
    // A deterministic pseudo-random walk over times and party sizes until 500 are confirmed.
    let mut seed: u64 = 42;
    let mut confirmed = 0;
    let mut attempt = 0;
    while confirmed < 500 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        attempt += 1;
        let quarter = (seed >> 33) % 44; // 11:00 .. 21:45
        let party = 1 + ((seed >> 20) % 8) as u16;
        let command = request(
            &format!("seed{attempt}"),
            party,
            ClockTime::from_minute(660 + quarter as i32 * 15),
        );
        for event in decide(&command, &state).unwrap() {
            if matches!(event, Event::ReservationConfirmed(_)) {
                confirmed += 1;
            }
            state = evolve(state, &event);
        }
        assert!(attempt < 100_000, "the day filled up before 500 bookings");
    }
    (state, restaurant)
}

fn request(id: &str, party_size: u16, time: ClockTime) -> Command {
    Command::RequestReservation(RequestReservation {
        reservation_id: ReservationId::parse(id).unwrap(),
        restaurant_id: RestaurantId::parse("r1").unwrap(),
        user_id: UserId::parse("u1").unwrap(),
        guest_name: "Ada".into(),
        party_size,
        date: date(2026, 12, 8),
        time,
        now: date(2026, 12, 1).at(10, 0, 0, 0),
    })
}

fn benches(c: &mut Criterion) {
    let (state, restaurant) = busy_day();
    let book = state.day_books.values().next().unwrap().clone();
    assert_eq!(book.len(), 500);
    // One request that is confirmed and one that is rejected (with alternatives), found by asking.
    let outcome = |command: &Command| {
        decide(command, &state)
            .unwrap()
            .iter()
            .any(|e| matches!(e, Event::ReservationConfirmed(_)))
    };
    let at =
        |quarter: i32, party| request("new", party, ClockTime::from_minute(660 + quarter * 15));
    let confirmed = (0..44)
        .map(|q| at(q, 4))
        .find(|c| outcome(c))
        .expect("a free slot");
    let rejected = (0..44)
        .rev()
        .map(|q| at(q, 4))
        .find(|c| !outcome(c))
        .expect("a full slot");
    c.bench_function("decide_booking_confirmed_60_tables_500_reservations", |b| {
        b.iter(|| decide(black_box(&confirmed), black_box(&state)).unwrap())
    });
    c.bench_function("decide_booking_rejected_60_tables_500_reservations", |b| {
        b.iter(|| decide(black_box(&rejected), black_box(&state)).unwrap())
    });
    let now = date(2026, 12, 1).at(10, 0, 0, 0);
    c.bench_function("availability_whole_day_60_tables_500_reservations", |b| {
        b.iter(|| {
            allocation::availability(black_box(&restaurant), black_box(&book), 4, now).unwrap()
        })
    });
}

criterion_group!(decision, benches);
criterion_main!(decision);
