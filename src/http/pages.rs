//! HTML pages: the index of feeds (rendered at publish time) and one article.
//!
//! Plain HTML5 with inline CSS, no JavaScript, readable on a phone. Every piece of text from
//! the content (category names, titles, links) is escaped.

use super::{feed_url, SEGMENT};
use crate::article::Article;
use crate::publish::FeedListing;
use chrono::{DateTime, Utc};
use std::fmt::Write as _;

const STYLE: &str = "\
:root{color-scheme:light dark;--fg:#1d1d1f;--bg:#fff;--muted:#6b6b70;--line:#dcdce0;--link:#0b57d0}
@media (prefers-color-scheme:dark){:root{--fg:#e8e8ea;--bg:#151517;--muted:#a0a0a8;--line:#33333a;--link:#8ab4f8}}
*{box-sizing:border-box}
body{margin:0;padding:1rem;font:16px/1.55 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Noto Sans\",\"PingFang SC\",\"Microsoft YaHei\",sans-serif;color:var(--fg);background:var(--bg)}
main,footer{max-width:52rem;margin:0 auto}
h1{font-size:1.6rem;line-height:1.25;margin:.5rem 0 1rem}
a{color:var(--link)}
.muted,footer{color:var(--muted);font-size:.9rem}
table{width:100%;border-collapse:collapse}
th,td{text-align:left;vertical-align:top;padding:.55rem .5rem;border-bottom:1px solid var(--line)}
thead th{font-size:.85rem;color:var(--muted);font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.latest{margin:.2rem 0 0;padding:0;list-style:none;font-size:.85rem;color:var(--muted);font-weight:normal}
.latest li{overflow:hidden;text-overflow:ellipsis;white-space:nowrap;max-width:30rem}
.subscribe a{margin-right:.6rem;white-space:nowrap}
footer{margin-top:2rem}
article img,article video{max-width:100%;height:auto}
article pre{overflow-x:auto}
article blockquote{margin:1rem 0;padding-left:1rem;border-left:3px solid var(--line);color:var(--muted)}
.meta{margin:0 0 1.5rem}
.meta span{margin-right:.8rem}
@media (max-width:40rem){
thead{display:none}
table,tbody,tr,th,td{display:block}
tr{border-bottom:1px solid var(--line);padding:.5rem 0}
th,td{border:0;padding:.15rem 0}
td.num{text-align:left}
td.num::after{content:\" articles\"}
.latest li{max-width:100%}
}
";

/// Escape text for HTML element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn iso_date(at: Option<DateTime<Utc>>) -> Option<(String, String)> {
    at.map(|at| (at.format("%Y-%m-%dT%H:%M:%SZ").to_string(), at.format("%Y-%m-%d").to_string()))
}

fn head(out: &mut String, title: &str) {
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n",
        escape(title)
    );
}

/// The index page `/`: every feed with its article count, last update and RSS/Atom links,
/// plus feed autodiscovery `<link>`s (`all` first).
pub fn index_page(listing: &[FeedListing], site_title: &str, base_url: &str) -> String {
    let mut out = String::with_capacity(4096 + listing.len() * 600);
    head(&mut out, site_title);
    for f in listing {
        let name = escape(&f.name);
        let _ = writeln!(
            out,
            "<link rel=\"alternate\" type=\"application/rss+xml\" title=\"{name} (RSS)\" href=\"{}\">",
            escape(&feed_url(base_url, &format!("{}.rss", f.slug)))
        );
        let _ = writeln!(
            out,
            "<link rel=\"alternate\" type=\"application/atom+xml\" title=\"{name} (Atom)\" href=\"{}\">",
            escape(&feed_url(base_url, &format!("{}.atom", f.slug)))
        );
        let _ = writeln!(
            out,
            "<link rel=\"alternate\" type=\"application/feed+json\" title=\"{name} (JSON Feed)\" href=\"{}\">",
            escape(&feed_url(base_url, &format!("{}.json", f.slug)))
        );
    }
    let _ = write!(
        out,
        "<style>\n{STYLE}</style>\n</head>\n<body>\n<main>\n<h1>{}</h1>\n",
        escape(site_title)
    );
    let _ = writeln!(
        out,
        "<p class=\"muted\">Subscribe to every article or to one category. \
         Each feed is offered as RSS 2.0, Atom 1.0 and JSON Feed 1.1; paste a link into your feed reader, \
         or import <a href=\"{}\">all feeds as OPML</a>. The RSS and Atom feeds link to archive \
         pages (RFC 5005) that hold every older article.</p>",
        escape(&feed_url(base_url, "index.opml"))
    );
    if listing.is_empty() {
        out.push_str("<p>No feeds yet.</p>\n");
    } else {
        out.push_str(
            "<table>\n<thead><tr><th scope=\"col\">Feed</th><th scope=\"col\" class=\"num\">Articles</th>\
             <th scope=\"col\">Updated</th><th scope=\"col\">Subscribe</th></tr></thead>\n<tbody>\n",
        );
        for f in listing {
            let _ = write!(out, "<tr><th scope=\"row\">{}", escape(&f.name));
            if !f.latest.is_empty() {
                out.push_str("<ul class=\"latest\">");
                for title in &f.latest {
                    let _ = write!(out, "<li>{}</li>", escape(title));
                }
                out.push_str("</ul>");
            }
            let _ = write!(out, "</th><td class=\"num\">{}</td><td>", f.count);
            match iso_date(f.updated) {
                Some((full, day)) => {
                    let _ = write!(out, "<time datetime=\"{full}\">{day}</time>");
                }
                None => out.push('—'),
            }
            let _ = writeln!(
                out,
                "</td><td class=\"subscribe\"><a href=\"{}\">RSS</a><a href=\"{}\">Atom</a><a href=\"{}\">JSON</a></td></tr>",
                escape(&feed_url(base_url, &format!("{}.rss", f.slug))),
                escape(&feed_url(base_url, &format!("{}.atom", f.slug))),
                escape(&feed_url(base_url, &format!("{}.json", f.slug))),
            );
        }
        out.push_str("</tbody>\n</table>\n");
    }
    out.push_str("</main>\n<footer>Served by Herald.</footer>\n</body>\n</html>\n");
    out
}

/// One article: title, dates, categories (linking to their feeds), source link and body.
/// `body_html` is already sanitised and inserted as is; `listing` maps category names to
/// feed slugs (a category not in it is shown without a link).
pub fn article_page(
    article: &Article,
    body_html: &str,
    listing: &[FeedListing],
    site_title: &str,
    base_url: &str,
) -> String {
    let mut out = String::with_capacity(body_html.len() + 4096);
    head(&mut out, &format!("{} — {}", article.title, site_title));
    let _ = write!(
        out,
        "<style>\n{STYLE}</style>\n</head>\n<body>\n<main>\n<p class=\"muted\"><a href=\"{}/\">{}</a></p>\n<article>\n<h1>{}</h1>\n<p class=\"meta muted\">",
        escape(base_url),
        escape(site_title),
        escape(&article.title)
    );
    let published = article.published.map(|d| d.at);
    let updated = article.updated.map(|d| d.at);
    if let Some((full, day)) = iso_date(published.or(updated)) {
        let _ = write!(out, "<span>Published <time datetime=\"{full}\">{day}</time></span>");
    }
    if let (Some(p), Some(u)) = (published, updated) {
        if u.date_naive() != p.date_naive() {
            if let Some((full, day)) = iso_date(Some(u)) {
                let _ = write!(out, "<span>Updated <time datetime=\"{full}\">{day}</time></span>");
            }
        }
    }
    if let Some(author) = &article.author {
        let _ = write!(out, "<span>{}</span>", escape(author));
    }
    if !article.categories.is_empty() {
        out.push_str("<span>");
        for (i, name) in article.categories.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            match listing.iter().find(|f| &f.name == name && f.slug != "all") {
                Some(f) => {
                    let _ = write!(
                        out,
                        "<a href=\"{}\" title=\"RSS feed of this category\">{}</a>",
                        escape(&feed_url(base_url, &format!("{}.rss", f.slug))),
                        escape(name)
                    );
                }
                None => out.push_str(&escape(name)),
            }
        }
        out.push_str("</span>");
    }
    if let Some(source) = &article.source {
        let lower = source.to_ascii_lowercase();
        if lower.starts_with("https://") || lower.starts_with("http://") {
            let _ = write!(
                out,
                "<span><a href=\"{}\" rel=\"noopener\">Source</a></span>",
                escape(source)
            );
        } else {
            let _ = write!(out, "<span>Source: {}</span>", escape(source));
        }
    }
    out.push_str("</p>\n");
    out.push_str(body_html);
    let path: Vec<String> = article
        .path
        .split('/')
        .map(|seg| percent_encoding::utf8_percent_encode(seg, SEGMENT).to_string())
        .collect();
    let _ = write!(
        out,
        "\n</article>\n</main>\n<footer><a href=\"{}/\">All feeds</a> · <span>{}</span></footer>\n</body>\n</html>\n",
        escape(base_url),
        escape(&path.join("/")),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn listing() -> Vec<FeedListing> {
        vec![
            FeedListing {
                slug: "all".into(),
                name: "All articles".into(),
                count: 3,
                updated: Some(Utc.with_ymd_and_hms(2021, 1, 2, 3, 4, 5).unwrap()),
                latest: vec!["A & B".into()],
            },
            FeedListing {
                slug: "x".into(),
                name: "<script>alert(1)</script>".into(),
                count: 1,
                updated: None,
                latest: vec![],
            },
            FeedListing {
                slug: "喜马拉雅农场新西兰站".into(),
                name: "喜马拉雅农场新西兰站".into(),
                count: 2,
                updated: None,
                latest: vec![],
            },
        ]
    }

    #[test]
    fn index_page_escapes_and_links() {
        let html = index_page(&listing(), "Herald \"test\"", "https://example.org");
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("A &amp; B"));
        assert!(html.contains("<title>Herald &quot;test&quot;</title>"));
        assert!(html.contains(
            "<link rel=\"alternate\" type=\"application/rss+xml\" title=\"All articles (RSS)\" href=\"https://example.org/feeds/all.rss\">"
        ));
        assert!(html.contains("type=\"application/atom+xml\" title=\"All articles (Atom)\" href=\"https://example.org/feeds/all.atom\""));
        assert!(html.contains("<link rel=\"alternate\" type=\"application/feed+json\" title=\"All articles (JSON Feed)\" href=\"https://example.org/feeds/all.json\">"));
        assert!(html.contains("<a href=\"https://example.org/feeds/index.opml\">"));
        assert!(html.contains("<time datetime=\"2021-01-02T03:04:05Z\">2021-01-02</time>"));
        // Non-ASCII slugs are percent-encoded in links.
        assert!(html.contains("https://example.org/feeds/%E5%96%9C"));
        // The `all` autodiscovery link comes first.
        let all = html.find("feeds/all.rss").unwrap();
        let x = html.find("feeds/x.rss").unwrap();
        assert!(all < x);
    }

    #[test]
    fn index_page_empty() {
        let html = index_page(&[], "T", "");
        assert!(html.contains("No feeds yet."));
    }
}
