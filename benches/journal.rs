//! Journal benchmark: appends per second for each durability policy of the file journal, beside plain buffered
//! writes of the same records to a file (the limit), and the two record formats (postcard vs JSON) on realistic
//! records. Run: `cargo bench --bench journal`; `scripts`-free summary: see `runtime/src/journal/README.md`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::time::{Duration, Instant};

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use stagewise::journal::{Durability, FileJournal, Format, Journal, JournalOptions};
use stagewise::{ChainEvent, CounterSnapshot, EventId, Lifecycle, LifecycleRecord, StageContext, StageId, WriterId};

const STAGE: StageId = StageId(2);

/// ~100-byte access log lines, as a parser stage would journal them.
fn events() -> Vec<ChainEvent<String>> {
    (0..1024u64)
        .map(|i| {
            let line = format!(
                "203.0.113.{} - - [26/Nov/2026:09:{:02}:{:02} +0000] \"GET /api/v1/items/{i} HTTP/1.1\" 200 {}",
                i % 256,
                i % 60,
                (i * 7) % 60,
                512 + i % 1000
            );
            let id = EventId { writer: WriterId::Stage(STAGE), seq: 1_000_000 + i };
            ChainEvent::new(id, StageContext::new(STAGE, "parse"), line)
        })
        .collect()
}

fn lifecycle_records() -> Vec<LifecycleRecord> {
    (0..1024u64)
        .map(|i| LifecycleRecord {
            supervisor: "parse".into(),
            writer: WriterId::Stage(STAGE),
            stage: Some(STAGE),
            state: "Failed".into(),
            lifecycle: Lifecycle::Failed {
                error: format!("action write failed: connection reset ({i})"),
                escalation: None,
            },
            counters: CounterSnapshot { loop_turns: 10_000 + i, transitions: 9_000 + i, failures: 1 },
        })
        .collect()
}

fn encode<R: serde::Serialize>(format: Format, record: &R, out: &mut Vec<u8>) {
    match format {
        Format::Postcard => *out = postcard::to_extend(record, std::mem::take(out)).unwrap(),
        _ => {
            serde_json::to_writer(&mut *out, record).unwrap();
            out.push(b'\n');
        }
    }
}

fn codec(c: &mut Criterion) {
    let events = events();
    let lifecycle = lifecycle_records();
    let mut group = c.benchmark_group("codec");
    group.throughput(Throughput::Elements(events.len() as u64));
    for (format, name) in [(Format::Postcard, "postcard"), (Format::Json, "json")] {
        let mut bytes = Vec::new();
        events.iter().for_each(|e| encode(format, e, &mut bytes));
        let mut life = Vec::new();
        lifecycle.iter().for_each(|r| encode(format, r, &mut life));
        eprintln!(
            "codec {name}: ChainEvent<String> {} bytes/record, LifecycleRecord {} bytes/record",
            bytes.len() / events.len(),
            life.len() / lifecycle.len()
        );
        group.bench_function(BenchmarkId::new("encode_event", name), |b| {
            let mut out = Vec::with_capacity(bytes.len());
            b.iter(|| {
                out.clear();
                events.iter().for_each(|e| encode(format, e, &mut out));
                black_box(out.len())
            })
        });
        group.bench_function(BenchmarkId::new("decode_event", name), |b| {
            let frames: Vec<Vec<u8>> = events
                .iter()
                .map(|e| {
                    let mut v = Vec::new();
                    encode(format, e, &mut v);
                    v
                })
                .collect();
            b.iter(|| {
                for frame in &frames {
                    let e: ChainEvent<String> = match format {
                        Format::Postcard => postcard::from_bytes(frame).unwrap(),
                        _ => serde_json::from_slice(frame).unwrap(),
                    };
                    black_box(e);
                }
            })
        });
        group.bench_function(BenchmarkId::new("encode_lifecycle", name), |b| {
            let mut out = Vec::with_capacity(life.len());
            b.iter(|| {
                out.clear();
                lifecycle.iter().for_each(|r| encode(format, r, &mut out));
                black_box(out.len())
            })
        });
    }
    group.finish();
}

/// Times `iters` appends to a fresh journal in a temporary folder (opening and closing are not timed).
fn time_journal(iters: u64, options: JournalOptions, events: &[ChainEvent<String>]) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let journal = FileJournal::<ChainEvent<String>>::open(dir.path(), options).unwrap();
    let start = Instant::now();
    for i in 0..iters {
        black_box(journal.append(events[i as usize % events.len()].clone()).unwrap());
    }
    let elapsed = start.elapsed();
    drop(journal);
    elapsed
}

/// Times `iters` records encoded with `format` and written through a `BufWriter<File>`: no framing, no checksum, no
/// sync. The same buffer size as the journal's.
fn time_plain(iters: u64, format: Format, events: &[ChainEvent<String>]) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let mut file = BufWriter::with_capacity(64 * 1024, File::create(dir.path().join("plain")).unwrap());
    let mut bytes = Vec::with_capacity(512);
    let start = Instant::now();
    for i in 0..iters {
        let record = events[i as usize % events.len()].clone();
        bytes.clear();
        encode(format, &record, &mut bytes);
        file.write_all(&bytes).unwrap();
    }
    file.flush().unwrap();
    let elapsed = start.elapsed();
    drop(file);
    elapsed
}

fn append(c: &mut Criterion) {
    let events = events();
    let mut group = c.benchmark_group("append");
    group.throughput(Throughput::Elements(1));
    // The buffered runs go first, each beside its plain limit: the syncing runs leave the disk busy with writeback
    // for a while, which would slow whatever runs next.
    let os = |format| JournalOptions { durability: Durability::Os, format, ..JournalOptions::default() };
    for (format, name) in [(Format::Postcard, "postcard"), (Format::Json, "json")] {
        group.bench_function(BenchmarkId::new(name, "plain_bufwriter"), |b| {
            b.iter_custom(|iters| time_plain(iters, format, &events))
        });
        group.bench_function(BenchmarkId::new(name, "os"), |b| {
            b.iter_custom(|iters| time_journal(iters, os(format), &events))
        });
    }
    let every = |records| Durability::Every { records, interval: Duration::from_millis(100) };
    let policies = [
        ("every_1000_records_or_100ms", every(1000)),
        ("every_100_records_or_100ms", every(100)),
        ("every_append", Durability::EveryAppend),
    ];
    for (name, durability) in policies {
        let options = JournalOptions { durability, ..JournalOptions::default() };
        group.bench_function(BenchmarkId::new("postcard", name), |b| {
            b.iter_custom(|iters| time_journal(iters, options, &events))
        });
    }
    // Eight appenders at once under sync-every-append share syncs (group commit).
    group.bench_function(BenchmarkId::new("postcard", "every_append_8_threads"), |b| {
        b.iter_custom(|iters| time_journal_threads(iters, 8, JournalOptions::default(), &events))
    });
    group.finish();
}

/// Times `iters` appends made by `threads` threads at once to a fresh journal.
fn time_journal_threads(iters: u64, threads: u64, options: JournalOptions, events: &[ChainEvent<String>]) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let journal = FileJournal::<ChainEvent<String>>::open(dir.path(), options).unwrap();
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let journal = &journal;
            s.spawn(move || {
                for i in (t..iters).step_by(threads as usize) {
                    black_box(journal.append(events[i as usize % events.len()].clone()).unwrap());
                }
            });
        }
    });
    let elapsed = start.elapsed();
    drop(journal);
    elapsed
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = codec, append
}
criterion_main!(benches);
