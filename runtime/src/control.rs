//! The control plane: messages a handle sends to a running stage, and how each state treats them.

/// A message from outside the stage: a handle, a pipeline, Ctrl-C.
///
/// Each machine says what a control message becomes in its own events
/// ([`Machine::control_event`](crate::Machine::control_event)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Control {
    /// Begin work.
    Start,
    /// Finish in-flight work, forward end of stream, complete.
    Drain,
    /// Stop now.
    Stop,
}

/// How a state treats the control channel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ControlPolicy {
    /// The state waits for a control message (or its timeout); it does no work of its own and its dispatch is not called.
    Block,
    /// The state works, and a control message that arrives is taken before the next piece of work.
    #[default]
    Poll,
    /// The state does not read the control channel; messages wait until a state that does.
    Ignore,
}
