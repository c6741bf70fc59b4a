//! Configuration: the raw file as the user typed it, validated into `Config`.
//!
//! Precedence: command-line flags, then `HERALD_*` environment variables (both handled by
//! clap in `main.rs`), then the config file, then the defaults below.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The validated configuration the program uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub site: Site,
    pub content: Content,
    pub feeds: Feeds,
    pub server: Server,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    pub title: String,
    pub description: String,
    /// Public URL Herald is reached at, no trailing slash, e.g. `https://feeds.example.org`.
    pub base_url: String,
    /// BCP 47 language tag for the feeds, if any.
    pub language: Option<String>,
    /// Author of articles that name none.
    pub author: String,
    /// Tagging authority of `tag:` ids, e.g. `feeds.example.org,2026`.
    pub id_authority: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Content {
    pub root: PathBuf,
    /// Extra ignore globs, matched against paths relative to the root.
    pub ignore: Vec<String>,
    pub default_category: String,
    /// Files larger than this are skipped without being read whole.
    pub max_file_bytes: u64,
    pub follow_symlinks: bool,
    /// Use the git history for dates when the root is inside a git checkout.
    pub git_dates: bool,
    pub summary_chars: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Feeds {
    /// Newest items per feed.
    pub items: usize,
    /// Where the mirror of the served feeds is written.
    pub out: PathBuf,
    /// Item link template; placeholders `{base_url}`, `{path}`, `{path_no_ext}`, `{slug}`, `{id}`.
    pub link_template: String,
    /// Category name → slug, overriding the computed slug.
    pub slugs: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Server {
    pub listen: SocketAddr,
    /// `Cache-Control: max-age` of feed responses.
    pub max_age: Duration,
    /// How long the watcher waits for a burst of events to end before rebuilding.
    pub debounce: Duration,
}
