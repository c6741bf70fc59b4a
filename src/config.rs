//! Configuration: the raw file as the user typed it, validated into `Config`.
//!
//! Precedence: command-line flags, then `HERALD_*` environment variables (both handled by
//! clap in `main.rs`), then the config file, then the defaults below.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    /// Articles per archive page (RFC 5005 archived feeds), numbered from the oldest.
    pub archive_page_size: usize,
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
    pub archive_page_size: Option<usize>,
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
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{key}: {message}")]
    Invalid { key: &'static str, message: String },
}

fn invalid(key: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key, message: message.into() }
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
            .map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
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
            feeds: Feeds { items, out, link_template, slugs, archive_page_size },
            server: Server {
                listen,
                max_age: Duration::from_secs(self.server.max_age_seconds.unwrap_or(300)),
                debounce: Duration::from_millis(self.server.debounce_ms.unwrap_or(10)),
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

const LINK_PLACEHOLDERS: [&str; 5] = ["base_url", "path", "path_no_ext", "slug", "id"];

fn check_link_template(template: &str) -> Result<(), ConfigError> {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            return Err(invalid("feeds.link_template", format!("unclosed '{{' in {template:?}")));
        };
        let name = &rest[open + 1..open + close];
        if !LINK_PLACEHOLDERS.contains(&name) {
            return Err(invalid(
                "feeds.link_template",
                format!(
                    "unknown placeholder {{{name}}} in {template:?}; known: {}",
                    LINK_PLACEHOLDERS.join(", ")
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
