//! Feed-ecosystem formats: JSON Feed 1.1, the OPML list, RFC 5005 archive pages, and
//! `herald check --json`.

use crate::support::*;
use actix_web::http::StatusCode;
use arc_swap::ArcSwap;
use herald::site::Site;
use quick_xml::events::Event;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Write article `i` (dated 2020-01-01 + i days) of category `category`.
fn write_article(root: &Path, i: usize, category: &str) {
    let day = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap() + chrono::Days::new(i as u64);
    let text = format!(
        "---\ntitle: Article {i:03}\ndate: {day}T08:00:00Z\ncategories: [{category}]\ntags: [t{}]\nsource: https://source.example/{i}\n---\n\nBody of article {i}, with *emphasis*.\n",
        i % 3
    );
    let path = root.join(format!("posts/{i:03}.md"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    set_mtime(&path, FIXED_MTIME);
}

/// `n` articles, alternating between the categories `Odd` and `Even`.
fn archive_site(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..n {
        write_article(dir.path(), i, if i % 2 == 0 { "Even" } else { "Odd" });
    }
    dir
}

/// Pages of 5, live feeds of 3 newest items.
fn archive_config(root: &Path, out: &Path) -> Arc<herald::config::Config> {
    config_with(
        root,
        out,
        "[content]\ngit_dates = false\n[feeds]\nitems = 3\narchive_page_size = 5\n",
    )
}

fn doc(site: &Site, file: &str) -> actix_web::web::Bytes {
    let doc = site.feeds().get(file).unwrap_or_else(|| {
        let mut names: Vec<_> = site.feeds().keys().collect();
        names.sort();
        panic!("{file} not among {names:?}")
    });
    doc.identity().into_owned().bytes
}

/// `(rel, href)` of every `<link>` / `<atom:link>` of the document (feed or channel level and
/// items alike: items only carry `alternate` and `via`).
fn links(xml: &[u8]) -> Vec<(String, String)> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut out = Vec::new();
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).expect("well-formed XML") {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) if matches!(e.name().0, "link" | "atom:link") => {
                let mut rel = None;
                let mut href = None;
                for a in e.attributes() {
                    let a = a.unwrap();
                    let v = a
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .unwrap()
                        .into_owned();
                    match a.key.0 {
                        "rel" => rel = Some(v),
                        "href" => href = Some(v),
                        _ => {}
                    }
                }
                if let (Some(rel), Some(href)) = (rel, href) {
                    out.push((rel, href));
                }
            }
            _ => {}
        }
        buf.clear();
    }
    out
}

fn link(xml: &[u8], rel: &str) -> Option<String> {
    links(xml).into_iter().find(|(r, _)| r == rel).map(|(_, h)| h)
}

/// The feed file name of an absolute feed URL.
fn file_of(url: &str) -> String {
    let path = url.strip_prefix("https://feeds.example.org/feeds/").expect("a feed URL");
    percent_encoding::percent_decode_str(path).decode_utf8().unwrap().into_owned()
}

fn ids(bytes: &[u8]) -> Vec<String> {
    parse_feed(bytes).entries.into_iter().map(|e| e.id).collect()
}

/// Walk from the live feed `{slug}.{ext}` along `prev-archive`: every entry id met, in order,
/// and the pages visited.
fn walk(site: &Site, slug: &str, ext: &str) -> (Vec<String>, Vec<String>) {
    let mut file = format!("{slug}.{ext}");
    let mut seen = Vec::new();
    let mut pages = Vec::new();
    loop {
        let bytes = &doc(site, &file);
        seen.extend(ids(bytes));
        match link(bytes, "prev-archive") {
            Some(url) => {
                file = file_of(&url);
                pages.push(file.clone());
            }
            None => break,
        }
        assert!(pages.len() < 100, "a prev-archive loop");
    }
    (seen, pages)
}

#[test]
fn json_feed_has_the_atom_items_and_the_required_fields() {
    let dir = copy_fixture("mixed");
    let out = tempfile::tempdir().unwrap();
    let site = Site::build(config(dir.path(), out.path())).unwrap();
    for slug in ["all", "山谷观察组", "valley-watch", "harbour-life", "talks", "reports"] {
        let json = &doc(&site, &format!("{slug}.json"));
        let atom = parse_feed(&doc(&site, &format!("{slug}.atom")));
        let feed = parse_feed(json);
        assert_eq!(feed.feed_type, feed_rs::model::FeedType::JSON);
        assert_eq!(feed.title.as_ref().unwrap().content, atom.title.as_ref().unwrap().content);
        assert_eq!(feed.entries.len(), atom.entries.len(), "{slug}");
        for (j, a) in feed.entries.iter().zip(&atom.entries) {
            assert_eq!(j.id, a.id);
            assert_eq!(j.title.as_ref().unwrap().content, a.title.as_ref().unwrap().content);
            assert_eq!(j.published, a.published);
            assert_eq!(j.updated, a.updated);
            assert_eq!(j.links[0].href, a.links[0].href);
            let cats = |e: &feed_rs::model::Entry| -> Vec<String> {
                e.categories.iter().map(|c| c.term.clone()).collect()
            };
            assert_eq!(cats(j), cats(a));
        }

        // JSON Feed 1.1's required fields, checked on the raw JSON.
        let v: serde_json::Value = serde_json::from_slice(json).unwrap();
        assert_eq!(v["version"], "https://jsonfeed.org/version/1.1");
        assert!(v["title"].as_str().is_some_and(|t| !t.is_empty()));
        assert_eq!(
            v["feed_url"].as_str().map(file_of).as_deref(),
            Some(format!("{slug}.json").as_str())
        );
        assert_eq!(v["home_page_url"], "https://feeds.example.org/");
        assert!(v["authors"][0]["name"].is_string());
        for item in v["items"].as_array().unwrap() {
            assert!(item["id"].as_str().is_some_and(|id| !id.is_empty()), "{item}");
            assert!(item["content_html"].is_string() || item["content_text"].is_string());
            for date in ["date_published", "date_modified"] {
                let d = item[date].as_str().unwrap();
                chrono::DateTime::parse_from_rfc3339(d).unwrap_or_else(|e| panic!("{d}: {e}"));
            }
            assert!(item["tags"].as_array().is_some_and(|t| !t.is_empty()));
        }
        assert_eq!(site.feeds()[&format!("{slug}.json")].content_type, herald::site::JSON_TYPE);
    }
    // The source link is external_url.
    let v: serde_json::Value = serde_json::from_slice(&doc(&site, "all.json")).unwrap();
    assert!(v["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["external_url"].as_str().is_some_and(|u| u.starts_with("http"))));
}

#[test]
fn opml_has_one_outline_per_feed() {
    let dir = copy_fixture("mixed");
    let out = tempfile::tempdir().unwrap();
    let mut site = Site::build(config(dir.path(), out.path())).unwrap();
    let outlines = |site: &Site| -> Vec<BTreeMap<String, String>> {
        let opml = doc(site, "index.opml");
        let mut reader = quick_xml::Reader::from_reader(&opml[..]);
        let mut out = Vec::new();
        let mut heads = BTreeSet::new();
        loop {
            match reader.read_event().expect("well-formed OPML") {
                Event::Eof => break,
                Event::Empty(e) | Event::Start(e) if e.name().0 == "outline" => {
                    out.push(
                        e.attributes()
                            .map(|a| {
                                let a = a.unwrap();
                                (
                                    a.key.0.to_string(),
                                    a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                        .unwrap()
                                        .into_owned(),
                                )
                            })
                            .collect(),
                    );
                }
                Event::Start(e) => {
                    heads.insert(e.name().0.to_string());
                }
                _ => {}
            }
        }
        for tag in ["opml", "head", "title", "dateCreated", "dateModified", "docs", "body"] {
            assert!(heads.contains(tag), "<{tag}> missing");
        }
        out
    };
    let list = outlines(&site);
    let listing = site.listing();
    assert_eq!(list.len(), listing.len());
    assert_eq!(list.len(), 6);
    for (o, f) in list.iter().zip(listing) {
        assert_eq!(o["type"], "rss");
        assert_eq!(o["text"], f.name);
        assert_eq!(o["title"], f.name);
        assert_eq!(file_of(&o["xmlUrl"]), format!("{}.rss", f.slug));
        assert_eq!(o["htmlUrl"], "https://feeds.example.org/");
    }
    let opml = String::from_utf8(doc(&site, "index.opml").to_vec()).unwrap();
    assert!(opml.contains("<opml version=\"2.0\">"));
    assert!(opml.contains("<docs>http://opml.org/spec2.opml</docs>"));
    assert_eq!(
        site.feeds()["index.opml"].content_type,
        herald::render::opml::CONTENT_TYPE,
        "text/x-opml"
    );

    // A new category appears in the list; the date is the newest item's, not "now".
    std::fs::write(
        dir.path().join("posts/new.md"),
        "---\ntitle: New\ndate: 2025-05-05T05:05:05Z\ncategory: Brand New\n---\n\nText.\n",
    )
    .unwrap();
    set_mtime(&dir.path().join("posts/new.md"), FIXED_MTIME);
    site.rescan();
    let report = site.render_dirty();
    assert!(report.changed_files.contains(&"index.opml".to_string()), "{report:?}");
    let list = outlines(&site);
    assert_eq!(list.len(), 7);
    assert!(list.iter().any(|o| o["text"] == "Brand New"));
    let opml = String::from_utf8(doc(&site, "index.opml").to_vec()).unwrap();
    let newest = site.listing().iter().filter_map(|f| f.updated).max().unwrap();
    let date = herald::render::rss::rfc822(newest);
    assert!(opml.contains(&format!("<dateModified>{date}</dateModified>")), "{opml}");
    assert!(opml.contains(&format!("<dateCreated>{date}</dateCreated>")), "{opml}");
    assert_eq!(date, "Mon, 05 May 2025 05:05:05 +0000");
    // Nothing changed: the list is not written again.
    site.rescan();
    assert!(!site.render_dirty().changed_files.contains(&"index.opml".to_string()));
}

/// Walk `slug`'s archive from its live feed: every one of its `total` articles is met, and
/// only the live feed's articles that the page it links also holds are met twice (RFC 5005
/// §4.2: a reader keeps the copy of the newest document). Returns the pages walked.
fn walk_all(site: &Site, slug: &str, ext: &str, total: usize) -> Vec<String> {
    let (seen, pages) = walk(site, slug, ext);
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), total, "{slug}.{ext}: every article: {seen:?}");
    let live: BTreeSet<String> = ids(&doc(site, &format!("{slug}.{ext}"))).into_iter().collect();
    let linked: BTreeSet<String> = match pages.first() {
        Some(page) => ids(&doc(site, page)).into_iter().collect(),
        None => BTreeSet::new(),
    };
    let twice: BTreeSet<&String> = live.intersection(&linked).collect();
    assert_eq!(seen.len(), total + twice.len(), "{slug}.{ext}: repeated beyond the overlap");
    pages
}

#[test]
fn walking_prev_archive_from_the_live_feed_reaches_every_article() {
    let dir = archive_site(23);
    let out = tempfile::tempdir().unwrap();
    let site = Site::build(archive_config(dir.path(), out.path())).unwrap();
    // `all`: 23 articles = 4 complete pages of 5 + 3; the live feed holds the 3 newest (the
    // open page) and links page 4; page 5 is the open page.
    for ext in ["atom", "rss"] {
        let pages = walk_all(&site, "all", ext, 23);
        assert_eq!(
            pages,
            (1..=4).rev().map(|n| format!("all/archive/{n}.{ext}")).collect::<Vec<_>>()
        );
        assert_eq!(ids(&doc(&site, &format!("all.{ext}"))).len(), 3);
    }
    // Page n holds articles 5n-5 … 5n-1 (oldest first numbering), newest first inside.
    let page2 = parse_feed(&doc(&site, "all/archive/2.atom"));
    assert_eq!(
        titles(&page2),
        ["Article 009", "Article 008", "Article 007", "Article 006", "Article 005"]
    );
    // Archive pages carry fh:archive and link current, prev-archive and next-archive.
    for ext in ["atom", "rss"] {
        let page = &doc(&site, &format!("all/archive/2.{ext}"));
        let text = std::str::from_utf8(page).unwrap();
        assert!(text.contains("xmlns:fh=\"http://purl.org/syndication/history/1.0\""));
        assert_eq!(text.matches("<fh:archive/>").count(), 1);
        assert_eq!(file_of(&link(page, "current").unwrap()), format!("all.{ext}"));
        assert_eq!(file_of(&link(page, "prev-archive").unwrap()), format!("all/archive/1.{ext}"));
        assert_eq!(file_of(&link(page, "next-archive").unwrap()), format!("all/archive/3.{ext}"));
        assert_eq!(file_of(&link(page, "self").unwrap()), format!("all/archive/2.{ext}"));
        let first = &doc(&site, &format!("all/archive/1.{ext}"));
        assert_eq!(link(first, "prev-archive"), None);
        // The newest complete page already links the open page, which is no archive.
        let four = &doc(&site, &format!("all/archive/4.{ext}"));
        assert_eq!(file_of(&link(four, "next-archive").unwrap()), format!("all/archive/5.{ext}"));
        let open = &doc(&site, &format!("all/archive/5.{ext}"));
        assert!(!std::str::from_utf8(open).unwrap().contains("fh:archive"));
        assert_eq!(link(open, "next-archive"), None);
        assert_eq!(ids(open).len(), 3);
        assert!(!site.feeds().contains_key(&format!("all/archive/6.{ext}")));
        assert!(!site.feeds().contains_key("all/archive/1.json"));
    }
    assert!((1..=4).all(|n| site.feeds()[&format!("all/archive/{n}.atom")].immutable));
    assert!(!site.feeds()["all/archive/5.atom"].immutable);
    assert!(!site.feeds()["all.atom"].immutable);

    // A category: 12 Even articles = 2 pages + 2; the live feed holds the 3 newest and links
    // page 2, whose newest article (Article 018) it holds too.
    let pages = walk_all(&site, "even", "atom", 12);
    assert_eq!(pages, ["even/archive/2.atom", "even/archive/1.atom"]);
    assert_eq!(
        titles(&parse_feed(&doc(&site, "even.atom"))),
        ["Article 022", "Article 020", "Article 018"]
    );
    assert_eq!(titles(&parse_feed(&doc(&site, "even/archive/2.atom")))[0], "Article 018");
    assert!(site.feeds().contains_key("even/archive/3.atom"));

    // Whatever the sizes: `feeds.items` items, every article reached.
    for (items, page_size) in [(1, 1), (2, 7), (4, 4), (5, 3), (7, 2), (30, 4)] {
        let out = tempfile::tempdir().unwrap();
        let text = format!(
            "[content]\ngit_dates = false\n[feeds]\nitems = {items}\narchive_page_size = {page_size}\n"
        );
        let site = Site::build(config_with(dir.path(), out.path(), &text)).unwrap();
        for (slug, total) in [("all", 23), ("even", 12), ("odd", 11)] {
            let pages = walk_all(&site, slug, "rss", total);
            let open = total % page_size;
            let live = ids(&doc(&site, &format!("{slug}.rss"))).len();
            assert_eq!(
                live,
                items.min(total).max(open),
                "{slug}: {items} items, pages of {page_size}"
            );
            assert_eq!(pages.len(), (total - live).div_ceil(page_size), "{slug}: {pages:?}");
        }
    }
}

#[test]
fn complete_pages_are_byte_identical_after_an_add_and_only_changed_pages_render() {
    let dir = archive_site(23);
    let out = tempfile::tempdir().unwrap();
    let mut site = Site::build(archive_config(dir.path(), out.path())).unwrap();
    let pages = |site: &Site| -> BTreeMap<String, Vec<u8>> {
        site.feeds()
            .iter()
            .filter(|(name, doc)| name.contains("/archive/") && doc.immutable)
            .map(|(name, doc)| (name.clone(), doc.identity().bytes.to_vec()))
            .collect()
    };
    let before = pages(&site);
    assert_eq!(before.len(), 2 * (4 + 2 + 2), "all: 4, Even: 2, Odd: 2 pages, RSS and Atom");

    // Two new articles: `all` page 5 completes (23 → 25); Odd grows from 11 to 13 articles,
    // its open page 3 changes.
    write_article(dir.path(), 23, "Odd");
    write_article(dir.path(), 25, "Odd");
    site.rescan();
    let report = site.render_dirty();
    let after = pages(&site);
    for (name, bytes) in &before {
        assert_eq!(after.get(name), Some(bytes), "{name} must not change when articles are added");
        assert!(!report.changed_files.contains(name), "{name} written again");
    }
    for new in ["all/archive/5.atom", "odd/archive/3.atom", "all/archive/6.atom"] {
        assert!(report.changed_files.contains(&new.to_string()), "{new}: {report:?}");
    }
    assert!(site.feeds()["all/archive/5.atom"].immutable);
    assert!(!site.feeds()["all/archive/6.atom"].immutable, "the new open page");
    assert!(!site.feeds()["odd/archive/3.atom"].immutable, "still open");
    // all: live + page 5 + open page 6; Odd: live + open page 3; Even: untouched.
    assert_eq!(report.feeds_rendered, 5, "{report:?}");
    assert!(!report.changed_files.iter().any(|f| f.starts_with("even")), "{report:?}");
    walk_all(&site, "all", "atom", 25);

    // Editing an old article changes its pages (new bytes, new ETag) and only those.
    let old = dir.path().join("posts/001.md");
    let text = std::fs::read_to_string(&old).unwrap().replace("Body of article 1", "Edited");
    std::fs::write(&old, text).unwrap();
    set_mtime(&old, FIXED_MTIME + 10);
    site.rescan();
    let report = site.render_dirty();
    let mut changed: Vec<&str> = report.changed_files.iter().map(String::as_str).collect();
    changed.sort();
    assert_eq!(
        changed,
        ["all/archive/1.atom", "all/archive/1.rss", "odd/archive/1.atom", "odd/archive/1.rss"]
    );
    assert_eq!(report.feeds_rendered, 2);

    // Deleting articles shrinks the archive: pages that no longer exist are removed.
    for i in 10..26 {
        let _ = std::fs::remove_file(dir.path().join(format!("posts/{i:03}.md")));
    }
    site.rescan();
    let report = site.render_dirty();
    assert!(report.removed_files.contains(&"all/archive/6.rss".to_string()), "{report:?}");
    assert!(
        !site.feeds().keys().any(|k| k.starts_with("all/archive/")
            && !k.starts_with("all/archive/1.")
            && !k.starts_with("all/archive/2.")
            && !k.starts_with("all/archive/3.")),
        "{:?}",
        site.feeds().keys().collect::<Vec<_>>()
    );
    walk_all(&site, "all", "rss", 10);
}

/// Every served document of `site`: name → bytes.
fn documents(site: &Site) -> BTreeMap<String, Vec<u8>> {
    site.feeds().iter().map(|(name, doc)| (name.clone(), doc.identity().bytes.to_vec())).collect()
}

/// Rebuilds look only at the pages at or newer than the oldest change (pages are numbered from
/// the oldest, so the older ones keep their articles): after changes at every depth of the
/// archive, each incremental rebuild must give exactly what a cold build gives.
#[test]
fn rebuilds_after_changes_at_every_depth_equal_a_cold_build() {
    let dir = archive_site(43);
    let out = tempfile::tempdir().unwrap();
    let cfg = archive_config(dir.path(), out.path());
    let mut site = Site::build(cfg.clone()).unwrap();
    let root = dir.path().to_path_buf();
    let edit = |i: usize, from: &str, to: &str| {
        let path = root.join(format!("posts/{i:03}.md"));
        let text = std::fs::read_to_string(&path).unwrap().replace(from, to);
        std::fs::write(&path, text).unwrap();
    };
    type Step<'a> = (&'a str, Box<dyn Fn() + 'a>);
    let steps: Vec<Step> = vec![
        (
            "retitle the oldest article",
            Box::new(|| edit(0, "title: Article 000", "title: Old one")),
        ),
        ("retitle one in the middle", Box::new(|| edit(20, "title: Article 020", "title: Mid"))),
        (
            "move the oldest to the top",
            Box::new(|| edit(1, "date: 2020-01-02", "date: 2021-01-02")),
        ),
        (
            "move the newest to the bottom",
            Box::new(|| edit(42, "date: 2020-02-12", "date: 2019-01-01")),
        ),
        ("change a category deep down", Box::new(|| edit(4, "[Even]", "[Odd]"))),
        ("share a source link", Box::new(|| edit(30, "source.example/30", "source.example/3"))),
        (
            "delete one in the middle",
            Box::new(|| std::fs::remove_file(root.join("posts/017.md")).unwrap()),
        ),
        ("add a new one", Box::new(|| write_article(&root, 60, "Even"))),
        (
            "add an old one",
            Box::new(|| {
                write_article(&root, 61, "Odd");
                edit(61, "date: 2020-03-02", "date: 2018-01-01");
            }),
        ),
    ];
    for (what, step) in steps {
        step();
        site.rescan();
        site.render_dirty();
        let cold = Site::build(cfg.clone()).unwrap();
        let (got, want) = (documents(&site), documents(&cold));
        let differ: BTreeSet<&String> = want
            .keys()
            .chain(got.keys())
            .filter(|name| got.get(*name) != want.get(*name))
            .collect();
        assert!(differ.is_empty(), "after \"{what}\": differs from a cold build: {differ:?}");
    }
}

#[test]
fn the_mirror_holds_json_opml_and_archive_pages() {
    let dir = archive_site(12);
    let out = tempfile::tempdir().unwrap();
    let mut site = Site::build(archive_config(dir.path(), out.path())).unwrap();
    let mirror = herald::publish::Mirror::new(out.path().to_path_buf());
    mirror.sync_all(&herald::serve::snapshot(&site)).unwrap();
    for file in [
        "all.json",
        "even.json",
        "index.opml",
        "all/archive/1.atom",
        "all/archive/2.rss",
        "all/archive/3.rss",
        "even/archive/1.atom",
    ] {
        assert_eq!(
            std::fs::read(out.path().join(file)).unwrap(),
            site.feeds()[file].identity().bytes,
            "{file}"
        );
    }
    // Fewer articles: the pages that went away leave the mirror, incrementally and in full.
    for i in 6..12 {
        std::fs::remove_file(dir.path().join(format!("posts/{i:03}.md"))).unwrap();
    }
    site.rescan();
    let report = site.render_dirty();
    let snapshot = herald::serve::snapshot(&site);
    mirror.update(&snapshot, &report.changed_files, &report.removed_files).unwrap();
    assert!(out.path().join("all/archive/1.atom").exists());
    assert!(!out.path().join("all/archive/3.rss").exists());
    assert!(!out.path().join("even/archive/1.atom").exists());
    std::fs::write(out.path().join("all/archive/9.atom"), "stale").unwrap();
    mirror.sync_all(&snapshot).unwrap();
    assert!(!out.path().join("all/archive/9.atom").exists());
}

/// Which documents are held packed (as gzip bytes only): the complete archive pages older
/// than the live feed. Whole: the pages the live feed still covers (the open page and any
/// complete page after the one its `prev-archive` links; edits of recent articles and added
/// articles render them again), the live feeds (the item cache holds views into their identity
/// bytes), and everything else.
fn packed_docs(site: &Site) -> BTreeSet<String> {
    site.feeds().iter().filter(|(_, d)| d.is_packed()).map(|(n, _)| n.clone()).collect()
}

#[test]
fn archive_pages_older_than_the_live_feed_are_held_packed() {
    // 12 articles, pages of 5, live feeds of 3: `all` has complete pages 1 and 2, the live
    // feed shows articles 11 to 7 and links page 1; page 2 and the open page 3 stay whole.
    let dir = archive_site(12);
    let out = tempfile::tempdir().unwrap();
    let cfg = archive_config(dir.path(), out.path());
    let mut site = Site::build(cfg.clone()).unwrap();
    let expected: BTreeSet<String> =
        ["all/archive/1.rss", "all/archive/1.atom"].map(String::from).into();
    assert_eq!(packed_docs(&site), expected);
    for (name, doc) in site.feeds() {
        // A packed page serves what the same bytes held whole would.
        let identity = doc.identity();
        let whole = herald::render::encode::Encoded::new(
            identity.bytes.to_vec(),
            doc.content_type,
            doc.last_modified,
        );
        assert_eq!(identity.etag, whole.identity_etag(), "{name}");
        assert_eq!(doc.gzip(), whole.gzip(), "{name}");
    }

    // Five more: the live feed links page 2 now, which was not rendered again (its articles
    // are the same) and is packed from then on; page 3 completes, whole (the live feed shows
    // it). The same documents are packed as in a cold build.
    for i in 12..17 {
        write_article(dir.path(), i, if i % 2 == 0 { "Even" } else { "Odd" });
    }
    site.rescan();
    let report = site.render_dirty();
    assert!(!report.changed_files.iter().any(|f| f.starts_with("all/archive/2.")), "{report:?}");
    assert!(site.feeds()["all/archive/2.atom"].is_packed());
    assert!(!site.feeds()["all/archive/3.atom"].is_packed());
    let cold = Site::build(cfg).unwrap();
    assert_eq!(packed_docs(&site), packed_docs(&cold));
    assert!(packed_docs(&site).len() >= 6, "{:?}", packed_docs(&site));
    for (name, doc) in site.feeds() {
        assert_eq!(**doc, *cold.feeds()[name], "{name}");
    }
}

/// `herald build` writes the files and exits: it hands each document to the mirror as it
/// renders it and holds none, never packing a page, yet writes the very bytes a server,
/// which holds pages packed, serves.
#[test]
fn a_build_for_the_files_writes_the_bytes_a_server_serves() {
    let dir = archive_site(17);
    let out = tempfile::tempdir().unwrap();
    let cfg = archive_config(dir.path(), out.path());
    let served = Site::build(cfg.clone()).unwrap();
    let files = tempfile::tempdir().unwrap();
    let staging = Arc::new(herald::publish::Staging::begin(files.path()).unwrap());
    let once = Site::build_staged(cfg, Arc::clone(&staging)).unwrap();
    assert!(!packed_docs(&served).is_empty());
    assert!(once.feeds().is_empty(), "a build holds no document");
    let written = staging.commit().unwrap();
    let mut names: Vec<&String> = served.feeds().keys().collect();
    names.sort();
    assert_eq!(written.iter().collect::<Vec<_>>(), names);
    assert_eq!(once.served_count(), names.len());
    for name in names {
        let on_disk = std::fs::read(files.path().join(name)).unwrap();
        assert_eq!(on_disk, served.feeds()[name].identity().bytes, "{name}");
        assert!(once.serves(name), "{name}");
    }
    assert!(!once.serves("gone.rss"));
}

#[actix_web::test]
async fn immutable_cache_control_only_on_complete_archive_pages() {
    let dir = archive_site(12);
    let out = tempfile::tempdir().unwrap();
    let cfg = archive_config(dir.path(), out.path());
    let site = Site::build(cfg.clone()).unwrap();
    let state = actix_web::web::Data::new(herald::http::AppState {
        snapshot: Arc::new(ArcSwap::from_pointee(herald::serve::snapshot(&site))),
        metrics: Default::default(),
    });
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = herald::http::server(state, listener).unwrap();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    let client = awc::Client::builder().timeout(Duration::from_secs(10)).finish();
    let get = |path: &str, headers: Vec<(&'static str, String)>| {
        let mut req = client.get(format!("http://{addr}{path}"));
        for (k, v) in headers {
            req = req.insert_header((k, v));
        }
        async move {
            let mut res = req.send().await.expect("request");
            let body = res.body().limit(1 << 22).await.unwrap().to_vec();
            let h = |n: &str| res.headers().get(n).map(|v| v.to_str().unwrap().to_string());
            (
                res.status(),
                h("cache-control"),
                h("content-type"),
                h("etag"),
                h("content-encoding"),
                body,
            )
        }
    };
    const IMMUTABLE: &str = "public, max-age=31536000, immutable";
    const NORMAL: &str = "public, max-age=300, stale-while-revalidate=300, stale-if-error=86400";
    for (path, cache, ctype) in [
        ("/feeds/all/archive/1.atom", IMMUTABLE, "application/atom+xml; charset=utf-8"),
        ("/feeds/all/archive/2.rss", IMMUTABLE, "application/rss+xml; charset=utf-8"),
        ("/feeds/all/archive/3.atom", NORMAL, "application/atom+xml; charset=utf-8"),
        ("/feeds/all.atom", NORMAL, "application/atom+xml; charset=utf-8"),
        ("/feeds/all.json", NORMAL, "application/feed+json; charset=utf-8"),
        ("/feeds/even.json", NORMAL, "application/feed+json; charset=utf-8"),
        ("/feeds/index.opml", NORMAL, "text/x-opml; charset=utf-8"),
    ] {
        let (status, cc, ct, etag, _, body) = get(path, vec![]).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(cc.as_deref(), Some(cache), "{path}");
        assert_eq!(ct.as_deref(), Some(ctype), "{path}");
        let file = path.strip_prefix("/feeds/").unwrap();
        assert_eq!(body, site.feeds()[file].identity().bytes, "{path}");
        // Conditional GET and compression work the same for every document.
        let etag = etag.unwrap();
        let (status, cc, ..) = get(path, vec![("If-None-Match", etag)]).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(cc.as_deref(), Some(cache), "304 of {path}");
        let (status, _, _, etag, coding, body) =
            get(path, vec![("Accept-Encoding", "br".into())]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(coding.as_deref(), Some("br"));
        assert_eq!(etag.as_deref(), Some(site.feeds()[file].br().etag.as_str()));
        assert_eq!(body, site.feeds()[file].br().bytes);
        let gzip = || vec![("Accept-Encoding", "gzip".to_string())];
        let (status, _, _, etag, coding, body) = get(path, gzip()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(coding.as_deref(), Some("gzip"));
        assert_eq!(etag.as_deref(), Some(site.feeds()[file].gzip().etag.as_str()));
        assert_eq!(body, site.feeds()[file].gzip().bytes);
        let mut revalidate = gzip();
        revalidate.push(("If-None-Match", etag.unwrap()));
        assert_eq!(get(path, revalidate).await.0, StatusCode::NOT_MODIFIED, "gzip 304 of {path}");
        // HEAD: the length of the identity bytes (inflated for an archive page), no body.
        let res = client.head(format!("http://{addr}{path}")).send().await.expect("HEAD");
        assert_eq!(res.status(), StatusCode::OK);
        let length = res.headers().get("content-length").map(|v| v.to_str().unwrap().to_string());
        assert_eq!(length, Some(site.feeds()[file].identity().bytes.len().to_string()), "{path}");
    }
    for path in
        ["/feeds/all/archive/4.atom", "/feeds/all/archive/1.json", "/feeds/nope/archive/1.rss"]
    {
        let (status, ..) = get(path, vec![]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    // The index page advertises the JSON feeds and the OPML list.
    let (_, _, _, _, _, body) = get("/", vec![]).await;
    let html = String::from_utf8(body).unwrap();
    assert!(html.contains("type=\"application/feed+json\""));
    assert!(html.contains("/feeds/index.opml"));
    handle.stop(true).await;
}

#[test]
fn check_json_through_the_binary() {
    let content = copy_fixture("mixed");
    let run = || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_herald"));
        for (key, _) in std::env::vars() {
            if key.starts_with("HERALD_") {
                cmd.env_remove(key);
            }
        }
        cmd.current_dir(content.path())
            .args(["check", "--json", "--content", "."])
            .output()
            .unwrap()
    };
    let clean = run();
    assert!(clean.status.success(), "{}", String::from_utf8_lossy(&clean.stderr));
    let v: serde_json::Value = serde_json::from_slice(&clean.stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["articles"], 9);
    for key in ["files", "drafts", "index_pages", "skipped", "warnings"] {
        assert!(v[key].is_u64(), "{key}");
    }
    let dates = v["date_sources"].as_array().unwrap();
    assert_eq!(dates.len() as u64, v["articles"].as_u64().unwrap() + v["drafts"].as_u64().unwrap());
    assert!(
        dates
            .iter()
            .any(|d| d["path"] == "talks/2019/06/20190614-70000001.md"
                && d["published"] == "file name"),
        "{dates:?}"
    );
    assert_eq!(v["problems"].as_array().unwrap().len() as u64, v["warnings"].as_u64().unwrap());

    std::fs::write(content.path().join("posts/empty.md"), "").unwrap();
    let broken = run();
    assert_eq!(broken.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&broken.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["skipped"], 1);
    let problem = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["path"] == "posts/empty.md")
        .expect("the skipped file is a problem");
    assert!(problem["message"].as_str().unwrap().starts_with("skipped"));
}

#[test]
fn archive_pages_carry_summaries_but_no_bodies_and_live_feeds_carry_bodies() {
    let dir = archive_site(12);
    let out = tempfile::tempdir().unwrap();
    let site = Site::build(archive_config(dir.path(), out.path())).unwrap();
    let page = parse_feed(&doc(&site, "all/archive/1.atom"));
    assert_eq!(page.entries.len(), 5);
    for e in &page.entries {
        assert!(e.content.is_none(), "an archive entry has no body");
        assert!(e.summary.as_ref().is_some_and(|s| s.content.contains("Body of article")));
    }
    let rss = String::from_utf8_lossy(&doc(&site, "all/archive/1.rss")).into_owned();
    assert!(!rss.contains("content:encoded>"), "no content:encoded on archive pages");
    let live = parse_feed(&doc(&site, "all.atom"));
    assert!(live.entries.iter().all(|e| e
        .content
        .as_ref()
        .and_then(|c| c.body.as_ref())
        .is_some_and(|b| b.contains("<em>emphasis</em>"))));
}

/// Bug: the open page that follows a page just completed has no articles, and was dated
/// 1970 (RSS pubDate, Atom updated, Last-Modified); the W3C validator calls that an
/// implausible date. It carries the date of the newest article older than it: the newest
/// complete page's.
#[test]
fn an_empty_open_page_is_dated_by_the_newest_article_before_it() {
    let updated = |site: &Site, file: &str| {
        let xml = String::from_utf8(doc(site, file).to_vec()).unwrap();
        let at = xml.find("<updated>").expect("an updated date") + "<updated>".len();
        xml[at..at + 25].to_string()
    };
    let dir = archive_site(20); // all: 4 complete pages of 5, then the empty open page 5
    let out = tempfile::tempdir().unwrap();
    let cfg = archive_config(dir.path(), out.path());
    let mut site = Site::build(cfg.clone()).unwrap();
    let atom = String::from_utf8(doc(&site, "all/archive/5.atom").to_vec()).unwrap();
    assert!(!atom.contains("<entry>"), "the open page is empty: {atom}");
    assert_eq!(updated(&site, "all/archive/5.atom"), updated(&site, "all/archive/4.atom"));
    let rss = String::from_utf8(doc(&site, "all/archive/5.rss").to_vec()).unwrap();
    assert!(!rss.contains("1970") && !atom.contains("1970"), "{rss}\n{atom}");
    assert!(site.feeds()["all/archive/5.atom"].last_modified.timestamp() > 0);

    // The newest article changes (a day later): the empty page follows, as in a cold build.
    let path = dir.path().join("posts/019.md");
    let text = std::fs::read_to_string(&path).unwrap().replace("Article 019", "Article 19");
    std::fs::write(&path, text).unwrap();
    set_mtime(&path, FIXED_MTIME + 86_400);
    site.rescan();
    site.render_dirty();
    let cold = Site::build(cfg).unwrap();
    assert_eq!(&doc(&site, "all/archive/5.atom"), &doc(&cold, "all/archive/5.atom"));
    assert_eq!(updated(&site, "all/archive/5.atom"), "2020-09-14T12:26:40+00:00");
}
