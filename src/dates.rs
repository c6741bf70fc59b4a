//! Dates the parser could not find: from git history (one `git log` for the whole content
//! root), else from the file's mtime.
//!
//! A fresh clone gives every file the same mtime, so git history is the only source of
//! per-file dates that survives a clone. [`GitDates::load`] runs a single `git log` and walks
//! it newest to oldest, following renames; [`GitDates::load_cached`] keeps the result in a
//! state file so a restart only reads the commits added since.
//!
//! Choices (see also the comments in [`GitDates::load`]):
//! - **Committer time** (`%ct`), not author time: the committer time is when the change
//!   landed on the branch (a rebase, cherry-pick or `git am` updates it; the author time keeps
//!   the date the text was first written on someone's machine). A feed announces when an
//!   article appeared in the archive, which is the committer time.
//! - **First-parent history** with merges diffed against their first parent: on a linear
//!   history (the normal case: a bot commits, the server fast-forwards) this is exact. With
//!   merges, the changes a merge brings in are dated by the merge, i.e. when they reached
//!   the branch being served, and rename following stays exact because the walk is one
//!   linear chain of diffs.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

use chrono::{DateTime, Utc};

use crate::article::{Article, DateSource, Dated};

#[derive(Debug, thiserror::Error)]
pub enum DatesError {
    #[error("running git: {0}")]
    Io(#[from] std::io::Error),
    #[error("`git {command}` failed ({status}): {stderr}")]
    Git { command: String, status: std::process::ExitStatus, stderr: String },
}

/// Unix seconds of the first and last commit that touched a file.
type Span = (i64, i64);

/// First and last commit time of every file in the content root's git history.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct GitDates {
    /// Path relative to content root → (first commit time = published, last commit time = updated).
    files: HashMap<Box<str>, Span>,
    /// The commit these dates are as of (`None` in a repository without commits).
    head: Option<String>,
}

impl GitDates {
    /// Run ONE `git log` over the whole history for the content root (which may be a subfolder of the checkout),
    /// following renames, and learn first/last commit time per current file. Ok(None) when root is not in a git checkout
    /// or git is missing (log at debug). Never one git process per file.
    pub fn load(root: &Path) -> Result<Option<GitDates>, DatesError> {
        let Some(head) = Checkout::open(root)? else {
            return Ok(None);
        };
        let Some(head) = head.head else {
            return Ok(Some(GitDates::default()));
        };
        let walk = log(root, &head, None)?;
        Ok(Some(GitDates { files: walk.finish(None), head: Some(head) }))
    }

    /// Dates of a file, by its path relative to the content root (`/`-separated).
    pub fn get(&self, rel_path: &str) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let &(first, last) = self.files.get(rel_path)?;
        Some((DateTime::from_timestamp(first, 0)?, DateTime::from_timestamp(last, 0)?))
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// The commit these dates are as of.
    pub fn head(&self) -> Option<&str> {
        self.head.as_deref()
    }

    /// The checkout's current HEAD, to learn whether the dates are out of date
    /// (a `git pull` moved it). `None` outside a checkout or without commits.
    pub fn current_head(root: &Path) -> Option<String> {
        let output = git(root).args(["rev-parse", "--verify", "--quiet", "HEAD"]).output().ok()?;
        let head = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        (output.status.success() && !head.is_empty()).then_some(head)
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// [`GitDates::load`], remembering the result in `state_file` so that a restart reads only
    /// the commits made since (`git log OLDHEAD..HEAD`). The state is used only if it is for
    /// the same content root and its HEAD is on the current HEAD's first-parent chain;
    /// otherwise (history rewritten, another branch checked out, corrupt file) the whole
    /// history is read again. Failing to write the state is logged, not an error.
    pub fn load_cached(root: &Path, state_file: &Path) -> Result<Option<GitDates>, DatesError> {
        let Some(checkout) = Checkout::open(root)? else {
            return Ok(None);
        };
        let Some(head) = checkout.head else {
            return Ok(Some(GitDates::default()));
        };
        let root_key = checkout.root_key;

        let state = match std::fs::read(state_file) {
            Ok(bytes) => match State::decode(&bytes) {
                Some(state) if state.root == root_key => Some(state),
                Some(_) => {
                    tracing::info!(state = %state_file.display(), "git dates state is for another content root; reading the whole history");
                    None
                }
                None => {
                    tracing::warn!(state = %state_file.display(), "ignoring a corrupt git dates state file");
                    None
                }
            },
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
            Err(err) => {
                tracing::warn!(state = %state_file.display(), %err, "cannot read the git dates state file");
                None
            }
        };

        let files = match state {
            Some(state) if state.head == head => {
                return Ok(Some(GitDates { files: state.files, head: Some(head) }))
            }
            Some(state) if is_ancestor(root, &state.head, &head) => {
                let walk = log(root, &head, Some(&state.head))?;
                if walk.oldest_first_parent.as_deref() == Some(state.head.as_str()) {
                    tracing::debug!(from = %state.head, to = %head, "git dates: read new commits only");
                    walk.finish(Some(state.files))
                } else {
                    // OLDHEAD is an ancestor, but only through a merged side branch: the
                    // first-parent diffs would not start from it. Rare; read everything.
                    log(root, &head, None)?.finish(None)
                }
            }
            _ => log(root, &head, None)?.finish(None),
        };
        let dates = GitDates { files, head: Some(head.clone()) };
        let state = State { root: root_key, head, files: dates.files.clone() };
        if let Err(err) = write_atomically(state_file, &state.encode()) {
            tracing::warn!(state = %state_file.display(), %err, "cannot write the git dates state file");
        }
        Ok(Some(dates))
    }
}

/// Fill the dates the parser could not find: published ← git first commit, else mtime; updated ← git last commit if later than published, else mtime when no git, else published.
/// Dates from front matter / tag line / file name (already set by the parser) win for published; for updated: the parser's updated wins, else git's last commit if it is later than published, else published.
///
/// "No git" means git knows no dates for this file (no checkout, or the file is not
/// committed yet); the mtime is then used for `updated` only if it is later than `published`.
/// With neither git dates nor an mtime, `published` stays `None`.
pub fn resolve(article: &mut Article, git: Option<&GitDates>, mtime: Option<SystemTime>) {
    let git = git.and_then(|g| g.get(&article.path));
    // Whole seconds: what feeds show, and what git records, so equal dates compare equal.
    let mtime = mtime.map(|m| {
        let m = DateTime::<Utc>::from(m);
        DateTime::from_timestamp(m.timestamp(), 0).unwrap_or(m)
    });
    if article.published.is_none() {
        article.published = match (git, mtime) {
            (Some((first, _)), _) => Some(Dated { at: first, source: DateSource::Git }),
            (None, Some(at)) => Some(Dated { at, source: DateSource::Mtime }),
            (None, None) => None,
        };
    }
    if article.updated.is_none() {
        let candidate = match (git, mtime) {
            (Some((_, last)), _) => Some(Dated { at: last, source: DateSource::Git }),
            (None, Some(at)) => Some(Dated { at, source: DateSource::Mtime }),
            (None, None) => None,
        };
        article.updated = match (candidate, article.published) {
            (Some(c), Some(p)) if c.at > p.at => Some(c),
            (_, Some(p)) => Some(p),
            (c, None) => c,
        };
    }
}

/// What `git rev-parse` says about the content root.
struct Checkout {
    /// `None` in a repository without commits.
    head: Option<String>,
    /// Identifies the content root in the state file: checkout top level + prefix.
    root_key: String,
}

impl Checkout {
    /// `Ok(None)` when git is missing or `root` is not inside a work tree.
    fn open(root: &Path) -> Result<Option<Checkout>, DatesError> {
        let output =
            match git(root).args(["rev-parse", "--show-toplevel", "--show-prefix"]).output() {
                Ok(output) => output,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                    tracing::debug!("git is not installed; dates come from mtimes");
                    return Ok(None);
                }
                Err(err) => return Err(err.into()),
            };
        if !output.status.success() {
            tracing::debug!(root = %root.display(), stderr = %String::from_utf8_lossy(&output.stderr).trim(), "not a git checkout; dates come from mtimes");
            return Ok(None);
        }
        let root_key = String::from_utf8_lossy(&output.stdout).trim_end().replace('\n', "\t");
        let head = git(root).args(["rev-parse", "--verify", "--quiet", "HEAD"]).output()?;
        let head = String::from_utf8_lossy(&head.stdout).trim().to_owned();
        Ok(Some(Checkout { head: (!head.is_empty()).then_some(head), root_key }))
    }
}

fn git(root: &Path) -> Command {
    let mut command = Command::new("git");
    command
        .arg("-C")
        .arg(root)
        .args(["-c", "core.quotepath=off", "-c", "log.showSignature=false"])
        .env("GIT_OPTIONAL_LOCKS", "0")
        .stdin(Stdio::null());
    command
}

fn is_ancestor(root: &Path, old: &str, head: &str) -> bool {
    // A commit that no longer exists (history rewritten, gc'd) makes this fail: full reload.
    git(root)
        .args(["merge-base", "--is-ancestor", old, head])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Run the one `git log` and walk its output. `since`: only commits after it (`since..head`).
fn log(root: &Path, head: &str, since: Option<&str>) -> Result<Walk, DatesError> {
    let range = match since {
        Some(since) => format!("{since}..{head}"),
        None => head.to_owned(),
    };
    let mut command = git(root);
    command.args([
        "log",
        "-z",
        // Newest first along the first-parent chain; a merge is diffed against its first
        // parent, so it counts as the commit that brought its changes to this branch.
        "--first-parent",
        "--diff-merges=first-parent",
        "--name-status",
        // Rename detection, so that a moved article keeps its first date. Git's default
        // threshold (50% similar) pairs a deleted article with an unrelated new one when
        // both share a template (navigation, boilerplate) and are short; the new article
        // would then inherit the old one's date and never show as new. 75% still follows a
        // move with moderate edits, and exact renames are found whatever the threshold.
        "-M75%",
        // Paths relative to the content root, and only changes below it.
        "--relative",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        // NUL, then "<hash> <committer time> <parents>" (NUL-terminated by -z).
        "--format=%x00%H %ct %P",
        &range,
        "--",
    ]);
    let started = std::time::Instant::now();
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let mut stderr = child.stderr.take().expect("piped");
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let walk = Walk::parse(BufReader::with_capacity(1 << 16, child.stdout.take().expect("piped")));
    let status = child.wait()?;
    let stderr = stderr.join().unwrap_or_default();
    let walk = walk?;
    if !status.success() {
        return Err(DatesError::Git {
            command: format!("log {range}"),
            status,
            stderr: stderr.trim().to_owned(),
        });
    }
    tracing::debug!(commits = walk.commits, files = walk.files.len(), elapsed = ?started.elapsed(), "read git history");
    Ok(walk)
}

/// A file that exists at HEAD, as learnt while walking history backwards.
struct Entry {
    path: Box<str>,
    first: i64,
    last: i64,
}

/// The backwards walk over history (newest commit first).
///
/// `alias` maps a path *as of the point in history the walk has reached* to the current
/// file it was (`Some(index into files)`), or to `None` when changes to that path no longer
/// concern a current file: it was deleted later, or the current file was added there
/// later (so anything older at that path is a previous incarnation). A path the walk has
/// not seen yet is absent: its first sighting (newest change) is a file that still exists.
#[derive(Default)]
struct Walk {
    alias: HashMap<Box<str>, Option<u32>>,
    files: Vec<Entry>,
    commits: usize,
    /// First parent of the oldest commit walked: for `OLDHEAD..HEAD`, it must be OLDHEAD.
    oldest_first_parent: Option<String>,
}

impl Walk {
    fn parse(mut input: impl BufRead) -> Result<Walk, DatesError> {
        let mut walk = Walk::default();
        let mut token = Vec::with_capacity(256);
        let mut second = Vec::with_capacity(256);
        let mut time = 0i64;
        let read = |input: &mut dyn BufRead, token: &mut Vec<u8>| -> std::io::Result<bool> {
            token.clear();
            if input.read_until(0, token)? == 0 {
                return Ok(false);
            }
            if token.last() == Some(&0) {
                token.pop();
            }
            Ok(true)
        };
        while read(&mut input, &mut token)? {
            // Where a status letter may come: the first status of a commit follows a newline.
            let start = token.iter().position(|&b| b != b'\n').unwrap_or(token.len());
            let field = &token[start..];
            let Some(&status) = field.first() else {
                continue;
            };
            if !status.is_ascii_uppercase() {
                // A commit header: "<hash> <committer time> <parents…>" (hashes are lowercase hex).
                let header = String::from_utf8_lossy(field);
                let mut parts = header.split(' ');
                let _hash = parts.next();
                time = parts.next().and_then(|t| t.parse().ok()).unwrap_or(time);
                walk.oldest_first_parent =
                    parts.next().filter(|p| !p.is_empty()).map(str::to_owned);
                walk.commits += 1;
                continue;
            }
            match status {
                b'R' | b'C' => {
                    if !read(&mut input, &mut token)? || !read(&mut input, &mut second)? {
                        break;
                    }
                    if status == b'R' {
                        walk.rename(
                            &String::from_utf8_lossy(&token),
                            &String::from_utf8_lossy(&second),
                            time,
                        );
                    } else {
                        // A copy leaves the source alone; the copy is a new file.
                        walk.add(&String::from_utf8_lossy(&second), time);
                    }
                }
                _ => {
                    if !read(&mut input, &mut token)? {
                        break;
                    }
                    let path = String::from_utf8_lossy(&token);
                    match status {
                        b'A' => walk.add(&path, time),
                        b'D' => walk.delete(&path),
                        // M (modified), T (type changed), U/X (should not occur): a change.
                        _ => {
                            walk.touch(&path, time);
                        }
                    }
                }
            }
        }
        Ok(walk)
    }

    /// A change to `path`; returns the current file it belongs to.
    fn touch(&mut self, path: &str, time: i64) -> Option<u32> {
        match self.alias.get(path) {
            Some(&Some(id)) => {
                self.files[id as usize].first = time;
                Some(id)
            }
            Some(None) => None,
            None => {
                let id = self.files.len() as u32;
                self.files.push(Entry { path: path.into(), first: time, last: time });
                self.alias.insert(path.into(), Some(id));
                Some(id)
            }
        }
    }

    /// `path` was created here: older changes at `path` are a previous incarnation.
    fn add(&mut self, path: &str, time: i64) {
        self.touch(path, time);
        self.alias.insert(path.into(), None);
    }

    /// `path` was deleted here: older changes at `path` concern a file that is gone (unless a
    /// newer commit re-added it, in which case `add` already marked it).
    fn delete(&mut self, path: &str) {
        self.alias.insert(path.into(), None);
    }

    /// `old` was renamed to `new` here: older changes to `old` count for whatever `new` is now.
    fn rename(&mut self, old: &str, new: &str, time: i64) {
        let id = self.touch(new, time);
        self.alias.insert(new.into(), None);
        self.alias.insert(old.into(), id);
    }

    /// The dates of every current file. `base`: the dates as of the oldest commit's parent
    /// (from the state file), which the walk continues.
    fn finish(mut self, base: Option<HashMap<Box<str>, Span>>) -> HashMap<Box<str>, Span> {
        let mut out =
            HashMap::with_capacity(self.files.len() + base.as_ref().map_or(0, |b| b.len()));
        for (path, (first, last)) in base.into_iter().flatten() {
            match self.alias.get(&path) {
                None => {
                    out.insert(path, (first, last));
                }
                Some(None) => {} // deleted or replaced since
                Some(&Some(id)) => self.files[id as usize].first = first,
            }
        }
        for entry in self.files {
            out.insert(entry.path, (entry.first, entry.last));
        }
        out
    }
}

/// The state file: `herald-git-dates 1`, `root <key>`, `head <hash>` lines, then one record
/// per file: `<first> <last> <path>` terminated by NUL (paths may hold any other byte).
struct State {
    root: String,
    head: String,
    files: HashMap<Box<str>, Span>,
}

const STATE_MAGIC: &str = "herald-git-dates 1\n";

impl State {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.files.len() * 48);
        out.extend_from_slice(STATE_MAGIC.as_bytes());
        out.extend_from_slice(format!("root {}\nhead {}\n", self.root, self.head).as_bytes());
        for (path, (first, last)) in &self.files {
            let _ = write!(out, "{first} {last} {path}\0");
        }
        out
    }

    fn decode(bytes: &[u8]) -> Option<State> {
        let rest = bytes.strip_prefix(STATE_MAGIC.as_bytes())?;
        let (root, rest) = split_line(rest.strip_prefix(b"root ")?)?;
        let (head, rest) = split_line(rest.strip_prefix(b"head ")?)?;
        if head.is_empty() || !head.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        let records = rest.strip_suffix(b"\0").unwrap_or(rest);
        let mut files = HashMap::new();
        if !records.is_empty() {
            for record in records.split(|&b| b == 0) {
                let record = std::str::from_utf8(record).ok()?;
                let mut parts = record.splitn(3, ' ');
                let first = parts.next()?.parse().ok()?;
                let last = parts.next()?.parse().ok()?;
                let path = parts.next().filter(|p| !p.is_empty())?;
                files.insert(path.into(), (first, last));
            }
        }
        Some(State {
            root: String::from_utf8(root.to_vec()).ok()?,
            head: String::from_utf8(head.to_vec()).ok()?,
            files,
        })
    }
}

fn split_line(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = bytes.iter().position(|&b| b == b'\n')?;
    Some((&bytes[..end], &bytes[end + 1..]))
}

/// Write via a temporary file in the same folder and a rename, so a crash never leaves a
/// half-written state behind.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    let mut temp = tempfile_in(&dir, path)?;
    let result = (|| {
        temp.1.write_all(bytes)?;
        temp.1.sync_all()?;
        std::fs::rename(&temp.0, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp.0);
    }
    result
}

fn tempfile_in(dir: &Path, path: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let file = std::fs::File::create(&temp)?;
    Ok((temp, file))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::article::Identity;
    use chrono::TimeZone;

    // ---- resolve ----

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2021, 1, day, 12, 0, 0).unwrap()
    }

    fn article(published: Option<Dated>, updated: Option<Dated>) -> Article {
        Article {
            path: "news/a.md".into(),
            title: "A".into(),
            categories: vec!["news".into()],
            tags: vec![],
            published,
            updated,
            source: None,
            author: None,
            summary: String::new(),
            identity: Identity::Path,
            draft: false,
            body_offset: 0,
            warnings: vec![],
        }
    }

    fn dated(day: u32, source: DateSource) -> Option<Dated> {
        Some(Dated { at: at(day), source })
    }

    fn git_with(first: u32, last: u32) -> GitDates {
        let mut files = HashMap::new();
        files.insert("news/a.md".into(), (at(first).timestamp(), at(last).timestamp()));
        GitDates { files, head: None }
    }

    fn mtime(day: u32) -> Option<SystemTime> {
        Some(at(day).into())
    }

    #[test]
    fn git_fills_published_and_updated_when_the_parser_found_nothing() {
        let mut a = article(None, None);
        resolve(&mut a, Some(&git_with(2, 5)), mtime(9));
        assert_eq!(a.published, dated(2, DateSource::Git));
        assert_eq!(a.updated, dated(5, DateSource::Git));
    }

    #[test]
    fn a_file_committed_once_is_updated_when_published() {
        let mut a = article(None, None);
        resolve(&mut a, Some(&git_with(2, 2)), mtime(9));
        assert_eq!(a.updated, dated(2, DateSource::Git));
    }

    #[test]
    fn mtime_fills_both_dates_without_git() {
        let mut a = article(None, None);
        resolve(&mut a, None, mtime(9));
        assert_eq!(a.published, dated(9, DateSource::Mtime));
        assert_eq!(a.updated, dated(9, DateSource::Mtime));
    }

    #[test]
    fn mtime_is_used_for_a_file_git_does_not_know_yet() {
        let mut a = article(None, None);
        a.path = "news/uncommitted.md".into();
        resolve(&mut a, Some(&git_with(2, 5)), mtime(9));
        assert_eq!(a.published, dated(9, DateSource::Mtime));
    }

    #[test]
    fn mtime_is_rounded_down_to_whole_seconds() {
        let mut a = article(None, None);
        let t = SystemTime::from(at(9)) + std::time::Duration::from_millis(700);
        resolve(&mut a, None, Some(t));
        assert_eq!(a.published, dated(9, DateSource::Mtime));
    }

    #[test]
    fn a_parser_published_date_wins_over_git() {
        let mut a = article(dated(1, DateSource::FrontMatter), None);
        resolve(&mut a, Some(&git_with(2, 5)), mtime(9));
        assert_eq!(a.published, dated(1, DateSource::FrontMatter));
        assert_eq!(a.updated, dated(5, DateSource::Git));
    }

    #[test]
    fn a_parser_updated_date_wins_over_git() {
        let mut a = article(dated(1, DateSource::TagLine), dated(3, DateSource::FrontMatter));
        resolve(&mut a, Some(&git_with(2, 5)), mtime(9));
        assert_eq!(a.updated, dated(3, DateSource::FrontMatter));
    }

    #[test]
    fn a_git_last_commit_before_published_gives_updated_equal_to_published() {
        let mut a = article(dated(7, DateSource::FileName), None);
        resolve(&mut a, Some(&git_with(2, 5)), mtime(9));
        assert_eq!(a.updated, dated(7, DateSource::FileName));
    }

    #[test]
    fn mtime_after_a_parser_date_is_updated_without_git() {
        let mut a = article(dated(1, DateSource::FrontMatter), None);
        resolve(&mut a, None, mtime(9));
        assert_eq!(a.updated, dated(9, DateSource::Mtime));
    }

    #[test]
    fn mtime_before_a_parser_date_gives_updated_equal_to_published() {
        let mut a = article(dated(10, DateSource::FrontMatter), None);
        resolve(&mut a, None, mtime(9));
        assert_eq!(a.updated, dated(10, DateSource::FrontMatter));
    }

    #[test]
    fn nothing_known_leaves_the_dates_empty() {
        let mut a = article(None, None);
        resolve(&mut a, None, None);
        assert_eq!((a.published, a.updated), (None, None));
    }

    // ---- git history, with real repositories ----

    struct Repo {
        dir: tempfile::TempDir,
        /// Seconds since the first commit, so commits get distinct, known dates.
        clock: i64,
    }

    const EPOCH: i64 = 1_600_000_000;

    impl Repo {
        fn new() -> Repo {
            let repo = Repo { dir: tempfile::tempdir().unwrap(), clock: 0 };
            repo.git(&["init", "-q", "-b", "main"]);
            repo
        }

        fn path(&self) -> &Path {
            self.dir.path()
        }

        fn git(&self, args: &[&str]) -> String {
            let when = format!("@{} +0000", EPOCH + self.clock);
            let out = Command::new("git")
                .arg("-C")
                .arg(self.path())
                .args(["-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"])
                .args(args)
                .env("GIT_AUTHOR_DATE", &when)
                .env("GIT_COMMITTER_DATE", &when)
                .output()
                .unwrap();
            assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8(out.stdout).unwrap()
        }

        fn write(&self, path: &str, text: &str) {
            let path = self.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }

        /// Commit everything at `day` days after the epoch.
        fn commit(&mut self, day: i64) {
            self.clock = day * 86_400;
            self.git(&["add", "-A"]);
            self.git(&["commit", "-q", "--allow-empty", "-m", "c"]);
        }

        fn head(&self) -> String {
            self.git(&["rev-parse", "HEAD"]).trim().to_owned()
        }
    }

    fn day(d: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(EPOCH + d * 86_400, 0).unwrap()
    }

    fn days(dates: &GitDates, path: &str) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        dates.get(path)
    }

    #[test]
    fn a_file_added_then_edited_gets_its_first_and_last_commit() {
        let mut repo = Repo::new();
        repo.write("a.md", "one");
        repo.write("b.md", "one");
        repo.commit(1);
        repo.write("a.md", "two");
        repo.commit(3);
        repo.write("c.md", "one");
        repo.commit(4);
        let dates = GitDates::load(repo.path()).unwrap().unwrap();
        assert_eq!(days(&dates, "a.md"), Some((day(1), day(3))));
        assert_eq!(days(&dates, "b.md"), Some((day(1), day(1))));
        assert_eq!(days(&dates, "c.md"), Some((day(4), day(4))));
        assert_eq!(dates.len(), 3);
    }

    #[test]
    fn a_renamed_file_keeps_its_first_commit() {
        let mut repo = Repo::new();
        repo.write("old.md", "a long enough article body\n".repeat(5).as_str());
        repo.commit(1);
        repo.git(&["mv", "old.md", "new.md"]);
        repo.commit(2);
        let dates = GitDates::load(repo.path()).unwrap().unwrap();
        assert_eq!(days(&dates, "new.md"), Some((day(1), day(2))));
        assert_eq!(days(&dates, "old.md"), None);
    }

    #[test]
    fn a_file_moved_to_another_folder_and_edited_keeps_its_history() {
        let mut repo = Repo::new();
        repo.write("inbox/a.md", "line\n".repeat(20).as_str());
        repo.commit(1);
        repo.write("inbox/a.md", &("line\n".repeat(20) + "edit\n"));
        repo.commit(2);
        std::fs::create_dir_all(repo.path().join("2021/01")).unwrap();
        repo.git(&["mv", "inbox/a.md", "2021/01/a.md"]);
        repo.write("2021/01/a.md", &("line\n".repeat(20) + "edit\nmore\n"));
        repo.commit(3);
        repo.write("2021/01/a.md", &("line\n".repeat(20) + "edit\nmore\nagain\n"));
        repo.commit(5);
        let dates = GitDates::load(repo.path()).unwrap().unwrap();
        assert_eq!(days(&dates, "2021/01/a.md"), Some((day(1), day(5))));
        assert_eq!(dates.len(), 1);
    }

    #[test]
    fn a_rename_chain_is_followed_to_the_start() {
        let mut repo = Repo::new();
        repo.write("a.md", "body\n".repeat(10).as_str());
        repo.commit(1);
        repo.git(&["mv", "a.md", "b.md"]);
        repo.commit(2);
        repo.git(&["mv", "b.md", "c.md"]);
        repo.commit(3);
        // A new, unrelated file takes the first name.
        repo.write("a.md", "something else entirely\n");
        repo.commit(4);
        let dates = GitDates::load(repo.path()).unwrap().unwrap();
        assert_eq!(days(&dates, "c.md"), Some((day(1), day(3))));
        assert_eq!(days(&dates, "a.md"), Some((day(4), day(4))));
    }

    #[test]
    fn a_new_article_sharing_a_template_with_a_deleted_one_is_not_a_rename() {
        let template =
            "[Home](../index.md) | [Archive](../archive.md)\n\n---\n\nSource: the newsroom\n\n";
        let mut repo = Repo::new();
        repo.write("news/old.md", &format!("{template}# Old story\n\nWhat happened on Monday.\n"));
        repo.commit(1);
        std::fs::remove_file(repo.path().join("news/old.md")).unwrap();
        repo.write("news/new.md", &format!("{template}# New story\n\nSomething else on Friday.\n"));
        repo.commit(5);
        let dates = GitDates::load(repo.path()).unwrap().unwrap();
        assert_eq!(days(&dates, "news/new.md"), Some((day(5), day(5))));
    }

    #[test]
    fn a_deleted_and_re_added_file_starts_at_the_re_add() {
        let mut repo = Repo::new();
        repo.write("a.md", "one");
        repo.commit(1);
        repo.write("a.md", "two");
        repo.commit(2);
        std::fs::remove_file(repo.path().join("a.md")).unwrap();
        repo.commit(3);
        repo.write("a.md", "three");
        repo.commit(4);
        let dates = GitDates::load(repo.path()).unwrap().unwrap();
        assert_eq!(days(&dates, "a.md"), Some((day(4), day(4))));
    }

    #[test]
    fn a_deleted_file_has_no_dates() {
        let mut repo = Repo::new();
        repo.write("a.md", "one");
        repo.write("b.md", "two");
        repo.commit(1);
        std::fs::remove_file(repo.path().join("a.md")).unwrap();
        repo.commit(2);
        let dates = GitDates::load(repo.path()).unwrap().unwrap();
        assert_eq!(days(&dates, "a.md"), None);
        assert_eq!(dates.len(), 1);
    }

    #[test]
    fn a_content_root_in_a_subfolder_gets_paths_relative_to_it() {
        let mut repo = Repo::new();
        repo.write("README.md", "readme");
        repo.write("content/news/a.md", "one");
        repo.commit(1);
        repo.write("README.md", "readme 2");
        repo.commit(2);
        repo.write("content/news/a.md", "two");
        repo.commit(3);
        let dates = GitDates::load(&repo.path().join("content")).unwrap().unwrap();
        assert_eq!(days(&dates, "news/a.md"), Some((day(1), day(3))));
        assert_eq!(days(&dates, "README.md"), None);
        assert_eq!(dates.len(), 1);
    }

    #[test]
    fn chinese_and_odd_file_names_arrive_intact() {
        let mut repo = Repo::new();
        repo.write("新闻/中文 标题.md", "one");
        repo.write("odd \"quoted\"\tname.md", "two");
        repo.commit(1);
        repo.write("新闻/中文 标题.md", "three");
        repo.commit(2);
        let dates = GitDates::load(repo.path()).unwrap().unwrap();
        assert_eq!(days(&dates, "新闻/中文 标题.md"), Some((day(1), day(2))));
        assert_eq!(days(&dates, "odd \"quoted\"\tname.md"), Some((day(1), day(1))));
    }

    #[test]
    fn a_merge_dates_what_it_brings_in_by_the_merge() {
        let mut repo = Repo::new();
        repo.write("a.md", "one");
        repo.commit(1);
        repo.git(&["checkout", "-q", "-b", "side"]);
        repo.write("side.md", "side");
        repo.commit(2);
        repo.git(&["checkout", "-q", "main"]);
        repo.write("main.md", "main");
        repo.commit(3);
        repo.clock = 5 * 86_400;
        repo.git(&["merge", "-q", "--no-ff", "side", "-m", "merge"]);
        let dates = GitDates::load(repo.path()).unwrap().unwrap();
        assert_eq!(days(&dates, "side.md"), Some((day(5), day(5))));
        assert_eq!(days(&dates, "main.md"), Some((day(3), day(3))));
        assert_eq!(days(&dates, "a.md"), Some((day(1), day(1))));
    }

    #[test]
    fn a_folder_that_is_not_a_git_checkout_gives_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(GitDates::load(dir.path()).unwrap(), None);
    }

    #[test]
    fn a_repository_without_commits_gives_no_dates() {
        let repo = Repo::new();
        repo.write("a.md", "one");
        assert_eq!(GitDates::load(repo.path()).unwrap(), Some(GitDates::default()));
    }

    // ---- the state file ----

    fn cached(repo: &Repo, state: &Path) -> GitDates {
        GitDates::load_cached(repo.path(), state).unwrap().unwrap()
    }

    #[test]
    fn the_state_file_round_trips_and_is_used_when_head_is_unchanged() {
        let mut repo = Repo::new();
        repo.write("a.md", "one");
        repo.write("新闻/b c.md", "two");
        repo.commit(1);
        let state_dir = tempfile::tempdir().unwrap();
        let state = state_dir.path().join("state/git-dates");
        let first = cached(&repo, &state);
        assert_eq!(first, GitDates::load(repo.path()).unwrap().unwrap());
        // Prove the second load reads the state: doctor the recorded dates.
        let text = std::fs::read(&state).unwrap();
        let doctored =
            String::from_utf8(text).unwrap().replace(&(EPOCH + 86_400).to_string(), "42");
        std::fs::write(&state, doctored).unwrap();
        let second = cached(&repo, &state);
        assert_eq!(second.files.get("a.md"), Some(&(42, 42)));
    }

    #[test]
    fn new_commits_are_read_on_top_of_the_state() {
        let mut repo = Repo::new();
        repo.write("a.md", "body\n".repeat(10).as_str());
        repo.write("b.md", "b");
        repo.write("gone.md", "g");
        repo.commit(1);
        let state_dir = tempfile::tempdir().unwrap();
        let state = state_dir.path().join("git-dates");
        cached(&repo, &state);
        let old_head = repo.head();

        repo.git(&["mv", "a.md", "renamed.md"]);
        repo.write("b.md", "b2");
        std::fs::remove_file(repo.path().join("gone.md")).unwrap();
        repo.write("new.md", "n");
        repo.commit(2);
        repo.write("b.md", "b3");
        repo.commit(3);

        let dates = cached(&repo, &state);
        assert_eq!(dates, GitDates::load(repo.path()).unwrap().unwrap());
        assert_eq!(days(&dates, "renamed.md"), Some((day(1), day(2))));
        assert_eq!(days(&dates, "b.md"), Some((day(1), day(3))));
        assert_eq!(days(&dates, "new.md"), Some((day(2), day(2))));
        assert_eq!(days(&dates, "gone.md"), None);
        // The state now records the new HEAD.
        let text = String::from_utf8(std::fs::read(&state).unwrap()).unwrap();
        assert!(text.contains(&format!("head {}\n", repo.head())));
        assert!(!text.contains(&old_head));
    }

    #[test]
    fn the_fast_path_reads_only_the_new_commits() {
        let mut repo = Repo::new();
        repo.write("a.md", "one");
        repo.commit(1);
        let state_dir = tempfile::tempdir().unwrap();
        let state = state_dir.path().join("git-dates");
        cached(&repo, &state);
        // Doctor a.md's first date in the state: an incremental load keeps it, a full one would not.
        let text = String::from_utf8(std::fs::read(&state).unwrap()).unwrap();
        let first = (EPOCH + 86_400).to_string();
        std::fs::write(
            &state,
            text.replacen(&format!("{first} {first}"), &format!("7 {first}"), 1),
        )
        .unwrap();
        repo.write("a.md", "two");
        repo.commit(2);
        let dates = cached(&repo, &state);
        assert_eq!(dates.files.get("a.md"), Some(&(7, EPOCH + 2 * 86_400)));
    }

    #[test]
    fn rewritten_history_makes_a_full_reload() {
        let mut repo = Repo::new();
        repo.write("a.md", "one");
        repo.commit(1);
        repo.write("b.md", "two");
        repo.commit(2);
        let state_dir = tempfile::tempdir().unwrap();
        let state = state_dir.path().join("git-dates");
        cached(&repo, &state);
        // Drop the last commit and make a different one: the recorded HEAD is no ancestor.
        repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
        repo.write("c.md", "three");
        repo.commit(3);
        let dates = cached(&repo, &state);
        assert_eq!(dates, GitDates::load(repo.path()).unwrap().unwrap());
        assert_eq!(days(&dates, "b.md"), None);
        assert_eq!(days(&dates, "c.md"), Some((day(3), day(3))));
    }

    #[test]
    fn a_corrupt_state_file_is_ignored() {
        let mut repo = Repo::new();
        repo.write("a.md", "one");
        repo.commit(1);
        let state_dir = tempfile::tempdir().unwrap();
        let state = state_dir.path().join("git-dates");
        for junk in [&b"garbage"[..], b"herald-git-dates 1\nroot x\nhead zz\n", b"", b"\xff\xfe"] {
            std::fs::write(&state, junk).unwrap();
            assert_eq!(cached(&repo, &state), GitDates::load(repo.path()).unwrap().unwrap());
        }
        // A truncated record.
        let good = std::fs::read(&state).unwrap();
        std::fs::write(&state, &good[..good.len() - 11]).unwrap();
        assert_eq!(cached(&repo, &state), GitDates::load(repo.path()).unwrap().unwrap());
    }

    #[test]
    fn a_state_file_for_another_root_is_not_used() {
        let mut repo = Repo::new();
        repo.write("a/x.md", "one");
        repo.write("b/y.md", "two");
        repo.commit(1);
        let state_dir = tempfile::tempdir().unwrap();
        let state = state_dir.path().join("git-dates");
        let a = GitDates::load_cached(&repo.path().join("a"), &state).unwrap().unwrap();
        let b = GitDates::load_cached(&repo.path().join("b"), &state).unwrap().unwrap();
        assert!(a.get("x.md").is_some());
        assert!(b.get("y.md").is_some() && b.get("x.md").is_none());
    }

    #[test]
    fn the_state_codec_round_trips_odd_paths() {
        let mut files = HashMap::new();
        files.insert("a b\tc\nd.md".into(), (1, 2));
        files.insert("新闻/x.md".into(), (-5, 7));
        let state = State { root: "/srv/x\tcontent/".into(), head: "abc123".into(), files };
        let decoded = State::decode(&state.encode()).unwrap();
        assert_eq!(
            (decoded.root, decoded.head, decoded.files),
            (state.root, state.head, state.files)
        );
    }
}
