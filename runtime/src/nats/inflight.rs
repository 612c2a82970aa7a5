//! Appends in flight: a link's producer publishes each record and goes on, with up to [`WINDOW`] records awaiting
//! their acknowledgements; a settler task takes the acknowledgements in order, publishes again (same id, same
//! expected last sequence) any whose acknowledgement failed, and counts the records stored. Each record still
//! carries the stream's last sequence as a precondition, so the server stores them in order and none past a gap.
//!
//! What a consumer acknowledges upstream must not run ahead of what its outputs made durable: before a consumer in
//! this process acknowledges, it waits until every append issued so far by every producer of the same pipeline in
//! this process is stored ([`settled`]). Conservative (it waits for producers that are not its stage's), never
//! early; a producer that failed is not waited for (its stage fails, and a resumed stage starts from its own
//! output's stamp, not from the ack floor).

use std::future::IntoFuture;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};

use async_nats::jetstream::{self, context::PublishAckFuture, publish::PublishAck};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::error::NatsError;
use super::outage::Outage;
use super::publish::{store_again, Outgoing};
use crate::journal::JournalError;

/// Records a producer may have published and not yet seen acknowledged.
pub(crate) const WINDOW: usize = 256;

/// One producer's appends: how many it issued, how many are stored, and the failure that stopped it.
#[derive(Debug)]
struct Progress {
    /// The pipeline its link belongs to.
    pipeline: String,
    /// Position just past the last record issued.
    issued: AtomicU64,
    /// Position just past the last record stored (every record before it is).
    stored: watch::Sender<u64>,
    failure: OnceLock<String>,
}

/// Every producer of this process, to wait on before acknowledging upstream.
static PRODUCERS: Mutex<Vec<Weak<Progress>>> = Mutex::new(Vec::new());

/// Waits until every record issued so far by every producer of `pipeline` in this process is stored, or its
/// producer failed.
pub(crate) async fn settled(pipeline: &str) {
    let waits: Vec<(Arc<Progress>, u64)> = {
        let mut producers = PRODUCERS.lock().unwrap_or_else(PoisonError::into_inner);
        producers.retain(|p| p.strong_count() > 0);
        let ours = producers.iter().filter_map(Weak::upgrade).filter(|p| p.pipeline == pipeline);
        ours.map(|p| {
            let issued = p.issued.load(Ordering::Acquire);
            (p, issued)
        })
        .collect()
    };
    for (progress, issued) in waits {
        let mut stored = progress.stored.subscribe();
        // The sender lives in `progress`: this ends when they are stored or the producer failed.
        let _ = stored.wait_for(|&s| s >= issued || progress.failure().is_some()).await;
    }
}

/// A record published, waiting for its acknowledgement.
struct InFlight {
    position: u64,
    /// When it was published.
    at: Instant,
    outgoing: Outgoing,
    /// `None` when even the publish failed: the settler publishes it again.
    ack: Option<PublishAckFuture>,
}

/// The producing side of one link: hands published records to its settler.
#[derive(Debug)]
pub(crate) struct Appends {
    progress: Arc<Progress>,
    settler: mpsc::Sender<InFlight>,
}

impl std::fmt::Debug for InFlight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InFlight").field("position", &self.position).finish_non_exhaustive()
    }
}

impl Appends {
    /// A producer of a link of `pipeline` whose next record goes to `position`, on `js`; it gives up on a record
    /// the server has not acknowledged within `outage`'s deadline.
    pub(crate) fn new(js: &jetstream::Context, pipeline: &str, position: u64, outage: Outage) -> Self {
        let progress = Arc::new(Progress {
            pipeline: pipeline.to_owned(),
            issued: AtomicU64::new(position),
            stored: watch::Sender::new(position),
            failure: OnceLock::new(),
        });
        PRODUCERS.lock().unwrap_or_else(PoisonError::into_inner).push(Arc::downgrade(&progress));
        let (settler, records) = mpsc::channel(WINDOW);
        tokio::spawn(settle(js.clone(), records, progress.clone(), outage));
        Self { progress, settler }
    }

    /// Publishes `outgoing` (record `position`, the next one) and returns once it is on its way, waiting only while
    /// [`WINDOW`] records await their acknowledgements.
    ///
    /// # Errors
    /// The failure that stopped an earlier record from being stored.
    pub(crate) async fn publish(
        &self,
        js: &jetstream::Context,
        position: u64,
        outgoing: Outgoing,
    ) -> Result<(), JournalError> {
        self.failed()?;
        let ack = js.send_publish(outgoing.subject.clone(), outgoing.message()).await.ok();
        self.progress.issued.store(position + 1, Ordering::Release);
        if self.settler.send(InFlight { position, at: Instant::now(), outgoing, ack }).await.is_err() {
            self.failed()?;
        }
        Ok(())
    }

    /// Waits until every record up to `position` is stored.
    ///
    /// # Errors
    /// The failure that stopped a record from being stored.
    pub(crate) async fn stored(&self, position: u64) -> Result<(), JournalError> {
        let mut stored = self.progress.stored.subscribe();
        let reached = stored.wait_for(|&s| s > position || self.progress.failure().is_some()).await.is_ok();
        self.failed()?;
        match reached {
            true => Ok(()),
            false => Err(JournalError::Unusable("the link's appends stopped".to_owned())),
        }
    }

    fn failed(&self) -> Result<(), JournalError> {
        match self.progress.failure() {
            Some(why) => Err(JournalError::Unusable(why.clone())),
            None => Ok(()),
        }
    }
}

impl Progress {
    fn failure(&self) -> Option<&String> {
        self.failure.get()
    }
}

/// Takes the acknowledgements in order; one that failed is published again (the ones after it then either were
/// stored after it, or failed their precondition and are published again in turn). Once one failed (a lost
/// connection, a restarted server), the acknowledgements of records published before it was stored again are not
/// waited for (each would wait out its own timeout, one after the other): those records are published again at once,
/// and the server's de-duplication answers for those it holds already.
async fn settle(
    js: jetstream::Context,
    mut records: mpsc::Receiver<InFlight>,
    progress: Arc<Progress>,
    mut outage: Outage,
) {
    let mut suspect_before: Option<Instant> = None;
    while let Some(InFlight { position, at, outgoing, ack }) = records.recv().await {
        let suspect = suspect_before.is_some_and(|before| at < before);
        let acknowledged = match ack {
            Some(ack) if !suspect => ack.into_future().await.ok(),
            _ => None,
        };
        let stored = match acknowledged {
            // A duplicate on the first publish: another writer stored this id.
            Some(ack) if ack.duplicate => Err(NatsError::NotSoleWriter { subject: outgoing.subject.clone() }),
            Some(ack) => Ok(ack),
            None => {
                let stored = store_again(&js, &outgoing, &mut outage).await;
                suspect_before = Some(Instant::now());
                stored
            }
        };
        if let Err(e) = settled_one(&progress, position, &outgoing, stored) {
            return fail(&progress, &e);
        }
    }
}

/// Counts record `position` stored, if the server stored it where the link expects it.
fn settled_one(
    progress: &Progress,
    position: u64,
    outgoing: &Outgoing,
    stored: Result<PublishAck, NatsError>,
) -> Result<(), NatsError> {
    match stored?.sequence == position + 1 {
        true => {
            progress.stored.send_replace(position + 1);
            Ok(())
        }
        false => Err(NatsError::NotSoleWriter { subject: outgoing.subject.clone() }),
    }
}

/// The producer stops: `error` is what its next append, and its end of stream, report.
fn fail(progress: &Progress, error: &NatsError) {
    // The first failure stops the producer: a later one keeps it.
    let _ = progress.failure.set(error.to_string());
    progress.stored.send_modify(|_| {});
}
