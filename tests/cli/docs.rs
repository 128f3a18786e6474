//! The CI workflow and Dockerfile in docs/ are examples users copy: they must keep
//! matching the commands and the out tree the tool really has.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::{multiarch, repo, require, run, shared_fixture, shared_target_dir};

const PLATFORMS: [&str; 2] = ["linux/amd64", "linux/arm64"];

/// A YAML file as JSON, read with `python3` and its `yaml` module.
fn yaml(path: &Path) -> Value {
    let r = run(Command::new("python3")
        .arg("-c")
        .arg("import yaml,json,sys; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)")
        .arg(path))
    .success();
    serde_json::from_str(&r.stdout()).unwrap()
}

fn steps(job: &Value) -> &[Value] {
    job["steps"].as_array().expect("a job with steps")
}

fn run_line(step: &Value) -> &str {
    step["run"].as_str().unwrap_or_default()
}

fn uses(step: &Value) -> &str {
    step["uses"].as_str().unwrap_or_default()
}

/// Index of the first step whose `run` contains `needle`.
fn step_running(steps: &[Value], needle: &str) -> usize {
    steps
        .iter()
        .position(|s| run_line(s).contains(needle))
        .unwrap_or_else(|| panic!("no step runs `{needle}`"))
}

#[test]
fn workflow_builds_natively_per_arch_then_merges_and_verifies_before_publishing() {
    require("python3");
    let wf = yaml(&repo().join("docs/ci/github-actions.yml"));
    // PyYAML reads the bare key `on` as the boolean true.
    let triggers = wf.get("on").or_else(|| wf.get("true"));
    assert!(triggers.is_some(), "no triggers: {wf}");
    // The action at the tag of this version: its release asset is this version's.
    let action = format!(
        "cargo-multiarch/cargo-multiarch@v{}",
        env!("CARGO_PKG_VERSION")
    );

    // package: one native runner per platform (tests/cli/workflow.rs runs both here).
    let package = &wf["jobs"]["package"];
    assert_eq!(package["runs-on"], "${{ matrix.runner }}");
    let include = package["strategy"]["matrix"]["include"]
        .as_array()
        .expect("a matrix include list");
    let pairs: Vec<(&str, &str)> = include
        .iter()
        .map(|m| {
            (
                m["platform"].as_str().unwrap(),
                m["runner"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        [
            ("linux/amd64", "ubuntu-latest"),
            ("linux/arm64", "ubuntu-24.04-arm")
        ]
    );
    let slugs: Vec<&str> = include
        .iter()
        .map(|m| m["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["linux-amd64", "linux-arm64"]);

    let ps = steps(package);
    assert!(uses(&ps[0]).starts_with("actions/checkout@"));
    let setup = ps
        .iter()
        .position(|s| uses(s) == action)
        .unwrap_or_else(|| panic!("package does not use {action}"));
    assert_eq!(ps[setup]["with"]["platforms"], "${{ matrix.platform }}");
    let pkg = step_running(
        ps,
        "cargo multiarch package --locked --platform ${{ matrix.platform }} --out-dir out",
    );
    assert!(setup < pkg);
    let upload = ps
        .iter()
        .position(|s| uses(s) == "actions/upload-artifact@v4")
        .expect("package uploads its out tree");
    assert!(pkg < upload);
    let name = ps[upload]["with"]["name"].as_str().unwrap();
    assert!(name.contains("${{ matrix.slug }}"), "artifact {name}");

    // merge: after both, joins, checks both platforms, then publishes.
    let merge = &wf["jobs"]["merge"];
    let needs = &merge["needs"];
    assert!(
        needs == "package"
            || needs
                .as_array()
                .is_some_and(|n| n.contains(&"package".into())),
        "merge needs {needs}"
    );
    let ms = steps(merge);
    let tool = ms
        .iter()
        .position(|s| uses(s) == action)
        .unwrap_or_else(|| panic!("merge does not use {action}"));
    assert_eq!(
        ms[tool]["with"]["tool-only"], true,
        "merge builds nothing: it needs only the tool"
    );
    let download = ms
        .iter()
        .position(|s| uses(s) == "actions/download-artifact@v4")
        .expect("merge downloads the per-arch out trees");
    let with = &ms[download]["with"];
    assert!(with["pattern"].is_string(), "download by pattern: {with}");
    assert_ne!(
        with["merge-multiple"], true,
        "each artifact needs its own directory"
    );
    let merged = step_running(ms, "cargo multiarch merge");
    assert!(run_line(&ms[merged]).contains("--out-dir out"));
    let verify = step_running(
        ms,
        "cargo multiarch verify --out-dir out --expect linux/amd64,linux/arm64",
    );
    let image = step_running(ms, "cargo multiarch image ");
    assert!(download < merged && merged < verify && verify < image);
    let publishing: Vec<usize> = ms
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            uses(s).starts_with("actions/upload-artifact")
                || run_line(s).contains("gh release")
                || run_line(s).contains("--push")
        })
        .map(|(i, _)| i)
        .collect();
    assert!(publishing.len() >= 3, "merge publishes too little");
    assert!(
        publishing.iter().all(|&i| i > image),
        "a publish step comes before the image is assembled and verified"
    );
    // Signs (the key from a secret, written to a private file) and attests after
    // verify, before anything is published; the release carries the provenance and
    // the signatures.
    let sign = step_running(ms, "cargo multiarch sign --key");
    assert!(image < sign && publishing.iter().all(|&i| i > sign));
    assert!(run_line(&ms[sign]).contains("umask 077"));
    let env = &ms[sign]["env"];
    assert_eq!(env["MINISIGN_KEY"], "${{ secrets.MINISIGN_KEY }}");
    assert_eq!(
        env["CARGO_MULTIARCH_SIGN_PASSWORD"],
        "${{ secrets.MINISIGN_PASSWORD }}"
    );
    let attest = ms
        .iter()
        .position(|s| uses(s).starts_with("actions/attest-build-provenance@"))
        .expect("merge attests the archives");
    assert!(verify < attest && publishing.iter().all(|&i| i > attest));
    assert_eq!(merge["permissions"]["id-token"], "write");
    assert_eq!(merge["permissions"]["attestations"], "write");
    let release = step_running(ms, "gh release");
    for file in ["out/provenance.intoto.json", "out/*.minisig"] {
        assert!(
            run_line(&ms[release]).contains(file),
            "the release lacks {file}"
        );
    }
    for needle in ["gh release", "--push"] {
        let step = &ms[step_running(ms, needle)];
        assert!(
            step["if"]
                .as_str()
                .is_some_and(|c| c.contains("refs/tags/")),
            "`{needle}` is not gated on tags"
        );
    }
}

#[test]
fn action_pins_the_zig_that_scripts_setup_installs() {
    require("python3");
    let action = yaml(&repo().join("action.yml"));
    assert_eq!(action["runs"]["using"], "composite");
    let pinned = action["inputs"]["zig-version"]["default"]
        .as_str()
        .expect("a zig-version default");
    let setup = std::fs::read_to_string(repo().join("scripts/setup")).unwrap();
    assert!(
        setup.lines().any(|l| l == format!("zig_version={pinned}")),
        "scripts/setup does not install ziglang {pinned}, the action's pin"
    );
}

/// `COPY` sources of a Dockerfile (shell form, flags skipped).
fn copy_sources(dockerfile: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in dockerfile.lines().map(str::trim) {
        let mut words = line.split_whitespace();
        if !words.next().is_some_and(|w| w.eq_ignore_ascii_case("COPY")) {
            continue;
        }
        let args: Vec<&str> = words.filter(|w| !w.starts_with("--")).collect();
        assert!(args.len() >= 2, "COPY without a destination: {line}");
        out.extend(args[..args.len() - 1].iter().map(|s| (*s).to_owned()));
    }
    out
}

#[test]
fn dockerfile_copies_what_package_writes_for_every_platform() {
    let dockerfile = std::fs::read_to_string(repo().join("docs/docker/Dockerfile")).unwrap();
    let lines: Vec<&str> = dockerfile
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert_eq!(
        lines.first(),
        Some(&"FROM scratch"),
        "one stage from scratch"
    );
    let arg = lines.iter().position(|l| *l == "ARG TARGETPLATFORM");
    let copy = lines.iter().position(|l| l.starts_with("COPY "));
    assert!(
        arg.is_some() && arg < copy,
        "ARG TARGETPLATFORM must come (after FROM) before COPY uses it"
    );
    let sources = copy_sources(&dockerfile);
    assert!(
        !sources.is_empty()
            && sources
                .iter()
                .all(|s| s.starts_with("out/${TARGETPLATFORM}/")),
        "{sources:?}"
    );

    let dir = shared_fixture("multi");
    let out = tempfile::tempdir().unwrap();
    run(multiarch(&dir)
        .arg("package")
        .arg("--platform")
        .arg(PLATFORMS.join(","))
        .arg("--out-dir")
        .arg(out.path())
        .arg("--target-dir")
        .arg(shared_target_dir("multi")))
    .success();
    for platform in PLATFORMS {
        for src in &sources {
            let rel = src
                .replace("${TARGETPLATFORM}", platform)
                .strip_prefix("out/")
                .unwrap()
                .to_owned();
            let path = out.path().join(&rel);
            let meta = std::fs::metadata(&path)
                .unwrap_or_else(|e| panic!("{platform}: COPY {src}: out/{rel}: {e}"));
            assert!(meta.is_file(), "{platform}: out/{rel} is not a file");
            assert!(
                meta.permissions().mode() & 0o111 != 0,
                "{platform}: out/{rel} is not executable"
            );
        }
    }
}
