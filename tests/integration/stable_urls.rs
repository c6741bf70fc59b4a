//! Stable URLs: a feed or category URL Herald once served answers 301 to where the category
//! is now, or 410 when it is gone, on a running server and after a restart.

use crate::support::*;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

const BASE: &str = "https://feeds.example.org";
/// One item per feed and one article per archive page, so the two `talks` articles make
/// archive pages.
const SMALL_PAGES: &str =
    "[feeds]\nitems = 1\narchive_page_size = 1\n[content]\ngit_dates = false\n";

fn request(addr: SocketAddr, method: &str, path: &str) -> raw::Response {
    raw::send(
        addr,
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

/// Poll `path` until its status is `status` (30 s at most, then fail with the last answer).
#[track_caller]
fn eventually_status(addr: SocketAddr, path: &str, status: u16) -> raw::Response {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = raw::get(addr, path);
        if r.status == status {
            return r;
        }
        assert!(
            Instant::now() < deadline,
            "{path} never answered {status}; last {}: {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `path` answers 301 to `to` (a path below the base URL), with the redirect's headers, and
/// following it gives 200.
#[track_caller]
fn assert_moved(addr: SocketAddr, path: &str, to: &str) {
    let r = raw::get(addr, path);
    assert_eq!(r.status, 301, "{path}: {}", String::from_utf8_lossy(&r.body));
    let location = r.header("location").expect("a Location");
    assert_eq!(location, format!("{BASE}{to}"), "{path}");
    assert_eq!(r.header("cache-control"), Some("public, max-age=86400"), "{path}");
    assert!(String::from_utf8_lossy(&r.body).contains(location), "the body says where");
    let followed = raw::get(addr, location.strip_prefix(BASE).unwrap());
    assert_eq!(followed.status, 200, "{path} → {location}");
}

#[track_caller]
fn assert_gone(addr: SocketAddr, path: &str, name: &str) {
    let r = raw::get(addr, path);
    assert_eq!(r.status, 410, "{path}: {}", String::from_utf8_lossy(&r.body));
    let body = String::from_utf8_lossy(&r.body);
    assert!(body.contains(name), "names the category: {body}");
    assert!(
        body.contains(&format!("{BASE}/feeds/index.opml")) && body.contains(&format!("{BASE}/"))
    );
    assert!(r.header("cache-control").is_some_and(|c| c.contains("max-age=")), "{path}");
}

fn rename(root: &Path, from: &str, to: &str) {
    std::fs::rename(root.join(from), root.join(to)).unwrap();
}

#[test]
fn a_renamed_folder_redirects_a_deleted_category_is_gone_and_both_survive_a_restart() {
    let content = copy_fixture("mixed");
    let out = tempfile::tempdir().unwrap();
    let root = content.path();
    let running = herald::serve::start(config_with(root, out.path(), SMALL_PAGES)).unwrap();
    let addr = running.addr;
    for path in ["/feeds/talks.rss", "/feeds/reports.atom", "/feeds/talks/archive/1.rss"] {
        assert_eq!(raw::get(addr, path).status, 200, "{path} before the changes");
    }
    assert_eq!(raw::get(addr, "/feeds/lectures.rss").status, 404, "never served: 404");

    // A folder rename: category `talks` becomes `lectures`.
    rename(root, "talks", "lectures");
    eventually_status(addr, "/feeds/talks.rss", 301);
    eventually_status(addr, "/feeds/lectures.rss", 200);
    let redirects = [
        ("/feeds/talks.rss", "/feeds/lectures.rss"),
        ("/feeds/talks.atom", "/feeds/lectures.atom"),
        ("/feeds/talks.json", "/feeds/lectures.json"),
        ("/feeds/talks/archive/1.rss", "/feeds/lectures/archive/1.rss"),
        ("/feeds/talks/archive/1.atom", "/feeds/lectures/archive/1.atom"),
        // No such page of the new feed: its live feed, which links the archive.
        ("/feeds/talks/archive/99.rss", "/feeds/lectures.rss"),
        ("/categories/talks", "/categories/lectures"),
        ("/categories/talks?page=1", "/categories/lectures?page=1"),
    ];
    for (from, to) in redirects {
        assert_moved(addr, from, to);
    }
    let feed = raw::get(addr, "/feeds/talks.rss");
    assert_eq!(feed.header("access-control-allow-origin"), Some("*"), "CORS on a feed redirect");
    let head = request(addr, "HEAD", "/feeds/talks.atom");
    assert_eq!(head.status, 301);
    assert_eq!(head.header("location"), Some(&*format!("{BASE}/feeds/lectures.atom")));
    assert!(head.body.is_empty(), "HEAD has no body");
    let options = request(addr, "OPTIONS", "/feeds/talks.rss");
    assert_eq!(options.status, 204);
    assert_eq!(options.header("access-control-allow-origin"), Some("*"));
    for (path, status) in [
        ("/feeds/talks.opml", 404),
        ("/feeds/talks/archive/01.rss", 404),
        ("/feeds/talks/archive/1.json", 404),
        ("/feeds/never-served.rss", 404),
        ("/categories/never-served", 404),
    ] {
        assert_eq!(raw::get(addr, path).status, status, "{path}");
    }

    // Every article of a category deleted: its URLs are gone.
    let reports = "reports/2024/04/2500002.md";
    let kept = std::fs::read(root.join(reports)).unwrap();
    std::fs::remove_file(root.join(reports)).unwrap();
    eventually_status(addr, "/feeds/reports.rss", 410);
    for path in ["/feeds/reports.rss", "/feeds/reports.json", "/categories/reports"] {
        assert_gone(addr, path, "reports");
    }
    let head = request(addr, "HEAD", "/feeds/reports.atom");
    assert_eq!((head.status, head.body.len()), (410, 0));
    assert_eq!(head.header("access-control-allow-origin"), Some("*"));

    // Both persist across a restart on the same mirror folder.
    running.stop().unwrap();
    assert!(out.path().join(".herald-slugs").is_file());
    let running = herald::serve::start(config_with(root, out.path(), SMALL_PAGES)).unwrap();
    let addr = running.addr;
    for (from, to) in redirects {
        assert_moved(addr, from, to);
    }
    assert_gone(addr, "/feeds/reports.atom", "reports");

    // A slug that comes back into use is served again.
    std::fs::write(root.join(reports), kept).unwrap();
    eventually_status(addr, "/feeds/reports.rss", 200);
    assert_eq!(raw::get(addr, "/categories/reports").status, 200);
    // And the renamed folder renamed back: the new slug now redirects to the old one.
    rename(root, "lectures", "talks");
    eventually_status(addr, "/feeds/lectures.rss", 301);
    assert_moved(addr, "/feeds/lectures.rss", "/feeds/talks.rss");
    assert_eq!(raw::get(addr, "/feeds/talks.rss").status, 200);
    running.stop().unwrap();
}

/// A rename that reaches Herald as a delete, then (in a later rebuild) an add: the old slug
/// is 410 in between and becomes a redirect once the articles are back under a new name.
#[test]
fn a_rename_seen_as_a_delete_then_an_add_ends_as_a_redirect() {
    let content = copy_fixture("mixed");
    let out = tempfile::tempdir().unwrap();
    let root = content.path();
    let running = herald::serve::start(config(root, out.path())).unwrap();
    let addr = running.addr;
    let aside = tempfile::tempdir().unwrap();
    copy_tree(&root.join("talks"), aside.path());
    std::fs::remove_dir_all(root.join("talks")).unwrap();
    eventually_status(addr, "/feeds/talks.rss", 410);
    copy_tree(aside.path(), &root.join("lectures"));
    eventually_status(addr, "/feeds/talks.rss", 301);
    assert_moved(addr, "/feeds/talks.rss", "/feeds/lectures.rss");
    running.stop().unwrap();
}

#[test]
fn a_front_matter_rename_redirects_to_the_new_category() {
    let content = copy_fixture("mixed");
    let out = tempfile::tempdir().unwrap();
    let root = content.path();
    let running = herald::serve::start(config(root, out.path())).unwrap();
    let addr = running.addr;
    assert_eq!(raw::get(addr, "/feeds/harbour-life.rss").status, 200);
    // Both articles of "Harbour Life" now say "Harbor Life"; one keeps its second category.
    for file in ["posts/ferries.md", "posts/2023-05-01-kites.md"] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        std::fs::write(root.join(file), text.replace("Harbour Life", "Harbor Life")).unwrap();
    }
    eventually_status(addr, "/feeds/harbour-life.rss", 301);
    assert_moved(addr, "/feeds/harbour-life.rss", "/feeds/harbor-life.rss");
    assert_moved(addr, "/categories/harbour-life", "/categories/harbor-life");
    running.stop().unwrap();
}

#[test]
fn configured_redirects_and_a_changed_slug_override_answer_301() {
    let content = copy_fixture("mixed");
    let out = tempfile::tempdir().unwrap();
    let root = content.path();
    let running = herald::serve::start(config(root, out.path())).unwrap();
    assert_eq!(raw::get(running.addr, "/feeds/harbour-life.rss").status, 200);
    running.stop().unwrap();

    // Restarted with an override for "Harbour Life" and two configured redirects.
    let extra = "[content]\ngit_dates = false\n\
                 [feeds.slugs]\n\"Harbour Life\" = \"harbour\"\n\
                 [feeds.redirects]\n\"old-talks\" = \"talks\"\n\"ancient\" = \"old-talks\"\n\
                 \"port\" = \"harbour-life\"\n";
    let running = herald::serve::start(config_with(root, out.path(), extra)).unwrap();
    let addr = running.addr;
    assert_moved(addr, "/feeds/harbour-life.rss", "/feeds/harbour.rss");
    assert_moved(addr, "/categories/harbour-life", "/categories/harbour");
    assert_moved(addr, "/feeds/old-talks.atom", "/feeds/talks.atom");
    assert_moved(addr, "/feeds/ancient.json", "/feeds/talks.json");
    assert_moved(addr, "/categories/old-talks", "/categories/talks");
    // A configured redirect to a slug that itself moved: straight to the end of the chain.
    assert_moved(addr, "/feeds/port.rss", "/feeds/harbour.rss");
    running.stop().unwrap();
}

#[test]
fn a_corrupt_record_is_set_aside_and_serving_works() {
    let content = copy_fixture("mixed");
    let out = tempfile::tempdir().unwrap();
    let root = content.path();
    std::fs::write(out.path().join(".herald-slugs"), b"{\"herald_slugs\": 1, \"slugs\": [")
        .unwrap();
    let running = herald::serve::start(config(root, out.path())).unwrap();
    let addr = running.addr;
    assert_eq!(raw::get(addr, "/feeds/talks.rss").status, 200);
    assert_eq!(raw::get(addr, "/feeds/gone-before.rss").status, 404);
    let aside = std::fs::read(out.path().join(".herald-slugs.corrupt")).unwrap();
    assert_eq!(aside, b"{\"herald_slugs\": 1, \"slugs\": [", "the old file is kept for a person");
    let fresh = std::fs::read(out.path().join(".herald-slugs")).unwrap();
    let record = herald::redirects::Record::decode(&fresh).unwrap();
    assert_eq!(record.slugs.get("talks").map(String::as_str), Some("talks"));
    // The new record works: a rename is redirected.
    rename(root, "talks", "lectures");
    eventually_status(addr, "/feeds/talks.rss", 301);
    assert_moved(addr, "/feeds/talks.rss", "/feeds/lectures.rss");
    running.stop().unwrap();
}
