//! The background thread of [`Durability::Every`](super::Durability::Every): syncs records that have waited for the
//! interval when no append comes along to do it, so the interval is a promise even for a quiet stage.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Weak;
use std::thread;
use std::time::Duration;

use super::Shared;

/// The running thread; it ends when this is dropped (or the journal is gone).
#[derive(Debug)]
pub(crate) struct Flusher {
    _stop: mpsc::Sender<()>,
}

impl Flusher {
    pub(crate) fn start(shared: Weak<Shared>, interval: Duration) -> std::io::Result<Self> {
        let (stop, stopped) = mpsc::channel::<()>();
        // Wake a little more often than the interval, so a record never waits much longer than it.
        let tick = (interval / 2).max(Duration::from_millis(1));
        thread::Builder::new().name("stagewise-journal-sync".to_owned()).spawn(move || loop {
            match stopped.recv_timeout(tick) {
                Err(RecvTimeoutError::Timeout) => match shared.upgrade() {
                    Some(shared) => shared.lock().sync_if_due(),
                    None => return,
                },
                Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
            }
        })?;
        Ok(Self { _stop: stop })
    }
}
