//! Tests of `decode` and `parse`, with invented fixtures in the real corpus's formats.

use super::*;
use chrono::TimeZone;

const NAV: &str = "###  [:house:回到首页](https://github.com/example/archive)\n---\n\n";
const NAV_BAR: &str = "\u{FEFF}### [:house:首页](/README.md) | [:newspaper:新闻](/content/news/README.md) | [:books:文字](/content/talks/README.md)\n---\n\n";

fn opts() -> ParseOptions {
    ParseOptions::default()
}

fn article(path: &str, text: &str) -> Article {
    match parse(path, text.as_bytes(), &opts()) {
        Parsed::Article(a) => *a,
        other => panic!("expected an article for {path}, got {other:?}"),
    }
}

fn skipped(path: &str, bytes: &[u8]) -> String {
    match parse(path, bytes, &opts()) {
        Parsed::Skipped(reason) => reason,
        other => panic!("expected a skip for {path}, got {other:?}"),
    }
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn has_warning(a: &Article, needle: &str) -> bool {
    a.warnings.iter().any(|w| w.message.contains(needle))
}

fn body(text: &str, a: &Article) -> String {
    let (decoded, _) = decode(text.as_bytes());
    decoded[a.body_offset..].to_string()
}

// ---- decode ----

#[test]
fn clean_utf8_is_borrowed_without_warnings() {
    let (text, warnings) = decode("第一行\n第二行，完\n".as_bytes());
    assert!(matches!(text, Cow::Borrowed(_)));
    assert!(warnings.is_empty());
}

#[test]
fn utf8_bom_is_stripped_without_copying() {
    let (text, warnings) = decode(b"\xEF\xBB\xBF# Hello\n");
    assert_eq!(text, "# Hello\n");
    assert!(matches!(text, Cow::Borrowed(_)));
    assert!(warnings.is_empty());
}

#[test]
fn utf16_with_bom_is_decoded_both_ways() {
    let s = "# 标题\r\n正文";
    let le: Vec<u8> =
        [0xFF, 0xFE].into_iter().chain(s.encode_utf16().flat_map(u16::to_le_bytes)).collect();
    let be: Vec<u8> =
        [0xFE, 0xFF].into_iter().chain(s.encode_utf16().flat_map(u16::to_be_bytes)).collect();
    for (bytes, name) in [(le, "UTF-16LE"), (be, "UTF-16BE")] {
        let (text, warnings) = decode(&bytes);
        assert_eq!(text, "# 标题\n正文");
        assert!(warnings[0].message.contains(name));
    }
}

#[test]
fn invalid_utf8_is_replaced_and_its_byte_reported() {
    let mut bytes = "好的".as_bytes().to_vec();
    bytes.extend_from_slice(&[0xE5, 0xA5]); // a character cut in half
    bytes.extend_from_slice(b" end");
    let (text, warnings) = decode(&bytes);
    assert_eq!(text, "好的\u{FFFD} end");
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].message.contains("invalid UTF-8 at byte 6"), "{warnings:?}");
}

#[test]
fn line_ends_are_normalised_and_forbidden_characters_removed() {
    let (text, warnings) = decode(b"a\r\nb\rc\x08d\x00e\xEF\xBF\xBEf\tg\n");
    assert_eq!(text, "a\nb\ncdef\tg\n");
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].message.contains("removed 3 control characters"), "{warnings:?}");
    assert!(warnings[0].message.contains("U+0008"), "{warnings:?}");
    let (text, warnings) = decode(b"crlf only\r\n");
    assert_eq!(text, "crlf only\n");
    assert!(warnings.is_empty());
}

// ---- the seed's format ----

#[test]
fn gnews_article_gives_title_category_source_and_body() {
    let text = format!(
        "{NAV}\n## 山区的 **新** 学校开学了\n` 山城农场 Mountain Farm` [轉載自GNews](https://gnews.example/zh-hans/123456/)\n\n\
         ![]()![](https://img.example/a.jpg)\n\n今天，山区的孩子们第一次走进了新教室。\n老师说：“这是一个好的开始。”\n\n第二段。\n"
    );
    let a = article("2021/01/123456.md", &text);
    assert_eq!(a.title, "山区的 新 学校开学了");
    assert_eq!(a.categories, ["山城农场 Mountain Farm"]);
    assert_eq!(a.source.as_deref(), Some("https://gnews.example/zh-hans/123456/"));
    assert_eq!(a.identity, Identity::Source("https://gnews.example/zh-hans/123456/".into()));
    assert_eq!(a.summary, "今天，山区的孩子们第一次走进了新教室。 老师说：“这是一个好的开始。”");
    assert_eq!(a.published, None);
    assert!(body(&text, &a).starts_with("![]()![](https://img.example/a.jpg)"));
    assert!(a.warnings.is_empty(), "{:?}", a.warnings);
}

#[test]
fn tag_line_with_date_gives_date_and_category() {
    let text = format!(
        "{NAV}## 河边的早市\n`4/2/2024 3:57 PM UTC 河谷农场` [轉載自GNews](https://gnews.example/articles/77)\n\n\
         清晨的早市很热闹。\n"
    );
    let a = article("news/77.md", &text);
    assert_eq!(
        a.published,
        Some(Dated { at: utc(2024, 4, 2, 15, 57), source: DateSource::TagLine })
    );
    assert_eq!(a.updated, None);
    assert_eq!(a.categories, ["河谷农场"]);
    assert_eq!(a.source.as_deref(), Some("https://gnews.example/articles/77"));
}

#[test]
fn tag_line_with_only_a_date_falls_back_to_the_folder_category() {
    let text = format!(
        "{NAV}## 标题\n`4/2/2024 12:30 PM UTC ` [转载](https://gnews.example/a/1)\n\n内容。\n"
    );
    let a = article("news/1.md", &text);
    assert_eq!(a.published.unwrap().at, utc(2024, 4, 2, 12, 30));
    assert_eq!(a.categories, ["news"]);
}

#[test]
fn year_folder_is_not_a_category() {
    let text = "## 标题\n\n内容。\n";
    assert_eq!(article("2021/01/5.md", text).categories, ["uncategorized"]);
    assert_eq!(article("talks/2019/06/5.md", text).categories, ["talks"]);
    assert_eq!(article("5.md", text).categories, ["uncategorized"]);
    let custom = ParseOptions { default_category: "杂项".into(), ..ParseOptions::default() };
    match parse("5.md", text.as_bytes(), &custom) {
        Parsed::Article(a) => assert_eq!(a.categories, ["杂项"]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn transcript_gives_source_line_and_file_name_date() {
    let text = "## 某人2019年6月14日直播 谈天说地\n[轉載自GNews](https://gnews.example/ThreadView/5353)\n\n大家好，今天我们聊聊天气。\n";
    let a = article("talks/2019/06/20190614-5353.md", text);
    assert_eq!(a.title, "某人2019年6月14日直播 谈天说地");
    assert_eq!(a.source.as_deref(), Some("https://gnews.example/ThreadView/5353"));
    assert_eq!(
        a.published,
        Some(Dated { at: utc(2019, 6, 14, 0, 0), source: DateSource::FileName })
    );
    assert_eq!(a.categories, ["talks"]);
    assert_eq!(&text[a.body_offset..], "大家好，今天我们聊聊天气。\n");
}

#[test]
fn transcript_with_empty_title_and_no_text_is_skipped() {
    let reason = skipped(
        "talks/2019/06/20190601-1.md",
        "## \n[轉載自GNews](https://gnews.example/ThreadView/0)\n\n\n\n".as_bytes(),
    );
    assert!(reason.contains("title is empty"), "{reason}");
}

#[test]
fn empty_title_uses_the_first_words_of_the_text() {
    let long = "这是一段很长的文字，".repeat(10);
    let text =
        format!("{NAV}## \n` 某农场` [轉載自GNews](https://gnews.example/1/)\n\n* * *\n\n{long}\n");
    let a = article("news/1.md", &text);
    assert_eq!(a.title.chars().count(), 60);
    assert!(a.title.ends_with('…'));
    assert!(a.title.starts_with("这是一段很长的文字，这是"));
    assert!(has_warning(&a, "empty title; used the first words of the text"));
    assert_eq!(a.categories, ["某农场"]);
}

#[test]
fn gettr_post_gives_author_date_and_source_without_title() {
    let text = format!(
        "{NAV}\n**:arrows_clockwise: p2abc 已轉發**\n\n`@some_user 4/4/2023 1:13 AM UTC`\n\n\
         [轉發自GETTR](https://gettr.example/post/p2abc)\n\n今天天气晴朗 #sunny\n\n![img](https://media.example/1.jpg)\n"
    );
    let a = article("posts/p2abc.md", &text);
    assert_eq!(a.author.as_deref(), Some("some_user"));
    assert_eq!(a.published.unwrap().at, utc(2023, 4, 4, 1, 13));
    assert_eq!(a.source.as_deref(), Some("https://gettr.example/post/p2abc"));
    assert_eq!(a.title, "今天天气晴朗 #sunny");
    assert_eq!(a.categories, ["posts"]);
    assert!(body(&text, &a).starts_with("今天天气晴朗"));
}

#[test]
fn image_only_post_without_title_is_named_after_its_file() {
    let text =
        format!("{NAV}`@someone 4/4/2023 1:13 AM UTC`\n\n![img](https://media.example/1.jpg)\n");
    let a = article("posts/p2xyz.md", &text);
    assert_eq!(a.title, "p2xyz");
    assert!(has_warning(&a, "used the file name"));
    assert_eq!(a.summary, "");
}

#[test]
fn navigation_bar_with_bom_is_dropped() {
    let text = format!("{NAV_BAR}# 关于我们\n\n这是一个小网站。\n");
    let a = article("about/intro.md", &text);
    assert_eq!(a.title, "关于我们");
    assert_eq!(a.summary, "这是一个小网站。");
}

#[test]
fn only_a_navigation_header_is_skipped() {
    assert_eq!(skipped("x.md", NAV.as_bytes()), "only a navigation header");
    assert_eq!(skipped("x.md", b"### [home](/README.md)\n"), "only a navigation header");
}

#[test]
fn empty_and_whitespace_files_are_skipped() {
    assert_eq!(skipped("x.md", b""), "empty file");
    assert_eq!(skipped("x.md", b"  \n\t\r\n"), "only whitespace");
}

#[test]
fn binary_files_are_skipped_with_a_reason() {
    let mut bytes = vec![0u8; 1000];
    bytes.extend_from_slice(b"some text");
    let reason = skipped("x.md", &bytes);
    assert!(reason.starts_with("looks binary:") && reason.contains("NUL"), "{reason}");
    assert!(skipped("x.md", b"%PDF-1.7\nstuff").contains("PDF"));
    let noise: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8 | 0x80).collect();
    assert!(skipped("x.md", &noise).contains("not UTF-8 text"));
}

/// Control characters make a file binary only in numbers (30 % of the first 4 KiB); a few
/// stray ones, and the form feeds and escapes some text carries, do not.
#[test]
fn control_characters_count_only_in_numbers() {
    let few = b"# Title\n\nText\x0c with \x1b[1m a \x01 stray control.\n";
    assert!(matches!(parse("x.md", few, &opts()), Parsed::Article(_)));
    let mut many = b"# Title\n\n".to_vec();
    many.extend(std::iter::repeat_n(0x01u8, 40));
    assert!(skipped("x.md", &many).contains("not UTF-8 text"), "{:?}", skipped("x.md", &many));
    // One NUL is a control like the others; two make a file binary only at 1 % of it.
    let one_nul = b"# Title\n\nText with a \0 NUL.\n";
    assert!(matches!(parse("x.md", one_nul, &opts()), Parsed::Article(_)));
}

#[test]
fn cjk_text_is_not_mistaken_for_binary() {
    let text =
        format!("## 标题\n\n{}", "中文內容繁體與简体混合，日本語も。한국어도.\n".repeat(200));
    let a = article("x.md", &text);
    assert_eq!(a.title, "标题");
}

// ---- front matter ----

#[test]
fn yaml_front_matter_takes_precedence() {
    let text = "---\ntitle: \"正式的标题\"\ndate: 2022-05-06T07:08:09+08:00\nupdated: 2022-05-07\n\
                categories:\n  - 科技\n  - 科技\n  - Tech\ntags: [a, b]\nid: urn:uuid:1234\n\
                draft: true\nauthor: 王五\nsummary: 手写的摘要\n---\n\n# 正式的标题\n\n正文第一段。\n";
    let a = article("blog/20200101-x.md", text);
    assert_eq!(a.title, "正式的标题");
    assert_eq!(
        a.published,
        Some(Dated {
            at: utc(2022, 5, 5, 23, 8) + chrono::Duration::seconds(9),
            source: DateSource::FrontMatter
        })
    );
    assert_eq!(
        a.updated,
        Some(Dated { at: utc(2022, 5, 7, 0, 0), source: DateSource::FrontMatter })
    );
    assert_eq!(a.categories, ["科技", "Tech"]);
    assert_eq!(a.tags, ["a", "b"]);
    assert_eq!(a.identity, Identity::FrontMatter("urn:uuid:1234".into()));
    assert!(a.draft);
    assert_eq!(a.author.as_deref(), Some("王五"));
    assert_eq!(a.summary, "手写的摘要");
    // The heading repeating the title is not part of the body.
    assert_eq!(&text[a.body_offset..], "正文第一段。\n");
    assert!(a.warnings.is_empty(), "{:?}", a.warnings);
}

#[test]
fn toml_front_matter_is_read() {
    let text = "+++\ntitle = \"Zola post\"\ndate = 2020-02-03\ncategories = [\"notes\"]\nsource = \"https://example.org/orig\"\n+++\nFirst words here.\n";
    let a = article("x/y.md", text);
    assert_eq!(a.title, "Zola post");
    assert_eq!(a.published.unwrap().at, utc(2020, 2, 3, 0, 0));
    assert_eq!(a.categories, ["notes"]);
    assert_eq!(a.identity, Identity::Source("https://example.org/orig".into()));
    assert_eq!(a.summary, "First words here.");
}

#[test]
fn bad_front_matter_date_falls_back_to_file_name_and_says_so() {
    let text = "---\ntitle: [1, 2]\ndate: 2021-13-45\n---\n## 标题在这里\n\n内容。\n";
    let a = article("blog/2024-03-01-hello.md", text);
    assert_eq!(a.title, "标题在这里");
    assert_eq!(
        a.published,
        Some(Dated { at: utc(2024, 3, 1, 0, 0), source: DateSource::FileName })
    );
    assert!(has_warning(&a, "`title` is a list"), "{:?}", a.warnings);
    assert!(
        has_warning(
            &a,
            "front matter: `date` is not a date (\"2021-13-45\"); used the file name date"
        ),
        "{:?}",
        a.warnings
    );
}

#[test]
fn out_of_range_front_matter_dates_are_refused() {
    for date in ["1969-07-20", "10000-01-01"] {
        let a = article("x.md", &format!("---\ndate: {date}\n---\n# T\n\ntext\n"));
        assert_eq!(a.published, None, "{date}");
        assert!(has_warning(&a, "`date`"), "{:?}", a.warnings);
        assert!(has_warning(&a, "git history"), "{:?}", a.warnings);
    }
}

#[test]
fn invalid_or_unterminated_front_matter_does_not_skip_the_article() {
    let a = article("x.md", "---\ntitle: [oops\n---\n# Real title\n\nText.\n");
    assert_eq!(a.title, "Real title");
    assert!(has_warning(&a, "not valid YAML"), "{:?}", a.warnings);
    let a = article("x.md", "---\ntitle: never closed\n\nSome text.\n");
    assert!(has_warning(&a, "never closed"), "{:?}", a.warnings);
    assert!(!a.title.is_empty());
}

#[test]
fn a_rule_after_the_navigation_line_is_not_front_matter() {
    let a = article("x.md", &format!("{NAV}## 标题\n\n正文。\n"));
    assert_eq!(a.title, "标题");
    assert!(a.warnings.is_empty(), "{:?}", a.warnings);
}

// ---- titles ----

#[test]
fn title_markup_is_stripped_and_whitespace_collapsed() {
    let a = article(
        "x.md",
        "#   [链接](https://e.org)  里的   `代码` 和 *强调* [[zh:词语]] ##\n\n正文\n",
    );
    assert_eq!(a.title, "链接 里的 代码 和 强调 词语");
}

#[test]
fn very_long_titles_are_capped_with_a_warning() {
    let text = format!("# {}\n\nbody\n", "长".repeat(10_000));
    let a = article("x.md", &text);
    assert_eq!(a.title.chars().count(), MAX_TITLE_CHARS);
    assert!(a.title.ends_with('…'));
    assert!(has_warning(&a, "10000 characters"));
}

#[test]
fn level_three_heading_is_not_a_title() {
    let a = article("x.md", "### 小节\n\n第一句话。\n");
    assert_eq!(a.title, "第一句话。");
    assert!(has_warning(&a, "empty title"));
}

// ---- summary ----

#[test]
fn summary_is_cut_on_a_char_boundary() {
    let opts = ParseOptions { summary_chars: 10, ..ParseOptions::default() };
    let text = "# T\n\n![](a.png)\n\n[[zh:北京]]的**春天**来得很早，[花](https://e.org)都开了。\n";
    match parse("x.md", text.as_bytes(), &opts) {
        Parsed::Article(a) => assert_eq!(a.summary, "北京的春天来得很早…"),
        other => panic!("{other:?}"),
    }
}

// ---- index pages ----

#[test]
fn index_page_is_detected_by_content_whatever_its_name() {
    let mut text = format!("{NAV_BAR}## 頁面 2/9 [**<**](/content/talks/README.md) [1](/content/talks/README.md) **2** [3](/content/talks/README-3.md)\n\n");
    for i in 0..20 {
        text.push_str(&format!(
            "[第{i}次谈话 关于各种话题](/content/talks/2021/01/2021010{i}-{i}.md)\n\n"
        ));
    }
    assert_eq!(parse("talks/list.md", text.as_bytes(), &opts()), Parsed::IndexPage);
}

#[test]
fn news_index_with_summaries_is_an_index_page() {
    let mut text = NAV_BAR.to_string();
    for i in 0..15 {
        text.push_str(&format!(
            "#### [第{i}条新闻的标题](/content/news/{i}.md)\n这是第{i}条新闻的摘要，写得比较长一些，用来模拟真实的列表页面中每条新闻下面的那一段介绍文字。 `4/2/2024 3:57 PM UTC`\n\n"
        ));
    }
    assert_eq!(parse("news/README.md", text.as_bytes(), &opts()), Parsed::IndexPage);
}

#[test]
fn article_named_readme_is_still_an_article() {
    let text = format!(
        "{NAV}## 一篇普通的文章\n` 某农场` [轉載自GNews](https://gnews.example/17/)\n\n第一段文字。\n\n参见[另一篇](other.md)。\n\n结束。\n"
    );
    let a = article("news/17/README.md", &text);
    assert_eq!(a.title, "一篇普通的文章");
}

// ---- robustness ----

#[test]
fn arbitrary_bytes_never_panic() {
    let mut seed = 0x2545F4914F6CDD1Du64;
    let pieces: &[&[u8]] = &[
        b"---\n",
        b"+++\n",
        b"## ",
        b"`",
        b"[",
        b"](",
        b")",
        b"\n",
        b"\r\n",
        b"4/2/2024 ",
        b"12:30 PM UTC",
        b"@",
        "中文".as_bytes(),
        b"\xE5\xA5",
        b"\x00",
        b"![](",
        b"[[zh:",
        b"]]",
        b"title: [1\n",
        b"date: ",
        b"\xFF\xFE",
        b"\xEF\xBB\xBF",
        b"#",
        b" ",
        b"*",
        b"|",
        b".md",
        b"http://x/",
    ];
    for _ in 0..3000 {
        let mut bytes = Vec::new();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let n = (seed % 40) as usize;
        let mut s = seed;
        for _ in 0..n {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            bytes.extend_from_slice(pieces[(s >> 33) as usize % pieces.len()]);
            if s % 7 == 0 {
                bytes.push((s >> 20) as u8);
            }
        }
        let parsed = parse("a/20190614-1.md", &bytes, &opts());
        if let Parsed::Article(a) = parsed {
            let (text, _) = decode(&bytes);
            assert!(a.body_offset <= text.len());
            assert!(text.is_char_boundary(a.body_offset));
            assert!(!a.categories.is_empty());
            assert!(!a.title.is_empty());
        }
    }
}

#[test]
fn list_of_post_excerpts_is_an_index_page() {
    let mut text = NAV_BAR.to_string();
    for i in 0..12 {
        text.push_str(&format!(
            "[@user{i} 4/2/2023 3:50 PM UTC - 直播](/content/posts/p{i}.md)\n\n第{i}条帖子的正文第一行。\n\n\
             第二行，更多的内容在这里。\n\nSome English words too.\n\n<img src=\"https://media.example/{i}.jpg\">\n\n---\n\n"
        ));
    }
    assert_eq!(parse("posts/README.md", text.as_bytes(), &opts()), Parsed::IndexPage);
}

#[test]
fn list_of_local_text_files_is_an_index_page() {
    let mut text = "Case files\n\nTranscripts of the hearings\n\n".to_string();
    for d in 20..28 {
        text.push_str(&format!("[May {d}, 2024 Transcript](Hearing-{d}-05-2024.txt)\n\n"));
    }
    assert_eq!(parse("hearings/index.md", text.as_bytes(), &opts()), Parsed::IndexPage);
}

#[test]
fn long_article_with_a_few_related_links_is_an_article() {
    let mut text = "## 长文章\n\n".to_string();
    for i in 0..40 {
        text.push_str(&format!("第{i}段：这里是正文内容，讲述了一个很长的故事。\n\n"));
    }
    text.push_str("相关文章：\n\n");
    for i in 0..5 {
        text.push_str(&format!("- [相关{i}](/content/news/{i}.md)\n"));
    }
    assert!(matches!(parse("news/long.md", text.as_bytes(), &opts()), Parsed::Article(_)));
}

/// Inputs that make naive parsers quadratic are parsed and rendered safely. How fast is for the
/// `parse/pathological_*` benchmarks (`cargo bench -- pathological`), which report their
/// throughput beside an ordinary article's: a pass/fail test must not depend on the machine's
/// load (this one used to assert a wall-clock limit, and failed on a busy two-core machine).
#[test]
fn pathological_inputs_parse_and_render_safely() {
    for piece in
        ["[[", "[", "](", "`", "*", "<", "#", "[a](b.md) ", "---\n", "> ", "- ", "\n", "1/1/2020 "]
    {
        let mut text = format!("## {}\n", piece.repeat(1000));
        text.push_str(&piece.repeat(200_000 / piece.len()));
        let parsed = parse("x/y.md", text.as_bytes(), &opts());
        assert!(!matches!(parsed, Parsed::Skipped(ref r) if r.contains("binary")), "{piece:?}");
        let html = crate::article::html::render(
            &text[..text.len().min(20_000)],
            &url::Url::parse("https://e.org/").unwrap(),
        );
        assert!(!html.contains("<script"));
    }
}

// ---- characters XML forbids that escapes and references make ----

/// Bug: `decode` removes forbidden characters from the raw text, but YAML escapes (`"\a"`,
/// `"\x01"`) and character references in a heading (`&#x1;`) create them after that, so they
/// reached `Article::title`, categories (and so feed names and slugs), tags, author and summary.
#[test]
fn escapes_and_references_cannot_put_forbidden_characters_into_fields() {
    let a = article(
        "posts/x.md",
        "---\ntitle: \"Bell\\a and\\x1b escape\"\ncategories: [\"Ctl\\x01 Chars\", \"\\x02\"]\ntags: [\"t\\x0c\"]\nauthor: \"Me\\x07\"\nsummary: \"Sum\\x01mary\"\n---\n\nText.\n",
    );
    let forbidden = |s: &str| s.chars().any(|c| (c as u32) < 0x20 && !"\t\n\r".contains(c));
    assert_eq!(a.title, "Bell and escape");
    assert_eq!(a.categories, ["Ctl Chars"]);
    assert_eq!(a.tags, ["t"]);
    assert_eq!(a.author.as_deref(), Some("Me"));
    assert!(!forbidden(&a.summary), "{:?}", a.summary);
    assert!(has_warning(&a, "XML does not allow"), "{:?}", a.warnings);

    let h = article("posts/y.md", "## Refs &#x1; and &#x1F; here\n\nText &#x2; more.\n");
    assert_eq!(h.title, "Refs and here");
    assert!(!forbidden(&h.summary), "{:?}", h.summary);

    // Only forbidden characters: the title falls back, the category falls back to the folder.
    let only = article("posts/z.md", "---\ntitle: \"\\x01\"\ncategory: \"\\x02\"\n---\n\nWords.\n");
    assert_eq!(only.title, "Words.");
    assert_eq!(only.categories, ["posts"]);
    let refs = article("posts/w.md", "&#x1;\n");
    assert!(!forbidden(&refs.title) && !refs.title.is_empty(), "{:?}", refs.title);
}

/// Articles are held for as long as Herald runs: their strings and lists keep no spare
/// capacity.
#[test]
fn a_parsed_article_holds_no_spare_capacity() {
    let text =
        "---\ntitle: A title long enough to have been grown\ncategories: [One, Two, Three]\n\
                tags: [a, b]\nauthor: Someone\nsource: https://example.org/a\n---\n\n\
                A first paragraph that becomes the summary, long enough to need growing.\n";
    let a = article("notes/a.md", text);
    let strings = [&a.path, &a.title, &a.summary].into_iter().chain(&a.categories).chain(&a.tags);
    for s in strings.chain(&a.source).chain(&a.author) {
        assert!(!s.is_empty());
        assert_eq!(s.capacity(), s.len(), "{s:?}");
    }
    assert_eq!((a.categories.capacity(), a.tags.capacity()), (3, 2));
}

#[test]
fn the_index_page_precheck_counts_only_links_to_documents() {
    let two = "[a](x.md) [b](https://e.org/y.md.html) ![c](p.png) [d](sub/y.MD#part \"t\")\n";
    assert!(doc_links_at_most(two, 2));
    assert!(!doc_links_at_most(two, 1));
    // A third, on a line of its own; a target whose `)` is on the next line is no link.
    assert!(!doc_links_at_most(&format!("{two}[e]( notes.txt )\n"), 2));
    assert!(doc_links_at_most(&format!("{two}[e](notes.txt\n)\n"), 2));
    // Below the bar, the page is an article however its lines look.
    let listing = "- [一](a.md)\n- [二](b.md)\n- [三](https://e.org/c)\n- [四](https://e.org/d)\n";
    assert!(doc_links_at_most(listing, 2));
    assert!(matches!(parse("x/list.md", listing.as_bytes(), &opts()), Parsed::Article(_)));
}
