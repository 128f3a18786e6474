//! SBOMs: one per archive, beside it (`<archive>.cdx.json`, or `<archive>.spdx.json`),
//! listing exactly the crates compiled into that archive's binaries for its target
//! (the [`crate::deps`] graphs its build record carries), in `CycloneDX` 1.5 JSON or
//! SPDX 2.3 JSON. Listed in `manifest.json` (kind `sbom`) and `SHA256SUMS`.
//!
//! Reproducible byte for byte: no time but the source date (`SOURCE_DATE_EPOCH`, else
//! the commit's), keys and lists sorted, and the serial number (or SPDX namespace) a
//! hash of the rest of the document.

use anyhow::{Result, bail};

use self::graph::{Crate, Graph, Source};
use crate::digest::Sha256;
use crate::outdir::RelPath;
use crate::platform::{Platform, TargetName};

mod cyclonedx;
pub mod graph;
pub mod read;
mod spdx;

/// The format of the SBOMs `package` writes: `--sbom-format` and the config's
/// `sbom-format` spell it the same way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    #[value(name = "cyclonedx", help = "CycloneDX 1.5 JSON, `<archive>.cdx.json`")]
    CycloneDx,
    /// SPDX 2.3 JSON, `<archive>.spdx.json`
    Spdx,
}

impl Format {
    /// What follows the archive's file name.
    pub fn suffix(self) -> &'static str {
        match self {
            Format::CycloneDx => crate::layout::CYCLONEDX_SUFFIX,
            Format::Spdx => crate::layout::SPDX_SUFFIX,
        }
    }
}

/// The SBOM of `archive`: beside it, named after its file name, whatever its extension.
pub fn path(archive: &RelPath, format: Format) -> RelPath {
    crate::layout::sbom(archive, format.suffix())
}

/// What one SBOM describes: an archive, its name and version (the package's, or the
/// workspace's for a per-target archive), its target and the graphs of its packages.
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    pub archive: &'a RelPath,
    pub name: &'a str,
    pub version: &'a str,
    pub target: &'a TargetName,
    pub platform: Platform,
    pub graphs: Vec<&'a Graph>,
    /// Seconds since the epoch: the document's creation time.
    pub source_date: u64,
}

impl Subject<'_> {
    /// The crates of every graph, each once (see [`graph::union`]).
    fn crates(&self) -> Vec<Crate> {
        graph::union(&self.graphs)
    }

    /// The one root crate that is the archive itself (a per-package archive), if any.
    fn single_root(crates: &[Crate], name: &str, version: &str) -> Option<usize> {
        let roots: Vec<usize> = (0..crates.len()).filter(|&i| crates[i].root).collect();
        match roots.as_slice() {
            [r] if crates[*r].name == name && crates[*r].version == version => Some(*r),
            _ => None,
        }
    }
}

/// The SBOM document's bytes.
pub fn render(subject: &Subject, format: Format) -> Result<Vec<u8>> {
    if subject.graphs.is_empty() {
        bail!(
            "no dependency graph for `{}` on `{}`",
            subject.name,
            subject.target
        );
    }
    let mut bytes = match format {
        Format::CycloneDx => cyclonedx::render(subject),
        Format::Spdx => spdx::render(subject),
    };
    bytes.push(b'\n');
    Ok(bytes)
}

/// `pkg:cargo/<name>@<version>`, with `repository_url` for another registry and
/// `vcs_url` (`git+<url>@<rev>`) for a git crate.
pub fn purl(c: &Crate) -> String {
    let base = format!("pkg:cargo/{}@{}", c.name, pct(&c.version));
    match &c.source {
        s if s.is_crates_io() => base,
        Source::Registry { index } => format!("{base}?repository_url={}", pct(index)),
        Source::Git { url, rev } => format!("{base}?vcs_url={}", pct(&format!("git+{url}@{rev}"))),
        Source::Path { .. } => base,
    }
}

/// Percent-encoding for purl parts: unreserved characters, `:` and `/` stay.
fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Where a crate can be fetched: crates.io's download URL, a git URL at its commit.
fn download_url(c: &Crate) -> Option<String> {
    match &c.source {
        s if s.is_crates_io() => Some(format!(
            "https://crates.io/api/v1/crates/{}/{}/download",
            c.name, c.version
        )),
        Source::Git { url, rev } => Some(format!("git+{url}@{rev}")),
        _ => None,
    }
}

/// Whether `s` reads as an SPDX license expression: license ids (`MIT`,
/// `LicenseRef-x`, `GPL-2.0+`) joined by `AND`, `OR` and `WITH`, with balanced parentheses.
pub fn is_spdx_expression(s: &str) -> bool {
    let spaced = s.replace('(', " ( ").replace(')', " ) ");
    let mut depth = 0usize;
    let mut want_id = true;
    for tok in spaced.split_whitespace() {
        match tok {
            "(" if want_id => depth += 1,
            ")" if !want_id && depth > 0 => depth -= 1,
            "AND" | "OR" | "WITH" if !want_id => want_id = true,
            id if want_id
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.+:".contains(&b)) =>
            {
                want_id = false;
            }
            _ => return false,
        }
    }
    !want_id && depth == 0
}

/// A UUID (version-5 shaped) from the hash of a document's other bytes: the same
/// document always gets the same serial number.
fn uuid_of(bytes: &[u8]) -> String {
    let h = Sha256::of(bytes);
    let hex = h.as_str();
    let variant = u8::from_str_radix(&hex[16..17], 16).expect("hex") & 0x3 | 0x8;
    format!(
        "{}-{}-5{}-{:x}{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        variant,
        &hex[17..20],
        &hex[20..32]
    )
}

/// The text of a crate's build-time role, for people.
fn build_time_note(c: &Crate) -> &'static str {
    if c.proc_macro {
        "build-time only: a proc-macro, run by the compiler on the build machine; not in the binary"
    } else {
        "build-time only: used by a build script or a proc-macro on the build machine; not in the binary"
    }
}

#[cfg(test)]
mod tests;
