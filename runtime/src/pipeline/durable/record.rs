//! What a durable link stores: one record per batch a stage sent (or its end of stream), stamped with how far the
//! stage had consumed its own input when it sent it. The stamp is the stage's checkpoint, written in the same frame
//! as the output it accounts for, so output and input position become durable together or not at all.

use serde::{Deserialize, Serialize};

use crate::pipeline::link::Batch;

/// One record of a durable link.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinkRecord<P> {
    /// How far the writing stage had consumed its input: for a stage reading a durable link, the upstream position
    /// just past the record it was working on; for a source, its own offset into its input (what it passed to
    /// [`Outlet::mark_input`](crate::pipeline::Outlet::mark_input)), or the count of batches it sent.
    pub input: u64,
    /// What the stage sent.
    pub body: Body<P>,
}

/// What a stage sent on a durable link.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound(serialize = "P: Serialize", deserialize = "P: Deserialize<'de>"))]
pub enum Body<P> {
    /// Events, in order; stored with their stage contexts once a batch and their ids as steps from the previous
    /// event's (`batch_codec.rs`).
    Events(#[serde(with = "super::batch_codec")] Batch<P>),
    /// No event follows.
    EndOfStream,
}

impl<P> LinkRecord<P> {
    /// True for the end of stream.
    pub fn is_end(&self) -> bool {
        matches!(self.body, Body::EndOfStream)
    }

    /// The events it holds (none for the end of stream).
    pub fn events(&self) -> &[crate::event::ChainEvent<P>] {
        match &self.body {
            Body::Events(events) => events,
            Body::EndOfStream => &[],
        }
    }
}
