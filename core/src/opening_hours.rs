//! Weekly opening hours with dated exceptions. A range that runs past midnight belongs to the
//! service day on which it opens.

use jiff::civil::{Date, Weekday};
use serde::Serialize;

use crate::error::{DomainError, ErrorCode};
use crate::json::from_json;
use crate::small_sort;
use crate::time::{MINUTES_PER_DAY, Minute, TimeRange, days_between, format_date};

/// Most ranges accepted on one day (lunch, dinner, late bar, …).
const MAX_RANGES_PER_DAY: usize = 8;
/// Most dated exceptions kept on a restaurant.
pub const MAX_EXCEPTIONS: usize = 1000;

/// Ranges per weekday; a missing weekday is closed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WeeklyHours {
    pub monday: Vec<TimeRange>,
    pub tuesday: Vec<TimeRange>,
    pub wednesday: Vec<TimeRange>,
    pub thursday: Vec<TimeRange>,
    pub friday: Vec<TimeRange>,
    pub saturday: Vec<TimeRange>,
    pub sunday: Vec<TimeRange>,
}

from_json!(
    WeeklyHours,
    deny_unknown_fields {
        monday: or_default,
        tuesday: or_default,
        wednesday: or_default,
        thursday: or_default,
        friday: or_default,
        saturday: or_default,
        sunday: or_default,
    }
);

impl WeeklyHours {
    pub fn on(&self, weekday: Weekday) -> &[TimeRange] {
        match weekday {
            Weekday::Monday => &self.monday,
            Weekday::Tuesday => &self.tuesday,
            Weekday::Wednesday => &self.wednesday,
            Weekday::Thursday => &self.thursday,
            Weekday::Friday => &self.friday,
            Weekday::Saturday => &self.saturday,
            Weekday::Sunday => &self.sunday,
        }
    }
}

/// A dated exception: closed all day, or other ranges for that date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exception {
    #[serde(serialize_with = "crate::time::serialize_date")]
    pub date: Date,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub closed: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hours: Vec<TimeRange>,
}

from_json!(
    Exception,
    deny_unknown_fields {
        date: req,
        closed: or_default,
        hours: or_default
    }
);

/// The weekly hours and exceptions together: what decides whether a day is open.
#[derive(Debug, Clone, Copy)]
pub struct Schedule<'a> {
    pub weekly: &'a WeeklyHours,
    pub exceptions: &'a [Exception],
}

impl<'a> Schedule<'a> {
    /// The ranges of the service day `date` (empty when closed).
    pub fn ranges_on(&self, date: Date) -> &'a [TimeRange] {
        match self.exceptions.iter().find(|e| e.date == date) {
            Some(exception) if exception.closed => &[],
            Some(exception) => &exception.hours,
            None => self.weekly.on(date.weekday()),
        }
    }

    /// The spans of `date` on its minute axis, sorted by start.
    pub fn spans_on(&self, date: Date) -> Vec<(Minute, Minute)> {
        let mut spans: Vec<_> = self.ranges_on(date).iter().map(|r| r.span()).collect();
        small_sort::sort(&mut spans);
        spans
    }

    /// Rejects overlapping ranges within a day, and a past-midnight range that runs into the
    /// next service day's first range: every minute belongs to at most one service day, so a
    /// table can never be held by two day books at once.
    pub fn validate(&self) -> Result<(), DomainError> {
        let invalid = |message: String, field: &str| {
            DomainError::new(ErrorCode::InvalidOpeningHours, message).with_field(field)
        };
        let weekdays = [
            ("monday", Weekday::Monday),
            ("tuesday", Weekday::Tuesday),
            ("wednesday", Weekday::Wednesday),
            ("thursday", Weekday::Thursday),
            ("friday", Weekday::Friday),
            ("saturday", Weekday::Saturday),
            ("sunday", Weekday::Sunday),
        ];
        for (index, (name, weekday)) in weekdays.iter().enumerate() {
            let (_, next) = weekdays[(index + 1) % weekdays.len()];
            check_day(self.weekly.on(*weekday), self.weekly.on(next))
                .map_err(|m| invalid(m, &format!("opening_hours.{name}")))?;
        }
        if self.exceptions.len() > MAX_EXCEPTIONS {
            return Err(invalid(
                format!("at most {MAX_EXCEPTIONS} exceptions"),
                "exceptions",
            ));
        }
        for (index, exception) in self.exceptions.iter().enumerate() {
            let field = format!("exceptions[{index}]");
            if exception.closed && !exception.hours.is_empty() {
                return Err(invalid(
                    "an exception is either closed or has hours".into(),
                    &field,
                ));
            }
            if self.exceptions[..index]
                .iter()
                .any(|e| e.date == exception.date)
            {
                return Err(invalid(
                    format!("{} has two exceptions", format_date(exception.date)),
                    &field,
                ));
            }
            let (Ok(before), Ok(after)) = (exception.date.yesterday(), exception.date.tomorrow())
            else {
                return Err(invalid("date out of range".into(), &field));
            };
            check_day(self.ranges_on(before), self.ranges_on(exception.date))
                .and_then(|_| check_day(self.ranges_on(exception.date), self.ranges_on(after)))
                .map_err(|m| invalid(m, &field))?;
        }
        Ok(())
    }
}

fn check_day(day: &[TimeRange], next_day: &[TimeRange]) -> Result<(), String> {
    if day.len() > MAX_RANGES_PER_DAY {
        return Err(format!("at most {MAX_RANGES_PER_DAY} ranges per day"));
    }
    let mut spans: Vec<_> = day.iter().map(|r| r.span()).collect();
    small_sort::sort(&mut spans);
    for pair in spans.windows(2) {
        if pair[1].0 < pair[0].1 {
            return Err("ranges overlap".into());
        }
    }
    // Within 24 hours every clock time names exactly one minute of the service day.
    if let (Some(first), Some(last)) = (spans.first(), spans.last())
        && last.1 - first.0 > MINUTES_PER_DAY
    {
        return Err("a service day's ranges span more than 24 hours".into());
    }
    let next_opens = next_day.iter().map(|r| r.span().0 + MINUTES_PER_DAY).min();
    match (spans.last(), next_opens) {
        (Some(&(_, end)), Some(opens)) if end > opens => {
            Err("a range past midnight runs into the next day's hours".into())
        }
        _ => Ok(()),
    }
}

/// Whether `date` is more than `horizon_days` after `today`.
pub fn beyond_horizon(today: Date, date: Date, horizon_days: u16) -> bool {
    days_between(today, date) > i64::from(horizon_days)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn ranges(list: &[&str]) -> Vec<TimeRange> {
        list.iter().map(|r| TimeRange::parse(r).unwrap()).collect()
    }

    #[test]
    fn exceptions_override_the_weekday() {
        let weekly = WeeklyHours {
            tuesday: ranges(&["12:00-15:00"]),
            ..Default::default()
        };
        let exceptions = vec![
            Exception {
                date: date(2026, 12, 8),
                closed: true,
                hours: vec![],
            },
            Exception {
                date: date(2026, 12, 15),
                closed: false,
                hours: ranges(&["18:00-01:00"]),
            },
        ];
        let schedule = Schedule {
            weekly: &weekly,
            exceptions: &exceptions,
        };
        assert!(schedule.ranges_on(date(2026, 12, 8)).is_empty());
        assert_eq!(schedule.spans_on(date(2026, 12, 15)), vec![(1080, 1500)]);
        assert_eq!(schedule.spans_on(date(2026, 12, 22)), vec![(720, 900)]);
        assert!(schedule.validate().is_ok());
    }

    #[test]
    fn overlapping_ranges_are_refused() {
        let weekly = WeeklyHours {
            monday: ranges(&["12:00-15:00", "14:00-18:00"]),
            ..Default::default()
        };
        let err = Schedule {
            weekly: &weekly,
            exceptions: &[],
        }
        .validate()
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidOpeningHours);
        assert_eq!(err.field.as_deref(), Some("opening_hours.monday"));
    }

    #[test]
    fn a_night_range_may_not_run_into_the_next_morning() {
        let weekly = WeeklyHours {
            sunday: ranges(&["20:00-03:00"]),
            monday: ranges(&["02:00-10:00"]),
            ..Default::default()
        };
        let err = Schedule {
            weekly: &weekly,
            exceptions: &[],
        }
        .validate()
        .unwrap_err();
        assert_eq!(err.field.as_deref(), Some("opening_hours.sunday"));
        let fine = WeeklyHours {
            monday: ranges(&["03:00-10:00"]),
            ..weekly
        };
        assert!(
            Schedule {
                weekly: &fine,
                exceptions: &[]
            }
            .validate()
            .is_ok()
        );
    }
}
