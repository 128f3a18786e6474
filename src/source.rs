//! Facts about the source tree that outputs record: the date every timestamp is set to
//! (`SOURCE_DATE_EPOCH`, else the last commit's time, else 0) and the git commit.

use std::time::Duration;

use anyhow::{Context as _, Result};
use camino::Utf8Path;

use crate::manifest::Git;
use crate::process::Process;

const LIMIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Source {
    pub date: u64,
    pub git: Option<Git>,
}

impl Source {
    pub(crate) fn read(root: &Utf8Path, out_dir: &Utf8Path) -> Result<Self> {
        let git = git(root, out_dir);
        let date = match std::env::var("SOURCE_DATE_EPOCH") {
            Ok(v) if !v.trim().is_empty() => v.trim().parse().with_context(|| {
                format!("`SOURCE_DATE_EPOCH` is `{v}`, not a number of seconds (hint: `export SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)`)")
            })?,
            _ => git
                .as_ref()
                .and_then(|_| Process::new("git").args(["log", "-1", "--format=%ct"]).cwd(root.to_owned()).probe_stdout(LIMIT))
                .and_then(|s| s.parse().ok())
                .unwrap_or(0),
        };
        Ok(Self { date, git })
    }
}

/// The commit checked out at `root`, and whether tracked files differ from it (the out
/// dir itself does not count).
fn git(root: &Utf8Path, out_dir: &Utf8Path) -> Option<Git> {
    let commit = Process::new("git")
        .args(["rev-parse", "--verify", "HEAD"])
        .cwd(root.to_owned())
        .probe_stdout(LIMIT)?;
    let mut status = Process::new("git")
        .args(["status", "--porcelain", "--untracked-files=no", "--", "."])
        .cwd(root.to_owned());
    if let Ok(rel) = out_dir.strip_prefix(root)
        && !rel.as_str().is_empty()
    {
        status = status.arg(format!(":(exclude){rel}"));
    }
    let dirty = status.probe_stdout(LIMIT).is_some_and(|s| !s.is_empty());
    Some(Git { commit, dirty })
}
