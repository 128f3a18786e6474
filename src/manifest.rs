//! `out/manifest.json` (schema `cargo-multiarch/manifest/v1`) and `out/SHA256SUMS`:
//! what an out dir holds, machine-readable and `sha256sum -c` checkable.

use anyhow::{Context as _, Result, bail};
use serde::{Deserialize, Serialize};

use crate::binary::Linkage;
use crate::digest::Sha256;
use crate::layout::{self, Kind};
use crate::outdir::{OutDir, RelPath};
use crate::output::FileEvent;
use crate::platform::{Platform, TargetName};

pub const SCHEMA: &str = "cargo-multiarch/manifest/v1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub schema: String,
    pub tool: Tool,
    /// Seconds since the epoch: every archive entry's mtime and the images' `created`.
    pub source_date_epoch: u64,
    pub git: Option<Git>,
    /// The platforms this set is meant to hold (`linux/amd64`, …); `verify` checks them.
    pub platforms: Vec<Platform>,
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Artifact {
    pub kind: Kind,
    /// Relative to the out dir; never absolute, never `..`.
    pub path: RelPath,
    pub sha256: Sha256,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
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
    /// For an image manifest on a base: the base as given and the digest of the base's
    /// manifest for this platform (what `org.opencontainers.image.base.digest` names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<BaseImage>,
}

/// The base an image manifest was written on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaseImage {
    /// As given to `--base` or `base = …` (`127.0.0.1:5000/base:1`, `oci:dir:tag`).
    pub name: String,
    /// `sha256:…` of the base's manifest for the platform.
    pub digest: String,
    /// `sha256:…` the name resolved to (the base's index, or its only manifest): pin
    /// it as `NAME@DIGEST` to rebuild on the same base.
    pub resolved: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Content {
    /// Path inside the archive.
    pub path: RelPath,
    pub sha256: Sha256,
    pub size: u64,
    pub mode: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary: Option<String>,
}

/// The largest `manifest.json` read back (a real one is a few KiB).
const MAX_BYTES: u64 = crate::limits::MAX_MANIFEST_BYTES;

impl Artifact {
    /// This artifact's bytes, read once (at most `max`) and checked against its sha256
    /// here, so what a check parses is exactly what was hashed, never a file changed in
    /// between.
    pub(crate) fn read_checked(&self, out: &OutDir, max: u64) -> Result<Vec<u8>> {
        let bytes = out.read(&self.path, max)?;
        if Sha256::of(&bytes) != self.sha256 {
            bail!(
                "its bytes are not the ones the manifest lists (sha256 {}) (hint: re-run `cargo multiarch package`)",
                self.sha256
            );
        }
        Ok(bytes)
    }

    /// An artifact with only what every kind has; the rest is filled in by the caller.
    pub fn new(kind: Kind, path: RelPath, sha256: Sha256, size: u64) -> Self {
        Self {
            kind,
            path,
            sha256,
            size,
            target: None,
            platform: None,
            package: None,
            version: None,
            binary: None,
            linkage: None,
            contents: Vec::new(),
            reference: None,
            base: None,
        }
    }

    /// This artifact as an event (`artifact`, `packaged`, `verified`…): `backend` is
    /// what built its binaries when known, `elapsed` the time it took to write.
    pub fn event(
        &self,
        out: &OutDir,
        backend: Option<&str>,
        elapsed: Option<std::time::Duration>,
    ) -> FileEvent {
        FileEvent {
            out_dir: out.root().to_string(),
            kind: self.kind,
            path: self.path.to_string(),
            sha256: self.sha256.to_string(),
            size: self.size,
            platform: self.platform.map(|p| p.to_string()),
            target: self.target.as_ref().map(ToString::to_string),
            package: self.package.clone(),
            version: self.version.clone(),
            binary: self.binary.clone(),
            binaries: self
                .contents
                .iter()
                .filter_map(|c| c.binary.clone())
                .collect(),
            backend: backend.map(str::to_owned),
            elapsed_ms: elapsed.map(crate::output::millis),
        }
    }
}

impl Manifest {
    pub fn rel() -> RelPath {
        RelPath::new(layout::MANIFEST).expect("a plain name")
    }

    /// Reads and checks `manifest.json`: its schema, every field's form (paths inside
    /// the out dir, 64-hex digests, known targets and platforms), and that it lists at
    /// least one artifact.
    pub fn read(out: &OutDir) -> Result<Self> {
        let shown = out.display(&Self::rel());
        let bytes = out.read(&Self::rel(), MAX_BYTES).with_context(|| {
            format!(
                "cannot read `{shown}` (hint: run `cargo multiarch package` first, or pass `--out-dir`)"
            )
        })?;
        Self::parse(&bytes).with_context(|| format!("`{shown}` is not a valid manifest"))
    }

    /// Parses manifest bytes (see [`Manifest::read`]).
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).context("it is not valid JSON")?;
        let schema = value
            .get("schema")
            .and_then(|s| s.as_str())
            .unwrap_or("(none)");
        if schema != SCHEMA {
            bail!(
                "it has schema `{}`, this cargo-multiarch reads `{SCHEMA}` (hint: re-run `cargo multiarch package` with this version)",
                schema.escape_debug()
            );
        }
        let m: Self = serde_json::from_value(value)
            .with_context(|| format!("it does not follow `{SCHEMA}`"))?;
        m.check()?;
        Ok(m)
    }

    fn check(&self) -> Result<()> {
        if self.artifacts.is_empty() {
            bail!("it lists no artifacts (hint: run `cargo multiarch package`)");
        }
        if self.platforms.is_empty() {
            bail!("it expects no platform (hint: run `cargo multiarch package`)");
        }
        if let Some(g) = &self.git {
            plain_text("git.commit", &g.commit)?;
            if !(g.commit.len() == 40 || g.commit.len() == 64)
                || !g.commit.bytes().all(|b| b.is_ascii_hexdigit())
            {
                bail!(
                    "`git.commit` `{}` is not a commit hash",
                    g.commit.escape_debug()
                );
            }
        }
        plain_text("tool.name", &self.tool.name)?;
        plain_text("tool.version", &self.tool.version)?;
        for a in &self.artifacts {
            if a.kind == Kind::Archive {
                layout::check_archive_name(&a.path)?;
            }
            for (field, value) in [
                ("package", &a.package),
                ("version", &a.version),
                ("binary", &a.binary),
                ("reference", &a.reference),
            ] {
                if let Some(v) = value {
                    plain_text(field, v)?;
                }
            }
            if let Some(b) = &a.base {
                plain_text("base.name", &b.name)?;
                for d in [&b.digest, &b.resolved] {
                    crate::digest::Sha256::parse_oci(d)
                        .with_context(|| format!("`base` of `{}`", a.path))?;
                }
            }
            for c in &a.contents {
                if !matches!(c.mode.as_str(), "0644" | "0755") {
                    bail!(
                        "`{}` in `{}` has mode `{}`; archives hold modes 0644 and 0755 only",
                        c.path,
                        a.path,
                        c.mode.escape_debug()
                    );
                }
                if let Some(b) = &c.binary {
                    plain_text("binary", b)?;
                }
            }
        }
        Ok(())
    }

    /// The release: every file `SHA256SUMS` lists, `sign` covers (through its one
    /// signature of `SHA256SUMS`) and `verify` checks, with its sha256, sorted by path.
    /// That is every artifact (binaries, archives, SBOMs, the provenance, `image.tar`,
    /// `oci/index.json` and `oci/oci-layout`, the image indexes and manifests and the CA
    /// certificate layer in `oci/blobs/`) and each archive's `.sha256`, whose bytes
    /// follow from the archive's hash ([`sidecar_text`]). The other blobs of `oci/`
    /// (configs, layers, attestations) are named by their digests inside the listed
    /// indexes and manifests, so the listed hashes reach them too; `verify` refuses
    /// any file of `oci/` they do not reach.
    pub fn release_files(&self) -> Vec<(RelPath, Sha256)> {
        let mut files: Vec<(RelPath, Sha256)> = Vec::new();
        for a in &self.artifacts {
            files.push((a.path.clone(), a.sha256.clone()));
            if a.kind == Kind::Archive {
                let text = sidecar_text(&a.path, &a.sha256);
                files.push((layout::sidecar(&a.path), Sha256::of(text.as_bytes())));
            }
        }
        files.sort();
        files.dedup();
        files
    }

    /// The `SHA256SUMS` text: [`Manifest::release_files`], `<hex>  <path>` per line.
    pub fn sha256sums(&self) -> String {
        let mut text = String::new();
        for (path, sha) in self.release_files() {
            text.push_str(&format!("{sha}  {path}\n"));
        }
        text
    }

    /// Writes `SHA256SUMS` then `manifest.json`, each atomically, after everything they
    /// point at is in place.
    pub fn write(&mut self, out: &OutDir) -> Result<()> {
        self.artifacts
            .sort_by(|a, b| a.path.cmp(&b.path).then(a.kind.cmp(&b.kind)));
        self.platforms.sort();
        self.platforms.dedup();
        out.write(
            &RelPath::new(layout::SUMS).expect("a plain name"),
            self.sha256sums().as_bytes(),
        )?;
        let mut json = serde_json::to_vec_pretty(self).expect("manifests serialise");
        json.push(b'\n');
        out.write(&Self::rel(), &json)
    }
}

/// A name or version read back is printable text: no control characters (which could
/// rewrite the terminal a report is shown on).
pub fn plain_text(field: &str, s: &str) -> Result<()> {
    if s.is_empty() || s.len() > 1024 || s.chars().any(char::is_control) {
        bail!(
            "`{field}` `{}` is empty, too long or holds control characters",
            s.escape_debug()
        );
    }
    Ok(())
}

/// The text of `<archive>.sha256`: the archive's line of `sha256sum`, by file name (so
/// `sha256sum -c` works in the archive's directory).
pub fn sidecar_text(archive: &RelPath, sha256: &Sha256) -> String {
    format!("{sha256}  {}\n", archive.file_name())
}

/// The tool itself, as recorded in manifests.
pub fn tool() -> Tool {
    Tool {
        name: env!("CARGO_PKG_NAME").to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    }
}

/// Property tests: any bytes are a manifest whose every field is well-formed, or an
/// error; never a panic.
#[cfg(test)]
mod props {
    use proptest::collection::vec;
    use proptest::option::of;
    use proptest::prelude::*;
    use proptest::sample::select;

    use super::*;
    use crate::testgen::{
        check_platform, check_rel, check_sha, check_target, config, damaged, json_any, mutated,
        plain, platform, rel_path, sha256, target,
    };

    fn linkage() -> impl Strategy<Value = Linkage> {
        prop_oneof![
            Just(Linkage::Static),
            Just(Linkage::StaticPie),
            (of(any::<String>()), vec(any::<String>(), 0..3)).prop_map(|(interpreter, needed)| {
                Linkage::Dynamic {
                    interpreter,
                    needed,
                }
            }),
        ]
    }

    fn content() -> impl Strategy<Value = Content> {
        (
            rel_path(),
            sha256(),
            any::<u64>(),
            select(&["0644", "0755"][..]),
            of(plain()),
        )
            .prop_map(|(path, sha256, size, mode, binary)| Content {
                path,
                sha256,
                size,
                mode: mode.to_owned(),
                binary,
            })
    }

    fn kind() -> impl Strategy<Value = Kind> {
        select(
            &[
                Kind::Binary,
                Kind::Archive,
                Kind::OciIndex,
                Kind::OciManifest,
                Kind::ImageArchive,
                Kind::CaCertificates,
                Kind::Sbom,
                Kind::Provenance,
                Kind::OciLayout,
            ][..],
        )
    }

    fn artifact() -> impl Strategy<Value = Artifact> {
        let fits = |(kind, path, _, _): &(Kind, RelPath, Sha256, u64)| {
            *kind != Kind::Archive || layout::check_archive_name(path).is_ok()
        };
        (
            (kind(), rel_path(), sha256(), any::<u64>())
                .prop_filter("an archive has room for its sidecar", fits),
            (of(target()), of(platform()), of(plain()), of(plain())),
            (
                of(plain()),
                of(linkage()),
                vec(content(), 0..3),
                of(plain()),
            ),
        )
            .prop_map(
                |(
                    (kind, path, sha256, size),
                    (target, platform, package, version),
                    (binary, linkage, contents, reference),
                )| Artifact {
                    target,
                    platform,
                    package,
                    version,
                    binary,
                    linkage,
                    contents,
                    reference,
                    ..Artifact::new(kind, path, sha256, size)
                },
            )
    }

    /// A valid manifest: every field in its checked form, values otherwise arbitrary.
    fn manifest() -> impl Strategy<Value = Manifest> {
        (
            (plain(), plain()),
            any::<u64>(),
            of(("[0-9a-fA-F]{40}|[0-9a-f]{64}", any::<bool>())),
            vec(platform(), 1..4),
            vec(artifact(), 1..4),
        )
            .prop_map(
                |((name, version), epoch, git, platforms, artifacts)| Manifest {
                    schema: SCHEMA.to_owned(),
                    tool: Tool { name, version },
                    source_date_epoch: epoch,
                    git: git.map(|(commit, dirty)| Git { commit, dirty }),
                    platforms,
                    artifacts,
                },
            )
    }

    /// What every manifest that parses holds.
    fn check_parsed(m: &Manifest) {
        assert_eq!(m.schema, SCHEMA);
        assert!(!m.artifacts.is_empty() && !m.platforms.is_empty());
        for p in &m.platforms {
            check_platform(*p);
        }
        for a in &m.artifacts {
            check_rel(&a.path);
            check_sha(&a.sha256);
            a.target.iter().for_each(check_target);
            a.platform.into_iter().for_each(check_platform);
            for s in [&a.package, &a.version, &a.binary, &a.reference]
                .into_iter()
                .flatten()
            {
                plain_text("field", s).unwrap();
            }
            for c in &a.contents {
                check_rel(&c.path);
                check_sha(&c.sha256);
                assert!(c.mode == "0644" || c.mode == "0755", "{:?}", c.mode);
            }
        }
        let sums = m.sha256sums();
        assert!(
            sums.lines()
                .all(|l| l.len() > 66 && l.as_bytes()[64] == b' ')
        );
        // What parsed serialises and parses back to itself.
        let again = Manifest::parse(&serde_json::to_vec_pretty(m).unwrap()).unwrap();
        assert_eq!(&again, m);
    }

    proptest! {
        #![proptest_config(config(256))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..256)) {
            if let Ok(m) = Manifest::parse(&bytes) {
                check_parsed(&m);
            }
        }

        #[test]
        fn arbitrary_json_never_panics(json in json_any()) {
            if let Ok(m) = Manifest::parse(json.render().as_bytes()) {
                check_parsed(&m);
            }
        }

        #[test]
        fn valid_manifests_round_trip(m in manifest()) {
            check_parsed(&m);
            let compact = serde_json::to_vec(&m).unwrap();
            prop_assert_eq!(Manifest::parse(&compact).unwrap(), m);
        }

        #[test]
        fn manifests_with_any_field_replaced_never_panic(
            text in manifest().prop_flat_map(|m| mutated(serde_json::to_value(m).unwrap())),
        ) {
            if let Ok(m) = Manifest::parse(text.as_bytes()) {
                check_parsed(&m);
            }
        }

        #[test]
        fn damaged_manifests_never_panic(
            bytes in manifest().prop_flat_map(|m| damaged(serde_json::to_string(&m).unwrap())),
        ) {
            if let Ok(m) = Manifest::parse(&bytes) {
                check_parsed(&m);
            }
        }
    }

    /// `SHA256SUMS` is the release: every artifact, each archive's `.sha256` (with the
    /// hash of the bytes `package` writes into it) and `oci/index.json`.
    #[test]
    fn the_release_is_every_artifact_and_each_archive_sidecar() {
        let rel = |s: &str| RelPath::new(s).unwrap();
        let archive = rel("linux/amd64/app-1.0-x86_64-unknown-linux-musl.tar.gz");
        let sha = Sha256::of(b"archive");
        let m = Manifest {
            schema: SCHEMA.to_owned(),
            tool: tool(),
            source_date_epoch: 0,
            git: None,
            platforms: vec![Platform::parse("linux/amd64").unwrap()],
            artifacts: vec![
                Artifact::new(Kind::OciLayout, rel("oci/index.json"), Sha256::of(b"i"), 1),
                Artifact::new(Kind::Archive, archive.clone(), sha.clone(), 7),
                Artifact::new(
                    Kind::OciIndex,
                    rel("oci/blobs/sha256/ab"),
                    Sha256::of(b"x"),
                    1,
                ),
            ],
        };
        let files: Vec<String> = m
            .release_files()
            .iter()
            .map(|(p, _)| p.to_string())
            .collect();
        assert_eq!(
            files,
            [
                "linux/amd64/app-1.0-x86_64-unknown-linux-musl.tar.gz",
                "linux/amd64/app-1.0-x86_64-unknown-linux-musl.tar.gz.sha256",
                "oci/blobs/sha256/ab",
                "oci/index.json",
            ]
        );
        let side = Sha256::of(sidecar_text(&archive, &sha).as_bytes());
        assert!(
            m.sha256sums()
                .contains(&format!("{side}  {}\n", layout::sidecar(&archive))),
            "{}",
            m.sha256sums()
        );
    }

    /// The seeds of the `manifest` fuzz target (`fuzz/corpus/manifest/`), through the
    /// same checks on stable: `valid.json` parses and round-trips, the others fail.
    #[test]
    fn fuzz_seeds_are_what_their_names_say() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/manifest");
        let mut seen = 0;
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            let parsed = Manifest::parse(&bytes);
            if path.ends_with("valid.json") {
                check_parsed(&parsed.unwrap());
            } else {
                assert!(parsed.is_err(), "{} parsed", path.display());
            }
            seen += 1;
        }
        assert!(seen > 5, "the seeds are in {dir}");
    }
}
