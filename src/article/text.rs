//! Plain-text helpers shared by the parser and the renderer: wiki markup, Markdown → plain
//! text, cutting on character boundaries.

use memchr::memmem::Finder;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use std::borrow::Cow;
use std::sync::LazyLock;

/// Replace stray wiki markup `[[zh:word]]` (any short ASCII-letter prefix) and `[[word]]` with
/// `word`. Borrows when there is none.
pub fn strip_wiki(s: &str) -> Cow<'_, str> {
    if !s.contains("[[") {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("[[") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match wiki_word(after) {
            Some((word, used)) => {
                out.push_str(word);
                rest = &after[used..];
            }
            None => {
                out.push('[');
                rest = &rest[start + 1..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// `after` follows `[[`. Returns the word and how many bytes (including `]]`) it used.
fn wiki_word(after: &str) -> Option<(&str, usize)> {
    // Bounded look-ahead: `[[` without `]]` must not make this quadratic.
    let window = &after[..floor_boundary(after, 256)];
    let end = window.find("]]")?;
    let inner = &after[..end];
    if inner.is_empty() || inner.len() > 200 || inner.contains(['[', ']', '\n']) {
        return None;
    }
    let word = match inner.split_once(':') {
        Some((prefix, word))
            if (1..=8).contains(&prefix.len())
                && prefix.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-') =>
        {
            word
        }
        _ => inner,
    };
    let word = word.trim();
    if word.is_empty() {
        return None;
    }
    Some((word, end + 2))
}

/// Collapse runs of whitespace to one space and trim.
pub fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Keep at most `max` characters; when cut, end with `…` (counted in `max`). Returns whether
/// it was cut.
pub fn cut_chars(s: &mut String, max: usize) -> bool {
    if max == 0 {
        let cut = !s.is_empty();
        s.clear();
        return cut;
    }
    match s.char_indices().nth(max) {
        None => false,
        Some(_) => {
            let keep = s.char_indices().nth(max - 1).map_or(s.len(), |(i, _)| i);
            s.truncate(keep);
            let trimmed = s.trim_end().len();
            s.truncate(trimmed);
            s.push('…');
            true
        }
    }
}

/// Like `cut_chars`, but when the cut falls inside a word of spaced text (English, hashtags),
/// back up to the last space if one is among the last 20 characters kept.
pub fn cut_words(s: &mut String, max: usize) -> bool {
    if !cut_chars(s, max) {
        return false;
    }
    s.pop(); // the ellipsis
    let kept = s.chars().count();
    if let Some((i, _)) = s.char_indices().rev().take(20.min(kept)).find(|(_, c)| c.is_whitespace())
    {
        s.truncate(i);
        let trimmed = s.trim_end().len();
        s.truncate(trimmed);
    }
    s.push('…');
    true
}

/// Whether any byte of `b` is one `wanted` picks: a block of 64 bytes at a time with no
/// early exit inside it, which the compiler vectorises (the byte scans every file and every
/// rendered body go through; see `parse::decode` and `render::xml_clean`).
pub fn any_byte(b: &[u8], wanted: impl Fn(u8) -> bool) -> bool {
    b.chunks(64).any(|block| block.iter().fold(false, |found, &c| found | wanted(c)))
}

/// The first two bytes of U+FFFD–U+FFFF, which the byte scans of `parse::decode` and
/// `render::xml_clean` look for. The finder is built once: building one per call
/// (`memmem::find_iter`) was 0.8 % of a cold build's CPU (perf, gen-100k).
pub static EF_BF: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\xEF\xBF"));

/// Largest index `<= i` that is a char boundary of `s`.
pub fn floor_boundary(s: &str, i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    let mut i = i;
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Markdown inline text (e.g. a heading's content) → plain text: links keep their text,
/// images, HTML and emphasis markers are dropped, wiki markup becomes its word, whitespace is
/// collapsed.
pub fn inline_plain(markdown: &str) -> String {
    let unwiki = strip_wiki(markdown);
    // Parsed as the content of a heading so that `1. x` or `- x` stay text.
    let mut src = String::with_capacity(unwiki.len() + 2);
    src.push_str("# ");
    src.push_str(unwiki.trim().trim_start_matches('#'));
    src.retain(|c| c != '\n');
    let mut out = String::new();
    let mut image_depth = 0usize;
    for ev in Parser::new_ext(&src, Options::ENABLE_STRIKETHROUGH) {
        push_plain(&ev, &mut out, &mut image_depth);
    }
    collapse_whitespace(&out)
}

fn push_plain(ev: &Event<'_>, out: &mut String, image_depth: &mut usize) {
    match ev {
        Event::Start(Tag::Image { .. }) => *image_depth += 1,
        Event::End(TagEnd::Image) => *image_depth = image_depth.saturating_sub(1),
        _ if *image_depth > 0 => {}
        Event::Text(t) | Event::Code(t) | Event::InlineMath(t) | Event::DisplayMath(t) => {
            out.push_str(t)
        }
        Event::SoftBreak | Event::HardBreak => out.push(' '),
        _ => {}
    }
}

/// The plain text of the first real paragraph of a Markdown body: paragraphs with no text
/// (only images, or links around images) are passed over. When the body has no paragraph, the
/// first other block with text (heading, list item, table cell) is used. At most `max_chars`
/// characters are collected (more are not needed); the caller cuts.
///
/// Only a bounded prefix of the body is parsed, so this stays cheap on huge files.
pub fn first_paragraph(body: &str, max_chars: usize) -> String {
    first_paragraph_within(body, max_chars, &SHORT_PREFIXES)
}

/// How much of a body is parsed for its first paragraph before the next try, shortest first
/// (see [`first_paragraph_within`]).
const SHORT_PREFIXES: [usize; 2] = [1024, 4 * 1024];

/// [`first_paragraph`], trying each of the body's first `shorts` bytes (up to a blank line)
/// before its first 64 KiB. pulldown-cmark reads the block structure of all it is given
/// before the first event, and the first paragraph is nearly always near the top: parsing
/// up to 64 KiB for it was 7 % of a cold build's CPU on gnews-2021, and 4 KiB still 4.8 %
/// at gen-100k (perf), where the first paragraph mostly ends within the first 1 KiB.
///
/// A short prefix gives the same answer whenever it holds a paragraph with text: a
/// paragraph ends at a blank line, and a blank line closes every block that could change how
/// the text before it reads (a list spanning the cut can only start after a paragraph found
/// before it, or already hold the blank line that makes it loose). Only definitions can
/// reach back (`[label]: url`, `[^note]: text`): with a `]:` after the cut, the prefix is
/// not tried.
fn first_paragraph_within(body: &str, max_chars: usize, shorts: &[usize]) -> String {
    const PREFIX: usize = 64 * 1024;
    let body = if body.len() > PREFIX {
        let cut = floor_boundary(body, PREFIX);
        // Prefer ending at a blank line so the last block is not cut mid-way.
        match body[..cut].rfind("\n\n") {
            Some(i) if i > PREFIX / 2 => &body[..i],
            _ => &body[..cut],
        }
    } else {
        body
    };
    // Looked for only once a prefix is worth trying: a body shorter than every prefix, or a
    // long first paragraph without a blank line, never needs it. Forwards from the cut, and
    // with a finder built once: the reverse search has no SIMD prefilter, and scanning every
    // body backwards to its start was 2.2 % of a cold build's CPU at gen-100k (perf).
    static DEFINITION: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"]:"));
    let defined_after = |cut: usize| DEFINITION.find(&body.as_bytes()[cut..]).is_some();
    let mut tried = 0;
    for &short in shorts.iter().filter(|&&short| short < body.len()) {
        let blank = body[..floor_boundary(body, short)].rfind("\n\n");
        let usable = |&cut: &usize| cut > tried && !defined_after(cut);
        if let Some(cut) = blank.filter(usable) {
            if let (text, true) = paragraph_or_other(&body[..cut], max_chars) {
                return text;
            }
            tried = cut;
        }
    }
    paragraph_or_other(body, max_chars).0
}

/// The first paragraph with text (and `true`), else the first other block with text.
fn paragraph_or_other(body: &str, max_chars: usize) -> (String, bool) {
    let body = strip_wiki(body);
    let opts = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_FOOTNOTES;
    let mut in_para = false;
    let mut para = String::new();
    let mut other = String::new();
    let mut other_done = false;
    let mut image_depth = 0usize;
    // Nesting of non-paragraph blocks whose text may serve as a fallback.
    let mut other_depth = 0usize;
    for ev in Parser::new_ext(&body, opts) {
        match &ev {
            Event::Start(Tag::Paragraph) => {
                in_para = true;
                para.clear();
                continue;
            }
            Event::End(TagEnd::Paragraph) => {
                in_para = false;
                let text = collapse_whitespace(&para);
                if !text.is_empty() {
                    return (text, true);
                }
                continue;
            }
            Event::Start(Tag::Heading { .. } | Tag::Item | Tag::TableCell) => {
                other_depth += 1;
            }
            Event::End(TagEnd::Heading(_) | TagEnd::Item | TagEnd::TableCell) => {
                other_depth = other_depth.saturating_sub(1);
                if other_depth == 0 && !other.trim().is_empty() {
                    other_done = true;
                }
            }
            Event::Start(Tag::CodeBlock(_)) | Event::End(TagEnd::CodeBlock) => continue,
            _ => {}
        }
        if in_para {
            push_plain(&ev, &mut para, &mut image_depth);
            if para.len() > max_chars * 4 + 64 && para.chars().count() > max_chars * 2 + 16 {
                return (collapse_whitespace(&para), true);
            }
        } else if other_depth > 0 && !other_done && other.len() < max_chars * 4 + 64 {
            push_plain(&ev, &mut other, &mut image_depth);
        }
    }
    if in_para {
        let text = collapse_whitespace(&para);
        if !text.is_empty() {
            return (text, true);
        }
    }
    (collapse_whitespace(&other), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wiki_markup_becomes_its_word() {
        assert_eq!(strip_wiki("据说[[zh:美国]]和[[法国]]都同意"), "据说美国和法国都同意");
    }

    #[test]
    fn unclosed_or_odd_wiki_markup_is_left_alone() {
        assert_eq!(strip_wiki("a [[zh:b c"), "a [[zh:b c");
        assert_eq!(strip_wiki("[[]] and [[[x]]]"), "[[]] and [x]");
        assert!(matches!(strip_wiki("no markup"), Cow::Borrowed(_)));
    }

    #[test]
    fn cutting_respects_char_boundaries_and_adds_ellipsis() {
        let mut s = "春眠不觉晓处处闻啼鸟".to_string();
        assert!(cut_chars(&mut s, 5));
        assert_eq!(s, "春眠不觉…");
        let mut short = "短句".to_string();
        assert!(!cut_chars(&mut short, 5));
        assert_eq!(short, "短句");
    }

    #[test]
    fn word_cut_backs_up_to_a_space_but_not_in_cjk_text() {
        let mut s = "2023.04.03 #freedom #sunny #weather #takedown more words".to_string();
        assert!(cut_words(&mut s, 40));
        assert_eq!(s, "2023.04.03 #freedom #sunny #weather…");
        let mut cjk = "没有空格的中文句子会在字符处截断".to_string();
        assert!(cut_words(&mut cjk, 6));
        assert_eq!(cjk, "没有空格的…");
    }

    #[test]
    fn inline_plain_strips_links_emphasis_code_and_images() {
        assert_eq!(
            inline_plain("**Bold** [新闻](https://e.com/x) `code` ![pic](a.png) _it_  [[zh:词]]"),
            "Bold 新闻 code it 词"
        );
        assert_eq!(inline_plain("1. Not a list"), "1. Not a list");
    }

    #[test]
    fn first_paragraph_skips_image_only_paragraphs() {
        let body =
            "![](a.png)\n\n[![](b.png)](https://e.com)\n\n今天 **天气** 很好。\n第二行\n\nLater.";
        assert_eq!(first_paragraph(body, 100), "今天 天气 很好。 第二行");
    }

    /// The short prefix is an optimisation only: cut anywhere, it gives what parsing the
    /// whole body gives, whatever spans the cut.
    #[test]
    fn first_paragraph_is_the_same_from_a_short_prefix() {
        let bodies = [
            "第一段。\n\n第二段。\n",
            "![](a.png)\n\n[![](b.png)](c)\n\n真正的第一段，\n接着一行。\n\n后面。\n",
            // A list that becomes loose after the cut, and its tight form.
            "- a\n- b\n\n- c\n\n段落。\n",
            "- a\n- b\n\n段落。\n",
            // Definitions after the cut change how the first paragraph reads.
            "See [the report][r] and a note[^1].\n\nMore.\n\n[r]: https://e.org/r\n[^1]: Later.\n",
            "Text [r] here.\n\n\n\nmore\n\n[r]: /x\n",
            // Blocks that run across blank lines.
            "```\ncode\n\nstill code\n```\n\nAfter the fence.\n",
            "<!-- a\n\ncomment -->\n\nAfter the comment.\n",
            "> quote\n\n> more\n\nplain\n",
            "    indented\n\n    code\n\nplain **bold\n\nnot** closed\n",
            "Title\n=====\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nText.\n",
            "# Only\n\n## headings\n",
            "[[zh:维基]]词条。\n\n其余。\n",
        ];
        for body in bodies {
            let whole = first_paragraph_within(body, 40, &[]);
            for short in 0..=body.len() {
                for shorts in [[short, usize::MAX], [short, short + 7]] {
                    assert_eq!(
                        first_paragraph_within(body, 40, &shorts),
                        whole,
                        "{body:?} cut at {shorts:?}"
                    );
                }
            }
        }
        // A long first paragraph is collected to the same length.
        let long = format!("{}\n\nnext\n", "字".repeat(500));
        assert_eq!(
            first_paragraph_within(&long, 40, &[8, 16]),
            first_paragraph_within(&long, 40, &[])
        );
    }

    #[test]
    fn first_paragraph_falls_back_to_list_text() {
        assert_eq!(first_paragraph("- first item\n- second\n", 100), "first item");
        assert_eq!(first_paragraph("", 100), "");
    }
}
