//! Markdown body → sanitised HTML with absolute links.

use super::text::strip_wiki;
use ammonia::UrlRelative;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// Render CommonMark with GitHub extensions to sanitised HTML. Relative links and images are
/// made absolute against `base`, the URL of the article's own location (e.g. its folder on
/// the link template's host).
///
/// Wiki markup `[[zh:word]]` becomes `word`; empty images (`![]()`) are dropped; task list
/// boxes become ☐/☑ (feed readers drop form inputs). The HTML is then cleaned by ammonia: no
/// scripts, styles, frames, objects, forms, event attributes or `javascript:`/`data:` URLs;
/// links get `rel="noopener noreferrer"`.
pub fn render(markdown: &str, base: &url::Url) -> String {
    let markdown = strip_wiki(markdown);
    let opts = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES;
    let mut skip_image = 0usize;
    let events = Parser::new_ext(&markdown, opts).filter_map(|ev| match ev {
        Event::Start(Tag::Image { ref dest_url, .. })
            if skip_image > 0 || dest_url.trim().is_empty() =>
        {
            skip_image += 1;
            None
        }
        Event::End(TagEnd::Image) if skip_image > 0 => {
            skip_image -= 1;
            None
        }
        _ if skip_image > 0 => None,
        Event::TaskListMarker(done) => Some(Event::Text(if done { "☑ " } else { "☐ " }.into())),
        ev => Some(ev),
    });
    let mut raw = String::with_capacity(markdown.len() + markdown.len() / 4);
    pulldown_cmark::html::push_html(&mut raw, events);
    ammonia::Builder::default()
        .url_relative(UrlRelative::RewriteWithBase(base.clone()))
        .link_rel(Some("noopener noreferrer"))
        .clean(&raw)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> url::Url {
        url::Url::parse("https://example.org/articles/2021/").unwrap()
    }

    fn r(md: &str) -> String {
        render(md, &base())
    }

    /// Assert that nothing executable survived: no dangerous element or attribute in any tag
    /// of the output (text is escaped by then, so `&lt;script&gt;` as text is harmless).
    fn assert_inert(html: &str) {
        let mut rest = html;
        while let Some(open) = rest.find('<') {
            let close = rest[open..].find('>').map_or(rest.len(), |i| open + i + 1);
            let tag = rest[open..close].to_ascii_lowercase();
            let name: String = tag[1..]
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            let allowed = [
                "p",
                "a",
                "img",
                "b",
                "strong",
                "em",
                "del",
                "code",
                "pre",
                "table",
                "thead",
                "tbody",
                "tr",
                "th",
                "td",
                "ul",
                "ol",
                "li",
                "sup",
                "div",
                "br",
                "hr",
                "blockquote",
                "h1",
                "h2",
                "h3",
                "h4",
                "h5",
                "h6",
                "span",
                "section",
            ];
            assert!(allowed.contains(&name.as_str()), "element {name:?} survived in {html:?}");
            for bad in [
                " on",
                "javascript:",
                "vbscript:",
                "data:",
                "expression(",
                "style=",
                "srcdoc",
                "formaction",
            ] {
                assert!(!tag.contains(bad), "{bad:?} survived in tag {tag:?} of {html:?}");
            }
            rest = &rest[close..];
        }
        let lower = html.to_ascii_lowercase();
        assert!(!lower.contains("<script") && !lower.contains("<iframe"), "{html:?}");
    }

    #[test]
    fn gfm_features_are_rendered() {
        let html = r("| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~ text\n\n- [x] done\n- [ ] todo\n\nNote[^1].\n\n[^1]: 脚注。\n");
        assert!(html.contains("<table>") && html.contains("<td>1</td>"), "{html}");
        assert!(html.contains("<del>old</del>"), "{html}");
        assert!(html.contains("☑ done") && html.contains("☐ todo"), "{html}");
        assert!(html.contains("脚注。"), "{html}");
    }

    #[test]
    fn relative_links_and_images_become_absolute_with_safe_rel() {
        let html =
            r("[下一篇](next.md) ![图](img/a.png) [abs](/root.md) [ext](https://other.org/x)");
        assert!(html.contains(r#"href="https://example.org/articles/2021/next.md""#), "{html}");
        assert!(html.contains(r#"src="https://example.org/articles/2021/img/a.png""#), "{html}");
        assert!(html.contains(r#"href="https://example.org/root.md""#), "{html}");
        assert!(html.contains(r#"href="https://other.org/x""#), "{html}");
        assert!(html.contains(r#"rel="noopener noreferrer""#), "{html}");
    }

    #[test]
    fn empty_images_are_dropped_and_real_ones_kept() {
        let html = r("![]()![](https://cdn.example.org/p.jpg)文字");
        assert_eq!(html.matches("<img").count(), 1, "{html}");
        assert!(html.contains("https://cdn.example.org/p.jpg"));
        assert!(html.contains("文字"));
    }

    #[test]
    fn wiki_markup_is_rendered_as_plain_words() {
        let html = r("访问了[[zh:北京]]和[[zh:上海]]。");
        assert_eq!(html.trim(), "<p>访问了北京和上海。</p>");
    }

    #[test]
    fn script_and_event_handlers_are_removed() {
        let html = r("Hi <script>alert('x')</script> <img src=x onerror=alert(1)> <b onmouseover=alert(1)>b</b>");
        assert_inert(&html);
        assert!(!html.contains("alert('x')"), "script content kept: {html}");
        assert!(html.contains("<b>b</b>"), "{html}");
    }

    #[test]
    fn obfuscated_javascript_urls_are_removed() {
        for md in [
            r#"<a href="jav&#x09;ascript:alert(1)">x</a>"#,
            r#"<a href="JaVaScRiPt:alert(1)">x</a>"#,
            r#"<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>"#,
            r#"<a href=" javascript:alert(1)">x</a>"#,
            "[x](javascript:alert(1))",
            "[x](JAVASCRIPT:alert(1))",
            "<a href=\"java\0script:alert(1)\">x</a>",
            "<a href=\"vbscript:msgbox(1)\">x</a>",
            "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
            "<img src=\"data:text/html,<script>alert(1)</script>\">",
            "<IMG SRC=\"jav\tascript:alert('XSS');\">",
            "<IMG SRC=javascript:alert(String.fromCharCode(88,83,83))>",
        ] {
            assert_inert(&r(md));
        }
    }

    #[test]
    fn dangerous_elements_are_removed() {
        for md in [
            "<iframe src=\"https://evil.example/\"></iframe>",
            "<svg onload=alert(1)><circle r=1 /></svg>",
            "<svg><script>alert(1)</script></svg>",
            "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
            "<math href=\"javascript:alert(1)\">click</math>",
            "<div style=\"width: expression(alert(1))\">x</div>",
            "<style>body{background:url(javascript:alert(1))}</style>",
            "<object data=\"evil.swf\"></object><embed src=\"evil.swf\">",
            "<form action=\"https://evil.example\"><input name=q><button formaction=javascript:alert(1)>go</button></form>",
            "<BODY ONLOAD=alert('XSS')>",
            "<ScRiPt SRC=https://evil.example/x.js></sCrIpT>",
            "<scr<script>ipt>alert(1)</script>",
            "<img src=x onerror=alert(1)//",
            "<<SCRIPT>alert(\"XSS\");//<</SCRIPT>",
            "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
            "<base href=\"javascript:alert(1)//\">",
            "<iframe srcdoc=\"<script>alert(1)</script>\">",
            "<a href=\"#\" onclick=\"alert(1)\">x</a>",
        ] {
            let html = r(md);
            assert_inert(&html);
        }
    }
}
