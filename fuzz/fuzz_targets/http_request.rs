//! Arbitrary requests against Herald's route table (`herald::http::configure`), served from a
//! small snapshot built once per process.
//!
//! Input: up to five fields separated by `\n`: method, path (with query), `If-None-Match`,
//! `If-Modified-Since`, `Accept-Encoding`. A field that is not a valid method, URI or header
//! value is replaced by a default (the HTTP parser in front of the app would refuse it).
//!
//! Checks, beyond "does not panic": no 5xx; a 304 has no body; a 200 feed
//! body decodes (per its `Content-Encoding`) to the exact feed bytes of the snapshot.
#![no_main]

use actix_web::dev::Service;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode, Uri};
use actix_web::{test, web, App};
use herald::http::{configure, AppState};
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

type Call = Box<dyn Fn(actix_http::Request) -> (StatusCode, header::HeaderMap, Vec<u8>)>;

struct Fixture {
    call: Call,
    snapshot: Arc<herald::publish::Snapshot>,
    _content: tempfile::TempDir,
}

fn write(root: &std::path::Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn fixture() -> Fixture {
    let content = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let root = content.path();
    write(root, "posts/2024-03-01-kites.md", "---\ntitle: Kites\ncategory: Harbour Life\n---\n\nKites over the harbour. <script>x</script>\n");
    write(root, "reports/2021/01/810001.md", "## 山谷里的第一场雪\n` 山谷观察组` [轉載自GNews](https://news.example.net/zh-hans/810001/)\n\n今年的第一场雪。\n");
    write(root, "a b/c%d+e.md", "## Odd path\n\nText.\n");
    write(root, "README.md", "## Readme article\n\nText.\n");
    let text = "[site]\ntitle = \"Fuzz\"\nbase_url = \"https://feeds.example.org\"\n[content]\ngit_dates = false\n";
    let raw = herald::config::RawConfig::parse(text, std::path::Path::new("fuzz.toml")).unwrap();
    let overrides = herald::config::Overrides {
        content: Some(root.to_path_buf()),
        out: Some(out.path().to_path_buf()),
        listen: Some("127.0.0.1:0".into()),
        base_url: None,
    };
    let cfg = Arc::new(raw.validate(&overrides, root).unwrap());
    let site = herald::site::Site::build(cfg.clone()).unwrap();
    let snapshot = Arc::new(herald::serve::snapshot(&site));
    let state = web::Data::new(AppState {
        snapshot: Arc::new(arc_swap::ArcSwap::new(snapshot.clone())),
        metrics: Default::default(),
    });
    let system = actix_web::rt::System::new();
    let app = system.block_on(test::init_service(App::new().app_data(state).configure(configure)));
    let call: Call = Box::new(move |req| {
        system.block_on(async {
            let res = match app.call(req).await {
                Ok(res) => res,
                Err(e) => panic!("the service returned an error: {e}"),
            };
            let status = res.status();
            let headers = res.headers().clone();
            let body = test::read_body(res).await.to_vec();
            (status, headers, body)
        })
    });
    Fixture { call, snapshot, _content: content }
}

thread_local! {
    // Leaked, never dropped: dropping the actix system and app from a thread-local
    // destructor at process exit touches other thread-locals already destroyed and panics
    // (a harness artifact the first 10-minute run reported as a crash after its last input).
    // The fixture's temporary folder is therefore left in the temp dir.
    static FIXTURE: &'static Fixture = Box::leak(Box::new(fixture()));
}

fn decode_body(encoding: Option<&str>, body: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    match encoding {
        None => out.extend_from_slice(body),
        Some("gzip") => {
            flate2::read::GzDecoder::new(body).read_to_end(&mut out).expect("gzip body decodes");
        }
        Some("br") => {
            brotli::Decompressor::new(body, 4096).read_to_end(&mut out).expect("br body decodes");
        }
        Some(other) => panic!("unexpected Content-Encoding {other}"),
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let mut fields = data.splitn(5, |&b| b == b'\n');
    let method = fields.next().and_then(|m| Method::from_bytes(m).ok()).unwrap_or(Method::GET);
    let uri = fields
        .next()
        .and_then(|p| Uri::try_from(p).ok())
        .filter(|u| u.path().starts_with('/'))
        .unwrap_or_else(|| Uri::from_static("/feeds/all.rss"));
    let mut req = test::TestRequest::default().method(method.clone()).uri(&uri.to_string());
    for name in [header::IF_NONE_MATCH, header::IF_MODIFIED_SINCE, header::ACCEPT_ENCODING] {
        if let Some(value) = fields.next().and_then(|v| HeaderValue::from_bytes(v).ok()) {
            req = req.insert_header((name, value));
        }
    }
    FIXTURE.with(|fx| {
        let (status, headers, body) = (fx.call)(req.to_request());
        assert!(!status.is_server_error(), "{method} {uri}: {status}");
        // (HEAD bodies are dropped by the HTTP/1 dispatcher, not by the app: not checked here.)
        if status == StatusCode::NOT_MODIFIED {
            assert!(body.is_empty(), "{method} {uri}: 304 with a body");
        }
        if status == StatusCode::OK && method == Method::GET {
            if let Some(file) = uri.path().strip_prefix("/feeds/") {
                let name = percent_encoding::percent_decode_str(file).decode_utf8().unwrap();
                // Only feed documents come from the snapshot (`/feeds/rss.xsl` is a fixed asset).
                if let Some(doc) = fx.snapshot.feeds.get(name.as_ref()) {
                    let encoding =
                        headers.get(header::CONTENT_ENCODING).map(|v| v.to_str().unwrap());
                    assert_eq!(decode_body(encoding, &body), doc.identity_bytes().as_ref());
                }
            }
        }
    });
});
