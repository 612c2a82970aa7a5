//! Records around the page and buffer sizes (a frame cut at a page boundary, one larger than the buffer, many tiny
//! ones), read back while they are written, by readers and a tail follower, with syncs and segment rolls racing the
//! appends: every record reads back intact, and a reopen finds a healthy journal holding all of them.

use std::sync::atomic::{AtomicBool, Ordering};

use super::*;

const BUFFER: usize = 8192;

/// Payload lengths that put frame ends on, before and after page and buffer boundaries, with tiny ones between.
fn payload_len(i: u64) -> usize {
    const LENS: [usize; 14] = [
        4083,
        4084,
        4085,
        4095,
        4096,
        4097,
        BUFFER - 13,
        BUFFER - 12,
        BUFFER - 11,
        BUFFER,
        BUFFER + 1,
        3 * BUFFER,
        0,
        1,
    ];
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5eed;
    x ^= x >> 29;
    match x % 4 {
        0 => LENS[(x >> 8) as usize % LENS.len()].saturating_sub((x >> 20) as usize % 3),
        _ => (x >> 8) as usize % 40,
    }
    .min(4 * BUFFER)
}

fn payload(i: u64) -> Vec<u8> {
    let len = payload_len(i);
    (0..len).map(|b| (b as u64 ^ i) as u8).collect()
}

fn sized(durability: Durability) -> JournalOptions {
    JournalOptions { segment_bytes: 64 * 1024, buffer_bytes: BUFFER, ..options(durability) }
}

/// Appends `n` records on this thread while readers, a tail follower and (under `Os`) syncs run on others.
fn appended_while_read(durability: Durability, n: u64) {
    let dir = tempfile::tempdir().unwrap();
    let journal = Arc::new(FileJournal::<Vec<u8>>::open(dir.path(), sized(durability)).unwrap());
    let done = Arc::new(AtomicBool::new(false));
    let mut helpers = Vec::new();
    for reader in 0..2u64 {
        let (journal, done) = (journal.clone(), done.clone());
        helpers.push(std::thread::spawn(move || {
            let mut from = 0;
            while !done.load(Ordering::Relaxed) {
                for (i, record) in journal.iter_from(from).unwrap().enumerate() {
                    let position = from + i as u64;
                    assert_eq!(record.unwrap_or_else(|e| panic!("record {position}: {e}")), payload(position));
                }
                from = (from + 7 + reader) % journal.len().max(1);
            }
        }));
    }
    let follower = {
        let journal = journal.clone();
        std::thread::spawn(move || {
            let mut tail = journal.subscribe();
            let mut next = 0;
            while next < n {
                let upto = *tail.borrow_and_update();
                if upto > next {
                    for record in journal.iter_from(next).unwrap().take((upto - next) as usize) {
                        assert_eq!(record.unwrap_or_else(|e| panic!("record {next}: {e}")), payload(next));
                        next += 1;
                    }
                } else {
                    std::thread::yield_now();
                }
            }
        })
    };
    if durability == Durability::Os {
        let (journal, done) = (journal.clone(), done.clone());
        helpers.push(std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                journal.sync().unwrap();
            }
        }));
    }
    for i in 0..n {
        assert_eq!(journal.append(payload(i)).unwrap(), i);
    }
    follower.join().unwrap();
    done.store(true, Ordering::Relaxed);
    for helper in helpers {
        helper.join().unwrap();
    }
    drop(Arc::into_inner(journal).expect("the helpers are done"));
    let reopened = FileJournal::<Vec<u8>>::open(dir.path(), sized(durability)).unwrap();
    let recovery = reopened.recovery();
    assert!(recovery.damage.is_none() && recovery.truncated.is_none() && recovery.lost.is_none(), "{recovery:?}");
    assert!(recovery.segments >= 2, "segments rolled: {recovery:?}");
    let all = reopened.read_from(0).unwrap();
    assert_eq!(all.len() as u64, n);
    for (i, record) in all.iter().enumerate() {
        assert_eq!(*record, payload(i as u64), "record {i}");
    }
}

#[test]
fn records_around_page_and_buffer_sizes_read_back_while_written_under_os_with_syncs_racing() {
    appended_while_read(Durability::Os, 1500);
}

#[test]
fn records_around_page_and_buffer_sizes_read_back_while_written_under_every() {
    appended_while_read(Durability::Every { records: 50, interval: Duration::from_millis(5) }, 1500);
}

#[test]
fn records_around_page_and_buffer_sizes_read_back_while_written_under_every_append() {
    appended_while_read(Durability::EveryAppend, 60);
}
