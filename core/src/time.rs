//! Civil (wall-clock) time in the restaurant's own zone. The core has no time-zone database:
//! hosts convert instants to the restaurant's civil time before calling it.
//!
//! Within a service day, times live on a *minute axis* counted from the service date's midnight,
//! so a range that runs past midnight (`18:00-02:00`) is simply `[1080, 1560)`.

use jiff::civil::{Date, DateTime, Time};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::fmt;

use crate::error::{DomainError, ErrorCode};
use crate::json::{FromJson, FromJsonKey, JsonError, invalid_type};

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

impl FromJson for ClockTime {
    fn from_json(value: Value) -> Result<Self, JsonError> {
        match &value {
            Value::String(text) => ClockTime::parse(text).map_err(|e| JsonError::from(e.message)),
            _ => Err(invalid_type(&value, "a time HH:MM")),
        }
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

impl FromJson for TimeRange {
    fn from_json(value: Value) -> Result<Self, JsonError> {
        match &value {
            Value::String(text) => TimeRange::parse(text).map_err(|e| JsonError::from(e.message)),
            _ => Err(invalid_type(&value, "a range HH:MM-HH:MM")),
        }
    }
}

/// Parses exactly `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Result<Date, DomainError> {
    let bytes = text.as_bytes();
    let date = match bytes.get(4) {
        Some(b'-') if bytes.len() == 10 => split_date(bytes).map(|(date, _)| date),
        _ => None,
    };
    date.ok_or_else(|| {
        DomainError::new(
            ErrorCode::InvalidDate,
            format!("{text:?} is not a date of the form YYYY-MM-DD"),
        )
        .with_field("date")
    })
}

// ---- Civil dates and date-times on the wire ----
//
// The wire forms are jiff's (its `Display` and serde forms): `YYYY-MM-DD`, with years outside
// 0..=9999 written `-00YYYY`, and `YYYY-MM-DDTHH:MM:SS[.fffffffff]` with the fraction only when
// it is not zero and without trailing zeros. They are read and written here rather than by jiff's
// general ISO 8601 / Temporal parser and printer, which (with their error messages) would be a
// third of the wasm modules. Accepted input: the date; then optionally `T` (or `t` or a space)
// and `HH`, `HH:MM`, `HH:MM:SS` or `HH:MM:SS.f` (1 to 9 digits, `.` or `,`); a leap second `60`
// reads as `59` (as jiff does). Offsets, time-zone annotations and ISO 8601's basic format (no
// separators) are refused: a civil time has no zone.

/// `n` ASCII digits at the start of `bytes` as a number, and the rest.
fn split_digits(bytes: &[u8], n: usize) -> Option<(i32, &[u8])> {
    let (digits, rest) = bytes.split_at_checked(n)?;
    let mut value: i32 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + i32::from(b - b'0');
    }
    Some((value, rest))
}

/// A date at the start of `bytes` (`YYYY-MM-DD` or `±YYYYYY-MM-DD`), and the rest.
fn split_date(bytes: &[u8]) -> Option<(Date, &[u8])> {
    let (year, rest) = match bytes.split_first()? {
        (b'+', rest) => split_digits(rest, 6)?,
        (b'-', rest) => match split_digits(rest, 6)? {
            (0, _) => return None,
            (year, rest) => (-year, rest),
        },
        _ => split_digits(bytes, 4)?,
    };
    let (month, rest) = split_digits(rest.strip_prefix(b"-")?, 2)?;
    let (day, rest) = split_digits(rest.strip_prefix(b"-")?, 2)?;
    let date = Date::new(
        i16::try_from(year).ok()?,
        i8::try_from(month).ok()?,
        i8::try_from(day).ok()?,
    )
    .ok()?;
    Some((date, rest))
}

/// A time of day, `HH[:MM[:SS[.f]]]`, that is all of `bytes`.
fn parse_time_of_day(bytes: &[u8]) -> Option<Time> {
    let (hour, rest) = split_digits(bytes, 2)?;
    let (minute, rest) = match rest.strip_prefix(b":") {
        None if rest.is_empty() => (0, rest),
        None => return None,
        Some(rest) => split_digits(rest, 2)?,
    };
    let (second, rest) = match rest.strip_prefix(b":") {
        None if rest.is_empty() => (0, rest),
        None => return None,
        Some(rest) => split_digits(rest, 2)?,
    };
    let nanosecond = match rest.split_first() {
        None => 0,
        Some((b'.' | b',', fraction)) if (1..=9).contains(&fraction.len()) => {
            let (value, _) = split_digits(fraction, fraction.len())?;
            let scale = 10_i32.pow(u32::try_from(9 - fraction.len()).ok()?);
            value * scale
        }
        Some(_) => return None,
    };
    let second = if second == 60 { 59 } else { second };
    Time::new(
        i8::try_from(hour).ok()?,
        i8::try_from(minute).ok()?,
        i8::try_from(second).ok()?,
        nanosecond,
    )
    .ok()
}

/// Parses a civil date in its wire form (see above): `YYYY-MM-DD`.
pub fn parse_civil_date(text: &str) -> Option<Date> {
    match split_date(text.as_bytes())? {
        (date, []) => Some(date),
        _ => None,
    }
}

/// Parses a civil date-time in its wire form (see above), e.g. `2026-12-08T19:00:00`; a date
/// alone is its midnight.
pub fn parse_civil_datetime(text: &str) -> Option<DateTime> {
    let (date, rest) = split_date(text.as_bytes())?;
    let time = match rest.split_first() {
        None => Time::midnight(),
        Some((b'T' | b't' | b' ', time)) => parse_time_of_day(time)?,
        Some(_) => return None,
    };
    Some(date.to_datetime(time))
}

fn push_2(out: &mut String, n: i8) {
    let n = n.unsigned_abs();
    out.push(char::from(b'0' + n / 10 % 10));
    out.push(char::from(b'0' + n % 10));
}

/// Appends `date` in its wire form, `YYYY-MM-DD` (jiff's form).
pub fn push_date(out: &mut String, date: Date) {
    let year = date.year();
    if year < 0 {
        out.push_str("-00");
    }
    let year = year.unsigned_abs();
    for divisor in [1000, 100, 10, 1] {
        out.push(char::from(b'0' + (year / divisor % 10) as u8));
    }
    out.push('-');
    push_2(out, date.month());
    out.push('-');
    push_2(out, date.day());
}

/// Appends `at` in its wire form, `YYYY-MM-DDTHH:MM:SS[.fffffffff]` (jiff's form).
pub fn push_datetime(out: &mut String, at: DateTime) {
    push_date(out, at.date());
    out.push('T');
    push_2(out, at.hour());
    out.push(':');
    push_2(out, at.minute());
    out.push(':');
    push_2(out, at.second());
    let mut fraction = at.subsec_nanosecond().unsigned_abs();
    if fraction != 0 {
        out.push('.');
        let mut digits = 9;
        while fraction.is_multiple_of(10) {
            fraction /= 10;
            digits -= 1;
        }
        for position in (0..digits).rev() {
            out.push(char::from(
                b'0' + (fraction / 10_u32.pow(position) % 10) as u8,
            ));
        }
    }
}

/// `date` in its wire form.
pub fn format_date(date: Date) -> String {
    let mut out = String::with_capacity(10);
    push_date(&mut out, date);
    out
}

/// `at` in its wire form.
pub fn format_datetime(at: DateTime) -> String {
    let mut out = String::with_capacity(19);
    push_datetime(&mut out, at);
    out
}

/// Serializes a civil date in its wire form (`#[serde(serialize_with)]`).
pub(crate) fn serialize_date<S: Serializer>(date: &Date, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format_date(*date))
}

/// Deserializes a civil date in its wire form (`#[serde(deserialize_with)]`).
pub(crate) fn deserialize_date<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Date, D::Error> {
    Date::from_json(Value::deserialize(deserializer)?).map_err(serde::de::Error::custom)
}

/// Deserializes a civil date-time in its wire form (`#[serde(deserialize_with)]`).
pub(crate) fn deserialize_datetime<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<DateTime, D::Error> {
    DateTime::from_json(Value::deserialize(deserializer)?).map_err(serde::de::Error::custom)
}

/// Serializes an optional civil date-time (`#[serde(serialize_with)]`; `None` is `null`).
pub(crate) fn serialize_optional_datetime<S: Serializer>(
    at: &Option<DateTime>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => serialize_datetime(at, serializer),
        None => serializer.serialize_none(),
    }
}

/// Serializes an optional civil date (`#[serde(serialize_with)]`; `None` is `null`).
pub(crate) fn serialize_optional_date<S: Serializer>(
    date: &Option<Date>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match date {
        Some(date) => serialize_date(date, serializer),
        None => serializer.serialize_none(),
    }
}

/// Serializes a civil date-time in its wire form (`#[serde(serialize_with)]`).
pub(crate) fn serialize_datetime<S: Serializer>(
    at: &DateTime,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format_datetime(*at))
}

impl FromJson for Date {
    fn from_json(value: Value) -> Result<Self, JsonError> {
        match &value {
            Value::String(text) => parse_civil_date(text)
                .ok_or_else(|| format!("{text:?} is not a date of the form YYYY-MM-DD").into()),
            _ => Err(invalid_type(&value, "a date")),
        }
    }
}

impl FromJsonKey for Date {
    fn from_json_key(key: String) -> Result<Self, JsonError> {
        Date::from_json(Value::String(key))
    }
}

impl FromJson for DateTime {
    fn from_json(value: Value) -> Result<Self, JsonError> {
        match &value {
            Value::String(text) => parse_civil_datetime(text).ok_or_else(|| {
                format!("{text:?} is not a date-time of the form YYYY-MM-DDTHH:MM:SS").into()
            }),
            _ => Err(invalid_type(&value, "a date-time")),
        }
    }
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

/// The date `days` days after `date` (before, when negative); `None` outside jiff's range.
pub fn add_days(date: Date, days: i64) -> Option<Date> {
    if days == 0 {
        return Some(date);
    }
    // H. Hinnant's `civil_from_days`.
    let z = day_number(date).checked_add(days)?.checked_add(719_468)?;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    Date::new(
        i16::try_from(year).ok()?,
        i8::try_from(month).ok()?,
        i8::try_from(day).ok()?,
    )
    .ok()
}

/// `at` plus `minutes` (seconds and fractions kept), as jiff's `checked_add` of a span of
/// minutes would give it; `None` outside jiff's range.
pub fn add_minutes(at: DateTime, minutes: i64) -> Option<DateTime> {
    let total = (i64::from(at.hour()) * 60 + i64::from(at.minute())).checked_add(minutes)?;
    let minute_of_day = total.rem_euclid(i64::from(MINUTES_PER_DAY));
    let date = add_days(at.date(), total.div_euclid(i64::from(MINUTES_PER_DAY)))?;
    let time = Time::new(
        i8::try_from(minute_of_day / 60).ok()?,
        i8::try_from(minute_of_day % 60).ok()?,
        at.second(),
        at.subsec_nanosecond(),
    )
    .ok()?;
    Some(date.to_datetime(time))
}

/// The civil instant of a point on `service_date`'s minute axis.
pub fn datetime_at(service_date: Date, minute: Minute) -> DateTime {
    let days = minute.div_euclid(MINUTES_PER_DAY);
    let clock = ClockTime::from_minute(minute).minutes();
    let date = add_days(service_date, i64::from(days)).unwrap_or(service_date);
    // Hours and minutes of a ClockTime are always valid.
    let time = Time::new((clock / 60) as i8, (clock % 60) as i8, 0, 0).unwrap_or_default();
    date.to_datetime(time)
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

    /// Every date in jiff's range, a step apart: printed, parsed and shifted as jiff does.
    #[test]
    fn civil_dates_read_and_write_as_jiff_does() {
        let mut day = date(-9999, 1, 1);
        let step = jiff::Span::new().days(17);
        while let Ok(next) = day.checked_add(step) {
            let text = day.to_string();
            assert_eq!(format_date(day), text);
            assert_eq!(parse_civil_date(&text), Some(day), "{text}");
            assert_eq!(text.parse::<Date>().ok(), Some(day));
            for days in [-400_000, -1, 1, 59, 366, 400_000] {
                let expected = day.checked_add(jiff::Span::new().days(days)).ok();
                assert_eq!(add_days(day, days), expected, "{day} + {days}");
            }
            day = next;
        }
        assert_eq!(add_days(date(9999, 12, 31), 1), None);
        assert_eq!(add_days(date(-9999, 1, 1), -1), None);
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-1-01",
            "-000000-01-01",
            "+010000-01-01",
            "2026-12-08x",
            "20261208",
            "2026-12-8",
            "",
        ] {
            assert_eq!(parse_civil_date(bad), None, "{bad}");
        }
        assert_eq!(parse_civil_date("+002026-12-08"), Some(date(2026, 12, 8)));
    }

    #[test]
    fn civil_datetimes_read_and_write_as_jiff_does() {
        let mut seed: u64 = 20261208;
        let mut next = |bound: u64| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % bound
        };
        for _ in 0..20_000 {
            let year = next(19_999) as i16 - 9999;
            let day = date(year, 1, 1)
                .checked_add(jiff::Span::new().days(next(365) as i64))
                .unwrap();
            let nanos = match next(4) {
                0 => 0,
                1 => next(1000) as i32 * 1_000_000,
                2 => next(1000) as i32 * 10_000,
                _ => next(1_000_000_000) as i32,
            };
            let at = day.at(next(24) as i8, next(60) as i8, next(60) as i8, nanos);
            let text = at.to_string();
            assert_eq!(format_datetime(at), text);
            assert_eq!(parse_civil_datetime(&text), Some(at), "{text}");
            let minutes = next(4000) as i64 - 2000;
            let expected = at.checked_add(jiff::Span::new().minutes(minutes)).ok();
            assert_eq!(add_minutes(at, minutes), expected, "{at} + {minutes} min");
        }
        assert_eq!(add_minutes(date(9999, 12, 31).at(23, 50, 0, 0), 15), None);
        // The shorter forms jiff also reads, read the same.
        for text in [
            "2026-12-08",
            "2026-12-08T19",
            "2026-12-08T19:05",
            "2026-12-08t19:05:07",
            "2026-12-08 19:05:07",
            "2026-12-08T19:05:07.5",
            "2026-12-08T19:05:07,000000001",
            "2026-12-08T23:59:60",
            "-000044-03-15T12:00:00",
            "+002026-12-08T00:00:00.123456789",
        ] {
            let expected = text.parse::<DateTime>().unwrap();
            assert_eq!(parse_civil_datetime(text), Some(expected), "{text}");
        }
        for bad in [
            "2026-12-08T",
            "2026-12-08T24:00",
            "2026-12-08T19:60",
            "2026-12-08T19:05:61",
            "2026-12-08T19:05:07.",
            "2026-12-08T19:05:07.1234567890",
            "2026-12-08T1905",
            "2026-12-08T19:05Z",
            "2026-12-08T19:05+01:00",
            "2026-12-08T19:05[Europe/Berlin]",
            "2026-12-08X19:05",
        ] {
            assert_eq!(parse_civil_datetime(bad), None, "{bad}");
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
