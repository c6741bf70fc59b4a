//! Pages for people: `/categories/{slug}` and the static assets Herald serves itself
//! (`/embed.js`, the feed stylesheets `/feeds/rss.xsl` and `/feeds/atom.xsl`).

use super::feeds::serve_encoded;
use super::{decode_path, pages, AppState, PAGE_METHODS};
use crate::render::encode::Encoded;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{TimeZone, Utc};
use std::sync::OnceLock;

/// `Cache-Control` of the assets: they change only with a new Herald version, and their
/// ETag lets a client revalidate after a day.
const ASSET_CACHE: &str = "public, max-age=86400";

/// The routes of this module; registered before `/feeds/{file}` so the stylesheets win.
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(page("/categories/{slug}", web::get().to(category), web::head().to(category)))
        .service(page("/embed.js", web::get().to(embed_js), web::head().to(embed_js)))
        .service(page("/feeds/rss.xsl", web::get().to(rss_xsl), web::head().to(rss_xsl)))
        .service(page("/feeds/atom.xsl", web::get().to(atom_xsl), web::head().to(atom_xsl)));
}

fn page(path: &str, get: actix_web::Route, head: actix_web::Route) -> actix_web::Resource {
    web::resource(path)
        .route(get)
        .route(head)
        .default_service(web::to(|| async { super::method_not_allowed(PAGE_METHODS) }))
}

/// `?page=N` (absent: 1). `None` for anything but a positive number.
fn page_number(query: &str) -> Option<usize> {
    let mut page = 1;
    for pair in query.split('&') {
        if let Some(value) = pair.strip_prefix("page=") {
            page = value.parse().ok().filter(|&n| n > 0)?;
        }
    }
    Some(page)
}

/// `GET|HEAD /categories/{slug}[?page=N]`: 404 for an unknown slug or a page past the end.
pub(crate) async fn category(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let snapshot = state.snapshot.load_full();
    let raw = req.match_info().get("slug").unwrap_or_default();
    // An old slug answers 301 or 410 whatever the page asked for.
    if let Some(res) = decode_path(raw)
        .and_then(|slug| super::stable::category(&snapshot.settings, &snapshot, &slug, &req))
    {
        return res;
    }
    let (Some(slug), Some(page)) = (decode_path(raw), page_number(req.query_string())) else {
        return super::feeds::not_found(state).await;
    };
    let doc = snapshot.page_cache.get_or_render(&slug, page, || {
        let settings = &snapshot.settings;
        let (html, updated) =
            pages::category_page(&snapshot, &slug, page, &settings.site_title, &settings.base_url)?;
        Some(Encoded::new(html.into_bytes(), "text/html; charset=utf-8", updated))
    });
    match doc {
        Some(doc) => serve_encoded(&req, &doc, &snapshot.settings.cache_control, false),
        None => super::feeds::not_found(state).await,
    }
}

/// A static asset with its validators, computed once.
fn asset(
    cell: &'static OnceLock<Encoded>,
    body: &'static str,
    content_type: &'static str,
) -> &'static Encoded {
    cell.get_or_init(|| {
        // Changes only with the binary; any fixed time gives If-Modified-Since something.
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        Encoded::new(body.as_bytes().to_vec(), content_type, at)
    })
}

fn serve_asset(req: &HttpRequest, doc: &Encoded) -> HttpResponse {
    serve_encoded(req, doc, &HeaderValue::from_static(ASSET_CACHE), true)
}

/// `GET|HEAD /embed.js`: renders a feed's newest titles into another site's page.
pub(crate) async fn embed_js(req: HttpRequest) -> HttpResponse {
    static DOC: OnceLock<Encoded> = OnceLock::new();
    let doc = asset(&DOC, include_str!("assets/embed.js"), "text/javascript; charset=utf-8");
    serve_asset(&req, doc)
}

/// `GET|HEAD /feeds/rss.xsl`: shows an RSS feed as a page in a browser.
pub(crate) async fn rss_xsl(req: HttpRequest) -> HttpResponse {
    static DOC: OnceLock<Encoded> = OnceLock::new();
    let doc = asset(&DOC, include_str!("assets/rss.xsl"), "text/xsl; charset=utf-8");
    serve_asset(&req, doc)
}

/// `GET|HEAD /feeds/atom.xsl`: shows an Atom feed as a page in a browser.
pub(crate) async fn atom_xsl(req: HttpRequest) -> HttpResponse {
    static DOC: OnceLock<Encoded> = OnceLock::new();
    let doc = asset(&DOC, include_str!("assets/atom.xsl"), "text/xsl; charset=utf-8");
    serve_asset(&req, doc)
}

/// Browsers show `application/rss+xml` and `application/atom+xml` as plain text (Chromium)
/// or offer a download, and so never apply the feed's stylesheet. A request that asks for
/// HTML and names no feed type (a person following a link) gets the same bytes labelled
/// `application/xml`, which browsers transform; feed readers name feed types in `Accept`, or
/// parse `application/xml` just as well. Only documents that carry a stylesheet are touched.
pub(crate) fn for_browsers(
    req: &HttpRequest,
    doc: &Encoded,
    mut res: HttpResponse,
) -> HttpResponse {
    if !doc.has_stylesheet() {
        return res;
    }
    res.headers_mut().insert(header::VARY, HeaderValue::from_static("Accept-Encoding, Accept"));
    let accept = req
        .headers()
        .get_all(header::ACCEPT)
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",")
        .to_ascii_lowercase();
    let page = accept.contains("text/html")
        && !["rss+xml", "atom+xml", "feed+json", "rdf+xml"].iter().any(|t| accept.contains(t));
    if page && res.headers().contains_key(header::CONTENT_TYPE) {
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml; charset=utf-8"),
        );
    }
    res
}

#[cfg(test)]
mod tests {
    use super::page_number;

    #[test]
    fn page_numbers() {
        assert_eq!(page_number(""), Some(1));
        assert_eq!(page_number("page=3"), Some(3));
        assert_eq!(page_number("x=1&page=2"), Some(2));
        assert_eq!(page_number("page=0"), None);
        assert_eq!(page_number("page=-1"), None);
        assert_eq!(page_number("page=abc"), None);
    }
}
