//! `--role orchestrate --spawn`: the stage roles as child processes of the orchestrator, started through its
//! launcher ([`Launch`]): each with this process's own arguments (`--nats`, `--lines`, `--durable`, `--out`,
//! `--outage`, the input) and its role instead of `orchestrate`; a role gone (killed, or exited after a failed run) is
//! started again the same way, without `--fresh` (it resumes). The children still running when the orchestrator
//! ends are killed.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use futures_util::future::BoxFuture;
use stagewise::nats::Launch;
use tokio::process::{Child, Command};

/// The orchestrator's child processes, one per role, and how to start them.
pub struct Children {
    /// This process's arguments, without its role and the orchestrator's own options.
    args: Vec<String>,
    /// The last process started for each role (a lock held only to swap one in or out, never across a wait).
    running: Mutex<BTreeMap<String, Child>>,
}

impl Children {
    /// The children of this process: its own command line, less `--role orchestrate`, `--spawn` and `--strategy`.
    pub fn of_this_process() -> Self {
        let mut args = Vec::new();
        let mut it = std::env::args().skip(1);
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--role" | "--strategy" => {
                    it.next();
                }
                "--spawn" => {}
                _ => args.push(arg),
            }
        }
        Self { args, running: Mutex::new(BTreeMap::new()) }
    }

    /// Waits up to `grace` for each child to end on its own (a completed role still writes its summary), then
    /// kills those still running.
    pub async fn end(&self, grace: Duration) {
        let children = std::mem::take(&mut *self.running.lock().unwrap_or_else(PoisonError::into_inner));
        let deadline = tokio::time::Instant::now() + grace;
        for (role, mut child) in children {
            if tokio::time::timeout_at(deadline, child.wait()).await.is_err() {
                println!("spawned: {role} still running; killing it");
                let _ = child.kill().await;
            }
        }
    }
}

impl Launch for Children {
    fn start<'a>(&'a self, role: &'a str) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let exe = std::env::current_exe().map_err(|e| format!("this program's path: {e}"))?;
            let replaced = self.running.lock().unwrap_or_else(PoisonError::into_inner).remove(role);
            let again = replaced.is_some();
            // A role restarted is gone; if only paused, it must not come back beside its replacement.
            if let Some(mut earlier) = replaced {
                let _ = earlier.kill().await;
            }
            let args = self.args.iter().filter(|arg| !(again && arg.as_str() == "--fresh"));
            let mut command = Command::new(exe);
            command.args(args).args(["--role", role]).kill_on_drop(true);
            let child = command.spawn().map_err(|e| format!("cannot start --role {role}: {e}"))?;
            println!("spawned: {role} (pid {})", child.id().unwrap_or_default());
            self.running.lock().unwrap_or_else(PoisonError::into_inner).insert(role.to_owned(), child);
            Ok(())
        })
    }
}
