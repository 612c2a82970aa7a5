//! The typed model of an annotated state enum: what the attribute and each variant declare, each part keeping the
//! syntax it came from so validation and codegen can point errors at it.

/// The tokens of an attribute, so an error about the whole attribute underlines all of it.
pub type Origin = proc_macro2::TokenStream;

use syn::{Expr, Generics, Ident, Path, Type};

/// Which supervisor trait the machine is wired to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `#[handler_supervised]`: a stage with a stage id (`HandlerSupervised`).
    Handler,
    /// `#[self_supervised]`: an orchestrator without a handler (`SelfSupervised`).
    SelfSupervised,
}

impl Mode {
    /// The attribute's name, for messages.
    pub fn attr(self) -> &'static str {
        match self {
            Mode::Handler => "handler_supervised",
            Mode::SelfSupervised => "self_supervised",
        }
    }
}

/// The stage type and the generics its impls need: `stage = <H: Handler> Transform<H>`.
#[derive(Clone, Debug)]
pub struct StageType {
    /// Parameters and bounds of the impls, written before the type.
    pub generics: Generics,
    /// The stage type itself.
    pub ty: Type,
}

/// How the failure event carries its message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FailureShape {
    /// `Event::Error(String)`.
    Tuple,
    /// `Event::Error { message: String }`, with the field's name.
    Named(Ident),
}

/// `failure = Event::Error` (tuple) or `failure = Event::Error { message }` (struct variant).
#[derive(Clone, Debug)]
pub struct Failure {
    /// The variant's path, as written.
    pub path: Path,
    /// Its shape.
    pub shape: FailureShape,
}

/// The keys of the attribute itself.
#[derive(Clone, Debug)]
pub struct Args {
    /// `crate = path`, `::stagewise` by default.
    pub krate: Path,
    /// `stage = Type`.
    pub stage: Option<StageType>,
    /// `event = Type`.
    pub event: Option<Type>,
    /// `action = Type`.
    pub action: Option<Type>,
    /// `context = Type`.
    pub context: Option<Type>,
    /// `failure = Event::Error`.
    pub failure: Option<Failure>,
    /// `on_failure = [actions]`.
    pub on_failure: Vec<Expr>,
    /// `name = "..."`, or a constant expression of type `&'static str` (`name = W::NAME`).
    pub name: Option<Expr>,
    /// `control(start = .., drain = .., stop = ..)`: the events control messages become.
    pub control: ControlEvents,
    /// `closed = event`: what a closed control channel becomes (overridable per state).
    pub closed: Option<Expr>,
    /// `inbox = field`: the stage's field holding its `EventInbox`, read under each state's control policy.
    pub inbox: Option<syn::Member>,
    /// `completion = Stage::method`: writes the stage's completion when it terminates.
    pub completion: Option<Path>,
    /// `ignore = [events]`: events every state drops.
    pub ignore: Vec<Path>,
    /// `unhandled = Stage::hook`: decides what an event no state handles does.
    pub unhandled: Option<Path>,
    /// `action_lists(name = [actions], ..)`: named lists the action lists may name.
    pub action_lists: Vec<(Ident, Vec<Expr>)>,
    /// True when `crate = ..` was given.
    pub crate_set: bool,
    /// True when `on_failure = ..` was given (it is required, even if empty).
    pub on_failure_set: bool,
    /// Keys that were written (even if their value did not parse) or that an unknown key was probably meant to be.
    pub given: Vec<String>,
}

/// The events control messages become.
#[derive(Clone, Debug, Default)]
pub struct ControlEvents {
    /// `Control::Start`.
    pub start: Option<Expr>,
    /// `Control::Drain`.
    pub drain: Option<Expr>,
    /// `Control::Stop`.
    pub stop: Option<Expr>,
}

impl ControlEvents {
    /// The control messages, as `control(..)` names them.
    pub const MESSAGES: [&'static str; 3] = ["start", "drain", "stop"];

    /// The event of the message `name`, one of [`Self::MESSAGES`].
    pub fn slot(&mut self, name: &str) -> Option<&mut Option<Expr>> {
        match name {
            "start" => Some(&mut self.start),
            "drain" => Some(&mut self.drain),
            "stop" => Some(&mut self.stop),
            _ => None,
        }
    }
}

/// How a state's run ends when the machine reaches it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndingKind {
    /// `#[terminal]`.
    Completed,
    /// `#[terminal(cancelled)]`.
    Cancelled,
    /// `#[failed]`.
    Failed,
}

/// A state's control-channel policy, `#[control(block | poll | ignore)]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Wait for control messages only.
    Block,
    /// Work, taking control messages first.
    Poll,
    /// Work, leaving control messages unread.
    Ignore,
}

/// The shape of a variant's fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// No fields.
    Unit,
    /// `(..)` with this many fields.
    Tuple(usize),
    /// `{..}` with this many fields.
    Named(usize),
}

/// What a state does each turn, `#[dispatch(..)]`.
#[derive(Clone, Debug)]
pub enum Dispatch {
    /// `wait`: nothing; control messages and timeouts drive the state.
    Wait,
    /// `terminate`: end the run.
    Terminate,
    /// `emit = event`: feed this event.
    Emit(Expr),
    /// `Stage::method`: call this async method with `(&mut stage, &mut context)`.
    Call(Path),
    /// `Stage::method, sync`: call this plain (not `async`) method with `(&mut stage, &mut context)`; no future.
    CallSync(Path),
}

/// Where a declared transition goes.
#[derive(Clone, Debug)]
pub enum Target {
    /// A unit state: `=> Running`.
    State(Ident),
    /// `=> stay`: an internal transition, no exit or entry.
    Stay(Ident),
    /// `=> Stage::decide`: a function decides (data-dependent); `to` lists where it may go.
    Call(Path),
}

/// One event a transition handles: `Event::Start` (any fields), or a pattern such as `Event::Line(line)` whose
/// bindings the transition's actions can use.
#[derive(Clone, Debug)]
pub struct EventPat {
    /// The variant's path.
    pub path: Path,
    /// The whole pattern, when it has fields.
    pub pat: Option<syn::Pat>,
}

/// `#[on(Event::A | Event::B => target, to = [..], actions = [..])]`.
#[derive(Clone, Debug)]
pub struct Transition {
    /// The attribute, for errors about the whole of it.
    pub attr: Origin,
    /// The events it handles.
    pub events: Vec<EventPat>,
    /// Where it goes.
    pub target: Target,
    /// `to = [..]`: the states a function transition may go to.
    pub to: Option<Vec<Ident>>,
    /// `actions = [..]`.
    pub actions: Vec<Expr>,
}

/// `#[timeout(secs = N | millis = N, event = E)]`.
#[derive(Clone, Debug)]
pub struct Timeout {
    /// The attribute.
    pub attr: Origin,
    /// The duration in milliseconds.
    pub millis: Option<u64>,
    /// The event it fires.
    pub event: Option<Expr>,
}

/// One state: a variant of the enum and what its attributes declare.
#[derive(Clone, Debug)]
pub struct State {
    /// The variant's name.
    pub ident: Ident,
    /// Its fields' shape.
    pub shape: Shape,
    /// The fields, for errors about them.
    pub fields: Option<syn::Fields>,
    /// The `#[initial]` attribute, if present.
    pub initial: Option<Origin>,
    /// `#[terminal]` / `#[failed]`, with the attribute's span.
    pub ending: Option<(EndingKind, Origin)>,
    /// `#[failed(Stage::build)]`: the function that builds the failed state from the state that failed and the
    /// message, for a failed state that carries more than the message.
    pub failed_with: Option<Path>,
    /// `#[control(..)]` policy and the attribute's span.
    pub control: Option<(Policy, Origin)>,
    /// `#[control(.., closed = event)]`.
    pub closed: Option<Expr>,
    /// `#[dispatch(..)]` and the attribute's span.
    pub dispatch: Option<(Dispatch, Origin)>,
    /// `#[on(..)]`, in source order.
    pub transitions: Vec<Transition>,
    /// `#[ignore(..)]`: events this state drops instead of failing.
    pub ignore: Vec<Path>,
    /// `#[on_failure(..)]`: this state's own failure actions, replacing the attribute's `on_failure`.
    pub on_failure: Option<(Vec<Expr>, Origin)>,
    /// `#[entry(..)]`.
    pub entry: Vec<Expr>,
    /// `#[exit(..)]`.
    pub exit: Vec<Expr>,
    /// `#[timeout(..)]`.
    pub timeout: Option<Timeout>,
}

impl State {
    /// True for `#[terminal]` and `#[failed]` states.
    pub fn is_terminal(&self) -> bool {
        self.ending.is_some()
    }

    /// How a run that reaches this state ends; `None` for an active state.
    pub fn ending_kind(&self) -> Option<EndingKind> {
        self.ending.as_ref().map(|(kind, _)| *kind)
    }

    /// True for the `#[failed]` state.
    pub fn is_failed(&self) -> bool {
        matches!(self.ending, Some((EndingKind::Failed, _)))
    }

    /// The control policy the state ends up with: terminal states ignore the channel; states without a dispatch
    /// block; states with one poll.
    pub fn policy(&self) -> Policy {
        match (self.is_terminal(), &self.control) {
            (true, _) => Policy::Ignore,
            (false, Some((policy, _))) => *policy,
            // A state with no work of its own waits for control messages or its timeout: that is `Block`, which
            // also fails fast instead of hanging when there is no control channel and no timeout.
            (false, None) if matches!(self.dispatch, None | Some((Dispatch::Wait, _))) => Policy::Block,
            (false, None) => Policy::Poll,
        }
    }
}

/// The whole model of one annotated enum.
#[derive(Clone, Debug)]
pub struct Model {
    /// Which supervisor trait.
    pub mode: Mode,
    /// The attribute's keys.
    pub args: Args,
    /// The enum's name.
    pub ident: Ident,
    /// The enum's generics (must be empty).
    pub generics: Generics,
    /// The states, in source order.
    pub states: Vec<State>,
}

impl Model {
    /// The state named `ident`.
    pub fn state(&self, ident: &Ident) -> Option<&State> {
        self.states.iter().find(|s| s.ident == *ident)
    }

    /// The `#[initial]` state (the first, if several are marked).
    pub fn initial(&self) -> Option<&State> {
        self.states.iter().find(|s| s.initial.is_some())
    }

    /// The `#[failed]` state (the first, if several are marked).
    pub fn failed(&self) -> Option<&State> {
        self.states.iter().find(|s| s.is_failed())
    }

    /// The control policy the run loop is told for `state`: its own, except that with an `inbox` a blocking state is
    /// run as a polling one whose work is waiting for the inbox (the run loop calls no dispatch in a blocking state,
    /// and control messages and the timeout still race that wait, as they would the block).
    pub fn run_policy(&self, state: &State) -> Policy {
        match state.policy() {
            Policy::Block if self.args.inbox.is_some() => Policy::Poll,
            policy => policy,
        }
    }

    /// The supervisor's name when `name = ..` is not written: the stage type's last path segment in snake case
    /// (`AccessLog` -> `"access_log"`), as names in logs and lifecycle records are written. (A written name is
    /// generated code's, in `codegen::supervised`.)
    pub fn default_supervisor_name(&self) -> String {
        let ident = match self.args.stage.as_ref().map(|s| &s.ty) {
            Some(Type::Path(p)) => {
                p.path.segments.last().map_or_else(|| self.ident.to_string(), |s| s.ident.to_string())
            }
            _ => self.ident.to_string(),
        };
        snake_case(&ident)
    }
}

/// The last segment of a path, for names in diagrams and messages.
pub fn last_ident(path: &Path) -> String {
    path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default()
}

/// `AccessLog` -> `access_log`, `HTTPServer` -> `http_server`.
pub fn snake_case(ident: &str) -> String {
    let chars: Vec<char> = ident.chars().collect();
    let mut out = String::with_capacity(ident.len() + 4);
    for (i, c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev_lower = i > 0 && (chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if i > 0 && (prev_lower || (next_lower && chars[i - 1].is_uppercase())) {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(*c);
        }
    }
    out
}

/// Replaces each bare name in `actions` that names a list of `lists` with that list's actions, in place.
fn splice(actions: &mut Vec<Expr>, lists: &[(Ident, Vec<Expr>)]) {
    let named = |e: &Expr| match e {
        Expr::Path(p) if p.qself.is_none() && p.attrs.is_empty() => {
            p.path.get_ident().and_then(|i| lists.iter().find(|(name, _)| name == i)).map(|(_, list)| list.clone())
        }
        _ => None,
    };
    if !actions.iter().any(|e| named(e).is_some()) {
        return;
    }
    *actions = actions.drain(..).flat_map(|e| named(&e).unwrap_or_else(|| vec![e])).collect();
}

impl Model {
    /// Splices the named action lists (`action_lists(teardown = [..])`) into every action list that names one:
    /// `on_failure`, and each state's transitions, `#[on_failure]`, `#[entry]` and `#[exit]`.
    pub fn splice_action_lists(&mut self) {
        let lists = std::mem::take(&mut self.args.action_lists);
        if lists.is_empty() {
            return;
        }
        splice(&mut self.args.on_failure, &lists);
        for state in &mut self.states {
            for t in &mut state.transitions {
                splice(&mut t.actions, &lists);
            }
            if let Some((actions, _)) = &mut state.on_failure {
                splice(actions, &lists);
            }
            splice(&mut state.entry, &lists);
            splice(&mut state.exit, &lists);
        }
        self.args.action_lists = lists;
    }
}
