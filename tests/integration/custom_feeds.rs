//! Custom feeds (`[[feeds.custom]]`) on the `custom` fixture: built with the right items in
//! RSS, Atom and JSON Feed, served and mirrored like the category feeds, listed in the OPML
//! list and on `/`, and kept current, incrementally, by `herald serve`.
//!
//! The fixture: `world/` holds articles in 国际 and Europe, a sport article in 国际 and 体育,
//! and an advert in 国际 (title 【广告】…); `local/` a Local article with CLIMATE in its title
//! and one in the category "World", whose plain slug the custom feed `world` takes.

use crate::faults::{cold_build, diff_summary, served};
use crate::support::*;
use herald::site::Site;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const FEEDS: &str = r#"
[content]
git_dates = false

[[feeds.custom]]
slug = "world"
title = "World news, no sport"
categories = ["国际", "Europe"]
exclude_categories = ["体育"]
exclude_title_words = ["广告"]
items = 2

[[feeds.custom]]
slug = "climate"
title_words = ["Climate", "气候"]
"#;

fn custom_config(root: &Path, out: &Path) -> Arc<herald::config::Config> {
    config_with(root, out, FEEDS)
}

fn doc(site: &Site, file: &str) -> actix_web::web::Bytes {
    match site.feeds().get(file) {
        Some(d) => d.identity().into_owned().bytes,
        None => panic!("{file} not built; built: {:?}", site.feeds().keys().collect::<Vec<_>>()),
    }
}

fn feed_titles(site: &Site, file: &str) -> Vec<String> {
    titles(&parse_feed(&doc(site, file)))
}

#[test]
fn custom_feeds_hold_the_matching_articles_in_every_format() {
    let content = copy_fixture("custom");
    let out = tempfile::tempdir().unwrap();
    let site = Site::build(custom_config(content.path(), out.path())).unwrap();

    // world: 国际 or Europe, not 体育, no advert; the newest 2 (of 3 matching).
    for ext in ["rss", "atom", "json"] {
        assert_eq!(
            feed_titles(&site, &format!("world.{ext}")),
            ["Climate summit opens in Paris", "全球气候峰会开幕"],
            "world.{ext}"
        );
        // climate: a word of the title, any case, also inside a CJK title; feeds.items caps.
        assert_eq!(
            feed_titles(&site, &format!("climate.{ext}")),
            ["Harbour CLIMATE fair", "Climate summit opens in Paris", "全球气候峰会开幕"],
            "climate.{ext}"
        );
    }
    let atom = parse_feed(&doc(&site, "world.atom"));
    assert_eq!(atom.title.unwrap().content, "World news, no sport");
    assert_eq!(atom.id, "tag:feeds.example.org,2026:feed/world");
    let climate = parse_feed(&doc(&site, "climate.rss"));
    assert_eq!(climate.title.unwrap().content, "Test: climate", "default title");
    let rss = String::from_utf8_lossy(&doc(&site, "world.rss")).into_owned();
    assert!(
        rss.contains("href=\"https://feeds.example.org/feeds/world.rss\" rel=\"self\""),
        "{rss}"
    );
    assert!(!rss.contains("prev-archive"), "a custom feed has no archive pages");

    // Items carry the same ids as in the category feeds.
    let ids = |file: &str| -> Vec<String> {
        parse_feed(&doc(&site, file)).entries.into_iter().map(|e| e.id).collect()
    };
    let europe = ids("europe.atom");
    assert!(ids("world.atom").iter().any(|id| europe.contains(id)));

    // The category "World" is still served, under another slug; no archive for custom feeds.
    let world_category: Vec<&String> =
        site.feeds().keys().filter(|k| k.starts_with("world-") && k.ends_with(".atom")).collect();
    assert_eq!(world_category.len(), 1, "{:?}", site.feeds().keys().collect::<Vec<_>>());
    assert_eq!(feed_titles(&site, world_category[0]), ["A map of the world"]);
    assert!(!site.feeds().keys().any(|k| k.starts_with("world/") || k.starts_with("climate/")));

    // Listed after `all`, before the categories, with the count of every matching article.
    let listing = site.listing();
    let slugs: Vec<&str> = listing.iter().take(3).map(|f| f.slug.as_str()).collect();
    assert_eq!(slugs, ["all", "world", "climate"]);
    assert_eq!((listing[1].name.as_str(), listing[1].count), ("World news, no sport", 3));
    assert_eq!((listing[2].name.as_str(), listing[2].count), ("climate", 3));
}

#[test]
fn custom_feeds_are_served_mirrored_and_listed_like_the_others() {
    let content = copy_fixture("custom");
    let out = tempfile::tempdir().unwrap();
    let running = herald::serve::start(custom_config(content.path(), out.path())).unwrap();
    let addr = running.addr;

    for (ext, mime) in [
        ("rss", "application/rss+xml"),
        ("atom", "application/atom+xml"),
        ("json", "application/feed+json"),
    ] {
        let path = format!("/feeds/world.{ext}");
        let r = raw::get(addr, &path);
        assert_eq!(r.status, 200, "{path}");
        assert!(r.header("content-type").unwrap().starts_with(mime), "{path}: {:?}", r.headers);
        let etag = r.header("etag").unwrap().to_string();
        assert!(etag.starts_with('"'), "strong ETag: {etag}");
        assert!(r.header("last-modified").is_some());
        assert!(r.header("cache-control").unwrap().contains("max-age=300"));
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
        // Mirrored byte for byte.
        let mirrored = std::fs::read(out.path().join(format!("world.{ext}"))).unwrap();
        assert_eq!(mirrored, r.body, "{path} mirrored");
        let again = raw::get_with(addr, &path, &format!("If-None-Match: {etag}\r\n")).unwrap();
        assert_eq!(again.status, 304, "{path}");
        // Compressed on request, like every feed.
        let gz = raw::get_with(addr, &path, "Accept-Encoding: gzip\r\n").unwrap();
        assert_eq!(gz.header("content-encoding"), Some("gzip"), "{path}");
    }
    assert!(out.path().join("climate.json").is_file());

    let opml = String::from_utf8(raw::get(addr, "/feeds/index.opml").body).unwrap();
    assert!(
        opml.contains("text=\"World news, no sport\"")
            && opml.contains("xmlUrl=\"https://feeds.example.org/feeds/world.rss\"")
            && opml.contains("xmlUrl=\"https://feeds.example.org/feeds/climate.rss\""),
        "{opml}"
    );
    assert_eq!(std::fs::read_to_string(out.path().join("index.opml")).unwrap(), opml);

    let index = String::from_utf8(raw::get(addr, "/").body).unwrap();
    for needle in [
        "<link rel=\"alternate\" type=\"application/rss+xml\" title=\"World news, no sport (RSS)\" href=\"https://feeds.example.org/feeds/world.rss\">",
        "<link rel=\"alternate\" type=\"application/feed+json\" title=\"climate (JSON Feed)\" href=\"https://feeds.example.org/feeds/climate.json\">",
        "<h2>Selected feeds <span class=\"muted\">(2)</span></h2>",
        "data-slug=\"world\"",
        "<p class=\"meta\">3 articles",
        "<p class=\"meta rules\">in 国际 or Europe · not in 体育 · title without &quot;广告&quot; · newest 2</p>",
    ] {
        assert!(index.contains(needle), "index page lacks {needle}:\n{index}");
    }
    // The feed's page lists every matching article, the feed holds the newest two.
    let page = raw::get(addr, "/categories/world");
    assert_eq!(page.status, 200);
    let page = String::from_utf8(page.body).unwrap();
    for title in ["Climate summit opens in Paris", "全球气候峰会开幕", "Trade talks in Brussels"]
    {
        assert!(page.contains(title), "{title} missing from the page");
    }
    assert!(!page.contains("World Cup") && !page.contains("新品上市"), "{page}");
    assert!(page.contains("href=\"https://feeds.example.org/feeds/world.atom\""));
    // The 404 page names them before the categories.
    let missing = raw::get(addr, "/feeds/nope.rss");
    assert_eq!(missing.status, 404);
    let text = String::from_utf8(missing.body).unwrap();
    let selected = text.find("Selected feeds:\n  World news, no sport (3 articles)").unwrap();
    assert!(text.contains("https://feeds.example.org/feeds/climate.json"), "{text}");
    assert!(selected < text.find("Feeds by category:").unwrap(), "{text}");
    running.stop().unwrap();
}

#[test]
fn a_category_no_article_has_is_a_warning_of_herald_check_until_it_appears() {
    let content = copy_fixture("custom");
    let out = tempfile::tempdir().unwrap();
    let extra = "[content]\ngit_dates = false\n[[feeds.custom]]\nslug = \"typo\"\n\
                 categories = [\"Europe\", \"Eurpoe\"]\nexclude_categories = [\"Sport\"]\n";
    let cfg = config_with(content.path(), out.path(), extra);
    let mut site = Site::build(cfg).unwrap();
    let report = herald::check::Report::from_site(&site);
    assert_eq!(report.config_warnings.len(), 2, "{:?}", report.config_warnings);
    assert!(report.config_warnings[0].starts_with("feeds.custom[0].categories: "));
    assert!(report.config_warnings[0].contains("\"Eurpoe\""));
    assert!(report.config_warnings[1].starts_with("feeds.custom[0].exclude_categories: "));
    assert!(report.ok(), "a warning, not a failure");
    assert!(report.to_text().starts_with("config: feeds.custom[0].categories: "));
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["config_warnings"].as_array().unwrap().len(), 2);
    // The feed is served all the same, with the category that exists.
    assert_eq!(
        feed_titles(&site, "typo.rss"),
        ["Climate summit opens in Paris", "Trade talks in Brussels"]
    );

    // The category appears: the warning goes, the feed follows.
    std::fs::write(
        content.path().join("world/new.md"),
        "---\ntitle: Typos welcome\ndate: 2025-02-01\ncategory: Eurpoe\n---\n\nText.\n",
    )
    .unwrap();
    site.rescan();
    site.render_dirty();
    assert_eq!(site.config_warnings().len(), 1, "{:?}", site.config_warnings());
    assert_eq!(feed_titles(&site, "typo.rss")[0], "Typos welcome");
}

/// Write `text` to `rel` with a later mtime, so a rescan sees the change.
fn edit(root: &Path, rel: &str, from: &str, to: &str) {
    let path = root.join(rel);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{rel} lacks {from:?}");
    std::fs::write(&path, text.replace(from, to)).unwrap();
    set_mtime(&path, FIXED_MTIME + 100);
}

#[test]
fn only_changes_that_reach_a_custom_feed_render_it_again() {
    let content = copy_fixture("custom");
    let root = content.path();
    let out = tempfile::tempdir().unwrap();
    let mut site = Site::build(custom_config(root, out.path())).unwrap();
    let rendered = |report: &herald::site::RebuildReport, slug: &str| -> bool {
        report.changed_files.iter().any(|f| f.starts_with(&format!("{slug}.")))
    };

    // An article neither feed matches, before or after: neither is rendered.
    edit(root, "local/map.md", "exhibit opens", "exhibit opened");
    site.rescan();
    let report = site.render_dirty();
    assert!(report.changed_files.iter().any(|f| f.starts_with("world-")), "{report:?}");
    assert!(!rendered(&report, "world") && !rendered(&report, "climate"), "{report:?}");

    // A matching article past the cap (the third of `world`): planned, but its items are the
    // same, so nothing is written; `climate` does not match it.
    edit(root, "world/brussels.md", "went on late", "went on very late");
    site.rescan();
    let report = site.render_dirty();
    assert!(!rendered(&report, "world") && !rendered(&report, "climate"), "{report:?}");

    // A title edit makes it match `climate`: only that feed is written.
    edit(root, "world/brussels.md", "Trade talks", "Climate and trade talks");
    site.rescan();
    let report = site.render_dirty();
    assert!(rendered(&report, "climate") && !rendered(&report, "world"), "{report:?}");
    assert!(
        feed_titles(&site, "climate.atom").contains(&"Climate and trade talks in Brussels".into())
    );

    // An article that used to match and no longer does (now an advert): written again.
    edit(root, "world/paris.md", "Climate summit", "【广告】 summit");
    site.rescan();
    let report = site.render_dirty();
    assert!(rendered(&report, "world") && rendered(&report, "climate"), "{report:?}");
    assert_eq!(
        feed_titles(&site, "world.rss"),
        ["全球气候峰会开幕", "Climate and trade talks in Brussels"]
    );

    // Incremental rebuilds equal a cold build.
    let want = cold_build(&custom_config(root, out.path()));
    let got: crate::faults::Feeds =
        site.feeds().iter().map(|(n, d)| (n.clone(), d.identity().bytes.to_vec())).collect();
    assert!(got == want, "{}", diff_summary(&got, &want));
}

/// Poll the served feed until `check` holds for its titles (30 s at most).
fn eventually_titles(addr: std::net::SocketAddr, path: &str, check: impl Fn(&[String]) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = raw::get(addr, path);
        let titles = if r.status == 200 { titles(&parse_feed(&r.body)) } else { vec![] };
        if check(&titles) {
            return;
        }
        assert!(Instant::now() < deadline, "{path} never changed as expected: {titles:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn herald_serve_keeps_custom_feeds_current_when_titles_change() {
    let content = copy_fixture("custom");
    let root = content.path();
    let out = tempfile::tempdir().unwrap();
    let cfg = custom_config(root, out.path());
    let running = herald::serve::start(cfg.clone()).unwrap();
    let addr = running.addr;

    // Retitled to match: it joins `climate`.
    edit(root, "world/brussels.md", "Trade talks", "气候 and trade talks");
    eventually_titles(addr, "/feeds/climate.json", |t| {
        t.contains(&"气候 and trade talks in Brussels".to_string())
    });
    // Retitled not to match: it leaves `climate`; an advert leaves `world`, and the next
    // matching article takes its place.
    edit(root, "local/fair.md", "Harbour CLIMATE fair", "Harbour fair");
    eventually_titles(addr, "/feeds/climate.atom", |t| !t.iter().any(|t| t.contains("Harbour")));
    edit(root, "world/paris.md", "Climate summit", "【广告】 summit");
    eventually_titles(addr, "/feeds/world.rss", |t| {
        t == ["全球气候峰会开幕", "气候 and trade talks in Brussels"]
    });
    // The mirror follows, and the served feeds equal a cold build of the same tree.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !std::fs::read_to_string(out.path().join("world.rss")).unwrap().contains("气候 and trade")
    {
        assert!(Instant::now() < deadline, "the mirror never caught up");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (got, want) = (served(&running), cold_build(&cfg));
    assert!(got == want, "{}", diff_summary(&got, &want));
    running.stop().unwrap();
}
