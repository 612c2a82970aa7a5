//! The append buffer: records framed and encoded in place, their checksums filled in later, in one pass over every
//! frame appended since the last, just before the bytes leave for the OS.
//!
//! Why later: a CRC32C of a ~100-byte record is a chain of about 20 dependent `crc32` instructions (3 cycles each),
//! and at every append it ran under the journal's lock, right before the unlock (an atomic that waits for it), so
//! nothing overlapped it. The frames of a buffer are independent of each other: checksummed in one pass, their chains
//! run side by side in the CPU. On the `journal` benchmark's `Os` appends this took about 9 ns off every append (see
//! `journal/README.md`). Nothing reads a frame's checksum before it is written out: readers and syncs flush first.

use super::frame;

/// Bytes of a page: the buffer is written out in whole pages while records keep coming (see [`Frames::whole_pages`]).
const PAGE: u64 = 4096;

/// Frames not yet written to the tail segment; every frame before `unsealed` has its checksum.
#[derive(Debug)]
pub(crate) struct Frames {
    bytes: Vec<u8>,
    /// Where the first frame without its checksum starts (`bytes.len()` when all have one).
    unsealed: usize,
    /// Where the first frame that starts in the buffer starts: the bytes before it end a frame whose start is
    /// written already (see [`whole_pages`](Self::whole_pages)).
    head: usize,
    /// How many bytes of that frame are written already.
    written: usize,
    /// The frame (start, end) that runs across the page boundary [`whole_pages`](Self::whole_pages) found last.
    cut: Option<(usize, usize)>,
}

impl Frames {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self { bytes: Vec::with_capacity(capacity), unsealed: 0, head: 0, written: 0, cut: None }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.bytes.len()
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Bytes of the records not all written yet: what a crash of this process loses.
    #[inline]
    pub(crate) fn held(&self) -> usize {
        self.bytes.len() + self.written
    }

    /// Starts a frame at the end (see [`frame::begin`]); the payload is then encoded into [`bytes`](Self::bytes).
    #[inline]
    pub(crate) fn begin(&mut self) -> usize {
        frame::begin(&mut self.bytes)
    }

    /// The bytes to encode a payload onto.
    #[cfg(test)]
    pub(crate) fn bytes(&mut self) -> &mut Vec<u8> {
        &mut self.bytes
    }

    /// The bytes to encode the payload of the frame [`begin`](Self::begin) started onto, for as long as the returned
    /// guard lives: a record's `Serialize` is the caller's code, run under the journal's lock, and if it panics the
    /// guard cuts the buffer back to `mark` (where the frame starts). Left in, the frame without its length would be
    /// read as a length by the next checksum pass, which then panicked (out of range) on every later write and
    /// aborted the process in the journal's drop.
    #[inline]
    pub(crate) fn encoding(&mut self, mark: usize) -> Encoding<'_> {
        Encoding { frames: self, mark }
    }

    /// Ends the frame that starts at `start` (see [`frame::finish`]); its checksum comes with [`sealed`](Self::sealed).
    #[inline]
    pub(crate) fn finish(&mut self, start: usize) -> Result<(), usize> {
        frame::finish(&mut self.bytes, start)
    }

    /// Drops everything from `len` on (a frame start): a frame that is not appended after all.
    pub(crate) fn cut(&mut self, len: usize) {
        self.bytes.truncate(len);
        self.unsealed = self.unsealed.min(len);
    }

    /// Takes the frames from `at` (a frame start) on out of the buffer (to put them back after a segment roll, with
    /// [`put_back`](Self::put_back)).
    pub(crate) fn split_off(&mut self, at: usize) -> Vec<u8> {
        self.unsealed = self.unsealed.min(at);
        self.bytes.split_off(at)
    }

    /// Appends frames taken out by [`split_off`](Self::split_off), checksummed or not.
    pub(crate) fn put_back(&mut self, frames: &[u8]) {
        self.bytes.extend_from_slice(frames);
    }

    /// Every frame, with its checksum: what is written to the segment.
    pub(crate) fn sealed(&mut self) -> &[u8] {
        frame::seal_from(&mut self.bytes, self.unsealed, usize::MAX);
        self.unsealed = self.bytes.len();
        &self.bytes
    }

    /// How many of the buffer's bytes end the file on a page boundary when written after the file's `file_len`
    /// bytes, with every frame checksummed: what is written while records keep coming. The kernel copies whole pages
    /// into its cache for less than pages that two writes share (the one that starts them, the one that ends them):
    /// on the `journal` benchmark about 10 ns an append (`journal/README.md`). The frame the page boundary cuts
    /// stays in the buffer, its start on disk (a crash then leaves a torn write, as one in the middle of a `write`).
    /// All of the buffer when what it would keep is `limit` bytes or more (a record larger than the buffer): a crash
    /// never loses more than `limit` bytes of records. Follow with [`written`](Self::written) once they are written.
    pub(crate) fn whole_pages(&mut self, file_len: u64, limit: usize) -> usize {
        let len = self.bytes.len();
        let n = len.saturating_sub(((file_len + len as u64) % PAGE) as usize);
        let from = self.unsealed;
        let cut = frame::seal_from(&mut self.bytes, from, n);
        self.unsealed = len;
        // A frame that starts before `from` ends at or before it: the sealing pass saw the cut one if `from <= n`.
        self.cut = if self.head > n || from <= n { cut } else { frame::frame_across(&self.bytes, self.head, n) };
        let kept = match self.cut {
            _ if self.head > n => self.held(),
            Some((start, _)) => len - start,
            None => len - n,
        };
        if kept >= limit {
            len
        } else {
            n
        }
    }

    /// The first `n` bytes were written: they leave the buffer. `n` is the buffer's length, or what
    /// [`whole_pages`](Self::whole_pages) returned just before.
    pub(crate) fn written(&mut self, n: usize) {
        if n == self.bytes.len() {
            self.clear();
            return;
        }
        if self.head > n {
            // The frame cut at the last write is cut again: more of it is written.
            self.written += n;
            self.head -= n;
        } else if let Some((start, end)) = self.cut {
            self.written = n - start;
            self.head = end - n;
        } else {
            self.written = 0;
            self.head = 0;
        }
        self.bytes.drain(..n);
        self.unsealed = self.bytes.len();
    }

    /// Empties the buffer once its bytes are written.
    pub(crate) fn clear(&mut self) {
        self.bytes.clear();
        self.unsealed = 0;
        self.head = 0;
        self.written = 0;
    }

    /// How many records are not all written yet.
    pub(crate) fn frames(&self) -> u64 {
        frame::frames_in(&self.bytes[self.head..]) + u64::from(self.head > 0)
    }
}

/// The buffer while a payload is encoded onto it: cut back to where the frame starts unless [`done`](Self::done) is
/// called (see [`Frames::encoding`]).
pub(crate) struct Encoding<'a> {
    frames: &'a mut Frames,
    mark: usize,
}

impl Encoding<'_> {
    /// The bytes to encode onto.
    #[inline]
    pub(crate) fn bytes(&mut self) -> &mut Vec<u8> {
        &mut self.frames.bytes
    }

    /// The encoding returned (with the record or an error the caller handles): the buffer is left as it is.
    #[inline]
    pub(crate) fn done(self) {
        std::mem::forget(self);
    }
}

impl Drop for Encoding<'_> {
    /// Only reached when the encoding panicked.
    fn drop(&mut self) {
        self.frames.cut(self.mark);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn append(frames: &mut Frames, payload: &[u8]) {
        let start = frames.begin();
        frames.bytes().extend_from_slice(payload);
        frames.finish(start).unwrap();
    }

    #[test]
    fn frames_read_back_intact_once_sealed_even_across_a_split() {
        let mut frames = Frames::with_capacity(64);
        append(&mut frames, b"one");
        assert_eq!(frame::read_frame(frames.sealed()), frame::Frame::Record(b"one"));
        append(&mut frames, b"two");
        append(&mut frames, b"three");
        let at = frame::FRAME_HEADER + 3;
        let rest = frames.split_off(at + frame::FRAME_HEADER + 3);
        frames.put_back(&rest);
        let bytes = frames.sealed().to_vec();
        assert_eq!(frame::read_frame(&bytes[at..]), frame::Frame::Record(b"two"));
        assert_eq!(frame::read_frame(&bytes[at + frame::FRAME_HEADER + 3..]), frame::Frame::Record(b"three"));
        assert_eq!(frames.frames(), 3);
    }

    #[test]
    fn a_frame_cut_before_it_was_sealed_leaves_the_rest_sealed() {
        let mut frames = Frames::with_capacity(64);
        append(&mut frames, b"kept");
        let mark = frames.len();
        append(&mut frames, b"dropped");
        frames.cut(mark);
        append(&mut frames, b"next");
        let bytes = frames.sealed().to_vec();
        assert_eq!(frame::read_frame(&bytes), frame::Frame::Record(b"kept"));
        assert_eq!(frame::read_frame(&bytes[mark..]), frame::Frame::Record(b"next"));
    }

    #[test]
    fn written_in_whole_pages_the_file_holds_every_frame_intact_and_the_buffer_stays_under_its_limit() {
        let mut frames = Frames::with_capacity(64);
        let mut file = vec![7u8; 32]; // a segment header
        let mut payloads = Vec::new();
        for i in 0..400usize {
            let payload = vec![i as u8; (i * 37) % 3000 + if i % 50 == 7 { 9000 } else { 0 }];
            append(&mut frames, &payload);
            payloads.push(payload);
            if frames.held() >= 5000 {
                let n = frames.whole_pages(file.len() as u64, 5000);
                file.extend_from_slice(&frames.sealed()[..n]);
                frames.written(n);
                assert!(file.len().is_multiple_of(PAGE as usize) || frames.held() == 0, "record {i}");
                assert!(frames.held() < 5000, "record {i}");
                let mut end = 32;
                let unwritten = payloads.iter().filter(|p| {
                    end += frame::FRAME_HEADER + p.len();
                    end > file.len()
                });
                assert_eq!(frames.frames(), unwritten.count() as u64, "record {i}");
            }
            if i % 97 == 0 {
                // A write that failed: the buffer is kept as it was.
                frames.whole_pages(file.len() as u64, 5000);
            }
        }
        file.extend_from_slice(frames.sealed());
        frames.written(frames.len());
        let mut at = 32;
        for payload in &payloads {
            assert_eq!(frame::read_frame(&file[at..]), frame::Frame::Record(payload));
            at += frame::FRAME_HEADER + payload.len();
        }
        assert_eq!((at, frames.held()), (file.len(), 0));
    }
}
