//! The `herald` binary as a user runs it.

use crate::support::*;
use std::process::Command;

fn herald() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_herald"));
    for (key, _) in std::env::vars() {
        if key.starts_with("HERALD_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("HERALD_LOG", "warn");
    cmd
}

/// jemalloc ignores a setting of `MALLOC_CONF` (src/main.rs) it cannot read, with a warning on
/// stderr: a typo there would silently bring the slow default back.
#[test]
fn the_allocator_accepts_its_settings() {
    let output = herald().arg("--version").output().unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("jemalloc"), "{stderr}");
}

#[test]
fn build_writes_every_feed_and_exits_zero() {
    let content = copy_fixture("mixed");
    let out = tempfile::tempdir().unwrap();
    let output = herald()
        .args(["build", "--config", "/nonexistent-ok-when-flags-say-all.toml"])
        .output()
        .unwrap();
    assert!(!output.status.success(), "a named config file that is missing is an error");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("nonexistent-ok-when-flags-say-all.toml"), "{stderr}");

    let output = herald()
        .current_dir(content.path())
        .args(["build", "--content", ".", "--out"])
        .arg(out.path())
        .args(["--base-url", "https://feeds.example.org"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let all = std::fs::read(out.path().join("all.atom")).unwrap();
    assert_eq!(parse_feed(&all).entries.len(), 9);
    assert!(out.path().join("harbour-life.rss").exists());
}

#[test]
fn check_lists_problems_per_file_and_fails_when_an_article_is_skipped() {
    let content = copy_fixture("mixed");
    let run =
        || herald().current_dir(content.path()).args(["check", "--content", "."]).output().unwrap();
    let clean = run();
    assert!(clean.status.success(), "{}", String::from_utf8_lossy(&clean.stdout));
    let stdout = String::from_utf8_lossy(&clean.stdout);
    assert!(
        stdout.contains("talks/2019/06/20190614-70000001.md: file name"),
        "date sources shown: {stdout}"
    );

    std::fs::write(content.path().join("posts/empty.md"), "").unwrap();
    std::fs::write(
        content.path().join("posts/blob.md"),
        [0u8, 159, 146, 150, 0, 0, 0, 1, 2, 3].repeat(100),
    )
    .unwrap();
    let broken = run();
    assert_eq!(broken.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&broken.stdout);
    assert!(stdout.contains("posts/empty.md: skipped"), "{stdout}");
    assert!(stdout.contains("posts/blob.md: skipped"), "{stdout}");
}

#[test]
fn a_bad_config_value_is_an_error_naming_the_key() {
    let content = copy_fixture("mixed");
    let config = content.path().join("bad.toml");
    std::fs::write(&config, "[content]\nroot = \".\"\n[feeds]\nitems = -3\n").unwrap();
    let output = herald().args(["build", "--config"]).arg(&config).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("items") && stderr.contains("bad.toml"), "{stderr}");

    std::fs::write(&config, "[content]\nroot = \"missing-folder\"\n").unwrap();
    let output = herald().args(["build", "--config"]).arg(&config).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("missing-folder") && stderr.contains("content.root"), "{stderr}");
}

#[test]
fn build_reports_how_many_warnings_the_files_gave() {
    let content = copy_fixture("mixed");
    let build = || {
        let out = content.path().join("out");
        let output = herald()
            .env("HERALD_LOG", "info")
            .args(["build", "--content"])
            .arg(content.path())
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    assert!(build().contains("(0 warnings)"));
    // No title (one warning), and front matter with a date that is no date (another).
    std::fs::write(content.path().join("posts/untitled.md"), "Text without a heading.\n").unwrap();
    std::fs::write(
        content.path().join("posts/bad-date.md"),
        "---\ntitle: Bad date\ndate: 2021-13-45\n---\n\nText.\n",
    )
    .unwrap();
    let stderr = build();
    let warned = stderr
        .lines()
        .filter(|l| l.contains("posts/untitled.md") || l.contains("posts/bad-date.md"))
        .count();
    assert_eq!(warned, 2, "{stderr}");
    assert!(stderr.contains("(2 warnings)"), "{stderr}");
}

/// `herald build` writes each document as it renders it, but puts none in place before the
/// whole build succeeded: a page that cannot be written fails the build with the folder
/// named, and leaves the mirror as it was, with no temporaries.
#[test]
fn a_build_that_cannot_write_a_file_replaces_nothing() {
    let content = copy_fixture("mixed");
    let out = tempfile::tempdir().unwrap();
    let config = content.path().join("pages.toml");
    std::fs::write(&config, "[feeds]\nitems = 2\narchive_page_size = 2\n").unwrap();
    let build = || {
        herald()
            .args(["build", "--config"])
            .arg(&config)
            .arg("--content")
            .arg(content.path())
            .arg("--out")
            .arg(out.path())
            .output()
            .unwrap()
    };
    std::fs::write(out.path().join("all.rss"), "old").unwrap();
    // A file where the archive pages of `all` need their folder.
    std::fs::write(out.path().join("all"), "in the way").unwrap();
    let failed = build();
    assert_eq!(failed.status.code(), Some(2), "{failed:?}");
    let stderr = String::from_utf8_lossy(&failed.stderr);
    let writing = format!("writing feeds to {}: all/archive/", out.path().display());
    assert!(stderr.contains(&writing), "{stderr}");
    assert_eq!(std::fs::read(out.path().join("all.rss")).unwrap(), b"old");
    let mut left: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != ".herald-slugs")
        .collect();
    left.sort();
    assert_eq!(left, ["all", "all.rss"]);

    std::fs::remove_file(out.path().join("all")).unwrap();
    let built = build();
    assert!(built.status.success(), "{built:?}");
    assert!(out.path().join("all/archive/1.rss").exists());
    assert_ne!(std::fs::read(out.path().join("all.rss")).unwrap(), b"old");
}
