//! `herald serve`'s whole loop: files change, the served feeds follow.

use crate::support::*;
use std::path::Path;
use std::time::{Duration, Instant};

/// GET `path` from the running server; `(status, body)`.
fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let r = raw::get(addr, path);
    (r.status, String::from_utf8_lossy(&r.body).into_owned())
}

/// Poll until `check` holds for the served `path` (30 s at most, then fail with the last body).
fn eventually(
    addr: std::net::SocketAddr,
    path: &str,
    what: &str,
    check: impl Fn(u16, &str) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = get(addr, path);
        if check(status, &body) {
            return;
        }
        if Instant::now() > deadline {
            panic!("{what}: {path} never changed as expected; last answer {status}:\n{body}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Poll `done` for 30 s at most; fail the test if it never holds.
#[track_caller]
fn wait_for(done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "condition never held");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn article(title: &str, category: &str, date: &str) -> String {
    format!("---\ntitle: \"{title}\"\ndate: {date}\ncategory: \"{category}\"\n---\n\nBody of {title}.\n")
}

#[test]
fn served_feeds_follow_adds_edits_renames_moves_and_deletes() {
    let content = copy_fixture("mixed");
    let out = tempfile::tempdir().unwrap();
    let root = content.path();
    let running = herald::serve::start(config(root, out.path())).unwrap();
    let addr = running.addr;
    let (status, _) = get(addr, "/feeds/all.atom");
    assert_eq!(status, 200);

    // Add: a new article in a new category appears in `all` and gets its own feed.
    write(root, "posts/lanterns.md", &article("Lantern walk", "Night Market", "2025-01-10"));
    eventually(addr, "/feeds/night-market.rss", "add", |s, b| {
        s == 200 && b.contains("Lantern walk")
    });
    eventually(addr, "/feeds/all.atom", "add", |_, b| b.contains("Lantern walk"));
    // The mirror is written right after the swap: wait for it too.
    wait_for(|| {
        std::fs::read_to_string(out.path().join("night-market.atom"))
            .is_ok_and(|t| t.contains("Lantern walk"))
    });

    // Edit: the title changes in place.
    write(
        root,
        "posts/lanterns.md",
        &article("Lantern walk moved to Friday", "Night Market", "2025-01-10"),
    );
    eventually(addr, "/feeds/night-market.atom", "edit", |_, b| {
        b.contains("Lantern walk moved to Friday")
    });

    // Rename within a folder: still one entry, at the new link.
    std::fs::rename(root.join("posts/lanterns.md"), root.join("posts/lantern-walk.md")).unwrap();
    eventually(addr, "/feeds/night-market.atom", "rename", |_, b| {
        b.contains("articles/posts/lantern-walk.md") && !b.contains("articles/posts/lanterns.md")
    });

    // Move a whole folder: its articles follow.
    std::fs::rename(root.join("talks"), root.join("archive-talks")).unwrap();
    eventually(addr, "/feeds/all.atom", "folder move", |_, b| {
        b.contains("articles/archive-talks/2019/06/") && !b.contains("articles/talks/2019/06/")
    });
    eventually(addr, "/feeds/archive-talks.atom", "folder move", |s, _| s == 200);
    // The old feed is no longer served; its URL redirects to the new one (see stable_urls.rs).
    eventually(addr, "/feeds/talks.atom", "folder move", |s, _| s == 301);

    // Delete: the article leaves, and a category left empty loses its feed and its files
    // (its URL answers 410 Gone).
    std::fs::remove_file(root.join("posts/lantern-walk.md")).unwrap();
    eventually(addr, "/feeds/night-market.rss", "delete", |s, _| s == 410);
    eventually(addr, "/feeds/all.atom", "delete", |_, b| !b.contains("Lantern walk"));
    wait_for(|| !out.path().join("night-market.rss").exists());

    // Noise: editor swap files and .git churn change nothing and break nothing.
    write(root, "posts/.lanterns.md.swp", "garbage");
    write(root, ".git/objects/ab/cdef", "garbage");
    write(root, "posts/after-noise.md", &article("After the noise", "Harbour Life", "2025-02-01"));
    eventually(addr, "/feeds/harbour-life.atom", "noise", |_, b| b.contains("After the noise"));
    running.stop().unwrap();
}

#[test]
fn a_burst_of_many_files_ends_with_every_feed_current() {
    let content = copy_fixture("mixed");
    let out = tempfile::tempdir().unwrap();
    let root = content.path();
    let running = herald::serve::start(config_with(
        root,
        out.path(),
        "[feeds]\nitems = 500\n[content]\ngit_dates = false\n",
    ))
    .unwrap();
    for i in 0..300 {
        write(
            root,
            &format!("bulk/{:03}/note.md", i),
            &article(&format!("Bulk note {i:03}"), "Bulk", "2025-03-01"),
        );
    }
    eventually(running.addr, "/feeds/bulk.atom", "burst", |s, b| {
        s == 200 && b.matches("<entry>").count() == 300
    });
    running.stop().unwrap();
}

/// Every served document, identity and gzip, with its tags: (name, coding) → (ETag, body).
fn served_documents(
    addr: std::net::SocketAddr,
    names: &[String],
) -> std::collections::BTreeMap<(String, bool), (String, Vec<u8>)> {
    let mut out = std::collections::BTreeMap::new();
    for name in names {
        for gzip in [false, true] {
            let extra = if gzip { "Accept-Encoding: gzip\r\n" } else { "" };
            let path = format!("/feeds/{}", herald::site::encode_path(name));
            let r = raw::get_with(addr, &path, extra).unwrap();
            assert_eq!(r.status, 200, "{name}");
            let etag = r.header("etag").expect("an ETag").to_string();
            out.insert((name.clone(), gzip), (etag, r.body));
        }
    }
    out
}

/// Once no rebuild rendered anything for `pack_after`, the documents are held gzip-compressed
/// only. What is served does not change (bytes and tags, identity and gzip), the gauge says
/// nothing is held whole, and an edit afterwards is served as before, then packed again.
#[test]
fn documents_are_packed_once_quiet_and_served_the_same() {
    let content = copy_fixture("mixed");
    let out = tempfile::tempdir().unwrap();
    let root = content.path();
    let options = herald::serve::Options {
        pack_after: Duration::from_millis(300),
        ..herald::serve::Options::default()
    };
    let cfg = config_with(
        root,
        out.path(),
        "[feeds]\nitems = 2\narchive_page_size = 2\n[content]\ngit_dates = false\n",
    );
    let running = herald::serve::start_with(cfg, options).unwrap();
    let addr = running.addr;
    let snapshot = running.current.load_full();
    let mut names: Vec<String> = snapshot.feeds.keys().cloned().collect();
    names.sort();
    assert!(names.iter().any(|n| n.contains("/archive/")), "{names:?}");
    let whole = |s: &herald::publish::Snapshot| s.feeds.values().filter(|d| !d.is_packed()).count();
    assert!(whole(&snapshot) > 0, "the live feeds are rendered whole");
    let before = served_documents(addr, &names);
    drop(snapshot);

    wait_for(|| whole(&running.current.load()) == 0);
    assert_eq!(served_documents(addr, &names), before, "packing changes nothing served");
    let metrics = String::from_utf8(raw::get(addr, "/metrics").body).unwrap();
    assert!(metrics.contains("\nherald_feed_documents_uncompressed 0\n"), "{metrics}");

    write(root, "posts/lanterns.md", &article("Lantern walk", "Night Market", "2025-01-10"));
    eventually(addr, "/feeds/all.rss", "add", |_, b| b.contains("Lantern walk"));
    wait_for(|| whole(&running.current.load()) == 0);
    let (_, packed) = get(addr, "/feeds/all.rss");
    assert!(packed.contains("Lantern walk"));
    wait_for(|| std::fs::read_to_string(out.path().join("all.rss")).is_ok_and(|f| f == packed));
    running.stop().unwrap();
}
