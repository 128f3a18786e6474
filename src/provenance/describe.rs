//! Making the predicate: from the build records and what this machine has (`package`,
//! or `image` when no `package` ran), or from the inputs' predicates (`merge`).

use std::collections::BTreeMap;

use anyhow::{Context as _, Result, bail};
use camino::Utf8Path;

use super::{
    BUILD_TYPE, BUILDER_ID, Build, BuildDefinition, Builder, External, Internal, Predicate,
    Resource, RunDetails, TargetBackend,
};
use crate::digest::Sha256;
use crate::manifest::Git;
use crate::record::BuildRecord;

/// How `package` wrote the archives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageParams {
    /// `per-package` or `per-target`.
    pub archive: &'static str,
    pub compression: u32,
}

/// The compilers found on this machine, recorded as resolved dependencies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Toolchain {
    /// `rustc -vV`'s first line: `rustc 1.89.0 (29483883e 2025-08-04)`.
    pub rustc: Option<String>,
    /// rustc's host triple.
    pub host: String,
    /// `zig version` of the zig that built a target, as its build record says.
    pub zig: Option<String>,
}

impl Toolchain {
    /// rustc's version from this machine; zig's from the build records (`build`
    /// recorded the zig that built a zig target, so packaging never looks for zig).
    pub fn new(rustc_version: Option<&str>, host: &str, records: &[BuildRecord]) -> Self {
        Self {
            rustc: rustc_version.map(str::to_owned),
            host: host.to_owned(),
            zig: records.iter().find_map(|r| r.zig.clone()),
        }
    }
}

/// The digest of the workspace's `Cargo.lock`, None when it has none.
pub fn cargo_lock(root: &Utf8Path) -> Result<Option<Sha256>> {
    let path = root.join("Cargo.lock");
    match std::fs::read(&path) {
        Ok(bytes) => Ok(Some(Sha256::of(&bytes))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read `{path}`")),
    }
}

/// The predicate of binaries built as `records` say, packaged with `package` (None
/// when no archives were written), from the source at `git` (dated `date`) with
/// `Cargo.lock` digest `lock`, by `toolchain`.
pub fn describe(
    records: &[BuildRecord],
    package: Option<&PackageParams>,
    date: u64,
    git: Option<&Git>,
    lock: Option<Sha256>,
    toolchain: &Toolchain,
) -> Predicate {
    let builds = fold(records.iter().map(|r| build_of(r, package)).collect());
    let mut targets: Vec<TargetBackend> = records
        .iter()
        .map(|r| TargetBackend {
            target: r.target.clone(),
            platform: r.platform,
            backend: r.backend.clone(),
        })
        .collect();
    targets.sort();
    let mut deps = Vec::new();
    if let Some(g) = git {
        deps.push(Resource {
            name: "git".to_owned(),
            uri: None,
            digest: [("gitCommit".to_owned(), g.commit.clone())].into(),
            annotations: [("dirty".to_owned(), g.dirty.to_string())].into(),
        });
    }
    if let Some(sha) = lock {
        deps.push(Resource {
            name: "Cargo.lock".to_owned(),
            uri: None,
            digest: [("sha256".to_owned(), sha.to_string())].into(),
            annotations: BTreeMap::new(),
        });
    }
    if let Some(line) = &toolchain.rustc
        && let Some(version) = purl_version(line.split_whitespace().nth(1))
    {
        deps.push(Resource {
            name: "rustc".to_owned(),
            uri: Some(format!("pkg:generic/rustc@{version}")),
            digest: BTreeMap::new(),
            annotations: [
                ("host".to_owned(), toolchain.host.clone()),
                ("version".to_owned(), line.clone()),
            ]
            .into(),
        });
    }
    if let Some(version) = purl_version(toolchain.zig.as_deref()) {
        deps.push(Resource {
            name: "zig".to_owned(),
            uri: Some(format!("pkg:generic/zig@{version}")),
            digest: BTreeMap::new(),
            annotations: BTreeMap::new(),
        });
    }
    deps.sort();
    deps.dedup();
    Predicate {
        build_definition: BuildDefinition {
            build_type: BUILD_TYPE.to_owned(),
            external_parameters: External {
                builds,
                image: None,
            },
            internal_parameters: Internal {
                source_date_epoch: date,
                targets,
            },
            resolved_dependencies: deps,
        },
        run_details: run_details(),
    }
}

/// One predicate for the out dirs `merge` joins: their builds folded together, their
/// targets and dependencies united; no image (images are not merged). Refuses inputs
/// whose source dates differ or that built one target with different backends.
pub fn combine(inputs: &[&Predicate]) -> Result<Predicate> {
    let Some(first) = inputs.first() else {
        bail!("no provenance to combine");
    };
    let date = first.build_definition.internal_parameters.source_date_epoch;
    let mut builds = Vec::new();
    let mut targets: Vec<TargetBackend> = Vec::new();
    let mut deps = Vec::new();
    for p in inputs {
        let d = &p.build_definition;
        if d.internal_parameters.source_date_epoch != date {
            bail!(
                "the inputs' provenance have source dates {} and {date} (hint: build every platform from the same commit, or with the same `SOURCE_DATE_EPOCH`)",
                d.internal_parameters.source_date_epoch
            );
        }
        builds.extend(d.external_parameters.builds.iter().cloned());
        for t in &d.internal_parameters.targets {
            match targets.iter().find(|seen| seen.target == t.target) {
                Some(seen) if seen != t => bail!(
                    "the inputs' provenance say `{}` was built with `{}` and with `{}` (hint: build each platform on one machine only)",
                    t.target,
                    seen.backend,
                    t.backend
                ),
                Some(_) => {}
                None => targets.push(t.clone()),
            }
        }
        deps.extend(d.resolved_dependencies.iter().cloned());
    }
    targets.sort();
    deps.sort();
    deps.dedup();
    Ok(Predicate {
        build_definition: BuildDefinition {
            build_type: BUILD_TYPE.to_owned(),
            external_parameters: External {
                builds: fold(builds),
                image: None,
            },
            internal_parameters: Internal {
                source_date_epoch: date,
                targets,
            },
            resolved_dependencies: deps,
        },
        run_details: run_details(),
    })
}

fn run_details() -> RunDetails {
    let tool = crate::manifest::tool();
    RunDetails {
        builder: Builder {
            id: BUILDER_ID.to_owned(),
            version: [(tool.name, tool.version)].into(),
        },
    }
}

/// A version that can stand in a package URL as is (`1.89.0`, `1.91.0-nightly`).
fn purl_version(v: Option<&str>) -> Option<&str> {
    v.filter(|v| {
        !v.is_empty()
            && v.len() <= 64
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-+".contains(&b))
    })
}

/// The build entry of one record.
fn build_of(r: &BuildRecord, package: Option<&PackageParams>) -> Build {
    let mut packages: Vec<String> = r.binaries.iter().map(|b| b.package.clone()).collect();
    packages.sort();
    packages.dedup();
    let mut bins: Vec<String> = r.binaries.iter().map(|b| b.binary.clone()).collect();
    bins.sort();
    bins.dedup();
    let mut features: Vec<String> = r
        .features
        .iter()
        .filter_map(|f| f.strip_prefix("--features="))
        .flat_map(|list| list.split([',', ' ']))
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
        .collect();
    features.sort();
    features.dedup();
    Build {
        command: Vec::new(),
        targets: vec![r.target.clone()],
        platforms: vec![r.platform],
        profile: r.profile.clone(),
        features,
        all_features: r.features.iter().any(|f| f == "--all-features"),
        no_default_features: r.features.iter().any(|f| f == "--no-default-features"),
        strip: r.strip,
        packages,
        bins,
        archive: package.map(|p| p.archive.to_owned()),
        compression: package.map(|p| p.compression),
    }
}

/// Builds that differ only in their targets become one; each gets its command;
/// sorted by targets. The same targets built the same way in two inputs of a merge
/// give the same result as one machine building them all.
pub(super) fn fold(builds: Vec<Build>) -> Vec<Build> {
    let key = |b: &Build| Build {
        command: Vec::new(),
        targets: Vec::new(),
        platforms: Vec::new(),
        ..b.clone()
    };
    let mut out: Vec<Build> = Vec::new();
    for b in builds {
        match out.iter_mut().find(|o| key(o) == key(&b)) {
            Some(o) => {
                o.targets.extend(b.targets);
                o.platforms.extend(b.platforms);
            }
            None => out.push(b),
        }
    }
    for b in &mut out {
        b.targets.sort();
        b.targets.dedup();
        b.platforms.sort();
        b.platforms.dedup();
        b.command = command(b);
    }
    out.sort();
    out
}

/// `cargo multiarch package|build …` for one build entry.
fn command(b: &Build) -> Vec<String> {
    let verb = if b.archive.is_some() {
        "package"
    } else {
        "build"
    };
    let mut c: Vec<String> = vec!["cargo".into(), "multiarch".into(), verb.into()];
    for t in &b.targets {
        c.extend(["--target".to_owned(), t.to_string()]);
    }
    c.extend(["--profile".to_owned(), b.profile.clone()]);
    if b.all_features {
        c.push("--all-features".into());
    }
    if b.no_default_features {
        c.push("--no-default-features".into());
    }
    if !b.features.is_empty() {
        c.push(format!("--features={}", b.features.join(",")));
    }
    if b.strip {
        c.push("--strip".into());
    }
    for p in &b.packages {
        c.extend(["-p".to_owned(), p.clone()]);
    }
    for bin in &b.bins {
        c.extend(["--bin".to_owned(), bin.clone()]);
    }
    if let Some(a) = &b.archive {
        c.extend(["--archive".to_owned(), a.clone()]);
    }
    if let Some(level) = b.compression {
        c.extend(["--compression".to_owned(), level.to_string()]);
    }
    c
}
