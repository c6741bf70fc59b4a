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
/// links get `rel="noopener noreferrer"`. Markdown without raw HTML gets ammonia's result
/// without its DOM (see `generated`), in half the time.
pub fn render(markdown: &str, base: &url::Url) -> String {
    let (raw, has_raw_html) = markdown_to_html(markdown);
    if !has_raw_html {
        // Only pulldown-cmark's own tags: ammonia's result without its DOM (see `generated`).
        if let Some(clean) = super::generated::clean(&raw, base) {
            return clean;
        }
    }
    sanitise(&raw, base)
}

/// `render` with ammonia on every body, the way it is still done for bodies with raw HTML.
/// What `render` must equal; public for the fuzz target that holds them equal.
#[doc(hidden)]
pub fn render_through_ammonia(markdown: &str, base: &url::Url) -> String {
    sanitise(&markdown_to_html(markdown).0, base)
}

/// pulldown-cmark's HTML for `markdown`, and whether the Markdown held raw HTML.
fn markdown_to_html(markdown: &str) -> (String, bool) {
    let markdown = strip_wiki(markdown);
    let opts = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES;
    let mut skip_image = 0usize;
    let mut has_raw_html = false;
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
        Event::Html(_) | Event::InlineHtml(_) => {
            has_raw_html = true;
            Some(ev)
        }
        ev => Some(ev),
    });
    let mut raw = String::with_capacity(markdown.len() + markdown.len() / 4);
    pulldown_cmark::html::push_html(&mut raw, events);
    (raw, has_raw_html)
}

fn sanitise(html: &str, base: &url::Url) -> String {
    ammonia::Builder::default()
        .url_relative(UrlRelative::RewriteWithBase(base.clone()))
        .link_rel(Some("noopener noreferrer"))
        .clean(html)
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

    /// Markdown that pulldown-cmark turns into HTML of its own: every kind of element and
    /// attribute it writes with Herald's options, and the text and URLs whose escaping or
    /// checking differs between its writer, html5ever's serialiser and ammonia.
    const GENERATED: &[&str] = &[
        "段落。第二行\n接着写。",
        "# 一\n\n## 二\n\n### three\n\n#### 4\n\n##### 5\n\n###### 6",
        "*em* **strong** ~~del~~ `code <&>\"'` ***both***",
        "```rust title\nfn main() { \"<&>\" }\n```",
        "```\nno language\n```\n\n    indented\n    code",
        "> 引用\n>\n> > nested **quote**",
        "- a\n- b\n  - c\n    1. d\n\n3. three\n4. four",
        "- [x] done\n- [ ] todo",
        "| left | centre | right | none |\n|:--|:-:|--:|---|\n| 1 | 2 | 3 | 4 |\n| `|` | \\| | x | y |",
        "| only head |\n|---|",
        "Note[^n] and again[^n] and [^other].\n\n[^n]: 脚注 **一**。\n\n[^other]: Two\n    paragraphs.",
        "hard  \nbreak\\\nand soft\nbreak",
        "above\n\n---\n\n***\nbelow",
        "[rel](next.md) [abs](/root.md) [ext](https://other.org/x?a=1&b=2) [frag](#top)",
        "[empty]() [space](<a b.md>) [quote](it's.md) [中文](文章/第一篇.md) [pct](a%20b.md)",
        "[t](x.md \"a \\\"title\\\" & <more>\") [t2](y.md 'single')",
        "[js](javascript:alert(1)) [JS](JAVASCRIPT:alert(1)) [vb](vbscript:x) [data](data:text/html,x)",
        "[mail](mailto:a@b.org) <someone@example.org> <https://auto.example/x?y=1&z> <ftp://f.example/>",
        "[weird](foo:bar) [tel](tel:+123) [bad](http://[::1) [host](//cdn.example/x.png) [q](?q=1)",
        "![图](img/a.png) ![alt *em* `c` & \"q\"](https://cdn.example.org/p.jpg \"标题\")",
        "![js](javascript:x) ![rel](../up.png)\n![line\nbreak](b.png)",
        "[![inner](i.png)](outer.md)",
        "[ref link][r] and ![ref img][r]\n\n[r]: target.md \"T\"",
        "&nbsp;no-break&nbsp;spaces\u{a0}and &copy; &amp; &lt;tag&gt; &quot; &#39; &#x27; \"quotes\" 'apostrophes' > <",
        "a < b > c & d \\<not a tag\\>",
        "访问了[[zh:北京]]和[[zh:上海]]。",
        "text with \u{1} control and \u{7f} del and \u{fffd}",
        "line\u{2028}separator and tab\there",
        "crlf\r\nline and lone\rcr",
        "",
    ];

    /// Markdown whose HTML is left to ammonia: raw HTML, a link inside a link (html5ever
    /// closes the outer one), a relative URL that cannot be resolved, a NUL (html5ever drops
    /// it).
    const NOT_GENERATED: &[&str] = &[
        "raw <b>html</b>",
        "<div>\nblock\n</div>",
        "<!-- comment -->",
        "[x <https://y.example> z](q.md)",
        // Relative URLs that cannot be resolved: ammonia drops them by `swap_remove`, which
        // reorders the remaining attributes (found by the `body_html` fuzz target).
        "![img](<//bad host/p.png> \"t\") [a](<//bad host/> \"t\")",
        "nul \u{0} here",
    ];

    /// Whether `render` takes the shortcut for `md`.
    fn shortcut(md: &str) -> bool {
        let (html, has_raw_html) = markdown_to_html(md);
        !has_raw_html && crate::article::generated::clean(&html, &base()).is_some()
    }

    /// `render` equals ammonia on every body, alone and after every other body (pulldown-cmark's
    /// newlines depend on what came before), and takes the shortcut for Markdown without HTML.
    #[test]
    fn bodies_without_raw_html_are_rendered_as_ammonia_renders_them() {
        let base = base();
        let mut taken = 0;
        for a in GENERATED.iter().chain(NOT_GENERATED) {
            for b in [""].iter().chain(GENERATED).chain(NOT_GENERATED) {
                let md = format!("{b}\n\n{a}");
                assert_eq!(render(&md, &base), render_through_ammonia(&md, &base), "{md:?}");
                taken += usize::from(shortcut(&md));
            }
        }
        for md in GENERATED {
            assert!(shortcut(md), "no shortcut for {md:?}: {:?}", markdown_to_html(md).0);
        }
        assert!(taken > GENERATED.len() * GENERATED.len() / 2, "{taken}");
    }

    /// The same equality on Markdown strung together from the tokens that steer pulldown-cmark,
    /// html5ever and ammonia, in a fixed pseudo-random order (xorshift, fixed seed).
    #[test]
    fn shuffled_markdown_is_rendered_as_ammonia_renders_it() {
        #[rustfmt::skip]
        const TOKENS: &[&str] = &[
            "*", "_", "**", "~~", "`", "```", "[", "]", "](", ")", "![", "<", ">", "&", "\"", "'",
            "\n", "\n\n", "  \n", "\\", "|", "|---|", "---", "#", "- ", "1. ", "3) ", "> ", "    ",
            "\t", "[^1]", "[^1]: ", "[r]", "[r]: ", "x.md", "../y.png", "#frag", "?q=1&r=2",
            "https://h.example/p", "//h.example/", "javascript:x", "mailto:a@b.org", "foo:bar",
            "http://[::1", "<https://a.example/b>", "<a@b.example>", "&nbsp;", "&amp;", "&#x27;",
            "&copy;", "\u{a0}", "中文", "[[zh:词]]", "%20", " \"t\"", " ", "word", "<b>", "</b>",
            "<!--", "-->", "<div>", "- [x] ", "\r\n", "<//bad host/>",
        ];
        let base = base();
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let mut taken = 0;
        for _ in 0..3000 {
            let len = 1 + next(40);
            let md: String = (0..len).map(|_| TOKENS[next(TOKENS.len())]).collect();
            assert_eq!(render(&md, &base), render_through_ammonia(&md, &base), "{md:?}");
            taken += usize::from(shortcut(&md));
        }
        // Raw HTML tokens are drawn often; still, many bodies must take the shortcut.
        assert!(taken > 300, "{taken} of 3000 took the shortcut");
    }

    #[test]
    fn bodies_ammonia_must_see_are_not_taken_by_the_shortcut() {
        for md in NOT_GENERATED {
            assert!(!shortcut(md), "{md:?} took the shortcut");
        }
    }

    /// Each rewrite the shortcut makes, spelled out (the equality test above says only that it
    /// agrees with ammonia).
    #[test]
    fn the_shortcut_makes_ammonias_rewrites() {
        let html = r("a  \nb\n\n---\n\n![i](x.png \"t\") [l](y.md)\n\n| h |\n|:-:|\n| c |\n\n```rs\nx\n```\n\n\"q\"&nbsp;");
        for want in [
            "<br>",
            "<hr>",
            r#"<img src="https://example.org/articles/2021/x.png" alt="i" title="t">"#,
            r#"<a href="https://example.org/articles/2021/y.md" rel="noopener noreferrer">l</a>"#,
            "<th>h</th>",
            "<td>c</td>",
            "<pre><code>x\n</code></pre>",
            "<p>\"q\"&nbsp;</p>",
        ] {
            assert!(html.contains(want), "{want:?} not in {html:?}");
        }
        assert!(!html.contains("/>") && !html.contains("style=") && !html.contains("class="));
    }
}
