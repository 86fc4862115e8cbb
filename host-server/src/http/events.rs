//! The global event log for other services: pages (`GET /events`) and a live tail
//! (`GET /events/stream`, Server-Sent Events). Each event is the core's wire form (`type`,
//! `version`, fields) plus `position`, `stream`, `stream_version` and `recorded_at`.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::routing::get;
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::watch;
use utoipa::IntoParams;

use super::AppState;
use super::auth::{Caller, forbidden};
use super::error::{ApiError, codes};
use super::extract::Query;
use super::schema::{EventPageDoc, ProblemDoc};
use crate::store::{EventStore, RecordedEvent};

/// Events per page unless `limit` says otherwise.
pub const DEFAULT_PAGE: usize = 100;
/// The largest page (larger `limit`s are clamped).
pub const MAX_PAGE: usize = 1000;
/// How often a live tail looks for new events without a wake-up.
const POLL: Duration = Duration::from_secs(1);
const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/events", get(page))
        .route("/events/stream", get(stream))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Return events after this position (default 0: from the start).
    #[param(value_type = Option<u64>)]
    pub after: Option<String>,
    /// Most events to return (default 100, at most 1000).
    #[param(value_type = Option<usize>)]
    pub limit: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Start after this position (default: `Last-Event-ID`, else 0).
    #[param(value_type = Option<u64>)]
    pub after: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Page {
    pub events: Vec<Value>,
    pub next_after: u64,
    pub head: u64,
}

fn number<T: std::str::FromStr>(raw: Option<&str>, field: &str) -> Result<Option<T>, ApiError> {
    raw.map(|raw| {
        raw.trim().parse::<T>().map_err(|_| {
            ApiError::client(
                StatusCode::UNPROCESSABLE_ENTITY,
                codes::INVALID_QUERY,
                format!("{field} must be a non-negative whole number"),
            )
            .with_field(field)
        })
    })
    .transpose()
}

/// 403 unless the caller may read the feed (admin or service).
pub(crate) fn require_feed(caller: &Caller) -> Result<(), ApiError> {
    if caller.may_read_feed() {
        Ok(())
    } else {
        Err(forbidden(
            "only admins and service tokens may read the event feed and the metrics",
        ))
    }
}

/// The wire form of a recorded event.
pub fn event_json(record: &RecordedEvent) -> Value {
    let mut object = match serde_json::from_str::<Value>(&record.payload) {
        Ok(Value::Object(fields)) => fields,
        _ => {
            let mut fields = Map::new();
            fields.insert("type".into(), Value::String(record.event_type.clone()));
            fields.insert("version".into(), Value::from(record.schema_version));
            fields
        }
    };
    object.insert("position".into(), Value::from(record.position));
    object.insert("stream".into(), Value::String(record.stream.clone()));
    object.insert("stream_version".into(), Value::from(record.stream_version));
    object.insert(
        "recorded_at".into(),
        Value::String(record.recorded_at.to_string()),
    );
    Value::Object(object)
}

/// A page of the global log, in commit order.
///
/// Admins and `service` tokens (other platform services).
#[utoipa::path(get, path = "/events", tag = "events", params(PageQuery), security(("bearer" = [])), responses(
    (status = 200, body = EventPageDoc),
    (status = 401, description = "`unauthenticated`", body = ProblemDoc, content_type = "application/problem+json"),
    (status = 403, description = "`forbidden`: not an admin or service", body = ProblemDoc, content_type = "application/problem+json"),
    (status = 422, description = "`invalid_query`", body = ProblemDoc, content_type = "application/problem+json"),
))]
pub async fn page(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<PageQuery>,
) -> Result<axum::Json<Page>, ApiError> {
    require_feed(&caller)?;
    let after = number::<u64>(query.after.as_deref(), "after")?.unwrap_or(0);
    let limit = number::<usize>(query.limit.as_deref(), "limit")?
        .unwrap_or(DEFAULT_PAGE)
        .clamp(1, MAX_PAGE);
    let store = state.app.store();
    let head = store.head().await?;
    let records = store.read_all(after, limit).await?;
    let next_after = records.last().map_or(after, |r| r.position);
    Ok(axum::Json(Page {
        events: records.iter().map(event_json).collect(),
        next_after,
        head,
    }))
}

/// A live tail of the global log as Server-Sent Events: each event's `id` is its position
/// (reconnect with `Last-Event-ID` to resume), its `event` the event type, its `data` the JSON
/// of `GET /events`. Comments keep idle connections alive.
///
/// Admins and `service` tokens.
#[utoipa::path(get, path = "/events/stream", tag = "events", params(StreamQuery,
    ("Last-Event-ID" = Option<String>, Header, description = "Resume after this position")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "text/event-stream", content_type = "text/event-stream"),
    (status = 401, description = "`unauthenticated`", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not an admin or service", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "`invalid_query`", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn stream(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(query): Query<StreamQuery>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    require_feed(&caller)?;
    let last_event_id = headers.get("last-event-id").and_then(|v| v.to_str().ok());
    let after = match number::<u64>(query.after.as_deref(), "after")? {
        Some(after) => after,
        None => number::<u64>(last_event_id, "Last-Event-ID")?.unwrap_or(0),
    };
    let tail = Tail {
        store: Arc::clone(state.app.store()),
        after,
        buffered: VecDeque::new(),
        wake: state.head.clone(),
        wake_open: true,
        shutdown: state.shutdown.clone(),
    };
    let events = futures_util::stream::unfold(tail, |mut tail| async move {
        tail.next().await.map(|event| (Ok(event), tail))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

struct Tail {
    store: Arc<dyn EventStore>,
    after: u64,
    buffered: VecDeque<RecordedEvent>,
    wake: watch::Receiver<u64>,
    wake_open: bool,
    shutdown: watch::Receiver<bool>,
}

impl Tail {
    /// The next event, waiting for one as long as it takes; `None` once the server shuts down.
    async fn next(&mut self) -> Option<SseEvent> {
        loop {
            if *self.shutdown.borrow() {
                return None;
            }
            if let Some(record) = self.buffered.pop_front() {
                let event = SseEvent::default()
                    .id(record.position.to_string())
                    .event(record.event_type.as_str())
                    .json_data(event_json(&record))
                    .unwrap_or_else(|_| SseEvent::default().comment("unserializable event"));
                return Some(event);
            }
            self.wake.borrow_and_update();
            match self.store.read_all(self.after, DEFAULT_PAGE).await {
                Ok(records) if !records.is_empty() => {
                    self.after = records.last().map_or(self.after, |r| r.position);
                    self.buffered.extend(records);
                    continue;
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "live tail cannot read the log; retrying"),
            }
            tokio::select! {
                changed = self.wake.changed(), if self.wake_open => {
                    // The store has shut down: keep polling until the server stops too.
                    self.wake_open = changed.is_ok();
                }
                changed = self.shutdown.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                }
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }
}
