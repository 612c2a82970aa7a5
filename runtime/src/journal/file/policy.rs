//! What a file journal promises when `append` returns (its durability policy), and the other choices made at open.

use std::time::Duration;

use super::codec::Format;

/// When appended records are forced to stable storage (`fdatasync`). Chosen at open; `append` returns only once the
/// policy's promise holds for the record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// Every append is written and synced before it returns: an acknowledged record survives a process crash and a
    /// power cut. The slowest: one `fdatasync` per append.
    EveryAppend,
    /// Records are buffered and synced once `records` are waiting or `interval` has passed since the last sync,
    /// whichever comes first (a background thread keeps the interval when no appends arrive). A crash loses at most
    /// the records of the last `records` appends or `interval`.
    Every {
        /// Sync once this many records wait (at least 1).
        records: u32,
        /// Sync at least this often while records wait.
        interval: Duration,
    },
    /// Records are buffered and handed to the operating system when the buffer fills, on a read, on
    /// [`flush`](super::FileJournal::flush) and on drop; never synced. The fastest: a process crash loses what is in
    /// the buffer (at most `buffer_bytes`), a power cut whatever the OS had not written back.
    Os,
}

/// How to open a [`FileJournal`](super::FileJournal).
///
/// ```
/// use std::time::Duration;
/// use stagewise_runtime::journal::{Durability, JournalOptions};
///
/// let options = JournalOptions {
///     durability: Durability::Every { records: 512, interval: Duration::from_millis(50) },
///     ..JournalOptions::default()
/// };
/// assert_eq!(options.segment_bytes, 64 * 1024 * 1024);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JournalOptions {
    /// When records reach stable storage. Default: [`Durability::EveryAppend`].
    pub durability: Durability,
    /// A segment is closed and a new one started once it would grow past this many bytes (a record larger than
    /// this gets a segment of its own). Default: 64 MiB.
    pub segment_bytes: u64,
    /// How records are serialized. Default: [`Format::Postcard`].
    pub format: Format,
    /// How many bytes of records are buffered before they are handed to the OS, for the buffering policies. A full
    /// buffer is written in whole pages: the record a page boundary cuts stays buffered (its start written), counted
    /// in these bytes. Default: 64 KiB.
    pub buffer_bytes: usize,
}

impl Default for JournalOptions {
    fn default() -> Self {
        Self {
            durability: Durability::EveryAppend,
            segment_bytes: 64 * 1024 * 1024,
            format: Format::Postcard,
            buffer_bytes: 64 * 1024,
        }
    }
}

impl JournalOptions {
    /// The default options with `durability`.
    pub fn with_durability(durability: Durability) -> Self {
        Self { durability, ..Self::default() }
    }
}
