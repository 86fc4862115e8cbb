//! `/restaurants`: register, read and change a restaurant; its availability and day snapshot.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use reservation_core::command::{
    ChangeOpeningHours, ChangePolicy, ChangeTables, Command, RegisterRestaurant,
};
use reservation_core::ids::RestaurantId;
use reservation_core::opening_hours::{Exception, WeeklyHours};
use reservation_core::policy::BookingPolicy;
use reservation_core::restaurant::{Combination, Restaurant, Table};
use reservation_core::snapshot::DaySnapshot;
use reservation_core::time::{ClockTime, parse_date};
use reservation_core::{Date, DomainError, ErrorCode};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::auth::{Caller, require_manager, require_role};
use super::error::ApiError;
use super::extract::{Json, Path, Query};
use super::schema::{
    AvailabilityDoc, CombinationDoc, ExceptionDoc, PolicyDoc, ProblemDoc, RestaurantDoc,
    SnapshotDoc, TableDoc, WeeklyHoursDoc,
};
use crate::app::clock;
use crate::projection::RestaurantView;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/restaurants", post(register))
        .route("/restaurants/{id}", get(read).patch(change))
        .route("/restaurants/{id}/availability", get(availability))
        .route("/restaurants/{id}/days/{date}/snapshot", get(snapshot))
}

/// A restaurant to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    /// Chosen by the caller, or minted (UUIDv7) when absent.
    #[serde(default)]
    #[schema(nullable = false, example = "chez-ada")]
    pub id: Option<String>,
    #[schema(example = "Chez Ada")]
    pub name: String,
    /// An IANA time-zone name known to the server's tz database.
    #[schema(example = "Europe/Berlin")]
    pub timezone: String,
    #[schema(value_type = Vec<TableDoc>)]
    pub tables: Vec<Table>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<CombinationDoc>>)]
    pub combinations: Vec<Combination>,
    #[serde(default)]
    #[schema(value_type = Option<WeeklyHoursDoc>)]
    pub opening_hours: WeeklyHours,
    #[serde(default)]
    #[schema(value_type = Option<Vec<ExceptionDoc>>)]
    pub exceptions: Vec<Exception>,
    #[serde(default)]
    #[schema(value_type = Option<PolicyDoc>)]
    pub policy: BookingPolicy,
}

/// Changes to a restaurant; absent fields stay as they are. `policy` is merged field by field
/// (JSON merge patch: `null` resets a field to its default).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeBody {
    #[serde(default)]
    #[schema(value_type = Option<Vec<TableDoc>>)]
    pub tables: Option<Vec<Table>>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<CombinationDoc>>)]
    pub combinations: Option<Vec<Combination>>,
    #[serde(default)]
    #[schema(value_type = Option<WeeklyHoursDoc>)]
    pub opening_hours: Option<WeeklyHours>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<ExceptionDoc>>)]
    pub exceptions: Option<Vec<Exception>>,
    #[serde(default)]
    #[schema(value_type = Option<PolicyDoc>)]
    pub policy: Option<Map<String, Value>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AvailabilityQuery {
    /// The service date, `YYYY-MM-DD`.
    #[param(value_type = String, format = Date)]
    pub date: Option<String>,
    /// Guests in the party.
    #[param(value_type = u16)]
    pub party_size: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Availability {
    pub date: Date,
    pub party_size: u16,
    pub times: Vec<ClockTime>,
}

/// Parses a restaurant id from a path: an id that cannot exist is simply not found.
pub(crate) fn restaurant_id(raw: &str) -> Result<RestaurantId, ApiError> {
    RestaurantId::parse(raw).map_err(|_| {
        ApiError::Domain(DomainError::new(
            ErrorCode::RestaurantNotFound,
            format!("no restaurant {raw:?}"),
        ))
    })
}

fn not_found(id: &RestaurantId) -> ApiError {
    ApiError::Domain(DomainError::new(
        ErrorCode::RestaurantNotFound,
        format!("no restaurant {id}"),
    ))
}

/// A date from a path or query: 422 `invalid_date` naming `field`.
pub(crate) fn date_param(raw: Option<&str>, field: &str) -> Result<Date, ApiError> {
    let raw = raw.ok_or_else(|| {
        ApiError::Domain(
            DomainError::new(
                ErrorCode::InvalidDate,
                format!("{field} is required (YYYY-MM-DD)"),
            )
            .with_field(field),
        )
    })?;
    parse_date(raw).map_err(|e| ApiError::Domain(e.with_field(field)))
}

/// The restaurant as the read side shows it, once it reflects this process's writes.
async fn view(state: &AppState, id: &RestaurantId) -> Result<RestaurantView, ApiError> {
    let read = state.read_your_writes().await?;
    read.restaurant_at(id.as_str(), state.app.now())
        .await?
        .ok_or_else(|| not_found(id))
}

/// Register a restaurant.
///
/// Registering the same restaurant again with identical details changes nothing and answers
/// the same; other details under a taken id are refused (409 `restaurant_already_registered`).
///
/// Admin only.
#[utoipa::path(post, path = "/restaurants", tag = "restaurants", request_body = RegisterBody,
    security(("bearer" = [])), responses(
    (status = 201, description = "Registered", body = RestaurantDoc, headers(("Location" = String, description = "The restaurant's URL"))),
    (status = 401, description = "`unauthenticated`", body = ProblemDoc, content_type = "application/problem+json"),
    (status = 403, description = "`forbidden`: not an admin", body = ProblemDoc, content_type = "application/problem+json"),
    (status = 409, description = "The id is taken", body = ProblemDoc, content_type = "application/problem+json"),
    (status = 422, description = "Invalid configuration (`invalid_timezone`, `invalid_tables`, …)", body = ProblemDoc, content_type = "application/problem+json"),
))]
pub async fn register(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<RegisterBody>,
) -> Result<impl IntoResponse, ApiError> {
    require_role(&caller, &[], "register restaurants")?;
    let id = match &body.id {
        Some(raw) => {
            RestaurantId::parse(raw.as_str()).map_err(|e| ApiError::Domain(e.with_field("id")))?
        }
        None => RestaurantId::parse(uuid::Uuid::now_v7().hyphenated().to_string())?,
    };
    // The core checks the name's shape; whether the zone exists is the host's to check.
    let timezone = clock::zone(&body.timezone)
        .and_then(|tz| tz.iana_name().map(str::to_owned))
        .filter(|_| reservation_core::restaurant::validate_timezone(&body.timezone).is_ok())
        .ok_or_else(|| {
            ApiError::Domain(
                DomainError::new(
                    ErrorCode::InvalidTimezone,
                    format!(
                        "{:?} is not a time zone in the IANA tz database",
                        body.timezone
                    ),
                )
                .with_field("timezone"),
            )
        })?;
    let restaurant = Restaurant {
        id: id.clone(),
        name: body.name,
        timezone,
        tables: body.tables,
        combinations: body.combinations,
        opening_hours: body.opening_hours,
        exceptions: body.exceptions,
        policy: body.policy,
    };
    state
        .app
        .execute(Command::RegisterRestaurant(RegisterRestaurant {
            restaurant,
        }))
        .await?;
    let view = view(&state, &id).await?;
    Ok((
        StatusCode::CREATED,
        super::location(format!("/restaurants/{id}")),
        axum::Json(view),
    ))
}

/// Read a restaurant: its configuration, largest party and reservation counts.
///
/// Any signed-in caller.
#[utoipa::path(get, path = "/restaurants/{id}", tag = "restaurants",
    params(("id" = String, Path, description = "Restaurant id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = RestaurantDoc),
        (status = 401, description = "`unauthenticated`", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn read(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<RestaurantView>, ApiError> {
    let id = restaurant_id(&id)?;
    Ok(axum::Json(view(&state, &id).await?))
}

/// Change a restaurant's tables, opening hours or policy (all changes at once, or none).
///
/// The restaurant's staff or an admin.
#[utoipa::path(patch, path = "/restaurants/{id}", tag = "restaurants", request_body = ChangeBody,
    params(("id" = String, Path, description = "Restaurant id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The restaurant as it now is", body = RestaurantDoc),
        (status = 401, description = "`unauthenticated`", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn change(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<ChangeBody>,
) -> Result<axum::Json<RestaurantView>, ApiError> {
    let id = restaurant_id(&id)?;
    require_manager(&caller, id.as_str(), "change it")?;
    let current = state
        .app
        .restaurant(&id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    let mut commands = Vec::new();
    if body.tables.is_some() || body.combinations.is_some() {
        commands.push(Command::ChangeTables(ChangeTables {
            restaurant_id: id.clone(),
            tables: body.tables.unwrap_or_else(|| current.tables.clone()),
            combinations: body
                .combinations
                .unwrap_or_else(|| current.combinations.clone()),
        }));
    }
    if body.opening_hours.is_some() || body.exceptions.is_some() {
        commands.push(Command::ChangeOpeningHours(ChangeOpeningHours {
            restaurant_id: id.clone(),
            opening_hours: body
                .opening_hours
                .unwrap_or_else(|| current.opening_hours.clone()),
            exceptions: body
                .exceptions
                .unwrap_or_else(|| current.exceptions.clone()),
        }));
    }
    if let Some(patch) = body.policy {
        commands.push(Command::ChangePolicy(ChangePolicy {
            restaurant_id: id.clone(),
            policy: merge_policy(&current.policy, patch)?,
        }));
    }
    if !commands.is_empty() {
        state.app.execute_all(commands).await?;
    }
    Ok(axum::Json(view(&state, &id).await?))
}

/// Applies a JSON merge patch (RFC 7396) to a policy.
fn merge_policy(
    current: &BookingPolicy,
    patch: Map<String, Value>,
) -> Result<BookingPolicy, ApiError> {
    let mut merged =
        serde_json::to_value(current).map_err(|e| ApiError::Internal(e.to_string()))?;
    merge(&mut merged, Value::Object(patch));
    reservation_core::json::from_value::<BookingPolicy>(merged).map_err(|error| {
        let field = super::extract::field_path("policy", &error.path)
            .unwrap_or_else(|| "policy".to_owned());
        ApiError::client(
            StatusCode::UNPROCESSABLE_ENTITY,
            super::error::codes::INVALID_BODY,
            error.message,
        )
        .with_field(field)
    })
}

fn merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    target.remove(&key);
                } else {
                    merge(target.entry(key).or_insert(Value::Null), value);
                }
            }
        }
        (target, patch) => *target = patch,
    }
}

/// Start times at which a party would be booked exactly, on one date.
#[utoipa::path(get, path = "/restaurants/{id}/availability", tag = "restaurants",
    params(("id" = String, Path, description = "Restaurant id"), AvailabilityQuery),
    responses(
        (status = 200, body = AvailabilityDoc),
        (status = 404, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "`invalid_date`, `invalid_party_size`, `party_too_large`", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn availability(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<AvailabilityQuery>,
) -> Result<axum::Json<Availability>, ApiError> {
    let id = restaurant_id(&id)?;
    let date = date_param(query.date.as_deref(), "date")?;
    let party_size = party_size_param(query.party_size.as_deref())?;
    let restaurant = state
        .app
        .restaurant(&id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    let day = state.app.day_book(&id, date).await?;
    let now = state.app.civil_now(&restaurant.timezone);
    let times = reservation_core::allocation::availability(&restaurant, &day, party_size, now)?;
    Ok(axum::Json(Availability {
        date,
        party_size,
        times,
    }))
}

fn party_size_param(raw: Option<&str>) -> Result<u16, ApiError> {
    let invalid = |message: &str| {
        ApiError::Domain(
            DomainError::new(ErrorCode::InvalidPartySize, message).with_field("party_size"),
        )
    };
    let raw = raw.ok_or_else(|| invalid("party_size is required"))?;
    let value: i64 = raw
        .trim()
        .parse()
        .map_err(|_| invalid("party_size must be a whole number"))?;
    if value < 1 {
        return Err(invalid("a party has at least one guest"));
    }
    u16::try_from(value).map_err(|_| {
        ApiError::Domain(
            DomainError::new(ErrorCode::PartyTooLarge, "party too large").with_field("party_size"),
        )
    })
}

/// The PII-free snapshot of a service day (configuration plus held intervals), for offline
/// previews with the wasm package.
#[utoipa::path(get, path = "/restaurants/{id}/days/{date}/snapshot", tag = "restaurants",
    params(("id" = String, Path, description = "Restaurant id"), ("date" = String, Path, description = "Service date, YYYY-MM-DD")),
    responses(
        (status = 200, body = SnapshotDoc),
        (status = 404, body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "`invalid_date`", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn snapshot(
    State(state): State<AppState>,
    Path((id, date)): Path<(String, String)>,
) -> Result<axum::Json<DaySnapshot>, ApiError> {
    let id = restaurant_id(&id)?;
    let date = date_param(Some(&date), "date")?;
    let restaurant = state
        .app
        .restaurant(&id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    let day = state.app.day_book(&id, date).await?;
    Ok(axum::Json(DaySnapshot::of(&restaurant, &day)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_patches_merge_field_by_field() {
        let current = BookingPolicy {
            buffer_minutes: 15,
            ..BookingPolicy::default()
        };
        let patch = serde_json::json!({"turn_minutes": 90})
            .as_object()
            .unwrap()
            .clone();
        let merged = merge_policy(&current, patch).unwrap();
        assert_eq!(merged.turn_minutes, 90);
        assert_eq!(merged.buffer_minutes, 15);
        let reset = serde_json::json!({"buffer_minutes": null})
            .as_object()
            .unwrap()
            .clone();
        assert_eq!(merge_policy(&current, reset).unwrap().buffer_minutes, 0);
        let bad = serde_json::json!({"turn_minutes": "long"})
            .as_object()
            .unwrap()
            .clone();
        let problem = merge_policy(&current, bad).unwrap_err().problem();
        assert_eq!(
            problem.errors[0].field.as_deref(),
            Some("policy.turn_minutes")
        );
    }

    #[test]
    fn path_and_query_parameters_are_checked() {
        assert_eq!(
            date_param(Some("2026-02-30"), "date")
                .unwrap_err()
                .problem()
                .code,
            "invalid_date"
        );
        assert_eq!(
            date_param(None, "date").unwrap_err().problem().code,
            "invalid_date"
        );
        assert_eq!(
            party_size_param(Some("0")).unwrap_err().problem().code,
            "invalid_party_size"
        );
        assert_eq!(
            party_size_param(Some("x")).unwrap_err().problem().code,
            "invalid_party_size"
        );
        assert_eq!(
            party_size_param(Some("70000")).unwrap_err().problem().code,
            "party_too_large"
        );
        assert_eq!(party_size_param(Some("4")).unwrap(), 4);
        assert_eq!(
            restaurant_id("a:b").unwrap_err().status(),
            StatusCode::NOT_FOUND
        );
    }
}
