//! Events per second through the access-log example's pipeline (read -> parse -> aggregate), supervised by stagewise,
//! beside the same pipeline written as plain tokio tasks and channels with no supervision (the limit). Both variants
//! run the same generator, parser and aggregator on the same lines, in the same batches, over links of the same bound.
//! Run: `cargo bench --bench pipeline`; compare the two medians of the same run, and the interleaved medians and ratio
//! printed last (less sensitive to other load on a shared machine).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use stagewise::pipeline::{Batch, ErrorJournal, Pipeline};
use stagewise::{EventIds, MemoryJournal, StageContext, StageId};
use tokio::sync::mpsc;

#[path = "../examples/access_log/calendar.rs"]
#[allow(dead_code)]
mod calendar;
#[path = "../examples/access_log/chaos.rs"]
#[allow(dead_code)]
mod chaos;
#[path = "../examples/access_log/parse.rs"]
#[allow(dead_code)]
mod parse;
#[path = "../examples/access_log/stages.rs"]
#[allow(dead_code)]
mod stages;
#[path = "../examples/access_log/work.rs"]
#[allow(dead_code)]
mod work;

use parse::{parse_batch, Hit};
use stages::Input;
use work::{Aggregator, BATCH, LINK_CAPACITY};

const LINES: u64 = 200_000;

/// The example's pipeline, supervised. Returns hits + errors, which must equal the lines read.
async fn supervised(lines: u64) -> u64 {
    let errors: ErrorJournal = Arc::new(MemoryJournal::new());
    let summary = Arc::new(Mutex::new(None));
    let outcome = Pipeline::builder("bench")
        .capacity(LINK_CAPACITY)
        .source(|out| stages::read(StageId(0), Input::Generated { next: 0, total: lines }, BATCH, out))
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

/// The same three stages as plain tasks over bounded channels; `None` ends the stream.
async fn plain(lines: u64) -> u64 {
    let (lines_tx, mut lines_rx) = mpsc::channel::<Option<Batch<String>>>(LINK_CAPACITY);
    let (hits_tx, mut hits_rx) = mpsc::channel::<Option<Batch<Hit>>>(LINK_CAPACITY);
    let read = tokio::spawn(async move {
        let mut input = Input::Generated { next: 0, total: lines };
        let mut ids = EventIds::new(StageId(0).into());
        let context = StageContext::new(StageId(0), "read");
        loop {
            let batch = input.next_batch(BATCH, &mut ids, &context).expect("generated input");
            if batch.is_empty() {
                break;
            }
            lines_tx.send(Some(batch)).await.expect("parse alive");
        }
        lines_tx.send(None).await.expect("parse alive");
    });
    let parse = tokio::spawn(async move {
        let mut ids = EventIds::new(StageId(1).into());
        let context = StageContext::new(StageId(1), "parse");
        while let Some(Some(batch)) = lines_rx.recv().await {
            hits_tx.send(Some(parse_batch(batch, &mut ids, &context))).await.expect("aggregate alive");
        }
        hits_tx.send(None).await.expect("aggregate alive");
    });
    let aggregate = tokio::spawn(async move {
        let errors: ErrorJournal = Arc::new(MemoryJournal::new());
        let mut aggregator = Aggregator::new(None).expect("aggregator");
        while let Some(Some(batch)) = hits_rx.recv().await {
            aggregator.add_batch(batch, &*errors).expect("aggregate");
        }
        let summary = aggregator.finish().expect("finish");
        summary.hits + summary.errors
    });
    read.await.expect("read");
    parse.await.expect("parse");
    aggregate.await.expect("aggregate")
}

fn pipeline(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    assert_eq!(rt.block_on(supervised(LINES)), LINES);
    assert_eq!(rt.block_on(plain(LINES)), LINES);
    let mut group = c.benchmark_group("pipeline");
    group.throughput(Throughput::Elements(LINES));
    group.sample_size(20);
    group.bench_with_input(BenchmarkId::new("supervised", LINES), &LINES, |b, &n| {
        b.iter(|| rt.block_on(supervised(std::hint::black_box(n))));
    });
    group.bench_with_input(BenchmarkId::new("plain_tokio", LINES), &LINES, |b, &n| {
        b.iter(|| rt.block_on(plain(std::hint::black_box(n))));
    });
    group.finish();
}

/// The same comparison with the two variants interleaved pair by pair (alternating which goes first), so load from
/// other processes on a shared machine falls on both alike. Prints both medians and their ratio.
fn interleaved(_c: &mut Criterion) {
    const PAIRS: usize = 30;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let time = |supervised_run: bool| {
        let start = Instant::now();
        let events = rt.block_on(async {
            if supervised_run {
                supervised(LINES).await
            } else {
                plain(LINES).await
            }
        });
        assert_eq!(events, LINES);
        start.elapsed()
    };
    let (mut supervised_times, mut plain_times) = (Vec::with_capacity(PAIRS), Vec::with_capacity(PAIRS));
    for pair in 0..PAIRS {
        if pair % 2 == 0 {
            supervised_times.push(time(true));
            plain_times.push(time(false));
        } else {
            plain_times.push(time(false));
            supervised_times.push(time(true));
        }
    }
    let median = |times: &mut Vec<Duration>| {
        times.sort_unstable();
        times[times.len() / 2]
    };
    let (s, p) = (median(&mut supervised_times), median(&mut plain_times));
    let rate = |d: Duration| LINES as f64 / d.as_secs_f64() / 1e6;
    println!(
        "pipeline/interleaved: medians over {PAIRS} pairs: supervised {:.2} ms ({:.2} M events/s), plain_tokio {:.2} ms \
         ({:.2} M events/s); supervised runs at {:.2}x the plain pipeline",
        s.as_secs_f64() * 1e3,
        rate(s),
        p.as_secs_f64() * 1e3,
        rate(p),
        p.as_secs_f64() / s.as_secs_f64(),
    );
}

criterion_group!(benches, pipeline, interleaved);
criterion_main!(benches);
