//! From raw bytes to hits, for the access-log example: every line, whatever its bytes, becomes either a hit or an
//! error event that carries it. Reading splits lines and turns a line that is not UTF-8 into an error event (the read
//! goes on); parsing turns a Common Log Format line into a [`Hit`], and anything else into an error event.

use std::io::{self, BufRead};

use serde::{Deserialize, Serialize};
use stagewise::pipeline::Batch;
use stagewise::{ChainEvent, ErrorKind, EventIds, StageContext};

use crate::calendar::{days_from_civil, MONTHS};

/// Reads up to `max` lines from `reader` into `batch` as events with ids from `ids`; stops early at the end of the
/// input. A line ends at `\n` (a `\r` before it, or any run of them, is dropped); a line that is not UTF-8 becomes an
/// error event (kind Parse) carrying it decoded lossily, so it is counted and the read goes on.
///
/// # Errors
/// What `reader` fails with; the lines read before are in `batch`.
pub fn read_lines(
    reader: &mut impl BufRead,
    max: usize,
    ids: &mut EventIds,
    context: &StageContext,
    batch: &mut Batch<String>,
) -> io::Result<()> {
    while batch.len() < max {
        let mut bytes = Vec::new();
        if reader.read_until(b'\n', &mut bytes)? == 0 {
            break;
        }
        while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            bytes.pop();
        }
        let id = ids.next_id();
        batch.push(match String::from_utf8(bytes) {
            Ok(line) => ChainEvent::new(id, context.clone(), line),
            Err(e) => {
                let line = String::from_utf8_lossy(e.as_bytes()).into_owned();
                let why = format!("line {}: not valid UTF-8", id.seq + 1);
                ChainEvent::new(id, context.clone(), line).into_error(ErrorKind::Parse, why)
            }
        });
    }
    Ok(())
}

/// One parsed request. It keeps its line (the payload's own allocation), and points into it for the path.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hit {
    line: String,
    path: (u32, u32),
    /// Minutes since 1970-01-01T00:00Z.
    pub minute: u32,
    /// HTTP status.
    pub status: u16,
    /// Response bytes.
    pub bytes: u64,
}

impl Hit {
    /// The request path, without its query string.
    pub fn path(&self) -> &str {
        &self.line[self.path.0 as usize..self.path.1 as usize]
    }
}

fn digits<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The ASCII digits `bytes` spell, as a number; `None` for anything else (so any byte may be asked about).
fn ascii_number(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() || bytes.len() > 9 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(bytes.iter().fold(0, |n, b| n * 10 + u32::from(b - b'0')))
}

/// Parses a Common Log Format line: `ip - - [26/Nov/2026:09:00:00 +0000] "GET /path HTTP/1.1" 200 1234`.
/// The zone is taken as UTC.
pub fn parse_line(line: String) -> Result<Hit, (String, &'static str)> {
    match parse_fields(&line) {
        Ok(Fields { path, minute, status, bytes }) => Ok(Hit { line, path, minute, status, bytes }),
        Err(why) => Err((line, why)),
    }
}

/// The fields of a line, before they join the line in a [`Hit`].
struct Fields {
    path: (u32, u32),
    minute: u32,
    status: u16,
    bytes: u64,
}

fn parse_fields(line: &str) -> Result<Fields, &'static str> {
    let open = line.find('[').ok_or("no timestamp")?;
    let close = open + line[open..].find(']').ok_or("unterminated timestamp")?;
    // The fields sit at fixed offsets: read them as bytes, so a multi-byte character anywhere is a bad field, never a
    // slice through a character.
    let ts = &line.as_bytes()[open + 1..close];
    if ts.len() < 17 {
        return Err("bad timestamp");
    }
    let day = ascii_number(&ts[0..2]).ok_or("bad day")?;
    let month = MONTHS.iter().position(|m| m.as_bytes() == &ts[3..6]).ok_or("bad month")? as u32 + 1;
    let year = i64::from(ascii_number(&ts[7..11]).ok_or("bad year")?);
    let hour = ascii_number(&ts[12..14]).ok_or("bad hour")?;
    let min = ascii_number(&ts[15..17]).ok_or("bad minute")?;
    if !(1..=31).contains(&day) || hour > 23 || min > 59 {
        return Err("timestamp out of range");
    }
    let minute = u32::try_from(days_from_civil(year, month, day) * 1440 + i64::from(hour * 60 + min))
        .map_err(|_| "timestamp out of range")?;

    let rest = line[close + 1..].strip_prefix(" \"").ok_or("no request")?;
    let end = rest.find('"').ok_or("unterminated request")?;
    let mut request = rest[..end].split(' ');
    let (_method, target) = (request.next().ok_or("no method")?, request.next().ok_or("no path")?);
    if !target.starts_with('/') || request.next().is_none() {
        return Err("bad request line");
    }
    let path_len = target.find('?').unwrap_or(target.len());
    let path_start = (line.len() - rest.len()) + (target.as_ptr() as usize - rest.as_ptr() as usize);

    let mut tail = rest[end + 1..].split_ascii_whitespace();
    let status: u16 = tail.next().and_then(digits).ok_or("bad status")?;
    if !(100..=599).contains(&status) {
        return Err("status out of range");
    }
    let bytes = match tail.next().ok_or("no size")? {
        "-" => 0,
        size => digits(size).ok_or("bad size")?,
    };
    let path_end = u32::try_from(path_start + path_len).map_err(|_| "line too long")?;
    Ok(Fields { path: (path_start as u32, path_end), minute, status, bytes })
}

/// What the error journal says of malformed line `seq` (counted from 0): its number, why, and its start.
pub fn malformed(seq: u64, line: &str, why: &str) -> String {
    let shown: String = line.chars().take(60).collect();
    format!("line {}: {why}: {shown:?}", seq + 1)
}

/// Parses a batch of lines into hits; a malformed line becomes an error event (kind Parse) that still carries its
/// line, so the run goes on. Writes the new events' ids from `ids`. An event that arrives with an error status passes
/// untouched: same id, context and status, its line carried in an empty hit.
pub fn parse_batch(lines: Batch<String>, ids: &mut EventIds, context: &StageContext) -> Batch<Hit> {
    let mut out = Vec::with_capacity(lines.len());
    for event in lines {
        if event.is_error() {
            let ChainEvent { id, context, payload, status } = event;
            out.push(ChainEvent { id, context, payload: Hit { line: payload, ..Hit::default() }, status });
            continue;
        }
        let seq = event.id.seq;
        out.push(match parse_line(event.payload) {
            Ok(hit) => ChainEvent::new(ids.next_id(), context.clone(), hit),
            Err((line, why)) => {
                let message = malformed(seq, &line, why);
                let hit = Hit { line, ..Hit::default() };
                ChainEvent::new(ids.next_id(), context.clone(), hit).into_error(ErrorKind::Parse, message)
            }
        });
    }
    out
}
