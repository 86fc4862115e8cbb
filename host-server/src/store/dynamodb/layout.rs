//! The table layout: key names, item shapes, and their encoding (see `README.md` beside this
//! file for the picture). Pure code: nothing here talks to DynamoDB, so the item shapes and
//! size rules are unit-tested without a server.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use jiff::Timestamp;

use crate::store::{RecordedEvent, StoreError};

/// Partition key attribute (S): the stream name, or a name starting with `$` for the adapter's
/// own items.
pub const PK: &str = "pk";
/// Sort key attribute (N).
pub const SK: &str = "sk";

/// The head item's partition key: the global position and the newest `recorded_at`.
pub const HEAD_PK: &str = "$head";
/// The head item's sort key.
pub const HEAD_SK: u64 = 0;
/// Feed items live in partitions `$feed#<bucket>`, `bucket = last position / FEED_BUCKET`.
pub const FEED_PREFIX: &str = "$feed#";
/// Positions per feed partition.
pub const FEED_BUCKET: u64 = 100_000;
/// A stream's tip item has this sort key (2^53 − 1: above every stream version, and exact in
/// every JSON number implementation, for operators' tools). Batch items use their last
/// version, so `sk > after_version` selects exactly the items a load needs.
pub const TIP_SK: u64 = 9_007_199_254_740_991;
/// Names starting with this are the adapter's own partitions, never streams.
pub const RESERVED_PREFIX: char = '$';

/// Item attributes.
pub mod attr {
    /// Tip: the stream version. Head: the global position.
    pub const VERSION: &str = "v";
    /// Tip: estimated bytes of its event list (decides the roll-over without reading it).
    pub const TIP_BYTES: &str = "z";
    /// Head: the newest `recorded_at`, nanoseconds since the Unix epoch.
    pub const TIMESTAMP: &str = "ts";
    /// Tip, batch and feed items: the list of event maps.
    pub const EVENTS: &str = "e";
}

/// Keys of one event map inside an item's event list.
pub mod ev {
    /// Global position.
    pub const POSITION: &str = "p";
    /// Stream version (1-based index in its stream).
    pub const VERSION: &str = "n";
    /// Stream name (feed items only; tip and batch items are their stream's partition).
    pub const STREAM: &str = "st";
    /// Event type.
    pub const TYPE: &str = "t";
    /// Schema version.
    pub const SCHEMA: &str = "s";
    /// The event's JSON payload, as a string (opaque, round-trips exactly).
    pub const DATA: &str = "d";
    /// `recorded_at`, nanoseconds since the Unix epoch.
    pub const TIMESTAMP: &str = "ts";
}

/// DynamoDB's item size limit.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;
/// The most event-list bytes one batch or feed item carries: the item limit less room for the
/// keys (stream names are at most `MAX_STREAM_NAME_BYTES`) and the other attributes.
pub const MAX_CHUNK_BYTES: usize = 380 * 1024;
/// DynamoDB's limit on operations in one `TransactWriteItems`.
pub const MAX_TRANSACTION_ITEMS: usize = 100;
/// DynamoDB's limit on the aggregate size of one `TransactWriteItems`.
pub const MAX_TRANSACTION_BYTES: usize = 4 * 1024 * 1024;

pub type Item = HashMap<String, AttributeValue>;

/// The partition of the feed item whose last position is `last`.
pub fn feed_pk(last: u64) -> String {
    format!("{FEED_PREFIX}{}", last / FEED_BUCKET)
}

/// Streams must be non-empty and must not start with the reserved prefix.
pub fn check_stream_name(stream: &str) -> Result<(), StoreError> {
    if stream.is_empty() {
        return Err(StoreError::Unavailable(
            "the DynamoDB store cannot hold a stream with an empty name".into(),
        ));
    }
    if stream.starts_with(RESERVED_PREFIX) {
        return Err(StoreError::Unavailable(format!(
            "stream names starting with '{RESERVED_PREFIX}' are reserved by the DynamoDB store: {stream:?}"
        )));
    }
    Ok(())
}

pub fn n(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub fn n_i64(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn key(pk: &str, sk: u64) -> Item {
    HashMap::from([(PK.to_owned(), s(pk)), (SK.to_owned(), n(sk))])
}

/// Nanoseconds since the Unix epoch (saturating outside ±292 years, which no clock reaches).
pub fn timestamp_nanos(at: Timestamp) -> i64 {
    i64::try_from(at.as_nanosecond()).unwrap_or(if at.as_nanosecond() < 0 {
        i64::MIN
    } else {
        i64::MAX
    })
}

pub fn timestamp_from_nanos(nanos: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_nanosecond(i128::from(nanos)).map_err(|e| {
        StoreError::Unavailable(format!("stored timestamp {nanos} is out of range: {e}"))
    })
}

/// An event as stored inside an item. `with_stream` for feed items.
pub fn event_map(event: &RecordedEvent, with_stream: bool) -> AttributeValue {
    let mut map = HashMap::with_capacity(7);
    map.insert(ev::POSITION.to_owned(), n(event.position));
    map.insert(ev::VERSION.to_owned(), n(event.stream_version));
    if with_stream {
        map.insert(ev::STREAM.to_owned(), s(event.stream.as_str()));
    }
    map.insert(ev::TYPE.to_owned(), s(event.event_type.as_str()));
    map.insert(ev::SCHEMA.to_owned(), n(u64::from(event.schema_version)));
    map.insert(ev::DATA.to_owned(), s(event.payload.as_str()));
    map.insert(
        ev::TIMESTAMP.to_owned(),
        n_i64(timestamp_nanos(event.recorded_at)),
    );
    AttributeValue::M(map)
}

/// Decodes one event map; `stream` is the item's stream (tip and batch items), or `None` to
/// take it from the map (feed items).
pub fn decode_event(
    value: &AttributeValue,
    stream: Option<&str>,
) -> Result<RecordedEvent, StoreError> {
    let AttributeValue::M(map) = value else {
        return Err(malformed("an event is not a map"));
    };
    let stream = match stream {
        Some(stream) => stream.to_owned(),
        None => get_s(map, ev::STREAM)?.to_owned(),
    };
    let schema = get_u64(map, ev::SCHEMA)?;
    Ok(RecordedEvent {
        position: get_u64(map, ev::POSITION)?,
        stream,
        stream_version: get_u64(map, ev::VERSION)?,
        event_type: get_s(map, ev::TYPE)?.to_owned(),
        schema_version: u16::try_from(schema)
            .map_err(|_| malformed("schema version out of range"))?,
        payload: get_s(map, ev::DATA)?.to_owned(),
        recorded_at: timestamp_from_nanos(get_i64(map, ev::TIMESTAMP)?)?,
    })
}

/// The events of an item's event list.
pub fn decode_events(item: &Item, stream: Option<&str>) -> Result<Vec<RecordedEvent>, StoreError> {
    match item.get(attr::EVENTS) {
        Some(AttributeValue::L(list)) => list
            .iter()
            .map(|value| decode_event(value, stream))
            .collect(),
        Some(_) => Err(malformed("the event list is not a list")),
        None => Err(malformed("an item has no event list")),
    }
}

pub fn malformed(what: &str) -> StoreError {
    StoreError::Unavailable(format!("malformed item in the DynamoDB table: {what}"))
}

pub fn get_s<'a>(
    item: &'a HashMap<String, AttributeValue>,
    name: &str,
) -> Result<&'a str, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Ok(value),
        _ => Err(malformed(&format!("attribute {name} is not a string"))),
    }
}

pub fn get_u64(item: &HashMap<String, AttributeValue>, name: &str) -> Result<u64, StoreError> {
    match item.get(name) {
        Some(AttributeValue::N(value)) => value
            .parse()
            .map_err(|_| malformed(&format!("attribute {name} is not a whole number: {value}"))),
        _ => Err(malformed(&format!("attribute {name} is not a number"))),
    }
}

pub fn get_i64(item: &HashMap<String, AttributeValue>, name: &str) -> Result<i64, StoreError> {
    match item.get(name) {
        Some(AttributeValue::N(value)) => value
            .parse()
            .map_err(|_| malformed(&format!("attribute {name} is not a whole number: {value}"))),
        _ => Err(malformed(&format!("attribute {name} is not a number"))),
    }
}

/// DynamoDB's size of an attribute value, rounded up: strings and binaries by their bytes,
/// numbers at one byte per two digits plus one, and 3 bytes plus one per element for lists and
/// maps (plus the names of map entries). An upper bound of what DynamoDB counts.
pub fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(text) => text.len(),
        AttributeValue::N(number) => number.len().div_ceil(2) + 1,
        AttributeValue::B(blob) => blob.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::L(list) => 3 + list.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        AttributeValue::M(map) => {
            3 + map
                .iter()
                .map(|(k, v)| 1 + k.len() + value_size(v))
                .sum::<usize>()
        }
        AttributeValue::Ss(set) => set.iter().map(String::len).sum(),
        AttributeValue::Ns(set) => set.iter().map(|x| x.len().div_ceil(2) + 1).sum(),
        AttributeValue::Bs(set) => set.iter().map(|b| b.as_ref().len()).sum(),
        // A kind of value this adapter never writes; count it as large as one item can be.
        _ => MAX_ITEM_BYTES,
    }
}

/// The size of an item: attribute names plus values.
pub fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

/// The bytes one event map adds to an item's event list.
pub fn list_entry_size(value: &AttributeValue) -> usize {
    1 + value_size(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(position: u64, version: u64, payload: &str) -> RecordedEvent {
        RecordedEvent {
            position,
            stream: "daybook:r1:2026-12-08".into(),
            stream_version: version,
            event_type: "table_booked".into(),
            schema_version: 1,
            payload: payload.into(),
            recorded_at: Timestamp::from_nanosecond(1_765_000_000_123_456_789).unwrap(),
        }
    }

    #[test]
    fn event_maps_round_trip_with_and_without_stream() {
        let original = event(42, 7, r#"{"type":"table_booked","version":1,"note":"ü ✓"}"#);
        let in_tip = event_map(&original, false);
        assert_eq!(
            decode_event(&in_tip, Some("daybook:r1:2026-12-08")).unwrap(),
            original
        );
        let in_feed = event_map(&original, true);
        assert_eq!(decode_event(&in_feed, None).unwrap(), original);
        assert!(
            decode_event(&in_tip, None).is_err(),
            "a tip event names no stream"
        );
    }

    #[test]
    fn malformed_items_are_errors_not_panics() {
        let bad = [
            AttributeValue::S("x".into()),
            AttributeValue::M(HashMap::new()),
            AttributeValue::M(HashMap::from([(ev::POSITION.to_owned(), s("1"))])),
        ];
        for value in bad {
            assert!(matches!(
                decode_event(&value, Some("s")),
                Err(StoreError::Unavailable(_))
            ));
        }
        let mut item = key("s", TIP_SK);
        assert!(decode_events(&item, Some("s")).is_err());
        item.insert(attr::EVENTS.into(), s("not a list"));
        assert!(decode_events(&item, Some("s")).is_err());
        let mut map = HashMap::new();
        map.insert("v".to_owned(), AttributeValue::N("-1".into()));
        assert!(get_u64(&map, "v").is_err());
        map.insert("v".to_owned(), AttributeValue::N("1e3".into()));
        assert!(get_u64(&map, "v").is_err());
    }

    #[test]
    fn sizes_are_upper_bounds_of_dynamodbs_rules() {
        assert_eq!(value_size(&s("héllo")), 6);
        assert_eq!(value_size(&n(12345)), 4);
        let list = AttributeValue::L(vec![s("ab"), n(1)]);
        assert_eq!(value_size(&list), 3 + (1 + 2) + (1 + 2));
        let item = key("stream", TIP_SK);
        assert_eq!(
            item_size(&item),
            2 + 6 + 2 + TIP_SK.to_string().len().div_ceil(2) + 1
        );
        // A 300 KB payload gives an event map just over 300 KB, below the chunk limit.
        let big = event_map(&event(1, 1, &"x".repeat(300 * 1024)), true);
        assert!(list_entry_size(&big) > 300 * 1024 && list_entry_size(&big) < MAX_CHUNK_BYTES);
    }

    #[test]
    fn stream_names_exclude_the_adapters_partitions() {
        assert!(check_stream_name("daybook:r1:2026-12-08").is_ok());
        assert!(check_stream_name("").is_err());
        assert!(check_stream_name(HEAD_PK).is_err());
        assert!(check_stream_name(&feed_pk(5)).is_err());
        assert_eq!(feed_pk(99_999), "$feed#0");
        assert_eq!(feed_pk(100_000), "$feed#1");
        assert!(TIP_SK > u64::from(u32::MAX) * 1000);
    }
}
