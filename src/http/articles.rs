//! `/articles/{path}`: one article rendered from the snapshot (never from a path on disk).

use super::{conditional, decode_path, pages, AppState};
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

/// `GET|HEAD /articles/{path}`. The path is only a key into `snapshot.articles`: `..`,
/// encoded slashes, backslashes or NUL simply are not keys, so they are 404s.
pub(crate) async fn article(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let snapshot = state.snapshot.load_full();
    let raw = req.match_info().get("path").unwrap_or_default();
    let Some(article) = decode_path(raw).and_then(|p| snapshot.articles.get(p.as_ref()).cloned())
    else {
        return super::feeds::not_found(state).await;
    };

    // The body is re-read and rendered from the file: blocking work, off the event loop.
    let source = snapshot.settings.articles.clone();
    let for_render = article.clone();
    let body = match web::block(move || source.body_html(&for_render)).await {
        Ok(Ok(body)) => body,
        Ok(Err(why)) => return render_error(&article.path, &why),
        Err(_) => return render_error(&article.path, "the renderer failed"),
    };
    let settings = &snapshot.settings;
    let html =
        pages::article_page(&article, &body, &snapshot, &settings.site_title, &settings.base_url);

    // A page is cheap to hash; its ETag lets readers revalidate.
    let etag = format!("\"{}\"", &blake3::hash(html.as_bytes()).to_hex().as_str()[..32]);
    let status = if conditional::not_modified(&req, &etag, None) {
        StatusCode::NOT_MODIFIED
    } else {
        StatusCode::OK
    };
    let mut res = HttpResponse::build(status);
    res.insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, settings.cache_control.clone()))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if status == StatusCode::NOT_MODIFIED {
        return res.finish();
    }
    res.insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8")).body(html)
}

fn render_error(path: &str, why: &str) -> HttpResponse {
    tracing::error!(article = path, error = why, "cannot render article");
    HttpResponse::InternalServerError()
        .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(format!("500 Internal Server Error: cannot render article {path}: {why}\n"))
}
