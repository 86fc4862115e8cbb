//! Requests as guests' frontends send them, checked field by field, and the preview of a
//! booking against a day snapshot. Server and wasm hosts both go through here, so a browser's
//! preview is the server's decision.

use jiff::civil::{Date, DateTime};
use serde::{Deserialize, Serialize};

use crate::allocation::RejectionReason;
use crate::command::{Command, RequestReservation};
use crate::decider::decide;
use crate::error::{DomainError, ErrorCode};
use crate::event::Event;
use crate::ids::{ReservationId, UserId};
use crate::json::from_json;
use crate::restaurant::{MAX_SEATS, validate_name};
use crate::snapshot::DaySnapshot;
use crate::time::{ClockTime, format_date, parse_date};

/// No restaurant seats more than its biggest combination; this caps what is worth checking.
pub const MAX_PARTY_SIZE: i64 = 10 * MAX_SEATS as i64;

/// A reservation request with raw fields, as JSON frontends send it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReservationRequest {
    /// A client-chosen reservation id, for idempotent retries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The guest (taken from the caller's identity when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    pub name: String,
    pub party_size: i64,
    pub date: String,
    pub time: String,
}

from_json!(
    ReservationRequest,
    deny_unknown_fields {
        id: opt,
        user_id: opt,
        name: req,
        party_size: req,
        date: req,
        time: req,
    }
);

/// A request whose every field is well-formed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRequest {
    pub id: Option<ReservationId>,
    pub user_id: Option<UserId>,
    pub name: String,
    pub party_size: u16,
    pub date: Date,
    pub time: ClockTime,
}

impl ValidRequest {
    pub fn into_command(
        self,
        reservation_id: ReservationId,
        restaurant_id: crate::ids::RestaurantId,
        user_id: UserId,
        now: DateTime,
    ) -> RequestReservation {
        RequestReservation {
            reservation_id,
            restaurant_id,
            user_id,
            guest_name: self.name,
            party_size: self.party_size,
            date: self.date,
            time: self.time,
            now,
        }
    }
}

impl ReservationRequest {
    /// Checks every field and reports every problem, each with its field name.
    pub fn validate(&self) -> Result<ValidRequest, Vec<DomainError>> {
        let mut errors = Vec::new();
        let e = &mut errors;
        let id = self
            .id
            .as_deref()
            .map(|id| keep(e, ReservationId::parse(id), "id"));
        let user_id = self
            .user_id
            .as_deref()
            .map(|id| keep(e, UserId::parse(id), "user_id"));
        let name = keep(
            e,
            validate_name(&self.name, "name").map(|()| self.name.trim().to_string()),
            "name",
        );
        let party_size = keep(e, parse_party_size(self.party_size), "party_size");
        let date = keep(e, parse_date(&self.date), "date");
        let time = keep(e, ClockTime::parse(&self.time), "time");
        match (id, user_id, name, party_size, date, time) {
            (id, user_id, Some(name), Some(party_size), Some(date), Some(time))
                if id.as_ref().is_none_or(Option::is_some)
                    && user_id.as_ref().is_none_or(Option::is_some) =>
            {
                Ok(ValidRequest {
                    id: id.flatten(),
                    user_id: user_id.flatten(),
                    name,
                    party_size,
                    date,
                    time,
                })
            }
            _ => Err(errors),
        }
    }
}

/// Keeps a parsed field, or records its error under `field`.
fn keep<T>(
    errors: &mut Vec<DomainError>,
    result: Result<T, DomainError>,
    field: &str,
) -> Option<T> {
    result.map_err(|e| errors.push(e.with_field(field))).ok()
}

/// A party size as a guest may ask for it: 1 to [`MAX_PARTY_SIZE`] (without its field name).
pub fn parse_party_size(value: i64) -> Result<u16, DomainError> {
    if value < 1 {
        return Err(DomainError::new(
            ErrorCode::InvalidPartySize,
            "a party has at least one guest",
        ));
    }
    if value > MAX_PARTY_SIZE {
        return Err(DomainError::new(
            ErrorCode::PartyTooLarge,
            format!("no restaurant seats more than {MAX_PARTY_SIZE}"),
        ));
    }
    u16::try_from(value).map_err(|_| DomainError::new(ErrorCode::PartyTooLarge, "party too large"))
}

/// What the server would decide for a request at `now`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Preview {
    Confirmed {
        #[serde(
            serialize_with = "crate::time::serialize_date",
            deserialize_with = "crate::time::deserialize_date"
        )]
        date: Date,
        party_size: u16,
        requested_time: ClockTime,
        time: ClockTime,
        #[serde(
            serialize_with = "crate::time::serialize_datetime",
            deserialize_with = "crate::time::deserialize_datetime"
        )]
        starts_at: DateTime,
        table_ids: Vec<crate::ids::TableId>,
    },
    Rejected {
        #[serde(
            serialize_with = "crate::time::serialize_date",
            deserialize_with = "crate::time::deserialize_date"
        )]
        date: Date,
        party_size: u16,
        requested_time: ClockTime,
        reason: RejectionReason,
        alternatives: Vec<ClockTime>,
    },
}

/// Previews `request` against `snapshot`: the same decision the server makes, with no event
/// recorded anywhere.
pub fn preview(
    snapshot: &DaySnapshot,
    request: &ReservationRequest,
    now: DateTime,
) -> Result<Preview, Vec<DomainError>> {
    let valid = request.validate()?;
    if valid.date != snapshot.date {
        return Err(vec![
            DomainError::new(
                ErrorCode::InvalidDate,
                format!(
                    "this snapshot is for {}, not {}",
                    format_date(snapshot.date),
                    format_date(valid.date)
                ),
            )
            .with_field("date"),
        ]);
    }
    let state = snapshot.state().map_err(|e| vec![e])?;
    let preview_id = ReservationId::trusted("preview".into());
    let user_id = valid
        .user_id
        .clone()
        .unwrap_or_else(|| UserId::trusted("preview".into()));
    let command = valid.into_command(preview_id, snapshot.restaurant.id.clone(), user_id, now);
    let events = decide(&Command::RequestReservation(command), &state).map_err(|e| vec![e])?;
    events
        .into_iter()
        .find_map(|event| match event {
            Event::ReservationConfirmed(e) => Some(Preview::Confirmed {
                date: e.date,
                party_size: e.party_size,
                requested_time: e.requested_time,
                time: e.time,
                starts_at: e.starts_at,
                table_ids: e.table_ids,
            }),
            Event::ReservationRejected(e) => Some(Preview::Rejected {
                date: e.date,
                party_size: e.party_size,
                requested_time: e.requested_time,
                reason: e.reason,
                alternatives: e.alternatives,
            }),
            _ => None,
        })
        .ok_or_else(|| {
            vec![DomainError::new(
                ErrorCode::MalformedInput,
                "the request produced no decision",
            )]
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decider::State;
    use crate::fixtures::*;
    use crate::snapshot::DaySnapshot;
    use serde_json::json;

    fn raw(value: serde_json::Value) -> ReservationRequest {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn validation_reports_every_bad_field() {
        let request = raw(
            json!({"id": "a b", "user_id": "", "name": " ", "party_size": 0, "date": "2026-13-01", "time": "7pm"}),
        );
        let errors = request.validate().unwrap_err();
        let found: Vec<(ErrorCode, Option<&str>)> = errors
            .iter()
            .map(|e| (e.code, e.field.as_deref()))
            .collect();
        assert_eq!(
            found,
            [
                (ErrorCode::InvalidId, Some("id")),
                (ErrorCode::InvalidId, Some("user_id")),
                (ErrorCode::InvalidName, Some("name")),
                (ErrorCode::InvalidPartySize, Some("party_size")),
                (ErrorCode::InvalidDate, Some("date")),
                (ErrorCode::InvalidTime, Some("time")),
            ]
        );
        let huge = raw(
            json!({"name": "Ada", "party_size": 100_000, "date": "2026-12-08", "time": "19:00"}),
        );
        assert_eq!(
            huge.validate().unwrap_err()[0].code,
            ErrorCode::PartyTooLarge
        );
        let fine =
            raw(json!({"name": " Ada ", "party_size": 2, "date": "2026-12-08", "time": "19:00"}));
        let valid = fine.validate().unwrap();
        assert_eq!(
            (valid.name.as_str(), valid.party_size, valid.id),
            ("Ada", 2, None)
        );
    }

    #[test]
    fn unknown_fields_and_wrong_types_are_malformed_not_invalid() {
        assert!(
            serde_json::from_value::<ReservationRequest>(
                json!({"name": "A", "party_size": "2", "date": "", "time": ""})
            )
            .is_err()
        );
        assert!(
            serde_json::from_value::<ReservationRequest>(
                json!({"name": "A", "party_size": 2, "date": "", "time": "", "x": 1})
            )
            .is_err()
        );
    }

    fn snapshot_with_19_00_taken() -> DaySnapshot {
        let r = restaurant(&[("T6", 6)], &[]);
        let [a1, a2] = confirmed("a", 6, "19:00", "19:00", &["T6"]);
        let state = State::from_events(&[registered(r.clone()), a1, a2]);
        DaySnapshot::of(&r, &state.day_books[&day()])
    }

    #[test]
    fn a_preview_is_the_decision_the_server_would_make() {
        let snapshot = snapshot_with_19_00_taken();
        let request =
            raw(json!({"name": "Ada", "party_size": 4, "date": "2026-12-08", "time": "19:45"}));
        assert_eq!(
            preview(&snapshot, &request, now()).unwrap(),
            Preview::Confirmed {
                date: day(),
                party_size: 4,
                requested_time: clock("19:45"),
                time: clock("20:00"),
                starts_at: at("20:00"),
                table_ids: vec![t("T6")],
            }
        );
        let taken =
            raw(json!({"name": "Ada", "party_size": 4, "date": "2026-12-08", "time": "19:00"}));
        assert_eq!(
            preview(&snapshot, &taken, now()).unwrap(),
            Preview::Rejected {
                date: day(),
                party_size: 4,
                requested_time: clock("19:00"),
                reason: RejectionReason::NoTableAvailable,
                alternatives: vec![clock("18:00"), clock("20:00"), clock("17:45")],
            }
        );
    }

    #[test]
    fn a_preview_refuses_what_the_server_would_refuse() {
        let snapshot = snapshot_with_19_00_taken();
        let other_day =
            raw(json!({"name": "Ada", "party_size": 4, "date": "2026-12-09", "time": "19:00"}));
        assert_eq!(
            preview(&snapshot, &other_day, now()).unwrap_err()[0].code,
            ErrorCode::InvalidDate
        );
        let too_big =
            raw(json!({"name": "Ada", "party_size": 7, "date": "2026-12-08", "time": "19:00"}));
        assert_eq!(
            preview(&snapshot, &too_big, now()).unwrap_err()[0].code,
            ErrorCode::PartyTooLarge
        );
        let late =
            raw(json!({"name": "Ada", "party_size": 2, "date": "2026-12-08", "time": "19:00"}));
        assert_eq!(
            preview(&snapshot, &late, at("19:30")).unwrap_err()[0].code,
            ErrorCode::InThePast
        );
    }
}
