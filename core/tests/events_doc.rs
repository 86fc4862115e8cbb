//! `core/EVENTS.md` stays true: every event type has a section, and every example in it decodes
//! to that type and encodes back to the same JSON.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reservation_core::Event;

#[test]
fn every_documented_example_round_trips() {
    let doc = include_str!("../EVENTS.md");
    let mut section = String::new();
    let mut examples = 0;
    let mut lines = doc.lines();
    while let Some(line) = lines.next() {
        if let Some(heading) = line.strip_prefix("## `") {
            section = heading.trim_end_matches('`').to_string();
        }
        if line == "```json" {
            let block: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
            let value: serde_json::Value = serde_json::from_str(&block.join("\n")).unwrap();
            let event: Event =
                serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{section}: {e}"));
            assert_eq!(event.type_name(), section);
            assert_eq!(
                serde_json::to_value(&event).unwrap(),
                value,
                "{section} does not round-trip"
            );
            examples += 1;
        }
    }
    for (type_name, _) in Event::TYPES {
        assert!(
            doc.contains(&format!("## `{type_name}`")),
            "{type_name} is not documented"
        );
    }
    assert!(examples >= Event::TYPES.len());
}
