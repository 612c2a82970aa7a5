//! Behaviour of the file journal, one concern per module, and the helpers they share.

mod close;
mod commit;
mod faults;
mod loss;
mod panics;
mod recovery;
mod reopen;
mod roll;
mod roundtrip;
mod sizes;

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::segment::SEGMENT_HEADER;
use super::*;

fn options(durability: Durability) -> JournalOptions {
    JournalOptions { durability, ..JournalOptions::default() }
}

fn small_segments() -> JournalOptions {
    JournalOptions { segment_bytes: 256, ..JournalOptions::default() }
}

fn line(i: u64) -> String {
    format!("10.0.0.{} - - [26/Nov/2026:09:{:02}:00 +0000] \"GET /item/{i} HTTP/1.1\" 200 {}", i % 256, i % 60, i * 7)
}

fn fill(journal: &FileJournal<String>, n: u64) {
    for i in 0..n {
        let start = journal.len();
        assert_eq!(journal.append(line(start)).unwrap(), start, "record {i}");
    }
}

fn expected(range: std::ops::Range<u64>) -> Vec<String> {
    range.map(line).collect()
}

fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    paths.sort();
    paths
}

fn append_bytes(path: &Path, bytes: &[u8]) {
    OpenOptions::new().append(true).open(path).unwrap().write_all(bytes).unwrap();
}

fn flip_byte(path: &Path, offset: u64) {
    let mut bytes = fs::read(path).unwrap();
    bytes[offset as usize] ^= 0x55;
    fs::write(path, bytes).unwrap();
}

/// Byte offset of record `index` in a segment of records written by `fill`.
fn offset_of(path: &Path, index: usize) -> u64 {
    let bytes = fs::read(path).unwrap();
    let mut offset = SEGMENT_HEADER;
    for _ in 0..index {
        offset += frame::FRAME_HEADER + frame::read_header(&bytes[offset..]).unwrap();
    }
    offset as u64
}
