//! Issue 21: one signature covers the whole release. An image tag re-pointed at an
//! attacker's image (finding 1), a blob nobody lists, and an SBOM listing other crates
//! (finding 11) each fail `verify`; `sign` signs none of them.

use std::path::Path;
use std::process::Command;

use cargo_multiarch::archive::{Entry, Source};
use cargo_multiarch::image::{ImageSpec, PlatformImage, write_layout};
use cargo_multiarch::platform::Platform;
use serde_json::Value;

use crate::support::{
    edit_manifest, json, keypair, multi_image, multiarch, package, require, run, tool, verify,
};

/// `verify`'s exit status when a check fails (`output::Exit::VerifyFailed`).
const VERIFY_FAILED: i32 = 4;

fn sign(out: &Path, keys: &Path) -> crate::support::Run {
    run(multiarch(out)
        .args(["sign", "--key"])
        .arg(keys.join("k.key"))
        .arg("--out-dir")
        .arg(out))
}

fn verify_signed(out: &Path, keys: &Path) -> crate::support::Run {
    let key = keys.join("k.pub");
    verify(out, &["--public-key", key.to_str().unwrap()])
}

/// An attacker's image in its own layout: one linux/amd64 layer holding a script as
/// `usr/local/bin/alpha`. Returns the layout's directory and its index's digest.
fn attacker_image(dir: &Path) -> (std::path::PathBuf, String, u64) {
    let layout = dir.join("evil-oci");
    let spec = ImageSpec {
        names: vec!["alpha:0.3.0".to_owned()],
        platforms: vec![PlatformImage {
            platform: Platform::parse("linux/amd64").unwrap(),
            files: vec![Entry {
                path: "usr/local/bin/alpha".to_owned(),
                source: Source::Bytes(b"#!/bin/sh\necho pwned\n".to_vec()),
                mode: 0o755,
            }],
        }],
        created: 1_700_000_000,
        level: 6,
        ..ImageSpec::default()
    };
    let written = write_layout(
        &[spec],
        camino::Utf8Path::from_path(&layout).expect("a UTF-8 temp dir"),
    )
    .unwrap();
    let index = &written.images[0].index;
    (layout, index.digest.clone(), index.size)
}

#[test]
fn a_re_pointed_image_tag_fails_verify_with_the_key_and_is_never_signed() {
    require("skopeo");
    let keys = tempfile::tempdir().unwrap();
    keypair(keys.path(), None);
    let (out, _) = multi_image(&["--bin", "alpha"]);
    let out = out.path();
    sign(out, keys.path()).success();
    verify_signed(out, keys.path()).success();
    // SHA256SUMS, which the signature covers, lists `index.json` and the image blobs.
    let sums = std::fs::read_to_string(out.join("SHA256SUMS")).unwrap();
    assert!(sums.contains("  oci/index.json\n"), "{sums}");
    assert!(sums.contains("  oci/blobs/sha256/"), "{sums}");

    // The attacker adds an index, a manifest, a config and a layer, and points the
    // `alpha:0.3.0` tag at them.
    let scratch = tempfile::tempdir().unwrap();
    let (evil, digest, size) = attacker_image(scratch.path());
    for e in std::fs::read_dir(evil.join("blobs/sha256")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), out.join("oci/blobs/sha256").join(e.file_name())).unwrap();
    }
    let index_path = out.join("oci/index.json");
    let honest = std::fs::read(&index_path).unwrap();
    let mut index: Value = serde_json::from_slice(&honest).unwrap();
    let entry = index["manifests"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|d| d["annotations"]["org.opencontainers.image.ref.name"] == "alpha:0.3.0")
        .unwrap();
    entry["digest"] = digest.clone().into();
    entry["size"] = size.into();
    std::fs::write(&index_path, serde_json::to_vec(&index).unwrap()).unwrap();

    // What an OCI client gets from the tag now: the attacker's binary.
    let copied = scratch.path().join("copied");
    tool(
        Command::new("skopeo")
            .args(["copy", "--override-arch", "amd64"])
            .arg(format!("oci:{}:alpha:0.3.0", out.join("oci").display()))
            .arg(format!("dir:{}", copied.display())),
    );
    let manifest = json(&copied.join("manifest.json"));
    let layer = manifest["layers"][0]["digest"].as_str().unwrap();
    let listing = tool(
        Command::new("tar")
            .arg("-xzOf")
            .arg(copied.join(layer.trim_start_matches("sha256:")))
            .arg("usr/local/bin/alpha"),
    );
    assert_eq!(listing, "#!/bin/sh\necho pwned\n");

    let r = verify_signed(out, keys.path()).failure();
    assert_eq!(r.out.status.code(), Some(VERIFY_FAILED), "{}", r.stderr());
    let stdout = r.stdout();
    assert!(
        stdout.contains(&format!(
            "FAILED   oci/index.json: `alpha:0.3.0` points at `{digest}`, but the manifest records image `alpha:0.3.0` as `sha256:"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("FAILED   oci/index.json: sha256 is "),
        "{stdout}"
    );
    let r = sign(out, keys.path()).failure();
    assert_eq!(r.out.status.code(), Some(VERIFY_FAILED), "{}", r.stderr());
    assert!(
        r.stderr()
            .contains("fails verification, so nothing was signed"),
        "{}",
        r.stderr()
    );

    // The tag put back, the attacker's blobs left in place: each is refused by name.
    std::fs::write(&index_path, &honest).unwrap();
    let stdout = verify_signed(out, keys.path()).failure().stdout();
    assert!(
        stdout.contains(&format!(
            "FAILED   oci/blobs/sha256/{}: not part of the release: no image the manifest lists reaches it",
            digest.trim_start_matches("sha256:")
        )),
        "{stdout}"
    );
    assert!(!stdout.contains("index.json"), "{stdout}");
}

#[test]
fn an_unlisted_blob_or_file_in_the_layout_fails_verify() {
    let keys = tempfile::tempdir().unwrap();
    keypair(keys.path(), None);
    let (out, _) = multi_image(&["--bin", "alpha"]);
    let out = out.path();
    sign(out, keys.path()).success();
    let bytes = b"an extra blob\n";
    let hex = cargo_multiarch::digest::Sha256::of(bytes).to_string();
    let blob = out.join("oci/blobs/sha256").join(&hex);
    std::fs::write(&blob, bytes).unwrap();
    std::fs::write(out.join("oci/notes.txt"), "hello").unwrap();
    let r = verify_signed(out, keys.path()).failure();
    assert_eq!(r.out.status.code(), Some(VERIFY_FAILED), "{}", r.stderr());
    let stdout = r.stdout();
    for path in [
        format!("oci/blobs/sha256/{hex}"),
        "oci/notes.txt".to_owned(),
    ] {
        assert!(
            stdout.contains(&format!(
                "FAILED   {path}: not part of the release: no image the manifest lists reaches it (hint: remove it, then run `cargo multiarch image` again)"
            )),
            "{stdout}"
        );
    }
    sign(out, keys.path()).failure();
    std::fs::remove_file(&blob).unwrap();
    std::fs::remove_file(out.join("oci/notes.txt")).unwrap();
    verify_signed(out, keys.path()).success();
}

#[test]
fn an_sbom_listing_other_crates_fails_verify_expect_sbom() {
    let out = package("hello", &[]);
    let out = out.path();
    verify(out, &["--expect-sbom"]).success();
    let rel = "linux/amd64/hello-0.1.0-x86_64-unknown-linux-musl.tar.gz.cdx.json";
    let path = out.join(rel);
    let mut sbom = json(&path);
    sbom["components"] = serde_json::json!([{
        "bom-ref": "pkg:cargo/left-pad@1.3.0",
        "type": "library",
        "name": "left-pad",
        "version": "1.3.0",
        "purl": "pkg:cargo/left-pad@1.3.0",
        "scope": "required",
        "properties": [
            { "name": "cargo-multiarch:kind", "value": "runtime" },
            { "name": "cargo-multiarch:source", "value": "crates.io" }
        ]
    }]);
    let bytes = serde_json::to_vec_pretty(&sbom).unwrap();
    std::fs::write(&path, &bytes).unwrap();
    // Its hash recomputed everywhere: the manifest, SHA256SUMS and the provenance.
    let sha = cargo_multiarch::digest::Sha256::of(&bytes).to_string();
    edit_manifest(out, |m| {
        for a in m["artifacts"].as_array_mut().unwrap() {
            if a["path"] == rel {
                a["sha256"] = sha.clone().into();
                a["size"] = bytes.len().into();
            }
        }
    });
    // Only the SBOM's contents give it away.
    verify(out, &[]).success();
    let r = verify(out, &["--expect-sbom"]).failure();
    assert_eq!(r.out.status.code(), Some(VERIFY_FAILED), "{}", r.stderr());
    assert!(
        r.stdout().contains(&format!(
            "FAILED   {rel}: it lists, but the build record does not have, `left-pad` 1.3.0 (runtime, from crates.io)"
        )),
        "{}",
        r.stdout()
    );
}
