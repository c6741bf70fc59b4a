//! Render: an ordered slice of articles → feed bytes, compressed once, validators once.

pub mod archive;
pub mod atom;
pub mod encode;
pub mod json;
pub mod opml;
pub mod rss;
pub mod stylesheet;

use crate::article::Article;
use chrono::{DateTime, Utc};

/// Feed-level data shared by the RSS and Atom renderers.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedMeta {
    /// URL slug: `all` or a category slug. The files are `{slug}.rss` and `{slug}.atom`.
    pub slug: String,
    /// Human title, e.g. `Herald sample: HimalayaRussia`.
    pub title: String,
    pub description: String,
    /// The Atom feed id (a tag URI, stable across renders and machines).
    pub id: String,
    /// Absolute URL of the RSS document (`{base_url}/feeds/{slug}.rss`), for `atom:link rel="self"`.
    pub rss_url: String,
    /// Absolute URL of the Atom document, for Atom's `link rel="self"`.
    pub atom_url: String,
    /// Absolute URL of the JSON Feed document of the live feed (`{base_url}/feeds/{slug}.json`).
    pub json_url: String,
    /// RFC 5005 links (`current`, `prev-archive`, `next-archive`), written as Atom links in
    /// both formats (in RSS through the Atom namespace).
    pub history: Vec<HistoryLink>,
    /// WebSub hubs (`websub.hubs`), written as `rel="hub"` links (RSS through the Atom
    /// namespace) and JSON Feed `hubs`. Empty: nothing is written, the bytes are as before.
    /// The feed's own `rel="self"` URL is then the topic Herald pings the hubs about.
    pub hubs: Vec<String>,
    /// An archive document (RFC 5005 §4): carries `<fh:archive/>` and never changes when
    /// articles are added.
    pub archive: bool,
    /// The human page this feed belongs to (the site or the category page), `rel="alternate"`.
    pub html_url: String,
    /// BCP 47 language tag for RSS `<language>` and Atom `xml:lang`, if configured.
    pub language: Option<String>,
    /// Author used when an article names none.
    pub default_author: String,
    /// Name of the generator, e.g. `Herald 0.1.0`.
    pub generator: String,
    /// The newest `updated` among the items: the feed's own `updated`/`lastBuildDate`, so the
    /// same articles always give the same bytes. `None` for an empty feed (then the Unix epoch
    /// is used, which is also deterministic).
    pub updated: Option<DateTime<Utc>>,
}

/// One RFC 5005 link, with the URL of the same document in each format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryLink {
    /// `current`, `prev-archive` or `next-archive`.
    pub rel: &'static str,
    pub rss: String,
    pub atom: String,
}

/// The Feed History namespace (RFC 5005), prefix `fh`.
pub const FH_NAMESPACE: &str = "http://purl.org/syndication/history/1.0";

/// Insert `<fh:archive/>` as the first child of the element that starts with `open` (`<feed`,
/// `<channel`): Atom wants feed metadata before the entries, and the feed crates would write
/// extensions after them.
pub(crate) fn insert_fh_archive(mut xml: Vec<u8>, open: &str, indent: &str) -> Vec<u8> {
    let Some(start) = memchr::memmem::find(&xml, open.as_bytes()) else { return xml };
    let Some(end) = memchr::memchr(b'>', &xml[start..]).map(|e| start + e + 1) else {
        return xml;
    };
    let element = format!("\n{indent}<fh:archive/>");
    xml.splice(end..end, element.into_bytes());
    xml
}

/// One entry of a feed, everything resolved.
#[derive(Debug, Clone, Copy)]
pub struct FeedItem<'a> {
    pub article: &'a Article,
    /// The item's id/guid (a tag URI or the front matter id).
    pub id: &'a str,
    /// The item's link (from the configured link template).
    pub link: &'a str,
    /// Sanitised HTML of the body, absolute links.
    pub content_html: &'a str,
}

/// One live-feed item rendered in each format, exactly as it appears inside a document: a
/// live feed is its [`Shell`] around these, and an edit renders only the items it changed.
/// `Bytes`, so an item an edit reuses is a view into the document it is cut from rather than
/// a copy.
#[derive(Debug, Clone)]
pub struct ItemFragments {
    pub rss: Bytes,
    pub atom: Bytes,
    pub json: Bytes,
    /// The RSS item uses `content:encoded` (see [`rss::uses_content`]).
    pub content: bool,
}

impl ItemFragments {
    pub fn render(meta: &FeedMeta, it: &FeedItem<'_>) -> ItemFragments {
        ItemFragments {
            rss: Bytes::from(rss::item_fragment(meta, it)),
            atom: Bytes::from(atom::entry_fragment(meta, it)),
            json: Bytes::from(json::item_fragment(meta, it)),
            content: rss::uses_content(it),
        }
    }
}

/// A document around its items: `head`, the items separated by `sep`, `tail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shell {
    pub head: Vec<u8>,
    pub sep: &'static str,
    pub tail: Vec<u8>,
}

/// The document `shell` makes of `items`, and where in it each item landed.
pub fn splice<'a>(
    shell: &Shell,
    items: impl ExactSizeIterator<Item = &'a [u8]> + Clone,
) -> (Vec<u8>, Vec<std::ops::Range<usize>>) {
    let size = shell.head.len()
        + shell.tail.len()
        + items.clone().map(|i| i.len() + shell.sep.len()).sum::<usize>();
    let mut out = Vec::with_capacity(size);
    let mut at = Vec::with_capacity(items.len());
    out.extend_from_slice(&shell.head);
    for (n, item) in items.enumerate() {
        if n > 0 {
            out.extend_from_slice(shell.sep.as_bytes());
        }
        at.push(out.len()..out.len() + item.len());
        out.extend_from_slice(item);
    }
    out.extend_from_slice(&shell.tail);
    (out, at)
}

/// Where `needle` last occurs in `hay`.
fn rfind(hay: &[u8], needle: &str) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle.as_bytes())
}

/// The documents of a live feed (RSS and Atom with their stylesheets, JSON Feed) made of
/// already rendered items, each with where its items landed. The same bytes as
/// `stylesheet::attach` of `rss::render` and `atom::render`, and `json::render`.
pub fn assemble_live(
    meta: &FeedMeta,
    items: &[ItemFragments],
) -> [(Vec<u8>, Vec<std::ops::Range<usize>>); 3] {
    let any = !items.is_empty();
    let mut rss_shell = rss::shell(meta, any, items.iter().any(|f| f.content));
    rss_shell.head = stylesheet::insert(rss_shell.head, stylesheet::RSS_HREF);
    let mut atom_shell = atom::shell(meta);
    atom_shell.head = stylesheet::insert(atom_shell.head, stylesheet::ATOM_HREF);
    [
        splice(&rss_shell, items.iter().map(|f| &f.rss[..])),
        splice(&atom_shell, items.iter().map(|f| &f.atom[..])),
        splice(&json::shell(meta, any), items.iter().map(|f| &f.json[..])),
    ]
}

use actix_web::web::Bytes;
use chrono::SubsecRound;
use std::borrow::Cow;

/// Is `c` kept in a document Herald writes? The `Char` production of XML 1.0 refuses the C0
/// controls (but tab, LF, CR) and U+FFFE/U+FFFF (surrogates cannot occur in a Rust `str`);
/// DEL, the C1 controls and U+FFFD go too (see [`xml_clean`]).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7E}' | '\u{A0}'..='\u{FFFC}' | '\u{10000}'..)
}

/// Escape text for HTML element content and quoted attribute values (feeds' HTML, pages).
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `s` without the characters XML 1.0 forbids, so every document we write is well-formed
/// whatever the Markdown contained (a stray `\u{0}` or form feed would otherwise make the whole
/// feed unreadable to a strict parser). Also without DEL and the C1 controls, which XML 1.0
/// §2.2 discourages, and U+FFFD, which only marks a character the decoder could not repair
/// (a multi-byte character cut in half in the real archive; `herald check` reports it): the
/// W3C validator flags both as "bad characters". Borrows when there is nothing to strip — the
/// common case.
pub fn xml_clean(s: &str) -> Cow<'_, str> {
    if all_xml_chars(s.as_bytes()) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.chars().filter(|&c| is_xml_char(c)).collect())
    }
}

/// `s.chars().all(is_xml_char)` on the UTF-8 bytes, which is what every item's body goes
/// through in each format: decoding characters one by one was 4 % of a cold build's CPU on
/// the Chinese archive. The refused characters are the single bytes below U+0020 (but tab,
/// LF, CR) and DEL, U+0080–U+009F (`C2 80`–`C2 9F`) and U+FFFD–U+FFFF (`EF BF BD`–`BF`).
fn all_xml_chars(b: &[u8]) -> bool {
    let control = |c: u8| (c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r')) || c == 0x7F;
    !crate::article::any_byte(b, control)
        && !memchr::memchr_iter(0xC2, b).any(|i| matches!(b.get(i + 1), Some(0x80..=0x9F)))
        && !crate::article::EF_BF.find_iter(b).any(|i| matches!(b.get(i + 2), Some(0xBD..=0xBF)))
}

/// Owned [`xml_clean`], for the feed crates' `String` fields.
pub(crate) fn clean(s: &str) -> String {
    xml_clean(s).into_owned()
}

/// [`clean`] of a string made for the purpose: moved through, not copied, when nothing is
/// stripped (a whole body, in `rss::content_with_source`).
pub(crate) fn clean_owned(s: String) -> String {
    match all_xml_chars(s.as_bytes()) {
        true => s,
        false => s.chars().filter(|&c| is_xml_char(c)).collect(),
    }
}

/// 1970-01-01T00:00:00Z: the deterministic stand-in for a missing date (never "now").
pub fn epoch() -> DateTime<Utc> {
    DateTime::UNIX_EPOCH
}

/// Whole seconds: what RSS dates and `Last-Modified` can express, so both formats agree.
pub(crate) fn seconds(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(0)
}

/// `n` in decimal, zero-padded to `width` digits (`n` has at most that many).
pub(crate) fn push_digits(out: &mut Vec<u8>, n: u32, width: u32) {
    for place in (0..width).rev() {
        out.push(b'0' + (n / 10u32.pow(place) % 10) as u8);
    }
}

/// `HH:MM:SS` of `at`.
pub(crate) fn push_time(out: &mut Vec<u8>, at: DateTime<Utc>) {
    use chrono::Timelike;
    push_digits(out, at.hour(), 2);
    out.push(b':');
    push_digits(out, at.minute(), 2);
    out.push(b':');
    push_digits(out, at.second(), 2);
}

/// `at` (whole seconds) as atom_syndication writes it, `at.fixed_offset().to_rfc3339()`:
/// `2021-01-04T08:00:00+00:00`. Digit by digit in the years chrono writes with four digits
/// (see `rss::push_rfc822`).
pub(crate) fn push_rfc3339(out: &mut Vec<u8>, at: DateTime<Utc>) {
    use chrono::Datelike;
    let year = at.year();
    if !(0..=9999).contains(&year) || at.timestamp_subsec_nanos() != 0 {
        return out.extend_from_slice(at.fixed_offset().to_rfc3339().as_bytes());
    }
    push_digits(out, year as u32, 4);
    out.push(b'-');
    push_digits(out, at.month(), 2);
    out.push(b'-');
    push_digits(out, at.day(), 2);
    out.push(b'T');
    push_time(out, at);
    out.extend_from_slice(b"+00:00");
}

/// The item's publication time: `published`, else `updated`, else the epoch.
pub fn published(article: &Article) -> DateTime<Utc> {
    seconds(article.published.or(article.updated).map_or_else(epoch, |d| d.at))
}

/// The item's last-modified time: `updated`, else `published`, else the epoch.
pub fn updated(article: &Article) -> DateTime<Utc> {
    seconds(article.updated.or(article.published).map_or_else(epoch, |d| d.at))
}

/// The feed's `updated`/`lastBuildDate`: `meta.updated`, else the epoch.
pub(crate) fn feed_updated(meta: &FeedMeta) -> DateTime<Utc> {
    seconds(meta.updated.unwrap_or_else(epoch))
}

/// Category names then tags, in order, blank ones dropped and repeats removed (a tag equal to
/// a category adds nothing). One `<category>` element each.
pub fn categories(article: &Article) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::with_capacity(article.categories.len() + article.tags.len());
    for name in article.categories.iter().chain(&article.tags) {
        let name = name.trim();
        if !name.is_empty() && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// The article's author, else the feed's default author.
pub(crate) fn author<'a>(meta: &'a FeedMeta, article: &'a Article) -> &'a str {
    article
        .author
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .unwrap_or(&meta.default_author)
}

/// The source link when it is an absolute http(s) URL, normalised by the `url` crate (so it is
/// always a valid URI in an `href`); `None` for anything else, which is then not linked.
pub fn source_url(article: &Article) -> Option<String> {
    let raw = article.source.as_deref()?.trim();
    let url = url::Url::parse(raw).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
}

#[cfg(test)]
pub(crate) mod fixtures;

#[cfg(test)]
mod tests {
    use super::fixtures::{fixtures, meta, realistic, Fixture};
    use super::*;

    #[test]
    fn live_documents_assembled_from_items_are_the_rendered_ones() {
        for (m, fx) in fixtures::variants() {
            let items: Vec<_> = fx.iter().map(Fixture::item).collect();
            for n in 0..=items.len() {
                let items = &items[..n];
                let fragments: Vec<_> =
                    items.iter().map(|it| ItemFragments::render(&m, it)).collect();
                let [rss, atom, json] = assemble_live(&m, &fragments);
                let (want_rss, want_atom) =
                    stylesheet::attach(rss::render(&m, items), atom::render(&m, items));
                assert_eq!(rss.0, want_rss);
                assert_eq!(atom.0, want_atom);
                assert_eq!(json.0, json::render(&m, items));
                for (f, ((r, a), j)) in fragments.iter().zip(rss.1.iter().zip(&atom.1).zip(&json.1))
                {
                    assert_eq!(&rss.0[r.clone()], &f.rss[..]);
                    assert_eq!(&atom.0[a.clone()], &f.atom[..]);
                    assert_eq!(&json.0[j.clone()], &f.json[..]);
                }
            }
        }
    }

    #[test]
    fn the_byte_check_agrees_with_the_character_rule_for_every_character() {
        let mut buf = [0u8; 4];
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let alone = c.encode_utf8(&mut buf);
            assert_eq!(all_xml_chars(alone.as_bytes()), is_xml_char(c), "{c:?}");
        }
        // Among other characters, at any place in a block of 64 bytes and across blocks.
        let edges = (0..0x100).chain(0xFFF0..0x10000).chain([0x4E2D, 0xFF0C, 0x1F680]);
        for c in edges.filter_map(char::from_u32) {
            for pad in [0, 1, 62, 63, 64] {
                let text = format!("{}{c}中", "a".repeat(pad));
                assert_eq!(all_xml_chars(text.as_bytes()), is_xml_char(c), "{c:?} at {pad}");
            }
        }
    }

    #[test]
    fn xml_clean_strips_only_forbidden_characters() {
        assert!(matches!(xml_clean("plain 中文 🚀 \t\n\r"), Cow::Borrowed(_)));
        assert_eq!(
            xml_clean("a\u{0}b\u{8}c\u{b}\u{c}d\u{1f}e\u{fffe}\u{ffff}f\u{7f}\u{85}g\u{fffd}h"),
            "abcdefgh"
        );
        assert_eq!(xml_clean("]]> & < \" '"), "]]> & < \" '");
    }

    #[test]
    fn dates_written_digit_by_digit_are_chronos() {
        // Every day of a 400-year cycle's worth of years, at a time that moves each day,
        // and the ends of the four-digit years.
        let start = fixtures::at(1900, 1, 1, 0, 0, 0).timestamp();
        let days = (0..400 * 366).map(|d| start + d * 86_400 + (d * 7_919) % 86_400);
        let edges = [fixtures::at(0, 1, 1, 0, 0, 0), fixtures::at(9999, 12, 31, 23, 59, 59)];
        let ends =
            edges.iter().flat_map(|at| [at.timestamp() - 1, at.timestamp(), at.timestamp() + 1]);
        for at in days.chain(ends).chain([0]).filter_map(|t| DateTime::from_timestamp(t, 0)) {
            let mut out = Vec::new();
            push_rfc3339(&mut out, at);
            assert_eq!(String::from_utf8(out).unwrap(), at.fixed_offset().to_rfc3339());
            let chrono = at.format("%a, %d %b %Y %H:%M:%S +0000").to_string();
            assert_eq!(rss::rfc822(at), chrono);
        }
    }

    #[test]
    fn categories_then_tags_deduplicated() {
        let fx = fixtures();
        assert_eq!(categories(&fx[0].article), ["HimalayaRussia", "新闻", "中共", "俄罗斯"]);
        assert_eq!(categories(&fx[1].article), ["News", "Tech & Science", "rust", "<xml>"]);
    }

    #[test]
    fn dates_fall_back_and_drop_subseconds() {
        let fx = fixtures();
        assert_eq!(published(&fx[1].article), fixtures::at(2021, 2, 1, 12, 0, 0));
        assert_eq!(updated(&fx[1].article), fixtures::at(2021, 2, 1, 12, 0, 0));
        assert_eq!(published(&fx[2].article), fixtures::at(2021, 3, 5, 0, 0, 0));
        assert_eq!(published(&fx[3].article), epoch());
        assert_eq!(updated(&fx[3].article), epoch());
    }

    #[test]
    fn source_url_only_absolute_http() {
        let mut a = fixtures().remove(0).article;
        for (src, want) in [
            (Some("https://gnews.org/740024/"), Some("https://gnews.org/740024/")),
            (Some(" HTTP://Example.COM/a b "), Some("http://example.com/a%20b")),
            (Some("not a url"), None),
            (Some("/relative"), None),
            (Some("javascript:alert(1)"), None),
            (Some("mailto:a@b.c"), None),
            (None, None),
        ] {
            a.source = src.map(String::from);
            assert_eq!(source_url(&a).as_deref(), want, "{src:?}");
        }
    }

    /// Writes sample documents for external validators:
    /// `HERALD_SAMPLE_DIR=/tmp/herald-samples cargo test --lib render::tests::write_samples -- --ignored`
    #[test]
    #[ignore]
    fn write_samples() {
        let dir = std::env::var("HERALD_SAMPLE_DIR").expect("set HERALD_SAMPLE_DIR");
        for (name, fx) in [("nasty", fixtures()), ("realistic", realistic())] {
            let items: Vec<_> = fx.iter().map(Fixture::item).collect();
            std::fs::write(format!("{dir}/{name}.rss"), rss::render(&meta(), &items)).unwrap();
            std::fs::write(format!("{dir}/{name}.atom"), atom::render(&meta(), &items)).unwrap();
        }
    }
}
