//! Category URL slugs: readable, stable, unique, overridable.
//!
//! Hand-written rather than the `slug` crate: that crate transliterates (`喜马拉雅` becomes
//! `xi-ma-la-ya`), but Herald keeps Chinese names as they are and lets the URL layer
//! percent-encode them, which is what readers of those feeds expect to see.

use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Lower-case letters and digits of any script; every other run of characters becomes one `-`.
pub fn slugify(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut dash = false;
    for c in name.chars() {
        if c.is_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.extend(c.to_lowercase());
        } else {
            dash = true;
        }
    }
    out
}

/// Assign a slug to every category name: aliases first, then `slugify`; names that slug
/// alike are told apart by a short hash of the exact name, the same way on every run and
/// every machine. `all` is reserved for the site-wide feed.
pub fn assign<'a>(
    names: impl IntoIterator<Item = &'a str>,
    aliases: &BTreeMap<String, String>,
) -> HashMap<String, String> {
    assign_avoiding(names, aliases, &BTreeSet::new())
}

/// [`assign`], leaving the slugs in `taken` (the custom feeds') to their owners: a category
/// whose slug would be one of them gets a hash suffix, so both feeds are served.
pub fn assign_avoiding<'a>(
    names: impl IntoIterator<Item = &'a str>,
    aliases: &BTreeMap<String, String>,
    taken: &BTreeSet<String>,
) -> HashMap<String, String> {
    let mut by_slug: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let mut out = HashMap::new();
    for name in names {
        if let Some(alias) = aliases.get(name) {
            out.insert(name.to_string(), alias.clone());
            continue;
        }
        let mut slug = slugify(name);
        if slug.is_empty() || slug == "all" {
            slug = format!("category-{}", short_hash(name));
        }
        by_slug.entry(slug).or_default().push(name);
    }
    let taken: BTreeSet<&String> = aliases.values().chain(taken).collect();
    for (slug, names) in by_slug {
        // One name per slug keeps the plain slug: the name that is exactly the slug if there
        // is one, else the first name in byte order; the rest get a hash suffix. The choice
        // depends only on the names, never on the order they were found in.
        let plain = if taken.contains(&slug) {
            None
        } else {
            names.iter().copied().find(|n| *n == slug).or_else(|| names.iter().copied().min())
        };
        for name in names {
            let value = if Some(name) == plain {
                slug.clone()
            } else {
                let hashed = format!("{slug}-{}", short_hash(name));
                if taken.contains(&hashed) {
                    // A slug someone chose happens to be the hashed one: the whole hash.
                    format!("{slug}-{}", blake3::hash(name.as_bytes()).to_hex())
                } else {
                    hashed
                }
            };
            out.insert(name.to_string(), value);
        }
    }
    out
}

/// Six hex digits of BLAKE3: stable across runs and machines.
fn short_hash(name: &str) -> String {
    blake3::hash(name.as_bytes()).to_hex()[..6].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_readable() {
        assert_eq!(slugify("Tokyo Sakura Group"), "tokyo-sakura-group");
        assert_eq!(slugify("  HimalayaRussia "), "himalayarussia");
        assert_eq!(slugify("C++ & Rust!"), "c-rust");
    }

    #[test]
    fn chinese_names_are_kept() {
        assert_eq!(slugify("喜马拉雅农场新西兰站"), "喜马拉雅农场新西兰站");
        assert_eq!(slugify("新闻 翻译组"), "新闻-翻译组");
    }

    #[test]
    fn names_that_slug_alike_get_distinct_stable_slugs() {
        let none = BTreeMap::new();
        let a = assign(["Tokyo Group", "tokyo-group", "Tokyo  group"], &none);
        let b = assign(["Tokyo  group", "Tokyo Group", "tokyo-group"], &none);
        assert_eq!(a, b, "order of discovery must not matter");
        assert_eq!(a["tokyo-group"], "tokyo-group");
        assert_ne!(a["Tokyo Group"], a["Tokyo  group"]);
        assert!(a["Tokyo Group"].starts_with("tokyo-group-"));
        let c = assign(["Tokyo Group", "Tokyo  group"], &none);
        assert_eq!(c["Tokyo  group"], "tokyo-group", "first in byte order keeps the plain slug");
        let values: std::collections::HashSet<_> = a.values().collect();
        assert_eq!(values.len(), 3);
    }

    #[test]
    fn taken_slugs_push_categories_aside() {
        let taken = BTreeSet::from(["world".to_string()]);
        let slugs = assign_avoiding(["World", "Sport"], &BTreeMap::new(), &taken);
        assert!(slugs["World"].starts_with("world-"), "{slugs:?}");
        assert_ne!(slugs["World"], "world");
        assert_eq!(slugs["Sport"], "sport");
        let again = assign_avoiding(["Sport", "World"], &BTreeMap::new(), &taken);
        assert_eq!(slugs, again, "stable");
        // Even the hashed slug may be taken.
        let both = BTreeSet::from(["world".to_string(), format!("world-{}", short_hash("World"))]);
        let slugs = assign_avoiding(["World"], &BTreeMap::new(), &both);
        assert!(!both.contains(&slugs["World"]) && slugs["World"].starts_with("world-"));
    }

    #[test]
    fn aliases_win_and_reserved_names_are_avoided() {
        let aliases = BTreeMap::from([("新闻翻译组".to_string(), "translations".to_string())]);
        let slugs = assign(["新闻翻译组", "All", "!!!"], &aliases);
        assert_eq!(slugs["新闻翻译组"], "translations");
        assert!(slugs["All"].starts_with("category-"));
        assert!(slugs["!!!"].starts_with("category-"));
    }
}
