//! `--message-format json` (every line of every command validated against
//! `schema/event-v1.schema.json` with Python's `jsonschema`), the GitHub step summary,
//! and the progress bars drawn on a terminal (a pty from util-linux `script`).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::{
    EPOCH, Registry, build, multiarch, repo, require, require_python, run, shared_fixture,
    shared_target_dir,
};

/// Every line of `stdout` is one JSON object that validates against the event schema;
/// returns them.
#[track_caller]
pub(crate) fn events(stdout: &str) -> Vec<Value> {
    require_python("jsonschema");
    assert!(
        stdout.ends_with('\n'),
        "stdout does not end a line: {stdout:?}"
    );
    let tmp = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(tmp.path(), stdout).unwrap();
    let script = "import json, sys, jsonschema\n\
        v = jsonschema.Draft202012Validator(json.load(open(sys.argv[1])))\n\
        for n, line in enumerate(open(sys.argv[2]), 1):\n\
        \x20   try:\n\
        \x20       v.validate(json.loads(line))\n\
        \x20   except Exception as e:\n\
        \x20       sys.exit(f'line {n} does not validate: {e}\\n{line}')\n";
    let r = run(Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(repo().join("schema/event-v1.schema.json"))
        .arg(tmp.path()));
    assert!(r.out.status.success(), "{}", r.stderr());
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn of<'a>(events: &'a [Value], reason: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["reason"] == reason).collect()
}

/// `started` first and `finished` last, for `command`, with `success`.
#[track_caller]
fn bracketed(events: &[Value], command: &str, success: bool) {
    let (first, last) = (&events[0], events.last().unwrap());
    assert_eq!(first["reason"], "started", "{first}");
    assert_eq!(first["command"], command);
    assert_eq!(first["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(last["reason"], "finished", "{last}");
    assert_eq!(last["command"], command);
    assert_eq!(last["success"], success, "{last}");
    assert_eq!(of(events, "started").len(), 1);
    assert_eq!(of(events, "finished").len(), 1);
}

/// `SHA256SUMS` as path → sha256.
fn sums(out: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(out.join("SHA256SUMS"))
        .unwrap()
        .lines()
        .map(|l| {
            let (hash, path) = l.split_once("  ").unwrap();
            (path.to_owned(), hash.to_owned())
        })
        .collect()
}

/// `package` of `multi` (shared fixture and target dir) into a fresh out dir.
fn package(extra: &[&str], summary: Option<&Path>) -> (tempfile::TempDir, crate::support::Run) {
    let out = tempfile::tempdir().unwrap();
    let mut cmd = multiarch(&shared_fixture("multi"));
    cmd.arg("package")
        .arg("--out-dir")
        .arg(out.path())
        .arg("--target-dir")
        .arg(shared_target_dir("multi"))
        .args(extra)
        .env("SOURCE_DATE_EPOCH", EPOCH);
    if let Some(s) = summary {
        cmd.env("GITHUB_STEP_SUMMARY", s);
    }
    let r = run(&mut cmd).success();
    (out, r)
}

#[test]
fn package_reports_each_binary_and_archive_with_the_hashes_of_sha256sums_and_a_step_summary() {
    let summary = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(summary.path(), "# earlier step\n").unwrap();
    let (out, r) = package(&["--message-format", "json"], Some(summary.path()));
    let ev = events(&r.stdout());
    bracketed(&ev, "package", true);
    let sums = sums(out.path());
    // 6 binaries, 4 archives, their 4 SBOMs and the provenance.
    assert_eq!(sums.len(), 15);
    let root = out.path().canonicalize().unwrap();

    let building = of(&ev, "building");
    let platforms: Vec<&str> = building
        .iter()
        .map(|e| e["platform"].as_str().unwrap())
        .collect();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64"]);
    let artifacts = of(&ev, "artifact");
    let packaged = of(&ev, "packaged");
    assert_eq!(artifacts.len(), 6, "{artifacts:?}");
    assert_eq!(packaged.len(), 9, "{packaged:?}");
    for e in artifacts.iter().chain(&packaged) {
        let path = e["path"].as_str().unwrap();
        assert_eq!(e["sha256"], sums[path], "{e}");
        assert_eq!(
            e["size"],
            std::fs::metadata(out.path().join(path)).unwrap().len(),
            "{e}"
        );
        assert_eq!(e["out_dir"], root.to_str().unwrap());
        if path == "provenance.intoto.json" {
            // About every target: no one backend, written once at the end.
            assert!(e["backend"].is_null() && e["kind"] == "provenance", "{e}");
            continue;
        }
        assert_eq!(e["backend"], "cargo", "{e}");
        assert!(e["elapsed_ms"].is_u64(), "{e}");
    }
    let alpha = artifacts
        .iter()
        .find(|e| e["path"] == "linux/arm64/bin/alpha")
        .unwrap();
    assert_eq!(alpha["binary"], "alpha");
    assert_eq!(alpha["target"], "aarch64-unknown-linux-musl");
    let archive = packaged
        .iter()
        .find(|e| e["path"] == "linux/arm64/alpha-0.3.0-aarch64-unknown-linux-musl.tar.gz")
        .unwrap();
    assert_eq!(
        archive["binaries"],
        serde_json::json!(["alpha", "alpha-admin"])
    );
    let manifest = of(&ev, "manifest");
    assert_eq!(manifest.len(), 1);
    assert_eq!(manifest[0]["artifacts"], 15);
    // Human lines stay on stderr, without bars off a terminal.
    let err = r.stderr();
    assert!(err.contains("    Packaged "), "{err}");
    assert!(!err.contains("Building ["), "{err}");

    // The step summary: appended after what was there, a row per file.
    let text = std::fs::read_to_string(summary.path()).unwrap();
    assert!(
        text.starts_with("# earlier step\n### `cargo multiarch package` ✅ succeeded in "),
        "{text}"
    );
    assert!(
        text.contains("| Platform | Binary | File | Size | SHA-256 | Backend | Time |"),
        "{text}"
    );
    for (path, hash) in &sums {
        let row = text
            .lines()
            .find(|l| l.contains(&format!("| `{path}` |")))
            .unwrap_or_else(|| panic!("no row for {path}:\n{text}"));
        if path == "provenance.intoto.json" {
            assert!(row.contains(&format!("| `{hash}` |")), "{row}");
            continue;
        }
        assert!(row.contains(&format!("| `{hash}` | cargo |")), "{row}");
        assert!(row.ends_with(" s |"), "{row}");
    }
    assert!(
        text.contains("| linux/arm64 | alpha, alpha-admin | `linux/arm64/alpha-0.3.0-aarch64-unknown-linux-musl.tar.gz` |"),
        "{text}"
    );

    // `--no-build`: the staged binaries, with no time of this run.
    let r = run(multiarch(&shared_fixture("multi"))
        .args([
            "package",
            "--no-build",
            "--message-format",
            "json",
            "--out-dir",
        ])
        .arg(out.path())
        .env("SOURCE_DATE_EPOCH", EPOCH))
    .success();
    let ev = events(&r.stdout());
    assert!(of(&ev, "building").is_empty());
    let artifacts = of(&ev, "artifact");
    assert_eq!(artifacts.len(), 6);
    assert!(artifacts.iter().all(|e| e["elapsed_ms"].is_null()));
    assert_eq!(of(&ev, "packaged").len(), 9);
}

#[test]
fn build_reports_targets_and_artifacts_and_a_failure_ends_with_its_error() {
    let dir = shared_fixture("multi");
    let out = tempfile::tempdir().unwrap();
    // A directory cannot take the summary: a warning (and its event), not a failure.
    let not_a_file = tempfile::tempdir().unwrap();
    let r = run(multiarch(&dir)
        .args([
            "build",
            "--platform",
            "linux/arm64",
            "--message-format",
            "json",
        ])
        .arg("--out-dir")
        .arg(out.path())
        .arg("--target-dir")
        .arg(shared_target_dir("multi"))
        .env("GITHUB_STEP_SUMMARY", not_a_file.path()))
    .success();
    assert!(
        r.stderr()
            .contains("warning: could not append the step summary to `"),
        "{}",
        r.stderr()
    );
    let ev = events(&r.stdout());
    bracketed(&ev, "build", true);
    let building = of(&ev, "building");
    assert_eq!(building.len(), 1);
    assert_eq!(building[0]["target"], "aarch64-unknown-linux-musl");
    assert_eq!(building[0]["backend"], "cargo");
    assert_eq!(building[0]["toolchain"], "cargo + rust-lld");
    let mut bins: Vec<&str> = of(&ev, "artifact")
        .iter()
        .map(|e| e["binary"].as_str().unwrap())
        .collect();
    bins.sort_unstable();
    assert_eq!(bins, ["alpha", "alpha-admin", "beta-server"]);
    let warning = of(&ev, "problem");
    assert_eq!(warning.len(), 1, "{warning:?}");
    assert_eq!(warning[0]["severity"], "warning");
    assert!(
        std::fs::read_dir(not_a_file.path())
            .unwrap()
            .next()
            .is_none()
    );

    // A run that fails before building: stdout still holds only events, the last one
    // says why.
    let r = run(multiarch(&dir)
        .args(["build", "--bin", "no-such-bin", "--message-format", "json"])
        .arg("--out-dir")
        .arg(out.path()))
    .failure();
    let ev = events(&r.stdout());
    bracketed(&ev, "build", false);
    let error = ev.last().unwrap()["error"].as_str().unwrap();
    assert!(error.contains("no-such-bin"), "{error}");
    assert!(r.stderr().contains("error: "), "{}", r.stderr());
}

#[test]
fn verify_reports_every_artifact_and_a_tampered_tree_fails_with_problems() {
    let (out, _) = package(&[], None);
    let summary = tempfile::NamedTempFile::new().unwrap();
    let verify = |summary: Option<&Path>| {
        let mut cmd = multiarch(out.path());
        cmd.args(["verify", "--message-format", "json", "--out-dir"])
            .arg(out.path());
        if let Some(s) = summary {
            cmd.env("GITHUB_STEP_SUMMARY", s);
        }
        run(&mut cmd)
    };
    let r = verify(None).success();
    let ev = events(&r.stdout());
    bracketed(&ev, "verify", true);
    let sums = sums(out.path());
    let verified = of(&ev, "verified");
    assert_eq!(verified.len(), 15);
    for e in &verified {
        assert_eq!(e["sha256"], sums[e["path"].as_str().unwrap()], "{e}");
    }
    assert!(of(&ev, "problem").is_empty());

    // One byte more in a binary.
    let alpha = out.path().join("linux/amd64/bin/alpha");
    let mut bytes = std::fs::read(&alpha).unwrap();
    bytes.push(0);
    std::fs::write(&alpha, bytes).unwrap();
    let r = verify(Some(summary.path())).failure();
    let ev = events(&r.stdout());
    bracketed(&ev, "verify", false);
    let problems = of(&ev, "problem");
    assert!(!problems.is_empty());
    assert!(problems.iter().all(|p| p["severity"] == "error"));
    assert!(
        problems.iter().any(|p| p["message"]
            .as_str()
            .unwrap()
            .starts_with("linux/amd64/bin/alpha: sha256 is ")),
        "{problems:?}"
    );
    let verified = of(&ev, "verified");
    assert_eq!(verified.len(), 14);
    assert!(
        verified
            .iter()
            .all(|e| e["path"] != "linux/amd64/bin/alpha")
    );
    assert!(
        ev.last().unwrap()["error"]
            .as_str()
            .unwrap()
            .contains("failed verification"),
        "{ev:?}"
    );
    // The human lines went to stderr.
    assert!(
        r.stderr()
            .contains("FAILED   linux/amd64/bin/alpha: sha256 is "),
        "{}",
        r.stderr()
    );
    let text = std::fs::read_to_string(summary.path()).unwrap();
    assert!(
        text.starts_with("### `cargo multiarch verify` ❌ failed in "),
        "{text}"
    );
    assert!(
        text.contains("- **error**: linux/amd64/bin/alpha: sha256 is "),
        "{text}"
    );
}

#[test]
fn merge_and_image_report_the_joined_set_and_each_image_digest() {
    let (amd, _) = package(&["--platform", "linux/amd64"], None);
    let (arm, _) = package(&["--platform", "linux/arm64"], None);
    let merged = tempfile::tempdir().unwrap();
    let summary = tempfile::NamedTempFile::new().unwrap();
    let dir = shared_fixture("multi");
    let r = run(multiarch(&dir)
        .arg("merge")
        .arg(amd.path())
        .arg(arm.path())
        .arg("--out-dir")
        .arg(merged.path())
        .args(["--message-format", "json"])
        .env("GITHUB_STEP_SUMMARY", summary.path()))
    .success();
    let ev = events(&r.stdout());
    bracketed(&ev, "merge", true);
    let m = of(&ev, "merged");
    assert_eq!(m.len(), 1);
    assert_eq!(
        m[0]["platforms"],
        serde_json::json!(["linux/amd64", "linux/arm64"])
    );
    assert_eq!(m[0]["artifacts"], 15);
    let sums = sums(merged.path());
    let mut files = of(&ev, "artifact");
    files.extend(of(&ev, "packaged"));
    assert_eq!(files.len(), 10);
    for e in files {
        assert_eq!(e["sha256"], sums[e["path"].as_str().unwrap()], "{e}");
        assert_eq!(e["backend"], "cargo", "{e}");
    }
    let text = std::fs::read_to_string(summary.path()).unwrap();
    assert!(
        text.starts_with("### `cargo multiarch merge` ✅ succeeded"),
        "{text}"
    );
    assert_eq!(text.matches(" | cargo | — |").count(), 10, "{text}");

    // `image` on the merged tree: the digests in events, nothing else on stdout.
    let summary = tempfile::NamedTempFile::new().unwrap();
    let r = run(multiarch(&dir)
        .args([
            "image",
            "--message-format",
            "json",
            "--archive",
            "--out-dir",
        ])
        .arg(merged.path())
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .env("GITHUB_STEP_SUMMARY", summary.path()))
    .success();
    let ev = events(&r.stdout());
    bracketed(&ev, "image", true);
    let index: Value =
        serde_json::from_slice(&std::fs::read(merged.path().join("oci/index.json")).unwrap())
            .unwrap();
    let listed: BTreeMap<String, String> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["annotations"]["org.opencontainers.image.ref.name"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                d["digest"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let images = of(&ev, "image");
    assert_eq!(images.len(), 3);
    for i in &images {
        assert_eq!(i["digest"], listed[i["reference"].as_str().unwrap()], "{i}");
        let platforms: Vec<&str> = i["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["platform"].as_str().unwrap())
            .collect();
        assert_eq!(platforms, ["linux/amd64", "linux/arm64"]);
    }
    let archive = of(&ev, "image-archive");
    assert_eq!(archive.len(), 1);
    assert_eq!(archive[0]["path"], "image.tar");
    // In human mode the digest lines are stdout's; here they went to stderr.
    assert!(r.stderr().contains("alpha:0.3.0@sha256:"), "{}", r.stderr());
    assert_eq!(of(&ev, "artifact").len(), 6, "the binaries the images hold");
    let text = std::fs::read_to_string(summary.path()).unwrap();
    assert!(text.contains("| Image | Digest | Platforms |"), "{text}");
    assert!(
        text.contains(&format!(
            "| `alpha:0.3.0` | `{}` | linux/amd64, linux/arm64 |",
            listed["alpha:0.3.0"]
        )),
        "{text}"
    );
}

#[test]
fn doctor_reports_each_check() {
    let r = run(multiarch(&shared_fixture("multi")).args(["doctor", "--message-format", "json"]));
    let ev = events(&r.stdout());
    bracketed(&ev, "doctor", r.out.status.success());
    let checks = of(&ev, "check");
    let rustc = checks.iter().find(|c| c["name"] == "rustc").unwrap();
    assert_eq!(rustc["ok"], true);
    assert_eq!(rustc["required"], true);
    assert!(
        checks
            .iter()
            .any(|c| c["name"] == "rust-std aarch64-unknown-linux-musl"),
        "{checks:?}"
    );
    // The human lines are on stderr.
    assert!(r.stderr().contains("ok       rustc"), "{}", r.stderr());
}

/// `cmd` run under a pseudo-terminal (`script -qec`), so its stderr is a terminal;
/// what the terminal showed.
fn on_a_terminal(cmd: &Command) -> String {
    require("script");
    let quote = |s: &std::ffi::OsStr| format!("'{}'", s.to_str().unwrap().replace('\'', r"'\''"));
    let line: Vec<String> = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(quote)
        .collect();
    let mut script = Command::new("script");
    script
        .args(["-qec", &line.join(" "), "/dev/null"])
        .current_dir(cmd.get_current_dir().unwrap())
        .env("TERM", "xterm");
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => script.env(k, v),
            None => script.env_remove(k),
        };
    }
    run(&mut script).success().stdout()
}

#[test]
fn a_build_on_a_terminal_draws_a_bar_per_target() {
    let dir = shared_fixture("multi");
    let out = tempfile::tempdir().unwrap();
    let mut cmd = multiarch(&dir);
    cmd.args(["build", "-v", "--out-dir"])
        .arg(out.path())
        .arg("--target-dir")
        .arg(shared_target_dir("multi"));
    let screen = on_a_terminal(&cmd);
    // Each target's bar, ending complete: 4 units each (common, alpha's 2 bins,
    // beta-server), as estimated.
    for platform in ["linux/amd64", "linux/arm64"] {
        assert!(
            screen.contains(&format!(
                "    Building [===========================] 4/4 {platform}: "
            )),
            "{platform}: {screen}"
        );
    }
    assert!(
        screen.contains("Progress x86_64-unknown-linux-musl: 4 units (4 estimated); aarch64-unknown-linux-musl: 4 units (4 estimated); host: 0 units (0 estimated)"),
        "{screen}"
    );
    // The bars are gone before the table.
    let table = screen.find("STAGED").unwrap();
    assert!(!screen[table..].contains("Building ["), "{screen}");
}

/// The estimate against cargo on a crate with a build script and registry
/// dependencies (cc and its own), on the host's musl target, without a terminal: `-v`
/// prints the counts.
#[test]
fn the_unit_estimate_matches_a_crate_with_a_build_script() {
    require("x86_64-linux-musl-gcc");
    let dir = shared_fixture("cdep");
    let out = tempfile::tempdir().unwrap();
    let r = run(multiarch(&dir)
        .args([
            "build",
            "-v",
            "--target",
            "x86_64-unknown-linux-musl",
            "--out-dir",
        ])
        .arg(out.path())
        .arg("--target-dir")
        .arg(shared_target_dir("cdep")))
    .success();
    let err = r.stderr();
    let line = err
        .lines()
        .find(|l| l.contains("Progress "))
        .unwrap_or_else(|| panic!("no progress line: {err}"));
    // cdep's bin and its build script's run; the host: cc, its dependencies, and
    // cdep's build script.
    let counts: Vec<(u64, u64)> = line
        .split("; ")
        .map(|part| {
            let n = |s: &str| s.trim_start_matches('(').parse::<u64>().unwrap();
            let words: Vec<&str> = part.rsplit(": ").next().unwrap().split(' ').collect();
            (n(words[0]), n(words[2]))
        })
        .collect();
    assert_eq!(counts.len(), 2, "{line}");
    assert_eq!(counts[0], (2, 2), "{line}");
    assert!(counts[1].0 >= 2 && counts[1].0 == counts[1].1, "{line}");
}

#[test]
fn a_push_on_a_terminal_draws_its_bytes_and_reports_its_digest() {
    require("skopeo");
    let registry = Registry::start();
    let (out, dir) = build("multi", &[]);
    let docker_config = tempfile::tempdir().unwrap();
    std::fs::write(docker_config.path().join("config.json"), "{}").unwrap();
    let reference = format!("{}/acme/alpha:0.3.0", registry.addr);
    let push = |json: bool| {
        let mut cmd = multiarch(&dir);
        cmd.args([
            "image",
            "--bin",
            "alpha",
            "--insecure",
            "--push",
            &reference,
            "--out-dir",
        ])
        .arg(out.path())
        .env("DOCKER_CONFIG", docker_config.path())
        .env("SOURCE_DATE_EPOCH", EPOCH);
        if json {
            cmd.args(["--message-format", "json"]);
        }
        cmd
    };
    let screen = on_a_terminal(&push(false));
    assert!(screen.contains("     Pushing ["), "{screen}");
    assert!(screen.contains("KiB/"), "{screen}");
    assert!(
        screen.contains(&format!("Pushed {reference}@sha256:")),
        "{screen}"
    );
    // Again, for machines: every blob is there now.
    let r = run(&mut push(true)).success();
    let ev = events(&r.stdout());
    bracketed(&ev, "image", true);
    let pushed = of(&ev, "pushed");
    assert_eq!(pushed.len(), 1);
    assert_eq!(pushed[0]["reference"], reference.as_str());
    assert_eq!(pushed[0]["uploaded"], 0);
    assert_eq!(pushed[0]["skipped"], 8); // 2 configs, 2 layers and the attestations' 4 blobs
    assert_eq!(pushed[0]["digest"], of(&ev, "image")[0]["digest"]);
}
