//! The read-side port: what the HTTP API asks of the read models, whatever stores them. The
//! SQLite read models ([`ReadModels`]) implement it, as do the DynamoDB read models
//! (`store::dynamodb::read::DynamoReadModels`), so every read endpoint works unchanged on
//! either store.

use async_trait::async_trait;
use reservation_core::Date;

use super::{ProjectionError, ReadModels, RestaurantView};
use crate::store::EventStore;
use crate::view::ReservationView;

type Result<T, E = ProjectionError> = std::result::Result<T, E>;

#[async_trait]
pub trait ReadSide: Send + Sync + 'static {
    /// A global position up to which every event is reflected (0: none), for `/ready`.
    async fn checkpoint(&self) -> Result<u64>;

    /// Makes everything the store had acknowledged when called visible; returns the
    /// checkpoint reached.
    async fn catch_up(&self, store: &dyn EventStore) -> Result<u64>;

    /// Makes every event up to `position` visible (read your writes); at once when it is.
    async fn catch_up_to(&self, store: &dyn EventStore, position: u64) -> Result<()>;

    /// Makes what is projected durable before the process exits (graceful shutdown).
    async fn close(&self) -> Result<()> {
        Ok(())
    }

    /// One reservation as the API shows it.
    async fn reservation(&self, id: &str) -> Result<Option<ReservationView>>;

    /// Every reservation of a restaurant's service date, in any status, sorted by start, then id.
    async fn day(&self, restaurant_id: &str, date: Date) -> Result<Vec<ReservationView>>;

    /// Every reservation of a user, in any status, sorted by service date, start, then id.
    async fn user(&self, user_id: &str) -> Result<Vec<ReservationView>>;

    /// A restaurant's configuration and reservation counts ("upcoming" counted from `now`).
    async fn restaurant_at(&self, id: &str, now: jiff::Timestamp)
    -> Result<Option<RestaurantView>>;

    /// The ids of every reservation that ever belonged to this restaurant and service date
    /// (the index of as-of queries), sorted.
    async fn reservations_ever_on(&self, restaurant_id: &str, date: Date) -> Result<Vec<String>>;
}

#[async_trait]
impl ReadSide for ReadModels {
    async fn checkpoint(&self) -> Result<u64> {
        ReadModels::checkpoint(self).await
    }

    async fn catch_up(&self, store: &dyn EventStore) -> Result<u64> {
        ReadModels::catch_up(self, store).await
    }

    async fn catch_up_to(&self, store: &dyn EventStore, position: u64) -> Result<()> {
        ReadModels::catch_up_to(self, store, position).await
    }

    async fn close(&self) -> Result<()> {
        ReadModels::close(self).await
    }

    async fn reservation(&self, id: &str) -> Result<Option<ReservationView>> {
        ReadModels::reservation(self, id).await
    }

    async fn day(&self, restaurant_id: &str, date: Date) -> Result<Vec<ReservationView>> {
        ReadModels::day(self, restaurant_id, date).await
    }

    async fn user(&self, user_id: &str) -> Result<Vec<ReservationView>> {
        ReadModels::user(self, user_id).await
    }

    async fn restaurant_at(
        &self,
        id: &str,
        now: jiff::Timestamp,
    ) -> Result<Option<RestaurantView>> {
        ReadModels::restaurant_at(self, id, now).await
    }

    async fn reservations_ever_on(&self, restaurant_id: &str, date: Date) -> Result<Vec<String>> {
        ReadModels::reservations_ever_on(self, restaurant_id, date).await
    }
}
