//! Logging. The sink is a parameter (zero-to-production style), so tests can silence it or
//! capture it; `RUST_LOG`, when set, overrides the configured filter.

use std::ffi::OsStr;
use std::io::IsTerminal;

use tracing::Subscriber;
use tracing::subscriber::set_global_default;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::{EnvFilter, Registry, layer::SubscriberExt};

use crate::config::LogFormat;

/// A subscriber writing to `sink` in `format`, filtered by `RUST_LOG` or else by `level`.
/// `colour`: ANSI colours in the pretty format; only for a terminal (see [`colour_for`]), since
/// escape codes in a file or a log shipper's input are noise to every reader of it.
pub fn subscriber<Sink>(
    format: LogFormat,
    level: &str,
    colour: bool,
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
        LogFormat::Pretty => Box::new(
            registry.with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(colour)
                    .with_writer(sink),
            ),
        ),
    }
}

/// Whether logs written to `output` get colours: when it is a terminal and `NO_COLOR`
/// (<https://no-color.org>) is unset or empty.
pub fn colour_for(output: &impl IsTerminal, no_color: Option<&OsStr>) -> bool {
    output.is_terminal() && no_color.is_none_or(OsStr::is_empty)
}

/// Installs `subscriber` for the whole process. Fails if one is installed already.
pub fn init(subscriber: Box<dyn Subscriber + Send + Sync>) -> anyhow::Result<()> {
    set_global_default(subscriber)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;

    use super::*;

    /// A sink keeping what was logged.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::ErrorKind::Other)?
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    fn logged(colour: bool) -> String {
        let sink = Captured::default();
        let subscriber = subscriber(LogFormat::Pretty, "info", colour, sink.clone());
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("request", request_id = "r-1");
            let _entered = span.enter();
            tracing::info!(status = 201, "answered");
        });
        let bytes = sink.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn pretty_logs_have_no_escape_codes_unless_coloured() {
        let plain = logged(false);
        assert!(plain.contains("answered"), "{plain}");
        assert!(plain.contains(r#"request{request_id="r-1"}"#), "{plain}");
        assert!(!plain.contains('\u{1b}'), "{plain:?}");
        assert!(logged(true).contains('\u{1b}'));
    }

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        // A file is never a terminal.
        let file = tempfile::tempfile().unwrap();
        assert!(!colour_for(&file, None));
        assert!(!colour_for(&file, Some(OsStr::new("1"))));
    }
}
