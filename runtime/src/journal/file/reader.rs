//! Reading a file journal: an iterator over the records from a position on that checks every frame and stops at the
//! first damaged one with an error naming the segment and the byte offset, so nothing is ever skipped silently.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::marker::PhantomData;

use serde::de::DeserializeOwned;

use super::codec::Format;
use super::frame::{self, Frame, FRAME_HEADER};
use super::index::Span;
use super::Damage;
use crate::journal::JournalError;

/// The records of a [`FileJournal`](super::FileJournal) from a position on, oldest first, as they were when the
/// iterator was made. Yields `Err` at most once, for the first damaged or unreadable record, and then ends.
#[derive(Debug)]
pub struct Records<R> {
    format: Format,
    segments: VecDeque<Span>,
    /// Intact records still to pass over before the first one yielded.
    skip: u64,
    open: Option<Open>,
    bytes: Vec<u8>,
    finished: bool,
    /// Damage to report before anything else.
    fail: Option<Damage>,
    _record: PhantomData<fn() -> R>,
}

#[derive(Debug)]
struct Open {
    reader: BufReader<File>,
    offset: u64,
    segment: Span,
}

impl<R> Records<R> {
    pub(crate) fn new(format: Format, segments: Vec<Span>, skip: u64) -> Self {
        Self {
            format,
            segments: segments.into(),
            skip,
            open: None,
            bytes: Vec::new(),
            finished: false,
            fail: None,
            _record: PhantomData,
        }
    }

    /// An iterator that yields the error of `damage` and ends.
    pub(crate) fn failed(format: Format, damage: &Damage) -> Self {
        Self { fail: Some(damage.clone()), ..Self::new(format, Vec::new(), 0) }
    }

    /// The next intact frame's payload, into `self.bytes[FRAME_HEADER..]`; `Ok(false)` at the end of the journal.
    fn next_frame(&mut self) -> Result<bool, JournalError> {
        if let Some(damage) = self.fail.take() {
            return Err(damage.error());
        }
        loop {
            let open = match &mut self.open {
                Some(open) => open,
                None => {
                    let Some(segment) = self.segments.pop_front() else { return Ok(false) };
                    let mut file = File::open(&segment.file.path)?;
                    let offset = segment.start;
                    file.seek(SeekFrom::Start(offset))?;
                    self.open.insert(Open { reader: BufReader::with_capacity(64 * 1024, file), offset, segment })
                }
            };
            let remaining = open.segment.len - open.offset;
            if remaining == 0 {
                if let Some(damage) = &open.segment.damage {
                    return Err(damage.error());
                }
                self.open = None;
                continue;
            }
            let corrupt = |reason: String| JournalError::Corrupt {
                segment: open.segment.file.name(),
                offset: open.offset,
                reason,
            };
            if remaining < FRAME_HEADER as u64 {
                return Err(corrupt(format!("{remaining} bytes left, too few for a record")));
            }
            self.bytes.resize(FRAME_HEADER, 0);
            open.reader.read_exact(&mut self.bytes)?;
            let len = match frame::read_header(&self.bytes) {
                Ok(len) => len,
                Err(Frame::Damaged { reason, .. }) => return Err(corrupt(reason)),
                Err(other) => return Err(corrupt(format!("unreadable frame header: {other:?}"))),
            };
            let end = (FRAME_HEADER + len) as u64;
            if end > remaining {
                return Err(corrupt(format!("record of {len} bytes runs past the end of the segment")));
            }
            self.bytes.resize(FRAME_HEADER + len, 0);
            open.reader.read_exact(&mut self.bytes[FRAME_HEADER..])?;
            match frame::read_frame(&self.bytes) {
                Frame::Record(_) => {}
                Frame::Damaged { reason, .. } => return Err(corrupt(reason)),
                Frame::Incomplete { .. } => return Err(corrupt("record cut short".to_owned())),
            }
            open.offset += end;
            return Ok(true);
        }
    }
}

impl<R: DeserializeOwned> Iterator for Records<R> {
    type Item = Result<R, JournalError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.finished {
            match self.next_frame() {
                Ok(false) => self.finished = true,
                Ok(true) if self.skip > 0 => self.skip -= 1,
                Ok(true) => {
                    let decoded = self.format.decode(&self.bytes[FRAME_HEADER..]);
                    self.finished = decoded.is_err();
                    return Some(decoded);
                }
                Err(e) => {
                    self.finished = true;
                    return Some(Err(e));
                }
            }
        }
        None
    }
}
