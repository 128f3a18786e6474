//! `cargo multiarch verify`: an out dir is what its manifest says, for every platform
//! it should hold. Re-hashes every artifact, reads every binary's ELF header, checks
//! that the expected platforms are all there (the guard against publishing a one-arch
//! "multi-arch" release), and that no manifest path leads outside the out dir.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::{Context as _, Result};
use camino::{Utf8Component, Utf8Path, Utf8PathBuf};

use crate::archive;
use crate::elf::{self, Linkage};
use crate::manifest::{self, Artifact, Kind, Manifest};
use crate::platform::{Platform, TARGETS, TargetInfo};
use crate::probe;
use crate::process::{Ended, Process};

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Platforms that must be present; default: the manifest's `platforms`.
    pub expect: Option<Vec<Platform>>,
    /// Run every binary (natively or under qemu-user) with `run_args`.
    pub run: bool,
    pub run_args: Vec<String>,
}

/// What verification found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub problems: Vec<String>,
    /// One line per binary run with `--run`.
    pub runs: Vec<String>,
    pub checked: usize,
    pub platforms: Vec<String>,
}

/// Checks `out_dir` against its manifest; never reads outside `out_dir`.
pub fn verify(out_dir: &Utf8Path, opts: &Options) -> Result<(Manifest, Report)> {
    let m = Manifest::read(out_dir)?;
    let root = out_dir
        .canonicalize_utf8()
        .with_context(|| format!("cannot resolve `{out_dir}`"))?;
    let mut r = Report {
        platforms: m.platforms.clone(),
        ..Report::default()
    };
    for a in &m.artifacts {
        r.checked += 1;
        let Some(path) = inside(&root, &a.path, &mut r.problems) else {
            continue;
        };
        match archive::sha256_file(&path) {
            Ok((sha, size)) => {
                if sha != a.sha256 {
                    r.problems.push(format!(
                        "{}: sha256 is {sha}, the manifest says {}",
                        a.path, a.sha256
                    ));
                    continue;
                }
                if size != a.size {
                    r.problems.push(format!(
                        "{}: size is {size}, the manifest says {}",
                        a.path, a.size
                    ));
                }
            }
            Err(e) => {
                r.problems.push(format!("{}: {e:#}", a.path));
                continue;
            }
        }
        match a.kind {
            Kind::Binary => check_binary(a, &path, &mut r.problems),
            Kind::Archive => check_archive(a, &path, &mut r.problems),
            Kind::OciIndex | Kind::OciManifest | Kind::ImageArchive => {}
        }
    }
    if m.artifacts.iter().any(|a| a.kind == Kind::OciIndex) {
        match crate::image::verify_layout(&out_dir.join(crate::image::OCI_DIR)) {
            Ok(problems) => r.problems.extend(
                problems
                    .into_iter()
                    .map(|p| format!("{}: {p}", crate::image::OCI_DIR)),
            ),
            Err(e) => r.problems.push(format!("{}: {e:#}", crate::image::OCI_DIR)),
        }
    }
    check_sums(out_dir, &m, &mut r.problems);
    check_platforms(&m, opts.expect.as_deref(), &mut r);
    if opts.run {
        run_binaries(&root, &m, &opts.run_args, &mut r);
    }
    Ok((m, r))
}

/// `path` resolved inside `root`, or a problem: absolute paths, `..`, and symlinks that
/// lead out are refused before anything is read.
fn inside(root: &Utf8Path, rel: &Utf8Path, problems: &mut Vec<String>) -> Option<Utf8PathBuf> {
    if rel.is_absolute() {
        problems.push(format!(
            "{rel}: absolute path in the manifest (paths must be relative to the out dir)"
        ));
        return None;
    }
    if rel
        .components()
        .any(|c| !matches!(c, Utf8Component::Normal(_)))
    {
        problems.push(format!(
            "{rel}: path leaves the out dir or is not normalised (`..`, `.`)"
        ));
        return None;
    }
    let joined = root.join(rel);
    match joined.canonicalize_utf8() {
        Ok(resolved) if resolved.starts_with(root) => Some(resolved),
        Ok(resolved) => {
            problems.push(format!(
                "{rel}: resolves to `{resolved}`, outside the out dir (symlink)"
            ));
            None
        }
        Err(_) => {
            problems.push(format!("{rel}: missing"));
            None
        }
    }
}

fn target_info(a: &Artifact) -> Option<&'static TargetInfo> {
    let triple = a.target.as_deref()?;
    let base = triple.split('.').next().unwrap_or(triple);
    TARGETS.iter().find(|t| t.triple == base)
}

fn check_binary(a: &Artifact, path: &Utf8Path, problems: &mut Vec<String>) {
    let Some(info) = target_info(a) else {
        problems.push(format!(
            "{}: unknown target `{}`",
            a.path,
            a.target.as_deref().unwrap_or("(none)")
        ));
        return;
    };
    // The directory it sits in is the platform a Dockerfile will COPY it for.
    let dir_platform = info.platform.dir();
    if !a.path.as_str().starts_with(&format!("{dir_platform}/"))
        || a.platform.as_deref() != Some(dir_platform.as_str())
    {
        problems.push(format!(
            "{}: a `{}` binary recorded under platform `{}`",
            a.path,
            info.triple,
            a.platform.as_deref().unwrap_or("(none)")
        ));
    }
    let Some(machine) = info.elf_machine else {
        return;
    };
    let elf = match elf::read(path) {
        Ok(e) => e,
        Err(e) => {
            problems.push(format!("{}: {e:#}", a.path));
            return;
        }
    };
    let class = if info.triple.starts_with("armv7") {
        32
    } else {
        64
    };
    if elf.machine != machine || elf.class != class {
        problems.push(format!(
            "{}: is an ELF{} {} binary, but `{}` ({}) needs ELF{class} {}",
            a.path,
            elf.class,
            elf::machine_name(elf.machine),
            info.triple,
            info.platform,
            elf::machine_name(machine)
        ));
    }
    if info.triple.contains("-musl") && !matches!(elf.linkage, Linkage::Static | Linkage::StaticPie)
    {
        problems.push(format!(
            "{}: a musl binary that is not static ({:?}); it will not run on `scratch`",
            a.path, elf.linkage
        ));
    }
    if let Some(recorded) = &a.linkage
        && *recorded != elf.linkage
    {
        problems.push(format!(
            "{}: linkage is {:?}, the manifest says {recorded:?}",
            a.path, elf.linkage
        ));
    }
}

/// Every file inside an archive is the one its `contents` lists.
fn check_archive(a: &Artifact, path: &Utf8Path, problems: &mut Vec<String>) {
    let result = (|| -> Result<BTreeMap<String, (String, u64)>> {
        let file = std::fs::File::open(path)?;
        let mut tar =
            tar::Archive::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)));
        let mut found = BTreeMap::new();
        for entry in tar.entries()? {
            let mut entry = entry?;
            if entry.header().entry_type().is_dir() {
                continue;
            }
            let name = entry.path()?.to_string_lossy().into_owned();
            found.insert(name, archive::sha256_reader(&mut entry)?);
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
        match found.get(&c.path) {
            None => problems.push(format!(
                "{}: `{}` is listed but not in the archive",
                a.path, c.path
            )),
            Some((sha, size)) if *sha != c.sha256 || *size != c.size => {
                problems.push(format!(
                    "{}: `{}` has sha256 {sha}, the manifest says {}",
                    a.path, c.path, c.sha256
                ));
            }
            Some(_) => {}
        }
    }
    for name in found.keys().filter(|n| !listed.contains(n.as_str())) {
        problems.push(format!(
            "{}: `{name}` is in the archive but not in the manifest",
            a.path
        ));
    }
}

/// `SHA256SUMS` agrees with the manifest, line for line.
fn check_sums(out_dir: &Utf8Path, m: &Manifest, problems: &mut Vec<String>) {
    let p = out_dir.join(manifest::SUMS);
    match std::fs::read_to_string(&p) {
        Ok(text) if text == m.sha256sums() => {}
        Ok(_) => problems.push(format!(
            "{}: does not match manifest.json (hint: re-run `cargo multiarch package`)",
            manifest::SUMS
        )),
        Err(_) => problems.push(format!("{}: missing", manifest::SUMS)),
    }
}

fn check_platforms(m: &Manifest, expect: Option<&[Platform]>, r: &mut Report) {
    let expected: Vec<String> = match expect {
        Some(list) => list.iter().map(ToString::to_string).collect(),
        None => m.platforms.clone(),
    };
    let present: BTreeSet<&str> = m
        .artifacts
        .iter()
        .filter(|a| a.kind == Kind::Binary)
        .filter_map(|a| a.platform.as_deref())
        .collect();
    for p in &expected {
        if !present.contains(p.as_str()) {
            r.problems.push(format!(
                "platform `{p}` is expected but has no binaries: this set must not be published as multi-platform (hint: build it with `cargo multiarch package --platform {p}` and `merge` the out dirs)"
            ));
        }
    }
    r.platforms = expected;
}

/// How long `verify --run` lets one binary run.
const RUN_LIMIT: Duration = Duration::from_secs(30);

fn run_binaries(root: &Utf8Path, m: &Manifest, args: &[String], r: &mut Report) {
    let host_arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    for a in m.artifacts.iter().filter(|a| a.kind == Kind::Binary) {
        let Some(info) = target_info(a) else { continue };
        if info.platform.os != std::env::consts::OS {
            r.runs.push(format!(
                "skipped  {}  ({} binaries do not run here)",
                a.path, info.platform
            ));
            continue;
        }
        let path = root.join(&a.path);
        let (p, how) = if info.platform.arch == host_arch {
            (Process::new(&path), "native".to_owned())
        } else {
            let arch = probe::qemu_arch(info.triple);
            let Some(q) = probe::which(&format!("qemu-{arch}"))
                .or_else(|| probe::which(&format!("qemu-{arch}-static")))
            else {
                r.problems.push(format!(
                    "{}: cannot run {} binaries here (hint: `sudo apt-get install qemu-user`)",
                    a.path, info.platform
                ));
                continue;
            };
            let name = q.file_name().unwrap_or("qemu").to_owned();
            (Process::new(q).arg(&path), name)
        };
        let p = p.args(args);
        // Its own process group, killed when it exits or at the limit: a binary that
        // daemonises or holds its output open cannot leave anything behind or hang verify.
        match p.run_limited(RUN_LIMIT) {
            Ok(run) => match run.ended {
                Ended::Exited(status) if status.success() => {
                    let text = String::from_utf8_lossy(&run.stdout);
                    r.runs.push(format!(
                        "ok       {}  ({how}): {}",
                        a.path,
                        text.lines().next().unwrap_or("").trim()
                    ));
                }
                Ended::Exited(status) => r.problems.push(format!(
                    "{}: `{}` failed ({status}): {}",
                    a.path,
                    args.join(" "),
                    String::from_utf8_lossy(&run.stderr)
                        .lines()
                        .next()
                        .unwrap_or("")
                        .trim()
                )),
                Ended::TimedOut => r.problems.push(format!(
                    "{}: `{p}` took over {} s and was killed",
                    a.path,
                    RUN_LIMIT.as_secs()
                )),
            },
            Err(e) => r.problems.push(format!("{}: {e:#}", a.path)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A manifest listing one amd64 "binary" at `linux/amd64/bin/app`.
    fn one_binary() -> Manifest {
        Manifest {
            schema: manifest::SCHEMA.to_owned(),
            tool: manifest::tool(),
            source_date_epoch: 0,
            git: None,
            platforms: vec!["linux/amd64".to_owned()],
            artifacts: vec![Artifact {
                kind: Kind::Binary,
                path: "linux/amd64/bin/app".into(),
                target: Some("x86_64-unknown-linux-musl".to_owned()),
                platform: Some("linux/amd64".to_owned()),
                ..Artifact::default()
            }],
        }
    }

    #[test]
    fn run_returns_promptly_when_the_binary_leaves_a_daemon_holding_its_output() {
        if std::env::consts::ARCH != "x86_64" {
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(tmp.path()).unwrap();
        let app = root.join("linux/amd64/bin/app");
        std::fs::create_dir_all(app.parent().unwrap()).unwrap();
        std::fs::write(&app, "#!/bin/sh\nsleep 5 &\necho \"app 1.0 $!\"\n").unwrap();
        std::fs::set_permissions(&app, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let mut r = Report::default();
        let start = std::time::Instant::now();
        run_binaries(root, &one_binary(), &["--version".to_owned()], &mut r);
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.runs.len(), 1, "{:?}", r.runs);
        let line = &r.runs[0];
        assert!(
            line.starts_with("ok       linux/amd64/bin/app  (native): app 1.0 "),
            "{line}"
        );
        // The daemon went with it.
        let pid = line.rsplit(' ').next().unwrap();
        let start = std::time::Instant::now();
        while std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|s| !s.rsplit(')').next().unwrap().trim_start().starts_with('Z'))
        {
            assert!(
                start.elapsed() < Duration::from_secs(1),
                "`sleep` {pid} still runs"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
