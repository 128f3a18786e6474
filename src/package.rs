//! `cargo multiarch package`: reproducible archives from the staged binaries (never
//! from cargo's target dir), a `.sha256` beside each, then `SHA256SUMS` and
//! `manifest.json`, with `provenance.intoto.json` over all of it. Archives of different
//! targets are written in parallel.

use std::collections::HashMap;

use anyhow::{Result, bail};
use camino::{Utf8Path, Utf8PathBuf};

use crate::archive::{self, Entry, Options as ArchiveOptions};

use crate::digest::Sha256;
use crate::installer::{self, UrlTemplate};
use crate::layout;
use crate::layout::Kind;
use crate::manifest::{self, Artifact, Content, Manifest};
use crate::outdir::{OutDir, RelPath};
use crate::output::Event;
use crate::output::Shell;
use crate::plan::Plan;
use crate::provenance;
use crate::record::{BuildRecord, StagedBinary};
use crate::sbom;
use crate::source::Source;
use crate::workspace::{Package, Workspace};

/// `--archive`: how binaries are grouped into archives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ArchiveMode {
    /// One archive per (package, target): `<package>-<version>-<target>.tar.gz` (`.zip`
    /// for Windows).
    #[default]
    PerPackage,
    /// One archive per target with every binary: `<workspace>-<version>-<target>.tar.gz`.
    PerTarget,
}

#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub mode: ArchiveMode,
    pub level: u32,
    /// The format of the SBOM written beside each archive; None for none.
    pub sbom: Option<sbom::Format>,
    /// Write each archive set's installers, downloading from this URL.
    pub installers: Option<UrlTemplate>,
}

/// One archive to write.
struct Spec {
    /// Relative to the out dir.
    path: RelPath,
    top: String,
    /// The name the archive is named by: the package's, or the workspace's.
    top_name: String,
    record: usize,
    package: Option<String>,
    version: String,
    entries: Vec<Entry>,
    /// Binary names by their path in the archive.
    binaries: Vec<(String, String)>,
}

/// An `artifact` event for each binary of `records`, staged by an earlier `build`.
pub(crate) fn staged_events(shell: &Shell, out: &OutDir, records: &[BuildRecord]) {
    for b in records.iter().flat_map(|r| &r.binaries) {
        shell.event(Event::Artifact(b.event(out, None)));
    }
}

/// Each archive's docs (README, license files) as (name in the archive, source path),
/// by package name (`None`: the workspace's, with `per-target` archives).
type Docs = HashMap<Option<String>, Vec<(String, Utf8PathBuf)>>;

/// The (sha256, size) of each file archived, by its path: hashed once, however many
/// archives hold it.
type Known = HashMap<Utf8PathBuf, (Sha256, u64)>;

/// Packages the records' binaries; returns the manifest written.
pub(crate) fn package(
    plan: &Plan,
    out: &OutDir,
    records: &[BuildRecord],
    probes: &crate::probe::Probes,
    shell: &Shell,
    opts: &Options,
) -> Result<Manifest> {
    // The compilers' versions, for the provenance, asked while the archives are written.
    let toolchain = {
        let (probes, records) = (probes.clone(), records.to_vec());
        std::thread::spawn(move || {
            provenance::Toolchain::new(probes.rustc_version(), &probes.host, &records)
        })
    };
    let ws = &plan.workspace;
    let source = Source::read(&ws.root, &plan.out_dir)?;
    let mut artifacts = staged_artifacts(out, records)?;
    let docs = archive_docs(ws, out, records, opts.mode)?;
    let known = known_hashes(out, &artifacts, &docs)?;

    let mut specs = Vec::new();
    for (i, r) in records.iter().enumerate() {
        specs.extend(archive_specs(ws, out, i, r, opts.mode, &docs)?);
    }
    let archive_opts = ArchiveOptions {
        mtime: source.date,
        level: opts.level,
    };
    let written = write_archives(out, &specs, &archive_opts, &known);
    artifacts.extend(record_archives(
        out,
        *shell,
        &specs,
        records,
        written,
        source.date,
        opts.sbom,
    )?);

    let m = Manifest {
        schema: manifest::SCHEMA.to_owned(),
        tool: manifest::tool(),
        source_date_epoch: source.date,
        git: source.git,
        platforms: records.iter().map(|r| r.platform).collect(),
        artifacts,
    };
    let old = Manifest::read(out).ok();
    drop_stale_signatures(out, &m, old.as_ref())?;
    let m = write_installers(out, m, old.as_ref(), opts.installers.as_ref(), *shell)?;
    write_manifest(&ws.root, out, records, m, toolchain, opts, *shell)
}

/// The staged binaries as the manifest lists them: re-hashed (each must still be what
/// `build` recorded) with their linkage read; an error when there are none.
fn staged_artifacts(out: &OutDir, records: &[BuildRecord]) -> Result<Vec<Artifact>> {
    let mut artifacts = Vec::new();
    for r in records {
        for b in &r.binaries {
            artifacts.push(binary_artifact(out, b)?);
        }
    }
    // A manifest with no binary would pass for an empty release: never write one.
    if artifacts.is_empty() {
        bail!(
            "nothing to package in `{}`: no binaries were built (hint: run `cargo multiarch plan` to see what is selected)",
            out.root()
        );
    }
    Ok(artifacts)
}

/// The docs of each archive's package (or of the workspace, with `mode` per target),
/// found once whatever the number of targets.
fn archive_docs(
    ws: &Workspace,
    out: &OutDir,
    records: &[BuildRecord],
    mode: ArchiveMode,
) -> Result<Docs> {
    let mut docs = Docs::new();
    for r in records {
        for b in &r.binaries {
            let key = (mode == ArchiveMode::PerPackage).then(|| b.package.clone());
            if let std::collections::hash_map::Entry::Vacant(slot) = docs.entry(key) {
                let pkg = slot
                    .key()
                    .as_ref()
                    .and_then(|name| ws.packages.iter().find(|p| &p.name == name));
                slot.insert(package_docs(ws, pkg, out.root())?);
            }
        }
    }
    Ok(docs)
}

/// The hashes of every file the archives hold: the binaries' from `artifacts`, the
/// docs' hashed now, each once.
fn known_hashes(out: &OutDir, artifacts: &[Artifact], docs: &Docs) -> Result<Known> {
    let mut known = Known::new();
    for a in artifacts {
        known.insert(out.file(&a.path)?, (a.sha256.clone(), a.size));
    }
    for (_, src) in docs.values().flatten() {
        if let std::collections::hash_map::Entry::Vacant(slot) = known.entry(src.clone()) {
            slot.insert(crate::digest::sha256_file(src)?);
        }
    }
    Ok(known)
}

/// Writes the archives of `specs` in parallel, one thread each; returns each one's
/// result and how long it took, in `specs`' order.
fn write_archives(
    out: &OutDir,
    specs: &[Spec],
    opts: &ArchiveOptions,
    known: &Known,
) -> Vec<(WriteResult, std::time::Duration)> {
    std::thread::scope(|s| {
        let handles: Vec<_> = specs
            .iter()
            .map(|spec| {
                s.spawn(|| {
                    let start = std::time::Instant::now();
                    let w = write_archive(out, spec, opts, known);
                    (w, start.elapsed())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("archive thread panicked"))
            .collect()
    })
}

/// Reports each archive written and lists it, followed by its SBOM in `sbom`'s format
/// (written now; one of another format goes); the first failed write is the error.
fn record_archives(
    out: &OutDir,
    shell: Shell,
    specs: &[Spec],
    records: &[BuildRecord],
    written: Vec<(WriteResult, std::time::Duration)>,
    source_date: u64,
    sbom: Option<sbom::Format>,
) -> Result<Vec<Artifact>> {
    let mut artifacts = Vec::new();
    for (spec, (w, elapsed)) in specs.iter().zip(written) {
        let (w, contents) = w?;
        let r = &records[spec.record];
        shell.status(
            "Packaged",
            format!(
                "{} ({})",
                out.display(&spec.path),
                crate::output::human_size(w.size)
            ),
        );
        let a = Artifact {
            target: Some(r.target.clone()),
            platform: Some(r.platform),
            package: spec.package.clone(),
            version: Some(spec.version.clone()),
            contents,
            ..Artifact::new(Kind::Archive, spec.path.clone(), w.sha256, w.size)
        };
        shell.event(Event::Packaged(a.event(
            out,
            Some(&r.backend),
            Some(elapsed),
        )));
        artifacts.push(a);
        // An SBOM of another format (or any, with `--no-sbom`) left by an earlier run
        // would describe this archive unchecked: it goes.
        for f in [sbom::Format::CycloneDx, sbom::Format::Spdx] {
            if sbom != Some(f) {
                out.remove(&sbom::path(&spec.path, f))?;
            }
        }
        if let Some(format) = sbom {
            let start = std::time::Instant::now();
            let sbom = write_sbom(out, spec, r, source_date, format)?;
            shell.event(Event::Packaged(sbom.event(
                out,
                Some(&r.backend),
                Some(start.elapsed()),
            )));
            artifacts.push(sbom);
        }
    }
    Ok(artifacts)
}

/// Removes the `<archive>.sig` of each archive of `m` that is not what the `old`
/// manifest listed at its path: it would no longer verify (`sign` makes new ones).
fn drop_stale_signatures(out: &OutDir, m: &Manifest, old: Option<&Manifest>) -> Result<()> {
    for a in m.artifacts.iter().filter(|a| a.kind == Kind::Archive) {
        let same = old.is_some_and(|o| {
            o.artifacts
                .iter()
                .any(|b| b.path == a.path && b.sha256 == a.sha256)
        });
        if !same {
            out.remove(&layout::archive_signature(&a.path))?;
        }
    }
    Ok(())
}

/// Writes the installers of every archive set of `m` when `url` is given, and lists
/// them; installers an earlier run listed go first, so none is left describing other
/// archives.
fn write_installers(
    out: &OutDir,
    mut m: Manifest,
    old: Option<&Manifest>,
    url: Option<&UrlTemplate>,
    shell: Shell,
) -> Result<Manifest> {
    for a in old
        .iter()
        .flat_map(|o| &o.artifacts)
        .filter(|a| a.kind == Kind::Installer)
    {
        out.remove(&a.path)?;
    }
    let Some(url) = url else {
        return Ok(m);
    };
    let urls = installer::sets(&m)?
        .into_iter()
        .map(|(name, set)| (name, url.expand(&set.version)))
        .collect();
    installer::write(out, &mut m, &urls)?;
    for a in m.artifacts.iter().filter(|a| a.kind == Kind::Installer) {
        shell.status("Wrote", out.display(&a.path));
        shell.event(Event::Packaged(a.event(out, None, None)));
    }
    Ok(m)
}

/// Keeps the images `m` still describes, records the provenance (with the compilers
/// `toolchain` found) and writes `SHA256SUMS` and the manifest.
fn write_manifest(
    root: &Utf8Path,
    out: &OutDir,
    records: &[BuildRecord],
    mut m: Manifest,
    toolchain: std::thread::JoinHandle<provenance::Toolchain>,
    opts: &Options,
    shell: Shell,
) -> Result<Manifest> {
    let image = keep_image_artifacts(out, &mut m)?;
    let params = provenance::PackageParams {
        archive: match opts.mode {
            ArchiveMode::PerPackage => "per-package",
            ArchiveMode::PerTarget => "per-target",
        },
        compression: opts.level,
    };
    let mut predicate = provenance::describe(
        records,
        Some(&params),
        m.source_date_epoch,
        m.git.as_ref(),
        provenance::cargo_lock(root)?,
        &toolchain
            .join()
            .expect("the toolchain probe does not panic"),
    );
    predicate.build_definition.external_parameters.image = image;
    provenance::record(out, &mut m, &predicate)?;
    if let Some(a) = m.artifacts.iter().find(|a| a.kind == Kind::Provenance) {
        shell.event(Event::Packaged(a.event(out, None, None)));
    }
    m.write(out)?;
    shell.event(manifest_event(out, &m));
    shell.status(
        "Wrote",
        format!(
            "{} and {}",
            out.shown().join(layout::SUMS),
            out.display(&Manifest::rel())
        ),
    );
    Ok(m)
}

/// The SBOM of `spec`'s archive, beside it, from the dependency graphs `build`
/// recorded for the archive's packages; as the manifest lists it.
fn write_sbom(
    out: &OutDir,
    spec: &Spec,
    r: &BuildRecord,
    source_date: u64,
    format: sbom::Format,
) -> Result<Artifact> {
    let mut graphs = Vec::new();
    for (_, binary) in &spec.binaries {
        let b = r
            .binaries
            .iter()
            .find(|b| &b.binary == binary)
            .expect("an archive's binaries come from its record");
        if graphs
            .iter()
            .any(|g: &&crate::sbom::graph::Graph| g.package == b.package)
        {
            continue;
        }
        let Some(g) = r.dependencies.iter().find(|g| g.package == b.package) else {
            bail!(
                "the build record of `{}` has no dependency graph of `{}` (it was written by an older cargo-multiarch), so its SBOM cannot be written (hint: run `cargo multiarch build` again, or pass `--no-sbom`)",
                r.target,
                b.package
            );
        };
        graphs.push(g);
    }
    let subject = sbom::Subject {
        archive: &spec.path,
        name: spec.package.as_deref().unwrap_or(&spec.top_name),
        version: &spec.version,
        target: &r.target,
        platform: r.platform,
        graphs,
        source_date,
    };
    let bytes = sbom::render(&subject, format)?;
    let path = sbom::path(&spec.path, format);
    out.write(&path, &bytes)?;
    Ok(Artifact {
        target: Some(r.target.clone()),
        platform: Some(r.platform),
        package: spec.package.clone(),
        version: Some(spec.version.clone()),
        ..Artifact::new(Kind::Sbom, path, Sha256::of(&bytes), bytes.len() as u64)
    })
}

/// The `manifest` event of `m`, just written into `out`.
pub(crate) fn manifest_event(out: &OutDir, m: &Manifest) -> Event {
    Event::Manifest {
        out_dir: out.root().to_string(),
        path: layout::MANIFEST.to_owned(),
        sha256sums: layout::SUMS.to_owned(),
        artifacts: m.artifacts.len(),
    }
}

/// An image written earlier into this out dir stays listed (`package` rewrites the
/// manifest, `image` adds to it) while the binaries it was made from are unchanged;
/// otherwise it is dropped from the manifest and its files (`oci/`, `image.tar`) are
/// removed, to be made again with `image`. Returns
/// the image settings the old provenance records, for the new one.
fn keep_image_artifacts(out: &OutDir, m: &mut Manifest) -> Result<Option<provenance::ImageParams>> {
    let Ok(old) = Manifest::read(out) else {
        return Ok(None);
    };
    let same_binaries = old
        .artifacts
        .iter()
        .filter(|a| a.kind == Kind::Binary)
        .all(|a| {
            m.artifacts
                .iter()
                .any(|b| b.path == a.path && b.sha256 == a.sha256)
        });
    let images: Vec<Artifact> = old
        .artifacts
        .into_iter()
        .filter(|a| a.kind.is_image())
        .collect();
    if images.is_empty() {
        return Ok(None);
    }
    if !same_binaries {
        // Images of other binaries: no longer listed, so no hash covers them; they go,
        // to be made again with `image` (`verify` refuses an unlisted layout).
        out.remove_tree(&crate::layout::oci_dir())?;
        out.remove(&RelPath::new(crate::layout::IMAGE_ARCHIVE)?)?;
        return Ok(None);
    }
    m.artifacts.extend(images);
    Ok(provenance::Statement::read(out)
        .ok()
        .and_then(|s| s.predicate.build_definition.external_parameters.image))
}

/// A staged binary as the manifest lists it: re-hashed (it must still be what `build`
/// recorded) with its linkage read from its ELF.
pub(crate) fn binary_artifact(out: &OutDir, b: &StagedBinary) -> Result<Artifact> {
    let path = out.file(&b.path)?;
    let (sha256, size) = out.hash(&b.path)?;
    if sha256 != b.sha256 {
        bail!(
            "`{path}` changed since it was built (sha256 {sha256}, the build record says {}) (hint: run `cargo multiarch build` again)",
            b.sha256
        );
    }
    // ELF, PE or Mach-O: every format says what it loads.
    let linkage = match crate::binary::read(&path) {
        Ok(bin) => Some(bin.linkage),
        Err(_) if b.platform.os != "linux" => None,
        Err(e) => return Err(e),
    };
    Ok(Artifact {
        target: Some(b.target.clone()),
        platform: Some(b.platform),
        package: Some(b.package.clone()),
        version: Some(b.version.clone()),
        binary: Some(b.binary.clone()),
        linkage,
        ..Artifact::new(Kind::Binary, b.path.clone(), sha256, size)
    })
}

fn archive_specs(
    ws: &Workspace,
    out: &OutDir,
    index: usize,
    r: &BuildRecord,
    mode: ArchiveMode,
    docs: &Docs,
) -> Result<Vec<Spec>> {
    let mut specs = Vec::new();
    let groups: Vec<(Option<&Package>, Vec<&StagedBinary>)> = match mode {
        ArchiveMode::PerPackage => {
            let mut g: Vec<(Option<&Package>, Vec<&StagedBinary>)> = Vec::new();
            for b in &r.binaries {
                let pkg = ws.packages.iter().find(|p| p.name == b.package);
                match g
                    .iter_mut()
                    .find(|(p, _)| p.map(|p| &p.name) == Some(&b.package))
                {
                    Some((_, bins)) => bins.push(b),
                    None => g.push((pkg, vec![b])),
                }
            }
            g
        }
        ArchiveMode::PerTarget => vec![(None, r.binaries.iter().collect())],
    };
    for (pkg, bins) in groups {
        let (name, version) = match (mode, pkg) {
            (ArchiveMode::PerPackage, Some(p)) => (p.name.clone(), p.version.clone()),
            (ArchiveMode::PerPackage, None) => (bins[0].package.clone(), bins[0].version.clone()),
            (ArchiveMode::PerTarget, _) => (ws.name.clone(), ws.version.clone()),
        };
        let top = format!("{name}-{version}-{}", r.target);
        let mut entries = Vec::new();
        let mut binaries = Vec::new();
        for b in &bins {
            let file = b.path.file_name();
            let path = format!("{top}/{file}");
            binaries.push((path.clone(), b.binary.clone()));
            entries.push(Entry {
                path,
                source: archive::Source::File(out.file(&b.path)?),
                mode: 0o755,
            });
        }
        let key = (mode == ArchiveMode::PerPackage).then(|| bins[0].package.clone());
        for (rel, src) in docs.get(&key).into_iter().flatten() {
            entries.push(Entry {
                path: format!("{top}/{rel}"),
                source: archive::Source::File(src.clone()),
                mode: 0o644,
            });
        }
        specs.push(Spec {
            path: layout::archive(r.platform, &top)?,
            top,
            top_name: name.clone(),
            record: index,
            package: (mode == ArchiveMode::PerPackage).then_some(name),
            version,
            entries,
            binaries,
        });
    }
    Ok(specs)
}

/// README, license files and `include` globs for an archive: (path in the archive, file).
/// A package's own README and license files win; the workspace root's fill in. Globs
/// never enter cargo's target dir or the out dir, nor follow a symlink out of their
/// base (see [`crate::glob::expand`]).
fn package_docs(
    ws: &Workspace,
    pkg: Option<&Package>,
    out_dir: &Utf8Path,
) -> Result<Vec<(String, Utf8PathBuf)>> {
    let skip = [ws.target_dir.as_path(), out_dir];
    let mut out: Vec<(String, Utf8PathBuf)> = Vec::new();
    let add = |rel: String, src: Utf8PathBuf, out: &mut Vec<(String, Utf8PathBuf)>| {
        if !out.iter().any(|(r, _)| *r == rel) {
            out.push((rel, src));
        }
    };
    let readme = pkg
        .and_then(|p| p.readme.clone())
        .filter(|r| r.is_file())
        .or_else(|| first_match(&ws.root, &["README.md", "README.txt", "README"]));
    if let Some(r) = readme {
        add(r.file_name().unwrap_or("README").to_owned(), r, &mut out);
    }
    let mut licenses: Vec<Utf8PathBuf> = Vec::new();
    if let Some(p) = pkg {
        licenses.extend(p.license_file.clone().filter(|f| f.is_file()));
        licenses.extend(license_files(&p.dir, &skip)?);
    }
    if licenses.is_empty() {
        licenses.extend(license_files(&ws.root, &skip)?);
    }
    for l in licenses {
        add(l.file_name().unwrap_or("LICENSE").to_owned(), l, &mut out);
    }
    let mut includes: Vec<(&Utf8Path, &str, &str)> = ws
        .config
        .include
        .iter()
        .map(|g| {
            (
                ws.root.as_path(),
                g.as_str(),
                "[workspace.metadata.multiarch]",
            )
        })
        .collect();
    if let Some(p) = pkg {
        includes.extend(
            p.config
                .include
                .iter()
                .map(|g| (p.dir.as_path(), g.as_str(), "[package.metadata.multiarch]")),
        );
    }
    for (base, glob, table) in includes {
        let found = crate::glob::expand(base, glob, &skip)?;
        if found.is_empty() {
            bail!(
                "`include` pattern `{glob}` in `{table}` matches no file under `{base}` (hint: fix the pattern or remove it; symlinks to directories or out of `{base}`, and the target and out dirs, are never included)"
            );
        }
        for rel in found {
            let src = base.join(&rel);
            add(rel.into_string(), src, &mut out);
        }
    }
    Ok(out)
}

fn first_match(dir: &Utf8Path, names: &[&str]) -> Option<Utf8PathBuf> {
    names.iter().map(|n| dir.join(n)).find(|p| p.is_file())
}

fn license_files(dir: &Utf8Path, skip: &[&Utf8Path]) -> Result<Vec<Utf8PathBuf>> {
    let mut found = Vec::new();
    for pattern in ["LICENSE*", "LICENCE*", "COPYING*"] {
        found.extend(
            crate::glob::expand(dir, pattern, skip)?
                .into_iter()
                .map(|r| dir.join(r)),
        );
    }
    found.sort();
    Ok(found)
}

/// An archive as written: its hash and size.
struct Packed {
    sha256: Sha256,
    size: u64,
}

fn write_archive(
    out: &OutDir,
    spec: &Spec,
    opts: &ArchiveOptions,
    known: &HashMap<Utf8PathBuf, (Sha256, u64)>,
) -> WriteResult {
    let written = out.write_with(&spec.path, |file| {
        if spec.path.as_path().extension() == Some("zip") {
            let (sha256, size) = archive::zip::write_zip(&spec.entries, opts, file)?;
            Ok(Packed { sha256, size })
        } else {
            archive::write_tar_gz(&spec.entries, opts, file).map(|w| Packed {
                sha256: w.sha256,
                size: w.size,
            })
        }
    })?;
    out.write(
        &layout::sidecar(&spec.path),
        sidecar_text(&spec.path, &written.sha256).as_bytes(),
    )?;
    let mut contents = Vec::new();
    for e in &spec.entries {
        let archive::Source::File(src) = &e.source else {
            continue;
        };
        // Every source was hashed once before the archives were written.
        let (sha256, size) = known
            .get(src)
            .cloned()
            .expect("every archive source is hashed up front");
        let binary = spec
            .binaries
            .iter()
            .find(|(p, _)| *p == e.path)
            .map(|(_, b)| b.clone());
        contents.push(Content {
            path: RelPath::new(&e.path)?,
            sha256,
            size,
            mode: format!("{:04o}", e.mode),
            binary,
        });
    }
    contents.sort_by(|a, b| a.path.cmp(&b.path));
    debug_assert!(
        contents
            .iter()
            .all(|c| c.path.as_str().starts_with(&spec.top))
    );
    Ok((written, contents))
}

/// What writing one archive gave: the archive and what it holds.
type WriteResult = Result<(Packed, Vec<Content>)>;

/// What a `.sha256` sidecar holds (defined with the release's files, in `manifest`).
pub(crate) use crate::manifest::sidecar_text;
