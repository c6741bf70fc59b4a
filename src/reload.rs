//! Config reloading: where the configuration comes from, what a change to it means, and a
//! watcher for the config file.
//!
//! [`plan`] is the pure heart (two configs → the keys that changed, those that need a restart,
//! the config to run with); `serve.rs` applies a plan on its rebuild thread, and
//! [`ConfigWatcher`] tells it when to re-read the file.

use crate::config::{Config, Content, Feeds, Overrides, RawConfig, Server, Site, WebSub};
use anyhow::Context;
use notify::event::{AccessKind, AccessMode, EventKind};
use notify::{RecursiveMode, Watcher as _};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

/// Where the configuration comes from: the file (if any) and the command-line and environment
/// overrides, which are applied again on every reload and so keep winning over the file.
#[derive(Debug, Clone, Default)]
pub struct ConfigSource {
    /// The config file; `None` when Herald runs on flags, environment and defaults alone.
    pub path: Option<PathBuf>,
    pub overrides: Overrides,
    /// Relative paths in the file are resolved against this (the file's folder).
    pub base_dir: PathBuf,
}

impl ConfigSource {
    /// The file at `path`, relative paths in it resolved against its folder.
    pub fn file(path: PathBuf, overrides: Overrides) -> ConfigSource {
        let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        ConfigSource { path: Some(path), overrides, base_dir }
    }

    /// Read the file (if any), apply the overrides and defaults, validate. Errors name the file
    /// and the key or line.
    pub fn load(&self) -> anyhow::Result<Config> {
        let Some(path) = &self.path else {
            return Ok(RawConfig::default().validate(&self.overrides, &self.base_dir)?);
        };
        let raw = RawConfig::load(path)?;
        raw.validate(&self.overrides, &self.base_dir)
            .with_context(|| format!("in {}", path.display()))
    }
}

/// What came of the config file's changes so far: for monitoring, and for tests, which wait
/// for `checked` to move instead of sleeping.
#[derive(Debug, Default)]
pub struct ReloadStats {
    /// Times the file was read again after a change (counted once the outcome is settled and
    /// published).
    pub checked: AtomicU64,
    /// Of those, the ones that were not applied: invalid, unreadable or missing, or the build
    /// with the new configuration failed.
    pub rejected: AtomicU64,
    /// Of those, the ones that changed the running configuration.
    pub applied: AtomicU64,
}

impl ReloadStats {
    pub fn checked(&self) -> u64 {
        self.checked.load(Ordering::SeqCst)
    }

    pub fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::SeqCst)
    }

    pub fn applied(&self) -> u64 {
        self.applied.load(Ordering::SeqCst)
    }
}

/// Keys that only take effect when the server starts: the listening socket and the
/// connection timeouts are fixed when actix builds its workers.
pub const RESTART_ONLY: [&str; 4] = [
    "server.listen",
    "server.request_timeout_ms",
    "server.keep_alive_seconds",
    "server.shutdown_timeout_seconds",
];

/// What a changed config file means for the running server.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Keys (as the file spells them) whose value differs from the running config.
    pub changed: Vec<&'static str>,
    /// The changed keys in [`RESTART_ONLY`]: reported, not applied.
    pub needs_restart: Vec<&'static str>,
    /// The config to run with from now on: the new one with the running values of the
    /// start-only keys. `None` when nothing that can be applied live changed.
    pub apply: Option<Config>,
}

impl Plan {
    /// The changed keys that are applied live.
    pub fn applied(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.changed.iter().copied().filter(|k| !RESTART_ONLY.contains(k))
    }

    /// Whether the content watcher must be started again (another folder, another debounce).
    pub fn moves_watch(&self) -> bool {
        self.applied().any(|k| k == "content.root" || k == "server.debounce_ms")
    }

    /// Whether the feed mirror moves to another folder.
    pub fn moves_mirror(&self) -> bool {
        self.applied().any(|k| k == "feeds.out")
    }
}

/// Compare the running config with a freshly loaded one.
pub fn plan(running: &Config, new: Config) -> Plan {
    let changed = changed_keys(running, &new);
    let needs_restart: Vec<&'static str> =
        changed.iter().copied().filter(|k| RESTART_ONLY.contains(k)).collect();
    // Without `site.base_url`, the base URL (and the tag authority after it) comes from
    // `server.listen`: it must follow the address actually listened on, not the new one.
    let base_follows_listen = follows_listen(running) && follows_listen(&new);
    let authority_follows_base = new.site.id_authority == default_authority(&new);
    let mut effective = new;
    // The server keeps the socket and timeouts it started with; recording the new values
    // would make the running config lie about them.
    effective.server.listen = running.server.listen;
    effective.server.request_timeout = running.server.request_timeout;
    effective.server.keep_alive = running.server.keep_alive;
    effective.server.shutdown_timeout = running.server.shutdown_timeout;
    if base_follows_listen {
        effective.site.base_url.clone_from(&running.site.base_url);
        if authority_follows_base {
            effective.site.id_authority = default_authority(running);
        }
    }
    let apply = (effective != *running).then_some(effective);
    Plan { changed, needs_restart, apply }
}

/// Whether `cfg`'s base URL is the one derived from `server.listen` (no `site.base_url`).
fn follows_listen(cfg: &Config) -> bool {
    cfg.site.base_url == format!("http://{}", cfg.server.listen)
}

/// The tag authority derived from the base URL when `site.id_authority` is not set.
fn default_authority(cfg: &Config) -> String {
    let host = url::Url::parse(&cfg.site.base_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    format!("{host},2026")
}

/// The keys whose value differs between `a` and `b`, in the order of the config file.
pub fn changed_keys(a: &Config, b: &Config) -> Vec<&'static str> {
    // Destructured without `..`: a new config field does not compile until it is listed here,
    // so no key can be silently ignored by a reload.
    let Config {
        site: Site { title, description, base_url, language, author, id_authority },
        content:
            Content {
                root,
                ignore,
                default_category,
                max_file_bytes,
                follow_symlinks,
                git_dates,
                summary_chars,
            },
        feeds: Feeds { items, out, link_template, slugs, redirects, archive_page_size, custom },
        server: Server { listen, max_age, debounce, request_timeout, keep_alive, shutdown_timeout },
        websub: WebSub { hubs },
    } = a;
    let mut keys = Vec::new();
    let mut check = |key: &'static str, differs: bool| {
        if differs {
            keys.push(key);
        }
    };
    check("site.title", *title != b.site.title);
    check("site.description", *description != b.site.description);
    check("site.base_url", *base_url != b.site.base_url);
    check("site.language", *language != b.site.language);
    check("site.author", *author != b.site.author);
    check("site.id_authority", *id_authority != b.site.id_authority);
    check("content.root", *root != b.content.root);
    check("content.ignore", *ignore != b.content.ignore);
    check("content.default_category", *default_category != b.content.default_category);
    check("content.max_file_bytes", *max_file_bytes != b.content.max_file_bytes);
    check("content.follow_symlinks", *follow_symlinks != b.content.follow_symlinks);
    check("content.git_dates", *git_dates != b.content.git_dates);
    check("content.summary_chars", *summary_chars != b.content.summary_chars);
    check("feeds.items", *items != b.feeds.items);
    check("feeds.out", *out != b.feeds.out);
    check("feeds.link_template", *link_template != b.feeds.link_template);
    check("feeds.slugs", *slugs != b.feeds.slugs);
    check("feeds.redirects", *redirects != b.feeds.redirects);
    check("feeds.archive_page_size", *archive_page_size != b.feeds.archive_page_size);
    check("feeds.custom", *custom != b.feeds.custom);
    check("server.listen", *listen != b.server.listen);
    check("server.max_age_seconds", *max_age != b.server.max_age);
    check("server.debounce_ms", *debounce != b.server.debounce);
    check("server.request_timeout_ms", *request_timeout != b.server.request_timeout);
    check("server.keep_alive_seconds", *keep_alive != b.server.keep_alive);
    check("server.shutdown_timeout_seconds", *shutdown_timeout != b.server.shutdown_timeout);
    check("websub.hubs", *hubs != b.websub.hubs);
    keys
}

/// How long the config file must be left alone before it is re-read: an editor's save (write
/// a temporary, rename it over the file; or vim's rename-to-backup-then-write) is a burst of
/// events, and reading in its middle could find no file at all.
pub const CONFIG_QUIET: Duration = Duration::from_millis(100);

/// The longest a burst of events on the config file is held back.
const MAX_DELAY: Duration = Duration::from_secs(2);

/// How often the file is looked at even without events: a Kubernetes ConfigMap is updated by
/// swapping a symlink (events on `..data`, none on the file's name), a network filesystem
/// may send no events, and a watched folder that is deleted and recreated loses its watch.
const POLL: Duration = Duration::from_secs(1);

/// Whether a notify event may have changed the file named `name` in the watched folder.
/// Reads (Herald's own included) are not changes; everything else naming the file is:
/// writes, creation, deletion, renames to or from the name.
pub fn concerns(event: &notify::Event, name: &std::ffi::OsStr) -> bool {
    if event.need_rescan() {
        return true;
    }
    let relevant = match event.kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    };
    relevant && event.paths.iter().any(|p| p.file_name() == Some(name))
}

/// What tells one version of the file (or of its folder) from another, following symlinks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    len: u64,
    modified: Option<SystemTime>,
}

impl Stamp {
    fn of(path: &Path) -> Option<Stamp> {
        let meta = std::fs::metadata(path).ok()?;
        #[cfg(unix)]
        let (dev, ino) = {
            use std::os::unix::fs::MetadataExt;
            (meta.dev(), meta.ino())
        };
        #[cfg(not(unix))]
        let (dev, ino) = (0, 0);
        Some(Stamp { dev, ino, len: meta.len(), modified: meta.modified().ok() })
    }

    /// The folder's identity only: its size and mtime change with every file in it.
    fn of_folder(path: &Path) -> Option<Stamp> {
        Stamp::of(path).map(|s| Stamp { len: 0, modified: None, ..s })
    }
}

enum Msg {
    Event(notify::Result<notify::Event>),
    Stop,
}

/// Watches one config file; dropping it stops the watch.
///
/// The file's folder is watched, not the file: an atomic save (write a temporary, rename it
/// over), `git checkout`, vim's backup dance and delete-then-recreate all replace the file's
/// inode, and a watch on the old inode would go quiet.
pub struct ConfigWatcher {
    tx: Sender<Msg>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for ConfigWatcher {
    fn drop(&mut self) {
        let _ = self.tx.send(Msg::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl ConfigWatcher {
    /// Call `on_change` after each burst of changes to the file at `path` has been quiet for
    /// `quiet`. The watch ends when `on_change` returns false or the watcher is dropped.
    pub fn start(
        path: &Path,
        quiet: Duration,
        on_change: impl FnMut() -> bool + Send + 'static,
    ) -> anyhow::Result<ConfigWatcher> {
        let path = std::path::absolute(path)
            .with_context(|| format!("cannot watch config file {}", path.display()))?;
        let name = path
            .file_name()
            .with_context(|| format!("config file {} has no file name", path.display()))?
            .to_os_string();
        let folder = path.parent().unwrap_or(Path::new("/")).to_path_buf();

        let (tx, rx) = mpsc::channel::<Msg>();
        let notify_tx = tx.clone();
        let mut inner = notify::recommended_watcher(move |event| {
            let _ = notify_tx.send(Msg::Event(event));
        })
        .with_context(|| format!("cannot watch config folder {}", folder.display()))?;
        inner
            .watch(&folder, RecursiveMode::NonRecursive)
            .with_context(|| format!("cannot watch config folder {}", folder.display()))?;

        let file = Stamp::of(&path);
        let dir = Stamp::of_folder(&folder);
        let thread =
            std::thread::Builder::new().name("herald-config-watch".into()).spawn(move || {
                ConfigDebouncer { path, name, folder, inner, rx, quiet, file, dir, on_change }.run()
            })?;
        Ok(ConfigWatcher { tx, thread: Some(thread) })
    }
}

struct ConfigDebouncer<F> {
    path: PathBuf,
    name: OsString,
    folder: PathBuf,
    inner: notify::RecommendedWatcher,
    rx: Receiver<Msg>,
    quiet: Duration,
    /// The file as last reported (or as at start).
    file: Option<Stamp>,
    /// The folder the watch is on; `None` while it is missing.
    dir: Option<Stamp>,
    on_change: F,
}

impl<F: FnMut() -> bool> ConfigDebouncer<F> {
    fn run(mut self) {
        // (first, last) event of the current burst; `None` while nothing is pending.
        let mut burst: Option<(Instant, Instant)> = None;
        let mut next_poll = Instant::now() + POLL;
        loop {
            let mut deadline = next_poll;
            if let Some((first, last)) = burst {
                deadline = deadline.min(last + self.quiet).min(first + MAX_DELAY);
            }
            let relevant =
                match self.rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                    Ok(Msg::Event(Ok(event))) => concerns(&event, &self.name),
                    Ok(Msg::Event(Err(err))) => {
                        tracing::debug!(%err, "config watcher error; re-reading the config file");
                        true
                    }
                    Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                    Err(RecvTimeoutError::Timeout) => false,
                };
            let now = Instant::now();
            let mut touched = relevant;
            if now >= next_poll {
                next_poll = now + POLL;
                touched |= self.poll();
            }
            if touched {
                burst = Some((burst.map_or(now, |(first, _)| first), now));
            }
            if let Some((first, last)) = burst {
                if now >= last + self.quiet || now >= first + MAX_DELAY {
                    burst = None;
                    // Taken before the file is read, so a write after this is seen again.
                    self.file = Stamp::of(&self.path);
                    if !(self.on_change)() {
                        return;
                    }
                }
            }
        }
    }

    /// Look at the folder and the file without waiting for events. Returns whether the file
    /// differs from what was last reported.
    fn poll(&mut self) -> bool {
        let dir = Stamp::of_folder(&self.folder);
        if dir != self.dir {
            // The folder was removed, or replaced by another: its watch is gone with it.
            let _ = self.inner.unwatch(&self.folder);
            if dir.is_some() {
                match self.inner.watch(&self.folder, RecursiveMode::NonRecursive) {
                    Ok(()) => self.dir = dir,
                    Err(err) => tracing::debug!(
                        folder = %self.folder.display(), %err, "cannot watch the config folder yet"
                    ),
                }
            } else {
                self.dir = None;
            }
        }
        Stamp::of(&self.path) != self.file
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{CreateKind, DataChange, ModifyKind, RemoveKind, RenameMode};
    use notify::Event;
    use std::ffi::OsStr;

    /// `text` validated, the content folder being the (existing, shared) temp folder.
    fn config(text: &str) -> Config {
        let root = std::env::temp_dir();
        let overrides = Overrides { content: Some(root.clone()), ..Overrides::default() };
        RawConfig::parse(text, Path::new("herald.toml"))
            .unwrap()
            .validate(&overrides, &root)
            .unwrap()
    }

    #[test]
    fn equal_configs_change_nothing() {
        let a = config("[site]\ntitle = \"A\"");
        let plan = plan(&a, a.clone());
        assert!(plan.changed.is_empty());
        assert!(plan.needs_restart.is_empty());
        assert_eq!(plan.apply, None);
    }

    #[test]
    fn live_keys_are_applied_and_named() {
        let a = config("[site]\ntitle = \"A\"");
        let b = config("[site]\ntitle = \"B\"\n[server]\nmax_age_seconds = 60");
        let plan = plan(&a, b.clone());
        assert_eq!(plan.changed, ["site.title", "server.max_age_seconds"]);
        assert!(plan.needs_restart.is_empty());
        assert_eq!(plan.apply, Some(b));
        assert!(!plan.moves_watch());
        assert!(!plan.moves_mirror());
    }

    #[test]
    fn restart_only_keys_are_detected_and_keep_their_running_values() {
        let a = config("");
        let b = config(
            "[site]\nbase_url = \"http://127.0.0.1:8080\"\n\
             [server]\nlisten = \"127.0.0.1:9999\"\nrequest_timeout_ms = 1\n\
             keep_alive_seconds = 1\nshutdown_timeout_seconds = 1",
        );
        let plan = plan(&a, b);
        assert_eq!(plan.needs_restart, RESTART_ONLY);
        assert_eq!(plan.changed, RESTART_ONLY);
        // Nothing else changed, so there is nothing to apply.
        assert_eq!(plan.apply, None);
        assert_eq!(plan.applied().count(), 0);
    }

    #[test]
    fn a_mix_applies_the_live_keys_and_keeps_the_socket() {
        let a = config("");
        let b = config(
            "[site]\ntitle = \"New\"\nbase_url = \"http://127.0.0.1:8080\"\n\
             [server]\nlisten = \"127.0.0.1:9999\"\nkeep_alive_seconds = 0",
        );
        let plan = plan(&a, b);
        assert_eq!(plan.needs_restart, ["server.listen", "server.keep_alive_seconds"]);
        assert_eq!(plan.applied().collect::<Vec<_>>(), ["site.title"]);
        let apply = plan.apply.unwrap();
        assert_eq!(apply.site.title, "New");
        assert_eq!(apply.server.listen, a.server.listen);
        assert_eq!(apply.server.keep_alive, a.server.keep_alive);
    }

    #[test]
    fn a_base_url_derived_from_listen_follows_the_address_still_listened_on() {
        let a = config("");
        let b = config("[site]\ntitle = \"New\"\n[server]\nlisten = \"0.0.0.0:9999\"");
        assert_eq!(b.site.base_url, "http://0.0.0.0:9999");
        let plan = plan(&a, b);
        assert_eq!(plan.needs_restart, ["server.listen"]);
        let apply = plan.apply.unwrap();
        assert_eq!(apply.site.base_url, "http://127.0.0.1:8080");
        assert_eq!(apply.site.id_authority, "127.0.0.1,2026");
        assert_eq!(apply.site.title, "New");
        // A base URL given in the file is the file's.
        let c = config(
            "[site]\nbase_url = \"https://feeds.example.org\"\n[server]\nlisten = \"0.0.0.0:9999\"",
        );
        let apply = super::plan(&a, c).apply.unwrap();
        assert_eq!(apply.site.base_url, "https://feeds.example.org");
        assert_eq!(apply.site.id_authority, "feeds.example.org,2026");
    }

    #[test]
    fn every_key_is_compared() {
        let a = config("");
        let other = tempfile::tempdir().unwrap();
        let mut b = a.clone();
        b.site.title.push('x');
        b.site.description.push('x');
        b.site.base_url.push('x');
        b.site.language = Some("de".into());
        b.site.author.push('x');
        b.site.id_authority = "example.net,2020".into();
        b.content.root = other.path().to_path_buf();
        b.content.ignore.push("*.draft".into());
        b.content.default_category.push('x');
        b.content.max_file_bytes += 1;
        b.content.follow_symlinks = !b.content.follow_symlinks;
        b.content.git_dates = !b.content.git_dates;
        b.content.summary_chars += 1;
        b.feeds.items += 1;
        b.feeds.out.push("x");
        b.feeds.link_template.push('x');
        b.feeds.slugs.insert("A".into(), "a".into());
        b.feeds.archive_page_size += 1;
        b.feeds.redirects.insert("old".into(), "new".into());
        b.feeds.custom =
            config("[[feeds.custom]]\nslug = \"picks\"\ntitle_words = [\"a\"]").feeds.custom;
        b.server.listen.set_port(1);
        b.server.max_age += Duration::from_secs(1);
        b.server.debounce += Duration::from_millis(1);
        b.server.request_timeout += Duration::from_millis(1);
        b.server.keep_alive += Duration::from_secs(1);
        b.server.shutdown_timeout += Duration::from_secs(1);
        b.websub.hubs.push("https://hub.example/".into());
        let plan = plan(&a, b);
        assert_eq!(plan.changed.len(), 27, "{:?}", plan.changed);
        assert_eq!(plan.needs_restart, RESTART_ONLY);
        assert!(plan.moves_watch());
        assert!(plan.moves_mirror());
    }

    #[test]
    fn a_new_content_folder_or_debounce_moves_the_watch() {
        let a = config("");
        let mut b = a.clone();
        b.server.debounce = Duration::from_millis(500);
        assert!(plan(&a, b).moves_watch());
    }

    fn event(kind: EventKind, paths: &[&str]) -> Event {
        paths.iter().fold(Event::new(kind), |e, p| e.add_path(PathBuf::from(p)))
    }

    #[test]
    fn only_events_naming_the_file_concern_it() {
        let name = OsStr::new("herald.toml");
        let write = EventKind::Modify(ModifyKind::Data(DataChange::Any));
        assert!(concerns(&event(write, &["/etc/herald/herald.toml"]), name));
        assert!(!concerns(&event(write, &["/etc/herald/other.toml"]), name));
        assert!(!concerns(&event(write, &["/etc/herald/herald.toml.swp"]), name));
        // An atomic save: the temporary renamed over the file.
        let rename = EventKind::Modify(ModifyKind::Name(RenameMode::Both));
        assert!(concerns(
            &event(rename, &["/etc/herald/.herald.toml.tmp", "/etc/herald/herald.toml"]),
            name
        ));
        // vim: the file renamed to a backup, then a new file written.
        assert!(concerns(
            &event(rename, &["/etc/herald/herald.toml", "/etc/herald/herald.toml~"]),
            name
        ));
        let create = EventKind::Create(CreateKind::File);
        assert!(concerns(&event(create, &["/etc/herald/herald.toml"]), name));
        let remove = EventKind::Remove(RemoveKind::File);
        assert!(concerns(&event(remove, &["/etc/herald/herald.toml"]), name));
    }

    #[test]
    fn reads_do_not_concern_the_file_but_a_finished_write_does() {
        let name = OsStr::new("herald.toml");
        let path = ["/etc/herald/herald.toml"];
        for kind in [
            AccessKind::Open(AccessMode::Any),
            AccessKind::Read,
            AccessKind::Close(AccessMode::Read),
        ] {
            assert!(!concerns(&event(EventKind::Access(kind), &path), name), "{kind:?}");
        }
        let closed = EventKind::Access(AccessKind::Close(AccessMode::Write));
        assert!(concerns(&event(closed, &path), name));
    }

    #[test]
    fn lost_events_concern_every_file() {
        let lost = Event::new(EventKind::Other).set_flag(notify::event::Flag::Rescan);
        assert!(concerns(&lost, OsStr::new("herald.toml")));
    }

    #[test]
    fn a_source_without_a_file_uses_overrides_and_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let source = ConfigSource {
            path: None,
            overrides: Overrides { content: Some(dir.path().into()), ..Overrides::default() },
            base_dir: PathBuf::new(),
        };
        assert_eq!(source.load().unwrap().site.title, "Herald");
    }

    #[test]
    fn load_errors_name_the_file_and_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("herald.toml");
        let overrides = Overrides { content: Some(dir.path().into()), ..Overrides::default() };
        let source = ConfigSource::file(path.clone(), overrides);
        let err = format!("{:#}", source.load().unwrap_err());
        assert!(err.contains("herald.toml"), "{err}");
        std::fs::write(&path, "[feeds]\nitems = 0\n").unwrap();
        let err = format!("{:#}", source.load().unwrap_err());
        assert!(err.contains("herald.toml") && err.contains("feeds.items"), "{err}");
        std::fs::write(&path, "[feeds]\nitems = 3\n[site\n").unwrap();
        let err = format!("{:#}", source.load().unwrap_err());
        assert!(err.contains("herald.toml") && err.contains("line 3"), "{err}");
    }

    // A real watcher. It waits generously for a call and asserts nothing about timing.

    const WAIT: Duration = Duration::from_secs(30);

    fn watch(path: &Path) -> (ConfigWatcher, Receiver<()>) {
        let (tx, rx) = mpsc::channel();
        let watcher =
            ConfigWatcher::start(path, Duration::from_millis(20), move || tx.send(()).is_ok())
                .unwrap();
        (watcher, rx)
    }

    /// Wait for a call after `change`, then for the file to read `expected` (the call may
    /// come from an earlier step's late events: it is the content that matters).
    fn changes_to(rx: &Receiver<()>, path: &Path, expected: &str) {
        loop {
            rx.recv_timeout(WAIT).expect("no change reported");
            if std::fs::read_to_string(path).is_ok_and(|t| t == expected) {
                // Drain the rest of this burst.
                while rx.recv_timeout(Duration::from_millis(300)).is_ok() {}
                return;
            }
        }
    }

    #[test]
    fn a_real_watcher_sees_writes_renames_over_and_recreation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("herald.toml");
        std::fs::write(&path, "one").unwrap();
        let (_watcher, rx) = watch(&path);

        std::fs::write(&path, "two").unwrap();
        changes_to(&rx, &path, "two");

        // An editor's atomic save.
        let tmp = dir.path().join(".herald.toml.tmp");
        std::fs::write(&tmp, "three").unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        changes_to(&rx, &path, "three");

        // vim without backupcopy: rename to a backup, write a new file.
        std::fs::rename(&path, dir.path().join("herald.toml~")).unwrap();
        std::fs::write(&path, "four").unwrap();
        changes_to(&rx, &path, "four");

        // Deleted, then created again.
        std::fs::remove_file(&path).unwrap();
        rx.recv_timeout(WAIT).expect("the deletion is reported");
        std::fs::write(&path, "five").unwrap();
        changes_to(&rx, &path, "five");
    }

    #[test]
    fn a_recreated_folder_is_watched_again() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("config");
        std::fs::create_dir(&folder).unwrap();
        let path = folder.join("herald.toml");
        std::fs::write(&path, "one").unwrap();
        let (_watcher, rx) = watch(&path);

        std::fs::remove_dir_all(&folder).unwrap();
        rx.recv_timeout(WAIT).expect("the removal is reported");
        std::fs::create_dir(&folder).unwrap();
        std::fs::write(&path, "two").unwrap();
        changes_to(&rx, &path, "two");
        std::fs::write(&path, "three!").unwrap();
        changes_to(&rx, &path, "three!");
    }

    /// How Kubernetes updates a mounted ConfigMap: the file is a symlink through `..data`,
    /// and `..data` is swapped for a link to a new folder. No event names the file.
    #[cfg(unix)]
    #[test]
    fn a_configmap_style_symlink_swap_is_seen() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        for (version, text) in [("v1", "one"), ("v2", "two")] {
            std::fs::create_dir(dir.path().join(version)).unwrap();
            std::fs::write(dir.path().join(version).join("herald.toml"), text).unwrap();
        }
        symlink("v1", dir.path().join("..data")).unwrap();
        let path = dir.path().join("herald.toml");
        symlink("..data/herald.toml", &path).unwrap();
        let (_watcher, rx) = watch(&path);

        symlink("v2", dir.path().join("..data_tmp")).unwrap();
        std::fs::rename(dir.path().join("..data_tmp"), dir.path().join("..data")).unwrap();
        changes_to(&rx, &path, "two");
    }

    #[test]
    fn dropping_the_watcher_returns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("herald.toml");
        let (watcher, _rx) = watch(&path);
        drop(watcher); // joins the thread; would hang if it did not end
    }
}
