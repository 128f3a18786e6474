//! `cargo multiarch verify`: an out dir is what its manifest says, for every platform
//! it should hold. Re-hashes every artifact, reads every binary's ELF header, compares
//! every archive entry and `.sha256` sidecar with the manifest, each installer with the
//! archives it installs, checks that the
//! expected platforms are all there (the guard against publishing a one-arch
//! "multi-arch" release) and that nothing leads outside the out dir.
//!
//! It decides first and runs after: `--run` starts only binaries that passed every
//! check, and nothing at all when any check failed (unless `--run-anyway`).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use camino::Utf8Path;

use crate::binary::{self, Linkage};
use crate::digest::Sha256;
use crate::layout;
use crate::layout::Kind;
use crate::manifest::sidecar_text;
use crate::manifest::{Artifact, Manifest};
use crate::outdir::{LockMode, OutDir, RelPath};
use crate::output::{RunOutcome, Shell};
use crate::platform::Platform;

mod oci;
mod run;
mod sbom;

/// The wine forwarder DLL (see `run`), for the binary-format tests.
#[cfg(test)]
pub(crate) fn bcryptprimitives_forwarder_for_tests() -> Vec<u8> {
    run::bcryptprimitives_forwarder()
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Options {
    /// Platforms that must be present; default: the manifest's `platforms`.
    pub expect: Option<Vec<Platform>>,
    /// Run every binary that passed its checks (natively or under qemu-user) with `run_args`.
    pub run: bool,
    /// Run the binaries that passed their own checks even when others failed.
    pub run_anyway: bool,
    pub run_args: Vec<String>,
    /// Fail at once instead of waiting for a run that is writing the out dir.
    pub no_wait: bool,
    /// Every archive must have its SBOM.
    pub expect_sbom: bool,
    /// Check the signatures of `SHA256SUMS` and the provenance with this key.
    pub public_key: Option<crate::minisign::PublicKey>,
}

/// What verification found.
#[derive(Debug, Clone, Default)]
pub(crate) struct Report {
    pub problems: Vec<String>,
    /// One per binary run with `--run`.
    pub runs: Vec<Ran>,
    pub checked: usize,
    pub platforms: Vec<String>,
    /// The artifacts that passed every check of their own.
    pub passed: Vec<RelPath>,
    /// Said but not failed: signatures present and not checked.
    pub notes: Vec<String>,
}

/// What `--run` did with a binary (or, with no path, why nothing ran).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ran {
    pub outcome: RunOutcome,
    pub path: Option<RelPath>,
    /// `native`, or the qemu that ran it.
    pub how: Option<String>,
    /// The first line it printed, or why it did not run.
    pub detail: String,
}

impl std::fmt::Display for Ran {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = self.path.as_ref().map_or("", RelPath::as_str);
        match self.outcome {
            RunOutcome::Ok => write!(
                f,
                "ok       {path}  ({}): {}",
                self.how.as_deref().unwrap_or("native"),
                self.detail
            ),
            RunOutcome::Skipped => write!(f, "skipped  {path}  ({})", self.detail),
            RunOutcome::Checked => write!(f, "checked  {path}  ({})", self.detail),
            RunOutcome::NotRun => write!(f, "not run   {}", self.detail),
        }
    }
}

/// Checks `out_dir` against its manifest, holding the out dir's shared lock (so no
/// run is writing it meanwhile); never reads, writes or runs anything outside it.
pub(crate) fn verify(
    out_dir: &Utf8Path,
    opts: &Options,
    shell: &Shell,
) -> Result<(Manifest, Report)> {
    let out = OutDir::existing(out_dir)?;
    let _lock = crate::record::lock(
        &out,
        LockMode::Shared {
            no_wait: opts.no_wait,
        },
        shell,
    )?;
    verify_dir(&out, opts)
}

/// [`verify`] on an out dir the caller has opened (and locked).
pub(crate) fn verify_dir(out: &OutDir, opts: &Options) -> Result<(Manifest, Report)> {
    let m = Manifest::read(out)?;
    let mut r = Report::default();
    let mut passed: Vec<&Artifact> = Vec::new();
    for a in &m.artifacts {
        r.checked += 1;
        let before = r.problems.len();
        check_artifact(out, a, &mut r.problems);
        if r.problems.len() == before {
            passed.push(a);
        }
    }
    oci::check(out, &m, &mut r.problems);
    r.passed = passed.iter().map(|a| a.path.clone()).collect();
    check_sums(out, &m, &mut r.problems);
    sbom::check(out, &m, &passed, opts.expect_sbom, &mut r.problems);
    r.problems.extend(crate::installer::check(out, &m, &passed));
    check_provenance(out, &m, &passed, &mut r.problems);
    if let Some(key) = &opts.public_key {
        r.problems.extend(crate::minisign::check(out, &m, key));
    } else {
        let present = crate::minisign::present(out, &m);
        if !present.is_empty() {
            r.notes.push(format!(
                "{} not checked (hint: pass `--public-key minisign.pub`)",
                signatures_named(&present)
            ));
        }
    }
    check_platforms(&m, opts.expect.as_deref(), &mut r);
    if opts.run {
        if r.problems.is_empty() || opts.run_anyway {
            let binaries: Vec<&Artifact> = passed
                .into_iter()
                .filter(|a| a.kind == Kind::Binary)
                .collect();
            run::run_binaries(out, &binaries, &opts.run_args, &mut r);
        } else {
            r.runs.push(Ran {
                outcome: RunOutcome::NotRun,
                path: None,
                how: None,
                detail: format!(
                    "no binary was started: {} problem(s) found first (hint: fix them, or pass `--run-anyway` to run the binaries that passed their own checks)",
                    r.problems.len()
                ),
            });
        }
    }
    Ok((m, r))
}

/// `A and B`, or `A, B and the archives' 3 `.sig` files`: the signatures present.
fn signatures_named(present: &[RelPath]) -> String {
    let (archives, files): (Vec<&RelPath>, Vec<&RelPath>) = present
        .iter()
        .partition(|p| p.as_str().ends_with(layout::ARCHIVE_SIGNATURE_SUFFIX));
    let mut items: Vec<String> = files.iter().map(|p| format!("`{p}`")).collect();
    match archives.len() {
        0 => {}
        1 => items.push(format!("`{}`", archives[0])),
        n => items.push(format!("the archives' {n} `.sig` files")),
    }
    match items.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// Every check of one artifact; problems are pushed, nothing is run.
fn check_artifact(out: &OutDir, a: &Artifact, problems: &mut Vec<String>) {
    if matches!(out.kind(&a.path), Ok(None)) {
        problems.push(format!("{}: missing", a.path));
        return;
    }
    let (sha, size) = match out.hash(&a.path) {
        Ok(h) => h,
        Err(e) => {
            problems.push(format!("{}: {e:#}", a.path));
            return;
        }
    };
    if sha != a.sha256 {
        problems.push(format!(
            "{}: sha256 is {sha}, the manifest says {}",
            a.path, a.sha256
        ));
        return;
    }
    if size != a.size {
        problems.push(format!(
            "{}: size is {size}, the manifest says {}",
            a.path, a.size
        ));
        return;
    }
    match a.kind {
        Kind::Binary => check_binary(out, a, problems),
        Kind::Archive => {
            check_sidecar(out, a, problems);
            check_archive(out, a, problems);
        }
        Kind::Provenance => {
            if a.path.as_str() != layout::PROVENANCE {
                problems.push(format!(
                    "{}: a provenance is always `{}`",
                    a.path,
                    layout::PROVENANCE
                ));
            }
        }
        // A layer is a tar.gz like an archive: its entries are what `contents` lists.
        Kind::CaCertificates => check_archive(out, a, problems),
        // What an SBOM describes is checked with the whole manifest: `sbom::check`;
        // what an installer carries, against the archives: `installer::check`.
        Kind::OciIndex
        | Kind::OciManifest
        | Kind::OciLayout
        | Kind::ImageArchive
        | Kind::Sbom
        | Kind::Installer => {}
    }
}

/// The provenance the manifest lists (once its hash checked out) is about exactly the
/// manifest's artifacts, with its source date, commit and targets.
fn check_provenance(out: &OutDir, m: &Manifest, passed: &[&Artifact], problems: &mut Vec<String>) {
    let listed: Vec<&Artifact> = m
        .artifacts
        .iter()
        .filter(|a| a.kind == Kind::Provenance)
        .collect();
    if listed.len() > 1 {
        problems.push(format!(
            "{}: listed {} times in the manifest",
            layout::PROVENANCE,
            listed.len()
        ));
    }
    for a in listed {
        if !passed.iter().any(|p| std::ptr::eq(*p, a)) {
            continue;
        }
        match crate::provenance::Statement::read(out) {
            Ok(s) => problems.extend(crate::provenance::check_against(&s, m)),
            Err(e) => problems.push(format!("{}: {e:#}", a.path)),
        }
    }
}

fn check_binary(out: &OutDir, a: &Artifact, problems: &mut Vec<String>) {
    let (Some(target), Some(platform)) = (&a.target, a.platform) else {
        problems.push(format!("{}: a binary with no target or platform", a.path));
        return;
    };
    // The directory it sits in is the platform a Dockerfile will COPY it for.
    if !a.path.as_str().starts_with(&format!("{}/", platform.dir())) {
        problems.push(format!(
            "{}: a `{target}` binary for platform `{platform}` filed outside `{platform}/`",
            a.path
        ));
    }
    let bin = match out.file(&a.path).and_then(|p| binary::read(&p)) {
        Ok(b) => b,
        Err(e) => {
            problems.push(format!("{}: {e:#}", a.path));
            return;
        }
    };
    for p in bin.problems(platform, &format!("`{target}` ({platform})")) {
        problems.push(format!("{}: {p}", a.path));
    }
    if target.is_musl() && !matches!(bin.linkage, Linkage::Static | Linkage::StaticPie) {
        problems.push(format!(
            "{}: a musl binary that is not static ({:?}); it will not run on `scratch`",
            a.path, bin.linkage
        ));
    }
    if let Some(recorded) = &a.linkage
        && *recorded != bin.linkage
    {
        problems.push(format!(
            "{}: linkage is {:?}, the manifest says {recorded:?}",
            a.path, bin.linkage
        ));
    }
}

/// `<archive>.sha256` names the archive and its hash, as `package` writes it.
fn check_sidecar(out: &OutDir, a: &Artifact, problems: &mut Vec<String>) {
    let side = layout::sidecar(&a.path);
    match out.read(&side, crate::limits::MAX_SIDECAR_BYTES) {
        Ok(bytes) if bytes == sidecar_text(&a.path, &a.sha256).as_bytes() => {}
        Ok(_) => problems.push(format!(
            "{side}: does not hold the archive's sha256 {} (hint: re-run `cargo multiarch package`)",
            a.sha256
        )),
        Err(e) => problems.push(format!("{side}: {e:#}")),
    }
}

/// One entry of an archive as found: its type, mode and contents.
struct Found {
    dir: bool,
    mode: u32,
    sha256: Option<Sha256>,
    size: u64,
}

/// Every entry inside an archive is one its `contents` lists (path, type, mode, size
/// and hash), or a parent directory of one; nothing else is in it.
fn check_archive(out: &OutDir, a: &Artifact, problems: &mut Vec<String>) {
    let result = (|| -> Result<BTreeMap<String, Found>> {
        let file = out.open(&a.path)?;
        let len = file.metadata()?.len();
        let listed = if a.path.as_path().extension() == Some("zip") {
            crate::archive::zip::list(std::io::BufReader::new(file))?
        } else {
            crate::archive::list_tar_gz(std::io::BufReader::new(file), len)?
        };
        let mut found = BTreeMap::new();
        for e in listed {
            let f = Found {
                dir: e.dir,
                mode: e.mode,
                sha256: e.sha256,
                size: e.size,
            };
            if found.insert(e.name.clone(), f).is_some() {
                anyhow::bail!(
                    "`{}` is in the archive twice",
                    crate::limits::shown(&e.name)
                );
            }
        }
        Ok(found)
    })();
    let found = match result {
        Ok(f) => f,
        Err(e) => {
            problems.push(format!("{}: cannot read the archive: {e:#}", a.path));
            return;
        }
    };
    let listed: BTreeSet<&str> = a.contents.iter().map(|c| c.path.as_str()).collect();
    for c in &a.contents {
        let Some(f) = found.get(c.path.as_str()) else {
            problems.push(format!(
                "{}: `{}` is listed but not in the archive",
                a.path, c.path
            ));
            continue;
        };
        let want_mode = format!("{:04o}", f.mode);
        if f.dir {
            problems.push(format!(
                "{}: `{}` is a directory in the archive, the manifest lists a file",
                a.path, c.path
            ));
        } else if want_mode != c.mode {
            problems.push(format!(
                "{}: `{}` has mode {want_mode}, the manifest says {}",
                a.path, c.path, c.mode
            ));
        } else if f.size != c.size || f.sha256.as_ref() != Some(&c.sha256) {
            problems.push(format!(
                "{}: `{}` has sha256 {} ({} bytes), the manifest says {} ({} bytes)",
                a.path,
                c.path,
                f.sha256.as_ref().map_or("-", Sha256::as_str),
                f.size,
                c.sha256,
                c.size
            ));
        }
    }
    let parents: BTreeSet<&str> = listed
        .iter()
        .flat_map(|p| p.match_indices('/').map(|(i, _)| &p[..i]))
        .collect();
    for (name, f) in &found {
        if listed.contains(name.as_str()) {
            continue;
        }
        if f.dir && parents.contains(name.as_str()) {
            if f.mode != 0o755 {
                problems.push(format!(
                    "{}: directory `{name}/` has mode {:04o}, archives write 0755",
                    a.path, f.mode
                ));
            }
            continue;
        }
        problems.push(format!(
            "{}: `{}` is in the archive but not in the manifest",
            a.path,
            crate::limits::shown(name)
        ));
    }
}

/// `SHA256SUMS` agrees with the manifest, line for line.
fn check_sums(out: &OutDir, m: &Manifest, problems: &mut Vec<String>) {
    let rel = RelPath::new(layout::SUMS).expect("a plain name");
    match out.read(&rel, crate::limits::MAX_MANIFEST_BYTES) {
        Ok(text) if text == m.sha256sums().as_bytes() => {}
        Ok(_) => problems.push(format!(
            "{}: does not match manifest.json (hint: re-run `cargo multiarch package`)",
            layout::SUMS
        )),
        Err(e) => problems.push(format!("{}: {e:#}", layout::SUMS)),
    }
}

fn check_platforms(m: &Manifest, expect: Option<&[Platform]>, r: &mut Report) {
    let expected: Vec<Platform> = match expect {
        Some(list) => list.to_vec(),
        None => m.platforms.clone(),
    };
    let present: BTreeSet<Platform> = m
        .artifacts
        .iter()
        .filter(|a| a.kind == Kind::Binary)
        .filter_map(|a| a.platform)
        .collect();
    for p in &expected {
        if !present.contains(p) {
            r.problems.push(format!(
                "platform `{p}` is expected but has no binaries: this set must not be published as multi-platform (hint: build it with `cargo multiarch package --platform {p}` and `merge` the out dirs)"
            ));
        }
    }
    r.platforms = expected.iter().map(ToString::to_string).collect();
}
