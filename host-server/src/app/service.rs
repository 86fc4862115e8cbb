//! The application service: load → decide → append, with retries.
//!
//! A command names the streams it needs (`reservation_core::streams_to_load`). Their folded
//! states come from the [`StreamCache`] when present (with the version they reflect), else from
//! the store. The core decides; its events are grouped by `event.stream()` into one atomic
//! append in which **every stream the decision read carries its expected version** (streams
//! only read get an empty write, which asserts the version). So a stale cache entry can only
//! make the append fail with a conflict, never record a decision taken on old state. On a
//! conflict the streams are brought up to date (events after the cached version) and the
//! command is decided again, at most [`MAX_ATTEMPTS`] times, with random backoff.
//!
//! When the decision records nothing (a refusal, an idempotent repeat), there is no append to
//! check the versions; then the streams that came from the cache are re-read from the store
//! and, if any had moved on, the command is decided again on fresh state.
//!
//! A booking therefore costs one append and no read once its restaurant and day are cached,
//! however long the restaurant's history: streams are cut per restaurant, day and reservation.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use jiff::Timestamp;
use reservation_core::command::Command;
use reservation_core::day_book::DayBook;
use reservation_core::event::Event;
use reservation_core::ids::{ReservationId, RestaurantId};
use reservation_core::reservation::Reservation;
use reservation_core::restaurant::Restaurant;
use reservation_core::stream::StreamId;
use reservation_core::{Date, DateTime, DomainError, State, decide, evolve, streams_to_load};

use super::cache::{Cached, Fragment, StreamCache};
use super::clock::{Clock, civil_in};
use crate::store::{EventStore, NewEvent, RecordedEvent, StoreError, StreamWrite};

/// Attempts per command before giving up on a contended stream.
pub const MAX_ATTEMPTS: u32 = 10;

/// Histogram: how long a booking waited for its day's line. With [`APPEND_DURATION`] it tells
/// where a slow booking spent its time (the rest is deciding and HTTP).
pub const DAY_LINE_WAIT: &str = "reservation_day_line_wait_seconds";
/// Histogram: how long an append took to be durable (queue, commit and fsync), per attempt.
pub const APPEND_DURATION: &str = "reservation_append_duration_seconds";

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The core refused the command; nothing was recorded.
    #[error("{0}")]
    Domain(DomainError),
    /// The request failed field validation (every problem, each with its field).
    #[error("invalid request ({} problems)", .0.len())]
    Invalid(Vec<DomainError>),
    /// Other writers kept winning for [`MAX_ATTEMPTS`] attempts.
    #[error("gave up after {0} conflicting attempts")]
    Contention(u32),
    #[error(transparent)]
    Store(StoreError),
    /// A stored event this build cannot read.
    #[error("stream {stream} holds an event this build cannot read at version {version}: {detail}")]
    Corrupt {
        stream: String,
        version: u64,
        detail: String,
    },
}

impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        AppError::Domain(e)
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        AppError::Store(e)
    }
}

/// What a command did.
#[derive(Debug)]
pub struct Outcome {
    /// The loaded streams with the new events folded in (after an append, without the day
    /// books, which move into the cache).
    pub state: State,
    /// The events recorded (none for an idempotent repeat or a no-op change).
    pub events: Vec<Event>,
    /// The same events as stored (positions, versions, commit time).
    pub recorded: Vec<RecordedEvent>,
}

/// A stream as one attempt saw it.
#[derive(Debug, Clone)]
struct Loaded {
    name: String,
    version: u64,
    fragment: Fragment,
    /// Read from the store during this attempt (else taken from the cache, or assumed empty).
    checked: bool,
    /// Removed from the cache for this command, which alone holds it (see [`App::execute_all`]).
    taken: bool,
}

pub struct App {
    store: Arc<dyn EventStore>,
    clock: Arc<dyn Clock>,
    cache: StreamCache,
    /// Bookings for the same day wait in line here instead of racing each other into
    /// conflicts (lock striping by day-book stream name).
    day_locks: Vec<tokio::sync::Mutex<()>>,
    hasher: std::hash::RandomState,
    /// The newest position this process appended (for read-your-writes on the read side).
    written: AtomicU64,
}

/// Lock stripes for [`App::execute_all`]'s day-book serialisation.
const DAY_LOCKS: usize = 4096;

impl App {
    pub fn new(store: Arc<dyn EventStore>, clock: Arc<dyn Clock>, cache_streams: usize) -> Self {
        App {
            store,
            clock,
            cache: StreamCache::new(cache_streams),
            day_locks: (0..DAY_LOCKS)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
            hasher: std::hash::RandomState::new(),
            written: AtomicU64::new(0),
        }
    }

    pub fn store(&self) -> &Arc<dyn EventStore> {
        &self.store
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The restaurant's wall-clock time now.
    pub fn civil_now(&self, timezone: &str) -> DateTime {
        civil_in(self.clock.now(), timezone)
    }

    /// The newest position this process appended (0: none yet).
    pub fn written_position(&self) -> u64 {
        self.written.load(Ordering::Acquire)
    }

    /// Runs one command.
    pub async fn execute(&self, command: Command) -> Result<Outcome, AppError> {
        self.execute_all(vec![command]).await
    }

    /// Runs commands about the same streams as one decision: each is decided on the state the
    /// previous ones leave, and all their events are appended atomically (or none).
    pub async fn execute_all(&self, mut commands: Vec<Command>) -> Result<Outcome, AppError> {
        let kind = commands.first().map_or("none", Command::type_name);
        // Only one booking per day decides at a time in this process: the others would lose
        // the append anyway (the day book's version moves) and decide again. Holding the day's
        // line, the booking also takes the day book out of the cache and changes it in place
        // (copying a busy day's book on every booking cost more than deciding it); it goes back
        // when the booking is recorded or refused. Anyone else meanwhile reads it from the store.
        let (_in_line, take) = match commands.as_slice() {
            [Command::RequestReservation(c)] => {
                let day = StreamId::DayBook(c.restaurant_id.clone(), c.date);
                let stripe = usize::try_from(
                    std::hash::BuildHasher::hash_one(&self.hasher, day.to_string())
                        % DAY_LOCKS as u64,
                )
                .unwrap_or(0);
                let waiting = std::time::Instant::now();
                let in_line = self.day_locks[stripe].lock().await;
                metrics::histogram!(DAY_LINE_WAIT).record(waiting.elapsed());
                (Some(in_line), Some(day))
            }
            _ => (None, None),
        };
        let mut refresh = false;
        for attempt in 1..=MAX_ATTEMPTS {
            if attempt > 1 {
                metrics::counter!("reservation_command_retries_total", "command" => kind)
                    .increment(1);
            }
            let mut loaded = self.load_streams(&commands, refresh, take.as_ref()).await?;
            let initial = assemble(&mut loaded);
            let now = match &initial.restaurant {
                Some(r) => self.civil_now(&r.timezone),
                None => civil_in(self.clock.now(), "UTC"),
            };
            for command in &mut commands {
                set_now(command, now);
            }
            let mut state = initial;
            let mut events = Vec::new();
            let mut refused = None;
            for command in &commands {
                match decide(command, &state) {
                    Ok(decided) => {
                        for event in &decided {
                            state = evolve(state, event);
                        }
                        events.extend(decided);
                    }
                    Err(e) => {
                        refused = Some(e);
                        break;
                    }
                }
            }
            if refused.is_some() || events.is_empty() {
                // A single command that records nothing left the state as loaded: give the taken
                // day book back to its entry.
                restore_taken(&mut loaded, &mut state);
                // Nothing to append, so nothing checks the versions: re-read what came from the
                // cache, and decide again if any of it had moved on.
                if self.any_moved_on(&mut loaded).await? {
                    refresh = true;
                    continue;
                }
                self.put_back_taken(&loaded);
                metrics::counter!("reservation_commands_total", "command" => kind, "outcome" => if refused.is_some() { "refused" } else { "unchanged" }).increment(1);
                return match refused {
                    Some(e) => Err(AppError::Domain(e)),
                    None => Ok(Outcome {
                        state,
                        events,
                        recorded: Vec::new(),
                    }),
                };
            }
            let writes = match group_writes(&loaded, &events) {
                Ok(writes) => writes,
                Err(stream) => {
                    // The core named a stream it did not ask for: load it and decide again.
                    tracing::warn!(%stream, "an event names a stream that was not loaded; reloading");
                    refresh = true;
                    continue;
                }
            };
            let appending = std::time::Instant::now();
            let appended = self.store.append(writes).await;
            metrics::histogram!(APPEND_DURATION).record(appending.elapsed());
            match appended {
                Ok(recorded) => {
                    if let Some(last) = recorded.last() {
                        self.written.fetch_max(last.position, Ordering::AcqRel);
                    }
                    self.remember_written(&loaded, &mut state, &events);
                    metrics::counter!("reservation_commands_total", "command" => kind, "outcome" => "recorded").increment(1);
                    return Ok(Outcome {
                        state,
                        events,
                        recorded,
                    });
                }
                Err(StoreError::Conflict {
                    stream,
                    expected,
                    actual,
                }) => {
                    metrics::counter!("reservation_write_conflicts_total", "command" => kind)
                        .increment(1);
                    tracing::debug!(%stream, expected, actual, attempt, "version conflict; deciding again");
                    refresh = true;
                    backoff(attempt).await;
                }
                Err(other) => return Err(AppError::Store(other)),
            }
        }
        metrics::counter!("reservation_commands_total", "command" => kind, "outcome" => "contention").increment(1);
        Err(AppError::Contention(MAX_ATTEMPTS))
    }

    /// Loads what `commands` need: their first streams, then for commands about an existing
    /// reservation the streams that reservation names (restaurant, day books).
    async fn load_streams(
        &self,
        commands: &[Command],
        refresh: bool,
        take: Option<&StreamId>,
    ) -> Result<BTreeMap<StreamId, Loaded>, AppError> {
        let mut loaded = BTreeMap::new();
        for command in commands {
            for stream in streams_to_load(command, None) {
                // A new booking's reservation stream is almost always empty: assume so (the
                // append expects version 0, so a repeat or a clash is caught and re-read).
                let assume_empty = matches!(
                    (command, &stream),
                    (Command::RequestReservation(_), StreamId::Reservation(_))
                );
                let take = take == Some(&stream);
                self.load_into(&mut loaded, stream, refresh, assume_empty, take)
                    .await?;
            }
        }
        for command in commands {
            if matches!(command, Command::RequestReservation(_)) {
                continue;
            }
            let Some(id) = command.reservation_id() else {
                continue;
            };
            let reservation = loaded
                .get(&StreamId::Reservation(id.clone()))
                .and_then(|l| match &l.fragment {
                    Fragment::Reservation(Some(r)) => Some(Arc::clone(r)),
                    _ => None,
                });
            if let Some(reservation) = reservation {
                for stream in streams_to_load(command, Some(&reservation)) {
                    self.load_into(&mut loaded, stream, refresh, false, false)
                        .await?;
                }
            }
        }
        Ok(loaded)
    }

    async fn load_into(
        &self,
        loaded: &mut BTreeMap<StreamId, Loaded>,
        stream: StreamId,
        refresh: bool,
        assume_empty: bool,
        take: bool,
    ) -> Result<(), AppError> {
        if loaded.contains_key(&stream) {
            return Ok(());
        }
        let name = stream.to_string();
        let cached = if take {
            self.cache.take(&name)
        } else {
            self.cache.get(&name)
        };
        let entry = match cached {
            Some(cached) if !refresh => Loaded {
                name,
                version: cached.version,
                fragment: cached.fragment,
                checked: false,
                taken: take,
            },
            Some(cached) => self.catch_up(&stream, name, cached).await?,
            None if assume_empty && !refresh => Loaded {
                name,
                version: 0,
                fragment: empty_fragment(&stream),
                checked: false,
                taken: false,
            },
            None => {
                self.catch_up(
                    &stream,
                    name,
                    Cached {
                        version: 0,
                        fragment: empty_fragment(&stream),
                    },
                )
                .await?
            }
        };
        loaded.insert(stream, entry);
        Ok(())
    }

    /// Brings `cached` up to date with the events stored after its version, and caches it.
    async fn catch_up(
        &self,
        stream: &StreamId,
        name: String,
        cached: Cached,
    ) -> Result<Loaded, AppError> {
        let records = self.store.load(&name, cached.version).await?;
        let mut version = cached.version;
        let mut fragment = cached.fragment;
        if !records.is_empty() {
            let mut state = state_of(stream, fragment);
            for record in &records {
                let event = decode(record)?;
                state = evolve(state, &event);
                version = record.stream_version;
            }
            fragment = fragment_of(stream, &mut state);
            if cacheable(stream) {
                self.cache.put(
                    &name,
                    Cached {
                        version,
                        fragment: fragment.clone(),
                    },
                );
            }
        } else if version == 0 && cacheable(stream) {
            // Remember empty streams too: a new day is empty until booked.
            self.cache.put(
                &name,
                Cached {
                    version,
                    fragment: fragment.clone(),
                },
            );
        }
        Ok(Loaded {
            name,
            version,
            fragment,
            checked: true,
            taken: false,
        })
    }

    /// Returns taken entries to the cache, as they are.
    fn put_back_taken(&self, loaded: &BTreeMap<StreamId, Loaded>) {
        for entry in loaded.values().filter(|l| l.taken) {
            self.cache.put(
                &entry.name,
                Cached {
                    version: entry.version,
                    fragment: entry.fragment.clone(),
                },
            );
        }
    }

    /// Re-reads the streams of `loaded` that were not read from the store in this attempt;
    /// true if any of them had moved on.
    async fn any_moved_on(
        &self,
        loaded: &mut BTreeMap<StreamId, Loaded>,
    ) -> Result<bool, AppError> {
        let mut moved = false;
        for (stream, entry) in loaded.iter_mut().filter(|(_, l)| !l.checked) {
            let cached = Cached {
                version: entry.version,
                fragment: entry.fragment.clone(),
            };
            let fresh = self.catch_up(stream, entry.name.clone(), cached).await?;
            moved |= fresh.version != entry.version;
            let taken = entry.taken;
            *entry = fresh;
            entry.taken = taken;
        }
        Ok(moved)
    }

    /// Caches the streams just written at their new versions. Day books move into the cache
    /// (callers get the restaurant and the reservations in the outcome, not the day books).
    fn remember_written(
        &self,
        loaded: &BTreeMap<StreamId, Loaded>,
        state: &mut State,
        events: &[Event],
    ) {
        let mut counts: BTreeMap<StreamId, u64> = BTreeMap::new();
        for event in events {
            *counts.entry(event.stream()).or_default() += 1;
        }
        for (stream, count) in counts {
            if !cacheable(&stream) {
                continue;
            }
            let Some(entry) = loaded.get(&stream) else {
                continue;
            };
            let fragment = match &stream {
                StreamId::Restaurant(_) => Fragment::Restaurant(state.restaurant.clone()),
                StreamId::DayBook(_, date) => Fragment::DayBook(cacheable_day_book(state, *date)),
                StreamId::Reservation(id) => {
                    Fragment::Reservation(state.reservations.get(id).cloned().map(Arc::new))
                }
            };
            self.cache.put(
                &entry.name,
                Cached {
                    version: entry.version + count,
                    fragment,
                },
            );
        }
    }

    /// A restaurant's configuration as stored now.
    pub async fn restaurant(&self, id: &RestaurantId) -> Result<Option<Arc<Restaurant>>, AppError> {
        let stream = StreamId::Restaurant(id.clone());
        match self.read_fresh(&stream).await?.fragment {
            Fragment::Restaurant(r) => Ok(r),
            _ => Ok(None),
        }
    }

    /// A restaurant's day book as stored now (empty if nothing was ever booked that day).
    pub async fn day_book(&self, id: &RestaurantId, date: Date) -> Result<DayBook, AppError> {
        let stream = StreamId::DayBook(id.clone(), date);
        match self.read_fresh(&stream).await?.fragment {
            Fragment::DayBook(Some(book)) => Ok(Arc::unwrap_or_clone(book)),
            _ => Ok(DayBook::new(id.clone(), date)),
        }
    }

    async fn read_fresh(&self, stream: &StreamId) -> Result<Loaded, AppError> {
        let name = stream.to_string();
        let cached = self.cache.get(&name).unwrap_or(Cached {
            version: 0,
            fragment: empty_fragment(stream),
        });
        self.catch_up(stream, name, cached).await
    }

    /// The reservation as its first event left it: the outcome a repeated booking returns.
    pub async fn first_outcome(&self, id: &ReservationId) -> Result<Option<Reservation>, AppError> {
        let stream = StreamId::Reservation(id.clone());
        let records = self.store.load(&stream.to_string(), 0).await?;
        let Some(first) = records.first() else {
            return Ok(None);
        };
        let mut state = evolve(State::default(), &decode(first)?);
        Ok(state.reservations.remove(id))
    }
}

/// Random backoff before attempt `attempt + 1`: up to 0.5 ms × 2^attempt (capped at 32 ms).
async fn backoff(attempt: u32) {
    let ceiling_us = 500u64 << attempt.min(6);
    tokio::time::sleep(Duration::from_micros(fastrand::u64(
        ceiling_us / 4..=ceiling_us,
    )))
    .await;
}

/// The stored event as the core's `Event`.
pub fn decode(record: &RecordedEvent) -> Result<Event, AppError> {
    serde_json::from_str::<Event>(&record.payload).map_err(|e| AppError::Corrupt {
        stream: record.stream.clone(),
        version: record.stream_version,
        detail: e.to_string(),
    })
}

/// The appends for `events`: one write per loaded stream, each with the version the decision
/// saw; streams only read get an empty write that asserts their version. `Err(stream)` if an
/// event names a stream that was not loaded.
fn group_writes(
    loaded: &BTreeMap<StreamId, Loaded>,
    events: &[Event],
) -> Result<Vec<StreamWrite>, StreamId> {
    let mut writes: Vec<(StreamId, StreamWrite)> = Vec::with_capacity(loaded.len());
    for event in events {
        let stream = event.stream();
        let new = NewEvent {
            event_type: event.type_name().to_owned(),
            schema_version: event.version(),
            payload: serde_json::to_string(event).map_err(|_| stream.clone())?,
        };
        match writes.iter_mut().find(|(s, _)| s == &stream) {
            Some((_, write)) => write.events.push(new),
            None => {
                let entry = loaded.get(&stream).ok_or_else(|| stream.clone())?;
                let write = StreamWrite {
                    stream: entry.name.clone(),
                    expected_version: entry.version,
                    events: vec![new],
                };
                writes.push((stream, write));
            }
        }
    }
    for (stream, entry) in loaded {
        if !writes.iter().any(|(s, _)| s == stream) {
            writes.push((
                stream.clone(),
                StreamWrite {
                    stream: entry.name.clone(),
                    expected_version: entry.version,
                    events: Vec::new(),
                },
            ));
        }
    }
    Ok(writes.into_iter().map(|(_, write)| write).collect())
}

/// The decision state made of the loaded streams.
fn assemble(loaded: &mut BTreeMap<StreamId, Loaded>) -> State {
    let mut state = State::default();
    for (stream, entry) in loaded.iter_mut() {
        if let (true, StreamId::DayBook(_, date), Fragment::DayBook(book @ Some(_))) =
            (entry.taken, stream, &mut entry.fragment)
        {
            if let Some(book) = book.take() {
                state.day_books.insert(*date, Arc::unwrap_or_clone(book));
            }
            continue;
        }
        match (stream, &entry.fragment) {
            (StreamId::Restaurant(_), Fragment::Restaurant(Some(r))) => {
                state.restaurant = Some(Arc::clone(r))
            }
            (StreamId::DayBook(_, date), Fragment::DayBook(Some(book))) => {
                state.day_books.insert(*date, (**book).clone());
            }
            (StreamId::Reservation(id), Fragment::Reservation(Some(r))) => {
                state.reservations.insert(id.clone(), (**r).clone());
            }
            _ => {}
        }
    }
    state
}

/// Gives taken day books back to their entries (moving them out of `state`), after a single
/// command that recorded nothing.
fn restore_taken(loaded: &mut BTreeMap<StreamId, Loaded>, state: &mut State) {
    for (stream, entry) in loaded.iter_mut().filter(|(_, l)| l.taken) {
        if let StreamId::DayBook(_, date) = stream {
            entry.fragment = Fragment::DayBook(state.day_books.remove(date).map(Arc::new));
        }
    }
}

/// Restaurant configurations and day books are read by every booking and stay small: they are
/// cached. A reservation's stream is read only by the few commands about it (and by repeats of
/// its booking): it is loaded when needed, so memory does not grow with the number of bookings.
fn cacheable(stream: &StreamId) -> bool {
    !matches!(stream, StreamId::Reservation(_))
}

fn empty_fragment(stream: &StreamId) -> Fragment {
    match stream {
        StreamId::Restaurant(_) => Fragment::Restaurant(None),
        StreamId::DayBook(..) => Fragment::DayBook(None),
        StreamId::Reservation(_) => Fragment::Reservation(None),
    }
}

/// A state holding just this stream's fragment.
fn state_of(stream: &StreamId, fragment: Fragment) -> State {
    let mut state = State::default();
    match (stream, fragment) {
        (StreamId::Restaurant(_), Fragment::Restaurant(r)) => state.restaurant = r,
        (StreamId::DayBook(_, date), Fragment::DayBook(Some(book))) => {
            state.day_books.insert(*date, Arc::unwrap_or_clone(book));
        }
        (StreamId::Reservation(id), Fragment::Reservation(Some(r))) => {
            state
                .reservations
                .insert(id.clone(), Arc::unwrap_or_clone(r));
        }
        _ => {}
    }
    state
}

/// This stream's fragment of `state`.
fn fragment_of(stream: &StreamId, state: &mut State) -> Fragment {
    match stream {
        StreamId::Restaurant(_) => Fragment::Restaurant(state.restaurant.take()),
        StreamId::DayBook(_, date) => Fragment::DayBook(cacheable_day_book(state, *date)),
        StreamId::Reservation(id) => {
            Fragment::Reservation(state.reservations.remove(id).map(Arc::new))
        }
    }
}

/// Takes a day book out of `state` to be cached (the cache packs it).
fn cacheable_day_book(state: &mut State, date: Date) -> Option<Arc<DayBook>> {
    state.day_books.remove(&date).map(Arc::new)
}

/// Sets the civil `now` a command carries.
fn set_now(command: &mut Command, now: DateTime) {
    match command {
        Command::RequestReservation(c) => c.now = now,
        Command::CancelReservation(c) => c.now = now,
        Command::ModifyReservation(c) => c.now = now,
        Command::SeatReservation(c) => c.now = now,
        Command::CompleteReservation(c) => c.now = now,
        Command::MarkNoShow(c) => c.now = now,
        Command::RegisterRestaurant(_)
        | Command::ChangeTables(_)
        | Command::ChangeOpeningHours(_)
        | Command::ChangePolicy(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::clock::FixedClock;
    use crate::store::memory::MemoryStore;
    use reservation_core::command::{
        ChangeTables, RegisterRestaurant, RequestReservation, SeatReservation,
    };
    use reservation_core::ids::UserId;
    use reservation_core::reservation::Status;
    use reservation_core::time::ClockTime;
    use reservation_core::{ErrorCode, command::CancelReservation};

    fn restaurant() -> Restaurant {
        serde_json::from_value(serde_json::json!({
            "id": "r1", "name": "Tiny", "timezone": "Europe/Berlin",
            "tables": [{"id": "T1", "seats": 4}],
            "opening_hours": {"wednesday": ["18:00-23:00"]}
        }))
        .unwrap()
    }

    /// Two app instances on one store: each has its own cache, like two server processes.
    fn two_apps() -> (App, App) {
        let store: Arc<dyn EventStore> = Arc::new(MemoryStore::new());
        let clock: Arc<dyn Clock> =
            Arc::new(FixedClock::new("2026-12-01T10:00:00Z".parse().unwrap()));
        (
            App::new(Arc::clone(&store), Arc::clone(&clock), 1000),
            App::new(store, clock, 1000),
        )
    }

    /// Registers [`restaurant`] through `app`.
    async fn register(app: &App) {
        app.execute(Command::RegisterRestaurant(RegisterRestaurant {
            restaurant: restaurant(),
        }))
        .await
        .unwrap();
    }

    fn book(id: &str, party_size: u16) -> Command {
        Command::RequestReservation(RequestReservation {
            reservation_id: ReservationId::parse(id).unwrap(),
            restaurant_id: RestaurantId::parse("r1").unwrap(),
            user_id: UserId::parse("u1").unwrap(),
            guest_name: "Ada".into(),
            party_size,
            date: "2026-12-02".parse().unwrap(),
            time: ClockTime::parse("19:00").unwrap(),
            now: DateTime::default(),
        })
    }

    fn status(outcome: &Outcome, id: &str) -> Status {
        outcome.state.reservations[&ReservationId::parse(id).unwrap()].status
    }

    #[tokio::test]
    async fn bookings_share_the_cached_restaurant_instead_of_copying_it() {
        let (a, _) = two_apps();
        register(&a).await;
        let first = a.execute(book("s1", 2)).await.unwrap();
        let second = a.execute(book("s2", 2)).await.unwrap();
        let (first, second) = (first.state.restaurant, second.state.restaurant);
        assert!(
            first
                .as_ref()
                .zip(second.as_ref())
                .is_some_and(|(one, other)| Arc::ptr_eq(one, other)),
            "{first:?} / {second:?}"
        );
    }

    #[tokio::test]
    async fn a_stale_day_book_causes_a_retry_never_a_double_booking() {
        let (a, b) = two_apps();
        register(&a).await;
        let r1 = RestaurantId::parse("r1").unwrap();
        // A caches the day while it is empty; then B books its only table.
        assert!(
            a.day_book(&r1, "2026-12-02".parse().unwrap())
                .await
                .unwrap()
                .bookings()
                .next()
                .is_none()
        );
        let on_b = b.execute(book("b1", 4)).await.unwrap();
        assert_eq!(status(&on_b, "b1"), Status::Confirmed);
        // A decides on its stale copy, its append conflicts, it re-reads and decides again.
        let on_a = a.execute(book("a1", 4)).await.unwrap();
        assert_eq!(status(&on_a, "a1"), Status::Rejected);
        let records = a.store().read_all(0, 100).await.unwrap();
        let allocations = records
            .iter()
            .filter(|r| r.event_type == "tables_allocated")
            .count();
        assert_eq!(allocations, 1, "exactly one party holds the table");
    }

    #[tokio::test]
    async fn a_lifecycle_command_sees_what_another_instance_did() {
        let (a, b) = two_apps();
        register(&a).await;
        b.execute(book("x", 2)).await.unwrap();
        let x = || ReservationId::parse("x").unwrap();
        // A reads the reservation (a refused completion loads it)...
        let refused = a
            .execute(Command::CompleteReservation(
                reservation_core::command::CompleteReservation {
                    reservation_id: x(),
                    now: DateTime::default(),
                },
            ))
            .await
            .unwrap_err();
        assert!(matches!(refused, AppError::Domain(ref e) if e.code == ErrorCode::NotCompletable));
        // ...then B cancels it behind A's back.
        let cancelled = b
            .execute(Command::CancelReservation(CancelReservation {
                reservation_id: x(),
                by: reservation_core::reservation::Actor::Staff,
                now: DateTime::default(),
            }))
            .await
            .unwrap();
        assert_eq!(status(&cancelled, "x"), Status::Cancelled);
        // A sees the cancellation: seating is refused.
        let seat = a
            .execute(Command::SeatReservation(SeatReservation {
                reservation_id: x(),
                now: DateTime::default(),
            }))
            .await;
        assert!(
            matches!(seat, Err(AppError::Domain(ref e)) if e.code == ErrorCode::NotSeatable),
            "{seat:?}"
        );
    }

    #[tokio::test]
    async fn a_refusal_from_a_stale_cache_is_checked_against_the_store() {
        let (a, b) = two_apps();
        register(&a).await;
        // B caches the configuration: a party of 8 is too large for it.
        let refused = b.execute(book("big1", 8)).await.unwrap_err();
        assert!(matches!(refused, AppError::Domain(ref e) if e.code == ErrorCode::PartyTooLarge));
        // A adds a table for 8; B's cache does not know.
        let tables = serde_json::from_value(
            serde_json::json!([{"id": "T1", "seats": 4}, {"id": "T8", "seats": 8}]),
        )
        .unwrap();
        a.execute(Command::ChangeTables(ChangeTables {
            restaurant_id: RestaurantId::parse("r1").unwrap(),
            tables,
            combinations: vec![],
        }))
        .await
        .unwrap();
        let booked = b.execute(book("big2", 8)).await.unwrap();
        assert_eq!(status(&booked, "big2"), Status::Confirmed);
    }

    #[tokio::test]
    async fn an_idempotent_repeat_records_nothing_and_keeps_the_first_outcome() {
        let (a, b) = two_apps();
        register(&a).await;
        let first = a.execute(book("same", 2)).await.unwrap();
        assert_eq!(first.recorded.len(), 2);
        let again = a.execute(book("same", 2)).await.unwrap();
        assert!(again.events.is_empty() && again.recorded.is_empty());
        // Another instance (empty cache: it assumes the id is new) meets the conflict, re-reads
        // and takes the idempotent path too.
        let elsewhere = b.execute(book("same", 2)).await.unwrap();
        assert!(elsewhere.events.is_empty());
        let clash = b.execute(book("same", 3)).await.unwrap_err();
        assert!(
            matches!(clash, AppError::Domain(ref e) if e.code == ErrorCode::ReservationIdConflict)
        );
        let first_outcome = b
            .first_outcome(&ReservationId::parse("same").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first_outcome.status, Status::Confirmed);
        assert_eq!(a.store().head().await.unwrap(), 3);
    }
}
