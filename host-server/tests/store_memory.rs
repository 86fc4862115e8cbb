//! The in-memory adapter against the event-store contract.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod contract;

use reservation_server::store::EventStore;
use reservation_server::store::memory::MemoryStore;

contract_tests!(async { Box::new(MemoryStore::new()) });

#[tokio::test]
async fn subscribers_see_the_head_after_each_commit() {
    let store = MemoryStore::new();
    let mut head = store.subscribe();
    assert_eq!(*head.borrow_and_update(), 0);
    let stream = contract::unique("subscribe");
    store
        .append(vec![contract::write(
            &stream,
            0,
            contract::events(&stream, 1, 2),
        )])
        .await
        .unwrap();
    assert!(head.has_changed().unwrap());
    assert_eq!(*head.borrow_and_update(), 2);
    // A failed append does not wake anyone.
    assert!(
        store
            .append(vec![contract::write(
                &stream,
                0,
                contract::events(&stream, 3, 1)
            )])
            .await
            .is_err()
    );
    assert!(!head.has_changed().unwrap());
}
