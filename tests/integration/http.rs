//! The HTTP layer end to end: a real server on 127.0.0.1:0, a real HTTP client (awc without
//! decompression, so the bytes on the wire are checked), and a snapshot built by hand.

use actix_web::dev::ServerHandle;
use actix_web::http::{header, Method, StatusCode};
use actix_web::web;
use arc_swap::ArcSwap;
use awc::Client;
use chrono::{DateTime, TimeZone, Utc};
use herald::article::{Article, DateSource, Dated, Identity};
use herald::http::{pages, AppState, Settings};
use herald::publish::{ArticleSource, FeedKind, FeedListing, Snapshot};
use herald::render::encode::Encoded;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

const CHINESE: &str = "喜马拉雅农场新西兰站";
const RSS: &str = "application/rss+xml; charset=utf-8";
const ATOM: &str = "application/atom+xml; charset=utf-8";

fn updated() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2021, 1, 15, 8, 30, 0).unwrap()
}

fn rss_body(title: &str) -> Vec<u8> {
    // Long enough that compression is worth it and differs from identity.
    let mut s = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>{title}</title>"
    );
    for i in 0..40 {
        s.push_str(&format!(
            "<item><title>Item {i} of {title}</title><guid>tag:x,2021:{i}</guid></item>"
        ));
    }
    s.push_str("</channel></rss>\n");
    s.into_bytes()
}

fn listing() -> Vec<FeedListing> {
    vec![
        FeedListing {
            slug: "all".into(),
            name: "All articles".into(),
            kind: FeedKind::All,
            count: 2,
            updated: Some(updated()),
            latest: vec![article("gnews/2021/01/740024.md", "Hello")],
        },
        FeedListing {
            slug: CHINESE.into(),
            name: CHINESE.into(),
            kind: FeedKind::Category,
            count: 1,
            updated: Some(updated()),
            latest: vec![article("gnews/2021/01/740024.md", "Hello")],
        },
        FeedListing {
            slug: "news".into(),
            name: "<script>News</script>".into(),
            kind: FeedKind::Category,
            count: 1,
            updated: Some(updated()),
            latest: vec![],
        },
    ]
}

fn article(path: &str, title: &str) -> Arc<Article> {
    Arc::new(Article {
        path: path.into(),
        title: title.into(),
        categories: vec![CHINESE.into(), "<script>News</script>".into()],
        tags: vec![],
        published: Some(Dated { at: updated(), source: DateSource::FrontMatter }),
        updated: None,
        source: Some("https://example.org/source?a=1&b=2".into()),
        author: None,
        summary: String::new(),
        identity: Identity::Path,
        draft: false,
        body_offset: 0,
        warnings: vec![],
    })
}

fn snapshot(with_index: bool) -> Snapshot {
    let mut feeds = HashMap::new();
    feeds.insert("all.rss".to_string(), Arc::new(Encoded::new(rss_body("all"), RSS, updated())));
    feeds.insert(
        "all.atom".to_string(),
        Arc::new(Encoded::new(rss_body("all atom"), ATOM, updated())),
    );
    feeds.insert(
        format!("{CHINESE}.rss"),
        Arc::new(Encoded::new(rss_body(CHINESE), RSS, updated())),
    );
    feeds.insert("news.rss".to_string(), Arc::new(Encoded::new(rss_body("news"), RSS, updated())));
    let mut articles = imbl::HashMap::new();
    for a in [article("gnews/2021/01/740024.md", "Hello <world>"), article("broken.md", "Broken")] {
        articles.insert(a.path.clone(), a);
    }
    articles.insert(format!("{CHINESE}/文章.md"), article(&format!("{CHINESE}/文章.md"), "中文"));
    let mut snapshot = Snapshot {
        feeds: feeds.into(),
        listing: listing().into_iter().map(Arc::new).collect(),
        articles,
        ..Snapshot::default()
    };
    snapshot.index_page = with_index.then(|| {
        pages::IndexPage::rendered(Encoded::new(
            pages::index_page(&snapshot, "Herald test", "http://feeds.example").into_bytes(),
            "text/html; charset=utf-8",
            updated(),
        ))
    });
    snapshot
}

struct Bodies;

impl ArticleSource for Bodies {
    fn body_html(&self, article: &Article) -> Result<String, String> {
        if article.path == "broken.md" {
            Err("file vanished".into())
        } else {
            Ok(format!("<p>Body of {}</p>", article.path))
        }
    }
}

fn state(with_index: bool) -> web::Data<AppState> {
    let mut snapshot = snapshot(with_index);
    snapshot.settings = Settings {
        cache_control: herald::http::cache_control(Duration::from_secs(300)),
        site_title: "Herald test".into(),
        base_url: "http://feeds.example".into(),
        articles: Arc::new(Bodies),
    };
    web::Data::new(AppState {
        snapshot: Arc::new(ArcSwap::from_pointee(snapshot)),
        metrics: Default::default(),
    })
}

struct TestServer {
    base: String,
    addr: std::net::SocketAddr,
    handle: ServerHandle,
    client: Client,
}

impl TestServer {
    async fn start(with_index: bool) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = herald::http::server(state(with_index), listener).unwrap();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        let client = Client::builder().timeout(Duration::from_secs(10)).finish();
        let srv = TestServer { base: format!("http://{addr}"), addr, handle, client };
        // The server starts its workers once its future is first polled: wait until it answers,
        // so tests that write to the socket synchronously find it running.
        let (status, _, _) = srv.get("/healthz", &[]).await;
        assert_eq!(status, StatusCode::OK);
        srv
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (StatusCode, header::HeaderMap, Vec<u8>) {
        let mut req = self.client.request(method, self.url(path));
        for (k, v) in headers {
            req = req.insert_header((*k, *v));
        }
        let mut res = req.send().await.expect("request");
        let body = res.body().limit(1 << 20).await.expect("body").to_vec();
        (res.status(), res.headers().clone(), body)
    }

    async fn get(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (StatusCode, header::HeaderMap, Vec<u8>) {
        self.send(Method::GET, path, headers).await
    }

    async fn stop(self) {
        self.handle.stop(true).await;
    }
}

fn h<'a>(headers: &'a header::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|v| v.to_str().unwrap())
}

fn doc(name: &str) -> Arc<Encoded> {
    snapshot(false).feeds.get(name).unwrap().clone()
}

fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).unwrap();
    out
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(bytes, 4096).read_to_end(&mut out).unwrap();
    out
}

#[actix_web::test]
async fn feed_200_has_every_header() {
    let srv = TestServer::start(true).await;
    let (status, hs, body) = srv.get("/feeds/all.rss", &[]).await;
    let d = doc("all.rss");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, d.identity().bytes.to_vec());
    assert_eq!(h(&hs, "content-type"), Some(RSS));
    assert_eq!(h(&hs, "etag"), Some(d.identity_etag()));
    assert_eq!(h(&hs, "last-modified"), Some("Fri, 15 Jan 2021 08:30:00 GMT"));
    assert_eq!(
        h(&hs, "cache-control"),
        Some("public, max-age=300, stale-while-revalidate=300, stale-if-error=86400")
    );
    assert_eq!(h(&hs, "vary"), Some("Accept-Encoding"));
    assert_eq!(h(&hs, "content-encoding"), None);
    assert_eq!(h(&hs, "x-content-type-options"), Some("nosniff"));
    assert_eq!(h(&hs, "access-control-allow-origin"), Some("*"));
    assert_eq!(h(&hs, "access-control-expose-headers"), Some("ETag, Last-Modified"));
    assert_eq!(h(&hs, "content-length"), Some(body.len().to_string().as_str()));
    assert!(hs.contains_key("date"));

    let (status, hs, _) = srv.get("/feeds/all.atom", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h(&hs, "content-type"), Some(ATOM));
    srv.stop().await;
}

#[actix_web::test]
async fn if_none_match_gives_304() {
    let srv = TestServer::start(true).await;
    let d = doc("all.rss");
    let etag = d.identity_etag();
    let weak = format!("W/{etag}");
    let list = format!("\"nope\", {weak}, \"other\"");
    for inm in [etag, weak.as_str(), list.as_str(), "*"] {
        let (status, hs, body) = srv.get("/feeds/all.rss", &[("If-None-Match", inm)]).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "If-None-Match: {inm}");
        assert!(body.is_empty());
        assert_eq!(h(&hs, "etag"), Some(etag));
        assert_eq!(h(&hs, "vary"), Some("Accept-Encoding"));
        assert_eq!(
            h(&hs, "cache-control"),
            Some("public, max-age=300, stale-while-revalidate=300, stale-if-error=86400")
        );
        assert_eq!(h(&hs, "last-modified"), Some("Fri, 15 Jan 2021 08:30:00 GMT"));
        assert_eq!(h(&hs, "access-control-allow-origin"), Some("*"));
        assert_eq!(h(&hs, "access-control-expose-headers"), Some("ETag, Last-Modified"));
    }
    // Not a match: full response.
    let (status, _, body) = srv.get("/feeds/all.rss", &[("If-None-Match", "\"nope\"")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, d.identity().bytes.to_vec());
    // The ETag of another coding does not validate this one (strict: the selected representation).
    let (status, _, _) =
        srv.get("/feeds/all.rss", &[("If-None-Match", d.gzip().etag.as_str())]).await;
    assert_eq!(status, StatusCode::OK);
    srv.stop().await;
}

#[actix_web::test]
async fn if_none_match_per_coding_and_304_carries_vary() {
    let srv = TestServer::start(true).await;
    let d = doc("all.rss");
    let (status, hs, body) = srv
        .get(
            "/feeds/all.rss",
            &[("Accept-Encoding", "gzip"), ("If-None-Match", d.gzip().etag.as_str())],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    assert_eq!(h(&hs, "etag"), Some(d.gzip().etag.as_str()));
    assert_eq!(h(&hs, "vary"), Some("Accept-Encoding"));
    assert_eq!(h(&hs, "content-encoding"), None);
    // The identity ETag does not validate the gzip representation.
    let (status, hs, _) = srv
        .get("/feeds/all.rss", &[("Accept-Encoding", "gzip"), ("If-None-Match", d.identity_etag())])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h(&hs, "content-encoding"), Some("gzip"));
    srv.stop().await;
}

#[actix_web::test]
async fn if_modified_since() {
    let srv = TestServer::start(true).await;
    let equal = http_date(updated());
    let later = http_date(updated() + chrono::Duration::seconds(1));
    let earlier = http_date(updated() - chrono::Duration::seconds(1));
    for (ims, want) in [
        (equal.as_str(), StatusCode::NOT_MODIFIED),
        (later.as_str(), StatusCode::NOT_MODIFIED),
        (earlier.as_str(), StatusCode::OK),
        ("not a date", StatusCode::OK),
        // RFC 850 and asctime forms are HTTP-dates too.
        ("Friday, 15-Jan-21 08:30:00 GMT", StatusCode::NOT_MODIFIED),
        ("Fri Jan 15 08:30:00 2021", StatusCode::NOT_MODIFIED),
    ] {
        let (status, hs, body) = srv.get("/feeds/all.rss", &[("If-Modified-Since", ims)]).await;
        assert_eq!(status, want, "If-Modified-Since: {ims}");
        assert_eq!(body.is_empty(), want == StatusCode::NOT_MODIFIED);
        assert_eq!(h(&hs, "etag"), Some(doc("all.rss").identity_etag()));
    }
    // If-None-Match wins: no match + a later If-Modified-Since → 200.
    let (status, _, _) = srv
        .get(
            "/feeds/all.rss",
            &[("If-None-Match", "\"nope\""), ("If-Modified-Since", later.as_str())],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    srv.stop().await;
}

#[actix_web::test]
async fn head_has_headers_and_no_body() {
    let srv = TestServer::start(true).await;
    let d = doc("all.rss");
    let (status, hs, body) = srv.send(Method::HEAD, "/feeds/all.rss", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.is_empty());
    assert_eq!(h(&hs, "content-length"), Some(d.identity().bytes.len().to_string().as_str()));
    assert_eq!(h(&hs, "etag"), Some(d.identity_etag()));
    assert_eq!(h(&hs, "content-type"), Some(RSS));
    assert_eq!(h(&hs, "vary"), Some("Accept-Encoding"));

    let (status, hs, body) =
        srv.send(Method::HEAD, "/feeds/all.rss", &[("Accept-Encoding", "br")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.is_empty());
    assert_eq!(h(&hs, "content-encoding"), Some("br"));
    assert_eq!(h(&hs, "content-length"), Some(d.br().bytes.len().to_string().as_str()));

    let (status, _, body) =
        srv.send(Method::HEAD, "/feeds/all.rss", &[("If-None-Match", d.identity_etag())]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    srv.stop().await;
}

#[actix_web::test]
async fn content_codings() {
    let srv = TestServer::start(true).await;
    let d = doc("all.rss");
    let identity = d.identity().bytes.to_vec();

    let (_, hs, body) = srv.get("/feeds/all.rss", &[("Accept-Encoding", "gzip")]).await;
    assert_eq!(h(&hs, "content-encoding"), Some("gzip"));
    assert_eq!(h(&hs, "etag"), Some(d.gzip().etag.as_str()));
    assert_eq!(h(&hs, "vary"), Some("Accept-Encoding"));
    assert!(body.len() < identity.len());
    assert_eq!(gunzip(&body), identity);

    let (_, hs, body) =
        srv.get("/feeds/all.rss", &[("Accept-Encoding", "gzip, deflate, br")]).await;
    assert_eq!(h(&hs, "content-encoding"), Some("br"));
    assert_eq!(h(&hs, "etag"), Some(d.br().etag.as_str()));
    assert_eq!(unbrotli(&body), identity);

    let (_, hs, body) = srv.get("/feeds/all.rss", &[("Accept-Encoding", "br;q=0, gzip")]).await;
    assert_eq!(h(&hs, "content-encoding"), Some("gzip"));
    assert_eq!(gunzip(&body), identity);

    let (_, hs, body) = srv.get("/feeds/all.rss", &[("Accept-Encoding", "identity")]).await;
    assert_eq!(h(&hs, "content-encoding"), None);
    assert_eq!(h(&hs, "etag"), Some(d.identity_etag()));
    assert_eq!(body, identity);
    srv.stop().await;
}

#[actix_web::test]
async fn unknown_feed_404_lists_feeds() {
    let srv = TestServer::start(true).await;
    for path in ["/feeds/nope.rss", "/feeds/all.xml", "/nowhere", "/feeds/"] {
        let (status, hs, body) = srv.get(path, &[]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        let body = String::from_utf8(body).unwrap();
        assert!(h(&hs, "content-type").unwrap().starts_with("text/plain"));
        assert!(body.contains("http://feeds.example/\n"), "{body}");
        assert!(body.contains("http://feeds.example/feeds/all.rss"), "{body}");
        assert!(body.contains("http://feeds.example/feeds/all.atom"), "{body}");
        assert!(body.contains("http://feeds.example/feeds/news.rss"), "{body}");
        assert!(body.contains(CHINESE), "{body}");
        assert!(body.contains("http://feeds.example/feeds/%E5%96%9C"), "{body}");
    }
    srv.stop().await;
}

#[actix_web::test]
async fn other_methods_405_with_allow() {
    let srv = TestServer::start(true).await;
    for method in [Method::POST, Method::PUT, Method::DELETE, Method::PATCH] {
        let (status, hs, _) = srv.send(method.clone(), "/feeds/all.rss", &[]).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(h(&hs, "allow"), Some("GET, HEAD, OPTIONS"));
    }
    let (status, hs, _) = srv.send(Method::POST, "/", &[]).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(h(&hs, "allow"), Some("GET, HEAD"));
    srv.stop().await;
}

#[actix_web::test]
async fn cors_preflight() {
    let srv = TestServer::start(true).await;
    let (status, hs, body) = srv
        .send(
            Method::OPTIONS,
            "/feeds/all.atom",
            &[
                ("Origin", "https://reader.example"),
                ("Access-Control-Request-Method", "GET"),
                ("Access-Control-Request-Headers", "if-none-match, x-custom"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(body.is_empty());
    assert_eq!(h(&hs, "access-control-allow-origin"), Some("*"));
    assert_eq!(h(&hs, "access-control-allow-methods"), Some("GET, HEAD, OPTIONS"));
    assert_eq!(h(&hs, "access-control-allow-headers"), Some("if-none-match, x-custom"));
    assert_eq!(h(&hs, "access-control-max-age"), Some("86400"));

    let (status, hs, _) = srv
        .send(
            Method::OPTIONS,
            "/feeds/all.atom",
            &[("Origin", "https://reader.example"), ("Access-Control-Request-Method", "GET")],
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(h(&hs, "access-control-allow-headers"), Some("If-None-Match, If-Modified-Since"));
    srv.stop().await;
}

#[actix_web::test]
async fn chinese_slug_percent_encoded() {
    let srv = TestServer::start(true).await;
    let encoded: String =
        percent_encoding::utf8_percent_encode(CHINESE, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
    let (status, hs, body) = srv.get(&format!("/feeds/{encoded}.rss"), &[]).await;
    assert_eq!(status, StatusCode::OK);
    let d = doc(&format!("{CHINESE}.rss"));
    assert_eq!(body, d.identity().bytes.to_vec());
    assert_eq!(h(&hs, "etag"), Some(d.identity_etag()));
    // Lower-case percent-encoding too.
    let (status, _, _) = srv.get(&format!("/feeds/{}.rss", encoded.to_lowercase()), &[]).await;
    assert_eq!(status, StatusCode::OK);
    // An article under a Chinese folder.
    let art: String = format!("{CHINESE}/文章.md")
        .split('/')
        .map(|s| {
            percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
        })
        .collect::<Vec<_>>()
        .join("/");
    let (status, _, body) = srv.get(&format!("/articles/{art}"), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8(body).unwrap().contains("中文"));
    srv.stop().await;
}

#[actix_web::test]
async fn path_traversal_is_404_never_500() {
    let srv = TestServer::start(true).await;
    for path in [
        "/articles/../Cargo.toml",
        "/articles/%2e%2e/Cargo.toml",
        "/articles/%2E%2E%2FCargo.toml",
        "/articles/gnews%2F..%2F..%2Fetc%2Fpasswd",
        "/articles/..%5C..%5Cwindows",
        "/articles/gnews/2021/01/740024.md%00",
        "/articles/%00",
        "/articles/%ff%fe",
        "/articles/",
        "/articles//etc/passwd",
        "/feeds/..%2Fall.rss",
        "/feeds/%2e%2e",
        "/feeds/%00.rss",
        "/feeds/%ff.rss",
        "/../../etc/passwd",
    ] {
        let (status, _, _) = srv.get(path, &[]).await;
        assert!(
            status == StatusCode::NOT_FOUND || status == StatusCode::BAD_REQUEST,
            "{path}: {status}"
        );
    }
    // Raw bytes that an HTTP client library would refuse to send.
    for target in ["/articles/..\\..\\x", "/articles/a\\b", "/feeds/\\all.rss"] {
        let status = raw_status(srv.addr, target);
        assert!(status == 404 || status == 400, "{target}: {status}");
    }
    // The server still works.
    let (status, _, _) = srv.get("/healthz", &[]).await;
    assert_eq!(status, StatusCode::OK);
    srv.stop().await;
}

/// Status code of a GET written by hand on a socket.
fn raw_status(addr: std::net::SocketAddr, target: &str) -> u16 {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
}

#[actix_web::test]
async fn healthz() {
    let srv = TestServer::start(false).await;
    let (status, hs, body) = srv.get("/healthz", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, b"ok\n");
    assert!(h(&hs, "content-type").unwrap().starts_with("text/plain"));
    assert_eq!(h(&hs, "cache-control"), Some("no-store"));
    srv.stop().await;
}

#[actix_web::test]
async fn index_page_served_with_caching() {
    let srv = TestServer::start(true).await;
    let (status, hs, body) = srv.get("/", &[("Accept-Encoding", "gzip")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h(&hs, "content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(h(&hs, "content-encoding"), Some("gzip"));
    assert_eq!(
        h(&hs, "cache-control"),
        Some("public, max-age=300, stale-while-revalidate=300, stale-if-error=86400")
    );
    assert_eq!(h(&hs, "vary"), Some("Accept-Encoding"));
    let html = String::from_utf8(gunzip(&body)).unwrap();
    assert!(html.contains("http://feeds.example/feeds/all.atom"));
    assert!(html.contains("&lt;script&gt;News&lt;/script&gt;"));
    // The page's own inline script aside, nothing from the content becomes a script.
    assert!(!html.contains("<script>News"));
    let etag = h(&hs, "etag").unwrap().to_owned();
    let (status, _, body) =
        srv.get("/", &[("Accept-Encoding", "gzip"), ("If-None-Match", etag.as_str())]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    srv.stop().await;
}

#[actix_web::test]
async fn index_503_until_built() {
    let srv = TestServer::start(false).await;
    let (status, hs, _) = srv.get("/", &[]).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(h(&hs, "cache-control"), Some("no-store"));
    assert!(hs.contains_key("retry-after"));
    srv.stop().await;
}

#[actix_web::test]
async fn article_pages() {
    let srv = TestServer::start(true).await;
    let (status, hs, body) = srv.get("/articles/gnews/2021/01/740024.md", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h(&hs, "content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(
        h(&hs, "cache-control"),
        Some("public, max-age=300, stale-while-revalidate=300, stale-if-error=86400")
    );
    let html = String::from_utf8(body).unwrap();
    assert!(html.contains("<h1>Hello &lt;world&gt;</h1>"), "{html}");
    assert!(html.contains("<p>Body of gnews/2021/01/740024.md</p>"));
    assert!(html.contains("2021-01-15"));
    assert!(html.contains("href=\"https://example.org/source?a=1&amp;b=2\""));
    assert!(html.contains("href=\"http://feeds.example/feeds/news.rss\""));
    assert!(html.contains("&lt;script&gt;News&lt;/script&gt;"));
    assert!(html.contains("http://feeds.example/feeds/%E5%96%9C"));
    let etag = h(&hs, "etag").unwrap().to_owned();
    let (status, _, body) =
        srv.get("/articles/gnews/2021/01/740024.md", &[("If-None-Match", &etag)]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());

    let (status, _, body) = srv.get("/articles/broken.md", &[]).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let body = String::from_utf8(body).unwrap();
    assert!(body.contains("broken.md") && body.contains("file vanished"), "{body}");

    let (status, _, _) = srv.get("/articles/missing.md", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    srv.stop().await;
}

#[actix_web::test]
async fn huge_if_none_match_is_bounded() {
    let srv = TestServer::start(true).await;
    let d = doc("all.rss");
    let mut inm = String::new();
    for i in 0..4000 {
        inm.push_str(&format!("\"t{i}\", "));
    }
    let miss = inm.trim_end_matches(", ").to_owned();
    inm.push_str(d.identity_etag());
    let (status, _, _) = srv.get("/feeds/all.rss", &[("If-None-Match", inm.as_str())]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    let (status, _, _) = srv.get("/feeds/all.rss", &[("If-None-Match", miss.as_str())]).await;
    assert_eq!(status, StatusCode::OK);
    srv.stop().await;
}

#[actix_web::test]
async fn snapshot_swap_is_seen() {
    // The route table via init_service (no socket), and an atomic swap of the snapshot.
    let data = state(true);
    let app = actix_web::test::init_service(
        actix_web::App::new().app_data(data.clone()).configure(herald::http::configure),
    )
    .await;
    let req = actix_web::test::TestRequest::get().uri("/feeds/news.rss").to_request();
    assert_eq!(actix_web::test::call_service(&app, req).await.status(), StatusCode::OK);

    let mut next = snapshot(true);
    next.feeds.remove("news.rss");
    data.snapshot.store(Arc::new(next));
    let req = actix_web::test::TestRequest::get().uri("/feeds/news.rss").to_request();
    assert_eq!(actix_web::test::call_service(&app, req).await.status(), StatusCode::NOT_FOUND);
}
