//! SBOMs in the release: each beside an archive of the manifest, and with
//! `--expect-sbom` present for every archive and read: its components are the crates
//! of the dependency graphs `build` recorded for that archive's binaries.

use anyhow::{Result, bail};

use crate::layout::{self, Kind};
use crate::manifest::{Artifact, Manifest};
use crate::outdir::OutDir;
use crate::record::BuildRecord;
use crate::sbom::{self, graph};

/// The largest SBOM read (a workspace with a thousand crates writes about 2 MiB).
const MAX_BYTES: u64 = crate::limits::MAX_SBOM_BYTES;

/// Each SBOM sits beside an archive of the manifest and is listed for the same
/// package, version, target and platform; with `expect`, every archive has one, and
/// each SBOM lists exactly the crates of the build record's graphs for its binaries.
pub(super) fn check(
    out: &OutDir,
    m: &Manifest,
    passed: &[&Artifact],
    expect: bool,
    problems: &mut Vec<String>,
) {
    let archives: Vec<&Artifact> = m
        .artifacts
        .iter()
        .filter(|a| a.kind == Kind::Archive)
        .collect();
    let sboms: Vec<&Artifact> = m
        .artifacts
        .iter()
        .filter(|a| a.kind == Kind::Sbom)
        .collect();
    let describes = |sbom: &Artifact, archive: &Artifact| {
        [sbom::Format::CycloneDx, sbom::Format::Spdx]
            .into_iter()
            .any(|f| sbom::path(&archive.path, f) == sbom.path)
    };
    for s in &sboms {
        match archives.iter().find(|a| describes(s, a)) {
            None => problems.push(format!(
                "{}: an SBOM of no archive this manifest lists (hint: re-run `cargo multiarch package`)",
                s.path
            )),
            Some(a)
                if (&a.target, a.platform, &a.package, &a.version)
                    != (&s.target, s.platform, &s.package, &s.version) =>
            {
                problems.push(format!(
                    "{}: the manifest lists it for another package, version or target than `{}`",
                    s.path, a.path
                ));
            }
            // Only an SBOM whose hash checked out is read (a failed one is reported).
            Some(a) if expect && passed.iter().any(|p| p.path == s.path) => {
                if let Err(e) = check_components(out, s, a, problems) {
                    problems.push(format!("{}: {e:#}", s.path));
                }
            }
            Some(_) => {}
        }
    }
    if expect {
        for a in &archives {
            if !sboms.iter().any(|s| describes(s, a)) {
                problems.push(format!(
                    "{}: has no SBOM (`{}` or `{}` listed in the manifest) (hint: run `cargo multiarch package` without `--no-sbom`)",
                    a.path,
                    sbom::path(&a.path, sbom::Format::CycloneDx).file_name(),
                    sbom::path(&a.path, sbom::Format::Spdx).file_name()
                ));
            }
        }
    }
}

/// The SBOM `s` (whose hash checked out) of archive `a` lists what the build record of
/// `a`'s target says its binaries are made of. Problems are pushed; an error is one
/// that stops the comparison.
fn check_components(
    out: &OutDir,
    s: &Artifact,
    a: &Artifact,
    problems: &mut Vec<String>,
) -> Result<()> {
    let format = if s.path.as_str().ends_with(layout::SPDX_SUFFIX) {
        sbom::Format::Spdx
    } else {
        sbom::Format::CycloneDx
    };
    let described = sbom::read::parse(&s.read_checked(out, MAX_BYTES)?, format)?;
    let Some(target) = &a.target else {
        bail!("its archive `{}` is listed with no target", a.path);
    };
    let Some(record) = BuildRecord::read(out, target, a.platform)? else {
        bail!(
            "there is no build record of `{target}` (`{}`) to check its crates against (hint: verify the out dir `package` or `merge` wrote, which keeps `{}`)",
            layout::record(target),
            layout::STATE_DIR
        );
    };
    let mut graphs: Vec<&graph::Graph> = Vec::new();
    for binary in a.contents.iter().filter_map(|c| c.binary.as_deref()) {
        let Some(b) = record.binaries.iter().find(|b| b.binary == binary) else {
            bail!(
                "the build record of `{target}` has no binary `{binary}`, which `{}` holds (hint: run `cargo multiarch package` again)",
                a.path
            );
        };
        if graphs.iter().any(|g| g.package == b.package) {
            continue;
        }
        let Some(g) = record.dependencies.iter().find(|g| g.package == b.package) else {
            bail!(
                "the build record of `{target}` has no dependency graph of `{}` (hint: run `cargo multiarch build` again)",
                b.package
            );
        };
        graphs.push(g);
    }
    let crates = graph::union(&graphs);
    for p in sbom::read::compare(&described, a.path.file_name(), target.as_str(), &crates) {
        problems.push(format!(
            "{}: {p} (hint: run `cargo multiarch package` again to write it from the build record)",
            s.path
        ));
    }
    Ok(())
}
