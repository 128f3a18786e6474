//! `build`: real cross builds of the fixtures, checked by reading each staged ELF and
//! running the arm64 binaries under qemu-user.

use std::path::{Path, PathBuf};
use std::process::Command;

use camino::Utf8PathBuf;
use cargo_multiarch::binary::{Linkage, elf};
use cargo_multiarch::platform::{EM_AARCH64, EM_X86_64};
use serde_json::Value;

use crate::support::{
    build, multiarch, private_fixture, qemu_aarch64, require, run, shared_fixture,
    shared_target_dir,
};

const X86: &str = "x86_64-unknown-linux-musl";
const ARM: &str = "aarch64-unknown-linux-musl";

/// Checks a staged binary: ELF machine of its platform, statically linked.
#[track_caller]
pub fn assert_static_elf(path: &Path, machine: u16) {
    let info = elf::read(&Utf8PathBuf::try_from(path.to_owned()).unwrap()).unwrap();
    assert_eq!(
        info.machine,
        machine,
        "{}: machine {}",
        path.display(),
        elf::machine_name(info.machine)
    );
    assert!(
        matches!(info.linkage, Linkage::Static | Linkage::StaticPie),
        "{} is not static: {:?}",
        path.display(),
        info.linkage
    );
}

/// Runs an aarch64 binary under qemu-user and returns its stdout.
fn run_arm64(path: &Path, args: &[&str]) -> String {
    let qemu = qemu_aarch64();
    let out = Command::new(qemu).arg(path).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{} under qemu: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn record(out: &Path, target: &str) -> Value {
    serde_json::from_slice(
        &std::fs::read(out.join(".multiarch").join(format!("{target}.json"))).unwrap(),
    )
    .unwrap()
}

#[test]
fn multi_stages_every_binary_for_both_platforms_and_each_runs() {
    let (out, dir) = build("multi", &[]);
    let out = out.path();
    for (bin, pkg) in [
        ("alpha", "alpha"),
        ("alpha-admin", "alpha"),
        ("beta-server", "beta"),
    ] {
        let amd = out.join("linux/amd64/bin").join(bin);
        let arm = out.join("linux/arm64/bin").join(bin);
        assert_static_elf(&amd, EM_X86_64);
        assert_static_elf(&arm, EM_AARCH64);
        let native = Command::new(&amd).output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&native.stdout)
                .lines()
                .next()
                .unwrap(),
            format!("{bin} 0.3.0 x86_64")
        );
        let text = run_arm64(&arm, &[]);
        assert_eq!(
            text.lines().next().unwrap(),
            format!("{bin} 0.3.0 aarch64"),
            "{bin}"
        );
        if bin == "alpha" {
            assert_eq!(text.lines().nth(1), Some("hello from common"));
        }
        // The record lists the binary with its hash and size.
        for (target, platform, path) in [(X86, "linux/amd64", &amd), (ARM, "linux/arm64", &arm)] {
            let rec = record(out, target);
            let b = rec["binaries"]
                .as_array()
                .unwrap()
                .iter()
                .find(|b| b["binary"] == bin)
                .unwrap();
            assert_eq!(b["package"], pkg);
            assert_eq!(b["version"], "0.3.0");
            assert_eq!(b["platform"], platform);
            assert_eq!(b["profile"], "release");
            assert_eq!(b["backend"], "cargo");
            assert_eq!(b["path"], format!("{platform}/bin/{bin}"));
            let bytes = std::fs::read(path).unwrap();
            assert_eq!(b["size"], bytes.len());
            let (sha, _) =
                cargo_multiarch::digest::sha256_file(&Utf8PathBuf::try_from(path.clone()).unwrap())
                    .unwrap();
            assert_eq!(b["sha256"], sha.as_str());
        }
    }
    // Only the selected bins: not gamma (outside default-members), not the example, not alpha-extra.
    let mut names: Vec<String> = std::fs::read_dir(out.join("linux/arm64/bin"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["alpha", "alpha-admin", "beta-server"]);
    assert_no_build_paths(out, &dir);
}

/// No absolute path of the workspace or the cargo home is embedded in any binary.
fn assert_no_build_paths(out: &Path, workspace: &Path) {
    let cargo_home = cargo_multiarch::cargo_config::cargo_home().unwrap();
    for platform in ["linux/amd64", "linux/arm64"] {
        for e in std::fs::read_dir(out.join(platform).join("bin")).unwrap() {
            let path = e.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            for needle in [
                workspace.to_str().unwrap(),
                cargo_home.as_str(),
                crate::support::scratch().to_str().unwrap(),
            ] {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                    "{} embeds `{needle}`",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn hello_runs_on_both_and_answers_version() {
    let (out, dir) = build("hello", &[]);
    let out = out.path();
    assert_static_elf(&out.join("linux/amd64/bin/hello"), EM_X86_64);
    assert_static_elf(&out.join("linux/arm64/bin/hello"), EM_AARCH64);
    let text = run_arm64(&out.join("linux/arm64/bin/hello"), &["--version"]);
    assert_eq!(text, "hello 0.1.0\n");
    assert_no_build_paths(out, &dir);
}

#[test]
fn cdep_goes_through_zig_for_aarch64_without_any_flag() {
    require("cargo-zigbuild");
    let (out, _) = build("cdep", &[]);
    let out = out.path();
    assert_eq!(record(out, ARM)["backend"], "zig");
    assert_eq!(record(out, X86)["backend"], "cargo");
    assert_static_elf(&out.join("linux/arm64/bin/cdep"), EM_AARCH64);
    assert_static_elf(&out.join("linux/amd64/bin/cdep"), EM_X86_64);
    let text = run_arm64(&out.join("linux/arm64/bin/cdep"), &[]);
    assert_eq!(text, "cdep 0.1.0 aarch64\nc says 42\n");
    let native = Command::new(out.join("linux/amd64/bin/cdep"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&native.stdout),
        "cdep 0.1.0 x86_64\nc says 42\n"
    );

    // Packaging what is staged probes no C toolchain: with only cargo, rustc and a
    // `python3` that leaves a mark on PATH (and no remembered zig), `package --no-build`
    // works and never looks for zig; `build` looks for it and fails without it.
    let tools = tempfile::tempdir().unwrap();
    let cargo = PathBuf::from(std::env::var_os("CARGO").unwrap());
    for name in ["cargo", "rustc"] {
        std::os::unix::fs::symlink(cargo.with_file_name(name), tools.path().join(name)).unwrap();
    }
    let asked = tools.path().join("python3-ran");
    let python = tools.path().join("python3");
    std::fs::write(
        &python,
        format!("#!/bin/sh\n: > '{}'\nexit 1\n", asked.display()),
    )
    .unwrap();
    std::fs::set_permissions(&python, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let bare = |cmd: &str, extra: &[&str]| {
        run(multiarch(&shared_fixture("cdep"))
            .env("PATH", tools.path())
            .env("XDG_CACHE_HOME", tools.path().join("cache"))
            .args([cmd, "--out-dir"])
            .arg(out)
            .arg("--target-dir")
            .arg(shared_target_dir("cdep"))
            .args(extra))
    };
    bare("package", &["--no-build"]).success();
    assert!(out.join("manifest.json").is_file());
    assert!(!asked.exists(), "`package --no-build` looked for zig");
    // The provenance still names the zig that built aarch64: `build` recorded it.
    let provenance: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("provenance.intoto.json")).unwrap())
            .unwrap();
    let zig = provenance["predicate"]["buildDefinition"]["resolvedDependencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "zig")
        .unwrap_or_else(|| panic!("no zig in {provenance}"));
    assert!(
        zig["uri"]
            .as_str()
            .unwrap()
            .starts_with("pkg:generic/zig@0."),
        "{zig}"
    );
    let err = bare("build", &["--no-install"]).failure();
    assert!(err.stderr().contains("zig"), "{}", err.stderr());
    assert!(asked.exists(), "`build` did not look for zig");
}

#[test]
fn forced_cargo_backend_on_cdep_for_aarch64_fails_naming_zig() {
    let dir = shared_fixture("cdep");
    let out = tempfile::tempdir().unwrap();
    let r = run(multiarch(&dir)
        .args([
            "build",
            "--backend",
            "cargo",
            "--target",
            ARM,
            "--target-dir",
        ])
        .arg(shared_target_dir("cdep-forced"))
        .arg("--out-dir")
        .arg(out.path()))
    .failure();
    let err = r.stderr();
    assert!(err.contains("aarch64-unknown-linux-musl  linux/arm64  cargo    FAILED  error: failed to run custom build command for `cdep v0.1.0"), "{err}");
    assert!(err.contains("help: `aarch64-unknown-linux-musl` needs a C compiler for its libc (`cdep` compiles C): build it with zig (`--backend zig`"), "{err}");
    assert!(
        err.contains("error: build failed for `aarch64-unknown-linux-musl`"),
        "{err}"
    );
    // A forced backend never falls back.
    assert!(!err.contains("retrying with"), "{err}");
    assert!(!out.path().join("linux/arm64/bin/cdep").exists());
}

#[test]
fn auto_mode_falls_back_to_zig_when_the_c_compiler_fails() {
    require("cargo-zigbuild");
    // A broken C compiler for every target (cc-rs's `TARGET_CC`): cargo's C build fails,
    // cargo-zigbuild's own `CC_<target>` wins over it, so the retry succeeds.
    let dir = shared_fixture("cdep");
    let out = tempfile::tempdir().unwrap();
    let r = run(multiarch(&dir)
        .args(["build", "--target", ARM, "--target-dir"])
        .arg(shared_target_dir("cdep-fallback"))
        .arg("--out-dir")
        .arg(out.path())
        .env("TARGET_CC", "false"))
    .success();
    let err = r.stderr();
    assert!(
        err.contains(
            "Building aarch64-unknown-linux-musl (linux/arm64) with cargo + rust-lld [1/1]"
        ),
        "{err}"
    );
    assert!(err.contains("warning: cargo failed for aarch64-unknown-linux-musl (error: failed to run custom build command for `cdep"), "{err}");
    assert!(err.contains("); retrying with zig"), "{err}");
    assert_eq!(record(out.path(), ARM)["backend"], "zig");
    let text = run_arm64(&out.path().join("linux/arm64/bin/cdep"), &[]);
    assert_eq!(text, "cdep 0.1.0 aarch64\nc says 42\n");
}

#[test]
fn one_failing_target_gives_a_summary_and_keep_going_stages_the_other() {
    let dir = shared_fixture("onlyamd");
    let out = tempfile::tempdir().unwrap();
    let target_dir = shared_target_dir("onlyamd");
    let r = run(multiarch(&dir)
        .arg("build")
        .arg("--out-dir")
        .arg(out.path())
        .arg("--target-dir")
        .arg(&target_dir))
    .failure();
    let err = r.stderr();
    assert!(err.contains("x86_64-unknown-linux-musl   linux/amd64  cargo    built, not staged  another target failed"), "{err}");
    assert!(err.contains("aarch64-unknown-linux-musl  linux/arm64  cargo    FAILED             error: onlyamd does not support aarch64"), "{err}");
    assert!(err.contains("error: build failed for `aarch64-unknown-linux-musl` (hint: `--keep-going` stages the targets that built)"), "{err}");
    assert!(
        !err.contains("retrying"),
        "a compile error is not retried with another backend:\n{err}"
    );
    assert!(!out.path().join("linux/amd64/bin/onlyamd").exists());

    let r = run(multiarch(&dir)
        .arg("build")
        .arg("--keep-going")
        .arg("--out-dir")
        .arg(out.path())
        .arg("--target-dir")
        .arg(&target_dir))
    .failure();
    let err = r.stderr();
    assert!(
        err.contains("x86_64-unknown-linux-musl   linux/amd64  cargo    ok"),
        "{err}"
    );
    assert_static_elf(&out.path().join("linux/amd64/bin/onlyamd"), EM_X86_64);
    assert!(
        out.path()
            .join(".multiarch/x86_64-unknown-linux-musl.json")
            .exists()
    );
    assert!(
        !out.path()
            .join(".multiarch/aarch64-unknown-linux-musl.json")
            .exists()
    );
}

#[test]
fn binaries_of_a_target_that_now_fails_do_not_pass_for_fresh() {
    let (_tmp, dir) = private_fixture("hello");
    let out = dir.join("out");
    let target_dir = shared_target_dir("hello-private");
    let build = || {
        run(multiarch(&dir)
            .arg("build")
            .arg("--target-dir")
            .arg(&target_dir))
    };
    build().success();
    assert!(out.join("linux/arm64/bin/hello").exists());
    // Break the aarch64 build only.
    let main = dir.join("src/main.rs");
    let src = std::fs::read_to_string(&main).unwrap();
    std::fs::write(
        &main,
        format!("#[cfg(target_arch = \"aarch64\")]\ncompile_error!(\"broken\");\n{src}"),
    )
    .unwrap();
    build().failure();
    assert!(
        !out.join("linux/arm64/bin/hello").exists(),
        "stale arm64 binary left behind"
    );
    assert!(
        !out.join(".multiarch/aarch64-unknown-linux-musl.json")
            .exists(),
        "stale arm64 record left behind"
    );
}

#[test]
fn a_no_op_rebuild_writes_nothing_and_a_damaged_staging_is_redone() {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
    let (out, dir) = build("hello", &["--target", X86]);
    let rebuild = || {
        run(multiarch(&dir)
            .args(["build", "--target", X86, "--out-dir"])
            .arg(out.path())
            .arg("--target-dir")
            .arg(shared_target_dir("hello")))
        .success();
    };
    let bin = out.path().join("linux/amd64/bin/hello");
    let rec = out.path().join(format!(".multiarch/{X86}.json"));
    let ino = |p: &Path| std::fs::metadata(p).unwrap().ino();
    let (bin_ino, rec_ino) = (ino(&bin), ino(&rec));
    let good = std::fs::read(&bin).unwrap();
    let good_rec = std::fs::read(&rec).unwrap();
    rebuild();
    assert_eq!((ino(&bin), ino(&rec)), (bin_ino, rec_ino), "rewritten");

    // One flipped byte, or a lost executable bit: staged again, whole.
    let mut bad = good.clone();
    bad[good.len() / 2] ^= 1;
    std::fs::write(&bin, &bad).unwrap();
    rebuild();
    assert_eq!(std::fs::read(&bin).unwrap(), good);
    assert_ne!(ino(&bin), bin_ino);
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o644)).unwrap();
    rebuild();
    assert_eq!(std::fs::metadata(&bin).unwrap().mode() & 0o777, 0o755);
    // A record that says something else (here, only its layout) is written again.
    std::fs::write(
        &rec,
        serde_json::to_vec(&serde_json::from_slice::<Value>(&good_rec).unwrap()).unwrap(),
    )
    .unwrap();
    rebuild();
    assert_eq!(std::fs::read(&rec).unwrap(), good_rec);
}

#[test]
fn missing_rust_std_with_no_install_names_the_rustup_command() {
    // riscv64gc-unknown-linux-gnu's rust-std is not installed by scripts/setup.
    let dir = shared_fixture("hello");
    let r = run(multiarch(&dir).args([
        "build",
        "--no-install",
        "--target",
        "riscv64gc-unknown-linux-gnu",
        "--backend",
        "zig",
    ]))
    .failure();
    let err = r.stderr();
    assert!(err.contains("error: rust-std for `riscv64gc-unknown-linux-gnu` is not installed (hint: run `rustup target add --toolchain "), "{err}");
    assert!(err.contains(" riscv64gc-unknown-linux-gnu`)"), "{err}");
}

#[test]
fn cross_command_is_built_and_container_paths_are_rerooted() {
    // `cross` cannot run here (no container engine). This stand-in on PATH records its
    // arguments, runs the real cargo with them (plus rust-lld, which cross's image would
    // not need), and rewrites the JSON paths to what cross reports from inside its
    // container (`/project`, `/target`), so the re-rooting is exercised for real.
    let (_tmp, dir) = private_fixture("hello");
    let bin = dir.join("stand-in-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = dir.join("cross-args.txt");
    let script = format!(
        "#!/bin/bash\n# stand-in for `cross` (no container engine here)\nprintf '%s\\n' \"$@\" > '{log}'\n[ \"$1\" = build ] || exit 2\nshift\ncargo build \"$@\" --config 'target.aarch64-unknown-linux-musl.linker=\"rust-lld\"' | sed -e \"s#$PWD/target#/target#g\" -e \"s#$PWD#/project#g\"\nexit ${{PIPESTATUS[0]}}\n",
        log = log.display()
    );
    let cross = bin.join("cross");
    std::fs::write(&cross, script).unwrap();
    std::fs::set_permissions(&cross, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let r = run(multiarch(&dir)
        .args(["build", "--backend", "cross", "--target", ARM])
        .env("PATH", path))
    .success();
    assert!(
        r.stderr()
            .contains("Building aarch64-unknown-linux-musl (linux/arm64) with cross ("),
        "{}",
        r.stderr()
    );
    let args = std::fs::read_to_string(&log).unwrap();
    let args: Vec<&str> = args.lines().collect();
    assert_eq!(
        &args[..2],
        ["build", "--message-format=json-render-diagnostics"]
    );
    for want in [
        &format!("--target={ARM}")[..],
        "--profile=release",
        "--bin=hello",
        "--package=hello",
    ] {
        assert!(args.contains(&want), "{want:?} not in {args:?}");
    }
    assert!(
        args.iter()
            .any(|a| a.contains("--remap-path-prefix=/project/=")),
        "{args:?}"
    );
    let staged = dir.join("out/linux/arm64/bin/hello");
    assert_static_elf(&staged, EM_AARCH64);
    assert_eq!(record(&dir.join("out"), ARM)["backend"], "cross");
}

#[test]
fn relative_target_and_out_dirs_are_where_the_user_typed_them() {
    // cargo runs in the workspace root, but `--target-dir`/`--out-dir` given relative
    // to the user's directory must land there.
    let (_tmp, dir) = private_fixture("hello");
    let cwd = tempfile::tempdir().unwrap();
    run(multiarch(cwd.path())
        .arg("build")
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .args([
            "--target-dir",
            "tdir",
            "--out-dir",
            "o",
            "--platform",
            "linux/arm64",
        ]))
    .success();
    assert!(
        cwd.path()
            .join("tdir/aarch64-unknown-linux-musl/release/hello")
            .is_file()
    );
    assert_static_elf(&cwd.path().join("o/linux/arm64/bin/hello"), EM_AARCH64);
    assert!(!dir.join("tdir").exists() && !dir.join("o").exists());
}

#[test]
fn cdep_builds_both_targets_in_one_cargo_process_with_zig_for_aarch64() {
    crate::support::require_zig();
    let dir = shared_fixture("cdep");
    let target_dir = shared_target_dir("cdep-onecall");
    let out = tempfile::tempdir().unwrap();
    let build = || {
        run(multiarch(&dir)
            .args(["build", "-v", "--target-dir"])
            .arg(&target_dir)
            .arg("--out-dir")
            .arg(out.path()))
        .success()
        .stderr()
    };
    let err = build();
    // The tool's own `Running` lines are its build commands (cargo's say `rustc …`).
    let calls: Vec<&str> = err
        .lines()
        .filter(|l| l.trim_start().starts_with("Running `") && l.contains("--message-format="))
        .collect();
    assert_eq!(calls.len(), 1, "one build process expected:\n{err}");
    let call = calls[0];
    let wrapper = target_dir.join("cargo-multiarch/zig/aarch64-unknown-linux-musl/cc");
    let wrapper = wrapper.to_str().unwrap();
    for want in [
        &format!("--target={X86} --target={ARM}")[..],
        &format!("CC_aarch64_unknown_linux_musl={wrapper} ")[..],
        &format!("'target.aarch64-unknown-linux-musl.linker=\"{wrapper}\"'")[..],
        "'env.CC_x86_64_unknown_linux_musl=\"x86_64-linux-musl-gcc\"'",
    ] {
        assert!(call.contains(want), "`{want}` not in {call}");
    }
    assert!(
        call.contains(" cargo build ") || call.contains("/cargo build "),
        "{call}"
    );
    assert!(!call.contains("zigbuild"), "{call}");
    assert_eq!(record(out.path(), ARM)["backend"], "zig");
    assert_eq!(record(out.path(), X86)["backend"], "cargo");
    assert_static_elf(&out.path().join("linux/arm64/bin/cdep"), EM_AARCH64);
    assert_static_elf(&out.path().join("linux/amd64/bin/cdep"), EM_X86_64);
    let text = run_arm64(&out.path().join("linux/arm64/bin/cdep"), &[]);
    assert_eq!(text, "cdep 0.1.0 aarch64\nc says 42\n");
    let native = Command::new(out.path().join("linux/amd64/bin/cdep"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&native.stdout),
        "cdep 0.1.0 x86_64\nc says 42\n"
    );

    // The wrappers are rewritten only when they change: a second run is all fresh.
    let mtime = || std::fs::metadata(wrapper).unwrap().modified().unwrap();
    let before = mtime();
    let err = build();
    assert!(
        !err.contains("Compiling cdep"),
        "rebuilt on a no-op run:\n{err}"
    );
    assert!(err.contains("Fresh cdep"), "{err}");
    assert_eq!(mtime(), before);

    // A wrapper replaced by a FIFO or a link to an endless file neither hangs the next
    // run nor is read through: it is written again.
    std::fs::remove_file(wrapper).unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(wrapper)
            .status()
            .unwrap()
            .success()
    );
    let cxx = Path::new(wrapper).with_file_name("c++");
    std::fs::remove_file(&cxx).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &cxx).unwrap();
    build();
    for w in [PathBuf::from(wrapper), cxx] {
        let meta = std::fs::symlink_metadata(&w).unwrap();
        assert!(
            meta.is_file(),
            "{} is not a regular file again",
            w.display()
        );
    }
}

/// A `$CARGO` that appends each call's arguments to `log` (one line a call), then runs
/// the real cargo.
fn logging_cargo(dir: &Path, log: &Path) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let path = dir.join("cargo");
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\nexec '{cargo}' \"$@\"\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    path
}

/// The `build` calls a logging cargo saw (`cargo metadata` and others are not counted).
fn cargo_builds(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("build "))
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_rust_compile_error_runs_cargo_once_and_is_printed_once() {
    let dir = shared_fixture("moved");
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("calls");
    let r = run(multiarch(&dir)
        .env("CARGO", logging_cargo(tmp.path(), &log))
        .args(["build", "--target-dir"])
        .arg(shared_target_dir("moved"))
        .arg("--out-dir")
        .arg(tmp.path().join("out")))
    .exit(3);
    let err = r.stderr();
    let builds = cargo_builds(&log);
    assert_eq!(builds.len(), 1, "{builds:#?}\n{err}");
    assert!(builds[0].contains(&format!("--target={X86} --target={ARM}")));
    assert_eq!(
        err.lines()
            .filter(|l| l.starts_with("error[E0382]: borrow of moved value"))
            .count(),
        1,
        "{err}"
    );
    assert!(!err.contains("retrying"), "{err}");
    assert!(!err.contains("Rebuilding"), "{err}");
    assert!(
        !err.contains("help: `"),
        "no backend fixes a compile error:\n{err}"
    );
    assert!(err.contains("aarch64-unknown-linux-musl  linux/arm64  cargo    FAILED  error[E0382]: borrow of moved value: `s`"), "{err}");
    assert!(
        err.contains(
            "error: build failed for `x86_64-unknown-linux-musl`, `aarch64-unknown-linux-musl`"
        ),
        "{err}"
    );
}

/// `openssl-sys` without `vendored` (a stand-in with the same name, `links` and failing
/// build script): `plan` and `doctor` name it with the feature before any build; the
/// build runs cargo once, is not retried with zig, and ends with the same fix; with the
/// feature it builds.
#[test]
fn a_sys_crate_without_its_bundled_library_is_named_with_the_feature_and_never_retried() {
    let dir = shared_fixture("sysdep");
    let warning = "`x86_64-unknown-linux-musl` links the system's OpenSSL through `openssl-sys`, which this machine lacks for it and no backend brings (hint: enable feature `vendored` of `openssl-sys`";
    let plan = run(multiarch(&dir).args(["plan", "--target", X86])).success();
    assert!(
        plan.stdout().contains(&format!("warning: {warning}")),
        "{}",
        plan.stdout()
    );
    // Said once for every target that lacks it.
    let both = run(multiarch(&dir).arg("plan")).success().stdout();
    assert_eq!(both.matches("links the system's").count(), 0, "{both}");
    assert!(both.contains("warning: `x86_64-unknown-linux-musl`, `aarch64-unknown-linux-musl` link the system's OpenSSL through `openssl-sys`, which this machine lacks for them"), "{both}");
    let json = run(multiarch(&dir).args(["plan", "--format", "json", "--target", X86])).success();
    let v: Value = serde_json::from_str(&json.stdout()).unwrap();
    assert_eq!(v["targets"][0]["system_libs"][0]["package"], "openssl-sys");
    assert_eq!(v["targets"][0]["system_libs"][0]["library"], "OpenSSL");
    let doctor = run(multiarch(&dir).args(["doctor", "--target", X86])).failure();
    assert!(
        doctor
            .stdout()
            .contains("MISSING  openssl-sys x86_64-unknown-linux-musl"),
        "{}",
        doctor.stdout()
    );

    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("calls");
    let build = |features: &[&str]| {
        run(multiarch(&dir)
            .env("CARGO", logging_cargo(tmp.path(), &log))
            .args(["build", "--target", X86, "--target-dir"])
            .arg(shared_target_dir("sysdep"))
            .arg("--out-dir")
            .arg(tmp.path().join("out"))
            .args(features))
    };
    let err = build(&[]).failure().stderr();
    assert_eq!(cargo_builds(&log).len(), 1, "{err}");
    assert!(!err.contains("retrying"), "{err}");
    assert_eq!(
        err.matches("Could not find directory of OpenSSL installation")
            .count(),
        1,
        "{err}"
    );
    assert!(err.contains(&format!("help: {warning}")), "{err}");

    let plan = run(multiarch(&dir).args([
        "plan",
        "--target",
        X86,
        "--features",
        "openssl-sys/vendored",
    ]))
    .success();
    assert!(
        !plan.stdout().contains("links the system's"),
        "{}",
        plan.stdout()
    );
    build(&["--features", "openssl-sys/vendored"]).success();
    assert!(tmp.path().join("out/linux/amd64/bin/sysdep").exists());
}
