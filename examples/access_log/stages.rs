//! The three stages of the access-log pipeline, written by hand against the runtime traits (Machine, StateVariant,
//! EventVariant, Supervisor, HandlerSupervised) in the shape the `#[handler_supervised]` macro generates: one state
//! enum per stage says what each state does, how it treats control messages and how a run ending there ends.
//!
//! read (source) --lines--> parse (transform) --hits--> aggregate (sink)
//!
//! Each follows the pipeline stage convention of `stagewise::pipeline`: Idle blocks until Start; Drain makes the
//! source stop and the others finish the stream; end of stream is forwarded only on completion; Stop cancels.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::sync::{Arc, Mutex};

use stagewise::pipeline::{Batch, ErrorJournal, Inlet, Message, Outlet};
use stagewise::{
    Action, BoxError, ChainEvent, Control, ControlPolicy, Decision, Directive, Ending, ErrorKind, EventIds,
    EventVariant, HandlerSupervised, Machine, Stage, StageContext, StageId, StateVariant, Supervisor,
};

use crate::work::{parse_batch, AggregateSummary, Aggregator, Hit};

// =================================================================================================================
// read: the source. Generates the deterministic log, or reads a file, in batches of lines.

/// Where the lines come from.
pub enum Input {
    /// The generated log, lines `next..total`.
    Generated { next: u64, total: u64 },
    /// A file, line by line.
    File(BufReader<File>),
}

impl Input {
    /// The next batch of up to `max` lines; empty at the end of the input.
    pub fn next_batch(
        &mut self,
        max: usize,
        ids: &mut EventIds,
        context: &StageContext,
    ) -> std::io::Result<Batch<String>> {
        let mut batch = Vec::with_capacity(max);
        match self {
            Input::Generated { next, total } => {
                let end = (*next + max as u64).min(*total);
                for index in *next..end {
                    batch.push(ChainEvent::new(ids.next_id(), context.clone(), crate::work::generate_line(index)));
                }
                *next = end;
            }
            Input::File(reader) => {
                while batch.len() < max {
                    let mut bytes = Vec::new();
                    if reader.read_until(b'\n', &mut bytes)? == 0 {
                        break;
                    }
                    while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                        bytes.pop();
                    }
                    let id = ids.next_id();
                    // A line that is not UTF-8 is a malformed record, not a reason to stop reading.
                    batch.push(match String::from_utf8(bytes) {
                        Ok(line) => ChainEvent::new(id, context.clone(), line),
                        Err(e) => {
                            let line = String::from_utf8_lossy(e.as_bytes()).into_owned();
                            let why = format!("line {}: not valid UTF-8", id.seq + 1);
                            ChainEvent::new(id, context.clone(), line).into_error(ErrorKind::Parse, why)
                        }
                    });
                }
            }
        }
        Ok(batch)
    }
}

/// The source stage.
pub struct Read {
    id: StageId,
    batch: usize,
}

/// What the source reads and writes.
pub struct ReadContext {
    input: Input,
    out: Outlet<String>,
    ids: EventIds,
    context: StageContext,
}

/// The source's states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadState {
    Idle,
    Reading,
    Done,
    Failed,
    Cancelled,
}

impl StateVariant for ReadState {
    fn name(&self) -> &'static str {
        match self {
            ReadState::Idle => "Idle",
            ReadState::Reading => "Reading",
            ReadState::Done => "Done",
            ReadState::Failed => "Failed",
            ReadState::Cancelled => "Cancelled",
        }
    }
    fn ending(&self) -> Option<Ending> {
        match self {
            ReadState::Done => Some(Ending::Completed),
            ReadState::Failed => Some(Ending::Failed),
            ReadState::Cancelled => Some(Ending::Cancelled),
            ReadState::Idle | ReadState::Reading => None,
        }
    }
    fn control_policy(&self) -> ControlPolicy {
        match self {
            ReadState::Idle => ControlPolicy::Block,
            _ => ControlPolicy::Poll,
        }
    }
}

/// The source's events.
#[derive(Debug)]
pub enum ReadEvent {
    Start,
    Read(Batch<String>),
    Exhausted,
    Drain,
    Stop,
    Failure(String),
}

impl EventVariant for ReadEvent {
    fn name(&self) -> &'static str {
        match self {
            ReadEvent::Start => "Start",
            ReadEvent::Read(_) => "Read",
            ReadEvent::Exhausted => "Exhausted",
            ReadEvent::Drain => "Drain",
            ReadEvent::Stop => "Stop",
            ReadEvent::Failure(_) => "Failure",
        }
    }
}

/// The source's effects.
pub enum ReadAction {
    Send(Batch<String>),
    EndOfStream,
    Report(String),
}

impl Action<ReadContext> for ReadAction {
    fn name(&self) -> &'static str {
        match self {
            ReadAction::Send(_) => "Send",
            ReadAction::EndOfStream => "EndOfStream",
            ReadAction::Report(_) => "Report",
        }
    }
    async fn execute(self, ctx: &mut ReadContext) -> Result<(), BoxError> {
        match self {
            ReadAction::Send(batch) => ctx.out.send(batch).await?,
            ReadAction::EndOfStream => ctx.out.end_of_stream().await?,
            ReadAction::Report(why) => report("read", &why),
        }
        Ok(())
    }
}

impl Machine for Read {
    type State = ReadState;
    type Event = ReadEvent;
    type Context = ReadContext;
    type Action = ReadAction;

    fn transition(state: &ReadState, event: ReadEvent, _ctx: &mut ReadContext) -> Decision<ReadState, ReadAction> {
        use ReadEvent as E;
        use ReadState as S;
        match (state, event) {
            (S::Idle, E::Start) => Decision::goto(S::Reading),
            (S::Reading, E::Read(batch)) => Decision::stay_with([ReadAction::Send(batch)]),
            (S::Reading, E::Exhausted) | (S::Idle | S::Reading, E::Drain) => {
                Decision::goto_with(S::Done, [ReadAction::EndOfStream])
            }
            (S::Reading, E::Start) => Decision::stay_with([]),
            (S::Idle | S::Reading, E::Stop) => Decision::goto(S::Cancelled),
            (S::Idle | S::Reading, E::Failure(why)) => Decision::goto_with(S::Failed, [ReadAction::Report(why)]),
            (S::Failed, E::Failure(_)) => Decision::stay_with([]),
            _ => Decision::Unhandled,
        }
    }

    fn control_event(control: Control) -> Option<ReadEvent> {
        Some(match control {
            Control::Start => ReadEvent::Start,
            Control::Drain => ReadEvent::Drain,
            Control::Stop => ReadEvent::Stop,
        })
    }
}

impl Supervisor for Read {
    fn name(&self) -> &'static str {
        "read"
    }
}

impl HandlerSupervised for Read {
    async fn dispatch_state(
        &mut self,
        state: &ReadState,
        ctx: &mut ReadContext,
    ) -> Result<Directive<ReadEvent>, BoxError> {
        Ok(match state {
            ReadState::Idle => Directive::Continue, // blocks on control; never dispatched
            ReadState::Reading => {
                let batch = ctx.input.next_batch(self.batch, &mut ctx.ids, &ctx.context)?;
                if batch.is_empty() {
                    Directive::Transition(ReadEvent::Exhausted)
                } else {
                    Directive::Transition(ReadEvent::Read(batch))
                }
            }
            ReadState::Done | ReadState::Failed | ReadState::Cancelled => Directive::Terminate,
        })
    }
    fn stage_id(&self) -> StageId {
        self.id
    }
    fn event_for_action_error(&self, message: String) -> ReadEvent {
        ReadEvent::Failure(message)
    }
}

/// The source stage, ready for a pipeline.
pub fn read(id: StageId, input: Input, batch: usize, out: Outlet<String>) -> Stage {
    let ctx = ReadContext { input, out, ids: EventIds::new(id.into()), context: StageContext::new(id, "read") };
    Stage::new(Read { id, batch }, ReadState::Idle, ctx)
}

// =================================================================================================================
// parse: lines to hits; malformed lines become error events.

/// The parse stage.
pub struct Parse {
    id: StageId,
}

/// What the parse stage reads and writes.
pub struct ParseContext {
    inlet: Inlet<String>,
    out: Outlet<Hit>,
    ids: EventIds,
    context: StageContext,
}

/// The states of a stage that consumes a stream: parse and aggregate share their shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamState {
    Idle,
    Running,
    Draining,
    Done,
    Failed,
    Cancelled,
}

impl StateVariant for StreamState {
    fn name(&self) -> &'static str {
        match self {
            StreamState::Idle => "Idle",
            StreamState::Running => "Running",
            StreamState::Draining => "Draining",
            StreamState::Done => "Done",
            StreamState::Failed => "Failed",
            StreamState::Cancelled => "Cancelled",
        }
    }
    fn ending(&self) -> Option<Ending> {
        match self {
            StreamState::Done => Some(Ending::Completed),
            StreamState::Failed => Some(Ending::Failed),
            StreamState::Cancelled => Some(Ending::Cancelled),
            _ => None,
        }
    }
    fn control_policy(&self) -> ControlPolicy {
        match self {
            StreamState::Idle => ControlPolicy::Block,
            _ => ControlPolicy::Poll,
        }
    }
}

/// The events of a stage that consumes a stream of `P`.
#[derive(Debug)]
pub enum StreamEvent<P> {
    Start,
    Batch(Batch<P>),
    EndOfStream,
    UpstreamClosed,
    Drain,
    Stop,
    Failure(String),
}

impl<P> EventVariant for StreamEvent<P> {
    fn name(&self) -> &'static str {
        match self {
            StreamEvent::Start => "Start",
            StreamEvent::Batch(_) => "Batch",
            StreamEvent::EndOfStream => "EndOfStream",
            StreamEvent::UpstreamClosed => "UpstreamClosed",
            StreamEvent::Drain => "Drain",
            StreamEvent::Stop => "Stop",
            StreamEvent::Failure(_) => "Failure",
        }
    }
}

/// The failure action of every stage: say so on stderr (the lifecycle record holds the same message).
fn report(stage: &str, why: &str) {
    eprintln!("stage {stage} failed: {why}");
}

/// The transitions of a stream consumer: `work` for a batch, `finish` on the way to Done, `report` on the way to
/// Failed.
fn consume<P, A>(
    state: &StreamState,
    event: StreamEvent<P>,
    work: impl FnOnce(Batch<P>) -> A,
    finish: A,
    report: impl FnOnce(String) -> A,
) -> Decision<StreamState, A> {
    use StreamEvent as E;
    use StreamState as S;
    match (state, event) {
        (S::Idle, E::Start) => Decision::goto(S::Running),
        (S::Idle | S::Running, E::Drain) => Decision::goto(S::Draining),
        (S::Running, E::Start) | (S::Draining, E::Start | E::Drain) => Decision::stay_with([]),
        (S::Running | S::Draining, E::Batch(batch)) => Decision::stay_with([work(batch)]),
        (S::Running | S::Draining, E::EndOfStream) | (S::Draining, E::UpstreamClosed) => {
            Decision::goto_with(S::Done, [finish])
        }
        (S::Idle | S::Running | S::Draining, E::Stop) => Decision::goto(S::Cancelled),
        (S::Idle | S::Running | S::Draining, E::Failure(why)) => Decision::goto_with(S::Failed, [report(why)]),
        (S::Failed, E::Failure(_)) => Decision::stay_with([]),
        _ => Decision::Unhandled,
    }
}

fn stream_control<P>(control: Control) -> Option<StreamEvent<P>> {
    Some(match control {
        Control::Start => StreamEvent::Start,
        Control::Drain => StreamEvent::Drain,
        Control::Stop => StreamEvent::Stop,
    })
}

/// What a stream consumer does in `state`: wait for its next message.
async fn next_message<P>(state: &StreamState, inlet: &mut Inlet<P>) -> Result<Directive<StreamEvent<P>>, BoxError> {
    Ok(match state {
        StreamState::Idle => Directive::Continue, // blocks on control; never dispatched
        StreamState::Running | StreamState::Draining => match inlet.recv().await {
            Some(Message::Events(batch)) => Directive::Transition(StreamEvent::Batch(batch)),
            Some(Message::EndOfStream) => Directive::Transition(StreamEvent::EndOfStream),
            None if *state == StreamState::Draining => Directive::Transition(StreamEvent::UpstreamClosed),
            None => return Err("upstream closed without end of stream".into()),
        },
        StreamState::Done | StreamState::Failed | StreamState::Cancelled => Directive::Terminate,
    })
}

/// The parse stage's effects.
pub enum ParseAction {
    Parse(Batch<String>),
    EndOfStream,
    Report(String),
}

impl Action<ParseContext> for ParseAction {
    fn name(&self) -> &'static str {
        match self {
            ParseAction::Parse(_) => "Parse",
            ParseAction::EndOfStream => "EndOfStream",
            ParseAction::Report(_) => "Report",
        }
    }
    async fn execute(self, ctx: &mut ParseContext) -> Result<(), BoxError> {
        match self {
            ParseAction::Parse(lines) => ctx.out.send(parse_batch(lines, &mut ctx.ids, &ctx.context)).await?,
            ParseAction::EndOfStream => ctx.out.end_of_stream().await?,
            ParseAction::Report(why) => report("parse", &why),
        }
        Ok(())
    }
}

impl Machine for Parse {
    type State = StreamState;
    type Event = StreamEvent<String>;
    type Context = ParseContext;
    type Action = ParseAction;

    fn transition(
        state: &StreamState,
        event: StreamEvent<String>,
        _ctx: &mut ParseContext,
    ) -> Decision<StreamState, ParseAction> {
        consume(state, event, ParseAction::Parse, ParseAction::EndOfStream, ParseAction::Report)
    }

    fn control_event(control: Control) -> Option<StreamEvent<String>> {
        stream_control(control)
    }
}

impl Supervisor for Parse {
    fn name(&self) -> &'static str {
        "parse"
    }
}

impl HandlerSupervised for Parse {
    async fn dispatch_state(
        &mut self,
        state: &StreamState,
        ctx: &mut ParseContext,
    ) -> Result<Directive<StreamEvent<String>>, BoxError> {
        next_message(state, &mut ctx.inlet).await
    }
    fn stage_id(&self) -> StageId {
        self.id
    }
    fn event_for_action_error(&self, message: String) -> StreamEvent<String> {
        StreamEvent::Failure(message)
    }
}

/// The parse stage, ready for a pipeline.
pub fn parse(id: StageId, inlet: Inlet<String>, out: Outlet<Hit>) -> Stage {
    let ctx = ParseContext { inlet, out, ids: EventIds::new(id.into()), context: StageContext::new(id, "parse") };
    Stage::new(Parse { id }, StreamState::Idle, ctx)
}

// =================================================================================================================
// aggregate: the sink. Counts per (minute, status, path), writes closed minutes out, journals error events.

/// The aggregate stage.
pub struct Aggregate {
    id: StageId,
}

/// What the aggregate stage reads and writes.
pub struct AggregateContext {
    inlet: Inlet<Hit>,
    aggregator: Aggregator,
    errors: ErrorJournal,
    summary: Arc<Mutex<Option<AggregateSummary>>>,
}

/// The aggregate stage's effects.
pub enum AggregateAction {
    Aggregate(Batch<Hit>),
    Finish,
    Report(String),
}

impl Action<AggregateContext> for AggregateAction {
    fn name(&self) -> &'static str {
        match self {
            AggregateAction::Aggregate(_) => "Aggregate",
            AggregateAction::Finish => "Finish",
            AggregateAction::Report(_) => "Report",
        }
    }
    async fn execute(self, ctx: &mut AggregateContext) -> Result<(), BoxError> {
        match self {
            AggregateAction::Aggregate(batch) => ctx.aggregator.add_batch(batch, &*ctx.errors)?,
            AggregateAction::Finish => {
                let summary = ctx.aggregator.finish()?;
                *ctx.summary.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(summary);
            }
            AggregateAction::Report(why) => report("aggregate", &why),
        }
        Ok(())
    }
}

impl Machine for Aggregate {
    type State = StreamState;
    type Event = StreamEvent<Hit>;
    type Context = AggregateContext;
    type Action = AggregateAction;

    fn transition(
        state: &StreamState,
        event: StreamEvent<Hit>,
        _ctx: &mut AggregateContext,
    ) -> Decision<StreamState, AggregateAction> {
        consume(state, event, AggregateAction::Aggregate, AggregateAction::Finish, AggregateAction::Report)
    }

    fn control_event(control: Control) -> Option<StreamEvent<Hit>> {
        stream_control(control)
    }
}

impl Supervisor for Aggregate {
    fn name(&self) -> &'static str {
        "aggregate"
    }
}

impl HandlerSupervised for Aggregate {
    async fn dispatch_state(
        &mut self,
        state: &StreamState,
        ctx: &mut AggregateContext,
    ) -> Result<Directive<StreamEvent<Hit>>, BoxError> {
        next_message(state, &mut ctx.inlet).await
    }
    fn stage_id(&self) -> StageId {
        self.id
    }
    fn event_for_action_error(&self, message: String) -> StreamEvent<Hit> {
        StreamEvent::Failure(message)
    }
}

/// The aggregate stage, ready for a pipeline; `summary` receives what it saw once the stream is complete.
pub fn aggregate(
    id: StageId,
    inlet: Inlet<Hit>,
    aggregator: Aggregator,
    errors: ErrorJournal,
    summary: Arc<Mutex<Option<AggregateSummary>>>,
) -> Stage {
    Stage::new(Aggregate { id }, StreamState::Idle, AggregateContext { inlet, aggregator, errors, summary })
}
