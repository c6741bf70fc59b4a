//! Atom 1.0 (RFC 4287).
//!
//! Every entry carries its own `author` (the article's, else the feed default) and the feed
//! carries the default author too, so RFC 4287 §4.1.1's author requirement always holds.
//! The source link, when known, is `link rel="via"` (RFC 4287 §4.2.7.2). Summaries are plain
//! text; content is `type="html"` (escaped, never CDATA). Dates are RFC 3339 in UTC, whole
//! seconds; a missing date is the Unix epoch.

use super::{clean, FeedItem, FeedMeta};
use atom_syndication::{
    Category, Content, Entry, Feed, Generator, Link, Person, Text, WriteConfig,
};
use memchr::memmem;
use std::sync::LazyLock;

/// `Content-Type` of the Atom documents.
pub const CONTENT_TYPE: &str = "application/atom+xml; charset=utf-8";

fn person(name: &str) -> Person {
    Person { name: clean(name), ..Person::default() }
}

fn link(rel: &str, mime: &str, href: &str) -> Link {
    Link { href: clean(href), rel: rel.into(), mime_type: Some(mime.into()), ..Link::default() }
}

fn entry(meta: &FeedMeta, it: &FeedItem<'_>) -> Entry {
    let a = it.article;
    let summary = a.summary.trim();
    let mut links = vec![link("alternate", "text/html", it.link)];
    if let Some(source) = super::source_url(a) {
        links.push(link("via", "text/html", &source));
    }
    Entry {
        title: Text::plain(clean(&a.title)),
        id: clean(it.id),
        updated: super::updated(a).fixed_offset(),
        published: Some(super::published(a).fixed_offset()),
        authors: vec![person(super::author(meta, a))],
        categories: super::categories(a)
            .into_iter()
            .map(|term| Category { term: clean(term), ..Category::default() })
            .collect(),
        links,
        summary: (!summary.is_empty()).then(|| Text::plain(clean(summary))),
        // Archive pages carry no body: then no `content` either (the summary stands).
        content: (!it.content_html.is_empty()).then(|| Content {
            content_type: Some("html".into()),
            value: Some(clean(it.content_html)),
            ..Content::default()
        }),
        ..Entry::default()
    }
}

/// Where an entry starts in a pretty-printed document: entries are children of `<feed>`.
const ENTRY_OPEN: &str = "\n  <entry>";
const ENTRY_CLOSE: &str = "</entry>";
/// Where the entries go in a document rendered without any: before the feed closes.
const FEED_CLOSE: &str = "\n</feed>";

/// One entry exactly as it appears in an Atom document (from the line break before `<entry>`
/// to `</entry>`), cut out of a feed holding only it: atom_syndication writes an entry the
/// same wherever it stands (see [`super::rss::item_fragment`] for why).
pub fn entry_fragment(meta: &FeedMeta, it: &FeedItem<'_>) -> Vec<u8> {
    let feed = Feed { entries: vec![entry(meta, it)], ..Feed::default() };
    // Sized for the escaped body (see `rss::item_fragment`).
    let mut xml = write(&feed, it.content_html.len() * 5 / 4 + 2048);
    static OPEN: LazyLock<memmem::Finder> = LazyLock::new(|| memmem::Finder::new(ENTRY_OPEN));
    static CLOSE: LazyLock<memmem::FinderRev> =
        LazyLock::new(|| memmem::FinderRev::new(ENTRY_CLOSE));
    let start = OPEN.find(&xml).expect("a feed with one entry writes it");
    let end = CLOSE.rfind(&xml).expect("a feed with one entry writes it") + ENTRY_CLOSE.len();
    xml.truncate(end);
    xml.drain(..start);
    xml
}

fn write(feed: &Feed, capacity: usize) -> Vec<u8> {
    let config = WriteConfig { write_document_declaration: true, indent_size: Some(2) };
    let buffer = Vec::with_capacity(capacity);
    feed.write_with_config(buffer, config).expect("writing XML into a Vec cannot fail")
}

/// The Atom 1.0 document for `items` (already ordered newest first), as UTF-8 bytes.
/// Deterministic: the same inputs give the same bytes.
///
/// Written by the crate in one go: the reference (see `rss::render`) for [`shell`] around
/// each entry's [`entry_fragment`] and for `render::archive`.
pub fn render(meta: &FeedMeta, items: &[FeedItem<'_>]) -> Vec<u8> {
    let mut f = feed(meta);
    f.entries = items.iter().map(|it| entry(meta, it)).collect();
    let mut out = write_feed(meta, &f);
    out.push(b'\n');
    out
}

/// The document for `meta` around its entries.
pub fn shell(meta: &FeedMeta) -> super::Shell {
    let mut xml = write_feed(meta, &feed(meta));
    xml.push(b'\n');
    let at = super::rfind(&xml, FEED_CLOSE).expect("atom_syndication closes the feed");
    let tail = xml.split_off(at);
    super::Shell { head: xml, sep: "", tail }
}

/// The feed for `meta`, without entries.
fn feed(meta: &FeedMeta) -> Feed {
    let description = meta.description.trim();
    let mut links = vec![
        link("self", "application/atom+xml", &meta.atom_url),
        link("alternate", "text/html", &meta.html_url),
    ];
    // WebSub discovery (W3C WebSub §4, Web Linking appendix B).
    links.extend(meta.hubs.iter().map(|hub| Link {
        href: clean(hub),
        rel: "hub".into(),
        ..Link::default()
    }));
    links.extend(meta.history.iter().map(|h| link(h.rel, "application/atom+xml", &h.atom)));
    let mut namespaces = std::collections::BTreeMap::new();
    if meta.archive {
        namespaces.insert("fh".to_string(), super::FH_NAMESPACE.to_string());
    }
    Feed {
        title: Text::plain(clean(&meta.title)),
        id: clean(&meta.id),
        updated: super::feed_updated(meta).fixed_offset(),
        authors: vec![person(&meta.default_author)],
        generator: Some(Generator { value: clean(&meta.generator), ..Generator::default() }),
        links,
        namespaces,
        subtitle: (!description.is_empty()).then(|| Text::plain(clean(description))),
        lang: meta.language.as_deref().map(clean).filter(|l| !l.trim().is_empty()),
        ..Feed::default()
    }
}

/// The document atom_syndication writes for `feed`, `<fh:archive/>` added for an archive.
fn write_feed(meta: &FeedMeta, feed: &Feed) -> Vec<u8> {
    let xml = write(feed, 4096 + 2048 * feed.entries.len());
    if meta.archive {
        super::insert_fh_archive(xml, "<feed", "  ")
    } else {
        xml
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::fixtures::{at, fixtures, meta, Fixture};
    use crate::render::{author, categories, published, source_url, updated, xml_clean};

    /// The document assembled from entries rendered one by one, as live feeds are.
    fn assembled(meta: &FeedMeta, items: &[FeedItem<'_>]) -> Vec<u8> {
        let fragments: Vec<Vec<u8>> = items.iter().map(|it| entry_fragment(meta, it)).collect();
        crate::render::splice(&shell(meta), fragments.iter().map(Vec::as_slice)).0
    }

    #[test]
    fn assembled_from_entries_is_what_the_crate_writes_whole() {
        crate::render::fixtures::assert_assembly_is_whole(assembled, render);
    }

    fn render_fixtures(fx: &[Fixture]) -> Vec<u8> {
        let items: Vec<_> = fx.iter().map(Fixture::item).collect();
        render(&meta(), &items)
    }

    #[test]
    fn output_is_well_formed_text() {
        let xml = String::from_utf8(render_fixtures(&fixtures())).unwrap();
        assert!(xml.starts_with("<?xml version=\"1.0\"?>"));
        assert!(xml.contains(r#"<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="zh-CN">"#));
        assert_eq!(xml_clean(&xml), xml, "no XML-forbidden characters");
        assert!(!xml.contains("<![CDATA["));
        assert!(xml.contains(r#"<link href="https://example.org/feeds/all.atom" rel="self" type="application/atom+xml"/>"#));
        assert!(
            xml.contains(r#"<link href="https://example.org/" rel="alternate" type="text/html"/>"#)
        );
    }

    #[test]
    fn deterministic() {
        assert_eq!(render_fixtures(&fixtures()), render_fixtures(&fixtures()));
    }

    #[test]
    fn empty_feed_uses_epoch() {
        let mut m = meta();
        m.updated = None;
        m.language = None;
        m.description = " ".into();
        let xml = String::from_utf8(render(&m, &[])).unwrap();
        assert!(xml.contains("<updated>1970-01-01T00:00:00+00:00</updated>"));
        let feed = Feed::read_from(xml.as_bytes()).unwrap();
        assert!(feed.entries.is_empty());
        assert_eq!(feed.lang, None);
        assert_eq!(feed.subtitle, None);
    }

    #[test]
    fn round_trip_atom_syndication() {
        let fx = fixtures();
        let m = meta();
        let feed = Feed::read_from(&render_fixtures(&fx)[..]).unwrap();
        assert_eq!(feed.id, m.id);
        assert_eq!(feed.title.value, xml_clean(&m.title));
        assert_eq!(feed.updated, at(2021, 3, 5, 0, 0, 0));
        assert_eq!(feed.lang.as_deref(), Some("zh-CN"));
        assert_eq!(feed.authors[0].name, "Herald Editors");
        assert_eq!(feed.generator.as_ref().unwrap().value, "Herald 0.1.0");
        assert_eq!(feed.subtitle.as_ref().unwrap().value, m.description);
        let links: Vec<_> = feed
            .links
            .iter()
            .map(|l| (l.rel.as_str(), l.href.as_str(), l.mime_type.as_deref()))
            .collect();
        assert_eq!(
            links,
            [
                ("self", m.atom_url.as_str(), Some("application/atom+xml")),
                ("alternate", m.html_url.as_str(), Some("text/html")),
            ]
        );

        assert_eq!(feed.entries.len(), fx.len());
        for (e, f) in feed.entries.iter().zip(&fx) {
            let a = &f.article;
            assert_eq!(e.id, f.id);
            assert_eq!(e.title.value, xml_clean(&a.title));
            assert_eq!(e.title.r#type, atom_syndication::TextType::Text);
            assert_eq!(e.updated, updated(a));
            assert_eq!(e.published, Some(published(a).fixed_offset()));
            assert_eq!(e.links[0].rel, "alternate");
            assert_eq!(e.links[0].href, f.link);
            assert_eq!(
                e.links.get(1).map(|l| (l.rel.as_str(), l.href.clone())),
                source_url(a).map(|s| ("via", s))
            );
            assert_eq!(e.links.len(), 1 + usize::from(source_url(a).is_some()));
            let cats: Vec<&str> = e.categories.iter().map(|c| c.term.as_str()).collect();
            assert_eq!(cats, categories(a).iter().map(|c| xml_clean(c)).collect::<Vec<_>>());
            let summary = xml_clean(a.summary.trim());
            assert_eq!(
                e.summary.as_ref().map(|s| s.value.as_str()),
                (!summary.is_empty()).then_some(&*summary)
            );
            let content = e.content.as_ref().unwrap();
            assert_eq!(content.content_type.as_deref(), Some("html"));
            assert_eq!(content.value.as_deref(), Some(&*xml_clean(&f.content_html)));
            assert_eq!(e.authors.len(), 1);
            assert_eq!(e.authors[0].name, author(&m, a));
        }
        assert_eq!(
            feed.entries[1].published,
            Some(at(2021, 2, 1, 12, 0, 0).fixed_offset()),
            "whole seconds"
        );
        assert_eq!(
            feed.entries[2].published,
            Some(at(2021, 3, 5, 0, 0, 0).fixed_offset()),
            "falls back to updated"
        );
        assert_eq!(feed.entries[3].updated, crate::render::epoch(), "no dates at all: epoch");
    }

    #[test]
    fn round_trip_feed_rs() {
        let fx = fixtures();
        let m = meta();
        let feed = feed_rs::parser::parse(&render_fixtures(&fx)[..]).unwrap();
        assert_eq!(feed.feed_type, feed_rs::model::FeedType::Atom);
        assert_eq!(feed.id, m.id);
        assert_eq!(feed.title.unwrap().content, xml_clean(&m.title));
        assert_eq!(feed.updated, Some(at(2021, 3, 5, 0, 0, 0)));
        assert_eq!(feed.entries.len(), fx.len());
        for (e, f) in feed.entries.iter().zip(&fx) {
            let a = &f.article;
            assert_eq!(e.id, f.id);
            assert_eq!(e.title.as_ref().unwrap().content, xml_clean(&a.title).trim());
            assert_eq!(e.links[0].href, f.link);
            assert_eq!(e.links[0].rel.as_deref(), Some("alternate"));
            assert_eq!(e.published, Some(published(a)));
            assert_eq!(e.updated, Some(updated(a)));
            let cats: Vec<&str> = e.categories.iter().map(|c| c.term.as_str()).collect();
            assert_eq!(cats, categories(a).iter().map(|c| xml_clean(c)).collect::<Vec<_>>());
            let summary = xml_clean(a.summary.trim());
            assert_eq!(
                e.summary.as_ref().map(|s| s.content.as_str()),
                (!summary.is_empty()).then_some(&*summary)
            );
            assert_eq!(
                e.content.as_ref().unwrap().body.as_deref(),
                Some(&*xml_clean(&f.content_html))
            );
            assert_eq!(e.authors[0].name.as_deref(), Some(author(&m, a)));
        }
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(String::from_utf8(render_fixtures(&fixtures())).unwrap());
    }

    #[test]
    fn websub_hubs_are_links_and_nothing_else_changes() {
        let fx = fixtures();
        let items: Vec<_> = fx.iter().map(Fixture::item).collect();
        let mut m = meta();
        m.hubs =
            vec!["https://hub.example/".to_string(), "http://127.0.0.1:9/p?a=1&b=2".to_string()];
        let with = String::from_utf8(render(&m, &items)).unwrap();
        let without = String::from_utf8(render(&meta(), &items)).unwrap();
        let alternate = r#"  <link href="https://example.org/" rel="alternate" type="text/html"/>"#;
        let want = without.replacen(
            alternate,
            &[
                alternate,
                r#"  <link href="https://hub.example/" rel="hub"/>"#,
                r#"  <link href="http://127.0.0.1:9/p?a=1&amp;b=2" rel="hub"/>"#,
            ]
            .join("\n"),
            1,
        );
        assert_ne!(want, without);
        assert_eq!(with, want);
        let feed = Feed::read_from(with.as_bytes()).unwrap();
        let rels: Vec<_> = feed.links.iter().map(|l| (l.rel.as_str(), l.href.as_str())).collect();
        assert!(rels.contains(&("self", "https://example.org/feeds/all.atom")), "{rels:?}");
        let hubs: Vec<_> = rels.iter().filter(|(r, _)| *r == "hub").map(|(_, h)| *h).collect();
        assert_eq!(hubs, m.hubs);
    }
}
