//! Prometheus metrics: requests by route and status, request latency, and (from the
//! application layer) commands, write conflicts, retries, and the two waits of a booking. The
//! recorder is process-wide (the `metrics` facade), installed once.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::AppState;
use crate::app::{APPEND_DURATION, DAY_LINE_WAIT};
use crate::store::sqlite::{BATCH_APPENDS, CHECKPOINT_DURATION, COMMIT_DURATION, SYNC_DURATION};

pub const REQUESTS: &str = "http_requests_total";
pub const LATENCY: &str = "http_request_duration_seconds";

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0,
];

/// The stages of a booking take milliseconds: finer buckets where a p99 target (20 ms) lies.
const STAGE_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.002, 0.004, 0.006, 0.008, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.06, 0.1,
    0.25, 1.0,
];

/// The stage histograms (in seconds, with [`STAGE_BUCKETS`]) and their help texts.
const STAGES: &[(&str, &str)] = &[
    (
        DAY_LINE_WAIT,
        "Time a booking waited for the other bookings of its day in this process",
    ),
    (
        APPEND_DURATION,
        "Time an append took to be durable in the event store (queue, commit, sync)",
    ),
    (
        COMMIT_DURATION,
        "Time the SQLite event store's writer took to commit one batch of appends (before its fsync)",
    ),
    (
        SYNC_DURATION,
        "Time one fsync of the SQLite event store's WAL took",
    ),
    (
        CHECKPOINT_DURATION,
        "Time one checkpoint pass of the SQLite event store took, by pass: step and restart beside the writer, finish in the writer",
    ),
];

/// Appends per event-store batch.
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process-wide recorder's handle (installed on first use; `None` if another recorder was
/// installed first).
pub fn handle() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let mut builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(LATENCY.to_owned()), LATENCY_BUCKETS)
                .ok()?
                .set_buckets_for_metric(Matcher::Full(BATCH_APPENDS.to_owned()), BATCH_BUCKETS)
                .ok()?;
            for (stage, _) in STAGES {
                builder = builder
                    .set_buckets_for_metric(Matcher::Full((*stage).to_owned()), STAGE_BUCKETS)
                    .ok()?;
            }
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            describe();
            let upkeep = handle.clone();
            // Histograms keep raw samples until upkeep folds them into buckets.
            let _ = std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(Duration::from_secs(5));
                        upkeep.run_upkeep();
                    }
                });
            Some(handle)
        })
        .clone()
}

fn describe() {
    metrics::describe_counter!(REQUESTS, "HTTP requests by method, route and status");
    metrics::describe_histogram!(
        LATENCY,
        metrics::Unit::Seconds,
        "HTTP request latency by method and route"
    );
    metrics::describe_counter!(
        "reservation_commands_total",
        "Commands by type and outcome (recorded, unchanged, refused, contention)"
    );
    metrics::describe_counter!(
        "reservation_write_conflicts_total",
        "Appends refused for a stale expected version"
    );
    metrics::describe_counter!(
        "reservation_command_retries_total",
        "Commands decided again after a conflict"
    );
    for (stage, help) in STAGES {
        metrics::describe_histogram!(*stage, metrics::Unit::Seconds, *help);
    }
    metrics::describe_histogram!(BATCH_APPENDS, "Appends committed in one SQLite transaction");
    metrics::describe_counter!(
        "reservation_dynamodb_requests_total",
        "Requests sent to DynamoDB (each SDK attempt) by side (events, read) and operation"
    );
}

/// Counts and times a request under its route template (not its raw path): started before the
/// request is handled, finished with its response.
pub(super) struct RequestTimer {
    start: Instant,
    method: String,
    route: String,
}

impl RequestTimer {
    pub(super) fn start(request: &Request) -> RequestTimer {
        RequestTimer {
            start: Instant::now(),
            method: request.method().to_string(),
            route: request
                .extensions()
                .get::<MatchedPath>()
                .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned()),
        }
    }

    pub(super) fn finish(self, response: &Response) {
        let elapsed = self.start.elapsed().as_secs_f64();
        let status = response.status().as_u16().to_string();
        metrics::counter!(REQUESTS, "method" => self.method.clone(), "route" => self.route.clone(), "status" => status)
            .increment(1);
        metrics::histogram!(LATENCY, "method" => self.method, "route" => self.route)
            .record(elapsed);
    }
}

/// `GET /metrics`: the Prometheus text format. Admins and `service` tokens.
#[utoipa::path(get, path = "/metrics", tag = "operations", security(("bearer" = [])),
    responses(
        (status = 200, description = "Prometheus text exposition format", content_type = "text/plain"),
        (status = 401, description = "`unauthenticated`", body = super::schema::ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`", body = super::schema::ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn render(
    State(_state): State<AppState>,
    caller: super::auth::Caller,
) -> Result<Response, super::error::ApiError> {
    super::events::require_feed(&caller)?;
    let body = handle().map(|h| h.render()).unwrap_or_default();
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(response)
}
