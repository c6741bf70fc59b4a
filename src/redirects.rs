//! Stable feed URLs: a slug Herald once served never silently becomes a 404.
//!
//! People paste feed URLs into readers and other sites, so when a category is renamed (a
//! folder or a front-matter rename, a changed `[feeds.slugs]` override, a collision suffix
//! that moved) its old URLs answer `301 Moved Permanently` to the new ones, and when it is
//! gone for good they answer `410 Gone`. Three sources decide, in this order:
//!
//! 1. a slug that is served is served, whatever else says;
//! 2. `[feeds.redirects]` in the config (old slug → new slug);
//! 3. the [`Record`] of every slug Herald has served (kept in `<feeds.out>/.herald-slugs`):
//!    its category still exists under another slug → 301 there; its category vanished and
//!    most of its articles now sit in one other category → 301 to that one (remembered, so
//!    it survives restarts and later renames); otherwise → 410.
//!
//! Everything here but [`Tracker`]'s file reading and writing is pure and deterministic.

use crate::article::Article;
use crate::index::Index;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The record's file name in the mirror folder (hidden: not a feed, never published).
pub const STATE_FILE: &str = ".herald-slugs";
/// Format of the record file; another number is read as "from another version of Herald".
const FORMAT: u32 = 1;
/// Articles remembered per category to recognise them elsewhere after a rename.
const SAMPLE: usize = 16;

/// What a slug that is not served answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// `301 Moved Permanently` to this (served) slug.
    Moved(String),
    /// `410 Gone`; the category name the slug served.
    Gone(String),
}

/// The answers of every slug that is not served but must not be a 404. Part of the
/// published snapshot, so a request sees the table of the feeds it is served from.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Table {
    answers: BTreeMap<String, Answer>,
}

impl Table {
    pub fn get(&self, slug: &str) -> Option<&Answer> {
        self.answers.get(slug)
    }

    pub fn len(&self) -> usize {
        self.answers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.answers.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Answer)> {
        self.answers.iter().map(|(s, a)| (s.as_str(), a))
    }
}

/// What Herald remembers of the slugs it served, across runs.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Every slug ever served → the category name it served last.
    pub slugs: BTreeMap<String, String>,
    /// Every category name ever served → what is known of it.
    pub categories: BTreeMap<String, Category>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// The smallest [`article_key`]s of its articles when it was last served (a bottom-k
    /// sample: uniform over its articles, the same on every machine, and it changes only
    /// when a sampled article goes or a smaller key comes, so the file is rarely rewritten).
    pub sample: Vec<u64>,
    /// Set when the category vanished and most of its articles were found in this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_to: Option<String>,
}

/// The record file: a format number, then the record.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    herald_slugs: u32,
    slugs: BTreeMap<String, String>,
    categories: BTreeMap<String, Category>,
}

/// A slug as Herald can have served it. Not `slugify(s) == s`: lower-casing is not
/// idempotent for every script (`İ` lower-cases to `i` and a combining dot, which `slugify`
/// drops), and a record must never be refused for a slug Herald itself made.
fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s != "all"
        && !matches!(s, "." | "..")
        && !s.chars().any(|c| c == '/' || c.is_control() || c.is_whitespace())
}

impl Record {
    /// The file's bytes: pretty JSON, keys in order, so the same record gives the same bytes.
    pub fn encode(&self) -> Vec<u8> {
        let file = StateFile {
            herald_slugs: FORMAT,
            slugs: self.slugs.clone(),
            categories: self.categories.clone(),
        };
        let mut bytes = serde_json::to_vec_pretty(&file).expect("maps of strings serialise");
        bytes.push(b'\n');
        bytes
    }

    /// Read and check a record file; the error says what is wrong with it.
    pub fn decode(bytes: &[u8]) -> Result<Record, String> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
        match value.get("herald_slugs").and_then(|v| v.as_u64()) {
            Some(n) if n == u64::from(FORMAT) => {}
            Some(n) => return Err(format!("format {n} is from another version of Herald")),
            None => return Err("no \"herald_slugs\" format number".into()),
        }
        let file: StateFile = serde_json::from_value(value).map_err(|e| e.to_string())?;
        let record = Record { slugs: file.slugs, categories: file.categories };
        for (slug, name) in &record.slugs {
            if !is_slug(slug) {
                return Err(format!("{slug:?} is not a slug"));
            }
            if !record.categories.contains_key(name) {
                return Err(format!("slug {slug:?} names category {name:?}, which is not listed"));
            }
        }
        for (name, category) in &record.categories {
            if name.trim().is_empty() {
                return Err("a category has an empty name".into());
            }
            if category.sample.len() > SAMPLE {
                return Err(format!("the sample of {name:?} is longer than {SAMPLE}"));
            }
            if let Some(to) = &category.moved_to {
                if to == name || !record.categories.contains_key(to) {
                    return Err(format!(
                        "{name:?} moved to {to:?}, which is not another listed category"
                    ));
                }
            }
        }
        Ok(record)
    }

    /// Note what is served now: every slug → its category, the categories' fresh samples.
    /// A category that is back is no longer "moved". Returns whether the record changed.
    pub fn observe(
        &mut self,
        served: &HashMap<String, String>,
        samples: Vec<(String, Vec<u64>)>,
    ) -> bool {
        let mut changed = false;
        for (name, slug) in served {
            if self.slugs.get(slug) != Some(name) {
                self.slugs.insert(slug.clone(), name.clone());
                changed = true;
            }
            match self.categories.get_mut(name) {
                Some(category) => changed |= category.moved_to.take().is_some(),
                None => {
                    self.categories.insert(name.clone(), Category::default());
                    changed = true;
                }
            }
        }
        self.observe_samples(served, samples) || changed
    }

    /// [`Record::observe`] when the served categories are those of the last call: only the
    /// new samples can change the record.
    pub fn observe_samples(
        &mut self,
        served: &HashMap<String, String>,
        samples: Vec<(String, Vec<u64>)>,
    ) -> bool {
        let mut changed = false;
        for (name, sample) in samples {
            if let Some(category) = self.categories.get_mut(&name) {
                if served.contains_key(&name) && category.sample != sample {
                    category.sample = sample;
                    changed = true;
                }
            }
        }
        changed
    }

    /// Categories that are not served and have not been found elsewhere (yet).
    pub fn unresolved<'a>(&'a self, served: &HashMap<String, String>) -> Vec<&'a str> {
        self.categories
            .iter()
            .filter(|(name, c)| {
                !served.contains_key(*name) && c.moved_to.is_none() && !c.sample.is_empty()
            })
            .map(|(name, _)| name.as_str())
            .collect()
    }

    /// Look for the articles of every unresolved category among the current ones
    /// (`now`: article key → the categories of the articles with that key) and remember
    /// where most of them went. Returns whether anything was learnt.
    pub fn settle(
        &mut self,
        served: &HashMap<String, String>,
        now: &HashMap<u64, BTreeSet<String>>,
    ) -> bool {
        let found: Vec<(String, String)> = self
            .unresolved(served)
            .into_iter()
            .filter_map(|name| {
                let target = pick_move(&self.categories[name].sample, now, name)?;
                Some((name.to_string(), target))
            })
            .collect();
        let learnt = !found.is_empty();
        for (name, target) in found {
            // The target is served, so it is in the record after `observe`.
            self.categories.entry(target.clone()).or_default();
            if let Some(c) = self.categories.get_mut(&name) {
                c.moved_to = Some(target);
            }
        }
        learnt
    }
}

/// The category holding more than half of `sample` now (most, then first by name, when an
/// article sits in several), other than `name` itself.
pub fn pick_move(
    sample: &[u64],
    now: &HashMap<u64, BTreeSet<String>>,
    name: &str,
) -> Option<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for key in sample {
        for category in now.get(key).into_iter().flatten() {
            if category != name {
                *counts.entry(category).or_default() += 1;
            }
        }
    }
    let (best, count) = counts.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))?;
    (count * 2 > sample.len()).then(|| best.to_string())
}

/// What identifies an article across a category rename: its file name and title. A folder
/// rename changes the path but not these; a front-matter rename changes neither. (Not the
/// source link: placeholder links are shared by articles of many categories.)
pub fn article_key(article: &Article) -> u64 {
    let file = article.path.rsplit('/').next().unwrap_or(&article.path);
    let mut hasher = blake3::Hasher::new();
    hasher.update(file.as_bytes());
    hasher.update(b"\0");
    hasher.update(article.title.trim().as_bytes());
    let bytes = hasher.finalize();
    u64::from_le_bytes(bytes.as_bytes()[..8].try_into().expect("8 bytes"))
}

/// The bottom-`SAMPLE` keys of `articles`, ascending.
pub fn sample<'a>(articles: impl IntoIterator<Item = &'a Article>) -> Vec<u64> {
    let mut keys: Vec<u64> = articles.into_iter().map(article_key).collect();
    if keys.len() > SAMPLE {
        keys.select_nth_unstable(SAMPLE - 1);
        keys.truncate(SAMPLE);
    }
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Whether an article with `key` entering or leaving a category can change its `sample`
/// (ascending, at most [`SAMPLE`] keys).
fn may_change(sample: &[u64], key: u64) -> bool {
    sample.len() < SAMPLE || sample.last().is_none_or(|&largest| key <= largest)
}

/// Article key → the categories of the articles with that key.
pub fn keys_by_category<'a>(
    articles: impl IntoIterator<Item = &'a Article>,
) -> HashMap<u64, BTreeSet<String>> {
    let mut out: HashMap<u64, BTreeSet<String>> = HashMap::new();
    for article in articles {
        out.entry(article_key(article)).or_default().extend(article.categories.iter().cloned());
    }
    out
}

/// The answers for every slug that is not served (`served`: category name → slug; `all` is
/// always served; `others`: the custom feeds' slugs, served too, so never redirected and
/// valid targets of `[feeds.redirects]`), and warnings about `aliases` (`[feeds.redirects]`)
/// that cannot apply.
pub fn decide(
    record: &Record,
    served: &HashMap<String, String>,
    others: &BTreeSet<String>,
    aliases: &BTreeMap<String, String>,
) -> (Table, Vec<String>) {
    let served_slugs: BTreeSet<&str> = served
        .values()
        .map(String::as_str)
        .chain(others.iter().map(String::as_str))
        .chain(std::iter::once("all"))
        .collect();
    let mut answers = BTreeMap::new();
    for (slug, name) in &record.slugs {
        if served_slugs.contains(slug.as_str()) {
            continue;
        }
        let answer = match current_slug(record, served, name) {
            Some(to) => Answer::Moved(to.to_string()),
            None => Answer::Gone(name.clone()),
        };
        answers.insert(slug.clone(), answer);
    }
    let mut warnings = Vec::new();
    let mut configured = BTreeMap::new();
    for (old, new) in aliases {
        if served_slugs.contains(old.as_str()) {
            warnings.push(format!(
                "feeds.redirects: {old:?} is the slug of a category that is served; the redirect to {new:?} applies only while it is not"
            ));
            continue;
        }
        match alias_target(new, &served_slugs, aliases, &answers) {
            Some(to) => {
                configured.insert(old.clone(), Answer::Moved(to));
            }
            None => warnings.push(format!(
                "feeds.redirects: {old:?} = {new:?}, but no feed is served at {new:?} (or where it redirects to); {old:?} answers as if the entry were not there"
            )),
        }
    }
    answers.extend(configured);
    (Table { answers }, warnings)
}

/// The slug `name` is served at now, following where it moved (a→b→c gives c; a loop
/// gives none).
fn current_slug<'a>(
    record: &'a Record,
    served: &'a HashMap<String, String>,
    name: &'a str,
) -> Option<&'a str> {
    let mut seen = BTreeSet::new();
    let mut at = name;
    loop {
        if let Some(slug) = served.get(at) {
            return Some(slug);
        }
        if !seen.insert(at) {
            return None;
        }
        at = record.categories.get(at)?.moved_to.as_deref()?;
    }
}

/// The served slug a configured redirect leads to, through other configured ones and the
/// recorded moves.
fn alias_target(
    new: &str,
    served: &BTreeSet<&str>,
    aliases: &BTreeMap<String, String>,
    recorded: &BTreeMap<String, Answer>,
) -> Option<String> {
    let mut seen = BTreeSet::new();
    let mut at = new;
    loop {
        if served.contains(at) {
            return Some(at.to_string());
        }
        if !seen.insert(at) {
            return None;
        }
        at = match (aliases.get(at), recorded.get(at)) {
            (Some(next), _) => next,
            (None, Some(Answer::Moved(to))) => to,
            _ => return None,
        };
    }
}

/// Keeps the record in step with each render and publishes the table.
#[derive(Debug)]
pub struct Tracker {
    path: PathBuf,
    record: Record,
    /// The file's bytes as last read or written (write only when they change).
    saved: Option<Vec<u8>>,
    /// Whether the file has been read (on the first update).
    loaded: bool,
    /// The file could not be read: never overwrite it.
    read_only: bool,
    table: Arc<Table>,
    warnings: Vec<String>,
    /// Category name → slug at the last update: the unresolved categories are looked for
    /// again only when this changes (a rename may arrive as a delete, then an add). Shared
    /// with the site, which makes a new map only when the categories changed: the same
    /// map (by pointer) is the common edit, and needs no pass over every category.
    served: Arc<HashMap<String, String>>,
    /// Whether the table has been made (after the first update).
    decided: bool,
    /// The last write failed: try again on the next update.
    unsaved: bool,
    /// Slugs of the custom feeds: served, so never redirected, and valid redirect targets.
    others: BTreeSet<String>,
}

impl Tracker {
    /// The tracker of the record in `out`. The file is read on the first update, so a
    /// Herald that never renders (`herald check`) never touches it.
    pub fn new(out: &Path) -> Tracker {
        Tracker {
            path: out.join(STATE_FILE),
            record: Record::default(),
            saved: None,
            loaded: false,
            read_only: false,
            table: Arc::default(),
            warnings: Vec::new(),
            served: Arc::default(),
            decided: false,
            unsaved: false,
            others: BTreeSet::new(),
        }
    }

    /// The tracker, knowing the slugs of feeds that are not categories (custom feeds).
    pub fn with_others(mut self, others: impl IntoIterator<Item = String>) -> Tracker {
        self.others = others.into_iter().collect();
        self
    }

    /// Read the record, or start a new one when there is none; a file that cannot be used
    /// is set aside as `.herald-slugs.corrupt` with a warning. One that cannot be read at
    /// all (permissions, I/O error) is left as it is and not overwritten: it may be fine.
    fn read(&mut self) {
        self.loaded = true;
        let path = &self.path;
        match std::fs::read(path) {
            Ok(bytes) => match Record::decode(&bytes) {
                Ok(record) => {
                    self.record = record;
                    self.saved = Some(bytes);
                }
                Err(reason) => {
                    let aside = path.with_file_name(format!("{STATE_FILE}.corrupt"));
                    let kept = std::fs::rename(path, &aside).is_ok();
                    tracing::warn!(
                        "ignoring {}: {reason}; starting a new record of served slugs{}",
                        path.display(),
                        if kept {
                            format!(" (the old file is kept as {})", aside.display())
                        } else {
                            String::new()
                        }
                    );
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(
                    "cannot read {}: {e}; old feed URLs are answered from a record kept in memory, and the file is left as it is",
                    path.display()
                );
                self.read_only = true;
            }
        }
    }

    /// The answers of the slugs that are not served, for the snapshot.
    pub fn table(&self) -> Arc<Table> {
        self.table.clone()
    }

    pub fn record(&self) -> &Record {
        &self.record
    }

    /// After a render: `served` is category name → slug, `touched` every version (old and
    /// new) of the articles that changed. A category's sample is taken again only when a
    /// touched article could enter or leave it (a key no greater than the sample's largest,
    /// or a sample not yet full): the sample is the category's smallest keys, so a larger
    /// key changes nothing. Sampling every article of each touched category on every edit
    /// was a third of an edit's rebuild on the 24,203-article archive (perf).
    ///
    /// When `served` is the map of the last update (the same `Arc`), nothing is looked at
    /// per category but the touched ones: with 300 categories, the passes over all of them
    /// were a tenth of an edit's rebuild thread (perf, 100,000 articles).
    pub fn update(
        &mut self,
        served: &Arc<HashMap<String, String>>,
        touched: &[Arc<Article>],
        index: &Index,
        aliases: &BTreeMap<String, String>,
    ) {
        if !self.loaded {
            self.read();
        }
        // The keys and samples are hashes of every article on a first build: worked out on
        // every core (they were 0.14 s on one core of a 100,000-article build, perf).
        let keys: Vec<u64> = touched.par_iter().map(|a| article_key(a)).collect();
        let mut wanted: BTreeSet<&str> = BTreeSet::new();
        for (article, key) in touched.iter().zip(keys) {
            for name in &article.categories {
                if self.record.categories.get(name).is_none_or(|c| may_change(&c.sample, key)) {
                    wanted.insert(name);
                }
            }
        }
        let same_served = Arc::ptr_eq(served, &self.served) && self.decided;
        // Categories the record has no sample of (a new record, or one from before). After
        // an update with the same categories, every one has its sample.
        for name in served.keys().filter(|_| !same_served) {
            if self.record.categories.get(name).is_none_or(|c| c.sample.is_empty()) {
                wanted.insert(name);
            }
        }
        let wanted: Vec<&str> =
            wanted.into_iter().filter(|name| served.contains_key(*name)).collect();
        let samples = wanted
            .into_par_iter()
            .map(|name| {
                (name.to_string(), sample(index.everything(Some(name)).into_iter().map(|a| &**a)))
            })
            .collect();
        let mut changed = match same_served {
            true => self.record.observe_samples(served, samples),
            false => self.record.observe(served, samples),
        };
        let served_changed = !same_served && **served != *self.served;
        if served_changed && !self.record.unresolved(served).is_empty() {
            let now = keys_by_category(index.articles().map(|a| &**a));
            changed |= self.record.settle(served, &now);
        }
        self.served = Arc::clone(served);
        if !changed && !served_changed && self.decided && !self.unsaved {
            return; // the common edit: same categories, same samples
        }
        self.decided = true;
        let (table, warnings) = decide(&self.record, served, &self.others, aliases);
        if warnings != self.warnings {
            for w in &warnings {
                tracing::warn!("{w}");
            }
            self.warnings = warnings;
        }
        if *self.table != table {
            self.table = Arc::new(table);
        }
        self.save();
    }

    /// Write the record when it changed; a failure is logged and retried on the next update.
    fn save(&mut self) {
        let bytes = self.record.encode();
        if self.read_only || self.saved.as_ref() == Some(&bytes) {
            return;
        }
        let written = self
            .path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| crate::publish::write_atomic(&self.path, &bytes));
        match written {
            Ok(()) => {
                self.saved = Some(bytes);
                self.unsaved = false;
            }
            // Once per outage, not once per rebuild (the mirror logs its own failures).
            Err(e) if !self.unsaved => {
                self.unsaved = true;
                tracing::warn!(
                    "cannot write {}: {e}; old feed URLs are answered from memory until it can be",
                    self.path.display()
                );
            }
            Err(e) => tracing::debug!("still cannot write {}: {e}", self.path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`decide`] with no custom feeds.
    fn categories_only(
        record: &Record,
        served: &HashMap<String, String>,
        aliases: &BTreeMap<String, String>,
    ) -> (Table, Vec<String>) {
        decide(record, served, &BTreeSet::new(), aliases)
    }

    fn article(path: &str, title: &str, category: &str) -> Article {
        Article { categories: vec![category.into()], ..Article::stub(path, title) }
    }

    /// Update `tracker` as a render of `index` would: every article touched.
    fn render(tracker: &mut Tracker, index: &Index, aliases: &BTreeMap<String, String>) {
        let touched: Vec<Arc<Article>> = index.articles().cloned().collect();
        render_touching(tracker, index, aliases, &touched);
    }

    fn render_touching(
        tracker: &mut Tracker,
        index: &Index,
        aliases: &BTreeMap<String, String>,
        touched: &[Arc<Article>],
    ) {
        let names: Vec<String> = index.categories().map(|(n, _)| n.to_string()).collect();
        let served = crate::slug::assign(names.iter().map(String::as_str), &BTreeMap::new());
        tracker.update(&Arc::new(served), touched, index, aliases);
    }

    /// Samples are taken again only when a change can reach them, yet always equal a sample
    /// of the whole category: after adds, retitles and removals touching only the versions
    /// that changed.
    #[test]
    fn samples_follow_changes_that_touch_only_the_changed_articles() {
        let out = tempfile::tempdir().unwrap();
        let mut index = Index::new(10);
        let mut tracker = Tracker::new(out.path());
        let insert = |index: &mut Index, i: usize, title: &str| {
            let a = Arc::new(article(&format!("big/{i}.md"), title, "big"));
            index.insert(a.clone());
            a
        };
        for i in 0..60 {
            insert(&mut index, i, &format!("Title {i}"));
        }
        render(&mut tracker, &index, &BTreeMap::new());
        let whole = |index: &Index| sample(index.everything(Some("big")).into_iter().map(|a| &**a));
        assert_eq!(tracker.record().categories["big"].sample.len(), SAMPLE);
        for step in 0..120usize {
            let i = step * 7 % 80;
            let path = format!("big/{i}.md");
            let mut touched: Vec<Arc<Article>> = index.get(&path).into_iter().cloned().collect();
            if step % 3 == 0 {
                index.remove(&path);
            } else {
                touched.push(insert(&mut index, i, &format!("Title {i} edit {step}")));
            }
            render_touching(&mut tracker, &index, &BTreeMap::new(), &touched);
            assert_eq!(tracker.record().categories["big"].sample, whole(&index), "step {step}");
        }
    }

    /// The site hands the tracker the same `served` map while the categories stay the same;
    /// that short cut must record and answer exactly what a full pass does, through
    /// categories appearing, moving and vanishing.
    #[test]
    fn a_tracker_given_the_same_served_map_agrees_with_full_passes() {
        let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let mut index = Index::new(10);
        let mut shared = Tracker::new(dir_a.path());
        let mut whole = Tracker::new(dir_b.path());
        let mut served: Arc<HashMap<String, String>> = Arc::default();
        let names = ["talks", "lectures", "news", "misc"];
        for step in 0..200usize {
            let i = step * 11 % 40;
            let path = format!("p/{i}.md");
            let mut touched: Vec<Arc<Article>> = index.get(&path).into_iter().cloned().collect();
            if step % 5 == 4 {
                index.remove(&path);
            } else {
                // Two categories, then their articles move to two others: the first two
                // vanish, and the record follows them there.
                let category = names[i % 2 + if step < 100 { 0 } else { 2 }];
                let a = Arc::new(article(&path, &format!("T{i} {step}"), category));
                index.insert(a.clone());
                touched.push(a);
            }
            let now = crate::slug::assign(index.categories().map(|(n, _)| n), &BTreeMap::new());
            if *served != now {
                served = Arc::new(now.clone());
            }
            shared.update(&served, &touched, &index, &BTreeMap::new());
            whole.update(&Arc::new(now), &touched, &index, &BTreeMap::new());
            assert_eq!(shared.record(), whole.record(), "step {step}");
            assert_eq!(shared.table(), whole.table(), "step {step}");
        }
        assert!(!whole.table().is_empty(), "the sequence moved or emptied a category");
    }

    #[test]
    fn the_tracker_records_a_move_and_a_restart_reads_it_back() {
        let out = tempfile::tempdir().unwrap();
        let mut index = Index::new(10);
        for i in 0..3 {
            index.insert(Arc::new(article(&format!("talks/{i}.md"), &format!("T{i}"), "talks")));
        }
        let mut tracker = Tracker::new(out.path());
        assert!(
            !out.path().join(STATE_FILE).exists(),
            "nothing is read or written before a render"
        );
        render(&mut tracker, &index, &BTreeMap::new());
        assert!(tracker.table().is_empty());
        let first = std::fs::read(out.path().join(STATE_FILE)).unwrap();
        assert_eq!(Record::decode(&first).unwrap(), *tracker.record());

        for i in 0..3 {
            index.remove(&format!("talks/{i}.md"));
            index.insert(Arc::new(article(
                &format!("lectures/{i}.md"),
                &format!("T{i}"),
                "lectures",
            )));
        }
        render(&mut tracker, &index, &BTreeMap::new());
        assert_eq!(tracker.table().get("talks"), Some(&Answer::Moved("lectures".into())));

        let mut restarted = Tracker::new(out.path());
        render(&mut restarted, &index, &BTreeMap::new());
        assert_eq!(restarted.table(), tracker.table());
        assert_eq!(restarted.record(), tracker.record());
    }

    #[test]
    fn a_corrupt_file_is_set_aside_and_an_unreadable_one_left_alone() {
        let mut index = Index::new(10);
        index.insert(Arc::new(article("a/1.md", "One", "a")));
        let out = tempfile::tempdir().unwrap();
        std::fs::write(out.path().join(STATE_FILE), "not json").unwrap();
        let mut tracker = Tracker::new(out.path());
        render(&mut tracker, &index, &BTreeMap::new());
        let aside = out.path().join(format!("{STATE_FILE}.corrupt"));
        assert_eq!(std::fs::read_to_string(aside).unwrap(), "not json");
        assert!(Record::decode(&std::fs::read(out.path().join(STATE_FILE)).unwrap()).is_ok());

        // A folder where the file should be cannot be read: kept, not replaced.
        let out = tempfile::tempdir().unwrap();
        std::fs::create_dir(out.path().join(STATE_FILE)).unwrap();
        let mut tracker = Tracker::new(out.path());
        render(&mut tracker, &index, &BTreeMap::new());
        assert!(out.path().join(STATE_FILE).is_dir());
        assert_eq!(tracker.record().slugs.get("a").map(String::as_str), Some("a"));
    }

    fn served(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(n, s)| (n.to_string(), s.to_string())).collect()
    }

    fn now(pairs: &[(u64, &str)]) -> HashMap<u64, BTreeSet<String>> {
        let mut out: HashMap<u64, BTreeSet<String>> = HashMap::new();
        for (key, category) in pairs {
            out.entry(*key).or_default().insert(category.to_string());
        }
        out
    }

    fn aliases(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    /// A record after serving `pairs` with samples `1..=n` per category.
    fn record_of(pairs: &[(&str, &str, Vec<u64>)]) -> Record {
        let mut record = Record::default();
        let map = pairs.iter().map(|(n, s, _)| (n.to_string(), s.to_string())).collect();
        let samples = pairs.iter().map(|(n, _, k)| (n.to_string(), k.clone())).collect();
        record.observe(&map, samples);
        record
    }

    #[test]
    fn a_served_slug_is_never_in_the_table() {
        let record = record_of(&[("News", "news", vec![1]), ("Sport", "sport", vec![2])]);
        let (table, warnings) = categories_only(
            &record,
            &served(&[("News", "news"), ("Sport", "sport")]),
            &BTreeMap::new(),
        );
        assert!(table.is_empty());
        assert!(warnings.is_empty());
    }

    #[test]
    fn a_name_under_a_new_slug_redirects_there() {
        let mut record = record_of(&[("News", "news", vec![1])]);
        let now_served = served(&[("News", "headlines")]);
        assert!(record.observe(&now_served, vec![]), "a new slug is a change");
        assert!(!record.observe(&now_served, vec![("News".into(), vec![1])]), "nothing new");
        assert!(record.observe(&now_served, vec![("News".into(), vec![2])]), "a new sample");
        let (table, _) = categories_only(&record, &now_served, &BTreeMap::new());
        assert_eq!(table.get("news"), Some(&Answer::Moved("headlines".into())));
        assert_eq!(table.get("headlines"), None);
    }

    #[test]
    fn a_category_whose_articles_moved_redirects_and_one_whose_articles_went_is_gone() {
        let mut record = record_of(&[
            ("Talks", "talks", vec![1, 2, 3]),
            ("Old", "old", vec![7, 8]),
            ("Misc", "misc", vec![9]),
        ]);
        // Talks renamed Lectures (two of three articles found there, one deleted); Old's
        // articles deleted; Misc still served.
        let now_served = served(&[("Lectures", "lectures"), ("Misc", "misc")]);
        let keys = now(&[(1, "Lectures"), (2, "Lectures"), (9, "Misc")]);
        record.observe(&now_served, vec![("Lectures".into(), vec![1, 2])]);
        assert_eq!(record.unresolved(&now_served), vec!["Old", "Talks"]);
        assert!(record.settle(&now_served, &keys));
        assert_eq!(record.categories["Talks"].moved_to.as_deref(), Some("Lectures"));
        assert_eq!(record.categories["Old"].moved_to, None);
        let (table, _) = categories_only(&record, &now_served, &BTreeMap::new());
        assert_eq!(table.get("talks"), Some(&Answer::Moved("lectures".into())));
        assert_eq!(table.get("old"), Some(&Answer::Gone("Old".into())));
        assert_eq!(table.len(), 2);
    }

    #[test]
    fn a_minority_is_not_a_move() {
        let sample = [1, 2, 3, 4];
        assert_eq!(pick_move(&sample, &now(&[(1, "A"), (2, "A")]), "X"), None, "half is not most");
        assert_eq!(
            pick_move(&sample, &now(&[(1, "A"), (2, "A"), (3, "A")]), "X").as_deref(),
            Some("A")
        );
        // Articles in two categories: the larger count wins, then the first name.
        let both = now(&[(1, "B"), (2, "B"), (3, "B"), (1, "A"), (2, "A"), (3, "A")]);
        assert_eq!(pick_move(&sample, &both, "X").as_deref(), Some("A"));
        assert_eq!(pick_move(&[], &both, "X"), None);
        // The category itself does not count.
        assert_eq!(pick_move(&sample, &now(&[(1, "X"), (2, "X"), (3, "X")]), "X"), None);
    }

    #[test]
    fn chains_collapse_and_loops_end() {
        let mut record =
            record_of(&[("A", "a", vec![1]), ("B", "b", vec![2]), ("C", "c", vec![3])]);
        record.categories.get_mut("A").unwrap().moved_to = Some("B".into());
        record.categories.get_mut("B").unwrap().moved_to = Some("C".into());
        let (table, _) = categories_only(&record, &served(&[("C", "c")]), &BTreeMap::new());
        assert_eq!(table.get("a"), Some(&Answer::Moved("c".into())), "a→b→c gives a→c");
        assert_eq!(table.get("b"), Some(&Answer::Moved("c".into())));
        record.categories.get_mut("C").unwrap().moved_to = Some("A".into());
        let (table, _) = categories_only(&record, &served(&[]), &BTreeMap::new());
        assert_eq!(table.get("a"), Some(&Answer::Gone("A".into())), "a loop is gone, not endless");
    }

    #[test]
    fn a_category_that_comes_back_is_served_and_no_longer_moved() {
        let mut record = record_of(&[("A", "a", vec![1])]);
        record.categories.get_mut("A").unwrap().moved_to = Some("B".into());
        record.categories.entry("B".into()).or_default();
        let back = served(&[("A", "a"), ("B", "b")]);
        record.observe(&back, vec![]);
        assert_eq!(record.categories["A"].moved_to, None);
        assert!(categories_only(&record, &back, &BTreeMap::new()).0.get("a").is_none());
    }

    #[test]
    fn configured_redirects_win_over_the_record_and_follow_chains() {
        let record = record_of(&[("Old", "old", vec![1]), ("News", "news", vec![2])]);
        let now_served = served(&[("News", "news")]);
        let (table, warnings) = categories_only(
            &record,
            &now_served,
            &aliases(&[("old", "older"), ("older", "news"), ("gazette", "all")]),
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(table.get("old"), Some(&Answer::Moved("news".into())), "beats 410");
        assert_eq!(table.get("older"), Some(&Answer::Moved("news".into())));
        assert_eq!(table.get("gazette"), Some(&Answer::Moved("all".into())));
    }

    #[test]
    fn custom_feed_slugs_are_served_and_valid_targets() {
        // A category once at "weather" is gone; a custom feed now has that slug.
        let record = record_of(&[("Weather", "weather", vec![1]), ("News", "news", vec![2])]);
        let now_served = served(&[("News", "news")]);
        let others = BTreeSet::from(["weather".to_string(), "picks".to_string()]);
        let (table, warnings) =
            decide(&record, &now_served, &others, &aliases(&[("old-picks", "picks")]));
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(table.get("weather"), None, "a served custom feed is never redirected");
        assert_eq!(table.get("old-picks"), Some(&Answer::Moved("picks".into())));
        // Without knowing the custom feeds, the same inputs redirect nothing to "picks".
        let (blind, _) = categories_only(&record, &now_served, &aliases(&[("old-picks", "picks")]));
        assert_eq!(blind.get("old-picks"), None);
        assert_eq!(blind.get("weather"), Some(&Answer::Gone("Weather".into())));
    }

    #[test]
    fn configured_redirects_that_cannot_apply_are_warned_about_and_left_out() {
        let record = record_of(&[("Old", "old", vec![1]), ("News", "news", vec![2])]);
        let now_served = served(&[("News", "news")]);
        let (table, warnings) =
            categories_only(&record, &now_served, &aliases(&[("news", "x"), ("old", "nowhere")]));
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("\"news\"") && warnings[1].contains("\"nowhere\""));
        assert_eq!(table.get("news"), None, "served wins");
        assert_eq!(table.get("old"), Some(&Answer::Gone("Old".into())), "the record decides");
    }

    #[test]
    fn configured_redirects_follow_recorded_moves() {
        let mut record = record_of(&[("News", "news", vec![1])]);
        let now_served = served(&[("News", "headlines")]);
        record.observe(&now_served, vec![]);
        let (table, warnings) =
            categories_only(&record, &now_served, &aliases(&[("old-news", "news")]));
        assert!(warnings.is_empty());
        assert_eq!(table.get("old-news"), Some(&Answer::Moved("headlines".into())));
    }

    #[test]
    fn the_file_round_trips_and_bad_files_are_refused_with_a_reason() {
        // `slugify("İ")` is "i̇" (with a combining dot), and `slugify` of that is "i".
        let turkish = crate::slug::slugify("İstanbul");
        assert_ne!(crate::slug::slugify(&turkish), turkish, "the case the check allows for");
        let mut record = record_of(&[
            ("新闻", "新闻", vec![3, 1 << 60]),
            ("B", "b", vec![]),
            ("İstanbul", &turkish, vec![5]),
        ]);
        record.categories.get_mut("新闻").unwrap().moved_to = Some("B".into());
        let bytes = record.encode();
        assert_eq!(Record::decode(&bytes).unwrap(), record);
        assert_eq!(record.encode(), bytes, "deterministic");
        for (bad, why) in [
            (&b"{"[..], "not JSON"),
            (br#"{"herald_slugs": 99, "slugs": {}, "categories": {}}"#, "another version"),
            (br#"{"slugs": {}, "categories": {}}"#, "format number"),
            (br#"{"herald_slugs": 1, "slugs": {"Bad Slug": "A"}, "categories": {"A": {"sample": []}}}"#, "not a slug"),
            (br#"{"herald_slugs": 1, "slugs": {"all": "A"}, "categories": {"A": {"sample": []}}}"#, "not a slug"),
            (br#"{"herald_slugs": 1, "slugs": {"a/b": "A"}, "categories": {"A": {"sample": []}}}"#, "not a slug"),
            (br#"{"herald_slugs": 1, "slugs": {"a": "A"}, "categories": {}}"#, "not listed"),
            (br#"{"herald_slugs": 1, "slugs": {}, "categories": {"A": {"sample": [], "moved_to": "A"}}}"#, "another listed"),
            (br#"{"herald_slugs": 1, "slugs": {}, "categories": {"A": {"sample": "x"}}}"#, "sequence"),
            (br#"{"herald_slugs": 1, "slugs": {}, "categories": {}, "extra": 1}"#, "extra"),
        ] {
            let err = Record::decode(bad).unwrap_err();
            assert!(err.contains(why), "{}: {err}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn samples_are_the_smallest_keys_whatever_the_order() {
        let articles: Vec<Article> =
            (0..40).map(|i| article(&format!("f/{i}.md"), &format!("T{i}"), "F")).collect();
        let forward = sample(&articles);
        let backward = sample(articles.iter().rev());
        assert_eq!(forward, backward);
        assert_eq!(forward.len(), SAMPLE);
        let mut all: Vec<u64> = articles.iter().map(article_key).collect();
        all.sort_unstable();
        assert_eq!(forward, all[..SAMPLE]);
        // A folder rename keeps the key; a new title does not.
        let moved = Article { path: "g/0.md".into(), ..articles[0].clone() };
        assert_eq!(article_key(&moved), article_key(&articles[0]));
        let retitled = Article { title: "Other".into(), ..articles[0].clone() };
        assert_ne!(article_key(&retitled), article_key(&articles[0]));
    }
}
