use super::*;

fn t(s: &str) -> Target {
    crate::testgen::known(s)
}

fn cdep() -> Vec<CCode> {
    vec![CCode {
        package: "cdep".into(),
        why: "build-dependency `cc`".into(),
        system_lib: None,
    }]
}

#[test]
fn pure_rust_non_host_musl_uses_cargo_with_rust_lld() {
    let f = Facts {
        has_rust_std: true,
        rustup: true,
        zig_ready: true,
        ..Facts::default()
    };
    let p = choose(&t("aarch64-unknown-linux-musl"), &f, None);
    assert_eq!(p.backend, Some(Backend::Cargo));
    assert!(p.reason.contains("rust-lld"), "{}", p.reason);
    assert_eq!(p.linker.as_deref(), Some("rust-lld"));
    assert_eq!(p.fallbacks, [Backend::Zig]);
    let f = Facts {
        host_arch: true,
        ..f
    };
    let p = choose(&t("x86_64-unknown-linux-musl"), &f, None);
    assert!(p.reason.contains("the host `cc`"), "{}", p.reason);
    assert_eq!(p.linker, None);
}

#[test]
fn c_code_without_musl_compiler_goes_to_zig_then_cross() {
    let mut f = Facts {
        has_rust_std: true,
        rustup: true,
        c_code: cdep(),
        zig_ready: true,
        ..Facts::default()
    };
    let p = choose(&t("aarch64-unknown-linux-musl"), &f, None);
    assert_eq!(p.backend, Some(Backend::Zig));
    assert!(p.reason.contains("no musl C compiler"), "{}", p.reason);
    f.zig_ready = false;
    f.cross_ready = true;
    assert_eq!(
        choose(&t("aarch64-unknown-linux-musl"), &f, None).backend,
        Some(Backend::Cross)
    );
    f.cross_ready = false;
    let p = choose(&t("aarch64-unknown-linux-musl"), &f, None);
    assert_eq!(p.backend, None);
    assert!(p.fix.unwrap().contains("pip install cargo-zigbuild"));
}

#[test]
fn c_code_with_a_real_musl_compiler_uses_cargo() {
    let f = Facts {
        has_rust_std: true,
        rustup: true,
        c_code: cdep(),
        c_compiler: Some(("x86_64-linux-musl-gcc".into(), "PATH".into())),
        zig_ready: true,
        ..Facts::default()
    };
    let p = choose(&t("x86_64-unknown-linux-musl"), &f, None);
    assert_eq!(p.backend, Some(Backend::Cargo));
    assert!(p.reason.contains("`x86_64-linux-musl-gcc`"), "{}", p.reason);
}

#[test]
fn glibc_suffix_needs_zig_and_forced_backend_never_falls_back() {
    let f = Facts {
        has_rust_std: true,
        rustup: true,
        zig_ready: true,
        cross_ready: true,
        ..Facts::default()
    };
    assert_eq!(
        choose(&t("x86_64-unknown-linux-gnu.2.17"), &f, None).backend,
        Some(Backend::Zig)
    );
    let p = choose(
        &t("aarch64-unknown-linux-musl"),
        &f,
        Some((Backend::Cross, "--backend")),
    );
    assert_eq!(p.backend, Some(Backend::Cross));
    assert!(p.fallbacks.is_empty());
    assert_eq!(p.reason, "forced by --backend");
}

#[test]
fn missing_rust_std_without_rustup_cannot_build() {
    let f = Facts {
        zig_ready: true,
        ..Facts::default()
    };
    let p = choose(&t("aarch64-unknown-linux-musl"), &f, None);
    assert_eq!(p.backend, None);
    let f = Facts {
        rustup: true,
        zig_ready: true,
        ..Facts::default()
    };
    let p = choose(&t("aarch64-unknown-linux-musl"), &f, None);
    assert!(p.install_rust_std);
    assert_eq!(p.backend, Some(Backend::Cargo));
}

#[test]
fn zigbuild_takes_what_the_wrappers_do_not_handle() {
    let f = Facts {
        has_rust_std: true,
        rustup: true,
        zig_ready: true,
        zigbuild_ready: true,
        ..Facts::default()
    };
    let p = choose(&t("x86_64-pc-windows-gnu"), &f, None);
    assert_eq!(p.backend, Some(Backend::Zigbuild));
    assert_eq!(p.linker, None);
    // `--backend zig` means zig as the toolchain, through cargo-zigbuild where needed.
    let forced = Some((Backend::Zig, "--backend"));
    assert_eq!(
        choose(&t("x86_64-pc-windows-gnu"), &f, forced).backend,
        Some(Backend::Zigbuild)
    );
    let p = choose(&t("aarch64-unknown-linux-musl"), &f, forced);
    assert_eq!(p.backend, Some(Backend::Zig));
    assert_eq!(p.cc.as_deref(), Some("zig cc -target aarch64-linux-musl"));
    // The wrappers need zig alone.
    let f = Facts {
        zigbuild_ready: false,
        c_code: cdep(),
        ..f
    };
    assert_eq!(
        choose(&t("aarch64-unknown-linux-musl"), &f, None).backend,
        Some(Backend::Zig)
    );
}

#[test]
fn cargo_and_zig_targets_share_one_invocation_cross_takes_one_each() {
    let plan = |triple: &str, backend| TargetPlan {
        backend: Some(backend),
        ..choose(&t(triple), &Facts::default(), None)
    };
    let entry = |tp: &TargetPlan| Entry {
        package: "p".into(),
        version: "1.0.0".into(),
        binary: "b".into(),
        target: tp.target.clone(),
        platform: tp.platform,
        backend: tp.backend,
        reason: String::new(),
        outputs: Outputs {
            binary: "x".into(),
            archive: "y".into(),
        },
    };
    let targets = vec![
        plan("x86_64-unknown-linux-musl", Backend::Cargo),
        plan("aarch64-unknown-linux-musl", Backend::Zig),
        plan("armv7-unknown-linux-musleabihf", Backend::Cross),
        plan("riscv64gc-unknown-linux-gnu", Backend::Cross),
        plan("x86_64-pc-windows-gnu", Backend::Zigbuild),
    ];
    let entries: Vec<Entry> = targets.iter().map(entry).collect();
    let calls: Vec<(Backend, Vec<String>)> = invocations(&targets, &entries)
        .into_iter()
        .map(|i| {
            (
                i.program,
                i.targets.iter().map(ToString::to_string).collect(),
            )
        })
        .collect();
    let v = |s: &[&str]| s.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        calls,
        [
            (
                Backend::Cargo,
                v(&["x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"])
            ),
            (Backend::Cross, v(&["armv7-unknown-linux-musleabihf"])),
            (Backend::Cross, v(&["riscv64gc-unknown-linux-gnu"])),
            (Backend::Zigbuild, v(&["x86_64-pc-windows-gnu"])),
        ]
    );
}

#[test]
fn table_aligns_columns() {
    let rows = vec![
        vec!["a".to_owned(), "bb".into()],
        vec!["ccc".into(), "d".into()],
    ];
    assert_eq!(table(&rows), "a    bb\nccc  d\n");
}

#[test]
fn macos_links_with_zig_and_no_sdk_unless_a_framework_is_linked() {
    let f = Facts {
        has_rust_std: true,
        rustup: true,
        zig_ready: true,
        zigbuild_ready: true,
        cross_ready: true,
        cross_found: true,
        ..Facts::default()
    };
    for triple in ["aarch64-apple-darwin", "universal2-apple-darwin"] {
        let p = choose(&t(triple), &f, None);
        assert_eq!(p.backend, Some(Backend::Zigbuild), "{triple}");
        assert!(
            p.reason.starts_with(
                "no Apple framework in the dependency graph, so zig links it without a macOS SDK"
            ),
            "{}",
            p.reason
        );
        // cross has no images for Apple targets.
        assert!(p.fallbacks.is_empty(), "{:?}", p.fallbacks);
    }
    let fw = vec![
        FrameworkUse {
            package: "core-foundation-sys".into(),
            framework: "CoreFoundation".into(),
        },
        FrameworkUse {
            package: "security-framework-sys".into(),
            framework: "Security".into(),
        },
    ];
    let f = Facts {
        frameworks: fw.clone(),
        ..f
    };
    let p = choose(&t("aarch64-apple-darwin"), &f, None);
    assert_eq!(p.backend, None);
    assert_eq!(
        p.reason,
        "`core-foundation-sys` links Apple framework `CoreFoundation` (and 1 more), which only the macOS SDK provides, and `SDKROOT` is not set"
    );
    assert!(p.fix.unwrap().starts_with("set `SDKROOT` to a macOS SDK"));
    assert_eq!(p.frameworks, fw);
    let f = Facts {
        sdkroot: Some("/sdk/MacOSX.sdk".into()),
        ..f
    };
    let p = choose(&t("aarch64-apple-darwin"), &f, None);
    assert_eq!(p.backend, Some(Backend::Zigbuild));
    assert!(
        p.reason.contains("the macOS SDK comes from `SDKROOT`"),
        "{}",
        p.reason
    );
}

#[test]
fn what_is_missing_is_said_exactly_never_a_tool_that_is_there() {
    let base = Facts {
        has_rust_std: true,
        rustup: true,
        ..Facts::default()
    };
    // zig here, cargo-zigbuild not: macOS and Windows need cargo-zigbuild.
    let f = Facts {
        zig_ready: true,
        ..base.clone()
    };
    let p = choose(&t("aarch64-apple-darwin"), &f, None);
    assert_eq!(p.backend, None);
    assert!(
        p.reason.ends_with(
            "; zig is installed, but cargo-zigbuild, which links this target with it, is not"
        ),
        "{}",
        p.reason
    );
    assert!(!p.reason.contains("neither"), "{}", p.reason);
    assert_eq!(p.fix.as_deref(), Some("pip install cargo-zigbuild"));
    let f = Facts {
        zig_ready: true,
        cross_found: true,
        ..base.clone()
    };
    let p = choose(&t("x86_64-pc-windows-gnu"), &f, None);
    assert!(
        p.reason
            .ends_with("is not, and `cross` has no container engine (docker or podman) to run in"),
        "{}",
        p.reason
    );
    // Nothing at all.
    let p = choose(&t("x86_64-pc-windows-gnu"), &base, None);
    assert!(
        p.reason
            .ends_with("; neither zig nor cargo-zigbuild is installed, nor is `cross`"),
        "{}",
        p.reason
    );
    let p = choose(
        &t("aarch64-unknown-linux-musl"),
        &Facts {
            c_code: cdep(),
            ..base
        },
        None,
    );
    assert!(
        p.reason.ends_with("; zig is not installed, nor is `cross`"),
        "{}",
        p.reason
    );
}

#[test]
fn i686_musl_links_with_rust_lld_and_windows_without_mingw_uses_zigbuild() {
    let f = Facts {
        has_rust_std: true,
        rustup: true,
        zig_ready: true,
        zigbuild_ready: true,
        ..Facts::default()
    };
    let p = choose(&t("i686-unknown-linux-musl"), &f, None);
    assert_eq!(p.backend, Some(Backend::Cargo));
    assert_eq!(p.linker.as_deref(), Some("rust-lld"));
    assert_eq!(p.platform.to_string(), "linux/386");
    let p = choose(&t("x86_64-pc-windows-gnu"), &f, None);
    assert_eq!(p.backend, Some(Backend::Zigbuild));
    assert!(
        p.reason
            .starts_with("no linker for `x86_64-pc-windows-gnu`"),
        "{}",
        p.reason
    );
}

#[test]
fn msvc_targets_are_refused_naming_the_gnu_target_or_cargo_xwin() {
    let f = Facts {
        has_rust_std: true,
        rustup: true,
        zig_ready: true,
        zigbuild_ready: true,
        cross_ready: true,
        cross_linker: Some("x86_64-w64-mingw32-gcc".into()),
        ..Facts::default()
    };
    for (msvc, gnu) in [
        ("x86_64-pc-windows-msvc", "x86_64-pc-windows-gnu"),
        ("aarch64-pc-windows-msvc", "aarch64-pc-windows-gnullvm"),
    ] {
        // Neither the automatic choice nor a forced backend builds it.
        for forced in [None, Some((Backend::Zigbuild, "--backend"))] {
            let p = choose(&t(msvc), &f, forced);
            assert_eq!(p.backend, None, "{msvc}: {}", p.reason);
            assert!(p.fallbacks.is_empty());
            assert!(
                p.reason.contains("zig and cross cannot link MSVC targets"),
                "{}",
                p.reason
            );
            let fix = p.fix.unwrap();
            assert!(
                fix.starts_with(&format!("use `--target {gnu}` instead, which zig links, or run `cargo xwin build --target {msvc}` on a machine that can download the MSVC SDK")),
                "{fix}"
            );
        }
        // Its gnu twin is built as before.
        assert!(choose(&t(gnu), &f, None).backend.is_some());
    }
    assert_eq!(
        choose::gnu_twin("i686-uwp-windows-msvc").as_deref(),
        Some("i686-uwp-windows-gnu")
    );
    assert_eq!(choose::gnu_twin("thumbv7a-pc-windows-msvc"), None);
    // On a Windows MSVC host, Microsoft's linker is there: cargo builds it.
    let host = Facts {
        host_msvc: true,
        is_host: true,
        ..f
    };
    assert_eq!(
        choose(&t("x86_64-pc-windows-msvc"), &host, None).backend,
        Some(Backend::Cargo)
    );
}

#[test]
fn backend_choice_is_one_enum_for_the_command_line_and_the_config() {
    use clap::ValueEnum as _;
    let de = |s: &str| serde_json::from_value::<BackendChoice>(serde_json::json!(s));
    assert_eq!(de("auto").unwrap(), BackendChoice::Auto);
    assert_eq!(de("zig").unwrap(), BackendChoice::Forced(Backend::Zig));
    assert_eq!(
        de("zigbuild").unwrap(),
        BackendChoice::Forced(Backend::Zigbuild)
    );
    let err = de("ziggy").unwrap_err().to_string();
    assert!(
        err.contains("`ziggy`") && err.contains("`auto`, `cargo`, `zig`, `zigbuild`, `cross`"),
        "{err}"
    );
    let words: Vec<String> = BackendChoice::value_variants()
        .iter()
        .map(|v| v.to_possible_value().unwrap().get_name().to_owned())
        .collect();
    assert_eq!(words, ["auto", "cargo", "zig", "zigbuild", "cross"]);
    // The words are the plan's own (what `plan --format json` prints).
    for b in [
        Backend::Cargo,
        Backend::Zig,
        Backend::Zigbuild,
        Backend::Cross,
    ] {
        assert_eq!(
            BackendChoice::from_str(b.as_str(), false),
            Ok(BackendChoice::Forced(b))
        );
        assert_eq!(serde_json::to_value(b).unwrap(), b.as_str());
    }
}
