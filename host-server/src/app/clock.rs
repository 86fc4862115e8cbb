//! The clock is injected: the server reads the real time, tests fix it. The core takes `now` as
//! the restaurant's civil (wall-clock) time, so an instant is turned into a civil date-time in
//! the restaurant's own zone right before deciding.

use std::sync::{Mutex, PoisonError};

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that stands still until it is set or advanced (for tests).
#[derive(Debug)]
pub struct FixedClock(Mutex<Timestamp>);

impl FixedClock {
    pub fn new(at: Timestamp) -> Self {
        FixedClock(Mutex::new(at))
    }

    pub fn set(&self, at: Timestamp) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = at;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Resolves an IANA zone name in the bundled tz database (case-insensitively).
pub fn zone(name: &str) -> Option<TimeZone> {
    jiff::tz::db().get(name).ok()
}

/// `at` as a civil date-time in `zone_name`; UTC if the zone is unknown (it was checked when the
/// restaurant was registered, so that only happens if a tz database update dropped a zone).
pub fn civil_in(at: Timestamp, zone_name: &str) -> DateTime {
    let tz = zone(zone_name).unwrap_or(TimeZone::UTC);
    tz.to_datetime(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_become_the_restaurants_wall_clock() {
        let at: Timestamp = "2026-12-08T18:30:00Z".parse().unwrap();
        assert_eq!(
            civil_in(at, "Europe/Berlin").to_string(),
            "2026-12-08T19:30:00"
        );
        assert_eq!(
            civil_in(at, "America/New_York").to_string(),
            "2026-12-08T13:30:00"
        );
        assert_eq!(civil_in(at, "Not/AZone").to_string(), "2026-12-08T18:30:00");
        assert!(zone("europe/berlin").is_some());
        assert!(zone("Mars/Olympus_Mons").is_none());
    }

    #[test]
    fn a_fixed_clock_stands_still_until_set() {
        let at: Timestamp = "2026-12-08T18:30:00Z".parse().unwrap();
        let clock = FixedClock::new(at);
        assert_eq!(clock.now(), at);
        let later: Timestamp = "2026-12-09T18:30:00Z".parse().unwrap();
        clock.set(later);
        assert_eq!(clock.now(), later);
    }
}
