//! Staging: binaries copied into the out dir and their build record, and the tables a
//! build ends with.

use anyhow::{Context as _, Result, bail};
use camino::Utf8Path;

use super::{Artifact, Backend, Plan, Status, TargetPlan, TargetResult};
use crate::layout;
use crate::outdir::{OutDir, RelPath};
use crate::plan;
use crate::record::{self, BuildRecord, Journal, StagedBinary};
use crate::sbom::graph::Graph;

/// Copies each artifact to `out/<platform>/bin/<name>` and writes the record, as one
/// transaction ([`Journal`]): a kill at any moment leaves the previous staging of this
/// target or the new one, never a mix.
pub(super) fn stage(
    plan: &Plan,
    out: &OutDir,
    t: &TargetPlan,
    backend: Backend,
    (strip, zig): (bool, Option<&str>),
    artifacts: &[Artifact],
    graphs: &[Graph],
) -> Result<BuildRecord> {
    // Each binary and the artifact(s) it is made of: one, or a universal binary's
    // halves in the order of its slices.
    let mut groups: Vec<(&plan::Entry, Vec<&Artifact>)> = Vec::new();
    for e in plan.entries.iter().filter(|e| e.target == t.target) {
        let pkg = plan
            .workspace
            .packages
            .iter()
            .find(|p| p.name == e.package)
            .expect("entries come from packages");
        let mut found = Vec::new();
        for triple in t.target.rustc_triples() {
            let a = artifacts
                .iter()
                .find(|a| a.package_id == pkg.id && a.binary == e.binary && a.triple == triple)
                .with_context(|| format!("no artifact for `{}` ({triple})", e.binary))?;
            found.push(a);
        }
        groups.push((e, found));
    }
    let pairs: Vec<(&plan::Entry, &Artifact)> = groups
        .iter()
        .filter_map(|(e, a)| match a.as_slice() {
            [one] => Some((*e, *one)),
            _ => None,
        })
        .collect();
    if pairs.len() == groups.len()
        && let Some(rec) = already_staged(plan, out, t, backend, (strip, zig), &pairs, graphs)
    {
        return Ok(rec);
    }
    let mut binaries = Vec::new();
    let mut moves = Vec::new();
    for (e, parts) in groups {
        let dest = layout::binary(t.platform, &e.binary)?;
        let (tmp, (sha256, size)) = out.write_temp(&dest, |file| {
            let mut hashing = crate::digest::HashWriter::new(&mut *file);
            if let [a] = parts.as_slice() {
                let mut src = std::fs::File::open(&a.path)
                    .with_context(|| format!("cannot read `{}`", a.path))?;
                std::io::copy(&mut src, &mut hashing)
                    .with_context(|| format!("cannot copy `{}`", a.path))?;
            } else {
                let paths: Vec<_> = parts.iter().map(|a| a.path.clone()).collect();
                crate::binary::fat::write(&paths, &mut hashing).with_context(|| {
                    format!(
                        "cannot join the halves of `{}` into a universal binary",
                        e.binary
                    )
                })?;
            }
            let (_, sha, size) = hashing.into_parts();
            set_executable(file)?;
            Ok((sha, size))
        })?;
        moves.push((tmp, dest.clone()));
        binaries.push(staged_binary(plan, t, e, backend, dest, sha256, size));
    }
    let old = BuildRecord::read(out, &t.target.name(), Some(t.platform))
        .ok()
        .flatten();
    let remove = old
        .into_iter()
        .flat_map(|r| r.binaries)
        .map(|b| b.path)
        .filter(|p| !binaries.iter().any(|b| b.path == *p))
        .collect();
    let rec = record_of(plan, t, backend, (strip, zig), binaries, graphs);
    Journal {
        record: rec,
        moves,
        remove,
    }
    .commit(out)
}

/// The record of `t` when what is staged is already exactly what staging `pairs` would
/// leave (a no-op rebuild): the record's bytes are the new record's, and each staged
/// binary is a regular, executable file with the artifact's bytes (so its hash, hashed
/// here once). Then nothing is written or synced. None whenever anything differs or
/// cannot be read.
/// The build record of `t`'s staged `binaries`.
fn record_of(
    plan: &Plan,
    t: &TargetPlan,
    backend: Backend,
    (strip, zig): (bool, Option<&str>),
    binaries: Vec<StagedBinary>,
    graphs: &[Graph],
) -> BuildRecord {
    BuildRecord {
        schema: record::SCHEMA.to_owned(),
        target: t.target.name(),
        platform: t.platform,
        backend: backend.to_string(),
        profile: plan.profile.clone(),
        binaries,
        dependencies: graphs.to_vec(),
        features: plan.workspace.feature_flags.clone(),
        strip,
        zig: zig.map(str::to_owned),
    }
}

/// What the build record says of one staged binary.
fn staged_binary(
    plan: &Plan,
    t: &TargetPlan,
    e: &plan::Entry,
    backend: Backend,
    path: RelPath,
    sha256: crate::digest::Sha256,
    size: u64,
) -> StagedBinary {
    StagedBinary {
        package: e.package.clone(),
        version: e.version.clone(),
        binary: e.binary.clone(),
        target: t.target.name(),
        platform: t.platform,
        backend: backend.to_string(),
        profile: plan.profile.clone(),
        path,
        sha256,
        size,
    }
}

fn already_staged(
    plan: &Plan,
    out: &OutDir,
    t: &TargetPlan,
    backend: Backend,
    (strip, zig): (bool, Option<&str>),
    pairs: &[(&plan::Entry, &Artifact)],
    graphs: &[Graph],
) -> Option<BuildRecord> {
    let name = t.target.name();
    let old_bytes = out.read(&layout::record(&name), 16 << 20).ok()?;
    let old = BuildRecord::parse(&old_bytes, &name, Some(t.platform)).ok()?;
    // Cheap first: the same binaries at the same sizes.
    if old.binaries.len() != pairs.len()
        || old
            .binaries
            .iter()
            .zip(pairs)
            .any(|(b, (_, a))| a.path.metadata().map(|m| m.len()).ok() != Some(b.size))
    {
        return None;
    }
    // Each artifact hashed once and compared with its staged copy, one thread each.
    let hashes: Vec<Option<(crate::digest::Sha256, u64)>> = std::thread::scope(|s| {
        let handles: Vec<_> = pairs
            .iter()
            .map(|(e, a)| {
                s.spawn(|| {
                    let dest = layout::binary(t.platform, &e.binary).ok()?;
                    let staged = out.open(&dest).ok()?;
                    if !is_executable(&staged) {
                        return None;
                    }
                    let src = crate::fs::open_regular(&a.path).ok()?;
                    hash_if_same(src, staged)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().ok().flatten())
            .collect()
    });
    let mut binaries = Vec::new();
    for ((e, _), hash) in pairs.iter().zip(hashes) {
        let (sha256, size) = hash?;
        let path = layout::binary(t.platform, &e.binary).ok()?;
        binaries.push(staged_binary(plan, t, e, backend, path, sha256, size));
    }
    let rec = record_of(plan, t, backend, (strip, zig), binaries, graphs);
    if old_bytes != serde_json::to_vec_pretty(&rec).expect("records serialise") {
        return None;
    }
    Some(rec)
}

/// The sha256 and size of `src` when `staged` holds exactly the same bytes.
fn hash_if_same(
    mut src: std::fs::File,
    mut staged: std::fs::File,
) -> Option<(crate::digest::Sha256, u64)> {
    use sha2::Digest as _;
    use std::io::Read as _;
    let mut hasher = sha2::Sha256::new();
    let (mut a, mut b) = (vec![0u8; 1 << 16], vec![0u8; 1 << 16]);
    let mut size = 0u64;
    loop {
        let n = src.read(&mut a).ok()?;
        staged.read_exact(&mut b[..n]).ok()?;
        if a[..n] != b[..n] {
            return None;
        }
        if n == 0 {
            // Both at their end: the staged copy may not be longer.
            return (staged.read(&mut b[..1]).ok()? == 0)
                .then(|| (crate::digest::Sha256::from_hasher(hasher), size));
        }
        hasher.update(&a[..n]);
        size += n as u64;
    }
}

#[cfg(unix)]
fn is_executable(f: &std::fs::File) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    f.metadata()
        .is_ok_and(|m| m.permissions().mode() & 0o7777 == 0o755)
}

#[cfg(not(unix))]
fn is_executable(_: &std::fs::File) -> bool {
    true
}

#[cfg(unix)]
fn set_executable(f: &std::fs::File) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    f.set_permissions(std::fs::Permissions::from_mode(0o755))
        .context("cannot make the staged binary executable")
}

#[cfg(not(unix))]
fn set_executable(_: &std::fs::File) -> Result<()> {
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
                b.platform.to_string(),
                b.backend.clone(),
                crate::output::human_size(b.size),
            ]);
        }
    }
    plan::table(&rows)
}

/// The build records of the plan's targets, each holding every planned binary;
/// `hint` says how to make a missing one.
pub(crate) fn staged_records(plan: &Plan, out: &OutDir, hint: &str) -> Result<Vec<BuildRecord>> {
    let mut result = Vec::new();
    for t in &plan.targets {
        let Some(r) = BuildRecord::read(out, &t.target.name(), Some(t.platform))? else {
            bail!(
                "no build record for `{}` in `{}` (hint: {hint})",
                t.target,
                out.display(&layout::record(&t.target.name()))
            );
        };
        for e in plan.entries.iter().filter(|e| e.target == t.target) {
            if !r
                .binaries
                .iter()
                .any(|b| b.binary == e.binary && b.package == e.package)
            {
                bail!(
                    "the build record for `{}` has no `{}` (hint: run `cargo multiarch build` with the same selection first)",
                    t.target,
                    e.binary
                );
            }
        }
        let mut r = r;
        r.binaries.retain(|b| {
            plan.entries
                .iter()
                .any(|e| e.target == t.target && e.binary == b.binary && e.package == b.package)
        });
        result.push(r);
    }
    Ok(result)
}
