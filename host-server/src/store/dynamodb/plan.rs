//! Turning an append into one `TransactWriteItems`: pure planning over what the one read
//! returned (the head item and the tips of the written streams), so every rule here — version
//! checks, positions, tip roll-over, chunking, DynamoDB's limits — is unit-tested without a
//! server. `mod.rs` turns the [`Op`]s into SDK requests.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use jiff::Timestamp;

use super::layout::{
    MAX_CHUNK_BYTES, MAX_TRANSACTION_BYTES, MAX_TRANSACTION_ITEMS, ev, event_map, feed_pk, get_u64,
    list_entry_size, timestamp_from_nanos,
};
use crate::store::{RecordedEvent, StoreError, StreamWrite};

/// Bytes an item adds beyond its event list and partition key (sort key, version, size,
/// list header, attribute names): a generous bound.
const ITEM_OVERHEAD: usize = 64;

/// An event on its way into an item: its sort key (stream version or position), its map,
/// and the bytes it adds to the item's event list.
type Entry = (u64, AttributeValue, usize);

/// The head item as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Head {
    /// The newest global position (0: no event yet).
    pub position: u64,
    /// The newest `recorded_at`, in nanoseconds.
    pub recorded_at: Option<i64>,
}

/// A stream's tip item as read.
#[derive(Debug, Clone, PartialEq)]
pub struct Tip {
    pub version: u64,
    /// Estimated bytes of its event list.
    pub bytes: u64,
    /// Its event list, when it was read in full (the first read fetches only `version` and
    /// `bytes`; a roll-over needs the events themselves).
    pub events: Option<Vec<AttributeValue>>,
}

/// One operation of the transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Move the head from `previous` (0: no head item yet) to `position`.
    Head {
        previous: u64,
        position: u64,
        recorded_at: i64,
    },
    /// Assert the stream is at `expected` (0: has no tip) without writing.
    Check { stream: String, expected: u64 },
    /// Append `events` to the existing tip at `expected`.
    Append {
        stream: String,
        expected: u64,
        version: u64,
        bytes: u64,
        events: Vec<AttributeValue>,
    },
    /// Write the tip anew (0: create it), holding `events`.
    PutTip {
        stream: String,
        expected: u64,
        version: u64,
        bytes: u64,
        events: Vec<AttributeValue>,
    },
    /// A new immutable item: a stream's batch of older events, or a chunk of the feed.
    PutNew {
        pk: String,
        sk: u64,
        events: Vec<AttributeValue>,
    },
}

impl Op {
    /// The stream whose expected version this operation checks.
    pub fn checked_stream(&self) -> Option<(&str, u64)> {
        match self {
            Op::Check { stream, expected }
            | Op::Append {
                stream, expected, ..
            }
            | Op::PutTip {
                stream, expected, ..
            } => Some((stream, *expected)),
            Op::Head { .. } | Op::PutNew { .. } => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub ops: Vec<Op>,
    /// What the append returns once the transaction commits.
    pub recorded: Vec<RecordedEvent>,
    /// Estimated aggregate size of the transaction.
    pub bytes: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Planned {
    Ready(Plan),
    /// These streams need a roll-over: read their tips in full and plan again.
    NeedTips(Vec<String>),
}

/// Plans `writes` against the state read. `tips` has an entry for every written stream (`None`:
/// no tip, the stream is empty). `now` is the wall clock; `recorded_at` never goes back
/// behind the head's. `tip_max_bytes`: events the tip may hold before older ones move out.
pub fn plan(
    writes: &[StreamWrite],
    head: Head,
    tips: &HashMap<String, Option<Tip>>,
    now: Timestamp,
    tip_max_bytes: usize,
) -> Result<Planned, StoreError> {
    // The expectations, in order, each against the stream as the earlier writes leave it.
    let mut order: Vec<&str> = Vec::new();
    let mut running: HashMap<&str, u64> = HashMap::new();
    let mut first_expected: HashMap<&str, u64> = HashMap::new();
    for write in writes {
        let stream = write.stream.as_str();
        let actual = match running.get(stream) {
            Some(version) => *version,
            None => tips
                .get(stream)
                .and_then(Option::as_ref)
                .map_or(0, |tip| tip.version),
        };
        if actual != write.expected_version {
            return Err(StoreError::Conflict {
                stream: write.stream.clone(),
                expected: write.expected_version,
                actual,
            });
        }
        if !running.contains_key(stream) {
            order.push(stream);
            first_expected.insert(stream, actual);
        }
        running.insert(stream, actual.saturating_add(count(write.events.len())));
    }

    // Positions and versions, in the order given.
    let head_ts = head.recorded_at.map(timestamp_from_nanos).transpose()?;
    let recorded_at = head_ts.map_or(now, |last| last.max(now));
    let mut position = head.position;
    let mut next_version: HashMap<&str, u64> = first_expected.clone();
    let mut recorded = Vec::new();
    let mut new_by_stream: HashMap<&str, Vec<(u64, AttributeValue)>> = HashMap::new();
    for write in writes {
        let stream = write.stream.as_str();
        for event in &write.events {
            position = position.saturating_add(1);
            let version = next_version
                .get(stream)
                .copied()
                .unwrap_or(0)
                .saturating_add(1);
            next_version.insert(stream, version);
            let record = RecordedEvent {
                position,
                stream: write.stream.clone(),
                stream_version: version,
                event_type: event.event_type.clone(),
                schema_version: event.schema_version,
                payload: event.payload.clone(),
                recorded_at,
            };
            new_by_stream
                .entry(stream)
                .or_default()
                .push((version, event_map(&record, false)));
            recorded.push(record);
        }
    }

    let mut ops = Vec::new();
    let mut bytes = 0usize;
    let mut need_tips = Vec::new();
    if !recorded.is_empty() {
        ops.push(Op::Head {
            previous: head.position,
            position,
            recorded_at: super::layout::timestamp_nanos(recorded_at),
        });
        bytes += ITEM_OVERHEAD + super::layout::HEAD_PK.len();
    }
    for stream in order {
        let expected = first_expected.get(stream).copied().unwrap_or(0);
        let tip = tips.get(stream).and_then(Option::as_ref);
        let new = new_by_stream.remove(stream).unwrap_or_default();
        let Some(&(version, _)) = new.last() else {
            ops.push(Op::Check {
                stream: stream.to_owned(),
                expected,
            });
            bytes += ITEM_OVERHEAD + stream.len();
            continue;
        };
        let new_bytes: usize = new.iter().map(|(_, map)| list_entry_size(map)).sum();
        let tip_bytes = tip.map_or(0, |tip| usize::try_from(tip.bytes).unwrap_or(usize::MAX));
        if tip_bytes.saturating_add(new_bytes) <= tip_max_bytes {
            let all = tip_bytes + new_bytes;
            bytes += ITEM_OVERHEAD + stream.len() + all;
            let events = new.into_iter().map(|(_, map)| map).collect();
            let (stream, bytes_u64) = (stream.to_owned(), count(all));
            ops.push(match tip {
                Some(_) => Op::Append {
                    stream,
                    expected,
                    version,
                    bytes: bytes_u64,
                    events,
                },
                None => Op::PutTip {
                    stream,
                    expected,
                    version,
                    bytes: bytes_u64,
                    events,
                },
            });
            continue;
        }
        // Roll-over: the tip keeps the newest events that fit; the rest move to batch items.
        let mut entries: Vec<Entry> = Vec::new();
        if let Some(tip) = tip.filter(|tip| tip.bytes > 0) {
            let Some(old) = &tip.events else {
                need_tips.push(stream.to_owned());
                continue;
            };
            for map in old {
                let AttributeValue::M(fields) = map else {
                    return Err(super::layout::malformed("an event is not a map"));
                };
                entries.push((
                    get_u64(fields, ev::VERSION)?,
                    map.clone(),
                    list_entry_size(map),
                ));
            }
        }
        entries.extend(new.into_iter().map(|(v, map)| {
            let size = list_entry_size(&map);
            (v, map, size)
        }));
        let mut keep = entries.len();
        let mut kept_bytes = 0usize;
        while let Some(index) = keep.checked_sub(1) {
            let size = entries.get(index).map_or(0, |entry| entry.2);
            if kept_bytes + size > tip_max_bytes {
                break;
            }
            kept_bytes += size;
            keep = index;
        }
        let suffix = entries.split_off(keep);
        for chunk in chunks(entries)? {
            let sk = chunk.last().map_or(0, |entry| entry.0);
            let size: usize = chunk.iter().map(|entry| entry.2).sum();
            bytes += ITEM_OVERHEAD + stream.len() + size;
            ops.push(Op::PutNew {
                pk: stream.to_owned(),
                sk,
                events: chunk.into_iter().map(|e| e.1).collect(),
            });
        }
        bytes += ITEM_OVERHEAD + stream.len() + kept_bytes;
        ops.push(Op::PutTip {
            stream: stream.to_owned(),
            expected,
            version,
            bytes: count(kept_bytes),
            events: suffix.into_iter().map(|e| e.1).collect(),
        });
    }
    if !need_tips.is_empty() {
        return Ok(Planned::NeedTips(need_tips));
    }

    // The feed: every event of the commit in position order, chunked by size.
    let feed: Vec<Entry> = recorded
        .iter()
        .map(|record| {
            let map = event_map(record, true);
            let size = list_entry_size(&map);
            (record.position, map, size)
        })
        .collect();
    for chunk in chunks(feed)? {
        let last = chunk.last().map_or(0, |entry| entry.0);
        let size: usize = chunk.iter().map(|entry| entry.2).sum();
        bytes += ITEM_OVERHEAD + 16 + size;
        ops.push(Op::PutNew {
            pk: feed_pk(last),
            sk: last,
            events: chunk.into_iter().map(|e| e.1).collect(),
        });
    }

    if ops.len() > MAX_TRANSACTION_ITEMS {
        return Err(StoreError::TooLarge(format!(
            "this append needs {} operations in one DynamoDB transaction, the limit is {MAX_TRANSACTION_ITEMS}",
            ops.len()
        )));
    }
    if bytes > MAX_TRANSACTION_BYTES {
        return Err(StoreError::TooLarge(format!(
            "this append needs about {bytes} bytes in one DynamoDB transaction (events are written to their \
             stream and to the feed), the limit is {MAX_TRANSACTION_BYTES}"
        )));
    }
    Ok(Planned::Ready(Plan {
        ops,
        recorded,
        bytes,
    }))
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Splits entries `(key, event map, size)` into runs of at most [`MAX_CHUNK_BYTES`].
fn chunks(entries: Vec<Entry>) -> Result<Vec<Vec<Entry>>, StoreError> {
    let mut out: Vec<Vec<Entry>> = Vec::new();
    let mut current = Vec::new();
    let mut current_bytes = 0usize;
    for entry in entries {
        if entry.2 > MAX_CHUNK_BYTES {
            return Err(StoreError::TooLarge(format!(
                "an event takes {} bytes in a DynamoDB item, the most that fits is {MAX_CHUNK_BYTES}",
                entry.2
            )));
        }
        if current_bytes + entry.2 > MAX_CHUNK_BYTES {
            out.push(std::mem::take(&mut current));
            current_bytes = 0;
        }
        current_bytes += entry.2;
        current.push(entry);
    }
    if !current.is_empty() {
        out.push(current);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewEvent;

    fn new_event(payload_len: usize) -> NewEvent {
        NewEvent {
            event_type: "e".into(),
            schema_version: 1,
            payload: "x".repeat(payload_len),
        }
    }

    fn write(stream: &str, expected: u64, events: Vec<NewEvent>) -> StreamWrite {
        StreamWrite {
            stream: stream.into(),
            expected_version: expected,
            events,
        }
    }

    fn ready(planned: Result<Planned, StoreError>) -> Plan {
        match planned {
            Ok(Planned::Ready(plan)) => plan,
            other => panic!("expected a plan, got {other:?}"),
        }
    }

    fn now() -> Timestamp {
        Timestamp::from_second(1_800_000_000).unwrap()
    }

    #[test]
    fn a_booking_is_head_two_tip_updates_and_one_feed_item() {
        let tips = HashMap::from([
            (
                "restaurant:r1".to_owned(),
                Some(Tip {
                    version: 3,
                    bytes: 900,
                    events: None,
                }),
            ),
            (
                "daybook:r1:2026-12-08".to_owned(),
                Some(Tip {
                    version: 5,
                    bytes: 1500,
                    events: None,
                }),
            ),
            ("reservation:x".to_owned(), None),
        ]);
        let writes = [
            write("restaurant:r1", 3, vec![]),
            write("daybook:r1:2026-12-08", 5, vec![new_event(200)]),
            write("reservation:x", 0, vec![new_event(300)]),
        ];
        let head = Head {
            position: 41,
            recorded_at: Some(0),
        };
        let made = ready(plan(&writes, head, &tips, now(), 16 * 1024));
        assert_eq!(made.ops.len(), 5);
        assert!(matches!(
            &made.ops[0],
            Op::Head {
                previous: 41,
                position: 43,
                ..
            }
        ));
        assert!(matches!(&made.ops[1], Op::Check { expected: 3, .. }));
        assert!(matches!(
            &made.ops[2],
            Op::Append {
                expected: 5,
                version: 6,
                ..
            }
        ));
        assert!(matches!(
            &made.ops[3],
            Op::PutTip {
                expected: 0,
                version: 1,
                ..
            }
        ));
        assert!(
            matches!(&made.ops[4], Op::PutNew { sk: 43, pk, events } if pk == "$feed#0" && events.len() == 2)
        );
        let positions: Vec<_> = made
            .recorded
            .iter()
            .map(|r| (r.position, r.stream_version))
            .collect();
        assert_eq!(positions, [(42, 6), (43, 1)]);
        assert!(made.recorded.iter().all(|r| r.recorded_at == now()));
    }

    #[test]
    fn recorded_at_never_goes_back_behind_the_head() {
        let later = now().as_nanosecond() + 5_000;
        let head = Head {
            position: 1,
            recorded_at: Some(i64::try_from(later).unwrap()),
        };
        let tips = HashMap::from([("s".to_owned(), None)]);
        let made = ready(plan(
            &[write("s", 0, vec![new_event(1)])],
            head,
            &tips,
            now(),
            1024,
        ));
        assert_eq!(made.recorded[0].recorded_at.as_nanosecond(), later);
    }

    #[test]
    fn expectations_follow_earlier_writes_of_the_same_call() {
        let tips = HashMap::from([(
            "s".to_owned(),
            Some(Tip {
                version: 2,
                bytes: 10,
                events: None,
            }),
        )]);
        let ok = [
            write("s", 2, vec![new_event(1)]),
            write("s", 3, vec![new_event(1), new_event(1)]),
        ];
        let made = ready(plan(&ok, Head::default(), &tips, now(), 1024));
        let versions: Vec<_> = made.recorded.iter().map(|r| r.stream_version).collect();
        assert_eq!(versions, [3, 4, 5]);
        // One operation per stream (DynamoDB allows one per item and transaction).
        assert_eq!(
            made.ops
                .iter()
                .filter(|op| op.checked_stream().is_some())
                .count(),
            1
        );
        let bad = [write("s", 2, vec![new_event(1)]), write("s", 2, vec![])];
        let err = plan(&bad, Head::default(), &tips, now(), 1024).unwrap_err();
        assert_eq!(
            err,
            StoreError::Conflict {
                stream: "s".into(),
                expected: 2,
                actual: 3
            }
        );
        let first_fails = [write("a", 1, vec![]), write("s", 0, vec![])];
        let tips2 = HashMap::from([("a".to_owned(), None), ("s".to_owned(), None)]);
        let err = plan(&first_fails, Head::default(), &tips2, now(), 1024).unwrap_err();
        assert_eq!(
            err,
            StoreError::Conflict {
                stream: "a".into(),
                expected: 1,
                actual: 0
            }
        );
    }

    #[test]
    fn only_version_checks_write_nothing() {
        let tips = HashMap::from([(
            "s".to_owned(),
            Some(Tip {
                version: 2,
                bytes: 10,
                events: None,
            }),
        )]);
        let made = ready(plan(
            &[write("s", 2, vec![])],
            Head::default(),
            &tips,
            now(),
            1024,
        ));
        assert_eq!(
            made.ops,
            [Op::Check {
                stream: "s".into(),
                expected: 2
            }]
        );
        assert!(made.recorded.is_empty());
    }

    #[test]
    fn a_full_tip_rolls_over_into_a_batch_item() {
        let head = Head {
            position: 10,
            recorded_at: None,
        };
        let tips = HashMap::from([(
            "s".to_owned(),
            Some(Tip {
                version: 3,
                bytes: 900,
                events: None,
            }),
        )]);
        let writes = [write("s", 3, vec![new_event(200)])];
        assert_eq!(
            plan(&writes, head, &tips, now(), 1000).unwrap(),
            Planned::NeedTips(vec!["s".into()])
        );

        // The tip's three events, as stored (versions 1..=3).
        let old: Vec<AttributeValue> = (1..=3)
            .map(|v| {
                let r = RecordedEvent {
                    position: v,
                    stream: "s".into(),
                    stream_version: v,
                    event_type: "e".into(),
                    schema_version: 1,
                    payload: "y".repeat(250),
                    recorded_at: now(),
                };
                event_map(&r, false)
            })
            .collect();
        let old_bytes: usize = old.iter().map(list_entry_size).sum();
        let tips = HashMap::from([(
            "s".to_owned(),
            Some(Tip {
                version: 3,
                bytes: count(old_bytes),
                events: Some(old),
            }),
        )]);
        let made = ready(plan(&writes, head, &tips, now(), 1000));
        // Head, batch (versions 1..=2 or 1..=3), new tip, feed.
        let batch = made.ops.iter().find_map(|op| match op {
            Op::PutNew { pk, sk, events } if pk == "s" => Some((*sk, events.len())),
            _ => None,
        });
        let tip = made.ops.iter().find_map(|op| match op {
            Op::PutTip {
                expected,
                version,
                events,
                bytes,
                ..
            } => Some((*expected, *version, events.len(), *bytes)),
            _ => None,
        });
        let (batch_last, batch_len) = batch.unwrap();
        let (expected, version, tip_len, tip_bytes) = tip.unwrap();
        assert_eq!((expected, version), (3, 4));
        assert_eq!(
            batch_last + count(tip_len),
            4,
            "batch and tip together hold versions 1..=4"
        );
        assert_eq!(count(batch_len), batch_last);
        assert!(tip_bytes <= 1000 && tip_len >= 1);
    }

    #[test]
    fn big_appends_are_chunked_and_the_limits_are_too_large_errors() {
        let tips = HashMap::from([("s".to_owned(), None)]);
        // 8 events of 100 KB: too much for one item, fine for a transaction.
        let writes = [write(
            "s",
            0,
            (0..8).map(|_| new_event(100 * 1024)).collect(),
        )];
        let made = ready(plan(&writes, Head::default(), &tips, now(), 16 * 1024));
        let batches = made
            .ops
            .iter()
            .filter(|op| matches!(op, Op::PutNew { pk, .. } if pk == "s"))
            .count();
        let feeds = made
            .ops
            .iter()
            .filter(|op| matches!(op, Op::PutNew { pk, .. } if pk.starts_with('$')))
            .count();
        assert!(
            batches >= 3 && feeds >= 3,
            "{batches} batches, {feeds} feed chunks"
        );
        for op in &made.ops {
            if let Op::PutNew { events, .. } | Op::PutTip { events, .. } = op {
                assert!(events.iter().map(list_entry_size).sum::<usize>() <= MAX_CHUNK_BYTES);
            }
        }
        // The port's 2 MiB of events: written twice, over the 4 MiB transaction limit.
        let writes = [write(
            "s",
            0,
            (0..16).map(|_| new_event(128 * 1024)).collect(),
        )];
        assert!(matches!(
            plan(&writes, Head::default(), &tips, now(), 16 * 1024),
            Err(StoreError::TooLarge(_))
        ));
        // More than 100 operations.
        let many: Vec<_> = (0..100)
            .map(|i| write(&format!("s{i}"), 0, vec![]))
            .collect();
        let tips: HashMap<_, _> = (0..100).map(|i| (format!("s{i}"), None)).collect();
        let mut with_event = many.clone();
        with_event.push(write("s", 0, vec![new_event(1)]));
        let mut tips_with = tips.clone();
        tips_with.insert("s".into(), None);
        assert!(matches!(
            plan(&with_event, Head::default(), &tips_with, now(), 1024),
            Err(StoreError::TooLarge(_))
        ));
    }
}
