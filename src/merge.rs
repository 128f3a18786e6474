//! `cargo multiarch merge`: joins `out/` trees built on different machines (one per
//! architecture, on native runners) into one, after checking each like `verify`.
//! Refuses anything that would make the joined set lie: one path with two hashes,
//! different versions, commits, source dates or schemas, a damaged input, and an
//! incomplete platform set.

use std::collections::BTreeMap;

use anyhow::{Context as _, Result, bail};
use camino::{Utf8Path, Utf8PathBuf};

use crate::manifest::{Artifact, Git, Kind, Manifest};
use crate::platform::Platform;
use crate::record;
use crate::shell::Shell;
use crate::verify;

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Platforms the result must hold; default: the union of the inputs' platforms.
    pub expect: Option<Vec<Platform>>,
}

/// Merges `inputs` into `out`; returns the merged manifest.
pub fn merge(
    inputs: &[Utf8PathBuf],
    out: &Utf8Path,
    opts: &Options,
    shell: &Shell,
) -> Result<Manifest> {
    if inputs.is_empty() {
        bail!("nothing to merge (hint: `cargo multiarch merge out-amd64 out-arm64 --out-dir out`)");
    }
    let out_real = out.canonicalize_utf8().ok();
    let mut manifests = Vec::new();
    for dir in inputs {
        if out_real.is_some() && dir.canonicalize_utf8().ok() == out_real {
            bail!("the output dir `{out}` is also an input (hint: merge into a new directory)");
        }
        let (m, report) = verify::verify(dir, &verify::Options::default())
            .with_context(|| format!("cannot merge `{dir}`"))?;
        if !report.problems.is_empty() {
            bail!(
                "`{dir}` fails verification, so it cannot be merged:\n  {}\n(hint: rebuild it with `cargo multiarch package`)",
                report.problems.join("\n  ")
            );
        }
        if m.artifacts.iter().any(|a| {
            matches!(
                a.kind,
                Kind::OciIndex | Kind::OciManifest | Kind::ImageArchive
            )
        }) {
            shell.note(format!("`{dir}` holds an OCI image; images are not merged (hint: run `cargo multiarch image --out-dir {out}` after merging)"));
        }
        manifests.push((dir.as_path(), m));
    }

    let (first_dir, first) = &manifests[0];
    let mut git: Option<Git> = first.git.clone();
    let mut versions: BTreeMap<String, (String, &Utf8Path)> = BTreeMap::new();
    let mut artifacts: BTreeMap<Utf8PathBuf, (Artifact, &Utf8Path)> = BTreeMap::new();
    let mut platforms: Vec<String> = Vec::new();
    for (dir, m) in &manifests {
        if m.source_date_epoch != first.source_date_epoch {
            bail!(
                "`{dir}` was built with source date {} but `{first_dir}` with {} (hint: build both from the same commit, or set the same `SOURCE_DATE_EPOCH`)",
                m.source_date_epoch,
                first.source_date_epoch
            );
        }
        match (&git, &m.git) {
            (Some(a), Some(b)) if a.commit != b.commit => bail!(
                "`{dir}` was built from commit {} but `{first_dir}` from {} (hint: build every platform from the same commit)",
                b.commit,
                a.commit
            ),
            (Some(a), Some(b)) => {
                git = Some(Git {
                    commit: a.commit.clone(),
                    dirty: a.dirty || b.dirty,
                });
            }
            (None, Some(_)) | (Some(_), None) => bail!(
                "`{dir}` and `{first_dir}` disagree on whether they were built from a git checkout (hint: build every platform from the same checkout)"
            ),
            (None, None) => {}
        }
        if m.tool != first.tool {
            shell.warn(format!(
                "`{dir}` was written by {} {}, `{first_dir}` by {} {}",
                m.tool.name, m.tool.version, first.tool.name, first.tool.version
            ));
        }
        platforms.extend(m.platforms.iter().cloned());
        for a in m
            .artifacts
            .iter()
            .filter(|a| matches!(a.kind, Kind::Binary | Kind::Archive))
        {
            if let (Some(pkg), Some(v)) = (&a.package, &a.version) {
                match versions.get(pkg) {
                    Some((seen, at)) if seen != v => bail!(
                        "package `{pkg}` is version {v} in `{dir}` but {seen} in `{at}` (hint: build every platform from the same commit)"
                    ),
                    Some(_) => {}
                    None => {
                        versions.insert(pkg.clone(), (v.clone(), dir));
                    }
                }
            }
            match artifacts.get(&a.path) {
                Some((seen, at)) if seen.sha256 != a.sha256 => bail!(
                    "`{}` differs between `{at}` (sha256 {}) and `{dir}` (sha256 {}): the same artifact was built twice, differently (hint: build each platform on one machine only)",
                    a.path,
                    seen.sha256,
                    a.sha256
                ),
                Some(_) => {}
                None => {
                    artifacts.insert(a.path.clone(), (a.clone(), dir));
                }
            }
        }
    }
    platforms.sort();
    platforms.dedup();
    let expected: Vec<String> = match &opts.expect {
        Some(list) => list.iter().map(ToString::to_string).collect(),
        None => platforms.clone(),
    };
    let present: Vec<&str> = artifacts
        .values()
        .filter(|(a, _)| a.kind == Kind::Binary)
        .filter_map(|(a, _)| a.platform.as_deref())
        .collect();
    let missing: Vec<&String> = expected
        .iter()
        .filter(|p| !present.contains(&p.as_str()))
        .collect();
    if !missing.is_empty() {
        bail!(
            "the merged set would lack {}: refusing to write an incomplete multi-platform set (hint: add the out dir built for {} to the inputs)",
            missing
                .iter()
                .map(|p| format!("platform `{p}`"))
                .collect::<Vec<_>>()
                .join(", "),
            missing
                .iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }

    // Copy (hard-link when possible) every artifact, the archives' `.sha256` files and the build records.
    for (a, dir) in artifacts.values() {
        place(&dir.join(&a.path), &out.join(&a.path))?;
        if a.kind == Kind::Archive {
            let side = Utf8PathBuf::from(format!("{}.sha256", a.path));
            if dir.join(&side).is_file() {
                place(&dir.join(&side), &out.join(&side))?;
            }
        }
    }
    let mut records: BTreeMap<String, (Vec<u8>, &Utf8Path)> = BTreeMap::new();
    for (dir, _) in &manifests {
        let rdir = dir.join(record::DIR);
        let Ok(entries) = rdir.read_dir_utf8() else {
            continue;
        };
        for e in entries {
            let e = e.with_context(|| format!("cannot read `{rdir}`"))?;
            let name = e.file_name().to_owned();
            let bytes =
                std::fs::read(e.path()).with_context(|| format!("cannot read `{}`", e.path()))?;
            match records.get(&name) {
                Some((seen, at)) if *seen != bytes => bail!(
                    "build record `{name}` differs between `{at}` and `{dir}` (hint: build each platform on one machine only)"
                ),
                Some(_) => {}
                None => {
                    records.insert(name, (bytes, dir));
                }
            }
        }
    }
    for (name, (bytes, _)) in &records {
        let dest = out.join(record::DIR).join(name);
        std::fs::create_dir_all(dest.parent().expect("has parent"))
            .with_context(|| format!("cannot create `{}`", out.join(record::DIR)))?;
        crate::archive::write_atomic(&dest, bytes)?;
    }

    let mut merged = Manifest {
        schema: first.schema.clone(),
        tool: first.tool.clone(),
        source_date_epoch: first.source_date_epoch,
        git,
        platforms: expected,
        artifacts: artifacts.into_values().map(|(a, _)| a).collect(),
    };
    merged.write(out)?;
    Ok(merged)
}

/// Puts `src` at `dest`: a hard link when both are on one file system, else a copy;
/// through a temporary name, so `dest` is either the old file or the whole new one.
fn place(src: &Utf8Path, dest: &Utf8Path) -> Result<()> {
    let dir = dest.parent().expect("artifact path has a parent");
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{dir}`"))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        dest.file_name().unwrap_or("artifact"),
        std::process::id()
    ));
    let _ = std::fs::remove_file(&tmp);
    if std::fs::hard_link(src, &tmp).is_err() {
        std::fs::copy(src, &tmp).with_context(|| format!("cannot copy `{src}` to `{tmp}`"))?;
    }
    std::fs::rename(&tmp, dest).with_context(|| format!("cannot rename `{tmp}` to `{dest}`"))
}
