//! Identifiers are parsed once at the boundary. Their alphabet is URL-safe and excludes `:` so
//! they can be embedded in stream names (`daybook:{restaurant}:{date}`) without escaping.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

use crate::error::{DomainError, ErrorCode};
use crate::json::{FromJson, FromJsonKey, JsonError, invalid_type};
use serde_json::Value;

/// Longest identifier accepted (UUIDs are 36 characters; this leaves room for client ids).
pub const MAX_ID_LEN: usize = 64;

fn is_valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_ID_LEN
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'@' | b'+')
        })
}

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// Accepts 1 to 64 characters of letters, digits and `- _ . ~ @ +`.
            pub fn parse(value: impl Into<String>) -> Result<Self, DomainError> {
                let value = value.into();
                if is_valid_id(&value) {
                    Ok($name(value))
                } else {
                    Err(DomainError::new(
                        ErrorCode::InvalidId,
                        concat!(
                            "a ",
                            $what,
                            " must be 1 to 64 characters of letters, digits and - _ . ~ @ +"
                        ),
                    ))
                }
            }

            /// For ids the core itself makes from valid parts.
            #[allow(dead_code)]
            pub(crate) fn trusted(value: String) -> Self {
                debug_assert!(is_valid_id(&value));
                $name(value)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = String::deserialize(deserializer)?;
                $name::parse(value).map_err(|e| serde::de::Error::custom(e.message))
            }
        }

        impl FromJson for $name {
            fn from_json(value: Value) -> Result<Self, JsonError> {
                match value {
                    Value::String(text) => $name::parse(text).map_err(|e| $crate::json::JsonError::from(e.message)),
                    other => Err(invalid_type(&other, $what)),
                }
            }
        }

        impl FromJsonKey for $name {
            fn from_json_key(key: String) -> Result<Self, JsonError> {
                $name::parse(key).map_err(|e| $crate::json::JsonError::from(e.message))
            }
        }
    };
}

id_type!(
    /// A restaurant, chosen by the platform or by whoever registers it.
    RestaurantId,
    "restaurant id"
);
id_type!(
    /// A table, unique within its restaurant (`T1`, `terrace-4`).
    TableId,
    "table id"
);
id_type!(
    /// A reservation, minted by the host (UUIDv7) or supplied by the client for idempotent retries.
    ReservationId,
    "reservation id"
);
id_type!(
    /// The guest who holds a reservation, as the platform's identity service names them.
    UserId,
    "user id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_accept_uuids_and_reject_separators() {
        assert!(ReservationId::parse("0192f4c8-6d3e-7a1b-9c2d-3e4f5a6b7c8d").is_ok());
        assert!(UserId::parse("guest+1@example.com").is_ok());
        for bad in ["", "a:b", "a/b", "a b", &"x".repeat(65)] {
            let err = TableId::parse(bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidId);
        }
    }

    #[test]
    fn ids_deserialize_through_validation() {
        assert!(serde_json::from_str::<TableId>("\"T1\"").is_ok());
        assert!(serde_json::from_str::<TableId>("\"T:1\"").is_err());
    }
}
