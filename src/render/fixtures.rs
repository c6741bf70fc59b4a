//! Hand-built articles shared by the renderer tests: Chinese and English titles, characters
//! that need escaping, characters XML forbids, several categories and tags, with and without
//! a source and an author, and missing dates.

use super::{FeedItem, FeedMeta};
use crate::article::{Article, DateSource, Dated};
use chrono::{DateTime, TimeZone, Utc};

pub fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

fn dated(at: DateTime<Utc>) -> Option<Dated> {
    Some(Dated { at, source: DateSource::FrontMatter })
}

/// One fixture item: the article plus what the index would resolve for it.
pub struct Fixture {
    pub article: Article,
    pub id: String,
    pub link: String,
    pub content_html: String,
}

impl Fixture {
    pub fn item(&self) -> FeedItem<'_> {
        FeedItem {
            article: &self.article,
            id: &self.id,
            link: &self.link,
            content_html: &self.content_html,
        }
    }
}

fn article(path: &str, title: &str, categories: &[&str], tags: &[&str]) -> Article {
    Article {
        categories: categories.iter().map(|s| s.to_string()).collect(),
        tags: tags.iter().map(|s| s.to_string()).collect(),
        ..Article::stub(path, title)
    }
}

pub fn fixtures() -> Vec<Fixture> {
    let mut zh = article(
        "gnews/2021/01/740024.md",
        "喜马拉雅：俄罗斯与中共的“友谊” <深度> & 分析",
        &["HimalayaRussia", "新闻"],
        &["中共", "新闻", "俄罗斯"],
    );
    zh.published = dated(at(2021, 1, 3, 10, 20, 30));
    zh.updated = dated(at(2021, 1, 4, 8, 0, 0));
    zh.source = Some("https://gnews.org/740024/".into());
    zh.author = Some("路德社".into());
    zh.summary = "第一段：俄罗斯与中共的关系并不像表面上那样牢固 🇷🇺🤝🇨🇳……".into();

    let mut nasty = article(
        "en/2021/02/nasty.md",
        "Tom & Jerry <script>alert(\"x\")</script> ]]> 'quoted' 🚀\u{0}\u{b}\u{fffe}",
        &["News", "Tech & Science"],
        &["rust", "<xml>", "  "],
    );
    // Sub-second precision must not leak into the output (RSS cannot express it).
    nasty.published = dated(at(2021, 2, 1, 12, 0, 0) + chrono::Duration::milliseconds(789));
    nasty.summary = "Ends a CDATA section: ]]> and has &amp; < > \"quotes\" \u{1}bell".into();

    let mut plain = article("en/2021/03/no-dates.md", "No dates, odd source", &["News"], &[]);
    plain.updated = dated(at(2021, 3, 5, 0, 0, 0));
    plain.source = Some("not a url".into());
    plain.author = Some("  ".into());

    let mut permalink =
        article("en/2021/03/permalink.md", "Permalink guid", &["Tech & Science"], &["rust"]);
    permalink.source = Some("http://example.com/original?a=1&b=2".into());
    permalink.author = Some("Jane Doe".into());
    permalink.summary = "Plain English summary.".into();

    vec![
        Fixture {
            article: zh,
            id: "tag:example.org,2021:gnews/2021/01/740024.md".into(),
            link: "https://example.org/a/gnews/2021/01/740024".into(),
            content_html: "<p>正文 &amp; 更多 &lt;内容&gt; 🎉</p>\n<p><a href=\"https://example.org/x?a=1&amp;b=2\">链接</a></p>"
                .into(),
        },
        Fixture {
            article: nasty,
            id: "tag:example.org,2021:en/2021/02/nasty.md".into(),
            link: "https://example.org/a/en/2021/02/nasty".into(),
            content_html: "<p>Code: <code>a &lt; b &amp;&amp; c ]]&gt; d</code> raw ]]> too\u{c}</p>".into(),
        },
        Fixture {
            article: plain,
            id: "tag:example.org,2021:en/2021/03/no-dates.md".into(),
            link: "https://example.org/a/en/2021/03/no-dates".into(),
            content_html: "<p>No dates.</p>".into(),
        },
        Fixture {
            article: permalink,
            id: "https://example.org/a/en/2021/03/permalink".into(),
            link: "https://example.org/a/en/2021/03/permalink".into(),
            content_html: "<p>Hello, <em>world</em>.</p>".into(),
        },
    ]
}

pub fn meta() -> FeedMeta {
    FeedMeta {
        slug: "all".into(),
        title: "Herald sample: All <articles> & “more”".into(),
        description: "Every article, newest first".into(),
        id: "tag:example.org,2021:feeds/all".into(),
        rss_url: "https://example.org/feeds/all.rss".into(),
        atom_url: "https://example.org/feeds/all.atom".into(),
        json_url: "https://example.org/feeds/all.json".into(),
        history: Vec::new(),
        hubs: Vec::new(),
        archive: false,
        html_url: "https://example.org/".into(),
        language: Some("zh-CN".into()),
        default_author: "Herald Editors".into(),
        generator: "Herald 0.1.0".into(),
        updated: Some(at(2021, 3, 5, 0, 0, 0)),
    }
}

/// The fixtures as real content would be: every article dated (the `dates` stage guarantees
/// it) and no markup-looking text in titles or summaries. Used for the validator samples.
pub fn realistic() -> Vec<Fixture> {
    let mut fx = fixtures();
    fx.remove(1);
    fx[2].article.published = dated(at(2021, 3, 1, 9, 30, 0));
    fx
}

/// Feeds to check that documents assembled from items are what the feed crates write in one
/// go: the nasty and realistic fixtures, plain and as an archive page with history links and
/// hubs, and an item whose body holds the very markup the item boundaries are found by.
pub fn variants() -> Vec<(FeedMeta, Vec<Fixture>)> {
    let mut tricky = fixtures();
    tricky[0].content_html =
        "<pre>\n    <item>x</item>\n  <entry>y</entry>\n</channel>\n</feed>\n]]>[]\n}</pre>".into();
    tricky[1].article.title = "</item> </entry> \n    <item>".into();
    let mut archive = meta();
    archive.archive = true;
    archive.language = None;
    archive.description = " ".into();
    archive.history = vec![super::HistoryLink {
        rel: "prev-archive",
        rss: "https://example.org/feeds/all/archive/1.rss".into(),
        atom: "https://example.org/feeds/all/archive/1.atom".into(),
    }];
    let mut hubs = meta();
    hubs.hubs = vec!["https://hub.example/?a=1&b=2".into()];
    vec![(meta(), fixtures()), (archive, fixtures()), (hubs.clone(), realistic()), (hubs, tricky)]
}

/// A renderer of a whole document from its items.
pub type RenderFn = fn(&FeedMeta, &[FeedItem<'_>]) -> Vec<u8>;

/// For every variant and every prefix of its items, with bodies and without: `assembled`
/// (a document put together from items rendered one by one) must be byte for byte what
/// `whole` (the feed crate writing the document in one go) writes.
pub fn assert_assembly_is_whole(assembled: RenderFn, whole: RenderFn) {
    for (meta, fx) in variants() {
        let mut items: Vec<_> = fx.iter().map(Fixture::item).collect();
        for n in 0..=items.len() {
            assert_eq!(
                String::from_utf8(assembled(&meta, &items[..n])).unwrap(),
                String::from_utf8(whole(&meta, &items[..n])).unwrap()
            );
        }
        items.iter_mut().for_each(|it| it.content_html = "");
        assert_eq!(assembled(&meta, &items), whole(&meta, &items), "without bodies");
    }
}
