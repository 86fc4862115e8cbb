//! Extractors whose rejection is [`ApiError`], so a malformed body, path or query gets the same
//! problem+json answer as everything else (axum `examples/error-handling`).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use reservation_core::json::JsonError;
use serde::de::DeserializeOwned;

use super::error::{ApiError, codes};

/// A JSON body: `application/json` (or `application/*+json`), within the body limit, parsed
/// strictly. Syntax errors are 400 `malformed_json`; well-formed JSON of the wrong shape is 422
/// `invalid_body` naming the field.
#[derive(Debug, Clone)]
pub struct Json<T>(pub T);

/// Like [`Json`], but an empty body (with or without a content type) stands for `T::default()`.
#[derive(Debug, Clone)]
pub struct OptionalJson<T>(pub T);

fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::client(
                StatusCode::PAYLOAD_TOO_LARGE,
                codes::PAYLOAD_TOO_LARGE,
                "the request body is too large",
            )
        } else {
            ApiError::client(
                StatusCode::BAD_REQUEST,
                codes::MALFORMED_JSON,
                "the request body could not be read",
            )
        }
    })
}

/// Parses `bytes` as `T` (a JSON object), naming the offending field on shape errors. Input
/// that is not JSON at all is 400 `malformed_json`, whatever `T` is.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let malformed = |e: serde_json::Error| {
        ApiError::client(
            StatusCode::BAD_REQUEST,
            codes::MALFORMED_JSON,
            format!("malformed JSON: {e}"),
        )
    };
    // Shape errors are only reported for well-formed JSON (checked on the error path only).
    let syntax = |bytes: &[u8]| {
        serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
            .map(|_| ())
            .map_err(malformed)
    };
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        syntax(bytes)?;
        return Err(ApiError::client(
            StatusCode::UNPROCESSABLE_ENTITY,
            codes::INVALID_BODY,
            "the body must be a JSON object",
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if let Err(e) = syntax(bytes) {
            return e;
        }
        match inner.classify() {
            serde_json::error::Category::Data => {
                let text = inner.to_string();
                // The core's types decode through their own JSON reader, which writes the
                // path inside them into the text; serde_path_to_error knows the path to them.
                let (inside, message) = JsonError::split_display(&text);
                let error = ApiError::client(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    codes::INVALID_BODY,
                    message,
                );
                match field_path(&path, inside) {
                    Some(field) => error.with_field(field),
                    None => error,
                }
            }
            _ => malformed(inner),
        }
    })?;
    deserializer.end().map_err(malformed)?;
    Ok(value)
}

/// `outer` (serde's path to a value, `.` at the top) joined with `inner` (the core's path inside
/// it); `None` at the top.
pub(crate) fn field_path(outer: &str, inner: &str) -> Option<String> {
    let outer = if outer == "." { "" } else { outer };
    let joined = match (outer.is_empty(), inner.is_empty() || inner.starts_with('[')) {
        (true, _) => inner.to_owned(),
        (false, true) => [outer, inner].concat(),
        (false, false) => [outer, ".", inner].concat(),
    };
    (!joined.is_empty()).then_some(joined)
}

fn unsupported() -> ApiError {
    ApiError::client(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        codes::UNSUPPORTED_MEDIA_TYPE,
        "the body must be JSON with Content-Type: application/json",
    )
}

impl<S, T> FromRequest<S> for Json<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(unsupported());
        }
        let bytes = body_bytes(req, state).await?;
        parse_json(&bytes).map(Json)
    }
}

impl<S, T> FromRequest<S> for OptionalJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Default,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = is_json(req.headers());
        let bytes = body_bytes(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        if !json {
            return Err(unsupported());
        }
        parse_json(&bytes).map(OptionalJson)
    }
}

/// Path parameters as strings; they are parsed (and 404'd or 422'd) by the handlers.
#[derive(Debug, Clone)]
pub struct Path<T>(pub T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Path(value))
            .map_err(|rejection| {
                ApiError::not_found(format!("no such resource: {}", rejection.body_text()))
            })
    }
}

/// Query parameters; a malformed query string is 422 `invalid_query`.
#[derive(Debug, Clone)]
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Query(value))
            .map_err(|rejection| {
                ApiError::client(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    codes::INVALID_QUERY,
                    rejection.body_text(),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        party_size: u16,
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        seats: u16,
    }

    #[test]
    fn syntax_errors_are_400_and_shape_errors_422_with_the_field() {
        let e = parse_json::<Body>(b"{\"party_size\": ").unwrap_err();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert_eq!(e.problem().code, "malformed_json");
        let e = parse_json::<Body>(b"{\"party_size\": 2} x").unwrap_err();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        let e =
            parse_json::<Body>(b"{\"party_size\": 2, \"inner\": {\"seats\": \"x\"}}").unwrap_err();
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let problem = e.problem();
        assert_eq!(problem.code, "invalid_body");
        assert_eq!(problem.errors[0].field.as_deref(), Some("inner.seats"));
        let e = parse_json::<Body>(b"{\"party_size\": 2, \"extra\": 1}").unwrap_err();
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(parse_json::<Body>(b"{\"party_size\": 2}").is_ok());
        let e = parse_json::<Body>(b"{} {}").unwrap_err();
        assert_eq!(
            e.status(),
            StatusCode::BAD_REQUEST,
            "not JSON, even if its start has the wrong shape"
        );
        let e = parse_json::<Body>(b"[2]").unwrap_err();
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let e = parse_json::<Body>(b"[2").unwrap_err();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn json_content_types_are_recognised() {
        let mut headers = HeaderMap::new();
        assert!(!is_json(&headers));
        headers.insert(
            header::CONTENT_TYPE,
            "application/json; charset=utf-8".parse().unwrap(),
        );
        assert!(is_json(&headers));
        headers.insert(
            header::CONTENT_TYPE,
            "application/merge-patch+json".parse().unwrap(),
        );
        assert!(is_json(&headers));
        headers.insert(header::CONTENT_TYPE, "text/plain".parse().unwrap());
        assert!(!is_json(&headers));
    }
}
