//! Command-line flags with environment fallbacks. Parsed once in `main`; everything else takes
//! a [`Settings`] value, so tests build one in code.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "reservation-server",
    version,
    about = "The restaurant reservation service"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Serve the HTTP API (the default).
    Serve,
    /// Drop the read models and rebuild them from the event log, then exit.
    RebuildProjections,
    /// Print a bearer token signed with the server's secret (`DATA_DIR/auth-secret`, created
    /// if missing, or `--auth-secret-file`), e.g. `token --role admin --subject ops`.
    Token(crate::auth::token::TokenArgs),
    /// Amazon DynamoDB administration (`--store dynamodb`).
    Dynamodb {
        #[command(subcommand)]
        command: DynamodbCommand,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Subcommand)]
pub enum DynamodbCommand {
    /// Create the event table `--dynamodb-table` (Streams on, `NEW_IMAGE`) and its read-model
    /// table `<table>-read`, or check them if they exist (idempotent), then exit.
    CreateTable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreKind {
    /// The embedded SQLite event store in `DATA_DIR/events.db`.
    Sqlite,
    /// Amazon DynamoDB: the table `--dynamodb-table`, with the standard AWS configuration
    /// (`AWS_REGION`, the credentials chain, `AWS_ENDPOINT_URL`).
    Dynamodb,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line (for log shippers).
    Json,
    /// Human-readable lines.
    Pretty,
}

/// The decision cache's default size, in bookings. Day books are cached packed, about 40 bytes
/// of RSS per booking with the allocator's share, so a full cache of 350,000 takes about 14 MB,
/// less than 85,000 unpacked bookings took before, and a 60 s benchmark run that fills it peaks
/// at 51 MiB, inside the 60 MB budget (`host-server/PERFORMANCE.md`, section 10; 53.3 MiB since
/// the hint log, section 12).
pub const DEFAULT_CACHE_BOOKINGS: usize = 350_000;

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address to listen on (port 0 picks a free port).
    #[arg(
        long,
        env = "RESERVATION_LISTEN",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen: SocketAddr,
    /// Directory holding the event store and the read models.
    #[arg(
        long,
        env = "RESERVATION_DATA_DIR",
        default_value = "./data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// Event store backend.
    #[arg(long, env = "RESERVATION_STORE", value_enum, default_value_t = StoreKind::Sqlite, global = true)]
    pub store: StoreKind,
    /// The DynamoDB event table (`--store dynamodb`); its read models live in `<table>-read`.
    #[arg(long, env = "RESERVATION_DYNAMODB_TABLE", global = true)]
    pub dynamodb_table: Option<String>,
    /// The AWS configuration for `--store dynamodb` instead of the environment's (tests).
    #[arg(skip)]
    pub aws: Option<aws_config::SdkConfig>,
    /// Log line format.
    #[arg(long, env = "RESERVATION_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty, global = true)]
    pub log_format: LogFormat,
    /// Log filter, e.g. `info` or `reservation_server=debug,tower_http=info` (RUST_LOG wins if set).
    #[arg(
        long,
        env = "RESERVATION_LOG_LEVEL",
        default_value = "info",
        global = true
    )]
    pub log_level: String,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "RESERVATION_MAX_BODY_BYTES", default_value_t = 256 * 1024, global = true)]
    pub max_body_bytes: usize,
    /// Requests still running after this many seconds get 503 `timeout`.
    #[arg(
        long,
        env = "RESERVATION_REQUEST_TIMEOUT_SECS",
        default_value_t = 10,
        global = true
    )]
    pub request_timeout_secs: u64,
    /// Requests handled at once; more are refused at once with 503 `overloaded`.
    #[arg(
        long,
        env = "RESERVATION_MAX_CONCURRENCY",
        default_value_t = 1024,
        global = true
    )]
    pub max_concurrency: usize,
    /// Size of the in-memory cache of restaurant configurations and day books, in bookings
    /// (a cached day counts eight, plus one per booking its day book holds). Each takes about
    /// 40 bytes of RSS, allocator included: the default keeps a full cache inside a 60 MB server.
    #[arg(
        long,
        env = "RESERVATION_CACHE_BOOKINGS",
        default_value_t = DEFAULT_CACHE_BOOKINGS,
        global = true
    )]
    pub cache_bookings: usize,
    /// Per-client and connection limits.
    #[command(flatten)]
    pub client_limits: crate::http::limits::ClientLimits,
    /// Who may call: bearer JWT verification keys.
    #[command(flatten)]
    pub auth: crate::auth::AuthSettings,
}

impl Settings {
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs.max(1))
    }

    /// Defaults for a data directory, listening on a free loopback port (for tests and tools).
    pub fn for_data_dir(data_dir: impl Into<PathBuf>) -> Settings {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.into(),
            store: StoreKind::Sqlite,
            dynamodb_table: None,
            aws: None,
            log_format: LogFormat::Pretty,
            log_level: "info".into(),
            max_body_bytes: 256 * 1024,
            request_timeout_secs: 10,
            max_concurrency: 1024,
            cache_bookings: DEFAULT_CACHE_BOOKINGS,
            client_limits: crate::http::limits::ClientLimits::default(),
            auth: crate::auth::AuthSettings::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_readme() {
        let cli = Cli::try_parse_from(["reservation-server"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.settings.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(cli.settings.data_dir, PathBuf::from("./data"));
        assert_eq!(cli.settings.store, StoreKind::Sqlite);
    }

    #[test]
    fn subcommands_and_flags_parse() {
        let cli = Cli::try_parse_from([
            "reservation-server",
            "rebuild-projections",
            "--data-dir",
            "/tmp/x",
            "--store",
            "dynamodb",
            "--log-format",
            "json",
        ])
        .unwrap();
        assert!(matches!(cli.command, Some(Command::RebuildProjections)));
        assert_eq!(cli.settings.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(cli.settings.store, StoreKind::Dynamodb);
        assert_eq!(cli.settings.log_format, LogFormat::Json);
        assert!(Cli::try_parse_from(["reservation-server", "--listen", "nope"]).is_err());
    }
}
