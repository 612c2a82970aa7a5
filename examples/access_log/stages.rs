//! The three stages of the access-log pipeline, each one state enum annotated with `#[handler_supervised]`: the
//! enum says what each state does, which events move it where with which actions, how it treats control messages and
//! how a run ending there ends; the macro writes the supervisor (Machine, Supervisor, HandlerSupervised).
//!
//! read (source) --lines--> parse (transform) --hits--> aggregate (sink)
//!
//! Each follows the pipeline stage convention of `stagewise::pipeline`: Idle blocks until Start; Drain makes the
//! source stop and the others finish the stream; end of stream is forwarded only on completion; Stop cancels; any
//! error takes the stage to Failed, reporting it on stderr.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::sync::{Arc, Mutex};

use stagewise::pipeline::{Batch, ErrorJournal, Inlet, Message, Outlet};
use stagewise::{
    Action, BoxError, ChainEvent, Directive, ErrorKind, EventIds, EventVariant, Stage, StageContext, StageId,
    VariantName,
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

/// The source's states.
#[stagewise::handler_supervised(
    stage = Read, event = ReadEvent, action = ReadAction, context = ReadContext,
    failure = ReadEvent::Failure,
    on_failure = [ReadAction::Report(message)],
    control(start = ReadEvent::Start, drain = ReadEvent::Drain, stop = ReadEvent::Stop),
)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadState {
    #[initial]
    #[on(ReadEvent::Start => Reading)]
    #[on(ReadEvent::Drain => Done, actions = [ReadAction::EndOfStream])]
    #[on(ReadEvent::Stop => Cancelled)]
    Idle,
    #[dispatch(Read::next_batch)]
    #[on(ReadEvent::Read(batch) => stay, actions = [ReadAction::Send(batch)])]
    #[on(ReadEvent::Exhausted | ReadEvent::Drain => Done, actions = [ReadAction::EndOfStream])]
    #[on(ReadEvent::Start => stay)]
    #[on(ReadEvent::Stop => Cancelled)]
    Reading,
    #[terminal]
    Done,
    #[failed]
    Failed(String),
    #[terminal(cancelled)]
    Cancelled,
}

/// The source stage.
#[derive(Stage)]
pub struct Read {
    id: StageId,
    batch: usize,
}

impl Read {
    /// The next batch of lines, or `Exhausted` at the end of the input.
    async fn next_batch(&mut self, ctx: &mut ReadContext) -> Result<Directive<ReadEvent>, BoxError> {
        let batch = ctx.input.next_batch(self.batch, &mut ctx.ids, &ctx.context)?;
        Ok(Directive::Transition(if batch.is_empty() { ReadEvent::Exhausted } else { ReadEvent::Read(batch) }))
    }
}

/// What the source reads and writes.
pub struct ReadContext {
    input: Input,
    out: Outlet<String>,
    ids: EventIds,
    context: StageContext,
}

/// The source's events.
#[derive(Debug, EventVariant)]
pub enum ReadEvent {
    Start,
    Read(Batch<String>),
    Exhausted,
    Drain,
    Stop,
    Failure(String),
}

/// The source's effects.
#[derive(VariantName)]
pub enum ReadAction {
    Send(Batch<String>),
    EndOfStream,
    Report(String),
}

impl Action<ReadContext> for ReadAction {
    fn name(&self) -> &'static str {
        self.variant_name()
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

/// The source stage, ready for a pipeline.
pub fn read(id: StageId, input: Input, batch: usize, out: Outlet<String>) -> Stage {
    let ctx = ReadContext { input, out, ids: EventIds::new(id.into()), context: StageContext::new(id, "read") };
    Stage::new(Read { id, batch }, ReadState::INITIAL, ctx)
}

// =================================================================================================================
// parse and aggregate consume a stream: the same events, the same shape of states (one enum each).

/// The events of a stage that consumes a stream of `P`.
#[derive(Debug, EventVariant)]
pub enum StreamEvent<P> {
    Start,
    Batch(Batch<P>),
    EndOfStream,
    UpstreamClosed,
    Drain,
    Stop,
    Failure(String),
}

/// The next message on `inlet`. A closed inlet is the end of the stream while draining (the stage before was
/// stopped), and otherwise an error: the stage before failed.
async fn next_message<P>(inlet: &mut Inlet<P>, draining: bool) -> Result<Directive<StreamEvent<P>>, BoxError> {
    Ok(Directive::Transition(match inlet.recv().await {
        Some(Message::Events(batch)) => StreamEvent::Batch(batch),
        Some(Message::EndOfStream) => StreamEvent::EndOfStream,
        None if draining => StreamEvent::UpstreamClosed,
        None => return Err("upstream closed without end of stream".into()),
    }))
}

/// The failure action of every stage: say so on stderr (the lifecycle record holds the same message).
fn report(stage: &str, why: &str) {
    eprintln!("stage {stage} failed: {why}");
}

// =================================================================================================================
// parse: lines to hits; malformed lines become error events.

/// The parse stage's states.
#[stagewise::handler_supervised(
    stage = Parse, event = StreamEvent<String>, action = ParseAction, context = ParseContext,
    failure = StreamEvent::Failure,
    on_failure = [ParseAction::Report(message)],
    control(start = StreamEvent::Start, drain = StreamEvent::Drain, stop = StreamEvent::Stop),
)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseState {
    #[initial]
    #[on(StreamEvent::Start => Running)]
    #[on(StreamEvent::Drain => Draining)]
    #[on(StreamEvent::Stop => Cancelled)]
    Idle,
    #[dispatch(Parse::next)]
    #[on(StreamEvent::Batch(lines) => stay, actions = [ParseAction::Parse(lines)])]
    #[on(StreamEvent::EndOfStream => Done, actions = [ParseAction::EndOfStream])]
    #[on(StreamEvent::Drain => Draining)]
    #[on(StreamEvent::Start => stay)]
    #[on(StreamEvent::Stop => Cancelled)]
    Running,
    #[dispatch(Parse::next_draining)]
    #[on(StreamEvent::Batch(lines) => stay, actions = [ParseAction::Parse(lines)])]
    #[on(StreamEvent::EndOfStream | StreamEvent::UpstreamClosed => Done, actions = [ParseAction::EndOfStream])]
    #[on(StreamEvent::Start | StreamEvent::Drain => stay)]
    #[on(StreamEvent::Stop => Cancelled)]
    Draining,
    #[terminal]
    Done,
    #[failed]
    Failed(String),
    #[terminal(cancelled)]
    Cancelled,
}

/// The parse stage.
#[derive(Stage)]
pub struct Parse {
    id: StageId,
}

impl Parse {
    async fn next(&mut self, ctx: &mut ParseContext) -> Result<Directive<StreamEvent<String>>, BoxError> {
        next_message(&mut ctx.inlet, false).await
    }
    async fn next_draining(&mut self, ctx: &mut ParseContext) -> Result<Directive<StreamEvent<String>>, BoxError> {
        next_message(&mut ctx.inlet, true).await
    }
}

/// What the parse stage reads and writes.
pub struct ParseContext {
    inlet: Inlet<String>,
    out: Outlet<Hit>,
    ids: EventIds,
    context: StageContext,
}

/// The parse stage's effects.
#[derive(VariantName)]
pub enum ParseAction {
    Parse(Batch<String>),
    EndOfStream,
    Report(String),
}

impl Action<ParseContext> for ParseAction {
    fn name(&self) -> &'static str {
        self.variant_name()
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

/// The parse stage, ready for a pipeline.
pub fn parse(id: StageId, inlet: Inlet<String>, out: Outlet<Hit>) -> Stage {
    let ctx = ParseContext { inlet, out, ids: EventIds::new(id.into()), context: StageContext::new(id, "parse") };
    Stage::new(Parse { id }, ParseState::INITIAL, ctx)
}

// =================================================================================================================
// aggregate: the sink. Counts per (minute, status, path), writes closed minutes out, journals error events.

/// The aggregate stage's states.
#[stagewise::handler_supervised(
    stage = Aggregate, event = StreamEvent<Hit>, action = AggregateAction, context = AggregateContext,
    failure = StreamEvent::Failure,
    on_failure = [AggregateAction::Report(message)],
    control(start = StreamEvent::Start, drain = StreamEvent::Drain, stop = StreamEvent::Stop),
)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AggregateState {
    #[initial]
    #[on(StreamEvent::Start => Running)]
    #[on(StreamEvent::Drain => Draining)]
    #[on(StreamEvent::Stop => Cancelled)]
    Idle,
    #[dispatch(Aggregate::next)]
    #[on(StreamEvent::Batch(hits) => stay, actions = [AggregateAction::Aggregate(hits)])]
    #[on(StreamEvent::EndOfStream => Done, actions = [AggregateAction::Finish])]
    #[on(StreamEvent::Drain => Draining)]
    #[on(StreamEvent::Start => stay)]
    #[on(StreamEvent::Stop => Cancelled)]
    Running,
    #[dispatch(Aggregate::next_draining)]
    #[on(StreamEvent::Batch(hits) => stay, actions = [AggregateAction::Aggregate(hits)])]
    #[on(StreamEvent::EndOfStream | StreamEvent::UpstreamClosed => Done, actions = [AggregateAction::Finish])]
    #[on(StreamEvent::Start | StreamEvent::Drain => stay)]
    #[on(StreamEvent::Stop => Cancelled)]
    Draining,
    #[terminal]
    Done,
    #[failed]
    Failed(String),
    #[terminal(cancelled)]
    Cancelled,
}

/// The aggregate stage.
#[derive(Stage)]
pub struct Aggregate {
    id: StageId,
}

impl Aggregate {
    async fn next(&mut self, ctx: &mut AggregateContext) -> Result<Directive<StreamEvent<Hit>>, BoxError> {
        next_message(&mut ctx.inlet, false).await
    }
    async fn next_draining(&mut self, ctx: &mut AggregateContext) -> Result<Directive<StreamEvent<Hit>>, BoxError> {
        next_message(&mut ctx.inlet, true).await
    }
}

/// What the aggregate stage reads and writes.
pub struct AggregateContext {
    inlet: Inlet<Hit>,
    aggregator: Aggregator,
    errors: ErrorJournal,
    summary: Arc<Mutex<Option<AggregateSummary>>>,
}

/// The aggregate stage's effects.
#[derive(VariantName)]
pub enum AggregateAction {
    Aggregate(Batch<Hit>),
    Finish,
    Report(String),
}

impl Action<AggregateContext> for AggregateAction {
    fn name(&self) -> &'static str {
        self.variant_name()
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

/// The aggregate stage, ready for a pipeline; `summary` receives what it saw once the stream is complete.
pub fn aggregate(
    id: StageId,
    inlet: Inlet<Hit>,
    aggregator: Aggregator,
    errors: ErrorJournal,
    summary: Arc<Mutex<Option<AggregateSummary>>>,
) -> Stage {
    let ctx = AggregateContext { inlet, aggregator, errors, summary };
    Stage::new(Aggregate { id }, AggregateState::INITIAL, ctx)
}
