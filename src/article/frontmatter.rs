//! Front matter: YAML between `---` lines or TOML between `+++` lines at the very top of a
//! file (Jekyll, Hugo, Zola). Read leniently: a wrong value is reported and ignored, never
//! fatal.

use super::tagline::http_url;
use super::text::collapse_whitespace;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};

/// The keys Herald understands, already checked. A key with a wrong value is `None` here and
/// has a problem in `problems`.
#[derive(Debug, Default, PartialEq)]
pub struct FrontMatter {
    pub title: Option<String>,
    pub date: Option<DateTime<Utc>>,
    /// Why `date` was present but unusable (the caller adds what it fell back to).
    pub date_problem: Option<String>,
    pub updated: Option<DateTime<Utc>>,
    pub updated_problem: Option<String>,
    pub categories: Vec<String>,
    pub tags: Vec<String>,
    pub draft: bool,
    pub id: Option<String>,
    pub source: Option<String>,
    pub author: Option<String>,
    pub summary: Option<String>,
    /// Other problems, each a complete warning message.
    pub problems: Vec<String>,
}

/// Where the front matter block is, if the text starts with one.
pub struct Block<'a> {
    pub kind: Kind,
    /// The text between the fences.
    pub inner: &'a str,
    /// Byte offset just after the closing fence line.
    pub end: usize,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Yaml,
    Toml,
}

impl Kind {
    fn fence(self) -> &'static str {
        match self {
            Kind::Yaml => "---",
            Kind::Toml => "+++",
        }
    }
}

/// Outcome of looking for front matter at the start of `text`.
pub enum Found<'a> {
    None,
    Block(Block<'a>),
    /// An opening fence with no closing one.
    Unterminated(Kind),
}

/// Find a front matter block: line 1 must be exactly `---` or `+++` (trailing blanks allowed).
pub fn find(text: &str) -> Found<'_> {
    let first_end = text.find('\n').unwrap_or(text.len());
    let first = text[..first_end].trim_end();
    let kind = match first {
        "---" => Kind::Yaml,
        "+++" => Kind::Toml,
        _ => return Found::None,
    };
    let mut pos = (first_end + 1).min(text.len());
    let inner_start = pos;
    while pos < text.len() {
        let line_end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
        let line = text[pos..line_end].trim_end();
        if line == kind.fence() || (kind == Kind::Yaml && line == "...") {
            return Found::Block(Block {
                kind,
                inner: &text[inner_start..pos],
                end: (line_end + 1).min(text.len()),
            });
        }
        pos = line_end + 1;
    }
    Found::Unterminated(kind)
}

/// A front matter value, whichever the syntax.
#[derive(Debug)]
enum Value {
    Null,
    Bool(bool),
    Number(String),
    Str(String),
    /// A TOML datetime, as RFC 3339-like text.
    Date(String),
    List(Vec<Value>),
    Map(Vec<(String, Value)>),
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "empty",
            Value::Bool(_) => "true/false",
            Value::Number(_) => "a number",
            Value::Str(_) => "text",
            Value::Date(_) => "a date",
            Value::List(_) => "a list",
            Value::Map(_) => "a map",
        }
    }

    /// Text for a scalar (numbers and dates included).
    fn scalar_text(&self) -> Option<&str> {
        match self {
            Value::Str(s) | Value::Number(s) | Value::Date(s) => Some(s),
            _ => None,
        }
    }

    fn from_yaml(v: serde_norway::Value, depth: usize) -> Value {
        use serde_norway::Value as Y;
        if depth > 16 {
            return Value::Null;
        }
        match v {
            Y::Null => Value::Null,
            Y::Bool(b) => Value::Bool(b),
            Y::Number(n) => Value::Number(n.to_string()),
            Y::String(s) => Value::Str(s),
            Y::Sequence(seq) => {
                Value::List(seq.into_iter().map(|v| Value::from_yaml(v, depth + 1)).collect())
            }
            Y::Mapping(map) => Value::Map(
                map.into_iter()
                    .filter_map(|(k, v)| {
                        let key = match k {
                            Y::String(s) => s,
                            Y::Number(n) => n.to_string(),
                            Y::Bool(b) => b.to_string(),
                            _ => return None,
                        };
                        Some((key, Value::from_yaml(v, depth + 1)))
                    })
                    .collect(),
            ),
            Y::Tagged(t) => Value::from_yaml(t.value, depth + 1),
        }
    }

    fn from_toml(v: toml::Value) -> Value {
        use toml::Value as T;
        match v {
            T::String(s) => Value::Str(s),
            T::Integer(i) => Value::Number(i.to_string()),
            T::Float(f) => Value::Number(f.to_string()),
            T::Boolean(b) => Value::Bool(b),
            T::Datetime(d) => Value::Date(d.to_string()),
            T::Array(a) => Value::List(a.into_iter().map(Value::from_toml).collect()),
            T::Table(t) => {
                Value::Map(t.into_iter().map(|(k, v)| (k, Value::from_toml(v))).collect())
            }
        }
    }
}

/// Parse a front matter block. `Err` is a warning message for a block that is not valid YAML
/// or TOML or not a map (the caller then reads the file as if it had none).
pub fn parse(block: &Block<'_>) -> Result<FrontMatter, String> {
    let map = match block.kind {
        Kind::Yaml => {
            if block.inner.trim().is_empty() {
                return Ok(FrontMatter::default());
            }
            let v: serde_norway::Value = serde_norway::from_str(block.inner).map_err(|e| {
                format!("front matter: not valid YAML ({}); ignored it", first_line(&e.to_string()))
            })?;
            match Value::from_yaml(v, 0) {
                Value::Map(m) => m,
                Value::Null => Vec::new(),
                other => {
                    return Err(format!(
                        "front matter: is {}, not a map of keys; ignored it",
                        other.kind()
                    ))
                }
            }
        }
        Kind::Toml => {
            let t: toml::Table = toml::from_str(block.inner).map_err(|e| {
                format!("front matter: not valid TOML ({}); ignored it", first_line(&e.to_string()))
            })?;
            t.into_iter().map(|(k, v)| (k, Value::from_toml(v))).collect()
        }
    };
    Ok(read_keys(map))
}

fn first_line(s: &str) -> String {
    let line = s.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    let mut out: String = line.chars().take(160).collect();
    if out.len() < line.len() {
        out.push('…');
    }
    out
}

fn read_keys(map: Vec<(String, Value)>) -> FrontMatter {
    let mut fm = FrontMatter::default();
    for (key, value) in map {
        let k = key.to_ascii_lowercase();
        match k.as_str() {
            "title" => fm.title = text_value(&key, &value, &mut fm.problems),
            "date" | "published" | "pubdate" => match date_value(&value) {
                Ok(d) => fm.date = d,
                Err(p) => fm.date_problem = Some(format!("front matter: `{key}` {p}")),
            },
            "updated" | "lastmod" | "last_modified_at" | "modified" => match date_value(&value) {
                Ok(d) => fm.updated = d,
                Err(p) => fm.updated_problem = Some(format!("front matter: `{key}` {p}")),
            },
            "categories" | "category" => {
                let list = list_value(&key, &value, &mut fm.problems);
                push_unique(&mut fm.categories, list);
            }
            "tags" | "tag" => {
                let list = list_value(&key, &value, &mut fm.problems);
                push_unique(&mut fm.tags, list);
            }
            "draft" => match &value {
                Value::Bool(b) => fm.draft = *b,
                Value::Str(s) if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("yes") => {
                    fm.draft = true
                }
                Value::Str(s) if s.eq_ignore_ascii_case("false") || s.eq_ignore_ascii_case("no") => {}
                Value::Null => {}
                other => fm.problems.push(format!(
                    "front matter: `{key}` is {}, not true/false; treated the article as not a draft",
                    describe(other)
                )),
            },
            "id" | "guid" => {
                fm.id = match &value {
                    Value::Str(s) | Value::Number(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
                    Value::Null => None,
                    other => {
                        fm.problems.push(format!(
                            "front matter: `{key}` is {}, not text; ignored it",
                            describe(other)
                        ));
                        None
                    }
                }
            }
            "source" | "source_url" | "original" => {
                if let Some(s) = text_value(&key, &value, &mut fm.problems) {
                    match http_url(&s) {
                        Some(u) => fm.source = Some(u),
                        None => fm.problems.push(format!(
                            "front matter: `{key}` is not an http(s) URL ({}); ignored it",
                            quote(&s)
                        )),
                    }
                }
            }
            "author" | "authors" => {
                fm.author = author_value(&value);
                if fm.author.is_none() && !matches!(value, Value::Null) {
                    fm.problems.push(format!(
                        "front matter: `{key}` is {}, not a name or a map with `name`; ignored it",
                        describe(&value)
                    ));
                }
            }
            "summary" | "description" | "excerpt" if fm.summary.is_none() || k == "summary" => {
                let s = text_value(&key, &value, &mut fm.problems);
                if s.is_some() {
                    fm.summary = s;
                }
            }
            _ => {}
        }
    }
    fm
}

fn quote(s: &str) -> String {
    let mut short: String = s.chars().take(60).collect();
    if short.len() < s.len() {
        short.push('…');
    }
    format!("{short:?}")
}

fn describe(v: &Value) -> String {
    match v.scalar_text() {
        Some(s) => format!("{} ({})", v.kind(), quote(s)),
        None => v.kind().to_string(),
    }
}

fn text_value(key: &str, v: &Value, problems: &mut Vec<String>) -> Option<String> {
    match v {
        Value::Str(s) | Value::Number(s) | Value::Date(s) => {
            let s = collapse_whitespace(s);
            (!s.is_empty()).then_some(s)
        }
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => None,
        other => {
            problems
                .push(format!("front matter: `{key}` is {}, not text; ignored it", other.kind()));
            None
        }
    }
}

fn list_value(key: &str, v: &Value, problems: &mut Vec<String>) -> Vec<String> {
    match v {
        Value::Str(s) => s.split(',').map(collapse_whitespace).filter(|s| !s.is_empty()).collect(),
        Value::Number(s) => vec![s.clone()],
        Value::Null => Vec::new(),
        Value::List(items) => {
            let mut out = Vec::new();
            let mut bad = 0;
            for item in items {
                match item.scalar_text() {
                    Some(s) => {
                        let s = collapse_whitespace(s);
                        if !s.is_empty() {
                            out.push(s);
                        }
                    }
                    None if matches!(item, Value::Null) => {}
                    None => bad += 1,
                }
            }
            if bad > 0 {
                problems.push(format!(
                    "front matter: `{key}` has {bad} entries that are not text; ignored them"
                ));
            }
            out
        }
        other => {
            problems.push(format!(
                "front matter: `{key}` is {}, not a list or text; ignored it",
                other.kind()
            ));
            Vec::new()
        }
    }
}

fn push_unique(into: &mut Vec<String>, items: Vec<String>) {
    for item in items {
        if !into.contains(&item) {
            into.push(item);
        }
    }
}

fn author_value(v: &Value) -> Option<String> {
    match v {
        Value::Str(s) => Some(collapse_whitespace(s)).filter(|s| !s.is_empty()),
        Value::Map(m) => m
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("name"))
            .and_then(|(_, v)| v.scalar_text())
            .map(collapse_whitespace)
            .filter(|s| !s.is_empty()),
        Value::List(items) => items.iter().find_map(author_value),
        _ => None,
    }
}

/// `Ok(None)` for an empty value; `Err` says what is wrong (after the key name).
fn date_value(v: &Value) -> Result<Option<DateTime<Utc>>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Str(s) | Value::Date(s) if s.trim().is_empty() => Ok(None),
        Value::Str(s) | Value::Date(s) => match parse_date(s) {
            DateCheck::Ok(d) => Ok(Some(d)),
            DateCheck::OutOfRange => Err(format!("is outside the years 1970–9999 ({})", quote(s))),
            DateCheck::NotADate => Err(format!("is not a date ({})", quote(s))),
        },
        other => Err(format!("is {}, not a date", describe(other))),
    }
}

pub enum DateCheck {
    Ok(DateTime<Utc>),
    OutOfRange,
    NotADate,
}

/// RFC 3339, `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS[.f]]` (or with `T`), with or without a zone
/// offset (`Z`, `UTC`, `+08:00`, `+0800`); no zone means UTC. Years 1970–9999 only.
pub fn parse_date(s: &str) -> DateCheck {
    let s = s.trim();
    let d = parse_any(s);
    match d {
        Some(d) if (1970..=9999).contains(&d.year()) => DateCheck::Ok(d),
        Some(_) => DateCheck::OutOfRange,
        None => DateCheck::NotADate,
    }
}

fn parse_any(s: &str) -> Option<DateTime<Utc>> {
    if s.len() > 64 {
        return None;
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|d| d.and_utc());
    }
    // Strip a named UTC zone.
    let mut s = s.to_string();
    for suffix in [" UTC", " GMT", "Z", " Z"] {
        if s.len() > suffix.len() && s.ends_with(suffix) {
            s.truncate(s.len() - suffix.len());
            break;
        }
    }
    let s = s.trim_end();
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f %z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M %z",
        "%Y-%m-%d %H:%M%z",
        "%Y-%m-%dT%H:%M%z",
    ] {
        if let Ok(d) = DateTime::parse_from_str(s, fmt) {
            return Some(d.with_timezone(&Utc));
        }
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"]
    {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(d.and_utc());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn fm(text: &str) -> Result<FrontMatter, String> {
        match find(text) {
            Found::Block(b) => parse(&b),
            _ => panic!("no block in {text:?}"),
        }
    }

    #[test]
    fn yaml_front_matter_gives_all_keys() {
        let f = fm("---\ntitle: 春天来了\ndate: 2021-03-04 05:06:07 +08:00\nlastmod: 2021-03-05\n\
             categories: [新闻, News, 新闻]\ntags: a, b\ndraft: true\nid: post-7\n\
             source: https://example.org/p/7\nauthor:\n  name: 小明\ndescription: 短短的介绍\n---\nbody")
            .unwrap();
        assert_eq!(f.title.as_deref(), Some("春天来了"));
        assert_eq!(f.date, Some(Utc.with_ymd_and_hms(2021, 3, 3, 21, 6, 7).unwrap()));
        assert_eq!(f.updated, Some(Utc.with_ymd_and_hms(2021, 3, 5, 0, 0, 0).unwrap()));
        assert_eq!(f.categories, ["新闻", "News"]);
        assert_eq!(f.tags, ["a", "b"]);
        assert!(f.draft);
        assert_eq!(f.id.as_deref(), Some("post-7"));
        assert_eq!(f.source.as_deref(), Some("https://example.org/p/7"));
        assert_eq!(f.author.as_deref(), Some("小明"));
        assert_eq!(f.summary.as_deref(), Some("短短的介绍"));
        assert!(f.problems.is_empty(), "{:?}", f.problems);
    }

    #[test]
    fn toml_front_matter_reads_native_datetimes() {
        let f = fm("+++\ntitle = \"Autumn\"\ndate = 2020-10-01T08:00:00Z\nupdated = 2020-10-02\n\
                    category = \"Essays\"\n+++\n")
        .unwrap();
        assert_eq!(f.title.as_deref(), Some("Autumn"));
        assert_eq!(f.date, Some(Utc.with_ymd_and_hms(2020, 10, 1, 8, 0, 0).unwrap()));
        assert_eq!(f.updated, Some(Utc.with_ymd_and_hms(2020, 10, 2, 0, 0, 0).unwrap()));
        assert_eq!(f.categories, ["Essays"]);
    }

    #[test]
    fn wrong_types_are_reported_by_key() {
        let f = fm("---\ntitle: [1, 2]\ndate: 2021-13-45\ndraft: maybe\nsource: ftp://x/y\n---\n")
            .unwrap();
        assert_eq!(f.title, None);
        assert!(f.problems.iter().any(|p| p.contains("`title` is a list")));
        assert!(f.date_problem.unwrap().contains("`date` is not a date (\"2021-13-45\")"));
        assert!(!f.draft);
        assert!(f.problems.iter().any(|p| p.contains("`draft`")));
        assert!(f.problems.iter().any(|p| p.contains("`source` is not an http(s) URL")));
    }

    #[test]
    fn dates_outside_1970_to_9999_are_refused() {
        assert!(matches!(parse_date("1969-12-31"), DateCheck::OutOfRange));
        assert!(matches!(parse_date("2021-02-29"), DateCheck::NotADate));
        assert!(matches!(parse_date("2024-02-29T10:00:00+02:00"), DateCheck::Ok(_)));
        assert!(matches!(parse_date("2024-02-29 10:00"), DateCheck::Ok(_)));
        assert!(matches!(parse_date("2024-02-29 10:00:00 +0800"), DateCheck::Ok(_)));
        assert!(matches!(parse_date("2024-02-29 10:00:00 UTC"), DateCheck::Ok(_)));
    }

    #[test]
    fn invalid_yaml_and_unterminated_blocks_are_errors_not_panics() {
        assert!(fm("---\ntitle: [unclosed\n---\n").unwrap_err().contains("not valid YAML"));
        assert!(fm("---\n- just\n- a list\n---\n").unwrap_err().contains("not a map"));
        assert!(fm("+++\ntitle = \n+++\n").unwrap_err().contains("not valid TOML"));
        assert!(matches!(find("---\ntitle: x\n"), Found::Unterminated(Kind::Yaml)));
        assert!(matches!(find("----\n"), Found::None));
    }
}
