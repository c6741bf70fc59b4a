//! `herald serve`: build, publish, then rebuild on every change set while the server runs.

use crate::config::Config;
use crate::http::{self, AppState};
use crate::metrics::{Metrics, Outcome};
use crate::publish::{Mirror, Snapshot};
use crate::reload::{self, ConfigSource, ConfigWatcher, ReloadStats};
use crate::render::encode::Encoded;
use crate::site::{Packed, RebuildReport, Site};
use crate::watch::{ChangeSet, Watcher};
use crate::websub::{self, Pinger};
use anyhow::Context;
use arc_swap::ArcSwap;
use std::collections::BTreeSet;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The longest a burst of filesystem events is held back before a rebuild starts.
const MAX_BURST_DELAY: Duration = Duration::from_millis(250);

/// The snapshot of `site`, its index page to be rendered on first request.
pub fn snapshot(site: &Site) -> Snapshot {
    snapshot_cached(site, &Default::default())
}

/// [`snapshot`], whose index page takes its unchanged cards from `cards` (shared with the
/// pages of earlier snapshots).
fn snapshot_cached(
    site: &Site,
    cards: &Arc<std::sync::Mutex<http::pages::IndexCache>>,
) -> Snapshot {
    let mut snapshot = site.snapshot();
    snapshot.index_page = Some(http::pages::IndexPage::lazy(cards.clone()));
    snapshot.settings = http::Settings::new(site.config(), Arc::new(site.bodies()));
    snapshot
}

/// A running Herald: server, watchers and rebuild thread.
pub struct Running {
    /// The address the server listens on (useful with port 0).
    pub addr: std::net::SocketAddr,
    /// The snapshot being served; replaced after each rebuild.
    pub current: Arc<ArcSwap<Snapshot>>,
    /// What came of the config file's changes (all zero when it is not watched).
    pub reloads: Arc<ReloadStats>,
    server: actix_web::dev::ServerHandle,
    thread: std::thread::JoinHandle<std::io::Result<()>>,
    _config_watcher: Option<ConfigWatcher>,
    /// Ends the rebuild thread (which owns the content watcher) when `Running` goes away.
    _stop: StopOnDrop,
}

impl Running {
    /// Block until the server stops (SIGINT or SIGTERM: in-flight requests finish first).
    pub fn wait(self) -> anyhow::Result<()> {
        let result =
            self.thread.join().map_err(|_| anyhow::anyhow!("the server thread panicked"))?;
        Ok(result?)
    }

    /// Stop gracefully and wait for it.
    pub fn stop(self) -> anyhow::Result<()> {
        actix_web::rt::System::new().block_on(self.server.stop(true));
        self.wait()
    }
}

/// Sends [`Event::Stop`] to the rebuild thread when dropped.
struct StopOnDrop(Sender<Event>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let _ = self.0.send(Event::Stop);
    }
}

/// What [`start_with`] can be told beyond the configuration.
#[derive(Debug, Clone)]
pub struct Options {
    /// How WebSub publish pings are retried (tests shorten the waits).
    pub websub_retry: websub::Retry,
    /// How long no document may have been rendered before the ones held whole are packed
    /// (tests shorten it).
    pub pack_after: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options { websub_retry: websub::Retry::default(), pack_after: PACK_QUIET }
    }
}

/// Documents are packed once no rebuild rendered any for this long: an edit of the same
/// feed meanwhile would render them again, and the packing with them.
const PACK_QUIET: Duration = Duration::from_secs(2);
/// Documents packed per [`Event::Packed`]: memory comes down as the packer goes (a live feed
/// of gen-100k is ~0.3–1.2 MB a format), and a newer list is noticed between batches.
const PACK_BATCH: usize = 4;

/// Packs the documents the site holds whole ([`Site::whole_documents`]) off the rebuild
/// thread, once the feeds are quiet: gzip -9 at ~25 ms per MB is too slow for an edit's
/// path, and packing every live feed at start is seconds of CPU at 100,000 articles. A
/// rebuild that renders documents meanwhile sends a newer list, which replaces the old one.
struct Packer {
    lists: Sender<Vec<(String, Arc<Encoded>)>>,
}

impl Packer {
    fn start(quiet: Duration, events: Sender<Event>) -> std::io::Result<Packer> {
        let (lists, rx) = mpsc::channel();
        std::thread::Builder::new().name("herald-pack".into()).spawn(move || {
            lower_priority();
            pack_loop(&rx, quiet, &events);
        })?;
        Ok(Packer { lists })
    }

    /// Hand over what `site` holds whole, when it put a document whole since last time.
    fn offer(&self, site: &mut Site) {
        if site.take_new_whole() {
            let _ = self.lists.send(site.whole_documents());
        }
    }
}

/// Pack each list once no newer one came for `quiet`, sending the packed forms back in
/// batches, until the rebuild thread is gone.
fn pack_loop(
    lists: &Receiver<Vec<(String, Arc<Encoded>)>>,
    quiet: Duration,
    events: &Sender<Event>,
) {
    let mut next = lists.recv().ok();
    while let Some(mut list) = next.take() {
        loop {
            match lists.recv_timeout(quiet) {
                Ok(newer) => list = newer,
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
        let mut docs = list.into_iter();
        loop {
            let batch: Vec<_> = docs.by_ref().take(PACK_BATCH).collect();
            if batch.is_empty() || events.send(Event::Packed(crate::site::pack(batch))).is_err() {
                break;
            }
            if let Ok(newer) = lists.try_recv() {
                next = Some(newer);
                break;
            }
        }
        if next.is_none() {
            next = lists.recv().ok();
        }
    }
}

/// Packing is background work: on Linux the packer's nice value is raised (`setpriority` on
/// a thread id applies to that thread alone), so it takes only CPU that serving and
/// rebuilding leave.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: plain system calls on the calling thread; nothing is borrowed.
        let done = unsafe {
            let tid = libc::gettid();
            libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 10)
        };
        if done != 0 {
            tracing::debug!(
                "cannot lower the packer's priority: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}

/// `herald serve`: start and wait.
pub fn run(cfg: Arc<Config>) -> anyhow::Result<ExitCode> {
    start(cfg)?.wait()?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// `herald serve` with its config file watched: start and wait.
pub fn run_watched(source: ConfigSource) -> anyhow::Result<ExitCode> {
    start_watched(source)?.wait()?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Build, publish, start watching and serving; return once the server accepts connections.
/// The configuration is fixed: see [`start_watched`] for one that follows its file.
pub fn start(cfg: Arc<Config>) -> anyhow::Result<Running> {
    start_with(cfg, Options::default())
}

/// [`start`] with [`Options`].
pub fn start_with(cfg: Arc<Config>, options: Options) -> anyhow::Result<Running> {
    let (events_tx, events) = mpsc::channel();
    start_inner(cfg, None, events_tx, events, options)
}

/// [`start`] with the configuration loaded from `source`, whose file is then watched: a valid
/// change is applied without a restart, an invalid one is reported and the running
/// configuration kept.
pub fn start_watched(source: ConfigSource) -> anyhow::Result<Running> {
    let (events_tx, events) = mpsc::channel();
    // Watched before it is read, so an edit made while the first build runs is not missed.
    let config_watcher = match &source.path {
        Some(path) => {
            let tx = events_tx.clone();
            let watcher = ConfigWatcher::start(path, reload::CONFIG_QUIET, move || {
                tx.send(Event::ConfigChanged).is_ok()
            })?;
            tracing::debug!("watching config file {} for changes", path.display());
            Some(watcher)
        }
        None => {
            tracing::debug!("no config file: nothing to watch for configuration changes");
            None
        }
    };
    let cfg = Arc::new(source.load()?);
    let mut running = start_inner(cfg, Some(source), events_tx, events, Options::default())?;
    running._config_watcher = config_watcher;
    Ok(running)
}

/// [`start`], the rebuild thread reading `events` (the config watcher, if any, sends to
/// `events_tx` too).
fn start_inner(
    cfg: Arc<Config>,
    source: Option<ConfigSource>,
    events_tx: Sender<Event>,
    events: Receiver<Event>,
    options: Options,
) -> anyhow::Result<Running> {
    let started = Instant::now();
    let site = Site::build(cfg.clone())?;
    let index_cache = Arc::default();
    let first = snapshot_cached(&site, &index_cache);
    let pinger = Pinger::start(&cfg.websub.hubs, &cfg.site.base_url, options.websub_retry)
        .context("cannot start the WebSub threads")?;
    let mirror = Mirror::new(cfg.feeds.out.clone());
    // The feeds that differ from what the mirror held changed while Herald was down (or are
    // new): their subscribers have not heard of it yet. Pinged once the server listens.
    let mut startup_topics = Vec::new();
    let mirror_ok = match mirror.sync_all(&first) {
        Ok(written) => {
            startup_topics = written;
            true
        }
        Err(e) => {
            tracing::error!(
                "cannot write feeds to {}: {e}; serving them from memory",
                mirror.dir().display()
            );
            false
        }
    };
    let metrics = Arc::new(Metrics::new());
    metrics.published(&site, &first, started.elapsed(), None);
    let current = Arc::new(ArcSwap::from_pointee(first));
    let watcher = watch_content(&cfg, 0, events_tx.clone())?;
    let listener = std::net::TcpListener::bind(cfg.server.listen)
        .with_context(|| format!("cannot listen on {}", cfg.server.listen))?;
    let addr = listener.local_addr()?;
    let state =
        actix_web::web::Data::new(AppState { snapshot: current.clone(), metrics: metrics.clone() });
    let (feeds, articles) = (current.load().feeds.len(), site.index().len());
    let startup_pinger = pinger.clone();
    let publisher = Publisher {
        current: current.clone(),
        mirror: start_mirror(mirror, mirror_ok, current.clone())?,
        pinger,
        websub_retry: options.websub_retry,
        metrics: metrics.clone(),
        changed_at: None,
        index_cache,
    };
    let reloads = Arc::new(ReloadStats::default());
    let mut site = site;
    let packer = Packer::start(options.pack_after, events_tx.clone())
        .context("cannot start the packing thread")?;
    packer.offer(&mut site);
    let rebuilder = Rebuilder {
        site,
        packer,
        reloads: reloads.clone(),
        cfg: cfg.clone(),
        publisher,
        source,
        events_tx: events_tx.clone(),
        watcher,
        generation: 0,
        next_generation: 1,
        broken: false,
        root_missing: false,
    };
    std::thread::Builder::new()
        .name("herald-rebuild".into())
        .spawn(move || rebuild_loop(rebuilder, events))?;
    let timeouts = http::Timeouts::from(&cfg.server);
    let (handle_tx, handle_rx) = std::sync::mpsc::channel();
    let thread = std::thread::Builder::new().name("herald-http".into()).spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = http::server_with(state, listener, timeouts)?;
            let _ = handle_tx.send(server.handle());
            server.await
        })
    })?;
    let server = handle_rx.recv().context("the HTTP server did not start")?;
    if let Some(pinger) = startup_pinger {
        pinger.ping(&startup_topics);
    }
    tracing::info!(
        "serving {feeds} feed files for {articles} articles from {} at http://{addr}/ (ready in {:.2?})",
        cfg.content.root.display(),
        started.elapsed()
    );
    Ok(Running {
        addr,
        current,
        reloads,
        server,
        thread,
        _config_watcher: None,
        _stop: StopOnDrop(events_tx),
    })
}

/// What the rebuild thread is told, over one channel: it is the only writer of the site, so
/// content changes and config changes are applied one after the other, never concurrently.
enum Event {
    /// A change set from the content watcher of the given generation (a watcher replaced
    /// after `content.root` changed may still have sets in flight: they are dropped).
    Content { generation: u64, set: ChangeSet },
    /// The config file changed: re-read it.
    ConfigChanged,
    /// `Running` is gone.
    Stop,
    /// Documents the packer packed.
    Packed(Vec<Packed>),
}

/// Watch `cfg.content.root`, forwarding its change sets as [`Event::Content`] of `generation`.
/// The forwarding thread ends when the watcher is dropped.
fn watch_content(cfg: &Config, generation: u64, events: Sender<Event>) -> anyhow::Result<Watcher> {
    let (watcher, changes) =
        Watcher::start(&cfg.content.root, cfg.server.debounce, MAX_BURST_DELAY)
            .with_context(|| format!("cannot watch {}", cfg.content.root.display()))?;
    std::thread::Builder::new().name("herald-changes".into()).spawn(move || {
        for set in changes {
            if events.send(Event::Content { generation, set }).is_err() {
                return;
            }
        }
    })?;
    Ok(watcher)
}

/// How often the git HEAD is looked at when no file changes (a commit or a `git pull` that
/// touched no article still moves the dates learned from history).
const GIT_POLL: Duration = Duration::from_secs(2);

/// The rebuild thread's state: the site (it is its only writer) and what it was built from.
struct Rebuilder {
    site: Site,
    packer: Packer,
    /// The running configuration (start-only keys as at start).
    cfg: Arc<Config>,
    publisher: Publisher,
    /// Where the configuration is re-read from; `None`: it is fixed.
    source: Option<ConfigSource>,
    reloads: Arc<ReloadStats>,
    /// For the content watcher's forwarding thread.
    events_tx: Sender<Event>,
    watcher: Watcher,
    /// Generation of `watcher`: change sets of any other are stale.
    generation: u64,
    next_generation: u64,
    /// The last rebuild failed: the next one starts from scratch.
    broken: bool,
    root_missing: bool,
}

/// Apply change sets and config changes until `Running` goes away. A rebuild that fails or
/// panics is logged and the site is rebuilt from scratch on the next change; the last good
/// snapshot stays served meanwhile, as it does while the content root is missing.
fn rebuild_loop(mut r: Rebuilder, events: Receiver<Event>) {
    loop {
        let next = match events.recv_timeout(GIT_POLL) {
            Ok(Event::Content { generation, set }) if generation == r.generation => {
                pending(set, &events, generation)
            }
            Ok(Event::Content { .. }) => continue,
            Ok(Event::ConfigChanged) => {
                r.reload();
                r.packer.offer(&mut r.site);
                continue;
            }
            Ok(Event::Packed(packed)) => {
                r.adopt(packed);
                continue;
            }
            Ok(Event::Stop) | Err(RecvTimeoutError::Disconnected) => return,
            // Nothing changed: only the git HEAD is looked at.
            Err(RecvTimeoutError::Timeout) => Pending::default(),
        };
        r.apply(next.set);
        if next.config_changed {
            r.reload();
        }
        r.adopt(next.packed);
        r.packer.offer(&mut r.site);
        if next.stop {
            return;
        }
    }
}

/// A change set and what was queued behind it, taken as one.
#[derive(Debug, Default, PartialEq)]
struct Pending {
    set: Option<ChangeSet>,
    /// The config file changed meanwhile: re-read it after the rebuild.
    config_changed: bool,
    /// `Running` went away meanwhile: stop after the rebuild.
    stop: bool,
    /// Documents packed meanwhile, taken after the rebuild (those it rendered again stay
    /// whole).
    packed: Vec<Packed>,
}

/// `first` and every change set of the same watcher `generation` queued behind it, as one.
/// While a rebuild runs the watcher keeps sending the sets of a burst (a `git checkout` of
/// 1,000 files gave a hundred of them on gnews-2021); rebuilding for each in turn re-rendered
/// the same feeds a hundred times and took 15 s to catch up, one rebuild for all of them
/// takes one. Other events queued meanwhile are kept for after it.
fn pending(mut first: ChangeSet, events: &Receiver<Event>, generation: u64) -> Pending {
    let mut out = Pending::default();
    while let Ok(event) = events.try_recv() {
        match event {
            Event::Content { generation: g, set } if g == generation => first.merge(set),
            Event::Content { .. } => {} // a replaced watcher's: stale
            Event::ConfigChanged => out.config_changed = true,
            Event::Stop => out.stop = true,
            Event::Packed(packed) => out.packed.extend(packed),
        }
    }
    out.set = Some(first);
    out
}

impl Rebuilder {
    /// Apply one change set (or none: then only the git HEAD is looked at).
    fn apply(&mut self, set: Option<ChangeSet>) {
        let cfg = self.cfg.clone();
        // A content root that is gone is a fault (a re-clone in progress, an unmounted disk),
        // not a repository without articles: keep serving and mirroring the last good feeds,
        // and rescan everything once it is back.
        if !cfg.content.root.is_dir() {
            if !self.root_missing {
                tracing::error!(
                    "the content folder {} is missing; still serving the last good feeds until it is back",
                    cfg.content.root.display()
                );
            }
            self.root_missing = true;
            return;
        }
        let set = if std::mem::take(&mut self.root_missing) {
            tracing::info!("the content folder {} is back; rescanning", cfg.content.root.display());
            Some(ChangeSet { rescan: true, ..ChangeSet::default() })
        } else {
            set
        };
        self.publisher.changed(set.as_ref().and_then(|s| s.first_event));
        let started = Instant::now();
        let (site, publisher, broken) = (&mut self.site, &mut self.publisher, self.broken);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            if broken {
                *site = Site::build(cfg.clone())?;
                publisher.publish(
                    site,
                    &RebuildReport::default(),
                    &RebuildReport::default(),
                    started,
                    true,
                );
            }
            if let Some(set) = &set {
                let applied = site.apply(set);
                let rendered = site.render_dirty();
                // The root vanished while this rebuild ran (an `rm -rf` under way): it saw
                // the deletion half done. That is not published; the site is rebuilt whole
                // once the root is back.
                if !cfg.content.root.is_dir() {
                    return Ok(false);
                }
                publisher.publish(site, &applied, &rendered, started, set.rescan);
            }
            // After the feeds for the files are out: git dates change only when HEAD moved.
            if site.refresh_git() {
                let rendered = site.render_dirty();
                publisher.publish(site, &RebuildReport::default(), &rendered, started, false);
            }
            anyhow::Ok(true)
        }));
        self.broken = match outcome {
            Ok(Ok(true)) => false,
            Ok(Ok(false)) => {
                tracing::error!(
                    "the content folder {} vanished during a rebuild; still serving the last good feeds until it is back",
                    cfg.content.root.display()
                );
                self.root_missing = true;
                true
            }
            Ok(Err(e)) => {
                tracing::error!("rebuild failed: {e:#}; still serving the last good feeds");
                self.publisher.metrics.failed(Outcome::Error);
                true
            }
            Err(_) => {
                tracing::error!("rebuild panicked; still serving the last good feeds, the next change rebuilds all");
                self.publisher.metrics.failed(Outcome::Panic);
                true
            }
        };
    }

    /// Hold packed the documents the packer packed that are still served as they were, and
    /// serve the site so (the same bytes and tags: nothing is logged, mirrored or pinged).
    /// A broken site is left alone: it is rebuilt from scratch on the next change.
    fn adopt(&mut self, packed: Vec<Packed>) {
        if !self.broken && !packed.is_empty() && self.site.adopt_packed(packed) > 0 {
            self.publisher.republish(&self.site);
        }
    }

    /// The config file changed: re-read it and, when it is valid and differs, rebuild the site
    /// with it. Anything wrong leaves the running configuration and feeds as they are.
    fn reload(&mut self) {
        let Some(file) = self.source.as_ref().and_then(|s| s.path.as_ref()) else { return };
        let file = file.display().to_string();
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.try_reload(&file)));
        // Some(applied?) for an edit that was acted on; None when nothing in effect changed.
        let verdict = match outcome {
            Ok(Ok(true)) => Some(true),
            Ok(Ok(false)) => None,
            Ok(Err(e)) => {
                tracing::error!(
                    "config file {file} not applied: {e:#}; still running with the previous configuration"
                );
                Some(false)
            }
            Err(_) => {
                // The site may be half-published: the next change rebuilds it from scratch.
                self.broken = true;
                tracing::error!(
                    "applying config file {file} panicked; still serving the last good feeds"
                );
                Some(false)
            }
        };
        if let Some(applied) = verdict {
            let counter = if applied { &self.reloads.applied } else { &self.reloads.rejected };
            counter.fetch_add(1, Ordering::SeqCst);
            self.publisher.metrics.config_reload(applied);
        }
        self.reloads.checked.fetch_add(1, Ordering::SeqCst);
    }

    /// [`Rebuilder::reload`]: whether a new configuration was applied.
    fn try_reload(&mut self, file: &str) -> anyhow::Result<bool> {
        let Some(source) = &self.source else { return Ok(false) };
        let plan = reload::plan(&self.cfg, source.load()?);
        for key in &plan.needs_restart {
            tracing::warn!(
                "config file {file}: {key} changed, but it needs a restart to take effect; \
                 still using the value Herald started with"
            );
        }
        let Some(new) = plan.apply.clone() else {
            if plan.changed.is_empty() {
                tracing::debug!("config file {file} changed on disk; nothing in effect changed");
            }
            return Ok(false);
        };
        self.rebuild_with(&Arc::new(new), &plan)?;
        let keys: Vec<&str> = plan.applied().collect();
        tracing::info!("config reloaded from {file}: changed keys {}", keys.join(", "));
        Ok(true)
    }

    /// Build the site afresh with `cfg` (a full rebuild: feeds whose bytes do not change keep
    /// their ETags, as rendering is deterministic), move the content watcher and the mirror if
    /// the plan says so, then publish. On error nothing is changed.
    fn rebuild_with(&mut self, cfg: &Arc<Config>, plan: &reload::Plan) -> anyhow::Result<()> {
        let started = Instant::now();
        // The new watch first: a change made during the build is then not missed.
        let watch = if plan.moves_watch() {
            let generation = self.next_generation;
            self.next_generation += 1;
            Some((watch_content(cfg, generation, self.events_tx.clone())?, generation))
        } else {
            None
        };
        let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut site = Site::new(cfg.clone())?;
            let applied = site.rescan();
            let rendered = site.render_dirty();
            anyhow::Ok((site, applied, rendered))
        }));
        let (site, applied, rendered) = match built {
            Ok(built) => built?,
            Err(_) => anyhow::bail!("building the feeds panicked"),
        };
        if let Some((watcher, generation)) = watch {
            self.watcher = watcher;
            self.generation = generation;
        }
        // New hubs or a new base URL (the topics): ping with a new pinger from now on; the
        // feeds, which name the hubs, changed too, so every topic is pinged at the new hubs.
        if plan.changed.iter().any(|k| ["websub.hubs", "site.base_url"].contains(k)) {
            self.publisher.pinger =
                Pinger::start(&cfg.websub.hubs, &cfg.site.base_url, self.publisher.websub_retry)
                    .context("cannot start the WebSub threads")?;
        }
        if plan.moves_mirror() {
            // A new writer for the new folder (the publish below re-syncs it whole); the old
            // one writes what it has pending and stops.
            let queue = start_mirror(
                Mirror::new(cfg.feeds.out.clone()),
                true,
                self.publisher.current.clone(),
            )?;
            std::mem::replace(&mut self.publisher.mirror, queue).close();
        }
        self.site = site;
        self.cfg = cfg.clone();
        self.broken = false;
        self.root_missing = false;
        self.publisher.publish(&self.site, &applied, &rendered, started, true);
        Ok(())
    }
}

/// Feeds named in the log line of a rebuild; the rest are counted.
const LOGGED_FEEDS: usize = 10;
/// Feed files named in the debug line of a rebuild.
const LOGGED_FILES: usize = 50;

/// One info line per rebuild, with fields a log pipeline can query; the feed files at debug.
fn log_rebuild(applied: &RebuildReport, rendered: &RebuildReport, took: Duration, all: bool) {
    let files = rendered.changed_files.iter().chain(&rendered.removed_files);
    tracing::info!(
        duration_ms = (took.as_secs_f64() * 10_000.0).round() / 10.0,
        parsed = applied.parsed,
        removed = applied.removed,
        feeds_rendered = rendered.feeds_rendered,
        files_changed = rendered.changed_files.len(),
        files_removed = rendered.removed_files.len(),
        full_rescan = all,
        feeds = %bounded_list(changed_feeds(files), LOGGED_FEEDS),
        "rebuilt"
    );
    tracing::debug!(
        changed = %bounded_list(rendered.changed_files.iter().map(String::as_str), LOGGED_FILES),
        removed = %bounded_list(rendered.removed_files.iter().map(String::as_str), LOGGED_FILES),
        "feed files"
    );
}

/// The feeds (slugs, `all` included) that feed file names belong to, sorted, once each; the
/// OPML list is not a feed.
fn changed_feeds<'a>(files: impl Iterator<Item = &'a String>) -> impl Iterator<Item = &'a str> {
    let slugs: std::collections::BTreeSet<&str> = files
        .filter(|f| f.as_str() != crate::site::OPML_FILE)
        .map(|f| match f.split_once("/archive/") {
            Some((slug, _)) => slug,
            None => f.rsplit_once('.').map_or(f.as_str(), |(slug, _)| slug),
        })
        .collect();
    slugs.into_iter()
}

/// `a, b, c` with at most `limit` items, then `… and N more`; `-` for none.
fn bounded_list<'a>(items: impl Iterator<Item = &'a str>, limit: usize) -> String {
    let mut out = String::new();
    let mut more = 0;
    for (i, item) in items.enumerate() {
        if i >= limit {
            more += 1;
        } else {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(item);
        }
    }
    if more > 0 {
        out.push_str(&format!(" … and {more} more"));
    }
    if out.is_empty() {
        out.push('-');
    }
    out
}

/// Swaps in new snapshots, hands the on-disk mirror its work, and tells the metrics and the
/// WebSub hubs.
struct Publisher {
    current: Arc<ArcSwap<Snapshot>>,
    mirror: Arc<MirrorQueue>,
    /// WebSub publish pings, when hubs are configured.
    pinger: Option<Pinger>,
    /// How pings are retried (kept to start a new pinger when the hubs are reloaded).
    websub_retry: websub::Retry,
    metrics: Arc<Metrics>,
    /// The first filesystem event not yet in a served snapshot, for
    /// `herald_change_to_current_seconds`.
    changed_at: Option<Instant>,
    /// The index page's cards, from one publish to the next.
    index_cache: Arc<std::sync::Mutex<http::pages::IndexCache>>,
}

impl Drop for Publisher {
    /// The rebuilds are over: the mirror thread writes what is pending and stops.
    fn drop(&mut self) {
        self.mirror.close();
    }
}

impl Publisher {
    /// Serve the site as it is now when only how its documents are held changed.
    fn republish(&mut self, site: &Site) {
        self.current.store(Arc::new(snapshot_cached(site, &self.index_cache)));
        self.metrics.held_whole(site.whole_count());
    }

    /// A change set arrived whose first event was at `at`. The earliest change not yet served
    /// is kept: after a failed rebuild the next good one serves it.
    fn changed(&mut self, at: Option<Instant>) {
        self.changed_at = crate::watch::earliest(self.changed_at, at);
    }

    fn publish(
        &mut self,
        site: &Site,
        applied: &RebuildReport,
        rendered: &RebuildReport,
        started: Instant,
        all: bool,
    ) {
        // Whatever happens below, the pending change is current afterwards (a change that
        // changed no feed is current already).
        let changed_at = self.changed_at.take();
        let nothing = rendered.changed_files.is_empty() && rendered.removed_files.is_empty();
        if nothing && applied.parsed + applied.removed == 0 && !all {
            return;
        }
        let assembling = Instant::now();
        let next = Arc::new(snapshot_cached(site, &self.index_cache));
        tracing::debug!(took = ?assembling.elapsed(), "assembled the snapshot");
        let took = started.elapsed();
        // Before the swap: a reader who sees the new feeds also sees them counted.
        self.metrics.published(site, &next, took, changed_at);
        let previous = self.current.swap(next.clone());
        // Compared with what was served, not taken from `rendered`: a rebuild from scratch
        // after a failure reports nothing rendered, yet its feeds may differ.
        let topics = match &self.pinger {
            Some(_) => websub::changed_topics(&previous, &next),
            None => Vec::new(),
        };
        drop(previous);
        log_rebuild(applied, rendered, took, all);
        self.mirror.push(MirrorJob {
            snapshot: next,
            changed: rendered.changed_files.iter().cloned().collect(),
            removed: rendered.removed_files.iter().cloned().collect(),
            all,
        });
        // The hubs fetch from the server, which serves the new feeds already.
        if let Some(pinger) = &self.pinger {
            pinger.ping(&topics);
        }
    }
}

/// One published snapshot for the mirror: the file names it changed and removed, or `all`
/// to make the folder match it whole.
struct MirrorJob {
    snapshot: Arc<Snapshot>,
    changed: BTreeSet<String>,
    removed: BTreeSet<String>,
    all: bool,
}

impl MirrorJob {
    /// Fold a newer job into this one: the newest snapshot, every name either one touched.
    fn merge(&mut self, newer: MirrorJob) {
        self.snapshot = newer.snapshot;
        self.changed.extend(newer.changed);
        self.removed.extend(newer.removed);
        self.all |= newer.all;
    }
}

/// The one job waiting for the mirror thread. Jobs published while it writes are merged
/// here at once, so it holds one snapshot, not one per rebuild: a queue of them kept every
/// replaced document alive (a txt-head transcript feed is 21 MB in its three formats) and
/// grew RSS by tens of MiB over a few hundred quick edits.
#[derive(Default)]
struct MirrorQueue {
    state: std::sync::Mutex<(Option<MirrorJob>, bool)>,
    ready: std::sync::Condvar,
}

impl MirrorQueue {
    fn push(&self, job: MirrorJob) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match &mut state.0 {
            Some(pending) => pending.merge(job),
            None => state.0 = Some(job),
        }
        self.ready.notify_one();
    }

    fn close(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).1 = true;
        self.ready.notify_one();
    }

    /// The pending job, waiting up to `idle` for one; `Err(())` once closed and drained.
    fn take(&self, idle: Duration) -> Result<Option<MirrorJob>, ()> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (mut state, _) = self
            .ready
            .wait_timeout_while(state, idle, |(job, closed)| job.is_none() && !*closed)
            .unwrap_or_else(|e| e.into_inner());
        match state.0.take() {
            Some(job) => Ok(Some(job)),
            None if state.1 => Err(()),
            None => Ok(None),
        }
    }
}

/// Start the thread that writes the mirror. It runs beside the rebuilds, not between them:
/// each file is flushed to disk before it is renamed into place (~9 ms per file here), so
/// writing the twelve files of one edit took ~100 ms, and a burst's hundreds of pages took
/// seconds, during which no new change was even read.
fn start_mirror(
    mirror: Mirror,
    ok: bool,
    current: Arc<ArcSwap<Snapshot>>,
) -> std::io::Result<Arc<MirrorQueue>> {
    let queue = Arc::new(MirrorQueue::default());
    let jobs = queue.clone();
    std::thread::Builder::new()
        .name("herald-mirror".into())
        .spawn(move || MirrorWriter { mirror, ok, current }.run(&jobs))?;
    Ok(queue)
}

/// Keeps the on-disk mirror in step with the published snapshots.
struct MirrorWriter {
    mirror: Mirror,
    /// False after a failed write: the mirror is then re-synced whole, so it catches up
    /// once the disk has room again.
    ok: bool,
    /// The snapshot being served, to catch up with when idle.
    current: Arc<ArcSwap<Snapshot>>,
}

impl MirrorWriter {
    fn run(mut self, jobs: &MirrorQueue) {
        loop {
            match jobs.take(GIT_POLL) {
                Ok(Some(job)) => self.write(&job),
                Ok(None) => self.retry(),
                Err(()) => return,
            }
        }
    }

    fn write(&mut self, job: &MirrorJob) {
        let written = if self.ok && !job.all {
            let changed: Vec<String> = job.changed.iter().cloned().collect();
            let removed: Vec<String> = job.removed.iter().cloned().collect();
            self.mirror.update(&job.snapshot, &changed, &removed)
        } else {
            self.mirror.sync_all(&job.snapshot).map(drop)
        };
        self.ok = match written {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(
                    "cannot update feeds in {}: {e}; serving them from memory",
                    self.mirror.dir().display()
                );
                false
            }
        };
    }

    /// After a failed write, try to re-sync the whole mirror (called when idle).
    fn retry(&mut self) {
        if self.ok {
            return;
        }
        let published = self.current.load();
        match self.mirror.sync_all(&published) {
            Ok(written) => {
                tracing::info!(
                    "feeds in {} are written again ({} files caught up)",
                    self.mirror.dir().display(),
                    written.len()
                );
                self.ok = true;
            }
            Err(e) => tracing::debug!(
                "feeds in {} still cannot be written: {e}",
                self.mirror.dir().display()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{bounded_list, changed_feeds, MirrorQueue, Publisher};
    use crate::metrics::Metrics;
    use crate::publish::Snapshot;
    use arc_swap::ArcSwap;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    fn publisher() -> Publisher {
        Publisher {
            current: Arc::new(ArcSwap::from_pointee(Snapshot::default())),
            mirror: Arc::new(MirrorQueue::default()),
            pinger: None,
            websub_retry: Default::default(),
            metrics: Arc::new(Metrics::new()),
            changed_at: None,
            index_cache: Default::default(),
        }
    }

    /// After a failed rebuild the next change set must not hide the older change that is
    /// still not served: the latency is measured from the earliest one.
    #[test]
    fn the_earliest_pending_change_is_kept() {
        let mut p = publisher();
        let early = Instant::now();
        let late = early + Duration::from_millis(5);
        p.changed(Some(late));
        p.changed(Some(early));
        p.changed(None);
        p.changed(Some(late));
        assert_eq!(p.changed_at, Some(early));
    }

    #[test]
    fn changed_feeds_are_slugs_once_each() {
        let files: Vec<String> = [
            "news.rss",
            "news.atom",
            "all.json",
            "index.opml",
            "news/archive/3.rss",
            "tokyo-sakura-group.json",
            "a.b.rss",
        ]
        .map(String::from)
        .into();
        let slugs: Vec<&str> = changed_feeds(files.iter()).collect();
        assert_eq!(slugs, ["a.b", "all", "news", "tokyo-sakura-group"]);
    }

    #[test]
    fn lists_are_bounded() {
        assert_eq!(bounded_list(["a", "b"].into_iter(), 3), "a, b");
        assert_eq!(bounded_list(["a", "b", "c", "d"].into_iter(), 2), "a, b … and 2 more");
        assert_eq!(bounded_list(std::iter::empty(), 2), "-");
    }
}

#[cfg(test)]
mod queue_tests {
    use super::*;

    fn job(snapshot: &Arc<Snapshot>, changed: &[&str], removed: &[&str], all: bool) -> MirrorJob {
        MirrorJob {
            snapshot: snapshot.clone(),
            changed: changed.iter().map(|s| s.to_string()).collect(),
            removed: removed.iter().map(|s| s.to_string()).collect(),
            all,
        }
    }

    #[test]
    fn queued_change_sets_are_taken_as_one() {
        let (tx, rx) = std::sync::mpsc::channel();
        let set = |paths: &[&str], rescan: bool| ChangeSet {
            paths: paths.iter().map(std::path::PathBuf::from).collect(),
            rescan,
            ..ChangeSet::default()
        };
        let content = |generation, set| Event::Content { generation, set };
        tx.send(content(1, set(&["/r/b.md", "/r/c.md"], false))).unwrap();
        tx.send(content(0, set(&["/old/x.md"], false))).unwrap(); // a replaced watcher's
        tx.send(content(1, set(&[], true))).unwrap();
        let got = pending(set(&["/r/a.md", "/r/b.md"], false), &rx, 1);
        let want = set(&["/r/a.md", "/r/b.md", "/r/c.md"], true);
        let none = Vec::new();
        assert_eq!(
            got,
            Pending { set: Some(want), config_changed: false, stop: false, packed: none }
        );
        assert!(rx.try_recv().is_err(), "the queue is drained");
        // A config change, packed documents and a stop queued behind are kept for after the
        // rebuild.
        let doc = |body: &str| {
            crate::render::encode::Encoded::new(body.into(), "text/plain", Default::default())
        };
        let packed = |name: &str| Packed {
            name: name.into(),
            from: Arc::new(doc(name)),
            to: doc(name).to_packed(),
        };
        tx.send(Event::ConfigChanged).unwrap();
        tx.send(Event::Packed(vec![packed("a.rss")])).unwrap();
        tx.send(content(1, set(&["/r/d.md"], false))).unwrap();
        tx.send(Event::Packed(vec![packed("b.rss")])).unwrap();
        tx.send(Event::Stop).unwrap();
        drop(tx);
        let got = pending(set(&[], false), &rx, 1);
        let want = set(&["/r/d.md"], false);
        let packed = vec![packed("a.rss"), packed("b.rss")];
        assert_eq!(got, Pending { set: Some(want), config_changed: true, stop: true, packed });
    }

    #[test]
    fn the_mirror_queue_holds_one_merged_job_and_drains_before_it_closes() {
        let queue = MirrorQueue::default();
        let (old, new) = (Arc::new(Snapshot::default()), Arc::new(Snapshot::default()));
        assert!(matches!(queue.take(Duration::ZERO), Ok(None)), "nothing pending");
        queue.push(job(&old, &["a.rss"], &[], false));
        queue.push(job(&new, &["b.rss"], &[], false));
        assert_eq!(Arc::strong_count(&old), 1, "the older snapshot is let go at once");
        queue.close();
        let taken = queue.take(Duration::ZERO).unwrap().unwrap();
        assert!(Arc::ptr_eq(&taken.snapshot, &new));
        assert_eq!(taken.changed, BTreeSet::from(["a.rss", "b.rss"].map(String::from)));
        assert!(queue.take(Duration::ZERO).is_err(), "closed and drained");
    }

    #[test]
    fn merged_mirror_jobs_keep_the_newest_snapshot_and_every_name() {
        let (old, new) = (Arc::new(Snapshot::default()), Arc::new(Snapshot::default()));
        let mut merged = job(&old, &["a.rss", "b.rss"], &["gone.rss"], false);
        merged.merge(job(&new, &["b.rss", "c.rss"], &["a.rss"], false));
        assert!(Arc::ptr_eq(&merged.snapshot, &new), "written from the newest snapshot");
        assert_eq!(merged.changed, BTreeSet::from(["a.rss", "b.rss", "c.rss"].map(String::from)));
        assert_eq!(merged.removed, BTreeSet::from(["a.rss", "gone.rss"].map(String::from)));
        assert!(!merged.all);
        merged.merge(job(&old, &[], &[], true));
        assert!(merged.all, "a full re-sync is never lost in a merge");
    }
}
