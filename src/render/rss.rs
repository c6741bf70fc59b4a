//! RSS 2.0 (RSS Advisory Board spec) with `atom:link rel="self"` and `content:encoded`.
//!
//! Choices the spec forces on us:
//!
//! * `<author>` must hold an e-mail address, and Herald only knows names, so the author goes
//!   into Dublin Core `<dc:creator>`, which every reader understands.
//! * `<source url="…">` must name the *RSS channel* the item came from. An article's source is
//!   a web page (the tag line link), not a feed, so writing it there would be invalid (the W3C
//!   validator flags it) and would mislead readers that fetch it. Instead the source link is
//!   written as an Atom `<atom:link rel="via" href="…"/>` in the item (the RFC 4287 relation
//!   for "where this came from", valid in RSS through the Atom namespace Herald already
//!   declares for `rel="self"`), and, because most readers ignore both, as a visible
//!   "Source: `<a>`" footer at the end of `content:encoded`. Non-http(s) sources are not linked.
//! * `<description>` is HTML by convention, so the plain-text summary is HTML-escaped; with
//!   no summary the HTML body is used (see [`description`]).
//! * Plain-text `&`, `<`, `>` are written `&#x26;`, `&#x3C;`, `&#x3E;` (see `hex_char_refs`).
//! * `<guid>` is a permalink only when it is an http(s) URL equal to the item's link;
//!   otherwise it carries `isPermaLink="false"` (tag URIs, front matter ids).
//!
//! Dates are RFC 822 with a four-digit year and `+0000`; a missing date is the Unix epoch.

use super::{clean, FeedItem, FeedMeta};
use chrono::{DateTime, Datelike, Utc};
use memchr::memmem;
use rss::extension::atom::{AtomExtension, Link};
use rss::extension::dublincore::DublinCoreExtension;
use rss::{Category, Channel, Guid, Item};
use std::sync::LazyLock;

/// The spec `<docs>` points to.
pub const DOCS: &str = "https://www.rssboard.org/rss-specification";

/// `Content-Type` of the RSS documents.
pub const CONTENT_TYPE: &str = "application/rss+xml; charset=utf-8";

/// RFC 822 date-time as RSS wants it, e.g. `Sun, 03 Jan 2021 10:20:30 +0000`.
pub fn rfc822(at: DateTime<Utc>) -> String {
    let mut out = Vec::with_capacity(31);
    push_rfc822(&mut out, at);
    String::from_utf8(out).expect("dates are ASCII")
}

/// [`rfc822`] appended to `out`. Written digit by digit: chrono's `format` reads its format
/// string again on every call (0.7 % of a cold build's CPU: one date per item of every RSS
/// document), and `format!` still allocated once per date (1.2 % at gen-100k, perf).
pub fn push_rfc822(out: &mut Vec<u8>, at: DateTime<Utc>) {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let year = at.year();
    if !(0..=9999).contains(&year) {
        // chrono writes a sign and more digits out there.
        let text = at.format("%a, %d %b %Y %H:%M:%S +0000").to_string();
        return out.extend_from_slice(text.as_bytes());
    }
    out.extend_from_slice(DAYS[at.weekday().num_days_from_monday() as usize].as_bytes());
    out.extend_from_slice(b", ");
    super::push_digits(out, at.day(), 2);
    out.push(b' ');
    out.extend_from_slice(MONTHS[at.month0() as usize].as_bytes());
    out.push(b' ');
    super::push_digits(out, year as u32, 4);
    out.push(b' ');
    super::push_time(out, at);
    out.extend_from_slice(b" +0000");
}

/// Is `id` usable as a permalink guid for an item whose link is `link`?
pub(super) fn is_permalink(id: &str, link: &str) -> bool {
    let lower = id.to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://")) && id == link
}

/// The `content:encoded` body: the article HTML plus, when the source is known, a footer
/// linking to it.
pub fn content_with_source(content_html: &str, source: Option<&str>) -> String {
    match source {
        None => clean(content_html),
        Some(url) => {
            // Pushed into a string of the right size: `format!` grew it as it copied the
            // body (1.2 % of a cold build's CPU at gen-100k, perf).
            let url = super::html_escape(url);
            let mut html = String::with_capacity(content_html.len() + 32 + 2 * url.len());
            for part in [content_html, "\n<p>Source: <a href=\"", &url, "\">", &url, "</a></p>"] {
                html.push_str(part);
            }
            super::clean_owned(html)
        }
    }
}

/// `<description>`: readers treat it as HTML, so the plain-text summary is escaped (a summary
/// mentioning `<xml>` must show that text, not swallow an unknown tag). An article without a
/// summary gets its HTML body instead: the RSS Best Practices Profile wants a description
/// whenever `content:encoded` is present (the W3C validator warns otherwise), and readers that
/// ignore `content:encoded` then still show the article.
pub fn description(summary: &str, content_html: &str) -> String {
    let summary = summary.trim();
    if summary.is_empty() {
        clean(content_html)
    } else {
        clean(&super::html_escape(summary))
    }
}

/// Rewrite the entity references quick-xml writes in text and attributes (`&amp;`, `&lt;`,
/// `&gt;`) as the hexadecimal character references the RSS Best Practices Profile recommends
/// for plain-text elements (`&#x26;`, `&#x3C;`, `&#x3E;`): some aggregators decode named
/// entities in titles twice. The two forms are the same XML, so parsers see no difference.
/// CDATA sections hold literal text (`&amp;` there is HTML source) and are left alone.
fn hex_char_refs(xml: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(xml.len() + xml.len() / 32);
    let mut rest = xml;
    while !rest.is_empty() {
        static OPEN: LazyLock<memmem::Finder> = LazyLock::new(|| memmem::Finder::new("<![CDATA["));
        static CLOSE: LazyLock<memmem::Finder> = LazyLock::new(|| memmem::Finder::new("]]>"));
        let (outside, cdata) = match OPEN.find(rest) {
            Some(start) => {
                let end = CLOSE.find(&rest[start..]).map_or(rest.len(), |e| start + e + 3);
                (&rest[..start], &rest[start..end])
            }
            None => (rest, &rest[rest.len()..]),
        };
        push_hex_refs(&mut out, outside);
        out.extend_from_slice(cdata);
        rest = &rest[outside.len() + cdata.len()..];
    }
    out
}

/// `text` with `&amp;`, `&lt;` and `&gt;` written in hex form, appended to `out`.
fn push_hex_refs(out: &mut Vec<u8>, text: &[u8]) {
    let mut copied = 0;
    for at in memchr::memchr_iter(b'&', text) {
        let (named, hex): (&[u8], &[u8]) = match &text[at..] {
            t if t.starts_with(b"&amp;") => (b"&amp;", b"&#x26;"),
            t if t.starts_with(b"&lt;") => (b"&lt;", b"&#x3C;"),
            t if t.starts_with(b"&gt;") => (b"&gt;", b"&#x3E;"),
            _ => continue,
        };
        out.extend_from_slice(&text[copied..at]);
        out.extend_from_slice(hex);
        copied = at + named.len();
    }
    out.extend_from_slice(&text[copied..]);
}

fn item(meta: &FeedMeta, it: &FeedItem<'_>) -> Item {
    let a = it.article;
    let source = super::source_url(a);
    let summary = a.summary.trim();
    Item {
        title: Some(clean(&a.title)),
        link: Some(clean(it.link)),
        description: Some(description(summary, it.content_html)).filter(|d| !d.is_empty()),
        categories: super::categories(a)
            .into_iter()
            .map(|name| Category { name: clean(name), domain: None })
            .collect(),
        guid: Some(Guid { value: clean(it.id), permalink: is_permalink(it.id, it.link) }),
        pub_date: Some(rfc822(super::published(a))),
        // Archive pages carry no body: then no `content:encoded` either.
        content: Some(content_with_source(it.content_html, source.as_deref()))
            .filter(|_| !it.content_html.is_empty()),
        atom_ext: source.map(|href| AtomExtension {
            links: vec![Link {
                href,
                rel: "via".into(),
                mime_type: Some("text/html".into()),
                ..Link::default()
            }],
        }),
        dublin_core_ext: Some(DublinCoreExtension {
            creators: vec![clean(super::author(meta, a))],
            ..DublinCoreExtension::default()
        }),
        ..Item::default()
    }
}

/// Where an item starts in a pretty-printed document: items are children of `<channel>`,
/// two levels deep.
const ITEM_OPEN: &str = "\n    <item>";
const ITEM_CLOSE: &str = "</item>";
/// Where the items go in a document rendered without any: before the channel closes.
const CHANNEL_CLOSE: &str = "\n  </channel>";

/// One item exactly as it appears in an RSS document (from the line break before `<item>` to
/// `</item>`, plain-text entities already in hex form), so a live feed can be assembled from
/// items rendered once ([`shell`], [`super::splice`]) rather than re-rendering every item on
/// each edit. The rss crate writes an item the same wherever it stands, so rendering it alone
/// in an empty channel and cutting it out gives the very bytes a whole-channel render would.
///
/// Bytes throughout: the crate writes UTF-8, and validating it again (the whole body, once
/// more) was a fifth of rendering a live item in a profile of a gnews-2021 cold build.
pub fn item_fragment(meta: &FeedMeta, it: &FeedItem<'_>) -> Vec<u8> {
    let channel = Channel { items: vec![item(meta, it)], ..Channel::default() };
    // Sized for the body twice (`content:encoded`, and `<description>` when there is no
    // summary): growing the buffer as the crate writes was ~2 % of a cold build's CPU.
    let buffer = Vec::with_capacity(2 * it.content_html.len() + 2048);
    let xml = channel.pretty_write_to(buffer, b' ', 2).expect("writing XML into a Vec cannot fail");
    static OPEN: LazyLock<memmem::Finder> = LazyLock::new(|| memmem::Finder::new(ITEM_OPEN));
    static CLOSE: LazyLock<memmem::FinderRev> =
        LazyLock::new(|| memmem::FinderRev::new(ITEM_CLOSE));
    let start = OPEN.find(&xml).expect("a channel with one item writes it");
    let end = CLOSE.rfind(&xml).expect("a channel with one item writes it") + ITEM_CLOSE.len();
    hex_char_refs(&xml[start..end])
}

/// Does the item use the `content` namespace (`content:encoded`)? The `<rss>` element declares
/// the namespaces its items use, so [`shell`] must know.
pub fn uses_content(it: &FeedItem<'_>) -> bool {
    !it.content_html.is_empty()
}

/// The RSS 2.0 document for `items` (already ordered newest first), as UTF-8 bytes.
/// Deterministic: the same inputs give the same bytes.
///
/// Written by the crate in one go: the reference the documents Herald serves are held to.
/// Live feeds are [`shell`] around each item's [`item_fragment`], archive pages are written
/// by `render::archive`, and tests (and the fuzz targets) hold both to these bytes.
pub fn render(meta: &FeedMeta, items: &[FeedItem<'_>]) -> Vec<u8> {
    let mut channel = channel(meta);
    channel.items = items.iter().map(|it| item(meta, it)).collect();
    let mut out = write(meta, &channel);
    out.push(b'\n');
    out
}

/// The document for `meta` around its items: `any`: there are items; `content`: some item
/// uses `content:encoded`.
pub fn shell(meta: &FeedMeta, any: bool, content: bool) -> super::Shell {
    let mut channel = channel(meta);
    // What the items would have declared on `<rss>`: every item has a `dc:creator`.
    if any {
        let dc = rss::extension::dublincore::NAMESPACE;
        channel.namespaces.insert("dc".to_string(), dc.to_string());
    }
    if content {
        channel.namespaces.insert("content".to_string(), CONTENT_NAMESPACE.to_string());
    }
    let mut xml = write(meta, &channel);
    xml.push(b'\n');
    let at = super::rfind(&xml, CHANNEL_CLOSE).expect("the rss crate closes the channel");
    let tail = xml.split_off(at);
    super::Shell { head: xml, sep: "", tail }
}

/// The channel for `meta`, without items.
fn channel(meta: &FeedMeta) -> Channel {
    let updated = rfc822(super::feed_updated(meta));
    let description =
        if meta.description.trim().is_empty() { &meta.title } else { &meta.description };
    let mut links = vec![Link {
        href: clean(&meta.rss_url),
        rel: "self".into(),
        mime_type: Some("application/rss+xml".into()),
        ..Link::default()
    }];
    links.extend(meta.hubs.iter().map(|hub| Link {
        href: clean(hub),
        rel: "hub".into(),
        ..Link::default()
    }));
    links.extend(meta.history.iter().map(|h| Link {
        href: clean(&h.rss),
        rel: h.rel.into(),
        mime_type: Some("application/rss+xml".into()),
        ..Link::default()
    }));
    let mut namespaces = std::collections::BTreeMap::new();
    if meta.archive {
        namespaces.insert("fh".to_string(), super::FH_NAMESPACE.to_string());
    }
    Channel {
        title: clean(&meta.title),
        link: clean(&meta.html_url),
        description: clean(description),
        language: meta.language.as_deref().map(clean).filter(|l| !l.trim().is_empty()),
        generator: Some(clean(&meta.generator)),
        docs: Some(DOCS.into()),
        pub_date: Some(updated.clone()),
        last_build_date: Some(updated),
        atom_ext: Some(AtomExtension { links }),
        namespaces,
        ..Channel::default()
    }
}

/// The document the rss crate writes for `channel`, `<fh:archive/>` added for an archive,
/// plain-text entities in hex form.
fn write(meta: &FeedMeta, channel: &Channel) -> Vec<u8> {
    let text = |i: &Item| {
        i.content.as_ref().map_or(0, String::len) + i.description.as_ref().map_or(0, String::len)
    };
    let buffer =
        Vec::with_capacity(4096 + channel.items.iter().map(|i| 1024 + text(i)).sum::<usize>());
    let mut xml =
        channel.pretty_write_to(buffer, b' ', 2).expect("writing XML into a Vec cannot fail");
    if meta.archive {
        xml = super::insert_fh_archive(xml, "<channel", "    ");
    }
    hex_char_refs(&xml)
}

/// The RSS content module (`content:encoded`), as the rss crate declares it.
const CONTENT_NAMESPACE: &str = "http://purl.org/rss/1.0/modules/content/";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::fixtures::{at, fixtures, meta, Fixture};
    use crate::render::{categories, published, xml_clean};

    /// The document assembled from items rendered one by one, as live feeds are.
    fn assembled(meta: &FeedMeta, items: &[FeedItem<'_>]) -> Vec<u8> {
        let fragments: Vec<Vec<u8>> = items.iter().map(|it| item_fragment(meta, it)).collect();
        let shell = shell(meta, !items.is_empty(), items.iter().any(uses_content));
        crate::render::splice(&shell, fragments.iter().map(Vec::as_slice)).0
    }

    #[test]
    fn assembled_from_items_is_what_the_crate_writes_whole() {
        crate::render::fixtures::assert_assembly_is_whole(assembled, render);
    }

    fn render_fixtures(fx: &[Fixture]) -> Vec<u8> {
        let items: Vec<_> = fx.iter().map(Fixture::item).collect();
        render(&meta(), &items)
    }

    fn expected_content(f: &Fixture) -> String {
        content_with_source(&f.content_html, crate::render::source_url(&f.article).as_deref())
    }

    #[test]
    fn rfc822_format() {
        assert_eq!(rfc822(at(2021, 1, 3, 10, 20, 30)), "Sun, 03 Jan 2021 10:20:30 +0000");
        assert_eq!(rfc822(crate::render::epoch()), "Thu, 01 Jan 1970 00:00:00 +0000");
        // Field by field, as chrono's format writes it: every day of 1900–2100 at a time
        // that moves with it, and years chrono writes with a sign.
        let chrono = |at: DateTime<Utc>| at.format("%a, %d %b %Y %H:%M:%S +0000").to_string();
        let mut at = at(1900, 1, 1, 0, 0, 0);
        while at.year() <= 2100 {
            assert_eq!(rfc822(at), chrono(at));
            at += chrono::Duration::seconds(86_400 + 3_661);
        }
        for year in [-1, 0, 1, 999, 9999, 10000, 100_000] {
            let at = chrono::NaiveDate::from_ymd_opt(year, 2, 3).unwrap().and_hms_opt(4, 5, 6);
            let at = at.unwrap().and_utc();
            assert_eq!(rfc822(at), chrono(at), "{year}");
        }
    }

    #[test]
    fn permalink_only_for_equal_http_urls() {
        assert!(is_permalink("https://a.example/x", "https://a.example/x"));
        assert!(is_permalink("HTTP://a.example/x", "HTTP://a.example/x"));
        assert!(!is_permalink("https://a.example/x", "https://a.example/y"));
        assert!(!is_permalink("tag:a.example,2021:x", "tag:a.example,2021:x"));
        assert!(!is_permalink("ftp://a.example/x", "ftp://a.example/x"));
    }

    #[test]
    fn output_is_well_formed_text() {
        let xml = String::from_utf8(render_fixtures(&fixtures())).unwrap();
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>"));
        assert_eq!(xml_clean(&xml), xml, "no XML-forbidden characters");
        // The raw `]]>` in content must not end the CDATA section early.
        assert_eq!(xml.matches("<![CDATA[").count(), xml.matches("]]>").count());
        assert!(xml.contains(r#"<atom:link href="https://example.org/feeds/all.rss" rel="self" type="application/rss+xml"/>"#));
        assert!(!xml.contains("<source"), "RSS <source> needs a feed URL; we never have one");
        assert!(!xml.contains("<author>"), "RSS <author> needs an e-mail; names go in dc:creator");
    }

    #[test]
    fn hex_char_refs_outside_cdata_only() {
        let refs = |xml: &str| String::from_utf8(hex_char_refs(xml.as_bytes())).unwrap();
        assert_eq!(
            refs("<t a=\"x&amp;y\">a &amp; &lt;b&gt;</t><c><![CDATA[&amp; &lt;]]></c>&amp;<![CDATA[x"),
            "<t a=\"x&#x26;y\">a &#x26; &#x3C;b&#x3E;</t><c><![CDATA[&amp; &lt;]]></c>&#x26;<![CDATA[x"
        );
        assert_eq!(refs(""), "");
        // Only the three references, each once: what `&amp;` becomes is not read again.
        assert_eq!(refs("&amp;lt; &quot; &#x26; &g &"), "&#x26;lt; &quot; &#x26; &g &");
        assert_eq!(refs("中&gt;文&lt;"), "中&#x3E;文&#x3C;");
    }

    #[test]
    fn description_escapes_summary_or_falls_back_to_body() {
        assert_eq!(description(" a <b> & c ", "<p>x</p>"), "a &lt;b&gt; &amp; c");
        assert_eq!(description("  ", "<p>x</p>"), "<p>x</p>");
    }

    #[test]
    fn deterministic() {
        assert_eq!(render_fixtures(&fixtures()), render_fixtures(&fixtures()));
    }

    #[test]
    fn empty_feed_and_missing_dates_use_epoch() {
        let mut m = meta();
        m.updated = None;
        m.language = None;
        m.description = String::new();
        let xml = String::from_utf8(render(&m, &[])).unwrap();
        assert!(xml.contains("<lastBuildDate>Thu, 01 Jan 1970 00:00:00 +0000</lastBuildDate>"));
        let channel = Channel::read_from(xml.as_bytes()).unwrap();
        assert!(channel.items.is_empty());
        assert_eq!(channel.description, xml_clean(&m.title));
        assert_eq!(channel.language, None);
    }

    #[test]
    fn round_trip_rss_crate() {
        let fx = fixtures();
        let m = meta();
        let channel = Channel::read_from(&render_fixtures(&fx)[..]).unwrap();
        assert_eq!(channel.title, xml_clean(&m.title));
        assert_eq!(channel.link, m.html_url);
        assert_eq!(channel.description, m.description);
        assert_eq!(channel.language.as_deref(), Some("zh-CN"));
        assert_eq!(channel.generator.as_deref(), Some("Herald 0.1.0"));
        assert_eq!(channel.docs.as_deref(), Some(DOCS));
        assert_eq!(channel.last_build_date.as_deref(), Some("Fri, 05 Mar 2021 00:00:00 +0000"));
        assert_eq!(channel.pub_date, channel.last_build_date);
        let self_link = &channel.atom_ext.as_ref().unwrap().links[0];
        assert_eq!((self_link.rel.as_str(), self_link.href.as_str()), ("self", m.rss_url.as_str()));
        assert_eq!(self_link.mime_type.as_deref(), Some("application/rss+xml"));

        assert_eq!(channel.items.len(), fx.len());
        for (item, f) in channel.items.iter().zip(&fx) {
            let a = &f.article;
            assert_eq!(item.title.as_deref(), Some(&*xml_clean(&a.title)));
            assert_eq!(item.link.as_deref(), Some(f.link.as_str()));
            let guid = item.guid.as_ref().unwrap();
            assert_eq!(guid.value, f.id);
            assert_eq!(guid.permalink, f.id == f.link);
            assert_eq!(item.pub_date.as_deref(), Some(rfc822(published(a)).as_str()));
            let cats: Vec<&str> = item.categories.iter().map(|c| c.name.as_str()).collect();
            let want: Vec<String> =
                categories(a).iter().map(|c| xml_clean(c).into_owned()).collect();
            assert_eq!(cats, want);
            assert_eq!(
                item.description.as_deref(),
                Some(description(&a.summary, &f.content_html).as_str())
            );
            assert_eq!(item.content.as_deref(), Some(expected_content(f).as_str()));
            let creators = &item.dublin_core_ext.as_ref().unwrap().creators;
            assert_eq!(creators, &[crate::render::author(&m, a).to_string()]);
            let via = item.atom_ext.as_ref().map(|x| x.links[0].href.clone());
            assert_eq!(via, crate::render::source_url(a));
        }
        // Spot checks of the fixture's intent.
        assert_eq!(channel.items[0].categories.len(), 4, "duplicate tag 新闻 folded");
        assert_eq!(channel.items[1].pub_date.as_deref(), Some("Mon, 01 Feb 2021 12:00:00 +0000"));
        assert!(channel.items[2].atom_ext.is_none(), "a non-URL source is not linked");
        assert_eq!(channel.items[2].pub_date.as_deref(), Some("Fri, 05 Mar 2021 00:00:00 +0000"));
        assert_eq!(channel.items[3].pub_date.as_deref(), Some("Thu, 01 Jan 1970 00:00:00 +0000"));
        assert_eq!(channel.items[2].dublin_core_ext.as_ref().unwrap().creators, ["Herald Editors"]);
        assert!(channel.items[3].content.as_deref().unwrap().ends_with(
            "<p>Source: <a href=\"http://example.com/original?a=1&amp;b=2\">http://example.com/original?a=1&amp;b=2</a></p>"
        ));
    }

    #[test]
    fn round_trip_feed_rs() {
        let fx = fixtures();
        let m = meta();
        let feed = feed_rs::parser::parse(&render_fixtures(&fx)[..]).unwrap();
        assert_eq!(feed.feed_type, feed_rs::model::FeedType::RSS2);
        assert_eq!(feed.title.unwrap().content, xml_clean(&m.title));
        assert_eq!(feed.updated, Some(at(2021, 3, 5, 0, 0, 0)));
        assert_eq!(feed.language.as_deref(), Some("zh-cn"), "feed-rs lower-cases the tag");
        assert_eq!(feed.entries.len(), fx.len());
        for (e, f) in feed.entries.iter().zip(&fx) {
            let a = &f.article;
            assert_eq!(e.id, f.id);
            assert_eq!(e.title.as_ref().unwrap().content, xml_clean(&a.title).trim());
            assert_eq!(e.links[0].href, f.link);
            assert_eq!(e.published, Some(published(a)));
            let cats: Vec<&str> = e.categories.iter().map(|c| c.term.as_str()).collect();
            assert_eq!(cats, categories(a).iter().map(|c| xml_clean(c)).collect::<Vec<_>>());
            let summary = e.summary.as_ref().map(|s| s.content.as_str());
            assert_eq!(summary, Some(description(&a.summary, &f.content_html).as_str()));
            assert_eq!(
                e.content.as_ref().unwrap().body.as_deref(),
                Some(expected_content(f).as_str())
            );
            assert_eq!(e.authors[0].name.as_deref(), Some(crate::render::author(&m, a)));
        }
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(String::from_utf8(render_fixtures(&fixtures())).unwrap());
    }

    #[test]
    fn websub_hubs_are_atom_links_beside_self_and_nothing_else_changes() {
        let fx = fixtures();
        let items: Vec<_> = fx.iter().map(Fixture::item).collect();
        let mut m = meta();
        m.hubs =
            vec!["https://hub.example/".to_string(), "http://127.0.0.1:9/p?a=1&b=2".to_string()];
        let with = String::from_utf8(render(&m, &items)).unwrap();
        let without = String::from_utf8(render(&meta(), &items)).unwrap();
        let hub_lines = [
            r#"    <atom:link href="https://hub.example/" rel="hub"/>"#,
            r#"    <atom:link href="http://127.0.0.1:9/p?a=1&#x26;b=2" rel="hub"/>"#,
        ];
        let self_line = r#"    <atom:link href="https://example.org/feeds/all.rss" rel="self" type="application/rss+xml"/>"#;
        let want =
            without.replacen(self_line, &[self_line, hub_lines[0], hub_lines[1]].join("\n"), 1);
        assert_ne!(want, without, "the self link is where the hubs go");
        assert_eq!(with, want);
        // Readers see them as links of the channel.
        let channel = rss::Channel::read_from(with.as_bytes()).unwrap();
        let hubs: Vec<_> = channel
            .atom_ext()
            .unwrap()
            .links()
            .iter()
            .filter(|l| l.rel() == "hub")
            .map(|l| l.href().to_string())
            .collect();
        assert_eq!(hubs, m.hubs);
    }
}
