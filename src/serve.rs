//! `herald serve`: build, publish, then rebuild on every change set while the server runs.

use crate::config::Config;
use crate::http::{self, AppState};
use crate::publish::{Mirror, Snapshot};
use crate::render::encode::Encoded;
use crate::site::{RebuildReport, Site};
use crate::watch::{ChangeSet, Watcher};
use crate::websub::{self, Pinger};
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

/// What `start_with` can be told beyond the configuration.
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

/// Build, publish, start watching and serving; return once the server accepts connections.
pub fn start(cfg: Arc<Config>) -> anyhow::Result<Running> {
    start_with(cfg, Options::default())
}

/// [`start`] with [`Options`].
pub fn start_with(cfg: Arc<Config>, options: Options) -> anyhow::Result<Running> {
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
    });
    let (feeds, articles) = (current.load().feeds.len(), site.index().len());
    let loop_current = current.clone();
    let startup_pinger = pinger.clone();
    std::thread::Builder::new()
        .name("herald-rebuild".into())
        .spawn(move || rebuild_loop(site, changes, loop_current, mirror, mirror_ok, pinger))?;
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
    pinger: Option<Pinger>,
) {
    let cfg = site.config().clone();
    let mut publisher = Publisher { current, mirror, mirror_ok, pinger };
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
                true
            }
            Err(_) => {
                tracing::error!("rebuild panicked; still serving the last good feeds, the next change rebuilds all");
                true
            }
        };
    }
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

    fn publish(
        &mut self,
        site: &Site,
        applied: &RebuildReport,
        rendered: &RebuildReport,
        started: Instant,
        all: bool,
    ) {
        let nothing = rendered.changed_files.is_empty() && rendered.removed_files.is_empty();
        if nothing && applied.parsed + applied.removed == 0 && !all {
            return;
        }
        let previous = self.current.swap(Arc::new(snapshot(site)));
        // Compared with what was served, not taken from `rendered`: a rebuild from scratch
        // after a failure reports nothing rendered, yet its feeds may differ.
        let topics = match &self.pinger {
            Some(_) => websub::changed_topics(&previous, &self.current.load()),
            None => Vec::new(),
        };
        drop(previous);
        tracing::info!(
            "rebuilt in {:.1?}: {} files parsed, {} removed, {} feeds rendered, {} feed files changed, {} removed{}",
            started.elapsed(),
            applied.parsed,
            applied.removed,
            rendered.feeds_rendered,
            rendered.changed_files.len(),
            rendered.removed_files.len(),
            if all { " (full rescan)" } else { "" },
        );
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
