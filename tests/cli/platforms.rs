//! Every platform users ship to (issue 14): `linux/386` built and run under
//! `qemu-i386`, `windows/amd64` zipped and run under wine, `darwin/arm64` linked with no
//! macOS SDK and its Mach-O header checked, `universal2-apple-darwin` holding both
//! slices, an image for `linux/386` + `linux/amd64` + `linux/arm64`, and an Apple
//! framework in the graph named in the plan. (armv7, riscv64 and ppc64le are planned in
//! `plan::targets_by_triple_or_platform_and_errors` and the platform unit tests from
//! rustc's cfg alone: their rust-std cannot be downloaded here, so they are not built.)
//!
//! zig fills its global cache on its first use per target (about a minute each), so
//! the first run of these tests is slow; later runs take seconds.

use std::path::Path;

use serde_json::Value;

use crate::support::{
    EPOCH, multiarch, private_fixture, require, require_zig, run, sh, shared_fixture,
    shared_target_dir,
};

/// Every tool these tests check with or run under, under the rule of `require`.
fn tools_here() {
    require_zig();
    for tool in [
        "cargo-zigbuild",
        "qemu-i386",
        "qemu-aarch64",
        "wine",
        "unzip",
        "zipinfo",
        "python3",
        "file",
    ] {
        require(tool);
    }
}

fn manifest(out: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap()
}

fn artifact<'a>(m: &'a Value, path: &str) -> &'a Value {
    m["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["path"] == path)
        .unwrap_or_else(|| panic!("no artifact `{path}` in {m:#}"))
}

/// The "done when": `package` for five platforms with no other flag (the target
/// dir comes from the environment, as a user's would), then `verify --run` running every
/// binary this machine can run, and the Linux ones as one image.
#[test]
fn multi_ships_to_linux_386_windows_and_macos_and_verify_runs_what_runs_here() {
    tools_here();
    let (_tmp, dir) = private_fixture("multi");
    let target_dir = shared_target_dir("multi-platforms");
    let r = run(multiarch(&dir)
        .env("CARGO_TARGET_DIR", &target_dir)
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .args([
            "package",
            "--platform",
            "linux/amd64,linux/arm64,linux/386,windows/amd64,darwin/arm64",
        ]))
    .success();
    let err = r.stderr();
    assert!(
        err.contains("Building i686-unknown-linux-musl (linux/386) with cargo + rust-lld"),
        "{err}"
    );
    assert!(
        err.contains("Building x86_64-pc-windows-gnu (windows/amd64) with cargo-zigbuild"),
        "{err}"
    );
    assert!(
        err.contains("Building aarch64-apple-darwin (darwin/arm64) with cargo-zigbuild"),
        "{err}"
    );
    let out = dir.join("out");

    // What each binary is, as file(1) reads it.
    let kinds = sh(
        &out,
        "file -b linux/386/bin/alpha linux/amd64/bin/alpha linux/arm64/bin/alpha windows/amd64/bin/alpha.exe darwin/arm64/bin/alpha",
    );
    let kinds: Vec<&str> = kinds.lines().collect();
    assert!(
        kinds[0].starts_with("ELF 32-bit LSB executable, Intel 80386")
            && kinds[0].contains("statically linked"),
        "{kinds:?}"
    );
    assert!(
        kinds[1].starts_with("ELF 64-bit LSB") && kinds[1].contains("x86-64"),
        "{kinds:?}"
    );
    assert!(
        kinds[2].starts_with("ELF 64-bit LSB") && kinds[2].contains("ARM aarch64"),
        "{kinds:?}"
    );
    assert!(
        kinds[3].starts_with("PE32+ executable (console) x86-64"),
        "{kinds:?}"
    );
    assert!(
        kinds[4].starts_with("Mach-O 64-bit arm64 executable"),
        "{kinds:?}"
    );
    // The Mach-O header itself: magic, CPU type arm64, MH_EXECUTE.
    let head = std::fs::read(out.join("darwin/arm64/bin/alpha")).unwrap();
    let word = |i: usize| u32::from_le_bytes(head[i..i + 4].try_into().unwrap());
    assert_eq!((word(0), word(4), word(12)), (0xfeed_facf, 0x0100_000c, 2));

    // Every archive and binary is in SHA256SUMS, Windows ones as `.zip` and `.exe`.
    sh(&out, "sha256sum --quiet -c SHA256SUMS");
    let sums = std::fs::read_to_string(out.join("SHA256SUMS")).unwrap();
    for name in [
        "windows/amd64/alpha-0.3.0-x86_64-pc-windows-gnu.zip",
        "windows/amd64/bin/alpha.exe",
        "linux/386/alpha-0.3.0-i686-unknown-linux-musl.tar.gz",
        "darwin/arm64/alpha-0.3.0-aarch64-apple-darwin.tar.gz",
    ] {
        assert!(
            sums.contains(&format!("  {name}\n")),
            "{name} not in {sums}"
        );
    }
    let m = manifest(&out);
    assert_eq!(
        m["platforms"],
        serde_json::json!([
            "darwin/arm64",
            "linux/386",
            "linux/amd64",
            "linux/arm64",
            "windows/amd64"
        ])
    );
    let exe = artifact(&m, "windows/amd64/bin/alpha.exe");
    assert_eq!(exe["target"], "x86_64-pc-windows-gnu");
    assert_eq!(exe["linkage"]["kind"], "dynamic");
    let dlls: Vec<&str> = exe["linkage"]["needed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert!(
        dlls.iter().any(|d| d.eq_ignore_ascii_case("kernel32.dll")),
        "{dlls:?}"
    );
    assert!(
        !dlls
            .iter()
            .any(|d| d.to_ascii_lowercase().starts_with("lib")),
        "{dlls:?}"
    );
    let mac = artifact(&m, "darwin/arm64/bin/alpha");
    assert_eq!(mac["linkage"]["interpreter"], "/usr/lib/dyld");
    assert_eq!(
        artifact(&m, "linux/386/bin/alpha")["linkage"]["kind"],
        "static"
    );
    let zip = artifact(&m, "windows/amd64/alpha-0.3.0-x86_64-pc-windows-gnu.zip");
    assert_eq!(zip["kind"], "archive");
    assert!(zip["contents"].as_array().unwrap().iter().any(|c| c["path"]
        == "alpha-0.3.0-x86_64-pc-windows-gnu/alpha.exe"
        && c["mode"] == "0755"));

    // The zip, as unzip, zipinfo and Python read it.
    let zip_path = "windows/amd64/alpha-0.3.0-x86_64-pc-windows-gnu.zip";
    let names = sh(&out, &format!("unzip -Z1 {zip_path}"));
    assert_eq!(
        names.lines().collect::<Vec<_>>(),
        [
            "alpha-0.3.0-x86_64-pc-windows-gnu/",
            "alpha-0.3.0-x86_64-pc-windows-gnu/LICENSE-MIT",
            "alpha-0.3.0-x86_64-pc-windows-gnu/README.md",
            "alpha-0.3.0-x86_64-pc-windows-gnu/alpha-admin.exe",
            "alpha-0.3.0-x86_64-pc-windows-gnu/alpha.exe",
        ]
    );
    sh(&out, &format!("unzip -tq {zip_path}"));
    let info = sh(
        &out,
        &format!("TZ=UTC zipinfo -T {zip_path} alpha-0.3.0-x86_64-pc-windows-gnu/alpha.exe"),
    );
    assert!(
        info.starts_with("-rwxr-xr-x") && info.contains("20231114.221320"),
        "{info}"
    );
    let py = sh(
        &out,
        &format!(
            "python3 -c \"import zipfile; z = zipfile.ZipFile('{zip_path}'); assert z.testzip() is None; \
             print(sorted((i.filename, oct(i.external_attr >> 16), i.extra) for i in z.infolist())[-1])\""
        ),
    );
    assert_eq!(
        py.trim(),
        "('alpha-0.3.0-x86_64-pc-windows-gnu/alpha.exe', '0o100755', b'')"
    );
    let unpacked = tempfile::tempdir().unwrap();
    sh(
        &out,
        &format!("unzip -q {zip_path} -d {}", unpacked.path().display()),
    );
    assert_eq!(
        std::fs::read(
            unpacked
                .path()
                .join("alpha-0.3.0-x86_64-pc-windows-gnu/alpha.exe")
        )
        .unwrap(),
        std::fs::read(out.join("windows/amd64/bin/alpha.exe")).unwrap()
    );

    // verify --run: native, qemu-i386, qemu-aarch64, wine; macOS checked, not run.
    let r = run(multiarch(&dir).args(["verify", "--run"])).success();
    let stdout = r.stdout();
    for line in [
        "ok       linux/amd64/bin/alpha  (native): alpha 0.3.0",
        "ok       linux/386/bin/alpha  (qemu-i386): alpha 0.3.0",
        "ok       linux/386/bin/beta-server  (qemu-i386): beta-server 0.3.0",
        "ok       linux/arm64/bin/alpha  (qemu-aarch64): alpha 0.3.0",
        "ok       windows/amd64/bin/alpha.exe  (wine): alpha 0.3.0",
        "ok       windows/amd64/bin/beta-server.exe  (wine): beta-server 0.3.0",
        "checked  darwin/arm64/bin/alpha  (macOS binaries are checked, not run)",
    ] {
        assert!(
            stdout.lines().any(|l| l == line),
            "no `{line}` in:\n{stdout}"
        );
    }
    assert!(!stdout.contains("FAILED"), "{stdout}");
    assert!(
        r.stderr()
            .contains(" for darwin/arm64, linux/386, linux/amd64, linux/arm64, windows/amd64"),
        "{}",
        r.stderr()
    );

    // The three Linux platforms as one image, read back by skopeo.
    require("skopeo");
    run(multiarch(&dir).env("CARGO_TARGET_DIR", &target_dir).args([
        "image",
        "--bin",
        "alpha",
        "--platform",
        "linux/386,linux/amd64,linux/arm64",
    ]))
    .success();
    let raw = sh(&out, "skopeo inspect --raw oci:oci:alpha:0.3.0");
    let index: Value = serde_json::from_str(&raw).unwrap();
    let platforms: Vec<(String, String)> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        // The attestation manifests (`unknown/unknown`) are checked elsewhere.
        .filter(|d| d["platform"]["os"] != "unknown")
        .map(|d| {
            (
                d["platform"]["os"].as_str().unwrap().to_owned(),
                d["platform"]["architecture"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        platforms,
        [
            ("linux".into(), "386".into()),
            ("linux".into(), "amd64".into()),
            ("linux".into(), "arm64".into())
        ]
    );
    let cfg: Value = serde_json::from_str(&sh(
        &out,
        "skopeo inspect --config --override-arch 386 oci:oci:alpha:0.3.0",
    ))
    .unwrap();
    assert_eq!(
        (cfg["os"].as_str(), cfg["architecture"].as_str()),
        (Some("linux"), Some("386"))
    );
}

/// `universal2-apple-darwin`: one fat Mach-O per binary with an `x86_64` and an `arm64`
/// slice, filed under `darwin/universal2`.
#[test]
fn universal2_is_one_fat_binary_with_both_slices() {
    require_zig();
    require("cargo-zigbuild");
    require("file");
    let dir = shared_fixture("hello");
    let out = tempfile::tempdir().unwrap();
    run(multiarch(&dir)
        .args([
            "package",
            "--target",
            "universal2-apple-darwin",
            "--out-dir",
        ])
        .arg(out.path())
        .arg("--target-dir")
        .arg(shared_target_dir("hello-universal2")))
    .success();
    let bin = out.path().join("darwin/universal2/bin/hello");
    let kind = sh(out.path(), "file -b darwin/universal2/bin/hello");
    assert!(
        kind.starts_with("Mach-O universal binary with 2 architectures"),
        "{kind}"
    );
    assert!(kind.contains("x86_64") && kind.contains("arm64"), "{kind}");
    // The fat header: magic, two slices, x86_64 then arm64, page-aligned.
    let b = std::fs::read(&bin).unwrap();
    let be = |i: usize| u32::from_be_bytes(b[i..i + 4].try_into().unwrap());
    assert_eq!((be(0), be(4)), (0xcafe_babe, 2));
    assert_eq!((be(8), be(28)), (0x0100_0007, 0x0100_000c));
    assert_eq!((be(16) % 4096, be(36) % 16384), (0, 0));
    for (off, size) in [(be(16), be(20)), (be(36), be(40))] {
        let slice = &b[off as usize..(off + size) as usize];
        assert_eq!(&slice[..4], &0xfeed_facfu32.to_le_bytes());
    }
    let m = manifest(out.path());
    assert_eq!(m["platforms"], serde_json::json!(["darwin/universal2"]));
    assert!(
        out.path()
            .join("darwin/universal2/hello-0.1.0-universal2-apple-darwin.tar.gz")
            .is_file()
    );
    let r = run(multiarch(&dir)
        .args(["verify", "--run", "--out-dir"])
        .arg(out.path()))
    .success();
    assert!(
        r.stdout().contains(
            "checked  darwin/universal2/bin/hello  (macOS binaries are checked, not run)"
        ),
        "{}",
        r.stdout()
    );
}

/// An Apple framework in a macOS target's graph: the plan names the package and the
/// framework, and what fixes it; with `SDKROOT`, cargo-zigbuild links against it. The
/// Linux target beside it does not care.
#[test]
fn an_apple_framework_needs_sdkroot_and_the_plan_names_who_links_it() {
    let dir = shared_fixture("applefw");
    let r = run(multiarch(&dir).env_remove("SDKROOT").args([
        "plan",
        "--platform",
        "darwin/arm64,linux/amd64",
    ]))
    .success();
    let out = r.stdout();
    assert!(out.contains("aarch64-apple-darwin       darwin/arm64  none     `cf` links Apple framework `CoreFoundation`, which only the macOS SDK provides, and `SDKROOT` is not set (hint: set `SDKROOT` to a macOS SDK"), "{out}");
    assert!(
        out.contains("x86_64-unknown-linux-musl  linux/amd64   cargo"),
        "{out}"
    );
    let r =
        run(multiarch(&dir)
            .env_remove("SDKROOT")
            .args(["build", "--platform", "darwin/arm64"]))
        .failure();
    assert!(r.stderr().contains("error: cannot build `aarch64-apple-darwin` (darwin/arm64): `cf` links Apple framework `CoreFoundation`"), "{}", r.stderr());
    require_zig();
    require("cargo-zigbuild");
    let r = run(multiarch(&dir).env("SDKROOT", "/opt/MacOSX.sdk").args([
        "plan",
        "--platform",
        "darwin/arm64",
    ]))
    .success();
    assert!(r.stdout().contains("darwin/arm64  zigbuild  `cf` links Apple framework `CoreFoundation`; the macOS SDK comes from `SDKROOT`"), "{}", r.stdout());
    // Without the framework (the Linux graph has no `cf`), macOS needs no SDK.
    let hello = shared_fixture("hello");
    let r =
        run(multiarch(&hello)
            .env_remove("SDKROOT")
            .args(["plan", "--platform", "darwin/arm64"]))
        .success();
    assert!(
        r.stdout().contains(
            "no Apple framework in the dependency graph, so zig links it without a macOS SDK"
        ),
        "{}",
        r.stdout()
    );
}

/// A custom target specification: read through rustc (nightly only), filed under the
/// platform its cfg and LLVM triple map to, named by the file's stem, with the note
/// that cargo must build std for it. On stable, the error says why and what to do.
#[test]
fn a_custom_target_file_is_planned_with_a_note() {
    let dir = shared_fixture("hello");
    let spec_dir = tempfile::tempdir().unwrap();
    let spec = spec_dir.path().join("my-armv7.json");
    let r = run(multiarch(&dir)
        .env("RUSTUP_TOOLCHAIN", "stable")
        .args(["plan", "--target"])
        .arg(&spec))
    .failure();
    assert!(
        r.stderr().contains("my-armv7.json` does not exist"),
        "{}",
        r.stderr()
    );
    // What nightly's rustc says an armv7 musl target is, as a file of one's own.
    let nightly = std::process::Command::new("rustc")
        .args([
            "+nightly",
            "-Zunstable-options",
            "--print",
            "target-spec-json",
        ])
        .args(["--target", "armv7-unknown-linux-musleabihf"])
        .output();
    let json = nightly
        .ok()
        .filter(|o| o.status.success())
        .map(|o| o.stdout)
        .expect("a nightly toolchain is not installed (hint: run `scripts/setup`, which `scripts/test` runs)");
    std::fs::write(&spec, json).unwrap();
    let r = run(multiarch(&dir)
        .env("RUSTUP_TOOLCHAIN", "stable")
        .args(["plan", "--target"])
        .arg(&spec))
    .failure();
    assert!(
        r.stderr().contains(
            "(hint: custom targets need a nightly toolchain: `cargo +nightly multiarch …`"
        ),
        "{}",
        r.stderr()
    );
    let r = run(multiarch(&dir)
        // As `cargo +nightly multiarch` runs it: rustup's proxies pick nightly.
        .env_remove("CARGO")
        .env_remove("RUSTC")
        .env("RUSTUP_TOOLCHAIN", "nightly")
        .args(["plan", "--format", "json", "--target"])
        .arg(&spec))
    .success();
    let v: Value = serde_json::from_str(&r.stdout()).unwrap();
    let t = &v["targets"][0];
    assert_eq!(
        (t["target"].as_str(), t["platform"].as_str()),
        (Some("my-armv7"), Some("linux/arm/v7"))
    );
    assert!(
        t["reason"].as_str().unwrap().contains("no rust-std can be installed for it, so cargo must build the standard library (nightly `-Zbuild-std`"),
        "{t}"
    );
    assert_eq!(t["install_rust_std"], false);
    assert_eq!(
        v["entries"][0]["outputs"]["binary"],
        "linux/arm/v7/bin/hello"
    );
}
