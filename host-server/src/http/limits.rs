//! Request admission: one client cannot exhaust the server.
//!
//! Every request is attributed to a client — the verified bearer token's role and subject, else
//! the peer IP address — and admitted only if
//! - the client has fewer than `--max-in-flight-per-client` requests in flight, and (when
//!   `--rate-limit-per-client` is set) has a token left in its bucket (refilled at that rate,
//!   bursts up to twice the rate): else 429 `rate_limited` with `Retry-After`;
//! - the server has fewer than `--max-concurrency` requests in flight: else 503 `overloaded` with
//!   `Retry-After` (load is shed at once instead of queueing behind a slow store).
//!
//! The token is verified here once and handed on to the [`super::auth::Caller`] extractor.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clap::Args;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::auth::bearer_token;
use super::error::{ApiError, codes};
use crate::auth::{AuthError, Principal, Verifier};

/// Client-level limits (flags with env fallbacks).
#[derive(Debug, Clone, Copy, Args)]
pub struct ClientLimits {
    /// Seconds a client has to send a request's line and headers before the connection is cut.
    #[arg(
        long,
        env = "RESERVATION_HEADER_TIMEOUT_SECS",
        default_value_t = 10,
        global = true
    )]
    pub header_timeout_secs: u64,
    /// Open connections at most; at the cap, new ones wait to be accepted.
    #[arg(
        long,
        env = "RESERVATION_MAX_CONNECTIONS",
        default_value_t = 4096,
        global = true
    )]
    pub max_connections: usize,
    /// Requests one client (token subject, else IP) may have in flight; more get 429.
    #[arg(
        long,
        env = "RESERVATION_MAX_IN_FLIGHT_PER_CLIENT",
        default_value_t = 128,
        global = true
    )]
    pub max_in_flight_per_client: usize,
    /// Sustained requests per second per client, bursts up to twice that (0: no rate limit).
    #[arg(
        long,
        env = "RESERVATION_RATE_LIMIT_PER_CLIENT",
        default_value_t = 0,
        global = true
    )]
    pub rate_limit_per_client: u32,
}

impl Default for ClientLimits {
    fn default() -> Self {
        ClientLimits {
            header_timeout_secs: 10,
            max_connections: 4096,
            max_in_flight_per_client: 128,
            rate_limit_per_client: 0,
        }
    }
}

/// Clients tracked before idle ones are forgotten.
const MAX_TRACKED: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ClientKey {
    Subject(String),
    Ip(IpAddr),
    Unknown,
}

#[derive(Debug)]
struct Client {
    in_flight: usize,
    tokens: f64,
    refilled: Instant,
}

/// The admission state shared by all requests.
pub struct Admission {
    global: Arc<Semaphore>,
    per_client: usize,
    /// (tokens per second, bucket size)
    rate: Option<(f64, f64)>,
    clients: Mutex<HashMap<ClientKey, Client>>,
    verifier: Arc<Verifier>,
}

/// The outcome of verifying a request's token, for the `Caller` extractor.
#[derive(Debug, Clone)]
pub struct Verified(pub Result<Principal, AuthError>);

impl Admission {
    pub fn new(max_concurrency: usize, limits: &ClientLimits, verifier: Arc<Verifier>) -> Self {
        let rate = (limits.rate_limit_per_client > 0).then(|| {
            let rate = f64::from(limits.rate_limit_per_client);
            (rate, rate * 2.0)
        });
        Admission {
            global: Arc::new(Semaphore::new(max_concurrency.max(1))),
            per_client: limits.max_in_flight_per_client.max(1),
            rate,
            clients: Mutex::new(HashMap::new()),
            verifier,
        }
    }

    /// Admits one request of `key`, or says how long to wait.
    fn admit(self: &Arc<Self>, key: ClientKey) -> Result<Slot, ApiError> {
        let now = Instant::now();
        {
            let mut clients = self
                .clients
                .lock()
                .map_err(|_| ApiError::Internal("admission lock poisoned".into()))?;
            if clients.len() >= MAX_TRACKED && !clients.contains_key(&key) {
                let full = self.rate.map_or(0.0, |(_, burst)| burst);
                clients.retain(|_, c| c.in_flight > 0 || c.tokens < full);
            }
            let burst = self.rate.map_or(0.0, |(_, burst)| burst);
            let client = clients.entry(key.clone()).or_insert(Client {
                in_flight: 0,
                tokens: burst,
                refilled: now,
            });
            if let Some((rate, burst)) = self.rate {
                let elapsed = now.duration_since(client.refilled).as_secs_f64();
                client.tokens = (client.tokens + elapsed * rate).min(burst);
                client.refilled = now;
                if client.tokens < 1.0 {
                    return Err(rate_limited("too many requests from this client"));
                }
            }
            if client.in_flight >= self.per_client {
                return Err(rate_limited("too many requests in flight from this client"));
            }
            client.in_flight += 1;
            if self.rate.is_some() {
                client.tokens -= 1.0;
            }
        }
        let mut slot = Slot {
            admission: Arc::clone(self),
            key,
            _global: None,
        };
        match Arc::clone(&self.global).try_acquire_owned() {
            Ok(permit) => {
                slot._global = Some(permit);
                Ok(slot)
            }
            // Dropping `slot` gives the client's in-flight count back.
            Err(_) => Err(ApiError::client(
                StatusCode::SERVICE_UNAVAILABLE,
                codes::OVERLOADED,
                "the server is at its concurrency limit; please retry",
            )),
        }
    }
}

/// An admitted request; dropping it (also on cancellation) frees its place.
pub(super) struct Slot {
    admission: Arc<Admission>,
    key: ClientKey,
    _global: Option<OwnedSemaphorePermit>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut clients) = self.admission.clients.lock()
            && let Some(client) = clients.get_mut(&self.key)
        {
            client.in_flight = client.in_flight.saturating_sub(1);
            if client.in_flight == 0 && self.admission.rate.is_none() {
                clients.remove(&self.key);
            }
        }
    }
}

fn rate_limited(detail: &str) -> ApiError {
    ApiError::client(StatusCode::TOO_MANY_REQUESTS, codes::RATE_LIMITED, detail)
}

fn retry_after(mut response: Response, seconds: u64) -> Response {
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// Admits `request` (see the module doc): the slot to hold until its response is made, or the
/// refusal to answer with. A verified token goes on in the request's extensions.
pub(super) fn admit(admission: &Arc<Admission>, request: &mut Request) -> Result<Slot, Refused> {
    let verified = request.headers().get(header::AUTHORIZATION).map(|value| {
        value
            .to_str()
            .map_err(|_| AuthError::NotBearer)
            .and_then(bearer_token)
            .and_then(|token| admission.verifier.verify(token))
    });
    let key = match &verified {
        Some(Ok(principal)) => {
            ClientKey::Subject(format!("{}:{}", principal.role.as_str(), principal.subject))
        }
        _ => request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(ClientKey::Unknown, |ConnectInfo(addr)| {
                ClientKey::Ip(addr.ip())
            }),
    };
    if let Some(verified) = verified {
        request.extensions_mut().insert(Verified(verified));
    }
    admission.admit(key).map_err(|error| {
        let retry_after = match &error {
            ApiError::Client { status, .. } if *status == StatusCode::TOO_MANY_REQUESTS => {
                admission
                    .rate
                    .map_or(1, |(rate, _)| (1.0 / rate).ceil().max(1.0) as u64)
            }
            _ => 1,
        };
        Refused { error, retry_after }
    })
}

/// A refused request: its problem, and the seconds the client should wait before retrying.
pub(super) struct Refused {
    error: ApiError,
    retry_after: u64,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        retry_after(self.error.into_response(), self.retry_after)
    }
}

/// `Duration` from whole seconds, at least one.
pub fn secs(seconds: u64) -> Duration {
    Duration::from_secs(seconds.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admission(per_client: usize, rate: u32, global: usize) -> Arc<Admission> {
        let limits = ClientLimits {
            max_in_flight_per_client: per_client,
            rate_limit_per_client: rate,
            ..ClientLimits::default()
        };
        Arc::new(Admission::new(
            global,
            &limits,
            Arc::new(Verifier::hs256(b"0123456789abcdef0123456789abcdef")),
        ))
    }

    fn ip(last: u8) -> ClientKey {
        ClientKey::Ip(IpAddr::from([127, 0, 0, last]))
    }

    #[test]
    fn one_client_cannot_take_every_slot() {
        let admission = admission(2, 0, 3);
        let a1 = admission.admit(ip(1)).unwrap();
        let _a2 = admission.admit(ip(1)).unwrap();
        let refused = admission.admit(ip(1)).err().unwrap();
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        let _b1 = admission.admit(ip(2)).unwrap();
        let shed = admission.admit(ip(3)).err().unwrap();
        assert_eq!(shed.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(shed.problem().code, "overloaded");
        drop(a1);
        assert!(
            admission.admit(ip(1)).is_ok(),
            "a finished request frees its place"
        );
    }

    #[test]
    fn the_rate_limit_allows_a_burst_then_refuses() {
        let admission = admission(1000, 5, 1000);
        let mut admitted = 0;
        for _ in 0..20 {
            if admission.admit(ip(1)).is_ok() {
                admitted += 1;
            }
        }
        assert_eq!(admitted, 10, "a burst of twice the rate");
        assert!(
            admission.admit(ip(2)).is_ok(),
            "other clients are not affected"
        );
    }
}
