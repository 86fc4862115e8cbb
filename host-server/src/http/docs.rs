//! `GET /openapi.json` (OpenAPI 3.1, generated from the handlers and types with utoipa) and
//! `GET /docs`: the same spec rendered into one self-contained HTML page (no scripts, no CDN:
//! it works offline), with every error code and its status.

use std::fmt::Write as _;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use reservation_core::ErrorCode;
use serde_json::Value;
use utoipa::OpenApi;

use super::error::{codes, kind_status};
use super::{AppState, events, health, metrics, reservations, restaurants, schema, users};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Reservation service",
        description = "Restaurant reservations over an event-sourced core. JSON in and out, snake_case. \
Dates are `YYYY-MM-DD`, times `HH:MM`, both wall-clock values in the restaurant's own time zone. \
Errors are `application/problem+json` (RFC 9457) with a stable `code`; see the error list on `/docs`. \
Operations marked with the `bearer` security requirement need `Authorization: Bearer <JWT>` with the claims \
`sub`, `role` (`guest`, `staff`, `admin` or `service`), `restaurants` (staff) and `exp`; availability, \
snapshots, health, readiness and these docs are public.",
    ),
    modifiers(&BearerAuth),
    paths(
        restaurants::register, restaurants::read, restaurants::change, restaurants::availability, restaurants::snapshot,
        reservations::book, reservations::read, reservations::cancel, reservations::modify, reservations::seat,
        reservations::complete, reservations::no_show, reservations::day, users::list,
        events::page, events::stream,
        health::health, health::ready, metrics::render, openapi_json, page,
    ),
    components(schemas(
        schema::ProblemDoc, schema::FieldErrorDoc, schema::TableDoc, schema::CombinationDoc, schema::WeeklyHoursDoc,
        schema::ExceptionDoc, schema::TurnBandDoc, schema::PacingDoc, schema::PolicyDoc, schema::RestaurantConfigDoc,
        schema::CountsDoc, schema::RestaurantDoc, schema::StatusDoc, schema::ReasonDoc, schema::ReservationDoc,
        schema::DayListingDoc, schema::UserListingDoc, schema::AvailabilityDoc, schema::OccupancyDoc,
        schema::SnapshotDoc, schema::EventDoc, schema::EventPageDoc, schema::ReservationRequestDoc,
        restaurants::RegisterBody, restaurants::ChangeBody, reservations::CancelBody, reservations::ModifyBody,
        health::Health, health::Readiness,
    )),
    tags(
        (name = "restaurants", description = "Configuration, availability and day snapshots"),
        (name = "reservations", description = "Booking and the reservation lifecycle; listings"),
        (name = "events", description = "The global event log, for other services"),
        (name = "operations", description = "Health, readiness, metrics and these docs"),
    )
)]
pub struct ApiDoc;

/// The `bearer` security scheme (JWT) that protected operations name.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A JWT signed with the server's key: `sub`, `role` (guest | staff | admin | service), `restaurants` (staff), `exp`. `reservation-server token` prints one.",
                    ))
                    .build(),
            ),
        );
        add_shared_responses(openapi);
    }
}

/// Responses any operation may give, documented on every operation so the spec stays true:
/// 429 `rate_limited` and 503 (`overloaded`, `timeout`, `service_unavailable`) everywhere, and
/// for operations with a body 400 `malformed_json`, 413 `payload_too_large`, 415
/// `unsupported_media_type` and 422 `invalid_body`.
fn add_shared_responses(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let problem = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                super::error::PROBLEM_JSON,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ProblemDoc")))
                    .build(),
            )
            .build()
    };
    for item in openapi.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            let mut shared = vec![
                (
                    "429",
                    "`rate_limited`: too many requests from this client (see `Retry-After`)",
                ),
                (
                    "503",
                    "`overloaded`, `timeout` or `service_unavailable`: retry after `Retry-After` seconds",
                ),
            ];
            if operation.request_body.is_some() {
                shared.extend([
                    ("400", "`malformed_json`: the body is not JSON"),
                    ("413", "`payload_too_large`"),
                    (
                        "415",
                        "`unsupported_media_type`: the body must be `application/json`",
                    ),
                    ("422", "`invalid_body`: the JSON has the wrong shape"),
                ]);
            }
            for (status, description) in shared {
                operation
                    .responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| problem(description).into());
            }
        }
    }
}

/// The spec and its page, rendered once at startup.
pub struct Docs {
    pub openapi_json: String,
    pub html: String,
}

impl Docs {
    pub fn build() -> Docs {
        let spec = ApiDoc::openapi();
        let openapi_json = spec.to_pretty_json().unwrap_or_else(|_| "{}".to_owned());
        let value: Value = serde_json::from_str(&openapi_json).unwrap_or(Value::Null);
        Docs {
            html: render(&value),
            openapi_json,
        }
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/docs", get(page))
}

/// The OpenAPI 3.1 document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "OpenAPI 3.1", content_type = "application/json")))]
pub async fn openapi_json(State(state): State<AppState>) -> Response {
    let mut response = state.docs.openapi_json.clone().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// This documentation as one HTML page.
#[utoipa::path(get, path = "/docs", tag = "operations",
    responses((status = 200, description = "HTML", content_type = "text/html")))]
pub async fn page(State(state): State<AppState>) -> Html<String> {
    Html(state.docs.html.clone())
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Inline `code` spans from backticks, after escaping.
fn prose(text: &str) -> String {
    let escaped = esc(text);
    let mut out = String::with_capacity(escaped.len());
    for (i, part) in escaped.split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{part}</code>");
        } else {
            out.push_str(part);
        }
    }
    out.replace("\n\n", "</p><p>")
}

fn type_of(schema: &Value) -> String {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.rsplit('/').next().unwrap_or(reference);
        return format!("<a href=\"#schema-{0}\">{0}</a>", esc(name));
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(list) = schema.get(key).and_then(Value::as_array) {
            let parts: Vec<String> = list
                .iter()
                .filter(|s| s.get("type") != Some(&Value::from("null")))
                .map(type_of)
                .collect();
            return parts.join(" | ");
        }
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect(),
        _ => vec![],
    };
    let mut out = match types.first() {
        Some(&"array") => format!(
            "array of {}",
            schema
                .get("items")
                .map_or_else(|| "any".to_owned(), type_of)
        ),
        Some(t) => esc(t),
        None if schema.get("properties").is_some() => "object".to_owned(),
        None => "any".to_owned(),
    };
    if let Some(format) = schema.get("format").and_then(Value::as_str) {
        let _ = write!(out, " ({})", esc(format));
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let names: Vec<String> = values
            .iter()
            .map(|v| format!("<code>{}</code>", esc(&v.to_string())))
            .collect();
        let _ = write!(out, ": {}", names.join(", "));
    }
    out
}

fn body_type(content: Option<&Value>) -> String {
    let Some(content) = content.and_then(Value::as_object) else {
        return String::new();
    };
    content
        .iter()
        .map(|(media, body)| {
            let schema = body.get("schema").map(type_of).unwrap_or_default();
            format!("<code>{}</code> {schema}", esc(media))
        })
        .collect::<Vec<_>>()
        .join("<br>")
}

fn render(spec: &Value) -> String {
    let mut html = String::with_capacity(64 * 1024);
    let title = spec
        .pointer("/info/title")
        .and_then(Value::as_str)
        .unwrap_or("API");
    let description = spec
        .pointer("/info/description")
        .and_then(Value::as_str)
        .unwrap_or("");
    let _ = write!(
        html,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>\
body{{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;line-height:1.45;color:#222}}\
h2{{border-bottom:1px solid #ccc;padding-bottom:.2rem;margin-top:2.5rem}}\
.op{{border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem;margin:1rem 0}}\
.m{{display:inline-block;min-width:4.5rem;font-weight:bold;text-transform:uppercase}}\
.get{{color:#0a6}}.post{{color:#06c}}.patch{{color:#a60}}.delete{{color:#c00}}\
table{{border-collapse:collapse;width:100%;margin:.4rem 0}}td,th{{border:1px solid #e3e3e3;padding:.25rem .5rem;text-align:left;vertical-align:top}}\
code{{background:#f4f4f4;padding:0 .2rem;border-radius:3px}}</style></head><body>\
<h1>{t}</h1><p>{d}</p><p>Machine-readable: <a href=\"/openapi.json\">/openapi.json</a> (OpenAPI {v}).</p>\
<nav><a href=\"#endpoints\">Endpoints</a> · <a href=\"#errors\">Errors</a> · <a href=\"#schemas\">Schemas</a></nav>",
        t = esc(title),
        d = prose(description),
        v = esc(spec.get("openapi").and_then(Value::as_str).unwrap_or("3.1")),
    );
    html.push_str("<h2 id=\"endpoints\">Endpoints</h2>");
    if let Some(paths) = spec.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, op) in item {
                render_operation(&mut html, path, method, op);
            }
        }
    }
    render_errors(&mut html);
    html.push_str("<h2 id=\"schemas\">Schemas</h2>");
    if let Some(schemas) = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    {
        for (name, schema) in schemas {
            let _ = write!(html, "<h3 id=\"schema-{0}\">{0}</h3>", esc(name));
            if let Some(d) = schema.get("description").and_then(Value::as_str) {
                let _ = write!(html, "<p>{}</p>", prose(d));
            }
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            match schema.get("properties").and_then(Value::as_object) {
                Some(properties) => {
                    html.push_str("<table><tr><th>Field</th><th>Type</th><th>Required</th><th>Description</th></tr>");
                    for (field, property) in properties {
                        let _ = write!(
                            html,
                            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                            esc(field),
                            type_of(property),
                            if required.contains(&field.as_str()) {
                                "yes"
                            } else {
                                ""
                            },
                            prose(
                                property
                                    .get("description")
                                    .and_then(Value::as_str)
                                    .unwrap_or("")
                            ),
                        );
                    }
                    html.push_str("</table>");
                }
                None => {
                    let _ = write!(html, "<p>{}</p>", type_of(schema));
                }
            }
            if let Some(example) = schema.get("example") {
                let pretty = serde_json::to_string_pretty(example).unwrap_or_default();
                let _ = write!(
                    html,
                    "<details><summary>Example</summary><pre>{}</pre></details>",
                    esc(&pretty)
                );
            }
        }
    }
    html.push_str("</body></html>");
    html
}

fn render_operation(html: &mut String, path: &str, method: &str, op: &Value) {
    let _ = write!(
        html,
        "<div class=\"op\"><div><span class=\"m {m}\">{m}</span> <code>{p}</code></div>",
        m = esc(method),
        p = esc(path)
    );
    if let Some(summary) = op.get("summary").and_then(Value::as_str) {
        let _ = write!(html, "<p><strong>{}</strong></p>", prose(summary));
    }
    if let Some(description) = op.get("description").and_then(Value::as_str) {
        let _ = write!(html, "<p>{}</p>", prose(description));
    }
    if let Some(params) = op
        .get("parameters")
        .and_then(Value::as_array)
        .filter(|p| !p.is_empty())
    {
        html.push_str(
            "<table><tr><th>Parameter</th><th>In</th><th>Type</th><th>Description</th></tr>",
        );
        for param in params {
            let _ = write!(
                html,
                "<tr><td><code>{}</code>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(param.get("name").and_then(Value::as_str).unwrap_or("")),
                if param.get("required") == Some(&Value::Bool(true)) {
                    " (required)"
                } else {
                    ""
                },
                esc(param.get("in").and_then(Value::as_str).unwrap_or("")),
                param.get("schema").map(type_of).unwrap_or_default(),
                prose(
                    param
                        .get("description")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                ),
            );
        }
        html.push_str("</table>");
    }
    if let Some(body) = op.get("requestBody") {
        let _ = write!(html, "<p>Body: {}</p>", body_type(body.get("content")));
    }
    if let Some(responses) = op.get("responses").and_then(Value::as_object) {
        html.push_str("<table><tr><th>Status</th><th>Description</th><th>Body</th></tr>");
        for (status, response) in responses {
            let _ = write!(
                html,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(status),
                prose(
                    response
                        .get("description")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                ),
                body_type(response.get("content")),
            );
        }
        html.push_str("</table>");
    }
    html.push_str("</div>");
}

fn render_errors(html: &mut String) {
    html.push_str(
        "<h2 id=\"errors\">Errors</h2><p>Every error is <code>application/problem+json</code> (RFC 9457): \
<code>type</code> (a link here), <code>title</code>, <code>status</code>, <code>detail</code> and the stable \
<code>code</code> below; validation problems list every field in <code>errors: [{code, message, field}]</code>, \
and refusals that have other start times carry <code>alternatives</code>. Internal details are never returned; \
every response carries an <code>x-request-id</code> that the server's log lines share.</p>\
<table><tr><th>Code</th><th>Status</th><th>Meaning</th></tr>",
    );
    for code in ErrorCode::ALL {
        let _ = write!(
            html,
            "<tr id=\"error-{c}\"><td><code>{c}</code></td><td>{s}</td><td>{k:?}</td></tr>",
            c = code.as_str(),
            s = kind_status(code.kind()).as_u16(),
            k = code.kind(),
        );
    }
    for (code, status, meaning) in codes::ALL {
        let _ = write!(
            html,
            "<tr id=\"error-{c}\"><td><code>{c}</code></td><td>{status}</td><td>{m}</td></tr>",
            c = code,
            m = prose(meaning),
        );
    }
    html.push_str("</table>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_is_openapi_3_1_and_lists_every_route() {
        let docs = Docs::build();
        let spec: Value = serde_json::from_str(&docs.openapi_json).unwrap();
        assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
        for path in [
            "/restaurants",
            "/restaurants/{id}",
            "/restaurants/{id}/reservations",
            "/restaurants/{id}/availability",
            "/restaurants/{id}/days/{date}/snapshot",
            "/reservations/{id}",
            "/reservations/{id}/cancel",
            "/reservations/{id}/modify",
            "/reservations/{id}/seat",
            "/reservations/{id}/complete",
            "/reservations/{id}/no-show",
            "/users/{user_id}/reservations",
            "/events",
            "/events/stream",
            "/health",
            "/ready",
            "/metrics",
            "/openapi.json",
            "/docs",
        ] {
            assert!(spec["paths"][path].is_object(), "{path} missing");
        }
        assert!(spec["components"]["schemas"]["Reservation"].is_object());
        assert!(docs.html.contains("id=\"error-party_too_large\""));
        assert!(docs.html.contains("id=\"error-malformed_json\""));
        assert!(docs.html.contains("id=\"schema-Reservation\""));
        assert!(
            !docs.html.contains("<script"),
            "the page must work offline without scripts"
        );
    }
}
