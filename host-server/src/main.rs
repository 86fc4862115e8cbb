use std::process::ExitCode;

use clap::Parser;
use reservation_server::config::{Cli, Command};
use reservation_server::{startup, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = cli.settings;
    if let Err(error) = telemetry::init(telemetry::subscriber(
        settings.log_format,
        &settings.log_level,
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
