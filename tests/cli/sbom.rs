//! SBOMs beside each archive: exact per target (a musl-only crate is in the musl SBOMs
//! only), validated by the `CycloneDX` and SPDX projects' own tools, reproducible, listed in the
//! manifest and SHA256SUMS, carried by `merge` and demanded by `verify --expect-sbom`.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::support::{
    EPOCH, SBOMAPP_AMD as AMD, SBOMAPP_ARM as ARM, edit_manifest, json, multiarch, package,
    require, require_python, run, sh, shared_fixture,
};

const GNU: &str = "linux/amd64/sbomapp-0.2.0-x86_64-unknown-linux-gnu.tar.gz";

/// Runs cyclonedx-python-lib's strict JSON validator (`CycloneDX` 1.5) on each file.
pub fn validate_cyclonedx(files: &[PathBuf]) {
    require_python("cyclonedx.validation.json");
    let script = "import sys\nfrom cyclonedx.validation.json import JsonStrictValidator\nfrom cyclonedx.schema import SchemaVersion\nv = JsonStrictValidator(SchemaVersion.V1_5)\nfor f in sys.argv[1:]:\n    e = v.validate_str(open(f).read())\n    if e is not None:\n        sys.exit(f'{f}: {e}')\n";
    let out = Command::new("python3")
        .args(["-c", script])
        .args(files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "CycloneDX validation failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// name → (scope, properties as `name=value`) of every component.
fn components(doc: &Value) -> Vec<(String, String, BTreeSet<String>)> {
    doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let props = c["properties"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    format!(
                        "{}={}",
                        p["name"].as_str().unwrap(),
                        p["value"].as_str().unwrap()
                    )
                })
                .collect();
            (
                c["name"].as_str().unwrap().to_owned(),
                c["scope"].as_str().unwrap().to_owned(),
                props,
            )
        })
        .collect()
}

fn names(doc: &Value) -> Vec<String> {
    components(doc).into_iter().map(|(n, _, _)| n).collect()
}

/// The Cargo.lock checksum of `name` in a fixture.
fn lock_checksum(fixture: &str, name: &str) -> String {
    let lock = std::fs::read_to_string(shared_fixture(fixture).join("Cargo.lock")).unwrap();
    let block = lock
        .split("[[package]]")
        .find(|b| b.contains(&format!("name = \"{name}\"")))
        .unwrap();
    let line = block.lines().find(|l| l.starts_with("checksum")).unwrap();
    line.split('"').nth(1).unwrap().to_owned()
}

#[test]
fn each_target_s_sbom_lists_exactly_its_crates_and_validates() {
    let musl = package("sbom", &[]);
    let gnu = package("sbom", &["--target", "x86_64-unknown-linux-gnu"]);
    let sboms = [
        musl.path().join(format!("{AMD}.cdx.json")),
        musl.path().join(format!("{ARM}.cdx.json")),
        gnu.path().join(format!("{GNU}.cdx.json")),
    ];
    validate_cyclonedx(&sboms);
    let [amd, arm, gnu_doc] = sboms.each_ref().map(|p| json(p));

    // The musl-only crate is in both musl SBOMs and not in the gnu one; the
    // Windows-only one is in none.
    let runtime_and_build = [
        "cc",
        "cfg-if",
        "derive",
        "find-msvc-tools",
        "muslonly",
        "native",
        "answer",
        "shlex",
    ];
    assert_eq!(names(&amd), runtime_and_build, "{amd:#}");
    assert_eq!(names(&arm), runtime_and_build);
    assert_eq!(
        names(&gnu_doc),
        [
            "cc",
            "cfg-if",
            "derive",
            "find-msvc-tools",
            "native",
            "answer",
            "shlex"
        ]
    );

    // Build-time crates are excluded from the runtime scope, and say why.
    for (name, scope, props) in components(&arm) {
        let build = ["cc", "derive", "find-msvc-tools", "shlex"].contains(&name.as_str());
        assert_eq!(scope, if build { "excluded" } else { "required" }, "{name}");
        if name != "answer" {
            let kind = if build { "build" } else { "runtime" };
            assert!(
                props.contains(&format!("cargo-multiarch:kind={kind}")),
                "{name}: {props:?}"
            );
        }
        if name == "derive" {
            assert!(
                props.contains("cargo-multiarch:proc-macro=true"),
                "{props:?}"
            );
        }
        if name == "native" {
            assert!(props.contains("cargo-multiarch:links=answer"), "{props:?}");
            assert!(
                props.contains("cargo-multiarch:source=path+native"),
                "{props:?}"
            );
        }
    }

    // Registry crates carry their purl, license and Cargo.lock checksum.
    let comps = arm["components"].as_array().unwrap();
    let cfg_if = comps.iter().find(|c| c["name"] == "cfg-if").unwrap();
    assert_eq!(cfg_if["purl"], "pkg:cargo/cfg-if@1.0.5");
    assert_eq!(cfg_if["hashes"][0]["alg"], "SHA-256");
    assert_eq!(
        cfg_if["hashes"][0]["content"],
        lock_checksum("sbom", "cfg-if")
    );
    assert_eq!(cfg_if["licenses"][0]["expression"], "MIT OR Apache-2.0");
    // The C library a `links` crate's build script compiles is named as such.
    let answer = comps.iter().find(|c| c["name"] == "answer").unwrap();
    assert_eq!(answer["type"], "library");
    assert!(
        answer["description"]
            .as_str()
            .unwrap()
            .starts_with("native library `answer`"),
        "{answer}"
    );
    let root = &arm["metadata"]["component"];
    assert_eq!(root["purl"], "pkg:cargo/sbomapp@0.2.0");
    assert_eq!(arm["metadata"]["timestamp"], "2023-11-14T22:13:20Z");
    let props = arm["metadata"]["properties"].to_string();
    assert!(
        props.contains("aarch64-unknown-linux-musl") && props.contains("linux/arm64"),
        "{props}"
    );

    // In the manifest as the contract says, in SHA256SUMS, and checked by verify.
    let m = json(&musl.path().join("manifest.json"));
    let sbom = m["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["path"] == format!("{ARM}.cdx.json"))
        .unwrap();
    assert_eq!(sbom["kind"], "sbom");
    assert_eq!(sbom["package"], "sbomapp");
    assert_eq!(sbom["version"], "0.2.0");
    assert_eq!(sbom["target"], "aarch64-unknown-linux-musl");
    assert_eq!(sbom["platform"], "linux/arm64");
    let ok = sh(musl.path(), "sha256sum -c SHA256SUMS");
    assert!(ok.contains(&format!("{ARM}.cdx.json: OK")), "{ok}");
    run(multiarch(musl.path())
        .args(["verify", "--expect-sbom", "--out-dir"])
        .arg(musl.path()))
    .success();

    // Two runs give the same bytes.
    let again = package("sbom", &[]);
    for p in [AMD, ARM] {
        let name = format!("{p}.cdx.json");
        assert_eq!(
            std::fs::read(musl.path().join(&name)).unwrap(),
            std::fs::read(again.path().join(&name)).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn spdx_sboms_validate_with_spdx_tools_and_replace_cyclonedx_ones() {
    let out = package("sbom", &["--platform", "linux/arm64"]);
    assert!(out.path().join(format!("{ARM}.cdx.json")).is_file());
    run(multiarch(&shared_fixture("sbom"))
        .args([
            "package",
            "--no-build",
            "--platform",
            "linux/arm64",
            "--sbom-format",
            "spdx",
            "--out-dir",
        ])
        .arg(out.path())
        .env("SOURCE_DATE_EPOCH", EPOCH))
    .success();
    let spdx = out.path().join(format!("{ARM}.spdx.json"));
    assert!(
        !out.path().join(format!("{ARM}.cdx.json")).exists(),
        "the CycloneDX one is gone"
    );
    require("pyspdxtools");
    let r = Command::new("pyspdxtools")
        .arg("-i")
        .arg(&spdx)
        .output()
        .unwrap();
    assert!(
        r.status.success(),
        "pyspdxtools: {}{}",
        String::from_utf8_lossy(&r.stdout),
        String::from_utf8_lossy(&r.stderr)
    );
    let doc = json(&spdx);
    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
    let id = |name: &str| {
        doc["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["SPDXID"].as_str().unwrap().to_owned())
    };
    let rels: Vec<(String, String, String)> = doc["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap().to_owned();
            (
                s("spdxElementId"),
                s("relationshipType"),
                s("relatedSpdxElement"),
            )
        })
        .collect();
    let app = id("sbomapp").unwrap();
    for want in [
        ("SPDXRef-DOCUMENT".to_owned(), "DESCRIBES", app.clone()),
        (app.clone(), "DEPENDS_ON", id("muslonly").unwrap()),
        (id("derive").unwrap(), "BUILD_DEPENDENCY_OF", app.clone()),
        (
            id("cc").unwrap(),
            "BUILD_DEPENDENCY_OF",
            id("native").unwrap(),
        ),
        (id("native").unwrap(), "DEPENDS_ON", id("answer").unwrap()),
    ] {
        let want = (want.0, want.1.to_owned(), want.2);
        assert!(rels.contains(&want), "{want:?} not in {rels:?}");
    }
    assert!(id("winonly").is_none());
    run(multiarch(out.path())
        .args(["verify", "--expect-sbom", "--out-dir"])
        .arg(out.path()))
    .success();
}

#[test]
fn multi_and_cdep_sboms_validate() {
    let multi = package("multi", &[]);
    let cdep = package("cdep", &["--platform", "linux/amd64"]);
    let mut files: Vec<PathBuf> = Vec::new();
    for out in [multi.path(), cdep.path()] {
        for line in sh(out, "ls linux/*/*.cdx.json").lines() {
            files.push(out.join(line));
        }
    }
    assert_eq!(files.len(), 5, "{files:?}");
    // A per-target archive's SBOM describes every package in it.
    run(multiarch(&shared_fixture("multi"))
        .args([
            "package",
            "--no-build",
            "--archive",
            "per-target",
            "--out-dir",
        ])
        .arg(multi.path())
        .env("SOURCE_DATE_EPOCH", EPOCH))
    .success();
    let per_target = multi
        .path()
        .join("linux/arm64/multi-0.3.0-aarch64-unknown-linux-musl.tar.gz.cdx.json");
    files.push(per_target.clone());
    validate_cyclonedx(&files);
    let doc = json(&per_target);
    assert_eq!(doc["metadata"]["component"]["name"], "multi");
    assert_eq!(names(&doc), ["alpha", "beta", "common"]);
    let alpha = json(
        &multi
            .path()
            .join("linux/amd64/alpha-0.3.0-x86_64-unknown-linux-musl.tar.gz.cdx.json"),
    );
    let common = alpha["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "common")
        .unwrap();
    assert_eq!(common["purl"], "pkg:cargo/common@0.3.0");
    assert!(
        common["properties"]
            .to_string()
            .contains("path+crates/common"),
        "{common}"
    );
    // cdep's own build script compiles C (no `links` key): said of the package itself.
    let doc = json(
        &cdep
            .path()
            .join("linux/amd64/cdep-0.1.0-x86_64-unknown-linux-musl.tar.gz.cdx.json"),
    );
    let root = &doc["metadata"]["component"];
    assert!(
        root["properties"]
            .to_string()
            .contains("build-dependency `cc`"),
        "{root}"
    );
    assert_eq!(
        names(&doc),
        ["cc", "find-msvc-tools", "shlex"],
        "cdep's graph is only build-time crates"
    );
}

#[test]
fn verify_expect_sbom_names_each_archive_without_one_and_checks_sbom_hashes() {
    let out = package("multi", &["--no-sbom", "--platform", "linux/amd64"]);
    assert_eq!(
        sh(out.path(), "ls linux/amd64/*.json 2>/dev/null || true"),
        ""
    );
    run(multiarch(out.path())
        .args(["verify", "--out-dir"])
        .arg(out.path()))
    .success();
    let r = run(multiarch(out.path())
        .args(["verify", "--expect-sbom", "--out-dir"])
        .arg(out.path()))
    .failure();
    let text = r.stdout();
    for a in [
        "linux/amd64/alpha-0.3.0-x86_64-unknown-linux-musl.tar.gz",
        "linux/amd64/beta-0.3.0-x86_64-unknown-linux-musl.tar.gz",
    ] {
        assert!(
            text.contains(&format!("FAILED   {a}: has no SBOM")),
            "{text}"
        );
    }

    // With SBOMs: a changed one fails verify, with or without `--expect-sbom`.
    let out = package("multi", &["--platform", "linux/amd64"]);
    let sbom = out
        .path()
        .join("linux/amd64/beta-0.3.0-x86_64-unknown-linux-musl.tar.gz.cdx.json");
    let text = std::fs::read_to_string(&sbom)
        .unwrap()
        .replace("0.3.0", "0.3.1");
    std::fs::write(&sbom, text).unwrap();
    let r = run(multiarch(out.path())
        .args(["verify", "--out-dir"])
        .arg(out.path()))
    .failure();
    assert!(
        r.stdout().contains(
            "FAILED   linux/amd64/beta-0.3.0-x86_64-unknown-linux-musl.tar.gz.cdx.json: sha256 is"
        ),
        "{}",
        r.stdout()
    );
    // An SBOM listed for another archive than the one it sits beside.
    let out = package("multi", &["--platform", "linux/amd64"]);
    edit_manifest(out.path(), |m| {
        for a in m["artifacts"].as_array_mut().unwrap() {
            if a["kind"] == "sbom" && a["package"] == "beta" {
                a["package"] = "alpha".into();
            }
        }
    });
    let r = run(multiarch(out.path())
        .args(["verify", "--out-dir"])
        .arg(out.path()))
    .failure();
    assert!(
        r.stdout().contains("beta-0.3.0-x86_64-unknown-linux-musl.tar.gz.cdx.json: the manifest lists it for another package"),
        "{}",
        r.stdout()
    );
}

#[test]
fn merge_carries_the_sboms_of_both_machines() {
    let amd = package("sbom", &["--platform", "linux/amd64"]);
    let arm = package("sbom", &["--platform", "linux/arm64"]);
    let merged = tempfile::tempdir().unwrap();
    run(multiarch(&shared_fixture("sbom"))
        .arg("merge")
        .arg(amd.path())
        .arg(arm.path())
        .arg("--out-dir")
        .arg(merged.path()))
    .success();
    for (from, p) in [(&amd, AMD), (&arm, ARM)] {
        let name = format!("{p}.cdx.json");
        assert_eq!(
            std::fs::read(merged.path().join(&name)).unwrap(),
            std::fs::read(from.path().join(&name)).unwrap()
        );
    }
    run(multiarch(merged.path())
        .args(["verify", "--expect-sbom", "--out-dir"])
        .arg(merged.path()))
    .success();
}

#[test]
fn a_build_record_without_dependency_graphs_cannot_make_an_sbom() {
    let out = package("sbom", &["--platform", "linux/amd64"]);
    let rec = out.path().join(".multiarch/x86_64-unknown-linux-musl.json");
    let mut v = json(&rec);
    v.as_object_mut().unwrap().remove("dependencies");
    std::fs::write(&rec, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    let r = run(multiarch(&shared_fixture("sbom"))
        .args([
            "package",
            "--no-build",
            "--platform",
            "linux/amd64",
            "--out-dir",
        ])
        .arg(out.path()))
    .failure();
    assert!(
        r.stderr().contains("has no dependency graph of `sbomapp`")
            && r.stderr().contains("--no-sbom"),
        "{}",
        r.stderr()
    );
    run(multiarch(&shared_fixture("sbom"))
        .args([
            "package",
            "--no-build",
            "--no-sbom",
            "--platform",
            "linux/amd64",
            "--out-dir",
        ])
        .arg(out.path()))
    .success();
}
