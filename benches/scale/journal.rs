//! Curve 3: file journal appends per second under `Durability::Os` against the record size (16 B to 64 KiB), beside
//! encoding the same record with postcard and writing it through a `BufWriter` of the journal's buffer size (the
//! limit). Both append on the calling thread; the time holds the final flush. Written on the public `FileJournal` API
//! only; each sample starts from an empty folder. The one measurement of this curve: `benches/scale.rs` plots it,
//! `benches/journal.rs -- size` writes it as the journal README's table.

use std::fs::File;
use std::io::{BufWriter, Write};

use stagewise::journal::{Durability, FileJournal, Format, Journal, JournalOptions};

use crate::harness::encode::encode;
use crate::harness::{ratio, timed, Bench, Stopwatch};

/// Record sizes, in bytes of payload.
pub const SIZES: [usize; 7] = [16, 64, 256, 1024, 4096, 16384, 65536];

/// One point: median and range of appends per second, journal and limit.
pub struct Point {
    pub bytes: usize,
    pub journal: [f64; 3],
    pub limit: [f64; 3],
}

/// Measures every record size.
pub fn curve(bench: &Bench, sizes: &[usize]) -> Vec<Point> {
    let options = JournalOptions::with_durability(Durability::Os);
    let mut points = Vec::new();
    for &bytes in sizes {
        let record: String = (0..bytes).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
        let journal = timed("file journal (Os)", |n| {
            let dir = tempfile::tempdir().expect("temp dir");
            let journal = FileJournal::<String>::open(dir.path(), options).expect("open");
            let watch = Stopwatch::start();
            for _ in 0..n {
                journal.append(record.clone()).expect("append");
            }
            journal.flush().expect("flush");
            watch.elapsed()
        });
        let limit = timed("encode + BufWriter", |n| {
            let dir = tempfile::tempdir().expect("temp dir");
            let file = File::create(dir.path().join("plain")).expect("file");
            let mut out = BufWriter::with_capacity(options.buffer_bytes, file);
            let mut encoded = Vec::with_capacity(bytes + 16);
            let watch = Stopwatch::start();
            for _ in 0..n {
                encoded.clear();
                encode(Format::Postcard, &record.clone(), &mut encoded);
                out.write_all(&encoded).expect("write");
            }
            out.flush().expect("flush");
            watch.elapsed()
        });
        // Named for both filters: `scale -- journal` and `journal -- size`.
        let comparison = format!("journal_size_{bytes}B");
        let Some(m) = bench.compare(
            &comparison,
            "append",
            vec![journal, limit],
            &[ratio("journal / encode + BufWriter (appends/s)", "encode + BufWriter", "file journal (Os)")],
        ) else {
            continue;
        };
        let per_second = |name: &str| {
            let s = m.spread(name);
            [1e9 / s.median, 1e9 / s.max, 1e9 / s.min]
        };
        points.push(Point { bytes, journal: per_second("file journal (Os)"), limit: per_second("encode + BufWriter") });
    }
    points
}
