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
}

impl Report {
    pub fn from_site(site: &Site) -> Report {
        let mut r = Report::default();
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

    /// The human form: a line per problem, a line per article's date sources, totals last.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for (path, problem) in &self.problems {
            out.push_str(&format!("{path}: {problem}\n"));
        }
        if !self.problems.is_empty() {
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
