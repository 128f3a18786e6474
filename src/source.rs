//! Facts about the source tree that outputs record: the date every timestamp is set to
//! (`SOURCE_DATE_EPOCH`, else the last commit's time, else 0) and the git commit.

use std::time::Duration;

use anyhow::{Context as _, Result};
use camino::Utf8Path;

use crate::manifest::Git;
use crate::process::Process;

const LIMIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub date: u64,
    pub git: Option<Git>,
}

impl Source {
    pub fn read(root: &Utf8Path, out_dir: &Utf8Path) -> Result<Self> {
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

/// RFC 3339 UTC for a Unix time (OCI `created`, labels): `2024-02-29T12:00:00Z`.
pub fn rfc3339(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), Howard Hinnant's algorithm.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_709_208_000), "2024-02-29T12:00:00Z");
    }
}
