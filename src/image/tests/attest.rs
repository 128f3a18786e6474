//! Attestation manifests: their shape in the index, their statements, and what
//! `verify_layout` says of a tampered one.

use camino::Utf8Path;
use serde_json::Value;

use super::support::{blob, fake_spec, json, platform, temp_dir};
use crate::digest::Sha256;
use crate::image::attest::{
    ATTESTATION_MANIFEST, AttestationInput, CYCLONEDX, PREDICATE_TYPE, REFERENCE_DIGEST,
    REFERENCE_TYPE,
};
use crate::image::{Attestation, ImageSpec, verify_layout, write_layout};
use crate::outdir::{OutDir, RelPath};
use crate::provenance::{self, Toolchain};
use crate::record::{BuildRecord, SCHEMA, StagedBinary};

/// A provenance predicate of one amd64 binary.
fn predicate() -> provenance::Predicate {
    let t = crate::testgen::known("x86_64-unknown-linux-musl");
    let record = BuildRecord {
        schema: SCHEMA.into(),
        target: t.name(),
        platform: t.platform(),
        backend: "cargo".into(),
        profile: "release".into(),
        binaries: vec![StagedBinary {
            package: "hello".into(),
            version: "0.3.0".into(),
            binary: "hello".into(),
            target: t.name(),
            platform: t.platform(),
            backend: "cargo".into(),
            profile: "release".into(),
            path: crate::layout::binary(t.platform(), "hello").unwrap(),
            sha256: Sha256::of(b"hello"),
            size: 5,
        }],
        features: Vec::new(),
        strip: false,
        zig: None,
        dependencies: Vec::new(),
    };
    provenance::describe(
        &[record],
        None,
        1_700_000_000,
        None,
        None,
        &Toolchain::default(),
    )
}

/// A synthetic SBOM-like JSON document in an out dir, as an attestation input for arm64.
fn sbom_input(out: &OutDir) -> AttestationInput {
    let bytes = br#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":"hello","version":"0.3.0","purl":"pkg:cargo/hello@0.3.0"}]}"#;
    let path =
        RelPath::new("linux/arm64/hello-0.3.0-aarch64-unknown-linux-musl.tar.gz.cdx.json").unwrap();
    out.create_dirs(&path.parent().unwrap()).unwrap();
    out.write(&path, bytes).unwrap();
    AttestationInput {
        platform: platform("linux/arm64"),
        package: Some("hello".into()),
        media_type: CYCLONEDX.1.into(),
        path,
        sha256: Sha256::of(bytes),
    }
}

fn attested_spec(out: &OutDir) -> ImageSpec {
    let mut spec = fake_spec("hello:0.3.0");
    spec.attestations = vec![
        Attestation::provenance(&predicate()),
        Attestation::read(out, &sbom_input(out)).unwrap(),
    ];
    spec
}

/// Writes `value` as a blob of the layout at `dir`; its digest.
fn put_blob(dir: &Utf8Path, value: &Value) -> (String, usize) {
    let bytes = serde_json::to_vec(value).unwrap();
    let digest = format!("sha256:{}", Sha256::of(&bytes));
    std::fs::write(blob(dir, &digest), &bytes).unwrap();
    (digest, bytes.len())
}

#[test]
fn each_platform_manifest_gets_an_attestation_manifest_with_its_statements() {
    let (_t, dir) = temp_dir();
    let (_o, out_dir) = temp_dir();
    let out = OutDir::existing(&out_dir).unwrap();
    let result = write_layout(&[attested_spec(&out)], &dir.join("oci")).unwrap();
    let oci = dir.join("oci");
    let image = &result.images[0];
    assert_eq!(image.attestations.len(), 2);
    let index = json(&blob(&oci, &image.index.digest));
    let entries = index["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 4, "{index}");
    for (i, platform_manifest) in image.manifests.iter().enumerate() {
        let a = &entries[2 + i];
        assert_eq!(
            a["platform"],
            serde_json::json!({"architecture": "unknown", "os": "unknown"})
        );
        assert_eq!(a["annotations"][REFERENCE_TYPE], ATTESTATION_MANIFEST);
        assert_eq!(
            a["annotations"][REFERENCE_DIGEST],
            platform_manifest.digest.as_str()
        );
        let manifest = json(&blob(&oci, a["digest"].as_str().unwrap()));
        let layers = manifest["layers"].as_array().unwrap();
        let types: Vec<&str> = layers
            .iter()
            .map(|l| {
                assert_eq!(l["mediaType"], provenance::MEDIA_TYPE);
                l["annotations"][PREDICATE_TYPE].as_str().unwrap()
            })
            .collect();
        // The SBOM goes to arm64 only; the provenance to both.
        if i == 0 {
            assert_eq!(types, [provenance::PREDICATE_TYPE]);
        } else {
            assert_eq!(types, [provenance::PREDICATE_TYPE, CYCLONEDX.0]);
        }
        let config = json(&blob(&oci, manifest["config"]["digest"].as_str().unwrap()));
        assert_eq!(config["os"], "unknown");
        assert_eq!(config["rootfs"]["diff_ids"][0], layers[0]["digest"]);
        for layer in layers {
            let statement = json(&blob(&oci, layer["digest"].as_str().unwrap()));
            assert_eq!(statement["_type"], provenance::STATEMENT_TYPE);
            assert_eq!(
                statement["subject"][0]["digest"]["sha256"],
                platform_manifest.hex()
            );
        }
        if i == 1 {
            let sbom = json(&blob(&oci, layers[1]["digest"].as_str().unwrap()));
            assert_eq!(
                sbom["predicate"]["components"][0]["purl"],
                "pkg:cargo/hello@0.3.0"
            );
        }
    }
    assert!(verify_layout(&oci).unwrap().is_empty());
    // The same inputs give the same index.
    let again = write_layout(&[attested_spec(&out)], &dir.join("oci2")).unwrap();
    assert_eq!(again.images[0].index.digest, image.index.digest);
}

#[test]
fn an_attestation_about_another_manifest_is_reported() {
    let (_t, dir) = temp_dir();
    let (_o, out_dir) = temp_dir();
    let out = OutDir::existing(&out_dir).unwrap();
    let result = write_layout(&[attested_spec(&out)], &dir).unwrap();
    let image = &result.images[0];
    // Swap what the two attestation manifests say they are about, re-hashing the index.
    let mut index = json(&blob(&dir, &image.index.digest));
    let (amd, arm) = (&image.manifests[0].digest, &image.manifests[1].digest);
    index["manifests"][2]["annotations"][REFERENCE_DIGEST] = arm.as_str().into();
    index["manifests"][3]["annotations"][REFERENCE_DIGEST] = amd.as_str().into();
    let (digest, size) = put_blob(&dir, &index);
    let mut top = json(&dir.join("index.json"));
    top["manifests"][0]["digest"] = digest.into();
    top["manifests"][0]["size"] = size.into();
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&top).unwrap()).unwrap();
    let problems = verify_layout(&dir).unwrap();
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(
        problems[0].contains(&format!("is not about `{arm}`")),
        "{problems:#?}"
    );
    assert!(
        problems[1].contains(&format!("is not about `{amd}`")),
        "{problems:#?}"
    );
    // An index that drops one platform's attestation manifest.
    index["manifests"].as_array_mut().unwrap().remove(3);
    index["manifests"][2]["annotations"][REFERENCE_DIGEST] = amd.as_str().into();
    let (digest, size) = put_blob(&dir, &index);
    top["manifests"][0]["digest"] = digest.into();
    top["manifests"][0]["size"] = size.into();
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&top).unwrap()).unwrap();
    let problems = verify_layout(&dir).unwrap();
    assert_eq!(
        problems,
        [format!(
            "index `{}`: platform manifest `{arm}` has no attestation manifest",
            top["manifests"][0]["digest"].as_str().unwrap()
        )]
    );
}

#[test]
fn an_input_that_changed_since_the_manifest_is_refused() {
    let (_o, out_dir) = temp_dir();
    let out = OutDir::existing(&out_dir).unwrap();
    let mut input = sbom_input(&out);
    input.sha256 = Sha256::of(b"what the manifest says");
    let err = Attestation::read(&out, &input).unwrap_err();
    assert!(
        format!("{err:#}").contains("changed since the manifest was written"),
        "{err:#}"
    );
    input.media_type = "text/plain".into();
    assert!(input.predicate_type().is_err());
}
