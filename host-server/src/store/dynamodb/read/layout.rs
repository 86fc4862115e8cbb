//! The read-model table's items (see `README.md` beside the adapter for the picture). Pure
//! code: keys, attribute names and encodings.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use reservation_core::Date;
use reservation_core::reservation::{Reservation, Status};
use reservation_core::restaurant::Restaurant;

use crate::projection::{ProjectionError, decode_reservation, decode_restaurant, sort_key};

pub type Item = HashMap<String, AttributeValue>;

/// Partition key (S).
pub const PK: &str = "pk";
/// Sort key (S).
pub const SK: &str = "sk";
/// The sort key of items that are alone in their partition.
pub const SINGLE: &str = "-";

/// Version of the stream the item reflects (reservation and restaurant items).
pub const VERSION: &str = "v";
/// Global position of the newest event the item reflects (for operators).
pub const POSITION: &str = "p";
/// The folded state as JSON: the core's `Reservation` or `Restaurant`.
pub const STATE: &str = "st";
/// Reservation items: the restaurant id (the `by_start` index's hash key).
pub const RESTAURANT: &str = "r";
/// Reservation items: the listing order, minutes since 1970-01-01T00:00 civil (the index's
/// range key).
pub const START: &str = "k";
/// Reservation items: the status (projected into the index).
pub const STATUS: &str = "s";
/// Reservation items: the service date and the user (for operators; the listings read the state).
pub const DATE: &str = "d";
pub const USER: &str = "u";
/// The index of reservation items by restaurant and start.
pub const BY_START: &str = "by_start";

/// Shard checkpoints: partition `$shard`, sort key = shard id, attribute `q` = the newest
/// sequence number applied (zero-padded, so strings compare like numbers).
pub const SHARD_PK: &str = "$shard";
pub const SEQUENCE: &str = "q";
/// The watermark: partition `$mark`; `w` = a position up to which every event is applied.
pub const MARK_PK: &str = "$mark";
pub const MARK: &str = "w";

/// Width sequence numbers are padded to (DynamoDB's are 21 to 40 digits).
const SEQUENCE_WIDTH: usize = 48;

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    HashMap::from([(PK.to_owned(), s(pk)), (SK.to_owned(), s(sk))])
}

pub fn reservation_pk(id: &str) -> String {
    format!("res#{id}")
}

pub fn restaurant_pk(id: &str) -> String {
    format!("rst#{id}")
}

pub fn counts_pk(restaurant_id: &str) -> String {
    format!("cnt#{restaurant_id}")
}

/// Day membership: one item per reservation and (restaurant, service date) it ever belonged
/// to (sort key: the reservation id). The day listing and the as-of index.
pub fn day_pk(restaurant_id: &str, date: Date) -> String {
    format!("day#{restaurant_id}#{date}")
}

/// User membership: one item per reservation of the user (sort key: the reservation id).
pub fn user_pk(user_id: &str) -> String {
    format!("usr#{user_id}")
}

/// The counter attribute of a status in a counts item.
pub fn count_attribute(status: Status) -> String {
    format!("c_{}", status.as_str())
}

pub const STATUSES: [Status; 6] = [
    Status::Confirmed,
    Status::Rejected,
    Status::Cancelled,
    Status::Seated,
    Status::Completed,
    Status::NoShow,
];

pub fn pad_sequence(sequence: &str) -> String {
    format!("{sequence:0>SEQUENCE_WIDTH$}")
}

/// The reservation item at stream version `version` and global position `position`.
pub fn reservation_item(
    r: &Reservation,
    version: u64,
    position: u64,
) -> Result<Item, ProjectionError> {
    let mut item = key(reservation_pk(r.id.as_str()), SINGLE);
    item.insert(VERSION.into(), n(version));
    item.insert(POSITION.into(), n(position));
    item.insert(STATE.into(), s(encode(r)?));
    item.insert(RESTAURANT.into(), s(r.restaurant_id.as_str()));
    item.insert(START.into(), n(sort_key(r)));
    item.insert(STATUS.into(), s(r.status.as_str()));
    item.insert(DATE.into(), s(r.date.to_string()));
    item.insert(USER.into(), s(r.user_id.as_str()));
    Ok(item)
}

/// The restaurant item at stream version `version`.
pub fn restaurant_item(
    r: &Restaurant,
    version: u64,
    position: u64,
) -> Result<Item, ProjectionError> {
    let mut item = key(restaurant_pk(r.id.as_str()), SINGLE);
    item.insert(VERSION.into(), n(version));
    item.insert(POSITION.into(), n(position));
    item.insert(STATE.into(), s(encode(r)?));
    Ok(item)
}

fn encode<T: serde::Serialize>(value: &T) -> Result<String, ProjectionError> {
    serde_json::to_string(value)
        .map_err(|e| ProjectionError::Corrupt(format!("cannot encode a read model: {e}")))
}

fn corrupt(what: &str) -> ProjectionError {
    ProjectionError::Corrupt(format!("read-model item: {what}"))
}

pub fn get_s<'a>(item: &'a Item, name: &str) -> Result<&'a str, ProjectionError> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Ok(value),
        _ => Err(corrupt(&format!("attribute {name} is not a string"))),
    }
}

pub fn get_u64(item: &Item, name: &str) -> Result<u64, ProjectionError> {
    match item.get(name) {
        Some(AttributeValue::N(value)) => value
            .parse()
            .map_err(|_| corrupt(&format!("attribute {name} is not a whole number"))),
        _ => Err(corrupt(&format!("attribute {name} is not a number"))),
    }
}

/// A counter; 0 when absent (or negative, which exactly-once transitions never produce).
pub fn get_count(item: &Item, name: &str) -> u64 {
    match item.get(name) {
        Some(AttributeValue::N(value)) => {
            value.parse::<i64>().map_or(0, |n| n.max(0).unsigned_abs())
        }
        _ => 0,
    }
}

/// The version and reservation of a reservation item.
pub fn decode_reservation_item(item: &Item) -> Result<(u64, Reservation), ProjectionError> {
    Ok((
        get_u64(item, VERSION)?,
        decode_reservation(get_s(item, STATE)?)?,
    ))
}

/// The version and restaurant of a restaurant item.
pub fn decode_restaurant_item(item: &Item) -> Result<(u64, Restaurant), ProjectionError> {
    Ok((
        get_u64(item, VERSION)?,
        decode_restaurant(get_s(item, STATE)?)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_sequences_compare_like_numbers() {
        let (a, b) = (pad_sequence("999"), pad_sequence("1000"));
        assert!(a < b);
        assert_eq!(a.len(), SEQUENCE_WIDTH);
        assert_eq!(pad_sequence(&"9".repeat(40)).len(), SEQUENCE_WIDTH);
    }

    #[test]
    fn keys_do_not_collide_across_kinds() {
        let date = Date::constant(2026, 12, 8);
        assert_eq!(day_pk("r1", date), "day#r1#2026-12-08");
        assert_ne!(day_pk("r1#2026-12-08", date), day_pk("r1", date));
        assert_ne!(reservation_pk("x"), restaurant_pk("x"));
        assert_eq!(count_attribute(Status::NoShow), "c_no_show");
    }
}
