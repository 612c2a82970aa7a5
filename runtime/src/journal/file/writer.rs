//! The journal's mutable state behind its lock: the index of segments, the open tail segment, the buffer of records
//! not yet written, and the durability policy applied on every append.
//!
//! A failed append leaves the journal as if it had not been called: the record leaves the buffer and a part-written
//! frame is cut off the file, so the next append lands right after the last good record. Only a failed sync (after
//! which the OS may have dropped written pages) or a failed undo leaves the journal refusing appends until reopened.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use super::buffer::Frames;
use super::commit::{sync_in_order, GroupCommit, SyncPoint};
use super::index::{wants_mark, Indexed, Span};
#[cfg(any(test, feature = "fault-injection"))]
use super::io::Faults;
use super::io::{SegmentIo, SyncHandle};
use super::mark::Mark;
use super::policy::{Durability, JournalOptions};
use super::segment::{SegmentFile, SEGMENT_HEADER};
use super::{frame, Damage};
use crate::journal::JournalError;

mod roll;

/// Why appends are refused.
#[derive(Debug)]
enum Refusal {
    /// The journal holds a damaged record; appending after it would hide it.
    Damaged(Damage),
    /// A sync failed or a failed write could not be undone; the file's state is unknown.
    Broken(String),
}

/// Everything the journal changes, under one lock.
#[derive(Debug)]
pub(crate) struct Writer {
    dir: PathBuf,
    options: JournalOptions,
    /// Every readable segment, oldest first; the last one is the tail when the journal is writable.
    segments: Vec<Indexed>,
    tail: Option<SegmentIo>,
    /// Frames encoded but not yet written to the tail file.
    buf: Frames,
    /// Appends since the last one that waited for a sync (under [`Durability::Every`]).
    unsynced: u64,
    /// When an append last waited for a sync (under [`Durability::Every`]).
    last_sync: Instant,
    /// Position of the next record.
    next: u64,
    refusal: Option<Refusal>,
    /// How far the journal is synced, shared with appenders waiting outside the lock.
    commit: Arc<GroupCommit>,
    /// Segments closed by a roll and not yet synced, each with the position of the first record after it: the next
    /// sync syncs them (and the folder) before the tail, so no sync counts a record as synced before they are.
    closed: Vec<(u64, SyncHandle)>,
    /// The journal's folder, opened for syncing once a syncing journal rolls its first segment.
    folder: Option<SyncHandle>,
    #[cfg(any(test, feature = "fault-injection"))]
    faults: Option<Arc<Faults>>,
}

impl Writer {
    /// The state recovery found: `segments` ends with the tail, open as `tail` (or `None` with `damage`).
    pub(crate) fn new(
        dir: PathBuf,
        options: JournalOptions,
        segments: Vec<Indexed>,
        tail: Option<SegmentIo>,
        next: u64,
        damage: Option<Damage>,
        #[cfg(any(test, feature = "fault-injection"))] faults: Option<Arc<Faults>>,
    ) -> Self {
        Self {
            dir,
            options,
            segments,
            tail,
            buf: Frames::with_capacity(options.buffer_bytes + 4096),
            unsynced: 0,
            last_sync: Instant::now(),
            next,
            refusal: damage.map(Refusal::Damaged),
            commit: GroupCommit::new(next, interval_of(options.durability)),
            closed: Vec::new(),
            folder: None,
            #[cfg(any(test, feature = "fault-injection"))]
            faults,
        }
    }

    /// Position of the next record: the number of records when the journal starts at 0.
    pub(crate) fn next(&self) -> u64 {
        self.next
    }

    /// Position of the first record still kept: 0 unless retention deleted older segments.
    pub(crate) fn first(&self) -> u64 {
        self.segments.first().map_or(self.next, |s| s.file.base)
    }

    /// Every segment with the bytes readers may read of it (header included), oldest first.
    pub(crate) fn segment_sizes(&self) -> Vec<(SegmentFile, u64)> {
        self.segments.iter().map(|s| (s.file.clone(), s.len)).collect()
    }

    /// Forgets every segment that starts before `base`, never the tail, and returns their files for the caller to
    /// delete (outside the lock). Readers asking for a forgotten position get an error from then on.
    pub(crate) fn forget_before(&mut self, base: u64) -> Vec<SegmentFile> {
        let keep_from =
            self.segments.partition_point(|s| s.file.base < base).min(self.segments.len().saturating_sub(1));
        self.segments.drain(..keep_from).map(|s| s.file).collect()
    }

    /// The group commit that appenders under [`Durability::EveryAppend`] wait on.
    pub(crate) fn group_commit(&self) -> Arc<GroupCommit> {
        self.commit.clone()
    }

    /// What the committer syncs: hands buffered records to the OS, then every record before the point's position is
    /// written, to older segments (synced when they were closed) or to the tail, which the point's handle syncs.
    ///
    /// Buffered records that cannot be written (a full disk) stay buffered, as when an appender's own write fails,
    /// and the point covers the records before them: a failed write is not a failed sync, so it does not break the
    /// journal, and the appender whose write hits it gets the error.
    pub(crate) fn sync_point(&mut self) -> Result<SyncPoint, JournalError> {
        let upto = match self.flush() {
            Ok(()) => self.next,
            Err(e) => {
                tracing::warn!(error = %e, dir = %self.dir.display(), "buffered journal records could not be written");
                self.next - self.buf.frames()
            }
        };
        Ok(SyncPoint {
            upto,
            closed: self.closed.iter().map(|(_, handle)| handle.clone()).collect(),
            folder: self.folder.clone().filter(|_| !self.closed.is_empty()),
            tail: self.tail.as_ref().map(SegmentIo::sync_handle),
            mark: self.mark(),
        })
    }

    /// A sync covered every record before `upto`: the segments closed before it are synced with their folder.
    pub(crate) fn closed_synced(&mut self, upto: u64) {
        // A segment closed at `upto` or later was closed after the sync point was taken: the next sync takes it.
        self.closed.retain(|&(after, _)| after >= upto);
    }

    /// Where the journal stands, for the tail mark: valid once everything buffered is written (and synced, for the
    /// mark to mean it).
    fn mark(&self) -> Option<Mark> {
        let tail = self.segments.last().filter(|_| self.tail.is_some() && self.buf.is_empty())?;
        Some(Mark { next: self.next, base: tail.file.base, len: tail.len })
    }

    /// The damage that stops reading and appending, if any.
    pub(crate) fn damage(&self) -> Option<&Damage> {
        match &self.refusal {
            Some(Refusal::Damaged(d)) => Some(d),
            _ => None,
        }
    }

    /// Appends `record` under the durability policy: encodes it, and writes it when the policy says so. The caller
    /// waits for the sync outside the lock when the returned [`Appended`] says so.
    pub(crate) fn append<R: Serialize>(&mut self, record: &R) -> Result<Appended, JournalError> {
        if self.refusal.is_some() {
            return Err(self.refused());
        }
        let mut mark = self.buf.len();
        let start = self.buf.begin();
        let mut encoding = self.buf.encoding(mark);
        let encoded = self.options.format.encode(record, encoding.bytes());
        encoding.done();
        if let Err(e) = encoded {
            self.buf.cut(mark);
            return Err(e);
        }
        if let Err(len) = self.buf.finish(start) {
            self.buf.cut(mark);
            return Err(too_large(len));
        }
        // Where the record starts in the tail segment.
        let mut offset = self.segments.last().map_or(0, |s| s.len) + mark as u64;
        let frame_len = (self.buf.len() - mark) as u64;
        if offset > SEGMENT_HEADER as u64 && offset + frame_len > self.options.segment_bytes {
            let framed = self.buf.split_off(mark);
            self.roll()?;
            mark = self.buf.len();
            self.buf.put_back(&framed);
            offset = SEGMENT_HEADER as u64 + mark as u64;
        }
        // Written now when a sync must cover it; the caller waits for that sync outside the lock (see `commit`).
        let wait = match self.options.durability {
            Durability::EveryAppend => true,
            Durability::Every { records, interval } => {
                self.unsynced + 1 >= u64::from(records.max(1)) || self.last_sync.elapsed() >= interval
            }
            Durability::Os => false,
        };
        let kept = if wait { self.flush() } else { self.flush_if_full() };
        if let Err(e) = kept {
            self.buf.cut(mark);
            return Err(e);
        }
        if wait {
            self.unsynced = 0;
            self.last_sync = Instant::now();
        } else {
            self.unsynced += 1;
        }
        let position = self.next;
        self.next += 1;
        if let Some(tail) = self.segments.last_mut().filter(|tail| wants_mark(position, offset, &tail.marks)) {
            tail.marks.push((position, offset));
        }
        Ok(Appended { position, wait })
    }

    /// The error of an append that is refused before it starts. Out of line: the append path stays small.
    #[cold]
    fn refused(&mut self) -> JournalError {
        match &self.refusal {
            Some(Refusal::Damaged(d)) => d.error(),
            Some(Refusal::Broken(why)) => JournalError::Unusable(why.clone()),
            None => JournalError::Unusable("append refused for no reason; this is a bug".to_owned()),
        }
    }

    /// Writes the buffer out once it holds `buffer_bytes` (counting what is written of a record it holds the rest
    /// of), in whole pages (see `Frames::whole_pages`).
    #[inline]
    fn flush_if_full(&mut self) -> Result<(), JournalError> {
        if self.buf.held() >= self.options.buffer_bytes {
            self.write_out(true)
        } else {
            Ok(())
        }
    }

    /// Hands buffered records to the OS. On error the buffer is kept and the file cut back to its last good frame.
    pub(crate) fn flush(&mut self) -> Result<(), JournalError> {
        self.write_out(false)
    }

    /// Writes the buffer to the tail segment, all of it or (`whole_pages`) what ends the file on a page boundary.
    /// On error the buffer is kept and the file cut back to where it ended.
    fn write_out(&mut self, whole_pages: bool) -> Result<(), JournalError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let (Some(tail), Some(indexed)) = (self.tail.as_mut(), self.segments.last_mut()) else {
            return Ok(());
        };
        let pages = if whole_pages { self.buf.whole_pages(indexed.len, self.options.buffer_bytes) } else { 0 };
        let bytes = match pages {
            0 => self.buf.sealed(),
            n => &self.buf.sealed()[..n],
        };
        let n = bytes.len();
        match tail.write_all(bytes) {
            Ok(()) => {
                indexed.len += n as u64;
                self.buf.written(n);
                Ok(())
            }
            Err(e) => {
                if let Err(undo) = tail.truncate(indexed.len) {
                    self.break_with(format!(
                        "a failed write ({e}) could not be undone ({undo}); reopen the journal to recover"
                    ));
                }
                Err(JournalError::Io(e))
            }
        }
    }

    /// Hands buffered records to the OS and forces them to stable storage, with the segments closed since the last
    /// sync and their folder, on the calling thread.
    pub(crate) fn sync(&mut self) -> Result<(), JournalError> {
        self.flush()?;
        let closed = self.closed.iter().map(|(_, handle)| handle);
        let folder = self.folder.as_ref().filter(|_| !self.closed.is_empty());
        let tail = self.tail.as_ref().map(SegmentIo::sync_handle);
        let synced = sync_in_order(closed, tail.as_ref(), folder);
        if let Err(e) = synced {
            self.break_with(format!("a sync failed ({e}); reopen the journal to recover"));
            return Err(JournalError::Io(e));
        }
        self.closed.clear();
        self.unsynced = 0;
        self.last_sync = Instant::now();
        self.commit.synced_to(self.next);
        Ok(())
    }

    /// Keeps the policy's promise on close: flushes, and syncs unless the policy leaves that to the OS. Returns
    /// where the journal then stands, for the tail mark, unless it refuses appends.
    pub(crate) fn close(&mut self) -> Option<Mark> {
        let kept = match self.options.durability {
            Durability::Os => self.flush(),
            _ if self.refusal.is_none()
                && (!self.buf.is_empty() || self.commit.synced() < self.next || !self.closed.is_empty()) =>
            {
                self.sync()
            }
            _ => Ok(()),
        };
        if let Err(e) = kept {
            tracing::error!(error = %e, dir = %self.dir.display(), "journal could not be flushed on close");
            return None;
        }
        self.mark().filter(|_| self.refusal.is_none())
    }

    fn durable(&self) -> bool {
        self.options.durability != Durability::Os
    }

    pub(crate) fn break_with(&mut self, why: String) {
        tracing::error!(dir = %self.dir.display(), "{why}");
        self.refusal = Some(Refusal::Broken(why));
    }

    /// The segments readers need to read from `position` on, with everything appended so far visible to them.
    pub(crate) fn readable_from(&mut self, position: u64) -> Result<(Vec<Span>, u64), JournalError> {
        self.flush()?;
        let first = self.segments.partition_point(|s| s.file.base <= position).saturating_sub(1);
        let Some((head, rest)) = self.segments[first..].split_first() else { return Ok((Vec::new(), 0)) };
        let (span, skip) = head.span_from(position);
        let mut spans = Vec::with_capacity(rest.len() + 1);
        spans.push(span);
        spans.extend(rest.iter().map(|s| s.span_from(s.file.base).0));
        Ok((spans, skip))
    }
}

/// What [`Writer::append`] did.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Appended {
    /// The record's position.
    pub(crate) position: u64,
    /// The record is written and the policy wants it synced before the append returns.
    pub(crate) wait: bool,
}

/// How long records may wait for a sync when no appender asks for one.
fn interval_of(durability: Durability) -> Option<std::time::Duration> {
    match durability {
        Durability::Every { interval, .. } => Some(interval),
        _ => None,
    }
}

#[cold]
fn too_large(len: usize) -> JournalError {
    JournalError::Codec(format!("record encodes to {len} bytes, more than the limit of {}", frame::MAX_PAYLOAD))
}
