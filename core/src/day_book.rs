//! The day book: all table occupancy of one restaurant on one service date. It is the
//! consistency boundary of a booking, so it stays small however old the restaurant is.

use jiff::civil::{Date, DateTime};
use rustc_hash::FxHashMap;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

use crate::ids::{ReservationId, RestaurantId, TableId};
use crate::json::{FromJson, JsonError, deserialize_via_json, from_json};
use crate::time::{Minute, SLOT_MINUTES, datetime_at, minute_of};

/// One party's hold on its tables over `[start, held_until)` (turn plus buffer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    pub table_ids: Vec<TableId>,
    pub start: Minute,
    pub held_until: Minute,
    pub party_size: u16,
}

/// One table's hold, indexed by table.
#[derive(Debug, Clone)]
pub(crate) struct Hold {
    start: Minute,
    end: Minute,
    reservation_id: ReservationId,
}

/// Whether none of `holds` overlaps `[start, end)`, ignoring the holds of `ignore`.
pub(crate) fn free_of(
    holds: &[Hold],
    start: Minute,
    end: Minute,
    ignore: Option<&ReservationId>,
) -> bool {
    holds
        .iter()
        .all(|h| h.end <= start || end <= h.start || Some(&h.reservation_id) == ignore)
}

#[derive(Debug, Clone, Serialize)]
#[serde(into = "DayBookRepr")]
pub struct DayBook {
    restaurant_id: RestaurantId,
    date: Date,
    bookings: BTreeMap<ReservationId, Booking>,
    /// Derived from `bookings`: holds per table, so a free-table check never scans the day.
    /// Table ids come from staff configuration, not from guests, so a fast non-keyed hash is safe.
    by_table: FxHashMap<TableId, Vec<Hold>>,
    /// Derived from `bookings`: guests starting per 15-minute interval, for pacing.
    starts: FxHashMap<Minute, u32>,
}

impl PartialEq for DayBook {
    fn eq(&self, other: &Self) -> bool {
        self.restaurant_id == other.restaurant_id
            && self.date == other.date
            && self.bookings == other.bookings
    }
}

impl Eq for DayBook {}

impl DayBook {
    pub fn new(restaurant_id: RestaurantId, date: Date) -> Self {
        DayBook {
            restaurant_id,
            date,
            bookings: BTreeMap::new(),
            by_table: FxHashMap::default(),
            starts: FxHashMap::default(),
        }
    }

    pub fn restaurant_id(&self) -> &RestaurantId {
        &self.restaurant_id
    }

    pub fn date(&self) -> Date {
        self.date
    }

    pub fn bookings(&self) -> impl Iterator<Item = (&ReservationId, &Booking)> {
        self.bookings.iter()
    }

    pub fn booking(&self, reservation_id: &ReservationId) -> Option<&Booking> {
        self.bookings.get(reservation_id)
    }

    pub fn len(&self) -> usize {
        self.bookings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bookings.is_empty()
    }

    /// Records a hold, replacing any earlier hold of the same reservation.
    pub fn allocate(&mut self, reservation_id: ReservationId, booking: Booking) {
        self.remove(&reservation_id);
        for table in &booking.table_ids {
            self.by_table.entry(table.clone()).or_default().push(Hold {
                start: booking.start,
                end: booking.held_until,
                reservation_id: reservation_id.clone(),
            });
        }
        *self.starts.entry(bucket(booking.start)).or_default() += u32::from(booking.party_size);
        self.bookings.insert(reservation_id, booking);
    }

    /// Frees the tables from `from` on: the hold is cut back to `from` (never before its start),
    /// and removed when nothing of it remains.
    pub fn release(&mut self, reservation_id: &ReservationId, from: Minute) {
        let Some(booking) = self.bookings.get(reservation_id) else {
            return;
        };
        let held_until = booking.held_until.min(from.max(booking.start));
        if held_until <= booking.start {
            self.remove(reservation_id);
            return;
        }
        let mut shortened = booking.clone();
        shortened.held_until = held_until;
        self.allocate(reservation_id.clone(), shortened);
    }

    fn remove(&mut self, reservation_id: &ReservationId) {
        let Some(old) = self.bookings.remove(reservation_id) else {
            return;
        };
        for table in &old.table_ids {
            if let Some(holds) = self.by_table.get_mut(table) {
                holds.retain(|h| &h.reservation_id != reservation_id);
            }
        }
        if let Some(guests) = self.starts.get_mut(&bucket(old.start)) {
            *guests = guests.saturating_sub(u32::from(old.party_size));
        }
    }

    /// Whether `table` is free over `[start, end)`, ignoring the hold of `ignore`.
    pub fn is_free(
        &self,
        table: &TableId,
        start: Minute,
        end: Minute,
        ignore: Option<&ReservationId>,
    ) -> bool {
        free_of(self.holds(table), start, end, ignore)
    }

    /// The holds on `table`, looked up once per decision rather than once per start time.
    pub(crate) fn holds(&self, table: &TableId) -> &[Hold] {
        self.by_table.get(table).map_or(&[], Vec::as_slice)
    }

    /// Guests starting in the 15-minute interval that contains `start`, not counting `ignore`.
    pub fn guests_starting_near(&self, start: Minute, ignore: Option<&ReservationId>) -> u32 {
        let total = self.starts.get(&bucket(start)).copied().unwrap_or(0);
        let own = ignore
            .and_then(|id| self.bookings.get(id))
            .filter(|b| bucket(b.start) == bucket(start))
            .map_or(0, |b| u32::from(b.party_size));
        total.saturating_sub(own)
    }
}

fn bucket(start: Minute) -> Minute {
    start.div_euclid(SLOT_MINUTES)
}

/// One hold in civil time: the documented JSON form shared by day books and snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Occupancy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservation_id: Option<ReservationId>,
    pub table_ids: Vec<TableId>,
    #[serde(serialize_with = "crate::time::serialize_datetime")]
    pub starts_at: DateTime,
    #[serde(serialize_with = "crate::time::serialize_datetime")]
    pub held_until: DateTime,
    pub party_size: u16,
}

from_json!(
    Occupancy,
    deny_unknown_fields {
        reservation_id: opt,
        table_ids: req,
        starts_at: req,
        held_until: req,
        party_size: req,
    }
);

impl Occupancy {
    pub(crate) fn of(date: Date, reservation_id: Option<ReservationId>, booking: &Booking) -> Self {
        Occupancy {
            reservation_id,
            table_ids: booking.table_ids.clone(),
            starts_at: datetime_at(date, booking.start),
            held_until: datetime_at(date, booking.held_until),
            party_size: booking.party_size,
        }
    }

    pub(crate) fn booking(&self, date: Date) -> Booking {
        Booking {
            table_ids: self.table_ids.clone(),
            start: clamp_minute(minute_of(date, self.starts_at)),
            held_until: clamp_minute(minute_of(date, self.held_until)),
            party_size: self.party_size,
        }
    }
}

/// Holds far from their service day carry no meaning for it; clamping keeps arithmetic safe.
pub(crate) fn clamp_minute(minute: i64) -> Minute {
    minute.clamp(-100_000, 100_000) as Minute
}

#[derive(Serialize)]
struct DayBookRepr {
    restaurant_id: RestaurantId,
    #[serde(serialize_with = "crate::time::serialize_date")]
    date: Date,
    bookings: Vec<Occupancy>,
}

from_json!(@impl_only DayBookRepr, deny_unknown_fields {
    restaurant_id: req,
    date: req,
    bookings: req,
});

impl FromJson for DayBook {
    fn from_json(value: Value) -> Result<Self, JsonError> {
        DayBookRepr::from_json(value).map(DayBook::from)
    }
}

deserialize_via_json!(DayBook);

impl From<DayBook> for DayBookRepr {
    fn from(book: DayBook) -> Self {
        DayBookRepr {
            bookings: book
                .bookings
                .iter()
                .map(|(id, b)| Occupancy::of(book.date, Some(id.clone()), b))
                .collect(),
            restaurant_id: book.restaurant_id,
            date: book.date,
        }
    }
}

impl From<DayBookRepr> for DayBook {
    fn from(repr: DayBookRepr) -> Self {
        let mut book = DayBook::new(repr.restaurant_id, repr.date);
        for (index, occupancy) in repr.bookings.iter().enumerate() {
            let id = occupancy
                .reservation_id
                .clone()
                .unwrap_or_else(|| placeholder_id(index));
            book.allocate(id, occupancy.booking(repr.date));
        }
        book
    }
}

/// Snapshots carry no reservation ids; their holds get stable stand-ins.
pub(crate) fn placeholder_id(index: usize) -> ReservationId {
    ReservationId::trusted(format!("held-{index}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn id(s: &str) -> ReservationId {
        ReservationId::parse(s).unwrap()
    }
    fn table(s: &str) -> TableId {
        TableId::parse(s).unwrap()
    }

    fn book_with(start: Minute, end: Minute) -> DayBook {
        let mut book = DayBook::new(RestaurantId::parse("r").unwrap(), date(2026, 12, 8));
        book.allocate(
            id("a"),
            Booking {
                table_ids: vec![table("T1")],
                start,
                held_until: end,
                party_size: 2,
            },
        );
        book
    }

    #[test]
    fn holds_are_half_open() {
        let book = book_with(960, 1020);
        assert!(book.is_free(&table("T1"), 1020, 1080, None));
        assert!(book.is_free(&table("T1"), 900, 960, None));
        assert!(!book.is_free(&table("T1"), 1019, 1080, None));
        assert!(book.is_free(&table("T1"), 990, 1050, Some(&id("a"))));
        assert!(book.is_free(&table("T2"), 960, 1020, None));
    }

    #[test]
    fn release_cuts_the_hold_back_or_removes_it() {
        let mut book = book_with(960, 1020);
        book.release(&id("a"), 990);
        assert_eq!(book.booking(&id("a")).unwrap().held_until, 990);
        assert!(book.is_free(&table("T1"), 990, 1050, None));
        book.release(&id("a"), 900);
        assert!(book.is_empty());
        assert_eq!(book.guests_starting_near(960, None), 0);
    }

    #[test]
    fn json_form_rebuilds_the_indexes() {
        let book = book_with(1500, 1560);
        let json = serde_json::to_value(&book).unwrap();
        assert_eq!(json["bookings"][0]["starts_at"], "2026-12-09T01:00:00");
        let back: DayBook = serde_json::from_value(json).unwrap();
        assert_eq!(back, book);
        assert!(!back.is_free(&table("T1"), 1500, 1501, None));
        assert_eq!(back.guests_starting_near(1505, None), 2);
    }
}
