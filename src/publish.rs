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

/// Write mirrored files (`{slug}/archive/` folders made when needed) so that a reader never
/// sees half a file, each flushed to disk before it replaces the old one: every temporary is
/// written (in parallel, its writeback started), then all are flushed, then each is renamed
/// over its file. Flushing each file before its rename, one after the other, was 2.0 of the
/// 4.8 s cold build of the 24,203-article archive (2,363 files; `HERALD_LOG=herald=debug
/// herald build` logs each phase).
fn write_files(dir: &Path, files: &[(&str, &[u8])]) -> std::io::Result<()> {
    let paths: Vec<(PathBuf, PathBuf)> = files
        .iter()
        .map(|(name, _)| {
            let path = dir.join(name);
            (temp_path(&path), path)
        })
        .collect();
    let parents: std::collections::BTreeSet<&Path> =
        paths.iter().filter_map(|(_, path)| path.parent()).collect();
    // On every core: a cold build of gen-100k makes ~600 folders, and one `mkdir` after
    // the other was 0.18 s with the other core idle (perf). `create_dir_all` copes with a
    // parent another thread is making at the same time.
    parents.par_iter().try_for_each(std::fs::create_dir_all)?;
    // Every temporary not renamed yet (the renamed ones are gone already).
    let cleanup = || {
        for (tmp, _) in &paths {
            let _ = std::fs::remove_file(tmp);
        }
    };
    // Opened before writing: `syncfs` reports the write-back errors since its descriptor's
    // opening.
    let whole_fs = match paths.len() >= SYNC_FS_FROM {
        true => Some(std::fs::File::open(dir)?),
        false => None,
    };
    let written: std::io::Result<()> = paths
        .par_iter()
        .zip(files.par_iter())
        .try_for_each(|((tmp, _), (_, bytes))| write_temp(tmp, bytes));
    if let Err(e) = written.and_then(|()| flush(&paths, whole_fs.as_ref())) {
        cleanup();
        return Err(e);
    }
    // On every core too: one rename after the other was the last ~0.15 s of a gen-100k
    // build (9,200 files), with the other core idle (perf timeline).
    let renamed = paths.par_iter().try_for_each(|(tmp, path)| std::fs::rename(tmp, path));
    if renamed.is_err() {
        cleanup();
    }
    renamed
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

/// The temporary [`write_atomic`] and [`write_files`] write `path` to: `.{name}.{pid}.tmp`
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
        std::fs::create_dir_all(&self.dir)?;
        let docs: Vec<(&String, &Arc<Encoded>)> = snapshot.feeds.iter().collect();
        // Packed archive pages are compared by their tag, inflated only to be written.
        let stale: Vec<(&str, actix_web::web::Bytes)> = docs
            .into_par_iter()
            .filter(|(name, doc)| !holds(&self.dir.join(name), doc))
            .map(|(name, doc)| (name.as_str(), doc.identity_bytes()))
            .collect();
        let files: Vec<(&str, &[u8])> =
            stale.iter().map(|(name, bytes)| (*name, &bytes[..])).collect();
        write_files(&self.dir, &files)?;
        let mut written: Vec<String> = stale.iter().map(|(name, _)| name.to_string()).collect();
        let mut names = archive_files(&self.dir)?;
        for entry in std::fs::read_dir(&self.dir)? {
            names.push(entry?.file_name().to_string_lossy().into_owned());
        }
        for name in names {
            if (is_feed_file(&name) && !snapshot.feeds.contains_key(&name))
                || is_stale_temp(&self.dir, &name)
            {
                std::fs::remove_file(self.dir.join(&name))?;
            }
        }
        written.sort();
        Ok(written)
    }

    /// Write the named feeds and delete the removed ones (after an incremental rebuild).
    pub fn update(
        &self,
        snapshot: &Snapshot,
        changed: &[String],
        removed: &[String],
    ) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let docs: Vec<(&str, actix_web::web::Bytes)> = changed
            .iter()
            .filter_map(|name| Some((name.as_str(), snapshot.feeds.get(name)?.identity_bytes())))
            .collect();
        let files: Vec<(&str, &[u8])> =
            docs.iter().map(|(name, bytes)| (*name, &bytes[..])).collect();
        write_files(&self.dir, &files)?;
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
