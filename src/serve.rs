//! `herald serve`: build, publish, then rebuild on every change set while the server runs.

use crate::config::Config;
use crate::http::{self, AppState};
use crate::metrics::{Metrics, Outcome};
use crate::publish::{Mirror, Snapshot};
use crate::reload::{self, ConfigSource, ConfigWatcher, ReloadStats};
use crate::render::encode::Encoded;
use crate::site::{RebuildReport, Site};
use crate::watch::{ChangeSet, Watcher};
use crate::websub::{self, Pinger};
use anyhow::Context;
use arc_swap::ArcSwap;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The longest a burst of filesystem events is held back before a rebuild starts.
const MAX_BURST_DELAY: Duration = Duration::from_millis(250);

/// The snapshot of `site`, index page included.
pub fn snapshot(site: &Site) -> Snapshot {
    let mut snapshot = site.snapshot();
    let cfg = site.config();
    let page = http::pages::index_page(&snapshot, &cfg.site.title, &cfg.site.base_url);
    let updated = snapshot.listing.first().and_then(|l| l.updated).unwrap_or_default();
    snapshot.index_page =
        Some(Arc::new(Encoded::new(page.into_bytes(), "text/html; charset=utf-8", updated)));
    snapshot.settings = http::Settings::new(cfg, Arc::new(site.bodies()));
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
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// How WebSub publish pings are retried (tests shorten the waits).
    pub websub_retry: websub::Retry,
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
    let first = snapshot(&site);
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
        mirror,
        mirror_ok,
        pinger,
        websub_retry: options.websub_retry,
        metrics: metrics.clone(),
        changed_at: None,
    };
    let reloads = Arc::new(ReloadStats::default());
    let rebuilder = Rebuilder {
        site,
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
        let set = match events.recv_timeout(GIT_POLL) {
            Ok(Event::Content { generation, set }) if generation == r.generation => Some(set),
            Ok(Event::Content { .. }) => continue,
            Ok(Event::ConfigChanged) => {
                r.reload();
                continue;
            }
            Ok(Event::Stop) | Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => {
                // Nothing changed: a mirror that failed catches up as soon as it can.
                r.publisher.retry_mirror();
                None
            }
        };
        r.apply(set);
    }
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
                publisher.publish(site, &applied, &rendered, started, set.rescan);
            }
            // After the feeds for the files are out: git dates change only when HEAD moved.
            if site.refresh_git() {
                let rendered = site.render_dirty();
                publisher.publish(site, &RebuildReport::default(), &rendered, started, false);
            }
            anyhow::Ok(())
        }));
        self.broken = match outcome {
            Ok(Ok(())) => false,
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
            self.publisher.mirror = Mirror::new(cfg.feeds.out.clone());
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

/// Swaps in new snapshots and keeps the on-disk mirror in step.
struct Publisher {
    current: Arc<ArcSwap<Snapshot>>,
    mirror: Mirror,
    /// False after a failed write: the mirror is then re-synced whole, so it catches up
    /// once the disk has room again.
    mirror_ok: bool,
    /// WebSub publish pings, when hubs are configured.
    pinger: Option<Pinger>,
    /// How pings are retried (kept to start a new pinger when the hubs are reloaded).
    websub_retry: websub::Retry,
    metrics: Arc<Metrics>,
    /// The first filesystem event not yet in a served snapshot, for
    /// `herald_change_to_current_seconds`.
    changed_at: Option<Instant>,
}

impl Publisher {
    /// After a failed write, try to re-sync the whole mirror (called when idle).
    fn retry_mirror(&mut self) {
        if self.mirror_ok {
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
                self.mirror_ok = true;
            }
            Err(e) => tracing::debug!(
                "feeds in {} still cannot be written: {e}",
                self.mirror.dir().display()
            ),
        }
    }

    /// A change set arrived whose first event was at `at`. The earliest change not yet served
    /// is kept: after a failed rebuild the next good one serves it.
    fn changed(&mut self, at: Option<Instant>) {
        self.changed_at = match (self.changed_at, at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
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
        let next = snapshot(site);
        let took = started.elapsed();
        // Before the swap: a reader who sees the new feeds also sees them counted.
        self.metrics.published(site, &next, took, changed_at);
        let previous = self.current.swap(Arc::new(next));
        // Compared with what was served, not taken from `rendered`: a rebuild from scratch
        // after a failure reports nothing rendered, yet its feeds may differ.
        let topics = match &self.pinger {
            Some(_) => websub::changed_topics(&previous, &self.current.load()),
            None => Vec::new(),
        };
        drop(previous);
        log_rebuild(applied, rendered, took, all);
        let published = self.current.load();
        let written = if self.mirror_ok && !all {
            self.mirror.update(&published, &rendered.changed_files, &rendered.removed_files)
        } else {
            self.mirror.sync_all(&published).map(drop)
        };
        self.mirror_ok = match written {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(
                    "cannot update feeds in {}: {e}; serving them from memory",
                    self.mirror.dir().display()
                );
                false
            }
        };
        // Last, so a hub that fetches at once finds the mirror written too.
        if let Some(pinger) = &self.pinger {
            pinger.ping(&topics);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{bounded_list, changed_feeds, Publisher};
    use crate::metrics::Metrics;
    use crate::publish::{Mirror, Snapshot};
    use arc_swap::ArcSwap;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    fn publisher(dir: &std::path::Path) -> Publisher {
        Publisher {
            current: Arc::new(ArcSwap::from_pointee(Snapshot::default())),
            mirror: Mirror::new(dir.to_path_buf()),
            mirror_ok: true,
            pinger: None,
            websub_retry: Default::default(),
            metrics: Arc::new(Metrics::new()),
            changed_at: None,
        }
    }

    /// After a failed rebuild the next change set must not hide the older change that is
    /// still not served: the latency is measured from the earliest one.
    #[test]
    fn the_earliest_pending_change_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = publisher(dir.path());
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
