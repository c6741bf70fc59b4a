//! Consistency under change: a seeded replay of real-looking repository changes against a
//! running Herald; after every step the served feeds must be byte-identical to a cold build
//! of the same tree, and under concurrent load no response may be broken or mixed.
//!
//! The long load run is the same load test, longer: `bench/replay.sh [STEPS] [SECONDS]`
//! (default 2000 steps, at most 600 s) sets `HERALD_REPLAY_STEPS` / `HERALD_REPLAY_SECONDS`
//! and runs `under_load_every_response_is_whole_current_and_never_mixed` in release mode.

use crate::faults::{cold_build, etag_of, settle, well_formed};
use crate::support::*;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// xorshift64*: small, seeded, the same sequence everywhere.
pub(crate) struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const CATEGORIES: &[&str] =
    &["Harbour Life", "Valley Watch", "Night Market", "喜马拉雅农场新西兰站", "Weather & Tides"];
const FOLDERS: &[&str] = &["posts", "news/2024/03", "notes", "archive/old", "talks"];
const WORDS: &[&str] = &[
    "ferry",
    "kites",
    "lantern",
    "harbour",
    "market",
    "rain",
    "tide",
    "council",
    "bridge",
    "festival",
    "<b>bold</b>",
    "R&D",
    "\"quoted\"",
    "夜市",
    "café",
];

#[derive(Debug, Clone)]
struct Art {
    title: String,
    category: String,
    date: String,
    body: String,
}

impl Art {
    fn text(&self) -> String {
        format!(
            "---\ntitle: {:?}\ndate: {}\nupdated: {}\ncategory: {:?}\n---\n\n{}\n",
            self.title, self.date, self.date, self.category, self.body
        )
    }
}

/// The repository as the replay believes it is.
pub(crate) struct Repo {
    root: PathBuf,
    files: BTreeMap<String, Art>,
    rng: Rng,
    serial: usize,
}

impl Repo {
    pub fn new(root: &Path, seed: u64) -> Repo {
        let mut repo = Repo {
            root: root.to_path_buf(),
            files: BTreeMap::new(),
            rng: Rng::new(seed),
            serial: 0,
        };
        for _ in 0..20 {
            let (path, art) = repo.new_article(None);
            repo.put(&path, art);
        }
        repo
    }

    fn words(&mut self, n: usize) -> String {
        (0..n).map(|_| *self.rng.pick(WORDS)).collect::<Vec<_>>().join(" ")
    }

    fn date(&mut self) -> String {
        format!(
            "2024-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            1 + self.rng.below(12),
            1 + self.rng.below(28),
            self.rng.below(24),
            self.rng.below(60),
            self.rng.below(60)
        )
    }

    fn new_article(&mut self, folder: Option<&str>) -> (String, Art) {
        self.serial += 1;
        let folder =
            folder.map(str::to_string).unwrap_or_else(|| self.rng.pick(FOLDERS).to_string());
        let title = format!("{} {}", self.words(3), self.serial);
        let art = Art {
            category: self.rng.pick(CATEGORIES).to_string(),
            date: self.date(),
            body: format!("{}\n\n{}", self.words(12), self.words(20)),
            title,
        };
        (format!("{folder}/a{:05}.md", self.serial), art)
    }

    fn put(&mut self, path: &str, art: Art) {
        let abs = self.root.join(path);
        std::fs::create_dir_all(abs.parent().unwrap()).unwrap();
        std::fs::write(abs, art.text()).unwrap();
        self.files.insert(path.to_string(), art);
    }

    fn delete(&mut self, path: &str) {
        std::fs::remove_file(self.root.join(path)).unwrap();
        self.files.remove(path);
    }

    fn rename(&mut self, from: &str, to: &str) {
        let abs = self.root.join(to);
        std::fs::create_dir_all(abs.parent().unwrap()).unwrap();
        std::fs::rename(self.root.join(from), abs).unwrap();
        let art = self.files.remove(from).unwrap();
        self.files.insert(to.to_string(), art);
    }

    fn some_path(&mut self) -> Option<String> {
        if self.files.is_empty() {
            return None;
        }
        let i = self.rng.below(self.files.len());
        self.files.keys().nth(i).cloned()
    }

    /// One random change; returns what it did.
    pub fn step(&mut self) -> String {
        let roll = self.rng.below(100);
        let Some(path) = self.some_path() else {
            let (p, a) = self.new_article(None);
            self.put(&p, a);
            return format!("add {p}");
        };
        match roll {
            0..=19 => {
                let (p, a) = self.new_article(None);
                self.put(&p, a);
                format!("add {p}")
            }
            20..=34 => {
                let mut art = self.files[&path].clone();
                art.title = format!("{} (edited {})", self.words(2), self.serial);
                self.serial += 1;
                self.put(&path, art);
                format!("edit title {path}")
            }
            35..=44 => {
                let mut art = self.files[&path].clone();
                art.category = self.rng.pick(CATEGORIES).to_string();
                self.put(&path, art.clone());
                format!("edit category {path} → {}", art.category)
            }
            45..=54 => {
                let mut art = self.files[&path].clone();
                art.date = self.date();
                self.put(&path, art);
                format!("edit date {path}")
            }
            55..=64 => {
                self.delete(&path);
                format!("delete {path}")
            }
            65..=74 => {
                let folder = path.rsplit_once('/').map_or("", |(f, _)| f).to_string();
                self.serial += 1;
                let to = format!("{folder}/renamed-{:05}.md", self.serial);
                self.rename(&path, &to);
                format!("rename {path} → {to}")
            }
            75..=86 => {
                let name = path.rsplit('/').next().unwrap().to_string();
                let folder = self.rng.pick(FOLDERS).to_string();
                let to = format!("{folder}/{name}");
                if self.files.contains_key(&to) {
                    return "move skipped (target exists)".into();
                }
                self.rename(&path, &to);
                format!("move {path} → {to}")
            }
            _ => self.burst(200),
        }
    }

    /// A `git pull`: ~`n` files added, edited and deleted at once.
    pub fn burst(&mut self, n: usize) -> String {
        let (mut added, mut edited, mut deleted) = (0, 0, 0);
        let pull = format!("pull/{:05}", self.serial);
        for _ in 0..n {
            let roll = self.rng.below(10);
            let existing = self.some_path();
            match (roll, existing) {
                (0..=1, Some(p)) if self.files.len() > 150 => {
                    self.delete(&p);
                    deleted += 1;
                }
                (2..=4, Some(p)) => {
                    let mut art = self.files[&p].clone();
                    art.title = format!("{} (pulled {})", art.title, self.serial);
                    art.body.push_str("\n\nMore text.");
                    self.serial += 1;
                    self.put(&p, art);
                    edited += 1;
                }
                _ => {
                    let (p, a) = self.new_article(Some(&pull));
                    self.put(&p, a);
                    added += 1;
                }
            }
        }
        // Keep the repository bounded: a big pull may also drop an old pull folder.
        if self.files.len() > 400 {
            let old: Vec<String> =
                self.files.keys().filter(|p| p.starts_with("pull/")).take(200).cloned().collect();
            for p in old {
                self.delete(&p);
                deleted += 1;
            }
        }
        format!("burst: {added} added, {edited} edited, {deleted} deleted")
    }
}

fn replay_config(root: &Path, out: &Path) -> Arc<herald::config::Config> {
    // 10 items per feed: fewer bytes to render and compress in a debug build (each step
    // costs a cold build), and old items still fall off the end.
    // Two custom feeds, so their incremental re-planning (by category, by title word, with
    // exclusions and a cap) is held to a cold build at every step too.
    config_with(
        root,
        out,
        "[content]\ngit_dates = false\n[feeds]\nitems = 10\n\
         [[feeds.custom]]\nslug = \"harbour-and-tides\"\n\
         categories = [\"Harbour Life\", \"Weather & Tides\"]\nexclude_title_words = [\"KITES\"]\nitems = 5\n\
         [[feeds.custom]]\nslug = \"night-words\"\ntitle_words = [\"夜市\", \"Lantern\"]\n\
         exclude_categories = [\"Night Market\"]\n",
    )
}

const STEPS: usize = 40;

#[test]
fn a_seeded_replay_always_settles_to_a_cold_build() {
    let content = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let root = content.path();
    let mut repo = Repo::new(root, 0x4e52_4144);
    let cfg = replay_config(root, out.path());
    let running = herald::serve::start(cfg.clone()).unwrap();
    let mut slowest = Duration::ZERO;
    // Each step costs a cold build (~0.3 s in a debug build, mostly compression), so 40
    // steps; the seed gives every kind of change, bursts included (see the printed log).
    let mut kinds = std::collections::BTreeSet::new();
    for step in 0..STEPS {
        let what = repo.step();
        kinds.insert(what.split(' ').next().unwrap().to_string());
        let want = cold_build(&cfg);
        let took =
            settle(&running, &want, Duration::from_secs(30), &format!("step {step}: {what}"));
        slowest = slowest.max(took);
    }
    eprintln!(
        "replay: {STEPS} steps ({kinds:?}), {} files at the end, slowest settle {slowest:.2?}",
        repo.files.len()
    );
    for kind in ["add", "edit", "delete", "rename", "move", "burst:"] {
        assert!(kinds.contains(kind), "the seed never made a {kind:?} step: {kinds:?}");
    }
    running.stop().unwrap();
}

/// Every version of every feed ever published: name → identity and gzip ETags.
#[derive(Default)]
struct Versions {
    identity: HashMap<String, HashSet<String>>,
    gzip: HashMap<String, HashSet<String>>,
}

#[derive(Default, Debug)]
struct LoadStats {
    requests: usize,
    ok: usize,
    not_modified: usize,
    not_found: usize,
    longest: Duration,
    failures: Vec<String>,
    /// (feed, coding, ETag, body identity ETag) of every 200, checked against the versions.
    seen: Vec<(String, &'static str, String)>,
    /// The snapshots current just before and just after each request: with the poller's,
    /// the published versions (a snapshot that lived only during one request is still seen).
    snapshots: Vec<Arc<herald::publish::Snapshot>>,
}

/// Keep `snapshot` unless it is the last one kept.
fn keep_new(
    kept: &mut Vec<Arc<herald::publish::Snapshot>>,
    snapshot: Arc<herald::publish::Snapshot>,
) {
    if !kept.last().is_some_and(|last| Arc::ptr_eq(last, &snapshot)) {
        kept.push(snapshot);
    }
}

fn hammer(
    addr: std::net::SocketAddr,
    current: Arc<arc_swap::ArcSwap<herald::publish::Snapshot>>,
    names: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    seed: u64,
    max_requests: usize,
) -> LoadStats {
    let mut rng = Rng::new(seed);
    let mut stats = LoadStats::default();
    let mut etags: Vec<(String, String)> = Vec::new();
    while !stop.load(Ordering::Relaxed) && stats.requests < max_requests {
        let name = {
            let names = names.lock().unwrap();
            names[rng.below(names.len())].clone()
        };
        let path = format!("/feeds/{}", herald::site::encode_path(&name));
        let kind = rng.below(3);
        let extra = match kind {
            0 => String::new(),
            1 => "Accept-Encoding: gzip\r\n".to_string(),
            _ => match etags.iter().rev().find(|(n, _)| *n == name) {
                Some((_, etag)) => format!("If-None-Match: {etag}\r\n"),
                None => String::new(),
            },
        };
        let started = Instant::now();
        keep_new(&mut stats.snapshots, current.load_full());
        let result = raw::get_with(addr, &path, &extra);
        keep_new(&mut stats.snapshots, current.load_full());
        stats.longest = stats.longest.max(started.elapsed());
        stats.requests += 1;
        let r = match result {
            Ok(r) => r,
            Err(e) => {
                stats.failures.push(format!("GET {path} [{extra:?}]: {e}"));
                continue;
            }
        };
        let etag = r.header("etag").unwrap_or_default().to_string();
        match r.status {
            200 => {
                stats.ok += 1;
                let gz = r.header("content-encoding") == Some("gzip");
                let identity = if gz {
                    let mut out = Vec::new();
                    use std::io::Read;
                    if let Err(e) = flate2::read::GzDecoder::new(&r.body[..]).read_to_end(&mut out)
                    {
                        stats.failures.push(format!("{path}: bad gzip: {e}"));
                        continue;
                    }
                    out
                } else {
                    r.body.clone()
                };
                if let Err(e) = well_formed(&identity) {
                    stats.failures.push(format!("{path}: 200 body not well-formed: {e}"));
                }
                let want = etag_of(&r.body, if gz { "-gz" } else { "" });
                if etag != want {
                    stats.failures.push(format!("{path}: ETag {etag} but the body's is {want}"));
                }
                if gz {
                    stats.seen.push((name.clone(), "gzip", etag.clone()));
                }
                stats.seen.push((name.clone(), "identity", etag_of(&identity, "")));
                etags.push((name, etag));
                if etags.len() > 64 {
                    etags.remove(0);
                }
            }
            304 => {
                stats.not_modified += 1;
                if !extra.contains(&etag) || etag.is_empty() {
                    stats.failures.push(format!("{path}: 304 with ETag {etag:?} for {extra:?}"));
                }
            }
            404 => stats.not_found += 1, // a category that is empty right now
            s => stats.failures.push(format!("{path} [{extra:?}]: status {s}")),
        }
    }
    stats
}

#[test]
fn under_load_every_response_is_whole_current_and_never_mixed() {
    let content = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let root = content.path();
    let mut repo = Repo::new(root, 0x10ad);
    let cfg = replay_config(root, out.path());
    let running = herald::serve::start(cfg.clone()).unwrap();
    let addr = running.addr;
    // Defaults keep the test short; bench/replay.sh makes it a long run.
    let env = |key: &str| std::env::var(key).ok().and_then(|v| v.parse::<u64>().ok());
    let steps = env("HERALD_REPLAY_STEPS").unwrap_or(10);
    let seconds = env("HERALD_REPLAY_SECONDS").map(Duration::from_secs);
    let max_requests = if seconds.is_some() { usize::MAX } else { 2000 };

    // Record every published version. A tight poller keeps each snapshot it sees, and the
    // clients keep the ones current around each request; their documents are read after the
    // load. (Reading them in the poller, which compresses each new document for its gzip
    // ETag, let it miss a snapshot that lived for less than that on a busy machine, and the
    // versions that snapshot served were then reported as never published.)
    let names = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let record = |snapshot: &herald::publish::Snapshot, v: &mut Versions| {
        for (name, doc) in &snapshot.feeds {
            v.identity.entry(name.clone()).or_default().insert(doc.identity_etag().to_string());
            v.gzip.entry(name.clone()).or_default().insert(doc.gzip().etag.clone());
        }
    };
    let first = running.current.load_full();
    {
        let mut n: Vec<String> = first.feeds.keys().cloned().collect();
        n.extend(["no-such-feed.rss".to_string()]);
        *names.lock().unwrap() = n;
    }
    let poller = {
        let (current, stop) = (running.current.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut kept = vec![first];
            while !stop.load(Ordering::Relaxed) {
                keep_new(&mut kept, current.load_full());
                std::thread::sleep(Duration::from_micros(200));
            }
            kept
        })
    };
    let clients: Vec<_> = (0..4)
        .map(|i| {
            let (current, names, stop) = (running.current.clone(), names.clone(), stop.clone());
            std::thread::spawn(move || hammer(addr, current, names, stop, 1000 + i, max_requests))
        })
        .collect();

    let started = Instant::now();
    for step in 0..steps {
        if seconds.is_some_and(|limit| started.elapsed() > limit) {
            eprintln!("load: time limit reached after {step} steps");
            break;
        }
        let what = repo.step();
        let want = cold_build(&cfg);
        settle(&running, &want, Duration::from_secs(30), &format!("load step {step}: {what}"));
        let mut n = names.lock().unwrap();
        for name in want.keys() {
            if !n.contains(name) {
                n.push(name.clone());
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    let mut total = LoadStats::default();
    for c in clients {
        let s = c.join().unwrap();
        total.requests += s.requests;
        total.ok += s.ok;
        total.not_modified += s.not_modified;
        total.not_found += s.not_found;
        total.longest = total.longest.max(s.longest);
        total.failures.extend(s.failures);
        total.seen.extend(s.seen);
        total.snapshots.extend(s.snapshots);
    }
    total.snapshots.extend(poller.join().unwrap());
    let elapsed = started.elapsed();
    let mut versions = Versions::default();
    let mut recorded = HashSet::new();
    for snapshot in &total.snapshots {
        if recorded.insert(Arc::as_ptr(snapshot)) {
            record(snapshot, &mut versions);
        }
    }
    let published: usize = versions.identity.values().map(HashSet::len).sum();
    for (name, coding, etag) in &total.seen {
        let set = if *coding == "gzip" { &versions.gzip } else { &versions.identity };
        if !set.get(name).is_some_and(|s| s.contains(etag)) {
            total.failures.push(format!("{name} ({coding}): body {etag} is no published version"));
        }
    }
    eprintln!(
        "load: {} requests in {elapsed:.1?} ({} 200, {} 304, {} 404), longest {:.1?}; {published} feed versions published",
        total.requests, total.ok, total.not_modified, total.not_found, total.longest
    );
    assert!(
        total.failures.is_empty(),
        "{} failed requests:\n{}",
        total.failures.len(),
        total.failures[..total.failures.len().min(20)].join("\n")
    );
    assert!(total.ok > 0);
    running.stop().unwrap();
}
