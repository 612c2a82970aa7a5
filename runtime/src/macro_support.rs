//! Checks generated code runs on the user's own items, so a mistake rustc must judge is reported once, on the user's
//! token, saying what to write: a dispatch method of the wrong shape, a failure event that does not carry a `String`.
//! Re-exported through `__private`; no semver promise.

use std::future::Future;

use crate::action::Action;
use crate::directive::Directive;
use crate::error::BoxError;
use crate::machine::{Decision, EventVariant};

/// A stage's dispatch method: `async fn name(&mut self, ctx: &mut Context) -> Result<Directive<Event>, E>` with
/// `E: Into<BoxError>`. Generated dispatch calls the method through this trait so a method of another shape is one
/// error on its path in `#[dispatch(..)]`.
#[diagnostic::on_unimplemented(
    message = "`#[dispatch(..)]` needs an async method of the stage taking the context and returning a `Result` of a `Directive`",
    label = "not `async fn(&mut self, ctx: &mut {C}) -> Result<Directive<{E}>, impl Into<BoxError>>`",
    note = "write the method as `async fn next(&mut self, ctx: &mut {C}) -> Result<stagewise::Directive<{E}>, stagewise::BoxError>`, or keep a plain `fn` and add `sync`: `#[dispatch(Stage::next, sync)]`"
)]
pub trait DispatchFn<'s, 'c, S: 's, C: 'c, E> {
    /// The method's error type.
    type Error: Into<BoxError>;
    /// The method's future: it borrows the stage for `'s` and the context for `'c`, each on its own, so the future
    /// generated dispatch returns names no lifetime but those of its own parameters.
    type Future: Future<Output = Result<Directive<E>, Self::Error>>;
    /// Calls the method.
    fn call(self, stage: &'s mut S, ctx: &'c mut C) -> Self::Future;
}

// Not recommended, so a method of another shape is reported as "not a dispatch method" (the message above) rather
// than as whichever of these bounds it misses.
#[diagnostic::do_not_recommend]
impl<'s, 'c, S: 's, C: 'c, E, Err, Fut, F> DispatchFn<'s, 'c, S, C, E> for F
where
    F: FnOnce(&'s mut S, &'c mut C) -> Fut,
    Fut: Future<Output = Result<Directive<E>, Err>>,
    Err: Into<BoxError>,
{
    type Error = Err;
    type Future = Fut;

    #[inline]
    fn call(self, stage: &'s mut S, ctx: &'c mut C) -> Fut {
        self(stage, ctx)
    }
}

/// Calls a dispatch method: its own future, with no wrapper future around it (`ErrInto` keeps a state of its own and
/// moves it on completion: 5 instructions a turn in `benches/macro_cost.rs`), so generated dispatch awaits it in its
/// `async` block and maps the output with [`dispatched`]. Opaque, its output type fixed here by the `F: DispatchFn`
/// bound, so a method of the wrong shape is that bound's one error, and nothing more.
#[inline]
pub fn dispatch<'s, 'c, S: 's, C: 'c, E, F: DispatchFn<'s, 'c, S, C, E>>(
    method: F,
    stage: &'s mut S,
    ctx: &'c mut C,
) -> impl Future<Output = Result<Directive<E>, F::Error>> + use<'s, 'c, S, C, E, F> {
    method.call(stage, ctx)
}

/// The output of a [`dispatch`] future as dispatch's: the method's error into a `BoxError`.
#[inline]
pub fn dispatched<E, Err: Into<BoxError>>(result: Result<Directive<E>, Err>) -> Result<Directive<E>, BoxError> {
    result.map_err(Into::into)
}

/// [`dispatch`] as one future, for `with_inbox`, which races it against the stage's inbox: the method's future
/// wrapped in `ErrInto`, a plain mapping of its output. The same bound, so the same one error.
#[inline]
pub fn dispatch_future<'s, 'c, S: 's, C: 'c, E, F: DispatchFn<'s, 'c, S, C, E>>(
    method: F,
    stage: &'s mut S,
    ctx: &'c mut C,
) -> impl Future<Output = Result<Directive<E>, BoxError>> + use<'s, 'c, S, C, E, F> {
    futures_util::TryFutureExt::err_into(method.call(stage, ctx))
}

/// `#[dispatch(Stage::method, sync)]`: a plain `fn name(&mut self, ctx: &mut Context) -> Result<Directive<Event>, E>`,
/// `E: Into<BoxError>`, called with no future; a method of another shape (an `async fn` too) is one error on its path.
#[diagnostic::on_unimplemented(
    message = "`#[dispatch(.., sync)]` needs a plain (not `async`) method of the stage taking the context and returning a `Result` of a `Directive`",
    label = "not `fn(&mut self, ctx: &mut {C}) -> Result<Directive<{E}>, impl Into<BoxError>>`",
    note = "write the method as `fn next(&mut self, ctx: &mut {C}) -> Result<stagewise::Directive<{E}>, stagewise::BoxError>`; an `async fn` is named without `sync`: `#[dispatch(Stage::next)]`"
)]
pub trait SyncDispatchFn<S, C, E> {
    /// The method's error type.
    type Error: Into<BoxError>;
    /// Calls the method.
    fn call(self, stage: &mut S, ctx: &mut C) -> Result<Directive<E>, Self::Error>;
}

#[diagnostic::do_not_recommend]
impl<S, C, E, Err, F> SyncDispatchFn<S, C, E> for F
where
    F: FnOnce(&mut S, &mut C) -> Result<Directive<E>, Err>,
    Err: Into<BoxError>,
{
    type Error = Err;

    #[inline]
    fn call(self, stage: &mut S, ctx: &mut C) -> Result<Directive<E>, Err> {
        self(stage, ctx)
    }
}

/// Calls a `sync` dispatch method: its result, no future; generated dispatch maps it with [`dispatched`].
#[inline]
pub fn dispatch_sync<S, C, E, F: SyncDispatchFn<S, C, E>>(
    method: F,
    stage: &mut S,
    ctx: &mut C,
) -> Result<Directive<E>, F::Error> {
    method.call(stage, ctx)
}

/// [`dispatch_sync`] as a future, for `with_inbox`: the method runs when first polled, after the inbox was checked.
pub async fn dispatch_sync_future<S, C, E, F: SyncDispatchFn<S, C, E>>(
    method: F,
    stage: &mut S,
    ctx: &mut C,
) -> Result<Directive<E>, BoxError> {
    dispatched(method.call(stage, ctx))
}

/// A function transition's decider (`#[on(Ev::X => Stage::decide, to = [..])]`) or the `unhandled = Stage::hook`:
/// `fn(state: &State, event: Event, ctx: &mut Context) -> Decision<State, Action>`. Generated code calls it through
/// [`decide`], so a function of another shape is one error on its path, saying the signature to write.
#[diagnostic::on_unimplemented(
    message = "a function transition or `unhandled` hook must be a function of the state, the event and the context returning a `Decision`",
    label = "not `fn(&{S}, {E}, &mut {C}) -> Decision<{S}, {A}>`",
    note = "write it as `fn decide(state: &{S}, event: {E}, ctx: &mut {C}) -> stagewise::Decision<{S}, {A}>`"
)]
pub trait DecisionFn<S, E, C, A> {
    /// Calls the function.
    fn call(self, state: &S, event: E, ctx: &mut C) -> Decision<S, A>;
}

// Not recommended, so a function of another shape is reported with the message above rather than as a mismatch of
// the closure bound.
#[diagnostic::do_not_recommend]
impl<S, E, C, A, F> DecisionFn<S, E, C, A> for F
where
    F: FnOnce(&S, E, &mut C) -> Decision<S, A>,
{
    #[inline]
    fn call(self, state: &S, event: E, ctx: &mut C) -> Decision<S, A> {
        self(state, event, ctx)
    }
}

/// Calls a decider: the one bound generated code checks, so a decider of the wrong shape is one error.
#[inline]
pub fn decide<S, E, C, A, F: DecisionFn<S, E, C, A>>(decider: F, state: &S, event: E, ctx: &mut C) -> Decision<S, A> {
    decider.call(state, event, ctx)
}

/// `completion = Stage::method`: `async fn method(&mut self, ctx: &mut Context) -> Result<(), E>` with
/// `E: Into<BoxError>`, called through [`complete`] so a method of another shape is one error on its path.
#[diagnostic::on_unimplemented(
    message = "`completion = ..` needs an async method of the stage taking the context and returning a `Result<(), _>`",
    label = "not `async fn(&mut self, ctx: &mut {C}) -> Result<(), impl Into<BoxError>>`",
    note = "write the method as `async fn finish(&mut self, ctx: &mut {C}) -> Result<(), stagewise::BoxError>`"
)]
pub trait CompletionFn<'s, 'c, S: 's, C: 'c> {
    /// The method's future.
    type Future: Future<Output = Result<(), BoxError>>;
    /// Calls the method.
    fn call(self, stage: &'s mut S, ctx: &'c mut C) -> Self::Future;
}

#[diagnostic::do_not_recommend]
impl<'s, 'c, S: 's, C: 'c, Err, Fut, F> CompletionFn<'s, 'c, S, C> for F
where
    F: FnOnce(&'s mut S, &'c mut C) -> Fut,
    Fut: Future<Output = Result<(), Err>>,
    Err: Into<BoxError>,
{
    type Future = futures_util::future::ErrInto<Fut, BoxError>;

    #[inline]
    fn call(self, stage: &'s mut S, ctx: &'c mut C) -> Self::Future {
        futures_util::TryFutureExt::err_into(self(stage, ctx))
    }
}

/// Calls a completion method: the one bound generated code checks.
#[inline]
pub fn complete<'s, 'c, S: 's, C: 'c, F: CompletionFn<'s, 'c, S, C>>(
    method: F,
    stage: &'s mut S,
    ctx: &'c mut C,
) -> impl Future<Output = Result<(), BoxError>> + use<'s, 'c, S, C, F> {
    method.call(stage, ctx)
}

/// `#[failed(Stage::build)]`: `fn build(from: &State, message: String, ctx: &mut Context) -> State`, called through
/// [`build_failed`] so a builder of another shape is one error on its path.
#[diagnostic::on_unimplemented(
    message = "`#[failed(..)]` needs a function building the failed state from the state that failed, the message and the context",
    label = "not `fn(&{S}, String, &mut {C}) -> {S}`",
    note = "write it as `fn failed(from: &{S}, message: String, ctx: &mut {C}) -> {S}`"
)]
pub trait FailedStateFn<S, C> {
    /// Calls the builder.
    fn call(self, from: &S, message: String, ctx: &mut C) -> S;
}

#[diagnostic::do_not_recommend]
impl<S, C, F> FailedStateFn<S, C> for F
where
    F: FnOnce(&S, String, &mut C) -> S,
{
    #[inline]
    fn call(self, from: &S, message: String, ctx: &mut C) -> S {
        self(from, message, ctx)
    }
}

/// Builds the failed state: the one bound generated code checks.
#[inline]
pub fn build_failed<S, C, F: FailedStateFn<S, C>>(builder: F, from: &S, message: String, ctx: &mut C) -> S {
    builder.call(from, message, ctx)
}

/// What the failure event carries: the failure's description, a `String`. Generated code builds the failure event
/// and reads its message through this trait, so a failure variant of another type is one error on its path in
/// `failure = ..`.
#[diagnostic::on_unimplemented(
    message = "the failure event must carry the failure's message as a `String`, not `{Self}`",
    label = "this variant's field is `{Self}`",
    note = "declare the failure variant as `Error(String)`, or `Error {{ message: String }}` with `failure = Event::Error {{ message }}`"
)]
pub trait FailureMessage {
    /// The field from the message.
    fn from_message(message: String) -> Self;
    /// The message from the field.
    fn into_message(self) -> String;
}

impl FailureMessage for String {
    #[inline]
    fn from_message(message: String) -> Self {
        message
    }
    #[inline]
    fn into_message(self) -> String {
        self
    }
}

/// The field of a failed state that receives the failure message: a `String`. Generated code fills it through this
/// trait, spanned on the field's type, so a field of another type is one error there saying what to write.
#[diagnostic::on_unimplemented(
    message = "the failed state's field receives the failure message, a `String`, not `{Self}`",
    label = "this field is `{Self}`",
    note = "declare it `Failed(String)`; to carry more than the message, build the failed state with `#[failed(Stage::build)]`"
)]
pub trait FailedStateField {
    /// The field from the message.
    fn from_failure(message: String) -> Self;
}

impl FailedStateField for String {
    #[inline]
    fn from_failure(message: String) -> Self {
        message
    }
}

/// `name = ..`: the supervisor's name, a `&'static str`. Generated code reads it through this trait, spanned on the
/// expression, so a name of another type (a run-time `String`) is one error there saying what to write.
#[diagnostic::on_unimplemented(
    message = "`name = ..` is a `&'static str`, not `{Self}`",
    label = "not a `&'static str`",
    note = "write a literal, a `const`, or an associated constant such as `W::NAME`; a name chosen at run time goes in the stage's own fields and logs"
)]
pub trait SupervisorName {
    /// The name.
    fn name(self) -> &'static str;
}

impl SupervisorName for &'static str {
    #[inline]
    fn name(self) -> &'static str {
        self
    }
}

/// Holds for no type. `stage = Upp` with `#[dispatch(Up::next)]` is probably a typo on one side; the macro cannot see
/// which type exists, so it also writes stub impls for `Up` under `where Up: StageMethodOf<Upp>`. When one of the two
/// types does not exist, rustc's "cannot find type" on it is the one error (and code using `Up` compiles); when both
/// exist, this bound is the one error, on `Up`, saying to name the stage's own method.
#[diagnostic::on_unimplemented(
    message = "the stage is `{T}`, but this names a function of `{Self}`",
    label = "a function of `{Self}`, not of the stage `{T}`",
    note = "write the stage's own method (`{T}::method`, or a bare `method`); if `{Self}` is the stage, write `stage = {Self}`; a function of another type that takes the stage is named by a longer path, e.g. `crate::{Self}::method`"
)]
pub trait StageMethodOf<T> {}

/// Stands in for an event or action type that did not compile, in the impls generated beside the error, so code
/// using the stage adds no errors of its own. It has no values.
#[derive(Debug)]
pub enum Unknown {}

/// `<E as CheckedFailure<{ check }>>::Out` is `E` once the anonymous constant `check` compiles, and a type rustc
/// says nothing more about when it does not. Generated code checks the path written in `failure = ..` once in `check`
/// (as the pattern that takes the message out) and names the variant through this type everywhere else, so a path of
/// the wrong kind (a struct variant written as a tuple one, a function, a variant of another enum) is one error, at
/// the check, instead of one per kind of use.
pub trait CheckedFailure<const CHECK: usize> {
    /// `Self`, when the check compiled.
    type Out;
}

impl<E> CheckedFailure<0> for E {
    type Out = E;
}

/// How generated code builds the failure event from a message and reads the message back out of it, whatever the
/// variant's field type: built by [`failure_codec`] where that type is checked once.
pub struct FailureCodec<T, E> {
    make: fn(T) -> E,
    take: fn(E) -> T,
    from_message: fn(String) -> T,
    into_message: fn(T) -> String,
}

impl<T, E> FailureCodec<T, E> {
    /// The failure event for `message`.
    #[inline]
    pub fn make(&self, message: String) -> E {
        (self.make)((self.from_message)(message))
    }

    /// The message of the failure event `event`.
    #[inline]
    pub fn take(&self, event: E) -> String {
        (self.into_message)((self.take)(event))
    }
}

/// The codec of a failure variant: `make` builds the variant from its field, `take` takes the field out. Every use in
/// generated code is the same call on the same tokens, so a field that is not a `String` is one error.
#[inline]
pub fn failure_codec<T: FailureMessage, E>(make: fn(T) -> E, take: fn(E) -> T) -> FailureCodec<T, E> {
    FailureCodec { make, take, from_message: T::from_message, into_message: T::into_message }
}

impl EventVariant for Unknown {
    fn name(&self) -> &'static str {
        match *self {}
    }
}

impl<C> Action<C> for Unknown {
    fn name(&self) -> &'static str {
        match *self {}
    }

    // There is no value to execute: the future is never built, which rustc notes as unreachable.
    #[allow(unreachable_code)]
    fn execute(self, _: &mut C) -> impl Future<Output = Result<(), BoxError>> + Send {
        std::future::ready(match self {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Stage(u32);

    impl Stage {
        async fn next(&mut self, ctx: &mut u32) -> Result<Directive<u32>, std::io::Error> {
            *ctx += self.0;
            Ok(Directive::Transition(*ctx))
        }

        fn next_now(&mut self, ctx: &mut u32) -> Result<Directive<u32>, std::io::Error> {
            Ok(Directive::Transition(*ctx + self.0))
        }
    }

    #[tokio::test]
    async fn an_async_method_is_a_dispatch_fn_and_its_error_converts() {
        let mut stage = Stage(2);
        let mut ctx = 1;
        let result = DispatchFn::<Stage, u32, u32>::call(Stage::next, &mut stage, &mut ctx).await;
        assert!(matches!(result, Ok(Directive::Transition(3))));
        assert_eq!(String::from_message("gone".into()).into_message(), "gone");
    }

    #[tokio::test]
    async fn a_plain_method_is_a_sync_dispatch_fn_run_when_its_future_is_first_polled() {
        let (mut stage, mut ctx) = (Stage(2), 1);
        assert!(matches!(dispatch_sync(Stage::next_now, &mut stage, &mut ctx), Ok(Directive::Transition(3))));
        let result = dispatch_sync_future(Stage::next_now, &mut stage, &mut ctx).await;
        assert!(matches!(result, Ok(Directive::Transition(3))));
    }
}
