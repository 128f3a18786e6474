//! SBOMs read back, as `package` writes them (`CycloneDX` 1.5 and SPDX 2.3 JSON), into
//! what they say an archive holds: its crates (name, version, purl, checksum, whether
//! it ships at runtime) and the native libraries their build scripts link. `verify
//! --expect-sbom` compares that with the dependency graphs of the build record
//! ([`compare`]), so an SBOM listing other crates fails even when its hashes agree.
//!
//! The bytes are untrusted: a typed parse (unknown fields ignored, every field used
//! checked) of a document the caller read with a size bound.

use std::collections::BTreeSet;

use anyhow::{Context as _, Result, bail};
use serde::Deserialize;

use super::graph::{Crate, Kind};
use super::{Format, purl};

/// One crate an SBOM lists.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Listed {
    pub name: String,
    pub version: String,
    pub purl: String,
    /// Where it comes from, as [`super::graph::Source::describe`] says it.
    pub source: String,
    /// The `.crate` file's sha256, for registry crates.
    pub checksum: Option<String>,
    /// Compiled into the binary (else build-time only).
    pub runtime: bool,
}

impl std::fmt::Display for Listed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let role = if self.runtime {
            "runtime"
        } else {
            "build-time"
        };
        write!(
            f,
            "`{}` {} ({role}, from {})",
            crate::limits::shown(&self.name),
            crate::limits::shown(&self.version),
            crate::limits::shown(&self.source)
        )
    }
}

/// What an SBOM says it describes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Described {
    /// The archive's file name it names.
    pub archive: String,
    /// The target it names (`CycloneDX` only: SPDX says it in prose).
    pub target: Option<String>,
    pub crates: BTreeSet<Listed>,
    /// Native libraries (`links = "…"`) by name.
    pub natives: BTreeSet<String>,
}

/// What the graphs of an archive's packages say its SBOM must list.
pub fn expected(crates: &[Crate]) -> (BTreeSet<Listed>, BTreeSet<String>) {
    let listed = crates
        .iter()
        .map(|c| Listed {
            name: c.name.clone(),
            version: c.version.clone(),
            purl: purl(c),
            source: c.source.describe(),
            checksum: c.checksum.as_ref().map(ToString::to_string),
            runtime: c.kind == Kind::Runtime,
        })
        .collect();
    let natives = crates.iter().filter_map(|c| c.links.clone()).collect();
    (listed, natives)
}

/// Parses an SBOM of `format`.
pub fn parse(bytes: &[u8], format: Format) -> Result<Described> {
    match format {
        Format::CycloneDx => cyclonedx(bytes),
        Format::Spdx => spdx(bytes),
    }
}

/// What is wrong with `d` as the SBOM of `archive` (a file name) for `target`, whose
/// packages' graphs give `crates`: one line per difference, the first few named.
pub fn compare(d: &Described, archive: &str, target: &str, crates: &[Crate]) -> Vec<String> {
    const NAMED: usize = 8;
    let mut problems = Vec::new();
    if d.archive != archive {
        problems.push(format!(
            "it describes archive `{}`, not `{archive}`",
            crate::limits::shown(&d.archive)
        ));
    }
    if let Some(t) = &d.target
        && t != target
    {
        problems.push(format!(
            "it describes target `{}`, not `{target}`",
            crate::limits::shown(t)
        ));
    }
    let (want, natives) = expected(crates);
    let mut differ = |what: &str, items: Vec<String>| {
        for item in items.iter().take(NAMED) {
            problems.push(format!("{what} {item}"));
        }
        if items.len() > NAMED {
            problems.push(format!("{what} {} more", items.len() - NAMED));
        }
    };
    differ(
        "it lists, but the build record does not have,",
        d.crates
            .difference(&want)
            .map(ToString::to_string)
            .collect(),
    );
    differ(
        "it leaves out, though the build record has,",
        want.difference(&d.crates)
            .map(ToString::to_string)
            .collect(),
    );
    differ(
        "it lists, but no crate of the build record links, native library",
        d.natives
            .difference(&natives)
            .map(|n| format!("`{}`", crate::limits::shown(n)))
            .collect(),
    );
    differ(
        "it leaves out native library",
        natives
            .difference(&d.natives)
            .map(|n| format!("`{}`", crate::limits::shown(n)))
            .collect(),
    );
    problems
}

#[derive(Deserialize)]
struct Property {
    name: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CdxDocument {
    bom_format: String,
    spec_version: String,
    metadata: Metadata,
    #[serde(default)]
    components: Vec<Component>,
}

#[derive(Deserialize)]
struct Metadata {
    component: Component,
    #[serde(default)]
    properties: Vec<Property>,
}

#[derive(Deserialize)]
struct Component {
    name: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    purl: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    hashes: Vec<CdxHash>,
    #[serde(default)]
    properties: Vec<Property>,
}

#[derive(Deserialize)]
struct CdxHash {
    alg: String,
    content: String,
}

fn property<'a>(props: &'a [Property], name: &str) -> Option<&'a str> {
    props
        .iter()
        .find(|p| p.name == name)
        .map(|p| p.value.as_str())
}

fn cyclonedx(bytes: &[u8]) -> Result<Described> {
    let bom: CdxDocument =
        serde_json::from_slice(bytes).context("it is not a CycloneDX JSON document")?;
    if bom.bom_format != "CycloneDX" || bom.spec_version != "1.5" {
        bail!(
            "it is `{}` {}, not CycloneDX 1.5",
            crate::limits::shown(&bom.bom_format),
            crate::limits::shown(&bom.spec_version)
        );
    }
    let props = &bom.metadata.properties;
    let Some(archive) = property(props, "cargo-multiarch:archive") else {
        bail!("its metadata names no archive (`cargo-multiarch:archive`)");
    };
    let mut d = Described {
        archive: archive.to_owned(),
        target: property(props, "cargo-multiarch:target").map(str::to_owned),
        ..Described::default()
    };
    // The package itself is `metadata.component` when the archive is one package's.
    let root = &bom.metadata.component;
    for c in std::iter::once(root)
        .filter(|c| c.purl.is_some())
        .chain(&bom.components)
    {
        if property(&c.properties, "cargo-multiarch:native-library-of").is_some() {
            if !d.natives.insert(c.name.clone()) {
                bail!(
                    "it lists native library `{}` twice",
                    crate::limits::shown(&c.name)
                );
            }
            continue;
        }
        let (Some(version), Some(purl)) = (&c.version, &c.purl) else {
            bail!(
                "component `{}` is neither a crate (with a version and a purl) nor a native library",
                crate::limits::shown(&c.name)
            );
        };
        let runtime = match c.scope.as_deref() {
            Some("required") => true,
            Some("excluded") => false,
            other => bail!(
                "component `{}` has scope `{}`; a crate is `required` or `excluded`",
                crate::limits::shown(&c.name),
                crate::limits::shown(other.unwrap_or("(none)"))
            ),
        };
        let Some(source) = property(&c.properties, "cargo-multiarch:source") else {
            bail!(
                "component `{}` does not say where it comes from (`cargo-multiarch:source`)",
                crate::limits::shown(&c.name)
            );
        };
        let checksum = c
            .hashes
            .iter()
            .find(|h| h.alg == "SHA-256")
            .map(|h| h.content.clone());
        insert(
            &mut d.crates,
            Listed {
                name: c.name.clone(),
                version: version.clone(),
                purl: purl.clone(),
                source: source.to_owned(),
                checksum,
                runtime,
            },
        )?;
    }
    Ok(d)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxDoc {
    spdx_version: String,
    name: String,
    packages: Vec<SpdxPackage>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage {
    #[serde(rename = "SPDXID")]
    id: String,
    name: String,
    #[serde(default)]
    version_info: Option<String>,
    #[serde(default)]
    external_refs: Vec<ExternalRef>,
    #[serde(default)]
    checksums: Vec<SpdxChecksum>,
    #[serde(default)]
    comment: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_type: String,
    reference_locator: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxChecksum {
    algorithm: String,
    checksum_value: String,
}

fn spdx(bytes: &[u8]) -> Result<Described> {
    let doc: SpdxDoc = serde_json::from_slice(bytes).context("it is not an SPDX JSON document")?;
    if doc.spdx_version != "SPDX-2.3" {
        bail!(
            "it is `{}`, not SPDX-2.3",
            crate::limits::shown(&doc.spdx_version)
        );
    }
    let mut d = Described {
        archive: doc.name,
        ..Described::default()
    };
    for p in &doc.packages {
        if p.id == "SPDXRef-Archive" {
            continue;
        }
        if p.id.starts_with("SPDXRef-Native-") {
            if !d.natives.insert(p.name.clone()) {
                bail!(
                    "it lists native library `{}` twice",
                    crate::limits::shown(&p.name)
                );
            }
            continue;
        }
        let purl = p
            .external_refs
            .iter()
            .find(|r| r.reference_type == "purl")
            .map(|r| r.reference_locator.clone());
        let (Some(version), Some(purl)) = (&p.version_info, purl) else {
            bail!(
                "package `{}` is neither a crate (with a version and a purl) nor a native library",
                crate::limits::shown(&p.name)
            );
        };
        let checksum = p
            .checksums
            .iter()
            .find(|c| c.algorithm == "SHA256")
            .map(|c| c.checksum_value.clone());
        let comment = p.comment.as_deref().unwrap_or_default();
        let Some(source) = spdx_source(comment) else {
            bail!(
                "package `{}` does not say where it comes from (its comment starts `source: `)",
                crate::limits::shown(&p.name)
            );
        };
        // How `package` says a crate is build-time only (see `build_time_note`).
        let runtime = !comment.contains("; build-time only");
        insert(
            &mut d.crates,
            Listed {
                name: p.name.clone(),
                version: version.clone(),
                purl,
                source,
                checksum,
                runtime,
            },
        )?;
    }
    Ok(d)
}

/// The source in an SPDX package's comment as `package` writes it: `source: <source>`,
/// then `; `-separated notes, each starting with one of a few known words.
fn spdx_source(comment: &str) -> Option<String> {
    let rest = comment.strip_prefix("source: ")?;
    let end = ["; build-time only", "; links = ", "; compiles C: "]
        .iter()
        .filter_map(|note| rest.find(note))
        .min()
        .unwrap_or(rest.len());
    Some(rest[..end].to_owned())
}

fn insert(set: &mut BTreeSet<Listed>, c: Listed) -> Result<()> {
    let shown = c.to_string();
    if !set.insert(c) {
        bail!("it lists {shown} twice");
    }
    Ok(())
}
