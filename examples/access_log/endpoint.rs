//! `--metrics ADDR`: serves the pipeline's per-stage metrics in Prometheus' text format over plain HTTP.
//!
//! The counts are copied from the pipeline's own counters into a Prometheus recorder on each scrape
//! (`PipelineMetrics::record`), so the stages do no metrics work at all. The recorder is this endpoint's own (a local
//! recorder), not the process-wide one: two endpoints, or a test beside other tests, never share counts. A real
//! service could instead install `metrics-exporter-prometheus`' HTTP listener, or any other `metrics` exporter, and
//! call `PipelineMetrics::record_every`.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use stagewise::pipeline::PipelineMetrics;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A request head larger than this is refused: a scrape is one short GET.
const MAX_REQUEST: usize = 8 * 1024;

/// A running metrics endpoint. Dropping it stops serving.
pub struct MetricsEndpoint {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl MetricsEndpoint {
    /// Binds `addr` (port 0 picks a free one) and serves `GET /metrics` from `metrics` until dropped.
    pub async fn serve(addr: SocketAddr, metrics: PipelineMetrics) -> io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let recorder = PrometheusBuilder::new().build_recorder();
        let exporter = Arc::new(Exporter { handle: recorder.handle(), recorder, metrics });
        metrics::with_local_recorder(&exporter.recorder, PipelineMetrics::describe);
        let task = tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((socket, _)) => {
                        tokio::spawn(exporter.clone().answer(socket));
                    }
                    Err(e) => eprintln!("metrics: accept failed: {e}"),
                }
            }
        });
        Ok(Self { addr, task })
    }

    /// The address it serves on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for MetricsEndpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Exporter {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    metrics: PipelineMetrics,
}

impl Exporter {
    /// The metrics now, in Prometheus' text format.
    fn scrape(&self) -> String {
        metrics::with_local_recorder(&self.recorder, || self.metrics.record());
        self.handle.render()
    }

    /// Answers one HTTP/1.1 request and closes the connection. A scraper that goes away is not an error worth more
    /// than a line.
    async fn answer(self: Arc<Self>, mut socket: TcpStream) {
        let response = match read_request_line(&mut socket).await {
            Ok(line) if line.starts_with("GET /metrics ") || line.starts_with("GET / ") => {
                respond("200 OK", "text/plain; version=0.0.4", &self.scrape())
            }
            Ok(_) => respond("404 Not Found", "text/plain", "metrics are at GET /metrics\n"),
            Err(e) => respond("400 Bad Request", "text/plain", &format!("{e}\n")),
        };
        if let Err(e) = socket.write_all(response.as_bytes()).await {
            eprintln!("metrics: could not answer a scrape: {e}");
        }
        let _ = socket.shutdown().await;
    }
}

/// Reads the request head and returns its first line.
async fn read_request_line(socket: &mut TcpStream) -> io::Result<String> {
    let mut head = Vec::with_capacity(512);
    let mut chunk = [0_u8; 512];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&chunk[..n]);
        if head.len() > MAX_REQUEST {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "request head too large"));
        }
    }
    let head = String::from_utf8_lossy(&head);
    Ok(head.lines().next().unwrap_or_default().to_owned())
}

fn respond(status: &str, content_type: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}
