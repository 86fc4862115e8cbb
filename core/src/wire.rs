//! The versioned wire form of commands and events: `{"type": "...", "version": N, ...fields}`.
//! Old versions are upcast on read, one version at a time, before the fields are decoded; they
//! are never rewritten in storage.

use serde_json::{Map, Value};

/// Turns one type's fields at `from_version` into its fields at `from_version + 1`.
#[derive(Clone, Copy)]
pub struct Upcaster {
    pub type_name: &'static str,
    pub from_version: u16,
    pub upcast: fn(Map<String, Value>) -> Result<Map<String, Value>, String>,
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
        return Err(format!("{type_name}: version {version} is newer than this build understands ({latest})"));
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
                    $( $wire => serde_json::from_value::<$ty>(fields)
                        .map($name::$variant)
                        .map_err(|e| format!("{}: {e}", $wire)), )+
                    other => Err(format!("unknown type {other:?}")),
                }
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
                let value = serde_json::Value::deserialize(deserializer)?;
                $name::from_wire(value, $upcasters).map_err(serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use versioned_enum;
