//! Retention policies of a durable link: which of the segments every consumer has passed may be deleted.

use std::time::{Duration, SystemTime};

use crate::journal::SegmentInfo;

/// Which segments of a durable link are deleted once every consumer has committed past them. A segment nobody has
/// passed is never deleted, whatever the policy; the segment being appended to neither.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Retention {
    /// Keep everything: any stage can replay the link from offset 0.
    #[default]
    KeepAll,
    /// Delete every segment all consumers have passed.
    Consumed,
    /// Delete passed segments, oldest first, while the link holds more than this many bytes.
    Bytes(u64),
    /// Delete passed segments last written longer ago than this.
    Age(Duration),
}

impl Retention {
    /// The base of the oldest segment to keep, given the link's `segments` (oldest first) and the position every
    /// consumer has committed; `None` when nothing is to be deleted.
    pub(crate) fn cut(self, segments: &[SegmentInfo], committed: u64) -> Option<u64> {
        // A segment is passed when the next one starts at or before the committed position.
        let passed = segments.windows(2).take_while(|pair| pair[1].base <= committed).count();
        let delete = match self {
            Retention::KeepAll => 0,
            Retention::Consumed => passed,
            Retention::Bytes(limit) => {
                let mut total: u64 = segments.iter().map(|s| s.bytes).sum();
                let mut n = 0;
                while n < passed && total > limit {
                    total -= segments[n].bytes;
                    n += 1;
                }
                n
            }
            Retention::Age(age) => {
                let now = SystemTime::now();
                let old = |s: &SegmentInfo| {
                    s.modified().and_then(|m| now.duration_since(m).ok()).is_some_and(|since| since > age)
                };
                segments[..passed].iter().take_while(|s| old(s)).count()
            }
        };
        (delete > 0).then(|| segments[delete].base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segments(bases: &[u64]) -> Vec<SegmentInfo> {
        bases.iter().map(|&base| SegmentInfo { base, bytes: 100, path: format!("/nowhere/{base}").into() }).collect()
    }

    #[test]
    fn only_segments_every_consumer_passed_are_cut() {
        let s = segments(&[0, 10, 20, 30]);
        assert_eq!(Retention::Consumed.cut(&s, 9), None, "the first segment is not passed yet");
        assert_eq!(Retention::Consumed.cut(&s, 10), Some(10));
        assert_eq!(Retention::Consumed.cut(&s, 25), Some(20));
        assert_eq!(Retention::Consumed.cut(&s, 1000), Some(30), "the tail segment is never cut");
        assert_eq!(Retention::KeepAll.cut(&s, 1000), None);
    }

    #[test]
    fn a_byte_limit_keeps_the_newest_passed_segments() {
        let s = segments(&[0, 10, 20, 30]);
        assert_eq!(Retention::Bytes(250).cut(&s, 1000), Some(20), "400 bytes down to 200");
        assert_eq!(Retention::Bytes(250).cut(&s, 10), Some(10), "but never past what is consumed");
        assert_eq!(Retention::Bytes(400).cut(&s, 1000), None);
    }

    #[test]
    fn an_age_limit_keeps_young_segments() {
        let s = segments(&[0, 10]);
        // Files that do not exist have no age: nothing is deleted.
        assert_eq!(Retention::Age(Duration::ZERO).cut(&s, 1000), None);
    }
}
