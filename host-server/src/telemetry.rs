//! Logging. The sink is a parameter (zero-to-production style), so tests can silence it or
//! capture it; `RUST_LOG`, when set, overrides the configured filter.

use tracing::Subscriber;
use tracing::subscriber::set_global_default;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::{EnvFilter, Registry, layer::SubscriberExt};

use crate::config::LogFormat;

/// A subscriber writing to `sink` in `format`, filtered by `RUST_LOG` or else by `level`.
pub fn subscriber<Sink>(
    format: LogFormat,
    level: &str,
    sink: Sink,
) -> Box<dyn Subscriber + Send + Sync>
where
    Sink: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = Registry::default().with(filter);
    match format {
        LogFormat::Json => Box::new(
            registry.with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer(sink),
            ),
        ),
        LogFormat::Pretty => {
            Box::new(registry.with(tracing_subscriber::fmt::layer().with_writer(sink)))
        }
    }
}

/// Installs `subscriber` for the whole process. Fails if one is installed already.
pub fn init(subscriber: Box<dyn Subscriber + Send + Sync>) -> anyhow::Result<()> {
    set_global_default(subscriber)?;
    Ok(())
}
