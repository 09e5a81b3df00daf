//! Starts one moto server per test binary on 127.0.0.1 and a free port, and makes sure it
//! stops with the binary, even when tests fail or the binary is killed.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use ecs_kit::aws::Clients;

/// Tasks each service reports running (moto never schedules tasks).
pub const SERVICE_RUNNING: &str = "2";

/// Runs moto as the child of a small watchdog that stops it as soon as this process
/// ends, however it ends (its parent id changes). Not PR_SET_PDEATHSIG: that fires when
/// the spawning *thread* ends, and each test runs on its own thread.
const WATCHDOG: &str = r#"
import os, signal, subprocess, sys, time
parent = os.getppid()
child = subprocess.Popen(sys.argv[1:])
def stop(*_):
    child.terminate()
    try:
        child.wait(5)
    except Exception:
        child.kill()
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
while child.poll() is None:
    if os.getppid() != parent:
        stop()
    time.sleep(0.3)
"#;

struct Moto {
    endpoint: String,
    _process: Child,
}

fn moto_server() -> PathBuf {
    if let Some(path) = std::env::var_os("ECS_KIT_MOTO_SERVER") {
        return PathBuf::from(path);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/moto_server")
}

/// The Python of the venv moto runs in (it has boto3, for what the SDK crates here do
/// not cover, such as ACM).
pub fn python() -> PathBuf {
    moto_server().with_file_name("python3")
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port on 127.0.0.1");
    listener.local_addr().expect("local address").port()
}

fn answers(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream.write_all(b"GET /moto-api/data.json HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.")
}

fn start() -> Moto {
    let server = moto_server();
    assert!(
        server.exists(),
        "moto server not found at {}: run `make test` (it installs moto into .venv) or set ECS_KIT_MOTO_SERVER",
        server.display()
    );
    let python = server.with_file_name("python3");
    let port = free_port();
    let process = Command::new(&python)
        .arg("-c")
        .arg(WATCHDOG)
        .arg(&server)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        .env("MOTO_ECS_SERVICE_RUNNING", SERVICE_RUNNING)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", python.display()));
    let deadline = Instant::now() + Duration::from_secs(60);
    while !answers(port) {
        assert!(Instant::now() < deadline, "moto server did not answer on 127.0.0.1:{port} within 60 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    Moto { endpoint: format!("http://127.0.0.1:{port}"), _process: process }
}

/// The endpoint of this binary's moto server, started on first use.
pub fn endpoint() -> &'static str {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    &MOTO.get_or_init(start).endpoint
}

/// Clients for the real adapters, talking to moto in `us-west-2` with dummy credentials.
pub fn clients() -> Clients {
    Clients::from_config(&sdk_config())
}

/// The SDK configuration of [`clients`], for SDK clients a test needs directly.
pub fn sdk_config() -> SdkConfig {
    SdkConfig::builder()
        .region(Region::new("us-west-2"))
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint())
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "testing", "testing", None, None, "moto",
        )))
        .build()
}

/// A stack name no other test uses.
pub fn unique_stack(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("{prefix}-{}-{}", std::process::id() % 100_000, N.fetch_add(1, Ordering::Relaxed))
}
