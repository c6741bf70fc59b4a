//! Watch: filesystem events → normalised change sets.

use std::collections::BTreeSet;
use std::path::PathBuf;

/// What changed since the last change set.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ChangeSet {
    pub paths: BTreeSet<PathBuf>,
    pub rescan: bool,
}
