//! How long a journal, link, member or orchestrator waits for a server that does not answer before it gives up with
//! [`NatsError::Lost`]: long enough to ride out a server restart (the client reconnects on its own), short enough
//! that a server stopped for good ends every wait with an error instead of a hang.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_nats::connection::State;
use tokio::time::Instant;

use super::error::NatsError;

/// The deadline by default: a server restart costs the clients' reconnection delay (about 15 s on loopback, more
/// on a loaded machine), well within it.
pub const DEFAULT_OUTAGE: Duration = Duration::from_secs(60);

/// How often a wait that has nothing else to do looks at the connection.
const LOOK_EVERY: Duration = Duration::from_millis(50);

/// The deadline, shared between a journal or link and the tasks it started, so setting it after opening reaches
/// them too.
#[derive(Clone, Debug)]
pub(crate) struct Patience(Arc<AtomicU64>);

impl Default for Patience {
    fn default() -> Self {
        let patience = Self(Arc::new(AtomicU64::new(0)));
        patience.set(DEFAULT_OUTAGE);
        patience
    }
}

impl Patience {
    pub(crate) fn set(&self, deadline: Duration) {
        let nanos = u64::try_from(deadline.as_nanos()).unwrap_or(u64::MAX);
        self.0.store(nanos, Ordering::Release);
    }

    pub(crate) fn get(&self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::Acquire))
    }
}

/// One wait's view of the server: since when nothing has worked. Failures (a request not answered, a connection
/// down) start the clock, a success stops it; once it has run for the deadline the wait ends with the error.
#[derive(Debug)]
pub(crate) struct Outage {
    client: async_nats::Client,
    patience: Patience,
    failing_since: Option<Instant>,
    last: String,
}

impl Outage {
    pub(crate) fn new(client: async_nats::Client, patience: &Patience) -> Self {
        Self { client, patience: patience.clone(), failing_since: None, last: String::new() }
    }

    /// The server answered: the clock stops.
    pub(crate) fn answered(&mut self) {
        self.failing_since = None;
    }

    /// An attempt failed because of `why`: the clock runs, if it did not already.
    pub(crate) fn failed(&mut self, why: impl std::fmt::Display) {
        self.failing_since.get_or_insert_with(Instant::now);
        self.last = why.to_string();
    }

    /// `Err` once nothing has worked for the deadline, naming `what` was being done.
    pub(crate) fn check(&self, what: impl FnOnce() -> String) -> Result<(), NatsError> {
        let deadline = self.patience.get();
        match self.failing_since {
            Some(since) if since.elapsed() >= deadline => {
                let why = match self.client.connection_state() {
                    State::Connected => self.last.clone(),
                    state => format!("connection {state:?}; last error: {}", self.last),
                };
                Err(NatsError::Lost { what: what(), deadline, why })
            }
            _ => Ok(()),
        }
    }

    /// Resolves, with the error, once the connection has been down for the deadline while this waits: to race
    /// against a wait that would otherwise go on forever (messages that never come). Never resolves while the
    /// connection is up, so the clock stops once it is back.
    pub(crate) async fn lasting(&mut self, what: impl Fn() -> String) -> NatsError {
        loop {
            match self.client.connection_state() {
                State::Connected => self.answered(),
                state => self.failed(format!("connection {state:?}")),
            }
            if let Err(e) = self.check(&what) {
                return e;
            }
            tokio::time::sleep(LOOK_EVERY).await;
        }
    }

    /// Time left before the deadline (the whole deadline while nothing fails): how long one more attempt may take.
    pub(crate) fn remaining(&self) -> Duration {
        let deadline = self.patience.get();
        self.failing_since.map_or(deadline, |since| deadline.saturating_sub(since.elapsed()))
    }
}
