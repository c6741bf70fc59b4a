//! Custom feeds (`[[feeds.custom]]` in the config): a named selection of articles, served
//! like the category feeds but capped and without archive pages.
//!
//! The rules, in the order they are applied (pure, see [`CustomFeed::matches`]):
//!
//! 1. `exclude_categories`: an article in any of them is left out.
//! 2. `exclude_title_words`: an article whose title contains any of them is left out.
//! 3. `categories`: an article must be in at least one of them (a union); none given means
//!    every article.
//! 4. `title_words`: an article's title must contain at least one of them; none given means
//!    every title.
//!
//! Exclusion always wins. Category names compare exactly, as the articles spell them (the
//! names shown on the index page). Words match as **substrings, case-insensitively**
//! (Unicode lower case of both sides): Chinese and Japanese titles have no spaces between
//! words, so `气候` must match `全球气候峰会开幕`; the price is that in Latin scripts `art`
//! also matches `Party`. Spaces in a word are kept, so `" art "` asks for the word on its own
//! (except at the start or end of the title).

use crate::article::Article;
use std::sync::Arc;

/// One validated custom feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomFeed {
    /// URL slug: `/feeds/{slug}.rss`, `.atom`, `.json`.
    pub slug: String,
    /// Feed title; `None`: `<site title>: <slug>`.
    pub title: Option<String>,
    /// Union of these categories; empty: every article.
    pub categories: Vec<String>,
    /// Articles in any of these are left out.
    pub exclude_categories: Vec<String>,
    /// Lower case (see [`fold`]); the title must contain one; empty: any title.
    pub title_words: Vec<String>,
    /// Lower case; a title containing any of these is left out.
    pub exclude_title_words: Vec<String>,
    /// Most items in the feed (the newest matching articles).
    pub items: usize,
}

/// The case folding both titles and words go through before they are compared.
pub fn fold(text: &str) -> String {
    text.to_lowercase()
}

impl CustomFeed {
    /// Whether `article` belongs in this feed (see the module documentation for the rules).
    pub fn matches(&self, article: &Article) -> bool {
        let in_any = |names: &[String]| article.categories.iter().any(|c| names.contains(c));
        if in_any(&self.exclude_categories) {
            return false;
        }
        if !self.categories.is_empty() && !in_any(&self.categories) {
            return false;
        }
        if self.title_words.is_empty() && self.exclude_title_words.is_empty() {
            return true;
        }
        let title = fold(&article.title);
        let contains_any = |words: &[String]| words.iter().any(|w| title.contains(w.as_str()));
        !contains_any(&self.exclude_title_words)
            && (self.title_words.is_empty() || contains_any(&self.title_words))
    }

    /// Every matching article of `newest_first`, in the same order. The feed shows the first
    /// [`CustomFeed::items`] of them; the feed's page lists them all.
    pub fn select<'a>(
        &self,
        newest_first: impl IntoIterator<Item = &'a Arc<Article>>,
    ) -> Vec<Arc<Article>> {
        newest_first.into_iter().filter(|a| self.matches(a)).cloned().collect()
    }

    /// The items of the feed: the newest [`CustomFeed::items`] of `matching` (newest first).
    pub fn capped<'a>(&self, matching: &'a [Arc<Article>]) -> &'a [Arc<Article>] {
        &matching[..matching.len().min(self.items)]
    }

    /// The categories this feed names that `exists` does not know, each with the key that
    /// names it (`categories` or `exclude_categories`): a warning, not an error, since the
    /// category may appear with the next article.
    pub fn unknown_categories(&self, exists: impl Fn(&str) -> bool) -> Vec<(&'static str, &str)> {
        let keep = self.categories.iter().map(|n| ("categories", n.as_str()));
        let leave = self.exclude_categories.iter().map(|n| ("exclude_categories", n.as_str()));
        keep.chain(leave).filter(|(_, name)| !exists(name)).collect()
    }

    /// The rules in a line for people (the index card and the feed's page), e.g.
    /// `in 国际 or Europe · not in 体育 · title without "广告" · newest 20`.
    pub fn describe(&self) -> String {
        let words = |list: &[String], joiner: &str| {
            list.iter().map(|w| format!("{w:?}")).collect::<Vec<_>>().join(joiner)
        };
        let mut parts = Vec::new();
        if !self.categories.is_empty() {
            parts.push(format!("in {}", self.categories.join(" or ")));
        }
        if !self.exclude_categories.is_empty() {
            parts.push(format!("not in {}", self.exclude_categories.join(" or ")));
        }
        if !self.title_words.is_empty() {
            parts.push(format!("title with {}", words(&self.title_words, " or ")));
        }
        if !self.exclude_title_words.is_empty() {
            parts.push(format!("title without {}", words(&self.exclude_title_words, " or ")));
        }
        parts.push(format!("newest {}", self.items));
        parts.join(" · ")
    }

    /// The title of the feed documents.
    pub fn feed_title(&self, site_title: &str) -> String {
        match &self.title {
            Some(title) => title.clone(),
            None => format!("{site_title}: {}", self.slug),
        }
    }

    /// The name the index page and the OPML list show: the title, else the slug.
    pub fn name(&self) -> &str {
        self.title.as_deref().unwrap_or(&self.slug)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article(title: &str, categories: &[&str]) -> Arc<Article> {
        Arc::new(Article {
            categories: categories.iter().map(|c| c.to_string()).collect(),
            ..Article::stub(&format!("{title}.md"), title)
        })
    }

    fn feed() -> CustomFeed {
        CustomFeed {
            slug: "world".into(),
            title: None,
            categories: vec![],
            exclude_categories: vec![],
            title_words: vec![],
            exclude_title_words: vec![],
            items: 50,
        }
    }

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| fold(w)).collect()
    }

    #[test]
    fn categories_are_a_union_and_exact() {
        let f = CustomFeed { categories: vec!["国际".into(), "Europe".into()], ..feed() };
        assert!(f.matches(&article("a", &["国际"])));
        assert!(f.matches(&article("b", &["Sport", "Europe"])));
        assert!(!f.matches(&article("c", &["Sport"])));
        // Names compare as written: "europe" is another category than "Europe".
        let lower = CustomFeed { categories: vec!["europe".into()], ..feed() };
        assert!(!lower.matches(&article("d", &["Europe"])));
    }

    #[test]
    fn no_categories_means_every_article() {
        let f = CustomFeed { exclude_categories: vec!["体育".into()], ..feed() };
        assert!(f.matches(&article("a", &["anything"])));
        assert!(!f.matches(&article("b", &["anything", "体育"])));
    }

    #[test]
    fn exclusion_wins_over_inclusion() {
        let f = CustomFeed {
            categories: vec!["国际".into()],
            exclude_categories: vec!["体育".into()],
            title_words: strings(&["cup"]),
            exclude_title_words: strings(&["广告"]),
            ..feed()
        };
        assert!(f.matches(&article("World Cup final", &["国际"])));
        assert!(!f.matches(&article("World Cup final", &["国际", "体育"])));
        assert!(!f.matches(&article("World Cup 广告", &["国际"])));
        assert!(!f.matches(&article("World Series", &["国际"])));
    }

    #[test]
    fn title_words_are_case_insensitive_substrings() {
        let f = CustomFeed { title_words: strings(&["Climate", "气候"]), ..feed() };
        assert!(f.matches(&article("CLIMATE talks resume", &["x"])));
        assert!(f.matches(&article("New climate-friendly ferries", &["x"])));
        // No spaces in CJK titles: a word is found inside the run of characters.
        assert!(f.matches(&article("全球气候峰会开幕", &["x"])));
        assert!(!f.matches(&article("全球经济峰会开幕", &["x"])));
        // Unicode case folding, not only ASCII.
        let greek = CustomFeed { title_words: strings(&["ΚΛΙΜΑ"]), ..feed() };
        assert!(greek.matches(&article("Το κλιμα αλλάζει", &["x"])));
    }

    #[test]
    fn excluded_words_drop_an_article() {
        let f = CustomFeed { exclude_title_words: strings(&["广告", "Sponsored"]), ..feed() };
        assert!(!f.matches(&article("【广告】新品上市", &["x"])));
        assert!(!f.matches(&article("sponsored: a new phone", &["x"])));
        assert!(f.matches(&article("A plain title", &["x"])));
    }

    #[test]
    fn a_word_with_spaces_asks_for_the_word_on_its_own() {
        let f = CustomFeed { title_words: strings(&[" art "]), ..feed() };
        assert!(f.matches(&article("Street art in the old town", &["x"])));
        assert!(!f.matches(&article("The party in the old town", &["x"])));
    }

    #[test]
    fn select_keeps_the_order_of_the_list() {
        let f = CustomFeed { categories: vec!["a".into()], items: 2, ..feed() };
        let list = [
            article("1", &["a"]),
            article("2", &["b"]),
            article("3", &["a"]),
            article("4", &["a"]),
        ];
        let titles: Vec<String> = f.select(&list).iter().map(|a| a.title.clone()).collect();
        assert_eq!(titles, ["1", "3", "4"], "every match, in order");
    }

    #[test]
    fn the_feed_is_capped_at_items() {
        let f = CustomFeed { items: 2, ..feed() };
        let list = [article("1", &["a"]), article("2", &["a"]), article("3", &["a"])];
        let matching = f.select(&list);
        let titles: Vec<&str> = f.capped(&matching).iter().map(|a| a.title.as_str()).collect();
        assert_eq!(titles, ["1", "2"], "the newest two");
        assert_eq!(f.capped(&matching[..1]).len(), 1, "fewer matches than the cap: all of them");
    }

    #[test]
    fn unknown_categories_are_the_named_ones_no_article_has() {
        let f = CustomFeed {
            categories: vec!["国际".into(), "Europe".into()],
            exclude_categories: vec!["体育".into()],
            ..feed()
        };
        let known = |name: &str| name == "Europe";
        assert_eq!(
            f.unknown_categories(known),
            [("categories", "国际"), ("exclude_categories", "体育")]
        );
        assert!(f.unknown_categories(|_| true).is_empty());
    }

    #[test]
    fn the_rules_are_described_in_a_line() {
        let f = CustomFeed {
            categories: vec!["国际".into(), "Europe".into()],
            exclude_categories: vec!["体育".into()],
            title_words: strings(&["Climate", " rain"]),
            exclude_title_words: strings(&["广告"]),
            items: 20,
            ..feed()
        };
        assert_eq!(
            f.describe(),
            "in 国际 or Europe · not in 体育 · title with \"climate\" or \" rain\" · \
             title without \"广告\" · newest 20"
        );
        let words_only = CustomFeed { title_words: strings(&["气候"]), ..feed() };
        assert_eq!(words_only.describe(), "title with \"气候\" · newest 50");
    }

    #[test]
    fn titles_and_names() {
        let f = feed();
        assert_eq!(f.feed_title("Herald"), "Herald: world");
        assert_eq!(f.name(), "world");
        let titled = CustomFeed { title: Some("World news".into()), ..feed() };
        assert_eq!(titled.feed_title("Herald"), "World news");
        assert_eq!(titled.name(), "World news");
    }
}
