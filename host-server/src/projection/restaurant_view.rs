//! The restaurant read model: its configuration plus reservation counts.

use std::collections::HashSet;

use reservation_core::restaurant::Restaurant;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Deserializer, Serialize};

use super::apply::{civil_minutes, decode_restaurant};
use super::{ProjectionError, civil_now};

/// A restaurant as the read side shows it: the core's `Restaurant` (its fields at the top level,
/// the same shape `POST /restaurants` takes) plus `largest_party` and `reservations` counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestaurantView {
    #[serde(flatten)]
    pub restaurant: Restaurant,
    /// The biggest party that can be booked (biggest table or combination, or the policy's cap).
    pub largest_party: u16,
    pub reservations: ReservationCounts,
}

/// Reservations of a restaurant by status, over its whole history.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservationCounts {
    /// Every reservation request recorded, in any status (rejected included).
    pub total: u64,
    pub confirmed: u64,
    pub rejected: u64,
    pub cancelled: u64,
    pub seated: u64,
    pub completed: u64,
    pub no_show: u64,
    /// Confirmed reservations that have not started yet (as of the query, in the restaurant's
    /// own time zone).
    pub upcoming: u64,
}

// `Restaurant` denies unknown fields, which serde's `flatten` cannot combine with: take the
// view's own fields out first, then read the rest as the restaurant.
impl<'de> Deserialize<'de> for RestaurantView {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut fields = serde_json::Map::deserialize(deserializer)?;
        let largest_party = fields
            .remove("largest_party")
            .ok_or_else(|| D::Error::missing_field("largest_party"))?;
        let reservations = fields
            .remove("reservations")
            .ok_or_else(|| D::Error::missing_field("reservations"))?;
        Ok(RestaurantView {
            largest_party: serde_json::from_value(largest_party).map_err(D::Error::custom)?,
            reservations: serde_json::from_value(reservations).map_err(D::Error::custom)?,
            restaurant: serde_json::from_value(serde_json::Value::Object(fields))
                .map_err(D::Error::custom)?,
        })
    }
}

/// `pending`: the ids of the hint log (`hints`) on this restaurant's days from its yesterday on
/// (more do no harm).
pub(crate) fn load(
    conn: &Connection,
    id: &str,
    now: jiff::Timestamp,
    pending: &[String],
) -> Result<Option<RestaurantView>, ProjectionError> {
    let tx = conn.unchecked_transaction()?;
    let view = load_in(&tx, id, now, pending)?;
    tx.finish()?;
    Ok(view)
}

fn load_in(
    conn: &Connection,
    id: &str,
    now: jiff::Timestamp,
    pending: &[String],
) -> Result<Option<RestaurantView>, ProjectionError> {
    let config: Option<String> = conn
        .prepare_cached("SELECT config FROM restaurants WHERE id = ?1")?
        .query_row(params![id], |row| row.get(0))
        .optional()?;
    let Some(config) = config else {
        return Ok(None);
    };
    let restaurant = decode_restaurant(&config)?;
    let mut counts = ReservationCounts::default();
    let mut stmt =
        conn.prepare_cached("SELECT status, n FROM restaurant_counts WHERE restaurant_id = ?1")?;
    let mut rows = stmt.query(params![id])?;
    while let Some(row) = rows.next()? {
        let status: String = row.get(0)?;
        let n = u64::try_from(row.get::<_, i64>(1)?).unwrap_or(0);
        let slot = match status.as_str() {
            "confirmed" => &mut counts.confirmed,
            "rejected" => &mut counts.rejected,
            "cancelled" => &mut counts.cancelled,
            "seated" => &mut counts.seated,
            "completed" => &mut counts.completed,
            "no_show" => &mut counts.no_show,
            other => {
                return Err(ProjectionError::Corrupt(format!(
                    "unknown status {other:?} in counts"
                )));
            }
        };
        *slot = n;
        counts.total += n;
    }
    // Service days may run past midnight: yesterday's service date can still have upcoming starts.
    let now = civil_now(&restaurant.timezone, now);
    let from_date = now.date().yesterday().unwrap_or(now.date()).to_string();
    // Through the day hints: every reservation has one for the day it is on now.
    let from_minute = civil_minutes(now);
    let mut upcoming: HashSet<String> = HashSet::new();
    let mut merged = conn.prepare_cached(
        "SELECT r.id FROM day_hints h JOIN reservations r ON r.id = h.reservation_id
         WHERE h.restaurant_id = ?1 AND h.date >= ?2
           AND r.restaurant_id = ?1 AND r.date >= ?2 AND r.status = 'confirmed' AND r.sort_key >= ?3",
    )?;
    for reservation in merged.query_map(params![id, from_date, from_minute], |row| row.get(0))? {
        upcoming.insert(reservation?);
    }
    let mut logged = conn.prepare_cached(
        "SELECT id FROM reservations
         WHERE id = ?4 AND restaurant_id = ?1 AND date >= ?2 AND status = 'confirmed' AND sort_key >= ?3",
    )?;
    for reservation in pending {
        if let Some(found) = logged
            .query_row(params![id, from_date, from_minute, reservation], |row| {
                row.get(0)
            })
            .optional()?
        {
            upcoming.insert(found);
        }
    }
    counts.upcoming = u64::try_from(upcoming.len()).unwrap_or(u64::MAX);
    Ok(Some(RestaurantView {
        largest_party: restaurant.largest_party(),
        restaurant,
        reservations: counts,
    }))
}
