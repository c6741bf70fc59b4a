//! Site: drives the pipeline. A cold build is a rescan of an empty site; a change set
//! re-parses only the files it names and re-renders only the feeds whose items changed.

use crate::article::{self, Article, Identity, ParseOptions, Parsed};
use crate::config::Config;
use crate::dates::{self, GitDates};
use crate::index::Index;
use crate::publish::{ArticleSource, FeedListing, Snapshot};
use crate::render::encode::Encoded;
use crate::render::{self, FeedItem, FeedMeta};
use crate::scan::{self, Rules, SourceFile};
use crate::watch::ChangeSet;
use chrono::{DateTime, Utc};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

pub const RSS_TYPE: &str = "application/rss+xml; charset=utf-8";
pub const ATOM_TYPE: &str = "application/atom+xml; charset=utf-8";

/// Characters kept as they are in a path segment and in a tag URI's specific part.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Percent-encode each `/`-separated segment of a path (Chinese names stay readable in
/// browsers, which decode them for display).
pub fn encode_path(path: &str) -> String {
    path.split('/')
        .map(|s| utf8_percent_encode(s, SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

/// What happened to one file, for `herald check` and the logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Article,
    Draft,
    IndexPage,
    Skipped(String),
}

/// The report of one file: its outcome and every warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    pub outcome: Outcome,
    pub warnings: Vec<String>,
    /// Where the published and updated dates came from (articles only).
    pub date_sources: Option<(&'static str, &'static str)>,
}

/// When a file was last seen, to skip unchanged files on a rescan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    mtime: Option<SystemTime>,
}

impl From<&SourceFile> for Stamp {
    fn from(f: &SourceFile) -> Self {
        Stamp { len: f.len, mtime: f.mtime }
    }
}

/// Reads and renders article bodies on demand (feeds' newest items, article pages).
#[derive(Debug, Clone)]
pub struct Bodies {
    root: std::path::PathBuf,
    max_file_bytes: u64,
    links: Links,
}

impl Bodies {
    /// Sanitised HTML of the body of `article`, links made absolute against its own URL.
    pub fn html(&self, article: &Article) -> Result<String, String> {
        let abs = self.root.join(&article.path);
        let bytes =
            scan::read(&abs, self.max_file_bytes).map_err(|e| format!("{}: {e}", article.path))?;
        let (text, _) = article::parse::decode(&bytes);
        let body = text.get(article.body_offset..).unwrap_or("");
        let base = url::Url::parse(&self.links.link(article, ""))
            .or_else(|_| url::Url::parse(&self.links.base_url))
            .map_err(|e| format!("{}: cannot make a base URL: {e}", article.path))?;
        Ok(article::html::render(body, &base))
    }
}

impl ArticleSource for Bodies {
    fn body_html(&self, article: &Article) -> Result<String, String> {
        self.html(article)
    }
}

/// Builds item links and ids from the configuration.
#[derive(Debug, Clone)]
struct Links {
    base_url: String,
    template: String,
    authority: String,
}

impl Links {
    fn link(&self, article: &Article, id: &str) -> String {
        let path = encode_path(&article.path);
        let no_ext = path.strip_suffix(".md").unwrap_or(&path).to_string();
        let stem = article.path.rsplit('/').next().unwrap_or("").trim_end_matches(".md");
        self.template
            .replace("{base_url}", &self.base_url)
            .replace("{path_no_ext}", &no_ext)
            .replace("{path}", &path)
            .replace(
                "{slug}",
                &utf8_percent_encode(&crate::slug::slugify(stem), SEGMENT).to_string(),
            )
            .replace("{id}", &utf8_percent_encode(id, SEGMENT).to_string())
    }

    /// The item id: front matter `id`, else a unique source link, else the path, as a tag URI
    /// (RFC 4151) so the same article has the same id on every machine and after every edit.
    fn id(&self, article: &Article, index: &Index) -> String {
        match &article.identity {
            Identity::FrontMatter(id) if looks_like_uri(id) => id.clone(),
            Identity::FrontMatter(id) => {
                format!("tag:{}:id/{}", self.authority, utf8_percent_encode(id, SEGMENT))
            }
            Identity::Source(source) if index.source_is_unique(source) => {
                format!(
                    "tag:{}:source/{}",
                    self.authority,
                    &blake3::hash(source.as_bytes()).to_hex()[..32]
                )
            }
            Identity::Source(_) | Identity::Path => {
                format!("tag:{}:path/{}", self.authority, encode_path(&article.path))
            }
        }
    }
}

fn looks_like_uri(id: &str) -> bool {
    match id.split_once(':') {
        Some((scheme, rest)) => {
            !rest.is_empty()
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                && !id.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// One rendered feed: its documents and what the index page shows of it.
#[derive(Debug, Clone)]
struct FeedState {
    name: String,
    updated: Option<DateTime<Utc>>,
    latest: Vec<String>,
}

/// What changed in one rebuild, for the log line.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RebuildReport {
    pub parsed: usize,
    pub removed: usize,
    pub feeds_rendered: usize,
    /// Feed file names written or replaced.
    pub changed_files: Vec<String>,
    /// Feed file names that no longer exist.
    pub removed_files: Vec<String>,
}

pub struct Site {
    cfg: Arc<Config>,
    rules: Rules,
    parse_options: ParseOptions,
    links: Links,
    bodies: Bodies,
    git: Option<GitDates>,
    index: Index,
    stamps: HashMap<String, Stamp>,
    reports: BTreeMap<String, FileReport>,
    body_cache: HashMap<String, Arc<str>>,
    slugs: HashMap<String, String>,
    feeds: HashMap<String, Arc<Encoded>>,
    feed_states: BTreeMap<String, FeedState>,
}

impl Site {
    /// An empty site for `cfg`; call `rescan` (or use `build`) to fill it.
    pub fn new(cfg: Arc<Config>) -> anyhow::Result<Site> {
        let rules = Rules::new(&cfg.content)?;
        let links = Links {
            base_url: cfg.site.base_url.clone(),
            template: cfg.feeds.link_template.clone(),
            authority: cfg.site.id_authority.clone(),
        };
        let bodies = Bodies {
            root: cfg.content.root.clone(),
            max_file_bytes: cfg.content.max_file_bytes,
            links: links.clone(),
        };
        Ok(Site {
            parse_options: ParseOptions {
                summary_chars: cfg.content.summary_chars,
                default_category: cfg.content.default_category.clone(),
            },
            index: Index::new(cfg.feeds.items),
            rules,
            links,
            bodies,
            git: None,
            stamps: HashMap::new(),
            reports: BTreeMap::new(),
            body_cache: HashMap::new(),
            slugs: HashMap::new(),
            feeds: HashMap::new(),
            feed_states: BTreeMap::new(),
            cfg,
        })
    }

    /// Scan, parse and render everything.
    pub fn build(cfg: Arc<Config>) -> anyhow::Result<Site> {
        let mut site = Site::new(cfg)?;
        site.rescan();
        site.render_dirty();
        Ok(site)
    }

    pub fn config(&self) -> &Arc<Config> {
        &self.cfg
    }

    pub fn bodies(&self) -> Bodies {
        self.bodies.clone()
    }

    pub fn index(&self) -> &Index {
        &self.index
    }

    /// Per-file reports, by path.
    pub fn reports(&self) -> &BTreeMap<String, FileReport> {
        &self.reports
    }

    /// Where what was learned from the git history is kept between runs: beside the feeds,
    /// hidden, so the mirror's readers never see it.
    fn git_state_file(&self) -> std::path::PathBuf {
        self.cfg.feeds.out.join(".herald-git-dates")
    }

    fn load_git(&mut self) {
        if !self.cfg.content.git_dates {
            return;
        }
        let root = &self.cfg.content.root;
        let state = self.git_state_file();
        if let Some(dir) = state.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        self.git = match GitDates::load_cached(root, &state) {
            Ok(git) => git,
            Err(e) => {
                tracing::warn!("git history of {} not used for dates: {e}", root.display());
                None
            }
        };
    }

    /// After a `git pull` or commit (HEAD moved), read the new commits and give every
    /// article whose dates came from git or mtime its new dates. Returns whether HEAD moved.
    pub fn refresh_git(&mut self) -> bool {
        let Some(git) = &self.git else { return false };
        let head = GitDates::current_head(&self.cfg.content.root);
        if head.as_deref() == git.head() {
            return false;
        }
        self.load_git();
        let stale: Vec<Arc<Article>> = self
            .index
            .articles()
            .filter(|a| {
                [a.published, a.updated]
                    .iter()
                    .flatten()
                    .any(|d| d.source >= article::DateSource::Git)
            })
            .cloned()
            .collect();
        for old in stale {
            let mut article = (*old).clone();
            for date in [&mut article.published, &mut article.updated] {
                if date.is_some_and(|d| d.source >= article::DateSource::Git) {
                    *date = None;
                }
            }
            let mtime = self.stamps.get(&article.path).and_then(|s| s.mtime);
            dates::resolve(&mut article, self.git.as_ref(), mtime);
            if article != *old {
                self.index.insert(Arc::new(article));
            }
        }
        true
    }

    /// Walk the whole root again: parse new and changed files, drop vanished ones.
    pub fn rescan(&mut self) -> RebuildReport {
        self.load_git();
        let (files, problems) = scan::scan(&self.rules);
        for p in problems {
            tracing::warn!("{}: {}", p.path, p.message);
        }
        let present: BTreeSet<&str> = files.iter().map(|f| f.rel.as_str()).collect();
        let gone: Vec<String> =
            self.stamps.keys().filter(|p| !present.contains(p.as_str())).cloned().collect();
        let changed: Vec<SourceFile> = files
            .into_iter()
            .filter(|f| self.stamps.get(&f.rel) != Some(&Stamp::from(f)))
            .collect();
        let mut report = RebuildReport { removed: gone.len(), ..RebuildReport::default() };
        for path in gone {
            self.forget(&path);
        }
        report.parsed = self.parse_files(changed);
        report
    }

    /// Apply a change set from the watcher. A path may be a file or a folder, existing or not.
    pub fn apply(&mut self, changes: &ChangeSet) -> RebuildReport {
        if changes.rescan {
            return self.rescan();
        }
        let mut report = RebuildReport::default();
        let mut to_parse: BTreeMap<String, SourceFile> = BTreeMap::new();
        let mut to_forget: BTreeSet<String> = BTreeSet::new();
        for abs in &changes.paths {
            let Some(rel) = self.rules.rel_path(abs) else { continue };
            match std::fs::symlink_metadata(abs) {
                Ok(meta) if meta.is_dir() => {
                    let (found, _) = scan::scan_under(&self.rules, abs);
                    let found_set: BTreeSet<&str> = found.iter().map(|f| f.rel.as_str()).collect();
                    let prefix = format!("{rel}/");
                    to_forget.extend(
                        self.stamps
                            .keys()
                            .filter(|p| p.starts_with(&prefix) && !found_set.contains(p.as_str()))
                            .cloned(),
                    );
                    for f in found {
                        if self.stamps.get(&f.rel) != Some(&Stamp::from(&f)) {
                            to_parse.insert(f.rel.clone(), f);
                        }
                    }
                }
                _ => match self.rules.stat(abs) {
                    Ok(Some(file)) => {
                        to_parse.insert(file.rel.clone(), file);
                    }
                    Ok(None) => {
                        // Gone (or never an article): forget it and anything that was below it.
                        let prefix = format!("{rel}/");
                        to_forget.extend(
                            self.stamps
                                .keys()
                                .filter(|p| **p == rel || p.starts_with(&prefix))
                                .cloned(),
                        );
                    }
                    Err(e) => {
                        tracing::warn!("{rel}: cannot read file information: {e}; kept as it was")
                    }
                },
            }
        }
        for path in &to_forget {
            if !to_parse.contains_key(path) {
                self.forget(path);
                report.removed += 1;
            }
        }
        report.parsed = self.parse_files(to_parse.into_values().collect());
        report
    }

    fn forget(&mut self, path: &str) {
        self.stamps.remove(path);
        self.reports.remove(path);
        self.body_cache.remove(path);
        self.index.remove(path);
    }

    /// Read and parse files in parallel, then update the index.
    fn parse_files(&mut self, files: Vec<SourceFile>) -> usize {
        let count = files.len();
        let opts = &self.parse_options;
        let max = self.rules.max_file_bytes;
        let parsed: Vec<(SourceFile, Parsed)> = files
            .into_par_iter()
            .map(|file| {
                let parsed = match scan::read_source(&file, max) {
                    Ok(bytes) => article::parse::parse(&file.rel, &bytes, opts),
                    Err(e) => Parsed::Skipped(e.to_string()),
                };
                (file, parsed)
            })
            .collect();
        for (file, parsed) in parsed {
            self.stamps.insert(file.rel.clone(), Stamp::from(&file));
            self.body_cache.remove(&file.rel);
            let report = match parsed {
                Parsed::Article(mut article) => {
                    dates::resolve(&mut article, self.git.as_ref(), file.mtime);
                    let report = FileReport {
                        outcome: if article.draft { Outcome::Draft } else { Outcome::Article },
                        warnings: article.warnings.iter().map(|w| w.message.clone()).collect(),
                        date_sources: Some((
                            article.published.map_or("none", |d| d.source.as_str()),
                            article
                                .updated
                                .or(article.published)
                                .map_or("none", |d| d.source.as_str()),
                        )),
                    };
                    for w in &report.warnings {
                        tracing::warn!("{}: {w}", file.rel);
                    }
                    if article.draft {
                        self.index.remove(&file.rel);
                    } else {
                        self.index.insert(Arc::new(*article));
                    }
                    report
                }
                Parsed::IndexPage => {
                    self.index.remove(&file.rel);
                    FileReport { outcome: Outcome::IndexPage, warnings: vec![], date_sources: None }
                }
                Parsed::Skipped(reason) => {
                    tracing::warn!("{}: {reason}", file.rel);
                    self.index.remove(&file.rel);
                    FileReport {
                        outcome: Outcome::Skipped(reason),
                        warnings: vec![],
                        date_sources: None,
                    }
                }
            };
            self.reports.insert(file.rel, report);
        }
        count
    }

    /// Render the feeds whose items changed. Returns the names of the feed files written and
    /// removed, for the on-disk mirror.
    pub fn render_dirty(&mut self) -> RebuildReport {
        let mut dirty = self.index.take_dirty();
        let names: Vec<&str> = self.index.categories().map(|(n, _)| n).collect();
        let new_slugs = crate::slug::assign(names.iter().copied(), &self.cfg.feeds.slugs);
        // A category whose slug changed (or that is new) must be written under its new name.
        for (name, slug) in &new_slugs {
            if self.slugs.get(name) != Some(slug) {
                dirty.categories.insert(name.clone());
            }
        }
        let mut report = RebuildReport::default();
        // Files of categories that vanished or were renamed.
        for (name, old_slug) in &self.slugs {
            if new_slugs.get(name) != Some(old_slug) {
                for ext in ["rss", "atom"] {
                    let file = format!("{old_slug}.{ext}");
                    if self.feeds.remove(&file).is_some() {
                        report.removed_files.push(file);
                    }
                }
                if !new_slugs.contains_key(name) {
                    self.feed_states.remove(old_slug);
                }
            }
        }
        self.slugs = new_slugs;

        let mut jobs: Vec<(String, Option<String>)> = Vec::new();
        if dirty.all || self.feeds.is_empty() {
            jobs.push(("all".into(), None));
        }
        for name in dirty.categories {
            if let Some(slug) = self.slugs.get(&name) {
                jobs.push((slug.clone(), Some(name)));
            }
        }
        self.fill_body_cache(&jobs);
        let rendered: Vec<(String, FeedState, Encoded, Encoded)> = jobs
            .par_iter()
            .map(|(slug, category)| self.render_feed(slug, category.as_deref()))
            .collect();
        report.feeds_rendered = rendered.len();
        for (slug, state, rss, atom) in rendered {
            for (ext, doc) in [("rss", rss), ("atom", atom)] {
                let file = format!("{slug}.{ext}");
                let changed = self.feeds.get(&file).is_none_or(|old| **old != doc);
                if changed {
                    self.feeds.insert(file.clone(), Arc::new(doc));
                    report.changed_files.push(file);
                }
            }
            self.feed_states.insert(slug, state);
        }
        report.changed_files.sort();
        report.removed_files.sort();
        report
    }

    /// Render the bodies of every article the given feeds show that is not cached yet.
    fn fill_body_cache(&mut self, jobs: &[(String, Option<String>)]) {
        let mut wanted: BTreeMap<&str, &Arc<Article>> = BTreeMap::new();
        for (_, category) in jobs {
            for article in self.index.newest(category.as_deref()) {
                if !self.body_cache.contains_key(&article.path) {
                    wanted.insert(&article.path, article);
                }
            }
        }
        let rendered: Vec<(String, Arc<str>)> = wanted
            .into_par_iter()
            .map(|(path, article)| {
                let html = self.bodies.html(article).unwrap_or_else(|e| {
                    tracing::warn!("{e}; the feed shows the summary instead");
                    html_escape(&article.summary)
                });
                (path.to_string(), Arc::from(html))
            })
            .collect();
        self.body_cache.extend(rendered);
    }

    fn render_feed(
        &self,
        slug: &str,
        category: Option<&str>,
    ) -> (String, FeedState, Encoded, Encoded) {
        let articles = self.index.newest(category);
        let ids: Vec<String> = articles.iter().map(|a| self.links.id(a, &self.index)).collect();
        let links: Vec<String> =
            articles.iter().zip(&ids).map(|(a, id)| self.links.link(a, id)).collect();
        let empty: Arc<str> = Arc::from("");
        let items: Vec<FeedItem<'_>> = articles
            .iter()
            .zip(ids.iter().zip(&links))
            .map(|(article, (id, link))| FeedItem {
                article,
                id,
                link,
                content_html: self.body_cache.get(&article.path).unwrap_or(&empty),
            })
            .collect();
        let updated = articles.iter().filter_map(|a| a.updated.or(a.published).map(|d| d.at)).max();
        let meta = self.feed_meta(slug, category, updated);
        let rss = render::rss::render(&meta, &items);
        let atom = render::atom::render(&meta, &items);
        let last_modified = updated.unwrap_or_default();
        let state = FeedState {
            name: category.unwrap_or("All articles").to_string(),
            updated,
            latest: articles.iter().take(3).map(|a| a.title.clone()).collect(),
        };
        (
            slug.to_string(),
            state,
            Encoded::new(rss, RSS_TYPE, last_modified),
            Encoded::new(atom, ATOM_TYPE, last_modified),
        )
    }

    fn feed_meta(
        &self,
        slug: &str,
        category: Option<&str>,
        updated: Option<DateTime<Utc>>,
    ) -> FeedMeta {
        let site = &self.cfg.site;
        let feed_url = |ext: &str| format!("{}/feeds/{}.{ext}", site.base_url, encode_path(slug));
        let (title, id) = match category {
            None => (site.title.clone(), format!("tag:{}:feed/all", site.id_authority)),
            Some(name) => (
                format!("{}: {name}", site.title),
                format!(
                    "tag:{}:category/{}",
                    site.id_authority,
                    utf8_percent_encode(name, SEGMENT)
                ),
            ),
        };
        FeedMeta {
            slug: slug.to_string(),
            title,
            description: match category {
                None => site.description.clone(),
                Some(name) => format!("{} — {name}", site.description),
            },
            id,
            rss_url: feed_url("rss"),
            atom_url: feed_url("atom"),
            html_url: format!("{}/", site.base_url),
            language: site.language.clone(),
            default_author: site.author.clone(),
            generator: format!("Herald {}", env!("CARGO_PKG_VERSION")),
            updated,
        }
    }

    /// The feeds in display order: `all` first, then categories by name.
    pub fn listing(&self) -> Vec<FeedListing> {
        let mut out = Vec::new();
        let mut push = |slug: &str, count: usize| {
            if let Some(state) = self.feed_states.get(slug) {
                out.push(FeedListing {
                    slug: slug.to_string(),
                    name: state.name.clone(),
                    count,
                    updated: state.updated,
                    latest: state.latest.clone(),
                });
            }
        };
        push("all", self.index.len());
        for (name, count) in self.index.categories() {
            if let Some(slug) = self.slugs.get(name) {
                push(slug, count);
            }
        }
        out
    }

    /// The immutable snapshot the server answers from.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            feeds: self.feeds.clone(),
            listing: self.listing(),
            index_page: None,
            articles: self.index.articles().map(|a| (a.path.clone(), a.clone())).collect(),
        }
    }

    /// Every feed document by file name.
    pub fn feeds(&self) -> &HashMap<String, Arc<Encoded>> {
        &self.feeds
    }

    pub fn content_root(&self) -> &Path {
        &self.cfg.content.root
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
