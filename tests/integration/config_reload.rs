//! `herald serve` watches its config file: a valid change is applied without a restart, an
//! invalid one is reported and the running configuration kept.
//!
//! Nothing here sleeps for a fixed time: tests poll the server, or wait for
//! `Running::reloads` to count the re-read of the file, each with a generous timeout.

use crate::support::*;
use herald::config::Overrides;
use herald::reload::ConfigSource;
use herald::serve::Running;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A temporary folder holding `herald.toml`, the content folder `content/` (a copy of the
/// `mixed` fixture) and the mirror `out/`, the file naming both relatively.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        copy_tree(&fixture_dir("mixed"), &dir.path().join("content"));
        let setup = Setup { dir };
        setup.write(&toml("First", ""));
        setup
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("herald.toml")
    }

    fn content(&self) -> PathBuf {
        self.dir.path().join("content")
    }

    fn write(&self, text: &str) {
        std::fs::write(self.path(), text).unwrap();
    }

    /// Write a new version the way editors save: a temporary renamed over the file.
    fn replace(&self, text: &str) {
        let tmp = self.dir.path().join(".herald.toml.swp-tmp");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, self.path()).unwrap();
    }

    fn start(&self) -> Running {
        self.start_with(Overrides::default())
    }

    fn start_with(&self, overrides: Overrides) -> Running {
        herald::serve::start_watched(ConfigSource::file(self.path(), overrides)).unwrap()
    }
}

/// A config file with `title`, extra lines appended to `[server]`.
fn toml(title: &str, server: &str) -> String {
    toml_with_root(title, "content", server)
}

fn toml_with_root(title: &str, root: &str, server: &str) -> String {
    format!(
        "[site]\ntitle = \"{title}\"\nbase_url = \"https://feeds.example.org\"\n\
         id_authority = \"feeds.example.org,2026\"\n\
         [content]\nroot = \"{root}\"\ngit_dates = false\n\
         [feeds]\nout = \"out\"\n\
         [server]\nlisten = \"127.0.0.1:0\"\n{server}"
    )
}

/// GET `path`: (status, Cache-Control, body).
fn get(running: &Running, path: &str) -> (u16, String, String) {
    let r = raw::get(running.addr, path);
    let cache = r.header("cache-control").unwrap_or_default().to_string();
    (r.status, cache, String::from_utf8_lossy(&r.body).into_owned())
}

/// Poll `done` for 30 s at most; fail naming `what` if it never holds.
#[track_caller]
fn wait_for(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "{what}: never happened");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Poll the served `path` until `check` holds for its body.
#[track_caller]
fn eventually(running: &Running, path: &str, what: &str, check: impl Fn(&str) -> bool) {
    wait_for(what, || check(&get(running, path).2));
}

/// The site feed's channel title.
fn feed_title(running: &Running) -> String {
    let (status, _, body) = get(running, "/feeds/all.rss");
    assert_eq!(status, 200, "{body}");
    parse_feed(body.as_bytes()).title.map(|t| t.content).unwrap_or_default()
}

/// Write `text` with `write`, wait until the server has read it again and rejected it, then
/// check nothing changed: the same snapshot is served, with the old title.
#[track_caller]
fn rejected(running: &Running, write: impl FnOnce(), title: &str) {
    let before = running.current.load_full();
    let (rejected, applied) = (running.reloads.rejected(), running.reloads.applied());
    write();
    wait_for("the bad config is reported", || running.reloads.rejected() > rejected);
    assert_eq!(running.reloads.applied(), applied);
    assert!(Arc::ptr_eq(&before, &running.current.load_full()), "a new snapshot was published");
    assert_eq!(feed_title(running), title);
    let (status, _, _) = get(running, "/feeds/harbour-life.atom");
    assert_eq!(status, 200);
    assert_eq!(reloads_metric(running, "rejected"), running.reloads.rejected());
}

/// `herald_config_reloads_total{outcome="…"}` as `/metrics` reports it.
fn reloads_metric(running: &Running, outcome: &str) -> u64 {
    let (status, _, text) = get(running, "/metrics");
    assert_eq!(status, 200);
    let line = format!("herald_config_reloads_total{{outcome=\"{outcome}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(line.as_str()))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {line:?} in\n{text}"))
}

#[test]
fn a_new_title_reaches_the_feeds_the_pages_and_the_mirror() {
    let setup = Setup::new();
    let running = setup.start();
    assert_eq!(feed_title(&running), "First");

    setup.write(&toml("Second", ""));
    wait_for("the new title is served", || feed_title(&running) == "Second");
    let (_, _, index) = get(&running, "/");
    assert!(index.contains("<title>Second</title>"), "{index}");
    let slug = &running.current.load().listing[1].slug;
    let (_, _, page) = get(&running, &format!("/categories/{slug}"));
    assert!(page.contains("Second"), "{page}");
    wait_for("the mirror follows", || {
        std::fs::read_to_string(setup.dir.path().join("out/all.rss"))
            .is_ok_and(|t| t.contains("<title>Second</title>"))
    });
    assert_eq!(running.reloads.rejected(), 0);
    // Counted just after the new snapshot is out.
    wait_for("the reload is counted", || reloads_metric(&running, "applied") == 1);
    assert_eq!(reloads_metric(&running, "rejected"), 0);
    // The content folder is still watched after the rebuild.
    std::fs::write(
        setup.content().join("posts/after.md"),
        "---\ntitle: After the reload\ndate: 2025-03-01\n---\n\nBody.\n",
    )
    .unwrap();
    eventually(&running, "/feeds/all.atom", "a content edit after the reload", |b| {
        b.contains("After the reload")
    });
    running.stop().unwrap();
}

#[test]
fn max_age_follows_into_cache_control() {
    let setup = Setup::new();
    let running = setup.start();
    let (_, cache, _) = get(&running, "/feeds/all.atom");
    assert!(cache.contains("max-age=300,"), "{cache}");
    let etag = |path: &str| raw::get(running.addr, path).header("etag").unwrap().to_string();
    let etags_before = (etag("/feeds/all.atom"), etag("/"));

    setup.write(&toml("First", "max_age_seconds = 7\n"));
    wait_for("Cache-Control follows", || get(&running, "/feeds/all.atom").1.contains("max-age=7,"));
    for path in ["/", "/feeds/harbour-life.rss"] {
        let (status, cache, _) = get(&running, path);
        assert_eq!(status, 200, "{path}");
        assert!(cache.contains("max-age=7,"), "{path}: {cache}");
    }
    // The full rebuild rendered the same bytes: readers' caches stay valid.
    assert_eq!((etag("/feeds/all.atom"), etag("/")), etags_before);
    running.stop().unwrap();
}

#[test]
fn invalid_toml_keeps_the_running_config_and_a_later_fix_is_applied() {
    let setup = Setup::new();
    let running = setup.start();
    let broken = toml("Broken", "").replace("[feeds]", "[feeds");
    rejected(&running, || setup.write(&broken), "First");
    // The watcher survived the bad edit.
    setup.write(&toml("Fixed", ""));
    wait_for("the fixed config is applied", || feed_title(&running) == "Fixed");
    running.stop().unwrap();
}

#[test]
fn an_unknown_key_or_a_bad_value_is_rejected_the_same_way() {
    let setup = Setup::new();
    let running = setup.start();
    let unknown = toml("Unknown", "max_age = 7\n");
    rejected(&running, || setup.write(&unknown), "First");
    let bad = toml("Bad", "").replace("git_dates = false", "git_dates = false\nsummary_chars = 0");
    rejected(&running, || setup.write(&bad), "First");
    let missing_root = toml_with_root("No root", "nowhere", "");
    rejected(&running, || setup.write(&missing_root), "First");
    setup.write(&toml("Good", ""));
    wait_for("a valid edit is applied", || feed_title(&running) == "Good");
    running.stop().unwrap();
}

#[test]
fn a_deleted_file_keeps_everything_and_its_return_is_applied() {
    let setup = Setup::new();
    let running = setup.start();
    rejected(&running, || std::fs::remove_file(setup.path()).unwrap(), "First");
    setup.write(&toml("Back", ""));
    wait_for("the recreated file is applied", || feed_title(&running) == "Back");
    running.stop().unwrap();
}

#[test]
fn an_atomic_replace_is_applied() {
    let setup = Setup::new();
    let running = setup.start();
    setup.replace(&toml("Renamed over", ""));
    wait_for("the replaced file is applied", || feed_title(&running) == "Renamed over");
    // And again: the watch is on the folder, not on the inode that was replaced.
    setup.replace(&toml("Renamed again", ""));
    wait_for("the second replace is applied", || feed_title(&running) == "Renamed again");
    running.stop().unwrap();
}

#[test]
fn an_unchanged_save_publishes_nothing() {
    let setup = Setup::new();
    let running = setup.start();
    let before = running.current.load_full();
    setup.write(&format!("# only a comment changed\n{}", toml("First", "")));
    wait_for("the file is read again", || running.reloads.checked() > 0);
    assert_eq!((running.reloads.applied(), running.reloads.rejected()), (0, 0));
    assert!(Arc::ptr_eq(&before, &running.current.load_full()));
    running.stop().unwrap();
}

#[test]
fn a_new_content_root_is_served_and_watched() {
    let setup = Setup::new();
    let second = setup.dir.path().join("second");
    copy_tree(&fixture_dir("mixed"), &second);
    std::fs::write(
        second.join("posts/only-here.md"),
        "---\ntitle: Only in the second folder\ndate: 2025-02-01\ncategory: Posts\n---\n\nBody.\n",
    )
    .unwrap();
    let running = setup.start();
    let (_, _, all) = get(&running, "/feeds/all.atom");
    assert!(!all.contains("Only in the second folder"));

    setup.write(&toml_with_root("First", "second", ""));
    eventually(&running, "/feeds/all.atom", "the new folder is served", |b| {
        b.contains("Only in the second folder")
    });
    // Article pages read bodies from the new folder.
    let (status, _, page) = get(&running, "/articles/posts/only-here.md");
    assert_eq!(status, 200, "{page}");

    // The new folder is watched; the old one no longer is.
    std::fs::write(
        setup.content().join("posts/old-folder.md"),
        "---\ntitle: Written to the old folder\ndate: 2025-03-01\n---\n\nBody.\n",
    )
    .unwrap();
    std::fs::write(
        second.join("posts/new-folder.md"),
        "---\ntitle: Written to the new folder\ndate: 2025-03-01\n---\n\nBody.\n",
    )
    .unwrap();
    eventually(&running, "/feeds/all.atom", "an edit in the new folder is seen", |b| {
        b.contains("Written to the new folder")
    });
    let (_, _, all) = get(&running, "/feeds/all.atom");
    assert!(!all.contains("Written to the old folder"), "{all}");
    running.stop().unwrap();
}

#[test]
fn a_restart_only_key_is_kept_and_the_rest_applied() {
    let setup = Setup::new();
    let running = setup.start();
    // A port no test listens on: were it applied, the server would be gone from `addr`.
    setup.write(&toml("Other port", "").replace("127.0.0.1:0", "127.0.0.1:1"));
    wait_for("the change is applied", || running.reloads.applied() == 1);
    assert_eq!(feed_title(&running), "Other port");
    assert_eq!(running.reloads.rejected(), 0);
    running.stop().unwrap();
}

#[test]
fn flags_and_environment_still_win_after_a_reload() {
    let setup = Setup::new();
    let override_url = "https://override.example.net";
    let running =
        setup.start_with(Overrides { base_url: Some(override_url.into()), ..Overrides::default() });
    let other = toml("Overridden", "").replace("https://feeds.example.org", "https://file.example");
    setup.write(&other);
    wait_for("the title is applied", || feed_title(&running) == "Overridden");
    let (_, _, rss) = get(&running, "/feeds/all.rss");
    assert!(rss.contains(override_url), "{rss}");
    assert!(!rss.contains("file.example"), "{rss}");
    running.stop().unwrap();
}

#[test]
fn a_fixed_config_is_never_reloaded() {
    // `serve::start(cfg)`: the config did not come from a watched file.
    let setup = Setup::new();
    let cfg = ConfigSource::file(setup.path(), Overrides::default()).load().unwrap();
    let running = herald::serve::start(Arc::new(cfg)).unwrap();
    setup.write(&toml("Ignored", ""));
    // The write is not looked at; a content edit after it is (the loop is alive), and the
    // title is still the first one.
    std::fs::write(
        setup.content().join("posts/after.md"),
        "---\ntitle: After the config edit\ndate: 2025-03-01\n---\n\nBody.\n",
    )
    .unwrap();
    eventually(&running, "/feeds/all.atom", "the content edit", |b| {
        b.contains("After the config edit")
    });
    assert_eq!(feed_title(&running), "First");
    assert_eq!(running.reloads.checked(), 0);
    running.stop().unwrap();
}

#[test]
fn the_binary_reloads_its_config_file_and_keeps_its_flags() {
    let content = copy_fixture("mixed");
    let dir = tempfile::tempdir().unwrap();
    let text = "[site]\ntitle = \"From the file\"\nid_authority = \"feeds.example.org,2026\"\n\
                [content]\ngit_dates = false\n";
    let binary = crate::faults::start_binary(content.path(), &dir.path().join("out"), text);
    let file = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "toml"))
        .expect("the config file start_binary wrote");
    let title = || {
        let r = raw::get(binary.addr, "/feeds/all.rss");
        parse_feed(&r.body).title.map(|t| t.content).unwrap_or_default()
    };
    assert_eq!(title(), "From the file");
    // --base-url https://feeds.example.org was given: the file's base URL must not win.
    let edited = "[site]\ntitle = \"Edited\"\nbase_url = \"https://file.example\"\n\
                  id_authority = \"feeds.example.org,2026\"\n\
                  [content]\ngit_dates = false\n[server]\nmax_age_seconds = 9\n";
    std::fs::write(&file, edited).unwrap();
    wait_for("the binary applies the edit", || title() == "Edited");
    let r = raw::get(binary.addr, "/feeds/all.rss");
    let body = String::from_utf8_lossy(&r.body);
    assert!(body.contains("https://feeds.example.org/") && !body.contains("file.example"));
    assert!(r.header("cache-control").unwrap().contains("max-age=9,"));
}

#[test]
fn a_new_mirror_folder_gets_every_feed_and_the_later_edits() {
    let setup = Setup::new();
    let running = setup.start();
    let (old, new) = (setup.dir.path().join("out"), setup.dir.path().join("out2"));
    wait_for("the first mirror is written", || old.join("all.rss").is_file());

    setup.write(&toml("First", "").replace("out = \"out\"", "out = \"out2\""));
    wait_for("the new folder holds every feed served", || {
        running.current.load().feeds.keys().all(|f| new.join(f).is_file())
    });
    // Edits after the reload go to the new folder, not the old one.
    std::fs::write(
        setup.content().join("posts/after-move.md"),
        "---\ntitle: Mirrored to the new folder\ndate: 2025-03-01\n---\n\nBody.\n",
    )
    .unwrap();
    wait_for("the edit reaches the new folder", || {
        std::fs::read_to_string(new.join("all.rss"))
            .is_ok_and(|t| t.contains("Mirrored to the new"))
    });
    let old_all = std::fs::read_to_string(old.join("all.rss")).unwrap();
    assert!(!old_all.contains("Mirrored to the new"), "the old folder is left as it was");
    running.stop().unwrap();
}
