//! Archive pages (RFC 5005), written straight into their documents.
//!
//! An archive page's items carry no body: title, link, the summary, categories, id, dates,
//! author and source link. Every article is on one page of `all` and one of each of its
//! categories, in RSS and in Atom, so at 100,000 articles that is 400,000 items, and building
//! the feed crates' structs for each and writing them through quick-xml was ~18 % of a cold
//! build's CPU (a `perf` profile of gen-100k). The writers here give the very bytes the crates
//! give ([`super::rss::item_fragment`], [`super::atom::entry_fragment`] with no body): the
//! same elements in the same order, indented the same, escaped the same. The tests below and
//! the `archive_page` fuzz target hold them equal, so a crate update that changes its output
//! fails there rather than silently mixing two spellings in one feed.

use super::{author, categories, published, updated, xml_clean, FeedMeta, Shell};
use crate::article::Article;
use std::borrow::Cow;

/// One item of an archive page, everything resolved.
#[derive(Debug, Clone, Copy)]
pub struct ArchiveItem<'a> {
    pub article: &'a Article,
    /// The item's id/guid.
    pub id: &'a str,
    /// The item's link (from the configured link template).
    pub link: &'a str,
    /// [`super::source_url`] of the article, found once for both formats.
    pub source: Option<&'a str>,
}

/// The RSS and Atom documents of an archive page, stylesheets included: the same bytes as
/// `stylesheet::attach_archive` of `rss::render` and `atom::render` of the items without
/// bodies. The stylesheet goes into the head before the items are written: inserted into
/// the finished document, it moved every page's bytes once more (page faults under that
/// move showed in a profile of gen-100k's cold build).
pub fn page(meta: &FeedMeta, items: &[ArchiveItem<'_>]) -> (Vec<u8>, Vec<u8>) {
    use super::stylesheet::{insert, ARCHIVE_ATOM_HREF, ARCHIVE_RSS_HREF};
    let text: usize =
        items.iter().map(|it| it.article.title.len() + it.article.summary.len()).sum();
    let mut rss_shell = super::rss::shell(meta, !items.is_empty(), false);
    rss_shell.head = insert(rss_shell.head, ARCHIVE_RSS_HREF);
    let rss = around(&rss_shell, 700 * items.len() + text * 5 / 4, |out| {
        items.iter().for_each(|it| push_rss_item(out, meta, it));
    });
    let mut atom_shell = super::atom::shell(meta);
    atom_shell.head = insert(atom_shell.head, ARCHIVE_ATOM_HREF);
    let atom = around(&atom_shell, 800 * items.len() + text * 5 / 4, |out| {
        items.iter().for_each(|it| push_atom_entry(out, meta, it));
    });
    (rss, atom)
}

/// `shell`'s head, what `items` writes, and its tail.
fn around(shell: &Shell, capacity: usize, items: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    debug_assert!(shell.sep.is_empty(), "items are written back to back");
    let mut out = Vec::with_capacity(shell.head.len() + capacity + shell.tail.len());
    out.extend_from_slice(&shell.head);
    items(&mut out);
    out.extend_from_slice(&shell.tail);
    out
}

/// How `&`, `<` and `>` are written: RSS uses hexadecimal character references (see
/// `rss::hex_char_refs`), Atom the named entities quick-xml writes.
#[derive(Clone, Copy, PartialEq)]
enum Refs {
    Hex,
    Named,
}

/// May `b` hold a character to escape or one [`xml_clean`] drops? One pass that the compiler
/// vectorises (no early exit within a block), where `xml_clean`'s three scans and the escape
/// loop cost ~4 % of a cold build's CPU at gen-100k on the short strings of archive items,
/// nearly all of which need neither. It may say yes for nothing (`EF BF` is also the start of
/// allowed characters such as U+FFE5): the slow path then finds out.
fn needs_care(b: &[u8]) -> bool {
    let special = |c: u8| {
        matches!(c, 0..=0x1F | 0x7F | b'&' | b'<' | b'>' | b'"' | b'\'')
            && !matches!(c, b'\t' | b'\n' | b'\r')
    };
    let pair = |(&c, &next): (&u8, &u8)| {
        (c == 0xC2 && (0x80..=0x9F).contains(&next)) || (c == 0xEF && next == 0xBF)
    };
    crate::article::any_byte(b, special)
        || b.chunks(64)
            .zip(b.get(1..).unwrap_or_default().chunks(64))
            .any(|(block, next)| block.iter().zip(next).fold(false, |found, p| found | pair(p)))
}

/// Append `text` without the characters XML forbids ([`xml_clean`]), escaped as quick-xml
/// escapes text and attribute values: `&`, `<`, `>`, `"` and `'`.
fn push_escaped(out: &mut Vec<u8>, text: &str, refs: Refs) {
    if !needs_care(text.as_bytes()) {
        out.extend_from_slice(text.as_bytes());
        return;
    }
    let text = xml_clean(text);
    let bytes = text.as_bytes();
    let mut copied = 0;
    for (at, &b) in bytes.iter().enumerate() {
        let escaped: &[u8] = match (b, refs) {
            (b'&', Refs::Hex) => b"&#x26;",
            (b'<', Refs::Hex) => b"&#x3C;",
            (b'>', Refs::Hex) => b"&#x3E;",
            (b'&', Refs::Named) => b"&amp;",
            (b'<', Refs::Named) => b"&lt;",
            (b'>', Refs::Named) => b"&gt;",
            (b'"', _) => b"&quot;",
            (b'\'', _) => b"&apos;",
            _ => continue,
        };
        out.extend_from_slice(&bytes[copied..at]);
        out.extend_from_slice(escaped);
        copied = at + 1;
    }
    out.extend_from_slice(&bytes[copied..]);
}

/// `<{name}>text</{name}>` on a line of its own at `indent`.
fn push_element(out: &mut Vec<u8>, indent: &str, name: &str, text: &str, refs: Refs) {
    out.extend_from_slice(indent.as_bytes());
    out.push(b'<');
    out.extend_from_slice(name.as_bytes());
    out.push(b'>');
    push_escaped(out, text, refs);
    out.extend_from_slice(b"</");
    out.extend_from_slice(name.as_bytes());
    out.push(b'>');
}

/// An `<item>` as the rss crate writes it two levels deep (see `rss::item`).
fn push_rss_item(out: &mut Vec<u8>, meta: &FeedMeta, it: &ArchiveItem<'_>) {
    const IN: &str = "\n      ";
    let a = it.article;
    out.extend_from_slice(b"\n    <item>");
    push_element(out, IN, "title", &a.title, Refs::Hex);
    push_element(out, IN, "link", it.link, Refs::Hex);
    // `rss::description` with no body: the summary, HTML-escaped, in a CDATA section (which
    // cannot end early: the escaping leaves no `>`), left out when nothing remains. Most
    // summaries have nothing to escape or drop, and are the trimmed summary as it is.
    let summary = a.summary.trim();
    let summary = match needs_care(summary.as_bytes()) {
        true => Cow::Owned(super::rss::description(summary, "")),
        false => Cow::Borrowed(summary),
    };
    if !summary.is_empty() {
        out.extend_from_slice(b"\n      <description><![CDATA[");
        out.extend_from_slice(summary.as_bytes());
        out.extend_from_slice(b"]]></description>");
    }
    for name in categories(a) {
        push_element(out, IN, "category", name, Refs::Hex);
    }
    let guid = match super::rss::is_permalink(it.id, it.link) {
        true => "guid",
        false => "guid isPermaLink=\"false\"",
    };
    out.extend_from_slice(IN.as_bytes());
    out.push(b'<');
    out.extend_from_slice(guid.as_bytes());
    out.push(b'>');
    push_escaped(out, it.id, Refs::Hex);
    out.extend_from_slice(b"</guid>");
    out.extend_from_slice(b"\n      <pubDate>");
    super::rss::push_rfc822(out, published(a));
    out.extend_from_slice(b"</pubDate>");
    if let Some(source) = it.source {
        out.extend_from_slice(b"\n      <atom:link href=\"");
        push_escaped(out, source, Refs::Hex);
        out.extend_from_slice(b"\" rel=\"via\" type=\"text/html\"/>");
    }
    push_element(out, IN, "dc:creator", author(meta, a), Refs::Hex);
    out.extend_from_slice(b"\n    </item>");
}

/// An `<entry>` as atom_syndication writes it one level deep (see `atom::entry`).
fn push_atom_entry(out: &mut Vec<u8>, meta: &FeedMeta, it: &ArchiveItem<'_>) {
    const IN: &str = "\n    ";
    let a = it.article;
    out.extend_from_slice(b"\n  <entry>");
    push_element(out, IN, "title", &a.title, Refs::Named);
    push_element(out, IN, "id", it.id, Refs::Named);
    out.extend_from_slice(b"\n    <updated>");
    super::push_rfc3339(out, updated(a));
    out.extend_from_slice(b"</updated>");
    out.extend_from_slice(b"\n    <author>");
    push_element(out, "\n      ", "name", author(meta, a), Refs::Named);
    out.extend_from_slice(b"\n    </author>");
    for term in categories(a) {
        out.extend_from_slice(b"\n    <category term=\"");
        push_escaped(out, term, Refs::Named);
        out.extend_from_slice(b"\"/>");
    }
    for (rel, href) in [("alternate", Some(it.link)), ("via", it.source)] {
        let Some(href) = href else { continue };
        out.extend_from_slice(b"\n    <link href=\"");
        push_escaped(out, href, Refs::Named);
        out.extend_from_slice(b"\" rel=\"");
        out.extend_from_slice(rel.as_bytes());
        out.extend_from_slice(b"\" type=\"text/html\"/>");
    }
    out.extend_from_slice(b"\n    <published>");
    super::push_rfc3339(out, published(a));
    out.extend_from_slice(b"</published>");
    let summary = a.summary.trim();
    if !summary.is_empty() {
        push_element(out, IN, "summary", summary, Refs::Named);
    }
    out.extend_from_slice(b"\n  </entry>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::fixtures::{at, fixtures, variants, Fixture};
    use crate::render::{atom, rss, source_url, FeedItem};
    use chrono::Datelike;

    /// What the crates write for `fx` without its body, and what this module writes.
    fn both(meta: &FeedMeta, fx: &Fixture) -> [(String, String); 2] {
        let crate_item = FeedItem { content_html: "", ..fx.item() };
        let source = source_url(&fx.article);
        let it = ArchiveItem {
            article: &fx.article,
            id: &fx.id,
            link: &fx.link,
            source: source.as_deref(),
        };
        let (mut rss_out, mut atom_out) = (Vec::new(), Vec::new());
        push_rss_item(&mut rss_out, meta, &it);
        push_atom_entry(&mut atom_out, meta, &it);
        let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
        [
            (text(rss::item_fragment(meta, &crate_item)), text(rss_out)),
            (text(atom::entry_fragment(meta, &crate_item)), text(atom_out)),
        ]
    }

    /// Strings that exercise every escape, the characters XML forbids, whitespace the
    /// writers trim or keep, CDATA's end marker and markup that looks like the items' own.
    const ODD: &[&str] = &[
        "",
        " ",
        "\t\n ",
        "plain",
        "Tom & Jerry <b>\"x\"</b> 'y'",
        "&amp; &lt; &#x26; &quot;",
        "]]> ]]&gt; <![CDATA[ x",
        "\u{0}\u{1}\u{b}\u{c}\u{7f}\u{85}\u{fffd}\u{fffe}\u{ffff}",
        " \u{1} lead and trail \u{1} ",
        "line\nbreak\r\nand\ttab",
        "\n    </item>\n  </entry>",
        "中文标题：俄罗斯与中共的“友谊” 🇷🇺🤝🇨🇳",
        "https://example.org/a?b=1&c=<2>#\"'",
        "tag:example.org,2021:a/b.md",
    ];

    #[test]
    fn items_are_what_the_feed_crates_write() {
        let base = fixtures().remove(0);
        let mut cases: Vec<Fixture> = fixtures();
        // Each puts an odd string into one field (or two that interact).
        let edits: [fn(&mut Fixture, &str); 11] = [
            |f, odd| f.article.title = odd.into(),
            |f, odd| f.article.summary = odd.into(),
            |f, odd| f.article.author = Some(odd.into()),
            |f, odd| f.article.categories = vec![odd.into(), "News".into()],
            |f, odd| f.article.tags = vec!["News".into(), odd.into(), odd.into()],
            |f, odd| f.article.source = Some(format!("https://example.org/{odd}")),
            |f, odd| f.article.source = Some(odd.into()),
            |f, odd| f.id = odd.into(),
            |f, odd| f.link = odd.into(),
            |f, odd| (f.id, f.link) = (odd.into(), odd.into()),
            |f, _| f.article.categories.clear(),
        ];
        for &odd in ODD {
            for edit in edits {
                let mut fx = Fixture {
                    article: base.article.clone(),
                    id: base.id.clone(),
                    link: base.link.clone(),
                    content_html: String::new(),
                };
                edit(&mut fx, odd);
                cases.push(fx);
            }
        }
        let mut dated = fixtures().remove(1);
        for year in [1, 999, 9999, 10000, -1] {
            let when = at(2021, 6, 7, 8, 9, 10).with_year(year);
            dated.article.published = when.map(|at| crate::article::Dated {
                at,
                source: crate::article::DateSource::FrontMatter,
            });
            cases.push(Fixture { article: dated.article.clone(), ..fixtures().remove(1) });
        }
        let mut meta = variants().remove(0).0;
        for default_author in ["Herald Editors", "", "A & <B>"] {
            meta.default_author = default_author.into();
            for fx in &cases {
                for (want, got) in both(&meta, fx) {
                    assert_eq!(got, want, "{:?}", fx.article);
                }
            }
        }
    }

    #[test]
    fn the_quick_check_misses_no_character_that_needs_care() {
        let mut buf = [0u8; 4];
        let escaped = |c: char| matches!(c, '&' | '<' | '>' | '"' | '\'');
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let text = format!("ab{}cd", c.encode_utf8(&mut buf));
            if escaped(c) || matches!(xml_clean(&text), Cow::Owned(_)) {
                assert!(needs_care(text.as_bytes()), "{c:?}");
                // At either end of a 64-byte block and across two.
                for pad in [61, 62, 63, 64] {
                    let text = format!("{}{c}", "a".repeat(pad));
                    assert!(needs_care(text.as_bytes()), "{c:?} at {pad}");
                }
            }
        }
        assert!(!needs_care("中文标题，“友谊” 🚀 plain\ttext\n".as_bytes()));
    }

    #[test]
    fn pages_are_what_the_feed_crates_write() {
        for (meta, fx) in variants() {
            for n in 0..=fx.len() {
                let sources: Vec<_> = fx[..n].iter().map(|f| source_url(&f.article)).collect();
                let items: Vec<_> = fx[..n]
                    .iter()
                    .zip(&sources)
                    .map(|(f, s)| ArchiveItem {
                        article: &f.article,
                        id: &f.id,
                        link: &f.link,
                        source: s.as_deref(),
                    })
                    .collect();
                let crate_items: Vec<_> =
                    fx[..n].iter().map(|f| FeedItem { content_html: "", ..f.item() }).collect();
                let (rss_page, atom_page) = page(&meta, &items);
                let (want_rss, want_atom) = crate::render::stylesheet::attach_archive(
                    rss::render(&meta, &crate_items),
                    atom::render(&meta, &crate_items),
                );
                let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
                assert_eq!(text(rss_page), text(want_rss));
                assert_eq!(text(atom_page), text(want_atom));
            }
        }
    }
}
