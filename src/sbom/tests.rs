use serde_json::Value;

use super::*;
use crate::sbom::graph::Kind;

fn krate(name: &str, kind: Kind, root: bool, deps: &[usize]) -> Crate {
    Crate {
        name: name.to_owned(),
        version: "1.0.0".to_owned(),
        source: Source::Registry {
            index: "https://github.com/rust-lang/crates.io-index".to_owned(),
        },
        kind,
        root,
        proc_macro: false,
        license: Some("MIT OR Apache-2.0".to_owned()),
        checksum: Some(Sha256::of(name.as_bytes())),
        links: None,
        c_code: Vec::new(),
        dependencies: deps.to_vec(),
    }
}

/// `app` 1.0.0 (a path crate) using `lib` at runtime and `cc` (with a native library) to build.
fn graph() -> Graph {
    let mut app = krate("app", Kind::Runtime, true, &[1, 2]);
    app.source = Source::Path {
        path: ".".to_owned(),
    };
    app.checksum = None;
    app.c_code = vec!["build-dependency `cc`".to_owned()];
    let mut cc = krate("cc", Kind::Build, false, &[]);
    cc.links = Some("answer".to_owned());
    Graph {
        package: "app".to_owned(),
        crates: vec![app, cc, krate("lib", Kind::Runtime, false, &[])],
    }
}

fn render_json(g: &Graph, format: Format) -> (Vec<u8>, Value) {
    let archive = RelPath::new("linux/arm64/app-1.0.0-aarch64-unknown-linux-musl.tar.gz").unwrap();
    let t = crate::testgen::known("aarch64-unknown-linux-musl");
    let target = t.name();
    let s = Subject {
        archive: &archive,
        name: "app",
        version: "1.0.0",
        target: &target,
        platform: t.platform(),
        graphs: vec![g],
        source_date: 1_700_000_000,
    };
    let bytes = render(&s, format).unwrap();
    let v = serde_json::from_slice(&bytes).unwrap();
    (bytes, v)
}

#[test]
fn cyclonedx_lists_each_crate_with_purl_hash_license_and_scope() {
    let (bytes, doc) = render_json(&graph(), Format::CycloneDx);
    assert_eq!(doc["specVersion"], "1.5");
    assert_eq!(doc["metadata"]["timestamp"], "2023-11-14T22:13:20Z");
    let root = &doc["metadata"]["component"];
    assert_eq!(
        (
            root["name"].as_str(),
            root["type"].as_str(),
            root["purl"].as_str()
        ),
        (
            Some("app"),
            Some("application"),
            Some("pkg:cargo/app@1.0.0")
        )
    );
    let comps = doc["components"].as_array().unwrap();
    let names: Vec<&str> = comps.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["cc", "answer", "lib"]);
    let cc = &comps[0];
    assert_eq!(cc["scope"], "excluded");
    assert_eq!(cc["hashes"][0]["alg"], "SHA-256");
    assert_eq!(cc["hashes"][0]["content"], Sha256::of(b"cc").as_str());
    assert_eq!(cc["licenses"][0]["expression"], "MIT OR Apache-2.0");
    assert_eq!(
        cc["externalReferences"][0]["url"],
        "https://crates.io/api/v1/crates/cc/1.0.0/download"
    );
    let native = &comps[1];
    assert_eq!(native["bom-ref"], "pkg:cargo/cc@1.0.0#links=answer");
    assert_eq!(native["scope"], "excluded");
    assert_eq!(comps[2]["scope"], "required");
    let deps = doc["dependencies"].as_array().unwrap();
    let app = deps
        .iter()
        .find(|d| d["ref"] == "pkg:cargo/app@1.0.0")
        .unwrap();
    assert_eq!(
        app["dependsOn"],
        serde_json::json!(["pkg:cargo/cc@1.0.0", "pkg:cargo/lib@1.0.0"])
    );
    let cc = deps
        .iter()
        .find(|d| d["ref"] == "pkg:cargo/cc@1.0.0")
        .unwrap();
    assert_eq!(
        cc["dependsOn"],
        serde_json::json!(["pkg:cargo/cc@1.0.0#links=answer"])
    );
    // Deterministic, with a serial number that follows the content.
    let serial = doc["serialNumber"].as_str().unwrap();
    assert!(
        serial.starts_with("urn:uuid:") && serial.as_bytes()[23] == b'5',
        "{serial}"
    );
    assert_eq!(render_json(&graph(), Format::CycloneDx).0, bytes);
    let mut other = graph();
    other.crates[2].version = "1.0.1".to_owned();
    assert_ne!(
        render_json(&other, Format::CycloneDx).1["serialNumber"],
        serial
    );
}

#[test]
fn spdx_describes_the_package_with_build_dependencies_marked() {
    let (bytes, doc) = render_json(&graph(), Format::Spdx);
    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
    assert_eq!(doc["creationInfo"]["created"], "2023-11-14T22:13:20Z");
    let rels: Vec<(String, String, String)> = doc["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["spdxElementId"].as_str().unwrap().to_owned(),
                r["relationshipType"].as_str().unwrap().to_owned(),
                r["relatedSpdxElement"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let app = "SPDXRef-Package-0-app-1.0.0";
    let cc = "SPDXRef-Package-1-cc-1.0.0";
    let lib = "SPDXRef-Package-2-lib-1.0.0";
    for want in [
        ("SPDXRef-DOCUMENT", "DESCRIBES", app),
        (cc, "BUILD_DEPENDENCY_OF", app),
        (app, "DEPENDS_ON", lib),
        (cc, "DEPENDS_ON", "SPDXRef-Native-1-answer"),
    ] {
        let want = (want.0.to_owned(), want.1.to_owned(), want.2.to_owned());
        assert!(rels.contains(&want), "{want:?} not in {rels:?}");
    }
    let pkgs = doc["packages"].as_array().unwrap();
    let lib = pkgs.iter().find(|p| p["SPDXID"] == lib).unwrap();
    assert_eq!(lib["checksums"][0]["algorithm"], "SHA256");
    assert_eq!(lib["licenseDeclared"], "MIT OR Apache-2.0");
    assert_eq!(
        lib["externalRefs"][0]["referenceLocator"],
        "pkg:cargo/lib@1.0.0"
    );
    assert_eq!(render_json(&graph(), Format::Spdx).0, bytes);
}

#[test]
fn a_per_target_archive_describes_every_package_in_it() {
    let g = graph();
    let mut other = graph();
    other.package = "zed".to_owned();
    other.crates[0].name = "zed".to_owned();
    let archive = RelPath::new("linux/amd64/ws-2.0.0-x86_64-unknown-linux-musl.tar.gz").unwrap();
    let t = crate::testgen::known("x86_64-unknown-linux-musl");
    let target = t.name();
    let s = Subject {
        archive: &archive,
        name: "ws",
        version: "2.0.0",
        target: &target,
        platform: t.platform(),
        graphs: vec![&g, &other],
        source_date: 0,
    };
    let doc: Value = serde_json::from_slice(&render(&s, Format::CycloneDx).unwrap()).unwrap();
    let root = &doc["metadata"]["component"];
    assert_eq!(
        (root["name"].as_str(), root["version"].as_str()),
        (Some("ws"), Some("2.0.0"))
    );
    let deps = doc["dependencies"].as_array().unwrap();
    let top = deps
        .iter()
        .find(|d| d["ref"] == format!("archive:{}", archive.file_name()))
        .unwrap();
    assert_eq!(
        top["dependsOn"],
        serde_json::json!(["pkg:cargo/app@1.0.0", "pkg:cargo/zed@1.0.0"])
    );
    let doc: Value = serde_json::from_slice(&render(&s, Format::Spdx).unwrap()).unwrap();
    assert_eq!(doc["packages"][0]["SPDXID"], "SPDXRef-Archive");
}

#[test]
fn purls_names_and_expressions() {
    let mut c = krate("foo_bar", Kind::Runtime, false, &[]);
    c.version = "1.0.0+build.1".to_owned();
    assert_eq!(purl(&c), "pkg:cargo/foo_bar@1.0.0%2Bbuild.1");
    c.source = Source::Git {
        url: "https://example.com/x.git".to_owned(),
        rev: "abc".to_owned(),
    };
    assert_eq!(
        purl(&c),
        "pkg:cargo/foo_bar@1.0.0%2Bbuild.1?vcs_url=git%2Bhttps://example.com/x.git%40abc"
    );
    c.source = Source::Registry {
        index: "sparse+https://r.example/i/".to_owned(),
    };
    assert!(purl(&c).ends_with("?repository_url=sparse%2Bhttps://r.example/i/"));
    for ok in [
        "MIT",
        "MIT OR Apache-2.0",
        "(MIT OR Apache-2.0) AND BSD-3-Clause",
        "GPL-2.0+ WITH Classpath-exception-2.0",
        "LicenseRef-x",
    ] {
        assert!(is_spdx_expression(ok), "{ok}");
    }
    for bad in [
        "",
        "MIT OR",
        "MIT Apache-2.0",
        "(MIT",
        "MIT)",
        "Apache 2",
        "MIT, Apache-2.0",
    ] {
        assert!(!is_spdx_expression(bad), "{bad}");
    }
    let zip = RelPath::new("windows/amd64/app-1.0.0-x86_64-pc-windows-gnu.zip").unwrap();
    assert_eq!(
        path(&zip, Format::CycloneDx).as_str(),
        "windows/amd64/app-1.0.0-x86_64-pc-windows-gnu.zip.cdx.json"
    );
    assert_eq!(
        path(&zip, Format::Spdx).as_str(),
        "windows/amd64/app-1.0.0-x86_64-pc-windows-gnu.zip.spdx.json"
    );
}

const ARCHIVE: &str = "app-1.0.0-aarch64-unknown-linux-musl.tar.gz";

#[test]
fn what_package_writes_reads_back_as_the_graph_in_both_formats() {
    let g = graph();
    let crates = graph::union(&[&g]);
    for format in [Format::CycloneDx, Format::Spdx] {
        let (bytes, _) = render_json(&g, format);
        let d = read::parse(&bytes, format).unwrap();
        assert_eq!(d.archive, ARCHIVE, "{format:?}");
        assert_eq!(d.crates.len(), 3, "{format:?}: {d:?}");
        assert!(d.natives.contains("answer"), "{format:?}");
        let cc = d.crates.iter().find(|c| c.name == "cc").unwrap();
        assert!(!cc.runtime, "{format:?}: cc is build-time only");
        assert_eq!(cc.source, "crates.io");
        let problems = read::compare(&d, ARCHIVE, "aarch64-unknown-linux-musl", &crates);
        assert!(problems.is_empty(), "{format:?}: {problems:?}");
        // Another archive's name, or (for CycloneDX) another target, is said.
        let problems = read::compare(&d, "other.tar.gz", "x86_64-unknown-linux-musl", &crates);
        assert!(problems[0].contains("not `other.tar.gz`"), "{problems:?}");
        if format == Format::CycloneDx {
            assert!(problems[1].contains("not `x86_64-unknown-linux-musl`"));
        }
    }
}

#[test]
fn an_sbom_of_other_crates_is_told_from_the_graph() {
    let g = graph();
    let crates = graph::union(&[&g]);
    let mut other = graph();
    other.crates[2].name = "evil".to_owned();
    other.crates[2].checksum = Some(Sha256::of(b"evil"));
    other.crates[1].kind = Kind::Runtime;
    other.crates[1].links = None;
    for format in [Format::CycloneDx, Format::Spdx] {
        let (bytes, _) = render_json(&other, format);
        let d = read::parse(&bytes, format).unwrap();
        let problems = read::compare(&d, ARCHIVE, "aarch64-unknown-linux-musl", &crates);
        let all = problems.join("\n");
        assert!(
            all.contains("it lists, but the build record does not have, `evil` 1.0.0"),
            "{format:?}: {all}"
        );
        assert!(
            all.contains("it leaves out, though the build record has, `lib` 1.0.0"),
            "{format:?}: {all}"
        );
        // `cc` marked as shipped at runtime: another crate than the graph's build-time one.
        assert!(
            all.contains("`cc` 1.0.0 (runtime, from crates.io)"),
            "{format:?}: {all}"
        );
        assert!(
            all.contains("it leaves out native library `answer`"),
            "{format:?}: {all}"
        );
    }
}

#[test]
fn sboms_of_another_shape_are_errors_not_matches() {
    for (bytes, format) in [
        (&b"[]"[..], Format::CycloneDx),
        (br#"{"bomFormat":"CycloneDX","specVersion":"1.4","metadata":{"component":{"name":"x"}}}"#, Format::CycloneDx),
        (br#"{"bomFormat":"CycloneDX","specVersion":"1.5","metadata":{"component":{"name":"x"},"properties":[{"name":"cargo-multiarch:archive","value":"a"}]},"components":[{"name":"y"}]}"#, Format::CycloneDx),
        (br#"{"spdxVersion":"SPDX-2.2","name":"a","packages":[]}"#, Format::Spdx),
        (br#"{"spdxVersion":"SPDX-2.3","name":"a","packages":[{"SPDXID":"p","name":"y"}]}"#, Format::Spdx),
    ] {
        assert!(
            read::parse(bytes, format).is_err(),
            "{}",
            String::from_utf8_lossy(bytes)
        );
    }
}
