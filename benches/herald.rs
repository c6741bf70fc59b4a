//! Micro-benchmarks (`cargo bench`): parsing, rendering, encoding and building the sample.
//! Inputs are the invented articles under `sample/` — never corpus text. criterion compares
//! each run with the previous one (kept in `target/criterion/`).

use chrono::{TimeZone, Utc};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use herald::article::{self, Article, DateSource, Dated, ParseOptions, Parsed};
use herald::config::{Overrides, RawConfig};
use herald::render::archive::ArchiveItem;
use herald::render::encode::{self, Encoded};
use herald::render::{self, FeedItem, FeedMeta};
use herald::site::Site;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const SEED: &str = "gnews/2021/01/742010.md";
const FRONT_MATTER: &str = "blog/2023-09-09-harvest-fair.md";

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample")
}

fn parse(rel: &str, bytes: &[u8]) -> Article {
    match article::parse::parse(rel, bytes, &ParseOptions::default()) {
        Parsed::Article(a) => *a,
        other => panic!("{rel}: not an article: {other:?}"),
    }
}

fn bench_parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse");
    for (name, rel) in [("seed", SEED), ("front_matter", FRONT_MATTER)] {
        let bytes = std::fs::read(sample().join(rel)).unwrap();
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| article::parse::parse(rel, black_box(&bytes), &ParseOptions::default()))
        });
    }
    // Inputs that make naive parsers quadratic (as in the unit test
    // `pathological_inputs_parse_and_render_safely`): their bytes per second should stay of
    // the order of the ordinary articles' above, not fall with the input's length.
    for (name, piece) in [("pathological_brackets", "[["), ("pathological_links", "[a](b.md) ")] {
        let mut text = format!("## {}\n", piece.repeat(1000));
        text.push_str(&piece.repeat(200_000 / piece.len()));
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| {
                article::parse::parse(
                    "x/y.md",
                    black_box(text.as_bytes()),
                    &ParseOptions::default(),
                )
            })
        });
    }
    g.finish();
}

/// 50 items made from the sample's articles (cycled, each with its own path and date) and
/// their rendered bodies, as `Site` would hand them to the renderers.
struct Feed {
    meta: FeedMeta,
    items: Vec<(Article, String, String, String)>,
}

fn feed50() -> Feed {
    let root = sample();
    let mut files: Vec<String> = ["gnews", "blog", "transcript"]
        .iter()
        .flat_map(|d| walk(&root.join(d)))
        .filter_map(|p| p.strip_prefix(&root).ok().map(|r| r.to_string_lossy().into_owned()))
        .filter(|r| r.ends_with(".md"))
        .collect();
    files.sort();
    let base = url::Url::parse("https://feeds.example.org/").unwrap();
    let sources: Vec<(Article, String)> = files
        .iter()
        .filter_map(|rel| {
            let bytes = std::fs::read(root.join(rel)).ok()?;
            match article::parse::parse(rel, &bytes, &ParseOptions::default()) {
                Parsed::Article(a) => {
                    let (text, _) = article::parse::decode(&bytes);
                    let html = article::html::render(&text[a.body_offset..], &base);
                    Some((*a, html))
                }
                _ => None,
            }
        })
        .collect();
    assert!(!sources.is_empty());
    let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let items = (0..50)
        .map(|i| {
            let (a, html) = &sources[i % sources.len()];
            let mut a = a.clone();
            a.path = format!("{i}/{}", a.path);
            let at =
                Dated { at: t0 - chrono::Duration::hours(i as i64), source: DateSource::Mtime };
            a.published = a.published.or(Some(at));
            a.updated = a.updated.or(Some(at));
            let id = format!("tag:feeds.example.org,2026:path/{}", a.path);
            let link = format!("https://feeds.example.org/articles/{}", a.path);
            (a, id, link, html.clone())
        })
        .collect();
    let meta = FeedMeta {
        slug: "all".into(),
        title: "Herald".into(),
        description: "Articles from the repository, by category".into(),
        id: "tag:feeds.example.org,2026:feed/all".into(),
        rss_url: "https://feeds.example.org/feeds/all.rss".into(),
        atom_url: "https://feeds.example.org/feeds/all.atom".into(),
        json_url: "https://feeds.example.org/feeds/all.json".into(),
        history: vec![],
        hubs: vec![],
        archive: false,
        html_url: "https://feeds.example.org/".into(),
        language: Some("zh-CN".into()),
        default_author: "Herald".into(),
        generator: "Herald bench".into(),
        updated: Some(t0),
    };
    Feed { meta, items }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

impl Feed {
    fn items(&self) -> Vec<FeedItem<'_>> {
        self.items
            .iter()
            .map(|(article, id, link, html)| FeedItem { article, id, link, content_html: html })
            .collect()
    }
}

fn bench_render(c: &mut Criterion) {
    let feed = feed50();
    let items = feed.items();
    let mut g = c.benchmark_group("render_50_items");
    g.bench_function("rss", |b| b.iter(|| render::rss::render(black_box(&feed.meta), &items)));
    g.bench_function("atom", |b| b.iter(|| render::atom::render(black_box(&feed.meta), &items)));
    g.finish();

    // An archive page (no bodies) in both formats: how Herald writes it, and the feed crates
    // writing the same bytes (the reference `render::archive` is held to), side by side.
    let sources: Vec<_> = items.iter().map(|it| render::source_url(it.article)).collect();
    let page: Vec<ArchiveItem<'_>> = items
        .iter()
        .zip(&sources)
        .map(|(it, s)| ArchiveItem {
            article: it.article,
            id: it.id,
            link: it.link,
            source: s.as_deref(),
        })
        .collect();
    let bare: Vec<FeedItem<'_>> =
        items.iter().map(|it| FeedItem { content_html: "", ..*it }).collect();
    let mut g = c.benchmark_group("archive_page_50_items");
    g.bench_function("herald", |b| b.iter(|| render::archive::page(black_box(&feed.meta), &page)));
    g.bench_function("feed_crates", |b| {
        b.iter(|| {
            let meta = black_box(&feed.meta);
            render::stylesheet::attach_archive(
                render::rss::render(meta, &bare),
                render::atom::render(meta, &bare),
            )
        })
    });
    g.finish();

    let rss = render::rss::render(&feed.meta, &items);
    let mut g = c.benchmark_group("encode");
    g.throughput(Throughput::Bytes(rss.len() as u64));
    g.sample_size(20);
    // What a render pays: the identity bytes and their ETag (compression waits for the first
    // request that wants it).
    g.bench_function("render_time_rss_50", |b| {
        b.iter(|| Encoded::new(black_box(rss.clone()), herald::site::RSS_TYPE, Utc::now()))
    });
    // What the first gzip and brotli requests after a render pay, together.
    g.bench_function("gzip_brotli_rss_50", |b| {
        b.iter(|| {
            let doc = Encoded::new(black_box(rss.clone()), herald::site::RSS_TYPE, Utc::now());
            (doc.gzip().bytes.len(), doc.br().bytes.len())
        })
    });
    g.bench_function("gzip_only_rss_50", |b| b.iter(|| encode::gzip(black_box(&rss))));
    g.bench_function("brotli_only_rss_50", |b| b.iter(|| encode::brotli(black_box(&rss))));
    g.finish();
}

fn bench_site(c: &mut Criterion) {
    let out = tempfile::tempdir().unwrap();
    let raw = RawConfig::parse("[content]\ngit_dates = false\n", Path::new("bench.toml")).unwrap();
    let overrides = Overrides {
        content: Some(sample()),
        out: Some(out.path().to_path_buf()),
        ..Overrides::default()
    };
    let cfg = Arc::new(raw.validate(&overrides, Path::new(".")).unwrap());
    let mut g = c.benchmark_group("site");
    g.sample_size(20);
    g.bench_function("build_sample", |b| b.iter(|| Site::build(cfg.clone()).unwrap()));
    g.finish();
    // The seed and front-matter samples must stay articles, or the parse figures mean nothing.
    parse(SEED, &std::fs::read(sample().join(SEED)).unwrap());
    parse(FRONT_MATTER, &std::fs::read(sample().join(FRONT_MATTER)).unwrap());
}

/// What counting one request costs on the serving path (`/metrics`' request counters).
fn bench_metrics(c: &mut Criterion) {
    let metrics = herald::metrics::Metrics::new();
    let slugs: Vec<String> = (0..500).map(|i| format!("category-{i}")).collect();
    metrics.http().add_feeds(slugs.iter().map(String::as_str).chain(["all"]));
    let mut g = c.benchmark_group("metrics");
    g.bench_function("record_feed", |b| {
        b.iter(|| metrics.http().record(black_box("/feeds/all.rss"), black_box(200), 8668))
    });
    g.bench_function("record_unknown_feed", |b| {
        b.iter(|| metrics.http().record(black_box("/feeds/nope.rss"), black_box(404), 1284))
    });
    g.bench_function("record_page", |b| {
        b.iter(|| metrics.http().record(black_box("/healthz"), black_box(200), 3))
    });
    g.bench_function("encode", |b| b.iter(|| metrics.encode()));
    g.finish();
}

criterion_group!(benches, bench_parse, bench_render, bench_site, bench_metrics);
criterion_main!(benches);
