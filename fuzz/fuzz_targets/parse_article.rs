//! Bytes → `article::parse::parse` → body → `article::html::render` → RSS and Atom, read back.
//!
//! Checks, beyond "does not panic": the body offset is a character boundary of the decoded
//! text, and a feed holding the article is well-formed and read back by the `rss` and
//! `atom_syndication` crates with one item and the same title and id.
#![no_main]

use herald::article::parse::{decode, parse};
use herald::article::{ParseOptions, Parsed};
use herald::render::{atom, rss as rss_render, xml_clean, FeedItem, FeedMeta};
use libfuzzer_sys::fuzz_target;

/// Paths that switch on the file-name date and folder-category rules.
const PATHS: &[&str] = &[
    "posts/2024-03-01-title.md",
    "talks/2019/06/20190614-70000001.md",
    "README.md",
    "分类/文章.md",
];

fuzz_target!(|data: &[u8]| {
    let (path, bytes) = match data.split_first() {
        Some((&b, rest)) => (PATHS[b as usize % PATHS.len()], rest),
        None => (PATHS[0], data),
    };
    let opts = ParseOptions { summary_chars: 120, default_category: "misc".into() };
    let Parsed::Article(article) = parse(path, bytes, &opts) else { return };
    let (text, _) = decode(bytes);
    assert!(
        text.is_char_boundary(article.body_offset),
        "body_offset {} is not a char boundary of {} bytes",
        article.body_offset,
        text.len()
    );
    assert!(!article.categories.is_empty());
    let body = &text[article.body_offset..];
    let base = url::Url::parse("https://example.org/articles/posts/").unwrap();
    let html = herald::article::html::render(body, &base);

    let meta = FeedMeta {
        slug: "all".into(),
        title: "Fuzz".into(),
        description: "fuzz".into(),
        id: "tag:example.org,2026:feed/all".into(),
        rss_url: "https://example.org/feeds/all.rss".into(),
        atom_url: "https://example.org/feeds/all.atom".into(),
        json_url: "https://example.org/feeds/all.json".into(),
        history: vec![],
        hubs: vec![],
        archive: false,
        html_url: "https://example.org/".into(),
        language: None,
        default_author: "Herald".into(),
        generator: "Herald fuzz".into(),
        updated: article.updated.or(article.published).map(|d| d.at),
    };
    let id = "tag:example.org,2026:path/x";
    let link = "https://example.org/articles/x";
    let item = FeedItem { article: &article, id, link, content_html: &html };
    // The renderer drops more than XML forbids (C1 controls, U+FFFD), which can leave a space at
    // an edge; the `rss` crate trims text when it reads it back.
    let want_title = xml_clean(&article.title).trim().to_string();

    let rss_bytes = rss_render::render(&meta, &[item]);
    let channel = rss::Channel::read_from(&rss_bytes[..]).expect("RSS reads back");
    assert_eq!(channel.items().len(), 1);
    let title = channel.items()[0].title().unwrap_or_default();
    assert_eq!(title, want_title, "RSS title");

    let atom_bytes = atom::render(&meta, &[item]);
    let feed = atom_syndication::Feed::read_from(&atom_bytes[..]).expect("Atom reads back");
    assert_eq!(feed.entries().len(), 1);
    assert_eq!(feed.entries()[0].title().as_str().trim(), want_title, "Atom title");
    assert_eq!(feed.entries()[0].id(), id);
});
