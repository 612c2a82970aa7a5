//! Restart: what a supervisor does when a stage ends, declared where stages are wired, never in a stage's type.
//!
//! - [`RestartType`]: whether a stage comes back after it ends (OTP's `permanent` / `transient` / `temporary`).
//! - [`RestartStrategy`]: which stages of a pipeline come back with it.
//! - [`Intensity`]: at most N restarts within a period; past it the supervisor gives up and the pipeline fails.
//! - [`Backoff`]: how long to wait before each restart: exponential between a minimum and a maximum, with seeded
//!   jitter, reset after the stage has run stably for a declared time.
//! - [`Restart`]: the three of a stage together, given to the pipeline builder with the stage's factory.
//!
//! # Mapping to Erlang/OTP and Akka
//! | stagewise | Erlang/OTP | Akka |
//! |---|---|---|
//! | [`RestartType::Permanent`] | `restart => permanent` | `BackoffOpts.onStop` (restart after any stop) |
//! | [`RestartType::Transient`] | `restart => transient` | `BackoffOpts.onFailure` |
//! | [`RestartType::Temporary`] | `restart => temporary` | no supervisor (`Stop` directive) |
//! | [`RestartStrategy::OnlyFailed`] | `one_for_one` | `OneForOneStrategy` |
//! | [`RestartStrategy::All`] | `one_for_all` | `AllForOneStrategy` |
//! | [`RestartStrategy::FailedAndDownstream`] | `rest_for_one` (children after it in start order) | none |
//! | [`Intensity`] | `intensity` / `period` (per supervisor) | `maxNrOfRetries` / `withinTimeRange` |
//! | [`Backoff`] | none (OTP restarts at once) | `BackoffSupervisor`: `minBackoff`, `maxBackoff`, `randomFactor`, `withAutoReset` |
//!
//! One difference from OTP: the intensity is counted per stage (as Akka's backoff supervisor counts per child), so
//! the pipeline's Failed record can name the stage that kept failing and how often it was restarted.

mod backoff;
mod intensity;
mod policy;

pub use backoff::{Backoff, BackoffClock};
pub use intensity::{Intensity, IntensityWindow};
pub use policy::{Restart, RestartStrategy, RestartType};
