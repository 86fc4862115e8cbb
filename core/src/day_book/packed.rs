//! A day book packed into bytes, for hosts that keep many of them (a decision cache).
//!
//! A busy service decides on the day books of every open date of every restaurant, and a day
//! book the host no longer holds must be folded again from its stream: one random read per
//! booking of the day. Unpacked, with the indexes that make decisions fast, a day book takes
//! about 100 bytes per booking; packed, about 25 (a UUID reservation id is 16 of them), so the
//! same memory keeps four times as many days. Unpacking rebuilds the indexes: a few
//! microseconds for a day of a few dozen bookings, far less than reading the stream.
//!
//! The format is private to this build (hosts never store it): restaurant id, date, tables,
//! then one record per booking, integers as LEB128 varints (signed ones zigzagged).

use jiff::civil::Date;

use super::{DayBook, Entry, Hold, Key, NO_TABLE, TableIndex, table_hash};
use crate::ids::{RestaurantId, TableId};
use crate::time::Minute;

const UUID_KEY: u8 = 0;
const TEXT_KEY: u8 = 1;

/// A [`DayBook`] as bytes; [`PackedDayBook::unpack`] gives it back, equal to what was packed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedDayBook {
    bookings: usize,
    bytes: Box<[u8]>,
}

impl DayBook {
    pub fn pack(&self) -> PackedDayBook {
        let mut out = Vec::with_capacity(32 + self.entries.len() * 24);
        put_text(&mut out, self.restaurant_id.as_str());
        put_signed(&mut out, i64::from(self.date.year()));
        out.push(self.date.month().unsigned_abs());
        out.push(self.date.day().unsigned_abs());
        put_unsigned(&mut out, self.tables.len() as u64);
        for table in &self.tables {
            put_text(&mut out, table.as_str());
        }
        put_unsigned(&mut out, self.entries.len() as u64);
        for entry in &self.entries {
            match &entry.key {
                Key::Uuid(bytes) => {
                    out.push(UUID_KEY);
                    out.extend_from_slice(bytes);
                }
                Key::Text(text) => {
                    out.push(TEXT_KEY);
                    put_text(&mut out, text);
                }
            }
            put_signed(&mut out, i64::from(entry.start));
            put_signed(
                &mut out,
                i64::from(entry.held_until) - i64::from(entry.start),
            );
            put_unsigned(&mut out, u64::from(entry.party_size));
            let held = usize::from(entry.first_table != NO_TABLE)
                + entry.more_tables.as_ref().map_or(0, |more| more.len());
            put_unsigned(&mut out, held as u64);
            for table in entry.tables() {
                put_unsigned(&mut out, u64::from(table));
            }
        }
        PackedDayBook {
            bookings: self.entries.len(),
            bytes: out.into_boxed_slice(),
        }
    }
}

impl PackedDayBook {
    /// Bookings in the day book.
    pub fn len(&self) -> usize {
        self.bookings
    }

    pub fn is_empty(&self) -> bool {
        self.bookings == 0
    }

    /// Bytes held.
    pub fn size(&self) -> usize {
        self.bytes.len()
    }

    /// The day book that was packed. `None` only if the bytes were not made by
    /// [`DayBook::pack`] of this build, which the type rules out; a host treats it as a miss.
    pub fn unpack(&self) -> Option<DayBook> {
        let mut reader = Reader(&self.bytes);
        let restaurant_id = RestaurantId::trusted(reader.text()?.to_owned());
        let year = i16::try_from(reader.signed()?).ok()?;
        let month = i8::try_from(reader.byte()?).ok()?;
        let day = i8::try_from(reader.byte()?).ok()?;
        let date = Date::new(year, month, day).ok()?;
        let table_count = reader.count()?;
        let mut tables = Vec::with_capacity(table_count);
        for _ in 0..table_count {
            tables.push(TableId::trusted(reader.text()?.to_owned()));
        }
        let entry_count = reader.count()?;
        let mut entries = Vec::with_capacity(entry_count);
        let mut holds = Vec::new();
        for slot in 0..entry_count {
            let key = match reader.byte()? {
                UUID_KEY => Key::Uuid(reader.array()?),
                TEXT_KEY => Key::Text(reader.text()?.into()),
                _ => return None,
            };
            let start = Minute::try_from(reader.signed()?).ok()?;
            let held_until =
                Minute::try_from(i64::from(start).checked_add(reader.signed()?)?).ok()?;
            let party_size = u16::try_from(reader.unsigned()?).ok()?;
            let held = reader.count()?;
            let mut table = || {
                let table = TableIndex::try_from(reader.unsigned()?).ok()?;
                ((table as usize) < tables.len()).then_some(table)
            };
            let first_table = if held == 0 { NO_TABLE } else { table()? };
            let more: Box<[TableIndex]> = (1..held).map(|_| table()).collect::<Option<_>>()?;
            let entry = Entry {
                key,
                start,
                held_until,
                first_table,
                party_size,
                more_tables: (!more.is_empty()).then_some(more),
            };
            let slot = u32::try_from(slot).ok()?;
            holds.extend(entry.tables().map(|table| {
                (
                    table,
                    Hold {
                        start,
                        end: held_until,
                        slot,
                    },
                )
            }));
            entries.push(entry);
        }
        if !reader.0.is_empty() {
            return None;
        }
        // The indexes: holds grouped by table, sorted by start within a table.
        holds.sort_unstable_by_key(|(table, hold)| (*table, hold.start, hold.slot));
        let mut offsets = Vec::with_capacity(tables.len() + 1);
        let mut at = 0usize;
        for index in 0..tables.len() {
            offsets.push(u32::try_from(at).ok()?);
            at += holds[at..]
                .iter()
                .take_while(|(table, _)| *table as usize == index)
                .count();
        }
        offsets.push(u32::try_from(at).ok()?);
        Some(DayBook {
            restaurant_id,
            date,
            entries,
            table_hashes: tables.iter().map(table_hash).collect(),
            tables,
            holds: holds.into_iter().map(|(_, hold)| hold).collect(),
            offsets,
        })
    }
}

fn put_unsigned(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn put_signed(out: &mut Vec<u8>, value: i64) {
    put_unsigned(out, ((value << 1) ^ (value >> 63)) as u64);
}

fn put_text(out: &mut Vec<u8>, text: &str) {
    put_unsigned(out, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}

/// Reads what the `put_` functions wrote; `None` past the end or on a malformed value.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn byte(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    fn unsigned(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f).checked_shl(shift)?;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    fn signed(&mut self) -> Option<i64> {
        let raw = self.unsigned()?;
        Some(((raw >> 1) as i64) ^ -((raw & 1) as i64))
    }

    /// A length: never more than the bytes left, so a bad one cannot allocate much.
    fn count(&mut self) -> Option<usize> {
        let count = usize::try_from(self.unsigned()?).ok()?;
        (count <= self.0.len()).then_some(count)
    }

    fn text(&mut self) -> Option<&'a str> {
        let len = self.count()?;
        std::str::from_utf8(self.take(len)?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::day_book::Booking;
    use crate::ids::ReservationId;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn booking(tables: &[&str], start: Minute, party_size: u16) -> Booking {
        Booking {
            table_ids: tables.iter().map(|t| TableId::parse(*t).unwrap()).collect(),
            start,
            held_until: start + 75,
            party_size,
        }
    }

    fn same_indexes(a: &DayBook, b: &DayBook) {
        assert_eq!(a, b);
        for table in &a.tables {
            let mut left: Vec<_> = a.holds(table).iter().map(|h| (h.start, h.end)).collect();
            let mut right: Vec<_> = b.holds(table).iter().map(|h| (h.start, h.end)).collect();
            left.sort_unstable();
            right.sort_unstable();
            assert_eq!(left, right, "holds of {table:?}");
        }
    }

    #[test]
    fn a_packed_day_book_unpacks_to_the_same_bookings_and_holds() {
        // Given a day with UUID and client ids, a combination and a released booking
        let mut book = DayBook::new(RestaurantId::parse("bistro").unwrap(), date(2026, 12, 2));
        let uuid = ReservationId::parse("01a21149-37d8-7672-aeac-74a1eb0fdc8c").unwrap();
        book.allocate(uuid.clone(), booking(&["T3"], 720, 2));
        book.allocate(
            ReservationId::parse("client-7").unwrap(),
            booking(&["T1", "T2"], 735, 6),
        );
        book.allocate(
            ReservationId::parse("gone").unwrap(),
            booking(&["T1"], 600, 2),
        );
        book.release(&ReservationId::parse("gone").unwrap(), 0);
        book.allocate(
            ReservationId::parse("walk-in").unwrap(),
            booking(&[], -30, 1),
        );

        // When it is packed and unpacked
        let packed = book.pack();
        let back = packed.unpack().unwrap();

        // Then it is the same day book, indexes included
        assert_eq!(packed.len(), 3);
        same_indexes(&book, &back);
        assert!(!back.is_free(&TableId::parse("T2").unwrap(), 760, 770, None));
        assert!(back.is_free(
            &TableId::parse("T2").unwrap(),
            760,
            770,
            Some(&ReservationId::parse("client-7").unwrap())
        ));
        assert_eq!(back.booking(&uuid), book.booking(&uuid));
    }

    #[test]
    fn a_uuid_booking_packs_into_about_25_bytes() {
        let mut book = DayBook::new(RestaurantId::parse("r").unwrap(), date(2026, 12, 2));
        let size = |book: &DayBook| book.pack().size();
        let empty = size(&book);
        for i in 0..40u32 {
            let id = format!("01a21149-37d8-7672-aeac-74a1eb0f{i:04x}");
            let table = format!("T{}", i % 20 + 1);
            book.allocate(
                ReservationId::parse(id).unwrap(),
                booking(&[&table], 660 + (i as Minute % 40) * 15, 4),
            );
        }
        let per_booking = (size(&book) - empty) as f64 / 40.0;
        assert!(per_booking < 26.0, "{per_booking} bytes per booking");
    }

    #[test]
    fn truncated_or_trailing_bytes_do_not_unpack() {
        let mut book = DayBook::new(RestaurantId::parse("r").unwrap(), date(2026, 12, 2));
        book.allocate(ReservationId::parse("a").unwrap(), booking(&["T1"], 720, 2));
        let packed = book.pack();
        for cut in 0..packed.bytes.len() {
            let short = PackedDayBook {
                bookings: 1,
                bytes: packed.bytes[..cut].into(),
            };
            assert!(short.unpack().is_none(), "cut at {cut}");
        }
        let mut long = packed.bytes.to_vec();
        long.push(0);
        let long = PackedDayBook {
            bookings: 1,
            bytes: long.into(),
        };
        assert!(long.unpack().is_none());
    }

    proptest! {
        #[test]
        fn any_day_book_survives_packing(
            ops in proptest::collection::vec(
                (0u8..12, proptest::collection::vec(0u8..6, 0..3), -200i32..3000, 1u16..20, any::<bool>()),
                0..40,
            )
        ) {
            let mut book = DayBook::new(RestaurantId::parse("r").unwrap(), date(2027, 1, 31));
            for (id, tables, start, party, release) in ops {
                let id = ReservationId::parse(format!("res-{id}")).unwrap();
                if release {
                    book.release(&id, start);
                } else {
                    let tables: Vec<String> = tables.iter().map(|t| format!("T{t}")).collect();
                    let tables: Vec<&str> = tables.iter().map(String::as_str).collect();
                    book.allocate(id, booking(&tables, start, party));
                }
            }
            let back = book.pack().unpack();
            prop_assert!(back.is_some());
            if let Some(back) = back {
                same_indexes(&book, &back);
            }
        }
    }
}
