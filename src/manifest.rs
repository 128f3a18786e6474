//! `out/manifest.json` (schema `cargo-multiarch/manifest/v1`) and `out/SHA256SUMS`:
//! what an out dir holds, machine-readable and `sha256sum -c` checkable.

use anyhow::{Context as _, Result, bail};
use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use crate::elf::Linkage;

pub const SCHEMA: &str = "cargo-multiarch/manifest/v1";
pub const FILE: &str = "manifest.json";
pub const SUMS: &str = "SHA256SUMS";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub schema: String,
    pub tool: Tool,
    /// Seconds since the epoch: every archive entry's mtime and the images' `created`.
    pub source_date_epoch: u64,
    pub git: Option<Git>,
    /// The platforms this set is meant to hold (`linux/amd64`, …); `verify` checks them.
    pub platforms: Vec<String>,
    /// Sorted by path.
    pub artifacts: Vec<Artifact>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Git {
    pub commit: String,
    pub dirty: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    #[default]
    Binary,
    Archive,
    /// An OCI image index (one multi-platform image), inside `oci/blobs/`.
    OciIndex,
    /// An OCI image manifest (one platform of an image), inside `oci/blobs/`.
    OciManifest,
    /// `image.tar`: the OCI layout as one file, loadable by `docker load`.
    ImageArchive,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Artifact {
    pub kind: Kind,
    /// Relative to the out dir; never absolute, never `..`.
    pub path: Utf8PathBuf,
    pub sha256: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// None for per-target archives, which hold several packages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary: Option<String>,
    /// How a binary is linked, read from its ELF (absent for non-ELF targets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linkage: Option<Linkage>,
    /// What an archive holds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contents: Vec<Content>,
    /// For OCI artifacts: the image reference (`name:tag`) they belong to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Content {
    /// Path inside the archive.
    pub path: String,
    pub sha256: String,
    pub size: u64,
    pub mode: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary: Option<String>,
}

impl Manifest {
    pub fn path(out_dir: &Utf8Path) -> Utf8PathBuf {
        out_dir.join(FILE)
    }

    pub fn read(out_dir: &Utf8Path) -> Result<Self> {
        let p = Self::path(out_dir);
        let text = std::fs::read_to_string(&p).with_context(|| {
            format!(
                "cannot read `{p}` (hint: run `cargo multiarch package` first, or pass `--out-dir`)"
            )
        })?;
        let value: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("`{p}` is not valid JSON"))?;
        let schema = value
            .get("schema")
            .and_then(|s| s.as_str())
            .unwrap_or("(none)");
        if schema != SCHEMA {
            bail!(
                "`{p}` has schema `{schema}`, this cargo-multiarch reads `{SCHEMA}` (hint: re-run `cargo multiarch package` with this version)"
            );
        }
        serde_json::from_value(value).with_context(|| format!("`{p}` does not follow `{SCHEMA}`"))
    }

    /// The `SHA256SUMS` text: binaries and archives, `<hex>  <path>` sorted by path.
    pub fn sha256sums(&self) -> String {
        let mut lines: Vec<String> = self
            .artifacts
            .iter()
            .filter(|a| matches!(a.kind, Kind::Binary | Kind::Archive | Kind::ImageArchive))
            .map(|a| format!("{}  {}\n", a.sha256, a.path))
            .collect();
        lines.sort_by(|a, b| a[66..].cmp(&b[66..]));
        lines.concat()
    }

    /// Writes `SHA256SUMS` then `manifest.json`, each atomically, after everything they
    /// point at is in place.
    pub fn write(&mut self, out_dir: &Utf8Path) -> Result<()> {
        self.artifacts
            .sort_by(|a, b| a.path.cmp(&b.path).then(a.kind.cmp(&b.kind)));
        self.platforms.sort();
        self.platforms.dedup();
        std::fs::create_dir_all(out_dir).with_context(|| format!("cannot create `{out_dir}`"))?;
        crate::archive::write_atomic(&out_dir.join(SUMS), self.sha256sums().as_bytes())?;
        let mut json = serde_json::to_vec_pretty(self).expect("manifests serialise");
        json.push(b'\n');
        crate::archive::write_atomic(&Self::path(out_dir), &json)
    }
}

/// The tool itself, as recorded in manifests.
pub fn tool() -> Tool {
    Tool {
        name: env!("CARGO_PKG_NAME").to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    }
}
