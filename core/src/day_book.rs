//! The day book: all table occupancy of one restaurant on one service date. It is the
//! consistency boundary of a booking, so it stays small however old the restaurant is.

use jiff::civil::{Date, DateTime};
use serde::Serialize;
use serde_json::Value;
use std::hash::BuildHasher;

use crate::ids::{ReservationId, RestaurantId, TableId};
use crate::json::{FromJson, JsonError, deserialize_via_json, from_json};
use crate::time::{Minute, SLOT_MINUTES, datetime_at, minute_of};

mod packed;
pub use packed::PackedDayBook;

/// One party's hold on its tables over `[start, held_until)` (turn plus buffer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    pub table_ids: Vec<TableId>,
    pub start: Minute,
    pub held_until: Minute,
    pub party_size: u16,
}

/// One table's hold: `slot` is the booking's place in [`DayBook`]'s entries.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hold {
    start: Minute,
    end: Minute,
    slot: u32,
}

/// Whether none of `holds` overlaps `[start, end)`, ignoring the holds of the booking in slot
/// `ignore` (see [`DayBook::slot_of`]).
pub(crate) fn free_of(holds: &[Hold], start: Minute, end: Minute, ignore: Option<u32>) -> bool {
    holds
        .iter()
        .all(|h| h.end <= start || end <= h.start || Some(h.slot) == ignore)
}

/// A reservation id as a day book keeps it: 16 bytes when it is a lowercase hyphenated UUID
/// (every id the server mints), its text otherwise. Day books are what a host caches, one
/// entry per booking, so this is most of the memory a busy service holds.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Key {
    Uuid([u8; 16]),
    Text(Box<str>),
}

/// [`Key`] borrowed from a [`ReservationId`], to look a booking up without allocating.
#[derive(PartialEq, Eq)]
enum KeyRef<'a> {
    Uuid([u8; 16]),
    Text(&'a str),
}

impl<'a> KeyRef<'a> {
    fn of(id: &'a ReservationId) -> Self {
        let text = id.as_str();
        match uuid::Uuid::try_parse(text) {
            Ok(uuid) if text.len() == 36 && is_canonical(uuid, text) => {
                KeyRef::Uuid(*uuid.as_bytes())
            }
            _ => KeyRef::Text(text),
        }
    }

    fn to_owned(&self) -> Key {
        match self {
            KeyRef::Uuid(bytes) => Key::Uuid(*bytes),
            KeyRef::Text(text) => Key::Text((*text).into()),
        }
    }
}

/// Only the exact text a UUID formats back to is kept as bytes: ids are compared as text.
fn is_canonical(uuid: uuid::Uuid, text: &str) -> bool {
    let mut buffer = [0u8; uuid::fmt::Hyphenated::LENGTH];
    uuid.hyphenated().encode_lower(&mut buffer).as_bytes() == text.as_bytes()
}

impl Key {
    fn as_ref(&self) -> KeyRef<'_> {
        match self {
            Key::Uuid(bytes) => KeyRef::Uuid(*bytes),
            Key::Text(text) => KeyRef::Text(text),
        }
    }

    fn id(&self) -> ReservationId {
        match self {
            Key::Uuid(bytes) => {
                ReservationId::trusted(uuid::Uuid::from_bytes(*bytes).hyphenated().to_string())
            }
            Key::Text(text) => ReservationId::trusted(text.to_string()),
        }
    }
}

/// A table a booking holds, as an index into [`DayBook`]'s tables.
type TableIndex = u32;

/// One booking as a day book stores it. `first_table` is [`NO_TABLE`] when the booking holds
/// none; combinations keep their other tables in `more_tables`.
#[derive(Debug, Clone)]
struct Entry {
    key: Key,
    start: Minute,
    held_until: Minute,
    first_table: TableIndex,
    party_size: u16,
    more_tables: Option<Box<[TableIndex]>>,
}

const NO_TABLE: TableIndex = TableIndex::MAX;

impl Entry {
    fn tables(&self) -> impl Iterator<Item = TableIndex> + '_ {
        (self.first_table != NO_TABLE)
            .then_some(self.first_table)
            .into_iter()
            .chain(
                self.more_tables
                    .iter()
                    .flat_map(|more| more.iter().copied()),
            )
    }
}

/// The table occupancy of one restaurant on one date. Hosts cache one per busy day, most of
/// them with a dozen bookings or so, so it is kept compact: flat vectors, no maps, about 140
/// bytes per booking with its share of the day (a reservation id is 16 bytes, a table an index),
/// where maps of ids, holds per table and table lists took 3 to 4 KiB per day. A table's holds
/// are one slice, found by comparing hashes; a lookup by reservation id scans the day's few
/// hundred bookings at most.
#[derive(Debug, Clone, Serialize)]
#[serde(into = "DayBookRepr")]
pub struct DayBook {
    restaurant_id: RestaurantId,
    date: Date,
    entries: Vec<Entry>,
    /// The tables any booking of the day holds, sorted.
    tables: Vec<TableId>,
    /// Derived from `tables`: a hash of each, so that finding a table compares integers, not
    /// strings (a decision looks up every table of the restaurant).
    table_hashes: Vec<u64>,
    /// Derived from `entries`: every table's holds, grouped by table in the order of `tables`
    /// and sorted by start within a table.
    holds: Vec<Hold>,
    /// Where each table's holds begin in `holds`, and (last) where the holds end.
    offsets: Vec<u32>,
}

impl PartialEq for DayBook {
    fn eq(&self, other: &Self) -> bool {
        self.restaurant_id == other.restaurant_id
            && self.date == other.date
            && self.bookings().eq(other.bookings())
    }
}

impl Eq for DayBook {}

impl DayBook {
    pub fn new(restaurant_id: RestaurantId, date: Date) -> Self {
        DayBook {
            restaurant_id,
            date,
            entries: Vec::new(),
            tables: Vec::new(),
            table_hashes: Vec::new(),
            holds: Vec::new(),
            offsets: vec![0],
        }
    }

    pub fn restaurant_id(&self) -> &RestaurantId {
        &self.restaurant_id
    }

    pub fn date(&self) -> Date {
        self.date
    }

    /// Every booking, in reservation id order.
    pub fn bookings(&self) -> impl Iterator<Item = (ReservationId, Booking)> + '_ {
        let mut all: Vec<(ReservationId, &Entry)> =
            self.entries.iter().map(|e| (e.key.id(), e)).collect();
        all.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        all.into_iter()
            .map(|(id, entry)| (id, self.booking_of(entry)))
    }

    /// Every booking without its id, in no particular order (for snapshots, which carry no
    /// ids and sort by time: formatting and sorting the ids would be wasted).
    pub(crate) fn anonymous_bookings(&self) -> impl Iterator<Item = Booking> + '_ {
        self.entries.iter().map(|e| self.booking_of(e))
    }

    pub fn booking(&self, reservation_id: &ReservationId) -> Option<Booking> {
        let slot = self.slot_of(reservation_id)?;
        self.entries.get(slot as usize).map(|e| self.booking_of(e))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Records a hold, replacing any earlier hold of the same reservation.
    pub fn allocate(&mut self, reservation_id: ReservationId, booking: Booking) {
        let key = KeyRef::of(&reservation_id);
        if let Some(slot) = self.find(&key) {
            self.remove_slot(slot);
        }
        let slot = u32::try_from(self.entries.len()).unwrap_or(u32::MAX);
        // Interning first: a new table moves the indexes after it.
        for table in &booking.table_ids {
            self.intern(table);
        }
        let mut tables = booking.table_ids.iter().map(|t| self.intern(t));
        let first_table = tables.next().unwrap_or(NO_TABLE);
        let more: Box<[TableIndex]> = tables.collect();
        let entry = Entry {
            key: key.to_owned(),
            start: booking.start,
            held_until: booking.held_until,
            first_table,
            party_size: booking.party_size,
            more_tables: (!more.is_empty()).then_some(more),
        };
        for table in entry.tables() {
            let range = self.range(table);
            let before = self
                .holds
                .get(range.clone())
                .map_or(0, |holds| holds.partition_point(|h| h.start < entry.start));
            let at = range.start + before;
            self.holds.insert(
                at,
                Hold {
                    start: entry.start,
                    end: entry.held_until,
                    slot,
                },
            );
            self.shift_offsets(table, 1);
        }
        self.entries.push(entry);
    }

    /// Frees the tables from `from` on: the hold is cut back to `from` (never before its start),
    /// and removed when nothing of it remains.
    pub fn release(&mut self, reservation_id: &ReservationId, from: Minute) {
        let Some(booking) = self.booking(reservation_id) else {
            return;
        };
        let held_until = booking.held_until.min(from.max(booking.start));
        if held_until <= booking.start {
            if let Some(slot) = self.slot_of(reservation_id) {
                self.remove_slot(slot);
            }
            return;
        }
        self.allocate(
            reservation_id.clone(),
            Booking {
                held_until,
                ..booking
            },
        );
    }

    /// Whether `table` is free over `[start, end)`, ignoring the hold of `ignore`.
    pub fn is_free(
        &self,
        table: &TableId,
        start: Minute,
        end: Minute,
        ignore: Option<&ReservationId>,
    ) -> bool {
        let ignore = ignore.and_then(|id| self.slot_of(id));
        free_of(self.holds(table), start, end, ignore)
    }

    /// The holds on `table`, looked up once per decision rather than once per start time.
    pub(crate) fn holds(&self, table: &TableId) -> &[Hold] {
        let hash = table_hash(table);
        self.table_hashes
            .iter()
            .zip(&self.tables)
            .position(|(&h, t)| h == hash && t == table)
            .and_then(|index| self.holds.get(self.range(index as TableIndex)))
            .unwrap_or(&[])
    }

    /// Where the holds of the table at `index` are in `holds`.
    fn range(&self, index: TableIndex) -> std::ops::Range<usize> {
        let at = |i: usize| self.offsets.get(i).map_or(0, |&o| o as usize);
        at(index as usize)..at(index as usize + 1)
    }

    /// Moves where the tables after `index` begin by `by` holds.
    fn shift_offsets(&mut self, index: TableIndex, by: i64) {
        for offset in self.offsets.iter_mut().skip(index as usize + 1) {
            *offset = u32::try_from(i64::from(*offset) + by).unwrap_or(0);
        }
    }

    /// Where the booking of `reservation_id` is kept, to leave it out of checks (a
    /// modification competes with everyone but itself).
    pub(crate) fn slot_of(&self, reservation_id: &ReservationId) -> Option<u32> {
        self.find(&KeyRef::of(reservation_id))
    }

    /// Guests starting in the 15-minute interval that contains `start`, not counting `ignore`.
    pub fn guests_starting_near(&self, start: Minute, ignore: Option<&ReservationId>) -> u32 {
        self.guests_starting_near_slot(start, ignore.and_then(|id| self.slot_of(id)))
    }

    /// [`Self::guests_starting_near`], leaving out the booking in slot `ignore`.
    pub(crate) fn guests_starting_near_slot(&self, start: Minute, ignore: Option<u32>) -> u32 {
        let interval = bucket(start);
        let ignore = ignore.map(|slot| slot as usize);
        self.entries
            .iter()
            .enumerate()
            .filter(|&(slot, e)| bucket(e.start) == interval && Some(slot) != ignore)
            .map(|(_, e)| u32::from(e.party_size))
            .sum()
    }

    fn find(&self, key: &KeyRef<'_>) -> Option<u32> {
        self.entries
            .iter()
            .position(|e| e.key.as_ref() == *key)
            .and_then(|i| u32::try_from(i).ok())
    }

    /// The index of `table`, added to the day's tables if new (the tables after it move up
    /// one: rare, a day soon holds every table it will).
    fn intern(&mut self, table: &TableId) -> TableIndex {
        let index = match self.tables.binary_search(table) {
            Ok(index) => return index as TableIndex,
            Err(index) => index,
        };
        let at = self.offsets.get(index).copied().unwrap_or(0);
        self.table_hashes.insert(index, table_hash(table));
        self.tables.insert(index, table.clone());
        self.offsets.insert(index, at);
        let index = index as TableIndex;
        for entry in &mut self.entries {
            let bump = |t: &mut TableIndex| {
                if *t != NO_TABLE && *t >= index {
                    *t += 1;
                }
            };
            bump(&mut entry.first_table);
            entry.more_tables.iter_mut().flatten().for_each(bump);
        }
        index
    }

    fn booking_of(&self, entry: &Entry) -> Booking {
        Booking {
            table_ids: entry
                .tables()
                .filter_map(|t| self.tables.get(t as usize).cloned())
                .collect(),
            start: entry.start,
            held_until: entry.held_until,
            party_size: entry.party_size,
        }
    }

    /// Removes the booking in `slot`; the last entry moves into its place.
    fn remove_slot(&mut self, slot: u32) {
        let index = slot as usize;
        if index >= self.entries.len() {
            return;
        }
        let old = self.entries.swap_remove(index);
        for table in old.tables() {
            let range = self.range(table);
            let found = self
                .holds
                .get(range.clone())
                .and_then(|holds| holds.iter().position(|h| h.slot == slot));
            if let Some(at) = found {
                self.holds.remove(range.start + at);
                self.shift_offsets(table, -1);
            }
        }
        // The entry that was last now lives in `slot`: its holds follow it.
        let moved_from = u32::try_from(self.entries.len()).unwrap_or(u32::MAX);
        let Some(moved) = self.entries.get(index) else {
            return;
        };
        let tables: Vec<TableIndex> = moved.tables().collect();
        for table in tables {
            let range = self.range(table);
            let holds = self.holds.get_mut(range).unwrap_or_default();
            for hold in holds.iter_mut().filter(|h| h.slot == moved_from) {
                hold.slot = slot;
            }
        }
    }
}

/// Table ids come from staff configuration, not from guests, so a fast non-keyed hash is safe.
fn table_hash(table: &TableId) -> u64 {
    rustc_hash::FxBuildHasher.hash_one(table)
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
                .bookings()
                .map(|(id, b)| Occupancy::of(book.date, Some(id), &b))
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

    fn hold(table_ids: &[&str], start: Minute, party_size: u16) -> Booking {
        Booking {
            table_ids: table_ids.iter().map(|t| table(t)).collect(),
            start,
            held_until: start + 60,
            party_size,
        }
    }

    #[test]
    fn ids_come_back_exactly_as_given() {
        let mut book = DayBook::new(RestaurantId::parse("r").unwrap(), date(2026, 12, 8));
        let ids = [
            "0192e3c4-5b6a-7c8d-9e0f-a1b2c3d4e5f6",
            "0192E3C4-5B6A-7C8D-9E0F-A1B2C3D4E5F6",
            "0192e3c45b6a7c8d9e0fa1b2c3d4e5f6",
            "guest-42",
        ];
        for (i, text) in ids.iter().enumerate() {
            book.allocate(id(text), hold(&["T1"], 600 + 60 * i as Minute, 2));
        }
        let mut expected: Vec<&str> = ids.to_vec();
        expected.sort_unstable();
        let listed: Vec<String> = book.bookings().map(|(id, _)| id.to_string()).collect();
        assert_eq!(listed, expected);
        for (i, text) in ids.iter().enumerate() {
            assert_eq!(
                book.booking(&id(text)).unwrap().start,
                600 + 60 * i as Minute
            );
        }
        // The uppercase twin of a UUID is another id.
        book.release(&id(ids[1]), 0);
        assert!(book.booking(&id(ids[0])).is_some());
        assert!(book.booking(&id(ids[1])).is_none());
    }

    #[test]
    fn removing_a_booking_keeps_the_others_holds() {
        let mut book = DayBook::new(RestaurantId::parse("r").unwrap(), date(2026, 12, 8));
        book.allocate(id("a"), hold(&["T1"], 600, 2));
        book.allocate(id("b"), hold(&["T2"], 600, 3));
        book.allocate(id("c"), hold(&["T1", "T2"], 720, 4));
        // "c" moves into "a"'s place: its holds must still block, and still be its own.
        book.release(&id("a"), 0);
        assert!(book.is_free(&table("T1"), 600, 660, None));
        assert!(!book.is_free(&table("T1"), 720, 780, None));
        assert!(!book.is_free(&table("T2"), 720, 780, None));
        assert!(book.is_free(&table("T2"), 720, 780, Some(&id("c"))));
        assert!(!book.is_free(&table("T2"), 600, 660, Some(&id("c"))));
        assert_eq!(book.guests_starting_near(720, Some(&id("c"))), 0);
        assert_eq!(book.guests_starting_near(720, None), 4);
        assert_eq!(
            book.booking(&id("c")).unwrap().table_ids,
            [table("T1"), table("T2")]
        );
        // Replacing a hold moves it too.
        book.allocate(id("b"), hold(&["T1"], 840, 3));
        assert!(book.is_free(&table("T2"), 600, 660, None));
        assert!(!book.is_free(&table("T1"), 840, 900, None));
        assert!(!book.is_free(&table("T2"), 720, 780, None));
        assert_eq!(book.len(), 2);
    }

    #[test]
    fn a_new_table_that_sorts_first_keeps_the_others_holds() {
        let mut book = DayBook::new(RestaurantId::parse("r").unwrap(), date(2026, 12, 8));
        book.allocate(id("a"), hold(&["T5"], 600, 2));
        book.allocate(id("b"), hold(&["T4", "T2"], 600, 6));
        book.allocate(id("c"), hold(&["T1"], 720, 2));
        for name in ["T5", "T4", "T2"] {
            assert!(!book.is_free(&table(name), 600, 660, None), "{name}");
        }
        assert!(!book.is_free(&table("T1"), 720, 780, None));
        assert!(book.is_free(&table("T1"), 600, 660, None));
        assert_eq!(
            book.booking(&id("b")).unwrap().table_ids,
            [table("T4"), table("T2")]
        );
        assert_eq!(book.booking(&id("a")).unwrap().table_ids, [table("T5")]);
    }

    #[test]
    fn equal_day_books_need_not_be_built_in_the_same_order() {
        let mut one = DayBook::new(RestaurantId::parse("r").unwrap(), date(2026, 12, 8));
        let mut two = one.clone();
        one.allocate(id("a"), hold(&["T1"], 600, 2));
        one.allocate(id("b"), hold(&["T2"], 600, 3));
        two.allocate(id("b"), hold(&["T2"], 600, 3));
        two.allocate(id("a"), hold(&["T1"], 600, 2));
        assert_eq!(one, two);
        two.release(&id("a"), 630);
        assert_ne!(one, two);
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
