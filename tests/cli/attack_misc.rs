//! Issue 10, "trust nothing you read": empty lists, include globs that walk where they
//! must not, user values that look like flags. Each test is named after its attack.

use std::path::Path;

use crate::support::{multiarch, private_fixture, run, sh};

const X86: &str = "x86_64-unknown-linux-musl";

/// Appends `text` to the fixture's `Cargo.toml`.
fn append_manifest(dir: &Path, text: &str) {
    let p = dir.join("Cargo.toml");
    let mut toml = std::fs::read_to_string(&p).unwrap();
    toml.push_str(text);
    std::fs::write(p, toml).unwrap();
}

#[test]
fn empty_targets_in_config_is_an_error() {
    let (_tmp, dir) = private_fixture("hello");
    append_manifest(&dir, "\n[workspace.metadata.multiarch]\ntargets = []\n");
    let manifest = dir.join("Cargo.toml");
    for cmd in ["plan", "package"] {
        let err = run(multiarch(&dir).arg(cmd)).failure().stderr();
        assert!(
            err.contains(&format!(
                "error: `{}`: key `targets` in `[workspace.metadata.multiarch]` is an empty list",
                manifest.display()
            )) && err.contains("(hint: "),
            "{cmd}: {err}"
        );
    }
    assert!(
        !dir.join("out/manifest.json").exists(),
        "an empty manifest was written"
    );

    // An empty item is no target either.
    let (_tmp, dir) = private_fixture("hello");
    append_manifest(
        &dir,
        "\n[package.metadata.multiarch]\ntargets = [\"x86_64-unknown-linux-musl\", \" \"]\n",
    );
    let err = run(multiarch(&dir).arg("plan")).failure().stderr();
    assert!(
        err.contains("key `targets` in `[package.metadata.multiarch]` has an empty item")
            && err.contains("(hint: "),
        "{err}"
    );
}

#[test]
fn empty_platform_or_target_flag_is_an_error() {
    let (_tmp, dir) = private_fixture("hello");
    for (args, flag) in [
        (&["--platform="][..], "--platform"),
        (&["--target="], "--target"),
        (&["--platform", "linux/amd64,"], "--platform"),
        (
            &[
                "--target",
                "x86_64-unknown-linux-musl,,aarch64-unknown-linux-musl",
            ],
            "--target",
        ),
        (&["--platform", " , "], "--platform"),
    ] {
        let err = run(multiarch(&dir).arg("plan").args(args))
            .failure()
            .stderr();
        assert!(
            err.contains(&format!("error: `{flag}`")) && err.contains("(hint: "),
            "{args:?}: {err}"
        );
    }
    let err = run(multiarch(&dir).args(["verify", "--expect", "linux/amd64,"]))
        .failure()
        .stderr();
    assert!(
        err.contains("error: `--expect`") && err.contains("(hint: "),
        "{err}"
    );
}

#[test]
fn empty_package_selection_is_an_error() {
    let (_tmp, dir) = private_fixture("hello");
    let err = run(multiarch(&dir).args(["plan", "--workspace", "--exclude", "hello"]))
        .failure()
        .stderr();
    assert!(
        err.contains("error: `--exclude hello` excludes every package of the workspace")
            && err.contains("(hint: "),
        "{err}"
    );
    let err = run(multiarch(&dir).args(["plan", "--workspace", "--exclude", "h*"]))
        .failure()
        .stderr();
    assert!(err.contains("excludes every package"), "{err}");
    let err = run(multiarch(&dir).args(["plan", "-p", "nomatch"]))
        .failure()
        .stderr();
    assert!(
        err.contains("package ID specification `nomatch` did not match any packages")
            && err.contains("(hint: "),
        "{err}"
    );
}

#[test]
fn doctor_outside_a_workspace_still_checks_tools_but_not_empty_flags() {
    let tmp = tempfile::tempdir().unwrap();
    let r = run(multiarch(tmp.path()).arg("doctor"));
    assert!(
        r.stderr().contains("checking tools only")
            && r.stdout().contains("rust-std x86_64-unknown-linux-musl"),
        "{}\n{}",
        r.stdout(),
        r.stderr()
    );
    let err = run(multiarch(tmp.path()).args(["doctor", "--platform="]))
        .failure()
        .stderr();
    assert!(err.contains("error: `--platform`"), "{err}");
}

#[test]
fn include_glob_does_not_follow_symlinked_dirs() {
    let (_tmp, dir) = private_fixture("hello");
    append_manifest(
        &dir,
        "\n[workspace.metadata.multiarch]\ninclude = [\"**/*.md\"]\n",
    );
    // A loop, ways out of the package, and the two dirs no glob may enter.
    let outside = dir.parent().unwrap().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("x.md"), "secret").unwrap();
    sh(
        &dir,
        "mkdir -p docs target out && echo a > docs/a.md && ln -s .. docs/up \
         && ln -s ../../outside docs/away && ln -s ../../outside/x.md docs/leak.md \
         && ln -s a.md docs/alias.md && echo t > target/t.md && echo o > out/o.md",
    );
    assert!(dir.join("docs/leak.md").is_file());

    run(multiarch(&dir).args(["package", "--target", X86])).success();
    let listing = sh(
        &dir.join("out/linux/amd64"),
        "tar -tzf hello-0.1.0-x86_64-unknown-linux-musl.tar.gz",
    );
    let names: Vec<&str> = listing.lines().collect();
    assert_eq!(
        names,
        [
            "hello-0.1.0-x86_64-unknown-linux-musl/",
            "hello-0.1.0-x86_64-unknown-linux-musl/LICENSE",
            "hello-0.1.0-x86_64-unknown-linux-musl/README.md",
            "hello-0.1.0-x86_64-unknown-linux-musl/docs/",
            "hello-0.1.0-x86_64-unknown-linux-musl/docs/a.md",
            "hello-0.1.0-x86_64-unknown-linux-musl/docs/alias.md",
            "hello-0.1.0-x86_64-unknown-linux-musl/hello",
        ],
        "{listing}"
    );
}

#[test]
fn bin_named_dash_reaches_cargo_as_a_value() {
    let (_tmp, dir) = private_fixture("hello");
    append_manifest(
        &dir,
        "\n[[bin]]\nname = \"hello\"\npath = \"src/main.rs\"\n\n[[bin]]\nname = \"-dash\"\npath = \"src/dash.rs\"\n",
    );
    std::fs::copy(dir.join("src/main.rs"), dir.join("src/dash.rs")).unwrap();
    run(multiarch(&dir).args(["build", "--target", X86, "--bin=-dash"])).success();
    assert!(dir.join("out/linux/amd64/bin/-dash").is_file());
    assert!(!dir.join("out/linux/amd64/bin/hello").exists());

    // A feature list that looks like a flag is cargo's to reject, as a feature.
    let err = run(multiarch(&dir).args(["build", "--target", X86, "--features=-nope"]))
        .failure()
        .stderr();
    assert!(
        err.contains("does not contain this feature: -nope"),
        "{err}"
    );
}

/// The text of `markdown` outside its code spans (`CommonMark`: a span opens at a
/// backtick run and closes at the next run of the same length), which is all GitHub
/// renders as markup.
fn outside_code_spans(markdown: &str) -> String {
    let mut out = String::new();
    let mut rest = markdown;
    while let Some(start) = rest.find('`') {
        out.push_str(&rest[..start]);
        let run = rest[start..].len() - rest[start..].trim_start_matches('`').len();
        let after = &rest[start + run..];
        let fence = "`".repeat(run);
        let close = after
            .match_indices(&fence)
            .find(|(i, _)| !after[..*i].ends_with('`') && !after[i + run..].starts_with('`'));
        if let Some((i, _)) = close {
            rest = &after[i + run..];
        } else {
            out.push_str(&fence);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Issue 21, finding 8: a value from the command line or configuration (here a target
/// name, which reaches the summary in the error) is shown verbatim in the GitHub step
/// summary, never rendered as HTML, an image or a link.
#[test]
fn step_summary_never_renders_a_crafted_value_as_markup() {
    let (_tmp, dir) = private_fixture("hello");
    let summary = dir.join("summary.md");
    let evil = "<img src=https://evil.example/x.png>[click](https://evil.example) `x` **b**";
    for target in [evil.to_owned(), format!("`{evil}``")] {
        std::fs::write(&summary, "").unwrap();
        run(multiarch(&dir)
            .args(["build", "--target", &target])
            .env("GITHUB_STEP_SUMMARY", &summary))
        .failure();
        let text = std::fs::read_to_string(&summary).unwrap();
        assert!(
            text.contains("<img src="),
            "the summary shows the value: {text}"
        );
        let bare = outside_code_spans(&text);
        for markup in ["<", "[", "](", "http", "**b**"] {
            assert!(
                !bare.contains(markup),
                "{markup:?} outside a code span:\n{bare}\n--- the summary:\n{text}"
            );
        }
    }
}

/// Issue 21, finding 6: a crafted memo of the old head start (a remembered cargo call in
/// the user's cache, `head-start/<sha256 of cwd and args>.json`) naming a
/// `RUSTC_WRAPPER` is never run: nothing the tool reads back from its cache starts a
/// process. (At the commit before the head start was removed, the memo's call started
/// at once and cargo ran the wrapper.)
#[test]
fn a_crafted_head_start_memo_runs_nothing() {
    use std::os::unix::fs::PermissionsExt as _;
    let (tmp, dir) = private_fixture("hello");
    let cache = tmp.path().join("cache");
    let marker = tmp.path().join("wrapper-ran");
    let wrapper = tmp.path().join("wrapper");
    std::fs::write(
        &wrapper,
        format!("#!/bin/sh\ntouch '{}'\nexec \"$@\"\n", marker.display()),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = env!("CARGO_BIN_EXE_cargo-multiarch");
    let args = [
        "multiarch",
        "build",
        "--target",
        "x86_64-unknown-linux-musl",
    ];
    // The key the head start used: the directory, then every argument with a NUL before it.
    let mut key = dir.as_os_str().as_encoded_bytes().to_vec();
    for a in std::iter::once(bin).chain(args) {
        key.push(0);
        key.extend_from_slice(a.as_bytes());
    }
    let memo_dir = cache.join("cargo-multiarch/head-start");
    std::fs::create_dir_all(&memo_dir).unwrap();
    let memo = memo_dir.join(format!(
        "{}.json",
        cargo_multiarch::digest::Sha256::of(&key)
    ));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let text = serde_json::json!({
        "program": cargo,
        "args": ["build", "--target", "x86_64-unknown-linux-musl"],
        "env": [["RUSTC_WRAPPER", wrapper.to_str().unwrap()]],
        "dir": dir.to_str().unwrap(),
    });
    std::fs::write(&memo, text.to_string()).unwrap();
    std::fs::set_permissions(&memo, std::fs::Permissions::from_mode(0o600)).unwrap();
    let target_dir = tmp.path().join("target");
    let mut cmd = std::process::Command::new(bin);
    cmd.args(args)
        .current_dir(&dir)
        .env("XDG_CACHE_HOME", &cache)
        .env("CARGO_TARGET_DIR", &target_dir)
        .env_remove("CARGO_MULTIARCH_HEAD_START")
        .env_remove("RUSTC_WRAPPER");
    run(&mut cmd).success();
    assert!(
        !marker.exists(),
        "a remembered call from the cache ran its RUSTC_WRAPPER"
    );
}
