//! The day snapshot: a restaurant's configuration plus the occupied intervals of one service
//! day, without guests' names or reservation ids. It is all a browser or an edge function needs
//! to list availability and preview a booking offline, with the server's exact answers.

use jiff::civil::{Date, DateTime};
use serde::Serialize;

use crate::allocation::availability;
use crate::day_book::{DayBook, Occupancy, placeholder_id};
use crate::decider::State;
use crate::error::{DomainError, ErrorCode};
use crate::json::from_json;
use crate::restaurant::Restaurant;
use crate::time::ClockTime;

/// The JSON form's version; bumped on any incompatible change.
pub const SNAPSHOT_VERSION: u16 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DaySnapshot {
    pub snapshot_version: u16,
    pub restaurant: Restaurant,
    /// The service date.
    #[serde(serialize_with = "crate::time::serialize_date")]
    pub date: Date,
    /// Holds on tables, ordered by start then tables.
    pub occupancy: Vec<Occupancy>,
}

from_json!(
    DaySnapshot,
    deny_unknown_fields {
        snapshot_version: req,
        restaurant: req,
        date: req,
        occupancy: req,
    }
);

impl DaySnapshot {
    pub fn of(restaurant: &Restaurant, day: &DayBook) -> Self {
        let mut occupancy: Vec<Occupancy> = day
            .anonymous_bookings()
            .map(|booking| Occupancy::of(day.date(), None, &booking))
            .collect();
        // Every field in the key: the order must not depend on how the day book stores them.
        occupancy.sort_by(|a, b| {
            (a.starts_at, &a.table_ids, a.held_until, a.party_size).cmp(&(
                b.starts_at,
                &b.table_ids,
                b.held_until,
                b.party_size,
            ))
        });
        DaySnapshot {
            snapshot_version: SNAPSHOT_VERSION,
            restaurant: restaurant.clone(),
            date: day.date(),
            occupancy,
        }
    }

    /// The day book this snapshot stands for. Refuses snapshots of another version and
    /// restaurants that would not have been accepted.
    pub fn day_book(&self) -> Result<DayBook, DomainError> {
        if self.snapshot_version != SNAPSHOT_VERSION {
            return Err(DomainError::new(
                ErrorCode::MalformedInput,
                format!(
                    "snapshot_version {} is not supported (expected {SNAPSHOT_VERSION})",
                    self.snapshot_version
                ),
            )
            .with_field("snapshot_version"));
        }
        self.restaurant.validate()?;
        let mut day = DayBook::new(self.restaurant.id.clone(), self.date);
        for (index, occupancy) in self.occupancy.iter().enumerate() {
            day.allocate(placeholder_id(index), occupancy.booking(self.date));
        }
        Ok(day)
    }

    /// The decision state this snapshot stands for.
    pub fn state(&self) -> Result<State, DomainError> {
        let mut state = State {
            restaurant: Some(std::sync::Arc::new(self.restaurant.clone())),
            ..State::default()
        };
        state.day_books.insert(self.date, self.day_book()?);
        Ok(state)
    }

    /// Bookable start times for `party_size`, as the server would list them at `now`.
    pub fn availability(
        &self,
        party_size: u16,
        now: DateTime,
    ) -> Result<Vec<ClockTime>, DomainError> {
        availability(&self.restaurant, &self.day_book()?, party_size, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allocation;
    use crate::fixtures::*;

    fn booked_day() -> (Restaurant, DayBook) {
        let r = restaurant(&[("T1", 2), ("T6", 6)], &[]);
        let mut events = vec![registered(r.clone())];
        events.extend(confirmed("b", 6, "20:00", "20:00", &["T6"]));
        events.extend(confirmed("a", 2, "19:00", "19:00", &["T1"]));
        let state = State::from_events(&events);
        (r, state.day_books[&day()].clone())
    }

    #[test]
    fn a_snapshot_holds_no_guest_data_and_has_a_stable_form() {
        let (r, day_book) = booked_day();
        let json = serde_json::to_value(DaySnapshot::of(&r, &day_book)).unwrap();
        let text = json.to_string();
        assert!(
            !text.contains("Ada") && !text.contains("reservation_id") && !text.contains("u1"),
            "{text}"
        );
        assert_eq!(json["snapshot_version"], 1);
        assert_eq!(json["date"], "2026-12-08");
        assert_eq!(
            json["occupancy"][0],
            serde_json::json!({"table_ids": ["T1"], "starts_at": "2026-12-08T19:00:00", "held_until": "2026-12-08T20:00:00", "party_size": 2})
        );
        assert_eq!(json["occupancy"][1]["table_ids"][0], "T6");
        let back: DaySnapshot = serde_json::from_value(json).unwrap();
        assert_eq!(back, DaySnapshot::of(&r, &day_book));
    }

    #[test]
    fn availability_from_a_snapshot_equals_the_servers() {
        let (r, day_book) = booked_day();
        let snapshot = DaySnapshot::of(&r, &day_book);
        for party in 1..=6 {
            assert_eq!(
                snapshot.availability(party, now()).unwrap(),
                allocation::availability(&r, &day_book, party, now()).unwrap()
            );
        }
        let times = snapshot.availability(6, now()).unwrap();
        assert!(
            times.contains(&clock("19:00"))
                && !times.contains(&clock("19:15"))
                && !times.contains(&clock("20:00"))
        );
        assert_eq!(times.first(), Some(&clock("12:00")));
        assert_eq!(times.last(), Some(&clock("22:00")));
    }

    #[test]
    fn unsupported_snapshots_are_malformed_input() {
        let (r, day_book) = booked_day();
        let mut snapshot = DaySnapshot::of(&r, &day_book);
        snapshot.snapshot_version = 2;
        assert_eq!(
            snapshot.state().unwrap_err().code,
            ErrorCode::MalformedInput
        );
        snapshot.snapshot_version = 1;
        snapshot.restaurant.tables.clear();
        assert_eq!(
            snapshot.availability(2, now()).unwrap_err().code,
            ErrorCode::InvalidTables
        );
    }
}
