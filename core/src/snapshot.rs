//! The day snapshot: a restaurant's configuration plus the occupied intervals of one service
//! day, without guests' names or reservation ids. It is all a browser or an edge function needs
//! to list availability and preview a booking offline, with the server's exact answers.

use jiff::civil::{Date, DateTime};
use serde::{Deserialize, Serialize};

use crate::allocation::availability;
use crate::day_book::{DayBook, Occupancy, placeholder_id};
use crate::decider::State;
use crate::error::{DomainError, ErrorCode};
use crate::restaurant::Restaurant;
use crate::time::ClockTime;

/// The JSON form's version; bumped on any incompatible change.
pub const SNAPSHOT_VERSION: u16 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaySnapshot {
    pub snapshot_version: u16,
    pub restaurant: Restaurant,
    /// The service date.
    pub date: Date,
    /// Holds on tables, ordered by start then tables.
    pub occupancy: Vec<Occupancy>,
}

impl DaySnapshot {
    pub fn of(restaurant: &Restaurant, day: &DayBook) -> Self {
        let mut occupancy: Vec<Occupancy> =
            day.bookings().map(|(_, booking)| Occupancy::of(day.date(), None, booking)).collect();
        occupancy.sort_by(|a, b| (a.starts_at, &a.table_ids).cmp(&(b.starts_at, &b.table_ids)));
        DaySnapshot { snapshot_version: SNAPSHOT_VERSION, restaurant: restaurant.clone(), date: day.date(), occupancy }
    }

    /// The day book this snapshot stands for. Refuses snapshots of another version and
    /// restaurants that would not have been accepted.
    pub fn day_book(&self) -> Result<DayBook, DomainError> {
        if self.snapshot_version != SNAPSHOT_VERSION {
            return Err(DomainError::new(
                ErrorCode::MalformedInput,
                format!("snapshot_version {} is not supported (expected {SNAPSHOT_VERSION})", self.snapshot_version),
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
        let mut state = State { restaurant: Some(self.restaurant.clone()), ..State::default() };
        state.day_books.insert(self.date, self.day_book()?);
        Ok(state)
    }

    /// Bookable start times for `party_size`, as the server would list them at `now`.
    pub fn availability(&self, party_size: u16, now: DateTime) -> Result<Vec<ClockTime>, DomainError> {
        availability(&self.restaurant, &self.day_book()?, party_size, now)
    }
}
