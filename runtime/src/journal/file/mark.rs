//! The tail mark: a small file beside the segments, `tail.mark`, saying how far the journal reached when it was last
//! synced (or closed): the next position, and the tail segment and its length then. Recovery compares it with what
//! it finds, so records lost from the end (an emptied or deleted last segment, a synced record cut off as a torn
//! tail) are reported with their count and bytes, never taken for a crash that cut an unsynced write.
//!
//! The mark is written after the sync it describes returns and is itself not synced: a power cut can leave it older
//! than the segments (a loss then goes unseen back to that mark), never newer than them.
//!
//! ```text
//! | magic "SWJTAIL1" | next: u64 LE | segment base: u64 LE | segment length: u64 LE | crc32c(bytes 0..32): u32 LE | 0: u32 |
//! ```

use std::fs::{File, OpenOptions};
use std::io::{self, ErrorKind};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// The mark's file name in a journal folder.
pub(crate) const NAME: &str = "tail.mark";

const MAGIC: &[u8; 8] = b"SWJTAIL1";
const LEN: usize = 40;

/// How far the journal reached at a sync: every record before `next` was on stable storage, the last of them in the
/// segment starting at `base`, which was `len` bytes long (header included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Mark {
    pub(crate) next: u64,
    pub(crate) base: u64,
    pub(crate) len: u64,
}

impl Mark {
    fn encode(self) -> [u8; LEN] {
        let mut b = [0u8; LEN];
        b[..8].copy_from_slice(MAGIC);
        b[8..16].copy_from_slice(&self.next.to_le_bytes());
        b[16..24].copy_from_slice(&self.base.to_le_bytes());
        b[24..32].copy_from_slice(&self.len.to_le_bytes());
        let crc = super::frame::crc32c(&b[..32]);
        b[32..36].copy_from_slice(&crc.to_le_bytes());
        b
    }

    fn decode(b: &[u8]) -> Result<Self, String> {
        if b.len() != LEN || &b[..8] != MAGIC {
            return Err(format!("{NAME} is not a tail mark ({} bytes)", b.len()));
        }
        let word = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"));
        if super::frame::crc32c(&b[..32]).to_le_bytes() != b[32..36] || b[36..] != [0; 4] {
            return Err(format!("{NAME} fails its checksum"));
        }
        Ok(Self { next: word(8), base: word(16), len: word(24) })
    }
}

/// Reads the mark in `dir`: `Ok(None)` when there is none (a journal that was never synced, or written by an older
/// build), `Err` with the reason when the file is damaged (recovery then knows no more than without it).
pub(crate) fn read(dir: &Path) -> io::Result<Result<Option<Mark>, String>> {
    match std::fs::read(dir.join(NAME)) {
        Ok(bytes) => Ok(Mark::decode(&bytes).map(Some)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(Ok(None)),
        Err(e) => Err(e),
    }
}

/// Writes a journal's marks, each only if it is further than the last one written by this journal.
#[derive(Debug)]
pub(crate) struct MarkFile {
    path: PathBuf,
    /// Sync the folder when the file is created (for the syncing policies), so the mark's name survives a power cut.
    durable: bool,
    state: Mutex<Written>,
}

#[derive(Debug, Default)]
struct Written {
    file: Option<File>,
    last: Option<Mark>,
}

impl MarkFile {
    pub(crate) fn new(dir: &Path, durable: bool) -> Self {
        Self { path: dir.join(NAME), durable, state: Mutex::new(Written::default()) }
    }

    /// Records `mark`. Called after the sync it describes (or, under [`Durability::Os`](super::Durability::Os), the
    /// flush on close). A failure only logs: the mark sharpens recovery's report, it does not make records durable.
    pub(crate) fn write(&self, mark: Mark) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.last.is_some_and(|last| last.next >= mark.next) {
            return;
        }
        let written = match state.file.take() {
            Some(file) => Ok(file),
            None => self.create(),
        }
        .and_then(|file| file.write_all_at(&mark.encode(), 0).map(|()| file));
        match written {
            Ok(file) => {
                state.file = Some(file);
                state.last = Some(mark);
            }
            Err(e) => tracing::warn!(error = %e, path = %self.path.display(), "journal tail mark not written"),
        }
    }

    fn create(&self) -> io::Result<File> {
        match OpenOptions::new().write(true).create_new(true).open(&self.path) {
            Ok(file) => {
                if self.durable {
                    super::io::sync_dir(self.path.parent().unwrap_or(Path::new(".")))?;
                }
                Ok(file)
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => OpenOptions::new().write(true).open(&self.path),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_round_trips_and_damage_is_named() {
        let mark = Mark { next: 42, base: 40, len: 300 };
        assert_eq!(Mark::decode(&mark.encode()), Ok(mark));
        let mut bad = mark.encode();
        bad[9] ^= 1;
        assert!(Mark::decode(&bad).unwrap_err().contains("checksum"));
        assert!(Mark::decode(b"hello").unwrap_err().contains("not a tail mark"));
    }

    #[test]
    fn only_a_further_mark_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let marks = MarkFile::new(dir.path(), true);
        assert_eq!(read(dir.path()).unwrap(), Ok(None));
        marks.write(Mark { next: 5, base: 0, len: 100 });
        marks.write(Mark { next: 3, base: 0, len: 80 });
        assert_eq!(read(dir.path()).unwrap(), Ok(Some(Mark { next: 5, base: 0, len: 100 })));
    }
}
