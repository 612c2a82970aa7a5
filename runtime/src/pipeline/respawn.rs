//! A restartable stage: the factory the user gave and the link ends it is built around, which the orchestrator keeps
//! across the stage's runs so that each fresh instance is reconnected to the same links.

use std::sync::Arc;

use super::error_journal::ErrorRecord;
use super::held::Held;
use super::kept::{KeptInlet, KeptOutlet};
use super::link::{Inlet, Outlet};
use super::stage::PipelineStage;

/// What the orchestrator needs of a restartable stage, whatever its payload types.
pub(crate) trait Respawn: Send {
    /// The next instance, built by the factory around the kept link ends.
    ///
    /// # Errors
    /// A message when a link end is not back from the last instance (it handed its inlet to something that outlived
    /// it) or was closed for good.
    fn build(&mut self) -> Result<PipelineStage, String>;

    /// True once end of stream came through the stage's inlet or went out through its outlet: its work is over.
    fn stream_ended(&self) -> bool;

    /// The events the last instance held when it ended, as error records saying `why`.
    fn take_held(&self, why: &str) -> Vec<ErrorRecord>;

    /// Lets go of the link ends for good, so the neighbours see the links close; the events still queued on the
    /// inlet come back as error records saying `why`. (What the last instance held is settled before, with
    /// [`take_held`](Self::take_held).)
    fn close(&mut self, why: &str) -> Vec<ErrorRecord>;
}

/// One end of a link kept across a stage's runs; `()` where the stage has none (a source's inlet, a sink's outlet).
pub(crate) trait KeptEnd: Send {
    /// What an instance is built with.
    type End;
    /// The end for the next instance.
    fn lend(&self, held: &Arc<Held>) -> Option<Self::End>;
    /// Lets go for good; returns what was still queued.
    fn close(&mut self, why: &str) -> Vec<ErrorRecord>;
}

impl KeptEnd for () {
    type End = ();
    fn lend(&self, _: &Arc<Held>) -> Option<()> {
        Some(())
    }
    fn close(&mut self, _: &str) -> Vec<ErrorRecord> {
        Vec::new()
    }
}

impl<P: Send> KeptEnd for KeptInlet<P> {
    type End = Inlet<P>;
    fn lend(&self, held: &Arc<Held>) -> Option<Inlet<P>> {
        KeptInlet::lend(self, held)
    }
    fn close(&mut self, why: &str) -> Vec<ErrorRecord> {
        KeptInlet::close(self, why)
    }
}

impl<P: Send> KeptEnd for KeptOutlet<P> {
    type End = Outlet<P>;
    fn lend(&self, held: &Arc<Held>) -> Option<Outlet<P>> {
        KeptOutlet::lend(self, held)
    }
    fn close(&mut self, _: &str) -> Vec<ErrorRecord> {
        KeptOutlet::close(self);
        Vec::new()
    }
}

/// A factory with its kept link ends and the ledger of the batch its instance holds.
pub(crate) struct Respawner<I, O, F> {
    input: I,
    output: O,
    held: Arc<Held>,
    make: F,
}

impl<I: KeptEnd, O: KeptEnd, F> Respawner<I, O, F>
where
    F: FnMut(I::End, O::End) -> PipelineStage + Send,
{
    /// `make`, built around `input` and `output` at each run after the first; `held` is the ledger the kept ends
    /// were made with.
    pub(crate) fn new(input: I, output: O, held: Arc<Held>, make: F) -> Self {
        Self { input, output, held, make }
    }
}

impl<I: KeptEnd, O: KeptEnd, F> Respawn for Respawner<I, O, F>
where
    F: FnMut(I::End, O::End) -> PipelineStage + Send,
{
    fn build(&mut self) -> Result<PipelineStage, String> {
        self.held.release();
        let input = self.input.lend(&self.held).ok_or("its inlet is still held by its last instance")?;
        let output = self.output.lend(&self.held).ok_or("its outlet was closed")?;
        Ok((self.make)(input, output))
    }

    fn stream_ended(&self) -> bool {
        self.held.stream_ended()
    }

    fn take_held(&self, why: &str) -> Vec<ErrorRecord> {
        self.held.take(why)
    }

    fn close(&mut self, why: &str) -> Vec<ErrorRecord> {
        let mut records = self.input.close(why);
        records.extend(self.output.close(why));
        records
    }
}
