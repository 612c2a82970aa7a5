//! Record framing: each record on disk is a 12-byte frame header (length, payload checksum, length check) followed
//! by the encoded payload, so a reader can tell a complete record from a torn or damaged one.
//!
//! ```text
//! | len: u32 LE | crc32c(payload): u32 LE | !len: u32 LE | payload: len bytes |
//! ```
//!
//! The length is stored twice (the second time inverted) so that a damaged length is caught as damage, instead of
//! being read as a record that runs past the end of the file (which recovery would take for a torn write and cut
//! off), and so that zero-filled space never reads as an empty record. A second copy costs nothing to check, where a
//! checksum of the header cost 6% of an append in the benchmark.

/// Bytes of a frame header.
pub(crate) const FRAME_HEADER: usize = 12;

/// The largest payload a frame may hold. A checked header never claims more; this bounds what a reader allocates.
pub(crate) const MAX_PAYLOAD: usize = 64 * 1024 * 1024;

/// CRC32C (Castagnoli) of `bytes`: the checksum of every payload, segment header and tail mark.
#[inline]
pub(crate) fn crc32c(bytes: &[u8]) -> u32 {
    // The named entry point: `checksum(CrcAlgorithm::Crc32Iscsi, ..)` goes through a match over every algorithm.
    crc_fast::crc32_iscsi(bytes)
}

/// Appends one frame holding `payload` to `out`.
#[cfg(test)]
pub(crate) fn write_frame(out: &mut Vec<u8>, payload: &[u8]) {
    let start = begin(out);
    out.extend_from_slice(payload);
    finish(out, start).expect("test payloads are small");
    seal_from(out, start, 0);
}

/// Reserves a frame header at the end of `out` and returns where the frame starts; the payload is then encoded
/// straight after it, [`finish`] writes its length, and [`seal_from`] its checksum. Saves copying every payload once.
#[inline]
pub(crate) fn begin(out: &mut Vec<u8>) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0; FRAME_HEADER]);
    start
}

/// Writes the length (and the inverted length) of the frame that starts at `start` and runs to the end of `out`.
/// `Err(len)` when the payload is larger than [`MAX_PAYLOAD`].
#[inline]
pub(crate) fn finish(out: &mut [u8], start: usize) -> Result<(), usize> {
    let header = start..start + FRAME_HEADER;
    let len = out.len() - header.end;
    let len = u32::try_from(len).ok().filter(|&l| l as usize <= MAX_PAYLOAD).ok_or(len)?;
    let header = &mut out[header];
    header[..4].copy_from_slice(&len.to_le_bytes());
    header[8..].copy_from_slice(&(!len).to_le_bytes());
    Ok(())
}

/// Fills in the checksum of every frame from `at` to the end of `out`, each [`finish`]ed, and returns the frame
/// (start, end) among them that runs across byte `across`, if one does. One pass over many frames: their checksums,
/// independent of each other, run side by side in the CPU (see `buffer.rs`).
pub(crate) fn seal_from(out: &mut [u8], mut at: usize, across: usize) -> Option<(usize, usize)> {
    let mut found = None;
    while at < out.len() {
        let end = at + FRAME_HEADER + length_at(out, at);
        let crc = crc32c(&out[at + FRAME_HEADER..end]);
        out[at + 4..at + 8].copy_from_slice(&crc.to_le_bytes());
        if at < across && across < end {
            found = Some((at, end));
        }
        at = end;
    }
    found
}

/// The frame (start, end) that runs across byte `across` of `out`, walking [`finish`]ed frames from `at`.
pub(crate) fn frame_across(out: &[u8], mut at: usize, across: usize) -> Option<(usize, usize)> {
    while at < across.min(out.len()) {
        let end = at + FRAME_HEADER + length_at(out, at);
        if across < end {
            return Some((at, end));
        }
        at = end;
    }
    None
}

#[inline]
fn length_at(out: &[u8], at: usize) -> usize {
    u32::from_le_bytes([out[at], out[at + 1], out[at + 2], out[at + 3]]) as usize
}

/// How many frames with an intact header start one after the other at the beginning of `cut`.
pub(crate) fn frames_in(cut: &[u8]) -> u64 {
    let mut offset = 0;
    let mut records = 0;
    while let Ok(len) = read_header(&cut[offset..]) {
        records += 1;
        offset += FRAME_HEADER + len;
        if offset >= cut.len() {
            break;
        }
    }
    records
}

/// What the bytes at one offset hold.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Frame<'a> {
    /// A complete, intact record; the next frame starts `FRAME_HEADER + payload.len()` bytes later.
    Record(&'a [u8]),
    /// The bytes end before the frame does: a write that was cut short (or the end of the data).
    Incomplete {
        /// How many bytes the whole frame needs, when the header was readable.
        needed: Option<usize>,
    },
    /// The frame is damaged.
    Damaged {
        /// What is wrong, for the error message.
        reason: String,
        /// True when the payload checksum failed but the header is intact: the header says where the frame ends.
        header_intact: bool,
    },
}

/// Reads the header at the start of `bytes`; `Ok(len)` when it is intact.
pub(crate) fn read_header(bytes: &[u8]) -> Result<usize, Frame<'_>> {
    if bytes.len() < FRAME_HEADER {
        return Err(Frame::Incomplete { needed: None });
    }
    let word = |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    let (len, check) = (word(0), word(8));
    if len != !check {
        return Err(Frame::Damaged {
            reason: format!("record length {len} disagrees with its check {:#010x}", check),
            header_intact: false,
        });
    }
    let len = len as usize;
    if len > MAX_PAYLOAD {
        return Err(Frame::Damaged {
            reason: format!("frame claims {len} bytes, more than the limit of {MAX_PAYLOAD}"),
            header_intact: false,
        });
    }
    Ok(len)
}

/// Decodes the frame at the start of `bytes`.
pub(crate) fn read_frame(bytes: &[u8]) -> Frame<'_> {
    let len = match read_header(bytes) {
        Ok(len) => len,
        Err(frame) => return frame,
    };
    let end = FRAME_HEADER + len;
    if bytes.len() < end {
        return Frame::Incomplete { needed: Some(end) };
    }
    let payload = &bytes[FRAME_HEADER..end];
    let stored = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
    if crc32c(payload) != stored {
        return Frame::Damaged { reason: "record checksum mismatch".to_owned(), header_intact: true };
    }
    Frame::Record(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(payloads: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for p in payloads {
            write_frame(&mut out, p);
        }
        out
    }

    #[test]
    fn the_checksum_and_the_frame_bytes_are_the_format_on_disk() {
        // CRC32C's check value: journals written by any build read back only while this holds.
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        let bytes = framed(&[b"123456789"]);
        assert_eq!(bytes[..FRAME_HEADER], [9, 0, 0, 0, 0x83, 0x92, 0x06, 0xE3, 0xF6, 0xFF, 0xFF, 0xFF]);
    }

    #[test]
    fn a_written_frame_reads_back_intact() {
        let bytes = framed(&[b"hello", b""]);
        assert_eq!(read_frame(&bytes), Frame::Record(b"hello"));
        assert_eq!(read_frame(&bytes[FRAME_HEADER + 5..]), Frame::Record(b""));
    }

    #[test]
    fn a_cut_frame_is_incomplete_not_damaged() {
        let bytes = framed(&[b"hello world"]);
        assert_eq!(read_frame(&bytes[..5]), Frame::Incomplete { needed: None });
        assert_eq!(read_frame(&bytes[..FRAME_HEADER + 3]), Frame::Incomplete { needed: Some(FRAME_HEADER + 11) });
    }

    #[test]
    fn a_flipped_payload_byte_is_damage_with_an_intact_header() {
        let mut bytes = framed(&[b"hello world"]);
        bytes[FRAME_HEADER + 2] ^= 1;
        assert!(matches!(read_frame(&bytes), Frame::Damaged { header_intact: true, .. }));
    }

    #[test]
    fn a_flipped_length_byte_is_damage_not_a_torn_write() {
        let mut bytes = framed(&[b"hello world"]);
        bytes[1] ^= 0x40;
        assert!(matches!(read_frame(&bytes), Frame::Damaged { header_intact: false, .. }));
    }

    #[test]
    fn zero_filled_bytes_are_not_a_frame() {
        assert!(matches!(read_frame(&[0u8; 64]), Frame::Damaged { header_intact: false, .. }));
    }
}
