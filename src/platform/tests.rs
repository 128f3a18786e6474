use super::*;
use crate::targets::Rustc;
use crate::testgen::known;

#[test]
fn rustcs_cfg_gives_each_triple_its_platform_and_back() {
    // rustc prints cfg for targets whose rust-std is not installed (armv7, riscv64
    // and ppc64le cannot be downloaded here): mapping needs no rust-std.
    let cases = [
        ("x86_64-unknown-linux-musl", "linux/amd64"),
        ("aarch64-unknown-linux-musl", "linux/arm64"),
        ("x86_64-unknown-linux-gnu", "linux/amd64"),
        ("i686-unknown-linux-musl", "linux/386"),
        ("i586-unknown-linux-gnu", "linux/386"),
        ("armv7-unknown-linux-musleabihf", "linux/arm/v7"),
        ("arm-unknown-linux-musleabihf", "linux/arm/v6"),
        ("armv5te-unknown-linux-musleabi", "linux/arm/v5"),
        ("riscv64gc-unknown-linux-gnu", "linux/riscv64"),
        ("powerpc64le-unknown-linux-musl", "linux/ppc64le"),
        ("s390x-unknown-linux-gnu", "linux/s390x"),
        ("mips64el-unknown-linux-muslabi64", "linux/mips64le"),
        ("loongarch64-unknown-linux-musl", "linux/loong64"),
        ("x86_64-pc-windows-gnu", "windows/amd64"),
        ("i686-pc-windows-gnu", "windows/386"),
        ("aarch64-pc-windows-msvc", "windows/arm64"),
        ("x86_64-apple-darwin", "darwin/amd64"),
        ("aarch64-apple-darwin", "darwin/arm64"),
        ("x86_64-unknown-freebsd", "freebsd/amd64"),
        ("wasm32-wasip1", "wasip1/wasm"),
        ("universal2-apple-darwin", "darwin/universal2"),
    ];
    for (triple, platform) in cases {
        let t = known(triple);
        assert_eq!(t.platform().to_string(), platform, "{triple}");
        assert_eq!(Platform::parse(platform).unwrap(), t.platform());
    }
    // A platform alone means the musl (else glibc) triple for Linux, MinGW for Windows.
    for (platform, triple) in [
        ("linux/amd64", "x86_64-unknown-linux-musl"),
        ("linux/arm64", "aarch64-unknown-linux-musl"),
        ("linux/386", "i686-unknown-linux-musl"),
        ("linux/arm/v7", "armv7-unknown-linux-musleabihf"),
        ("linux/arm/v6", "arm-unknown-linux-musleabihf"),
        ("linux/arm/v5", "armv5te-unknown-linux-musleabi"),
        ("linux/riscv64", "riscv64gc-unknown-linux-musl"),
        ("linux/ppc64le", "powerpc64le-unknown-linux-musl"),
        ("linux/s390x", "s390x-unknown-linux-musl"),
        ("linux/mips64le", "mips64el-unknown-linux-muslabi64"),
        ("linux/loong64", "loongarch64-unknown-linux-musl"),
        ("windows/amd64", "x86_64-pc-windows-gnu"),
        ("windows/386", "i686-pc-windows-gnu"),
        ("windows/arm64", "aarch64-pc-windows-gnullvm"),
        ("darwin/arm64", "aarch64-apple-darwin"),
        ("darwin/universal2", "universal2-apple-darwin"),
        ("macos/amd64", "x86_64-apple-darwin"),
    ] {
        let p = Platform::parse(platform).unwrap();
        let t = Rustc::for_tests().for_platform(&p).unwrap();
        assert_eq!(t.triple(), triple, "{platform}");
        assert_eq!(t.platform(), p, "{platform}");
    }
}

#[test]
fn platforms_normalise_like_buildx() {
    for (given, want) in [
        ("linux/arm64/v8", "linux/arm64"),
        ("linux/aarch64", "linux/arm64"),
        ("linux/x86_64", "linux/amd64"),
        ("linux/amd64/v1", "linux/amd64"),
        ("linux/amd64/v3", "linux/amd64/v3"),
        ("LINUX/AMD64", "linux/amd64"),
        ("linux/i386", "linux/386"),
        ("linux/arm", "linux/arm/v7"),
        ("linux/armhf", "linux/arm/v7"),
        ("linux/armel", "linux/arm/v6"),
        ("linux/arm/6", "linux/arm/v6"),
        ("linux/ppc64el", "linux/ppc64le"),
        ("macos/arm64", "darwin/arm64"),
    ] {
        assert_eq!(Platform::parse(given).unwrap().to_string(), want, "{given}");
    }
    for bad in [
        "linux",
        "linux/",
        "/amd64",
        "linux/amd64/v1/x",
        "linux/a b",
        "linux/é",
    ] {
        assert!(Platform::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn formats_suffixes_and_archives_follow_the_os() {
    let p = |s: &str| Platform::parse(s).unwrap();
    assert_eq!(p("windows/amd64").exe_suffix(), ".exe");
    assert_eq!(p("windows/amd64").archive_ext(), "zip");
    assert_eq!(p("windows/amd64").format(), Format::Pe);
    assert_eq!(p("darwin/universal2").format(), Format::MachO);
    assert_eq!(p("linux/386").format(), Format::Elf);
    assert_eq!(p("linux/386").archive_ext(), "tar.gz");
    assert_eq!(p("wasip1/wasm").exe_suffix(), ".wasm");
}

#[test]
fn glibc_suffix_is_kept_for_zig() {
    let t = known("x86_64-unknown-linux-gnu.2.17");
    assert_eq!(t.triple(), "x86_64-unknown-linux-gnu");
    assert_eq!(t.to_string(), "x86_64-unknown-linux-gnu.2.17");
    assert!(t.has_glibc_suffix());
    assert!(t.name().has_glibc_suffix());
    assert!(
        Rustc::for_tests()
            .target("x86_64-unknown-linux-musl.1.2")
            .is_err()
    );
}

#[test]
fn unknown_targets_and_platforms_get_the_closest_names_first() {
    let e = Rustc::for_tests()
        .target("mips-unknown-linux-musll")
        .unwrap_err()
        .to_string();
    // One line: the closest names first, then where the whole list is; never the list.
    assert!(
        e.starts_with(
            "unknown target `mips-unknown-linux-musll` (hint: did you mean `mips-unknown-linux-musl`, "
        ),
        "{e}"
    );
    assert!(
        e.contains("? `cargo multiarch plan --list-targets` lists rustc's "),
        "{e}"
    );
    assert!(!e.contains("aarch64-unknown-linux-musl"), "{e}");
    assert!(e.len() < 400 && !e.contains('\n'), "{e}");
    assert_eq!(e.matches('`').count() / 2, 5 + 2, "five suggestions: {e}");
    let e = Rustc::for_tests()
        .target("wholly-made-up")
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!(
            "unknown target `wholly-made-up` (hint: `cargo multiarch plan --list-targets` lists rustc's {} targets; a custom target is a path to its `.json` file)",
            Rustc::for_tests().target_list().unwrap().len()
        )
    );
    let e = Rustc::for_tests()
        .for_platform(&Platform::parse("linux/vax").unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("no target rustc knows builds for platform `linux/vax`"),
        "{e}"
    );
    assert!(e.contains("`linux/arm/v7`"), "{e}");
    // A near miss is suggested first.
    let e = Rustc::for_tests()
        .for_platform(&Platform::parse("linux/amd65").unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(
            "(hint: did you mean `linux/amd64`? other platforms with a target here: `linux/arm64`, "
        ),
        "{e}"
    );
    for bad in ["../x", "a b", "-x"] {
        let e = Rustc::for_tests().target(bad).unwrap_err().to_string();
        assert!(e.contains("is not a target"), "{e}");
    }
}

#[test]
fn custom_target_files_are_read_or_named_in_the_error() {
    let e = Rustc::for_tests()
        .target("no/such/file.json")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("custom target file `no/such/file.json` does not exist"),
        "{e}"
    );
}

#[test]
fn resolve_splits_commas_dedups_and_rejects_one_platform_twice() {
    let r = Rustc::for_tests();
    let got = r
        .resolve(
            &["aarch64-unknown-linux-musl,x86_64-unknown-linux-musl".into()],
            &["linux/arm64".into()],
        )
        .unwrap();
    let triples: Vec<_> = got.iter().map(Target::triple).collect();
    assert_eq!(
        triples,
        ["aarch64-unknown-linux-musl", "x86_64-unknown-linux-musl"]
    );
    let e = r
        .resolve(
            &[
                "x86_64-unknown-linux-musl".into(),
                "x86_64-unknown-linux-gnu".into(),
            ],
            &[],
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("both map to platform `linux/amd64`"), "{e}");
}

#[test]
fn empty_flag_values_and_items_are_errors_naming_the_flag() {
    let r = Rustc::for_tests();
    for (targets, platforms, want) in [
        (
            vec![String::new()],
            vec![],
            "`--target` was given an empty value",
        ),
        (
            vec![],
            vec![" , ".to_owned()],
            "`--platform` was given an empty value",
        ),
        (
            vec![],
            vec!["linux/amd64,".to_owned()],
            "`--platform` value `linux/amd64,` has an empty item (hint: drop the stray comma: `--platform linux/amd64`)",
        ),
        (
            vec!["x86_64-unknown-linux-musl,,aarch64-unknown-linux-musl".to_owned()],
            vec![],
            "`--target` value `x86_64-unknown-linux-musl,,aarch64-unknown-linux-musl` has an empty item",
        ),
    ] {
        let e = r.resolve(&targets, &platforms).unwrap_err().to_string();
        assert!(e.starts_with(want), "{e}");
        assert!(e.ends_with(')') && e.contains("(hint: "), "{e}");
    }
    // No flag at all is no error: the caller falls back to the config or the defaults.
    assert!(r.resolve(&[], &[]).unwrap().is_empty());
}

#[test]
fn target_names_are_plain_file_names() {
    for good in [
        "x86_64-unknown-linux-musl",
        "x86_64-unknown-linux-gnu.2.17",
        "My_Target",
    ] {
        assert_eq!(TargetName::new(good).unwrap().as_str(), good);
    }
    for bad in ["", ".x", "-x", "a/b", "a..b", "a b", "é", &"x".repeat(129)] {
        assert!(TargetName::new(bad).is_err(), "{bad:?}");
    }
}
