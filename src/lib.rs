//! stagewise: supervised, long-running async stages as explicit state machines.
//!
//! This facade re-exports the runtime ([`stagewise_runtime`]) and the macros: `#[handler_supervised]`,
//! `#[self_supervised]`, `#[derive(Stage)]`, `#[derive(EventVariant)]` and `#[derive(VariantName)]`.
//!
//! # A stage in one annotated enum
//!
//! The state enum is the single source of truth; `#[handler_supervised]` writes the supervisor from it (the
//! transition `match`, the failure edge from every state, dispatch, ids, control policy, a Mermaid diagram).
//! The syntax is described in `macros/README.md`.
//!
//! ```
//! use stagewise::{Action, BoxError, Directive, EventVariant, HandlerSupervisedExt, Lifecycle, Stage, StageId};
//!
//! #[stagewise::handler_supervised(
//!     stage = Countdown, event = Ev, action = Act, context = u32,
//!     failure = Ev::Error, on_failure = [Act::Log(message)],
//! )]
//! #[derive(Debug)]
//! enum CountdownState {
//!     #[initial]
//!     #[dispatch(tick)] // `Countdown::tick`, awaited each turn
//!     #[on(Ev::Tick => stay, actions = [Act::Count])]
//!     #[on(Ev::Zero => Done)]
//!     Counting,
//!     #[terminal]
//!     Done,
//!     #[failed]
//!     Failed(String),
//! }
//!
//! #[derive(Stage)]
//! struct Countdown {
//!     id: StageId,
//!     left: u32,
//! }
//!
//! impl Countdown {
//!     async fn tick(&mut self, _ticks: &mut u32) -> Result<Directive<Ev>, BoxError> {
//!         tokio::task::yield_now().await;
//!         self.left = self.left.saturating_sub(1);
//!         Ok(Directive::Transition(if self.left == 0 { Ev::Zero } else { Ev::Tick }))
//!     }
//! }
//!
//! #[derive(Debug, EventVariant)]
//! enum Ev { Tick, Zero, Error(String) }
//!
//! #[derive(Debug, stagewise::VariantName)]
//! enum Act { Count, Log(String) }
//!
//! impl Action<u32> for Act {
//!     fn name(&self) -> &'static str {
//!         self.variant_name()
//!     }
//!     async fn execute(self, ticks: &mut u32) -> Result<(), BoxError> {
//!         match self {
//!             Act::Count => *ticks += 1,
//!             Act::Log(message) => eprintln!("countdown failed: {message}"),
//!         }
//!         Ok(())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let record = Countdown { id: StageId(1), left: 3 }.run(CountdownState::INITIAL, 0).await.unwrap();
//! assert_eq!(record.lifecycle, Lifecycle::Completed);
//! assert!(CountdownState::MERMAID.contains("Counting --> Done: Zero"));
//! # }
//! ```
#![forbid(unsafe_code)]

pub use stagewise_macros::{handler_supervised, self_supervised, Stage, VariantName};
pub use stagewise_runtime::*;

/// Derives [`EventVariant`](trait@EventVariant) for an event enum (same name as the trait, as with serde).
pub use stagewise_macros::EventVariant;
