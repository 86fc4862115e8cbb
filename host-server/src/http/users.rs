//! `/users/{user_id}/reservations`: a guest's reservations across restaurants.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use reservation_core::ids::UserId;
use serde::Serialize;

use super::AppState;
use super::auth::{Caller, forbidden};
use super::error::ApiError;
use super::extract::Path;
use super::schema::{ProblemDoc, UserListingDoc};
use crate::auth::Role;
use crate::view::ReservationView;

pub fn router() -> Router<AppState> {
    Router::new().route("/users/{user_id}/reservations", get(list))
}

#[derive(Debug, Serialize)]
pub struct UserListing {
    pub user_id: String,
    pub reservations: Vec<ReservationView>,
}

/// A user's reservations in every status, sorted by date and time.
///
/// A guest sees only their own (another user's: 403); staff see the user's reservations at
/// their restaurants; admins see all.
#[utoipa::path(get, path = "/users/{user_id}/reservations", tag = "reservations",
    params(("user_id" = String, Path, description = "User id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = UserListingDoc),
        (status = 401, description = "`unauthenticated`", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: another guest's reservations", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "Not a possible user id", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<String>,
) -> Result<axum::Json<UserListing>, ApiError> {
    let allowed = match caller.role {
        Role::Admin | Role::Staff => true,
        Role::Guest => caller.subject == user_id,
        Role::Service => false,
    };
    if !allowed {
        return Err(forbidden("a guest may list only their own reservations"));
    }
    let user_id = UserId::parse(user_id.as_str())
        .map_err(|_| ApiError::not_found(format!("no user {user_id:?}")))?;
    let mut reservations = state
        .read_your_writes()
        .await?
        .user(user_id.as_str())
        .await?;
    if caller.role == Role::Staff {
        reservations.retain(|r| caller.manages(r.restaurant_id.as_str()));
    }
    Ok(axum::Json(UserListing {
        user_id: user_id.to_string(),
        reservations,
    }))
}
