//! Actions: the effects a transition asks for, executed by the run loop in order with the context.

use std::future::Future;

use crate::error::BoxError;

/// An effect of a transition. Only the run loop executes actions.
pub trait Action<Ctx>: Send + 'static {
    /// The action's name, for logs.
    fn name(&self) -> &'static str;

    /// Performs the effect. An error (or a panic) takes the failure path and skips the rest of the turn's actions.
    fn execute(self, ctx: &mut Ctx) -> impl Future<Output = Result<(), BoxError>> + Send;
}
