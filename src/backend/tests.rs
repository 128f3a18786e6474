use super::*;
use crate::plan::{Backend, Facts, choose};

fn plans() -> Vec<TargetPlan> {
    let facts = Facts {
        has_rust_std: true,
        rustup: true,
        zig_ready: true,
        ..Facts::default()
    };
    let x86 = choose(
        &crate::testgen::known("x86_64-unknown-linux-musl"),
        &Facts {
            host_arch: true,
            ..facts.clone()
        },
        None,
    );
    let arm = choose(
        &crate::testgen::known("aarch64-unknown-linux-musl"),
        &facts,
        None,
    );
    vec![x86, arm]
}

fn inv<'a>(backend: Backend, targets: Vec<&'a TargetPlan>, user: &'a UserConfig) -> Invocation<'a> {
    Invocation {
        backend,
        targets,
        root: "/w/ws".into(),
        manifest_path: "/w/ws/Cargo.toml".into(),
        packages: vec!["alpha".into(), "beta".into()],
        bins: vec!["alpha".into(), "beta-server".into()],
        feature_flags: &[],
        cargo_flags: &[],
        profile: "release",
        target_dir: None,
        resolved_target_dir: "/w/ws/target".into(),
        jobs: None,
        verbose: 0,
        quiet: false,
        color: "never",
        strip: false,
        keep_going: false,
        cargo_home: Some("/home/u/.cargo".into()),
        user,
        zig_path: None,
        cargo_zigbuild: None,
        cross: None,
        auditable: None,
        cache: None,
    }
}

const REMAP: &str = r#"["--remap-path-prefix=/w/ws/=", "--remap-path-prefix=/w/ws/target=/target", "--remap-path-prefix=/home/u/.cargo=/cargo"]"#;

#[test]
fn cargo_builds_all_targets_in_one_call_with_rust_lld_for_aarch64() {
    let plans = plans();
    let user = UserConfig::default();
    let cmd = inv(Backend::Cargo, plans.iter().collect(), &user).command();
    let line = cmd.to_string();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    assert_eq!(
        line,
        format!(
            "{cargo} build --message-format=json-render-diagnostics --manifest-path=/w/ws/Cargo.toml --package=alpha --package=beta --bin=alpha --bin=beta-server \
             --target=x86_64-unknown-linux-musl --target=aarch64-unknown-linux-musl --profile=release --color=never \
             --config 'target.aarch64-unknown-linux-musl.linker=\"rust-lld\"' \
             --config 'target.x86_64-unknown-linux-musl.rustflags={REMAP}' \
             --config 'target.aarch64-unknown-linux-musl.rustflags={REMAP}'"
        )
    );
}

#[test]
fn user_linker_and_rustflags_win() {
    let plans = plans();
    let user = UserConfig::for_tests(
        &[],
        &[
            ("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER", "my-cc"),
            ("RUSTFLAGS", "-Copt-level=1"),
        ],
    );
    let line = inv(Backend::Cargo, vec![&plans[1]], &user)
        .command()
        .to_string();
    assert!(!line.contains("linker="), "{line}");
    assert!(!line.contains("rustflags"), "{line}");
}

#[test]
fn zig_passes_the_python_zig_and_no_linker() {
    let plans = plans();
    let user = UserConfig::default();
    let mut i = inv(Backend::Zigbuild, plans.iter().collect(), &user);
    i.zig_path = Some("/py/site-packages/ziglang/zig".into());
    i.cargo_zigbuild = Some("/usr/local/bin/cargo-zigbuild".into());
    i.keep_going = true;
    let line = i.command().to_string();
    assert!(line.starts_with("CARGO_ZIGBUILD_ZIG_PATH=/py/site-packages/ziglang/zig /usr/local/bin/cargo-zigbuild zigbuild --message-format=json-render-diagnostics "), "{line}");
    assert!(
        line.contains("--target=x86_64-unknown-linux-musl --target=aarch64-unknown-linux-musl"),
        "{line}"
    );
    assert!(line.contains("--keep-going"), "{line}");
    assert!(!line.contains("linker"), "{line}");
}

#[test]
fn cross_remaps_container_paths() {
    let plans = plans();
    let user = UserConfig::default();
    let line = inv(Backend::Cross, vec![&plans[1]], &user)
        .command()
        .to_string();
    assert!(
        line.starts_with("cross build --message-format=json-render-diagnostics"),
        "{line}"
    );
    assert!(line.contains(r#"--remap-path-prefix=/project/=", "--remap-path-prefix=/target=/target", "--remap-path-prefix=/cargo=/cargo"#), "{line}");
    assert_eq!(
        reroot_cross(
            "/target/aarch64-unknown-linux-musl/release/alpha".into(),
            "/w/ws".into(),
            "/w/ws/target".into()
        ),
        "/w/ws/target/aarch64-unknown-linux-musl/release/alpha"
    );
    assert_eq!(
        reroot_cross_package_id("path+file:///project/crates/a#0.1.0", "/w/ws".into()),
        "path+file:///w/ws/crates/a#0.1.0"
    );
    assert_eq!(
        reroot_cross_package_id("path+file:///project#hello@0.1.0", "/w/ws".into()),
        "path+file:///w/ws#hello@0.1.0"
    );
    assert_eq!(
        reroot_cross_package_id("path+file:///projects/x#1.0.0", "/w/ws".into()),
        "path+file:///projects/x#1.0.0"
    );
    assert_eq!(
        reroot_cross(
            "/project/src/main.rs".into(),
            "/w/ws".into(),
            "/w/ws/target".into()
        ),
        "/w/ws/src/main.rs"
    );
}

#[test]
fn strip_verbose_jobs_and_flags_are_forwarded() {
    let plans = plans();
    let user = UserConfig::default();
    let mut i = inv(Backend::Cargo, vec![&plans[0]], &user);
    i.strip = true;
    i.verbose = 2;
    i.jobs = Some("3");
    let flags = ["--locked".to_owned()];
    i.cargo_flags = &flags;
    let feats = ["--features=a,b".to_owned()];
    i.feature_flags = &feats;
    let line = i.command().to_string();
    for want in [
        "--features=a,b --locked",
        "--jobs=3 -vv",
        "--config profile.release.strip=true",
    ] {
        assert!(line.contains(want), "`{want}` not in {line}");
    }
}

#[test]
fn values_that_start_with_a_dash_stay_values() {
    let plans = plans();
    let user = UserConfig::default();
    for backend in [Backend::Cargo, Backend::Zig, Backend::Cross] {
        let mut i = inv(backend, vec![&plans[1]], &user);
        i.packages = vec!["-pkg".into()];
        i.bins = vec!["-dash".into(), "--release".into()];
        i.profile = "-prof";
        i.jobs = Some("-1");
        i.target_dir = Some("-t".into());
        let feats = crate::workspace::feature_flags(&crate::workspace::Features {
            features: vec!["-feat".into()],
            ..Default::default()
        });
        i.feature_flags = &feats;
        let cmd = i.command();
        let args: Vec<&str> = cmd.get_args().map(|a| a.to_str().unwrap()).collect();
        for want in [
            "--package=-pkg",
            "--bin=-dash",
            "--bin=--release",
            "--profile=-prof",
            "--jobs=-1",
            "--target-dir=-t",
            "--features=-feat",
            "--target=aarch64-unknown-linux-musl",
        ] {
            assert!(args.contains(&want), "{backend}: `{want}` not in {args:?}");
        }
        // No argument is a bare user value that cargo could read as a flag.
        for bare in ["-pkg", "-dash", "--release", "-prof", "-1", "-t", "-feat"] {
            assert!(
                !args.contains(&bare),
                "{backend}: bare `{bare}` in {args:?}"
            );
        }
    }
}

/// cdep's plans: C code on both targets, `musl-gcc` for `x86_64`, zig for `aarch64`.
fn cdep_plans() -> Vec<TargetPlan> {
    let facts = Facts {
        has_rust_std: true,
        rustup: true,
        zig_ready: true,
        c_code: vec![crate::workspace::CCode {
            package: "cdep".into(),
            why: "build-dependency `cc`".into(),
            system_lib: None,
        }],
        ..Facts::default()
    };
    let x86 = choose(
        &crate::testgen::known("x86_64-unknown-linux-musl"),
        &Facts {
            host_arch: true,
            c_compiler: Some(("x86_64-linux-musl-gcc".into(), "PATH".into())),
            ..facts.clone()
        },
        None,
    );
    let arm = choose(
        &crate::testgen::known("aarch64-unknown-linux-musl"),
        &facts,
        None,
    );
    assert_eq!(
        (x86.backend, arm.backend),
        (Some(Backend::Cargo), Some(Backend::Zig))
    );
    vec![x86, arm]
}

const ARM_CC: &str = "/w/ws/target/cargo-multiarch/zig/aarch64-unknown-linux-musl/cc";

#[test]
fn cargo_and_zig_targets_share_one_cargo_build_each_with_its_toolchain() {
    let plans = cdep_plans();
    let user = UserConfig::default();
    let cmd = inv(Backend::Cargo, plans.iter().collect(), &user).command();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    assert_eq!(
        cmd.to_string(),
        format!(
            "CC_aarch64_unknown_linux_musl={ARM_CC} \
             CXX_aarch64_unknown_linux_musl=/w/ws/target/cargo-multiarch/zig/aarch64-unknown-linux-musl/c++ \
             AR_aarch64_unknown_linux_musl=/w/ws/target/cargo-multiarch/zig/aarch64-unknown-linux-musl/ar \
             {cargo} build --message-format=json-render-diagnostics --manifest-path=/w/ws/Cargo.toml --package=alpha --package=beta --bin=alpha --bin=beta-server \
             --target=x86_64-unknown-linux-musl --target=aarch64-unknown-linux-musl --profile=release --color=never \
             --config 'env.CC_x86_64_unknown_linux_musl=\"x86_64-linux-musl-gcc\"' \
             --config 'target.aarch64-unknown-linux-musl.linker=\"{ARM_CC}\"' \
             --config 'target.x86_64-unknown-linux-musl.rustflags={REMAP}' \
             --config 'target.aarch64-unknown-linux-musl.rustflags={REMAP}'"
        )
    );
}

#[test]
fn the_users_linker_and_cc_win_over_the_zig_wrappers() {
    let plans = cdep_plans();
    for (files, env, linker, cc) in [
        (
            &[][..],
            &[("CC_aarch64-unknown-linux-musl", "my-cc")][..],
            true,
            false,
        ),
        (
            &[],
            &[("CC_aarch64_unknown_linux_musl", "my-cc")],
            true,
            false,
        ),
        (
            &["[env]\nCC_aarch64_unknown_linux_musl = \"my-cc\"\n"],
            &[],
            true,
            false,
        ),
        (
            &[],
            &[("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER", "my-ld")],
            false,
            true,
        ),
        (
            &["[target.aarch64-unknown-linux-musl]\nlinker = \"my-ld\"\n"],
            &[],
            false,
            true,
        ),
    ] {
        let user = UserConfig::for_tests(files, env);
        let cmd = inv(Backend::Cargo, vec![&plans[1]], &user).command();
        let envs: Vec<String> = cmd
            .get_envs()
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect();
        let line = cmd.to_string();
        assert_eq!(
            line.contains("linker="),
            linker,
            "{env:?} {files:?}: {line}"
        );
        assert_eq!(
            envs.contains(&"CC_aarch64_unknown_linux_musl".to_owned()),
            cc,
            "{env:?} {files:?}: {line}"
        );
        // What the user did not set still points at the wrappers.
        assert!(
            envs.contains(&"AR_aarch64_unknown_linux_musl".to_owned()),
            "{line}"
        );
    }
}

#[test]
fn a_zig_retry_gives_a_cargo_target_the_wrappers_alone() {
    let plans = plans();
    let user = UserConfig::default();
    let line = inv(Backend::Zig, vec![&plans[1]], &user)
        .command()
        .to_string();
    assert!(
        line.contains(&format!("CC_aarch64_unknown_linux_musl={ARM_CC} ")),
        "{line}"
    );
    assert!(line.contains(&format!("linker=\"{ARM_CC}\"")), "{line}");
    assert!(!line.contains("rust-lld"), "{line}");
    assert!(!line.contains("--target=x86_64"), "{line}");
}

#[test]
fn a_glibc_suffix_stays_in_the_wrapper_not_in_cargos_target() {
    let facts = Facts {
        has_rust_std: true,
        rustup: true,
        zig_ready: true,
        ..Facts::default()
    };
    let t = choose(
        &crate::testgen::known("x86_64-unknown-linux-gnu.2.17"),
        &facts,
        None,
    );
    assert_eq!(t.backend, Some(Backend::Zig));
    let user = UserConfig::default();
    let line = inv(Backend::Cargo, vec![&t], &user).command().to_string();
    assert!(
        line.contains(" --target=x86_64-unknown-linux-gnu "),
        "{line}"
    );
    assert!(
        line.contains("/w/ws/target/cargo-multiarch/zig/x86_64-unknown-linux-gnu.2.17/cc"),
        "{line}"
    );
    // cargo-zigbuild takes the suffix itself.
    let line = inv(Backend::Zigbuild, vec![&t], &user)
        .command()
        .to_string();
    assert!(
        line.contains(" --target=x86_64-unknown-linux-gnu.2.17 "),
        "{line}"
    );
}

#[test]
fn a_universal_binary_is_built_as_its_halves_each_target_given_once() {
    let facts = Facts {
        has_rust_std: true,
        rustup: true,
        zig_ready: true,
        zigbuild_ready: true,
        ..Facts::default()
    };
    let universal = choose(
        &crate::testgen::known("universal2-apple-darwin"),
        &facts,
        None,
    );
    let arm = choose(&crate::testgen::known("aarch64-apple-darwin"), &facts, None);
    let win = choose(
        &crate::testgen::known("x86_64-pc-windows-gnu"),
        &facts,
        None,
    );
    let user = UserConfig::default();
    let line = inv(Backend::Zigbuild, vec![&universal, &arm, &win], &user)
        .command()
        .to_string();
    let targets: Vec<&str> = line
        .split(' ')
        .filter(|a| a.starts_with("--target="))
        .collect();
    assert_eq!(
        targets,
        [
            "--target=x86_64-apple-darwin",
            "--target=aarch64-apple-darwin",
            "--target=x86_64-pc-windows-gnu"
        ]
    );
    // Both halves get the remapped paths.
    assert!(
        line.contains("target.x86_64-apple-darwin.rustflags="),
        "{line}"
    );
    assert!(
        line.contains("target.aarch64-apple-darwin.rustflags="),
        "{line}"
    );
}

#[test]
fn the_cache_keeps_the_target_dir_out_of_rustcs_arguments() {
    let plans = cdep_plans();
    let user = UserConfig::default();
    let sccache = Sccache {
        program: "/opt/sccache".into(),
        users_wrapper: false,
        shim: Some(("/bin/cargo-multiarch".into(), "/tc/bin/rustc".into())),
    };
    let mut i = inv(Backend::Cargo, plans.iter().collect(), &user);
    i.cache = Some((&sccache, "/opt/sccache".into()));
    let cmd = i.command();
    let line = cmd.to_string();
    let env = |k: &str| {
        cmd.get_envs()
            .find(|(key, _)| *key == k)
            .and_then(|(_, v)| v)
            .map(|v| v.to_string_lossy().into_owned())
    };
    // sccache wraps rustc; rustc is the shim, which adds the target dir's remapping.
    assert!(
        line.contains("--config 'build.rustc-wrapper=\"/opt/sccache\"'"),
        "{line}"
    );
    assert!(
        line.contains("--config 'build.rustc=\"/bin/cargo-multiarch\"'"),
        "{line}"
    );
    assert_eq!(
        env(crate::cache::SHIM_RUSTC).as_deref(),
        Some("/tc/bin/rustc")
    );
    assert_eq!(
        env(crate::cache::SHIM_TARGET_ARGS).as_deref(),
        Some(
            "--remap-path-prefix=/w/ws/=\n--remap-path-prefix=/w/ws/target=/target\n--remap-path-prefix=/home/u/.cargo=/cargo"
        )
    );
    assert_eq!(
        env(crate::cache::ZIG_SCCACHE).as_deref(),
        Some("/opt/sccache")
    );
    // No argument names the target dir, the checkout or the cargo home: no rustflags,
    // and the zig target's linker is a bare name on PATH.
    assert!(!line.contains("rustflags"), "{line}");
    assert!(
        line.contains("target.aarch64-unknown-linux-musl.linker=\"cargo-multiarch-zig-cc-aarch64-unknown-linux-musl\""),
        "{line}"
    );
    // (`env.…` sets variables for build scripts and rustc; sccache hashes only
    // `CARGO_…` ones.)
    for arg in cmd
        .get_args()
        .filter(|a| !a.to_string_lossy().starts_with("env."))
    {
        let arg = arg.to_string_lossy();
        assert!(
            !arg.contains("/w/ws/target") && !arg.contains("/w/ws/="),
            "{arg}"
        );
    }
    let path = env("PATH").unwrap();
    assert!(
        path.starts_with("/w/ws/target/cargo-multiarch/zig/bin:"),
        "{path}"
    );
    // C through cc-rs keeps the wrappers' full paths (environment, not rustc's
    // arguments); musl-gcc goes through the cache's C wrapper.
    assert_eq!(
        env("CC_aarch64_unknown_linux_musl").as_deref(),
        Some(ARM_CC)
    );
    assert!(
        line.contains("--config 'env.CC_x86_64_unknown_linux_musl=\"/w/ws/target/cargo-multiarch/sccache/cc/x86_64-unknown-linux-musl/cc\"'"),
        "{line}"
    );

    // The user's own sccache wrapper and rustc are theirs: neither is passed, and the
    // remapping stays in the rustflags.
    let users = Sccache {
        users_wrapper: true,
        shim: None,
        ..sccache.clone()
    };
    let mut i = inv(Backend::Cargo, plans.iter().collect(), &user);
    i.cache = Some((&users, "/opt/sccache".into()));
    let line = i.command().to_string();
    assert!(!line.contains("build.rustc"), "{line}");
    assert!(
        line.contains("--remap-path-prefix=/w/ws/target=/target"),
        "{line}"
    );

    // cross's container has no sccache: nothing of it is passed.
    let mut i = inv(Backend::Cross, vec![&plans[1]], &user);
    i.cache = Some((&sccache, "/opt/sccache".into()));
    let line = i.command().to_string();
    assert!(
        !line.contains("sccache") && !line.contains("build.rustc"),
        "{line}"
    );
}
