//! The tag line under an article's title, e.g.
//! `` `4/2/2024 3:57 PM UTC 喜马拉雅农场新西兰站` [轉載自GNews](https://gnews.org/articles/1) ``,
//! and the source-only link line of transcripts and GETTR posts.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

/// What a tag line says.
#[derive(Debug, Default, PartialEq)]
pub struct TagLine {
    pub author: Option<String>,
    pub date: Option<DateTime<Utc>>,
    pub category: Option<String>,
    /// The link after the tag, if it is http(s).
    pub source: Option<String>,
    /// A problem worth a warning (e.g. a date that is not a calendar date).
    pub problem: Option<String>,
}

/// Parse `line` as a tag line: it must start with a back-quoted span. `strict` (used when the
/// article has no title heading) accepts it only if the span holds a date or an `@author`, so
/// that a body starting with inline code is not taken for a tag.
pub fn parse_tag_line(line: &str, strict: bool) -> Option<TagLine> {
    let line = line.trim();
    let rest = line.strip_prefix('`')?;
    // A span opened by more than one backtick is code, not a tag.
    if rest.starts_with('`') {
        return None;
    }
    let end = rest.find('`')?;
    let span = rest[..end].trim();
    let after = rest[end + 1..].trim();
    let mut tag = TagLine::default();
    let mut words = span;
    if let Some(at) = words.strip_prefix('@') {
        let name_end = at.find(char::is_whitespace).unwrap_or(at.len());
        if name_end > 0 {
            tag.author = Some(at[..name_end].to_string());
        }
        words = at[name_end..].trim_start();
    }
    match us_date(words) {
        DateParse::Date(at, used) => {
            tag.date = Some(at);
            words = words[used..].trim_start();
        }
        DateParse::Invalid(text, used) => {
            tag.problem = Some(format!("tag line: `{text}` is not a date; ignored it"));
            words = words[used..].trim_start();
        }
        DateParse::None => {}
    }
    if strict && tag.date.is_none() && tag.author.is_none() {
        return None;
    }
    let category = crate::article::text::collapse_whitespace(words);
    if !category.is_empty() {
        tag.category = Some(category);
    }
    if let Some((_, url)) = link_at_start(after) {
        tag.source = http_url(url);
    }
    Some(tag)
}

/// A line that is nothing but one Markdown link with short text, e.g.
/// `[轉載自GNews](https://gnews.org/ThreadView/1)`. Returns the URL if it is http(s).
pub fn source_only_line(line: &str) -> Option<Option<String>> {
    let line = line.trim();
    let (used, url) = link_at_start(line)?;
    if used != line.len() {
        return None;
    }
    let text = &line[1..line[..used].rfind("](")?];
    if text.chars().count() > 40 || text.trim().is_empty() || text.contains('!') {
        return None;
    }
    Some(http_url(url))
}

/// `[text](url)` at the start of `s` (no nested brackets): returns bytes used and the URL.
fn link_at_start(s: &str) -> Option<(usize, &str)> {
    let inner = s.strip_prefix('[')?;
    let close = inner.find("](")?;
    if inner[..close].contains(['[', ']']) {
        return None;
    }
    let url_start = 1 + close + 2;
    let url_len = s[url_start..].find(')')?;
    let url = s[url_start..url_start + url_len].trim();
    // `(url "title")`
    let url = url.split_whitespace().next().unwrap_or("");
    Some((url_start + url_len + 1, url))
}

/// The URL if it parses as an absolute http(s) URL.
pub fn http_url(s: &str) -> Option<String> {
    let s = s.trim().trim_start_matches('<').trim_end_matches('>');
    match url::Url::parse(s) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
            Some(s.to_string())
        }
        _ => None,
    }
}

enum DateParse<'a> {
    /// The date and how many bytes of the input it used.
    Date(DateTime<Utc>, usize),
    /// Looked like a date but is not one.
    Invalid(&'a str, usize),
    None,
}

/// `M/D/YYYY [h:mm[:ss] [AM|PM]] [UTC|GMT|Z]` at the start of `s`. Times are UTC.
fn us_date(s: &str) -> DateParse<'_> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut nums = [0u32; 3];
    for (k, num) in nums.iter_mut().enumerate() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 4 {
            *num = *num * 10 + u32::from(b[i] - b'0');
            i += 1;
        }
        let len = i - start;
        let ok = if k < 2 { (1..=2).contains(&len) } else { len == 4 };
        if !ok {
            return DateParse::None;
        }
        if k < 2 {
            if b.get(i) != Some(&b'/') {
                return DateParse::None;
            }
            i += 1;
        }
    }
    if b.get(i).is_some_and(|c| c.is_ascii_digit()) {
        return DateParse::None;
    }
    let date_end = i;
    let (time, used) = time_after(s, date_end);
    let date = NaiveDate::from_ymd_opt(nums[2] as i32, nums[0], nums[1]);
    let Some(date) = date.filter(|_| (1970..=9999).contains(&(nums[2] as i32))) else {
        return DateParse::Invalid(&s[..date_end], used);
    };
    let time = match time {
        Ok(t) => t,
        Err(()) => return DateParse::Invalid(&s[..used], used),
    };
    DateParse::Date(date.and_time(time).and_utc(), used)
}

/// ` h:mm[:ss] [AM|PM] [UTC|GMT|Z]` from `i`. Midnight and `i` when there is no time.
fn time_after(s: &str, i: usize) -> (Result<NaiveTime, ()>, usize) {
    let midnight = NaiveTime::MIN;
    let rest = &s[i..];
    let trimmed = rest.trim_start();
    let mut j = i + (rest.len() - trimmed.len());
    let b = s.as_bytes();
    let mut parts = [0u32; 3];
    let mut count = 0;
    while count < 3 {
        let start = j;
        while j < b.len() && b[j].is_ascii_digit() && j - start < 2 {
            parts[count] = parts[count] * 10 + u32::from(b[j] - b'0');
            j += 1;
        }
        if j == start {
            break;
        }
        count += 1;
        if count < 3 && b.get(j) == Some(&b':') && b.get(j + 1).is_some_and(|c| c.is_ascii_digit())
        {
            j += 1;
        } else {
            break;
        }
    }
    if count < 2 {
        return (Ok(midnight), i);
    }
    let mut end = j;
    let (mut h, m, sec) = (parts[0], parts[1], parts[2]);
    let mut bad = false;
    let after = &s[end..];
    let ws = after.len() - after.trim_start().len();
    let word = after.trim_start();
    let ampm = word.get(..2).unwrap_or("");
    if ampm.eq_ignore_ascii_case("AM") || ampm.eq_ignore_ascii_case("PM") {
        let boundary =
            word.get(2..).unwrap_or("").chars().next().is_none_or(|c| !c.is_alphanumeric());
        if boundary {
            if !(1..=12).contains(&h) {
                bad = true;
            }
            h %= 12;
            if ampm.eq_ignore_ascii_case("PM") {
                h += 12;
            }
            end += ws + 2;
        }
    }
    let after = &s[end..];
    let ws = after.len() - after.trim_start().len();
    let word = after.trim_start();
    for zone in ["UTC", "GMT", "Z"] {
        if word.get(..zone.len()).is_some_and(|w| w.eq_ignore_ascii_case(zone))
            && word
                .get(zone.len()..)
                .unwrap_or("")
                .chars()
                .next()
                .is_none_or(|c| !c.is_alphanumeric())
        {
            end += ws + zone.len();
            break;
        }
    }
    match NaiveTime::from_hms_opt(h, m, sec) {
        Some(t) if !bad => (Ok(t), end),
        _ => (Err(()), end),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn tag_line_with_category_and_link_gives_both() {
        let t = parse_tag_line(
            "` 极光农场-North` [轉載自GNews](https://gnews.org/zh-hans/12345/)",
            false,
        )
        .unwrap();
        assert_eq!(t.category.as_deref(), Some("极光农场-North"));
        assert_eq!(t.source.as_deref(), Some("https://gnews.org/zh-hans/12345/"));
        assert_eq!(t.date, None);
    }

    #[test]
    fn tag_line_with_date_gives_date_and_category() {
        let t = parse_tag_line(
            "`4/2/2024 3:57 PM UTC 海边农场 Seaside` [转载](https://e.org/a/9)",
            false,
        )
        .unwrap();
        assert_eq!(t.date, Some(Utc.with_ymd_and_hms(2024, 4, 2, 15, 57, 0).unwrap()));
        assert_eq!(t.category.as_deref(), Some("海边农场 Seaside"));
        assert_eq!(t.source.as_deref(), Some("https://e.org/a/9"));
    }

    #[test]
    fn tag_line_with_only_a_date_has_no_category() {
        let t = parse_tag_line("`4/2/2024 12:30 PM UTC `", false).unwrap();
        assert_eq!(t.date, Some(Utc.with_ymd_and_hms(2024, 4, 2, 12, 30, 0).unwrap()));
        assert_eq!(t.category, None);
        let t = parse_tag_line("`12/31/2023 12:05 AM UTC`", false).unwrap();
        assert_eq!(t.date, Some(Utc.with_ymd_and_hms(2023, 12, 31, 0, 5, 0).unwrap()));
    }

    #[test]
    fn tag_line_with_author_gives_author_and_date() {
        let t = parse_tag_line("`@someone_1 4/4/2023 1:13 AM UTC`", true).unwrap();
        assert_eq!(t.author.as_deref(), Some("someone_1"));
        assert_eq!(t.date, Some(Utc.with_ymd_and_hms(2023, 4, 4, 1, 13, 0).unwrap()));
        assert_eq!(t.category, None);
    }

    #[test]
    fn impossible_tag_date_is_reported_not_used() {
        let t = parse_tag_line("`13/45/2024 3:00 PM UTC 农场`", false).unwrap();
        assert_eq!(t.date, None);
        assert!(t.problem.unwrap().contains("13/45/2024"));
        assert_eq!(t.category.as_deref(), Some("农场"));
    }

    #[test]
    fn strict_mode_rejects_plain_inline_code() {
        assert_eq!(parse_tag_line("`ls -la` lists files", true), None);
        assert!(parse_tag_line("`ls -la` lists files", false).is_some());
        assert_eq!(parse_tag_line("``code``", false), None);
        assert_eq!(parse_tag_line("no backtick", false), None);
    }

    #[test]
    fn non_http_links_are_not_sources() {
        let t = parse_tag_line("`News` [x](javascript:alert(1))", false).unwrap();
        assert_eq!(t.source, None);
        assert_eq!(
            source_only_line("[轉載自GNews](https://gnews.org/ThreadView/7)"),
            Some(Some("https://gnews.org/ThreadView/7".to_string()))
        );
        assert_eq!(source_only_line("[see](/local.md)"), Some(None));
        assert_eq!(source_only_line("[a](https://e.org) and more text"), None);
    }
}
