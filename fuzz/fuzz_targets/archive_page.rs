//! Strings → an archive page by `render::archive::page`, held equal to the feed crates' page
//! (with the stylesheet `stylesheet::attach_archive` adds).
//!
//! Archive pages are written without the rss and atom_syndication structs (see
//! `src/render/archive.rs`) and must be the very bytes the crates write for the same items
//! without bodies. The input is up to nine fields separated by `\n\n`: title, summary,
//! author, category, tag, source, id, link, default author (missing ones are empty).
#![no_main]

use herald::article::{Article, DateSource, Dated, Identity};
use herald::render::archive::{page, ArchiveItem};
use herald::render::stylesheet::attach_archive;
use herald::render::{atom, rss, source_url, FeedItem, FeedMeta};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut fields = text.split("\n\n");
    let mut next = || fields.next().unwrap_or("").to_string();
    let (title, summary, author, category, tag) = (next(), next(), next(), next(), next());
    let (source, id, link, default_author) = (next(), next(), next(), next());
    // Some(...) of an empty field too: an author or source that is blank is a case of its own.
    let published = chrono::DateTime::from_timestamp(i64::from(data.len() as u32) * 86_399, 0)
        .map(|at| Dated { at, source: DateSource::FrontMatter });
    let article = Article {
        categories: vec![category, "News".into()],
        tags: vec![tag],
        summary,
        author: Some(author),
        source: Some(source),
        published,
        path: "fuzz/a.md".into(),
        title,
        updated: None,
        identity: Identity::Path,
        draft: false,
        body_offset: 0,
        warnings: vec![],
    };
    let meta = FeedMeta {
        slug: "all".into(),
        title: "Fuzz".into(),
        description: "fuzz".into(),
        id: "tag:example.org,2026:feed/all".into(),
        rss_url: "https://example.org/feeds/all/archive/1.rss".into(),
        atom_url: "https://example.org/feeds/all/archive/1.atom".into(),
        json_url: "https://example.org/feeds/all.json".into(),
        history: vec![],
        hubs: vec![],
        archive: true,
        html_url: "https://example.org/".into(),
        language: None,
        default_author,
        generator: "Herald fuzz".into(),
        updated: article.published.map(|d| d.at),
    };
    let source = source_url(&article);
    let ours = [ArchiveItem { article: &article, id: &id, link: &link, source: source.as_deref() }];
    let theirs = [FeedItem { article: &article, id: &id, link: &link, content_html: "" }];
    let (rss_page, atom_page) = page(&meta, &ours);
    let (want_rss, want_atom) =
        attach_archive(rss::render(&meta, &theirs), atom::render(&meta, &theirs));
    assert_eq!(String::from_utf8_lossy(&rss_page), String::from_utf8_lossy(&want_rss));
    assert_eq!(String::from_utf8_lossy(&atom_page), String::from_utf8_lossy(&want_atom));
});
