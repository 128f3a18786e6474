//! `cargo multiarch merge`: joins `out/` trees built on different machines (one per
//! architecture, on native runners) into one, after checking each like `verify`.
//! Refuses anything that would make the joined set lie: one path with two hashes,
//! different versions, commits, source dates or schemas, a damaged input, and an
//! incomplete platform set. The inputs' provenance statements become one
//! ([`provenance::combine`]).

use std::collections::BTreeMap;

use anyhow::{Context as _, Result, bail};
use camino::{Utf8Path, Utf8PathBuf};

use crate::installer::{self, UrlTemplate};
use crate::layout;
use crate::layout::Kind;
use crate::manifest::{Artifact, Git, Manifest};
use crate::outdir::{OutDir, RelPath};
use crate::output::Event;
use crate::output::{Exit, Failed, Shell};
use crate::package::sidecar_text;
use crate::platform::Platform;
use crate::provenance::{self, Predicate};
use crate::record::{self, BuildRecord};
use crate::verify;

#[derive(Debug, Clone, Default)]
pub(crate) struct Options {
    /// Platforms the result must hold; default: the union of the inputs' platforms.
    pub expect: Option<Vec<Platform>>,
    /// Fail at once when another run holds the output's lock.
    pub no_wait: bool,
    /// Write installers for every archive set, even when no input has any.
    pub installers: bool,
    /// Where they download from; default: the URL the inputs' installers name.
    pub download_url: Option<UrlTemplate>,
}

/// One input, verified.
struct Input {
    dir: OutDir,
    manifest: Manifest,
    records: Vec<BuildRecord>,
}

/// Merges `inputs` into `out`; returns the merged manifest, which `verify` has passed.
///
/// Inputs are untrusted: each is verified, its manifest and build records are parsed
/// into checked types, and files are copied byte for byte (never linked, never through
/// a symlink), each re-hashed against its manifest while it is copied.
pub(crate) fn merge(
    inputs: &[Utf8PathBuf],
    out: &Utf8Path,
    opts: &Options,
    shell: &Shell,
) -> Result<Manifest> {
    if inputs.is_empty() {
        bail!("nothing to merge (hint: `cargo multiarch merge out-amd64 out-arm64 --out-dir out`)");
    }
    let out_real = out.canonicalize_utf8().ok();
    let mut checked = Vec::new();
    for dir in inputs {
        if out_real.is_some() && dir.canonicalize_utf8().ok() == out_real {
            bail!("the output dir `{out}` is also an input (hint: merge into a new directory)");
        }
        let (m, report) = verify::verify(dir, &verify::Options::default(), shell)
            .with_context(|| format!("cannot merge `{dir}`"))?;
        if !report.problems.is_empty() {
            return Err(Failed {
            exit: Exit::VerifyFailed,
            message: format!("`{dir}` fails verification, so it cannot be merged:\n  {}\n(hint: rebuild it with `cargo multiarch package`)",
                report.problems.join("\n  ")),
        }
        .into());
        }
        if m.artifacts.iter().any(|a| a.kind.is_image()) {
            shell.note(format!("`{dir}` holds an OCI image; images are not merged (hint: run `cargo multiarch image --out-dir {out}` after merging)"));
        }
        let input = OutDir::existing(dir)?;
        let records =
            BuildRecord::read_all(&input).with_context(|| format!("cannot merge `{dir}`"))?;
        checked.push(Input {
            dir: input,
            manifest: m,
            records,
        });
    }
    let merged = join(&checked, opts)?;
    let predicate = joined_provenance(&checked)?;
    let urls = installer_urls(&checked, &merged, opts)?;

    let (dest, _lock) = record::open_for_writing(out, opts.no_wait, shell)?;
    write(&checked, &merged, predicate.as_ref(), &urls, &dest)?;
    let (m, report) = verify::verify_dir(
        &dest,
        &verify::Options {
            expect: opts.expect.clone(),
            ..verify::Options::default()
        },
    )?;
    if !report.problems.is_empty() {
        return Err(Failed {
            exit: Exit::VerifyFailed,
            message: format!("the merged out dir `{out}` fails verification:\n  {}\n(hint: remove `{out}` and merge again)",
            report.problems.join("\n  ")),
        }
        .into());
    }
    // What the joined set holds, each binary with the backend its record names.
    for a in &m.artifacts {
        let backend = checked
            .iter()
            .flat_map(|i| &i.records)
            .find(|r| Some(&r.target) == a.target.as_ref())
            .map(|r| r.backend.as_str());
        match a.kind {
            Kind::Binary => {
                shell.event(Event::Artifact(a.event(&dest, backend, None)));
            }
            Kind::Archive => {
                shell.event(Event::Packaged(a.event(&dest, backend, None)));
            }
            Kind::Installer => {
                shell.status("Wrote", dest.display(&a.path));
                shell.event(Event::Packaged(a.event(&dest, None, None)));
            }
            _ => {}
        }
    }
    shell.event(crate::package::manifest_event(&dest, &m));
    shell.event(Event::Merged {
        out_dir: dest.root().to_string(),
        inputs: inputs.iter().map(ToString::to_string).collect(),
        platforms: m.platforms.iter().map(ToString::to_string).collect(),
        artifacts: m.artifacts.len(),
    });
    Ok(m)
}

/// Decides the merged manifest, refusing whatever would make it lie; writes nothing.
fn join(inputs: &[Input], opts: &Options) -> Result<Manifest> {
    let first = &inputs[0];
    let mut git: Option<Git> = first.manifest.git.clone();
    let mut versions: BTreeMap<String, (String, &Utf8Path)> = BTreeMap::new();
    let mut artifacts: BTreeMap<RelPath, (Artifact, &Utf8Path)> = BTreeMap::new();
    let mut platforms: Vec<Platform> = Vec::new();
    for input in inputs {
        git = same_source(first, input, git)?;
        platforms.extend(input.manifest.platforms.iter().copied());
        add_artifacts(input, &mut versions, &mut artifacts)?;
        records_listed(input)?;
    }
    records_agree(inputs)?;
    platforms.sort();
    platforms.dedup();
    let expected: Vec<Platform> = opts.expect.clone().unwrap_or(platforms);
    complete(&expected, &artifacts)?;
    Ok(Manifest {
        schema: first.manifest.schema.clone(),
        tool: first.manifest.tool.clone(),
        source_date_epoch: first.manifest.source_date_epoch,
        git,
        platforms: expected,
        artifacts: artifacts.into_values().map(|(a, _)| a).collect(),
    })
}

/// `git` (the inputs' so far) joined with `input`'s: an error unless it was built from
/// the same source date and commit as `first`; dirty when either is.
fn same_source(first: &Input, input: &Input, git: Option<Git>) -> Result<Option<Git>> {
    let (first_dir, dir, m) = (first.dir.shown(), input.dir.shown(), &input.manifest);
    if m.source_date_epoch != first.manifest.source_date_epoch {
        bail!(
            "`{dir}` was built with source date {} but `{first_dir}` with {} (hint: build both from the same commit, or set the same `SOURCE_DATE_EPOCH`)",
            m.source_date_epoch,
            first.manifest.source_date_epoch
        );
    }
    match (&git, &m.git) {
        (Some(a), Some(b)) if a.commit != b.commit => bail!(
            "`{dir}` was built from commit {} but `{first_dir}` from {} (hint: build every platform from the same commit)",
            b.commit,
            a.commit
        ),
        (Some(a), Some(b)) => Ok(Some(Git {
            commit: a.commit.clone(),
            dirty: a.dirty || b.dirty,
        })),
        (None, Some(_)) | (Some(_), None) => bail!(
            "`{dir}` and `{first_dir}` disagree on whether they were built from a git checkout (hint: build every platform from the same checkout)"
        ),
        (None, None) => Ok(git),
    }
}

/// Adds `input`'s release files (but images, provenance and installers) to `artifacts` (by path, with the dir
/// that has it first), refusing a package in another version than `versions` has, or
/// a path with another hash or kind.
fn add_artifacts<'a>(
    input: &'a Input,
    versions: &mut BTreeMap<String, (String, &'a Utf8Path)>,
    artifacts: &mut BTreeMap<RelPath, (Artifact, &'a Utf8Path)>,
) -> Result<()> {
    let (dir, m) = (input.dir.shown(), &input.manifest);
    for a in m
        .artifacts
        .iter()
        // The release's files but the images (assembled after the merge), the
        // provenance (the inputs' are joined into one) and the installers (written
        // again for every platform of the merged set).
        .filter(|a| !a.kind.is_image() && !matches!(a.kind, Kind::Provenance | Kind::Installer))
    {
        if let (Some(pkg), Some(v)) = (&a.package, &a.version) {
            match versions.get(pkg) {
                Some((seen, at)) if seen != v => bail!(
                    "package `{pkg}` is version {v} in `{dir}` but {seen} in `{at}` (hint: build every platform from the same commit)"
                ),
                Some(_) => {}
                None => {
                    versions.insert(pkg.clone(), (v.clone(), dir));
                }
            }
        }
        match artifacts.get(&a.path) {
            Some((seen, at)) if seen.sha256 != a.sha256 || seen.kind != a.kind => bail!(
                "`{}` differs between `{at}` (sha256 {}) and `{dir}` (sha256 {}): the same artifact was built twice, differently (hint: build each platform on one machine only)",
                a.path,
                seen.sha256,
                a.sha256
            ),
            Some(_) => {}
            None => {
                artifacts.insert(a.path.clone(), (a.clone(), dir));
            }
        }
    }
    Ok(())
}

/// An error unless each build record of `input` describes binaries its manifest lists,
/// as they are.
fn records_listed(input: &Input) -> Result<()> {
    let (dir, m) = (input.dir.shown(), &input.manifest);
    for r in &input.records {
        for b in &r.binaries {
            let listed = m
                .artifacts
                .iter()
                .any(|a| a.kind == Kind::Binary && a.path == b.path && a.sha256 == b.sha256);
            if !listed {
                bail!(
                    "the build record of `{}` in `{dir}` lists `{}` (sha256 {}), which its manifest does not (hint: rebuild `{dir}` with `cargo multiarch package`)",
                    r.target,
                    b.path,
                    b.sha256
                );
            }
        }
    }
    Ok(())
}

/// An error unless the inputs' build records of one target are the same.
fn records_agree(inputs: &[Input]) -> Result<()> {
    let mut records: BTreeMap<String, (&BuildRecord, &Utf8Path)> = BTreeMap::new();
    for input in inputs {
        for r in &input.records {
            let key = r.target.to_string();
            match records.get(&key) {
                Some((seen, at)) if *seen != r => bail!(
                    "the build record of `{key}` differs between `{at}` and `{}` (hint: build each platform on one machine only)",
                    input.dir.shown()
                ),
                Some(_) => {}
                None => {
                    records.insert(key, (r, input.dir.shown()));
                }
            }
        }
    }
    Ok(())
}

/// An error naming each platform of `expected` that no binary of `artifacts` is for.
fn complete(
    expected: &[Platform],
    artifacts: &BTreeMap<RelPath, (Artifact, &Utf8Path)>,
) -> Result<()> {
    let present: Vec<Platform> = artifacts
        .values()
        .filter(|(a, _)| a.kind == Kind::Binary)
        .filter_map(|(a, _)| a.platform)
        .collect();
    let missing: Vec<&Platform> = expected.iter().filter(|p| !present.contains(p)).collect();
    if !missing.is_empty() {
        bail!(
            "the merged set would lack {}: refusing to write an incomplete multi-platform set (hint: add the out dir built for {} to the inputs)",
            missing
                .iter()
                .map(|p| format!("platform `{p}`"))
                .collect::<Vec<_>>()
                .join(", "),
            missing
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}

/// The inputs' provenance joined into one (see [`provenance::combine`]); None when no
/// input has one. Each was checked against its input's manifest by `verify`.
fn joined_provenance(inputs: &[Input]) -> Result<Option<Predicate>> {
    let mut statements = Vec::new();
    for input in inputs {
        if input
            .manifest
            .artifacts
            .iter()
            .any(|a| a.kind == Kind::Provenance)
        {
            statements.push(provenance::Statement::read(&input.dir)?);
        }
    }
    if statements.is_empty() {
        return Ok(None);
    }
    if statements.len() != inputs.len() {
        let without: Vec<String> = inputs
            .iter()
            .filter(|i| {
                !i.manifest
                    .artifacts
                    .iter()
                    .any(|a| a.kind == Kind::Provenance)
            })
            .map(|i| format!("`{}`", i.dir.shown()))
            .collect();
        bail!(
            "{} {} no `{}`, the other inputs have one: the merged provenance would leave out what they built (hint: package every input with this version of cargo-multiarch)",
            without.join(", "),
            if without.len() == 1 { "has" } else { "have" },
            layout::PROVENANCE
        );
    }
    let predicates: Vec<&Predicate> = statements.iter().map(|s| &s.predicate).collect();
    provenance::combine(&predicates).map(Some)
}

/// The base URL of each archive set's installers in the merged set: `--download-url`
/// expanded for every set; else the one the inputs' installers name (which must agree),
/// for each set any input has installers for.
fn installer_urls(
    inputs: &[Input],
    merged: &Manifest,
    opts: &Options,
) -> Result<BTreeMap<String, String>> {
    let sets = installer::sets(merged)?;
    if let Some(url) = &opts.download_url {
        return Ok(sets
            .into_iter()
            .map(|(name, set)| (name, url.expand(&set.version)))
            .collect());
    }
    let mut urls: BTreeMap<String, (String, &Utf8Path)> = BTreeMap::new();
    for input in inputs {
        let dir = input.dir.shown();
        for (set, url) in installer::listed_urls(&input.dir, &input.manifest)? {
            match urls.get(&set) {
                Some((seen, at)) if *seen != url => bail!(
                    "the installers of `{set}` download from `{seen}` in `{at}` but from `{url}` in `{dir}` (hint: package every input with the same `--download-url`, or pass `--download-url` to `merge`)"
                ),
                Some(_) => {}
                None => {
                    urls.insert(set, (url, dir));
                }
            }
        }
    }
    if opts.installers && urls.is_empty() {
        bail!(
            "no input has installers, so `merge` has no URL to write them with (hint: pass `--download-url URL`)"
        );
    }
    Ok(urls
        .into_iter()
        .filter(|(set, _)| sets.contains_key(set))
        .map(|(set, (url, _))| (set, url))
        .collect())
}

/// Copies every artifact of the merged manifest from the input that has it, writes
/// the archives' `.sha256` sidecars, the build records and the installers `urls`
/// names, then the provenance and the manifest.
fn write(
    inputs: &[Input],
    merged: &Manifest,
    predicate: Option<&Predicate>,
    urls: &BTreeMap<String, String>,
    dest: &OutDir,
) -> Result<()> {
    for a in &merged.artifacts {
        let from = inputs
            .iter()
            .find(|i| {
                i.manifest
                    .artifacts
                    .iter()
                    .any(|b| b.path == a.path && b.sha256 == a.sha256)
            })
            .expect("every merged artifact comes from an input");
        let (sha, size) = dest.copy_from(&from.dir, &a.path, &a.path)?;
        if sha != a.sha256 || size != a.size {
            dest.remove(&a.path)?;
            bail!(
                "`{}` changed while it was merged (sha256 {sha}, its manifest says {}) (hint: merge again once nothing writes `{}`)",
                from.dir.display(&a.path),
                a.sha256,
                from.dir.shown()
            );
        }
        if a.kind == Kind::Binary {
            dest.set_executable(&a.path)?;
        }
        if a.kind == Kind::Archive {
            dest.write(
                &layout::sidecar(&a.path),
                sidecar_text(&a.path, &a.sha256).as_bytes(),
            )?;
            // Signatures are not carried over: `sign` the merged set.
            dest.remove(&layout::archive_signature(&a.path))?;
        }
    }
    let mut written: Vec<&crate::platform::TargetName> = Vec::new();
    for input in inputs {
        for r in &input.records {
            if !written.contains(&&r.target) {
                r.write(dest)?;
                written.push(&r.target);
            }
        }
    }
    let mut m = merged.clone();
    installer::write(dest, &mut m, urls)?;
    if let Some(p) = predicate {
        provenance::record(dest, &mut m, p)?;
    }
    m.write(dest)
}
