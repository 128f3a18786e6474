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
        format!("sha256:{}", crate::oci::sha256_hex(&tar))
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

#[test]
fn several_names_platform_names_annotations_and_a_shared_base_layer() {
    use crate::archive::{Entry, Source};
    let (_t, dir) = temp_dir();
    let base = vec![Entry {
        path: "etc/ssl/certs/ca-certificates.crt".into(),
        source: Source::Bytes(b"-----BEGIN CERTIFICATE-----\n".to_vec()),
        mode: 0o644,
    }];
    let annotated = |name: &str| {
        let mut spec = fake_spec(name);
        spec.names.push(format!("{name}-also"));
        spec.platform_names = true;
        spec.base_layers = vec![base.clone()];
        spec.annotations = BTreeMap::from([
            ("org.example.z".to_owned(), "last".to_owned()),
            ("org.example.a".to_owned(), "first".to_owned()),
        ]);
        spec
    };
    let result = write_layout(&[annotated("alpha:1"), annotated("beta:1")], &dir).unwrap();
    let alpha = &result.images[0];
    assert_eq!(alpha.names, ["alpha:1", "alpha:1-also"]);
    assert_eq!(
        alpha.manifest_names,
        [
            ["alpha:1-linux-amd64", "alpha:1-also-linux-amd64"],
            ["alpha:1-linux-arm64", "alpha:1-also-linux-arm64"]
        ]
    );
    // index.json: per image, the index under each name, then each platform's manifest
    // under each platform name.
    let index = json(&dir.join("index.json"));
    let listed: Vec<(String, String)> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["annotations"][REF_NAME_ANNOTATION]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                d["digest"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let names: Vec<&str> = listed.iter().map(|(n, _)| n.as_str()).take(6).collect();
    assert_eq!(
        names,
        [
            "alpha:1",
            "alpha:1-also",
            "alpha:1-linux-amd64",
            "alpha:1-linux-arm64",
            "alpha:1-also-linux-amd64",
            "alpha:1-also-linux-arm64"
        ]
    );
    assert_eq!(listed.len(), 12);
    assert_eq!(listed[1].1, alpha.index.digest);
    assert_eq!(listed[3].1, alpha.manifests[1].digest);
    assert_eq!(
        index["manifests"][3]["platform"]["architecture"], "arm64",
        "a platform name's descriptor says its platform"
    );

    // Annotations on the index and every manifest, sorted by key.
    let text = std::fs::read_to_string(blob(&dir, &alpha.index.digest)).unwrap();
    assert!(
        text.ends_with(r#","annotations":{"org.example.a":"first","org.example.z":"last"}}"#),
        "{text}"
    );
    for m in &alpha.manifests {
        let manifest = json(&blob(&dir, &m.digest));
        assert_eq!(manifest["annotations"]["org.example.a"], "first");
        // The base layer comes first, and is the same blob for every platform and image.
        assert_eq!(manifest["layers"].as_array().unwrap().len(), 2);
        assert_eq!(manifest["layers"][0]["digest"], alpha.base_layers[0].digest);
        let config = json(&blob(&dir, manifest["config"]["digest"].as_str().unwrap()));
        assert_eq!(config["rootfs"]["diff_ids"].as_array().unwrap().len(), 2);
    }
    assert_eq!(result.images[1].base_layers, alpha.base_layers);
    assert_eq!(verify_layout(&dir).unwrap(), Vec::<String>::new());

    // A platform name that is also another name is refused before anything is written.
    let (_t, other) = temp_dir();
    let mut clash = fake_spec("alpha:1");
    clash.names.push("alpha:1-linux-amd64".into());
    clash.platform_names = true;
    let e = write_layout(&[clash], &other).unwrap_err().to_string();
    assert!(
        e.contains("image name `alpha:1-linux-amd64` is given twice"),
        "{e}"
    );
    assert!(std::fs::read_dir(&other).unwrap().next().is_none());
    // So is an annotation key with whitespace.
    let mut spaced = fake_spec("alpha:1");
    spaced.annotations.insert("a b".into(), "c".into());
    let e = write_layout(&[spaced], &other).unwrap_err().to_string();
    assert!(
        e.contains("annotation key `a b` of image `alpha:1` holds whitespace"),
        "{e}"
    );
}
