//! Decoding the core's types from a parsed JSON tree ([`serde_json::Value`]).
//!
//! Every type a host decodes implements [`FromJson`], written out by hand (mostly through the
//! crate's `from_json!` macro) rather than derived with serde: the derived
//! deserializers, one visitor per struct with every error path inlined, were most of the wasm
//! modules' size. The types still implement `serde::Deserialize` (through a `Value`), so hosts
//! decode them with serde_json as before; the rules are serde's: a missing field is an error
//! unless it has a default (optional fields may also be `null`), unknown fields are refused where
//! the type says so, and numbers must be integers in range.
//!
//! Commands and events are decoded from a tree anyway (their versioned envelope is read first,
//! see `wire.rs`), so decoding everything this way costs natively about what it did before.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A decoding error: serde-style text, e.g. ``missing field `name` ``, and where it happened
/// (`policy.turn_minutes`, `tables[2].seats`; empty at the top), so hosts can point at the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    pub path: String,
    pub message: String,
}

impl JsonError {
    /// The same error one field further out.
    fn in_field(mut self, key: &str) -> Self {
        // A key from the input is only named when it reads as a field name.
        let plain = !key.is_empty()
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'+'));
        let key = if plain { key } else { "?" };
        self.path = match (self.path.is_empty(), self.path.starts_with('[')) {
            (true, _) => key.to_owned(),
            (false, true) => [key, self.path.as_str()].concat(),
            (false, false) => [key, ".", self.path.as_str()].concat(),
        };
        self
    }

    /// The same error one list item further out.
    fn in_item(mut self, index: usize) -> Self {
        let mut path = String::from("[");
        path.push_str(&index.to_string());
        path.push(']');
        if !self.path.is_empty() && !self.path.starts_with('[') {
            path.push('.');
        }
        path.push_str(&self.path);
        self.path = path;
        self
    }

    /// Splits text written by this type's `Display` (possibly inside another error's text, such
    /// as serde_json's, which only appends) back into `(path, message)`.
    pub fn split_display(text: &str) -> (&str, &str) {
        text.strip_prefix('`')
            .and_then(|rest| rest.split_once("`: "))
            .unwrap_or(("", text))
    }
}

impl From<String> for JsonError {
    fn from(message: String) -> Self {
        JsonError {
            path: String::new(),
            message,
        }
    }
}

impl From<&str> for JsonError {
    fn from(message: &str) -> Self {
        JsonError::from(message.to_owned())
    }
}

/// The message, after `` `path`: `` when there is a path (see [`JsonError::split_display`]).
impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.path.is_empty() {
            f.write_str("`")?;
            f.write_str(&self.path)?;
            f.write_str("`: ")?;
        }
        f.write_str(&self.message)
    }
}

/// A type that can be read from a JSON tree.
pub trait FromJson: Sized {
    fn from_json(value: Value) -> Result<Self, JsonError>;
}

/// Reads a `T` from a JSON tree.
pub fn from_value<T: FromJson>(value: Value) -> Result<T, JsonError> {
    T::from_json(value)
}

/// Parses JSON text and reads a `T` from it; parse errors carry serde_json's message.
pub fn from_slice<T: FromJson>(text: &[u8]) -> Result<T, JsonError> {
    let value: Value = serde_json::from_slice(text).map_err(|e| JsonError::from(e.to_string()))?;
    T::from_json(value)
}

/// What a value is, for error messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a sequence",
        Value::Object(_) => "a map",
    }
}

/// ``invalid type: a number, expected a string``.
pub fn invalid_type(value: &Value, expected: &str) -> JsonError {
    let mut message = String::from("invalid type: ");
    message.push_str(kind(value));
    message.push_str(", expected ");
    message.push_str(expected);
    message.into()
}

/// The fields of a JSON object being read into a struct: each field is taken out once, and
/// whatever is left at the end is an unknown field.
pub struct Fields {
    map: Map<String, Value>,
}

impl Fields {
    /// The fields of `value`, which must be an object; `what` names the type for errors.
    pub fn new(value: Value, what: &str) -> Result<Self, JsonError> {
        match value {
            Value::Object(map) => Ok(Fields { map }),
            other => Err(invalid_type(&other, what)),
        }
    }

    /// The fields of an object already taken apart.
    pub fn of(map: Map<String, Value>) -> Self {
        Fields { map }
    }

    /// A required field.
    pub fn req<T: FromJson>(&mut self, key: &str) -> Result<T, JsonError> {
        match self.map.remove(key) {
            Some(value) => T::from_json(value).map_err(|e| e.in_field(key)),
            None => Err(missing(key)),
        }
    }

    /// An optional field: absent or `null` is `None`.
    pub fn opt<T: FromJson>(&mut self, key: &str) -> Result<Option<T>, JsonError> {
        match self.map.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => T::from_json(value).map(Some).map_err(|e| e.in_field(key)),
        }
    }

    /// A field with a default when absent (`null` is not absent).
    pub fn or_default<T: FromJson + Default>(&mut self, key: &str) -> Result<T, JsonError> {
        self.or(key, T::default())
    }

    /// A field with the given default when absent.
    pub fn or<T: FromJson>(&mut self, key: &str, default: T) -> Result<T, JsonError> {
        match self.map.remove(key) {
            Some(value) => T::from_json(value).map_err(|e| e.in_field(key)),
            None => Ok(default),
        }
    }

    /// Refuses any field that was not taken.
    pub fn deny_unknown(self) -> Result<(), JsonError> {
        match self.map.into_iter().next() {
            None => Ok(()),
            Some((key, _)) => {
                let mut message = String::from("unknown field `");
                message.push_str(&key);
                message.push('`');
                Err(message.into())
            }
        }
    }
}

fn missing(key: &str) -> JsonError {
    let mut message = String::from("missing field `");
    message.push_str(key);
    message.push('`');
    message.into()
}

impl FromJson for Value {
    fn from_json(value: Value) -> Result<Self, JsonError> {
        Ok(value)
    }
}

impl FromJson for String {
    fn from_json(value: Value) -> Result<Self, JsonError> {
        match value {
            Value::String(text) => Ok(text),
            other => Err(invalid_type(&other, "a string")),
        }
    }
}

impl FromJson for bool {
    fn from_json(value: Value) -> Result<Self, JsonError> {
        match value {
            Value::Bool(b) => Ok(b),
            other => Err(invalid_type(&other, "a boolean")),
        }
    }
}

impl FromJson for i64 {
    fn from_json(value: Value) -> Result<Self, JsonError> {
        match &value {
            Value::Number(n) => n.as_i64().ok_or_else(|| out_of_range(n, "i64")),
            _ => Err(invalid_type(&value, "i64")),
        }
    }
}

impl FromJson for u16 {
    fn from_json(value: Value) -> Result<Self, JsonError> {
        match &value {
            Value::Number(n) => n
                .as_u64()
                .and_then(|n| u16::try_from(n).ok())
                .ok_or_else(|| out_of_range(n, "u16")),
            _ => Err(invalid_type(&value, "u16")),
        }
    }
}

/// ``invalid value: integer `70000`, expected u16`` (floats are not integers at all).
fn out_of_range(n: &serde_json::Number, expected: &str) -> JsonError {
    if n.is_f64() {
        let mut message = String::from("invalid type: floating point, expected ");
        message.push_str(expected);
        return message.into();
    }
    let digits = n
        .as_i64()
        .map(|n| n.to_string())
        .or_else(|| n.as_u64().map(|n| n.to_string()))
        .unwrap_or_default();
    format!("invalid value: integer `{digits}`, expected {expected}").into()
}

impl<T: FromJson> FromJson for Option<T> {
    fn from_json(value: Value) -> Result<Self, JsonError> {
        match value {
            Value::Null => Ok(None),
            other => T::from_json(other).map(Some),
        }
    }
}

impl<T: FromJson> FromJson for std::sync::Arc<T> {
    fn from_json(value: Value) -> Result<Self, JsonError> {
        T::from_json(value).map(std::sync::Arc::new)
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn from_json(value: Value) -> Result<Self, JsonError> {
        // A plain loop: `collect` into a `Result` compiles to far more code per element type.
        let items = array(value)?;
        let mut decoded = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            decoded.push(T::from_json(item).map_err(|e| e.in_item(index))?);
        }
        Ok(decoded)
    }
}

fn array(value: Value) -> Result<Vec<Value>, JsonError> {
    match value {
        Value::Array(items) => Ok(items),
        other => Err(invalid_type(&other, "a sequence")),
    }
}

/// A map key: read from the key's text.
pub trait FromJsonKey: Sized {
    fn from_json_key(key: String) -> Result<Self, JsonError>;
}

impl<K: FromJsonKey + Ord, V: FromJson> FromJson for BTreeMap<K, V> {
    fn from_json(value: Value) -> Result<Self, JsonError> {
        let Value::Object(map) = value else {
            return Err(invalid_type(&value, "a map"));
        };
        let mut decoded = BTreeMap::new();
        for (key, value) in map {
            let value = V::from_json(value).map_err(|e| e.in_field(&key))?;
            decoded.insert(K::from_json_key(key)?, value);
        }
        Ok(decoded)
    }
}

/// Implements [`FromJson`] for a struct field by field, and `serde::Deserialize` through it.
///
/// ```text
/// from_json!(Table, deny_unknown_fields { id: req, seats: req, area: opt });
/// ```
///
/// `req`: required; `opt`: an `Option`, absent or `null` is `None`; `or_default`: the type's
/// default when absent. Without `deny_unknown_fields`, unknown fields are ignored.
macro_rules! from_json {
    ($ty:ident, deny_unknown_fields { $($field:ident: $how:ident),* $(,)? }) => {
        $crate::json::from_json!(@from_json $ty, true, { $($field: $how),* });
        $crate::json::deserialize_via_json!($ty);
    };
    ($ty:ident { $($field:ident: $how:ident),* $(,)? }) => {
        $crate::json::from_json!(@from_json $ty, false, { $($field: $how),* });
        $crate::json::deserialize_via_json!($ty);
    };
    // Only `FromJson`, for private types.
    (@impl_only $ty:ident, deny_unknown_fields { $($field:ident: $how:ident),* $(,)? }) => {
        $crate::json::from_json!(@from_json $ty, true, { $($field: $how),* });
    };
    (@from_json $ty:ident, $deny:expr, { $($field:ident: $how:ident),* }) => {
        impl $crate::json::FromJson for $ty {
            fn from_json(value: serde_json::Value) -> Result<Self, $crate::json::JsonError> {
                #[allow(unused_mut)]
                let mut fields = $crate::json::Fields::new(value, stringify!($ty))?;
                let decoded = $ty { $($field: fields.$how(stringify!($field))?),* };
                if $deny {
                    fields.deny_unknown()?;
                }
                Ok(decoded)
            }
        }
    };
}

/// Implements `serde::Deserialize` through a JSON tree and [`FromJson`], for hosts.
macro_rules! deserialize_via_json {
    ($ty:ty) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = <serde_json::Value as serde::Deserialize>::deserialize(deserializer)?;
                <$ty as $crate::json::FromJson>::from_json(value).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// Implements [`FromJson`] and `serde::Deserialize` for a unit enum from its snake_case names.
macro_rules! from_json_names {
    ($ty:ident { $first:literal => $first_variant:ident $(, $name:literal => $variant:ident)* $(,)? }) => {
        impl $crate::json::FromJson for $ty {
            fn from_json(value: serde_json::Value) -> Result<Self, $crate::json::JsonError> {
                match value.as_str() {
                    Some($first) => Ok($ty::$first_variant),
                    $(Some($name) => Ok($ty::$variant),)*
                    Some(other) => Err(format!(
                        "unknown variant `{other}`, expected one of {}",
                        concat!("`", $first, "`" $(, ", `", $name, "`")*)
                    ).into()),
                    None => Err($crate::json::invalid_type(&value, stringify!($ty))),
                }
            }
        }
        $crate::json::deserialize_via_json!($ty);
    };
}

pub(crate) use {deserialize_via_json, from_json, from_json_names};

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug)]
    struct Thing {
        name: String,
        size: u16,
        note: Option<String>,
        tags: Vec<String>,
    }
    from_json!(
        Thing,
        deny_unknown_fields {
            name: req,
            size: req,
            note: opt,
            tags: or_default
        }
    );

    #[test]
    fn structs_follow_serdes_rules() {
        let thing: Thing = from_value(json!({"name": "a", "size": 2})).unwrap();
        assert_eq!((thing.name.as_str(), thing.size), ("a", 2));
        assert!(thing.note.is_none() && thing.tags.is_empty());
        let thing: Thing =
            from_value(json!({"name": "a", "size": 2, "note": null, "tags": ["x"]})).unwrap();
        assert_eq!(thing.tags, ["x"]);
        let error = |value| from_value::<Thing>(value).err().unwrap().to_string();
        assert_eq!(error(json!({"size": 2})), "missing field `name`");
        assert_eq!(
            error(json!({"name": "a", "size": 2, "x": 1})),
            "unknown field `x`"
        );
        assert!(error(json!({"name": "a", "size": 2.0})).contains("floating point"));
        assert!(error(json!({"name": "a", "size": 70000})).contains("integer `70000`"));
        assert!(error(json!({"name": "a", "size": -1})).contains("integer `-1`"));
        assert!(error(json!({"name": "a", "size": 1, "tags": null})).contains("null"));
        assert!(error(json!(["a", 2])).contains("expected Thing"));
        let parsed: Thing = serde_json::from_str(r#"{"name": "b", "size": 3}"#).unwrap();
        assert_eq!(parsed.size, 3);
    }

    #[test]
    fn errors_say_where_they_happened() {
        let error = |value| from_value::<Vec<Thing>>(value).err().unwrap();
        let nested =
            error(json!([{"name": "a", "size": 1}, {"name": "b", "size": 1, "tags": [1]}]));
        assert_eq!(nested.path, "[1].tags[0]");
        assert_eq!(nested.message, "invalid type: a number, expected a string");
        let shown = nested.to_string();
        assert_eq!(
            shown,
            "`[1].tags[0]`: invalid type: a number, expected a string"
        );
        // Through serde each element is decoded on its own (the path is serde's own from there
        // out), and serde_json appends its position to the text; the split still holds.
        let through_serde = serde_json::from_str::<Vec<Thing>>(r#"[{"name": 1, "size": 1}]"#)
            .unwrap_err()
            .to_string();
        let (path, message) = JsonError::split_display(&through_serde);
        assert_eq!(path, "name");
        assert!(message.starts_with("invalid type: a number"));
        assert_eq!(
            JsonError::split_display("missing field `x`"),
            ("", "missing field `x`")
        );
        let odd_key = from_value::<BTreeMap<jiff::civil::Date, Thing>>(json!({"a b": {"size": 1}}))
            .unwrap_err();
        assert_eq!(odd_key.path, "?");
    }
}
