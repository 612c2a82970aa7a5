//! Directives: what a state's dispatch tells the run loop to do next.

/// What the current state does this turn, as returned by a supervisor's `dispatch_state`.
///
/// ```
/// use stagewise_runtime::Directive;
///
/// // A dispatch that awaited a line decides what the loop feeds the machine.
/// fn after_read(line: Option<String>) -> Directive<Option<String>> {
///     match line {
///         Some(line) => Directive::Transition(Some(line)),
///         None => Directive::Transition(None), // end of input: the machine moves on to drain
///     }
/// }
/// assert_eq!(after_read(None), Directive::Transition(None));
/// ```
#[derive(Debug, PartialEq, Eq)]
pub enum Directive<E> {
    /// Nothing to drive now; the loop turns again. Dispatch should await its input rather than return this at once,
    /// so that an idle stage sleeps instead of spinning. (A stage that does return it at once still lets other tasks
    /// run: each Continue spends tokio's cooperative budget, as every 64th turn does whatever its directive.)
    Continue,
    /// Feed this event to the machine and run the resulting actions.
    Transition(E),
    /// Write the completion record and leave the loop.
    Terminate,
}
