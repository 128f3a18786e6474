//! `cargo multiarch image`: builds what it needs (unless `--no-build`), then the staged
//! binaries (from the build records, never from cargo's target dir) become one
//! multi-platform OCI image per binary — or one image holding them all — in `out/oci/`,
//! recorded in `out/manifest.json`; optionally also `out/image.tar` and a push to
//! registries.

use std::collections::BTreeMap;

use anyhow::{Context as _, Result, bail};
use camino::Utf8Path;

use super::attest::{self, Attestation};
use super::naming::{self, Planned};
use super::{Auth, ImageResult, ImageSpec, LayoutResult, PlatformImage, Settings, certs};
use crate::archive::{Entry, Source};
use crate::digest::Sha256;
use crate::layout::Kind;
use crate::manifest::{self, Artifact, Content, Manifest};
use crate::outdir::{OutDir, RelPath};
use crate::output::Shell;
use crate::output::{Event, ImageManifest};
use crate::plan::Plan;
use crate::platform::Platform;
use crate::provenance;
use crate::record::BuildRecord;

const DEFAULT_BIN_DIR: &str = "/usr/local/bin";

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--tag` values: `NAME:TAG`, or `TAG` under the image's name.
    pub tags: Vec<String>,
    /// Also name each platform's manifest `<name>-<os>-<arch>[-<variant>]`.
    pub platform_tags: bool,
    /// `--annotation` values, winning over the config's.
    pub annotations: Vec<(String, String)>,
    /// Add the CA certificate bundle to every image (else as the config says).
    pub ca_certificates: bool,
    /// One image with every selected binary.
    pub combined: bool,
    pub archive: bool,
    /// Attach no attestation manifests.
    pub no_attest: bool,
    /// `--push`: `Some(None)` to the registry each name names, `Some(Some(REF))` to REF.
    pub push: Option<Option<String>>,
    pub auth: Auth,
    pub insecure: bool,
    /// `--base REF`: the image every image goes on (else each image's config says).
    pub base: Option<String>,
    pub level: u32,
    /// This machine's probes: the compilers the provenance names when no `package`
    /// wrote one before.
    pub probes: crate::probe::Probes,
}

/// Checks the image names and, when pushing, every destination: what `image` decides
/// before anything is built.
pub fn check_names(plan: &Plan, opts: &Options) -> Result<()> {
    decide(plan, opts).map(drop)
}

/// The bases the images go on, by reference, each resolved for every platform of the
/// plan (an error names what a base lacks): what `image` fetches before anything is
/// built.
pub fn resolve_bases(plan: &Plan, opts: &Options, shell: &Shell) -> Result<Bases> {
    let platforms: Vec<Platform> = plan.targets.iter().map(|t| t.platform).collect();
    let mut bases = Bases::new();
    for img in decide(plan, opts)? {
        let Some(text) = base_of(opts, &img) else {
            continue;
        };
        if let std::collections::btree_map::Entry::Vacant(slot) = bases.entry(text) {
            let text = slot.key().clone();
            super::base::check(&text)?;
            shell.status("Resolving", format!("base {text}"));
            // A local path of `--base` is the shell's; one of `base = …` is relative to
            // the directory of the table that says it, as `files` are.
            let relative_to = if opts.base.is_some() {
                camino::Utf8PathBuf::new()
            } else {
                img.base.clone()
            };
            slot.insert(super::base::resolve(
                &text,
                &relative_to,
                &platforms,
                &opts.auth,
                opts.insecure,
                shell,
            )?);
        }
    }
    Ok(bases)
}

/// The resolved bases, by the reference given.
pub type Bases = BTreeMap<String, super::Base>;

/// The base of one image: `--base`, else its config's.
fn base_of(opts: &Options, img: &Planned) -> Option<String> {
    opts.base.clone().or_else(|| img.config.base.clone())
}

/// The bases in the provenance, as resolved dependencies (`NAME` with the digest it
/// resolved to), in place of any an earlier `image` recorded.
fn record_bases(predicate: &mut provenance::Predicate, bases: &Bases) {
    let deps = &mut predicate.build_definition.resolved_dependencies;
    deps.retain(|r| !r.annotations.contains_key(super::BASE_NAME_ANNOTATION));
    for (text, base) in bases {
        let hex = base.digest.strip_prefix("sha256:").unwrap_or(&base.digest);
        deps.push(provenance::Resource {
            name: text.clone(),
            uri: None,
            digest: BTreeMap::from([("sha256".to_owned(), hex.to_owned())]),
            annotations: BTreeMap::from([(super::BASE_NAME_ANNOTATION.to_owned(), text.clone())]),
        });
    }
    deps.sort();
    deps.dedup();
}

/// The images to assemble and, when pushing, that every destination is well-formed.
fn decide(plan: &Plan, opts: &Options) -> Result<Vec<Planned>> {
    let planned = naming::plan_images(plan, &opts.tags, opts.combined)?;
    if let Some(push) = &opts.push {
        let platforms: Vec<Platform> = plan.targets.iter().map(|t| t.platform).collect();
        let views: Vec<(&[String], &[Platform])> = planned
            .iter()
            .map(|p| (p.names.as_slice(), platforms.as_slice()))
            .collect();
        naming::push_plan(&views, push.as_deref(), opts.platform_tags)?;
    }
    Ok(planned)
}

/// Assembles the images from the records' staged binaries; returns them as written
/// into `out/oci`.
pub fn assemble(
    plan: &Plan,
    out: &OutDir,
    records: &[BuildRecord],
    shell: &Shell,
    opts: &Options,
    bases: &Bases,
) -> Result<Vec<ImageResult>> {
    // Every staged binary must still be what `build` recorded.
    let binaries: Vec<Artifact> = records
        .iter()
        .flat_map(|r| &r.binaries)
        .map(|b| crate::package::binary_artifact(out, b))
        .collect::<Result<_>>()?;
    let existing = fresh_manifest(out, &binaries, *shell);
    let mut assembly = Assembly::new(plan, out, records, existing.as_ref(), opts)?;
    let planned = decide(plan, opts)?;
    let used: Bases = planned
        .iter()
        .filter_map(|img| base_of(opts, img))
        .filter_map(|text| Some((text.clone(), bases.get(&text)?.clone())))
        .collect();
    record_bases(&mut assembly.predicate, &used);
    let specs = planned
        .iter()
        .map(|img| {
            let mut spec = assembly.spec(img)?;
            spec.base = base_of(opts, img).and_then(|text| bases.get(&text).cloned());
            let held: Vec<&Artifact> = binaries
                .iter()
                .filter(|b| b.binary.as_ref().is_some_and(|n| img.binaries.contains(n)))
                .collect();
            super::rootfs::check_interpreters(&img.names[0], &held, spec.base.as_ref())?;
            Ok(spec)
        })
        .collect::<Result<Vec<_>>>()?;

    let oci = out.create_subdir(&crate::layout::oci_dir())?;
    let layout = super::write_layout(&specs, oci.root())?;
    report_images(out, &layout, *shell);
    write_image_archive(out, oci.root(), &layout, opts.archive, *shell)?;
    let Assembly {
        created,
        git,
        predicate,
        ca_layer,
        ..
    } = assembly;
    let ca = ca_layer.map(|(_, sha256, size)| (sha256, size));
    let m = base_manifest(existing, binaries, created, git);
    let m = record_in_manifest(out, m, &layout, opts.archive, ca, &predicate)?;
    for a in m.artifacts.iter().filter(|a| a.kind == Kind::ImageArchive) {
        shell.event(Event::ImageArchive(a.event(out, None, None)));
    }
    if let Some(push) = &opts.push {
        push_images(oci.root(), &layout, push.as_deref(), opts, *shell)?;
    }
    Ok(layout.images)
}

/// The manifest in the out dir when it lists the binaries staged now (else a note
/// that it is written afresh, and `None`).
fn fresh_manifest(out: &OutDir, binaries: &[Artifact], shell: Shell) -> Option<Manifest> {
    Manifest::read(out).ok().filter(|m| {
        let fresh = lists_as_staged(m, binaries);
        if !fresh {
            shell.note(format!(
                "`{}` lists other binaries than the ones staged now, so it is written afresh, without the archives (hint: run `cargo multiarch package` to list them again)",
                out.display(&Manifest::rel())
            ));
        }
        fresh
    })
}

/// What every image of one run shares: the staged binaries' records, the date,
/// commit and provenance they carry, the attestations to attach, and the CA layer.
struct Assembly<'a> {
    out: &'a OutDir,
    records: &'a [BuildRecord],
    opts: &'a Options,
    created: u64,
    git: Option<manifest::Git>,
    predicate: provenance::Predicate,
    inputs: Vec<attest::AttestationInput>,
    /// The CA certificates layer with the bundle's (sha256, size), made for the first
    /// image that has it.
    ca_layer: Option<(Vec<Entry>, Sha256, u64)>,
}

impl<'a> Assembly<'a> {
    /// Gathers the date, commit, provenance and attestation inputs from `existing` (or
    /// from git and the records when `package` has not written a manifest yet).
    fn new(
        plan: &Plan,
        out: &'a OutDir,
        records: &'a [BuildRecord],
        existing: Option<&Manifest>,
        opts: &'a Options,
    ) -> Result<Self> {
        // The images carry the same date and commit as the archives beside them; git is
        // asked only when `package` has not written a manifest yet.
        let (created, git) = if let Some(m) = existing {
            (m.source_date_epoch, m.git.clone())
        } else {
            let source = crate::source::Source::read(&plan.workspace.root, &plan.out_dir)?;
            (source.date, source.git)
        };
        let mut predicate =
            image_provenance(plan, out, records, existing, created, git.as_ref(), opts)?;
        predicate.build_definition.external_parameters.image = Some(provenance::ImageParams {
            combined: opts.combined || plan.workspace.config.image.combined == Some(true),
            compression: opts.level,
        });
        let inputs = existing.map(attest::inputs).unwrap_or_default();
        Ok(Self {
            out,
            records,
            opts,
            created,
            git,
            predicate,
            inputs,
            ca_layer: None,
        })
    }

    /// The spec of one planned image: its files per platform, settings, annotations,
    /// attestations and base layers.
    fn spec(&mut self, img: &Planned) -> Result<ImageSpec> {
        let bin_dir = img
            .config
            .bin_dir
            .clone()
            .unwrap_or_else(|| DEFAULT_BIN_DIR.to_owned());
        let platforms = self.platform_images(img, &bin_dir)?;
        let defaults = self.default_annotations(img);
        let mut labels = defaults.clone();
        labels.extend(img.config.labels.clone());
        let annotations =
            naming::annotations(&defaults, &img.config.annotations, &self.opts.annotations);
        let attestations = self.attestations(img)?;
        let first = &img.binaries[0];
        let entrypoint = img
            .config
            .entrypoint
            .clone()
            .or_else(|| Some(vec![format!("{}/{first}", bin_dir.trim_end_matches('/'))]));
        let mut base_layers = Vec::new();
        if self.opts.ca_certificates || img.config.ca_certificates == Some(true) {
            base_layers.push(self.ca_layer.get_or_insert_with(certs::layer).0.clone());
        }
        Ok(ImageSpec {
            names: img.names.clone(),
            platform_names: self.opts.platform_tags,
            platforms,
            base_layers,
            settings: Settings {
                entrypoint,
                cmd: img.config.cmd.clone(),
                env: img.config.env.clone(),
                labels,
                user: img.config.user.clone(),
                workdir: img.config.workdir.clone(),
            },
            annotations,
            created: self.created,
            level: self.opts.level,
            attestations,
            base: None,
        })
    }

    /// Per platform staged, the image's binaries under `bin_dir` and the config's
    /// `files`; an error for a non-Linux platform or when no binary is staged.
    fn platform_images(&self, img: &Planned, bin_dir: &str) -> Result<Vec<PlatformImage>> {
        let mut platforms = Vec::new();
        for r in self.records {
            let platform = r.platform;
            // A container image here is Linux binaries on scratch or a Linux base.
            if platform.os != "linux" {
                bail!(
                    "`{}` builds {platform} binaries, which no Linux container image can run (hint: select only Linux platforms for `image`, e.g. `--platform linux/amd64,linux/arm64`)",
                    r.target
                );
            }
            let mut files = Vec::new();
            for bin in &img.binaries {
                let Some(b) = r.binaries.iter().find(|b| &b.binary == bin) else {
                    continue;
                };
                files.push(Entry {
                    path: format!("{}/{}", bin_dir.trim_matches('/'), bin),
                    source: Source::File(self.out.file(&b.path)?),
                    mode: 0o755,
                });
            }
            if files.is_empty() {
                continue;
            }
            files.extend(config_files(img)?);
            platforms.push(PlatformImage { platform, files });
        }
        if platforms.is_empty() {
            bail!(
                "no staged binary for image `{}` (hint: run `cargo multiarch plan` to see what is selected)",
                img.names[0]
            );
        }
        Ok(platforms)
    }

    /// The OCI annotations every image has (source, version, revision, created), also
    /// its labels under the config's.
    fn default_annotations(&self, img: &Planned) -> BTreeMap<String, String> {
        let mut defaults = BTreeMap::new();
        if let Some(repo) = &img.repository {
            defaults.insert("org.opencontainers.image.source".to_owned(), repo.clone());
        }
        defaults.insert(
            "org.opencontainers.image.version".to_owned(),
            img.version.clone(),
        );
        if let Some(g) = &self.git {
            defaults.insert(
                "org.opencontainers.image.revision".to_owned(),
                g.commit.clone(),
            );
        }
        defaults.insert(
            "org.opencontainers.image.created".to_owned(),
            crate::date::rfc3339(self.created),
        );
        defaults
    }

    /// The image's attestations (unless `--no-attest`): the provenance, then each input
    /// attestation of a platform and package whose binaries the image holds.
    fn attestations(&self, img: &Planned) -> Result<Vec<Attestation>> {
        let mut attestations = Vec::new();
        if self.opts.no_attest {
            return Ok(attestations);
        }
        attestations.push(Attestation::provenance(&self.predicate.for_image()));
        for input in &self.inputs {
            let held = self.records.iter().flat_map(|r| &r.binaries).any(|b| {
                b.platform == input.platform
                    && img.binaries.contains(&b.binary)
                    && input.package.as_ref().is_none_or(|p| *p == b.package)
            });
            if held {
                attestations.push(Attestation::read(self.out, input)?);
            }
        }
        Ok(attestations)
    }
}

/// The config's `files` of `img`, each from under its base directory (executable ones
/// keep mode 0755); an error names a missing one.
fn config_files(img: &Planned) -> Result<Vec<Entry>> {
    let mut files = Vec::new();
    for (dest, src) in &img.config.files {
        let src_path = img.base.join(src);
        if !src_path.is_file() {
            bail!(
                "image file `{src}` (for `{dest}`) does not exist under `{}` (hint: fix `files` in `[metadata.multiarch.image]`)",
                img.base
            );
        }
        let mode = if is_executable(&src_path) {
            0o755
        } else {
            0o644
        };
        files.push(Entry {
            path: dest.trim_start_matches('/').to_owned(),
            source: Source::File(src_path),
            mode,
        });
    }
    Ok(files)
}

/// Reports each image written: a status line, then its digests on stdout (an event
/// per name with `--message-format json`).
fn report_images(out: &OutDir, layout: &LayoutResult, shell: Shell) {
    for img in &layout.images {
        let platforms: Vec<String> = img
            .manifests
            .iter()
            .filter_map(|m| m.platform.map(|p| p.to_string()))
            .collect();
        let certs = if img.base_layers.is_empty() {
            String::new()
        } else {
            format!(", {} CA certificates", certs::count())
        };
        let base = img
            .base
            .as_ref()
            .map(|b| format!(", on {}", b.name))
            .unwrap_or_default();
        shell.status(
            "Image",
            format!(
                "{} ({}{certs}{base})",
                img.names.join(", "),
                platforms.join(", ")
            ),
        );
        // The digests on stdout, for scripts: `alpha:0.3.0@sha256:…`, one line per name
        // (in events with `--message-format json`).
        for name in &img.names {
            shell.result(format!("{name}@{}", img.index.digest));
            shell.event(Event::Image {
                out_dir: out.root().to_string(),
                reference: name.clone(),
                digest: img.index.digest.clone(),
                size: img.index.size,
                manifests: img
                    .manifests
                    .iter()
                    .map(|m| ImageManifest {
                        platform: m.platform.map(|p| p.to_string()),
                        digest: m.digest.clone(),
                        size: m.size,
                    })
                    .collect(),
            });
        }
        // Then each platform's names, in `index.json`'s order (by name, then platform).
        for k in 0..img.names.len() {
            for (m, names) in img.manifests.iter().zip(&img.manifest_names) {
                if let Some(name) = names.get(k) {
                    shell.result(format!("{name}@{}", m.digest));
                }
            }
        }
    }
}

/// Writes `out/image.tar` from the layout in `oci` when `archive`, else removes a
/// stale one.
fn write_image_archive(
    out: &OutDir,
    oci: &Utf8Path,
    layout: &LayoutResult,
    archive: bool,
    shell: Shell,
) -> Result<()> {
    let archive_rel = RelPath::new(crate::layout::IMAGE_ARCHIVE)?;
    if archive {
        let dest = out.writable(&archive_rel)?;
        super::write_archive(oci, layout, host_platform(), &dest)?;
        shell.status(
            "Wrote",
            format!(
                "{} (OCI layout + docker load manifest)",
                out.display(&archive_rel)
            ),
        );
    } else {
        out.remove(&archive_rel)?;
    }
    Ok(())
}

/// Pushes the images of the layout in `oci` where `--push` (`push`: its value) says,
/// reporting each index pushed and each tag set.
fn push_images(
    oci: &Utf8Path,
    layout: &LayoutResult,
    push: Option<&str>,
    opts: &Options,
    shell: Shell,
) -> Result<()> {
    let views: Vec<(Vec<String>, Vec<Platform>)> = layout
        .images
        .iter()
        .map(|i| {
            let platforms = i.manifests.iter().filter_map(|m| m.platform).collect();
            (i.names.clone(), platforms)
        })
        .collect();
    let views: Vec<(&[String], &[Platform])> = views
        .iter()
        .map(|(n, p)| (n.as_slice(), p.as_slice()))
        .collect();
    for (i, to) in naming::push_plan(&views, push, opts.platform_tags)? {
        let img = &layout.images[i];
        shell.status(
            "Pushing",
            format!("{} to {}", img.reference_name, to.repository),
        );
        let report = super::push_tags(oci, img, &to, &opts.auth, opts.insecure, &shell)?;
        let (index_tags, platform_tags): (Vec<_>, Vec<_>) =
            to.tags.iter().partition(|(_, what)| what.is_none());
        let mut tags = index_tags.iter();
        if let Some((tag, _)) = tags.next() {
            shell.event(Event::Pushed {
                reference: format!("{}:{tag}", to.repository),
                digest: report.index_digest.clone(),
                uploaded: report.uploaded.len(),
                skipped: report.skipped.len(),
            });
            let mounted = if report.mounted.is_empty() {
                String::new()
            } else {
                format!(", {} mounted from the base", report.mounted.len())
            };
            shell.status(
                "Pushed",
                format!(
                    "{}:{tag}@{} ({} blobs uploaded{mounted}, {} already there)",
                    to.repository,
                    report.index_digest,
                    report.uploaded.len(),
                    report.skipped.len()
                ),
            );
        }
        for (tag, what) in tags.chain(&platform_tags) {
            let digest = what.map_or(&img.index.digest, |m| &img.manifests[m].digest);
            shell.status("Tagged", format!("{}:{tag}@{digest}", to.repository));
        }
    }
    Ok(())
}

/// Whether `m` lists each of `binaries` it lists at all with the same hash: else it
/// was written for binaries built since.
fn lists_as_staged(m: &Manifest, binaries: &[Artifact]) -> bool {
    binaries.iter().all(|b| {
        m.artifacts
            .iter()
            .filter(|a| a.kind == Kind::Binary && a.path == b.path)
            .all(|a| a.sha256 == b.sha256)
    })
}

/// The manifest the images are added to: `package`'s (or `merge`'s) with any staged
/// binary it lacks, or a new one listing the staged binaries.
fn base_manifest(
    existing: Option<Manifest>,
    binaries: Vec<Artifact>,
    created: u64,
    git: Option<manifest::Git>,
) -> Manifest {
    match existing {
        Some(mut m) => {
            for b in binaries {
                if !m
                    .artifacts
                    .iter()
                    .any(|a| a.kind == Kind::Binary && a.path == b.path)
                {
                    m.platforms.extend(b.platform);
                    m.artifacts.push(b);
                }
            }
            m
        }
        None => Manifest {
            schema: manifest::SCHEMA.to_owned(),
            tool: manifest::tool(),
            source_date_epoch: created,
            git,
            platforms: binaries.iter().filter_map(|a| a.platform).collect(),
            artifacts: binaries,
        },
    }
}

/// Adds the images to the manifest (replacing earlier ones) and writes it, so `verify`
/// checks them. `ca` is the CA bundle's (sha256, size) when an image has it.
fn record_in_manifest(
    out: &OutDir,
    mut m: Manifest,
    layout: &LayoutResult,
    archive: bool,
    ca: Option<(Sha256, u64)>,
    predicate: &provenance::Predicate,
) -> Result<Manifest> {
    m.artifacts.retain(|a| !a.kind.is_image());
    let blob = |d: &super::Descriptor| -> Result<(RelPath, Sha256)> {
        Ok((
            crate::layout::oci_dir().join(crate::layout::oci_blob(d.hex())?.as_str())?,
            Sha256::parse(d.hex())?,
        ))
    };
    for img in &layout.images {
        let oci = |kind, d: &super::Descriptor| -> Result<Artifact> {
            let (path, sha256) = blob(d)?;
            Ok(Artifact {
                platform: d.platform,
                reference: Some(img.reference_name.clone()),
                ..Artifact::new(kind, path, sha256, d.size)
            })
        };
        m.artifacts.push(oci(Kind::OciIndex, &img.index)?);
        for (i, d) in img.manifests.iter().enumerate() {
            let mut a = oci(Kind::OciManifest, d)?;
            a.base = img.base.as_ref().map(|b| manifest::BaseImage {
                name: b.name.clone(),
                digest: b.manifests[i].clone(),
                resolved: b.digest.clone(),
            });
            m.artifacts.push(a);
        }
    }
    // `index.json` (the images' names) and `oci-layout`: in the release like a blob.
    for name in [crate::layout::OCI_INDEX, crate::layout::OCI_LAYOUT_FILE] {
        let path = crate::layout::in_oci(name)?;
        let (sha256, size) = out.hash(&path)?;
        m.artifacts
            .push(Artifact::new(Kind::OciLayout, path, sha256, size));
    }
    // The CA layer, shared by every image that has it: listed once, with the bundle.
    if let Some((sha256, size)) = ca
        && let Some(layer) = layout.images.iter().find_map(|i| i.base_layers.first())
    {
        let (path, layer_sha) = blob(layer)?;
        m.artifacts.push(Artifact {
            package: Some(certs::SOURCE.to_owned()),
            version: Some(certs::VERSION.to_owned()),
            contents: vec![Content {
                path: RelPath::new(certs::PATH)?,
                sha256,
                size,
                mode: "0644".to_owned(),
                binary: None,
            }],
            ..Artifact::new(Kind::CaCertificates, path, layer_sha, layer.size)
        });
    }
    if archive {
        let path = RelPath::new(crate::layout::IMAGE_ARCHIVE)?;
        let (sha256, size) = out.hash(&path)?;
        m.artifacts
            .push(Artifact::new(Kind::ImageArchive, path, sha256, size));
    }
    provenance::record(out, &mut m, predicate)?;
    m.write(out)
        .context("could not record the image in the manifest")?;
    Ok(m)
}

/// The provenance of the binaries the images hold: the out dir's (written by
/// `package` or `merge`, so the compilers of the machines that built them are named)
/// when it covers every target staged, else one made from the build records and this
/// machine's compilers.
fn image_provenance(
    plan: &Plan,
    out: &OutDir,
    records: &[BuildRecord],
    existing: Option<&Manifest>,
    created: u64,
    git: Option<&manifest::Git>,
    opts: &Options,
) -> Result<provenance::Predicate> {
    if existing.is_some_and(|m| m.artifacts.iter().any(|a| a.kind == Kind::Provenance)) {
        let statement = provenance::Statement::read(out)?;
        let known = &statement
            .predicate
            .build_definition
            .internal_parameters
            .targets;
        if records.iter().all(|r| {
            known
                .iter()
                .any(|t| t.target == r.target && t.backend == r.backend)
        }) {
            return Ok(statement.predicate);
        }
    }
    Ok(provenance::describe(
        records,
        None,
        created,
        git,
        provenance::cargo_lock(&plan.workspace.root)?,
        &provenance::Toolchain::new(opts.probes.rustc_version(), &opts.probes.host, records),
    ))
}

fn host_platform() -> Platform {
    let arch = match std::env::consts::ARCH {
        "aarch64" => "linux/arm64",
        _ => "linux/amd64",
    };
    Platform::parse(arch).expect("known platform")
}

#[cfg(unix)]
fn is_executable(p: &Utf8Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(p).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(_: &Utf8Path) -> bool {
    false
}
