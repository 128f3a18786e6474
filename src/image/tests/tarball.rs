//! The archive: OCI layout plus Docker `manifest.json` in one reproducible tar.

use std::collections::BTreeMap;
use std::io::Read as _;

use serde_json::Value;

use super::support::{blob, fake_spec, json, platform, temp_dir};
use crate::image::{write_archive, write_layout};

#[test]
fn archive_holds_layout_and_docker_manifest_reproducibly() {
    let (_t, root) = temp_dir();
    let dir = root.join("oci");
    let result = write_layout(&[fake_spec("alpha:0.3.0")], &dir).unwrap();
    let dest = root.join("alpha.tar");
    write_archive(&dir, &result, platform("linux/arm64"), &dest).unwrap();
    let bytes = std::fs::read(&dest).unwrap();

    let mut names = Vec::new();
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for entry in tar::Archive::new(bytes.as_slice()).entries().unwrap() {
        let mut entry = entry.unwrap();
        let h = entry.header();
        assert_eq!(
            (h.mtime().unwrap(), h.uid().unwrap(), h.gid().unwrap()),
            (1_700_000_000, 0, 0)
        );
        assert_eq!(h.username().unwrap(), Some(""));
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        names.push(name.clone());
        files.insert(name, data);
    }
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "entries are sorted");
    for want in [
        "blobs/",
        "blobs/sha256/",
        "index.json",
        "manifest.json",
        "oci-layout",
        "repositories",
    ] {
        assert!(files.contains_key(want), "{want} missing from {names:?}");
    }
    assert_eq!(
        files["index.json"],
        std::fs::read(dir.join("index.json")).unwrap()
    );

    let docker: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    let arm = json(&blob(&dir, &result.images[0].manifests[1].digest));
    let config_path = format!(
        "blobs/sha256/{}",
        arm["config"]["digest"]
            .as_str()
            .unwrap()
            .trim_start_matches("sha256:")
    );
    let layer_path = format!(
        "blobs/sha256/{}",
        arm["layers"][0]["digest"]
            .as_str()
            .unwrap()
            .trim_start_matches("sha256:")
    );
    assert_eq!(
        docker,
        serde_json::json!([{"Config": config_path, "RepoTags": ["alpha:0.3.0"], "Layers": [layer_path]}])
    );
    assert!(files.contains_key(&config_path) && files.contains_key(&layer_path));
    let repositories: Value = serde_json::from_slice(&files["repositories"]).unwrap();
    assert_eq!(
        repositories["alpha"]["0.3.0"],
        layer_path.trim_start_matches("blobs/sha256/")
    );

    // Same layout, same bytes.
    let again = root.join("again.tar");
    write_archive(&dir, &result, platform("linux/arm64"), &again).unwrap();
    assert_eq!(std::fs::read(&again).unwrap(), bytes);

    let e = write_archive(&dir, &result, platform("linux/riscv64"), &again)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("has no `linux/riscv64` manifest (it has linux/amd64, linux/arm64)"),
        "{e}"
    );
}
