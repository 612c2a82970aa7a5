//! A segment roll: the tail segment is closed and the next one started, on the appender's thread and without a sync
//! there (the next sync covers the closed segment, the new one and the folder).

use std::fs::{self, OpenOptions};
use std::io;

use super::super::index::Indexed;
use super::super::io::{SegmentIo, SyncHandle};
use super::super::segment::{self, SegmentFile, SEGMENT_HEADER};
use super::Writer;
use crate::journal::JournalError;

impl Writer {
    /// Closes the tail segment and starts a new one whose first record is the next. No sync runs here, on the
    /// appender's thread: under a syncing policy the closed segment, the new one and the folder are synced by the
    /// next sync (the committer's, or [`sync`](Self::sync)) before it counts any record as synced. A crash before
    /// that sync may leave the new segment on disk while the end of the closed one is not: recovery cuts that
    /// unsynced tail off across the segments (see `unsynced.rs`).
    pub(super) fn roll(&mut self) -> Result<(), JournalError> {
        self.flush()?;
        let segment = SegmentFile::new(&self.dir, self.next);
        #[cfg(any(test, feature = "fault-injection"))]
        let faults = self.faults.clone();
        // Under `Os` the segments and the folder are opened only if `sync` is called (see `SyncHandle::later`).
        let folder = match &self.folder {
            Some(folder) => folder.clone(),
            None if self.durable() => SyncHandle::folder(
                &self.dir,
                #[cfg(any(test, feature = "fault-injection"))]
                faults.clone(),
            )?,
            None => SyncHandle::later(
                &self.dir,
                #[cfg(any(test, feature = "fault-injection"))]
                faults.clone(),
            ),
        };
        let file = OpenOptions::new().read(true).write(true).create_new(true).open(&segment.path)?;
        let header = segment::header(self.options.format, self.next);
        let started = SegmentIo::new(
            file,
            #[cfg(any(test, feature = "fault-injection"))]
            self.faults.clone(),
        )
        .and_then(|mut io| io.write_all(&header).map(|()| io));
        let io = match started {
            Ok(io) => io,
            Err(e) => return Err(self.abandon(&segment, e)),
        };
        let closed = self.tail.replace(io).map(|closed| match self.durable() {
            true => closed.sync_handle(),
            false => {
                let path = self.segments.last().map_or(segment.path.as_path(), |s| s.file.path.as_path());
                SyncHandle::later(
                    path,
                    #[cfg(any(test, feature = "fault-injection"))]
                    faults,
                )
            }
        });
        if let Some(closed) = closed {
            self.closed.push((self.next, closed));
        }
        self.folder = Some(folder);
        self.segments.push(Indexed::new(segment, SEGMENT_HEADER as u64, None, Vec::new()));
        Ok(())
    }

    /// Removes a segment that could not be started because of `e`, and returns `e`.
    fn abandon(&mut self, segment: &SegmentFile, e: io::Error) -> JournalError {
        if let Err(undo) = fs::remove_file(&segment.path) {
            self.break_with(format!(
                "a new segment could not be started ({e}) nor removed ({undo}); reopen the journal to recover"
            ));
        }
        JournalError::Io(e)
    }
}
