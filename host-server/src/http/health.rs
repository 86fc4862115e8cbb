//! Operations: liveness, readiness and metrics.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use super::error::{ApiError, codes};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(super::metrics::render))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the process answers.
    pub status: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`.
    pub status: String,
    /// The event store's head position.
    pub head: u64,
    /// The read models' checkpoint (the position they reflect).
    pub checkpoint: u64,
}

/// Liveness: the process is up and serving.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, body = Health)))]
pub async fn health() -> axum::Json<Health> {
    axum::Json(Health {
        status: "ok".to_owned(),
    })
}

/// Readiness: the event store and the read models answer.
#[utoipa::path(get, path = "/ready", tag = "operations", responses(
    (status = 200, body = Readiness),
    (status = 503, description = "Not ready", body = super::schema::ProblemDoc, content_type = "application/problem+json"),
))]
pub async fn ready(State(state): State<AppState>) -> Result<axum::Json<Readiness>, ApiError> {
    let not_ready = |detail: String| {
        tracing::warn!(%detail, "not ready");
        ApiError::client(
            StatusCode::SERVICE_UNAVAILABLE,
            codes::NOT_READY,
            "the service is not ready",
        )
    };
    let head = state
        .app
        .store()
        .head()
        .await
        .map_err(|e| not_ready(e.to_string()))?;
    let checkpoint = state
        .read
        .checkpoint()
        .await
        .map_err(|e| not_ready(e.to_string()))?;
    Ok(axum::Json(Readiness {
        status: "ready".to_owned(),
        head,
        checkpoint,
    }))
}
