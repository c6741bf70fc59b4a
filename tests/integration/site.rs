//! Cold builds of the `mixed` fixture.

use crate::support::*;
use herald::site::Site;
use std::collections::BTreeSet;

fn build(root: &std::path::Path) -> Site {
    let out = tempfile::tempdir().unwrap();
    Site::build(config(root, out.path())).unwrap()
}

fn feed(site: &Site, file: &str) -> feed_rs::model::Feed {
    let doc = site.feeds().get(file).unwrap_or_else(|| {
        let mut names: Vec<_> = site.feeds().keys().collect();
        names.sort();
        panic!("no feed {file}; feeds: {names:?}")
    });
    parse_feed(&doc.identity().bytes)
}

#[test]
fn can_build_a_feed_per_category_and_one_for_everything() {
    let dir = copy_fixture("mixed");
    let site = build(dir.path());
    let names: BTreeSet<&str> = site.feeds().keys().map(String::as_str).collect();
    for slug in ["all", "山谷观察组", "valley-watch", "harbour-life", "talks", "reports"] {
        assert!(
            names.contains(format!("{slug}.rss").as_str()),
            "{slug}.rss missing from {names:?}"
        );
        assert!(
            names.contains(format!("{slug}.atom").as_str()),
            "{slug}.atom missing from {names:?}"
        );
    }
    assert_eq!(names.len(), 19, "RSS, Atom and JSON of 6 feeds plus index.opml: {names:?}");
}

#[test]
fn index_pages_drafts_and_other_files_are_not_articles() {
    let dir = copy_fixture("mixed");
    let site = build(dir.path());
    let paths: BTreeSet<&str> = site.index().articles().map(|a| a.path.as_str()).collect();
    assert!(!paths.contains("README.md"), "the index page is not an article");
    assert!(!paths.contains("posts/secret-plans.md"), "drafts never appear");
    assert!(paths.contains("slot/17/README.md"), "an article named README.md is an article");
    assert_eq!(paths.len(), 9, "{paths:?}");
    let all = feed(&site, "all.atom");
    assert!(!titles(&all).iter().any(|t| t.contains("Not ready")));
}

#[test]
fn feeds_are_newest_first_and_round_trip_through_feed_rs() {
    let dir = copy_fixture("mixed");
    let site = build(dir.path());
    for ext in ["rss", "atom"] {
        let all = feed(&site, &format!("all.{ext}"));
        assert_eq!(all.entries.len(), 9);
        let dates: Vec<_> =
            all.entries.iter().map(|e| e.published.expect("every entry has a date")).collect();
        let mut sorted = dates.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(dates, sorted, "{ext}: newest first");
        assert_eq!(all.entries[0].title.as_ref().unwrap().content, "河边步道重新开放");

        let harbour = feed(&site, &format!("harbour-life.{ext}"));
        assert_eq!(titles(&harbour), ["Kites over the harbour", "Ferry timetable changes"]);
        let kites = &harbour.entries[0];
        assert_eq!(
            kites.links[0].href,
            "https://feeds.example.org/articles/posts/2023-05-01-kites.md"
        );
        let terms: BTreeSet<&str> = kites.categories.iter().map(|c| c.term.as_str()).collect();
        assert!(
            terms.is_superset(&BTreeSet::from(["Harbour Life", "Valley Watch", "kites", "spring"])),
            "{terms:?}"
        );
        assert_eq!(kites.published.unwrap().to_rfc3339(), "2023-05-01T07:30:00+00:00");
        let ferry = &harbour.entries[1];
        assert_eq!(
            ferry.id, "urn:uuid:3d0c5a2e-8f4b-4c1e-9a57-1f2e3d4c5b6a",
            "front matter id wins"
        );
        let content = kites.content.as_ref().and_then(|c| c.body.clone()).unwrap_or_default();
        assert!(content.contains("<strong>Sunday</strong>"), "{content}");
        assert!(!content.contains("<script"), "{content}");
        assert!(
            content.contains("https://feeds.example.org/articles/posts/ferries.md"),
            "relative link made absolute: {content}"
        );
    }
}

#[test]
fn tag_line_dates_and_file_name_dates_are_used() {
    let dir = copy_fixture("mixed");
    let site = build(dir.path());
    let planting = site.index().get("reports/2024/04/2500001.md").unwrap();
    assert_eq!(planting.published.unwrap().at.to_rfc3339(), "2024-04-02T15:57:00+00:00");
    assert_eq!(planting.categories, ["山谷观察组"]);
    let talk = site.index().get("talks/2019/06/20190614-70000001.md").unwrap();
    assert_eq!(talk.published.unwrap().at.to_rfc3339(), "2019-06-14T00:00:00+00:00");
    assert_eq!(talk.categories, ["talks"], "category from the first folder");
    let dated_only = site.index().get("reports/2024/04/2500002.md").unwrap();
    assert_eq!(dated_only.categories, ["reports"], "a tag with only a date gives no category");
}

#[test]
fn shared_source_links_do_not_make_ids_but_unique_ones_do() {
    let dir = copy_fixture("mixed");
    let site = build(dir.path());
    let talks = feed(&site, "talks.atom");
    assert_eq!(talks.entries.len(), 2);
    assert_ne!(
        talks.entries[0].id, talks.entries[1].id,
        "a placeholder source shared by two articles is no identity"
    );
    assert!(talks.entries.iter().all(|e| e.id.starts_with("tag:feeds.example.org,2026:path/")));
    let slot = feed(&site, "山谷观察组.atom");
    let slot_entry = slot.entries.iter().find(|e| titles_of(e).contains("图书馆")).unwrap();
    assert!(slot_entry.id.starts_with("tag:feeds.example.org,2026:source/"), "{}", slot_entry.id);
}

fn titles_of(e: &feed_rs::model::Entry) -> String {
    e.title.as_ref().map(|t| t.content.clone()).unwrap_or_default()
}

#[test]
fn ids_survive_edits_of_title_body_category_and_date() {
    let dir = copy_fixture("mixed");
    let before = build(dir.path());
    let id_of = |site: &Site, title: &str| {
        let all = feed(site, "all.atom");
        all.entries.iter().find(|e| titles_of(e) == title).map(|e| e.id.clone()).unwrap()
    };
    let bridge = id_of(&before, "Bridge repairs finish ahead of schedule");
    let kites = id_of(&before, "Kites over the harbour");
    let path = dir.path().join("reports/2021/01/810002.md");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("Bridge repairs finish", "Bridge works end")
            .replace("Valley Watch", "River Desk")
            .replace("Friday", "Monday"),
    )
    .unwrap();
    let path = dir.path().join("posts/2023-05-01-kites.md");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("Kites over the harbour", "Kites above the bay")
            .replace("2023-05-01T09:30", "2023-05-02T09:30"),
    )
    .unwrap();
    let after = build(dir.path());
    assert_eq!(id_of(&after, "Bridge works end ahead of schedule"), bridge);
    assert_eq!(id_of(&after, "Kites above the bay"), kites);
}

#[test]
fn the_same_articles_give_byte_identical_feeds_anywhere() {
    let a = copy_fixture("mixed");
    let b = copy_fixture("mixed");
    let (site_a, site_b) = (build(a.path()), build(b.path()));
    assert_eq!(site_a.feeds().len(), site_b.feeds().len());
    for (name, doc) in site_a.feeds() {
        let other = &site_b.feeds()[name];
        assert_eq!(doc.identity().bytes, other.identity().bytes, "{name}");
        assert_eq!(doc.identity_etag(), other.identity_etag(), "{name}");
        assert_eq!(doc.gzip().etag, other.gzip().etag, "{name}");
        assert_eq!(doc.last_modified, other.last_modified, "{name}");
    }
}

#[test]
fn feed_updated_time_is_the_newest_items_not_now() {
    let dir = copy_fixture("mixed");
    let site = build(dir.path());
    let harbour = feed(&site, "harbour-life.atom");
    assert_eq!(harbour.updated.unwrap().to_rfc3339(), "2023-05-03T10:00:00+00:00");
    assert_eq!(
        site.feeds()["harbour-life.rss"].last_modified.to_rfc3339(),
        "2023-05-03T10:00:00+00:00"
    );
}

#[test]
fn the_mirror_holds_exactly_the_served_feeds() {
    let dir = copy_fixture("mixed");
    let out = tempfile::tempdir().unwrap();
    std::fs::write(out.path().join("gone-category.rss"), "old").unwrap();
    std::fs::write(out.path().join("keep-me.txt"), "not ours").unwrap();
    let site = Site::build(config(dir.path(), out.path())).unwrap();
    let snapshot = herald::serve::snapshot(&site);
    herald::publish::Mirror::new(out.path().to_path_buf()).sync_all(&snapshot).unwrap();
    let mut files: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert!(!files.contains(&"gone-category.rss".to_string()));
    assert!(files.contains(&"keep-me.txt".to_string()), "files that are not feeds are left alone");
    // The feeds, the file that is not ours and the record of served slugs.
    assert!(files.contains(&".herald-slugs".to_string()), "{files:?}");
    assert_eq!(files.len(), 21, "{files:?}");
    let on_disk = std::fs::read(out.path().join("all.rss")).unwrap();
    assert_eq!(on_disk, site.feeds()["all.rss"].identity().bytes);
}

/// Regression: a rescan read the new git history but re-dated only the files it re-parsed,
/// so an unchanged article kept a date from history that no longer existed.
#[test]
fn a_rescan_redates_unchanged_articles_when_history_changes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let git = |args: &[&str], date: &str| {
        let ok = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.org"])
            .args(args)
            .current_dir(root)
            .env("GIT_AUTHOR_DATE", date)
            .env("GIT_COMMITTER_DATE", date)
            .output()
            .unwrap();
        assert!(ok.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&ok.stderr));
    };
    std::fs::write(root.join("note.md"), "## A note without a date\n\nBody.\n").unwrap();
    git(&["init", "-q"], "2024-01-01T00:00:00Z");
    git(&["add", "-A"], "2024-01-01T00:00:00Z");
    git(&["commit", "-qm", "first"], "2024-01-01T00:00:00Z");
    let out = tempfile::tempdir().unwrap();
    let mut site = Site::build(config_with(root, out.path(), "")).unwrap();
    let published =
        |site: &Site| site.index().get("note.md").unwrap().published.unwrap().at.to_rfc3339();
    assert_eq!(published(&site), "2024-01-01T00:00:00+00:00");

    // The same content, committed again with another date (a rewritten history).
    git(&["commit", "-q", "--amend", "-m", "first, rewritten"], "2024-02-02T00:00:00Z");
    site.rescan();
    assert_eq!(published(&site), "2024-02-02T00:00:00+00:00");
}

/// The first scan looks nothing up and each file is stamped as it is read: a rescan must see
/// those stamps as the files' own and read nothing again, yet still read a file that changed,
/// even to the same length and modification time (another inode).
#[test]
fn a_rescan_reads_only_the_files_that_changed_since_the_first_build() {
    let dir = copy_fixture("mixed");
    let mut site = build(dir.path());
    let report = site.rescan();
    assert_eq!((report.parsed, report.removed), (0, 0), "nothing changed: {report:?}");

    let path = dir.path().join("posts/ferries.md");
    let before = std::fs::metadata(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap().replacen('a', "e", 1);
    let copy = dir.path().join("posts/.ferries.md.new");
    std::fs::write(&copy, &text).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&copy)
        .unwrap()
        .set_modified(before.modified().unwrap())
        .unwrap();
    std::fs::rename(&copy, &path).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), before.len());
    let report = site.rescan();
    assert_eq!(report.parsed, 1, "{report:?}");
    assert_eq!(site.rescan().parsed, 0);
}
