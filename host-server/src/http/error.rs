//! The one error type of the HTTP layer and its one mapping to `application/problem+json`
//! (RFC 9457): `type`, `title`, `status`, `detail`, plus our stable `code`, field-level `errors`
//! for validation and `alternatives` where the domain offers them. Internal details are logged
//! (with the request id of the current span) and never sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use reservation_core::time::ClockTime;
use reservation_core::{DomainError, ErrorKind};
use serde::Serialize;

use crate::app::AppError;
use crate::projection::ProjectionError;
use crate::store::StoreError;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// Stable codes the HTTP layer adds to the core's [`reservation_core::ErrorCode`]s.
pub mod codes {
    pub const MALFORMED_JSON: &str = "malformed_json";
    pub const INVALID_BODY: &str = "invalid_body";
    pub const INVALID_QUERY: &str = "invalid_query";
    pub const INVALID_TIMESTAMP: &str = "invalid_timestamp";
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "unsupported_media_type";
    pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";
    pub const NOT_FOUND: &str = "not_found";
    pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
    pub const CONCURRENT_UPDATE: &str = "concurrent_update";
    pub const TIMEOUT: &str = "timeout";
    pub const SERVICE_UNAVAILABLE: &str = "service_unavailable";
    pub const NOT_READY: &str = "not_ready";
    pub const INTERNAL_ERROR: &str = "internal_error";
    pub const UNAUTHENTICATED: &str = "unauthenticated";
    pub const FORBIDDEN: &str = "forbidden";
    pub const RATE_LIMITED: &str = "rate_limited";
    pub const OVERLOADED: &str = "overloaded";

    /// Every HTTP-layer code with its status and meaning (for the docs page).
    pub const ALL: &[(&str, u16, &str)] = &[
        (MALFORMED_JSON, 400, "The body is not valid JSON."),
        (
            INVALID_BODY,
            422,
            "The JSON does not have the expected shape (a missing field, a wrong type, an unknown field).",
        ),
        (INVALID_QUERY, 422, "A query parameter is malformed."),
        (
            INVALID_TIMESTAMP,
            422,
            "`as_of` is not an RFC 3339 timestamp.",
        ),
        (
            UNAUTHENTICATED,
            401,
            "No bearer token, or one that is malformed, expired, badly signed or of the wrong algorithm.",
        ),
        (
            FORBIDDEN,
            403,
            "The token is valid but its role may not do this (or not for this restaurant or guest).",
        ),
        (NOT_FOUND, 404, "No such route or resource."),
        (
            METHOD_NOT_ALLOWED,
            405,
            "The route exists but not with this method.",
        ),
        (
            CONCURRENT_UPDATE,
            409,
            "Other writers kept changing the same day; retry.",
        ),
        (PAYLOAD_TOO_LARGE, 413, "The body is over the size limit."),
        (
            UNSUPPORTED_MEDIA_TYPE,
            415,
            "The body must be `application/json`.",
        ),
        (
            RATE_LIMITED,
            429,
            "Too many requests from this client; wait `Retry-After` seconds.",
        ),
        (
            INTERNAL_ERROR,
            500,
            "A bug; the details are in the server's log.",
        ),
        (
            SERVICE_UNAVAILABLE,
            503,
            "The event store or the read models cannot be reached; retry later.",
        ),
        (
            NOT_READY,
            503,
            "The service is not ready (readiness probe).",
        ),
        (
            OVERLOADED,
            503,
            "The server is at its concurrency limit; retry after `Retry-After` seconds.",
        ),
        (
            TIMEOUT,
            503,
            "The request took longer than the server's time limit.",
        ),
    ];
}

/// One field-level problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// The problem document.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    pub code: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<ClockTime>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A refusal by the core, mapped by its kind.
    #[error("{0}")]
    Domain(DomainError),
    /// Field validation failed: 422 with every problem.
    #[error("invalid request")]
    Validation(Vec<DomainError>),
    /// Any other client error with its own status and code.
    #[error("{code}: {detail}")]
    Client {
        status: StatusCode,
        code: &'static str,
        detail: String,
        field: Option<String>,
    },
    /// The store or read models failed: 503, details only in the log.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A bug: 500, details only in the log.
    #[error("internal: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn client(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Client {
            status,
            code,
            detail: detail.into(),
            field: None,
        }
    }

    pub fn with_field(self, field: impl Into<String>) -> Self {
        match self {
            ApiError::Client {
                status,
                code,
                detail,
                ..
            } => ApiError::Client {
                status,
                code,
                detail,
                field: Some(field.into()),
            },
            other => other,
        }
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::client(StatusCode::NOT_FOUND, codes::NOT_FOUND, detail)
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Domain(e) => kind_status(e.code.kind()),
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Client { status, .. } => *status,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn problem(&self) -> Problem {
        let status = self.status();
        let (code, detail, errors, alternatives) = match self {
            ApiError::Domain(e) => {
                let errors = if e.field.is_some() {
                    vec![field_error(e)]
                } else {
                    Vec::new()
                };
                (
                    e.code.as_str().to_owned(),
                    e.message.clone(),
                    errors,
                    e.alternatives.clone(),
                )
            }
            ApiError::Validation(list) => {
                let code = list
                    .first()
                    .map_or("invalid_request", |e| e.code.as_str())
                    .to_owned();
                let detail = match list.len() {
                    1 => list.first().map(|e| e.message.clone()).unwrap_or_default(),
                    n => format!("{n} fields are invalid"),
                };
                (
                    code,
                    detail,
                    list.iter().map(field_error).collect(),
                    Vec::new(),
                )
            }
            ApiError::Client {
                code,
                detail,
                field,
                ..
            } => {
                let errors = field
                    .iter()
                    .map(|f| FieldError {
                        code: (*code).to_owned(),
                        message: detail.clone(),
                        field: Some(f.clone()),
                    })
                    .collect();
                ((*code).to_owned(), detail.clone(), errors, Vec::new())
            }
            ApiError::Unavailable(_) => (
                codes::SERVICE_UNAVAILABLE.to_owned(),
                "the service cannot reach its storage right now; please retry".to_owned(),
                Vec::new(),
                Vec::new(),
            ),
            ApiError::Internal(_) => (
                codes::INTERNAL_ERROR.to_owned(),
                "something went wrong on our side; it has been logged".to_owned(),
                Vec::new(),
                Vec::new(),
            ),
        };
        Problem {
            type_uri: type_uri(&code),
            title: title(status),
            status: status.as_u16(),
            detail,
            code,
            errors,
            alternatives,
        }
    }
}

/// The problem `type`: a link to the code's entry on the docs page.
pub fn type_uri(code: &str) -> String {
    format!("/docs#error-{code}")
}

fn field_error(e: &DomainError) -> FieldError {
    FieldError {
        code: e.code.as_str().to_owned(),
        message: e.message.clone(),
        field: e.field.clone(),
    }
}

pub fn kind_status(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::Malformed => StatusCode::BAD_REQUEST,
    }
}

pub fn title(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "Malformed request",
        401 => "Unauthenticated",
        403 => "Forbidden",
        404 => "Not found",
        405 => "Method not allowed",
        408 => "Request timeout",
        409 => "Conflict",
        413 => "Payload too large",
        415 => "Unsupported media type",
        422 => "Invalid request",
        429 => "Too many requests",
        500 => "Internal server error",
        503 => "Service unavailable",
        _ => status.canonical_reason().unwrap_or("Error"),
    }
}

/// A problem response for a bare status (used for responses produced by middleware).
pub fn problem_for_status(status: StatusCode) -> ApiError {
    match status.as_u16() {
        404 => ApiError::not_found("no such resource"),
        405 => ApiError::client(
            status,
            codes::METHOD_NOT_ALLOWED,
            "this method is not allowed on this route",
        ),
        408 | 503 => ApiError::client(
            StatusCode::SERVICE_UNAVAILABLE,
            codes::TIMEOUT,
            "the request took too long; please retry",
        ),
        413 => ApiError::client(
            status,
            codes::PAYLOAD_TOO_LARGE,
            "the request body is too large",
        ),
        415 => ApiError::client(
            status,
            codes::UNSUPPORTED_MEDIA_TYPE,
            "the body must be application/json",
        ),
        400..=499 => ApiError::client(
            status,
            codes::MALFORMED_JSON,
            "the request could not be read",
        ),
        _ => ApiError::Internal(format!("status {status} without a body")),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            ApiError::Internal(detail) => tracing::error!(%detail, "internal error"),
            ApiError::Unavailable(detail) => tracing::warn!(%detail, "storage unavailable"),
            _ => tracing::debug!(error = %self, "request refused"),
        }
        let body = serde_json::to_vec(&self.problem()).unwrap_or_else(|_| b"{}".to_vec());
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"reservations\""),
            );
        }
        if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        ApiError::Domain(e)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(detail) => ApiError::Unavailable(detail),
            StoreError::TooLarge(detail) => ApiError::Client {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                code: codes::PAYLOAD_TOO_LARGE,
                detail: format!("the change is too large to record: {detail}"),
                field: None,
            },
            StoreError::Conflict { .. } => ApiError::client(
                StatusCode::CONFLICT,
                codes::CONCURRENT_UPDATE,
                "the data changed while this request was handled; please retry",
            ),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Domain(e) => ApiError::Domain(e),
            AppError::Invalid(list) => ApiError::Validation(list),
            AppError::Contention(attempts) => ApiError::client(
                StatusCode::CONFLICT,
                codes::CONCURRENT_UPDATE,
                format!("other changes kept winning ({attempts} attempts); please retry"),
            ),
            AppError::Store(e) => ApiError::from(e),
            corrupt @ AppError::Corrupt { .. } => ApiError::Internal(corrupt.to_string()),
        }
    }
}

impl From<ProjectionError> for ApiError {
    fn from(e: ProjectionError) -> Self {
        match e {
            ProjectionError::Store(e) => ApiError::from(e),
            ProjectionError::Database(_)
            | ProjectionError::Io { .. }
            | ProjectionError::Worker(_)
            | ProjectionError::AheadOfStore { .. }
            | ProjectionError::NotInStore { .. } => ApiError::Unavailable(e.to_string()),
            ProjectionError::Undecodable { .. }
            | ProjectionError::WrongStream { .. }
            | ProjectionError::Corrupt(_) => ApiError::Internal(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reservation_core::ErrorCode;

    #[test]
    fn domain_errors_map_by_kind_with_their_field() {
        let e = ApiError::Domain(
            DomainError::new(ErrorCode::PartyTooLarge, "too many").with_field("party_size"),
        );
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let p = serde_json::to_value(e.problem()).unwrap();
        assert_eq!(p["code"], "party_too_large");
        assert_eq!(p["status"], 422);
        assert_eq!(p["errors"][0]["field"], "party_size");
        assert_eq!(p["type"], "/docs#error-party_too_large");
        let not_found = ApiError::Domain(DomainError::new(ErrorCode::ReservationNotFound, "no"));
        assert_eq!(not_found.status(), StatusCode::NOT_FOUND);
        let conflict = ApiError::Domain(
            DomainError::new(ErrorCode::NoTableAvailable, "full")
                .with_alternatives(vec![ClockTime::parse("19:15").unwrap()]),
        );
        assert_eq!(conflict.status(), StatusCode::CONFLICT);
        assert_eq!(
            serde_json::to_value(conflict.problem()).unwrap()["alternatives"][0],
            "19:15"
        );
        let malformed = ApiError::Domain(DomainError::new(ErrorCode::MalformedInput, "bad"));
        assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn internal_details_are_never_sent() {
        let e = ApiError::from(StoreError::Unavailable("disk /secret/path is full".into()));
        assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = serde_json::to_string(&e.problem()).unwrap();
        assert!(!body.contains("secret"), "{body}");
        let e = ApiError::Internal("stack trace".into());
        assert!(
            !serde_json::to_string(&e.problem())
                .unwrap()
                .contains("stack")
        );
    }
}
