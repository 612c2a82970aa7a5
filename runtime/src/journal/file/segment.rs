//! Segment files: their names (the position of their first record), their 32-byte header (magic, format version,
//! record format, first position, checksum), and listing the segments of a journal folder.
//!
//! ```text
//! | magic "SWJOURNL" | version: u16 LE | format: u8 | 0: u8 | 0: u32 | base: u64 LE | crc32c(bytes 0..24): u32 LE | 0: u32 |
//! ```
//!
//! The magic and the version stay at these offsets in every future version, so an older build can always tell a
//! newer segment from a damaged one.

use std::fs;
use std::path::{Path, PathBuf};

use super::codec::Format;
use crate::journal::JournalError;

/// Bytes of a segment header.
pub(crate) const SEGMENT_HEADER: usize = 32;

/// The format version this build writes and the newest it reads.
pub const FORMAT_VERSION: u16 = 1;

const MAGIC: &[u8; 8] = b"SWJOURNL";
const SUFFIX: &str = ".seg";
const DIGITS: usize = 20;

/// One segment file of a journal, known by the position of its first record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SegmentFile {
    /// Position of the segment's first record.
    pub(crate) base: u64,
    /// The file.
    pub(crate) path: PathBuf,
}

impl SegmentFile {
    /// The segment whose first record has position `base`, in `dir`.
    pub(crate) fn new(dir: &Path, base: u64) -> Self {
        Self { base, path: dir.join(format!("{base:0DIGITS$}{SUFFIX}")) }
    }

    /// The file name, for errors and reports.
    pub(crate) fn name(&self) -> String {
        self.path.file_name().map_or_else(|| self.path.display().to_string(), |n| n.to_string_lossy().into_owned())
    }
}

/// The base position a segment file name stands for, or `None` for a name that is not a segment's.
fn parse_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(SUFFIX)?;
    if digits.len() != DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// True for a file a journal writes in its folder: a segment or the tail mark.
pub(crate) fn is_journal_file(name: &str) -> bool {
    name == super::mark::NAME || parse_name(name).is_some()
}

/// The segments in `dir`, oldest first. Anything else in the folder but the tail mark means it is not a journal.
pub(crate) fn list(dir: &Path) -> Result<Vec<SegmentFile>, JournalError> {
    let mut segments = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == super::mark::NAME {
            continue;
        }
        let base = name.to_str().and_then(parse_name).filter(|_| entry.file_type().is_ok_and(|t| t.is_file()));
        match base {
            Some(base) => segments.push(SegmentFile { base, path: entry.path() }),
            None => {
                return Err(JournalError::Unusable(format!(
                "{} is not a journal folder: it holds {:?}, which is not a segment file (NNNNNNNNNNNNNNNNNNNN{SUFFIX})",
                dir.display(),
                name
            )))
            }
        }
    }
    segments.sort_by_key(|s| s.base);
    Ok(segments)
}

/// The header of a new segment.
pub(crate) fn header(format: Format, base: u64) -> [u8; SEGMENT_HEADER] {
    let mut h = [0u8; SEGMENT_HEADER];
    h[..8].copy_from_slice(MAGIC);
    h[8..10].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    h[10] = format.id();
    h[16..24].copy_from_slice(&base.to_le_bytes());
    let crc = super::frame::crc32c(&h[..24]);
    h[24..28].copy_from_slice(&crc.to_le_bytes());
    h
}

/// What the first bytes of a segment file hold.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Header {
    /// A valid header of this version.
    Valid {
        /// The record format.
        format: Format,
    },
    /// Shorter than a header, so no record can follow it, and what is there is the start of a header, zeros or
    /// nothing: a segment whose creation was cut short. Only acceptable as the journal's last segment.
    Torn,
}

/// Why a segment's header cannot be used.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BadHeader {
    /// The header is damaged (zeroed, garbage, a checksum that fails, a first position that disagrees with the
    /// name): the records before this segment stay readable, nothing from here on is.
    Damaged(String),
    /// An intact header this build cannot read: a newer format version or an unknown record format.
    Unreadable(String),
}

/// Checks the header at the start of `bytes` (the first bytes of `segment`). The checksum is checked before any
/// field is trusted, so garbage after an intact magic is damage, never a "newer version".
pub(crate) fn check_header(segment: &SegmentFile, bytes: &[u8]) -> Result<Header, BadHeader> {
    let name = segment.name();
    if bytes.len() < SEGMENT_HEADER {
        let n = bytes.len().min(MAGIC.len());
        if bytes[..n] == MAGIC[..n] || bytes.iter().all(|&b| b == 0) {
            return Ok(Header::Torn);
        }
        return Err(BadHeader::Damaged(format!(
            "{} bytes, too few for a segment header, and not the start of one",
            bytes.len()
        )));
    }
    let bytes = &bytes[..SEGMENT_HEADER];
    if bytes.iter().all(|&b| b == 0) {
        return Err(BadHeader::Damaged("segment header is zeroed".to_owned()));
    }
    if &bytes[..8] != MAGIC {
        return Err(BadHeader::Damaged("no segment header: the file does not start with the journal magic".to_owned()));
    }
    let version = u16::from_le_bytes([bytes[8], bytes[9]]);
    let stored = u32::from_le_bytes([bytes[24], bytes[25], bytes[26], bytes[27]]);
    if super::frame::crc32c(&bytes[..24]) != stored {
        let hint = if version > FORMAT_VERSION {
            format!(
                " (it claims format version {version}; if a newer build wrote it, that build can read it, this one \
                 reads versions up to {FORMAT_VERSION})"
            )
        } else {
            String::new()
        };
        return Err(BadHeader::Damaged(format!("segment header checksum mismatch{hint}")));
    }
    if version > FORMAT_VERSION {
        return Err(BadHeader::Unreadable(format!(
            "{name} has journal format version {version}; this build reads versions up to {FORMAT_VERSION}"
        )));
    }
    if bytes[28..].iter().any(|&b| b != 0) {
        return Err(BadHeader::Damaged("segment header's reserved bytes 28..32 are not zero".to_owned()));
    }
    if version == 0 {
        return Err(BadHeader::Damaged("segment header has format version 0, which never existed".to_owned()));
    }
    let base = u64::from_le_bytes(bytes[16..24].try_into().expect("8 bytes"));
    if base != segment.base {
        return Err(BadHeader::Damaged(format!(
            "segment header says its first record is {base}, its name says {}",
            segment.base
        )));
    }
    let format = Format::from_id(bytes[10]).ok_or_else(|| {
        BadHeader::Unreadable(format!("{name} uses record format {}, which this build does not know", bytes[10]))
    })?;
    Ok(Header::Valid { format })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(base: u64) -> SegmentFile {
        SegmentFile::new(Path::new("/j"), base)
    }

    #[test]
    fn segment_names_carry_their_base_position() {
        assert_eq!(seg(42).name(), "00000000000000000042.seg");
        assert_eq!(parse_name("00000000000000000042.seg"), Some(42));
        assert_eq!(parse_name("42.seg"), None);
        assert_eq!(parse_name("0000000000000000004x.seg"), None);
    }

    #[test]
    fn a_written_header_checks_valid() {
        let h = header(Format::Json, 7);
        assert_eq!(check_header(&seg(7), &h).unwrap(), Header::Valid { format: Format::Json });
    }

    #[test]
    fn a_short_prefix_of_a_header_is_torn() {
        let h = header(Format::Postcard, 0);
        for n in [0, 3, 8, 20] {
            assert_eq!(check_header(&seg(0), &h[..n]).unwrap(), Header::Torn, "{n} bytes");
        }
    }

    /// A header as a newer build would write it: a valid checksum over a higher version.
    fn header_of_version(version: u16) -> [u8; SEGMENT_HEADER] {
        let mut h = header(Format::Postcard, 0);
        h[8..10].copy_from_slice(&version.to_le_bytes());
        let crc = super::super::frame::crc32c(&h[..24]);
        h[24..28].copy_from_slice(&crc.to_le_bytes());
        h
    }

    #[test]
    fn a_newer_version_with_a_valid_checksum_is_unreadable_and_named() {
        let err = check_header(&seg(0), &header_of_version(2)).unwrap_err();
        assert!(
            matches!(&err, BadHeader::Unreadable(m) if m.contains("version 2") && m.contains("00000000000000000000.seg")),
            "{err:?}"
        );
    }

    #[test]
    fn garbage_after_an_intact_magic_is_damage_not_a_newer_version() {
        let mut h = header(Format::Postcard, 0);
        h[8..].copy_from_slice(&[0xa5; SEGMENT_HEADER - 8]);
        let err = check_header(&seg(0), &h).unwrap_err();
        assert!(matches!(&err, BadHeader::Damaged(m) if m.contains("checksum")), "{err:?}");
    }

    #[test]
    fn zeroed_and_foreign_headers_are_damage() {
        assert!(matches!(check_header(&seg(0), &[0; 64]), Err(BadHeader::Damaged(m)) if m.contains("zeroed")));
        let err = check_header(&seg(0), b"hello, this is not a journal at all").unwrap_err();
        assert!(matches!(&err, BadHeader::Damaged(m) if m.contains("magic")), "{err:?}");
        let mut reserved = header(Format::Postcard, 0);
        reserved[30] = 1;
        assert!(matches!(check_header(&seg(0), &reserved), Err(BadHeader::Damaged(m)) if m.contains("reserved")));
        let err = check_header(&seg(0), b"hello").unwrap_err();
        assert!(matches!(err, BadHeader::Damaged(_)), "{err:?}");
    }

    #[test]
    fn a_base_that_disagrees_with_the_name_is_damage() {
        let h = header(Format::Postcard, 5);
        assert!(matches!(check_header(&seg(6), &h), Err(BadHeader::Damaged(m)) if m.contains("its name says 6")));
    }
}
