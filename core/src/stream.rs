//! Stream names: the consistency boundaries. A booking touches its restaurant's configuration
//! (read only), one day book and one reservation, never the restaurant's whole history.

use jiff::civil::Date;
use std::fmt;

use crate::ids::{ReservationId, RestaurantId};
use crate::time::{format_date, parse_date};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StreamId {
    /// `restaurant:{restaurant_id}`: configuration.
    Restaurant(RestaurantId),
    /// `daybook:{restaurant_id}:{date}`: table occupancy of one service date.
    DayBook(RestaurantId, Date),
    /// `reservation:{reservation_id}`: one reservation's life.
    Reservation(ReservationId),
}

impl StreamId {
    pub fn parse(text: &str) -> Option<StreamId> {
        let mut parts = text.split(':');
        let stream = match (parts.next()?, parts.next()?, parts.next()) {
            ("restaurant", id, None) => StreamId::Restaurant(RestaurantId::parse(id).ok()?),
            ("reservation", id, None) => StreamId::Reservation(ReservationId::parse(id).ok()?),
            ("daybook", id, Some(date)) => {
                StreamId::DayBook(RestaurantId::parse(id).ok()?, parse_date(date).ok()?)
            }
            _ => return None,
        };
        parts.next().is_none().then_some(stream)
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamId::Restaurant(id) => write!(f, "restaurant:{id}"),
            StreamId::DayBook(id, date) => write!(f, "daybook:{id}:{}", format_date(*date)),
            StreamId::Reservation(id) => write!(f, "reservation:{id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_names_round_trip() {
        for name in [
            "restaurant:r1",
            "daybook:r1:2026-12-08",
            "reservation:0192-abc",
        ] {
            assert_eq!(StreamId::parse(name).unwrap().to_string(), name);
        }
        for bad in [
            "restaurant",
            "daybook:r1",
            "daybook:r1:2026-12-08:x",
            "other:x",
            "restaurant:a b",
        ] {
            assert!(StreamId::parse(bad).is_none(), "{bad}");
        }
    }
}
