//! `--help` of every command against golden files in tests/golden/.
//! Run with `CARGO_MULTIARCH_BLESS=1` to rewrite them after an intended change.

use crate::support::{repo, run};

const COMMANDS: &[&str] = &[
    "", "plan", "build", "package", "verify", "merge", "image", "sign", "doctor",
];

#[test]
fn help_matches_golden_files() {
    let bless = std::env::var_os("CARGO_MULTIARCH_BLESS").is_some();
    let mut stale = Vec::new();
    for cmd in COMMANDS {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-multiarch"));
        c.arg("multiarch");
        if !cmd.is_empty() {
            c.arg(cmd);
        }
        let out = run(c.arg("--help").env("COLUMNS", "100").env("NO_COLOR", "1"))
            .success()
            .stdout();
        let name = if cmd.is_empty() {
            "multiarch".to_owned()
        } else {
            format!("multiarch-{cmd}")
        };
        let golden = repo().join("tests/golden").join(format!("{name}.txt"));
        if bless {
            std::fs::write(&golden, &out).unwrap();
        } else if std::fs::read_to_string(&golden).ok().as_deref() != Some(out.as_str()) {
            stale.push(golden.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "help text differs from {stale:?} (hint: rerun with CARGO_MULTIARCH_BLESS=1 and review the diff)"
    );
}

#[test]
fn every_command_has_an_example() {
    for cmd in &COMMANDS[1..] {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-multiarch"));
        let out = run(c.args(["multiarch", cmd, "--help"])).success().stdout();
        assert!(
            out.contains("Example") && out.contains("cargo multiarch "),
            "`{cmd} --help` has no example:\n{out}"
        );
    }
}

#[test]
fn runs_as_cargo_subcommand_and_directly() {
    // `cargo multiarch --version` as cargo runs it, and the binary's own name.
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-multiarch"));
    let out = run(c.args(["multiarch", "--version"])).success().stdout();
    assert_eq!(
        out,
        format!("cargo-multiarch {}\n", env!("CARGO_PKG_VERSION"))
    );
}
