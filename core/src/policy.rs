//! How a restaurant books: turn time, buffer, flex, notice, horizon, party limits and pacing.
//! Every field has the default the original service used, so `{}` is a valid policy.

use serde::Serialize;
use serde_json::Value;

use crate::error::{DomainError, ErrorCode};
use crate::json::{Fields, FromJson, JsonError, deserialize_via_json, from_json};
use crate::time::SLOT_MINUTES;

/// A turn time that applies to parties of `min_party..=max_party` guests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TurnBand {
    pub min_party: u16,
    pub max_party: u16,
    pub turn_minutes: u16,
}

from_json!(
    TurnBand,
    deny_unknown_fields {
        min_party: req,
        max_party: req,
        turn_minutes: req
    }
);

/// At most `max_guests` may start in any 15-minute interval of the grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pacing {
    pub max_guests: u16,
}

from_json!(Pacing, deny_unknown_fields { max_guests: req });

/// Absent fields take their default (see [`BookingPolicy::default`]); unknown fields are refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BookingPolicy {
    /// How long a party holds its table.
    pub turn_minutes: u16,
    /// Turn times that differ by party size; the first band that contains the party wins.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub turn_by_party_size: Vec<TurnBand>,
    /// Minutes a table stays free after a party leaves.
    pub buffer_minutes: u16,
    /// How far a requested time may be moved to fit, in steps of 15 minutes.
    pub flex_minutes: u16,
    /// Minimum notice: no booking may start sooner than this after `now`.
    pub lead_minutes: u16,
    /// How many days ahead bookings are taken.
    pub horizon_days: u16,
    /// Largest party accepted, when staff want less than the biggest table or combination.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_party_size: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pacing: Option<Pacing>,
}

impl Default for BookingPolicy {
    fn default() -> Self {
        BookingPolicy {
            turn_minutes: 60,
            turn_by_party_size: Vec::new(),
            buffer_minutes: 0,
            flex_minutes: 15,
            lead_minutes: 0,
            horizon_days: 90,
            max_party_size: None,
            pacing: None,
        }
    }
}

impl FromJson for BookingPolicy {
    fn from_json(value: Value) -> Result<Self, JsonError> {
        let mut fields = Fields::new(value, "BookingPolicy")?;
        let d = BookingPolicy::default();
        let policy = BookingPolicy {
            turn_minutes: fields.or("turn_minutes", d.turn_minutes)?,
            turn_by_party_size: fields.or("turn_by_party_size", d.turn_by_party_size)?,
            buffer_minutes: fields.or("buffer_minutes", d.buffer_minutes)?,
            flex_minutes: fields.or("flex_minutes", d.flex_minutes)?,
            lead_minutes: fields.or("lead_minutes", d.lead_minutes)?,
            horizon_days: fields.or("horizon_days", d.horizon_days)?,
            max_party_size: fields.or("max_party_size", d.max_party_size)?,
            pacing: fields.or("pacing", d.pacing)?,
        };
        fields.deny_unknown()?;
        Ok(policy)
    }
}

deserialize_via_json!(BookingPolicy);

impl BookingPolicy {
    /// How long a party of `party_size` holds its table.
    pub fn turn_for(&self, party_size: u16) -> i32 {
        let minutes = self
            .turn_by_party_size
            .iter()
            .find(|band| (band.min_party..=band.max_party).contains(&party_size))
            .map_or(self.turn_minutes, |band| band.turn_minutes);
        i32::from(minutes)
    }

    pub fn validate(&self) -> Result<(), DomainError> {
        let invalid = |field: &str, message: &str| {
            Err(DomainError::new(ErrorCode::InvalidPolicy, message)
                .with_field(format!("policy.{field}")))
        };
        let turn_ok = |t: u16| (5..=720).contains(&t);
        if !turn_ok(self.turn_minutes) {
            return invalid("turn_minutes", "turn time must be 5 to 720 minutes");
        }
        if self.turn_by_party_size.len() > 20 {
            return invalid("turn_by_party_size", "at most 20 bands");
        }
        for (i, band) in self.turn_by_party_size.iter().enumerate() {
            if band.min_party < 1 || band.min_party > band.max_party || !turn_ok(band.turn_minutes)
            {
                return invalid(
                    &format!("turn_by_party_size[{i}]"),
                    "a band needs 1 <= min_party <= max_party and a turn of 5 to 720 minutes",
                );
            }
            let overlaps = self.turn_by_party_size[..i].iter().any(|other| {
                band.min_party <= other.max_party && other.min_party <= band.max_party
            });
            if overlaps {
                return invalid(&format!("turn_by_party_size[{i}]"), "bands overlap");
            }
        }
        if self.buffer_minutes > 240 {
            return invalid("buffer_minutes", "buffer must be at most 240 minutes");
        }
        if self.flex_minutes > 120 || i32::from(self.flex_minutes) % SLOT_MINUTES != 0 {
            return invalid(
                "flex_minutes",
                "flex must be a multiple of 15 up to 120 minutes",
            );
        }
        if self.lead_minutes > 7 * 24 * 60 {
            return invalid("lead_minutes", "lead time must be at most 7 days");
        }
        if !(1..=730).contains(&self.horizon_days) {
            return invalid("horizon_days", "horizon must be 1 to 730 days");
        }
        if self.max_party_size == Some(0) {
            return invalid("max_party_size", "largest party must be at least 1");
        }
        if matches!(self.pacing, Some(Pacing { max_guests: 0 })) {
            return invalid("pacing.max_guests", "pacing must allow at least 1 guest");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_policy_has_the_original_services_defaults() {
        let policy: BookingPolicy = serde_json::from_str("{}").unwrap();
        assert_eq!(policy, BookingPolicy::default());
        assert_eq!(policy.turn_for(4), 60);
        assert_eq!(policy.flex_minutes, 15);
        assert!(policy.validate().is_ok());
    }

    #[test]
    fn turn_time_follows_party_size_bands() {
        let policy = BookingPolicy {
            turn_by_party_size: vec![TurnBand {
                min_party: 5,
                max_party: 8,
                turn_minutes: 90,
            }],
            ..Default::default()
        };
        assert_eq!(policy.turn_for(4), 60);
        assert_eq!(policy.turn_for(6), 90);
    }

    #[test]
    fn invalid_policies_name_the_field() {
        let flex = BookingPolicy {
            flex_minutes: 10,
            ..Default::default()
        };
        let err = flex.validate().unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidPolicy);
        assert_eq!(err.field.as_deref(), Some("policy.flex_minutes"));
        let bands = BookingPolicy {
            turn_by_party_size: vec![
                TurnBand {
                    min_party: 1,
                    max_party: 4,
                    turn_minutes: 60,
                },
                TurnBand {
                    min_party: 4,
                    max_party: 8,
                    turn_minutes: 90,
                },
            ],
            ..Default::default()
        };
        assert_eq!(
            bands.validate().unwrap_err().field.as_deref(),
            Some("policy.turn_by_party_size[1]")
        );
    }
}
