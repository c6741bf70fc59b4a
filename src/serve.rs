//! `herald serve`: build, publish, then rebuild on every change set while the server runs.

use crate::config::Config;
use crate::http::{self, AppState};
use crate::metrics::{Metrics, Outcome};
use crate::publish::{Mirror, Snapshot};
use crate::render::encode::Encoded;
use crate::site::{RebuildReport, Site};
use crate::watch::{ChangeSet, Watcher};
use anyhow::Context;
use arc_swap::ArcSwap;
use std::process::ExitCode;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
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
    snapshot
}

/// A running Herald: server, watcher and rebuild thread.
pub struct Running {
    /// The address the server listens on (useful with port 0).
    pub addr: std::net::SocketAddr,
    /// The snapshot being served; replaced after each rebuild.
    pub current: Arc<ArcSwap<Snapshot>>,
    server: actix_web::dev::ServerHandle,
    thread: std::thread::JoinHandle<std::io::Result<()>>,
    _watcher: Watcher,
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

/// `herald serve`: start and wait.
pub fn run(cfg: Arc<Config>) -> anyhow::Result<ExitCode> {
    start(cfg)?.wait()?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Build, publish, start watching and serving; return once the server accepts connections.
pub fn start(cfg: Arc<Config>) -> anyhow::Result<Running> {
    let started = Instant::now();
    let site = Site::build(cfg.clone())?;
    let first = snapshot(&site);
    let mirror = Mirror::new(cfg.feeds.out.clone());
    let mirror_ok = match mirror.sync_all(&first) {
        Ok(_) => true,
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
    let (watcher, changes) =
        Watcher::start(&cfg.content.root, cfg.server.debounce, MAX_BURST_DELAY)
            .with_context(|| format!("cannot watch {}", cfg.content.root.display()))?;
    let listener = std::net::TcpListener::bind(cfg.server.listen)
        .with_context(|| format!("cannot listen on {}", cfg.server.listen))?;
    let addr = listener.local_addr()?;
    let state = actix_web::web::Data::new(AppState {
        snapshot: current.clone(),
        articles: Arc::new(site.bodies()),
        cache_control: http::cache_control(cfg.server.max_age),
        site_title: cfg.site.title.clone(),
        base_url: cfg.site.base_url.clone(),
        metrics: metrics.clone(),
    });
    let (feeds, articles) = (current.load().feeds.len(), site.index().len());
    let loop_current = current.clone();
    std::thread::Builder::new()
        .name("herald-rebuild".into())
        .spawn(move || rebuild_loop(site, changes, loop_current, mirror, mirror_ok, metrics))?;
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
    tracing::info!(
        "serving {feeds} feed files for {articles} articles from {} at http://{addr}/ (ready in {:.2?})",
        cfg.content.root.display(),
        started.elapsed()
    );
    Ok(Running { addr, current, server, thread, _watcher: watcher })
}

/// How often the git HEAD is looked at when no file changes (a commit or a `git pull` that
/// touched no article still moves the dates learned from history).
const GIT_POLL: Duration = Duration::from_secs(2);

/// Apply change sets until the watcher goes away. A rebuild that fails or panics is logged
/// and the site is rebuilt from scratch on the next change; the last good snapshot stays
/// served meanwhile, as it does while the content root is missing.
fn rebuild_loop(
    mut site: Site,
    changes: Receiver<ChangeSet>,
    current: Arc<ArcSwap<Snapshot>>,
    mirror: Mirror,
    mirror_ok: bool,
    metrics: Arc<Metrics>,
) {
    let cfg = site.config().clone();
    let mut publisher = Publisher { current, mirror, mirror_ok, metrics, changed_at: None };
    let mut broken = false;
    let mut root_missing = false;
    loop {
        let set = match changes.recv_timeout(GIT_POLL) {
            Ok(set) => Some(set),
            Err(RecvTimeoutError::Timeout) => {
                // Nothing changed: a mirror that failed catches up as soon as it can.
                publisher.retry_mirror();
                None
            }
            Err(RecvTimeoutError::Disconnected) => return,
        };
        // A content root that is gone is a fault (a re-clone in progress, an unmounted disk),
        // not a repository without articles: keep serving and mirroring the last good feeds,
        // and rescan everything once it is back.
        if !cfg.content.root.is_dir() {
            if !root_missing {
                tracing::error!(
                    "the content folder {} is missing; still serving the last good feeds until it is back",
                    cfg.content.root.display()
                );
            }
            root_missing = true;
            continue;
        }
        let set = if std::mem::take(&mut root_missing) {
            tracing::info!("the content folder {} is back; rescanning", cfg.content.root.display());
            Some(ChangeSet { rescan: true, ..ChangeSet::default() })
        } else {
            set
        };
        publisher.changed(set.as_ref().and_then(|s| s.first_event));
        let started = Instant::now();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            if broken {
                site = Site::build(cfg.clone())?;
                publisher.publish(
                    &site,
                    &RebuildReport::default(),
                    &RebuildReport::default(),
                    started,
                    true,
                );
            }
            if let Some(set) = &set {
                let applied = site.apply(set);
                let rendered = site.render_dirty();
                publisher.publish(&site, &applied, &rendered, started, set.rescan);
            }
            // After the feeds for the files are out: git dates change only when HEAD moved.
            if site.refresh_git() {
                let rendered = site.render_dirty();
                publisher.publish(&site, &RebuildReport::default(), &rendered, started, false);
            }
            anyhow::Ok(())
        }));
        broken = match outcome {
            Ok(Ok(())) => false,
            Ok(Err(e)) => {
                tracing::error!("rebuild failed: {e:#}; still serving the last good feeds");
                publisher.metrics.failed(Outcome::Error);
                true
            }
            Err(_) => {
                tracing::error!("rebuild panicked; still serving the last good feeds, the next change rebuilds all");
                publisher.metrics.failed(Outcome::Panic);
                true
            }
        };
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
                    "feeds in {} are written again ({written} files caught up)",
                    self.mirror.dir().display()
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
        self.current.store(Arc::new(next));
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
