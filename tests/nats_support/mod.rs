//! A private `nats-server` for one test: JetStream on a loopback port the server picks itself (so no other process
//! can take it between choosing and listening), a temporary store folder, killed (by its own process id) when the
//! guard drops, so no test leaves a server behind or depends on a fixed port.

#![allow(dead_code)]

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to listen, on a loaded machine.
const START_DEADLINE: Duration = Duration::from_secs(30);

/// A running `nats-server -js`, stopped on drop.
pub struct NatsServer {
    child: Option<Child>,
    port: u16,
    store: tempfile::TempDir,
    /// Where the server writes the port it listens on.
    ports: tempfile::TempDir,
}

impl NatsServer {
    /// Starts a server on a port of its choosing with an empty store; waits until it accepts connections.
    ///
    /// # Panics
    /// When `nats-server` is not installed (`apt-get install nats-server`) or does not listen within 30 s.
    pub fn start() -> Self {
        let mut server = Self {
            child: None,
            port: 0,
            store: tempfile::tempdir().expect("a temporary folder"),
            ports: tempfile::tempdir().expect("a temporary folder"),
        };
        server.launch();
        server
    }

    /// Starts the server on `self.port`, or on a port it picks when that is 0, and waits until it listens.
    fn launch(&mut self) {
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            let port = if self.port == 0 { "-1".to_owned() } else { self.port.to_string() };
            let log = std::fs::OpenOptions::new().create(true).append(true).open(self.ports.path().join("log"));
            let log = log.expect("nats-server's log file");
            let mut child = Command::new("nats-server")
                .args(["-js", "-a", "127.0.0.1", "-p", &port, "-sd"])
                .arg(self.store.path())
                .arg("--ports_file_dir")
                .arg(self.ports.path())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("nats-server runs (apt-get install nats-server)");
            let ports_file = self.ports.path().join(format!("nats-server_{}.ports", child.id()));
            let listening = loop {
                if let Some(status) = child.try_wait().expect("nats-server's status") {
                    // Its port was still held (a restart on the same port): try again until the deadline.
                    assert!(Instant::now() < deadline, "nats-server exited ({status}) without listening");
                    break None;
                }
                if let Some(port) = std::fs::read_to_string(&ports_file).ok().and_then(|s| client_port(&s)) {
                    if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
                        break Some(port);
                    }
                }
                if Instant::now() >= deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("nats-server did not listen within {START_DEADLINE:?}");
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            if let Some(port) = listening {
                self.port = port;
                self.child = Some(child);
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// What it logged so far, for a failing test's message.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.ports.path().join("log")).unwrap_or_default()
    }

    /// Its store folder.
    pub fn store(&self) -> &Path {
        self.store.path()
    }

    /// Kills it (SIGKILL) and waits for it to be gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops it (SIGSTOP) without closing its connections, as a stalled server or machine would be: it answers
    /// nothing until [`resume`](Self::resume).
    pub fn pause(&self) {
        self.signal("STOP");
    }

    /// Lets a [`pause`](Self::pause)d server go on (SIGCONT).
    pub fn resume(&self) {
        self.signal("CONT");
    }

    fn signal(&self, signal: &str) {
        let child = self.child.as_ref().expect("the server runs");
        let sent = Command::new("kill").arg(format!("-{signal}")).arg(child.id().to_string()).status();
        assert!(sent.expect("kill runs").success(), "SIG{signal} sent to nats-server");
    }

    /// Starts it again on the same port with the same store.
    pub fn restart(&mut self) {
        self.kill();
        self.launch();
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The client port in a ports file: `{"nats":["nats://127.0.0.1:PORT"],...}`.
fn client_port(ports_file: &str) -> Option<u16> {
    let after = ports_file.split("nats://").nth(1)?;
    let port = after.split(':').nth(1)?;
    port.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// A loopback URL where nothing listens.
pub fn unreachable_url() -> String {
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).and_then(|l| l.local_addr()).expect("a free port").port();
    format!("nats://127.0.0.1:{port}")
}

/// Every message in `error`'s chain, outermost first.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut messages = vec![error.to_string()];
    let mut source = error.source();
    while let Some(inner) = source {
        messages.push(inner.to_string());
        source = inner.source();
    }
    messages.join(": ")
}
