//! Scan: walk the content root and read article files. The only place that reads content
//! from disk (besides re-reading a body for rendering, which goes through `read`).

use crate::config::Content;
use globset::{Glob, GlobSet, GlobSetBuilder};
use rayon::prelude::*;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

/// One candidate article file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Path relative to the content root, `/`-separated.
    pub rel: String,
    pub abs: PathBuf,
    pub len: u64,
    pub mtime: Option<SystemTime>,
    /// Inode and status-change time (unix): unlike the mtime, tools cannot set them back, so
    /// a file replaced by another of the same length and mtime (`cp -p`, `rsync -a`, a tree
    /// swapped in wholesale) still looks changed.
    pub inode_ctime: Option<(u64, i64, i64)>,
}

impl SourceFile {
    /// A file listed without its stamp ([`Stat::AtRead`]).
    fn unstamped(rel: String, abs: &Path) -> SourceFile {
        SourceFile { rel, abs: abs.to_path_buf(), len: 0, mtime: None, inode_ctime: None }
    }

    fn stamped(rel: String, abs: &Path, meta: &std::fs::Metadata) -> SourceFile {
        let mut file = SourceFile::unstamped(rel, abs);
        file.stamp(meta);
        file
    }

    fn stamp(&mut self, meta: &std::fs::Metadata) {
        self.len = meta.len();
        self.mtime = meta.modified().ok();
        self.inode_ctime = inode_ctime(meta);
    }
}

/// A file or folder the walk could not use, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanProblem {
    pub path: String,
    pub message: String,
}

/// Which files below the root are articles.
#[derive(Debug, Clone)]
pub struct Rules {
    pub root: PathBuf,
    ignore: GlobSet,
    follow_symlinks: bool,
    pub max_file_bytes: u64,
}

impl Rules {
    pub fn new(content: &Content) -> Result<Rules, globset::Error> {
        let mut builder = GlobSetBuilder::new();
        for glob in &content.ignore {
            builder.add(Glob::new(glob)?);
        }
        Ok(Rules {
            root: content.root.clone(),
            ignore: builder.build()?,
            follow_symlinks: content.follow_symlinks,
            max_file_bytes: content.max_file_bytes,
        })
    }

    /// The `/`-separated path of `abs` relative to the root, if it is below it.
    pub fn rel_path(&self, abs: &Path) -> Option<String> {
        let rel = abs.strip_prefix(&self.root).ok()?;
        let parts: Vec<_> = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect();
        (!parts.is_empty()).then(|| parts.join("/"))
    }

    /// Whether a relative path names an article file: `*.md`, no hidden component
    /// (which also covers `.git/` and most editor temporaries), not ignored by a glob.
    pub fn is_article_path(&self, rel: &str) -> bool {
        rel.ends_with(".md")
            && !rel.split('/').any(|part| part.starts_with('.') || part.is_empty())
            && !self.ignore.is_match(rel)
    }

    /// Whether a folder's relative path may hold articles (not hidden, not ignored).
    fn is_wanted_dir(&self, rel: &str) -> bool {
        !rel.split('/').any(|part| part.starts_with('.')) && !self.ignore.is_match(rel)
    }

    /// Look at one path as it is now: `Ok(Some)` for an article file, `Ok(None)` when it is
    /// gone or not an article (a folder, a symlink not followed, an ignored name).
    pub fn stat(&self, abs: &Path) -> std::io::Result<Option<SourceFile>> {
        let Some(rel) = self.rel_path(abs) else { return Ok(None) };
        if !self.is_article_path(&rel) {
            return Ok(None);
        }
        let meta = match std::fs::symlink_metadata(abs) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let meta = if meta.file_type().is_symlink() {
            if !self.follow_symlinks {
                return Ok(None);
            }
            match std::fs::metadata(abs) {
                Ok(m) => m,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(e),
            }
        } else {
            meta
        };
        if !meta.is_file() {
            return Ok(None);
        }
        Ok(Some(SourceFile::stamped(rel, abs, &meta)))
    }
}

#[cfg(unix)]
fn inode_ctime(meta: &std::fs::Metadata) -> Option<(u64, i64, i64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.ino(), meta.ctime(), meta.ctime_nsec()))
}

#[cfg(not(unix))]
fn inode_ctime(_: &std::fs::Metadata) -> Option<(u64, i64, i64)> {
    None
}

/// Whether the walk looks up each file's length, times and inode ([`SourceFile`]'s stamp).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stat {
    /// While walking: a rescan compares the stamps to tell which files to read.
    Now,
    /// Not while walking: every file will be read anyway (the first scan), and
    /// [`read_source`] fills the stamp in from the open file. A lookup by path of each of
    /// 100,000 files was 0.28 s of CPU of a cold build (perf, gen-100k).
    AtRead,
}

/// Walk the whole root in parallel. Files come back sorted by path so everything downstream
/// is deterministic.
pub fn scan(rules: &Rules, stat: Stat) -> (Vec<SourceFile>, Vec<ScanProblem>) {
    scan_under(rules, &rules.root, stat)
}

/// Walk one folder below the root (a folder that was renamed or replaced wholesale).
pub fn scan_under(rules: &Rules, dir: &Path, stat: Stat) -> (Vec<SourceFile>, Vec<ScanProblem>) {
    let found = Mutex::new(Found::default());
    let walker = ignore::WalkBuilder::new(dir)
        .standard_filters(false)
        .hidden(true)
        .follow_links(rules.follow_symlinks)
        .filter_entry({
            let rules = rules.clone();
            move |entry| {
                let Some(rel) = rules.rel_path(entry.path()) else { return true };
                if entry.file_type().is_some_and(|t| t.is_dir()) {
                    rules.is_wanted_dir(&rel)
                } else {
                    rules.is_article_path(&rel)
                }
            }
        })
        .build_parallel();
    walker.visit(&mut Walk { rules, dir, stat, found: &found });
    let Found { files, mut problems } = found.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut files = files.concat();
    // Paths are unique, so an unstable sort gives the one order; on every core, because one
    // sort after the walk was ~80 ms with the other core idle at 100,000 files (perf).
    files.par_sort_unstable_by(|a, b| a.rel.cmp(&b.rel));
    problems.sort_by(|a, b| a.path.cmp(&b.path));
    (files, problems)
}

/// What the walk's threads found, handed over as each finishes.
#[derive(Default)]
struct Found {
    files: Vec<Vec<SourceFile>>,
    problems: Vec<ScanProblem>,
}

/// What every thread of one walk shares; it makes one [`Collector`] per thread.
#[derive(Clone, Copy)]
struct Walk<'a> {
    rules: &'a Rules,
    dir: &'a Path,
    stat: Stat,
    found: &'a Mutex<Found>,
}

impl<'a> ignore::ParallelVisitorBuilder<'a> for Walk<'a> {
    fn build(&mut self) -> Box<dyn ignore::ParallelVisitor + 'a> {
        Box::new(Collector { walk: *self, files: Vec::new(), problems: Vec::new() })
    }
}

/// One thread's finds, kept to itself until the walk ends: pushing each file into one
/// shared list under a lock made the threads wait on each other while it grew (perf).
struct Collector<'a> {
    walk: Walk<'a>,
    files: Vec<SourceFile>,
    problems: Vec<ScanProblem>,
}

impl Collector<'_> {
    fn add(&mut self, entry: &ignore::DirEntry) {
        let path = entry.path();
        let rules = self.walk.rules;
        let found = match self.walk.stat {
            Stat::Now => rules.stat(path),
            // With links followed the walk reports a link by what it points to; otherwise a
            // link is not a file and is passed over, as `Rules::stat` does.
            Stat::AtRead => Ok(rules.rel_path(path).map(|rel| SourceFile::unstamped(rel, path))),
        };
        match found {
            Ok(Some(file)) => self.files.push(file),
            Ok(None) => {}
            Err(e) => self.problems.push(ScanProblem {
                path: path.display().to_string(),
                message: format!("cannot read file information: {e}; skipped"),
            }),
        }
    }
}

impl ignore::ParallelVisitor for Collector<'_> {
    fn visit(&mut self, entry: Result<ignore::DirEntry, ignore::Error>) -> ignore::WalkState {
        match entry {
            Ok(entry) if entry.file_type().is_some_and(|t| t.is_file()) => self.add(&entry),
            Ok(_) => {}
            Err(e) => self.problems.push(ScanProblem {
                path: error_path(&e).unwrap_or_else(|| self.walk.dir.display().to_string()),
                message: format!("{e}; skipped"),
            }),
        }
        ignore::WalkState::Continue
    }
}

impl Drop for Collector<'_> {
    fn drop(&mut self) {
        let mut found = self.walk.found.lock().unwrap_or_else(|e| e.into_inner());
        found.files.push(std::mem::take(&mut self.files));
        found.problems.append(&mut self.problems);
    }
}

fn error_path(e: &ignore::Error) -> Option<String> {
    match e {
        ignore::Error::WithPath { path, .. } => Some(path.display().to_string()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child.display().to_string()),
        _ => None,
    }
}

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("file is {len} bytes, over the {max}-byte limit (content.max_file_bytes); skipped")]
    TooLarge { len: u64, max: u64 },
    #[error("the path is not valid UTF-8 (shown as {rel}); links, ids and article pages need a text path, so rename it; skipped")]
    NotUtf8 { rel: String },
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
}

/// Read a file the scan listed, like `read`, and stamp `file` with the length, times and
/// inode of the file as opened: the stamp then describes the bytes read, even when the file
/// changed since the walk (or the walk looked nothing up, [`Stat::AtRead`]).
///
/// A file whose path below the root is not UTF-8 is refused unread. Its `rel` is a lossy copy
/// that names no file on disk, so the body could never be read back for a feed or an article
/// page by that path.
pub fn read_source(file: &mut SourceFile, max: u64) -> Result<Vec<u8>, ReadError> {
    if !file.abs.ends_with(Path::new(&file.rel)) {
        // Stamped all the same, so a rescan does not refuse it again until it changes.
        if let Ok(meta) = std::fs::metadata(&file.abs) {
            file.stamp(&meta);
        }
        return Err(ReadError::NotUtf8 { rel: file.rel.clone() });
    }
    let opened = std::fs::File::open(&file.abs)?;
    let meta = opened.metadata()?;
    file.stamp(&meta);
    read_opened(opened, &meta, max)
}

/// Read a file, never more than `max` bytes: a file that grew past the cap since it was
/// listed is refused without being read whole.
pub fn read(abs: &Path, max: u64) -> Result<Vec<u8>, ReadError> {
    let file = std::fs::File::open(abs)?;
    let meta = file.metadata()?;
    read_opened(file, &meta, max)
}

/// [`read`] of a file opened already, `meta` its metadata.
fn read_opened(
    file: std::fs::File,
    meta: &std::fs::Metadata,
    max: u64,
) -> Result<Vec<u8>, ReadError> {
    let len = meta.len();
    if len > max {
        return Err(ReadError::TooLarge { len, max });
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(ReadError::TooLarge { len: bytes.len() as u64, max });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(root: &Path, ignore: &[&str]) -> Rules {
        let content = Content {
            root: root.to_path_buf(),
            ignore: ignore.iter().map(|s| s.to_string()).collect(),
            default_category: "misc".into(),
            max_file_bytes: 100,
            follow_symlinks: false,
            git_dates: false,
            summary_chars: 100,
        };
        Rules::new(&content).unwrap()
    }

    fn touch(root: &Path, rel: &str) {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "## t\n").unwrap();
    }

    #[test]
    fn scan_finds_markdown_and_skips_hidden_ignored_and_other_files() {
        let dir = tempfile::tempdir().unwrap();
        for rel in [
            "a.md",
            "sub/b.md",
            "中文/文章.md",
            ".git/x.md",
            ".hidden.md",
            "sub/.obsidian/c.md",
            "notes.txt",
            "drafts/d.md",
            "sub/e.md.swp",
        ] {
            touch(dir.path(), rel);
        }
        for stat in [Stat::Now, Stat::AtRead] {
            let (files, problems) = scan(&rules(dir.path(), &["drafts/**"]), stat);
            let rels: Vec<_> = files.iter().map(|f| f.rel.as_str()).collect();
            assert_eq!(rels, ["a.md", "sub/b.md", "中文/文章.md"], "{stat:?}");
            assert!(problems.is_empty(), "{problems:?}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_not_followed_unless_configured() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        touch(outside.path(), "secret.md");
        std::os::unix::fs::symlink(outside.path().join("secret.md"), dir.path().join("link.md"))
            .unwrap();
        std::os::unix::fs::symlink(dir.path(), dir.path().join("loop")).unwrap();
        touch(dir.path(), "real.md");
        for stat in [Stat::Now, Stat::AtRead] {
            let (files, _) = scan(&rules(dir.path(), &[]), stat);
            let rels: Vec<_> = files.iter().map(|f| f.rel.as_str()).collect();
            assert_eq!(rels, ["real.md"], "{stat:?}");
        }
    }

    /// Bug: a file named in Latin-1 (`caf\xe9.md`) became the article `caf\u{FFFD}.md`,
    /// whose body was then re-read by that lossy name: the feed fell back to the summary and
    /// `/articles/…` answered 500. It is now refused with a reason.
    #[cfg(unix)]
    #[test]
    fn read_source_refuses_paths_that_are_not_utf8() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let r = rules(dir.path(), &[]);
        let bad = dir.path().join(std::ffi::OsStr::from_bytes(b"caf\xe9.md"));
        std::fs::write(&bad, "## t\n").unwrap();
        touch(dir.path(), "caf\u{FFFD}-real.md");
        let (mut files, _) = scan(&r, Stat::AtRead);
        let mut results: Vec<(String, bool)> =
            files.iter_mut().map(|f| (f.rel.clone(), read_source(f, 100).is_ok())).collect();
        results.sort();
        assert_eq!(
            results,
            [("caf\u{FFFD}-real.md".to_string(), true), ("caf\u{FFFD}.md".to_string(), false)]
        );
        let refused = files.iter_mut().find(|f| f.rel == "caf\u{FFFD}.md").unwrap();
        let err = read_source(refused, 100).unwrap_err();
        assert!(err.to_string().contains("not valid UTF-8"), "{err}");
        // Stamped all the same, so that a rescan passes it over until it changes.
        assert_eq!(refused.len, 5);
        assert!(refused.inode_ctime.is_some());
    }

    /// Reading stamps a file listed without a stamp just as a walk that looks it up would:
    /// otherwise the first rescan would take every file for changed and read it again.
    #[test]
    fn reading_stamps_a_file_as_the_walk_would() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), "a.md");
        touch(dir.path(), "sub/b.md");
        std::fs::write(dir.path().join("sub/big.md"), vec![b'a'; 101]).unwrap();
        let r = rules(dir.path(), &[]);
        let (looked_up, _) = scan(&r, Stat::Now);
        let (mut unstamped, _) = scan(&r, Stat::AtRead);
        assert!(unstamped.iter().all(|f| f.len == 0 && f.mtime.is_none()), "{unstamped:?}");
        let read: Vec<bool> = unstamped.iter_mut().map(|f| read_source(f, 100).is_ok()).collect();
        assert_eq!(read, [true, true, false], "sub/big.md is over the cap");
        assert_eq!(unstamped, looked_up, "the file over the cap is stamped too");
    }

    #[test]
    fn read_refuses_files_over_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.md");
        std::fs::write(&path, vec![b'a'; 101]).unwrap();
        assert!(matches!(read(&path, 100), Err(ReadError::TooLarge { len: 101, max: 100 })));
        assert_eq!(read(&path, 101).unwrap().len(), 101);
    }

    #[test]
    fn stat_of_a_vanished_file_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let r = rules(dir.path(), &[]);
        assert_eq!(r.stat(&dir.path().join("gone.md")).unwrap(), None);
        touch(dir.path(), "here.md");
        assert_eq!(r.stat(&dir.path().join("here.md")).unwrap().unwrap().rel, "here.md");
    }
}
