//! Domain errors are data: a stable machine-readable `code`, a human message and the offending
//! field, so every host (HTTP, JS, the edge ABI) can branch on them and show them the same way.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::time::ClockTime;

/// The stable codes. Their snake_case wire names never change meaning; new ones may be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidId,
    InvalidName,
    InvalidPartySize,
    PartyTooLarge,
    InvalidDate,
    InvalidTime,
    InvalidTimezone,
    #[serde(rename = "in_the_past")]
    InThePast,
    InsufficientNotice,
    BeyondHorizon,
    ClosedOnDate,
    OutsideOpeningHours,
    InvalidTables,
    InvalidCombination,
    InvalidOpeningHours,
    InvalidPolicy,
    RestaurantNotFound,
    RestaurantAlreadyRegistered,
    ReservationNotFound,
    ReservationIdConflict,
    NotCancellable,
    NotModifiable,
    NotSeatable,
    NotCompletable,
    NoShowNotAllowed,
    NoTableAvailable,
    MalformedInput,
}

impl ErrorCode {
    /// Every code, for exhaustive tests and documentation.
    pub const ALL: [ErrorCode; 27] = [
        ErrorCode::InvalidId,
        ErrorCode::InvalidName,
        ErrorCode::InvalidPartySize,
        ErrorCode::PartyTooLarge,
        ErrorCode::InvalidDate,
        ErrorCode::InvalidTime,
        ErrorCode::InvalidTimezone,
        ErrorCode::InThePast,
        ErrorCode::InsufficientNotice,
        ErrorCode::BeyondHorizon,
        ErrorCode::ClosedOnDate,
        ErrorCode::OutsideOpeningHours,
        ErrorCode::InvalidTables,
        ErrorCode::InvalidCombination,
        ErrorCode::InvalidOpeningHours,
        ErrorCode::InvalidPolicy,
        ErrorCode::RestaurantNotFound,
        ErrorCode::RestaurantAlreadyRegistered,
        ErrorCode::ReservationNotFound,
        ErrorCode::ReservationIdConflict,
        ErrorCode::NotCancellable,
        ErrorCode::NotModifiable,
        ErrorCode::NotSeatable,
        ErrorCode::NotCompletable,
        ErrorCode::NoShowNotAllowed,
        ErrorCode::NoTableAvailable,
        ErrorCode::MalformedInput,
    ];

    /// The wire name, e.g. `party_too_large`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidId => "invalid_id",
            ErrorCode::InvalidName => "invalid_name",
            ErrorCode::InvalidPartySize => "invalid_party_size",
            ErrorCode::PartyTooLarge => "party_too_large",
            ErrorCode::InvalidDate => "invalid_date",
            ErrorCode::InvalidTime => "invalid_time",
            ErrorCode::InvalidTimezone => "invalid_timezone",
            ErrorCode::InThePast => "in_the_past",
            ErrorCode::InsufficientNotice => "insufficient_notice",
            ErrorCode::BeyondHorizon => "beyond_horizon",
            ErrorCode::ClosedOnDate => "closed_on_date",
            ErrorCode::OutsideOpeningHours => "outside_opening_hours",
            ErrorCode::InvalidTables => "invalid_tables",
            ErrorCode::InvalidCombination => "invalid_combination",
            ErrorCode::InvalidOpeningHours => "invalid_opening_hours",
            ErrorCode::InvalidPolicy => "invalid_policy",
            ErrorCode::RestaurantNotFound => "restaurant_not_found",
            ErrorCode::RestaurantAlreadyRegistered => "restaurant_already_registered",
            ErrorCode::ReservationNotFound => "reservation_not_found",
            ErrorCode::ReservationIdConflict => "reservation_id_conflict",
            ErrorCode::NotCancellable => "not_cancellable",
            ErrorCode::NotModifiable => "not_modifiable",
            ErrorCode::NotSeatable => "not_seatable",
            ErrorCode::NotCompletable => "not_completable",
            ErrorCode::NoShowNotAllowed => "no_show_not_allowed",
            ErrorCode::NoTableAvailable => "no_table_available",
            ErrorCode::MalformedInput => "malformed_input",
        }
    }

    /// What kind of refusal this is, so hosts map codes to transport statuses in one place
    /// (HTTP: 404, 409, 422, 400) without listing codes themselves.
    pub fn kind(self) -> ErrorKind {
        match self {
            ErrorCode::RestaurantNotFound | ErrorCode::ReservationNotFound => ErrorKind::NotFound,
            ErrorCode::RestaurantAlreadyRegistered
            | ErrorCode::ReservationIdConflict
            | ErrorCode::NotCancellable
            | ErrorCode::NotModifiable
            | ErrorCode::NotSeatable
            | ErrorCode::NotCompletable
            | ErrorCode::NoShowNotAllowed
            | ErrorCode::NoTableAvailable => ErrorKind::Conflict,
            ErrorCode::MalformedInput => ErrorKind::Malformed,
            _ => ErrorKind::Invalid,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Broad classes of refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input is well-formed but breaks a rule (HTTP 422).
    Invalid,
    /// The thing named does not exist (HTTP 404).
    NotFound,
    /// The thing exists but is not in a state that allows this (HTTP 409).
    Conflict,
    /// The input does not have the expected shape (HTTP 400).
    Malformed,
}

/// A refusal by the domain. No event is recorded when a command is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Other start times that would work, nearest first (only for refused modifications).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<ClockTime>,
}

impl DomainError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        DomainError {
            code,
            message: message.into(),
            field: None,
            alternatives: Vec::new(),
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn with_alternatives(mut self, alternatives: Vec<ClockTime>) -> Self {
        self.alternatives = alternatives;
        self
    }
}

impl fmt::Display for DomainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{} ({field}): {}", self.code, self.message),
            None => write!(f, "{}: {}", self.code, self.message),
        }
    }
}

impl std::error::Error for DomainError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_serializes_to_its_stable_name() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            let back: ErrorCode = serde_json::from_str(&json).unwrap();
            assert_eq!(back, code);
        }
    }
}
