//! Render: an ordered slice of articles → feed bytes, compressed once, validators once.

pub mod atom;
pub mod encode;
pub mod rss;

use crate::article::Article;
use chrono::{DateTime, Utc};

/// Feed-level data shared by the RSS and Atom renderers.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedMeta {
    /// URL slug: `all` or a category slug. The files are `{slug}.rss` and `{slug}.atom`.
    pub slug: String,
    /// Human title, e.g. `Herald sample: HimalayaRussia`.
    pub title: String,
    pub description: String,
    /// The Atom feed id (a tag URI, stable across renders and machines).
    pub id: String,
    /// Absolute URL of the RSS document (`{base_url}/feeds/{slug}.rss`), for `atom:link rel="self"`.
    pub rss_url: String,
    /// Absolute URL of the Atom document, for Atom's `link rel="self"`.
    pub atom_url: String,
    /// The human page this feed belongs to (the site or the category page), `rel="alternate"`.
    pub html_url: String,
    /// BCP 47 language tag for RSS `<language>` and Atom `xml:lang`, if configured.
    pub language: Option<String>,
    /// Author used when an article names none.
    pub default_author: String,
    /// Name of the generator, e.g. `Herald 0.1.0`.
    pub generator: String,
    /// The newest `updated` among the items: the feed's own `updated`/`lastBuildDate`, so the
    /// same articles always give the same bytes. `None` for an empty feed (then the Unix epoch
    /// is used, which is also deterministic).
    pub updated: Option<DateTime<Utc>>,
}

/// One entry of a feed, everything resolved.
#[derive(Debug, Clone, Copy)]
pub struct FeedItem<'a> {
    pub article: &'a Article,
    /// The item's id/guid (a tag URI or the front matter id).
    pub id: &'a str,
    /// The item's link (from the configured link template).
    pub link: &'a str,
    /// Sanitised HTML of the body, absolute links.
    pub content_html: &'a str,
}
