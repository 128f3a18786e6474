use cargo_metadata::{Metadata, MetadataCommand};

use super::*;
use crate::process::Process;
use crate::testgen::write_file as write;
use crate::workspace::{c_code_filtered, c_code_on_platform};

const ARM: &str = "aarch64-unknown-linux-musl";
const X86: &str = "x86_64-unknown-linux-musl";
const GNU: &str = "x86_64-unknown-linux-gnu";
const WIN: &str = "x86_64-pc-windows-gnu";

/// What rustc 1.95 prints for `aarch64-unknown-linux-musl`.
const ARM_CFG: &str = "debug_assertions\npanic=\"unwind\"\ntarget_abi=\"\"\ntarget_arch=\"aarch64\"\ntarget_endian=\"little\"\ntarget_env=\"musl\"\ntarget_family=\"unix\"\ntarget_feature=\"crt-static\"\ntarget_feature=\"neon\"\ntarget_has_atomic=\"64\"\ntarget_os=\"linux\"\ntarget_pointer_width=\"64\"\ntarget_vendor=\"unknown\"\nunix\n";

/// A library package at `dir/name`, with `links` (and so a build script) when given.
fn lib(dir: &Utf8Path, name: &str, links: Option<&str>, extra: &str) {
    let links = links
        .map(|l| format!("links = \"{l}\"\n"))
        .unwrap_or_default();
    write(
        dir,
        &format!("{name}/Cargo.toml"),
        &format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n{links}\n{extra}"
        ),
    );
    write(dir, &format!("{name}/src/lib.rs"), "");
    write(dir, &format!("{name}/build.rs"), "fn main() {}\n");
}

/// A workspace (path dependencies only, so no network) whose root package `app`
/// reaches C code through every kind of platform condition.
fn fixture() -> (tempfile::TempDir, Utf8PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = Utf8PathBuf::try_from(tmp.path().to_owned()).unwrap();
    write(
        &dir,
        "Cargo.toml",
        r#"[package]
name = "app"
version = "0.1.0"
edition = "2021"

[workspace]

[features]
c = ["dep:optdep"]

[dependencies]
plain = { path = "plain" }
optdep = { path = "optdep", optional = true }

[target.'cfg(target_arch = "aarch64")'.dependencies]
armdep = { path = "armdep" }

[target.'cfg(target_env = "musl")'.dependencies]
musldep = { path = "musldep" }

[target.x86_64-unknown-linux-musl.dependencies]
x86dep = { path = "x86dep" }

[target.'cfg(windows)'.dependencies]
windep = { path = "windep" }

[target.'cfg(all(unix, not(target_arch = "aarch64")))'.build-dependencies]
unixbuild = { path = "unixbuild" }

[dev-dependencies]
devdep = { path = "devdep" }
"#,
    );
    write(&dir, "src/main.rs", "fn main() {}\n");
    lib(
        &dir,
        "plain",
        None,
        "[dependencies]\ndeep = { path = \"../deep\" }\n",
    );
    lib(
        &dir,
        "deep",
        None,
        "[target.'cfg(target_pointer_width = \"64\")'.dependencies]\ndeeplinks = { path = \"../deeplinks\" }\n",
    );
    lib(&dir, "deeplinks", Some("deep64"), "");
    lib(&dir, "optdep", Some("opt"), "");
    lib(&dir, "armdep", Some("armlib"), "");
    lib(
        &dir,
        "musldep",
        None,
        "[build-dependencies]\ncc = { path = \"../cc\" }\n",
    );
    lib(&dir, "cc", None, "");
    lib(&dir, "x86dep", Some("x86lib"), "");
    lib(&dir, "windep", Some("winlib"), "");
    lib(&dir, "unixbuild", Some("unixlib"), "");
    lib(&dir, "devdep", Some("devlib"), "");
    (tmp, dir)
}

fn cargo_metadata(dir: &Utf8Path, extra: &[&str]) -> Metadata {
    let out = Process::cargo()
        .args(["metadata", "--format-version=1", "--offline"])
        .args(extra)
        .cwd(dir)
        .output()
        .unwrap();
    MetadataCommand::parse(String::from_utf8(out.stdout).unwrap()).unwrap()
}

fn root_id(m: &Metadata) -> String {
    m.root_package().unwrap().id.repr.clone()
}

fn names(c: &[CCode]) -> Vec<String> {
    c.iter()
        .map(|c| format!("{}: {}", c.package, c.why))
        .collect()
}

fn cfg_of(text: &str) -> Vec<Cfg> {
    parse_cfg(text).unwrap()
}

#[test]
fn platform_conditions_are_evaluated_like_cargo() {
    let (_tmp, dir) = fixture();
    let full = cargo_metadata(&dir, &[]);
    let root = root_id(&full);
    let scan = |triple: &str, cfg: &[Cfg]| {
        names(&c_code_on_platform(
            &full,
            std::iter::once(root.as_str()),
            triple,
            cfg,
        ))
    };

    // Known answers, with a fixed cfg: a `cfg(target_arch)` dependency, a
    // `cfg(target_env = "musl")` one compiling C through a build-dependency on `cc`,
    // a transitive `cfg(target_pointer_width)` one, and never the dev-dependency, the
    // plain-triple dependency of another target or the `not(aarch64)` build-dependency.
    assert_eq!(
        scan(ARM, &cfg_of(ARM_CFG)),
        [
            "armdep: links = \"armlib\"",
            "deeplinks: links = \"deep64\"",
            "musldep: build-dependency `cc`",
        ]
    );
    // A plain triple matches by name, whatever the cfg.
    let x86_cfg = ARM_CFG.replace("\"aarch64\"", "\"x86_64\"");
    assert_eq!(
        scan(X86, &cfg_of(&x86_cfg)),
        [
            "deeplinks: links = \"deep64\"",
            "musldep: build-dependency `cc`",
            "unixbuild: links = \"unixlib\"",
            "x86dep: links = \"x86lib\"",
        ]
    );
    assert!(
        !scan("x86_64-unknown-linux-gnu", &cfg_of(&x86_cfg))
            .iter()
            .any(|c| c.starts_with("x86dep")),
        "a triple dependency is for that triple only"
    );

    // And the same answers as `cargo metadata --filter-platform`, with rustc's real cfg.
    for triple in [
        ARM,
        X86,
        GNU,
        WIN,
        "armv7-unknown-linux-musleabihf",
        "i686-unknown-linux-gnu",
    ] {
        let cfg = target_cfg(None, &dir, triple).unwrap();
        let filtered = cargo_metadata(&dir, &[&format!("--filter-platform={triple}")]);
        let want = names(&c_code_filtered(&filtered, std::iter::once(root.as_str())));
        assert_eq!(scan(triple, &cfg), want, "{triple}");
        assert!(!want.iter().any(|c| c.starts_with("devdep")), "{want:?}");
    }
    assert_eq!(
        scan(WIN, &target_cfg(None, &dir, WIN).unwrap()),
        [
            "deeplinks: links = \"deep64\"",
            "windep: links = \"winlib\""
        ]
    );

    // Features come from the resolve: the one made with the user's feature flags.
    let with_c = cargo_metadata(&dir, &["--features=c"]);
    let on = names(&c_code_on_platform(
        &with_c,
        std::iter::once(root.as_str()),
        GNU,
        &target_cfg(None, &dir, GNU).unwrap(),
    ));
    assert!(on.contains(&"optdep: links = \"opt\"".to_owned()), "{on:?}");
    assert!(
        !scan(GNU, &target_cfg(None, &dir, GNU).unwrap())
            .iter()
            .any(|c| c.starts_with("optdep"))
    );
}

#[test]
fn rustc_output_is_parsed_strictly() {
    let cfg = parse_cfg(ARM_CFG).unwrap();
    assert!(cfg.contains(&"target_arch=\"aarch64\"".parse().unwrap()));
    assert!(cfg.contains(&"target_abi=\"\"".parse().unwrap()));
    for bad in [
        "",
        "unix\n",                           // no target_arch
        "target_arch=\"aarch64\"",          // no final newline
        "target_arch=\"aarch64\"\n\n",      // an empty line
        "target_arch=\"aarch64\"\nx y\n",   // not a cfg
        "target_arch=\"aarch64\"\nx=\"y\n", // unterminated
        "target_arch=aarch64\n",            // unquoted value
    ] {
        assert!(parse_cfg(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn the_cache_holds_one_rustcs_answer_and_rejects_anything_else() {
    let tmp = tempfile::tempdir().unwrap();
    let target_dir = Utf8PathBuf::try_from(tmp.path().to_owned()).unwrap();
    let cache = Cache::new(
        &target_dir,
        "rustc 1.95.0\nhost: x86_64-unknown-linux-gnu\n",
    );
    assert_eq!(cache.read(ARM), None, "empty");
    let cfg = cfg_of(ARM_CFG);
    cache.write(ARM, &cfg);
    let file = target_dir
        .join("cargo-multiarch/rustc-cfg")
        .join(format!("{ARM}.cfg"));
    assert!(file.is_file());
    assert_eq!(cache.read(ARM), Some(cfg.clone()));
    // Keyed by the whole `rustc -vV` and the target.
    let other = Cache::new(
        &target_dir,
        "rustc 1.96.0\nhost: x86_64-unknown-linux-gnu\n",
    );
    assert_eq!(other.read(ARM), None);
    assert_eq!(cache.read(X86), None);
    // A file copied to another target's name names the wrong target.
    std::fs::copy(&file, file.with_file_name(format!("{X86}.cfg"))).unwrap();
    assert_eq!(cache.read(X86), None);

    // Tampered with: every change is a miss, never a wrong answer.
    let good = std::fs::read_to_string(&file).unwrap();
    for bad in [
        good.replace("target_arch = \"aarch64\"", "target_arch = aarch64"),
        good.replace("target_arch = \"aarch64\"\n", ""),
        good.replace("# key", "# kee"),
        good.replacen("cargo-multiarch", "cargo-multi", 1),
        good.trim_end().to_owned(),
        format!("{good}\n"),
        format!("{good}not a cfg\n"),
        format!("{good}{}\n", "x".repeat(70_000)),
        String::new(),
    ] {
        std::fs::write(&file, &bad).unwrap();
        assert_eq!(cache.read(ARM), None, "{bad:?}");
    }
    // A symlink is not followed; a directory is not a file.
    std::fs::remove_file(&file).unwrap();
    let elsewhere = target_dir.join("elsewhere.cfg");
    std::fs::write(&elsewhere, &good).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&elsewhere, &file).unwrap();
        assert_eq!(cache.read(ARM), None);
        std::fs::remove_file(&file).unwrap();
    }
    std::fs::create_dir(&file).unwrap();
    assert_eq!(cache.read(ARM), None);
    // A name that is not a plain file name is never used.
    assert_eq!(cache.path("../x"), None);
    assert_eq!(cache.path(""), None);
}

#[test]
fn a_miss_runs_rustc_and_fills_the_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = Utf8PathBuf::try_from(tmp.path().to_owned()).unwrap();
    let cache = Cache::new(&dir, "some rustc\n");
    let cfg = target_cfg(Some(&cache), &dir, ARM).unwrap();
    assert!(cfg.contains(&"target_arch=\"aarch64\"".parse().unwrap()));
    assert_eq!(cache.read(ARM), Some(cfg.clone()));
    // A hit is what the cache says, without rustc.
    let fake = cfg_of("target_arch=\"aarch64\"\nfrom_cache\n");
    cache.write(ARM, &fake);
    assert_eq!(target_cfg(Some(&cache), &dir, ARM).unwrap(), fake);
    let err = target_cfg(None, &dir, "nonsense-target").unwrap_err();
    assert!(
        format!("{err:#}").contains("could not read the configuration of target `nonsense-target`"),
        "{err:#}"
    );
}
