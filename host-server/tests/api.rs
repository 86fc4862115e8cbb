//! The HTTP API, driven over real sockets against the real server (SQLite store, temp data
//! dir, fixed clock): every endpoint, every error status, idempotency, races, as-of queries.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

// ---------- restaurants ----------

#[tokio::test]
async fn a_restaurant_is_registered_read_and_changed() {
    let app = spawn_app().await;
    let response = app.post("/restaurants", &restaurant("r1")).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["location"], "/restaurants/r1");
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["id"], "r1");
    assert_eq!(created["timezone"], "Europe/Berlin");
    assert_eq!(created["largest_party"], 8);
    assert_eq!(created["policy"]["turn_minutes"], 60);

    // Registering the same restaurant again is an idempotent no-op.
    let again = app.post("/restaurants", &restaurant("r1")).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    let mut renamed = restaurant("r1");
    renamed["name"] = json!("Another");
    assert_problem(
        app.post("/restaurants", &renamed).await,
        409,
        "restaurant_already_registered",
    )
    .await;

    let read: Value = app.get("/restaurants/r1").await.json().await.unwrap();
    assert_eq!(read, created);

    let changed = app
        .patch(
            "/restaurants/r1",
            &json!({"tables": [{"id": "T9", "seats": 10}], "combinations": [], "policy": {"buffer_minutes": 15}}),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    let changed: Value = changed.json().await.unwrap();
    assert_eq!(changed["tables"], json!([{"id": "T9", "seats": 10}]));
    assert_eq!(changed["largest_party"], 10);
    assert_eq!(changed["policy"]["buffer_minutes"], 15);
    assert_eq!(
        changed["policy"]["turn_minutes"], 60,
        "policy fields not named stay"
    );
    assert_eq!(
        app.get("/restaurants/r1")
            .await
            .json::<Value>()
            .await
            .unwrap(),
        changed
    );

    let hours = app
        .patch(
            "/restaurants/r1",
            &json!({"opening_hours": {"monday": ["17:00-22:00"]}}),
        )
        .await;
    assert_eq!(hours.status(), StatusCode::OK);
    let hours: Value = hours.json().await.unwrap();
    assert_eq!(hours["opening_hours"]["monday"], json!(["17:00-22:00"]));
    assert!(
        hours["opening_hours"]["tuesday"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // An id is minted when none is given.
    let mut anonymous = restaurant("x");
    anonymous.as_object_mut().unwrap().remove("id");
    let minted: Value = app
        .post("/restaurants", &anonymous)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(minted["id"].as_str().unwrap().len(), 36);
}

#[tokio::test]
async fn restaurant_errors_are_problems() {
    let app = spawn_app().await;
    let mut bad_zone = restaurant("r1");
    bad_zone["timezone"] = json!("Mars/Olympus_Mons");
    let problem = assert_problem(
        app.post("/restaurants", &bad_zone).await,
        422,
        "invalid_timezone",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "timezone");

    let mut no_tables = restaurant("r1");
    no_tables["tables"] = json!([]);
    assert_problem(
        app.post("/restaurants", &no_tables).await,
        422,
        "invalid_tables",
    )
    .await;

    let mut bad_hours = restaurant("r1");
    bad_hours["opening_hours"]["monday"] = json!(["25:00-26:00"]);
    let problem = assert_problem(
        app.post("/restaurants", &bad_hours).await,
        422,
        "invalid_body",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "opening_hours.monday[0]");

    let mut bad_id = restaurant("a:b");
    bad_id["id"] = json!("a:b");
    assert_problem(app.post("/restaurants", &bad_id).await, 422, "invalid_id").await;

    assert_problem(
        app.get("/restaurants/nope").await,
        404,
        "restaurant_not_found",
    )
    .await;
    assert_problem(
        app.patch("/restaurants/nope", &json!({"policy": {}})).await,
        404,
        "restaurant_not_found",
    )
    .await;
    app.register("r1").await;
    let problem = assert_problem(
        app.patch("/restaurants/r1", &json!({"policy": {"flex_minutes": 10}}))
            .await,
        422,
        "invalid_policy",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "policy.flex_minutes");
    assert_problem(
        app.patch("/restaurants/r1", &json!({"name": "x"})).await,
        422,
        "invalid_body",
    )
    .await;
    // Nothing was recorded by the refusals.
    let events = app.all_events().await;
    assert_eq!(events.len(), 1, "{events:?}");
}

// ---------- booking ----------

#[tokio::test]
async fn a_booking_is_confirmed_listed_and_readable_at_once() {
    let app = spawn_app().await;
    app.register("r1").await;
    let response = app.book("r1", &booking("u1", 3, TOMORROW, "19:00")).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["status"], "confirmed");
    assert_eq!(created["table_ids"], json!(["T2"]));
    assert_eq!(created["time"], "19:00");
    assert_eq!(created["requested_time"], "19:00");
    assert_eq!(created["date"], TOMORROW);
    assert_eq!(created["restaurant_id"], "r1");
    assert_eq!(created["user_id"], "u1");
    assert_eq!(created["name"], "Guest u1");
    assert_eq!(created["party_size"], 3);
    let id = created["id"].as_str().unwrap();
    assert_eq!(location, format!("/reservations/{id}"));
    assert_eq!(uuid_version(id), 7);

    // Read your writes: the 201 is visible at once in every read model.
    assert_eq!(
        app.get(&location).await.json::<Value>().await.unwrap(),
        created
    );
    let day: Value = app
        .get(&format!("/restaurants/r1/reservations?date={TOMORROW}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(day["reservations"], json!([created]));
    assert_eq!(day["date"], TOMORROW);
    let user: Value = app
        .get("/users/u1/reservations")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(user["reservations"], json!([created]));
    let restaurant: Value = app.get("/restaurants/r1").await.json().await.unwrap();
    assert_eq!(restaurant["reservations"]["confirmed"], 1);

    // A second party at the same time gets the next table; listings are sorted by time.
    let early: Value = app
        .book("r1", &booking("u2", 4, TOMORROW, "18:00"))
        .await
        .json()
        .await
        .unwrap();
    let later: Value = app
        .book("r1", &booking("u3", 4, TOMORROW, "19:00"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(later["table_ids"], json!(["T3"]));
    let day: Value = app
        .get(&format!("/restaurants/r1/reservations?date={TOMORROW}"))
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = day["reservations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids[0], early["id"].as_str().unwrap());
    assert_eq!(ids.len(), 3);
}

fn uuid_version(id: &str) -> u32 {
    u32::from_str_radix(&id[14..15], 16).unwrap()
}

#[tokio::test]
async fn a_full_time_is_rejected_with_alternatives_and_shifted_within_the_flex() {
    let app = spawn_app().await;
    app.post("/restaurants", &one_table_restaurant("tiny", 6))
        .await;
    let first: Value = app
        .book("tiny", &booking("u1", 6, TOMORROW, "19:00"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["status"], "confirmed");
    // 19:45 is moved to 20:00, the first time the table is free (flex 15).
    let shifted: Value = app
        .book("tiny", &booking("u2", 6, TOMORROW, "19:45"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shifted["status"], "confirmed");
    assert_eq!(shifted["time"], "20:00");
    assert_eq!(shifted["requested_time"], "19:45");
    let response = app.book("tiny", &booking("u3", 6, TOMORROW, "19:30")).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let rejected: Value = response.json().await.unwrap();
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["reason"], "no_table_available");
    assert_eq!(rejected["table_ids"], json!([]));
    assert!(rejected.get("time").is_none());
    let alternatives = rejected["alternatives"].as_array().unwrap();
    assert!(
        !alternatives.is_empty() && alternatives.len() <= 3,
        "{alternatives:?}"
    );
    assert_eq!(alternatives[0], "18:00");

    let availability: Value = app
        .get(&format!(
            "/restaurants/tiny/availability?date={TOMORROW}&party_size=6"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(availability["date"], TOMORROW);
    assert_eq!(availability["party_size"], 6);
    let times: Vec<&str> = availability["times"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(
        times,
        ["18:00", "21:00", "21:15", "21:30", "21:45", "22:00"]
    );
}

#[tokio::test]
async fn invalid_requests_get_every_field_problem_and_record_nothing() {
    let app = spawn_app().await;
    app.register("r1").await;
    let before = app.all_events().await.len();
    let response = app
        .book("r1", &json!({"user_id": "u1", "name": " ", "party_size": 0, "date": "2026-02-30", "time": "25:00"}))
        .await;
    let problem = assert_problem(response, 422, "invalid_name").await;
    let fields: BTreeSet<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        BTreeSet::from(["name", "party_size", "date", "time"])
    );

    let cases = [
        (booking("u1", 4, "2026-11-30", "19:00"), "in_the_past"),
        (booking("u1", 4, "2027-06-01", "19:00"), "beyond_horizon"),
        (booking("u1", 4, TOMORROW, "16:00"), "outside_opening_hours"),
        (booking("u1", 9, TOMORROW, "19:00"), "party_too_large"),
        (booking("u1", 100_000, TOMORROW, "19:00"), "party_too_large"),
    ];
    for (body, code) in cases {
        assert_problem(app.book("r1", &body).await, 422, code).await;
    }
    let missing_user = json!({"name": "Ada", "party_size": 2, "date": TOMORROW, "time": "19:00"});
    let problem = assert_problem(app.book("r1", &missing_user).await, 422, "invalid_id").await;
    assert_eq!(problem["errors"][0]["field"], "user_id");
    let wrong_type = json!({"user_id": "u1", "name": "Ada", "party_size": "four", "date": TOMORROW, "time": "19:00"});
    let problem = assert_problem(app.book("r1", &wrong_type).await, 422, "invalid_body").await;
    assert_eq!(problem["errors"][0]["field"], "party_size");
    assert_problem(
        app.book("nope", &booking("u1", 2, TOMORROW, "19:00")).await,
        404,
        "restaurant_not_found",
    )
    .await;
    assert_eq!(
        app.all_events().await.len(),
        before,
        "refusals record nothing"
    );
}

// ---------- idempotency ----------

#[tokio::test]
async fn an_idempotency_key_makes_a_retry_return_the_first_outcome() {
    let app = spawn_app().await;
    app.register("r1").await;
    let send = || {
        app.client
            .post(app.url("/restaurants/r1/reservations"))
            .header("Idempotency-Key", "order-123")
            .json(&booking("u1", 2, TOMORROW, "19:00"))
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let events = app.all_events().await.len();
    let again = send().await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(
        app.all_events().await.len(),
        events,
        "a repeat records nothing"
    );
    assert_eq!(uuid_version(first["id"].as_str().unwrap()), 5);

    // The same key with other details is refused; another user's key is another booking.
    let clash = app
        .client
        .post(app.url("/restaurants/r1/reservations"))
        .header("Idempotency-Key", "order-123")
        .json(&booking("u1", 4, TOMORROW, "19:00"))
        .send()
        .await
        .unwrap();
    assert_problem(clash, 409, "reservation_id_conflict").await;
    let other_user: Value = app
        .client
        .post(app.url("/restaurants/r1/reservations"))
        .header("Idempotency-Key", "order-123")
        .json(&booking("u2", 2, TOMORROW, "19:00"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(other_user["id"], first["id"]);

    let bad_key = app
        .client
        .post(app.url("/restaurants/r1/reservations"))
        .header("Idempotency-Key", "x".repeat(300))
        .json(&booking("u1", 2, TOMORROW, "19:00"))
        .send()
        .await
        .unwrap();
    assert_problem(bad_key, 422, "invalid_id").await;
}

#[tokio::test]
async fn a_client_id_makes_a_retry_return_the_first_outcome_even_after_a_restart() {
    let app = spawn_app().await;
    app.post("/restaurants", &one_table_restaurant("tiny", 4))
        .await;
    let mut body = booking("u1", 4, TOMORROW, "19:00");
    body["id"] = json!("client-chosen-1");
    let first = app.book("tiny", &body).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["id"], "client-chosen-1");
    // Fill the day so that a fresh decision would now be a rejection.
    let mut other = booking("u2", 4, TOMORROW, "20:00");
    other["id"] = json!("client-chosen-2");
    app.book("tiny", &other).await;
    let events = app.all_events().await.len();

    let repeat = app.book("tiny", &body).await;
    assert_eq!(repeat.status(), StatusCode::CREATED);
    assert_eq!(repeat.json::<Value>().await.unwrap(), first);
    assert_eq!(app.all_events().await.len(), events);

    // After a restart (empty caches) the repeat still finds the first outcome.
    let dir = app.stop().await;
    let app = spawn_app_in(dir).await;
    let repeat = app.book("tiny", &body).await;
    assert_eq!(repeat.status(), StatusCode::CREATED);
    assert_eq!(repeat.json::<Value>().await.unwrap(), first);
    assert_eq!(app.all_events().await.len(), events);
}

// ---------- races ----------

#[tokio::test]
async fn concurrent_bookings_for_the_last_table_have_exactly_one_winner() {
    let app = spawn_app().await;
    app.post("/restaurants", &one_table_restaurant("tiny", 4))
        .await;
    let mut tasks = Vec::new();
    for i in 0..24 {
        let client = app.client.clone();
        let url = app.url("/restaurants/tiny/reservations");
        tasks.push(tokio::spawn(async move {
            let response = client
                .post(url)
                .json(&booking(&format!("u{i}"), 4, TOMORROW, "19:00"))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::CREATED);
            response.json::<Value>().await.unwrap()
        }));
    }
    let mut confirmed = 0;
    for task in tasks {
        let outcome = task.await.unwrap();
        if outcome["status"] == "confirmed" {
            confirmed += 1;
        } else {
            assert_eq!(outcome["status"], "rejected");
        }
    }
    let day: Value = app
        .get(&format!("/restaurants/tiny/reservations?date={TOMORROW}"))
        .await
        .json()
        .await
        .unwrap();
    let mut holds: Vec<(String, String)> = day["reservations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "confirmed")
        .map(|r| {
            (
                r["starts_at"].as_str().unwrap().to_owned(),
                r["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    holds.sort();
    assert_eq!(holds.len(), confirmed);
    assert_eq!(
        confirmed, 1,
        "one table, a 60-minute turn, requests at 19:00 ± 15: exactly one fits: {holds:?}"
    );
}

#[tokio::test]
async fn concurrent_bookings_across_tables_never_double_book() {
    let app = spawn_app().await;
    app.register("r1").await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let client = app.client.clone();
        let url = app.url("/restaurants/r1/reservations");
        tasks.push(tokio::spawn(async move {
            let response = client
                .post(url)
                .json(&booking(&format!("u{i}"), 2, TOMORROW, "19:00"))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::CREATED);
            response.json::<Value>().await.unwrap()
        }));
    }
    let mut held: Vec<(String, String)> = Vec::new();
    for task in tasks {
        let outcome = task.await.unwrap();
        if outcome["status"] == "confirmed" {
            for table in outcome["table_ids"].as_array().unwrap() {
                held.push((
                    table.as_str().unwrap().to_owned(),
                    outcome["time"].as_str().unwrap().to_owned(),
                ));
            }
        }
    }
    // Five tables (or the 8-seat combination instead of two of them), three possible starts
    // (18:45, 19:00, 19:15) that all overlap: at most one party per table.
    let tables: BTreeSet<&String> = held.iter().map(|(t, _)| t).collect();
    assert_eq!(
        tables.len(),
        held.len(),
        "a table was given twice: {held:?}"
    );
    assert_eq!(held.len(), 5);
}

// ---------- lifecycle ----------

#[tokio::test]
async fn a_reservation_moves_through_its_lifecycle() {
    let app = spawn_app().await;
    app.register("r1").await;
    let booked: Value = app
        .book("r1", &booking("u1", 2, TOMORROW, "19:00"))
        .await
        .json()
        .await
        .unwrap();
    let id = booked["id"].as_str().unwrap().to_owned();

    let modified = app
        .post(
            &format!("/reservations/{id}/modify"),
            &json!({"time": "20:00", "party_size": 4}),
        )
        .await;
    assert_eq!(modified.status(), StatusCode::OK);
    let modified: Value = modified.json().await.unwrap();
    assert_eq!(modified["time"], "20:00");
    assert_eq!(modified["party_size"], 4);
    assert_eq!(modified["table_ids"], json!(["T2"]));
    assert_eq!(
        app.get(&format!("/reservations/{id}"))
            .await
            .json::<Value>()
            .await
            .unwrap(),
        modified
    );

    let moved: Value = app
        .post(
            &format!("/reservations/{id}/modify"),
            &json!({"date": DAY_AFTER}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(moved["date"], DAY_AFTER);
    let old_day: Value = app
        .get(&format!("/restaurants/r1/reservations?date={TOMORROW}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(old_day["reservations"].as_array().unwrap().is_empty());

    // Seating before the start is allowed; a no-show is only possible once it has started.
    assert_problem(
        app.post(&format!("/reservations/{id}/no-show"), &json!({}))
            .await,
        409,
        "no_show_not_allowed",
    )
    .await;
    assert_problem(
        app.post(&format!("/reservations/{id}/complete"), &json!({}))
            .await,
        409,
        "not_completable",
    )
    .await;
    app.set_now("2026-12-03T19:05:00Z"); // 20:05 in Berlin
    let seated: Value = app
        .client
        .post(app.url(&format!("/reservations/{id}/seat")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(seated["status"], "seated");
    assert_problem(
        app.post(&format!("/reservations/{id}/cancel"), &json!({}))
            .await,
        409,
        "not_cancellable",
    )
    .await;
    let completed: Value = app
        .client
        .post(app.url(&format!("/reservations/{id}/complete")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(completed["status"], "completed");
    assert_problem(
        app.post(
            &format!("/reservations/{id}/modify"),
            &json!({"time": "21:00"}),
        )
        .await,
        409,
        "not_modifiable",
    )
    .await;

    // No-show and cancellation of others.
    let late: Value = app
        .book("r1", &booking("u2", 2, DAY_AFTER, "21:00"))
        .await
        .json()
        .await
        .unwrap();
    let late_id = late["id"].as_str().unwrap();
    app.set_now("2026-12-03T20:20:00Z");
    let no_show: Value = app
        .client
        .post(app.url(&format!("/reservations/{late_id}/no-show")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(no_show["status"], "no_show");

    let mine: Value = app
        .book("r1", &booking("u3", 2, DAY_AFTER, "22:00"))
        .await
        .json()
        .await
        .unwrap();
    let mine_id = mine["id"].as_str().unwrap();
    // Without a body the guest cancels.
    let cancelled = app
        .client
        .post(app.url(&format!("/reservations/{mine_id}/cancel")))
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status(), StatusCode::OK);
    assert_eq!(
        cancelled.json::<Value>().await.unwrap()["status"],
        "cancelled"
    );

    let staff: Value = app
        .book("r1", &booking("u4", 2, DAY_AFTER, "21:30"))
        .await
        .json()
        .await
        .unwrap();
    app.set_now("2026-12-03T20:40:00Z"); // 21:40: started, so only staff may cancel
    let staff_id = staff["id"].as_str().unwrap();
    assert_problem(
        app.post(
            &format!("/reservations/{staff_id}/cancel"),
            &json!({"by": "guest"}),
        )
        .await,
        409,
        "not_cancellable",
    )
    .await;
    let by_staff = app
        .post(
            &format!("/reservations/{staff_id}/cancel"),
            &json!({"by": "staff"}),
        )
        .await;
    assert_eq!(
        by_staff.json::<Value>().await.unwrap()["status"],
        "cancelled"
    );

    let restaurant: Value = app.get("/restaurants/r1").await.json().await.unwrap();
    let counts = &restaurant["reservations"];
    assert_eq!(
        (
            counts["completed"].as_u64(),
            counts["no_show"].as_u64(),
            counts["cancelled"].as_u64()
        ),
        (Some(1), Some(1), Some(2))
    );
}

#[tokio::test]
async fn reservation_errors_are_problems() {
    let app = spawn_app().await;
    app.register("r1").await;
    assert_problem(
        app.get("/reservations/nope").await,
        404,
        "reservation_not_found",
    )
    .await;
    assert_problem(
        app.get("/reservations/a%3Ab").await,
        404,
        "reservation_not_found",
    )
    .await;
    for action in ["cancel", "modify", "seat", "complete", "no-show"] {
        assert_problem(
            app.post(&format!("/reservations/nope/{action}"), &json!({}))
                .await,
            404,
            "reservation_not_found",
        )
        .await;
    }
    let booked: Value = app
        .book("r1", &booking("u1", 2, TOMORROW, "19:00"))
        .await
        .json()
        .await
        .unwrap();
    let id = booked["id"].as_str().unwrap();
    let problem = assert_problem(
        app.post(
            &format!("/reservations/{id}/modify"),
            &json!({"date": "tomorrow", "time": "7pm", "party_size": 0}),
        )
        .await,
        422,
        "invalid_date",
    )
    .await;
    assert_eq!(problem["errors"].as_array().unwrap().len(), 3);
    assert_problem(
        app.post(
            &format!("/reservations/{id}/cancel"),
            &json!({"by": "robot"}),
        )
        .await,
        422,
        "invalid_body",
    )
    .await;
    // Modifying into a full slot is refused with alternatives and changes nothing.
    for i in 0..4 {
        app.book("r1", &booking(&format!("x{i}"), 4, TOMORROW, "21:00"))
            .await;
    }
    app.book("r1", &booking("x5", 2, TOMORROW, "21:00")).await;
    let problem = assert_problem(
        app.post(
            &format!("/reservations/{id}/modify"),
            &json!({"time": "21:00"}),
        )
        .await,
        409,
        "no_table_available",
    )
    .await;
    assert!(
        !problem["alternatives"].as_array().unwrap().is_empty(),
        "{problem}"
    );
    assert_eq!(
        app.get(&format!("/reservations/{id}"))
            .await
            .json::<Value>()
            .await
            .unwrap(),
        booked
    );

    assert_problem(
        app.get("/restaurants/r1/reservations").await,
        422,
        "invalid_date",
    )
    .await;
    assert_problem(
        app.get("/restaurants/r1/reservations?date=2026-13-01")
            .await,
        422,
        "invalid_date",
    )
    .await;
    assert_problem(
        app.get(&format!(
            "/restaurants/r1/reservations?date={TOMORROW}&as_of=yesterday"
        ))
        .await,
        422,
        "invalid_timestamp",
    )
    .await;
    assert_problem(
        app.get(&format!("/restaurants/nope/reservations?date={TOMORROW}"))
            .await,
        404,
        "restaurant_not_found",
    )
    .await;
    assert_problem(
        app.get("/restaurants/r1/availability?date=2026-12-02")
            .await,
        422,
        "invalid_party_size",
    )
    .await;
    assert_problem(
        app.get("/restaurants/r1/availability?party_size=2").await,
        422,
        "invalid_date",
    )
    .await;
    assert_problem(
        app.get(&format!(
            "/restaurants/r1/availability?date={TOMORROW}&party_size=99"
        ))
        .await,
        422,
        "party_too_large",
    )
    .await;
    assert_problem(
        app.get("/restaurants/r1/days/2026-99-01/snapshot").await,
        422,
        "invalid_date",
    )
    .await;
    assert_problem(
        app.get(&format!("/restaurants/nope/days/{TOMORROW}/snapshot"))
            .await,
        404,
        "restaurant_not_found",
    )
    .await;
    assert_problem(app.get("/users/a%20b/reservations").await, 404, "not_found").await;
}

// ---------- transport errors ----------

#[tokio::test]
async fn transport_errors_are_problems() {
    let app = spawn_app().await;
    app.register("r1").await;
    let url = app.url("/restaurants/r1/reservations");
    let malformed = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body("{\"user_id\": ")
        .send()
        .await
        .unwrap();
    assert_problem(malformed, 400, "malformed_json").await;
    let trailing = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body("{} {}")
        .send()
        .await
        .unwrap();
    assert_problem(trailing, 400, "malformed_json").await;
    let empty = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_problem(empty, 400, "malformed_json").await;
    let text = app
        .client
        .post(&url)
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_problem(text, 415, "unsupported_media_type").await;
    let untyped = app.client.post(&url).body("{}").send().await.unwrap();
    assert_problem(untyped, 415, "unsupported_media_type").await;
    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(300 * 1024));
    let too_large = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_problem(too_large, 413, "payload_too_large").await;
    assert_problem(app.get("/no/such/route").await, 404, "not_found").await;
    let wrong_method = app
        .client
        .delete(app.url("/restaurants/r1"))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(wrong_method, 405, "method_not_allowed").await;
    assert!(problem["detail"].is_string());
    let put = app
        .client
        .put(app.url("/reservations/x/cancel"))
        .send()
        .await
        .unwrap();
    assert_problem(put, 405, "method_not_allowed").await;
    assert_problem(app.get("/events?after=-1").await, 422, "invalid_query").await;
    assert_problem(app.get("/events?limit=many").await, 422, "invalid_query").await;
    assert_problem(
        app.get("/events/stream?after=x").await,
        422,
        "invalid_query",
    )
    .await;
    // Every response carries a request id.
    let response = app.get("/health").await;
    assert!(response.headers().contains_key("x-request-id"));
}

#[tokio::test]
async fn hostile_inputs_never_produce_a_server_error() {
    let app = spawn_app().await;
    app.register("r1").await;
    let bodies = [
        "null",
        "[]",
        "\"x\"",
        "1e999",
        "{\"party_size\": 1e400}",
        "{\"user_id\": {}}",
        "{\"user_id\":\"u\",\"name\":\"n\",\"party_size\":18446744073709551616,\"date\":\"2026-12-02\",\"time\":\"19:00\"}",
        "{\"user_id\":\"u\",\"name\":\"\\u0000\",\"party_size\":2,\"date\":\"2026-12-02\",\"time\":\"19:00\"}",
        "{\"user_id\":\"u\",\"name\":\"n\",\"party_size\":2,\"date\":\"-999999-01-01\",\"time\":\"19:00\"}",
        "{\"user_id\":\"u\",\"name\":\"n\",\"party_size\":2,\"date\":\"9999-12-31\",\"time\":\"23:59\"}",
        "{\"user_id\":\"u\",\"name\":\"n\",\"party_size\":2,\"date\":\"2026-12-02\",\"time\":\"19:00\",\"id\":\"../../x\"}",
        "\u{feff}{}",
        "{\"a\":",
        &"[".repeat(10_000),
    ];
    let paths = [
        "/restaurants/r1/reservations",
        "/restaurants",
        "/restaurants/r1",
        "/reservations/x/modify",
        "/reservations/x/cancel",
    ];
    for path in paths {
        for body in bodies {
            for method in [reqwest::Method::POST, reqwest::Method::PATCH] {
                let response = app
                    .client
                    .request(method.clone(), app.url(path))
                    .header("content-type", "application/json")
                    .body(body.to_owned())
                    .send()
                    .await
                    .unwrap();
                let status = response.status();
                assert!(
                    status.is_client_error(),
                    "{method} {path} {body:.40}: {status}"
                );
                let content_type = response.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .to_owned();
                assert!(
                    content_type.starts_with("application/problem+json"),
                    "{method} {path}: {content_type}"
                );
            }
        }
    }
    for path in [
        "/restaurants/%ff%fe",
        "/restaurants/r1/days/%00/snapshot",
        "/restaurants/r1/availability?date=%ff&party_size=%00",
        "/restaurants/r1/reservations?date=2026-12-02&as_of=%ff",
        "/events?after=99999999999999999999999",
        "/users/%2e%2e/reservations",
        "/reservations/%ff",
    ] {
        let status = app.get(path).await.status();
        assert!(
            status.is_client_error() || status.is_success(),
            "{path}: {status}"
        );
    }
    assert_eq!(app.get("/health").await.status(), StatusCode::OK);
}

// ---------- temporal queries ----------

#[tokio::test]
async fn the_day_as_of_an_instant_shows_what_was_known_then() {
    let app = spawn_app().await;
    app.register("r1").await;
    let before_booking = jiff::Timestamp::now();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let booked: Value = app
        .book("r1", &booking("u1", 2, TOMORROW, "19:00"))
        .await
        .json()
        .await
        .unwrap();
    let id = booked["id"].as_str().unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let after_booking = jiff::Timestamp::now();
    tokio::time::sleep(Duration::from_millis(20)).await;
    app.post(&format!("/reservations/{id}/cancel"), &json!({}))
        .await;

    let as_of =
        |at: jiff::Timestamp| format!("/restaurants/r1/reservations?date={TOMORROW}&as_of={at}");
    let then: Value = app.get(&as_of(after_booking)).await.json().await.unwrap();
    assert_eq!(then["reservations"][0]["status"], "confirmed");
    assert_eq!(then["reservations"][0]["id"], id);
    assert_eq!(then["as_of"], after_booking.to_string());
    let earlier: Value = app.get(&as_of(before_booking)).await.json().await.unwrap();
    assert!(earlier["reservations"].as_array().unwrap().is_empty());
    let now: Value = app
        .get(&as_of(jiff::Timestamp::now()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(now["reservations"][0]["status"], "cancelled");
    let live: Value = app
        .get(&format!("/restaurants/r1/reservations?date={TOMORROW}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(live["reservations"], now["reservations"]);
}

// ---------- snapshot ----------

#[tokio::test]
async fn the_day_snapshot_holds_occupancy_without_personal_data() {
    let app = spawn_app().await;
    app.register("r1").await;
    app.book("r1", &booking("secret-user", 2, TOMORROW, "19:00"))
        .await;
    let response = app
        .get(&format!("/restaurants/r1/days/{TOMORROW}/snapshot"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert!(
        !text.contains("secret-user") && !text.contains("Guest"),
        "{text}"
    );
    let snapshot: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(snapshot["snapshot_version"], 1);
    assert_eq!(snapshot["date"], TOMORROW);
    assert_eq!(snapshot["restaurant"]["id"], "r1");
    assert_eq!(snapshot["occupancy"][0]["table_ids"], json!(["T1"]));
    assert_eq!(snapshot["occupancy"][0]["starts_at"], "2026-12-02T19:00:00");
    // It is the core's snapshot: the core reads it back and lists the same availability.
    let parsed: reservation_core::snapshot::DaySnapshot = serde_json::from_value(snapshot).unwrap();
    let now = jiff::civil::date(2026, 12, 1).at(11, 0, 0, 0);
    let offline: Vec<String> = parsed
        .availability(2, now)
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    let online: Value = app
        .get(&format!(
            "/restaurants/r1/availability?date={TOMORROW}&party_size=2"
        ))
        .await
        .json()
        .await
        .unwrap();
    let online: Vec<String> = online["times"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(offline, online);
}

// ---------- events ----------

#[tokio::test]
async fn the_event_log_pages_in_global_order_in_the_documented_wire_form() {
    let app = spawn_app().await;
    app.register("r1").await;
    let booked: Value = app
        .book("r1", &booking("u1", 2, TOMORROW, "19:00"))
        .await
        .json()
        .await
        .unwrap();
    let page: Value = app
        .get("/events?after=0&limit=2")
        .await
        .json()
        .await
        .unwrap();
    let events = page["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(page["next_after"], 2);
    assert_eq!(page["head"], 3);
    assert_eq!(events[0]["type"], "restaurant_registered");
    assert_eq!(events[0]["version"], 1);
    assert_eq!(events[0]["position"], 1);
    assert_eq!(events[0]["stream"], "restaurant:r1");
    assert_eq!(events[0]["stream_version"], 1);
    assert!(events[0]["recorded_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(events[0]["restaurant"]["id"], "r1");
    let rest: Value = app.get("/events?after=2").await.json().await.unwrap();
    let types: Vec<&str> = rest["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["reservation_confirmed"]);
    assert_eq!(events[1]["type"], "tables_allocated");
    assert_eq!(events[1]["reservation_id"], booked["id"]);
    // Events parse as the core's events.
    for event in app.all_events().await {
        let mut wire = event.as_object().unwrap().clone();
        for key in ["position", "stream", "stream_version", "recorded_at"] {
            wire.remove(key);
        }
        let parsed: reservation_core::Event = serde_json::from_value(Value::Object(wire)).unwrap();
        assert_eq!(parsed.stream().to_string(), event["stream"]);
    }
    let capped: Value = app.get("/events?limit=100000").await.json().await.unwrap();
    assert_eq!(capped["events"].as_array().unwrap().len(), 3);
    let past_end: Value = app.get("/events?after=99").await.json().await.unwrap();
    assert!(past_end["events"].as_array().unwrap().is_empty());
    assert_eq!(past_end["next_after"], 99);
}

/// Reads Server-Sent Events frames off a response.
struct SseReader {
    response: reqwest::Response,
    buffer: String,
}

impl SseReader {
    fn new(response: reqwest::Response) -> Self {
        SseReader {
            response,
            buffer: String::new(),
        }
    }

    /// The next `count` events as (id, event type, data), waiting at most 10 s.
    async fn next(&mut self, count: usize) -> Vec<(String, String, Value)> {
        let mut events = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while events.len() < count {
            while let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                let (mut id, mut kind, mut data) = (String::new(), String::new(), String::new());
                for line in frame.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("event:") {
                        kind = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim());
                    }
                }
                if !data.is_empty() {
                    events.push((id, kind, serde_json::from_str(&data).unwrap()));
                }
                if events.len() == count {
                    return events;
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .expect("SSE events in time")
                .unwrap()
                .unwrap();
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
        events
    }
}

#[tokio::test]
async fn the_live_tail_streams_new_events_and_resumes_from_last_event_id() {
    let app = spawn_app().await;
    app.register("r1").await;
    let live = app
        .client
        .get(app.url("/events/stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), StatusCode::OK);
    assert!(
        live.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut live = SseReader::new(live);
    let first = live.next(1).await;
    assert_eq!(first[0].0, "1");
    assert_eq!(first[0].1, "restaurant_registered");
    // Live: an event committed after the tail started arrives.
    app.book("r1", &booking("u1", 2, TOMORROW, "19:00")).await;
    let next = live.next(2).await;
    assert_eq!(next[0].0, "2");
    assert_eq!(next[1].1, "reservation_confirmed");
    assert_eq!(next[1].2["position"], 3);
    // Resume after position 2 with Last-Event-ID.
    let resumed = app
        .client
        .get(app.url("/events/stream"))
        .header("Last-Event-ID", "2")
        .send()
        .await
        .unwrap();
    let rest = SseReader::new(resumed).next(1).await;
    assert_eq!(rest[0].0, "3");
    let from_query = app
        .client
        .get(app.url("/events/stream?after=2"))
        .send()
        .await
        .unwrap();
    let mut from_query = SseReader::new(from_query);
    assert_eq!(from_query.next(1).await[0].0, "3");
    // The server still shuts down gracefully with tails open, and the tails end.
    drop(app.stop().await);
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Ok(Some(_)) = from_query.response.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the live tail ends when the server stops");
}

// ---------- operations ----------

#[tokio::test]
async fn health_readiness_metrics_and_docs() {
    let app = spawn_app().await;
    let health: Value = app.get("/health").await.json().await.unwrap();
    assert_eq!(health["status"], "ok");
    app.register("r1").await;
    let ready = app.get("/ready").await;
    assert_eq!(ready.status(), StatusCode::OK);
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["head"], 1);

    app.book("r1", &booking("u1", 2, TOMORROW, "19:00")).await;
    let metrics = app.get("/metrics").await;
    assert!(
        metrics.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let metrics = metrics.text().await.unwrap();
    assert!(metrics.contains("http_requests_total{"), "{metrics}");
    assert!(
        metrics.contains("route=\"/restaurants/{id}/reservations\""),
        "{metrics}"
    );
    assert!(
        metrics.contains("http_request_duration_seconds_bucket{"),
        "{metrics}"
    );
    assert!(metrics.contains("reservation_commands_total{"), "{metrics}");
    for stage in [
        "reservation_day_line_wait_seconds",
        "reservation_append_duration_seconds",
        "reservation_event_store_commit_seconds",
        "reservation_event_store_sync_seconds",
    ] {
        assert!(
            metrics.contains(&format!("{stage}_bucket{{le=\"0.02\"}}")),
            "{metrics}"
        );
    }
    assert!(
        metrics.contains("reservation_event_store_batch_appends_bucket{le=\"16\"}"),
        "{metrics}"
    );

    let spec: Value = app.get("/openapi.json").await.json().await.unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(spec["paths"]["/restaurants/{id}/reservations"]["post"].is_object());
    let docs = app.get("/docs").await;
    assert!(
        docs.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = docs.text().await.unwrap();
    assert!(html.contains("/restaurants/{id}/reservations"));
    assert!(
        !html.contains("<script") && !html.contains("https://"),
        "the docs page must work offline"
    );
}

#[tokio::test]
async fn documented_schemas_describe_real_responses() {
    let app = spawn_app().await;
    let spec: Value = app.get("/openapi.json").await.json().await.unwrap();
    let restaurant = app.register("r1").await;
    let reservation: Value = app
        .book("r1", &booking("u1", 2, TOMORROW, "19:00"))
        .await
        .json()
        .await
        .unwrap();
    let rejected: Value = {
        app.post("/restaurants", &one_table_restaurant("tiny", 2))
            .await;
        app.book("tiny", &booking("u1", 2, TOMORROW, "19:00")).await;
        app.book("tiny", &booking("u2", 2, TOMORROW, "19:00"))
            .await
            .json()
            .await
            .unwrap()
    };
    let snapshot: Value = app
        .get(&format!("/restaurants/r1/days/{TOMORROW}/snapshot"))
        .await
        .json()
        .await
        .unwrap();
    let page: Value = app.get("/events").await.json().await.unwrap();
    let problem: Value = app.get("/reservations/nope").await.json().await.unwrap();
    let listing: Value = app
        .get(&format!("/restaurants/r1/reservations?date={TOMORROW}"))
        .await
        .json()
        .await
        .unwrap();
    let availability: Value = app
        .get(&format!(
            "/restaurants/r1/availability?date={TOMORROW}&party_size=2"
        ))
        .await
        .json()
        .await
        .unwrap();
    for (schema, value) in [
        ("Restaurant", &restaurant),
        ("Reservation", &reservation),
        ("Reservation", &rejected),
        ("DaySnapshot", &snapshot),
        ("EventPage", &page),
        ("Problem", &problem),
        ("DayListing", &listing),
        ("Availability", &availability),
    ] {
        conforms(&spec, &spec["components"]["schemas"][schema], value, schema);
    }
}

/// A small structural check: required properties are present, present properties are
/// documented (unless the schema allows more), and nested objects/arrays conform too.
fn conforms(spec: &Value, schema: &Value, value: &Value, at: &str) {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.rsplit('/').next().unwrap();
        return conforms(spec, &spec["components"]["schemas"][name], value, at);
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(list) = schema.get(key).and_then(Value::as_array) {
            if value.is_null() && list.iter().any(|s| s["type"] == "null") {
                return;
            }
            let candidates: Vec<&Value> = list.iter().filter(|s| s["type"] != "null").collect();
            if candidates.len() == 1 {
                return conforms(spec, candidates[0], value, at);
            }
            return;
        }
    }
    match value {
        Value::Object(object) => {
            let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
                return;
            };
            for required in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let name = required.as_str().unwrap();
                assert!(
                    object.contains_key(name),
                    "{at}: required {name} missing in {value}"
                );
            }
            let open = at.ends_with("events[]")
                || schema
                    .get("additionalProperties")
                    .is_some_and(|a| a != &Value::Bool(false));
            for (key, field) in object {
                match properties.get(key) {
                    Some(property) => conforms(spec, property, field, &format!("{at}.{key}")),
                    None => assert!(open, "{at}: field {key} is not documented"),
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for item in items {
                    conforms(spec, item_schema, item, &format!("{at}[]"));
                }
            }
        }
        _ => {}
    }
}
