//! Writes the expected answers that the JS tests compare the npm package against, computed by
//! the *native* `reservation-core` (never by the wasm build), plus the demo's and the
//! benchmark's day snapshots, made by real decisions.
//!
//! ```text
//! cargo run -p reservation-wasm --example fixtures -- OUT_DIR [DEMO_SNAPSHOT_DIR]
//! ```
//!
//! `OUT_DIR/cases.json`: `{"cases": [{"name", "call", "args", "expected"}]}` where `call` is the
//! package's function name, `args` its arguments and `expected` the tagged answer. The envelope
//! (`{"type": "ok", ...}` / `{"type": "error", "errors": [...]}`) is written out here by hand, so
//! the wrapper's own envelope code is tested rather than reused. `OUT_DIR/bench.json`: the
//! benchmark's snapshot (60 tables, 500 bookings) and request. `OUT_DIR/demo-expected.json`: the
//! answers the browser test expects on the demo page. The demo's snapshots go to
//! `DEMO_SNAPSHOT_DIR` (default `OUT_DIR/demo-snapshots`; the demo ships them in
//! `host-wasm/demo/snapshots`, and the tests check that they are still what the core makes).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reservation_core::request::{ReservationRequest, preview};
use reservation_core::snapshot::DaySnapshot;
use reservation_core::{Command, DateTime, DomainError, Event, State, decide, evolve};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const DAY: &str = "2026-12-08"; // a Tuesday
const NOW: &str = "2026-12-01T10:00:00";

/// A restaurant's history, built by deciding commands like a host does.
struct World {
    state: State,
    events: Vec<Event>,
    restaurant_id: String,
}

impl World {
    fn new(restaurant: Value) -> Self {
        let restaurant_id = restaurant["id"].as_str().unwrap().to_string();
        let mut world = World {
            state: State::default(),
            events: Vec::new(),
            restaurant_id,
        };
        world.run(json!({"type": "register_restaurant", "restaurant": restaurant}));
        world
    }

    fn run(&mut self, command: Value) -> Vec<Event> {
        let command: Command = serde_json::from_value(command).unwrap();
        let events = decide(&command, &self.state).unwrap_or_else(|e| panic!("{e}"));
        for event in &events {
            self.state = evolve(std::mem::take(&mut self.state), event);
        }
        self.events.extend(events.clone());
        events
    }

    /// Books `party_size` at `time` on `date`; panics unless confirmed at exactly that time.
    fn book(&mut self, id: &str, party_size: u16, date: &str, time: &str) {
        let events = self.run(request(
            id,
            &self.restaurant_id.clone(),
            party_size,
            date,
            time,
            NOW,
        ));
        let confirmed = events.iter().any(|e| match e {
            Event::ReservationConfirmed(c) => c.time.to_string() == time,
            _ => false,
        });
        assert!(
            confirmed,
            "{id} at {time} was not confirmed as asked: {events:?}"
        );
    }

    fn snapshot(&self, date: &str) -> DaySnapshot {
        let restaurant = self.state.restaurant.clone().unwrap();
        let date: reservation_core::Date = date.parse().unwrap();
        let day = self.state.day_book(&restaurant.id, date);
        DaySnapshot::of(&restaurant, &day)
    }
}

fn request(
    id: &str,
    restaurant_id: &str,
    party_size: u16,
    date: &str,
    time: &str,
    now: &str,
) -> Value {
    json!({
        "type": "request_reservation", "reservation_id": id, "restaurant_id": restaurant_id,
        "user_id": "u1", "guest_name": "Ada", "party_size": party_size, "date": date, "time": time, "now": now
    })
}

fn guest_request(party_size: Value, date: &str, time: &str) -> Value {
    json!({"name": "Ada", "party_size": party_size, "date": date, "time": time})
}

/// One table of six, open 12:00-23:00 every day, default policy (turn 60, flex 15).
fn six_top(timezone: &str) -> Value {
    let hours = json!(["12:00-23:00"]);
    json!({
        "id": "r1", "name": "Six Top", "timezone": timezone,
        "tables": [{"id": "T6", "seats": 6}],
        "opening_hours": {"monday": hours, "tuesday": hours, "wednesday": hours, "thursday": hours,
                          "friday": hours, "saturday": hours, "sunday": hours},
        "exceptions": [{"date": "2026-12-24", "closed": true}]
    })
}

fn ok(payload: Value) -> Value {
    let mut answer = json!({"type": "ok"});
    answer
        .as_object_mut()
        .unwrap()
        .extend(payload.as_object().unwrap().clone());
    answer
}

fn errors(errors: &[DomainError]) -> Value {
    json!({"type": "error", "errors": errors})
}

struct Cases(Vec<Value>);

impl Cases {
    fn add(&mut self, name: &str, call: &str, args: Vec<Value>, expected: Value) {
        self.0
            .push(json!({"name": name, "call": call, "args": args, "expected": expected}));
    }

    fn preview(&mut self, name: &str, snapshot: &DaySnapshot, request: Value, now: &str) {
        let parsed: ReservationRequest = serde_json::from_value(request.clone()).unwrap();
        let expected = match preview(snapshot, &parsed, civil(now)) {
            Ok(preview) => ok(json!({"preview": preview})),
            Err(e) => errors(&e),
        };
        self.add(
            name,
            "previewReservation",
            vec![json!(snapshot), request, json!(now)],
            expected,
        );
    }

    fn availability(&mut self, name: &str, snapshot: &DaySnapshot, party_size: u16, now: &str) {
        let expected = match snapshot.availability(party_size, civil(now)) {
            Ok(times) => {
                ok(json!({"date": snapshot.date, "party_size": party_size, "times": times}))
            }
            Err(e) => errors(&[e]),
        };
        self.add(
            name,
            "availability",
            vec![json!(snapshot), json!(party_size), json!(now)],
            expected,
        );
    }

    fn validate(&mut self, name: &str, request: Value) {
        let parsed: ReservationRequest = serde_json::from_value(request.clone()).unwrap();
        let expected = match parsed.validate() {
            Ok(valid) => ok(json!({"request": {
                "id": valid.id.map(|id| id.to_string()), "user_id": valid.user_id.map(|id| id.to_string()),
                "name": valid.name, "party_size": valid.party_size,
                "date": valid.date.to_string(), "time": valid.time.to_string(),
            }})),
            Err(e) => errors(&e),
        };
        // Absent ids are left out of the wire form, as the core serializes them.
        let expected = strip_nulls(expected);
        self.add(name, "validateReservation", vec![request], expected);
    }

    fn decide(&mut self, name: &str, state: &State, command: Value) {
        let parsed: Command = serde_json::from_value(command.clone()).unwrap();
        let expected = match decide(&parsed, state) {
            Ok(events) => ok(json!({"events": events})),
            Err(e) => errors(&[e]),
        };
        self.add(name, "decide", vec![json!(state), command], expected);
    }
}

fn strip_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

fn civil(now: &str) -> DateTime {
    now.parse().unwrap()
}

fn preview_cases(cases: &mut Cases) {
    // DOMAIN.md: a 6-seat table booked 15:00; a request for 15:45 is seated at 16:00.
    let mut world = World::new(six_top("Europe/Berlin"));
    world.book("a", 6, DAY, "15:00");
    let at_15 = world.snapshot(DAY);
    cases.preview(
        "15:45 next to a 15:00 booking is seated at 16:00",
        &at_15,
        guest_request(json!(4), DAY, "15:45"),
        NOW,
    );
    cases.preview(
        "half-open: 16:00 right after a 15:00 booking is free",
        &at_15,
        guest_request(json!(6), DAY, "16:00"),
        NOW,
    );
    cases.preview(
        "half-open: 14:00 ends as the 15:00 booking starts",
        &at_15,
        guest_request(json!(6), DAY, "14:00"),
        NOW,
    );
    cases.preview(
        "party too large",
        &at_15,
        guest_request(json!(7), DAY, "19:00"),
        NOW,
    );
    cases.preview(
        "in the past",
        &at_15,
        guest_request(json!(2), DAY, "18:00"),
        "2026-12-08T18:30:00",
    );
    cases.preview(
        "a booking a day earlier is in the past",
        &at_15,
        guest_request(json!(2), DAY, "18:00"),
        "2026-12-09T09:00:00",
    );
    cases.preview(
        "outside opening hours",
        &at_15,
        guest_request(json!(2), DAY, "23:30"),
        NOW,
    );
    cases.preview(
        "beyond the horizon",
        &at_15,
        guest_request(json!(2), DAY, "19:00"),
        "2026-06-01T10:00:00",
    );
    cases.preview(
        "every field invalid",
        &at_15,
        guest_request(json!(0), "2026-02-30", "7pm"),
        NOW,
    );
    cases.preview(
        "a request for another day than the snapshot's",
        &at_15,
        guest_request(json!(2), "2026-12-09", "19:00"),
        NOW,
    );
    cases.availability("availability around a 15:00 booking", &at_15, 4, NOW);
    cases.availability(
        "availability later that day",
        &at_15,
        2,
        "2026-12-08T17:05:00",
    );
    cases.availability("availability for a party too large", &at_15, 7, NOW);
    cases.availability(
        "availability beyond the horizon is empty",
        &at_15,
        2,
        "2026-06-01T10:00:00",
    );

    // DOMAIN.md: 17:15 between bookings at 16:00 and 18:00 moves to 17:00.
    world.book("b", 6, DAY, "16:00");
    world.book("c", 6, DAY, "18:00");
    let busy = world.snapshot(DAY);
    cases.preview(
        "17:15 between 16:00 and 18:00 moves to 17:00",
        &busy,
        guest_request(json!(2), DAY, "17:15"),
        NOW,
    );
    world.book("d", 6, DAY, "17:00");
    let full = world.snapshot(DAY);
    cases.preview(
        "nothing fits: rejected with the nearest alternatives",
        &full,
        guest_request(json!(2), DAY, "16:30"),
        NOW,
    );
    cases.availability("availability on a busy day", &full, 2, NOW);

    let closed = world.snapshot("2026-12-24");
    cases.preview(
        "a closed day",
        &closed,
        guest_request(json!(2), "2026-12-24", "19:00"),
        NOW,
    );
    cases.availability("availability on a closed day is empty", &closed, 2, NOW);

    // Combinations only when no single table fits; ranges past midnight; turn and buffer.
    let hours = json!(["18:00-02:00"]);
    let mut late = World::new(json!({
        "id": "late", "name": "Late Bar", "timezone": "Europe/Berlin",
        "tables": [{"id": "T1", "seats": 2}, {"id": "T3", "seats": 4}, {"id": "T4", "seats": 4}],
        "combinations": [{"tables": ["T3", "T4"], "seats": 8}],
        "opening_hours": {"tuesday": hours, "wednesday": hours},
        "policy": {"turn_minutes": 90, "buffer_minutes": 15}
    }));
    late.book("x", 4, DAY, "20:00");
    let snapshot = late.snapshot(DAY);
    cases.preview(
        "a party of 8 sits at the T3+T4 combination",
        &snapshot,
        guest_request(json!(8), DAY, "22:00"),
        NOW,
    );
    cases.preview(
        "the combination is not free while T3 is held",
        &snapshot,
        guest_request(json!(8), DAY, "21:00"),
        NOW,
    );
    cases.preview(
        "a party of 3 takes a single table of 4",
        &snapshot,
        guest_request(json!(3), DAY, "20:00"),
        NOW,
    );
    cases.preview(
        "past midnight belongs to the day it opens",
        &snapshot,
        guest_request(json!(2), DAY, "00:15"),
        NOW,
    );
    cases.availability(
        "availability with turn, buffer and a night range",
        &snapshot,
        8,
        NOW,
    );

    // Pacing: at most 4 guests may start in any 15 minutes; no flex.
    let mut paced = World::new(json!({
        "id": "paced", "name": "Paced", "timezone": "Europe/Berlin",
        "tables": [{"id": "T1", "seats": 4}, {"id": "T2", "seats": 4}],
        "opening_hours": {"tuesday": ["18:00-23:00"]},
        "policy": {"flex_minutes": 0, "pacing": {"max_guests": 4}}
    }));
    paced.book("p", 4, DAY, "19:00");
    let snapshot = paced.snapshot(DAY);
    cases.preview(
        "pacing: a free table, but too many guests start at 19:00",
        &snapshot,
        guest_request(json!(2), DAY, "19:00"),
        NOW,
    );
    cases.availability("availability under pacing", &snapshot, 2, NOW);

    // `now` given as an instant is converted with the restaurant's zone: 20:30Z is 15:30 in
    // New York in December. The JS tests pass the instant and expect this civil answer.
    let mut ny = World::new(six_top("America/New_York"));
    ny.book("n", 6, DAY, "19:00");
    let ny_day = ny.snapshot(DAY);
    cases.preview(
        "[instant 2026-12-08T20:30:00Z] 15:15 has passed in New York",
        &ny_day,
        guest_request(json!(2), DAY, "15:15"),
        "2026-12-08T15:30:00",
    );
    cases.preview(
        "[instant 2026-12-08T20:30:00Z] 15:45 is still ahead in New York",
        &ny_day,
        guest_request(json!(2), DAY, "15:45"),
        "2026-12-08T15:30:00",
    );
    cases.availability(
        "[instant 2026-12-08T20:30:00Z] availability in New York",
        &ny_day,
        2,
        "2026-12-08T15:30:00",
    );
}

fn validate_cases(cases: &mut Cases) {
    cases.validate(
        "a valid request is normalized",
        json!({"name": "  Ada Lovelace ", "party_size": 4, "date": DAY, "time": "19:30"}),
    );
    cases.validate("ids are kept", json!({"id": "0192f4c8-6d3e-7a1b-9c2d-3e4f5a6b7c8d", "user_id": "guest+1@example.com", "name": "Ada", "party_size": 2, "date": DAY, "time": "19:30"}));
    cases.validate("every bad field is reported", json!({"id": "a b", "user_id": "", "name": " ", "party_size": 0, "date": "2026-13-01", "time": "7pm"}));
    cases.validate(
        "a party above any restaurant's size",
        json!({"name": "Ada", "party_size": 100_000, "date": DAY, "time": "19:00"}),
    );
}

fn decider_cases(cases: &mut Cases) -> Vec<Value> {
    let mut world = World::new(six_top("Europe/Berlin"));
    let registered = world.state.clone();
    cases.decide(
        "register a restaurant",
        &State::default(),
        json!({"type": "register_restaurant", "restaurant": six_top("Europe/Berlin")}),
    );
    cases.decide(
        "registering the same restaurant again changes nothing",
        &registered,
        json!({"type": "register_restaurant", "restaurant": six_top("Europe/Berlin")}),
    );
    cases.decide(
        "no restaurant",
        &State::default(),
        request("a", "r1", 2, DAY, "19:00", NOW),
    );
    cases.decide(
        "request a reservation",
        &registered,
        request("a", "r1", 4, DAY, "19:00", NOW),
    );
    world.book("a", 4, DAY, "19:00");
    let booked = world.state.clone();
    cases.decide(
        "a retry with the same id records nothing",
        &booked,
        request("a", "r1", 4, DAY, "19:00", NOW),
    );
    cases.decide(
        "the same id with other details is a conflict",
        &booked,
        request("a", "r1", 2, DAY, "19:00", NOW),
    );
    cases.decide(
        "15 minutes later the table is still taken: moved",
        &booked,
        request("b", "r1", 2, DAY, "19:15", NOW),
    );
    cases.decide("modify to 20:00", &booked, json!({"type": "modify_reservation", "reservation_id": "a", "time": "20:00", "by": "guest", "now": NOW}));
    cases.decide(
        "cancel by the guest before the start",
        &booked,
        json!({"type": "cancel_reservation", "reservation_id": "a", "by": "guest", "now": NOW}),
    );
    cases.decide("a guest cannot cancel after the start", &booked, json!({"type": "cancel_reservation", "reservation_id": "a", "by": "guest", "now": "2026-12-08T19:05:00"}));
    cases.decide(
        "no-show before the start is refused",
        &booked,
        json!({"type": "mark_no_show", "reservation_id": "a", "now": "2026-12-08T18:00:00"}),
    );
    cases.decide(
        "an invalid policy",
        &booked,
        json!({"type": "change_policy", "restaurant_id": "r1", "policy": {"flex_minutes": 10}}),
    );
    world.run(
        json!({"type": "seat_reservation", "reservation_id": "a", "now": "2026-12-08T19:02:00"}),
    );
    let seated = world.state.clone();
    cases.decide("complete a seated reservation", &seated, json!({"type": "complete_reservation", "reservation_id": "a", "now": "2026-12-08T19:50:00"}));
    cases.decide("a seated reservation cannot be cancelled by its guest", &seated, json!({"type": "cancel_reservation", "reservation_id": "a", "by": "guest", "now": "2026-12-08T19:10:00"}));
    world.run(json!({"type": "complete_reservation", "reservation_id": "a", "now": "2026-12-08T19:50:00"}));

    // evolve: every event one by one, and all at once, from the empty state.
    let mut state = State::default();
    for (index, event) in world.events.iter().enumerate() {
        let next = evolve(state.clone(), event);
        cases.add(
            &format!("evolve step {index}: {}", event.type_name()),
            "evolve",
            vec![json!(state), json!(event)],
            json!(next),
        );
        state = next;
    }
    cases.add(
        "evolveAll over the whole history",
        "evolveAll",
        vec![json!({}), json!(world.events)],
        json!(state),
    );
    world.events.iter().map(|e| json!(e)).collect()
}

/// The demo restaurant and three days of it (one quiet, one busy, one closed), and what the
/// native core answers the questions the browser test asks on the demo page.
fn demo(dir: &Path, out: &Path) {
    let lunch_dinner = json!(["12:00-14:30", "18:00-23:00"]);
    let mut world = World::new(json!({
        "id": "trattoria-wasm", "name": "Trattoria Wasm", "timezone": "Europe/Berlin",
        "tables": [
            {"id": "T1", "seats": 2, "area": "Window"}, {"id": "T2", "seats": 2, "area": "Window"},
            {"id": "T3", "seats": 4, "area": "Main room"}, {"id": "T4", "seats": 4, "area": "Main room"},
            {"id": "T5", "seats": 6, "area": "Main room"}, {"id": "T6", "seats": 8, "area": "Garden"}
        ],
        "combinations": [{"tables": ["T3", "T4"], "seats": 8}, {"tables": ["T5", "T6"], "seats": 14}],
        "opening_hours": {"tuesday": lunch_dinner, "wednesday": lunch_dinner, "thursday": lunch_dinner,
                          "friday": lunch_dinner, "saturday": ["12:00-15:00", "18:00-00:30"], "sunday": ["12:00-16:00"]},
        "exceptions": [{"date": "2026-12-10", "closed": true}],
        "policy": {"turn_minutes": 90, "turn_by_party_size": [{"min_party": 1, "max_party": 2, "turn_minutes": 75}],
                   "buffer_minutes": 15, "flex_minutes": 30}
    }));
    let bookings: &[(&str, u16, &str, &str)] = &[
        ("q1", 2, "2026-12-08", "19:00"),
        ("q2", 4, "2026-12-08", "19:30"),
        ("b1", 2, "2026-12-09", "18:00"),
        ("b2", 2, "2026-12-09", "18:15"),
        ("b3", 4, "2026-12-09", "19:00"),
        ("b4", 4, "2026-12-09", "19:00"),
        ("b5", 6, "2026-12-09", "19:30"),
        ("b6", 8, "2026-12-09", "20:00"),
        ("b7", 2, "2026-12-09", "20:00"),
        ("b8", 2, "2026-12-09", "20:15"),
        ("b9", 4, "2026-12-09", "12:30"),
    ];
    for (id, party, date, time) in bookings {
        world.book(id, *party, date, time);
    }
    std::fs::create_dir_all(dir).unwrap();
    let dates = ["2026-12-08", "2026-12-09", "2026-12-10"];
    for date in dates {
        write(
            &dir.join(format!("{date}.json")),
            &json!(world.snapshot(date)),
        );
    }
    // The demo's clock: 09:00Z is 10:00 in Berlin.
    write(
        &dir.join("index.json"),
        &json!({"restaurant": "Trattoria Wasm", "dates": dates, "now": "2026-12-01T09:00:00Z"}),
    );
    let now = civil("2026-12-01T10:00:00");
    let available: Vec<Value> = [
        ("2026-12-08", 4),
        ("2026-12-09", 2),
        ("2026-12-09", 8),
        ("2026-12-10", 2),
    ]
    .iter()
    .map(|&(date, party_size)| {
        let times = world.snapshot(date).availability(party_size, now).unwrap();
        json!({"date": date, "party_size": party_size, "times": times})
    })
    .collect();
    let previews: Vec<Value> = [
        ("2026-12-09", 2, "19:00"),
        ("2026-12-09", 4, "19:00"),
        ("2026-12-08", 4, "19:30"),
        ("2026-12-10", 2, "19:00"),
    ]
    .iter()
    .map(|&(date, party_size, time)| {
        let request: ReservationRequest =
            serde_json::from_value(guest_request(json!(party_size), date, time)).unwrap();
        let answer = match preview(&world.snapshot(date), &request, now) {
            Ok(preview) => json!({"preview": preview}),
            Err(errors) => json!({"errors": errors}),
        };
        json!({"date": date, "party_size": party_size, "time": time, "answer": answer})
    })
    .collect();
    write(
        &out.join("demo-expected.json"),
        &json!({"availability": available, "previews": previews}),
    );
}

/// The benchmark's day: 60 tables and 500 bookings, all made by the decider.
fn bench(dir: &Path) {
    let hours = json!(["11:00-23:00"]);
    let seats = [2, 2, 4, 4, 4, 6, 6, 8];
    let tables: Vec<Value> = (0..60)
        .map(|i| json!({"id": format!("T{i:02}"), "seats": seats[i % seats.len()]}))
        .collect();
    let mut world = World::new(json!({
        "id": "bench", "name": "Bench Brasserie", "timezone": "Europe/Berlin", "tables": tables,
        "combinations": [{"tables": ["T00", "T01"], "seats": 4}, {"tables": ["T05", "T07"], "seats": 14}],
        "opening_hours": {"monday": hours, "tuesday": hours, "wednesday": hours, "thursday": hours,
                          "friday": hours, "saturday": hours, "sunday": hours}
    }));
    let mut seed: u64 = 42;
    let mut confirmed = 0;
    let mut attempt = 0;
    while confirmed < 500 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let slot = (seed >> 33) % 44; // 11:00 .. 21:45
        let party = 1 + (seed >> 20) % 6;
        let time = format!("{:02}:{:02}", 11 + slot / 4, (slot % 4) * 15);
        let events = world.run(request(
            &format!("r{attempt}"),
            "bench",
            party as u16,
            DAY,
            &time,
            NOW,
        ));
        attempt += 1;
        confirmed += events
            .iter()
            .filter(|e| matches!(e, Event::ReservationConfirmed(_)))
            .count();
    }
    let snapshot = world.snapshot(DAY);
    assert_eq!(snapshot.occupancy.len(), 500);
    write(
        &dir.join("bench.json"),
        &json!({"snapshot": snapshot, "request": guest_request(json!(4), DAY, "19:00"), "now": NOW, "party_size": 4}),
    );
}

fn write(path: &Path, value: &Value) {
    let mut text = serde_json::to_string_pretty(value).unwrap();
    text.push('\n');
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

fn main() {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(
        args.next()
            .expect("usage: fixtures OUT_DIR [DEMO_SNAPSHOT_DIR]"),
    );
    std::fs::create_dir_all(&out).unwrap();
    let mut cases = Cases(Vec::new());
    validate_cases(&mut cases);
    preview_cases(&mut cases);
    let history = decider_cases(&mut cases);
    write(
        &out.join("cases.json"),
        &json!({"cases": cases.0, "history": history}),
    );
    bench(&out);
    let demo_dir = args
        .next()
        .map_or_else(|| out.join("demo-snapshots"), PathBuf::from);
    demo(&demo_dir, &out);
    println!("wrote {} cases to {}", cases.0.len(), out.display());
}
