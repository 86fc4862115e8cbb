//! An in-process cache of folded stream states (restaurant configurations, day books,
//! reservations), each with the stream version it reflects. A command decides on the cached
//! state and appends with that version as the expectation, so a stale entry can only cause a
//! conflict (then the entry is brought up to date with the events after its version), never a
//! wrong decision. Bounded: when a shard is full, its least recently used entries go.
//!
//! Day books are kept packed ([`PackedDayBook`], about 25 bytes a booking instead of 100 to
//! 200 unpacked): a day book that is not cached is folded again from its stream, one random read
//! of the event log per booking of the day, and under steady load that reload was a third of
//! the server's CPU once the open days outgrew the cache. Packing and unpacking cost a few
//! microseconds per command.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use reservation_core::day_book::{DayBook, PackedDayBook};
use reservation_core::reservation::Reservation;
use reservation_core::restaurant::Restaurant;

const SHARDS: usize = 16;

/// A stream's folded state.
#[derive(Debug, Clone)]
pub enum Fragment {
    Restaurant(Option<Arc<Restaurant>>),
    DayBook(Option<Arc<DayBook>>),
    Reservation(Option<Arc<Reservation>>),
}

/// A fragment and the number of events folded into it.
#[derive(Debug, Clone)]
pub struct Cached {
    pub version: u64,
    pub fragment: Fragment,
}

impl Fragment {
    /// What the cache keeps of the fragment: day books packed, the rest as they are.
    fn keep(self) -> Kept {
        match self {
            Fragment::DayBook(Some(book)) => Kept::DayBook(book.pack()),
            fragment => Kept::Fragment(fragment),
        }
    }
}

/// A fragment as the cache holds it.
enum Kept {
    Fragment(Fragment),
    DayBook(PackedDayBook),
}

impl Kept {
    /// Roughly how much memory this holds, in units of one packed booking (about 25 bytes);
    /// an entry itself (its key, slot and header) weighs about eight.
    fn weight(&self) -> usize {
        match self {
            Kept::Fragment(Fragment::Restaurant(r)) => {
                8 + r
                    .as_ref()
                    .map_or(0, |r| 4 * (r.tables.len() + r.combinations.len()))
            }
            Kept::Fragment(Fragment::DayBook(_)) => 6,
            Kept::Fragment(Fragment::Reservation(_)) => 24,
            Kept::DayBook(book) => 8 + book.len(),
        }
    }

    /// The fragment; `None` if a packed day book does not unpack (never expected: a miss).
    fn fragment(&self) -> Option<Fragment> {
        match self {
            Kept::Fragment(fragment) => Some(fragment.clone()),
            Kept::DayBook(book) => book
                .unpack()
                .map(|book| Fragment::DayBook(Some(Arc::new(book)))),
        }
    }
}

struct Slot {
    version: u64,
    kept: Kept,
    weight: usize,
    used: u64,
}

impl Slot {
    fn cached(&self) -> Option<Cached> {
        Some(Cached {
            version: self.version,
            fragment: self.kept.fragment()?,
        })
    }
}

#[derive(Default)]
struct Shard {
    slots: HashMap<String, Slot>,
    weight: usize,
}

/// The cache. Its capacity is a weight budget ([`Fragment::weight`]): about one unit per
/// cached stream plus one per booking held in cached day books.
pub struct StreamCache {
    shards: Vec<Mutex<Shard>>,
    per_shard: usize,
    tick: AtomicU64,
    hasher: RandomState,
}

impl StreamCache {
    /// A cache holding about `capacity` weight units.
    pub fn new(capacity: usize) -> Self {
        StreamCache {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            per_shard: capacity.div_ceil(SHARDS).max(1),
            tick: AtomicU64::new(0),
            hasher: RandomState::new(),
        }
    }

    fn shard(&self, stream: &str) -> &Mutex<Shard> {
        let index = usize::try_from(self.hasher.hash_one(stream) % SHARDS as u64).unwrap_or(0);
        &self.shards[index]
    }

    pub fn get(&self, stream: &str) -> Option<Cached> {
        let tick = self.tick.fetch_add(1, Ordering::Relaxed);
        let mut shard = self
            .shard(stream)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let slot = shard.slots.get_mut(stream)?;
        slot.used = tick;
        slot.cached()
    }

    /// Removes the stream's entry and returns it: its holder then owns the only reference and can
    /// change the state in place instead of copying it.
    pub fn take(&self, stream: &str) -> Option<Cached> {
        let mut shard = self
            .shard(stream)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let slot = shard.slots.remove(stream)?;
        shard.weight -= slot.weight;
        slot.cached()
    }

    /// Stores `cached` unless the cache already holds a newer version of the stream.
    pub fn put(&self, stream: &str, cached: Cached) {
        let tick = self.tick.fetch_add(1, Ordering::Relaxed);
        let version = cached.version;
        // Packed before the lock is taken.
        let kept = cached.fragment.keep();
        let weight = kept.weight();
        let mut shard = self
            .shard(stream)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let shard = &mut *shard;
        match shard.slots.get_mut(stream) {
            Some(slot) => {
                slot.used = tick;
                if slot.version <= version {
                    shard.weight = shard.weight - slot.weight + weight;
                    slot.weight = weight;
                    slot.version = version;
                    slot.kept = kept;
                }
            }
            None => {
                shard.weight += weight;
                shard.slots.insert(
                    stream.to_owned(),
                    Slot {
                        version,
                        kept,
                        weight,
                        used: tick,
                    },
                );
            }
        }
        if shard.weight > self.per_shard {
            evict_oldest(shard, self.per_shard - self.per_shard / 4);
        }
    }

    /// Streams cached.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).slots.len())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Total weight cached.
    pub fn weight(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).weight)
            .sum()
    }
}

/// Drops least recently used entries until the shard weighs at most `target` (one sort,
/// amortised over the inserts that filled the last quarter).
fn evict_oldest(shard: &mut Shard, target: usize) {
    let mut by_age: Vec<(u64, usize)> = shard
        .slots
        .values()
        .map(|slot| (slot.used, slot.weight))
        .collect();
    by_age.sort_unstable();
    let mut excess = shard.weight.saturating_sub(target);
    let mut threshold = None;
    for (used, weight) in by_age {
        if excess == 0 {
            break;
        }
        excess = excess.saturating_sub(weight);
        threshold = Some(used);
    }
    if let Some(threshold) = threshold {
        let mut freed = 0;
        shard.slots.retain(|_, slot| {
            let keep = slot.used > threshold;
            if !keep {
                freed += slot.weight;
            }
            keep
        });
        shard.weight -= freed;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reservation_fragment(version: u64) -> Cached {
        Cached {
            version,
            fragment: Fragment::Reservation(None),
        }
    }

    #[test]
    fn a_taken_entry_leaves_the_cache_and_its_weight() {
        let cache = StreamCache::new(1000);
        cache.put("s", reservation_fragment(3));
        assert_eq!(cache.take("s").unwrap().version, 3);
        assert!(cache.get("s").is_none());
        assert!(cache.take("s").is_none());
        assert_eq!(cache.weight(), 0);
    }

    #[test]
    fn newer_versions_win_and_older_ones_are_ignored() {
        let cache = StreamCache::new(1000);
        cache.put("s", reservation_fragment(3));
        cache.put("s", reservation_fragment(2));
        assert_eq!(cache.get("s").unwrap().version, 3);
        cache.put("s", reservation_fragment(5));
        assert_eq!(cache.get("s").unwrap().version, 5);
        assert!(cache.get("other").is_none());
    }

    #[test]
    fn the_cache_stays_bounded_and_keeps_recently_used_entries() {
        let cache = StreamCache::new(6400);
        cache.put("hot", reservation_fragment(1));
        for i in 0..10_000 {
            cache.put(&format!("s{i}"), reservation_fragment(1));
            if i % 3 == 0 {
                assert!(cache.get("hot").is_some(), "hot entry evicted at {i}");
            }
        }
        let entry = reservation_fragment(1).fragment.keep().weight();
        assert!(
            cache.weight() <= 6400 + entry * SHARDS,
            "{}",
            cache.weight()
        );
    }

    #[test]
    fn a_day_book_comes_back_as_it_went_in() {
        use reservation_core::day_book::Booking;
        use reservation_core::ids::{ReservationId, RestaurantId, TableId};
        let mut book = DayBook::new(
            RestaurantId::parse("r1").unwrap(),
            "2026-12-02".parse().unwrap(),
        );
        book.allocate(
            ReservationId::parse("01a21149-37d8-7672-aeac-74a1eb0fdc8c").unwrap(),
            Booking {
                table_ids: vec![TableId::parse("T2").unwrap(), TableId::parse("T3").unwrap()],
                start: 720,
                held_until: 795,
                party_size: 6,
            },
        );
        let cache = StreamCache::new(1000);
        let put = |version| Cached {
            version,
            fragment: Fragment::DayBook(Some(Arc::new(book.clone()))),
        };
        cache.put("day", put(4));
        let back = |cached: Option<Cached>| match cached.map(|c| (c.version, c.fragment)) {
            Some((version, Fragment::DayBook(Some(back)))) => (version, Arc::unwrap_or_clone(back)),
            _ => panic!("no day book"),
        };
        assert_eq!(back(cache.get("day")), (4, book.clone()));
        assert_eq!(back(cache.take("day")), (4, book));
        assert!(cache.get("day").is_none());
    }

    #[test]
    fn big_day_books_weigh_more() {
        use reservation_core::day_book::Booking;
        let cache = StreamCache::new(320);
        use reservation_core::ids::{ReservationId, RestaurantId, TableId};
        let mut book = DayBook::new(
            RestaurantId::parse("r1").unwrap(),
            "2026-12-02".parse().unwrap(),
        );
        for i in 0..50 {
            let booking = Booking {
                table_ids: vec![TableId::parse("T1").unwrap()],
                start: i * 60,
                held_until: i * 60 + 60,
                party_size: 2,
            };
            book.allocate(ReservationId::parse(format!("b{i}")).unwrap(), booking);
        }
        let heavy = Fragment::DayBook(Some(Arc::new(book)));
        assert_eq!(heavy.clone().keep().weight(), 58);
        for i in 0..20 {
            cache.put(
                &format!("day{i}"),
                Cached {
                    version: 1,
                    fragment: heavy.clone(),
                },
            );
        }
        assert!(cache.weight() <= 320 + 58 * SHARDS, "{}", cache.weight());
        assert!(cache.len() < 20);
    }
}
