//! Faults: an unwritable or failing mirror, lost watcher events, kill -9, SIGTERM.

use crate::support::*;
use herald::site::Site;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

/// The ETag Herald sends for `bytes` (see `src/render/encode.rs`): 20 hex digits of blake3.
pub(crate) fn etag_of(bytes: &[u8], suffix: &str) -> String {
    format!("\"{}{suffix}\"", &blake3::hash(bytes).to_hex().as_str()[..20])
}

/// Check that `bytes` is one well-formed document: JSON for a JSON Feed, else XML; `Err`
/// says where it is not.
pub(crate) fn well_formed(bytes: &[u8]) -> Result<(), String> {
    if bytes.first() == Some(&b'{') {
        return serde_json::from_slice::<serde_json::Value>(bytes)
            .map(drop)
            .map_err(|e| format!("not well-formed JSON: {e}"));
    }
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(bytes);
    reader.config_mut().check_end_names = true;
    let mut buf = Vec::new();
    let (mut depth, mut roots) = (0usize, 0usize);
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Eof) => break,
            Ok(Event::Start(_)) => {
                if depth == 0 {
                    roots += 1;
                }
                depth += 1;
            }
            Ok(Event::End(_)) => depth -= 1,
            Ok(Event::Empty(_)) if depth == 0 => roots += 1,
            Ok(_) => {}
            Err(e) => return Err(format!("at byte {}: {e}", reader.buffer_position())),
        }
        buf.clear();
    }
    if depth != 0 || roots != 1 {
        return Err(format!("{roots} root elements, {depth} left open"));
    }
    Ok(())
}

/// Feed file name → identity bytes.
pub(crate) type Feeds = BTreeMap<String, Vec<u8>>;

pub(crate) fn served(running: &herald::serve::Running) -> Feeds {
    let snapshot = running.current.load();
    snapshot.feeds.iter().map(|(n, d)| (n.clone(), d.identity().bytes.to_vec())).collect()
}

pub(crate) fn cold_build(cfg: &std::sync::Arc<herald::config::Config>) -> Feeds {
    let site = Site::build(cfg.clone()).unwrap();
    site.feeds().iter().map(|(n, d)| (n.clone(), d.identity().bytes.to_vec())).collect()
}

/// A short description of how two feed sets differ, for failure messages.
pub(crate) fn diff_summary(got: &Feeds, want: &Feeds) -> String {
    let mut out = String::new();
    for name in got.keys().filter(|n| !want.contains_key(*n)) {
        out += &format!("  served but not expected: {name}\n");
    }
    for name in want.keys().filter(|n| !got.contains_key(*n)) {
        out += &format!("  expected but not served: {name}\n");
    }
    for (name, w) in want {
        let Some(g) = got.get(name) else { continue };
        if g != w {
            let (g, w) = (String::from_utf8_lossy(g), String::from_utf8_lossy(w));
            let at =
                g.bytes().zip(w.bytes()).position(|(a, b)| a != b).unwrap_or(g.len().min(w.len()));
            out += &format!(
                "  {name} differs at byte {at} ({} vs {} bytes):\n    served:   {:?}\n    expected: {:?}\n",
                g.len(),
                w.len(),
                window(&g, at),
                window(&w, at),
            );
        }
    }
    out
}

/// Up to 80 bytes before and 120 after `at`, cut at character boundaries.
fn window(s: &str, at: usize) -> &str {
    let floor = |mut i: usize| {
        i = i.min(s.len());
        while !s.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    &s[floor(at.saturating_sub(80))..floor(at + 120)]
}

/// Poll until the served feeds equal a cold build of the same tree (`limit` at most); panic
/// with a diff summary otherwise.
pub(crate) fn settle(
    running: &herald::serve::Running,
    want: &Feeds,
    limit: Duration,
    what: &str,
) -> Duration {
    let started = Instant::now();
    loop {
        let got = served(running);
        if &got == want {
            return started.elapsed();
        }
        if started.elapsed() > limit {
            panic!(
                "{what}: the served feeds never matched a cold build of the same tree:\n{}",
                diff_summary(&got, want)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Poll `cond` every 20 ms for `limit` at most.
pub(crate) fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub(crate) fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// An article whose dates all come from front matter (so no mtime enters the feeds).
pub(crate) fn article(title: &str, category: &str, date: &str) -> String {
    format!(
        "---\ntitle: \"{title}\"\ndate: {date}\nupdated: {date}\ncategory: \"{category}\"\n---\n\nBody of {title}.\n"
    )
}

/// The mirror's documents below `dir` (archive pages live in `{slug}/archive/`), by the
/// name they are served under.
fn collect_mirror(dir: &Path, prefix: &str, on_disk: &mut Feeds, problems: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if entry.file_type().unwrap().is_dir() {
            collect_mirror(&entry.path(), &format!("{name}/"), on_disk, problems);
        } else if name.ends_with(".tmp") {
            problems.push(format!("temporary file left: {name}"));
        } else if [".rss", ".atom", ".json", ".opml"].iter().any(|ext| name.ends_with(ext)) {
            let bytes = std::fs::read(entry.path()).unwrap();
            if let Err(e) = well_formed(&bytes) {
                problems.push(format!("{name} is not well-formed: {e}"));
            }
            on_disk.insert(name, bytes);
        }
    }
}

/// Every file in the mirror: no temporaries, each one well-formed and equal to what is
/// served. Returns the problems found.
fn mirror_problems(out: &Path, want: &Feeds) -> Vec<String> {
    let mut problems = Vec::new();
    let mut on_disk = Feeds::new();
    collect_mirror(out, "", &mut on_disk, &mut problems);
    if &on_disk != want {
        problems
            .push(format!("the mirror is not the served set:\n{}", diff_summary(&on_disk, want)));
    }
    problems
}

#[test]
fn the_mirror_is_always_complete_valid_and_free_of_temporaries() {
    let content = copy_fixture("mixed");
    let out = tempfile::tempdir().unwrap();
    let root = content.path();
    // A temporary left by a writer killed mid-write (kill -9, power loss).
    std::fs::write(out.path().join(".all.rss.4242.tmp"), "<rss><chan").unwrap();
    let running = herald::serve::start(config(root, out.path())).unwrap();
    let problems = mirror_problems(out.path(), &served(&running));
    assert!(problems.is_empty(), "after the first build:\n{}", problems.join("\n"));

    for i in 0..5 {
        write(
            root,
            &format!("posts/m{i}.md"),
            &article(&format!("Mirror {i}"), "Mirror Test", "2025-04-01"),
        );
        let path = out.path().join("mirror-test.atom");
        assert!(
            wait_for(Duration::from_secs(20), || std::fs::read_to_string(&path)
                .is_ok_and(|t| t.contains(&format!("Mirror {i}")))),
            "the mirror never got Mirror {i}"
        );
    }
    std::fs::remove_dir_all(root.join("talks")).unwrap();
    assert!(wait_for(Duration::from_secs(20), || !out.path().join("talks.atom").exists()));
    // The mirror is written just after each swap, so poll until it has caught up.
    wait_for(Duration::from_secs(20), || mirror_problems(out.path(), &served(&running)).is_empty());
    let problems = mirror_problems(out.path(), &served(&running));
    assert!(problems.is_empty(), "after changes:\n{}", problems.join("\n"));
    running.stop().unwrap();
}

#[test]
fn an_unwritable_out_folder_is_logged_feeds_keep_updating_and_the_mirror_catches_up() {
    let content = copy_fixture("mixed");
    let root = content.path();
    let base = tempfile::tempdir().unwrap();
    // `--out` below a regular file: create_dir fails even for root (chmod would not).
    let blocker = base.path().join("blocker");
    std::fs::write(&blocker, "not a folder").unwrap();
    let out = blocker.join("feeds");
    let running = herald::serve::start(config(root, &out)).unwrap();
    let addr = running.addr;
    assert_eq!(raw::get(addr, "/feeds/all.atom").status, 200, "served from memory");

    // The feeds keep updating in memory while the mirror cannot be written.
    write(root, "posts/while-broken.md", &article("While broken", "Outage", "2025-05-01"));
    assert!(wait_for(Duration::from_secs(20), || {
        let r = raw::get(addr, "/feeds/outage.rss");
        r.status == 200 && String::from_utf8_lossy(&r.body).contains("While broken")
    }));

    // The disk is fixed; no article changes. The mirror catches up by itself.
    std::fs::remove_file(&blocker).unwrap();
    assert!(
        wait_for(Duration::from_secs(20), || mirror_problems_if_exists(&out, &served(&running))),
        "the mirror never caught up after the folder became writable: {:?}",
        std::fs::read_dir(&out).ok().map(|d| d.count())
    );

    // A write failing mid-run (the folder replaced by a file): logged, still served...
    std::fs::remove_dir_all(&out).unwrap();
    std::fs::write(&out, "now a file").unwrap();
    write(root, "posts/second-outage.md", &article("Second outage", "Outage", "2025-05-02"));
    assert!(wait_for(Duration::from_secs(20), || {
        String::from_utf8_lossy(&raw::get(addr, "/feeds/outage.atom").body)
            .contains("Second outage")
    }));
    // ...and once writable again the whole mirror is re-synced, not only the next change.
    std::fs::remove_file(&out).unwrap();
    write(root, "posts/after.md", &article("After the outage", "Recovery", "2025-05-03"));
    assert!(
        wait_for(Duration::from_secs(20), || mirror_problems_if_exists(&out, &served(&running))),
        "the mirror was not re-synced whole after the failure"
    );
    assert!(std::fs::read_to_string(out.join("outage.atom")).unwrap().contains("Second outage"));
    running.stop().unwrap();
}

fn mirror_problems_if_exists(out: &Path, want: &Feeds) -> bool {
    out.is_dir() && mirror_problems(out, want).is_empty()
}

#[test]
fn a_rescan_change_set_gives_the_same_feeds_as_a_cold_build() {
    let content = copy_fixture("mixed");
    let out = tempfile::tempdir().unwrap();
    let root = content.path();
    let cfg = config(root, out.path());
    let mut site = Site::build(cfg.clone()).unwrap();
    // Changes the site never hears about (events lost in an inotify overflow).
    write(root, "posts/lost-1.md", &article("Lost event one", "Overflow", "2025-06-01"));
    write(root, "deep/a/b/lost-2.md", &article("Lost event two", "Harbour Life", "2025-06-02"));
    std::fs::remove_file(root.join("posts/ferries.md")).unwrap();
    std::fs::rename(root.join("talks"), root.join("old-talks")).unwrap();
    let set = herald::watch::ChangeSet { rescan: true, ..Default::default() };
    site.apply(&set);
    site.render_dirty();
    let got: Feeds =
        site.feeds().iter().map(|(n, d)| (n.clone(), d.identity().bytes.to_vec())).collect();
    let want = cold_build(&cfg);
    assert!(got == want, "rescan differs from a cold build:\n{}", diff_summary(&got, &want));
}

#[test]
fn bad_articles_are_skipped_and_every_other_feed_stays_served_and_well_formed() {
    let content = copy_fixture("mixed");
    let root = content.path();
    let out = tempfile::tempdir().unwrap();
    let cfg =
        config_with(root, out.path(), "[content]\ngit_dates = false\nmax_file_bytes = 20000\n");
    let running = herald::serve::start(cfg.clone()).unwrap();
    write(
        root,
        "posts/too-big.md",
        &format!("{}\n{}", article("Too big", "Bad", "2025-09-01"), "x".repeat(30_000)),
    );
    std::fs::write(root.join("posts/binary.md"), [0u8, 159, 146, 150, 0xff, 0xfe, 0, 0, 1, 2, 3])
        .unwrap();
    write(
        root,
        "posts/broken-front-matter.md",
        "---\ntitle: [unclosed\ndate: not a date\n---\n\nText after broken front matter.\n",
    );
    write(
        root,
        "posts/control-chars.md",
        &article("Bell \u{7} and escape \u{1b} in a title", "Bad", "2025-09-02"),
    );
    write(root, "posts/good.md", &article("A good article beside bad ones", "Good", "2025-09-03"));
    let want = cold_build(&cfg);
    settle(&running, &want, Duration::from_secs(30), "bad articles");
    let served = served(&running);
    assert!(served.contains_key("good.atom"));
    for (name, bytes) in &served {
        well_formed(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        if !name.ends_with(".opml") {
            parse_feed(bytes);
        }
        assert!(
            !String::from_utf8_lossy(bytes).contains("Too big"),
            "{name} holds a skipped article"
        );
    }
    assert_eq!(raw::get(running.addr, "/feeds/good.rss").status, 200);
    let site = Site::build(cfg.clone()).unwrap();
    let outcome = |path: &str| site.reports()[path].outcome.clone();
    assert!(matches!(outcome("posts/too-big.md"), herald::site::Outcome::Skipped(_)));
    assert!(matches!(outcome("posts/binary.md"), herald::site::Outcome::Skipped(_)));
    assert_eq!(outcome("posts/broken-front-matter.md"), herald::site::Outcome::Article);
    assert!(!site.reports()["posts/broken-front-matter.md"].warnings.is_empty());
    running.stop().unwrap();
}

/// A tree like `mixed`, but different: one title changed without changing the file's
/// length (and, as `copy_tree` does, with the same fixed mtimes), one file gone, one added.
fn different_copy(to: &Path) {
    copy_tree(&fixture_dir("mixed"), to);
    let kites = to.join("posts/2023-05-01-kites.md");
    let text = std::fs::read_to_string(&kites).unwrap();
    std::fs::write(&kites, text.replace("Kites over the harbour", "Kites above the harbor"))
        .unwrap();
    set_mtime(&kites, FIXED_MTIME);
    std::fs::remove_file(to.join("posts/ferries.md")).unwrap();
    write(
        to,
        "posts/replacement.md",
        &article("Only in the new copy", "Replacement", "2025-07-01"),
    );
}

#[test]
fn a_replaced_or_vanished_content_root_keeps_the_last_good_feeds_then_rescans_to_a_cold_build() {
    let base = tempfile::tempdir().unwrap();
    let root = base.path().join("content");
    copy_tree(&fixture_dir("mixed"), &root);
    let out = tempfile::tempdir().unwrap();
    let cfg = config(&root, out.path());
    let running = herald::serve::start(cfg.clone()).unwrap();
    let before = served(&running);

    // Prepare a different copy beside it, then swap it in: rename away, rename in.
    let staged = base.path().join("staged");
    different_copy(&staged);
    std::fs::rename(&root, base.path().join("content.old")).unwrap();
    std::fs::rename(&staged, &root).unwrap();
    let want = cold_build(&cfg);
    assert_ne!(before, want, "the new copy must differ");
    settle(&running, &want, Duration::from_secs(30), "root renamed away and replaced");

    // Deleted, left missing long enough for the watcher to notice (it checks the root every
    // second), then recreated in place. Meanwhile the last good feeds stay served and
    // mirrored: a vanished root is a fault (a re-clone, an unmounted disk), not a repository
    // without articles.
    let last_good = served(&running);
    std::fs::remove_dir_all(&root).unwrap();
    let missing_since = Instant::now();
    while missing_since.elapsed() < Duration::from_millis(2500) {
        let now = served(&running);
        assert!(
            now == last_good,
            "the root is missing and the served feeds changed:\n{}",
            diff_summary(&now, &last_good)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let problems = mirror_problems(out.path(), &last_good);
    assert!(problems.is_empty(), "mirror while the root is missing:\n{}", problems.join("\n"));
    copy_tree(&fixture_dir("mixed"), &root);
    let want = cold_build(&cfg);
    assert_eq!(want, before);
    settle(&running, &want, Duration::from_secs(30), "root deleted and recreated");
    running.stop().unwrap();
}

#[test]
fn a_folder_replaced_wholesale_ends_equal_to_a_cold_build() {
    let content = copy_fixture("mixed");
    let root = content.path();
    let out = tempfile::tempdir().unwrap();
    let cfg = config(root, out.path());
    let running = herald::serve::start(cfg.clone()).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    // `posts/` goes away (moved out of the root) and a different `posts/` is moved in.
    let staged = elsewhere.path().join("new-posts");
    different_copy(&elsewhere.path().join("tree"));
    std::fs::rename(elsewhere.path().join("tree/posts"), &staged).unwrap();
    std::fs::rename(root.join("posts"), elsewhere.path().join("old-posts")).unwrap();
    std::fs::rename(&staged, root.join("posts")).unwrap();
    let want = cold_build(&cfg);
    settle(&running, &want, Duration::from_secs(30), "folder replaced wholesale");
    running.stop().unwrap();
}

// ---------------------------------------------------------------------------------------
// The real binary: kill -9 and SIGTERM.

pub(crate) struct Binary {
    pub child: std::process::Child,
    pub addr: SocketAddr,
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that was free a moment ago (bind port 0, read it, let it go).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Start `herald serve` on `content`/`out` with `config_text` and wait until it answers.
pub(crate) fn start_binary(content: &Path, out: &Path, config_text: &str) -> Binary {
    let config_file = out.parent().unwrap().join(format!("herald-{}.toml", free_port()));
    std::fs::write(&config_file, config_text).unwrap();
    for _ in 0..5 {
        let port = free_port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
            .args(["serve", "--config"])
            .arg(&config_file)
            .arg("--content")
            .arg(content)
            .arg("--out")
            .arg(out)
            .args(["--listen", &addr.to_string(), "--base-url", "https://feeds.example.org"])
            .env("HERALD_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut bin = Binary { child, addr };
        let up = wait_for(Duration::from_secs(30), || {
            matches!(bin.child.try_wait(), Ok(Some(_)))
                || raw::get_with(addr, "/healthz", "").is_ok_and(|r| r.status == 200)
        });
        if up && bin.child.try_wait().unwrap().is_none() {
            return bin;
        }
        let _ = bin.child.kill(); // the port was taken meanwhile: try another
    }
    panic!("herald serve never started");
}

const BINARY_CONFIG: &str = "[site]\ntitle = \"Test\"\nid_authority = \"feeds.example.org,2026\"\n[content]\ngit_dates = false\n";

/// Every feed of the index page, fetched: name → (ETag, bytes), for identity and gzip.
fn fetch_all(addr: SocketAddr, names: &[String]) -> BTreeMap<String, (String, Vec<u8>)> {
    let mut out = BTreeMap::new();
    for name in names {
        let path = format!("/feeds/{}", herald::site::encode_path(name));
        for (coding, extra) in [("identity", ""), ("gzip", "Accept-Encoding: gzip\r\n")] {
            let r = raw::get_with(addr, &path, extra).unwrap();
            assert_eq!(r.status, 200, "{path}");
            let etag = r.header("etag").unwrap().to_string();
            out.insert(format!("{name} {coding}"), (etag, r.body));
        }
    }
    out
}

#[test]
fn kill_9_then_restart_serves_identical_etags_and_bytes() {
    let content = copy_fixture("mixed");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("feeds");
    let first = start_binary(content.path(), &out, BINARY_CONFIG);
    let names: Vec<String> = {
        let want = cold_build(&config(content.path(), &dir.path().join("unused")));
        want.keys().cloned().collect()
    };
    assert!(names.len() >= 4);
    let before = fetch_all(first.addr, &names);
    let mut first = first;
    // SIGKILL: no chance to clean up.
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    let second = start_binary(content.path(), &out, BINARY_CONFIG);
    let after = fetch_all(second.addr, &names);
    for (key, (etag, bytes)) in &before {
        let (etag2, bytes2) = &after[key];
        assert_eq!(etag, etag2, "{key}: ETag changed across kill -9 and restart");
        assert!(bytes == bytes2, "{key}: bytes changed across kill -9 and restart");
    }
    let served: Feeds =
        names.iter().map(|n| (n.clone(), after[&format!("{n} identity")].1.clone())).collect();
    let problems = mirror_problems(&out, &served);
    assert!(problems.is_empty(), "mirror after kill -9 and restart:\n{}", problems.join("\n"));
}

/// Set the socket's receive buffer (small: the server cannot push a big response into it,
/// so most of it is still on its way when the signal lands).
fn set_receive_buffer(stream: &std::net::TcpStream, size: libc::c_int) {
    use std::os::fd::AsRawFd;
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            &size as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0);
}

#[test]
fn sigterm_finishes_in_flight_requests_and_exits_0() {
    use std::io::{Read, Write};
    let content = copy_fixture("mixed");
    // Big articles, so that a feed takes a while to send to a slow reader.
    let paragraph = "Harbour news in long form, with enough words to make a big feed. ".repeat(200);
    for i in 0..60 {
        write(
            content.path(),
            &format!("big/b{i:02}.md"),
            &format!(
                "{}\n{paragraph}\n",
                article(&format!("Big {i}"), "Big", "2025-08-01").trim_end()
            ),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("feeds");
    let config_text = format!(
        "{BINARY_CONFIG}[server]\nshutdown_timeout_seconds = 5\nrequest_timeout_ms = 4000\n"
    );
    let mut bin = start_binary(content.path(), &out, &config_text);
    let addr = bin.addr;

    // A slow reader: its whole request is in, the response (~1 MB) is being sent when the
    // signal lands, and it reads the rest only afterwards. (A connection whose request head
    // has not fully arrived is not in flight: actix closes it at once on shutdown.)
    let mut slow = std::net::TcpStream::connect(addr).unwrap();
    set_receive_buffer(&slow, 64 * 1024);
    slow.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    slow.write_all(
        format!("GET /feeds/all.rss HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )
    .unwrap();
    let mut first = vec![0u8; 1024];
    slow.read_exact(&mut first).unwrap();
    // Busy clients: many concurrent GETs running when the signal lands.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let (mut ok, mut refused, mut broken) = (0, 0, Vec::new());
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    match std::net::TcpStream::connect(addr) {
                        Err(_) => refused += 1,
                        Ok(mut s) => {
                            s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                            let req = format!("GET /feeds/all.atom HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
                            let _ = s.write_all(req.as_bytes());
                            match raw::read_response(&mut s) {
                                Ok(r) if r.status == 200 && well_formed(&r.body).is_ok() => ok += 1,
                                // Accepted by the kernel after the server stopped accepting:
                                // closed unanswered, never half answered.
                                Err(e) if e.contains("no complete head in 0 bytes") || e.starts_with("read") => refused += 1,
                                other => broken.push(format!("{other:?}")),
                            }
                        }
                    }
                    if refused > 0 {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
                (ok, refused, broken)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let signalled = Instant::now();
    assert_eq!(unsafe { libc::kill(bin.child.id() as libc::pid_t, libc::SIGTERM) }, 0);
    let status = loop {
        if let Some(status) = bin.child.try_wait().unwrap() {
            break status;
        }
        assert!(signalled.elapsed() < Duration::from_secs(15), "herald did not exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    let exited_after = signalled.elapsed();
    assert!(exited_after < Duration::from_secs(5 + 3), "exit took {exited_after:.1?}");
    // The response in flight arrives whole after the signal (and even after the exit).
    let mut buf = first;
    let _ = slow.read_to_end(&mut buf);
    let answer = raw::parse(&buf).expect("the in-flight request was answered whole");
    assert_eq!(answer.status, 200);
    assert!(answer.body.len() > 500_000, "the response should be big: {}", answer.body.len());
    well_formed(&answer.body).expect("the in-flight answer is a whole feed");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (mut ok, mut refused) = (0, 0);
    for c in clients {
        let (o, r, broken) = c.join().unwrap();
        assert!(broken.is_empty(), "responses cut short by the shutdown: {broken:?}");
        ok += o;
        refused += r;
    }
    assert!(status.success(), "exit status after SIGTERM: {status:?}");
    assert!(ok > 0);
    assert!(std::net::TcpStream::connect(addr).is_err(), "still accepting after exit");
    eprintln!("SIGTERM: exited 0 after {exited_after:.2?}; {ok} concurrent GETs answered, {refused} refused after the signal");
}
