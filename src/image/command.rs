//! `cargo multiarch image`: the staged binaries (from the build records, never from
//! cargo) become one multi-platform OCI image per binary — or one image holding them
//! all — in `out/oci/`, recorded in `out/manifest.json`; optionally also `out/image.tar`
//! and a push to a registry.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use camino::{Utf8Path, Utf8PathBuf};

use super::{Auth, ImageResult, ImageSpec, LayoutResult, PlatformImage, Settings};
use crate::archive::{Entry, Source};
use crate::cli::ImageArgs;
use crate::config::ImageConfig;
use crate::manifest::{self, Artifact, Kind, Manifest};
use crate::outdir::{OutDir, RelPath};
use crate::plan::Plan;
use crate::platform::Platform;
use crate::record::{self, BuildRecord};
use crate::shell::Shell;

pub const OCI_DIR: &str = "oci";
pub const ARCHIVE: &str = "image.tar";
const DEFAULT_BIN_DIR: &str = "/usr/local/bin";

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `NAME:TAG` for the (single) image, or `TAG` alone for every image.
    pub tag: Option<String>,
    /// One image with every selected binary.
    pub combined: bool,
    pub archive: bool,
    pub push: Option<String>,
    pub auth: Auth,
    pub insecure: bool,
    pub level: u32,
}

/// One image to assemble: its reference and, per platform, the binaries in it.
struct Planned {
    reference: String,
    binaries: Vec<String>,
    config: ImageConfig,
    /// Directory the config's `files` are relative to.
    base: Utf8PathBuf,
    version: String,
    repository: Option<String>,
}

/// `cargo multiarch image`: assembles (and pushes) images from what `build` staged.
pub fn run(args: ImageArgs, shell: &Shell) -> Result<ExitCode> {
    let (plan, _) = Plan::load(&args.select, crate::plan::Detail::Staged)?;
    let (out, _lock) = record::open_for_writing(&plan.out_dir, args.lock.no_wait, shell)?;
    let records = BuildRecord::for_plan(
        &plan,
        &out,
        "run `cargo multiarch build` with the same selection first",
    )?;
    let mut password = args.password;
    if args.password_stdin {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .context("cannot read the password from standard input")?;
        password = Some(s.trim_end_matches(['\n', '\r']).to_owned());
    }
    let opts = Options {
        tag: args.tag,
        combined: args.combined,
        archive: args.archive,
        push: args.push,
        auth: Auth {
            username: args.username,
            password,
            docker_config: None,
        },
        insecure: args.insecure,
        level: args.compression,
    };
    assemble(&plan, &out, &records, shell, &opts)?;
    Ok(ExitCode::SUCCESS)
}

/// Assembles the images; returns them as written into `out/oci`.
pub fn assemble(
    plan: &Plan,
    out: &OutDir,
    records: &[BuildRecord],
    shell: &Shell,
    opts: &Options,
) -> Result<Vec<ImageResult>> {
    let ws = &plan.workspace;
    // Every staged binary must still be what `build` recorded.
    let binaries: Vec<Artifact> = records
        .iter()
        .flat_map(|r| &r.binaries)
        .map(|b| crate::package::binary_artifact(out, b))
        .collect::<Result<_>>()?;
    let existing = Manifest::read(out).ok();
    // The images carry the same date and commit as the archives beside them; git is
    // asked only when `package` has not written a manifest yet.
    let (created, git) = if let Some(m) = &existing {
        (m.source_date_epoch, m.git.clone())
    } else {
        let source = crate::source::Source::read(&ws.root, &plan.out_dir)?;
        (source.date, source.git)
    };
    let revision = git.as_ref().map(|g| g.commit.clone());

    let planned = plan_images(plan, opts)?;
    let mut specs = Vec::new();
    for img in &planned {
        let bin_dir = img
            .config
            .bin_dir
            .clone()
            .unwrap_or_else(|| DEFAULT_BIN_DIR.to_owned());
        let mut platforms = Vec::new();
        for r in records {
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
                    source: Source::File(out.file(&b.path)?),
                    mode: 0o755,
                });
            }
            if files.is_empty() {
                continue;
            }
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
            platforms.push(PlatformImage { platform, files });
        }
        if platforms.is_empty() {
            bail!(
                "no staged binary for image `{}` (hint: run `cargo multiarch build` first)",
                img.reference
            );
        }
        let first = &img.binaries[0];
        let mut labels = BTreeMap::new();
        if let Some(repo) = &img.repository {
            labels.insert("org.opencontainers.image.source".to_owned(), repo.clone());
        }
        labels.insert(
            "org.opencontainers.image.version".to_owned(),
            img.version.clone(),
        );
        if let Some(rev) = &revision {
            labels.insert("org.opencontainers.image.revision".to_owned(), rev.clone());
        }
        labels.insert(
            "org.opencontainers.image.created".to_owned(),
            crate::source::rfc3339(created),
        );
        labels.extend(img.config.labels.clone());
        let entrypoint = img
            .config
            .entrypoint
            .clone()
            .or_else(|| Some(vec![format!("{}/{first}", bin_dir.trim_end_matches('/'))]));
        specs.push(ImageSpec {
            reference_name: img.reference.clone(),
            platforms,
            settings: Settings {
                entrypoint,
                cmd: img.config.cmd.clone(),
                env: img.config.env.clone(),
                labels,
                user: img.config.user.clone(),
                workdir: img.config.workdir.clone(),
            },
            created,
            level: opts.level,
        });
    }

    let oci = out.create_subdir(&RelPath::new(OCI_DIR)?)?;
    let layout = super::write_layout(&specs, oci.root())?;
    for img in &layout.images {
        let platforms: Vec<String> = img
            .manifests
            .iter()
            .filter_map(|m| m.platform.map(|p| p.to_string()))
            .collect();
        shell.status(
            "Image",
            format!("{} ({})", img.reference_name, platforms.join(", ")),
        );
        // The digest on stdout, for scripts: `alpha:0.3.0@sha256:…`.
        println!("{}@{}", img.reference_name, img.index.digest);
    }
    let archive_rel = RelPath::new(ARCHIVE)?;
    if opts.archive {
        let dest = out.writable(&archive_rel)?;
        super::write_archive(oci.root(), &layout, host_platform(), &dest)?;
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
    record_in_manifest(out, binaries, existing, &layout, opts.archive, created, git)?;

    if let Some(reference) = &opts.push {
        let [img] = layout.images.as_slice() else {
            bail!(
                "`--push {reference}` needs exactly one image, and {} were assembled (hint: pick one with `--bin NAME`, or pass `--combined`)",
                layout.images.len()
            );
        };
        shell.status("Pushing", format!("{} to {reference}", img.reference_name));
        let report = super::push(oci.root(), img, reference, &opts.auth, opts.insecure, shell)?;
        shell.status(
            "Pushed",
            format!(
                "{reference}@{} ({} blobs uploaded, {} already there)",
                report.index_digest,
                report.uploaded.len(),
                report.skipped.len()
            ),
        );
    }
    Ok(layout.images)
}

fn plan_images(plan: &Plan, opts: &Options) -> Result<Vec<Planned>> {
    let ws = &plan.workspace;
    let mut bins: Vec<(String, String)> = Vec::new(); // (package, binary) in plan order
    for e in &plan.entries {
        if !bins.iter().any(|(p, b)| *p == e.package && *b == e.binary) {
            bins.push((e.package.clone(), e.binary.clone()));
        }
    }
    let combined = opts.combined || ws.config.image.combined == Some(true);
    let merged = |pkg: Option<&str>| -> (ImageConfig, Utf8PathBuf) {
        let p = pkg.and_then(|name| ws.packages.iter().find(|p| p.name == name));
        match p {
            Some(p) if p.config.image != ImageConfig::default() => {
                (overlay(&ws.config.image, &p.config.image), p.dir.clone())
            }
            _ => (ws.config.image.clone(), ws.root.clone()),
        }
    };
    let mut out = Vec::new();
    if combined {
        let (config, base) = merged(None);
        let name = config.name.clone().unwrap_or_else(|| ws.name.clone());
        out.push(Planned {
            reference: format!("{name}:{}", ws.version),
            binaries: bins.iter().map(|(_, b)| b.clone()).collect(),
            config,
            base,
            version: ws.version.clone(),
            repository: ws.packages.first().and_then(|p| p.repository.clone()),
        });
    } else {
        for (pkg, bin) in &bins {
            let (config, base) = merged(Some(pkg));
            let p = ws
                .packages
                .iter()
                .find(|p| &p.name == pkg)
                .expect("entries come from packages");
            // A package's own image name is for its (first) binary; others keep theirs.
            let name = match &config.name {
                Some(n) if p.bins.len() == 1 || p.bins.first() == Some(bin) => n.clone(),
                _ => bin.clone(),
            };
            out.push(Planned {
                reference: format!("{name}:{}", p.version),
                binaries: vec![bin.clone()],
                config,
                base,
                version: p.version.clone(),
                repository: p.repository.clone(),
            });
        }
    }
    if let Some(tag) = &opts.tag {
        let has_name = tag.rsplit_once(':').is_some_and(|(_, t)| !t.contains('/'));
        if has_name {
            if out.len() != 1 {
                bail!(
                    "`--tag {tag}` names one image, and {} would be assembled ({}) (hint: pick one with `--bin NAME`, pass `--combined`, or give only the tag: `--tag {}`)",
                    out.len(),
                    out.iter()
                        .map(|p| p.reference.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    tag.rsplit_once(':').map_or(tag.as_str(), |(_, t)| t)
                );
            }
            out[0].reference.clone_from(tag);
        } else {
            for p in &mut out {
                let name = p
                    .reference
                    .rsplit_once(':')
                    .map_or(p.reference.clone(), |(n, _)| n.to_owned());
                p.reference = format!("{name}:{tag}");
            }
        }
    }
    Ok(out)
}

/// The package's image table over the workspace's, key by key.
fn overlay(ws: &ImageConfig, pkg: &ImageConfig) -> ImageConfig {
    ImageConfig {
        name: pkg.name.clone().or_else(|| ws.name.clone()),
        bin_dir: pkg.bin_dir.clone().or_else(|| ws.bin_dir.clone()),
        entrypoint: pkg.entrypoint.clone().or_else(|| ws.entrypoint.clone()),
        cmd: pkg.cmd.clone().or_else(|| ws.cmd.clone()),
        env: if pkg.env.is_empty() {
            ws.env.clone()
        } else {
            pkg.env.clone()
        },
        labels: ws
            .labels
            .clone()
            .into_iter()
            .chain(pkg.labels.clone())
            .collect(),
        user: pkg.user.clone().or_else(|| ws.user.clone()),
        workdir: pkg.workdir.clone().or_else(|| ws.workdir.clone()),
        files: if pkg.files.is_empty() {
            ws.files.clone()
        } else {
            pkg.files.clone()
        },
        combined: pkg.combined.or(ws.combined),
    }
}

/// Adds the images to `out/manifest.json` (replacing earlier ones), so `verify`
/// checks them; starts a manifest from the build records when `package` has not run.
fn record_in_manifest(
    out: &OutDir,
    binaries: Vec<Artifact>,
    existing: Option<Manifest>,
    layout: &LayoutResult,
    archive: bool,
    created: u64,
    git: Option<manifest::Git>,
) -> Result<()> {
    let mut m = if let Some(m) = existing {
        m
    } else {
        Manifest {
            schema: manifest::SCHEMA.to_owned(),
            tool: manifest::tool(),
            source_date_epoch: created,
            git,
            platforms: binaries.iter().filter_map(|a| a.platform).collect(),
            artifacts: binaries,
        }
    };
    m.artifacts.retain(|a| {
        !matches!(
            a.kind,
            Kind::OciIndex | Kind::OciManifest | Kind::ImageArchive
        )
    });
    for img in &layout.images {
        let oci = |kind, d: &super::Descriptor| -> Result<Artifact> {
            Ok(Artifact {
                platform: d.platform,
                reference: Some(img.reference_name.clone()),
                ..Artifact::new(
                    kind,
                    RelPath::new(OCI_DIR)?.join(super::layout::blob_rel(d.hex())?.as_str())?,
                    crate::digest::Sha256::parse(d.hex())?,
                    d.size,
                )
            })
        };
        m.artifacts.push(oci(Kind::OciIndex, &img.index)?);
        for d in &img.manifests {
            m.artifacts.push(oci(Kind::OciManifest, d)?);
        }
    }
    if archive {
        let path = RelPath::new(ARCHIVE)?;
        let (sha256, size) = out.hash(&path)?;
        m.artifacts
            .push(Artifact::new(Kind::ImageArchive, path, sha256, size));
    }
    m.write(out)
        .context("could not record the image in the manifest")
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
