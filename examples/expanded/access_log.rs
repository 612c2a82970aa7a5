// @generated from examples/access_log/stages.rs by tests/expanded.rs: the stagewise macros expanded, nothing else.
// Not compiled. Refresh with `STAGEWISE_BLESS=1 cargo test --test expanded`.

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
    Action, BoxError, ChainEvent, Directive, EventIds, EventVariant, Stage, StageContext,
    StageId, VariantName,
};
use crate::chaos::Chaos;
use crate::parse::{parse_batch, read_lines, Hit};
use crate::work::{AggregateSummary, Aggregator};
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
                    batch
                        .push(
                            ChainEvent::new(
                                ids.next_id(),
                                context.clone(),
                                crate::work::generate_line(index),
                            ),
                        );
                }
                *next = end;
            }
            Input::File(reader) => read_lines(reader, max, ids, context, &mut batch)?,
        }
        Ok(batch)
    }
}
/// The source's states.
#[derive(Clone, Debug, PartialEq, Eq)]
/**
<pre class="mermaid">
flowchart TD
    s_Idle(["Idle"])
    s_Reading(["Reading"])
    s_Done(["Done"])
    s_Failed(["Failed"])
    s_Cancelled(["Cancelled"])
    start_((" ")) --&gt; s_Idle
    s_Idle --&gt;|"Start"| s_Reading
    s_Idle --&gt;|"Drain"| s_Done
    s_Idle --&gt;|"Stop"| s_Cancelled
    s_Reading --&gt;|"Read (stay)"| s_Reading
    s_Reading --&gt;|"Exhausted, Drain"| s_Done
    s_Reading --&gt;|"Start (stay)"| s_Reading
    s_Reading --&gt;|"Stop"| s_Cancelled
    s_Idle -.-&gt;|"Failure (failure)"| s_Failed
    s_Reading -.-&gt;|"Failure (failure)"| s_Failed
    s_Done --&gt; stop_((" "))
    s_Failed --&gt; stop_((" "))
    s_Cancelled --&gt; stop_((" "))
    classDef failure fill:#fde2e2,stroke:#c0392b
    class s_Failed failure
</pre>

The states of this machine as `#[handler_supervised]` reads them: solid edges are declared transitions, dashed ones the generated failure transitions.*/
pub enum ReadState {
    Idle,
    Reading,
    Done,
    Failed(String),
    Cancelled,
}
#[automatically_derived]
#[allow(
    unused_variables,
    unreachable_patterns,
    clippy::match_same_arms,
    clippy::single_match,
    clippy::too_many_lines,
    clippy::manual_async_fn,
    clippy::used_underscore_binding,
    clippy::no_effect_underscore_binding,
    clippy::match_single_binding
)]
impl ::stagewise::__private::StateVariant for ReadState {
    fn name(&self) -> &'static str {
        match self {
            ReadState::Idle { .. } => "Idle",
            ReadState::Reading { .. } => "Reading",
            ReadState::Done { .. } => "Done",
            ReadState::Failed { .. } => "Failed",
            ReadState::Cancelled { .. } => "Cancelled",
        }
    }
    fn failure_message(&self) -> ::core::option::Option<&str> {
        match self {
            ReadState::Failed(message, ..) => {
                ::core::option::Option::Some(message.as_str())
            }
            #[allow(unreachable_patterns)]
            _ => ::core::option::Option::None,
        }
    }
    fn ending(&self) -> ::core::option::Option<::stagewise::__private::Ending> {
        match self {
            ReadState::Idle { .. } => ::core::option::Option::None,
            ReadState::Reading { .. } => ::core::option::Option::None,
            ReadState::Done { .. } => {
                ::core::option::Option::Some(::stagewise::__private::Ending::Completed)
            }
            ReadState::Failed { .. } => {
                ::core::option::Option::Some(::stagewise::__private::Ending::Failed)
            }
            ReadState::Cancelled { .. } => {
                ::core::option::Option::Some(::stagewise::__private::Ending::Cancelled)
            }
        }
    }
    fn control_policy(&self) -> ::stagewise::__private::ControlPolicy {
        match self {
            ReadState::Idle { .. } => ::stagewise::__private::ControlPolicy::Block,
            ReadState::Reading { .. } => ::stagewise::__private::ControlPolicy::Poll,
            ReadState::Done { .. } => ::stagewise::__private::ControlPolicy::Ignore,
            ReadState::Failed { .. } => ::stagewise::__private::ControlPolicy::Ignore,
            ReadState::Cancelled { .. } => ::stagewise::__private::ControlPolicy::Ignore,
        }
    }
}
#[automatically_derived]
#[allow(dead_code)]
impl ReadState {
    /// The state a run starts in: the `#[initial]` one.
    pub const INITIAL: Self = ReadState::Idle;
    /// This machine as a Mermaid `stateDiagram-v2`: declared transitions, the states function transitions
    /// may choose, and the generated failure edges, labelled `(failure)`.
    pub const MERMAID: &'static str = "stateDiagram-v2\n    [*] --> Idle\n    Idle --> Reading: Start\n    Idle --> Done: Drain\n    Idle --> Cancelled: Stop\n    Reading --> Reading: Read (stay)\n    Reading --> Done: Exhausted, Drain\n    Reading --> Reading: Start (stay)\n    Reading --> Cancelled: Stop\n    Done --> [*]\n    Failed --> [*]\n    Cancelled --> [*]\n    %% generated: the failure transition from every state that is not terminal\n    Idle --> Failed: Failure (failure)\n    Reading --> Failed: Failure (failure)\n    classDef failure fill:#fde2e2,stroke:#c0392b\n    class Failed failure\n";
}
#[automatically_derived]
#[allow(
    unused_variables,
    unreachable_patterns,
    clippy::match_same_arms,
    clippy::single_match,
    clippy::too_many_lines,
    clippy::manual_async_fn,
    clippy::used_underscore_binding,
    clippy::no_effect_underscore_binding,
    clippy::match_single_binding
)]
impl ::stagewise::__private::Machine for Read {
    type State = ReadState;
    type Event = ReadEvent;
    type Context = ReadContext;
    type Action = ReadAction;
    type ActionCapacity = ::stagewise::__private::DefaultCapacity;
    fn transition(
        __state: &Self::State,
        __event: Self::Event,
        __ctx: &mut Self::Context,
    ) -> ::stagewise::__private::Decision<
        Self::State,
        Self::Action,
        Self::ActionCapacity,
    > {
        type __Failure = <ReadEvent as ::stagewise::__private::CheckedFailure<
            {
                let _ = |__event: ReadEvent| match __event {
                    ReadEvent::Failure(__field) => {
                        let _ = __field;
                    }
                    _ => {}
                };
                0
            },
        >>::Out;
        match (__state, __event) {
            (ReadState::Idle { .. }, ReadEvent::Start { .. }) => {
                ::stagewise::__private::Decision::goto(ReadState::Reading)
            }
            (ReadState::Idle { .. }, ReadEvent::Drain { .. }) => {
                ::stagewise::__private::Decision::goto_with(
                    ReadState::Done,
                    [
                        {
                            let __action: Self::Action = ReadAction::EndOfStream;
                            __action
                        },
                    ],
                )
            }
            (ReadState::Idle { .. }, ReadEvent::Stop { .. }) => {
                ::stagewise::__private::Decision::goto(ReadState::Cancelled)
            }
            (ReadState::Reading { .. }, ReadEvent::Read(batch)) => {
                ::stagewise::__private::Decision::stay_with([
                    {
                        let __action: Self::Action = ReadAction::Send(batch);
                        __action
                    },
                ])
            }
            (
                ReadState::Reading { .. },
                ReadEvent::Exhausted { .. } | ReadEvent::Drain { .. },
            ) => {
                ::stagewise::__private::Decision::goto_with(
                    ReadState::Done,
                    [
                        {
                            let __action: Self::Action = ReadAction::EndOfStream;
                            __action
                        },
                    ],
                )
            }
            (ReadState::Reading { .. }, ReadEvent::Start { .. }) => {
                ::stagewise::__private::Decision::Stay {
                    actions: ::stagewise::__private::Actions::new(),
                }
            }
            (ReadState::Reading { .. }, ReadEvent::Stop { .. }) => {
                ::stagewise::__private::Decision::goto(ReadState::Cancelled)
            }
            (ReadState::Failed { .. }, __Failure::Failure(..)) => {
                ::stagewise::__private::Decision::Stay {
                    actions: ::stagewise::__private::Actions::new(),
                }
            }
            (_, __event @ __Failure::Failure(..)) => {
                let message: ::stagewise::__private::String = ::stagewise::__private::failure_codec(
                        __Failure::Failure,
                        |__event| match __event {
                            __Failure::Failure(__field) => __field,
                            _ => ::core::unreachable!("the failure event"),
                        },
                    )
                    .take(__event);
                let next = ReadState::Failed(
                    <String as ::stagewise::__private::FailedStateField>::from_failure(
                        ::core::clone::Clone::clone(&message),
                    ),
                );
                ::stagewise::__private::Decision::goto_with(
                    next,
                    [
                        {
                            let __action: Self::Action = ReadAction::Report(message);
                            __action
                        },
                    ],
                )
            }
            _ => ::stagewise::__private::Decision::Unhandled,
        }
    }
    fn control_event(
        __control: ::stagewise::__private::Control,
    ) -> ::core::option::Option<Self::Event> {
        match __control {
            ::stagewise::__private::Control::Start => {
                ::core::option::Option::Some(ReadEvent::Start)
            }
            ::stagewise::__private::Control::Drain => {
                ::core::option::Option::Some(ReadEvent::Drain)
            }
            ::stagewise::__private::Control::Stop => {
                ::core::option::Option::Some(ReadEvent::Stop)
            }
            _ => ::core::option::Option::None,
        }
    }
}
#[automatically_derived]
#[allow(
    unused_variables,
    unreachable_patterns,
    clippy::match_same_arms,
    clippy::single_match,
    clippy::too_many_lines,
    clippy::manual_async_fn,
    clippy::used_underscore_binding,
    clippy::no_effect_underscore_binding,
    clippy::match_single_binding
)]
impl ::stagewise::__private::Supervisor for Read {
    fn name(&self) -> &'static str {
        "read"
    }
    fn dispatch_state(
        &mut self,
        __state: &Self::State,
        __ctx: &mut Self::Context,
    ) -> impl ::core::future::Future<
        Output = ::core::result::Result<
            ::stagewise::__private::Directive<Self::Event>,
            ::stagewise::__private::BoxError,
        >,
    > + ::core::marker::Send {
        async move {
            let __stage = self;
            match __state {
                ReadState::Idle { .. } => ::core::future::pending().await,
                ReadState::Reading { .. } => {
                    ::stagewise::__private::dispatched(
                        ::stagewise::__private::dispatch::<
                            Self,
                            Self::Context,
                            Self::Event,
                            _,
                        >(Read::next_batch, __stage, __ctx)
                            .await,
                    )
                }
                ReadState::Done { .. } => {
                    ::core::result::Result::Ok(
                        ::stagewise::__private::Directive::Terminate,
                    )
                }
                ReadState::Failed { .. } => {
                    ::core::result::Result::Ok(
                        ::stagewise::__private::Directive::Terminate,
                    )
                }
                ReadState::Cancelled { .. } => {
                    ::core::result::Result::Ok(
                        ::stagewise::__private::Directive::Terminate,
                    )
                }
            }
        }
    }
    fn event_for_action_error(
        &self,
        __message: ::stagewise::__private::String,
    ) -> Self::Event {
        type __Failure = <ReadEvent as ::stagewise::__private::CheckedFailure<
            {
                let _ = |__event: ReadEvent| match __event {
                    ReadEvent::Failure(__field) => {
                        let _ = __field;
                    }
                    _ => {}
                };
                0
            },
        >>::Out;
        ::stagewise::__private::failure_codec(
                __Failure::Failure,
                |__event| match __event {
                    __Failure::Failure(__field) => __field,
                    _ => ::core::unreachable!("the failure event"),
                },
            )
            .make(__message)
    }
}
#[automatically_derived]
#[allow(
    unused_variables,
    unreachable_patterns,
    clippy::match_same_arms,
    clippy::single_match,
    clippy::too_many_lines,
    clippy::manual_async_fn,
    clippy::used_underscore_binding,
    clippy::no_effect_underscore_binding,
    clippy::match_single_binding
)]
impl ::stagewise::__private::HandlerSupervised for Read {
    fn stage_id(&self) -> ::stagewise::__private::StageId {
        <Self as ::stagewise::__private::StageFields>::stage_id(self)
    }
    fn writer_id(&self) -> ::stagewise::__private::WriterId {
        <Self as ::stagewise::__private::StageFields>::writer_id(self)
    }
}
/// The source stage.
pub struct Read {
    id: StageId,
    batch: usize,
}
#[automatically_derived]
impl ::stagewise::__private::StageFields for Read {
    fn stage_id(&self) -> ::stagewise::__private::StageId {
        self.id
    }
}
impl Read {
    /// The next batch of lines, or `Exhausted` at the end of the input.
    async fn next_batch(
        &mut self,
        ctx: &mut ReadContext,
    ) -> Result<Directive<ReadEvent>, BoxError> {
        if !ctx.resumed {
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
        Ok(
            Directive::Transition(
                if batch.is_empty() {
                    ReadEvent::Exhausted
                } else {
                    ReadEvent::Read(batch)
                },
            ),
        )
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
#[derive(Debug)]
pub enum ReadEvent {
    Start,
    Read(Batch<String>),
    Exhausted,
    Drain,
    Stop,
    Failure(String),
}
#[automatically_derived]
impl ::stagewise::__private::EventVariant for ReadEvent {
    fn name(&self) -> &'static str {
        match self {
            ReadEvent::Start { .. } => "Start",
            ReadEvent::Read { .. } => "Read",
            ReadEvent::Exhausted { .. } => "Exhausted",
            ReadEvent::Drain { .. } => "Drain",
            ReadEvent::Stop { .. } => "Stop",
            ReadEvent::Failure { .. } => "Failure",
        }
    }
}
/// The source's effects.
pub enum ReadAction {
    Send(Batch<String>),
    EndOfStream,
    Report(String),
}
#[automatically_derived]
#[allow(dead_code)]
impl ReadAction {
    /// The variant's name, for logs (e.g. `Action::name`).
    #[must_use]
    pub const fn variant_name(&self) -> &'static str {
        match self {
            ReadAction::Send { .. } => "Send",
            ReadAction::EndOfStream { .. } => "EndOfStream",
            ReadAction::Report { .. } => "Report",
        }
    }
}
impl Action<ReadContext> for ReadAction {
    fn name(&self) -> &'static str {
        self.variant_name()
    }
    async fn execute(self, ctx: &mut ReadContext) -> Result<(), BoxError> {
        match self {
            ReadAction::Send(batch) => ctx.out.send(batch).await?,
            ReadAction::EndOfStream if !ctx.exhausted => ctx.out.pause().await?,
            ReadAction::EndOfStream => ctx.out.end_of_stream().await?,
            ReadAction::Report(why) => report("read", &why),
        }
        Ok(())
    }
}
/// The source stage, ready for a pipeline.
pub fn read(
    id: StageId,
    input: Input,
    batch: usize,
    out: Outlet<String>,
) -> PipelineStage {
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
#[automatically_derived]
impl<P> ::stagewise::__private::EventVariant for StreamEvent<P> {
    fn name(&self) -> &'static str {
        match self {
            StreamEvent::Start { .. } => "Start",
            StreamEvent::Batch { .. } => "Batch",
            StreamEvent::EndOfStream { .. } => "EndOfStream",
            StreamEvent::UpstreamClosed { .. } => "UpstreamClosed",
            StreamEvent::Drain { .. } => "Drain",
            StreamEvent::Stop { .. } => "Stop",
            StreamEvent::Failure { .. } => "Failure",
        }
    }
}
/// What a stage that consumes a stream does with it: the one part in which parse and aggregate differ. The work is
/// the stage's context: what its actions read and write.
pub trait BatchWork: Send + 'static {
    /// The stage's name, in logs, lifecycle records and failure reports.
    const NAME: &'static str;
    /// What the stream carries.
    type Item: Send + 'static;
    /// Handles one batch of the stream.
    fn batch(
        &mut self,
        batch: Batch<Self::Item>,
    ) -> impl Future<Output = Result<(), BoxError>> + Send;
    /// The stream is complete; not called when the stage is stopped or fails.
    fn end_of_stream(&mut self) -> impl Future<Output = Result<(), BoxError>> + Send;
}
/// The states of a stage that consumes a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
/**
<pre class="mermaid">
flowchart TD
    s_Idle(["Idle"])
    s_Running(["Running"])
    s_Draining(["Draining"])
    s_Done(["Done"])
    s_Failed(["Failed"])
    s_Cancelled(["Cancelled"])
    start_((" ")) --&gt; s_Idle
    s_Idle --&gt;|"Start"| s_Running
    s_Idle --&gt;|"Drain"| s_Draining
    s_Idle --&gt;|"Stop"| s_Cancelled
    s_Running --&gt;|"Batch (stay)"| s_Running
    s_Running --&gt;|"EndOfStream"| s_Done
    s_Running --&gt;|"Drain"| s_Draining
    s_Running --&gt;|"Start (stay)"| s_Running
    s_Running --&gt;|"Stop"| s_Cancelled
    s_Draining --&gt;|"Batch (stay)"| s_Draining
    s_Draining --&gt;|"EndOfStream, UpstreamClosed"| s_Done
    s_Draining --&gt;|"Start, Drain (stay)"| s_Draining
    s_Draining --&gt;|"Stop"| s_Cancelled
    s_Idle -.-&gt;|"Failure (failure)"| s_Failed
    s_Running -.-&gt;|"Failure (failure)"| s_Failed
    s_Draining -.-&gt;|"Failure (failure)"| s_Failed
    s_Done --&gt; stop_((" "))
    s_Failed --&gt; stop_((" "))
    s_Cancelled --&gt; stop_((" "))
    classDef failure fill:#fde2e2,stroke:#c0392b
    class s_Failed failure
</pre>

The states of this machine as `#[handler_supervised]` reads them: solid edges are declared transitions, dashed ones the generated failure transitions.*/
pub enum ConsumeState {
    Idle,
    Running,
    Draining,
    Done,
    Failed(String),
    Cancelled,
}
#[automatically_derived]
#[allow(
    unused_variables,
    unreachable_patterns,
    clippy::match_same_arms,
    clippy::single_match,
    clippy::too_many_lines,
    clippy::manual_async_fn,
    clippy::used_underscore_binding,
    clippy::no_effect_underscore_binding,
    clippy::match_single_binding
)]
impl ::stagewise::__private::StateVariant for ConsumeState {
    fn name(&self) -> &'static str {
        match self {
            ConsumeState::Idle { .. } => "Idle",
            ConsumeState::Running { .. } => "Running",
            ConsumeState::Draining { .. } => "Draining",
            ConsumeState::Done { .. } => "Done",
            ConsumeState::Failed { .. } => "Failed",
            ConsumeState::Cancelled { .. } => "Cancelled",
        }
    }
    fn failure_message(&self) -> ::core::option::Option<&str> {
        match self {
            ConsumeState::Failed(message, ..) => {
                ::core::option::Option::Some(message.as_str())
            }
            #[allow(unreachable_patterns)]
            _ => ::core::option::Option::None,
        }
    }
    fn ending(&self) -> ::core::option::Option<::stagewise::__private::Ending> {
        match self {
            ConsumeState::Idle { .. } => ::core::option::Option::None,
            ConsumeState::Running { .. } => ::core::option::Option::None,
            ConsumeState::Draining { .. } => ::core::option::Option::None,
            ConsumeState::Done { .. } => {
                ::core::option::Option::Some(::stagewise::__private::Ending::Completed)
            }
            ConsumeState::Failed { .. } => {
                ::core::option::Option::Some(::stagewise::__private::Ending::Failed)
            }
            ConsumeState::Cancelled { .. } => {
                ::core::option::Option::Some(::stagewise::__private::Ending::Cancelled)
            }
        }
    }
    fn control_policy(&self) -> ::stagewise::__private::ControlPolicy {
        match self {
            ConsumeState::Idle { .. } => ::stagewise::__private::ControlPolicy::Block,
            ConsumeState::Running { .. } => ::stagewise::__private::ControlPolicy::Poll,
            ConsumeState::Draining { .. } => ::stagewise::__private::ControlPolicy::Poll,
            ConsumeState::Done { .. } => ::stagewise::__private::ControlPolicy::Ignore,
            ConsumeState::Failed { .. } => ::stagewise::__private::ControlPolicy::Ignore,
            ConsumeState::Cancelled { .. } => {
                ::stagewise::__private::ControlPolicy::Ignore
            }
        }
    }
}
#[automatically_derived]
#[allow(dead_code)]
impl ConsumeState {
    /// The state a run starts in: the `#[initial]` one.
    pub const INITIAL: Self = ConsumeState::Idle;
    /// This machine as a Mermaid `stateDiagram-v2`: declared transitions, the states function transitions
    /// may choose, and the generated failure edges, labelled `(failure)`.
    pub const MERMAID: &'static str = "stateDiagram-v2\n    [*] --> Idle\n    Idle --> Running: Start\n    Idle --> Draining: Drain\n    Idle --> Cancelled: Stop\n    Running --> Running: Batch (stay)\n    Running --> Done: EndOfStream\n    Running --> Draining: Drain\n    Running --> Running: Start (stay)\n    Running --> Cancelled: Stop\n    Draining --> Draining: Batch (stay)\n    Draining --> Done: EndOfStream, UpstreamClosed\n    Draining --> Draining: Start, Drain (stay)\n    Draining --> Cancelled: Stop\n    Done --> [*]\n    Failed --> [*]\n    Cancelled --> [*]\n    %% generated: the failure transition from every state that is not terminal\n    Idle --> Failed: Failure (failure)\n    Running --> Failed: Failure (failure)\n    Draining --> Failed: Failure (failure)\n    classDef failure fill:#fde2e2,stroke:#c0392b\n    class Failed failure\n";
}
#[automatically_derived]
#[allow(
    unused_variables,
    unreachable_patterns,
    clippy::match_same_arms,
    clippy::single_match,
    clippy::too_many_lines,
    clippy::manual_async_fn,
    clippy::used_underscore_binding,
    clippy::no_effect_underscore_binding,
    clippy::match_single_binding
)]
impl<W: BatchWork> ::stagewise::__private::Machine for Consume<W> {
    type State = ConsumeState;
    type Event = StreamEvent<W::Item>;
    type Context = W;
    type Action = ConsumeAction<W::Item>;
    type ActionCapacity = ::stagewise::__private::DefaultCapacity;
    fn transition(
        __state: &Self::State,
        __event: Self::Event,
        __ctx: &mut Self::Context,
    ) -> ::stagewise::__private::Decision<
        Self::State,
        Self::Action,
        Self::ActionCapacity,
    > {
        match (__state, __event) {
            (ConsumeState::Idle { .. }, StreamEvent::Start { .. }) => {
                ::stagewise::__private::Decision::goto(ConsumeState::Running)
            }
            (ConsumeState::Idle { .. }, StreamEvent::Drain { .. }) => {
                ::stagewise::__private::Decision::goto(ConsumeState::Draining)
            }
            (ConsumeState::Idle { .. }, StreamEvent::Stop { .. }) => {
                ::stagewise::__private::Decision::goto(ConsumeState::Cancelled)
            }
            (ConsumeState::Running { .. }, StreamEvent::Batch(batch)) => {
                ::stagewise::__private::Decision::stay_with([
                    {
                        let __action: Self::Action = ConsumeAction::Work(batch);
                        __action
                    },
                ])
            }
            (ConsumeState::Running { .. }, StreamEvent::EndOfStream { .. }) => {
                ::stagewise::__private::Decision::goto_with(
                    ConsumeState::Done,
                    [
                        {
                            let __action: Self::Action = ConsumeAction::EndOfStream;
                            __action
                        },
                    ],
                )
            }
            (ConsumeState::Running { .. }, StreamEvent::Drain { .. }) => {
                ::stagewise::__private::Decision::goto(ConsumeState::Draining)
            }
            (ConsumeState::Running { .. }, StreamEvent::Start { .. }) => {
                ::stagewise::__private::Decision::Stay {
                    actions: ::stagewise::__private::Actions::new(),
                }
            }
            (ConsumeState::Running { .. }, StreamEvent::Stop { .. }) => {
                ::stagewise::__private::Decision::goto(ConsumeState::Cancelled)
            }
            (ConsumeState::Draining { .. }, StreamEvent::Batch(batch)) => {
                ::stagewise::__private::Decision::stay_with([
                    {
                        let __action: Self::Action = ConsumeAction::Work(batch);
                        __action
                    },
                ])
            }
            (
                ConsumeState::Draining { .. },
                StreamEvent::EndOfStream { .. } | StreamEvent::UpstreamClosed { .. },
            ) => {
                ::stagewise::__private::Decision::goto_with(
                    ConsumeState::Done,
                    [
                        {
                            let __action: Self::Action = ConsumeAction::EndOfStream;
                            __action
                        },
                    ],
                )
            }
            (
                ConsumeState::Draining { .. },
                StreamEvent::Start { .. } | StreamEvent::Drain { .. },
            ) => {
                ::stagewise::__private::Decision::Stay {
                    actions: ::stagewise::__private::Actions::new(),
                }
            }
            (ConsumeState::Draining { .. }, StreamEvent::Stop { .. }) => {
                ::stagewise::__private::Decision::goto(ConsumeState::Cancelled)
            }
            (ConsumeState::Failed { .. }, StreamEvent::Failure { .. }) => {
                ::stagewise::__private::Decision::Stay {
                    actions: ::stagewise::__private::Actions::new(),
                }
            }
            (_, __event @ StreamEvent::Failure { .. }) => {
                let message: ::stagewise::__private::String = ::stagewise::__private::failure_codec(
                        StreamEvent::Failure,
                        |__event| match __event {
                            StreamEvent::Failure(__field) => __field,
                            _ => ::core::unreachable!("the failure event"),
                        },
                    )
                    .take(__event);
                let next = ConsumeState::Failed(
                    <String as ::stagewise::__private::FailedStateField>::from_failure(
                        ::core::clone::Clone::clone(&message),
                    ),
                );
                ::stagewise::__private::Decision::goto_with(
                    next,
                    [
                        {
                            let __action: Self::Action = ConsumeAction::Report(message);
                            __action
                        },
                    ],
                )
            }
            _ => ::stagewise::__private::Decision::Unhandled,
        }
    }
    fn control_event(
        __control: ::stagewise::__private::Control,
    ) -> ::core::option::Option<Self::Event> {
        match __control {
            ::stagewise::__private::Control::Start => {
                ::core::option::Option::Some(StreamEvent::Start)
            }
            ::stagewise::__private::Control::Drain => {
                ::core::option::Option::Some(StreamEvent::Drain)
            }
            ::stagewise::__private::Control::Stop => {
                ::core::option::Option::Some(StreamEvent::Stop)
            }
            _ => ::core::option::Option::None,
        }
    }
}
#[automatically_derived]
#[allow(
    unused_variables,
    unreachable_patterns,
    clippy::match_same_arms,
    clippy::single_match,
    clippy::too_many_lines,
    clippy::manual_async_fn,
    clippy::used_underscore_binding,
    clippy::no_effect_underscore_binding,
    clippy::match_single_binding
)]
impl<W: BatchWork> ::stagewise::__private::Supervisor for Consume<W> {
    fn name(&self) -> &'static str {
        ::stagewise::__private::SupervisorName::name(W::NAME)
    }
    fn dispatch_state(
        &mut self,
        __state: &Self::State,
        __ctx: &mut Self::Context,
    ) -> impl ::core::future::Future<
        Output = ::core::result::Result<
            ::stagewise::__private::Directive<Self::Event>,
            ::stagewise::__private::BoxError,
        >,
    > + ::core::marker::Send {
        async move {
            let __stage = self;
            match __state {
                ConsumeState::Idle { .. } => ::core::future::pending().await,
                ConsumeState::Running { .. } => {
                    ::stagewise::__private::dispatched(
                        ::stagewise::__private::dispatch::<
                            Self,
                            Self::Context,
                            Self::Event,
                            _,
                        >(Consume::next, __stage, __ctx)
                            .await,
                    )
                }
                ConsumeState::Draining { .. } => {
                    ::stagewise::__private::dispatched(
                        ::stagewise::__private::dispatch::<
                            Self,
                            Self::Context,
                            Self::Event,
                            _,
                        >(Consume::next_draining, __stage, __ctx)
                            .await,
                    )
                }
                ConsumeState::Done { .. } => {
                    ::core::result::Result::Ok(
                        ::stagewise::__private::Directive::Terminate,
                    )
                }
                ConsumeState::Failed { .. } => {
                    ::core::result::Result::Ok(
                        ::stagewise::__private::Directive::Terminate,
                    )
                }
                ConsumeState::Cancelled { .. } => {
                    ::core::result::Result::Ok(
                        ::stagewise::__private::Directive::Terminate,
                    )
                }
            }
        }
    }
    fn event_for_action_error(
        &self,
        __message: ::stagewise::__private::String,
    ) -> Self::Event {
        ::stagewise::__private::failure_codec(
                StreamEvent::Failure,
                |__event| match __event {
                    StreamEvent::Failure(__field) => __field,
                    _ => ::core::unreachable!("the failure event"),
                },
            )
            .make(__message)
    }
}
#[automatically_derived]
#[allow(
    unused_variables,
    unreachable_patterns,
    clippy::match_same_arms,
    clippy::single_match,
    clippy::too_many_lines,
    clippy::manual_async_fn,
    clippy::used_underscore_binding,
    clippy::no_effect_underscore_binding,
    clippy::match_single_binding
)]
impl<W: BatchWork> ::stagewise::__private::HandlerSupervised for Consume<W> {
    fn stage_id(&self) -> ::stagewise::__private::StageId {
        <Self as ::stagewise::__private::StageFields>::stage_id(self)
    }
    fn writer_id(&self) -> ::stagewise::__private::WriterId {
        <Self as ::stagewise::__private::StageFields>::writer_id(self)
    }
}
/// A stage that consumes a stream, doing `W` with it.
pub struct Consume<W: BatchWork> {
    id: StageId,
    inlet: Inlet<W::Item>,
}
#[automatically_derived]
impl<W: BatchWork> ::stagewise::__private::StageFields for Consume<W> {
    fn stage_id(&self) -> ::stagewise::__private::StageId {
        self.id
    }
}
impl<W: BatchWork> Consume<W> {
    async fn next(
        &mut self,
        _: &mut W,
    ) -> Result<Directive<StreamEvent<W::Item>>, BoxError> {
        self.next_message(false).await
    }
    async fn next_draining(
        &mut self,
        _: &mut W,
    ) -> Result<Directive<StreamEvent<W::Item>>, BoxError> {
        self.next_message(true).await
    }
    /// The next message on the inlet. A closed inlet is the end of the stream while draining (the stage before was
    /// stopped), and otherwise an error: the stage before failed.
    async fn next_message(
        &mut self,
        draining: bool,
    ) -> Result<Directive<StreamEvent<W::Item>>, BoxError> {
        Ok(
            Directive::Transition(
                match self.inlet.recv().await {
                    Some(Message::Events(batch)) => StreamEvent::Batch(batch),
                    Some(Message::EndOfStream) => StreamEvent::EndOfStream,
                    None if self.inlet.failure().is_some() => {
                        return Err(
                            format!(
                                "the durable link could not be read: {}", self.inlet
                                .failure().unwrap()
                            )
                                .into(),
                        );
                    }
                    None if draining => StreamEvent::UpstreamClosed,
                    None => return Err("upstream closed without end of stream".into()),
                },
            ),
        )
    }
}
/// The effects of a stage that consumes a stream.
pub enum ConsumeAction<P> {
    Work(Batch<P>),
    EndOfStream,
    Report(String),
}
#[automatically_derived]
#[allow(dead_code)]
impl<P> ConsumeAction<P> {
    /// The variant's name, for logs (e.g. `Action::name`).
    #[must_use]
    pub const fn variant_name(&self) -> &'static str {
        match self {
            ConsumeAction::Work { .. } => "Work",
            ConsumeAction::EndOfStream { .. } => "EndOfStream",
            ConsumeAction::Report { .. } => "Report",
        }
    }
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
            return Err(
                format!("chaos: parse failed on a batch of {} lines", lines.len()).into(),
            );
        }
        if !self.resumed {
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
pub fn parse_restartable(
    id: StageId,
    inlet: Inlet<String>,
    out: Outlet<Hit>,
    chaos: &Chaos,
) -> PipelineStage {
    let work = ParseWork {
        out,
        ids: EventIds::starting_at(id.into(), chaos.next_id()),
        context: StageContext::new(id, ParseWork::NAME),
        resumed: true,
        chaos: chaos.clone(),
    };
    PipelineStage::new(Consume { id, inlet }, ConsumeState::INITIAL, work)
}
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
        *self.summary.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(
            summary,
        );
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
    let work = AggregateWork {
        aggregator,
        errors,
        summary,
        checkpoints,
    };
    PipelineStage::new(Consume { id, inlet }, ConsumeState::INITIAL, work)
}
