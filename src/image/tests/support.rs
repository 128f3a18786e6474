//! Sample images shared by the tests.

use std::collections::BTreeMap;

use camino::{Utf8Path, Utf8PathBuf};
use serde_json::Value;
use tempfile::TempDir;

use crate::archive::{Entry, Source};
use crate::image::{ImageSpec, PlatformImage, Settings};
use crate::platform::Platform;

pub(super) fn temp_dir() -> (TempDir, Utf8PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = Utf8PathBuf::from_path_buf(dir.path().to_owned()).expect("utf-8 temp dir");
    (dir, path)
}

pub(super) fn platform(s: &str) -> Platform {
    Platform::parse(s).unwrap()
}

pub(super) fn settings() -> Settings {
    Settings {
        entrypoint: Some(vec!["/usr/local/bin/hello".into()]),
        cmd: Some(vec!["--greet".into()]),
        env: vec!["RUST_LOG=info".into()],
        labels: BTreeMap::from([(
            "org.opencontainers.image.version".to_owned(),
            "0.3.0".to_owned(),
        )]),
        user: Some("65534:65534".into()),
        workdir: Some("/".into()),
    }
}

fn script(text: &str) -> Entry {
    Entry {
        path: "usr/local/bin/hello".into(),
        source: Source::Bytes(text.as_bytes().to_vec()),
        mode: 0o755,
    }
}

/// An image of small shell scripts for linux/amd64 and linux/arm64.
pub(super) fn fake_spec(name: &str) -> ImageSpec {
    let platforms = ["linux/amd64", "linux/arm64"]
        .iter()
        .map(|p| PlatformImage {
            platform: platform(p),
            files: vec![
                script(&format!("#!/bin/sh\necho 'hello from {p}'\n")),
                Entry {
                    path: "usr/share/doc/hello/README".into(),
                    source: Source::Bytes(b"docs\n".to_vec()),
                    mode: 0o644,
                },
            ],
        })
        .collect();
    ImageSpec {
        names: vec![name.into()],
        platforms,
        settings: settings(),
        created: 1_700_000_000,
        level: 6,
        attestations: Vec::new(),
        ..ImageSpec::default()
    }
}

/// A JSON file, parsed.
pub(super) fn json(path: &Utf8Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The file of a blob in the layout at `dir`.
pub(super) fn blob(dir: &Utf8Path, digest: &str) -> Utf8PathBuf {
    dir.join("blobs/sha256")
        .join(digest.trim_start_matches("sha256:"))
}

/// The `os/architecture` of each manifest an image index lists, in order.
pub(super) fn index_platforms(index: &serde_json::Value) -> Vec<String> {
    index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{}/{}",
                m["platform"]["os"].as_str().unwrap(),
                m["platform"]["architecture"].as_str().unwrap()
            )
        })
        .collect()
}
