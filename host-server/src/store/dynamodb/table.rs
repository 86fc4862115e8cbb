//! `create_table`: the one table the adapter needs, created (or checked) idempotently.
//! Keys `pk` (S, hash) and `sk` (N, range), on-demand billing, DynamoDB Streams with
//! `NEW_IMAGE` (the read side of phase 2 consumes the feed items' images). No indexes.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    StreamSpecification, StreamViewType, TableDescription, TableStatus,
};

use super::layout::{PK, SK};
use crate::store::StoreError;

/// What [`create_table`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateTableOutcome {
    /// The table did not exist and was created.
    Created,
    /// The table existed with the right keys but without Streams; Streams were enabled.
    StreamsEnabled,
    /// The table existed as required; nothing changed.
    AlreadyExisted,
}

/// How long [`create_table`] waits for the table to become `ACTIVE`.
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(300);

/// Creates the event table `name` if it does not exist (idempotent, safe to run from several
/// replicas at once) and waits until it is `ACTIVE`. An existing table must have the adapter's
/// keys; if its Streams are off they are turned on (`NEW_IMAGE`). Errors are
/// [`StoreError::Unavailable`] with the detail.
pub async fn create_table(client: &Client, name: &str) -> Result<CreateTableOutcome, StoreError> {
    let outcome = match describe(client, name).await? {
        Some(table) => {
            check_keys(name, &table)?;
            if streams_on(&table) {
                CreateTableOutcome::AlreadyExisted
            } else {
                wait_active(client, name).await?;
                client
                    .update_table()
                    .table_name(name)
                    .stream_specification(stream_spec()?)
                    .send()
                    .await
                    .map_err(|e| unavailable(&format!("enabling Streams on table {name}"), e))?;
                CreateTableOutcome::StreamsEnabled
            }
        }
        None => {
            let result = client
                .create_table()
                .table_name(name)
                .attribute_definitions(attribute(PK, ScalarAttributeType::S)?)
                .attribute_definitions(attribute(SK, ScalarAttributeType::N)?)
                .key_schema(key(PK, KeyType::Hash)?)
                .key_schema(key(SK, KeyType::Range)?)
                .billing_mode(BillingMode::PayPerRequest)
                .stream_specification(stream_spec()?)
                .send()
                .await;
            match result {
                Ok(_) => CreateTableOutcome::Created,
                // Another replica created it in the meantime: check it like an existing one.
                Err(e) if e.code() == Some("ResourceInUseException") => {
                    if let Some(table) = describe(client, name).await? {
                        check_keys(name, &table)?;
                    }
                    CreateTableOutcome::AlreadyExisted
                }
                Err(e) => return Err(unavailable(&format!("creating table {name}"), e)),
            }
        }
    };
    wait_active(client, name).await?;
    Ok(outcome)
}

/// Checks that table `name` exists with the adapter's keys (what `DynamoStore::connect` runs
/// at start-up, so a missing table is a clear error rather than a failure on first use).
pub async fn check_table(client: &Client, name: &str) -> Result<(), StoreError> {
    match describe(client, name).await? {
        Some(table) => check_keys(name, &table),
        None => Err(StoreError::Unavailable(format!(
            "DynamoDB table {name} does not exist: create it with `reservation-server dynamodb create-table` \
             (see host-server/src/store/dynamodb/README.md)"
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

async fn wait_active(client: &Client, name: &str) -> Result<(), StoreError> {
    let deadline = tokio::time::Instant::now() + ACTIVE_TIMEOUT;
    loop {
        let status = describe(client, name).await?.and_then(|t| t.table_status);
        if status == Some(TableStatus::Active) {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(StoreError::Unavailable(format!(
                "table {name} is not ACTIVE after {ACTIVE_TIMEOUT:?} (status {status:?})"
            )));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn check_keys(name: &str, table: &TableDescription) -> Result<(), StoreError> {
    let keys: Vec<(&str, &KeyType)> = table
        .key_schema()
        .iter()
        .map(|k| (k.attribute_name(), k.key_type()))
        .collect();
    let types: Vec<(&str, &ScalarAttributeType)> = table
        .attribute_definitions()
        .iter()
        .map(|a| (a.attribute_name(), a.attribute_type()))
        .collect();
    let keys_ok = keys == [(PK, &KeyType::Hash), (SK, &KeyType::Range)];
    let types_ok = types.contains(&(PK, &ScalarAttributeType::S))
        && types.contains(&(SK, &ScalarAttributeType::N));
    if keys_ok && types_ok {
        Ok(())
    } else {
        Err(StoreError::Unavailable(format!(
            "DynamoDB table {name} exists but is not an event table: it needs hash key {PK} (S) and range key \
             {SK} (N), it has {keys:?} with {types:?}"
        )))
    }
}

fn streams_on(table: &TableDescription) -> bool {
    table.stream_specification().is_some_and(|spec| {
        spec.stream_enabled()
            && matches!(
                spec.stream_view_type(),
                Some(StreamViewType::NewImage | StreamViewType::NewAndOldImages)
            )
    })
}

fn stream_spec() -> Result<StreamSpecification, StoreError> {
    StreamSpecification::builder()
        .stream_enabled(true)
        .stream_view_type(StreamViewType::NewImage)
        .build()
        .map_err(|e| StoreError::Unavailable(format!("building the stream specification: {e}")))
}

fn attribute(name: &str, kind: ScalarAttributeType) -> Result<AttributeDefinition, StoreError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(kind)
        .build()
        .map_err(|e| StoreError::Unavailable(format!("building an attribute definition: {e}")))
}

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement, StoreError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .map_err(|e| StoreError::Unavailable(format!("building a key schema element: {e}")))
}

fn unavailable(what: &str, error: impl std::error::Error) -> StoreError {
    StoreError::Unavailable(format!("{what}: {}", DisplayErrorContext(error)))
}
