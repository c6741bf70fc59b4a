//! Configuration: the raw file as the user typed it, validated into `Config`.
//!
//! Precedence: command-line flags, then `HERALD_*` environment variables (both handled by
//! clap in `main.rs`), then the config file, then the defaults below.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use crate::custom::CustomFeed;

/// The validated configuration the program uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub site: Site,
    pub content: Content,
    pub feeds: Feeds,
    pub server: Server,
    pub websub: WebSub,
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
    /// Old slug → new slug: the old feed URLs answer with a permanent redirect.
    pub redirects: BTreeMap<String, String>,
    /// Articles per archive page (RFC 5005 archived feeds), numbered from the oldest.
    pub archive_page_size: usize,
    /// Custom feeds (`[[feeds.custom]]`), in the order of the file.
    pub custom: Vec<CustomFeed>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Server {
    pub listen: SocketAddr,
    /// `Cache-Control: max-age` of feed responses.
    pub max_age: Duration,
    /// How long the watcher waits for a burst of events to end before rebuilding.
    pub debounce: Duration,
    /// The request head must arrive within this after a connection opens (slowloris).
    pub request_timeout: Duration,
    /// Idle keep-alive connections are closed after this; zero disables keep-alive.
    pub keep_alive: Duration,
    /// On SIGTERM/SIGINT, in-flight requests get this long to finish.
    pub shutdown_timeout: Duration,
}

/// WebSub (W3C Recommendation) publishing: hubs named in every live feed and pinged when
/// its bytes change. No hubs: WebSub is off and the feeds are as without this section.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WebSub {
    /// Absolute http(s) URLs of the hubs, as the `url` crate normalises them.
    pub hubs: Vec<String>,
}

/// The config file as the user typed it: every key optional, unknown keys rejected.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawConfig {
    pub site: RawSite,
    pub content: RawContent,
    pub feeds: RawFeeds,
    pub server: RawServer,
    pub websub: RawWebSub,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawSite {
    pub title: Option<String>,
    pub description: Option<String>,
    pub base_url: Option<String>,
    pub language: Option<String>,
    pub author: Option<String>,
    pub id_authority: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawContent {
    pub root: Option<PathBuf>,
    pub ignore: Option<Vec<String>>,
    pub default_category: Option<String>,
    pub max_file_bytes: Option<u64>,
    pub follow_symlinks: Option<bool>,
    pub git_dates: Option<bool>,
    pub summary_chars: Option<usize>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawFeeds {
    pub items: Option<usize>,
    pub out: Option<PathBuf>,
    pub link_template: Option<String>,
    pub slugs: Option<BTreeMap<String, String>>,
    pub redirects: Option<BTreeMap<String, String>>,
    pub archive_page_size: Option<usize>,
    pub custom: Option<Vec<RawCustomFeed>>,
}

/// One `[[feeds.custom]]` table as typed.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawCustomFeed {
    pub slug: Option<String>,
    pub title: Option<String>,
    pub categories: Option<Vec<String>>,
    pub exclude_categories: Option<Vec<String>>,
    pub title_words: Option<Vec<String>>,
    pub exclude_title_words: Option<Vec<String>>,
    pub items: Option<usize>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawServer {
    pub listen: Option<String>,
    pub max_age_seconds: Option<u64>,
    pub debounce_ms: Option<u64>,
    pub request_timeout_ms: Option<u64>,
    pub keep_alive_seconds: Option<u64>,
    pub shutdown_timeout_seconds: Option<u64>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawWebSub {
    pub hubs: Option<Vec<String>>,
}

/// Values given on the command line or in `HERALD_*` variables; they beat the file.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub content: Option<PathBuf>,
    pub out: Option<PathBuf>,
    pub listen: Option<String>,
    pub base_url: Option<String>,
}

/// A configuration problem, naming the file and key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    // `error`, not `source`: the message carries it already, and an error chain printed
    // with its causes would say it twice.
    #[error("cannot read config file {path}: {error}")]
    Read { path: PathBuf, error: std::io::Error },
    #[error("config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{key}: {message}")]
    Invalid { key: String, message: String },
}

fn invalid(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key: key.into(), message: message.into() }
}

impl RawConfig {
    /// Parse the text of a config file. `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<RawConfig, ConfigError> {
        toml::from_str(text)
            .map_err(|e| ConfigError::Parse { path: path.to_path_buf(), message: e.to_string() })
    }

    /// Read and parse a config file.
    pub fn load(path: &Path) -> Result<RawConfig, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| ConfigError::Read { path: path.to_path_buf(), error })?;
        RawConfig::parse(&text, path)
    }

    /// Apply overrides and defaults and check every value. Relative paths in the file are
    /// resolved against `base_dir` (the config file's folder), so Herald behaves the same
    /// from any working directory; relative paths given as overrides are used as given
    /// (relative to the working directory), as a user typing them expects.
    pub fn validate(self, overrides: &Overrides, base_dir: &Path) -> Result<Config, ConfigError> {
        let in_file = |p: PathBuf| if p.is_absolute() { p } else { base_dir.join(p) };
        let root = match (&overrides.content, self.content.root) {
            (Some(p), _) => p.clone(),
            (None, Some(p)) => in_file(p),
            (None, None) => {
                return Err(invalid(
                    "content.root",
                    "no content folder given; pass --content DIR or set content.root in the config file",
                ))
            }
        };
        // Canonical, so paths reported by the watcher (always absolute) can be matched.
        let root = root.canonicalize().unwrap_or(root);
        if !root.is_dir() {
            return Err(invalid(
                "content.root",
                format!(
                    "content folder {} does not exist or is not a folder; \
                     pass --content DIR or set content.root in the config file",
                    root.display()
                ),
            ));
        }
        let out = match (&overrides.out, self.feeds.out) {
            (Some(p), _) => p.clone(),
            (None, Some(p)) => in_file(p),
            (None, None) => PathBuf::from("feeds"),
        };

        let listen_text = overrides
            .listen
            .clone()
            .or(self.server.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen: SocketAddr = listen_text.parse().map_err(|_| {
            invalid(
                "server.listen",
                format!("{listen_text:?} is not an address like 127.0.0.1:8080"),
            )
        })?;

        let base_url = overrides
            .base_url
            .clone()
            .or(self.site.base_url)
            .unwrap_or_else(|| format!("http://{listen}"));
        let parsed = url::Url::parse(&base_url).map_err(|e| {
            invalid("site.base_url", format!("{base_url:?} is not an absolute URL ({e})"))
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(invalid(
                "site.base_url",
                format!("{base_url:?} must be an http(s) URL with a host"),
            ));
        }
        let base_url = base_url.trim_end_matches('/').to_string();
        let host = parsed.host_str().unwrap_or("localhost").to_string();

        let id_authority = self.site.id_authority.unwrap_or_else(|| format!("{host},2026"));
        if !is_tag_authority(&id_authority) {
            return Err(invalid(
                "site.id_authority",
                format!("{id_authority:?} must be a domain or email, a comma and a date, like \"example.org,2026\""),
            ));
        }

        let items = self.feeds.items.unwrap_or(50);
        if items == 0 || items > 10_000 {
            return Err(invalid("feeds.items", format!("{items} must be between 1 and 10000")));
        }
        let archive_page_size = self.feeds.archive_page_size.unwrap_or(50);
        if archive_page_size == 0 || archive_page_size > 10_000 {
            return Err(invalid(
                "feeds.archive_page_size",
                format!("{archive_page_size} must be between 1 and 10000"),
            ));
        }
        let summary_chars = self.content.summary_chars.unwrap_or(300);
        if summary_chars == 0 {
            return Err(invalid("content.summary_chars", "must be at least 1"));
        }
        let ignore = self.content.ignore.unwrap_or_default();
        for glob in &ignore {
            globset::Glob::new(glob).map_err(|e| {
                invalid("content.ignore", format!("{glob:?} is not a valid glob: {e}"))
            })?;
        }
        let link_template =
            self.feeds.link_template.unwrap_or_else(|| "{base_url}/articles/{path}".into());
        check_link_template(&link_template)?;
        let slugs = self.feeds.slugs.unwrap_or_default();
        for (name, slug) in &slugs {
            if crate::slug::slugify(slug) != *slug || slug.is_empty() || slug == "all" {
                return Err(invalid(
                    "feeds.slugs",
                    format!("slug {slug:?} for {name:?} must be lower case letters, digits and '-', and not \"all\""),
                ));
            }
        }
        let redirects = self.feeds.redirects.unwrap_or_default();
        check_redirects(&redirects)?;
        let custom = custom_feeds(self.feeds.custom.unwrap_or_default(), items, &slugs)?;
        let default_category =
            self.content.default_category.unwrap_or_else(|| "uncategorized".into());
        if default_category.trim().is_empty() {
            return Err(invalid("content.default_category", "must not be empty"));
        }

        let request_timeout_ms = self.server.request_timeout_ms.unwrap_or(5000);
        if request_timeout_ms == 0 || request_timeout_ms > 600_000 {
            return Err(invalid(
                "server.request_timeout_ms",
                format!("{request_timeout_ms} must be between 1 and 600000"),
            ));
        }
        let keep_alive_seconds = self.server.keep_alive_seconds.unwrap_or(30);
        if keep_alive_seconds > 3600 {
            return Err(invalid(
                "server.keep_alive_seconds",
                format!("{keep_alive_seconds} must be at most 3600 (0 disables keep-alive)"),
            ));
        }
        let shutdown_timeout_seconds = self.server.shutdown_timeout_seconds.unwrap_or(10);
        if shutdown_timeout_seconds > 3600 {
            return Err(invalid(
                "server.shutdown_timeout_seconds",
                format!("{shutdown_timeout_seconds} must be at most 3600"),
            ));
        }

        let websub = WebSub { hubs: check_hubs(self.websub.hubs.unwrap_or_default())? };

        Ok(Config {
            websub,
            site: Site {
                title: self.site.title.unwrap_or_else(|| "Herald".into()),
                description: self
                    .site
                    .description
                    .unwrap_or_else(|| "Articles from the repository, by category".into()),
                base_url,
                language: self.site.language.filter(|l| !l.is_empty()),
                author: self.site.author.unwrap_or_else(|| "Herald".into()),
                id_authority,
            },
            content: Content {
                root,
                ignore,
                default_category,
                max_file_bytes: self.content.max_file_bytes.unwrap_or(8 * 1024 * 1024),
                follow_symlinks: self.content.follow_symlinks.unwrap_or(false),
                git_dates: self.content.git_dates.unwrap_or(true),
                summary_chars,
            },
            feeds: Feeds { items, out, link_template, slugs, redirects, archive_page_size, custom },
            server: Server {
                listen,
                max_age: Duration::from_secs(self.server.max_age_seconds.unwrap_or(300)),
                debounce: Duration::from_millis(self.server.debounce_ms.unwrap_or(3)),
                request_timeout: Duration::from_millis(request_timeout_ms),
                keep_alive: Duration::from_secs(keep_alive_seconds),
                shutdown_timeout: Duration::from_secs(shutdown_timeout_seconds),
            },
        })
    }
}

/// Each hub must be an absolute http(s) URL with a host, named once. Returned normalised by
/// the `url` crate (`https://Hub.Example` → `https://hub.example/`), so the feeds name it
/// exactly as Herald pings it.
fn check_hubs(hubs: Vec<String>) -> Result<Vec<String>, ConfigError> {
    let mut out: Vec<String> = Vec::with_capacity(hubs.len());
    for hub in hubs {
        let url = url::Url::parse(hub.trim())
            .map_err(|e| invalid("websub.hubs", format!("{hub:?} is not an absolute URL ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(invalid(
                "websub.hubs",
                format!(
                    "{hub:?} must be an http(s) URL with a host, like \"https://hub.example/\""
                ),
            ));
        }
        if url.fragment().is_some() {
            return Err(invalid("websub.hubs", format!("{hub:?} must not have a #fragment")));
        }
        let url = url.to_string();
        if out.contains(&url) {
            return Err(invalid("websub.hubs", format!("{hub:?} is listed twice")));
        }
        out.push(url);
    }
    Ok(out)
}

/// RFC 4151 taggingEntity: `authority,date` with a date of `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
fn is_tag_authority(s: &str) -> bool {
    let Some((authority, date)) = s.rsplit_once(',') else { return false };
    let date_ok = matches!(date.len(), 4 | 7 | 10)
        && date.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    let authority_ok = !authority.is_empty()
        && authority.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.@_".contains(&b));
    date_ok && authority_ok
}

/// `[feeds.redirects]`: both sides slugs, the old one not `all` (always served), no entry
/// pointing at itself or leading back to itself through others (a loop would never answer).
fn check_redirects(redirects: &BTreeMap<String, String>) -> Result<(), ConfigError> {
    let is_slug = |s: &str| !s.is_empty() && crate::slug::slugify(s) == s;
    for (old, new) in redirects {
        if !is_slug(old) || !is_slug(new) {
            return Err(invalid(
                "feeds.redirects",
                format!("{old:?} = {new:?}: both must be slugs (lower case letters, digits and '-'), as in /feeds/{{slug}}.rss"),
            ));
        }
        if old == "all" {
            return Err(invalid(
                "feeds.redirects",
                format!("{old:?} = {new:?}: \"all\" is the site-wide feed, always served; it cannot be redirected"),
            ));
        }
        if old == new {
            return Err(invalid(
                "feeds.redirects",
                format!("{old:?} = {new:?}: a slug cannot redirect to itself; remove the entry"),
            ));
        }
        let mut seen = std::collections::BTreeSet::from([old.as_str()]);
        let mut at = new.as_str();
        while let Some(next) = redirects.get(at) {
            if !seen.insert(at) {
                break; // a loop further on, reported from one of its own entries
            }
            if next == old {
                return Err(invalid(
                    "feeds.redirects",
                    format!(
                        "{old:?} = {new:?}: the redirects loop back to {old:?}; break the loop"
                    ),
                ));
            }
            at = next;
        }
    }
    Ok(())
}

/// Validate the `[[feeds.custom]]` tables. Errors name the table by its position, counted
/// from 0 as in `feeds.custom[2].slug`. `items` is `feeds.items`, the default cap; `aliases`
/// is `feeds.slugs`, whose slugs a custom feed must not take.
fn custom_feeds(
    raw: Vec<RawCustomFeed>,
    items: usize,
    aliases: &BTreeMap<String, String>,
) -> Result<Vec<CustomFeed>, ConfigError> {
    let mut out: Vec<CustomFeed> = Vec::with_capacity(raw.len());
    for (i, feed) in raw.into_iter().enumerate() {
        let key = |name: &str| format!("feeds.custom[{i}].{name}");
        let Some(slug) = feed.slug else {
            return Err(invalid(
                key("slug"),
                "required: the feed's URL name, as in /feeds/{slug}.rss",
            ));
        };
        if slug.is_empty() || crate::slug::slugify(&slug) != slug {
            return Err(invalid(
                key("slug"),
                format!(
                    "{slug:?} must be lower case letters, digits and '-' (for instance {:?})",
                    crate::slug::slugify(&slug)
                ),
            ));
        }
        if slug == "all" {
            return Err(invalid(
                key("slug"),
                "\"all\" is the feed of every article; choose another slug",
            ));
        }
        if let Some(j) = out.iter().position(|f| f.slug == slug) {
            return Err(invalid(
                key("slug"),
                format!("{slug:?} is already the slug of feeds.custom[{j}]; slugs must be unique"),
            ));
        }
        if let Some((name, _)) = aliases.iter().find(|(_, s)| **s == slug) {
            return Err(invalid(
                key("slug"),
                format!(
                    "{slug:?} is the slug feeds.slugs gives to category {name:?}; choose another"
                ),
            ));
        }
        let title = match feed.title {
            Some(t) if t.trim().is_empty() => {
                return Err(invalid(
                    key("title"),
                    "must not be empty (leave it out for the default)",
                ))
            }
            t => t,
        };
        let names = |list: Option<Vec<String>>, name: &str| -> Result<Vec<String>, ConfigError> {
            let list = list.unwrap_or_default();
            if list.iter().any(|n| n.trim().is_empty()) {
                return Err(invalid(key(name), format!("feed {slug:?}: an empty entry would match nothing or everything; remove it")));
            }
            let mut unique: Vec<String> = Vec::with_capacity(list.len());
            for n in list {
                if !unique.contains(&n) {
                    unique.push(n);
                }
            }
            Ok(unique)
        };
        let categories = names(feed.categories, "categories")?;
        let exclude_categories = names(feed.exclude_categories, "exclude_categories")?;
        let fold_all = |list: Vec<String>| -> Vec<String> {
            let mut folded: Vec<String> = Vec::with_capacity(list.len());
            for w in list.iter().map(|w| crate::custom::fold(w)) {
                if !folded.contains(&w) {
                    folded.push(w);
                }
            }
            folded
        };
        let title_words = fold_all(names(feed.title_words, "title_words")?);
        let exclude_title_words = fold_all(names(feed.exclude_title_words, "exclude_title_words")?);
        if let Some(c) = categories.iter().find(|c| exclude_categories.contains(c)) {
            return Err(invalid(
                key("exclude_categories"),
                format!("feed {slug:?}: {c:?} is also in categories; keep it in one of the two"),
            ));
        }
        if let Some(w) = title_words.iter().find(|w| exclude_title_words.contains(w)) {
            return Err(invalid(
                key("exclude_title_words"),
                format!("feed {slug:?}: {w:?} is also in title_words; keep it in one of the two"),
            ));
        }
        if categories.is_empty()
            && exclude_categories.is_empty()
            && title_words.is_empty()
            && exclude_title_words.is_empty()
        {
            return Err(invalid(
                format!("feeds.custom[{i}]"),
                format!(
                    "feed {slug:?} has no categories, exclude_categories, title_words or \
                     exclude_title_words, so it would be the feed \"all\"; give it at least one"
                ),
            ));
        }
        let items = feed.items.unwrap_or(items);
        if items == 0 || items > 10_000 {
            return Err(invalid(key("items"), format!("{items} must be between 1 and 10000")));
        }
        out.push(CustomFeed {
            slug,
            title,
            categories,
            exclude_categories,
            title_words,
            exclude_title_words,
            items,
        });
    }
    Ok(out)
}

/// A piece of `feeds.link_template`: text, or a placeholder `Site` fills for each item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkPart {
    Text(String),
    BaseUrl,
    Path,
    PathNoExt,
    Slug,
    Id,
}

/// The placeholders `feeds.link_template` may name, and what each stands for.
pub const LINK_PLACEHOLDERS: [(&str, LinkPart); 5] = [
    ("{base_url}", LinkPart::BaseUrl),
    ("{path}", LinkPart::Path),
    ("{path_no_ext}", LinkPart::PathNoExt),
    ("{slug}", LinkPart::Slug),
    ("{id}", LinkPart::Id),
];

fn check_link_template(template: &str) -> Result<(), ConfigError> {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            return Err(invalid("feeds.link_template", format!("unclosed '{{' in {template:?}")));
        };
        let placeholder = &rest[open..=open + close];
        if !LINK_PLACEHOLDERS.iter().any(|(known, _)| *known == placeholder) {
            let known: Vec<&str> =
                LINK_PLACEHOLDERS.iter().map(|(p, _)| p.trim_matches(['{', '}'])).collect();
            return Err(invalid(
                "feeds.link_template",
                format!(
                    "unknown placeholder {placeholder} in {template:?}; known: {}",
                    known.join(", ")
                ),
            ));
        }
        rest = &rest[open + close + 1..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Validate `text` with the content folder given as an override (it must exist).
    fn validate(text: &str) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let overrides =
            Overrides { content: Some(dir.path().to_path_buf()), ..Overrides::default() };
        RawConfig::parse(text, Path::new("herald.toml"))?.validate(&overrides, dir.path())
    }

    #[test]
    fn defaults_fill_every_key() {
        let cfg = validate("").unwrap();
        assert_eq!(cfg.feeds.items, 50);
        assert_eq!(cfg.feeds.archive_page_size, 50);
        assert_eq!(cfg.site.base_url, "http://127.0.0.1:8080");
        assert_eq!(cfg.site.id_authority, "127.0.0.1,2026");
        assert_eq!(cfg.server.max_age, Duration::from_secs(300));
        assert_eq!(cfg.server.debounce, Duration::from_millis(3));
        assert_eq!(cfg.content.max_file_bytes, 8 * 1024 * 1024);
        assert_eq!(cfg.feeds.link_template, "{base_url}/articles/{path}");
        assert_eq!(cfg.server.request_timeout, Duration::from_millis(5000));
        assert_eq!(cfg.server.keep_alive, Duration::from_secs(30));
        assert_eq!(cfg.server.shutdown_timeout, Duration::from_secs(10));
    }

    #[test]
    fn server_timeouts_are_read() {
        let cfg = validate(
            "[server]\nrequest_timeout_ms = 250\nkeep_alive_seconds = 0\nshutdown_timeout_seconds = 3",
        )
        .unwrap();
        assert_eq!(cfg.server.request_timeout, Duration::from_millis(250));
        assert_eq!(cfg.server.keep_alive, Duration::ZERO);
        assert_eq!(cfg.server.shutdown_timeout, Duration::from_secs(3));
    }

    #[test]
    fn websub_is_off_by_default_and_hubs_are_normalised() {
        assert!(validate("").unwrap().websub.hubs.is_empty());
        assert!(validate("[websub]\nhubs = []").unwrap().websub.hubs.is_empty());
        let cfg = validate(
            "[websub]\nhubs = [\"https://Hub.Example\", \"http://127.0.0.1:9/publish?x=1\"]",
        )
        .unwrap();
        assert_eq!(cfg.websub.hubs, ["https://hub.example/", "http://127.0.0.1:9/publish?x=1"]);
        let err = validate("[websub]\nhub = \"https://hub.example/\"").unwrap_err().to_string();
        assert!(err.contains("hub"), "{err}");
    }

    #[test]
    fn unknown_key_is_an_error_naming_it() {
        let err = validate("[content]\nroots = 1").unwrap_err().to_string();
        assert!(err.contains("roots"), "{err}");
    }

    #[test]
    fn missing_content_folder_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let raw = RawConfig::parse("[content]\nroot = \"nowhere\"", Path::new("x")).unwrap();
        let err = raw.validate(&Overrides::default(), dir.path()).unwrap_err().to_string();
        assert!(err.contains("content.root") && err.contains("nowhere"), "{err}");
    }

    #[test]
    fn bad_values_name_their_key() {
        for (text, key) in [
            ("[feeds]\nitems = 0", "feeds.items"),
            ("[feeds]\narchive_page_size = 0", "feeds.archive_page_size"),
            ("[server]\nlisten = \"localhost\"", "server.listen"),
            ("[site]\nbase_url = \"feeds.example.org\"", "site.base_url"),
            ("[feeds]\nlink_template = \"{base}/x\"", "feeds.link_template"),
            ("[content]\nignore = [\"a[\"]", "content.ignore"),
            ("[feeds.slugs]\n\"Tokyo\" = \"Tokyo Group\"", "feeds.slugs"),
            ("[feeds.redirects]\n\"Old News\" = \"news\"", "Old News"),
            ("[feeds.redirects]\n\"old\" = \"New\"", "old"),
            ("[feeds.redirects]\n\"all\" = \"news\"", "all"),
            ("[feeds.redirects]\n\"news\" = \"news\"", "itself"),
            ("[feeds.redirects]\n\"a\" = \"b\"\n\"b\" = \"c\"\n\"c\" = \"a\"", "loop back"),
            ("[site]\nid_authority = \"example.org\"", "site.id_authority"),
            ("[server]\nrequest_timeout_ms = 0", "server.request_timeout_ms"),
            ("[server]\nkeep_alive_seconds = 86400", "server.keep_alive_seconds"),
            ("[server]\nshutdown_timeout_seconds = 86400", "server.shutdown_timeout_seconds"),
            ("[websub]\nhubs = [\"hub.example\"]", "websub.hubs"),
            ("[websub]\nhubs = [\"ftp://hub.example/\"]", "websub.hubs"),
            ("[websub]\nhubs = [\"mailto:hub@example.org\"]", "websub.hubs"),
            ("[websub]\nhubs = [\"https://hub.example/#x\"]", "websub.hubs"),
            ("[websub]\nhubs = [\"https://hub.example\", \"https://HUB.example/\"]", "websub.hubs"),
        ] {
            let err = validate(text).unwrap_err().to_string();
            assert!(err.contains(key), "{key}: {err}");
        }
    }

    #[test]
    fn redirects_are_read_and_name_their_key_when_bad() {
        let cfg =
            validate("[feeds.redirects]\n\"old-news\" = \"news\"\n\"日报\" = \"all\"").unwrap();
        assert_eq!(cfg.feeds.redirects["old-news"], "news");
        assert_eq!(cfg.feeds.redirects["日报"], "all", "folding a category into all is allowed");
        assert!(validate("").unwrap().feeds.redirects.is_empty());
        let err = validate("[feeds.redirects]\n\"a\" = \"a\"").unwrap_err().to_string();
        assert!(err.contains("feeds.redirects") && err.contains("\"a\""), "{err}");
    }

    #[test]
    fn custom_feeds_are_read_with_their_defaults() {
        let cfg = validate(
            "[feeds]\nitems = 30\n\
             [[feeds.custom]]\nslug = \"world\"\ntitle = \"World news, no sport\"\n\
             categories = [\"国际\", \"Europe\", \"国际\"]\nexclude_categories = [\"体育\"]\n\
             title_words = [\"Climate\", \"气候\"]\nexclude_title_words = [\"广告\"]\nitems = 20\n\
             [[feeds.custom]]\nslug = \"climate\"\ntitle_words = [\"climate\"]\n",
        )
        .unwrap();
        let [world, climate] = &cfg.feeds.custom[..] else { panic!("{:?}", cfg.feeds.custom) };
        assert_eq!(world.slug, "world");
        assert_eq!(world.title.as_deref(), Some("World news, no sport"));
        assert_eq!(world.categories, ["国际", "Europe"], "duplicates dropped, order kept");
        assert_eq!(world.exclude_categories, ["体育"]);
        assert_eq!(world.title_words, ["climate", "气候"], "words are folded at load");
        assert_eq!(world.exclude_title_words, ["广告"]);
        assert_eq!(world.items, 20);
        assert_eq!(climate.items, 30, "default: feeds.items");
        assert_eq!(climate.title, None);
        assert!(climate.categories.is_empty());
        assert!(validate("").unwrap().feeds.custom.is_empty());
    }

    #[test]
    fn bad_custom_feeds_name_their_key() {
        let feed = |body: &str| {
            format!(
                "[[feeds.custom]]\nslug = \"ok\"\ntitle_words = [\"a\"]\n[[feeds.custom]]\n{body}"
            )
        };
        for (text, key, what) in [
            (feed("title_words = [\"a\"]"), "feeds.custom[1].slug", "required"),
            (
                feed("slug = \"World News\"\ntitle_words = [\"a\"]"),
                "feeds.custom[1].slug",
                "world-news",
            ),
            (feed("slug = \"a/b\"\ntitle_words = [\"a\"]"), "feeds.custom[1].slug", "lower case"),
            (feed("slug = \"\"\ntitle_words = [\"a\"]"), "feeds.custom[1].slug", "lower case"),
            (
                feed("slug = \"all\"\ntitle_words = [\"a\"]"),
                "feeds.custom[1].slug",
                "every article",
            ),
            (
                feed("slug = \"ok\"\ntitle_words = [\"b\"]"),
                "feeds.custom[1].slug",
                "feeds.custom[0]",
            ),
            (feed("slug = \"x\""), "feeds.custom[1]:", "no categories"),
            (feed("slug = \"x\"\ncategories = []"), "feeds.custom[1]:", "no categories"),
            (
                feed("slug = \"x\"\ncategories = [\" \"]"),
                "feeds.custom[1].categories",
                "empty entry",
            ),
            (
                feed("slug = \"x\"\ntitle_words = [\"\"]"),
                "feeds.custom[1].title_words",
                "empty entry",
            ),
            (
                feed("slug = \"x\"\ntitle = \"\"\ntitle_words = [\"a\"]"),
                "feeds.custom[1].title",
                "empty",
            ),
            (
                feed("slug = \"x\"\ntitle_words = [\"a\"]\nitems = 0"),
                "feeds.custom[1].items",
                "between",
            ),
            (
                feed("slug = \"x\"\ncategories = [\"A\"]\nexclude_categories = [\"A\"]"),
                "feeds.custom[1].exclude_categories",
                "also in categories",
            ),
            (
                feed("slug = \"x\"\ntitle_words = [\"Ad\"]\nexclude_title_words = [\"aD\"]"),
                "feeds.custom[1].exclude_title_words",
                "also in title_words",
            ),
            (
                format!(
                    "[feeds.slugs]\n\"新闻\" = \"news\"\n{}",
                    feed("slug = \"news\"\ntitle_words = [\"a\"]")
                ),
                "feeds.custom[1].slug",
                "新闻",
            ),
        ] {
            let err = validate(&text).unwrap_err().to_string();
            assert!(err.contains(key) && err.contains(what), "{key} / {what}: {err}");
        }
    }

    #[test]
    fn unknown_custom_feed_keys_are_errors_naming_them() {
        let err = validate("[[feeds.custom]]\nslug = \"x\"\ntitle_word = [\"a\"]")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `title_word`") && err.contains("line 3"), "{err}");
    }

    #[test]
    fn the_shipped_config_is_valid_and_has_the_sample_custom_feed() {
        let cfg = validate(include_str!("../config/herald.toml")).unwrap();
        let [weather] = &cfg.feeds.custom[..] else { panic!("{:?}", cfg.feeds.custom) };
        assert_eq!(weather.slug, "weather-watch");
        assert!(weather.title_words.contains(&" rain".to_string()));
    }

    #[test]
    fn wrong_type_is_an_error_naming_the_key() {
        let err = validate("[feeds]\nitems = \"fifty\"").unwrap_err().to_string();
        assert!(err.contains("items"), "{err}");
    }

    #[test]
    fn overrides_beat_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let raw = RawConfig::parse("[server]\nlisten = \"127.0.0.1:1\"", Path::new("x")).unwrap();
        let overrides = Overrides {
            content: Some(dir.path().to_path_buf()),
            listen: Some("127.0.0.1:9".into()),
            base_url: Some("https://feeds.example.org/".into()),
            ..Overrides::default()
        };
        let cfg = raw.validate(&overrides, Path::new("/nonexistent")).unwrap();
        assert_eq!(cfg.server.listen.port(), 9);
        assert_eq!(cfg.site.base_url, "https://feeds.example.org");
        assert_eq!(cfg.content.root, dir.path());
    }
}
