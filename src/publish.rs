//! Publish: the snapshot the server reads (swapped atomically) and the on-disk mirror.

use crate::article::Article;
use crate::render::encode::Encoded;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
    pub feeds: HashMap<String, Arc<Encoded>>,
    /// Feeds in display order (`all` first, then custom feeds as configured, then categories
    /// by name).
    pub listing: Vec<FeedListing>,
    /// The HTML index page `/`.
    pub index_page: Option<Arc<Encoded>>,
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
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
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

/// Write one mirrored file, making its folder (`{slug}/archive/`) when needed.
fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    write_atomic(&path, bytes)
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
        let mut written = Vec::new();
        for (name, doc) in &snapshot.feeds {
            let path = self.dir.join(name);
            let identity = doc.identity();
            if std::fs::read(&path).ok().as_deref() != Some(&identity.bytes[..]) {
                write_file(&self.dir, name, &identity.bytes)?;
                written.push(name.clone());
            }
        }
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
        for name in changed {
            if let Some(doc) = snapshot.feeds.get(name) {
                write_file(&self.dir, name, &doc.identity().bytes)?;
            }
        }
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
