//! HTTP: one route table (`configure`) for production and tests.
//!
//! Every response for a feed or the index page is assembled from bytes and validators computed
//! at publish time (`Encoded`): a request only picks a content-coding, compares validators and
//! clones a reference-counted buffer.
//!
//! | Route                     | Methods             | Answer                                  |
//! |---------------------------|---------------------|-----------------------------------------|
//! | `/`                       | GET, HEAD           | `snapshot.index_page` (503 until built) |
//! | `/feeds/{file}`           | GET, HEAD, OPTIONS  | `snapshot.feeds[file]`, CORS            |
//! | `/feeds/{slug}/archive/{page}` | GET, HEAD, OPTIONS | `snapshot.feeds["{slug}/archive/{page}"]` |
//! | `/articles/{path}`        | GET, HEAD           | `snapshot.articles[path]` rendered      |
//! | `/categories/{slug}`      | GET, HEAD           | a category's (or custom feed's) articles, `?page=N` |
//! | `/embed.js`               | GET, HEAD           | the embed script (static)               |
//! | `/feeds/rss.xsl`, `atom.xsl` | GET, HEAD        | feed stylesheets (static)               |
//! | `/healthz`                | GET, HEAD           | `ok`                                    |
//! | `/metrics`                | GET, HEAD           | Prometheus text format (`crate::metrics`) |
//! | anything else             |                     | 404 listing the feeds                   |
//!
//! A feed, archive page or category page whose slug Herald served before (or that
//! `[feeds.redirects]` names) answers 301 to where it is now, or 410 (`stable.rs`).
//! The production server ([`server_with`]) counts every answer, 404 and 405 included, by
//! route, feed, format and status ([`crate::metrics::HttpCounters`]).

mod articles;
mod browse;
mod conditional;
mod feeds;
pub mod pages;
mod stable;

use actix_web::dev::Service as _;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::{web, App, HttpResponse, HttpServer};
use std::time::Duration;

/// `Cache-Control` of feeds and pages. Feeds change at a fixed URL, so: a short `max-age`, never
/// `immutable`; a shared cache may serve a stale copy while it revalidates for as long again
/// (`stale-while-revalidate`, RFC 5861), and for a day while no Herald answers
/// (`stale-if-error`) — what lets a cache in front ride out a replica's restart. Computed once,
/// when the state is made, not per request.
pub fn cache_control(max_age: std::time::Duration) -> HeaderValue {
    let n = max_age.as_secs();
    HeaderValue::try_from(format!(
        "public, max-age={n}, stale-while-revalidate={n}, stale-if-error=86400"
    ))
    .expect("digits and ASCII letters make a valid header value")
}

/// What the handlers read. Registered by the caller as `web::Data<AppState>`.
pub struct AppState {
    /// The published snapshot; each request loads it once, so it sees one consistent set of
    /// documents and settings.
    pub snapshot: std::sync::Arc<arc_swap::ArcSwap<crate::publish::Snapshot>>,
    /// What `/metrics` reports; the rebuild thread and the request counter share it.
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
}

/// The request-side settings from the configuration. They travel in the snapshot, not in
/// `AppState`, so that a config reload changes them in the same swap as the documents: a
/// request never sees a new title with old feeds, or bodies read from the old content folder.
#[derive(Clone)]
pub struct Settings {
    /// `Cache-Control` of feeds and pages: [`cache_control`] of `server.max_age_seconds`.
    pub cache_control: HeaderValue,
    pub site_title: String,
    /// Absolute base URL, no trailing slash (may be empty: links are then root-relative).
    pub base_url: String,
    /// Renders article bodies for `/articles/{path}`.
    pub articles: std::sync::Arc<dyn crate::publish::ArticleSource>,
}

impl Settings {
    /// The settings of `cfg`, bodies rendered by `articles`.
    pub fn new(
        cfg: &crate::config::Config,
        articles: std::sync::Arc<dyn crate::publish::ArticleSource>,
    ) -> Settings {
        Settings {
            cache_control: cache_control(cfg.server.max_age),
            site_title: cfg.site.title.clone(),
            base_url: cfg.site.base_url.clone(),
            articles,
        }
    }
}

/// The config defaults; article bodies cannot be rendered (there is no content folder).
impl Default for Settings {
    fn default() -> Self {
        Settings {
            cache_control: cache_control(Duration::from_secs(300)),
            site_title: "Herald".into(),
            base_url: String::new(),
            articles: std::sync::Arc::new(NoBodies),
        }
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("cache_control", &self.cache_control)
            .field("site_title", &self.site_title)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// The article source of [`Settings::default`].
struct NoBodies;

impl crate::publish::ArticleSource for NoBodies {
    fn body_html(&self, _: &crate::article::Article) -> Result<String, String> {
        Err("no content folder is configured".into())
    }
}

/// Methods the feed resources answer (the `Allow` of a 405 and of a preflight).
const FEED_METHODS: &str = "GET, HEAD, OPTIONS";
/// Methods the page resources answer.
const PAGE_METHODS: &str = "GET, HEAD";

pub(crate) use crate::site::SEGMENT;

/// The single route table, shared by the production server and the tests.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // Pages for people and assets (browse.rs): before `/feeds/{file}`, which would match the
    // stylesheets.
    cfg.configure(browse::routes);
    cfg.service(
        web::resource("/")
            .route(web::get().to(feeds::index))
            .route(web::head().to(feeds::index))
            .default_service(web::to(page_method_not_allowed)),
    )
    .service(
        web::resource("/healthz")
            .route(web::get().to(healthz))
            .route(web::head().to(healthz))
            .default_service(web::to(page_method_not_allowed)),
    )
    .service(
        web::resource("/metrics")
            .route(web::get().to(metrics))
            .route(web::head().to(metrics))
            .default_service(web::to(page_method_not_allowed)),
    )
    .service(
        web::resource("/feeds/{file}")
            .route(web::get().to(feeds::feed))
            .route(web::head().to(feeds::feed))
            .route(web::method(Method::OPTIONS).to(feeds::preflight))
            .default_service(web::to(feed_method_not_allowed)),
    )
    .service(
        web::resource("/feeds/{slug}/archive/{page}")
            .route(web::get().to(feeds::archive))
            .route(web::head().to(feeds::archive))
            .route(web::method(Method::OPTIONS).to(feeds::preflight))
            .default_service(web::to(feed_method_not_allowed)),
    )
    .service(
        web::resource("/articles/{path:.*}")
            .route(web::get().to(articles::article))
            .route(web::head().to(articles::article))
            .default_service(web::to(page_method_not_allowed)),
    )
    .default_service(web::to(feeds::not_found));
}

/// Server timeouts (`[server]` in the config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// The request head must arrive within this (slowloris).
    pub request: Duration,
    /// Idle keep-alive connections are closed after this; zero disables keep-alive.
    pub keep_alive: Duration,
    /// Graceful shutdown: in-flight requests get this long.
    pub shutdown: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            request: Duration::from_secs(5),
            keep_alive: Duration::from_secs(30),
            shutdown: Duration::from_secs(10),
        }
    }
}

impl From<&crate::config::Server> for Timeouts {
    fn from(s: &crate::config::Server) -> Self {
        Timeouts {
            request: s.request_timeout,
            keep_alive: s.keep_alive,
            shutdown: s.shutdown_timeout,
        }
    }
}

/// The production server with the default timeouts.
pub fn server(
    state: web::Data<AppState>,
    listener: std::net::TcpListener,
) -> std::io::Result<actix_web::dev::Server> {
    server_with(state, listener, Timeouts::default())
}

/// The production server: `configure` behind bounded workers and timeouts that keep slow or
/// idle clients from holding connections. SIGTERM and SIGINT stop it gracefully.
pub fn server_with(
    state: web::Data<AppState>,
    listener: std::net::TcpListener,
    timeouts: Timeouts,
) -> std::io::Result<actix_web::dev::Server> {
    let keep_alive = if timeouts.keep_alive.is_zero() {
        actix_web::http::KeepAlive::Disabled
    } else {
        actix_web::http::KeepAlive::Timeout(timeouts.keep_alive)
    };
    let server = HttpServer::new(move || {
        let metrics = state.metrics.clone();
        App::new()
            .app_data(state.clone())
            .wrap_fn(move |req, srv| {
                let answer = srv.call(req);
                let metrics = metrics.clone();
                async move {
                    let res = answer.await?;
                    count(&metrics, &res);
                    Ok(res)
                }
            })
            .configure(configure)
    })
    .workers(2)
    // Connections per worker; feeds are small and answered from memory.
    .max_connections(4096)
    // Idle keep-alive connections are closed after this.
    .keep_alive(keep_alive)
    // The request head must arrive within this (slowloris).
    .client_request_timeout(timeouts.request)
    // A closing client gets this long to acknowledge the shutdown.
    .client_disconnect_timeout(Duration::from_secs(2))
    // Graceful shutdown: in-flight requests get this many seconds.
    .shutdown_timeout(timeouts.shutdown.as_secs())
    .listen(listener)?
    .run();
    Ok(server)
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body("ok\n")
}

/// `GET|HEAD /metrics`: every metric in the Prometheus text format. Never cached: each
/// scrape must see the counters as they are.
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(state.metrics.encode())
}

/// Count one answer in the request metrics: its body bytes as sent (none for HEAD, whose
/// body actix drops).
fn count<B: actix_web::body::MessageBody>(
    metrics: &crate::metrics::Metrics,
    res: &actix_web::dev::ServiceResponse<B>,
) {
    let bytes = match res.response().body().size() {
        _ if res.request().method() == Method::HEAD => 0,
        actix_web::body::BodySize::Sized(n) => n,
        _ => 0,
    };
    metrics.http().record(res.request().path(), res.status().as_u16(), bytes);
}

async fn feed_method_not_allowed() -> HttpResponse {
    method_not_allowed(FEED_METHODS)
}

async fn page_method_not_allowed() -> HttpResponse {
    method_not_allowed(PAGE_METHODS)
}

fn method_not_allowed(allow: &'static str) -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, HeaderValue::from_static(allow)))
        .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(format!("405 Method Not Allowed: use {allow}\n"))
}

/// Percent-decode a matched path value. actix has decoded everything but `%`, `/` and `+`
/// (kept encoded so the match is unambiguous); decoding once more yields the single decoding
/// of the original. `None` if the result is not UTF-8.
pub(crate) fn decode_path(raw: &str) -> Option<std::borrow::Cow<'_, str>> {
    percent_encoding::percent_decode_str(raw).decode_utf8().ok()
}

/// `{base_url}/feeds/{file}` with the file name percent-encoded.
pub(crate) fn feed_url(base_url: &str, file: &str) -> String {
    format!("{base_url}/feeds/{}", percent_encoding::utf8_percent_encode(file, SEGMENT))
}
