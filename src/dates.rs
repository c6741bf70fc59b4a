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
//! - **Rotating slots**: a file such as `gnews/17/README.md` may hold a different article
//!   every few hours. An article whose identity is its source link is published when the
//!   file first held an article with that link, not when the file was created. The walk
//!   remembers the commits of every file committed more than once (most articles are
//!   committed once, so this stays small); [`GitDates::learn_appeared`] then reads a few
//!   versions of such a file with one `git cat-file --batch` and binary-searches for the
//!   first version holding the current source link. The answers are kept in the state file.
//!   A file that merely had its text edited keeps its first commit, as before.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::SystemTime;

use chrono::{DateTime, Utc};

use crate::article::parse::parse;
use crate::article::{Article, DateSource, Dated, Identity, ParseOptions, Parsed};

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
#[derive(Debug, Default, Clone)]
pub struct GitDates {
    /// Path relative to content root → (first commit time = published, last commit time = updated).
    files: HashMap<Box<str>, Span>,
    /// The commit these dates are as of (`None` in a repository without commits).
    head: Option<String>,
    /// The versions of every file with more than one commit, to find rotated articles.
    history: History,
    /// What [`GitDates::learn_appeared`] found (or the state file remembered), by path.
    appeared: HashMap<Box<str>, Appeared>,
    /// Identifies the content root in the state file: checkout top level + prefix.
    root_key: String,
    /// The content root relative to the checkout's top level (`""` or `"content/"`), to name
    /// a file at a commit (`<commit>:<prefix><path>`).
    prefix: String,
}

/// Equal when they know the same dates: a state file read incrementally names some versions
/// by a later commit than a full walk would (see `Walk::finish`), which changes nothing.
impl PartialEq for GitDates {
    fn eq(&self, other: &GitDates) -> bool {
        self.files == other.files
            && self.head == other.head
            && self.appeared == other.appeared
            && self.history.versions() == other.history.versions()
    }
}

impl Eq for GitDates {}

/// Every version of the files committed more than once.
#[derive(Debug, Default, Clone)]
struct History {
    /// `(commit, time)`: a commit at which a version can be read, and when that version was
    /// committed. Usually the version's own commit; see [`Walk::finish`] for the exception.
    revs: Vec<(Box<str>, i64)>,
    /// Current path → its versions, oldest first (at least two).
    files: HashMap<Box<str>, Vec<Version>>,
}

/// One commit that changed a file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Version {
    /// Index into [`History::revs`].
    rev: u32,
    /// The file's path at that commit, when it is not its current path (renamed since).
    path: Option<Box<str>>,
}

impl History {
    /// Per file, when each version was committed and under which path (for comparisons).
    fn versions(&self) -> HashMap<&str, Vec<(i64, Option<&str>)>> {
        self.files
            .iter()
            .map(|(path, versions)| {
                let list = versions
                    .iter()
                    .map(|v| (self.revs[v.rev as usize].1, v.path.as_deref()))
                    .collect();
                (&**path, list)
            })
            .collect()
    }
}

/// When the article a file holds appeared in it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Appeared {
    /// The source link this was found for; another article in the file must search again.
    source: Box<str>,
    /// Commit time of the first version (of the file's last run of versions) holding an
    /// article with this source. `None`: not in the last commit, i.e. the file on disk has
    /// an article that is not committed yet (kept in memory only).
    at: Option<i64>,
}

impl GitDates {
    /// Run ONE `git log` over the whole history for the content root (which may be a subfolder of the checkout),
    /// following renames, and learn first/last commit time per current file. Ok(None) when root is not in a git checkout
    /// or git is missing (log at debug). Never one git process per file.
    pub fn load(root: &Path) -> Result<Option<GitDates>, DatesError> {
        let Some(checkout) = Checkout::open(root)? else {
            return Ok(None);
        };
        let Some(head) = checkout.head else {
            return Ok(Some(GitDates::default()));
        };
        let walk = log(root, &head, None)?;
        let (files, history, appeared) = walk.finish(None);
        Ok(Some(GitDates {
            files,
            head: Some(head),
            history,
            appeared,
            root_key: checkout.root_key,
            prefix: checkout.prefix,
        }))
    }

    /// Dates of a file, by its path relative to the content root (`/`-separated).
    pub fn get(&self, rel_path: &str) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let &(first, last) = self.files.get(rel_path)?;
        Some((DateTime::from_timestamp(first, 0)?, DateTime::from_timestamp(last, 0)?))
    }

    /// The dates git gives `article`: its file's first and last commit, except that when the
    /// file held other articles before (a rotating slot), the first is the commit in which
    /// this article appeared, once [`GitDates::learn_appeared`] has found it. `None` when
    /// git does not know the file, or the article in it is not committed yet.
    fn dates_of(&self, article: &Article) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let (first, last) = self.get(&article.path)?;
        if let (None, Identity::Source(url)) = (article.published, &article.identity) {
            if let Some(found) = self.appeared.get(article.path.as_str()) {
                if *found.source == **url {
                    return Some((DateTime::from_timestamp(found.at?, 0)?, last));
                }
            }
        }
        Some((first, last))
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
        let (root_key, prefix) = (checkout.root_key, checkout.prefix);

        let state = match std::fs::read(state_file) {
            Ok(bytes) => match State::decode(&bytes) {
                Some(state) if state.root == root_key => Some(state),
                Some(_) => {
                    tracing::info!(state = %state_file.display(), "git dates state is for another content root; reading the whole history");
                    None
                }
                None if bytes.starts_with(STATE_FAMILY.as_bytes()) && bytes.contains(&b'\n') => {
                    tracing::info!(state = %state_file.display(), "git dates state is from another version of Herald, or truncated; reading the whole history");
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

        let (files, history, appeared) = match state {
            Some(state) if state.head == head => {
                return Ok(Some(GitDates {
                    files: state.files,
                    head: Some(head),
                    history: state.history,
                    appeared: state.appeared,
                    root_key,
                    prefix,
                }))
            }
            Some(state) if is_ancestor(root, &state.head, &head) => {
                let walk = log(root, &head, Some(&state.head))?;
                if walk.oldest_first_parent.as_deref() == Some(state.head.as_str()) {
                    tracing::debug!(from = %state.head, to = %head, "git dates: read new commits only");
                    walk.finish(Some(state))
                } else {
                    // OLDHEAD is an ancestor, but only through a merged side branch: the
                    // first-parent diffs would not start from it. Rare; read everything.
                    log(root, &head, None)?.finish(None)
                }
            }
            _ => log(root, &head, None)?.finish(None),
        };
        let dates = GitDates { files, head: Some(head), history, appeared, root_key, prefix };
        dates.save(state_file);
        Ok(Some(dates))
    }

    /// Write the state file; a failure is logged.
    fn save(&self, state_file: &Path) {
        let Some(bytes) = State::encode(self) else { return };
        if let Err(err) = write_atomically(state_file, &bytes) {
            tracing::warn!(state = %state_file.display(), %err, "cannot write the git dates state file");
        }
    }

    /// Learn when the article in a rotating slot appeared, for those of `articles` whose
    /// published date git gives (none from the parser) and whose identity is their source
    /// link, in files committed more than once: the first version of the file (along its
    /// first-parent, rename-followed history) from which on it holds an article with that
    /// source. [`resolve`] then publishes the article then. An article merely edited since
    /// it was added is found in the first version: its date does not change.
    ///
    /// One `git cat-file --batch` for the whole batch, and per file a binary search over its
    /// versions (the current source is assumed present in a suffix of them): two reads for
    /// an edited article, about log2(versions) + 2 for a slot. Answers are kept (and saved
    /// to `state_file`) until the file changes in git or holds another source, so a restart
    /// or the next batch does not read again. When git fails, the articles keep their file's
    /// first commit (logged at debug).
    pub fn learn_appeared<'a>(
        &mut self,
        root: &Path,
        state_file: Option<&Path>,
        articles: impl IntoIterator<Item = &'a Article>,
    ) {
        let wanted: Vec<(&str, &str)> = articles
            .into_iter()
            .filter(|a| a.published.is_none_or(|d| d.source >= DateSource::Git))
            .filter_map(|a| match &a.identity {
                Identity::Source(url) => Some((a.path.as_str(), url.as_str())),
                _ => None,
            })
            .filter(|&(path, url)| {
                self.history.files.contains_key(path)
                    && self.appeared.get(path).is_none_or(|found| *found.source != *url)
            })
            .collect();
        if wanted.is_empty() {
            return;
        }
        let started = std::time::Instant::now();
        let mut blobs = match Blobs::open(root) {
            Ok(blobs) => blobs,
            Err(err) => {
                tracing::debug!(%err, "cannot run git cat-file; rotating slots are dated by their first commit");
                return;
            }
        };
        let mut learned = 0;
        for &(path, url) in &wanted {
            match self.search(&mut blobs, path, url) {
                Ok(at) => {
                    learned += usize::from(at.is_some());
                    self.appeared.insert(path.into(), Appeared { source: url.into(), at });
                }
                Err(err) => {
                    tracing::debug!(%path, %err, "git cat-file failed; rotating slots are dated by their first commit");
                    break;
                }
            }
        }
        tracing::debug!(files = wanted.len(), reads = blobs.reads, elapsed = ?started.elapsed(), "learnt when articles appeared in files committed more than once");
        drop(blobs);
        if let (true, Some(state_file)) = (learned > 0, state_file) {
            self.save(state_file);
        }
    }

    /// Binary search for the first version of `path` holding an article with source `url`.
    fn search(&self, blobs: &mut Blobs, path: &str, url: &str) -> std::io::Result<Option<i64>> {
        let versions = &self.history.files[path];
        let holds = |blobs: &mut Blobs, i: usize| -> std::io::Result<bool> {
            let version = &versions[i];
            let rev = &self.history.revs[version.rev as usize].0;
            let at = version.path.as_deref().unwrap_or(path);
            Ok(blobs.read(rev, &self.prefix, at)?.is_some_and(|bytes| {
                matches!(parse(path, &bytes, &ParseOptions::default()),
                    Parsed::Article(a) if a.source.as_deref() == Some(url))
            }))
        };
        let time = |i: usize| self.history.revs[versions[i].rev as usize].1;
        let last = versions.len() - 1;
        if !holds(blobs, last)? {
            return Ok(None);
        }
        if holds(blobs, 0)? {
            return Ok(Some(time(0)));
        }
        // Invariant: version `lo` does not hold it, version `hi` does.
        let (mut lo, mut hi) = (0, last);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if holds(blobs, mid)? {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        Ok(Some(time(hi)))
    }
}

/// One long-lived `git cat-file --batch`: file contents at commits, one request at a time.
struct Blobs {
    child: Child,
    input: Option<ChildStdin>,
    output: BufReader<ChildStdout>,
    reads: usize,
}

/// Larger versions are not read (no article is this long; the file is skipped anyway).
const MAX_BLOB: usize = 64 << 20;

impl Blobs {
    fn open(root: &Path) -> std::io::Result<Blobs> {
        let mut child = git(root)
            .args(["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let input = child.stdin.take();
        let output = BufReader::with_capacity(1 << 16, child.stdout.take().expect("piped"));
        Ok(Blobs { child, input, output, reads: 0 })
    }

    /// The content of `<prefix><path>` at commit `rev`; `None` when it is no blob there.
    fn read(&mut self, rev: &str, prefix: &str, path: &str) -> std::io::Result<Option<Vec<u8>>> {
        if path.contains('\n') || prefix.contains('\n') {
            return Ok(None); // cannot be named on a request line
        }
        self.reads += 1;
        let input = self.input.as_mut().expect("open until dropped");
        writeln!(input, "{rev}:{prefix}{path}")?;
        input.flush()?;
        let mut header = String::new();
        if self.output.read_line(&mut header)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let header = header.trim_end_matches('\n');
        if header.ends_with(" missing") || header.ends_with(" ambiguous") {
            return Ok(None);
        }
        // "<object id> <type> <size>", then the content and a newline.
        let mut fields = header.rsplitn(3, ' ');
        let size = fields.next().and_then(|s| s.parse::<usize>().ok());
        let (Some(size), Some(kind)) = (size, fields.next()) else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("unexpected git cat-file answer {header:?}"),
            ));
        };
        if kind != "blob" || size > MAX_BLOB {
            std::io::copy(&mut (&mut self.output).take(size as u64 + 1), &mut std::io::sink())?;
            return Ok(None);
        }
        let mut content = vec![0; size + 1];
        self.output.read_exact(&mut content)?;
        content.pop();
        Ok(Some(content))
    }
}

impl Drop for Blobs {
    fn drop(&mut self) {
        drop(self.input.take()); // end of input: cat-file exits
        let _ = self.child.kill(); // in case an error left it writing
        let _ = self.child.wait();
    }
}

/// Fill the dates the parser could not find: published ← git first commit, else mtime; updated ← git last commit if later than published, else mtime when no git, else published.
/// Dates from front matter / tag line / file name (already set by the parser) win for published; for updated: the parser's updated wins, else git's last commit if it is later than published, else published.
///
/// "No git" means git knows no dates for this file (no checkout, or the file is not
/// committed yet); the mtime is then used for `updated` only if it is later than `published`.
/// With neither git dates nor an mtime, `published` stays `None`.
///
/// "First commit" is, for an article in a rotating slot, the commit in which this article
/// appeared in the file, once [`GitDates::learn_appeared`] has found it; if the article is
/// newer than the last commit, git knows no dates for it.
pub fn resolve(article: &mut Article, git: Option<&GitDates>, mtime: Option<SystemTime>) {
    let git = git.and_then(|g| g.dates_of(article));
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
    /// The content root relative to the top level, `""` or ending in `/`.
    prefix: String,
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
        let text = String::from_utf8_lossy(&output.stdout);
        let root_key = text.trim_end().replace('\n', "\t");
        let prefix = text.split('\n').nth(1).unwrap_or("").to_owned();
        let head = git(root).args(["rev-parse", "--verify", "--quiet", "HEAD"]).output()?;
        let head = String::from_utf8_lossy(&head.stdout).trim().to_owned();
        Ok(Some(Checkout { head: (!head.is_empty()).then_some(head), root_key, prefix }))
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
    /// Index into [`Walk::revs`] of the oldest commit recorded in [`Walk::versions`] for it.
    recorded: u32,
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
    /// Hash and committer time of every commit walked, newest first.
    revs: Vec<(Box<str>, i64)>,
    /// Every change to a current file, newest first: (index into `files`, index into
    /// `revs`, the path at that commit if it is not the current one). Only the files
    /// changed more than once are kept by [`Walk::finish`].
    versions: Vec<(u32, u32, Option<Box<str>>)>,
}

/// A version the state file knew: (commit to read it at, commit time, path then).
type Known = (Box<str>, i64, Box<str>);

/// What a walk learnt: the dates, the versions, and the still valid `appeared` answers.
type Finished = (HashMap<Box<str>, Span>, History, HashMap<Box<str>, Appeared>);

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
                let hash = parts.next().unwrap_or_default();
                time = parts.next().and_then(|t| t.parse().ok()).unwrap_or(time);
                walk.revs.push((hash.into(), time));
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
        let id = match self.alias.get(path) {
            Some(&Some(id)) => {
                self.files[id as usize].first = time;
                id
            }
            Some(None) => return None,
            None => {
                let id = self.files.len() as u32;
                self.files.push(Entry {
                    path: path.into(),
                    first: time,
                    last: time,
                    recorded: u32::MAX,
                });
                self.alias.insert(path.into(), Some(id));
                id
            }
        };
        // The version of the current file this commit made, once per commit.
        let rev = self.revs.len().saturating_sub(1) as u32;
        let entry = &mut self.files[id as usize];
        if entry.recorded != rev {
            entry.recorded = rev;
            let path = (*entry.path != *path).then(|| path.into());
            self.versions.push((id, rev, path));
        }
        Some(id)
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

    /// The dates and versions of every current file. `base`: the state as of the oldest
    /// commit's parent, which the walk continues; its `appeared` answers are kept for the
    /// files the walk did not touch.
    ///
    /// A file the state knows as committed once has no versions recorded there; its one
    /// version is read at the state's HEAD (where it still had that content), dated by its
    /// first commit. So the state needs no commit per file, only per version of a file
    /// committed more than once.
    fn finish(self, base: Option<State>) -> Finished {
        let Walk { alias, mut files, revs, versions, .. } = self;
        let mut out =
            HashMap::with_capacity(files.len() + base.as_ref().map_or(0, |b| b.files.len()));
        let mut history = Interned::default();
        let mut appeared = HashMap::new();
        // Per current file, its versions as of the state: (commit, time, path), oldest first.
        let mut before: Vec<Vec<Known>> = Vec::new();
        before.resize_with(files.len(), Vec::new);
        if let Some(base) = base {
            let State {
                head: base_head,
                files: base_files,
                history: mut base_history,
                appeared: mut base_appeared,
                ..
            } = base;
            for (path, (first, last)) in base_files {
                let old = base_history.files.remove(&path);
                match alias.get(&path) {
                    None => {
                        if let Some(old) = old {
                            let list = old
                                .into_iter()
                                .map(|v| {
                                    let (rev, time) = &base_history.revs[v.rev as usize];
                                    Version { rev: history.rev(rev, *time), path: v.path }
                                })
                                .collect();
                            history.files.insert(path.clone(), list);
                        }
                        if let Some(found) = base_appeared.remove(&path) {
                            appeared.insert(path.clone(), found);
                        }
                        out.insert(path, (first, last));
                    }
                    Some(None) => {} // deleted or replaced since
                    Some(&Some(id)) => {
                        files[id as usize].first = first;
                        before[id as usize] = match old {
                            Some(old) => old
                                .into_iter()
                                .map(|v| {
                                    let (rev, time) = &base_history.revs[v.rev as usize];
                                    (rev.clone(), *time, v.path.unwrap_or_else(|| path.clone()))
                                })
                                .collect(),
                            None => vec![(base_head.as_str().into(), first, path.clone())],
                        };
                    }
                }
            }
        }
        let mut walked: Vec<Vec<(u32, Option<Box<str>>)>> = Vec::new();
        walked.resize_with(files.len(), Vec::new);
        for (id, rev, path) in versions {
            walked[id as usize].push((rev, path));
        }
        for ((entry, old), new) in files.into_iter().zip(before).zip(walked) {
            if old.len() + new.len() >= 2 {
                let mut list = Vec::with_capacity(old.len() + new.len());
                for (rev, time, path) in old {
                    let path = (path != entry.path).then_some(path);
                    list.push(Version { rev: history.rev(&rev, time), path });
                }
                for (rev, path) in new.into_iter().rev() {
                    let (rev, time) = &revs[rev as usize];
                    list.push(Version { rev: history.rev(rev, *time), path });
                }
                history.files.insert(entry.path.clone(), list);
            }
            out.insert(entry.path, (entry.first, entry.last));
        }
        (out, History { revs: history.revs, files: history.files }, appeared)
    }
}

/// A [`History`] being built, each `(commit, time)` stored once.
#[derive(Default)]
struct Interned {
    revs: Vec<(Box<str>, i64)>,
    index: HashMap<(Box<str>, i64), u32>,
    files: HashMap<Box<str>, Vec<Version>>,
}

impl Interned {
    fn rev(&mut self, rev: &str, time: i64) -> u32 {
        let next = self.revs.len() as u32;
        *self.index.entry((rev.into(), time)).or_insert_with(|| {
            self.revs.push((rev.into(), time));
            next
        })
    }
}

/// The state file: `herald-git-dates 2`, `root <key>`, `head <hash>` lines, then records,
/// each terminated by NUL (paths may hold any other byte):
/// - `c <time> <commit>`: the versions' commits, numbered from 0 in order;
/// - `f <first> <last> <path>`: one file's dates;
/// - `v <n>` or `v <n> <path>`: a version of the preceding file, oldest first, read at
///   commit `n` (under `path` if it had another name then);
/// - `a <time> <path>`, then the source link: when that article appeared in the file;
/// - `e`: the end, so that a truncated file is not taken for a complete one.
struct State {
    root: String,
    head: String,
    files: HashMap<Box<str>, Span>,
    history: History,
    appeared: HashMap<Box<str>, Appeared>,
}

/// What every version of the state file starts with.
const STATE_FAMILY: &str = "herald-git-dates ";
const STATE_MAGIC: &str = "herald-git-dates 2\n";

impl State {
    /// `None` without a HEAD (nothing worth keeping).
    fn encode(dates: &GitDates) -> Option<Vec<u8>> {
        let head = dates.head.as_deref()?;
        let mut out = Vec::with_capacity(64 + dates.files.len() * 48);
        out.extend_from_slice(STATE_MAGIC.as_bytes());
        let _ = write!(out, "root {}\nhead {head}\n", dates.root_key);
        for (rev, time) in &dates.history.revs {
            let _ = write!(out, "c {time} {rev}\0");
        }
        for (path, (first, last)) in &dates.files {
            let _ = write!(out, "f {first} {last} {path}\0");
            for version in dates.history.files.get(path).into_iter().flatten() {
                let _ = match &version.path {
                    Some(path) => write!(out, "v {} {path}\0", version.rev),
                    None => write!(out, "v {}\0", version.rev),
                };
            }
        }
        for (path, found) in &dates.appeared {
            // Not committed yet: depends on the work tree, so not worth keeping.
            if let Some(at) = found.at {
                let _ = write!(out, "a {at} {path}\0{}\0", found.source);
            }
        }
        out.extend_from_slice(b"e\0");
        Some(out)
    }

    fn decode(bytes: &[u8]) -> Option<State> {
        let rest = bytes.strip_prefix(STATE_MAGIC.as_bytes())?;
        let (root, rest) = split_line(rest.strip_prefix(b"root ")?)?;
        let (head, rest) = split_line(rest.strip_prefix(b"head ")?)?;
        if head.is_empty() || !head.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        let body = rest.strip_suffix(b"e\0")?;
        let body = match body.strip_suffix(b"\0") {
            Some(body) => body,
            None if body.is_empty() => body,
            None => return None,
        };
        let mut records = body.split(|&b| b == 0).filter(|_| !body.is_empty());
        let mut files = HashMap::new();
        let mut history = History::default();
        let mut appeared = HashMap::new();
        let mut current: Option<Box<str>> = None;
        let text = |record: &[u8]| std::str::from_utf8(record).ok().map(str::to_owned);
        while let Some(record) = records.next() {
            let record = text(record)?;
            let (kind, rest) = record.split_once(' ')?;
            let mut parts = rest.splitn(3, ' ');
            match kind {
                "c" => {
                    let (time, rev) = rest.split_once(' ')?;
                    if rev.is_empty() || !rev.bytes().all(|b| b.is_ascii_hexdigit()) {
                        return None;
                    }
                    history.revs.push((rev.into(), time.parse().ok()?));
                }
                "f" => {
                    let first = parts.next()?.parse().ok()?;
                    let last = parts.next()?.parse().ok()?;
                    let path: Box<str> = parts.next().filter(|p| !p.is_empty())?.into();
                    files.insert(path.clone(), (first, last));
                    current = Some(path);
                }
                "v" => {
                    let (rev, path) = match rest.split_once(' ') {
                        Some((rev, path)) if !path.is_empty() => (rev, Some(path.into())),
                        Some(_) => return None,
                        None => (rest, None),
                    };
                    let rev: u32 = rev.parse().ok()?;
                    if rev as usize >= history.revs.len() {
                        return None;
                    }
                    let file = current.clone()?;
                    history.files.entry(file).or_default().push(Version { rev, path });
                }
                "a" => {
                    let (at, path) = rest.split_once(' ')?;
                    let source = text(records.next()?)?;
                    if path.is_empty() || source.is_empty() {
                        return None;
                    }
                    let found = Appeared { source: source.into(), at: Some(at.parse().ok()?) };
                    appeared.insert(path.into(), found);
                }
                _ => return None,
            }
        }
        Some(State {
            root: String::from_utf8(root.to_vec()).ok()?,
            head: String::from_utf8(head.to_vec()).ok()?,
            files,
            history,
            appeared,
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
            categories: vec!["news".into()],
            published,
            updated,
            ..Article::stub("news/a.md", "A")
        }
    }

    fn dated(day: u32, source: DateSource) -> Option<Dated> {
        Some(Dated { at: at(day), source })
    }

    fn git_with(first: u32, last: u32) -> GitDates {
        let mut files = HashMap::new();
        files.insert("news/a.md".into(), (at(first).timestamp(), at(last).timestamp()));
        GitDates { files, ..GitDates::default() }
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
        assert!(!text.contains(&format!("head {old_head}\n")));
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
        files.insert("slot/17/README.md".into(), (3, 9));
        let history = History {
            revs: vec![("abc1".into(), 3), ("def2".into(), 5), ("abc1".into(), 9)],
            files: HashMap::from([
                (
                    "slot/17/README.md".into(),
                    vec![
                        Version { rev: 0, path: Some("old name\t x.md".into()) },
                        Version { rev: 1, path: None },
                        Version { rev: 2, path: None },
                    ],
                ),
                ("新闻/x.md".into(), vec![Version { rev: 0, path: None }; 2]),
            ]),
        };
        let appeared = HashMap::from([
            (
                "slot/17/README.md".into(),
                Appeared { source: "https://x/a b?c".into(), at: Some(5) },
            ),
            ("新闻/x.md".into(), Appeared { source: "https://x/uncommitted".into(), at: None }),
        ]);
        let dates = GitDates {
            files,
            head: Some("abc123".into()),
            history,
            appeared,
            root_key: "/srv/x\tcontent/".into(),
            prefix: "content/".into(),
        };
        let decoded = State::decode(&State::encode(&dates).unwrap()).unwrap();
        assert_eq!(
            (decoded.root.as_str(), Some(decoded.head.as_str())),
            ("/srv/x\tcontent/", dates.head())
        );
        assert_eq!(decoded.files, dates.files);
        assert_eq!(
            (decoded.history.revs, decoded.history.files),
            (dates.history.revs, dates.history.files)
        );
        // An article not committed yet is not kept.
        let mut kept = dates.appeared.clone();
        kept.remove("新闻/x.md");
        assert_eq!(decoded.appeared, kept);
    }

    #[test]
    fn a_state_file_cut_at_a_record_boundary_is_not_used() {
        let mut files = HashMap::new();
        files.insert("a.md".into(), (1, 2));
        files.insert("b.md".into(), (1, 2));
        let dates = GitDates { files, head: Some("abc".into()), ..GitDates::default() };
        let bytes = State::encode(&dates).unwrap();
        assert!(State::decode(&bytes).is_some());
        let cut = bytes.len() - 2 - b"f 1 2 a.md\0".len();
        assert!(State::decode(&bytes[..cut]).is_none());
        assert!(State::decode(&bytes[..bytes.len() - 1]).is_none());
    }

    // ---- rotating slots ----

    /// A GNews article as the archive has it: its identity is the source link.
    fn gnews(id: u32, text: &str) -> String {
        format!(
            "###  [:house:返回](README.md)\n---\n\n\n## 第{id}号文章\n` 山谷观察组` [轉載自GNews](https://gnews.org/zh-hans/{id}/)\n\n{text}\n"
        )
    }

    /// Parse a file of the work tree as the site does.
    fn read_article(repo: &Repo, path: &str) -> Article {
        let bytes = std::fs::read(repo.path().join(path)).unwrap();
        match parse(path, &bytes, &ParseOptions::default()) {
            Parsed::Article(a) => *a,
            other => panic!("{path}: {other:?}"),
        }
    }

    /// Learn, then resolve (no mtime): the article's (published, updated) as the site gets them.
    fn dated_by_git(
        repo: &Repo,
        dates: &mut GitDates,
        path: &str,
    ) -> (Option<Dated>, Option<Dated>) {
        let mut article = read_article(repo, path);
        dates.learn_appeared(repo.path(), None, [&article]);
        resolve(&mut article, Some(dates), None);
        (article.published, article.updated)
    }

    fn by_git(d: i64) -> Option<Dated> {
        Some(Dated { at: day(d), source: DateSource::Git })
    }

    const SLOT: &str = "gnews/17/README.md";

    #[test]
    fn a_rotated_slot_article_is_published_when_it_appeared() {
        let mut repo = Repo::new();
        repo.write(SLOT, &gnews(740001, "第一篇。"));
        repo.commit(1);
        repo.write(SLOT, &gnews(740024, "第二篇，有个错别子。"));
        repo.commit(2);
        repo.write(SLOT, &gnews(740024, "第二篇，有个错别字。"));
        repo.commit(3);
        let mut dates = GitDates::load(repo.path()).unwrap().unwrap();
        assert_eq!(dated_by_git(&repo, &mut dates, SLOT), (by_git(2), by_git(3)));
    }

    #[test]
    fn a_slot_rotated_many_times_is_binary_searched() {
        let mut repo = Repo::new();
        for d in 1..=20 {
            repo.write(SLOT, &gnews(700_000 + d as u32, "正文。"));
            repo.commit(d);
        }
        // The current article, then three edits.
        for d in 21..=24 {
            repo.write(SLOT, &gnews(799_999, &format!("正文，第{d}版。")));
            repo.commit(d);
        }
        let mut dates = GitDates::load(repo.path()).unwrap().unwrap();
        assert_eq!(dated_by_git(&repo, &mut dates, SLOT), (by_git(21), by_git(24)));
    }

    #[test]
    fn an_edited_article_keeps_its_first_commit() {
        let mut repo = Repo::new();
        repo.write("gnews/2021/01/740030.md", &gnews(740030, "原文。"));
        repo.commit(1);
        repo.write("gnews/2021/01/740030.md", &gnews(740030, "原文，改了一个字。"));
        repo.commit(3);
        repo.write("gnews/2021/01/740030.md", &gnews(740030, "原文，又改了。"));
        repo.commit(4);
        let mut dates = GitDates::load(repo.path()).unwrap().unwrap();
        assert_eq!(
            dated_by_git(&repo, &mut dates, "gnews/2021/01/740030.md"),
            (by_git(1), by_git(4))
        );
    }

    #[test]
    fn a_slot_renamed_after_the_article_appeared_is_read_under_its_old_name() {
        let mut repo = Repo::new();
        let body = "一段足够长的正文，改名时不会改动。\n".repeat(10);
        repo.write("slot/old.md", &gnews(740001, &body));
        repo.commit(1);
        repo.write("slot/old.md", &gnews(740002, &body));
        repo.commit(2);
        repo.git(&["mv", "slot/old.md", "slot/new.md"]);
        repo.commit(3);
        repo.write("slot/new.md", &gnews(740002, &(body.clone() + "补充。")));
        repo.commit(4);
        let mut dates = GitDates::load(repo.path()).unwrap().unwrap();
        assert_eq!(dated_by_git(&repo, &mut dates, "slot/new.md"), (by_git(2), by_git(4)));
        assert!(dates.history.files["slot/new.md"][0].path.as_deref() == Some("slot/old.md"));
    }

    #[test]
    fn a_slot_renamed_before_the_article_appeared() {
        let mut repo = Repo::new();
        let body = "一段足够长的正文，改名时不会改动。\n".repeat(10);
        repo.write("content/slot/old.md", &gnews(740001, &body));
        repo.commit(1);
        repo.git(&["mv", "content/slot/old.md", "content/slot/new.md"]);
        repo.commit(2);
        repo.write("content/slot/new.md", &gnews(740002, "换了一篇。"));
        repo.commit(3);
        // A content root in a subfolder: versions are named with the checkout's prefix.
        let content = repo.path().join("content");
        let mut dates = GitDates::load(&content).unwrap().unwrap();
        let mut article = read_article(&repo, "content/slot/new.md");
        article.path = "slot/new.md".into();
        dates.learn_appeared(&content, None, [&article]);
        resolve(&mut article, Some(&dates), None);
        assert_eq!((article.published, article.updated), (by_git(3), by_git(3)));
    }

    #[test]
    fn an_article_without_a_source_link_is_unaffected() {
        let mut repo = Repo::new();
        repo.write("posts/kites.md", "---\ntitle: Kites\n---\nThe first kite.\n");
        repo.commit(1);
        repo.write("posts/kites.md", "---\ntitle: Ferries\n---\nA different text.\n");
        repo.commit(2);
        let mut dates = GitDates::load(repo.path()).unwrap().unwrap();
        let article = read_article(&repo, "posts/kites.md");
        assert_eq!(article.identity, Identity::Path);
        assert_eq!(dated_by_git(&repo, &mut dates, "posts/kites.md"), (by_git(1), by_git(2)));
        assert!(dates.appeared.is_empty());
    }

    #[test]
    fn a_parser_date_is_not_replaced_and_not_searched_for() {
        let mut repo = Repo::new();
        let dated = |id: u32| {
            format!("## 标题\n`4/2/2024 3:57 PM UTC 山谷观察组` [轉載自GNews](https://gnews.org/zh-hans/{id}/)\n\n正文。\n")
        };
        repo.write(SLOT, &dated(1));
        repo.commit(1);
        repo.write(SLOT, &dated(2));
        repo.commit(2);
        let mut dates = GitDates::load(repo.path()).unwrap().unwrap();
        let (published, _) = dated_by_git(&repo, &mut dates, SLOT);
        assert_eq!(published.map(|d| d.source), Some(DateSource::TagLine));
        assert!(dates.appeared.is_empty());
    }

    #[test]
    fn an_article_not_committed_yet_is_dated_by_its_mtime() {
        let mut repo = Repo::new();
        repo.write(SLOT, &gnews(740001, "第一篇。"));
        repo.commit(1);
        repo.write(SLOT, &gnews(740002, "第二篇。"));
        repo.commit(2);
        let mut dates = GitDates::load(repo.path()).unwrap().unwrap();
        // `git pull` has written the next article, and HEAD has not been read again yet.
        repo.write(SLOT, &gnews(740003, "第三篇。"));
        let mut article = read_article(&repo, SLOT);
        dates.learn_appeared(repo.path(), None, [&article]);
        resolve(&mut article, Some(&dates), Some(SystemTime::from(day(9))));
        let by_mtime = Some(Dated { at: day(9), source: DateSource::Mtime });
        assert_eq!((article.published, article.updated), (by_mtime, by_mtime));
    }

    #[test]
    fn when_git_cat_file_fails_the_first_commit_is_kept() {
        let mut repo = Repo::new();
        repo.write(SLOT, &gnews(740001, "第一篇。"));
        repo.commit(1);
        repo.write(SLOT, &gnews(740002, "第二篇。"));
        repo.commit(2);
        let mut dates = GitDates::load(repo.path()).unwrap().unwrap();
        let mut article = read_article(&repo, SLOT);
        let nowhere = tempfile::tempdir().unwrap(); // not a checkout: cat-file fails
        dates.learn_appeared(nowhere.path(), None, [&article]);
        assert!(dates.appeared.is_empty());
        resolve(&mut article, Some(&dates), None);
        assert_eq!(article.published, by_git(1));
    }

    #[test]
    fn the_state_file_remembers_when_an_article_appeared() {
        let mut repo = Repo::new();
        repo.write(SLOT, &gnews(740001, "第一篇。"));
        repo.write("other.md", "other");
        repo.commit(1);
        let state_dir = tempfile::tempdir().unwrap();
        let state = state_dir.path().join("git-dates");
        cached(&repo, &state);
        // Read incrementally: the slot was committed once as of the state, then replaced.
        repo.write(SLOT, &gnews(740002, "第二篇。"));
        repo.commit(2);
        repo.write(SLOT, &gnews(740002, "第二篇，改过。"));
        repo.commit(3);
        let mut dates = cached(&repo, &state);
        assert_eq!(dates, GitDates::load(repo.path()).unwrap().unwrap());
        let article = read_article(&repo, SLOT);
        dates.learn_appeared(repo.path(), Some(&state), [&article]);
        let mut fresh = GitDates::load(repo.path()).unwrap().unwrap();
        fresh.learn_appeared(repo.path(), None, [&article]);
        assert_eq!(dates.appeared, fresh.appeared);

        // A restart: the answer comes from the state, without learning again.
        let restarted = cached(&repo, &state);
        let mut a = article.clone();
        resolve(&mut a, Some(&restarted), None);
        assert_eq!((a.published, a.updated), (by_git(2), by_git(3)));

        // New commits elsewhere keep the answer; a change to the slot drops it.
        repo.write("other.md", "other 2");
        repo.commit(4);
        let kept = cached(&repo, &state);
        assert_eq!(kept.appeared, dates.appeared);
        repo.write(SLOT, &gnews(740003, "第三篇。"));
        repo.commit(5);
        let mut changed = cached(&repo, &state);
        assert!(changed.appeared.is_empty());
        assert_eq!(dated_by_git(&repo, &mut changed, SLOT), (by_git(5), by_git(5)));
        // …and the incremental versions find the same as a full walk.
        let mut full = GitDates::load(repo.path()).unwrap().unwrap();
        assert_eq!(dated_by_git(&repo, &mut full, SLOT), (by_git(5), by_git(5)));
    }

    #[test]
    fn a_remembered_answer_is_for_one_source_link_only() {
        let mut repo = Repo::new();
        repo.write(SLOT, &gnews(740001, "第一篇。"));
        repo.commit(1);
        repo.write(SLOT, &gnews(740002, "第二篇。"));
        repo.commit(2);
        let state_dir = tempfile::tempdir().unwrap();
        let state = state_dir.path().join("git-dates");
        let mut dates = cached(&repo, &state);
        let article = read_article(&repo, SLOT);
        dates.learn_appeared(repo.path(), Some(&state), [&article]);
        // After a restart the work tree holds another article than the one answered for.
        repo.write(SLOT, &gnews(740001, "第一篇。"));
        let mut dates = cached(&repo, &state);
        assert_eq!(dates.appeared[SLOT].source.as_ref(), "https://gnews.org/zh-hans/740002/");
        let mut article = read_article(&repo, SLOT);
        dates.learn_appeared(repo.path(), Some(&state), [&article]);
        resolve(&mut article, Some(&dates), Some(SystemTime::from(day(9))));
        assert_eq!(article.published, Some(Dated { at: day(9), source: DateSource::Mtime }));
    }

    // ---- through the site ----

    fn site_for(repo: &Repo, out: &Path) -> crate::site::Site {
        use crate::config::{Overrides, RawConfig};
        let text = "[site]\ntitle = \"T\"\nbase_url = \"https://feeds.example.org\"\nid_authority = \"feeds.example.org,2026\"\n";
        let raw = RawConfig::parse(text, Path::new("test.toml")).unwrap();
        let overrides = Overrides {
            content: Some(repo.path().to_path_buf()),
            out: Some(out.to_path_buf()),
            listen: Some("127.0.0.1:0".into()),
            base_url: None,
        };
        let cfg = raw.validate(&overrides, repo.path()).unwrap();
        crate::site::Site::build(std::sync::Arc::new(cfg)).unwrap()
    }

    fn site_dates(site: &crate::site::Site, path: &str) -> (Option<Dated>, Option<Dated>) {
        let article = site.index().get(path).unwrap();
        (article.published, article.updated)
    }

    #[test]
    fn the_site_dates_a_rotated_article_when_built_and_after_a_pull() {
        let mut repo = Repo::new();
        repo.write(SLOT, &gnews(740001, "第一篇。"));
        repo.write("gnews/2021/01/740000.md", &gnews(740000, "普通文章。"));
        repo.commit(1);
        repo.write(SLOT, &gnews(740002, "第二篇。"));
        repo.write("gnews/2021/01/740000.md", &gnews(740000, "普通文章，改过。"));
        repo.commit(2);
        let out = tempfile::tempdir().unwrap();
        let mut site = site_for(&repo, out.path());
        assert_eq!(site_dates(&site, SLOT), (by_git(2), by_git(2)));
        assert_eq!(site_dates(&site, "gnews/2021/01/740000.md"), (by_git(1), by_git(2)));

        // A pull: the watcher reports the file before HEAD is read again, then the refresh.
        repo.write(SLOT, &gnews(740003, "第三篇。"));
        repo.commit(3);
        let changes = crate::watch::ChangeSet {
            paths: [repo.path().join(SLOT)].into_iter().collect(),
            ..Default::default()
        };
        site.apply(&changes);
        let interim = site_dates(&site, SLOT).0.unwrap();
        assert_eq!(interim.source, DateSource::Mtime);
        assert!(site.refresh_git());
        assert_eq!(site_dates(&site, SLOT), (by_git(3), by_git(3)));

        // A restart reads the answer from the state file.
        let restarted = site_for(&repo, out.path());
        assert_eq!(site_dates(&restarted, SLOT), (by_git(3), by_git(3)));
    }
}
