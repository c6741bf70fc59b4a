//! HTML pages: the index of feeds (rendered at publish time), one page per category
//! (rendered on first request, cached per snapshot) and one article.
//!
//! Plain HTML5 with inline CSS, readable on a phone. A small inline script adds the filter
//! box and copy buttons; without it every feed and article is still listed and linked. Every
//! piece of text from the content (category names, titles, links) is escaped.

use super::{feed_url, SEGMENT};
use crate::article::Article;
use crate::index::sort_date;
use crate::publish::{FeedKind, FeedListing, Snapshot};
use crate::render::encode::Encoded;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

const STYLE: &str = include_str!("assets/page.css");
/// Filter box and copy buttons (progressive enhancement, inline: no external request).
const SCRIPT: &str = include_str!("assets/page.js");

pub use crate::render::html_escape as escape;

fn iso_date(at: Option<DateTime<Utc>>) -> Option<(String, String)> {
    at.map(|at| (at.format("%Y-%m-%dT%H:%M:%SZ").to_string(), at.format("%Y-%m-%d").to_string()))
}

fn head(out: &mut String, title: &str) {
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n",
        escape(title)
    );
}

/// Articles per category page.
pub const PAGE_SIZE: usize = 50;
/// Newest titles shown per feed on the index page.
const LATEST: usize = 3;
/// Titles the embed snippet shows.
const EMBED_ITEMS: usize = 5;

/// `{base_url}/categories/{slug}`.
pub fn category_url(base_url: &str, slug: &str) -> String {
    format!("{base_url}/categories/{}", percent_encoding::utf8_percent_encode(slug, SEGMENT))
}

/// `{base_url}/articles/{path}`, each segment percent-encoded.
pub fn article_url(base_url: &str, path: &str) -> String {
    format!("{base_url}/articles/{}", crate::site::encode_path(path))
}

/// The documents of one feed that exist: `(label, file, MIME type)`, RSS first. JSON Feed is
/// listed only when the snapshot serves `{slug}.json`.
fn formats(snapshot: &Snapshot, slug: &str) -> Vec<(&'static str, String, &'static str)> {
    [
        ("RSS", "rss", "application/rss+xml"),
        ("Atom", "atom", "application/atom+xml"),
        ("JSON Feed", "json", "application/feed+json"),
    ]
    .into_iter()
    .map(|(label, ext, mime)| (label, format!("{slug}.{ext}"), mime))
    .filter(|(label, file, _)| *label != "JSON Feed" || snapshot.feeds.contains_key(file))
    .collect()
}

/// Autodiscovery `<link rel="alternate">` for every document of one feed.
fn alternates(out: &mut String, snapshot: &Snapshot, f: &FeedListing, base_url: &str) {
    let name = escape(&f.name);
    for (label, file, mime) in formats(snapshot, &f.slug) {
        let _ = writeln!(
            out,
            "<link rel=\"alternate\" type=\"{mime}\" title=\"{name} ({label})\" href=\"{}\">",
            escape(&feed_url(base_url, &file))
        );
    }
}

/// Every feed's articles newest first, by slug (`all`, each custom feed and each category of
/// the listing), for the category pages and the index's latest titles. One sort per publish.
pub fn feed_lists(snapshot: &Snapshot) -> HashMap<String, Arc<[Arc<Article>]>> {
    let mut all: Vec<Arc<Article>> = snapshot.articles.values().cloned().collect();
    all.sort_by(|a, b| sort_date(b).cmp(&sort_date(a)).then_with(|| a.path.cmp(&b.path)));
    let slugs: HashMap<&str, &str> = snapshot
        .listing
        .iter()
        .filter(|f| f.kind == FeedKind::Category)
        .map(|f| (f.name.as_str(), f.slug.as_str()))
        .collect();
    let mut by: HashMap<&str, Vec<Arc<Article>>> = HashMap::new();
    for article in &all {
        for name in &article.categories {
            if let Some(slug) = slugs.get(name.as_str()) {
                let list = by.entry(slug).or_default();
                // An article naming its category twice is listed once.
                if !list.last().is_some_and(|last| Arc::ptr_eq(last, article)) {
                    list.push(article.clone());
                }
            }
        }
    }
    let mut out: HashMap<String, Arc<[Arc<Article>]>> =
        by.into_iter().map(|(slug, list)| (slug.to_string(), list.into())).collect();
    out.insert("all".into(), all.into());
    for f in &snapshot.listing {
        if let FeedKind::Custom { articles, .. } = &f.kind {
            out.insert(f.slug.clone(), articles.clone());
        }
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        "article"
    } else {
        "articles"
    }
}

/// Links to the feed documents, the feed address with a copy button and, with `embed`, the
/// embed snippet. `id` makes the element ids unique on the page.
fn subscribe_block(
    out: &mut String,
    snapshot: &Snapshot,
    f: &FeedListing,
    base_url: &str,
    id: usize,
    embed: bool,
) {
    out.push_str("<div class=\"links\">");
    for (i, (label, file, mime)) in formats(snapshot, &f.slug).into_iter().enumerate() {
        let _ = write!(
            out,
            "<a class=\"pill{}\" type=\"{mime}\" href=\"{}\">{label}</a>",
            if i == 0 { " rss" } else { "" },
            escape(&feed_url(base_url, &file))
        );
    }
    out.push_str("</div>\n");
    let rss = feed_url(base_url, &format!("{}.rss", f.slug));
    let _ = writeln!(
        out,
        "<div class=\"copyrow\"><input class=\"url\" id=\"url-{id}\" readonly value=\"{}\" \
         aria-label=\"Feed address of {}\"><button type=\"button\" data-copy=\"url-{id}\" hidden>Copy</button></div>",
        escape(&rss),
        escape(&f.name)
    );
    if embed {
        let snippet = format!(
            "<div data-herald-feed=\"{}\" data-herald-items=\"{EMBED_ITEMS}\"><a href=\"{}\">{}</a></div>\n\
             <script src=\"{}/embed.js\" async></script>",
            escape(&feed_url(base_url, &format!("{}.atom", f.slug))),
            escape(&category_url(base_url, &f.slug)),
            escape(&f.name),
            escape(base_url),
        );
        let _ = writeln!(
            out,
            "<details class=\"embed\"><summary>Embed on your site</summary>\
             <p>Paste this HTML into any page to show the {EMBED_ITEMS} newest titles:</p>\
             <textarea id=\"embed-{id}\" readonly rows=\"4\" spellcheck=\"false\">{}</textarea>\
             <button type=\"button\" data-copy=\"embed-{id}\" hidden>Copy snippet</button></details>",
            escape(&snippet)
        );
    }
}

fn updated_meta(out: &mut String, f: &FeedListing) {
    let _ = write!(out, "<p class=\"meta\">{} {}", f.count, plural(f.count));
    if let Some((full, day)) = iso_date(f.updated) {
        let _ = write!(out, " · updated <time datetime=\"{full}\">{day}</time>");
    }
    out.push_str("</p>\n");
    if let FeedKind::Custom { about, .. } = &f.kind {
        let _ = writeln!(out, "<p class=\"meta rules\">{}</p>", escape(about));
    }
}

/// One card of the index page.
fn feed_card(out: &mut String, snapshot: &Snapshot, f: &FeedListing, base_url: &str, id: usize) {
    let all = f.slug == "all";
    let _ = write!(
        out,
        "<li class=\"feed{}\" data-name=\"{}\" data-slug=\"{}\">\n<h3><a href=\"{}\">{}</a></h3>\n",
        if all { " all" } else { "" },
        escape(&f.name),
        escape(&f.slug),
        escape(&category_url(base_url, &f.slug)),
        escape(&f.name),
    );
    updated_meta(out, f);
    if !f.latest.is_empty() {
        out.push_str("<ul class=\"latest\">");
        for a in f.latest.iter().take(LATEST) {
            let _ = write!(
                out,
                "<li><a href=\"{}\">{}</a></li>",
                escape(&article_url(base_url, &a.path)),
                escape(&a.title)
            );
        }
        out.push_str("</ul>\n");
    }
    subscribe_block(out, snapshot, f, base_url, id, true);
    out.push_str("</li>\n");
}

/// The index page `/`: every feed (`all` first) with its article count, last update, newest
/// titles, feed links, a copyable address and an embed snippet; a filter box over the
/// categories; autodiscovery `<link>`s for every feed document.
pub fn index_page(snapshot: &Snapshot, site_title: &str, base_url: &str) -> String {
    index_page_cached(snapshot, site_title, base_url, &mut IndexCache::default())
}

/// What one feed's fragments of the index page were rendered from. Articles are compared by
/// pointer: a parse replaces an article's `Arc`, so an equal pointer is an unchanged article
/// (a new pointer to equal content only renders again).
struct CardInputs {
    id: usize,
    base_url: String,
    name: String,
    count: usize,
    updated: Option<chrono::DateTime<chrono::Utc>>,
    about: Option<String>,
    latest: Vec<Arc<Article>>,
    formats: Vec<String>,
}

impl CardInputs {
    fn of(snapshot: &Snapshot, f: &FeedListing, base_url: &str, id: usize) -> CardInputs {
        CardInputs {
            id,
            base_url: base_url.to_string(),
            name: f.name.clone(),
            count: f.count,
            updated: f.updated,
            about: match &f.kind {
                FeedKind::Custom { about, .. } => Some(about.clone()),
                _ => None,
            },
            latest: f.latest.iter().take(LATEST).cloned().collect(),
            formats: formats(snapshot, &f.slug).into_iter().map(|(_, file, _)| file).collect(),
        }
    }

    fn same(&self, other: &CardInputs) -> bool {
        self.id == other.id
            && self.base_url == other.base_url
            && self.name == other.name
            && self.count == other.count
            && self.updated == other.updated
            && self.about == other.about
            && self.formats == other.formats
            && self.latest.len() == other.latest.len()
            && self.latest.iter().zip(&other.latest).all(|(a, b)| Arc::ptr_eq(a, b))
    }
}

/// The index page's fragments of each feed (its autodiscovery links and its card), kept
/// from one publish to the next: an edit changes the cards of `all` and one category, and
/// rendering all ~130 cards again for each edit was a fifth of an edit's rebuild on the
/// 24,203-article archive (perf).
#[derive(Default)]
pub struct IndexCache {
    cards: HashMap<String, (CardInputs, String, String)>,
}

impl IndexCache {
    /// Render the autodiscovery links and the card of `f` again if their inputs changed.
    fn refresh(&mut self, snapshot: &Snapshot, f: &FeedListing, base_url: &str, id: usize) {
        let inputs = CardInputs::of(snapshot, f, base_url, id);
        if self.cards.get(&f.slug).is_some_and(|(old, _, _)| old.same(&inputs)) {
            return;
        }
        let mut links = String::new();
        alternates(&mut links, snapshot, f, base_url);
        let mut card = String::new();
        feed_card(&mut card, snapshot, f, base_url, id);
        self.cards.insert(f.slug.clone(), (inputs, links, card));
    }

    fn links(&self, slug: &str) -> &str {
        &self.cards[slug].1
    }

    fn card(&self, slug: &str) -> &str {
        &self.cards[slug].2
    }
}

/// The index page `/` of one snapshot, rendered on its first request rather than at every
/// publish: at 100,000 articles (~300 feeds) assembling and hashing it was ~1.5 ms of each
/// edit's rebuild, for a page opened far less often than feeds change. The cards of earlier
/// renders are shared from snapshot to snapshot, so a render after an edit redoes two.
pub struct IndexPage {
    page: OnceLock<Arc<Encoded>>,
    cards: Arc<Mutex<IndexCache>>,
}

impl IndexPage {
    /// A page rendered when first asked for, with (and into) `cards`.
    pub fn lazy(cards: Arc<Mutex<IndexCache>>) -> IndexPage {
        IndexPage { page: OnceLock::new(), cards }
    }

    /// A page rendered already.
    pub fn rendered(doc: Encoded) -> IndexPage {
        IndexPage { page: OnceLock::from(Arc::new(doc)), cards: Default::default() }
    }

    /// The page of `snapshot` (the snapshot holding it), rendered on the first call.
    pub fn get(&self, snapshot: &Snapshot) -> &Arc<Encoded> {
        self.page.get_or_init(|| {
            let mut cards = self.cards.lock().unwrap_or_else(PoisonError::into_inner);
            let settings = &snapshot.settings;
            let html =
                index_page_cached(snapshot, &settings.site_title, &settings.base_url, &mut cards);
            let updated = snapshot.listing.first().and_then(|l| l.updated).unwrap_or_default();
            Arc::new(Encoded::new(html.into_bytes(), "text/html; charset=utf-8", updated))
        })
    }
}

impl std::fmt::Debug for IndexPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexPage").field("rendered", &self.page.get().is_some()).finish()
    }
}

/// [`index_page`], taking unchanged feeds' fragments from `cache` (and forgetting feeds no
/// longer listed).
pub fn index_page_cached(
    snapshot: &Snapshot,
    site_title: &str,
    base_url: &str,
    cache: &mut IndexCache,
) -> String {
    let listing = &snapshot.listing;
    let listed: std::collections::HashSet<&str> = listing.iter().map(|f| f.slug.as_str()).collect();
    cache.cards.retain(|slug, _| listed.contains(slug.as_str()));
    let mut out = String::with_capacity(8192 + listing.len() * 2000);
    head(&mut out, site_title);
    let of_kind = |kind: fn(&FeedKind) -> bool| -> Vec<&FeedListing> {
        listing.iter().map(|f| &**f).filter(|f| kind(&f.kind)).collect()
    };
    let all = of_kind(|k| *k == FeedKind::All);
    let custom = of_kind(|k| matches!(k, FeedKind::Custom { .. }));
    let categories = of_kind(|k| *k == FeedKind::Category);
    // Element ids of the cards: unique over the whole page, in display order.
    let ids: HashMap<&str, usize> = all
        .iter()
        .chain(&custom)
        .chain(&categories)
        .enumerate()
        .map(|(i, f)| (&*f.slug, i))
        .collect();
    for f in listing {
        cache.refresh(snapshot, f, base_url, ids[f.slug.as_str()]);
        out.push_str(cache.links(&f.slug));
    }
    // OPML autodiscovery (the `outline` relation readers and browser extensions look for):
    // subscribe to every feed at once.
    let _ = writeln!(
        out,
        "<link rel=\"outline\" type=\"text/x-opml\" title=\"Every feed (OPML)\" href=\"{}\">",
        escape(&feed_url(base_url, "index.opml"))
    );
    let _ = write!(
        out,
        "<style>\n{STYLE}</style>\n</head>\n<body>\n<header>\n<h1>{}</h1>\n",
        escape(site_title)
    );
    let _ = write!(
        out,
        "<p class=\"lede muted\">Follow every article or just one category. Each feed comes as \
         RSS and Atom (and JSON Feed): copy its address into your feed reader, import \
         <a href=\"{}\">every feed as OPML</a>, or open a category to browse it. Older articles \
         are in each feed's archive pages (RFC 5005), linked from the feed.</p>\n\
         </header>\n<main>\n",
        escape(&feed_url(base_url, "index.opml"))
    );
    if listing.is_empty() {
        out.push_str("<p>No feeds yet.</p>\n");
    }
    if !all.is_empty() {
        out.push_str("<ul class=\"feeds top\">\n");
        for f in &all {
            out.push_str(cache.card(&f.slug));
        }
        out.push_str("</ul>\n");
    }
    if !custom.is_empty() {
        let _ = writeln!(
            out,
            "<h2>Selected feeds <span class=\"muted\">({})</span></h2>\n<ul class=\"feeds custom\">",
            custom.len()
        );
        for f in &custom {
            out.push_str(cache.card(&f.slug));
        }
        out.push_str("</ul>\n");
    }
    if !categories.is_empty() {
        let _ = writeln!(
            out,
            "<h2>Categories <span class=\"muted\">({})</span></h2>",
            categories.len()
        );
        out.push_str(
            "<div class=\"filter\" id=\"filter-box\" hidden><label for=\"filter\">Filter categories</label>\
             <input id=\"filter\" type=\"search\" placeholder=\"Filter categories…\" autocomplete=\"off\">\
             <span id=\"filter-status\" aria-live=\"polite\"></span></div>\n\
             <ul class=\"feeds\" id=\"feeds\">\n",
        );
        for f in &categories {
            out.push_str(cache.card(&f.slug));
        }
        out.push_str("</ul>\n<p id=\"no-match\" class=\"muted\" hidden>No category matches.</p>\n");
    }
    let _ = write!(
        out,
        "</main>\n<footer>Served by Herald.</footer>\n<script>\n{SCRIPT}</script>\n</body>\n</html>\n"
    );
    out
}

/// One page of a category (or of `all`): its articles newest first, [`PAGE_SIZE`] per page,
/// with feed links and autodiscovery. `None` for an unknown slug or a page past the end.
/// Returns the HTML and the time it was last updated.
pub fn category_page(
    snapshot: &Snapshot,
    slug: &str,
    page: usize,
    site_title: &str,
    base_url: &str,
) -> Option<(String, DateTime<Utc>)> {
    let f = snapshot.listing.iter().find(|f| f.slug == slug)?;
    let what = match f.kind {
        FeedKind::Custom { .. } => "selected feed",
        FeedKind::All | FeedKind::Category => "category",
    };
    let empty: Arc<[Arc<Article>]> = Arc::new([]);
    let list = snapshot.by_feed.get_or_init(|| feed_lists(snapshot)).get(slug).unwrap_or(&empty);
    let pages = list.len().div_ceil(PAGE_SIZE).max(1);
    if page == 0 || page > pages {
        return None;
    }
    let items = &list[(page - 1) * PAGE_SIZE..(page * PAGE_SIZE).min(list.len())];
    let mut out = String::with_capacity(8192 + items.len() * 800);
    let title = if page > 1 {
        format!("{} (page {page}) — {site_title}", f.name)
    } else {
        format!("{} — {site_title}", f.name)
    };
    head(&mut out, &title);
    alternates(&mut out, snapshot, f, base_url);
    let _ = write!(
        out,
        "<style>\n{STYLE}</style>\n</head>\n<body>\n<header>\n\
         <p class=\"crumbs muted\"><a href=\"{}/\">{}</a> › {what}</p>\n<h1>{}</h1>\n",
        escape(base_url),
        escape(site_title),
        escape(&f.name)
    );
    updated_meta(&mut out, f);
    out.push_str("</header>\n<main>\n<div class=\"subscribe\">\n");
    subscribe_block(&mut out, snapshot, f, base_url, 0, false);
    out.push_str("</div>\n");
    if items.is_empty() {
        out.push_str("<p>No articles yet.</p>\n");
    }
    let _ = writeln!(out, "<ol class=\"items\" start=\"{}\">", (page - 1) * PAGE_SIZE + 1);
    for a in items {
        let _ = write!(
            out,
            "<li><h2><a href=\"{}\">{}</a></h2>",
            escape(&article_url(base_url, &a.path)),
            escape(&a.title)
        );
        if let Some((full, day)) = iso_date(a.published.or(a.updated).map(|d| d.at)) {
            let _ = write!(out, "<p class=\"meta\"><time datetime=\"{full}\">{day}</time></p>");
        }
        let summary = a.summary.trim();
        if !summary.is_empty() {
            let _ = write!(out, "<p class=\"summary\">{}</p>", escape(summary));
        }
        out.push_str("</li>\n");
    }
    out.push_str("</ol>\n");
    if pages > 1 {
        let here = category_url(base_url, slug);
        out.push_str("<nav class=\"pager\">");
        match page {
            1 => out.push_str("<span></span>"),
            2 => {
                let _ = write!(out, "<a rel=\"prev\" href=\"{}\">← Newer</a>", escape(&here));
            }
            _ => {
                let _ = write!(
                    out,
                    "<a rel=\"prev\" href=\"{}?page={}\">← Newer</a>",
                    escape(&here),
                    page - 1
                );
            }
        }
        let _ = write!(out, "<span class=\"muted\">Page {page} of {pages}</span>");
        if page < pages {
            let _ = write!(
                out,
                "<a rel=\"next\" href=\"{}?page={}\">Older →</a>",
                escape(&here),
                page + 1
            );
        } else {
            out.push_str("<span></span>");
        }
        out.push_str("</nav>\n");
    }
    let _ = write!(
        out,
        "</main>\n<footer><a href=\"{}/\">All feeds</a></footer>\n<script>\n{SCRIPT}</script>\n</body>\n</html>\n",
        escape(base_url)
    );
    Some((out, f.updated.unwrap_or_default()))
}

/// Category pages already rendered for one snapshot, by `(slug, page)`. Rendering on demand
/// keeps publishing cheap (a rebuild renders no page); the cache lives in the snapshot, so a
/// new snapshot starts empty and never serves a stale page.
#[derive(Debug, Default)]
pub struct PageCache(Mutex<HashMap<(String, usize), Arc<Encoded>>>);

/// Most pages kept per snapshot (a crawler walking every page would otherwise grow it).
const PAGE_CACHE_MAX: usize = 512;

impl PageCache {
    /// The cached page, or `render` it (outside the lock) and keep it.
    pub fn get_or_render(
        &self,
        slug: &str,
        page: usize,
        render: impl FnOnce() -> Option<Encoded>,
    ) -> Option<Arc<Encoded>> {
        let key = (slug.to_string(), page);
        if let Some(doc) = self.0.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Some(doc.clone());
        }
        let doc = Arc::new(render()?);
        let mut cache = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= PAGE_CACHE_MAX {
            cache.clear();
        }
        Some(cache.entry(key).or_insert(doc).clone())
    }
}

/// One article: title, dates, categories (linking to their pages), source link and body,
/// with autodiscovery of its categories' feeds. `body_html` is already sanitised and inserted
/// as is; a category not in the snapshot's listing is shown without a link.
pub fn article_page(
    article: &Article,
    body_html: &str,
    snapshot: &Snapshot,
    site_title: &str,
    base_url: &str,
) -> String {
    let listing = &snapshot.listing;
    let feeds: Vec<&FeedListing> = article
        .categories
        .iter()
        .filter_map(|name| listing.iter().find(|f| &f.name == name && f.kind == FeedKind::Category))
        .map(|f| &**f)
        .collect();
    // The custom feeds that select this article: discoverable from it like its categories.
    let selected: Vec<&FeedListing> = listing
        .iter()
        .map(|f| &**f)
        .filter(|f| match &f.kind {
            FeedKind::Custom { articles, .. } => articles.iter().any(|a| a.path == article.path),
            FeedKind::All | FeedKind::Category => false,
        })
        .collect();
    let mut out = String::with_capacity(body_html.len() + 8192);
    head(&mut out, &format!("{} — {}", article.title, site_title));
    for f in feeds.iter().chain(&selected) {
        alternates(&mut out, snapshot, f, base_url);
    }
    let _ = write!(
        out,
        "<style>\n{STYLE}</style>\n</head>\n<body>\n<main>\n<article>\n<p class=\"crumbs muted\"><a href=\"{}/\">{}</a></p>\n<h1>{}</h1>\n<p class=\"meta muted\">",
        escape(base_url),
        escape(site_title),
        escape(&article.title)
    );
    let published = article.published.map(|d| d.at);
    let updated = article.updated.map(|d| d.at);
    if let Some((full, day)) = iso_date(published.or(updated)) {
        let _ = write!(out, "<span>Published <time datetime=\"{full}\">{day}</time></span>");
    }
    if let (Some(p), Some(u)) = (published, updated) {
        if u.date_naive() != p.date_naive() {
            if let Some((full, day)) = iso_date(Some(u)) {
                let _ = write!(out, "<span>Updated <time datetime=\"{full}\">{day}</time></span>");
            }
        }
    }
    if let Some(author) = &article.author {
        let _ = write!(out, "<span>{}</span>", escape(author));
    }
    if !article.categories.is_empty() {
        out.push_str("<span>");
        for (i, name) in article.categories.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            match feeds.iter().find(|f| &f.name == name) {
                Some(f) => {
                    let _ = write!(
                        out,
                        "<a href=\"{}\" title=\"Every article of this category, and its feeds\">{}</a>",
                        escape(&category_url(base_url, &f.slug)),
                        escape(name)
                    );
                }
                None => out.push_str(&escape(name)),
            }
        }
        out.push_str("</span>");
    }
    if !selected.is_empty() {
        out.push_str("<span>Selected in ");
        for (i, f) in selected.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let _ = write!(
                out,
                "<a href=\"{}\">{}</a>",
                escape(&category_url(base_url, &f.slug)),
                escape(&f.name)
            );
        }
        out.push_str("</span>");
    }
    if let Some(source) = &article.source {
        let lower = source.to_ascii_lowercase();
        if lower.starts_with("https://") || lower.starts_with("http://") {
            let _ = write!(
                out,
                "<span><a href=\"{}\" rel=\"noopener\">Source</a></span>",
                escape(source)
            );
        } else {
            let _ = write!(out, "<span>Source: {}</span>", escape(source));
        }
    }
    out.push_str("</p>\n");
    out.push_str(body_html);
    let _ = write!(
        out,
        "\n</article>\n</main>\n<footer><a href=\"{}/\">All feeds</a> · <span>{}</span></footer>\n</body>\n</html>\n",
        escape(base_url),
        escape(&crate::site::encode_path(&article.path)),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn article(path: &str, title: &str) -> Arc<Article> {
        Arc::new(Article::stub(path, title))
    }

    fn listing() -> Vec<FeedListing> {
        vec![
            FeedListing {
                slug: "all".into(),
                name: "All articles".into(),
                kind: FeedKind::All,
                count: 3,
                updated: Some(Utc.with_ymd_and_hms(2021, 1, 2, 3, 4, 5).unwrap()),
                latest: vec![article("a.md", "A & B")],
            },
            FeedListing {
                slug: "x".into(),
                name: "<script>alert(1)</script>".into(),
                kind: FeedKind::Category,
                count: 1,
                updated: None,
                latest: vec![],
            },
            FeedListing {
                slug: "喜马拉雅农场新西兰站".into(),
                name: "喜马拉雅农场新西兰站".into(),
                kind: FeedKind::Category,
                count: 2,
                updated: None,
                latest: vec![],
            },
        ]
    }

    fn snapshot() -> Snapshot {
        Snapshot { listing: listing().into_iter().map(Arc::new).collect(), ..Snapshot::default() }
    }

    #[test]
    fn index_page_escapes_and_links() {
        let html = index_page(&snapshot(), "Herald \"test\"", "https://example.org");
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(!html.contains("<script>alert"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("A &amp; B"));
        assert!(html.contains("<title>Herald &quot;test&quot;</title>"));
        assert!(html.contains(
            "<link rel=\"alternate\" type=\"application/rss+xml\" title=\"All articles (RSS)\" href=\"https://example.org/feeds/all.rss\">"
        ));
        assert!(html.contains("type=\"application/atom+xml\" title=\"All articles (Atom)\" href=\"https://example.org/feeds/all.atom\""));
        assert!(html.contains("<a href=\"https://example.org/feeds/index.opml\">"));
        // OPML autodiscovery, in the head.
        let outline = html
            .find("<link rel=\"outline\" type=\"text/x-opml\" title=\"Every feed (OPML)\" href=\"https://example.org/feeds/index.opml\">")
            .expect("the OPML is announced");
        assert!(outline < html.find("</head>").unwrap());
        assert!(html.contains("<time datetime=\"2021-01-02T03:04:05Z\">2021-01-02</time>"));
        // Non-ASCII slugs are percent-encoded in links.
        assert!(html.contains("https://example.org/feeds/%E5%96%9C"));
        assert!(html.contains("href=\"https://example.org/categories/%E5%96%9C"));
        // The `all` autodiscovery link comes first.
        let all = html.find("feeds/all.rss").unwrap();
        let x = html.find("feeds/x.rss").unwrap();
        assert!(all < x);
        // No JSON Feed link until the snapshot serves one.
        assert!(!html.contains("application/feed+json"));
        // The embed snippet is escaped twice: once as HTML, once inside the textarea.
        assert!(html.contains("&amp;lt;script&amp;gt;alert(1)"));
    }

    /// A page built with the cards of earlier publishes is the page built from scratch, after
    /// every kind of change a publish brings.
    #[test]
    fn a_cached_index_page_is_the_page_rendered_whole() {
        let mut cache = IndexCache::default();
        let mut s = snapshot();
        let check = |s: &Snapshot, base: &str, cache: &mut IndexCache, what: &str| {
            let cached = index_page_cached(s, "T", base, cache);
            assert_eq!(cached, index_page(s, "T", base), "{what}");
        };
        check(&s, "https://example.org", &mut cache, "first");
        check(&s, "https://example.org", &mut cache, "unchanged");
        Arc::make_mut(&mut s.listing[0]).latest =
            vec![article("b.md", "Newer"), s.listing[0].latest[0].clone()];
        Arc::make_mut(&mut s.listing[0]).count = 4;
        check(&s, "https://example.org", &mut cache, "an article added to all");
        Arc::make_mut(&mut s.listing[1]).updated =
            Some(Utc.with_ymd_and_hms(2022, 1, 1, 0, 0, 0).unwrap());
        check(&s, "https://example.org", &mut cache, "a category updated");
        // An edited article is a new `Arc` with the same path.
        Arc::make_mut(&mut s.listing[0]).latest[0] = article("b.md", "Newer, edited");
        check(&s, "https://example.org", &mut cache, "a title edited");
        let custom = FeedListing {
            slug: "picked".into(),
            name: "Picked".into(),
            kind: FeedKind::Custom { articles: Arc::from([]), about: "rules".into() },
            count: 0,
            updated: None,
            latest: vec![],
        };
        s.listing.insert(1, Arc::new(custom));
        check(&s, "https://example.org", &mut cache, "a custom feed shifts the card ids");
        s.listing.remove(2);
        check(&s, "https://example.org", &mut cache, "a category gone");
        let json = Arc::new(crate::render::encode::Encoded::new(
            b"{}".to_vec(),
            "application/feed+json",
            Utc::now(),
        ));
        s.feeds.insert("all.json".into(), json);
        check(&s, "https://example.org", &mut cache, "a JSON Feed served");
        check(&s, "https://feeds.example.net", &mut cache, "another base URL");
        assert_eq!(cache.cards.len(), s.listing.len(), "cards of feeds gone are forgotten");
    }

    /// The page a snapshot renders on its first request is the page rendered whole from the
    /// snapshot's settings, rendered once, and its cards serve the next snapshot's page.
    #[test]
    fn a_lazy_index_page_is_rendered_once_from_the_snapshot() {
        let cards: Arc<Mutex<IndexCache>> = Default::default();
        let mut s = snapshot();
        s.settings.site_title = "Lazy & late".into();
        s.settings.base_url = "https://example.org".into();
        let page = IndexPage::lazy(cards.clone());
        let first = page.get(&s).clone();
        let whole = index_page(&s, "Lazy & late", "https://example.org");
        assert_eq!(&first.identity().bytes[..], whole.as_bytes());
        assert_eq!(first.last_modified, s.listing[0].updated.unwrap());
        assert!(Arc::ptr_eq(&first, page.get(&s)), "rendered once");
        assert_eq!(cards.lock().unwrap().cards.len(), s.listing.len());

        Arc::make_mut(&mut s.listing[0]).latest = vec![article("b.md", "Next")];
        let next = IndexPage::lazy(cards).get(&s).clone();
        let whole = index_page(&s, "Lazy & late", "https://example.org");
        assert_eq!(&next.identity().bytes[..], whole.as_bytes());
    }

    #[test]
    fn json_feed_linked_when_served() {
        let mut s = snapshot();
        let doc = Arc::new(Encoded::new(b"{}".to_vec(), "application/feed+json", Utc::now()));
        s.feeds.insert("x.json".into(), doc);
        let html = index_page(&s, "T", "https://example.org");
        assert!(html.contains(
            "<link rel=\"alternate\" type=\"application/feed+json\" title=\"&lt;script&gt;alert(1)&lt;/script&gt; (JSON Feed)\" href=\"https://example.org/feeds/x.json\">"
        ));
        assert!(!html.contains("feeds/all.json"));
    }

    #[test]
    fn custom_feeds_have_their_own_section_and_page() {
        let mut s = snapshot();
        let mut picked = (*article("p.md", "Picked")).clone();
        picked.categories = vec!["x".into()];
        let picked = Arc::new(picked);
        s.listing.insert(
            1,
            Arc::new(FeedListing {
                slug: "picks".into(),
                // Named like a category: it must not be taken for one.
                name: "喜马拉雅农场新西兰站".into(),
                kind: FeedKind::Custom {
                    articles: Arc::from([picked.clone()]),
                    about: "title with \"<b>\" · newest 5".into(),
                },
                count: 1,
                updated: None,
                latest: vec![picked.clone()],
            }),
        );
        s.articles.insert("p.md".into(), picked.clone());
        let html = index_page(&s, "T", "https://example.org");
        let section =
            html.find("<h2>Selected feeds <span class=\"muted\">(1)</span></h2>").unwrap();
        let card = html.find("data-slug=\"picks\"").unwrap();
        let categories = html.find("<h2>Categories").unwrap();
        assert!(section < card && card < categories, "between `all` and the categories");
        assert!(html.contains("<h2>Categories <span class=\"muted\">(2)</span></h2>"));
        assert!(html.contains("href=\"https://example.org/feeds/picks.rss\""));
        assert!(html.contains("href=\"https://example.org/categories/picks\""));
        for n in 0..4 {
            assert_eq!(html.matches(&format!("id=\"url-{n}\"")).count(), 1, "ids unique: {n}");
        }
        assert!(html
            .contains("<p class=\"meta rules\">title with &quot;&lt;b&gt;&quot; · newest 5</p>"));
        let (page, _) = category_page(&s, "picks", 1, "T", "").unwrap();
        assert!(page.contains("<p class=\"meta rules\">title with &quot;&lt;b&gt;&quot;"));
        assert!(page.contains("› selected feed</p>") && page.contains(">Picked</a>"), "{page}");
        let page = article_page(&picked, "", &s, "T", "");
        assert!(page.contains("<link rel=\"alternate\" type=\"application/rss+xml\" title=\"喜马拉雅农场新西兰站 (RSS)\" href=\"/feeds/picks.rss\">"));
        assert!(page.contains("<span>Selected in <a href=\"/categories/picks\">"), "{page}");
        // Named like the category 喜马拉雅农场新西兰站, but not taken for it.
        assert!(!page.contains("/categories/%E5%96%9C"), "{page}");
        let other = article_page(&article("q.md", "Other"), "", &s, "T", "");
        assert!(!other.contains("picks"), "not selected: not linked");
    }

    #[test]
    fn index_page_empty() {
        let html = index_page(&Snapshot::default(), "T", "");
        assert!(html.contains("No feeds yet."));
    }

    #[test]
    fn category_pages_are_paged() {
        let mut s = snapshot();
        let mut articles = imbl::HashMap::new();
        for i in 0..(PAGE_SIZE + 3) {
            let a = Article {
                path: format!("a/{i:03}.md"),
                title: format!("Title {i}"),
                categories: vec!["喜马拉雅农场新西兰站".into()],
                tags: vec![],
                published: Some(crate::article::Dated {
                    at: Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap()
                        + chrono::Duration::days(i as i64),
                    source: crate::article::DateSource::FrontMatter,
                }),
                updated: None,
                source: None,
                author: None,
                summary: format!("Summary <{i}>"),
                identity: crate::article::Identity::Path,
                draft: false,
                body_offset: 0,
                warnings: vec![],
            };
            articles.insert(a.path.clone(), Arc::new(a));
        }
        s.articles = articles;
        let slug = "喜马拉雅农场新西兰站";
        let (first, _) = category_page(&s, slug, 1, "T", "").unwrap();
        let newest = format!("Title {}", PAGE_SIZE + 2);
        assert!(first.find(&newest).unwrap() < first.find("Title 50<").unwrap());
        assert!(first.contains("rel=\"next\""));
        let (second, _) = category_page(&s, slug, 2, "T", "").unwrap();
        assert!(second.contains("Title 0<") && !second.contains(&newest));
        assert!(category_page(&s, slug, 3, "T", "").is_none());
        assert!(category_page(&s, "nope", 1, "T", "").is_none());
    }
}
