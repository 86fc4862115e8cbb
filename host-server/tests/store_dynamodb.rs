//! The DynamoDB adapter against AWS DynamoDB Local (started by the harness on 127.0.0.1 with a
//! free port; install it with `host-server/dynamodb-local/setup.sh`). Every test gets a fresh
//! table. The adapter-specific tests are here: request counts, the tip roll-over, chunking,
//! DynamoDB's limits, racing replicas, `create_table`, an unreachable endpoint.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod contract;
#[path = "support/dynamodb_local.rs"]
mod dynamodb_local;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, BillingMode, StreamViewType};
use dynamodb_local::DynamoDbLocal;
use reservation_server::store::dynamodb::layout::{self, PK};
use reservation_server::store::dynamodb::{
    CreateTableOutcome, DynamoOptions, DynamoStore, check_table, create_table,
};
use reservation_server::store::{EventStore, NewEvent, RecordedEvent, StoreError, StreamWrite};

async fn store_with(options: DynamoOptions) -> DynamoStore {
    let server = DynamoDbLocal::shared();
    let table = server.fresh_table().await;
    DynamoStore::connect_with(server.client_config(), &table, options)
        .await
        .expect("store on a fresh table")
}

async fn store() -> DynamoStore {
    store_with(DynamoOptions::default()).await
}

// The shared event-store contract, each check on a fresh table of the shared DynamoDB Local.
contract_tests!(async { Arc::new(store().await) as Arc<dyn EventStore> });

fn event(kind: &str, payload: &str) -> NewEvent {
    NewEvent {
        event_type: kind.into(),
        schema_version: 1,
        payload: format!(r#"{{"type":"{kind}","version":1,"x":{payload:?}}}"#),
    }
}

fn sized(bytes: usize) -> NewEvent {
    NewEvent {
        event_type: "blob".into(),
        schema_version: 1,
        payload: "x".repeat(bytes),
    }
}

fn write(stream: &str, expected: u64, events: Vec<NewEvent>) -> StreamWrite {
    StreamWrite {
        stream: stream.into(),
        expected_version: expected,
        events,
    }
}

/// Items stored under one partition key (to see tips and batches).
async fn items_in(store: &DynamoStore, pk: &str) -> Vec<u64> {
    let out = store
        .client()
        .query()
        .table_name(store.table())
        .key_condition_expression("#pk = :pk")
        .expression_attribute_names("#pk", PK)
        .expression_attribute_values(":pk", AttributeValue::S(pk.into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    out.items()
        .iter()
        .map(|item| match item.get(layout::SK) {
            Some(AttributeValue::N(n)) => n.parse().unwrap(),
            other => panic!("bad sort key {other:?}"),
        })
        .collect()
}

fn assert_log_is_consistent(all: &[RecordedEvent]) {
    for (i, e) in all.iter().enumerate() {
        assert_eq!(e.position, i as u64 + 1, "positions are gap-free from 1");
    }
    for pair in all.windows(2) {
        assert!(
            pair[0].recorded_at <= pair[1].recorded_at,
            "recorded_at never goes back"
        );
    }
}

#[tokio::test]
async fn append_load_and_read_all_round_trip() {
    let store = store().await;
    assert_eq!(store.head().await.unwrap(), 0);
    assert!(store.read_all(0, 10).await.unwrap().is_empty());
    assert!(store.load("restaurant:r1", 0).await.unwrap().is_empty());

    let first = store
        .append(vec![write(
            "restaurant:r1",
            0,
            vec![event("restaurant_registered", "ü ✓ \"q\"")],
        )])
        .await
        .unwrap();
    assert_eq!((first[0].position, first[0].stream_version), (1, 1));
    let booked = store
        .append(vec![
            write("restaurant:r1", 1, vec![]),
            write("daybook:r1:2026-12-08", 0, vec![event("table_booked", "a")]),
            write(
                "reservation:a",
                0,
                vec![event("reservation_confirmed", "a")],
            ),
        ])
        .await
        .unwrap();
    assert_eq!(
        booked
            .iter()
            .map(|e| (e.position, e.stream_version))
            .collect::<Vec<_>>(),
        [(2, 1), (3, 1)]
    );
    assert_eq!(store.load("restaurant:r1", 0).await.unwrap(), first);
    assert_eq!(store.load("reservation:a", 0).await.unwrap(), booked[1..]);
    let all = store.read_all(0, 100).await.unwrap();
    assert_eq!(all, [first.clone(), booked.clone()].concat());
    assert_eq!(store.read_all(1, 1).await.unwrap(), booked[..1]);
    assert_eq!(store.read_all(3, 10).await.unwrap(), []);
    assert_eq!(store.head().await.unwrap(), 3);
    assert_log_is_consistent(&all);
}

/// The issue's budget: an uncontended booking (restaurant checked, day book and reservation
/// appended) costs one consistent read and one `TransactWriteItems`, once the state is loaded.
/// The one read is a `BatchGetItem` of the head item and the three streams' tips (versions and
/// sizes only): it gives the next global position and decides whether a tip rolls over.
#[tokio::test]
async fn an_uncontended_booking_is_one_read_and_one_transaction() {
    let store = store().await;
    store
        .append(vec![write(
            "restaurant:r1",
            0,
            vec![event("restaurant_registered", "r")],
        )])
        .await
        .unwrap();
    for i in 0..5u64 {
        store
            .append(vec![
                write("restaurant:r1", 1, vec![]),
                write(
                    "daybook:r1:2026-12-08",
                    i,
                    vec![event("table_booked", &i.to_string())],
                ),
                write(
                    &format!("reservation:{i}"),
                    0,
                    vec![event("reservation_confirmed", "x")],
                ),
            ])
            .await
            .unwrap();
    }
    // The server loads (or catches up) its state: one Query per stream.
    let before = store.requests();
    let day = store.load("daybook:r1:2026-12-08", 3).await.unwrap();
    assert_eq!(day.len(), 2);
    assert_eq!(
        store.requests().since(&before).0,
        [("Query".to_owned(), 1)].into()
    );

    let before = store.requests();
    store
        .append(vec![
            write("restaurant:r1", 1, vec![]),
            write("daybook:r1:2026-12-08", 5, vec![event("table_booked", "6")]),
            write(
                "reservation:new",
                0,
                vec![event("reservation_confirmed", "x")],
            ),
        ])
        .await
        .unwrap();
    let used = store.requests().since(&before);
    println!("requests per booking: {:?}", used.0);
    assert_eq!(used.get("BatchGetItem"), 1, "{used:?}");
    assert_eq!(used.get("TransactWriteItems"), 1, "{used:?}");
    assert_eq!(used.total(), 2, "{used:?}");

    // The global feed: one GetItem of the head and one Query.
    let before = store.requests();
    assert_eq!(store.read_all(0, 100).await.unwrap().len(), 13);
    assert_eq!(store.requests().since(&before).total(), 2);
}

#[tokio::test]
async fn a_failed_condition_writes_nothing_and_names_the_stream() {
    let store = store().await;
    store
        .append(vec![
            write("a", 0, vec![event("e", "1")]),
            write("b", 0, vec![event("e", "1")]),
        ])
        .await
        .unwrap();
    let head = store.head().await.unwrap();
    let before_a = store.load("a", 0).await.unwrap();

    // b is at 1, not 0: neither a nor c may change.
    let err = store
        .append(vec![
            write("a", 1, vec![event("e", "2")]),
            write("b", 0, vec![event("e", "2")]),
            write("c", 0, vec![event("e", "1")]),
        ])
        .await
        .unwrap_err();
    assert_eq!(
        err,
        StoreError::Conflict {
            stream: "b".into(),
            expected: 0,
            actual: 1
        }
    );
    assert_eq!(store.load("a", 0).await.unwrap(), before_a);
    assert!(store.load("c", 0).await.unwrap().is_empty());
    assert_eq!(store.head().await.unwrap(), head);
    assert_eq!(store.read_all(0, 10).await.unwrap().len(), 2);

    // A stale empty write (a version assertion) fails the whole append too.
    let err = store
        .append(vec![
            write("a", 0, vec![]),
            write("c", 0, vec![event("e", "1")]),
        ])
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { ref stream, expected: 0, actual: 1 } if stream == "a"),
        "{err:?}"
    );
    assert!(store.load("c", 0).await.unwrap().is_empty());
    // A stream that does not exist yet, expected at 3.
    let err = store
        .append(vec![write("z", 3, vec![event("e", "1")])])
        .await
        .unwrap_err();
    assert_eq!(
        err,
        StoreError::Conflict {
            stream: "z".into(),
            expected: 3,
            actual: 0
        }
    );
    assert_eq!(store.head().await.unwrap(), head);
}

/// The conflict detected by DynamoDB itself (the transaction's condition), not by the read:
/// two stores race for the same version and exactly one wins each round.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_replicas_never_lose_or_duplicate_an_event() {
    let first = store().await;
    let server = DynamoDbLocal::shared();
    let second = DynamoStore::connect_with(
        server.client_config(),
        first.table(),
        DynamoOptions::default(),
    )
    .await
    .unwrap();
    let writers = 6;
    let per_writer = 8;
    let mut tasks = Vec::new();
    for w in 0..writers {
        let store = if w % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        tasks.push(tokio::spawn(async move {
            let mut conflicts = 0u32;
            let mut done = 0;
            while done < per_writer {
                let version = store.load("daybook:r1:2026-12-08", 0).await.unwrap().len() as u64;
                let private = format!("reservation:{w}-{done}");
                let result = store
                    .append(vec![
                        write(
                            "daybook:r1:2026-12-08",
                            version,
                            vec![event("table_booked", &format!("{w}-{done}"))],
                        ),
                        write(&private, 0, vec![event("reservation_confirmed", "x")]),
                    ])
                    .await;
                match result {
                    Ok(_) => done += 1,
                    Err(StoreError::Conflict { .. }) => conflicts += 1,
                    Err(other) => panic!("writer {w}: {other}"),
                }
            }
            conflicts
        }));
    }
    // Meanwhile, other streams from both stores: they only meet the day book writers at the head.
    let mut others = Vec::new();
    for w in 0..4 {
        let store = if w % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        others.push(tokio::spawn(async move {
            for i in 0..5u64 {
                store
                    .append(vec![write(&format!("other:{w}"), i, vec![event("e", "o")])])
                    .await
                    .unwrap();
            }
        }));
    }
    let mut conflicts = 0;
    for task in tasks {
        conflicts += task.await.unwrap();
    }
    for task in others {
        task.await.unwrap();
    }
    println!("conflicts between racing writers: {conflicts}");
    let day = first.load("daybook:r1:2026-12-08", 0).await.unwrap();
    assert_eq!(day.len(), writers * per_writer);
    assert!(
        day.iter()
            .enumerate()
            .all(|(i, e)| e.stream_version == i as u64 + 1)
    );
    let total = (writers * per_writer * 2 + 4 * 5) as u64;
    assert_eq!(second.head().await.unwrap(), total);
    let all = second.read_all(0, 10_000).await.unwrap();
    assert_eq!(all.len() as u64, total);
    assert_log_is_consistent(&all);
    let payloads: HashSet<_> = all
        .iter()
        .filter(|e| e.stream.starts_with("daybook"))
        .map(|e| e.payload.clone())
        .collect();
    assert_eq!(
        payloads.len(),
        writers * per_writer,
        "no booking recorded twice"
    );
    // Every stream's events are in the feed, at the same positions.
    for e in &day {
        assert_eq!(all[(e.position - 1) as usize], *e);
    }
}

/// Long streams: the tip rolls over into batch items (a tiny tip here, so it happens often),
/// loads from any version and the feed stay exact, and a load is still one Query.
#[tokio::test]
async fn long_streams_roll_the_tip_over_into_batches() {
    let store = store_with(DynamoOptions {
        tip_max_bytes: 700,
        ..DynamoOptions::default()
    })
    .await;
    let mut expected: Vec<RecordedEvent> = Vec::new();
    let mut version = 0u64;
    for round in 0..40u64 {
        // 1, 2 or 3 events per append, of varying size; sometimes one bigger than the tip.
        let count = round % 3 + 1;
        let events: Vec<NewEvent> = (0..count)
            .map(|i| {
                if round % 13 == 12 && i == 0 {
                    sized(900)
                } else {
                    event("e", &"y".repeat((round * 7 % 90) as usize))
                }
            })
            .collect();
        let recorded = store
            .append(vec![
                write("daybook:long", version, events),
                write(&format!("reservation:{round}"), 0, vec![event("r", "r")]),
            ])
            .await
            .unwrap();
        version += count;
        expected.extend(recorded.into_iter().filter(|e| e.stream == "daybook:long"));
    }
    let items = items_in(&store, "daybook:long").await;
    assert!(
        items.len() > 5,
        "the tip rolled over into batches: {items:?}"
    );
    assert_eq!(items.last(), Some(&layout::TIP_SK));
    for after in [0, 1, 2, 5, 17, 40, version - 1, version, version + 3] {
        let before = store.requests();
        let loaded = store.load("daybook:long", after).await.unwrap();
        assert_eq!(store.requests().since(&before).total(), 1, "one Query");
        let want: Vec<_> = expected
            .iter()
            .filter(|e| e.stream_version > after)
            .cloned()
            .collect();
        assert_eq!(loaded, want, "load after {after}");
    }
    // The feed, paged with several page sizes, is the same log.
    let all = store.read_all(0, 100_000).await.unwrap();
    assert_log_is_consistent(&all);
    for limit in [1, 7, 50] {
        let mut paged = Vec::new();
        let mut after = 0;
        loop {
            let page = store.read_all(after, limit).await.unwrap();
            assert!(page.len() <= limit);
            let Some(last) = page.last() else { break };
            after = last.position;
            paged.extend(page);
        }
        assert_eq!(paged, all, "pages of {limit}");
    }
}

/// Events too large for one item are split across items; an append too large for one
/// transaction (each event is written twice: stream and feed) is refused, writing nothing.
#[tokio::test]
async fn item_and_transaction_limits() {
    let store = store().await;
    // 8 × 100 KB: more than an item holds, fits a transaction.
    let big: Vec<NewEvent> = (0..8).map(|_| sized(100 * 1024)).collect();
    let recorded = store
        .append(vec![write("big", 0, big.clone())])
        .await
        .unwrap();
    assert_eq!(recorded.len(), 8);
    let loaded = store.load("big", 0).await.unwrap();
    assert_eq!(loaded, recorded);
    assert!(
        items_in(&store, "big").await.len() >= 3,
        "split into several items"
    );
    assert_eq!(store.read_all(0, 100).await.unwrap(), recorded);
    // The biggest payload the port allows fits too.
    let max = sized(reservation_server::store::MAX_PAYLOAD_BYTES);
    store
        .append(vec![write("big", 8, vec![max])])
        .await
        .unwrap();

    // Over the port's per-event limit: refused before any request.
    let before = store.requests();
    let err = store
        .append(vec![write(
            "big",
            9,
            vec![sized(reservation_server::store::MAX_PAYLOAD_BYTES + 1)],
        )])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::TooLarge(_)), "{err:?}");
    assert_eq!(store.requests().since(&before).total(), 0);

    // 1.9 MB (written twice: 3.8 MB) fits one transaction.
    store
        .append(vec![write(
            "big",
            9,
            (0..19).map(|_| sized(100 * 1024)).collect(),
        )])
        .await
        .unwrap();
    // The port's largest append (2 MiB): over DynamoDB's 4 MiB per transaction once written twice.
    let most: Vec<_> = (0..16)
        .map(|_| sized(reservation_server::store::MAX_APPEND_BYTES / 16))
        .collect();
    let err = store
        .append(vec![write("big", 28, most)])
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::TooLarge(ref m) if m.contains("transaction")),
        "{err:?}"
    );
    assert_eq!(store.load("big", 0).await.unwrap().len(), 28);
    assert_eq!(store.head().await.unwrap(), 28);

    // More streams than a transaction holds.
    let writes: Vec<_> = (0..100)
        .map(|i| write(&format!("s{i}"), 0, vec![]))
        .collect();
    assert!(matches!(
        store.append(writes).await,
        Err(StoreError::TooLarge(_))
    ));
}

#[tokio::test]
async fn repeated_streams_and_version_only_writes() {
    let store = store().await;
    let recorded = store
        .append(vec![
            write("s", 0, vec![event("e", "1")]),
            write("t", 0, vec![]),
            write("s", 1, vec![event("e", "2"), event("e", "3")]),
        ])
        .await
        .unwrap();
    assert_eq!(
        recorded
            .iter()
            .map(|e| (e.position, e.stream_version))
            .collect::<Vec<_>>(),
        [(1, 1), (2, 2), (3, 3)]
    );
    let err = store
        .append(vec![
            write("s", 3, vec![event("e", "4")]),
            write("s", 3, vec![]),
        ])
        .await
        .unwrap_err();
    assert_eq!(
        err,
        StoreError::Conflict {
            stream: "s".into(),
            expected: 3,
            actual: 4
        }
    );
    // Only assertions: nothing recorded, and a stale one is a conflict.
    assert_eq!(store.append(vec![write("s", 3, vec![])]).await.unwrap(), []);
    assert_eq!(
        store
            .append(vec![write("s", 3, vec![]), write("t", 0, vec![])])
            .await
            .unwrap(),
        []
    );
    assert!(matches!(
        store
            .append(vec![write("s", 2, vec![]), write("t", 0, vec![])])
            .await,
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(store.append(vec![]).await.unwrap(), []);
    assert_eq!(store.head().await.unwrap(), 3);
    // The adapter's own partitions are not streams.
    for name in ["$head", "$feed#0", ""] {
        assert!(matches!(
            store
                .append(vec![write(name, 0, vec![event("e", "1")])])
                .await,
            Err(StoreError::Unavailable(_))
        ));
        assert!(store.load(name, 0).await.is_err());
    }
}

#[tokio::test]
async fn create_table_is_idempotent_with_streams_and_on_demand_billing() {
    let server = DynamoDbLocal::shared();
    let client = server.client();
    let name = "events-create-table";
    let err = check_table(&client, name).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Unavailable(ref m) if m.contains("create-table")),
        "{err:?}"
    );
    assert_eq!(
        create_table(&client, name).await.unwrap(),
        CreateTableOutcome::Created
    );
    assert_eq!(
        create_table(&client, name).await.unwrap(),
        CreateTableOutcome::AlreadyExisted
    );
    check_table(&client, name).await.unwrap();
    let table = client
        .describe_table()
        .table_name(name)
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    let stream = table.stream_specification().unwrap();
    assert!(stream.stream_enabled());
    assert_eq!(stream.stream_view_type(), Some(&StreamViewType::NewImage));
    assert!(table.latest_stream_arn().is_some());
    assert_eq!(
        table.billing_mode_summary().and_then(|b| b.billing_mode()),
        Some(&BillingMode::PayPerRequest)
    );
    // A table with other keys is refused, not used.
    client
        .create_table()
        .table_name("not-events")
        .attribute_definitions(
            aws_sdk_dynamodb::types::AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            aws_sdk_dynamodb::types::KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(aws_sdk_dynamodb::types::KeyType::Hash)
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    assert!(create_table(&client, "not-events").await.is_err());
    assert!(
        DynamoStore::connect_with(
            server.client_config(),
            "not-events",
            DynamoOptions::default()
        )
        .await
        .is_err()
    );
}

#[tokio::test]
async fn an_unreachable_endpoint_is_unavailable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = DynamoDbLocal::shared()
        .client_config()
        .endpoint_url(format!("http://127.0.0.1:{port}"));
    let store = DynamoStore::new(config, "events", DynamoOptions::default());
    let started = std::time::Instant::now();
    assert!(matches!(
        store.head().await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(matches!(
        store.load("s", 0).await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(matches!(
        store
            .append(vec![write("s", 0, vec![event("e", "1")])])
            .await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "gave up in {:?}",
        started.elapsed()
    );
}

/// `subscribe` sees this process's commits at once and another replica's by polling the head.
#[tokio::test]
async fn subscribers_see_commits_of_every_replica() {
    let options = DynamoOptions {
        head_poll_interval: Duration::from_millis(100),
        ..DynamoOptions::default()
    };
    let mine = store_with(options.clone()).await;
    let server = DynamoDbLocal::shared();
    let other = DynamoStore::connect_with(server.client_config(), mine.table(), options)
        .await
        .unwrap();
    let mut heads = mine.subscribe();
    mine.append(vec![write("s", 0, vec![event("e", "1")])])
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(5), heads.wait_for(|head| *head == 1))
        .await
        .expect("own commit seen")
        .unwrap();
    other
        .append(vec![write("s", 1, vec![event("e", "2")])])
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(5), heads.wait_for(|head| *head == 2))
        .await
        .expect("the other replica's commit seen by polling")
        .unwrap();
}
