//! `herald check`: every problem Herald found in the content, per file.

use crate::site::{Outcome, Site};

/// The whole report: one entry per file with a problem, plus totals.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub files: usize,
    pub articles: usize,
    pub drafts: usize,
    pub index_pages: usize,
    pub skipped: usize,
    pub warnings: usize,
    /// `(path, line)` in path order: what is wrong and what Herald did about it.
    pub problems: Vec<(String, String)>,
    /// `(path, published source, updated source)` for every article.
    pub date_sources: Vec<(String, &'static str, &'static str)>,
    /// Configuration problems the content reveals (a custom feed naming a category no
    /// article has), each naming its key. Warnings: they do not fail the check.
    pub config_warnings: Vec<String>,
}

impl Report {
    pub fn from_site(site: &Site) -> Report {
        let mut r = Report { config_warnings: site.config_warnings(), ..Report::default() };
        for (path, file) in site.reports() {
            r.files += 1;
            match &file.outcome {
                Outcome::Article => r.articles += 1,
                Outcome::Draft => r.drafts += 1,
                Outcome::IndexPage => r.index_pages += 1,
                Outcome::Skipped(reason) => {
                    r.skipped += 1;
                    r.problems.push((path.clone(), format!("skipped: {reason}")));
                }
            }
            for w in &file.warnings {
                r.warnings += 1;
                r.problems.push((path.clone(), w.clone()));
            }
            if let Some((published, updated)) = file.date_sources {
                r.date_sources.push((path.clone(), published, updated));
            }
        }
        r
    }

    /// The machine form, for CI pipelines (`herald check --json`): one JSON object with
    /// stable field names, in this order:
    ///
    /// ```json
    /// {"ok": true, "files": 12, "articles": 9, "drafts": 1, "index_pages": 1, "skipped": 0,
    ///  "warnings": 1, "problems": [{"path": "a.md", "message": "…"}],
    ///  "date_sources": [{"path": "a.md", "published": "front matter", "updated": "git"}],
    ///  "config_warnings": ["feeds.custom[0].categories: no article is in category …"]}
    /// ```
    ///
    /// `ok` is false exactly when `herald check` exits 1 (an article was skipped).
    pub fn to_json(&self) -> String {
        #[derive(serde::Serialize)]
        struct Problem<'a> {
            path: &'a str,
            message: &'a str,
        }
        #[derive(serde::Serialize)]
        struct Dates<'a> {
            path: &'a str,
            published: &'a str,
            updated: &'a str,
        }
        #[derive(serde::Serialize)]
        struct Json<'a> {
            ok: bool,
            files: usize,
            articles: usize,
            drafts: usize,
            index_pages: usize,
            skipped: usize,
            warnings: usize,
            problems: Vec<Problem<'a>>,
            date_sources: Vec<Dates<'a>>,
            config_warnings: &'a [String],
        }
        let json = Json {
            ok: self.ok(),
            files: self.files,
            articles: self.articles,
            drafts: self.drafts,
            index_pages: self.index_pages,
            skipped: self.skipped,
            warnings: self.warnings,
            problems: self
                .problems
                .iter()
                .map(|(path, message)| Problem { path, message })
                .collect(),
            date_sources: self
                .date_sources
                .iter()
                .map(|(path, published, updated)| Dates { path, published, updated })
                .collect(),
            config_warnings: &self.config_warnings,
        };
        let mut out = serde_json::to_string_pretty(&json).expect("plain structs serialise");
        out.push('\n');
        out
    }

    /// Whether the content passes: no article was skipped.
    pub fn ok(&self) -> bool {
        self.skipped == 0
    }

    /// The human form: a line per problem, a line per article's date sources, totals last.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for warning in &self.config_warnings {
            out.push_str(&format!("config: {warning}\n"));
        }
        for (path, problem) in &self.problems {
            out.push_str(&format!("{path}: {problem}\n"));
        }
        if !self.problems.is_empty() || !self.config_warnings.is_empty() {
            out.push('\n');
        }
        out.push_str("dates (published ← source, updated ← source):\n");
        for (path, published, updated) in &self.date_sources {
            out.push_str(&format!("  {path}: {published}, {updated}\n"));
        }
        out.push_str(&format!(
            "\n{} files: {} articles, {} drafts, {} index pages, {} skipped; {} warnings\n",
            self.files, self.articles, self.drafts, self.index_pages, self.skipped, self.warnings
        ));
        out
    }
}
