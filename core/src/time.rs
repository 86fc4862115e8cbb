//! Civil (wall-clock) time in the restaurant's own zone. The core has no time-zone database:
//! hosts convert instants to the restaurant's civil time before calling it.
//!
//! Within a service day, times live on a *minute axis* counted from the service date's midnight,
//! so a range that runs past midnight (`18:00-02:00`) is simply `[1080, 1560)`.

use jiff::civil::{Date, DateTime};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

use crate::error::{DomainError, ErrorCode};

/// Minutes from the service date's midnight; may exceed 1440 past midnight.
pub type Minute = i32;

pub const MINUTES_PER_DAY: i32 = 1440;

/// The grid on which times are offered and requests are shifted.
pub const SLOT_MINUTES: i32 = 15;

/// A time of day with minute precision, written `HH:MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockTime(u16);

impl ClockTime {
    pub fn new(hour: u16, minute: u16) -> Option<Self> {
        (hour < 24 && minute < 60).then_some(ClockTime(hour * 60 + minute))
    }

    /// Minutes since midnight (0..1440).
    pub fn minutes(self) -> i32 {
        i32::from(self.0)
    }

    /// The clock time of a point on the minute axis.
    pub fn from_minute(minute: Minute) -> Self {
        // rem_euclid keeps the value in 0..1440, which fits in u16.
        ClockTime(u16::try_from(minute.rem_euclid(MINUTES_PER_DAY)).unwrap_or(0))
    }

    /// Parses exactly `HH:MM` (24-hour clock).
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        parse_hh_mm(text, false).map(ClockTime).ok_or_else(|| {
            DomainError::new(
                ErrorCode::InvalidTime,
                format!("{text:?} is not a time of the form HH:MM"),
            )
            .with_field("time")
        })
    }
}

/// Parses `HH:MM`; `24:00` only when `allow_midnight_end` (the end of a range).
fn parse_hh_mm(text: &str, allow_midnight_end: bool) -> Option<u16> {
    let bytes = text.as_bytes();
    if bytes.len() != 5 || bytes[2] != b':' {
        return None;
    }
    let digit = |b: u8| b.is_ascii_digit().then(|| u16::from(b - b'0'));
    let hour = digit(bytes[0])? * 10 + digit(bytes[1])?;
    let minute = digit(bytes[3])? * 10 + digit(bytes[4])?;
    match (hour, minute) {
        (24, 0) if allow_midnight_end => Some(1440),
        (h, m) if h < 24 && m < 60 => Some(h * 60 + m),
        _ => None,
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl Serialize for ClockTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        ClockTime::parse(&text).map_err(|e| serde::de::Error::custom(e.message))
    }
}

/// An opening range such as `12:00-15:00`. An end at or before the start runs past midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeRange {
    start: u16,
    /// 1..=1440, where 1440 is written `24:00`.
    end: u16,
}

impl TimeRange {
    pub fn new(start: ClockTime, end: ClockTime) -> Self {
        TimeRange {
            start: start.0,
            end: if end.0 == 0 { 1440 } else { end.0 },
        }
    }

    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let invalid = || {
            DomainError::new(
                ErrorCode::InvalidOpeningHours,
                format!("{text:?} is not a range of the form HH:MM-HH:MM"),
            )
        };
        let (start, end) = text.split_once('-').ok_or_else(invalid)?;
        let start = parse_hh_mm(start, false).ok_or_else(invalid)?;
        let end = parse_hh_mm(end, true).ok_or_else(invalid)?;
        // A midnight end is stored as 1440 so that spans are computed uniformly.
        Ok(TimeRange {
            start,
            end: if end == 0 { 1440 } else { end },
        })
    }

    /// The range on the service day's minute axis: `[start, end)`, `end` past 1440 when the range
    /// runs past midnight.
    pub fn span(self) -> (Minute, Minute) {
        let start = i32::from(self.start);
        let end = i32::from(self.end);
        if end <= start {
            (start, end + MINUTES_PER_DAY)
        } else {
            (start, end)
        }
    }
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let end = if self.end == 1440 {
            "24:00".to_string()
        } else {
            ClockTime(self.end).to_string()
        };
        write!(f, "{}-{}", ClockTime(self.start), end)
    }
}

impl Serialize for TimeRange {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TimeRange {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        TimeRange::parse(&text).map_err(|e| serde::de::Error::custom(e.message))
    }
}

/// Parses exactly `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Result<Date, DomainError> {
    let invalid = || {
        DomainError::new(
            ErrorCode::InvalidDate,
            format!("{text:?} is not a date of the form YYYY-MM-DD"),
        )
        .with_field("date")
    };
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return Err(invalid());
    }
    text.parse::<Date>().map_err(|_| invalid())
}

/// Whole days from `from` to `to` (negative when `to` is earlier).
pub fn days_between(from: Date, to: Date) -> i64 {
    day_number(to) - day_number(from)
}

/// Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's `days_from_civil`):
/// plain arithmetic, because span arithmetic is the slowest part of a booking decision.
fn day_number(date: Date) -> i64 {
    let (month, day) = (i64::from(date.month()), i64::from(date.day()));
    let year = i64::from(date.year()) - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The position of a civil instant on the minute axis of `service_date`.
pub fn minute_of(service_date: Date, at: DateTime) -> i64 {
    days_between(service_date, at.date()) * i64::from(MINUTES_PER_DAY)
        + i64::from(at.hour()) * 60
        + i64::from(at.minute())
}

/// The civil instant of a point on `service_date`'s minute axis.
pub fn datetime_at(service_date: Date, minute: Minute) -> DateTime {
    let days = minute.div_euclid(MINUTES_PER_DAY);
    let clock = ClockTime::from_minute(minute);
    let date = match days {
        0 => service_date,
        _ => service_date
            .checked_add(jiff::Span::new().days(days))
            .unwrap_or(service_date),
    };
    // Hours and minutes of a ClockTime are always valid.
    date.to_datetime(jiff::civil::Time::constant(
        (clock.minutes() / 60) as i8,
        (clock.minutes() % 60) as i8,
        0,
        0,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn clock_times_parse_strictly() {
        assert_eq!(ClockTime::parse("19:30").unwrap().minutes(), 19 * 60 + 30);
        for bad in ["7:30", "24:00", "19:60", "19-30", "19:30:00", "ab:cd", ""] {
            assert_eq!(
                ClockTime::parse(bad).unwrap_err().code,
                ErrorCode::InvalidTime,
                "{bad}"
            );
        }
    }

    #[test]
    fn ranges_past_midnight_extend_the_service_day() {
        assert_eq!(TimeRange::parse("12:00-15:00").unwrap().span(), (720, 900));
        assert_eq!(
            TimeRange::parse("18:00-02:00").unwrap().span(),
            (1080, 1560)
        );
        assert_eq!(
            TimeRange::parse("18:00-00:00").unwrap().span(),
            (1080, 1440)
        );
        assert_eq!(
            TimeRange::parse("18:00-24:00").unwrap().span(),
            (1080, 1440)
        );
        assert_eq!(TimeRange::parse("00:00-24:00").unwrap().span(), (0, 1440));
        assert_eq!(
            TimeRange::parse("18:00-02:00").unwrap().to_string(),
            "18:00-02:00"
        );
        assert_eq!(
            TimeRange::parse("18:00-24:00").unwrap().to_string(),
            "18:00-24:00"
        );
        assert!(TimeRange::parse("18:00").is_err());
    }

    #[test]
    fn dates_parse_strictly() {
        assert_eq!(parse_date("2026-12-08").unwrap(), date(2026, 12, 8));
        for bad in [
            "2026-13-01",
            "2026-02-30",
            "20261208",
            "08.12.2026",
            "2026-1-08",
        ] {
            assert_eq!(
                parse_date(bad).unwrap_err().code,
                ErrorCode::InvalidDate,
                "{bad}"
            );
        }
    }

    #[test]
    fn day_numbers_match_calendar_arithmetic() {
        let epoch = date(1970, 1, 1);
        assert_eq!(day_number(epoch), 0);
        for (from, to) in [
            (date(2026, 12, 8), date(2027, 3, 1)),
            (date(2024, 2, 28), date(2024, 3, 1)),
            (date(1900, 2, 28), date(2000, 3, 1)),
            (date(-44, 3, 15), date(2026, 1, 1)),
        ] {
            let expected = i64::from(from.until((jiff::Unit::Day, to)).unwrap().get_days());
            assert_eq!(days_between(from, to), expected, "{from} → {to}");
            assert_eq!(days_between(to, from), -expected);
        }
    }

    #[test]
    fn minute_axis_round_trips_across_midnight() {
        let day = date(2026, 12, 8);
        let past_midnight = datetime_at(day, 1530);
        assert_eq!(past_midnight, date(2026, 12, 9).at(1, 30, 0, 0));
        assert_eq!(minute_of(day, past_midnight), 1530);
        assert_eq!(minute_of(day, date(2026, 12, 7).at(23, 0, 0, 0)), -60);
    }
}
