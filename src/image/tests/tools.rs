//! Third-party checks of what we write: oci-image-tool, skopeo, umoci, qemu-aarch64.

use serde_json::Value;

use super::external::{HELLO, hello_spec, require, run};
use super::support::{fake_spec, index_platforms, platform, temp_dir};
use crate::image::{write_archive, write_layout};
use crate::process::Process;

/// oci-image-tool 1.0.0-rc1 (Debian's) predates nested indexes: on the layout it only
/// checks `index.json` and the ref (warning that an index media type is "unknown"), so
/// every document is also validated against its own schema, and the skopeo test below
/// copies every platform out completely.
#[test]
fn oci_image_tool_validates_the_layout_and_every_document() {
    require("oci-image-tool");
    let (_t, dir) = temp_dir();
    let result = write_layout(&[fake_spec("alpha:0.3.0")], &dir).unwrap();
    let validate = |kind: &str, path: &camino::Utf8Path| {
        let out = run(&Process::new("oci-image-tool")
            .args(["validate", "--type", kind])
            .arg(path));
        assert!(out.contains("Validation succeeded"), "{kind} {path}: {out}");
    };
    let out = run(&Process::new("oci-image-tool")
        .args([
            "validate",
            "--type",
            "image",
            "--ref",
            "name=alpha:0.3.0",
            "--ref",
            "platform.os=linux",
        ])
        .arg(&dir));
    assert!(out.contains("Validation succeeded"), "{out}");
    let blob = |digest: &str| {
        dir.join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:"))
    };
    let image = &result.images[0];
    validate("imageIndex", &blob(&image.index.digest));
    for m in &image.manifests {
        validate("manifest", &blob(&m.digest));
        let manifest: Value =
            serde_json::from_slice(&std::fs::read(blob(&m.digest)).unwrap()).unwrap();
        validate(
            "config",
            &blob(manifest["config"]["digest"].as_str().unwrap()),
        );
    }
    // The schemas do reject what is wrong: index.json is no manifest.
    let e = Process::new("oci-image-tool")
        .args(["validate", "--type", "manifest"])
        .arg(dir.join("index.json"))
        .output();
    assert!(e.is_err());
}

#[test]
fn skopeo_sees_a_two_platform_index() {
    require("skopeo");
    let (_t, dir) = temp_dir();
    let result = write_layout(&[fake_spec("alpha:0.3.0")], &dir).unwrap();
    let raw = run(&Process::new("skopeo")
        .args(["inspect", "--raw"])
        .arg(format!("oci:{dir}:alpha:0.3.0")));
    assert_eq!(
        crate::oci::sha256_hex(raw.as_bytes()),
        result.images[0].index.hex(),
        "skopeo returns the index blob byte for byte"
    );
    let index: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(index["mediaType"], crate::image::MEDIA_TYPE_INDEX);
    let platforms = index_platforms(&index);
    assert_eq!(platforms, ["linux/amd64", "linux/arm64"]);

    // Each platform's image copies out completely (skopeo checks every blob's digest).
    let (_c, copies) = temp_dir();
    for arch in ["amd64", "arm64"] {
        copy_platform(
            arch,
            &format!("oci:{dir}:alpha:0.3.0"),
            &format!("dir:{copies}/{arch}"),
        );
        let config: Value = serde_json::from_str(&run(&Process::new("skopeo")
            .args(["inspect", "--config"])
            .arg(format!("dir:{copies}/{arch}"))))
        .unwrap();
        assert_eq!(config["architecture"], arch);
        assert_eq!(config["config"]["Entrypoint"][0], "/usr/local/bin/hello");
    }
}

/// The real test: a static aarch64 binary, copied out by skopeo, unpacked by umoci,
/// runs under qemu-aarch64; the amd64 one runs natively.
#[test]
fn unpacked_arm64_binary_runs_under_qemu() {
    require("skopeo");
    require("umoci");
    require("qemu-aarch64");
    let spec = hello_spec("hello:1.0.0");
    let (_t, root) = temp_dir();
    let dir = root.join("oci");
    write_layout(&[spec], &dir).unwrap();
    for (arch, runner) in [("arm64", Some("qemu-aarch64")), ("amd64", None)] {
        let single = root.join(format!("single-{arch}"));
        copy_platform(
            arch,
            &format!("oci:{dir}:hello:1.0.0"),
            &format!("oci:{single}:x"),
        );
        let bundle = root.join(format!("bundle-{arch}"));
        run(&Process::new("umoci")
            .args(["unpack", "--rootless", "--image"])
            .arg(format!("{single}:x"))
            .arg(&bundle));
        let binary = bundle.join("rootfs/usr/local/bin/hello");
        let out = match runner {
            Some(qemu) => run(&Process::new(qemu).arg(&binary)),
            None if cfg!(target_arch = "x86_64") => run(&Process::new(&binary)),
            None => continue,
        };
        assert_eq!(out.trim(), HELLO, "{arch}");
        let runtime: Value =
            serde_json::from_slice(&std::fs::read(bundle.join("config.json")).unwrap()).unwrap();
        assert_eq!(
            runtime["process"]["args"],
            serde_json::json!(["/usr/local/bin/hello", "--greet"])
        );
    }
}

#[test]
fn skopeo_reads_the_archive_as_oci_and_as_docker() {
    require("skopeo");
    let (_t, root) = temp_dir();
    let dir = root.join("oci");
    let result = write_layout(&[fake_spec("alpha:0.3.0")], &dir).unwrap();
    let tar = root.join("alpha.tar");
    write_archive(&dir, &result, platform("linux/amd64"), &tar).unwrap();

    let raw = run(&Process::new("skopeo")
        .args(["inspect", "--raw"])
        .arg(format!("oci-archive:{tar}:alpha:0.3.0")));
    assert_eq!(
        crate::oci::sha256_hex(raw.as_bytes()),
        result.images[0].index.hex()
    );

    // docker-archive: is what `docker load` reads (manifest.json).
    let inspect: Value = serde_json::from_str(&run(&Process::new("skopeo")
        .args(["inspect"])
        .arg(format!("docker-archive:{tar}"))))
    .unwrap();
    assert_eq!(inspect["Architecture"], "amd64");
    assert_eq!(inspect["Os"], "linux");
    assert_eq!(inspect["Layers"].as_array().unwrap().len(), 1);
    let config: Value = serde_json::from_str(&run(&Process::new("skopeo")
        .args(["inspect", "--config"])
        .arg(format!("docker-archive:{tar}:alpha:0.3.0"))))
    .unwrap();
    assert_eq!(config["config"]["Entrypoint"][0], "/usr/local/bin/hello");
    // Copying it out decompresses and re-hashes the layer against the diff ID.
    let (_c, copy) = temp_dir();
    run(&Process::new("skopeo")
        .args(["copy", "--quiet"])
        .arg(format!("docker-archive:{tar}"))
        .arg(format!("dir:{copy}/x")));
}

/// `skopeo copy` of one linux platform of an image (skopeo checks every blob's digest).
fn copy_platform(arch: &str, from: &str, to: &str) {
    run(&Process::new("skopeo")
        .args([
            "copy",
            "--quiet",
            "--override-os",
            "linux",
            "--override-arch",
            arch,
        ])
        .arg(from)
        .arg(to));
}
