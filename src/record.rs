//! Build records: `out/.multiarch/<target>.json`, what `build` staged for one target.
//! `package --no-build` and `image` read these instead of cargo's target dir.
//!
//! A record is untrusted input when read back: every field is parsed into a type that
//! cannot hold a bad value, and each binary's path must be exactly the one its
//! platform and name give (`linux/arm64/bin/alpha`), so a record can neither point
//! outside the out dir nor at another platform's files.
//!
//! Staging is a small transaction, so a kill at any moment leaves the previous complete
//! state or the new one: new binaries are written to temporary names, a journal
//! (`<target>.json.pending`) lists the renames, then the renames happen, the record is
//! written and the journal removed. A run that finds a journal (under the out dir's
//! lock, so its writer is dead) finishes it: [`recover`], which first hashes each
//! temporary file against the journal, so only the bytes the journal names are ever
//! renamed into place.

use anyhow::{Context as _, Result, bail};
use camino::Utf8Path;
use serde::{Deserialize, Serialize};

use crate::digest::Sha256;
use crate::layout;
use crate::manifest::plain_text;
use crate::outdir::{Kind, Lock, LockMode, OutDir, RelPath};
use crate::output::{FileEvent, Shell};
use crate::platform::{Platform, TargetName};
use crate::sbom::graph::Graph;

pub const SCHEMA: &str = "cargo-multiarch/build-record/v1";
/// The largest record read back (a real one is well under a KiB per binary).
const MAX_BYTES: u64 = crate::limits::MAX_RECORD_BYTES;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildRecord {
    pub schema: String,
    pub target: TargetName,
    pub platform: Platform,
    pub backend: String,
    pub profile: String,
    pub binaries: Vec<StagedBinary>,
    /// The crates compiled into each package's binaries on this target (see
    /// [`crate::deps`]), one graph per package; what `package` writes SBOMs from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<Graph>,
    /// The feature flags cargo was given (`--features=a,b`, `--all-features`,
    /// `--no-default-features`): what the provenance says the binaries were built with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
    /// Built with `--strip`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub strip: bool,
    /// `zig version` of the zig that compiled and linked the target (zig backends).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zig: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StagedBinary {
    pub package: String,
    pub version: String,
    pub binary: String,
    pub target: TargetName,
    pub platform: Platform,
    pub backend: String,
    pub profile: String,
    /// Relative to the out dir: `linux/arm64/bin/alpha`.
    pub path: RelPath,
    pub sha256: Sha256,
    pub size: u64,
}

impl StagedBinary {
    /// This binary as an event (`artifact`): `elapsed` is the time of the cargo call
    /// that built it, when this run did.
    pub fn event(&self, out: &OutDir, elapsed: Option<std::time::Duration>) -> FileEvent {
        FileEvent {
            out_dir: out.root().to_string(),
            kind: layout::Kind::Binary,
            path: self.path.to_string(),
            sha256: self.sha256.to_string(),
            size: self.size,
            platform: Some(self.platform.to_string()),
            target: Some(self.target.to_string()),
            package: Some(self.package.clone()),
            version: Some(self.version.clone()),
            binary: Some(self.binary.clone()),
            binaries: Vec::new(),
            backend: Some(self.backend.clone()),
            elapsed_ms: elapsed.map(crate::output::millis),
        }
    }
}

/// Takes `out`'s lock ([`layout::LOCK`]), saying so when it has to wait for another run.
pub fn lock(out: &OutDir, mode: LockMode, shell: &Shell) -> Result<Lock> {
    out.lock(&layout::lock(), mode, |dir| {
        shell.status("Blocking", format!("waiting for lock on out dir `{dir}`"));
    })
}

/// Opens an out dir for a command that writes it: created when missing, locked
/// (waiting for another run unless `no_wait`), an interrupted staging finished, and
/// temporary files of dead runs removed.
pub fn open_for_writing(dir: &Utf8Path, no_wait: bool, shell: &Shell) -> Result<(OutDir, Lock)> {
    let out = OutDir::create(dir)?;
    let lock = lock(&out, LockMode::Exclusive { no_wait }, shell)?;
    recover(&out, shell)?;
    let n = out.sweep_temps()?;
    if n > 0 {
        shell.note(format!(
            "removed {n} temporary file(s) left in `{}` by an interrupted run",
            out.shown()
        ));
    }
    Ok((out, lock))
}

impl BuildRecord {
    /// The record of `target`, checked (filed under `platform`, when given); None
    /// when there is none.
    pub fn read(
        out: &OutDir,
        target: &TargetName,
        platform: Option<Platform>,
    ) -> Result<Option<Self>> {
        let rel = layout::record(target);
        if out.kind(&rel)?.is_none() {
            return Ok(None);
        }
        let bytes = out.read(&rel, MAX_BYTES)?;
        let r = Self::parse(&bytes, target, platform).with_context(|| {
            format!(
                "`{}` is not a valid build record (hint: run `cargo multiarch build` again)",
                out.display(&rel)
            )
        })?;
        Ok(Some(r))
    }

    /// Parses a record that must be `target`'s (filed under `platform`, when given),
    /// checking every field.
    pub fn parse(bytes: &[u8], target: &TargetName, platform: Option<Platform>) -> Result<Self> {
        let r: Self = serde_json::from_slice(bytes)?;
        r.check(target, platform)?;
        Ok(r)
    }

    fn check(&self, target: &TargetName, platform: Option<Platform>) -> Result<()> {
        if self.schema != SCHEMA {
            bail!(
                "it has schema `{}`, this cargo-multiarch reads `{SCHEMA}`",
                self.schema.escape_debug()
            );
        }
        if self.target != *target {
            bail!("it is the record of `{}`, not `{target}`", self.target);
        }
        if let Some(p) = platform
            && self.platform != p
        {
            bail!(
                "it files `{target}` under platform `{}`, but `{target}` is `{p}`",
                self.platform
            );
        }
        plain_text("backend", &self.backend)?;
        plain_text("profile", &self.profile)?;
        if let Some(z) = &self.zig {
            plain_text("zig", z)?;
        }
        for f in &self.features {
            plain_text("features", f)?;
            if !(f == "--all-features"
                || f == "--no-default-features"
                || f.starts_with("--features="))
            {
                bail!(
                    "`features` holds `{}`, which is not a feature flag",
                    f.escape_debug()
                );
            }
        }
        for b in &self.binaries {
            plain_text("package", &b.package)?;
            plain_text("version", &b.version)?;
            plain_text("binary", &b.binary)?;
            plain_text("backend", &b.backend)?;
            plain_text("profile", &b.profile)?;
            if b.target != self.target || b.platform != self.platform {
                bail!(
                    "binary `{}` is recorded for `{}` ({}) in the record of `{}`",
                    b.binary,
                    b.target,
                    b.platform,
                    self.target
                );
            }
            let want = layout::binary(b.platform, &b.binary)?;
            if b.path != want {
                bail!(
                    "binary `{}` has path `{}`; a `{}` binary is staged at `{want}`",
                    b.binary,
                    b.path,
                    b.target
                );
            }
        }
        for (i, g) in self.dependencies.iter().enumerate() {
            g.check()
                .with_context(|| format!("the dependency graph of `{}`", g.package))?;
            if self.dependencies[..i]
                .iter()
                .any(|o| o.package == g.package)
            {
                bail!("it has two dependency graphs of `{}`", g.package);
            }
        }
        Ok(())
    }

    pub fn write(&self, out: &OutDir) -> Result<()> {
        let json = serde_json::to_vec_pretty(self).expect("records serialise");
        out.write(&layout::record(&self.target), &json)
    }

    /// Every valid record in `out` for a known target, sorted by target. Invalid ones
    /// are errors; files that are not records of a known target are left alone.
    pub fn read_all(out: &OutDir) -> Result<Vec<Self>> {
        let dir = layout::state_dir();
        let mut records = Vec::new();
        for (child, kind) in out.list(Some(&dir))? {
            let Some(stem) = child.file_name().strip_suffix(".json") else {
                continue;
            };
            let Ok(target) = TargetName::new(stem) else {
                continue;
            };
            if kind != Kind::File {
                bail!(
                    "`{}` is {kind:?}, not a regular file (hint: remove it)",
                    out.display(&child)
                );
            }
            records.extend(Self::read(out, &target, None)?);
        }
        records.sort_by(|a, b| a.target.cmp(&b.target));
        Ok(records)
    }

    /// Withdraws `target`: its record first (so nothing passes for fresh), then the
    /// binaries it listed and the ones `also` names.
    pub fn withdraw(out: &OutDir, target: &TargetName, also: &[RelPath]) -> Result<()> {
        let old = Self::read(out, target, None).ok().flatten();
        out.remove(&layout::record(target))?;
        for b in old.iter().flat_map(|r| &r.binaries) {
            out.remove(&b.path)?;
        }
        for p in also {
            out.remove(p)?;
        }
        Ok(())
    }
}

/// A staging in progress: written before the renames, removed after the record.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Journal {
    pub record: BuildRecord,
    /// (temporary file, destination), in the binaries' directory.
    pub moves: Vec<(RelPath, RelPath)>,
    /// Binaries of the previous record that the new one does not have.
    pub remove: Vec<RelPath>,
}

impl Journal {
    /// Commits a staging whose binaries are written (synced) at temporary names.
    pub fn commit(self, out: &OutDir) -> Result<BuildRecord> {
        let json = serde_json::to_vec_pretty(&self).expect("journals serialise");
        let target = self.record.target.clone();
        out.write(&layout::journal(&target), &json)?;
        self.apply(out)?;
        Ok(self.record)
    }

    fn apply(&self, out: &OutDir) -> Result<()> {
        for (tmp, dest) in &self.moves {
            if out.kind(tmp)?.is_some() {
                out.rename(tmp, dest)?;
            }
        }
        self.record.write(out)?;
        for p in &self.remove {
            out.remove(p)?;
        }
        out.remove(&layout::journal(&self.record.target))
    }

    /// Checks a journal read back: its record, and moves that stay beside their
    /// destinations and land exactly on the record's binaries.
    fn parse(bytes: &[u8], target: &TargetName) -> Result<Self> {
        let j: Self = serde_json::from_slice(bytes)?;
        j.record.check(target, None)?;
        if j.moves.len() != j.record.binaries.len() {
            bail!(
                "it moves {} files for {} binaries",
                j.moves.len(),
                j.record.binaries.len()
            );
        }
        for ((tmp, dest), b) in j.moves.iter().zip(&j.record.binaries) {
            if *dest != b.path || tmp.parent() != dest.parent() {
                bail!("it moves `{tmp}` to `{dest}`, not to a binary of its record");
            }
            // Only a temporary file of ours is moved (or removed): never another binary.
            if !crate::fs::is_temp(tmp.file_name()) {
                bail!("it moves `{tmp}`, which is not a temporary file");
            }
        }
        let bin_dir = layout::bin_dir(j.record.platform);
        if let Some(p) = j
            .remove
            .iter()
            .find(|p| p.parent().as_ref() != Some(&bin_dir))
        {
            bail!(
                "it removes `{p}`, which is not a `{}` binary",
                j.record.platform
            );
        }
        Ok(j)
    }
}

/// How far an interrupted staging got, judged by its files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Progress {
    /// Every binary is there with the journal's hash and size: at its temporary name,
    /// or already renamed into place.
    Complete,
    /// Nothing was renamed yet (every temporary file is there), but a temporary file
    /// is not what the journal says: the previous staging is still whole.
    Untouched,
    /// Neither: some binaries are missing or wrong and some were renamed.
    Broken,
}

impl Journal {
    fn progress(&self, out: &OutDir) -> Progress {
        let matches = |rel: &RelPath, b: &StagedBinary| {
            out.hash(rel)
                .is_ok_and(|(sha, size)| sha == b.sha256 && size == b.size)
        };
        let present = |tmp: &RelPath| out.kind(tmp).ok().flatten() == Some(Kind::File);
        let pairs = || self.moves.iter().zip(&self.record.binaries);
        if pairs().all(|((tmp, dest), b)| {
            if present(tmp) {
                matches(tmp, b)
            } else {
                matches(dest, b)
            }
        }) {
            Progress::Complete
        } else if pairs().all(|((tmp, _), _)| present(tmp)) {
            Progress::Untouched
        } else {
            Progress::Broken
        }
    }
}

/// Finishes every staging a killed run left when each of its files is what its journal
/// says (hashed, size and sha256); otherwise drops it: when nothing was renamed yet,
/// the previous staging stays; else the target's record is withdrawn. Call with the
/// out dir's exclusive lock held.
pub fn recover(out: &OutDir, shell: &Shell) -> Result<()> {
    let dir = layout::state_dir();
    for (child, _) in out.list(Some(&dir))? {
        let Some(stem) = layout::journal_target(child.file_name()) else {
            continue;
        };
        let target = TargetName::new(stem).ok();
        let journal = match &target {
            Some(t) => out
                .read(&child, MAX_BYTES)
                .and_then(|b| Journal::parse(&b, t)),
            None => Err(anyhow::anyhow!("`{stem}` is not a known target")),
        };
        let progress = journal
            .as_ref()
            .map_or(Progress::Broken, |j| j.progress(out));
        match journal {
            Ok(j) if progress == Progress::Complete => {
                j.apply(out)?;
                shell.note(format!(
                    "finished staging `{}` that an interrupted run had begun",
                    j.record.target
                ));
            }
            Ok(j) if progress == Progress::Untouched => {
                for (tmp, _) in &j.moves {
                    out.remove(tmp)?;
                }
                out.remove(&child)?;
                shell.warn(format!(
                    "removed `{}`: an interrupted staging whose temporary files do not match its sha256 and sizes; the previous staging is kept (hint: run `cargo multiarch build` again)",
                    out.display(&child)
                ));
            }
            _ => {
                // Someone else's file, or a staging whose files are gone or wrong: drop
                // it, and the record of that target with it, so nothing half-staged
                // passes for fresh.
                if let (Ok(j), Some(t)) = (&journal, &target) {
                    for (tmp, _) in &j.moves {
                        out.remove(tmp)?;
                    }
                    BuildRecord::withdraw(out, t, &[])?;
                }
                out.remove(&child)?;
                shell.warn(format!(
                    "removed `{}`: an interrupted staging that cannot be finished (hint: run `cargo multiarch build` again)",
                    out.display(&child)
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod props;
