//! The listings' indexes, written the way a log-structured merge tree writes.
//!
//! A listing needs the reservations of a (restaurant, service date) and of a user. Kept as
//! SQLite indexes on `reservations`, every booking inserted into a random leaf of each: under
//! load, two pages read back and two pages written to the WAL per booking, 17 % of the server's
//! CPU (`host-server/PERFORMANCE.md`, section 12). Instead, each booking appends one *hint* row
//! to `hint_log` (its right edge stays in the page cache), in the same transaction as the
//! reservation, and the log is merged into the sorted `day_hints` and `user_hints` tables once
//! it holds [`MERGE_AT`] rows: sorted, a merge writes each leaf once for all the hints that
//! land in it. The log's rows are also held in memory ([`Pending`]), where the listings read
//! them besides the merged tables.
//!
//! A hint says that a reservation belongs, or once belonged, to a day: hints are only added
//! (a modification that moves a reservation adds one for the new day), never removed. Listings
//! read each hinted reservation's current row and keep the ones that are on the day now; the
//! day hints are at the same time the index of as-of queries (every day a reservation ever
//! belonged to).
//!
//! Readers take the in-memory hints before they query SQLite, and the applier changes them only
//! after its transaction has committed, so a reader never misses a hint: one taken before a
//! merge is still in memory, one taken after it finds the merge committed.

use std::collections::HashMap;
use std::ops::RangeBounds;

use reservation_core::Date;
use rusqlite::{Connection, params};

use super::ProjectionError;

/// Hint rows the log holds before they are merged. Each merge of `n` rows into tables of `l`
/// leaves writes about `l * (1 - e^(-n/l))` leaves; the rows cost about 80 bytes each in
/// memory until then.
pub const MERGE_AT: usize = 16_384;

/// "Reservation `reservation_id` of user `user_id` is (or was) on `date` at `restaurant_id`."
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hint {
    pub restaurant_id: String,
    pub date: Date,
    pub user_id: String,
    pub reservation_id: String,
}

/// The rows of `hint_log`, in memory: one string of text, fixed-size entries and each
/// restaurant id once, rather than three allocations per hint (about 80 bytes per hint with
/// the server's ids).
#[derive(Debug, Default, Clone)]
pub(crate) struct Pending {
    /// Each hint's user id and reservation id.
    text: String,
    entries: Vec<Entry>,
    restaurants: Vec<String>,
    restaurant_index: HashMap<String, usize>,
}

/// A hint: its restaurant's place in [`Pending::restaurants`], and where its strings end in
/// [`Pending::text`] (they start where the hint before it ends).
#[derive(Debug, Clone, Copy)]
struct Entry {
    restaurant: usize,
    user_end: usize,
    reservation_end: usize,
    date: Date,
}

impl Pending {
    /// Room for `hints` hints: filled once, the memory is kept across merges rather than
    /// grown again each time (growing copies, and the copies raised the peak memory).
    pub(crate) fn with_capacity(hints: usize) -> Self {
        let hints = hints.min(MERGE_AT);
        Pending {
            text: String::with_capacity(hints.saturating_mul(48)),
            entries: Vec::with_capacity(hints),
            ..Pending::default()
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Empties it, keeping its memory.
    pub(crate) fn clear(&mut self) {
        self.text.clear();
        self.entries.clear();
        self.restaurants.clear();
        self.restaurant_index.clear();
    }

    pub(crate) fn push(&mut self, hint: &Hint) {
        let restaurant = match self.restaurant_index.get(&hint.restaurant_id) {
            Some(&known) => known,
            None => {
                let new = self.restaurants.len();
                self.restaurants.push(hint.restaurant_id.clone());
                self.restaurant_index
                    .insert(hint.restaurant_id.clone(), new);
                new
            }
        };
        self.text.push_str(&hint.user_id);
        let user_end = self.text.len();
        self.text.push_str(&hint.reservation_id);
        self.entries.push(Entry {
            restaurant,
            user_end,
            reservation_end: self.text.len(),
            date: hint.date,
        });
    }

    /// The ids hinted on `restaurant_id`'s service dates in `dates` (with repeats).
    pub(crate) fn on_days(
        &self,
        restaurant_id: &str,
        dates: impl RangeBounds<Date>,
    ) -> Vec<String> {
        self.ids_where(|hint| dates.contains(&hint.date) && hint.restaurant_id == restaurant_id)
    }

    /// The ids hinted for `user_id` (with repeats).
    pub(crate) fn of_user(&self, user_id: &str) -> Vec<String> {
        self.ids_where(|hint| hint.user_id == user_id)
    }

    fn ids_where(&self, keep: impl Fn(&HintRef<'_>) -> bool) -> Vec<String> {
        self.iter()
            .filter(|hint| keep(hint))
            .map(|hint| hint.reservation_id.to_owned())
            .collect()
    }

    fn iter(&self) -> impl Iterator<Item = HintRef<'_>> {
        (0..self.entries.len()).map(|i| self.get(i))
    }

    fn get(&self, i: usize) -> HintRef<'_> {
        let start = i
            .checked_sub(1)
            .and_then(|before| self.entries.get(before))
            .map_or(0, |before| before.reservation_end);
        let Some(entry) = self.entries.get(i) else {
            return HintRef::default();
        };
        let text = |from: usize, to: usize| self.text.get(from..to).unwrap_or_default();
        HintRef {
            restaurant_id: self
                .restaurants
                .get(entry.restaurant)
                .map_or("", String::as_str),
            user_id: text(start, entry.user_end),
            reservation_id: text(entry.user_end, entry.reservation_end),
            date: entry.date,
        }
    }

    /// The hints' positions, sorted by `key`: a merge writes them in key order without a
    /// second copy of their text.
    fn sorted_by<'a, K: Ord + 'a>(&'a self, key: impl Fn(HintRef<'a>) -> K) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.entries.len()).collect();
        order.sort_unstable_by_key(|&i| key(self.get(i)));
        order
    }
}

#[derive(Default)]
struct HintRef<'a> {
    restaurant_id: &'a str,
    user_id: &'a str,
    reservation_id: &'a str,
    date: Date,
}

impl<'a> HintRef<'a> {
    fn day_key(&self) -> (&'a str, Date, &'a str) {
        (self.restaurant_id, self.date, self.reservation_id)
    }

    fn user_key(&self) -> (&'a str, &'a str) {
        (self.user_id, self.reservation_id)
    }
}

impl<'a> From<&'a Hint> for HintRef<'a> {
    fn from(hint: &'a Hint) -> Self {
        HintRef {
            restaurant_id: &hint.restaurant_id,
            user_id: &hint.user_id,
            reservation_id: &hint.reservation_id,
            date: hint.date,
        }
    }
}

/// Appends a hint to the log (in the caller's transaction).
pub(crate) fn record(conn: &Connection, hint: &Hint) -> Result<(), ProjectionError> {
    conn.prepare_cached(
        "INSERT INTO hint_log (restaurant_id, date, user_id, reservation_id) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        hint.restaurant_id,
        hint.date.to_string(),
        hint.user_id,
        hint.reservation_id
    ])?;
    Ok(())
}

/// Moves every logged hint (`logged` and then `new`) into the sorted tables, in key order, and
/// empties the log (in the caller's transaction). The keys are sorted here rather than by an
/// `ORDER BY`: SQLite's sorter allocates through the C allocator, which kept about 5 MiB of
/// the server's memory after merges.
pub(crate) fn merge(
    conn: &Connection,
    logged: &Pending,
    new: &[Hint],
) -> Result<(), ProjectionError> {
    let mut new: Vec<HintRef<'_>> = new.iter().map(HintRef::from).collect();
    let mut day = conn.prepare_cached(
        "INSERT OR IGNORE INTO day_hints (restaurant_id, date, reservation_id) VALUES (?1, ?2, ?3)",
    )?;
    in_key_order(logged, &mut new, HintRef::day_key, |h| {
        day.execute(params![
            h.restaurant_id,
            h.date.to_string(),
            h.reservation_id
        ])
    })?;
    let mut user = conn.prepare_cached(
        "INSERT OR IGNORE INTO user_hints (user_id, reservation_id) VALUES (?1, ?2)",
    )?;
    in_key_order(logged, &mut new, HintRef::user_key, |h| {
        user.execute(params![h.user_id, h.reservation_id])
    })?;
    conn.execute("DELETE FROM hint_log", [])?;
    Ok(())
}

/// Calls `insert` for each hint of `logged` in the order of `key`, then for each of `new` in
/// that order.
fn in_key_order<'a, K: Ord + 'a>(
    logged: &'a Pending,
    new: &mut [HintRef<'a>],
    key: fn(&HintRef<'a>) -> K,
    mut insert: impl FnMut(&HintRef<'a>) -> rusqlite::Result<usize>,
) -> Result<(), ProjectionError> {
    for i in logged.sorted_by(|h| key(&h)) {
        insert(&logged.get(i))?;
    }
    new.sort_unstable_by_key(key);
    for hint in new.iter() {
        insert(hint)?;
    }
    Ok(())
}

/// The log's row count, to check that this process's copy of it is whole before a merge.
pub(crate) fn logged_rows(conn: &Connection) -> Result<usize, ProjectionError> {
    let n: i64 = conn.query_row("SELECT count(*) FROM hint_log", [], |row| row.get(0))?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// The log's rows, for the memory of a process that did not write them (at open, or after
/// another process wrote the read models).
pub(crate) fn load(conn: &Connection) -> Result<Pending, ProjectionError> {
    let mut stmt = conn.prepare_cached(
        "SELECT restaurant_id, date, user_id, reservation_id FROM hint_log ORDER BY seq",
    )?;
    let mut rows = stmt.query([])?;
    let mut pending = Pending::with_capacity(MERGE_AT);
    while let Some(row) = rows.next()? {
        let date: String = row.get(1)?;
        let date = date
            .parse()
            .map_err(|e| ProjectionError::Corrupt(format!("hint date {date:?}: {e}")))?;
        pending.push(&Hint {
            restaurant_id: row.get(0)?,
            date,
            user_id: row.get(2)?,
            reservation_id: row.get(3)?,
        });
    }
    Ok(pending)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn hint(restaurant: &str, date: &str, user: &str, id: &str) -> Hint {
        Hint {
            restaurant_id: restaurant.into(),
            date: date.parse().unwrap(),
            user_id: user.into(),
            reservation_id: id.into(),
        }
    }

    fn date(text: &str) -> Date {
        text.parse().unwrap()
    }

    #[test]
    fn pending_hints_are_found_by_day_and_by_user() {
        let mut pending = Pending::default();
        pending.push(&hint("r1", "2030-01-10", "u1", "a"));
        pending.push(&hint("r1", "2030-01-11", "u2", "b"));
        pending.push(&hint("r2", "2030-01-10", "u1", "c"));
        pending.push(&hint("r1", "2030-01-10", "u2", "b"));
        let (day, next) = (date("2030-01-10"), date("2030-01-11"));
        assert_eq!(pending.on_days("r1", day..=day), ["a", "b"]);
        assert_eq!(pending.on_days("r1", day..), ["a", "b", "b"]);
        assert_eq!(pending.on_days("r1", next..), ["b"]);
        assert_eq!(pending.on_days("r3", day..), Vec::<String>::new());
        assert_eq!(pending.of_user("u1"), ["a", "c"]);
        assert_eq!(pending.of_user("u"), Vec::<String>::new());
        assert_eq!(pending.len(), 4);
    }

    #[test]
    fn a_merge_moves_every_logged_hint_into_the_tables_once() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::projection::schema::migrate(&mut conn).unwrap();
        // More than two statements' worth of rows, repeats included, in no particular order.
        let mut logged = Pending::default();
        let mut expected_days = Vec::new();
        let mut expected_users = Vec::new();
        for i in 0..150 {
            let h = hint(
                &format!("r{}", i % 7),
                &format!("2030-01-{:02}", 10 + i % 5),
                &format!("u{}", i % 11),
                &format!("id-{}", (i * 37) % 140),
            );
            record(&conn, &h).unwrap();
            logged.push(&h);
            expected_days.push((
                h.restaurant_id.clone(),
                h.date.to_string(),
                h.reservation_id.clone(),
            ));
            expected_users.push((h.user_id.clone(), h.reservation_id.clone()));
        }
        let new = [
            hint("r0", "2030-01-10", "u0", "new-1"),
            hint("r9", "2030-02-01", "u9", "new-2"),
        ];
        for h in &new {
            record(&conn, h).unwrap();
            expected_days.push((
                h.restaurant_id.clone(),
                h.date.to_string(),
                h.reservation_id.clone(),
            ));
            expected_users.push((h.user_id.clone(), h.reservation_id.clone()));
        }
        expected_days.sort();
        expected_days.dedup();
        expected_users.sort();
        expected_users.dedup();
        assert_eq!(logged_rows(&conn).unwrap(), 152);

        merge(&conn, &logged, &new).unwrap();
        let days: Vec<(String, String, String)> = conn
            .prepare("SELECT restaurant_id, date, reservation_id FROM day_hints ORDER BY 1, 2, 3")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let users: Vec<(String, String)> = conn
            .prepare("SELECT user_id, reservation_id FROM user_hints ORDER BY 1, 2")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(days, expected_days);
        assert_eq!(users, expected_users);
        assert_eq!(logged_rows(&conn).unwrap(), 0);
        assert_eq!(load(&conn).unwrap().len(), 0);
    }

    #[test]
    fn strings_are_not_confused_across_hint_boundaries() {
        // "u1" + "1x" and "u11" + "x" are the same text; the boundaries tell them apart.
        let mut pending = Pending::default();
        pending.push(&hint("r1", "2030-01-10", "u1", "1x"));
        pending.push(&hint("r1", "2030-01-10", "u11", "x"));
        let day = date("2030-01-10");
        assert_eq!(pending.on_days("r1", day..=day), ["1x", "x"]);
        assert_eq!(pending.of_user("u1"), ["1x"]);
        assert_eq!(pending.of_user("u11"), ["x"]);
        // Emptied and filled again.
        pending.clear();
        assert_eq!(pending.len(), 0);
        assert!(pending.of_user("u1").is_empty());
        pending.push(&hint("r2", "2030-01-10", "u1", "z"));
        assert_eq!(pending.on_days("r2", day..=day), ["z"]);
        assert!(pending.on_days("r1", day..=day).is_empty());
    }
}
