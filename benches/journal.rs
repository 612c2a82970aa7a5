//! Journal benchmark, on the side-by-side harness: file journal appends beside their real limit, the same records
//! encoded the same way and written through a 64 KiB `BufWriter<File>` (no framing, checksum, lock or sync).
//!
//! - `append_os`: postcard `ChainEvent<String>` (~100-byte lines) under `Os`; the limit; and the limit plus the
//!   journal's framing (12-byte header with a CRC32C of the payload), so the gap splits into framing + CRC and the
//!   rest (the lock, the position index, bookkeeping). Ratio limit / journal, target >= 0.8x.
//! - `append_json`: the same with JSON records.
//! - `codec`: encoding and decoding one record, postcard vs JSON.
//! - `policies`: `Every { 1000 }`, `Every { 100 }`, `EveryAppend` alone and with 8 appending threads (wall clock).
//! - `size`: appends per second vs record size (16 B to 64 KiB payloads), journal `Os` and the limit, measured by
//!   the `scale` benchmark's journal curve (`scale/journal.rs`, whose plot is in `docs/figures/`); the table goes to
//!   `journal-record_sizes.csv` beside the harness's CSV.
//!
//! Single-threaded variants are timed on the thread's CPU time. Run: `cargo bench --bench journal` (or `-- append_os`).

#[path = "harness/mod.rs"]
mod harness;
#[path = "scale/journal.rs"]
mod journal_curve;

use std::fs::File;
use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::time::Duration;

use harness::encode::encode;
use harness::{ratio, timed, Bench, Clock, Elapsed, Stopwatch, Target};
use stagewise::journal::{Durability, FileJournal, Format, Journal, JournalOptions};
use stagewise::{ChainEvent, EventId, StageContext, StageId, WriterId};

const STAGE: StageId = StageId(2);
const BUFFER: usize = 64 * 1024;

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

fn os(format: Format) -> JournalOptions {
    JournalOptions { durability: Durability::Os, format, ..JournalOptions::default() }
}

/// `n` appends of `records` (cycled, cloned as a caller hands them over) to a fresh journal; opening is not timed,
/// handing the last buffer to the OS is.
fn journal<R>(n: u64, options: JournalOptions, records: &[R]) -> Elapsed
where
    R: Clone + serde::Serialize + serde::de::DeserializeOwned + Send,
{
    let dir = tempfile::tempdir().unwrap();
    let journal = FileJournal::<R>::open(dir.path(), options).unwrap();
    let watch = Stopwatch::start();
    for i in 0..n {
        black_box(journal.append(records[i as usize % records.len()].clone()).unwrap());
    }
    journal.flush().unwrap();
    let elapsed = watch.elapsed();
    drop(journal);
    elapsed
}

/// The limit: `n` records encoded with `format` and written through a `BufWriter<File>` of the journal's buffer
/// size. With `framed`, each also gets the journal's frame header (length, CRC32C of the payload, inverted length).
fn plain<R: Clone + serde::Serialize>(n: u64, format: Format, framed: bool, records: &[R]) -> Elapsed {
    let dir = tempfile::tempdir().unwrap();
    let mut file = BufWriter::with_capacity(BUFFER, File::create(dir.path().join("plain")).unwrap());
    let mut bytes = Vec::with_capacity(512);
    let watch = Stopwatch::start();
    for i in 0..n {
        let record = records[i as usize % records.len()].clone();
        bytes.clear();
        if framed {
            bytes.extend_from_slice(&[0; 12]);
        }
        encode(format, &record, &mut bytes);
        if framed {
            let len = (bytes.len() - 12) as u32;
            let crc = crc_fast::crc32_iscsi(&bytes[12..]);
            bytes[..4].copy_from_slice(&len.to_le_bytes());
            bytes[4..8].copy_from_slice(&crc.to_le_bytes());
            bytes[8..12].copy_from_slice(&(!len).to_le_bytes());
        }
        file.write_all(&bytes).unwrap();
    }
    file.flush().unwrap();
    let elapsed = watch.elapsed();
    drop(file);
    elapsed
}

/// `n` appends made by `threads` threads at once to a fresh journal.
fn journal_threads(n: u64, threads: u64, options: JournalOptions, events: &[ChainEvent<String>]) -> Elapsed {
    let dir = tempfile::tempdir().unwrap();
    let journal = FileJournal::<ChainEvent<String>>::open(dir.path(), options).unwrap();
    let watch = Stopwatch::start();
    std::thread::scope(|s| {
        for t in 0..threads {
            let journal = &journal;
            s.spawn(move || {
                for i in (t..n).step_by(threads as usize) {
                    black_box(journal.append(events[i as usize % events.len()].clone()).unwrap());
                }
            });
        }
    });
    let elapsed = watch.elapsed();
    drop(journal);
    elapsed
}

fn main() {
    let bench = Bench::from_env("journal").clock(Clock::ThreadCpu);
    let events = events();
    for (comparison, format) in [("append_os", Format::Postcard), ("append_json", Format::Json)] {
        bench.compare(
            comparison,
            "append",
            vec![
                timed("bufwriter", |n| plain(n, format, false, &events)),
                timed("framed_bufwriter", |n| plain(n, format, true, &events)),
                timed("journal_os", |n| journal(n, os(format), &events)),
            ],
            &[
                ratio("limit / journal Os", "bufwriter", "journal_os").target(Target::AtLeast(0.8)),
                ratio("limit / limit + framing and CRC", "bufwriter", "framed_bufwriter"),
                ratio("limit + framing / journal Os (lock, index, bookkeeping)", "framed_bufwriter", "journal_os"),
            ],
        );
    }
    codec(&bench, &events);
    policies(&events);
    record_sizes(&bench);
}

fn codec(bench: &Bench, events: &[ChainEvent<String>]) {
    let mut variants = Vec::new();
    for (format, encode_name, decode_name) in
        [(Format::Postcard, "encode_postcard", "decode_postcard"), (Format::Json, "encode_json", "decode_json")]
    {
        variants.push(timed(encode_name, move |n| {
            let mut out = Vec::with_capacity(512);
            let watch = Stopwatch::start();
            for i in 0..n {
                out.clear();
                encode(format, &events[i as usize % events.len()], &mut out);
                black_box(out.len());
            }
            watch.elapsed()
        }));
        let frames: Vec<Vec<u8>> = events
            .iter()
            .map(|e| {
                let mut v = Vec::new();
                encode(format, e, &mut v);
                v
            })
            .collect();
        variants.push(timed(decode_name, move |n| {
            let watch = Stopwatch::start();
            for i in 0..n {
                let frame = &frames[i as usize % frames.len()];
                let e: ChainEvent<String> = match format {
                    Format::Postcard => postcard::from_bytes(frame).unwrap(),
                    _ => serde_json::from_slice(frame).unwrap(),
                };
                black_box(e);
            }
            watch.elapsed()
        }));
    }
    bench.compare(
        "codec",
        "record",
        variants,
        &[
            ratio("encode JSON / postcard", "encode_json", "encode_postcard"),
            ratio("decode JSON / postcard", "decode_json", "decode_postcard"),
        ],
    );
}

/// The syncing policies, on the wall clock (their time is the disk's): no ratio, ns per append.
fn policies(events: &[ChainEvent<String>]) {
    let bench = Bench::from_env("journal").clock(Clock::Wall);
    let every = |records| JournalOptions {
        durability: Durability::Every { records, interval: Duration::from_millis(100) },
        ..JournalOptions::default()
    };
    bench.compare(
        "policies",
        "append",
        vec![
            timed("every_1000", move |n| journal(n, every(1000), events)),
            timed("every_100", move |n| journal(n, every(100), events)),
            // A sync takes 0.1 to several ms on this shared disk: fixed sizes, so a sample is never one append.
            timed("every_append", |n| journal(n, JournalOptions::default(), events)).units(64),
            timed("every_append_8_threads", |n| journal_threads(n, 8, JournalOptions::default(), events)).units(256),
        ],
        &[ratio("every append, time per append: 8 threads / 1", "every_append_8_threads", "every_append")],
    );
}

/// Appends per second vs record size, measured by the scale curve's code (`scale/journal.rs`, one owner: the plotted
/// curve in `docs/figures/` and this table come from the same measurement); the table goes to
/// `journal-record_sizes.csv`.
fn record_sizes(bench: &Bench) {
    let sizes: &[usize] = if bench.settings.smoke { &[16, 4096] } else { &journal_curve::SIZES };
    let points = journal_curve::curve(bench, sizes);
    if points.is_empty() {
        return;
    }
    let mut csv = String::from(
        "record_bytes,variant,ns_per_append_median,ns_per_append_min,ns_per_append_max,appends_per_s_median,\
         mb_per_s_median\n",
    );
    for p in &points {
        for (variant, [median, slowest, fastest]) in [("bufwriter", p.limit), ("journal_os", p.journal)] {
            csv.push_str(&format!(
                "{},{variant},{:.1},{:.1},{:.1},{median:.0},{:.1}\n",
                p.bytes,
                1e9 / median,
                1e9 / fastest,
                1e9 / slowest,
                median * p.bytes as f64 / 1e6
            ));
        }
    }
    bench.write_csv("journal-record_sizes.csv", &csv);
}
