//! Pages for people, end to end on `herald serve`: the index, category pages, article pages'
//! links, the embed script, and the feed stylesheets (which must leave the feeds valid).

use crate::support::*;
use std::collections::HashMap;
use std::path::Path;

const HOSTILE: &str = "<script>alert(1)</script>";

struct Answer {
    status: u16,
    headers: HashMap<String, String>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }
}

fn get(addr: std::net::SocketAddr, path: &str, headers: &[(&str, &str)]) -> Answer {
    let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    let r = raw::get_with(addr, path, &extra).unwrap_or_else(|e| panic!("GET {path}: {e}"));
    Answer {
        status: r.status,
        headers: r.headers.into_iter().collect(),
        body: String::from_utf8_lossy(&r.body).into_owned(),
    }
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    set_mtime(&path, FIXED_MTIME);
}

/// The `mixed` fixture plus a hostile category and a category with dated articles.
fn start() -> (herald::serve::Running, tempfile::TempDir, tempfile::TempDir) {
    let content = copy_fixture("mixed");
    let root = content.path();
    write(
        root,
        "hostile/x.md",
        &format!("---\ntitle: 'Hostile & <b>bold</b>'\ndate: 2022-03-03\ncategory: '{HOSTILE}'\n---\n\nBody.\n"),
    );
    for (file, title, date) in [
        ("old.md", "Old kite", "2020-01-01"),
        ("new.md", "New kite", "2024-06-01"),
        ("mid.md", "Mid kite", "2022-01-01"),
    ] {
        write(
            root,
            &format!("kites/{file}"),
            &format!("---\ntitle: \"{title}\"\ndate: {date}\ncategory: \"Kites & Co\"\n---\n\nAbout {title}.\n"),
        );
    }
    let out = tempfile::tempdir().unwrap();
    let running = herald::serve::start(config(root, out.path())).unwrap();
    (running, content, out)
}

fn slug_of(running: &herald::serve::Running, name: &str) -> String {
    running.current.load().listing.iter().find(|f| f.name == name).expect(name).slug.clone()
}

#[test]
fn index_lists_every_category_escaped_with_autodiscovery() {
    let (running, _content, _out) = start();
    let page = get(running.addr, "/", &[]);
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").starts_with("text/html"));
    let html = &page.body;
    let listing = running.current.load().listing.clone();
    assert!(listing.len() > 3);
    for f in &listing {
        let name = herald::http::pages::escape(&f.name);
        let plural = if f.count == 1 { "article" } else { "articles" };
        assert!(html.contains(&format!(">{name}</a></h3>")), "{} not listed", f.name);
        assert!(
            html.contains(&format!("data-name=\"{name}\""))
                && html.contains(&format!(">{} {plural}", f.count)),
            "{} without its count",
            f.name
        );
        for ext in ["rss", "atom"] {
            let url = herald::http::pages::escape(&format!(
                "https://feeds.example.org/feeds/{}.{ext}",
                herald::site::encode_path(&f.slug)
            ));
            assert!(
                html.contains(&format!(
                    "rel=\"alternate\" type=\"application/{ext}+xml\" title=\"{name} ("
                )),
                "no autodiscovery for {}",
                f.name
            );
            assert!(html.contains(&format!("href=\"{url}\"")), "no link to {url}");
        }
    }
    // The hostile name is text everywhere: in the list, the attributes and the embed snippet.
    assert!(!html.contains(HOSTILE));
    assert!(!html.contains("<b>bold</b>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("Hostile &amp; &lt;b&gt;bold&lt;/b&gt;"));
    // Only the page's own script; no external resources.
    assert_eq!(html.matches("<script").count(), 1, "one inline script");
    assert!(!html.contains("src=\"http"));
    // Categories link to their pages; every feed is also offered as JSON Feed.
    let kites = slug_of(&running, "Kites & Co");
    assert!(html.contains(&format!("href=\"https://feeds.example.org/categories/{kites}\"")));
    assert!(html.contains(&format!(
        "type=\"application/feed+json\" title=\"Kites &amp; Co (JSON Feed)\" href=\"https://feeds.example.org/feeds/{kites}.json\""
    )));
    running.stop().unwrap();
}

#[test]
fn category_page_lists_items_newest_first_and_404s() {
    let (running, _content, _out) = start();
    let kites = slug_of(&running, "Kites & Co");
    let page = get(running.addr, &format!("/categories/{kites}"), &[]);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.header("content-type").starts_with("text/html"));
    assert!(!page.header("etag").is_empty());
    let html = &page.body;
    assert!(html.contains("<h1>Kites &amp; Co</h1>"));
    let (new, mid, old) = (
        html.find(">New kite</a>").unwrap(),
        html.find(">Mid kite</a>").unwrap(),
        html.find(">Old kite</a>").unwrap(),
    );
    assert!(new < mid && mid < old, "newest first");
    assert!(html.contains("<time datetime=\"2024-06-01T00:00:00Z\">2024-06-01</time>"));
    assert!(html.contains("About New kite."));
    assert!(html.contains("href=\"https://feeds.example.org/articles/kites/new.md\""));
    assert!(html.contains(&format!(
        "<link rel=\"alternate\" type=\"application/rss+xml\" title=\"Kites &amp; Co (RSS)\" href=\"https://feeds.example.org/feeds/{kites}.rss\">"
    )));
    assert!(html.contains("type=\"application/atom+xml\" title=\"Kites &amp; Co (Atom)\""));
    // Revalidation: the cached page answers 304.
    let again = get(
        running.addr,
        &format!("/categories/{kites}"),
        &[("If-None-Match", page.header("etag"))],
    );
    assert_eq!(again.status, 304);

    // The hostile category's page escapes its name.
    let hostile = slug_of(&running, HOSTILE);
    let page =
        get(running.addr, &format!("/categories/{}", herald::site::encode_path(&hostile)), &[]);
    assert_eq!(page.status, 200);
    assert!(!page.body.contains(HOSTILE) && page.body.contains("&lt;script&gt;"));

    for path in [
        "/categories/no-such-category".to_string(),
        format!("/categories/{kites}?page=2"),
        format!("/categories/{kites}?page=0"),
        format!("/categories/{kites}?page=x"),
    ] {
        assert_eq!(get(running.addr, &path, &[]).status, 404, "{path}");
    }
    running.stop().unwrap();
}

#[test]
fn article_page_links_its_category_pages_and_feeds() {
    let (running, _content, _out) = start();
    let kites = slug_of(&running, "Kites & Co");
    let page = get(running.addr, "/articles/kites/new.md", &[]);
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&format!("href=\"https://feeds.example.org/categories/{kites}\"")));
    assert!(page.body.contains(&format!(
        "type=\"application/atom+xml\" title=\"Kites &amp; Co (Atom)\" href=\"https://feeds.example.org/feeds/{kites}.atom\""
    )));
    running.stop().unwrap();
}

#[test]
fn feeds_carry_the_stylesheet_and_still_parse() {
    let (running, _content, out) = start();
    for (file, kind) in [("rss.xsl", "RSS"), ("atom.xsl", "Atom")] {
        let xsl = get(running.addr, &format!("/feeds/{file}"), &[]);
        assert_eq!(xsl.status, 200);
        assert!(
            xsl.header("content-type").starts_with("text/xsl"),
            "{}",
            xsl.header("content-type")
        );
        assert!(xsl.header("cache-control").contains("max-age="));
        assert!(!xsl.header("etag").is_empty());
        assert!(
            xsl.body.contains("<xsl:stylesheet") && xsl.body.contains(&format!("an {kind} feed"))
        );
        assert!(xsl.body.contains("Subscribe"));
        let again =
            get(running.addr, &format!("/feeds/{file}"), &[("If-None-Match", xsl.header("etag"))]);
        assert_eq!(again.status, 304);
    }
    let snapshot = running.current.load();
    let mut checked = 0;
    for name in snapshot.feeds.keys() {
        let href = match name.rsplit('.').next() {
            Some("rss") => "rss.xsl",
            Some("atom") => "atom.xsl",
            _ => continue,
        };
        let path = format!("/feeds/{}", herald::site::encode_path(name));
        let feed = get(running.addr, &path, &[]);
        assert_eq!(feed.status, 200, "{name}");
        let pi = format!("?>\n<?xml-stylesheet type=\"text/xsl\" href=\"{href}\"?>\n<");
        assert!(
            feed.body.starts_with("<?xml ") && feed.body.contains(&pi),
            "{name}:\n{}",
            &feed.body[..200]
        );
        assert!(feed.body.find(&pi).unwrap() < 60, "the PI follows the declaration");
        parse_feed(feed.body.as_bytes());
        // The mirror holds the same bytes.
        assert_eq!(std::fs::read_to_string(out.path().join(name)).unwrap(), feed.body);
        checked += 1;
    }
    assert!(checked >= 8);
    running.stop().unwrap();
}

#[test]
fn browsers_get_feeds_as_xml_readers_as_feeds() {
    let (running, _content, _out) = start();
    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8";
    let page = get(running.addr, "/feeds/all.rss", &[("Accept", browser)]);
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-type"), "application/xml; charset=utf-8");
    assert!(page.header("vary").contains("Accept"));
    let reader = "application/rss+xml, application/atom+xml;q=0.9, text/html;q=0.1";
    let feed = get(running.addr, "/feeds/all.rss", &[("Accept", reader)]);
    assert_eq!(feed.header("content-type"), "application/rss+xml; charset=utf-8");
    assert_eq!(feed.body, page.body, "the same bytes either way");
    let plain = get(running.addr, "/feeds/all.atom", &[]);
    assert_eq!(plain.header("content-type"), "application/atom+xml; charset=utf-8");
    running.stop().unwrap();
}

#[test]
fn embed_script_is_cached_and_builds_no_markup() {
    let (running, _content, _out) = start();
    let js = get(running.addr, "/embed.js", &[]);
    assert_eq!(js.status, 200);
    assert_eq!(js.header("content-type"), "text/javascript; charset=utf-8");
    assert_eq!(js.header("cache-control"), "public, max-age=86400");
    assert_eq!(js.header("access-control-allow-origin"), "*");
    assert!(!js.header("etag").is_empty() && !js.header("last-modified").is_empty());
    assert!(js.body.contains("textContent"));
    for sink in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("] {
        assert!(!js.body.contains(sink), "embed.js uses {sink}");
    }
    // The index page offers a snippet that loads it from this server.
    let index = get(running.addr, "/", &[]);
    assert!(index
        .body
        .contains("&lt;script src=&quot;https://feeds.example.org/embed.js&quot; async&gt;"));
    running.stop().unwrap();
}
