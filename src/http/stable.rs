//! Old URLs of feeds and category pages: `301 Moved Permanently` to where the category is
//! now, `410 Gone` when it is no more (see `crate::redirects`). Asked only when the URL is
//! not served; a slug never served stays a 404.

use super::{feed_url, pages, Settings};
use crate::publish::Snapshot;
use crate::redirects::Answer;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};

/// `Cache-Control` of a redirect: long enough that readers and caches stop asking, short
/// enough that a slug taken into use again is seen within a day.
const MOVED_CACHE: &str = "public, max-age=86400";
/// Formats of a live feed and of an archive page.
const LIVE_EXTS: [&str; 3] = ["rss", "atom", "json"];
const PAGE_EXTS: [&str; 2] = ["rss", "atom"];

/// `/feeds/{slug}.{ext}` (`file` decoded) that is not served.
pub(crate) fn feed(settings: &Settings, snapshot: &Snapshot, file: &str) -> Option<HttpResponse> {
    let (slug, ext) = file.rsplit_once('.')?;
    if !LIVE_EXTS.contains(&ext) {
        return None;
    }
    let answer = snapshot.redirects.get(slug)?;
    Some(respond(settings, answer, &format!("The feed {file}"), true, |to| {
        feed_url(&settings.base_url, &format!("{to}.{ext}"))
    }))
}

/// `/feeds/{slug}/archive/{n}.{ext}` that is not served: to the same page of the new feed,
/// or to its live feed when the new feed has no such page (a merge into a larger category
/// numbers its pages differently).
pub(crate) fn archive(
    settings: &Settings,
    snapshot: &Snapshot,
    slug: &str,
    page: &str,
) -> Option<HttpResponse> {
    let (n, ext) = page.rsplit_once('.')?;
    let number = n.parse::<usize>().is_ok_and(|v| v > 0 && v.to_string() == n);
    if !number || !PAGE_EXTS.contains(&ext) {
        return None;
    }
    let answer = snapshot.redirects.get(slug)?;
    let what = format!("Archive page {page} of the feed {slug}");
    Some(respond(settings, answer, &what, true, |to| {
        let same_page = format!("{to}/archive/{page}");
        if snapshot.feeds.contains_key(&same_page) {
            format!("{}/feeds/{}", settings.base_url, crate::site::encode_path(&same_page))
        } else {
            feed_url(&settings.base_url, &format!("{to}.{ext}"))
        }
    }))
}

/// `/categories/{slug}[?query]` that is not served; the query (`?page=N`) is kept.
pub(crate) fn category(
    settings: &Settings,
    snapshot: &Snapshot,
    slug: &str,
    req: &HttpRequest,
) -> Option<HttpResponse> {
    let answer = snapshot.redirects.get(slug)?;
    let query = req.query_string();
    Some(respond(settings, answer, &format!("The category page {slug}"), false, |to| {
        let url = pages::category_url(&settings.base_url, to);
        if query.is_empty() {
            url
        } else {
            format!("{url}?{query}")
        }
    }))
}

fn respond(
    settings: &Settings,
    answer: &Answer,
    what: &str,
    cors: bool,
    location: impl FnOnce(&str) -> String,
) -> HttpResponse {
    let mut res = match answer {
        Answer::Moved(to) => moved(what, &location(to)),
        Answer::Gone(name) => gone(settings, what, name),
    };
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if cors {
        // A cross-origin reader (the embed script) may follow the redirect or read the 410
        // only if these answers allow it too.
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    }
    res
}

fn moved(what: &str, location: &str) -> HttpResponse {
    let Ok(value) = HeaderValue::from_str(location) else {
        // Cannot happen (the URL is percent-encoded ASCII) but never a panic: say where.
        return HttpResponse::NotFound()
            .body(format!("404 Not Found\n\n{what} is now at {location}\n"));
    };
    HttpResponse::MovedPermanently()
        .insert_header((header::LOCATION, value))
        .insert_header((header::CACHE_CONTROL, MOVED_CACHE))
        .body(format!(
            "301 Moved Permanently\n\n{what} is now at {location}\nPlease update your subscription or link.\n"
        ))
}

fn gone(settings: &Settings, what: &str, name: &str) -> HttpResponse {
    let base = &settings.base_url;
    // Cached like a feed: readers poll a dead feed for years; a cache in front answers them.
    HttpResponse::Gone().insert_header((header::CACHE_CONTROL, settings.cache_control.clone())).body(
        format!(
            "410 Gone\n\n{what} (category {name:?}) is gone: the category has no articles any more.\n\
             Every feed is listed at {base}/ and, as an OPML subscription list, at {base}/feeds/index.opml\n"
        ),
    )
}
