//! buildx-style attestations: per platform manifest of an image, one attestation
//! manifest in the image index (platform `unknown/unknown`, annotated
//! `vnd.docker.reference.type: attestation-manifest` and
//! `vnd.docker.reference.digest: <platform manifest digest>`) whose layers are in-toto
//! statements about that manifest (`application/vnd.in-toto+json`, annotated
//! `in-toto.io/predicate-type`): the provenance, and whatever [`AttestationInput`]s the
//! out dir holds for that platform (SBOMs). So a registry, `docker buildx imagetools
//! inspect` or any OCI client finds them where Docker puts its own, and `--push`
//! carries them with the image.

use std::collections::BTreeMap;

use anyhow::{Context as _, Result, bail};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Descriptor, ImageSpec, MEDIA_TYPE_CONFIG, MEDIA_TYPE_MANIFEST};
use crate::digest::Sha256;
use crate::layout::Kind;
use crate::manifest::{Artifact, Manifest};
use crate::outdir::{OutDir, RelPath};
use crate::platform::Platform;
use crate::provenance::{self, MEDIA_TYPE as IN_TOTO};

pub(super) const REFERENCE_TYPE: &str = "vnd.docker.reference.type";
pub(super) const REFERENCE_DIGEST: &str = "vnd.docker.reference.digest";
pub(super) const ATTESTATION_MANIFEST: &str = "attestation-manifest";
pub(super) const PREDICATE_TYPE: &str = "in-toto.io/predicate-type";
/// `predicateType` of a `CycloneDX` SBOM and its file's media type.
pub(super) const CYCLONEDX: (&str, &str) = (
    "https://cyclonedx.org/bom",
    "application/vnd.cyclonedx+json",
);
/// `predicateType` of an SPDX SBOM and its file's media type.
pub(super) const SPDX: (&str, &str) = ("https://spdx.dev/Document", "application/spdx+json");
/// The platform of an attestation manifest: nothing runs it.
fn unknown() -> Platform {
    Platform::new("unknown", "unknown", None).expect("plain names")
}
/// The largest attestation input or statement read.
const MAX_JSON: u64 = crate::limits::MAX_SBOM_BYTES;

/// The manifest's kinds whose files are attached to the images of their platform.
const ATTACHED: &[Kind] = &[Kind::Sbom];

/// A file of the out dir to attach to the images of one platform, as the predicate of
/// an in-toto statement about each image's manifest for that platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestationInput {
    pub platform: Platform,
    /// Attached only to images holding this package's binaries (None: every image).
    pub package: Option<String>,
    /// The file's media type: `CYCLONEDX`'s or `SPDX`'s.
    pub media_type: String,
    pub path: RelPath,
    pub sha256: Sha256,
}

impl AttestationInput {
    /// An SBOM artifact (`<archive>.cdx.json` or `<archive>.spdx.json`) as an input.
    pub fn sbom(a: &Artifact) -> Option<Self> {
        let name = a.path.file_name();
        let media_type = if name.ends_with(".cdx.json") {
            CYCLONEDX.1
        } else if name.ends_with(".spdx.json") {
            SPDX.1
        } else {
            return None;
        };
        Some(Self {
            platform: a.platform?,
            package: a.package.clone(),
            media_type: media_type.to_owned(),
            path: a.path.clone(),
            sha256: a.sha256.clone(),
        })
    }

    /// The in-toto `predicateType` for the file's media type.
    pub fn predicate_type(&self) -> Result<&'static str> {
        [CYCLONEDX, SPDX]
            .iter()
            .find(|(_, media)| *media == self.media_type)
            .map(|(predicate, _)| *predicate)
            .with_context(|| {
                format!(
                    "`{}` has media type `{}`, which is attached as no known predicate",
                    self.path, self.media_type
                )
            })
    }
}

/// The attestation inputs an out dir's manifest lists.
pub(super) fn inputs(m: &Manifest) -> Vec<AttestationInput> {
    m.artifacts
        .iter()
        .filter(|a| ATTACHED.contains(&a.kind))
        .filter_map(AttestationInput::sbom)
        .collect()
}

/// One in-toto statement to attach to the manifests of an image: for one platform, or
/// (`platform` None) for each.
#[derive(Debug, Clone, PartialEq)]
pub struct Attestation {
    pub platform: Option<Platform>,
    pub predicate_type: String,
    pub predicate: Value,
}

impl Attestation {
    /// The provenance's predicate, for every platform.
    pub fn provenance(predicate: &provenance::Predicate) -> Self {
        Self {
            platform: None,
            predicate_type: provenance::PREDICATE_TYPE.to_owned(),
            predicate: serde_json::to_value(predicate).expect("predicates serialise"),
        }
    }

    /// An input's file (re-hashed against the manifest) as the predicate for its platform.
    pub fn read(out: &OutDir, input: &AttestationInput) -> Result<Self> {
        let bytes = out.read(&input.path, MAX_JSON)?;
        if Sha256::of(&bytes) != input.sha256 {
            bail!(
                "`{}` changed since the manifest was written (hint: run `cargo multiarch package` again)",
                out.display(&input.path)
            );
        }
        let predicate: Value = serde_json::from_slice(&bytes)
            .with_context(|| format!("`{}` is not JSON", out.display(&input.path)))?;
        if !predicate.is_object() {
            bail!("`{}` is not a JSON object", out.display(&input.path));
        }
        Ok(Self {
            platform: Some(input.platform),
            predicate_type: input.predicate_type()?.to_owned(),
            predicate,
        })
    }
}

#[derive(Serialize)]
struct Statement<'a> {
    #[serde(rename = "_type")]
    kind: &'a str,
    subject: [Subject<'a>; 1],
    #[serde(rename = "predicateType")]
    predicate_type: &'a str,
    predicate: &'a Value,
}

#[derive(Serialize)]
struct Subject<'a> {
    /// `_`: the manifest has no name of its own (and a tag must not change the digest).
    name: &'a str,
    digest: BTreeMap<&'a str, &'a str>,
}

#[derive(Serialize)]
struct UnknownConfig<'a> {
    architecture: &'a str,
    os: &'a str,
    config: BTreeMap<String, String>,
    rootfs: RootFs<'a>,
}

#[derive(Serialize)]
struct RootFs<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    diff_ids: Vec<&'a str>,
}

/// Writes, for each platform manifest of `spec` with attestations, its statements, an
/// `unknown/unknown` config and the attestation manifest (through `blob`); returns
/// their descriptors for the image index, in the order of `manifests`.
pub(super) fn write(
    spec: &ImageSpec,
    manifests: &[Descriptor],
    blob: &mut dyn FnMut(&str, &[u8]) -> Result<Descriptor>,
) -> Result<Vec<Descriptor>> {
    let mut out = Vec::new();
    for m in manifests {
        let attached: Vec<&Attestation> = spec
            .attestations
            .iter()
            .filter(|a| a.platform.is_none() || a.platform == m.platform)
            .collect();
        if attached.is_empty() {
            continue;
        }
        let mut layers = Vec::with_capacity(attached.len());
        for a in attached {
            let statement = Statement {
                kind: provenance::STATEMENT_TYPE,
                subject: [Subject {
                    name: "_",
                    digest: [("sha256", m.hex())].into(),
                }],
                predicate_type: &a.predicate_type,
                predicate: &a.predicate,
            };
            let bytes = serde_json::to_vec(&statement).expect("statements serialise");
            let mut layer = blob(IN_TOTO, &bytes)?;
            layer
                .annotations
                .insert(PREDICATE_TYPE.to_owned(), a.predicate_type.clone());
            layers.push(layer);
        }
        let unknown = unknown();
        let config = UnknownConfig {
            architecture: &unknown.arch,
            os: &unknown.os,
            config: BTreeMap::new(),
            rootfs: RootFs {
                kind: "layers",
                diff_ids: layers.iter().map(|l| l.digest.as_str()).collect(),
            },
        };
        let config = blob(
            MEDIA_TYPE_CONFIG,
            &serde_json::to_vec(&config).expect("configs serialise"),
        )?;
        let mut manifest = blob(
            MEDIA_TYPE_MANIFEST,
            &crate::oci::manifest_json(&config, &layers, &BTreeMap::new()),
        )?;
        manifest.platform = Some(unknown);
        manifest
            .annotations
            .insert(REFERENCE_TYPE.to_owned(), ATTESTATION_MANIFEST.to_owned());
        manifest
            .annotations
            .insert(REFERENCE_DIGEST.to_owned(), m.digest.clone());
        out.push(manifest);
    }
    Ok(out)
}

/// An in-toto statement as read from an attestation layer: the envelope checked, the
/// predicate kept as JSON (checked further when it is a provenance).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadStatement {
    #[serde(rename = "_type")]
    statement_type: String,
    subject: Vec<ReadSubject>,
    #[serde(rename = "predicateType")]
    predicate_type: String,
    predicate: Value,
}

#[derive(Deserialize)]
struct ReadSubject {
    digest: BTreeMap<String, String>,
}

/// Checks the attestations of every image of the layout at `layout` (whose blobs
/// [`layout::check`] has hashed): each attestation manifest is `unknown/unknown`,
/// names a platform manifest of its own index, and holds in-toto statements about that
/// manifest whose predicate type is the one annotated (a provenance must parse as ours);
/// an index with attestations has one for each platform manifest. One line per problem.
pub(super) fn check(layout: &OutDir) -> Vec<String> {
    let mut problems = Vec::new();
    let read = |digest: &str| -> Result<Value> {
        let hex = crate::oci::digest_hex(digest)?;
        let bytes = layout.read(&crate::layout::oci_blob(hex)?, MAX_JSON)?;
        if Sha256::of(&bytes) != *hex {
            bail!("blob `{digest}` does not match its digest");
        }
        Ok(serde_json::from_slice(&bytes)?)
    };
    // A missing or broken `index.json` is the layout walk's to report.
    let Ok(index_json) = layout
        .read(&RelPath::new("index.json").expect("a plain name"), MAX_JSON)
        .and_then(|b| Ok(serde_json::from_slice::<Value>(&b)?))
    else {
        return problems;
    };
    for image in index_json["manifests"].as_array().into_iter().flatten() {
        let Some(digest) = image["digest"].as_str() else {
            continue;
        };
        let Ok(index) = read(digest) else { continue };
        let entries = index["manifests"].as_array().cloned().unwrap_or_default();
        let is_attestation =
            |d: &Value| d["annotations"][REFERENCE_TYPE].as_str() == Some(ATTESTATION_MANIFEST);
        let platforms: Vec<&str> = entries
            .iter()
            .filter(|d| !is_attestation(d))
            .filter_map(|d| d["digest"].as_str())
            .collect();
        let attestations: Vec<&Value> = entries.iter().filter(|d| is_attestation(d)).collect();
        for d in &attestations {
            if let Err(e) = check_one(d, &platforms, &read) {
                problems.push(format!(
                    "attestation manifest `{}` of index `{digest}`: {e:#}",
                    d["digest"].as_str().unwrap_or("?")
                ));
            }
        }
        if !attestations.is_empty() {
            for p in &platforms {
                if !attestations
                    .iter()
                    .any(|d| d["annotations"][REFERENCE_DIGEST].as_str() == Some(p))
                {
                    problems.push(format!(
                        "index `{digest}`: platform manifest `{p}` has no attestation manifest"
                    ));
                }
            }
        }
    }
    problems
}

/// One attestation manifest's descriptor and contents.
fn check_one(d: &Value, platforms: &[&str], read: &dyn Fn(&str) -> Result<Value>) -> Result<()> {
    let unknown = unknown();
    if d["platform"]["os"] != *unknown.os || d["platform"]["architecture"] != *unknown.arch {
        bail!("its platform is not `unknown/unknown`");
    }
    let Some(subject) = d["annotations"][REFERENCE_DIGEST].as_str() else {
        bail!("it has no `{REFERENCE_DIGEST}` annotation");
    };
    if !platforms.contains(&subject) {
        bail!(
            "it refers to `{}`, which is not a platform manifest of this index",
            subject.escape_debug()
        );
    }
    let manifest = read(d["digest"].as_str().unwrap_or_default())?;
    let layers = manifest["layers"].as_array().cloned().unwrap_or_default();
    if layers.is_empty() {
        bail!("it has no layers");
    }
    for layer in layers
        .iter()
        .filter(|l| l["mediaType"].as_str() == Some(IN_TOTO))
    {
        let digest = layer["digest"].as_str().unwrap_or_default();
        let statement: ReadStatement = serde_json::from_value(read(digest)?)
            .with_context(|| format!("layer `{digest}` is not an in-toto statement"))?;
        if statement.statement_type != provenance::STATEMENT_TYPE {
            bail!("layer `{digest}` is not an in-toto Statement v1");
        }
        if layer["annotations"][PREDICATE_TYPE].as_str() != Some(statement.predicate_type.as_str())
        {
            bail!("layer `{digest}` is annotated with another predicate type than it holds");
        }
        let hex = subject.strip_prefix("sha256:").unwrap_or_default();
        if !statement
            .subject
            .iter()
            .any(|s| s.digest.get("sha256").map(String::as_str) == Some(hex))
        {
            bail!("layer `{digest}` is not about `{subject}`");
        }
        if statement.predicate_type == provenance::PREDICATE_TYPE {
            let p: provenance::Predicate = serde_json::from_value(statement.predicate)
                .with_context(|| {
                    format!("layer `{digest}` holds no provenance this tool writes")
                })?;
            p.check().with_context(|| {
                format!("layer `{digest}` holds no provenance this tool writes")
            })?;
        }
    }
    Ok(())
}
