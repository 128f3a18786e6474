//! Every path of an out dir, named once: what the release's files are called and where
//! they sit. Writers (`build`, `package`, `image`, `sign`, `merge`) and readers
//! (`verify`, `merge`, `image --no-build`) all take their names from here; see
//! ARCHITECTURE.md ("The out/ contract") for who writes and who reads each.
//!
//! ```text
//! out/
//!   manifest.json  SHA256SUMS  SHA256SUMS.minisig
//!   provenance.intoto.json  provenance.intoto.json.minisig
//!   <os>/<arch>/bin/<binary>[.exe]
//!   <os>/<arch>/<archive>.tar.gz|.zip  <archive>.sha256  <archive>.cdx.json|.spdx.json
//!   <archive>.sig (minisign, for cargo-binstall)
//!   <set>-installer.sh  <set>-installer.ps1
//!   oci/ (index.json, oci-layout, blobs/sha256/<hex>)   image.tar
//!   .multiarch/<target>.json  .multiarch/<target>.json.pending  .multiarch/lock
//! ```
//!
//! Which of these files make the *release* (what `SHA256SUMS` lists, `sign` covers and
//! `verify` checks) is decided once, by `manifest::Manifest::release_files`: every
//! artifact of `manifest.json` and each archive's `.sha256`. `oci/index.json` and
//! `oci/oci-layout` are artifacts (kind `oci-layout`); the blobs are content-addressed,
//! so the digests listed reach every one, and `verify` refuses any other file in `oci/`.

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use crate::outdir::RelPath;
use crate::platform::{Platform, TargetName};

/// The out dir, relative to the workspace root, unless `--out-dir` or `out-dir` says.
pub const DEFAULT_OUT_DIR: &str = "out";
/// `manifest.json`: every artifact with its hash, size and platform.
pub const MANIFEST: &str = "manifest.json";
/// `SHA256SUMS`: `sha256sum -c` checkable, one line per artifact.
pub const SUMS: &str = "SHA256SUMS";
/// `provenance.intoto.json`: SLSA provenance over every other artifact.
pub const PROVENANCE: &str = "provenance.intoto.json";
/// The OCI image layout written by `image`.
pub const OCI_DIR: &str = "oci";
/// The OCI layout's `index.json` (the images' names), inside [`OCI_DIR`].
pub const OCI_INDEX: &str = "index.json";
/// The OCI layout's `oci-layout` marker, inside [`OCI_DIR`].
pub const OCI_LAYOUT_FILE: &str = "oci-layout";
/// Where the OCI layout keeps its blobs, inside [`OCI_DIR`].
pub const OCI_BLOBS: &str = "blobs/sha256";
/// `image --archive`: the OCI layout as one tar, loadable by `docker load`.
pub const IMAGE_ARCHIVE: &str = "image.tar";
/// The tool's own state: build records, staging journals, the lock.
pub const STATE_DIR: &str = ".multiarch";
/// The out dir's lock file (an OS file lock; never part of the release).
pub const LOCK: &str = ".multiarch/lock";
/// What a minisign signature's name adds to the signed file's.
pub const SIGNATURE_SUFFIX: &str = ".minisig";
/// What an archive's own minisign signature adds to its name: `.sig`, the name
/// cargo-binstall fetches (`{ url }.sig`).
pub const ARCHIVE_SIGNATURE_SUFFIX: &str = ".sig";
/// What an installer's name adds to its archive set's (a package's name, or the
/// workspace's with `--archive per-target`): `-installer.sh`.
pub const INSTALLER_SH_SUFFIX: &str = "-installer.sh";
/// The PowerShell installer's: `-installer.ps1`.
pub const INSTALLER_PS1_SUFFIX: &str = "-installer.ps1";
/// What an archive's checksum sidecar adds to its name.
pub const SIDECAR_SUFFIX: &str = ".sha256";
/// What a `CycloneDX` SBOM adds to its archive's name.
pub const CYCLONEDX_SUFFIX: &str = ".cdx.json";
/// What an SPDX SBOM adds to its archive's name.
pub const SPDX_SUFFIX: &str = ".spdx.json";
/// What a staging journal adds to its build record's name.
const JOURNAL_SUFFIX: &str = ".pending";

/// What a file of the release is, as `manifest.json` and the events name it.
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
    /// The images' CA certificate layer, inside `oci/blobs/`: `contents` is the bundle,
    /// `package` and `version` the crate it was generated from.
    CaCertificates,
    /// An archive's SBOM, beside it (`<archive>.cdx.json` or `<archive>.spdx.json`).
    Sbom,
    /// `provenance.intoto.json`: SLSA provenance over every other artifact.
    Provenance,
    /// A file of the OCI image layout outside its blobs: `oci/index.json` (each image's
    /// names, `org.opencontainers.image.ref.name`, and digests) and `oci/oci-layout`.
    OciLayout,
    /// `<set>-installer.sh` / `.ps1`: downloads, checks and installs the archive of
    /// the machine it runs on, from the archives' names and hashes it carries.
    Installer,
}

impl Kind {
    /// Written by `image` (and dropped or kept with the images).
    pub fn is_image(self) -> bool {
        matches!(
            self,
            Kind::OciIndex
                | Kind::OciManifest
                | Kind::OciLayout
                | Kind::ImageArchive
                | Kind::CaCertificates
        )
    }
}

fn plain(s: &str) -> RelPath {
    RelPath::new(s).expect("a plain relative path")
}

/// `<os>/<arch>[/<variant>]`: a platform's directory.
pub fn platform_dir(platform: Platform) -> RelPath {
    plain(&platform.to_string())
}

/// Where a binary is staged: `<platform>/bin/<name><exe suffix>`.
pub fn binary(platform: Platform, binary: &str) -> Result<RelPath> {
    let name = format!("{binary}{}", platform.exe_suffix());
    if name.contains('/') {
        bail!("binary name `{}` holds a `/`", binary.escape_debug());
    }
    platform_dir(platform).join("bin")?.join(&name)
}

/// `<platform>/bin`: the staged binaries of a platform.
pub fn bin_dir(platform: Platform) -> RelPath {
    platform_dir(platform).join("bin").expect("a plain name")
}

/// An archive: `<platform>/<top>.tar.gz` (`.zip` for Windows), `top` being the
/// directory every entry sits in.
pub fn archive(platform: Platform, top: &str) -> Result<RelPath> {
    platform_dir(platform).join(&format!("{top}.{}", platform.archive_ext()))
}

/// A file beside `file`, named after it with `suffix` added.
fn beside(file: &RelPath, suffix: &str) -> RelPath {
    let name = format!("{}{suffix}", file.file_name());
    match file.parent() {
        Some(dir) => dir.join(&name),
        None => RelPath::new(&name),
    }
    .expect("a plain name with a suffix")
}

/// Whether the files named after `archive` (its `.sha256` and SBOMs) are paths too:
/// an archive read back whose name leaves them no room is refused, so that
/// [`sidecar`] and [`sbom`] never meet one.
pub fn check_archive_name(archive: &RelPath) -> Result<()> {
    for suffix in [SIDECAR_SUFFIX, CYCLONEDX_SUFFIX, SPDX_SUFFIX] {
        if let Err(e) = RelPath::new(&format!("{archive}{suffix}")) {
            bail!("archive `{archive}` leaves no room for its `{suffix}` file: {e:#}");
        }
    }
    Ok(())
}

/// `<archive>.sha256`, beside the archive.
pub fn sidecar(archive: &RelPath) -> RelPath {
    beside(archive, SIDECAR_SUFFIX)
}

/// An SBOM, beside its archive: `<archive><suffix>` (`.cdx.json` or `.spdx.json`).
pub fn sbom(archive: &RelPath, suffix: &str) -> RelPath {
    beside(archive, suffix)
}

/// `<file>.minisig`, beside `file`.
pub fn signature(file: &RelPath) -> RelPath {
    beside(file, SIGNATURE_SUFFIX)
}

/// `<archive>.sig`, beside the archive: its own minisign signature, where
/// cargo-binstall looks for it.
pub fn archive_signature(archive: &RelPath) -> RelPath {
    beside(archive, ARCHIVE_SIGNATURE_SUFFIX)
}

/// The name of the set an archive belongs to (its package's, or the workspace's with
/// `--archive per-target`): its file name less `-<version>-<target>.<ext>`.
pub fn archive_set<'a>(archive: &'a RelPath, version: &str, target: &str) -> Option<&'a str> {
    let name = archive.file_name();
    let stem = name
        .strip_suffix(".tar.gz")
        .or_else(|| name.strip_suffix(".zip"))?;
    stem.strip_suffix(&format!("-{version}-{target}"))
        .filter(|s| !s.is_empty())
}

/// `<set>-installer.sh` and `<set>-installer.ps1`, at the out dir's top (a release's
/// files are flat).
pub fn installers(set: &str) -> Result<[RelPath; 2]> {
    if set.is_empty() || set.contains('/') {
        bail!(
            "archive set name `{}` is empty or holds a `/`",
            set.escape_debug()
        );
    }
    Ok([
        RelPath::new(&format!("{set}{INSTALLER_SH_SUFFIX}"))?,
        RelPath::new(&format!("{set}{INSTALLER_PS1_SUFFIX}"))?,
    ])
}

/// The set an installer's file name is for, and whether it is the `.sh` one.
pub fn installer_set(name: &str) -> Option<(&str, bool)> {
    name.strip_suffix(INSTALLER_SH_SUFFIX)
        .map(|s| (s, true))
        .or_else(|| name.strip_suffix(INSTALLER_PS1_SUFFIX).map(|s| (s, false)))
        .filter(|(s, _)| !s.is_empty() && !s.contains('/'))
}

/// `.multiarch`: build records, journals and the lock.
pub fn state_dir() -> RelPath {
    plain(STATE_DIR)
}

/// `.multiarch/<target>.json`: what `build` staged for a target.
pub fn record(target: &TargetName) -> RelPath {
    plain(&format!("{STATE_DIR}/{target}.json"))
}

/// `.multiarch/<target>.json.pending`: the staging journal of a target.
pub fn journal(target: &TargetName) -> RelPath {
    plain(&format!("{STATE_DIR}/{target}.json{JOURNAL_SUFFIX}"))
}

/// The target whose journal `name` (a file name inside [`STATE_DIR`]) is.
pub fn journal_target(name: &str) -> Option<&str> {
    name.strip_suffix(&format!(".json{JOURNAL_SUFFIX}"))
}

/// `.multiarch/lock`.
pub fn lock() -> RelPath {
    plain(LOCK)
}

/// `oci/`.
pub fn oci_dir() -> RelPath {
    plain(OCI_DIR)
}

/// `blobs/sha256/<hex>` inside an OCI layout, for a checked hex digest.
pub fn oci_blob(hex: &str) -> Result<RelPath> {
    crate::digest::Sha256::parse(hex)?;
    RelPath::new(&format!("{OCI_BLOBS}/{hex}"))
}

/// `oci/<name>`: a file of the out dir's OCI layout (`index.json`, `oci-layout`, a blob).
pub fn in_oci(name: &str) -> Result<RelPath> {
    oci_dir().join(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_beside_a_file_keep_its_directory() {
        let a = plain("linux/arm64/app-1.0.0-aarch64-unknown-linux-musl.tar.gz");
        assert_eq!(
            sidecar(&a).as_str(),
            "linux/arm64/app-1.0.0-aarch64-unknown-linux-musl.tar.gz.sha256"
        );
        assert_eq!(
            sbom(&a, CYCLONEDX_SUFFIX).as_str(),
            "linux/arm64/app-1.0.0-aarch64-unknown-linux-musl.tar.gz.cdx.json"
        );
        assert_eq!(signature(&plain(SUMS)).as_str(), "SHA256SUMS.minisig");
        assert_eq!(
            archive_signature(&a).as_str(),
            "linux/arm64/app-1.0.0-aarch64-unknown-linux-musl.tar.gz.sig"
        );
    }

    #[test]
    fn installers_are_named_after_their_archive_set() {
        let a = plain("linux/arm64/my-app-1.0.0-aarch64-unknown-linux-musl.tar.gz");
        assert_eq!(
            archive_set(&a, "1.0.0", "aarch64-unknown-linux-musl"),
            Some("my-app")
        );
        assert_eq!(archive_set(&a, "1.0.1", "aarch64-unknown-linux-musl"), None);
        let w = plain("windows/amd64/ws-2.0.0-x86_64-pc-windows-gnu.zip");
        assert_eq!(
            archive_set(&w, "2.0.0", "x86_64-pc-windows-gnu"),
            Some("ws")
        );
        let [sh, ps1] = installers("my-app").unwrap();
        assert_eq!(sh.as_str(), "my-app-installer.sh");
        assert_eq!(ps1.as_str(), "my-app-installer.ps1");
        assert_eq!(installer_set(sh.as_str()), Some(("my-app", true)));
        assert_eq!(installer_set(ps1.as_str()), Some(("my-app", false)));
        assert_eq!(installer_set("-installer.sh"), None);
        assert!(installers("a/b").is_err());
    }

    #[test]
    fn records_and_journals_pair_up() {
        let t = TargetName::new("aarch64-unknown-linux-musl").unwrap();
        assert_eq!(
            record(&t).as_str(),
            ".multiarch/aarch64-unknown-linux-musl.json"
        );
        let j = journal(&t);
        assert_eq!(journal_target(j.file_name()), Some(t.as_str()));
        assert_eq!(journal_target("x.json"), None);
    }

    #[test]
    fn binaries_may_not_name_a_directory() {
        let p = Platform::parse("linux/amd64").unwrap();
        assert_eq!(binary(p, "app").unwrap().as_str(), "linux/amd64/bin/app");
        assert!(binary(p, "a/b").is_err());
        assert!(oci_blob("zz").is_err());
    }
}
