use std::process::ExitCode;

use clap::Parser;
use reservation_server::config::{Cli, Command};
use reservation_server::{startup, telemetry};

mod allocator;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Blocking work (SQLite reads, projection batches) queues for a few threads rather than
    // growing a pool of hundreds, each with its own stack and allocator cache.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(BLOCKING_THREADS)
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(cli))
}

/// Threads for blocking work: the read connections of both databases, plus the projector.
const BLOCKING_THREADS: usize = 8;

async fn run(cli: Cli) -> ExitCode {
    let settings = cli.settings;
    if let Err(error) = telemetry::init(telemetry::subscriber(
        settings.log_format,
        &settings.log_level,
        telemetry::colour_for(&std::io::stdout(), std::env::var_os("NO_COLOR").as_deref()),
        std::io::stdout,
    )) {
        eprintln!("cannot set up logging: {error}");
    }
    match startup::run(cli.command.unwrap_or(Command::Serve), settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "exiting");
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
