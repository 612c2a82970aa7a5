//! The list of actions one transition asks for, and how many of them it keeps inline (without a heap allocation): a
//! capacity each machine chooses, [`Inline<N>`], four by default.

use smallvec::SmallVec;

/// How many actions a transition's list keeps inline unless its machine chooses otherwise.
pub const INLINE_ACTIONS: usize = 4;

/// An inline capacity for action lists: up to `N` actions per transition need no heap allocation; more spill to the
/// heap (and still run). A machine names its own in [`Machine::ActionCapacity`](crate::machine::Machine::ActionCapacity);
/// `#[handler_supervised]` sizes it from the longest list a declared transition can run.
///
/// The capacity is a trade: every list (and the run loop's future, which holds one across awaits) is as large as `N`
/// actions, so a larger `N` costs memory on every stage of that machine, not only on the long transitions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Inline<const N: usize>;

/// The default capacity, [`INLINE_ACTIONS`] actions.
pub type DefaultCapacity = Inline<INLINE_ACTIONS>;

/// A capacity for action lists: names the inline array of actions of type `A`. Implemented by [`Inline<N>`]; a
/// machine picks one, it does not implement this.
pub trait ActionCapacity: 'static {
    /// The inline storage of `A`s.
    type Array<A>: smallvec::Array<Item = A>;
}

impl<const N: usize> ActionCapacity for Inline<N> {
    type Array<A> = [A; N];
}

/// The actions one transition asks for, in the order they run. Up to `N` (by default [`INLINE_ACTIONS`]) need no
/// allocation.
///
/// ```
/// use stagewise_runtime::machine::{Actions, INLINE_ACTIONS};
///
/// let actions: Actions<&str> = ["flush", "close"].into_iter().collect();
/// assert!(!actions.spilled()); // inline: no heap allocation
/// assert_eq!(actions.inline_size(), INLINE_ACTIONS);
///
/// let six: Actions<&str, 6> = ["a", "b", "c", "d", "e", "f"].into_iter().collect();
/// assert!(!six.spilled());
/// ```
pub type Actions<A, const N: usize = INLINE_ACTIONS> = SmallVec<[A; N]>;

/// The action list of a machine whose capacity is `C`, as generic code names it: for a capacity [`Inline<N>`] it is
/// [`Actions<A, N>`].
pub type ActionList<A, C> = SmallVec<<C as ActionCapacity>::Array<A>>;
