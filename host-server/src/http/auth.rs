//! The [`Caller`] extractor (the verified bearer token of a request, or 401) and the checks the
//! handlers make with it (403, or 404 for reservations the caller may not see).
//!
//! Refusals: no token, a malformed `Authorization` header, a bad signature, an expired token,
//! an algorithm the configured key does not use → 401 `unauthenticated` with
//! `WWW-Authenticate: Bearer`. A valid token whose role may not do this → 403 `forbidden`.
//! A reservation that is not the caller's → 404 `reservation_not_found`, exactly as if it did
//! not exist (its existence is not revealed).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use reservation_core::ids::ReservationId;
use reservation_core::reservation::Reservation;
use reservation_core::{DomainError, ErrorCode};

use super::AppState;
use super::error::{ApiError, codes};
use crate::auth::{AuthError, Principal, Role};

/// The verified caller of a request.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl std::ops::Deref for Caller {
    type Target = Principal;

    fn deref(&self) -> &Principal {
        &self.0
    }
}

/// 401 `unauthenticated` for `error`.
pub fn unauthenticated(error: &AuthError) -> ApiError {
    ApiError::client(
        StatusCode::UNAUTHORIZED,
        codes::UNAUTHENTICATED,
        error.to_string(),
    )
}

/// 403 `forbidden`.
pub fn forbidden(detail: impl Into<String>) -> ApiError {
    ApiError::client(StatusCode::FORBIDDEN, codes::FORBIDDEN, detail)
}

/// The bearer token of `Authorization: Bearer <token>` (scheme case-insensitive).
pub fn bearer_token(value: &str) -> Result<&str, AuthError> {
    let (scheme, token) = value.trim().split_once(' ').ok_or(AuthError::NotBearer)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::NotBearer);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(AuthError::NotBearer);
    }
    Ok(token)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Verified once already by the admission layer.
        if let Some(super::limits::Verified(verified)) = parts.extensions.get() {
            return verified
                .clone()
                .map(Caller)
                .map_err(|e| unauthenticated(&e));
        }
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| unauthenticated(&AuthError::Missing))?;
        let value = value
            .to_str()
            .map_err(|_| unauthenticated(&AuthError::NotBearer))?;
        let token = bearer_token(value).map_err(|e| unauthenticated(&e))?;
        let principal = state.auth.verify(token).map_err(|e| unauthenticated(&e))?;
        tracing::debug!(subject = %principal.subject, role = principal.role.as_str(), "caller");
        Ok(Caller(principal))
    }
}

/// 403 unless the caller has one of `roles` (admin always passes).
pub fn require_role(caller: &Principal, roles: &[Role], what: &str) -> Result<(), ApiError> {
    if caller.is_admin() || roles.contains(&caller.role) {
        Ok(())
    } else {
        Err(forbidden(format!(
            "a {} may not {what}",
            caller.role.as_str()
        )))
    }
}

/// 403 unless the caller manages `restaurant` (admin, or staff of it).
pub fn require_manager(caller: &Principal, restaurant: &str, what: &str) -> Result<(), ApiError> {
    if caller.manages(restaurant) {
        Ok(())
    } else {
        Err(forbidden(format!(
            "only the restaurant's staff or an admin may {what}"
        )))
    }
}

fn reservation_not_found(id: &ReservationId) -> ApiError {
    ApiError::Domain(DomainError::new(
        ErrorCode::ReservationNotFound,
        format!("no reservation {id}"),
    ))
}

/// The reservation as first recorded (its restaurant and guest never change), if the caller
/// may see it; 404 otherwise, whether it exists or not. Read from the event store, so it holds
/// across replicas and does not wait for the read models.
pub async fn visible_reservation(
    state: &AppState,
    caller: &Principal,
    id: &ReservationId,
) -> Result<Reservation, ApiError> {
    let first = state
        .app
        .first_outcome(id)
        .await?
        .ok_or_else(|| reservation_not_found(id))?;
    if caller.may_see_reservation(first.restaurant_id.as_str(), first.user_id.as_str()) {
        Ok(first)
    } else {
        Err(reservation_not_found(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bearer_credentials_are_read() {
        assert_eq!(bearer_token("Bearer abc"), Ok("abc"));
        assert_eq!(bearer_token("bearer  abc "), Ok("abc"));
        assert_eq!(bearer_token("Basic abc"), Err(AuthError::NotBearer));
        assert_eq!(bearer_token("Bearer"), Err(AuthError::NotBearer));
        assert_eq!(bearer_token("Bearer   "), Err(AuthError::NotBearer));
        assert_eq!(bearer_token(""), Err(AuthError::NotBearer));
    }

    #[test]
    fn refusals_have_their_status_and_code() {
        let e = unauthenticated(&AuthError::Expired);
        assert_eq!(e.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(e.problem().code, "unauthenticated");
        let e = forbidden("no");
        assert_eq!(e.status(), StatusCode::FORBIDDEN);
        assert_eq!(e.problem().code, "forbidden");
        let guest = Principal::new("u1", Role::Guest, &[]);
        assert!(require_role(&guest, &[Role::Staff], "seat").is_err());
        let admin = Principal::new("root", Role::Admin, &[]);
        assert!(require_role(&admin, &[Role::Staff], "seat").is_ok());
        assert!(require_manager(&admin, "r1", "x").is_ok());
        let staff = Principal::new("s", Role::Staff, &["r1".to_owned()]);
        assert!(require_manager(&staff, "r1", "x").is_ok());
        assert!(require_manager(&staff, "r2", "x").is_err());
    }
}
