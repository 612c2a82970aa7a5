//! An exclusive claim on a process name of a pipeline, so two processes never run under one name at once (a paused
//! process and the replacement started in its stead): a key-value entry (bucket `{pipeline}_CLAIMS`, key the
//! process's name) that the server deletes once it has not been renewed for the bucket's max age.
//!
//! - **Taken** with `create`, which fails while the entry exists: a process joining under a name whose claim is
//!   alive waits for it to expire (one time-to-live and two beats), then is refused ([`NatsError::Claimed`]).
//! - **Renewed** at each heartbeat with `update` against the revision it last wrote: a claim that expired and was
//!   taken by another process cannot be renewed, and its holder is **fenced** ([`NatsError::Fenced`]). Each take
//!   also moves the name's epoch (bucket `{pipeline}_CLAIMS_EPOCHS`, kept without a time limit): a claim that
//!   expired is taken again only while the epoch is still its own, so a process resumed after another held its
//!   name, even one that has ended since, is fenced too; one that nobody replaced (a server restart, a pause)
//!   goes on.
//! - **Held**: this process's writes (its links' appends and acknowledgements, its lifecycle records) first check
//!   that the claim was renewed less than a time-to-live ago; past that they wait for the next renewal, so a
//!   process resumed after a long pause writes nothing before learning whether it was replaced.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, SystemTime};

use async_nats::jetstream;
use async_nats::jetstream::context::{PublishError, PublishErrorKind};
use async_nats::jetstream::kv::{self, CreateErrorKind, Operation, UpdateErrorKind};
use async_nats::jetstream::stream::{self, DiscardPolicy, StorageType};
use bytes::Bytes;
use tokio::sync::watch;
use tokio::time::Instant;

use super::error::NatsError;
use super::names::{claims_bucket, epochs_bucket};

/// Where a claim stands, as its holder knows.
#[derive(Clone, Debug)]
enum Hold {
    /// Renewed: no other process can have it before this instant.
    Until(Instant),
    /// Another process took it: nothing more may be written.
    Fenced,
}

/// This process's claim on a name.
#[derive(Debug)]
pub(crate) struct Claim {
    kv: kv::Store,
    pipeline: String,
    process: String,
    /// What this holder writes: unique to it, so it knows its own entry.
    holder: Bytes,
    ttl: Duration,
    /// The entry's revision it last wrote.
    revision: AtomicU64,
    /// The bucket of the names' epochs, and this holder's epoch of its name.
    epochs: kv::Store,
    epoch: u64,
    hold: watch::Sender<Hold>,
}

/// Every claim held in this process, for the writes of its pipeline to check.
static CLAIMS: Mutex<Vec<Weak<Claim>>> = Mutex::new(Vec::new());

impl Claim {
    /// Claims `process` of `pipeline` for `ttl` (renewed by [`renew`](Self::renew)), waiting while another process
    /// holds it for at most `wait`.
    ///
    /// # Errors
    /// [`NatsError::Claimed`] when another process still held it after `wait`; [`NatsError::Mismatch`] when the
    /// bucket exists with another time-to-live; [`NatsError::Request`] when the server refused.
    pub(crate) async fn take(
        js: &jetstream::Context,
        pipeline: &str,
        process: &str,
        ttl: Duration,
        wait: Duration,
    ) -> Result<Arc<Self>, NatsError> {
        let kv = store(js, &claims_bucket(pipeline), ttl).await?;
        let epochs = store(js, &epochs_bucket(pipeline), Duration::ZERO).await?;
        let holder = Bytes::from(holder_id());
        let until = Instant::now() + wait;
        // The claim lives a time-to-live from when it was stored: when an attempt went unanswered (it may have been
        // stored), from that attempt's send on.
        let mut first_sent = None;
        let revision = loop {
            let sent = *first_sent.get_or_insert_with(Instant::now);
            match settled(|| kv.create(process, holder.clone())).await {
                Ok(revision) => break (revision, sent),
                // No answer: the next attempt creates it, or finds it created by this one.
                Err(e) if e.kind() == CreateErrorKind::Publish && Instant::now() < until => {
                    tracing::debug!(process, error = %e, "claim not answered; trying again");
                }
                Err(e) if e.kind() == CreateErrorKind::AlreadyExists => {
                    if let Ok(Some(entry)) = kv.entry(process).await {
                        if entry.operation == Operation::Put && entry.value == holder {
                            break (entry.revision, sent); // stored by an attempt whose answer was lost
                        }
                    }
                    first_sent = None;
                    if Instant::now() >= until {
                        let (pipeline, process) = (pipeline.to_owned(), process.to_owned());
                        return Err(NatsError::Claimed { pipeline, process, wait });
                    }
                    tokio::time::sleep(ttl / 10).await;
                }
                Err(e) => {
                    return Err(NatsError::request(format!("claiming {process} in {}", claims_bucket(pipeline)), e))
                }
            }
        };
        // Held: nobody else moves the epoch now.
        let epoch = settled(|| epochs.put(process, holder.clone())).await;
        let epoch = epoch.map_err(|e| NatsError::request(format!("the epoch of {process}"), e))?;
        let claim = Arc::new(Self {
            kv,
            pipeline: pipeline.to_owned(),
            process: process.to_owned(),
            holder,
            ttl,
            revision: AtomicU64::new(revision.0),
            epochs,
            epoch,
            hold: watch::Sender::new(Hold::Until(revision.1 + ttl)),
        });
        let mut claims = CLAIMS.lock().unwrap_or_else(PoisonError::into_inner);
        claims.retain(|c| c.strong_count() > 0);
        claims.push(Arc::downgrade(&claim));
        Ok(claim)
    }

    /// Renews the claim for another time-to-live.
    ///
    /// # Errors
    /// [`NatsError::Fenced`] when another process holds it now (for good: the holder must stop);
    /// [`NatsError::Request`] when the server did not answer (the claim lapses on its own; try again).
    pub(crate) async fn renew(&self) -> Result<(), NatsError> {
        if matches!(*self.hold.borrow(), Hold::Fenced) {
            return Err(self.fenced());
        }
        let sent = Instant::now();
        let what = || format!("renewing the claim on {} in {}", self.process, claims_bucket(&self.pipeline));
        let revision = self.revision.load(Ordering::Acquire);
        let renewed = match self.kv.update(&self.process, self.holder.clone(), revision).await {
            Ok(revision) => revision,
            Err(e) if e.kind() == UpdateErrorKind::WrongLastRevision => self.again().await?,
            Err(e) => return Err(NatsError::request(what(), e)),
        };
        self.revision.store(renewed, Ordering::Release);
        self.hold.send_replace(Hold::Until(sent + self.ttl));
        Ok(())
    }

    /// The entry is not at the revision this holder last wrote: it is still this holder's (a renewal stored whose
    /// acknowledgement was lost), another's (fenced), or gone: taken again if its epoch is still this holder's
    /// (nobody took it meanwhile), fenced otherwise (another process held it, and let it go since).
    async fn again(&self) -> Result<u64, NatsError> {
        let what = || format!("the claim on {} in {}", self.process, claims_bucket(&self.pipeline));
        let entry = self.kv.entry(&self.process).await.map_err(|e| NatsError::request(what(), e))?;
        match entry {
            Some(entry) if entry.operation == Operation::Put && entry.value == self.holder => Ok(entry.revision),
            Some(entry) if entry.operation == Operation::Put => Err(self.fence()),
            _ => match self.epochs.entry(&self.process).await.map_err(|e| NatsError::request(what(), e))? {
                Some(epoch) if epoch.revision == self.epoch => self.take_again().await,
                _ => Err(self.fence()),
            },
        }
    }

    /// Creates the entry again (it expired with nobody taking it); fenced if another process was quicker.
    async fn take_again(&self) -> Result<u64, NatsError> {
        let what = || format!("the claim on {} in {}", self.process, claims_bucket(&self.pipeline));
        match self.kv.create(&self.process, self.holder.clone()).await {
            Ok(revision) => Ok(revision),
            Err(e) if e.kind() == CreateErrorKind::AlreadyExists => Err(self.fence()),
            Err(e) => Err(NatsError::request(what(), e)),
        }
    }

    fn fence(&self) -> NatsError {
        self.hold.send_replace(Hold::Fenced);
        tracing::error!(process = %self.process, "another process took this process's claim: it stops writing");
        self.fenced()
    }

    pub(crate) fn fenced(&self) -> NatsError {
        NatsError::Fenced { pipeline: self.pipeline.clone(), process: self.process.clone() }
    }

    /// True once another process took the claim.
    pub(crate) fn is_fenced(&self) -> bool {
        matches!(*self.hold.borrow(), Hold::Fenced)
    }

    /// Waits until the claim is held (renewed less than a time-to-live ago), for at most `deadline`.
    ///
    /// # Errors
    /// [`NatsError::Fenced`] once another process took it; [`NatsError::Lost`] when it was not renewed within
    /// `deadline`.
    pub(crate) async fn hold(&self, deadline: Duration) -> Result<(), NatsError> {
        let mut hold = self.hold.subscribe();
        let held = |h: &Hold| !matches!(h, Hold::Until(until) if *until <= Instant::now());
        let renewed = tokio::time::timeout(deadline, async {
            loop {
                if held(&hold.borrow_and_update()) {
                    return;
                }
                // The sender lives in `self`.
                let _ = hold.changed().await;
            }
        });
        let what = || format!("waiting to renew the claim on {}", self.process);
        renewed.await.map_err(|_| NatsError::Lost { what: what(), deadline, why: "not renewed".to_owned() })?;
        match *self.hold.borrow() {
            Hold::Fenced => Err(self.fenced()),
            Hold::Until(_) => Ok(()),
        }
    }

    /// Gives the name up at once (instead of when the claim expires), if it is still this holder's.
    pub(crate) async fn release(&self) {
        let revision = self.revision.load(Ordering::Acquire);
        if let Err(e) = self.kv.delete_expect_revision(&self.process, Some(revision)).await {
            tracing::debug!(process = %self.process, error = %e, "claim not released; it expires");
        }
    }
}

/// Waits until every claim this process holds for `pipeline` is held ([`Claim::hold`]); at once when it holds none.
///
/// # Errors
/// As [`Claim::hold`].
pub(crate) async fn hold_all(pipeline: &str, deadline: Duration) -> Result<(), NatsError> {
    let ours: Vec<Arc<Claim>> = {
        let claims = CLAIMS.lock().unwrap_or_else(PoisonError::into_inner);
        claims.iter().filter_map(Weak::upgrade).filter(|c| c.pipeline == pipeline).collect()
    };
    for claim in ours {
        claim.hold(deadline).await?;
    }
    Ok(())
}

/// The claims bucket called `name`, created with max age `ttl` if missing.
async fn store(js: &jetstream::Context, name: &str, ttl: Duration) -> Result<kv::Store, NatsError> {
    let what = || format!("the claims bucket {name}");
    if let Ok(store) = js.get_key_value(name).await {
        let found = store.status().await.map_err(|e| NatsError::request(what(), e))?.max_age();
        return match found == ttl {
            true => Ok(store),
            false => Err(NatsError::Mismatch {
                stream: format!("KV_{name}"),
                difference: format!("max age {found:?}, wanted {ttl:?} (the claims' time-to-live)"),
            }),
        };
    }
    // The bucket's stream as the client's create_key_value makes it, created here because that call first asks for
    // the account's information, which a 2.9 server answers in a form this client cannot read.
    let config = stream::Config {
        name: format!("KV_{name}"),
        subjects: vec![format!("$KV.{name}.>")],
        max_messages_per_subject: 1,
        max_age: ttl,
        storage: StorageType::File,
        allow_rollup: true,
        deny_delete: true,
        allow_direct: true,
        discard: DiscardPolicy::New,
        num_replicas: 1,
        ..Default::default()
    };
    let created = js.create_stream(config).await;
    // Created, or another process created it in between.
    match js.get_key_value(name).await {
        Ok(store) => Ok(store),
        Err(e) => Err(NatsError::request(what(), created.err().map_or(e.to_string(), |c| c.to_string()))),
    }
}

/// Runs `write` to a bucket, again while the server answers that no stream takes it, for up to [`SETTLING`]: two
/// processes creating one bucket at the same moment (the roles of a pipeline started together on a new server) are
/// both answered before nats-server 2.9 binds the stream to its subjects, so a first write can find no stream.
async fn settled<T, E, F>(mut write: impl FnMut() -> F) -> Result<T, E>
where
    E: std::error::Error + 'static,
    F: std::future::Future<Output = Result<T, E>>,
{
    let until = Instant::now() + SETTLING;
    loop {
        match write().await {
            Err(e) if no_stream(&e) && Instant::now() < until => {
                tracing::debug!(error = %e, "a bucket's stream does not take writes yet; trying again");
                tokio::time::sleep(SETTLING / 100).await;
            }
            done => return done,
        }
    }
}

/// How long [`settled`] tries a write again.
const SETTLING: Duration = Duration::from_secs(5);

/// True when `error`, or an error it comes from, is a publish that no stream took.
fn no_stream(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(e) = next {
        if e.downcast_ref::<PublishError>().is_some_and(|p| p.kind() == PublishErrorKind::StreamNotFound) {
            return true;
        }
        next = e.source();
    }
    false
}

/// Unique to this holder: the process id, the time, a count.
fn holder_id() -> String {
    static TAKEN: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{}:{nanos}:{}", std::process::id(), TAKEN.fetch_add(1, Ordering::Relaxed))
}
