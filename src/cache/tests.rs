use std::ffi::OsString;

use super::*;

fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

#[test]
fn a_wrapper_is_sccache_by_its_file_stem() {
    for yes in [
        "sccache",
        "/usr/local/bin/sccache",
        "SCCACHE.EXE",
        " sccache ",
    ] {
        assert!(names_sccache(yes), "{yes}");
    }
    for no in ["ccache", "/opt/sccache-dist", "cachepot", ""] {
        assert!(!names_sccache(no), "{no}");
    }
}

#[test]
fn the_cache_is_the_choice_or_the_users_sccache() {
    let root = Utf8Path::new("/w");
    let none = UserConfig::for_tests(&[], &[("RUSTC", "/r")]);
    assert_eq!(resolve(None, &none, root).unwrap(), None);
    assert_eq!(resolve(Some(Cache::None), &none, root).unwrap(), None);
    // Auto: the user's RUSTC_WRAPPER is sccache; cargo runs it, the tool adds none.
    let users = UserConfig::for_tests(
        &[],
        &[("RUSTC_WRAPPER", "/opt/sc/sccache"), ("RUSTC", "/r")],
    );
    let s = resolve(None, &users, root).unwrap().unwrap();
    assert_eq!(s.program, "/opt/sc/sccache");
    assert!(s.users_wrapper);
    // The user chose rustc: no shim, so the remapping stays in the rustflags.
    assert_eq!(s.shim, None);
    // `--cache none` turns even that off.
    assert_eq!(resolve(Some(Cache::None), &users, root).unwrap(), None);
    // Another wrapper would run instead of sccache: said, with the fix.
    let other = UserConfig::for_tests(&["[build]\nrustc-wrapper = \"ccache\"\n"], &[]);
    let e = resolve(Some(Cache::Sccache), &other, root)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`ccache`") && e.contains("(hint: unset it"),
        "{e}"
    );
}

#[test]
fn the_shim_adds_the_target_args_to_target_compilations_only() {
    let extra = "--remap-path-prefix=/t1=/target\n";
    let target = os(&[
        "--crate-name",
        "a",
        "--target",
        "x86_64-unknown-linux-musl",
        "src/lib.rs",
    ]);
    let mut want = target.clone();
    want.push("--remap-path-prefix=/t1=/target".into());
    assert_eq!(shim_args(&target, extra), want);
    let glued = os(&["--crate-name", "a", "--target=x86_64-unknown-linux-musl"]);
    assert_eq!(shim_args(&glued, extra).len(), 4);
    // Host crates (build scripts, proc-macros) and cargo's queries are left alone.
    for args in [
        os(&["--crate-name", "build_script_build", "build.rs"]),
        os(&["-vV"]),
        os(&[
            "-",
            "--crate-name",
            "___",
            "--print=file-names",
            "--target",
            "x",
        ]),
    ] {
        assert_eq!(shim_args(&args, extra), args);
    }
    assert_eq!(shim_args(&target, ""), target);
}

const BEFORE: &str = r#"{"stats":{"compile_requests":3,"requests_unsupported_compiler":1,
 "cache_hits":{"counts":{"Rust":2},"adv_counts":{}},
 "cache_misses":{"counts":{"Rust":1,"C/C++":4},"adv_counts":{}},
 "not_cached":{"crate-type":2}},"version":"0.16.0"}"#;
const AFTER: &str = r#"{"stats":{"compile_requests":30,"requests_unsupported_compiler":1,
 "cache_hits":{"counts":{"Rust":9,"C/C++":2},"adv_counts":{}},
 "cache_misses":{"counts":{"Rust":2,"C/C++":4},"adv_counts":{}},
 "not_cached":{"crate-type":5,"-":1},"new_field":true},"version":"0.16.0"}"#;

#[test]
fn a_runs_share_is_the_difference_of_two_readings() {
    let before = Stats::parse(BEFORE.as_bytes()).unwrap();
    assert_eq!(before.rust, Counts { hits: 2, misses: 1 });
    assert_eq!(before.c, Counts { hits: 0, misses: 4 });
    let run = Stats::parse(AFTER.as_bytes()).unwrap().since(&before);
    assert_eq!(run.rust, Counts { hits: 7, misses: 1 });
    assert_eq!(run.c, Counts { hits: 2, misses: 0 });
    assert_eq!(
        run.not_cacheable.into_iter().collect::<Vec<_>>(),
        [("-".to_owned(), 1), ("crate-type".to_owned(), 3)]
    );
    assert_eq!(run.unsupported, 0);
    let line = Stats::parse(AFTER.as_bytes())
        .unwrap()
        .since(&before)
        .line();
    assert_eq!(
        line,
        "Rust 7/8 hits (88%), C 2/2 hits (100%), 4 not cacheable (other 1, crate-type 3)"
    );
    // A restarted server counts from zero: nothing negative.
    let restarted = Stats::parse(BEFORE.as_bytes())
        .unwrap()
        .since(&Stats::parse(AFTER.as_bytes()).unwrap());
    assert_eq!(restarted.rust, Counts::default());
    assert_eq!(
        Stats::default().line(),
        "Rust nothing cacheable, C nothing cacheable"
    );
    assert!(Stats::parse(b"not json").is_err());
}

#[test]
fn with_auditable_the_workspaces_crates_skip_sccache() {
    let script = dispatcher_script("/opt/my sccache".into(), "cargo-multiarch-auditable");
    assert_eq!(
        script,
        "#!/bin/sh\n# Written by cargo-multiarch for `--cache sccache` with `--auditable`: the\n# workspace's own crates go to the auditable wrapper, uncached; the rest to sccache.\ncase ${1##*/} in\n  cargo-multiarch-auditable) exec \"$@\" ;;\nesac\nexec '/opt/my sccache' \"$@\"\n"
    );
}

#[test]
fn the_c_compiler_wrapper_hands_make_s_compilations_to_sccache() {
    let script = cc_wrapper_script(
        "x86_64-linux-musl-gcc",
        "gcc (Debian 12.2.0) 12.2.0",
        "x86_64-unknown-linux-musl",
    );
    assert!(
        script.contains("Compiler: gcc (Debian 12.2.0) 12.2.0\n"),
        "{script}"
    );
    assert!(
        script.contains("*) exec \"${MULTIARCH_SCCACHE}\" \"$0\" \"$@\" ;;"),
        "{script}"
    );
    assert!(
        script.ends_with("exec x86_64-linux-musl-gcc \"$@\"\n"),
        "{script}"
    );
    assert_eq!(
        cc_wrapper_path("/t".into(), "x86_64-unknown-linux-musl"),
        "/t/cargo-multiarch/sccache/cc/x86_64-unknown-linux-musl/cc"
    );
    // Run for real with a fake compiler and a fake sccache: `-c` goes to sccache (with
    // the script as the compiler), a link does not, nor anything without the cache.
    let dir = tempfile::tempdir().unwrap();
    let d = Utf8Path::from_path(dir.path()).unwrap();
    std::fs::write(d.join("fakecc"), "#!/bin/sh\necho \"cc $*\"\n").unwrap();
    std::fs::write(d.join("fakesc"), "#!/bin/sh\necho \"sccache $*\"\n").unwrap();
    for f in ["fakecc", "fakesc"] {
        crate::process::Process::new("chmod")
            .arg("+x")
            .arg(d.join(f))
            .run()
            .unwrap();
    }
    let cc = d.join("fakecc");
    let wrapper = write_cc_wrapper(d, "t", cc.as_str()).unwrap();
    let run = |args: &[&str], sccache: Option<&Utf8Path>| {
        let mut p = crate::process::Process::new(&wrapper).args(args);
        p = match sccache {
            Some(s) => p.env(ZIG_SCCACHE, s),
            None => p.env_remove(ZIG_SCCACHE),
        };
        String::from_utf8(p.output().unwrap().stdout).unwrap()
    };
    let sc = d.join("fakesc");
    assert_eq!(
        run(&["-c", "a.c"], Some(&sc)),
        format!("sccache {wrapper} -c a.c\n")
    );
    assert_eq!(run(&["a.o", "-o", "a"], Some(&sc)), "cc a.o -o a\n");
    assert_eq!(run(&["-c", "a.c"], None), "cc -c a.c\n");
}
