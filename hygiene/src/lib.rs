//! Proves the macros' output is hygienic: it compiles in edition 2024, inside modules with no imports, and stays clean
//! under `#![deny(warnings)]` plus the stricter rustc lints below, `clippy::all` and `clippy::pedantic` (checked by
//! `cargo clippy --workspace`).
#![deny(
    warnings,
    missing_docs,
    unused_qualifications,
    rust_2018_idioms,
    unreachable_pub,
    missing_debug_implementations
)]
#![deny(clippy::all, clippy::pedantic)]
#![forbid(unsafe_code)]

/// A handler-supervised transform with every feature of the attribute, written without a single `use`.
pub mod transform {
    /// The stage's states.
    #[::stagewise::handler_supervised(
        stage = Counter, event = Ev, action = Act, context = Ctx,
        failure = Ev::Failed { reason },
        on_failure = [Act::Log],
        control(start = Ev::Start, drain = Ev::Drain, stop = Ev::Stop),
        closed = Ev::Drain,
        name = "counter",
        crate = ::stagewise,
    )]
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub enum State {
        /// Waits for Start.
        #[initial]
        #[control(block, closed = Ev::Stop)]
        #[on(Ev::Start => Counting, actions = [Act::Log])]
        #[timeout(secs = 30, event = Ev::Stop)]
        Idle,
        /// Counts ticks.
        #[dispatch(Counter::tick)]
        #[on(Ev::Tick => Counter::count, to = [Counting, Done])]
        #[on(Ev::Drain => Done)]
        #[on(Ev::Stop => Stopped)]
        #[on(Ev::Noop => stay, actions = [Act::Log])]
        #[ignore(Ev::Start)]
        #[entry(Act::Log)]
        #[exit(Act::Log)]
        #[on_failure(Act::Log, Act::Log)]
        Counting,
        /// Finished.
        #[terminal]
        Done,
        /// Stopped early.
        #[terminal(cancelled)]
        Stopped,
        /// Failed.
        #[failed]
        Broken {
            /// Why.
            reason: ::std::string::String,
        },
    }

    /// The stage.
    #[derive(Debug, ::stagewise::Stage)]
    pub struct Counter {
        #[stage_id]
        id: ::stagewise::StageId,
        #[writer_id]
        writer: ::stagewise::WriterId,
        left: u32,
    }

    impl Counter {
        /// A counter that ticks `left` times.
        #[must_use]
        pub fn new(left: u32) -> Self {
            let id = ::stagewise::StageId(7);
            Self { id, writer: ::stagewise::WriterId::Stage(id), left }
        }

        async fn tick(
            &mut self,
            ctx: &mut Ctx,
        ) -> ::core::result::Result<::stagewise::Directive<Ev>, ::std::io::Error> {
            ::tokio::task::yield_now().await;
            self.left = self.left.saturating_sub(1);
            ctx.ticks += 1;
            ::core::result::Result::Ok(::stagewise::Directive::Transition(if self.left == 0 {
                Ev::Drain
            } else {
                Ev::Tick
            }))
        }

        fn count(_state: &State, _event: Ev, ctx: &mut Ctx) -> ::stagewise::Decision<State, Act> {
            if ctx.ticks > 100 {
                ::stagewise::Decision::goto(State::Done)
            } else {
                ::stagewise::Decision::stay_with([Act::Log])
            }
        }
    }

    /// Events.
    #[derive(Debug, ::stagewise::EventVariant)]
    pub enum Ev {
        /// Begin.
        Start,
        /// One more.
        Tick,
        /// Nothing.
        Noop,
        /// Finish.
        Drain,
        /// Stop now.
        Stop,
        /// Something failed.
        Failed {
            /// Why.
            reason: ::std::string::String,
        },
    }

    /// Actions.
    #[derive(Debug, ::stagewise::VariantName)]
    pub enum Act {
        /// Count a log line.
        Log,
    }

    /// Context.
    #[derive(Debug, Default)]
    pub struct Ctx {
        /// Ticks seen.
        pub ticks: u32,
        /// Log lines.
        pub logs: u32,
    }

    impl ::stagewise::Action<Ctx> for Act {
        fn name(&self) -> &'static str {
            self.variant_name()
        }

        async fn execute(self, ctx: &mut Ctx) -> ::core::result::Result<(), ::stagewise::BoxError> {
            ctx.logs += 1;
            ::core::result::Result::Ok(())
        }
    }
}

/// A generic stage: the type parameter lives on the stage, the state enum has no phantom variant.
pub mod generic {
    /// What the generic stage delegates to.
    pub trait Handler: Send + 'static {
        /// Handles one item.
        fn handle(&mut self) -> bool;
    }

    /// The states.
    #[::stagewise::handler_supervised(
        stage = <H: Handler> Worker<H>, event = Ev, action = Act, context = (),
        failure = Ev::Error,
    )]
    #[derive(Debug)]
    pub enum State {
        /// Working.
        #[initial]
        #[dispatch(Worker::work)]
        #[on(Ev::Done => Done)]
        Working,
        /// Done.
        #[terminal]
        Done,
        /// Failed.
        #[failed]
        Failed(::std::string::String),
    }

    /// The stage.
    #[derive(Debug, ::stagewise::Stage)]
    pub struct Worker<H: Handler> {
        #[stage_id]
        id: ::stagewise::StageId,
        handler: H,
    }

    impl<H: Handler> Worker<H> {
        /// A worker around `handler`.
        pub fn new(handler: H) -> Self {
            Self { id: ::stagewise::StageId(1), handler }
        }

        async fn work(
            &mut self,
            (): &mut (),
        ) -> ::core::result::Result<::stagewise::Directive<Ev>, ::stagewise::BoxError> {
            ::tokio::task::yield_now().await;
            if self.handler.handle() {
                ::core::result::Result::Ok(::stagewise::Directive::Transition(Ev::Done))
            } else {
                ::core::result::Result::Err("handler refused".into())
            }
        }
    }

    /// Events.
    #[derive(Debug, ::stagewise::EventVariant)]
    pub enum Ev {
        /// Finished.
        Done,
        /// Failed.
        Error(::std::string::String),
    }

    /// Actions (none).
    #[derive(Debug, ::stagewise::VariantName)]
    pub enum Act {}

    impl ::stagewise::Action<()> for Act {
        fn name(&self) -> &'static str {
            self.variant_name()
        }

        async fn execute(self, (): &mut ()) -> ::core::result::Result<(), ::stagewise::BoxError> {
            match self {}
        }
    }
}

/// A self-supervised orchestrator: no handler, no stage id; its own events, with data, arrive in its inbox.
pub mod orchestrator {
    /// The states.
    #[::stagewise::self_supervised(
        stage = Conductor, event = Ev, action = Act, context = (), failure = Ev::Error, inbox = events,
    )]
    #[derive(Debug)]
    pub enum State {
        /// Starting.
        #[initial]
        #[dispatch(emit = Ev::Go)]
        #[control(ignore)]
        #[on(Ev::Go => Waiting)]
        Starting,
        /// Waiting for a stop request in the inbox.
        #[on(Ev::Stop { reason: _ } => Finished)]
        Waiting,
        /// Finished.
        #[terminal]
        Finished,
        /// Failed.
        #[failed]
        Failed,
    }

    /// The orchestrator.
    #[derive(Debug)]
    pub struct Conductor {
        /// Its inbox.
        pub events: ::stagewise::EventInbox<Ev>,
    }

    /// Events.
    #[derive(Debug, ::stagewise::EventVariant)]
    pub enum Ev {
        /// Go.
        Go,
        /// Stop, and why.
        Stop {
            /// Why.
            reason: ::std::string::String,
        },
        /// Failed.
        Error(::std::string::String),
    }

    /// Actions (none).
    #[derive(Debug, ::stagewise::VariantName)]
    pub enum Act {}

    impl ::stagewise::Action<()> for Act {
        fn name(&self) -> &'static str {
            self.variant_name()
        }

        async fn execute(self, (): &mut ()) -> ::core::result::Result<(), ::stagewise::BoxError> {
            match self {}
        }
    }
}

#[cfg(test)]
mod tests {
    use stagewise::{HandlerSupervisedExt, Lifecycle, SelfSupervisedExt};

    struct Yes;
    impl super::generic::Handler for Yes {
        fn handle(&mut self) -> bool {
            true
        }
    }

    #[tokio::test]
    async fn generated_code_runs_in_edition_2024() {
        let stage = super::transform::Counter::new(3);
        let ctx = super::transform::Ctx::default();
        let record = stagewise::run_handler_supervised(
            stage,
            super::transform::State::Counting,
            ctx,
            stagewise::Supervision::default(),
        )
        .await
        .expect("no escalation");
        assert_eq!(record.lifecycle, Lifecycle::Completed);
        assert_eq!(record.state, "Done");

        let record = super::generic::Worker::new(Yes).run(super::generic::State::INITIAL, ()).await.unwrap();
        assert_eq!(record.lifecycle, Lifecycle::Completed);

        let (sender, events) = stagewise::event_inbox(1);
        sender.try_send(super::orchestrator::Ev::Stop { reason: "done".into() }).unwrap();
        let conductor = super::orchestrator::Conductor { events };
        let record = conductor.run(super::orchestrator::State::INITIAL, ()).await.unwrap();
        assert_eq!(record.lifecycle, Lifecycle::Completed);
        assert_eq!(record.writer, stagewise::WriterId::System);
    }
}
