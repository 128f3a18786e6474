//! `plan` and `doctor`: workspace model, package selection, backends per target, errors.

use serde_json::{Value, json};

use crate::support::{multiarch, run, shared_fixture};

fn plan_json(fixture: &str, args: &[&str]) -> Value {
    let dir = shared_fixture(fixture);
    let r = run(multiarch(&dir)
        .args(["plan", "--message-format", "json"])
        .args(args))
    .success();
    let mut v: Value = serde_json::from_str(&r.stdout()).unwrap();
    // Machine-specific paths: checked separately.
    assert_eq!(v["workspace_root"], json!(dir.to_str().unwrap()));
    v.as_object_mut().unwrap().remove("workspace_root");
    v.as_object_mut().unwrap().remove("out_dir");
    v
}

/// (binary, target) pairs of a plan, in order.
fn pairs(v: &Value) -> Vec<(String, String)> {
    v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["binary"].as_str().unwrap().to_owned(),
                e["target"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

const X86: &str = "x86_64-unknown-linux-musl";
const ARM: &str = "aarch64-unknown-linux-musl";

fn entry(package: &str, binary: &str, target: &str, reason: &str, backend: &str) -> Value {
    let platform = if target == X86 {
        "linux/amd64"
    } else {
        "linux/arm64"
    };
    let version = match package {
        "gamma" => "0.9.0",
        "alpha" | "beta" => "0.3.0",
        _ => "0.1.0",
    };
    json!({
        "package": package,
        "version": version,
        "binary": binary,
        "target": target,
        "platform": platform,
        "backend": backend,
        "reason": reason,
        "outputs": {
            "binary": format!("{platform}/bin/{binary}"),
            "archive": format!("{platform}/{package}-{version}-{target}.tar.gz"),
        }
    })
}

const PURE_X86: &str = "no C code in the dependency graph; links with the host `cc`";
const PURE_ARM: &str = "no C code in the dependency graph; links with rust-lld";

fn pure_targets() -> Value {
    json!([
        {"target": X86, "platform": "linux/amd64", "backend": "cargo", "reason": PURE_X86,
         "fallbacks": ["zig"], "c_code": [], "install_rust_std": false},
        {"target": ARM, "platform": "linux/arm64", "backend": "cargo", "reason": PURE_ARM,
         "fallbacks": ["zig"], "c_code": [], "install_rust_std": false, "linker": "rust-lld"},
    ])
}

/// Both default targets in one `cargo build`.
fn both_in_one_cargo_build() -> Value {
    json!([{"program": "cargo", "targets": [X86, ARM]}])
}

#[test]
fn multi_plan_lists_exactly_what_cargo_build_release_builds() {
    let v = plan_json("multi", &[]);
    let mut entries = Vec::new();
    for (pkg, bin) in [
        ("alpha", "alpha"),
        ("alpha", "alpha-admin"),
        ("beta", "beta-server"),
    ] {
        entries.push(entry(pkg, bin, X86, PURE_X86, "cargo"));
        entries.push(entry(pkg, bin, ARM, PURE_ARM, "cargo"));
    }
    assert_eq!(
        v,
        json!({
            "schema": "cargo-multiarch/plan/v1",
            "profile": "release",
            "targets": pure_targets(),
            "invocations": both_in_one_cargo_build(),
            "entries": entries,
            "skipped": [{"package": "alpha", "binary": "alpha-extra", "missing_features": ["extra"]}],
        })
    );
}

#[test]
fn hello_plan_in_full() {
    let v = plan_json("hello", &[]);
    assert_eq!(
        v,
        json!({
            "schema": "cargo-multiarch/plan/v1",
            "profile": "release",
            "targets": pure_targets(),
            "invocations": both_in_one_cargo_build(),
            "entries": [entry("hello", "hello", X86, PURE_X86, "cargo"), entry("hello", "hello", ARM, PURE_ARM, "cargo")],
            "skipped": [],
        })
    );
}

#[test]
fn cdep_on_aarch64_is_never_plain_cargo() {
    let v = plan_json("cdep", &[]);
    let c_code = json!([{"package": "cdep", "why": "build-dependency `cc`"}]);
    let x86_reason =
        "C code in cdep (build-dependency `cc`); C compiler `x86_64-linux-musl-gcc` (from PATH)";
    let arm_reason = "C code in cdep (build-dependency `cc`) and no musl C compiler for `aarch64-unknown-linux-musl`; zig compiles C and links";
    assert_eq!(
        v,
        json!({
            "schema": "cargo-multiarch/plan/v1",
            "profile": "release",
            "targets": [
                {"target": X86, "platform": "linux/amd64", "backend": "cargo", "reason": x86_reason,
                 "fallbacks": ["zig"], "c_code": c_code, "install_rust_std": false,
                 "cc": "x86_64-linux-musl-gcc"},
                {"target": ARM, "platform": "linux/arm64", "backend": "zig", "reason": arm_reason,
                 "fallbacks": [], "c_code": c_code, "install_rust_std": false,
                 "linker": "zig cc -target aarch64-linux-musl", "cc": "zig cc -target aarch64-linux-musl"},
            ],
            // The C-on-one-target workspace is still one cargo process.
            "invocations": both_in_one_cargo_build(),
            "entries": [entry("cdep", "cdep", X86, x86_reason, "cargo"), entry("cdep", "cdep", ARM, arm_reason, "zig")],
            "skipped": [],
        })
    );
}

#[test]
fn package_selection_follows_cargo() {
    let all = |args: &[&str]| {
        pairs(&plan_json(
            "multi",
            &["--platform", "linux/arm64"]
                .iter()
                .chain(args)
                .copied()
                .collect::<Vec<_>>(),
        ))
    };
    let p = |bins: &[&str]| {
        bins.iter()
            .map(|b| ((*b).to_owned(), ARM.to_owned()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        all(&["--workspace"]),
        p(&["alpha", "alpha-admin", "beta-server", "gamma"])
    );
    assert_eq!(
        all(&["--workspace", "--exclude", "alpha"]),
        p(&["beta-server", "gamma"])
    );
    assert_eq!(all(&["-p", "gamma"]), p(&["gamma"]));
    assert_eq!(
        all(&["-p", "alpha", "--bin", "alpha-admin"]),
        p(&["alpha-admin"])
    );
    assert_eq!(all(&["--bin", "beta-server"]), p(&["beta-server"]));
    assert_eq!(
        all(&["-p", "alpha", "--features", "extra"]),
        p(&["alpha", "alpha-admin", "alpha-extra"])
    );
    assert_eq!(
        all(&["-p", "alpha", "--all-features"]),
        p(&["alpha", "alpha-admin", "alpha-extra"])
    );
    // A member's own manifest selects that member, as in cargo.
    let dir = shared_fixture("multi");
    let gamma = dir.join("crates/gamma/Cargo.toml");
    assert_eq!(
        all(&["--manifest-path", gamma.to_str().unwrap()]),
        p(&["gamma"])
    );
}

#[test]
fn targets_by_triple_or_platform_and_errors() {
    let v = plan_json("hello", &["--target", ARM]);
    assert_eq!(pairs(&v), [("hello".to_owned(), ARM.to_owned())]);
    let v = plan_json("hello", &["--platform", "linux/arm64/v8,linux/amd64"]);
    assert_eq!(
        pairs(&v),
        [
            ("hello".to_owned(), ARM.to_owned()),
            ("hello".to_owned(), X86.to_owned())
        ]
    );

    // Any target rustc knows, its platform from rustc's cfg; a platform means the musl
    // (else glibc) triple, MinGW for Windows. rustc prints cfg without rust-std, so
    // targets whose rust-std cannot be downloaded here (armv7, riscv64, ppc64le) plan.
    let v = plan_json(
        "hello",
        &[
            "--target",
            "i686-unknown-linux-musl,armv7-unknown-linux-musleabihf",
            "--platform",
            "linux/riscv64,linux/ppc64le,linux/s390x,windows/amd64,darwin/arm64,darwin/universal2",
        ],
    );
    let targets: Vec<(&str, &str)> = v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["target"].as_str().unwrap(),
                t["platform"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        targets,
        [
            ("i686-unknown-linux-musl", "linux/386"),
            ("armv7-unknown-linux-musleabihf", "linux/arm/v7"),
            ("riscv64gc-unknown-linux-musl", "linux/riscv64"),
            ("powerpc64le-unknown-linux-musl", "linux/ppc64le"),
            ("s390x-unknown-linux-musl", "linux/s390x"),
            ("x86_64-pc-windows-gnu", "windows/amd64"),
            ("aarch64-apple-darwin", "darwin/arm64"),
            ("universal2-apple-darwin", "darwin/universal2"),
        ]
    );
    let outputs: Vec<&str> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["outputs"]["archive"].as_str().unwrap())
        .collect();
    assert!(
        outputs.contains(&"windows/amd64/hello-0.1.0-x86_64-pc-windows-gnu.zip"),
        "{outputs:?}"
    );
    assert!(
        outputs.contains(&"linux/386/hello-0.1.0-i686-unknown-linux-musl.tar.gz"),
        "{outputs:?}"
    );

    let dir = shared_fixture("hello");
    let err = run(multiarch(&dir).args(["plan", "--target", "mips-unknown-linux-muslx"]))
        .failure()
        .stderr();
    // One line: the closest of rustc's names first, and where the whole list is.
    assert!(
        err.starts_with(
            "error: unknown target `mips-unknown-linux-muslx` (hint: did you mean `mips-unknown-linux-musl`, "
        ),
        "{err}"
    );
    assert!(
        err.contains("? `cargo multiarch plan --list-targets` lists rustc's "),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.len() < 400, "{} bytes: {err}", err.len());
    assert!(!err.contains("aarch64-apple-darwin"), "{err}");
    let err = run(multiarch(&dir).args(["plan", "--platform", "linux/vax"]))
        .failure()
        .stderr();
    assert!(err.contains("error: no target rustc knows builds for platform `linux/vax` (hint: platforms with a target here include `linux/amd64`, `linux/arm64`, `linux/386`,"), "{err}");
    let err = run(multiarch(&dir).args(["plan", "--platform", "linux/amd65"]))
        .failure()
        .stderr();
    assert!(err.contains("error: no target rustc knows builds for platform `linux/amd65` (hint: did you mean `linux/amd64`? other platforms with a target here: "), "{err}");
    let err = run(multiarch(&dir).args([
        "plan",
        "--target",
        "x86_64-unknown-linux-musl,x86_64-unknown-linux-gnu",
    ]))
    .failure()
    .stderr();
    assert!(err.contains("error: targets `x86_64-unknown-linux-musl` and `x86_64-unknown-linux-gnu` both map to platform `linux/amd64`"), "{err}");
}

#[test]
fn selection_errors_name_the_fix() {
    let dir = shared_fixture("multi");
    let err = run(multiarch(&dir).args(["plan", "-p", "nope"]))
        .failure()
        .stderr();
    assert!(err.contains("package ID specification `nope` did not match any packages in the workspace; members are: alpha, beta, common, gamma"), "{err}");
    let err = run(multiarch(&dir).args(["plan", "--bin", "alpha-extra"]))
        .failure()
        .stderr();
    assert!(err.contains("no bin target named `alpha-extra` in the selected packages (`alpha-extra` needs features extra: pass `--features extra`)"), "{err}");
    let err = run(multiarch(&dir).args(["plan", "--exclude", "alpha"]))
        .failure()
        .stderr();
    assert!(
        err.contains("`--exclude` can only be used together with `--workspace`"),
        "{err}"
    );
}

#[test]
fn nobins_says_there_is_nothing_to_build() {
    let dir = shared_fixture("nobins");
    let err = run(multiarch(&dir).arg("plan")).failure().stderr();
    assert!(
        err.contains("error: no binaries to build in `") && err.contains("nobins/Cargo.toml`: the selected packages have no `bin` targets (hint: add `src/main.rs` or a `[[bin]]` section to a package)"),
        "{err}"
    );
}

#[test]
fn badconfig_names_file_and_key() {
    let dir = shared_fixture("badconfig");
    let err = run(multiarch(&dir).arg("plan")).failure().stderr();
    let manifest = dir.join("Cargo.toml");
    assert!(
        err.contains(&format!("error: `{}`: unknown key `targetz` in `[package.metadata.multiarch]`; known keys: targets, out-dir, backend, include, archive-name, image", manifest.display())),
        "{err}"
    );
}

#[test]
fn config_and_workspace_cargo_config_are_honoured() {
    let dir = shared_fixture("configured");
    // `--format` is the old name of `--message-format`, kept as an alias.
    let r = run(multiarch(&dir).args(["plan", "--format", "json"])).success();
    let v: Value = serde_json::from_str(&r.stdout()).unwrap();
    let again = run(multiarch(&dir).args(["plan", "--message-format", "json"])).success();
    assert_eq!(again.stdout(), r.stdout());
    assert_eq!(v["out_dir"], json!(dir.join("dist").to_str().unwrap()));
    assert_eq!(pairs(&v), [("configured".to_owned(), ARM.to_owned())]);
    // The command line wins over the config.
    let r = run(multiarch(&dir).args([
        "plan",
        "--message-format",
        "json",
        "--platform",
        "linux/amd64",
        "--out-dir",
        "elsewhere",
    ]))
    .success();
    let v: Value = serde_json::from_str(&r.stdout()).unwrap();
    assert_eq!(v["out_dir"], json!(dir.join("elsewhere").to_str().unwrap()));
    assert_eq!(pairs(&v), [("configured".to_owned(), X86.to_owned())]);
}

#[test]
fn human_plan_is_a_table_with_backend_reasons_and_notes() {
    let dir = shared_fixture("multi");
    let out = run(multiarch(&dir).arg("plan")).success().stdout();
    assert!(
        out.starts_with("TARGET                      PLATFORM     BACKEND  REASON\n"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "aarch64-unknown-linux-musl  linux/arm64  cargo    {PURE_ARM}\n"
        )),
        "{out}"
    );
    assert!(out.contains("beta-server  beta     0.3.0    aarch64-unknown-linux-musl  out/linux/arm64/bin/beta-server\n"), "{out}");
    assert!(out.contains("note: bin `alpha-extra` of `alpha` is left out: it requires features extra (pass `--features alpha/extra`)"), "{out}");
}

#[test]
fn forced_backend_is_reported() {
    let v = plan_json("cdep", &["--backend", "cargo", "--target", ARM]);
    assert_eq!(v["targets"][0]["backend"], "cargo");
    assert_eq!(v["targets"][0]["reason"], "forced by --backend");
    assert_eq!(v["targets"][0]["fallbacks"], json!([]));
}

#[test]
fn doctor_reports_each_check_and_exits_zero_when_ready() {
    let dir = shared_fixture("cdep");
    let r = run(multiarch(&dir).arg("doctor"));
    let out = r.stdout();
    // After scripts/setup, everything the default targets need is here.
    assert!(r.out.status.success(), "{out}\n{}", r.stderr());
    let line = |name: &str| {
        out.lines()
            .find(|l| l[9..].starts_with(name))
            .unwrap_or_else(|| panic!("no `{name}` check in:\n{out}"))
    };
    for name in [
        "rust-std aarch64-unknown-linux-musl",
        "rust-std x86_64-unknown-linux-musl",
        "zig ",
        "cargo-zigbuild ",
        "qemu-aarch64 ",
    ] {
        assert!(line(name).starts_with("ok "), "{out}");
    }
    assert!(
        line("backend aarch64-unknown-linux-musl").contains(" zig: C code in cdep"),
        "{out}"
    );
    assert!(
        r.stderr()
            .contains("Ready every selected target can be built"),
        "{}",
        r.stderr()
    );
}

#[test]
fn doctor_fails_naming_the_fix_when_zig_is_missing() {
    // A PATH without zig, cargo-zigbuild or python3 (so no `python3 -m ziglang`) but with cargo and rustc.
    let dir = shared_fixture("cdep");
    let tmp = tempfile::tempdir().unwrap();
    for tool in ["cargo", "rustc", "rustup"] {
        let real = which::which(tool).unwrap();
        std::os::unix::fs::symlink(real, tmp.path().join(tool)).unwrap();
    }
    let r = run(multiarch(&dir)
        .arg("doctor")
        .env("PATH", tmp.path())
        .env_remove("CARGO"));
    let out = r.stdout();
    assert_eq!(r.out.status.code(), Some(1), "{out}");
    assert!(
        out.contains("MISSING  backend aarch64-unknown-linux-musl"),
        "{out}"
    );
    assert!(out.contains("fix: pip install cargo-zigbuild"), "{out}");
}

#[test]
fn package_globs_are_cargos() {
    let bins = |args: &[&str]| -> Vec<String> {
        let mut v = vec!["--platform", "linux/arm64"];
        v.extend_from_slice(args);
        pairs(&plan_json("multi", &v))
            .into_iter()
            .map(|(b, _)| b)
            .collect()
    };
    // A class (`[a]`), as cargo's glob crate reads it.
    assert_eq!(bins(&["-p", "alph[a]"]), ["alpha", "alpha-admin"]);
    assert_eq!(bins(&["-p", "[bg]*"]), ["beta-server", "gamma"]);
    assert_eq!(bins(&["-p", "[!abc]*"]), ["gamma"]);
    assert_eq!(bins(&["--workspace", "--exclude", "[ab]?*"]), ["gamma"]);

    // cargo's own words for a pattern that matches nothing, and for a broken one.
    let dir = shared_fixture("multi");
    let err = run(multiarch(&dir).args(["plan", "-p", "zz*", "-p", "alpha", "-p", "yy?"]))
        .failure()
        .stderr();
    let root = dir.display();
    assert!(err.contains(&format!("error: package pattern(s) `zz*, yy?` not found in workspace `{root}` (hint: members are: alpha, beta, common, gamma;")), "{err}");
    let err = run(multiarch(&dir).args(["plan", "-p", "alph["]))
        .failure()
        .stderr();
    assert!(err.contains("error: cannot build glob pattern from `alph[`: Pattern syntax error near position 4: invalid range pattern (hint:"), "{err}");
    let err = run(multiarch(&dir).args([
        "plan",
        "--workspace",
        "--exclude",
        "zz*",
        "--exclude",
        "nope",
    ]))
    .success()
    .stderr();
    assert!(
        err.contains(&format!(
            "warning: excluded package(s) `nope` not found in workspace `{root}`"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "warning: excluded package pattern(s) `zz*` not found in workspace `{root}`"
        )),
        "{err}"
    );
}

#[test]
fn list_targets_prints_rustcs_targets_one_a_line_marking_installed_rust_std() {
    let dir = shared_fixture("hello");
    let rustc = std::process::Command::new("rustc")
        .args(["--print", "target-list"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let want = String::from_utf8(rustc.stdout).unwrap();
    let r = run(multiarch(&dir).args(["plan", "--list-targets"])).success();
    let out = r.stdout();
    let names: Vec<&str> = out
        .lines()
        .map(|l| l.trim_end_matches("  (rust-std installed)"))
        .collect();
    assert_eq!(names, want.lines().collect::<Vec<_>>());
    // The host and the musl target the tests build for have rust-std; a tier-3 one has none.
    let line = |t: &str| {
        out.lines()
            .find(|l| l.split(' ').next() == Some(t))
            .unwrap()
    };
    assert_eq!(
        line("x86_64-unknown-linux-musl"),
        "x86_64-unknown-linux-musl  (rust-std installed)"
    );
    assert_eq!(
        line("x86_64-unknown-linux-gnu"),
        "x86_64-unknown-linux-gnu  (rust-std installed)"
    );
    assert_eq!(line("mips-unknown-linux-musl"), "mips-unknown-linux-musl");

    let r =
        run(multiarch(&dir).args(["plan", "--list-targets", "--message-format", "json"])).success();
    let v: Value = serde_json::from_str(&r.stdout()).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), names.len());
    assert!(rows.contains(&json!({"target": "x86_64-unknown-linux-musl", "rust_std": true})));
    assert!(rows.contains(&json!({"target": "mips-unknown-linux-musl", "rust_std": false})));
}

/// MSVC targets need Microsoft's linker and SDK, which neither zig nor cross brings:
/// plan shows no backend and what would work, build and doctor refuse with it.
#[test]
fn msvc_targets_are_refused_naming_what_would_work() {
    let dir = shared_fixture("hello");
    let v = plan_json("hello", &["--target", "x86_64-pc-windows-msvc"]);
    let t = &v["targets"][0];
    assert_eq!(t["backend"], Value::Null, "{t:#}");
    assert!(
        t["reason"]
            .as_str()
            .unwrap()
            .contains("zig and cross cannot link MSVC targets"),
        "{t:#}"
    );
    let fix = "use `--target x86_64-pc-windows-gnu` instead, which zig links, or run `cargo xwin build --target x86_64-pc-windows-msvc` on a machine that can download the MSVC SDK";
    assert_eq!(t["fix"], json!(fix));
    assert_eq!(v["invocations"], json!([]));

    let arm = plan_json(
        "hello",
        &["--target", "aarch64-pc-windows-msvc", "--backend", "zig"],
    );
    assert_eq!(arm["targets"][0]["backend"], Value::Null);
    assert!(
        arm["targets"][0]["fix"]
            .as_str()
            .unwrap()
            .starts_with("use `--target aarch64-pc-windows-gnullvm` instead"),
        "{arm:#}"
    );

    let err = run(multiarch(&dir).args(["build", "--target", "x86_64-pc-windows-msvc"]))
        .failure()
        .stderr();
    assert!(
        err.contains("error: cannot build `x86_64-pc-windows-msvc` (windows/amd64): ")
            && err.contains(&format!("(hint: {fix})")),
        "{err}"
    );
    let r = run(multiarch(&dir).args(["doctor", "--target", "x86_64-pc-windows-msvc"])).failure();
    let out = format!("{}{}", r.stdout(), r.stderr());
    assert!(
        out.contains("backend x86_64-pc-windows-msvc") && out.contains(&format!("fix: {fix}")),
        "{out}"
    );
}

#[test]
fn verify_and_sign_without_an_out_dir_say_to_package_first() {
    let (_tmp, dir) = crate::support::private_fixture("hello");
    let err = run(multiarch(&dir).arg("verify")).failure().stderr();
    let out = dir.join("out");
    assert_eq!(
        err.trim_end(),
        format!(
            "error: `{}` does not exist: there is nothing to verify (hint: run `cargo multiarch package` first, or pass `--out-dir` naming where it wrote)",
            out.display()
        )
    );
    let err = run(multiarch(&dir).args(["verify", "--out-dir", "elsewhere"]))
        .failure()
        .stderr();
    assert!(err.starts_with("error: `elsewhere` does not exist: there is nothing to verify (hint: run `cargo multiarch package` first"), "{err}");
    // Said before the key is read: the out dir is the first thing missing.
    let err = run(multiarch(&dir).args(["sign", "--key", "no-such.key"]))
        .failure()
        .stderr();
    assert!(
        err.starts_with(&format!(
            "error: `{}` does not exist: there is nothing to sign (hint: run `cargo multiarch package` first",
            out.display()
        )),
        "{err}"
    );
}
