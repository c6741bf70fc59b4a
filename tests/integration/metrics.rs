//! `GET /metrics` on `herald serve`: the exposition text parses, request counters move by
//! exactly the requests made (route, feed, format, status, bytes), the gauges match the site,
//! and an edit is counted as one rebuild with one change-to-current observation.

use crate::support::*;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// One sample of the exposition text: metric name, labels, value.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A small parser of the Prometheus text format (0.0.4): comments skipped, labels unescaped.
/// Panics on anything it cannot read, which is what a test wants.
fn parse_exposition(text: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line}"));
        let value = match value {
            "+Inf" => f64::INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value in {line}")),
        };
        let (name, labels) = match series.split_once('{') {
            None => (series.to_string(), BTreeMap::new()),
            Some((name, rest)) => {
                let body = rest.strip_suffix('}').unwrap_or_else(|| panic!("unclosed: {line}"));
                (name.to_string(), parse_labels(body, line))
            }
        };
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad metric name in {line}"
        );
        out.push(Sample { name, labels, value });
    }
    out
}

fn parse_labels(mut body: &str, line: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    while !body.is_empty() {
        let (key, rest) = body.split_once("=\"").unwrap_or_else(|| panic!("bad label: {line}"));
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next() {
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c)) => value.push(c),
                    None => panic!("bad escape: {line}"),
                },
                Some((_, c)) => value.push(c),
                None => panic!("unterminated label value: {line}"),
            }
        };
        assert!(labels.insert(key.to_string(), value).is_none(), "label twice: {line}");
        body = rest[end + 1..].strip_prefix(',').unwrap_or(&rest[end + 1..]);
    }
    labels
}

/// The samples of one scrape.
struct Scrape(Vec<Sample>);

impl Scrape {
    fn take(addr: SocketAddr) -> Scrape {
        let res = raw::get(addr, "/metrics");
        assert_eq!(res.status, 200);
        Scrape(parse_exposition(std::str::from_utf8(&res.body).expect("UTF-8 exposition")))
    }

    /// The series with exactly these labels, if exported.
    fn find(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let want: BTreeMap<String, String> =
            labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let found: Vec<&Sample> =
            self.0.iter().filter(|s| s.name == name && s.labels == want).collect();
        assert!(found.len() <= 1, "{name}{want:?} appears twice");
        found.first().map(|s| s.value)
    }

    /// The value of a series; 0 when absent (a request counter that has not moved yet is
    /// not exported).
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.find(name, labels).unwrap_or(0.0)
    }

    /// The value of a series that must be exported.
    fn must(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.find(name, labels).unwrap_or_else(|| panic!("{name} with {labels:?} is missing"))
    }
}

fn requests(scrape: &Scrape, labels: &[(&str, &str)]) -> (f64, f64) {
    (
        scrape.get("herald_http_requests_total", labels),
        scrape.get("herald_http_response_bytes_total", labels),
    )
}

#[test]
fn metrics_count_requests_rebuilds_and_match_the_site() {
    let content = copy_fixture("mixed");
    let out = tempfile::tempdir().unwrap();
    let root = content.path();
    // One file skipped (empty), one with a warning (broken front matter), so the gauges have
    // something to count.
    std::fs::write(root.join("posts/empty.md"), "").unwrap();
    std::fs::write(root.join("posts/broken.md"), "---\ntitle: [unclosed\n---\n\nText.\n").unwrap();
    let running = herald::serve::start(config(root, out.path())).unwrap();
    let addr = running.addr;

    // What the site holds, from an independent build of the same content.
    let other_out = tempfile::tempdir().unwrap();
    let site = herald::site::Site::build(config(root, other_out.path())).unwrap();

    let before = Scrape::take(addr);
    let feed = [("route", "feed"), ("feed", "harbour-life"), ("format", "atom")];
    let ok = [feed[0], feed[1], feed[2], ("status", "200")];
    let not_modified = [feed[0], feed[1], feed[2], ("status", "304")];
    let unknown = [("route", "feed"), ("feed", "unknown"), ("format", "rss"), ("status", "404")];
    let scrapes = [("route", "metrics"), ("status", "200")];
    let post = [("route", "metrics"), ("status", "405")];

    // 200, HEAD (no body sent), 304, an unknown feed, a method /metrics does not answer.
    let got = raw::get(addr, "/feeds/harbour-life.atom");
    assert_eq!(got.status, 200);
    let etag = got.header("etag").expect("an ETag").to_string();
    let head = raw::send(
        addr,
        format!(
            "HEAD /feeds/harbour-life.atom HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    )
    .unwrap();
    assert_eq!(head.status, 200);
    let cond =
        raw::get_with(addr, "/feeds/harbour-life.atom", &format!("If-None-Match: {etag}\r\n"))
            .unwrap();
    assert_eq!(cond.status, 304);
    let missing = raw::get(addr, "/feeds/no-such-feed-0123.rss");
    assert_eq!(missing.status, 404);
    let refused = raw::send(
        addr,
        format!("POST /metrics HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(refused.status, 405);

    let res = raw::get(addr, "/metrics");
    assert_eq!(res.header("content-type"), Some("text/plain; version=0.0.4; charset=utf-8"));
    assert_eq!(res.header("cache-control"), Some("no-store"));
    let after = Scrape(parse_exposition(std::str::from_utf8(&res.body).unwrap()));

    let delta = |labels: &[(&str, &str)]| {
        let (r1, b1) = requests(&after, labels);
        let (r0, b0) = requests(&before, labels);
        (r1 - r0, b1 - b0)
    };
    assert_eq!(delta(&ok), (2.0, got.body.len() as f64), "GET and HEAD; only GET sends a body");
    assert_eq!(delta(&not_modified), (1.0, 0.0));
    assert_eq!(delta(&unknown), (1.0, missing.body.len() as f64));
    assert_eq!(delta(&post).0, 1.0);
    // The scrape before these requests; a scrape is counted once answered.
    assert_eq!(delta(&scrapes).0, 1.0);
    // The missing feed's name is in no label.
    assert!(!std::str::from_utf8(&res.body).unwrap().contains("no-such-feed"));

    // Hostile names make no new series: twenty made-up feeds are twenty more `unknown`s.
    let series = |s: &Scrape| s.0.iter().filter(|s| s.name == "herald_http_requests_total").count();
    let unknown_count = after.get("herald_http_requests_total", &unknown);
    for i in 0..20 {
        assert_eq!(raw::get(addr, &format!("/feeds/made-up-{i}.rss")).status, 404);
    }
    let flooded = Scrape::take(addr);
    assert_eq!(flooded.get("herald_http_requests_total", &unknown), unknown_count + 20.0);
    assert_eq!(series(&flooded), series(&after));

    // Gauges: what the site holds.
    let index = site.index();
    assert_eq!(after.must("herald_articles", &[]), index.len() as f64);
    assert_eq!(after.must("herald_categories", &[]), index.categories().count() as f64);
    assert_eq!(after.must("herald_feeds", &[]), site.listing().len() as f64);
    assert_eq!(after.must("herald_feed_documents", &[]), site.feeds().len() as f64);
    let report = herald::check::Report::from_site(&site);
    assert!(report.warnings > 0 && report.skipped == 1, "{report:?}");
    assert_eq!(after.must("herald_warnings", &[]), report.warnings as f64);
    assert_eq!(after.must("herald_skipped_files", &[]), report.skipped as f64);
    let version = [("version", env!("CARGO_PKG_VERSION"))];
    assert_eq!(after.must("herald_build_info", &version), 1.0);
    // The start-up build is the first successful rebuild.
    assert_eq!(after.must("herald_rebuilds_total", &[("outcome", "ok")]), 1.0);
    assert_eq!(after.must("herald_rebuilds_total", &[("outcome", "error")]), 0.0);
    assert_eq!(after.must("herald_rebuilds_total", &[("outcome", "panic")]), 0.0);
    assert_eq!(after.must("herald_change_to_current_seconds_count", &[]), 0.0);
    let started_at = after.must("herald_last_rebuild_success_timestamp_seconds", &[]);
    assert!(started_at > 1.6e9, "a Unix time: {started_at}");

    // An edit: written beside the article under a hidden name (ignored), then renamed over
    // it, so the watcher sees one change.
    let path = root.join("posts/ferries.md");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "title = \"Ferry timetable changes\"",
        "title = \"Ferry timetable changes again\"",
    );
    let hidden = root.join("posts/.ferries.md.new");
    std::fs::write(&hidden, text).unwrap();
    std::fs::rename(&hidden, &path).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let edited = loop {
        let feed = raw::get(addr, "/feeds/harbour-life.atom");
        let scrape = Scrape::take(addr);
        if String::from_utf8_lossy(&feed.body).contains("Ferry timetable changes again")
            && scrape.get("herald_change_to_current_seconds_count", &[]) >= 1.0
        {
            break scrape;
        }
        assert!(Instant::now() < deadline, "the edit never showed in the feed and the metrics");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(edited.get("herald_rebuilds_total", &[("outcome", "ok")]), 2.0);
    assert_eq!(edited.get("herald_rebuild_duration_seconds_count", &[]), 2.0);
    assert_eq!(edited.get("herald_change_to_current_seconds_count", &[]), 1.0);
    for histogram in ["herald_rebuild_duration_seconds", "herald_change_to_current_seconds"] {
        let inf = edited.must(&format!("{histogram}_bucket"), &[("le", "+Inf")]);
        assert_eq!(inf, edited.get(&format!("{histogram}_count"), &[]), "{histogram}");
        assert!(edited.get(&format!("{histogram}_sum"), &[]) > 0.0, "{histogram}");
    }
    assert!(
        edited.get("herald_last_rebuild_success_timestamp_seconds", &[]) > started_at,
        "the last successful rebuild time moves on"
    );
    assert_eq!(edited.get("herald_articles", &[]), index.len() as f64);

    running.stop().unwrap();
}

#[test]
fn the_parser_reads_escapes_and_special_values() {
    let text = "# HELP x a\n# TYPE x counter\nx_total{a=\"q\\\"uote\",b=\"back\\\\slash\",c=\"new\\nline\"} 3\nh_bucket{le=\"+Inf\"} 2\ng 1.5e3\n";
    let samples = parse_exposition(text);
    assert_eq!(samples.len(), 3);
    assert_eq!(samples[0].labels["a"], "q\"uote");
    assert_eq!(samples[0].labels["b"], "back\\slash");
    assert_eq!(samples[0].labels["c"], "new\nline");
    assert_eq!(samples[0].value, 3.0);
    assert_eq!(samples[1].labels["le"], "+Inf");
    assert_eq!(samples[2].value, 1500.0);
}
