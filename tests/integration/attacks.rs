//! Attacks: hostile paths, headers, methods and slow clients against the real server
//! (127.0.0.1, port 0), spoken to byte for byte over `std::net::TcpStream`.

use crate::faults::well_formed;
use crate::support::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Short timeouts so the slow-client tests end quickly.
const ATTACK_CONFIG: &str =
    "[content]\ngit_dates = false\n[server]\nrequest_timeout_ms = 1000\nkeep_alive_seconds = 2\n";

fn start() -> (herald::serve::Running, tempfile::TempDir, tempfile::TempDir) {
    let content = copy_fixture("mixed");
    let out = tempfile::tempdir().unwrap();
    let running =
        herald::serve::start(config_with(content.path(), out.path(), ATTACK_CONFIG)).unwrap();
    (running, content, out)
}

/// The server still answers a normal request correctly.
fn still_answers(addr: SocketAddr) {
    let r = raw::get(addr, "/feeds/all.rss");
    assert_eq!(r.status, 200);
    well_formed(&r.body).unwrap();
}

/// Signs that a response holds a file from outside the feeds.
fn leaks(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body);
    ["root:x:0:0", "[package]", "#!/", "PRIVATE KEY", "secret-plans", "Kites over the harbour\n"]
        .iter()
        .any(|s| text.contains(s))
}

#[test]
fn hostile_paths_get_404_or_400_and_never_a_file() {
    let (running, content, _out) = start();
    let addr = running.addr;
    let long10k = format!("/feeds/{}", "a".repeat(10 * 1024));
    let long100k = format!("/articles/{}", "b/".repeat(50 * 1024));
    let paths: Vec<String> = [
        "/feeds/../Cargo.toml",
        "/feeds/../../../../etc/passwd",
        "/articles/../../../../etc/passwd",
        "/articles/posts/../../Cargo.toml",
        "/feeds/%2e%2e/%2e%2e/etc/passwd",
        "/feeds/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/articles/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/articles/..%2f..%2f..%2fetc%2fpasswd",
        "/feeds/%252e%252e%252fetc%252fpasswd",
        "/articles/%252e%252e/%252e%252e/etc/passwd",
        "/feeds/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
        "/articles/%c0%ae%c0%ae%c0%af%c0%ae%c0%ae%c0%afetc%c0%afpasswd",
        "/feeds/..\\..\\..\\etc\\passwd",
        "/articles/..%5c..%5c..%5cetc%5cpasswd",
        "/feeds/all.rss%00.html",
        "/articles/posts/ferries.md%00",
        "/feeds/%00",
        "//etc/passwd",
        "///etc/passwd",
        "/articles//etc/passwd",
        "/articles/%2fetc%2fpasswd",
        "/feeds/%ff%fe",
        "/articles/posts/secret-plans.md",
        "/feeds/.herald-git-dates",
        "/feeds/.",
        "/feeds/..",
        "/articles/posts/notes.txt",
        "/articles/README.md/../../Cargo.toml",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([long10k, long100k])
    .collect();
    for path in &paths {
        let shown = &path[..path.len().min(60)];
        let r = raw::get_with(addr, path, "").unwrap_or_else(|e| panic!("{shown}: no answer: {e}"));
        assert!(
            matches!(r.status, 400 | 404 | 414 | 431),
            "{shown}: status {} (only 400, 404, 414, 431 allowed)",
            r.status
        );
        assert!(
            !leaks(&r.body),
            "{shown}: the body looks like a file: {:?}",
            String::from_utf8_lossy(&r.body)
        );
    }
    // Absolute-form request targets and a bare `*`.
    for target in ["http://127.0.0.1/etc/passwd", "file:///etc/passwd", "*", "etc/passwd"] {
        let req = format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let r = raw::send(addr, req.as_bytes()).unwrap_or_else(|e| panic!("{target}: {e}"));
        assert!(matches!(r.status, 400 | 404), "{target}: status {}", r.status);
        assert!(!leaks(&r.body), "{target}");
    }
    // A symlink in the content root that points out of it is not followed.
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("/etc/passwd", content.path().join("posts/passwd.md")).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        let r = raw::get(addr, "/articles/posts/passwd.md");
        assert_eq!(r.status, 404);
        assert!(!leaks(&r.body));
    }
    still_answers(addr);
    running.stop().unwrap();
}

#[test]
fn hostile_headers_are_answered_or_refused_in_bounded_time() {
    let (running, _content, _out) = start();
    let addr = running.addr;
    let etag = raw::get(addr, "/feeds/all.rss").header("etag").unwrap().to_string();
    let many_tags = (0..10_000).map(|i| format!("\"{i:020}\"")).collect::<Vec<_>>().join(", ");
    // 10,000 entries that fit the head limit (~50 KB): the conditional code must parse them.
    let short_tags = vec!["\"x\""; 10_000].join(",");
    let many_headers: String = (0..1000).map(|i| format!("X-H{i}: v\r\n")).collect();
    let cases: Vec<(&str, String, &[u16])> = vec![
        ("one 64 KB header", format!("X-Big: {}\r\n", "x".repeat(64 * 1024)), &[200, 400, 431]),
        ("one 1 MB header", format!("X-Big: {}\r\n", "x".repeat(1024 * 1024)), &[400, 431]),
        ("1000 headers", many_headers, &[200, 400, 431]),
        (
            "bogus Accept-Encoding",
            "Accept-Encoding: \u{1}gzip;q=nan, br;q=-1, *;q=2, ,,,\r\n".into(),
            &[200, 400],
        ),
        (
            "Accept-Encoding of 4 KB",
            format!("Accept-Encoding: {}\r\n", "x, ".repeat(1400)),
            &[200, 400],
        ),
        ("10,000 If-None-Match tags", format!("If-None-Match: {many_tags}\r\n"), &[200, 400, 431]),
        (
            "10,000 tags then the real one",
            format!("If-None-Match: {many_tags}, {etag}\r\n"),
            &[304, 400, 431],
        ),
        ("10,000 short tags", format!("If-None-Match: {short_tags}\r\n"), &[200]),
        (
            "10,000 short tags then the real one",
            format!("If-None-Match: {short_tags},{etag}\r\n"),
            &[304],
        ),
        (
            "nonsense q-values in Accept-Encoding",
            "Accept-Encoding: gzip;q=nan, br;q=-1, *;q=2, identity;q=0, ,,,;;\r\n".into(),
            &[200, 406],
        ),
        (
            "malformed If-None-Match",
            "If-None-Match: \"unterminated, W/, \"\"\"\r\n".into(),
            &[200, 400],
        ),
        ("malformed If-Modified-Since", "If-Modified-Since: yesterday at noon\r\n".into(), &[200]),
        (
            "If-Modified-Since far future",
            "If-Modified-Since: Fri, 31 Dec 9999 23:59:59 GMT\r\n".into(),
            &[200, 304],
        ),
        (
            "If-Modified-Since year 0",
            "If-Modified-Since: Mon, 01 Jan 0000 00:00:00 GMT\r\n".into(),
            &[200],
        ),
        ("non-UTF-8 header", "X-Junk: \u{ff}\u{fe}\r\n".into(), &[200, 400]),
        ("header without colon", "NoColonHere\r\n".into(), &[400]),
        ("duplicate Host", "Host: evil.example\r\n".into(), &[200, 400]),
        ("huge Content-Length on GET", "Content-Length: 99999999999\r\n".into(), &[200, 400, 413]),
        ("bad Content-Length", "Content-Length: -5\r\n".into(), &[400]),
        (
            "Transfer-Encoding nonsense",
            "Transfer-Encoding: gzip, chunked, identity\r\n".into(),
            &[200, 400, 501],
        ),
    ];
    for (what, headers, allowed) in cases {
        let started = Instant::now();
        let r = raw::get_with(addr, "/feeds/all.rss", &headers)
            .unwrap_or_else(|e| panic!("{what}: no answer: {e}"));
        assert!(allowed.contains(&r.status), "{what}: status {}, allowed {allowed:?}", r.status);
        if r.status == 200 {
            let body = if r.header("content-encoding").is_some() { None } else { Some(&r.body) };
            if let Some(body) = body {
                well_formed(body).unwrap_or_else(|e| panic!("{what}: {e}"));
            }
        }
        eprintln!("{what}: {} in {:.1?}", r.status, started.elapsed());
    }
    still_answers(addr);
    running.stop().unwrap();
}

#[test]
fn slow_and_idle_clients_do_not_starve_a_normal_client_and_are_cut_off() {
    let (running, _content, _out) = start();
    let addr = running.addr;
    // 200 slowloris connections: each sends a partial request line, a byte at a time.
    let mut slow: Vec<TcpStream> = (0..200)
        .map(|_| {
            let s = TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
            s
        })
        .collect();
    // 100 idle connections that send nothing at all.
    let idle: Vec<TcpStream> = (0..100).map(|_| TcpStream::connect(addr).unwrap()).collect();
    let opened = Instant::now();
    for byte in b"GET /fe".iter() {
        for s in &mut slow {
            let _ = s.write_all(&[*byte]);
        }
        // A normal client meanwhile gets whole answers.
        still_answers(addr);
        std::thread::sleep(Duration::from_millis(60));
    }
    // The request timeout (1 s here) closes them: each read ends (EOF, reset or a 408).
    let mut closed = 0;
    for s in &mut slow {
        let mut buf = Vec::new();
        match s.read_to_end(&mut buf) {
            Ok(_) => closed += 1,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => closed += 1,
            Err(e) => panic!("a slow client was not cut off: {e}"),
        }
        if !buf.is_empty() {
            let status = raw::parse(&buf).map(|r| r.status);
            assert!(matches!(status, Ok(408 | 400)), "slow client got {status:?}");
        }
    }
    let cut_after = opened.elapsed();
    assert_eq!(closed, 200);
    assert!(cut_after < Duration::from_secs(10), "slow clients held for {cut_after:.1?}");
    for mut s in idle {
        s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        let mut buf = Vec::new();
        let r = s.read_to_end(&mut buf);
        assert!(r.is_ok() || r.is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset));
    }
    eprintln!("slowloris: 200 slow + 100 idle connections all closed after {cut_after:.1?}");

    // A keep-alive connection left idle is closed after keep_alive_seconds (2 s here).
    let mut ka = TcpStream::connect(addr).unwrap();
    ka.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    ka.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes()).unwrap();
    let idle_from = Instant::now();
    let mut buf = Vec::new();
    let _ = ka.read_to_end(&mut buf);
    assert!(String::from_utf8_lossy(&buf).starts_with("HTTP/1.1 200"));
    assert!(idle_from.elapsed() < Duration::from_secs(10), "keep-alive not bounded");
    still_answers(addr);
    running.stop().unwrap();
}

#[test]
fn only_get_head_and_options_no_listings_no_server_header() {
    let (running, _content, _out) = start();
    let addr = running.addr;
    // CONNECT too, once: actix then waits client_disconnect_timeout (2 s) before closing.
    let req = "CONNECT /feeds/all.rss HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let r = raw::send(addr, req.as_bytes()).unwrap();
    assert_eq!((r.status, r.header("allow")), (405, Some("GET, HEAD, OPTIONS")));
    for method in ["POST", "PUT", "DELETE", "PATCH", "TRACE", "PROPFIND", "BREW"] {
        for path in ["/feeds/all.rss", "/feeds/no-such.atom"] {
            let req = format!(
                "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let r = raw::send(addr, req.as_bytes()).unwrap();
            assert_eq!(r.status, 405, "{method} {path}");
            assert_eq!(r.header("allow"), Some("GET, HEAD, OPTIONS"), "{method} {path}");
        }
        let req = format!(
            "{method} / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        let r = raw::send(addr, req.as_bytes()).unwrap();
        assert_eq!(r.status, 405, "{method} /");
        assert_eq!(r.header("allow"), Some("GET, HEAD"));
    }
    for (method, want) in [("GET", 200), ("HEAD", 200), ("OPTIONS", 204)] {
        let req =
            format!("{method} /feeds/all.rss HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assert_eq!(raw::send(addr, req.as_bytes()).unwrap().status, want, "{method}");
    }
    for path in [
        "/feeds/",
        "/feeds",
        "/articles/",
        "/articles",
        "/articles/posts/",
        "/articles/blog/",
        "/articles/talks/2019/",
    ] {
        let r = raw::get(addr, path);
        assert_eq!(r.status, 404, "{path} must not list a folder");
        assert!(!String::from_utf8_lossy(&r.body).contains("ferries.md"), "{path} lists files");
    }
    for path in ["/", "/feeds/all.rss", "/nothing", "/articles/posts/ferries.md"] {
        let r = raw::get(addr, path);
        assert_eq!(
            r.header("server"),
            None,
            "{path}: Server header leaks {:?}",
            r.header("server")
        );
        assert_eq!(r.header("x-powered-by"), None);
    }
    running.stop().unwrap();
}
