//! Reservations: book at a restaurant, read one, and move it through its lifecycle; the
//! restaurant's day listing (also as of an earlier instant).

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use reservation_core::command::{
    CancelReservation, Command, CompleteReservation, MarkNoShow, ModifyReservation, SeatReservation,
};
use reservation_core::ids::{ReservationId, UserId};
use reservation_core::request::{ReservationRequest, parse_party_size};
use reservation_core::reservation::Actor;
use reservation_core::time::{ClockTime, parse_date};
use reservation_core::{Date, DomainError, ErrorCode};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::auth::{Caller, forbidden, require_manager, require_role, visible_reservation};
use super::error::{ApiError, codes};
use super::extract::{Json, OptionalJson, Path, Query};
use super::restaurants::{date_param, restaurant_id};
use super::schema::{DayListingDoc, ProblemDoc, ReservationDoc, ReservationRequestDoc};
use crate::app::{Outcome, ids};
use crate::auth::{Principal, Role};
use crate::projection::day_as_of;
use crate::view::ReservationView;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/restaurants/{id}/reservations", post(book).get(day))
        .route("/reservations/{id}", get(read))
        .route("/reservations/{id}/cancel", post(cancel))
        .route("/reservations/{id}/modify", post(modify))
        .route("/reservations/{id}/seat", post(seat))
        .route("/reservations/{id}/complete", post(complete))
        .route("/reservations/{id}/no-show", post(no_show))
}

/// Who cancels: a guest always cancels as `guest`; staff and admins as `staff` unless they say
/// `guest`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    /// `guest` (only until the reservation starts; the default for guests) or `staff` (any
    /// time; the default for staff and admins, and refused with 403 for guests).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "guest")]
    pub by: Option<Actor>,
}

/// A new date, time and/or party size; absent fields keep their value.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModifyBody {
    #[serde(default)]
    #[schema(format = Date, example = "2026-12-09")]
    pub date: Option<String>,
    #[serde(default)]
    #[schema(example = "20:00")]
    pub time: Option<String>,
    #[serde(default)]
    pub party_size: Option<i64>,
    /// `guest` (the default for guests) or `staff` (the default for staff and admins; 403 for
    /// guests).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "staff")]
    pub by: Option<Actor>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DayQuery {
    /// The service date, `YYYY-MM-DD`.
    #[param(value_type = String, format = Date)]
    pub date: Option<String>,
    /// An RFC 3339 instant: the day as it was known then (from the event log).
    #[param(value_type = Option<String>, format = DateTime)]
    pub as_of: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct DayListing {
    pub restaurant_id: String,
    pub date: Date,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_of: Option<jiff::Timestamp>,
    pub reservations: Vec<ReservationView>,
}

fn reservation_id(raw: &str) -> Result<ReservationId, ApiError> {
    ReservationId::parse(raw).map_err(|_| {
        ApiError::Domain(DomainError::new(
            ErrorCode::ReservationNotFound,
            format!("no reservation {raw:?}"),
        ))
    })
}

/// Who acts: guests as guests (claiming `staff` is 403), staff and admins as staff unless they
/// ask to act under the guest's rules.
fn actor(caller: &Principal, asked: Option<Actor>) -> Result<Actor, ApiError> {
    match (caller.role, asked) {
        (Role::Guest, Some(Actor::Staff)) => Err(forbidden("a guest may not act as staff")),
        (Role::Guest, _) => Ok(Actor::Guest),
        (_, Some(asked)) => Ok(asked),
        (_, None) => Ok(Actor::Staff),
    }
}

/// The reservation a command left, as the API shows it.
fn outcome_view(outcome: &Outcome, id: &ReservationId) -> Result<ReservationView, ApiError> {
    outcome
        .state
        .reservations
        .get(id)
        .map(ReservationView::from)
        .ok_or_else(|| {
            ApiError::Domain(DomainError::new(
                ErrorCode::ReservationNotFound,
                format!("no reservation {id}"),
            ))
        })
}

/// Book a table.
///
/// The answer is 201 whether the request was confirmed or rejected (no table free: then with
/// `reason` and up to three `alternatives`). Invalid requests get 422 with every field problem
/// and record nothing. Send an `Idempotency-Key` header (or your own `id`) to make retries safe:
/// a repeat returns the first outcome and records nothing.
///
/// Guests book for themselves: `user_id` comes from the token (another `user_id` is 403). The
/// restaurant's staff and admins book on a guest's behalf and must give `user_id`.
#[utoipa::path(post, path = "/restaurants/{id}/reservations", tag = "reservations",
    request_body = ReservationRequestDoc, security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Restaurant id"),
        ("Idempotency-Key" = Option<String>, Header, description = "1–255 visible ASCII characters; the same key (per restaurant and user) always means the same reservation"),
    ),
    responses(
        (status = 201, description = "Decided: `status` is `confirmed` or `rejected`", body = ReservationDoc, headers(("Location" = String, description = "The reservation's URL"))),
        (status = 401, description = "`unauthenticated`", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: another guest's `user_id`, or staff of another restaurant", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "`restaurant_not_found`", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "`reservation_id_conflict`: the id is taken by another request", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "Invalid request (`invalid_party_size`, `in_the_past`, `closed_on_date`, …)", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn book(
    State(state): State<AppState>,
    caller: Caller,
    Path(restaurant): Path<String>,
    headers: HeaderMap,
    Json(mut request): Json<ReservationRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let restaurant_id = restaurant_id(&restaurant)?;
    if !caller.may_book_at(restaurant_id.as_str()) {
        return Err(forbidden(
            "only guests, the restaurant's staff and admins may book here",
        ));
    }
    if caller.role == Role::Guest {
        match &request.user_id {
            None => request.user_id = Some(caller.subject.clone()),
            Some(user) if *user == caller.subject => {}
            Some(_) => {
                return Err(forbidden("a guest books for themselves: leave out user_id")
                    .with_field("user_id"));
            }
        }
    }
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(value) => {
            let key = value.to_str().map_err(|_| {
                ApiError::Domain(
                    DomainError::new(
                        ErrorCode::InvalidId,
                        "Idempotency-Key must be visible ASCII",
                    )
                    .with_field("Idempotency-Key"),
                )
            })?;
            ids::check_idempotency_key(key)?;
            Some(key.to_owned())
        }
    };
    let user_id_required =
        || DomainError::new(ErrorCode::InvalidId, "user_id is required").with_field("user_id");
    let valid = match request.validate() {
        Ok(valid) => valid,
        Err(mut errors) => {
            if request.user_id.is_none() {
                errors.push(user_id_required());
            }
            return Err(ApiError::Validation(errors));
        }
    };
    let Some(user_id): Option<UserId> = valid.user_id.clone() else {
        return Err(ApiError::Validation(vec![user_id_required()]));
    };
    let id = match (&valid.id, &key) {
        (Some(id), _) => id.clone(),
        (None, Some(key)) => ids::from_idempotency_key(&restaurant_id, &user_id, key)?,
        (None, None) => ids::new_reservation_id()?,
    };
    let now = state.app.civil_now("UTC"); // replaced by the restaurant's wall clock when deciding
    let command = valid.into_command(id.clone(), restaurant_id, user_id, now);
    let outcome = state
        .app
        .execute(Command::RequestReservation(command))
        .await?;
    let view = if outcome.events.is_empty() {
        // A repeat: answer with the first outcome.
        let first = state.app.first_outcome(&id).await?;
        first
            .as_ref()
            .map(ReservationView::from)
            .map_or_else(|| outcome_view(&outcome, &id), Ok)?
    } else {
        outcome_view(&outcome, &id)?
    };
    Ok((
        StatusCode::CREATED,
        super::location(format!("/reservations/{id}")),
        axum::Json(view),
    ))
}

/// Read a reservation (immediately consistent with writes acknowledged by this server).
///
/// Its guest, the restaurant's staff, admins. Anyone else gets 404, as if it did not exist.
#[utoipa::path(get, path = "/reservations/{id}", tag = "reservations",
    params(("id" = String, Path, description = "Reservation id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = ReservationDoc),
        (status = 401, description = "`unauthenticated`", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<ReservationView>, ApiError> {
    let id = reservation_id(&id)?;
    visible_reservation(&state, &caller, &id).await?;
    let read = state.read_your_writes().await?;
    read.reservation(id.as_str())
        .await?
        .map(axum::Json)
        .ok_or_else(|| {
            ApiError::Domain(DomainError::new(
                ErrorCode::ReservationNotFound,
                format!("no reservation {id}"),
            ))
        })
}

async fn run(
    state: &AppState,
    id: &ReservationId,
    command: Command,
) -> Result<axum::Json<ReservationView>, ApiError> {
    let outcome = state.app.execute(command).await?;
    outcome_view(&outcome, id).map(axum::Json)
}

/// Seat, complete and no-show: staff and admins only, on a reservation they may see.
async fn staff_transition(
    state: &AppState,
    caller: &Caller,
    id: &str,
    what: &str,
    command: impl FnOnce(ReservationId, reservation_core::DateTime) -> Command,
) -> Result<axum::Json<ReservationView>, ApiError> {
    let id = reservation_id(id)?;
    require_role(caller, &[Role::Staff], what)?;
    visible_reservation(state, caller, &id).await?;
    run(state, &id, command(id.clone(), placeholder_now(state))).await
}

fn placeholder_now(state: &AppState) -> reservation_core::DateTime {
    // Replaced by the restaurant's wall clock when deciding.
    state.app.civil_now("UTC")
}

/// Cancel a confirmed reservation (frees its table).
///
/// Its guest, the restaurant's staff, admins (anyone else: 404).
#[utoipa::path(post, path = "/reservations/{id}/cancel", tag = "reservations", request_body(content = CancelBody, description = "Optional"),
    params(("id" = String, Path, description = "Reservation id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The reservation as it now is", body = ReservationDoc),
        (status = 401, description = "`unauthenticated`", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "`not_cancellable`", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<CancelBody>,
) -> Result<axum::Json<ReservationView>, ApiError> {
    let id = reservation_id(&id)?;
    let by = actor(&caller, body.by)?;
    visible_reservation(&state, &caller, &id).await?;
    let command = CancelReservation {
        reservation_id: id.clone(),
        by,
        now: placeholder_now(&state),
    };
    run(&state, &id, Command::CancelReservation(command)).await
}

/// Move a reservation and/or change its party size. If the change does not fit, the
/// reservation stays as it was (409 `no_table_available` with `alternatives`).
///
/// Its guest, the restaurant's staff, admins (anyone else: 404).
#[utoipa::path(post, path = "/reservations/{id}/modify", tag = "reservations", request_body = ModifyBody,
    params(("id" = String, Path, description = "Reservation id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The reservation as it now is", body = ReservationDoc),
        (status = 401, description = "`unauthenticated`", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "`not_modifiable`, `no_table_available`", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn modify(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<ModifyBody>,
) -> Result<axum::Json<ReservationView>, ApiError> {
    let id = reservation_id(&id)?;
    let by = actor(&caller, body.by)?;
    visible_reservation(&state, &caller, &id).await?;
    let mut errors = Vec::new();
    let date = body.date.as_deref().and_then(|d| {
        parse_date(d)
            .map_err(|e| errors.push(e.with_field("date")))
            .ok()
    });
    let time = body.time.as_deref().and_then(|t| {
        ClockTime::parse(t)
            .map_err(|e| errors.push(e.with_field("time")))
            .ok()
    });
    let party_size = body.party_size.and_then(|p| {
        parse_party_size(p)
            .map_err(|e| errors.push(e.with_field("party_size")))
            .ok()
    });
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let command = ModifyReservation {
        reservation_id: id.clone(),
        date,
        time,
        party_size,
        by,
        now: placeholder_now(&state),
    };
    run(&state, &id, Command::ModifyReservation(command)).await
}

/// Seat the party of a confirmed reservation.
///
/// The restaurant's staff and admins (guests: 403; staff of another restaurant: 404).
#[utoipa::path(post, path = "/reservations/{id}/seat", tag = "reservations",
    params(("id" = String, Path, description = "Reservation id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The reservation as it now is", body = ReservationDoc),
        (status = 401, description = "`unauthenticated`", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not staff or admin", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "`not_seatable`", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn seat(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<ReservationView>, ApiError> {
    staff_transition(
        &state,
        &caller,
        &id,
        "seat parties",
        |reservation_id, now| {
            Command::SeatReservation(SeatReservation {
                reservation_id,
                now,
            })
        },
    )
    .await
}

/// Complete a seated reservation (frees the table from now on).
///
/// The restaurant's staff and admins (guests: 403; staff of another restaurant: 404).
#[utoipa::path(post, path = "/reservations/{id}/complete", tag = "reservations",
    params(("id" = String, Path, description = "Reservation id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The reservation as it now is", body = ReservationDoc),
        (status = 401, description = "`unauthenticated`", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not staff or admin", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "`not_completable`", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn complete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<ReservationView>, ApiError> {
    staff_transition(
        &state,
        &caller,
        &id,
        "complete reservations",
        |reservation_id, now| {
            Command::CompleteReservation(CompleteReservation {
                reservation_id,
                now,
            })
        },
    )
    .await
}

/// Mark a confirmed reservation as a no-show (once it has started).
///
/// The restaurant's staff and admins (guests: 403; staff of another restaurant: 404).
#[utoipa::path(post, path = "/reservations/{id}/no-show", tag = "reservations",
    params(("id" = String, Path, description = "Reservation id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The reservation as it now is", body = ReservationDoc),
        (status = 401, description = "`unauthenticated`", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not staff or admin", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "`no_show_not_allowed`", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn no_show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<ReservationView>, ApiError> {
    staff_transition(
        &state,
        &caller,
        &id,
        "mark no-shows",
        |reservation_id, now| {
            Command::MarkNoShow(MarkNoShow {
                reservation_id,
                now,
            })
        },
    )
    .await
}

/// A restaurant's reservations on one service date (every status, rejected included), sorted
/// by start time; with `as_of`, the day as it was known at that instant.
///
/// The restaurant's staff and admins.
#[utoipa::path(get, path = "/restaurants/{id}/reservations", tag = "reservations",
    params(("id" = String, Path, description = "Restaurant id"), DayQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = DayListingDoc),
        (status = 401, description = "`unauthenticated`", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not this restaurant's staff", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "`invalid_date`, `invalid_timestamp`", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn day(
    State(state): State<AppState>,
    caller: Caller,
    Path(restaurant): Path<String>,
    Query(query): Query<DayQuery>,
) -> Result<axum::Json<DayListing>, ApiError> {
    let restaurant_id = restaurant_id(&restaurant)?;
    require_manager(&caller, restaurant_id.as_str(), "list its reservations")?;
    let date = date_param(query.date.as_deref(), "date")?;
    let as_of = match query.as_of.as_deref() {
        None => None,
        Some(raw) => Some(raw.parse::<jiff::Timestamp>().map_err(|_| {
            ApiError::client(
                StatusCode::UNPROCESSABLE_ENTITY,
                codes::INVALID_TIMESTAMP,
                format!("{raw:?} is not an RFC 3339 timestamp (e.g. 2026-12-08T18:30:00Z)"),
            )
            .with_field("as_of")
        })?),
    };
    if state.app.restaurant(&restaurant_id).await?.is_none() {
        return Err(ApiError::Domain(DomainError::new(
            ErrorCode::RestaurantNotFound,
            format!("no restaurant {restaurant_id}"),
        )));
    }
    let reservations = match as_of {
        Some(at) => {
            day_as_of(
                state.app.store().as_ref(),
                state.read.as_ref(),
                restaurant_id.as_str(),
                date,
                at,
            )
            .await?
        }
        None => {
            state
                .read_your_writes()
                .await?
                .day(restaurant_id.as_str(), date)
                .await?
        }
    };
    Ok(axum::Json(DayListing {
        restaurant_id: restaurant_id.to_string(),
        date,
        as_of,
        reservations,
    }))
}
