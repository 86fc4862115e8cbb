//! The read-model table `<events table>-read`: keys `pk` (S, hash) and `sk` (S, range),
//! on-demand billing, no Streams, one global secondary index `by_start` (hash `r` (S), range
//! `k` (N), projecting `s`) over the reservation items, for the "upcoming" count.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TableDescription, TableStatus,
};

use super::layout::{BY_START, PK, RESTAURANT, SK, START, STATUS};
use crate::store::StoreError;
use crate::store::dynamodb::CreateTableOutcome;

/// The read-model table of the event table `events_table`.
pub fn read_table_name(events_table: &str) -> String {
    format!("{events_table}-read")
}

const ACTIVE_TIMEOUT: Duration = Duration::from_secs(300);

/// Creates the read-model table `name` if missing (idempotent) and waits until it and its
/// index are `ACTIVE`; an existing table must have the right keys and index.
pub async fn create_read_table(
    client: &Client,
    name: &str,
) -> Result<CreateTableOutcome, StoreError> {
    let outcome = match describe(client, name).await? {
        Some(table) => {
            check(name, &table)?;
            CreateTableOutcome::AlreadyExisted
        }
        None => {
            let built = |e: aws_sdk_dynamodb::error::BuildError| {
                StoreError::Unavailable(format!("building the read table's definition: {e}"))
            };
            let attribute = |name: &str, kind| {
                AttributeDefinition::builder()
                    .attribute_name(name)
                    .attribute_type(kind)
                    .build()
                    .map_err(built)
            };
            let key = |name: &str, kind| {
                KeySchemaElement::builder()
                    .attribute_name(name)
                    .key_type(kind)
                    .build()
                    .map_err(built)
            };
            let index = GlobalSecondaryIndex::builder()
                .index_name(BY_START)
                .key_schema(key(RESTAURANT, KeyType::Hash)?)
                .key_schema(key(START, KeyType::Range)?)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::Include)
                        .non_key_attributes(STATUS)
                        .build(),
                )
                .build()
                .map_err(built)?;
            let result = client
                .create_table()
                .table_name(name)
                .attribute_definitions(attribute(PK, ScalarAttributeType::S)?)
                .attribute_definitions(attribute(SK, ScalarAttributeType::S)?)
                .attribute_definitions(attribute(RESTAURANT, ScalarAttributeType::S)?)
                .attribute_definitions(attribute(START, ScalarAttributeType::N)?)
                .key_schema(key(PK, KeyType::Hash)?)
                .key_schema(key(SK, KeyType::Range)?)
                .global_secondary_indexes(index)
                .billing_mode(BillingMode::PayPerRequest)
                .send()
                .await;
            match result {
                Ok(_) => CreateTableOutcome::Created,
                Err(e) if e.code() == Some("ResourceInUseException") => {
                    CreateTableOutcome::AlreadyExisted
                }
                Err(e) => return Err(unavailable(&format!("creating table {name}"), e)),
            }
        }
    };
    wait_active(client, name).await?;
    Ok(outcome)
}

/// Checks that the read-model table `name` exists with the right keys and index.
pub async fn check_read_table(client: &Client, name: &str) -> Result<(), StoreError> {
    match describe(client, name).await? {
        Some(table) => check(name, &table),
        None => Err(StoreError::Unavailable(format!(
            "DynamoDB read-model table {name} does not exist: create it with \
             `reservation-server dynamodb create-table` (see host-server/src/store/dynamodb/README.md)"
        ))),
    }
}

async fn describe(client: &Client, name: &str) -> Result<Option<TableDescription>, StoreError> {
    match client.describe_table().table_name(name).send().await {
        Ok(out) => Ok(out.table),
        Err(e)
            if e.as_service_error()
                .is_some_and(|se| se.is_resource_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(unavailable(&format!("describing table {name}"), e)),
    }
}

fn check(name: &str, table: &TableDescription) -> Result<(), StoreError> {
    let keys: Vec<(&str, &KeyType)> = table
        .key_schema()
        .iter()
        .map(|k| (k.attribute_name(), k.key_type()))
        .collect();
    let has_index = table
        .global_secondary_indexes()
        .iter()
        .any(|index| index.index_name() == Some(BY_START));
    if keys == [(PK, &KeyType::Hash), (SK, &KeyType::Range)] && has_index {
        Ok(())
    } else {
        Err(StoreError::Unavailable(format!(
            "DynamoDB table {name} exists but is not a read-model table: it needs hash key {PK} (S), \
             range key {SK} (S) and the index {BY_START}; it has {keys:?}"
        )))
    }
}

async fn wait_active(client: &Client, name: &str) -> Result<(), StoreError> {
    let deadline = tokio::time::Instant::now() + ACTIVE_TIMEOUT;
    loop {
        let table = describe(client, name).await?;
        let active = table.as_ref().is_some_and(|t| {
            t.table_status == Some(TableStatus::Active)
                && t.global_secondary_indexes().iter().all(|index| {
                    index.index_status == Some(aws_sdk_dynamodb::types::IndexStatus::Active)
                })
        });
        if active {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(StoreError::Unavailable(format!(
                "table {name} is not ACTIVE after {ACTIVE_TIMEOUT:?}"
            )));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn unavailable(what: &str, error: impl std::error::Error) -> StoreError {
    StoreError::Unavailable(format!("{what}: {}", DisplayErrorContext(error)))
}
