//! Shared helpers for the integration tests.

use herald::config::{Config, Overrides, RawConfig};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// A fixed mtime for every fixture file, so dates that fall back to mtime are stable.
pub const FIXED_MTIME: u64 = 1_600_000_000;

pub fn fixture_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// Copy `tests/fixtures/<name>` into a new temporary folder (outside any git checkout).
pub fn copy_fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture_dir(name), dir.path());
    dir
}

pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
            set_mtime(&target, FIXED_MTIME);
        }
    }
}

pub fn set_mtime(path: &Path, secs: u64) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(secs)).unwrap();
}

/// A configuration for `root`, mirror in `out`, on 127.0.0.1 port 0, with extra TOML.
pub fn config_with(root: &Path, out: &Path, extra: &str) -> Arc<Config> {
    let text = format!(
        "[site]\ntitle = \"Test\"\nbase_url = \"https://feeds.example.org\"\nid_authority = \"feeds.example.org,2026\"\n{extra}"
    );
    let raw = RawConfig::parse(&text, Path::new("test.toml")).unwrap();
    let overrides = Overrides {
        content: Some(root.to_path_buf()),
        out: Some(out.to_path_buf()),
        listen: Some("127.0.0.1:0".into()),
        base_url: None,
    };
    Arc::new(raw.validate(&overrides, root).unwrap())
}

pub fn config(root: &Path, out: &Path) -> Arc<Config> {
    config_with(root, out, "[content]\ngit_dates = false\n")
}

/// Parse feed bytes with the independent feed-rs parser.
pub fn parse_feed(bytes: &[u8]) -> feed_rs::model::Feed {
    feed_rs::parser::parse(bytes).unwrap_or_else(|e| panic!("feed-rs cannot parse the feed: {e}"))
}

/// Titles of a parsed feed's entries, in order.
pub fn titles(feed: &feed_rs::model::Feed) -> Vec<String> {
    feed.entries
        .iter()
        .map(|e| e.title.as_ref().map(|t| t.content.clone()).unwrap_or_default())
        .collect()
}
