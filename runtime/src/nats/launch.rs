//! Starting the processes of a pipeline split across processes from its orchestrator: the [`Launch`] trait a
//! [`ProcessOrchestrator`](super::ProcessOrchestrator) is given ([`launcher`](super::ProcessOrchestrator::launcher))
//! to start a process it restarts that is gone, and, if asked, the processes not yet seen when it starts.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use tokio::sync::mpsc::UnboundedSender;

use crate::error::panic_message;

/// Starts a process of a pipeline split across processes, for its orchestrator: a process manager of its own (a
/// child process, a container, a unit of a service manager, a machine).
///
/// [`start`](Launch::start) returns once the process is started (spawned, or its start asked of what runs it), not
/// once it has joined: the orchestrator counts it back when the process records Started, as any other. A process
/// started while the one it replaces is only paused waits for the paused one's claim on the name to expire, and
/// fences it (see [`Member::join`](super::Member::join)).
///
/// Any `Fn(&str) -> impl Future<Output = Result<(), String>>` is one (the future must not borrow the name: copy it),
/// and so is an `Arc` of one, so the caller can keep it too (to stop what it started once the run is over):
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use stagewise_runtime::nats::Launch;
///
/// let started = Arc::new(Mutex::new(Vec::new()));
/// let seen = started.clone();
/// let launcher = move |process: &str| {
///     // A real launcher spawns the process here (tokio::process::Command) and keeps its child to wait for it.
///     seen.lock().unwrap().push(process.to_owned());
///     async { Ok(()) }
/// };
/// let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// runtime.block_on(launcher.start("parse")).unwrap();
/// assert_eq!(*started.lock().unwrap(), ["parse"]);
/// ```
///
/// An orchestrator that starts the whole pipeline, and a process again once it is gone:
///
/// ```no_run
/// use std::time::Duration;
/// use stagewise_runtime::nats::{connect, ProcessOrchestrator};
/// use stagewise_runtime::restart::Restart;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let js = connect("nats://127.0.0.1:4222", Duration::from_secs(5)).await?;
/// let launcher = |process: &str| {
///     // `access_log --role NAME`; a real launcher keeps the child, to wait for it or kill it.
///     let started = std::process::Command::new("access_log").args(["--role", process]).spawn();
///     async move { started.map(drop).map_err(|e| e.to_string()) }
/// };
/// let outcome = ProcessOrchestrator::new(&js, "access_log", ["read", "parse", "aggregate"])
///     .restart(Restart::transient(), Duration::from_secs(60))
///     .launcher(launcher)
///     .launch_unseen()
///     .run()
///     .await?;
/// # Ok(()) }
/// ```
pub trait Launch: Send + Sync + 'static {
    /// Starts the process that joins the pipeline as `process`.
    ///
    /// # Errors
    /// Why it could not be started (a missing executable, a refused request): the orchestrator records it
    /// (`PIPELINE@PROCESS` Failed, state `NotStarted`) and applies the failure policy as to a process that did not
    /// come back.
    fn start<'a>(&'a self, process: &'a str) -> BoxFuture<'a, Result<(), String>>;
}

impl<F, Started> Launch for F
where
    F: Fn(&str) -> Started + Send + Sync + 'static,
    Started: Future<Output = Result<(), String>> + Send + 'static,
{
    fn start<'a>(&'a self, process: &'a str) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(self(process))
    }
}

impl<L: Launch + ?Sized> Launch for Arc<L> {
    fn start<'a>(&'a self, process: &'a str) -> BoxFuture<'a, Result<(), String>> {
        (**self).start(process)
    }
}

/// The launcher an orchestrator holds: shared with the tasks that run its starts, so none holds up its loop.
#[derive(Clone)]
pub(crate) struct Launcher(Arc<dyn Launch>);

impl std::fmt::Debug for Launcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Launcher")
    }
}

impl Launcher {
    pub(crate) fn new(launch: impl Launch) -> Self {
        Self(Arc::new(launch))
    }

    /// Starts `process` on a task of its own, so the orchestrator's loop goes on meanwhile; if it fails (or the
    /// launcher panics), its name and why are sent to `failed`.
    pub(crate) fn spawn(&self, process: String, failed: UnboundedSender<(String, String)>) {
        let launch = self.0.clone();
        tokio::spawn(async move {
            let started = AssertUnwindSafe(launch.start(&process)).catch_unwind().await;
            match started.unwrap_or_else(|panic| Err(format!("its launcher panicked: {}", panic_message(&*panic)))) {
                Ok(()) => tracing::info!(%process, "started through the launcher"),
                Err(why) => {
                    let _ = failed.send((process, why));
                }
            }
        });
    }
}
