//! The read models, projected from real core events stored by the real adapters (memory and
//! SQLite): listings, users, restaurants, sort order, re-application, checkpoint consistency
//! across reopen, rebuild == live, and as-of queries.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod projection_support;

use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use projection_support::*;
use reservation_core::reservation::Status;
use reservation_core::{Date, ErrorCode};
use reservation_server::projection::{
    ProjectionError, ReadModels, RestaurantView, day_as_of, rebuild_projections,
};
use reservation_server::store::{EventStore, NewEvent, RecordedEvent, StoreError, StreamWrite};
use reservation_server::view::ReservationView;

const NOW: &str = "2030-01-01T10:00";
const DAY: &str = "2030-01-10";
const NEXT_DAY: &str = "2030-01-11";

fn date(text: &str) -> Date {
    text.parse().unwrap()
}

fn ids(views: &[ReservationView]) -> Vec<&str> {
    views.iter().map(|v| v.id.as_str()).collect()
}

/// Instants between the scenario's steps, for as-of queries.
struct Marks {
    before_b: Timestamp,
    before_cancel: Timestamp,
    after_cancel: Timestamp,
    before_modify: Timestamp,
    after_modify: Timestamp,
}

/// A mark strictly between two appends, even with a coarse clock.
async fn mark() -> Timestamp {
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    let at = Timestamp::now();
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    at
}

/// Two restaurants and a day's worth of lifecycle: bookings (one moved by the flex), a
/// rejection, a cancellation, a modification across days, seat + complete, a no-show.
async fn scenario(store: &dyn EventStore) -> Marks {
    let hours = ["12:00-15:00", "18:00-23:00"];
    run(
        store,
        register(
            "r1",
            "Europe/Berlin",
            &[("T1", 2), ("T2", 4), ("T3", 4), ("T4", 6)],
            &hours,
        ),
    )
    .await;
    run(store, register("r2", "UTC", &[("T1", 4)], &["18:00-23:00"])).await;
    run(store, book("a-1", "r1", "u1", 2, DAY, "19:00", NOW)).await;
    let before_b = mark().await;
    run(store, book("b-1", "r1", "u2", 4, DAY, "18:30", NOW)).await;
    run(store, book("c-1", "r1", "u1", 2, NEXT_DAY, "12:00", NOW)).await;
    run(store, book("d-1", "r1", "u3", 6, DAY, "20:00", NOW)).await;
    // The only 6-seat table is taken from 20:00 to 21:00: rejected (and recorded).
    let rejected = run(store, book("d-0", "r1", "u4", 6, DAY, "20:00", NOW)).await;
    assert_eq!(rejected.len(), 1);
    run(
        store,
        book("e-1", "r2", "u1", 4, "2030-01-09", "19:00", NOW),
    )
    .await;
    // 20:45 does not fit a party of 6; the flex moves it to 21:00.
    run(store, book("g-1", "r1", "u6", 6, DAY, "20:45", NOW)).await;
    run(store, book("f-1", "r1", "u5", 2, DAY, "21:00", NOW)).await;
    let before_cancel = mark().await;
    run(
        store,
        change("cancel_reservation", "b-1", "2030-01-05T10:00"),
    )
    .await;
    let after_cancel = mark().await;
    run(
        store,
        book("h-1", "r1", "u2", 4, DAY, "20:45", "2030-01-05T11:00"),
    )
    .await;
    let before_modify = mark().await;
    run(store, modify("c-1", DAY, "13:00", "2030-01-05T12:00")).await;
    let after_modify = mark().await;
    run(store, change("seat_reservation", "a-1", "2030-01-10T19:05")).await;
    run(
        store,
        change("complete_reservation", "a-1", "2030-01-10T20:10"),
    )
    .await;
    run(store, change("mark_no_show", "f-1", "2030-01-10T21:30")).await;
    // Refused commands record nothing.
    let refused = execute(
        store,
        change("cancel_reservation", "a-1", "2030-01-10T21:00"),
    )
    .await
    .unwrap_err();
    assert_eq!(refused.code, ErrorCode::NotCancellable);
    Marks {
        before_b,
        before_cancel,
        after_cancel,
        before_modify,
        after_modify,
    }
}

#[tokio::test]
async fn listings_follow_the_reservation_lifecycle() {
    for backend in backends() {
        let store = backend.store.as_ref();
        scenario(store).await;
        let read = ReadModels::open(backend.dir.path()).unwrap();
        let head = store.head().await.unwrap();
        assert_eq!(
            read.catch_up(store).await.unwrap(),
            head,
            "{}",
            backend.name
        );
        assert_eq!(read.checkpoint().await.unwrap(), head);

        // Every reservation of the day in any status, by assigned start, then id; the modified
        // one moved in from the next day; the rejected one at its requested time.
        let day = read.day("r1", date(DAY)).await.unwrap();
        assert_eq!(
            ids(&day),
            ["c-1", "b-1", "a-1", "d-0", "d-1", "h-1", "f-1", "g-1"],
            "{}",
            backend.name
        );
        let status = |id: &str| day.iter().find(|v| v.id == id).unwrap().status;
        assert_eq!(status("a-1"), Status::Completed);
        assert_eq!(status("b-1"), Status::Cancelled);
        assert_eq!(status("c-1"), Status::Confirmed);
        assert_eq!(status("d-0"), Status::Rejected);
        assert_eq!(status("f-1"), Status::NoShow);
        let g = day.iter().find(|v| v.id == "g-1").unwrap();
        assert_eq!(
            (g.requested_time.to_string(), g.time.unwrap().to_string()),
            ("20:45".into(), "21:00".into())
        );
        let d0 = day.iter().find(|v| v.id == "d-0").unwrap();
        assert!(
            d0.time.is_none()
                && d0.table_ids.is_empty()
                && !d0.alternatives.as_ref().unwrap().is_empty()
        );
        assert!(
            read.day("r1", date(NEXT_DAY)).await.unwrap().is_empty(),
            "c-1 moved away"
        );
        assert!(read.day("r2", date(DAY)).await.unwrap().is_empty());
        assert_eq!(
            ids(&read.day("r2", date("2030-01-09")).await.unwrap()),
            ["e-1"]
        );

        // Each view is exactly what the core's own fold of the log gives.
        let oracle = fold_all(store).await;
        assert_eq!(oracle.reservations.len(), 9);
        for (id, reservation) in &oracle.reservations {
            let expected = ReservationView::from(reservation);
            assert_eq!(
                read.reservation(id.as_str()).await.unwrap().as_ref(),
                Some(&expected),
                "{id}"
            );
            assert_eq!(
                read.reservation_record(id.as_str()).await.unwrap().as_ref(),
                Some(reservation),
                "{id}"
            );
            assert!(
                read.user(&expected.user_id)
                    .await
                    .unwrap()
                    .contains(&expected),
                "{id}"
            );
            if expected.restaurant_id == "r1" {
                assert!(day.contains(&expected), "{id}");
            }
        }
        assert_eq!(read.reservation("nope").await.unwrap(), None);

        // A user's reservations across restaurants, by date then time.
        assert_eq!(ids(&read.user("u1").await.unwrap()), ["e-1", "c-1", "a-1"]);
        assert_eq!(ids(&read.user("u2").await.unwrap()), ["b-1", "h-1"]);
        assert!(read.user("nobody").await.unwrap().is_empty());

        // The restaurant: configuration plus counts; "upcoming" in the restaurant's own zone.
        let before_all: Timestamp = "2030-01-01T00:00:00Z".parse().unwrap();
        let view = read.restaurant_at("r1", before_all).await.unwrap().unwrap();
        assert_eq!(view.restaurant.id.as_str(), "r1");
        assert_eq!(view.restaurant.tables.len(), 4);
        assert_eq!(view.largest_party, 6);
        let counts = view.reservations;
        assert_eq!(
            (
                counts.total,
                counts.confirmed,
                counts.rejected,
                counts.cancelled,
                counts.seated,
                counts.completed,
                counts.no_show
            ),
            (8, 4, 1, 1, 0, 1, 1)
        );
        assert_eq!(counts.upcoming, 4);
        // 12:30 UTC is 13:30 in Berlin: c-1 (13:00) has started, the evening ones have not.
        let lunch: Timestamp = "2030-01-10T12:30:00Z".parse().unwrap();
        assert_eq!(
            read.restaurant_at("r1", lunch)
                .await
                .unwrap()
                .unwrap()
                .reservations
                .upcoming,
            3
        );
        assert_eq!(
            read.restaurant("r2")
                .await
                .unwrap()
                .unwrap()
                .reservations
                .total,
            1
        );
        assert!(read.restaurant("r9").await.unwrap().is_none());
        // The view's JSON is the restaurant's own shape plus the counts, and reads back.
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(json["timezone"], "Europe/Berlin");
        assert_eq!(json["reservations"]["completed"], 1);
        assert_eq!(
            serde_json::from_value::<RestaurantView>(json).unwrap(),
            view
        );
    }
}

/// Everything the listings answer for the scenario, as one comparable value.
async fn listings(read: &ReadModels) -> serde_json::Value {
    let mut days = Vec::new();
    for (restaurant, day) in [
        ("r1", DAY),
        ("r1", NEXT_DAY),
        ("r2", "2030-01-09"),
        ("r2", DAY),
    ] {
        days.push(serde_json::json!({
            "day": read.day(restaurant, date(day)).await.unwrap(),
            "ever": read.reservations_ever_on(restaurant, date(day)).await.unwrap(),
        }));
    }
    let mut users = Vec::new();
    for user in ["u1", "u2", "u3", "u4", "u5", "u6", "nobody"] {
        users.push(read.user(user).await.unwrap());
    }
    let mut restaurants = Vec::new();
    for at in [
        "2030-01-01T00:00:00Z",
        "2030-01-10T12:30:00Z",
        "2030-01-10T19:30:00Z",
    ] {
        for restaurant in ["r1", "r2"] {
            restaurants.push(
                read.restaurant_at(restaurant, at.parse().unwrap())
                    .await
                    .unwrap(),
            );
        }
    }
    serde_json::json!({ "days": days, "users": users, "restaurants": restaurants })
}

/// The hint log (see `projection::hints`) is merged into the listings' tables every
/// `merge_at` hints: wherever the merges fall, and whether hints are merged, still logged or
/// both, every listing, the as-of index and the dump are the same.
#[tokio::test]
async fn listings_are_the_same_wherever_the_hint_log_was_merged() {
    for backend in backends() {
        let store = backend.store.as_ref();
        scenario(store).await;
        let head = store.head().await.unwrap();
        let unmerged = ReadModels::open(&backend.dir.path().join("unmerged")).unwrap();
        unmerged.catch_up(store).await.unwrap();
        let expected = listings(&unmerged).await;
        assert_eq!(
            ids(&unmerged.day("r1", date(DAY)).await.unwrap()),
            ["c-1", "b-1", "a-1", "d-0", "d-1", "h-1", "f-1", "g-1"]
        );
        assert_eq!(
            unmerged
                .reservations_ever_on("r1", date(NEXT_DAY))
                .await
                .unwrap(),
            ["c-1"],
            "c-1 moved away from the next day"
        );
        let dump = unmerged.dump().await.unwrap();
        for merge_at in [1, 2, 3, 5, 8] {
            let dir = backend.dir.path().join(format!("merge-{merge_at}"));
            let read = ReadModels::open_merging_at(&dir, merge_at).unwrap();
            // One event per batch: merges fall between every pair of steps somewhere.
            for position in 1..=head {
                read.catch_up_to(store, position).await.unwrap();
            }
            let context = format!("{} merging at {merge_at}", backend.name);
            assert_eq!(listings(&read).await, expected, "{context}");
            assert_eq!(read.dump().await.unwrap(), dump, "{context}");
            // Reopened, a process reads the log's rows it did not write.
            drop(read);
            let read = ReadModels::open_merging_at(&dir, merge_at).unwrap();
            assert_eq!(listings(&read).await, expected, "{context}, reopened");
        }
        // Reopened with hints only in the log.
        drop(unmerged);
        let reopened = ReadModels::open(&backend.dir.path().join("unmerged")).unwrap();
        assert_eq!(listings(&reopened).await, expected, "{}", backend.name);
        // All merged at once.
        let once = ReadModels::open_merging_at(&backend.dir.path().join("once"), 1).unwrap();
        once.catch_up(store).await.unwrap();
        assert_eq!(listings(&once).await, expected, "{}", backend.name);
    }
}

/// Another process (`rebuild-projections`) writing the read models while this one runs: its
/// hints are seen once this process applies its next batch.
#[tokio::test]
async fn hints_logged_by_another_process_are_read_after_the_next_batch() {
    for backend in backends() {
        let store = backend.store.as_ref();
        run(
            store,
            register("r1", "UTC", &[("T1", 2), ("T2", 4)], &["18:00-23:00"]),
        )
        .await;
        run(store, book("a-1", "r1", "u1", 2, DAY, "19:00", NOW)).await;
        let dir = backend.dir.path().join("read");
        let this = ReadModels::open(&dir).unwrap();
        this.catch_up(store).await.unwrap();
        run(store, book("b-1", "r1", "u1", 4, DAY, "19:00", NOW)).await;
        // b-1's hint is logged by the other process only.
        let other = ReadModels::open(&dir).unwrap();
        other.catch_up(store).await.unwrap();
        run(store, book("c-1", "r1", "u1", 2, DAY, "20:00", NOW)).await;
        this.catch_up(store).await.unwrap();
        assert_eq!(
            ids(&this.day("r1", date(DAY)).await.unwrap()),
            ["a-1", "b-1", "c-1"],
            "{}",
            backend.name
        );
        assert_eq!(ids(&this.user("u1").await.unwrap()), ["a-1", "b-1", "c-1"]);

        // The other one rebuilds and merges everything; this one still lists all of it.
        drop(other);
        let other = ReadModels::open_merging_at(&dir, 1).unwrap();
        other.rebuild(store).await.unwrap();
        assert_eq!(
            ids(&this.day("r1", date(DAY)).await.unwrap()),
            ["a-1", "b-1", "c-1"]
        );
        run(store, book("d-1", "r1", "u1", 2, DAY, "21:00", NOW)).await;
        this.catch_up(store).await.unwrap();
        assert_eq!(
            ids(&this.user("u1").await.unwrap()),
            ["a-1", "b-1", "c-1", "d-1"],
            "{}",
            backend.name
        );
        let fresh = ReadModels::open(&backend.dir.path().join("fresh")).unwrap();
        fresh.catch_up(store).await.unwrap();
        assert_eq!(this.dump().await.unwrap(), fresh.dump().await.unwrap());
    }
}

/// Readers take the logged hints from memory before they query SQLite, and the applier changes
/// them only after it commits: a listing that starts after a booking was caught up always
/// shows it, also while merges run (one every third hint here) on another thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn listings_never_miss_a_caught_up_reservation_while_the_log_is_merged() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    let backend = backends().remove(1);
    assert_eq!(backend.name, "sqlite");
    let store = Arc::clone(&backend.store);
    let tables: Vec<(String, u16)> = (1..=40).map(|i| (format!("T{i}"), 2)).collect();
    let tables: Vec<(&str, u16)> = tables
        .iter()
        .map(|(id, seats)| (id.as_str(), *seats))
        .collect();
    run(
        store.as_ref(),
        register("r1", "UTC", &tables, &["10:00-23:00"]),
    )
    .await;
    let read = Arc::new(ReadModels::open_merging_at(&backend.dir.path().join("read"), 3).unwrap());
    let caught_up = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let mut readers = Vec::new();
    for _ in 0..3 {
        let (read, caught_up, done) =
            (Arc::clone(&read), Arc::clone(&caught_up), Arc::clone(&done));
        readers.push(tokio::spawn(async move {
            let mut listings = 0;
            while !done.load(Ordering::Acquire) {
                let known = caught_up.load(Ordering::Acquire);
                let day = read.day("r1", date(DAY)).await.unwrap();
                let user = read.user("u1").await.unwrap();
                assert!(day.len() >= known, "day listing: {} of {known}", day.len());
                assert!(
                    user.len() >= known,
                    "user listing: {} of {known}",
                    user.len()
                );
                listings += 1;
            }
            listings
        }));
    }
    for i in 0..60 {
        let time = format!("{}:{:02}", 10 + i / 4 % 12, i % 4 * 15);
        run(
            store.as_ref(),
            book(&format!("x-{i:02}"), "r1", "u1", 2, DAY, &time, NOW),
        )
        .await;
        read.catch_up(store.as_ref()).await.unwrap();
        caught_up.store(i + 1, Ordering::Release);
    }
    done.store(true, Ordering::Release);
    for reader in readers {
        assert!(reader.await.unwrap() > 0);
    }
    assert_eq!(read.day("r1", date(DAY)).await.unwrap().len(), 60);
    assert_eq!(read.user("u1").await.unwrap().len(), 60);
}

#[tokio::test]
async fn restaurant_configuration_changes_are_projected() {
    for backend in backends() {
        let store = backend.store.as_ref();
        run(store, register("r1", "UTC", &[("T1", 2)], &["12:00-15:00"])).await;
        let read = ReadModels::open(backend.dir.path()).unwrap();
        read.catch_up(store).await.unwrap();
        assert_eq!(
            read.restaurant("r1").await.unwrap().unwrap().largest_party,
            2
        );
        run(store, serde_json::json!({
            "type": "change_tables", "restaurant_id": "r1",
            "tables": [{"id": "T1", "seats": 2}, {"id": "T2", "seats": 4}, {"id": "T3", "seats": 4}],
            "combinations": [{"tables": ["T2", "T3"], "seats": 8}]
        }))
        .await;
        run(store, serde_json::json!({
            "type": "change_policy", "restaurant_id": "r1", "policy": {"turn_minutes": 90, "max_party_size": 6}
        }))
        .await;
        run(store, serde_json::json!({
            "type": "change_opening_hours", "restaurant_id": "r1", "opening_hours": {"friday": ["18:00-02:00"]}
        }))
        .await;
        read.catch_up(store).await.unwrap();
        let view = read.restaurant("r1").await.unwrap().unwrap();
        let oracle = fold_all(store).await;
        assert_eq!(
            Some(&view.restaurant),
            oracle.restaurant.as_deref(),
            "{}",
            backend.name
        );
        assert_eq!(view.restaurant.policy.turn_minutes, 90);
        assert_eq!(view.largest_party, 6);
        assert_eq!(view.reservations, Default::default());
    }
}

/// A store that hands out overlapping batches (as an at-least-once feed would): every
/// `read_all` starts a few events before the position asked for.
struct Overlapping(Arc<dyn EventStore>);

#[async_trait]
impl EventStore for Overlapping {
    async fn append(&self, writes: Vec<StreamWrite>) -> Result<Vec<RecordedEvent>, StoreError> {
        self.0.append(writes).await
    }
    async fn load(
        &self,
        stream: &str,
        after_version: u64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.0.load(stream, after_version).await
    }
    async fn read_all(&self, after: u64, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        self.0.read_all(after.saturating_sub(3), limit.min(4)).await
    }
    async fn head(&self) -> Result<u64, StoreError> {
        self.0.head().await
    }
}

#[tokio::test]
async fn events_at_or_below_the_checkpoint_are_never_applied_twice() {
    for backend in backends() {
        let store = backend.store.as_ref();
        scenario(store).await;
        let live = ReadModels::open(&backend.dir.path().join("live")).unwrap();
        live.catch_up(store).await.unwrap();
        let expected = live.dump().await.unwrap();

        let overlapping = Overlapping(Arc::clone(&backend.store));
        let read = ReadModels::open(&backend.dir.path().join("overlap")).unwrap();
        assert_eq!(
            read.catch_up(&overlapping).await.unwrap(),
            store.head().await.unwrap()
        );
        assert_eq!(read.dump().await.unwrap(), expected, "{}", backend.name);
        // Catching up again, or to an older position, changes nothing.
        read.catch_up(&overlapping).await.unwrap();
        read.catch_up_to(store, 3).await.unwrap();
        assert_eq!(read.dump().await.unwrap(), expected);
    }
}

#[tokio::test]
async fn the_checkpoint_survives_reopening_and_projection_continues_from_it() {
    for backend in backends() {
        let store = backend.store.as_ref();
        run(
            store,
            register("r1", "UTC", &[("T1", 2), ("T2", 4)], &["18:00-23:00"]),
        )
        .await;
        let first = run(store, book("a-1", "r1", "u1", 2, DAY, "19:00", NOW)).await;
        run(store, book("b-1", "r1", "u1", 4, DAY, "19:00", NOW)).await;
        let dir = backend.dir.path().join("read");
        {
            let read = ReadModels::open(&dir).unwrap();
            let position = first.last().unwrap().position;
            read.catch_up_to(store, position).await.unwrap();
            let checkpoint = read.checkpoint().await.unwrap();
            assert!(checkpoint >= position);
            // Dropped here, as a process that stops (the checkpoint is committed per batch).
        }
        run(
            store,
            change("cancel_reservation", "a-1", "2030-01-02T10:00"),
        )
        .await;
        let read = ReadModels::open(&dir).unwrap();
        let reopened = read.checkpoint().await.unwrap();
        assert!(reopened > 0, "{}: checkpoint lost on reopen", backend.name);
        read.catch_up(store).await.unwrap();
        let fresh = ReadModels::open(&backend.dir.path().join("fresh")).unwrap();
        fresh.catch_up(store).await.unwrap();
        assert_eq!(
            read.dump().await.unwrap(),
            fresh.dump().await.unwrap(),
            "{}",
            backend.name
        );
        assert_eq!(
            read.reservation("a-1").await.unwrap().unwrap().status,
            Status::Cancelled
        );
        assert_eq!(
            read.restaurant("r1")
                .await
                .unwrap()
                .unwrap()
                .reservations
                .cancelled,
            1
        );
    }
}

#[tokio::test]
async fn an_undecodable_event_stops_projection_before_it_without_losing_the_rest() {
    for backend in backends() {
        let store = backend.store.as_ref();
        run(store, register("r1", "UTC", &[("T1", 2)], &["18:00-23:00"])).await;
        run(store, book("a-1", "r1", "u1", 2, DAY, "19:00", NOW)).await;
        let bad = store
            .append(vec![StreamWrite {
                stream: "reservation:zz".into(),
                expected_version: 0,
                events: vec![NewEvent {
                    event_type: "reservation_confirmed".into(),
                    schema_version: 1,
                    payload: r#"{"type":"reservation_confirmed","version":1,"reservation_id":"#
                        .into(),
                }],
            }])
            .await
            .unwrap();
        let bad_position = bad[0].position;
        run(store, book("b-1", "r1", "u2", 2, DAY, "20:00", NOW)).await;
        let read = ReadModels::open(backend.dir.path()).unwrap();
        for _ in 0..2 {
            match read.catch_up(store).await {
                Err(ProjectionError::Undecodable { position, .. }) => {
                    assert_eq!(position, bad_position)
                }
                other => panic!(
                    "{}: expected an undecodable event, got {other:?}",
                    backend.name
                ),
            }
            assert_eq!(
                read.checkpoint().await.unwrap(),
                bad_position - 1,
                "stops just before it"
            );
        }
        assert!(
            read.reservation("a-1").await.unwrap().is_some(),
            "the events before it are applied"
        );
        assert!(
            read.reservation("b-1").await.unwrap().is_none(),
            "nothing after it is applied"
        );
        // An event filed under another stream than its own is refused the same way.
        let misfiled_store = reservation_server::store::memory::MemoryStore::new();
        let payload = store.read_all(0, 1).await.unwrap().remove(0).payload;
        misfiled_store
            .append(vec![StreamWrite {
                stream: "restaurant:other".into(),
                expected_version: 0,
                events: vec![NewEvent {
                    event_type: "restaurant_registered".into(),
                    schema_version: 1,
                    payload,
                }],
            }])
            .await
            .unwrap();
        let other = ReadModels::open(&backend.dir.path().join("misfiled")).unwrap();
        assert!(matches!(
            other.catch_up(&misfiled_store).await,
            Err(ProjectionError::WrongStream { position: 1, .. })
        ));
        assert_eq!(other.checkpoint().await.unwrap(), 0);
    }
}

#[tokio::test]
async fn rebuild_gives_exactly_the_live_read_models() {
    for backend in backends() {
        let store = backend.store.as_ref();
        let live_dir = backend.dir.path().join("live");
        let live = ReadModels::open(&live_dir).unwrap();
        // Live: caught up after every command (many one-event batches) and on reopen.
        run(
            store,
            register("r0", "UTC", &[("T1", 2), ("T2", 4)], &["18:00-23:00"]),
        )
        .await;
        live.catch_up(store).await.unwrap();
        let hours = ["12:00-15:00", "18:00-23:00"];
        run(
            store,
            register(
                "r3",
                "Europe/Berlin",
                &[("T1", 2), ("T2", 4), ("T3", 4), ("T4", 6)],
                &hours,
            ),
        )
        .await;
        for (i, time) in ["18:00", "18:00", "18:00", "19:00", "19:00", "19:00"]
            .iter()
            .enumerate()
        {
            run(
                store,
                book(&format!("x-{i}"), "r0", &format!("u{i}"), 2, DAY, time, NOW),
            )
            .await;
            live.catch_up(store).await.unwrap();
        }
        run(
            store,
            change("cancel_reservation", "x-1", "2030-01-02T10:00"),
        )
        .await;
        run(store, modify("x-0", NEXT_DAY, "20:00", "2030-01-02T10:00")).await;
        live.catch_up(store).await.unwrap();
        scenario(store).await;
        live.catch_up(store).await.unwrap();
        let live_dump = live.dump().await.unwrap();
        assert_eq!(live_dump["checkpoint"], store.head().await.unwrap());

        // In place, through the same handle.
        assert_eq!(
            live.rebuild(store).await.unwrap(),
            store.head().await.unwrap()
        );
        assert_eq!(
            live.dump().await.unwrap(),
            live_dump,
            "{}: rebuild in place",
            backend.name
        );
        // From scratch in another directory, through the CLI's entry point.
        let other = backend.dir.path().join("rebuilt");
        assert_eq!(
            rebuild_projections(&other, store).await.unwrap(),
            store.head().await.unwrap()
        );
        let rebuilt = ReadModels::open(&other).unwrap();
        assert_eq!(
            rebuilt.dump().await.unwrap(),
            live_dump,
            "{}: rebuild elsewhere",
            backend.name
        );
        assert_eq!(
            rebuilt.day("r0", date(DAY)).await.unwrap(),
            live.day("r0", date(DAY)).await.unwrap()
        );
        assert_eq!(
            rebuilt.day("r1", date(DAY)).await.unwrap(),
            live.day("r1", date(DAY)).await.unwrap()
        );
    }
}

#[tokio::test]
async fn as_of_shows_the_day_as_it_was_known_then() {
    for backend in backends() {
        let store = backend.store.as_ref();
        let marks = scenario(store).await;
        let read = ReadModels::open(backend.dir.path()).unwrap();
        let day_at = |at: Timestamp, day: &'static str| {
            let read = &read;
            async move { day_as_of(store, read, "r1", date(day), at).await.unwrap() }
        };
        let status_of = |views: &[ReservationView], id: &str| {
            views.iter().find(|v| v.id == id).map(|v| v.status)
        };

        // Before b-1 was booked it is not there; a-1 is.
        let early = day_at(marks.before_b, DAY).await;
        assert_eq!(ids(&early), ["a-1"], "{}", backend.name);

        // Before and after the cancellation.
        let before = day_at(marks.before_cancel, DAY).await;
        assert_eq!(status_of(&before, "b-1"), Some(Status::Confirmed));
        assert_eq!(ids(&before), ["b-1", "a-1", "d-0", "d-1", "f-1", "g-1"]);
        let after = day_at(marks.after_cancel, DAY).await;
        assert_eq!(status_of(&after, "b-1"), Some(Status::Cancelled));
        assert_eq!(
            status_of(&after, "a-1"),
            Some(Status::Confirmed),
            "seated later, not yet"
        );

        // Before the modification c-1 was on the next day; after it, on this one.
        assert_eq!(
            status_of(&day_at(marks.before_modify, NEXT_DAY).await, "c-1"),
            Some(Status::Confirmed)
        );
        assert_eq!(
            status_of(&day_at(marks.before_modify, DAY).await, "c-1"),
            None
        );
        assert_eq!(
            status_of(&day_at(marks.after_modify, NEXT_DAY).await, "c-1"),
            None
        );
        let moved = day_at(marks.after_modify, DAY).await;
        assert_eq!(ids(&moved)[0], "c-1");
        assert_eq!(moved[0].time.unwrap().to_string(), "13:00");

        // Now, it is the live listing.
        let now = day_at(Timestamp::now(), DAY).await;
        assert_eq!(now, read.day("r1", date(DAY)).await.unwrap());
        // Long before anything: empty.
        assert!(
            day_at("2000-01-01T00:00:00Z".parse().unwrap(), DAY)
                .await
                .is_empty()
        );
        assert!(
            day_as_of(store, &read, "r9", date(DAY), Timestamp::now())
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn catch_up_to_a_position_the_store_does_not_have_is_an_error_not_a_hang() {
    for backend in backends() {
        let store = backend.store.as_ref();
        run(store, register("r1", "UTC", &[("T1", 2)], &["18:00-23:00"])).await;
        let read = ReadModels::open(backend.dir.path()).unwrap();
        let head = store.head().await.unwrap();
        assert!(matches!(
            read.catch_up_to(store, head + 10).await,
            Err(ProjectionError::NotInStore { position, .. }) if position == head + 10
        ));
        assert_eq!(
            read.checkpoint().await.unwrap(),
            head,
            "what exists was applied"
        );
        // Read models ahead of their store (e.g. the store was replaced) are reported.
        let empty = reservation_server::store::memory::MemoryStore::new();
        assert!(matches!(
            read.catch_up(&empty).await,
            Err(ProjectionError::AheadOfStore { .. })
        ));
    }
}

#[tokio::test]
async fn the_projector_follows_appends_and_stops_on_shutdown() {
    for backend in backends() {
        let store = Arc::clone(&backend.store);
        let read = Arc::new(ReadModels::open(backend.dir.path()).unwrap());
        let (wake_tx, wake_rx) = tokio::sync::watch::channel(0u64);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let projector = reservation_server::projection::spawn_projector(
            Arc::clone(&read),
            Arc::clone(&store),
            wake_rx,
            async move {
                let _ = stop_rx.await;
            },
        );
        run(
            store.as_ref(),
            register("r1", "UTC", &[("T1", 2)], &["18:00-23:00"]),
        )
        .await;
        let recorded = run(
            store.as_ref(),
            book("a-1", "r1", "u1", 2, DAY, "19:00", NOW),
        )
        .await;
        let position = recorded.last().unwrap().position;
        wake_tx.send_replace(position);
        tokio::time::timeout(std::time::Duration::from_secs(5), async {
            while read.checkpoint().await.unwrap() < position {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("woken projector caught up");
        assert!(
            read.reservation("a-1").await.unwrap().is_some(),
            "{}",
            backend.name
        );
        // Without a wake-up (another process appended), the periodic poll picks it up.
        drop(wake_tx);
        let recorded = run(
            store.as_ref(),
            book("b-1", "r1", "u2", 2, DAY, "20:00", NOW),
        )
        .await;
        let position = recorded.last().unwrap().position;
        tokio::time::timeout(std::time::Duration::from_secs(5), async {
            while read.checkpoint().await.unwrap() < position {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        })
        .await
        .expect("polling projector caught up");
        stop_tx.send(()).unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(5), projector)
            .await
            .unwrap()
            .unwrap();
    }
}

#[tokio::test]
async fn a_projection_schema_change_resets_the_read_models_for_replay() {
    let backend = backends().remove(0);
    let store = backend.store.as_ref();
    run(store, register("r1", "UTC", &[("T1", 2)], &["18:00-23:00"])).await;
    let read = ReadModels::open(backend.dir.path()).unwrap();
    read.catch_up(store).await.unwrap();
    let expected = read.dump().await.unwrap();
    let path = read.path().to_path_buf();
    drop(read);
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute(
            "UPDATE meta SET value = value + 100 WHERE key = 'schema_version'",
            [],
        )
        .unwrap();
    }
    let read = ReadModels::open(backend.dir.path()).unwrap();
    assert_eq!(read.checkpoint().await.unwrap(), 0, "reset on open");
    assert!(read.restaurant("r1").await.unwrap().is_none());
    read.catch_up(store).await.unwrap();
    assert_eq!(read.dump().await.unwrap(), expected);
}

/// `read.db` runs without fsyncs; its boot marker decides after a restart whether it may be
/// torn (written when the OS stopped) and must be rebuilt from the log.
#[tokio::test]
async fn read_models_left_open_by_another_boot_are_rebuilt_and_cleanly_closed_ones_kept() {
    for backend in backends() {
        let store = backend.store.as_ref();
        let dir = backend.dir.path();
        let marker = dir.join("read.db.boot");
        scenario(store).await;
        let head = store.head().await.unwrap();
        let read = ReadModels::open(dir).unwrap();
        read.catch_up(store).await.unwrap();
        let live = read.dump().await.unwrap();
        drop(read);

        // The process died (same boot): the database is kept as it was.
        let read = ReadModels::open(dir).unwrap();
        assert_eq!(read.checkpoint().await.unwrap(), head, "{}", backend.name);
        drop(read);

        // The OS stopped while it was being written: rebuilt from nothing, to the same models.
        std::fs::write(&marker, "another-boot open\n").unwrap();
        let read = ReadModels::open(dir).unwrap();
        assert_eq!(read.checkpoint().await.unwrap(), 0, "{}", backend.name);
        read.catch_up(store).await.unwrap();
        assert_eq!(read.dump().await.unwrap(), live, "{}", backend.name);

        // Closed cleanly, then the machine rebooted: kept.
        read.close().await.unwrap();
        let text = std::fs::read_to_string(&marker).unwrap();
        assert!(text.ends_with(" clean\n"), "{text}");
        std::fs::write(&marker, "another-boot clean\n").unwrap();
        drop(read);
        let read = ReadModels::open(dir).unwrap();
        assert_eq!(read.checkpoint().await.unwrap(), head, "{}", backend.name);
        assert_eq!(read.dump().await.unwrap(), live, "{}", backend.name);
    }
}
