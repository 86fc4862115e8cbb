//! `/users/{user_id}/reservations`: a guest's reservations across restaurants.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use reservation_core::ids::UserId;
use serde::Serialize;

use super::AppState;
use super::error::ApiError;
use super::extract::Path;
use super::schema::{ProblemDoc, UserListingDoc};
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
#[utoipa::path(get, path = "/users/{user_id}/reservations", tag = "reservations",
    params(("user_id" = String, Path, description = "User id")),
    responses(
        (status = 200, body = UserListingDoc),
        (status = 404, description = "Not a possible user id", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    Path(user_id): Path<String>,
) -> Result<axum::Json<UserListing>, ApiError> {
    let user_id = UserId::parse(user_id.as_str())
        .map_err(|_| ApiError::not_found(format!("no user {user_id:?}")))?;
    let reservations = state
        .read_your_writes()
        .await?
        .user(user_id.as_str())
        .await?;
    Ok(axum::Json(UserListing {
        user_id: user_id.to_string(),
        reservations,
    }))
}
