//! Staging: binaries copied into the out dir and their build record, and the tables a
//! build ends with.

use anyhow::{Context as _, Result};
use camino::Utf8Path;

use super::{Artifact, Backend, Plan, Status, TargetPlan, TargetResult};
use crate::plan;
use crate::record::{self, BuildRecord, StagedBinary};

/// Copies each artifact to `out/<platform>/bin/<name>` (temp name, then rename) and writes the record.
pub(super) fn stage(
    plan: &Plan,
    t: &TargetPlan,
    backend: Backend,
    artifacts: &[Artifact],
) -> Result<BuildRecord> {
    let mut binaries = Vec::new();
    for e in plan.entries.iter().filter(|e| e.target == t.target) {
        let pkg = plan
            .workspace
            .packages
            .iter()
            .find(|p| p.name == e.package)
            .expect("entries come from packages");
        let a = artifacts
            .iter()
            .find(|a| a.package_id == pkg.id && a.binary == e.binary)
            .with_context(|| format!("no artifact for `{}` ({})", e.binary, t.target))?;
        let dest = plan.out_dir.join(&e.outputs.binary);
        let dir = dest.parent().expect("binary path has a parent");
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{dir}`"))?;
        let tmp = dir.join(format!(".{}.tmp-{}", e.binary, std::process::id()));
        std::fs::copy(&a.path, &tmp)
            .with_context(|| format!("cannot copy `{}` to `{tmp}`", a.path))?;
        set_executable(&tmp)?;
        std::fs::rename(&tmp, &dest)
            .with_context(|| format!("cannot rename `{tmp}` to `{dest}`"))?;
        let (sha256, size) = crate::archive::sha256_file(&dest)?;
        binaries.push(StagedBinary {
            package: e.package.clone(),
            version: e.version.clone(),
            binary: e.binary.clone(),
            target: t.target.to_string(),
            platform: t.platform.to_string(),
            backend: backend.to_string(),
            profile: plan.profile.clone(),
            path: e.outputs.binary.clone(),
            sha256,
            size,
        });
    }
    let rec = BuildRecord {
        schema: record::SCHEMA.to_owned(),
        target: t.target.to_string(),
        platform: t.platform.to_string(),
        backend: backend.to_string(),
        profile: plan.profile.clone(),
        binaries,
    };
    rec.write(&plan.out_dir)?;
    Ok(rec)
}

#[cfg(unix)]
fn set_executable(p: &Utf8Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot chmod `{p}`"))
}

#[cfg(not(unix))]
fn set_executable(_: &Utf8Path) -> Result<()> {
    Ok(())
}

pub(super) fn summary(results: &[TargetResult]) -> String {
    let mut rows = vec![vec![
        "TARGET".to_owned(),
        "PLATFORM".into(),
        "BACKEND".into(),
        "STATUS".into(),
        "FIRST ERROR".into(),
    ]];
    for r in results {
        let (status, err) = match &r.status {
            Status::Staged(_) => ("ok", String::new()),
            Status::NotStaged => ("built, not staged", "another target failed".to_owned()),
            Status::Failed { first_error } => ("FAILED", first_error.clone()),
        };
        rows.push(vec![
            r.target.clone(),
            r.platform.clone(),
            r.backend.map_or("none", Backend::as_str).to_owned(),
            status.to_owned(),
            err,
        ]);
    }
    plan::table(&rows)
}

pub(super) fn staged_table(records: &[BuildRecord], out_dir: &Utf8Path, root: &Utf8Path) -> String {
    let rel = plan::display_dir(out_dir, root);
    let mut rows = vec![vec![
        "STAGED".to_owned(),
        "PLATFORM".into(),
        "BACKEND".into(),
        "SIZE".into(),
    ]];
    for r in records {
        for b in &r.binaries {
            rows.push(vec![
                format!("{rel}/{}", b.path),
                b.platform.clone(),
                b.backend.clone(),
                human_size(b.size),
            ]);
        }
    }
    plan::table(&rows)
}

pub fn human_size(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / f64::from(1 << 20))
    } else if n >= 1 << 10 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{n} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_human() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(3 * 1024 * 1024 + 1024 * 512), "3.5 MiB");
    }
}
