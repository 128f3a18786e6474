//! `out/provenance.intoto.json`: an in-toto Statement v1 whose predicate is SLSA
//! Provenance v1, over every archive, binary, image index and other file the
//! manifest lists (see `docs/provenance.md` for the build type it follows).
//!
//! `package` writes it ([`describe`] from the build records), `image` adds the image
//! indexes (and attaches the predicate to each image, see `image::attest`), `merge`
//! joins the inputs' ([`combine`]), and `verify` checks it against the manifest
//! ([`check_against`]). Read back, it is untrusted: [`Statement::parse`] takes it into
//! types whose every field is checked, and only then is anything compared.
//!
//! Reproducible: fixed field order, sorted lists, no wall-clock time (the source date
//! is `internalParameters.sourceDateEpoch`) and no invocation ID, so the same binaries
//! and parameters give the same bytes on any machine with the same toolchain.

mod describe;

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context as _, Result, bail};
use serde::{Deserialize, Serialize};

use crate::digest::Sha256;
use crate::layout::{self, Kind, PROVENANCE as FILE};
use crate::manifest::{Artifact, Manifest, plain_text};
use crate::outdir::{OutDir, RelPath};
use crate::platform::{Platform, TargetName};

pub use describe::{PackageParams, Toolchain, cargo_lock, combine, describe};

/// `_type` of an in-toto Statement v1.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// `predicateType` of SLSA Provenance v1.
pub const PREDICATE_TYPE: &str = "https://slsa.dev/provenance/v1";
/// Our build type: how to read `externalParameters` and `internalParameters`.
pub const BUILD_TYPE: &str =
    "https://github.com/cargo-multiarch/cargo-multiarch/blob/main/docs/provenance.md#build-type-v1";
/// `runDetails.builder.id`: the tool (its version is in `builder.version`).
pub const BUILDER_ID: &str = "https://github.com/cargo-multiarch/cargo-multiarch";
/// The media type of an in-toto statement (also its OCI layer media type).
pub const MEDIA_TYPE: &str = "application/vnd.in-toto+json";
/// The largest provenance read back (a real one is a few KiB).
const MAX_BYTES: u64 = crate::limits::MAX_RECORD_BYTES;

/// An in-toto Statement v1 with an SLSA Provenance v1 predicate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    #[serde(rename = "_type")]
    pub statement_type: String,
    /// Sorted by name.
    pub subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    pub predicate: Predicate,
}

/// One artifact the statement is about: its out-dir path (or image name) and digest.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    pub name: String,
    pub digest: DigestSet,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestSet {
    pub sha256: Sha256,
}

/// The SLSA Provenance v1 predicate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Predicate {
    pub build_definition: BuildDefinition,
    pub run_details: RunDetails,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BuildDefinition {
    pub build_type: String,
    pub external_parameters: External,
    pub internal_parameters: Internal,
    /// Sorted, no duplicates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resolved_dependencies: Vec<Resource>,
}

/// What the user chose: one entry per set of targets built (and packaged) alike, and
/// the image settings when `image` ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct External {
    /// Sorted by their first target; targets built with the same parameters share one.
    pub builds: Vec<Build>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageParams>,
}

/// Targets built (and packaged) with the same parameters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Build {
    /// The command that builds (and packages) these targets with these parameters,
    /// paths left out: derived from the fields below.
    pub command: Vec<String>,
    /// Sorted.
    pub targets: Vec<TargetName>,
    /// Sorted.
    pub platforms: Vec<Platform>,
    pub profile: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all_features: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_default_features: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub strip: bool,
    /// Sorted.
    pub packages: Vec<String>,
    /// Sorted.
    pub bins: Vec<String>,
    /// `per-package` or `per-target`, when `package` wrote archives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive: Option<String>,
    /// The archives' gzip level, when `package` wrote archives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<u32>,
}

/// How `image` assembled the images (names and tags do not change their digests and
/// are left out; the subjects carry the names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImageParams {
    pub combined: bool,
    pub compression: u32,
}

/// What the tool chose: the source date every timestamp is set to, and the backend
/// that built each target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Internal {
    pub source_date_epoch: u64,
    /// Sorted by target.
    pub targets: Vec<TargetBackend>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetBackend {
    pub target: TargetName,
    pub platform: Platform,
    pub backend: String,
}

/// An in-toto `ResourceDescriptor`: the git commit, `Cargo.lock`, rustc, zig.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// `sha256` or `gitCommit` → lowercase hex.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub digest: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunDetails {
    pub builder: Builder,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Builder {
    pub id: String,
    pub version: BTreeMap<String, String>,
}

impl Statement {
    pub fn rel() -> RelPath {
        RelPath::new(FILE).expect("a plain name")
    }

    /// Reads and checks `provenance.intoto.json`.
    pub fn read(out: &OutDir) -> Result<Self> {
        let shown = out.display(&Self::rel());
        let bytes = out.read(&Self::rel(), MAX_BYTES).with_context(|| {
            format!("cannot read `{shown}` (hint: run `cargo multiarch package` again)")
        })?;
        Self::parse(&bytes).with_context(|| {
            format!(
                "`{shown}` is not a provenance this cargo-multiarch writes (hint: run `cargo multiarch package` again)"
            )
        })
    }

    /// Parses statement bytes: every field in its checked form.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let s: Self = serde_json::from_slice(bytes).context("it is not an in-toto statement")?;
        if s.statement_type != STATEMENT_TYPE {
            bail!(
                "its `_type` is `{}`, not `{STATEMENT_TYPE}`",
                s.statement_type.escape_debug()
            );
        }
        if s.predicate_type != PREDICATE_TYPE {
            bail!(
                "its `predicateType` is `{}`, not `{PREDICATE_TYPE}`",
                s.predicate_type.escape_debug()
            );
        }
        let mut names = BTreeSet::new();
        for subject in &s.subject {
            plain_text("subject.name", &subject.name)?;
            if !names.insert(&subject.name) {
                bail!("subject `{}` is listed twice", subject.name);
            }
        }
        s.predicate.check()?;
        Ok(s)
    }

    /// The statement as written: pretty JSON and a final newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut json = serde_json::to_vec_pretty(self).expect("statements serialise");
        json.push(b'\n');
        json
    }
}

impl Predicate {
    /// Every field in its checked form (for a predicate read back, standalone or
    /// inside an image attestation).
    pub fn check(&self) -> Result<()> {
        let d = &self.build_definition;
        if d.build_type != BUILD_TYPE {
            bail!(
                "its `buildType` is `{}`, not `{BUILD_TYPE}`",
                d.build_type.escape_debug()
            );
        }
        if d.external_parameters.builds.is_empty() {
            bail!("its `externalParameters.builds` is empty");
        }
        for b in &d.external_parameters.builds {
            plain_text("profile", &b.profile)?;
            if b.targets.is_empty() {
                bail!("a build in `externalParameters.builds` has no target");
            }
            for s in b
                .command
                .iter()
                .chain(&b.features)
                .chain(&b.packages)
                .chain(&b.bins)
                .chain(&b.archive)
            {
                plain_text("externalParameters.builds", s)?;
            }
        }
        for t in &d.internal_parameters.targets {
            plain_text("internalParameters.targets.backend", &t.backend)?;
        }
        for r in &d.resolved_dependencies {
            r.check()?;
        }
        let builder = &self.run_details.builder;
        plain_text("runDetails.builder.id", &builder.id)?;
        for (k, v) in &builder.version {
            plain_text("runDetails.builder.version", k)?;
            plain_text("runDetails.builder.version", v)?;
        }
        Ok(())
    }

    /// The predicate an image carries: the builds without the archive settings (an
    /// image's digest must not depend on how the archives beside it were compressed).
    #[must_use]
    pub fn for_image(&self) -> Self {
        let mut p = self.clone();
        let builds = &mut p.build_definition.external_parameters.builds;
        for b in builds.iter_mut() {
            b.archive = None;
            b.compression = None;
        }
        *builds = describe::fold(std::mem::take(builds));
        p
    }
}

impl Resource {
    fn check(&self) -> Result<()> {
        plain_text("resolvedDependencies.name", &self.name)?;
        if let Some(uri) = &self.uri {
            plain_text("resolvedDependencies.uri", uri)?;
        }
        if self.uri.is_none() && self.digest.is_empty() {
            bail!(
                "resolved dependency `{}` has neither `uri` nor `digest`",
                self.name
            );
        }
        for (alg, value) in &self.digest {
            let ok = match alg.as_str() {
                "sha256" => Sha256::parse(value).is_ok(),
                "gitCommit" => is_commit(value),
                _ => false,
            };
            if !ok {
                bail!(
                    "resolved dependency `{}` has digest `{}: {}`; only `sha256` and `gitCommit` in lowercase hex are written",
                    self.name,
                    alg.escape_debug(),
                    value.escape_debug()
                );
            }
        }
        for (k, v) in &self.annotations {
            plain_text("resolvedDependencies.annotations", k)?;
            plain_text("resolvedDependencies.annotations", v)?;
        }
        Ok(())
    }
}

fn is_commit(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// What the statement of an out dir must be about: every artifact of the manifest
/// but the image manifests (reached through their index), the OCI layout's own files
/// (`index.json` names the indexes the statement names) and the provenance itself, by
/// path, image indexes by image name; sorted by name.
pub fn expected_subjects(m: &Manifest) -> Vec<Subject> {
    let mut subjects: Vec<Subject> = m
        .artifacts
        .iter()
        .filter(|a| {
            !matches!(
                a.kind,
                Kind::OciManifest | Kind::OciLayout | Kind::Provenance
            )
        })
        .map(|a| Subject {
            name: match (a.kind, &a.reference) {
                (Kind::OciIndex, Some(reference)) => reference.clone(),
                _ => a.path.to_string(),
            },
            digest: DigestSet {
                sha256: a.sha256.clone(),
            },
        })
        .collect();
    subjects.sort();
    subjects
}

/// Writes `provenance.intoto.json` for `m` (whose artifacts are final) with
/// `predicate`, and lists it in `m`; the caller writes `m` next. A signature of
/// `SHA256SUMS` or of the provenance whose file changes is removed, since it no longer
/// verifies (`cargo multiarch sign` makes new ones).
pub fn record(out: &OutDir, m: &mut Manifest, predicate: &Predicate) -> Result<()> {
    m.artifacts.retain(|a| a.kind != Kind::Provenance);
    let statement = Statement {
        statement_type: STATEMENT_TYPE.to_owned(),
        subject: expected_subjects(m),
        predicate_type: PREDICATE_TYPE.to_owned(),
        predicate: predicate.clone(),
    };
    let bytes = statement.to_bytes();
    let rel = Statement::rel();
    let unchanged = out.read(&rel, MAX_BYTES).is_ok_and(|old| old == bytes);
    out.write(&rel, &bytes)?;
    m.artifacts.push(Artifact::new(
        Kind::Provenance,
        rel.clone(),
        Sha256::of(&bytes),
        bytes.len() as u64,
    ));
    if !unchanged {
        out.remove(&layout::signature(&rel))?;
    }
    let sums = RelPath::new(crate::layout::SUMS).expect("a plain name");
    if !out
        .read(&sums, crate::limits::MAX_MANIFEST_BYTES)
        .is_ok_and(|old| old == m.sha256sums().as_bytes())
    {
        out.remove(&layout::signature(&sums))?;
    }
    Ok(())
}

/// What is wrong with `s` as the provenance of the out dir `m` describes: subjects
/// other than exactly [`expected_subjects`], or a source date, commit or target that
/// differs from the manifest's. One line per problem.
pub fn check_against(s: &Statement, m: &Manifest) -> Vec<String> {
    let mut problems = Vec::new();
    let expected = expected_subjects(m);
    for want in &expected {
        match s.subject.iter().find(|got| got.name == want.name) {
            None => problems.push(format!(
                "{FILE}: `{}` (sha256 {}) is not among its subjects (hint: run `cargo multiarch package` again)",
                want.name, want.digest.sha256
            )),
            Some(got) if got.digest != want.digest => problems.push(format!(
                "{FILE}: subject `{}` has sha256 {}, the manifest says {}",
                want.name, got.digest.sha256, want.digest.sha256
            )),
            Some(_) => {}
        }
    }
    for got in &s.subject {
        if !expected.iter().any(|want| want.name == got.name) {
            problems.push(format!(
                "{FILE}: subject `{}` is not in the manifest",
                got.name.escape_debug()
            ));
        }
    }
    let d = &s.predicate.build_definition;
    if d.internal_parameters.source_date_epoch != m.source_date_epoch {
        problems.push(format!(
            "{FILE}: source date {} differs from the manifest's {}",
            d.internal_parameters.source_date_epoch, m.source_date_epoch
        ));
    }
    let commits: Vec<&String> = d
        .resolved_dependencies
        .iter()
        .filter_map(|r| r.digest.get("gitCommit").filter(|_| r.name == "git"))
        .collect();
    let manifest_commit = m.git.as_ref().map(|g| &g.commit);
    if commits.len() > 1 || commits.first().copied() != manifest_commit {
        problems.push(format!(
            "{FILE}: git commit {} differs from the manifest's {}",
            show_list(&commits),
            manifest_commit.map_or("(none)", String::as_str)
        ));
    }
    for a in m.artifacts.iter().filter(|a| a.kind == Kind::Binary) {
        let Some(target) = &a.target else { continue };
        let built = d
            .external_parameters
            .builds
            .iter()
            .any(|b| b.targets.contains(target));
        let backend = d
            .internal_parameters
            .targets
            .iter()
            .any(|t| t.target == *target);
        if !built || !backend {
            problems.push(format!(
                "{FILE}: target `{target}` of `{}` is missing from its builds",
                a.path
            ));
        }
    }
    problems
}

fn show_list(items: &[&String]) -> String {
    if items.is_empty() {
        "(none)".to_owned()
    } else {
        items
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests;
