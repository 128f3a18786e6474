//! `package` and `verify`: reproducible archives, checksums, the manifest and its
//! schema, and every way `verify` must catch a bad out dir.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::{
    EPOCH, edit_manifest, multiarch, private_fixture, require, run, sh, shared_fixture,
    shared_target_dir, tree, verify,
};

/// `package` of the shared `multi` fixture into a fresh out dir.
fn package(fixture: &str, extra: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = shared_fixture(fixture);
    let out = tempfile::tempdir().unwrap();
    run(multiarch(&dir)
        .arg("package")
        .arg("--out-dir")
        .arg(out.path())
        .arg("--target-dir")
        .arg(shared_target_dir(fixture))
        .args(extra)
        .env("SOURCE_DATE_EPOCH", EPOCH))
    .success();
    (out, dir)
}

fn manifest(out: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap()
}

#[test]
fn archives_have_the_exact_layout_owners_modes_and_mtime() {
    let (out, _) = package("multi", &[]);
    let listing = sh(
        out.path(),
        "tar --numeric-owner -tvzf linux/arm64/alpha-0.3.0-aarch64-unknown-linux-musl.tar.gz",
    );
    let lines: Vec<Vec<&str>> = listing
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    let names: Vec<&str> = lines.iter().map(|l| l[5]).collect();
    assert_eq!(
        names,
        [
            "alpha-0.3.0-aarch64-unknown-linux-musl/",
            "alpha-0.3.0-aarch64-unknown-linux-musl/LICENSE-MIT",
            "alpha-0.3.0-aarch64-unknown-linux-musl/README.md",
            "alpha-0.3.0-aarch64-unknown-linux-musl/alpha",
            "alpha-0.3.0-aarch64-unknown-linux-musl/alpha-admin",
        ]
    );
    for l in &lines {
        assert_eq!(l[1], "0/0", "{l:?}");
        assert_eq!(format!("{} {}", l[3], l[4]), "2023-11-14 22:13", "{l:?}");
        let file = l[5].rsplit('/').next().unwrap();
        let want = if l[5].ends_with('/') {
            "drwxr-xr-x"
        } else if file.starts_with("alpha") {
            "-rwxr-xr-x"
        } else {
            "-rw-r--r--"
        };
        assert_eq!(l[0], want, "{l:?}");
    }
    // beta has its own README (beta's wins over the workspace's) and the workspace's license.
    let listing = sh(
        out.path(),
        "tar -tzf linux/amd64/beta-0.3.0-x86_64-unknown-linux-musl.tar.gz",
    );
    assert_eq!(
        listing,
        "beta-0.3.0-x86_64-unknown-linux-musl/\nbeta-0.3.0-x86_64-unknown-linux-musl/LICENSE-MIT\nbeta-0.3.0-x86_64-unknown-linux-musl/README.md\nbeta-0.3.0-x86_64-unknown-linux-musl/beta-server\n"
    );
    let readme = sh(
        out.path(),
        "tar -xOzf linux/amd64/beta-0.3.0-x86_64-unknown-linux-musl.tar.gz beta-0.3.0-x86_64-unknown-linux-musl/README.md",
    );
    assert_eq!(
        readme,
        std::fs::read_to_string(shared_fixture("multi").join("crates/beta/README.md")).unwrap()
    );
    // The gzip header has no mtime and no file name.
    let gz = std::fs::read(
        out.path()
            .join("linux/amd64/beta-0.3.0-x86_64-unknown-linux-musl.tar.gz"),
    )
    .unwrap();
    assert_eq!(&gz[4..8], &[0, 0, 0, 0], "gzip mtime");
    assert_eq!(gz[3] & 0x08, 0, "gzip FNAME flag");
}

#[test]
fn sha256sums_and_sidecars_check_with_coreutils() {
    let (out, _) = package("multi", &[]);
    let ok = sh(out.path(), "sha256sum -c SHA256SUMS");
    // 6 binaries, 4 archives, their 4 sidecars and 4 SBOMs, and the provenance.
    assert_eq!(ok.lines().count(), 19, "{ok}");
    assert!(
        ok.contains("linux/arm64/beta-0.3.0-aarch64-unknown-linux-musl.tar.gz.cdx.json: OK"),
        "{ok}"
    );
    assert!(ok.contains("provenance.intoto.json: OK"), "{ok}");
    assert!(ok.lines().all(|l| l.ends_with(": OK")), "{ok}");
    assert!(ok.contains("linux/arm64/bin/alpha: OK"), "{ok}");
    assert!(
        ok.contains("linux/amd64/alpha-0.3.0-x86_64-unknown-linux-musl.tar.gz: OK"),
        "{ok}"
    );
    sh(
        &out.path().join("linux/arm64"),
        "sha256sum -c beta-0.3.0-aarch64-unknown-linux-musl.tar.gz.sha256",
    );
}

#[test]
fn manifest_validates_against_the_schema_and_lists_everything() {
    require("python3");
    let (out, _) = package("multi", &[]);
    let schema = crate::support::repo().join("schema/manifest-v1.schema.json");
    let script = format!(
        "import json, jsonschema; jsonschema.Draft202012Validator(json.load(open('{}'))).validate(json.load(open('manifest.json')))",
        schema.display()
    );
    let r = Command::new("python3")
        .args(["-c", &script])
        .current_dir(out.path())
        .output()
        .unwrap();
    assert!(
        r.status.success(),
        "manifest.json does not validate: {}",
        String::from_utf8_lossy(&r.stderr)
    );

    let m = manifest(out.path());
    assert_eq!(m["schema"], "cargo-multiarch/manifest/v1");
    assert_eq!(m["tool"]["name"], "cargo-multiarch");
    assert_eq!(m["source_date_epoch"], 1_700_000_000);
    assert_eq!(
        m["platforms"],
        serde_json::json!(["linux/amd64", "linux/arm64"])
    );
    let arts = m["artifacts"].as_array().unwrap();
    assert_eq!(arts.iter().filter(|a| a["kind"] == "binary").count(), 6);
    assert_eq!(arts.iter().filter(|a| a["kind"] == "archive").count(), 4);
    let alpha_arm = arts
        .iter()
        .find(|a| a["path"] == "linux/arm64/bin/alpha")
        .unwrap();
    assert_eq!(alpha_arm["linkage"]["kind"], "static");
    let alpha_amd = arts
        .iter()
        .find(|a| a["path"] == "linux/amd64/bin/alpha")
        .unwrap();
    assert_eq!(alpha_amd["linkage"]["kind"], "static-pie");
    let archive = arts
        .iter()
        .find(|a| a["path"] == "linux/arm64/alpha-0.3.0-aarch64-unknown-linux-musl.tar.gz")
        .unwrap();
    let inside = archive["contents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["binary"] == "alpha")
        .unwrap();
    assert_eq!(inside["sha256"], alpha_arm["sha256"]);
    assert_eq!(inside["mode"], "0755");
}

#[test]
fn packaging_is_byte_identical_across_runs_and_directories() {
    let (out1, dir) = package("multi", &[]);
    // Again, same out dir contents from scratch.
    let (out2, _) = package("multi", &[]);
    assert_eq!(tree(out1.path()), tree(out2.path()), "two runs differ");
    // The same staged binaries packaged in another out dir.
    let out3 = tempfile::tempdir().unwrap();
    sh(
        out1.path(),
        &format!("cp -a linux .multiarch {}/", out3.path().display()),
    );
    run(multiarch(&dir)
        .args(["package", "--no-build", "--out-dir"])
        .arg(out3.path())
        .env("SOURCE_DATE_EPOCH", EPOCH))
    .success();
    assert_eq!(
        tree(out1.path()),
        tree(out3.path()),
        "another out dir differs"
    );
    // The whole workspace built and packaged from another directory.
    let (_tmp, other) = private_fixture("multi");
    run(multiarch(&other)
        .arg("package")
        .arg("--target-dir")
        .arg(shared_target_dir("multi-elsewhere"))
        .env("SOURCE_DATE_EPOCH", EPOCH))
    .success();
    let elsewhere: Vec<(String, Vec<u8>)> = tree(&other.join("out"));
    assert_eq!(
        tree(out1.path()),
        elsewhere,
        "a build in another directory differs"
    );
}

#[test]
fn per_target_archives_hold_every_binary() {
    let (out, _) = package(
        "multi",
        &["--archive", "per-target", "--compression", "best"],
    );
    let listing = sh(
        out.path(),
        "tar -tzf linux/arm64/multi-0.3.0-aarch64-unknown-linux-musl.tar.gz",
    );
    assert_eq!(
        listing,
        "multi-0.3.0-aarch64-unknown-linux-musl/\nmulti-0.3.0-aarch64-unknown-linux-musl/LICENSE-MIT\nmulti-0.3.0-aarch64-unknown-linux-musl/README.md\nmulti-0.3.0-aarch64-unknown-linux-musl/alpha\nmulti-0.3.0-aarch64-unknown-linux-musl/alpha-admin\nmulti-0.3.0-aarch64-unknown-linux-musl/beta-server\n"
    );
}

#[test]
fn include_globs_and_config_out_dir() {
    let dir = shared_fixture("configured");
    run(multiarch(&dir)
        .arg("package")
        .env("SOURCE_DATE_EPOCH", EPOCH))
    .success();
    let listing = sh(
        &dir,
        "tar -tzf dist/linux/arm64/configured-0.2.0-aarch64-unknown-linux-musl.tar.gz",
    );
    assert!(
        listing.contains("configured-0.2.0-aarch64-unknown-linux-musl/extra/notes.txt\n"),
        "{listing}"
    );
    // The workspace's own .cargo/config.toml target dir was used.
    assert!(
        dir.join("custom-target/aarch64-unknown-linux-musl/release/configured")
            .exists()
    );
}

#[test]
fn no_build_without_records_names_the_fix() {
    let dir = shared_fixture("hello");
    let out = tempfile::tempdir().unwrap();
    let err = run(multiarch(&dir)
        .args(["package", "--no-build", "--out-dir"])
        .arg(out.path()))
    .failure()
    .stderr();
    assert!(
        err.contains("error: no build record for `x86_64-unknown-linux-musl` in `"),
        "{err}"
    );
    assert!(
        err.contains("(hint: run `cargo multiarch build` first, or drop `--no-build`)"),
        "{err}"
    );
}

// ---- verify -------------------------------------------------------------------------

/// A packaged copy of multi to break in one way.
fn packaged_copy() -> tempfile::TempDir {
    static ONCE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let src = ONCE.get_or_init(|| {
        let (out, _) = package("multi", &[]);
        out.keep()
    });
    let copy = tempfile::tempdir().unwrap();
    sh(src, &format!("cp -a . {}/", copy.path().display()));
    copy
}

#[test]
fn verify_run_passes_on_multi() {
    let out = packaged_copy();
    let r = verify(
        out.path(),
        &["--run", "--expect", "linux/amd64,linux/arm64"],
    )
    .success();
    let stdout = r.stdout();
    assert!(
        stdout.contains("ok       linux/amd64/bin/alpha  (native): alpha 0.3.0"),
        "{stdout}"
    );
    crate::support::require("qemu-aarch64");
    assert!(
        stdout.contains("ok       linux/arm64/bin/beta-server  (qemu-aarch64"),
        "{stdout}"
    );
    assert!(stdout.contains("): beta-server 0.3.0"), "{stdout}");
    assert!(
        // 6 binaries, 4 archives, 4 SBOMs, the provenance.
        r.stderr().contains("Verified 15 artifacts in"),
        "{}",
        r.stderr()
    );
}

#[test]
fn verify_catches_a_flipped_byte() {
    let out = packaged_copy();
    let p = out.path().join("linux/arm64/bin/alpha");
    let mut bytes = std::fs::read(&p).unwrap();
    let n = bytes.len() / 2;
    bytes[n] ^= 0xff;
    std::fs::write(&p, bytes).unwrap();
    let stdout = verify(out.path(), &[]).failure().stdout();
    assert!(
        stdout.contains("FAILED   linux/arm64/bin/alpha: sha256 is "),
        "{stdout}"
    );
}

#[test]
fn verify_catches_a_missing_file() {
    let out = packaged_copy();
    std::fs::remove_file(
        out.path()
            .join("linux/amd64/beta-0.3.0-x86_64-unknown-linux-musl.tar.gz"),
    )
    .unwrap();
    let stdout = verify(out.path(), &[]).failure().stdout();
    assert!(
        stdout
            .contains("FAILED   linux/amd64/beta-0.3.0-x86_64-unknown-linux-musl.tar.gz: missing"),
        "{stdout}"
    );
}

#[test]
fn verify_catches_an_amd64_binary_in_arm64() {
    let out = packaged_copy();
    // Swap the binary and make every hash agree, so only the ELF check can notice.
    std::fs::copy(
        out.path().join("linux/amd64/bin/alpha"),
        out.path().join("linux/arm64/bin/alpha"),
    )
    .unwrap();
    edit_manifest(out.path(), |m| {
        let amd = m["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["path"] == "linux/amd64/bin/alpha")
            .unwrap()
            .clone();
        let arm = m["artifacts"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|a| a["path"] == "linux/arm64/bin/alpha")
            .unwrap();
        arm["sha256"] = amd["sha256"].clone();
        arm["size"] = amd["size"].clone();
        arm["linkage"] = amd["linkage"].clone();
    });
    let m: cargo_multiarch::manifest::Manifest =
        serde_json::from_value(manifest(out.path())).unwrap();
    std::fs::write(out.path().join("SHA256SUMS"), m.sha256sums()).unwrap();
    let stdout = verify(out.path(), &[]).failure().stdout();
    assert!(
        stdout.contains("FAILED   linux/arm64/bin/alpha: is an ELF64 x86-64 binary, but `aarch64-unknown-linux-musl` (linux/arm64) needs ELF64 AArch64"),
        "{stdout}"
    );
}

#[test]
fn verify_catches_a_missing_platform() {
    let out = packaged_copy();
    edit_manifest(out.path(), |m| {
        m["artifacts"]
            .as_array_mut()
            .unwrap()
            .retain(|a| a["platform"] != "linux/arm64");
        m["platforms"] = serde_json::json!(["linux/amd64"]);
    });
    let m: cargo_multiarch::manifest::Manifest =
        serde_json::from_value(manifest(out.path())).unwrap();
    std::fs::write(out.path().join("SHA256SUMS"), m.sha256sums()).unwrap();
    // On its own terms the one-arch set is fine…
    verify(out.path(), &[]).success();
    // …but not as the multi-arch set it is published as.
    let stdout = verify(out.path(), &["--expect", "linux/amd64,linux/arm64"])
        .failure()
        .stdout();
    assert!(stdout.contains("FAILED   platform `linux/arm64` is expected but has no binaries: this set must not be published as multi-platform"), "{stdout}");
}

#[test]
fn verify_rejects_paths_that_leave_the_out_dir() {
    let out = packaged_copy();
    // A file outside the out dir that the manifest would point at.
    let outside = out.path().parent().unwrap().join("outside-secret");
    std::fs::write(&outside, "secret").unwrap();
    edit_manifest(out.path(), |m| {
        let arts = m["artifacts"].as_array_mut().unwrap();
        arts[0]["path"] = "../outside-secret".into();
        arts[1]["path"] = outside.to_str().unwrap().into();
    });
    // Such a manifest is refused whole, before any file is looked at.
    let stderr = verify(out.path(), &[]).failure().stderr();
    assert!(
        stderr.contains("manifest.json` is not a valid manifest")
            && stderr.contains("path `../outside-secret` leaves the out dir"),
        "{stderr}"
    );
    edit_manifest(out.path(), |m| {
        let arts = m["artifacts"].as_array_mut().unwrap();
        arts[0]["path"] = "linux/amd64/bin/alpha".into();
    });
    let stderr = verify(out.path(), &[]).failure().stderr();
    assert!(
        stderr.contains(&format!(
            "path `{}` is absolute; paths must be relative to the out dir",
            outside.display()
        )),
        "{stderr}"
    );
    // A symlink inside the out dir that leads out.
    let out = packaged_copy();
    let p = out.path().join("linux/amd64/bin/alpha");
    std::fs::remove_file(&p).unwrap();
    std::os::unix::fs::symlink(&outside, &p).unwrap();
    let stdout = verify(out.path(), &[]).failure().stdout();
    assert!(
        stdout.contains("FAILED   linux/amd64/bin/alpha: `"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "linux/amd64/bin/alpha` is a symlink, not a regular file; refusing to read it"
        ),
        "{stdout}"
    );
}
