//! Supply chain: `provenance.intoto.json` (in-toto Statement v1, SLSA Provenance v1)
//! from `package`, `image` and `merge`, checked with coreutils and by `verify`;
//! minisign signatures from `sign`, checked with Debian's `minisign -V` and by
//! `verify --public-key`.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::{
    EPOCH, edit_manifest, json, keypair, multiarch, run, sh, shared_fixture, shared_target_dir,
    verify,
};

/// `package` (then `image` when `image` is given) of `multi` into a fresh out dir.
fn packaged(image: Option<&[&str]>) -> tempfile::TempDir {
    let dir = shared_fixture("multi");
    let out = tempfile::tempdir().unwrap();
    run(multiarch(&dir)
        .args(["package", "--out-dir"])
        .arg(out.path())
        .arg("--target-dir")
        .arg(shared_target_dir("multi"))
        .env("SOURCE_DATE_EPOCH", EPOCH))
    .success();
    if let Some(args) = image {
        run(multiarch(&dir)
            .args(["image", "--no-build", "--out-dir"])
            .arg(out.path())
            .args(args)
            .env("SOURCE_DATE_EPOCH", EPOCH))
        .success();
    }
    out
}

#[test]
fn provenance_names_every_archive_binary_and_image_with_its_sha256() {
    let out = packaged(Some(&["--bin", "alpha"]));
    let s = json(&out.path().join("provenance.intoto.json"));
    assert_eq!(s["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(s["predicateType"], "https://slsa.dev/provenance/v1");
    let subjects = s["subject"].as_array().unwrap();
    // Every file subject checks with coreutils, from the out dir.
    let mut sums = String::new();
    let mut names = Vec::new();
    for subject in subjects {
        let name = subject["name"].as_str().unwrap();
        let sha = subject["digest"]["sha256"].as_str().unwrap();
        names.push(name);
        if name == "alpha:0.3.0" {
            // The image index, by its name; its digest is the one `image` printed.
            let blob = out.path().join("oci/blobs/sha256").join(sha);
            assert!(blob.is_file(), "no index blob {sha}");
        } else {
            sums.push_str(&format!("{sha}  {name}\n"));
        }
    }
    std::fs::write(out.path().join("subjects.sha256"), sums).unwrap();
    // 6 binaries, 4 archives and their 4 SBOMs (the image index is checked above).
    let checked = sh(out.path(), "sha256sum -c subjects.sha256");
    assert_eq!(checked.lines().count(), 14, "{checked}");
    assert!(names.contains(&"linux/arm64/alpha-0.3.0-aarch64-unknown-linux-musl.tar.gz"));
    assert!(names.contains(&"linux/amd64/bin/beta-server"));
    assert!(names.contains(&"alpha:0.3.0"));

    let d = &s["predicate"]["buildDefinition"];
    let build = &d["externalParameters"]["builds"][0];
    assert_eq!(
        build["targets"],
        serde_json::json!(["aarch64-unknown-linux-musl", "x86_64-unknown-linux-musl"])
    );
    assert_eq!(build["profile"], "release");
    assert_eq!(build["command"][2], "package");
    assert_eq!(
        d["externalParameters"]["image"],
        serde_json::json!({"combined": false, "compression": 6})
    );
    assert_eq!(d["internalParameters"]["sourceDateEpoch"], 1_700_000_000);
    assert_eq!(d["internalParameters"]["targets"][0]["backend"], "cargo");
    let deps: Vec<&str> = d["resolvedDependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(deps, ["Cargo.lock", "git", "rustc"]);
    let commit = sh(&shared_fixture("multi"), "git rev-parse HEAD");
    assert_eq!(
        d["resolvedDependencies"][1]["digest"]["gitCommit"],
        commit.trim()
    );
    let lock = sh(&shared_fixture("multi"), "sha256sum Cargo.lock");
    assert_eq!(
        d["resolvedDependencies"][0]["digest"]["sha256"],
        lock.split_whitespace().next().unwrap()
    );
    // It is in SHA256SUMS and the manifest, and verifies.
    let sums = std::fs::read_to_string(out.path().join("SHA256SUMS")).unwrap();
    assert!(
        sums.lines()
            .any(|l| l.ends_with("  provenance.intoto.json")),
        "{sums}"
    );
    let m = json(&out.path().join("manifest.json"));
    assert!(
        m["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["kind"] == "provenance" && a["path"] == "provenance.intoto.json")
    );
    verify(out.path(), &[]).success();

    // A subject that lies about an archive is caught even when the manifest and
    // SHA256SUMS are made to agree with the edited provenance.
    let p = out.path().join("provenance.intoto.json");
    let mut lying = json(&p);
    lying["subject"][0]["digest"]["sha256"] = "0".repeat(64).into();
    std::fs::write(&p, serde_json::to_vec_pretty(&lying).unwrap()).unwrap();
    let (sha, size) = {
        let bytes = std::fs::read(&p).unwrap();
        (
            cargo_multiarch::digest::Sha256::of(&bytes).to_string(),
            bytes.len(),
        )
    };
    let mp = out.path().join("manifest.json");
    let mut m = json(&mp);
    for a in m["artifacts"].as_array_mut().unwrap() {
        if a["kind"] == "provenance" {
            a["sha256"] = sha.clone().into();
            a["size"] = size.into();
        }
    }
    std::fs::write(&mp, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
    let typed: cargo_multiarch::manifest::Manifest = serde_json::from_value(m).unwrap();
    std::fs::write(out.path().join("SHA256SUMS"), typed.sha256sums()).unwrap();
    let stdout = verify(out.path(), &[]).failure().stdout();
    assert!(
        stdout.contains(&format!(
            "FAILED   provenance.intoto.json: subject `{}` has sha256 {}",
            subjects[0]["name"].as_str().unwrap(),
            "0".repeat(64)
        )),
        "{stdout}"
    );
}

#[test]
fn a_binary_missing_from_the_provenance_fails_verify() {
    let out = packaged(None);
    // The manifest gains nothing, the provenance loses a subject: edit_manifest would
    // put it back, so edit the statement by hand and re-hash it into the manifest.
    let p = out.path().join("provenance.intoto.json");
    let mut s = json(&p);
    s["subject"]
        .as_array_mut()
        .unwrap()
        .retain(|x| x["name"] != "linux/arm64/bin/alpha");
    std::fs::write(&p, serde_json::to_vec_pretty(&s).unwrap()).unwrap();
    let bytes = std::fs::read(&p).unwrap();
    let mp = out.path().join("manifest.json");
    let mut m = json(&mp);
    for a in m["artifacts"].as_array_mut().unwrap() {
        if a["kind"] == "provenance" {
            a["sha256"] = cargo_multiarch::digest::Sha256::of(&bytes)
                .to_string()
                .into();
            a["size"] = bytes.len().into();
        }
    }
    std::fs::write(&mp, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
    let typed: cargo_multiarch::manifest::Manifest = serde_json::from_value(m).unwrap();
    std::fs::write(out.path().join("SHA256SUMS"), typed.sha256sums()).unwrap();
    let stdout = verify(out.path(), &[]).failure().stdout();
    assert!(
        stdout.contains("FAILED   provenance.intoto.json: `linux/arm64/bin/alpha` (sha256 "),
        "{stdout}"
    );
}

#[test]
fn merge_refuses_an_input_without_provenance_among_inputs_with_one() {
    let dir = shared_fixture("multi");
    let per = |platform: &str| {
        let out = tempfile::tempdir().unwrap();
        run(multiarch(&dir)
            .args(["package", "--platform", platform, "--out-dir"])
            .arg(out.path())
            .arg("--target-dir")
            .arg(shared_target_dir("multi"))
            .env("SOURCE_DATE_EPOCH", EPOCH))
        .success();
        out
    };
    let (amd, arm) = (per("linux/amd64"), per("linux/arm64"));
    std::fs::remove_file(arm.path().join("provenance.intoto.json")).unwrap();
    edit_manifest(arm.path(), |m| {
        m["artifacts"]
            .as_array_mut()
            .unwrap()
            .retain(|a| a["kind"] != "provenance");
    });
    let merged = tempfile::tempdir().unwrap();
    let err = run(multiarch(&dir)
        .arg("merge")
        .arg(amd.path())
        .arg(arm.path())
        .arg("--out-dir")
        .arg(merged.path()))
    .failure()
    .stderr();
    assert!(
        err.contains(&format!(
            "`{}` has no `provenance.intoto.json`, the other inputs have one",
            arm.path().display()
        )),
        "{err}"
    );
}

fn minisign_verify(keys: &Path, file: &Path) -> String {
    let out = Command::new("minisign")
        .args(["-V", "-p"])
        .arg(keys.join("k.pub"))
        .arg("-m")
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "minisign -V {} failed: {}{}",
        file.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn signatures_verify_with_minisign_and_verify_catches_tampering() {
    let keys = tempfile::tempdir().unwrap();
    keypair(keys.path(), None);
    let out = packaged(None);
    let sign = || {
        run(multiarch(out.path())
            .args(["sign", "--key"])
            .arg(keys.path().join("k.key"))
            .arg("--out-dir")
            .arg(out.path()))
    };
    let r = sign().success();
    assert!(r.stderr().contains("Signed "), "{}", r.stderr());
    for file in ["SHA256SUMS", "provenance.intoto.json"] {
        let said = minisign_verify(keys.path(), &out.path().join(file));
        assert!(
            said.contains(&format!("Trusted comment: file:{file}\thashed")),
            "{said}"
        );
    }
    // Deterministic: signing again gives the same bytes.
    let first = std::fs::read(out.path().join("SHA256SUMS.minisig")).unwrap();
    sign().success();
    assert_eq!(
        std::fs::read(out.path().join("SHA256SUMS.minisig")).unwrap(),
        first
    );

    let public = keys.path().join("k.pub");
    let with_key = |args: &[&str]| {
        run(multiarch(out.path())
            .arg("verify")
            .arg("--out-dir")
            .arg(out.path())
            .arg("--public-key")
            .arg(&public)
            .args(args))
    };
    with_key(&[]).success();
    let note = verify(out.path(), &[]).success().stderr();
    assert!(
        note.contains("`SHA256SUMS.minisig`, `provenance.intoto.json.minisig` and the archives' 4 `.sig` files not checked (hint: pass `--public-key minisign.pub`)"),
        "{note}"
    );

    // Another key's public half: refused, naming both key IDs.
    let other = tempfile::tempdir().unwrap();
    keypair(other.path(), None);
    let stdout = run(multiarch(out.path())
        .arg("verify")
        .arg("--out-dir")
        .arg(out.path())
        .arg("--public-key")
        .arg(other.path().join("k.pub")))
    .failure()
    .stdout();
    assert!(
        stdout.contains("FAILED   SHA256SUMS.minisig: it was made with key "),
        "{stdout}"
    );

    // A signature swapped for another file's.
    let sig = out.path().join("SHA256SUMS.minisig");
    std::fs::copy(out.path().join("provenance.intoto.json.minisig"), &sig).unwrap();
    let stdout = with_key(&[]).failure().stdout();
    assert!(
        stdout.contains("FAILED   SHA256SUMS.minisig: the signature does not match the file"),
        "{stdout}"
    );
    // SHA256SUMS edited after signing (the manifest agreeing with it): minisign and we refuse.
    std::fs::write(&sig, &first).unwrap();
    edit_manifest(out.path(), |m| {
        m["artifacts"]
            .as_array_mut()
            .unwrap()
            .retain(|a| a["path"] != "linux/amd64/bin/alpha-admin");
    });
    let stdout = with_key(&[]).failure().stdout();
    assert!(
        stdout.contains("FAILED   SHA256SUMS.minisig: the signature does not match the file"),
        "{stdout}"
    );
    let refused = Command::new("minisign")
        .args(["-V", "-p"])
        .arg(&public)
        .arg("-m")
        .arg(out.path().join("SHA256SUMS"))
        .output()
        .unwrap();
    assert!(!refused.status.success());
    // No signature at all.
    std::fs::remove_file(&sig).unwrap();
    let stdout = with_key(&[]).failure().stdout();
    assert!(
        stdout.contains("FAILED   SHA256SUMS.minisig: missing (hint: sign the out dir with `cargo multiarch sign --key KEY`)"),
        "{stdout}"
    );
}

#[test]
fn packaging_again_drops_signatures_that_no_longer_match() {
    let keys = tempfile::tempdir().unwrap();
    keypair(keys.path(), None);
    let out = packaged(None);
    run(multiarch(out.path())
        .args(["sign", "--key"])
        .arg(keys.path().join("k.key"))
        .arg("--out-dir")
        .arg(out.path()))
    .success();
    // The same package again: same SHA256SUMS and provenance, the signatures stay.
    let dir = shared_fixture("multi");
    let package = |extra: &[&str]| {
        run(multiarch(&dir)
            .args(["package", "--no-build", "--out-dir"])
            .arg(out.path())
            .args(extra)
            .env("SOURCE_DATE_EPOCH", EPOCH))
        .success()
    };
    package(&[]);
    minisign_verify(keys.path(), &out.path().join("SHA256SUMS"));
    minisign_verify(keys.path(), &out.path().join("provenance.intoto.json"));
    // Other archives: both files change, both signatures go.
    package(&["--compression", "1"]);
    assert!(!out.path().join("SHA256SUMS.minisig").exists());
    assert!(!out.path().join("provenance.intoto.json.minisig").exists());
    verify(out.path(), &[]).success();
}

#[test]
fn an_encrypted_key_signs_with_its_password_and_a_wrong_one_is_named() {
    let keys = tempfile::tempdir().unwrap();
    keypair(keys.path(), Some("correct horse"));
    let out = packaged(None);
    let pw = keys.path().join("pw.txt");
    std::fs::write(&pw, "correct horse\n").unwrap();
    let sign = |password: &Path| {
        run(multiarch(out.path())
            .args(["sign", "--key"])
            .arg(keys.path().join("k.key"))
            .arg("--password-file")
            .arg(password)
            .arg("--out-dir")
            .arg(out.path())
            .stdin(Stdio::null()))
    };
    sign(&pw).success();
    minisign_verify(keys.path(), &out.path().join("SHA256SUMS"));
    let wrong = keys.path().join("wrong.txt");
    std::fs::write(&wrong, "battery staple\n").unwrap();
    let err = sign(&wrong).failure().stderr();
    assert!(
        err.contains("minisign secret key: wrong password for this key"),
        "{err}"
    );
    // No password anywhere, and no terminal to ask on.
    let err = run(multiarch(out.path())
        .args(["sign", "--key"])
        .arg(keys.path().join("k.key"))
        .arg("--out-dir")
        .arg(out.path())
        .stdin(Stdio::null()))
    .failure()
    .stderr();
    assert!(err.contains("is encrypted and no password was given (hint: pass `--password-file FILE` or set `CARGO_MULTIARCH_SIGN_PASSWORD`; or make an unencrypted key with `minisign -G -W`)"), "{err}");
}

#[test]
fn sign_refuses_an_out_dir_that_fails_verification() {
    let keys = tempfile::tempdir().unwrap();
    keypair(keys.path(), None);
    let out = packaged(None);
    let bin = out.path().join("linux/amd64/bin/alpha");
    let mut bytes = std::fs::read(&bin).unwrap();
    bytes[200] ^= 1;
    std::fs::write(&bin, bytes).unwrap();
    let err = run(multiarch(out.path())
        .args(["sign", "--key"])
        .arg(keys.path().join("k.key"))
        .arg("--out-dir")
        .arg(out.path()))
    .exit(4)
    .stderr();
    assert!(
        err.contains("fails verification, so nothing was signed"),
        "{err}"
    );
    assert!(err.contains("linux/amd64/bin/alpha: sha256 is "), "{err}");
    assert!(!out.path().join("SHA256SUMS.minisig").exists());
}
