//! action.yml's ways to the tool, each run by `tests/ci/run_workflow.py`: the release's
//! own installer (checked against the release's SHA256SUMS before it runs), and, with
//! no release asset, `cargo install` with the toolchain `rust-version` needs.

use std::path::Path;

use crate::support::{require, require_python, sh, sha256_hex};
use crate::workflow::{
    INSTALL_ONLY, ReleaseServer, VERSION, fixture_repo, host_musl_triple, run_workflow,
};

/// [`INSTALL_ONLY`] without its check of where the release's tool lands: a build goes
/// elsewhere.
const INSTALL_ANYHOW: &str = r#"
name: install
on: push
jobs:
  install:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          persist-credentials: false
      - id: tool
        uses: cargo-multiarch/cargo-multiarch@v0.1.0
        with:
          tool-only: true
      - env:
          INSTALLED: ${{ steps.tool.outputs.version }}
        run: test "$(cargo-multiarch multiarch --version)" = "cargo-multiarch $INSTALLED"
"#;

/// Runs `workflow` on `cdep` with `path` first on the runner's PATH.
fn install(server: &ReleaseServer, work: &Path, path: &Path, workflow: &str) -> (bool, String) {
    let text = workflow;
    let workflow = work.join("install.yml");
    std::fs::write(&workflow, text).unwrap();
    let fixture = fixture_repo("cdep", &format!("v{VERSION}"));
    let (out, log) = run_workflow(
        &workflow,
        fixture.path(),
        &work.join("root"),
        &work.join("cache"),
        &[
            "--ref".into(),
            format!("refs/tags/v{VERSION}"),
            "--server-url".into(),
            server.url.clone(),
            "--var".into(),
            "VERSION=".into(),
            "--path".into(),
            format!("{}:{}", path.display(), std::env::var("PATH").unwrap()),
        ],
    );
    (out.status.success(), log)
}

#[test]
fn action_runs_the_releases_installer_only_when_sha256sums_lists_its_hash() {
    for tool in ["git", "jq", "curl"] {
        require(tool);
    }
    require_python("yaml");
    let server = ReleaseServer::start();
    let dir = server.release_dir();
    let marker = tempfile::tempdir().unwrap();
    let ran = marker.path().join("ran");
    // A stand-in for `package --installers`' script, with its interface: `--to DIR`.
    let installer = format!(
        "#!/bin/sh\nset -eu\ntouch '{ran}'\n[ \"$1\" = --to ]\nmkdir -p \"$2\"\ncp '{bin}' \"$2/cargo-multiarch\"\n",
        ran = ran.display(),
        bin = env!("CARGO_BIN_EXE_cargo-multiarch"),
    );
    std::fs::write(dir.join("cargo-multiarch-installer.sh"), &installer).unwrap();
    let sums = |line: &str| {
        std::fs::write(
            dir.join("SHA256SUMS"),
            format!("{}  linux/amd64/other.tar.gz\n{line}", "1".repeat(64)),
        )
        .unwrap();
    };
    let good = sha256_hex(installer.as_bytes());
    let empty = tempfile::tempdir().unwrap();

    sums(&format!("{good}  cargo-multiarch-installer.sh\n"));
    let work = tempfile::tempdir().unwrap();
    let (ok, log) = install(&server, work.path(), empty.path(), INSTALL_ONLY);
    assert!(ok, "{log}");
    assert!(
        log.contains(&format!(
            "Installed cargo-multiarch {VERSION} with cargo-multiarch-installer.sh (sha256 {good})"
        )),
        "{log}"
    );
    assert!(ran.exists());

    // Another hash, or no line for the installer: refused before it runs.
    for line in [
        format!("{}  cargo-multiarch-installer.sh\n", "0".repeat(64)),
        String::new(),
    ] {
        std::fs::remove_file(&ran).unwrap_or(());
        sums(&line);
        let work = tempfile::tempdir().unwrap();
        let (ok, log) = install(&server, work.path(), empty.path(), INSTALL_ONLY);
        assert!(!ok, "{log}");
        assert!(
            log.contains(&format!(
                "cargo-multiarch-installer.sh: sha256 is {good}, and the release's SHA256SUMS says"
            )) && log.contains("(the download is corrupt or was tampered with)"),
            "{log}"
        );
        assert!(!ran.exists(), "the installer ran: {log}");
        assert!(!log.contains("Installed cargo-multiarch"), "{log}");
    }
}

/// Stand-ins for rustc (of `version`), rustup and cargo that record their arguments
/// in `calls`; cargo's `install --root R` puts the tool under test in `R/bin`.
fn toolchain(dir: &Path, version: &str) {
    let calls = dir.join("calls");
    std::fs::write(
        dir.join("rustc"),
        format!("#!/bin/sh\necho 'rustc {version} (0000000 2025-01-01)'\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("rustup"),
        format!("#!/bin/sh\necho \"rustup $*\" >> '{}'\n", calls.display()),
    )
    .unwrap();
    std::fs::write(
        dir.join("cargo"),
        format!(
            "#!/bin/sh\necho \"cargo $*\" >> '{calls}'\nwhile [ $# -gt 0 ]; do [ \"$1\" = --root ] && root=$2; shift; done\nmkdir -p \"$root/bin\" && cp '{bin}' \"$root/bin/\"\n",
            calls = calls.display(),
            bin = env!("CARGO_BIN_EXE_cargo-multiarch"),
        ),
    )
    .unwrap();
    sh(dir, "chmod +x rustc rustup cargo");
}

#[test]
fn with_no_release_asset_the_action_builds_with_the_rust_its_rust_version_needs() {
    for tool in ["git", "jq", "curl"] {
        require(tool);
    }
    require_python("yaml");
    // A release server with nothing on it: every download is a 404.
    let server = ReleaseServer::start();
    let manifest = std::fs::read_to_string(crate::support::repo().join("Cargo.toml")).unwrap();
    let need = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .unwrap();
    for (rustc, installs) in [("1.80.0", true), ("1.95.0", false)] {
        let bin = tempfile::tempdir().unwrap();
        toolchain(bin.path(), rustc);
        let work = tempfile::tempdir().unwrap();
        let (ok, log) = install(&server, work.path(), bin.path(), INSTALL_ANYHOW);
        assert!(ok, "{log}");
        assert!(
            log.contains(&format!(
                "No release asset cargo-multiarch-{VERSION}-{}.tar.gz: building cargo-multiarch {VERSION} from the action's checkout",
                host_musl_triple()
            )),
            "{log}"
        );
        let calls = std::fs::read_to_string(bin.path().join("calls")).unwrap();
        let lines: Vec<&str> = calls.lines().collect();
        if installs {
            assert!(
                log.contains(&format!(
                    "rustc {rustc} is older than rust-version {need}: installing Rust {need}"
                )),
                "{log}"
            );
            assert_eq!(
                lines[0],
                format!("rustup toolchain install {need} --profile minimal --no-self-update")
            );
            assert!(
                lines[1].starts_with(&format!("cargo +{need} install --locked --path ")),
                "{calls}"
            );
            assert_eq!(lines.len(), 2, "{calls}");
        } else {
            assert_eq!(lines.len(), 1, "{calls}");
            assert!(
                lines[0].starts_with("cargo install --locked --path "),
                "{calls}"
            );
        }
    }
}
