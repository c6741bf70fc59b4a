//! `herald serve`: build, publish, then rebuild on every change set while the server runs.

use crate::config::Config;
use crate::http::{self, AppState};
use crate::publish::{Mirror, Snapshot};
use crate::render::encode::Encoded;
use crate::site::{RebuildReport, Site};
use crate::watch::{ChangeSet, Watcher};
use anyhow::Context;
use arc_swap::ArcSwap;
use std::collections::BTreeSet;
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
    return_large_buffers();
    start(cfg)?.wait()?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Give every allocation of 1 MiB or more (feed documents: a txt-head transcript feed is
/// 7 MB a format) its own mapping, returned to the system when freed. glibc otherwise raises
/// its mapping threshold after the first such frees and serves big documents from its heaps,
/// where each rebuild's replaced documents left holes: RSS on txt-head grew from 96 to 120
/// MiB over 300 edits; with this it stays at 75-76 (bench/ab.sh, memory section).
fn return_large_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called before the server's threads
    // start allocating concurrently.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
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
    let mirror = start_mirror(mirror, mirror_ok, current.clone())?;
    std::thread::Builder::new()
        .name("herald-rebuild".into())
        .spawn(move || rebuild_loop(site, changes, loop_current, mirror))?;
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
    mirror: Arc<MirrorQueue>,
) {
    let cfg = site.config().clone();
    let mut publisher = Publisher { current, mirror };
    let mut broken = false;
    let mut root_missing = false;
    loop {
        let set = match changes.recv_timeout(GIT_POLL) {
            Ok(set) => Some(pending(set, &changes)),
            Err(RecvTimeoutError::Timeout) => None,
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

/// `first` and every change set queued behind it, as one. While a rebuild runs the watcher
/// keeps sending the sets of a burst (a `git checkout` of 1,000 files gave a hundred of them
/// on gnews-2021); rebuilding for each in turn re-rendered the same feeds a hundred times
/// and took 15 s to catch up, one rebuild for all of them takes one.
fn pending(mut first: ChangeSet, changes: &Receiver<ChangeSet>) -> ChangeSet {
    while let Ok(later) = changes.try_recv() {
        first.merge(later);
    }
    first
}

/// Swaps in new snapshots and hands the on-disk mirror its work.
struct Publisher {
    current: Arc<ArcSwap<Snapshot>>,
    mirror: Arc<MirrorQueue>,
}

impl Drop for Publisher {
    /// The rebuilds are over: the mirror thread writes what is pending and stops.
    fn drop(&mut self) {
        self.mirror.close();
    }
}

impl Publisher {
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
        let published = Arc::new(snapshot(site));
        self.current.store(published.clone());
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
        self.mirror.push(MirrorJob {
            snapshot: published,
            changed: rendered.changed_files.iter().cloned().collect(),
            removed: rendered.removed_files.iter().cloned().collect(),
            all,
        });
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
                    "feeds in {} are written again ({written} files caught up)",
                    self.mirror.dir().display()
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
        };
        tx.send(set(&["/r/b.md", "/r/c.md"], false)).unwrap();
        tx.send(set(&[], true)).unwrap();
        let got = pending(set(&["/r/a.md", "/r/b.md"], false), &rx);
        assert_eq!(got, set(&["/r/a.md", "/r/b.md", "/r/c.md"], true));
        assert!(rx.try_recv().is_err(), "the queue is drained");
        tx.send(set(&["/r/d.md"], false)).unwrap();
        drop(tx);
        assert_eq!(pending(set(&[], false), &rx), set(&["/r/d.md"], false));
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
