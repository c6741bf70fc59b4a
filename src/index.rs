//! Index: articles by path, and per-category newest-first lists, updated in place.
//!
//! A change touches only the lists of the categories the article was or is in, and records
//! which lists it touched and how far back in each (the reach): `Site::plan` looks only at
//! those lists, from their newest article down to the reach, and its fingerprints of the
//! documents decide what is rendered again.

use crate::article::Article;
use chrono::{DateTime, Utc};
use rayon::prelude::*;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Sort key of a list: newest published first, then by path so ties are deterministic. It
/// holds the article itself rather than a copy of its path: a list then yields its articles
/// without a lookup by path, and at 100,000 articles the copies were ~15 MB (two or three
/// lists per article).
#[derive(Debug, Clone)]
pub struct Key(Reverse<DateTime<Utc>>, Arc<Article>);

impl Key {
    /// The article this key places.
    pub fn article(&self) -> &Arc<Article> {
        &self.1
    }

    fn order(&self) -> (Reverse<DateTime<Utc>>, &str) {
        (self.0, &self.1.path)
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.order().cmp(&other.order())
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Keys are equal when they place an article at the same date and path, whichever version
/// of the article they hold: removing an article finds its key by the version removed.
impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.order() == other.order()
    }
}

impl Eq for Key {}

/// The lists a change touched: all articles, and these categories.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Touched {
    pub all: bool,
    pub categories: BTreeSet<String>,
}

#[derive(Debug, Default)]
pub struct Index {
    feed_len: usize,
    /// Persistent (structurally shared) so that handing the whole map to a new snapshot is
    /// O(1): copying 100,000 entries on every edit would dominate the update latency.
    by_path: imbl::HashMap<String, Arc<Article>>,
    all: BTreeSet<Key>,
    by_category: BTreeMap<String, BTreeSet<Key>>,
    /// Counts categories appearing and vanishing: the slugs, the listing and the OPML depend
    /// on the set of names only, so a rebuild redoes them only when this moved.
    category_changes: u64,
    /// Source link → paths of the articles that carry it. A link carried by one article only
    /// is that article's identity; a shared one (placeholder links) is not.
    /// (FxHash: looked up once per article of a feed on every rebuild, see `Site::plan`.)
    /// Keyed by a 128-bit hash of the link rather than a copy of it (~7 MB at 100,000
    /// articles; a collision is as likely as guessing a random 128-bit number).
    sources: rustc_hash::FxHashMap<u128, Carriers>,
    /// Lists that changed anywhere: the live feeds and archive pages to look at again.
    touched: Touched,
    /// Every version of an article that a change added, replaced, removed or re-identified
    /// since the last `take_touched_articles`: custom feeds select by title and categories,
    /// so they look at the old and the new versions to know whether a change reaches them.
    touched_articles: Vec<Arc<Article>>,
    /// How far back each touched list (`None`: all articles) changed, since the last
    /// `take_touched`, and as of it (`reach`): every position from the list's newest article
    /// down to this key (one that is or was in the list) may hold another article or a
    /// changed one; the older articles neither changed nor moved (their rank counted from the
    /// oldest is the same), so a rebuild need not look at their archive pages.
    pending_reach: BTreeMap<Option<String>, Key>,
    taken_reach: BTreeMap<Option<String>, Key>,
}

/// What `Index::sources` knows a link by: the first 128 bits of its blake3 hash, big-endian,
/// so that its 32 hex digits are the hash's first 32 (the item id `Site` makes of a unique
/// link, see [`Index::unique_source_key`]).
fn source_key(source: &str) -> u128 {
    let hash = blake3::hash(source.as_bytes());
    u128::from_be_bytes(hash.as_bytes()[..16].try_into().expect("a 32-byte hash"))
}

/// The paths of the articles that carry one source link. Nearly always one: a B-tree set of
/// one path is a ~300-byte node, 30 MB of the index at 100,000 articles.
#[derive(Debug, Clone)]
enum Carriers {
    One(String),
    Many(BTreeSet<String>),
}

impl Default for Carriers {
    fn default() -> Self {
        Carriers::Many(BTreeSet::new())
    }
}

impl Carriers {
    fn insert(&mut self, path: &str) {
        match self {
            Carriers::One(one) if one == path => {}
            Carriers::One(one) => {
                *self = Carriers::Many(BTreeSet::from([std::mem::take(one), path.to_string()]));
            }
            Carriers::Many(set) if set.is_empty() => *self = Carriers::One(path.to_string()),
            Carriers::Many(set) => {
                set.insert(path.to_string());
            }
        }
    }

    fn remove(&mut self, path: &str) {
        match self {
            Carriers::One(one) if one == path => *self = Carriers::default(),
            Carriers::One(_) => {}
            Carriers::Many(set) => {
                set.remove(path);
            }
        }
    }

    fn len(&self) -> usize {
        match self {
            Carriers::One(_) => 1,
            Carriers::Many(set) => set.len(),
        }
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn iter(&self) -> impl Iterator<Item = &String> {
        let (one, many) = match self {
            Carriers::One(one) => (Some(one), None),
            Carriers::Many(set) => (None, Some(set.iter())),
        };
        one.into_iter().chain(many.into_iter().flatten())
    }
}

/// The date an article is listed by.
pub fn sort_date(article: &Article) -> DateTime<Utc> {
    article.published.or(article.updated).map(|d| d.at).unwrap_or_default()
}

fn key(article: &Arc<Article>) -> Key {
    Key(Reverse(sort_date(article)), Arc::clone(article))
}

impl Index {
    pub fn new(feed_len: usize) -> Index {
        Index { feed_len, ..Index::default() }
    }

    pub fn len(&self) -> usize {
        self.by_path.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_path.is_empty()
    }

    pub fn get(&self, path: &str) -> Option<&Arc<Article>> {
        self.by_path.get(path)
    }

    pub fn articles(&self) -> impl Iterator<Item = &Arc<Article>> {
        self.by_path.values()
    }

    /// Every article by path, sharing structure with the index (cheap to clone).
    pub fn by_path(&self) -> imbl::HashMap<String, Arc<Article>> {
        self.by_path.clone()
    }

    /// Add or replace the article at `article.path`.
    pub fn insert(&mut self, article: Arc<Article>) {
        // One lookup of the path: the version replaced, if any, comes back from the map.
        if let Some(old) = self.by_path.insert(article.path.clone(), Arc::clone(&article)) {
            self.unlist(&old);
        }
        let k = key(&article);
        self.touch(&article, &k);
        self.all.insert(k.clone());
        for category in &article.categories {
            let list = self.by_category.entry(category.clone()).or_insert_with(|| {
                self.category_changes += 1;
                BTreeSet::new()
            });
            list.insert(k.clone());
        }
        if let Some(source) = &article.source {
            let paths = self.sources.entry(source_key(source)).or_default();
            paths.insert(&article.path);
            // The link just stopped being unique: the other article's id changes.
            if paths.len() == 2 {
                let other: Vec<String> =
                    paths.iter().filter(|p| **p != article.path).cloned().collect();
                self.mark_article_paths(&other);
            }
        }
    }

    /// [`Index::insert`] each of `articles` (a batch of distinct paths). Into an empty index,
    /// a first build's, the lists are sorted in one go on every core: inserting 100,000
    /// articles one by one ran on one core after the parallel parse (0.3 s of a gen-100k
    /// cold build with the other core idle, perf). What it records as touched is what the
    /// inserts one by one would have recorded.
    pub fn insert_many(&mut self, articles: Vec<Arc<Article>>) {
        if !self.by_path.is_empty() || !self.fill(&articles) {
            for article in articles {
                self.insert(article);
            }
        }
    }

    /// Fill an empty index with `articles`; false (and still empty) when a path repeats.
    fn fill(&mut self, articles: &[Arc<Article>]) -> bool {
        let by_path: imbl::HashMap<String, Arc<Article>> =
            articles.iter().map(|a| (a.path.clone(), Arc::clone(a))).collect();
        if by_path.len() != articles.len() {
            return false;
        }
        self.by_path = by_path;
        let mut keys: Vec<Key> = articles.par_iter().map(key).collect();
        keys.par_sort_unstable();
        let mut by_category: BTreeMap<String, Vec<Key>> = BTreeMap::new();
        for k in &keys {
            for category in &k.1.categories {
                match by_category.get_mut(category) {
                    Some(list) => list.push(k.clone()),
                    None => {
                        by_category.insert(category.clone(), vec![k.clone()]);
                    }
                }
            }
        }
        // Each list's oldest key: the inserts would have moved the reach down to it (from
        // where the removals of this rebuild, which emptied the index, left it).
        if let Some(oldest) = keys.last() {
            self.reach_down_to(None, oldest);
        }
        for (category, list) in &by_category {
            self.reach_down_to(Some(category.clone()), list.last().expect("not empty"));
        }
        self.touched.all |= !keys.is_empty();
        self.touched.categories.extend(by_category.keys().cloned());
        self.category_changes += by_category.len() as u64;
        self.touched_articles.extend(articles.iter().cloned());
        // Sorted already, so each set is built in one pass.
        self.all = keys.into_iter().collect();
        self.by_category = by_category
            .into_par_iter()
            .map(|(category, list)| (category, list.into_iter().collect()))
            .collect();
        let sources: Vec<Option<u128>> =
            articles.par_iter().map(|a| a.source.as_deref().map(source_key)).collect();
        self.sources.reserve(sources.iter().flatten().count());
        for (article, source) in articles.iter().zip(sources) {
            if let Some(source) = source {
                self.sources.entry(source).or_default().insert(&article.path);
            }
        }
        true
    }

    /// Remove the article at `path`, if any.
    pub fn remove(&mut self, path: &str) -> Option<Arc<Article>> {
        let article = self.by_path.remove(path)?;
        self.unlist(&article);
        Some(article)
    }

    /// Take `article`, no longer in `by_path`, out of its lists and its source's carriers.
    fn unlist(&mut self, article: &Arc<Article>) {
        let path = &article.path;
        let k = key(article);
        self.touch(article, &k);
        self.all.remove(&k);
        for category in &article.categories {
            if let Some(list) = self.by_category.get_mut(category) {
                list.remove(&k);
                if list.is_empty() {
                    self.by_category.remove(category);
                    self.category_changes += 1;
                }
            }
        }
        if let Some(source) = &article.source {
            let key = source_key(source);
            if let Some(paths) = self.sources.get_mut(&key) {
                paths.remove(path);
                // The link became unique again: the remaining article's id changes back.
                if paths.len() == 1 {
                    let other: Vec<String> = paths.iter().cloned().collect();
                    self.mark_article_paths(&other);
                } else if paths.is_empty() {
                    self.sources.remove(&key);
                }
            }
        }
    }

    fn touch(&mut self, article: &Arc<Article>, k: &Key) {
        self.touched_articles.push(article.clone());
        self.touched.all = true;
        self.touched.categories.extend(article.categories.iter().cloned());
        let lists = std::iter::once(None).chain(article.categories.iter().cloned().map(Some));
        for list in lists {
            self.reach_down_to(list, k);
        }
    }

    /// Record that `list` changed down to `k`, if that is further than recorded.
    fn reach_down_to(&mut self, list: Option<String>, k: &Key) {
        let reach = self.pending_reach.entry(list).or_insert_with(|| k.clone());
        if *reach < *k {
            *reach = k.clone();
        }
    }

    fn mark_article_paths(&mut self, paths: &[String]) {
        for path in paths {
            if let Some(article) = self.by_path.get(path).cloned() {
                self.touch(&article, &key(&article));
            }
        }
    }

    /// Whether `source` identifies exactly one article.
    pub fn source_is_unique(&self, source: &str) -> bool {
        self.unique_source_key(source).is_some()
    }

    /// The key of `source` (the first 128 bits of its blake3 hash) when it identifies exactly
    /// one article: an item id is made of it, so the link is hashed once.
    pub fn unique_source_key(&self, source: &str) -> Option<u128> {
        let key = source_key(source);
        self.sources.get(&key).is_some_and(|paths| paths.len() == 1).then_some(key)
    }

    /// Newest first, at most `feed_len`: all articles (`None`) or one category.
    pub fn newest(&self, category: Option<&str>) -> Vec<&Arc<Article>> {
        let list = match category {
            None => Some(&self.all),
            Some(c) => self.by_category.get(c),
        };
        list.into_iter().flat_map(|l| l.iter()).take(self.feed_len).map(Key::article).collect()
    }

    /// Every article, newest first (the order of the feeds): all articles (`None`) or one
    /// category. Archive pages are cut from the end of this list.
    pub fn everything(&self, category: Option<&str>) -> Vec<&Arc<Article>> {
        let list = match category {
            None => Some(&self.all),
            Some(c) => self.by_category.get(c),
        };
        list.into_iter().flat_map(|l| l.iter()).map(Key::article).collect()
    }

    /// The newest `n` articles, newest first: all articles (`None`) or one category.
    pub fn newest_n(&self, category: Option<&str>, n: usize) -> Vec<&Arc<Article>> {
        self.list(category).into_iter().flat_map(|l| l.iter()).take(n).map(Key::article).collect()
    }

    /// How many articles of all (`None`) or one category sort at or before `k` (are as new
    /// or newer). Walks them, so it costs what the newer part of the list costs.
    pub fn count_down_to(&self, category: Option<&str>, k: &Key) -> usize {
        self.list(category).map_or(0, |l| l.range(..=k).count())
    }

    fn list(&self, category: Option<&str>) -> Option<&BTreeSet<Key>> {
        match category {
            None => Some(&self.all),
            Some(c) => self.by_category.get(c),
        }
    }

    /// How far back all (`None`) or one category changed as of the last `take_touched`;
    /// `None` when it did not change.
    pub fn reach(&self, category: Option<&str>) -> Option<&Key> {
        self.taken_reach.get(&category.map(str::to_string))
    }

    /// Number of articles of all (`None`) or one category.
    pub fn count(&self, category: Option<&str>) -> usize {
        match category {
            None => self.all.len(),
            Some(c) => self.by_category.get(c).map_or(0, BTreeSet::len),
        }
    }

    /// Lists changed anywhere since the last call (see `touched`).
    pub fn take_touched(&mut self) -> Touched {
        self.taken_reach = std::mem::take(&mut self.pending_reach);
        std::mem::take(&mut self.touched)
    }

    /// Versions of articles changed since the last call (see `touched_articles`).
    pub fn take_touched_articles(&mut self) -> Vec<Arc<Article>> {
        std::mem::take(&mut self.touched_articles)
    }

    /// Category names with their article counts, by name.
    pub fn categories(&self) -> impl Iterator<Item = (&str, usize)> {
        self.by_category.iter().map(|(name, list)| (name.as_str(), list.len()))
    }

    /// A number that changes whenever a category appears or vanishes (see
    /// `category_changes`).
    pub fn category_generation(&self) -> u64 {
        self.category_changes
    }

    pub fn has_category(&self, name: &str) -> bool {
        self.by_category.contains_key(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key places an article by date and path, whichever version it holds; the lists
    /// yield the version inserted last.
    #[test]
    fn keys_place_by_date_and_path_and_lists_yield_the_current_version() {
        let old = article("a.md", 2, &["x"], None);
        let new = Arc::new(Article { title: "Edited".into(), ..(*old).clone() });
        assert_eq!(key(&old), key(&new));
        assert!(key(&article("a.md", 3, &[], None)) < key(&old), "newer first");
        assert!(key(&old) < key(&article("b.md", 2, &[], None)), "then by path");
        let mut index = Index::new(10);
        index.insert(old);
        index.insert(article("b.md", 1, &["x"], None));
        index.insert(Arc::clone(&new));
        for list in [index.everything(None), index.everything(Some("x"))] {
            assert_eq!(list.len(), 2);
            assert!(Arc::ptr_eq(list[0], &new), "{:?}", list[0].title);
        }
    }

    /// The carriers of a link follow inserts and removals as a set would, and one path is
    /// held as itself.
    #[test]
    fn carriers_behave_as_a_set() {
        let (mut carriers, mut model) = (Carriers::default(), BTreeSet::new());
        let steps = [
            ("a", true),
            ("a", true),
            ("b", true),
            ("a", false),
            ("c", true),
            ("b", false),
            ("x", false),
            ("c", false),
            ("c", false),
            ("d", true),
        ];
        for (path, add) in steps {
            if add {
                carriers.insert(path);
                model.insert(path.to_string());
            } else {
                carriers.remove(path);
                model.remove(path);
            }
            assert_eq!(carriers.iter().cloned().collect::<BTreeSet<_>>(), model, "{path}");
            assert_eq!((carriers.len(), carriers.is_empty()), (model.len(), model.is_empty()));
        }
        assert!(matches!(carriers, Carriers::One(ref one) if one == "d"));
    }
    use crate::article::{DateSource, Dated, Identity};

    fn article(path: &str, day: u32, categories: &[&str], source: Option<&str>) -> Arc<Article> {
        let at = chrono::NaiveDate::from_ymd_opt(2024, 1, day)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc();
        Arc::new(Article {
            path: path.into(),
            title: path.into(),
            categories: categories.iter().map(|c| c.to_string()).collect(),
            tags: vec![],
            published: Some(Dated { at, source: DateSource::FrontMatter }),
            updated: None,
            source: source.map(str::to_string),
            author: None,
            summary: String::new(),
            identity: source.map_or(Identity::Path, |s| Identity::Source(s.into())),
            draft: false,
            body_offset: 0,
            warnings: vec![],
        })
    }

    fn paths(list: Vec<&Arc<Article>>) -> Vec<&str> {
        list.into_iter().map(|a| a.path.as_str()).collect()
    }

    #[test]
    fn lists_are_newest_first_and_capped() {
        let mut index = Index::new(2);
        for (path, day) in [("a.md", 1), ("b.md", 3), ("c.md", 2)] {
            index.insert(article(path, day, &["x"], None));
        }
        assert_eq!(paths(index.newest(None)), ["b.md", "c.md"]);
        assert_eq!(paths(index.newest(Some("x"))), ["b.md", "c.md"]);
        assert_eq!(index.categories().collect::<Vec<_>>(), [("x", 3)]);
    }

    #[test]
    fn moving_an_article_between_categories_touches_both_and_drops_empty_ones() {
        let mut index = Index::new(10);
        index.insert(article("a.md", 1, &["old"], None));
        index.take_touched();
        index.insert(article("a.md", 1, &["new"], None));
        let touched = index.take_touched();
        assert_eq!(touched.categories, BTreeSet::from(["old".to_string(), "new".to_string()]));
        assert!(touched.all);
        assert!(!index.has_category("old"));
        assert!(index.remove("a.md").is_some());
        assert!(index.is_empty());
        assert_eq!(index.take_touched().categories, BTreeSet::from(["new".to_string()]));
    }

    #[test]
    fn touched_articles_are_the_old_and_new_versions() {
        let mut index = Index::new(10);
        index.insert(article("a.md", 1, &["old"], None));
        index.take_touched_articles();
        index.insert(article("a.md", 1, &["new"], None));
        let touched = index.take_touched_articles();
        let categories: Vec<&str> = touched.iter().map(|a| a.categories[0].as_str()).collect();
        assert_eq!(categories, ["old", "new"]);
        index.remove("a.md");
        assert_eq!(index.take_touched_articles().len(), 1);
        assert!(index.take_touched_articles().is_empty(), "taken once");
    }

    #[test]
    fn the_reach_is_the_oldest_key_changed_old_or_new() {
        let mut index = Index::new(2);
        for (path, day) in [("a.md", 1), ("b.md", 2), ("c.md", 3), ("d.md", 4)] {
            index.insert(article(path, day, &["x"], None));
        }
        index.take_touched();
        let oldest = key(&article("a.md", 1, &[], None));
        assert_eq!(index.reach(None), Some(&oldest), "every article was added");
        index.take_touched();
        assert_eq!(index.reach(None), None, "nothing changed since");
        // c.md moves from day 3 to day 9: the list changed down to where it was.
        index.insert(article("c.md", 9, &["x"], None));
        index.take_touched();
        let old_c = key(&article("c.md", 3, &[], None));
        assert_eq!(index.reach(None), Some(&old_c));
        assert_eq!(index.reach(Some("x")), Some(&old_c));
        assert_eq!(index.reach(Some("y")), None);
        // c (9), d (4) are newer than where c was; b and a are not.
        assert_eq!(index.count_down_to(None, &old_c), 2);
        // The oldest article moved to the top: the whole list changed.
        index.insert(article("a.md", 10, &["x"], None));
        index.take_touched();
        let old_a = key(&article("a.md", 1, &[], None));
        assert_eq!(index.reach(Some("x")), Some(&old_a));
        assert_eq!(index.count_down_to(Some("x"), &old_a), 4);
    }

    /// Filling an empty index in one go leaves it as inserting the articles one by one does:
    /// the same lists, categories, source links and identities, and the same changes
    /// recorded (touched lists, each one's reach, the articles touched).
    #[test]
    fn inserting_many_into_an_empty_index_equals_inserting_one_by_one() {
        let categories = [&["x"][..], &["y", "x"], &[], &["z"], &["y"]];
        let sources =
            [None, Some("https://e.org/1"), Some("https://e.org/2"), Some("https://e.org/1")];
        // Days repeat, so keys tie on the date and are placed by path.
        let articles: Vec<Arc<Article>> = (0..40)
            .map(|i| {
                let path = format!("d{}/{i:02}.md", i % 3);
                article(&path, 1 + (i * 7 % 11) as u32, categories[i % 5], sources[i % 4])
            })
            .collect();
        for n in [0, 1, 2, 5, 40] {
            let (mut one_by_one, mut many) = (Index::new(3), Index::new(3));
            for a in &articles[..n] {
                one_by_one.insert(Arc::clone(a));
            }
            many.insert_many(articles[..n].to_vec());
            assert_eq!(paths(many.everything(None)), paths(one_by_one.everything(None)), "{n}");
            assert_eq!(
                many.categories().collect::<Vec<_>>(),
                one_by_one.categories().collect::<Vec<_>>()
            );
            for (c, _) in one_by_one.categories() {
                assert_eq!(paths(many.everything(Some(c))), paths(one_by_one.everything(Some(c))));
            }
            assert_eq!(many.category_generation(), one_by_one.category_generation());
            for s in sources.iter().flatten() {
                assert_eq!(many.source_is_unique(s), one_by_one.source_is_unique(s), "{n} {s}");
            }
            let touched = |index: &mut Index| {
                let articles: BTreeSet<String> =
                    index.take_touched_articles().iter().map(|a| a.path.clone()).collect();
                (index.take_touched(), articles)
            };
            assert_eq!(touched(&mut many), touched(&mut one_by_one), "{n}");
            for list in [None, Some("x"), Some("y"), Some("z"), Some("w")] {
                assert_eq!(many.reach(list), one_by_one.reach(list), "{n} {list:?}");
            }
        }
        // Into an index emptied by this rebuild's removals: the reach stays where they left it
        // when that is further down.
        let (mut one_by_one, mut many) = (Index::new(3), Index::new(3));
        for index in [&mut one_by_one, &mut many] {
            index.insert(article("old.md", 1, &["x", "y"], None));
            index.take_touched();
            index.remove("old.md");
        }
        let newer = vec![article("a.md", 5, &["x"], None), article("b.md", 6, &["z"], None)];
        for a in &newer {
            one_by_one.insert(Arc::clone(a));
        }
        many.insert_many(newer);
        assert_eq!(many.take_touched(), one_by_one.take_touched());
        for list in [None, Some("x"), Some("y"), Some("z")] {
            assert_eq!(many.reach(list), one_by_one.reach(list), "{list:?}");
        }
        assert_eq!(many.reach(Some("x")), Some(&key(&article("old.md", 1, &[], None))));
        // Into an index that holds articles, or with a path twice, one by one.
        let mut twice = Index::new(3);
        twice.insert_many(vec![article("a.md", 1, &["x"], None), article("a.md", 2, &["y"], None)]);
        assert_eq!(paths(twice.everything(None)), ["a.md"]);
        assert!(!twice.has_category("x") && twice.has_category("y"), "the last one wins");
    }

    #[test]
    fn a_source_link_is_unique_only_while_one_article_has_it() {
        let mut index = Index::new(10);
        index.insert(article("a.md", 1, &["x"], Some("https://e.org/1")));
        assert!(index.source_is_unique("https://e.org/1"));
        index.insert(article("b.md", 2, &["y"], Some("https://e.org/1")));
        assert!(!index.source_is_unique("https://e.org/1"));
        index.take_touched();
        index.remove("b.md");
        assert!(index.source_is_unique("https://e.org/1"));
        let touched = index.take_touched();
        assert!(touched.categories.contains("x"), "a.md's id changed back: {touched:?}");
        assert_eq!(index.reach(Some("x")), Some(&key(&article("a.md", 1, &[], None))));
    }
}
