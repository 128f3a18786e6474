//! `make/multiarch.mk`, included by the `multi` fixture's Makefile the way a user's
//! workspace would include it.

use std::path::Path;
use std::process::Command;

use crate::support::{private_fixture, repo, require, run, shared_target_dir};

/// `make GOALS…` in `dir` with this repository's snippet and binary, cargo's target dir
/// shared with the other `multi` tests, and no variable from the caller's environment.
fn make(dir: &Path, goals: &[&str]) -> Command {
    let mut cmd = Command::new("make");
    cmd.current_dir(dir)
        .arg("--no-print-directory")
        .args(goals)
        .arg(format!(
            "MULTIARCH_MK={}",
            repo().join("make").join("multiarch.mk").display()
        ))
        .arg(format!(
            "MULTIARCH={} multiarch",
            env!("CARGO_BIN_EXE_cargo-multiarch")
        ))
        .arg(format!(
            "MULTIARCH_FLAGS=--target-dir {}",
            shared_target_dir("multi").display()
        ));
    for var in [
        "MAKEFLAGS",
        "MFLAGS",
        "MAKELEVEL",
        "CARGO",
        "OUT_DIR",
        "PLATFORMS",
        "VERIFY_FLAGS",
        "IMAGE_FLAGS",
    ]
    .iter()
    .chain(crate::support::SCRUBBED_ENV)
    {
        cmd.env_remove(var);
    }
    cmd.env("NO_COLOR", "1")
        .env("SOURCE_DATE_EPOCH", "1700000000");
    cmd
}

/// The entries of a directory, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn every_target_runs_the_documented_command_with_the_out_dir() {
    require("make");
    let (_tmp, dir) = private_fixture("multi");
    let bin = env!("CARGO_BIN_EXE_cargo-multiarch");
    let flags = format!("--target-dir {}", shared_target_dir("multi").display());
    let expected = [
        (
            "build",
            format!("build --platform linux/amd64,linux/arm64 --out-dir dist {flags}"),
        ),
        (
            "build-linux-amd64",
            format!("build --platform linux/amd64 --out-dir dist {flags}"),
        ),
        (
            "build-linux-arm64",
            format!("build --platform linux/arm64 --out-dir dist {flags}"),
        ),
        (
            "package",
            format!("package --platform linux/amd64,linux/arm64 --out-dir dist {flags}"),
        ),
        (
            "package-linux-amd64",
            format!("package --platform linux/amd64 --out-dir dist {flags}"),
        ),
        (
            "package-linux-arm64",
            format!("package --platform linux/arm64 --out-dir dist {flags}"),
        ),
        (
            "verify",
            "verify --out-dir dist --expect linux/amd64,linux/arm64".to_owned(),
        ),
        (
            "image",
            format!("image --platform linux/amd64,linux/arm64 --out-dir dist {flags}"),
        ),
    ];
    // Every target is phony: a file named like one changes nothing.
    for (goal, _) in &expected {
        std::fs::write(dir.join(goal), "").unwrap();
    }
    std::fs::write(dir.join("clean"), "").unwrap();
    for (goal, args) in expected {
        let r = run(&mut make(&dir, &["-n", goal, "OUT_DIR=dist"])).success();
        assert_eq!(
            r.stdout().trim_end(),
            format!("{bin} multiarch {args}"),
            "`make -n {goal}`"
        );
    }
    let r = run(&mut make(&dir, &["-n", "clean", "OUT_DIR=dist"])).success();
    assert_eq!(r.stdout().trim_end(), "rm -rf -- 'dist'");
    // An empty OUT_DIR must never turn `clean` into `rm -rf ''` or worse.
    let r = run(&mut make(&dir, &["-n", "clean", "OUT_DIR="])).failure();
    assert!(r.stderr().contains("OUT_DIR is empty"), "{}", r.stderr());
}

#[test]
fn goals_given_together_run_in_pipeline_order() {
    require("make");
    let (_tmp, dir) = private_fixture("multi");
    // Under -j, unordered goals would start together; the snippet orders them.
    let r = run(&mut make(
        &dir,
        &["-n", "-j4", "image", "verify", "package", "clean"],
    ))
    .success();
    // Goals already made as another's prerequisite print "Nothing to be done".
    let order: Vec<String> = r
        .stdout()
        .lines()
        .filter(|l| !l.starts_with("make:"))
        .map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            match words[..] {
                ["rm", ..] => "clean".to_owned(),
                [_, "multiarch", command, ..] => command.to_owned(),
                _ => panic!("unexpected line {l:?} in\n{}", r.stdout()),
            }
        })
        .collect();
    assert_eq!(order.len(), 4, "{}", r.stdout());
    assert_eq!(order[..2], ["clean", "package"], "{}", r.stdout());
    let mut last: Vec<&str> = order[2..].iter().map(String::as_str).collect();
    last.sort_unstable();
    assert_eq!(last, ["image", "verify"], "{}", r.stdout());
}

#[test]
fn package_image_verify_then_clean_from_a_clean_workspace() {
    require("make");
    let (_tmp, dir) = private_fixture("multi");
    let out = dir.join("out");
    assert!(!out.exists());

    let r = run(&mut make(&dir, &["package", "image", "verify"])).success();
    for f in [
        "SHA256SUMS",
        "oci/index.json",
        "oci/oci-layout",
        "manifest.json",
        "linux/amd64/bin/alpha",
        "linux/arm64/bin/alpha",
        "linux/amd64/alpha-0.3.0-x86_64-unknown-linux-musl.tar.gz",
        "linux/arm64/alpha-0.3.0-aarch64-unknown-linux-musl.tar.gz",
    ] {
        assert!(out.join(f).is_file(), "no out/{f}:\n{}", r.stderr());
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(
        manifest["platforms"],
        serde_json::json!(["linux/amd64", "linux/arm64"]),
        "one package call wrote one manifest for both platforms"
    );

    run(&mut make(&dir, &["clean"])).success();
    assert!(!out.exists(), "`make clean` left {}", out.display());
    assert!(
        dir.join("Cargo.toml").is_file(),
        "`make clean` removed too much"
    );
}

#[test]
fn build_linux_arm64_stages_only_arm64() {
    require("make");
    let (_tmp, dir) = private_fixture("multi");
    run(&mut make(&dir, &["build-linux-arm64", "OUT_DIR=dist"])).success();

    let dist = dir.join("dist");
    assert_eq!(names(&dist.join("linux")), ["arm64"]);
    assert_eq!(
        names(&dist.join("linux/arm64/bin")),
        ["alpha", "alpha-admin", "beta-server"]
    );
    assert!(
        !dist.join("manifest.json").exists(),
        "build does not package"
    );
    assert!(!dir.join("out").exists(), "OUT_DIR was not passed on");
}
