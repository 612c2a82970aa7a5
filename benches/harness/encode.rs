//! The limit's encoder for journal benchmarks: a record encoded the way the journal encodes it (postcard a slice at
//! a time into a reused buffer, or a JSON line), with no framing, checksum or journal around it.

use stagewise::journal::Format;

/// Appends `record` encoded in `format` to `out`.
pub fn encode<R: serde::Serialize>(format: Format, record: &R, out: &mut Vec<u8>) {
    match format {
        Format::Postcard => postcard::serialize_with_flavor::<R, _, _>(record, Slices(out)).unwrap(),
        _ => {
            serde_json::to_writer(&mut *out, record).unwrap();
            out.push(b'\n');
        }
    }
}

/// Postcard's output appended to a `Vec`, a slice at a time: the fastest way to encode into a reused buffer
/// (`postcard::to_extend` pushes byte by byte and costs about 1.6x as much).
struct Slices<'a>(&'a mut Vec<u8>);

impl postcard::ser_flavors::Flavor for Slices<'_> {
    type Output = ();

    #[inline]
    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.0.extend_from_slice(data);
        Ok(())
    }

    #[inline]
    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.0.push(data);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}
