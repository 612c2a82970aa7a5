//! Opening durable links: [`DurableLinks`] keeps one journal folder per producing stage under a pipeline's folder,
//! and [`DurableLink`] hands out the ends of one link (an outlet, and inlets from a position for replay).

use std::any::Any;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::inlet::{DurableInlet, Start};
use super::log::{FileLog, LinkLog, LogFuture};
use super::outlet::DurableOutlet;
use super::record::LinkRecord;
use super::retention::Retention;
use super::shared::{LinkPolicy, LinkShared};
use crate::journal::{JournalError, JournalOptions};
use crate::pipeline::link::{Inlet, LinkStats, Outlet};

/// What a durable link can carry: payloads serde can store.
pub trait Payload: Serialize + DeserializeOwned + Send + Sync + 'static {}

impl<P: Serialize + DeserializeOwned + Send + Sync + 'static> Payload for P {}

/// The durable links of one pipeline: the output of the stage at index `i` (source = 0) goes to a journal in
/// `folder/stage-i`. Cloning shares the links opened so far.
///
/// ```
/// use stagewise_runtime::event::{ChainEvent, EventIds, StageContext, StageId};
/// use stagewise_runtime::journal::JournalOptions;
/// use stagewise_runtime::pipeline::durable::{DurableLinks, LinkPolicy};
/// use stagewise_runtime::pipeline::Message;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let folder = tempfile::tempdir().unwrap();
/// let links = DurableLinks::new(folder.path(), JournalOptions::default(), LinkPolicy::default());
/// let link = links.open::<u32>(0).unwrap(); // the source's output, in `stage-0`
/// let mut ids = EventIds::new(StageId(1).into());
/// let context = StageContext::new(StageId(1), "read");
/// link.outlet().send(vec![ChainEvent::new(ids.next_id(), context, 7)]).await.unwrap();
/// assert_eq!(link.len(), 1);
/// // Replayed from the start, as a stage restarted after a crash reads it.
/// let Some(Message::Events(batch)) = link.replay_from(0).recv().await else { panic!("a batch") };
/// assert_eq!(batch[0].payload, 7);
/// assert!(links.folder(0).ends_with("stage-0"));
/// # }
/// ```
#[derive(Clone)]
pub struct DurableLinks {
    inner: Arc<Inner>,
}

struct Inner {
    folder: PathBuf,
    journal: JournalOptions,
    policy: LinkPolicy,
    opened: Mutex<Vec<(usize, Box<dyn Any + Send + Sync>)>>,
}

impl std::fmt::Debug for DurableLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DurableLinks")
            .field("folder", &self.inner.folder)
            .field("journal", &self.inner.journal)
            .field("policy", &self.inner.policy)
            .finish_non_exhaustive()
    }
}

impl DurableLinks {
    /// Links under `folder`, each a file journal opened with `journal`, behaving as `policy` says.
    pub fn new(folder: impl Into<PathBuf>, journal: JournalOptions, policy: LinkPolicy) -> Self {
        Self { inner: Arc::new(Inner { folder: folder.into(), journal, policy, opened: Mutex::new(Vec::new()) }) }
    }

    /// The folder of the link the stage at `index` writes.
    pub fn folder(&self, index: usize) -> PathBuf {
        stage_folder(&self.inner.folder, index)
    }

    /// The link the stage at `index` writes, opened on first use (recovering its journal) and shared after.
    ///
    /// # Errors
    /// When the journal cannot be opened; or the link was opened before for another payload type.
    pub fn open<P: Payload>(&self, index: usize) -> Result<DurableLink<P>, JournalError> {
        let mut opened = self.inner.opened.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, link)) = opened.iter().find(|(i, _)| *i == index) {
            return link.downcast_ref::<DurableLink<P>>().cloned().ok_or_else(|| {
                JournalError::Unusable(format!("the link of stage {index} was opened for another payload type"))
            });
        }
        let log = FileLog::open(self.folder(index), self.inner.journal)?;
        let link = DurableLink::new(Arc::new(log), self.inner.policy);
        opened.push((index, Box::new(link.clone())));
        Ok(link)
    }

    /// As [`open`](Self::open), but a link that cannot be opened is one whose every use fails with the reason, so
    /// the stages using it fail with it.
    pub(crate) fn open_or_failing<P: Payload>(&self, index: usize) -> DurableLink<P> {
        self.open(index).unwrap_or_else(|e| {
            let why = format!("the durable link in {} cannot be opened: {e}", self.folder(index).display());
            DurableLink::new(Arc::new(Unopened(why)), self.inner.policy)
        })
    }
}

/// The folder of the link stage `index` writes, under a pipeline's `folder`.
pub fn stage_folder(folder: &Path, index: usize) -> PathBuf {
    folder.join(format!("stage-{index}"))
}

/// One durable link: its outlet (one producer), and inlets reading from any position.
pub struct DurableLink<P> {
    shared: Arc<LinkShared<P>>,
}

impl<P> Clone for DurableLink<P> {
    fn clone(&self) -> Self {
        Self { shared: self.shared.clone() }
    }
}

impl<P> std::fmt::Debug for DurableLink<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DurableLink").field("shared", &self.shared).finish()
    }
}

impl<P: Send + 'static> DurableLink<P> {
    /// A link on `log`.
    pub fn new(log: Arc<dyn LinkLog<P>>, policy: LinkPolicy) -> Self {
        Self { shared: LinkShared::new(log, policy) }
    }

    /// The producing end, for the one stage that writes the link.
    pub fn outlet(&self) -> Outlet<P> {
        Outlet::durable(Arc::new(self.outlet_core()))
    }

    pub(crate) fn outlet_core(&self) -> DurableOutlet<P> {
        DurableOutlet::new(self.shared.clone())
    }

    /// A consuming end reading from `position` on (0 replays the whole link) and following the tail. It counts for
    /// backpressure and retention while it lives; [`Inlet::commit`] says what it has durably done.
    pub fn inlet_from(&self, position: u64, stats: Arc<LinkStats>) -> Inlet<P> {
        Inlet::durable(DurableInlet::new(self.shared.clone(), Start::At(position)), stats)
    }

    /// A consuming end for a stage attached while nothing writes the link any more: it ends where the link ends.
    pub fn replay_from(&self, position: u64) -> Inlet<P> {
        self.shared.producer_gone();
        self.inlet_from(position, Arc::default())
    }

    /// Records in the link.
    pub fn len(&self) -> u64 {
        self.shared.len()
    }

    /// True when the link holds no record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Position of the first record still held.
    pub fn first(&self) -> u64 {
        self.shared.log.first()
    }

    /// The store underneath.
    pub fn log(&self) -> &Arc<dyn LinkLog<P>> {
        &self.shared.log
    }
}

/// A link whose journal could not be opened: every use fails with why.
struct Unopened(String);

impl Unopened {
    fn fail<T: Send + 'static>(&self) -> LogFuture<'_, T> {
        let why = self.0.clone();
        Box::pin(async move { Err(JournalError::Unusable(why)) })
    }
}

impl<P: Send + 'static> LinkLog<P> for Unopened {
    fn append(&self, _: LinkRecord<P>) -> LogFuture<'_, u64> {
        self.fail()
    }
    fn read(&self, _: u64, _: usize) -> LogFuture<'_, Vec<LinkRecord<P>>> {
        self.fail()
    }
    fn len(&self) -> u64 {
        0
    }
    fn first(&self) -> u64 {
        0
    }
    fn retain(&self, _: u64, _: Retention) -> LogFuture<'_, usize> {
        self.fail()
    }
}
