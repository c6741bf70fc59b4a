//! Pure parsing: `(path, bytes) → Parsed`. No I/O here; `scan` reads the files.

use super::{ParseOptions, Parsed, Warning};
use std::borrow::Cow;

/// Decode a file's bytes to text: strip a UTF-8 BOM, decode UTF-16 (with BOM), replace invalid
/// UTF-8 lossily, normalise CRLF/CR to LF and drop characters XML 1.0 forbids. Each repair is
/// reported as a warning. `Article::body_offset` indexes into the returned text.
pub fn decode(bytes: &[u8]) -> (Cow<'_, str>, Vec<Warning>) {
    let _ = bytes;
    todo!("article::parse::decode")
}

/// Parse one `*.md` file. `path` is relative to the content root, `/`-separated.
pub fn parse(path: &str, bytes: &[u8], opts: &ParseOptions) -> Parsed {
    let _ = (path, bytes, opts);
    todo!("article::parse::parse")
}
