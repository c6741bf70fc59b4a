//! Publish: the snapshot the server reads (swapped atomically) and the on-disk mirror.

use crate::article::Article;
use crate::render::encode::Encoded;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

/// What a listed feed shows.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedKind {
    /// Every article (`all`).
    All,
    /// One category; the listing's `name` is the category name.
    Category,
    /// A custom feed (`[[feeds.custom]]`): every matching article, newest first (the feed
    /// itself holds the newest `items` of them; the feed's page lists them all).
    /// `about` is its rules in a line (`CustomFeed::describe`).
    Custom { articles: Arc<[Arc<Article>]>, about: String },
}

/// One feed (`all`, a custom feed or a category) as the index page and the 404 page list it.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedListing {
    /// `all`, the custom feed's slug or the category slug.
    pub slug: String,
    /// The category name (`All articles` for `all`, the title or slug of a custom feed).
    pub name: String,
    pub kind: FeedKind,
    /// Number of articles in the category or matching the custom feed (not capped by the
    /// feed length).
    pub count: usize,
    pub updated: Option<DateTime<Utc>>,
    /// The newest few articles, newest first.
    pub latest: Vec<Arc<Article>>,
}

/// Everything the server answers from. Immutable; replaced as a whole after each rebuild so a
/// request sees the old set or the new set, never a mix.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Feed documents by file name: `all.rss`, `all.atom`, `all.json`, `{slug}.rss`,
    /// `{slug}.atom`, `{slug}.json`, `index.opml`, archive pages `{slug}/archive/{n}.rss` and
    /// `{slug}/archive/{n}.atom`.
    pub feeds: imbl::HashMap<String, Arc<Encoded>>,
    /// Feeds in display order (`all` first, then custom feeds as configured, then categories
    /// by name).
    pub listing: Vec<Arc<FeedListing>>,
    /// The HTML index page `/`, rendered on its first request (`None`: not built yet).
    pub index_page: Option<crate::http::pages::IndexPage>,
    /// Articles by path relative to the content root, for `/articles/{path}`. A persistent
    /// map shared with the index, so publishing a snapshot does not copy it.
    pub articles: imbl::HashMap<String, Arc<Article>>,

    // Browsing pages (`src/http/pages.rs`).
    /// Articles of each feed, newest first, by slug (`all`, custom feeds and every category): sorted on the
    /// first request for a category page, not at publish, because sorting every article on
    /// every rebuild cost ~100 ms at 24,000 articles and only category pages need it.
    pub by_feed: std::sync::OnceLock<HashMap<String, Arc<[Arc<Article>]>>>,
    /// Category pages rendered on first request; a new snapshot starts with an empty cache.
    pub page_cache: crate::http::pages::PageCache,
    /// What the slugs that are no longer served answer (301 or 410), see `redirects`.
    pub redirects: Arc<crate::redirects::Table>,

    /// Cache-Control, site title, base URL and article bodies: published with the documents,
    /// so a config reload changes them in the same swap.
    pub settings: crate::http::Settings,
}

/// Renders an article's body on demand for `/articles/{path}` (re-reads the file: bodies are
/// not kept in memory).
pub trait ArticleSource: Send + Sync {
    /// Sanitised HTML of the article's body, or a message saying why it cannot be read.
    fn body_html(&self, article: &Article) -> Result<String, String>;
}

/// Write `bytes` to `path` so a reader never sees half a file: write a temporary file in
/// the same folder, flush it, then rename it over the old one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = temp_path(path);
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_data()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Whether `name` is a temporary of [`write_atomic`] (`.{feed}.{pid}.tmp`) left behind by a
/// writer that died mid-write (kill -9, power loss): one of another process that no longer
/// runs or, where that cannot be told, one older than a minute.
fn is_stale_temp(dir: &Path, name: &str) -> bool {
    let Some(inner) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp")) else {
        return false;
    };
    let Some((feed, pid)) = inner.rsplit_once('.') else { return false };
    let Ok(pid) = pid.parse::<u32>() else { return false };
    if !is_feed_file(feed) || pid == std::process::id() {
        return false;
    }
    let proc = Path::new("/proc");
    if proc.join("self").exists() {
        return !proc.join(pid.to_string()).exists();
    }
    std::fs::metadata(dir.join(name))
        .and_then(|m| m.modified())
        .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > std::time::Duration::from_secs(60)))
}

/// Whether a file in the mirror folder is one Herald writes (and so may delete): a feed,
/// the OPML list, or an archive page `{slug}/archive/{n}.{rss,atom}`.
fn is_feed_file(name: &str) -> bool {
    let file = name.rsplit('/').next().unwrap_or(name);
    !file.starts_with('.')
        && [".rss", ".atom", ".json", ".opml"].iter().any(|ext| file.ends_with(ext))
}

/// Archive pages already in the mirror, as `{slug}/archive/{file}` names.
fn archive_files(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let slug = entry.file_name().to_string_lossy().into_owned();
        let archive = entry.path().join("archive");
        if slug.starts_with('.') || !entry.file_type()?.is_dir() || !archive.is_dir() {
            continue;
        }
        for page in std::fs::read_dir(&archive)? {
            out.push(format!("{slug}/archive/{}", page?.file_name().to_string_lossy()));
        }
    }
    Ok(out)
}

/// Files on their way into a folder, so that a reader never sees half a file and each is
/// on disk before it replaces the old one: every file is written to a temporary (on any
/// thread, as soon as its bytes are known) with its writeback started, then [`commit`]
/// flushes them all and renames each over its file.
///
/// Flushing each file before its rename, one after the other, was 2.0 of the 4.8 s cold
/// build of the 24,203-article archive (2,363 files; `HERALD_LOG=herald=debug herald build`
/// logs each phase). `herald build` stages each document as it is rendered and drops its
/// bytes: holding all 552 MB of a 100,000-article mirror for a write afterwards peaked at
/// 855 MB of memory, staged 271 MB.
///
/// After a failure nothing more is written, and `commit` reports the first failure; the
/// temporaries go whenever the staging is not committed.
///
/// [`commit`]: Staging::commit
#[derive(Debug)]
pub struct Staging {
    dir: PathBuf,
    /// Opened before anything is written: `syncfs` reports the write-back errors since its
    /// descriptor's opening.
    whole_fs: std::fs::File,
    staged: std::sync::Mutex<Staged>,
}

#[derive(Debug, Default)]
struct Staged {
    /// Names of the files whose temporaries are written.
    names: Vec<String>,
    /// Folders made for them, removed again (when empty) if nothing is committed.
    folders: Vec<PathBuf>,
    failed: Option<std::io::Error>,
}

impl Staging {
    /// Start staging files into `dir` (made if missing).
    pub fn begin(dir: &Path) -> std::io::Result<Staging> {
        std::fs::create_dir_all(dir)?;
        Ok(Staging {
            dir: dir.to_path_buf(),
            whole_fs: std::fs::File::open(dir)?,
            staged: Default::default(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Staged> {
        self.staged.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Write `bytes` as the temporary of the file `name` (relative to the folder).
    pub fn stage(&self, name: &str, bytes: &[u8]) {
        if self.lock().failed.is_some() {
            return;
        }
        let tmp = temp_path(&self.dir.join(name));
        // The folders of archive pages are made when a temporary finds its folder missing:
        // no call at all for the others.
        let mut made = Vec::new();
        let written = write_temp(&tmp, bytes).or_else(|e| match (e.kind(), tmp.parent()) {
            (std::io::ErrorKind::NotFound, Some(parent)) => {
                made = self.make_folders(parent)?;
                write_temp(&tmp, bytes)
            }
            _ => Err(e),
        });
        let mut staged = self.lock();
        staged.folders.extend(made);
        match written {
            Ok(()) => staged.names.push(name.to_string()),
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                staged.failed.get_or_insert(named(name, e));
            }
        }
    }

    /// Make `folder` and the folders above it that are missing; returns the ones made.
    fn make_folders(&self, folder: &Path) -> std::io::Result<Vec<PathBuf>> {
        let missing: Vec<PathBuf> = folder
            .ancestors()
            .take_while(|f| f.starts_with(&self.dir) && !f.exists())
            .map(Path::to_path_buf)
            .collect();
        std::fs::create_dir_all(folder)?;
        Ok(missing)
    }

    /// Stage `doc` as the file `name`, unless the file holds its bytes already.
    pub fn stage_doc(&self, name: &str, doc: &Encoded) {
        if !holds(&self.dir.join(name), doc) {
            self.stage(name, &doc.identity_bytes());
        }
    }

    /// Flush every staged temporary and rename it over its file. Returns the names of the
    /// files written, in name order, or the first failure (then no file is replaced).
    pub fn commit(&self) -> std::io::Result<Vec<String>> {
        let mut staged = std::mem::take(&mut *self.lock());
        let paths: Vec<(PathBuf, PathBuf)> = staged
            .names
            .iter()
            .map(|name| {
                let path = self.dir.join(name);
                (temp_path(&path), path)
            })
            .collect();
        let whole_fs = (paths.len() >= SYNC_FS_FROM).then_some(&self.whole_fs);
        let flushed = match staged.failed.take() {
            Some(e) => Err(e),
            None => flush(&paths, whole_fs),
        };
        // On every core too: one rename after the other was the last ~0.15 s of a gen-100k
        // build (9,200 files), with the other core idle (perf timeline).
        let renamed = flushed.and_then(|()| {
            paths.par_iter().zip(&staged.names).try_for_each(|((tmp, path), name)| {
                std::fs::rename(tmp, path).map_err(|e| named(name, e))
            })
        });
        if let Err(e) = renamed {
            // Every temporary not renamed yet (the renamed ones are gone already).
            for (tmp, _) in &paths {
                let _ = std::fs::remove_file(tmp);
            }
            remove_empty(staged.folders);
            return Err(e);
        }
        staged.names.sort();
        Ok(staged.names)
    }
}

/// `e` with the name of the file it befell.
fn named(name: &str, e: std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{name}: {e}"))
}

impl Drop for Staging {
    /// Temporaries never committed (a failed build) are removed, and the folders made for
    /// them.
    fn drop(&mut self) {
        let staged = std::mem::take(&mut *self.lock());
        for name in &staged.names {
            let _ = std::fs::remove_file(temp_path(&self.dir.join(name)));
        }
        remove_empty(staged.folders);
    }
}

/// Remove the `folders` that are empty, those deeper in the tree first (a folder and the
/// one above it may both have been made).
fn remove_empty(mut folders: Vec<PathBuf>) {
    folders.sort_by_key(|f| std::cmp::Reverse(f.components().count()));
    for folder in folders {
        let _ = std::fs::remove_dir(folder);
    }
}

/// Write a temporary and, on Linux, start its writeback to disk (`sync_file_range`) without
/// waiting, so the flushes in [`flush`] find their data on its way.
fn write_temp(tmp: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::File::create(tmp)?;
    file.write_all(bytes)?;
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: sync_file_range only reads the descriptor, which `file` keeps open. A failure
        // only means the flush below waits longer.
        unsafe { libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE) };
    }
    Ok(())
}

/// From this many files on, [`flush`] syncs the whole filesystem once rather than each file.
const SYNC_FS_FROM: usize = 256;

/// Make the temporaries of `paths` durable before they are renamed. Measured on a copy of
/// the 24,203-article mirror (2,363 files, 190 MB): each file written and flushed in turn
/// 4.8 s; all written, then each flushed 2.6 s; each written with its writeback started,
/// then each flushed 0.6–1.5 s.
///
/// A batch of [`SYNC_FS_FROM`] files or more (a cold build, a first sync) is flushed by one
/// `syncfs` of `whole_fs`'s filesystem: each `fdatasync` also flushes the disk's cache, and
/// for the 9,200 files (673 MB) of a 100,000-article mirror that took 2.5–2.8 s against
/// 1.9–2.0 (`herald build`, 3 rounds interleaved). It also flushes what other programs wrote
/// there, which an edit's few files should not wait for.
fn flush(paths: &[(PathBuf, PathBuf)], whole_fs: Option<&std::fs::File>) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    if let Some(fs) = whole_fs {
        use std::os::fd::AsRawFd;
        // SAFETY: syncfs only reads the descriptor, which `fs` keeps open.
        return match unsafe { libc::syncfs(fs.as_raw_fd()) } {
            0 => Ok(()),
            _ => Err(std::io::Error::last_os_error()),
        };
    }
    #[cfg(not(target_os = "linux"))]
    let _ = whole_fs;
    paths.par_iter().try_for_each(|(tmp, _)| std::fs::File::open(tmp)?.sync_data())
}

/// The temporary [`write_atomic`] and [`Staging`] write `path` to: `.{name}.{pid}.tmp`
/// in the same folder (so the rename stays on one filesystem).
fn temp_path(path: &Path) -> PathBuf {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    dir.join(format!(".{name}.{}.tmp", std::process::id()))
}

/// Whether the file at `path` holds `doc`'s identity bytes.
fn holds(path: &Path, doc: &Encoded) -> bool {
    std::fs::read(path).is_ok_and(|on_disk| doc.identity_is(&on_disk))
}

/// The on-disk mirror of the served feeds under `--out`.
#[derive(Debug, Clone)]
pub struct Mirror {
    dir: PathBuf,
}

impl Mirror {
    pub fn new(dir: PathBuf) -> Mirror {
        Mirror { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Make the folder hold exactly the feeds of `snapshot`: write every feed whose bytes
    /// differ from the file, delete feed files that are no longer served and temporaries a
    /// crashed writer left. Returns the names of the files written, in name order.
    pub fn sync_all(&self, snapshot: &Snapshot) -> std::io::Result<Vec<String>> {
        let staging = self.staging()?;
        let docs: Vec<(&String, &Arc<Encoded>)> = snapshot.feeds.iter().collect();
        // Packed archive pages are compared by their tag, inflated only to be written.
        docs.into_par_iter().for_each(|(name, doc)| staging.stage_doc(name, doc));
        let written = staging.commit()?;
        self.remove_unserved(|name| snapshot.feeds.contains_key(name))?;
        Ok(written)
    }

    /// A [`Staging`] into the folder, for writing documents as they are rendered.
    pub fn staging(&self) -> std::io::Result<Staging> {
        Staging::begin(&self.dir)
    }

    /// Delete the feed files that `served` says are no longer served, and temporaries a
    /// crashed writer left.
    pub fn remove_unserved(&self, served: impl Fn(&str) -> bool) -> std::io::Result<()> {
        let mut names = archive_files(&self.dir)?;
        for entry in std::fs::read_dir(&self.dir)? {
            names.push(entry?.file_name().to_string_lossy().into_owned());
        }
        for name in names {
            if (is_feed_file(&name) && !served(&name)) || is_stale_temp(&self.dir, &name) {
                std::fs::remove_file(self.dir.join(&name))?;
            }
        }
        Ok(())
    }

    /// Write the named feeds and delete the removed ones (after an incremental rebuild).
    pub fn update(
        &self,
        snapshot: &Snapshot,
        changed: &[String],
        removed: &[String],
    ) -> std::io::Result<()> {
        let staging = self.staging()?;
        changed.par_iter().for_each(|name| {
            if let Some(doc) = snapshot.feeds.get(name) {
                staging.stage(name, &doc.identity_bytes());
            }
        });
        staging.commit()?;
        for name in removed {
            if !snapshot.feeds.contains_key(name) && is_feed_file(name) {
                match std::fs::remove_file(self.dir.join(name)) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stage every file and commit, as `Mirror::update` does.
    fn write_files(dir: &Path, files: &[(&str, &[u8])]) -> std::io::Result<Vec<String>> {
        let staging = Staging::begin(dir)?;
        files.par_iter().for_each(|(name, bytes)| staging.stage(name, bytes));
        staging.commit()
    }

    fn temporaries(dir: &Path) -> Vec<String> {
        let mut found = Vec::new();
        for entry in walk(dir) {
            let name = entry.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".tmp") {
                found.push(name);
            }
        }
        found
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
        out
    }

    #[test]
    fn write_files_writes_every_file_and_its_folder_and_leaves_no_temporaries() {
        // A few files are flushed one by one, a batch of SYNC_FS_FROM by one syncfs.
        for extra in [0, SYNC_FS_FROM] {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("all.rss"), b"old").unwrap();
            let names: Vec<String> =
                (0..extra).map(|i| format!("c{}/archive/{i}.rss", i % 7)).collect();
            let mut files: Vec<(&str, &[u8])> = vec![
                ("all.rss", b"new feed"),
                ("news/archive/1.atom", b"page one"),
                ("news/archive/2.atom", b"page two"),
            ];
            files.extend(names.iter().map(|n| (n.as_str(), n.as_bytes())));
            write_files(dir.path(), &files).unwrap();
            for (name, bytes) in &files {
                assert_eq!(std::fs::read(dir.path().join(name)).unwrap(), *bytes, "{name}");
            }
            assert_eq!(temporaries(dir.path()), Vec::<String>::new());
        }
    }

    #[test]
    fn a_file_that_cannot_be_written_replaces_nothing_in_a_batch_of_any_size() {
        for extra in [0, SYNC_FS_FROM] {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("all.rss"), b"old").unwrap();
            // A folder where `news.rss`'s temporary goes: creating it fails.
            std::fs::create_dir(temp_path(&dir.path().join("news.rss"))).unwrap();
            let names: Vec<String> = (0..extra).map(|i| format!("c/{i}.rss")).collect();
            let mut files: Vec<(&str, &[u8])> = vec![("all.rss", b"new"), ("news.rss", b"n")];
            files.extend(names.iter().map(|n| (n.as_str(), n.as_bytes())));
            assert!(write_files(dir.path(), &files).is_err());
            assert_eq!(std::fs::read(dir.path().join("all.rss")).unwrap(), b"old");
            assert!(!dir.path().join("c/0.rss").exists());
            assert_eq!(temporaries(dir.path()), Vec::<String>::new());
        }
    }

    /// A failed staging leaves the folder as it was: no temporaries, and none of the
    /// folders made for them.
    #[test]
    fn a_failed_staging_removes_the_folders_it_made() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("kept")).unwrap();
        std::fs::write(dir.path().join("news"), b"in the way").unwrap();
        let staging = Staging::begin(dir.path()).unwrap();
        staging.stage("new/archive/1.rss", b"page");
        staging.stage("kept/archive/1.rss", b"page");
        assert!(dir.path().join("new/archive").is_dir());
        staging.stage("news/archive/1.rss", b"page");
        let err = staging.commit().unwrap_err();
        assert!(err.to_string().starts_with("news/archive/1.rss: "), "{err}");
        let mut left = Vec::new();
        let mut folders = vec![dir.path().to_path_buf()];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(folder).unwrap() {
                let path = entry.unwrap().path();
                left.push(path.strip_prefix(dir.path()).unwrap().display().to_string());
                if path.is_dir() {
                    folders.push(path);
                }
            }
        }
        left.sort();
        assert_eq!(left, ["kept", "news"]);
    }

    #[test]
    fn write_files_that_fail_replace_nothing_and_leave_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("all.rss"), b"old").unwrap();
        // `news` is a file, so the archive page cannot get its folder.
        std::fs::write(dir.path().join("news"), b"in the way").unwrap();
        let files: Vec<(&str, &[u8])> = vec![("all.rss", b"new"), ("news/archive/1.rss", b"p")];
        let err = write_files(dir.path(), &files).unwrap_err();
        assert_ne!(err.kind(), std::io::ErrorKind::NotFound, "{err}");
        assert_eq!(std::fs::read(dir.path().join("all.rss")).unwrap(), b"old");
        assert_eq!(temporaries(dir.path()), Vec::<String>::new());
    }
}
