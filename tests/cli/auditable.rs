//! `--auditable`: each binary carries its dependency list as `cargo auditable` writes
//! it, read back by a third-party ELF reader and by cargo-auditable's own
//! `rust-audit-info`, equal to its SBOM's crate list, per package, reproducibly.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::{
    EPOCH, SBOMAPP_AMD as AMD, SBOMAPP_ARM as ARM, json, multiarch, package, require,
    require_python, run, shared_fixture, shared_target_dir,
};

/// The `.dep-v0` section of an ELF binary, read by pyelftools and inflated by zlib:
/// cargo-auditable's own recipe (its PARSING.md), with a third-party ELF reader.
fn dep_v0(binary: &Path) -> Value {
    require_python("elftools");
    let script = "import sys, zlib\nfrom elftools.elf.elffile import ELFFile\ns = ELFFile(open(sys.argv[1], 'rb')).get_section_by_name('.dep-v0')\nsys.stdout.write('null' if s is None else zlib.decompress(s.data()).decode())\n";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(binary)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// (name, version, kind) of each crate an SBOM lists (its native libraries aside).
fn sbom_crates(doc: &Value) -> BTreeSet<(String, String, String)> {
    let root = &doc["metadata"]["component"];
    doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .chain([root])
        .filter(|c| c.get("purl").is_some())
        .map(|c| {
            let kind = if c["scope"] == "excluded" {
                "build"
            } else {
                "runtime"
            };
            (
                c["name"].as_str().unwrap().to_owned(),
                c["version"].as_str().unwrap().to_owned(),
                kind.to_owned(),
            )
        })
        .collect()
}

/// (name, version, kind) of each package of cargo-auditable's JSON.
fn audit_crates(info: &Value) -> BTreeSet<(String, String, String)> {
    info["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["version"].as_str().unwrap().to_owned(),
                p["kind"].as_str().unwrap_or("runtime").to_owned(),
            )
        })
        .collect()
}

#[test]
fn auditable_binaries_carry_their_sbom_s_crate_list_and_stay_reproducible() {
    let out = package("sbom", &["--auditable"]);
    for (archive, bin) in [
        (AMD, "linux/amd64/bin/sbomapp"),
        (ARM, "linux/arm64/bin/sbomapp"),
    ] {
        let binary = out.path().join(bin);
        let sbom = json(&out.path().join(format!("{archive}.cdx.json")));
        let want = sbom_crates(&sbom);
        assert!(want.contains(&("muslonly".into(), "0.1.0".into(), "runtime".into())));
        assert!(want.contains(&("cc".into(), "1.11.3".into(), "build".into())));
        let info = dep_v0(&binary);
        assert_eq!(info["format"], 1);
        assert_eq!(audit_crates(&info), want, "{bin}");
        let roots: Vec<&Value> = info["packages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["root"] == true)
            .collect();
        assert_eq!(roots.len(), 1);
        assert_eq!(roots[0]["name"], "sbomapp");
        // cargo-auditable's own reader (which also checks one root and no cycle).
        require("rust-audit-info");
        let r = run(Command::new("rust-audit-info").arg(&binary)).success();
        let info: Value = serde_json::from_str(&r.stdout()).unwrap();
        assert_eq!(audit_crates(&info), want, "{bin}");
    }
    // They still run.
    let text = run(&mut Command::new(
        out.path().join("linux/amd64/bin/sbomapp"),
    ))
    .success();
    assert_eq!(text.stdout(), "sbomapp 0.2.0 musl 42\n");
    let qemu = crate::support::qemu_aarch64();
    let text = run(Command::new(qemu).arg(out.path().join("linux/arm64/bin/sbomapp"))).success();
    assert_eq!(text.stdout(), "sbomapp 0.2.0 musl 42\n");
    // Without `--auditable`, no section.
    let plain = package("sbom", &["--platform", "linux/amd64"]);
    let info = dep_v0(&plain.path().join("linux/amd64/bin/sbomapp"));
    assert_eq!(info, Value::Null);
    // The same bytes from another target dir (another machine's paths) and another
    // selection of targets.
    let other = tempfile::tempdir().unwrap();
    run(multiarch(&shared_fixture("sbom"))
        .args([
            "package",
            "--auditable",
            "--platform",
            "linux/amd64",
            "--out-dir",
        ])
        .arg(other.path())
        .arg("--target-dir")
        .arg(shared_target_dir("sbom-auditable-elsewhere"))
        .env("SOURCE_DATE_EPOCH", EPOCH))
    .success();
    assert_eq!(
        std::fs::read(other.path().join("linux/amd64/bin/sbomapp")).unwrap(),
        std::fs::read(out.path().join("linux/amd64/bin/sbomapp")).unwrap()
    );
}

#[test]
fn each_package_s_binaries_carry_their_own_list() {
    let out = package("multi", &["--auditable", "--platform", "linux/arm64"]);
    let alpha = dep_v0(&out.path().join("linux/arm64/bin/alpha"));
    let beta = dep_v0(&out.path().join("linux/arm64/bin/beta-server"));
    let names =
        |v: &Value| -> Vec<String> { audit_crates(v).into_iter().map(|(n, _, _)| n).collect() };
    assert_eq!(names(&alpha), ["alpha", "common"]);
    assert_eq!(names(&beta), ["beta"]);
}

#[test]
fn auditable_refuses_a_workspace_wrapper_it_would_replace() {
    let out = tempfile::tempdir().unwrap();
    let r = run(multiarch(&shared_fixture("multi"))
        .args([
            "build",
            "--auditable",
            "--platform",
            "linux/amd64",
            "--out-dir",
        ])
        .arg(out.path())
        .env("RUSTC_WORKSPACE_WRAPPER", "/usr/bin/env"))
    .failure();
    assert!(
        r.stderr().contains("rustc workspace wrapper") && r.stderr().contains("hint:"),
        "{}",
        r.stderr()
    );
}
