//! Test support: fixture copies, running the tool with a scrubbed environment, and
//! tool requirements that fail the test when the tool is missing.

#![allow(dead_code, reason = "each test module uses a different subset")]

pub mod fake_http;
mod registry;

pub use registry::Registry;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};

/// The `SOURCE_DATE_EPOCH` every reproducible run uses.
pub const EPOCH: &str = "1700000000";

/// `sbomapp`'s archives for two platforms.
pub const SBOMAPP_AMD: &str = "linux/amd64/sbomapp-0.2.0-x86_64-unknown-linux-musl.tar.gz";
pub const SBOMAPP_ARM: &str = "linux/arm64/sbomapp-0.2.0-aarch64-unknown-linux-musl.tar.gz";

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Scratch space under cargo's target dir, kept between runs so fixture builds are
/// incremental (`target/tmp`).
pub fn scratch() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

/// A copy of `fixture-workspaces/<name>` shared by every test of this run that only
/// reads it. Its place is stable across runs and files are rewritten only when their
/// content changed, so cargo's fingerprints (which include paths and mtimes) stay
/// valid and repeated builds of the same fixture are incremental. Builds share one
/// target dir per fixture: [`shared_target_dir`].
pub fn shared_fixture(name: &str) -> PathBuf {
    static DONE: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    let done = DONE.get_or_init(|| Mutex::new(Vec::new()));
    let mut done = done.lock().unwrap();
    let dest = scratch().join("fixtures").join(name);
    if !done.iter().any(|d| d == name) {
        sync_dir(&repo().join("fixture-workspaces").join(name), &dest);
        done.push(name.to_owned());
    }
    dest
}

/// A private, writable copy of a fixture in a fresh temp dir (for tests that change it).
pub fn private_fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::Builder::new()
        .prefix("multiarch-")
        .tempdir_in(scratch())
        .unwrap();
    let dest = tmp.path().join(name);
    sync_dir(&repo().join("fixture-workspaces").join(name), &dest);
    (tmp, dest)
}

/// The target dir every test building `name` shares.
pub fn shared_target_dir(name: &str) -> PathBuf {
    scratch().join("fixture-targets").join(name)
}

fn sync_dir(src: &Path, dest: &Path) {
    std::fs::create_dir_all(dest).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "target" || name == "out" || name == "custom-target" || name == "dist" {
            continue;
        }
        let (from, to) = (entry.path(), dest.join(&name));
        if entry.file_type().unwrap().is_dir() {
            sync_dir(&from, &to);
        } else {
            let new = std::fs::read(&from).unwrap();
            if std::fs::read(&to).ok().as_deref() != Some(&new[..]) {
                std::fs::write(&to, new).unwrap();
            }
        }
    }
}

/// Variables that would change what cargo builds or prints; removed for every run.
pub const SCRUBBED_ENV: &[&str] = &[
    "RUSTFLAGS",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET",
    "CARGO_TERM_COLOR",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    // A test run inside GitHub Actions must not write the job's own summary.
    "GITHUB_STEP_SUMMARY",
];

/// `cargo-multiarch multiarch ARGS…` in `dir`, with the variables that would change
/// cargo's behaviour removed.
pub fn multiarch(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-multiarch"));
    cmd.arg("multiarch").current_dir(dir);
    for var in SCRUBBED_ENV {
        cmd.env_remove(var);
    }
    cmd.env("NO_COLOR", "1");
    cmd
}

pub struct Run {
    pub out: Output,
    pub cmd: String,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }

    #[track_caller]
    pub fn success(self) -> Self {
        assert!(
            self.out.status.success(),
            "`{}` failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
            self.cmd,
            self.out.status,
            self.stdout(),
            self.stderr()
        );
        self
    }

    #[track_caller]
    pub fn failure(self) -> Self {
        assert!(
            !self.out.status.success(),
            "`{}` succeeded but should have failed:\n--- stdout\n{}\n--- stderr\n{}",
            self.cmd,
            self.stdout(),
            self.stderr()
        );
        self
    }
}

impl Run {
    /// Failed with exactly this exit status (the kinds of `cargo multiarch --help`).
    #[track_caller]
    pub fn exit(self, code: i32) -> Self {
        assert_eq!(
            self.out.status.code(),
            Some(code),
            "`{}` should have exited {code}:\n--- stdout\n{}\n--- stderr\n{}",
            self.cmd,
            self.stdout(),
            self.stderr()
        );
        self
    }
}

pub fn run(cmd: &mut Command) -> Run {
    let line = format!("{cmd:?}");
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("could not run {line}: {e}"));
    Run { out, cmd: line }
}

/// A tool the test needs, on PATH. `scripts/setup` (which `scripts/test` runs)
/// installs every one, so a missing tool fails the test, everywhere, naming the fix:
/// a test never passes having checked nothing.
#[track_caller]
pub fn require(tool: &str) {
    assert!(
        which::which(tool).is_ok(),
        "`{tool}` is not installed (hint: run `scripts/setup`, which `scripts/test` runs)"
    );
}

/// `qemu-aarch64` or `qemu-aarch64-static`, under the rule of [`require`].
#[track_caller]
pub fn qemu_aarch64() -> PathBuf {
    ["qemu-aarch64", "qemu-aarch64-static"]
        .into_iter()
        .find_map(|name| which::which(name).ok())
        .unwrap_or_else(|| {
            panic!("`qemu-aarch64` is not installed (hint: run `scripts/setup`, which `scripts/test` runs)")
        })
}

/// A python3 module the test needs, under the rule of [`require`].
#[track_caller]
pub fn require_python(module: &str) {
    require("python3");
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "python3 module `{module}` is not installed (hint: run `scripts/setup`, which `scripts/test` runs)"
    );
}

/// Runs a shell script in `dir`; its stdout, or a panic with what it printed.
#[track_caller]
pub fn sh(dir: &Path, script: &str) -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "`{script}` failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Every file under `dir` with its bytes, relative paths sorted.
pub fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// Edits `out/manifest.json` by hand, then rewrites the provenance (its subjects, date
/// and commit) and `SHA256SUMS` to agree with it, so only the check under test can
/// notice the change.
pub fn edit_manifest(out: &Path, f: impl FnOnce(&mut serde_json::Value)) {
    use cargo_multiarch::layout::Kind;
    use cargo_multiarch::manifest::Manifest;
    use cargo_multiarch::provenance::{self, Statement};
    let p = out.join("manifest.json");
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    f(&mut m);
    std::fs::write(&p, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
    let Ok(mut typed) = serde_json::from_value::<Manifest>(m) else {
        return;
    };
    let prov = out.join(cargo_multiarch::layout::PROVENANCE);
    if let Ok(bytes) = std::fs::read(&prov)
        && let Ok(mut s) = Statement::parse(&bytes)
    {
        s.subject = provenance::expected_subjects(&typed);
        let d = &mut s.predicate.build_definition;
        d.internal_parameters.source_date_epoch = typed.source_date_epoch;
        for r in d
            .resolved_dependencies
            .iter_mut()
            .filter(|r| r.name == "git")
        {
            if let Some(g) = &typed.git {
                r.digest.insert("gitCommit".into(), g.commit.clone());
            }
        }
        let bytes = s.to_bytes();
        std::fs::write(&prov, &bytes).unwrap();
        for a in typed
            .artifacts
            .iter_mut()
            .filter(|a| a.kind == Kind::Provenance)
        {
            a.sha256 = cargo_multiarch::digest::Sha256::of(&bytes);
            a.size = bytes.len() as u64;
        }
        std::fs::write(&p, serde_json::to_vec_pretty(&typed).unwrap()).unwrap();
    }
    std::fs::write(out.join("SHA256SUMS"), typed.sha256sums()).unwrap();
}

/// zig, on PATH or as the `ziglang` Python package (what the zig wrappers need),
/// under the rule of [`require`].
#[track_caller]
pub fn require_zig() {
    let python_zig = || {
        Command::new("python3")
            .args(["-c", "import ziglang"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    assert!(
        which::which("zig").is_ok() || python_zig(),
        "zig is not installed, neither on PATH nor as the `ziglang` Python package (hint: run `scripts/setup`, which `scripts/test` runs)"
    );
}

/// Builds `fixture` (shared copy, shared target dir) into a fresh out dir.
pub fn build(fixture: &str, args: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = shared_fixture(fixture);
    let out = tempfile::tempdir().unwrap();
    run(multiarch(&dir)
        .arg("build")
        .arg("--out-dir")
        .arg(out.path())
        .arg("--target-dir")
        .arg(shared_target_dir(fixture))
        .args(args))
    .success();
    (out, dir)
}

/// `package` of a shared fixture into a fresh out dir.
pub fn package(fixture: &str, extra: &[&str]) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    run(multiarch(&shared_fixture(fixture))
        .arg("package")
        .arg("--out-dir")
        .arg(out.path())
        .arg("--target-dir")
        .arg(shared_target_dir(fixture))
        .args(extra)
        .env("SOURCE_DATE_EPOCH", EPOCH))
    .success();
    out
}

/// `verify --out-dir OUT ARGS…`, run in `out`.
pub fn verify(out: &Path, args: &[&str]) -> Run {
    run(multiarch(out)
        .arg("verify")
        .arg("--out-dir")
        .arg(out)
        .args(args))
}

/// A JSON file, parsed.
pub fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// `package` then `image` of `multi` into a fresh out dir; returns it and the
/// `name:tag@digest` lines `image` printed.
pub fn packaged_image(
    dir: &Path,
    target_dir: &Path,
    image_args: &[&str],
) -> (tempfile::TempDir, Vec<String>) {
    let out = tempfile::tempdir().unwrap();
    run(multiarch(dir)
        .arg("package")
        .arg("--out-dir")
        .arg(out.path())
        .arg("--target-dir")
        .arg(target_dir)
        .env("SOURCE_DATE_EPOCH", EPOCH))
    .success();
    let r = run(multiarch(dir)
        .args(["image", "--no-build"])
        .arg("--out-dir")
        .arg(out.path())
        .args(image_args)
        .env("SOURCE_DATE_EPOCH", EPOCH))
    .success();
    (out, r.stdout().lines().map(str::to_owned).collect())
}

pub fn multi_image(image_args: &[&str]) -> (tempfile::TempDir, Vec<String>) {
    packaged_image(
        &shared_fixture("multi"),
        &shared_target_dir("multi"),
        image_args,
    )
}

pub fn tool(cmd: &mut Command) -> String {
    let line = format!("{cmd:?}");
    let out = cmd.output().unwrap_or_else(|e| panic!("{line}: {e}"));
    assert!(
        out.status.success(),
        "{line} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    cargo_multiarch::digest::Sha256::of(bytes).to_string()
}

/// A key pair made by `minisign -G` in `dir`: `-W` (no password) unless `password`.
pub fn keypair(dir: &Path, password: Option<&str>) {
    require("minisign");
    let mut cmd = Command::new("minisign");
    cmd.args(["-G", "-p"])
        .arg(dir.join("k.pub"))
        .arg("-s")
        .arg(dir.join("k.key"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if password.is_none() {
        cmd.arg("-W");
    }
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    if let Some(pw) = password {
        std::io::Write::write_all(&mut stdin, format!("{pw}\n{pw}\n").as_bytes()).unwrap();
    }
    drop(stdin);
    assert!(child.wait().unwrap().success(), "minisign -G failed");
}
