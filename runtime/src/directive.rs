//! Directives: what a state's dispatch tells the run loop to do next.

/// What the current state does this turn, as returned by a supervisor's `dispatch_state`.
#[derive(Debug, PartialEq, Eq)]
pub enum Directive<E> {
    /// Nothing to drive now; the loop turns again. Dispatch should await its input rather than return this at once,
    /// so that an idle stage sleeps instead of spinning. (A stage that does return it at once still lets other tasks
    /// run: each Continue spends tokio's cooperative budget.)
    Continue,
    /// Feed this event to the machine and run the resulting actions.
    Transition(E),
    /// Write the completion record and leave the loop.
    Terminate,
}
