//! Publish: the snapshot the server reads (swapped atomically) and the on-disk mirror.

use crate::article::Article;
use crate::render::encode::Encoded;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
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
    /// Feed documents by file name: `all.rss`, `all.atom`, `{slug}.rss`, `{slug}.atom`.
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
