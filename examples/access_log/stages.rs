//! The three stages of the access-log pipeline as two state enums annotated with `#[handler_supervised]`: each enum
//! says what each state does, which events move it where with which actions, how it treats control messages and how a
//! run ending there ends; the macro writes the supervisor (Machine, Supervisor, HandlerSupervised).
//!
//! read (source) --lines--> parse (transform) --hits--> aggregate (sink)
//!
//! read has its own machine. parse and aggregate are one generic stage, `Consume<W>`, used twice: they consume a
//! stream the same way and differ only in their `BatchWork` (what a batch and the end of the stream do, and the name).
//!
//! Each follows the pipeline stage convention of `stagewise::pipeline`: Idle blocks until Start; Drain makes the
//! source stop and the others finish the stream; end of stream is forwarded only on completion; Stop cancels; any
//! error takes the stage to Failed, reporting it on stderr.

use std::fs::File;
use std::future::Future;
use std::io::{BufRead, BufReader};
use std::sync::{Arc, Mutex};

use stagewise::pipeline::{Batch, ErrorJournal, Inlet, Message, Outlet, PipelineStage};
use stagewise::{
    Action, BoxError, ChainEvent, Directive, EventIds, EventVariant, Stage, StageContext, StageId, VariantName,
};

use crate::chaos::Chaos;
use crate::parse::{parse_batch, read_lines, Hit};
use crate::work::{AggregateSummary, Aggregator};

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
    /// Passes over the first `lines` lines: where a resumed run picks up.
    pub fn skip(&mut self, lines: u64) -> std::io::Result<()> {
        match self {
            Input::Generated { next, total } => *next = lines.min(*total),
            Input::File(reader) => {
                let mut bytes = Vec::new();
                for _ in 0..lines {
                    bytes.clear();
                    if reader.read_until(b'\n', &mut bytes)? == 0 {
                        break;
                    }
                }
            }
        }
        Ok(())
    }

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
            Input::File(reader) => read_lines(reader, max, ids, context, &mut batch)?,
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
        if !ctx.resumed {
            // On a durable link, pick up after the lines whose batches it holds; on an in-memory one, at line 0.
            ctx.resumed = true;
            let resume = ctx.out.resume().await?;
            if resume.ended {
                ctx.exhausted = true;
                return Ok(Directive::Transition(ReadEvent::Exhausted));
            }
            ctx.input.skip(resume.input)?;
            ctx.lines = resume.input;
            ctx.ids = ctx.out.resume_ids(self.id.into()).await?;
        }
        let batch = ctx.input.next_batch(self.batch, &mut ctx.ids, &ctx.context)?;
        ctx.exhausted = batch.is_empty();
        ctx.lines += batch.len() as u64;
        ctx.out.mark_input(ctx.lines);
        Ok(Directive::Transition(if batch.is_empty() { ReadEvent::Exhausted } else { ReadEvent::Read(batch) }))
    }
}

/// What the source reads and writes.
pub struct ReadContext {
    input: Input,
    out: Outlet<String>,
    ids: EventIds,
    context: StageContext,
    /// Lines read so far, resumed ones included.
    lines: u64,
    resumed: bool,
    /// The input is read to its end (not merely drained).
    exhausted: bool,
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
            // Drained before the end of the input: on a durable link the stream pauses, and a resumed run goes on.
            ReadAction::EndOfStream if !ctx.exhausted => ctx.out.pause().await?,
            ReadAction::EndOfStream => ctx.out.end_of_stream().await?,
            ReadAction::Report(why) => report("read", &why),
        }
        Ok(())
    }
}

/// The source stage, ready for a pipeline.
pub fn read(id: StageId, input: Input, batch: usize, out: Outlet<String>) -> PipelineStage {
    let ctx = ReadContext {
        input,
        out,
        ids: EventIds::new(id.into()),
        context: StageContext::new(id, "read"),
        lines: 0,
        resumed: false,
        exhausted: false,
    };
    PipelineStage::new(Read { id, batch }, ReadState::INITIAL, ctx)
}

// =================================================================================================================
// parse and aggregate consume a stream: one stage, `Consume<W>`, with one state enum; only the work differs.

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

/// What a stage that consumes a stream does with it: the one part in which parse and aggregate differ. The work is
/// the stage's context: what its actions read and write.
pub trait BatchWork: Send + 'static {
    /// The stage's name, in logs, lifecycle records and failure reports.
    const NAME: &'static str;
    /// What the stream carries.
    type Item: Send + 'static;
    /// Handles one batch of the stream.
    fn batch(&mut self, batch: Batch<Self::Item>) -> impl Future<Output = Result<(), BoxError>> + Send;
    /// The stream is complete; not called when the stage is stopped or fails.
    fn end_of_stream(&mut self) -> impl Future<Output = Result<(), BoxError>> + Send;
}

/// The states of a stage that consumes a stream.
#[stagewise::handler_supervised(
    stage = <W: BatchWork> Consume<W>, event = StreamEvent<W::Item>, action = ConsumeAction<W::Item>, context = W,
    failure = StreamEvent::Failure,
    on_failure = [ConsumeAction::Report(message)],
    control(start = StreamEvent::Start, drain = StreamEvent::Drain, stop = StreamEvent::Stop),
    name = W::NAME,
)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsumeState {
    #[initial]
    #[on(StreamEvent::Start => Running)]
    #[on(StreamEvent::Drain => Draining)]
    #[on(StreamEvent::Stop => Cancelled)]
    Idle,
    #[dispatch(Consume::next)]
    #[on(StreamEvent::Batch(batch) => stay, actions = [ConsumeAction::Work(batch)])]
    #[on(StreamEvent::EndOfStream => Done, actions = [ConsumeAction::EndOfStream])]
    #[on(StreamEvent::Drain => Draining)]
    #[on(StreamEvent::Start => stay)]
    #[on(StreamEvent::Stop => Cancelled)]
    Running,
    #[dispatch(Consume::next_draining)]
    #[on(StreamEvent::Batch(batch) => stay, actions = [ConsumeAction::Work(batch)])]
    #[on(StreamEvent::EndOfStream | StreamEvent::UpstreamClosed => Done, actions = [ConsumeAction::EndOfStream])]
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

/// A stage that consumes a stream, doing `W` with it.
#[derive(Stage)]
pub struct Consume<W: BatchWork> {
    id: StageId,
    inlet: Inlet<W::Item>,
}

impl<W: BatchWork> Consume<W> {
    async fn next(&mut self, _: &mut W) -> Result<Directive<StreamEvent<W::Item>>, BoxError> {
        self.next_message(false).await
    }
    async fn next_draining(&mut self, _: &mut W) -> Result<Directive<StreamEvent<W::Item>>, BoxError> {
        self.next_message(true).await
    }
    /// The next message on the inlet. A closed inlet is the end of the stream while draining (the stage before was
    /// stopped), and otherwise an error: the stage before failed.
    async fn next_message(&mut self, draining: bool) -> Result<Directive<StreamEvent<W::Item>>, BoxError> {
        Ok(Directive::Transition(match self.inlet.recv().await {
            Some(Message::Events(batch)) => StreamEvent::Batch(batch),
            Some(Message::EndOfStream) => StreamEvent::EndOfStream,
            None if self.inlet.failure().is_some() => {
                return Err(format!("the durable link could not be read: {}", self.inlet.failure().unwrap()).into())
            }
            None if draining => StreamEvent::UpstreamClosed,
            None => return Err("upstream closed without end of stream".into()),
        }))
    }
}

/// The effects of a stage that consumes a stream.
#[derive(VariantName)]
pub enum ConsumeAction<P> {
    Work(Batch<P>),
    EndOfStream,
    Report(String),
}

impl<W: BatchWork> Action<W> for ConsumeAction<W::Item> {
    fn name(&self) -> &'static str {
        self.variant_name()
    }
    async fn execute(self, work: &mut W) -> Result<(), BoxError> {
        match self {
            ConsumeAction::Work(batch) => work.batch(batch).await,
            ConsumeAction::EndOfStream => work.end_of_stream().await,
            ConsumeAction::Report(why) => {
                report(W::NAME, &why);
                Ok(())
            }
        }
    }
}

/// The failure action of every stage: say so on stderr (the lifecycle record holds the same message).
fn report(stage: &str, why: &str) {
    eprintln!("stage {stage} failed: {why}");
}

// =================================================================================================================
// parse: lines to hits; malformed lines become error events.

/// The parse stage's work.
pub struct ParseWork {
    out: Outlet<Hit>,
    ids: EventIds,
    context: StageContext,
    resumed: bool,
    chaos: Chaos,
}

impl BatchWork for ParseWork {
    const NAME: &'static str = "parse";
    type Item = String;
    async fn batch(&mut self, lines: Batch<String>) -> Result<(), BoxError> {
        if self.chaos.strikes() {
            return Err(format!("chaos: parse failed on a batch of {} lines", lines.len()).into());
        }
        if !self.resumed {
            // On a durable link, go on from the ids already written, so a resumed run writes the same ids.
            self.resumed = true;
            self.ids = self.out.resume_ids(self.context.stage.into()).await?;
        }
        let hits = parse_batch(lines, &mut self.ids, &self.context);
        self.chaos.issued(self.ids.issued());
        Ok(self.out.send(hits).await?)
    }
    async fn end_of_stream(&mut self) -> Result<(), BoxError> {
        Ok(self.out.end_of_stream().await?)
    }
}

/// The parse stage, ready for a pipeline.
pub fn parse(id: StageId, inlet: Inlet<String>, out: Outlet<Hit>) -> PipelineStage {
    let work = ParseWork {
        out,
        ids: EventIds::new(id.into()),
        context: StageContext::new(id, ParseWork::NAME),
        resumed: false,
        chaos: Chaos::new(0.0, 0),
    };
    PipelineStage::new(Consume { id, inlet }, ConsumeState::INITIAL, work)
}

/// One instance of a restartable parse stage on in-memory links, failing batches as `chaos` says: it writes ids from
/// where the last instance got to.
pub fn parse_restartable(id: StageId, inlet: Inlet<String>, out: Outlet<Hit>, chaos: &Chaos) -> PipelineStage {
    let work = ParseWork {
        out,
        ids: EventIds::starting_at(id.into(), chaos.next_id()),
        context: StageContext::new(id, ParseWork::NAME),
        resumed: true,
        chaos: chaos.clone(),
    };
    PipelineStage::new(Consume { id, inlet }, ConsumeState::INITIAL, work)
}

// =================================================================================================================
// aggregate: the sink. Counts per (minute, status, path), writes closed minutes out, journals error events.

/// What the aggregate stage does once a batch's effects are written: nothing in memory mode; in durable mode, save a
/// checkpoint of the table with the input position, so a resumed run goes on exactly from there.
pub trait Checkpointer: Send + 'static {
    /// Called after each batch, and once more (`finished`) after the end of the stream.
    fn save(
        &mut self,
        aggregator: &mut Aggregator,
        finished: bool,
    ) -> impl Future<Output = Result<(), BoxError>> + Send;

    /// False when the end of stream only ends this run (the pipeline was drained or stopped; it resumes later): the
    /// table is then saved, not finished.
    fn stream_ended(&self) -> bool {
        true
    }
}

/// No checkpoints: the table lives in memory only.
pub struct NoCheckpoints;

impl Checkpointer for NoCheckpoints {
    async fn save(&mut self, _: &mut Aggregator, _: bool) -> Result<(), BoxError> {
        Ok(())
    }
}

/// The aggregate stage's work.
pub struct AggregateWork<C = NoCheckpoints> {
    aggregator: Aggregator,
    errors: ErrorJournal,
    summary: Arc<Mutex<Option<AggregateSummary>>>,
    checkpoints: C,
}

impl<C: Checkpointer> BatchWork for AggregateWork<C> {
    const NAME: &'static str = "aggregate";
    type Item = Hit;
    async fn batch(&mut self, hits: Batch<Hit>) -> Result<(), BoxError> {
        self.aggregator.add_batch(hits, &*self.errors).await?;
        self.checkpoints.save(&mut self.aggregator, false).await
    }
    async fn end_of_stream(&mut self) -> Result<(), BoxError> {
        if !self.checkpoints.stream_ended() {
            return self.checkpoints.save(&mut self.aggregator, false).await;
        }
        let summary = self.aggregator.finish()?;
        self.checkpoints.save(&mut self.aggregator, true).await?;
        *self.summary.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(summary);
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
) -> PipelineStage {
    aggregate_with(id, inlet, aggregator, errors, summary, NoCheckpoints)
}

/// The aggregate stage saving checkpoints with `checkpoints`.
pub fn aggregate_with<C: Checkpointer>(
    id: StageId,
    inlet: Inlet<Hit>,
    aggregator: Aggregator,
    errors: ErrorJournal,
    summary: Arc<Mutex<Option<AggregateSummary>>>,
    checkpoints: C,
) -> PipelineStage {
    let work = AggregateWork { aggregator, errors, summary, checkpoints };
    PipelineStage::new(Consume { id, inlet }, ConsumeState::INITIAL, work)
}
