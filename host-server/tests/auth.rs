//! Authentication and authorization over real sockets: the full matrix role × endpoint ×
//! own/other resource → expected status (one table below), the token attacks (missing,
//! malformed, expired, tampered, `alg: none`, HS/RS confusion, unknown key), asymmetric keys
//! (EdDSA, RS256, JWKS), and the `token` subcommand and secret file of the real binary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use common::{NOW, TestApp, assert_problem, client_with_token, spawn_app, spawn_with};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Client, Method, StatusCode};
use reservation_server::auth::{Claims, Role};
use serde_json::{Value, json};

const BINARY: &str = env!("CARGO_BIN_EXE_reservation-server");
const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys");

/// Open around the clock in UTC with 40 four-seat tables.
fn all_day(id: &str) -> Value {
    let hours = json!(["00:00-24:00"]);
    let tables: Vec<Value> = (1..=40)
        .map(|i| json!({"id": format!("T{i}"), "seats": 4}))
        .collect();
    json!({
        "id": id, "name": "Always Open", "timezone": "UTC", "tables": tables,
        "opening_hours": {"monday": hours, "tuesday": hours, "wednesday": hours, "thursday": hours,
                          "friday": hours, "saturday": hours, "sunday": hours}
    })
}

/// `n` days after the fixed test day (2026-12-01).
fn day(n: i64) -> String {
    let start: jiff::civil::Date = "2026-12-02".parse().unwrap();
    start
        .checked_add(jiff::Span::new().days(n))
        .unwrap()
        .to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    /// Guest `g1`.
    Guest,
    /// Staff of `r1`.
    Staff,
    /// Staff of `r2` only.
    OtherStaff,
    Admin,
    Service,
}

/// Whose reservation a case acts on, seen from the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Res {
    /// The case needs no reservation.
    None,
    /// The guest's own / at the staff member's restaurant.
    Own,
    /// Another guest's / at another restaurant.
    Other,
}

use Res::{Other, Own};
use Who::{Admin, Anonymous, Guest, OtherStaff, Service, Staff};

const EVERYONE: [Who; 6] = [Anonymous, Guest, Staff, OtherStaff, Admin, Service];

/// One endpoint and what each caller gets from it.
struct Row {
    method: Method,
    /// `{res}` is a fresh reservation (owned as [`Res`] says), `{new}` a fresh id.
    path: &'static str,
    body: Option<Value>,
    expect: Vec<(Who, Res, u16)>,
}

fn row(method: Method, path: &'static str, body: Option<Value>, expect: &[(Who, Res, u16)]) -> Row {
    Row {
        method,
        path,
        body,
        expect: expect.to_vec(),
    }
}

/// The same status for every caller.
fn all(status: u16) -> Vec<(Who, Res, u16)> {
    EVERYONE.iter().map(|w| (*w, Res::None, status)).collect()
}

/// The authorization table: every endpoint, every role, own and other resources.
#[rustfmt::skip]
fn table() -> Vec<Row> {
    let d = day(0);
    let book = json!({"name": "Ada", "party_size": 2, "date": d, "time": "19:00"});
    let mut book_for_g1 = book.clone();
    book_for_g1["user_id"] = json!("g1");
    let mut book_for_g2 = book.clone();
    book_for_g2["user_id"] = json!("g2");
    let restaurant = all_day("{new}");
    let public = |path: &'static str| Row {
        method: Method::GET,
        path,
        body: None,
        expect: all(200),
    };
    let n = Res::None;
    vec![
        public("/health"),
        public("/ready"),
        public("/openapi.json"),
        public("/docs"),
        public("/restaurants/r1/availability?date=2026-12-02&party_size=2"),
        public("/restaurants/r1/days/2026-12-02/snapshot"),
        row(Method::POST, "/restaurants", Some(restaurant), &[
            (Anonymous, n, 401), (Guest, n, 403), (Staff, n, 403), (OtherStaff, n, 403),
            (Service, n, 403), (Admin, n, 201),
        ]),
        row(Method::GET, "/restaurants/r1", None, &[
            (Anonymous, n, 401), (Guest, n, 200), (Staff, n, 200), (OtherStaff, n, 200),
            (Service, n, 200), (Admin, n, 200),
        ]),
        row(Method::PATCH, "/restaurants/r1", Some(json!({"policy": {"buffer_minutes": 0}})), &[
            (Anonymous, n, 401), (Guest, n, 403), (Staff, n, 200), (OtherStaff, n, 403),
            (Service, n, 403), (Admin, n, 200),
        ]),
        // Booking: guests for themselves (user_id from the token), staff and admins for anyone.
        row(Method::POST, "/restaurants/r1/reservations", Some(book.clone()), &[
            (Anonymous, n, 401), (Guest, n, 201), (Staff, n, 422), (OtherStaff, n, 403),
            (Service, n, 403), (Admin, n, 422),
        ]),
        row(Method::POST, "/restaurants/r1/reservations", Some(book_for_g1), &[
            (Guest, n, 201), (Staff, n, 201), (Admin, n, 201), (OtherStaff, n, 403),
        ]),
        row(Method::POST, "/restaurants/r1/reservations", Some(book_for_g2), &[
            (Anonymous, n, 401), (Guest, n, 403), (Staff, n, 201), (Service, n, 403),
        ]),
        // One reservation: its guest, its restaurant's staff, admins; others get 404.
        row(Method::GET, "/reservations/{res}", None, &[
            (Anonymous, Own, 401), (Guest, Own, 200), (Guest, Other, 404), (Staff, Own, 200),
            (Staff, Other, 404), (OtherStaff, Own, 200), (OtherStaff, Other, 404),
            (Service, Own, 404), (Admin, Own, 200),
        ]),
        row(Method::POST, "/reservations/{res}/cancel", Some(json!({})), &[
            (Anonymous, Own, 401), (Guest, Own, 200), (Guest, Other, 404), (Staff, Own, 200),
            (Staff, Other, 404), (OtherStaff, Other, 404), (Service, Own, 404), (Admin, Own, 200),
        ]),
        row(Method::POST, "/reservations/{res}/cancel", Some(json!({"by": "staff"})), &[
            (Guest, Own, 403), (Guest, Other, 403), (Staff, Own, 200),
        ]),
        row(Method::POST, "/reservations/{res}/modify", Some(json!({"party_size": 3})), &[
            (Anonymous, Own, 401), (Guest, Own, 200), (Guest, Other, 404), (Staff, Own, 200),
            (Staff, Other, 404), (OtherStaff, Other, 404), (Service, Own, 404), (Admin, Own, 200),
        ]),
        row(Method::POST, "/reservations/{res}/modify", Some(json!({"party_size": 3, "by": "staff"})), &[
            (Guest, Own, 403), (Admin, Own, 200),
        ]),
        row(Method::POST, "/reservations/{res}/seat", None, &[
            (Anonymous, Own, 401), (Guest, Own, 403), (Guest, Other, 403), (Staff, Own, 200),
            (Staff, Other, 404), (OtherStaff, Own, 200), (OtherStaff, Other, 404),
            (Service, Own, 403), (Admin, Own, 200),
        ]),
        // Allowed but illegal now (not seated / not started): the domain's 409.
        row(Method::POST, "/reservations/{res}/complete", None, &[
            (Anonymous, Own, 401), (Guest, Own, 403), (Staff, Own, 409), (Staff, Other, 404),
            (Service, Own, 403), (Admin, Own, 409),
        ]),
        row(Method::POST, "/reservations/{res}/no-show", None, &[
            (Anonymous, Own, 401), (Guest, Own, 403), (Staff, Own, 409), (Staff, Other, 404),
            (Service, Own, 403), (Admin, Own, 409),
        ]),
        // Listings.
        row(Method::GET, "/restaurants/r1/reservations?date=2026-12-02", None, &[
            (Anonymous, n, 401), (Guest, n, 403), (Staff, n, 200), (OtherStaff, n, 403),
            (Service, n, 403), (Admin, n, 200),
        ]),
        row(Method::GET, "/restaurants/r1/reservations?date=2026-12-02&as_of=2026-12-01T10:00:00Z", None, &[
            (Anonymous, n, 401), (Guest, n, 403), (Staff, n, 200), (OtherStaff, n, 403),
            (Service, n, 403), (Admin, n, 200),
        ]),
        row(Method::GET, "/users/g1/reservations", None, &[
            (Anonymous, n, 401), (Guest, n, 200), (Staff, n, 200), (OtherStaff, n, 200),
            (Service, n, 403), (Admin, n, 200),
        ]),
        row(Method::GET, "/users/g2/reservations", None, &[(Guest, n, 403), (Admin, n, 200)]),
        // The feed and the metrics: admins and services.
        row(Method::GET, "/events", None, &[
            (Anonymous, n, 401), (Guest, n, 403), (Staff, n, 403), (OtherStaff, n, 403),
            (Service, n, 200), (Admin, n, 200),
        ]),
        row(Method::GET, "/events/stream", None, &[
            (Anonymous, n, 401), (Guest, n, 403), (Staff, n, 403), (OtherStaff, n, 403),
            (Service, n, 200), (Admin, n, 200),
        ]),
        row(Method::GET, "/metrics", None, &[
            (Anonymous, n, 401), (Guest, n, 403), (Staff, n, 403), (OtherStaff, n, 403),
            (Service, n, 200), (Admin, n, 200),
        ]),
    ]
}

struct Callers {
    anonymous: Client,
    guest: Client,
    staff: Client,
    other_staff: Client,
    admin: Client,
    service: Client,
}

impl Callers {
    fn new(app: &TestApp) -> Callers {
        Callers {
            anonymous: Client::new(),
            guest: client_with_token(&app.guest_token("g1")),
            staff: client_with_token(&app.staff_token(&["r1"])),
            other_staff: client_with_token(&app.staff_token(&["r2"])),
            admin: app.client.clone(),
            service: client_with_token(&app.token(Role::Service, "billing", &[])),
        }
    }

    fn get(&self, who: Who) -> &Client {
        match who {
            Anonymous => &self.anonymous,
            Guest => &self.guest,
            Staff => &self.staff,
            OtherStaff => &self.other_staff,
            Admin => &self.admin,
            Service => &self.service,
        }
    }
}

/// The (guest, restaurant) of the reservation a case acts on.
fn owner(who: Who, res: Res) -> (&'static str, &'static str) {
    match (who, res) {
        (Guest, Other) => ("g2", "r1"),
        (Guest, _) => ("g1", "r1"),
        (Staff, Other) | (OtherStaff, Own) => ("g3", "r2"),
        _ => ("g3", "r1"),
    }
}

#[tokio::test]
async fn the_authorization_matrix_holds_for_every_role_endpoint_and_owner() {
    let app = spawn_app().await;
    for r in ["r1", "r2"] {
        let response = app.post("/restaurants", &all_day(r)).await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let callers = Callers::new(&app);
    let mut fresh = 0i64;
    let mut cases = 0;
    let mut failures = Vec::new();
    for row in table() {
        for (who, res, expected) in &row.expect {
            fresh += 1;
            let mut path = row.path.replace("{new}", &format!("new-{fresh}"));
            let mut reservation = None;
            if path.contains("{res}") {
                let (user, restaurant) = owner(*who, *res);
                let booked: Value = app
                    .book(
                        restaurant,
                        &json!({"user_id": user, "name": "Owner", "party_size": 2,
                                "date": day(1 + fresh / 30), "time": "19:00"}),
                    )
                    .await
                    .json()
                    .await
                    .unwrap();
                assert_eq!(booked["status"], "confirmed", "{booked}");
                let id = booked["id"].as_str().unwrap().to_owned();
                path = path.replace("{res}", &id);
                reservation = Some(booked);
            }
            let mut body = row.body.clone();
            if let Some(Value::Object(fields)) = &mut body
                && let Some(Value::String(id)) = fields.get_mut("id")
            {
                *id = id.replace("{new}", &format!("new-{fresh}"));
            }
            let mut request = callers
                .get(*who)
                .request(row.method.clone(), app.url(&path));
            if let Some(body) = &body {
                request = request.json(body);
            }
            let response = request.send().await.unwrap();
            cases += 1;
            let status = response.status().as_u16();
            let label = format!("{who:?} {} {} ({res:?})", row.method, row.path);
            if status != *expected {
                let text = response.text().await.unwrap_or_default();
                failures.push(format!(
                    "{label}: expected {expected}, got {status}: {text}"
                ));
                continue;
            }
            match status {
                401 => {
                    assert_eq!(
                        response.headers()["www-authenticate"]
                            .to_str()
                            .unwrap()
                            .split(' ')
                            .next(),
                        Some("Bearer"),
                        "{label}"
                    );
                    assert_problem(response, 401, "unauthenticated").await;
                }
                403 => {
                    assert_problem(response, 403, "forbidden").await;
                }
                404 => {
                    assert_problem(response, 404, "reservation_not_found").await;
                }
                201 if row.path.ends_with("/reservations") => {
                    let booked: Value = response.json().await.unwrap();
                    if *who == Guest {
                        assert_eq!(booked["user_id"], "g1", "{label}: user_id from the token");
                    }
                }
                _ => {}
            }
            // A refused action changed nothing.
            if let Some(before) = reservation
                && [401, 403, 404].contains(&status)
            {
                let id = before["id"].as_str().unwrap();
                let now: Value = app
                    .get(&format!("/reservations/{id}"))
                    .await
                    .json()
                    .await
                    .unwrap();
                assert_eq!(now["status"], "confirmed", "{label}");
                assert_eq!(now["party_size"], 2, "{label}");
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(cases > 120, "only {cases} cases");
    eprintln!("authorization matrix: {cases} cases");
}

#[tokio::test]
async fn staff_see_a_guests_reservations_only_at_their_restaurants() {
    let app = spawn_app().await;
    for r in ["r1", "r2"] {
        app.post("/restaurants", &all_day(r)).await;
    }
    for r in ["r1", "r2", "r2"] {
        let response = app
            .book(r, &json!({"user_id": "g1", "name": "Ada", "party_size": 2, "date": day(0), "time": "19:00"}))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let count = |client: Client| {
        let url = app.url("/users/g1/reservations");
        async move {
            let listing: Value = client.get(url).send().await.unwrap().json().await.unwrap();
            listing["reservations"].as_array().unwrap().len()
        }
    };
    assert_eq!(count(app.client.clone()).await, 3);
    assert_eq!(count(client_with_token(&app.guest_token("g1"))).await, 3);
    assert_eq!(count(client_with_token(&app.staff_token(&["r1"]))).await, 1);
    assert_eq!(count(client_with_token(&app.staff_token(&["r2"]))).await, 2);
    assert_eq!(count(client_with_token(&app.staff_token(&[]))).await, 0);
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn admin_claims() -> Claims {
    reservation_server::auth::claims(Role::Admin, "mallory", &[], 3600)
}

fn hs256(secret: &[u8], claims: &impl serde::Serialize) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

async fn status_with(app: &TestApp, authorization: Option<&str>) -> (u16, Value) {
    let mut request = app.anonymous.get(app.url("/events?limit=1"));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    if status == 401 {
        assert!(
            response.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer")
        );
    }
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn forged_expired_and_malformed_tokens_are_refused() {
    let app = spawn_app().await;
    let secret = app.secret.clone().unwrap();
    let good = hs256(&secret, &admin_claims());
    assert_eq!(
        status_with(&app, Some(&format!("Bearer {good}"))).await.0,
        200
    );
    assert_eq!(
        status_with(&app, Some(&format!("bearer {good}"))).await.0,
        200
    );

    let mut expired = admin_claims();
    expired.exp = now() - 120;
    let mut within_leeway = admin_claims();
    within_leeway.exp = now() - 5;
    let other_secret = hs256(
        b"not the server's secret, not the server's",
        &admin_claims(),
    );
    // Tampered: the payload says admin, the signature was made for a guest.
    let guest = hs256(
        &secret,
        &reservation_server::auth::claims(Role::Guest, "g1", &[], 3600),
    );
    let parts: Vec<&str> = guest.split('.').collect();
    let admin_payload = b64(serde_json::to_string(&admin_claims()).unwrap().as_bytes());
    let tampered_payload = format!("{}.{admin_payload}.{}", parts[0], parts[2]);
    let mut signature = parts[2].to_owned().into_bytes();
    signature[3] = if signature[3] == b'A' { b'B' } else { b'A' };
    let tampered_signature = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        String::from_utf8(signature).unwrap()
    );
    let payload = b64(serde_json::to_string(&admin_claims()).unwrap().as_bytes());
    let alg_none = format!("{}.{payload}.", b64(br#"{"alg":"none","typ":"JWT"}"#));
    let alg_none_upper = format!("{}.{payload}.", b64(br#"{"alg":"None","typ":"JWT"}"#));
    let hs512 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS512),
        &admin_claims(),
        &EncodingKey::from_secret(&secret),
    )
    .unwrap();
    let no_exp = hs256(&secret, &json!({"sub": "mallory", "role": "admin"}));
    let unknown_role = hs256(
        &secret,
        &json!({"sub": "mallory", "role": "root", "exp": now() + 60}),
    );
    let bad_guest = hs256(
        &secret,
        &json!({"sub": "", "role": "guest", "exp": now() + 60}),
    );
    let not_before = hs256(
        &secret,
        &json!({"sub": "mallory", "role": "admin", "exp": now() + 600, "nbf": now() + 300}),
    );
    let cases: Vec<(&str, Option<String>)> = vec![
        ("missing", None),
        ("empty", Some(String::new())),
        ("basic", Some("Basic YWRtaW46YWRtaW4=".into())),
        ("bearer without token", Some("Bearer".into())),
        ("garbage", Some("Bearer not.a.jwt".into())),
        (
            "expired",
            Some(format!("Bearer {}", hs256(&secret, &expired))),
        ),
        ("other secret", Some(format!("Bearer {other_secret}"))),
        (
            "tampered payload",
            Some(format!("Bearer {tampered_payload}")),
        ),
        (
            "tampered signature",
            Some(format!("Bearer {tampered_signature}")),
        ),
        ("alg none", Some(format!("Bearer {alg_none}"))),
        ("alg None", Some(format!("Bearer {alg_none_upper}"))),
        (
            "HS512 with the same secret",
            Some(format!("Bearer {hs512}")),
        ),
        ("no exp", Some(format!("Bearer {no_exp}"))),
        ("unknown role", Some(format!("Bearer {unknown_role}"))),
        (
            "guest without a user id",
            Some(format!("Bearer {bad_guest}")),
        ),
        ("not yet valid", Some(format!("Bearer {not_before}"))),
        ("huge", Some(format!("Bearer {}", "a".repeat(9000)))),
    ];
    for (name, header) in &cases {
        let (status, problem) = status_with(&app, header.as_deref()).await;
        assert_eq!(status, 401, "{name}: {problem}");
        assert_eq!(problem["code"], "unauthenticated", "{name}");
    }
    let (status, _) = status_with(
        &app,
        Some(&format!("Bearer {}", hs256(&secret, &within_leeway))),
    )
    .await;
    assert_eq!(status, 200, "a token expired 5 s ago is within the leeway");
    let (_, problem) =
        status_with(&app, Some(&format!("Bearer {}", hs256(&secret, &expired)))).await;
    assert_eq!(problem["detail"], "the token has expired");
}

fn pem(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(KEYS).join(name)).unwrap()
}

fn signed(algorithm: Algorithm, kid: Option<&str>, key: &EncodingKey) -> String {
    let mut header = Header::new(algorithm);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, &admin_claims(), key).unwrap()
}

#[tokio::test]
async fn an_rs256_public_key_refuses_hs256_tokens_signed_with_it() {
    let key_path = Path::new(KEYS).join("rsa-public.pem");
    let app = spawn_with(tempfile::tempdir().unwrap(), |s| {
        s.auth.auth_public_key = Some(key_path.clone());
    })
    .await;
    assert!(app.secret.is_none());
    assert!(
        !app.dir.path().join("auth-secret").exists(),
        "no secret is created"
    );
    let rsa = EncodingKey::from_rsa_pem(&pem("rsa-private.pem")).unwrap();
    let good = signed(Algorithm::RS256, None, &rsa);
    assert_eq!(
        status_with(&app, Some(&format!("Bearer {good}"))).await.0,
        200
    );
    // HS/RS confusion: the public key's bytes used as an HMAC secret.
    let public = pem("rsa-public.pem");
    for forged in [
        hs256(&public, &admin_claims()),
        hs256(
            String::from_utf8(public.clone()).unwrap().trim().as_bytes(),
            &admin_claims(),
        ),
    ] {
        assert_eq!(
            status_with(&app, Some(&format!("Bearer {forged}"))).await.0,
            401
        );
    }
    let ed = EncodingKey::from_ed_pem(&pem("ed25519-private.pem")).unwrap();
    let wrong_family = signed(Algorithm::EdDSA, None, &ed);
    assert_eq!(
        status_with(&app, Some(&format!("Bearer {wrong_family}")))
            .await
            .0,
        401
    );
    let ps256 = signed(Algorithm::PS256, None, &rsa);
    assert_eq!(
        status_with(&app, Some(&format!("Bearer {ps256}"))).await.0,
        401
    );
}

#[tokio::test]
async fn an_eddsa_public_key_verifies_eddsa_tokens_only() {
    let key_path = Path::new(KEYS).join("ed25519-public.pem");
    let app = spawn_with(tempfile::tempdir().unwrap(), |s| {
        s.auth.auth_public_key = Some(key_path.clone());
    })
    .await;
    let ed = EncodingKey::from_ed_pem(&pem("ed25519-private.pem")).unwrap();
    let good = signed(Algorithm::EdDSA, None, &ed);
    assert_eq!(
        status_with(&app, Some(&format!("Bearer {good}"))).await.0,
        200
    );
    let forged = hs256(&pem("ed25519-public.pem"), &admin_claims());
    assert_eq!(
        status_with(&app, Some(&format!("Bearer {forged}"))).await.0,
        401
    );
}

#[tokio::test]
async fn a_jwks_file_picks_the_key_by_kid() {
    let jwks = Path::new(KEYS).join("jwks.json");
    let app = spawn_with(tempfile::tempdir().unwrap(), |s| {
        s.auth.auth_jwks = Some(jwks.clone());
    })
    .await;
    let rsa = EncodingKey::from_rsa_pem(&pem("rsa-private.pem")).unwrap();
    let ed = EncodingKey::from_ed_pem(&pem("ed25519-private.pem")).unwrap();
    for (name, token, expected) in [
        (
            "rs256 rsa-1",
            signed(Algorithm::RS256, Some("rsa-1"), &rsa),
            200,
        ),
        (
            "eddsa ed-1",
            signed(Algorithm::EdDSA, Some("ed-1"), &ed),
            200,
        ),
        ("no kid", signed(Algorithm::RS256, None, &rsa), 401),
        (
            "unknown kid",
            signed(Algorithm::RS256, Some("rsa-2"), &rsa),
            401,
        ),
        (
            "key of another kid",
            signed(Algorithm::EdDSA, Some("rsa-1"), &ed),
            401,
        ),
        (
            "hs256 under an rsa kid",
            {
                let mut header = Header::new(Algorithm::HS256);
                header.kid = Some("rsa-1".into());
                jsonwebtoken::encode(
                    &header,
                    &admin_claims(),
                    &EncodingKey::from_secret(&pem("rsa-public.pem")),
                )
                .unwrap()
            },
            401,
        ),
    ] {
        assert_eq!(
            status_with(&app, Some(&format!("Bearer {token}"))).await.0,
            expected,
            "{name}"
        );
    }
}

/// `reservation-server ARGS…` → (success, stdout, stderr).
fn run(args: &[&str], dir: &Path) -> (bool, String, String) {
    let output = Command::new(BINARY)
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("RUST_LOG")
        .env_remove("RESERVATION_AUTH_SECRET_FILE")
        .env_remove("RESERVATION_AUTH_PUBLIC_KEY")
        .env_remove("RESERVATION_AUTH_JWKS")
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).trim().to_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_token_subcommand_creates_a_private_secret_and_signs_tokens_the_server_accepts() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let (ok, admin, stderr) = run(
        &["token", "--role", "admin", "--subject", "ops"],
        dir.path(),
    );
    assert!(ok, "{stderr}");
    assert!(stderr.contains("creating the auth secret"), "{stderr}");
    let secret = dir.path().join("auth-secret");
    assert_eq!(
        std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(admin.split('.').count(), 3, "one JWT on stdout: {admin}");
    let (ok, staff, _) = run(
        &[
            "token",
            "--role",
            "staff",
            "--subject",
            "sam",
            "--restaurant",
            "r1",
            "--restaurant",
            "r2",
            "--ttl",
            "15m",
        ],
        dir.path(),
    );
    assert!(ok);
    let (ok, guest, _) = run(
        &["token", "--role", "guest", "--subject", "g1", "--ttl", "7d"],
        dir.path(),
    );
    assert!(ok);
    for bad in [
        &[
            "token",
            "--role",
            "guest",
            "--subject",
            "g1",
            "--restaurant",
            "r1",
        ][..],
        &["token", "--role", "guest", "--subject", "a b"],
        &["token", "--role", "root", "--subject", "x"],
        &[
            "token",
            "--role",
            "admin",
            "--subject",
            "x",
            "--ttl",
            "forever",
        ],
        &["token", "--role", "admin"],
    ] {
        let (ok, stdout, _) = run(bad, dir.path());
        assert!(
            !ok && !stdout.contains("eyJ"),
            "{bad:?} should fail without a token"
        );
    }

    let app = common::spawn_app_in(dir).await;
    let staff_claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(staff.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(staff_claims["restaurants"], json!(["r1", "r2"]));
    let ttl = staff_claims["exp"].as_u64().unwrap() - staff_claims["iat"].as_u64().unwrap();
    assert_eq!(ttl, 900);
    let get = |token: String| {
        let url = app.url("/events");
        async move {
            client_with_token(&token)
                .get(url)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(get(admin).await, StatusCode::OK);
    assert_eq!(get(staff).await, StatusCode::FORBIDDEN);
    assert_eq!(get(guest).await, StatusCode::FORBIDDEN);
    let _ = NOW;
}

#[test]
fn the_server_refuses_to_start_with_a_secret_others_can_read() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("auth-secret");
    std::fs::write(
        &secret,
        "0123456789abcdef0123456789abcdef0123456789abcdef\n",
    )
    .unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (ok, _, stderr) = run(&["--listen", "127.0.0.1:0"], dir.path());
    assert!(!ok);
    assert!(stderr.contains("chmod 600"), "{stderr}");
    let (ok, _, stderr) = run(&["token", "--role", "admin", "--subject", "x"], dir.path());
    assert!(!ok);
    assert!(stderr.contains("chmod 600"), "{stderr}");
    // Several key sources at once are refused too.
    let (ok, _, stderr) = run(
        &[
            "--listen",
            "127.0.0.1:0",
            "--auth-secret-file",
            secret.to_str().unwrap(),
            "--auth-jwks",
            "x.json",
        ],
        dir.path(),
    );
    assert!(!ok);
    assert!(stderr.contains("choose one of"), "{stderr}");
}
