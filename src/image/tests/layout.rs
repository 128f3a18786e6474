//! Layout, verification and archive tests that need no external tool.

use std::collections::BTreeMap;
use std::io::Read as _;

use camino::Utf8Path;

use super::support::{blob, fake_spec, index_platforms, json, platform, temp_dir};
use crate::image::{
    MEDIA_TYPE_CONFIG, MEDIA_TYPE_INDEX, MEDIA_TYPE_LAYER, MEDIA_TYPE_MANIFEST,
    REF_NAME_ANNOTATION, verify_layout, write_layout,
};

/// Every file under `dir` with its bytes, by relative path.
fn tree(dir: &Utf8Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in d.read_dir_utf8().unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path().to_owned());
            } else {
                out.insert(
                    e.path().strip_prefix(dir).unwrap().to_string(),
                    std::fs::read(e.path()).unwrap(),
                );
            }
        }
    }
    out
}

#[test]
fn layout_has_index_per_image_manifest_per_platform() {
    let (_t, dir) = temp_dir();
    let result = write_layout(&[fake_spec("alpha:0.3.0"), fake_spec("beta:1")], &dir).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join("oci-layout")).unwrap(),
        r#"{"imageLayoutVersion":"1.0.0"}"#
    );
    let index = json(&dir.join("index.json"));
    assert_eq!(index["schemaVersion"], 2);
    assert_eq!(index["mediaType"], MEDIA_TYPE_INDEX);
    let listed = index["manifests"].as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["annotations"][REF_NAME_ANNOTATION], "alpha:0.3.0");
    assert_eq!(listed[1]["annotations"][REF_NAME_ANNOTATION], "beta:1");
    assert_eq!(listed[0]["digest"], result.images[0].index.digest.as_str());
    assert_eq!(result.created, 1_700_000_000);

    let image_index = json(&blob(&dir, &result.images[0].index.digest));
    let platforms = index_platforms(&image_index);
    assert_eq!(platforms, ["linux/amd64", "linux/arm64"]);
    assert_eq!(
        result.images[0].manifests[1].platform,
        Some(platform("linux/arm64"))
    );

    let manifest = json(&blob(&dir, &result.images[0].manifests[1].digest));
    assert_eq!(manifest["schemaVersion"], 2);
    assert_eq!(manifest["mediaType"], MEDIA_TYPE_MANIFEST);
    assert_eq!(manifest["config"]["mediaType"], MEDIA_TYPE_CONFIG);
    assert_eq!(manifest["layers"][0]["mediaType"], MEDIA_TYPE_LAYER);

    // The diff ID is the sha256 of the uncompressed layer, and the layer holds the files.
    let config = json(&blob(&dir, manifest["config"]["digest"].as_str().unwrap()));
    assert_eq!(config["architecture"], "arm64");
    assert_eq!(config["os"], "linux");
    assert_eq!(config["created"], "2023-11-14T22:13:20Z");
    assert_eq!(config["history"][0]["created_by"], "cargo-multiarch");
    assert_eq!(config["config"]["User"], "65534:65534");
    assert_eq!(
        config["config"]["Env"][0],
        crate::image::DEFAULT_PATH.to_owned()
    );
    let layer = std::fs::read(blob(
        &dir,
        manifest["layers"][0]["digest"].as_str().unwrap(),
    ))
    .unwrap();
    let mut tar = Vec::new();
    flate2::read::GzDecoder::new(layer.as_slice())
        .read_to_end(&mut tar)
        .unwrap();
    assert_eq!(
        config["rootfs"]["diff_ids"][0],
        format!("sha256:{}", crate::image::oci::sha256_hex(&tar))
    );
    let mut archive = tar::Archive::new(tar.as_slice());
    let names: Vec<String> = archive
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.contains(&"usr/local/bin/hello".to_owned()),
        "{names:?}"
    );

    assert_eq!(verify_layout(&dir).unwrap(), Vec::<String>::new());
}

#[test]
fn identical_inputs_give_identical_layouts_in_any_directory() {
    let (_a, a) = temp_dir();
    let (_b, b) = temp_dir();
    let ra = write_layout(&[fake_spec("alpha:0.3.0")], &a.join("oci")).unwrap();
    let rb = write_layout(&[fake_spec("alpha:0.3.0")], &b.join("deeper/oci")).unwrap();
    assert_eq!(ra, rb);
    assert_eq!(tree(&a.join("oci")), tree(&b.join("deeper/oci")));
    // Rewriting in place changes nothing either.
    let again = write_layout(&[fake_spec("alpha:0.3.0")], &a.join("oci")).unwrap();
    assert_eq!(again, ra);
    assert_eq!(tree(&a.join("oci")), tree(&b.join("deeper/oci")));
}

#[test]
fn rewriting_replaces_the_index_and_drops_unreachable_blobs() {
    let (_t, dir) = temp_dir();
    let old = write_layout(&[fake_spec("alpha:0.3.0")], &dir).unwrap();
    std::fs::write(dir.join("blobs/sha256/.tmp-layer-1-1"), b"left over").unwrap();
    let mut spec = fake_spec("alpha:0.4.0");
    spec.created += 1;
    let new = write_layout(&[spec], &dir).unwrap();
    assert_ne!(old.images[0].index.digest, new.images[0].index.digest);
    let index = json(&dir.join("index.json"));
    assert_eq!(index["manifests"].as_array().unwrap().len(), 1);
    assert_eq!(
        index["manifests"][0]["annotations"][REF_NAME_ANNOTATION],
        "alpha:0.4.0"
    );
    assert!(!blob(&dir, &old.images[0].index.digest).exists());
    assert!(!dir.join("blobs/sha256/.tmp-layer-1-1").exists());
    assert!(verify_layout(&dir).unwrap().is_empty());
}

#[test]
fn verify_reports_corrupt_and_missing_blobs() {
    let (_t, dir) = temp_dir();
    let result = write_layout(&[fake_spec("alpha:0.3.0")], &dir).unwrap();
    let manifest = json(&blob(&dir, &result.images[0].manifests[0].digest));
    let layer = manifest["layers"][0]["digest"].as_str().unwrap().to_owned();
    let config = manifest["config"]["digest"].as_str().unwrap().to_owned();

    let mut bytes = std::fs::read(blob(&dir, &layer)).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(blob(&dir, &layer), &bytes).unwrap();
    std::fs::remove_file(blob(&dir, &config)).unwrap();

    let problems = verify_layout(&dir).unwrap();
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(
        problems
            .iter()
            .any(|p| p.contains(&format!("blob `{layer}` has sha256")) && p.contains("corrupt")),
        "{problems:#?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains(&format!("blob `{config}` is missing"))),
        "{problems:#?}"
    );

    std::fs::remove_file(dir.join("index.json")).unwrap();
    let problems = verify_layout(&dir).unwrap();
    assert!(
        problems[0].contains("`index.json` could not be read"),
        "{problems:#?}"
    );
}

#[test]
fn verify_rejects_digests_that_would_escape_the_layout() {
    let (_t, dir) = temp_dir();
    write_layout(&[fake_spec("alpha:0.3.0")], &dir).unwrap();
    let index = r#"{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:../../../etc/passwd","size":1}]}"#;
    std::fs::write(dir.join("index.json"), index).unwrap();
    let problems = verify_layout(&dir).unwrap();
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].contains("does not have 64 lowercase hex digits"),
        "{problems:#?}"
    );

    // A blob that is a symlink to a file outside the layout is reported too.
    let (_o, outside) = temp_dir();
    let result = write_layout(&[fake_spec("alpha:0.3.0")], &dir).unwrap();
    let target = blob(&dir, &result.images[0].manifests[0].digest);
    std::fs::copy(&target, outside.join("m")).unwrap();
    std::fs::remove_file(&target).unwrap();
    std::os::unix::fs::symlink(outside.join("m"), &target).unwrap();
    let problems = verify_layout(&dir).unwrap();
    assert!(
        problems.iter().any(|p| p.contains("outside the layout")),
        "{problems:#?}"
    );
}

#[test]
fn bad_specs_and_foreign_directories_are_refused() {
    let (_t, dir) = temp_dir();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let e = write_layout(&[fake_spec("alpha:0.3.0")], &dir)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("is not empty and not an OCI image layout"),
        "{e}"
    );

    let (_t, dir) = temp_dir();
    let mut spec = fake_spec("alpha:0.3.0");
    spec.platforms[0].files[0].path = "/usr/bin/x".into();
    let e = write_layout(&[spec], &dir).unwrap_err().to_string();
    assert!(e.contains("must be relative to the image root"), "{e}");

    let mut spec = fake_spec("alpha:0.3.0");
    spec.platforms[1].platform = platform("linux/amd64");
    let e = write_layout(&[spec], &dir).unwrap_err().to_string();
    assert!(e.contains("lists platform `linux/amd64` twice"), "{e}");

    let e = write_layout(&[fake_spec("a b")], &dir)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a valid OCI reference name"), "{e}");
    let e = write_layout(&[fake_spec("a:1"), fake_spec("a:1")], &dir)
        .unwrap_err()
        .to_string();
    assert!(e.contains("is given twice"), "{e}");
}
