use cargo_metadata::MetadataCommand;

use super::*;
use crate::digest::Sha256;
use crate::process::Process;
use crate::sbom::graph::is_semver;
use crate::testgen::write_file as write;

const ARM: &str = "aarch64-unknown-linux-musl";
const GNU: &str = "x86_64-unknown-linux-gnu";
const ARM_CFG: &str = "debug_assertions\npanic=\"unwind\"\ntarget_abi=\"\"\ntarget_arch=\"aarch64\"\ntarget_endian=\"little\"\ntarget_env=\"musl\"\ntarget_family=\"unix\"\ntarget_feature=\"crt-static\"\ntarget_os=\"linux\"\ntarget_pointer_width=\"64\"\ntarget_vendor=\"unknown\"\nunix\n";
const GNU_CFG: &str = "debug_assertions\npanic=\"unwind\"\ntarget_abi=\"\"\ntarget_arch=\"x86_64\"\ntarget_endian=\"little\"\ntarget_env=\"gnu\"\ntarget_family=\"unix\"\ntarget_os=\"linux\"\ntarget_pointer_width=\"64\"\ntarget_vendor=\"unknown\"\nunix\n";

fn cfg(text: &str) -> Vec<Cfg> {
    text.lines().map(|l| l.parse().unwrap()).collect()
}

/// A library `name` at `dir/name` with `extra` appended to its manifest.
fn lib(dir: &Utf8Path, name: &str, extra: &str) {
    write(
        dir,
        &format!("{name}/Cargo.toml"),
        &format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\nlicense = \"MIT/Apache-2.0\"\n{extra}"
        ),
    );
    write(dir, &format!("{name}/src/lib.rs"), "");
    write(dir, &format!("{name}/build.rs"), "fn main() {}\n");
}

/// A workspace of path crates whose root `app` has every kind of dependency.
fn fixture() -> (tempfile::TempDir, Utf8PathBuf, Metadata) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = Utf8PathBuf::try_from(tmp.path().to_owned()).unwrap();
    write(
        &dir,
        "Cargo.toml",
        r#"[package]
name = "app"
version = "1.2.3"
edition = "2021"
license = "MIT"

[workspace]

[dependencies]
plain = { path = "plain" }
pm = { path = "pm" }

[target.'cfg(target_env = "musl")'.dependencies]
musldep = { path = "musldep" }

[target.'cfg(windows)'.dependencies]
windep = { path = "windep" }

[build-dependencies]
cc = { path = "cc" }

[target.'cfg(target_arch = "aarch64")'.build-dependencies]
armbuild = { path = "armbuild" }

[dev-dependencies]
devdep = { path = "devdep" }
"#,
    );
    write(&dir, "src/main.rs", "fn main() {}\n");
    write(&dir, "build.rs", "fn main() {}\n");
    lib(
        &dir,
        "plain",
        "links = \"z\"\n[dependencies]\nshared = { path = \"../shared\" }\n",
    );
    lib(
        &dir,
        "pm",
        "[lib]\nproc-macro = true\n[dependencies]\npmdep = { path = \"../pmdep\" }\n",
    );
    lib(
        &dir,
        "cc",
        "[dependencies]\nshared = { path = \"../shared\" }\n",
    );
    for name in ["musldep", "windep", "armbuild", "devdep", "pmdep", "shared"] {
        lib(&dir, name, "");
    }
    let out = Process::cargo()
        .args(["metadata", "--format-version=1", "--offline"])
        .arg(format!("--manifest-path={dir}/Cargo.toml"))
        .output()
        .unwrap();
    let metadata = MetadataCommand::parse(String::from_utf8(out.stdout).unwrap()).unwrap();
    (tmp, dir, metadata)
}

fn root_id(m: &Metadata) -> String {
    m.root_package().unwrap().id.repr.clone()
}

/// (name, kind) of every crate, sorted.
fn kinds(g: &Graph) -> Vec<(&str, Kind)> {
    g.crates.iter().map(|c| (c.name.as_str(), c.kind)).collect()
}

#[test]
fn the_graph_follows_the_target_for_normal_deps_and_the_host_for_build_scripts() {
    let (_tmp, dir, m) = fixture();
    let (arm, gnu) = (cfg(ARM_CFG), cfg(GNU_CFG));
    let on = |target: (&str, &[Cfg]), host: (&str, &[Cfg])| {
        graph(
            &m,
            &root_id(&m),
            Edges::Evaluate { target, host },
            &dir,
            &Lock::default(),
        )
        .unwrap()
    };
    // aarch64 musl built on an x86_64 host: the musl-only crate is in, the aarch64-only
    // build-dependency is not (build scripts run on the host).
    let g = on((ARM, &arm), (GNU, &gnu));
    assert_eq!(
        kinds(&g),
        [
            ("app", Kind::Runtime),
            ("cc", Kind::Build),
            ("musldep", Kind::Runtime),
            ("plain", Kind::Runtime),
            ("pm", Kind::Build),
            ("pmdep", Kind::Build),
            ("shared", Kind::Runtime),
        ]
    );
    let app = g.root();
    assert_eq!((app.name.as_str(), app.version.as_str()), ("app", "1.2.3"));
    assert_eq!(app.c_code, ["build-dependency `cc`"]);
    assert_eq!(app.license.as_deref(), Some("MIT"));
    assert_eq!(
        app.source,
        Source::Path {
            path: ".".to_owned()
        }
    );
    let names: Vec<&str> = app
        .dependencies
        .iter()
        .map(|&i| g.crates[i].name.as_str())
        .collect();
    assert_eq!(names, ["cc", "musldep", "plain", "pm"]);
    let plain = g.crates.iter().find(|c| c.name == "plain").unwrap();
    assert_eq!(plain.links.as_deref(), Some("z"));
    assert_eq!(plain.c_code, ["links = \"z\""]);
    assert_eq!(plain.license.as_deref(), Some("MIT OR Apache-2.0"));
    assert_eq!(
        plain.source,
        Source::Path {
            path: "plain".to_owned()
        }
    );
    assert!(g.crates.iter().find(|c| c.name == "pm").unwrap().proc_macro);

    // x86_64 gnu: no musl-only crate; an aarch64 host would run the aarch64-only build-dependency.
    let g = on((GNU, &gnu), (ARM, &arm));
    let names: Vec<&str> = g.crates.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["app", "armbuild", "cc", "plain", "pm", "pmdep", "shared"]
    );
    assert_eq!(
        g.crates.iter().find(|c| c.name == "armbuild").unwrap().kind,
        Kind::Build
    );
}

#[test]
fn a_filtered_resolve_keeps_every_edge_but_dev_ones() {
    let (_tmp, dir, m) = fixture();
    let g = graph(&m, &root_id(&m), Edges::Filtered, &dir, &Lock::default()).unwrap();
    let names: Vec<&str> = g.crates.iter().map(|c| c.name.as_str()).collect();
    assert!(!names.contains(&"devdep"), "{names:?}");
    assert!(names.contains(&"windep") && names.contains(&"armbuild"));
}

fn krate(name: &str, root: bool, deps: &[usize]) -> Crate {
    Crate {
        name: name.to_owned(),
        version: "1.0.0".to_owned(),
        source: Source::Registry {
            index: "https://github.com/rust-lang/crates.io-index".to_owned(),
        },
        kind: Kind::Runtime,
        root,
        proc_macro: false,
        license: None,
        checksum: None,
        links: None,
        c_code: Vec::new(),
        dependencies: deps.to_vec(),
    }
}

#[test]
fn checks_refuse_graphs_that_are_not_trees_of_one_root() {
    let ok = Graph {
        package: "a".to_owned(),
        crates: vec![krate("a", true, &[1]), krate("b", false, &[])],
    };
    ok.check().unwrap();
    let bad = |f: &dyn Fn(&mut Graph)| {
        let mut g = ok.clone();
        f(&mut g);
        format!("{:#}", g.check().unwrap_err())
    };
    assert!(bad(&|g| g.crates[1].dependencies = vec![0]).contains("cycle"));
    assert!(bad(&|g| g.crates[1].root = true).contains("exactly one root"));
    assert!(bad(&|g| g.package = "b".to_owned()).contains("exactly one root"));
    assert!(bad(&|g| g.crates[0].dependencies = vec![7]).contains("out of range"));
    assert!(bad(&|g| g.crates[0].dependencies = vec![0]).contains("out of range"));
    assert!(bad(&|g| g.crates.swap(0, 1)).contains("sorted"));
    assert!(bad(&|g| g.crates[1].name = "b c".to_owned()).contains("crate name"));
    assert!(bad(&|g| g.crates[1].version = "1.0".to_owned()).contains("semver"));
    assert!(bad(&|g| g.crates[1].license = Some("MIT\u{1b}[2J".to_owned())).contains("control"));
}

#[test]
fn semver_and_sources_and_paths() {
    for v in ["0.1.0", "1.2.3-alpha.1", "1.0.0+build.5", "10.20.30-rc.1+x"] {
        assert!(is_semver(v), "{v}");
    }
    for v in ["1.0", "1.0.0.0", "a.b.c", "1.0.0 ", "1.0.0-a b", ""] {
        assert!(!is_semver(v), "{v}");
    }
    let root = Utf8Path::new("/w/ws");
    assert_eq!(relative(Utf8Path::new("/w/ws/crates/a"), root), "crates/a");
    assert_eq!(relative(Utf8Path::new("/w/shared"), root), "../shared");
    assert_eq!(relative(root, root), ".");
    let git = Source::of(
        Some("git+https://user:token@example.com/x/y.git?branch=main#0123abc"),
        root,
        root,
    );
    assert_eq!(
        git,
        Source::Git {
            url: "https://example.com/x/y.git".to_owned(),
            rev: "0123abc".to_owned()
        }
    );
    assert!(
        Source::of(
            Some("registry+https://github.com/rust-lang/crates.io-index"),
            root,
            root
        )
        .is_crates_io()
    );
    assert!(Source::of(Some("sparse+https://index.crates.io/"), root, root).is_crates_io());
    let other = Source::of(Some("sparse+https://my.example/index/"), root, root);
    assert!(!other.is_crates_io());
    assert_eq!(
        other.describe(),
        "registry+sparse+https://my.example/index/"
    );
    assert_eq!(normalize_license("MIT/Apache-2.0"), "MIT OR Apache-2.0");
    assert_eq!(normalize_license(" MIT "), "MIT");
}

#[test]
fn lock_checksums_are_read_from_both_lock_formats_and_bad_ones_skipped() {
    let good = "4ff2a8126fff0f8c839080d619675a585e61720bb12d2baceae45769fd66f155";
    let text = format!(
        r#"# This file is automatically @generated by Cargo.
version = 4

[[package]]
name = "cc"
version = "1.11.1"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "{good}"
dependencies = [
 "shlex",
]

[[package]]
name = "bad"
version = "1.0.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "XYZ"

[[package]]
name = "local"
version = "0.1.0"

[metadata]
"checksum old 0.1.0 (registry+https://github.com/rust-lang/crates.io-index)" = "{good}"
"#
    );
    let lock = Lock::parse(&text);
    let crates_io = "registry+https://github.com/rust-lang/crates.io-index";
    assert_eq!(
        lock.checksum("cc", "1.11.1", crates_io).map(Sha256::as_str),
        Some(good)
    );
    assert_eq!(
        lock.checksum("old", "0.1.0", crates_io).map(Sha256::as_str),
        Some(good)
    );
    assert!(lock.checksum("bad", "1.0.0", crates_io).is_none());
    assert!(lock.checksum("cc", "1.11.1", "registry+other").is_none());
    assert_eq!(Lock::parse("\u{0}garbage[[[\n= \"\n"), Lock::default());
}

#[test]
fn union_joins_graphs_with_runtime_winning() {
    let mut a = Graph {
        package: "a".to_owned(),
        crates: vec![krate("a", true, &[1]), krate("s", false, &[])],
    };
    a.crates[1].kind = Kind::Build;
    let b = Graph {
        package: "b".to_owned(),
        crates: vec![krate("b", true, &[1]), krate("s", false, &[])],
    };
    let u = union(&[&a, &b]);
    let names: Vec<(&str, Kind, bool, &[usize])> = u
        .iter()
        .map(|c| (c.name.as_str(), c.kind, c.root, c.dependencies.as_slice()))
        .collect();
    assert_eq!(
        names,
        [
            ("a", Kind::Runtime, true, &[2][..]),
            ("b", Kind::Runtime, true, &[2][..]),
            ("s", Kind::Runtime, false, &[][..]),
        ]
    );
}
