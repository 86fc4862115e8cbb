//! The newest durable events, kept in memory so that reading the log's tail does not go back to
//! SQLite.
//!
//! The projector reads the log from its checkpoint every few milliseconds, and live feeds follow
//! the head: nearly every `read_all` asks for events committed moments ago. From SQLite each
//! such read was a query whose pages come from the WAL file, one `pread` each, and then a row
//! decode per event: the `pread`s alone were 4 % of the server's CPU at 64 connections. The
//! syncer already holds those events when it acknowledges them, so it keeps a copy of the last
//! [`CAPACITY`] here.
//!
//! Only a gap-free run of positions is kept: an event that does not follow the newest one held
//! (a batch whose fsync failed, or events another process appended) starts the run over. A read
//! is answered from here only when the run holds the position right after `after`; otherwise it
//! goes to SQLite, so an answer never skips an event.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use crate::store::RecordedEvent;

/// Events kept: about 1 MiB, and 60 ms of the log at 16,000 events/s, several times the lag of
/// the projector under load.
pub(super) const CAPACITY: usize = 2048;

#[derive(Default)]
pub(super) struct RecentEvents {
    run: Mutex<VecDeque<RecordedEvent>>,
}

impl RecentEvents {
    /// Appends durable events, in position order, dropping the oldest beyond [`CAPACITY`].
    pub fn extend<'a>(&self, events: impl IntoIterator<Item = &'a RecordedEvent>) {
        let mut run = self.run.lock().unwrap_or_else(PoisonError::into_inner);
        for event in events {
            let follows = run
                .back()
                .is_none_or(|newest| newest.position.checked_add(1) == Some(event.position));
            if !follows {
                run.clear();
            }
            if run.len() == CAPACITY {
                run.pop_front();
            }
            run.push_back(event.clone());
        }
    }

    /// The events after `after` up to `durable`, at most `limit` of them, if the run holds the
    /// first one (`None`: ask SQLite).
    pub fn after(&self, after: u64, durable: u64, limit: usize) -> Option<Vec<RecordedEvent>> {
        let run = self.run.lock().unwrap_or_else(PoisonError::into_inner);
        let oldest = run.front()?.position;
        let first = after.checked_add(1)?;
        if first < oldest {
            return None;
        }
        let skip = usize::try_from(first - oldest).ok()?;
        Some(
            run.iter()
                .skip(skip)
                .take_while(|event| event.position <= durable)
                .take(limit)
                .cloned()
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(position: u64) -> RecordedEvent {
        RecordedEvent {
            position,
            stream: "s".into(),
            stream_version: position,
            event_type: "t".into(),
            schema_version: 1,
            payload: "{}".into(),
            recorded_at: jiff::Timestamp::UNIX_EPOCH,
        }
    }

    fn positions(events: Option<Vec<RecordedEvent>>) -> Option<Vec<u64>> {
        events.map(|events| events.iter().map(|e| e.position).collect())
    }

    #[test]
    fn reads_the_tail_within_the_limit_and_the_durable_head() {
        let recent = RecentEvents::default();
        recent.extend(&(5..=9).map(event).collect::<Vec<_>>());
        assert_eq!(
            positions(recent.after(4, 9, 100)),
            Some(vec![5, 6, 7, 8, 9])
        );
        assert_eq!(positions(recent.after(6, 9, 2)), Some(vec![7, 8]));
        assert_eq!(positions(recent.after(6, 7, 100)), Some(vec![7]));
        assert_eq!(positions(recent.after(9, 9, 100)), Some(vec![]));
    }

    #[test]
    fn older_events_and_an_empty_run_are_left_to_sqlite() {
        let recent = RecentEvents::default();
        assert_eq!(positions(recent.after(0, 10, 100)), None);
        recent.extend(&(5..=9).map(event).collect::<Vec<_>>());
        assert_eq!(positions(recent.after(3, 9, 100)), None);
        assert_eq!(positions(recent.after(0, 9, 100)), None);
    }

    #[test]
    fn a_gap_starts_the_run_over() {
        let recent = RecentEvents::default();
        recent.extend(&[event(1), event(2)]);
        recent.extend(&[event(5), event(6)]);
        assert_eq!(
            positions(recent.after(2, 6, 100)),
            None,
            "3 and 4 are not here"
        );
        assert_eq!(positions(recent.after(4, 6, 100)), Some(vec![5, 6]));
    }

    #[test]
    fn the_run_keeps_the_newest_events() {
        let recent = RecentEvents::default();
        let all: Vec<RecordedEvent> = (1..=CAPACITY as u64 + 10).map(event).collect();
        recent.extend(&all);
        assert_eq!(positions(recent.after(9, u64::MAX, 1)), None);
        assert_eq!(positions(recent.after(10, u64::MAX, 1)), Some(vec![11]));
    }
}
