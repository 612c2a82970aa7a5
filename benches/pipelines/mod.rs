//! The access-log example's pipeline (read -> parse -> aggregate) two ways, for the pipeline benchmark and the
//! throughput curves: supervised by stagewise, and as plain tokio tasks over bounded channels with no stagewise type
//! at all (the limit). Both generate the same lines, parse them with the same function, aggregate them with the same
//! aggregator and keep the same error messages, in batches of the same size over links of the same bound.
//!
//! Its including crate declares the example's modules (`stages`, `work`, `parse`, `calendar`, `chaos`) at its root, as
//! `stages.rs` expects.

use std::sync::{Arc, Mutex};

use stagewise::pipeline::{ErrorJournal, Pipeline};
use stagewise::{MemoryJournal, StageId};
use tokio::sync::mpsc;

use crate::parse::{malformed, parse_line, Hit};
use crate::stages::{self, Input};
use crate::work::{generate_line, Aggregator};

/// The example's pipeline, supervised. Returns hits + errors, which must equal the lines read.
pub async fn supervised(lines: u64, batch: usize, capacity: usize) -> u64 {
    let errors: ErrorJournal = Arc::new(MemoryJournal::new());
    let summary = Arc::new(Mutex::new(None));
    let outcome = Pipeline::builder("bench")
        .capacity(capacity)
        .source(|out| stages::read(StageId(0), Input::Generated { next: 0, total: lines }, batch, out))
        .transform(|inlet, out| stages::parse(StageId(1), inlet, out))
        .sink(|inlet| {
            let aggregator = Aggregator::new(None).expect("aggregator");
            stages::aggregate(StageId(2), inlet, aggregator, errors.clone(), summary.clone())
        })
        .run()
        .await
        .expect("pipeline outcome");
    assert!(outcome.is_completed(), "{outcome}");
    let summary = summary.lock().unwrap().take().expect("summary");
    summary.hits + summary.errors
}

/// The same work as three plain tokio tasks over bounded channels of `Vec` batches; a closed channel ends the stream.
/// Malformed lines are kept as their error messages, where the supervised pipeline journals them in memory.
pub async fn plain(lines: u64, batch: usize, capacity: usize) -> u64 {
    let (lines_tx, mut lines_rx) = mpsc::channel::<Vec<(u64, String)>>(capacity);
    let (hits_tx, mut hits_rx) = mpsc::channel::<Vec<Result<Hit, String>>>(capacity);
    let read = tokio::spawn(async move {
        let mut next = 0;
        while next < lines {
            let end = (next + batch as u64).min(lines);
            let chunk = (next..end).map(|seq| (seq, generate_line(seq))).collect();
            lines_tx.send(chunk).await.expect("parse alive");
            next = end;
        }
    });
    let parse = tokio::spawn(async move {
        while let Some(chunk) = lines_rx.recv().await {
            let parsed = chunk
                .into_iter()
                .map(|(seq, line)| parse_line(line).map_err(|(line, why)| malformed(seq, &line, why)))
                .collect();
            hits_tx.send(parsed).await.expect("aggregate alive");
        }
    });
    let aggregate = tokio::spawn(async move {
        let mut aggregator = Aggregator::new(None).expect("aggregator");
        let mut errors = Vec::new();
        while let Some(chunk) = hits_rx.recv().await {
            for parsed in chunk {
                match parsed {
                    Ok(hit) => aggregator.add(&hit).expect("aggregate"),
                    Err(message) => errors.push(message),
                }
            }
        }
        let summary = aggregator.finish().expect("finish");
        summary.hits + errors.len() as u64
    });
    read.await.expect("read");
    parse.await.expect("parse");
    aggregate.await.expect("aggregate")
}
