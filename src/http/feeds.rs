//! Feeds and the index page: precomputed `Encoded` documents served with conditional GET.

use super::{conditional, decode_path, feed_url, AppState, FEED_METHODS};
use crate::publish::{FeedKind, Snapshot};
use crate::render::encode::{self, Encoded};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use std::borrow::Cow;
use std::fmt::Write as _;

/// Request headers a cross-origin reader may send (the preflight's answer when it asks for
/// none or for something unparseable).
const SAFE_REQUEST_HEADERS: &str = "If-None-Match, If-Modified-Since";
/// Longest `Access-Control-Request-Headers` echoed back.
const MAX_REQUEST_HEADERS_ECHO: usize = 1024;

/// `GET|HEAD /feeds/{file}`.
pub(crate) async fn feed(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let snapshot = state.snapshot.load();
    let raw = req.match_info().get("file").unwrap_or_default();
    let Some(name) = decode_path(raw) else { return not_found_response(&snapshot) };
    match snapshot.feeds.get(name.as_ref()) {
        Some(doc) => super::browse::for_browsers(
            &req,
            doc,
            serve_encoded(&req, doc, &snapshot.settings.cache_control, true),
        ),
        None => super::stable::feed(&snapshot.settings, &snapshot, &name)
            .unwrap_or_else(|| not_found_response(&snapshot)),
    }
}

/// `GET|HEAD /feeds/{slug}/archive/{page}`: an archive page (RFC 5005), `{page}` being
/// `{n}.rss` or `{n}.atom`.
pub(crate) async fn archive(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let snapshot = state.snapshot.load();
    let slug = req.match_info().get("slug").and_then(decode_path);
    let page = req.match_info().get("page").and_then(decode_path);
    let (Some(slug), Some(page)) = (slug, page) else {
        return not_found_response(&snapshot);
    };
    match snapshot.feeds.get(&format!("{slug}/archive/{page}")) {
        Some(doc) => serve_encoded(&req, doc, &snapshot.settings.cache_control, true),
        None => super::stable::archive(&snapshot.settings, &snapshot, &slug, &page)
            .unwrap_or_else(|| not_found_response(&snapshot)),
    }
}

/// `Cache-Control` of complete archive pages: they never change when articles are added.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `GET|HEAD /`.
pub(crate) async fn index(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let snapshot = state.snapshot.load();
    match &snapshot.index_page {
        Some(page) => {
            serve_encoded(&req, page.get(&snapshot), &snapshot.settings.cache_control, false)
        }
        None => HttpResponse::ServiceUnavailable()
            .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::RETRY_AFTER, "5"))
            .body(
                "503 Service Unavailable: the feeds are still building, retry in a few seconds.\n",
            ),
    }
}

/// `OPTIONS /feeds/{file}`: the CORS preflight (also a plain OPTIONS).
pub(crate) async fn preflight(req: HttpRequest) -> HttpResponse {
    let requested = req
        .headers()
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= MAX_REQUEST_HEADERS_ECHO && is_token_list(s));
    let allow_headers = match requested {
        Some(s) => {
            HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static(SAFE_REQUEST_HEADERS))
        }
        None => HeaderValue::from_static(SAFE_REQUEST_HEADERS),
    };
    HttpResponse::NoContent()
        .insert_header((header::ALLOW, FEED_METHODS))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, FEED_METHODS))
        .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, allow_headers))
        .insert_header((header::ACCESS_CONTROL_MAX_AGE, "86400"))
        // The answer echoes the request's header list, so caches must key on it.
        .insert_header((header::VARY, "Access-Control-Request-Headers"))
        .finish()
}

/// A comma-separated list of header names (RFC 9110 tokens).
fn is_token_list(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric() || b" \t,!#$%&'*+-.^_`|~".contains(&b))
}

/// Anything unrouted, and unknown feeds: 404 saying where the feeds are.
pub(crate) async fn not_found(state: web::Data<AppState>) -> HttpResponse {
    not_found_response(&state.snapshot.load())
}

fn not_found_response(snapshot: &Snapshot) -> HttpResponse {
    let base = &snapshot.settings.base_url;
    let mut body = String::from("404 Not Found\n\n");
    let _ = writeln!(body, "The list of feeds is at {base}/");
    let _ = writeln!(
        body,
        "Every article: {base}/feeds/all.rss (RSS 2.0), {base}/feeds/all.atom (Atom 1.0), {base}/feeds/all.json (JSON Feed 1.1)"
    );
    let _ = writeln!(body, "Every feed as an OPML subscription list: {base}/feeds/index.opml");
    let custom: Vec<_> =
        snapshot.listing.iter().filter(|f| matches!(f.kind, FeedKind::Custom { .. })).collect();
    let categories: Vec<_> =
        snapshot.listing.iter().filter(|f| f.kind == FeedKind::Category).collect();
    for (heading, feeds) in [("Selected feeds", custom), ("Feeds by category", categories)] {
        if feeds.is_empty() {
            continue;
        }
        let _ = writeln!(body, "\n{heading}:");
        for f in feeds {
            let plural = if f.count == 1 { "" } else { "s" };
            let _ = writeln!(body, "  {} ({} article{plural})", f.name, f.count);
            let _ = writeln!(body, "    {}", feed_url(base, &format!("{}.rss", f.slug)));
            let _ = writeln!(body, "    {}", feed_url(base, &format!("{}.atom", f.slug)));
            let _ = writeln!(body, "    {}", feed_url(base, &format!("{}.json", f.slug)));
        }
    }
    HttpResponse::NotFound()
        .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(body)
}

/// Serve one precomputed document: pick the coding, evaluate preconditions, send 200 or 304.
/// `cache_control` applies unless the document is immutable; `cors` adds the headers a
/// cross-origin feed reader needs.
pub(crate) fn serve_encoded(
    req: &HttpRequest,
    doc: &Encoded,
    cache_control: &HeaderValue,
    cors: bool,
) -> HttpResponse {
    let coding = encode::choose(accept_encoding(req).as_deref());
    let etag = doc.etag(coding);
    let status = if conditional::not_modified(req, etag, Some(doc.last_modified)) {
        StatusCode::NOT_MODIFIED
    } else {
        StatusCode::OK
    };

    let mut res = HttpResponse::build(status);
    // Validators and caching metadata: identical on 200 and 304 (RFC 9110 §15.4.5).
    res.insert_header((header::ETAG, etag))
        .insert_header((header::LAST_MODIFIED, doc.last_modified_header.clone()))
        .insert_header((
            header::CACHE_CONTROL,
            if doc.immutable { HeaderValue::from_static(IMMUTABLE) } else { cache_control.clone() },
        ))
        .insert_header((header::VARY, "Accept-Encoding"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    // WebSub discovery: on 304 too, it is metadata of the resource like the validators.
    if let Some(link) = &doc.link {
        res.insert_header((header::LINK, link.clone()));
    }
    if cors {
        res.insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")).insert_header((
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            if doc.link.is_some() { "ETag, Last-Modified, Link" } else { "ETag, Last-Modified" },
        ));
    }
    if status == StatusCode::NOT_MODIFIED {
        return res.finish();
    }
    res.insert_header((header::CONTENT_TYPE, doc.content_type));
    if let Some(coding) = coding.content_encoding() {
        res.insert_header((header::CONTENT_ENCODING, coding));
    }
    // HEAD: actix writes the Content-Length of this body and omits the body itself (a packed
    // archive page is inflated for it: rare enough not to keep its length aside).
    res.body(doc.bytes(coding))
}

/// The request's `Accept-Encoding`, its field lines joined when it has several.
fn accept_encoding(req: &HttpRequest) -> Option<Cow<'_, str>> {
    let mut values = req.headers().get_all(header::ACCEPT_ENCODING).filter_map(|v| v.to_str().ok());
    let first = values.next()?;
    let rest: Vec<&str> = values.collect();
    if rest.is_empty() {
        Some(Cow::Borrowed(first))
    } else {
        let mut joined = first.to_owned();
        for r in rest {
            joined.push_str(", ");
            joined.push_str(r);
        }
        Some(Cow::Owned(joined))
    }
}
