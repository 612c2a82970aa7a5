//! Checks generated code runs on the user's own items, so a mistake rustc must judge is reported once, on the user's
//! token, saying what to write: a dispatch method of the wrong shape, a failure event that does not carry a `String`.
//! Re-exported through `__private`; no semver promise.

use std::future::Future;

use crate::action::Action;
use crate::directive::Directive;
use crate::error::BoxError;
use crate::machine::EventVariant;

/// A stage's dispatch method: `async fn name(&mut self, ctx: &mut Context) -> Result<Directive<Event>, E>` with
/// `E: Into<BoxError>`. Generated dispatch calls the method through this trait so a method of another shape is one
/// error on its path in `#[dispatch(..)]`.
#[diagnostic::on_unimplemented(
    message = "`#[dispatch(..)]` needs an async method of the stage taking the context and returning a `Result` of a `Directive`",
    label = "not `async fn(&mut self, ctx: &mut {C}) -> Result<Directive<{E}>, impl Into<BoxError>>`",
    note = "write the method as `async fn next(&mut self, ctx: &mut {C}) -> Result<stagewise::Directive<{E}>, stagewise::BoxError>`"
)]
pub trait DispatchFn<'a, S: 'a, C: 'a, E> {
    /// The method's error type.
    type Error: Into<BoxError>;
    /// The method's future.
    type Future: Future<Output = Result<Directive<E>, Self::Error>> + 'a;
    /// Calls the method.
    fn call(self, stage: &'a mut S, ctx: &'a mut C) -> Self::Future;
}

// Not recommended, so a method of another shape is reported as "not a dispatch method" (the message above) rather
// than as whichever of these bounds it misses.
#[diagnostic::do_not_recommend]
impl<'a, S: 'a, C: 'a, E, Err, Fut, F> DispatchFn<'a, S, C, E> for F
where
    F: FnOnce(&'a mut S, &'a mut C) -> Fut,
    Fut: Future<Output = Result<Directive<E>, Err>> + 'a,
    Err: Into<BoxError>,
{
    type Error = Err;
    type Future = Fut;

    #[inline]
    fn call(self, stage: &'a mut S, ctx: &'a mut C) -> Fut {
        self(stage, ctx)
    }
}

/// Calls a dispatch method. Generated dispatch awaits this (an opaque future whatever `F` is), so a method of the
/// wrong shape is the one error of the `F: DispatchFn` bound, and nothing more.
#[inline]
pub fn dispatch<'a, S: 'a, C: 'a, E, F: DispatchFn<'a, S, C, E>>(
    method: F,
    stage: &'a mut S,
    ctx: &'a mut C,
) -> impl Future<Output = Result<Directive<E>, BoxError>> + 'a {
    let call = method.call(stage, ctx);
    async move { call.await.map_err(Into::into) }
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

/// Stands in for an event or action type that did not compile, in the impls generated beside the error, so code
/// using the stage adds no errors of its own. It has no values.
#[derive(Debug)]
pub enum Unknown {}

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
    }

    #[tokio::test]
    async fn an_async_method_is_a_dispatch_fn_and_its_error_converts() {
        let mut stage = Stage(2);
        let mut ctx = 1;
        let result = DispatchFn::<Stage, u32, u32>::call(Stage::next, &mut stage, &mut ctx).await;
        assert!(matches!(result, Ok(Directive::Transition(3))));
        assert_eq!(String::from_message("gone".into()).into_message(), "gone");
    }
}
