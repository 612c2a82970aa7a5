//! The failure path: map a failure to the machine's failure event, turn, run the failure actions; and escalation, when
//! something goes wrong on the way.

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;

use crate::error::Escalation;
use crate::lifecycle::Lifecycle;
use crate::machine::{ActionsOf, Ending, StateVariant};

use super::run::{Progress, Run};
use crate::supervisor::Supervisor;

impl<S: Supervisor> Run<S> {
    /// The failure path: map the failure to the machine's failure event, turn, run the failure actions. It must end in
    /// a failed state; anything else that goes wrong on the way escalates.
    pub(super) async fn fail(&mut self, message: String) -> Progress {
        self.tally.failures += 1;
        self.counters.publish(&self.tally);
        let state = self.machine.state();
        tracing::warn!(
            supervisor = self.recorder.supervisor,
            stage = self.recorder.stage_number(),
            state = state.name(),
            error = %message,
            "taking the failure path"
        );
        if let Some(first) = &self.failure {
            let first = first.clone();
            return self.escalate(first, message).await;
        }
        if state.ending() == Some(Ending::Failed) {
            return self.escalate(format!("the run had already failed in state {}", state.name()), message).await;
        }
        let turned = std::panic::catch_unwind(AssertUnwindSafe(|| {
            let event = self.supervisor.event_for_action_error(message.clone());
            self.step(event)
        }));
        let actions = match turned {
            Ok(Ok(actions)) => actions,
            Ok(Err(rejected)) => return self.escalate(message, rejected).await,
            Err(panic) => {
                let second = self.panicked(&*panic);
                return self.escalate(message, second).await;
            }
        };
        if let Err(second) = self.execute_caught(actions).await {
            return self.escalate(message, second).await;
        }
        let state = self.machine.state();
        if state.ending() != Some(Ending::Failed) {
            let second = format!("the failure event led to state {}, which is not a failed state", state.name());
            return self.escalate(message, second).await;
        }
        self.failure = Some(message);
        Progress::Running
    }

    /// [`execute`](Self::execute) with its own panic guard, for the failure actions.
    async fn execute_caught(&mut self, actions: ActionsOf<S>) -> Result<(), String> {
        match AssertUnwindSafe(self.execute(actions)).catch_unwind().await {
            Ok(result) => result,
            Err(panic) => Err(self.panicked(&*panic)),
        }
    }

    /// Stops the run at once: one Failed record holding both failures.
    pub(super) async fn escalate(&mut self, first: String, second: String) -> Progress {
        tracing::error!(
            supervisor = self.recorder.supervisor,
            stage = self.recorder.stage_number(),
            error = %first,
            escalation = %second,
            "failure while handling a failure; stopping"
        );
        self.counters.publish(&self.tally);
        let record =
            self.recorder.write(Lifecycle::Failed { error: first.clone(), escalation: Some(second.clone()) }).await;
        let second = match self.recorder.refused.take() {
            Some(refused) => format!("{second}; {refused}"),
            None => second,
        };
        Progress::Ended(Err(Escalation::new(first, second, record)))
    }
}
