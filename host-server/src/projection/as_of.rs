//! Temporal queries: a restaurant's day as it was known at an instant, folded from the events.

use reservation_core::ids::ReservationId;
use reservation_core::reservation::Reservation;
use reservation_core::stream::StreamId;
use reservation_core::{Date, Event};

use super::apply::{decode, sort_key};
use super::{ProjectionError, ReadSide, sort_views};
use crate::store::{EventStore, RecordedEvent};
use crate::view::ReservationView;

/// The reservations of `restaurant_id` on service date `date` as they were known at `at`: every
/// reservation that ever belonged to that day (the read models keep that index) is folded from
/// its own stream's events recorded at or before `at`, and listed if it existed then and its
/// service date was this day. Sorted like [`ReadSide::day`].
///
/// A stream's events are taken as a prefix: the fold stops at the first event recorded after
/// `at`, so a clock that stepped back can never show a later change without an earlier one.
/// The read models are first caught up with the store, so the index covers every event the
/// store had acknowledged when this was called.
pub async fn day_as_of(
    store: &dyn EventStore,
    read: &dyn ReadSide,
    restaurant_id: &str,
    date: Date,
    at: jiff::Timestamp,
) -> Result<Vec<ReservationView>, ProjectionError> {
    read.catch_up(store).await?;
    let mut found = Vec::new();
    for id in read.reservations_ever_on(restaurant_id, date).await? {
        let Ok(reservation_id) = ReservationId::parse(id.as_str()) else {
            return Err(ProjectionError::Corrupt(format!(
                "indexed reservation id {id:?} is not valid"
            )));
        };
        let stream = StreamId::Reservation(reservation_id).to_string();
        let events = store.load(&stream, 0).await?;
        if let Some(r) = fold_reservation(None, &events, Some(at))?
            .filter(|r| r.date == date && r.restaurant_id.as_str() == restaurant_id)
        {
            found.push((sort_key(&r), ReservationView::from(&r)));
        }
    }
    sort_views(&mut found);
    Ok(found.into_iter().map(|(_, view)| view).collect())
}

/// Folds a reservation stream's events (in stream order) onto `start` (the state before the
/// first of them; `None`: the stream's beginning) with the core's `Reservation::confirmed`,
/// `rejected` and `apply`, stopping at the first event recorded after `until` (if given).
/// `None`: the stream holds no opening event (yet).
pub(crate) fn fold_reservation(
    start: Option<Reservation>,
    events: &[RecordedEvent],
    until: Option<jiff::Timestamp>,
) -> Result<Option<Reservation>, ProjectionError> {
    let mut reservation = start;
    for recorded in events {
        if until.is_some_and(|at| recorded.recorded_at > at) {
            break;
        }
        match (decode(recorded)?, reservation.as_mut()) {
            (Some(Event::ReservationConfirmed(e)), _) => {
                reservation = Some(Reservation::confirmed(&e))
            }
            (Some(Event::ReservationRejected(e)), _) => {
                reservation = Some(Reservation::rejected(&e))
            }
            (Some(event), Some(r)) => r.apply(&event),
            (_, None) | (None, _) => {}
        }
    }
    Ok(reservation)
}
