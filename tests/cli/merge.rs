//! `merge`: per-platform out dirs from separate machines joined into exactly what one
//! machine would have produced, and every way a merge must refuse.

use std::path::{Path, PathBuf};

use crate::support::{
    EPOCH, edit_manifest, multiarch, run, shared_fixture, shared_target_dir, tree,
};

fn package(platforms: &str) -> tempfile::TempDir {
    let dir = shared_fixture("multi");
    let out = tempfile::tempdir().unwrap();
    run(multiarch(&dir)
        .args(["package", "--platform", platforms, "--out-dir"])
        .arg(out.path())
        .arg("--target-dir")
        .arg(shared_target_dir("multi"))
        .env("SOURCE_DATE_EPOCH", EPOCH))
    .success();
    out
}

fn merge(inputs: &[&Path], out: &Path, extra: &[&str]) -> crate::support::Run {
    run(multiarch(&shared_fixture("multi"))
        .arg("merge")
        .args(inputs)
        .arg("--out-dir")
        .arg(out)
        .args(extra))
}

fn copy(src: &Path) -> tempfile::TempDir {
    let dest = tempfile::tempdir().unwrap();
    let ok = std::process::Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", src.display()))
        .arg(dest.path())
        .status()
        .unwrap();
    assert!(ok.success());
    dest
}

/// Every file under `dir` with its permission bits, relative paths sorted.
fn modes(dir: &Path) -> Vec<(String, u32)> {
    use std::os::unix::fs::PermissionsExt as _;
    tree(dir)
        .into_iter()
        .map(|(rel, _)| {
            let mode = std::fs::metadata(dir.join(&rel))
                .unwrap()
                .permissions()
                .mode();
            (rel, mode & 0o7777)
        })
        .collect()
}

/// The two per-platform inputs, packaged once for all tests here.
fn inputs() -> (PathBuf, PathBuf) {
    static ONCE: std::sync::OnceLock<(PathBuf, PathBuf)> = std::sync::OnceLock::new();
    ONCE.get_or_init(|| (package("linux/amd64").keep(), package("linux/arm64").keep()))
        .clone()
}

#[test]
fn two_machine_merge_is_byte_identical_to_one_machine_package() {
    let (amd, arm) = inputs();
    let merged = tempfile::tempdir().unwrap();
    let r = merge(
        &[&amd, &arm],
        merged.path(),
        &["--expect", "linux/amd64,linux/arm64"],
    )
    .success();
    assert!(
        r.stderr().contains("Merged 2 inputs into"),
        "{}",
        r.stderr()
    );
    let single = package("linux/amd64,linux/arm64");
    let (a, b) = (tree(merged.path()), tree(single.path()));
    assert_eq!(
        a.iter().map(|(p, _)| p).collect::<Vec<_>>(),
        b.iter().map(|(p, _)| p).collect::<Vec<_>>()
    );
    assert!(a == b, "merged tree differs from a one-machine package");
    assert_eq!(
        modes(merged.path()),
        modes(single.path()),
        "merged modes differ (staged binaries are 0755)"
    );
    run(multiarch(merged.path())
        .arg("verify")
        .arg("--out-dir")
        .arg(merged.path())
        .args(["--expect", "linux/amd64,linux/arm64"]))
    .success();
}

#[test]
fn incomplete_merge_names_the_missing_platform() {
    let (_, arm) = inputs();
    let merged = tempfile::tempdir().unwrap();
    let err = merge(
        &[&arm],
        merged.path(),
        &["--expect", "linux/amd64,linux/arm64"],
    )
    .failure()
    .stderr();
    assert!(err.contains("error: the merged set would lack platform `linux/amd64`: refusing to write an incomplete multi-platform set"), "{err}");
    assert!(!merged.path().join("manifest.json").exists());
}

#[test]
fn one_path_with_two_hashes_is_refused() {
    let (_, arm) = inputs();
    let other = copy(&arm);
    // Change a byte of a binary's data (its ELF header stays valid) and make the input
    // consistent with itself, so only the merge can see the conflict.
    let p = other.path().join("linux/arm64/bin/alpha");
    let mut bytes = std::fs::read(&p).unwrap();
    let n = bytes.len() / 2;
    bytes[n] ^= 1;
    std::fs::write(&p, &bytes).unwrap();
    let (sha, _) =
        cargo_multiarch::digest::sha256_file(camino::Utf8Path::from_path(&p).unwrap()).unwrap();
    edit_manifest(other.path(), |m| {
        let a = m["artifacts"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|a| a["path"] == "linux/arm64/bin/alpha")
            .unwrap();
        a["sha256"] = sha.as_str().into();
    });
    let merged = tempfile::tempdir().unwrap();
    let err = merge(&[&arm, other.path()], merged.path(), &[])
        .failure()
        .stderr();
    assert!(
        err.contains("error: `linux/arm64/bin/alpha` differs between `"),
        "{err}"
    );
    assert!(
        err.contains("the same artifact was built twice, differently"),
        "{err}"
    );
}

#[test]
fn different_versions_commits_dates_and_schemas_are_refused() {
    let (amd, arm) = inputs();
    let merged = tempfile::tempdir().unwrap();

    let other = copy(&amd);
    edit_manifest(other.path(), |m| {
        for a in m["artifacts"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .filter(|a| a["package"] == "beta")
        {
            a["version"] = "9.9.9".into();
        }
    });
    let err = merge(&[&arm, other.path()], merged.path(), &[])
        .failure()
        .stderr();
    assert!(
        err.contains("error: package `beta` is version 9.9.9 in `"),
        "{err}"
    );

    let other = copy(&amd);
    edit_manifest(other.path(), |m| {
        m["git"] = serde_json::json!({"commit": "0".repeat(40), "dirty": false});
    });
    let err = merge(&[&arm, other.path()], merged.path(), &[])
        .failure()
        .stderr();
    assert!(
        err.contains(&format!("was built from commit {} but `", "0".repeat(40))),
        "{err}"
    );

    let other = copy(&amd);
    edit_manifest(other.path(), |m| m["source_date_epoch"] = 1.into());
    let err = merge(&[&arm, other.path()], merged.path(), &[])
        .failure()
        .stderr();
    assert!(err.contains("was built with source date 1 but `"), "{err}");

    let other = copy(&amd);
    let p = other.path().join("manifest.json");
    let text = std::fs::read_to_string(&p)
        .unwrap()
        .replace("cargo-multiarch/manifest/v1", "cargo-multiarch/manifest/v2");
    std::fs::write(&p, text).unwrap();
    let err = merge(&[&arm, other.path()], merged.path(), &[])
        .failure()
        .stderr();
    assert!(err.contains("manifest.json` is not a valid manifest: it has schema `cargo-multiarch/manifest/v2`, this cargo-multiarch reads `cargo-multiarch/manifest/v1`"), "{err}");
}

#[test]
fn a_damaged_input_is_refused() {
    let (amd, arm) = inputs();
    let other = copy(&amd);
    let p = other.path().join("linux/amd64/bin/beta-server");
    let mut bytes = std::fs::read(&p).unwrap();
    bytes[100] ^= 0xff;
    std::fs::write(&p, bytes).unwrap();
    let merged = tempfile::tempdir().unwrap();
    let err = merge(&[other.path(), &arm], merged.path(), &[])
        .failure()
        .stderr();
    assert!(
        err.contains("fails verification, so it cannot be merged:"),
        "{err}"
    );
    assert!(
        err.contains("linux/amd64/bin/beta-server: sha256 is "),
        "{err}"
    );
}

/// The GitHub workflow's merge job: two native runners each `package` one platform,
/// the merge job joins them and builds the multi-platform image from the merged tree.
#[test]
fn image_no_build_on_a_merged_tree_is_the_one_machine_image() {
    let (amd, arm) = inputs();
    let merged = tempfile::tempdir().unwrap();
    merge(
        &[&amd, &arm],
        merged.path(),
        &["--expect", "linux/amd64,linux/arm64"],
    )
    .success();
    let image = |out: &Path| {
        run(multiarch(&shared_fixture("multi"))
            .args([
                "image",
                "--no-build",
                "--tag",
                "1.4.0",
                "--platform-tags",
                "--ca-certificates",
                "--out-dir",
            ])
            .arg(out)
            .env("SOURCE_DATE_EPOCH", EPOCH))
        .success()
        .stdout()
    };
    let from_merged = image(merged.path());
    assert!(
        from_merged.contains("alpha:1.4.0-linux-arm64@sha256:"),
        "{from_merged}"
    );
    let single = package("linux/amd64,linux/arm64");
    assert_eq!(from_merged, image(single.path()));
    // The merged tree, now with its images, still verifies and still holds both platforms.
    run(multiarch(merged.path())
        .arg("verify")
        .arg("--out-dir")
        .arg(merged.path())
        .args(["--expect", "linux/amd64,linux/arm64"]))
    .success();
    let (a, b) = (tree(merged.path()), tree(single.path()));
    assert!(
        a == b,
        "the merged tree with its image differs from one machine's"
    );
}
