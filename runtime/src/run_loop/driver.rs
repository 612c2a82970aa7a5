//! What the loop needs of a supervisor, and the adapters that reach it from the two public supervisor traits.

use std::future::Future;

use crate::directive::Directive;
use crate::error::BoxError;
use crate::event::{StageId, WriterId};
use crate::machine::Machine;
use crate::supervisor::{HandlerSupervised, SelfSupervised};

/// What the loop needs of a supervisor. The two public supervisor traits reach it through the wrappers below, so the
/// loop is written once.
pub(super) trait Driver: Send {
    type M: Machine;
    fn name(&self) -> &'static str;
    fn writer_id(&self) -> WriterId;
    fn stage_id(&self) -> Option<StageId>;
    fn failure_event(&self, message: String) -> Event<Self>;
    fn dispatch<'a>(
        &'a mut self,
        state: &'a State<Self>,
        ctx: &'a mut Ctx<Self>,
    ) -> impl Future<Output = Result<Directive<Event<Self>>, BoxError>> + Send + 'a;
    fn complete<'a>(&'a mut self, ctx: &'a mut Ctx<Self>) -> impl Future<Output = Result<(), BoxError>> + Send + 'a;
}

pub(super) type State<D> = <<D as Driver>::M as Machine>::State;
pub(super) type Event<D> = <<D as Driver>::M as Machine>::Event;
pub(super) type Ctx<D> = <<D as Driver>::M as Machine>::Context;
pub(super) type Act<D> = <<D as Driver>::M as Machine>::Action;

pub(super) struct ViaHandler<S>(pub(super) S);
pub(super) struct ViaSelf<S>(pub(super) S);

impl<S: HandlerSupervised> Driver for ViaHandler<S> {
    type M = S;
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn writer_id(&self) -> WriterId {
        HandlerSupervised::writer_id(&self.0)
    }
    fn stage_id(&self) -> Option<StageId> {
        Some(self.0.stage_id())
    }
    fn failure_event(&self, message: String) -> S::Event {
        HandlerSupervised::event_for_action_error(&self.0, message)
    }
    fn dispatch<'a>(
        &'a mut self,
        state: &'a S::State,
        ctx: &'a mut S::Context,
    ) -> impl Future<Output = Result<Directive<S::Event>, BoxError>> + Send + 'a {
        HandlerSupervised::dispatch_state(&mut self.0, state, ctx)
    }
    fn complete<'a>(&'a mut self, ctx: &'a mut S::Context) -> impl Future<Output = Result<(), BoxError>> + Send + 'a {
        HandlerSupervised::write_completion_event(&mut self.0, ctx)
    }
}

impl<S: SelfSupervised> Driver for ViaSelf<S> {
    type M = S;
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn writer_id(&self) -> WriterId {
        SelfSupervised::writer_id(&self.0)
    }
    fn stage_id(&self) -> Option<StageId> {
        None
    }
    fn failure_event(&self, message: String) -> S::Event {
        SelfSupervised::event_for_action_error(&self.0, message)
    }
    fn dispatch<'a>(
        &'a mut self,
        state: &'a S::State,
        ctx: &'a mut S::Context,
    ) -> impl Future<Output = Result<Directive<S::Event>, BoxError>> + Send + 'a {
        SelfSupervised::dispatch_state(&mut self.0, state, ctx)
    }
    fn complete<'a>(&'a mut self, ctx: &'a mut S::Context) -> impl Future<Output = Result<(), BoxError>> + Send + 'a {
        SelfSupervised::write_completion_event(&mut self.0, ctx)
    }
}
