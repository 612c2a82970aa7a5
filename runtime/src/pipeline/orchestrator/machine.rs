//! The orchestrator's machine (which event moves it where, with which actions) and its dispatch (what it waits for
//! in each state).

use crate::control::Control;
use crate::directive::Directive;
use crate::error::BoxError;
use crate::machine::{Actions, Decision, DefaultCapacity, Machine};
use crate::supervisor::{SelfSupervised, Supervisor};

use super::super::policy::FailurePolicy;
use super::context::Seen;
use super::{Orchestrator, OrchestratorAction, OrchestratorContext, OrchestratorEvent, OrchestratorState};

impl Machine for Orchestrator {
    type State = OrchestratorState;
    type Event = OrchestratorEvent;
    type Context = OrchestratorContext;
    type Action = OrchestratorAction;
    type ActionCapacity = DefaultCapacity;

    fn transition(
        state: &OrchestratorState,
        event: OrchestratorEvent,
        ctx: &mut OrchestratorContext,
    ) -> Decision<OrchestratorState, OrchestratorAction> {
        use OrchestratorAction::{AbortAll, CancelRestarts, DrainAll, Restart, StopAll};
        use OrchestratorEvent as E;
        use OrchestratorState as S;
        // Each escalation of a stop goes one step further: drain, then stop at once, then abort.
        let harder = if ctx.stopped_at_once { AbortAll } else { StopAll };
        match (state, event) {
            (S::Running, E::Drain) => Decision::goto_with(S::Draining, [DrainAll]),
            // A stage waiting out its backoff cannot pass a drain on: give up its restart and stop every stage now.
            (S::Running | S::Draining, E::Stop) if ctx.restart_pending() => {
                Decision::goto_with(S::Stopping, [CancelRestarts, StopAll])
            }
            (S::Running | S::Draining, E::Stop) => Decision::goto_with(S::Stopping, [DrainAll]),
            (S::Draining, E::DeadlinePassed) => Decision::goto_with(S::Stopping, [CancelRestarts, harder]),
            (S::Stopping, E::Stop | E::DeadlinePassed) | (S::Failed, E::DeadlinePassed) => {
                Decision::stay_with([harder])
            }
            (S::Draining | S::Stopping, E::Drain) => Decision::stay_with([]),
            (S::Running | S::Draining, E::RestartDue) => Decision::stay_with([Restart]),
            (S::Stopping | S::Failed, E::RestartDue) => Decision::stay_with([]),
            (S::Running | S::Draining | S::Stopping, E::StageEnded | E::ControlClosed) => Decision::stay_with([]),
            (S::Running | S::Draining, E::AllEnded) => Decision::goto(S::Completed),
            (S::Stopping, E::AllEnded) => Decision::goto(S::Cancelled),
            (S::Running | S::Draining | S::Stopping, E::Failure(_)) => {
                Decision::goto_with(S::Failed, [CancelRestarts, DrainAll])
            }
            (S::Failed, E::Failure(_)) => Decision::stay_with([]),
            _ => Decision::Unhandled,
        }
    }

    fn on_entry(state: &OrchestratorState, actions: &mut Actions<OrchestratorAction>) {
        if *state == OrchestratorState::Running {
            actions.push(OrchestratorAction::StartAll);
        }
    }

    fn control_event(control: Control) -> Option<OrchestratorEvent> {
        match control {
            Control::Start => None,
            Control::Drain => Some(OrchestratorEvent::Drain),
            Control::Stop => Some(OrchestratorEvent::Stop),
        }
    }

    fn control_closed(_state: &OrchestratorState) -> Option<OrchestratorEvent> {
        Some(OrchestratorEvent::ControlClosed)
    }
}

impl Supervisor for Orchestrator {
    fn name(&self) -> &'static str {
        self.name
    }
    async fn dispatch_state(
        &mut self,
        state: &OrchestratorState,
        ctx: &mut OrchestratorContext,
    ) -> Result<Directive<OrchestratorEvent>, BoxError> {
        // What the last actions queued (the events of stages whose restarts were cancelled) is journaled first.
        ctx.journal_pending().await?;
        match state {
            OrchestratorState::Running | OrchestratorState::Draining | OrchestratorState::Stopping => {
                if !ctx.running() {
                    return match ctx.first_failure.take() {
                        Some(failure) => Err(ctx.root_cause(failure).await.into()),
                        None => Ok(Directive::Transition(OrchestratorEvent::AllEnded)),
                    };
                }
                // Stages are restarted only while the pipeline runs or drains, as an OTP supervisor restarts
                // nothing while it shuts down.
                let restarting = *state != OrchestratorState::Stopping && !ctx.stopped_at_once;
                Ok(Directive::Transition(match ctx.next_seen(restarting).await? {
                    Seen::DeadlinePassed => OrchestratorEvent::DeadlinePassed,
                    Seen::RestartDue => OrchestratorEvent::RestartDue,
                    Seen::GaveUp(message) => return Err(message.into()),
                    Seen::Ended(Some(_)) if ctx.stopped_at_once => OrchestratorEvent::StageEnded,
                    Seen::Ended(Some(failure)) if ctx.policy == FailurePolicy::FailPipeline => {
                        return Err(ctx.root_cause(failure).await.into());
                    }
                    Seen::Ended(Some(failure)) => {
                        ctx.first_failure.get_or_insert(failure);
                        OrchestratorEvent::StageEnded
                    }
                    Seen::Ended(None) => OrchestratorEvent::StageEnded,
                }))
            }
            // The failed state waits for the rest to drain (or be stopped, or aborted, at the deadline).
            OrchestratorState::Failed => {
                while ctx.running() {
                    if let Seen::DeadlinePassed = ctx.next_seen(false).await? {
                        return Ok(Directive::Transition(OrchestratorEvent::DeadlinePassed));
                    }
                }
                Ok(Directive::Terminate)
            }
            OrchestratorState::Completed | OrchestratorState::Cancelled => Ok(Directive::Terminate),
        }
    }

    fn event_for_action_error(&self, message: String) -> OrchestratorEvent {
        OrchestratorEvent::Failure(message)
    }
}

impl SelfSupervised for Orchestrator {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::{StateMachine, Step};
    use OrchestratorAction::{AbortAll, CancelRestarts, DrainAll, StopAll};
    use OrchestratorEvent as E;
    use OrchestratorState as S;

    /// Feeds `event` in `state`; the state reached and the actions asked for.
    fn turn(state: S, event: E, ctx: &mut OrchestratorContext) -> (S, Vec<OrchestratorAction>) {
        let mut machine = StateMachine::<Orchestrator>::new(state);
        match machine.handle(event, ctx) {
            Step::Turned { actions, .. } => (*machine.state(), actions.into_iter().collect()),
            other => panic!("{state:?} did not turn: {other:?}"),
        }
    }

    #[test]
    fn drain_and_stop_escalate_one_step_at_a_time() {
        let ctx = &mut OrchestratorContext::empty();
        assert_eq!(turn(S::Running, E::Drain, ctx), (S::Draining, vec![DrainAll]));
        assert_eq!(turn(S::Running, E::Stop, ctx), (S::Stopping, vec![DrainAll]));
        assert_eq!(turn(S::Draining, E::Stop, ctx), (S::Stopping, vec![DrainAll]));
        assert_eq!(turn(S::Draining, E::DeadlinePassed, ctx), (S::Stopping, vec![CancelRestarts, StopAll]));
        assert_eq!(turn(S::Stopping, E::Stop, ctx), (S::Stopping, vec![StopAll]));
        ctx.stopped_at_once = true;
        assert_eq!(turn(S::Stopping, E::Stop, ctx), (S::Stopping, vec![AbortAll]));
        assert_eq!(turn(S::Failed, E::DeadlinePassed, ctx), (S::Failed, vec![AbortAll]));
    }

    #[test]
    fn the_end_depends_on_how_the_stages_were_asked_to_end() {
        let ctx = &mut OrchestratorContext::empty();
        assert_eq!(turn(S::Running, E::AllEnded, ctx), (S::Completed, vec![]));
        assert_eq!(turn(S::Draining, E::AllEnded, ctx), (S::Completed, vec![]));
        assert_eq!(turn(S::Stopping, E::AllEnded, ctx), (S::Cancelled, vec![]));
        for state in [S::Running, S::Draining, S::Stopping] {
            assert_eq!(turn(state, E::Failure("boom".into()), ctx), (S::Failed, vec![CancelRestarts, DrainAll]));
        }
        assert_eq!(turn(S::Failed, E::Failure("again".into()), ctx), (S::Failed, vec![]), "idempotent when failed");
        assert_eq!(turn(S::Running, E::ControlClosed, ctx), (S::Running, vec![]), "a dropped handle changes nothing");
    }

    #[test]
    fn restarts_happen_while_running_or_draining_and_never_once_stopping() {
        let ctx = &mut OrchestratorContext::empty();
        assert_eq!(turn(S::Running, E::RestartDue, ctx), (S::Running, vec![OrchestratorAction::Restart]));
        assert_eq!(turn(S::Draining, E::RestartDue, ctx), (S::Draining, vec![OrchestratorAction::Restart]));
        assert_eq!(turn(S::Stopping, E::RestartDue, ctx), (S::Stopping, vec![]));
        assert_eq!(turn(S::Failed, E::RestartDue, ctx), (S::Failed, vec![]));
    }
}
