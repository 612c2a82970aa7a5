//! Support for the restart tests: a scripted source written with `#[handler_supervised]` (a macro-written stage,
//! restartable without any change to its type), whose every instance follows the next plan of a shared script, and
//! helpers to read what a pipeline journaled.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use stagewise::pipeline::{Batch, ErrorJournal, ErrorRecord, Outlet, Pipeline, PipelineBuilder};
use stagewise::{
    Action, BoxError, ChainEvent, Directive, ErrorKind, EventIds, EventVariant, Lifecycle, LifecycleRecord,
    MemoryJournal, StageContext, StageId, VariantName,
};

/// The lifecycle and error journals of one test's pipeline, and a builder writing to them.
pub struct Journals {
    pub lifecycle: Arc<MemoryJournal<LifecycleRecord>>,
    pub errors: Arc<MemoryJournal<ErrorRecord>>,
}

impl Journals {
    pub fn new() -> Self {
        Self { lifecycle: Arc::new(MemoryJournal::new()), errors: Arc::new(MemoryJournal::new()) }
    }
    pub fn errors(&self) -> ErrorJournal {
        self.errors.clone()
    }
    /// A pipeline called `name` with links of 2 batches, journaling to these journals.
    pub fn builder(&self, name: &'static str) -> PipelineBuilder {
        Pipeline::builder(name).capacity(2).journal(self.lifecycle.clone()).errors(self.errors())
    }
    pub fn stage_failed(&self) -> Vec<ErrorRecord> {
        self.errors.records().into_iter().filter(|r| r.kind == ErrorKind::StageFailed).collect()
    }
}

/// How one instance of the scripted source runs: it sends `emit` (one batch), then ends as `end` says.
#[derive(Clone, Debug)]
pub struct Plan {
    pub emit: Vec<u64>,
    pub end: End,
}

/// How an instance ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// Completes after sending end of stream: the stream is over.
    Finish,
    /// Completes without sending end of stream (a source that will be restarted to go on).
    Complete,
    /// Fails.
    Fail,
    /// Ends Cancelled on its own.
    Cancel,
}

/// A script shared by every instance; an instance with no plan left finishes at once.
pub type Script = Arc<Mutex<VecDeque<Plan>>>;

pub fn script(plans: impl IntoIterator<Item = Plan>) -> Script {
    Arc::new(Mutex::new(plans.into_iter().collect()))
}

#[stagewise::handler_supervised(
    stage = Scripted, event = ScriptEvent, action = ScriptAction, context = ScriptCtx,
    failure = ScriptEvent::Failure,
    control(start = ScriptEvent::Start, drain = ScriptEvent::Drain, stop = ScriptEvent::Stop),
)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScriptState {
    #[initial]
    #[timeout(secs = 60, event = ScriptEvent::Stop)]
    #[on(ScriptEvent::Start => Emitting)]
    #[on(ScriptEvent::Drain => Done, actions = [ScriptAction::EndOfStream])]
    #[on(ScriptEvent::Stop => Cancelled)]
    Idle,
    #[dispatch(Scripted::next)]
    #[on(ScriptEvent::Emit(batch) => stay, actions = [ScriptAction::Send(batch)])]
    #[on(ScriptEvent::Complete => Done)]
    #[on(ScriptEvent::Finish | ScriptEvent::Drain => Done, actions = [ScriptAction::EndOfStream])]
    #[on(ScriptEvent::Cancel | ScriptEvent::Stop => Cancelled)]
    #[on(ScriptEvent::Start => stay)]
    Emitting,
    #[terminal]
    Done,
    #[failed]
    Failed(String),
    #[terminal(cancelled)]
    Cancelled,
}

#[derive(stagewise::Stage)]
pub struct Scripted {
    id: StageId,
}

pub struct ScriptCtx {
    plan: Option<Plan>,
    sent: bool,
    out: Outlet<u64>,
    ids: Arc<Mutex<EventIds>>,
    context: StageContext,
}

impl Scripted {
    async fn next(&mut self, ctx: &mut ScriptCtx) -> Result<Directive<ScriptEvent>, BoxError> {
        let Some(plan) = &ctx.plan else { return Ok(Directive::Transition(ScriptEvent::Finish)) };
        if !ctx.sent {
            ctx.sent = true;
            let mut ids = ctx.ids.lock().unwrap();
            let batch = plan.emit.iter().map(|&p| ChainEvent::new(ids.next_id(), ctx.context.clone(), p)).collect();
            return Ok(Directive::Transition(ScriptEvent::Emit(batch)));
        }
        Ok(Directive::Transition(match plan.end {
            End::Finish => ScriptEvent::Finish,
            End::Complete => ScriptEvent::Complete,
            End::Fail => return Err("scripted failure".into()),
            End::Cancel => ScriptEvent::Cancel,
        }))
    }
}

#[derive(Debug, EventVariant)]
pub enum ScriptEvent {
    Start,
    Emit(Batch<u64>),
    Complete,
    Finish,
    Cancel,
    Drain,
    Stop,
    Failure(String),
}

#[derive(VariantName)]
pub enum ScriptAction {
    Send(Batch<u64>),
    EndOfStream,
}

impl Action<ScriptCtx> for ScriptAction {
    fn name(&self) -> &'static str {
        self.variant_name()
    }
    async fn execute(self, ctx: &mut ScriptCtx) -> Result<(), BoxError> {
        match self {
            ScriptAction::Send(batch) => ctx.out.send(batch).await?,
            ScriptAction::EndOfStream => ctx.out.end_of_stream().await?,
        }
        Ok(())
    }
}

/// A factory of scripted source instances: each takes the next plan; event ids go on across instances.
pub fn scripted(
    id: u32,
    script: Script,
) -> impl FnMut(Outlet<u64>) -> stagewise::pipeline::PipelineStage + Send + 'static {
    let ids = Arc::new(Mutex::new(EventIds::new(StageId(id).into())));
    move |out| {
        let (stage, ctx) = parts(id, &script, out, ids.clone());
        stagewise::pipeline::PipelineStage::new(stage, ScriptState::INITIAL, ctx)
    }
}

/// True once the instance sent its batch (what the test kit's `with_context` reads).
pub fn has_sent(ctx: &mut ScriptCtx) -> bool {
    ctx.sent
}

/// One scripted source and its context, taking the next plan of `script`.
pub fn scripted_parts(id: u32, script: Script, out: Outlet<u64>) -> (Scripted, ScriptCtx) {
    parts(id, &script, out, Arc::new(Mutex::new(EventIds::new(StageId(id).into()))))
}

fn parts(id: u32, script: &Script, out: Outlet<u64>, ids: Arc<Mutex<EventIds>>) -> (Scripted, ScriptCtx) {
    let plan = script.lock().unwrap().pop_front();
    let context = StageContext::new(StageId(id), "scripted");
    (Scripted { id: StageId(id) }, ScriptCtx { plan, sent: false, out, ids, context })
}

/// The records of `journal` about the stage called `name`.
pub fn records_of(journal: &MemoryJournal<LifecycleRecord>, name: &str) -> Vec<LifecycleRecord> {
    journal.records().into_iter().filter(|r| r.supervisor == name).collect()
}

/// How many runs of `name` started.
pub fn starts(journal: &MemoryJournal<LifecycleRecord>, name: &str) -> usize {
    records_of(journal, name).iter().filter(|r| r.lifecycle == Lifecycle::Started).count()
}

/// The delays of the restart decisions about `name`, in order.
pub fn restart_delays(journal: &MemoryJournal<LifecycleRecord>, name: &str) -> Vec<Duration> {
    records_of(journal, name)
        .into_iter()
        .filter_map(|r| match r.lifecycle {
            Lifecycle::Restarting { delay, .. } => Some(delay),
            _ => None,
        })
        .collect()
}

/// The restart decisions journaled, in order: (stage, attempt, cause).
pub fn restart_decisions(journal: &MemoryJournal<LifecycleRecord>) -> Vec<(String, u32, String)> {
    journal
        .records()
        .into_iter()
        .filter_map(|r| match r.lifecycle {
            Lifecycle::Restarting { attempt, cause, .. } => Some((r.supervisor.into_owned(), attempt, cause)),
            _ => None,
        })
        .collect()
}
