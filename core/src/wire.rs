//! The versioned wire form of commands and events: `{"type": "...", "version": N, ...fields}`.
//! Old versions are upcast on read, one version at a time, before the fields are decoded; they
//! are never rewritten in storage.

use serde_json::{Map, Value};

/// A wire object's fields, without `type` and `version`.
pub type Fields = Map<String, Value>;

/// Turns one type's fields at `from_version` into its fields at `from_version + 1`.
#[derive(Clone, Copy)]
pub struct Upcaster {
    pub type_name: &'static str,
    pub from_version: u16,
    pub upcast: fn(Fields) -> Result<Fields, String>,
}

/// Splits a wire object into its type, its version (current when absent) and its fields, and
/// upcasts the fields to `current(type)`.
pub(crate) fn open_envelope(
    value: Value,
    current: impl Fn(&str) -> Option<u16>,
    upcasters: &[Upcaster],
) -> Result<(String, Map<String, Value>), String> {
    let Value::Object(mut fields) = value else {
        return Err("expected an object with a \"type\" field".into());
    };
    let type_name = match fields.remove("type") {
        Some(Value::String(name)) => name,
        _ => return Err("missing or non-string \"type\" field".into()),
    };
    let latest = current(&type_name).ok_or_else(|| format!("unknown type {type_name:?}"))?;
    let mut version = match fields.remove("version") {
        None => latest,
        Some(v) => v
            .as_u64()
            .and_then(|v| u16::try_from(v).ok())
            .filter(|&v| v >= 1)
            .ok_or_else(|| format!("{type_name}: \"version\" must be a positive integer"))?,
    };
    if version > latest {
        return Err(format!(
            "{type_name}: version {version} is newer than this build understands ({latest})"
        ));
    }
    while version < latest {
        let step = upcasters
            .iter()
            .find(|u| u.type_name == type_name && u.from_version == version)
            .ok_or_else(|| format!("{type_name}: no upcaster from version {version}"))?;
        fields = (step.upcast)(fields).map_err(|e| format!("{type_name} v{version}: {e}"))?;
        version += 1;
    }
    Ok((type_name, fields))
}

/// Declares an enum of structs whose serde form is the versioned envelope.
macro_rules! versioned_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident upcast by $upcasters:expr; {
            $( $(#[$vmeta:meta])* $variant:ident($ty:ty) = ($wire:literal, $version:literal) ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        pub enum $name {
            $( $(#[$vmeta])* $variant($ty) ),+
        }

        impl $name {
            /// Every wire type name with its current version.
            pub const TYPES: &'static [(&'static str, u16)] = &[$(($wire, $version)),+];

            /// The stable wire name, e.g. `reservation_confirmed`.
            pub fn type_name(&self) -> &'static str {
                match self { $( $name::$variant(_) => $wire ),+ }
            }

            /// The schema version this build writes.
            pub fn version(&self) -> u16 {
                match self { $( $name::$variant(_) => $version ),+ }
            }

            fn current_version(type_name: &str) -> Option<u16> {
                match type_name { $( $wire => Some($version), )+ _ => None }
            }

            /// Decodes the wire form, upcasting older versions with `upcasters`.
            pub fn from_wire(
                value: serde_json::Value,
                upcasters: &[$crate::wire::Upcaster],
            ) -> Result<Self, String> {
                let (type_name, fields) =
                    $crate::wire::open_envelope(value, Self::current_version, upcasters)?;
                let fields = serde_json::Value::Object(fields);
                match type_name.as_str() {
                    $( $wire => <$ty as $crate::json::FromJson>::from_json(fields)
                        .map($name::$variant)
                        .map_err(|e| format!("{}: {e}", $wire)), )+
                    other => Err(format!("unknown type {other:?}")),
                }
            }
        }

        impl $crate::json::FromJson for $name {
            fn from_json(value: serde_json::Value) -> Result<Self, $crate::json::JsonError> {
                $name::from_wire(value, $upcasters).map_err($crate::json::JsonError::from)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                #[derive(serde::Serialize)]
                struct Envelope<'a, T> {
                    #[serde(rename = "type")]
                    type_name: &'static str,
                    version: u16,
                    #[serde(flatten)]
                    fields: &'a T,
                }
                match self {
                    $( $name::$variant(fields) => Envelope { type_name: $wire, version: $version, fields }
                        .serialize(serializer), )+
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = <serde_json::Value as serde::Deserialize>::deserialize(deserializer)?;
                $name::from_wire(value, $upcasters).map_err(serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use versioned_enum;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;
    use serde_json::json;

    fn rename_guest(mut fields: Map<String, Value>) -> Result<Map<String, Value>, String> {
        let name = fields.remove("guest").ok_or("missing guest")?;
        fields.insert("guest_name".into(), name);
        Ok(fields)
    }

    #[test]
    fn older_versions_are_upcast_step_by_step() {
        let upcasters = [Upcaster {
            type_name: "thing",
            from_version: 1,
            upcast: rename_guest,
        }];
        let current = |t: &str| (t == "thing").then_some(2);
        let (name, fields) = open_envelope(
            json!({"type": "thing", "version": 1, "guest": "Ada"}),
            current,
            &upcasters,
        )
        .unwrap();
        assert_eq!(name, "thing");
        assert_eq!(Value::Object(fields), json!({"guest_name": "Ada"}));
        let current_form = open_envelope(
            json!({"type": "thing", "version": 2, "guest_name": "Ada"}),
            current,
            &upcasters,
        );
        assert!(current_form.is_ok());
        let broken =
            open_envelope(json!({"type": "thing", "version": 1}), current, &upcasters).unwrap_err();
        assert!(broken.contains("missing guest"), "{broken}");
        assert!(
            open_envelope(
                json!({"type": "thing", "version": 1, "guest": "A"}),
                current,
                &[]
            )
            .is_err()
        );
    }

    #[test]
    fn envelopes_are_checked() {
        let cases = [
            (json!([1]), "expected an object"),
            (json!({"version": 1}), "missing"),
            (json!({"type": "nope"}), "unknown type"),
            (
                json!({"type": "reservation_seated", "version": 0}),
                "positive integer",
            ),
            (
                json!({"type": "reservation_seated", "version": 9}),
                "newer than this build",
            ),
            (
                json!({"type": "reservation_seated", "version": 1, "reservation_id": "a"}),
                "missing field",
            ),
        ];
        for (value, expected) in cases {
            let error = Event::from_wire(value, &[]).unwrap_err();
            assert!(
                error.contains(expected),
                "{error} should mention {expected}"
            );
        }
    }

    #[test]
    fn events_carry_type_and_version_and_default_to_the_current_version() {
        let json = json!({"type": "reservation_seated", "reservation_id": "a", "restaurant_id": "r1", "at": "2026-12-08T19:02:00"});
        let event: Event = serde_json::from_value(json).unwrap();
        let wire = serde_json::to_value(&event).unwrap();
        assert_eq!(wire["type"], "reservation_seated");
        assert_eq!(wire["version"], 1);
        assert_eq!(serde_json::from_value::<Event>(wire).unwrap(), event);
    }
}
