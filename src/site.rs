//! Site: drives the pipeline. A cold build is a rescan of an empty site; a change set
//! re-parses only the files it names and re-renders only the feeds whose items changed.

use crate::article::{self, Article, Identity, ParseOptions, Parsed};
use crate::config::{Config, LinkPart, LINK_PLACEHOLDERS};
use crate::dates::{self, GitDates};
use crate::index::Index;
use crate::publish::{ArticleSource, FeedKind, FeedListing, Snapshot, Staging};
use crate::render::archive::ArchiveItem;
use crate::render::encode::Encoded;
use crate::render::{self, FeedItem, FeedMeta, HistoryLink};
use crate::scan::{self, Rules, SourceFile};
use crate::watch::ChangeSet;
use actix_web::web::Bytes;
use chrono::{DateTime, Utc};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

pub const RSS_TYPE: &str = "application/rss+xml; charset=utf-8";
pub const ATOM_TYPE: &str = "application/atom+xml; charset=utf-8";
pub const JSON_TYPE: &str = crate::render::json::CONTENT_TYPE;

/// The OPML list of every feed, beside the feeds.
pub const OPML_FILE: &str = "index.opml";
/// The formats of a live feed.
const LIVE_EXTS: [&str; 3] = ["rss", "atom", "json"];
/// The formats of an archive page.
const PAGE_EXTS: [&str; 2] = ["rss", "atom"];

/// File name (without extension) of archive page `n` of `slug`: `{slug}/archive/{n}`.
pub fn page_key(slug: &str, n: usize) -> String {
    format!("{slug}/archive/{n}")
}

/// How one list of articles (`all` or a category, `total` articles) is cut into archive pages
/// and a live feed (RFC 5005 §4, archived feeds).
///
/// Pages are numbered from the oldest article: page `n` holds the articles `(n-1)·P+1 … n·P`
/// in date order (`P` = `feeds.archive_page_size`). A page with `P` articles is *complete*:
/// adding newer articles never changes it, so only complete pages are archive documents
/// (`fh:archive`, served immutable). The incomplete page after them, the *open page*, is
/// served (when there is a complete page) so that the newest archive's `next-archive` link
/// leads somewhere; it changes with every addition and is not an archive.
///
/// The live feed holds the newest `feeds.items` articles (all of them while there are fewer;
/// the whole open page when `P` is the larger and the open page holds more) and links
/// `prev-archive` to page `linked`, the newest complete page with an article older than the
/// live feed's. Walking `prev-archive` from the live feed reaches every article; the newest
/// articles of page `linked` may also be in the live feed, which RFC 5005 §4.2 allows (a
/// reader keeps the copy of the newest document). Holding every article after a page instead
/// (up to `feeds.items + P - 1`) would render and send more bodies, and make a delete bring
/// back a page's worth of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub total: usize,
    pub page_size: usize,
    /// Pages `1..=complete` are complete archive pages.
    pub complete: usize,
    /// The page the live feed's `prev-archive` points to; 0 for none.
    pub linked: usize,
    /// Articles in the live feed, the newest ones (see [`Layout::live_len`]).
    live: usize,
}

impl Layout {
    pub fn new(total: usize, page_size: usize, feed_len: usize) -> Layout {
        let page_size = page_size.max(1);
        let complete = total / page_size;
        let open = total - complete * page_size;
        let live = feed_len.min(total).max(open);
        Layout { total, page_size, complete, linked: (total - live).div_ceil(page_size), live }
    }

    /// Number of articles in the live feed (the newest ones).
    pub fn live_len(&self) -> usize {
        self.live
    }

    /// Pages `1..=behind` hold only articles older than the live feed's.
    pub fn behind(&self) -> usize {
        (self.total - self.live) / self.page_size
    }

    /// Pages served: the complete ones and, once there is one, the open page after them.
    pub fn served_pages(&self) -> usize {
        if self.complete == 0 {
            0
        } else {
            self.complete + 1
        }
    }

    /// Where page `n` is in the newest-first list of articles.
    pub fn range(&self, n: usize) -> std::ops::Range<usize> {
        let end = self.total.saturating_sub((n - 1) * self.page_size);
        end.saturating_sub(self.page_size)..end
    }
}

/// The files of one rendered document, and the index page's view of it (live feeds only).
/// A rendered job: its documents, its live feed's state, and its live feed's items.
type Rendered = (Vec<(String, Encoded)>, Option<FeedState>, Vec<LiveItem>);

/// The identity bytes of live feeds' documents (see [`Site::packed_live_documents`]).
fn inflate(packed: Vec<(String, [Arc<Encoded>; 3])>) -> HashMap<String, [Bytes; 3]> {
    packed.into_par_iter().map(|(slug, docs)| (slug, docs.map(|d| d.identity_bytes()))).collect()
}

/// A document packed off the rebuild thread: the one served under `name` when it was
/// packed (`from`) and its packed form (`to`), for [`Site::adopt_packed`].
#[derive(Debug, PartialEq)]
pub struct Packed {
    pub name: String,
    pub from: Arc<Encoded>,
    pub to: Encoded,
}

/// Pack `docs` (from [`Site::whole_documents`]): gzip -9 of each, ~25 ms per MB here.
pub fn pack(docs: Vec<(String, Arc<Encoded>)>) -> Vec<Packed> {
    docs.into_iter().map(|(name, from)| Packed { name, to: from.to_packed(), from }).collect()
}

/// An item of a rendered live feed, as the item cache will know it.
struct LiveItem {
    item: CachedItem,
    /// Rendered now rather than taken from the cache.
    fresh: bool,
}

/// A live-feed item as its feed's served documents hold it, with what it was rendered from:
/// reused while the article (the same `Arc`: a reparse makes a new one), its id, link and
/// author are. It holds no bytes, only where the item stands in each of the feed's RSS, Atom
/// and JSON Feed documents: those are held compressed at rest ([`Site::adopt_packed`]), and
/// an edit that reuses items of a packed feed inflates its three documents once.
struct CachedItem {
    article: Arc<Article>,
    id: String,
    link: String,
    author: String,
    /// The RSS item uses `content:encoded` (see [`render::ItemFragments::content`]).
    content: bool,
    at: [std::ops::Range<usize>; 3],
}

impl CachedItem {
    fn fits(&self, article: &Arc<Article>, id: &str, link: &str, author: &str) -> bool {
        Arc::ptr_eq(&self.article, article)
            && self.id == id
            && self.link == link
            && self.author == author
    }

    /// The item's bytes in `docs`, its feed's documents (RSS, Atom, JSON) as served;
    /// `None` if they do not reach that far (they always do: the cache is replaced with the
    /// documents).
    fn cut(&self, docs: &[Bytes; 3]) -> Option<render::ItemFragments> {
        let piece = |i: usize| {
            let at = &self.at[i];
            (at.start <= at.end && at.end <= docs[i].len()).then(|| docs[i].slice(at.clone()))
        };
        Some(render::ItemFragments {
            rss: piece(0)?,
            atom: piece(1)?,
            json: piece(2)?,
            content: self.content,
        })
    }
}

/// Which feed a listing entry is of.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Listed {
    All,
    /// `cfg.feeds.custom[i]`.
    Custom(usize),
    /// The category of this name.
    Category(String),
}

/// What one planned document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DocKind {
    /// The live feed, linking `prev-archive` to page `linked` (0: none).
    Live { linked: usize },
    /// Archive page `n`; `complete` pages are archives, the open page is not.
    Page { n: usize, complete: bool },
}

/// One document to render: its items (newest first) and the fingerprint it will be stored
/// under.
struct Job {
    /// `{slug}` for the live feed, `{slug}/archive/{n}` for a page.
    key: String,
    slug: String,
    category: Option<String>,
    /// `Some(i)`: the custom feed `cfg.feeds.custom[i]` (then `category` is `None`).
    custom: Option<usize>,
    kind: DocKind,
    articles: Vec<Arc<Article>>,
    /// For a document without articles (the open page just after a page completed): the
    /// newest article older than it, whose date it carries instead of none (1970).
    dated_by: Option<Arc<Article>>,
    fingerprint: [u8; 32],
}

/// Characters kept as they are in a path segment and in a tag URI's specific part: RFC 3986
/// unreserved characters; everything else is percent-encoded.
pub(crate) const SEGMENT: &AsciiSet =
    &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// `std::hash::Hash` into blake3, so a fingerprint covers every field a type derives `Hash`
/// over (an article gaining a field cannot be forgotten in its fingerprint) with 32 bytes
/// of output, where a 64-bit `Hasher` would risk collisions over millions of renders.
///
/// The writes are gathered and hashed in one call, which gives the same hash as feeding
/// them one by one: an article's `Hash` makes dozens of small writes, and `blake3::Hasher`'s
/// cost per `update` made fingerprinting 100,000 articles 1.6 % of a cold build (perf).
struct Blake3(Vec<u8>);

impl Blake3 {
    fn digest(&self) -> [u8; 32] {
        *blake3::hash(&self.0).as_bytes()
    }
}

impl std::hash::Hasher for Blake3 {
    fn write(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }

    fn finish(&self) -> u64 {
        u64::from_le_bytes(self.digest()[..8].try_into().expect("32 bytes"))
    }
}

/// Percent-encode each `/`-separated segment of a path (Chinese names stay readable in
/// browsers, which decode them for display).
pub fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len() * 3);
    push_encoded_path(&mut out, path);
    out
}

/// [`encode_path`] appended to `out`.
fn push_encoded_path(out: &mut String, path: &str) {
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.extend(utf8_percent_encode(segment, SEGMENT));
    }
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

/// A parsed file with its dates resolved, ready for the index.
enum Resolved {
    Article(Arc<Article>, FileReport),
    IndexPage,
    Skipped(String),
}

impl FileReport {
    /// The report of a parsed article (dated).
    fn of(article: &Article) -> FileReport {
        FileReport {
            outcome: if article.draft { Outcome::Draft } else { Outcome::Article },
            warnings: article.warnings.iter().map(|w| w.message.clone()).collect(),
            date_sources: Some((
                article.published.map_or("none", |d| d.source.as_str()),
                article.updated.or(article.published).map_or("none", |d| d.source.as_str()),
            )),
        }
    }

    /// An article without warnings: what [`FileReport::of`] makes of it again when asked.
    fn is_plain_article(&self) -> bool {
        self.outcome == Outcome::Article && self.warnings.is_empty()
    }
}

/// Warnings and skipped files over all [`FileReport`]s, kept as reports come and go: the
/// metrics read them on every publish, and counting 24,203 reports then was 7% of an edit's
/// CPU on gnews-2021.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReportTotals {
    pub warnings: usize,
    pub skipped: usize,
}

impl ReportTotals {
    fn of(report: &FileReport) -> ReportTotals {
        ReportTotals {
            warnings: report.warnings.len(),
            skipped: usize::from(matches!(report.outcome, Outcome::Skipped(_))),
        }
    }

    fn add(&mut self, report: &FileReport) {
        let r = ReportTotals::of(report);
        self.warnings += r.warnings;
        self.skipped += r.skipped;
    }

    fn sub(&mut self, report: &FileReport) {
        let r = ReportTotals::of(report);
        self.warnings -= r.warnings;
        self.skipped -= r.skipped;
    }
}

/// When a file was last seen, to skip unchanged files on a rescan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    mtime: Option<SystemTime>,
    inode_ctime: Option<(u64, i64, i64)>,
}

impl From<&SourceFile> for Stamp {
    fn from(f: &SourceFile) -> Self {
        Stamp { len: f.len, mtime: f.mtime, inode_ctime: f.inode_ctime }
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
    template: Vec<LinkPart>,
    authority: String,
}

/// `template` cut at its placeholders, once: filling it with a chain of `str::replace`
/// built five strings per link and computed every value whether named or not, and links
/// are made for every item of every document (4.6 % of a gen-100k cold build's CPU, perf).
/// Anything in braces that is not a placeholder stays text (the configuration rejects it).
fn link_parts(template: &str) -> Vec<LinkPart> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut rest = template;
    while !rest.is_empty() {
        match LINK_PLACEHOLDERS.iter().find(|(name, _)| rest.starts_with(name)) {
            Some((name, part)) => {
                if !text.is_empty() {
                    parts.push(LinkPart::Text(std::mem::take(&mut text)));
                }
                parts.push(part.clone());
                rest = &rest[name.len()..];
            }
            None => {
                let c = rest.chars().next().expect("rest is not empty");
                text.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    if !text.is_empty() {
        parts.push(LinkPart::Text(text));
    }
    parts
}

impl Links {
    fn new(base_url: &str, template: &str, authority: &str) -> Links {
        Links {
            base_url: base_url.to_string(),
            template: link_parts(template),
            authority: authority.to_string(),
        }
    }

    fn link(&self, article: &Article, id: &str) -> String {
        let mut out = String::with_capacity(self.base_url.len() + 3 * article.path.len() + 16);
        for part in &self.template {
            match part {
                LinkPart::Text(text) => out.push_str(text),
                LinkPart::BaseUrl => out.push_str(&self.base_url),
                LinkPart::Path => push_encoded_path(&mut out, &article.path),
                LinkPart::PathNoExt => {
                    let path = article.path.strip_suffix(".md").unwrap_or(&article.path);
                    push_encoded_path(&mut out, path);
                }
                LinkPart::Slug => {
                    let stem = article.path.rsplit('/').next().unwrap_or("");
                    let slug = crate::slug::slugify(stem.trim_end_matches(".md"));
                    out.extend(utf8_percent_encode(&slug, SEGMENT));
                }
                LinkPart::Id => out.extend(utf8_percent_encode(id, SEGMENT)),
            }
        }
        out
    }

    /// The item id: front matter `id`, else a unique source link, else the path, as a tag URI
    /// (RFC 4151) so the same article has the same id on every machine and after every edit.
    fn id(&self, article: &Article, index: &Index) -> String {
        match &article.identity {
            Identity::FrontMatter(id) if looks_like_uri(id) => id.clone(),
            Identity::FrontMatter(id) => {
                format!("tag:{}:id/{}", self.authority, utf8_percent_encode(id, SEGMENT))
            }
            // The first 32 hex digits of the link's blake3 hash.
            Identity::Source(source) if let Some(key) = index.unique_source_key(source) => {
                format!("tag:{}:source/{key:032x}", self.authority)
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
    latest: Vec<Arc<Article>>,
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
    /// Live-feed items rendered (the others came from the item cache).
    pub items_rendered: usize,
}

pub struct Site {
    cfg: Arc<Config>,
    rules: Rules,
    parse_options: ParseOptions,
    links: Links,
    bodies: Bodies,
    git: Option<GitDates>,
    index: Index,
    /// Every file seen, by path: how it looked when last parsed (a rescan skips it while it
    /// still looks so), and the generation of that parse (a body edit changes the pages that
    /// show it). One map, not two: at 100,000 files a map keyed by path is ~9 MB.
    stamps: HashMap<String, (Stamp, u64)>,
    /// The reports of files with something to say: warnings, drafts, index pages, skipped
    /// files. An article without warnings has its report made from the index when asked
    /// (`herald check`): kept for all of them, they were ~20 MB at 100,000 articles.
    reports: BTreeMap<String, FileReport>,
    /// Over every file's report, the kept ones and the made ones (which count nothing).
    report_totals: ReportTotals,
    /// The items of each live feed (by slug, then article path) as its documents hold them:
    /// an edit re-renders only the items it changed and assembles the live feeds from the
    /// others (a txt-head transcript feed is ~7 MB a format; rendering it whole was most of
    /// an edit). Replaced whole each time the feed is rendered, so items it no longer shows
    /// leave with it. They replace a cache of body HTML: a cached item needs no body.
    item_cache: rustc_hash::FxHashMap<String, rustc_hash::FxHashMap<String, CachedItem>>,
    /// Category name → slug, shared with the stable-URL tracker: replaced only when the
    /// slugs change, so the tracker knows an unchanged map by its pointer.
    slugs: Arc<HashMap<String, String>>,
    /// The index's `category_generation` the slugs were assigned for: assigning them means
    /// slugifying every category name, needed only when a name came or went.
    slugs_for: Option<u64>,
    /// The feeds as the index page, the OPML list and the 404 page list them: rebuilt whole
    /// when the set of feeds changes, else only the entries of the feeds a rebuild touched
    /// (with 300 categories, building it whole twice per edit was a tenth of the rebuild
    /// thread's time at 100,000 articles, perf).
    listing: Vec<Arc<FeedListing>>,
    /// Position of each feed (by slug) in `listing`.
    listing_at: HashMap<String, usize>,
    /// Bumped whenever `listing` is rebuilt whole (feeds came, went or were renamed).
    listing_version: u64,
    /// The OPML outlines rendered for `listing_version`, and the newest date the document
    /// was last dated by: the document changes only with one of them.
    opml_outlines: Option<(u64, String)>,
    opml_dated: Option<Option<DateTime<Utc>>>,
    feeds: imbl::HashMap<String, Arc<Encoded>>,
    /// The documents of `feeds` held whole (identity bytes) rather than packed: `serve`
    /// packs them off the rebuild thread once their feeds are quiet ([`Site::adopt_packed`]).
    /// At 100,000 articles the live feeds alone held 363 MiB whole, ~110 packed.
    whole: BTreeSet<String>,
    /// A document was put whole since [`Site::take_new_whole`] last looked.
    new_whole: bool,
    feed_states: BTreeMap<String, FeedState>,
    /// Fingerprint of the items of each rendered document (`{slug}`, `{slug}/archive/{n}`):
    /// a document is rendered again only when it changes.
    doc_prints: HashMap<String, [u8; 32]>,
    /// Number of archive pages served per feed slug.
    served_pages: HashMap<String, usize>,
    /// Per-article fingerprints, see `article_print`.
    /// FxHash rather than SipHash: `plan` looks up every article of a feed on every rebuild,
    /// and hashing the paths was a quarter of an edit's CPU on the 24,203-article archive.
    article_prints: rustc_hash::FxHashMap<String, (Arc<Article>, bool, [u8; 32])>,
    /// Bumped each time a file is parsed (see `stamps`).
    generation: u64,
    /// The slugs served before and what they answer now (stable feed URLs).
    stable: crate::redirects::Tracker,
    /// Every article matching each custom feed (`cfg.feeds.custom[i]`), newest first.
    custom_lists: Vec<Arc<[Arc<Article>]>>,
    /// The `config_warnings` already logged.
    config_warned: BTreeSet<String>,
    /// `herald build`'s files on their way to the mirror (`Site::build_staged`): each document
    /// goes there as soon as it is rendered and is not held. Without it (a server), complete
    /// archive pages older than the live feed are held packed (`Encoded::packed`): less
    /// memory, for a gzip -9 of every such page that a build, which writes the files and
    /// exits, does not need.
    staging: Option<Arc<Staging>>,
    /// The documents handed to `staging`, by file name.
    staged: BTreeSet<String>,
}

impl Site {
    /// An empty site for `cfg`; call `rescan` (or use `build`) to fill it.
    pub fn new(cfg: Arc<Config>) -> anyhow::Result<Site> {
        let rules = Rules::new(&cfg.content)?;
        let links =
            Links::new(&cfg.site.base_url, &cfg.feeds.link_template, &cfg.site.id_authority);
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
            report_totals: ReportTotals::default(),
            item_cache: Default::default(),
            slugs: Arc::default(),
            slugs_for: None,
            listing: Vec::new(),
            listing_at: HashMap::new(),
            listing_version: 0,
            opml_outlines: None,
            opml_dated: None,
            feeds: imbl::HashMap::new(),
            whole: BTreeSet::new(),
            new_whole: false,
            feed_states: BTreeMap::new(),
            doc_prints: HashMap::new(),
            served_pages: HashMap::new(),
            article_prints: rustc_hash::FxHashMap::default(),
            generation: 0,
            stable: crate::redirects::Tracker::new(&cfg.feeds.out)
                .with_others(cfg.feeds.custom.iter().map(|c| c.slug.clone())),
            custom_lists: vec![Arc::from([]); cfg.feeds.custom.len()],
            config_warned: BTreeSet::new(),
            staging: None,
            staged: BTreeSet::new(),
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

    /// [`Site::build`] for writing the files once (`herald build`): every document is handed
    /// to `staging` as soon as it is rendered, in the same bytes a server holds, and is not
    /// held (see [`Staging`]); `staging.commit()` then puts the files in place. Archive pages
    /// are never packed (on gnews-2021 packing was 1.0–1.5 s of CPU).
    pub fn build_staged(cfg: Arc<Config>, staging: Arc<Staging>) -> anyhow::Result<Site> {
        let mut site = Site::new(cfg)?;
        site.staging = Some(staging);
        site.rescan();
        site.render_dirty();
        Ok(site)
    }

    /// Whether the document `file` is served (held, or handed to the staging).
    pub fn serves(&self, file: &str) -> bool {
        self.feeds.contains_key(file) || self.staged.contains(file)
    }

    /// How many documents are served (held, or handed to the staging).
    pub fn served_count(&self) -> usize {
        self.feeds.len() + self.staged.len()
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

    /// Per-file reports, by path: the ones kept (see the `reports` field), and for every
    /// other article one made from the index.
    pub fn reports(&self) -> BTreeMap<String, FileReport> {
        let mut all = self.reports.clone();
        for article in self.index.articles() {
            all.entry(article.path.clone()).or_insert_with(|| FileReport::of(article));
        }
        all
    }

    /// Warnings and skipped files over [`Site::reports`].
    pub fn report_totals(&self) -> ReportTotals {
        self.report_totals
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
        let state = self.git_state_file();
        if let Some(git) = &mut self.git {
            git.learn_appeared(&self.cfg.content.root, Some(&state), stale.iter().map(|a| &**a));
        }
        for old in stale {
            let mut article = (*old).clone();
            for date in [&mut article.published, &mut article.updated] {
                if date.is_some_and(|d| d.source >= article::DateSource::Git) {
                    *date = None;
                }
            }
            let mtime = self.stamps.get(&article.path).and_then(|s| s.0.mtime);
            dates::resolve(&mut article, self.git.as_ref(), mtime);
            if article != *old {
                self.index.insert(Arc::new(article));
            }
        }
        true
    }

    /// Walk the whole root again: parse new and changed files, drop vanished ones.
    pub fn rescan(&mut self) -> RebuildReport {
        // Known history: read only what HEAD moved by, and re-date the articles that are not
        // re-parsed below (their files did not change, their git dates may have).
        if self.git.is_some() {
            self.refresh_git();
        } else {
            self.load_git();
        }
        let started = std::time::Instant::now();
        // With nothing stamped yet every file is read, and reading stamps it.
        let stat = match self.stamps.is_empty() {
            true => scan::Stat::AtRead,
            false => scan::Stat::Now,
        };
        let (files, problems) = scan::scan(&self.rules, stat);
        tracing::debug!(files = files.len(), took = ?started.elapsed(), "scanned the content root");
        for p in problems {
            tracing::warn!("{}: {}", p.path, p.message);
        }
        let present: BTreeSet<&str> = files.iter().map(|f| f.rel.as_str()).collect();
        let gone: Vec<String> =
            self.stamps.keys().filter(|p| !present.contains(p.as_str())).cloned().collect();
        let changed: Vec<SourceFile> = files
            .into_iter()
            .filter(|f| self.stamps.get(&f.rel).map(|s| s.0) != Some(Stamp::from(f)))
            .collect();
        let mut report = RebuildReport { removed: gone.len(), ..RebuildReport::default() };
        for path in gone {
            self.forget(&path);
        }
        let started = std::time::Instant::now();
        report.parsed = self.parse_files(changed);
        tracing::debug!(files = report.parsed, took = ?started.elapsed(), "parsed");
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
                    let (found, _) = scan::scan_under(&self.rules, abs, scan::Stat::Now);
                    let found_set: BTreeSet<&str> = found.iter().map(|f| f.rel.as_str()).collect();
                    let prefix = format!("{rel}/");
                    to_forget.extend(
                        self.stamps
                            .keys()
                            .filter(|p| p.starts_with(&prefix) && !found_set.contains(p.as_str()))
                            .cloned(),
                    );
                    for f in found {
                        if self.stamps.get(&f.rel).map(|s| s.0) != Some(Stamp::from(&f)) {
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
        if let Some(old) = self.reports.remove(path) {
            self.report_totals.sub(&old);
        }
        self.article_prints.remove(path);
        self.index.remove(path);
    }

    /// Read and parse files in parallel, then update the index.
    fn parse_files(&mut self, files: Vec<SourceFile>) -> usize {
        let count = files.len();
        let opts = &self.parse_options;
        let max = self.rules.max_file_bytes;
        let parsed: Vec<(SourceFile, Parsed)> = files
            .into_par_iter()
            .map(|mut file| {
                let parsed = match scan::read_source(&mut file, max) {
                    Ok(bytes) => article::parse::parse(&file.rel, &bytes, opts),
                    Err(e) => Parsed::Skipped(e.to_string()),
                };
                (file, parsed)
            })
            .collect();
        // When an article in a rotating slot appeared: one git process for the batch.
        let state = self.git_state_file();
        if let Some(git) = &mut self.git {
            let articles = parsed.iter().filter_map(|(_, p)| match p {
                Parsed::Article(a) => Some(&**a),
                _ => None,
            });
            git.learn_appeared(&self.cfg.content.root, Some(&state), articles);
        }
        // Dates and reports need only the article and what git learned above: work them
        // out on every core, leaving the index and the maps to the loop below (which did
        // it all on one core: 56-83 ms of a 457-657 ms parse of 24,203 files).
        let git = self.git.as_ref();
        let resolved: Vec<(SourceFile, Resolved)> = parsed
            .into_par_iter()
            .map(|(file, parsed)| {
                let resolved = match parsed {
                    Parsed::Article(mut article) => {
                        dates::resolve(&mut article, git, file.mtime);
                        let report = FileReport::of(&article);
                        Resolved::Article(Arc::new(*article), report)
                    }
                    Parsed::IndexPage => Resolved::IndexPage,
                    Parsed::Skipped(reason) => Resolved::Skipped(reason),
                };
                (file, resolved)
            })
            .collect();
        // Inserted together after the loop: into an empty index, in one go (`insert_many`).
        let mut articles = Vec::with_capacity(resolved.len());
        // Grown once: rehashing as 100,000 paths went in was ~30 ms of this loop, which runs
        // on one core (perf, gen-100k).
        self.stamps.reserve(resolved.len());
        for (file, resolved) in resolved {
            self.generation += 1;
            self.stamps.insert(file.rel.clone(), (Stamp::from(&file), self.generation));
            let report = match resolved {
                Resolved::Article(article, report) => {
                    for w in &report.warnings {
                        tracing::warn!("{}: {w}", file.rel);
                    }
                    if article.draft {
                        self.index.remove(&file.rel);
                    } else {
                        articles.push(article);
                    }
                    report
                }
                Resolved::IndexPage => {
                    self.index.remove(&file.rel);
                    FileReport { outcome: Outcome::IndexPage, warnings: vec![], date_sources: None }
                }
                Resolved::Skipped(reason) => {
                    tracing::warn!("{}: {reason}", file.rel);
                    self.index.remove(&file.rel);
                    FileReport {
                        outcome: Outcome::Skipped(reason),
                        warnings: vec![],
                        date_sources: None,
                    }
                }
            };
            self.report_totals.add(&report);
            let old = match report.is_plain_article() {
                true => self.reports.remove(&file.rel),
                false => self.reports.insert(file.rel, report),
            };
            if let Some(old) = old {
                self.report_totals.sub(&old);
            }
        }
        self.index.insert_many(articles);
        count
    }

    /// Render every document whose content changed: the live feeds (RSS, Atom, JSON Feed),
    /// the archive pages and the OPML list. Only the lists (`all`, categories) that changed
    /// anywhere are looked at, and of those only the documents whose items changed (a
    /// fingerprint per document) are rendered. Returns the names of the files written and
    /// removed, for the on-disk mirror.
    pub fn render_dirty(&mut self) -> RebuildReport {
        let started = std::time::Instant::now();
        let touched = self.index.take_touched();
        let touched_articles = self.index.take_touched_articles();
        let mut lists: BTreeSet<Option<String>> =
            touched.categories.into_iter().map(Some).collect();
        if touched.all || !self.feed_states.contains_key("all") {
            lists.insert(None);
        }
        let mut report = RebuildReport::default();
        let relist_all = self.assign_slugs(&mut lists, &mut report);
        let planned: Vec<(String, Option<String>)> = lists
            .into_iter()
            .filter_map(|category| {
                let slug = match &category {
                    None => "all".to_string(),
                    // None: the category has no articles left.
                    Some(name) => self.slugs.get(name)?.clone(),
                };
                Some((slug, category))
            })
            .collect();
        // The live feeds rendered again take most of their items from their documents as
        // served; those held packed are inflated on the other core while this one tracks
        // URLs and plans (about as long, ~2.5 ms, at 100,000 articles).
        let packed = self.packed_live_documents(&planned);
        let mut jobs: Vec<Job> = Vec::new();
        let (customs, inflated) = rayon::join(
            || {
                let redirects = &self.cfg.feeds.redirects;
                self.stable.update(&self.slugs, &touched_articles, &self.index, redirects);
                for (slug, category) in &planned {
                    self.plan(slug, category.clone(), &mut jobs, &mut report);
                }
                self.plan_custom(&touched_articles, &mut jobs)
            },
            || inflate(packed),
        );
        self.warn_missing_categories();
        tracing::debug!(documents = jobs.len(), took = ?started.elapsed(), "planned");
        let started = std::time::Instant::now();
        let bodies = self.bodies_for(&jobs);
        tracing::debug!(bodies = bodies.len(), took = ?started.elapsed(), "rendered bodies");
        let started = std::time::Instant::now();
        let rendered: Vec<(Rendered, Vec<String>)> = jobs
            .par_iter()
            .map(|job| {
                let mut rendered = self.render_job(job, &bodies, &inflated);
                let staged = self.stage(&mut rendered.0);
                (rendered, staged)
            })
            .collect();
        tracing::debug!(took = ?started.elapsed(), "rendered documents");
        report.feeds_rendered = rendered.len();
        for (job, ((docs, state, items), staged)) in jobs.iter().zip(rendered) {
            for (file, doc) in docs {
                self.put(file, doc, &mut report);
            }
            for file in staged {
                self.note_staged(file, &mut report);
            }
            if matches!(job.kind, DocKind::Live { .. }) {
                report.items_rendered += items.iter().filter(|i| i.fresh).count();
                self.cache_items(&job.slug, items);
            }
            if let Some(state) = state {
                self.feed_states.insert(job.slug.clone(), state);
            }
            self.doc_prints.insert(job.key.clone(), job.fingerprint);
        }
        for (slug, category) in &planned {
            self.pack_behind(slug, category.as_deref());
        }
        self.relist(relist_all, planned, customs);
        self.publish_opml(&mut report);
        report.changed_files.sort();
        report.removed_files.sort();
        report
    }

    /// Remember the items of the live feed `slug` as its documents now hold them (the ones
    /// just rendered, or the equal ones that stay served: the same bytes either way).
    fn cache_items(&mut self, slug: &str, items: Vec<LiveItem>) {
        let items = items.into_iter().map(|i| (i.item.article.path.clone(), i.item)).collect();
        self.item_cache.insert(slug.to_string(), items);
    }

    /// The layout of the list `category` (`None`: all articles) as the index has it now.
    fn layout(&self, category: Option<&str>) -> Layout {
        Layout::new(
            self.index.count(category),
            self.cfg.feeds.archive_page_size,
            self.cfg.feeds.items,
        )
    }

    /// Hold packed the complete pages of `slug` that the live feed no longer covers but were
    /// rendered whole while it did (see `render_job`): from page `linked` down to the first
    /// page already packed. Their bytes and tags stay the same, so nothing is reported.
    fn pack_behind(&mut self, slug: &str, category: Option<&str>) {
        if self.staging.is_some() {
            return;
        }
        for n in (1..=self.layout(category).behind()).rev() {
            let mut whole = false;
            for ext in PAGE_EXTS {
                let file = format!("{}.{ext}", page_key(slug, n));
                if let Some(doc) = self.feeds.get(&file).filter(|d| !d.is_packed()) {
                    let doc = Arc::new(doc.to_packed());
                    self.whole.remove(&file);
                    self.feeds.insert(file, doc);
                    whole = true;
                }
            }
            if !whole {
                break;
            }
        }
    }

    /// With a staging (`herald build`), hand `docs` to it on the thread that rendered them,
    /// and drop their bytes (see [`Staging`] for what holding them cost). Returns their names.
    fn stage(&self, docs: &mut Vec<(String, Encoded)>) -> Vec<String> {
        let Some(staging) = &self.staging else { return Vec::new() };
        docs.drain(..)
            .map(|(file, doc)| {
                staging.stage_doc(&file, &doc);
                file
            })
            .collect()
    }

    /// Store a rendered document, noting it in the report when its bytes are new.
    fn put(&mut self, file: String, doc: Encoded, report: &mut RebuildReport) {
        if let Some(staging) = &self.staging {
            staging.stage_doc(&file, &doc);
            self.note_staged(file, report);
            return;
        }
        if self.feeds.get(&file).is_none_or(|old| **old != doc) {
            if doc.is_packed() {
                self.whole.remove(&file);
            } else {
                self.whole.insert(file.clone());
                self.new_whole = true;
            }
            self.feeds.insert(file.clone(), Arc::new(doc));
            report.changed_files.push(file);
        }
    }

    /// Remember that `file` went to the staging, which now holds it in this site's place.
    fn note_staged(&mut self, file: String, report: &mut RebuildReport) {
        self.staged.insert(file.clone());
        report.changed_files.push(file);
    }

    fn remove_file(&mut self, file: String, report: &mut RebuildReport) {
        self.whole.remove(&file);
        self.staged.remove(&file);
        if self.feeds.remove(&file).is_some() {
            report.removed_files.push(file);
        }
    }

    /// Forget every document of the feed `slug` (its category vanished or changed slug).
    fn drop_feed(&mut self, slug: &str, report: &mut RebuildReport) {
        for ext in LIVE_EXTS {
            self.remove_file(format!("{slug}.{ext}"), report);
        }
        self.doc_prints.remove(slug);
        let pages = self.served_pages.remove(slug).unwrap_or(0);
        self.drop_pages(slug, 1..=pages, report);
        self.feed_states.remove(slug);
        self.item_cache.remove(slug);
    }

    fn drop_pages(
        &mut self,
        slug: &str,
        pages: std::ops::RangeInclusive<usize>,
        report: &mut RebuildReport,
    ) {
        for n in pages {
            let key = page_key(slug, n);
            for ext in PAGE_EXTS {
                self.remove_file(format!("{key}.{ext}"), report);
            }
            self.doc_prints.remove(&key);
        }
    }

    /// Fingerprints of everything about each article of `list` that its feed entries show.
    /// Cached per article value (an `Arc` is replaced whenever the article is parsed or
    /// re-dated) and per source uniqueness (which decides the id); the missing ones are
    /// computed in parallel. Formatting each article with `{:?}` to hash it, one after the
    /// other, was 0.7 s of the 4.8 s cold build of the 24,203-article archive.
    fn article_prints(&mut self, list: &[Arc<Article>]) -> Vec<[u8; 32]> {
        let fresh: Vec<Option<(bool, [u8; 32])>> = list
            .par_iter()
            .map(|article| {
                let unique =
                    article.source.as_deref().is_some_and(|s| self.index.source_is_unique(s));
                match self.article_prints.get(&article.path) {
                    Some((cached, u, _)) if Arc::ptr_eq(cached, article) && *u == unique => None,
                    _ => Some((unique, self.article_print(article))),
                }
            })
            .collect();
        // Grown once (a first build puts 100,000 articles in; see `parse_files`).
        self.article_prints.reserve(fresh.iter().flatten().count());
        list.iter()
            .zip(fresh)
            .map(|(article, fresh)| match fresh {
                Some((unique, print)) => {
                    let entry = (article.clone(), unique, print);
                    self.article_prints.insert(article.path.clone(), entry);
                    print
                }
                None => self.article_prints[&article.path].2,
            })
            .collect()
    }

    /// The fingerprint of one article: its fields, id, link and parse generation.
    fn article_print(&self, article: &Article) -> [u8; 32] {
        use std::hash::Hash;
        let id = self.links.id(article, &self.index);
        let link = self.links.link(article, &id);
        let generation = self.stamps.get(&article.path).map_or(0, |s| s.1);
        let mut hasher = Blake3(Vec::with_capacity(1024));
        (article, id, link, generation).hash(&mut hasher);
        hasher.digest()
    }

    /// The documents of one list (`all` or a category) whose items changed since they were
    /// last rendered: its live feed and its archive pages. Pages that no longer exist (articles
    /// were deleted) are removed.
    ///
    /// Only the newer part of the list is looked at: pages are numbered from the oldest, so
    /// the pages wholly older than the oldest change the index saw (`Index::reach`) hold the
    /// same articles as before, unchanged; fingerprinting every article on every edit was
    /// most of an edit's CPU on the 24,203-article archive.
    fn plan(
        &mut self,
        slug: &str,
        category: Option<String>,
        jobs: &mut Vec<Job>,
        report: &mut RebuildReport,
    ) {
        let layout = self.layout(category.as_deref());
        let stable = self.stable_pages(slug, category.as_deref(), &layout);
        let newer = (layout.total - stable * layout.page_size).max(layout.live_len());
        let list: Vec<Arc<Article>> =
            self.index.newest_n(category.as_deref(), newer).into_iter().cloned().collect();
        let prints = self.article_prints(&list);
        let mut wanted =
            vec![(slug.to_string(), DocKind::Live { linked: layout.linked }, 0..layout.live_len())];
        for n in stable + 1..=layout.served_pages() {
            let complete = n <= layout.complete;
            wanted.push((page_key(slug, n), DocKind::Page { n, complete }, layout.range(n)));
        }
        for (key, kind, range) in wanted {
            let mut hasher = blake3::Hasher::new();
            hasher.update(format!("{category:?}\0{kind:?}\0").as_bytes());
            for print in &prints[range.clone()] {
                hasher.update(print);
            }
            let dated_by = if range.is_empty() { list.get(range.end).cloned() } else { None };
            if dated_by.is_some() {
                hasher.update(b"dated by\0");
                hasher.update(&prints[range.end]);
            }
            let fingerprint = *hasher.finalize().as_bytes();
            if self.doc_prints.get(&key) == Some(&fingerprint) {
                continue;
            }
            jobs.push(Job {
                key,
                slug: slug.to_string(),
                category: category.clone(),
                custom: None,
                kind,
                articles: list[range].to_vec(),
                dated_by,
                fingerprint,
            });
        }
        let before = self.served_pages.insert(slug.to_string(), layout.served_pages()).unwrap_or(0);
        self.drop_pages(slug, layout.served_pages() + 1..=before, report);
    }

    /// The custom feeds a change reaches: all of them on the first build, later those that
    /// match an article the change touched, in its old or its new version. Each is one live
    /// document (no archive pages: it is a capped view), rendered again only when the
    /// fingerprint of its items changed, as for the other feeds.
    ///
    /// Returns the custom feeds (indices into `cfg.feeds.custom`) it looked at again.
    fn plan_custom(&mut self, touched: &[Arc<Article>], jobs: &mut Vec<Job>) -> Vec<usize> {
        let cfg = self.cfg.clone();
        let mut reached = Vec::new();
        for (i, feed) in cfg.feeds.custom.iter().enumerate() {
            let rendered = self.doc_prints.contains_key(&feed.slug);
            if rendered && !touched.iter().any(|a| feed.matches(a)) {
                continue;
            }
            reached.push(i);
            let matching: Arc<[Arc<Article>]> = feed.select(self.index.everything(None)).into();
            let articles = feed.capped(&matching).to_vec();
            let mut hasher = blake3::Hasher::new();
            hasher.update(format!("custom {}\0", feed.slug).as_bytes());
            for print in self.article_prints(&articles) {
                hasher.update(&print);
            }
            let fingerprint = *hasher.finalize().as_bytes();
            self.custom_lists[i] = matching;
            if self.doc_prints.get(&feed.slug) == Some(&fingerprint) {
                continue;
            }
            jobs.push(Job {
                key: feed.slug.clone(),
                slug: feed.slug.clone(),
                category: None,
                custom: Some(i),
                kind: DocKind::Live { linked: 0 },
                articles,
                dated_by: None,
                fingerprint,
            });
        }
        reached
    }

    /// Problems of the configuration that only the content reveals: categories a custom
    /// feed names that no article has. Warnings, not errors: the category may appear with
    /// the next article, but it is usually a typo. Shown by `herald check` and logged.
    pub fn config_warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, feed) in self.cfg.feeds.custom.iter().enumerate() {
            for (key, name) in feed.unknown_categories(|name| self.index.has_category(name)) {
                out.push(format!(
                    "feeds.custom[{i}].{key}: no article is in category {name:?} (yet); \
                     names must match exactly, as the index page shows them"
                ));
            }
        }
        out
    }

    /// Log each of `config_warnings` once, when it first appears.
    fn warn_missing_categories(&mut self) {
        let now: BTreeSet<String> = self.config_warnings().into_iter().collect();
        for warning in now.difference(&self.config_warned) {
            tracing::warn!("{warning}");
        }
        self.config_warned = now;
    }

    /// How many of the oldest archive pages of a list cannot have changed since it was last
    /// planned: those wholly older than the oldest change (their articles kept their ranks
    /// and were not touched). None when the feed was never planned under this slug.
    fn stable_pages(&self, slug: &str, category: Option<&str>, layout: &Layout) -> usize {
        if !self.served_pages.contains_key(slug) {
            return 0;
        }
        let older = match self.index.reach(category) {
            None => layout.total,
            Some(k) => layout.total - self.index.count_down_to(category, k),
        };
        (older / layout.page_size).min(layout.complete)
    }

    /// The HTML bodies the live feeds need for the items they cannot take from the item
    /// cache, rendered in parallel, each once however many feeds show it. Archive pages carry
    /// summaries and links, not bodies: with bodies, the pages of the 24,203-article archive
    /// took 920 MB and most of a 6 s cold build, to repeat text every reader already got from
    /// the live feed when it was new.
    fn bodies_for(&self, jobs: &[Job]) -> HashMap<String, Arc<str>> {
        let mut wanted: BTreeMap<&str, &Arc<Article>> = BTreeMap::new();
        for job in jobs.iter().filter(|job| matches!(job.kind, DocKind::Live { .. })) {
            let cache = self.item_cache.get(&job.slug);
            for article in &job.articles {
                let cached = cache.and_then(|c| c.get(&article.path));
                if !cached.is_some_and(|c| Arc::ptr_eq(&c.article, article)) {
                    wanted.insert(&article.path, article);
                }
            }
        }
        wanted
            .into_par_iter()
            .map(|(path, article)| (path.to_string(), self.body_html(article)))
            .collect()
    }

    /// An article's body HTML; the summary (escaped) when the file cannot be read any more.
    fn body_html(&self, article: &Article) -> Arc<str> {
        let html = self.bodies.html(article).unwrap_or_else(|e| {
            tracing::warn!("{e}; the feed shows the summary instead");
            render::html_escape(&article.summary)
        });
        Arc::from(html)
    }

    /// Render one planned document in each of its formats.
    fn render_job(
        &self,
        job: &Job,
        bodies: &HashMap<String, Arc<str>>,
        inflated: &HashMap<String, [Bytes; 3]>,
    ) -> Rendered {
        let ids: Vec<String> = job.articles.iter().map(|a| self.links.id(a, &self.index)).collect();
        let links: Vec<String> =
            job.articles.iter().zip(&ids).map(|(a, id)| self.links.link(a, id)).collect();
        let updated = job
            .articles
            .iter()
            .chain(&job.dated_by)
            .filter_map(|a| a.updated.or(a.published).map(|d| d.at))
            .max();
        let last_modified = updated.unwrap_or_default();
        let mut meta = self.feed_meta(&job.slug, job.category.as_deref(), updated);
        let custom = job.custom.and_then(|i| self.cfg.feeds.custom.get(i));
        if let Some(feed) = custom {
            self.custom_meta(&mut meta, feed);
        }
        match job.kind {
            DocKind::Live { linked } => {
                if linked > 0 {
                    meta.history.push(self.page_link("prev-archive", &job.slug, linked));
                }
                let name = match (custom, job.category.as_deref()) {
                    (Some(feed), _) => feed.name(),
                    (None, Some(category)) => category,
                    (None, None) => "All articles",
                };
                let state = FeedState {
                    name: name.to_string(),
                    updated,
                    latest: job.articles.iter().take(3).map(Arc::clone).collect(),
                };
                let items: Vec<FeedItem<'_>> = job
                    .articles
                    .iter()
                    .zip(ids.iter().zip(&links))
                    .map(|(article, (id, link))| FeedItem {
                        article,
                        id,
                        link,
                        content_html: bodies.get(&article.path).map_or("", |b| b),
                    })
                    .collect();
                let served = inflated.get(&job.slug);
                let (fragments, fresh) =
                    self.live_items(&meta, &job.slug, served, &job.articles, &items, bodies);
                let [(rss, rss_at), (atom, atom_at), (json, json_at)] =
                    render::assemble_live(&meta, &fragments);
                let live_items = job
                    .articles
                    .iter()
                    .zip(&items)
                    .zip(fragments.iter().zip(fresh))
                    .zip(rss_at.into_iter().zip(atom_at).zip(json_at))
                    .map(|(((article, it), (f, fresh)), ((r, a), j))| LiveItem {
                        item: CachedItem {
                            article: Arc::clone(article),
                            id: it.id.to_string(),
                            link: it.link.to_string(),
                            author: render::author(&meta, article).to_string(),
                            content: f.content,
                            at: [r, a, j],
                        },
                        fresh,
                    })
                    .collect();
                let hubs = &meta.hubs;
                let docs = vec![
                    (
                        format!("{}.rss", job.slug),
                        Encoded::new(rss, RSS_TYPE, last_modified)
                            .with_link(crate::websub::link_header(hubs, &meta.rss_url)),
                    ),
                    (
                        format!("{}.atom", job.slug),
                        Encoded::new(atom, ATOM_TYPE, last_modified)
                            .with_link(crate::websub::link_header(hubs, &meta.atom_url)),
                    ),
                    (
                        format!("{}.json", job.slug),
                        Encoded::new(json, JSON_TYPE, last_modified)
                            .with_link(crate::websub::link_header(hubs, &meta.json_url)),
                    ),
                ];
                (docs, Some(state), live_items)
            }
            DocKind::Page { n, complete } => {
                let this = self.page_link("self", &job.slug, n);
                // Archive pages are not WebSub topics: complete ones never change, and the
                // open page is only reached by walking the history from the live feed.
                meta.hubs.clear();
                meta.rss_url = this.rss;
                meta.atom_url = this.atom;
                meta.archive = complete;
                meta.history.push(HistoryLink {
                    rel: "current",
                    rss: self.feed_url(&job.slug, "rss"),
                    atom: self.feed_url(&job.slug, "atom"),
                });
                if n > 1 {
                    meta.history.push(self.page_link("prev-archive", &job.slug, n - 1));
                }
                if complete {
                    // Always there, so the page never changes: the page after it is served
                    // from the moment this one is complete (at first as the open page).
                    meta.history.push(self.page_link("next-archive", &job.slug, n + 1));
                }
                // Summaries and links only, whatever bodies this batch rendered for live
                // feeds: a page's bytes must not depend on what else was rendered with it.
                let sources: Vec<Option<String>> =
                    job.articles.iter().map(|a| render::source_url(a)).collect();
                let items: Vec<ArchiveItem<'_>> = job
                    .articles
                    .iter()
                    .zip(ids.iter().zip(&links))
                    .zip(&sources)
                    .map(|((article, (id, link)), source)| ArchiveItem {
                        article,
                        id,
                        link,
                        source: source.as_deref(),
                    })
                    .collect();
                let (rss, atom) = render::archive::page(&meta, &items);
                // Complete pages older than the live feed are held compressed
                // (`Encoded::packed`). The pages the live feed covers (the open page and the
                // complete ones after `linked`) stay whole: added articles and edits of recent
                // ones render them again, and compressing them would be on every such edit's
                // path. `pack_behind` packs them once the live feed has moved past them.
                let packed = self.staging.is_none()
                    && complete
                    && n <= self.layout(job.category.as_deref()).behind();
                let page = |body, content_type| match packed {
                    true => Encoded::packed(body, content_type, last_modified),
                    false => Encoded::new(body, content_type, last_modified),
                };
                let docs = vec![
                    (format!("{}.rss", job.key), page(rss, RSS_TYPE).with_immutable(complete)),
                    (format!("{}.atom", job.key), page(atom, ATOM_TYPE).with_immutable(complete)),
                ];
                (docs, None, Vec::new())
            }
        }
    }

    /// The rendered items of the live feed `slug`, each with whether it was rendered now:
    /// cut from its served documents (`inflated` already, or read now) when the item cache
    /// says they still fit, else rendered. `items` are `articles` with ids, links and the
    /// bodies [`Site::bodies_for`] found.
    fn live_items(
        &self,
        meta: &FeedMeta,
        slug: &str,
        inflated: Option<&[Bytes; 3]>,
        articles: &[Arc<Article>],
        items: &[FeedItem<'_>],
        bodies: &HashMap<String, Arc<str>>,
    ) -> (Vec<render::ItemFragments>, Vec<bool>) {
        let cache = self.item_cache.get(slug);
        // Inflated (when packed) on the first item that fits, once for all of them.
        let served = std::cell::OnceCell::new();
        articles
            .iter()
            .zip(items)
            .map(|(article, it)| {
                let author = render::author(meta, article);
                let cached = cache.and_then(|c| c.get(&article.path));
                if let Some(c) = cached.filter(|c| c.fits(article, it.id, it.link, author)) {
                    let docs = served
                        .get_or_init(|| inflated.cloned().or_else(|| self.live_documents(slug)));
                    if let Some(fragments) = docs.as_ref().and_then(|d| c.cut(d)) {
                        return (fragments, false);
                    }
                }
                // The article is cached but its id, link or author moved: no body was read.
                let body;
                let it = if bodies.contains_key(&article.path) {
                    *it
                } else {
                    body = self.body_html(article);
                    FeedItem { content_html: &body, ..*it }
                };
                (render::ItemFragments::render(meta, &it), true)
            })
            .unzip()
    }

    /// The documents of the live feeds `planned` (slug, category) held packed, to inflate.
    fn packed_live_documents(
        &self,
        planned: &[(String, Option<String>)],
    ) -> Vec<(String, [Arc<Encoded>; 3])> {
        let packed = |slug: &str| {
            let docs = self.live_feed_documents(slug)?;
            docs.iter().any(|d| d.is_packed()).then_some(docs)
        };
        planned.iter().filter_map(|(slug, _)| Some((slug.clone(), packed(slug)?))).collect()
    }

    /// The live feed `slug`'s served RSS, Atom and JSON documents.
    fn live_feed_documents(&self, slug: &str) -> Option<[Arc<Encoded>; 3]> {
        let doc = |ext: &str| self.feeds.get(&format!("{slug}.{ext}")).cloned();
        let [rss, atom, json] = LIVE_EXTS;
        Some([doc(rss)?, doc(atom)?, doc(json)?])
    }

    /// Their identity bytes, for a feed [`Site::packed_live_documents`] did not inflate ahead
    /// (held whole, or a custom feed).
    fn live_documents(&self, slug: &str) -> Option<[Bytes; 3]> {
        Some(self.live_feed_documents(slug)?.map(|d| d.identity_bytes()))
    }

    /// `{base_url}/feeds/{slug}.{ext}`: the feed's `rel="self"`, and its WebSub topic.
    fn feed_url(&self, slug: &str, ext: &str) -> String {
        crate::http::feed_url(&self.cfg.site.base_url, &format!("{slug}.{ext}"))
    }

    /// A link to archive page `n` of `slug`, in both formats.
    fn page_link(&self, rel: &'static str, slug: &str, n: usize) -> HistoryLink {
        let base = format!("{}/feeds/{}", self.cfg.site.base_url, encode_path(&page_key(slug, n)));
        HistoryLink { rel, rss: format!("{base}.rss"), atom: format!("{base}.atom") }
    }

    /// The OPML list of every feed: its outlines are rendered again only when the feeds
    /// changed, the document only when they or the newest date did.
    fn publish_opml(&mut self, report: &mut RebuildReport) {
        let updated = self.listing.iter().filter_map(|f| f.updated).max();
        let version = self.listing_version;
        let stale = self.opml_outlines.as_ref().is_none_or(|(v, _)| *v != version);
        if !stale && self.opml_dated == Some(updated) {
            return;
        }
        if stale {
            let outlines: Vec<render::opml::Outline> = self
                .listing
                .iter()
                .map(|f| render::opml::Outline {
                    text: f.name.clone(),
                    xml_url: self.feed_url(&f.slug, "rss"),
                    html_url: format!("{}/", self.cfg.site.base_url),
                })
                .collect();
            self.opml_outlines = Some((version, render::opml::outlines(&outlines)));
        }
        let outlines = self.opml_outlines.as_ref().map_or("", |(_, o)| o.as_str());
        let opml = render::opml::document(&self.cfg.site.title, updated, outlines);
        self.opml_dated = Some(updated);
        let doc = Encoded::new(opml, render::opml::CONTENT_TYPE, updated.unwrap_or_default());
        self.put(OPML_FILE.to_string(), doc, report);
    }

    fn feed_meta(
        &self,
        slug: &str,
        category: Option<&str>,
        updated: Option<DateTime<Utc>>,
    ) -> FeedMeta {
        let site = &self.cfg.site;
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
            rss_url: self.feed_url(slug, "rss"),
            atom_url: self.feed_url(slug, "atom"),
            json_url: self.feed_url(slug, "json"),
            history: Vec::new(),
            hubs: self.cfg.websub.hubs.clone(),
            archive: false,
            html_url: format!("{}/", site.base_url),
            language: site.language.clone(),
            default_author: site.author.clone(),
            generator: format!("Herald {}", env!("CARGO_PKG_VERSION")),
            updated,
        }
    }

    /// A custom feed's title, description and id. The id is `tag:{authority}:feed/{slug}`
    /// (like `all`'s, which no custom feed may take): it stays through edits of the title
    /// and filters, and changes only with the slug.
    fn custom_meta(&self, meta: &mut FeedMeta, feed: &crate::custom::CustomFeed) {
        let site = &self.cfg.site;
        meta.title = feed.feed_title(&site.title);
        meta.description = format!("{} — {}", site.description, feed.name());
        meta.id =
            format!("tag:{}:feed/{}", site.id_authority, utf8_percent_encode(&feed.slug, SEGMENT));
    }

    /// The feeds in display order: `all` first, then the custom feeds as configured, then
    /// categories by name.
    pub fn listing(&self) -> &[Arc<FeedListing>] {
        &self.listing
    }

    /// [`Site::listing`] built whole from the index and the rendered feeds.
    fn fresh_listing(&self) -> Vec<Arc<FeedListing>> {
        let all = std::iter::once(("all".to_string(), Listed::All));
        let custom = self
            .cfg
            .feeds
            .custom
            .iter()
            .enumerate()
            .map(|(i, f)| (f.slug.clone(), Listed::Custom(i)));
        let categories = self.index.categories().filter_map(|(name, _)| {
            Some((self.slugs.get(name)?.clone(), Listed::Category(name.to_string())))
        });
        all.chain(custom)
            .chain(categories)
            .filter_map(|(slug, listed)| self.listing_entry(&slug, &listed))
            .map(Arc::new)
            .collect()
    }

    /// The listing of one feed, if it has been rendered.
    fn listing_entry(&self, slug: &str, listed: &Listed) -> Option<FeedListing> {
        let state = self.feed_states.get(slug)?;
        let (kind, count) = match listed {
            Listed::All => (FeedKind::All, self.index.len()),
            Listed::Custom(i) => {
                let articles = self.custom_lists[*i].clone();
                let count = articles.len();
                (FeedKind::Custom { articles, about: self.cfg.feeds.custom[*i].describe() }, count)
            }
            Listed::Category(name) => (FeedKind::Category, self.index.count(Some(name))),
        };
        Some(FeedListing {
            slug: slug.to_string(),
            name: state.name.clone(),
            kind,
            count,
            updated: state.updated,
            latest: state.latest.clone(),
        })
    }

    /// Bring the listing up to date after a rebuild that planned the lists `planned` (slug,
    /// category; `None`: all) and looked at the custom feeds `customs`: only their entries
    /// change (nothing else of a listing can), unless `whole` (the feeds may have changed).
    fn relist(&mut self, whole: bool, planned: Vec<(String, Option<String>)>, customs: Vec<usize>) {
        let lists = planned.into_iter().map(|(slug, category)| match category {
            None => (slug, Listed::All),
            Some(name) => (slug, Listed::Category(name)),
        });
        let custom =
            customs.into_iter().map(|i| (self.cfg.feeds.custom[i].slug.clone(), Listed::Custom(i)));
        let touched: Vec<(String, Listed)> = lists.chain(custom).collect();
        if whole || self.listing.is_empty() || !self.relist_in_place(&touched) {
            self.listing = self.fresh_listing();
            self.listing_at =
                self.listing.iter().enumerate().map(|(i, f)| (f.slug.clone(), i)).collect();
            self.listing_version += 1;
        }
    }

    /// Replace the entries of the feeds `touched` where the listing has them. False when one
    /// is not listed yet or no longer (then the listing must be built whole).
    fn relist_in_place(&mut self, touched: &[(String, Listed)]) -> bool {
        for (slug, listed) in touched {
            match (self.listing_at.get(slug), self.listing_entry(slug, listed)) {
                (Some(&i), Some(entry)) => self.listing[i] = Arc::new(entry),
                (None, None) => {}
                _ => return false,
            }
        }
        true
    }

    /// Assign the categories' slugs again when a category came or went since they were last
    /// assigned: the categories whose slug is new join `lists`, the feeds of slugs that are
    /// gone are dropped. Returns whether it did (the feeds may then have changed).
    fn assign_slugs(
        &mut self,
        lists: &mut BTreeSet<Option<String>>,
        report: &mut RebuildReport,
    ) -> bool {
        let generation = self.index.category_generation();
        if self.slugs_for == Some(generation) {
            return false;
        }
        self.slugs_for = Some(generation);
        let new_slugs = crate::slug::assign_avoiding(
            self.index.categories().map(|(n, _)| n),
            &self.cfg.feeds.slugs,
            &self.cfg.feeds.custom.iter().map(|f| f.slug.clone()).collect(),
        );
        // A category whose slug changed (or that is new) must be written under its new name.
        for (name, slug) in &new_slugs {
            if self.slugs.get(name) != Some(slug) {
                lists.insert(Some(name.clone()));
            }
        }
        // Files of categories that vanished or were renamed.
        let gone: Vec<String> = self
            .slugs
            .iter()
            .filter(|(name, old)| new_slugs.get(*name) != Some(*old))
            .map(|(_, old)| old.clone())
            .collect();
        for old_slug in gone {
            self.drop_feed(&old_slug, report);
        }
        if *self.slugs != new_slugs {
            self.slugs = Arc::new(new_slugs);
        }
        true
    }

    /// The immutable snapshot the server answers from.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            feeds: self.feeds.clone(),
            listing: self.listing.clone(),
            index_page: None,
            articles: self.index.by_path(),
            redirects: self.stable.table(),
            ..Snapshot::default()
        }
    }

    /// Every feed document by file name.
    /// The documents held whole, by name, for [`pack`] to pack off the rebuild thread.
    pub fn whole_documents(&self) -> Vec<(String, Arc<Encoded>)> {
        let doc = |name: &String| Some((name.clone(), Arc::clone(self.feeds.get(name)?)));
        self.whole.iter().filter_map(doc).collect()
    }

    /// Whether a document was put whole since the last call: the packer's list is then out
    /// of date.
    pub fn take_new_whole(&mut self) -> bool {
        std::mem::take(&mut self.new_whole)
    }

    /// How many documents are held whole.
    pub fn whole_count(&self) -> usize {
        self.whole.len()
    }

    /// Hold packed the documents [`pack`] packed that are still served as they were then
    /// (a document rendered again meanwhile stays whole, for the next round). The bytes and
    /// tags served do not change, nor does anything the item cache points at. Returns how
    /// many were taken.
    pub fn adopt_packed(&mut self, packed: Vec<Packed>) -> usize {
        let mut taken = 0;
        for Packed { name, from, to } in packed {
            if self.feeds.get(&name).is_some_and(|now| Arc::ptr_eq(now, &from)) {
                self.feeds.insert(name.clone(), Arc::new(to));
                self.whole.remove(&name);
                taken += 1;
            }
        }
        taken
    }

    pub fn feeds(&self) -> &imbl::HashMap<String, Arc<Encoded>> {
        &self.feeds
    }

    pub fn content_root(&self) -> &Path {
        &self.cfg.content.root
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Overrides, RawConfig};

    fn config(root: &Path, out: &Path) -> Arc<Config> {
        let text = "[site]\ntitle = \"Test\"\nbase_url = \"https://feeds.example.org\"\n\
                    [content]\ngit_dates = false\n";
        let raw = RawConfig::parse(text, Path::new("test.toml")).unwrap();
        let overrides = Overrides {
            content: Some(root.to_path_buf()),
            out: Some(out.to_path_buf()),
            ..Overrides::default()
        };
        Arc::new(raw.validate(&overrides, root).unwrap())
    }

    /// For every list size, page size and `feeds.items`: the live feed holds exactly
    /// `feeds.items` articles unless the list or the open page says otherwise, and together
    /// with the pages from `linked` down it holds every article, repeating only what the
    /// linked page shares with it.
    #[test]
    fn the_live_feed_holds_feeds_items_and_links_the_page_it_leaves_off_in() {
        for total in 0..130 {
            for page_size in 1..13 {
                for items in 1..16 {
                    let l = Layout::new(total, page_size, items);
                    let case = format!("{total} articles, pages of {page_size}, {items} items");
                    let open = total % page_size;
                    assert_eq!(l.live_len(), items.min(total).max(open), "{case}");
                    assert_eq!(l.complete, total / page_size, "{case}");
                    assert!(l.linked <= l.complete, "{case}: only complete pages are linked");
                    // In date order the live feed is `older..total`, page n `(n-1)·P..n·P`.
                    let older = total - l.live_len();
                    assert!(l.linked * page_size >= older, "{case}: a gap before the live feed");
                    if l.linked > 0 {
                        assert!((l.linked - 1) * page_size < older, "{case}: linked too new");
                    } else {
                        assert_eq!(older, 0, "{case}: nothing links the older articles");
                    }
                    let repeated = l.linked * page_size - older;
                    assert!(repeated < page_size.min(l.live_len() + 1), "{case}: {repeated}");
                    assert_eq!(l.behind(), older / page_size, "{case}");
                    assert!(l.behind() <= l.linked, "{case}");
                }
            }
        }
    }

    /// Each cached item's RSS bytes by (feed, path), cut from its feed's served documents,
    /// checking that the cache points at whole items there in every format.
    fn cached(site: &Site) -> BTreeMap<(String, String), Vec<u8>> {
        let mut out = BTreeMap::new();
        for (slug, items) in &site.item_cache {
            let docs = site.live_documents(slug).expect("a cached feed is served");
            for (path, c) in items {
                let f = c.cut(&docs).expect("the cache fits the served documents");
                for (part, open, close) in [
                    (&f.rss, "<item>", "</item>"),
                    (&f.atom, "<entry>", "</entry>"),
                    (&f.json, "{", "}"),
                ] {
                    let text = std::str::from_utf8(part).unwrap().trim();
                    let whole = text.starts_with(open) && text.ends_with(close);
                    assert!(whole, "{slug}: {path}: not an item: {text}");
                }
                out.insert((slug.clone(), path.clone()), f.rss.to_vec());
            }
        }
        out
    }

    /// Subscribers' readers know items by these ids: a unique source link's is the first 32
    /// hex digits of its blake3 hash, whatever the index keys links by.
    #[test]
    fn an_item_id_from_a_unique_source_link_is_its_hash() {
        let text = b"# Title\n\n`2021-01-03 @someone #news` [source](https://e.org/a/1)\n\nText.\n";
        let parsed = crate::article::parse::parse("news/1.md", text, &Default::default());
        let crate::article::Parsed::Article(article) = parsed else { panic!("{parsed:?}") };
        assert!(matches!(article.identity, Identity::Source(_)), "{:?}", article.identity);
        let mut index = Index::new(50);
        index.insert(Arc::new((*article).clone()));
        let links = Links::new("https://e.org", "{base_url}/{path}", "e.org,2026");
        let hash = blake3::hash(b"https://e.org/a/1").to_hex();
        assert_eq!(links.id(&article, &index), format!("tag:e.org,2026:source/{}", &hash[..32]));
    }

    /// The template cut once gives what filling it by a chain of `str::replace` gave, for
    /// every placeholder in any order, repeated or next to text and to each other.
    #[test]
    fn a_link_template_fills_as_the_replace_chain_did() {
        let chain = |template: &str, base: &str, article: &Article, id: &str| {
            let path = encode_path(&article.path);
            let no_ext = path.strip_suffix(".md").unwrap_or(&path).to_string();
            let stem = article.path.rsplit('/').next().unwrap_or("").trim_end_matches(".md");
            let slug = crate::slug::slugify(stem);
            template
                .replace("{base_url}", base)
                .replace("{path_no_ext}", &no_ext)
                .replace("{path}", &path)
                .replace("{slug}", &utf8_percent_encode(&slug, SEGMENT).to_string())
                .replace("{id}", &utf8_percent_encode(id, SEGMENT).to_string())
        };
        let templates = [
            "{base_url}/articles/{path}",
            "{base_url}/{path_no_ext}/",
            "https://github.com/o/r/blob/main/{path}",
            "{base_url}{slug}{id}{path}{path_no_ext}",
            "{base_url}/p/{path_no_ext}.html?id={id}&s={slug}#{path}",
            "https://x.org/static",
            "{{path}}/{pat}{path",
            "页/{slug}/页",
            "",
        ];
        let paths = ["a.md", "新闻/Hello World.md", "x/y/z.markdown", "deep/a b/c%.md", "n.md.md"];
        for template in templates {
            let links = Links::new("https://e.org/base", template, "e.org,2026");
            for path in paths {
                let text = b"# T\n\nText.\n";
                let parsed = crate::article::parse::parse(path, text, &Default::default());
                let crate::article::Parsed::Article(article) = parsed else { panic!("{parsed:?}") };
                for id in ["tag:e.org,2026:path/a", "note/7 a", ""] {
                    assert_eq!(
                        links.link(&article, id),
                        chain(template, "https://e.org/base", &article, id),
                        "{template:?} {path:?} {id:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_link_template_gets_each_placeholder_it_names() {
        let text = b"---\nid: note/7 a\ntitle: T\n---\nText.\n";
        let parsed = crate::article::parse::parse("新闻/Hello World.md", text, &Default::default());
        let crate::article::Parsed::Article(article) = parsed else { panic!("{parsed:?}") };
        let links = |template: &str| Links::new("https://e.org", template, "e.org,2026");
        let all = links("{base_url}/a/{path}|{path_no_ext}|{slug}|{id}|{path}");
        assert_eq!(
            all.link(&article, "note/7 a"),
            "https://e.org/a/%E6%96%B0%E9%97%BB/Hello%20World.md|%E6%96%B0%E9%97%BB/Hello%20World|\
             hello-world|note%2F7%20a|%E6%96%B0%E9%97%BB/Hello%20World.md"
        );
        assert_eq!(links("https://x.org/static").link(&article, "i"), "https://x.org/static");
    }

    #[test]
    fn an_edit_renders_only_the_items_it_changed_and_matches_a_cold_build() {
        let dir = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("notes")).unwrap();
        let write = |name: &str, text: &str| {
            std::fs::write(dir.path().join("notes").join(name), text).unwrap();
        };
        for i in 0..3 {
            write(&format!("a{i}.md"), &format!("## Title {i}\n\nBody {i}.\n"));
        }
        let cfg = config(dir.path(), out.path());
        let mut site = Site::build(Arc::clone(&cfg)).unwrap();
        let before = cached(&site);
        let live_feeds = site.feeds().keys().filter(|f| f.ends_with(".json")).count();
        assert_eq!(before.len(), 3 * live_feeds, "{:?}", before.keys());

        write("a1.md", "## Title 1, edited\n\nBody 1, edited.\n");
        let paths = [dir.path().join("notes/a1.md")].into_iter().collect();
        site.apply(&ChangeSet { paths, rescan: false, first_event: None });
        let report = site.render_dirty();
        assert_eq!(report.items_rendered, live_feeds, "the edited item, once per live feed");

        let after = cached(&site);
        assert_eq!(after.keys().collect::<Vec<_>>(), before.keys().collect::<Vec<_>>());
        for (key, old) in &before {
            let edited = key.1 == "notes/a1.md";
            assert_eq!(old == &after[key], !edited, "{key:?}");
        }
        let edited = String::from_utf8(after[&("all".into(), "notes/a1.md".into())].clone());
        let edited = edited.unwrap();
        assert!(edited.contains("Body 1, edited.") && edited.contains("Title 1, edited"));
        let cold = Site::build(cfg).unwrap();
        assert_eq!(site.feeds(), cold.feeds(), "incremental and cold builds serve the same bytes");
    }

    /// Packing every document changes no byte or tag served; an edit then cuts the items it
    /// keeps out of the packed documents and still serves what a cold build serves; and a
    /// document rendered again after it was packed stays whole.
    #[test]
    fn packed_documents_serve_the_same_and_edits_still_reuse_their_items() {
        let dir = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("notes")).unwrap();
        let write = |name: &str, text: &str| {
            let path = dir.path().join("notes").join(name);
            std::fs::write(&path, text).unwrap();
            ChangeSet { paths: [path].into_iter().collect(), rescan: false, first_event: None }
        };
        for i in 0..3 {
            write(&format!("a{i}.md"), &format!("## Title {i}\n\nBody {i}.\n"));
        }
        let cfg = config(dir.path(), out.path());
        let mut site = Site::build(Arc::clone(&cfg)).unwrap();
        let whole: BTreeMap<String, Vec<u8>> =
            site.feeds().iter().map(|(n, d)| (n.clone(), d.identity_bytes().to_vec())).collect();
        let before = site.feeds().clone();
        let docs = site.whole_documents();
        assert_eq!(docs.len(), site.whole_count());
        assert_eq!(site.adopt_packed(pack(docs)), whole.len(), "every document was whole");
        assert_eq!(site.whole_count(), 0);
        for (name, doc) in site.feeds() {
            assert!(doc.is_packed(), "{name}");
            assert_eq!(doc.identity_bytes(), whole[name], "{name}");
        }
        assert_eq!(site.feeds(), &before, "the same tags and dates");

        site.apply(&write("a1.md", "## Title 1, edited\n\nBody 1, edited.\n"));
        let report = site.render_dirty();
        let live_feeds = site.feeds().keys().filter(|f| f.ends_with(".json")).count();
        assert_eq!(report.items_rendered, live_feeds, "only the edited item, once per feed");
        assert_eq!(cached(&site).len(), 3 * live_feeds);
        assert_eq!(site.feeds(), Site::build(Arc::clone(&cfg)).unwrap().feeds());

        let stale = pack(site.whole_documents());
        assert!(!stale.is_empty(), "the edit's documents are whole");
        site.apply(&write("a2.md", "## Title 2, edited\n\nBody 2, edited.\n"));
        site.render_dirty();
        let rendered_again: Vec<String> = stale
            .iter()
            .filter(|p| !Arc::ptr_eq(&site.feeds()[&p.name], &p.from))
            .map(|p| p.name.clone())
            .collect();
        assert!(rendered_again.iter().any(|n| n == "all.rss"), "{rendered_again:?}");
        let unchanged = stale.len() - rendered_again.len();
        assert_eq!(site.adopt_packed(stale), unchanged);
        for name in &rendered_again {
            assert!(!site.feeds()[name].is_packed(), "{name} was rendered after it was packed");
        }
        assert_eq!(site.feeds(), Site::build(cfg).unwrap().feeds());
    }

    /// Items that newer articles push out of a live feed leave its cache; the ones still
    /// shown stay, pointing into the new documents.
    #[test]
    fn items_pushed_out_of_the_live_feeds_leave_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("notes")).unwrap();
        let text = "[site]\ntitle = \"Test\"\nbase_url = \"https://feeds.example.org\"\n\
                    [content]\ngit_dates = false\n[feeds]\nitems = 2\narchive_page_size = 2\n";
        let raw = RawConfig::parse(text, Path::new("test.toml")).unwrap();
        let overrides = Overrides {
            content: Some(dir.path().to_path_buf()),
            out: Some(out.path().to_path_buf()),
            ..Overrides::default()
        };
        let cfg = Arc::new(raw.validate(&overrides, dir.path()).unwrap());
        let write = |i: usize| {
            let text =
                format!("---\ntitle: Note {i}\ndate: 2024-01-{:02}\n---\nBody {i}.\n", i + 1);
            let path = dir.path().join(format!("notes/n{i}.md"));
            std::fs::write(&path, text).unwrap();
            path
        };
        write(0);
        let mut site = Site::build(cfg).unwrap();
        for i in 1..8 {
            let paths = [write(i)].into_iter().collect();
            site.apply(&ChangeSet { paths, rescan: false, first_event: None });
            site.render_dirty();
            let live: BTreeSet<String> = site
                .index
                .newest_n(None, Layout::new(i + 1, 2, 2).live_len())
                .into_iter()
                .map(|a| a.path.clone())
                .collect();
            for slug in ["all", "notes"] {
                let cached: BTreeSet<String> =
                    cached(&site).into_keys().filter(|k| k.0 == slug).map(|k| k.1).collect();
                assert_eq!(cached, live, "{slug}, after note {i}");
            }
        }
    }

    /// The listing and the OPML are updated in place for the feeds a rebuild touched, and
    /// rebuilt whole when categories come or go: either way they equal a cold build's, as do
    /// the documents, through edits, moves between categories, new and emptied categories.
    #[test]
    fn the_listing_and_the_opml_follow_categories_that_come_and_go() {
        let dir = tempfile::tempdir().unwrap();
        let (out, cold_out) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let write = |folder: &str, i: usize, title: &str| {
            std::fs::create_dir_all(dir.path().join(folder)).unwrap();
            let text = format!("---\ntitle: {title}\ndate: 2024-01-{:02}\n---\nBody.\n", i + 1);
            let path = dir.path().join(format!("{folder}/n{i}.md"));
            std::fs::write(&path, text).unwrap();
            path
        };
        let folders = ["alpha", "beta", "gamma", "delta"];
        let mut at: BTreeMap<usize, &str> = BTreeMap::new();
        for i in 0..6 {
            write(folders[i % 2], i, &format!("Note {i}"));
            at.insert(i, folders[i % 2]);
        }
        let cfg = config(dir.path(), out.path());
        let cold_cfg = config(dir.path(), cold_out.path());
        let mut site = Site::build(Arc::clone(&cfg)).unwrap();
        for step in 0..24usize {
            let i = step * 5 % 9;
            let mut paths = BTreeSet::new();
            if let Some(old) = at.remove(&i) {
                let path = dir.path().join(format!("{old}/n{i}.md"));
                std::fs::remove_file(&path).unwrap();
                paths.insert(path);
            }
            if step % 4 != 3 {
                let folder = folders[(i + step) % folders.len()];
                paths.insert(write(folder, i, &format!("Note {i}, step {step}")));
                at.insert(i, folder);
            }
            site.apply(&ChangeSet { paths, rescan: false, first_event: None });
            site.render_dirty();
            assert_eq!(site.listing(), site.fresh_listing().as_slice(), "step {step}");
            let cold = Site::build(Arc::clone(&cold_cfg)).unwrap();
            assert_eq!(site.listing(), cold.listing(), "step {step}");
            assert_eq!(site.feeds(), cold.feeds(), "step {step}");
        }
        assert!(site.listing_version > 2, "categories came and went: {}", site.listing_version);
    }

    fn recount(site: &Site) -> ReportTotals {
        let mut totals = ReportTotals::default();
        site.reports().values().for_each(|r| totals.add(r));
        totals
    }

    #[test]
    fn report_totals_follow_files_that_come_go_and_change() {
        let dir = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name);
        std::fs::write(path("fine.md"), "## Fine\n\nText.\n").unwrap();
        std::fs::write(path("untitled.md"), "Just words, no title.\n").unwrap();
        std::fs::write(path("binary.md"), b"\0\0\0\xff\xfe binary").unwrap();
        let mut site = Site::build(config(dir.path(), out.path())).unwrap();
        let start = site.report_totals();
        assert_eq!(start, recount(&site));
        assert!(start.warnings >= 1 && start.skipped == 1, "{start:?}");

        std::fs::write(path("untitled.md"), "## Titled now\n\nText.\n").unwrap();
        std::fs::remove_file(path("binary.md")).unwrap();
        std::fs::write(path("new.md"), "No title either.\n").unwrap();
        let paths = ["untitled.md", "binary.md", "new.md"].map(path).into_iter().collect();
        site.apply(&ChangeSet { paths, rescan: false, first_event: None });
        let after = site.report_totals();
        assert_eq!(after, recount(&site));
        assert_eq!((after.warnings, after.skipped), (start.warnings, 0), "{after:?}");
        // Only the files with something to say keep a report; the others are made again,
        // the same as a cold build's.
        let kept: Vec<&String> = site.reports.keys().collect();
        assert_eq!(kept, ["new.md"]);
        let cold = Site::build(config(dir.path(), out.path())).unwrap();
        assert_eq!(site.reports(), cold.reports());
        assert_eq!(site.reports().keys().collect::<Vec<_>>(), ["fine.md", "new.md", "untitled.md"]);
    }
}
