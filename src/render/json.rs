//! JSON Feed 1.1 (<https://www.jsonfeed.org/version/1.1/>).
//!
//! The same items, ids, links and dates as the RSS and Atom documents. Field order is fixed by
//! the structs below, so the same inputs give the same bytes. Text goes through the same
//! cleaning as the XML formats, so a title reads the same in all three. Dates are RFC 3339 in
//! UTC, whole seconds; the source link is `external_url`.

use super::{clean, FeedItem, FeedMeta};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

/// `Content-Type` of the JSON Feed documents.
pub const CONTENT_TYPE: &str = "application/feed+json; charset=utf-8";

/// The `version` every document declares.
pub const VERSION: &str = "https://jsonfeed.org/version/1.1";

#[derive(Serialize)]
struct Author {
    name: String,
}

#[derive(Serialize)]
struct Item {
    id: String,
    url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_url: Option<String>,
    title: String,
    content_html: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<String>,
    date_published: String,
    date_modified: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    authors: Vec<Author>,
}

/// A JSON Feed 1.1 `hubs` entry: `type` is the protocol.
#[derive(Serialize)]
struct Hub {
    #[serde(rename = "type")]
    kind: &'static str,
    url: String,
}

#[derive(Serialize)]
struct Feed {
    version: &'static str,
    title: String,
    home_page_url: String,
    feed_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<String>,
    authors: Vec<Author>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hubs: Vec<Hub>,
    items: Vec<Item>,
}

/// RFC 3339, UTC, whole seconds: `2021-01-02T03:04:05Z`.
pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn item(meta: &FeedMeta, it: &FeedItem<'_>) -> Item {
    let a = it.article;
    let summary = a.summary.trim();
    Item {
        id: clean(it.id),
        url: clean(it.link),
        external_url: super::source_url(a),
        title: clean(&a.title),
        content_html: clean(it.content_html),
        summary: (!summary.is_empty()).then(|| clean(summary)),
        date_published: rfc3339(super::published(a)),
        date_modified: rfc3339(super::updated(a)),
        tags: super::categories(a).into_iter().map(clean).collect(),
        authors: vec![Author { name: clean(super::author(meta, a)) }],
    }
}

/// Indent of an item in the `items` array of a pretty-printed document.
const ITEM_INDENT: &str = "\n    ";
/// How a pretty-printed document without items ends (before the final line break).
const NO_ITEMS: &str = "[]\n}\n";

/// One item exactly as it appears in a JSON Feed document (from the line break before `{` to
/// `}`, lines indented for the `items` array). serde_json writes line breaks only between
/// tokens (a line break in a string is `\n`), so indenting the item's own pretty form gives
/// the bytes a whole-document render would.
pub fn item_fragment(meta: &FeedMeta, it: &FeedItem<'_>) -> String {
    let json = serde_json::to_string_pretty(&item(meta, it))
        .expect("serialising plain structs cannot fail");
    let mut out = String::with_capacity(json.len() + json.len() / 8);
    out.push_str(ITEM_INDENT);
    out.push_str(&json.replace('\n', ITEM_INDENT));
    out
}

/// The JSON Feed 1.1 document for `items` (already ordered newest first), as UTF-8 bytes.
/// Deterministic: the same inputs give the same bytes.
pub fn render(meta: &FeedMeta, items: &[FeedItem<'_>]) -> Vec<u8> {
    let fragments: Vec<String> = items.iter().map(|it| item_fragment(meta, it)).collect();
    super::splice(&shell(meta, !items.is_empty()), fragments.iter().map(String::as_bytes)).0
}

/// The document for `meta` around its items (`any`: there are some).
pub fn shell(meta: &FeedMeta, any: bool) -> super::Shell {
    let mut head =
        serde_json::to_vec_pretty(&feed(meta)).expect("serialising plain structs cannot fail");
    head.push(b'\n');
    if !any {
        return super::Shell { head, sep: "", tail: Vec::new() };
    }
    // `items` is the last field: its `[]` opens, then the items, as serde_json would have
    // written them.
    debug_assert!(head.ends_with(NO_ITEMS.as_bytes()));
    head.truncate(head.len() - NO_ITEMS.len());
    head.push(b'[');
    super::Shell { head, sep: ",", tail: b"\n  ]\n}\n".to_vec() }
}

/// The feed fields for `meta`, without items.
fn feed(meta: &FeedMeta) -> Feed {
    let description = meta.description.trim();
    Feed {
        version: VERSION,
        title: clean(&meta.title),
        home_page_url: clean(&meta.html_url),
        feed_url: clean(&meta.json_url),
        description: (!description.is_empty()).then(|| clean(description)),
        language: meta.language.as_deref().map(clean).filter(|l| !l.trim().is_empty()),
        authors: vec![Author { name: clean(&meta.default_author) }],
        hubs: meta.hubs.iter().map(|hub| Hub { kind: "WebSub", url: clean(hub) }).collect(),
        items: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::fixtures::{fixtures, meta, Fixture};
    use crate::render::{categories, published, source_url, updated, xml_clean};

    /// The document as serde_json writes it in one go, items and all.
    fn whole(meta: &FeedMeta, items: &[FeedItem<'_>]) -> Vec<u8> {
        let mut f = feed(meta);
        f.items = items.iter().map(|it| item(meta, it)).collect();
        let mut out = serde_json::to_vec_pretty(&f).unwrap();
        out.push(b'\n');
        out
    }

    #[test]
    fn assembled_from_items_is_what_serde_json_writes_whole() {
        crate::render::fixtures::assert_assembly_is_whole(render, whole);
    }

    fn render_fixtures(fx: &[Fixture]) -> Vec<u8> {
        let items: Vec<_> = fx.iter().map(Fixture::item).collect();
        render(&meta(), &items)
    }

    #[test]
    fn deterministic_and_ordered() {
        let a = render_fixtures(&fixtures());
        assert_eq!(a, render_fixtures(&fixtures()));
        let text = String::from_utf8(a).unwrap();
        let pos = |k: &str| text.find(&format!("\"{k}\":")).unwrap();
        assert!(pos("version") < pos("title") && pos("title") < pos("home_page_url"));
        assert!(pos("feed_url") < pos("items"));
        assert!(text.starts_with("{\n  \"version\": \"https://jsonfeed.org/version/1.1\","));
    }

    #[test]
    fn fields_match_the_articles() {
        let fx = fixtures();
        let m = meta();
        let v: serde_json::Value = serde_json::from_slice(&render_fixtures(&fx)).unwrap();
        assert_eq!(v["version"], VERSION);
        assert_eq!(v["title"], xml_clean(&m.title).as_ref());
        assert_eq!(v["feed_url"], m.json_url);
        assert_eq!(v["home_page_url"], m.html_url);
        assert_eq!(v["language"], "zh-CN");
        assert_eq!(v["authors"][0]["name"], "Herald Editors");
        let items = v["items"].as_array().unwrap();
        assert_eq!(items.len(), fx.len());
        for (item, f) in items.iter().zip(&fx) {
            let a = &f.article;
            assert_eq!(item["id"], f.id);
            assert_eq!(item["url"], f.link);
            assert_eq!(item["title"], xml_clean(&a.title).as_ref());
            assert_eq!(item["content_html"], xml_clean(&f.content_html).as_ref());
            assert_eq!(item["date_published"], rfc3339(published(a)));
            assert_eq!(item["date_modified"], rfc3339(updated(a)));
            assert_eq!(item["external_url"].as_str().map(String::from), source_url(a));
            let tags: Vec<String> = item["tags"]
                .as_array()
                .map(|t| t.iter().map(|x| x.as_str().unwrap().to_string()).collect())
                .unwrap_or_default();
            let want: Vec<String> =
                categories(a).iter().map(|c| xml_clean(c).into_owned()).collect();
            assert_eq!(tags, want);
            assert_eq!(item["authors"][0]["name"], crate::render::author(&m, a));
        }
    }

    #[test]
    fn empty_feed_is_valid() {
        let mut m = meta();
        m.language = None;
        m.description = " ".into();
        let v: serde_json::Value = serde_json::from_slice(&render(&m, &[])).unwrap();
        assert_eq!(v["items"].as_array().unwrap().len(), 0);
        assert!(v.get("language").is_none() && v.get("description").is_none());
    }

    #[test]
    fn feed_rs_reads_it() {
        let fx = fixtures();
        let feed = feed_rs::parser::parse(&render_fixtures(&fx)[..]).unwrap();
        assert_eq!(feed.feed_type, feed_rs::model::FeedType::JSON);
        assert_eq!(feed.entries.len(), fx.len());
        for (e, f) in feed.entries.iter().zip(&fx) {
            assert_eq!(e.id, f.id);
            assert_eq!(e.published, Some(published(&f.article)));
        }
    }

    #[test]
    fn websub_hubs_are_listed_and_nothing_else_changes() {
        let fx = fixtures();
        let items: Vec<_> = fx.iter().map(Fixture::item).collect();
        let mut m = meta();
        m.hubs =
            vec!["https://hub.example/".to_string(), "http://127.0.0.1:9/p?a=1&b=2".to_string()];
        let with: serde_json::Value = serde_json::from_slice(&render(&m, &items)).unwrap();
        let without_bytes = render(&meta(), &items);
        let without: serde_json::Value = serde_json::from_slice(&without_bytes).unwrap();
        assert_eq!(
            with["hubs"],
            serde_json::json!([
                {"type": "WebSub", "url": "https://hub.example/"},
                {"type": "WebSub", "url": "http://127.0.0.1:9/p?a=1&b=2"},
            ])
        );
        assert_eq!(with["feed_url"], m.json_url, "the topic");
        let mut rest = with.clone();
        rest.as_object_mut().unwrap().remove("hubs");
        assert_eq!(rest, without);
        assert!(!String::from_utf8(without_bytes).unwrap().contains("hubs"));
    }
}
