//! Dates from git history and mtime.
use crate::article::Article;
use std::path::Path;
use std::time::SystemTime;
pub struct GitDates;
impl GitDates {
    pub fn load(_root: &Path) -> Result<Option<GitDates>, std::io::Error> {
        Ok(None)
    }
}
pub fn resolve(_article: &mut Article, _git: Option<&GitDates>, _mtime: Option<SystemTime>) {}
