//! A restaurant's configuration: tables, combinations, opening hours and booking policy.

use serde::Serialize;

use crate::error::{DomainError, ErrorCode};
use crate::ids::{RestaurantId, TableId};
use crate::json::from_json;
use crate::opening_hours::{Exception, Schedule, WeeklyHours};
use crate::policy::BookingPolicy;
use crate::small_sort;

pub const MAX_TABLES: usize = 500;
pub const MAX_COMBINATIONS: usize = 500;
pub const MAX_SEATS: u16 = 100;
pub const MAX_NAME_LEN: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Table {
    pub id: TableId,
    pub seats: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<String>,
}

from_json!(
    Table,
    deny_unknown_fields {
        id: req,
        seats: req,
        area: opt
    }
);

/// Two or more tables that together seat `seats` (which may be fewer than their sum).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Combination {
    pub tables: Vec<TableId>,
    pub seats: u16,
}

from_json!(
    Combination,
    deny_unknown_fields {
        tables: req,
        seats: req
    }
);

impl Combination {
    /// A stable name for ordering and display: the table ids joined by `+`.
    pub fn name(&self) -> String {
        self.tables
            .iter()
            .map(TableId::as_str)
            .collect::<Vec<_>>()
            .join("+")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Restaurant {
    pub id: RestaurantId,
    pub name: String,
    /// IANA time-zone name. The core only checks its shape; hosts resolve it.
    pub timezone: String,
    pub tables: Vec<Table>,
    pub combinations: Vec<Combination>,
    pub opening_hours: WeeklyHours,
    pub exceptions: Vec<Exception>,
    pub policy: BookingPolicy,
}

from_json!(
    Restaurant,
    deny_unknown_fields {
        id: req,
        name: req,
        timezone: req,
        tables: req,
        combinations: or_default,
        opening_hours: or_default,
        exceptions: or_default,
        policy: or_default,
    }
);

impl Restaurant {
    pub fn schedule(&self) -> Schedule<'_> {
        Schedule {
            weekly: &self.opening_hours,
            exceptions: &self.exceptions,
        }
    }

    /// The biggest party that can be seated: the biggest table or combination, unless the policy
    /// sets less.
    pub fn largest_party(&self) -> u16 {
        let physical = self
            .tables
            .iter()
            .map(|t| t.seats)
            .chain(self.combinations.iter().map(|c| c.seats))
            .max()
            .unwrap_or(0);
        self.policy
            .max_party_size
            .map_or(physical, |limit| limit.min(physical))
    }

    pub fn validate(&self) -> Result<(), DomainError> {
        validate_name(&self.name, "name")?;
        validate_timezone(&self.timezone)?;
        validate_tables(&self.tables, &self.combinations)?;
        self.schedule().validate()?;
        self.policy.validate()
    }
}

/// A display name: 1 to 200 characters, no control characters.
pub fn validate_name(name: &str, field: &str) -> Result<(), DomainError> {
    let trimmed = name.trim();
    if trimmed.is_empty()
        || name.chars().count() > MAX_NAME_LEN
        || name.chars().any(char::is_control)
    {
        return Err(DomainError::new(
            ErrorCode::InvalidName,
            format!("{field} must be 1 to {MAX_NAME_LEN} characters without control characters"),
        )
        .with_field(field));
    }
    Ok(())
}

/// The shape of an IANA name (`Europe/Berlin`, `UTC`); whether it exists is the host's check.
pub fn validate_timezone(timezone: &str) -> Result<(), DomainError> {
    let well_formed = !timezone.is_empty()
        && timezone.len() <= 64
        && timezone.split('/').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+'))
        });
    if well_formed {
        Ok(())
    } else {
        Err(DomainError::new(
            ErrorCode::InvalidTimezone,
            format!("{timezone:?} is not an IANA time-zone name"),
        )
        .with_field("timezone"))
    }
}

pub fn validate_tables(tables: &[Table], combinations: &[Combination]) -> Result<(), DomainError> {
    let bad_tables = |field: String, message: String| {
        Err(DomainError::new(ErrorCode::InvalidTables, message).with_field(field))
    };
    if tables.is_empty() || tables.len() > MAX_TABLES {
        return bad_tables(
            "tables".into(),
            format!("a restaurant needs 1 to {MAX_TABLES} tables"),
        );
    }
    let mut ids: Vec<&TableId> = Vec::with_capacity(tables.len());
    for (i, table) in tables.iter().enumerate() {
        if !(1..=MAX_SEATS).contains(&table.seats) {
            return bad_tables(
                format!("tables[{i}].seats"),
                format!("a table seats 1 to {MAX_SEATS}"),
            );
        }
        if let Some(area) = &table.area {
            validate_name(area, &format!("tables[{i}].area"))?;
        }
        ids.push(&table.id);
    }
    small_sort::sort(&mut ids);
    if let Some(pair) = ids.windows(2).find(|pair| pair[0] == pair[1]) {
        return bad_tables("tables".into(), format!("table {} appears twice", pair[0]));
    }
    if combinations.len() > MAX_COMBINATIONS {
        return Err(DomainError::new(
            ErrorCode::InvalidCombination,
            format!("at most {MAX_COMBINATIONS} combinations"),
        )
        .with_field("combinations"));
    }
    for (i, combination) in combinations.iter().enumerate() {
        let invalid = |message: String| {
            Err(DomainError::new(ErrorCode::InvalidCombination, message)
                .with_field(format!("combinations[{i}]")))
        };
        if combination.tables.len() < 2 || combination.tables.len() > 10 {
            return invalid("a combination joins 2 to 10 tables".into());
        }
        let mut seats: u32 = 0;
        for (j, id) in combination.tables.iter().enumerate() {
            if combination.tables[..j].contains(id) {
                return invalid(format!("table {id} appears twice"));
            }
            match tables.iter().find(|t| &t.id == id) {
                Some(table) => seats += u32::from(table.seats),
                None => return invalid(format!("unknown table {id}")),
            }
        }
        if combination.seats == 0 || u32::from(combination.seats) > seats {
            return invalid(format!(
                "a combination seats 1 to {seats} (its tables' seats together)"
            ));
        }
        if combinations[..i]
            .iter()
            .any(|other| same_tables(other, combination))
        {
            return invalid("the same tables are combined twice".into());
        }
    }
    Ok(())
}

fn same_tables(a: &Combination, b: &Combination) -> bool {
    a.tables.len() == b.tables.len() && a.tables.iter().all(|t| b.tables.contains(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(id: &str, seats: u16) -> Table {
        Table {
            id: TableId::parse(id).unwrap(),
            seats,
            area: None,
        }
    }

    #[test]
    fn largest_party_is_the_biggest_table_or_combination_unless_capped() {
        let mut restaurant: Restaurant = serde_json::from_value(serde_json::json!({
            "id": "r1", "name": "Chez Test", "timezone": "Europe/Berlin",
            "tables": [{"id": "T1", "seats": 2}, {"id": "T3", "seats": 4}, {"id": "T4", "seats": 4}],
            "combinations": [{"tables": ["T3", "T4"], "seats": 8}]
        }))
        .unwrap();
        assert_eq!(restaurant.largest_party(), 8);
        restaurant.policy.max_party_size = Some(6);
        assert_eq!(restaurant.largest_party(), 6);
        assert!(restaurant.validate().is_ok());
    }

    #[test]
    fn tables_and_combinations_are_checked() {
        let dup = validate_tables(&[table("T1", 2), table("T1", 4)], &[]).unwrap_err();
        assert_eq!(dup.code, ErrorCode::InvalidTables);
        let unknown = Combination {
            tables: vec![TableId::parse("T1").unwrap(), TableId::parse("T9").unwrap()],
            seats: 4,
        };
        let err = validate_tables(&[table("T1", 2)], &[unknown]).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidCombination);
        let too_many = Combination {
            tables: vec![TableId::parse("T1").unwrap(), TableId::parse("T2").unwrap()],
            seats: 9,
        };
        assert!(validate_tables(&[table("T1", 4), table("T2", 4)], &[too_many]).is_err());
    }

    #[test]
    fn names_and_zones_are_checked() {
        assert!(validate_timezone("America/Argentina/Buenos_Aires").is_ok());
        assert!(validate_timezone("UTC").is_ok());
        assert_eq!(
            validate_timezone("../etc").unwrap_err().code,
            ErrorCode::InvalidTimezone
        );
        assert_eq!(
            validate_name("  ", "name").unwrap_err().code,
            ErrorCode::InvalidName
        );
        assert!(validate_name("Ada\u{0}", "name").is_err());
    }
}
