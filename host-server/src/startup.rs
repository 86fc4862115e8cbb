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
use crate::config::{Command, Settings, StoreKind};
use crate::http::{self, AppState, Limits, docs::Docs};
use crate::projection::{self, ReadModels, spawn_projector};
use crate::store::EventStore;
use crate::store::sqlite::SqliteStore;

pub struct Application {
    listener: TcpListener,
    address: SocketAddr,
    router: Router,
    store: Arc<SqliteStore>,
    read: Arc<ReadModels>,
    app: Arc<App>,
    stop: watch::Sender<bool>,
    projector: JoinHandle<()>,
}

fn check_store(settings: &Settings) -> anyhow::Result<()> {
    match settings.store {
        StoreKind::Sqlite => Ok(()),
        StoreKind::Dynamodb => {
            anyhow::bail!(
                "the DynamoDB event store is not available yet in this build; use --store sqlite"
            )
        }
    }
}

async fn open_store(settings: &Settings) -> anyhow::Result<Arc<SqliteStore>> {
    let dir = settings.data_dir.clone();
    let store = tokio::task::spawn_blocking(move || SqliteStore::open(&dir))
        .await
        .context("opening the event store")?
        .with_context(|| format!("opening the event store in {}", settings.data_dir.display()))?;
    Ok(Arc::new(store))
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
        check_store(settings)?;
        let store = open_store(settings).await?;
        let dir = settings.data_dir.clone();
        let read = tokio::task::spawn_blocking(move || ReadModels::open(&dir))
            .await
            .context("opening the read models")?
            .with_context(|| {
                format!("opening the read models in {}", settings.data_dir.display())
            })?;
        let read = Arc::new(read);
        let dyn_store: Arc<dyn EventStore> = store.clone();
        match read.catch_up(dyn_store.as_ref()).await {
            Ok(checkpoint) => tracing::info!(checkpoint, "read models are current"),
            // The write side still works; the projector keeps retrying and logs the cause.
            Err(error) => tracing::error!(%error, "read models could not catch up at startup"),
        }
        let (stop, stopped) = watch::channel(false);
        let projector = spawn_projector(
            Arc::clone(&read),
            Arc::clone(&dyn_store),
            store.subscribe(),
            {
                let mut stopped = stopped.clone();
                async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                }
            },
        );
        let app = Arc::new(App::new(dyn_store, clock, settings.cache_bookings));
        http::metrics::handle();
        let state = AppState {
            app: Arc::clone(&app),
            read: Arc::clone(&read),
            head: store.subscribe(),
            shutdown: stopped,
            docs: Arc::new(Docs::build()),
        };
        let limits = Limits {
            max_body_bytes: settings.max_body_bytes,
            request_timeout: settings.request_timeout(),
            max_concurrency: settings.max_concurrency,
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
        } = self;
        tracing::info!(%address, "listening");
        let stop_signal = stop.clone();
        let signal = async move {
            shutdown.await;
            tracing::info!("shutting down: finishing in-flight requests");
            let _ = stop_signal.send(true);
        };
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(signal)
            .await;
        let _ = stop.send(true);
        if let Err(error) = projector.await {
            tracing::warn!(%error, "projector task ended abnormally");
        }
        if let Err(error) = read.catch_up(store.as_ref()).await {
            tracing::warn!(%error, "read models not fully caught up at shutdown (they catch up on the next start)");
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
    check_store(settings)?;
    let store = open_store(settings).await?;
    let result = projection::rebuild_projections(&settings.data_dir, store.as_ref()).await;
    store.shutdown().await;
    let checkpoint = result.context("rebuilding the read models")?;
    tracing::info!(checkpoint, "read models rebuilt");
    Ok(checkpoint)
}

/// What `main` runs.
pub async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            let application = Application::build(&settings).await?;
            application.run_until_stopped(shutdown_signal()).await
        }
        Command::RebuildProjections => {
            let checkpoint = rebuild_projections(&settings).await?;
            println!("read models rebuilt up to position {checkpoint}");
            Ok(())
        }
    }
}
