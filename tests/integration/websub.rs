//! WebSub publishing on `herald serve`, against a local hub (127.0.0.1, port 0) that records
//! every publish ping: the feeds link the hub, exactly the changed live feeds are pinged,
//! failures are retried, and a dead hub never holds the feeds back.

use crate::support::*;
use herald::config::Config;
use herald::serve::{Options, Running};
use herald::websub::Retry;
use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The site's base URL in `support::config_with`.
const BASE: &str = "https://feeds.example.org";

/// How the test hub answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// 204 to every ping.
    Accept,
    /// The first ping of each topic fails (429 with `Retry-After: 0` for RSS topics, 503 for
    /// the others); later ones get 204.
    FailFirst,
    /// Accepts connections and never answers.
    Hang,
}

/// One publish ping as the hub received it.
#[derive(Debug, Clone)]
struct Ping {
    method: String,
    content_type: String,
    mode: String,
    topic: String,
    /// What the hub answered.
    status: u16,
}

/// A WebSub hub on 127.0.0.1 that records the pings; stops when dropped.
struct Hub {
    url: String,
    addr: SocketAddr,
    pings: Arc<Mutex<Vec<Ping>>>,
    connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Hub {
    fn start(mode: Mode) -> Hub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let pings = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (log, count, done) = (pings.clone(), connections.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut held = Vec::new();
            let mut seen = HashSet::new();
            for stream in listener.incoming() {
                if done.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(mut stream) = stream else { continue };
                count.fetch_add(1, Ordering::SeqCst);
                if mode == Mode::Hang {
                    held.push(stream);
                    continue;
                }
                let Some(mut ping) = read_ping(&mut stream) else { continue };
                let first = seen.insert(ping.topic.clone());
                let (status, extra) = match mode {
                    Mode::FailFirst if first && ping.topic.ends_with(".rss") => {
                        (429, "Retry-After: 0\r\n")
                    }
                    Mode::FailFirst if first => (503, ""),
                    _ => (204, ""),
                };
                ping.status = status;
                log.lock().unwrap().push(ping);
                let _ = stream.write_all(
                    format!(
                        "HTTP/1.1 {status} X\r\n{extra}Content-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                    .as_bytes(),
                );
            }
        });
        Hub {
            url: format!("http://{addr}/hub"),
            addr,
            pings,
            connections,
            stop,
            thread: Some(thread),
        }
    }

    fn pings(&self) -> Vec<Ping> {
        self.pings.lock().unwrap().clone()
    }

    /// Pings per topic file name (`all.rss`), counting only those answered `status`.
    fn count(&self, status: u16) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for p in self.pings().iter().filter(|p| p.status == status) {
            *out.entry(file_of(&p.topic)).or_insert(0) += 1;
        }
        out
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes `accept`
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Read one request: head, then a `Content-Length` body, then the form.
fn read_ping(stream: &mut TcpStream) -> Option<Ping> {
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = stream.read(&mut chunk).ok().filter(|&n| n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let method = lines.next()?.split(' ').next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let header = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let len: usize = header("content-length")?.parse().ok()?;
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = stream.read(&mut chunk).ok().filter(|&n| n > 0)?;
        body.extend_from_slice(&chunk[..n]);
    }
    let form: BTreeMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    Some(Ping {
        method,
        content_type: header("content-type").unwrap_or_default(),
        mode: form.get("hub.mode").cloned().unwrap_or_default(),
        topic: form.get("hub.url").cloned().unwrap_or_default(),
        status: 0,
    })
}

/// `all.rss` of `https://feeds.example.org/feeds/all.rss`.
fn file_of(topic: &str) -> String {
    let file = topic.strip_prefix(&format!("{BASE}/feeds/")).unwrap_or(topic);
    percent_encoding::percent_decode_str(file).decode_utf8_lossy().into_owned()
}

/// `{slug}.rss`, `.atom`, `.json` for each slug, with `n` pings each.
fn live(slugs: &[&str], n: usize) -> BTreeMap<String, usize> {
    slugs
        .iter()
        .flat_map(|s| ["rss", "atom", "json"].map(|ext| (format!("{s}.{ext}"), n)))
        .collect()
}

/// Add the counts of `b` to `a`.
fn plus(mut a: BTreeMap<String, usize>, b: BTreeMap<String, usize>) -> BTreeMap<String, usize> {
    for (k, n) in b {
        *a.entry(k).or_insert(0) += n;
    }
    a
}

/// Whether the hub took a ping for each format of the live feed `slug`.
fn accepted_all(hub: &Hub, slug: &str) -> bool {
    let accepted = hub.count(204);
    ["rss", "atom", "json"].iter().all(|ext| accepted.contains_key(&format!("{slug}.{ext}")))
}

/// Poll `done` for 30 s at most; fail with `what` and the hub's log if it never holds.
#[track_caller]
fn wait_until(what: &str, hub: &Hub, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "{what} never happened; the hub got {:#?}", hub.pings());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Short waits, so a retried ping comes within the test's patience.
fn fast() -> Options {
    Options {
        websub_retry: Retry {
            first_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
            max_attempts: 5,
            timeout: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(1),
        },
        ..Options::default()
    }
}

fn config(root: &Path, out: &Path, hubs: &[&str], extra: &str) -> Arc<Config> {
    let hubs: Vec<String> = hubs.iter().map(|h| format!("{h:?}")).collect();
    config_with(
        root,
        out,
        &format!("[content]\ngit_dates = false\n{extra}[websub]\nhubs = [{}]\n", hubs.join(", ")),
    )
}

/// Replace a file at once (write a hidden temporary, rename it over), so the watcher never
/// sees it half written and one rebuild follows.
fn replace(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let tmp = path.with_file_name(".websub-test.tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, &path).unwrap();
}

fn edit_title(root: &Path, rel: &str, from: &str, to: &str) {
    let text = std::fs::read_to_string(root.join(rel)).unwrap();
    assert!(text.contains(from), "{rel} has no {from:?}");
    replace(root, rel, &text.replacen(from, to, 1));
}

/// A new article in a category of its own: its pings come after every ping queued before.
fn add_sentinel(root: &Path, name: &str) {
    replace(
        root,
        &format!("posts/{name}.md"),
        &format!("---\ntitle: {name}\ndate: 2025-06-01\ncategory: {name}\n---\n\nBody.\n"),
    );
}

fn start(cfg: Arc<Config>) -> Running {
    herald::serve::start_with(cfg, fast()).unwrap()
}

#[test]
fn the_hub_is_pinged_for_exactly_the_live_feeds_that_changed() {
    let content = copy_fixture("mixed");
    let root = content.path();
    let out = tempfile::tempdir().unwrap();
    let hub = Hub::start(Mode::Accept);
    // Small archive pages, so there are pages to change and (rightly) not to ping.
    let cfg = config(root, out.path(), &[&hub.url], "[feeds]\narchive_page_size = 2\n");

    // The mirror as a previous run left it; then an edit while Herald is down.
    let before = herald::site::Site::build(cfg.clone()).unwrap();
    let written = herald::publish::Mirror::new(out.path().to_path_buf())
        .sync_all(&herald::serve::snapshot(&before))
        .unwrap();
    assert!(written.iter().any(|f| f.contains("/archive/")), "{written:?}");
    edit_title(root, "posts/ferries.md", "Ferry timetable changes", "Ferry timetable changed");

    // Startup pings the feeds that differ from the mirror: the category and `all`.
    let running = start(cfg.clone());
    let mut want = live(&["harbour-life", "all"], 1);
    wait_until("the startup pings", &hub, || hub.count(204) == want);
    assert!(
        std::fs::read_to_string(out.path().join("harbour-life.atom"))
            .unwrap()
            .contains("Ferry timetable changed"),
        "the mirror caught up"
    );

    // Running: an article of two categories changes those two and `all`.
    edit_title(root, "posts/2023-05-01-kites.md", "Kites over the harbour", "Kites, again");
    want = plus(want, live(&["harbour-life", "valley-watch", "all"], 1));
    wait_until("the pings of the edit", &hub, || hub.count(204) == want);

    // A sentinel in a new category: pinged after anything the edits queued, so nothing
    // else can still be on its way when the counts are compared.
    add_sentinel(root, "sentinel");
    want = plus(want, live(&["sentinel", "all"], 1));
    wait_until("the sentinel's pings", &hub, || accepted_all(&hub, "sentinel"));
    assert_eq!(hub.count(204), want, "exactly the changed live feeds, once per change");
    assert_eq!(hub.pings().len(), want.values().sum::<usize>());

    for ping in hub.pings() {
        assert_eq!(ping.method, "POST");
        assert_eq!(ping.content_type, "application/x-www-form-urlencoded");
        assert_eq!(ping.mode, "publish");
    }

    // The topic pinged is the feed's own `rel="self"`, and the feed names the hub — in the
    // document and in the `Link` header. Archive pages are not topics and link no hub.
    let topic = format!("{BASE}/feeds/harbour-life.atom");
    assert!(hub.pings().iter().any(|p| p.topic == topic));
    let atom = raw::get(running.addr, "/feeds/harbour-life.atom");
    let text = String::from_utf8(atom.body.clone()).unwrap();
    assert!(text.contains(&format!(r#"<link href="{topic}" rel="self""#)), "{text}");
    assert!(text.contains(&format!(r#"<link href="{}" rel="hub"/>"#, hub.url)), "{text}");
    let link = format!(r#"<{}>; rel="hub", <{topic}>; rel="self""#, hub.url);
    assert_eq!(atom.header("link"), Some(link.as_str()));
    let etag = atom.header("etag").unwrap();
    let not_modified = raw::get_with(
        running.addr,
        "/feeds/harbour-life.atom",
        &format!("If-None-Match: {etag}\r\n"),
    )
    .unwrap();
    assert_eq!(not_modified.status, 304);
    assert_eq!(not_modified.header("link"), Some(link.as_str()), "on 304 too");
    let rss = String::from_utf8(raw::get(running.addr, "/feeds/all.rss").body).unwrap();
    assert!(rss.contains(&format!(r#"<atom:link href="{BASE}/feeds/all.rss" rel="self""#)));
    assert!(rss.contains(&format!(r#"<atom:link href="{}" rel="hub"/>"#, hub.url)), "{rss}");
    let json: serde_json::Value =
        serde_json::from_slice(&raw::get(running.addr, "/feeds/all.json").body).unwrap();
    assert_eq!(json["feed_url"], format!("{BASE}/feeds/all.json"));
    assert_eq!(json["hubs"], serde_json::json!([{"type": "WebSub", "url": hub.url}]));
    let page = raw::get(running.addr, "/feeds/all/archive/1.atom");
    assert_eq!(page.status, 200);
    assert!(!String::from_utf8_lossy(&page.body).contains("rel=\"hub\""));
    assert_eq!(page.header("link"), None);
    running.stop().unwrap();
}

#[test]
fn a_failing_hub_gets_each_ping_again_until_it_takes_it() {
    let content = copy_fixture("mixed");
    let root = content.path();
    let out = tempfile::tempdir().unwrap();
    let hub = Hub::start(Mode::FailFirst);
    // An empty mirror: every live feed is new, so startup pings them all.
    let running = start(config(root, out.path(), &[&hub.url], ""));
    let topics: Vec<String> = {
        let snapshot = running.current.load();
        let mut t: Vec<String> =
            snapshot.feeds.keys().filter(|f| herald::websub::is_topic(f)).cloned().collect();
        t.sort();
        t
    };
    assert!(topics.len() >= 9, "{topics:?}");
    let every =
        |n: usize| -> BTreeMap<String, usize> { topics.iter().map(|t| (t.clone(), n)).collect() };
    let failed = |hub: &Hub| plus(hub.count(429), hub.count(503));
    wait_until("every ping accepted after one failure", &hub, || hub.count(204) == every(1));
    assert_eq!(failed(&hub), every(1), "each topic failed once first");
    // 429 with Retry-After for RSS, 503 for the others.
    assert!(hub.count(429).keys().all(|t| t.ends_with(".rss")));
    assert!(hub.count(503).keys().all(|t| !t.ends_with(".rss")));

    // A sentinel, pinged after anything still queued: then no topic got a third try.
    add_sentinel(root, "sentinel");
    wait_until("the sentinel's pings", &hub, || accepted_all(&hub, "sentinel"));
    let want = plus(every(1), live(&["sentinel", "all"], 1));
    assert_eq!(hub.count(204), want);
    assert_eq!(failed(&hub), plus(every(1), live(&["sentinel"], 1)));
    running.stop().unwrap();
}

#[test]
fn an_unreachable_or_silent_hub_never_holds_the_feeds_back() {
    let content = copy_fixture("mixed");
    let root = content.path();
    let out = tempfile::tempdir().unwrap();
    // Nothing listens on `refused` any more; `silent` accepts and never answers.
    let refused = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/hub", listener.local_addr().unwrap())
    };
    let silent = Hub::start(Mode::Hang);
    // A ping to the silent hub waits for the whole timeout: were a rebuild to wait for a
    // ping, the feeds below could not follow within the test's patience.
    let mut options = fast();
    options.websub_retry.timeout = Duration::from_secs(600);
    let cfg = config(root, out.path(), &[&refused, &silent.url], "");
    let running = herald::serve::start_with(cfg, options).unwrap();
    wait_until("a ping to the silent hub", &silent, || {
        silent.connections.load(Ordering::SeqCst) > 0
    });

    // Edits keep coming through while the pings fail and hang.
    for n in 1..=3 {
        let title = format!("Ferry timetable, take {n}");
        let from = if n == 1 {
            "Ferry timetable changes".to_string()
        } else {
            format!("Ferry timetable, take {}", n - 1)
        };
        edit_title(root, "posts/ferries.md", &from, &title);
        wait_until("the served feed follows", &silent, || {
            let body = String::from_utf8(raw::get(running.addr, "/feeds/harbour-life.rss").body);
            body.is_ok_and(|b| b.contains(&title))
        });
        wait_until("the mirror follows", &silent, || {
            std::fs::read_to_string(out.path().join("harbour-life.atom"))
                .is_ok_and(|t| t.contains(&title))
        });
    }
    running.stop().unwrap();
}

#[test]
fn herald_build_links_the_hub_and_never_pings() {
    let content = copy_fixture("mixed");
    let out = tempfile::tempdir().unwrap();
    let hub = Hub::start(Mode::Accept);
    let config = content.path().join("herald.toml");
    std::fs::write(
        &config,
        format!(
            "[site]\nbase_url = \"{BASE}\"\n[content]\nroot = \".\"\ngit_dates = false\n\
             [feeds]\nout = {:?}\n[websub]\nhubs = [{:?}]\n",
            out.path(),
            hub.url
        ),
    )
    .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["build", "--config"])
        .arg(&config)
        .env("HERALD_LOG", "warn")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let atom = std::fs::read_to_string(out.path().join("all.atom")).unwrap();
    assert!(atom.contains(&format!(r#"<link href="{}" rel="hub"/>"#, hub.url)), "{atom}");
    // The process has exited, so anything it sent waits in the hub's accept queue ahead of
    // this marker ping: once the marker is recorded, the hub has seen everything.
    let mut marker = TcpStream::connect(hub.addr).unwrap();
    let body = "hub.mode=publish&hub.url=marker";
    write!(
        marker,
        "POST /hub HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    wait_until("the marker ping", &hub, || hub.pings().iter().any(|p| p.topic == "marker"));
    let topics: Vec<String> = hub.pings().into_iter().map(|p| p.topic).collect();
    assert_eq!(topics, ["marker"], "herald build sent no ping");
    assert_eq!(hub.connections.load(Ordering::SeqCst), 1);
}

#[test]
fn hubs_added_to_the_watched_config_file_are_linked_and_pinged_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture_dir("mixed"), &dir.path().join("content"));
    let hub = Hub::start(Mode::Accept);
    let file = dir.path().join("herald.toml");
    let text = |hubs: &str| {
        format!(
            "[site]\ntitle = \"T\"\nbase_url = \"{BASE}\"\nid_authority = \"feeds.example.org,2026\"\n\
             [content]\nroot = \"content\"\ngit_dates = false\n[feeds]\nout = \"out\"\n\
             [server]\nlisten = \"127.0.0.1:0\"\n[websub]\nhubs = [{hubs}]\n"
        )
    };
    std::fs::write(&file, text("")).unwrap();
    let source = herald::reload::ConfigSource::file(file.clone(), Default::default());
    let running = herald::serve::start_watched(source).unwrap();
    let atom =
        || String::from_utf8_lossy(&raw::get(running.addr, "/feeds/all.atom").body).into_owned();
    assert!(!atom().contains("rel=\"hub\""), "no hub before the edit");

    std::fs::write(&file, text(&format!("{:?}", hub.url))).unwrap();
    // Every live feed changed (it names the hub now), so each is pinged at the new hub.
    wait_until("the new hub gets every live feed", &hub, || {
        accepted_all(&hub, "all") && accepted_all(&hub, "harbour-life")
    });
    assert!(atom().contains(&format!("href=\"{}\"", hub.url)), "{}", atom());
    assert!(hub.pings().iter().all(|p| p.mode == "publish"));
    running.stop().unwrap();
}
