//! Building and running the service (zero-to-production style): [`Application::build`] opens
//! the stores, wires the app and binds the listener, and exposes the bound port, so tests start
//! it on port 0; [`Application::run_until_stopped`] serves until the shutdown future resolves,
//! then finishes in-flight requests, ends live tails, brings the read models up to date and
//! closes the event store.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::{App, Clock, SystemClock};
use crate::config::{Command, DynamodbCommand, Settings, StoreKind};
use crate::http::{self, AppState, Limits, docs::Docs};
use crate::projection::{self, ReadModels, ReadSide, spawn_projector};
use crate::store::EventStore;
use crate::store::dynamodb::read::{
    DynamoReadModels, ProjectorOptions, create_read_table, read_table_name, spawn_stream_projector,
};
use crate::store::dynamodb::{self, DynamoOptions, DynamoStore};
use crate::store::sqlite::SqliteStore;

pub struct Application {
    listener: TcpListener,
    address: SocketAddr,
    router: Router,
    store: Arc<dyn EventStore>,
    read: Arc<dyn ReadSide>,
    app: Arc<App>,
    stop: watch::Sender<bool>,
    projector: JoinHandle<()>,
    connections: http::serve::ConnectionLimits,
}

/// The DynamoDB event table named by the settings.
fn dynamodb_table(settings: &Settings) -> anyhow::Result<&str> {
    match settings.dynamodb_table.as_deref() {
        Some(table) if !table.trim().is_empty() => Ok(table),
        _ => anyhow::bail!(
            "--store dynamodb needs the table: --dynamodb-table NAME or RESERVATION_DYNAMODB_TABLE"
        ),
    }
}

/// The AWS configuration: the settings' own (tests), else the standard one from the
/// environment (`AWS_REGION`, credentials chain, `AWS_ENDPOINT_URL`).
async fn aws_config(settings: &Settings) -> aws_config::SdkConfig {
    match &settings.aws {
        Some(config) => config.clone(),
        None => dynamodb::load_aws_config().await,
    }
}

async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn EventStore>> {
    match settings.store {
        StoreKind::Sqlite => {
            let dir = settings.data_dir.clone();
            let store = tokio::task::spawn_blocking(move || SqliteStore::open(&dir))
                .await
                .context("opening the event store")?
                .with_context(|| {
                    format!("opening the event store in {}", settings.data_dir.display())
                })?;
            Ok(Arc::new(store))
        }
        StoreKind::Dynamodb => {
            let table = dynamodb_table(settings)?;
            let sdk = aws_config(settings).await;
            let store = DynamoStore::connect_with(
                dynamodb::client_config(&sdk),
                table,
                DynamoOptions::default(),
            )
            .await
            .with_context(|| format!("opening the DynamoDB event table {table}"))?;
            Ok(Arc::new(store))
        }
    }
}

/// `reservation-server dynamodb create-table`: creates (or checks) the tables.
pub async fn create_dynamodb_tables(settings: &Settings) -> anyhow::Result<()> {
    let table = dynamodb_table(settings)?;
    let sdk = aws_config(settings).await;
    let client = aws_sdk_dynamodb::Client::from_conf(
        dynamodb::client_config(&sdk)
            .http_client(dynamodb::http_client())
            .retry_config(dynamodb::retry_config())
            .timeout_config(dynamodb::timeout_config())
            .build(),
    );
    let outcome = dynamodb::create_table(&client, table)
        .await
        .with_context(|| format!("creating the DynamoDB event table {table}"))?;
    tracing::info!(table, ?outcome, "event table ready");
    println!("event table {table}: {outcome:?}");
    let read_table = read_table_name(table);
    let outcome = create_read_table(&client, &read_table)
        .await
        .with_context(|| format!("creating the DynamoDB read-model table {read_table}"))?;
    tracing::info!(table = read_table, ?outcome, "read-model table ready");
    println!("read-model table {read_table}: {outcome:?}");
    Ok(())
}

/// Opens the read models of the store (SQLite in the data directory, or the DynamoDB read
/// table) and starts their projector, which ends once `stopped` turns true.
async fn open_read_side(
    settings: &Settings,
    store: &Arc<dyn EventStore>,
    stopped: watch::Receiver<bool>,
) -> anyhow::Result<(Arc<dyn ReadSide>, JoinHandle<()>)> {
    let shutdown = {
        let mut stopped = stopped;
        async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        }
    };
    match settings.store {
        StoreKind::Sqlite => {
            let dir = settings.data_dir.clone();
            let read = tokio::task::spawn_blocking(move || ReadModels::open(&dir))
                .await
                .context("opening the read models")?
                .with_context(|| {
                    format!("opening the read models in {}", settings.data_dir.display())
                })?;
            let read = Arc::new(read);
            match read.catch_up(store.as_ref()).await {
                Ok(checkpoint) => tracing::info!(checkpoint, "read models are current"),
                // The write side still works; the projector keeps retrying and logs the cause.
                Err(error) => {
                    tracing::error!(%error, "read models could not catch up at startup")
                }
            }
            let projector = spawn_projector(
                Arc::clone(&read),
                Arc::clone(store),
                store.subscribe(),
                shutdown,
            );
            Ok((read, projector))
        }
        StoreKind::Dynamodb => {
            let read = open_dynamodb_read_side(settings, store).await?;
            // The projector catches up from the event table's feed first, then follows Streams.
            let projector = spawn_stream_projector(
                Arc::clone(&read),
                ProjectorOptions::default(),
                store.subscribe(),
                shutdown,
            );
            Ok((read, projector))
        }
    }
}

async fn open_dynamodb_read_side(
    settings: &Settings,
    store: &Arc<dyn EventStore>,
) -> anyhow::Result<Arc<DynamoReadModels>> {
    let table = dynamodb_table(settings)?;
    let sdk = aws_config(settings).await;
    let read = DynamoReadModels::open(&sdk, table, Arc::clone(store))
        .await
        .with_context(|| format!("opening the DynamoDB read models of table {table}"))?;
    Ok(Arc::new(read))
}

impl Application {
    /// Builds the service on the system clock.
    pub async fn build(settings: &Settings) -> anyhow::Result<Application> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// Builds the service with `clock` (tests fix the time).
    pub async fn build_with_clock(
        settings: &Settings,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Application> {
        let verifier = Arc::new(load_verifier(settings)?);
        let store = open_store(settings).await?;
        let (stop, stopped) = watch::channel(false);
        let (read, projector) = open_read_side(settings, &store, stopped.clone()).await?;
        let dyn_store: Arc<dyn EventStore> = Arc::clone(&store);
        let app = Arc::new(App::new(dyn_store, clock, settings.cache_bookings));
        http::metrics::handle();
        let state = AppState {
            app: Arc::clone(&app),
            read: read.clone(),
            head: store.subscribe(),
            shutdown: stopped,
            docs: Arc::new(Docs::build()),
            auth: verifier,
        };
        let limits = Limits {
            max_body_bytes: settings.max_body_bytes,
            request_timeout: settings.request_timeout(),
            max_concurrency: settings.max_concurrency,
            clients: settings.client_limits,
        };
        let router = http::router(state, limits);
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("listening on {}", settings.listen))?;
        let address = listener.local_addr()?;
        Ok(Application {
            listener,
            address,
            router,
            store,
            read,
            app,
            stop,
            projector,
            connections: http::serve::ConnectionLimits {
                header_read_timeout: http::limits::secs(settings.client_limits.header_timeout_secs),
                max_connections: settings.client_limits.max_connections,
            },
        })
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The application service (for tests that look behind the API).
    pub fn app(&self) -> &Arc<App> {
        &self.app
    }

    /// Serves until `shutdown` resolves; then stops accepting, lets in-flight requests finish,
    /// ends live tails, brings the read models up to date and closes the store.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Application {
            listener,
            address,
            router,
            store,
            read,
            app: _,
            stop,
            projector,
            connections,
        } = self;
        tracing::info!(%address, "listening");
        let stop_signal = stop.clone();
        let signal = async move {
            shutdown.await;
            tracing::info!("shutting down: finishing in-flight requests");
            let _ = stop_signal.send(true);
        };
        let served = http::serve::serve(listener, router, connections, signal).await;
        let _ = stop.send(true);
        if let Err(error) = projector.await {
            tracing::warn!(%error, "projector task ended abnormally");
        }
        if let Err(error) = read.catch_up(store.as_ref()).await {
            tracing::warn!(%error, "read models not fully caught up at shutdown (they catch up on the next start)");
        }
        if let Err(error) = read.close().await {
            tracing::warn!(%error, "read models not closed cleanly (after an OS crash they would be rebuilt)");
        }
        store.shutdown().await;
        tracing::info!("stopped");
        served.context("serving HTTP")
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

/// Drops the read models and rebuilds them from the event log (run with the server stopped).
pub async fn rebuild_projections(settings: &Settings) -> anyhow::Result<u64> {
    let store = open_store(settings).await?;
    let result = match settings.store {
        StoreKind::Sqlite => projection::rebuild_projections(&settings.data_dir, store.as_ref())
            .await
            .context("rebuilding the read models"),
        StoreKind::Dynamodb => match open_dynamodb_read_side(settings, &store).await {
            Ok(read) => read
                .rebuild(store.as_ref())
                .await
                .context("rebuilding the DynamoDB read models"),
            Err(error) => Err(error),
        },
    };
    store.shutdown().await;
    let checkpoint = result?;
    tracing::info!(checkpoint, "read models rebuilt");
    Ok(checkpoint)
}

/// The token verifier the settings name; with the default secret, logs how to get a token.
fn load_verifier(settings: &Settings) -> anyhow::Result<crate::auth::Verifier> {
    let source = settings.auth.key_source(&settings.data_dir)?;
    let created =
        matches!(&source, crate::auth::KeySource::Secret { path, default: true } if !path.exists());
    let verifier = crate::auth::Verifier::load(&settings.auth, &settings.data_dir)
        .context("loading the token verification key")?;
    match source {
        crate::auth::KeySource::Secret { path, .. } => tracing::info!(
            secret = %path.display(),
            created,
            "callers need a bearer token signed with this secret (HS256); get one with: \
             reservation-server token --data-dir {} --role admin --subject you",
            settings.data_dir.display()
        ),
        source => {
            tracing::info!(?source, algorithms = ?verifier.algorithms(), "verifying bearer tokens with the identity provider's key")
        }
    }
    Ok(verifier)
}

/// What `main` runs.
pub async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            let application = Application::build(&settings).await?;
            application.run_until_stopped(shutdown_signal()).await
        }
        Command::Token(args) => {
            let token = crate::auth::token::issue(&settings.auth, &settings.data_dir, &args)?;
            println!("{token}");
            Ok(())
        }
        Command::RebuildProjections => {
            let checkpoint = rebuild_projections(&settings).await?;
            println!("read models rebuilt up to position {checkpoint}");
            Ok(())
        }
        Command::Dynamodb {
            command: DynamodbCommand::CreateTable,
        } => create_dynamodb_tables(&settings).await,
    }
}
