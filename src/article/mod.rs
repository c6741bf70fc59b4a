//! An article: what Herald knows about one Markdown file, and how it is parsed.

mod frontmatter;
mod generated;
pub mod html;
pub mod parse;
mod tagline;
mod text;

pub(crate) use text::{any_byte, EF_BF};

use chrono::{DateTime, Utc};

/// Where a date came from, best first. Shown by `herald check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DateSource {
    FrontMatter,
    TagLine,
    FileName,
    Git,
    Mtime,
}

impl DateSource {
    pub fn as_str(self) -> &'static str {
        match self {
            DateSource::FrontMatter => "front matter",
            DateSource::TagLine => "tag line",
            DateSource::FileName => "file name",
            DateSource::Git => "git history",
            DateSource::Mtime => "file mtime",
        }
    }
}

/// A date together with the rule that produced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dated {
    pub at: DateTime<Utc>,
    pub source: DateSource,
}

/// Where the article's identity came from (see `Article::identity`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Identity {
    /// Front matter `id`: used verbatim if it is already a URI, else made into a tag URI.
    FrontMatter(String),
    /// The source link of the tag line or front matter `source`. Only an identity when no
    /// other article shares it (the index decides; see `index`).
    Source(String),
    /// The path relative to the content root, `/`-separated.
    Path,
}

/// A problem found while parsing, and what Herald did about it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Warning {
    pub message: String,
}

impl Warning {
    pub fn new(message: impl Into<String>) -> Self {
        Warning { message: message.into() }
    }
}

/// Everything the feeds need to know about one article, except its rendered body, which is
/// produced lazily (only the newest items of each feed need it). `Hash` feeds the fingerprint
/// that decides whether a feed showing the article must be rendered again (`site`).
#[derive(Debug, Clone, PartialEq, Hash)]
pub struct Article {
    /// Path relative to the content root, `/`-separated, e.g. `gnews/2021/01/740024.md`.
    pub path: String,
    pub title: String,
    /// Category names, in the order given, deduplicated; never empty (the parser applies the
    /// folder and default fallbacks).
    pub categories: Vec<String>,
    /// Front matter `tags`: extra `<category>` elements on the item, not feeds of their own.
    pub tags: Vec<String>,
    /// `None` until `dates` has filled it in from git or mtime.
    pub published: Option<Dated>,
    pub updated: Option<Dated>,
    /// The source link (tag line link or front matter `source`).
    pub source: Option<String>,
    pub author: Option<String>,
    /// Plain text of the first paragraph, cut on a character boundary.
    pub summary: String,
    pub identity: Identity,
    pub draft: bool,
    /// Where the Markdown body starts (navigation header, front matter, title and tag line
    /// removed), as a byte offset into the text `parse::decode` gives for the file. The body
    /// is not kept: it is re-read and rendered only for articles a feed shows.
    pub body_offset: usize,
    pub warnings: Vec<Warning>,
}

impl Article {
    /// Drop the spare capacity of its strings and lists: built by pushes, and then held for
    /// as long as the article exists, they had ~7.5 MB of it at 100,000 articles.
    pub(crate) fn shrink_to_fit(&mut self) {
        for s in [&mut self.path, &mut self.title, &mut self.summary] {
            s.shrink_to_fit();
        }
        for list in [&mut self.categories, &mut self.tags] {
            list.iter_mut().for_each(String::shrink_to_fit);
            list.shrink_to_fit();
        }
        self.source.iter_mut().chain(&mut self.author).for_each(String::shrink_to_fit);
        self.warnings.shrink_to_fit();
    }
}

#[cfg(test)]
impl Article {
    /// An article with a path and a title and nothing else, for tests to fill in the fields
    /// they care about with `Article { .., ..Article::stub(path, title) }`.
    pub fn stub(path: &str, title: &str) -> Article {
        Article {
            path: path.into(),
            title: title.into(),
            categories: vec![],
            tags: vec![],
            published: None,
            updated: None,
            source: None,
            author: None,
            summary: String::new(),
            identity: Identity::Path,
            draft: false,
            body_offset: 0,
            warnings: vec![],
        }
    }
}

/// What one `*.md` file turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    Article(Box<Article>),
    /// A page that mostly lists links to other Markdown files: not an article.
    IndexPage,
    /// Not usable; the reason says what is wrong.
    Skipped(String),
}

/// What the parser needs from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseOptions {
    /// Longest summary, in characters.
    pub summary_chars: usize,
    /// Category of an article with no front matter category, no tag and no folder.
    pub default_category: String,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions { summary_chars: 300, default_category: "uncategorized".into() }
    }
}
