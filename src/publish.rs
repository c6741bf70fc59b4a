//! Publish: the snapshot the server reads (swapped atomically) and the on-disk mirror.

use crate::article::Article;
use crate::render::encode::Encoded;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One feed (a category or `all`) as the index page and the 404 page list it.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedListing {
    /// `all` or the category slug.
    pub slug: String,
    /// The category name (`All articles` for `all`).
    pub name: String,
    /// Number of articles in the category (not capped by the feed length).
    pub count: usize,
    pub updated: Option<DateTime<Utc>>,
    /// Titles of the newest few items, newest first.
    pub latest: Vec<String>,
}

/// Everything the server answers from. Immutable; replaced as a whole after each rebuild so a
/// request sees the old set or the new set, never a mix.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Feed documents by file name: `all.rss`, `all.atom`, `all.json`, `{slug}.rss`,
    /// `{slug}.atom`, `{slug}.json`, `index.opml`, archive pages `{slug}/archive/{n}.rss` and
    /// `{slug}/archive/{n}.atom`.
    pub feeds: HashMap<String, Arc<Encoded>>,
    /// Feeds in display order (`all` first, then categories by name).
    pub listing: Vec<FeedListing>,
    /// The HTML index page `/`.
    pub index_page: Option<Arc<Encoded>>,
    /// Articles by path relative to the content root, for `/articles/{path}`.
    pub articles: BTreeMap<String, Arc<Article>>,
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
    /// differ from the file and delete feed files that are no longer served.
    pub fn sync_all(&self, snapshot: &Snapshot) -> std::io::Result<usize> {
        std::fs::create_dir_all(&self.dir)?;
        let mut written = 0;
        for (name, doc) in &snapshot.feeds {
            let path = self.dir.join(name);
            if std::fs::read(&path).ok().as_deref() != Some(&doc.identity.bytes[..]) {
                write_file(&self.dir, name, &doc.identity.bytes)?;
                written += 1;
            }
        }
        let mut names = archive_files(&self.dir)?;
        for entry in std::fs::read_dir(&self.dir)? {
            names.push(entry?.file_name().to_string_lossy().into_owned());
        }
        for name in names {
            if is_feed_file(&name) && !snapshot.feeds.contains_key(&name) {
                std::fs::remove_file(self.dir.join(&name))?;
            }
        }
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
                write_file(&self.dir, name, &doc.identity.bytes)?;
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
