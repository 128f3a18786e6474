//! `--help` of every command against golden files in tests/golden/.
//! Run with `CARGO_MULTIARCH_BLESS=1` to rewrite them after an intended change.

use std::path::Path;

use crate::support::{SCRUBBED_ENV, multiarch, repo, run};

const COMMANDS: &[&str] = &[
    "",
    "plan",
    "build",
    "package",
    "verify",
    "merge",
    "image",
    "sign",
    "init",
    "doctor",
    "completions",
    "man",
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

/// The exit statuses `--help` documents: a command line that is not understood is 2
/// (clap's), and the table is in the top-level help.
#[test]
fn usage_errors_exit_2_and_the_help_lists_every_status() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(multiarch(dir.path()).arg("no-such-command")).exit(2);
    assert!(
        r.stderr().contains("unrecognized subcommand"),
        "{}",
        r.stderr()
    );
    run(multiarch(dir.path()).args(["build", "--no-such-flag"])).exit(2);
    let help = run(multiarch(dir.path()).arg("--help")).success().stdout();
    for line in [
        "0    success",
        "2    usage",
        "3    build failed",
        "4    verify found problems",
        "5    out dir locked",
        "101  internal error",
    ] {
        assert!(help.contains(line), "{line:?} in:\n{help}");
    }
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
    // The binary run directly, with the `multiarch` argument cargo adds.
    let bin = Path::new(env!("CARGO_BIN_EXE_cargo-multiarch"));
    let direct = |args: &[&str]| {
        let mut c = std::process::Command::new(bin);
        c.arg("multiarch")
            .args(args)
            .env("COLUMNS", "100")
            .env("NO_COLOR", "1");
        run(&mut c).success().stdout()
    };
    let version = direct(&["--version"]);
    assert_eq!(
        version,
        format!("cargo-multiarch {}\n", env!("CARGO_PKG_VERSION"))
    );

    // `cargo multiarch …` through real cargo, which finds this build first on PATH (and
    // nothing in an empty `$CARGO_HOME/bin`): the same answers as the direct call.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("bin")).unwrap();
    let path = std::env::join_paths(
        std::iter::once(bin.parent().unwrap().to_owned())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let through_cargo = |args: &[&str]| {
        let mut c = std::process::Command::new("cargo");
        c.arg("multiarch")
            .args(args)
            .current_dir(tmp.path())
            .env("PATH", &path)
            .env("CARGO_HOME", tmp.path())
            .env("COLUMNS", "100")
            .env("NO_COLOR", "1");
        if std::env::var_os("RUSTUP_HOME").is_none()
            && let Some(h) = std::env::var_os("HOME")
        {
            c.env("RUSTUP_HOME", Path::new(&h).join(".rustup"));
        }
        for var in SCRUBBED_ENV {
            c.env_remove(var);
        }
        run(&mut c).success().stdout()
    };
    assert_eq!(through_cargo(&["--version"]), version);
    let help = direct(&["plan", "--help"]);
    assert!(help.contains("--list-targets"), "{help}");
    assert_eq!(through_cargo(&["plan", "--help"]), help);
}

/// Whether a help text lists `flag` (not merely a longer flag it begins).
fn lists(help: &str, flag: &str) -> bool {
    help.match_indices(flag).any(|(i, _)| {
        !help[i + flag.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-')
    })
}

/// `cargo multiarch CMD --help`, plain, 100 columns wide.
fn help(cmd: &str) -> String {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-multiarch"));
    run(c
        .args(["multiarch", cmd, "--help"])
        .env("COLUMNS", "100")
        .env("NO_COLOR", "1"))
    .success()
    .stdout()
}

#[test]
fn each_help_lists_only_the_flags_its_command_uses() {
    // (command, listed, not listed): what the command reads, and what it has no use
    // for (no cargo run: no `-v`, nothing "passed on to cargo"; no build: no `-j`;
    // nothing written: no `--out-dir`, `--profile`).
    let cases: &[(&str, &[&str], &[&str])] = &[
        (
            "plan",
            &[
                "--package",
                "--target-dir",
                "--out-dir",
                "--profile",
                "--locked",
                "--backend",
                "--color",
                "--message-format",
                "--list-targets",
            ],
            &[
                "--jobs",
                "--verbose",
                "--quiet",
                "--no-install",
                "--keep-going",
                "--strip",
                // The old name of `--message-format`: accepted, not shown.
                "--format",
            ],
        ),
        (
            "doctor",
            &[
                "--package",
                "--features",
                "--target",
                "--platform",
                "--backend",
                "--target-dir",
                "--offline",
                "--quiet",
            ],
            &[
                "--out-dir",
                "--profile",
                "--release",
                "--jobs",
                "--verbose",
                "--no-wait",
            ],
        ),
        (
            "verify",
            &["--out-dir", "--run", "--no-wait", "--quiet", "--color"],
            &["--verbose", "--jobs", "--profile", "--package"],
        ),
        (
            "merge",
            &["--out-dir", "--expect", "--no-wait", "--quiet"],
            &["--verbose", "--jobs", "--package"],
        ),
        (
            "build",
            &[
                "--jobs",
                "--profile",
                "--release",
                "--target-dir",
                "--out-dir",
                "--keep-going",
                "--verbose",
                "--quiet",
            ],
            &["--format", "--run"],
        ),
        (
            "package",
            &[
                "--jobs",
                "--no-build",
                "--archive",
                "--compression",
                "--verbose",
            ],
            &["--format", "--run"],
        ),
        (
            "init",
            &[
                "--target",
                "--platform",
                "--action",
                "--force",
                "--dry-run",
                "--manifest-path",
                "--quiet",
            ],
            &["--verbose", "--out-dir", "--package", "--jobs", "--backend"],
        ),
        (
            "completions",
            &["--color"],
            &["--verbose", "--quiet", "--out-dir", "--package"],
        ),
        (
            "man",
            &["--out-dir", "--quiet"],
            &["--verbose", "--package", "--jobs"],
        ),
    ];
    for (cmd, listed, absent) in cases {
        let out = help(cmd);
        for flag in *listed {
            assert!(lists(&out, flag), "`{cmd} --help` lacks `{flag}`:\n{out}");
        }
        for flag in *absent {
            assert!(!lists(&out, flag), "`{cmd} --help` lists `{flag}`:\n{out}");
        }
        if !["build", "package"].contains(cmd) {
            assert!(
                !out.contains("passed on to cargo") && !out.contains("cargo log messages"),
                "`{cmd} --help` runs no cargo:\n{out}"
            );
        }
    }
    // What the help leaves out, the command still refuses (as cargo does), except the
    // global `-v`/`-q`, accepted everywhere like `cargo multiarch -v <COMMAND>`.
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-multiarch"));
    let err = run(c.args(["multiarch", "doctor", "--out-dir", "x"]))
        .failure()
        .stderr();
    assert!(err.contains("unexpected argument '--out-dir'"), "{err}");
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-multiarch"));
    let err = run(c.args(["multiarch", "plan", "-j", "2"]))
        .failure()
        .stderr();
    assert!(err.contains("unexpected argument '-j'"), "{err}");
}

/// The `[alias]` entries of a cargo config file (a plain reading: `[alias]` tables and
/// `alias.NAME` keys), enough to find a `multiarch` one.
fn aliases(config: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_alias = false;
    for line in config.lines().map(str::trim) {
        if line.starts_with('[') {
            in_alias = line == "[alias]";
        } else if let Some((key, _)) = line.split_once('=') {
            let key = key.trim().trim_matches('"');
            if in_alias {
                out.push(key.to_owned());
            } else if let Some(name) = key.strip_prefix("alias.") {
                out.push(name.to_owned());
            }
        }
    }
    out
}

/// Every `.cargo/config.toml` (or `config`) under `dir`, skipping build output.
fn cargo_configs(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if p.is_dir() && !["target", "out", ".git"].contains(&name.as_str()) {
            if name == ".cargo" {
                out.extend(
                    ["config.toml", "config"]
                        .map(|f| p.join(f))
                        .into_iter()
                        .filter(|f| f.is_file()),
                );
            }
            cargo_configs(&p, out);
        }
    }
}

#[test]
fn cargo_multiarch_works_in_every_directory_of_the_clone() {
    // No alias: it would run `cargo run --bin cargo-multiarch` (not there below the root)
    // and, once the tool is installed, shadow it with a warning.
    let mut configs = Vec::new();
    cargo_configs(&repo(), &mut configs);
    for c in &configs {
        let text = std::fs::read_to_string(c).unwrap();
        assert!(
            !aliases(&text).contains(&"multiarch".to_owned()),
            "{} defines a `multiarch` alias",
            c.display()
        );
    }
    assert_eq!(aliases("[alias]\nmultiarch = [\"run\"]\n"), ["multiarch"]);
    assert_eq!(aliases("alias.multiarch = \"run\"\n"), ["multiarch"]);

    // `cargo multiarch` as a user runs it, from the root, a fixture workspace with its
    // own `.cargo/config.toml`, and a directory below one: found on PATH (not
    // installed), or in `$CARGO_HOME/bin` (installed, not on PATH).
    let bin = Path::new(env!("CARGO_BIN_EXE_cargo-multiarch"));
    let want = format!("cargo-multiarch {}\n", env!("CARGO_PKG_VERSION"));
    let tmp = tempfile::tempdir().unwrap();
    let (empty_home, installed_home) = (tmp.path().join("empty"), tmp.path().join("installed"));
    std::fs::create_dir_all(empty_home.join("bin")).unwrap();
    std::fs::create_dir_all(installed_home.join("bin")).unwrap();
    std::os::unix::fs::symlink(bin, installed_home.join("bin/cargo-multiarch")).unwrap();
    // cargo itself (rustup's proxy or a toolchain's cargo) stays reachable on PATH.
    let cargo_dir = which::which("cargo").unwrap().parent().unwrap().to_owned();
    let path = |first: Option<&Path>| {
        std::env::join_paths(first.into_iter().chain([
            cargo_dir.as_path(),
            Path::new("/usr/bin"),
            Path::new("/bin"),
        ]))
        .unwrap()
    };
    let dirs = [
        repo(),
        repo().join("fixture-workspaces/multi"),
        repo().join("fixture-workspaces/multi/crates/alpha/src"),
        repo().join("fixture-workspaces/configured"),
        repo().join("src"),
    ];
    for dir in &dirs {
        for (home, first) in [
            (&empty_home, Some(bin.parent().unwrap())),
            (&installed_home, None),
        ] {
            let mut c = std::process::Command::new("cargo");
            c.args(["multiarch", "--version"])
                .current_dir(dir)
                .env("CARGO_HOME", home)
                .env("PATH", path(first));
            if let Ok(rustup_home) = std::env::var("RUSTUP_HOME") {
                c.env("RUSTUP_HOME", rustup_home);
            } else if let Some(h) = std::env::var_os("HOME") {
                c.env("RUSTUP_HOME", Path::new(&h).join(".rustup"));
            }
            for var in SCRUBBED_ENV {
                c.env_remove(var);
            }
            let r = run(&mut c).success();
            assert_eq!(r.stdout(), want, "in {}", dir.display());
            let err = r.stderr();
            assert!(
                !err.contains("shadow") && !err.contains("warning"),
                "in {}: {err}",
                dir.display()
            );
        }
    }
}
