//! The access-log example's read and parse given any bytes at all: every line becomes exactly one event, a hit or an
//! error event (kind Parse) naming its line, and nothing panics. Property tests over arbitrary byte lines and over
//! real-looking lines with random damage; `PROPTEST_CASES` sets the number of cases (10,000 each by default).

use proptest::prelude::*;
use proptest::sample::Index;
use stagewise::pipeline::Batch;
use stagewise::{ChainEvent, ErrorKind, EventIds, ProcessingStatus, StageContext, StageId};

#[path = "../examples/access_log/calendar.rs"]
#[allow(dead_code)]
mod calendar;
#[path = "../examples/access_log/parse.rs"]
#[allow(dead_code)]
mod parse;
#[path = "../examples/access_log/work.rs"]
#[allow(dead_code)]
mod work;

use parse::{parse_batch, parse_line, read_lines, Hit};
use work::generate_line;

/// Cases per property: `PROPTEST_CASES` if set, else 10,000.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    ProptestConfig { cases, ..ProptestConfig::default() }
}

/// Runs `input` through the example's read (in batches of 7, so lines cross batches) and parse, as the pipeline does.
fn read_and_parse(input: &[u8]) -> Batch<Hit> {
    let (read, parse) = (StageContext::new(StageId(0), "read"), StageContext::new(StageId(1), "parse"));
    let (mut read_ids, mut parse_ids) = (EventIds::new(StageId(0).into()), EventIds::new(StageId(1).into()));
    let mut reader = input;
    let mut hits = Vec::new();
    loop {
        let mut batch = Vec::new();
        read_lines(&mut reader, 7, &mut read_ids, &read, &mut batch).expect("a byte slice reads without error");
        if batch.is_empty() {
            return hits;
        }
        hits.extend(parse_batch(batch, &mut parse_ids, &parse));
    }
}

/// How many lines a reader that splits at `\n` sees in `input`.
fn lines_in(input: &[u8]) -> usize {
    let newlines = input.iter().filter(|b| **b == b'\n').count();
    newlines + usize::from(input.last().is_some_and(|b| *b != b'\n'))
}

/// Every line became one event, and each is a well-formed hit or a Parse error naming its line.
fn assert_hit_or_error(input: &[u8], events: &[ChainEvent<Hit>]) -> Result<(), TestCaseError> {
    prop_assert_eq!(events.len(), lines_in(input), "one event per line");
    for (n, event) in events.iter().enumerate() {
        match &event.status {
            ProcessingStatus::Success => {
                let hit = &event.payload;
                prop_assert!(hit.path().starts_with('/'), "a hit's path is a path: {:?}", hit.path());
                prop_assert!((100..=599).contains(&hit.status), "status {}", hit.status);
            }
            ProcessingStatus::Error { kind, message } => {
                prop_assert_eq!(*kind, ErrorKind::Parse);
                let line = format!("line {}: ", n + 1);
                prop_assert!(message.starts_with(&line), "{:?} names its line", message);
            }
        }
    }
    Ok(())
}

/// Bytes, with the ones the parser looks for (and the starts of multi-byte characters) more often than chance.
fn log_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        3 => any::<u8>(),
        2 => proptest::sample::select(b"[]\" /:?-+\n\r0123456789JanNovGETHTP".to_vec()),
        1 => proptest::sample::select(vec![0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0xff]),
    ]
}

/// One way a real line gets damaged.
#[derive(Clone, Debug)]
enum Damage {
    Insert(Index, Vec<u8>),
    InsertChar(Index, char),
    Overwrite(Index, u8),
    Delete(Index, usize),
    Truncate(Index),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (any::<Index>(), proptest::collection::vec(log_byte(), 1..4)).prop_map(|(at, bytes)| Damage::Insert(at, bytes)),
        (any::<Index>(), prop_oneof![Just('é'), Just('€'), Just('😀'), Just('\u{fffd}'), any::<char>()])
            .prop_map(|(at, c)| Damage::InsertChar(at, c)),
        (any::<Index>(), log_byte()).prop_map(|(at, byte)| Damage::Overwrite(at, byte)),
        (any::<Index>(), 1..12usize).prop_map(|(at, len)| Damage::Delete(at, len)),
        any::<Index>().prop_map(Damage::Truncate),
    ]
}

impl Damage {
    fn apply(&self, line: &mut Vec<u8>) {
        let at = |index: &Index, len: usize| if len == 0 { 0 } else { index.index(len) };
        match self {
            Damage::Insert(index, bytes) => {
                let at = at(index, line.len() + 1);
                line.splice(at..at, bytes.iter().copied());
            }
            Damage::InsertChar(index, c) => {
                let at = at(index, line.len() + 1);
                line.splice(at..at, c.to_string().into_bytes());
            }
            Damage::Overwrite(index, byte) if !line.is_empty() => {
                let at = at(index, line.len());
                line[at] = *byte;
            }
            Damage::Overwrite(..) => {}
            Damage::Delete(index, len) => {
                let at = at(index, line.len() + 1);
                line.drain(at..(at + len).min(line.len()));
            }
            Damage::Truncate(index) => line.truncate(at(index, line.len() + 1)),
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_bytes_become_one_hit_or_error_event_per_line(input in proptest::collection::vec(log_byte(), 0..300)) {
        let events = read_and_parse(&input);
        assert_hit_or_error(&input, &events)?;
    }

    #[test]
    fn real_lines_with_random_damage_become_hits_or_error_events(
        lines in proptest::collection::vec((0..2_000_000u64, proptest::collection::vec(damage(), 0..4)), 1..6),
    ) {
        let mut input = Vec::new();
        for (index, damages) in &lines {
            let mut line = generate_line(*index).into_bytes();
            for damage in damages {
                damage.apply(&mut line);
            }
            // A line that lost nothing and gained no newline parses as the parser alone parses it.
            line.retain(|b| *b != b'\n');
            input.extend_from_slice(&line);
            input.push(b'\n');
        }
        let events = read_and_parse(&input);
        assert_hit_or_error(&input, &events)?;
        for ((index, damages), event) in lines.iter().zip(&events) {
            if damages.is_empty() {
                let alone = parse_line(generate_line(*index));
                prop_assert_eq!(alone.as_ref().ok(), (!event.is_error()).then_some(&event.payload));
            }
        }
    }
}

#[test]
fn a_multi_byte_character_in_the_timestamp_is_a_bad_field_not_a_panic() {
    for line in [
        "1.2.3.4 - - [2\u{e9}/Nov/2026:10:05:00 +0000] \"GET /a HTTP/1.1\" 200 1",
        "1.2.3.4 - - [26/N\u{e9}v/2026:10:05:00 +0000] \"GET /a HTTP/1.1\" 200 1",
        "1.2.3.4 - - [26/Nov/20\u{1f600}:10:05:00 +0000] \"GET /a HTTP/1.1\" 200 1",
        "1.2.3.4 - - [26/Nov/2026:1\u{20ac}:05:00 +0000] \"GET /a HTTP/1.1\" 200 1",
    ] {
        let (_, why) = parse_line(line.to_owned()).expect_err(line);
        assert!(why.starts_with("bad "), "{line}: {why}");
    }
    let hit = parse_line("1.2.3.4 - - [26/Nov/2026:10:05:00 +0000] \"GET /caf\u{e9}?q=1 HTTP/1.1\" 200 1".to_owned());
    assert_eq!(hit.expect("a multi-byte path is fine").path(), "/caf\u{e9}");
}

#[test]
fn a_line_that_is_not_utf8_is_an_error_event_and_the_read_goes_on() {
    let input = b"\xff\xfe\n1.2.3.4 - - [26/Nov/2026:10:05:00 +0000] \"GET /a HTTP/1.1\" 200 1\n\xc3\n";
    let events = read_and_parse(input);
    let errors: Vec<_> = events.iter().map(ChainEvent::is_error).collect();
    assert_eq!(errors, [true, false, true]);
}
