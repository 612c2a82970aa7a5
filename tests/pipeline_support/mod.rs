//! Test stages for the pipeline tests: a counting source and a relay (transform or sink), hand-written machines
//! that follow the pipeline stage convention of `stagewise::pipeline`.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use stagewise::pipeline::{journal_if_error_async, Batch, ErrorJournal, Inlet, Message, Outlet};
use stagewise::{
    Action, BoxError, ChainEvent, Control, ControlPolicy, Decision, Directive, Ending, EventIds, EventVariant,
    HandlerSupervised, Machine, StageContext, StageId, StateVariant, Supervisor,
};

/// The states every test stage goes through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Idle,
    Running,
    Draining,
    Done,
    Failed,
    Cancelled,
}

impl StateVariant for Phase {
    fn name(&self) -> &'static str {
        match self {
            Phase::Idle => "Idle",
            Phase::Running => "Running",
            Phase::Draining => "Draining",
            Phase::Done => "Done",
            Phase::Failed => "Failed",
            Phase::Cancelled => "Cancelled",
        }
    }

    fn ending(&self) -> Option<Ending> {
        match self {
            Phase::Done => Some(Ending::Completed),
            Phase::Failed => Some(Ending::Failed),
            Phase::Cancelled => Some(Ending::Cancelled),
            _ => None,
        }
    }

    fn control_policy(&self) -> ControlPolicy {
        match self {
            Phase::Idle => ControlPolicy::Block,
            _ => ControlPolicy::Poll,
        }
    }
}

#[derive(Debug)]
pub enum Ev {
    Start,
    Drain,
    Stop,
    Batch(Batch<u64>),
    EndOfStream,
    UpstreamClosed,
    Failure(String),
}

impl EventVariant for Ev {
    fn name(&self) -> &'static str {
        match self {
            Ev::Start => "Start",
            Ev::Drain => "Drain",
            Ev::Stop => "Stop",
            Ev::Batch(_) => "Batch",
            Ev::EndOfStream => "EndOfStream",
            Ev::UpstreamClosed => "UpstreamClosed",
            Ev::Failure(_) => "Failure",
        }
    }
}

/// The transitions both test stages share.
fn decide<A>(state: &Phase, event: Ev, work: impl FnOnce(Batch<u64>) -> A, eos: A) -> Decision<Phase, A> {
    use Phase as S;
    match (state, event) {
        (S::Idle, Ev::Start) => Decision::goto(S::Running),
        (S::Idle | S::Running, Ev::Drain) => Decision::goto(S::Draining),
        (S::Draining, Ev::Drain | Ev::Start) | (S::Running, Ev::Start) => Decision::stay_with([]),
        (S::Running | S::Draining, Ev::Batch(batch)) => Decision::stay_with([work(batch)]),
        (S::Running | S::Draining, Ev::EndOfStream) | (S::Draining, Ev::UpstreamClosed) => {
            Decision::goto_with(S::Done, [eos])
        }
        (S::Idle | S::Running | S::Draining, Ev::Stop) => Decision::goto(S::Cancelled),
        (S::Idle | S::Running | S::Draining, Ev::Failure(_)) => Decision::goto(S::Failed),
        (S::Failed, Ev::Failure(_)) => Decision::stay_with([]),
        _ => Decision::Unhandled,
    }
}

fn control_event(control: Control) -> Option<Ev> {
    match control {
        Control::Start => Some(Ev::Start),
        Control::Drain => Some(Ev::Drain),
        Control::Stop => Some(Ev::Stop),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The counting source.

/// Emits the payloads `0..total` in batches of `batch`; drained, it stops early and still sends end of stream.
pub struct CountSource {
    pub id: StageId,
    pub total: u64,
    pub batch: usize,
}

pub struct SourceCtx {
    out: Outlet<u64>,
    ids: EventIds,
    context: StageContext,
    next: u64,
    total: u64,
}

impl CountSource {
    pub fn stage(id: StageId, total: u64, batch: usize, out: Outlet<u64>) -> stagewise::PipelineStage {
        let ctx =
            SourceCtx { out, ids: EventIds::new(id.into()), context: StageContext::new(id, "count"), next: 0, total };
        stagewise::PipelineStage::new(CountSource { id, total, batch }, Phase::Idle, ctx)
    }
}

pub enum SourceAction {
    Send(Batch<u64>),
    EndOfStream,
}

impl Action<SourceCtx> for SourceAction {
    fn name(&self) -> &'static str {
        match self {
            SourceAction::Send(_) => "Send",
            SourceAction::EndOfStream => "EndOfStream",
        }
    }

    async fn execute(self, ctx: &mut SourceCtx) -> Result<(), BoxError> {
        match self {
            SourceAction::Send(batch) => ctx.out.send(batch).await?,
            SourceAction::EndOfStream => ctx.out.end_of_stream().await?,
        }
        Ok(())
    }
}

impl Machine for CountSource {
    type State = Phase;
    type Event = Ev;
    type Context = SourceCtx;
    type Action = SourceAction;
    type ActionCapacity = stagewise::DefaultCapacity;

    fn transition(state: &Phase, event: Ev, _ctx: &mut SourceCtx) -> Decision<Phase, SourceAction> {
        match (state, event) {
            // A drained source stops reading at once.
            (Phase::Idle | Phase::Running, Ev::Drain) => Decision::goto_with(Phase::Done, [SourceAction::EndOfStream]),
            (state, event) => decide(state, event, SourceAction::Send, SourceAction::EndOfStream),
        }
    }

    fn control_event(control: Control) -> Option<Ev> {
        control_event(control)
    }
}

impl Supervisor for CountSource {
    fn name(&self) -> &'static str {
        "count"
    }
    async fn dispatch_state(&mut self, state: &Phase, ctx: &mut SourceCtx) -> Result<Directive<Ev>, BoxError> {
        match state {
            Phase::Running | Phase::Draining => {
                if ctx.next >= ctx.total {
                    return Ok(Directive::Transition(Ev::EndOfStream));
                }
                let end = (ctx.next + self.batch as u64).min(ctx.total);
                let batch =
                    (ctx.next..end).map(|n| ChainEvent::new(ctx.ids.next_id(), ctx.context.clone(), n)).collect();
                ctx.next = end;
                Ok(Directive::Transition(Ev::Batch(batch)))
            }
            Phase::Idle => Ok(Directive::Continue),
            Phase::Done | Phase::Failed | Phase::Cancelled => Ok(Directive::Terminate),
        }
    }

    fn event_for_action_error(&self, message: String) -> Ev {
        Ev::Failure(message)
    }
}

impl HandlerSupervised for CountSource {
    fn stage_id(&self) -> StageId {
        self.id
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The relay: a transform (with an outlet) or a sink (without).

/// What a relay does to each successful event: a new payload, an error event, or a stage failure.
pub enum Verdict {
    Payload(u64),
    ErrorEvent(&'static str),
    FailStage(&'static str),
}

pub type Work = Box<dyn FnMut(u64) -> Verdict + Send>;

/// What a sink has seen: successful payloads in order, and how many errors it journaled.
#[derive(Debug, Default)]
pub struct Collected {
    pub payloads: Vec<u64>,
    pub errors: u64,
}

pub struct Relay {
    pub id: StageId,
    pub name: &'static str,
}

pub struct RelayCtx {
    inlet: Inlet<u64>,
    outlet: Option<Outlet<u64>>,
    work: Work,
    errors: ErrorJournal,
    collected: Arc<Mutex<Collected>>,
    delay: Option<Duration>,
    end_fails: Option<&'static str>,
    ids: EventIds,
    context: StageContext,
}

/// How to build a relay.
pub struct RelaySpec {
    pub id: StageId,
    pub name: &'static str,
    pub work: Work,
    pub errors: ErrorJournal,
    pub collected: Arc<Mutex<Collected>>,
    /// Slept before each batch, to make a slow stage.
    pub delay: Option<Duration>,
    /// The end of stream's action fails with this (a flush at the end failing) instead of passing it on.
    pub end_fails: Option<&'static str>,
}

impl RelaySpec {
    pub fn new(id: u32, name: &'static str, errors: ErrorJournal) -> Self {
        Self {
            id: StageId(id),
            name,
            work: Box::new(Verdict::Payload),
            errors,
            collected: Arc::default(),
            delay: None,
            end_fails: None,
        }
    }

    pub fn work(mut self, work: impl FnMut(u64) -> Verdict + Send + 'static) -> Self {
        self.work = Box::new(work);
        self
    }

    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    pub fn end_fails(mut self, why: &'static str) -> Self {
        self.end_fails = Some(why);
        self
    }

    pub fn collected(&self) -> Arc<Mutex<Collected>> {
        self.collected.clone()
    }

    pub fn build(self, inlet: Inlet<u64>, outlet: Option<Outlet<u64>>) -> stagewise::PipelineStage {
        let ctx = RelayCtx {
            inlet,
            outlet,
            work: self.work,
            errors: self.errors,
            collected: self.collected,
            delay: self.delay,
            end_fails: self.end_fails,
            ids: EventIds::new(self.id.into()),
            context: StageContext::new(self.id, self.name),
        };
        stagewise::PipelineStage::new(Relay { id: self.id, name: self.name }, Phase::Idle, ctx)
    }
}

pub enum RelayAction {
    Process(Batch<u64>),
    EndOfStream,
}

impl Action<RelayCtx> for RelayAction {
    fn name(&self) -> &'static str {
        match self {
            RelayAction::Process(_) => "Process",
            RelayAction::EndOfStream => "EndOfStream",
        }
    }

    async fn execute(self, ctx: &mut RelayCtx) -> Result<(), BoxError> {
        match self {
            RelayAction::Process(batch) => {
                if let Some(delay) = ctx.delay {
                    tokio::time::sleep(delay).await;
                }
                let mut out = Vec::with_capacity(batch.len());
                for event in batch {
                    if event.is_error() {
                        out.push(event); // passes untouched
                        continue;
                    }
                    match (ctx.work)(event.payload) {
                        Verdict::Payload(p) => out.push(ChainEvent { payload: p, ..event }),
                        Verdict::ErrorEvent(why) => {
                            let failed = ChainEvent::new(ctx.ids.next_id(), ctx.context.clone(), event.payload);
                            out.push(failed.into_error(stagewise::ErrorKind::Validation, why));
                        }
                        Verdict::FailStage(why) => return Err(why.into()),
                    }
                }
                match &ctx.outlet {
                    Some(outlet) => outlet.send(out).await?,
                    None => {
                        // Error events are journaled first, awaited (no lock held across the await), then counted.
                        let mut payloads = Vec::with_capacity(out.len());
                        let mut errors = 0;
                        for event in out {
                            match journal_if_error_async(&*ctx.errors, event).await? {
                                Some(event) => payloads.push(event.payload),
                                None => errors += 1,
                            }
                        }
                        let mut collected = ctx.collected.lock().unwrap();
                        collected.payloads.extend(payloads);
                        collected.errors += errors;
                    }
                }
            }
            RelayAction::EndOfStream => {
                if let Some(why) = ctx.end_fails {
                    return Err(why.into());
                }
                if let Some(outlet) = &ctx.outlet {
                    outlet.end_of_stream().await?;
                }
            }
        }
        Ok(())
    }
}

impl Machine for Relay {
    type State = Phase;
    type Event = Ev;
    type Context = RelayCtx;
    type Action = RelayAction;
    type ActionCapacity = stagewise::DefaultCapacity;

    fn transition(state: &Phase, event: Ev, _ctx: &mut RelayCtx) -> Decision<Phase, RelayAction> {
        decide(state, event, RelayAction::Process, RelayAction::EndOfStream)
    }

    fn control_event(control: Control) -> Option<Ev> {
        control_event(control)
    }
}

impl Supervisor for Relay {
    fn name(&self) -> &'static str {
        self.name
    }
    async fn dispatch_state(&mut self, state: &Phase, ctx: &mut RelayCtx) -> Result<Directive<Ev>, BoxError> {
        match state {
            Phase::Running | Phase::Draining => match ctx.inlet.recv().await {
                Some(Message::Events(batch)) => Ok(Directive::Transition(Ev::Batch(batch))),
                Some(Message::EndOfStream) => Ok(Directive::Transition(Ev::EndOfStream)),
                None if *state == Phase::Draining => Ok(Directive::Transition(Ev::UpstreamClosed)),
                None => Err("upstream closed without end of stream".into()),
            },
            Phase::Idle => Ok(Directive::Continue),
            Phase::Done | Phase::Failed | Phase::Cancelled => Ok(Directive::Terminate),
        }
    }

    fn event_for_action_error(&self, message: String) -> Ev {
        Ev::Failure(message)
    }
}

impl HandlerSupervised for Relay {
    fn stage_id(&self) -> StageId {
        self.id
    }
}
