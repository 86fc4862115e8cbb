//! The invariants of DOMAIN.md, checked on every allocation the core decides: no two active
//! reservations hold the same table over overlapping intervals (buffers included); a party never
//! exceeds its table's or combination's seats; every confirmed reservation lies in opening hours
//! (its whole turn) and not in the past or inside the lead time; pacing is respected. And
//! availability agrees with the decision ([`availability_disagreements`]).

use reservation_core::DateTime;
use reservation_core::event::TablesAllocated;
use reservation_core::request::{Preview, ReservationRequest, preview};
use reservation_core::snapshot::DaySnapshot;
use reservation_core::time::minute_of;
use reservation_core::{Command, Event, State};
use serde_json::Value;

use crate::native::Native;
use crate::run::Run;

/// Replays `run` natively and checks every allocation a `decide` produced against the state it
/// was decided on. Returns one message per broken invariant.
pub fn violations(run: &Run) -> Vec<String> {
    let mut state: State = serde_json::from_value(run.state.clone()).unwrap_or_default();
    let mut found = Vec::new();
    for (i, op) in run.ops.iter().enumerate() {
        match op.get("op").and_then(Value::as_str) {
            Some("decide") => {
                let Ok(command) = serde_json::from_value::<Command>(op["command"].clone()) else {
                    continue;
                };
                let Ok(events) = reservation_core::decide(&command, &state) else {
                    continue;
                };
                for event in &events {
                    if let Event::TablesAllocated(allocated) = event
                        && let Err(message) = check_allocation(&state, &command, allocated)
                    {
                        found.push(format!("call {i}: {message}"));
                    }
                }
                state = events.iter().fold(state, reservation_core::evolve);
            }
            Some("evolve") => {
                if let Ok(event) = serde_json::from_value::<Event>(op["event"].clone()) {
                    state = reservation_core::evolve(state, &event);
                }
            }
            _ => {}
        }
    }
    found
}

fn check_allocation(state: &State, command: &Command, a: &TablesAllocated) -> Result<(), String> {
    let restaurant = state
        .restaurant
        .as_ref()
        .ok_or("an allocation without a restaurant")?;
    let start = minute_of(a.date, a.starts_at);
    let end = minute_of(a.date, a.held_until);
    let party = a.party_size;

    // Seats: one table that seats the party, or a declared combination that does.
    let seats = match a.table_ids.as_slice() {
        [one] => restaurant
            .tables
            .iter()
            .find(|t| &t.id == one)
            .map(|t| t.seats),
        many => restaurant
            .combinations
            .iter()
            .find(|c| c.tables == many)
            .map(|c| c.seats),
    };
    match seats {
        Some(seats) if seats >= party => {}
        Some(seats) => {
            return Err(format!(
                "party of {party} on {:?} seating {seats}",
                a.table_ids
            ));
        }
        None => {
            return Err(format!(
                "{:?} is neither a table nor a combination",
                a.table_ids
            ));
        }
    }
    // A single table is used only when it fits; a combination only when no single table would
    // have been free (checked by the core's order, not re-derived here).

    // No overlap with any other hold on the same tables, buffers included (half-open).
    let day = state.day_book(&restaurant.id, a.date);
    for (other, booking) in day.bookings() {
        if other == a.reservation_id {
            continue;
        }
        let shared = booking.table_ids.iter().any(|t| a.table_ids.contains(t));
        let overlaps = i64::from(booking.start) < end && start < i64::from(booking.held_until);
        if shared && overlaps {
            return Err(format!(
                "{} holds {:?} over [{start}, {end}) overlapping {other} [{}, {})",
                a.reservation_id, a.table_ids, booking.start, booking.held_until
            ));
        }
    }

    // The whole turn inside one opening range; the hold is turn plus buffer.
    let turn = i64::from(restaurant.policy.turn_for(party));
    let inside = restaurant
        .schedule()
        .spans_on(a.date)
        .iter()
        .any(|&(s, e)| i64::from(s) <= start && start + turn <= i64::from(e));
    if !inside {
        return Err(format!(
            "{} starts at minute {start} with a {turn}-minute turn outside opening hours",
            a.reservation_id
        ));
    }
    if end - start != turn + i64::from(restaurant.policy.buffer_minutes) {
        return Err(format!(
            "{} holds {} minutes, not turn + buffer",
            a.reservation_id,
            end - start
        ));
    }

    // Not in the past, and not inside the lead time.
    let now = match command {
        Command::RequestReservation(c) => c.now,
        Command::ModifyReservation(c) => c.now,
        _ => return Err("an allocation from a command that does not allocate".into()),
    };
    let earliest = minute_of(a.date, now) + i64::from(restaurant.policy.lead_minutes);
    if start < earliest {
        return Err(format!(
            "{} starts at minute {start}, before now + lead ({earliest})",
            a.reservation_id
        ));
    }

    // Pacing: guests starting in the same 15-minute interval of the grid.
    if let Some(pacing) = &restaurant.policy.pacing {
        let bucket = start.div_euclid(15);
        let others: u32 = day
            .bookings()
            .filter(|(id, b)| {
                *id != a.reservation_id && i64::from(b.start).div_euclid(15) == bucket
            })
            .map(|(_, b)| u32::from(b.party_size))
            .sum();
        if others + u32::from(party) > u32::from(pacing.max_guests) {
            return Err(format!(
                "{} breaks pacing: {others} + {party} > {}",
                a.reservation_id, pacing.max_guests
            ));
        }
    }
    Ok(())
}

/// DOMAIN.md: availability lists every grid start at which a booking would be confirmed exactly
/// (no shift); it is the same code path as the decision, so the two never disagree. Checks every
/// availability call of `run` against a preview at each 15-minute mark of the day.
pub fn availability_disagreements(run: &Run) -> Vec<String> {
    run.ops
        .iter()
        .enumerate()
        .filter(|(_, op)| op["op"] == "availability")
        .filter_map(|(i, op)| {
            availability_is_the_decision(op)
                .err()
                .map(|e| format!("call {i}: {e}"))
        })
        .collect()
}

fn availability_is_the_decision(op: &Value) -> Result<(), String> {
    let answer = Native::default().call(op);
    let Some(times) = answer["times"].as_array() else {
        return Ok(());
    };
    let listed: Vec<&str> = times.iter().filter_map(Value::as_str).collect();
    let snapshot: DaySnapshot =
        serde_json::from_value(op["snapshot"].clone()).map_err(|e| e.to_string())?;
    let now: DateTime = serde_json::from_value(op["now"].clone()).map_err(|e| e.to_string())?;
    let party_size = answer["party_size"].as_i64().unwrap_or(0);
    for minute in (0..24 * 60).step_by(15) {
        let time = format!("{:02}:{:02}", minute / 60, minute % 60);
        let request = ReservationRequest {
            id: None,
            user_id: None,
            name: "Probe".into(),
            party_size,
            date: snapshot.date.to_string(),
            time: time.clone(),
        };
        let decision = preview(&snapshot, &request, now);
        let exact =
            matches!(&decision, Ok(Preview::Confirmed { time: t, .. }) if t.to_string() == time);
        if exact != listed.contains(&time.as_str()) {
            return Err(format!(
                "availability {} {time}, but a preview for {time} decides {decision:?}",
                if exact { "omits" } else { "lists" }
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn state() -> State {
        let restaurant = json!({"id": "r1", "name": "R", "timezone": "UTC",
            "tables": [{"id": "T1", "seats": 2}, {"id": "T2", "seats": 4}],
            "opening_hours": {"tuesday": ["12:00-23:00"]}, "policy": {"pacing": {"max_guests": 4}}});
        let held = json!({"type": "tables_allocated", "version": 1, "restaurant_id": "r1", "date": "2026-12-08",
            "reservation_id": "a", "table_ids": ["T1"], "party_size": 2,
            "starts_at": "2026-12-08T19:00:00", "held_until": "2026-12-08T20:00:00"});
        let events: Vec<Event> = vec![
            serde_json::from_value(
                json!({"type": "restaurant_registered", "version": 1, "restaurant": restaurant}),
            )
            .unwrap(),
            serde_json::from_value(held).unwrap(),
        ];
        events
            .iter()
            .fold(State::default(), reservation_core::evolve)
    }

    fn allocation(table: &str, party: u16, start: &str, end: &str) -> TablesAllocated {
        serde_json::from_value(json!({"restaurant_id": "r1", "date": "2026-12-08", "reservation_id": "b",
            "table_ids": [table], "party_size": party,
            "starts_at": format!("2026-12-08T{start}:00"), "held_until": format!("2026-12-08T{end}:00")}))
        .unwrap()
    }

    fn request(now: &str) -> Command {
        serde_json::from_value(json!({"type": "request_reservation", "version": 1, "reservation_id": "b",
            "restaurant_id": "r1", "user_id": "u", "guest_name": "G", "party_size": 2, "date": "2026-12-08",
            "time": "19:00", "now": now}))
        .unwrap()
    }

    #[test]
    fn each_invariant_catches_its_violation() {
        let state = state();
        let now = request("2026-12-01T10:00:00");
        assert!(check_allocation(&state, &now, &allocation("T1", 2, "20:00", "21:00")).is_ok());
        let cases = [
            (allocation("T1", 2, "19:30", "20:30"), "overlapping"),
            (allocation("T1", 3, "20:00", "21:00"), "seating"),
            (allocation("T9", 2, "20:00", "21:00"), "neither a table"),
            (
                allocation("T2", 2, "22:30", "23:30"),
                "outside opening hours",
            ),
            (allocation("T2", 2, "20:00", "21:30"), "not turn + buffer"),
            (allocation("T2", 3, "19:05", "20:05"), "pacing"),
        ];
        for (allocated, wanted) in cases {
            let error = check_allocation(&state, &now, &allocated).unwrap_err();
            assert!(error.contains(wanted), "{error} (wanted {wanted})");
        }
        let late = request("2026-12-08T20:30:00");
        assert!(
            check_allocation(&state, &late, &allocation("T2", 2, "20:00", "21:00"))
                .unwrap_err()
                .contains("before now")
        );
    }
}
