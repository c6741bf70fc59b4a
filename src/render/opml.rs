//! OPML 2.0 (<http://opml.org/spec2.opml>): a subscription list of every feed, so a reader can
//! import them all at once.
//!
//! One `<outline type="rss">` per feed (`all` first, then the custom feeds, then the
//! categories by name) pointing at its RSS document. `dateCreated` and `dateModified` are the
//! newest item's date, so the same feeds give the same bytes.

use super::{rss::rfc822, xml_clean};
use chrono::{DateTime, Utc};
use std::fmt::Write as _;

/// `Content-Type` of the OPML document.
pub const CONTENT_TYPE: &str = "text/x-opml; charset=utf-8";

/// The spec `<docs>` points to.
pub const DOCS: &str = "http://opml.org/spec2.opml";

/// One feed of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outline {
    /// Shown name (`text` and `title`).
    pub text: String,
    /// The RSS document.
    pub xml_url: String,
    /// The human page of the feed.
    pub html_url: String,
}

/// Escape for a double-quoted XML attribute (also line breaks, which attribute value
/// normalisation would otherwise turn into spaces).
fn attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in xml_clean(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            '\t' => out.push_str("&#x9;"),
            c => out.push(c),
        }
    }
    out
}

/// The OPML document, as UTF-8 bytes. `updated` is the newest item date (the epoch if none).
pub fn render(title: &str, updated: Option<DateTime<Utc>>, outlines: &[Outline]) -> Vec<u8> {
    document(title, updated, &self::outlines(outlines))
}

/// The `<outline>` lines of the body, for [`document`]: they change only when the feeds do,
/// so a server keeps them while the date moves.
pub fn outlines(outlines: &[Outline]) -> String {
    let mut out = String::with_capacity(outlines.len() * 200);
    for o in outlines {
        let text = attr(&o.text);
        let _ = writeln!(
            out,
            "    <outline type=\"rss\" text=\"{text}\" title=\"{text}\" xmlUrl=\"{}\" htmlUrl=\"{}\"/>",
            attr(&o.xml_url),
            attr(&o.html_url)
        );
    }
    out
}

/// The OPML document around `outlines` (from [`outlines`]), as UTF-8 bytes.
pub fn document(title: &str, updated: Option<DateTime<Utc>>, outlines: &str) -> Vec<u8> {
    let date = rfc822(super::seconds(updated.unwrap_or_else(super::epoch)));
    let mut out = String::with_capacity(512 + outlines.len());
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<opml version=\"2.0\">\n  <head>\n");
    let _ = writeln!(out, "    <title>{}</title>", attr(title));
    let _ = writeln!(out, "    <dateCreated>{date}</dateCreated>");
    let _ = writeln!(out, "    <dateModified>{date}</dateModified>");
    let _ = writeln!(out, "    <docs>{DOCS}</docs>");
    out.push_str("  </head>\n  <body>\n");
    out.push_str(outlines);
    out.push_str("  </body>\n</opml>\n");
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::fixtures::at;

    #[test]
    fn escapes_and_dates() {
        let xml = String::from_utf8(render(
            "T & \"q\"",
            Some(at(2021, 1, 3, 10, 20, 30)),
            &[Outline {
                text: "<a>\u{0}b\nc".into(),
                xml_url: "https://x.example/feeds/a.rss?x=1&y=2".into(),
                html_url: "https://x.example/".into(),
            }],
        ))
        .unwrap();
        assert!(xml.contains("<title>T &amp; &quot;q&quot;</title>"));
        assert!(xml.contains("<dateModified>Sun, 03 Jan 2021 10:20:30 +0000</dateModified>"));
        assert!(xml.contains("text=\"&lt;a&gt;b&#xA;c\""));
        assert!(xml.contains("xmlUrl=\"https://x.example/feeds/a.rss?x=1&amp;y=2\""));
        assert!(render("T", None, &[]).ends_with(b"</opml>\n"));
    }
}
