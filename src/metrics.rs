//! Prometheus metrics (`GET /metrics`): requests and bytes by route, feed, format and status;
//! rebuilds, their duration and the latency from a file changing to the feeds being current;
//! what the site holds.
//!
//! The serving path only touches atomics: a request's labels come from its path (a fixed set
//! of routes and formats, a feed slug only when it names a published feed), its counters are
//! found without locks or allocation (an [`ArcSwap`] map of the published slugs, refreshed at
//! publish time, and fixed arrays per status code Herald sends). Anything a client controls
//! that is not a published feed counts as `feed="unknown"`, so the number of series is bounded
//! by the content, never by requests. Everything else is a `prometheus-client` metric.

use arc_swap::ArcSwap;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};
use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// `Content-Type` of `/metrics`: the Prometheus text exposition format, version 0.0.4.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Bucket bounds (seconds) of the rebuild and change-to-current histograms: an edit takes
/// milliseconds, a `git pull` of thousands of files or a cold build of a large archive tens
/// of seconds.
const BUCKETS: [f64; 15] =
    [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// The `feed` label of a request for a feed that is not published.
pub const UNKNOWN_FEED: &str = "unknown";

/// What a request was for: the `route` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    /// `/`
    Index,
    /// `/feeds/{slug}.{rss,atom,json}` and `/feeds/index.opml`
    Feed,
    /// `/feeds/{slug}/archive/{n}.{rss,atom}`
    Archive,
    /// `/categories/{slug}`
    Category,
    /// `/articles/{path}`
    Article,
    /// `/embed.js`, `/feeds/rss.xsl`, `/feeds/atom.xsl`
    Asset,
    Healthz,
    Metrics,
    /// Anything unrouted.
    Other,
}

impl Route {
    const ALL: [Route; 9] = [
        Route::Index,
        Route::Feed,
        Route::Archive,
        Route::Category,
        Route::Article,
        Route::Asset,
        Route::Healthz,
        Route::Metrics,
        Route::Other,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Route::Index => "index",
            Route::Feed => "feed",
            Route::Archive => "archive",
            Route::Category => "category",
            Route::Article => "article",
            Route::Asset => "asset",
            Route::Healthz => "healthz",
            Route::Metrics => "metrics",
            Route::Other => "other",
        }
    }

    fn is_feed(self) -> bool {
        matches!(self, Route::Feed | Route::Archive)
    }
}

/// The format of a feed document: the `format` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Rss,
    Atom,
    Json,
    Opml,
}

impl Format {
    const ALL: [Format; 4] = [Format::Rss, Format::Atom, Format::Json, Format::Opml];

    pub fn label(self) -> &'static str {
        match self {
            Format::Rss => "rss",
            Format::Atom => "atom",
            Format::Json => "json",
            Format::Opml => "opml",
        }
    }

    /// Split `news.rss` into `("news", Some(Rss))`; a name without a feed extension is all
    /// slug and no format.
    fn split(name: &str) -> (&str, Option<Format>) {
        for format in Format::ALL {
            if let Some(stem) = name.strip_suffix(format.label()).and_then(|s| s.strip_suffix('.'))
            {
                return (stem, Some(format));
            }
        }
        (name, None)
    }

    fn index(format: Option<Format>) -> usize {
        format.map_or(Format::ALL.len(), |f| f as usize)
    }
}

/// The labels a request path gives, before its feed slug is checked against the published
/// feeds. Pure, so the mapping is tested on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target<'a> {
    pub route: Route,
    /// The candidate slug (percent-decoded) for feed and archive routes.
    pub feed: Option<Cow<'a, str>>,
    pub format: Option<Format>,
}

/// Classify a request path (as received, percent-encoded) the way the route table does.
pub fn classify<'a>(path: &'a str) -> Target<'a> {
    let page = |route| Target { route, feed: None, format: None };
    match path {
        "/" => return page(Route::Index),
        "/healthz" => return page(Route::Healthz),
        "/metrics" => return page(Route::Metrics),
        "/embed.js" | "/feeds/rss.xsl" | "/feeds/atom.xsl" => return page(Route::Asset),
        _ => {}
    }
    if path.strip_prefix("/categories/").is_some_and(|s| !s.is_empty() && !s.contains('/')) {
        return page(Route::Category);
    }
    if path.starts_with("/articles/") {
        return page(Route::Article);
    }
    let Some(rest) = path.strip_prefix("/feeds/") else { return page(Route::Other) };
    let decode = |s: &'a str| percent_encoding::percent_decode_str(s).decode_utf8().ok();
    let mut segments = rest.splitn(4, '/');
    match (segments.next(), segments.next(), segments.next(), segments.next()) {
        (Some(file), None, None, None) if !file.is_empty() => {
            let (slug, format) = Format::split(file);
            Target { route: Route::Feed, feed: decode(slug), format }
        }
        (Some(slug), Some("archive"), Some(file), None) if !slug.is_empty() && !file.is_empty() => {
            let format = Format::split(file).1;
            Target { route: Route::Archive, feed: decode(slug), format }
        }
        _ => page(Route::Other),
    }
}

/// The status codes Herald's routes answer with; each has its own counter slot. Anything
/// else (actix's own answers) goes to the slower [`HttpCounters::rare`] list.
const STATUSES: [u16; 8] = [200, 204, 304, 400, 404, 405, 500, 503];
const STATUS_LABELS: [&str; 8] = ["200", "204", "304", "400", "404", "405", "500", "503"];

fn status_slot(status: u16) -> Option<usize> {
    STATUSES.iter().position(|&s| s == status)
}

/// Requests and body bytes of one label set.
#[derive(Debug, Default)]
struct Cell {
    requests: AtomicU64,
    bytes: AtomicU64,
}

impl Cell {
    fn add(&self, bytes: u64) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }
}

/// One cell per status code.
#[derive(Debug, Default)]
struct ByStatus([Cell; STATUSES.len()]);

/// The cells of one feed: feed and archive routes × formats (and none).
#[derive(Debug, Default)]
struct FeedCells([[ByStatus; Format::ALL.len() + 1]; 2]);

impl FeedCells {
    fn by_status(&self, route: Route, format: Option<Format>) -> &ByStatus {
        &self.0[usize::from(route == Route::Archive)][Format::index(format)]
    }
}

/// Labels of a request answered with an uncommon status.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RareKey {
    route: Route,
    feed: Option<String>,
    format: Option<Format>,
    status: u16,
}

/// Request counters by route, feed, format and status. See the module documentation.
#[derive(Debug, Default)]
pub struct HttpCounters {
    pages: [ByStatus; Route::ALL.len()],
    /// Every slug ever published (series of a vanished feed stay: counters never go back).
    feeds: ArcSwap<rustc_hash::FxHashMap<String, Arc<FeedCells>>>,
    unknown: FeedCells,
    rare: Mutex<Vec<(RareKey, u64, u64)>>,
}

impl HttpCounters {
    /// Count one answered request. `bytes`: the body bytes sent (0 for HEAD and 304).
    pub fn record(&self, path: &str, status: u16, bytes: u64) {
        let target = classify(path);
        let Some(slot) = status_slot(status) else {
            return self.record_rare(target, status, bytes);
        };
        if !target.route.is_feed() {
            return self.pages[target.route as usize].0[slot].add(bytes);
        }
        let feeds = self.feeds.load();
        // A 404 means no such document whatever the slug: an archive page past the end, a
        // format that does not exist, a category that is gone.
        let known = match &target.feed {
            Some(slug) if status != 404 => feeds.get(slug.as_ref()),
            _ => None,
        };
        let cells = known.map_or(&self.unknown, |c| &**c);
        cells.by_status(target.route, target.format).0[slot].add(bytes);
    }

    #[cold]
    fn record_rare(&self, target: Target<'_>, status: u16, bytes: u64) {
        let feed = target.route.is_feed().then(|| {
            let feeds = self.feeds.load();
            match &target.feed {
                Some(slug) if status < 400 && feeds.contains_key(slug.as_ref()) => slug.to_string(),
                _ => UNKNOWN_FEED.to_string(),
            }
        });
        let key = RareKey { route: target.route, feed, format: target.format, status };
        let mut rare = self.rare.lock().unwrap_or_else(|e| e.into_inner());
        match rare.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, requests, total)) => {
                *requests += 1;
                *total += bytes;
            }
            None => rare.push((key, 1, bytes)),
        }
    }

    /// Make room for the published feeds' slugs (called before a snapshot is served, so
    /// every feed a request can get has its counters).
    pub fn add_feeds<'a>(&self, slugs: impl IntoIterator<Item = &'a str>) {
        let current = self.feeds.load();
        let new: Vec<&str> = slugs.into_iter().filter(|s| !current.contains_key(*s)).collect();
        if new.is_empty() {
            return;
        }
        let mut map = (**current).clone();
        for slug in new {
            map.entry(slug.to_string()).or_default();
        }
        self.feeds.store(Arc::new(map));
    }

    /// Every non-zero series: `(labels, requests, bytes)`, in a stable order.
    fn series(&self) -> Vec<(Labels, u64, u64)> {
        let mut out = Vec::new();
        let mut push = |route: Route, feed: Option<&str>, format: Option<Format>, by: &ByStatus| {
            for (i, cell) in by.0.iter().enumerate() {
                let requests = cell.requests.load(Ordering::Relaxed);
                if requests > 0 {
                    let labels = labels(route, feed, format, STATUS_LABELS[i]);
                    out.push((labels, requests, cell.bytes.load(Ordering::Relaxed)));
                }
            }
        };
        for route in Route::ALL.into_iter().filter(|r| !r.is_feed()) {
            push(route, None, None, &self.pages[route as usize]);
        }
        let feeds = self.feeds.load();
        let mut slugs: Vec<&String> = feeds.keys().collect();
        slugs.sort();
        let named = slugs.into_iter().map(|s| (s.as_str(), &*feeds[s]));
        for (slug, cells) in named.chain([(UNKNOWN_FEED, &self.unknown)]) {
            for route in [Route::Feed, Route::Archive] {
                for format in Format::ALL.map(Some).into_iter().chain([None]) {
                    push(route, Some(slug), format, cells.by_status(route, format));
                }
            }
        }
        let rare = self.rare.lock().unwrap_or_else(|e| e.into_inner());
        for (key, requests, bytes) in rare.iter() {
            let status = key.status.to_string();
            out.push((
                labels(key.route, key.feed.as_deref(), key.format, &status),
                *requests,
                *bytes,
            ));
        }
        out
    }
}

/// The label set of one series.
type Labels = Vec<(&'static str, String)>;

/// The label set of one series; absent labels are left out (Prometheus treats a missing
/// label and an empty one alike).
fn labels(route: Route, feed: Option<&str>, format: Option<Format>, status: &str) -> Labels {
    let mut out = vec![("route", route.label().to_string())];
    if let Some(feed) = feed {
        out.push(("feed", feed.to_string()));
    }
    if let Some(format) = format {
        out.push(("format", format.label().to_string()));
    }
    out.push(("status", status.to_string()));
    out
}

impl Collector for HttpCounters {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let series = self.series();
        let mut requests = encoder.encode_descriptor(
            "http_requests",
            "HTTP requests answered, by route, feed slug, format and status code.",
            None,
            MetricType::Counter,
        )?;
        for (labels, n, _) in &series {
            ConstCounter::new(*n).encode(requests.encode_family(labels)?)?;
        }
        let mut bytes = encoder.encode_descriptor(
            "http_response",
            "Body bytes sent (as encoded: compressed when compressed; none for HEAD and 304).",
            Some(&Unit::Bytes),
            MetricType::Counter,
        )?;
        for (labels, _, n) in &series {
            ConstCounter::new(*n).encode(bytes.encode_family(labels)?)?;
        }
        Ok(())
    }
}

/// How a rebuild ended: the `outcome` label of `herald_rebuilds_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Error,
    Panic,
}

type OutcomeLabel = [(&'static str, &'static str); 1];

/// What the site holds after a publish, for the gauges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Content {
    pub articles: usize,
    pub categories: usize,
    /// Warnings over all files, as `herald check` counts them.
    pub warnings: usize,
    /// Files skipped (not articles, drafts or index pages).
    pub skipped: usize,
    /// `all` and one per category.
    pub feeds: usize,
    /// Documents served under `/feeds/` (every format, archive pages, the OPML list).
    pub feed_documents: usize,
    /// Those held uncompressed: rendered since the feeds were last quiet.
    pub whole_documents: usize,
}

impl Content {
    /// Read off a site and the snapshot made from it.
    pub fn of(site: &crate::site::Site, snapshot: &crate::publish::Snapshot) -> Content {
        let crate::site::ReportTotals { warnings, skipped } = site.report_totals();
        Content {
            articles: site.index().len(),
            categories: site.index().categories().count(),
            warnings,
            skipped,
            feeds: snapshot.listing.len(),
            feed_documents: snapshot.feeds.len(),
            whole_documents: site.whole_count(),
        }
    }
}

/// Every metric Herald exports. Shared by the HTTP workers and the rebuild thread.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    http: Arc<HttpCounters>,
    rebuilds: [Counter; 3],
    /// `applied`, `rejected`: edits of the watched config file.
    config_reloads: [Counter; 2],
    rebuild_seconds: Histogram,
    change_to_current: Histogram,
    articles: Gauge,
    categories: Gauge,
    warnings: Gauge,
    skipped: Gauge,
    feeds: Gauge,
    feed_documents: Gauge,
    whole_documents: Gauge,
    last_success: Gauge<f64, AtomicU64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("herald");
        let http = Arc::new(HttpCounters::default());
        registry.register_collector(Box::new(http.clone()));

        let outcomes = Family::<OutcomeLabel, Counter>::default();
        // Every outcome from the start, so a rate over `error` is 0, not absent.
        let rebuilds =
            ["ok", "error", "panic"].map(|o| outcomes.get_or_create_owned(&[("outcome", o)]));
        registry.register(
            "rebuilds",
            "Rebuilds by outcome: ok (a new snapshot is served; the start-up build included), error, panic (the last good feeds stay served)",
            outcomes,
        );
        let reloads = Family::<OutcomeLabel, Counter>::default();
        let config_reloads =
            ["applied", "rejected"].map(|o| reloads.get_or_create_owned(&[("outcome", o)]));
        registry.register(
            "config_reloads",
            "Edits of the watched config file: applied (a new configuration is served), rejected (invalid or unreadable; the running configuration stays)",
            reloads,
        );
        let rebuild_seconds = Histogram::new(BUCKETS);
        registry.register_with_unit(
            "rebuild_duration",
            "Time from a change set's arrival (or the start) to its snapshot being served",
            Unit::Seconds,
            rebuild_seconds.clone(),
        );
        let change_to_current = Histogram::new(BUCKETS);
        registry.register_with_unit(
            "change_to_current",
            "Time from the first filesystem event of a change set to the feeds that include it being served (debounce included)",
            Unit::Seconds,
            change_to_current.clone(),
        );
        let gauge = |registry: &mut Registry, name: &str, help: &str| {
            let gauge = Gauge::default();
            registry.register(name, help, gauge.clone());
            gauge
        };
        let articles = gauge(&mut registry, "articles", "Articles in the served feeds");
        let categories = gauge(&mut registry, "categories", "Categories with at least one article");
        let warnings = gauge(
            &mut registry,
            "warnings",
            "Warnings over all files, as herald check counts them",
        );
        let skipped = gauge(
            &mut registry,
            "skipped_files",
            "Files skipped as unreadable or not an article (herald check lists why)",
        );
        let feeds = gauge(
            &mut registry,
            "feeds",
            "Feeds served: all, the custom feeds and one per category",
        );
        let feed_documents = gauge(
            &mut registry,
            "feed_documents",
            "Documents under /feeds/: every format of every feed, archive pages, the OPML list",
        );
        let whole_documents = gauge(
            &mut registry,
            "feed_documents_uncompressed",
            "Feed documents held uncompressed in memory: rendered since the feeds were last quiet \
             for 2 s, after which they are held gzip-compressed only",
        );
        let last_success = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "last_rebuild_success_timestamp_seconds",
            "Unix time of the last rebuild whose snapshot was served",
            last_success.clone(),
        );
        registry.register(
            "build",
            "The running Herald",
            Info::new([("version", env!("CARGO_PKG_VERSION"))]),
        );
        Metrics {
            registry,
            http,
            rebuilds,
            config_reloads,
            rebuild_seconds,
            change_to_current,
            articles,
            categories,
            warnings,
            skipped,
            feeds,
            feed_documents,
            whole_documents,
            last_success,
        }
    }

    /// The request counters (the HTTP middleware records into them).
    pub fn http(&self) -> &HttpCounters {
        &self.http
    }

    /// `snapshot`, made from `site`, is about to be served: count the rebuild, observe its
    /// durations, set the gauges, and make room for new feeds' request counters.
    /// `changed_at`: the first filesystem event it includes, if a change set caused it.
    pub fn published(
        &self,
        site: &crate::site::Site,
        snapshot: &crate::publish::Snapshot,
        took: Duration,
        changed_at: Option<Instant>,
    ) {
        let opml = crate::site::OPML_FILE.strip_suffix(".opml").unwrap_or("index");
        let slugs = snapshot.listing.iter().map(|l| l.slug.as_str()).chain([opml]);
        self.record_publish(Content::of(site, snapshot), slugs, took, changed_at);
    }

    /// [`Metrics::published`] with what it reads off the site given.
    pub fn record_publish(
        &self,
        content: Content,
        slugs: impl IntoIterator<Item = impl AsRef<str>>,
        took: Duration,
        changed_at: Option<Instant>,
    ) {
        let slugs: Vec<_> = slugs.into_iter().collect();
        self.http.add_feeds(slugs.iter().map(|s| s.as_ref()));
        let set = |gauge: &Gauge, n: usize| gauge.set(i64::try_from(n).unwrap_or(i64::MAX));
        set(&self.articles, content.articles);
        set(&self.categories, content.categories);
        set(&self.warnings, content.warnings);
        set(&self.skipped, content.skipped);
        set(&self.feeds, content.feeds);
        set(&self.feed_documents, content.feed_documents);
        self.held_whole(content.whole_documents);
        self.rebuild_seconds.observe(took.as_secs_f64());
        if let Some(at) = changed_at {
            self.change_to_current.observe(at.elapsed().as_secs_f64());
        }
        let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
        self.last_success.set(now.as_secs_f64());
        self.rebuilds[0].inc();
    }

    /// `n` feed documents are held uncompressed (the others were packed once quiet).
    pub fn held_whole(&self, n: usize) {
        self.whole_documents.set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// An edit of the config file was applied (`true`) or rejected.
    pub fn config_reload(&self, applied: bool) {
        self.config_reloads[usize::from(!applied)].inc();
    }

    /// A rebuild failed; the last good snapshot stays served.
    pub fn failed(&self, outcome: Outcome) {
        self.rebuilds[outcome as usize].inc();
    }

    /// The exposition text of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(4096);
        prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(path: &str) -> (Route, Option<String>, Option<Format>) {
        let t = classify(path);
        (t.route, t.feed.map(|f| f.into_owned()), t.format)
    }

    #[test]
    fn paths_map_to_routes() {
        assert_eq!(t("/"), (Route::Index, None, None));
        assert_eq!(t("/healthz"), (Route::Healthz, None, None));
        assert_eq!(t("/metrics"), (Route::Metrics, None, None));
        assert_eq!(t("/embed.js"), (Route::Asset, None, None));
        assert_eq!(t("/feeds/rss.xsl"), (Route::Asset, None, None));
        assert_eq!(t("/feeds/atom.xsl"), (Route::Asset, None, None));
        assert_eq!(t("/categories/news"), (Route::Category, None, None));
        assert_eq!(t("/articles/posts/a.md"), (Route::Article, None, None));
        for other in ["/nope", "/feeds/", "/feeds/a/b", "/feeds/a/archive/", "/metrics/x", "//"] {
            assert_eq!(t(other), (Route::Other, None, None), "{other}");
        }
    }

    #[test]
    fn feed_paths_give_slug_and_format() {
        assert_eq!(t("/feeds/news.rss"), (Route::Feed, Some("news".into()), Some(Format::Rss)));
        assert_eq!(t("/feeds/all.atom"), (Route::Feed, Some("all".into()), Some(Format::Atom)));
        assert_eq!(t("/feeds/a.b.json"), (Route::Feed, Some("a.b".into()), Some(Format::Json)));
        assert_eq!(t("/feeds/index.opml"), (Route::Feed, Some("index".into()), Some(Format::Opml)));
        assert_eq!(t("/feeds/news.xml"), (Route::Feed, Some("news.xml".into()), None));
        assert_eq!(t("/feeds/rss"), (Route::Feed, Some("rss".into()), None));
        assert_eq!(t("/feeds/%E5%96%9C.rss"), (Route::Feed, Some("喜".into()), Some(Format::Rss)));
        assert_eq!(
            t("/feeds/news/archive/3.atom"),
            (Route::Archive, Some("news".into()), Some(Format::Atom))
        );
        // Not UTF-8 once decoded: no slug at all, so it can only count as unknown.
        assert_eq!(t("/feeds/%FF.rss"), (Route::Feed, None, Some(Format::Rss)));
    }

    /// The labels a request path can produce are bounded by the published slugs: hostile
    /// paths all land in `feed="unknown"` or a fixed route.
    #[test]
    fn hostile_paths_stay_bounded() {
        let http = HttpCounters::default();
        http.add_feeds(["news", "all", "index"]);
        let paths = [
            "/feeds/news.rss",
            "/feeds/random-1.rss",
            "/feeds/random-2.atom",
            "/feeds/../../etc/passwd",
            "/feeds/news/archive/999.rss",
            "/feeds/%00.rss",
            "/feeds/news.rss?x=1",
            "/x/y/z",
            "/categories/../../x",
        ];
        for (i, path) in paths.iter().enumerate() {
            let status = if i == 0 { 200 } else { 404 };
            http.record(path, status, 10);
        }
        http.record("/feeds/news.rss", 304, 0);
        http.record("/feeds/all.json", 200, 5);
        let series = http.series();
        let feeds: std::collections::BTreeSet<&str> = series
            .iter()
            .flat_map(|(l, _, _)| l.iter().filter(|(k, _)| *k == "feed").map(|(_, v)| v.as_str()))
            .collect();
        assert_eq!(feeds, ["all", "news", "unknown"].into());
        let find = |want: &[(&str, &str)]| -> (u64, u64) {
            let (_, r, b) = series
                .iter()
                .find(|(l, _, _)| {
                    l.len() == want.len()
                        && l.iter().zip(want).all(|(a, b)| a.0 == b.0 && a.1 == b.1)
                })
                .unwrap_or_else(|| panic!("no series {want:?} in {series:?}"));
            (*r, *b)
        };
        let news = [("route", "feed"), ("feed", "news"), ("format", "rss")];
        assert_eq!(find(&[news[0], news[1], news[2], ("status", "200")]), (1, 10));
        assert_eq!(find(&[news[0], news[1], news[2], ("status", "304")]), (1, 0));
        assert_eq!(
            find(&[("route", "feed"), ("feed", "all"), ("format", "json"), ("status", "200")]),
            (1, 5)
        );
        assert_eq!(
            find(&[("route", "feed"), ("feed", "unknown"), ("format", "rss"), ("status", "404")]),
            (2, 20)
        );
        assert_eq!(find(&[("route", "other"), ("status", "404")]), (3, 30));
    }

    #[test]
    fn uncommon_statuses_keep_their_code() {
        let http = HttpCounters::default();
        http.record("/feeds/x.rss", 418, 3);
        http.record("/feeds/x.rss", 418, 4);
        http.record("/", 206, 1);
        let series = http.series();
        assert!(series.iter().any(|(l, r, b)| {
            l.contains(&("feed", "unknown".into()))
                && l.contains(&("status", "418".into()))
                && *r == 2
                && *b == 7
        }));
        assert!(series.iter().any(|(l, r, _)| l.contains(&("status", "206".into())) && *r == 1));
    }

    #[test]
    fn exposition_has_every_metric() {
        let m = Metrics::new();
        m.http().record("/healthz", 200, 3);
        m.record_publish(
            Content { articles: 7, categories: 2, ..Content::default() },
            ["all"],
            Duration::from_millis(12),
            Some(Instant::now()),
        );
        m.failed(Outcome::Panic);
        m.config_reload(false);
        let text = m.encode();
        for line in [
            "# TYPE herald_http_requests_total counter",
            "herald_http_requests_total{route=\"healthz\",status=\"200\"} 1",
            "herald_http_response_bytes_total{route=\"healthz\",status=\"200\"} 3",
            "herald_rebuilds_total{outcome=\"ok\"} 1",
            "herald_rebuilds_total{outcome=\"error\"} 0",
            "herald_rebuilds_total{outcome=\"panic\"} 1",
            "herald_config_reloads_total{outcome=\"applied\"} 0",
            "herald_config_reloads_total{outcome=\"rejected\"} 1",
            "# TYPE herald_rebuild_duration_seconds histogram",
            "herald_rebuild_duration_seconds_bucket{le=\"0.025\"} 1",
            "herald_rebuild_duration_seconds_bucket{le=\"0.01\"} 0",
            "herald_rebuild_duration_seconds_count 1",
            "herald_change_to_current_seconds_count 1",
            "herald_articles 7",
            "herald_categories 2",
            "herald_warnings 0",
            "herald_skipped_files 0",
            "herald_feeds 0",
            "herald_feed_documents 0",
            &format!("herald_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION")),
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
        let stamp = text
            .lines()
            .find_map(|l| l.strip_prefix("herald_last_rebuild_success_timestamp_seconds "))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap();
        assert!(stamp > 1.7e9, "{stamp}");
    }
}
