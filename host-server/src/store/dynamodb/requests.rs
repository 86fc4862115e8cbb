//! Counting the requests the adapter sends, per DynamoDB operation: an SDK interceptor that
//! runs once per HTTP attempt (so SDK retries count too). Always on: it is a few atomic-free
//! map updates per request, and it is how tests and the benchmark measure requests per booking
//! (`reservation_dynamodb_requests_total{side, operation}` on `/metrics`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};

/// Requests sent so far, by operation name (`TransactWriteItems`, `BatchGetItem`, `Query`, …).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestCounts(pub BTreeMap<String, u64>);

impl RequestCounts {
    /// Requests of one operation.
    pub fn get(&self, operation: &str) -> u64 {
        self.0.get(operation).copied().unwrap_or(0)
    }

    /// All requests.
    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }

    /// The requests sent between `earlier` and `self`.
    pub fn since(&self, earlier: &RequestCounts) -> RequestCounts {
        RequestCounts(
            self.0
                .iter()
                .map(|(op, n)| (op.clone(), n.saturating_sub(earlier.get(op))))
                .filter(|(_, n)| *n > 0)
                .collect(),
        )
    }
}

/// The interceptor; clones share one count.
#[derive(Debug, Clone)]
pub struct RequestCounter {
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
    /// `events` (the event store) or `read` (the read models and their projector): the
    /// `side` label of the metric.
    side: &'static str,
}

impl Default for RequestCounter {
    fn default() -> Self {
        RequestCounter::for_side("events")
    }
}

impl RequestCounter {
    pub fn for_side(side: &'static str) -> Self {
        RequestCounter {
            counts: Arc::default(),
            side,
        }
    }

    pub fn snapshot(&self) -> RequestCounts {
        RequestCounts(
            self.counts
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        )
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "ReservationRequestCounter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        // DynamoDB's JSON protocol names the operation in `X-Amz-Target: DynamoDB_20120810.Op`.
        let target = context
            .request()
            .headers()
            .get("x-amz-target")
            .unwrap_or("unknown");
        let operation = target.rsplit('.').next().unwrap_or(target).to_owned();
        metrics::counter!(
            "reservation_dynamodb_requests_total",
            "side" => self.side,
            "operation" => operation.clone()
        )
        .increment(1);
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        *counts.entry(operation).or_insert(0) += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_subtracts_per_operation() {
        let before = RequestCounts(BTreeMap::from([("Query".into(), 2)]));
        let after = RequestCounts(BTreeMap::from([
            ("Query".into(), 3),
            ("TransactWriteItems".into(), 1),
        ]));
        let delta = after.since(&before);
        assert_eq!(delta.get("Query"), 1);
        assert_eq!(delta.get("TransactWriteItems"), 1);
        assert_eq!(delta.get("BatchGetItem"), 0);
        assert_eq!(delta.total(), 2);
    }
}
