//! Property tests: the parser never panics on any bytes, and every rendered feed is
//! well-formed XML that the `rss` and `atom_syndication` crates read back item for item.

use crate::bad_input::assert_well_formed;
use chrono::{DateTime, TimeZone, Utc};
use herald::article::parse::{decode, parse};
use herald::article::{Article, DateSource, Dated, Identity, ParseOptions, Parsed};
use herald::render::{atom, rss as rss_render, xml_clean, FeedItem, FeedMeta};
use proptest::prelude::*;

fn opts() -> ParseOptions {
    ParseOptions { summary_chars: 80, default_category: "misc".into() }
}

/// XML 1.0's `Char` production (§2.2). The renderer strips more than this (C1 controls and
/// U+FFFD, which the validator flags), but the parser only promises what XML requires.
fn xml_allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Parse, then check what every caller relies on: the body offset is a boundary of the
/// decoded text, an article has a category and no forbidden character in its fields.
fn parse_checked(path: &str, bytes: &[u8]) -> Parsed {
    let parsed = parse(path, bytes, &opts());
    if let Parsed::Article(a) = &parsed {
        let (text, _) = decode(bytes);
        assert!(text.is_char_boundary(a.body_offset), "body_offset {}", a.body_offset);
        assert!(!a.categories.is_empty());
        assert!(a.categories.iter().all(|c| !c.trim().is_empty()), "{:?}", a.categories);
        assert!(!a.title.trim().is_empty(), "empty title");
        assert!(a.title.chars().count() <= 300, "title not cut");
        for field in std::iter::once(&a.title).chain(&a.categories).chain(&a.tags) {
            assert!(field.chars().all(xml_allowed), "forbidden char in {field:?}");
        }
        let base = url::Url::parse("https://example.org/articles/").unwrap();
        herald::article::html::render(&text[a.body_offset..], &base);
    }
    parsed
}

/// Lines shaped like the archive's and the front matter formats, with arbitrary insides.
fn seed_line() -> impl Strategy<Value = String> {
    let any_text = nasty_string(40).boxed();
    prop_oneof![
        Just("---".to_string()),
        Just("+++".to_string()),
        Just(String::new()),
        Just("###  [:house:返回首頁](../README.md)".to_string()),
        any_text.clone().prop_map(|t| format!("## {t}")),
        any_text.clone().prop_map(|t| format!("# {t}")),
        any_text
            .clone()
            .prop_map(|t| format!("` {t}` [轉載自GNews](https://news.example.net/{t})")),
        "[0-9]{1,2}/[0-9]{1,2}/[0-9]{4} [0-9]{1,2}:[0-9]{2} (AM|PM) UTC .{0,12}"
            .prop_map(|t| format!("`{t}` [src](https://e.example/x)")),
        (
            prop::sample::select(vec![
                "title",
                "date",
                "updated",
                "category",
                "categories",
                "tags",
                "draft",
                "id",
                "source",
                "author",
                "summary",
            ]),
            any_text.clone()
        )
            .prop_map(|(k, v)| format!("{k}: {v}")),
        (
            prop::sample::select(vec!["title", "date", "category", "tags", "draft"]),
            any_text.clone()
        )
            .prop_map(|(k, v)| format!("{k} = {v:?}")),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2})?)?(Z|[+-][0-9]{2}:?[0-9]{2})?"
            .prop_map(|d| format!("date: {d}")),
        any_text.clone().prop_map(|t| format!("[{t}]({t}.md)")),
        "[<>&\"'\\]\\[`*_#!()\\\\:/;=-]{0,20}",
        any_text,
    ]
}

/// Characters that make feeds interesting: XML-forbidden controls, non-characters, markup,
/// CDATA ends, emoji, CJK and right-to-left text.
fn nasty_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => any::<char>(),
        2 => prop::sample::select(vec![
            '\0', '\u{1}', '\u{8}', '\u{b}', '\u{c}', '\u{1f}', '\u{7f}', '\u{85}', '\u{fffe}',
            '\u{ffff}', '\u{fffd}', '\t', '\n', '\r', '<', '>', '&', '"', '\'', ']', '😀', '中',
            '\u{202e}', '\u{200b}', '\u{feff}', ' ',
        ]),
        2 => prop::char::range('a', 'z'),
    ]
}

fn nasty_string(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(nasty_char(), 0..max).prop_map(|v| v.into_iter().collect())
}

fn date() -> impl Strategy<Value = Option<Dated>> {
    prop::option::of((0i64..253_402_300_799, any::<bool>()).prop_map(|(secs, fm)| Dated {
        at: Utc.timestamp_opt(secs, 0).unwrap(),
        source: if fm { DateSource::FrontMatter } else { DateSource::Mtime },
    }))
}

fn article() -> impl Strategy<Value = (Article, String)> {
    (
        nasty_string(40),
        prop::collection::vec(nasty_string(12), 1..3),
        prop::collection::vec(nasty_string(8), 0..3),
        (date(), date()),
        prop::option::of(nasty_string(30)),
        prop::option::of(nasty_string(12)),
        nasty_string(60),
        nasty_string(120),
        any::<bool>(),
    )
        .prop_map(
            |(
                title,
                categories,
                tags,
                (published, updated),
                source,
                author,
                summary,
                html,
                http,
            )| {
                let source =
                    source.map(|s| if http { format!("https://src.example/{s}") } else { s });
                let article = Article {
                    path: "posts/x.md".into(),
                    title,
                    categories,
                    tags,
                    published,
                    updated,
                    source,
                    author,
                    summary,
                    identity: Identity::Path,
                    draft: false,
                    body_offset: 0,
                    warnings: vec![],
                };
                (article, html)
            },
        )
}

fn meta(title: String, updated: Option<DateTime<Utc>>) -> FeedMeta {
    FeedMeta {
        slug: "all".into(),
        title,
        description: "Every <article> & more".into(),
        id: "tag:example.org,2026:feed/all".into(),
        rss_url: "https://example.org/feeds/all.rss".into(),
        atom_url: "https://example.org/feeds/all.atom".into(),
        json_url: "https://example.org/feeds/all.json".into(),
        history: vec![],
        hubs: vec![],
        archive: false,
        html_url: "https://example.org/".into(),
        language: Some("zh-CN".into()),
        default_author: "Herald".into(),
        generator: "Herald test".into(),
        updated,
    }
}

/// A title compared across the feed: forbidden characters gone, the edges trimmed (the `rss`
/// crate trims text, `atom_syndication` does not; the parser never makes a title with
/// whitespace at its edges).
fn expected(s: &str) -> String {
    xml_clean(s).trim().to_string()
}

/// 128 cases by default, so the suite stays fast; `PROPTEST_CASES=5000` for a longer run.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(128);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn parse_never_panics_on_arbitrary_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..2048),
        path in prop::sample::select(vec!["a.md", "posts/2024-03-01-x.md", "t/2019/06/20190614-1.md", "2024/x.md"]),
    ) {
        parse_checked(path, &bytes);
    }

    #[test]
    fn parse_never_panics_on_bytes_with_a_bom(
        bom in prop::sample::select(vec![&b"\xEF\xBB\xBF"[..], b"\xFF\xFE", b"\xFE\xFF"]),
        bytes in prop::collection::vec(any::<u8>(), 0..1024),
    ) {
        let mut all = bom.to_vec();
        all.extend(bytes);
        parse_checked("a.md", &all);
    }

    #[test]
    fn parse_never_panics_on_seed_shaped_text(
        lines in prop::collection::vec(seed_line(), 0..24),
        crlf in any::<bool>(),
    ) {
        let end = if crlf { "\r\n" } else { "\n" };
        let text = lines.join(end);
        parse_checked("reports/2021/01/810001.md", text.as_bytes());
    }

    #[test]
    fn parse_never_panics_on_front_matter_shaped_text(
        yaml in any::<bool>(),
        lines in prop::collection::vec(seed_line(), 0..12),
        closed in any::<bool>(),
        body in nasty_string(200),
    ) {
        let fence = if yaml { "---" } else { "+++" };
        let mut text = format!("{fence}\n{}\n", lines.join("\n"));
        if closed {
            text.push_str(fence);
            text.push('\n');
        }
        text.push_str(&body);
        parse_checked("posts/2024-03-01-x.md", text.as_bytes());
    }

    #[test]
    fn every_rendered_feed_reads_back(
        set in prop::collection::vec(article(), 0..6),
        feed_title in nasty_string(20),
    ) {
        let ids: Vec<String> = (0..set.len()).map(|i| format!("tag:example.org,2026:path/{i}")).collect();
        let links: Vec<String> = (0..set.len()).map(|i| format!("https://example.org/articles/{i}.md")).collect();
        let items: Vec<FeedItem<'_>> = set
            .iter()
            .zip(ids.iter().zip(&links))
            .map(|((article, html), (id, link))| FeedItem { article, id, link, content_html: html })
            .collect();
        let updated = set.iter().filter_map(|(a, _)| a.updated.or(a.published).map(|d| d.at)).max();
        let meta = meta(feed_title, updated);

        let rss_bytes = rss_render::render(&meta, &items);
        assert_well_formed("rss", &rss_bytes);
        let channel = rss::Channel::read_from(&rss_bytes[..]).expect("the rss crate reads it");
        prop_assert_eq!(channel.items().len(), set.len());
        for (item, ((a, _), id)) in channel.items().iter().zip(set.iter().zip(&ids)) {
            prop_assert_eq!(expected(item.title().unwrap_or_default()), expected(&a.title));
            prop_assert_eq!(item.guid().map(|g| g.value()), Some(id.as_str()));
        }

        let atom_bytes = atom::render(&meta, &items);
        assert_well_formed("atom", &atom_bytes);
        let feed = atom_syndication::Feed::read_from(&atom_bytes[..]).expect("atom_syndication reads it");
        prop_assert_eq!(feed.entries().len(), set.len());
        for (entry, ((a, _), id)) in feed.entries().iter().zip(set.iter().zip(&ids)) {
            prop_assert_eq!(expected(entry.title().as_str()), expected(&a.title));
            prop_assert_eq!(entry.id(), id.as_str());
        }

        // feed-rs agrees on the count.
        prop_assert_eq!(crate::support::parse_feed(&rss_bytes).entries.len(), set.len());
        prop_assert_eq!(crate::support::parse_feed(&atom_bytes).entries.len(), set.len());
    }
}
