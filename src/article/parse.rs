//! Pure parsing: `(path, bytes) → Parsed`. No I/O here; `scan` reads the files.
//!
//! The head of a file is read line by line, in this order, each part optional:
//! front matter (`---` YAML or `+++` TOML on line 1), a navigation header (a line of links
//! followed by a `---` rule), the title heading (`#` or `##`), the tag line (a back-quoted
//! span: date, `@author`, category, then a source link) and a source-only link line. The body
//! starts after them (`Article::body_offset`). Every fallback or repair leaves a warning.

use super::frontmatter::{self, FrontMatter};
use super::tagline::{parse_tag_line, source_only_line, TagLine};
use super::text::{
    any_byte, collapse_whitespace, cut_chars, cut_words, first_paragraph, inline_plain, strip_wiki,
};
use super::{Article, DateSource, Dated, Identity, ParseOptions, Parsed, Warning};
use chrono::{DateTime, NaiveDate, Utc};
use std::borrow::Cow;

/// Longest title kept, in characters.
const MAX_TITLE_CHARS: usize = 300;
/// Length of a title made from the first words of the text, in characters.
const FALLBACK_TITLE_CHARS: usize = 60;
/// How much of a file is examined to decide whether it is binary.
const BINARY_SAMPLE: usize = 4096;

/// Decode a file's bytes to text: strip a UTF-8 BOM, decode UTF-16 (with BOM), replace invalid
/// UTF-8 lossily, normalise CRLF/CR to LF and drop characters XML 1.0 forbids. Each repair is
/// reported as a warning. `Article::body_offset` indexes into the returned text.
///
/// Borrows (no copy) when the bytes are valid UTF-8 with LF line ends and no forbidden
/// characters.
pub fn decode(bytes: &[u8]) -> (Cow<'_, str>, Vec<Warning>) {
    let mut warnings = Vec::new();
    let text: Cow<'_, str> = if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        Cow::Owned(decode_utf16(rest, u16::from_le_bytes, "UTF-16LE", &mut warnings))
    } else if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        Cow::Owned(decode_utf16(rest, u16::from_be_bytes, "UTF-16BE", &mut warnings))
    } else {
        let (skip, b) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
            Some(rest) => (3, rest),
            None => (0, bytes),
        };
        // simdutf8 rather than `std::str::from_utf8`: validating was 8 % of a cold build's
        // CPU on the Chinese archive (three bytes a character defeat std's ASCII fast path).
        match simdutf8::compat::from_utf8(b) {
            Ok(s) => Cow::Borrowed(s),
            Err(e) => {
                let places = b.utf8_chunks().filter(|c| !c.invalid().is_empty()).count();
                let more = if places > 1 {
                    format!(" (and in {} more places)", places - 1)
                } else {
                    String::new()
                };
                warnings.push(Warning::new(format!(
                    "invalid UTF-8 at byte {}{more}, replaced with U+FFFD",
                    e.valid_up_to() + skip
                )));
                String::from_utf8_lossy(b)
            }
        }
    };
    if !needs_cleaning(text.as_bytes()) {
        return (text, warnings);
    }
    let (clean, removed) = clean_text(&text);
    if let Some((count, first, at)) = removed {
        warnings.push(Warning::new(format!(
            "removed {count} control character{} that XML does not allow (first U+{:04X} at byte {at})",
            if count == 1 { "" } else { "s" },
            first as u32
        )));
    }
    (Cow::Owned(clean), warnings)
}

fn decode_utf16(
    bytes: &[u8],
    unit: fn([u8; 2]) -> u16,
    name: &str,
    warnings: &mut Vec<Warning>,
) -> String {
    let units = bytes.chunks_exact(2).map(|p| unit([p[0], p[1]]));
    let mut out = String::with_capacity(bytes.len());
    let mut bad = 0usize;
    for c in char::decode_utf16(units) {
        match c {
            Ok(c) => out.push(c),
            Err(_) => {
                bad += 1;
                out.push('\u{FFFD}');
            }
        }
    }
    let mut msg = format!("file is {name}; decoded it to UTF-8");
    if bad > 0 {
        msg.push_str(&format!(" ({bad} unpaired surrogates replaced with U+FFFD)"));
    }
    if bytes.len() % 2 == 1 {
        msg.push_str(" (dropped a trailing odd byte)");
    }
    warnings.push(Warning::new(msg));
    out
}

/// Any CR, forbidden C0 control, U+FFFE or U+FFFF? Every file goes through this, so the
/// controls are looked for a block at a time without branching (the compiler vectorises it),
/// and the two noncharacters by their shared first two bytes.
fn needs_cleaning(b: &[u8]) -> bool {
    any_byte(b, |c| c < 0x20 && c != b'\t' && c != b'\n')
        || super::EF_BF.find_iter(b).any(|i| matches!(b.get(i + 2), Some(0xBE | 0xBF)))
}

/// CRLF/CR → LF, forbidden characters dropped. Returns the text and, if any were dropped,
/// (how many, the first, its byte offset).
fn clean_text(s: &str) -> (String, Option<(usize, char, usize)>) {
    let mut out = String::with_capacity(s.len());
    let mut removed = 0usize;
    let mut first = None;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\r' => {
                if chars.peek().map(|&(_, n)| n) != Some('\n') {
                    out.push('\n');
                }
            }
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                removed += 1;
                first.get_or_insert((c, i));
            }
            c => out.push(c),
        }
    }
    (out, first.map(|(c, i)| (removed, c, i)))
}

/// Parse one `*.md` file. `path` is relative to the content root, `/`-separated.
pub fn parse(path: &str, bytes: &[u8], opts: &ParseOptions) -> Parsed {
    if bytes.is_empty() {
        return Parsed::Skipped("empty file".into());
    }
    if let Some(reason) = looks_binary(bytes) {
        return Parsed::Skipped(reason);
    }
    let (text, warnings) = decode(bytes);
    parse_text(path, &text, warnings, opts)
}

/// `Some(reason)` for a file that is not text.
fn looks_binary(bytes: &[u8]) -> Option<String> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return None; // UTF-16 text has many NUL bytes.
    }
    const MAGIC: &[(&[u8], &str)] = &[
        (b"%PDF-", "a PDF file"),
        (b"\x89PNG", "a PNG image"),
        (b"GIF8", "a GIF image"),
        (b"\xFF\xD8\xFF", "a JPEG image"),
        (b"PK\x03\x04", "a ZIP archive"),
        (b"\x1F\x8B", "a gzip archive"),
        (b"\x7FELF", "an executable"),
    ];
    for (magic, what) in MAGIC {
        if bytes.starts_with(magic) {
            return Some(format!("looks binary: starts like {what}"));
        }
    }
    let sample = &bytes[..bytes.len().min(BINARY_SAMPLE)];
    let size = || match sample.len() {
        BINARY_SAMPLE => "4 KiB".to_string(),
        n => format!("{n} bytes"),
    };
    // Text nearly never has a NUL or a control character other than these, so one scan of
    // 64-byte blocks rules out both counts: counting them byte by byte in every file was
    // 2.6 % of a gen-100k cold build's CPU (perf).
    let odd = |b: u8| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1B);
    let (nul, control) = match super::any_byte(sample, odd) {
        true => {
            (sample.iter().filter(|&&b| b == 0).count(), sample.iter().filter(|&&b| odd(b)).count())
        }
        false => (0, 0),
    };
    if nul >= 2 && nul * 100 >= sample.len() {
        return Some(format!(
            "looks binary: {}% NUL bytes in the first {}",
            (nul * 100 / sample.len()).max(1),
            size()
        ));
    }
    let truncated = sample.len() < bytes.len();
    let invalid = match simdutf8::compat::from_utf8(sample) {
        Ok(_) => 0,
        // Only a character cut by the sample's end, which is not a sign of binary data.
        Err(e) if e.error_len().is_none() && truncated => 0,
        Err(_) => invalid_utf8_bytes(sample, truncated),
    };
    let bad = control + invalid;
    if bad * 100 >= sample.len() * 30 {
        return Some(format!(
            "looks binary: {}% of the first {} is not UTF-8 text",
            bad * 100 / sample.len(),
            size()
        ));
    }
    None
}

/// How many bytes of `sample` are not UTF-8, not counting a character cut by its end when it
/// is `truncated` from a longer file.
fn invalid_utf8_bytes(sample: &[u8], truncated: bool) -> usize {
    let mut invalid = 0;
    let mut chunks = sample.utf8_chunks().peekable();
    while let Some(chunk) = chunks.next() {
        let last = chunks.peek().is_none();
        if !(last && truncated && chunk.invalid().len() <= 3) {
            invalid += chunk.invalid().len();
        }
    }
    invalid
}

/// One line of the text: where it starts, its content (no newline), where the next begins.
#[derive(Clone, Copy)]
struct Line<'a> {
    text: &'a str,
    next: usize,
}

fn line_at(text: &str, pos: usize) -> Option<Line<'_>> {
    if pos >= text.len() {
        return None;
    }
    let end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
    Some(Line { text: &text[pos..end], next: (end + 1).min(text.len()) })
}

fn next_nonblank(text: &str, mut pos: usize) -> Option<Line<'_>> {
    while let Some(line) = line_at(text, pos) {
        if !line.text.trim().is_empty() {
            return Some(line);
        }
        pos = line.next;
    }
    None
}

fn skip_blank_lines(text: &str, mut pos: usize) -> usize {
    while let Some(line) = line_at(text, pos) {
        if !line.text.trim().is_empty() {
            break;
        }
        pos = line.next;
    }
    pos
}

fn parse_text(path: &str, text: &str, mut warnings: Vec<Warning>, opts: &ParseOptions) -> Parsed {
    if text.trim().is_empty() {
        return Parsed::Skipped("only whitespace".into());
    }
    let mut pos = 0;
    let mut fm = FrontMatter::default();
    match frontmatter::find(text) {
        frontmatter::Found::Block(block) => {
            pos = block.end;
            match frontmatter::parse(&block) {
                Ok(f) => fm = f,
                Err(w) => warnings.push(Warning::new(w)),
            }
        }
        frontmatter::Found::Unterminated(kind) => {
            let fence = if kind == frontmatter::Kind::Yaml { "---" } else { "+++" };
            warnings.push(Warning::new(format!(
                "front matter: the `{fence}` on line 1 is never closed; read the file as if it had no front matter"
            )));
        }
        frontmatter::Found::None => {}
    }
    warnings.extend(fm.problems.drain(..).map(Warning::new));
    // Front matter escapes (`"\a"`, `"\x01"`) and character references in a heading (`&#x1;`)
    // can make characters XML forbids that `decode` never saw in the raw text.
    let mut forbidden = 0usize;
    for field in fm.categories.iter_mut().chain(&mut fm.tags) {
        forbidden += strip_forbidden(field);
    }
    fm.categories.retain(|c| !c.trim().is_empty());
    for field in [&mut fm.author, &mut fm.summary, &mut fm.id, &mut fm.source].into_iter().flatten()
    {
        forbidden += strip_forbidden(field);
    }
    let fm_title = fm.title.take().map(|mut t| {
        forbidden += strip_forbidden(&mut t);
        collapse_whitespace(&strip_wiki(&t))
    });

    // Navigation header.
    let mut nav = false;
    if let Some(first) = next_nonblank(text, pos) {
        if is_nav_line(first.text) {
            match next_nonblank(text, first.next) {
                Some(rule) if is_rule(rule.text) => {
                    pos = rule.next;
                    nav = true;
                }
                None => return Parsed::Skipped("only a navigation header".into()),
                Some(_) => {}
            }
        }
    }
    if text[pos..].trim().is_empty() && fm_title.is_none() {
        return Parsed::Skipped(
            if nav { "only a navigation header" } else { "only front matter, no title or text" }
                .into(),
        );
    }
    if is_index_page(&text[pos..]) {
        return Parsed::IndexPage;
    }

    // Title heading.
    let mut heading: Option<String> = None;
    if let Some(line) = next_nonblank(text, pos) {
        if let Some((level, content)) = atx_heading(line.text) {
            let mut plain = inline_plain(content);
            let n = strip_forbidden(&mut plain);
            if n > 0 {
                forbidden += n;
                plain = collapse_whitespace(&plain);
            }
            if level <= 2 && fm_title.as_ref().is_none_or(|t| *t == plain) {
                heading = Some(plain);
                pos = line.next;
            }
        }
    }

    // Tag line: right after the title; without a title heading, one of the first lines, and
    // only if it holds a date or an author.
    let mut tag = TagLine::default();
    let mut found_tag = false;
    if heading.is_some() {
        if let Some(line) = next_nonblank(text, pos) {
            if let Some(t) = parse_tag_line(line.text, false) {
                tag = t;
                found_tag = true;
                pos = line.next;
            }
        }
    } else {
        let mut p = pos;
        for _ in 0..3 {
            let Some(line) = next_nonblank(text, p) else {
                break;
            };
            if let Some(t) = parse_tag_line(line.text, true) {
                tag = t;
                found_tag = true;
                pos = line.next;
                break;
            }
            if line.text.len() > 300 {
                break;
            }
            p = line.next;
        }
    }
    if let Some(problem) = tag.problem.take() {
        warnings.push(Warning::new(problem));
    }
    // Source-only link line (transcripts; GETTR posts put it under the tag).
    if (heading.is_some() || found_tag) && tag.source.is_none() {
        if let Some(line) = next_nonblank(text, pos) {
            if let Some(Some(url)) = source_only_line(line.text) {
                tag.source = Some(url);
                pos = line.next;
            }
        }
    }
    let body_offset = skip_blank_lines(text, pos);
    let body = &text[body_offset..];

    // Title, with fallbacks.
    let mut title = fm_title.or(heading).unwrap_or_default();
    let mut first_text: Option<String> = None;
    if title.is_empty() {
        if body.trim().is_empty() {
            return Parsed::Skipped("no content: the title is empty and there is no text".into());
        }
        let para = first_paragraph(body, opts.summary_chars.max(FALLBACK_TITLE_CHARS + 1));
        if para.is_empty() {
            title = file_stem(path).to_string();
            warnings
                .push(Warning::new("empty title and no text to take one from; used the file name"));
        } else {
            title = para.clone();
            cut_words(&mut title, FALLBACK_TITLE_CHARS);
            warnings.push(Warning::new("empty title; used the first words of the text"));
        }
        first_text = Some(para);
    }
    let title_chars = title.chars().count();
    if title_chars > MAX_TITLE_CHARS {
        cut_chars(&mut title, MAX_TITLE_CHARS);
        warnings.push(Warning::new(format!(
            "title is {title_chars} characters long; cut it to {MAX_TITLE_CHARS}"
        )));
    }

    // Summary.
    let mut summary = match fm.summary.take() {
        Some(s) => inline_plain(&s),
        None => first_text.unwrap_or_else(|| first_paragraph(body, opts.summary_chars.max(1))),
    };
    cut_chars(&mut summary, opts.summary_chars);

    // Categories.
    let mut categories = std::mem::take(&mut fm.categories);
    if categories.is_empty() {
        if let Some(c) = tag.category.take() {
            categories.push(c);
        }
    }
    if categories.is_empty() {
        if let Some(folder) = folder_category(path) {
            categories.push(folder.to_string());
        }
    }
    if categories.is_empty() {
        let default = opts.default_category.trim();
        categories.push(if default.is_empty() { "uncategorized" } else { default }.to_string());
    }

    // Dates.
    let file_date = file_name_date(path);
    let mut published = None;
    if let Some(at) = fm.date {
        published = Some(Dated { at, source: DateSource::FrontMatter });
    } else if let Some(at) = tag.date {
        published = Some(Dated { at, source: DateSource::TagLine });
    } else if let Ok(Some(at)) = file_date {
        published = Some(Dated { at, source: DateSource::FileName });
    }
    if let Some(problem) = fm.date_problem.take() {
        let fallback = match published {
            Some(d) => format!("used the {} date", d.source.as_str()),
            None => "left the date to git history or the file's mtime".to_string(),
        };
        warnings.push(Warning::new(format!("{problem}; {fallback}")));
    }
    if published.is_none() {
        if let Err(problem) = file_date {
            warnings.push(Warning::new(problem));
        }
    }
    let updated = fm.updated.map(|at| Dated { at, source: DateSource::FrontMatter });
    if let Some(problem) = fm.updated_problem.take() {
        warnings.push(Warning::new(format!("{problem}; ignored it")));
    }

    let source = fm.source.take().or(tag.source.take());
    let identity = match (fm.id.take(), &source) {
        (Some(id), _) => Identity::FrontMatter(id),
        (None, Some(url)) => Identity::Source(url.clone()),
        (None, None) => Identity::Path,
    };
    // The summary and the tag line went through Markdown too (`&#x1;` in the text).
    let mut tags = std::mem::take(&mut fm.tags);
    let mut author = fm.author.take().or(tag.author.take());
    for field in categories.iter_mut().chain(&mut tags).chain(&mut author) {
        let n = strip_forbidden(field);
        if n > 0 {
            forbidden += n;
            *field = collapse_whitespace(field);
        }
    }
    forbidden += strip_forbidden(&mut summary);
    let n = strip_forbidden(&mut title);
    if n > 0 {
        forbidden += n;
        title = collapse_whitespace(&title);
        if title.is_empty() {
            title = file_stem(path).chars().filter(|&c| !is_forbidden(c)).collect();
        }
        if title.trim().is_empty() {
            title = "untitled".into();
        }
    }
    categories.retain(|c| !c.is_empty());
    dedup_in_order(&mut categories);
    tags.retain(|t| !t.is_empty());
    dedup_in_order(&mut tags);
    author = author.filter(|a| !a.is_empty());
    if categories.is_empty() {
        categories = vec![fallback_category(path, opts)];
    }
    if forbidden > 0 {
        warnings.push(Warning::new(format!(
            "removed {forbidden} control character{} that XML does not allow from the front matter or the title (written as escapes or character references)",
            if forbidden == 1 { "" } else { "s" }
        )));
    }
    let mut article = Box::new(Article {
        path: path.to_string(),
        title,
        categories,
        tags,
        published,
        updated,
        source,
        author,
        summary,
        identity,
        draft: fm.draft,
        body_offset,
        warnings,
    });
    article.shrink_to_fit();
    Parsed::Article(article)
}

/// Is `c` a character XML 1.0 forbids (C0 controls but tab, LF and CR; U+FFFE, U+FFFF)?
/// Surrogates cannot occur in a `str`.
fn is_forbidden(c: char) -> bool {
    ((c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{FFFE}' || c == '\u{FFFF}'
}

/// Remove forbidden characters from `s`; returns how many.
fn strip_forbidden(s: &mut String) -> usize {
    if !s.chars().any(is_forbidden) {
        return 0;
    }
    let before = s.chars().count();
    s.retain(|c| !is_forbidden(c));
    before - s.chars().count()
}

fn dedup_in_order(list: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    list.retain(|x| seen.insert(x.clone()));
}

/// The category of an article that names none: its first folder, else the default.
fn fallback_category(path: &str, opts: &ParseOptions) -> String {
    if let Some(folder) = folder_category(path) {
        return folder.to_string();
    }
    let default = opts.default_category.trim();
    if default.is_empty() { "uncategorized" } else { default }.to_string()
}

fn file_stem(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    match name.rfind('.') {
        Some(i) if i > 0 => &name[..i],
        _ => name,
    }
}

/// The first folder below the content root, unless it is only digits (a year).
fn folder_category(path: &str) -> Option<&str> {
    let mut parts = path.split('/').filter(|p| !p.is_empty() && *p != ".");
    let first = parts.next()?;
    parts.next()?; // a file directly in the root has no folder
    let first = first.trim();
    (!first.is_empty() && !first.bytes().all(|b| b.is_ascii_digit())).then_some(first)
}

/// A date at the start of the file name: `YYYYMMDD-…` or `YYYY-MM-DD-…`. `Err` for one that
/// looks like a date but is not a calendar date or is before 1970.
fn file_name_date(path: &str) -> Result<Option<DateTime<Utc>>, String> {
    let stem = file_stem(path);
    let b = stem.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let s = stem.get(r)?;
        if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    let (y, m, d, len) =
        if let (Some(y), Some(m), Some(d)) = (digits(0..4), digits(5..7), digits(8..10)) {
            if b[4] == b'-' && b[7] == b'-' {
                (y, m, d, 10)
            } else {
                return Ok(None);
            }
        } else if let (Some(y), Some(m), Some(d)) = (digits(0..4), digits(4..6), digits(6..8)) {
            (y, m, d, 8)
        } else {
            return Ok(None);
        };
    if b.get(len).is_some_and(|c| c.is_ascii_digit()) {
        return Ok(None);
    }
    if !(1900..=2100).contains(&y) {
        return Ok(None); // a number, not a year
    }
    let shown = &stem[..len];
    match NaiveDate::from_ymd_opt(y as i32, m, d) {
        None => Err(format!("file name: `{shown}` is not a calendar date; ignored it")),
        Some(_) if y < 1970 => Err(format!("file name: date `{shown}` is before 1970; ignored it")),
        Some(date) => Ok(date.and_hms_opt(0, 0, 0).map(|d| d.and_utc())),
    }
}

/// `(level, content)` of an ATX heading line (`## Title ##`).
fn atx_heading(line: &str) -> Option<(usize, &str)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let t = &line[indent..];
    let level = t.bytes().take_while(|&b| b == b'#').count();
    if level == 0 || level > 6 {
        return None;
    }
    let rest = &t[level..];
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return None;
    }
    let content = rest.trim();
    let closed = content.trim_end_matches('#');
    let content = if closed.is_empty() {
        closed
    } else if closed.len() < content.len() && closed.ends_with([' ', '\t']) {
        closed.trim_end()
    } else {
        content
    };
    Some((level, content))
}

/// `---`, `***`, `___` (3 or more, spaces allowed).
fn is_rule(line: &str) -> bool {
    let t: Vec<u8> = line.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    t.len() >= 3 && matches!(t[0], b'-' | b'*' | b'_') && t.iter().all(|&b| b == t[0])
}

/// Markdown links `[text](target)` in a line: (start, end, target) byte spans.
fn links(line: &str) -> impl Iterator<Item = (usize, usize, &str)> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        let open = i + line[i..].find('[')?;
        let mid = open + line[open..].find("](")?;
        let (len, target) = link_target(&line[mid + 2..])?;
        let close = mid + 2 + len;
        // `[` nearest to `](` (skips `![` image prefixes and stray brackets before).
        let start = line[open..mid].rfind('[').map_or(open, |j| open + j);
        i = close + 1;
        Some((start, close + 1, target))
    })
}

/// What follows a link's `](` on its line: how far its `)` is, and the target (its first
/// word: a title may follow).
fn link_target(after: &str) -> Option<(usize, &str)> {
    let close = after.find(')')?;
    Some((close, after[..close].split_whitespace().next().unwrap_or("")))
}

/// A first line made mostly of Markdown links (separators and heading marks aside).
fn is_nav_line(line: &str) -> bool {
    let t = line.trim().trim_start_matches('#').trim();
    if t.is_empty() || t.len() > 2000 {
        return false;
    }
    let mut linked = 0;
    let mut count = 0;
    let mut last_end = 0;
    let mut leftover = 0;
    for (start, end, _) in links(t) {
        count += 1;
        linked += end - start;
        leftover += t[last_end..start]
            .chars()
            .filter(|c| !c.is_whitespace() && !matches!(c, '|' | '·' | '•' | '/' | '-' | '*' | ','))
            .count();
        last_end = end;
    }
    leftover += t[last_end..].chars().filter(|c| !c.is_whitespace() && *c != '|').count();
    count > 0 && linked > 0 && leftover <= 3.max(t.chars().count() / 5)
}

/// A link to another document of the repository: a Markdown file (`x.md`, `x.md#part`), or a
/// local (relative or root-relative) text file.
fn is_doc_target(target: &str) -> bool {
    let t = target.trim_start_matches('<').trim_end_matches('>');
    let t = t.split(['#', '?']).next().unwrap_or("").as_bytes();
    let ends =
        |ext: &[u8]| t.len() > ext.len() && t[t.len() - ext.len()..].eq_ignore_ascii_case(ext);
    let local = !t.windows(3).any(|w| w == b"://") && !t.starts_with(b"mailto:");
    ends(b".md") || ends(b".markdown") || (local && ends(b".txt"))
}

/// Whether `text` holds at most `n` links that [`is_index_page`] could count: every one has a
/// `](` followed on its line by a document target ([`link_target`], as [`links`] reads it),
/// which is what is looked for here, without walking lines or fences.
fn doc_links_at_most(text: &str, n: usize) -> bool {
    let targets = memchr::memmem::find_iter(text.as_bytes(), "](").filter(|&mid| {
        let rest = &text[mid + 2..];
        let line = &rest[..memchr::memchr(b'\n', rest.as_bytes()).unwrap_or(rest.len())];
        link_target(line).is_some_and(|(_, target)| is_doc_target(target))
    });
    targets.take(n + 1).count() <= n
}

/// A page that mostly lists links to other Markdown files. Decided by content only: at least
/// 3 such links, and either most lines are link lines, or there are 10 or more links making up
/// most of the text or 40% of the lines, or 10 or more link lines heading excerpts.
fn is_index_page(text: &str) -> bool {
    // Most articles link to fewer than 3 documents: then no need to walk their lines.
    if doc_links_at_most(text, 2) {
        return false;
    }
    let mut lines = 0usize;
    let mut link_lines = 0usize;
    let mut md_links = 0usize;
    let mut md_link_bytes = 0usize;
    let mut total_bytes = 0usize;
    let mut in_fence = false;
    for line in text.lines().take(2000) {
        let t = line.trim();
        if t.starts_with("```") || t.starts_with("~~~") {
            in_fence = !in_fence;
        }
        if t.is_empty() || in_fence {
            continue;
        }
        lines += 1;
        total_bytes += t.len();
        let mut bytes_here = 0;
        for (start, end, target) in links(t) {
            if is_doc_target(target) {
                md_links += 1;
                bytes_here += end - start;
            }
        }
        md_link_bytes += bytes_here;
        let markup = t.len() - t.trim_start_matches(['#', '-', '*', '+', ' ']).len();
        if bytes_here > 0 && (bytes_here + markup) * 2 >= t.len() {
            link_lines += 1;
        }
    }
    if md_links < 3 {
        return false;
    }
    link_lines * 10 >= lines * 6
        || (md_links >= 10 && md_link_bytes * 2 >= total_bytes)
        || (md_links >= 10 && link_lines * 10 >= lines * 4)
        // A list of excerpts: each entry a link line followed by some text of its own.
        || (link_lines >= 10 && link_lines * 10 >= lines)
}

#[cfg(test)]
mod tests;
